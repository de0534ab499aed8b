//! What the ranking shows: each candidate's evidence (records with `file:line`, spans
//! with ids, counts of calls and replicas), its propagation path to the user-facing
//! symptoms, its category, the service graph with roles, the timelines of the abnormal
//! services, and the one-sentence summary.

use rustc_hash::FxHashSet;

use super::collect::{Collector, NodeId};
use super::health::Signal;
use super::knowledge::KnowledgeGraph;
use super::otlp::PeerKind;
use super::rank::{best_credit, onset_of, Context};
use super::signature::Category;
use super::{
    Candidate, Confidence, Evidence, Factors, Graph, GraphEdge, GraphNode, Rca, RcaConfig,
    RcaStats, ServiceTimeline, TemplateText, Timeline,
};
use crate::logs::level::Level;

fn rfc(ms: i64) -> Option<String> {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .map(|t| crate::logs::time::rfc3339(&t))
}

/// Whether only some replicas of a node fail while others stay healthy, and in words.
pub(crate) fn partial(ctx: &Context<'_>, s: NodeId) -> (bool, Option<String>) {
    let node = &ctx.c.nodes[s as usize];
    if node.instances.len() < 2 {
        return (false, None);
    }
    let from = ctx.health(s).onset_bin.unwrap_or(ctx.incident_bin);
    let after_bins = ctx.a.axis.bins.saturating_sub(from);
    let mut failing = Vec::new();
    let mut healthy = Vec::new();
    let mut names: Vec<&String> = node.instances.keys().collect();
    names.sort();
    for name in names {
        let (mut b, mut a, mut ae) = (0u64, 0u64, 0u64);
        for (&m, &(ev, er)) in &node.instances[name] {
            if ctx.a.axis.bin(m) >= from {
                a += u64::from(ev);
                ae += u64::from(er);
            } else {
                b += u64::from(ev);
            }
        }
        let silent = b >= 10 && a == 0 && after_bins >= 2;
        if (ae >= 3 && ae as f64 >= 0.2 * a as f64) || silent {
            failing.push(name.as_str());
        } else if a >= 3 && (ae as f64) < 0.05 * a as f64 {
            healthy.push(name.as_str());
        }
    }
    if failing.is_empty() || healthy.is_empty() {
        return (false, None);
    }
    let zones: FxHashSet<&str> = failing
        .iter()
        .filter_map(|i| node.zones.get(*i).map(String::as_str))
        .collect();
    let healthy_zones: FxHashSet<&str> = healthy
        .iter()
        .filter_map(|i| node.zones.get(*i).map(String::as_str))
        .collect();
    let zone = (zones.len() == 1 && healthy_zones.iter().all(|z| !zones.contains(z)))
        .then(|| zones.iter().next().map(|z| format!(" (all in {z})")))
        .flatten()
        .unwrap_or_default();
    let text = format!(
        "{} of {} replicas fail{zone}: {}; healthy: {}",
        failing.len(),
        failing.len() + healthy.len(),
        failing.join(", "),
        healthy.join(", ")
    );
    (true, Some(text))
}

/// The path from a node to the user-facing symptoms: the longest chain of abnormal
/// callers above it (ties by name).
fn path(ctx: &Context<'_>, s: NodeId, pool: &[NodeId]) -> Vec<String> {
    let mut parent: std::collections::BTreeMap<NodeId, NodeId> = Default::default();
    let mut depth = vec![(s, 0usize)];
    let mut frontier = vec![s];
    let mut seen: FxHashSet<NodeId> = [s].into_iter().collect();
    let mut d = 0;
    while !frontier.is_empty() {
        d += 1;
        let mut next = Vec::new();
        for &x in &frontier {
            let mut callers: Vec<NodeId> = ctx.callers[x as usize]
                .iter()
                .copied()
                .filter(|u| pool.contains(u) && ctx.abnormal[*u as usize])
                .collect();
            callers.sort_by(|a, b| {
                ctx.c.nodes[*a as usize]
                    .name
                    .cmp(&ctx.c.nodes[*b as usize].name)
            });
            for u in callers {
                if seen.insert(u) {
                    parent.insert(u, x);
                    depth.push((u, d));
                    next.push(u);
                }
            }
        }
        frontier = next;
    }
    let Some(&(mut end, _)) = depth.iter().max_by(|a, b| {
        a.1.cmp(&b.1).then_with(|| {
            ctx.c.nodes[b.0 as usize]
                .name
                .cmp(&ctx.c.nodes[a.0 as usize].name)
        })
    }) else {
        return vec![ctx.c.nodes[s as usize].name.clone()];
    };
    let mut chain = vec![end];
    while let Some(&p) = parent.get(&end) {
        chain.push(p);
        end = p;
    }
    chain.reverse();
    chain
        .into_iter()
        .map(|x| ctx.c.nodes[x as usize].name.clone())
        .collect()
}

