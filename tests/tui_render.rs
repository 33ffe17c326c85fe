//! Render snapshots of every view at 80x24 and 160x48 from a frozen engine snapshot (TestBackend + insta).
//! Update with `INSTA_UPDATE=always cargo test --test tui_render` and review the diff.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use crossterm::event::KeyCode;
use podtui::engine::DockerState;
use podtui::tui::app::{App, AppEvent, Tab};
use podtui::tui::editor::Editor;
use podtui::tui::logbuf::{LineAssembler, StreamKind};

use common::tui::{app, code, ctrl, key, render, select};

fn both(name: &str, app: &mut App) {
    for (w, h) in [(80, 24), (160, 48)] {
        let screen = render(app, w, h);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
    }
}

#[test]
fn pods_view() {
    let mut a = app();
    both("pods", &mut a);
}

#[test]
fn pods_filtered_and_sorted() {
    let mut a = app();
    a.on_key(key('/'));
    common::tui::typed(&mut a, "back");
    a.on_key(code(KeyCode::Enter));
    both("pods_filtered", &mut a);
    a.on_key(code(KeyCode::Esc));
    a.on_key(key('o'));
    a.on_key(key('o'));
    a.on_key(key('O'));
    both("pods_sorted_by_restarts_desc", &mut a);
}

#[test]
fn manifests_focus_with_an_invalid_file() {
    let mut a = app();
    a.on_key(code(KeyCode::Tab));
    both("manifests", &mut a);
}

#[test]
fn events_view() {
    let mut a = app();
    a.command("events");
    both("events", &mut a);
}

#[test]
fn crash_looping_pod_containers() {
    let mut a = app();
    select(&mut a, "crashloop-demo");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.tab, Tab::Containers);
    both("detail_containers_crashloop", &mut a);
}

#[test]
fn image_pull_backoff_pod() {
    let mut a = app();
    select(&mut a, "pullfail-demo");
    a.on_key(code(KeyCode::Enter));
    both("detail_containers_imagepullbackoff", &mut a);
    a.on_key(key('v'));
    both("detail_events_imagepullbackoff", &mut a);
}

#[test]
fn network_view_of_the_example_pod() {
    let mut a = app();
    select(&mut a, "nginx-demo");
    a.on_key(code(KeyCode::Enter));
    a.on_key(code(KeyCode::Tab));
    assert_eq!(a.tab, Tab::Network);
    both("detail_network_nginx", &mut a);
    a.on_key(code(KeyCode::Tab));
    both("detail_volumes_nginx", &mut a);
}

#[test]
fn yaml_views() {
    let mut a = app();
    select(&mut a, "web-demo");
    a.on_key(key('y'));
    both("detail_yaml_applied", &mut a);
    a.on_key(key('Y'));
    both("detail_yaml_pod", &mut a);
}

#[test]
fn a_log_line_full_of_escape_sequences_is_drawn_safely() {
    let mut a = app();
    select(&mut a, "nginx-demo");
    a.on_key(key('l'));
    let effects = a.take_effects();
    assert!(
        matches!(
            effects.as_slice(),
            [podtui::tui::app::Effect::FollowLogs { .. }]
        ),
        "{effects:?}"
    );
    let mut asm = LineAssembler::new(StreamKind::Out, true);
    let raw = concat!(
        "plain line\n",
        "\x1b[32mgreen\x1b[0m and \x1b[1;31mbold red\x1b[0m\n",
        "cursor\x1b[2J\x1b[H\x1b[10;10Hmoves\x1b[?1049h stripped\n",
        "title\x1b]0;pwned\x07 and clipboard\x1b]52;c;cGF5bG9hZA==\x1b\\ stripped\n",
        "dcs\x1bPq#0;2;0;0;0\x1b\\ c1\u{9b}31m\u{90}x\u{9c} bidi\u{202e}txt tab\tend\n",
    );
    let mut lines = asm.push(raw.as_bytes());
    lines.extend(asm.push(b"invalid utf8: \xff\xfe end\n"));
    let mut err = LineAssembler::new(StreamKind::Err, true);
    lines.extend(err.push(b"an error line on stderr\n"));
    lines.extend(asm.push(&b"x".repeat(300)));
    lines.extend(asm.push(b"\n"));
    let generation = a.logs.generation;
    a.on_event(AppEvent::LogLines { generation, lines });
    both("detail_logs_escapes", &mut a);
    for (w, h) in [(80, 24), (160, 48)] {
        let screen = render(&mut a, w, h);
        assert!(
            !screen.contains('\u{1b}')
                && !screen.contains("pwned")
                && !screen.contains("cGF5bG9hZA"),
            "{screen}"
        );
    }
    a.on_key(key('w'));
    both("detail_logs_nowrap", &mut a);
}

