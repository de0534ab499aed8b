//! The collector: log records and spans stream in, per-service per-minute aggregates
//! come out. Nothing grows with the number of records except what is capped: the span
//! index used to join children to parents, the list of failed spans, and the log records
//! that carry a trace id (each with a cap, and a counter of what the cap dropped).

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;

use super::names;
use super::otlp::{PeerKind, SpanKind, SpanRecord};
use super::signature::{self, Category};
use crate::logs::level::Level;

mod join;

/// Names kept per template.
const MAX_MENTIONS: usize = 32;
/// Replicas told apart per service (partial failure needs a few, not every pod name a
/// log ever printed).
const MAX_INSTANCES: usize = 256;

/// The name of the node past the cap on names (not a valid canonical service name).
const OVERFLOW_NAME: &str = "(other services)";

/// Index of a node (service or infrastructure) in one collection.
pub(crate) type NodeId = u32;
/// No node.
pub(crate) const NONE: NodeId = u32::MAX;

/// Limits that bound the collector's memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Spans remembered to join children to their parents (two generations of this size).
    pub span_index: usize,
    /// Failed spans remembered to find where errors originate.
    pub error_spans: usize,
    /// Spans whose parent had not been seen yet.
    pub orphans: usize,
    /// Log records with a trace id remembered for joins with spans.
    pub traced_records: usize,
    /// Services and systems told apart; past it, new names share one node that is never
    /// ranked (a log whose every line names a new component stays bounded).
    pub nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            span_index: 2_000_000,
            error_spans: 2_000_000,
            orphans: 2_000_000,
            traced_records: 100_000,
            nodes: 2_048,
        }
    }
}

/// One log record, as RCA sees it.
#[derive(Debug, Clone)]
pub struct LogEvent<'a> {
    /// The component the format names (a compose service, a pod, a logger), if any.
    pub component: Option<&'a str>,
    /// The file it was read from (names the service when the component does not).
    pub file: &'a str,
    /// Whether the file interleaves several sources (compose, syslog, journald), so the
    /// component names the service rather than the file.
    pub multiplexed: bool,
    /// First line number in the file.
    pub line: u64,
    /// When it was written.
    pub time: Option<DateTime<Utc>>,
    /// Level.
    pub level: Level,
    /// The template key (the miner's cluster id; merged keys are resolved at the end).
    pub template: u64,
    /// The message (first line).
    pub message: &'a str,
    /// Trace id, if the record carries one.
    pub trace_id: Option<&'a str>,
}

/// A record kept as evidence.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sample {
    /// RFC 3339 time, when known.
    pub time: Option<String>,
    /// Unix milliseconds (for ordering), when known.
    #[serde(skip)]
    pub ms: Option<i64>,
    /// `file:line` of a log record, or `trace <id> span <id>` of a span.
    pub location: String,
    /// The text (clipped).
    pub text: String,
}

/// Per node and minute.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Bucket {
    pub logs: u32,
    pub warn: u32,
    pub errors: u32,
    pub spans: u32,
    pub span_errors: u32,
    pub latency_us: u64,
    pub in_calls: u32,
    pub in_errors: u32,
    pub in_latency_us: u64,
}

/// A service or a system that only appears as a callee.
#[derive(Debug, Default)]
pub(crate) struct Node {
    pub name: String,
    /// Log records written by it.
    pub logs: u64,
    /// Spans of its own (server, consumer, internal).
    pub spans: u64,
    /// What a caller's span said it is, when it appeared as a callee.
    pub peer_kind: Option<PeerKind>,
    pub minutes: FxHashMap<i32, Bucket>,
    /// Replica → minute → (events, errors).
    pub instances: FxHashMap<String, FxHashMap<i32, (u32, u32)>>,
    /// Replica → zone or node.
    pub zones: FxHashMap<String, String>,
    /// Set when this node turned out to be another name of that node.
    pub merged_into: Option<NodeId>,
    /// The node that holds every name met past [`Limits::nodes`]; never ranked.
    pub overflow: bool,
}

impl Node {
    /// Whether the node has telemetry of its own (logs or spans), not only calls into it.
    pub(crate) fn observed(&self) -> bool {
        self.logs > 0 || self.spans > 0
    }
}

