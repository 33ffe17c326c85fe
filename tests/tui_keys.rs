//! Key streams into the app: the keys produce the right engine requests and view changes. Requests that write
//! manifests are carried out by the engine's own function for them, on a temporary directory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use podtui::engine::{Request, request};
use podtui::tui::app::{App, AppEvent, Effect, Focus, Screen, Tab};
use podtui::tui::editor::ApplyPreview;
use podtui::tui::keymap::UiConfig;

use common::tui::{app, code, config, ctrl, fixture, key, now, render, select, typed};

/// Runs engine effects through the engine's own manifest writes, feeding the replies back.
fn carry_out(app: &mut App, state: &std::path::Path) -> Vec<Effect> {
    let effects = app.take_effects();
    for e in &effects {
        if let Effect::Engine(request) = e
            && let Some(reply) = request::write_manifest(request, "demo", state)
        {
            app.on_event(AppEvent::Replied {
                request: request.clone(),
                reply,
            });
        }
    }
    effects
}

#[test]
fn kill_asks_first_then_sends_the_command() {
    let mut a = app();
    select(&mut a, "crashloop-demo");
    let uid = a.selected_pod().unwrap().uid.clone();
    a.on_key(ctrl('k'));
    assert!(a.confirm().is_some());
    assert!(
        a.take_effects().is_empty(),
        "nothing happens before the answer"
    );
    a.on_key(key('n'));
    assert!(a.confirm().is_none());
    assert!(a.take_effects().is_empty());
    a.on_key(ctrl('k'));
    a.on_key(key('y'));
    assert_eq!(
        a.take_effects(),
        vec![Effect::Engine(Request::KillPod { uid })]
    );
}

#[test]
fn quit_keeps_pods_and_capital_q_asks_then_cleans_up() {
    let mut a = app();
    a.on_key(key('q'));
    assert_eq!(a.take_effects(), vec![Effect::Quit { cleanup: false }]);
    let mut a = app();
    a.on_key(key('Q'));
    assert!(a.confirm().unwrap().text.contains("terminate all 5 pod(s)"));
    a.on_key(code(KeyCode::Esc));
    assert!(a.take_effects().is_empty());
    a.on_key(key('Q'));
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.take_effects(), vec![Effect::Quit { cleanup: true }]);
}

/// An app whose web-demo pod comes from a real file in a temporary directory.
fn app_with_file() -> (
    App,
    tempfile::TempDir,
    tempfile::TempDir,
    std::path::PathBuf,
) {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let path = dir.path().join("web.yaml");
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: localhost/podtui-test/busybox:1\n";
    std::fs::write(&path, text).unwrap();
    let mut snap = (*fixture()).clone();
    for p in snap.pods.iter_mut() {
        if p.name == "web-demo" {
            let mut v = (**p).clone();
            v.source = path.display().to_string();
            *p = Arc::new(v);
        }
    }
    let snap = Arc::new(snap);
    let mut a = App::new(
        config(state.path(), Some(dir.path().to_path_buf())),
        snap.clone(),
    );
    a.now = now(&snap);
    (a, dir, state, path)
}

