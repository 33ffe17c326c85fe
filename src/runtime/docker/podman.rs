//! Where podman's Docker-compatible API differs from dockerd, and what podtui does about it; everything above
//! the runtime stays engine-neutral. Which engine answers is read from the version answer
//! ([`engine_of`]); create bodies are adjusted for podman by [`adjust_body`].
//!
//! Differences handled elsewhere in this module: podman names a removal `remove` where Docker says `destroy`
//! (both are [`crate::runtime::EventAction::Destroy`]), and sends `init`/`cleanup` events Docker has not.

use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType, SystemVersion};

use crate::runtime::types::EngineKind;

/// The component podman's version answer names itself with.
const PODMAN_COMPONENT: &str = "Podman Engine";

/// Which engine gave this version answer, and its own version: podman lists a `Podman Engine` component (its
/// top-level `Version` is the Docker API level it emulates); dockerd lists `Engine`.
pub(super) fn engine_of(v: &SystemVersion) -> (EngineKind, String) {
    let podman = v
        .components
        .iter()
        .flatten()
        .find(|c| c.name == PODMAN_COMPONENT);
    match podman {
        Some(c) => (EngineKind::Podman, c.version.clone()),
        None => (EngineKind::Docker, v.version.clone().unwrap_or_default()),
    }
}

/// Adjusts a create body for podman.
///
/// Docker's `container:<id>` network mode also shares the sandbox's UTS namespace; podman's does not, so a
/// joined container would see its own ID as its hostname. Joining the sandbox's UTS namespace as well (podman
/// accepts `UTSMode: container:<id>`, measured on 4.3) gives every container of the pod the pod's hostname, as
/// on Docker and in Kubernetes; a container that sets its own hostname keeps it.
///
/// podman's API also ignores `NoCopy` on a volume in `Mounts` (a new volume gets the image's files copied up:
/// the seed's nginx would find `access.log -> /dev/stdout` in its emptyDir); it honours the `nocopy` option of a
/// `Binds` entry (measured on 4.3), so such volumes are bound there instead.
pub(super) fn adjust_body(body: &mut ContainerCreateBody) {
    let Some(host) = body.host_config.as_mut() else {
        return;
    };
    nocopy_as_binds(host);
    let joined = host
        .network_mode
        .as_deref()
        .filter(|m| m.starts_with("container:"))
        .map(str::to_string);
    if let Some(mode) = joined
        && body.hostname.is_none()
        && host.uts_mode.is_none()
    {
        host.uts_mode = Some(mode);
    }
}

/// Moves the `NoCopy` volume mounts (without a subpath, which `Binds` cannot say) to `Binds` with `nocopy`.
fn nocopy_as_binds(host: &mut HostConfig) {
    let Some(mounts) = host.mounts.take() else {
        return;
    };
    let (nocopy, keep): (Vec<Mount>, Vec<Mount>) = mounts.into_iter().partition(|m| {
        let opts = m.volume_options.as_ref();
        m.typ == Some(MountType::VOLUME)
            && m.source.is_some()
            && m.target.is_some()
            && opts.is_some_and(|o| o.no_copy == Some(true) && o.subpath.is_none())
    });
    host.mounts = (!keep.is_empty()).then_some(keep);
    if nocopy.is_empty() {
        return;
    }
    let binds = host.binds.get_or_insert_with(Vec::new);
    for m in nocopy {
        let mode = if m.read_only == Some(true) {
            "ro,nocopy"
        } else {
            "nocopy"
        };
        let (source, target) = (m.source.unwrap_or_default(), m.target.unwrap_or_default());
        binds.push(format!("{source}:{target}:{mode}"));
    }
}

/// Adjusts a volume's driver options for podman: 4.3 reads a `size=` in a tmpfs volume's `o` as an XFS project
/// quota and refuses the volume ("Filesystem does not support Project Quota"), so the size is left out (a
/// memory-backed emptyDir's sizeLimit is then not enforced on podman; the volume works and is shared).
pub(super) fn adjust_volume_opts(opts: &mut std::collections::HashMap<String, String>) {
    if opts.get("type").map(String::as_str) != Some("tmpfs") {
        return;
    }
    if let Some(o) = opts.get_mut("o") {
        let kept: Vec<&str> = o.split(',').filter(|p| !p.starts_with("size=")).collect();
        *o = kept.join(",");
    }
}

