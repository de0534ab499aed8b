//! Candidate ranking. Each abnormal service (and each system only seen as a callee or
//! named in abnormal services' messages) is scored from six factors, all computed from
//! the evidence without labels or per-incident settings:
//!
//! - **origin**: the share of its failures not explained by a dependency's failures —
//!   failed spans with no failed child, and warnings/errors that name no abnormal
//!   dependency (a healthy dependency named in a message explains nothing);
//! - **onset**: how soon after the first abnormal service it departed from its own
//!   baseline, halved when one of its abnormal dependencies departed before it;
//! - **coverage**: the share of the other abnormal services that call it, directly or
//!   through other abnormal services (a cause sits downstream of its victims);
//! - **blame**: the share of the other abnormal services whose messages name it, counted
//!   only when its own health confirms (it is abnormal, or has no telemetry of its own);
//! - **signature**: a fault signature in its own records (disk full, OOM, ...), or
//!   relayed by callers about it (DNS failures count for the resolver, an expired
//!   certificate for the server that presented it);
//! - **partial**: only some of its replicas fail while others stay healthy.
//!
//! The score is `g(strength) × Σ wᵢ·factorᵢ`, where `g` rises gently with the size of
//! the departure so that the loudest service does not win by volume alone.

use rustc_hash::{FxHashMap, FxHashSet};

use super::collect::{Collector, NodeId, Template, NONE};
use super::evidence;
use super::health::{self, Assessment, Health, Signal};
use super::names;
use super::signature::{Category, CertOf};
use super::{Candidate, Factors, Rca, RcaConfig, RcaStats, TemplateText};
use crate::logs::level::Level;

mod cause;
mod confidence;
mod credit;
mod departs;

/// Weights of the factors (they sum to 1).
const W_ORIGIN: f64 = 0.30;
const W_COVERAGE: f64 = 0.20;
const W_SIGNATURE: f64 = 0.20;
const W_ONSET: f64 = 0.10;
const W_BLAME: f64 = 0.10;
const W_PARTIAL: f64 = 0.10;
/// Onset decay: a service departing ten minutes after the first keeps 1/e.
const ONSET_DECAY_MS: f64 = 600_000.0;
/// A dependency that departed this much earlier makes a service look like its victim.
const EARLIER_MS: i64 = 30_000;
/// Baseline rate per bin below which a template counts as new.
const NEW_RATE: f64 = 0.06;
/// A release marker this long before a service's onset is its likely cause.
const RELEASE_BEFORE_MS: i64 = 15 * 60_000;
/// Strength at which `g` is halfway between its floor and 1.
const STRENGTH_HALF: f64 = 50.0;

/// A departing template of a node.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Dep {
    pub key: u64,
    pub score: f64,
    pub start: usize,
    pub onset_ms: i64,
    pub events: f64,
    /// Rate per bin before the departure.
    pub before: f64,
}

/// How a candidate got a fault signature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Credit {
    pub category: Category,
    pub weight: f64,
    /// Who wrote the record, and which template.
    pub writer: NodeId,
    pub key: u64,
}

/// Everything the factors read.
pub(crate) struct Context<'a> {
    pub c: &'a Collector,
    pub a: &'a Assessment,
    pub live: Vec<bool>,
    pub abnormal: Vec<bool>,
    resolver: FxHashMap<String, NodeId>,
    roles: FxHashMap<Category, Vec<NodeId>>,
    /// Callees per node (traces and logs), and callers.
    pub callees: Vec<FxHashSet<NodeId>>,
    pub callers: Vec<FxHashSet<NodeId>>,
    /// Edges inferred from logs: (from, to) → naming records.
    pub inferred: FxHashMap<(NodeId, NodeId), u64>,
    /// Departing templates per node, strongest first.
    pub deps: Vec<Vec<Dep>>,
    /// Per node, warnings with a fault signature too rare to depart that first came
    /// near the incident's start (a broker's one memory alarm): first-hand evidence.
    pub sparks: Vec<Vec<u64>>,
    /// The first bin any abnormal node departed in.
    pub incident_bin: usize,
    /// Per callee, the one caller whose calls into it fail while others' succeed.
    lone_callers: Vec<Option<(NodeId, usize)>>,
    pub t_ref: Option<i64>,
    /// Fault signatures each node got, first-hand or relayed.
    pub credits: Vec<Vec<Credit>>,
    /// Nodes blamed by abnormal nodes: blamed → blamers.
    pub blamers: Vec<FxHashSet<NodeId>>,
    /// Failed spans attributed as origins, per node, and failed spans owned.
    pub origins: Vec<u64>,
    pub owned: Vec<u64>,
    /// One originating failed span per node (index into the collector's list).
    pub origin_span: Vec<Option<usize>>,
    /// Services whose certificate others fail to verify: candidates even when their
    /// own telemetry looks healthy (a server with an expired certificate sees nothing).
    pub certified_by_others: FxHashSet<NodeId>,
    /// Changes of one service that explain another's failures.
    instigations: Vec<cause::Instigation>,
}

