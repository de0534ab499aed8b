//! The analysis report: one data model (this file), written as JSON (the versioned
//! schema documented in `docs/report-schema.md`), Markdown and a self-contained HTML
//! page.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::logs::group::{Group, Sample};
use crate::logs::ingest::LineStats;
use crate::logs::level::Level;
use crate::logs::miner::Miner;
use crate::logs::pipeline::PipelineConfig;
use crate::logs::time::rfc3339;
use crate::logs::LogsError;

mod html;
mod markdown;
mod rca;

/// Version of the JSON report schema. Bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// How reading one input ended.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Read to the end.
    Ok,
    /// Skipped: looks binary.
    Binary,
    /// Could not be opened or read to the end (see `error`).
    Error,
}

/// Accounting for one input. Invariant: `lines = records + continuation_lines +
/// blank_lines` (`unparsed_records` is a subset of `records`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FileReport {
    /// The input's name.
    pub path: String,
    /// Format used (detected or overridden).
    pub format: String,
    /// How reading ended.
    pub status: FileStatus,
    /// Error text when `status` is `error`.
    pub error: Option<String>,
    /// Physical lines read.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Records (a header line, or a bare line with no record to continue).
    pub records: u64,
    /// Records whose first line had no recognised header.
    pub unparsed_records: u64,
    /// Lines joined to the record before them (tracebacks, stack traces).
    pub continuation_lines: u64,
    /// Continuation lines counted but not kept (record size caps).
    pub continuation_dropped: u64,
    /// Empty lines.
    pub blank_lines: u64,
    /// Lines with invalid UTF-8 (decoded lossily).
    pub invalid_utf8_lines: u64,
    /// Lines cut at the length limit.
    pub truncated_lines: u64,
}

impl FileReport {
    pub(crate) fn new(path: String) -> Self {
        Self {
            path,
            format: String::new(),
            status: FileStatus::Ok,
            error: None,
            lines: 0,
            bytes: 0,
            records: 0,
            unparsed_records: 0,
            continuation_lines: 0,
            continuation_dropped: 0,
            blank_lines: 0,
            invalid_utf8_lines: 0,
            truncated_lines: 0,
        }
    }

    pub(crate) fn failed(path: String, error: String) -> Self {
        Self {
            status: FileStatus::Error,
            error: Some(error),
            ..Self::new(path)
        }
    }

    pub(crate) fn skipped(path: String, status: FileStatus) -> Self {
        Self {
            status,
            ..Self::new(path)
        }
    }

    pub(crate) fn finish(&mut self, stats: LineStats, error: Option<String>) {
        self.lines = stats.lines;
        self.bytes = stats.bytes;
        self.invalid_utf8_lines = stats.invalid_utf8;
        self.truncated_lines = stats.truncated;
        if let Some(e) = error {
            self.status = FileStatus::Error;
            self.error = Some(e);
        }
    }
}

/// Totals over all inputs.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Accounting {
    /// Inputs read to the end.
    pub files_read: u64,
    /// Inputs skipped as binary.
    pub files_binary: u64,
    /// Inputs that failed (missing, unreadable, read error).
    pub files_failed: u64,
    /// Physical lines read.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Records.
    pub records: u64,
    /// Records without a recognised header.
    pub unparsed_records: u64,
    /// Continuation lines.
    pub continuation_lines: u64,
    /// Continuation lines counted but not kept.
    pub continuation_dropped: u64,
    /// Empty lines.
    pub blank_lines: u64,
    /// Lines with invalid UTF-8.
    pub invalid_utf8_lines: u64,
    /// Lines cut at the length limit.
    pub truncated_lines: u64,
}

impl Accounting {
    pub(crate) fn from_files(files: &[FileReport]) -> Self {
        let mut a = Accounting::default();
        for f in files {
            match f.status {
                FileStatus::Ok => a.files_read += 1,
                FileStatus::Binary => a.files_binary += 1,
                FileStatus::Error => a.files_failed += 1,
            }
            a.lines += f.lines;
            a.bytes += f.bytes;
            a.records += f.records;
            a.unparsed_records += f.unparsed_records;
            a.continuation_lines += f.continuation_lines;
            a.continuation_dropped += f.continuation_dropped;
            a.blank_lines += f.blank_lines;
            a.invalid_utf8_lines += f.invalid_utf8_lines;
            a.truncated_lines += f.truncated_lines;
        }
        a
    }

    /// Whether every line is accounted for.
    pub fn balanced(&self) -> bool {
        self.lines == self.records + self.continuation_lines + self.blank_lines
    }
}

