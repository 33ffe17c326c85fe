//! The engine's wall clock. In the crate's unit tests it follows tokio's clock, so that a test with paused time
//! (`tokio::time::pause`) moves back-offs, deadlines and probe periods forward without real sleeps; everywhere
//! else it is the system's wall clock, the one Docker's timestamps (a container's FinishedAt) are in.

use jiff::Timestamp;

/// Now.
pub fn now() -> Timestamp {
    #[cfg(not(test))]
    {
        Timestamp::now()
    }
    #[cfg(test)]
    {
        test_clock::now()
    }
}

#[cfg(test)]
mod test_clock {
    use std::sync::OnceLock;

    use jiff::{SignedDuration, Timestamp};

    static BASE: OnceLock<(Timestamp, std::time::Instant)> = OnceLock::new();

    /// The wall time when first asked, moved on by tokio's clock (which a paused test advances at will).
    pub fn now() -> Timestamp {
        let (wall, instant) = *BASE.get_or_init(|| (Timestamp::now(), std::time::Instant::now()));
        let tokio_now = tokio::time::Instant::now().into_std();
        let elapsed = tokio_now.saturating_duration_since(instant);
        wall + SignedDuration::try_from(elapsed).unwrap_or(SignedDuration::ZERO)
    }
}
