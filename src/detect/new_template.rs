//! The new-template detector: groups whose template is absent from the baseline, the
//! templates of the saved miner state a run started from (`--miner-state`). Without a
//! saved state there is no baseline, and nothing is new.

use std::collections::HashSet;

use super::{Anomaly, Detector};
use crate::logs::group::Group;
use crate::logs::miner::{ClusterId, Miner};
use crate::logs::time::rfc3339;

/// The templates known before a run: the canonical clusters of a loaded miner state.
#[derive(Debug, Clone, Default)]
pub struct TemplateBaseline {
    known: HashSet<ClusterId>,
}

impl TemplateBaseline {
    /// The templates `miner` holds, taken before it sees the run's records; `None` when
    /// it holds none (a first run has no baseline).
    pub fn of(miner: &Miner) -> Option<Self> {
        (!miner.is_empty()).then(|| Self {
            known: miner
                .clusters()
                .map(|(id, _)| miner.canonical(id))
                .collect(),
        })
    }

    /// Whether `cluster` (of the same miner, later in the run) was not in the baseline.
    pub fn is_new(&self, miner: &Miner, cluster: ClusterId) -> bool {
        !self.known.contains(&miner.canonical(cluster))
    }
}

/// One anomaly per group whose template is not in `baseline`.
pub fn detect(groups: &[Group], miner: &Miner, baseline: &TemplateBaseline) -> Vec<Anomaly> {
    groups
        .iter()
        .filter(|g| baseline.is_new(miner, g.cluster))
        .map(|g| Anomaly {
            detector: Detector::NewTemplate,
            score: g.level as u8 as f64 + 1.0,
            component: g.component.clone(),
            template_id: Some(miner.cluster(g.cluster).template_id()),
            level: Some(g.level),
            window_start: g.first_seen.as_ref().map(rfc3339),
            summary: format!("template not in the saved state; {} record(s)", g.count),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::rate::tests::group;
    use crate::logs::level::Level;

    #[test]
    fn templates_outside_the_baseline_are_new() {
        let mut miner = Miner::default();
        assert!(
            TemplateBaseline::of(&miner).is_none(),
            "no state, no baseline"
        );
        let old = miner.add("disk sda1 is full");
        let baseline = TemplateBaseline::of(&miner).expect("a baseline");
        let new = miner.add("connection refused by db-1");
        let again = miner.add("disk sda1 is full");
        assert!(!baseline.is_new(&miner, old) && !baseline.is_new(&miner, again));
        assert!(baseline.is_new(&miner, new));
        let mut groups = vec![
            group("node", Level::Error, &[(0, 2)]),
            group("api", Level::Warn, &[(0, 1)]),
        ];
        groups[0].cluster = old;
        groups[1].cluster = new;
        let a = detect(&groups, &miner, &baseline);
        assert_eq!(a.len(), 1);
        assert_eq!(
            (a[0].component.as_str(), a[0].detector),
            ("api", Detector::NewTemplate)
        );
        assert_eq!(a[0].template_id, Some(miner.cluster(new).template_id()));
    }
}
