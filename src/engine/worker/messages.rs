//! Termination messages: the file bound at each container's `terminationMessagePath` (see
//! `engine::termination_log`), read back when the instance exits, or with `FallbackToLogsOnError` the end of
//! its log.

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::PodSpec;

use super::PodWorker;
use crate::engine::handler;
use crate::engine::termination_log::TerminationFiles;
use crate::runtime::observe::{InstanceState, ObservedPod};
use crate::runtime::{LogOptions, Runtime};

impl PodWorker {
    /// A host file for the container's termination message, bound into it (only when podtui runs on the Docker
    /// host, so the file can be read back after the container exits). See `termination_log`.
    pub(super) fn termination_file(
        &self,
        rt: &Runtime,
        name: &str,
        count: u32,
        user: Option<i64>,
    ) -> Option<String> {
        let files = self.termination_files()?;
        if !handler::is_docker_host(rt.info().host_ip.as_deref()) {
            return None;
        }
        let user = user.and_then(|u| u32::try_from(u).ok());
        match files.create(&self.uid, name, count, user) {
            Ok(path) => Some(path.display().to_string()),
            Err(e) => {
                tracing::warn!(pod = %self.key(), "cannot create the termination message file of {name}: {e}");
                None
            }
        }
    }

    pub(super) fn termination_files(&self) -> Option<TerminationFiles> {
        self.settings
            .termination_dir
            .clone()
            .map(TerminationFiles::new)
    }

    /// Reads the termination message of every exited instance not read yet: the file, or with
    /// `FallbackToLogsOnError` the end of the log when the file is empty and the container failed.
    pub(super) async fn read_termination_messages(
        &mut self,
        rt: &Runtime,
        observed: &ObservedPod,
        spec: &PodSpec,
    ) {
        for inst in &observed.containers {
            let InstanceState::Exited { exit_code, .. } = inst.state else {
                continue;
            };
            if self.memo.messages.contains_key(&inst.id) {
                continue;
            }
            let mut msg = self
                .termination_files()
                .map(|f| f.read(&self.uid, &inst.name, inst.count))
                .unwrap_or_default();
            let fallback = spec
                .init_containers
                .iter()
                .flatten()
                .chain(spec.containers.iter())
                .find(|c| c.name == inst.name)
                .and_then(|c| c.termination_message_policy.as_deref())
                == Some("FallbackToLogsOnError");
            if msg.is_empty() && fallback && exit_code != 0 {
                msg = log_tail(rt, &inst.id).await;
            }
            self.memo.messages.insert(inst.id.clone(), msg);
        }
        self.memo
            .messages
            .retain(|id, _| observed.containers.iter().any(|c| c.id == *id));
        if let Some(files) = self.termination_files() {
            let keep: Vec<(String, u32)> = observed
                .containers
                .iter()
                .map(|c| (c.name.clone(), c.count))
                .collect();
            files.retain(&self.uid, &keep);
        }
    }
}

/// The last 80 lines (at most 2048 bytes) of a container's log, for `FallbackToLogsOnError`.
async fn log_tail(rt: &Runtime, id: &str) -> String {
    let opts = LogOptions {
        tail: Some(80),
        ..Default::default()
    };
    let mut out = Vec::new();
    let mut stream = rt.logs(id, opts);
    while let Some(Ok(chunk)) = stream.next().await {
        out.extend_from_slice(&chunk.bytes);
    }
    let start = out.len().saturating_sub(2048);
    String::from_utf8_lossy(&out[start..])
        .trim_end()
        .to_string()
}
