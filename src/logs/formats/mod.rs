//! Log formats: one parser per format, detection per file from its first lines, a
//! per-line fallback for files that mix formats, and per-path overrides.
//!
//! Every parser turns one physical line into a [`Parsed`] line: timestamp text, level,
//! service, logger, thread, ids, other fields and the message. A line that starts a
//! record has `header` set; a line the format says belongs to the record before it
//! (postgres `DETAIL:`, MinIO's `Time:`) has `continues` set; any other line is left to
//! the multi-line joiner. Formats that wrap another line (docker compose, `kubectl logs
//! --prefix`, Kubernetes CRI, Docker's json-file) parse the inner line again with the
//! line-level formats.
//!
//! Detection ([`detect`]) scores every candidate format on the head of a file: a line
//! counts when the format reads it as a header, more when its timestamp really parses
//! and more again when it has an explicit level field. The best score wins; ties go to
//! the more specific format. Loghub header presets are candidates like the others; text
//! no format explains is read by the `text` layout walker. Within a file, a line the
//! chosen format does not read is tried with the other line formats, so a gunicorn log
//! with klog lines, or compose output of many services, reads line by line.

use std::borrow::Cow;

use super::level::{infer_level, Level};
use super::record::{SpanId, TraceId};
use super::time::{parse_timestamp_in, TimeContext};
use super::LogsError;

mod access;
mod airflow;
mod compose;
mod cri;
pub(crate) mod fields;
pub mod header;
mod json;
mod klog;
mod log4j;
mod logcat;
mod logfmt;
mod minio;
mod postgres;
mod python;
mod redis;
mod syslog;
mod text;

pub use fields::names_service;
pub use header::HeaderPattern;

/// Fields of structured records (JSON, logfmt) that carry the error a record reports.
pub(crate) const ERROR_FIELDS: &[&str] = &[
    "error",
    "err",
    "exception",
    "error.message",
    "error_message",
    "reason",
    "cause",
];
/// Fields that name the system a failing record was talking to.
pub(crate) const PEER_FIELDS: &[&str] = &[
    "upstream",
    "peer",
    "peer.service",
    "target",
    "remote",
    "server.address",
    "dependency",
];

/// `message` with the error a structured record carries in its own field (and the
/// system it was talking to), so templates and root-cause signatures see what failed.
pub(crate) fn with_error<'a>(
    message: Cow<'a, str>,
    err: Option<String>,
    peer: Option<String>,
) -> Cow<'a, str> {
    let Some(err) = err.filter(|e| !e.is_empty() && !message.contains(e.as_str())) else {
        return message;
    };
    let mut m = format!("{message}: {err}");
    if let Some(peer) = peer.filter(|p| !p.is_empty() && !m.contains(p.as_str())) {
        m = format!("{m} (upstream {peer})");
    }
    Cow::Owned(m)
}

/// One physical line, parsed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed<'a> {
    /// Timestamp as printed (normalised later by [`crate::logs::time`]).
    pub timestamp: Option<Cow<'a, str>>,
    /// `timestamp` already normalised, when the parser read it and it needs nothing of
    /// the file's context (it prints its year and date).
    pub time: Option<chrono::DateTime<chrono::Utc>>,
    /// Level found in the line's own fields, or inferred from the message.
    pub level: Level,
    /// Whether `level` came from an explicit field (rather than keywords).
    pub explicit_level: bool,
    /// A field of the line that names its service (`service.name`, syslog app name).
    pub service: Option<Cow<'a, str>>,
    /// The service named by what wraps the line (compose or kubectl prefix).
    pub wrapper: Option<Cow<'a, str>>,
    /// Logger or class.
    pub logger: Option<Cow<'a, str>>,
    /// Thread, goroutine or context.
    pub thread: Option<Cow<'a, str>>,
    /// Trace id.
    pub trace_id: Option<TraceId>,
    /// Span id.
    pub span_id: Option<SpanId>,
    /// Other fields (pid, MDC values, JSON attributes).
    pub fields: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// The message part.
    pub message: Cow<'a, str>,
    /// True when the line starts a record with a recognised header.
    pub header: bool,
    /// True when the format says the line belongs to the record before it.
    pub continues: bool,
    /// True when the line was cut by its writer and goes on in the next line (CRI `P`).
    pub partial: bool,
    /// True when a wrapper (compose, CRI, Docker) recognised the line, header or not.
    pub wrapped: bool,
}

