//! The real kubectl against the API of an in-process engine running the example pods on the real dockerd:
//! what `get` (plain, `-o wide`, `-A`, `-o json`, selectors, the name in the file), `describe`, `get events`,
//! `get nodes`, `get ns`, `auth can-i` and `version` print, the errors kubectl prints, and the 401 and loopback
//! guarantees.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_support;
mod common;

use api_support::{
    Playground, crashloop_pod, init_demo_pod, job_pod, kubeconfig_ca, kubeconfig_token, nginx_pod,
    raw_request, row, rows,
};
use common::docker;
use common::engine::sandbox_id;
use podtui::engine::Snapshot;

fn pod_status(s: &Snapshot, full: &str) -> Option<(String, String)> {
    s.pods
        .iter()
        .find(|p| p.name == full && p.desired)
        .map(|p| (p.columns.ready.clone(), p.columns.status.clone()))
}

async fn started(test: &str) -> (Playground, std::sync::Arc<Snapshot>) {
    let p = Playground::start(
        test,
        &[
            ("nginx.yaml", nginx_pod()),
            ("crashloop.yaml", crashloop_pod()),
            ("job.yaml", job_pod()),
            ("init-demo.yaml", init_demo_pod()),
        ],
    )
    .await;
    let (nginx, init, job) = (p.pod("nginx"), p.pod("init-demo"), p.pod("countdown"));
    let snap =
        p.t.wait(
            "nginx and init-demo Running, countdown Completed",
            120,
            |s| {
                pod_status(s, &nginx) == Some(("2/2".into(), "Running".into()))
                    && pod_status(s, &init) == Some(("1/1".into(), "Running".into()))
                    && pod_status(s, &job).is_some_and(|(_, st)| st == "Completed")
                    && s.pods.iter().any(|x| x.name == p.t.pod_name("crashloop"))
            },
        )
        .await;
    (p, snap)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_prints_the_columns_podtui_prints() {
    let (mut p, snap) = started("api-get").await;
    let node = p.t.node.clone();
    let nginx = snap
        .pods
        .iter()
        .find(|x| x.name == p.pod("nginx"))
        .unwrap()
        .clone();

    // get pods: the server-side Table, with podtui's own READY/STATUS/RESTARTS for the pods that are settled.
    let r = rows(&p.ok(&["get", "pods"]).await);
    assert_eq!(r[0], ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    let podtui_rows = podtui::commands::get::rows(&snap.pods, &node, false, jiff::Timestamp::now());
    for name in ["nginx", "init-demo", "countdown"] {
        let full = p.pod(name);
        let theirs = row(&r, &full).unwrap_or_else(|| panic!("{full} listed"));
        let ours = podtui_rows.iter().find(|x| x[0] == full).unwrap();
        assert_eq!(
            theirs[..4],
            ours[..4],
            "{name}: kubectl and podtui get agree"
        );
    }
    assert!(row(&r, &p.pod("crashloop")).is_some());
    assert_eq!(r.len(), 5, "four pods and the header");

    // -o wide: IP is the pause container's, NODE the node.
    let r = rows(&p.ok(&["get", "pods", "-o", "wide"]).await);
    assert_eq!(
        r[0],
        [
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "IP",
            "NODE",
            "NOMINATED NODE",
            "READINESS GATES"
        ]
    );
    let sandbox = sandbox_id(&nginx).unwrap();
    let pause_ip = docker(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", &sandbox]);
    assert!(!pause_ip.is_empty());
    let w = row(&r, &p.pod("nginx")).unwrap();
    assert_eq!(
        w[5..],
        [
            pause_ip.clone(),
            node.clone(),
            "<none>".into(),
            "<none>".into()
        ]
    );

    // -A adds the namespace.
    let r = rows(&p.ok(&["get", "pods", "-A"]).await);
    assert_eq!(r[0][..2], ["NAMESPACE", "NAME"]);
    assert_eq!(row(&r, &p.pod("nginx")).unwrap()[0], "default");

    // Selectors.
    let r = rows(&p.ok(&["get", "pods", "-l", "app=init-demo"]).await);
    assert_eq!(r.len(), 2);
    assert_eq!(r[1][0], p.pod("init-demo"));
    let r = rows(&p.ok(&["get", "pods", "-l", "app!=init-demo"]).await);
    assert!(row(&r, &p.pod("init-demo")).is_none() && row(&r, &p.pod("nginx")).is_some());
    let r = rows(
        &p.ok(&["get", "pods", "--field-selector", "status.phase=Running"])
            .await,
    );
    assert!(row(&r, &p.pod("nginx")).is_some() && row(&r, &p.pod("init-demo")).is_some());
    assert!(
        row(&r, &p.pod("countdown")).is_none(),
        "Succeeded is not Running"
    );
    let r = rows(
        &p.ok(&["get", "pods", "--field-selector", "status.phase=Succeeded"])
            .await,
    );
    assert_eq!(r.len(), 2);
    assert_eq!(r[1][0], p.pod("countdown"));
    let r = rows(
        &p.ok(&[
            "get",
            "pods",
            "--field-selector",
            &format!("spec.nodeName={node},metadata.namespace=default"),
        ])
        .await,
    );
    assert_eq!(r.len(), 5);
    let err = p
        .fails(&["get", "pods", "--field-selector", "spec.foo=x"])
        .await;
    assert!(err.contains("field label not supported: spec.foo"), "{err}");

    // The name written in the file works and the pod is served under it (so `kubectl apply` of that file sees
    // no rename); the mirror pod's own name works too and is served under that one.
    let r = rows(&p.ok(&["get", "pod", "nginx"]).await);
    assert_eq!(r[1][0], "nginx");
    let r = rows(&p.ok(&["get", "pod", &p.pod("nginx")]).await);
    assert_eq!(r[1][0], p.pod("nginx"));
    p.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_sees_mirror_pods_events_the_node_and_namespaces() {
    let (mut p, snap) = started("api-objects").await;
    let node = p.t.node.clone();
    let nginx = snap
        .pods
        .iter()
        .find(|x| x.name == p.pod("nginx"))
        .unwrap()
        .clone();

    // -o json: a mirror pod, as the API server shows a static pod.
    let list: serde_json::Value =
        serde_json::from_str(&p.ok(&["get", "pods", "-o", "json"]).await).unwrap();
    assert_eq!(list["kind"], "List");
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["metadata"]["name"] == p.pod("nginx").as_str())
        .unwrap();
    let md = &item["metadata"];
    assert_eq!(
        md["annotations"]["kubernetes.io/config.mirror"],
        nginx.uid.as_str()
    );
    assert_eq!(
        md["annotations"]["kubernetes.io/config.hash"],
        nginx.uid.as_str()
    );
    assert_eq!(md["annotations"]["kubernetes.io/config.source"], "file");
    assert!(
        md["annotations"]["kubernetes.io/config.seen"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_ne!(
        md["uid"],
        nginx.uid.as_str(),
        "the mirror pod has a UID of its own"
    );
    assert!(
        md["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok()
    );
    assert!(md["creationTimestamp"].is_string());
    assert_eq!(md["ownerReferences"][0]["kind"], "Node");
    assert_eq!(md["ownerReferences"][0]["name"], node.as_str());
    assert_eq!(md["ownerReferences"][0]["controller"], true);
    assert_eq!(item["spec"]["nodeName"], node.as_str());
    assert_eq!(item["status"]["phase"], "Running");
    assert_eq!(item["status"]["podIP"], nginx.ip().unwrap());

    // describe: containers, conditions, and the kubelet's events found by the static pod's UID.
    // By the mirror pod's name, and (below, with the events) by the name in the file, as tutorials type it.
    let full = p.ok(&["describe", "pod", &p.pod("nginx")]).await;
    assert!(
        full.contains(&format!("Name:         {}\n", p.pod("nginx"))),
        "{full}"
    );
    // podtui's own describe (the TUI's `d`, `podtui describe`) prints what kubectl prints from the API: the
    // same text up to the events, and the same events but for their ages (kubectl ran a moment earlier).
    let snap = p.t.snapshot();
    let view = snap
        .pods
        .iter()
        .find(|x| x.name == p.pod("nginx") && x.desired)
        .unwrap();
    let ours = podtui::describe::pod_view(view, &node, jiff::Timestamp::now());
    let (their_head, their_events) = full.split_once("Events:").unwrap();
    let (our_head, our_events) = ours.split_once("Events:").unwrap();
    assert_eq!(our_head, their_head, "podtui describe = kubectl describe");
    let age = regex::Regex::new(r"\b\d+(s|m|h|d|y)(\d+(s|m|h))?\b").unwrap();
    let words = |t: &str| -> Vec<String> {
        t.lines()
            .map(|l| {
                age.replace_all(l, "AGE")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    assert_eq!(words(our_events), words(their_events), "the same events");
    let d = p.ok(&["describe", "pod", "nginx"]).await;
    for want in [
        "Name:         nginx\n".to_string(),
        format!("Node:         {node}/"),
        format!("Controlled By:  Node/{node}"),
        "Containers:\n  nginx:".to_string(),
        "  log-truncator:".to_string(),
        "Conditions:".to_string(),
    ] {
        assert!(d.contains(&want), "describe shows {want:?}:\n{d}");
    }
    let events = d.split("Events:").nth(1).unwrap();
    for reason in ["Pulled", "Created", "Started"] {
        assert!(
            events
                .lines()
                .any(|l| l.contains(reason) && l.contains("kubelet")),
            "describe lists a {reason} event from the kubelet:\n{events}"
        );
    }
    assert!(
        d.lines()
            .any(|l| l.starts_with("  Ready ") && l.trim_end().ends_with("True")),
        "{d}"
    );

    // get events: core/v1 events of the pods.
    let r = rows(&p.ok(&["get", "events"]).await);
    assert_eq!(r[0], ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
    let obj = format!("pod/{}", p.pod("nginx"));
    for reason in ["Pulled", "Created", "Started"] {
        assert!(
            r.iter().any(|x| x[2] == reason && x[3] == obj),
            "{reason} of {obj}"
        );
    }
    let job = p.pod("countdown");
    let r = rows(
        &p.ok(&[
            "get",
            "events",
            "--field-selector",
            &format!("involvedObject.name={job}"),
        ])
        .await,
    );
    assert!(r.len() > 1 && r[1..].iter().all(|x| x[3] == format!("pod/{job}")));

    // The node.
    let r = rows(&p.ok(&["get", "nodes", "-o", "wide"]).await);
    assert_eq!(
        r[0],
        [
            "NAME",
            "STATUS",
            "ROLES",
            "AGE",
            "VERSION",
            "INTERNAL-IP",
            "EXTERNAL-IP",
            "OS-IMAGE",
            "KERNEL-VERSION",
            "CONTAINER-RUNTIME"
        ]
    );
    let n = &r[1];
    assert_eq!(n[..3], [node.clone(), "Ready".into(), "<none>".into()]);
    assert_eq!(n[4], format!("podtui-{}", env!("CARGO_PKG_VERSION")));
    let gateway = docker(&[
        "network",
        "inspect",
        "bridge",
        "-f",
        "{{(index .IPAM.Config 0).Gateway}}",
    ]);
    // An engine that leaves the gateway out of the bridge's IPAM config gives the bridge the subnet's first host.
    let gateway = if gateway.is_empty() {
        let subnet = docker(&[
            "network",
            "inspect",
            "bridge",
            "-f",
            "{{(index .IPAM.Config 0).Subnet}}",
        ]);
        let base = subnet
            .split('/')
            .next()
            .unwrap()
            .rsplit_once('.')
            .unwrap()
            .0
            .to_string();
        format!("{base}.1")
    } else {
        gateway
    };
    assert_eq!(n[5], gateway);
    assert_eq!(n[6], "<none>");
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_eq!(n[8], kernel.trim());
    assert_eq!(
        n[9],
        format!(
            "docker://{}",
            docker(&["version", "--format", "{{.Server.Version}}"])
        )
    );
    let nj: serde_json::Value =
        serde_json::from_str(&p.ok(&["get", "node", &node, "-o", "json"]).await).unwrap();
    assert_eq!(nj["status"]["capacity"]["pods"], "110");
    assert_eq!(
        nj["status"]["capacity"]["cpu"],
        docker(&["info", "--format", "{{.NCPU}}"]).as_str()
    );

    // Namespaces: default and every namespace a pod uses.
    let r = rows(&p.ok(&["get", "namespaces"]).await);
    assert_eq!(r[0], ["NAME", "STATUS", "AGE"]);
    assert_eq!(r[1][..2], ["default", "Active"]);
    p.stop().await;
}

/// Listening sockets on `port`: (local address hex, from tcp or tcp6).
fn listeners(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        for line in std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .skip(1)
        {
            let f: Vec<&str> = line.split_whitespace().collect();
            let Some((addr, p)) = f.get(1).and_then(|a| a.rsplit_once(':')) else {
                continue;
            };
            if f.get(3) == Some(&"0A") && u16::from_str_radix(p, 16).ok() == Some(port) {
                out.push(addr.to_string());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_errors_auth_and_version_match_an_api_server() {
    let mut p = Playground::start("api-errors", &[("job.yaml", job_pod())]).await;
    let job = p.pod("countdown");
    p.t.wait_pod("countdown", "the job listed", 60, |_| true)
        .await;

    let v = p.ok(&["version"]).await;
    assert!(
        v.contains(&format!(
            "Server Version: v1.37.0+podtui-{}",
            env!("CARGO_PKG_VERSION")
        )),
        "{v}"
    );
    assert_eq!(p.ok(&["auth", "can-i", "list", "pods"]).await.trim(), "yes");
    assert_eq!(
        p.ok(&["auth", "can-i", "get", "pods", "--subresource=log"])
            .await
            .trim(),
        "yes"
    );
    assert!(p.ok(&["auth", "whoami"]).await.contains("podtui-admin"));

    let err = p.fails(&["get", "pod", "nope"]).await;
    assert_eq!(
        err.trim(),
        "Error from server (NotFound): pods \"nope\" not found"
    );
    let err = p.fails(&["get", "--raw", "/apis/apps/v1"]).await;
    assert!(
        err.contains(
            "Error from server (NotFound): the server could not find the requested resource"
        ),
        "{err}"
    );
    let err = p.fails(&["get", "deployments"]).await;
    assert!(
        err.contains("the server doesn't have a resource type \"deployments\""),
        "{err}"
    );
    // Pods are writable (tests/api_write.rs); the node is not.
    let err = p.fails(&["delete", "node", &p.t.node]).await;
    assert!(
        err.contains("Error from server (MethodNotAllowed): the server does not allow this method on the requested resource"),
        "{err}"
    );

    // Without the token: 401 as an API server formats it.
    let kubeconfig = p.kubeconfig();
    let token = kubeconfig_token(&kubeconfig);
    let wrong = p.home.path().join("wrong-token");
    std::fs::write(
        &wrong,
        std::fs::read_to_string(&kubeconfig)
            .unwrap()
            .replace(&token, "not-the-token"),
    )
    .unwrap();
    let out = p.command(&wrong, &["get", "pods"]).output().await.unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("error: You must be logged in to the server (Unauthorized)"),
        "{err}"
    );
    let ca = kubeconfig_ca(&kubeconfig);
    let (line, body) = raw_request(p.api(), &ca, "/api/v1/pods", &[]).await;
    assert_eq!(line, "HTTP/1.1 401 Unauthorized");
    let s: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (s["kind"].as_str(), s["reason"].as_str(), s["code"].as_i64()),
        (Some("Status"), Some("Unauthorized"), Some(401))
    );
    let (line, _) = raw_request(
        p.api(),
        &ca,
        "/version",
        &[("Authorization", "Bearer wrong")],
    )
    .await;
    assert_eq!(line, "HTTP/1.1 401 Unauthorized");
    let bearer = format!("Bearer {token}");
    let (line, _) = raw_request(p.api(), &ca, "/readyz", &[("Authorization", &bearer)]).await;
    assert_eq!(line, "HTTP/1.1 200 OK");
    // Metadata-only lists, as client-go's metadata informers ask for them.
    let accept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
    let (line, body) = raw_request(
        p.api(),
        &ca,
        "/api/v1/namespaces/default/pods",
        &[("Authorization", &bearer), ("Accept", accept)],
    )
    .await;
    assert_eq!(line, "HTTP/1.1 200 OK");
    let l: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(l["kind"], "PartialObjectMetadataList");
    assert_eq!(l["items"][0]["kind"], "PartialObjectMetadata");
    assert_eq!(l["items"][0]["metadata"]["name"], job.as_str());
    assert!(l["items"][0].get("spec").is_none());
    let (line, _) = raw_request(
        p.api(),
        &ca,
        "/api/v1/pods",
        &[
            ("Authorization", &bearer),
            ("Accept", "application/vnd.kubernetes.protobuf"),
        ],
    )
    .await;
    assert_eq!(line, "HTTP/1.1 406 Not Acceptable");

    // Loopback only.
    let addr = p.api().address;
    assert!(addr.ip().is_loopback());
    assert_eq!(
        listeners(addr.port()),
        ["0100007F"],
        "one listener, on 127.0.0.1"
    );
    p.stop().await;
}
