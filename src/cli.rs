//! The command line: `podtui [PATH]` (the TUI), `run`, `validate`, `get`, `logs`, `down`, `kubeconfig`.
//!
//! Every flag also reads a `PODTUI_*` environment variable (`--node-name` ⇒ `PODTUI_NODE_NAME`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Run a directory of Kubernetes Pod manifests on the local Docker engine, the way a kubelet runs static pods, with a live terminal UI.";

const LONG_ABOUT: &str = "\
Run a directory of Kubernetes Pod manifests on the local Docker engine, the way a kubelet runs static pods, \
with a live terminal UI.

Each pod gets a pause (sandbox) container that owns its network namespace; the pod's containers join it and \
share its emptyDir volumes. Names, labels and lifecycle follow the kubelet, with deliberate improvements: \
an invalid edit keeps the last good version running (and says so), duplicate pod names never flap (the first \
file wins), multi-document YAML and Lists are read, published ports bind to 127.0.0.1 unless told otherwise, \
crash-loop back-off is tunable, and an Always pull that fails offline falls back to a local image.";

/// podtui's command line.
#[derive(Debug, Parser)]
#[command(name = "podtui", version, about = ABOUT, long_about = LONG_ABOUT, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; without a subcommand podtui opens the terminal UI.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// The manifest directory or file for the terminal UI.
    #[arg(value_name = "PATH", env = "PODTUI_PATH")]
    pub path: Option<PathBuf>,

    /// Options of the engine the terminal UI runs.
    #[command(flatten)]
    pub engine: EngineArgs,

    /// Options shared by every command.
    #[command(flatten)]
    pub common: CommonArgs,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the engine without a UI: converge Docker to the manifests until Ctrl-C or SIGTERM (pods keep running).
    Run(RunArgs),
    /// Check manifests and print every error and warning (exit 0: no error, 1: errors, 2: usage).
    Validate(ValidateArgs),
    /// List pods with kubectl's columns.
    Get(GetArgs),
    /// Print the logs of a container of a pod, like kubectl logs.
    Logs(LogsArgs),
    /// Show a pod in detail, as kubectl describe pod prints it (containers, state, mounts, conditions, events).
    Describe(DescribeArgs),
    /// Run a command in a container of a pod, like kubectl exec.
    Exec(ExecArgs),
    /// Delete a pod: its manifest goes to the trash (restorable) and the engine terminates it, like kubectl delete.
    Delete(DeleteArgs),
    /// Show the CPU and memory the pods use, like kubectl top (needs the running engine: it samples them).
    Top(TopArgs),
    /// Terminate pods with their grace period and remove their volumes.
    Down(DownArgs),
    /// Forward local ports to a pod, like kubectl port-forward (until Ctrl-C).
    PortForward(PortForwardArgs),
    /// Start a temporary debug container in a pod's namespaces and open a shell in it, like kubectl debug.
    Debug(DebugArgs),
    /// Print the path of the kubeconfig that points kubectl at the playground's API (`export KUBECONFIG=$(podtui kubeconfig)`), or merge its context into ~/.kube/config.
    Kubeconfig(KubeconfigArgs),
}

/// Flags every command that reads manifests or talks to an engine shares.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Node name: suffix of every pod name and the owner label of every container [default: this host's name, lowercased].
    #[arg(long, global = true, env = "PODTUI_NODE_NAME", value_name = "NAME")]
    pub node_name: Option<String>,

    /// Where podtui keeps its lock, socket, logs, trash and backups [default: $XDG_STATE_HOME/podtui or ~/.local/state/podtui].
    #[arg(long, global = true, env = "PODTUI_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,

    /// How often the manifest directory is relisted in full, on top of inotify (kubelet's flag).
    #[arg(long, global = true, env = "PODTUI_FILE_CHECK_FREQUENCY", default_value = "20s", value_parser = parse_duration, value_name = "DURATION")]
    pub file_check_frequency: Duration,

    /// Also read pods from this URL (a Pod, or a List/PodList), polled every --http-check-frequency.
    #[arg(long, global = true, env = "PODTUI_MANIFEST_URL", value_name = "URL")]
    pub manifest_url: Option<String>,

    /// A header for --manifest-url requests, 'Key:Value' (repeatable; in the environment, separate with '|').
    #[arg(
        long,
        global = true,
        env = "PODTUI_MANIFEST_URL_HEADER",
        value_delimiter = '|',
        value_name = "KEY:VALUE"
    )]
    pub manifest_url_header: Vec<String>,

    /// How often --manifest-url is fetched.
    #[arg(long, global = true, env = "PODTUI_HTTP_CHECK_FREQUENCY", default_value = "20s", value_parser = parse_duration, value_name = "DURATION")]
    pub http_check_frequency: Duration,
}

