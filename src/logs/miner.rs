//! Online template miner in the style of Drain: each message is masked (see
//! [`crate::logs::mask`]), runs of variables collapse into one `<*>`, and the result is
//! matched first against an exact-text cache, then against the clusters that share its
//! token count and first token (a fixed-depth prefix tree), by similarity.
//!
//! A cluster absorbs a message that differs from its template in few positions, and only
//! where both sides are ordinary words (usernames, hostnames): ALL-CAPS states
//! (`RUNNING`, `FOLLOWING`), identifiers with digits (`eth0`) and keys (`user:`) are
//! never generalised, so state-machine messages keep one template per transition.
//!
//! Memory is bounded: at most `max_clusters` clusters and [`MAX_TEMPLATE_BYTES`] of
//! template text (past either, unmatched messages go to one overflow cluster) and an
//! exact-text cache of at most `max_cache` entries and [`MAX_CACHE_BYTES`].
//! Template ids are a hash of the template text, so they survive restarts; the state
//! saves to and loads from a JSON file.

use std::path::Path;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::mask::{mask_into, Masked, WILDCARD};
use super::LogsError;

/// Tuning of the miner. The defaults are one configuration for every log source.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct MinerConfig {
    /// Fraction of positions that must agree for a message to join a cluster.
    pub similarity: f32,
    /// Upper bound on the number of clusters; beyond it messages go to the overflow cluster.
    pub max_clusters: usize,
    /// Upper bound on the exact-text cache (cleared when full).
    pub max_cache: usize,
    /// Distinct words a position must show before it becomes a variable: two values
    /// (`Failed none` / `Failed password`) are usually two messages, many values
    /// (user names) are a variable.
    pub min_distinct: usize,
}

impl Default for MinerConfig {
    fn default() -> Self {
        Self {
            similarity: 0.75,
            max_clusters: 50_000,
            max_cache: 200_000,
            min_distinct: 3,
        }
    }
}

/// Index of a cluster inside one [`Miner`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ClusterId(pub u32);

/// A template: its tokens and how many messages it has absorbed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cluster {
    tokens: Vec<String>,
    size: u64,
    /// Set when this cluster was merged into another one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    merged_into: Option<u32>,
}

impl Cluster {
    /// The template text, tokens joined by one space.
    pub fn template(&self) -> String {
        if self.tokens.is_empty() {
            return WILDCARD.to_string();
        }
        self.tokens.join(" ")
    }

    /// Number of messages matched so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Stable id of the current template text.
    pub fn template_id(&self) -> String {
        template_id(&self.template())
    }
}

