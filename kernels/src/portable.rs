//! The portable path: dequantization exactly as ggml defines it, and the reference
//! matrix product every SIMD kernel is tested against (and runs where no SIMD path
//! exists). Each 32-value block's product is the integer dot product of its codes with
//! the activation codes, scaled in f32 as the SIMD kernels scale it; only the order of
//! the f32 sums differs.

use std::ops::Range;

use half::f16;

use crate::pack::{
    f16_at, q4_row_bytes, q5_row_bytes, supers, Q4K_META, Q4K_QS, Q5_GROUP, Q6K_META, Q6K_QS,
};
use crate::{Activations, PackedMatrix, Values, BLOCK};

fn f32_of(bits: u16) -> f32 {
    f16::from_bits(bits).to_f32()
}

/// How a block's codes become values.
#[derive(Clone, Copy)]
enum Scale {
    /// `d * q + m` (Q4_0, Q4_1, Q5_0 with `m = -16 d`, Q4_K, Q8_0 with `m = 0`).
    Affine { d: f32, m: f32 },
    /// `d * sc[k / 16] * (q - 32)` (Q6_K).
    Sixteens { d: f32, sc: [i8; 2] },
}

/// The 32 codes of block `b` of row `r` (Q8_0: the signed bytes) and their scale.
fn block(w: &PackedMatrix, r: usize, b: usize) -> ([i32; BLOCK], Scale) {
    let mut q = [0i32; BLOCK];
    let (nb, sb) = (w.nb, w.sb);
    let d = || f32_of(w.d[r * sb + b]);
    let scale = match &w.values {
        Values::Q4 { qs, m } => {
            let pair = &qs[r * q4_row_bytes(nb) + (b / 2) * BLOCK..][..BLOCK];
            let shift = 4 * (b % 2);
            for (q, &v) in q.iter_mut().zip(pair) {
                *q = i32::from((v >> shift) & 0x0F);
            }
            Scale::Affine {
                d: d(),
                m: f32_of(m[r * sb + b]),
            }
        }
        Values::Q8 { qs } => {
            for (q, &v) in q.iter_mut().zip(&qs[(r * nb + b) * BLOCK..][..BLOCK]) {
                *q = i32::from(v);
            }
            Scale::Affine { d: d(), m: 0.0 }
        }
        Values::Q5 { qs } => {
            let (group, j) = (r * q5_row_bytes(nb) + (b / 8) * Q5_GROUP, b % 8);
            let fifth = &qs[group..][..BLOCK];
            let pair = &qs[group + BLOCK + (j / 2) * BLOCK..][..BLOCK];
            let shift = 4 * (j % 2);
            for (k, q) in q.iter_mut().enumerate() {
                *q = i32::from(((pair[k] >> shift) & 0x0F) | (((fifth[k] >> j) & 1) << 4));
            }
            Scale::Affine {
                d: d(),
                m: -16.0 * d(),
            }
        }
        Values::Q4K { qs, meta } => {
            let (s, j) = (r * supers(nb) + b / 8, b % 8);
            let pair = &qs[s * Q4K_QS + (j / 2) * BLOCK..][..BLOCK];
            let shift = 4 * (j % 2);
            for (q, &v) in q.iter_mut().zip(pair) {
                *q = i32::from((v >> shift) & 0x0F);
            }
            let meta = &meta[s * Q4K_META..][..Q4K_META];
            Scale::Affine {
                d: f32_of(f16_at(meta, 0)) * f32::from(meta[4 + j]),
                m: -(f32_of(f16_at(meta, 2)) * f32::from(meta[12 + j])),
            }
        }
        Values::Q6K { qs, meta } => {
            let (s, j) = (r * supers(nb) + b / 8, b % 8);
            let (half, quarter) = (j / 4, j % 4);
            let group = &qs[s * Q6K_QS..][..Q6K_QS];
            let low = &group[64 * half + 32 * (quarter % 2)..][..BLOCK];
            let high = &group[128 + 32 * half..][..BLOCK];
            let shift = 4 * (quarter / 2);
            for (k, q) in q.iter_mut().enumerate() {
                *q =
                    i32::from(((low[k] >> shift) & 0x0F) | (((high[k] >> (2 * quarter)) & 3) << 4));
            }
            let meta = &meta[s * Q6K_META..][..Q6K_META];
            Scale::Sixteens {
                d: f32_of(f16_at(meta, 0)),
                sc: [meta[2 + 2 * j] as i8, meta[3 + 2 * j] as i8],
            }
        }
    };
    (q, scale)
}