/// One group in the report.
#[derive(Debug, Clone, Serialize)]
pub struct GroupReport {
    /// Position in the report (1-based), stable within one report.
    pub rank: usize,
    /// Stable id of the template text.
    pub template_id: String,
    /// The template, variables as `<*>`.
    pub template: String,
    /// Level.
    pub level: Level,
    /// Component.
    pub component: String,
    /// Records.
    pub count: u64,
    /// Earliest timestamp (RFC 3339, UTC).
    pub first_seen: Option<String>,
    /// Latest timestamp.
    pub last_seen: Option<String>,
    /// `[minute start (RFC 3339), count]` pairs.
    pub per_minute: Vec<(String, u64)>,
    /// Sample records with file and line.
    pub samples: Vec<Sample>,
    /// The LLM verdict for this group, filled in by triage (null until then).
    pub verdict: Option<serde_json::Value>,
}

/// Groups below the listing level, summarised per (component, level).
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    /// Component.
    pub component: String,
    /// Level.
    pub level: Level,
    /// Distinct templates.
    pub templates: u64,
    /// Records.
    pub count: u64,
}

/// Run metadata.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// loglens version.
    pub version: String,
    /// Start time.
    pub started_at: String,
    /// Wall-clock duration in milliseconds.
    pub duration_ms: u64,
    /// Inputs as given.
    pub inputs: Vec<String>,
    /// Groups below this level are summarised.
    pub min_level: Level,
    /// Whether LLM triage ran.
    pub llm: bool,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Run metadata.
    pub run: RunInfo,
    /// Per-input accounting.
    pub files: Vec<FileReport>,
    /// Totals.
    pub accounting: Accounting,
    /// Records per level.
    pub levels: BTreeMap<Level, u64>,
    /// Records per component and level.
    pub components: BTreeMap<String, BTreeMap<Level, u64>>,
    /// Distinct templates found.
    pub templates: usize,
    /// Groups at or above `min_level`, most severe first, then by count.
    pub groups: Vec<GroupReport>,
    /// Groups below `min_level`, summarised.
    pub summarized: Vec<SummaryRow>,
    /// Time span of the records with timestamps.
    pub time_range: Option<(String, String)>,
    /// What the detectors found, most abnormal first within each detector's scale
    /// (error level, new templates, rate spikes, error bursts).
    pub anomalies: Vec<AnomalyReport>,
    /// What LLM triage cost and did; null with `--no-llm`.
    pub triage: Option<crate::triage::TriageStats>,
    /// Session detection, when a session key was given.
    pub sessions: Option<SessionSummary>,
    /// Root-cause analysis: candidates, service graph, verdict.
    pub rca: Option<crate::rca::Rca>,
}

impl SessionSummary {
    /// One line for the reports.
    pub fn line(&self) -> String {
        let mut out = format!(
            "Sessions keyed by `{}`: {} followed",
            self.key, self.sessions
        );
        if self.dropped > 0 {
            out.push_str(&format!(" ({} more past the limit)", self.dropped));
        }
        if self.scored {
            out.push_str(&format!(
                ", {} flagged against the saved session model",
                self.flagged
            ));
        } else {
            out.push_str(", not scored (no saved session model yet)");
        }
        if self.fitted > 0 {
            out.push_str(&format!("; {} added to the model", self.fitted));
        }
        out.push('.');
        out
    }
}

/// What the session detector saw.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SessionSummary {
    /// The session key pattern.
    pub key: String,
    /// Sessions followed.
    pub sessions: usize,
    /// Sessions past the limit, counted but not followed.
    pub dropped: usize,
    /// Whether they were scored (a saved session model was there).
    pub scored: bool,
    /// Sessions flagged.
    pub flagged: usize,
    /// Sessions added to the saved model (those not flagged), when one is kept.
    pub fitted: usize,
}

/// A detector finding in the report.
#[derive(Debug, Clone, Serialize)]
pub struct AnomalyReport {
    /// The finding.
    #[serde(flatten)]
    pub anomaly: crate::detect::Anomaly,
    /// Rank of the listed group it concerns, if listed.
    pub group_rank: Option<usize>,
}