/// Whether `labels` has every `key=value` of `filters` (podman 4.3 lists the volumes matching ANY of several
/// label filters, Docker those matching all; podtui wants all).
pub(super) fn has_labels(
    labels: &std::collections::HashMap<String, String>,
    filters: &[String],
) -> bool {
    filters.iter().all(|f| match f.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|l| l == v),
        None => labels.contains_key(f.as_str()),
    })
}

/// podman's state word for a container whose process has ended but whose cleanup (unmounts, network teardown)
/// has not run yet; it says `exited` about a second later. Docker's API has no such word.
const STOPPED: &str = "stopped";

/// Re-reads an answer bollard could not decode because podman said a container is `stopped`, as `exited` (its
/// exit code and finish time are already set): in `docker inspect`'s `State.Status` and in a list entry's
/// `State`. Any other decoding error stays an error (`None`).
///
/// Without this, every list and inspect of a pod fails for about a second after any of its containers exits,
/// and each restart of a crashed container waits that long.
pub(super) fn reparse<T: serde::de::DeserializeOwned>(e: &bollard::errors::Error) -> Option<T> {
    let bollard::errors::Error::JsonDataError { contents, .. } = e else {
        return None;
    };
    let mut v: serde_json::Value = serde_json::from_str(contents).ok()?;
    let mut changed = false;
    let mut fix = |state: Option<&mut serde_json::Value>| {
        if let Some(s) = state.filter(|s| s.as_str() == Some(STOPPED)) {
            *s = serde_json::Value::from("exited");
            changed = true;
        }
    };
    match &mut v {
        serde_json::Value::Array(entries) => {
            for entry in entries {
                fix(entry.get_mut("State"));
            }
        }
        inspect => fix(inspect.get_mut("State").and_then(|s| s.get_mut("Status"))),
    }
    if !changed {
        return None;
    }
    serde_json::from_value(v).ok()
}

#[cfg(test)]
mod tests {
    use bollard::models::{MountVolumeOptions, SystemVersionComponents};

    use super::*;

    fn component(name: &str, version: &str) -> SystemVersionComponents {
        SystemVersionComponents {
            name: name.into(),
            version: version.into(),
            details: None,
        }
    }

    #[test]
    fn the_version_answer_names_the_engine() {
        let podman = SystemVersion {
            version: Some("4.3.1".into()),
            api_version: Some("1.41".into()),
            components: Some(vec![
                component("Podman Engine", "4.3.1"),
                component("Conmon", "conmon version 2.1.6"),
            ]),
            ..Default::default()
        };
        assert_eq!(engine_of(&podman), (EngineKind::Podman, "4.3.1".into()));
        let docker = SystemVersion {
            version: Some("20.10.24+dfsg1".into()),
            components: Some(vec![
                component("Engine", "20.10.24+dfsg1"),
                component("containerd", "1.6.20"),
            ]),
            ..Default::default()
        };
        assert_eq!(
            engine_of(&docker),
            (EngineKind::Docker, "20.10.24+dfsg1".into())
        );
        assert_eq!(
            engine_of(&SystemVersion::default()),
            (EngineKind::Docker, String::new())
        );
    }

