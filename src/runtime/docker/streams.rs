//! Docker's streaming calls in podtui's types: image pulls, container events, logs, exec sessions and stats.

use std::collections::HashMap;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{StartExecOptions, StartExecResults};
use bollard::models::{ContainerStatsResponse, EventMessage, ExecConfig};
use bollard::query_parameters::{
    AttachContainerOptions, CreateImageOptionsBuilder, EventsOptionsBuilder,
    LogsOptions as DockerLogsOptions, ResizeContainerTTYOptions, ResizeExecOptions,
    StatsOptionsBuilder,
};
use futures_util::StreamExt;

use super::convert::split_image;
use super::short;
use crate::runtime::error::{RtResult, RuntimeError, timed};
use crate::runtime::types::{
    EventAction, ExecSession, ExecSpec, LogChunk, LogOptions, OutputKind, PullEvent, RtStream,
    RuntimeEvent, StatsSample,
};

pub(super) fn pull(docker: &Docker, image: &str) -> RtStream<PullEvent> {
    let (repo, tag) = split_image(image);
    let opts = CreateImageOptionsBuilder::default()
        .from_image(&repo)
        .tag(&tag)
        .build();
    let op = format!("pull image {image}");
    Box::pin(docker.create_image(Some(opts), None, None).map(move |r| {
        r.map(|info| {
            let (current, total) = info
                .progress_detail
                .map(|d| {
                    (
                        d.current.unwrap_or(0).max(0) as u64,
                        d.total.unwrap_or(0).max(0) as u64,
                    )
                })
                .unwrap_or((0, 0));
            PullEvent {
                layer: info.id,
                status: info.status.unwrap_or_default(),
                current,
                total,
                error: info.error_detail.and_then(|d| d.message),
            }
        })
        .map_err(|e| RuntimeError::from_bollard(op.clone(), e))
    }))
}

/// The engine's action word in podtui's terms; Docker and podman name some differently.
fn action(word: &str, attrs: &HashMap<String, String>) -> EventAction {
    match word {
        "create" => EventAction::Create,
        "start" => EventAction::Start,
        "die" => EventAction::Die {
            exit_code: attrs.get("exitCode").and_then(|c| c.parse().ok()),
        },
        "oom" => EventAction::Oom,
        "destroy" | "remove" => EventAction::Destroy,
        other => EventAction::Other(other.to_string()),
    }
}

fn event(ev: EventMessage) -> Option<RuntimeEvent> {
    let actor = ev.actor?;
    let labels = actor.attributes.unwrap_or_default();
    Some(RuntimeEvent {
        container_id: actor.id.unwrap_or_default(),
        action: action(ev.action.as_deref().unwrap_or_default(), &labels),
        labels,
    })
}

pub(super) fn events(docker: &Docker, labels: &[String]) -> RtStream<RuntimeEvent> {
    let filters = HashMap::from([
        ("label", labels.to_vec()),
        ("type", vec!["container".to_string()]),
    ]);
    let opts = EventsOptionsBuilder::default().filters(&filters).build();
    Box::pin(docker.events(Some(opts)).filter_map(|r| async move {
        match r {
            Ok(ev) => event(ev).map(Ok),
            Err(e) => Some(Err(RuntimeError::from_bollard("watch Docker events", e))),
        }
    }))
}

fn chunk(out: LogOutput) -> LogChunk {
    match out {
        LogOutput::StdErr { message } => LogChunk {
            kind: OutputKind::Stderr,
            bytes: message,
        },
        LogOutput::Console { message } => LogChunk {
            kind: OutputKind::Console,
            bytes: message,
        },
        LogOutput::StdOut { message } | LogOutput::StdIn { message } => LogChunk {
            kind: OutputKind::Stdout,
            bytes: message,
        },
    }
}

pub(super) fn logs(docker: &Docker, id: &str, opts: LogOptions) -> RtStream<LogChunk> {
    let opts = DockerLogsOptions {
        follow: opts.follow,
        stdout: true,
        stderr: true,
        timestamps: opts.timestamps,
        tail: opts
            .tail
            .map(|t| t.to_string())
            .unwrap_or_else(|| "all".into()),
        since: opts
            .since
            .map(|t| i32::try_from(t.as_second()).unwrap_or(i32::MAX))
            .unwrap_or(0),
        ..Default::default()
    };
    let op = format!("read the logs of {}", short(id));
    Box::pin(docker.logs(id, Some(opts)).map(move |r| {
        r.map(chunk)
            .map_err(|e| RuntimeError::from_bollard(op.clone(), e))
    }))
}