/// The fault category of a candidate.
fn category(ctx: &Context<'_>, s: NodeId) -> Category {
    let node = &ctx.c.nodes[s as usize];
    let role = if node.peer_kind == Some(PeerKind::Database)
        || role_name(&node.name, Category::Database)
    {
        Some(Category::Database)
    } else if node.peer_kind == Some(PeerKind::Broker) || role_name(&node.name, Category::Broker) {
        Some(Category::Broker)
    } else if role_name(&node.name, Category::Dns) {
        Some(Category::Dns)
    } else {
        None
    };
    let credit = best_credit(ctx, s)
        .filter(|c| c.weight >= 0.5)
        .map(|c| c.category);
    match (credit, role) {
        // A database or broker that crashes or cannot reach the network has failed in
        // its role: on-call asks which system, and the role says it.
        (Some(Category::Network | Category::ResourceExhaustion) | None, Some(r)) => r,
        (Some(c), _) => c,
        (None, None) => {
            let h = ctx.health(s);
            let errors = h.has(|x| matches!(x, Signal::SpanErrors | Signal::CalledErrors))
                || ctx.deps[s as usize].iter().any(|d| {
                    ctx.c
                        .templates
                        .get(&(s, d.key))
                        .is_some_and(|t| t.level >= Level::Error)
                });
            if errors {
                Category::Application
            } else if h.has(|x| matches!(x, Signal::Latency | Signal::CalledLatency)) {
                Category::Latency
            } else {
                Category::Unknown
            }
        }
    }
}

fn role_name(name: &str, cat: Category) -> bool {
    let frags = cat.role_names();
    name.split(['-', '.']).any(|p| frags.contains(&p))
        || frags.iter().any(|f| f.len() >= 4 && name.contains(f))
}