impl<'a> Parsed<'a> {
    /// A line with no recognised header: the whole line is the message, the level is
    /// guessed from its words.
    pub fn bare(line: &'a str) -> Self {
        Parsed {
            level: infer_level(line),
            message: Cow::Borrowed(line),
            ..Default::default()
        }
    }

    /// Fills `level` from an explicit level text, or from the message when there is none.
    pub(crate) fn with_level(mut self, level_text: Option<&str>) -> Self {
        match level_text.and_then(Level::parse) {
            Some(l) => {
                self.level = l;
                self.explicit_level = true;
            }
            None => self.level = infer_level(&self.message),
        }
        self
    }

    /// The same line, owning its text.
    pub fn into_owned(self) -> Parsed<'static> {
        let own = |c: Option<Cow<'a, str>>| c.map(|c| Cow::Owned(c.into_owned()));
        Parsed {
            timestamp: own(self.timestamp),
            time: self.time,
            level: self.level,
            explicit_level: self.explicit_level,
            service: own(self.service),
            wrapper: own(self.wrapper),
            logger: own(self.logger),
            thread: own(self.thread),
            trace_id: self.trace_id,
            span_id: self.span_id,
            fields: self
                .fields
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), Cow::Owned(v.into_owned())))
                .collect(),
            message: Cow::Owned(self.message.into_owned()),
            header: self.header,
            continues: self.continues,
            partial: self.partial,
            wrapped: self.wrapped,
        }
    }
}

/// The formats loglens reads.
#[derive(Debug, Clone, PartialEq)]
pub enum FormatSpec {
    /// `docker compose logs` output (`service-1  | inner line`) and `kubectl logs
    /// --prefix` output (`[pod/name/container] inner line`).
    Compose,
    /// Kubernetes CRI container log lines.
    Cri,
    /// JSON lines (Docker's json-file lines included).
    Json,
    /// logfmt (`key=value` pairs).
    Logfmt,
    /// Kubernetes klog / glog.
    Klog,
    /// Android logcat.
    Logcat,
    /// PostgreSQL server log.
    Postgres,
    /// MinIO console error blocks.
    Minio,
    /// Redis server log.
    Redis,
    /// Apache / nginx common and combined access logs.
    Access,
    /// Syslog, RFC 3164 and RFC 5424, and journald's short formats.
    Syslog,
    /// Airflow task and scheduler logs.
    Airflow,
    /// Python `logging` default formats.
    Python,
    /// log4j / Spark / Hadoop layouts.
    Log4j,
    /// A header pattern such as `<Date> <Time> <Level> <Logger>: <Content>`.
    Header(HeaderPattern),
    /// Text of any layout: timestamp, level and header fields read by their shape,
    /// after `prefix` words that stand before the timestamp.
    Text {
        /// Words before the timestamp (a file name, a label), learnt from the head.
        prefix: u8,
    },
}

/// Named header patterns for the Loghub systems (also usable as format names).
pub const PRESETS: &[(&str, &str)] = &[
    ("hdfs", "<Date> <Time> <Pid> <Level> <Logger>: <Content>"),
    (
        "hadoop",
        "<Date> <Time> <Level> [<Thread>] <Logger>: <Content>",
    ),
    ("spark", "<Date> <Time> <Level> <Logger>: <Content>"),
    (
        "zookeeper",
        "<Date> <Time> - <Level>  [<Thread>:<Logger>@<Id>] - <Content>",
    ),
    (
        "bgl",
        "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Logger> <Level> <Content>",
    ),
    (
        "hpc",
        "<LogId> <Node> <Logger> <State> <Time> <Flag> <Content>",
    ),
    (
        "openssh",
        "<Month> <Day> <Time> <Host> <Component>[<Pid>]: <Content>",
    ),
    ("apache", "[<Time>] [<Level>] <Content>"),
];

