//! Joining multi-line records: Python tracebacks, Java/Scala stack traces (`\tat ...`,
//! `Caused by:`, `Suppressed:`, `... N more`, an exception's first line after a
//! header), Go panics and goroutine dumps, postgres `DETAIL`/`HINT`/`STATEMENT` lines,
//! MinIO error blocks, lines a container runtime split (CRI `P`) and indented
//! continuations join the record they belong to.
//!
//! Pending records are kept per component, so the interleaved output of several
//! services (docker compose) never mixes; at most [`MAX_PENDING`] are kept, the oldest
//! quarter being finished when more components appear, and one idle for
//! [`IDLE_LINES`] lines is finished too.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::formats::{names_service, Parsed};
use super::level::{infer_level, Level};
use super::record::{ComponentSource, SpanId, TraceId};

/// Most continuation lines kept in one record; further ones are counted, not kept.
pub const MAX_CONTINUATION_LINES: usize = 400;
/// Most bytes of text kept in one record.
pub const MAX_RECORD_BYTES: usize = 256 * 1024;
/// Most records pending at once (one per component being written).
pub const MAX_PENDING: usize = 1024;
/// A pending record that has had no line for this many lines is finished: no
/// continuation comes that late.
pub const IDLE_LINES: u64 = 4096;

/// A record being assembled.
#[derive(Debug, Clone, Default)]
pub struct Pending {
    /// First physical line number (1-based) in its source.
    pub line: u64,
    /// Physical lines so far.
    pub lines: u32,
    /// Its own timestamp, normalised (from its first line or a continuation line).
    pub timestamp: Option<DateTime<Utc>>,
    /// The timestamp of the record before it, for when it has none of its own.
    pub inherited: Option<DateTime<Utc>>,
    /// Level (raised by a traceback when the level was only inferred).
    pub level: Level,
    /// Whether the level came from an explicit field.
    pub explicit_level: bool,
    /// Component named by the record itself or its wrapper, and how.
    pub component: Option<(Arc<str>, ComponentSource)>,
    /// Logger.
    pub logger: Option<String>,
    /// Thread.
    pub thread: Option<String>,
    /// Trace id.
    pub trace_id: Option<TraceId>,
    /// Span id.
    pub span_id: Option<SpanId>,
    /// Other fields.
    pub fields: Vec<(String, String)>,
    /// The message of the first line.
    pub message: String,
    /// Continuation lines kept.
    pub continuation: Vec<String>,
    /// Whether the first line had a recognised header.
    pub header: bool,
    bytes: usize,
    in_stack: bool,
    partial: bool,
    last_line: u64,
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

/// The component a line names itself: its service field, its wrapper, or its logger
/// when that reads as a service name.
pub fn component_of<'p>(p: &'p Parsed<'_>) -> Option<(&'p str, ComponentSource)> {
    if let Some(s) = p.service.as_deref().filter(|s| !s.is_empty()) {
        return Some((s, ComponentSource::Field));
    }
    if let Some(w) = p.wrapper.as_deref() {
        return Some((w, ComponentSource::Wrapper));
    }
    p.logger
        .as_deref()
        .filter(|l| names_service(l))
        .map(|l| (l, ComponentSource::Logger))
}

/// Most component names kept shared; past it each record gets its own copy.
const MAX_NAMES: usize = 4096;

/// Pending records and names are looked up by short keys at least once a line, where
/// SipHash's cost shows and its flooding resistance buys nothing (at most
/// [`MAX_PENDING`] keys, evicted oldest first); Fx hashes eight bytes a step.
type FastBuild = rustc_hash::FxBuildHasher;

/// Assembles records from parsed lines.
#[derive(Debug, Default)]
pub struct Joiner {
    pending: HashMap<Arc<str>, Pending, FastBuild>,
    last_key: Option<Arc<str>>,
    last_time: Option<DateTime<Utc>>,
    /// Component names seen, shared by every record that carries them.
    names: HashSet<Arc<str>, FastBuild>,
    /// The key of records that name no component.
    anonymous: Arc<str>,
}

impl Joiner {
    /// An empty joiner.
    pub fn new() -> Self {
        Self::default()
    }

    /// The shared copy of a component name.
    fn intern(&mut self, name: &str) -> Arc<str> {
        if let Some(n) = self.names.get(name) {
            return n.clone();
        }
        let n: Arc<str> = Arc::from(name);
        if self.names.len() < MAX_NAMES {
            self.names.insert(n.clone());
        }
        n
    }

