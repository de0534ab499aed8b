//! Reading one source into [`Record`]s: the format is detected on the head of the file
//! (or given), every line is parsed (with the per-line fallback), multi-line records
//! are joined, timestamps are normalised in the file's [`TimeContext`] (a record with
//! none takes the one before it and says so), and the component falls back to what the
//! path says (a Kubernetes container, then the file name). `analyze`, `loglens parse`
//! and the parse benchmarks all read through here.
//!
//! Per source it also counts what could not be read: records without a timestamp, a
//! level field or a component of their own, and the first lines no format explained.

use std::collections::VecDeque;
use std::path::Path;

use serde::Serialize;

use super::formats::{detect, Detection, FormatSpec, Parser, DETECT_LINES};
use super::ingest::{self, LineReader, LineStats, Opened, Source};
use super::multiline::{Joiner, LineKind, Pending};
use super::record::{ComponentSource, Record};
use super::time::{parse_timestamp_in, TimeContext};
use super::LogsError;

/// Lines kept as examples of what no format explained.
pub const UNPARSED_SAMPLES: usize = 5;
/// Bytes kept of each such line.
const SAMPLE_BYTES: usize = 240;

/// What one source's records lacked, and where parsing gave up.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ParseStats {
    /// Records.
    pub records: u64,
    /// Records whose first line had no recognised header.
    pub unparsed_records: u64,
    /// Lines joined to the record before them.
    pub continuation_lines: u64,
    /// Continuation lines counted but not kept (record size caps).
    pub continuation_dropped: u64,
    /// Empty lines.
    pub blank_lines: u64,
    /// Records with no timestamp at all (none of their own, none before them).
    pub without_timestamp: u64,
    /// Records that took the timestamp of the record before them.
    pub inferred_timestamp: u64,
    /// Records whose level was guessed from words (no level field).
    pub without_level: u64,
    /// Records that named no component themselves (the path or file name did).
    pub without_component: u64,
    /// The first lines that started a record no format explained: (line, text).
    pub unparsed_samples: Vec<(u64, String)>,
}

impl ParseStats {
    fn count_line(&mut self, kind: LineKind, line_no: u64, line: &str) {
        match kind {
            LineKind::Record => self.records += 1,
            LineKind::Unparsed => {
                self.records += 1;
                self.unparsed_records += 1;
                if self.unparsed_samples.len() < UNPARSED_SAMPLES {
                    let mut end = line.len().min(SAMPLE_BYTES);
                    while !line.is_char_boundary(end) {
                        end -= 1;
                    }
                    self.unparsed_samples
                        .push((line_no, line[..end].to_string()));
                }
            }
            LineKind::Continuation => self.continuation_lines += 1,
            LineKind::Dropped => {
                self.continuation_lines += 1;
                self.continuation_dropped += 1;
            }
            LineKind::Blank => self.blank_lines += 1,
        }
    }

    fn count_record(&mut self, r: &Record) {
        if r.timestamp.is_none() {
            self.without_timestamp += 1;
        } else if r.timestamp_inferred {
            self.inferred_timestamp += 1;
        }
        if !r.level_explicit {
            self.without_level += 1;
        }
        if matches!(
            r.component_source,
            ComponentSource::File | ComponentSource::None
        ) {
            self.without_component += 1;
        }
    }
}

/// Turns the lines of one source into records.
#[derive(Debug)]
pub struct FileParser {
    parser: Parser,
    detection: Detection,
    ctx: TimeContext,
    fallback_component: (std::sync::Arc<str>, ComponentSource),
    joiner: Joiner,
    done: Vec<Pending>,
    /// Finished records waiting for an older pending one, in line order. Records finish
    /// nearly in line order, so most join at the back.
    held: VecDeque<Pending>,
    line_no: u64,
    stats: ParseStats,
}

impl FileParser {
    /// A parser for a source whose head (its first lines) is `head`: `format` when
    /// given, else the detected one. `path` names the component when the records
    /// do not; `ctx` completes yearless and time-only timestamps.
    pub fn new(
        head: &[String],
        format: Option<FormatSpec>,
        path: Option<&Path>,
        ctx: TimeContext,
    ) -> Self {
        let detected = detect(head.iter().map(String::as_str));
        let detection = match format {
            Some(spec) => {
                let parser = Parser::new(spec.clone());
                Detection {
                    hits: detected.hits.min(detected.lines),
                    headers: parser.has_headers(),
                    spec,
                    ..detected
                }
            }
            None => detected,
        };
        Self {
            parser: Parser::detected(&detection),
            detection,
            ctx,
            fallback_component: path.and_then(path_component).map_or_else(
                || ("-".into(), ComponentSource::None),
                |(n, s)| (n.into(), s),
            ),
            joiner: Joiner::new(),
            done: Vec::new(),
            held: VecDeque::new(),
            line_no: 0,
            stats: ParseStats::default(),
        }
    }

