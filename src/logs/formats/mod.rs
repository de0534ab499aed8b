//! Log formats: one parser per format, automatic detection per file from its first
//! lines, and per-path overrides.
//!
//! Every parser turns one physical line into a [`Parsed`] record header (timestamp
//! text, level, component, message). A line that no header matches is returned with
//! `header: false`; the multi-line joiner decides whether it continues the previous
//! record. Formats that wrap another line (docker compose, Kubernetes CRI) parse the
//! inner line again with the line-level formats.

use std::borrow::Cow;

use super::level::{infer_level, Level};
use super::LogsError;

mod access;
mod airflow;
mod compose;
mod cri;
mod generic;
pub mod header;
mod json;
mod log4j;
mod logfmt;
mod python;
mod redis;
mod syslog;

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

/// One physical line, parsed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed<'a> {
    /// Timestamp as printed (normalised later by [`crate::logs::time`]).
    pub timestamp: Option<Cow<'a, str>>,
    /// Level found in the line's own fields, or inferred from the message.
    pub level: Level,
    /// Whether `level` came from an explicit field (rather than keywords).
    pub explicit_level: bool,
    /// Service, logger or process that wrote the line.
    pub component: Option<Cow<'a, str>>,
    /// The message part.
    pub message: Cow<'a, str>,
    /// Trace id, where the format carries one.
    pub trace_id: Option<Cow<'a, str>>,
    /// True when the line started with a recognised header (a new record).
    pub header: bool,
}

impl<'a> Parsed<'a> {
    /// A line with no recognised header: the whole line is the message.
    pub fn bare(line: &'a str) -> Self {
        Parsed {
            level: Level::Info,
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
}

/// The formats loglens reads.
#[derive(Debug, Clone, PartialEq)]
pub enum FormatSpec {
    /// `docker compose logs` output: `service-1  | inner line`.
    Compose,
    /// Airflow task and scheduler logs.
    Airflow,
    /// Python `logging` default formats.
    Python,
    /// log4j / Spark / Hadoop layouts.
    Log4j,
    /// Redis server log.
    Redis,
    /// JSON lines.
    Json,
    /// logfmt (`key=value` pairs).
    Logfmt,
    /// Syslog, RFC 3164 and RFC 5424.
    Syslog,
    /// Apache / nginx common and combined access logs.
    Access,
    /// Kubernetes CRI container log lines.
    Cri,
    /// A header pattern such as `<Date> <Time> <Level> <Component>: <Content>`.
    Header(HeaderPattern),
    /// Timestamp and level near the start of the line, if any.
    Generic,
}

/// Named header patterns for the Loghub systems (also usable as format names).
pub const PRESETS: &[(&str, &str)] = &[
    ("hdfs", "<Date> <Time> <Pid> <Level> <Component>: <Content>"),
    ("hadoop", "<Date> <Time> <Level> [<Process>] <Component>: <Content>"),
    ("spark", "<Date> <Time> <Level> <Component>: <Content>"),
    ("zookeeper", "<Date> <Time> - <Level>  [<Node>:<Component>@<Id>] - <Content>"),
    ("bgl", "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>"),
    ("hpc", "<LogId> <Node> <Component> <State> <Time> <Flag> <Content>"),
    ("openssh", "<Month> <Day> <Time> <Host> <Component>[<Pid>]: <Content>"),
    ("apache", "[<Time>] [<Level>] <Content>"),
];

/// Formats tried by detection, most specific first.
const DETECT_ORDER: &[fn() -> FormatSpec] = &[
    || FormatSpec::Compose,
    || FormatSpec::Cri,
    || FormatSpec::Json,
    || FormatSpec::Airflow,
    || FormatSpec::Redis,
    || FormatSpec::Access,
    || FormatSpec::Syslog,
    || FormatSpec::Python,
    || FormatSpec::Log4j,
    || FormatSpec::Logfmt,
];

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
            "compose" | "docker-compose" => FormatSpec::Compose,
            "airflow" => FormatSpec::Airflow,
            "python" => FormatSpec::Python,
            "log4j" => FormatSpec::Log4j,
            "redis" => FormatSpec::Redis,
            "json" | "jsonl" => FormatSpec::Json,
            "logfmt" => FormatSpec::Logfmt,
            "syslog" => FormatSpec::Syslog,
            "access" | "nginx" | "clf" => FormatSpec::Access,
            "cri" | "k8s" => FormatSpec::Cri,
            "generic" => FormatSpec::Generic,
            _ => {
                return Err(LogsError::FormatSpec {
                    spec: spec.to_string(),
                    reason: "unknown format name; use one of compose, airflow, python, log4j, \
                             redis, json, logfmt, syslog, access, cri, generic, a Loghub preset \
                             (hdfs, hadoop, spark, zookeeper, bgl, hpc, openssh, apache) or a \
                             header pattern containing <Content>"
                        .into(),
                })
            }
        })
    }

    /// Short name for reports.
    pub fn name(&self) -> String {
        match self {
            FormatSpec::Compose => "compose".into(),
            FormatSpec::Airflow => "airflow".into(),
            FormatSpec::Python => "python".into(),
            FormatSpec::Log4j => "log4j".into(),
            FormatSpec::Redis => "redis".into(),
            FormatSpec::Json => "json".into(),
            FormatSpec::Logfmt => "logfmt".into(),
            FormatSpec::Syslog => "syslog".into(),
            FormatSpec::Access => "access".into(),
            FormatSpec::Cri => "cri".into(),
            FormatSpec::Header(h) => format!("header:{}", h.source()),
            FormatSpec::Generic => "generic".into(),
        }
    }

    /// Picks the format that recognises most of `lines` (at least half of the
    /// non-blank ones); the generic format otherwise.
    pub fn detect<'a>(lines: impl IntoIterator<Item = &'a str>) -> Self {
        let lines: Vec<&str> = lines
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .take(64)
            .collect();
        if lines.is_empty() {
            return FormatSpec::Generic;
        }
        let mut best = (0usize, FormatSpec::Generic);
        for make in DETECT_ORDER {
            let spec = make();
            let parser = Parser::new(spec.clone());
            let hits = lines
                .iter()
                .filter(|l| parser.parse_own(l).is_some_and(|p| p.header))
                .count();
            if hits > best.0 {
                best = (hits, spec);
            }
        }
        for (_, pat) in PRESETS {
            if let Ok(h) = HeaderPattern::compile(pat) {
                let (mut hits, mut with_ts) = (0, 0);
                for l in &lines {
                    let p = h.parse(l);
                    hits += usize::from(p.header);
                    // A preset must also find a timestamp, or it matches any text.
                    with_ts +=
                        usize::from(p.timestamp.is_some_and(|t| {
                            super::time::parse_timestamp(t.as_ref(), 2000).is_some()
                        }));
                }
                if hits > best.0 && with_ts * 2 >= lines.len() {
                    best = (hits, FormatSpec::Header(h));
                }
            }
        }
        if best.0 * 2 >= lines.len() {
            best.1
        } else {
            FormatSpec::Generic
        }
    }
}

