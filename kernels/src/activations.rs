//! Activations quantized for the products: 8-bit values with a scale per block (or per
//! super-block for the K-quants), and the sums the formats' offsets and minimums need.

use half::f16;

#[cfg(target_arch = "x86_64")]
use crate::x86;
use crate::{round8, BLOCK};

/// Quantizes one row (whole blocks): values `round(x / d)` (ties to even) with
/// `d = max|x| / 127` over each run of `group` blocks; each block's `d` and `Σq`.
pub(crate) fn quantize_row(x: &[f32], q: &mut [i8], d: &mut [f32], sums: &mut [i32], group: usize) {
    let span = group * BLOCK;
    for (g, (xs, qs)) in x.chunks(span).zip(q.chunks_mut(span)).enumerate() {
        let amax = xs.iter().fold(0f32, |a, v| a.max(v.abs()));
        let scale = amax / 127.0;
        let inv = if scale != 0.0 { 1.0 / scale } else { 0.0 };
        for (k, (xs, qs)) in xs
            .chunks_exact(BLOCK)
            .zip(qs.chunks_exact_mut(BLOCK))
            .enumerate()
        {
            let mut sum = 0i32;
            for (q, &v) in qs.iter_mut().zip(xs) {
                // In range by construction; a NaN becomes 0.
                *q = (v * inv).round_ties_even() as i8;
                sum += i32::from(*q);
            }
            d[g * group + k] = scale;
            sums[g * group + k] = sum;
        }
    }
}

/// Activation rows quantized to 8 bits: values `round(x / d)`.
///
/// For Q4_0, Q4_1, Q5_0 and Q8_0 (as llama.cpp's Q8_1) each 32-value block has its own
/// scale `d = max|x| / 127` and the block's `d * Σq`, both rounded through f16. For the
/// K-quants (as llama.cpp's Q8_K) the eight blocks of each 256 values share one f32
/// scale, so the products of a super-block add up in integers before one conversion.
/// Besides, for the formats whose minimums or offsets need them, `d * Σq` unrounded
/// and the sums of each 16 values.
#[derive(Debug, Clone)]
pub struct Activations {
    pub(crate) tokens: usize,
    pub(crate) cols: usize,
    /// Blocks sharing a scale: 1, or 8 for the K-quants.
    pub(crate) group: usize,
    pub(crate) q: Vec<i8>,
    /// Scales per block, `tokens * sb` (zero-padded).
    pub(crate) d: Vec<f32>,
    /// `d * Σq` per block rounded through f16 (Q4_0 / Q4_1), `tokens * sb` (zero-padded).
    pub(crate) s: Vec<f32>,
    /// `d * Σq` per block in f32 (Q5_0, Q4_K), `tokens * sb` (zero-padded).
    pub(crate) sx: Vec<f32>,
    /// `Σq` of each 16 values (Q6_K), `tokens * 2 * sb` (zero-padded).
    pub(crate) s16: Vec<i16>,
}

impl Activations {
    /// Quantizes `x`, `tokens` rows of `cols` values (a multiple of 32), with a scale per
    /// 32-value block: the input of Q4_0, Q4_1, Q5_0 and Q8_0 matrices.
    /// [`PackedMatrix::quantize_input`] picks the form a matrix takes.
    pub fn quantize(x: &[f32], tokens: usize, cols: usize) -> Self {
        Self::quantize_grouped(x, tokens, cols, 1)
    }

    pub(crate) fn quantize_grouped(x: &[f32], tokens: usize, cols: usize, group: usize) -> Self {
        assert!(
            cols.is_multiple_of(BLOCK),
            "{cols} columns are not whole blocks"
        );
        assert_eq!(x.len(), tokens * cols, "activation size");
        let nb = cols / BLOCK;
        let sb = round8(nb);
        let mut q = vec![0i8; tokens * cols];
        let mut d = vec![0f32; tokens * sb];
        let mut s = vec![0f32; tokens * sb];
        let mut sx = vec![0f32; tokens * sb];
        let mut s16 = vec![0i16; tokens * 2 * sb];
        let mut scales = vec![0f32; nb];
        let mut sums = vec![0i32; nb];
        for t in 0..tokens {
            let (xr, qr) = (&x[t * cols..][..cols], &mut q[t * cols..][..cols]);
            #[cfg(target_arch = "x86_64")]
            let simd = x86::available();
            #[cfg(not(target_arch = "x86_64"))]
            let simd = false;
            if simd {
                #[cfg(target_arch = "x86_64")]
                x86::quantize_row(xr, qr, &mut scales, &mut sums, group);
            } else {
                quantize_row(xr, qr, &mut scales, &mut sums, group);
            }
            for b in 0..nb {
                // Q8_1 rounds its scales through f16; Q8_K keeps them in f32.
                let scale = if group == 1 {
                    f16::from_f32(scales[b]).to_f32()
                } else {
                    scales[b]
                };
                d[t * sb + b] = scale;
                s[t * sb + b] = f16::from_f32(sums[b] as f32 * scales[b]).to_f32();
                // Exact for f16 scales (11 significant bits, |Σq| <= 4064 has 12).
                sx[t * sb + b] = scale * sums[b] as f32;
            }
            for (o, half) in s16[t * 2 * sb..].iter_mut().zip(qr.chunks_exact(16)) {
                // |Σ| <= 16 * 127: fits.
                *o = half.iter().map(|&v| i16::from(v)).sum();
            }
        }
        Self {
            tokens,
            cols,
            group,
            q,
            d,
            s,
            sx,
            s16,
        }
    }

    /// Rows.
    pub fn tokens(&self) -> usize {
        self.tokens
    }
}