#[test]
fn edit_invalid_save_is_refused_and_the_text_kept_valid_save_writes_atomically_with_a_backup() {
    let (mut a, dir, state, path) = app_with_file();
    let original = std::fs::read_to_string(&path).unwrap();
    select(&mut a, "web-demo");
    a.on_key(key('e'));
    let ed = a.editor().expect("the editor opens");
    assert_eq!(ed.text(), original);
    assert_eq!(
        ed.preview,
        ApplyPreview::Changes {
            replaced: vec!["default/web-demo".into()],
            created: vec![],
            removed: vec![]
        },
        "the fixture's running UID differs from this file's, so saving would replace the pod"
    );

    // Break it: an uppercase letter in the container name (line 7).
    for _ in 0..6 {
        a.on_key(code(KeyCode::Down));
    }
    a.on_key(code(KeyCode::End));
    typed(&mut a, "X");
    let broken = a.editor().unwrap().text();
    assert!(broken.contains("name: webX"), "{broken}");
    assert_eq!(a.editor().unwrap().errors(), 1);
    a.on_key(ctrl('s'));
    let ed = a.editor().expect("still open after a refused save");
    assert!(
        ed.message.as_ref().unwrap().contains("save refused"),
        "{:?}",
        ed.message
    );
    assert_eq!(ed.text(), broken, "the text is kept");
    assert!(a.confirm().is_none());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        original,
        "nothing was written"
    );
    let screen = render(&mut a, 80, 24);
    assert!(
        screen.contains("line 7: spec.containers[0].name: \"webX\" is not a valid container name"),
        "{screen}"
    );

    // Fix it and save: the confirm shows what applying does, then the file is written.
    a.on_key(code(KeyCode::Backspace));
    typed(&mut a, "2");
    assert_eq!(a.editor().unwrap().errors(), 0);
    a.on_key(ctrl('s'));
    let c = a.confirm().expect("save asks first");
    assert!(
        c.text.contains(
            "replaces default/web-demo (new sandbox, init containers rerun, restarts reset)"
        ),
        "{}",
        c.text
    );
    a.on_key(key('y'));
    let effects = carry_out(&mut a, state.path());
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::Engine(Request::SaveManifest { .. })]
        ),
        "{effects:?}"
    );
    assert!(a.editor().is_none(), "a successful save closes the editor");
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(saved.contains("name: web2"));
    let backups: Vec<_> = std::fs::read_dir(state.path().join("backups"))
        .unwrap()
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(
        std::fs::read_to_string(backups[0].as_ref().unwrap().path()).unwrap(),
        original
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["web.yaml"], "no temporary file is left");
    assert!(a.message.as_ref().unwrap().text.starts_with("saved "));
}

#[test]
fn delete_moves_to_the_trash_and_u_restores() {
    let (mut a, _dir, state, path) = app_with_file();
    select(&mut a, "web-demo");
    a.on_key(ctrl('d'));
    assert!(a.confirm().unwrap().text.contains("trash"));
    a.on_key(key('y'));
    carry_out(&mut a, state.path());
    assert!(!path.exists());
    assert!(a.message.as_ref().unwrap().text.contains("press u"));
    a.on_key(key('u'));
    carry_out(&mut a, state.path());
    assert!(path.exists());
    assert!(a.message.as_ref().unwrap().text.starts_with("restored"));
}

#[test]
fn new_manifest_from_a_template() {
    let (mut a, dir, state, _) = app_with_file();
    a.on_key(key('n'));
    typed(&mut a, "api");
    a.on_key(code(KeyCode::Enter));
    let ed = a.editor().expect("the editor opens on the template");
    assert!(ed.new_file);
    assert_eq!(ed.path, dir.path().join("api.yaml"));
    assert_eq!(
        ed.preview,
        ApplyPreview::Changes {
            replaced: vec![],
            created: vec!["default/api-demo".into()],
            removed: vec![]
        }
    );
    a.on_key(ctrl('s'));
    assert!(a.confirm().unwrap().text.starts_with("Create "));
    a.on_key(key('y'));
    carry_out(&mut a, state.path());
    assert!(dir.path().join("api.yaml").exists());
    // An existing name is refused.
    a.on_key(key('n'));
    typed(&mut a, "api.yaml");
    a.on_key(code(KeyCode::Enter));
    assert!(a.editor().is_none());
    assert!(a.message.as_ref().unwrap().text.contains("exists already"));
}

