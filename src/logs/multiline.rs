//! Joining multi-line records: Python tracebacks, Java/Scala stack traces
//! (`\tat ...`, `Caused by:`, `... N more`), Go panics and indented continuations
//! join the record they belong to. Pending records are kept per component, so the
//! interleaved output of several services (docker compose) never mixes.

use std::collections::HashMap;

use super::formats::Parsed;
use super::level::{infer_level, Level};

/// Most continuation lines kept in one record; further ones are counted, not kept.
pub const MAX_CONTINUATION_LINES: usize = 400;
/// Most bytes of text kept in one record.
pub const MAX_RECORD_BYTES: usize = 256 * 1024;
/// Most records pending at once (one per component being written).
pub const MAX_PENDING: usize = 1024;

/// A record being assembled.
#[derive(Debug, Clone)]
pub struct Pending {
    /// First physical line number (1-based) in its source.
    pub line: u64,
    /// The parsed header line.
    pub timestamp: Option<String>,
    /// Level (raised by a traceback when the level was only inferred).
    pub level: Level,
    /// Whether the level came from an explicit field.
    pub explicit_level: bool,
    /// Component, if the format names one.
    pub component: Option<String>,
    /// The message of the first line.
    pub message: String,
    /// Continuation lines kept.
    pub continuation: Vec<String>,
    /// Trace id, if any.
    pub trace_id: Option<String>,
    /// Whether the first line had a recognised header.
    pub header: bool,
    bytes: usize,
    in_stack: bool,
}

impl Pending {
    /// The full text: message then continuation lines.
    pub fn text(&self) -> String {
        let mut s = self.message.clone();
        for c in &self.continuation {
            s.push('\n');
            s.push_str(c);
        }
        s
    }
}

/// What happened to one line given to [`Joiner::push`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// Started a record with a recognised header.
    Record,
    /// Started a record without a header (no record to continue).
    Unparsed,
    /// Joined the pending record.
    Continuation,
    /// Joined the pending record but was dropped by the size caps.
    Dropped,
    /// Blank line.
    Blank,
}

/// Assembles records from parsed lines.
#[derive(Debug, Default)]
pub struct Joiner {
    pending: HashMap<String, Pending>,
    last_key: Option<String>,
}

impl Joiner {
    /// An empty joiner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one line. Finished records are appended to `done`.
    /// `headers` says whether the format marks every record with a header.
    pub fn push(
        &mut self,
        line_no: u64,
        raw: &str,
        parsed: Parsed<'_>,
        headers: bool,
        done: &mut Vec<Pending>,
    ) -> LineKind {
        if raw.trim().is_empty() && parsed.message.trim().is_empty() {
            return LineKind::Blank;
        }
        let key = parsed
            .component
            .as_deref()
            .map(str::to_string)
            .or_else(|| self.last_key.clone())
            .unwrap_or_default();
        if !parsed.header {
            if let Some(p) = self.pending.get_mut(&key) {
                let msg: &str = &parsed.message;
                if headers || p.in_stack || looks_like_continuation(msg) {
                    return append(p, msg);
                }
            }
        }
        // A new record: flush the pending one of this component.
        if let Some(prev) = self.pending.remove(&key) {
            done.push(prev);
        }
        let kind = if parsed.header {
            LineKind::Record
        } else {
            LineKind::Unparsed
        };
        let in_stack = starts_stack(&parsed.message);
        let message = parsed.message.into_owned();
        self.pending.insert(
            key.clone(),
            Pending {
                line: line_no,
                timestamp: parsed.timestamp.map(|t| t.into_owned()),
                level: parsed.level,
                explicit_level: parsed.explicit_level,
                component: parsed.component.map(|c| c.into_owned()),
                bytes: message.len(),
                message,
                continuation: Vec::new(),
                trace_id: parsed.trace_id.map(|t| t.into_owned()),
                header: parsed.header,
                in_stack,
            },
        );
        self.last_key = Some(key);
        if self.pending.len() > MAX_PENDING {
            self.finish_oldest(done);
        }
        kind
    }

    /// Finishes the quarter of the pending records that started first, so memory stays
    /// bounded however many components write (a record that waited that long gets no
    /// more lines); a quarter at a time keeps the cost per line constant.
    fn finish_oldest(&mut self, done: &mut Vec<Pending>) {
        let mut by_age: Vec<(u64, &String)> = self
            .pending
            .iter()
            .filter(|(k, _)| Some(*k) != self.last_key.as_ref())
            .map(|(k, p)| (p.line, k))
            .collect();
        let n = (MAX_PENDING / 4).clamp(1, by_age.len().max(1));
        if by_age.len() > n {
            by_age.select_nth_unstable(n);
            by_age.truncate(n);
        }
        by_age.sort_unstable();
        let keys: Vec<String> = by_age.into_iter().map(|(_, k)| k.clone()).collect();
        for k in keys {
            if let Some(p) = self.pending.remove(&k) {
                done.push(p);
            }
        }
    }

    /// Flushes every pending record (end of a source).
    pub fn finish(&mut self, done: &mut Vec<Pending>) {
        let mut rest: Vec<Pending> = self.pending.drain().map(|(_, p)| p).collect();
        rest.sort_by_key(|p| p.line);
        done.extend(rest);
        self.last_key = None;
    }
}

