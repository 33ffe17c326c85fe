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
//! `probe tcp|http|grpc …` runs one probe from inside the pod's network namespace (see probe.rs) and exits 0 when it
//! passes, 1 when it fails; podtui runs it by Docker exec in the sandbox when the pod IP is not reachable from
//! where podtui runs. `--prepare-group GID` gives the prepared directories that group, setgid (fsGroup).
//!
//! `relay ADDR` connects to ADDR (inside the pod's network namespace) and copies stdin to it and it to stdout
//! passing stdin's EOF on as a write shutdown of the connection, until the connection's side ends:
//! podtui's port-forward runs it by Docker exec in the sandbox when the pod IP is not reachable from the host.
//!
//! It is compiled by podtui's build script as a static binary with no dependencies beyond std, and imported
//! into Docker as `localhost/podtui-pause:<version>` with `ENTRYPOINT ["/pause"]`.

mod probe;

use std::ffi::CString;
use std::net::SocketAddr;
use std::os::raw::{c_char, c_int};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

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
    fn chown(path: *const c_char, owner: u32, group: u32) -> c_int;
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

fn prepare_dir(dir: &str, group: Option<u32>) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("mkdir {dir}: {e}"))?;
    let mut mode = 0o777;
    if let Some(gid) = group {
        let c = CString::new(dir).map_err(|e| e.to_string())?;
        // SAFETY: a valid NUL-terminated path; u32::MAX leaves the owner unchanged.
        if unsafe { chown(c.as_ptr(), u32::MAX, gid) } != 0 {
            return Err(format!("chgrp {gid} {dir}: {}", std::io::Error::last_os_error()));
        }
        mode |= 0o2000;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {mode:o} {dir}: {e}"))
}

/// `probe tcp ADDR TIMEOUT_MS`, `probe http ADDR HOST PATH TIMEOUT_MS [HEADER: VALUE]...`,
/// `probe grpc ADDR SERVICE TIMEOUT_MS`: prints the outcome, exits 0 when the probe passes.
fn run_probe(args: &[String]) -> ! {
    let usage = "usage: pause probe tcp ADDR MS | http ADDR HOST PATH MS [H: V]... | grpc ADDR SERVICE MS";
    let fail = |msg: String| -> ! {
        println!("{msg}");
        std::process::exit(1)
    };
    let addr = |s: Option<&String>| -> SocketAddr {
        match s.and_then(|a| a.parse().ok()) {
            Some(a) => a,
            None => fail(format!("bad address; {usage}")),
        }
    };
    let ms = |s: Option<&String>| -> Duration { Duration::from_millis(s.and_then(|m| m.parse().ok()).unwrap_or(1000)) };
    match args.first().map(String::as_str) {
        Some("tcp") => match probe::tcp(addr(args.get(1)), ms(args.get(2))) {
            Ok(()) => {
                println!("tcp connect ok");
                std::process::exit(0)
            }
            Err(e) => fail(e),
        },
        Some("http") => {
            let headers: Vec<(String, String)> = args
                .iter()
                .skip(5)
                .filter_map(|h| h.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string())))
                .collect();
            let host = args.get(2).cloned().unwrap_or_default();
            let path = args.get(3).cloned().unwrap_or_else(|| "/".into());
            match probe::http_get(addr(args.get(1)), &host, &path, &headers, ms(args.get(4))) {
                Ok(code) if (200..400).contains(&code) => {
                    println!("HTTP {code}");
                    std::process::exit(0)
                }
                Ok(code) => fail(format!("HTTP probe failed with statuscode: {code}")),
                Err(e) => fail(e),
            }
        }
        Some("grpc") => {
            let a = addr(args.get(1));
            let service = args.get(2).cloned().unwrap_or_default();
            match probe::grpc_health(a, &a.to_string(), &service, ms(args.get(3))) {
                Ok(1) => {
                    println!("SERVING");
                    std::process::exit(0)
                }
                Ok(code) => fail(format!("service unhealthy (responded with {:?})", probe::status_name(code))),
                Err(e) => fail(e),
            }
        }
        _ => fail(usage.to_string()),
    }
}

/// `relay ADDR`: stdin → ADDR → stdout, stdin's EOF passed on; exits 0 when the connection has ended.
fn run_relay(args: &[String]) -> ! {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpStream};
    let Some(addr) = args.first().and_then(|a| a.parse::<SocketAddr>().ok()) else {
        eprintln!("usage: pause relay ADDR");
        std::process::exit(2)
    };
    let conn = match TcpStream::connect_timeout(&addr, Duration::from_secs(10)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("relay: connect {addr}: {e}");
            std::process::exit(1)
        }
    };
    let _ = conn.set_nodelay(true);
    let Ok(mut upstream) = conn.try_clone() else {
        std::process::exit(1)
    };
    let up = std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if upstream.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = upstream.shutdown(Shutdown::Write);
    });
    let mut down = conn;
    let mut stdout = std::io::stdout().lock();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match down.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if stdout.write_all(&buf[..n]).and_then(|()| stdout.flush()).is_err() {
                    break;
                }
            }
        }
    }
    drop(stdout);
    // The pod's side has closed: exiting ends the exec's output, which is how the end reaches podtui. (What the
    // client might still send after that is dropped: an exec's output cannot end while its process lives.)
    let _ = up;
    std::process::exit(0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("probe") {
        run_probe(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("relay") {
        run_relay(&args[1..]);
    }
    let mut i = 0;
    let mut prepare_only = false;
    let mut group: Option<u32> = None;
    let mut dirs: Vec<String> = Vec::new();
    while i < args.len() {
        match args[i].as_str() {
            "-v" | "--version" => {
                println!("podtui-pause {VERSION}");
                return;
            }
            "--prepare-dir" if i + 1 < args.len() => {
                dirs.push(args[i + 1].clone());
                i += 2;
            }
            "--prepare-group" if i + 1 < args.len() => {
                group = args[i + 1].parse().ok();
                i += 2;
            }
            "--prepare-only" => {
                prepare_only = true;
                i += 1;
            }
            other => {
                eprintln!(
                    "podtui-pause: unknown argument {other:?} (usage: pause [-v] [--prepare-dir DIR]... [--prepare-group GID] [--prepare-only] | pause probe …)"
                );
                std::process::exit(2);
            }
        }
    }
    for dir in &dirs {
        if let Err(e) = prepare_dir(dir, group) {
            eprintln!("podtui-pause: {e}");
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
