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

impl NextEventModel {
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
}
