//! Port-forward throughput: 1 GiB from a pod (busybox `nc -ll -e head -c 1GiB /dev/zero`) read through
//! `podtui port-forward` (the direct path: 127.0.0.1 → the forward → the pod IP) and straight from the pod IP,
//! alternating; once more through the sandbox path (`PODTUI_FORWARD_VIA=sandbox`: Docker exec of the pause
//! program's relay) for the record.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use podtui::runtime::{ContainerRuntime, DockerRuntime};
use tokio::io::AsyncReadExt;

use crate::common::BUSYBOX;
use crate::common::process::BIN;
use crate::report::{Bench, Row};
use crate::support::{cleanup_label, podtui_run};

const SIZE: u64 = 1 << 30;

fn pod() -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: fwd\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: src\n    image: {BUSYBOX}\n    command: [nc, -ll, -p, '9000', -e, head, -c, '{SIZE}', /dev/zero]\n"
    )
}

/// Reads `SIZE` bytes from `addr` (retrying the connect for a while: the server may be between connections);
/// MB/s from connect to the last byte.
async fn transfer(addr: SocketAddr) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut conn = loop {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(c) => break c,
            Err(e) => {
                assert!(Instant::now() < deadline, "cannot connect to {addr}: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let start = Instant::now();
    let mut buf = vec![0u8; 256 * 1024];
    let mut got = 0u64;
    while got < SIZE {
        let n = conn.read(&mut buf).await.unwrap();
        assert!(n > 0, "{addr} closed after {got} bytes");
        got += n as u64;
    }
    SIZE as f64 / 1e6 / start.elapsed().as_secs_f64()
}

/// `podtui port-forward fwd :9000` on `node`; the child and where it listens.
fn port_forward(node: &str, via: &str) -> (Child, SocketAddr) {
    let mut child = Command::new(BIN)
        .args(["port-forward", "fwd", ":9000", "--node-name", node])
        .env("PODTUI_FORWARD_VIA", via)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "Forwarding from 127.0.0.1:PORT -> 9000"
    let addr = line
        .split_whitespace()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("port-forward said {line:?}"));
    (child, addr)
}

pub async fn forward(rt: &DockerRuntime, reps: usize) -> Bench {
    let p = podtui_run("fwd", &[]).await;
    p.write("fwd.yaml", &pod());
    let full = p.full("fwd");
    let filter = vec![
        format!("io.kubernetes.pod.name={full}"),
        "io.kubernetes.docker.type=podsandbox".to_string(),
    ];
    let deadline = Instant::now() + Duration::from_secs(120);
    let ip = loop {
        let mut ip = None;
        for s in rt.list_containers(&filter).await.unwrap() {
            if let Some(i) = rt.inspect(&s.id).await.unwrap()
                && i.state.is_running()
            {
                ip = i.ip.filter(|ip| !ip.is_empty());
            }
        }
        if let Some(ip) = ip {
            break ip;
        }
        assert!(Instant::now() < deadline, "pod fwd has no IP");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let direct: SocketAddr = format!("{ip}:9000").parse().unwrap();
    // The server runs once the first direct read gets its bytes (also a warm-up).
    transfer(direct).await;
    let (mut child, local) = port_forward(&p.node, "direct");
    transfer(local).await;
    let (mut fwd, mut base) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        fwd.push(transfer(local).await);
        base.push(transfer(direct).await);
    }
    let _ = child.kill();
    let _ = child.wait();
    let (mut child, local) = port_forward(&p.node, "sandbox");
    let sandbox = transfer(local).await;
    let _ = child.kill();
    let _ = child.wait();
    let node = p.node.clone();
    drop(p);
    cleanup_label(&format!("dev.podtui.node={node}"));
    let ratio = crate::report::median(&fwd) / crate::report::median(&base);
    Bench {
        baseline: true,
        title: "13. Port-forward throughput: 1 GiB from a pod".into(),
        rows: vec![
            Row {
                label: "podtui port-forward (127.0.0.1 → pod IP)".into(),
                samples: fwd,
                unit: "MB/s",
            },
            Row {
                label: "direct connection to the pod IP".into(),
                samples: base,
                unit: "MB/s",
            },
        ],
        target: (
            format!("throughput ≥ 0.8× a direct connection to the pod IP (measured {ratio:.2}×)"),
            Some(ratio >= 0.8),
            String::new(),
        ),
        notes: vec![format!(
            "Through the sandbox path instead (PODTUI_FORWARD_VIA=sandbox: the pause program's relay, run by Docker exec in the pod's network namespace, for engines whose pod IPs the host cannot reach): {sandbox:.0} MB/s, one sample. The source is busybox `nc -ll -e head -c 1073741824 /dev/zero` in the pod; the reader is the bench itself, 256 KiB reads."
        )],
    }
}