/// Names accepted by [`FormatSpec::parse`], for messages and help.
pub const FORMAT_NAMES: &str = "compose, cri, json, logfmt, klog, logcat, postgres, minio, \
    redis, access, syslog, airflow, python, log4j, text (alias generic), a Loghub preset \
    (hdfs, hadoop, spark, zookeeper, bgl, hpc, openssh, apache) or a header pattern \
    containing <Content>";

/// Line formats, most specific first: detection candidates (with the presets and the
/// text walker) and, in this order, the per-line fallback.
const LINE_FORMATS: &[FormatSpec] = &[
    FormatSpec::Json,
    FormatSpec::Klog,
    FormatSpec::Logcat,
    FormatSpec::Postgres,
    FormatSpec::Redis,
    FormatSpec::Access,
    FormatSpec::Airflow,
    FormatSpec::Python,
    FormatSpec::Log4j,
    FormatSpec::Syslog,
    FormatSpec::Logfmt,
];

/// Head lines scored by detection.
pub const DETECT_LINES: usize = 100;

impl FormatSpec {
    /// Parses a format name (`json`, `syslog`, `hdfs`, ...) or a header pattern
    /// (anything containing `<Content>`).
    pub fn parse(spec: &str) -> Result<Self, LogsError> {
        let s = spec.trim();
        if s.contains('<') {
            return Ok(FormatSpec::Header(HeaderPattern::compile(s)?));
        }
        let lower = s.to_ascii_lowercase();
        if let Some((_, pat)) = PRESETS.iter().find(|(n, _)| *n == lower) {
            return Ok(FormatSpec::Header(HeaderPattern::compile(pat)?));
        }
        Ok(match lower.as_str() {
            "compose" | "docker-compose" | "kubectl" => FormatSpec::Compose,
            "cri" | "k8s" | "containerd" => FormatSpec::Cri,
            "json" | "jsonl" | "ndjson" | "docker" => FormatSpec::Json,
            "logfmt" => FormatSpec::Logfmt,
            "klog" | "glog" => FormatSpec::Klog,
            "logcat" | "android" => FormatSpec::Logcat,
            "postgres" | "postgresql" => FormatSpec::Postgres,
            "minio" => FormatSpec::Minio,
            "redis" => FormatSpec::Redis,
            "access" | "nginx" | "clf" => FormatSpec::Access,
            "syslog" | "journald" => FormatSpec::Syslog,
            "airflow" => FormatSpec::Airflow,
            "python" => FormatSpec::Python,
            "log4j" => FormatSpec::Log4j,
            "text" | "generic" => FormatSpec::Text { prefix: 0 },
            other => match other.strip_prefix("text+").and_then(|n| n.parse().ok()) {
                Some(prefix) if prefix <= 4 => FormatSpec::Text { prefix },
                _ => {
                    return Err(LogsError::FormatSpec {
                        spec: spec.to_string(),
                        reason: format!("unknown format name; use one of {FORMAT_NAMES}"),
                    })
                }
            },
        })
    }

    /// Short name for reports (a preset by its name).
    pub fn name(&self) -> String {
        match self {
            FormatSpec::Compose => "compose".into(),
            FormatSpec::Cri => "cri".into(),
            FormatSpec::Json => "json".into(),
            FormatSpec::Logfmt => "logfmt".into(),
            FormatSpec::Klog => "klog".into(),
            FormatSpec::Logcat => "logcat".into(),
            FormatSpec::Postgres => "postgres".into(),
            FormatSpec::Minio => "minio".into(),
            FormatSpec::Redis => "redis".into(),
            FormatSpec::Access => "access".into(),
            FormatSpec::Syslog => "syslog".into(),
            FormatSpec::Airflow => "airflow".into(),
            FormatSpec::Python => "python".into(),
            FormatSpec::Log4j => "log4j".into(),
            FormatSpec::Header(h) => match PRESETS.iter().find(|(_, p)| *p == h.source()) {
                Some((name, _)) => (*name).to_string(),
                None => format!("header:{}", h.source()),
            },
            FormatSpec::Text { prefix: 0 } => "text".into(),
            FormatSpec::Text { prefix } => format!("text+{prefix}"),
        }
    }

