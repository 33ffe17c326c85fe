//! `podtui port-forward POD [LOCAL:]REMOTE... [--address 127.0.0.1]`, kubectl's syntax and output, headless
//! until Ctrl-C. The pod is found in Docker by its labels on every connection (no engine needs to answer: the
//! forward works under `podtui run`, the TUI, or after both have gone while the pod still runs), see
//! [`crate::forward`].

use std::net::IpAddr;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::cli::PortForwardArgs;
use crate::config::Common;
use crate::forward::{self, PortPair, Via, target::PodRef};
use crate::runtime::{DockerRuntime, Runtime};

/// Runs `port-forward`; returns the exit code.
pub async fn run(args: &PortForwardArgs, common: &Common) -> i32 {
    match port_forward(args, common).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("podtui port-forward: {e}");
            1
        }
    }
}

async fn port_forward(args: &PortForwardArgs, common: &Common) -> Result<(), String> {
    let pairs = args
        .ports
        .iter()
        .map(|p| p.parse::<PortPair>())
        .collect::<Result<Vec<_>, _>>()?;
    let address: IpAddr = args
        .address
        .parse()
        .map_err(|_| format!("--address {:?} is not an IP address", args.address))?;
    let rt: Runtime = Arc::new(
        DockerRuntime::connect()
            .await
            .map_err(|e| format!("cannot reach Docker: {e}"))?,
    );
    let pod = PodRef::parse(&args.pod, &common.node_name);
    let via = Via::from_env();
    let (tx, mut notes) = mpsc::unbounded_channel();
    let mut forwards = Vec::new();
    for pair in pairs {
        let f = forward::start(rt.clone(), pod.clone(), address, pair, via, tx.clone()).await?;
        println!("Forwarding from {} -> {}", f.local, f.remote);
        forwards.push(f);
    }
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            Some(note) = notes.recv() => eprintln!("{note}"),
        }
    }
    drop(forwards);
    Ok(())
}
