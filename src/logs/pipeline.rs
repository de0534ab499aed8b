//! The `analyze` pipeline without the LLM: ingest -> parse -> join multi-line records
//! -> mine templates -> group -> detect, with every input line accounted for.

use std::path::PathBuf;
use std::time::Instant;

use chrono::Utc;
use globset::GlobMatcher;
use tracing::{info_span, warn};

use super::detect::session::{self, NextEventModel, SessionCollector};
use super::detect::{rate, Anomaly};
use super::formats::FormatSpec;
use super::group::{Group, GroupInput, Grouper};
use super::ingest::{self, Filters, Source};
use super::level::Level;
use super::miner::{ClusterId, Miner, MinerConfig};
use super::reader::{self, ReadOptions, SourceRead, SourceSummary};
use super::record::Record;
use super::report::{FileReport, FileStatus, Report, SessionSummary};
use super::time::rfc3339;
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

/// Runs the pipeline and builds the report (without verdicts).
pub fn analyze(config: &PipelineConfig, progress: Progress<'_>) -> Result<Report, LogsError> {
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
        let report = analyze_source(
            config,
            source,
            &mut miner,
            &mut grouper,
            sessions.as_mut(),
            &mut read_total,
            progress,
        );
        files.push(report);
    }
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

fn analyze_source(
    config: &PipelineConfig,
    source: &Source,
    miner: &mut Miner,
    grouper: &mut Grouper,
    mut sessions: Option<&mut SessionCollector>,
    read_total: &mut u64,
    progress: Progress<'_>,
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
    let mut on_record = |rec: Record| record(rec, &name, miner, grouper, sessions.as_deref_mut());
    let read = reader::read_source(source, &opts, &mut on_record, &|b| progress(base + b));
    match read {
        Ok(SourceRead::Text(summary)) => {
            *read_total += summary.lines.bytes;
            let mut report = FileReport::new(name);
            report.read(*summary);
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

fn record(
    rec: Record,
    file: &str,
    miner: &mut Miner,
    grouper: &mut Grouper,
    sessions: Option<&mut SessionCollector>,
) {
    let cluster = miner.add(&rec.message);
    if let Some(s) = sessions {
        s.add(&rec.text(), &rec.component, rec.level, cluster);
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
        component: &rec.component,
        level: rec.level,
        cluster,
        time: rec.timestamp,
        file,
        line: rec.line,
        text: &text,
        params: &params,
    });
}

impl FileReport {
    /// Fills the accounting of a source that was read.
    fn read(&mut self, summary: SourceSummary) {
        let p = &summary.parse;
        self.format = summary.detection.spec.name();
        self.format_hit_rate = summary.detection.hit_rate();
        self.records = p.records;
        self.unparsed_records = p.unparsed_records;
        self.continuation_lines = p.continuation_lines;
        self.continuation_dropped = p.continuation_dropped;
        self.blank_lines = p.blank_lines;
        self.records_without_timestamp = p.without_timestamp;
        self.records_inferred_timestamp = p.inferred_timestamp;
        self.records_without_level = p.without_level;
        self.records_without_component = p.without_component;
        self.unparsed_samples = p.unparsed_samples.clone();
        self.finish(summary.lines, summary.error);
    }
}