    /// Picks the format of a file from its first lines (see [`detect`]).
    pub fn detect<'a>(lines: impl IntoIterator<Item = &'a str>) -> Self {
        detect(lines).spec
    }

    /// Whether lines of this format carry a header on every record, so a line without
    /// one continues the previous record.
    fn has_headers(&self) -> bool {
        !matches!(self, FormatSpec::Json | FormatSpec::Logfmt)
    }
}

/// The outcome of format detection on the head of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// The chosen format.
    pub spec: FormatSpec,
    /// Non-blank head lines scored.
    pub lines: usize,
    /// Of those, lines the chosen format reads (as a header or as a continuation it
    /// knows).
    pub hits: usize,
    /// Whether records carry headers (a line without one continues the record before).
    pub headers: bool,
    /// The runner-up and its hits, when another format read the head too.
    pub runner_up: Option<(String, usize)>,
}

impl Detection {
    /// Share of scored lines the chosen format reads (0 for an empty head).
    pub fn hit_rate(&self) -> f64 {
        if self.lines == 0 {
            0.0
        } else {
            self.hits as f64 / self.lines as f64
        }
    }
}

/// Below this share of head lines with a header, text is read as plain lines (each a
/// record unless it looks like a continuation) rather than as records with headers.
const MIN_HEADER_SHARE: f64 = 0.3;

/// Scores of one candidate on the head.
#[derive(Debug, Clone, Copy, Default)]
struct Score {
    points: u32,
    hits: usize,
}

/// Scores `spec` on `lines`: 2 points a header line (or a wrapper's line), 2 more when
/// its timestamp parses, 1 more for an explicit level; a continuation line the format
/// knows scores as a header with a level.
fn score(spec: &FormatSpec, lines: &[&str]) -> Score {
    let mut s = Score::default();
    for l in lines {
        let Some(p) = parse_own(spec, l) else {
            continue;
        };
        if p.header || p.wrapped {
            let ts_ok = p
                .timestamp
                .as_deref()
                .is_some_and(|t| parse_timestamp_in(t, &TimeContext::probe()).is_some());
            s.points += 2 + 2 * u32::from(ts_ok) + u32::from(p.explicit_level);
            s.hits += 1;
        } else if p.continues {
            // A line the format knows belongs to the record before it (postgres's
            // `DETAIL:`) counts like a header with a level: the format explains it.
            let ts_ok = p
                .timestamp
                .as_deref()
                .is_some_and(|t| parse_timestamp_in(t, &TimeContext::probe()).is_some());
            s.points += 3 + 2 * u32::from(ts_ok);
            s.hits += 1;
        }
    }
    s
}

/// Picks the format that best explains the first lines of a file (up to
/// [`DETECT_LINES`] non-blank ones).
pub fn detect<'a>(lines: impl IntoIterator<Item = &'a str>) -> Detection {
    let lines: Vec<&str> = lines
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .take(DETECT_LINES)
        .collect();
    let text = FormatSpec::Text { prefix: 0 };
    if lines.is_empty() {
        return Detection {
            spec: text,
            lines: 0,
            hits: 0,
            headers: false,
            runner_up: None,
        };
    }
    let mut candidates: Vec<FormatSpec> = vec![FormatSpec::Compose, FormatSpec::Cri];
    candidates.extend(LINE_FORMATS.iter().cloned());
    candidates.push(FormatSpec::Minio);
    candidates.extend(
        PRESETS
            .iter()
            .filter_map(|(_, p)| HeaderPattern::compile(p).ok())
            .map(FormatSpec::Header),
    );
    candidates.extend((0..=2).map(|prefix| FormatSpec::Text { prefix }));
    let mut scored: Vec<(FormatSpec, Score)> = candidates
        .into_iter()
        .map(|c| {
            let s = score(&c, &lines);
            (c, s)
        })
        .filter(|(_, s)| s.points > 0)
        .collect();
    // Stable: equal scores keep the more specific format first.
    scored.sort_by_key(|(_, s)| std::cmp::Reverse(s.points));
    let runner_up = scored
        .iter()
        .skip(1)
        .find(|(c, _)| !matches!(c, FormatSpec::Text { .. }))
        .map(|(c, s)| (c.name(), s.hits));
    let n = lines.len();
    match scored.into_iter().next() {
        Some((spec, s)) if s.hits as f64 >= MIN_HEADER_SHARE * n as f64 => Detection {
            headers: spec.has_headers(),
            spec,
            lines: n,
            hits: s.hits,
            runner_up,
        },
        best => Detection {
            hits: best.filter(|(c, _)| *c == text).map_or(0, |(_, s)| s.hits),
            spec: text,
            lines: n,
            headers: false,
            runner_up,
        },
    }
}