impl Report {
    pub(crate) fn build(
        started: DateTime<Utc>,
        elapsed: Duration,
        config: &PipelineConfig,
        files: Vec<FileReport>,
        miner: &Miner,
        groups: Vec<Group>,
        flagged: &std::collections::HashSet<(String, Level, String)>,
    ) -> Self {
        let accounting = Accounting::from_files(&files);
        let mut levels = BTreeMap::new();
        let mut components: BTreeMap<String, BTreeMap<Level, u64>> = BTreeMap::new();
        let mut summary: BTreeMap<(String, Level), (u64, u64)> = BTreeMap::new();
        let mut listed = Vec::new();
        let mut span: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
        for g in groups {
            *levels.entry(g.level).or_default() += g.count;
            *components
                .entry(g.component.clone())
                .or_default()
                .entry(g.level)
                .or_default() += g.count;
            if let (Some(f), Some(l)) = (g.first_seen, g.last_seen) {
                span = Some(span.map_or((f, l), |(a, b)| (a.min(f), b.max(l))));
            }
            // Below the listing level, a group is listed only when a detector flagged it.
            let is_flagged = g.level < config.min_level
                && flagged.contains(&(
                    g.component.clone(),
                    g.level,
                    miner.cluster(g.cluster).template_id(),
                ));
            if g.level < config.min_level && !is_flagged {
                let e = summary.entry((g.component.clone(), g.level)).or_default();
                e.0 += 1;
                e.1 += g.count;
                continue;
            }
            let cluster = miner.cluster(g.cluster);
            listed.push(GroupReport {
                rank: listed.len() + 1,
                template_id: cluster.template_id(),
                template: cluster.template(),
                level: g.level,
                component: g.component,
                count: g.count,
                first_seen: g.first_seen.as_ref().map(rfc3339),
                last_seen: g.last_seen.as_ref().map(rfc3339),
                per_minute: g
                    .per_minute
                    .iter()
                    .filter_map(|(m, n)| {
                        DateTime::from_timestamp(m * 60, 0).map(|t| (rfc3339(&t), *n))
                    })
                    .collect(),
                samples: g.samples,
                verdict: None,
            });
        }
        let summarized = summary
            .into_iter()
            .map(|((component, level), (templates, count))| SummaryRow {
                component,
                level,
                templates,
                count,
            })
            .collect();
        Report {
            schema_version: SCHEMA_VERSION,
            run: RunInfo {
                version: env!("CARGO_PKG_VERSION").to_string(),
                started_at: rfc3339(&started),
                duration_ms: elapsed.as_millis() as u64,
                inputs: config
                    .inputs
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
                min_level: config.min_level,
                llm: false,
            },
            files,
            accounting,
            levels,
            components,
            templates: miner.len(),
            groups: listed,
            summarized,
            time_range: span.map(|(a, b)| (rfc3339(&a), rfc3339(&b))),
            anomalies: Vec::new(),
            triage: None,
            sessions: None,
            rca: None,
        }
    }

    /// Attaches detector findings, linked to the listed groups and ordered: detectors by
    /// how telling they are, then score.
    pub fn set_anomalies(&mut self, anomalies: Vec<crate::detect::Anomaly>) {
        let order = |d: &str| match d {
            "error_burst" => 0,
            "new_template" => 1,
            "session" => 2,
            "rate_spike" => 3,
            "error_level" => 4,
            _ => 5,
        };
        let mut list: Vec<AnomalyReport> = anomalies
            .into_iter()
            .map(|a| {
                let group_rank = self
                    .groups
                    .iter()
                    .find(|g| {
                        Some(&g.template_id) == a.template_id.as_ref()
                            && g.component == a.component
                            && Some(g.level) == a.level
                    })
                    .map(|g| g.rank);
                AnomalyReport {
                    anomaly: a,
                    group_rank,
                }
            })
            .collect();
        list.sort_by(|a, b| {
            order(a.anomaly.detector)
                .cmp(&order(b.anomaly.detector))
                .then(b.anomaly.score.total_cmp(&a.anomaly.score))
        });
        self.anomalies = list;
    }

    /// The most severe level present among the records.
    pub fn worst_level(&self) -> Option<Level> {
        self.levels.keys().next_back().copied()
    }

    /// Renders the Markdown report.
    pub fn to_markdown(&self) -> String {
        markdown::render(self)
    }

    /// Renders the HTML report (one self-contained page).
    pub fn to_html(&self) -> String {
        html::render(self)
    }

    /// Renders the JSON report.
    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

/// Report output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// `report.md`.
    Markdown,
    /// `report.json`.
    Json,
    /// `report.html`.
    Html,
    /// `report.dot` (the service graph, when root-cause analysis ran).
    Dot,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "md" | "markdown" => Ok(Self::Markdown),
            "json" => Ok(Self::Json),
            "html" => Ok(Self::Html),
            "dot" => Ok(Self::Dot),
            other => Err(format!(
                "unknown report format {other:?} (md, json, html, dot)"
            )),
        }
    }
}

/// Writes the chosen reports into `dir` (created if needed); returns the paths written.
pub fn write_reports(
    report: &Report,
    dir: &Path,
    formats: &[OutputFormat],
) -> Result<Vec<PathBuf>, LogsError> {
    std::fs::create_dir_all(dir).map_err(|e| LogsError::io(dir, e))?;
    let mut written = Vec::new();
    for f in formats {
        let (name, body) = match f {
            OutputFormat::Markdown => ("report.md", report.to_markdown()),
            OutputFormat::Json => ("report.json", report.to_json()),
            OutputFormat::Html => ("report.html", report.to_html()),
            OutputFormat::Dot => match &report.rca {
                Some(r) => ("report.dot", rca::dot(r)),
                None => continue,
            },
        };
        let path = dir.join(name);
        std::fs::write(&path, body).map_err(|e| LogsError::io(&path, e))?;
        written.push(path);
    }
    Ok(written)
}