    /// Adds one line whose own timestamp normalised to `time`. Finished records are
    /// appended to `done`. `headers` says whether the format marks every record with a
    /// header (then any line without one continues the record before it).
    pub fn push(
        &mut self,
        line_no: u64,
        parsed: Parsed<'_>,
        time: Option<DateTime<Utc>>,
        headers: bool,
        done: &mut Vec<Pending>,
    ) -> LineKind {
        if parsed.message.trim().is_empty() && !parsed.header && !parsed.continues {
            return LineKind::Blank;
        }
        let component = component_of(&parsed);
        // Records are kept apart by the stream that wrote them (the wrapper) first, so a
        // service's traceback joins that service's record.
        let named = parsed.wrapper.as_deref().or(component.map(|c| c.0));
        let key: Arc<str> = match (named, parsed.header) {
            (Some(k), _) => self.intern(k),
            // A record with no name of its own starts the file's anonymous key.
            (None, true) => self.anonymous.clone(),
            (None, false) => self
                .last_key
                .clone()
                .unwrap_or_else(|| self.anonymous.clone()),
        };
        let component = match component {
            // Without a wrapper the key is the component's own name, interned already.
            Some((_, source)) if parsed.wrapper.is_none() => Some((key.clone(), source)),
            Some((c, source)) => Some((self.intern(c), source)),
            None => None,
        };
        // One lookup serves both outcomes: the line joins the pending record, or starts
        // the record that replaces it.
        let mut slot = self.pending.entry(key);
        if let Entry::Occupied(e) = &mut slot {
            let p = e.get_mut();
            let forced = parsed.continues || p.partial || level_line(p, &parsed);
            let msg: &str = &parsed.message;
            // A traceback joins a record with a header (or a block already), not a bare
            // line of plain text: there it is a record of its own.
            let lone_traceback =
                msg.starts_with("Traceback (") && !p.header && p.continuation.is_empty();
            let joins = !parsed.header
                && !starts_record(msg)
                && !lone_traceback
                && (headers || p.in_stack || looks_like_continuation(msg));
            if forced || joins {
                if parsed.continues && time.is_some() {
                    self.last_time = time;
                }
                p.last_line = line_no;
                let kind = append(p, &parsed, time);
                set_last(&mut self.last_key, e.key());
                return kind;
            }
        }
        let kind = start_kind(&parsed);
        let record = start(line_no, parsed, time, component, self.last_time);
        if record.timestamp.is_some() {
            self.last_time = record.timestamp;
        }
        match slot {
            // A new record: the pending one of this component is finished.
            Entry::Occupied(mut e) => {
                set_last(&mut self.last_key, e.key());
                done.push(std::mem::replace(e.get_mut(), record));
            }
            Entry::Vacant(e) => {
                set_last(&mut self.last_key, e.key());
                e.insert(record);
            }
        }
        if self.pending.len() > MAX_PENDING {
            self.finish_oldest(done);
        }
        if self.pending.len() > 1 && line_no.is_multiple_of(1024) {
            self.finish_idle(line_no, done);
        }
        kind
    }

    /// The first line of the oldest pending record: every record finished so far that
    /// starts before it can be released in line order.
    pub fn oldest_pending(&self) -> Option<u64> {
        self.pending.values().map(|p| p.line).min()
    }

    /// The first line of the record the last pushed line went to.
    pub fn current_record(&self) -> Option<u64> {
        self.last_key
            .as_ref()
            .and_then(|k| self.pending.get(k))
            .map(|p| p.line)
    }

    /// Finishes records that have had no line for [`IDLE_LINES`] lines.
    fn finish_idle(&mut self, line_no: u64, done: &mut Vec<Pending>) {
        let idle: Vec<Arc<str>> = self
            .pending
            .iter()
            .filter(|(_, p)| line_no.saturating_sub(p.last_line) > IDLE_LINES)
            .map(|(k, _)| k.clone())
            .collect();
        for k in idle {
            if let Some(p) = self.pending.remove(&k) {
                done.push(p);
            }
        }
    }

    /// Finishes the quarter of the pending records that started first, so memory stays
    /// bounded however many components write (a record that waited that long gets no
    /// more lines); a quarter at a time keeps the cost per line constant.
    fn finish_oldest(&mut self, done: &mut Vec<Pending>) {
        let mut by_age: Vec<(u64, &Arc<str>)> = self
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
        let keys: Vec<Arc<str>> = by_age.into_iter().map(|(_, k)| k.clone()).collect();
        for k in keys {
            if let Some(p) = self.pending.remove(&k) {
                done.push(p);
            }
        }
    }

    /// Flushes every pending record (end of a source), in line order.
    pub fn finish(&mut self, done: &mut Vec<Pending>) {
        let mut rest: Vec<Pending> = self.pending.drain().map(|(_, p)| p).collect();
        rest.sort_by_key(|p| p.line);
        done.extend(rest);
        self.last_key = None;
        self.last_time = None;
    }
}

/// What a line that starts a record is.
fn start_kind(parsed: &Parsed<'_>) -> LineKind {
    if parsed.header {
        LineKind::Record
    } else {
        LineKind::Unparsed
    }
}