/// Stable 64-bit FNV-1a hash of a template's text, as 16 hex digits.
pub fn template_id(template: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in template.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The online miner.
#[derive(Debug)]
pub struct Miner {
    config: MinerConfig,
    clusters: Vec<Cluster>,
    /// (token count, first token) -> clusters; the prefix tree's two levels.
    tree: FxHashMap<(u32, String), Vec<u32>>,
    /// Masked text -> cluster, for messages seen before.
    cache: FxHashMap<String, u32>,
    overflow: Option<u32>,
    overflowed: u64,
    masked: Masked,
    scratch: Vec<(u32, u32)>,
    /// Bytes of masked text held by the cache.
    cache_bytes: usize,
    /// Bytes of template text held by the clusters.
    template_bytes: usize,
}

/// Most bytes of masked text the exact-text cache holds (cleared when full), whatever
/// the length of the messages.
pub const MAX_CACHE_BYTES: usize = 64 << 20;
/// Most bytes of template text the clusters hold; past it, unmatched messages go to the
/// overflow cluster as past `max_clusters`.
pub const MAX_TEMPLATE_BYTES: usize = 128 << 20;

#[derive(Serialize, Deserialize)]
struct SavedState {
    version: u32,
    config: MinerConfig,
    clusters: Vec<Cluster>,
    overflow: Option<u32>,
}

const STATE_VERSION: u32 = 1;

impl Default for Miner {
    fn default() -> Self {
        Self::new(MinerConfig::default())
    }
}

impl Miner {
    /// An empty miner.
    pub fn new(config: MinerConfig) -> Self {
        Self {
            config,
            clusters: Vec::new(),
            tree: FxHashMap::default(),
            cache: FxHashMap::default(),
            overflow: None,
            overflowed: 0,
            masked: Masked::new(),
            scratch: Vec::new(),
            cache_bytes: 0,
            template_bytes: 0,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &MinerConfig {
        &self.config
    }

    /// Number of live clusters (templates), the overflow cluster included.
    pub fn len(&self) -> usize {
        self.clusters
            .iter()
            .filter(|c| c.merged_into.is_none())
            .count()
    }

    /// True when no message was added yet.
    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty()
    }

    /// Messages that went to the overflow cluster because the cluster cap was reached.
    pub fn overflowed(&self) -> u64 {
        self.overflowed
    }

    /// Entries in the exact-text cache.
    pub fn cache_len(&self) -> usize {
        self.cache.len()
    }

    /// The cluster behind an id, following merges: an id handed out earlier stays valid
    /// after its cluster was folded into another.
    pub fn cluster(&self, id: ClusterId) -> &Cluster {
        &self.clusters[self.resolve(id.0) as usize]
    }

    /// The id a cluster is known by now (after merges).
    pub fn canonical(&self, id: ClusterId) -> ClusterId {
        ClusterId(self.resolve(id.0))
    }

    fn resolve(&self, mut c: u32) -> u32 {
        while let Some(next) = self.clusters[c as usize].merged_into {
            c = next;
        }
        c
    }

    /// All live clusters (not merged away) with their ids.
    pub fn clusters(&self) -> impl Iterator<Item = (ClusterId, &Cluster)> {
        self.clusters
            .iter()
            .enumerate()
            .filter(|(_, c)| c.merged_into.is_none())
            .map(|(i, c)| (ClusterId(i as u32), c))
    }

    /// The values extracted from the last message given to [`Miner::add`], which must
    /// be passed again as `message`.
    pub fn last_params<'a>(&'a self, message: &'a str) -> Vec<&'a str> {
        self.masked.params(message).collect()
    }

    /// Masks `message`, finds or creates its cluster and returns it.
    pub fn add(&mut self, message: &str) -> ClusterId {
        mask_into(message, &mut self.masked);
        if let Some(&c) = self.cache.get(self.masked.text()) {
            let c = self.resolve(c);
            self.clusters[c as usize].size += 1;
            return ClusterId(c);
        }
        // Collapse runs of whole-token variables: lists of addresses or ids of any
        // length share one template.
        self.scratch.clear();
        let mut prev_var = false;
        for i in 0..self.masked.len() {
            let var = self.masked.is_whole_var(i);
            if !(var && prev_var) {
                let (s, e) = token_range(&self.masked, i);
                self.scratch.push((s, e));
            }
            prev_var = var;
        }
        let text = self.masked.text();
        let toks: Vec<&str> = self
            .scratch
            .iter()
            .map(|&(s, e)| &text[s as usize..e as usize])
            .collect();
        let key = (toks.len() as u32, first_key(toks.first().copied()));
        let found = self
            .tree
            .get(&key)
            .and_then(|cands| best_match(&self.clusters, cands, &toks, &self.config));
        let id = match found {
            Some((c, siblings)) => {
                for &sib in &siblings {
                    let size = std::mem::take(&mut self.clusters[sib as usize].size);
                    self.clusters[sib as usize].merged_into = Some(c);
                    self.clusters[c as usize].size += size;
                }
                if let Some(list) = self.tree.get_mut(&key) {
                    list.retain(|x| !siblings.contains(x));
                }
                let cluster = &mut self.clusters[c as usize];
                for (slot, tok) in cluster.tokens.iter_mut().zip(&toks) {
                    if !covers(slot, tok) {
                        *slot = generalise(slot, tok);
                    }
                }
                c
            }
            None if self.clusters.len() >= self.config.max_clusters
                || self.template_bytes + text.len() > MAX_TEMPLATE_BYTES =>
            {
                self.overflowed += 1;
                match self.overflow {
                    Some(o) => o,
                    None => {
                        let o = self.clusters.len() as u32;
                        self.clusters.push(Cluster {
                            tokens: Vec::new(),
                            size: 0,
                            merged_into: None,
                        });
                        self.overflow = Some(o);
                        o
                    }
                }
            }
            None => {
                let c = self.clusters.len() as u32;
                self.template_bytes += toks.iter().map(|t| t.len() + 1).sum::<usize>();
                self.clusters.push(Cluster {
                    tokens: toks.iter().map(|t| t.to_string()).collect(),
                    size: 0,
                    merged_into: None,
                });
                self.tree.entry(key).or_default().push(c);
                c
            }
        };
        self.clusters[id as usize].size += 1;
        let text = self.masked.text();
        if self.cache.len() >= self.config.max_cache
            || self.cache_bytes + text.len() > MAX_CACHE_BYTES
        {
            self.cache.clear();
            self.cache_bytes = 0;
        }
        self.cache_bytes += text.len();
        self.cache.insert(text.to_string(), id);
        ClusterId(id)
    }

    /// Writes the miner's state (config and templates) as JSON.
    pub fn save(&self, path: &Path) -> Result<(), LogsError> {
        let json = self.to_json().map_err(|reason| LogsError::State {
            path: path.to_path_buf(),
            reason,
        })?;
        super::write_state(path, &json)
    }

    /// The miner's state (config and templates) as the JSON [`Miner::from_json`] reads.
    pub fn to_json(&self) -> Result<Vec<u8>, String> {
        let state = SavedState {
            version: STATE_VERSION,
            config: self.config,
            clusters: self.clusters.clone(),
            overflow: self.overflow,
        };
        serde_json::to_vec(&state).map_err(|e| e.to_string())
    }

    /// Loads a state written by [`Miner::save`].
    pub fn load(path: &Path) -> Result<Self, LogsError> {
        let bytes = std::fs::read(path).map_err(|e| LogsError::io(path, e))?;
        Self::from_json(&bytes).map_err(|reason| LogsError::State {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// A miner from the bytes of a saved state, checked whole first: a state that
    /// names a cluster it does not hold, merges in a cycle or carries an unusable
    /// configuration is refused with what is wrong, never used.
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let state: SavedState = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if state.version != STATE_VERSION {
            return Err(format!("unsupported state version {}", state.version));
        }
        state.validate()?;
        let mut miner = Self::new(state.config);
        miner.overflow = state.overflow;
        let mut tree: FxHashMap<(u32, String), Vec<u32>> = FxHashMap::default();
        for (i, c) in state.clusters.iter().enumerate() {
            if Some(i as u32) == state.overflow || c.merged_into.is_some() {
                continue;
            }
            let key = (
                c.tokens.len() as u32,
                first_key(c.tokens.first().map(String::as_str)),
            );
            tree.entry(key).or_default().push(i as u32);
        }
        miner.tree = tree;
        miner.template_bytes = state
            .clusters
            .iter()
            .flat_map(|c| &c.tokens)
            .map(|t| t.len() + 1)
            .sum();
        miner.clusters = state.clusters;
        Ok(miner)
    }
}

impl SavedState {
    /// What makes a saved state unusable, if anything: every index it holds must name
    /// a cluster, every merge chain must end, the configuration must be usable.
    fn validate(&self) -> Result<(), String> {
        let c = &self.config;
        if !(c.similarity.is_finite() && (0.0..=1.0).contains(&c.similarity)) {
            return Err(format!("similarity {} is not within 0..=1", c.similarity));
        }
        if c.max_clusters == 0 {
            return Err("max_clusters is 0".into());
        }
        let n = self.clusters.len();
        if u32::try_from(n).is_err() {
            return Err(format!("{n} clusters are more than a miner holds"));
        }
        if let Some(o) = self.overflow {
            match self.clusters.get(o as usize) {
                None => {
                    return Err(format!(
                        "overflow cluster {o} is out of range ({n} clusters)"
                    ))
                }
                Some(cl) if cl.merged_into.is_some() => {
                    return Err(format!("overflow cluster {o} is marked as merged"))
                }
                Some(_) => {}
            }
        }
        for (i, cl) in self.clusters.iter().enumerate() {
            if let Some(m) = cl.merged_into {
                if m as usize >= n {
                    return Err(format!(
                        "cluster {i} is merged into {m}, out of range ({n} clusters)"
                    ));
                }
            }
        }
        // Every merge chain must reach a live cluster: walk each chain at most once.
        // 0 = not walked, 1 = on the current chain, 2 = ends in a live cluster.
        let mut seen = vec![0u8; n];
        let mut chain = Vec::new();
        for start in 0..n {
            let mut at = start;
            while seen[at] == 0 {
                seen[at] = 1;
                chain.push(at);
                match self.clusters[at].merged_into {
                    Some(next) => at = next as usize,
                    None => break,
                }
            }
            if seen[at] == 1 && self.clusters[at].merged_into.is_some() {
                return Err(format!(
                    "cluster {at} is merged into itself through a cycle"
                ));
            }
            for i in chain.drain(..) {
                seen[i] = 2;
            }
        }
        Ok(())
    }
}

fn token_range(m: &Masked, i: usize) -> (u32, u32) {
    let tok = m.token(i);
    let base = m.text().as_ptr() as usize;
    let s = tok.as_ptr() as usize - base;
    (s as u32, (s + tok.len()) as u32)
}

fn first_key(first: Option<&str>) -> String {
    match first {
        Some(t) if !t.contains(WILDCARD) => t.to_string(),
        Some(_) => WILDCARD.to_string(),
        None => String::new(),
    }
}

/// Finds the cluster a message joins. A candidate whose template already covers the
/// message (differences only under `<*>`) wins at once. Otherwise a candidate that
/// differs in a few generalisable positions is taken only when enough clusters differ
/// from the message in those same positions to show `min_distinct` values there; those
/// sibling clusters are returned to be folded into the winner.
fn best_match(
    clusters: &[Cluster],
    cands: &[u32],
    toks: &[&str],
    config: &MinerConfig,
) -> Option<(u32, Vec<u32>)> {
    let n = toks.len();
    let max_diff = ((1.0 - config.similarity) * n as f32 + 1e-4).floor() as usize;
    let mut best: Option<(usize, u32)> = None;
    'cands: for &c in cands {
        let tpl = &clusters[c as usize].tokens;
        let mut diffs = 0;
        for (t, l) in tpl.iter().zip(toks) {
            if covers(t, l) {
                continue;
            }
            if !generalisable(t) || !generalisable(l) {
                continue 'cands;
            }
            diffs += 1;
            if diffs > max_diff {
                continue 'cands;
            }
        }
        if diffs == 0 {
            return Some((c, Vec::new()));
        }
        if best.is_none_or(|(d, _)| diffs < d) {
            best = Some((diffs, c));
        }
    }
    let (_, c) = best?;
    let tpl = &clusters[c as usize].tokens;
    let differs: Vec<bool> = tpl.iter().zip(toks).map(|(t, l)| !covers(t, l)).collect();
    // Clusters that agree with the message outside the differing positions.
    let siblings: Vec<u32> = cands
        .iter()
        .copied()
        .filter(|&s| s != c)
        .filter(|&s| {
            clusters[s as usize]
                .tokens
                .iter()
                .zip(toks)
                .zip(&differs)
                .all(|((t, l), &d)| d || covers(t, l))
        })
        .collect();
    // Distinct values: the message, the candidate, and each sibling.
    (siblings.len() + 2 >= config.min_distinct).then_some((c, siblings))
}

/// Whether template token `t` covers message token `l`: equal, or `l` fits the
/// literal parts around `t`'s `<*>` (`user=<*>` covers `user=bob`).
fn covers(t: &str, l: &str) -> bool {
    if t == l || t == WILDCARD {
        return true;
    }
    let mut parts = t.split(WILDCARD);
    let Some(first) = parts.next() else {
        return false;
    };
    let Some(mut rest) = l.strip_prefix(first) else {
        return false;
    };
    let mut any = false;
    let mut pieces = parts.peekable();
    while let Some(p) = pieces.next() {
        any = true;
        if pieces.peek().is_none() {
            return rest.ends_with(p);
        }
        match rest.find(p) {
            Some(i) if !p.is_empty() => rest = &rest[i + p.len()..],
            Some(_) => {}
            None => return false,
        }
    }
    any && rest.is_empty()
}

/// The generalisation of two differing tokens: their common literal prefix and suffix
/// (cut at punctuation) around one `<*>`, so `user=root` and `user=bob` give `user=<*>`.
fn generalise(a: &str, b: &str) -> String {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let mut pre = ab.iter().zip(bb).take_while(|(x, y)| x == y).count();
    while pre > 0 && !is_cut(ab[pre - 1]) {
        pre -= 1;
    }
    let max_suf = ab.len().min(bb.len()) - pre;
    let mut suf = ab
        .iter()
        .rev()
        .zip(bb.iter().rev())
        .take(max_suf)
        .take_while(|(x, y)| x == y)
        .count();
    while suf > 0 && !is_cut(ab[ab.len() - suf]) {
        suf -= 1;
    }
    let mut out = String::with_capacity(pre + suf + 3);
    out.push_str(&a[..pre]);
    out.push_str(WILDCARD);
    out.push_str(&a[a.len() - suf..]);
    while out.contains("<*><*>") {
        out = out.replace("<*><*>", WILDCARD);
    }
    out
}

fn is_cut(c: u8) -> bool {
    c.is_ascii_punctuation() && c != b'_' && c != b'-' && c != b'.' || c == b'<' || c == b'>'
}

/// Whether a template position holding `tok` may become `<*>`.
fn generalisable(tok: &str) -> bool {
    if tok.contains(WILDCARD) {
        return true;
    }
    let b = tok.as_bytes();
    if b.iter().any(|c| c.is_ascii_digit()) {
        return false; // identifiers like eth0 that the masker kept
    }
    if matches!(b.last(), Some(b':' | b'=')) {
        return false; // keys
    }
    let letters = b.iter().filter(|c| c.is_ascii_alphabetic()).count();
    if letters < 2 {
        return false; // punctuation, axes and flags (`x+`, `-v`)
    }
    let upper = b.iter().filter(|c| c.is_ascii_uppercase()).count();
    // ALL-CAPS words are states and keywords.
    !(upper >= 2 && upper == letters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_generalise_states_do_not() {
        let mut m = Miner::default();
        let a = m.add("Invalid user webmaster from 1.2.3.4");
        let b = m.add("Invalid user test from 5.6.7.8");
        // Two values could be two messages; a third shows a variable.
        assert_ne!(a, b);
        let c = m.add("Invalid user oracle from 5.6.7.9");
        assert_eq!(m.canonical(a), m.canonical(c));
        assert_eq!(m.canonical(b), m.canonical(c));
        assert_eq!(m.cluster(a).template(), "Invalid user <*> from <*>");
        assert_eq!(m.cluster(a).size(), 3);
        assert_eq!(generalise("user=root", "user=bob"), "user=<*>");
        assert!(covers("user=<*>", "user=bob"));
        assert!(covers("<*>:<*>", "a:b"));
        assert!(!covers("user=<*>", "uid=1"));
        assert!(!covers("a", "b"));
        assert_eq!(generalise("chdir(/a/<*>)", "chdir(<*>)"), "chdir(<*>)");
        let c = m.add("task_1 TaskAttempt Transitioned from RUNNING to SUCCEEDED");
        let d = m.add("task_2 TaskAttempt Transitioned from RUNNING to FAILED");
        assert_ne!(c, d);
    }

    #[test]
    fn variable_lists_share_a_template() {
        let mut m = Miner::default();
        let a = m.add("BLOCK* ask 10.0.0.1:50010 to delete blk_1 blk_2");
        let b = m.add("BLOCK* ask 10.0.0.2:50010 to delete blk_3 blk_4 blk_5 blk_6 blk_7");
        assert_eq!(a, b);
    }

    #[test]
    fn miner_state_with_out_of_range_overflow_is_refused_not_a_panic() {
        let mut m = Miner::default();
        m.add("disk full on /dev/sda1");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("miner.json");
        m.save(&path).expect("saves");
        let mut state: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("reads")).expect("json");
        state["overflow"] = serde_json::json!(7);
        std::fs::write(&path, state.to_string()).expect("writes");
        let err = Miner::load(&path).expect_err("out-of-range overflow");
        assert!(
            err.to_string()
                .contains("overflow cluster 7 is out of range"),
            "{err}"
        );
    }

    #[test]
    fn miner_state_with_bad_merges_or_config_is_refused() {
        let cluster = |merged: Option<u32>| serde_json::json!({"tokens": ["a"], "size": 1, "merged_into": merged});
        let state = |clusters: Vec<serde_json::Value>, similarity: f64| {
            serde_json::json!({
                "version": STATE_VERSION,
                "config": {"similarity": similarity, "max_clusters": 10, "max_cache": 10, "min_distinct": 3},
                "clusters": clusters,
                "overflow": null,
            })
            .to_string()
        };
        let cycle = state(vec![cluster(Some(1)), cluster(Some(0))], 0.75);
        let err = Miner::from_json(cycle.as_bytes()).expect_err("cycle");
        assert!(err.contains("cycle"), "{err}");
        let own = state(vec![cluster(Some(0))], 0.75);
        assert!(Miner::from_json(own.as_bytes()).is_err());
        let far = state(vec![cluster(Some(9))], 0.75);
        assert!(Miner::from_json(far.as_bytes())
            .expect_err("out of range")
            .contains("out of range"));
        let nan = state(vec![cluster(None)], 7.0);
        assert!(Miner::from_json(nan.as_bytes()).is_err());
        // A chain that ends in a live cluster is fine, and the miner works on it.
        let chain = state(
            vec![cluster(Some(1)), cluster(Some(2)), cluster(None)],
            0.75,
        );
        let mut m = Miner::from_json(chain.as_bytes()).expect("valid chain");
        assert_eq!(m.canonical(ClusterId(0)), ClusterId(2));
        m.add("a");
        assert!(Miner::from_json(b"{ not json").is_err());
    }

    #[test]
    fn template_ids_are_stable() {
        assert_eq!(template_id("a <*>"), template_id("a <*>"));
        assert_ne!(template_id("a <*>"), template_id("b <*>"));
    }
}
