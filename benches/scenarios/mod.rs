//! One module per benchmark scenario; each returns the [`crate::report::Bench`]es it measured. `floor` holds
//! the baselines (direct Docker API calls, sequential and overlapped, the docker CLI) that `cold` and `fifty`
//! compare podtui with.

pub mod adaptive;
pub mod api;
pub mod cold;
pub mod fifty;
pub mod flood;
pub mod floor;
pub mod forward;
pub mod idle;
pub mod pickup;
pub mod podman;
pub mod render;
pub mod scale;
pub mod startup;