#[test]
fn logs_keys_drive_the_stream() {
    let mut a = app();
    select(&mut a, "nginx-demo");
    a.on_key(key('l'));
    assert_eq!(a.screen, Screen::Detail);
    assert_eq!(a.tab, Tab::Logs);
    let nginx = a.detail_pod().unwrap().observed.instances("nginx")[0]
        .id
        .clone();
    let e = a.take_effects();
    assert_eq!(
        e,
        vec![Effect::FollowLogs {
            generation: 1,
            container_id: nginx.clone(),
            follow: true,
            timestamps: false
        }]
    );
    a.on_key(key('t'));
    assert_eq!(
        a.take_effects(),
        vec![Effect::FollowLogs {
            generation: 2,
            container_id: nginx.clone(),
            follow: true,
            timestamps: true
        }]
    );
    a.on_key(key('f'));
    assert!(!a.logs.follow);
    a.on_key(key('w'));
    assert!(!a.logs.wrap);
    // p: the previous instance; nginx has none, so the view says so and stops the stream.
    a.on_key(key('p'));
    assert_eq!(a.take_effects(), vec![Effect::StopLogs]);
    assert_eq!(
        a.logs.note.as_deref(),
        Some("container nginx has no previous instance")
    );
    a.on_key(key('p'));
    a.take_effects();
    // c: the next container, wrapping to the pause container.
    a.on_key(key('c'));
    let side = a.detail_pod().unwrap().observed.instances("log-truncator")[0]
        .id
        .clone();
    assert!(
        matches!(a.take_effects().as_slice(), [Effect::FollowLogs { container_id, .. }] if *container_id == side)
    );
    a.on_key(key('c'));
    let pause = a
        .detail_pod()
        .unwrap()
        .observed
        .latest_sandbox()
        .unwrap()
        .id
        .clone();
    assert!(
        matches!(a.take_effects().as_slice(), [Effect::FollowLogs { container_id, .. }] if *container_id == pause)
    );
    // Search with n/N.
    let lines = podtui::tui::logbuf::LineAssembler::new(podtui::tui::logbuf::StreamKind::Out, true)
        .push(b"alpha\nbeta\ngamma beta\n");
    let generation = a.logs.generation;
    a.on_event(AppEvent::LogLines { generation, lines });
    a.on_key(key('/'));
    typed(&mut a, "beta");
    a.on_key(code(KeyCode::Enter));
    let first = a.logs.matched;
    a.on_key(key('n'));
    assert_ne!(a.logs.matched, first);
    a.on_key(key('N'));
    assert_eq!(a.logs.matched, first);
    // ctrl-s saves the log to the state dir.
    a.on_key(ctrl('s'));
    assert!(
        matches!(a.take_effects().as_slice(), [Effect::SaveLogs { text, .. }] if text == "alpha\nbeta\ngamma beta\n")
    );
    // Leaving the tab stops the stream.
    a.on_key(code(KeyCode::Esc));
    assert_eq!(a.take_effects(), vec![Effect::StopLogs]);
    assert_eq!(a.screen, Screen::Pods);
}

#[test]
fn filter_sort_navigate_and_commands() {
    let mut a = app();
    a.on_key(key('/'));
    typed(&mut a, "crash");
    assert_eq!(a.pods.visible.len(), 1);
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.pods.filter, "crash");
    a.on_key(code(KeyCode::Esc));
    assert_eq!(a.pods.visible.len(), 5);
    a.on_key(key('G'));
    assert_eq!(a.selected_pod().unwrap().name, "web-demo");
    a.on_key(key('g'));
    assert_eq!(a.selected_pod().unwrap().name, "crashloop-demo");
    a.on_key(key(':'));
    typed(&mut a, "events");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.screen, Screen::Events);
    a.on_key(key(':'));
    typed(&mut a, "bogus");
    a.on_key(code(KeyCode::Enter));
    assert!(a.message.as_ref().unwrap().error);
    a.command("pods");
    assert_eq!(a.screen, Screen::Pods);
    a.on_key(key('?'));
    assert!(a.help().is_some());
    a.on_key(key('x'));
    assert!(a.help().is_none());
    // Tabs of the pod view, both ways.
    a.on_key(code(KeyCode::Enter));
    a.on_key(code(KeyCode::BackTab));
    assert_eq!(a.tab, Tab::Resources, "the last tab");
    a.on_key(code(KeyCode::BackTab));
    assert_eq!(a.tab, Tab::Yaml);
    a.on_key(code(KeyCode::Right));
    a.on_key(code(KeyCode::Right));
    assert_eq!(a.tab, Tab::Containers);
    // r on the sandbox row is refused with a reason; on an app container it asks.
    a.on_key(key('g'));
    a.on_key(key('r'));
    assert!(a.confirm().is_none());
    assert!(a.message.as_ref().unwrap().text.contains("pause container"));
    a.on_key(key('j'));
    a.on_key(key('r'));
    a.on_key(key('y'));
    assert!(
        matches!(a.take_effects().as_slice(), [Effect::Engine(Request::RestartContainer { container, .. })] if container == "flaky")
    );
}

