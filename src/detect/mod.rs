//! Anomaly detectors (statistics, no LLM). Each emits [`Anomaly`]s with a score, its own
//! name and the evidence; the LLM triage filters and explains them later.
//!
//! - [`lines`]: per record, against a baseline: templates never seen, templates rare in
//!   the baseline, records at error level or above.
//! - [`session`]: event sequences per session key, scored by a next-event model fitted
//!   on normal sessions.
//! - [`rate`]: counts of a (component, template) per window against its own history, and
//!   error bursts per component (robust statistics: median/MAD and a Poisson tail).

pub mod lines;
pub mod rate;
pub mod session;
pub mod stats;

use serde::Serialize;

/// Something a detector found abnormal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    /// The detector (`new_template`, `rare_template`, `error_level`, `rate_spike`,
    /// `error_burst`, `session`).
    pub detector: &'static str,
    /// How abnormal, comparable within a detector (higher is more).
    pub score: f64,
    /// The component concerned.
    pub component: String,
    /// Template id of the group it concerns, if one.
    pub template_id: Option<String>,
    /// Level of that group.
    pub level: Option<crate::logs::level::Level>,
    /// Start of the window it concerns (RFC 3339), if one.
    pub window_start: Option<String>,
    /// One line saying what was seen.
    pub summary: String,
}
