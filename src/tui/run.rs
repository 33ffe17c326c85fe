//! The UI's loop: one `select!` owns the [`App`]; it wakes for input, a new engine snapshot, a log batch, an
//! effect's result, or the 1 Hz tick (ages and countdowns), and redraws only then. Effects run here.

use std::io::stdout;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::app::{App, AppConfig, AppEvent, Effect, ForwardView, LOG_TAIL};
use super::input::Input;
use super::{logstream, shell, terminal, views};
use crate::engine::{EngineHandle, Request};
use crate::forward::{self, Forward, PortPair, Via, target::PodRef};

/// Runs the UI over a started engine until the user quits. Pods are left running unless the user chose `Q`.
pub async fn run(handle: EngineHandle, cfg: AppConfig) -> std::io::Result<()> {
    terminal::install_panic_hook();
    terminal::enter(cfg.mouse)?;
    let result = run_inner(handle, cfg).await;
    terminal::restore();
    result
}

struct Loop {
    handle: EngineHandle,
    app: App,
    input: Input,
    results_tx: mpsc::Sender<AppEvent>,
    log_task: Option<JoinHandle<()>>,
    key_tx: mpsc::UnboundedSender<Event>,
    /// The running port-forwards by ID (dropping one stops it).
    forwards: Vec<(u64, Forward)>,
    next_forward: u64,
    notes_tx: mpsc::UnboundedSender<String>,
}

async fn run_inner(handle: EngineHandle, cfg: AppConfig) -> std::io::Result<()> {
    let mut term = Terminal::new(CrosstermBackend::new(stdout()))?;
    term.clear()?;
    let (key_tx, mut key_rx) = mpsc::unbounded_channel();
    let input = Input::start(key_tx.clone());
    let (results_tx, mut results_rx) = mpsc::channel::<AppEvent>(8);
    let mut snaps = handle.snapshot.clone();
    let mut stats = handle.stats.clone();
    let mut stats_open = true;
    let first = snaps.borrow_and_update().clone();
    let (notes_tx, mut notes_rx) = mpsc::unbounded_channel();
    let mut l = Loop {
        app: App::new(cfg, first),
        handle,
        input,
        results_tx,
        log_task: None,
        key_tx,
        forwards: Vec::new(),
        next_forward: 1,
        notes_tx,
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut sigterm, mut sighup) = (
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?,
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?,
    );
    let mut dirty = true;
    let mut last_draw = Instant::now() - Duration::from_secs(1);
    let mut mouse = l.app.mouse;
    let mut first_frame = std::env::var_os("PODTUI_FIRST_FRAME_FILE");
    // Log floods redraw at most ~30 times a second; everything else as soon as that allows. The wait is a
    // branch of the select (not a sleep before it), so keys and log batches are taken while it runs.
    const FRAME: Duration = Duration::from_millis(30);
    loop {
        if dirty && last_draw.elapsed() >= FRAME {
            l.app.now = Timestamp::now();
            term.draw(|f| views::draw(f, &mut l.app))?;
            last_draw = Instant::now();
            dirty = false;
            if let Some(path) = first_frame.take() {
                mark_first_frame(&path);
            }
        }
        let next_frame = tokio::time::Instant::from_std(last_draw + FRAME);
        tokio::select! {
            // Keys first, then the frame deadline, so neither waits behind a flood of log batches.
            biased;
            ev = key_rx.recv() => {
                let Some(ev) = ev else { break };
                l.app.now = Timestamp::now();
                match ev {
                    Event::Key(k) => {
                        l.app.on_key(k);
                        dirty = true;
                    }
                    // Pointer motion changes nothing on screen: no redraw for it.
                    Event::Mouse(m) if m.kind == crossterm::event::MouseEventKind::Moved => {}
                    Event::Mouse(m) => {
                        l.app.on_mouse(m);
                        dirty = true;
                    }
                    Event::Resize(..) => {
                        term.autoresize()?;
                        dirty = true;
                    }
                    _ => {}
                }
            }
            _ = tokio::time::sleep_until(next_frame), if dirty => {}
            changed = snaps.changed() => {
                if changed.is_err() { break; }
                let s = snaps.borrow_and_update().clone();
                l.app.on_snapshot(s);
                dirty = true;
            }
            Some(ev) = results_rx.recv() => {
                l.app.on_event(ev);
                dirty = true;
            }
            Some(note) = notes_rx.recv() => {
                l.app.on_event(AppEvent::ForwardNote(note));
                dirty = true;
            }
            changed = stats.changed(), if stats_open => {
                stats_open = changed.is_ok();
                let v = stats.borrow_and_update().clone();
                l.app.on_stats(v);
                dirty = true;
            }
            // The clock's redraw (ages, countdowns) only when nothing else drew in the last second: with live
            // stats a frame comes each second anyway, and one is enough.
            _ = tick.tick() => dirty |= last_draw.elapsed() >= Duration::from_millis(900),
            _ = sigterm.recv() => break,
            _ = sighup.recv() => break,
        }
        if l.app.mouse != mouse {
            mouse = l.app.mouse;
            terminal::set_mouse(mouse);
        }
        l.app.want_stats();
        let (quit, redraw) = l.run_effects(&mut term).await?;
        dirty |= redraw;
        if let Some(cleanup) = quit {
            l.stop_logs();
            if cleanup {
                return l.quit_with_cleanup(&mut term).await;
            }
            break;
        }
    }
    l.stop_logs();
    l.handle.shutdown(false).await;
    Ok(())
}

