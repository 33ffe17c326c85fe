//! `spec.volumes` (names, exactly one source, only the sources a static pod can use, each source's fields), the
//! containers' `volumeMounts` that use them, and subPaths that must stay inside their volume.

use std::collections::{HashMap, HashSet};

use k8s_openapi::api::core::v1::{
    Container, DownwardAPIVolumeFile, DownwardAPIVolumeSource, EmptyDirVolumeSource,
    HostPathVolumeSource, Pod, PodSpec, Volume,
};

use super::{Validator, check_quantity, each_container};
use crate::manifest::downward;
use crate::manifest::names::is_dns1123_label;
use crate::manifest::path::FieldPath;

/// Volume sources that reference API objects, which a static pod cannot use.
const API_OBJECT_VOLUMES: &[&str] = &[
    "configMap",
    "secret",
    "persistentVolumeClaim",
    "projected",
    "ephemeral",
];

/// Volume sources podtui can run.
const SUPPORTED_VOLUMES: &[&str] = &["emptyDir", "hostPath", "downwardAPI"];

/// `hostPath.type` values.
pub const HOST_PATH_TYPES: &[&str] = &[
    "",
    "DirectoryOrCreate",
    "Directory",
    "FileOrCreate",
    "File",
    "Socket",
    "CharDevice",
    "BlockDevice",
];

/// `spec.volumes` at `path`; returns the names declared, for the mounts to refer to.
pub(super) fn check_volumes(
    v: &mut Validator,
    path: &FieldPath,
    volumes: &[Volume],
) -> HashSet<String> {
    let mut seen = HashSet::new();
    for (i, vol) in volumes.iter().enumerate() {
        let base = path.index(i);
        check_volume_name(v, &base.key("name"), &vol.name, &mut seen);
        match volume_sources(vol).as_slice() {
            [] => {
                // A volume with no source is an emptyDir in Kubernetes' defaulting.
            }
            [one] => check_volume_source(v, &base, one, vol),
            many => v.error(
                base,
                format!(
                    "more than one volume source ({}): give exactly one",
                    many.join(", ")
                ),
            ),
        }
    }
    seen
}

/// A volume's name: an RFC 1123 label not declared before (`seen` gets it).
fn check_volume_name(v: &mut Validator, path: &FieldPath, name: &str, seen: &mut HashSet<String>) {
    if !is_dns1123_label(name) {
        v.error(
            path.clone(),
            format!("{name:?} is not a valid volume name (lowercase RFC 1123 label)"),
        );
    }
    if !seen.insert(name.to_string()) {
        v.error(path.clone(), format!("{name:?} is a duplicate volume name"));
    }
}

/// The source fields a volume sets (`emptyDir`, `hostPath`…) by manifest name, sorted as serde_json's map is.
fn volume_sources(vol: &Volume) -> Vec<String> {
    let json = serde_json::to_value(vol).unwrap_or_default();
    json.as_object()
        .map(|m| m.keys().filter(|k| *k != "name").cloned().collect())
        .unwrap_or_default()
}

/// The volume's one source, `source`, at `base.<source>`: usable by a static pod, supported by podtui, and
/// its fields valid.
fn check_volume_source(v: &mut Validator, base: &FieldPath, source: &str, vol: &Volume) {
    let path = base.key(source);
    if API_OBJECT_VOLUMES.contains(&source) {
        v.error(path, format!("{source} volumes reference API objects, which static pods cannot use (there is no API server); use emptyDir or hostPath"));
        return;
    }
    if !SUPPORTED_VOLUMES.contains(&source) {
        v.error(path, format!("{source} volumes are not supported by podtui (supported: emptyDir, hostPath, downwardAPI)"));
        return;
    }
    if let Some(hp) = &vol.host_path {
        check_host_path(v, &path, hp);
    }
    if let Some(ed) = &vol.empty_dir {
        check_empty_dir(v, &path, ed);
    }
    if let Some(d) = &vol.downward_api {
        check_downward_api(v, &path, d);
    }
}

/// `hostPath`: an absolute path without `..`, and a known type.
fn check_host_path(v: &mut Validator, path: &FieldPath, hp: &HostPathVolumeSource) {
    if !hp.path.starts_with('/') {
        v.error(
            path.key("path"),
            format!("{:?} must be an absolute path", hp.path),
        );
    } else if downward::has_backsteps(&hp.path) {
        v.error(
            path.key("path"),
            format!("{:?} must not contain '..'", hp.path),
        );
    }
    v.one_of(
        path.key("type"),
        hp.type_.as_ref(),
        HOST_PATH_TYPES,
        "hostPath type",
    );
}