/// Builds one candidate with its evidence; `next_id` numbers evidence across candidates.
#[allow(clippy::too_many_arguments)]
pub(crate) fn candidate(
    ctx: &Context<'_>,
    s: NodeId,
    score: f64,
    factors: Factors,
    explanation: Vec<String>,
    pool: &[NodeId],
    cfg: &RcaConfig,
    text: TemplateText<'_>,
    next_id: &mut usize,
) -> Candidate {
    let name = ctx.c.nodes[s as usize].name.clone();
    let mut ev: Vec<Evidence> = Vec::new();
    let mut used: FxHashSet<(NodeId, u64)> = FxHashSet::default();
    let template_text = |key: u64| -> Option<String> {
        if key >> 63 == 1 {
            ctx.c.span_texts.get(&key).cloned()
        } else {
            text(key).map(|(_, t)| t)
        }
    };
    // The records where it departed, errors first.
    let mut deps = ctx.deps[s as usize].clone();
    deps.sort_by(|a, b| {
        let la = ctx
            .c
            .templates
            .get(&(s, a.key))
            .map_or(Level::Info, |t| t.level);
        let lb = ctx
            .c
            .templates
            .get(&(s, b.key))
            .map_or(Level::Info, |t| t.level);
        lb.cmp(&la).then_with(|| b.score.total_cmp(&a.score))
    });
    for d in deps.iter().take(3) {
        let Some(t) = ctx.c.templates.get(&(s, d.key)) else {
            continue;
        };
        let Some(sample) = t.first.as_ref() else {
            continue;
        };
        used.insert((s, d.key));
        let pattern = template_text(d.key)
            .map(|p| format!("; pattern `{}`", super::collect::clip(&p, 120)))
            .unwrap_or_default();
        ev.push(Evidence {
            id: String::new(),
            kind: if t.from_spans { "span" } else { "log" },
            service: name.clone(),
            time: sample.time.clone(),
            location: sample.location.clone(),
            text: sample.text.clone(),
            why: format!(
                "{} at {} from {}: {:.0} record(s), {:.2}/min before, {:.2}/min during{pattern}",
                if d.score >= 10.0 {
                    "departs from its baseline"
                } else {
                    "changes"
                },
                t.level,
                rfc(d.onset_ms).unwrap_or_default(),
                d.events,
                rate(ctx, t, d.start, false),
                rate(ctx, t, d.start, true),
            ),
        });
    }
    if let Some(c) = best_credit(ctx, s) {
        if let Some(sample) = ctx
            .c
            .templates
            .get(&(c.writer, c.key))
            .and_then(|t| t.first.as_ref())
        {
            if used.insert((c.writer, c.key)) {
                let writer = ctx.c.nodes[c.writer as usize].name.clone();
                ev.push(Evidence {
                    id: String::new(),
                    kind: "log",
                    why: if c.writer == s {
                        format!("fault signature {} in its own records", c.category)
                    } else {
                        format!(
                            "fault signature {} reported by {writer} about {name}",
                            c.category
                        )
                    },
                    service: writer,
                    time: sample.time.clone(),
                    location: sample.location.clone(),
                    text: sample.text.clone(),
                });
            }
        }
    }
    let mut traces: FxHashSet<u64> = FxHashSet::default();
    if let Some(i) = ctx.origin_span[s as usize] {
        let e = &ctx.c.error_spans[i];
        traces.insert(e.trace);
        ev.push(Evidence {
            id: String::new(),
            kind: "span",
            service: ctx.c.nodes[ctx.rep(e.node) as usize].name.clone(),
            time: rfc(e.ms),
            location: format!("trace {} span {}", e.ids.0, e.ids.1),
            text: e.message.clone().unwrap_or_else(|| "failed span".into()),
            why: format!(
                "{} failed span(s) end at {name} with nothing failing below them",
                ctx.origins[s as usize]
            ),
        });
        for e in ctx
            .c
            .error_spans
            .iter()
            .filter(|e| ctx.rep(e.node) == s || ctx.rep(e.peer) == s)
            .take(200)
        {
            traces.insert(e.trace);
        }
    }
    calls_evidence(ctx, s, &name, &mut ev);
    let mut blamers: Vec<NodeId> = ctx.blamers[s as usize].iter().copied().collect();
    blamers.sort_by(|a, b| {
        ctx.c.nodes[*a as usize]
            .name
            .cmp(&ctx.c.nodes[*b as usize].name)
    });
    for u in blamers.into_iter().take(2) {
        let found = ctx.deps[u as usize].iter().find_map(|d| {
            let t = ctx.c.templates.get(&(u, d.key))?;
            (t.level >= Level::Warn
                && ctx.targets(u, t).contains(&s)
                && !used.contains(&(u, d.key)))
            .then_some((d.key, t))
        });
        if let Some((key, t)) = found {
            if let Some(sample) = t.first.as_ref() {
                used.insert((u, key));
                ev.push(Evidence {
                    id: String::new(),
                    kind: if t.from_spans { "span" } else { "log" },
                    service: ctx.c.nodes[u as usize].name.clone(),
                    time: sample.time.clone(),
                    location: sample.location.clone(),
                    text: sample.text.clone(),
                    why: format!(
                        "{} names {name} in its failures",
                        ctx.c.nodes[u as usize].name
                    ),
                });
            }
        }
    }
    if let (true, Some(text)) = partial(ctx, s) {
        ev.push(Evidence {
            id: String::new(),
            kind: "replicas",
            service: name.clone(),
            time: None,
            location: String::new(),
            text,
            why: "only some replicas fail: the fault is in this service's own pods or nodes".into(),
        });
    }
    for r in ctx
        .c
        .traced
        .iter()
        .filter(|r| traces.contains(&r.trace) && ctx.rep(r.node) != s)
        .take(2)
    {
        ev.push(Evidence {
            id: String::new(),
            kind: "log",
            service: ctx.c.nodes[ctx.rep(r.node) as usize].name.clone(),
            time: r.sample.time.clone(),
            location: r.sample.location.clone(),
            text: r.sample.text.clone(),
            why: format!("logged in a trace that fails at {name}"),
        });
    }
    let mut places = FxHashSet::default();
    ev.retain(|e| e.location.is_empty() || places.insert(e.location.clone()));
    ev.truncate(cfg.max_evidence);
    for e in &mut ev {
        e.id = format!("E{next_id}");
        *next_id += 1;
    }
    Candidate {
        service: name,
        score: (score * 1000.0).round() / 1000.0,
        category: category(ctx, s),
        onset: onset_of(ctx, s).and_then(rfc),
        propagation_path: path(ctx, s, pool),
        evidence: ev,
        factors: round(factors),
        explanation,
    }
}

