//! `loglens bench devices`: one model on two devices (a GPU against the CPU), compared.
//! Per prompt: greedy tokens up to the first divergence and whether it came at a
//! near-tie (two correct implementations may flip a choice whose top-two logits are
//! closer than their rounding), the largest logit difference after the prompt, and the
//! same prompts decoded together in one batch on the device against each alone. With a
//! reference file (`models/reference/*.json`), the device's greedy tokens are also
//! checked against the reference's.

use std::ops::ControlFlow;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use crate::engine::{Engine, EngineError, Event, GenerateRequest, Input};

/// Prompts used when no reference file is given.
const PROMPTS: [&str; 3] = [
    "2026-03-14T09:26:53Z ERROR payments-api: upstream connect error 503",
    "Explain this log line: kernel: Out of memory: Killed process 4242 (java)",
    "A disk that is almost full causes",
];

/// A prompt's text, its token ids and the reference's greedy continuation, if any.
type Case = (String, Vec<u32>, Option<Vec<u32>>);

/// What to compare.
#[derive(Debug, Clone)]
pub struct DevicesBench {
    /// Greedy tokens per prompt.
    pub tokens: usize,
    /// Top-two logit gap under which a divergence counts as a near-tie.
    pub tie: f32,
    /// Largest logit difference allowed, relative to the largest logit.
    pub tolerance: f32,
    /// A reference file with `greedy` cases (`prompt`, `prompt_ids`, `greedy_ids`).
    pub reference: Option<Value>,
}

/// One prompt compared.
#[derive(Debug, Clone, Serialize)]
pub struct PromptResult {
    /// The prompt's first characters.
    pub prompt: String,
    /// Prompt tokens.
    pub prompt_tokens: usize,
    /// Leading greedy tokens equal on both devices.
    pub agreed: usize,
    /// Tokens compared.
    pub compared: usize,
    /// At the first divergence, the smaller of the two top-two logit gaps.
    pub divergence_gap: Option<f32>,
    /// No divergence, or one at a near-tie.
    pub ok: bool,
    /// Largest logit difference after the prompt.
    pub max_logit_diff: f32,
    /// The same, relative to the largest logit.
    pub rel_logit_diff: f32,
    /// ‖a − b‖ / ‖b‖ of the logits after the prompt.
    pub rel_l2: f32,
    /// Leading tokens of the device equal to the reference file's (when given).
    pub reference_agreed: Option<usize>,
    /// The device's divergence from the reference came at a near-tie (or none).
    pub reference_ok: Option<bool>,
    /// Leading tokens equal between the batched run on the device and the lone one.
    pub batch_agreed: usize,
    /// The batched run diverged only at a near-tie (or not at all).
    pub batch_ok: bool,
}

/// The comparison.
#[derive(Debug, Clone, Serialize)]
pub struct DevicesReport {
    /// Model file.
    pub model: String,
    /// The device checked, and what it is compared against.
    pub device: String,
    /// The comparison device.
    pub against: String,
    /// Weight format on each.
    pub weight_format: String,
    /// Near-tie threshold used.
    pub tie: f32,
    /// Logit tolerance used (relative).
    pub tolerance: f32,
    /// Per prompt.
    pub prompts: Vec<PromptResult>,
    /// Every prompt agrees up to a near-tie, logits within tolerance, batch equal to
    /// lone runs, and the reference (if any) matched up to a near-tie.
    pub pass: bool,
    /// Seconds for the whole comparison.
    pub seconds: f64,
}

/// Prompt token ids and reference continuations: from the reference file, else the
/// built-in prompts encoded by the model's tokenizer.
fn cases(engine: &Engine, cfg: &DevicesBench) -> Result<Vec<Case>, EngineError> {
    let ids = |v: &Value| -> Vec<u32> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_u64)
                    .map(|x| x as u32)
                    .collect()
            })
            .unwrap_or_default()
    };
    if let Some(cases) = cfg.reference.as_ref().and_then(|r| r["greedy"].as_array()) {
        return cases
            .iter()
            .map(|c| {
                let text = c["prompt"].as_str().unwrap_or_default().to_string();
                let prompt = match ids(&c["prompt_ids"]) {
                    p if p.is_empty() => engine.tokenizer().encode(&text)?,
                    p => p,
                };
                Ok((text, prompt, Some(ids(&c["greedy_ids"]))))
            })
            .collect();
    }
    PROMPTS
        .iter()
        .map(|p| Ok((p.to_string(), engine.tokenizer().encode(p)?, None)))
        .collect()
}

/// Leading equal tokens of `got` and `want`, and whether the first divergence came at a
/// near-tie (`gaps` are `got`'s top-two gaps; `other_gaps` the other side's, if known).
fn agreement(
    got: &[(u32, f32)],
    want: &[u32],
    other_gaps: Option<&[f32]>,
    tie: f32,
) -> (usize, Option<f32>, bool) {
    for (i, ((tok, gap), w)) in got.iter().zip(want).enumerate() {
        if tok != w {
            let other = other_gaps
                .and_then(|g| g.get(i))
                .copied()
                .unwrap_or(f32::INFINITY);
            let g = gap.min(other);
            return (i, Some(g), g < tie);
        }
    }
    (got.len().min(want.len()), None, true)
}