impl<'a> Context<'a> {
    fn new(c: &'a Collector, a: &'a Assessment) -> Self {
        let n = c.nodes.len();
        let live: Vec<bool> = c
            .nodes
            .iter()
            .map(|x| x.merged_into.is_none() && !x.overflow)
            .collect();
        let abnormal: Vec<bool> = (0..n).map(|i| live[i] && a.nodes[i].significant).collect();
        let mut resolver = FxHashMap::default();
        for (i, node) in c.nodes.iter().enumerate().filter(|(i, _)| live[*i]) {
            resolver.insert(node.name.clone(), i as NodeId);
        }
        let mut roles: FxHashMap<Category, Vec<NodeId>> = FxHashMap::default();
        for (i, node) in c.nodes.iter().enumerate().filter(|(i, _)| live[*i]) {
            for cat in [
                Category::Dns,
                Category::Database,
                Category::Broker,
                Category::Network,
            ] {
                let kind_says = matches!(
                    (cat, node.peer_kind),
                    (Category::Database, Some(super::otlp::PeerKind::Database))
                        | (Category::Broker, Some(super::otlp::PeerKind::Broker))
                );
                if kind_says || plays_role(&node.name, cat) {
                    roles.entry(cat).or_default().push(i as NodeId);
                }
            }
        }
        let deps = (0..n).map(|i| departing(&a.nodes[i])).collect::<Vec<_>>();
        departs::trace(c, a, &abnormal);
        let onsets = (0..n)
            .filter(|&i| abnormal[i])
            .filter_map(|i| a.nodes[i].onset_bin.zip(a.nodes[i].onset_ms));
        let incident_bin = onsets.map(|o| o.0).min().unwrap_or(0);
        // The reference onset is the strongest departure's: a service departing before
        // the main event is not penalised, one departing after it is.
        let t_ref = (0..n)
            .filter(|&i| abnormal[i] && a.nodes[i].onset_ms.is_some())
            .max_by(|&x, &y| {
                a.nodes[x]
                    .strength
                    .total_cmp(&a.nodes[y].strength)
                    .then(y.cmp(&x))
            })
            .and_then(|i| a.nodes[i].onset_ms);
        let first = (0..n)
            .filter(|&i| abnormal[i])
            .filter_map(|i| a.nodes[i].onset_ms)
            .min();
        let sparks = departs::sparks(c, &live, &deps, first.zip(t_ref), a);
        let mut ctx = Context {
            c,
            a,
            live,
            abnormal,
            resolver,
            roles,
            callees: vec![FxHashSet::default(); n],
            callers: vec![FxHashSet::default(); n],
            inferred: FxHashMap::default(),
            deps,
            sparks,
            incident_bin,
            t_ref,
            credits: vec![Vec::new(); n],
            blamers: vec![FxHashSet::default(); n],
            origins: vec![0; n],
            owned: vec![0; n],
            origin_span: vec![None; n],
            certified_by_others: FxHashSet::default(),
            instigations: Vec::new(),
            lone_callers: Vec::new(),
        };
        ctx.keep_own_sparks();
        ctx.edges();
        ctx.signatures_and_blame();
        ctx.certificates();
        ctx.instigations();
        for i in ctx.instigations.clone() {
            ctx.credits[i.source as usize].push(Credit {
                category: i.category,
                weight: 1.0,
                writer: i.source,
                key: i.key,
            });
        }
        ctx.trace_origins();
        ctx.lone_callers = ctx.find_lone_callers();
        ctx
    }