type Term = Terminal<CrosstermBackend<std::io::Stdout>>;

impl Loop {
    fn stop_logs(&mut self) {
        if let Some(t) = self.log_task.take() {
            t.abort();
        }
    }

    /// Runs the app's queued effects but quitting; returns the quit asked for (with cleanup or not) and whether
    /// the screen must be redrawn.
    async fn run_effects(&mut self, term: &mut Term) -> std::io::Result<(Option<bool>, bool)> {
        let mut quit = None;
        let mut redraw = false;
        for effect in self.app.take_effects() {
            if let Effect::Quit { cleanup } = effect {
                quit = Some(cleanup);
                continue;
            }
            redraw |= self.run_effect(effect, term).await?;
        }
        Ok((quit, redraw))
    }

    /// Runs one effect; returns whether the screen must be redrawn.
    async fn run_effect(&mut self, effect: Effect, term: &mut Term) -> std::io::Result<bool> {
        match effect {
            Effect::Engine(req) => self.engine(req),
            Effect::FollowLogs {
                generation,
                container_id,
                follow,
                timestamps,
            } => {
                self.stop_logs();
                let rt = self.handle.runtime.borrow().clone();
                match rt {
                    Some(rt) => {
                        let colors = !self.app.cfg.theme.mono;
                        let tx = self.results_tx.clone();
                        let req = logstream::LogRequest {
                            id: container_id,
                            generation,
                            follow,
                            timestamps,
                            tail: LOG_TAIL,
                            colors,
                        };
                        self.log_task = Some(tokio::spawn(logstream::stream(rt, req, tx)));
                    }
                    None => self.app.on_event(AppEvent::LogEnded {
                        generation,
                        error: Some("Docker is not connected".into()),
                    }),
                }
            }
            Effect::StopLogs => self.stop_logs(),
            Effect::Shell {
                container_id,
                title,
            } => {
                let rt = self.handle.runtime.borrow().clone();
                let Some(rt) = rt else {
                    self.app
                        .on_event(AppEvent::ShellEnded(Err("Docker is not connected".into())));
                    return Ok(true);
                };
                self.input.pause();
                terminal::suspend(true);
                println!("\r\npodtui: shell in {title} (exit the shell to come back)\r");
                let result = shell::run_shell(&*rt, &container_id).await;
                terminal::resume(self.app.mouse)?;
                term.clear()?;
                self.input.resume();
                match result {
                    Ok((msg, leftover)) => {
                        self.replay(&leftover);
                        self.app.on_event(AppEvent::ShellEnded(Ok(msg)));
                    }
                    Err(e) => self.app.on_event(AppEvent::ShellEnded(Err(e))),
                }
            }
            Effect::Debug { pod, target, image } => {
                let rt = self.handle.runtime.borrow().clone();
                let Some(rt) = rt else {
                    self.app
                        .on_event(AppEvent::ShellEnded(Err("Docker is not connected".into())));
                    return Ok(true);
                };
                self.input.pause();
                terminal::suspend(true);
                println!("\r\npodtui: starting a debug container ({image}) in pod {pod}…\r");
                let spec = crate::debug::DebugSpec::new(pod, target, image);
                let result = shell::run_debug_shell(&*rt, &spec).await;
                terminal::resume(self.app.mouse)?;
                term.clear()?;
                self.input.resume();
                match result {
                    Ok((msg, leftover)) => {
                        self.replay(&leftover);
                        self.app.on_event(AppEvent::ShellEnded(Ok(msg)));
                    }
                    Err(e) => self.app.on_event(AppEvent::ShellEnded(Err(e))),
                }
            }
            Effect::Forward { pod, pair } => {
                let started = self.start_forward(pod, pair).await;
                self.app.on_event(AppEvent::ForwardStarted(started));
            }
            Effect::StopForward { id } => self.forwards.retain(|(i, _)| *i != id),
            Effect::ExternalEditor { path, text } => {
                self.input.pause();
                terminal::suspend(false);
                let result = external_edit(&self.app.cfg.state_dir, &path, &text).await;
                terminal::resume(self.app.mouse)?;
                term.clear()?;
                self.input.resume();
                self.app
                    .on_event(AppEvent::ExternalEdited { path, text: result });
            }
            Effect::SaveLogs { path, text } => {
                let r = crate::state_dir::write_file(&path, text.as_bytes());
                self.app.on_event(match r {
                    Ok(()) => {
                        AppEvent::Message(format!("saved the log to {}", path.display()), false)
                    }
                    Err(e) => {
                        AppEvent::Message(format!("cannot save {}: {e}", path.display()), true)
                    }
                });
            }
            Effect::Quit { .. } => {}
        }
        Ok(true)
    }