/// Notes `key` as the last line's, without touching the count of a key kept already.
fn set_last(last: &mut Option<Arc<str>>, key: &Arc<str>) {
    if !last.as_ref().is_some_and(|k| Arc::ptr_eq(k, key)) {
        *last = Some(key.clone());
    }
}

fn start(
    line_no: u64,
    parsed: Parsed<'_>,
    time: Option<DateTime<Utc>>,
    component: Option<(Arc<str>, ComponentSource)>,
    last_time: Option<DateTime<Utc>>,
) -> Pending {
    let message = parsed.message.into_owned();
    Pending {
        line: line_no,
        lines: 1,
        timestamp: time,
        inherited: last_time,
        level: parsed.level,
        explicit_level: parsed.explicit_level,
        component,
        logger: parsed.logger.map(|c| c.into_owned()),
        thread: parsed.thread.map(|c| c.into_owned()),
        trace_id: parsed.trace_id,
        span_id: parsed.span_id,
        fields: parsed
            .fields
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        bytes: message.len(),
        in_stack: starts_stack(&message),
        partial: parsed.partial,
        last_line: line_no,
        message,
        continuation: Vec::new(),
        header: parsed.header,
    }
}

fn append(p: &mut Pending, parsed: &Parsed<'_>, time: Option<DateTime<Utc>>) -> LineKind {
    let msg: &str = &parsed.message;
    let jul = level_line(p, parsed);
    p.lines = p.lines.saturating_add(1);
    p.partial = parsed.partial;
    if starts_stack(msg) {
        p.in_stack = true;
    } else if p.in_stack && ends_stack(msg) {
        p.in_stack = false;
    }
    // Lines the format knows (MinIO's `Time:` and `Error:`) complete the record.
    if parsed.continues {
        if p.timestamp.is_none() {
            p.timestamp = time;
        }
        if parsed.explicit_level && !p.explicit_level {
            p.level = parsed.level;
            p.explicit_level = true;
        }
    }
    if jul {
        p.level = parsed.level;
        p.explicit_level = true;
    }
    if p.trace_id.is_none() {
        p.trace_id = parsed.trace_id;
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

/// java.util.logging's two-line records (its `SimpleFormatter` default): a line with
/// the time and the logging class and method, then `LEVEL: message`. The second line
/// gives the first its level; it starts no record of its own.
fn level_line(p: &Pending, parsed: &Parsed<'_>) -> bool {
    // The cheap tests first: this runs for every line that has a record pending.
    if !(parsed.header
        && parsed.explicit_level
        && parsed.timestamp.is_none()
        && p.lines == 1
        && p.header
        && !p.explicit_level
        && p.timestamp.is_some())
    {
        return false;
    }
    let source_only = {
        let mut words = p.message.split(' ');
        let (class, method) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        words.next().is_none()
            && class.contains('.')
            && !method.is_empty()
            && method.bytes().all(|c| {
                c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c == b'<' || c == b'>'
            })
    };
    source_only && parsed.logger.is_none() && parsed.thread.is_none()
}

/// Lines with no header that start a record of their own even where records carry
/// headers: Go's `panic:` and `fatal error:`, Java's uncaught `Exception in thread`.
fn starts_record(line: &str) -> bool {
    line.starts_with("panic: ")
        || line.starts_with("fatal error: ")
        || line.starts_with("Exception in thread ")
}

/// Lines that continue a record even in formats without headers.
fn looks_like_continuation(line: &str) -> bool {
    line.starts_with([' ', '\t'])
        || line.starts_with("Caused by: ")
        || line.starts_with("Suppressed: ")
        || line.starts_with("... ")
        || line.starts_with("[signal ")
        || starts_stack(line)
        || line.starts_with("During handling of the above exception")
        || line.starts_with("The above exception was the direct cause")
        || exception_line(line)
}

/// A Java exception's first line: a qualified class name ending in `Exception`,
/// `Error` or `Throwable`, alone or followed by `: message`.
fn exception_line(line: &str) -> bool {
    let head = line
        .split(": ")
        .next()
        .unwrap_or(line)
        .trim_end_matches(':');
    let b = head.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_lowercase()
        && head.contains('.')
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'$' | b'_'))
        && (head.ends_with("Exception") || head.ends_with("Error") || head.ends_with("Throwable"))
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
    use crate::logs::formats::{detect, FormatSpec, Parser};

    fn join(parser: Parser, text: &str) -> (Vec<Pending>, Vec<LineKind>) {
        let mut j = Joiner::new();
        let mut done = Vec::new();
        let mut kinds = Vec::new();
        for (i, l) in text.lines().enumerate() {
            kinds.push(j.push(
                i as u64 + 1,
                parser.parse_line(l),
                None,
                parser.has_headers(),
                &mut done,
            ));
        }
        j.finish(&mut done);
        (done, kinds)
    }

    fn plain() -> Parser {
        Parser::detected(&detect(["just words", "more words"]))
    }

    #[test]
    fn java_stack_joins() {
        let text = "2015-10-18 18:01:47,978 ERROR [main] org.Foo: failed\n\
                    java.lang.IllegalStateException: boom\n\
                    \tat org.Foo.bar(Foo.java:12)\n\
                    Caused by: java.io.IOException: disk\n\
                    \t... 3 more\n\
                    2015-10-18 18:01:48,000 INFO [main] org.Foo: next";
        let (recs, kinds) = join(Parser::new(FormatSpec::Log4j), text);
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
    fn exception_first_lines_join_in_plain_text() {
        let text = "request failed\norg.example.PaymentException: card declined\n\tat org.example.Pay.run(Pay.java:3)\nnext";
        let (recs, _) = join(plain(), text);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].continuation.len(), 2);
    }

    #[test]
    fn python_traceback_in_plain_text() {
        // In plain text a traceback has no header to belong to: it is a record itself.
        let text = "starting job\nTraceback (most recent call last):\n  File \"a.py\", line 1, in <module>\nValueError: bad\nnext record";
        let (recs, _) = join(plain(), text);
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[1].continuation.len(), 2);
        assert_eq!(recs[1].level, Level::Error);
        assert_eq!(recs[2].message, "next record");
        // After a header it joins that record.
        let text = "ERROR: job failed\nTraceback (most recent call last):\n  File \"a.py\", line 1, in <module>\nValueError: bad";
        let (recs, _) = join(plain(), text);
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].continuation.len(), 3);
    }

    #[test]
    fn go_panic_starts_its_own_record() {
        let text = "2025-11-03T20:36:40Z INFO serving\npanic: runtime error: index out of range\n[signal SIGSEGV: segmentation violation]\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:5 +0x1d";
        let parser = Parser::new(FormatSpec::Text { prefix: 0 });
        let (recs, kinds) = join(parser, text);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].level, Level::Critical);
        assert_eq!(recs[1].continuation.len(), 4);
        assert_eq!(kinds[3], LineKind::Blank);
    }

    #[test]
    fn postgres_detail_and_minio_blocks() {
        let pg = "2025-11-03 20:36:40.123 UTC [12] ERROR:  duplicate key\n\
                  2025-11-03 20:36:40.123 UTC [12] DETAIL:  Key (id)=(1) already exists.\n\
                  2025-11-03 20:36:40.123 UTC [12] STATEMENT:  INSERT INTO t VALUES (1)\n\
                  2025-11-03 20:36:41.000 UTC [7] LOG:  checkpoint starting: time";
        let (recs, _) = join(Parser::new(FormatSpec::Postgres), pg);
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].continuation.len(), 2);
        let minio = "API: SYSTEM()\nTime: 20:36:40 UTC 11/03/2025\nError: drive offline (*errors.errorString)\n       1: cmd/x.go:12:cmd.f()\nAPI: SYSTEM()";
        let mut j = Joiner::new();
        let mut done = Vec::new();
        let parser = Parser::new(FormatSpec::Minio);
        for (i, l) in minio.lines().enumerate() {
            let p = parser.parse_line(l);
            let t = p
                .timestamp
                .as_deref()
                .and_then(|t| crate::logs::time::parse_timestamp(t, 2025));
            j.push(i as u64 + 1, p, t, true, &mut done);
        }
        j.finish(&mut done);
        assert_eq!(done.len(), 2);
        assert_eq!(done[0].level, Level::Error);
        assert!(done[0].timestamp.is_some());
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
                parser.parse_line(&l),
                None,
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
        let (recs, _) = join(Parser::new(FormatSpec::Compose), text);
        let name = |r: &Pending| r.component.as_ref().map(|c| c.0.to_string());
        let app: Vec<&Pending> = recs
            .iter()
            .filter(|r| name(r).as_deref() == Some("app-1"))
            .collect();
        assert_eq!(app.len(), 1);
        assert_eq!(app[0].continuation.len(), 3);
        assert_eq!(
            recs.iter()
                .filter(|r| name(r).as_deref() == Some("db-1"))
                .count(),
            2
        );
    }

    #[test]
    fn pending_records_are_bounded() {
        let mut j = Joiner::new();
        let mut done = Vec::new();
        let parser = Parser::new(FormatSpec::Logfmt);
        let n = MAX_PENDING as u64 + 50;
        for i in 0..n {
            let line = format!("level=info msg=hi service=svc{i}");
            j.push(i + 1, parser.parse_line(&line), None, false, &mut done);
            assert!(j.pending.len() <= MAX_PENDING);
        }
        j.finish(&mut done);
        assert_eq!(done.len() as u64, n);
    }
}
