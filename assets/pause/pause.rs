//! podtui's pause program: PID 1 of every pod sandbox.
//!
//! It holds the pod's network and IPC namespaces open, reaps zombies (so processes that get re-parented to it
//! never pile up), and exits 0 on SIGTERM or SIGINT. `-v` prints its version.
//!
//! Before pausing, `--prepare-dir DIR` (repeatable) creates DIR if needed and makes it mode 0777: podtui mounts
//! every emptyDir volume (and every subPath inside one) into the sandbox so that they are ready, world-writable
//! as Kubernetes makes them, before any container of the pod starts. With `--prepare-only` it exits 0 after
//! preparing (podtui runs it that way as a one-shot helper when the sandbox uses another pause image).
//!
//! It is compiled by podtui's build script as a static binary with no dependencies beyond std, and imported
//! into Docker as `localhost/podtui-pause:<version>` with `ENTRYPOINT ["/pause"]`.

use std::os::raw::c_int;
use std::os::unix::fs::PermissionsExt;

const VERSION: &str = env!("PODTUI_PAUSE_VERSION");

const SIGINT: c_int = 2;
const SIGTERM: c_int = 15;
const SIGCHLD: c_int = 17;
const WNOHANG: c_int = 1;

unsafe extern "C" {
    fn signal(sig: c_int, handler: extern "C" fn(c_int)) -> usize;
    fn pause() -> c_int;
    fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    fn _exit(code: c_int) -> !;
    fn getpid() -> c_int;
}

extern "C" fn on_terminate(_: c_int) {
    // SAFETY: _exit is async-signal-safe.
    unsafe { _exit(0) }
}

extern "C" fn on_child(_: c_int) {
    // SAFETY: waitpid is async-signal-safe; reap every exited child without blocking.
    unsafe {
        let mut status: c_int = 0;
        while waitpid(-1, &mut status, WNOHANG) > 0 {}
    }
}

fn prepare_dir(dir: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("mkdir {dir}: {e}"))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777))
        .map_err(|e| format!("chmod 0777 {dir}: {e}"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    let mut prepare_only = false;
    while i < args.len() {
        match args[i].as_str() {
            "-v" | "--version" => {
                println!("podtui-pause {VERSION}");
                return;
            }
            "--prepare-dir" if i + 1 < args.len() => {
                if let Err(e) = prepare_dir(&args[i + 1]) {
                    eprintln!("podtui-pause: {e}");
                }
                i += 2;
            }
            "--prepare-only" => {
                prepare_only = true;
                i += 1;
            }
            other => {
                eprintln!("podtui-pause: unknown argument {other:?} (usage: pause [-v] [--prepare-dir DIR]... [--prepare-only])");
                std::process::exit(2);
            }
        }
    }
    if prepare_only {
        return;
    }
    // SAFETY: installing plain C signal handlers that only call async-signal-safe functions.
    unsafe {
        signal(SIGINT, on_terminate);
        signal(SIGTERM, on_terminate);
        signal(SIGCHLD, on_child);
        if getpid() != 1 {
            eprintln!("podtui-pause: warning: not running as PID 1");
        }
    }
    loop {
        // SAFETY: pause() only blocks until a signal arrives.
        unsafe {
            pause();
        }
    }
}
