//! Sequences in flight and one step of the batch they share. Each step runs, in one
//! forward pass, the pending token(s) of every decoding sequence plus, within a token
//! budget, the next prompt chunk of sequences still prefilling, so a long prompt is
//! prefilled in pieces between decode steps instead of stalling them. A sequence starts
//! from the longest prefix of its prompt the prefix cache holds; when another sequence
//! of the batch is prefilling a longer shared beginning, it waits for that one and
//! takes it from the cache instead of computing it alongside. Used by
//! [`Engine::generate_many`] and by the [`super::scheduler::Scheduler`], which admits new
//! sequences between steps.

use std::ops::ControlFlow;
use std::time::Instant;

use super::constrain::GrammarState;
use super::kv::KvCache;
use super::model::Step;
use super::prefix::{shared_len, MIN_REUSE};
use super::sampling::Sampler;
use super::tokenizer::Detokenizer;
use super::{Engine, EngineError, Event, FinishReason, GenerateRequest, TopLogprob, Usage};

/// Where one sequence's events go; `Break` cancels it.
pub type Sink<'a> = Box<dyn FnMut(Event) -> ControlFlow<()> + 'a>;

/// A request checked and tokenized, its grammar compiled, ready to join a batch.
#[derive(Debug)]
pub struct Prepared {
    pub(crate) req: GenerateRequest,
    pub(crate) prompt: Vec<u32>,
    pub(crate) grammar: Option<GrammarState>,
    pub(crate) received: Instant,
}

impl Prepared {
    /// Prompt tokens.
    pub fn prompt_len(&self) -> usize {
        self.prompt.len()
    }
}

/// A sequence in a batch.
pub struct Seq<'a> {
    req: GenerateRequest,
    sink: Sink<'a>,
    prompt: Vec<u32>,
    /// Tokens already in the cache.
    fed: usize,
    /// Whether its prefill may begin (its prefix-cache lookup is done).
    started: bool,
    /// Prompt length other sequences wait for this one to prefill (0: none).
    share_at: usize,
    /// Generated tokens not yet run through the model.
    pending: Vec<u32>,
    cache: KvCache,
    sampler: Sampler,
    detok: Detokenizer,
    generated: Vec<u32>,
    text: String,
    emitted: usize,
    max_stop: usize,
    usage: Usage,
    start: Instant,
    grammar: Option<GrammarState>,
    finish: Option<FinishReason>,
    error: Option<EngineError>,
}

impl std::fmt::Debug for Seq<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seq")
            .field("prompt", &self.prompt.len())
            .field("generated", &self.generated.len())
            .field("finish", &self.finish)
            .finish_non_exhaustive()
    }
}

impl Seq<'_> {
    /// Finished, failed or cancelled.
    pub fn is_done(&self) -> bool {
        self.finish.is_some() || self.error.is_some()
    }

    /// Usage so far.
    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// The error that ended it, if one did.
    pub fn take_error(&mut self) -> Option<EngineError> {
        self.error.take()
    }

    /// Ends the sequence with an error, telling its sink.
    pub fn fail(&mut self, e: EngineError) {
        if self.is_done() {
            return;
        }
        let _ = (self.sink)(Event::Error {
            message: e.to_string(),
            kind: e.kind(),
        });
        self.error = Some(e);
    }

    fn prefilling(&self) -> bool {
        self.fed < self.prompt.len()
    }
}

