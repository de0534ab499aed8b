//! The collector's end of reading: spans joined to parents that arrived after them,
//! other names of the same node merged, merged template clusters resolved, and trace
//! files read into it.

use rustc_hash::FxHashMap;

use super::{Collector, NodeId, SpanRecord, NONE};

impl Collector {
    /// Joins the spans that arrived before their parents; called once at the end.
    pub(crate) fn join_orphans(&mut self) {
        let orphans = std::mem::take(&mut self.orphans);
        for o in orphans {
            let found = self
                .index
                .get(&o.parent)
                .or_else(|| self.old_index.get(&o.parent))
                .copied();
            match found {
                Some(meta) => self.link(meta, o.node, o.minute, o.error, o.latency_us),
                None => self.stats.unjoined_spans += 1,
            }
        }
        self.index = FxHashMap::default();
        self.old_index = FxHashMap::default();
    }

    /// Merges templates whose keys the miner merged: `canonical` maps a key to the key
    /// that absorbed it.
    pub fn remap_templates(&mut self, canonical: &dyn Fn(u64) -> u64) {
        let old = std::mem::take(&mut self.templates);
        for ((node, key), t) in old {
            let key = if key >> 63 == 1 { key } else { canonical(key) };
            match self.templates.entry((node, key)) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(t);
                }
                std::collections::hash_map::Entry::Occupied(mut o) => o.get_mut().absorb(t),
            }
        }
    }

    /// Folds callee names that are other names of a traced service (an address whose
    /// calls reach that service's spans) into it; called once at the end.
    pub(crate) fn merge_aliases(&mut self) {
        let mut votes: FxHashMap<NodeId, (u32, NodeId, u32)> = FxHashMap::default();
        let mut pairs: Vec<_> = self.aliases.iter().map(|(&k, &v)| (k, v)).collect();
        pairs.sort_unstable();
        for ((peer, child), n) in pairs {
            let e = votes.entry(peer).or_insert((0, NONE, 0));
            e.0 += n;
            if n > e.2 {
                e.1 = child;
                e.2 = n;
            }
        }
        let mut merges: Vec<(NodeId, NodeId)> = votes
            .into_iter()
            .filter(|&(p, (total, x, best))| {
                x != NONE
                    && best * 2 >= total
                    && !self.nodes[p as usize].observed()
                    && !self.nodes[p as usize].overflow
                    && !self.nodes[x as usize].overflow
            })
            .map(|(p, (_, x, _))| (p, x))
            .collect();
        merges.sort_unstable();
        for (p, x) in merges {
            if self.nodes[x as usize].merged_into.is_some() {
                continue;
            }
            let minutes = std::mem::take(&mut self.nodes[p as usize].minutes);
            let kind = self.nodes[p as usize].peer_kind;
            self.nodes[p as usize].merged_into = Some(x);
            let target = &mut self.nodes[x as usize];
            target.peer_kind = target.peer_kind.or(kind);
            for (m, b) in minutes {
                let t = target.minutes.entry(m).or_default();
                t.in_calls += b.in_calls;
                t.in_errors += b.in_errors;
                t.in_latency_us += b.in_latency_us;
            }
            let moved: Vec<(NodeId, NodeId)> =
                self.edges.keys().filter(|k| k.1 == p).copied().collect();
            for k in moved {
                if let Some(e) = self.edges.remove(&k) {
                    if k.0 == x {
                        continue;
                    }
                    let t = self.edges.entry((k.0, x)).or_default();
                    t.calls += e.calls;
                    t.errors += e.errors;
                    t.latency_us += e.latency_us;
                    for (m, v) in e.minutes {
                        let tm = t.minutes.entry(m).or_default();
                        tm.0 += v.0;
                        tm.1 += v.1;
                        tm.2 += v.2;
                    }
                }
            }
            for e in &mut self.error_spans {
                if e.peer == p {
                    e.peer = x;
                }
            }
        }
    }

    /// Reads one trace file (OTLP/JSON or protobuf, gzip allowed) into the collector.
    pub fn read_traces(
        &mut self,
        path: &std::path::Path,
    ) -> Result<crate::rca::otlp::DecodeStats, crate::rca::RcaError> {
        let file = std::fs::File::open(path).map_err(|e| crate::rca::RcaError::io(path, e))?;
        let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
        let gz = {
            use std::io::BufRead;
            let head = reader
                .fill_buf()
                .map_err(|e| crate::rca::RcaError::io(path, e))?;
            head.starts_with(&[0x1f, 0x8b])
        };
        let mut sink = |s: &SpanRecord<'_>| self.add_span(s);
        let result = if gz {
            let dec = flate2::read::MultiGzDecoder::new(reader);
            crate::rca::otlp::decode_any(std::io::BufReader::with_capacity(1 << 16, dec), &mut sink)
        } else {
            crate::rca::otlp::decode_any(reader, &mut sink)
        };
        result.map_err(|e| e.in_file(path))
    }
}
