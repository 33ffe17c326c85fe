//! The pods table's live-resource columns, k9s' CPU, MEM, %CPU/L and %MEM/L: added only when everything else
//! fits (on a narrow terminal they are the first to go), placed before FILE, from the engine's stats sampler.

use ratatui::layout::Constraint;
use ratatui::text::Span;

use crate::engine::stats::PodUsage;
use crate::engine::stats::math::{cpu_text, memory_text};

/// Which usage columns are shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UsageColumns {
    /// CPU and MEM.
    pub usage: bool,
    /// %CPU/L and %MEM/L.
    pub percent: bool,
}

/// Widths of the columns the pods table always has (NAME excluded) with their gaps, and IP's.
const FIXED: usize = 5 + 18 + 13 + 5 + 4 + 16;
/// CPU (6) and MEM (7), with gaps.
const USAGE: usize = 6 + 7 + 2;
/// %CPU/L and %MEM/L, with gaps.
const PERCENT: usize = 7 + 7 + 2;
/// FILE's least width.
const FILE: usize = 9;

/// Adds the usage columns that fit in `w` beside names `name_w` wide (only when IP and FILE fit too) to
/// `header` and `widths`, before FILE when it is shown.
pub fn columns(
    name_w: usize,
    w: usize,
    header: &mut Vec<&'static str>,
    widths: &mut Vec<Constraint>,
    show_file: bool,
) -> UsageColumns {
    if !show_file {
        return UsageColumns::default();
    }
    let base = name_w + FIXED + FILE;
    let cols = UsageColumns {
        usage: base + USAGE <= w,
        percent: base + USAGE + PERCENT <= w,
    };
    let at = header.len() - 1;
    let mut add: Vec<(&'static str, u16)> = Vec::new();
    if cols.usage {
        add.extend([("CPU", 6), ("MEM", 7)]);
    }
    if cols.percent {
        add.extend([("%CPU/L", 7), ("%MEM/L", 7)]);
    }
    for (k, (h, width)) in add.into_iter().enumerate() {
        header.insert(at + k, h);
        widths.insert(at + k, Constraint::Length(width));
    }
    cols
}

/// Adds a pod's usage cells (before FILE when it is shown): `-` when nothing is sampled yet, `n/a` for a
/// percentage without a limit.
pub fn cells(
    cells: &mut Vec<Span<'static>>,
    u: Option<&PodUsage>,
    cols: UsageColumns,
    show_file: bool,
) {
    let at = if show_file {
        cells.len() - 1
    } else {
        cells.len()
    };
    let mut add: Vec<String> = Vec::new();
    if cols.usage {
        add.push(u.map_or("-".into(), |u| cpu_text(u.cpu_millis())));
        add.push(u.map_or("-".into(), |u| memory_text(u.memory_bytes())));
    }
    if cols.percent {
        let pct = |v: Option<u64>| v.map_or("n/a".into(), |p| format!("{p}%"));
        add.push(pct(u.and_then(|u| {
            crate::engine::stats::math::percent_of(u.cpu_millis(), u.cpu_limit())
        })));
        add.push(pct(u.and_then(|u| {
            crate::engine::stats::math::percent_of(u.memory_bytes(), u.memory_limit())
        })));
    }
    for (k, c) in add.into_iter().enumerate() {
        cells.insert(at + k, Span::raw(c));
    }
}