impl Engine {
    /// Checks and tokenizes a request and compiles its constraint: everything that can be
    /// wrong with a request is found here, before it waits for a batch.
    /// A `max_tokens` of `usize::MAX` means as many as the context leaves.
    pub fn prepare(&self, mut req: GenerateRequest) -> Result<Prepared, EngineError> {
        let received = Instant::now();
        req.sampling.validate()?;
        if req.max_tokens == 0 {
            return Err(EngineError::InvalidRequest(
                "max_tokens must be at least 1".into(),
            ));
        }
        if req.logprobs.is_some_and(|n| n > 20) {
            return Err(EngineError::InvalidRequest(
                "top_logprobs must be between 0 and 20".into(),
            ));
        }
        let prompt = self.prompt_tokens(&req.input)?;
        if prompt.is_empty() {
            return Err(EngineError::InvalidRequest("the prompt is empty".into()));
        }
        let context = self.info().context_length;
        if req.max_tokens == usize::MAX {
            req.max_tokens = context.saturating_sub(prompt.len()).max(1);
        }
        if prompt.len().saturating_add(req.max_tokens) > context {
            return Err(EngineError::ContextOverflow {
                prompt: prompt.len(),
                max_tokens: req.max_tokens,
                context,
            });
        }
        let vocab = self.info().vocab_size as u32;
        if let Some(bad) = prompt.iter().find(|&&t| t >= vocab) {
            return Err(EngineError::InvalidRequest(format!(
                "token id {bad} is outside the vocabulary ({vocab})"
            )));
        }
        if let Some(&(bad, _)) = req.sampling.logit_bias.iter().find(|(t, _)| *t >= vocab) {
            return Err(EngineError::InvalidRequest(format!(
                "logit_bias token id {bad} is outside the vocabulary ({vocab})"
            )));
        }
        let grammar = match &req.constraint {
            Some(c) => Some(self.grammars()?.matcher(c)?),
            None => None,
        };
        Ok(Prepared {
            req,
            prompt,
            grammar,
            received,
        })
    }

