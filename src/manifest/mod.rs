//! Manifests: reading, decoding and validating Pod manifests, their identity, and the sources that watch them
//! (a directory, one file, an HTTP URL) and produce the desired state.

pub mod bounds;
pub mod downward;
pub mod finding;
pub mod host_path;
pub mod identity;
pub mod lines;
pub mod names;
pub mod parse;
pub mod path;
pub mod quantity;
pub mod schema;
pub mod validate;

pub use finding::{Finding, Severity};
pub use identity::SourceId;
pub use parse::{
    DesiredPod, Format, ParseInput, Parsed, manifest_text, parse_manifest, parse_manifest_within,
};
pub use path::FieldPath;
pub mod files;
pub mod http;
pub mod job;
pub mod source;
pub mod state;
pub mod store;

pub use source::{SourcesConfig, read_once, spawn_sources};
pub use state::{DesiredState, FileState, FileStatus};