#[test]
fn keys_are_remappable() {
    let cfg: UiConfig = serde_yaml::from_str("keys:\n  pods:\n    kill: ctrl-x\n").unwrap();
    let snap = fixture();
    let mut c = config(std::path::Path::new("/state"), None);
    c.keymap = cfg.keymap().unwrap();
    let mut a = App::new(c, snap.clone());
    a.now = now(&snap);
    a.on_key(ctrl('k'));
    assert!(a.confirm().is_none());
    a.on_key(ctrl('x'));
    assert!(a.confirm().is_some());
    // The help screen lists the new key.
    a.on_key(code(KeyCode::Esc));
    a.on_key(key('?'));
    let screen = render(&mut a, 160, 48);
    assert!(
        screen.contains("ctrl-x") && screen.contains("kill the pod's containers"),
        "{screen}"
    );
}

#[test]
fn mouse_click_selects_and_wheel_scrolls() {
    let mut a = app();
    render(&mut a, 160, 48);
    let rows = a.areas.pods_rows;
    let click = |row: u16| MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: rows.x + 2,
        row,
        modifiers: KeyModifiers::NONE,
    };
    a.on_mouse(click(rows.y + 2));
    assert_eq!(a.selected_pod().unwrap().name, "nginx-demo");
    a.on_mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 0,
        row: 0,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(a.selected_pod().unwrap().name, "pullfail-demo");
    // A second click on the selected row opens it.
    a.on_mouse(click(rows.y + 3));
    assert_eq!(a.screen, Screen::Detail);
    // With mouse capture off, clicks do nothing.
    a.on_key(key('M'));
    assert!(!a.mouse);
}

#[test]
fn mouse_click_in_the_manifests_pane_finds_the_file_below_an_invalid_one() {
    let mut a = app();
    let screen = render(&mut a, 160, 48);
    let rows = a.areas.manifest_rows;
    // broken.yaml is first and its errors take lines of their own: find crashloop.yaml's line on screen.
    let line = screen
        .lines()
        .position(|l| l.contains("crashloop.yaml") && l.contains("applied"))
        .expect(&screen) as u16;
    assert!(
        line > rows.y + 1,
        "broken.yaml's errors come first:\n{screen}"
    );
    a.on_mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: rows.x + 2,
        row: line,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(a.focus, Focus::Manifests);
    assert_eq!(a.files_pos.selected, 1, "crashloop.yaml is the second file");
    // A click on an error line selects the invalid file it belongs to.
    a.on_mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: rows.x + 2,
        row: line - 1,
        modifiers: KeyModifiers::NONE,
    });
    assert_eq!(a.files_pos.selected, 0);
}

#[test]
fn help_scrolls_and_any_other_key_closes_it() {
    let mut a = app();
    a.on_key(key('?'));
    let screen = render(&mut a, 80, 24);
    assert!(screen.contains("Help · lines 1-"), "{screen}");
    for _ in 0..3 {
        a.on_key(key('j'));
    }
    let screen = render(&mut a, 80, 24);
    assert!(
        a.help().is_some() && screen.contains("Help · lines 4-"),
        "{screen}"
    );
    a.on_key(key('x'));
    assert!(a.help().is_none());
}

#[test]
fn colon_help_shows_every_command_over_the_keys() {
    let mut a = app();
    a.on_key(key(':'));
    typed(&mut a, "help");
    a.on_key(code(KeyCode::Enter));
    let screen = render(&mut a, 160, 48);
    assert!(
        screen.contains("Commands (type : and the name)")
            && screen.contains(":help :h")
            && screen.contains(":mouse")
            && screen.contains(":mono")
            && screen.contains(":restore :undelete [id]")
            && screen.contains("Keys: pods"),
        "{screen}"
    );
    // Any key closes it, as `?`'s help.
    a.on_key(key('x'));
    assert!(a.help().is_none());
    assert!(!render(&mut a, 160, 48).contains("Commands (type"));
}

