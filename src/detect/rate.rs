//! Rates against their own history: the count of a (component, level, template) group in
//! each minute, and the number of error-or-worse records of each component per minute.
//! A minute is a spike when its count is improbable under the history before it (Poisson
//! upper tail with the history's median rate, floored by its mean) and far from it in
//! robust terms (median/MAD), judged against the hour before it. Each group or component reports its most surprising minute.

use std::collections::{BTreeMap, HashMap};

use chrono::DateTime;

use super::stats::{median_mad, poisson_surprise};
use super::Anomaly;
use crate::logs::group::Group;
use crate::logs::level::Level;

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

/// The most surprising minute of a series, as (minute, count, surprise).
fn worst_minute(series: &BTreeMap<i64, u64>, start: i64, end: i64) -> Option<(i64, u64, f64)> {
    let start = start.max(end - MAX_SPAN);
    let dense: Vec<(i64, f64)> = (start..=end)
        .map(|m| (m, series.get(&m).copied().unwrap_or(0) as f64))
        .collect();
    let mut best: Option<(i64, u64, f64)> = None;
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
        if s >= MIN_SURPRISE && z >= MIN_Z && best.is_none_or(|b| s > b.2) {
            best = Some((m, x as u64, s));
        }
    }
    best
}

fn minute_text(m: i64) -> Option<String> {
    DateTime::from_timestamp(m * 60, 0).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// Spikes of groups and error bursts of components. `template_id` names a group's
/// template.
pub fn detect(groups: &[Group], template_id: &dyn Fn(&Group) -> String) -> Vec<Anomaly> {
    let (Some(start), Some(end)) = (
        groups
            .iter()
            .filter_map(|g| g.per_minute.keys().next())
            .min(),
        groups
            .iter()
            .filter_map(|g| g.per_minute.keys().last())
            .max(),
    ) else {
        return Vec::new();
    };
    let (start, end) = (*start, *end);
    let mut out = Vec::new();
    let mut errors: HashMap<&str, BTreeMap<i64, u64>> = HashMap::new();
    for g in groups {
        if g.level >= Level::Error {
            let e = errors.entry(g.component.as_str()).or_default();
            for (m, n) in &g.per_minute {
                *e.entry(*m).or_default() += n;
            }
        }
        if let Some((m, n, s)) = worst_minute(&g.per_minute, start, end) {
            out.push(Anomaly {
                detector: "rate_spike",
                score: s,
                component: g.component.clone(),
                template_id: Some(template_id(g)),
                level: Some(g.level),
                window_start: minute_text(m),
                summary: format!("{n} records in one minute, far above this template's usual rate"),
            });
        }
    }
    let mut comps: Vec<_> = errors.into_iter().collect();
    comps.sort_by(|a, b| a.0.cmp(b.0));
    for (component, series) in comps {
        if let Some((m, n, s)) = worst_minute(&series, start, end) {
            out.push(Anomaly {
                detector: "error_burst",
                score: s,
                component: component.to_string(),
                template_id: None,
                level: None,
                window_start: minute_text(m),
                summary: format!(
                    "{n} error records in one minute, far above this component's usual rate"
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::miner::ClusterId;

    fn group(component: &str, level: Level, per_minute: &[(i64, u64)]) -> Group {
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
    fn a_spike_stands_out_and_steady_rates_do_not() {
        let steady: Vec<(i64, u64)> = (0..30).map(|m| (m, 3 + (m as u64 % 2))).collect();
        let mut spiky = steady.clone();
        spiky[20].1 = 60;
        let errs: Vec<(i64, u64)> = (0..30).map(|m| (m, if m == 25 { 40 } else { 1 })).collect();
        let groups = vec![
            group("api", Level::Info, &steady),
            group("db", Level::Info, &spiky),
            group("db", Level::Error, &errs),
        ];
        let a = detect(&groups, &|g| format!("{}-{:?}", g.component, g.level));
        let spikes: Vec<_> = a.iter().filter(|x| x.detector == "rate_spike").collect();
        assert_eq!(spikes.len(), 2, "{a:?}");
        assert!(spikes.iter().all(|x| x.component == "db"));
        assert!(spikes
            .iter()
            .any(|x| x.window_start.as_deref() == Some("1970-01-01T00:20:00Z")));
        let bursts: Vec<_> = a.iter().filter(|x| x.detector == "error_burst").collect();
        assert_eq!(bursts.len(), 1);
        assert_eq!(
            bursts[0].window_start.as_deref(),
            Some("1970-01-01T00:25:00Z")
        );
    }
}