/// `emptyDir`: medium `""` or `Memory`; a sizeLimit is a quantity, and enforced only in memory.
fn check_empty_dir(v: &mut Validator, path: &FieldPath, ed: &EmptyDirVolumeSource) {
    if let Some(m) = &ed.medium
        && !m.is_empty()
        && m != "Memory"
    {
        v.error(
            path.key("medium"),
            format!("{m:?} is not a supported medium (\"\" or Memory)"),
        );
    }
    if let Some(q) = &ed.size_limit {
        check_quantity(v, &path.key("sizeLimit"), &q.0);
        if ed.medium.as_deref() != Some("Memory") {
            v.warn(
                path.key("sizeLimit"),
                "not enforced on disk: podtui limits only a medium: Memory emptyDir (tmpfs size); the kubelet would evict the pod past it",
            );
        }
    }
}

/// `downwardAPI`: its modes, and every item.
fn check_downward_api(v: &mut Validator, path: &FieldPath, d: &DownwardAPIVolumeSource) {
    check_file_mode(v, &path.key("defaultMode"), d.default_mode);
    for (i, item) in d.items.iter().flatten().enumerate() {
        check_downward_item(v, &path.key("items").index(i), item);
    }
}

/// One `downwardAPI` item: a relative path, exactly one reference (podtui writes only fieldRefs), a mode,
/// and a field a volume can hold.
fn check_downward_item(v: &mut Validator, path: &FieldPath, item: &DownwardAPIVolumeFile) {
    if item.path.is_empty() || item.path.starts_with('/') || item.path.split('/').any(|s| s == "..")
    {
        v.error(
            path.key("path"),
            format!("{:?} must be a relative path without '..'", item.path),
        );
    }
    match (&item.field_ref, &item.resource_field_ref) {
        (None, None) => v.error(path.clone(), "one of fieldRef or resourceFieldRef is required"),
        (Some(_), Some(_)) => v.error(path.clone(), "fieldRef and resourceFieldRef are mutually exclusive"),
        (None, Some(_)) => v.warn(path.key("resourceFieldRef"), "ignored: podtui writes only fieldRef items into a downwardAPI volume (use an env var with resourceFieldRef)"),
        (Some(_), None) => {}
    }
    check_file_mode(v, &path.key("mode"), item.mode);
    if let Some(f) = &item.field_ref
        && !is_downward_volume_field(&f.field_path)
    {
        v.error(path.key("fieldRef").key("fieldPath"), format!("{:?} is not supported in a downwardAPI volume (metadata.name, metadata.namespace, metadata.uid, metadata.labels, metadata.annotations)", f.field_path));
    }
}

/// A file mode: 0 to 0777.
fn check_file_mode(v: &mut Validator, path: &FieldPath, mode: Option<i32>) {
    if let Some(m) = mode
        && !(0..=0o777).contains(&m)
    {
        v.error(
            path.clone(),
            format!("{m} must be a file mode between 0 and 0777 (octal 0000-0777)"),
        );
    }
}

/// Whether a `downwardAPI` volume item can hold the field at `path` (metadata only).
fn is_downward_volume_field(path: &str) -> bool {
    matches!(
        path,
        "metadata.name"
            | "metadata.namespace"
            | "metadata.uid"
            | "metadata.labels"
            | "metadata.annotations"
    ) || path.starts_with("metadata.labels['")
        || path.starts_with("metadata.annotations['")
}

/// A container's `volumeMounts` (the container is at `path`): each names a declared volume, mounts at an
/// absolute path no other mount of the container uses, and sets at most one of subPath and subPathExpr.
pub(super) fn check_mounts(
    v: &mut Validator,
    path: &FieldPath,
    c: &Container,
    declared: &HashSet<String>,
) {
    let mut mount_paths: HashMap<&str, FieldPath> = HashMap::new();
    for (i, m) in c.volume_mounts.iter().flatten().enumerate() {
        let mp = path.key("volumeMounts").index(i);
        if !declared.contains(&m.name) {
            v.error(
                mp.key("name"),
                format!(
                    "{:?} is not a volume of this pod (declare it in spec.volumes)",
                    m.name
                ),
            );
        }
        if m.mount_path.is_empty() {
            v.error(mp.key("mountPath"), "required");
        } else if !m.mount_path.starts_with('/') {
            v.error(
                mp.key("mountPath"),
                format!("{:?} must be an absolute path", m.mount_path),
            );
        } else if let Some(first) = mount_paths.get(m.mount_path.as_str()) {
            v.error(
                mp.key("mountPath"),
                format!("{:?} is already mounted at {first}", m.mount_path),
            );
        } else {
            mount_paths.insert(&m.mount_path, mp.key("mountPath"));
        }
        if m.sub_path.is_some() && m.sub_path_expr.is_some() {
            v.error(
                mp.key("subPathExpr"),
                "subPath and subPathExpr are mutually exclusive",
            );
        }
    }
}

