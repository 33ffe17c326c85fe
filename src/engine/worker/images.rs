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
    /// Why each image's last pull failed (the back-off's message carries it, as the kubelet's does).
    pub last_error: HashMap<String, String>,
    /// Pulls in progress, by image.
    pub progress: BTreeMap<String, PullProgress>,
}

/// How long a failed pull shows `ErrImagePull` before `ImagePullBackOff`: the kubelet reports the one from the
/// sync that pulled and the other from the next sync, which comes soon after, not at the end of the back-off.
pub(super) const ERR_IMAGE_PULL_SHOWN: Duration = Duration::from_secs(1);

impl ImagePulls {
    /// When the worker must look again for its pulls: a failed pull's switch from `ErrImagePull` to
    /// `ImagePullBackOff` shortly after the failure, then the end of its back-off (the next pull).
    pub fn next_wake(&self, cfg: &BackoffConfig, now: Timestamp) -> Option<Timestamp> {
        self.failed_at
            .iter()
            .filter_map(|(img, at)| {
                let retry = self.backoff.until(cfg, img, *at, now)?;
                let switch = *at + ERR_IMAGE_PULL_SHOWN;
                Some(if now < switch && switch < retry {
                    switch
                } else {
                    retry
                })
            })
            .min()
    }

    /// The images in a pull back-off, with when each is pulled again.
    pub fn retries(&self, cfg: &BackoffConfig, now: Timestamp) -> Vec<(String, Timestamp)> {
        let mut v: Vec<(String, Timestamp)> = self
            .failed_at
            .iter()
            .filter_map(|(img, at)| Some((img.clone(), self.backoff.until(cfg, img, *at, now)?)))
            .collect();
        v.sort();
        v
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
            self.event(
                EventType::Normal,
                "BackOff",
                object,
                format!("Back-off pulling image {image:?}"),
            );
            // The waiting message says why, as the kubelet's does (`…: ErrImagePull: <the pull's error>`).
            let msg = match self.pulls.last_error.get(image) {
                Some(e) => format!("Back-off pulling image {image:?}: ErrImagePull: {e}"),
                None => format!("Back-off pulling image {image:?}"),
            };
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
                self.pulls.last_error.remove(image);
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
                self.pulls.last_error.insert(image.to_string(), e.clone());
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
