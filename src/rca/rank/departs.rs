//! Whether a service departs by itself or only in its callers' view: the failure-like
//! departures of its own telemetry, rare fault records near the incident ("sparks"),
//! and the one caller whose calls into a healthy callee fail while others' succeed.

use std::ops::RangeInclusive;

use super::{Context, Dep, RELEASE_BEFORE_MS};
use crate::logs::level::Level;
use crate::rca::collect::{Collector, NodeId};
use crate::rca::health::{self, Assessment, Signal};

/// The first line of template `k` of node `u`, if it has one.
fn first_text(c: &Collector, u: NodeId, k: u64) -> Option<&str> {
    c.templates
        .get(&(u, k))
        .and_then(|t| t.first.as_ref())
        .map(|f| f.text.as_str())
}

/// Logs each abnormal service's departures at debug level (`LOGLENS_LOG=loglens::rca=debug`),
/// to see why the ranking saw what it saw.
pub(super) fn trace(c: &Collector, a: &Assessment, abnormal: &[bool]) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    for i in (0..c.nodes.len()).filter(|&i| abnormal[i]) {
        for d in &a.nodes[i].departures {
            let text = match d.signal {
                Signal::Template(k) => first_text(c, i as NodeId, k),
                _ => None,
            };
            tracing::debug!(
                service = %c.nodes[i].name,
                signal = ?d.signal,
                chronic = d.chronic,
                score = d.score,
                onset_ms = d.onset_ms,
                text = text.map_or(String::new(), |t| t.chars().take(80).collect()),
                "departure"
            );
        }
    }
}

/// Per node, the warnings and errors with a fault signature that did not depart (too
/// few) and first came within [`RELEASE_BEFORE_MS`] of the incident (from the first
/// abnormal service's onset to the strongest departure's), after a baseline without
/// them. [`Context::keep_own_sparks`] then keeps those about the writer itself.
pub(super) fn sparks(
    c: &Collector,
    live: &[bool],
    deps: &[Vec<Dep>],
    incident: Option<(i64, i64)>,
    a: &Assessment,
) -> Vec<Vec<u64>> {
    let mut out = vec![Vec::new(); c.nodes.len()];
    let Some((first, main)) = incident else {
        return out;
    };
    let baseline_end = a.axis.bin_ms(0) + RELEASE_BEFORE_MS;
    let window: RangeInclusive<i64> =
        first.min(main) - RELEASE_BEFORE_MS..=first.max(main) + RELEASE_BEFORE_MS;
    for (&(u, k), t) in &c.templates {
        let first = t.first.as_ref().and_then(|f| f.ms);
        if live[u as usize]
            && !t.from_spans
            && t.level >= Level::Warn
            && !t.categories.is_empty()
            && first.is_some_and(|f| window.contains(&f) && f >= baseline_end)
            && !deps[u as usize].iter().any(|d| d.key == k)
        {
            out[u as usize].push(k);
        }
    }
    for keys in &mut out {
        keys.sort_unstable();
    }
    out
}