/// A parser for one format.
#[derive(Debug, Clone)]
pub struct Parser {
    spec: FormatSpec,
}

impl Parser {
    /// A parser for `spec`.
    pub fn new(spec: FormatSpec) -> Self {
        Self { spec }
    }

    /// The format this parser reads.
    pub fn spec(&self) -> &FormatSpec {
        &self.spec
    }

    /// Whether lines of this format carry a header on every record, so a line without
    /// one continues the previous record.
    pub fn has_headers(&self) -> bool {
        !matches!(
            self.spec,
            FormatSpec::Generic | FormatSpec::Json | FormatSpec::Logfmt
        )
    }

    /// Parses one physical line (without its line terminator).
    pub fn parse_line<'a>(&self, line: &'a str) -> Parsed<'a> {
        match self.parse_own(line) {
            Some(p) if p.header => p,
            // Wrapped lines keep their wrapper's component even without a header, so a
            // service's traceback joins that service's record.
            Some(p) if matches!(self.spec, FormatSpec::Compose | FormatSpec::Cri) => p,
            _ => generic::parse(line),
        }
    }

    /// Parses with this format alone, without the generic fallback.
    fn parse_own<'a>(&self, line: &'a str) -> Option<Parsed<'a>> {
        match &self.spec {
            FormatSpec::Compose => compose::parse(line),
            FormatSpec::Airflow => airflow::parse(line),
            FormatSpec::Python => python::parse(line),
            FormatSpec::Log4j => log4j::parse(line),
            FormatSpec::Redis => redis::parse(line),
            FormatSpec::Json => json::parse(line),
            FormatSpec::Logfmt => logfmt::parse(line),
            FormatSpec::Syslog => syslog::parse(line),
            FormatSpec::Access => access::parse(line),
            FormatSpec::Cri => cri::parse(line),
            FormatSpec::Header(h) => Some(h.parse(line)),
            FormatSpec::Generic => None,
        }
    }
}

/// Parses a line wrapped by another format (compose, CRI) with the line-level formats.
pub(crate) fn parse_inner(line: &str) -> Parsed<'_> {
    let parsers: [fn(&str) -> Option<Parsed<'_>>; 8] = [
        json::parse,
        airflow::parse,
        redis::parse,
        python::parse,
        log4j::parse,
        access::parse,
        syslog::parse,
        logfmt::parse,
    ];
    for p in parsers {
        if let Some(r) = p(line) {
            if r.header {
                return r;
            }
        }
    }
    generic::parse(line)
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
        assert!(matches!(
            FormatSpec::parse("<Date> <Level> <Content>"),
            Ok(FormatSpec::Header(_))
        ));
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
        assert!(matches!(FormatSpec::detect(hdfs), FormatSpec::Header(_)));
        assert_eq!(
            FormatSpec::detect(["just words", "more words"]),
            FormatSpec::Generic
        );
    }
}
