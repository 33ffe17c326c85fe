//! `podtui validate PATH...`: every error and warning of every manifest, as text or JSON.
//!
//! A directory is validated by the directory source's rule: entries that are not manifests (other extensions,
//! hidden and backup files, FIFOs, files over 10 MB) are listed as skipped, as `podtui run` skips them. A file
//! named on the command line is validated whatever its extension (as `kubectl apply -f` and a kubelet given
//! one file read it); if it cannot be validated at all (a FIFO or other non-regular file, over 10 MB,
//! unreadable) that is an error naming the file and why, never a skip: the user asked for that file.

use std::io::Write;

use serde::Serialize;

use crate::cli::{ValidateArgs, ValidateOutput};
use crate::config::Common;
use crate::manifest::files::{FileSource, Root, skip_reason};
use crate::manifest::state::{DesiredState, EntryKind, EntryReport, FileStatus};
use crate::manifest::{FileState, Finding};
use crate::text::{display_path, escape_controls};

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
                eprintln!("podtui validate: {}: {e}", display_path(path));
                return Ok(EXIT_USAGE);
            }
        };
        let named_file = matches!(root, Root::File { .. });
        let mut src = FileSource::new(root, common.node_name.clone());
        src.read_all();
        for report in src.reports() {
            if named_file {
                reports.push(not_skipped(report, path));
            } else if !named_elsewhere(&report, &canonical, &args.paths) {
                reports.push(report);
            }
        }
    }
    let state = DesiredState::assemble(&reports, true, None);
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
        ValidateOutput::Text => text(&state, errors, warnings, out)?,
    }
    Ok(if errors > 0 { EXIT_INVALID } else { EXIT_OK })
}

/// The text report: every finding and conflict on a line of its own, then the totals and the skipped files.
/// File names are shown escaped (a `Finding` escapes its own).
fn text(
    state: &DesiredState,
    errors: usize,
    warnings: usize,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for f in &state.files {
        for finding in &f.findings {
            writeln!(out, "{finding}")?;
        }
        for c in &f.conflicts {
            writeln!(
                out,
                "{}: conflict: pod {} is already defined in {}; this copy is not run",
                escape_controls(&f.path),
                c.pod,
                escape_controls(&c.owner)
            )?;
        }
    }
    let manifests = state
        .files
        .iter()
        .filter(|f| !matches!(f.state, FileState::Skipped { .. }))
        .count();
    let skipped: Vec<String> = state
        .files
        .iter()
        .filter_map(|f| match &f.state {
            FileState::Skipped { reason } => {
                Some(format!("{} ({reason})", escape_controls(&f.path)))
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
    writeln!(out)
}

/// A file named on the command line that the source skipped becomes an error: it was asked for, and cannot be
/// validated.
fn not_skipped(report: EntryReport, path: &std::path::Path) -> EntryReport {
    let EntryKind::Skipped(reason) = &report.kind else {
        return report;
    };
    let reason = match std::fs::metadata(path).map(|m| m.file_type()) {
        Ok(t) if !t.is_file() && !t.is_dir() => format!("{}, not a regular file", file_kind(t)),
        _ => reason.clone(),
    };
    let mut finding = Finding::file_error(None, format!("cannot be validated: {reason}"));
    finding.file = report.path.clone();
    EntryReport {
        path: report.path,
        kind: EntryKind::Read {
            findings: vec![finding],
            invalid: true,
            pods: Vec::new(),
        },
    }
}

fn file_kind(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "a special file"
    }
}

/// True for a directory's skipped entry that is also named on the command line: it is reported there, as an
/// error, not here as a skip.
fn named_elsewhere(
    report: &EntryReport,
    canonical: &[Option<std::path::PathBuf>],
    paths: &[std::path::PathBuf],
) -> bool {
    if !matches!(report.kind, EntryKind::Skipped(_)) {
        return false;
    }
    let Ok(c) = std::path::Path::new(&report.path).canonicalize() else {
        return false;
    };
    canonical
        .iter()
        .zip(paths)
        .any(|(named, p)| named.as_ref() == Some(&c) && !p.is_dir())
}
