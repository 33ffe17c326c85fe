//! podtui's benchmark suite (`bash scripts/bench.sh`): podtui against its baselines in the same run, alternating,
//! medians and ratios; the result goes to docs/performance.md with a description of the machine.
//!
//! `cargo bench --bench podtui -- [--quick] [--only NAME,...] [--out FILE]` (`--help` lists the names). This
//! file is the command line and the order of the scenarios; each scenario is a module of `scenarios/`, the
//! results and their markdown are `report/`, and the helpers come from the tests (tests/common, as `common`)
//! plus `support/` for what only benchmarks need.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;
use std::time::Duration;

use podtui::runtime::DockerRuntime;

#[path = "../tests/common/mod.rs"]
mod common;
mod report;
mod scenarios;
mod support;

use scenarios::{
    adaptive, api, cold, fifty, flood, forward, idle, pickup, podman, render, scale, startup,
};

/// `--help`.
const USAGE: &str = "\
podtui's benchmarks: podtui against its baselines; writes docs/performance.md

usage: cargo bench --bench podtui -- [--quick] [--only NAME,...] [--out FILE]
       (or bash scripts/bench.sh [FLAGS], which prepares Docker and the test images first)

  --quick          fewer repetitions and smaller sizes
  --only NAME,...  run only these benchmarks:
                     pickup  manifest written -> first container created
                     cold    cold start of the example pod vs the API floors and the docker CLI
                     startup exec -> first TUI frame, -> every example pod running
                     adopt   SIGKILL + restart with 50 running pods -> all adopted, API calls
                     adaptive 10/50/200 pods, adaptive start window vs fixed 4/8/16/32
                             (other sizes: PODTUI_BENCH_ADAPTIVE_SIZES=10,50)
                     fifty   many pods at once -> all running, and their teardown
                     idle    idle CPU and RSS with 20 pods (podtui run, then the TUI)
                     flood   log flood: key -> screen latency and RSS in the TUI
                     render  one frame of the pods table with 1000 pods
                     scale   many pods through podtui run and the TUI
                     api     kubectl against podtui's API (needs kubectl)
                     forward 1 GiB through podtui port-forward vs straight from the pod IP
                     podman  the example pod on podman: kube play, podtui on podman and on Docker
                             (needs PODTUI_BENCH_PODMAN_HOST; bash scripts/bench.sh sets podman up)
  --out FILE       where to write the report (default: docs/performance.md)
  --help           this text
";

/// The pod counts of the adaptive bench: `PODTUI_BENCH_ADAPTIVE_SIZES` (comma-separated), or 10, 50 and 200
/// (10 and 30 with `--quick`).
fn adaptive_sizes(quick: bool) -> Vec<usize> {
    match std::env::var("PODTUI_BENCH_ADAPTIVE_SIZES") {
        Ok(v) => v
            .split(',')
            .map(|n| {
                n.trim()
                    .parse()
                    .expect("PODTUI_BENCH_ADAPTIVE_SIZES: pod counts, like 10,50")
            })
            .collect(),
        Err(_) if quick => vec![10, 30],
        Err(_) => vec![10, 50, 200],
    }
}

/// The benchmark names `--only` takes, in the order they run.
const NAMES: [&str; 13] = [
    "pickup", "cold", "startup", "adopt", "adaptive", "fifty", "idle", "flood", "render", "scale",
    "api", "forward", "podman",
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it. Under test, only
    // check that the harness works on the pure render bench: the Docker benchmarks take half an hour and must not
    // run (or overwrite docs/performance.md) as part of the test suite.
    if !args.iter().any(|a| a == "--bench") {
        let bench = render::render(50);
        assert!(
            bench.rows.iter().all(|r| !r.samples.is_empty()),
            "render bench produced no samples"
        );
        eprintln!(
            "podtui bench: smoke-tested under cargo test; run the benchmarks with `bash scripts/bench.sh`"
        );
        return;
    }
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{USAGE}");
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let only: Option<Vec<String>> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.split(',').map(String::from).collect());
    let out_file = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/docs/performance.md").to_string());
    if let Some(unknown) = only.iter().flatten().find(|n| !NAMES.contains(&n.as_str())) {
        eprintln!(
            "unknown benchmark {unknown:?}; --only takes {}",
            NAMES.join(", ")
        );
        std::process::exit(2);
    }
    let want = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|x| x == name));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let started = jiff::Timestamp::now();
    let benches = rt.block_on(async {
        let docker = DockerRuntime::connect()
            .await
            .expect("a Docker engine (bash scripts/setup-docker.sh)");
        let pause = podtui::runtime::pause::ensure_pause_image(&docker)
            .await
            .unwrap();
        let mut benches = Vec::new();
        let reps = if quick { 5 } else { 15 };
        if want("pickup") {
            eprintln!("pickup latency…");
            benches.push(pickup::pickup(&docker, reps).await);
        }
        if want("cold") {
            eprintln!("cold start…");
            benches.push(cold::cold_start(&docker, &pause, if quick { 3 } else { 9 }).await);
        }
        if want("startup") {
            eprintln!("start-up…");
            benches.push(startup::startup(if quick { 3 } else { 9 }, 2).await);
        }
        if want("adopt") {
            eprintln!("adoption after SIGKILL…");
            benches
                .push(startup::adopt(if quick { 20 } else { 50 }, if quick { 1 } else { 3 }).await);
        }
        if want("adaptive") {
            let sizes = adaptive_sizes(quick);
            for n in sizes {
                eprintln!("adaptive start window, {n} pods…");
                // A 10-pod burst lasts a few seconds and varies by a tenth from run to run: more samples.
                let reps = match (quick, n) {
                    (true, _) => 1,
                    (false, ..=10) => 7,
                    (false, 200..) => 1,
                    (false, _) => 3,
                };
                benches.push(adaptive::adaptive(&docker, n, reps).await);
            }
        }
        if want("fifty") {
            eprintln!("50 pods…");
            let (up, down) = fifty::fifty(
                &docker,
                &pause,
                if quick { 1 } else { 3 },
                if quick { 20 } else { 50 },
            )
            .await;
            benches.push(up);
            benches.push(down);
        }
        if want("idle") {
            eprintln!("idle cost…");
            benches
                .push(idle::idle(&docker, Duration::from_secs(if quick { 15 } else { 60 })).await);
        }
        if want("flood") {
            eprintln!("log flood…");
            benches.push(flood::flood(Duration::from_secs(if quick { 10 } else { 30 })).await);
        }
        if want("render") {
            eprintln!("render…");
            benches.push(render::render(1000));
        }
        if want("scale") {
            eprintln!("scale…");
            benches.push(scale::scale(&docker, if quick { 60 } else { 200 }).await);
        }
        if want("api") {
            eprintln!("kubectl against the API…");
            benches.extend(api::benches(&docker, quick).await);
        }
        if want("forward") {
            eprintln!("port-forward throughput…");
            benches.push(forward::forward(&docker, if quick { 3 } else { 5 }).await);
        }
        if want("podman") {
            eprintln!("podman…");
            benches.push(podman::podman(&docker, if quick { 3 } else { 9 }).await);
        }
        benches
    });
    let text = report::report(&benches, quick, started);
    if let Some(dir) = Path::new(&out_file).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&out_file, &text).unwrap();
    println!("{text}");
    eprintln!("written to {out_file}");
}