/// Parses with one format alone, without the fallback; None when the format does not
/// read the line at all.
fn parse_own<'a>(spec: &FormatSpec, line: &'a str) -> Option<Parsed<'a>> {
    match spec {
        FormatSpec::Compose => compose::parse(line),
        FormatSpec::Cri => cri::parse(line),
        FormatSpec::Json => json::parse(line),
        FormatSpec::Logfmt => logfmt::parse(line),
        FormatSpec::Klog => klog::parse(line),
        FormatSpec::Logcat => logcat::parse(line),
        FormatSpec::Postgres => postgres::parse(line),
        FormatSpec::Minio => minio::parse(line),
        FormatSpec::Redis => redis::parse(line),
        FormatSpec::Access => access::parse(line),
        FormatSpec::Syslog => syslog::parse(line),
        FormatSpec::Airflow => airflow::parse(line),
        FormatSpec::Python => python::parse(line),
        FormatSpec::Log4j => log4j::parse(line),
        FormatSpec::Header(h) => h.try_parse(line),
        FormatSpec::Text { prefix } => text::parse(line, *prefix),
    }
}

/// A parser for one file: its format first, the other line formats for lines it does
/// not read.
#[derive(Debug, Clone)]
pub struct Parser {
    spec: FormatSpec,
    headers: bool,
}

impl Parser {
    /// A parser for `spec` (records carry headers unless the format is JSON or logfmt).
    pub fn new(spec: FormatSpec) -> Self {
        let headers = spec.has_headers();
        Self { spec, headers }
    }

    /// The parser a detection chose.
    pub fn detected(d: &Detection) -> Self {
        Self {
            spec: d.spec.clone(),
            headers: d.headers,
        }
    }

    /// The format this parser reads first.
    pub fn spec(&self) -> &FormatSpec {
        &self.spec
    }

    /// Whether lines of this file carry a header on every record, so a line without one
    /// continues the previous record.
    pub fn has_headers(&self) -> bool {
        self.headers
    }

    /// Parses one physical line (without its line terminator).
    pub fn parse_line<'a>(&self, line: &'a str) -> Parsed<'a> {
        match parse_own(&self.spec, line) {
            Some(p) if p.header || p.continues || p.wrapped => p,
            _ => parse_inner(line),
        }
    }
}

/// Parses a line with the line formats in turn (the fallback within a file, and the
/// inner line of compose, CRI and Docker wrappers); a line none reads is bare.
pub(crate) fn parse_inner(line: &str) -> Parsed<'_> {
    if line.starts_with([' ', '\t']) {
        return Parsed::bare(line);
    }
    for spec in LINE_FORMATS {
        if let Some(p) = parse_own(spec, line) {
            if p.header || p.continues {
                return p;
            }
        }
    }
    // MinIO's error blocks have no header of their own but their `API: Name(...)` line.
    if let Some(p) = minio::block_start(line) {
        return p;
    }
    text::parse(line, 0).unwrap_or_else(|| Parsed::bare(line))
}

/// Whether a wrapped line's own timestamp should give way to its wrapper's full one
/// (CRI, Docker, compose `--timestamps`): when it prints no year (klog, syslog, a time
/// of day), the wrapper's date is right where the file's modification year may not be.
/// Epoch numbers carry their year.
pub(crate) fn yearless(inner: &str) -> bool {
    let b = inner.as_bytes();
    if !b.is_empty() && b.iter().all(|c| c.is_ascii_digit() || *c == b'.') {
        return false;
    }
    // A run of four digits starting 19 or 20, or a compact date (not a fraction).
    !b.split(|c| !c.is_ascii_digit()).any(|run| {
        matches!(run.len(), 4 | 8 | 14) && (run.starts_with(b"19") || run.starts_with(b"20"))
    })
}

