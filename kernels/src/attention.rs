//! Causal grouped-query attention of one sequence over its KV cache, on CPU in f32.
//!
//! Decoding one token attends a handful of query heads to every cached position; done
//! as general matmuls that is several small ops per layer and sequence (scores, mask,
//! softmax, weighted sum, copies), each with its own dispatch and buffers. Here it is
//! one pass per query head: scores, softmax and the weighted sum of values, reading the
//! cache where it lies (heads may be a buffer apart) and writing token-major output,
//! ready for the output projection.

use std::ops::Range;

use rayon::prelude::*;

/// Shapes of one attention call.
#[derive(Debug, Clone, Copy)]
pub struct AttentionShape {
    /// Query heads.
    pub heads: usize,
    /// Key/value heads (divides `heads`).
    pub kv_heads: usize,
    /// Head width.
    pub head_dim: usize,
    /// New positions (queries).
    pub queries: usize,
    /// Cached positions, the new ones included (keys).
    pub keys: usize,
    /// Elements from one key/value head's first row to the next head's.
    pub kv_head_stride: usize,
    /// Sliding window, if any: a query sees at most this many positions back.
    pub window: Option<usize>,
    /// Score scale, usually `1 / sqrt(head_dim)`.
    pub scale: f32,
}

/// Attends `q` (`heads` x `queries` x `head_dim`, contiguous) over `k` and `v` (per kv
/// head `h`, row `j` at `h * kv_head_stride + j * head_dim`) into `out` (`queries` x
/// `heads` x `head_dim`). Query `i` sits at key position `keys - queries + i` and sees
/// the keys up to it (and, with a window, the last `window` of them).
pub fn attention(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    s: AttentionShape,
    out: &mut [f32],
) -> Result<(), String> {
    attention_batch(&[Sequence { q, k, v, shape: s }], &mut [out])
}

/// One sequence's inputs to [`attention_batch`], as [`attention`] takes them.
#[derive(Debug, Clone, Copy)]
pub struct Sequence<'a> {
    /// Queries, `heads` x `queries` x `head_dim`.
    pub q: &'a [f32],
    /// Keys, by kv head a stride apart.
    pub k: &'a [f32],
    /// Values, laid out as the keys.
    pub v: &'a [f32],
    /// Their shape.
    pub shape: AttentionShape,
}

