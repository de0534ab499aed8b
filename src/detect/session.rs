//! Sessions: records grouped by a session key (an HDFS block id, a request or trace id)
//! into event sequences, scored by a next-event model fitted on normal sessions only, in
//! the style of DeepLog with counts instead of a network: an event is a surprise when its
//! history (the `order` events before it, backing off to shorter histories that were seen
//! often enough) was never followed by it in the normal data. A session's score is its
//! number of surprises.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Events of a session, as template ids.
pub type Event = u32;

/// The next-event model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NextEventModel {
    order: usize,
    min_support: u32,
    /// History (oldest first) -> (next event -> count).
    #[serde(with = "pairs")]
    next: HashMap<Vec<Event>, HashMap<Event, u32>>,
}

mod pairs {
    use std::collections::HashMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    type Table = HashMap<Vec<u32>, HashMap<u32, u32>>;
    /// A history and its successors with counts.
    type Row = (Vec<u32>, Vec<(u32, u32)>);

    pub(super) fn serialize<S: Serializer>(t: &Table, s: S) -> Result<S::Ok, S::Error> {
        let mut v: Vec<Row> = t
            .iter()
            .map(|(k, m)| {
                let mut m: Vec<(u32, u32)> = m.iter().map(|(a, b)| (*a, *b)).collect();
                m.sort_unstable();
                (k.clone(), m)
            })
            .collect();
        v.sort();
        v.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Table, D::Error> {
        let v: Vec<Row> = Vec::deserialize(d)?;
        Ok(v.into_iter()
            .map(|(k, m)| (k, m.into_iter().collect()))
            .collect())
    }
}

/// History length the session detector uses.
pub const ORDER: usize = 3;
/// Times a history must have been seen to be trusted.
pub const MIN_SUPPORT: u32 = 3;

impl NextEventModel {
    /// Saves the model (JSON) to `path`, replacing the file whole.
    pub fn save(&self, path: &std::path::Path) -> Result<(), crate::logs::LogsError> {
        let json = serde_json::to_vec(self).map_err(|e| crate::logs::LogsError::State {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        crate::logs::write_state(path, &json)
    }

    /// Loads a model written by [`NextEventModel::save`].
    pub fn load(path: &std::path::Path) -> Result<Self, crate::logs::LogsError> {
        let bytes = std::fs::read(path).map_err(|e| crate::logs::LogsError::io(path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| crate::logs::LogsError::State {
            path: path.to_path_buf(),
            reason: format!("not a session model: {e}"),
        })
    }

    /// An empty model looking `order` events back; a history counts once it was seen
    /// `min_support` times.
    pub fn new(order: usize, min_support: u32) -> Self {
        Self {
            order: order.max(1),
            min_support: min_support.max(1),
            next: HashMap::new(),
        }
    }

    /// Learns from one normal, finished session. Its start and its end are events too,
    /// so a session that opens unusually or stops early is a surprise.
    pub fn fit(&mut self, seq: &[Event]) {
        let seq = ended(seq);
        for i in 0..seq.len() {
            for k in 0..=self.order.min(i) {
                let ctx = history(&seq, i, k);
                *self.next.entry(ctx).or_default().entry(seq[i]).or_default() += 1;
            }
        }
    }

    /// Positions of the surprising events of `seq`; with `finished`, the end of the
    /// session is judged too (a surprise at position `seq.len()`).
    pub fn surprises(&self, seq: &[Event], finished: bool) -> Vec<usize> {
        let owned;
        let seq = if finished {
            owned = ended(seq);
            &owned[..]
        } else {
            seq
        };
        let mut out = Vec::new();
        for i in 0..seq.len() {
            for k in (0..=self.order.min(i)).rev() {
                let Some(next) = self.next.get(&history(seq, i, k)) else {
                    continue;
                };
                let support: u32 = next.values().sum();
                if support < self.min_support && k > 0 {
                    continue;
                }
                if !next.contains_key(&seq[i]) {
                    out.push(i);
                }
                break;
            }
        }
        out
    }
}

/// Marks the end of a session.
const END: Event = u32::MAX - 1;

fn ended(seq: &[Event]) -> Vec<Event> {
    let mut v = seq.to_vec();
    v.push(END);
    v
}

/// The `k` events before position `i`, with a start marker when the history reaches the
/// beginning of the session.
fn history(seq: &[Event], i: usize, k: usize) -> Vec<Event> {
    const START: Event = u32::MAX;
    let mut h = Vec::with_capacity(k + 1);
    if k == i {
        h.push(START);
    }
    h.extend_from_slice(&seq[i - k..i]);
    h
}

/// Most events kept per session (a session longer than this is judged on its start).
pub const MAX_SESSION_EVENTS: usize = 4096;
/// Most sessions followed in one run (more are counted, not kept).
pub const MAX_SESSIONS: usize = 1_000_000;

/// An event as collected: (component index, level, template cluster).
type RawEvent = (
    u32,
    crate::logs::level::Level,
    crate::logs::miner::ClusterId,
);

/// Collects each session's events in arrival order while the pipeline reads records: the
/// session is what `key` matches in a record's text (its first capture group if it has
/// one), the event is the record's (component, level, template).
#[derive(Debug)]
pub struct SessionCollector {
    key: regex::Regex,
    index: HashMap<String, usize>,
    sessions: Vec<(String, Vec<RawEvent>)>,
    components: Vec<String>,
    component_ids: HashMap<String, u32>,
    /// Sessions not kept because of [`MAX_SESSIONS`].
    pub dropped_sessions: usize,
}

/// A session's events resolved to stable ids, and what each id stands for.
#[derive(Debug, Default)]
pub struct SessionEvents {
    /// (session key, events).
    pub sessions: Vec<(String, Vec<Event>)>,
    /// Event id -> (component, level, template id).
    pub meaning: HashMap<Event, (String, crate::logs::level::Level, String)>,
}

impl SessionCollector {
    /// Follows sessions named by what `key` matches.
    pub fn new(key: regex::Regex) -> Self {
        Self {
            key,
            index: HashMap::new(),
            sessions: Vec::new(),
            components: Vec::new(),
            component_ids: HashMap::new(),
            dropped_sessions: 0,
        }
    }

    /// Adds a record (every session key it holds gets the event).
    pub fn add(
        &mut self,
        text: &str,
        component: &str,
        level: crate::logs::level::Level,
        cluster: crate::logs::miner::ClusterId,
    ) {
        let comp = match self.component_ids.get(component) {
            Some(&c) => c,
            None => {
                let c = self.components.len() as u32;
                self.components.push(component.to_string());
                self.component_ids.insert(component.to_string(), c);
                c
            }
        };
        // A key written twice in one record is one event.
        let mut seen_here: Vec<&str> = Vec::new();
        for caps in self.key.captures_iter(text) {
            let Some(m) = caps.get(1).or_else(|| caps.get(0)) else {
                continue;
            };
            let k = m.as_str();
            if k.is_empty() || seen_here.contains(&k) {
                continue;
            }
            seen_here.push(k);
            let i = match self.index.get(k) {
                Some(&i) => i,
                None if self.sessions.len() >= MAX_SESSIONS => {
                    self.dropped_sessions += 1;
                    continue;
                }
                None => {
                    self.index.insert(k.to_string(), self.sessions.len());
                    self.sessions.push((k.to_string(), Vec::new()));
                    self.sessions.len() - 1
                }
            };
            let events = &mut self.sessions[i].1;
            if events.len() < MAX_SESSION_EVENTS {
                events.push((comp, level, cluster));
            }
        }
    }

    /// Sessions seen.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// True when no record had a session key.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Resolves the events to ids that stay the same across runs: a hash of (component,
    /// level, final template id).
    pub fn finish(
        self,
        template_id: &dyn Fn(crate::logs::miner::ClusterId) -> String,
    ) -> SessionEvents {
        let mut out = SessionEvents::default();
        let mut ids: HashMap<(u32, crate::logs::level::Level, u32), Event> = HashMap::new();
        for (key, events) in self.sessions {
            let seq = events
                .into_iter()
                .map(|(comp, level, cluster)| {
                    *ids.entry((comp, level, cluster.0)).or_insert_with(|| {
                        let component = &self.components[comp as usize];
                        let tid = template_id(cluster);
                        let h = crate::logs::miner::template_id(&format!(
                            "{component}\x1f{level}\x1f{tid}"
                        ));
                        // Below the start and end markers.
                        let id = u32::from_str_radix(&h[..8], 16).unwrap_or(0) % (u32::MAX - 2);
                        out.meaning.insert(id, (component.clone(), level, tid));
                        id
                    })
                })
                .collect();
            out.sessions.push((key, seq));
        }
        out
    }
}

/// Session keys by name, for `--session-key`: HDFS block ids, trace ids, request ids.
pub fn preset_key(name: &str) -> Option<&'static str> {
    match name {
        "hdfs" | "block" => Some(r"(blk_-?\d+)"),
        "trace" => Some(r#"(?i)trace[_-]?id["']?\s*[=:]\s*["']?([0-9a-f-]{8,})"#),
        "request" => Some(r#"(?i)req(?:uest)?[_-]?id["']?\s*[=:]\s*["']?([\w-]{6,})"#),
        _ => None,
    }
}

/// Scores sessions against a model fitted on normal ones. Surprises are grouped by the
/// event where each session first went astray (the last event before an unusual end),
/// one [`Anomaly`](super::Anomaly) per such event with the number of sessions and a few
/// of their keys. `finished` judges the ends too (only for complete sessions: a log
/// that stops mid-session would make every open session look cut short). Returns the
/// anomalies and the keys of the sessions flagged.
pub fn detect(
    model: &NextEventModel,
    events: &SessionEvents,
    finished: bool,
) -> (Vec<super::Anomaly>, Vec<String>) {
    let mut by_event: HashMap<Event, (usize, Vec<String>, bool)> = HashMap::new();
    let mut flagged = Vec::new();
    for (key, seq) in &events.sessions {
        let Some(&first) = model.surprises(seq, finished).first() else {
            continue;
        };
        flagged.push(key.clone());
        let (at, ended) = if first >= seq.len() {
            (seq.len().saturating_sub(1), true)
        } else {
            (first, false)
        };
        let Some(&ev) = seq.get(at) else { continue };
        let e = by_event.entry(ev).or_insert((0, Vec::new(), ended));
        e.0 += 1;
        if e.1.len() < 3 {
            e.1.push(key.clone());
        }
    }
    let mut out: Vec<super::Anomaly> = by_event
        .into_iter()
        .filter_map(|(ev, (n, keys, ended))| {
            let (component, level, tid) = events.meaning.get(&ev)?;
            let what = if ended {
                "ended after this event, which no normal session did"
            } else {
                "reached this event after a history no normal session had"
            };
            Some(super::Anomaly {
                detector: "session",
                score: n as f64,
                component: component.clone(),
                template_id: Some(tid.clone()),
                level: Some(*level),
                window_start: None,
                summary: format!("{n} session(s) {what} (e.g. {})", keys.join(", ")),
            })
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    (out, flagged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surprises_are_unseen_successions() {
        let mut m = NextEventModel::new(2, 1);
        for _ in 0..3 {
            m.fit(&[1, 2, 3, 4]);
            m.fit(&[1, 2, 2, 3, 4]);
        }
        assert!(m.surprises(&[1, 2, 3, 4], true).is_empty());
        assert!(m.surprises(&[1, 2, 2, 3, 4], true).is_empty());
        // 4 after 1 2 was never seen; 9 was never seen at all.
        assert_eq!(m.surprises(&[1, 2, 4], false), vec![2]);
        assert_eq!(m.surprises(&[1, 9], false), vec![1]);
        // Starting with 3 is new; stopping after 1 2 is new once the session is over.
        assert_eq!(m.surprises(&[3, 4], false), vec![0]);
        assert!(m.surprises(&[1, 2], false).is_empty());
        assert_eq!(m.surprises(&[1, 2], true), vec![2]);
        let json = serde_json::to_string(&m).expect("serializes");
        let back: NextEventModel = serde_json::from_str(&json).expect("loads");
        assert_eq!(back.surprises(&[1, 2, 4], false), vec![2]);
    }

    #[test]
    fn collector_keys_records_by_capture_group_and_keeps_order() {
        use crate::logs::level::Level;
        use crate::logs::miner::ClusterId;
        let key = regex::Regex::new(r"req=(\w+)").expect("regex");
        let mut c = SessionCollector::new(key);
        c.add("start req=a", "api", Level::Info, ClusterId(1));
        c.add("start req=b", "api", Level::Info, ClusterId(1));
        c.add(
            "forward req=a req=b req=a",
            "proxy",
            Level::Info,
            ClusterId(2),
        );
        c.add("no key here", "api", Level::Info, ClusterId(3));
        c.add("done req=a", "api", Level::Warn, ClusterId(1));
        assert_eq!(c.len(), 2);
        let ev = c.finish(&|id| format!("t{}", id.0));
        let a = &ev.sessions[0];
        assert_eq!(a.0, "a");
        assert_eq!(
            a.1.len(),
            3,
            "one event per record, even with the key twice"
        );
        assert_eq!(ev.sessions[1].1.len(), 2);
        // Same template at another level is another event.
        assert_ne!(a.1[0], a.1[2]);
        assert_eq!(a.1[0], ev.sessions[1].1[0]);
        assert_eq!(ev.meaning[&a.1[1]].0, "proxy");
        assert!(preset_key("hdfs").is_some() && preset_key("nope").is_none());
        let trace = regex::Regex::new(preset_key("trace").expect("preset")).expect("regex");
        let caps = trace
            .captures("x trace_id=4bf92f3577b34da6a3ce929d0e0e4736 y")
            .expect("match");
        assert_eq!(&caps[1], "4bf92f3577b34da6a3ce929d0e0e4736");
    }
}
