//! The `analyze` pipeline without the LLM: ingest -> parse -> join multi-line records
//! -> mine templates -> group -> detect, with every input line accounted for.

use std::path::PathBuf;
use std::time::Instant;

use chrono::Utc;
use globset::GlobMatcher;
use tracing::{info_span, warn};

use super::formats::{FormatSpec, Parser};
use super::group::{Group, GroupInput, Grouper};
use super::ingest::{self, Filters, LineReader, Opened, Source};
use super::level::Level;
use super::miner::{ClusterId, Miner, MinerConfig};
use super::multiline::{Joiner, LineKind, Pending};
use super::time::{parse_timestamp, rfc3339};
use super::LogsError;
use crate::detect::session::{self, NextEventModel, SessionCollector};
use crate::detect::{rate, Anomaly};
use crate::report::{FileReport, FileStatus, Report, SessionSummary};

/// A per-path format override: files matching the glob use the format.
#[derive(Debug, Clone)]
pub struct FormatOverride {
    /// Which files.
    pub glob: GlobMatcher,
    /// Which format.
    pub format: FormatSpec,
}

/// Validated settings of one analysis run.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Files, directories, or `-`.
    pub inputs: Vec<PathBuf>,
    /// Globs a walked file must match (any).
    pub include: Vec<String>,
    /// Globs that exclude walked files.
    pub exclude: Vec<String>,
    /// Format overrides, first match wins.
    pub overrides: Vec<FormatOverride>,
    /// Year for yearless timestamps; the file's modification year when unset.
    pub year: Option<i32>,
    /// Line length limit in bytes.
    pub max_line_bytes: usize,
    /// Groups below this level are summarised, not listed.
    pub min_level: Level,
    /// Template miner settings.
    pub miner: MinerConfig,
    /// Miner state to start from and save to.
    pub miner_state: Option<PathBuf>,
    /// Samples kept per group.
    pub samples: usize,
    /// What names a session in a record's text (first capture group, or the match);
    /// sessions are scored by the session detector.
    pub session_key: Option<regex::Regex>,
    /// The session model: loaded as the baseline when it exists, then saved with this
    /// run's unflagged sessions added (as `miner_state` is for templates).
    pub session_state: Option<PathBuf>,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            inputs: Vec::new(),
            include: Vec::new(),
            exclude: Vec::new(),
            overrides: Vec::new(),
            year: None,
            max_line_bytes: ingest::DEFAULT_MAX_LINE,
            min_level: Level::Warn,
            miner: MinerConfig::default(),
            miner_state: None,
            samples: 5,
            session_key: None,
            session_state: None,
        }
    }
}

/// Progress callback: bytes read so far.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// One record as the pipeline read it, for observers (root-cause analysis collects its
/// per-service series from these).
#[derive(Debug, Clone)]
pub struct RecordView<'a> {
    /// The component the format names, if any.
    pub component: Option<&'a str>,
    /// The input's name.
    pub file: &'a str,
    /// The input's format (`compose`, `syslog`, ...).
    pub format: &'a str,
    /// First line number.
    pub line: u64,
    /// Timestamp, when parsed.
    pub time: Option<chrono::DateTime<Utc>>,
    /// Level.
    pub level: Level,
    /// The template cluster (see [`Observer::finish`] for merged clusters).
    pub cluster: ClusterId,
    /// The first line's message.
    pub message: &'a str,
    /// Trace id, if the record carries one.
    pub trace_id: Option<&'a str>,
}