fn round(mut f: Factors) -> Factors {
    let r = |x: f64| (x * 1000.0).round() / 1000.0;
    f.origin = r(f.origin);
    f.onset = r(f.onset);
    f.coverage = r(f.coverage);
    f.blame = r(f.blame);
    f.signature = r(f.signature);
    f.strength = (f.strength * 10.0).round() / 10.0;
    f
}

/// A template's rate per minute before (or from) a bin.
fn rate(ctx: &Context<'_>, t: &super::collect::Template, bin: usize, during: bool) -> f64 {
    let axis = &ctx.a.axis;
    let (mut n, mut bins) = (0u64, 0usize);
    for &(m, k) in &t.minutes {
        if (axis.bin(m) >= bin) == during {
            n += u64::from(k);
        }
    }
    bins += if during {
        axis.bins.saturating_sub(bin)
    } else {
        bin
    };
    n as f64 / (bins.max(1) as f64 * f64::from(axis.width))
}

/// Failed calls into a node, as its callers saw them.
fn calls_evidence(ctx: &Context<'_>, s: NodeId, name: &str, ev: &mut Vec<Evidence>) {
    let h = ctx.health(s);
    let Some(d) = h
        .departures
        .iter()
        .find(|d| matches!(d.signal, Signal::CalledErrors | Signal::CalledLatency))
    else {
        return;
    };
    let node = &ctx.c.nodes[s as usize];
    let (mut calls, mut errors, mut lat) = (0u64, 0u64, 0u64);
    for (&m, b) in &node.minutes {
        if ctx.a.axis.bin(m) >= d.start {
            calls += u64::from(b.in_calls);
            errors += u64::from(b.in_errors);
            lat += b.in_latency_us;
        }
    }
    let mut callers: Vec<&str> = ctx.callers[s as usize]
        .iter()
        .map(|&u| ctx.c.nodes[u as usize].name.as_str())
        .collect();
    callers.sort_unstable();
    let text = format!(
        "{errors} of {calls} calls from {} failed, mean latency {:.0} ms",
        callers.join(", "),
        if calls > 0 {
            lat as f64 / calls as f64 / 1000.0
        } else {
            0.0
        }
    );
    ev.push(Evidence {
        id: String::new(),
        kind: "calls",
        service: name.to_string(),
        time: rfc(d.onset_ms),
        location: String::new(),
        text,
        why: format!(
            "calls into {name} {} from {}",
            if d.signal == Signal::CalledErrors {
                "fail"
            } else {
                "slow down"
            },
            rfc(d.onset_ms).unwrap_or_default()
        ),
    });
}

