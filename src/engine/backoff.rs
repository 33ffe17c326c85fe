//! Crash-loop and image-pull back-off, as the kubelet's `flowcontrol.Backoff`: the first restart is immediate,
//! then 10 s, 20 s, 40 s … up to 300 s, measured from the container's FinishedAt; an entry not used for twice
//! the maximum (10 minutes by default) starts over. Both limits are tunable (`--backoff-initial`, `--backoff-max`).

use std::collections::HashMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// Initial and maximum delays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackoffConfig {
    /// First delay.
    pub initial: Duration,
    /// Cap.
    pub max: Duration,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(10),
            max: Duration::from_secs(300),
        }
    }
}

impl BackoffConfig {
    /// After this long without a restart, the delay starts over from `initial`.
    pub fn reset_after(&self) -> Duration {
        self.max * 2
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    delay: Duration,
    last_update: Timestamp,
}

/// Back-off state per key (a container name, or an image).
#[derive(Clone, Debug, Default)]
pub struct Backoff {
    entries: HashMap<String, Entry>,
}

fn secs(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

impl Backoff {
    fn expired(cfg: &BackoffConfig, entry: &Entry, event: Timestamp) -> bool {
        event.duration_since(entry.last_update) > secs(cfg.reset_after())
    }

    /// If `key` is still backing off from an event at `event_time`, the time the back-off ends.
    pub fn until(
        &self,
        cfg: &BackoffConfig,
        key: &str,
        event_time: Timestamp,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let entry = self.entries.get(key)?;
        if Self::expired(cfg, entry, event_time) {
            return None;
        }
        let end = event_time.checked_add(secs(entry.delay)).ok()?;
        (now < end).then_some(end)
    }

    /// Records a restart, at `now`, after an event (the container's finish) at `event_time`: the next delay
    /// doubles (or starts at `initial` when the last restart is more than twice the cap before the event). As in
    /// the kubelet, the restart time is remembered, so a container that runs a while before crashing again does
    /// not reset its back-off early.
    pub fn next(&mut self, cfg: &BackoffConfig, key: &str, event_time: Timestamp, now: Timestamp) {
        let delay = match self.entries.get(key) {
            Some(e) if !Self::expired(cfg, e, event_time) => (e.delay * 2).min(cfg.max),
            _ => cfg.initial,
        };
        self.entries.insert(
            key.to_string(),
            Entry {
                delay,
                last_update: now,
            },
        );
    }

    /// The current delay for `key`, if any.
    pub fn delay(&self, key: &str) -> Option<Duration> {
        self.entries.get(key).map(|e| e.delay)
    }

    /// Forgets `key` (a container restarted by the user starts fresh).
    pub fn reset(&mut self, key: &str) {
        self.entries.remove(key);
    }
}

/// How long a pod worker waits before trying again after a pass failed for the `errors`-th time in a row:
/// 1 s, 2 s, 4 s … capped at 32 s (a Docker engine that refuses or times out is not hammered).
pub fn retry_delay(errors: u32) -> Duration {
    Duration::from_millis(500 * 2u64.pow(errors.clamp(1, 6)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_000_000 + s).unwrap()
    }

    #[test]
    fn first_restart_is_immediate_then_doubles_to_the_cap() {
        let cfg = BackoffConfig::default();
        let mut b = Backoff::default();
        assert_eq!(
            b.until(&cfg, "c", t(0), t(0)),
            None,
            "first restart is immediate"
        );
        b.next(&cfg, "c", t(0), t(0));
        // Crashed again at t=5: wait 10 s from FinishedAt.
        assert_eq!(b.until(&cfg, "c", t(5), t(6)), Some(t(15)));
        assert_eq!(b.until(&cfg, "c", t(5), t(15)), None);
        b.next(&cfg, "c", t(5), t(5));
        assert_eq!(b.delay("c"), Some(Duration::from_secs(20)));
        let mut last = t(5);
        for _ in 0..10 {
            last = last.checked_add(SignedDuration::from_secs(1)).unwrap();
            b.next(&cfg, "c", last, last);
        }
        assert_eq!(b.delay("c"), Some(Duration::from_secs(300)), "capped");
    }

    #[test]
    fn a_long_run_between_crashes_does_not_reset_it() {
        let cfg = BackoffConfig {
            initial: Duration::from_secs(2),
            max: Duration::from_secs(8),
        };
        let mut b = Backoff::default();
        b.next(&cfg, "c", t(0), t(0));
        b.next(&cfg, "c", t(5), t(7));
        b.next(&cfg, "c", t(15), t(19));
        assert_eq!(b.delay("c"), Some(Duration::from_secs(8)));
        // Finished at 15, restarted at 19 after its back-off; runs 14 s and crashes at 33: that is 14 s after the
        // restart (within twice the cap, 16 s), though 18 s after the previous finish: it waits the full 8 s.
        assert_eq!(b.until(&cfg, "c", t(33), t(33)), Some(t(41)));
    }

    #[test]
    fn resets_after_twice_the_cap() {
        let cfg = BackoffConfig {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(4),
        };
        let mut b = Backoff::default();
        b.next(&cfg, "c", t(0), t(0));
        b.next(&cfg, "c", t(1), t(1));
        assert_eq!(b.delay("c"), Some(Duration::from_secs(2)));
        // 9 s later (> 2 × 4 s) the back-off has expired.
        assert_eq!(b.until(&cfg, "c", t(10), t(10)), None);
        b.next(&cfg, "c", t(10), t(10));
        assert_eq!(b.delay("c"), Some(Duration::from_secs(1)));
    }

    #[test]
    fn failed_passes_are_retried_with_a_growing_capped_delay() {
        let d: Vec<u64> = (1..=8).map(|n| retry_delay(n).as_millis() as u64).collect();
        assert_eq!(d, [1000, 2000, 4000, 8000, 16000, 32000, 32000, 32000]);
    }
}
