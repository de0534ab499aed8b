//! Anomaly detectors (statistics, no LLM). Each looks at the groups of a run (or of one
//! window of a stream) and emits [`Anomaly`]s that carry their [`Detector`], a score and
//! the evidence; LLM triage filters and explains them later. There is one implementation
//! of each, used by `analyze` and by `bench detect` alike.
//!
//! - [`error_burst`]: a component's error-or-worse records in one minute, far above its
//!   usual rate.
//! - [`new_template`]: templates absent from the saved miner state (the baseline).
//! - [`session`]: event sequences per session key, scored by a next-event model fitted
//!   on normal sessions.
//! - [`rate_spike`]: a group's records in one minute, far above its usual rate.
//! - [`error_level`]: groups at error level or worse.
//! - [`rate`] and [`stats`]: the per-minute scoring and the robust statistics the rate
//!   detectors share.

pub mod error_burst;
pub mod error_level;
pub mod new_template;
pub mod rate;
pub mod rate_spike;
pub mod session;
pub mod stats;

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::logs::group::Group;
use crate::logs::level::Level;
use crate::logs::miner::Miner;

pub use new_template::TemplateBaseline;

/// Which detector found an anomaly. Declared in the order reports list them: the most
/// telling first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detector {
    /// A component's error records in one minute, far above its usual rate.
    ErrorBurst,
    /// A template absent from the saved miner state.
    NewTemplate,
    /// Sessions whose order of events no normal session showed.
    Session,
    /// A group's records in one minute, far above its usual rate.
    RateSpike,
    /// A group at error level or worse.
    ErrorLevel,
}

impl Detector {
    /// Every detector, in report order.
    pub const ALL: [Detector; 5] = [
        Detector::ErrorBurst,
        Detector::NewTemplate,
        Detector::Session,
        Detector::RateSpike,
        Detector::ErrorLevel,
    ];

    /// The name reports and benchmarks use (`error_burst`, `new_template`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Detector::ErrorBurst => "error_burst",
            Detector::NewTemplate => "new_template",
            Detector::Session => "session",
            Detector::RateSpike => "rate_spike",
            Detector::ErrorLevel => "error_level",
        }
    }

    /// Evidence no screening answer may dismiss: records at error level or worse, or an
    /// error burst.
    pub fn is_strong(self) -> bool {
        matches!(self, Detector::ErrorBurst | Detector::ErrorLevel)
    }
}

impl std::fmt::Display for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Something a detector found abnormal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    /// The detector.
    pub detector: Detector,
    /// How abnormal, comparable within a detector (higher is more).
    pub score: f64,
    /// The component concerned.
    pub component: String,
    /// Template id of the group it concerns, if one.
    pub template_id: Option<String>,
    /// Level of that group.
    pub level: Option<Level>,
    /// Start of the window it concerns (RFC 3339): the minute for rates, the first
    /// record otherwise.
    pub window_start: Option<String>,
    /// One line saying what was seen.
    pub summary: String,
}

/// A record as findings are mapped back onto records (to score detectors on labelled
/// lines).
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    /// Its component.
    pub component: &'a str,
    /// Its level.
    pub level: Level,
    /// Its template id (of the final, merged template).
    pub template_id: &'a str,
    /// Its minute (since the epoch), when it has a timestamp.
    pub minute: Option<i64>,
}

impl Anomaly {
    /// Whether a record is part of what this anomaly is about: for rates, the records
    /// of its group (its component's error records, for a burst) in its minute; for the
    /// others, the records of its group.
    pub fn covers(&self, r: &RecordRef<'_>) -> bool {
        if r.component != self.component {
            return false;
        }
        let in_group =
            self.template_id.as_deref() == Some(r.template_id) && self.level == Some(r.level);
        match self.detector {
            Detector::ErrorBurst => r.level >= Level::Error && self.in_minute(r),
            Detector::RateSpike => in_group && self.in_minute(r),
            Detector::NewTemplate | Detector::Session | Detector::ErrorLevel => in_group,
        }
    }

    fn in_minute(&self, r: &RecordRef<'_>) -> bool {
        let minute = self
            .window_start
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp().div_euclid(60));
        minute.is_some() && minute == r.minute
    }
}

/// The order of reports: detectors by how telling they are, then score, highest first.
pub fn report_order(a: &Anomaly, b: &Anomaly) -> Ordering {
    a.detector
        .cmp(&b.detector)
        .then(b.score.total_cmp(&a.score))
}

/// Runs the group detectors on a run's (or a window's) groups: rate spikes and error
/// bursts, templates absent from `baseline` (when there is one), and groups at error
/// level or worse. Sessions are scored apart ([`session::score`]): they need the
/// records' session keys, not groups.
pub fn detect_groups(
    groups: &[Group],
    miner: &Miner,
    baseline: Option<&TemplateBaseline>,
) -> Vec<Anomaly> {
    let mut out = rate_spike::detect(groups, miner);
    out.extend(error_burst::detect(groups));
    if let Some(b) = baseline {
        out.extend(new_template::detect(groups, miner, b));
    }
    out.extend(error_level::detect(groups, miner));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anomaly(detector: Detector, level: Option<Level>, window: Option<&str>) -> Anomaly {
        Anomaly {
            detector,
            score: 1.0,
            component: "db".into(),
            template_id: level.map(|_| "t1".into()),
            level,
            window_start: window.map(str::to_string),
            summary: String::new(),
        }
    }

    #[test]
    fn findings_cover_their_group_and_rates_their_minute() {
        let rec = |level, template_id, minute| RecordRef {
            component: "db",
            level,
            template_id,
            minute,
        };
        let at_20 = Some(20);
        let level = anomaly(Detector::ErrorLevel, Some(Level::Error), None);
        assert!(level.covers(&rec(Level::Error, "t1", None)));
        assert!(!level.covers(&rec(Level::Error, "t2", None)));
        assert!(!level.covers(&rec(Level::Warn, "t1", None)));
        let spike = anomaly(
            Detector::RateSpike,
            Some(Level::Info),
            Some("1970-01-01T00:20:00Z"),
        );
        assert!(spike.covers(&rec(Level::Info, "t1", at_20)));
        assert!(!spike.covers(&rec(Level::Info, "t1", Some(21))));
        assert!(!spike.covers(&rec(Level::Info, "t1", None)));
        let burst = anomaly(Detector::ErrorBurst, None, Some("1970-01-01T00:20:00Z"));
        assert!(burst.covers(&rec(Level::Critical, "t9", at_20)));
        assert!(!burst.covers(&rec(Level::Warn, "t9", at_20)));
    }

    #[test]
    fn report_order_is_detector_then_score() {
        let mut v = [
            Anomaly {
                score: 9.0,
                ..anomaly(Detector::ErrorLevel, Some(Level::Error), None)
            },
            anomaly(Detector::ErrorBurst, None, None),
            Anomaly {
                score: 5.0,
                ..anomaly(Detector::ErrorBurst, None, None)
            },
        ];
        v.sort_by(report_order);
        let got: Vec<(Detector, f64)> = v.iter().map(|a| (a.detector, a.score)).collect();
        assert_eq!(
            got,
            vec![
                (Detector::ErrorBurst, 5.0),
                (Detector::ErrorBurst, 1.0),
                (Detector::ErrorLevel, 9.0)
            ]
        );
        assert_eq!(
            serde_json::to_value(Detector::NewTemplate).ok(),
            Some(serde_json::json!("new_template"))
        );
        assert!(Detector::ErrorLevel.is_strong() && !Detector::RateSpike.is_strong());
    }
}