    /// Makes a prepared request a sequence streaming to `sink`.
    pub fn admit<'a>(&self, p: Prepared, sink: Sink<'a>) -> Seq<'a> {
        let max_stop = p.req.stop.iter().map(String::len).max().unwrap_or(0);
        Seq {
            sampler: Sampler::new(p.req.sampling.clone()),
            usage: Usage {
                prompt_tokens: p.prompt.len(),
                ..Default::default()
            },
            req: p.req,
            sink,
            prompt: p.prompt,
            fed: 0,
            started: false,
            share_at: 0,
            pending: Vec::new(),
            cache: self.model.new_cache(),
            detok: Detokenizer::default(),
            generated: Vec::new(),
            text: String::new(),
            emitted: 0,
            max_stop,
            start: p.received,
            grammar: p.grammar,
            finish: None,
            error: None,
        }
    }

    /// One forward pass over the batch: every decoding sequence's pending tokens, then
    /// prompt chunks of prefilling sequences while `token_budget` lasts. Sequences that
    /// finish (or fail) are marked done; the caller removes them. An error here is one
    /// of the forward pass and concerns the whole batch.
    pub fn step(&self, seqs: &mut [Seq<'_>], token_budget: usize) -> Result<(), EngineError> {
        for s in seqs.iter_mut() {
            if !s.is_done() && s.req.cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
                self.finish(s, FinishReason::Cancelled);
            }
        }
        self.share_prefixes(seqs);
        // (sequence index, tokens, whether to sample after them)
        let mut plan: Vec<(usize, Vec<u32>, bool)> = Vec::new();
        let mut budget = token_budget.max(1);
        for (i, s) in seqs.iter().enumerate() {
            if !s.is_done() && !s.prefilling() && !s.pending.is_empty() {
                budget = budget.saturating_sub(s.pending.len());
                plan.push((i, s.pending.clone(), true));
            }
        }
        for (i, s) in seqs.iter().enumerate() {
            if budget == 0 {
                break;
            }
            if !s.is_done() && s.started && s.prefilling() {
                let n = budget.min(s.prompt.len() - s.fed);
                budget -= n;
                let end = s.fed + n;
                plan.push((i, s.prompt[s.fed..end].to_vec(), end == s.prompt.len()));
            }
        }
        if plan.is_empty() {
            return Ok(());
        }
        plan.sort_by_key(|p| p.0);
        let logits = {
            let mut next = plan.iter().peekable();
            let mut steps = Vec::with_capacity(plan.len());
            for (i, s) in seqs.iter_mut().enumerate() {
                if let Some(p) = next.next_if(|p| p.0 == i) {
                    steps.push(Step {
                        tokens: &p.1,
                        pos: s.fed,
                        cache: &mut s.cache,
                    });
                }
            }
            self.model.forward_batch(&mut steps)?
        };
        for ((i, tokens, sample), l) in plan.into_iter().zip(logits) {
            let s = &mut seqs[i];
            let prefilled = s.prefilling();
            s.fed += tokens.len();
            // A finished prompt, or the beginning others wait for, goes to the prefix
            // cache (sharing this sequence's storage: it only appends past them).
            if prefilled && (!s.prefilling() || (s.share_at > 0 && s.fed >= s.share_at)) {
                s.share_at = 0;
                let cache = s.cache.clone();
                self.with_prefix(|p| p.insert(&s.prompt[..s.fed], cache));
            }
            if !s.prefilling() {
                s.pending.clear();
            }
            if sample {
                let r = l
                    .to_vec1::<f32>()
                    .map_err(EngineError::from)
                    .and_then(|l| self.accept(s, l));
                if let Err(e) = r {
                    s.fail(e);
                }
            }
        }
        Ok(())
    }

    /// Lets sequences that have not begun prefilling begin: each takes the longest
    /// cached prefix of its prompt, unless a sequence already prefilling shares a longer
    /// beginning with it ([`MIN_REUSE`] tokens more), in which case it waits until that
    /// beginning is cached.
    fn share_prefixes(&self, seqs: &mut [Seq<'_>]) {
        let enabled = self.with_prefix(|p| p.enabled());
        for i in 0..seqs.len() {
            if seqs[i].started || seqs[i].is_done() {
                continue;
            }
            if !enabled {
                seqs[i].started = true;
                continue;
            }
            let prompt = &seqs[i].prompt;
            let most = prompt.len().saturating_sub(1);
            let cached = self.with_prefix(|p| p.reusable(prompt));
            let leader = seqs
                .iter()
                .enumerate()
                .filter(|(j, o)| *j != i && o.started && !o.is_done() && o.prefilling())
                .map(|(j, o)| (j, shared_len(&o.prompt, prompt).min(most)))
                .filter(|&(_, n)| n >= cached + MIN_REUSE)
                .max_by_key(|&(_, n)| n);
            if let Some((j, n)) = leader {
                let o = &mut seqs[j];
                if o.fed < n {
                    o.share_at = o.share_at.max(n);
                    continue;
                }
                // Already past it (this one came late): cache what it has.
                let cache = o.cache.clone();
                self.with_prefix(|p| p.insert(&o.prompt[..o.fed], cache));
            }
            let s = &mut seqs[i];
            match self.with_prefix(|p| p.take(&s.prompt, s.prompt.len())) {
                Ok(Some((n, cache))) => {
                    s.cache = cache;
                    s.fed = n;
                    s.usage.cached_tokens = n;
                }
                Ok(None) => {}
                // Only a lost shortcut: the prompt is prefilled whole.
                Err(e) => tracing::warn!(error = %e, "prefix cache copy failed"),
            }
            s.started = true;
        }
    }

    /// Stores a finished sequence's keys and values (its prompt and the generated
    /// tokens run so far) in the prefix cache: the next turn of a conversation begins
    /// with them.
    fn remember(&self, s: &mut Seq<'_>) {
        let tokens: Vec<u32> = s
            .prompt
            .iter()
            .chain(&s.generated)
            .copied()
            .take(s.fed)
            .collect();
        if tokens.len() == s.fed && s.cache.len() == s.fed {
            let cache = std::mem::replace(&mut s.cache, KvCache::new(0, None));
            self.with_prefix(|p| p.insert(&tokens, cache));
        }
    }

    /// Samples the next token from `logits` (under the grammar, if any), streams what it
    /// completes and queues it (and any tokens the grammar then forces) for the next step.
    fn accept(&self, s: &mut Seq<'_>, logits: Vec<f32>) -> Result<(), EngineError> {
        let keep_raw = s.grammar.is_some() || s.req.logprobs.is_some();
        let raw = if keep_raw { logits.clone() } else { Vec::new() };
        let mut work = logits;
        let mut next = s.sampler.sample(&mut work, &s.generated);
        if let Some(g) = &mut s.grammar {
            let t = Instant::now();
            // A run of digits longer than an f64 can hold carries nothing, and a small
            // model may extend one until the token limit: past it, digits are refused
            // whenever the grammar allows anything else.
            let digits = self.digit_tokens();
            let long_number = trailing_digits(&s.text) >= MAX_DIGIT_RUN;
            let too_long = long_number && digits.get(next as usize).copied().unwrap_or(false);
            if too_long || !g.allows(next)? {
                let mut masked = raw.clone();
                g.mask(&mut masked)?;
                if long_number {
                    let mut no_digits = masked.clone();
                    for (l, &d) in no_digits.iter_mut().zip(digits) {
                        if d {
                            *l = f32::NEG_INFINITY;
                        }
                    }
                    if no_digits.iter().any(|l| l.is_finite()) {
                        masked = no_digits;
                    }
                }
                s.usage.constraint_masks += 1;
                next = s.sampler.sample(&mut masked, &s.generated);
            }
            s.usage.constraint_s += t.elapsed().as_secs_f64();
        }
        if s.generated.is_empty() {
            s.usage.ttft_s = s.start.elapsed().as_secs_f64();
        }
        if self.tok.stop_ids.contains(&next) {
            self.finish(s, FinishReason::Stop);
            return Ok(());
        }
        if let Some(n) = s.req.logprobs {
            let (logprob, top) = logprobs(&raw, next, n);
            if (s.sink)(Event::Token {
                id: next,
                logprob,
                top,
            })
            .is_break()
            {
                self.finish(s, FinishReason::Cancelled);
                return Ok(());
            }
        }
        if let Some(g) = &mut s.grammar {
            let t = Instant::now();
            g.consume(next)?;
            s.usage.constraint_s += t.elapsed().as_secs_f64();
        }
        if let Some(f) = self.push_token(s, next) {
            self.finish(s, f);
            return Ok(());
        }
        let mut queue = vec![next];
        let t = Instant::now();
        let forced = match &mut s.grammar {
            Some(g) if !g.is_stopped() => g.forced()?,
            _ => Vec::new(),
        };
        if s.grammar.is_some() {
            s.usage.constraint_s += t.elapsed().as_secs_f64();
        }
        s.usage.forced_tokens += forced.len();
        for t in forced {
            if s.req.logprobs.is_some() {
                // Forced by the grammar: the only token allowed.
                let _ = (s.sink)(Event::Token {
                    id: t,
                    logprob: 0.0,
                    top: Vec::new(),
                });
            }
            queue.push(t);
            if let Some(f) = self.push_token(s, t) {
                self.finish(s, f);
                return Ok(());
            }
        }
        if s.grammar.as_ref().is_some_and(GrammarState::is_stopped) {
            self.finish(s, FinishReason::Stop);
            return Ok(());
        }
        s.pending = queue;
        Ok(())
    }

    /// Appends a generated token, streams the text it completes (holding back what could
    /// begin a stop string) and says whether the sequence ends here.
    fn push_token(&self, s: &mut Seq<'_>, next: u32) -> Option<FinishReason> {
        s.generated.push(next);
        s.usage.completion_tokens = s.generated.len();
        let delta = match s.detok.push(&self.tok, next) {
            Ok(d) => d,
            Err(e) => {
                s.fail(e);
                return None;
            }
        };
        if let Some(delta) = delta {
            s.text.push_str(&delta);
            // Stop strings may span tokens: search the text not yet emitted plus a
            // margin, and hold back what could still start one.
            if let Some(cut) = find_stop(&s.text, s.emitted, &s.req.stop) {
                if cut > s.emitted {
                    let piece = s.text[s.emitted..cut].to_string();
                    let _ = (s.sink)(Event::Text {
                        text: piece,
                        token: next,
                    });
                }
                // Nothing after the stop string is ever sent.
                s.emitted = s.text.len();
                return Some(FinishReason::Stop);
            }
            let safe = safe_end(&s.text, s.max_stop);
            if safe > s.emitted {
                let piece = s.text[s.emitted..safe].to_string();
                s.emitted = safe;
                if (s.sink)(Event::Text {
                    text: piece,
                    token: next,
                })
                .is_break()
                {
                    return Some(FinishReason::Cancelled);
                }
            }
        }
        if s.is_done() {
            return None;
        }
        if s.generated.len() >= s.req.max_tokens {
            return Some(FinishReason::Length);
        }
        None
    }

    fn finish(&self, s: &mut Seq<'_>, finish: FinishReason) {
        if s.is_done() {
            return;
        }
        // Text held back while it could have begun a stop string.
        if finish != FinishReason::Cancelled && s.emitted < s.text.len() {
            let piece = s.text[s.emitted..].to_string();
            s.emitted = s.text.len();
            let token = *s.generated.last().unwrap_or(&0);
            let _ = (s.sink)(Event::Text { text: piece, token });
        }
        if let Some(g) = &s.grammar {
            for &t in &g.mask_s {
                self.mask_hist.observe(t);
            }
        }
        s.usage.total_s = s.start.elapsed().as_secs_f64();
        let usage = s.usage;
        let _ = (s.sink)(Event::Done { finish, usage });
        s.finish = Some(finish);
        self.remember(s);
    }
}

