//! `pods/{name}/log`: which container instance a request reads (the kubelet's rules and error messages), the
//! options kubectl and k9s send, and the one place the API reads logs from the container runtime
//! ([`LogSource`]; [`RuntimeLogs`] reads through the engine's runtime connection).

use std::pin::Pin;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use tokio::sync::watch;

use super::request::Query;
use super::status::ApiStatus;
use crate::runtime::{LogOptions as RuntimeLogOptions, Runtime};

/// The annotation naming the container `kubectl logs` and `exec` default to.
pub const DEFAULT_CONTAINER_ANNOTATION: &str = "kubectl.kubernetes.io/default-container";

/// A log stream: chunks of the container's output, stdout and stderr interleaved as written.
pub type LogStream = Pin<Box<dyn Stream<Item = Result<Bytes, String>> + Send>>;

/// What the runtime is asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuntimeLogRequest {
    /// Keep streaming until the container stops.
    pub follow: bool,
    /// Prefix each line with its RFC 3339 time.
    pub timestamps: bool,
    /// Only the last N lines.
    pub tail_lines: Option<u64>,
    /// Only lines from this whole second on (the runtime's precision).
    pub since_second: Option<i64>,
}

/// Where the API reads container logs from: the only runtime access of the API.
pub trait LogSource: Send + Sync {
    /// The log stream of the container with runtime ID `id`.
    fn logs(&self, id: &str, req: &RuntimeLogRequest) -> Result<LogStream, ApiStatus>;
}

/// Logs from the container engine the engine is connected to.
pub struct RuntimeLogs {
    runtime: watch::Receiver<Option<Runtime>>,
}

impl RuntimeLogs {
    /// Reads through the engine's runtime connection (`EngineHandle.runtime`).
    pub fn new(runtime: watch::Receiver<Option<Runtime>>) -> Self {
        Self { runtime }
    }
}

impl LogSource for RuntimeLogs {
    fn logs(&self, id: &str, req: &RuntimeLogRequest) -> Result<LogStream, ApiStatus> {
        let Some(rt) = self.runtime.borrow().clone() else {
            return Err(ApiStatus::unavailable(
                "the container engine is not reachable right now (podtui is reconnecting)",
            ));
        };
        let opts = RuntimeLogOptions {
            follow: req.follow,
            timestamps: req.timestamps,
            tail: req.tail_lines,
            since: req
                .since_second
                .and_then(|s| Timestamp::from_second(s).ok()),
        };
        let stream = rt
            .logs(id, opts)
            .map(|r| r.map(|chunk| chunk.bytes).map_err(|e| e.to_string()));
        Ok(Box::pin(stream))
    }
}

/// The log options of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// `container`.
    pub container: Option<String>,
    /// `follow`.
    pub follow: bool,
    /// `previous`.
    pub previous: bool,
    /// `timestamps`.
    pub timestamps: bool,
    /// `tailLines`.
    pub tail_lines: Option<u64>,
    /// `sinceSeconds` or `sinceTime`, as a time.
    pub since: Option<Timestamp>,
    /// `limitBytes`.
    pub limit_bytes: Option<u64>,
}

fn positive(q: &Query, key: &str) -> Result<Option<u64>, ApiStatus> {
    match q.int(key)? {
        Some(n) if n < 0 => Err(ApiStatus::bad_request(format!(
            "{key}: Invalid value: {n}: must be greater than or equal to 0"
        ))),
        Some(0) if key != "tailLines" => Err(ApiStatus::bad_request(format!(
            "{key}: Invalid value: 0: must be greater than 0"
        ))),
        other => Ok(other.map(|n| n as u64)),
    }
}

impl LogOptions {
    /// Reads the options from the query.
    pub fn parse(q: &Query, now: Timestamp) -> Result<Self, ApiStatus> {
        let since_seconds = positive(q, "sinceSeconds")?;
        let since_time = q
            .non_empty("sinceTime")
            .map(|t| {
                t.parse::<Timestamp>().map_err(|e| {
                    ApiStatus::bad_request(format!("sinceTime: invalid RFC 3339 time {t:?}: {e}"))
                })
            })
            .transpose()?;
        if since_seconds.is_some() && since_time.is_some() {
            return Err(ApiStatus::bad_request(
                "at most one of sinceTime or sinceSeconds may be specified",
            ));
        }
        let since = since_time.or_else(|| {
            since_seconds
                .map(|s| now - jiff::SignedDuration::from_secs(s.min(i64::MAX as u64) as i64))
        });
        Ok(Self {
            container: q.non_empty("container").map(str::to_string),
            follow: q.flag("follow")?,
            previous: q.flag("previous")?,
            timestamps: q.flag("timestamps")?,
            tail_lines: positive(q, "tailLines")?,
            since,
            limit_bytes: positive(q, "limitBytes")?,
        })
    }
}