/// The service graph with each node's role.
pub(crate) fn graph(ctx: &Context<'_>, cands: &[Candidate], pool: &[NodeId]) -> Graph {
    let c = ctx.c;
    let root = cands.first().map(|x| x.service.as_str());
    let on_path: FxHashSet<&str> = cands
        .first()
        .map(|x| x.propagation_path.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let live: Vec<NodeId> = (0..c.nodes.len() as NodeId)
        .filter(|&i| ctx.live[i as usize])
        .collect();
    // Big graphs keep the abnormal part and its neighbours.
    let keep: FxHashSet<NodeId> = if live.len() <= 150 {
        live.iter().copied().collect()
    } else {
        let mut k: FxHashSet<NodeId> = pool.iter().copied().collect();
        for &p in pool {
            k.extend(ctx.callers[p as usize].iter().copied());
            k.extend(ctx.callees[p as usize].iter().copied());
        }
        k
    };
    let mut nodes: Vec<GraphNode> = keep
        .iter()
        .map(|&i| {
            let n = &c.nodes[i as usize];
            let errors: u64 = n
                .minutes
                .values()
                .map(|b| u64::from(b.errors + b.span_errors + b.in_errors))
                .sum();
            let role = if Some(n.name.as_str()) == root {
                "root_cause"
            } else if on_path.contains(n.name.as_str()) {
                "path"
            } else if ctx.abnormal[i as usize] {
                "victim"
            } else {
                "healthy"
            };
            GraphNode {
                name: n.name.clone(),
                kind: match n.peer_kind {
                    _ if n.observed() && n.peer_kind.is_none() => "service",
                    Some(PeerKind::Database) => "database",
                    Some(PeerKind::Broker) => "broker",
                    _ if !n.observed() => "external",
                    _ => "service",
                },
                observed: n.observed(),
                abnormal: ctx.abnormal[i as usize],
                role,
                onset: if ctx.abnormal[i as usize] {
                    ctx.health(i).onset_ms.and_then(rfc)
                } else {
                    None
                },
                records: n.logs,
                spans: n.spans,
                errors,
            }
        })
        .collect();
    nodes.sort_by(|a, b| {
        b.abnormal
            .cmp(&a.abnormal)
            .then_with(|| a.name.cmp(&b.name))
    });
    let mut edges = Vec::new();
    let mut pairs: Vec<(&(NodeId, NodeId), &super::collect::Edge)> = c.edges.iter().collect();
    pairs.sort_by_key(|(k, _)| **k);
    for (&(f, t), e) in pairs {
        let (f, t) = (ctx.rep(f), ctx.rep(t));
        if f == t || !keep.contains(&f) || !keep.contains(&t) {
            continue;
        }
        let detailed = ctx.abnormal[f as usize] || ctx.abnormal[t as usize];
        let mut per_minute: Vec<(i32, (u32, u32, u64))> = if detailed {
            e.minutes.iter().map(|(m, v)| (*m, *v)).collect()
        } else {
            Vec::new()
        };
        per_minute.sort_by_key(|x| x.0);
        per_minute.truncate(240);
        edges.push(GraphEdge {
            from: c.nodes[f as usize].name.clone(),
            to: c.nodes[t as usize].name.clone(),
            source: "traces",
            calls: e.calls,
            errors: e.errors,
            mean_latency_ms: (e.calls > 0)
                .then(|| (e.latency_us as f64 / e.calls as f64 / 10.0).round() / 100.0),
            per_minute: per_minute
                .into_iter()
                .map(|(m, (k, er, l))| {
                    (
                        rfc(i64::from(m) * 60_000).unwrap_or_default(),
                        k,
                        er,
                        if k > 0 {
                            (l as f64 / f64::from(k) / 10.0).round() / 100.0
                        } else {
                            0.0
                        },
                    )
                })
                .collect(),
        });
    }
    let mut inferred: Vec<(&(NodeId, NodeId), &u64)> = ctx.inferred.iter().collect();
    inferred.sort_by_key(|(k, _)| **k);
    for (&(f, t), &n) in inferred {
        if keep.contains(&f) && keep.contains(&t) && !c.edges.contains_key(&(f, t)) {
            edges.push(GraphEdge {
                from: c.nodes[f as usize].name.clone(),
                to: c.nodes[t as usize].name.clone(),
                source: "logs",
                calls: n,
                errors: n,
                mean_latency_ms: None,
                per_minute: Vec::new(),
            });
        }
    }
    Graph { nodes, edges }
}

/// Errors and warnings per bin of the abnormal services, around the incident.
pub(crate) fn timeline(ctx: &Context<'_>, pool: &[NodeId]) -> Option<Timeline> {
    let axis = &ctx.a.axis;
    let mut nodes: Vec<NodeId> = pool
        .iter()
        .copied()
        .filter(|&i| ctx.abnormal[i as usize])
        .collect();
    if nodes.is_empty() {
        return None;
    }
    nodes.sort_by_key(|&i| {
        (
            ctx.health(i).onset_ms.unwrap_or(i64::MAX),
            ctx.c.nodes[i as usize].name.clone(),
        )
    });
    nodes.truncate(12);
    let from = ctx.incident_bin.saturating_sub(60);
    let to = (from + 180).min(axis.bins);
    let services = nodes
        .iter()
        .map(|&i| {
            let n = &ctx.c.nodes[i as usize];
            let mut errors = vec![0u32; to - from];
            let mut warnings = vec![0u32; to - from];
            for (&m, b) in n.minutes.iter().filter(|(m, _)| axis.contains(**m)) {
                let bin = axis.bin(m);
                if (from..to).contains(&bin) {
                    errors[bin - from] += b.errors + b.span_errors + b.in_errors;
                    warnings[bin - from] += b.warn;
                }
            }
            ServiceTimeline {
                service: n.name.clone(),
                errors,
                warnings,
                onset_bin: ctx
                    .health(i)
                    .onset_bin
                    .filter(|b| (from..to).contains(b))
                    .map(|b| b - from),
            }
        })
        .collect();
    Some(Timeline {
        start: rfc(axis.bin_ms(from)).unwrap_or_default(),
        bin_minutes: axis.width,
        incident_bin: Some(ctx.incident_bin - from),
        services,
    })
}

/// The root cause in one sentence.
pub(crate) fn summary(cands: &[Candidate], conf: &Confidence) -> String {
    let Some(top) = cands.first() else {
        return "No service departed from its own baseline: no root cause is named.".into();
    };
    let when = top
        .onset
        .as_deref()
        .map(|o| format!(", abnormal from {o}"))
        .unwrap_or_default();
    let path = if top.propagation_path.len() > 1 {
        format!("; it propagated {}", top.propagation_path.join(" → "))
    } else {
        String::new()
    };
    format!(
        "Root cause: {} ({}){when}{path} (confidence {}).",
        top.service, top.category, conf.level
    )
}

/// A result with no candidates.
pub(crate) fn empty(c: &Collector, reason: &str) -> Rca {
    Rca {
        summary: reason.to_string(),
        candidates: Vec::new(),
        confidence: Confidence {
            level: "low",
            margin: 0.0,
            settle: None,
        },
        graph: Graph::default(),
        timeline: None,
        seen_before: None,
        knowledge: Default::default(),
        stats: RcaStats {
            services: c
                .nodes
                .iter()
                .filter(|n| n.merged_into.is_none() && !n.overflow)
                .count(),
            abnormal: 0,
            edges: 0,
            collected: c.stats,
        },
    }
}

/// The knowledge graph of this analysis: the abnormal services, what they call, their
/// departing templates and the signatures those match, their replicas, and the incident.
pub(crate) fn knowledge(
    ctx: &Context<'_>,
    cands: &[Candidate],
    pool: &[NodeId],
    text: TemplateText<'_>,
) -> KnowledgeGraph {
    let mut k = KnowledgeGraph::default();
    let name = |i: NodeId| ctx.c.nodes[i as usize].name.clone();
    let mut pool = pool.to_vec();
    pool.sort_by_key(|&i| name(i));
    for &s in &pool {
        let sid = k.node(format!("service:{}", name(s)), "service", name(s));
        let mut callees: Vec<NodeId> = ctx.callees[s as usize].iter().copied().collect();
        callees.sort_by_key(|&i| name(i));
        for d in callees {
            let did = k.node(format!("service:{}", name(d)), "service", name(d));
            k.edge(&sid, &did, "calls");
        }
        for dep in ctx.deps[s as usize].iter().take(5) {
            let Some(t) = ctx.c.templates.get(&(s, dep.key)) else {
                continue;
            };
            let (id, label) = if dep.key >> 63 == 1 {
                (
                    format!("{:016x}", dep.key),
                    ctx.c.span_texts.get(&dep.key).cloned().unwrap_or_default(),
                )
            } else {
                text(dep.key).unwrap_or_else(|| (format!("{:016x}", dep.key), String::new()))
            };
            let tid = k.node(
                format!("template:{id}"),
                "template",
                super::collect::clip(&label, 160),
            );
            k.edge(&sid, &tid, "logs");
            for c in &t.categories {
                let cid = k.node(format!("signature:{c}"), "signature", c.to_string());
                k.edge(&tid, &cid, "matches");
            }
        }
        let mut replicas: Vec<&String> = ctx.c.nodes[s as usize].instances.keys().collect();
        replicas.sort();
        for r in replicas.into_iter().take(20) {
            let rid = k.node(format!("replica:{r}"), "replica", r.clone());
            k.edge(&sid, &rid, "runs_on");
        }
    }
    if let Some(top) = cands.first() {
        let at = top.onset.clone().unwrap_or_default();
        let iid = k.node(
            format!("incident:{at}"),
            "incident",
            format!("{} ({})", top.service, top.category),
        );
        k.edge(&iid, &format!("service:{}", top.service), "implicates");
        for s in top.propagation_path.iter().skip(1) {
            k.edge(&iid, &format!("service:{s}"), "affects");
        }
    }
    k
}
