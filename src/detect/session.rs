//! The session detector: sessions (records grouped by a session key while the pipeline
//! reads them, [`crate::logs::session`]) scored by a next-event model fitted on normal
//! sessions only, in the style of DeepLog with counts instead of a network: an event is a
//! surprise when its history (the `order` events before it, backing off to shorter
//! histories that were seen often enough) was never followed by it in the normal data. A
//! session's score is its number of surprises.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Anomaly, Detector};
use crate::logs::miner::Miner;
use crate::logs::session::{Event, SessionCollector, SessionEvents};
use crate::logs::LogsError;

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
/// Longest history a saved model may use.
pub const MAX_ORDER: usize = 16;
/// Times a history must have been seen to be trusted.
pub const MIN_SUPPORT: u32 = 3;

impl NextEventModel {
    /// Saves the model (JSON) to `path`, replacing the file whole.
    pub fn save(&self, path: &Path) -> Result<(), LogsError> {
        let json = serde_json::to_vec(self).map_err(|e| LogsError::State {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        crate::logs::write_state(path, &json)
    }

    /// Loads a model written by [`NextEventModel::save`].
    pub fn load(path: &Path) -> Result<Self, LogsError> {
        let bytes = std::fs::read(path).map_err(|e| LogsError::io(path, e))?;
        Self::from_json(&bytes).map_err(|reason| LogsError::State {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// A model from the bytes of a saved one, checked: a history longer than
    /// [`MAX_ORDER`] or a support of 0 is refused with what is wrong.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let m: Self =
            serde_json::from_slice(bytes).map_err(|e| format!("not a session model: {e}"))?;
        if m.order == 0 || m.order > MAX_ORDER {
            return Err(format!(
                "not a session model: order {} is not within 1..={MAX_ORDER}",
                m.order
            ));
        }
        if m.min_support == 0 {
            return Err("not a session model: min_support is 0".into());
        }
        if let Some(h) = m.next.keys().find(|h| h.len() > m.order + 1) {
            return Err(format!(
                "not a session model: a history of {} events is longer than order {}",
                h.len(),
                m.order
            ));
        }
        Ok(m)
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

/// Scores sessions against a model fitted on normal ones. Surprises are grouped by the
/// event where each session first went astray (the last event before an unusual end),
/// one [`Anomaly`] per such event with the number of sessions and a few
/// of their keys. `finished` judges the ends too (only for complete sessions: a log
/// that stops mid-session would make every open session look cut short). Returns the
/// anomalies and the keys of the sessions flagged.
pub fn detect(
    model: &NextEventModel,
    events: &SessionEvents,
    finished: bool,
) -> (Vec<Anomaly>, Vec<String>) {
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
    let mut out: Vec<Anomaly> = by_event
        .into_iter()
        .filter_map(|(ev, (n, keys, ended))| {
            let (component, level, tid) = events.meaning.get(&ev)?;
            let what = if ended {
                "ended after this event, which no normal session did"
            } else {
                "reached this event after a history no normal session had"
            };
            Some(Anomaly {
                detector: Detector::Session,
                score: n as f64,
                component: component.clone(),
                template_id: Some(tid.clone()),
                level: Some(*level),
                window_start: None,
                summary: format!("{n} session(s) {what} (e.g. {})", keys.join(", ")),
            })
        })
        .collect();
    // Ties in a stable order, so the same logs give the same report.
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| (&a.component, &a.template_id).cmp(&(&b.component, &b.template_id)))
            .then_with(|| a.level.cmp(&b.level))
    });
    (out, flagged)
}

/// What the session detector saw in one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SessionSummary {
    /// The session key pattern.
    pub key: String,
    /// Sessions followed.
    pub sessions: usize,
    /// Sessions past the limit, counted but not followed.
    pub dropped: usize,
    /// Whether they were scored (a saved session model was there).
    pub scored: bool,
    /// Sessions flagged.
    pub flagged: usize,
    /// Sessions added to the saved model (those not flagged), when one is kept.
    pub fitted: usize,
}

impl SessionSummary {
    /// One line for the reports.
    pub fn line(&self) -> String {
        let mut out = format!(
            "Sessions keyed by `{}`: {} followed",
            self.key, self.sessions
        );
        if self.dropped > 0 {
            out.push_str(&format!(" ({} more past the limit)", self.dropped));
        }
        if self.scored {
            out.push_str(&format!(
                ", {} flagged against the saved session model",
                self.flagged
            ));
        } else {
            out.push_str(", not scored (no saved session model yet)");
        }
        if self.fitted > 0 {
            out.push_str(&format!("; {} added to the model", self.fitted));
        }
        out.push('.');
        out
    }
}

/// Scores a run's sessions against the saved session model at `state` (when there is
/// one), then adds the unflagged sessions to it and saves it. Ends of sessions are not
/// judged: a log window cuts sessions off at its edges.
pub fn score(
    collector: SessionCollector,
    miner: &Miner,
    key: &str,
    state: Option<&Path>,
) -> Result<(Vec<Anomaly>, SessionSummary), LogsError> {
    let dropped = collector.dropped_sessions;
    let events = collector.finish(&|c| miner.cluster(c).template_id());
    let saved = match state {
        Some(p) if p.exists() => Some(NextEventModel::load(p)?),
        _ => None,
    };
    let (found, flagged) = match &saved {
        Some(m) => detect(m, &events, false),
        None => (Vec::new(), Vec::new()),
    };
    let mut summary = SessionSummary {
        key: key.to_string(),
        sessions: events.sessions.len(),
        dropped,
        scored: saved.is_some(),
        flagged: flagged.len(),
        fitted: 0,
    };
    if let Some(p) = state {
        let flagged: HashSet<&String> = flagged.iter().collect();
        let mut model = saved.unwrap_or_else(|| NextEventModel::new(ORDER, MIN_SUPPORT));
        for (key, seq) in &events.sessions {
            if !flagged.contains(key) {
                model.fit(seq);
                summary.fitted += 1;
            }
        }
        model.save(p)?;
    }
    Ok((found, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_model_with_bad_order_or_support_is_refused() {
        let ok = serde_json::to_vec(&NextEventModel::new(ORDER, MIN_SUPPORT)).expect("json");
        assert!(NextEventModel::from_json(&ok).is_ok());
        for bad in [
            r#"{"order":0,"min_support":3,"next":[]}"#,
            r#"{"order":100000000,"min_support":3,"next":[]}"#,
            r#"{"order":3,"min_support":0,"next":[]}"#,
            r#"{"order":1,"min_support":1,"next":[[[1,2,3,4],[[1,1]]]]}"#,
        ] {
            let err = NextEventModel::from_json(bad.as_bytes()).expect_err(bad);
            assert!(err.starts_with("not a session model"), "{err}");
        }
    }

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
}
