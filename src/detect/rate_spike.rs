//! The rate-spike detector: the count of a (component, level, template) group in one
//! minute, far above that group's own usual rate ([`rate`](super::rate) scores the
//! series). Each group reports its most surprising minute.

use super::rate::{minute_text, span, worst_minute};
use super::{Anomaly, Detector};
use crate::logs::group::Group;
use crate::logs::miner::Miner;

/// One anomaly per group whose busiest minute is a spike against its history.
pub fn detect(groups: &[Group], miner: &Miner) -> Vec<Anomaly> {
    let Some((start, end)) = span(groups) else {
        return Vec::new();
    };
    groups
        .iter()
        .filter_map(|g| {
            let s = worst_minute(&g.per_minute, start, end)?;
            Some(Anomaly {
                detector: Detector::RateSpike,
                score: s.surprise,
                component: g.component.clone(),
                template_id: Some(miner.cluster(g.cluster).template_id()),
                level: Some(g.level),
                window_start: minute_text(s.minute),
                summary: format!(
                    "{} records in one minute, far above this template's usual rate",
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
    use crate::logs::level::Level;

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
        let mut miner = Miner::default();
        miner.add("one template for all");
        let a = detect(&groups, &miner);
        assert_eq!(a.len(), 2, "{a:?}");
        assert!(a.iter().all(|x| x.component == "db"));
        assert!(a.iter().all(|x| x.detector == Detector::RateSpike));
        assert!(a
            .iter()
            .any(|x| x.window_start.as_deref() == Some("1970-01-01T00:20:00Z")));
        assert!(a.iter().any(
            |x| x.window_start.as_deref() == Some("1970-01-01T00:25:00Z")
                && x.level == Some(Level::Error)
        ));
    }
}