/// [`attention`] of several sequences at once, `outs[n]` for `seqs[n]`: one task per
/// sequence and query head, so a batch of decode steps keeps every thread busy without
/// a fork and join per sequence.
pub fn attention_batch(seqs: &[Sequence<'_>], outs: &mut [&mut [f32]]) -> Result<(), String> {
    if seqs.len() != outs.len() {
        return Err(format!("{} sequences, {} outputs", seqs.len(), outs.len()));
    }
    for (x, out) in seqs.iter().zip(outs.iter()) {
        check(x, out.len())?;
    }
    // Each task writes its own columns of its sequence's token-major output, gathered
    // afterwards.
    let tasks: Vec<(usize, usize)> = seqs
        .iter()
        .enumerate()
        .flat_map(|(n, x)| (0..x.shape.heads).map(move |h| (n, h)))
        .collect();
    let work: usize = seqs
        .iter()
        .map(|x| x.shape.heads * x.shape.queries * x.shape.keys * x.shape.head_dim)
        .sum();
    let run = |&(n, h): &(usize, usize)| -> Vec<f32> {
        let x = &seqs[n];
        let mut o = vec![0f32; x.shape.queries * x.shape.head_dim];
        head(x.q, x.k, x.v, x.shape, h, &mut o);
        o
    };
    let done: Vec<Vec<f32>> = if work < 1 << 16 || rayon::current_num_threads() == 1 {
        tasks.iter().map(run).collect()
    } else {
        tasks.par_iter().map(run).collect()
    };
    for (&(n, h), o) in tasks.iter().zip(&done) {
        let s = seqs[n].shape;
        let d = s.head_dim;
        for i in 0..s.queries {
            outs[n][(i * s.heads + h) * d..][..d].copy_from_slice(&o[i * d..][..d]);
        }
    }
    Ok(())
}

/// Refuses a shape the inputs or the output (`out` values) do not fit.
fn check(x: &Sequence<'_>, out: usize) -> Result<(), String> {
    let s = x.shape;
    let d = s.head_dim;
    if s.heads == 0 || s.kv_heads == 0 || !s.heads.is_multiple_of(s.kv_heads) || d == 0 {
        return Err(format!(
            "{} query heads over {} kv heads",
            s.heads, s.kv_heads
        ));
    }
    if s.queries > s.keys {
        return Err(format!("{} queries over {} keys", s.queries, s.keys));
    }
    let kv_len = (s.kv_heads - 1) * s.kv_head_stride + s.keys * d;
    if x.q.len() < s.heads * s.queries * d || x.k.len() < kv_len || x.v.len() < kv_len {
        return Err("attention inputs shorter than their shape".into());
    }
    if out != s.queries * s.heads * d || (s.kv_heads > 1 && s.kv_head_stride < s.keys * d) {
        return Err("attention output or head stride does not fit the shape".into());
    }
    Ok(())
}

/// Query head `h` into `o` (`queries` x `head_dim`).
fn head(q: &[f32], k: &[f32], v: &[f32], s: AttentionShape, h: usize, o: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if let Some(ops) = crate::x86::attention_ops() {
        head_with(&ops, q, k, v, s, h, o);
        return;
    }
    head_with(&Portable, q, k, v, s, h, o);
}

/// The three loops over a query's keys, written once portably and once per instruction
/// set. Each query goes through the same calls whatever else is in the batch, which is
/// what makes a chunked prompt give the same numbers as one pass.
pub(crate) trait HeadOps {
    /// `scores[j] = scale * q . k_j` for `j` in `keys` (row `j` of `k` at `j * q.len()`);
    /// returns their maximum.
    fn scores(
        &self,
        q: &[f32],
        k: &[f32],
        keys: Range<usize>,
        scale: f32,
        scores: &mut [f32],
    ) -> f32;
    /// `x = exp(x - max)` for every `x` of `scores`; returns their sum.
    fn exp(&self, scores: &mut [f32], max: f32) -> f32;
    /// `o = sum of p[j] * v_j` for `j` in `keys` (row `j` of `v` at `j * o.len()`).
    fn weighted_sum(&self, p: &[f32], v: &[f32], keys: Range<usize>, o: &mut [f32]);
}

/// Plain Rust, for CPUs without a SIMD version.
pub(crate) struct Portable;

impl HeadOps for Portable {
    fn scores(
        &self,
        q: &[f32],
        k: &[f32],
        keys: Range<usize>,
        scale: f32,
        scores: &mut [f32],
    ) -> f32 {
        let d = q.len();
        let mut max = f32::NEG_INFINITY;
        for j in keys {
            let x = dot(q, &k[j * d..][..d]) * scale;
            scores[j] = x;
            max = max.max(x);
        }
        max
    }

    fn exp(&self, scores: &mut [f32], max: f32) -> f32 {
        let mut sum = 0f32;
        for x in scores {
            *x = (*x - max).exp();
            sum += *x;
        }
        sum
    }

    fn weighted_sum(&self, p: &[f32], v: &[f32], keys: Range<usize>, o: &mut [f32]) {
        let d = o.len();
        o.fill(0.0);
        for j in keys {
            for (y, &x) in o.iter_mut().zip(&v[j * d..][..d]) {
                *y += p[j] * x;
            }
        }
    }
}

/// Query head `h` into `o` with the loops of `ops`.
pub(crate) fn head_with(
    ops: &impl HeadOps,
    q: &[f32],
    k: &[f32],
    v: &[f32],
    s: AttentionShape,
    h: usize,
    o: &mut [f32],
) {
    let d = s.head_dim;
    let kvh = h / (s.heads / s.kv_heads);
    let kh = &k[kvh * s.kv_head_stride..][..s.keys * d];
    let vh = &v[kvh * s.kv_head_stride..][..s.keys * d];
    let past = s.keys - s.queries;
    let mut scores = vec![0f32; s.keys];
    for i in 0..s.queries {
        let me = past + i;
        let seen = s.window.map_or(0, |w| (me + 1).saturating_sub(w))..me + 1;
        let qi = &q[(h * s.queries + i) * d..][..d];
        let max = ops.scores(qi, kh, seen.clone(), s.scale, &mut scores);
        let sum = ops.exp(&mut scores[seen.clone()], max);
        let oi = &mut o[i * d..][..d];
        ops.weighted_sum(&scores, vh, seen, oi);
        let inv = 1.0 / sum;
        for x in oi {
            *x *= inv;
        }
    }
}

/// Dot product in eight lanes (vectorizes without reassociating a float sum).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise;

    /// The textbook formula with an explicit mask.
    fn reference(q: &[f32], k: &[f32], v: &[f32], s: AttentionShape) -> Vec<f32> {
        let d = s.head_dim;
        let mut out = vec![0f32; s.queries * s.heads * d];
        for h in 0..s.heads {
            let kvh = h / (s.heads / s.kv_heads);
            for i in 0..s.queries {
                let me = s.keys - s.queries + i;
                let visible = |j: usize| j <= me && s.window.is_none_or(|w| me < w || j > me - w);
                let sc: Vec<f64> = (0..s.keys)
                    .map(|j| {
                        if !visible(j) {
                            return f64::NEG_INFINITY;
                        }
                        (0..d)
                            .map(|x| {
                                f64::from(q[(h * s.queries + i) * d + x])
                                    * f64::from(k[kvh * s.kv_head_stride + j * d + x])
                            })
                            .sum::<f64>()
                            * f64::from(s.scale)
                    })
                    .collect();
                let max = sc.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = sc.iter().map(|x| (x - max).exp()).collect();
                let sum: f64 = e.iter().sum();
                for x in 0..d {
                    out[(i * s.heads + h) * d + x] = (0..s.keys)
                        .map(|j| e[j] / sum * f64::from(v[kvh * s.kv_head_stride + j * d + x]))
                        .sum::<f64>() as f32;
                }
            }
        }
        out
    }

    #[test]
    fn matches_the_formula_with_gaps_windows_and_prefill() {
        // Decode with a gap between heads (a cache buffer with spare rows), prefill,
        // a sliding window, a head width that is not a multiple of 8, and one big enough
        // to be split over threads.
        for (heads, kv, d, queries, keys, spare, window) in [
            (9, 3, 64, 1, 40, 24, None),
            (4, 2, 16, 7, 12, 0, None),
            (4, 1, 20, 5, 30, 3, Some(6)),
            (8, 8, 64, 16, 200, 0, None),
            (2, 1, 128, 3, 77, 5, None),
            (3, 3, 96, 9, 33, 0, Some(20)),
            (2, 2, 8, 4, 19, 0, None),
        ] {
            let stride = (keys + spare) * d;
            let s = AttentionShape {
                heads,
                kv_heads: kv,
                head_dim: d,
                queries,
                keys,
                kv_head_stride: stride,
                window,
                scale: 1.0 / (d as f32).sqrt(),
            };
            let q = noise(1, heads * queries * d);
            let k = noise(2, kv * stride);
            let v = noise(3, kv * stride);
            let mut out = vec![0f32; queries * heads * d];
            attention(&q, &k, &v, s, &mut out).expect("runs");
            let want = reference(&q, &k, &v, s);
            for (i, (a, b)) in out.iter().zip(&want).enumerate() {
                assert!((a - b).abs() < 1e-5, "{s:?} [{i}]: {a} vs {b}");
            }
            // The portable body gives the same.
            let mut o = vec![0f32; queries * d];
            head_with(&Portable, &q, &k, &v, s, heads - 1, &mut o);
            for i in 0..queries {
                for x in 0..d {
                    let a = o[i * d + x];
                    let b = want[(i * heads + heads - 1) * d + x];
                    assert!((a - b).abs() < 1e-5, "portable {s:?}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn chunked_prompts_give_bitwise_the_same_as_one_pass() {
        // The engine relies on this: a prompt prefilled in chunks between other
        // requests' steps gets the very same numbers as one prefilled alone.
        for window in [None, Some(9)] {
            let (heads, kv, d, n) = (6, 2, 24, 50);
            let s = AttentionShape {
                heads,
                kv_heads: kv,
                head_dim: d,
                queries: n,
                keys: n,
                kv_head_stride: n * d,
                window,
                scale: 0.3,
            };
            let q = noise(4, heads * n * d);
            let k = noise(5, kv * n * d);
            let v = noise(6, kv * n * d);
            let mut whole = vec![0f32; n * heads * d];
            attention(&q, &k, &v, s, &mut whole).expect("runs");
            let mut start = 0;
            for len in [7, 1, 13, 1, 1, 27].into_iter().cycle() {
                let len = len.min(n - start);
                // This chunk's queries, head-major like the engine hands them over.
                let mut qc = Vec::with_capacity(heads * len * d);
                for h in 0..heads {
                    qc.extend_from_slice(&q[(h * n + start) * d..][..len * d]);
                }
                let sc = AttentionShape {
                    queries: len,
                    keys: start + len,
                    ..s
                };
                let mut out = vec![0f32; len * heads * d];
                attention(&qc, &k, &v, sc, &mut out).expect("runs");
                assert_eq!(out, whole[start * heads * d..][..len * heads * d], "{sc:?}");
                start += len;
                if start == n {
                    break;
                }
            }
        }
    }

    #[test]
    fn a_batch_gives_each_sequence_what_it_gets_alone() {
        let shapes = [(9, 3, 64, 1, 300), (9, 3, 64, 1, 7), (9, 3, 64, 5, 40)];
        // Queries, keys, values, shape.
        type Inputs = (Vec<f32>, Vec<f32>, Vec<f32>, AttentionShape);
        let data: Vec<Inputs> = shapes
            .iter()
            .enumerate()
            .map(|(n, &(heads, kv, d, queries, keys))| {
                let s = AttentionShape {
                    heads,
                    kv_heads: kv,
                    head_dim: d,
                    queries,
                    keys,
                    kv_head_stride: keys * d,
                    window: None,
                    scale: 0.125,
                };
                let n = n as u64 * 3;
                let q = noise(n + 7, heads * queries * d);
                (
                    q,
                    noise(n + 8, kv * keys * d),
                    noise(n + 9, kv * keys * d),
                    s,
                )
            })
            .collect();
        let seqs: Vec<Sequence<'_>> = data
            .iter()
            .map(|(q, k, v, s)| Sequence { q, k, v, shape: *s })
            .collect();
        let mut outs: Vec<Vec<f32>> = data
            .iter()
            .map(|(.., s)| vec![0f32; s.queries * s.heads * s.head_dim])
            .collect();
        let mut views: Vec<&mut [f32]> = outs.iter_mut().map(Vec::as_mut_slice).collect();
        attention_batch(&seqs, &mut views).expect("runs");
        for (x, got) in seqs.iter().zip(&outs) {
            let mut alone = vec![0f32; got.len()];
            attention(x.q, x.k, x.v, x.shape, &mut alone).expect("runs");
            assert_eq!(&alone, got);
        }
        let mut one = vec![0f32; 9 * 64];
        assert!(attention_batch(&seqs, &mut [&mut one]).is_err());
    }

    #[test]
    fn shapes_that_do_not_fit_are_errors() {
        let s = AttentionShape {
            heads: 4,
            kv_heads: 3,
            head_dim: 8,
            queries: 1,
            keys: 2,
            kv_head_stride: 16,
            window: None,
            scale: 1.0,
        };
        let mut out = vec![0f32; 32];
        assert!(attention(&[0.0; 32], &[0.0; 48], &[0.0; 48], s, &mut out).is_err());
        let s = AttentionShape { kv_heads: 2, ..s };
        assert!(attention(&[0.0; 32], &[0.0; 10], &[0.0; 48], s, &mut out).is_err());
        assert!(attention(&[0.0; 32], &[0.0; 32], &[0.0; 32], s, &mut out).is_ok());
    }
}