/// Flags of the engine (`run` and the terminal UI).
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// Sandbox image. By default podtui builds its own pause image locally (no pull); any other image is pulled if absent.
    #[arg(long, env = "PODTUI_PAUSE_IMAGE", value_name = "IMAGE")]
    pub pause_image: Option<String>,

    /// Address hostPorts bind to when a port gives no hostIP (127.0.0.1: a playground does not open ports to the network).
    #[arg(
        long,
        env = "PODTUI_HOST_PORT_ADDRESS",
        default_value = "127.0.0.1",
        value_name = "IP"
    )]
    pub host_port_address: std::net::IpAddr,

    /// First crash-loop (and image pull) back-off delay; it doubles up to --backoff-max.
    #[arg(long, env = "PODTUI_BACKOFF_INITIAL", default_value = "10s", value_parser = parse_duration, value_name = "DURATION")]
    pub backoff_initial: Duration,

    /// Longest back-off delay.
    #[arg(long, env = "PODTUI_BACKOFF_MAX", default_value = "300s", value_parser = parse_duration, value_name = "DURATION")]
    pub backoff_max: Duration,

    /// Serve the Kubernetes API (for kubectl and k9s; see `podtui kubeconfig`).
    #[arg(long, env = "PODTUI_API", value_enum, default_value_t = ApiMode::On)]
    pub api: ApiMode,

    /// Where the Kubernetes API listens, loopback only. Port 0 picks a free port the first time and keeps it while it is free.
    #[arg(
        long,
        env = "PODTUI_API_ADDRESS",
        default_value = "127.0.0.1:0",
        value_name = "IP:PORT"
    )]
    pub api_address: std::net::SocketAddr,
}

/// `--api`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApiMode {
    /// Serve the API.
    On,
    /// Do not serve it.
    Off,
}

/// `podtui kubeconfig`.
#[derive(Debug, Args)]
pub struct KubeconfigArgs {
    /// Add or update the `podtui-<node>` context (cluster and user) in ~/.kube/config, after a backup; other contexts are left as they are.
    #[arg(long)]
    pub merge: bool,

    /// With --merge, also make it the current context.
    #[arg(long, requires = "merge")]
    pub set_current: bool,
}

/// `podtui run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Manifest directory or file.
    #[arg(
        value_name = "PATH",
        default_value = "./manifests",
        env = "PODTUI_PATH"
    )]
    pub path: PathBuf,

    /// Engine options.
    #[command(flatten)]
    pub engine: EngineArgs,

    /// Format of the event lines on stderr.
    #[arg(long, env = "PODTUI_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// On exit, terminate every pod of this engine instead of leaving them running.
    #[arg(long, env = "PODTUI_CLEANUP_ON_EXIT")]
    pub cleanup_on_exit: bool,
}

/// Event line format for `run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line.
    Json,
}

/// `podtui validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Manifest files or directories.
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = ValidateOutput::Text)]
    pub output: ValidateOutput,
}

/// `validate` output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateOutput {
    /// One line per finding.
    Text,
    /// The findings as JSON.
    Json,
}

/// `podtui get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// What to list (only `pods`, alias `pod`, `po`).
    #[arg(value_name = "RESOURCE", value_parser = ["pods", "pod", "po"])]
    pub resource: String,

    /// Manifest directory or file.
    #[arg(
        value_name = "PATH",
        default_value = "./manifests",
        env = "PODTUI_PATH"
    )]
    pub path: PathBuf,

    /// Output format.
    #[arg(long, short = 'o', value_enum)]
    pub output: Option<GetOutput>,
}

/// `podtui top`.
#[derive(Debug, Args)]
pub struct TopArgs {
    /// What to show (only `pods`, alias `pod`, `po`).
    #[arg(value_name = "RESOURCE", value_parser = ["pods", "pod", "po"])]
    pub resource: String,

    /// Manifest directory or file (for symmetry with `get`: the running engine's pods are shown).
    #[arg(
        value_name = "PATH",
        default_value = "./manifests",
        env = "PODTUI_PATH"
    )]
    pub path: PathBuf,

    /// One line per container (POD NAME CPU MEMORY), as `kubectl top pod --containers`.
    #[arg(long)]
    pub containers: bool,
}

/// `get` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GetOutput {
    /// More columns: IP, NODE, FILE.
    Wide,
    /// Pod objects with status, as JSON (a v1 List).
    Json,
    /// Pod objects with status, as YAML (a v1 List).
    Yaml,
}

