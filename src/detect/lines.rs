//! Record-level detectors against a baseline of normal operation: a template never seen
//! in the baseline, a template seen there fewer than `rare` times, and a record at error
//! level or above. The baseline is a miner state and per-template counts, fitted without
//! labels (a saved state, or the first part of the same logs).

use std::collections::HashMap;

use crate::logs::level::Level;
use crate::logs::miner::ClusterId;

/// Why a record was flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// Its template was not in the baseline.
    NewTemplate,
    /// Its template was in the baseline fewer than `rare` times.
    RareTemplate,
    /// Its level is error or worse.
    ErrorLevel,
}

impl Flag {
    /// Detector name.
    pub fn name(self) -> &'static str {
        match self {
            Flag::NewTemplate => "new_template",
            Flag::RareTemplate => "rare_template",
            Flag::ErrorLevel => "error_level",
        }
    }
}

/// Template counts of the baseline.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    counts: HashMap<ClusterId, u64>,
    /// Templates seen fewer times than this are rare.
    pub rare: u64,
}

impl Baseline {
    /// An empty baseline; templates seen fewer than `rare` times are rare.
    pub fn new(rare: u64) -> Self {
        Self {
            counts: HashMap::new(),
            rare,
        }
    }

    /// Counts one baseline record.
    pub fn fit(&mut self, cluster: ClusterId) {
        *self.counts.entry(cluster).or_default() += 1;
    }

    /// Flags of a record, most telling first; empty when nothing is abnormal.
    pub fn flags(&self, cluster: ClusterId, level: Level) -> Vec<Flag> {
        let mut f = Vec::new();
        match self.counts.get(&cluster).copied().unwrap_or(0) {
            0 => f.push(Flag::NewTemplate),
            n if n < self.rare => f.push(Flag::RareTemplate),
            _ => {}
        }
        if level >= Level::Error {
            f.push(Flag::ErrorLevel);
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_new_rare_and_errors() {
        let mut b = Baseline::new(3);
        for _ in 0..5 {
            b.fit(ClusterId(1));
        }
        b.fit(ClusterId(2));
        assert!(b.flags(ClusterId(1), Level::Info).is_empty());
        assert_eq!(b.flags(ClusterId(2), Level::Info), vec![Flag::RareTemplate]);
        assert_eq!(
            b.flags(ClusterId(3), Level::Critical),
            vec![Flag::NewTemplate, Flag::ErrorLevel]
        );
        assert_eq!(b.flags(ClusterId(1), Level::Error), vec![Flag::ErrorLevel]);
    }
}