#[test]
fn log_search_is_taken_as_typed_cleared_by_ctrl_u_and_per_pod() {
    let mut a = app();
    select(&mut a, "nginx-demo");
    a.on_key(key('l'));
    let lines = podtui::tui::logbuf::LineAssembler::new(podtui::tui::logbuf::StreamKind::Out, true)
        .push(b"line 50\nline 5 end\n");
    let generation = a.logs.generation;
    a.on_event(AppEvent::LogLines { generation, lines });
    // "nope" is not found; then `line 5 ` (trailing space kept) matches `line 5 end`, not `line 50`,
    // and the "not found" goes.
    a.on_key(key('/'));
    typed(&mut a, "nope");
    a.on_key(code(KeyCode::Enter));
    assert!(a.current_message().is_some_and(|m| m.error));
    a.on_key(key('/'));
    a.on_key(ctrl('u'));
    typed(&mut a, "line 5 ");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.logs.search, "line 5 ");
    assert_eq!(a.logs.matched_index(), Some(1));
    assert!(
        a.current_message().is_none_or(|m| !m.error),
        "{:?}",
        a.message
    );
    // Another pod's logs start with no search.
    a.on_key(code(KeyCode::Esc));
    select(&mut a, "web-demo");
    a.on_key(key('l'));
    assert_eq!(a.logs.search, "");
}

/// Issue 15, item 12: the `:` prompt completes command names with tab (the candidates on the status line when
/// several fit) and remembers the commands run (↑ older, ↓ newer, past the newest an empty line).
#[test]
fn the_command_prompt_completes_names_and_remembers_commands() {
    let mut a = app();
    let input = |a: &App| a.prompt().map(|p| p.input.clone());
    a.on_key(key(':'));
    typed(&mut a, "ev");
    a.on_key(code(KeyCode::Up));
    assert_eq!(
        input(&a).as_deref(),
        Some("ev"),
        "no history: what was typed stays"
    );
    a.on_key(code(KeyCode::Tab));
    assert_eq!(input(&a).as_deref(), Some("events "));
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.screen, Screen::Events);

    a.on_key(key(':'));
    typed(&mut a, "m");
    a.on_key(code(KeyCode::Tab));
    assert_eq!(input(&a).as_deref(), Some("m"), "several start with m");
    let said = a.message.clone().unwrap().text;
    for name in ["manifests", "mouse", "mono"] {
        assert!(said.contains(name), "{said}");
    }
    typed(&mut a, "on");
    a.on_key(code(KeyCode::Tab));
    assert_eq!(input(&a).as_deref(), Some("mono "));
    a.on_key(ctrl('u'));
    typed(&mut a, "zz");
    a.on_key(code(KeyCode::Tab));
    assert_eq!(input(&a).as_deref(), Some("zz"));
    assert!(
        a.message
            .as_ref()
            .unwrap()
            .text
            .contains("unknown command :zz")
    );
    a.on_key(code(KeyCode::Esc));

    a.on_key(key(':'));
    typed(&mut a, "pods");
    a.on_key(code(KeyCode::Up));
    assert_eq!(input(&a).as_deref(), Some("events"), "the history so far");
    a.on_key(code(KeyCode::Down));
    assert_eq!(input(&a).as_deref(), Some(""));
    typed(&mut a, "pods");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.screen, Screen::Pods);
    assert_eq!(a.command_history, ["events", "pods"]);
    a.on_key(key(':'));
    a.on_key(code(KeyCode::Up));
    assert_eq!(input(&a).as_deref(), Some("pods"));
    a.on_key(code(KeyCode::Up));
    assert_eq!(input(&a).as_deref(), Some("events"));
    a.on_key(code(KeyCode::Up));
    assert_eq!(input(&a).as_deref(), Some("events"), "the oldest stays");
    a.on_key(code(KeyCode::Down));
    assert_eq!(input(&a).as_deref(), Some("pods"));
    a.on_key(code(KeyCode::Down));
    assert_eq!(input(&a).as_deref(), Some(""));
    a.on_key(code(KeyCode::Esc));
}

/// Issue 15, k9s expectations: `]`/`[` in the pod view go to the next/previous pod of the table (sorted and
/// filtered as it is), keeping the tab and wrapping around; `esc` returns to the table on that pod.
#[test]
fn brackets_step_through_the_pods_from_the_pod_view() {
    let mut a = app();
    select(&mut a, "crashloop-demo");
    a.on_key(code(KeyCode::Enter));
    a.on_key(key('v'));
    assert_eq!(a.tab, Tab::Events);
    let names: Vec<String> = a
        .pods
        .visible
        .iter()
        .map(|&i| a.snap.pods[i].name.clone())
        .collect();
    assert_eq!(names[0], "crashloop-demo");
    a.on_key(key(']'));
    assert_eq!(a.detail_pod().unwrap().name, names[1]);
    assert_eq!(a.tab, Tab::Events, "the tab is kept");
    a.on_key(key('['));
    a.on_key(key('['));
    assert_eq!(
        a.detail_pod().unwrap().name,
        *names.last().unwrap(),
        "wraps"
    );
    a.on_key(code(KeyCode::Esc));
    assert_eq!(a.screen, Screen::Pods);
    assert_eq!(&a.selected_pod().unwrap().name, names.last().unwrap());
}