/// Longest run of digits a constrained output may extend (an f64 has 17 significant
/// digits).
const MAX_DIGIT_RUN: usize = 17;

/// Number of ASCII digits at the end of `text`.
fn trailing_digits(text: &str) -> usize {
    text.bytes().rev().take_while(u8::is_ascii_digit).count()
}

/// Log-probability of `chosen` and the `n` most likely tokens, from raw logits.
fn logprobs(logits: &[f32], chosen: u32, n: usize) -> (f32, Vec<TopLogprob>) {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let lse = max + logits.iter().map(|&l| (l - max).exp()).sum::<f32>().ln();
    let lp = |i: usize| logits.get(i).map_or(f32::NEG_INFINITY, |l| l - lse);
    let mut top = Vec::new();
    if n > 0 {
        let mut idx: Vec<usize> = (0..logits.len()).collect();
        let k = n.min(idx.len());
        idx.select_nth_unstable_by(k.saturating_sub(1), |&a, &b| {
            logits[b].total_cmp(&logits[a])
        });
        idx.truncate(k);
        idx.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
        top = idx
            .into_iter()
            .map(|i| TopLogprob {
                id: i as u32,
                logprob: lp(i),
            })
            .collect();
    }
    (lp(chosen as usize), top)
}

/// Byte offset where the first stop string starts in `text[from..]`, searching from a
/// little before `from` so strings spanning two deltas are found.
fn find_stop(text: &str, from: usize, stops: &[String]) -> Option<usize> {
    stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| {
            let mut start = from.saturating_sub(s.len());
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            text[start..].find(s.as_str()).map(|i| start + i)
        })
        .min()
}

