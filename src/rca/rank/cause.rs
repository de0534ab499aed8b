//! Changes that explain a dependency's failures. Some faults are a healthy-looking
//! service doing something new to a shared system, which then fails everyone else:
//!
//! - a **schema migration** a service ran just before its database began making other
//!   clients wait (an exclusive lock held by the migration);
//! - a **new workload** (a batch job, a backfill) that started just before a shared
//!   dependency began rejecting calls for rate or quota (the limit is shared; the new
//!   demand used it up);
//! - a **log flood** (a release with debug logging) that began just before a node ran
//!   out of disk and its kubelet began evicting pods: by far the largest surge of
//!   records of any service fills the disk, and the evicted services are its victims.
//!
//! The dependency is then a relay, not the origin: the change's author takes its place at
//! the head of the path. Both rules need the author to call the dependency (a span or a
//! record naming it) and the change to come first; neither needs the author to look
//! abnormal itself, since a migration or a job start is one ordinary-looking record.

use super::{onset_of, Context, EARLIER_MS, RELEASE_BEFORE_MS};
use crate::rca::collect::NodeId;
use crate::rca::signature::Category;

/// A change of `source` that explains the failures of `target`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Instigation {
    pub source: NodeId,
    pub target: NodeId,
    pub category: Category,
    /// The template of the source that records the change.
    pub key: u64,
    /// When the change happened.
    pub at_ms: i64,
}

/// A workload whose data starts this many minutes (and a tenth of the rest of the
/// window) after most services' data began mid-window: it is new, not merely a file
/// collected later.
const LATE_START_MINUTES: i32 = 5;
/// How long before a node's disk pressure a log flood may have begun.
const FLOOD_BEFORE_MS: i64 = 60 * 60_000;
/// Records a flood must add, and how many times the next service's surge.
const FLOOD_MIN_RECORDS: f64 = 1_000.0;
const FLOOD_DOMINANCE: f64 = 5.0;
/// Records (and spans) a new workload must have to be a workload rather than a one-off.
const WORKLOAD_MIN_EVENTS: u64 = 20;