impl Context<'_> {
    /// Keeps the sparks that name no other node: those that do are callers' reports,
    /// and their departing kin speak for them.
    pub(super) fn keep_own_sparks(&mut self) {
        for u in 0..self.sparks.len() {
            let mut keep = std::mem::take(&mut self.sparks[u]);
            keep.retain(|&k| {
                self.c
                    .templates
                    .get(&(u as NodeId, k))
                    .is_some_and(|t| self.targets(u as NodeId, t).is_empty())
            });
            for &k in &keep {
                tracing::debug!(
                    service = %self.c.nodes[u].name,
                    text = first_text(self.c, u as NodeId, k).unwrap_or(""),
                    "rare signature record"
                );
            }
            self.sparks[u] = keep;
        }
    }

    /// Whether an abnormal node's own telemetry departs (its records, its spans, its
    /// silence), not only its callers' view of the calls into it: a healthy callee
    /// reached with a wrong address or credentials looks abnormal only from outside.
    ///
    /// What counts is a departure that looks like failing: its own failed or slow spans,
    /// errors or a fault signature in its records, or a silence or a rise of other
    /// records strong enough to be abnormal on its own. A few more client warnings or
    /// routine records than usual are how a busy service fluctuates.
    pub(in crate::rca) fn departs_itself(&self, v: NodeId) -> bool {
        self.abnormal[v as usize]
            && (!self.sparks[v as usize].is_empty()
                || self.a.nodes[v as usize].departures.iter().any(|d| {
                    !d.chronic
                        && match d.signal {
                            Signal::CalledErrors | Signal::CalledLatency => false,
                            Signal::SpanErrors | Signal::Latency => true,
                            Signal::Silence => d.score >= health::SIGNIFICANT,
                            Signal::Template(k) => {
                                d.score >= health::SIGNIFICANT
                                    || self.c.templates.get(&(v, k)).is_some_and(|t| {
                                        t.level >= Level::Error || !t.categories.is_empty()
                                    })
                            }
                        }
                }))
    }

    /// Whether an abnormal node departs strongly by itself: a spark, or a departure of
    /// its own telemetry abnormal on its own. A few warnings that were there before the
    /// incident do not outweigh the callers that still succeed.
    fn departs_strongly(&self, v: usize) -> bool {
        self.abnormal[v]
            && (!self.sparks[v].is_empty()
                || self.a.nodes[v].departures.iter().any(|d| {
                    !d.chronic
                        && d.score >= health::SIGNIFICANT
                        && !matches!(d.signal, Signal::CalledErrors | Signal::CalledLatency)
                }))
    }

    /// For a callee with telemetry of its own that does not depart strongly by itself:
    /// the one caller whose traced calls into it failed during the incident, when at
    /// least two other callers called it then without failing, with their count.
    pub(super) fn lone_failing_caller(&self, v: NodeId) -> Option<(NodeId, usize)> {
        self.lone_callers.get(v as usize).copied().flatten()
    }

    /// [`Self::lone_failing_caller`] of every node, from one pass over the edges.
    pub(super) fn find_lone_callers(&self) -> Vec<Option<(NodeId, usize)>> {
        let n = self.c.nodes.len();
        let from = self.a.axis.bin_ms(self.incident_bin) / 60_000;
        let mut failing: Vec<Vec<NodeId>> = vec![Vec::new(); n];
        let mut fine: Vec<Vec<NodeId>> = vec![Vec::new(); n];
        for (&(u, t), e) in &self.c.edges {
            let (u, v) = (self.rep(u), self.rep(t));
            if u == v {
                continue;
            }
            let (calls, errors) = e
                .minutes
                .iter()
                .filter(|(&m, _)| i64::from(m) >= from)
                .fold((0u64, 0u64), |(c, x), (_, m)| {
                    (c + u64::from(m.0), x + u64::from(m.1))
                });
            if errors > 0 {
                failing[v as usize].push(u);
            } else if calls > 0 {
                fine[v as usize].push(u);
            }
        }
        (0..n)
            .map(|v| {
                if !self.c.nodes[v].observed() || self.departs_strongly(v) {
                    return None;
                }
                let bad = &mut failing[v];
                bad.sort_unstable();
                bad.dedup();
                let good = &mut fine[v];
                good.sort_unstable();
                good.dedup();
                good.retain(|u| !bad.contains(u));
                (bad.len() == 1 && good.len() >= 2).then(|| (bad[0], good.len()))
            })
            .collect()
    }

    /// Node `s`'s origin `value` once lone failing callers are counted, with the notes
    /// that say so: a callee whose only failing caller is one of several is capped (the
    /// fault is that caller's address, credentials or certificate), and that caller's
    /// failures start with it, whatever its spans say. `logs` is the share of its own
    /// warnings and errors no dependency explains.
    pub(super) fn lone_caller_origin(
        &self,
        s: NodeId,
        value: f64,
        logs: Option<f64>,
    ) -> (f64, Vec<String>) {
        let mut value = value;
        let mut notes = Vec::new();
        if let Some((u, others)) = self.lone_failing_caller(s) {
            value = value.min(0.2);
            notes.push(format!(
                "; only {}'s calls into it fail, those of its {others} other callers succeed",
                self.c.nodes[u as usize].name
            ));
        }
        let into: Vec<&str> = self.callees[s as usize]
            .iter()
            .filter(|&&v| self.lone_failing_caller(v).is_some_and(|(u, _)| u == s))
            .map(|&v| self.c.nodes[v as usize].name.as_str())
            .collect();
        if !into.is_empty() {
            value = value.max(logs.map_or(1.0, |l| 0.6 + 0.4 * l));
            notes.push(format!(
                "; only its calls into {} fail, other callers' succeed",
                into.join(", ")
            ));
        }
        (value, notes)
    }
}