    /// The format chosen and how well it read the head.
    pub fn detection(&self) -> &Detection {
        &self.detection
    }

    /// Adds the next physical line.
    pub fn push(&mut self, line: &str) -> LineKind {
        self.line_no += 1;
        let parsed = self.parser.parse_line(line);
        let time = parsed.time.or_else(|| {
            parsed
                .timestamp
                .as_deref()
                .and_then(|t| parse_timestamp_in(t, &self.ctx))
        });
        let kind = self.joiner.push(
            self.line_no,
            parsed,
            time,
            self.parser.has_headers(),
            &mut self.done,
        );
        self.stats.count_line(kind, self.line_no, line);
        kind
    }

    /// Ends the source: every pending record is finished.
    pub fn finish(&mut self) {
        self.joiner.finish(&mut self.done);
    }

    /// The first line of the record the last pushed line went to (None for a blank
    /// line that started none).
    pub fn current_record(&self) -> Option<u64> {
        self.joiner.current_record()
    }

    /// The records finished so far, in line order: a record is released once no record
    /// that started before it is still pending.
    pub fn drain(&mut self) -> Vec<Record> {
        let mut out = Vec::new();
        self.drain_with(&mut |r| out.push(r));
        out
    }

    /// [`FileParser::drain`] without collecting: each record goes to `f`.
    pub fn drain_with(&mut self, f: &mut dyn FnMut(Record)) {
        if self.done.is_empty() {
            return;
        }
        let oldest = self.joiner.oldest_pending().unwrap_or(u64::MAX);
        if self.held.is_empty() && self.done.len() == 1 && self.done[0].line < oldest {
            // The common case (one stream, one record finished): nothing to reorder.
            if let Some(p) = self.done.pop() {
                let r = self.record(p);
                self.stats.count_record(&r);
                f(r);
            }
            return;
        }
        if self.done.len() == 1 {
            // One record (the usual case): at the back, or where its line puts it.
            for p in self.done.drain(..) {
                let at = match self.held.back() {
                    Some(last) if last.line > p.line => {
                        self.held.partition_point(|h| h.line < p.line)
                    }
                    _ => self.held.len(),
                };
                self.held.insert(at, p);
            }
        } else {
            // A batch (idle or evicted records): one sort of a queue that is in order
            // but for the batch, rather than a shifting insert per record.
            self.held.extend(self.done.drain(..));
            self.held.make_contiguous().sort_unstable_by_key(|p| p.line);
        }
        while self.held.front().is_some_and(|p| p.line < oldest) {
            if let Some(p) = self.held.pop_front() {
                let r = self.record(p);
                self.stats.count_record(&r);
                f(r);
            }
        }
    }

    /// Counts so far.
    pub fn stats(&self) -> &ParseStats {
        &self.stats
    }

    fn record(&self, p: Pending) -> Record {
        let (component, component_source) = p
            .component
            .unwrap_or_else(|| self.fallback_component.clone());
        let inferred = p.timestamp.is_none() && p.inherited.is_some();
        Record {
            line: p.line,
            lines: p.lines,
            timestamp: p.timestamp.or(p.inherited),
            timestamp_inferred: inferred,
            level: p.level,
            level_explicit: p.explicit_level,
            component,
            component_source,
            logger: p.logger,
            thread: p.thread,
            trace_id: p.trace_id,
            span_id: p.span_id,
            fields: p.fields,
            message: p.message,
            continuation: p.continuation,
            header: p.header,
        }
    }
}