impl Context<'_> {
    /// Finds changes that explain a departing dependency's failures.
    pub(super) fn instigations(&mut self) {
        let n = self.c.nodes.len();
        let mut found: Vec<Instigation> = Vec::new();
        for d in 0..n as NodeId {
            if !self.live[d as usize] {
                continue;
            }
            if let Some(fault) = self.node_pressure(d) {
                if let Some(i) = self.flood_before(d, fault) {
                    found.push(i);
                    continue;
                }
            }
            let departing = self.abnormal[d as usize] || !self.blamers[d as usize].is_empty();
            if !departing {
                continue;
            }
            let Some(onset) = onset_of(self, d) else {
                continue;
            };
            let mut callers: Vec<NodeId> = self.callers[d as usize].iter().copied().collect();
            callers.sort_unstable();
            if self.plays(d, Category::Database) || self.has_credit(d, Category::Database) {
                // A migration's author may not trace its database calls: a service with
                // no known database at all may be this one's client too.
                let mut clients = callers.clone();
                for u in 0..n as NodeId {
                    let dbs = self.callees[u as usize]
                        .iter()
                        .any(|&v| self.plays(v, Category::Database) || self.serves(v));
                    if self.live[u as usize] && !dbs && !clients.contains(&u) {
                        clients.push(u);
                    }
                }
                // Dated by its first departing database fault (a lock wait), not by
                // whatever else moved in the same bin.
                let fault = self.deps[d as usize]
                    .iter()
                    .filter(|x| {
                        self.c
                            .templates
                            .get(&(d, x.key))
                            .is_some_and(|t| t.categories.contains(&Category::Database))
                    })
                    .map(|x| x.onset_ms)
                    .min()
                    .unwrap_or(onset);
                if let Some(i) = self.migration_before(d, fault, &clients) {
                    found.push(i);
                    continue;
                }
            }
            if let Some(first) = self.relayed_first(d, Category::RateLimit) {
                if let Some(i) = self.new_workload_before(d, first, &callers) {
                    found.push(i);
                }
            }
        }
        self.instigations = found;
    }

    fn has_credit(&self, d: NodeId, cat: Category) -> bool {
        self.credits[d as usize].iter().any(|c| c.category == cat)
    }

    /// The earliest record in which another service reports `cat` about `d`.
    fn relayed_first(&self, d: NodeId, cat: Category) -> Option<i64> {
        self.credits[d as usize]
            .iter()
            .filter(|c| c.category == cat && c.writer != d)
            .filter_map(|c| self.c.templates.get(&(c.writer, c.key)))
            .filter_map(|t| t.first.as_ref().and_then(|f| f.ms))
            .min()
    }

    /// A schema migration by a caller of `d`, shortly before `d`'s onset.
    fn migration_before(&self, d: NodeId, onset: i64, callers: &[NodeId]) -> Option<Instigation> {
        let mut best: Option<Instigation> = None;
        for (&(s, key), t) in &self.c.templates {
            if !t.migration || s == d || !self.live[s as usize] || !callers.contains(&s) {
                continue;
            }
            let Some(at) = t.first.as_ref().and_then(|f| f.ms) else {
                continue;
            };
            if at < onset - RELEASE_BEFORE_MS || at > onset + EARLIER_MS {
                continue;
            }
            // The latest migration before the onset is the one holding the lock.
            let better = best
                .is_none_or(|b| (at, std::cmp::Reverse(key)) > (b.at_ms, std::cmp::Reverse(b.key)));
            if better {
                best = Some(Instigation {
                    source: s,
                    target: d,
                    category: Category::BadDeploy,
                    key,
                    at_ms: at,
                });
            }
        }
        best
    }

    /// A caller of `d` whose data starts mid-window, shortly before the first rejection
    /// for rate: a new workload sharing `d`'s limit.
    fn new_workload_before(
        &self,
        d: NodeId,
        first: i64,
        callers: &[NodeId],
    ) -> Option<Instigation> {
        let axis = &self.a.axis;
        // Late against when most services' data starts (a nightly job's history can
        // reach days before the window; the window itself is where most data is).
        let first_minute = |u: usize| {
            self.c.nodes[u]
                .minutes
                .keys()
                .copied()
                .filter(|m| axis.contains(*m))
                .min()
        };
        let mut starts: Vec<i32> = (0..self.c.nodes.len())
            .filter(|&u| self.live[u] && self.c.nodes[u].observed())
            .filter_map(first_minute)
            .collect();
        if starts.len() < 3 {
            return None;
        }
        starts.sort_unstable();
        let typical = starts[starts.len() / 2];
        let end = self
            .c
            .nodes
            .iter()
            .flat_map(|x| x.minutes.keys().copied())
            .filter(|m| axis.contains(*m))
            .max()?;
        let late = (LATE_START_MINUTES).max((end - typical) / 10);
        let mut best: Option<(i64, NodeId)> = None;
        for &s in callers.iter().filter(|&&s| s != d && self.live[s as usize]) {
            let node = &self.c.nodes[s as usize];
            if node.logs + node.spans < WORKLOAD_MIN_EVENTS {
                continue;
            }
            let Some(start) = first_minute(s as usize) else {
                continue;
            };
            let start_ms = i64::from(start) * 60_000;
            if start - typical < late || start_ms > first || start_ms < first - RELEASE_BEFORE_MS {
                continue;
            }
            if best.is_none_or(|b| (start_ms, s) < b) {
                best = Some((start_ms, s));
            }
        }
        let (at_ms, source) = best?;
        // The change is recorded by the workload's first template.
        let key = self
            .c
            .templates
            .iter()
            .filter(|((u, _), _)| *u == source)
            .filter_map(|((_, k), t)| t.first.as_ref().and_then(|f| f.ms).map(|ms| (ms, *k)))
            .min()
            .map_or(0, |(_, k)| k);
        Some(Instigation {
            source,
            target: d,
            category: Category::RateLimit,
            key,
            at_ms,
        })
    }

    /// When a node agent began reporting disk pressure (evictions for ephemeral
    /// storage, `DiskPressure`): the first such record it wrote.
    fn node_pressure(&self, d: NodeId) -> Option<i64> {
        // A node reports this once or twice, too few to depart: any such record dates it.
        self.c
            .templates
            .iter()
            .filter(|((u, _), _)| *u == d)
            .filter_map(|(_, t)| {
                let first = t.first.as_ref()?;
                let text = first.text.to_ascii_lowercase();
                let pressure = text.contains("diskpressure")
                    || text.contains("disk pressure")
                    || text.contains("ephemeral-storage")
                    || text.contains("nodefs")
                    || text.contains("imagefs");
                pressure.then_some(first.ms).flatten()
            })
            .min()
    }

    /// The service whose records surged far beyond any other's shortly before `fault`.
    fn flood_before(&self, d: NodeId, fault: i64) -> Option<Instigation> {
        // Per service: records added by its rising templates that began in the window.
        let mut surges: Vec<(f64, NodeId, u64, i64)> = Vec::new();
        for u in 0..self.c.nodes.len() as NodeId {
            if u == d || !self.live[u as usize] {
                continue;
            }
            let mut added = 0.0;
            let mut first: Option<(i64, u64)> = None;
            for x in &self.deps[u as usize] {
                if x.onset_ms < fault - FLOOD_BEFORE_MS || x.onset_ms > fault + EARLIER_MS {
                    continue;
                }
                added += (x.events - x.before * x.events.min(1.0)).max(0.0);
                if first.is_none_or(|f| (x.onset_ms, x.key) < f) {
                    first = Some((x.onset_ms, x.key));
                }
            }
            if let Some((at, key)) = first {
                surges.push((added, u, key, at));
            }
        }
        surges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let top = surges.first()?;
        let next = surges.get(1).map_or(0.0, |x| x.0);
        (top.0 >= FLOOD_MIN_RECORDS && top.0 >= FLOOD_DOMINANCE * next).then_some(Instigation {
            source: top.1,
            target: d,
            category: Category::Storage,
            key: top.2,
            at_ms: top.3,
        })
    }

    /// The change a node made that explains another's failures, if any.
    pub(super) fn instigated_by(&self, s: NodeId) -> Option<&Instigation> {
        self.instigations.iter().find(|i| i.source == s)
    }

    /// The change that explains a node's failures, if any.
    pub(super) fn instigated(&self, d: NodeId) -> Option<&Instigation> {
        self.instigations.iter().find(|i| i.target == d)
    }
}
