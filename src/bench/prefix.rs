//! `loglens bench prefix`: what the prompt-prefix cache saves. Two requests that share
//! a long beginning one after the other (time to the second one's first token, against
//! the first's), and a batch of requests that share one beginning, as triage's groups
//! do (tokens prefilled and wall time with the cache off and on). Prompts are token ids
//! cycled from log-like text, each request with a tail of its own.

use std::time::Instant;

use serde::Serialize;

use crate::engine::{Engine, EngineError, GenerateRequest, Input, Usage};

/// What `bench prefix` measured.
#[derive(Debug, Clone, Serialize)]
pub struct PrefixReport {
    /// Model path.
    pub model: String,
    /// Tokens every prompt begins with.
    pub prefix_tokens: usize,
    /// Tokens of each prompt's own tail.
    pub suffix_tokens: usize,
    /// Time to first token of the first request (nothing cached), ms.
    pub cold_ttft_ms: f64,
    /// Time to first token of the second request (same beginning, other tail), ms.
    pub warm_ttft_ms: f64,
    /// cold / warm.
    pub ttft_speedup: f64,
    /// Prompt tokens of the second request taken from the cache.
    pub warm_cached_tokens: usize,
    /// Requests in the batch.
    pub batch_requests: usize,
    /// Prompt tokens of the batch, all requests.
    pub batch_prompt_tokens: usize,
    /// Tokens prefilled with the cache off.
    pub batch_prefilled_off: usize,
    /// Tokens prefilled with the cache on.
    pub batch_prefilled_on: usize,
    /// 1 - on / off.
    pub prefill_reduction: f64,
    /// Wall time of the batch with the cache off, s.
    pub batch_s_off: f64,
    /// Wall time of the batch with the cache on, s.
    pub batch_s_on: f64,
}

/// Prompt `which`: `prefix` shared tokens, then `suffix` of its own.
fn prompt(base: &[u32], prefix: usize, suffix: usize, which: usize) -> Vec<u32> {
    let shared = base.iter().copied().cycle().take(prefix);
    // Each tail starts at another place of the text, so tails differ from their start.
    let own = base
        .iter()
        .copied()
        .cycle()
        .skip(1 + which * 7 % base.len().max(1))
        .take(suffix);
    shared.chain(own).collect()
}

fn request(ids: Vec<u32>, gen: usize, stop_ids: &[u32]) -> GenerateRequest {
    let mut r = GenerateRequest::new(Input::Tokens(ids), gen);
    r.sampling.logit_bias = stop_ids.iter().map(|&t| (t, -1e9)).collect();
    r
}

fn run_batch(e: &Engine, reqs: &[GenerateRequest]) -> Result<(Vec<Usage>, f64), EngineError> {
    let t = Instant::now();
    let mut sinks: Vec<_> = reqs
        .iter()
        .map(|_| |_| std::ops::ControlFlow::Continue(()))
        .collect();
    let batch = reqs
        .iter()
        .zip(sinks.iter_mut())
        .map(|(r, s)| {
            (
                r,
                s as &mut dyn FnMut(crate::engine::Event) -> std::ops::ControlFlow<()>,
            )
        })
        .collect();
    let usages = e.generate_many(batch)?;
    Ok((usages, t.elapsed().as_secs_f64()))
}

/// Runs the benchmark; the engine's prefix cache is emptied before and keeps its bound.
pub fn run(
    e: &Engine,
    prefix: usize,
    suffix: usize,
    batch: usize,
    gen: usize,
) -> Result<PrefixReport, EngineError> {
    let text = "2025-11-03T20:41:45Z ERROR Executor: Exception in task 47.0 in stage 4.0 \
                (TID 47) org.apache.hadoop.fs.s3a.AWSS3IOException: PUT 0-byte object on \
                warehouse/features: Storage backend has reached its minimum free drive \
                threshold (Status Code: 507)\n";
    let base = e.tokenizer().encode(text)?;
    let stops = e.tokenizer().stop_ids.clone();
    let limit = e.prefix_stats().limit_bytes;
    let clear = || {
        e.set_prefix_cache_limit(0);
        e.set_prefix_cache_limit(limit);
    };
    // Warm-up: allocator and thread pool, on a prompt that shares nothing.
    e.generate_text(&request(base[..base.len().min(8)].to_vec(), 2, &stops))?;
    clear();
    let (_, _, cold) = e.generate_text(&request(prompt(&base, prefix, suffix, 0), gen, &stops))?;
    let (_, _, warm) = e.generate_text(&request(prompt(&base, prefix, suffix, 1), gen, &stops))?;

    let reqs: Vec<GenerateRequest> = (0..batch.max(1))
        .map(|i| request(prompt(&base, prefix, suffix, i + 2), gen, &stops))
        .collect();
    e.set_prefix_cache_limit(0);
    let off = run_batch(e, &reqs);
    e.set_prefix_cache_limit(limit);
    let (off, batch_s_off) = off?;
    clear();
    let (on, batch_s_on) = run_batch(e, &reqs)?;
    let prefilled = |u: &[Usage]| -> usize {
        u.iter()
            .map(|u| u.prompt_tokens.saturating_sub(u.cached_tokens))
            .sum()
    };
    let (poff, pon) = (prefilled(&off), prefilled(&on));
    Ok(PrefixReport {
        model: e.path().display().to_string(),
        prefix_tokens: prefix,
        suffix_tokens: suffix,
        cold_ttft_ms: cold.ttft_s * 1e3,
        warm_ttft_ms: warm.ttft_s * 1e3,
        ttft_speedup: cold.ttft_s / warm.ttft_s.max(1e-9),
        warm_cached_tokens: warm.cached_tokens,
        batch_requests: reqs.len(),
        batch_prompt_tokens: off.iter().map(|u| u.prompt_tokens).sum(),
        batch_prefilled_off: poff,
        batch_prefilled_on: pon,
        prefill_reduction: 1.0 - pon as f64 / poff.max(1) as f64,
        batch_s_off,
        batch_s_on,
    })
}