/// The container a request reads: the one named, else the `kubectl.kubernetes.io/default-container`
/// annotation's, else the first.
pub fn container_name(pod: &Pod, asked: Option<&str>) -> Result<String, ApiStatus> {
    let name = pod.metadata.name.clone().unwrap_or_default();
    let spec = pod.spec.clone().unwrap_or_default();
    let all: Vec<&str> = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .map(|c| c.name.as_str())
        .chain(
            spec.ephemeral_containers
                .iter()
                .flatten()
                .map(|c| c.name.as_str()),
        )
        .collect();
    let default = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DEFAULT_CONTAINER_ANNOTATION))
        .filter(|c| all.contains(&c.as_str()))
        .cloned()
        .or_else(|| spec.containers.first().map(|c| c.name.clone()));
    match asked {
        Some(c) if all.contains(&c) => Ok(c.to_string()),
        Some(c) => Err(ApiStatus::bad_request(format!(
            "container {c} is not valid for pod {name}"
        ))),
        None => {
            default.ok_or_else(|| ApiStatus::bad_request(format!("pod {name} has no containers")))
        }
    }
}

/// The runtime ID of the instance to read, by the kubelet's rules (`validateContainerLogStatus`), with its
/// error messages.
pub fn container_id(pod: &Pod, container: &str, previous: bool) -> Result<String, ApiStatus> {
    let pod_name = pod.metadata.name.clone().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    let found: Option<ContainerStatus> = status
        .container_statuses
        .iter()
        .flatten()
        .chain(status.init_container_statuses.iter().flatten())
        .chain(status.ephemeral_container_statuses.iter().flatten())
        .find(|s| s.name == container)
        .cloned();
    let err = |m: String| Err(ApiStatus::bad_request(m));
    let Some(s) = found else {
        return err(format!(
            "container {container:?} in pod {pod_name:?} is not available"
        ));
    };
    let state = s.state.clone().unwrap_or_default();
    let last = s.last_state.clone().unwrap_or_default().terminated;
    let id = |c: Option<String>| c.filter(|c| !c.is_empty());
    let terminated_err = || format!("container {container:?} in pod {pod_name:?} is terminated");
    let cid = if previous {
        match last.and_then(|t| id(t.container_id)) {
            Some(c) => c,
            None => {
                return err(format!(
                    "previous terminated container {container:?} in pod {pod_name:?} not found"
                ));
            }
        }
    } else if state.running.is_some() {
        match id(s.container_id.clone()) {
            Some(c) => c,
            None => return err(terminated_err()),
        }
    } else if let Some(t) = state.terminated {
        match id(t.container_id).or_else(|| last.and_then(|l| id(l.container_id))) {
            Some(c) => c,
            None => return err(terminated_err()),
        }
    } else if let Some(l) = last {
        match id(l.container_id) {
            Some(c) => c,
            None => return err(terminated_err()),
        }
    } else if let Some(w) = state.waiting {
        let why = match w.reason.as_deref().unwrap_or_default() {
            "ErrImagePull" => "image can't be pulled".to_string(),
            "ImagePullBackOff" => "trying and failing to pull image".to_string(),
            other => other.to_string(),
        };
        return err(format!(
            "container {container:?} in pod {pod_name:?} is waiting to start: {why}"
        ));
    } else {
        return err(format!(
            "container {container:?} in pod {pod_name:?} is waiting to start - no logs yet"
        ));
    };
    Ok(cid
        .split_once("://")
        .map_or(cid.clone(), |(_, id)| id.to_string()))
}

/// What the runtime is asked for to answer `o` (with timestamps when `sinceTime` needs sub-second filtering).
pub fn runtime_request(o: &LogOptions) -> RuntimeLogRequest {
    RuntimeLogRequest {
        follow: o.follow && !o.previous,
        timestamps: o.timestamps || o.since.is_some(),
        tail_lines: o.tail_lines,
        since_second: o.since.map(|t| t.as_second()),
    }
}

/// Applies what the runtime cannot: `sinceTime` below a second, timestamps the client did not ask for (they
/// were only asked for to filter), and `limitBytes`.
pub struct LogShaper {
    since: Option<Timestamp>,
    strip: bool,
    left: Option<u64>,
    partial: BytesMut,
    /// A line at or after `since` has passed; the rest pass unfiltered.
    passing: bool,
}