    /// Starts a forward to `pod` on 127.0.0.1 (the pod is looked up in Docker, which gets 5 s to answer).
    async fn start_forward(&mut self, pod: PodRef, pair: PortPair) -> Result<ForwardView, String> {
        let rt = self.handle.runtime.borrow().clone();
        let rt = rt.ok_or("Docker is not connected")?;
        let address = std::net::IpAddr::from([127, 0, 0, 1]);
        let start = forward::start(
            rt,
            pod,
            address,
            pair,
            Via::from_env(),
            self.notes_tx.clone(),
        );
        let f = tokio::time::timeout(Duration::from_secs(5), start)
            .await
            .map_err(|_| "Docker did not answer within 5 s".to_string())??;
        let id = self.next_forward;
        self.next_forward += 1;
        let view = ForwardView {
            id,
            pod: f.pod.clone(),
            local: f.local,
            remote: f.remote,
            counters: f.counters.clone(),
        };
        self.forwards.push((id, f));
        Ok(view)
    }

    /// Keys typed after a shell ended go to the UI.
    fn replay(&self, bytes: &[u8]) {
        for b in String::from_utf8_lossy(bytes).chars() {
            let code = match b {
                '\r' | '\n' => KeyCode::Enter,
                '\u{1b}' => KeyCode::Esc,
                '\u{7f}' => KeyCode::Backspace,
                c if c.is_control() => continue,
                c => KeyCode::Char(c),
            };
            let _ = self
                .key_tx
                .send(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        }
    }

    fn engine(&mut self, request: Request) {
        let requests = self.handle.requests();
        let results = self.results_tx.clone();
        tokio::spawn(async move {
            let reply = requests.send(request.clone()).await;
            let _ = results.send(AppEvent::Replied { request, reply }).await;
        });
    }

    /// `Q`: terminates every pod, showing them go, then quits.
    async fn quit_with_cleanup(self, term: &mut Term) -> std::io::Result<()> {
        let Loop {
            handle, mut app, ..
        } = self;
        let mut snaps = handle.snapshot.clone();
        app.message = Some(super::app::Message {
            text: "terminating every pod (each with its grace period)…".into(),
            error: false,
            at: Timestamp::now(),
        });
        let shutdown = handle.shutdown(true);
        tokio::pin!(shutdown);
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            app.now = Timestamp::now();
            if let Some(m) = app.message.as_mut() {
                m.at = app.now;
            }
            term.draw(|f| views::draw(f, &mut app))?;
            tokio::select! {
                _ = &mut shutdown => break,
                changed = snaps.changed() => {
                    if changed.is_ok() {
                        let s = snaps.borrow_and_update().clone();
                        app.on_snapshot(s);
                    }
                }
                _ = tick.tick() => {}
            }
        }
        Ok(())
    }
}