fn append(p: &mut Pending, msg: &str) -> LineKind {
    if starts_stack(msg) {
        p.in_stack = true;
    } else if p.in_stack && ends_stack(msg) {
        p.in_stack = false;
    }
    if !p.explicit_level {
        p.level = p.level.max(infer_level(msg));
    }
    if p.continuation.len() >= MAX_CONTINUATION_LINES || p.bytes + msg.len() > MAX_RECORD_BYTES {
        return LineKind::Dropped;
    }
    p.bytes += msg.len() + 1;
    p.continuation.push(msg.to_string());
    LineKind::Continuation
}

/// Lines that continue a record even in formats without headers.
fn looks_like_continuation(line: &str) -> bool {
    line.starts_with([' ', '\t'])
        || line.starts_with("Caused by:")
        || line.starts_with("... ")
        || starts_stack(line)
        || line.starts_with("During handling of the above exception")
        || line.starts_with("The above exception was the direct cause")
}

/// Lines that open a stack: after them, every bare line joins until the stack ends.
fn starts_stack(line: &str) -> bool {
    line.starts_with("Traceback (most recent call last)")
        || (line.starts_with("goroutine ") && line.ends_with("]:"))
}

/// The last line of a Python traceback: `ValueError: message`.
fn ends_stack(line: &str) -> bool {
    let head = line.split(':').next().unwrap_or("");
    !line.starts_with([' ', '\t'])
        && !head.is_empty()
        && !head.contains(' ')
        && (head.ends_with("Error")
            || head.ends_with("Exception")
            || head.ends_with("Exit")
            || head.ends_with("Interrupt"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::formats::{FormatSpec, Parser};

    fn join(spec: FormatSpec, text: &str) -> (Vec<Pending>, Vec<LineKind>) {
        let parser = Parser::new(spec);
        let mut j = Joiner::new();
        let mut done = Vec::new();
        let mut kinds = Vec::new();
        for (i, l) in text.lines().enumerate() {
            kinds.push(j.push(
                i as u64 + 1,
                l,
                parser.parse_line(l),
                parser.has_headers(),
                &mut done,
            ));
        }
        j.finish(&mut done);
        (done, kinds)
    }

    #[test]
    fn java_stack_joins() {
        let text = "2015-10-18 18:01:47,978 ERROR [main] org.Foo: failed\n\
                    java.lang.IllegalStateException: boom\n\
                    \tat org.Foo.bar(Foo.java:12)\n\
                    Caused by: java.io.IOException: disk\n\
                    \t... 3 more\n\
                    2015-10-18 18:01:48,000 INFO [main] org.Foo: next";
        let (recs, kinds) = join(FormatSpec::Log4j, text);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].continuation.len(), 4);
        assert_eq!(
            kinds
                .iter()
                .filter(|k| **k == LineKind::Continuation)
                .count(),
            4
        );
    }

    #[test]
    fn python_traceback_in_generic_text() {
        let text = "starting job\nTraceback (most recent call last):\n  File \"a.py\", line 1, in <module>\nValueError: bad\nnext record";
        let (recs, _) = join(FormatSpec::Generic, text);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].continuation.len(), 3);
        assert_eq!(recs[0].level, Level::Error);
        assert_eq!(recs[1].message, "next record");
    }

    #[test]
    fn go_panic() {
        let text = "panic: runtime error: index out of range\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:5 +0x1d";
        let (recs, kinds) = join(FormatSpec::Generic, text);
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].level, Level::Critical);
        assert_eq!(recs[0].continuation.len(), 3);
        assert_eq!(kinds[1], LineKind::Blank);
    }

    #[test]
    fn pending_records_are_bounded_when_every_line_has_a_new_component() {
        let parser = Parser::new(FormatSpec::Compose);
        let mut j = Joiner::new();
        let mut done = Vec::new();
        let n = 3 * MAX_PENDING as u64;
        for i in 0..n {
            let l = format!("svc-{i}  | 2025-11-03 20:36:37,123 - app - INFO - up");
            j.push(
                i + 1,
                &l,
                parser.parse_line(&l),
                parser.has_headers(),
                &mut done,
            );
            assert!(j.pending.len() <= MAX_PENDING);
        }
        j.finish(&mut done);
        // Nothing lost: every record comes out, the oldest first.
        assert_eq!(done.len() as u64, n);
        assert_eq!(done[0].line, 1);
    }

    #[test]
    fn interleaved_compose_services_do_not_mix() {
        let text = "app-1  | 2025-11-03 20:36:37,123 - app - ERROR - crashed\n\
                    db-1   | 2025-11-03 20:36:37,124 - db - INFO - checkpoint\n\
                    app-1  | Traceback (most recent call last):\n\
                    db-1   | 2025-11-03 20:36:37,125 - db - INFO - checkpoint done\n\
                    app-1  |   File \"x.py\", line 3\n\
                    app-1  | KeyError: 'k'";
        let (recs, _) = join(FormatSpec::Compose, text);
        let app: Vec<&Pending> = recs
            .iter()
            .filter(|r| r.component.as_deref() == Some("app-1"))
            .collect();
        assert_eq!(app.len(), 1);
        assert_eq!(app[0].continuation.len(), 3);
        assert_eq!(
            recs.iter()
                .filter(|r| r.component.as_deref() == Some("db-1"))
                .count(),
            2
        );
    }
}