#[test]
fn capital_d_debugs_the_selected_container_or_the_pods_first_app_container() {
    use podtui::forward::target::PodRef;
    let pod = PodRef {
        node: "demo".into(),
        namespace: "default".into(),
        name: "nginx-demo".into(),
    };
    let mut a = app();
    select(&mut a, "nginx-demo");
    a.on_key(key('D'));
    assert_eq!(
        a.take_effects(),
        [Effect::Debug {
            pod: pod.clone(),
            target: Some("nginx".into()),
            image: "busybox:1".into()
        }],
        "from the table: the first app container's processes"
    );
    // In the pod view: the selected row; the sandbox row shares no container's processes.
    a.on_key(code(KeyCode::Enter));
    a.on_key(key('G'));
    a.on_key(key('D'));
    assert_eq!(
        a.take_effects(),
        [Effect::Debug {
            pod: pod.clone(),
            target: Some("log-truncator".into()),
            image: "busybox:1".into()
        }]
    );
    a.on_key(key('g'));
    a.on_key(key('D'));
    assert_eq!(
        a.take_effects(),
        [Effect::Debug {
            pod,
            target: None,
            image: "busybox:1".into()
        }]
    );
}

#[test]
fn capital_f_proposes_the_containers_port_and_starts_a_forward() {
    use podtui::forward::PortPair;
    let mut a = app();
    select(&mut a, "nginx-demo");
    a.on_key(key('F'));
    let input = a.prompt().expect("F asks local:remote").input.clone();
    assert!(
        input == "80:80" || input == ":80",
        "the container port, the same local one when free: {input:?}"
    );
    a.on_key(ctrl('u'));
    typed(&mut a, "18080:80");
    a.on_key(code(KeyCode::Enter));
    match a.take_effects().as_slice() {
        [Effect::Forward { pod, pair }] => {
            assert_eq!(pod.name, "nginx-demo");
            assert_eq!(
                *pair,
                PortPair {
                    local: 18080,
                    remote: 80
                }
            );
        }
        other => panic!("{other:?}"),
    }
    // A pod that declares no port: an empty prompt, nothing made up.
    select(&mut a, "web-demo");
    a.on_key(key('F'));
    assert_eq!(a.prompt().unwrap().input, "");
}

/// The names of the table's rows, in order.
fn visible(a: &App) -> Vec<String> {
    a.pods
        .visible
        .iter()
        .map(|i| a.snap.pods[*i].name.clone())
        .collect()
}

/// Types `text` at a fresh `/` prompt and submits it.
fn filter(a: &mut App, text: &str) {
    a.on_key(key('/'));
    a.on_key(ctrl('u'));
    typed(a, text);
    a.on_key(code(KeyCode::Enter));
}

#[test]
fn the_filter_takes_regexes_an_inverse_labels_and_ips() {
    let mut snap = (*fixture()).clone();
    let web = snap.pods.iter_mut().find(|p| p.name == "web-demo").unwrap();
    Arc::make_mut(web).pod.metadata.labels = Some([("app".to_string(), "web".to_string())].into());
    let mut a = App::new(
        config(std::path::Path::new("/state"), None),
        Arc::new(snap.clone()),
    );
    a.now = now(&snap);
    filter(&mut a, "^(WEB|nginx)-");
    assert_eq!(
        visible(&a),
        ["nginx-demo", "web-demo"],
        "a case-insensitive regex"
    );
    filter(&mut a, "!running");
    assert_eq!(
        visible(&a),
        ["crashloop-demo", "job-demo", "pullfail-demo"],
        "! keeps what does not match"
    );
    filter(&mut a, "172\\.17\\.0\\.4$");
    assert_eq!(visible(&a), ["crashloop-demo"], "the pod IP");
    filter(&mut a, "-l app=web");
    assert_eq!(visible(&a), ["web-demo"], "a label selector");
    filter(&mut a, "-l app!=web");
    assert_eq!(visible(&a).len(), 4);
    filter(&mut a, "-l app in (web");
    assert!(visible(&a).is_empty());
    let screen = render(&mut a, 120, 30);
    assert!(
        screen.contains("filter /-l app in (web (-l app in (web:"),
        "{screen}"
    );
    filter(&mut a, "demo(");
    assert!(visible(&a).is_empty(), "not a regex: matched as typed");
    filter(&mut a, "demo");
    assert_eq!(visible(&a).len(), 5);
}

