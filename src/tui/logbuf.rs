//! The log view's memory: a bounded buffer of sanitized lines (the oldest are dropped past a line and a byte
//! budget, so a container printing gigabytes cannot grow podtui), line assembly from Docker's frames (frames are
//! not lines; one line may span many frames, and an endless line is cut into pieces), wrapping cached per width,
//! and search.

use std::collections::VecDeque;

use unicode_width::UnicodeWidthStr;

use super::sanitize::{Sanitizer, Span, plain};

/// Lines kept at most.
pub const MAX_LINES: usize = 20_000;
/// Bytes of text kept at most.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;
/// A line longer than this is cut into pieces of this size.
pub const MAX_LINE_BYTES: usize = 256 * 1024;

/// Which output stream a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamKind {
    /// stdout (or a TTY).
    Out,
    /// stderr.
    Err,
}

/// One sanitized line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// Styled text.
    pub spans: Vec<Span>,
    /// Bytes of text.
    pub bytes: usize,
    /// Display width in cells.
    pub width: usize,
    /// stdout or stderr.
    pub stream: StreamKind,
    /// The line went on beyond [`MAX_LINE_BYTES`]; the next line continues it.
    pub cut: bool,
}

impl LogLine {
    /// A line from sanitized spans.
    pub fn new(spans: Vec<Span>, stream: StreamKind, cut: bool) -> Self {
        Self {
            width: spans
                .iter()
                .map(|s| UnicodeWidthStr::width(s.text.as_str()))
                .sum(),
            bytes: spans.iter().map(|s| s.text.len()).sum(),
            spans,
            stream,
            cut,
        }
    }

    /// The plain text (for search and saving).
    pub fn text(&self) -> String {
        plain(&self.spans)
    }

    /// Rows the line takes when wrapped at `width` columns.
    pub fn rows(&self, width: usize) -> usize {
        if width == 0 {
            1
        } else {
            self.width.div_ceil(width).max(1)
        }
    }
}

/// Turns a stream of byte chunks into sanitized lines.
#[derive(Debug)]
pub struct LineAssembler {
    partial: Vec<u8>,
    sanitizer: Sanitizer,
    stream: StreamKind,
}

impl LineAssembler {
    /// An assembler for one output stream.
    pub fn new(stream: StreamKind, colors: bool) -> Self {
        Self {
            partial: Vec::new(),
            sanitizer: Sanitizer::new(colors),
            stream,
        }
    }

    fn emit(&mut self, bytes: &[u8], cut: bool, out: &mut Vec<LogLine>) {
        let text = String::from_utf8_lossy(bytes);
        let text = text.strip_suffix('\r').unwrap_or(&text);
        let spans = self.sanitizer.line(text);
        out.push(LogLine::new(spans, self.stream, cut));
    }

    /// Adds bytes; returns the lines they complete.
    pub fn push(&mut self, mut bytes: &[u8]) -> Vec<LogLine> {
        let mut out = Vec::new();
        while let Some(nl) = bytes.iter().position(|b| *b == b'\n') {
            let (head, rest) = bytes.split_at(nl);
            if self.partial.is_empty() {
                self.emit_capped(head, &mut out);
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(head);
                self.emit_capped(&line, &mut out);
            }
            bytes = &rest[1..];
        }
        self.partial.extend_from_slice(bytes);
        while self.partial.len() >= MAX_LINE_BYTES {
            let rest = self
                .partial
                .split_off(cut_point(&self.partial, MAX_LINE_BYTES));
            let piece = std::mem::replace(&mut self.partial, rest);
            self.emit(&piece, true, &mut out);
        }
        out
    }

    fn emit_capped(&mut self, mut line: &[u8], out: &mut Vec<LogLine>) {
        while line.len() > MAX_LINE_BYTES {
            let at = cut_point(line, MAX_LINE_BYTES);
            self.emit(&line[..at], true, out);
            line = &line[at..];
        }
        self.emit(line, false, out);
    }

    /// The unfinished last line, if any (at the end of a stream).
    pub fn finish(&mut self) -> Option<LogLine> {
        if self.partial.is_empty() {
            return None;
        }
        let p = std::mem::take(&mut self.partial);
        let mut out = Vec::new();
        self.emit(&p, false, &mut out);
        out.pop()
    }
}

/// A cut point at or before `max` that does not split a UTF-8 character.
fn cut_point(bytes: &[u8], max: usize) -> usize {
    let mut at = max.min(bytes.len());
    while at > 0 && at < bytes.len() && (bytes[at] & 0xC0) == 0x80 {
        at -= 1;
    }
    if at == 0 { max.min(bytes.len()) } else { at }
}

/// The bounded buffer of one container's log.
#[derive(Debug, Default)]
pub struct LogBuffer {
    lines: VecDeque<LogLine>,
    bytes: usize,
    dropped: u64,
    wrap: Option<(usize, VecDeque<usize>, usize)>,
    max_lines: usize,
    max_bytes: usize,
}

impl LogBuffer {
    /// An empty buffer with the default limits.
    pub fn new() -> Self {
        Self::with_limits(MAX_LINES, MAX_BYTES)
    }

    /// An empty buffer with the given limits.
    pub fn with_limits(max_lines: usize, max_bytes: usize) -> Self {
        Self {
            max_lines,
            max_bytes,
            ..Default::default()
        }
    }

