//! Root-cause analysis across services: which service started an incident, with the
//! evidence.
//!
//! Log records (service, time, level, template, message, trace id, `file:line`) and OTLP
//! spans stream into a [`Collector`] that keeps per-service per-minute aggregates, call
//! edges and the failed spans (all bounded). [`analyze`] then:
//! 1. builds the service graph: call edges from client→server and producer→consumer
//!    spans (and the peer attributes of calls to systems without traces: databases,
//!    brokers, object stores), plus edges inferred from logs (a caller's warning naming
//!    another component);
//! 2. judges each service's health against its own earlier baseline ([`health`]): the
//!    onset is where it first departs, chronic patterns count for little;
//! 3. ranks candidates ([`rank`]) by where errors originate (not explained by a
//!    dependency's), onset, how much of the abnormal graph sits upstream of them, blame in
//!    callers' messages checked against the blamed service's own health, fault signatures
//!    in their own records ([`signature`]), and partial failure of replicas;
//! 4. returns each candidate with its score, category, propagation path and evidence.
//!
//! Everything here is deterministic: the same input gives the same ranking.

use std::path::Path;

use serde::Serialize;

pub mod collect;
mod evidence;
pub mod health;
pub mod knowledge;
pub mod names;
pub mod observe;
pub mod otlp;
mod rank;
pub mod signature;

pub use collect::{CollectStats, Collector, LogEvent, Sample};
pub use observe::RcaObserver;
pub use signature::Category;

/// Errors of the RCA module.
#[derive(Debug, thiserror::Error)]
pub enum RcaError {
    /// Trace data that is not valid OTLP.
    #[error("{0}")]
    Otlp(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A knowledge-graph state file that cannot be parsed.
    #[error("{path}: {reason}")]
    State {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

impl RcaError {
    pub(crate) fn otlp(msg: impl Into<String>) -> Self {
        RcaError::Otlp(msg.into())
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        RcaError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    /// Names the file an OTLP error came from.
    pub(crate) fn in_file(self, path: &Path) -> Self {
        match self {
            RcaError::Otlp(m) => RcaError::Otlp(format!("{}: {m}", path.display())),
            other => other,
        }
    }
}

/// One piece of evidence behind a candidate.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// Id the verdict may cite (`E1`, `E2`, ...).
    pub id: String,
    /// `log`, `span`, `calls` or `replicas`.
    pub kind: &'static str,
    /// The service the evidence is from.
    pub service: String,
    /// When (RFC 3339), if known.
    pub time: Option<String>,
    /// `file:line` of a record, `trace <id> span <id>` of a span, or empty.
    pub location: String,
    /// The record's text or a statement of counts.
    pub text: String,
    /// What it shows.
    pub why: String,
}

/// How each factor scored a candidate (each in 0..=1 except `strength`).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Factors {
    /// Share of its errors not explained by a dependency's errors.
    pub origin: f64,
    /// How early it departed from its baseline, relative to the first departure.
    pub onset: f64,
    /// Share of the other abnormal services upstream of it.
    pub coverage: f64,
    /// Share of the other abnormal services whose messages blame it (only when its own
    /// health confirms).
    pub blame: f64,
    /// A fault signature in its own records (1), relayed by callers (0.6), weak (< 0.6).
    pub signature: f64,
    /// Only some of its replicas fail.
    pub partial: f64,
    /// Summed departure from its baseline (log-likelihood ratio).
    pub strength: f64,
}

/// A root-cause candidate.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// The service (canonical name).
    pub service: String,
    /// Score in 0..=1.
    pub score: f64,
    /// The kind of fault.
    pub category: Category,
    /// When it first departed from its baseline (RFC 3339).
    pub onset: Option<String>,
    /// From this service to the user-facing symptoms.
    pub propagation_path: Vec<String>,
    /// Records, spans and counts behind the score, most telling first.
    pub evidence: Vec<Evidence>,
    /// The factors of the score.
    pub factors: Factors,
    /// The factors in words.
    pub explanation: Vec<String>,
}

/// A node of the service graph.
#[derive(Debug, Clone, Serialize)]
pub struct GraphNode {
    /// Canonical name.
    pub name: String,
    /// `service`, `database`, `broker` or `external` (only seen as a callee).
    pub kind: &'static str,
    /// Has logs or spans of its own.
    pub observed: bool,
    /// Departed from its baseline.
    pub abnormal: bool,
    /// `root_cause`, `path` (between the root cause and the symptoms), `victim`
    /// (abnormal elsewhere), or `healthy`.
    pub role: &'static str,
    /// Onset (RFC 3339) when abnormal.
    pub onset: Option<String>,
    /// Log records.
    pub records: u64,
    /// Spans of its own.
    pub spans: u64,
    /// Errors (log records at error or worse, failed spans, failed calls into it).
    pub errors: u64,
}

/// An edge of the service graph: `from` calls (or names) `to`.
#[derive(Debug, Clone, Serialize)]
pub struct GraphEdge {
    /// Caller.
    pub from: String,
    /// Callee.
    pub to: String,
    /// `traces` (spans), or `logs` (the caller's messages name the callee).
    pub source: &'static str,
    /// Calls (spans) or naming records (logs).
    pub calls: u64,
    /// Failed calls.
    pub errors: u64,
    /// Mean latency of calls, milliseconds (traces only).
    pub mean_latency_ms: Option<f64>,
    /// `[minute (RFC 3339), calls, errors, mean latency ms]` (traces, abnormal nodes only).
    pub per_minute: Vec<(String, u32, u32, f64)>,
}

/// The service graph.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Graph {
    /// Nodes, abnormal first.
    pub nodes: Vec<GraphNode>,
    /// Edges.
    pub edges: Vec<GraphEdge>,
}

