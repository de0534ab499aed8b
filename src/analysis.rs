//! One analysis: the log pipeline reads the inputs into groups ([`crate::logs`]), the
//! detectors score them ([`crate::detect`]), root-cause analysis ranks the services that
//! may have started the incident from the same records and any OTLP traces
//! ([`crate::rca`]), and the result is one [`Analysis`] value: what LLM triage reads and
//! what the report is assembled from, last. Nothing here knows about triage or reports.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::detect::session::{self, SessionSummary};
use crate::detect::{self, report_order, Anomaly, TemplateBaseline};
use crate::logs::accounting::{Accounting, FileReport};
use crate::logs::group::{Group, Sample};
use crate::logs::level::Level;
use crate::logs::lock::StateLock;
use crate::logs::miner::Miner;
use crate::logs::pipeline::{self, PipelineConfig, Progress, Reading};
use crate::logs::time::rfc3339;
use crate::logs::LogsError;
use crate::rca::{self, Rca, RcaConfig, RcaObserver};

/// A group listed in the analysis: at or above the listing level, or flagged by a
/// detector.
#[derive(Debug, Clone, Serialize)]
pub struct ListedGroup {
    /// Position in the analysis (1-based): the group's id within it.
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

/// A detector's finding, linked to the listed group it concerns.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The finding.
    #[serde(flatten)]
    pub anomaly: Anomaly,
    /// Rank of the listed group it concerns, if one (component-wide findings have none).
    pub group_rank: Option<usize>,
}

/// What one run found, before any LLM.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// How long reading and detection took.
    pub duration: Duration,
    /// Inputs as given.
    pub inputs: Vec<String>,
    /// Groups below this level are summarised, unless a detector flagged them.
    pub min_level: Level,
    /// Per-input accounting.
    pub files: Vec<FileReport>,
    /// Totals.
    pub accounting: Accounting,
    /// Records per level.
    pub levels: BTreeMap<Level, u64>,
    /// Records per component and level.
    pub components: BTreeMap<String, BTreeMap<Level, u64>>,
    /// Distinct templates.
    pub templates: usize,
    /// Listed groups, most severe first, then by count.
    pub groups: Vec<ListedGroup>,
    /// Groups not listed, summarised.
    pub summarized: Vec<SummaryRow>,
    /// Time span of the records with timestamps.
    pub time_range: Option<(String, String)>,
    /// What the detectors found, in report order ([`report_order`]).
    pub anomalies: Vec<Finding>,
    /// Session detection, when a session key was given.
    pub sessions: Option<SessionSummary>,
    /// Root-cause analysis across services (candidates, service graph, timeline).
    pub rca: Option<Rca>,
}

/// What root-cause analysis reads besides the logs, and where it remembers incidents.
#[derive(Debug, Clone, Default)]
pub struct RcaInputs {
    /// OTLP trace files or folders (`--traces`); OTLP files met among the logs are
    /// read as traces anyway.
    pub traces: Vec<PathBuf>,
    /// How many candidates and how much evidence.
    pub config: RcaConfig,
    /// State directory of the incident memory (`incidents.json`); `None`: this incident
    /// is neither looked up nor remembered.
    pub memory: Option<PathBuf>,
}

/// Reads the inputs, runs the detectors and root-cause analysis (on the logs and the
/// OTLP files met among them) and assembles the [`Analysis`]. Inputs that fail are
/// reported in it; a state file that cannot be used is an error.
pub fn analyze(config: &PipelineConfig, progress: Progress<'_>) -> Result<Analysis, LogsError> {
    analyze_with(config, &RcaInputs::default(), progress)
}

/// [`analyze`], with trace files and incident memory for root-cause analysis.
pub fn analyze_with(
    config: &PipelineConfig,
    inputs: &RcaInputs,
    progress: Progress<'_>,
) -> Result<Analysis, LogsError> {
    let started_at = Utc::now();
    let clock = Instant::now();
    // Held until the states are saved: a second run sharing them waits for this one.
    // (One lock per file, in a fixed order: the same file named twice is locked once.)
    let mut states: Vec<&std::path::Path> = [&config.miner_state, &config.session_state]
        .into_iter()
        .flatten()
        .map(PathBuf::as_path)
        .collect();
    states.dedup();
    let _locks = states
        .into_iter()
        .map(StateLock::acquire)
        .collect::<Result<Vec<_>, _>>()?;
    let miner = pipeline::load_miner(config)?;
    // The templates of the saved state are the new-template detector's baseline.
    let baseline = TemplateBaseline::of(&miner);
    let mut observer = RcaObserver::new();
    let trace_files = read_traces(&mut observer, &inputs.traces);
    let mut reading = pipeline::read_observed(config, miner, progress, &mut observer)?;
    reading.files.splice(0..0, trace_files);
    let mut anomalies = detect::detect_groups(&reading.groups, &reading.miner, baseline.as_ref());
    let sessions = match reading.sessions.take() {
        Some(collector) => {
            let key = config
                .session_key
                .as_ref()
                .map(|r| r.as_str().to_string())
                .unwrap_or_default();
            let (found, summary) = session::score(
                collector,
                &reading.miner,
                &key,
                config.session_state.as_deref(),
            )?;
            anomalies.extend(found);
            Some(summary)
        }
        None => None,
    };
    let mut analysis = Analysis::assemble(config, reading, anomalies, sessions);
    analysis.rca = Some(root_cause(observer, inputs));
    analysis.started_at = started_at;
    analysis.duration = clock.elapsed();
    Ok(analysis)
}

