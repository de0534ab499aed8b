//! Reading for `analyze`: ingest -> parse -> join multi-line records -> mine templates
//! -> group (and collect sessions), with every input line accounted for. The detectors
//! and the assembled analysis (`crate::analysis`) build on what it returns. An
//! [`Observer`] sees every record as it is read and may take a file as its own (root-
//! cause analysis takes OTLP trace files met in walked folders); this module knows
//! nothing of what observers do.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use globset::GlobMatcher;
use tracing::{info_span, warn};

use super::accounting::{FileReport, FileStatus, ReadingFigures};
use super::formats::FormatSpec;
use super::group::{Group, GroupInput, Grouper};
use super::ingest::{self, Filters, Source};
use super::level::Level;
use super::miner::{ClusterId, Miner, MinerConfig};
use super::reader::{self, ReadOptions, SourceRead, SourceSummary};
use super::record::{ComponentSource, Record};
use super::session::SessionCollector;
use super::LogsError;

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

/// One record as it was read, for observers.
#[derive(Debug, Clone)]
pub struct RecordView<'a> {
    /// The component the format names, if any.
    pub component: Option<&'a str>,
    /// The input's name.
    pub file: &'a str,
    /// Where `component` came from: a record's own field or its wrapper (compose
    /// prefix, container path) names its service; a file name names the file's.
    pub component_source: ComponentSource,
    /// First line number.
    pub line: u64,
    /// Timestamp, when parsed.
    pub time: Option<DateTime<Utc>>,
    /// Level.
    pub level: Level,
    /// The template cluster (see [`Observer::finish`] for merged clusters).
    pub cluster: ClusterId,
    /// The first line's message.
    pub message: &'a str,
    /// Trace id, if the record carries one.
    pub trace_id: Option<&'a str>,
}