#[test]
fn help_and_confirm_overlays() {
    let mut a = app();
    a.on_key(key('?'));
    both("help_pods", &mut a);
    a.on_key(key('x'));
    select(&mut a, "crashloop-demo");
    a.on_key(ctrl('k'));
    assert!(a.confirm().is_some());
    both("confirm_kill", &mut a);
}

#[test]
fn editor_with_an_invalid_manifest() {
    let mut a = app();
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: Web\n    image: localhost/podtui-test/busybox:1\n    imagePullPolcy: Always\n";
    a.open_editor(Editor::open(
        "manifests/broken.yaml".into(),
        text,
        false,
        "demo",
        &a.snap.clone(),
    ));
    both("editor_invalid", &mut a);
}

#[test]
fn disconnected_header() {
    let mut a = app();
    let mut snap = (*a.snap).clone();
    snap.docker = DockerState::Disconnected {
        endpoint: "unix:///var/run/docker.sock".into(),
        error: "connection refused".into(),
        retry_at: a.now + std::time::Duration::from_secs(4),
    };
    a.on_snapshot(Arc::new(snap));
    both("disconnected", &mut a);
}

#[test]
fn tiny_and_odd_sizes_never_panic() {
    let mut a = app();
    select(&mut a, "nginx-demo");
    for (w, h) in [
        (1, 1),
        (10, 3),
        (20, 6),
        (40, 10),
        (80, 24),
        (33, 200),
        (300, 7),
    ] {
        for tab in ["pods", "detail", "logs", "help"] {
            let mut a2 = app();
            select(&mut a2, "nginx-demo");
            match tab {
                "detail" => a2.on_key(code(KeyCode::Enter)),
                "logs" => a2.on_key(key('l')),
                "help" => a2.on_key(key('?')),
                _ => {}
            }
            render(&mut a2, w, h);
        }
        render(&mut a, w, h);
    }
}

#[test]
fn readme_capture() {
    // The capture shown in the README.
    let mut a = app();
    select(&mut a, "crashloop-demo");
    let screen = render(&mut a, 110, 24);
    insta::assert_snapshot!("readme_main_110x24", screen);
}

#[test]
fn monochrome_theme_uses_no_colours() {
    let snap = common::tui::fixture();
    let mut cfg = common::tui::config(std::path::Path::new("/state"), None);
    cfg.theme = podtui::tui::theme::Theme::monochrome();
    let mut a = App::new(cfg, snap.clone());
    a.now = common::tui::now(&snap);
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 30)).unwrap();
    term.draw(|f| podtui::tui::views::draw(f, &mut a)).unwrap();
    let buf = term.backend().buffer().clone();
    for cell in buf.content() {
        assert!(
            matches!(cell.fg, ratatui::style::Color::Reset),
            "a coloured cell in mono: {cell:?}"
        );
        assert!(
            matches!(cell.bg, ratatui::style::Color::Reset),
            "a coloured cell in mono: {cell:?}"
        );
    }
    // The colour theme does colour the statuses.
    let mut c = app();
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 30)).unwrap();
    term.draw(|f| podtui::tui::views::draw(f, &mut c)).unwrap();
    assert!(
        term.backend()
            .buffer()
            .content()
            .iter()
            .any(|cell| cell.fg == ratatui::style::Color::Red)
    );
}

#[test]
fn a_thousand_pods_scroll() {
    let base = common::tui::fixture();
    let mut snap = (*base).clone();
    let template = snap.pods[2].clone();
    snap.pods = (0..1000)
        .map(|i| {
            let mut p = (*template).clone();
            p.name = format!("pod-{i:04}");
            p.uid = format!("{i:032x}");
            Arc::new(p)
        })
        .collect();
    let snap = Arc::new(snap);
    let mut a = App::new(
        common::tui::config(std::path::Path::new("/state"), None),
        snap.clone(),
    );
    a.now = common::tui::now(&snap);
    let screen = render(&mut a, 80, 24);
    assert!(screen.contains("Pods (1000/1000)") && screen.contains("pod-0000"));
    a.on_key(key('G'));
    let screen = render(&mut a, 80, 24);
    assert!(
        screen.contains("pod-0999") && !screen.contains("pod-0000"),
        "{screen}"
    );
    for _ in 0..120 {
        a.on_key(code(KeyCode::PageUp));
    }
    let screen = render(&mut a, 80, 24);
    assert!(screen.contains("pod-0000"), "{screen}");
}