/// Reads the `--traces` files; each is reported like an input (a file that fails is
/// reported in place, the others are read).
fn read_traces(observer: &mut RcaObserver, paths: &[PathBuf]) -> Vec<FileReport> {
    let mut files = Vec::new();
    for path in paths {
        if !path.exists() {
            let name = path.display().to_string();
            files.push(FileReport::failed(name, "no such file or directory".into()));
            continue;
        }
        for (name, result) in observer.read_traces(path) {
            let bytes = std::fs::metadata(&name).map_or(0, |m| m.len());
            let mut report = match result {
                Ok(format) => {
                    let mut r = FileReport::new(name);
                    r.format = format;
                    r
                }
                Err(e) => {
                    tracing::warn!(file = %name, cause = %e, "trace file skipped");
                    FileReport::failed(name, e)
                }
            };
            report.counts.bytes = bytes;
            files.push(report);
        }
    }
    files
}

/// Ranks the root-cause candidates from what the observer collected; looks the
/// incident up in (and adds it to) the incident memory when one is kept.
fn root_cause(observer: RcaObserver, inputs: &RcaInputs) -> Rca {
    let _span = tracing::info_span!("rca").entered();
    let mut found = rca::analyze(observer.collector, &inputs.config);
    if let Some(dir) = &inputs.memory {
        let places = found
            .top()
            .map(|t| t.evidence.iter().map(|e| e.location.clone()).collect())
            .unwrap_or_default();
        if let Err(e) = rca::knowledge::remember(dir, &mut found, places) {
            // Memory of past incidents is a convenience; the analysis stands without it.
            tracing::warn!(cause = %e, "incident memory unavailable");
        }
    }
    found
}

impl Analysis {
    /// Lists the groups at or above the listing level and those a detector flagged,
    /// summarises the rest, and links each finding to its listed group. The run's start
    /// and duration are the caller's to set.
    fn assemble(
        config: &PipelineConfig,
        reading: Reading,
        anomalies: Vec<Anomaly>,
        sessions: Option<SessionSummary>,
    ) -> Self {
        let Reading {
            files,
            miner,
            groups,
            ..
        } = reading;
        let flagged: HashSet<(String, Level, String)> = anomalies
            .iter()
            .filter_map(|a| Some((a.component.clone(), a.level?, a.template_id.clone()?)))
            .collect();
        let mut analysis = Analysis {
            started_at: Utc::now(),
            duration: Duration::ZERO,
            inputs: config
                .inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            min_level: config.min_level,
            accounting: Accounting::from_files(&files),
            files,
            levels: BTreeMap::new(),
            components: BTreeMap::new(),
            templates: miner.len(),
            groups: Vec::new(),
            summarized: Vec::new(),
            time_range: None,
            anomalies: Vec::new(),
            sessions,
            rca: None,
        };
        analysis.list(groups, &miner, &flagged);
        analysis.link(anomalies);
        analysis
    }

    /// Counts every group, lists those at or above `min_level` or flagged, summarises
    /// the others per (component, level).
    fn list(
        &mut self,
        groups: Vec<Group>,
        miner: &Miner,
        flagged: &HashSet<(String, Level, String)>,
    ) {
        let mut summary: BTreeMap<(String, Level), (u64, u64)> = BTreeMap::new();
        let mut span: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
        for g in groups {
            *self.levels.entry(g.level).or_default() += g.count;
            *self
                .components
                .entry(g.component.clone())
                .or_default()
                .entry(g.level)
                .or_default() += g.count;
            if let (Some(f), Some(l)) = (g.first_seen, g.last_seen) {
                span = Some(span.map_or((f, l), |(a, b)| (a.min(f), b.max(l))));
            }
            let cluster = miner.cluster(g.cluster);
            // Below the listing level, a group is listed only when a detector flagged it.
            if g.level < self.min_level
                && !flagged.contains(&(g.component.clone(), g.level, cluster.template_id()))
            {
                let e = summary.entry((g.component.clone(), g.level)).or_default();
                e.0 += 1;
                e.1 += g.count;
                continue;
            }
            self.groups.push(ListedGroup {
                rank: self.groups.len() + 1,
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
            });
        }
        self.summarized = summary
            .into_iter()
            .map(|((component, level), (templates, count))| SummaryRow {
                component,
                level,
                templates,
                count,
            })
            .collect();
        self.time_range = span.map(|(a, b)| (rfc3339(&a), rfc3339(&b)));
    }

    /// Links findings to the listed groups they concern and puts them in report order.
    fn link(&mut self, anomalies: Vec<Anomaly>) {
        let mut list: Vec<Finding> = anomalies
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
                Finding {
                    anomaly: a,
                    group_rank,
                }
            })
            .collect();
        list.sort_by(|a, b| report_order(&a.anomaly, &b.anomaly));
        self.anomalies = list;
    }

    /// The most severe level present among the records.
    pub fn worst_level(&self) -> Option<Level> {
        self.levels.keys().next_back().copied()
    }

    /// The listed group of `rank`.
    pub fn group(&self, rank: usize) -> Option<&ListedGroup> {
        rank.checked_sub(1).and_then(|i| self.groups.get(i))
    }

    /// The findings about a listed group: those linked to it, and the component-wide
    /// ones of its component.
    pub fn findings_for<'a>(&'a self, g: &'a ListedGroup) -> impl Iterator<Item = &'a Finding> {
        self.anomalies.iter().filter(move |a| {
            a.group_rank == Some(g.rank)
                || (a.group_rank.is_none() && a.anomaly.component == g.component)
        })
    }
}
