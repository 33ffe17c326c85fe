//! `podtui validate PATH...`: every error and warning of every manifest, as text or JSON.

use std::io::Write;

use serde::Serialize;

use crate::cli::{ValidateArgs, ValidateOutput};
use crate::config::Common;
use crate::manifest::files::{FileSource, Root, skip_reason};
use crate::manifest::state::{DesiredState, EntryReport, FileStatus};

/// Exit code when there is no error.
pub const EXIT_OK: i32 = 0;
/// Exit code when a manifest has an error.
pub const EXIT_INVALID: i32 = 1;
/// Exit code for usage errors (a path that does not exist).
pub const EXIT_USAGE: i32 = 2;

#[derive(Serialize)]
struct Report<'a> {
    files: &'a [FileStatus],
    errors: usize,
    warnings: usize,
}

/// Runs `validate`; returns the process exit code.
pub fn run(args: &ValidateArgs, common: &Common, out: &mut dyn Write) -> std::io::Result<i32> {
    let mut reports: Vec<EntryReport> = Vec::new();
    // A file named twice, or named and also inside a directory named, is read once: it must not conflict with
    // itself.
    let canonical: Vec<Option<std::path::PathBuf>> =
        args.paths.iter().map(|p| p.canonicalize().ok()).collect();
    for (i, path) in args.paths.iter().enumerate() {
        if let Some(c) = &canonical[i] {
            let seen = canonical[..i].iter().flatten().any(|earlier| earlier == c);
            // Read by a directory named too, by that directory's own rule for which entries it reads.
            let in_dir = canonical
                .iter()
                .flatten()
                .any(|d| d.is_dir() && c.parent() == Some(d.as_path()))
                && c.file_name().and_then(|n| n.to_str()).is_some_and(|name| {
                    skip_reason(name, std::fs::metadata(c).ok().as_ref()).is_none()
                });
            if seen || in_dir {
                continue;
            }
        }
        let root = match Root::resolve(path) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("podtui validate: {}: {e}", path.display());
                return Ok(EXIT_USAGE);
            }
        };
        let mut src = FileSource::new(root, common.node_name.clone());
        src.read_all();
        reports.extend(src.reports());
    }
    let state = DesiredState::assemble(&reports, true);
    let mut errors = 0;
    let mut warnings = 0;
    for f in &state.files {
        errors += f.findings.iter().filter(|x| x.is_error()).count() + f.conflicts.len();
        warnings += f.findings.iter().filter(|x| !x.is_error()).count();
    }
    match args.output {
        ValidateOutput::Json => {
            let report = Report {
                files: &state.files,
                errors,
                warnings,
            };
            serde_json::to_writer_pretty(&mut *out, &report)?;
            writeln!(out)?;
        }
        ValidateOutput::Text => {
            for f in &state.files {
                for finding in &f.findings {
                    writeln!(out, "{finding}")?;
                }
                for c in &f.conflicts {
                    writeln!(
                        out,
                        "{}: conflict: pod {} is already defined in {}; this copy is not run",
                        f.path, c.pod, c.owner
                    )?;
                }
            }
            let manifests = state
                .files
                .iter()
                .filter(|f| !matches!(f.state, crate::manifest::FileState::Skipped { .. }))
                .count();
            let skipped: Vec<String> = state
                .files
                .iter()
                .filter_map(|f| match &f.state {
                    crate::manifest::FileState::Skipped { reason } => {
                        Some(format!("{} ({reason})", f.path))
                    }
                    _ => None,
                })
                .collect();
            write!(
                out,
                "{manifests} manifest file(s), {} pod(s): {errors} error(s), {warnings} warning(s)",
                state.pods.len()
            )?;
            if !skipped.is_empty() {
                write!(out, "; skipped {}", skipped.join(", "))?;
            }
            writeln!(out)?;
        }
    }
    Ok(if errors > 0 { EXIT_INVALID } else { EXIT_OK })
}
