//! podtui: run a directory of Kubernetes Pod manifests on the local Docker engine, the way a kubelet runs static
//! pods, with a live terminal UI.
//!
//! The rooms, and what each module owns. `manifest`, `engine` and `runtime` never touch the terminal; the TUI
//! reaches the engine only through its handle.
//!
//! - [`cli`]: the command line (`podtui [PATH]`, `run`, `validate`, `get`, `logs`, `down`), parsed with clap.
//! - [`config`]: settings resolved from the command line and the environment (node name, state dir, sources).
//! - [`commands`]: one module per subcommand: `tui` (the engine under the UI), `run` (headless), `validate`,
//!   `get` (kubectl's columns), `logs`, `down` (terminate pods with their grace periods).
//! - [`manifest`]: from manifest text to desired state.
//!   - `parse`: YAML/JSON documents into validated pods (the only place that parses YAML); `lines`: where each field
//!     sits in its file; `schema`: which Pod fields exist (unknown-field warnings, fields podtui ignores).
//!   - `validate`: every rule on a decoded pod, one file per part (`metadata`, `spec`, `volumes`, `container`,
//!     `env`, `probes`, `security`); `finding`: the errors and warnings; `path`: field paths; `names`: name
//!     rules; `quantity`: resource quantities; `downward`: `$(VAR)` expansion and downward-API fields.
//!   - `identity`: namespace, node-suffixed name and UID of a static pod.
//!   - `files`: listing and reading a manifest directory; `http`: the URL source; `source`: the task that
//!     watches both; `state`: the desired state they add up to (conflicts, file statuses); `store`: validated,
//!     atomic, backed-up manifest writes.
//! - [`engine`]: makes Docker match the manifests.
//!   - `mod.rs`: the supervisor and `EngineHandle`; `connection`: the Docker connection and reconnects;
//!     `lease`: one engine per node name; `lock`: one engine per state dir; `request`: what users ask of the
//!     engine; `server`: the snapshot over the state dir's socket; `snapshot`: what the engine publishes.
//!   - `worker`: one task per pod (observe, plan, act, publish); `plan`: desired × observed → steps (pure);
//!     `backoff`: crash-loop and image-pull back-off; `spec`: a pod as Docker create bodies; `security`:
//!     resources and securityContext as Docker settings; `ports`: hostPorts open to the network;
//!     `termination_log`: termination-message files.
//!   - `probe`: running probes and hooks without tools in the image; `prober`: a pod's probe tasks and
//!     thresholds.
//!   - `status`: phase, container statuses, conditions, QoS and kubectl's columns; `pod_view`: the snapshot's
//!     `PodView` of one pod, built from status and the worker's memory; `events`: kubelet-style events.
//! - [`runtime`]: the container runtime: `docker` (bollard calls), `labels` (kubelet-compatible names and
//!   labels), `observe` (what Docker has for a pod, read back from labels), `pause` (the locally built pause
//!   image), `subpath` (subPath mounts that cannot escape their volume).
//! - [`tui`]: the terminal UI: `run` (the loop that owns the app), `app` (state and what keys do), `action`,
//!   `keymap` (keys as data), `input` (the pausable input thread), `terminal` (modes restored on every exit),
//!   `editor` (the built-in manifest editor), `logbuf` and `logstream` (bounded log view), `sanitize`
//!   (container output made safe to draw), `shell` (exec with a TTY), `theme`, and `views` (`pods`, `detail`,
//!   `logs`, `editor`: drawing).
//! - [`logging`]: tracing to `<state dir>/podtui.log`; [`state_dir`]: the private state dir; [`text`]: escaping
//!   what is shown on a terminal.
//!
//! `main.rs` is the binary: parse the command line, build the runtime, dispatch to [`commands`].

pub mod cli;
pub mod commands;
pub mod config;
pub mod engine;
pub mod logging;
pub mod manifest;
pub mod runtime;
pub mod state_dir;
pub mod text;
pub mod tui;