#[test]
fn shift_letters_sort_by_their_column_and_again_reverse_it() {
    let mut a = app();
    a.on_key(key('T'));
    assert_eq!(visible(&a).last().unwrap(), "crashloop-demo");
    assert!(
        a.message
            .as_ref()
            .unwrap()
            .text
            .contains("sorted by RESTARTS")
    );
    a.on_key(key('T'));
    assert_eq!(visible(&a)[0], "crashloop-demo");
    assert!(a.message.as_ref().unwrap().text.ends_with("reversed"));
    a.on_key(key('N'));
    assert_eq!(visible(&a)[0], "crashloop-demo", "NAME, not reversed");
    assert_eq!(visible(&a)[4], "web-demo");
    a.on_key(key('S'));
    assert_eq!(a.pods.sort, podtui::tui::app::SortKey::Status);
}

#[test]
fn space_marks_pods_and_kill_and_delete_act_on_all_marked() {
    let mut a = app();
    select(&mut a, "crashloop-demo");
    a.on_key(key(' '));
    assert_eq!(a.selected_pod().unwrap().name, "job-demo", "space moves on");
    a.on_key(key(' '));
    assert_eq!(a.pods.marked.len(), 2);
    let uids = a.pods.marked.clone();
    let screen = render(&mut a, 120, 30);
    assert!(
        screen.contains("2 marked") && screen.contains("* crashloop-demo"),
        "{screen}"
    );
    a.on_key(ctrl('k'));
    let q = a.confirm().unwrap().text.clone();
    assert!(
        q.contains("2 marked pod(s) (crashloop-demo, job-demo)"),
        "{q}"
    );
    a.on_key(key('y'));
    assert_eq!(
        a.take_effects(),
        uids.iter()
            .map(|uid| Effect::Engine(Request::KillPod { uid: uid.clone() }))
            .collect::<Vec<_>>()
    );
    assert!(a.pods.marked.is_empty(), "the marks go once done");

    // ctrl-space marks the span from the last mark to the cursor; ctrl-d deletes their files.
    select(&mut a, "crashloop-demo");
    a.on_key(key(' '));
    select(&mut a, "pullfail-demo");
    a.on_key(KeyEvent::new(KeyCode::Char(' '), KeyModifiers::CONTROL));
    assert_eq!(a.pods.marked.len(), 4);
    a.on_key(ctrl('d'));
    assert!(a.confirm().unwrap().text.contains("Delete 4 manifest(s)"));
    a.on_key(key('y'));
    let deletes = a
        .take_effects()
        .into_iter()
        .filter(|e| matches!(e, Effect::Engine(Request::DeleteManifest { .. })))
        .count();
    assert_eq!(deletes, 4);

    // esc clears the marks before it clears the filter.
    select(&mut a, "web-demo");
    a.on_key(key(' '));
    a.pods.filter = "demo".into();
    a.on_key(code(KeyCode::Esc));
    assert!(a.pods.marked.is_empty());
    assert_eq!(a.pods.filter, "demo");
    a.on_key(code(KeyCode::Esc));
    assert_eq!(a.pods.filter, "");
}

#[test]
fn ctrl_k_on_a_terminating_pod_is_a_force_kill() {
    let mut snap = (*fixture()).clone();
    let deadline = now(&snap) + std::time::Duration::from_secs(25);
    let web = snap.pods.iter_mut().find(|p| p.name == "web-demo").unwrap();
    Arc::make_mut(web).terminating = Some(deadline);
    let mut a = App::new(
        config(std::path::Path::new("/state"), None),
        Arc::new(snap.clone()),
    );
    a.now = now(&snap);
    select(&mut a, "web-demo");
    a.on_key(ctrl('k'));
    let q = a.confirm().unwrap().text.clone();
    assert!(q.starts_with("Force-kill web-demo now?"), "{q}");
    a.on_key(key('y'));
    assert!(matches!(
        a.take_effects().as_slice(),
        [Effect::Engine(Request::KillPod { .. })]
    ));
}

