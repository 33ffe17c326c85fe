//! kubelet-style events per pod: type, reason, message, count, first and last seen. Repeats of the same event
//! are counted, not stored again; the log is bounded.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Events kept per pod (the oldest are dropped first).
pub const MAX_EVENTS: usize = 200;

/// Normal or Warning, as in Kubernetes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    /// Something happened as expected.
    Normal,
    /// Something went wrong or needs attention.
    Warning,
}

/// One (possibly repeated) event about a pod.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodEvent {
    /// Normal or Warning.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// `Pulling`, `Started`, `BackOff`…
    pub reason: String,
    /// The object inside the pod, `spec.containers{nginx}`, or empty for the pod itself.
    pub object: String,
    /// What happened.
    pub message: String,
    /// How many times.
    pub count: u32,
    /// When first seen.
    pub first_seen: Timestamp,
    /// When last seen.
    pub last_seen: Timestamp,
}

/// The bounded event log of one pod.
#[derive(Clone, Debug, Default)]
pub struct EventLog {
    events: Vec<PodEvent>,
}

impl EventLog {
    /// Records an event; a repeat of the newest event with the same type, reason, object and message only
    /// bumps its count. Returns the stored event.
    pub fn record(
        &mut self,
        kind: EventType,
        reason: &str,
        object: &str,
        message: String,
        now: Timestamp,
    ) -> PodEvent {
        if let Some(e) = self.events.iter_mut().rev().take(8).find(|e| {
            e.kind == kind && e.reason == reason && e.object == object && e.message == message
        }) {
            e.count += 1;
            e.last_seen = now;
            let e = e.clone();
            // Keep the log ordered by last_seen.
            self.events.retain(|x| {
                !(x.reason == e.reason
                    && x.object == e.object
                    && x.message == e.message
                    && x.kind == e.kind)
            });
            self.events.push(e.clone());
            return e;
        }
        let e = PodEvent {
            kind,
            reason: reason.to_string(),
            object: object.to_string(),
            message,
            count: 1,
            first_seen: now,
            last_seen: now,
        };
        self.events.push(e.clone());
        if self.events.len() > MAX_EVENTS {
            let extra = self.events.len() - MAX_EVENTS;
            self.events.drain(..extra);
        }
        e
    }

    /// Events, oldest first.
    pub fn all(&self) -> &[PodEvent] {
        &self.events
    }
}

/// The event object of a container: `spec.containers{name}` or `spec.initContainers{name}`.
pub fn container_object(name: &str, init: bool) -> String {
    if init {
        format!("spec.initContainers{{{name}}}")
    } else {
        format!("spec.containers{{{name}}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_counted() {
        let mut log = EventLog::default();
        let t0 = Timestamp::from_second(1000).unwrap();
        let t1 = Timestamp::from_second(1010).unwrap();
        log.record(EventType::Warning, "BackOff", "c", "back-off".into(), t0);
        log.record(EventType::Normal, "Pulled", "c", "pulled".into(), t0);
        let e = log.record(EventType::Warning, "BackOff", "c", "back-off".into(), t1);
        assert_eq!(e.count, 2);
        assert_eq!(log.all().len(), 2);
        assert_eq!(
            log.all()[1].reason,
            "BackOff",
            "the repeated event moves to the end"
        );
        assert_eq!(log.all()[1].first_seen, t0);
        assert_eq!(log.all()[1].last_seen, t1);
        for i in 0..(MAX_EVENTS + 10) {
            log.record(EventType::Normal, "X", "", format!("{i}"), t1);
        }
        assert_eq!(log.all().len(), MAX_EVENTS);
    }
}
