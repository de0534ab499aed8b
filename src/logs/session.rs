//! Sessions: records grouped by a session key (an HDFS block id, a request or trace id)
//! into event sequences while the pipeline reads them. An event is a record's
//! (component, level, template); its id stays the same across runs, so a session model
//! saved by one run (`detect::session`) scores the next.

use std::collections::HashMap;

use super::level::Level;
use super::miner::ClusterId;

/// Events of a session, as ids of (component, level, template).
pub type Event = u32;

/// Most events kept per session (a session longer than this is judged on its start).
pub const MAX_SESSION_EVENTS: usize = 4096;
/// Most sessions followed in one run (more are counted, not kept).
pub const MAX_SESSIONS: usize = 1_000_000;

/// An event as collected: (component index, level, template cluster).
type RawEvent = (u32, Level, ClusterId);

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
    pub meaning: HashMap<Event, (String, Level, String)>,
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
    pub fn add(&mut self, text: &str, component: &str, level: Level, cluster: ClusterId) {
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
    pub fn finish(self, template_id: &dyn Fn(ClusterId) -> String) -> SessionEvents {
        let mut out = SessionEvents::default();
        let mut ids: HashMap<(u32, Level, u32), Event> = HashMap::new();
        for (key, events) in self.sessions {
            let seq = events
                .into_iter()
                .map(|(comp, level, cluster)| {
                    *ids.entry((comp, level, cluster.0)).or_insert_with(|| {
                        let component = &self.components[comp as usize];
                        let tid = template_id(cluster);
                        let h =
                            super::miner::template_id(&format!("{component}\x1f{level}\x1f{tid}"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collector_keys_records_by_capture_group_and_keeps_order() {
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