/// Runs the comparison of `device` (the one checked) against `base`.
pub fn run(
    device: &Engine,
    base: &Engine,
    device_name: &str,
    base_name: &str,
    cfg: &DevicesBench,
) -> Result<DevicesReport, EngineError> {
    let started = Instant::now();
    let cases = cases(base, cfg)?;
    let batch = batched(device, &cases, cfg.tokens)?;
    let mut prompts = Vec::new();
    for ((text, ids, reference), batched) in cases.iter().zip(batch) {
        let a = device.greedy_trace(ids, cfg.tokens)?;
        let b = base.greedy_trace(ids, cfg.tokens)?;
        let b_tokens: Vec<u32> = b.iter().map(|x| x.0).collect();
        let b_gaps: Vec<f32> = b.iter().map(|x| x.1).collect();
        let (agreed, divergence_gap, ok) = agreement(&a, &b_tokens, Some(&b_gaps), cfg.tie);
        let la = device.logits(ids)?;
        let lb = base.logits(ids)?;
        let scale = lb
            .iter()
            .map(|x| x.abs())
            .fold(0.0f32, f32::max)
            .max(f32::MIN_POSITIVE);
        let max_logit_diff = la
            .iter()
            .zip(&lb)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        let norm = |v: &mut dyn Iterator<Item = f32>| v.map(|x| x * x).sum::<f32>().sqrt();
        let rel_l2 = norm(&mut la.iter().zip(&lb).map(|(x, y)| x - y))
            / norm(&mut lb.iter().copied()).max(f32::MIN_POSITIVE);
        let (reference_agreed, reference_ok) = match reference {
            Some(r) if !r.is_empty() => {
                let (n, _, ok) = agreement(&a, r, None, cfg.tie);
                (Some(n), Some(ok))
            }
            _ => (None, None),
        };
        let (batch_agreed, _, at_tie) = agreement(&a, &batched, None, cfg.tie);
        let batch_ok = at_tie && batched.len() == a.len();
        prompts.push(PromptResult {
            prompt: text.chars().take(60).collect(),
            prompt_tokens: ids.len(),
            agreed,
            compared: a.len().min(b.len()),
            divergence_gap,
            ok,
            max_logit_diff,
            rel_logit_diff: max_logit_diff / scale,
            rel_l2,
            reference_agreed,
            reference_ok,
            batch_agreed,
            batch_ok,
        });
    }
    let pass = prompts.iter().all(|p| {
        p.ok && p.batch_ok && p.rel_logit_diff <= cfg.tolerance && p.reference_ok != Some(false)
    });
    let info = device.info();
    Ok(DevicesReport {
        model: device.path().display().to_string(),
        device: device_name.to_string(),
        against: base_name.to_string(),
        weight_format: format!("{:?} / {:?}", info.weight_format, base.info().weight_format),
        tie: cfg.tie,
        tolerance: cfg.tolerance,
        prompts,
        pass,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Every prompt decoded greedily in one batch on `engine` (end tokens suppressed so each
/// runs `n` tokens): the token ids of each.
fn batched(engine: &Engine, cases: &[Case], n: usize) -> Result<Vec<Vec<u32>>, EngineError> {
    let no_stop: Vec<(u32, f32)> = engine
        .tokenizer()
        .stop_ids
        .iter()
        .map(|&t| (t, -1e9))
        .collect();
    let reqs: Vec<GenerateRequest> = cases
        .iter()
        .map(|(_, ids, _)| {
            let mut r = GenerateRequest::new(Input::Tokens(ids.clone()), n);
            r.sampling.logit_bias = no_stop.clone();
            r.logprobs = Some(0);
            r
        })
        .collect();
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); reqs.len()];
    {
        let mut sinks: Vec<_> = out
            .iter_mut()
            .map(|o| {
                move |e: Event| {
                    if let Event::Token { id, .. } = e {
                        o.push(id);
                    }
                    ControlFlow::Continue(())
                }
            })
            .collect();
        let batch = reqs
            .iter()
            .zip(sinks.iter_mut())
            .map(|(r, s)| (r, s as &mut dyn FnMut(Event) -> ControlFlow<()>))
            .collect();
        engine.generate_many(batch)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divergence_at_a_near_tie_is_accepted_and_a_clear_one_is_not() {
        let got = [(1, 2.0), (2, 0.05), (3, 1.0)];
        assert_eq!(agreement(&got, &[1, 2, 3], None, 0.2), (3, None, true));
        assert_eq!(
            agreement(&got, &[1, 9, 3], None, 0.2),
            (1, Some(0.05), true)
        );
        let (n, gap, ok) = agreement(&got, &[7, 2, 3], None, 0.2);
        assert_eq!((n, gap, ok), (0, Some(2.0), false));
        // The other side's gap counts too: its choice may have been the close one.
        assert_eq!(
            agreement(&got, &[7], Some(&[0.1]), 0.2),
            (0, Some(0.1), true)
        );
    }
}