/// The component a path names: a Kubernetes container (`/var/log/containers/<pod>_<ns>_
/// <container>-<id>.log`, `/var/log/pods/<ns>_<pod>_<uid>/<container>/0.log`), else the
/// file name without extensions, rotation and date suffixes (`payment-service.log.1`,
/// `x-2025-11-03.log.gz` -> `x`), or the directory's name for generic file names
/// (`nginx/access.log` -> `nginx`).
pub fn path_component(path: &Path) -> Option<(String, ComponentSource)> {
    let name = path.file_name()?.to_str()?;
    let parent = path.parent();
    let parent_name = parent
        .and_then(Path::file_name)
        .and_then(|p| p.to_str())
        .unwrap_or("");
    let grand = parent
        .and_then(Path::parent)
        .and_then(Path::file_name)
        .and_then(|p| p.to_str())
        .unwrap_or("");
    if parent_name == "containers" {
        // <pod>_<namespace>_<container>-<64 hex>.log
        let stem = name.strip_suffix(".log").unwrap_or(name);
        let last = stem.rsplit('_').next().unwrap_or("");
        if stem.matches('_').count() >= 2 {
            if let Some((container, id)) = last.rsplit_once('-') {
                if id.len() == 64 && !container.is_empty() {
                    return Some((container.to_string(), ComponentSource::Wrapper));
                }
            }
        }
    }
    if grand.matches('_').count() >= 2 && name.trim_end_matches(".log").parse::<u32>().is_ok() {
        // /var/log/pods/<ns>_<pod>_<uid>/<container>/0.log
        return Some((parent_name.to_string(), ComponentSource::Wrapper));
    }
    let stem = file_stem(name);
    if stem.is_empty() || is_generic(&stem) {
        let dir = file_stem(parent_name);
        let usable = !dir.is_empty()
            && !dir.starts_with('.')
            && !is_generic(&dir)
            && !matches!(dir.as_str(), "log" | "logs" | "tmp" | "var" | "data");
        if usable {
            return Some((dir, ComponentSource::File));
        }
    }
    (!stem.is_empty()).then_some((stem, ComponentSource::File))
}

/// `payment-service.log.1` -> `payment-service`; `x-2025-11-03.log.gz` -> `x`;
/// `<64 hex>-json.log` -> the first 12 hex digits (a Docker container id).
fn file_stem(name: &str) -> String {
    let mut s = name;
    loop {
        let before = s.len();
        for ext in [
            ".gz", ".bz2", ".xz", ".zst", ".log", ".txt", ".out", ".err", ".json", ".jsonl",
            ".ndjson", ".csv",
        ] {
            s = s.strip_suffix(ext).unwrap_or(s);
        }
        // logrotate's numbers: `.1`, `.12`.
        if let Some((head, n)) = s.rsplit_once('.') {
            if !head.is_empty() && !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) {
                s = head;
            }
        }
        s = &s[..date_suffix(s)];
        if s.len() == before {
            break;
        }
    }
    let s = s.strip_suffix("-json").unwrap_or(s);
    if s.len() == 64 && s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return s[..12].to_string();
    }
    s.to_string()
}

/// Where a date suffix (`-2025-11-03`, `_20251103`, `.2025-11-03_000000`) starts, or
/// the end when there is none.
fn date_suffix(s: &str) -> usize {
    let b = s.as_bytes();
    for (i, &c) in b.iter().enumerate().skip(1) {
        if !matches!(c, b'-' | b'_' | b'.') {
            continue;
        }
        let rest = &b[i + 1..];
        let digits: Vec<u8> = rest
            .iter()
            .copied()
            .take_while(|c| c.is_ascii_digit() || matches!(c, b'-' | b'_' | b'.'))
            .filter(u8::is_ascii_digit)
            .collect();
        let all_datey = rest
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'_' | b'.' | b':' | b'T'));
        if all_datey && digits.len() >= 8 && digits.starts_with(b"20") {
            return i;
        }
    }
    s.len()
}

fn is_generic(stem: &str) -> bool {
    matches!(
        stem,
        "access"
            | "error"
            | "errors"
            | "server"
            | "app"
            | "application"
            | "output"
            | "out"
            | "stdout"
            | "stderr"
            | "current"
            | "messages"
            | "syslog"
            | "log"
            | "console"
            | "main"
            | "debug"
            | "info"
            | "all"
            | "combined"
            | "service"
            | "system"
    ) || stem.bytes().all(|c| c.is_ascii_digit())
}

/// What reading one source gave.
#[derive(Debug, Clone)]
pub struct SourceSummary {
    /// The format chosen and how well it read the head.
    pub detection: Detection,
    /// Counts of what records lacked.
    pub parse: ParseStats,
    /// Line counters.
    pub lines: LineStats,
    /// A read error after part of the source was read (what was read is kept).
    pub error: Option<String>,
}

/// How a source turned out.
#[derive(Debug, Clone)]
pub enum SourceRead {
    /// Read (to the end, or to a read error noted in the summary).
    Text(Box<SourceSummary>),
    /// Skipped: the source looks binary.
    Binary,
}

/// Settings for reading sources.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The format, when not detected.
    pub format: Option<FormatSpec>,
    /// Year for yearless timestamps (default: the file's modification year).
    pub year: Option<i32>,
    /// Line length limit in bytes.
    pub max_line_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            format: None,
            year: None,
            max_line_bytes: ingest::DEFAULT_MAX_LINE,
        }
    }
}