/// One template of one node (log records, or failed spans' messages).
#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub level: Level,
    pub count: u64,
    /// (minute, count), in arrival order.
    pub minutes: Vec<(i32, u32)>,
    pub first: Option<Sample>,
    pub last: Option<Sample>,
    pub categories: Vec<Category>,
    /// The first record reports a remote system's answer.
    pub remote: bool,
    /// Canonical names the records mention (warn and above).
    pub mentions: Vec<String>,
    mention_checks: u8,
    /// Made from failed spans' messages rather than log records.
    pub from_spans: bool,
    /// For failed client spans' messages: the callee.
    pub peer: NodeId,
    /// Whose certificate a TLS record is about, when its wording says so.
    pub cert: Option<signature::CertOf>,
    /// The records say a schema migration ran.
    pub migration: bool,
    /// The records say the service took a new configuration.
    pub config_change: bool,
}

/// A call edge's counts per minute.
#[derive(Debug, Default, Clone)]
pub(crate) struct Edge {
    pub calls: u64,
    pub errors: u64,
    pub latency_us: u64,
    pub minutes: FxHashMap<i32, (u32, u32, u64)>,
}

#[derive(Debug, Clone, Copy)]
struct SpanMeta {
    node: NodeId,
    peer: NodeId,
}

#[derive(Debug, Clone, Copy)]
struct Orphan {
    parent: u64,
    node: NodeId,
    minute: i32,
    error: bool,
    latency_us: u64,
}

/// A failed span, kept to find where errors start.
#[derive(Debug, Clone)]
pub(crate) struct ErrorSpan {
    pub span: u64,
    pub parent: u64,
    pub trace: u64,
    pub node: NodeId,
    /// The callee of a failed client span, when it names one.
    pub peer: NodeId,
    pub minute: i32,
    pub ms: i64,
    pub ids: (String, String),
    pub message: Option<String>,
}

/// A log record with a trace id (warn and above).
#[derive(Debug, Clone)]
pub(crate) struct TracedRecord {
    pub trace: u64,
    pub node: NodeId,
    pub sample: Sample,
}

/// Counters of what the collector saw and what its caps dropped.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct CollectStats {
    /// Log records taken.
    pub records: u64,
    /// Log records without a timestamp (counted, not on timelines).
    pub records_untimed: u64,
    /// Spans taken.
    pub spans: u64,
    /// Failed spans.
    pub error_spans: u64,
    /// Spans whose parent was never seen (roots excluded).
    pub unjoined_spans: u64,
    /// Failed spans not kept (cap).
    pub error_spans_dropped: u64,
    /// Spans forgotten by the join index (cap) or orphans dropped.
    pub index_evictions: u64,
    /// Records, spans and mentions of names met past the cap on services, pooled in one
    /// node that is not ranked.
    pub overflow_events: u64,
}

/// Streams log records and spans into per-node aggregates.
#[derive(Debug, Default)]
pub struct Collector {
    limits: Limits,
    pub(crate) nodes: Vec<Node>,
    by_name: FxHashMap<String, NodeId>,
    pub(crate) templates: FxHashMap<(NodeId, u64), Template>,
    pub(crate) edges: FxHashMap<(NodeId, NodeId), Edge>,
    index: FxHashMap<u64, SpanMeta>,
    old_index: FxHashMap<u64, SpanMeta>,
    orphans: Vec<Orphan>,
    pub(crate) error_spans: Vec<ErrorSpan>,
    /// (peer node, child node) → how often a client span naming the peer had a child
    /// span in that node: the peer is another name of the node.
    pub(crate) aliases: FxHashMap<(NodeId, NodeId), u32>,
    pub(crate) traced: Vec<TracedRecord>,
    pub(crate) stats: CollectStats,
    /// Templates keyed for spans' messages: their text.
    pub(crate) span_texts: FxHashMap<u64, String>,
    /// Log templates' ids and texts, by key (filled when the miner is done).
    pub(crate) texts: FxHashMap<u64, (String, String)>,
}

fn minute_of(ms: i64) -> i32 {
    ms.div_euclid(60_000)
        .clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn id64(bytes: &[u8]) -> u64 {
    if bytes.len() == 8 {
        let mut a = [0u8; 8];
        a.copy_from_slice(bytes);
        u64::from_be_bytes(a)
    } else {
        fnv(bytes)
    }
}

/// Clips text for evidence.
pub(crate) fn clip(s: &str, max: usize) -> String {
    let line = s.lines().next().unwrap_or("");
    if line.len() <= max {
        return line.to_string();
    }
    let mut end = max;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &line[..end])
}

