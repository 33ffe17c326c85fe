//! hostPorts bound to every interface (issue 10, item 8): binding `0.0.0.0` or `::` (an explicit `hostIP`, or
//! `--host-port-address`) is warned about once per engine start, and the pod's Network tab marks the port.

use std::sync::Arc;

use crossterm::event::KeyCode;
use podtui::engine::events::EventType;
use podtui::engine::{EngineEvent, Snapshot};
use podtui::tui::app::{App, Tab};
use tokio::sync::broadcast;

use crate::common::engine::{TestEngine, fast_backoff, sandbox_id};
use crate::common::tui::{code, config, now, render, select};
use crate::common::{BUSYBOX, docker};

/// A host port nothing listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn open_port_warnings(rx: &mut broadcast::Receiver<EngineEvent>, pod: &str) -> Vec<EngineEvent> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        if e.event.reason == "HostPortOpen" && e.pod.as_deref() == Some(pod) {
            out.push(e);
        }
    }
    out
}

/// The Network tab of pod `name` in `snap`, rendered.
fn network_tab(snap: Arc<Snapshot>, name: &str) -> String {
    let state = tempfile::tempdir().unwrap();
    let mut app = App::new(config(state.path(), None), snap);
    select(&mut app, name);
    app.on_key(code(KeyCode::Enter));
    app.on_key(code(KeyCode::Tab));
    assert_eq!(app.tab, Tab::Network);
    render(&mut app, 160, 48)
}

// Current-thread runtime: the engine's tasks run only when the test awaits, so each subscription is in place
// before the engine can send anything.
#[tokio::test]
async fn a_wildcard_host_port_warns_once_per_engine_start() {
    let mut t = TestEngine::new("hostports");
    let (open, local) = (free_port(), free_port());
    t.start(fast_backoff());
    let mut rx = t.handle().subscribe();
    t.write(
        "web.yaml",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: app\n    image: {BUSYBOX}\n    command: [/bin/sh, -c, 'trap \"exit 0\" TERM; while true; do sleep 1; done']\n    ports:\n    - {{containerPort: 80, hostPort: {open}, hostIP: 0.0.0.0}}\n    - {{containerPort: 81, hostPort: {local}}}\n"
        ),
    );
    let p = t
        .wait_pod("web", "web running", 60, |p| sandbox_id(p).is_some())
        .await;
    let key = p.key();
    let bindings = docker(&[
        "inspect",
        "-f",
        "{{json .HostConfig.PortBindings}}",
        &sandbox_id(&p).unwrap(),
    ]);
    assert!(
        bindings.contains(&format!(r#"{{"HostIp":"0.0.0.0","HostPort":"{open}"}}"#)),
        "{bindings}"
    );

    // More desired-state changes after the first: still one warning, about the open port only.
    t.write(
        "other.yaml",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: other\nspec:\n  containers:\n  - name: app\n    image: {BUSYBOX}\n"
        ),
    );
    let other = t.pod_name("other");
    t.wait("other.yaml read", 30, |s| {
        s.pods.iter().any(|p| p.name == other)
    })
    .await;
    let warnings = open_port_warnings(&mut rx, &key);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = &warnings[0].event;
    assert_eq!(w.kind, EventType::Warning);
    assert_eq!(w.object, "spec.containers{app}");
    assert!(
        w.message.contains(&format!(
            "hostPort 0.0.0.0:{open}→80/tcp is open to the network"
        )) && w.message.contains("hostIP 0.0.0.0"),
        "{}",
        w.message
    );
    // The pod's events (the TUI's log) carry it once too.
    let p = t.wait_pod("web", "web running", 30, |_| true).await;
    assert_eq!(
        p.events
            .iter()
            .filter(|e| e.reason == "HostPortOpen")
            .count(),
        1
    );

    // The Network tab of the real pod marks the open port, not the loopback one.
    let screen = network_tab(t.snapshot(), &p.name);
    let line = |port: u16| {
        screen
            .lines()
            .find(|l| l.contains(&format!(":{port} →")))
            .unwrap_or_else(|| panic!("port {port} in {screen}"))
            .to_string()
    };
    assert!(
        line(open).contains(&format!(
            "published 0.0.0.0:{open} → 80/tcp  ⚠ open to the network"
        )),
        "{screen}"
    );
    assert!(!line(local).contains('⚠'), "{screen}");

    // A new engine start warns again, once.
    t.stop().await;
    t.start(fast_backoff());
    let mut rx = t.handle().subscribe();
    t.wait("both pods adopted", 60, |s| {
        s.synced && s.pods.iter().filter(|p| sandbox_id(p).is_some()).count() == 2
    })
    .await;
    assert_eq!(open_port_warnings(&mut rx, &key).len(), 1);
    t.stop().await;
}

#[test]
fn the_network_tab_marks_ports_open_to_the_network() {
    let mut snap = (*crate::common::tui::fixture()).clone();
    let i = snap
        .pods
        .iter()
        .position(|p| p.name == "nginx-demo")
        .unwrap();
    let mut pod = (*snap.pods[i]).clone();
    let sb = pod.observed.sandboxes.last_mut().unwrap();
    let mut v6 = sb.ports[0].clone();
    v6.host_ip = "::".into();
    v6.host_port = "9443".into();
    sb.ports[0].host_ip = "0.0.0.0".into();
    let mut local = sb.ports[0].clone();
    local.host_ip = "127.0.0.1".into();
    local.host_port = "9000".into();
    sb.ports.extend([v6, local]);
    snap.pods[i] = Arc::new(pod);
    let snap = Arc::new(snap);
    let state = tempfile::tempdir().unwrap();
    let mut app = App::new(config(state.path(), None), snap.clone());
    app.now = now(&snap);
    select(&mut app, "nginx-demo");
    app.on_key(code(KeyCode::Enter));
    app.on_key(code(KeyCode::Tab));
    let screen = render(&mut app, 120, 40);
    let marked: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("published"))
        .map(|l| {
            l.trim_start_matches(['│', ' '])
                .trim_end_matches(['│', ' '])
        })
        .collect();
    assert_eq!(
        marked,
        [
            "published 0.0.0.0:18080 → 80/tcp  ⚠ open to the network",
            "published [::]:9443 → 80/tcp  ⚠ open to the network",
            "published 127.0.0.1:9000 → 80/tcp",
        ],
        "{screen}"
    );
}