/// Edits `text` in $VISUAL / $EDITOR (vi when neither is set) on a private copy in the state dir; returns the
/// new text.
async fn external_edit(
    state_dir: &std::path::Path,
    path: &std::path::Path,
    text: &str,
) -> Result<String, String> {
    let dir = state_dir.join("edit");
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "manifest.yaml".into());
    let copy: PathBuf = dir.join(name);
    crate::state_dir::write_file(&copy, text.as_bytes()).map_err(|e| e.to_string())?;
    let editor = std::env::var("VISUAL")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| {
            std::env::var("EDITOR")
                .ok()
                .filter(|v| !v.trim().is_empty())
        })
        .unwrap_or_else(|| "vi".into());
    let copy2 = copy.clone();
    let status = tokio::task::spawn_blocking(move || {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{editor} \"$1\""))
            .arg("podtui-editor")
            .arg(&copy2)
            .status()
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| format!("cannot run the editor: {e}"))?;
    if !status.success() {
        return Err(format!(
            "the editor exited with {status}; the manifest is unchanged (your text is in {})",
            copy.display()
        ));
    }
    std::fs::read_to_string(&copy).map_err(|e| e.to_string())
}

/// Settings for [`run`] from the config file and the environment.
pub fn app_config(
    node: &str,
    state_dir: &std::path::Path,
    watch: Option<PathBuf>,
) -> Result<AppConfig, String> {
    let path = crate::config::default_config_dir().join("config.yaml");
    let ui = super::keymap::UiConfig::load(&path)?;
    let keymap = ui
        .keymap()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(AppConfig {
        node: node.to_string(),
        state_dir: state_dir.to_path_buf(),
        watch_path: watch,
        keymap,
        theme: match ui.theme.as_deref() {
            None | Some("mono") => super::theme::Theme::detect(ui.theme.is_some()),
            Some(name) => super::theme::Theme::with_skin(
                super::theme::Skin::load(name, &crate::config::default_config_dir().join("skins"))
                    .map_err(|e| format!("{}: theme: {e}", path.display()))?,
                false,
            ),
        },
        mouse: ui.mouse.unwrap_or(true),
        external_editor: ui.editor.as_deref() == Some("external"),
        debug_image: ui
            .debug_image
            .clone()
            .unwrap_or_else(|| crate::debug::DEFAULT_IMAGE.into()),
        api: None,
    })
}

/// `PODTUI_FIRST_FRAME_FILE`: the wall-clock time of the first frame drawn (Unix nanoseconds), for the start-up
/// benchmark.
fn mark_first_frame(path: &std::ffi::OsStr) {
    let nanos = Timestamp::now().as_nanosecond();
    let _ = std::fs::write(path, nanos.to_string());
}