#[test]
fn probe_results_and_host_access_in_the_pod_view() {
    use podtui::engine::handler::ProbeKind;
    use podtui::engine::prober::ProbeView;
    let mut a = app();
    let mut snap = (*a.snap).clone();
    let now = a.now;
    for p in snap.pods.iter_mut() {
        if p.name == "web-demo" {
            let mut v = (**p).clone();
            v.probes = vec![
                ProbeView {
                    container: "web".into(),
                    kind: ProbeKind::Readiness,
                    handler: "httpGet http://:8080/ready".into(),
                    last: Some((
                        false,
                        "HTTP probe failed with statuscode: 503".into(),
                        now - std::time::Duration::from_secs(2),
                    )),
                    failures: 2,
                    successes: 0,
                    next: Some(now + std::time::Duration::from_secs(8)),
                    gated: false,
                },
                ProbeView {
                    container: "web".into(),
                    kind: ProbeKind::Liveness,
                    handler: "tcpSocket :8080".into(),
                    last: Some((
                        true,
                        "tcp connect ok".into(),
                        now - std::time::Duration::from_secs(1),
                    )),
                    failures: 0,
                    successes: 4,
                    next: Some(now + std::time::Duration::from_secs(9)),
                    gated: false,
                },
            ];
            v.host_access = vec!["hostPath /var/run/docker.sock".into()];
            *p = Arc::new(v);
        }
    }
    a.on_snapshot(Arc::new(snap));
    select(&mut a, "web-demo");
    both("pods_with_host_access", &mut a);
    a.on_key(code(KeyCode::Enter));
    both("detail_containers_probes", &mut a);
}

/// Issue 15, item 16: `/` searches every text view (here the YAML and Events tabs, the containers and the
/// events screen); typing `/qos` there once sent `q` and quit. A match is scrolled into view, marked, and `n`
/// wraps around; a term that is not there says so and moves nothing.
#[test]
fn slash_searches_every_text_view_and_never_falls_through_to_quit() {
    let mut a = app();
    select(&mut a, "web-demo");
    a.on_key(key('y'));
    a.on_key(key('Y'));
    assert!(
        !render(&mut a, 80, 24).contains("qosClass"),
        "off screen at first"
    );
    a.on_key(key('/'));
    common::tui::typed(&mut a, "qos");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.quitting, None, "the search text reached the keymap");
    assert_eq!(a.tab, Tab::Yaml);
    let screen = render(&mut a, 80, 24);
    assert!(screen.contains("qosClass"), "{screen}");
    assert!(
        screen.contains("/qos"),
        "the term is in the title: {screen}"
    );
    let first = a.find.hit.unwrap();
    // One match: `n` and `N` come back to it.
    a.on_key(key('n'));
    assert_eq!(a.find.hit, Some(first));
    a.on_key(key('N'));
    assert_eq!(a.find.hit, Some(first));
    // A term that is not there: said, nothing moves.
    let scroll = a.pod_view.scroll;
    a.on_key(key('/'));
    a.on_key(ctrl('u'));
    common::tui::typed(&mut a, "no-such-text");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.pod_view.scroll, scroll);
    assert!(
        a.message
            .as_ref()
            .is_some_and(|m| m.error && m.text.contains("not found")),
        "{:?}",
        a.message
    );

    // The Events tab: the matching event comes to the top and is marked.
    select_pod_tab(&mut a, "pullfail-demo", 'v');
    a.on_key(key('/'));
    common::tui::typed(&mut a, "back-off");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.quitting, None);
    let hit = a.find.hit.expect("a Back-off event");
    assert_eq!(a.pod_view.scroll, hit);
    assert!(
        a.message.as_ref().is_none_or(|m| !m.error),
        "{:?}",
        a.message
    );
    let screen = render(&mut a, 160, 48);
    let body: Vec<&str> = screen
        .lines()
        .skip_while(|l| !l.contains("LAST SEEN"))
        .collect();
    assert!(body[1].contains("Back-off"), "{screen}");

    // The Containers tab: a match selects the container.
    a.on_key(code(KeyCode::Esc));
    select(&mut a, "nginx-demo");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.tab, Tab::Containers);
    a.on_key(key('/'));
    common::tui::typed(&mut a, "POD");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.pod_view.container_sel, 0);
    assert_eq!(a.container_rows()[0].name, "POD");

    // The events screen: a match selects the event.
    a.on_key(code(KeyCode::Esc));
    a.command("events");
    a.on_key(key('/'));
    common::tui::typed(&mut a, "pulling");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.quitting, None);
    let selected = a.events_pos.selected;
    let all = podtui::tui::app::find::all_events(&a.snap);
    let (_, e) = all[selected];
    assert!(
        format!("{} {}", e.reason, e.message)
            .to_lowercase()
            .contains("pulling"),
        "{e:?}"
    );
    a.on_key(key('n'));
    assert_ne!(
        a.events_pos.selected, selected,
        "several events match: n moves on"
    );
}

