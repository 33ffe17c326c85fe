//! Images: the pull policy (Always / IfNotPresent / Never), pulls with progress, `ErrImagePull` then
//! `ImagePullBackOff`, and podtui's offline fallback (an Always pull that fails uses the local image).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use futures_util::StreamExt;
use jiff::Timestamp;

use super::{PodWorker, WorkerMsg};
use crate::engine::backoff::{Backoff, BackoffConfig};
use crate::engine::clock;
use crate::engine::events::EventType;
use crate::engine::snapshot::PullProgress;
use crate::engine::status::Waiting;
use crate::manifest::names::valid_image_reference;
use crate::runtime::Runtime;

/// The worker's image pulls: progress of those running, and the back-off of those that failed.
#[derive(Debug, Default)]
pub(super) struct ImagePulls {
    /// Pull back-off, by image.
    pub backoff: Backoff,
    /// When each image's last pull failed.
    pub failed_at: HashMap<String, Timestamp>,
    /// Pulls in progress, by image.
    pub progress: BTreeMap<String, PullProgress>,
}

impl ImagePulls {
    /// When the first pull back-off ends.
    pub fn next_retry(&self, cfg: &BackoffConfig, now: Timestamp) -> Option<Timestamp> {
        self.failed_at
            .iter()
            .filter_map(|(img, at)| self.backoff.until(cfg, img, *at, now))
            .min()
    }

    /// The end of `image`'s pull back-off, if it is in one.
    fn backing_off(&self, cfg: &BackoffConfig, image: &str, now: Timestamp) -> Option<Timestamp> {
        let at = self.failed_at.get(image)?;
        self.backoff.until(cfg, image, *at, now)
    }
}

fn waiting(reason: &str, message: String) -> Waiting {
    Waiting {
        reason: reason.into(),
        message,
    }
}

impl PodWorker {
    /// Makes `image` available per the pull policy. `Err` is the container's waiting reason.
    pub(super) async fn ensure_image(
        &mut self,
        rt: &Runtime,
        image: &str,
        policy: &str,
        object: &str,
    ) -> Result<(), Waiting> {
        if !valid_image_reference(image) {
            let msg = format!(
                "Failed to apply default image tag {image:?}: couldn't parse image name: invalid reference format"
            );
            self.event(EventType::Warning, "InspectFailed", object, msg.clone());
            return Err(waiting("InvalidImageName", msg));
        }
        let present = match rt.image_id(image).await {
            Ok(p) => p.is_some(),
            Err(e) => return Err(waiting("ErrImagePull", e.to_string())),
        };
        match policy {
            "Never" | "IfNotPresent" if present => {
                self.event(
                    EventType::Normal,
                    "Pulled",
                    object,
                    format!("Container image {image:?} already present on machine"),
                );
                return Ok(());
            }
            "Never" => {
                let msg =
                    format!("Container image {image:?} is not present with pull policy of Never");
                self.event(EventType::Warning, "ErrImageNeverPull", object, msg.clone());
                return Err(waiting("ErrImageNeverPull", msg));
            }
            _ => {}
        }
        let cfg = self.settings.backoff;
        let now = clock::now();
        if self.pulls.backing_off(&cfg, image, now).is_some() {
            if present {
                return Ok(());
            }
            let msg = format!("Back-off pulling image {image:?}");
            self.event(EventType::Normal, "BackOff", object, msg.clone());
            return Err(waiting("ImagePullBackOff", msg));
        }
        self.pull_for(rt, image, present, object).await
    }

    /// Pulls `image` with events; a failure starts its back-off (and falls back to a local copy).
    async fn pull_for(
        &mut self,
        rt: &Runtime,
        image: &str,
        present: bool,
        object: &str,
    ) -> Result<(), Waiting> {
        let cfg = self.settings.backoff;
        self.event(
            EventType::Normal,
            "Pulling",
            object,
            format!("Pulling image {image:?}"),
        );
        let started = std::time::Instant::now();
        match self.pull(rt, image).await {
            Ok(()) => {
                self.pulls.failed_at.remove(image);
                self.pulls.backoff.reset(image);
                self.event(
                    EventType::Normal,
                    "Pulled",
                    object,
                    format!(
                        "Successfully pulled image {image:?} in {:.3}s",
                        started.elapsed().as_secs_f64()
                    ),
                );
                Ok(())
            }
            Err(e) => {
                // The back-off counts from the failure, not from the pull's start: a pull can take longer than
                // the back-off (podman retries a registry itself for seconds), which would never show it.
                let now = clock::now();
                self.pulls.backoff.next(&cfg, image, now, now);
                self.pulls.failed_at.insert(image.to_string(), now);
                if present {
                    self.event(
                        EventType::Warning,
                        "PullFailedUsingLocal",
                        object,
                        format!(
                            "Failed to pull image {image:?} ({e}); using the image present locally"
                        ),
                    );
                    return Ok(());
                }
                let msg = format!("Failed to pull image {image:?}: {e}");
                self.event(EventType::Warning, "Failed", object, msg.clone());
                self.event(
                    EventType::Warning,
                    "Failed",
                    object,
                    "Error: ErrImagePull".into(),
                );
                Err(waiting("ErrImagePull", msg))
            }
        }
    }

    /// Runs one pull, publishing its progress; a termination request interrupts it.
    async fn pull(&mut self, rt: &Runtime, image: &str) -> Result<(), String> {
        let mut stream = rt.pull(image);
        let mut layers: HashMap<String, (u64, u64)> = HashMap::new();
        let mut last_publish = std::time::Instant::now();
        let result = loop {
            let Some(item) = stream.next().await else {
                break Ok(());
            };
            let ev = match item {
                Err(e) => break Err(e.message()),
                Ok(ev) => ev,
            };
            if let Some(err) = ev.error {
                break Err(err);
            }
            if let Some(layer) = ev.layer.clone() {
                let e = layers.entry(layer).or_default();
                *e = (ev.current.max(e.0), ev.total.max(e.1));
            }
            let (current, total) = layers.values().fold((0, 0), |a, l| (a.0 + l.0, a.1 + l.1));
            self.pulls.progress.insert(
                image.to_string(),
                PullProgress {
                    image: image.to_string(),
                    current,
                    total,
                    status: ev.status,
                },
            );
            if last_publish.elapsed() > Duration::from_millis(250) {
                last_publish = std::time::Instant::now();
                let obs = self.last_observed.clone();
                self.publish(&obs);
            }
            // A termination request interrupts a pull; other messages wait for the worker's loop.
            while let Ok(msg) = self.inbox.try_recv() {
                match msg {
                    WorkerMsg::Terminate(g) => self.begin_termination(g),
                    other => self.deferred.push(other),
                }
            }
            if self.termination.deadline.is_some() {
                break Err("pull abandoned: the pod is terminating".into());
            }
        };
        self.pulls.progress.remove(image);
        result
    }
}