/// Sees what the pipeline reads: every record, and every input before it is read as
/// logs (an observer may take a file as its own, such as an OTLP trace file).
pub trait Observer {
    /// Called once per record.
    fn record(&mut self, r: &RecordView<'_>);
    /// Called with each file's first bytes; `Some` when the observer read the file
    /// itself: the format it read it as, or why it failed.
    fn take_file(
        &mut self,
        _path: &std::path::Path,
        _head: &[u8],
    ) -> Option<Result<String, String>> {
        None
    }
    /// Called once at the end with the miner, whose clusters may have merged.
    fn finish(&mut self, _miner: &Miner) {}
}

/// An observer that does nothing.
struct Nobody;

impl Observer for Nobody {
    fn record(&mut self, _r: &RecordView<'_>) {}
}

/// Runs the pipeline and builds the report (without verdicts).
pub fn analyze(config: &PipelineConfig, progress: Progress<'_>) -> Result<Report, LogsError> {
    analyze_observed(config, progress, &mut Nobody)
}

/// [`analyze`], showing every record and input to an observer.
pub fn analyze_observed(
    config: &PipelineConfig,
    progress: Progress<'_>,
    observer: &mut dyn Observer,
) -> Result<Report, LogsError> {
    let started = Utc::now();
    let clock = Instant::now();
    let filters = Filters::new(&config.include, &config.exclude)?;
    let (sources, missing) = ingest::expand(&config.inputs, &filters);
    let mut miner = match &config.miner_state {
        Some(p) if p.exists() => Miner::load(p)?,
        _ => Miner::new(config.miner),
    };
    // Templates of the saved state are the baseline of the new-template detector.
    let baseline: Option<std::collections::HashSet<ClusterId>> = (!miner.is_empty()).then(|| {
        miner
            .clusters()
            .map(|(id, _)| miner.canonical(id))
            .collect()
    });
    let mut grouper = Grouper::new(config.samples);
    let mut sessions = config.session_key.clone().map(SessionCollector::new);
    let mut files = Vec::new();
    for (path, reason) in missing {
        warn!(path = %path.display(), %reason, "input skipped");
        files.push(FileReport::failed(path.display().to_string(), reason));
    }
    let mut read_total = 0u64;
    for source in &sources {
        if let Some(report) = taken_by_observer(source, observer) {
            files.push(report);
            continue;
        }
        let report = analyze_source(
            config,
            source,
            &mut miner,
            &mut grouper,
            sessions.as_mut(),
            &mut read_total,
            progress,
            observer,
        );
        files.push(report);
    }
    observer.finish(&miner);
    if let Some(p) = &config.miner_state {
        miner.save(p)?;
    }
    let groups = grouper.finish(&miner);
    let mut anomalies = detect(&groups, &miner, baseline.as_ref());
    let session_summary = match sessions {
        Some(collector) => {
            let (found, summary) = detect_sessions(config, collector, &miner)?;
            anomalies.extend(found);
            Some(summary)
        }
        None => None,
    };
    let flagged: std::collections::HashSet<(String, Level, String)> = anomalies
        .iter()
        .filter_map(|a| Some((a.component.clone(), a.level?, a.template_id.clone()?)))
        .collect();
    let mut report = Report::build(
        started,
        clock.elapsed(),
        config,
        files,
        &miner,
        groups,
        &flagged,
    );
    report.set_anomalies(anomalies);
    report.sessions = session_summary;
    Ok(report)
}

/// Scores the run's sessions against the saved session model (when there is one), then
/// adds the unflagged sessions to it and saves it. Ends of sessions are not judged: a log
/// window cuts sessions off at its edges.
fn detect_sessions(
    config: &PipelineConfig,
    collector: SessionCollector,
    miner: &Miner,
) -> Result<(Vec<Anomaly>, SessionSummary), LogsError> {
    let dropped = collector.dropped_sessions;
    let events = collector.finish(&|c| miner.cluster(c).template_id());
    let saved = match &config.session_state {
        Some(p) if p.exists() => Some(NextEventModel::load(p)?),
        _ => None,
    };
    let (found, flagged) = match &saved {
        Some(m) => session::detect(m, &events, false),
        None => (Vec::new(), Vec::new()),
    };
    let mut summary = SessionSummary {
        key: config
            .session_key
            .as_ref()
            .map(|r| r.as_str().to_string())
            .unwrap_or_default(),
        sessions: events.sessions.len(),
        dropped,
        scored: saved.is_some(),
        flagged: flagged.len(),
        fitted: 0,
    };
    if let Some(p) = &config.session_state {
        let flagged: std::collections::HashSet<&String> = flagged.iter().collect();
        let mut model =
            saved.unwrap_or_else(|| NextEventModel::new(session::ORDER, session::MIN_SUPPORT));
        for (key, seq) in &events.sessions {
            if !flagged.contains(key) {
                model.fit(seq);
                summary.fitted += 1;
            }
        }
        model.save(p)?;
    }
    Ok((found, summary))
}

/// Runs the group-level detectors: rate spikes and error bursts, templates absent from
/// the saved state (when there is one), and groups at error level or above.
fn detect(
    groups: &[Group],
    miner: &Miner,
    baseline: Option<&std::collections::HashSet<ClusterId>>,
) -> Vec<Anomaly> {
    let tid = |g: &Group| miner.cluster(g.cluster).template_id();
    let mut out = rate::detect(groups, &tid);
    for g in groups {
        let new = baseline.is_some_and(|b| !b.contains(&miner.canonical(g.cluster)));
        let weight = g.level as u8 as f64;
        if new {
            out.push(Anomaly {
                detector: "new_template",
                score: weight + 1.0,
                component: g.component.clone(),
                template_id: Some(tid(g)),
                level: Some(g.level),
                window_start: g.first_seen.as_ref().map(rfc3339),
                summary: format!("template not in the saved state; {} record(s)", g.count),
            });
        }
        if g.level >= Level::Error {
            out.push(Anomaly {
                detector: "error_level",
                score: weight + (g.count as f64).log10(),
                component: g.component.clone(),
                template_id: Some(tid(g)),
                level: Some(g.level),
                window_start: g.first_seen.as_ref().map(rfc3339),
                summary: format!("{} record(s) at level {}", g.count, g.level),
            });
        }
    }
    out
}

/// Offers a file to the observer before it is read as logs (the first 4 KiB, gzip
/// undone); the observer's report when it took the file.
fn taken_by_observer(source: &Source, observer: &mut dyn Observer) -> Option<FileReport> {
    use std::io::Read;
    let Source::File(path) = source else {
        return None;
    };
    let mut head = Vec::with_capacity(4096);
    let file = std::fs::File::open(path).ok()?;
    let mut raw = std::io::BufReader::new(file);
    let gz = {
        use std::io::BufRead;
        raw.fill_buf().ok()?.starts_with(&[0x1f, 0x8b])
    };
    let read = if gz {
        flate2::read::MultiGzDecoder::new(raw)
            .take(4096)
            .read_to_end(&mut head)
    } else {
        raw.take(4096).read_to_end(&mut head)
    };
    read.ok()?;
    let name = source.display();
    let outcome = observer.take_file(path, &head)?;
    let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    Some(match outcome {
        Ok(format) => {
            let mut r = FileReport::new(name);
            r.format = format;
            r.bytes = bytes;
            r
        }
        Err(e) => {
            warn!(file = %name, cause = %e, "trace file failed");
            let mut r = FileReport::failed(name, e);
            r.bytes = bytes;
            r
        }
    })
}

#[allow(clippy::too_many_arguments)]
fn analyze_source(
    config: &PipelineConfig,
    source: &Source,
    miner: &mut Miner,
    grouper: &mut Grouper,
    mut sessions: Option<&mut SessionCollector>,
    read_total: &mut u64,
    progress: Progress<'_>,
    observer: &mut dyn Observer,
) -> FileReport {
    let name = source.display();
    let _span = info_span!("source", file = %name).entered();
    let stream = match ingest::open(source) {
        Ok(Opened::Text(s)) => s,
        Ok(Opened::Binary) => {
            warn!(file = %name, "binary file skipped");
            return FileReport::skipped(name, FileStatus::Binary);
        }
        Err(e) => {
            warn!(file = %name, cause = %e, "unreadable input");
            return FileReport::failed(name, e.to_string());
        }
    };
    let mut reader = LineReader::new(stream, config.max_line_bytes);
    let year = config.year.unwrap_or_else(|| ingest::context_year(source));
    let mut report = FileReport::new(name.clone());
    // Read the head for format detection, then process it with the rest.
    let mut head = Vec::new();
    let mut line = String::new();
    let mut error = None;
    while head.len() < 64 {
        match reader.next_line(&mut line) {
            Ok(true) => head.push(line.clone()),
            Ok(false) => break,
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    let spec = match source {
        Source::File(p) => config
            .overrides
            .iter()
            .find(|o| o.glob.is_match(p))
            .map(|o| o.format.clone()),
        Source::Stdin => None,
    }
    .unwrap_or_else(|| FormatSpec::detect(head.iter().map(String::as_str)));
    report.format = spec.name();
    let format = report.format.clone();
    let parser = Parser::new(spec);
    let headers = parser.has_headers();
    let mut joiner = Joiner::new();
    let mut done = Vec::new();
    let mut line_no = 0u64;
    let mut handle =
        |line: &str, joiner: &mut Joiner, done: &mut Vec<Pending>, report: &mut FileReport| {
            line_no += 1;
            let kind = joiner.push(line_no, line, parser.parse_line(line), headers, done);
            report.count(kind);
            for rec in done.drain(..) {
                let at = Where {
                    file: &name,
                    format: &format,
                    year,
                };
                record(rec, &at, miner, grouper, sessions.as_deref_mut(), observer);
            }
        };
    for l in &head {
        handle(l, &mut joiner, &mut done, &mut report);
    }
    if error.is_none() {
        loop {
            match reader.next_line(&mut line) {
                Ok(true) => {
                    handle(&line, &mut joiner, &mut done, &mut report);
                    let stats = reader.stats();
                    if stats.lines % 65_536 == 0 {
                        progress(*read_total + stats.bytes);
                    }
                }
                Ok(false) => break,
                Err(e) => {
                    // Keep what was read; name the file and the failure.
                    warn!(file = %name, cause = %e, "read error");
                    error = Some(e.to_string());
                    break;
                }
            }
        }
    }
    joiner.finish(&mut done);
    for rec in done.drain(..) {
        let at = Where {
            file: &name,
            format: &format,
            year,
        };
        record(rec, &at, miner, grouper, sessions.as_deref_mut(), observer);
    }
    let stats = reader.stats();
    *read_total += stats.bytes;
    progress(*read_total);
    report.finish(stats, error);
    report
}

/// Where records come from.
struct Where<'a> {
    file: &'a str,
    format: &'a str,
    year: i32,
}

fn record(
    rec: Pending,
    at: &Where<'_>,
    miner: &mut Miner,
    grouper: &mut Grouper,
    sessions: Option<&mut SessionCollector>,
    observer: &mut dyn Observer,
) {
    let file = at.file;
    let time = rec
        .timestamp
        .as_deref()
        .and_then(|t| parse_timestamp(t, at.year));
    let cluster = miner.add(&rec.message);
    observer.record(&RecordView {
        component: rec.component.as_deref(),
        file,
        format: at.format,
        line: rec.line,
        time,
        level: rec.level,
        cluster,
        message: &rec.message,
        trace_id: rec.trace_id.as_deref(),
    });
    if let Some(s) = sessions {
        s.add(
            &rec.text(),
            rec.component.as_deref().unwrap_or("-"),
            rec.level,
            cluster,
        );
    }
    let text = || rec.text();
    let miner_ref = &*miner;
    let params = || {
        miner_ref
            .last_params(&rec.message)
            .into_iter()
            .map(str::to_string)
            .collect()
    };
    grouper.add(&GroupInput {
        component: rec.component.as_deref().unwrap_or("-"),
        level: rec.level,
        cluster,
        time,
        file,
        line: rec.line,
        text: &text,
        params: &params,
    });
}

impl FileReport {
    fn count(&mut self, kind: LineKind) {
        match kind {
            LineKind::Record => self.records += 1,
            LineKind::Unparsed => {
                self.records += 1;
                self.unparsed_records += 1;
            }
            LineKind::Continuation => self.continuation_lines += 1,
            LineKind::Dropped => {
                self.continuation_lines += 1;
                self.continuation_dropped += 1;
            }
            LineKind::Blank => self.blank_lines += 1,
        }
    }
}
