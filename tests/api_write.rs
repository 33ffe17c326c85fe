//! kubectl's writes against the API, with the real kubectl: `run`, `create -f` (twice: AlreadyExists), an
//! invalid pod (422 with the field path, nothing written), `--dry-run=server`, `delete pod`, `delete -f`,
//! `delete -l`, `--force`, and writes refused for a single-file source. Every file written is checked byte for
//! byte.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_support;
mod common;

use api_support::Playground;
use common::BUSYBOX;

fn sleeper(name: &str, label: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  labels:\n    app: {label}\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: main\n    image: {BUSYBOX}\n    command: [sleep, '3600']\n"
    )
}

async fn running(p: &Playground, name: &str) {
    p.t.wait_pod(name, "Running", 60, |v| v.columns.status == "Running")
        .await;
}

async fn gone(p: &Playground, name: &str) {
    let full = p.pod(name);
    p.t.wait(&format!("{name} gone"), 60, |s| {
        !s.pods.iter().any(|v| v.name == full)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_run_create_and_delete_go_through_the_directory() {
    let mut p = Playground::start("api-write-create", &[]).await;
    let dir = p.t.manifests.path().to_path_buf();

    // kubectl run: the pod becomes web.yaml, exactly what kubectl sent, without status or nulls.
    let out = p
        .ok(&[
            "run",
            "web",
            &format!("--image={BUSYBOX}"),
            "--",
            "sleep",
            "1d",
        ])
        .await;
    assert!(out.contains("pod/web"), "{out}");
    assert_eq!(
        p.file("web.yaml"),
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    run: web\n  name: web\nspec:\n  containers:\n  - args:\n    - sleep\n    - 1d\n    image: {BUSYBOX}\n    name: web\n    resources: {{}}\n  dnsPolicy: ClusterFirst\n  restartPolicy: Always\n"
        )
    );
    running(&p, "web").await;

    // kubectl create -f: written, then refused the second time; the file is untouched.
    let pod = dir.join("../create-api.yaml");
    std::fs::write(&pod, sleeper("api", "demo")).unwrap();
    let pod = pod.to_string_lossy().into_owned();
    p.ok(&["create", "-f", &pod]).await;
    let written = p.file("api.yaml");
    assert_eq!(
        written,
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    app: demo\n  name: api\n  namespace: default\nspec:\n  containers:\n  - command:\n    - sleep\n    - '3600'\n    image: {BUSYBOX}\n    name: main\n  terminationGracePeriodSeconds: 1\n"
        )
    );
    let err = p.fails(&["create", "-f", &pod]).await;
    assert!(
        err.contains("AlreadyExists") && err.contains("\"api\" already exists"),
        "{err}"
    );
    assert_eq!(p.file("api.yaml"), written);

    // An invalid pod: 422 with the validator's field path; nothing written.
    let bad = dir.join("../bad.yaml");
    std::fs::write(
        &bad,
        sleeper("bad", "demo").replace("name: main", "name: Main_1"),
    )
    .unwrap();
    let err = p.fails(&["create", "-f", &bad.to_string_lossy()]).await;
    assert!(
        err.contains("The Pod \"bad\" is invalid: spec.containers[0].name: Invalid value:"),
        "{err}"
    );
    // A dry run validates and writes nothing.
    let dry = dir.join("../dry.yaml");
    std::fs::write(&dry, sleeper("dry", "demo")).unwrap();
    let out = p
        .ok(&["create", "--dry-run=server", "-f", &dry.to_string_lossy()])
        .await;
    assert!(out.contains("pod/dry created (server dry run)"), "{out}");
    assert_eq!(p.files(), ["api.yaml", "web.yaml"], "nothing else written");

    // kubectl delete pod by the name in the file, as tutorials type it: the manifest goes to the trash, and
    // kubectl's wait (a watch on metadata.name=web) returns only once the pod is gone.
    running(&p, "api").await;
    let out = p.ok(&["delete", "pod", "web", "--grace-period=1"]).await;
    assert_eq!(out.trim_end(), "pod \"web\" deleted");
    assert!(
        p.t.snapshot().pods.iter().all(|v| v.name != p.pod("web")),
        "kubectl returned before the pod was gone"
    );
    assert_eq!(p.files(), ["api.yaml"]);
    assert_eq!(p.state_texts("trash").len(), 1);
    assert!(p.state_texts("trash")[0].contains("name: web\n"));

    // kubectl delete -f, forced.
    p.ok(&["delete", "-f", &pod, "--force", "--grace-period=0"])
        .await;
    gone(&p, "api").await;
    assert!(p.files().is_empty(), "{:?}", p.files());
    assert_eq!(p.state_texts("trash").len(), 2);
    assert!(
        p.state_texts("trash").contains(&written),
        "the trash holds the file as it was"
    );
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_by_label_removes_just_the_matching_documents() {
    let both = format!("{}---\n{}", sleeper("one", "a"), sleeper("two", "b"));
    let mut p = Playground::start(
        "api-write-delete",
        &[
            ("both.yaml", both.clone()),
            ("three.yaml", sleeper("three", "a")),
        ],
    )
    .await;
    for n in ["one", "two", "three"] {
        running(&p, n).await;
    }
    let out = p.ok(&["delete", "pods", "-l", "app=a"]).await;
    assert!(
        out.contains("one") && out.contains("three") && !out.contains("two"),
        "{out}"
    );
    gone(&p, "one").await;
    gone(&p, "three").await;
    assert_eq!(p.files(), ["both.yaml"]);
    assert_eq!(
        p.file("both.yaml"),
        sleeper("two", "b"),
        "just the document of one is removed"
    );
    assert_eq!(p.state_texts("backups"), [both], "backed up first");
    assert_eq!(p.state_texts("trash"), [sleeper("three", "a")]);
    running(&p, "two").await;
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_file_source_refuses_writes() {
    let mut p = Playground::start_with(
        "api-write-single",
        &[("one.yaml", sleeper("one", "a"))],
        |c| {
            let dir = c.sources.path.take().unwrap();
            c.sources.path = Some(dir.join("one.yaml"));
        },
    )
    .await;
    running(&p, "one").await;
    let new = p.t.manifests.path().join("../new.yaml");
    std::fs::write(&new, sleeper("new", "a")).unwrap();
    let err = p.fails(&["create", "-f", &new.to_string_lossy()]).await;
    assert!(
        err.contains("MethodNotAllowed") && err.contains("single file"),
        "{err}"
    );
    assert_eq!(p.files(), ["one.yaml"]);
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_label_set_image_and_replace_change_the_file() {
    let mut p = Playground::start("api-write-apply", &[]).await;
    let src = p.t.manifests.path().join("../apply-web.yaml");
    std::fs::write(&src, sleeper("web", "demo")).unwrap();
    let src_s = src.to_string_lossy().into_owned();
    let out = p.ok(&["apply", "-f", &src_s]).await;
    assert!(
        out.starts_with("pod/web") && out.trim_end().ends_with(" created"),
        "{out}"
    );
    let first = p.file("web.yaml");
    assert!(
        first.contains("kubectl.kubernetes.io/last-applied-configuration"),
        "{first}"
    );
    let pod =
        p.t.wait_pod("web", "Running", 60, |v| v.columns.status == "Running")
            .await;
    // The same again: unchanged (the pod asked for as `web` is served as `web`, so kubectl's three-way patch is
    // empty); the file is not rewritten and the pod not replaced.
    let out = p.ok(&["apply", "-f", &src_s]).await;
    assert_eq!(out.trim_end(), "pod/web unchanged");
    assert_eq!(p.file("web.yaml"), first, "unchanged: not rewritten");
    assert!(
        p.t.snapshot()
            .pods
            .iter()
            .any(|v| v.uid == pod.uid && v.desired),
        "not replaced"
    );
    assert!(p.state_texts("backups").is_empty());

    // An edited image: configured, the file has it, the pod is replaced.
    std::fs::write(
        &src,
        sleeper("web", "demo").replace("command: [sleep, '3600']", "command: [sleep, '3601']"),
    )
    .unwrap();
    let out = p.ok(&["apply", "-f", &src_s]).await;
    assert!(
        out.starts_with("pod/web") && out.trim_end().ends_with(" configured"),
        "{out}"
    );
    let second = p.file("web.yaml");
    assert!(
        second.contains("- '3601'\n") && !second.contains("'3600'"),
        "{second}"
    );
    assert_eq!(
        p.state_texts("backups"),
        std::slice::from_ref(&first),
        "backed up first"
    );
    p.t.wait_pod("web", "replaced", 60, |v| {
        v.uid != pod.uid && v.columns.status == "Running"
    })
    .await;

    // kubectl label and set image patch the file.
    p.ok(&["label", "pod", "web", "tier=front"]).await;
    assert!(
        p.file("web.yaml").contains("    tier: front\n"),
        "{}",
        p.file("web.yaml")
    );
    p.ok(&[
        "set",
        "image",
        "pod/web",
        &format!("main={}", common::SEEDED),
    ])
    .await;
    assert!(
        p.file("web.yaml")
            .contains(&format!("image: {}\n", common::SEEDED))
    );
    assert_eq!(p.state_texts("backups").len(), 3);

    // kubectl replace writes the whole object; a dry run writes nothing.
    let replaced = sleeper("web", "other");
    std::fs::write(&src, &replaced).unwrap();
    let before = p.file("web.yaml");
    p.ok(&["apply", "--dry-run=server", "-f", &src_s]).await;
    assert_eq!(p.file("web.yaml"), before);
    p.ok(&["replace", "-f", &src_s]).await;
    assert_eq!(
        p.file("web.yaml"),
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    app: other\n  name: web\n  namespace: default\nspec:\n  containers:\n  - command:\n    - sleep\n    - '3600'\n    image: {BUSYBOX}\n    name: main\n  terminationGracePeriodSeconds: 1\n"
        )
    );
    // Server-side apply takes the object as the new manifest.
    let out = p.ok(&["apply", "--server-side", "-f", &src_s]).await;
    assert!(
        out.starts_with("pod/web") && out.trim_end().ends_with(" serverside-applied"),
        "{out}"
    );
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_source_refuses_writes_and_keeps_its_pod() {
    let server = common::http::TestServer::start().await;
    *server.response.lock().unwrap() = (200, sleeper("remote", "a"));
    let url = server.url.clone();
    let mut p = Playground::start_with("api-write-url", &[], |c| {
        c.sources.path = None;
        c.sources.url = Some(url);
    })
    .await;
    running(&p, "remote").await;
    let local = p.t.manifests.path().join("../new.yaml");
    std::fs::write(&local, sleeper("new", "a")).unwrap();
    let err = p.fails(&["create", "-f", &local.to_string_lossy()]).await;
    assert!(
        err.contains("MethodNotAllowed") && err.contains("the URL"),
        "{err}"
    );
    let err = p.fails(&["label", "pod", "remote", "tier=front"]).await;
    assert!(
        err.contains("MethodNotAllowed") && err.contains(&server.url),
        "{err}"
    );
    let err = p.fails(&["delete", "pod", "remote"]).await;
    assert!(err.contains("MethodNotAllowed"), "{err}");
    assert!(p.files().is_empty(), "nothing written: {:?}", p.files());
    let pod = p.t.snapshot();
    assert!(
        pod.pods
            .iter()
            .any(|v| v.name == p.pod("remote") && v.desired && v.columns.status == "Running"),
        "the pod keeps running"
    );
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_fields_follow_kubectls_validate_flag() {
    let mut p = Playground::start("api-write-fields", &[]).await;
    let src = p.t.manifests.path().join("../typo.yaml");
    std::fs::write(
        &src,
        sleeper("typo", "a").replace("    image:", "    imagePullPolice: Always\n    image:"),
    )
    .unwrap();
    let src = src.to_string_lossy().into_owned();
    // kubectl's default (--validate=strict) asks the server for fieldValidation=Strict: refused, nothing written.
    let err = p.fails(&["apply", "-f", &src]).await;
    assert_eq!(
        err.trim_end(),
        "The Pod \"typo\" is invalid: spec.containers[0].imagePullPolice: Invalid value: unknown field (did you mean imagePullPolicy?)",
        "Strict names the unknown field"
    );
    assert!(p.files().is_empty(), "{:?}", p.files());
    // --validate=warn: written, and kubectl prints the server's warning.
    let out = p.run(&["apply", "--validate=warn", "-f", &src]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Warning:") && stderr.contains("imagePullPolice"),
        "{stderr}"
    );
    assert_eq!(p.files(), ["typo.yaml"]);
    // Running before the engine stops, so its cleanup finds every container (none is created after it).
    running(&p, "typo").await;
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_with_a_grace_period_replaces_the_pods_own() {
    // A container that ignores SIGTERM, in a pod whose own grace period is two minutes: `--grace-period=3` must
    // end it with SIGKILL after about 3 s, not 120 s.
    let stubborn = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: stubborn\nspec:\n  terminationGracePeriodSeconds: 120\n  containers:\n  - name: main\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, \"trap '' TERM; while true; do sleep 1; done\"]\n"
    );
    let mut p = Playground::start("api-write-grace", &[("stubborn.yaml", stubborn)]).await;
    running(&p, "stubborn").await;
    let started = std::time::Instant::now();
    let out = p
        .ok(&["delete", "pod", &p.pod("stubborn"), "--grace-period=3"])
        .await;
    let took = started.elapsed();
    assert!(out.contains("deleted"), "{out}");
    assert!(
        p.t.snapshot()
            .pods
            .iter()
            .all(|v| v.name != p.pod("stubborn"))
    );
    assert!(
        took >= std::time::Duration::from_secs(2),
        "SIGTERM is ignored, so the pod lives out the grace period: {took:?}"
    );
    assert!(
        took < std::time::Duration::from_secs(60),
        "the pod's own 120 s grace period was used: {took:?}"
    );
    assert_eq!(p.files(), Vec::<String>::new());
    p.stop().await;
}