/// `podtui logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Pod name, with or without the `-<node>` suffix; `namespace/name` for another namespace.
    #[arg(value_name = "POD")]
    pub pod: String,

    /// Manifest directory or file.
    #[arg(
        value_name = "PATH",
        default_value = "./manifests",
        env = "PODTUI_PATH"
    )]
    pub path: PathBuf,

    /// Container name (default: the only container, or the first one).
    #[arg(long, short = 'c')]
    pub container: Option<String>,

    /// Keep streaming new output.
    #[arg(long, short = 'f')]
    pub follow: bool,

    /// The previous (last exited) instance of the container.
    #[arg(long, short = 'p')]
    pub previous: bool,

    /// Prefix every line with its RFC 3339 timestamp.
    #[arg(long)]
    pub timestamps: bool,

    /// Only the last N lines.
    #[arg(long, value_name = "N")]
    pub tail: Option<u64>,
}

/// `podtui describe`.
#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// `POD [PATH]`, as kubectl also takes it: `pod POD`, `pod/POD`; POD with or without the `-<node>` suffix,
    /// `namespace/name` for another namespace.
    #[arg(value_name = "POD", num_args = 1..=3, required = true)]
    pub words: Vec<String>,
}

/// `podtui exec`.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Pod name, with or without the `-<node>` suffix; `namespace/name` for another namespace.
    #[arg(value_name = "POD")]
    pub pod: String,

    /// Container name (default: the `kubectl.kubernetes.io/default-container` annotation's, else the first).
    #[arg(long, short = 'c')]
    pub container: Option<String>,

    /// Pass stdin to the command.
    #[arg(long, short = 'i')]
    pub stdin: bool,

    /// Give the command a terminal (with -i and a terminal on stdin: raw mode until it exits).
    #[arg(long, short = 't')]
    pub tty: bool,

    /// The command and its arguments, after `--`.
    #[arg(last = true, value_name = "CMD", required = true)]
    pub command: Vec<String>,
}

/// `podtui delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// `POD... ` (also `pod POD`, `pod/POD`), each with or without the `-<node>` suffix, `namespace/name` for
    /// another namespace.
    #[arg(value_name = "POD", required = true)]
    pub pods: Vec<String>,

    /// Manifest directory or file.
    #[arg(
        long,
        value_name = "PATH",
        default_value = "./manifests",
        env = "PODTUI_PATH"
    )]
    pub path: PathBuf,
}

/// `podtui down`.
#[derive(Debug, Args)]
pub struct DownArgs {
    /// Manifest directory or file whose pods are terminated.
    #[arg(
        value_name = "PATH",
        default_value = "./manifests",
        env = "PODTUI_PATH"
    )]
    pub path: PathBuf,

    /// Terminate every pod of this node name, whatever its manifest (those this --state-dir's engine created).
    #[arg(long)]
    pub all: bool,
}

/// `podtui port-forward`.
#[derive(Debug, Args)]
pub struct PortForwardArgs {
    /// Pod name, with or without the `-<node>` suffix; `namespace/name` for another namespace.
    #[arg(value_name = "POD")]
    pub pod: String,

    /// `[LOCAL:]REMOTE`: `8080` (same port), `9000:80`, `:80` (a free local port).
    #[arg(value_name = "[LOCAL:]REMOTE", required = true)]
    pub ports: Vec<String>,

    /// The local address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub address: String,
}

/// `podtui debug`.
#[derive(Debug, Args)]
pub struct DebugArgs {
    /// Pod name, with or without the `-<node>` suffix; `namespace/name` for another namespace.
    #[arg(value_name = "POD")]
    pub pod: String,

    /// Share this container's process namespace (`kubectl debug --target`).
    #[arg(long, short = 'c', visible_alias = "target")]
    pub target: Option<String>,

    /// The debug container's image (must be local or pullable).
    #[arg(long, default_value = crate::debug::DEFAULT_IMAGE)]
    pub image: String,

    /// Keep the debug container after the shell exits.
    #[arg(long)]
    pub keep: bool,

    /// The command to run instead of a shell.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// Parses `500ms`, `20s`, `5m`, `1h`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (e.g. 500ms, 20s, 5m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (ms, s, m, h)")),
    };
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("20s").unwrap(), Duration::from_secs(20));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("3x").is_err());
    }

    #[test]
    fn tui_path_and_subcommands() {
        let c = Cli::try_parse_from(["podtui", "./m", "--node-name", "x"]).unwrap();
        assert_eq!(c.path.as_deref(), Some(std::path::Path::new("./m")));
        assert!(c.command.is_none());
        let c = Cli::try_parse_from(["podtui", "run", "m", "--backoff-initial", "1s"]).unwrap();
        assert!(
            matches!(c.command, Some(Command::Run(ref r)) if r.engine.backoff_initial == Duration::from_secs(1))
        );
        let c = Cli::try_parse_from(["podtui", "get", "pods", "-o", "wide", "--node-name", "n"])
            .unwrap();
        assert_eq!(c.common.node_name.as_deref(), Some("n"));
    }
}