/// Sees what reading reads: every record, and every input file before it is read as
/// logs (an observer may take a file as its own, such as an OTLP trace file).
pub trait Observer {
    /// Called once per record.
    fn record(&mut self, r: &RecordView<'_>);
    /// Called with each file's first bytes (gzip undone); `Some` when the observer read
    /// the file itself: the format it read it as, or why it failed.
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

/// What reading keeps of the records: their templates (the miner), their groups and,
/// with a session key, their sessions. A run fills one from its inputs; anything that
/// has records (a benchmark, later a stream) can fill one the same way.
#[derive(Debug)]
pub struct Digest {
    miner: Miner,
    grouper: Grouper,
    sessions: Option<SessionCollector>,
}

impl Digest {
    /// Starts from `miner` (new, or a saved state), keeping `samples` samples per group
    /// and following the sessions `session_key` names.
    pub fn new(miner: Miner, samples: usize, session_key: Option<regex::Regex>) -> Self {
        Self {
            miner,
            grouper: Grouper::new(samples),
            sessions: session_key.map(SessionCollector::new),
        }
    }

    /// The templates so far.
    pub fn miner(&self) -> &Miner {
        &self.miner
    }

    /// Adds one record of `file`. Returns the record's template cluster (resolve it with
    /// [`Miner::canonical`] once done).
    pub fn add(&mut self, rec: &Record, file: &str) -> ClusterId {
        let cluster = self.miner.add(&rec.message);
        if let Some(s) = &mut self.sessions {
            s.add(&rec.text(), &rec.component, rec.level, cluster);
        }
        let text = || rec.text();
        let miner = &self.miner;
        let params = || {
            miner
                .last_params(&rec.message)
                .into_iter()
                .map(str::to_string)
                .collect()
        };
        self.grouper.add(&GroupInput {
            component: &rec.component,
            level: rec.level,
            cluster,
            time: rec.timestamp,
            file,
            line: rec.line,
            text: &text,
            params: &params,
        });
        cluster
    }

    /// The templates, the groups (merged templates resolved; most severe first, then by
    /// count) and the sessions collected.
    pub fn finish(self) -> (Miner, Vec<Group>, Option<SessionCollector>) {
        let groups = self.grouper.finish(&self.miner);
        (self.miner, groups, self.sessions)
    }
}

/// What reading a run's inputs gave.
#[derive(Debug)]
pub struct Reading {
    /// Accounting per input, in the order read (inputs that failed first).
    pub files: Vec<FileReport>,
    /// The templates (saved to `miner_state` already, when configured).
    pub miner: Miner,
    /// The groups, most severe first, then by count.
    pub groups: Vec<Group>,
    /// The sessions, when a session key was given.
    pub sessions: Option<SessionCollector>,
}

/// The template miner a run starts from: the saved state when `miner_state` names one
/// that exists, else a new miner.
pub fn load_miner(config: &PipelineConfig) -> Result<Miner, LogsError> {
    match &config.miner_state {
        Some(p) if p.exists() => Miner::load(p),
        _ => Ok(Miner::new(config.miner)),
    }
}

/// Reads every input into `miner`'s templates and the run's groups, then saves the
/// miner state when `miner_state` is set. An input that cannot be read is reported in
/// its [`FileReport`]; the others are read all the same.
pub fn read(
    config: &PipelineConfig,
    miner: Miner,
    progress: Progress<'_>,
) -> Result<Reading, LogsError> {
    read_observed(config, miner, progress, &mut Nobody)
}

/// [`read`], showing every record and input file to `observer`.
pub fn read_observed(
    config: &PipelineConfig,
    miner: Miner,
    progress: Progress<'_>,
    observer: &mut dyn Observer,
) -> Result<Reading, LogsError> {
    let filters = Filters::new(&config.include, &config.exclude)?;
    let expanded = ingest::expand_inputs(&config.inputs, &filters);
    let sources = expanded.sources;
    let mut digest = Digest::new(miner, config.samples, config.session_key.clone());
    let mut files = Vec::new();
    for (path, reason) in expanded.failed {
        warn!(path = %path.display(), %reason, "input skipped");
        files.push(FileReport::failed(path.display().to_string(), reason));
    }
    for (path, why) in expanded.skipped {
        warn!(path = %path.display(), reason = %why, "not read");
        files.push(FileReport::passed_over(path.display().to_string(), why));
    }
    let mut read_total = 0u64;
    for source in &sources {
        if let Some(taken) = taken_by_observer(source, observer) {
            files.push(taken);
            continue;
        }
        files.push(read_source(
            config,
            source,
            &mut digest,
            &mut read_total,
            progress,
            observer,
        ));
    }
    observer.finish(&digest.miner);
    if let Some(p) = &config.miner_state {
        digest.miner.save(p)?;
    }
    let (miner, groups, sessions) = digest.finish();
    Ok(Reading {
        files,
        miner,
        groups,
        sessions,
    })
}

/// Offers a file to the observer before it is read as logs (its first 4 KiB, gzip
/// undone); the observer's report when it took the file.
fn taken_by_observer(source: &Source, observer: &mut dyn Observer) -> Option<FileReport> {
    use std::io::{BufRead, Read};
    let Source::File(path) = source else {
        return None;
    };
    // Only regular files are offered: opening a named pipe could wait for a writer, and
    // reading decides what to do with those.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let mut raw = std::io::BufReader::new(std::fs::File::open(path).ok()?);
    let gz = raw.fill_buf().ok()?.starts_with(&[0x1f, 0x8b]);
    let mut head = Vec::with_capacity(4096);
    let read = if gz {
        flate2::read::MultiGzDecoder::new(raw)
            .take(4096)
            .read_to_end(&mut head)
    } else {
        raw.take(4096).read_to_end(&mut head)
    };
    read.ok()?;
    let outcome = observer.take_file(path, &head)?;
    let name = source.display();
    let bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    let mut report = match outcome {
        Ok(format) => {
            let mut r = FileReport::new(name);
            r.format = format;
            r
        }
        Err(e) => {
            warn!(file = %name, cause = %e, "input taken by an observer failed");
            FileReport::failed(name, e)
        }
    };
    report.counts.bytes = bytes;
    Some(report)
}

/// Reads one input into `digest`; its accounting, with the failure if reading stopped.
fn read_source(
    config: &PipelineConfig,
    source: &Source,
    digest: &mut Digest,
    read_total: &mut u64,
    progress: Progress<'_>,
    observer: &mut dyn Observer,
) -> FileReport {
    let name = source.display();
    let _span = info_span!("source", file = %name).entered();
    let format = match source {
        Source::File(p) => config
            .overrides
            .iter()
            .find(|o| o.glob.is_match(p))
            .map(|o| o.format.clone()),
        Source::Stdin => None,
    };
    let opts = ReadOptions {
        format,
        year: config.year,
        max_line_bytes: config.max_line_bytes,
    };
    let base = *read_total;
    let mut on_record = |rec: Record| {
        let cluster = digest.add(&rec, &name);
        let trace = rec.trace_id.map(|t| t.to_string());
        observer.record(&RecordView {
            component: (rec.component_source != ComponentSource::None).then_some(&*rec.component),
            component_source: rec.component_source,
            file: &name,
            line: rec.line,
            time: rec.timestamp,
            level: rec.level,
            cluster,
            message: &rec.message,
            trace_id: trace.as_deref(),
        });
    };
    let read = reader::read_source(source, &opts, &mut on_record, &|b| progress(base + b));
    match read {
        Ok(SourceRead::Text(summary)) => {
            *read_total += summary.lines.bytes;
            progress(*read_total);
            let mut report = FileReport::new(name);
            fill(&mut report, *summary);
            report
        }
        Ok(SourceRead::Binary) => {
            warn!(file = %name, "binary file skipped");
            FileReport::skipped(name, FileStatus::Binary)
        }
        Err(e) => {
            warn!(file = %name, cause = %e, "unreadable input");
            FileReport::failed(name, e.to_string())
        }
    }
}

/// Fills the accounting of a source that was read: where its lines went, how its
/// records were read, and the failure if reading stopped.
fn fill(report: &mut FileReport, summary: SourceSummary) {
    let p = summary.parse;
    report.format = summary.detection.spec.name();
    let c = &mut report.counts;
    c.records = p.records;
    c.unparsed_records = p.unparsed_records;
    c.continuation_lines = p.continuation_lines;
    c.continuation_dropped = p.continuation_dropped;
    c.blank_lines = p.blank_lines;
    report.reading = ReadingFigures {
        format_hit_rate: summary.detection.hit_rate(),
        records_without_timestamp: p.without_timestamp,
        records_inferred_timestamp: p.inferred_timestamp,
        records_without_level: p.without_level,
        records_without_component: p.without_component,
        unparsed_samples: p.unparsed_samples,
    };
    report.finish(summary.lines, summary.error);
}