fn select_pod_tab(a: &mut App, pod: &str, tab: char) {
    a.on_key(code(KeyCode::Esc));
    select(a, pod);
    a.on_key(key(tab));
}

/// Issue 15, item 17: a pod whose file is now invalid runs that file's last good version, and the pods table
/// says so on its row (the fixture's `broken.yaml` is such a file; its pod is `web-demo`).
#[test]
fn a_pod_whose_file_is_now_invalid_is_marked_stale() {
    let mut a = app();
    for (w, h) in [(80, 24), (160, 48)] {
        let screen = render(&mut a, w, h);
        let web: Vec<&str> = screen.lines().filter(|l| l.contains("web-demo")).collect();
        assert!(web[0].contains("web-demo [stale]"), "{screen}");
        let others = screen.lines().filter(|l| l.contains("[stale]")).count();
        assert_eq!(others, 1, "only web-demo is stale: {screen}");
    }
}

/// Issue 15, item 18: FILE names the file, with `:LINE` only when the file defines several pods (a lone pod's
/// document may start after comments: `job.yaml:3` only puzzled); `get -o wide` uses the same label.
#[test]
fn the_file_column_gives_a_line_only_where_a_file_holds_several_pods() {
    let mut a = app();
    let mut snap = (*a.snap).clone();
    let job = snap.pods.iter().position(|p| p.name == "job-demo").unwrap();
    let mut p = (*snap.pods[job]).clone();
    p.line = Some(3);
    snap.pods[job] = Arc::new(p.clone());
    a.on_snapshot(Arc::new(snap.clone()));
    let screen = render(&mut a, 160, 48);
    let row = screen.lines().find(|l| l.contains("job-demo")).unwrap();
    assert!(
        row.contains("manifests/job.yaml") && !row.contains("job.yaml:3"),
        "{row}"
    );
    // A second pod in the same file: now both carry their document's line.
    p.name = "job-two".into();
    p.uid = "0000-job-two".into();
    p.line = Some(20);
    snap.pods.push(Arc::new(p));
    a.on_snapshot(Arc::new(snap));
    let screen = render(&mut a, 160, 48);
    for (name, label) in [("job-demo", "job.yaml:3"), ("job-two", "job.yaml:20")] {
        let row = screen.lines().find(|l| l.contains(name)).unwrap();
        assert!(row.contains(label), "{row}");
    }
    let rows = podtui::commands::get::rows(&a.snap.pods, "demo", true, a.now);
    let file_of = |name: &str| rows.iter().find(|r| r[0] == name).unwrap()[7].clone();
    assert_eq!(file_of("job-two"), "manifests/job.yaml:20");
    assert_eq!(file_of("nginx-demo"), "manifests/nginx.yaml");
}

/// Issue 15, item 11: a narrow terminal gives up the least important columns first and keeps names and
/// reasons whole: the pods table at 40 columns drops AGE and RESTARTS, not the pod names; the Containers tab at
/// 70 and 80 columns drops the container ID, not `POD (sandbox)`, RESTARTS or `CrashLoopBackOff` and its
/// countdown.
#[test]
fn narrow_terminals_drop_the_least_important_columns_first() {
    let mut a = app();
    let screen = render(&mut a, 40, 20);
    for name in ["crashloop-demo", "pullfail-demo", "nginx-demo"] {
        assert!(screen.contains(name), "{name} cut: {screen}");
    }
    assert!(screen.contains("CrashLoopBackOff"), "{screen}");
    assert!(!screen.contains("AGE"), "AGE goes first: {screen}");

    select(&mut a, "crashloop-demo");
    a.on_key(code(KeyCode::Enter));
    for (w, h) in [(70, 20), (80, 24)] {
        let screen = render(&mut a, w, h);
        assert!(screen.contains("POD (sandbox)"), "{w}: {screen}");
        let header = screen.lines().find(|l| l.contains("REASON")).unwrap();
        assert!(
            header.contains("RESTARTS") && header.contains("STARTED") && !header.contains(" ID "),
            "{w}: {header}"
        );
        let flaky = screen.lines().find(|l| l.contains("flaky (app)")).unwrap();
        assert!(flaky.contains("CrashLoopBackOff ("), "{w}: {flaky}");
    }
    // Wide enough, the ID is back.
    let screen = render(&mut a, 120, 30);
    assert!(
        screen
            .lines()
            .any(|l| l.contains("REASON") && l.contains(" ID ")),
        "{screen}"
    );
}

