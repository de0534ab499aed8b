//! Sampling: greedy, temperature, top-k, top-p, min-p, repetition / frequency /
//! presence penalties and logit bias, with a seeded generator so the same seed and input
//! give the same output.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::EngineError;

/// Sampling parameters of one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SamplingParams {
    /// 0 means greedy.
    pub temperature: f32,
    /// Keep the k most likely tokens (0: off).
    pub top_k: usize,
    /// Keep the smallest set whose probability reaches p (1: off).
    pub top_p: f32,
    /// Drop tokens below min_p times the top probability (0: off).
    pub min_p: f32,
    /// Divides positive logits (multiplies negative ones) of tokens already seen (1: off).
    pub repetition_penalty: f32,
    /// Subtracted per previous occurrence (OpenAI semantics).
    pub frequency_penalty: f32,
    /// Subtracted once if the token occurred.
    pub presence_penalty: f32,
    /// Added to the logits of these tokens.
    pub logit_bias: Vec<(u32, f32)>,
    /// Seed; `None` draws one.
    pub seed: Option<u64>,
}

impl Default for SamplingParams {
    fn default() -> Self {
        Self {
            temperature: 0.0,
            top_k: 0,
            top_p: 1.0,
            min_p: 0.0,
            repetition_penalty: 1.0,
            frequency_penalty: 0.0,
            presence_penalty: 0.0,
            logit_bias: Vec::new(),
            seed: None,
        }
    }
}

impl SamplingParams {
    /// Checks ranges.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |m: &str| Err(EngineError::InvalidRequest(m.to_string()));
        if !(0.0..=2.0).contains(&self.temperature) || self.temperature.is_nan() {
            return bad("temperature must be between 0 and 2");
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return bad("top_p must be in (0, 1]");
        }
        if !(0.0..=1.0).contains(&self.min_p) {
            return bad("min_p must be in [0, 1]");
        }
        if self.repetition_penalty <= 0.0 || !self.repetition_penalty.is_finite() {
            return bad("repetition_penalty must be positive");
        }
        if !(-2.0..=2.0).contains(&self.frequency_penalty)
            || !(-2.0..=2.0).contains(&self.presence_penalty)
        {
            return bad("frequency_penalty and presence_penalty must be between -2 and 2");
        }
        Ok(())
    }
}

/// A sampler for one sequence.
#[derive(Debug, Clone)]
pub struct Sampler {
    params: SamplingParams,
    state: u64,
}

impl Sampler {
    /// A sampler; the seed defaults to the clock.
    pub fn new(params: SamplingParams) -> Self {
        let seed = params.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0x5eed)
        });
        Self {
            params,
            state: seed ^ 0x9e37_79b9_7f4a_7c15,
        }
    }

    fn next_f32(&mut self) -> f32 {
        // splitmix64
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Picks the next token from `logits` (modified in place) given the tokens generated
    /// so far.
    pub fn sample(&mut self, logits: &mut [f32], generated: &[u32]) -> u32 {
        let p = &self.params;
        if p.repetition_penalty != 1.0 || p.frequency_penalty != 0.0 || p.presence_penalty != 0.0 {
            let mut counts: HashMap<u32, u32> = HashMap::new();
            for &t in generated {
                *counts.entry(t).or_default() += 1;
            }
            for (&t, &n) in &counts {
                if let Some(l) = logits.get_mut(t as usize) {
                    if p.repetition_penalty != 1.0 {
                        *l = if *l > 0.0 {
                            *l / p.repetition_penalty
                        } else {
                            *l * p.repetition_penalty
                        };
                    }
                    *l -= p.frequency_penalty * n as f32 + p.presence_penalty;
                }
            }
        }
        for &(t, b) in &p.logit_bias {
            if let Some(l) = logits.get_mut(t as usize) {
                *l += b;
            }
        }
        if p.temperature <= 0.0 {
            return argmax(logits);
        }
        // Tokens more than 30 temperatures below the best have relative probability under
        // e^-30: leaving them out before sorting changes nothing and spares sorting the
        // whole vocabulary on every token.
        let best = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let floor = best - 30.0 * p.temperature;
        let mut idx: Vec<usize> = (0..logits.len()).filter(|&i| logits[i] >= floor).collect();
        if idx.is_empty() {
            // Only NaN logits: nothing to weigh.
            return argmax(logits);
        }
        idx.sort_unstable_by(|&a, &b| logits[b].total_cmp(&logits[a]));
        if p.top_k > 0 {
            idx.truncate(p.top_k);
        }
        let max = logits[idx[0]];
        let mut probs: Vec<f32> = idx
            .iter()
            .map(|&i| ((logits[i] - max) / p.temperature).exp())
            .collect();
        let sum: f32 = probs.iter().sum();
        probs.iter_mut().for_each(|x| *x /= sum);
        let mut keep = probs.len();
        if p.top_p < 1.0 {
            let mut acc = 0.0;
            for (i, pr) in probs.iter().enumerate() {
                acc += pr;
                if acc >= p.top_p {
                    keep = i + 1;
                    break;
                }
            }
        }
        if p.min_p > 0.0 {
            let floor = probs[0] * p.min_p;
            keep = keep.min(probs.iter().take_while(|&&x| x >= floor).count().max(1));
        }
        let total: f32 = probs[..keep].iter().sum();
        let mut r = self.next_f32() * total;
        for (i, pr) in probs[..keep].iter().enumerate() {
            r -= pr;
            if r <= 0.0 {
                return idx[i] as u32;
            }
        }
        idx[keep - 1] as u32
    }
}

/// Index of the largest logit (the first on ties).
pub fn argmax(v: &[f32]) -> u32 {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_and_seeded() {
        let mut s = Sampler::new(SamplingParams::default());
        assert_eq!(s.sample(&mut [0.1, 3.0, 2.0], &[]), 1);
        let params = SamplingParams {
            temperature: 1.0,
            seed: Some(7),
            ..Default::default()
        };
        let draw = |p: &SamplingParams| {
            let mut s = Sampler::new(p.clone());
            (0..20)
                .map(|_| s.sample(&mut [1.0, 1.1, 0.9, 1.05], &[]))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(&params), draw(&params));
        let other = SamplingParams {
            seed: Some(8),
            ..params.clone()
        };
        assert_ne!(draw(&params), draw(&other));
    }

    #[test]
    fn nan_logits_do_not_panic() {
        let mut s = Sampler::new(SamplingParams {
            temperature: 1.0,
            ..Default::default()
        });
        assert_eq!(s.sample(&mut [f32::NAN, f32::NAN], &[]), 0);
    }

    #[test]
    fn filters_and_penalties() {
        let params = SamplingParams {
            temperature: 1.0,
            top_k: 1,
            seed: Some(1),
            ..Default::default()
        };
        let mut s = Sampler::new(params);
        for _ in 0..10 {
            assert_eq!(s.sample(&mut [0.0, 5.0, 4.9], &[]), 1);
        }
        let params = SamplingParams {
            repetition_penalty: 100.0,
            ..Default::default()
        };
        let mut s = Sampler::new(params);
        assert_eq!(s.sample(&mut [1.0, 2.0], &[1]), 0);
        let params = SamplingParams {
            logit_bias: vec![(0, 10.0)],
            ..Default::default()
        };
        assert_eq!(Sampler::new(params).sample(&mut [1.0, 2.0], &[]), 0);
        assert!(SamplingParams {
            temperature: 3.0,
            ..Default::default()
        }
        .validate()
        .is_err());
        assert!(SamplingParams {
            top_p: 0.0,
            ..Default::default()
        }
        .validate()
        .is_err());
    }
}