/// One service's counts per bin, aligned on the incident.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceTimeline {
    /// The service.
    pub service: String,
    /// Errors per bin (log errors, failed spans, failed calls into it).
    pub errors: Vec<u32>,
    /// Warnings per bin.
    pub warnings: Vec<u32>,
    /// Bin of its onset.
    pub onset_bin: Option<usize>,
}

/// Per-service timelines of the abnormal services.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    /// Start of the first bin (RFC 3339).
    pub start: String,
    /// Minutes per bin.
    pub bin_minutes: i32,
    /// The bin where the incident starts (the earliest onset).
    pub incident_bin: Option<usize>,
    /// Services, earliest onset first.
    pub services: Vec<ServiceTimeline>,
}

/// How sure the ranking is.
#[derive(Debug, Clone, Serialize)]
pub struct Confidence {
    /// `high`, `medium` or `low`.
    pub level: &'static str,
    /// `(top − second) / top` of the scores.
    pub margin: f64,
    /// When the top two are close: what evidence would settle it.
    pub settle: Option<String>,
}

/// What the collection held.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RcaStats {
    /// Nodes in the graph.
    pub services: usize,
    /// Abnormal nodes.
    pub abnormal: usize,
    /// Edges.
    pub edges: usize,
    /// The collector's counters.
    #[serde(flatten)]
    pub collected: CollectStats,
}

/// The result of root-cause analysis.
#[derive(Debug, Clone, Serialize)]
pub struct Rca {
    /// The root cause in one sentence (or why none is named).
    pub summary: String,
    /// Candidates, best first.
    pub candidates: Vec<Candidate>,
    /// How sure the ranking is.
    pub confidence: Confidence,
    /// The service graph.
    pub graph: Graph,
    /// Timelines of the abnormal services.
    pub timeline: Option<Timeline>,
    /// Incidents like this one seen by earlier runs (from the knowledge graph).
    pub seen_before: Option<knowledge::SeenBefore>,
    /// Services, templates, replicas, signatures and the incident, with typed edges.
    pub knowledge: knowledge::KnowledgeGraph,
    /// Counters.
    pub stats: RcaStats,
}

impl Rca {
    /// The top candidate, if any.
    pub fn top(&self) -> Option<&Candidate> {
        self.candidates.first()
    }
}

/// Settings of one analysis.
#[derive(Debug, Clone, Copy)]
pub struct RcaConfig {
    /// Candidates reported at most.
    pub max_candidates: usize,
    /// Evidence items per candidate at most.
    pub max_evidence: usize,
}

impl Default for RcaConfig {
    fn default() -> Self {
        Self {
            max_candidates: 5,
            max_evidence: 8,
        }
    }
}

/// Text and id of a template, by the key its records were collected under.
pub(crate) type TemplateText<'a> = &'a dyn Fn(u64) -> Option<(String, String)>;

/// Ranks root-cause candidates from everything collected.
pub fn analyze(collector: Collector, config: &RcaConfig) -> Rca {
    let texts = collector.texts.clone();
    let lookup = move |k: u64| texts.get(&k).cloned();
    rank::run(collector, config, &lookup)
}
