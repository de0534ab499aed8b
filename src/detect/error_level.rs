//! The error-level detector: every group at error level or worse. Its score grows with
//! the level and (logarithmically) with the group's size.

use super::{Anomaly, Detector};
use crate::logs::group::Group;
use crate::logs::level::Level;
use crate::logs::miner::Miner;
use crate::logs::time::rfc3339;

/// The least severe level this detector flags.
pub const MIN_LEVEL: Level = Level::Error;

/// One anomaly per group at [`MIN_LEVEL`] or worse.
pub fn detect(groups: &[Group], miner: &Miner) -> Vec<Anomaly> {
    groups
        .iter()
        .filter(|g| g.level >= MIN_LEVEL)
        .map(|g| Anomaly {
            detector: Detector::ErrorLevel,
            score: g.level as u8 as f64 + (g.count as f64).log10(),
            component: g.component.clone(),
            template_id: Some(miner.cluster(g.cluster).template_id()),
            level: Some(g.level),
            window_start: g.first_seen.as_ref().map(rfc3339),
            summary: format!("{} record(s) at level {}", g.count, g.level),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::rate::tests::group;

    #[test]
    fn errors_and_worse_are_flagged_larger_groups_higher() {
        let mut miner = Miner::default();
        miner.add("x");
        let groups = vec![
            group("a", Level::Warn, &[(0, 500)]),
            group("a", Level::Error, &[(0, 10)]),
            group("b", Level::Error, &[(0, 1000)]),
            group("c", Level::Critical, &[(0, 1)]),
        ];
        let a = detect(&groups, &miner);
        let got: Vec<&str> = a.iter().map(|x| x.component.as_str()).collect();
        assert_eq!(got, ["a", "b", "c"]);
        assert!(a[1].score > a[0].score);
        assert_eq!(a[0].summary, "10 record(s) at level error");
    }
}
