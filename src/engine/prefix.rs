//! The prompt-prefix cache: keys and values of token sequences the engine has run, kept
//! so a later request that begins with the same tokens (the triage system prompt and
//! instructions, screening then detail on the same evidence, the earlier turns of a
//! chat, a client repeating its system prompt) starts from them instead of prefilling
//! them again.
//!
//! An entry is a token sequence and its cache. Keys and values at a position depend only
//! on the tokens up to it, so any leading part of an entry serves a prompt that shares
//! it: a lookup takes the entry with the longest common prefix and copies that many
//! positions into a fresh cache (the entry stays untouched while the new sequence
//! appends). Entries that are a prefix of a newer one are dropped as redundant. Memory
//! is bounded in bytes; the least recently used entries go first.

use serde::Serialize;

use super::kv::KvCache;

/// Fewest shared tokens worth reusing (a chat template's opening alone is a few).
pub const MIN_REUSE: usize = 16;

/// Default memory bound of the cache.
pub const DEFAULT_LIMIT_BYTES: usize = 512 << 20;

/// Counters and size of a prefix cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PrefixStats {
    /// Prompts looked up.
    pub lookups: u64,
    /// Lookups that reused a cached prefix.
    pub hits: u64,
    /// Prompt tokens taken from the cache instead of prefilled, summed.
    pub reused_tokens: u64,
    /// Entries stored.
    pub inserted: u64,
    /// Entries evicted to stay within the bound.
    pub evicted: u64,
    /// Entries held now.
    pub entries: usize,
    /// Bytes held now.
    pub bytes: usize,
    /// The bound in bytes (0: the cache is off).
    pub limit_bytes: usize,
}

#[derive(Debug)]
struct Entry {
    tokens: Vec<u32>,
    cache: KvCache,
    bytes: usize,
    used: u64,
}

/// Cached keys and values of token prefixes, bounded in bytes.
#[derive(Debug)]
pub struct PrefixCache {
    entries: Vec<Entry>,
    tick: u64,
    stats: PrefixStats,
}