/// Issue 15, item 9: with follow off the view stays on the lines it showed while a fast log keeps coming, even
/// as the bounded buffer drops its oldest lines, and says how many new lines wait below; with wrap off, `>`
/// and `<` scroll sideways.
#[test]
fn a_paused_log_stays_put_and_counts_new_lines_and_scrolls_sideways() {
    let mut a = app();
    select(&mut a, "nginx-demo");
    a.on_key(key('l'));
    a.take_effects();
    a.logs.buffer = podtui::tui::logbuf::LogBuffer::with_limits(60, usize::MAX);
    let feed = |a: &mut App, from: usize, to: usize| {
        let mut asm = LineAssembler::new(StreamKind::Out, true);
        let text: String = (from..to)
            .map(|i| format!("line {i:03} {}\n", "abcdefgh".repeat(12)))
            .collect();
        let lines = asm.push(text.as_bytes());
        let generation = a.logs.generation;
        a.on_event(AppEvent::LogLines { generation, lines });
    };
    feed(&mut a, 0, 60);
    a.on_key(key('w'));
    render(&mut a, 80, 24);
    // Follow off: up one line from the end.
    a.on_key(code(KeyCode::Up));
    let first_line = |screen: &str| {
        screen
            .lines()
            .find_map(|l| l.find("line ").map(|at| l[at..at + 8].to_string()))
            .unwrap()
    };
    let before = render(&mut a, 80, 24);
    let top = first_line(&before);
    // 20 more lines: 20 of the oldest are dropped from the 60-line buffer.
    feed(&mut a, 60, 80);
    assert_eq!(a.logs.buffer.dropped(), 20);
    let after = render(&mut a, 80, 24);
    assert_eq!(
        first_line(&after),
        top,
        "the view moved:\n{before}\n{after}"
    );
    assert!(
        after.contains("20 new below"),
        "the 20 new lines wait: {after}"
    );
    // Sideways.
    assert!(after.contains(&format!("{top} abcdefgh")), "{after}");
    a.on_key(key('>'));
    let right = render(&mut a, 80, 24);
    assert!(
        !right.contains("line 0"),
        "scrolled past the start: {right}"
    );
    assert!(right.contains("←8"), "{right}");
    a.on_key(key('<'));
    assert_eq!(first_line(&render(&mut a, 80, 24)), top);
    // Back at the bottom, it follows again.
    a.on_key(key('G'));
    assert!(!render(&mut a, 80, 24).contains("new below"));
}

#[test]
fn a_debug_container_is_listed_as_the_pods_ephemeral_container() {
    use podtui::runtime::observe::Role;
    let mut snap = (*common::tui::fixture()).clone();
    let pod = snap.pods.iter_mut().find(|p| p.name == "web-demo").unwrap();
    let pod = Arc::make_mut(pod);
    let mut debug = pod.observed.containers[0].clone();
    debug.id = "0123456789abcdef".into();
    debug.role = Role::Ephemeral;
    debug.name = "debugger-k7x2q".into();
    pod.observed.ephemeral.push(debug);
    let mut a = App::new(
        common::tui::config(std::path::Path::new("/state"), None),
        Arc::new(snap.clone()),
    );
    a.now = common::tui::now(&snap);
    select(&mut a, "web-demo");
    a.on_key(code(KeyCode::Enter));
    let screen = render(&mut a, 120, 36);
    let line = screen
        .lines()
        .find(|l| l.contains("debugger-k7x2q"))
        .unwrap_or_else(|| panic!("no debug container row:\n{screen}"));
    assert!(
        line.contains("(ephemeral)") && line.contains("0123456789ab"),
        "{line}"
    );
    // It is not counted with the pod's containers.
    assert!(screen.contains("1/1"), "{screen}");
    // r refuses it: it is never restarted.
    a.on_key(key('G'));
    a.on_key(key('r'));
    assert!(a.confirm().is_none());
    assert!(a.message.as_ref().unwrap().text.contains("never restarted"));
}