    /// The node a mention names, if any.
    fn resolve(&self, token: &str) -> Option<NodeId> {
        if let Some(&id) = self.resolver.get(token) {
            return Some(id);
        }
        self.resolver
            .iter()
            .filter(|(name, _)| names::same_service(token, name))
            .map(|(_, &id)| id)
            .min()
    }

    /// The nodes a template of node `u` is about: the nodes it names, the callee of a
    /// failed call, and for a remote-side fault, the systems playing that role.
    pub(super) fn targets(&self, u: NodeId, t: &Template) -> Vec<NodeId> {
        // A resolver's records name the names it was asked for, not services it calls;
        // a certificate the other end rejected is the writer's own.
        if self.plays(u, Category::Dns) || t.cert == Some(CertOf::Writer) {
            return Vec::new();
        }
        // A failed lookup names what was looked up: it is about the resolver. A pool, a
        // configuration or an expired client certificate is the writer's own.
        if t.categories.contains(&Category::Dns) {
            let mut out: Vec<NodeId> = self
                .roles
                .get(&Category::Dns)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&r| r != u)
                .collect();
            out.sort_unstable();
            return out;
        }
        if t.categories
            .iter()
            .any(|c| matches!(c, Category::ConnectionPool | Category::Configuration))
            && !self.serves(u)
        {
            return Vec::new();
        }
        let mut out: Vec<NodeId> = t
            .mentions
            .iter()
            .filter_map(|m| self.resolve(m))
            .filter(|&v| v != u)
            .collect();
        if t.peer != NONE && t.peer != u {
            out.push(self.rep(t.peer));
        }
        for cat in t.categories.iter().filter(|c| c.remote_side()) {
            for &r in self.roles.get(cat).into_iter().flatten() {
                // Timeouts and resets happen on every network: the node's network agent
                // is what they are about only when it is itself departing.
                if r != u && (*cat != Category::Network || self.abnormal[r as usize]) {
                    out.push(r);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether a node plays an infrastructure role, by its name.
    fn plays(&self, u: NodeId, cat: Category) -> bool {
        self.roles.get(&cat).is_some_and(|r| r.contains(&u))
    }

    /// Whether a node is infrastructure that serves others (a database, broker or
    /// resolver by its kind or name).
    fn serves(&self, u: NodeId) -> bool {
        let node = &self.c.nodes[u as usize];
        node.peer_kind
            .is_some_and(|k| k != super::otlp::PeerKind::Service)
            || [Category::Dns, Category::Database, Category::Broker]
                .into_iter()
                .any(|r| plays_role(&node.name, r))
    }

    /// A node, or the node it was merged into.
    pub(super) fn rep(&self, mut id: NodeId) -> NodeId {
        while let Some(x) = self.c.nodes.get(id as usize).and_then(|n| n.merged_into) {
            id = x;
        }
        id
    }

    fn add_edge(&mut self, from: NodeId, to: NodeId) {
        if from != to {
            self.callees[from as usize].insert(to);
            self.callers[to as usize].insert(from);
        }
    }

    /// Call edges from spans, and edges from warnings and errors that name a component.
    fn edges(&mut self) {
        let mut pairs: Vec<(NodeId, NodeId)> = self.c.edges.keys().copied().collect();
        pairs.sort_unstable();
        for (f, t) in pairs {
            let (f, t) = (self.rep(f), self.rep(t));
            self.add_edge(f, t);
        }
        let mut named: Vec<(NodeId, NodeId)> = Vec::new();
        for (&(u, _), t) in &self.c.templates {
            // A database, broker or resolver names its clients and the objects it was
            // asked about, not systems it calls.
            if !self.live[u as usize] || t.level < Level::Warn || self.serves(u) {
                continue;
            }
            for v in self.targets(u, t) {
                if !self.c.edges.contains_key(&(u, v)) {
                    named.push((u, v));
                    *self.inferred.entry((u, v)).or_default() += t.count;
                }
            }
        }
        named.sort_unstable();
        named.dedup();
        for (u, v) in named {
            self.add_edge(u, v);
        }
    }

    /// Where failed spans originate: a failed span with no failed child is an origin; a
    /// failed call into a system without its own spans, or into an abnormal service,
    /// originates there, otherwise at the caller (a healthy callee did not fail it).
    fn trace_origins(&mut self) {
        let spans = &self.c.error_spans;
        let parents: FxHashSet<u64> = spans.iter().map(|e| e.parent).filter(|&p| p != 0).collect();
        for (i, e) in spans.iter().enumerate() {
            if self.a.axis.bin(e.minute) < self.incident_bin {
                continue;
            }
            let node = self.rep(e.node);
            self.owned[node as usize] += 1;
            if parents.contains(&e.span) {
                continue;
            }
            let cats = e
                .message
                .as_deref()
                .map(super::signature::classify)
                .unwrap_or_default();
            // The callee rejected the certificate this service presented.
            let own_cert = cats.contains(&Category::Tls)
                && e.message
                    .as_deref()
                    .and_then(super::signature::certificate_of)
                    == Some(CertOf::Writer);
            let dns = self
                .roles
                .get(&Category::Dns)
                .and_then(|r| r.iter().copied().min());
            let at = if cats.contains(&Category::Dns) {
                // The lookup failed: the callee was never reached.
                dns.unwrap_or(node)
            } else if own_cert
                || cats
                    .iter()
                    .any(|c| matches!(c, Category::ConnectionPool | Category::Configuration))
            {
                node
            } else if e.peer != NONE {
                let p = self.rep(e.peer);
                if !self.c.nodes[p as usize].observed() || self.departs_itself(p) {
                    p
                } else {
                    node
                }
            } else {
                node
            };
            self.origins[at as usize] += 1;
            self.origin_span[at as usize].get_or_insert(i);
        }
    }

    /// Whether `v` can be reached from `u` along call edges through abnormal nodes.
    fn upstream_of(&self, s: NodeId) -> FxHashSet<NodeId> {
        let mut seen = FxHashSet::default();
        let mut stack = vec![s];
        while let Some(x) = stack.pop() {
            for &u in &self.callers[x as usize] {
                if self.abnormal[u as usize] && u != s && seen.insert(u) {
                    stack.push(u);
                }
            }
        }
        seen
    }

    pub(super) fn health(&self, id: NodeId) -> &Health {
        &self.a.nodes[id as usize]
    }
}

/// Whether a name says the node plays an infrastructure role (`orders-db` is a
/// database, `coredns` a resolver, `kafka-0` a broker).
fn plays_role(name: &str, cat: Category) -> bool {
    let frags = cat.role_names();
    !frags.is_empty()
        && (frags.contains(&name)
            || name.split(['-', '.']).any(|part| frags.contains(&part))
            || frags.iter().any(|f| f.len() >= 4 && name.contains(f)))
}

/// A node's departing (non-chronic) templates, strongest first.
fn departing(h: &Health) -> Vec<Dep> {
    h.departures
        .iter()
        .filter(|d| !d.chronic)
        .filter_map(|d| match d.signal {
            Signal::Template(key) => Some(Dep {
                key,
                score: d.score,
                start: d.start,
                onset_ms: d.onset_ms,
                events: d.events,
                before: d.rates.0,
            }),
            _ => None,
        })
        .collect()
}

/// Scores one candidate.
fn factors(ctx: &Context<'_>, s: NodeId, pool: &[NodeId]) -> (Factors, Vec<String>) {
    let node = &ctx.c.nodes[s as usize];
    let h = ctx.health(s);
    let others: Vec<NodeId> = ctx
        .abnormal
        .iter()
        .enumerate()
        .filter(|&(i, &ab)| ab && i as NodeId != s)
        .map(|(i, _)| i as NodeId)
        .collect();
    let denom = others.len().max(1) as f64;
    let mut why = Vec::new();
    let (mut origin, origin_why) = origin(ctx, s, pool);
    why.push(origin_why);
    let mut onset_ms = onset_of(ctx, s);
    let made = ctx.instigated_by(s).copied();
    if let Some(i) = made {
        origin = 1.0;
        onset_ms = Some(onset_ms.map_or(i.at_ms, |o| o.min(i.at_ms)));
        let what = if i.category == Category::BadDeploy {
            "a schema migration it ran"
        } else {
            "its start as a new workload"
        };
        why.push(format!(
            "{what} came just before {} began failing others",
            ctx.c.nodes[i.target as usize].name
        ));
    }
    if let Some(i) = ctx.instigated(s) {
        origin *= 0.3;
        why.push(format!(
            "its failures follow a change of {}",
            ctx.c.nodes[i.source as usize].name
        ));
    }
    let mut onset = match (onset_ms, ctx.t_ref) {
        (Some(o), Some(r)) => (-((o - r).max(0) as f64) / ONSET_DECAY_MS).exp(),
        _ => 0.5,
    };
    let earlier: Vec<&str> = ctx.callees[s as usize]
        .iter()
        .filter(|&&d| pool.contains(&d))
        .filter(|&&d| {
            matches!((onset_of(ctx, d), onset_ms), (Some(od), Some(os)) if od + EARLIER_MS < os)
        })
        .map(|&d| ctx.c.nodes[d as usize].name.as_str())
        .collect();
    if !earlier.is_empty() {
        onset *= 0.5;
        why.push(format!(
            "a dependency departed before it: {}",
            earlier.join(", ")
        ));
    }
    let mut up = ctx.upstream_of(s);
    if let Some(i) = made {
        // What the changed dependency's failure reached, the change reached too.
        up.extend(ctx.upstream_of(i.target));
        up.insert(i.target);
        up.remove(&s);
    }
    let coverage = (up.len() as f64 / denom).min(1.0);
    if !up.is_empty() {
        why.push(format!(
            "{} of {} other abnormal services call it (directly or through others)",
            up.len(),
            others.len()
        ));
    }
    let confirmed =
        ctx.abnormal[s as usize] || !node.observed() || ctx.certified_by_others.contains(&s);
    let blamers: Vec<NodeId> = ctx.blamers[s as usize]
        .iter()
        .copied()
        .filter(|&u| u != s)
        .collect();
    let blame = if confirmed {
        (blamers.len() as f64 / denom).min(1.0)
    } else {
        0.0
    };
    if !blamers.is_empty() {
        let mut names: Vec<&str> = blamers
            .iter()
            .map(|&u| ctx.c.nodes[u as usize].name.as_str())
            .collect();
        names.sort_unstable();
        why.push(format!(
            "named in the warnings or errors of {}",
            names.join(", ")
        ));
    }
    let best = best_credit(ctx, s);
    let mut signature = best.map_or(0.0, |c| c.weight);
    if let Some(c) = best.filter(|c| c.weight >= 1.0) {
        // The same fault first-hand in an abnormal dependency that departed no later:
        // this service relays it.
        let deeper = ctx.callees[s as usize].iter().any(|&d| {
            pool.contains(&d)
                && ctx.credits[d as usize].iter().any(|x| x.category == c.category && x.weight >= 1.0)
                && matches!((onset_of(ctx, d), onset_ms), (Some(od), Some(os)) if od <= os + EARLIER_MS)
        });
        if deeper {
            signature = 0.3;
        }
    }
    if let Some(c) = best {
        let how = if c.writer == s {
            "in its own records"
        } else {
            "relayed by a caller"
        };
        why.push(format!("fault signature {} {how}", c.category));
    }
    let (partial, partial_why) = evidence::partial(ctx, s);
    if let Some(p) = partial_why {
        why.push(p);
    }
    let strength = if node.observed() && !ctx.certified_by_others.contains(&s) {
        h.strength
    } else {
        // A system with no telemetry of its own: its callers' evidence about it.
        h.strength.max(
            blamers
                .iter()
                .flat_map(|&u| ctx.deps[u as usize].iter().map(|d| d.score))
                .fold(0.0, f64::max),
        )
    };
    let strength = match made {
        Some(i) => strength.max(ctx.health(i.target).strength),
        None => strength,
    };
    let f = Factors {
        origin,
        onset,
        coverage,
        blame,
        signature,
        partial: if partial { 1.0 } else { 0.0 },
        strength,
    };
    (f, why)
}

/// The best signature credit of a node: highest weight, then most specific category.
pub(crate) fn best_credit(ctx: &Context<'_>, s: NodeId) -> Option<Credit> {
    ctx.credits[s as usize]
        .iter()
        .filter(|c| c.category != Category::BadDeploy || c.writer == s)
        .copied()
        .max_by(|a, b| {
            a.weight
                .total_cmp(&b.weight)
                .then_with(|| b.category.cmp(&a.category))
                .then_with(|| b.key.cmp(&a.key))
        })
}

/// A node's onset: its own, or (no telemetry of its own) its blamers' first departure.
pub(crate) fn onset_of(ctx: &Context<'_>, s: NodeId) -> Option<i64> {
    let h = ctx.health(s);
    if h.onset_ms.is_some() && (ctx.abnormal[s as usize] || ctx.c.nodes[s as usize].observed()) {
        return h.onset_ms;
    }
    ctx.blamers[s as usize]
        .iter()
        .filter_map(|&u| ctx.health(u).onset_ms)
        .min()
        .or(h.onset_ms)
}

/// The share of a node's failures that start with it.
fn origin(ctx: &Context<'_>, s: NodeId, pool: &[NodeId]) -> (f64, String) {
    let node = &ctx.c.nodes[s as usize];
    if ctx.certified_by_others.contains(&s) && !ctx.abnormal[s as usize] {
        return (
            1.0,
            "its callers fail to verify its certificate; it sees no failures itself".into(),
        );
    }
    if !node.observed() {
        return (
            1.0,
            "no telemetry of its own: its callers' failures end at it".into(),
        );
    }
    let (owned, origins) = (ctx.owned[s as usize], ctx.origins[s as usize]);
    let traces = (owned.max(origins) > 0).then(|| origins as f64 / owned.max(origins) as f64);
    let mut total = 0.0;
    let mut explained = 0.0;
    let mut by: Vec<&str> = Vec::new();
    for d in &ctx.deps[s as usize] {
        let Some(t) = ctx.c.templates.get(&(s, d.key)) else {
            continue;
        };
        if t.level < Level::Warn || t.from_spans {
            continue;
        }
        total += d.events;
        let client_fault = t
            .categories
            .iter()
            .any(|c| matches!(c, Category::ConnectionPool | Category::Configuration));
        if ctx.serves(s) && !client_fault {
            // Its records name its clients: they explain nothing of its own failures,
            // unless they say the client is at fault (a rejected login, too many
            // connections from it).
            continue;
        }
        let about: Vec<NodeId> = ctx
            .targets(s, t)
            .into_iter()
            .filter(|v| {
                pool.contains(v) && (ctx.departs_itself(*v) || !ctx.c.nodes[*v as usize].observed())
            })
            .collect();
        if !about.is_empty() {
            explained += d.events;
            for v in about {
                let name = ctx.c.nodes[v as usize].name.as_str();
                if !by.contains(&name) {
                    by.push(name);
                }
            }
        }
    }
    let logs = (total > 0.0).then(|| 1.0 - explained / total);
    let value = match (traces, logs) {
        (Some(t), Some(l)) => 0.6 * t + 0.4 * l,
        (Some(t), None) => t,
        (None, Some(l)) => l,
        (None, None) => {
            let h = ctx.health(s);
            let slow = h.has(|s| matches!(s, Signal::Latency | Signal::CalledLatency));
            let slow_below = ctx.callees[s as usize].iter().any(|&d| {
                pool.contains(&d)
                    && ctx
                        .health(d)
                        .has(|x| matches!(x, Signal::Latency | Signal::CalledLatency))
            });
            if slow && slow_below {
                0.3
            } else if slow || h.has(|x| *x == Signal::Silence) {
                0.8
            } else {
                0.5
            }
        }
    };
    let (value, lone) = ctx.lone_caller_origin(s, value, logs);
    let mut why = format!("{:.0}% of its failures start with it", value * 100.0);
    if let Some(t) = traces {
        why.push_str(&format!(
            " ({origins} of {} failed spans have no failing dependency below them, {:.0}%)",
            owned.max(origins),
            t * 100.0
        ));
    }
    if !by.is_empty() {
        by.sort_unstable();
        why.push_str(&format!("; its messages name abnormal {}", by.join(", ")));
    }
    for note in lone {
        why.push_str(&note);
    }
    (value, why)
}

fn strength_factor(d: f64) -> f64 {
    0.6 + 0.4 * d / (d + STRENGTH_HALF)
}

/// Runs the whole ranking.
pub(super) fn run(mut c: Collector, cfg: &RcaConfig, text: TemplateText<'_>) -> Rca {
    c.join_orphans();
    c.merge_aliases();
    let Some(a) = health::assess(&c) else {
        return evidence::empty(
            &c,
            "No timestamped records or spans: no timeline to rank services on.",
        );
    };
    let ctx = Context::new(&c, &a);
    // The pool: abnormal nodes, and systems without telemetry that abnormal nodes blame.
    let mut pool: Vec<NodeId> = (0..c.nodes.len() as NodeId)
        .filter(|&i| ctx.abnormal[i as usize])
        .collect();
    for i in &ctx.instigations {
        if !pool.contains(&i.source) {
            pool.push(i.source);
        }
    }
    for i in 0..c.nodes.len() as NodeId {
        let n = &c.nodes[i as usize];
        let unseen = !n.observed() || ctx.certified_by_others.contains(&i);
        if ctx.live[i as usize]
            && unseen
            && !ctx.abnormal[i as usize]
            && !ctx.blamers[i as usize].is_empty()
        {
            pool.push(i);
        }
    }
    let mut scored: Vec<(NodeId, f64, Factors, Vec<String>)> = pool
        .iter()
        .map(|&s| {
            let (f, why) = factors(&ctx, s, &pool);
            let score = strength_factor(f.strength)
                * (W_ORIGIN * f.origin
                    + W_COVERAGE * f.coverage
                    + W_SIGNATURE * f.signature
                    + W_ONSET * f.onset
                    + W_BLAME * f.blame
                    + W_PARTIAL * f.partial);
            (s, score, f, why)
        })
        .collect();
    scored.sort_by(|x, y| {
        y.1.total_cmp(&x.1)
            .then_with(|| y.2.strength.total_cmp(&x.2.strength))
            .then_with(|| c.nodes[x.0 as usize].name.cmp(&c.nodes[y.0 as usize].name))
    });
    scored.truncate(cfg.max_candidates);
    let mut next_id = 1;
    let candidates: Vec<Candidate> = scored
        .iter()
        .map(|(s, score, f, why)| {
            evidence::candidate(
                &ctx,
                *s,
                *score,
                *f,
                why.clone(),
                &pool,
                cfg,
                text,
                &mut next_id,
            )
        })
        .collect();
    let confidence = confidence::confidence(&ctx, &candidates, &scored);
    let stats = RcaStats {
        services: ctx.live.iter().filter(|&&l| l).count(),
        abnormal: ctx.abnormal.iter().filter(|&&x| x).count(),
        edges: ctx.callees.iter().map(FxHashSet::len).sum(),
        collected: c.stats,
    };
    let graph = evidence::graph(&ctx, &candidates, &pool);
    let timeline = evidence::timeline(&ctx, &pool);
    let knowledge = evidence::knowledge(&ctx, &candidates, &pool, text);
    Rca {
        knowledge,
        summary: evidence::summary(&candidates, &confidence),
        candidates,
        confidence,
        graph,
        timeline,
        seen_before: None,
        stats,
    }
}