/// Length of the common prefix of two token sequences.
pub fn shared_len(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

impl PrefixCache {
    /// An empty cache holding at most `limit_bytes` (0 turns it off).
    pub fn new(limit_bytes: usize) -> Self {
        Self {
            entries: Vec::new(),
            tick: 0,
            stats: PrefixStats {
                limit_bytes,
                ..PrefixStats::default()
            },
        }
    }

    /// Whether anything is ever stored.
    pub fn enabled(&self) -> bool {
        self.stats.limit_bytes > 0
    }

    /// Changes the bound, evicting what no longer fits.
    pub fn set_limit(&mut self, limit_bytes: usize) {
        self.stats.limit_bytes = limit_bytes;
        self.evict_to(limit_bytes);
    }

    /// Counters and size.
    pub fn stats(&self) -> PrefixStats {
        self.stats
    }

    /// How many leading tokens of `prompt` the cache could give (never all of them: the
    /// last prompt token must run to produce logits); 0 below [`MIN_REUSE`].
    pub fn reusable(&self, prompt: &[u32]) -> usize {
        self.best(prompt).map_or(0, |(_, n)| n)
    }

    fn best(&self, prompt: &[u32]) -> Option<(usize, usize)> {
        let most = prompt.len().saturating_sub(1);
        self.entries
            .iter()
            .enumerate()
            .map(|(i, e)| (i, shared_len(&e.tokens, prompt).min(most)))
            .filter(|&(_, n)| n >= MIN_REUSE)
            .max_by_key(|&(i, n)| (n, self.entries[i].used))
    }

    /// A cache holding the longest cached prefix of `prompt` (room for `capacity`
    /// positions), and its length; `None` when nothing of at least [`MIN_REUSE`] tokens
    /// is cached. Counts the lookup.
    pub fn take(
        &mut self,
        prompt: &[u32],
        capacity: usize,
    ) -> candle_core::Result<Option<(usize, KvCache)>> {
        self.stats.lookups += 1;
        let Some((i, n)) = self.best(prompt) else {
            return Ok(None);
        };
        self.tick += 1;
        let entry = &mut self.entries[i];
        entry.used = self.tick;
        let Some(cache) = entry.cache.prefix(n, capacity)? else {
            return Ok(None);
        };
        self.stats.hits += 1;
        self.stats.reused_tokens += n as u64;
        Ok(Some((n, cache)))
    }

    /// Stores `cache`, which holds exactly the keys and values of `tokens`. Skipped when
    /// the cache is off, the sequence is short, positions were dropped by a sliding
    /// window, an entry already covers it, or it alone exceeds the bound.
    pub fn insert(&mut self, tokens: &[u32], cache: KvCache) {
        let limit = self.stats.limit_bytes;
        if limit == 0
            || tokens.len() < MIN_REUSE
            || cache.len() != tokens.len()
            || cache.held() != cache.len()
        {
            return;
        }
        self.tick += 1;
        if let Some(e) = self
            .entries
            .iter_mut()
            .find(|e| e.tokens.starts_with(tokens))
        {
            e.used = self.tick;
            return;
        }
        let bytes = cache.bytes();
        if bytes > limit {
            return;
        }
        self.entries.retain(|e| !tokens.starts_with(&e.tokens));
        self.recount();
        self.evict_to(limit - bytes);
        self.entries.push(Entry {
            tokens: tokens.to_vec(),
            cache,
            bytes,
            used: self.tick,
        });
        self.stats.inserted += 1;
        self.recount();
    }

    /// Drops least recently used entries until at most `bytes` are held.
    fn evict_to(&mut self, bytes: usize) {
        self.recount();
        while self.stats.bytes > bytes {
            let Some(oldest) = self
                .entries
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.used)
                .map(|(i, _)| i)
            else {
                break;
            };
            self.entries.swap_remove(oldest);
            self.stats.evicted += 1;
            self.recount();
        }
    }

    fn recount(&mut self) {
        self.stats.entries = self.entries.len();
        self.stats.bytes = self.entries.iter().map(|e| e.bytes).sum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device, Tensor};

    /// A one-layer cache of `n` positions whose values encode the position.
    fn filled(n: usize) -> KvCache {
        let mut c = KvCache::new(1, None);
        let k = Tensor::arange(0f32, n as f32, &Device::Cpu)
            .and_then(|t| t.reshape((1, 1, n, 1)))
            .expect("k");
        c.append(0, k.clone(), k).expect("append");
        c.advance(n).expect("advance");
        c
    }

    fn toks(range: std::ops::Range<u32>) -> Vec<u32> {
        range.collect()
    }

    #[test]
    fn the_longest_shared_prefix_is_copied_and_the_last_token_left_to_run() {
        let mut p = PrefixCache::new(1 << 20);
        p.insert(&toks(0..40), filled(40));
        // Shares 30 tokens.
        let mut prompt = toks(0..30);
        prompt.extend([900, 901]);
        let (n, c) = p.take(&prompt, 64).expect("ok").expect("hit");
        assert_eq!(n, 30);
        assert_eq!((c.len(), c.held()), (30, 30));
        // The same prompt again: all but its last token.
        let (n, _) = p.take(&toks(0..40), 64).expect("ok").expect("hit");
        assert_eq!(n, 39);
        // Too little in common.
        let mut other = toks(0..10);
        other.extend(toks(500..530));
        assert!(p.take(&other, 64).expect("ok").is_none());
        let s = p.stats();
        assert_eq!((s.lookups, s.hits, s.reused_tokens), (3, 2, 69));
    }

    #[test]
    fn copied_prefixes_hold_the_entry_values_and_leave_the_entry_alone() {
        let mut p = PrefixCache::new(1 << 20);
        p.insert(&toks(0..20), filled(20));
        let (_, mut c) = p.take(&toks(0..20), 32).expect("ok").expect("hit");
        // Appending to the copy at position 19 must not reach the entry.
        let x = Tensor::full(-1f32, (1, 1, 1, 1), &Device::Cpu).expect("x");
        let (k, _) = c.append(0, x.clone(), x).expect("append");
        let got: Vec<f32> = k.flatten_all().and_then(|t| t.to_vec1()).expect("vec");
        let mut want: Vec<f32> = (0..19).map(|i| i as f32).collect();
        want.push(-1.0);
        assert_eq!(got, want);
        let (_, again) = p.take(&toks(0..20), 32).expect("ok").expect("hit");
        let mut again = again;
        let y = Tensor::zeros((1, 1, 1, 1), DType::F32, &Device::Cpu).expect("y");
        let (k, _) = again.append(0, y.clone(), y).expect("append");
        let got: Vec<f32> = k.flatten_all().and_then(|t| t.to_vec1()).expect("vec");
        assert_eq!(got[..19], want[..19]);
    }

    #[test]
    fn memory_stays_bounded_least_recently_used_first() {
        let one = filled(32).bytes();
        let mut p = PrefixCache::new(2 * one);
        p.insert(&toks(0..32), filled(32));
        p.insert(&toks(100..132), filled(32));
        // Touch the first, then a third entry evicts the second.
        assert!(p.take(&toks(0..32), 32).expect("ok").is_some());
        p.insert(&toks(200..232), filled(32));
        let s = p.stats();
        assert_eq!((s.entries, s.evicted), (2, 1));
        assert!(s.bytes <= s.limit_bytes);
        assert!(p.take(&toks(100..132), 32).expect("ok").is_none());
        assert!(p.take(&toks(0..32), 32).expect("ok").is_some());
        // An extension replaces the entry it extends; a prefix of an entry adds nothing.
        p.insert(&toks(0..40), filled(40));
        p.insert(&toks(0..20), filled(20));
        assert_eq!(p.stats().entries, 2);
        assert_eq!(p.reusable(&toks(0..41)), 40);
        // Off: nothing is kept.
        p.set_limit(0);
        assert_eq!(p.stats().entries, 0);
        p.insert(&toks(0..32), filled(32));
        assert_eq!(p.reusable(&toks(0..33)), 0);
    }

    #[test]
    fn sequences_a_sliding_window_cut_are_not_stored() {
        let mut p = PrefixCache::new(1 << 20);
        let mut c = KvCache::new(1, Some(20));
        let k = Tensor::zeros((1, 1, 30, 1), DType::F32, &Device::Cpu).expect("k");
        c.append(0, k.clone(), k).expect("append");
        c.advance(30).expect("advance");
        p.insert(&toks(0..30), c);
        assert_eq!(p.stats().entries, 0);
    }
}