    /// Appends lines, dropping the oldest past the limits.
    pub fn extend(&mut self, lines: impl IntoIterator<Item = LogLine>) {
        for l in lines {
            self.bytes += l.bytes;
            if let Some((w, rows, total)) = self.wrap.as_mut() {
                let r = l.rows(*w);
                rows.push_back(r);
                *total += r;
            }
            self.lines.push_back(l);
        }
        while self.lines.len() > self.max_lines
            || (self.bytes > self.max_bytes && self.lines.len() > 1)
        {
            let Some(l) = self.lines.pop_front() else {
                break;
            };
            self.bytes -= l.bytes;
            self.dropped += 1;
            if let Some((_, rows, total)) = self.wrap.as_mut()
                && let Some(r) = rows.pop_front()
            {
                *total -= r;
            }
        }
    }

    /// Lines held.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Bytes of text held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Lines dropped from the front so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Line `i`.
    pub fn get(&self, i: usize) -> Option<&LogLine> {
        self.lines.get(i)
    }

    /// All lines.
    pub fn lines(&self) -> impl Iterator<Item = &LogLine> {
        self.lines.iter()
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.lines.clear();
        self.bytes = 0;
        self.dropped = 0;
        self.wrap = None;
    }

    fn ensure_wrap(&mut self, width: usize) {
        if self.wrap.as_ref().is_some_and(|(w, _, _)| *w == width) {
            return;
        }
        let rows: VecDeque<usize> = self.lines.iter().map(|l| l.rows(width)).collect();
        let total = rows.iter().sum();
        self.wrap = Some((width, rows, total));
    }

    /// Total rows at `width` (wrapped), cached per width.
    pub fn total_rows(&mut self, width: usize) -> usize {
        self.ensure_wrap(width);
        self.wrap.as_ref().map(|(_, _, t)| *t).unwrap_or(0)
    }

    /// The line and the row within it at wrapped row `row`.
    pub fn locate_row(&mut self, width: usize, row: usize) -> (usize, usize) {
        self.ensure_wrap(width);
        let Some((_, rows, _)) = self.wrap.as_ref() else {
            return (0, 0);
        };
        let mut acc = 0;
        for (i, r) in rows.iter().enumerate() {
            if row < acc + r {
                return (i, row - acc);
            }
            acc += r;
        }
        (rows.len(), 0)
    }

    /// The first wrapped row of line `line`.
    pub fn row_of_line(&mut self, width: usize, line: usize) -> usize {
        self.ensure_wrap(width);
        self.wrap
            .as_ref()
            .map(|(_, rows, _)| rows.iter().take(line).sum())
            .unwrap_or(0)
    }

    /// The next line (after `from`, or before it when `back`) containing `query`, case-insensitively, wrapping around.
    pub fn find(&self, query: &str, from: usize, back: bool) -> Option<usize> {
        if query.is_empty() || self.lines.is_empty() {
            return None;
        }
        let q = query.to_lowercase();
        let n = self.lines.len();
        (1..=n)
            .map(|k| {
                if back {
                    (from + n - k % n) % n
                } else {
                    (from + k) % n
                }
            })
            .find(|i| self.lines[*i].text().to_lowercase().contains(&q))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_not_lines() {
        let mut a = LineAssembler::new(StreamKind::Out, true);
        assert!(a.push(b"hel").is_empty());
        let lines = a.push(b"lo\nwor");
        assert_eq!(
            lines.iter().map(|l| l.text()).collect::<Vec<_>>(),
            ["hello"]
        );
        let lines = a.push(b"ld\r\n\n");
        assert_eq!(
            lines.iter().map(|l| l.text()).collect::<Vec<_>>(),
            ["world", ""]
        );
        assert!(a.finish().is_none());
    }

    #[test]
    fn an_endless_line_is_cut_and_memory_stays_bounded() {
        let mut a = LineAssembler::new(StreamKind::Out, true);
        let mut buf = LogBuffer::with_limits(100, 1024 * 1024);
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..64 {
            let lines = a.push(&chunk);
            buf.extend(lines);
        }
        // 4 MiB without a newline: cut into 256 KiB pieces, and only 1 MiB of them kept.
        assert!(buf.bytes() <= 1024 * 1024, "{}", buf.bytes());
        assert!(buf.get(0).unwrap().cut);
        assert!(buf.dropped() > 0);
    }

    #[test]
    fn wrapping_is_cached_and_updated_incrementally() {
        let mut buf = LogBuffer::with_limits(3, usize::MAX);
        let line = |n: usize| {
            LogLine::new(
                vec![Span {
                    text: "y".repeat(n),
                    style: Default::default(),
                }],
                StreamKind::Out,
                false,
            )
        };
        buf.extend([line(10), line(25)]);
        assert_eq!(buf.total_rows(10), 1 + 3);
        buf.extend([line(0), line(11)]);
        // The first line was dropped (3 lines max).
        assert_eq!(buf.total_rows(10), 3 + 1 + 2);
        assert_eq!(buf.locate_row(10, 4), (2, 0));
        assert_eq!(buf.row_of_line(10, 2), 4);
        assert_eq!(buf.total_rows(5), 5 + 1 + 3);
    }

    #[test]
    fn search_wraps_around() {
        let mut buf = LogBuffer::new();
        for t in ["alpha", "Beta", "gamma", "beta again"] {
            buf.extend([LogLine::new(
                vec![Span {
                    text: t.into(),
                    style: Default::default(),
                }],
                StreamKind::Out,
                false,
            )]);
        }
        assert_eq!(buf.find("beta", 0, false), Some(1));
        assert_eq!(buf.find("beta", 1, false), Some(3));
        assert_eq!(buf.find("beta", 3, false), Some(1));
        assert_eq!(buf.find("beta", 1, true), Some(3));
        assert_eq!(buf.find("nothing", 0, false), None);
    }
}