/// `d` on a pod opens its Describe tab: kubectl's `describe pod` text, with the events in full (wrapped, not
/// cut at the pane), searchable with `/`; `d` in the pod view goes to it from any tab, `enter` still opens the
/// Containers tab.
#[test]
fn d_describes_the_pod_as_kubectl_does() {
    let mut a = app();
    select(&mut a, "crashloop-demo");
    a.on_key(code(KeyCode::Enter));
    assert_eq!((&a.screen, a.tab), (&Screen::Detail, Tab::Containers));
    a.on_key(code(KeyCode::Esc));
    a.on_key(key('d'));
    assert_eq!((&a.screen, a.tab), (&Screen::Detail, Tab::Describe));
    let screen = render(&mut a, 160, 48);
    let name = a.selected_pod().map(|p| p.name.clone()).unwrap_or_default();
    assert!(
        screen.contains("kubectl describe pod")
            && screen.contains(&format!("Name:         {name}")),
        "{screen}"
    );
    assert!(
        screen.contains("Restart Count:") && screen.contains("Last State:"),
        "{screen}"
    );
    // The search finds the back-off event's reason in the text.
    a.on_key(key('/'));
    typed(&mut a, "BackOff");
    a.on_key(code(KeyCode::Enter));
    let screen = render(&mut a, 160, 48);
    assert!(
        screen.contains("/BackOff") && screen.contains("BackOff"),
        "{screen}"
    );
    assert!(
        a.message.as_ref().is_none_or(|m| !m.error),
        "{:?}",
        a.message
    );
    // From another tab, d comes back to it.
    a.on_key(key('y'));
    assert_eq!(a.tab, Tab::Yaml);
    a.on_key(key('d'));
    assert_eq!(a.tab, Tab::Describe);
}

/// `:theme light` paints the screen light; a skin that does not load leaves the theme and says why.
#[test]
fn theme_light_paints_the_background() {
    let mut a = app();
    a.on_key(key(':'));
    typed(&mut a, "theme light");
    a.on_key(code(KeyCode::Enter));
    assert_eq!(a.cfg.theme.name(), "light");
    let backend = ratatui::backend::TestBackend::new(80, 24);
    let mut term = ratatui::Terminal::new(backend).unwrap();
    term.draw(|f| podtui::tui::views::draw(f, &mut a)).unwrap();
    let buf = term.backend().buffer().clone();
    let light = podtui::tui::theme::Skin::light().background.unwrap();
    let painted = buf.content().iter().filter(|c| c.bg == light).count();
    assert!(
        painted > buf.content().len() * 9 / 10,
        "{painted} of {} cells on the light background",
        buf.content().len()
    );
}

/// Issue 15, defect 6: the Events tab cuts messages at the pane's width, so the selected event (the top row,
/// moved with j/k) is shown whole below the table, wrapped — at 80 columns too.
#[test]
fn the_selected_event_is_shown_whole() {
    let mut a = app();
    select(&mut a, "pullfail-demo");
    let uid = a.selected_pod().unwrap().uid.clone();
    let tail = "and this is the end of a long pull error that no table column can hold";
    let mut snap = (*a.snap).clone();
    let pod = snap.pods.iter_mut().find(|p| p.uid == uid).unwrap();
    let mut view = (**pod).clone();
    let mut e = view.events.last().unwrap().clone();
    e.reason = "Failed".into();
    e.message = format!(
        "Failed to pull image \"registry.example/app:1\": {} {tail}",
        "x".repeat(90)
    );
    e.last_seen += jiff::SignedDuration::from_secs(1);
    view.events.push(e);
    *pod = Arc::new(view);
    a.on_snapshot(Arc::new(snap));
    a.on_key(key('v'));
    assert_eq!(a.tab, Tab::Events);
    let screen = render(&mut a, 80, 24);
    let flat: String = screen
        .lines()
        .map(|l| l.trim_matches('│').trim())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(flat.contains(tail), "the whole message:\n{screen}");
    // j selects the next (older) event: it is the one shown whole then.
    a.on_key(key('j'));
    let screen = render(&mut a, 80, 24);
    assert!(!screen.contains("no table column can hold"), "{screen}");
}
