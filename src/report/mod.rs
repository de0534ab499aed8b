//! The analysis report, assembled once, last, from an [`Analysis`] and (when it ran) the
//! LLM triage: one data model (this file), written as JSON (the versioned schema
//! documented in `docs/report-schema.md`), Markdown (led by the root cause when one is
//! named), a self-contained HTML page, and the service graph for Graphviz (`report.dot`).
//! Nothing below this module imports it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analysis::{Analysis, Finding, ListedGroup, SummaryRow};
use crate::detect::session::SessionSummary;
use crate::logs::accounting::{Accounting, FileReport, LineCounts};
use crate::logs::level::Level;
use crate::logs::time::rfc3339;
use crate::logs::LogsError;
use crate::rca::{Category, Rca};
use crate::triage::{GroupVerdict, RcaJudgement, Triage, TriageStats};

mod escape;
mod html;
mod markdown;
mod rca;

/// Version of the JSON report schema. Bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// One listed group in the report, with its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct GroupReport {
    /// The group.
    #[serde(flatten)]
    pub group: ListedGroup,
    /// The LLM verdict for this group (null when triage did not judge it).
    pub verdict: Option<GroupVerdict>,
}

/// Run metadata.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// loglens version.
    pub version: String,
    /// Start time.
    pub started_at: String,
    /// Wall-clock duration of reading and detection, in milliseconds.
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
    /// Groups at or above `min_level` (and those a detector flagged), most severe first,
    /// then by count.
    pub groups: Vec<GroupReport>,
    /// Groups below `min_level`, summarised.
    pub summarized: Vec<SummaryRow>,
    /// Time span of the records with timestamps.
    pub time_range: Option<(String, String)>,
    /// What the detectors found, most abnormal first within each detector's scale
    /// (error bursts, new templates, sessions, rate spikes, error level).
    pub anomalies: Vec<Finding>,
    /// What LLM triage cost and did; null with `--no-llm`.
    pub triage: Option<TriageStats>,
    /// Why LLM triage did not run to the end (the model could not be loaded, ...), when
    /// it failed: the rest of the report is complete without its verdicts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triage_error: Option<String>,
    /// Session detection, when a session key was given.
    pub sessions: Option<SessionSummary>,
    /// Root-cause analysis: candidates, service graph, the model's verdict.
    pub rca: Option<RcaReport>,
}

/// The root-cause section: the ranking, the model's verdict on it, and what the report
/// leads with.
#[derive(Debug, Clone, Serialize)]
pub struct RcaReport {
    /// The ranking, graph, timeline and knowledge graph.
    #[serde(flatten)]
    pub ranking: Rca,
    /// The model's verdict (null without the model, or without candidates).
    pub verdict: Option<RcaJudgement>,
    /// The root cause the report names: the verdict's when it is used, else the
    /// ranking's top candidate; null when no candidate is named.
    pub lead: Option<Lead>,
}

/// The root cause a report names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lead {
    /// The service.
    pub service: String,
    /// Its fault category.
    pub category: Category,
    /// `ranking`, or `model` when the model's verdict named it.
    pub by: &'static str,
}

impl RcaReport {
    /// The section of a ranking and, when asked, the model's verdict on it. The graph's
    /// roles follow the root cause named.
    pub fn new(mut ranking: Rca, verdict: Option<RcaJudgement>) -> Self {
        let chosen = verdict.as_ref().and_then(RcaJudgement::chosen);
        let lead = match chosen.and_then(|s| ranking.candidates.iter().find(|c| c.service == s)) {
            Some(c) => Some(Lead {
                service: c.service.clone(),
                // The model's category when it names one, else the ranking's.
                category: verdict
                    .as_ref()
                    .and_then(|v| v.verdict.as_ref())
                    .map(|v| v.category)
                    .filter(|c| *c != Category::Unknown)
                    .unwrap_or(c.category),
                by: "model",
            }),
            None => ranking.top().map(|c| Lead {
                service: c.service.clone(),
                category: c.category,
                by: "ranking",
            }),
        };
        if let Some(l) = lead.as_ref().filter(|l| l.by == "model") {
            rca::recolour(&mut ranking, &l.service);
        }
        Self {
            ranking,
            verdict,
            lead,
        }
    }
}

impl Report {
    /// The report of `analysis`, with the verdicts and totals of `triage` when it ran.
    pub fn assemble(analysis: Analysis, triage: Option<Triage>) -> Self {
        let (mut verdicts, rca_verdict, stats) = match triage {
            Some(t) => (t.verdicts, t.rca, Some(t.stats)),
            None => (BTreeMap::new(), None, None),
        };
        let groups = analysis
            .groups
            .into_iter()
            .map(|group| GroupReport {
                verdict: verdicts.remove(&group.rank),
                group,
            })
            .collect();
        Report {
            schema_version: SCHEMA_VERSION,
            run: RunInfo {
                version: env!("CARGO_PKG_VERSION").to_string(),
                started_at: rfc3339(&analysis.started_at),
                duration_ms: analysis.duration.as_millis() as u64,
                inputs: analysis.inputs,
                min_level: analysis.min_level,
                llm: stats.is_some(),
            },
            files: analysis.files,
            accounting: analysis.accounting,
            levels: analysis.levels,
            components: analysis.components,
            templates: analysis.templates,
            groups,
            summarized: analysis.summarized,
            time_range: analysis.time_range,
            anomalies: analysis.anomalies,
            triage: stats,
            triage_error: None,
            sessions: analysis.sessions,
            rca: analysis.rca.map(|r| RcaReport::new(r, rca_verdict)),
        }
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

/// The counts of an input that the Markdown and HTML tables show, in their column order:
/// lines, records, continuation, blank, invalid UTF-8, truncated.
fn counted(c: &LineCounts) -> [u64; 6] {
    [
        c.lines,
        c.records,
        c.continuation_lines,
        c.blank_lines,
        c.invalid_utf8_lines,
        c.truncated_lines,
    ]
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
                Some(r) => ("report.dot", rca::dot(&r.ranking)),
                None => continue,
            },
        };
        let path = dir.join(name);
        std::fs::write(&path, body).map_err(|e| LogsError::io(&path, e))?;
        written.push(path);
    }
    Ok(written)
}