/// Row `r` as ggml dequantizes it (the same f32 operations in the same order).
pub(crate) fn dequantize_row(w: &PackedMatrix, r: usize, out: &mut [f32]) {
    for b in 0..w.nb {
        let (q, scale) = block(w, r, b);
        let o = &mut out[b * BLOCK..][..BLOCK];
        match (&w.values, scale) {
            // ggml: (q - 16) * d and q * d; `d * q + m` would turn a -0 into +0.
            (Values::Q5 { .. }, Scale::Affine { d, .. }) => {
                for (o, q) in o.iter_mut().zip(q) {
                    *o = (q - 16) as f32 * d;
                }
            }
            (Values::Q8 { .. }, Scale::Affine { d, .. }) => {
                for (o, q) in o.iter_mut().zip(q) {
                    *o = q as f32 * d;
                }
            }
            (_, Scale::Affine { d, m }) => {
                for (o, q) in o.iter_mut().zip(q) {
                    *o = d * q as f32 + m;
                }
            }
            (_, Scale::Sixteens { d, sc }) => {
                for (k, (o, q)) in o.iter_mut().zip(q).enumerate() {
                    *o = d * f32::from(sc[k / 16]) * (q - 32) as f32;
                }
            }
        }
    }
}

/// Rows `rows` for every token: `out[t * stride + (r - rows.start)]`.
pub(crate) fn tile(
    w: &PackedMatrix,
    x: &Activations,
    rows: Range<usize>,
    out: &mut [f32],
    stride: usize,
) {
    let (cols, sb) = (w.cols, w.sb);
    let mut sums = vec![0f32; x.tokens];
    for r in rows.clone() {
        sums.fill(0.0);
        for b in 0..w.nb {
            let (q, scale) = block(w, r, b);
            for (t, sum) in sums.iter_mut().enumerate() {
                let y = &x.q[t * cols + b * BLOCK..][..BLOCK];
                let dot =
                    |range: Range<usize>| -> i32 { range.map(|k| q[k] * i32::from(y[k])).sum() };
                let dy = x.d[t * sb + b];
                *sum += match (&w.values, scale) {
                    (Values::Q4 { .. }, Scale::Affine { d, m }) => {
                        d * dy * dot(0..BLOCK) as f32 + m * x.s[t * sb + b]
                    }
                    (Values::Q8 { .. }, Scale::Affine { d, .. }) => d * dy * dot(0..BLOCK) as f32,
                    (_, Scale::Affine { d, m }) => {
                        d * dy * dot(0..BLOCK) as f32 + m * x.sx[t * sb + b]
                    }
                    (_, Scale::Sixteens { d, sc }) => {
                        // Codes are q + 32: the offset comes off with the sums of 16.
                        let (a, c) = (i32::from(sc[0]), i32::from(sc[1]));
                        let codes = a * dot(0..16) + c * dot(16..32);
                        let s16 = &x.s16[t * 2 * sb + 2 * b..];
                        let offset = a * i32::from(s16[0]) + c * i32::from(s16[1]);
                        d * dy * codes as f32 + -32.0 * d * dy * offset as f32
                    }
                };
            }
        }
        for (t, sum) in sums.iter().enumerate() {
            out[t * stride + (r - rows.start)] = *sum;
        }
    }
}
