//! End to end in a real terminal: tmux runs `podtui` on a temporary manifests directory against the real
//! dockerd; keys are typed with send-keys and the screen is read with capture-pane.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::tmux::Tmux;
use common::{BUSYBOX, Cleanup, SEEDED, docker, run_id};

const BIN: &str = env!("CARGO_BIN_EXE_podtui");

fn uids(node: &str) -> Vec<String> {
    let mut v: Vec<String> = docker(&[
        "ps",
        "--filter",
        &format!("label=dev.podtui.node={node}"),
        "--format",
        "{{.Label \"io.kubernetes.pod.uid\"}}",
    ])
    .lines()
    .map(String::from)
    .collect();
    v.sort();
    v.dedup();
    v
}

fn running_ids(node: &str) -> Vec<String> {
    let mut v: Vec<String> = docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=dev.podtui.node={node}"),
    ])
    .lines()
    .map(String::from)
    .collect();
    v.sort();
    v
}

#[test]
fn the_tui_runs_logs_kills_edits_deletes_and_quits_cleanly() {
    let node = run_id("tui-e2e");
    let _cleanup = Cleanup::node(&node);
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(config.path().join("podtui")).unwrap();
    std::fs::write(
        config.path().join("podtui/config.yaml"),
        format!("debug_image: {BUSYBOX}\n"),
    )
    .unwrap();
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/manifests/nginx.yaml"))
        .unwrap()
        .replace(
            "    image: nginx\n",
            &format!("    image: {SEEDED}\n    command: [/bin/sh, -c, 'echo web-started; mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p 80 -h /www']\n"),
        )
        .replace("image: busybox", &format!("image: {BUSYBOX}"))
        .replace("spec:\n", "spec:\n  terminationGracePeriodSeconds: 2\n");
    std::fs::write(dir.path().join("nginx.yaml"), &manifest).unwrap();
    let after = state.path().join("after.txt");
    let cmd = format!(
        "EDITOR=\"sed -i s/hostname:.edited/hostname:.external/\" XDG_CONFIG_HOME={} TERM=xterm-256color {BIN} {} --node-name {node} --state-dir {}; echo PODTUI-EXIT=$?; stty -a > {}; sleep 600",
        config.path().display(),
        dir.path().display(),
        state.path().display(),
        after.display()
    );
    let t = Tmux::start(&node, 120, 36, &cmd);
    let pod = format!("nginx-{node}");

    // The example pod shows Running 2/2.
    t.wait("the pod running", 90, |s| {
        s.lines()
            .any(|l| l.contains(&pod) && l.contains("2/2") && l.contains("Running"))
    });
    assert_eq!(
        t.display("#{alternate_on}"),
        "1",
        "the UI draws on the alternate screen"
    );

    // Logs of the web container.
    t.send(&["Enter"]);
    t.wait("the pod view", 10, |s| {
        s.contains(&format!("Pod {pod}")) && s.contains("Containers")
    });
    t.send(&["l"]);
    t.wait("the web container's log", 20, |s| {
        s.contains("Logs nginx") && s.contains("web-started")
    });
    t.send(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    t.wait("back to the pods", 10, |s| s.contains("Pods (1/1)"));

    // A shell: bash is missing in the test image, so /bin/sh; keys typed right after it exits reach the UI.
    t.send(&["s"]);
    t.wait("the shell prompt", 20, |s| s.contains("podtui: shell in"));
    std::thread::sleep(Duration::from_millis(500));
    t.type_text("echo SHELL-$((6*7))");
    t.send(&["Enter"]);
    t.wait("the shell's output", 10, |s| s.contains("SHELL-42"));
    t.type_text("exit");
    t.send(&["Enter", "?"]);
    t.wait("the UI back, with the key typed after exit", 15, |s| {
        s.contains("Keys: pods") && s.contains("sh exited with code 0")
    });
    assert_eq!(t.display("#{alternate_on}"), "1");
    t.send(&["x"]);

    // D: a debug container sharing nginx's processes; ps shows the web server as PID 1, localhost is the pod's.
    t.send(&["D"]);
    t.wait("the debug shell", 30, |s| {
        s.contains("debug container debugger-")
    });
    std::thread::sleep(Duration::from_millis(500));
    let ephemeral = |node: &str| {
        docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=io.kubernetes.pod.name=nginx-{node}"),
            "--filter",
            "label=dev.podtui.ephemeral=true",
        ])
    };
    assert!(!ephemeral(&node).is_empty(), "the debug container runs");
    t.type_text(
        "ps -o pid,args | grep '^ *1 ' ; wget -qO- http://127.0.0.1:80/ | sed 's/^/PAGE-/'",
    );
    t.send(&["Enter"]);
    t.wait("the target's PID 1 and the pod's localhost", 15, |s| {
        s.contains("httpd -f -p 80") && s.contains("PAGE-hi")
    });
    t.type_text("exit");
    t.send(&["Enter"]);
    t.wait("the UI back", 15, |s| s.contains("and was removed"));
    assert!(ephemeral(&node).is_empty(), "the debug container is gone");

    // F: forward a free local port to the pod's port 80; :pf lists it, ctrl-d stops it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    t.send(&["F"]);
    t.wait("the forward prompt", 10, |s| {
        s.contains("port-forward 127.0.0.1:LOCAL to")
    });
    t.send(&["C-u"]);
    t.type_text(&format!("{port}:80"));
    t.send(&["Enter"]);
    t.wait("the forward running", 15, |s| {
        s.contains("port-forwards 1 (:pf)")
    });
    let get = || -> std::io::Result<String> {
        use std::io::{Read, Write};
        let mut c = std::net::TcpStream::connect(("127.0.0.1", port))?;
        c.set_read_timeout(Some(Duration::from_secs(10)))?;
        c.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")?;
        let mut body = String::new();
        c.read_to_string(&mut body)?;
        Ok(body)
    };
    let body = get().unwrap();
    assert!(body.ends_with("hi\n"), "{body}");
    t.type_text(":pf");
    t.send(&["Enter"]);
    t.wait("the :pf view", 10, |s| {
        s.contains("Port-forwards (1)") && s.contains(&format!("127.0.0.1:{port}"))
    });
    t.send(&["C-d"]);
    t.wait("the forward stopped", 10, |s| {
        s.contains("Port-forwards (0)")
    });
    assert!(get().is_err(), "nothing listens after the stop");
    t.send(&["Escape"]);
    t.wait("back to the pods", 10, |s| s.contains("Pods (1/1)"));

    // ctrl-k kills the pod's containers; the engine brings it back with new containers.
    let before = running_ids(&node);
    assert_eq!(before.len(), 3);
    t.send(&["C-k"]);
    t.wait("the kill confirmation", 10, |s| {
        s.contains("Confirm") && s.contains("SIGKILL")
    });
    t.send(&["y"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = running_ids(&node);
        if now.len() == 3 && now.iter().all(|id| !before.contains(id)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the pod did not come back: {now:?} (before {before:?})"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    t.wait("the pod running again", 60, |s| {
        s.lines()
            .any(|l| l.contains(&pod) && l.contains("2/2") && l.contains("Running"))
    });

    // Edit through the built-in editor: the pod is replaced (new UID).
    let old_uid = uids(&node);
    assert_eq!(old_uid.len(), 1);
    t.send(&["e"]);
    t.wait("the editor", 10, |s| {
        s.contains("Editing") && s.contains("ctrl-s save")
    });
    t.send(&["M->", "End", "Enter"]);
    t.type_text("  hostname: edited");
    t.wait("live validation", 10, |s| {
        s.contains("saving replaces default/") || s.contains("replaces")
    });
    t.send(&["C-s"]);
    t.wait("the save preview", 10, |s| {
        s.contains("Save ") && s.contains("new sandbox")
    });
    t.send(&["y"]);
    t.wait("saved", 10, |s| {
        s.contains("saved ") || s.contains("Pods (")
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let u = uids(&node);
        if u.len() == 1 && u != old_uid && running_ids(&node).len() == 3 {
            break;
        }
        assert!(Instant::now() < deadline, "the pod was not replaced: {u:?}");
        std::thread::sleep(Duration::from_millis(300));
    }
    let backups = std::fs::read_dir(state.path().join("backups"))
        .unwrap()
        .count();
    assert_eq!(backups, 1, "the previous version was backed up");
    assert!(
        std::fs::read_to_string(dir.path().join("nginx.yaml"))
            .unwrap()
            .contains("hostname: edited")
    );
    let web = docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=dev.podtui.node={node}"),
        "--filter",
        "label=io.kubernetes.container.name=nginx",
    ]);
    assert_eq!(docker(&["exec", &web, "hostname"]), "edited");

    // ctrl-d deletes the manifest (to the trash); the pod goes away.
    t.wait("the new pod running", 60, |s| {
        s.lines()
            .any(|l| l.contains(&pod) && l.contains("2/2") && l.contains("Running"))
    });
    t.send(&["C-d"]);
    t.wait("the delete confirmation", 10, |s| {
        s.contains("Confirm") && s.contains("trash")
    });
    t.send(&["y"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !running_ids(&node).is_empty() {
        assert!(Instant::now() < deadline, "the pod was not removed");
        std::thread::sleep(Duration::from_millis(300));
    }
    t.wait("no pods", 30, |s| s.contains("Pods (0/0)"));
    assert!(!dir.path().join("nginx.yaml").exists());
    assert_eq!(
        std::fs::read_dir(state.path().join("trash"))
            .unwrap()
            .count(),
        2,
        "the file and its index entry"
    );

    // q quits; the terminal is back to normal: main screen, cooked mode with echo.
    t.send(&["q"]);
    t.wait("podtui exited", 30, |s| s.contains("PODTUI-EXIT=0"));
    assert_eq!(t.display("#{alternate_on}"), "0");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !after.exists() || std::fs::read_to_string(&after).unwrap().is_empty() {
        assert!(Instant::now() < deadline, "stty did not run");
        std::thread::sleep(Duration::from_millis(100));
    }
    let stty = std::fs::read_to_string(&after).unwrap();
    let flags: Vec<&str> = stty.split_whitespace().collect();
    for flag in ["icanon", "echo", "isig", "icrnl", "opost"] {
        assert!(flags.contains(&flag), "{flag} not restored: {stty}");
    }
}

/// Issue 15's k9s keys in a real terminal: mark two of three pods with space and kill both with one confirm
/// (the third keeps its containers), describe one (`d`: kubectl's describe text with the events), search its
/// YAML tab (`/` finds the term, nothing quits), and shrink the terminal to 70x20: every pod name stays whole.
#[test]
fn k9s_keys_select_two_pods_kill_them_describe_one_search_its_yaml_and_fit_70x20() {
    let node = run_id("tui-k9s");
    let _cleanup = Cleanup::node(&node);
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    for name in ["alpha", "bravo", "charlie"] {
        std::fs::write(
            dir.path().join(format!("{name}.yaml")),
            common::pods::sleeper_pod(name),
        )
        .unwrap();
    }
    let cmd = format!(
        "TERM=xterm-256color {BIN} {} --node-name {node} --state-dir {}; echo PODTUI-EXIT=$?; sleep 600",
        dir.path().display(),
        state.path().display(),
    );
    let t = Tmux::start(&node, 120, 36, &cmd);
    let full = |name: &str| format!("{name}-{node}");
    t.wait("three pods running", 90, |s| {
        ["alpha", "bravo", "charlie"].iter().all(|n| {
            s.lines()
                .any(|l| l.contains(&full(n)) && l.contains("2/2") && l.contains("Running"))
        })
    });
    let ids_of = |name: &str| -> Vec<String> {
        let mut v: Vec<String> = docker(&[
            "ps",
            "-q",
            "--filter",
            &format!("label=io.kubernetes.pod.name={}", full(name)),
        ])
        .lines()
        .map(String::from)
        .collect();
        v.sort();
        v
    };
    let before: Vec<Vec<String>> = ["alpha", "bravo", "charlie"]
        .iter()
        .map(|n| ids_of(n))
        .collect();
    assert!(before.iter().all(|ids| ids.len() == 3), "{before:?}");

    // Sorted by name: alpha, bravo, charlie. space marks alpha and moves to bravo; space marks bravo.
    t.send(&["g", "Space", "Space"]);
    t.wait("two pods marked", 10, |s| s.contains("2 marked"));
    t.send(&["C-k"]);
    t.wait("one confirm for both", 10, |s| {
        s.contains("Kill the containers of 2 marked pod(s)")
    });
    t.send(&["y"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now: Vec<Vec<String>> = ["alpha", "bravo"].iter().map(|n| ids_of(n)).collect();
        let replaced = now
            .iter()
            .zip(&before)
            .all(|(n, b)| n.len() == 3 && n.iter().all(|id| !b.contains(id)));
        if replaced {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "both marked pods were not killed and brought back: {now:?} (before {before:?})"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(
        ids_of("charlie"),
        before[2],
        "the unmarked pod was left alone"
    );
    t.wait("the marks cleared", 10, |s| !s.contains("marked"));

    // d: the Describe tab, kubectl's text with the kill's events in full.
    t.send(&["g", "d"]);
    let screen = t.wait("the describe tab", 15, |s| {
        s.contains("kubectl describe pod")
            && s.contains(&format!("Name:         {}", full("alpha")))
    });
    assert!(screen.contains("Containers:"), "{screen}");
    t.send(&["G"]);
    t.wait("the events at the end", 10, |s| {
        s.contains("Events:") && s.contains("kubelet")
    });

    // The YAML tab: / finds emptyDir (the q typed in the term does not quit).
    t.send(&["y"]);
    t.wait("the YAML tab", 10, |s| s.contains("manifest as applied"));
    t.send(&["/"]);
    t.type_text("quit-not emptyDir");
    t.send(&["C-u"]);
    t.type_text("emptyDir");
    t.send(&["Enter"]);
    let screen = t.wait("the search", 10, |s| {
        s.contains("/emptyDir") && s.contains("emptyDir: {}")
    });
    assert!(
        !screen.contains("PODTUI-EXIT") && !screen.contains("not found"),
        "{screen}"
    );

    // 70x20: the pods table keeps every name whole.
    t.send(&["Escape", "Escape"]);
    t.wait("back to the pods", 10, |s| s.contains("Pods (3/3)"));
    t.run(&["resize-window", "-t", &t.session, "-x", "70", "-y", "20"]);
    let screen = t.wait("the table at 70 columns", 10, |s| {
        s.lines().all(|l| l.chars().count() <= 70)
            && ["alpha", "bravo", "charlie"]
                .iter()
                .all(|n| s.contains(&full(n)))
    });
    assert!(screen.contains("Running"), "{screen}");

    t.send(&["q"]);
    t.wait("podtui exited", 30, |s| s.contains("PODTUI-EXIT=0"));
}