pub(super) async fn exec(docker: &Docker, id: &str, spec: ExecSpec) -> RtResult<ExecSession> {
    let op = format!("exec {:?} in {}", spec.cmd, short(id));
    let config = ExecConfig {
        cmd: Some(spec.cmd),
        attach_stdin: Some(spec.stdin),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(spec.tty),
        env: (!spec.env.is_empty()).then_some(spec.env),
        console_size: spec
            .size
            .filter(|_| spec.tty)
            .map(|(cols, rows)| vec![rows as usize, cols as usize]),
        ..Default::default()
    };
    let created = timed(op.clone(), docker.create_exec(id, config)).await?;
    let started = timed(
        op.clone(),
        docker.start_exec(
            &created.id,
            Some(StartExecOptions {
                detach: false,
                tty: spec.tty,
                output_capacity: None,
            }),
        ),
    )
    .await?;
    let StartExecResults::Attached { output, input } = started else {
        return Err(RuntimeError::failed(op, "the exec did not attach"));
    };
    let exec_id = created.id;
    let output_op = op.clone();
    Ok(ExecSession {
        id: exec_id,
        output: Box::pin(output.map(move |r| {
            r.map(chunk)
                .map_err(|e| RuntimeError::from_bollard(output_op.clone(), e))
        })),
        input: spec.stdin.then_some(input),
    })
}

pub(super) async fn attach(docker: &Docker, id: &str, stdin: bool) -> RtResult<ExecSession> {
    let op = format!("attach to {}", short(id));
    let opts = AttachContainerOptions {
        stream: true,
        stdin,
        stdout: true,
        stderr: true,
        ..Default::default()
    };
    let attached = timed(op.clone(), docker.attach_container(id, Some(opts))).await?;
    Ok(ExecSession {
        id: id.to_string(),
        output: Box::pin(attached.output.map(move |r| {
            r.map(chunk)
                .map_err(|e| RuntimeError::from_bollard(op.clone(), e))
        })),
        input: stdin.then_some(attached.input),
    })
}

pub(super) async fn resize_tty(docker: &Docker, id: &str, size: (u16, u16)) -> RtResult<()> {
    timed(
        format!("resize the TTY of {}", short(id)),
        docker.resize_container_tty(
            id,
            ResizeContainerTTYOptions {
                w: i32::from(size.0),
                h: i32::from(size.1),
            },
        ),
    )
    .await
}

pub(super) async fn resize_exec(docker: &Docker, exec_id: &str, size: (u16, u16)) -> RtResult<()> {
    timed(
        "resize an exec",
        docker.resize_exec(
            exec_id,
            ResizeExecOptions {
                w: i32::from(size.0),
                h: i32::from(size.1),
            },
        ),
    )
    .await
}

pub(super) fn sample(s: ContainerStatsResponse) -> StatsSample {
    let cpu = s.cpu_stats.unwrap_or_default();
    let mem = s.memory_stats.unwrap_or_default();
    let stats = mem.stats.unwrap_or_default();
    // cgroup v2 names it inactive_file, v1 total_inactive_file.
    let inactive = stats
        .get("inactive_file")
        .or_else(|| stats.get("total_inactive_file"))
        .copied()
        .unwrap_or(0);
    let (rx, tx) = s
        .networks
        .unwrap_or_default()
        .values()
        .fold((0, 0), |(rx, tx), n| {
            (rx + n.rx_bytes.unwrap_or(0), tx + n.tx_bytes.unwrap_or(0))
        });
    StatsSample {
        time: s.read.as_deref().and_then(|t| t.parse().ok()),
        cpu_total_ns: cpu.cpu_usage.and_then(|u| u.total_usage).unwrap_or(0),
        system_cpu_ns: cpu.system_cpu_usage.unwrap_or(0),
        online_cpus: cpu.online_cpus.unwrap_or(0),
        memory_usage: mem.usage.unwrap_or(0),
        memory_inactive_file: inactive,
        memory_limit: mem.limit.unwrap_or(0),
        rx_bytes: rx,
        tx_bytes: tx,
    }
}

pub(super) fn stats(docker: &Docker, id: &str) -> RtStream<StatsSample> {
    let opts = StatsOptionsBuilder::default().stream(true).build();
    let op = format!("read the stats of {}", short(id));
    Box::pin(docker.stats(id, Some(opts)).map(move |r| {
        r.map(sample)
            .map_err(|e| RuntimeError::from_bollard(op.clone(), e))
    }))
}
