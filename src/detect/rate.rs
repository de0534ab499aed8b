//! Rates against their own history, the kernel of [`rate_spike`](super::rate_spike) and
//! [`error_burst`](super::error_burst): a series of counts per minute, where a minute is a
//! spike when its count is improbable under the history before it (Poisson upper tail
//! with the history's median rate, floored by its mean) and far from it in robust terms
//! (median/MAD), judged against the hour before it. A series reports its most surprising
//! minute.

use std::collections::BTreeMap;

use chrono::DateTime;

use super::stats::{median_mad, poisson_surprise};
use crate::logs::group::Group;

/// Minutes of history a minute needs before it can be judged.
pub const MIN_HISTORY: usize = 5;
/// Minutes of history a minute is judged against (the hour before it).
pub const HISTORY: usize = 60;
/// `-log10 p` a spike must reach (p ≤ 1e-6).
pub const MIN_SURPRISE: f64 = 6.0;
/// Robust z-score a spike must reach.
pub const MIN_Z: f64 = 3.0;
/// Longest span (minutes) judged; longer spans are judged over their last part.
const MAX_SPAN: i64 = 7 * 24 * 60;

/// The most surprising minute of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spike {
    /// Minutes since the epoch.
    pub minute: i64,
    /// Count in that minute.
    pub count: u64,
    /// `-log10 p` of that count under the history before it.
    pub surprise: f64,
}

/// The minutes the groups span (first and last minute with a record), if any has one.
/// Every series of a run is judged over this span, so a quiet series has zeros.
pub fn span(groups: &[Group]) -> Option<(i64, i64)> {
    let start = groups
        .iter()
        .filter_map(|g| g.per_minute.keys().next())
        .min()?;
    let end = groups
        .iter()
        .filter_map(|g| g.per_minute.keys().last())
        .max()?;
    Some((*start, *end))
}

/// The most surprising minute of `series` over `start..=end`, if one is a spike.
pub fn worst_minute(series: &BTreeMap<i64, u64>, start: i64, end: i64) -> Option<Spike> {
    let start = start.max(end - MAX_SPAN);
    let dense: Vec<(i64, f64)> = (start..=end)
        .map(|m| (m, series.get(&m).copied().unwrap_or(0) as f64))
        .collect();
    let mut best: Option<Spike> = None;
    for i in MIN_HISTORY..dense.len() {
        let (m, x) = dense[i];
        if x == 0.0 {
            continue;
        }
        let history: Vec<f64> = dense[i.saturating_sub(HISTORY)..i]
            .iter()
            .map(|p| p.1)
            .collect();
        let (med, mad) = median_mad(&history);
        let mean = history.iter().sum::<f64>() / history.len() as f64;
        let lambda = med.max(mean * 0.5).max(0.05);
        let z = (x - med) / (1.4826 * mad + 1.0);
        let s = poisson_surprise(x as u64, lambda);
        if s >= MIN_SURPRISE && z >= MIN_Z && best.is_none_or(|b| s > b.surprise) {
            best = Some(Spike {
                minute: m,
                count: x as u64,
                surprise: s,
            });
        }
    }
    best
}

/// A minute as the RFC 3339 start of its window.
pub fn minute_text(m: i64) -> Option<String> {
    DateTime::from_timestamp(m * 60, 0).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::logs::level::Level;
    use crate::logs::miner::ClusterId;

    /// A group with the given counts per minute (shared by the rate detectors' tests).
    pub(crate) fn group(component: &str, level: Level, per_minute: &[(i64, u64)]) -> Group {
        Group {
            component: component.into(),
            level,
            cluster: ClusterId(0),
            count: per_minute.iter().map(|p| p.1).sum(),
            first_seen: None,
            last_seen: None,
            per_minute: per_minute.iter().copied().collect(),
            samples: Vec::new(),
        }
    }

    #[test]
    fn the_worst_minute_is_a_spike_against_its_history() {
        let steady: Vec<(i64, u64)> = (0..30).map(|m| (m, 3 + (m as u64 % 2))).collect();
        let g = group("api", Level::Info, &steady);
        assert_eq!(span(std::slice::from_ref(&g)), Some((0, 29)));
        assert_eq!(worst_minute(&g.per_minute, 0, 29), None);
        let mut spiky = steady.clone();
        spiky[20].1 = 60;
        let series = spiky.into_iter().collect();
        let s = worst_minute(&series, 0, 29).expect("a spike");
        assert_eq!((s.minute, s.count), (20, 60));
        assert!(s.surprise >= MIN_SURPRISE);
        assert_eq!(minute_text(20).as_deref(), Some("1970-01-01T00:20:00Z"));
        assert_eq!(span(&[]), None);
    }
}
