//! Fault signatures given to whoever a record is about (first-hand, relayed by callers,
//! or a client certificate found as the common element), and blame from departing
//! templates.

use rustc_hash::FxHashSet;

use super::{plays_role, Context, Credit, EARLIER_MS, NEW_RATE, RELEASE_BEFORE_MS};
use crate::logs::level::Level;
use crate::rca::collect::{NodeId, Template, NONE};
use crate::rca::health::Signal;
use crate::rca::signature::{Category, CertOf};

impl Context<'_> {
    /// Fault signatures (first-hand or relayed) and blame from departing templates.
    pub(super) fn signatures_and_blame(&mut self) {
        let n = self.c.nodes.len();
        for u in 0..n as NodeId {
            if !self.live[u as usize] {
                continue;
            }
            let mut deps = self.deps[u as usize].clone();
            // A rare new signature record speaks as a new departing one would.
            deps.extend(self.sparks[u as usize].iter().map(|&key| super::Dep {
                key,
                score: 0.0,
                start: 0,
                onset_ms: 0,
                events: 0.0,
                before: 0.0,
            }));
            for d in deps {
                let Some(t) = self.c.templates.get(&(u, d.key)) else {
                    continue;
                };
                let targets = self.targets(u, t);
                // Warnings and errors blame what they name; so does a new record that
                // carries a fault signature, whatever level its format gave it.
                let telling =
                    t.level >= Level::Warn || (!t.categories.is_empty() && d.before < NEW_RATE);
                if self.abnormal[u as usize] && telling {
                    for &v in &targets {
                        self.blamers[v as usize].insert(u);
                    }
                }
                // Information records speak for a fault only when they are new.
                if t.level < Level::Warn && d.before >= NEW_RATE {
                    continue;
                }
                for &cat in &t.categories {
                    self.credit(u, d.key, t, cat, &targets);
                }
            }
            self.release_markers(u);
        }
    }

    /// A release is one record, too few to depart: a release marker of an abnormal
    /// service logged shortly before its onset (and never before) counts first-hand.
    ///
    /// The marker is placed against the service's first failure (a warning or error
    /// that departs, or its own failed spans) when it has one: a rollout restarts the
    /// service, and its start-up records depart before the new setting is loaded.
    fn release_markers(&mut self, u: NodeId) {
        let h = &self.a.nodes[u as usize];
        let Some(onset) = h.onset_ms.filter(|_| self.abnormal[u as usize]) else {
            return;
        };
        let failing: Vec<(f64, i64)> = h
            .departures
            .iter()
            .filter(|d| !d.chronic)
            .filter(|d| match d.signal {
                Signal::SpanErrors => true,
                Signal::Template(k) => self
                    .c
                    .templates
                    .get(&(u, k))
                    .is_some_and(|t| t.level >= Level::Warn && !t.from_spans),
                _ => false,
            })
            .map(|d| (d.score, d.onset_ms))
            .collect();
        // The failures that matter: those within a factor of four of the strongest (a
        // few more routine warnings than usual are not what the change broke).
        let strongest = failing.iter().map(|f| f.0).fold(0.0, f64::max);
        let first_failure = failing
            .iter()
            .filter(|f| f.0 * 4.0 >= strongest)
            .map(|f| f.1)
            .min();
        let onset = first_failure.map_or(onset, |f| f.max(onset));
        // A new configuration is a change of the same kind as a release; when both
        // came, the configuration is the more specific.
        for (cat, marks) in [
            (
                Category::Configuration,
                (|t| t.config_change) as fn(&Template) -> bool,
            ),
            (Category::BadDeploy, |t| {
                t.categories.contains(&Category::BadDeploy)
            }),
        ] {
            let mut found: Vec<u64> = self
                .c
                .templates
                .iter()
                .filter(|((n, _), t)| {
                    *n == u
                        && marks(t)
                        && t.first.as_ref().and_then(|f| f.ms).is_some_and(|f| {
                            f >= onset - RELEASE_BEFORE_MS && f <= onset + EARLIER_MS
                        })
                })
                .map(|((_, k), _)| *k)
                .collect();
            found.sort_unstable();
            if let Some(&key) = found.first() {
                let already = self.credits[u as usize]
                    .iter()
                    .any(|c| c.category == cat && c.writer == u && c.weight >= 1.0);
                if !already {
                    self.credits[u as usize].push(Credit {
                        category: cat,
                        weight: 1.0,
                        writer: u,
                        key,
                    });
                }
                return;
            }
        }
    }

    /// Certificate failures name the other end: when one service reports them about
    /// several others that nobody else reports, its own certificate is the common
    /// element (a client certificate); when others report the same server, it is that
    /// server's.
    pub(super) fn certificates(&mut self) {
        let n = self.c.nodes.len();
        let mut about: Vec<FxHashSet<NodeId>> = vec![FxHashSet::default(); n];
        let mut by: Vec<FxHashSet<NodeId>> = vec![FxHashSet::default(); n];
        for (v, credits) in self.credits.iter().enumerate() {
            for c in credits
                .iter()
                .filter(|c| c.category == Category::Tls && c.writer != v as NodeId)
            {
                about[c.writer as usize].insert(v as NodeId);
                by[v].insert(c.writer);
            }
        }
        for (u, found) in about.iter().enumerate() {
            let targets: Vec<NodeId> = found.iter().copied().collect();
            let solely = targets
                .iter()
                .filter(|&&v| by[v as usize].len() == 1)
                .count();
            if targets.len() >= 2 && solely == targets.len() {
                for &v in &targets {
                    self.credits[v as usize]
                        .retain(|c| !(c.category == Category::Tls && c.writer == u as NodeId));
                    self.blamers[v as usize].remove(&(u as NodeId));
                    by[v as usize].remove(&(u as NodeId));
                }
                if let Some(key) = self.deps[u].first().map(|d| d.key) {
                    self.credits[u].push(Credit {
                        category: Category::Tls,
                        weight: 1.0,
                        writer: u as NodeId,
                        key,
                    });
                }
            }
        }
        for (v, writers) in by.iter().enumerate() {
            if !writers.is_empty() {
                self.certified_by_others.insert(v as NodeId);
            }
        }
    }

    /// Gives one signature of a record to whoever it is about.
    fn credit(&mut self, u: NodeId, key: u64, t: &Template, cat: Category, targets: &[NodeId]) {
        let own = |weight: f64| Credit {
            category: cat,
            weight,
            writer: u,
            key,
        };
        if matches!(cat, Category::ConnectionPool | Category::Configuration)
            && self.serves(u)
            && !targets.is_empty()
        {
            // A database or broker rejecting a client's login or connections names the
            // client whose setting is wrong.
            for &v in targets {
                self.credits[v as usize].push(own(0.6));
            }
            return;
        }
        if cat == Category::Tls {
            match t.cert {
                // The other end rejected the certificate the writer presented.
                Some(CertOf::Writer) => {
                    self.credits[u as usize].push(own(1.0));
                    return;
                }
                // A server failing to verify a caller: the caller's certificate.
                Some(CertOf::Client) => return,
                None => {}
            }
        }
        if matches!(cat, Category::ConnectionPool | Category::Configuration) {
            // Whatever it names, a drained pool or a bad setting is the writer's.
            self.credits[u as usize].push(own(1.0));
            return;
        }
        if !cat.remote_side() {
            if t.remote && t.peer == NONE {
                // The writer quotes what a remote answered.
                let named: Vec<NodeId> = targets.to_vec();
                if named.is_empty() {
                    self.credits[u as usize].push(own(0.3));
                }
                for v in named {
                    self.credits[v as usize].push(own(0.6));
                }
            } else if t.peer != NONE {
                let v = self.rep(t.peer);
                self.credits[v as usize].push(own(0.6));
            } else {
                self.credits[u as usize].push(own(1.0));
            }
            return;
        }
        if plays_role(&self.c.nodes[u as usize].name, cat) {
            self.credits[u as usize].push(own(1.0));
            return;
        }
        // A database or broker failing a lookup is resolving its clients' addresses
        // (`IP address '10.0.3.7' could not be resolved`) or a peer's name: the
        // resolver's fault if anyone's, never the server's in its own role.
        if cat == Category::Dns && self.serves(u) {
            let resolvers = self.roles.get(&Category::Dns);
            for &v in targets {
                if resolvers.is_some_and(|r| r.contains(&v)) {
                    self.credits[v as usize].push(own(0.6));
                }
            }
            return;
        }
        // An infrastructure system's own warnings are about itself, in its role.
        if let Some(role) = [
            Category::Dns,
            Category::Database,
            Category::Broker,
            Category::Network,
        ]
        .into_iter()
        .find(|r| plays_role(&self.c.nodes[u as usize].name, *r))
        {
            if t.level >= Level::Warn {
                self.credits[u as usize].push(Credit {
                    category: role,
                    ..own(1.0)
                });
                return;
            }
        }
        let roles: FxHashSet<NodeId> = self
            .roles
            .get(&cat)
            .into_iter()
            .flatten()
            .copied()
            .collect();
        let relay: Vec<NodeId> = targets
            .iter()
            .copied()
            // A failed lookup names what was looked up, not the resolver that failed.
            .filter(|v| cat != Category::Dns || roles.contains(v))
            .collect();
        if relay.is_empty() {
            self.credits[u as usize].push(own(0.5));
        }
        for v in relay {
            self.credits[v as usize].push(own(0.6));
        }
    }
}
