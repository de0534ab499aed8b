//! The error-burst detector: the number of error-or-worse records of one component per
//! minute, far above that component's usual rate ([`rate`](super::rate) scores the
//! series). Each component reports its most surprising minute. Component-wide: the
//! anomaly names no template or level.

use std::collections::{BTreeMap, HashMap};

use super::rate::{minute_text, span, worst_minute};
use super::{Anomaly, Detector};
use crate::logs::group::Group;
use crate::logs::level::Level;

/// One anomaly per component whose worst minute of errors is a burst, by component name.
pub fn detect(groups: &[Group]) -> Vec<Anomaly> {
    let Some((start, end)) = span(groups) else {
        return Vec::new();
    };
    let mut errors: HashMap<&str, BTreeMap<i64, u64>> = HashMap::new();
    for g in groups.iter().filter(|g| g.level >= Level::Error) {
        let e = errors.entry(g.component.as_str()).or_default();
        for (m, n) in &g.per_minute {
            *e.entry(*m).or_default() += n;
        }
    }
    let mut comps: Vec<_> = errors.into_iter().collect();
    comps.sort_by(|a, b| a.0.cmp(b.0));
    comps
        .into_iter()
        .filter_map(|(component, series)| {
            let s = worst_minute(&series, start, end)?;
            Some(Anomaly {
                detector: Detector::ErrorBurst,
                score: s.surprise,
                component: component.to_string(),
                template_id: None,
                level: None,
                window_start: minute_text(s.minute),
                summary: format!(
                    "{} error records in one minute, far above this component's usual rate",
                    s.count
                ),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::rate::tests::group;

    #[test]
    fn error_records_of_a_component_add_up_into_a_burst() {
        let quiet: Vec<(i64, u64)> = (0..30).map(|m| (m, 1)).collect();
        let mut loud = quiet.clone();
        loud[25].1 = 20;
        // Two error templates of db burst together in minute 25; api's warnings do not
        // count, however many.
        let groups = vec![
            group("db", Level::Error, &loud),
            group("db", Level::Critical, &loud),
            group("api", Level::Warn, &[(25, 500), (1, 1)]),
            group("api", Level::Error, &quiet),
        ];
        let a = detect(&groups);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(a[0].component, "db");
        assert_eq!(a[0].detector, Detector::ErrorBurst);
        assert_eq!(a[0].window_start.as_deref(), Some("1970-01-01T00:25:00Z"));
        assert!(
            a[0].summary.starts_with("40 error records"),
            "{}",
            a[0].summary
        );
        assert_eq!((a[0].template_id.as_deref(), a[0].level), (None, None));
    }
}