/// Digits masked, so span messages differing in numbers share a template.
fn mask_digits(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(200));
    let mut in_num = false;
    for c in s.chars().take(200) {
        if c.is_ascii_digit() {
            if !in_num {
                out.push_str("<*>");
            }
            in_num = true;
        } else {
            in_num = false;
            out.push(c);
        }
    }
    out
}

impl Collector {
    /// An empty collector with the default limits.
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    /// An empty collector with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> CollectStats {
        self.stats
    }

    pub(crate) fn node_id(&mut self, raw: &str) -> NodeId {
        let key = names::canonical(raw);
        if let Some(&id) = self.by_name.get(&key) {
            return id;
        }
        if self.nodes.len() >= self.limits.nodes {
            self.stats.overflow_events += 1;
            return self.overflow_node();
        }
        let id = self.nodes.len() as NodeId;
        self.nodes.push(Node {
            name: key.clone(),
            ..Node::default()
        });
        self.by_name.insert(key, id);
        id
    }

    /// The one node past the cap on names, made on first use.
    fn overflow_node(&mut self) -> NodeId {
        if let Some(&id) = self.by_name.get(OVERFLOW_NAME) {
            return id;
        }
        let id = self.nodes.len() as NodeId;
        self.nodes.push(Node {
            name: OVERFLOW_NAME.to_string(),
            overflow: true,
            ..Node::default()
        });
        self.by_name.insert(OVERFLOW_NAME.to_string(), id);
        id
    }

    /// The node a name resolves to, if it is known.
    #[cfg(test)]
    pub(crate) fn lookup(&self, canonical: &str) -> Option<NodeId> {
        self.by_name.get(canonical).copied()
    }

    /// The service a log record belongs to, and its replica when the name shows one: in
    /// a file that interleaves sources, its component; otherwise its file's (or folder's)
    /// name, then its component.
    fn service_of(ev: &LogEvent<'_>) -> (String, Option<String>) {
        let component = ev
            .component
            .filter(|c| !c.is_empty() && *c != "-" && !names::is_logger_path(c));
        if let (true, Some(c)) = (ev.multiplexed, component) {
            return (c.to_string(), Some(c.to_string()));
        }
        if let Some((service, raw)) = names::from_path(ev.file) {
            return (service, Some(raw));
        }
        match component {
            Some(c) => (c.to_string(), Some(c.to_string())),
            None => ("unknown".to_string(), None),
        }
    }

    /// Takes one log record.
    pub fn add_log(&mut self, ev: &LogEvent<'_>) {
        self.stats.records += 1;
        let (service, instance) = Self::service_of(ev);
        let node = self.node_id(&service);
        let ms = ev.time.map(|t| t.timestamp_millis());
        let n = &mut self.nodes[node as usize];
        n.logs += 1;
        let error = ev.level >= Level::Error;
        let Some(ms) = ms else {
            self.stats.records_untimed += 1;
            return;
        };
        let minute = minute_of(ms);
        let b = n.minutes.entry(minute).or_default();
        b.logs += 1;
        match ev.level {
            Level::Warn => b.warn += 1,
            l if l >= Level::Error => b.errors += 1,
            _ => {}
        }
        if let Some(inst) = instance.filter(|i| {
            names::canonical(i) != *i
                && (n.instances.len() < MAX_INSTANCES || n.instances.contains_key(i))
        }) {
            let e = n
                .instances
                .entry(inst)
                .or_default()
                .entry(minute)
                .or_default();
            e.0 += 1;
            e.1 += u32::from(error);
        }
        let location = format!("{}:{}", ev.file, ev.line);
        let trace = ev
            .trace_id
            .filter(|t| !t.is_empty())
            .map(|t| fnv(t.to_ascii_lowercase().as_bytes()));
        let t = self.template(
            node,
            ev.template,
            ev.level,
            minute,
            ms,
            &location,
            ev.message,
            false,
        );
        if ev.level >= Level::Warn {
            let fresh = t.add_mentions(ev.message);
            if fresh {
                self.intern_hosts(ev.message);
            }
            if let Some(trace) = trace {
                if self.traced.len() < self.limits.traced_records {
                    self.traced.push(TracedRecord {
                        trace,
                        node,
                        sample: sample(ms, location, ev.message),
                    });
                }
            }
        }
    }

    /// Makes nodes of the hosts a message names, so systems seen only in messages (a
    /// third-party API, an uninstrumented database) are part of the graph.
    fn intern_hosts(&mut self, message: &str) {
        // Names seen only in messages get at most half the nodes: services with
        // telemetry of their own keep room when messages name many hosts.
        if self.nodes.len() >= self.limits.nodes / 2 {
            return;
        }
        let mut found = Vec::new();
        names::hosts(message, 8, &mut found);
        for h in found {
            self.node_id(&h);
        }
    }

    /// Counts one occurrence of a template and returns it.
    #[allow(clippy::too_many_arguments)]
    fn template(
        &mut self,
        node: NodeId,
        key: u64,
        level: Level,
        minute: i32,
        ms: i64,
        location: &str,
        message: &str,
        from_spans: bool,
    ) -> &mut Template {
        let t = self
            .templates
            .entry((node, key))
            .or_insert_with(|| Template {
                level,
                count: 0,
                minutes: Vec::new(),
                first: Some(sample(ms, location.to_string(), message)),
                last: None,
                categories: signature::classify(message),
                remote: signature::reports_remote(message),
                cert: signature::certificate_of(message),
                migration: signature::schema_change(message),
                config_change: signature::config_change(message),
                mentions: Vec::new(),
                mention_checks: 0,
                from_spans,
                peer: NONE,
            });
        t.count += 1;
        t.level = t.level.max(level);
        match t.minutes.last_mut() {
            Some((m, c)) if *m == minute => *c += 1,
            _ => t.minutes.push((minute, 1)),
        }
        if t.first.as_ref().and_then(|f| f.ms).is_some_and(|f| ms < f) {
            t.first = Some(sample(ms, location.to_string(), message));
        } else if t.count > 1 && t.last.as_ref().and_then(|l| l.ms).is_none_or(|l| ms >= l) {
            t.last = Some(sample(ms, location.to_string(), message));
        }
        t
    }

    /// Takes one span.
    pub fn add_span(&mut self, s: &SpanRecord<'_>) {
        self.stats.spans += 1;
        let node = self.node_id(s.service);
        let ms = (s.start_ns / 1_000_000) as i64;
        let minute = minute_of(ms);
        let latency = s.duration_us();
        let own = matches!(s.kind, SpanKind::Server | SpanKind::Consumer)
            || (s.kind == SpanKind::Internal && s.parent_span_id.is_empty());
        {
            let n = &mut self.nodes[node as usize];
            if !s.kind.is_outgoing() {
                n.spans += 1;
            }
            if let Some(inst) = s
                .instance
                .filter(|i| n.instances.len() < MAX_INSTANCES || n.instances.contains_key(*i))
            {
                let e = n
                    .instances
                    .entry(inst.to_string())
                    .or_default()
                    .entry(minute)
                    .or_default();
                e.0 += 1;
                e.1 += u32::from(s.error);
                if let Some(z) = s.zone {
                    n.zones
                        .entry(inst.to_string())
                        .or_insert_with(|| z.to_string());
                }
            }
            if own {
                let b = n.minutes.entry(minute).or_default();
                b.spans += 1;
                b.span_errors += u32::from(s.error);
                b.latency_us += latency;
            }
        }
        let mut peer = NONE;
        if let Some(p) = &s.peer {
            let id = self.node_id(p.name);
            if id != node {
                peer = id;
                let pn = &mut self.nodes[id as usize];
                pn.peer_kind.get_or_insert(p.kind);
                let b = pn.minutes.entry(minute).or_default();
                b.in_calls += 1;
                b.in_errors += u32::from(s.error);
                b.in_latency_us += latency;
                self.edge(node, id, minute, s.error, latency);
            }
        }
        let span = id64(s.span_id);
        let parent = if s.parent_span_id.is_empty() {
            0
        } else {
            id64(s.parent_span_id)
        };
        if parent != 0 {
            let found = self
                .index
                .get(&parent)
                .or_else(|| self.old_index.get(&parent))
                .copied();
            match found {
                Some(meta) => self.link(meta, node, minute, s.error, latency),
                None if self.orphans.len() < self.limits.orphans => self.orphans.push(Orphan {
                    parent,
                    node,
                    minute,
                    error: s.error,
                    latency_us: latency,
                }),
                None => self.stats.index_evictions += 1,
            }
        }
        if self.index.len() >= self.limits.span_index {
            self.stats.index_evictions += self.old_index.len() as u64;
            self.old_index = std::mem::take(&mut self.index);
        }
        self.index.insert(span, SpanMeta { node, peer });
        if s.error {
            self.failed_span(s, node, peer, span, parent, minute, ms);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn failed_span(
        &mut self,
        s: &SpanRecord<'_>,
        node: NodeId,
        peer: NodeId,
        span: u64,
        parent: u64,
        minute: i32,
        ms: i64,
    ) {
        self.stats.error_spans += 1;
        let ids = (super::otlp::hex(s.trace_id), super::otlp::hex(s.span_id));
        let text = s.message.map(str::to_string).or_else(|| {
            s.http_status
                .map(|c| format!("{} failed with HTTP {c}", s.name))
        });
        if let Some(m) = &text {
            let masked = mask_digits(m);
            let key = fnv(masked.as_bytes()) | (1 << 63);
            self.span_texts.entry(key).or_insert(masked);
            let location = format!("trace {} span {}", ids.0, ids.1);
            let t = self.template(node, key, Level::Error, minute, ms, &location, m, true);
            let fresh = t.add_mentions(m);
            if peer != NONE {
                t.peer = peer;
            }
            if fresh {
                self.intern_hosts(m);
            }
        }
        if self.error_spans.len() >= self.limits.error_spans {
            self.stats.error_spans_dropped += 1;
            return;
        }
        self.error_spans.push(ErrorSpan {
            span,
            parent,
            trace: fnv(ids.0.as_bytes()),
            node,
            peer,
            minute,
            ms,
            ids,
            message: text.map(|t| clip(&t, 300)),
        });
    }

    fn edge(&mut self, from: NodeId, to: NodeId, minute: i32, error: bool, latency: u64) {
        let e = self.edges.entry((from, to)).or_default();
        e.calls += 1;
        e.errors += u64::from(error);
        e.latency_us += latency;
        let m = e.minutes.entry(minute).or_default();
        m.0 += 1;
        m.1 += u32::from(error);
        m.2 += latency;
    }

    /// A child span met its parent: an edge when they are in different nodes.
    fn link(&mut self, parent: SpanMeta, child: NodeId, minute: i32, error: bool, latency: u64) {
        if parent.node == child {
            return;
        }
        if parent.peer != NONE {
            *self.aliases.entry((parent.peer, child)).or_default() += 1;
            if parent.peer == child {
                return;
            }
        }
        self.edge(parent.node, child, minute, error, latency);
    }
}

fn sample(ms: i64, location: String, message: &str) -> Sample {
    Sample {
        time: DateTime::<Utc>::from_timestamp_millis(ms).map(|t| crate::logs::time::rfc3339(&t)),
        ms: Some(ms),
        location,
        text: clip(message, 300),
    }
}

impl Template {
    /// Adds another template's counts (same node, merged keys).
    fn absorb(&mut self, o: Template) {
        self.count += o.count;
        self.level = self.level.max(o.level);
        self.minutes.extend(o.minutes);
        let ms = |s: &Option<Sample>| s.as_ref().and_then(|x| x.ms);
        if self.first.is_none() || (ms(&o.first).is_some() && ms(&o.first) < ms(&self.first)) {
            self.first = o.first;
        }
        if ms(&o.last) > ms(&self.last) {
            self.last = o.last;
        }
        for c in o.categories {
            if !self.categories.contains(&c) {
                self.categories.push(c);
            }
        }
        self.categories.sort();
        self.remote |= o.remote;
        self.cert = self.cert.or(o.cert);
        self.migration |= o.migration;
        self.config_change |= o.config_change;
        for m in o.mentions {
            if self.mentions.len() < MAX_MENTIONS && !self.mentions.contains(&m) {
                self.mentions.push(m);
            }
        }
    }

    /// Collects the names a warn-or-worse record mentions (the first few records);
    /// whether this record was read for them.
    fn add_mentions(&mut self, message: &str) -> bool {
        if self.mention_checks >= 8 || self.mentions.len() >= MAX_MENTIONS {
            return false;
        }
        self.mention_checks += 1;
        // Hosts first: a long message's words must not crowd out the system it names.
        names::hosts(message, MAX_MENTIONS, &mut self.mentions);
        names::mentions(message, MAX_MENTIONS, &mut self.mentions);
        true
    }
}

#[cfg(test)]
mod tests;