/// Every subPath of every container (the spec is at `spec_path`) stays inside its volume once expanded, as
/// the kubelet requires: `subPathExpr` is expanded from the container's env as far as the manifest defines it
/// (values and metadata fieldRefs).
pub(super) fn check_sub_paths(v: &mut Validator, spec_path: &FieldPath, pod: &Pod, spec: &PodSpec) {
    for (path, c, _) in each_container(spec_path, spec) {
        let env = downward::static_env(pod, c);
        for (j, m) in c.volume_mounts.iter().flatten().enumerate() {
            let mp = path.key("volumeMounts").index(j);
            for (field, value) in [("subPath", &m.sub_path), ("subPathExpr", &m.sub_path_expr)] {
                let Some(sp) = value else { continue };
                if let Some(problem) = sub_path_problem(field == "subPathExpr", sp, &env) {
                    v.error(mp.key(field), problem);
                }
            }
        }
    }
}

/// What is wrong with a subPath (`expr`: a subPathExpr, expanded from `env` first), worded for a message that
/// quotes it, or `None` when it stays inside its volume.
fn sub_path_problem(expr: bool, sub_path: &str, env: &[(String, String)]) -> Option<String> {
    let expanded = if expr {
        downward::expand(sub_path, &|n| downward::lookup(env, n))
    } else {
        sub_path.to_string()
    };
    let why = downward::relative_path_problem(&expanded)?;
    let shown = if expanded == sub_path {
        format!("{sub_path:?}")
    } else {
        format!("{sub_path:?} expands to {expanded:?}, which")
    };
    Some(format!("{shown} {why}"))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{findings, p, yaml};
    use super::*;

    fn volumes(text: &str) -> (Vec<String>, HashSet<String>) {
        let vols: Vec<Volume> = yaml(text);
        let mut declared = HashSet::new();
        let out = findings(|v| declared = check_volumes(v, &p("spec.volumes"), &vols));
        (out, declared)
    }

    #[test]
    fn names_are_labels_once_each_and_all_are_declared() {
        let (out, declared) = volumes("[{name: data}, {name: Data}, {name: data, emptyDir: {}}]");
        assert_eq!(
            out,
            [
                "error spec.volumes[1].name: \"Data\" is not a valid volume name (lowercase RFC 1123 label)",
                "error spec.volumes[2].name: \"data\" is a duplicate volume name",
            ]
        );
        assert_eq!(declared, HashSet::from(["data".into(), "Data".into()]));
    }

    #[test]
    fn exactly_one_supported_source() {
        let vol: Volume = yaml("{name: v, emptyDir: {}, hostPath: {path: /x}}");
        assert_eq!(volume_sources(&vol), ["emptyDir", "hostPath"]);
        let (out, _) = volumes(
            "[{name: a, emptyDir: {}, hostPath: {path: /x}}, {name: b, configMap: {name: c}}, {name: c, nfs: {server: s, path: /}}, {name: d}]",
        );
        assert_eq!(out.len(), 3, "{out:#?}");
        assert_eq!(
            out[0],
            "error spec.volumes[0]: more than one volume source (emptyDir, hostPath): give exactly one"
        );
        assert!(out[1].starts_with(
            "error spec.volumes[1].configMap: configMap volumes reference API objects"
        ));
        assert!(
            out[2]
                .starts_with("error spec.volumes[2].nfs: nfs volumes are not supported by podtui")
        );
    }

    #[test]
    fn host_path_and_empty_dir_fields() {
        let (out, _) = volumes(
            "[{name: a, hostPath: {path: rel, type: Dir}}, {name: b, hostPath: {path: /a/../b}}, {name: c, emptyDir: {medium: Disk, sizeLimit: 1Gi}}, {name: d, emptyDir: {medium: Memory, sizeLimit: 1Gi}}]",
        );
        assert_eq!(out.len(), 5, "{out:#?}");
        assert_eq!(
            out[0],
            "error spec.volumes[0].hostPath.path: \"rel\" must be an absolute path"
        );
        assert!(out[1].starts_with("error spec.volumes[0].hostPath.type: \"Dir\" is not a valid hostPath type (one of \"\" (no check), DirectoryOrCreate"));
        assert_eq!(
            out[2],
            "error spec.volumes[1].hostPath.path: \"/a/../b\" must not contain '..'"
        );
        assert_eq!(
            out[3],
            "error spec.volumes[2].emptyDir.medium: \"Disk\" is not a supported medium (\"\" or Memory)"
        );
        assert!(
            out[4].starts_with("warning spec.volumes[2].emptyDir.sizeLimit: not enforced on disk")
        );
    }

    #[test]
    fn downward_api_items() {
        let (out, _) = volumes(
            "[{name: d, downwardAPI: {defaultMode: 512, items: [{path: ../x, fieldRef: {fieldPath: spec.nodeName}}, {path: ok}, {path: r, resourceFieldRef: {resource: limits.cpu}, mode: 420}]}}]",
        );
        let base = "spec.volumes[0].downwardAPI";
        assert_eq!(
            out,
            [
                format!(
                    "error {base}.defaultMode: 512 must be a file mode between 0 and 0777 (octal 0000-0777)"
                ),
                format!(
                    "error {base}.items[0].path: \"../x\" must be a relative path without '..'"
                ),
                format!(
                    "error {base}.items[0].fieldRef.fieldPath: \"spec.nodeName\" is not supported in a downwardAPI volume (metadata.name, metadata.namespace, metadata.uid, metadata.labels, metadata.annotations)"
                ),
                format!("error {base}.items[1]: one of fieldRef or resourceFieldRef is required"),
                format!(
                    "warning {base}.items[2].resourceFieldRef: ignored: podtui writes only fieldRef items into a downwardAPI volume (use an env var with resourceFieldRef)"
                ),
            ]
        );
        assert!(is_downward_volume_field("metadata.labels['app']"));
        assert!(is_downward_volume_field("metadata.labels"));
        assert!(!is_downward_volume_field("status.podIP"));
    }

    #[test]
    fn mounts_name_a_volume_and_a_free_absolute_path() {
        let c: Container = yaml(
            "{name: c, volumeMounts: [{name: data, mountPath: /d}, {name: nope, mountPath: d}, {name: data, mountPath: /d, subPath: a, subPathExpr: b}, {name: data, mountPath: ''}]}",
        );
        let declared = HashSet::from(["data".to_string()]);
        let out = findings(|v| check_mounts(v, &p("spec.containers[0]"), &c, &declared));
        let base = "spec.containers[0].volumeMounts";
        assert_eq!(
            out,
            [
                format!(
                    "error {base}[1].name: \"nope\" is not a volume of this pod (declare it in spec.volumes)"
                ),
                format!("error {base}[1].mountPath: \"d\" must be an absolute path"),
                format!(
                    "error {base}[2].mountPath: \"/d\" is already mounted at {base}[0].mountPath"
                ),
                format!(
                    "error {base}[2].subPathExpr: subPath and subPathExpr are mutually exclusive"
                ),
                format!("error {base}[3].mountPath: required"),
            ]
        );
    }

    #[test]
    fn a_sub_path_expr_is_judged_once_expanded() {
        let env = vec![("DIR".to_string(), "../up".to_string())];
        assert_eq!(sub_path_problem(false, "logs/a", &env), None);
        let plain = sub_path_problem(false, "../x", &env).unwrap();
        assert!(plain.starts_with("\"../x\" "), "{plain}");
        let expanded = sub_path_problem(true, "$(DIR)", &env).unwrap();
        assert!(
            expanded.starts_with("\"$(DIR)\" expands to \"../up\", which "),
            "{expanded}"
        );
        assert_eq!(
            sub_path_problem(false, "$(DIR)", &env),
            None,
            "a subPath is not expanded"
        );
    }

    #[test]
    fn sub_paths_of_every_container_are_checked() {
        let pod: Pod = yaml(
            "{metadata: {name: p}, spec: {initContainers: [{name: i, volumeMounts: [{name: v, mountPath: /v, subPath: /abs}]}], containers: [{name: a, env: [{name: D, value: ..}], volumeMounts: [{name: v, mountPath: /v, subPathExpr: $(D)/x}]}]}}",
        );
        let spec = pod.spec.clone().unwrap();
        let out = findings(|v| check_sub_paths(v, &p("spec"), &pod, &spec));
        assert_eq!(out.len(), 2, "{out:#?}");
        assert!(
            out[0].starts_with("error spec.initContainers[0].volumeMounts[0].subPath: \"/abs\" ")
        );
        assert!(out[1].starts_with(
            "error spec.containers[0].volumeMounts[0].subPathExpr: \"$(D)/x\" expands to \"../x\", which "
        ));
    }
}