/// Reads one source to its records, calling `on_record` for each as it is finished and
/// `progress` with the bytes read so far from time to time. Fails only when the source
/// cannot be opened; a read error later ends the source with what was read.
pub fn read_source(
    source: &Source,
    opts: &ReadOptions,
    on_record: &mut dyn FnMut(Record),
    progress: &dyn Fn(u64),
) -> Result<SourceRead, LogsError> {
    let stream = match ingest::open(source)? {
        Opened::Text(s) => s,
        Opened::Binary => return Ok(SourceRead::Binary),
    };
    let mut reader = LineReader::new(stream, opts.max_line_bytes);
    let mut head = Vec::new();
    let mut line = String::new();
    let mut error = None;
    while head.len() < DETECT_LINES {
        match reader.next_line(&mut line) {
            Ok(true) => head.push(line.clone()),
            Ok(false) => break,
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    let path = match source {
        Source::File(p) => Some(p.as_path()),
        Source::Stdin => None,
    };
    let ctx = ingest::time_context(source, opts.year);
    let mut fp = FileParser::new(&head, opts.format.clone(), path, ctx);
    let mut emit = |fp: &mut FileParser| fp.drain_with(on_record);
    for l in &head {
        fp.push(l);
        emit(&mut fp);
    }
    drop(head);
    while error.is_none() {
        match reader.next_line(&mut line) {
            Ok(true) => {
                fp.push(&line);
                emit(&mut fp);
                let stats = reader.stats();
                if stats.lines % 65_536 == 0 {
                    progress(stats.bytes);
                }
            }
            Ok(false) => break,
            Err(e) => {
                tracing::warn!(file = %source.display(), cause = %e, "read error");
                error = Some(e.to_string());
            }
        }
    }
    fp.finish();
    emit(&mut fp);
    let lines = reader.stats();
    progress(lines.bytes);
    Ok(SourceRead::Text(Box::new(SourceSummary {
        detection: fp.detection.clone(),
        parse: fp.stats.clone(),
        lines,
        error,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn comp(p: &str) -> Option<String> {
        path_component(&PathBuf::from(p)).map(|c| c.0)
    }

    #[test]
    fn components_from_paths() {
        assert_eq!(
            comp("/var/log/payment-service.log").as_deref(),
            Some("payment-service")
        );
        assert_eq!(comp("x.log.1").as_deref(), Some("x"));
        assert_eq!(
            comp("/var/log/rabbitmq/rabbit@mq-0.log").as_deref(),
            Some("rabbit@mq-0")
        );
        assert_eq!(
            comp("/var/log/cassandra/system.log").as_deref(),
            Some("cassandra")
        );
        assert_eq!(comp("logs/x-2025-11-03.log.gz").as_deref(), Some("x"));
        assert_eq!(comp("/var/log/nginx/access.log").as_deref(), Some("nginx"));
        assert_eq!(comp("/tmp/.tmpAb12/app.log").as_deref(), Some("app"));
        assert_eq!(comp("/var/log/app.log").as_deref(), Some("app"));
        assert_eq!(
            comp("/var/log/postgresql/postgresql-2025-11-03_000000.log").as_deref(),
            Some("postgresql")
        );
        let id = "a".repeat(64);
        assert_eq!(
            comp(&format!(
                "/var/log/containers/api-7d9f_prod_api-server-{id}.log"
            ))
            .as_deref(),
            Some("api-server")
        );
        assert_eq!(
            comp("/var/log/pods/prod_api-7d9f_1234-5678/api-server/0.log").as_deref(),
            Some("api-server")
        );
        assert_eq!(
            comp(&format!("/var/lib/docker/containers/{id}/{id}-json.log")).as_deref(),
            Some("aaaaaaaaaaaa")
        );
    }

    #[test]
    fn records_inherit_timestamps_and_name_their_component() {
        let head: Vec<String> = [
            "2025-11-03 20:36:40,123 INFO starting",
            "INFO: no time of its own",
            "2025-11-03 20:36:41,000 ERROR failed",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut fp = FileParser::new(
            &head,
            None,
            Some(Path::new("/tmp/orders.log")),
            TimeContext::year(2025),
        );
        for l in &head {
            fp.push(l);
        }
        fp.finish();
        let recs = fp.drain();
        assert_eq!(recs.len(), 3);
        assert!(recs[1].timestamp_inferred);
        assert_eq!(recs[1].timestamp, recs[0].timestamp);
        assert!(recs.iter().all(|r| &*r.component == "orders"));
        assert_eq!(fp.stats().inferred_timestamp, 1);
        assert_eq!(fp.stats().without_component, 3);
    }
}