impl LogShaper {
    /// A shaper for `o`.
    pub fn new(o: &LogOptions) -> Self {
        Self {
            since: o.since,
            strip: o.since.is_some() && !o.timestamps,
            left: o.limit_bytes,
            partial: BytesMut::new(),
            passing: o.since.is_none(),
        }
    }

    /// True once `limitBytes` have been sent.
    pub fn done(&self) -> bool {
        self.left == Some(0)
    }

    fn line(&mut self, line: &[u8], out: &mut BytesMut) {
        let (stamp, rest) = match line.iter().position(|b| *b == b' ') {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &b""[..]),
        };
        if !self.passing {
            let t = std::str::from_utf8(stamp)
                .ok()
                .and_then(|s| s.parse::<Timestamp>().ok());
            match (t, self.since) {
                (Some(t), Some(since)) if t < since => return,
                _ => self.passing = true,
            }
        }
        out.extend_from_slice(if self.strip { rest } else { line });
    }

    /// Shapes one chunk; lines cut across chunks are held until they end (only while filtering).
    pub fn push(&mut self, chunk: &[u8]) -> Bytes {
        let mut out = BytesMut::new();
        if self.since.is_none() {
            out.extend_from_slice(chunk);
        } else {
            self.partial.extend_from_slice(chunk);
            while let Some(i) = self.partial.iter().position(|b| *b == b'\n') {
                let line = self.partial.split_to(i + 1);
                self.line(&line, &mut out);
            }
        }
        self.limit(out)
    }

    /// What is held back, at the end of the stream.
    pub fn finish(&mut self) -> Bytes {
        let rest = std::mem::take(&mut self.partial);
        let mut out = BytesMut::new();
        if !rest.is_empty() {
            self.line(&rest, &mut out);
        }
        self.limit(out)
    }

    fn limit(&mut self, mut out: BytesMut) -> Bytes {
        if let Some(left) = self.left.as_mut() {
            let n = (out.len() as u64).min(*left) as usize;
            out.truncate(n);
            *left -= n as u64;
        }
        out.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(yaml: &str) -> Pod {
        serde_json::from_value(serde_yaml::from_str::<serde_json::Value>(yaml).unwrap()).unwrap()
    }

    #[test]
    fn instance_chosen_as_the_kubelet_does() {
        let crash = pod(
            "metadata: {name: c-n}\nspec: {containers: [{name: a}, {name: b}]}\nstatus:\n  containerStatuses:\n  - name: a\n    image: x\n    imageID: ''\n    ready: false\n    restartCount: 2\n    containerID: docker://cur\n    state: {waiting: {reason: CrashLoopBackOff}}\n    lastState: {terminated: {exitCode: 3, containerID: docker://old}}\n  - name: b\n    image: x\n    imageID: ''\n    ready: false\n    restartCount: 0\n    state: {waiting: {reason: ContainerCreating}}\n",
        );
        assert_eq!(container_id(&crash, "a", false).unwrap(), "old");
        assert_eq!(container_id(&crash, "a", true).unwrap(), "old");
        assert_eq!(
            container_id(&crash, "b", false).unwrap_err().message,
            "container \"b\" in pod \"c-n\" is waiting to start: ContainerCreating"
        );
        assert_eq!(
            container_id(&crash, "b", true).unwrap_err().message,
            "previous terminated container \"b\" in pod \"c-n\" not found"
        );
        assert_eq!(container_name(&crash, None).unwrap(), "a");
        assert_eq!(
            container_name(&crash, Some("z")).unwrap_err().message,
            "container z is not valid for pod c-n"
        );
        let mut annotated = crash.clone();
        annotated.metadata.annotations =
            Some([(DEFAULT_CONTAINER_ANNOTATION.to_string(), "b".to_string())].into());
        assert_eq!(container_name(&annotated, None).unwrap(), "b");
    }

    #[test]
    fn since_time_filters_below_a_second_and_limit_bytes_cuts() {
        let since: Timestamp = "2024-01-01T00:00:00.5Z".parse().unwrap();
        let o = LogOptions {
            since: Some(since),
            limit_bytes: Some(8),
            ..Default::default()
        };
        let mut s = LogShaper::new(&o);
        let a = s.push(b"2024-01-01T00:00:00.1Z early\n2024-01-01T00:00:00.7Z lat");
        let b = s.push(b"e\n2024-01-01T00:00:01Z more\n");
        assert_eq!([a, b].concat(), b"late\nmor");
        assert!(s.done());
        let mut keep = LogShaper::new(&LogOptions {
            since: Some(since),
            timestamps: true,
            ..Default::default()
        });
        assert_eq!(
            &keep.push(b"2024-01-01T00:00:02Z x\n")[..],
            b"2024-01-01T00:00:02Z x\n"
        );
    }
}