    fn body(network: &str, hostname: Option<&str>) -> ContainerCreateBody {
        ContainerCreateBody {
            hostname: hostname.map(String::from),
            host_config: Some(HostConfig {
                network_mode: Some(network.into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn uts(b: &ContainerCreateBody) -> Option<&str> {
        b.host_config.as_ref().and_then(|h| h.uts_mode.as_deref())
    }

    #[test]
    fn a_joined_container_joins_the_sandboxs_uts_namespace_on_podman() {
        let mut joined = body("container:abc", None);
        adjust_body(&mut joined);
        assert_eq!(uts(&joined), Some("container:abc"));
        // The sandbox itself, host-network pods and a container with its own hostname are left alone.
        for (network, hostname) in [
            ("bridge", Some("web")),
            ("host", None),
            ("container:abc", Some("own")),
        ] {
            let mut b = body(network, hostname);
            adjust_body(&mut b);
            assert_eq!(uts(&b), None, "{network} {hostname:?}");
        }
    }

    fn volume(name: &str, target: &str, no_copy: bool, subpath: Option<&str>, ro: bool) -> Mount {
        Mount {
            source: Some(name.into()),
            target: Some(target.into()),
            typ: Some(MountType::VOLUME),
            read_only: Some(ro),
            volume_options: Some(MountVolumeOptions {
                no_copy: Some(no_copy),
                subpath: subpath.map(String::from),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn nocopy_volumes_are_bound_with_the_nocopy_option() {
        let mut host = HostConfig {
            mounts: Some(vec![
                volume("empty", "/var/log/nginx", true, None, false),
                volume("ro", "/ro", true, None, true),
                volume("seeded", "/data", false, None, false),
                volume("sub", "/sub", true, Some("a/b"), false),
            ]),
            binds: Some(vec!["/host:/h:ro".into()]),
            ..Default::default()
        };
        nocopy_as_binds(&mut host);
        assert_eq!(
            host.binds.unwrap(),
            [
                "/host:/h:ro",
                "empty:/var/log/nginx:nocopy",
                "ro:/ro:ro,nocopy"
            ]
        );
        let kept: Vec<_> = host
            .mounts
            .unwrap()
            .into_iter()
            .map(|m| m.source.unwrap())
            .collect();
        assert_eq!(kept, ["seeded", "sub"]);
    }

    fn json_error(contents: &str) -> bollard::errors::Error {
        bollard::errors::Error::JsonDataError {
            message: "unknown variant `stopped`".into(),
            contents: contents.into(),
            column: 0,
        }
    }

    #[test]
    fn a_stopped_container_reads_as_exited() {
        let inspect = r#"{"Id":"abc","State":{"Status":"stopped","Running":false,"ExitCode":3,
            "FinishedAt":"2026-12-02T06:46:35.398Z"},"Config":{"Labels":{"State":"stopped"}}}"#;
        let c: bollard::models::ContainerInspectResponse = reparse(&json_error(inspect)).unwrap();
        let st = c.state.unwrap();
        assert_eq!(
            st.status,
            Some(bollard::models::ContainerStateStatusEnum::EXITED)
        );
        assert_eq!(st.exit_code, Some(3));
        // Labels are the user's: untouched.
        assert_eq!(c.config.unwrap().labels.unwrap()["State"], "stopped");

        let list = r#"[{"Id":"a","State":"stopped","Status":"Exited (3) now"},{"Id":"b","State":"running"}]"#;
        let l: Vec<bollard::models::ContainerSummary> = reparse(&json_error(list)).unwrap();
        let states: Vec<String> = l.iter().map(|c| c.state.unwrap().to_string()).collect();
        assert_eq!(states, ["exited", "running"]);

        // Other decoding errors stay errors.
        let other = r#"{"Id":"abc","State":{"Status":"frozen"}}"#;
        assert!(reparse::<bollard::models::ContainerInspectResponse>(&json_error(other)).is_none());
        assert!(
            reparse::<bollard::models::ContainerInspectResponse>(&json_error("not json")).is_none()
        );
    }

    #[test]
    fn tmpfs_volumes_lose_their_size_and_labels_must_all_match() {
        let mut opts: std::collections::HashMap<String, String> = [
            ("type", "tmpfs"),
            ("device", "tmpfs"),
            ("o", "mode=0777,size=16m"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        adjust_volume_opts(&mut opts);
        assert_eq!(opts["o"], "mode=0777");
        let labels: std::collections::HashMap<String, String> = [("a", "1"), ("b", "2")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert!(has_labels(&labels, &["a=1".into(), "b=2".into()]));
        assert!(!has_labels(&labels, &["a=1".into(), "b=1".into()]));
        assert!(has_labels(&labels, &["a".into()]));
        assert!(!has_labels(&labels, &["c".into()]));
    }
}
