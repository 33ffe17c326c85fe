//! podtui: run a directory of Kubernetes Pod manifests on the local Docker engine, the way a kubelet runs static
//! pods, with a live terminal UI.
//!
//! The rooms, and what each module owns. `manifest`, `engine` and `runtime` never touch the terminal; the TUI
//! and the API reach the engine only through its handle; only `runtime` talks to the container engine.
//!
//! - [`cli`]: the command line (`podtui [PATH]`, `run`, `validate`, `get`, `logs`, `describe`, `exec`, `delete`,
//!   `top`, `down`, `port-forward`, `debug`, `kubeconfig`).
//! - [`config`]: settings resolved from the command line and the environment (node name, state dir, sources).
//! - [`commands`]: one module per subcommand: `tui` (the engine under the UI), `run` (headless), `validate`,
//!   `get` (kubectl's columns), `logs`, `describe`, `exec`, `delete` (the manifest to the trash), `top`, `down`
//!   (terminate pods with their grace periods), `port_forward`, `debug`, `kubeconfig`.
//! - [`manifest`]: from manifest text to desired state.
//!   - `bounds`: size, node, depth and alias bounds a text must pass before it is parsed; `job`: parsing on the
//!     blocking pool with a time budget.
//!   - `parse`: YAML/JSON documents into validated pods (the only place that parses YAML); `lines`: where each field
//!     sits in its file; `schema`: which Pod fields exist (unknown-field warnings, fields podtui ignores).
//!   - `validate`: every rule on a decoded pod, one file per part (`metadata`, `spec`, `volumes`, `container`,
//!     `env`, `probes`, `security`); `finding`: the errors and warnings; `path`: field paths; `names`: name and
//!     image-reference rules; `quantity`: resource quantities; `downward`: `$(VAR)` expansion, downward-API fields
//!     and the subPath rule; `host_path`: hostPath type checks.
//!   - `identity`: namespace, node-suffixed name and UID of a static pod.
//!   - `files`: listing and reading a manifest directory; `http`: the URL source; `source`: the task that
//!     watches both; `state`: the desired state they add up to (conflicts, file statuses); `store`: validated,
//!     atomic, backed-up manifest writes.
//! - [`engine`]: makes the container engine match the manifests.
//!   - `mod.rs`: the supervisor and `EngineHandle`; `request`: what users ask of the engine (one `Request`, one
//!     `Reply`, the manifest writes); `connection`: the engine connection and reconnects; `lease`: one engine per
//!     node name; `lock`: one engine per state dir; `server`: the snapshot over the state dir's socket;
//!     `snapshot`: what the engine publishes; `clock`: the engine's wall clock (paused in unit tests).
//!   - `worker`: one task per pod (observe, plan, act, publish), one file per phase (`sandbox`, `volumes`,
//!     `images`, `start`, `hooks`, `probes`, `termination`, `messages`); `plan`: desired × observed → steps
//!     (pure); `backoff`: crash-loop, image-pull and retry back-off; `create`: a pod's containers as create bodies
//!     (`volumes`, `sandbox`, `container`, `env`); `security`: resources and securityContext as engine settings;
//!     `ports`: hostPorts open to the network; `termination_log`: termination-message files.
//!   - `handler`: what probes and hooks do and running one once, without tools in the image; `prober`: a pod's
//!     probe tasks and thresholds.
//!   - `status`: phase, container statuses, conditions, QoS and kubectl's columns; `pod_view`: the snapshot's
//!     `PodView` of one pod, built from status and the worker's memory; `events`: kubelet-style events.
//! - [`runtime`]: the container runtime boundary: `ContainerRuntime` and podtui's own `types`, `docker` (the one
//!   implementation, over the Docker Engine API; `docker/podman` holds where podman's compatible API differs),
//!   `exec` (a command run to completion), `labels` (kubelet-compatible names and labels), `observe` (what the
//!   engine has for a pod, read back from labels), `pause` (the locally built pause image), `subpath` (subPath
//!   mounts that cannot escape their volume).
//! - [`api`]: the Kubernetes API kubectl and k9s use the playground through (HTTPS on loopback, served from the
//!   engine's snapshot and events); writes (`create`, `patch`/`strategic`, `delete`, via `write`) become manifest
//!   files through the engine's one write path, `exec` runs over WebSocket through the runtime's exec, `openapi`
//!   is what kubectl's validation asks for.
//! - [`tui`]: the terminal UI: `run` (the loop that owns the app), `action` (what a key asks for), `keymap`
//!   (keys as data), `input` (the pausable input thread), `terminal` (modes restored on every exit), `editor` (the
//!   built-in manifest editor's text and checks), `logbuf` and `logstream` (bounded log view), `sanitize`
//!   (container output made safe to draw), `shell` (exec with a TTY), `theme`.
//!   - `app`: the state and what keys do, as components: `mod.rs` (routing keys to the top modal or the screen,
//!     snapshots in), `modal` (the modal stack: confirm, prompt, help, editor), `commands` (the `:` command
//!     table), `effect` (effects out, results in), `list` (list cursors), one file per component: `pods`,
//!     `manifests`, `events`, `pod_view`, `logs`, `editor`.
//!   - `views`: drawing each component: `pods` (table, manifests, events), `detail` (the pod view's frame and
//!     text tabs), `containers`, `network`, `logs`, `editor`, `help`.
//! - [`forward`]: port-forwarding to a pod: `target` (the pod found by name from labels, per connection), `relay`
//!   (bytes straight to the pod IP, or through `/pause relay` over exec in the sandbox).
//! - [`debug`]: debug containers in a pod's namespaces (`podtui debug`), never managed by the engine.
//! - [`describe`]: `kubectl describe pod`'s text of a pod (the TUI's Describe tab, `podtui describe`).
//! - [`logging`]: tracing to `<state dir>/podtui.log`; [`state_dir`]: the private state dir; [`text`]: escaping
//!   what is shown on a terminal.
//!
//! `main.rs` is the binary: parse the command line, build the runtime, dispatch to [`commands`].

pub mod api;
pub mod cli;
pub mod commands;
pub mod config;
pub mod debug;
pub mod describe;
pub mod engine;
pub mod forward;
pub mod logging;
pub mod manifest;
pub mod runtime;
pub mod state_dir;
pub mod text;
pub mod tui;
