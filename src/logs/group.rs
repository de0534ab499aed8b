//! Grouping: records keyed by (component, level, template) with counts, first/last
//! seen, per-minute counts for the timeline and a bounded reservoir of samples.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::level::Level;
use super::miner::{ClusterId, Miner};

/// Most distinct minutes kept per group (older detail is folded into the count only).
pub const MAX_MINUTES: usize = 100_000;
/// Most components tracked; further ones are counted under `other`.
pub const MAX_COMPONENTS: usize = 2_000;

/// One kept example of a group.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sample {
    /// Source file (or `<stdin>`).
    pub file: String,
    /// First line of the record in that file (1-based).
    pub line: u64,
    /// Normalised timestamp, RFC 3339, if the record had one.
    pub timestamp: Option<String>,
    /// The record's text, continuation lines (tracebacks) included.
    pub text: String,
    /// Values the masker took out of the message (numbers, addresses, ids, ...).
    pub params: Vec<String>,
}

/// A record as the grouper sees it.
#[derive(Clone)]
pub struct GroupInput<'a> {
    /// Component name.
    pub component: &'a str,
    /// Level.
    pub level: Level,
    /// Template cluster.
    pub cluster: ClusterId,
    /// Normalised time.
    pub time: Option<DateTime<Utc>>,
    /// Source name.
    pub file: &'a str,
    /// Line number.
    pub line: u64,
    /// Full text (built only when the reservoir keeps it).
    pub text: &'a dyn Fn() -> String,
    /// The template's variable values in this record (built only when kept).
    pub params: &'a dyn Fn() -> Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    component: String,
    level: Level,
    cluster: ClusterId,
}

/// Accumulated statistics of one group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Component.
    pub component: String,
    /// Level.
    pub level: Level,
    /// Template cluster (canonical after [`Grouper::finish`]).
    pub cluster: ClusterId,
    /// Records in the group.
    pub count: u64,
    /// Earliest timestamp.
    pub first_seen: Option<DateTime<Utc>>,
    /// Latest timestamp.
    pub last_seen: Option<DateTime<Utc>>,
    /// Records per minute (key: minutes since the epoch).
    pub per_minute: BTreeMap<i64, u64>,
    /// Kept samples.
    pub samples: Vec<Sample>,
}

/// Builds groups from records.
#[derive(Debug)]
pub struct Grouper {
    groups: HashMap<Key, Group>,
    components: HashMap<String, ()>,
    reservoir: usize,
    rng: u64,
}

impl Grouper {
    /// A grouper keeping up to `reservoir` samples per group.
    pub fn new(reservoir: usize) -> Self {
        Self {
            groups: HashMap::new(),
            components: HashMap::new(),
            reservoir: reservoir.max(1),
            rng: 0x9e37_79b9_7f4a_7c15,
        }
    }

    fn next_rand(&mut self) -> u64 {
        // xorshift64*: deterministic, so reports are reproducible.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Adds one record.
    pub fn add(&mut self, r: &GroupInput<'_>) {
        let component = if self.components.contains_key(r.component) {
            r.component.to_string()
        } else if self.components.len() < MAX_COMPONENTS {
            self.components.insert(r.component.to_string(), ());
            r.component.to_string()
        } else {
            "other".to_string()
        };
        let key = Key {
            component: component.clone(),
            level: r.level,
            cluster: r.cluster,
        };
        let reservoir = self.reservoir;
        let pick = self.next_rand();
        let g = self.groups.entry(key).or_insert_with(|| Group {
            component,
            level: r.level,
            cluster: r.cluster,
            count: 0,
            first_seen: None,
            last_seen: None,
            per_minute: BTreeMap::new(),
            samples: Vec::new(),
        });
        g.count += 1;
        if let Some(t) = r.time {
            g.first_seen = Some(g.first_seen.map_or(t, |f| f.min(t)));
            g.last_seen = Some(g.last_seen.map_or(t, |l| l.max(t)));
            let minute = t.timestamp().div_euclid(60);
            if g.per_minute.len() < MAX_MINUTES || g.per_minute.contains_key(&minute) {
                *g.per_minute.entry(minute).or_default() += 1;
            }
        }
        // Reservoir sampling (Algorithm R); the first record is always kept first.
        let slot = if g.samples.len() < reservoir {
            Some(g.samples.len())
        } else {
            let j = (pick % g.count) as usize;
            (j < reservoir).then_some(j)
        };
        if let Some(slot) = slot {
            let sample = Sample {
                file: r.file.to_string(),
                line: r.line,
                timestamp: r.time.as_ref().map(super::time::rfc3339),
                text: (r.text)(),
                params: (r.params)(),
            };
            if slot == g.samples.len() {
                g.samples.push(sample);
            } else if slot > 0 {
                g.samples[slot] = sample;
            }
        }
    }

    /// Resolves merged templates and returns the groups, most severe first, then by count.
    pub fn finish(self, miner: &Miner) -> Vec<Group> {
        let mut merged: HashMap<Key, Group> = HashMap::new();
        for (_, mut g) in self.groups {
            g.cluster = miner.canonical(g.cluster);
            let key = Key {
                component: g.component.clone(),
                level: g.level,
                cluster: g.cluster,
            };
            match merged.get_mut(&key) {
                Some(m) => {
                    m.count += g.count;
                    m.first_seen = opt_min(m.first_seen, g.first_seen);
                    m.last_seen = opt_max(m.last_seen, g.last_seen);
                    for (k, v) in g.per_minute {
                        *m.per_minute.entry(k).or_default() += v;
                    }
                    for s in g.samples {
                        if m.samples.len() < self.reservoir {
                            m.samples.push(s);
                        }
                    }
                }
                None => {
                    merged.insert(key, g);
                }
            }
        }
        let mut out: Vec<Group> = merged.into_values().collect();
        for g in &mut out {
            g.samples
                .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        }
        out.sort_by(|a, b| {
            b.level
                .cmp(&a.level)
                .then(b.count.cmp(&a.count))
                .then(a.component.cmp(&b.component))
                .then(a.cluster.cmp(&b.cluster))
        });
        out
    }
}

fn opt_min(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn opt_max(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_sort_and_sample() {
        let mut miner = Miner::default();
        let a = miner.add("disk full on sda1");
        let b = miner.add("request served in 5 ms");
        let mut g = Grouper::new(3);
        let text = || "t".to_string();
        let params = Vec::new;
        for i in 0..10 {
            g.add(&GroupInput {
                component: "api",
                level: Level::Info,
                cluster: b,
                time: None,
                file: "f",
                line: i,
                text: &text,
                params: &params,
            });
        }
        g.add(&GroupInput {
            component: "db",
            level: Level::Error,
            cluster: a,
            time: None,
            file: "f",
            line: 99,
            text: &text,
            params: &params,
        });
        let groups = g.finish(&miner);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].level, Level::Error);
        assert_eq!(groups[1].count, 10);
        assert_eq!(groups[1].samples.len(), 3);
        assert!(
            groups[1].samples.iter().any(|s| s.line == 0),
            "first record stays sampled"
        );
    }
}
