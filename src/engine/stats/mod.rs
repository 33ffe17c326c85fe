//! Live resource use: the engine's sampler of Docker's stats, and the [`StatsView`] it publishes on its own watch
//! channel (apart from the snapshot, so the snapshot stays cheap to publish and compare).
//!
//! One stats stream per running container of a pod someone looks at (the TUI's visible pods and pod view, an
//! API client's metrics request: a [`Request::WatchStats`](super::Request::WatchStats) names them, for a while);
//! every other running container is sampled briefly every [`BASELINE`] so `podtui top` and `kubectl top` always
//! have a recent figure. Streams start when a container runs and stop when it stops or nobody looks any more.
//! Each container keeps its last [`HISTORY`] samples in a ring: memory does not grow with uptime.

pub mod math;
mod sampler;
mod view;

pub use sampler::{Interest, spawn};
pub use view::{ContainerUsage, NodeUsage, PodUsage, Ring, StatsView};

use std::time::Duration;

/// Samples kept per container (the sparklines' width).
pub const HISTORY: usize = 60;

/// How often containers nobody looks at are sampled.
pub const BASELINE: Duration = Duration::from_secs(10);

/// How long an interest lasts unless renewed.
pub const INTEREST_TTL: Duration = Duration::from_secs(30);