/// Splits off the first whitespace-separated word: (word, rest without leading spaces).
pub(crate) fn split_word(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    match s.find(char::is_whitespace) {
        Some(i) => Some((&s[..i], s[i..].trim_start())),
        None => Some((s, "")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_patterns() {
        assert_eq!(FormatSpec::parse("json").ok(), Some(FormatSpec::Json));
        assert!(matches!(
            FormatSpec::parse("hdfs"),
            Ok(FormatSpec::Header(_))
        ));
        assert_eq!(
            FormatSpec::parse("hdfs").map(|s| s.name()).ok().as_deref(),
            Some("hdfs")
        );
        assert!(matches!(
            FormatSpec::parse("<Date> <Level> <Content>"),
            Ok(FormatSpec::Header(_))
        ));
        assert_eq!(
            FormatSpec::parse("generic").ok(),
            Some(FormatSpec::Text { prefix: 0 })
        );
        assert!(FormatSpec::parse("nonsense").is_err());
    }

    #[test]
    fn detection_picks_the_format() {
        let compose = [
            "airflow-1  | [2025-11-03T20:36:40.123+0000] {scheduler.py:12} INFO - hi",
            "redis-1    | 1:M 03 Nov 2025 20:36:37.123 * Ready",
        ];
        assert_eq!(FormatSpec::detect(compose), FormatSpec::Compose);
        let json = [
            r#"{"level":"info","msg":"a"}"#,
            r#"{"level":"warn","msg":"b"}"#,
        ];
        assert_eq!(FormatSpec::detect(json), FormatSpec::Json);
        let hdfs = [
            "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating",
        ];
        assert_eq!(FormatSpec::detect(hdfs).name(), "hdfs");
        let d = detect(["just words", "more words"]);
        assert_eq!((d.spec, d.headers), (FormatSpec::Text { prefix: 0 }, false));
    }

    #[test]
    fn presets_never_claim_other_layouts() {
        let spring = [
            "2025-11-03 20:36:40.123  INFO 12345 --- [           main] o.s.b.StartupInfoLogger  : Starting",
            "2025-11-03 20:36:41.123  WARN 12345 --- [           main] o.s.b.StartupInfoLogger  : Slow",
        ];
        assert_eq!(FormatSpec::detect(spring), FormatSpec::Text { prefix: 0 });
        let python = ["2025-11-03 20:36:37,123 - feature_api - INFO - served"; 3];
        assert_eq!(FormatSpec::detect(python), FormatSpec::Python);
    }

    #[test]
    fn wrapped_yearless_stamps_take_the_wrappers() {
        assert!(yearless("I0206 06:55:05.720311"));
        assert!(yearless("Feb  6 06:55:05"));
        assert!(yearless("06:55:05,123"));
        assert!(yearless("02-06 06:55:05.720706"));
        assert!(!yearless("2025-02-06T06:55:05.720706Z"));
        assert!(!yearless("20250206 06:55:05"));
        assert!(!yearless("2025-02-06 06:55:05"));
        assert!(!yearless("06 Feb 2025 06:55:05.720"));
        assert!(!yearless("1738826372.13162"));
        let p = cri::parse(
            "2025-02-06T06:55:05.720311Z stderr F I0206 06:55:05.720311       1 main.go:12] started",
        )
        .expect("cri");
        assert_eq!(p.timestamp.as_deref(), Some("2025-02-06T06:55:05.720311Z"));
        let p = cri::parse("2025-02-06T06:55:05.9Z stdout F 2025-02-06 06:55:05,123 INFO x")
            .expect("cri");
        assert_eq!(p.timestamp.as_deref(), Some("2025-02-06 06:55:05,123"));
    }

    #[test]
    fn mixed_lines_fall_back_per_line() {
        let parser = Parser::new(FormatSpec::parse("text").expect("text"));
        let p = parser.parse_line("I1103 20:36:37.123456       1 main.go:12] started");
        assert!(p.header);
        assert_eq!(p.logger.as_deref(), Some("main.go"));
        let p = parser.parse_line(r#"{"level":"error","msg":"boom"}"#);
        assert_eq!((p.level, p.message.as_ref()), (Level::Error, "boom"));
        assert!(!parser.parse_line("\tat com.x.Foo(Foo.java:1)").header);
    }
}
