//! `loglens bench tokens`: inference speed of the engine on one machine.

use std::ops::ControlFlow;
use std::time::Instant;

use serde::Serialize;

use crate::engine::{Engine, EngineError, Event, GenerateRequest, Input};

/// Aggregate throughput at one concurrency level.
#[derive(Debug, Clone, Serialize)]
pub struct ConcurrencyPoint {
    /// Concurrent requests.
    pub n: usize,
    /// Generated tokens per second over all requests, over the whole wall time
    /// (prefills included).
    pub aggregate_tok_s: f64,
    /// Generated tokens per second over all requests once every one of them is
    /// decoding: tokens after each request's first, over the time from the last first
    /// token to the end (the decode phase alone).
    pub decode_tok_s: f64,
}

/// The result of `bench tokens`.
#[derive(Debug, Clone, Serialize)]
pub struct TokensReport {
    /// Model file.
    pub model: String,
    /// Weight format in memory.
    pub weight_format: String,
    /// What runs the weight matmuls.
    pub matmul: String,
    /// CPU threads of the tensor kernels.
    pub threads: usize,
    /// Prompt tokens.
    pub prompt_tokens: usize,
    /// Generated tokens per request.
    pub gen_tokens: usize,
    /// Prompt processing speed.
    pub prefill_tok_s: f64,
    /// Generation speed of one request.
    pub decode_tok_s: f64,
    /// Time to first token.
    pub ttft_ms: f64,
    /// Inter-token latency, median.
    pub itl_p50_ms: f64,
    /// Inter-token latency, 99th percentile.
    pub itl_p99_ms: f64,
    /// Peak resident set size.
    pub peak_rss_mb: Option<f64>,
    /// Bytes of weights in the file.
    pub file_weight_mb: f64,
    /// Prompt tokens of each request at the concurrency levels.
    pub concurrency_prompt_tokens: usize,
    /// Per concurrency level: n requests prefilled one by one, then decoded in one batch;
    /// tokens generated over the whole wall time (prefills included).
    pub concurrency: Vec<ConcurrencyPoint>,
}

/// A prompt of exactly `n` tokens (ids cycled from a log-like text).
fn prompt(engine: &Engine, n: usize) -> Result<Vec<u32>, EngineError> {
    let text = "2025-11-03T20:41:45Z ERROR Executor: Exception in task 47.0 in stage 4.0 (TID 47) \
                org.apache.hadoop.fs.s3a.AWSS3IOException: PUT 0-byte object on warehouse/features: \
                Storage backend has reached its minimum free drive threshold (Status Code: 507)\n";
    let ids = engine.tokenizer().encode(text)?;
    Ok(ids.iter().copied().cycle().take(n).collect())
}

/// Runs the benchmark.
pub fn run(
    engine: &Engine,
    prompt_tokens: usize,
    gen_tokens: usize,
    levels: &[usize],
    level_prompt_tokens: Option<usize>,
) -> Result<TokensReport, EngineError> {
    let ids = prompt(engine, prompt_tokens)?;
    // Warm-up: allocator and thread pool.
    let mut warm = GenerateRequest::new(Input::Tokens(ids[..ids.len().min(16)].to_vec()), 2);
    warm.sampling.logit_bias = no_stop(engine);
    engine.generate_text(&warm)?;

    // Prefill alone: a request that generates one token.
    let t = Instant::now();
    let mut one = GenerateRequest::new(Input::Tokens(ids.clone()), 1);
    one.sampling.logit_bias = no_stop(engine);
    engine.generate_text(&one)?;
    let prefill_s = t.elapsed().as_secs_f64();

    // Decode: token timestamps of a full request.
    let mut req = GenerateRequest::new(Input::Tokens(ids.clone()), gen_tokens);
    req.sampling.logit_bias = no_stop(engine);
    let start = Instant::now();
    let mut stamps = Vec::with_capacity(gen_tokens);
    engine.generate(&req, &mut |e| {
        if let Event::Text { .. } = e {
            stamps.push(start.elapsed().as_secs_f64());
        }
        ControlFlow::Continue(())
    })?;
    let mut gaps: Vec<f64> = stamps.windows(2).map(|w| (w[1] - w[0]) * 1e3).collect();
    gaps.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        gaps.get(((gaps.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    let decode_s = stamps.last().copied().unwrap_or(0.0) - stamps.first().copied().unwrap_or(0.0);
    let decode_tok_s = if decode_s > 0.0 {
        (stamps.len() - 1) as f64 / decode_s
    } else {
        0.0
    };

    // The concurrency levels may use prompts of another length.
    let level_ids = match level_prompt_tokens {
        Some(n) if n != ids.len() => prompt(engine, n)?,
        _ => ids.clone(),
    };
    let mut level_req = GenerateRequest::new(Input::Tokens(level_ids.clone()), gen_tokens);
    level_req.sampling.logit_bias = no_stop(engine);
    let mut concurrency = Vec::new();
    for &n in levels {
        let n = n.max(1);
        let t = Instant::now();
        // Per request: when each of its tokens came.
        let mut seen: Vec<Vec<f64>> = vec![Vec::with_capacity(gen_tokens); n];
        let usages = {
            let mut sinks: Vec<_> = seen
                .iter_mut()
                .map(|s| {
                    move |e: Event| {
                        if let Event::Text { .. } = e {
                            s.push(t.elapsed().as_secs_f64());
                        }
                        ControlFlow::Continue(())
                    }
                })
                .collect();
            let batch = sinks
                .iter_mut()
                .map(|s| (&level_req, s as &mut dyn FnMut(Event) -> ControlFlow<()>))
                .collect();
            engine.generate_many(batch)?
        };
        let total = t.elapsed().as_secs_f64();
        let tokens: usize = usages.iter().map(|u| u.completion_tokens).sum();
        // The decode phase starts when the last request has its first token.
        let all_decoding = seen
            .iter()
            .filter_map(|s| s.first().copied())
            .fold(0.0, f64::max);
        let after = seen.iter().flatten().filter(|&&x| x > all_decoding).count();
        concurrency.push(ConcurrencyPoint {
            n,
            aggregate_tok_s: tokens as f64 / total,
            decode_tok_s: if total > all_decoding {
                after as f64 / (total - all_decoding)
            } else {
                0.0
            },
        });
    }
    let info = engine.info();
    Ok(TokensReport {
        model: engine.path().display().to_string(),
        weight_format: format!("{:?}", info.weight_format),
        matmul: info.matmul.clone(),
        threads: rayon::current_num_threads(),
        prompt_tokens: ids.len(),
        gen_tokens,
        prefill_tok_s: ids.len() as f64 / prefill_s,
        decode_tok_s,
        ttft_ms: stamps.first().copied().unwrap_or(0.0) * 1e3,
        itl_p50_ms: pct(0.5),
        itl_p99_ms: pct(0.99),
        peak_rss_mb: super::peak_rss_mb(),
        file_weight_mb: info.file_weight_bytes as f64 / (1024.0 * 1024.0),
        concurrency_prompt_tokens: level_ids.len(),
        concurrency,
    })
}

/// Logit bias that keeps end-of-turn tokens from ending a timed run early.
fn no_stop(engine: &Engine) -> Vec<(u32, f32)> {
    engine
        .tokenizer()
        .stop_ids
        .iter()
        .map(|&t| (t, -1e9))
        .collect()
}