/// End of the text that can be emitted without cutting a possible stop string.
fn safe_end(text: &str, max_stop: usize) -> usize {
    if max_stop == 0 {
        return text.len();
    }
    let mut end = text.len().saturating_sub(max_stop - 1);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_strings_across_deltas() {
        let stops = vec!["END".to_string()];
        assert_eq!(find_stop("abcEN", 3, &stops), None);
        assert_eq!(find_stop("abcEND!", 5, &stops), Some(3));
        assert_eq!(safe_end("abcEN", 3), 3);
        assert_eq!(safe_end("héllo", 2), 5);
        assert_eq!(safe_end("hé", 2), 1);
        assert_eq!(safe_end("abc", 0), 3);
    }

    #[test]
    fn logprobs_are_normalised_and_sorted() {
        let l = [1.0f32, 3.0, 2.0, 0.5];
        let (lp, top) = logprobs(&l, 2, 2);
        let sum: f32 = l.iter().map(|&x| (x - 3.0).exp()).sum();
        assert!((lp - (2.0 - 3.0 - sum.ln())).abs() < 1e-5);
        assert_eq!(top.iter().map(|t| t.id).collect::<Vec<_>>(), vec![1, 2]);
        let total: f32 = (0..4).map(|i| logprobs(&l, i, 0).0.exp()).sum();
        assert!((total - 1.0).abs() < 1e-5);
        assert!(logprobs(&l, 9, 0).0.is_infinite());
    }

    #[test]
    fn digit_runs() {
        assert_eq!(trailing_digits("{\"x\": 0.000123"), 6);
        assert_eq!(trailing_digits("abc"), 0);
        assert_eq!(trailing_digits(""), 0);
    }
}
