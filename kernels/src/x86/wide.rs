//! The K-quant products of several tokens at once (prompt prefill) in 512-bit registers,
//! for CPUs with AVX-512 F, BW, VL and VNNI whose vector units are that wide (Zen 5,
//! Sapphire Rapids), and one token (decode) over four rows at a time; everything else
//! (the 32-block formats, a last group of fewer tokens than a tile) runs the 256-bit
//! VNNI kernels of `matmul.rs`.
//!
//! A zmm register holds two blocks side by side: a pair's weights `[xa | xb]`, its
//! activations `[ya | yb]` (adjacent blocks, so one 64-byte load per token), and its
//! integer scales `[sa | sb]` over the 16-bit lanes. One `vpmaddubsw` and one `vpdpwssd`
//! then do what the 256-bit path does in two each. Pairs are adjacent blocks `2p, 2p+1`:
//! Q4_K's low and high nibbles of one 32-byte run (one broadcast load, the high half
//! shifted by four); Q6_K's low nibbles of one 64-byte run (blocks 0-1 and 4-5) or their
//! high nibbles (2-3 and 6-7), each completed by two bits from one broadcast of the
//! high-bit run. Q6_K's offset of 32 is taken off in the same integer sums
//! (`-32 sc · Σ16 y`, exact), Q4_K's minimums in f32 as in the 256-bit path.
//!
//! A tile is a few rows by [`TOKENS`] tokens: per row and token an integer accumulator
//! for the super-block and an f32 one for the row, the rows' unpacked weights and
//! scales, one activation pair at a time, within the 32 registers.

// A tile's row and token indices address several arrays and the output at once.
#![allow(clippy::needless_range_loop)]

use std::arch::x86_64::*;
use std::ops::Range;

use super::matmul::{vnni, Views, F_Q4K, F_Q6K, PREFETCH, ROW_BLOCK_BYTES};
use crate::pack::{Q4K_META, Q4K_QS, Q6K_META, Q6K_QS};
use crate::BLOCK;

/// Tokens of a tile. Rows: 2 for Q4_K, 3 for Q6_K (whose unpacking costs more per row,
/// so more tokens share it). Measured at one thread on Qwen2.5-Coder-1.5B's MLP shapes
/// for 64 tokens (benches/RESULTS.md): 4 x 4 and 2 x 8 spill accumulators (16 integer
/// and 16 f32 registers) and were slower, by 4-7 % for Q4_K and 20-25 % for Q6_K.
const TOKENS: usize = 4;

/// Rows `rows` of the product for `tokens` tokens into `out[t * stride + r - start]`:
/// whole groups of [`TOKENS`] of a K-quant matrix here, a block of rows at a time (so
/// that the block's weights stay in L2 while every group passes over them); the rest
/// with the 256-bit kernels.
///
/// # Safety
/// The CPU has AVX2, FMA, F16C and AVX-512 F, BW, VL and VNNI; `v` and `out` are valid
/// for the rows and tokens given (as `x86::tile_on` checks).
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
pub(super) unsafe fn drive<const F: u8>(
    v: &Views,
    rows: Range<usize>,
    tokens: usize,
    out: *mut f32,
    stride: usize,
) {
    if tokens < TOKENS {
        // Decode: one token over four rows at a time.
        drive_with::<F, 4, 1>(v, rows, tokens, out, stride);
    } else if F == F_Q4K {
        drive_with::<F, 2, TOKENS>(v, rows, tokens, out, stride);
    } else {
        drive_with::<F, 3, TOKENS>(v, rows, tokens, out, stride);
    }
}

/// [`drive`] with tiles of `R` rows by `C` tokens.
///
/// # Safety
/// As for [`drive`].
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn drive_with<const F: u8, const R: usize, const C: usize>(
    v: &Views,
    rows: Range<usize>,
    tokens: usize,
    out: *mut f32,
    stride: usize,
) {
    let wide = if F == F_Q4K || F == F_Q6K {
        tokens / C * C
    } else {
        0
    };
    if wide > 0 {
        let at = |r: usize, t: usize| out.add(t * stride + (r - rows.start));
        let block = (ROW_BLOCK_BYTES / v.per_row).max(R) / R * R;
        let mut start = rows.start;
        while start < rows.end {
            let end = rows.end.min(start + block);
            let mut t = 0;
            while t < wide {
                let mut r = start;
                while r + R <= end {
                    k_tile::<R, C, F>(v, r, t, |i, j| at(r + i, t + j));
                    r += R;
                }
                while r < end {
                    k_tile::<1, C, F>(v, r, t, |i, j| at(r + i, t + j));
                    r += 1;
                }
                t += C;
            }
            start = end;
        }
    }
    if wide < tokens {
        // The remaining tokens, as a product of their own.
        let rest = Views {
            xq: v.xq.add(wide * v.cols),
            xd: v.xd.add(wide * v.sb),
            xs: v.xs.add(wide * v.sb),
            sx: v.sx.add(wide * v.sb),
            s16: v.s16.add(wide * 2 * v.sb),
            ..*v
        };
        vnni::drive::<F>(&rest, rows, tokens - wide, out.add(wide * stride), stride);
    }
}

/// `R` rows from `r0` times `C` tokens from `t0` of a K-quant matrix, a super-block at a
/// time: its integer sums in 32-bit lanes, converted to f32 once with the super-block's
/// scale (weight `d` times the activations' scale). `dst(i, j)` is where row `r0 + i` of
/// token `t0 + j` goes.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn k_tile<const R: usize, const C: usize, const F: u8>(
    v: &Views,
    r0: usize,
    t0: usize,
    dst: impl Fn(usize, usize) -> *mut f32,
) {
    let sb = v.sb;
    let mut acc = [[_mm512_setzero_ps(); C]; R];
    for g in 0..v.nb / 8 {
        let mut ints = [[_mm512_setzero_si512(); C]; R];
        // Per row: the super-block's integer scales as i16 (Q4_K's 8, Q6_K's 16) in the
        // low lanes, and its `d`.
        let mut sv = [_mm512_setzero_si512(); R];
        let mut d = [0f32; R];
        for i in 0..R {
            let row = r0 + i;
            if F == F_Q4K {
                let m = v.meta.add(row * v.meta_bytes + g * Q4K_META);
                let both = _mm_cvtph_ps(_mm_cvtsi32_si128(m.cast::<i32>().read_unaligned()));
                d[i] = _mm_cvtss_f32(both);
                let scales = _mm_cvtepu8_epi16(_mm_loadl_epi64(m.add(4).cast()));
                sv[i] = _mm512_zextsi128_si512(scales);
                let mins =
                    _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(m.add(12).cast())));
                // -(dmin * m): an exact product, as ggml forms it; times each block's
                // `d_y Σq_y`, in the low eight lanes.
                let neg_min = _mm256_set1_ps(-_mm_cvtss_f32(_mm_movehdup_ps(both)));
                let mx = _mm512_zextps256_ps512(_mm256_mul_ps(neg_min, mins));
                for c in 0..C {
                    let s = _mm256_loadu_ps(v.sx.add((t0 + c) * sb + 8 * g));
                    acc[i][c] = _mm512_fmadd_ps(mx, _mm512_zextps256_ps512(s), acc[i][c]);
                }
            } else {
                let m = v.meta.add(row * v.meta_bytes + g * Q6K_META);
                let bits = i32::from(m.cast::<u16>().read_unaligned());
                d[i] = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(bits)));
                let scales = _mm256_cvtepi8_epi16(_mm_loadu_si128(m.add(2).cast()));
                sv[i] = _mm512_zextsi256_si512(scales);
                // The offset: -32 Σ_k sc_k Σ16_k, in the same integers (|32 sc| <= 4096
                // fits in 16 bits).
                let off = _mm256_mullo_epi16(scales, _mm256_set1_epi16(-32));
                let off = _mm512_zextsi256_si512(off);
                for c in 0..C {
                    let sums = v.s16.add((t0 + c) * 2 * sb + 16 * g);
                    let sums = _mm512_zextsi256_si512(_mm256_loadu_si256(sums.cast()));
                    ints[i][c] = _mm512_dpwssd_epi32(ints[i][c], off, sums);
                }
            }
            prefetch::<F>(v, row, g);
        }
        k_pair::<R, C, F, 0>(v, g, r0, t0, &sv, &mut ints);
        k_pair::<R, C, F, 1>(v, g, r0, t0, &sv, &mut ints);
        k_pair::<R, C, F, 2>(v, g, r0, t0, &sv, &mut ints);
        k_pair::<R, C, F, 3>(v, g, r0, t0, &sv, &mut ints);
        for i in 0..R {
            for c in 0..C {
                let s = _mm512_set1_ps(d[i] * *v.xd.add((t0 + c) * sb + 8 * g));
                acc[i][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ints[i][c]), s, acc[i][c]);
            }
        }
    }
    for i in 0..R {
        for c in 0..C {
            *dst(i, c) = _mm512_reduce_add_ps(acc[i][c]);
        }
    }
}

/// Prefetches the weights `PREFETCH` bytes past super-block `g` of `row` (into L2).
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn prefetch<const F: u8>(v: &Views, row: usize, g: usize) {
    let group_bytes = if F == F_Q4K { Q4K_QS } else { Q6K_QS };
    let ahead =
        v.qs.wrapping_add(row * v.row_bytes + g * group_bytes + PREFETCH);
    let mut line = 0;
    while line < group_bytes {
        _mm_prefetch::<_MM_HINT_T1>(ahead.wrapping_add(line).cast());
        line += 64;
    }
}

/// Blocks `2P` and `2P + 1` of super-block `g`, every row times every token, into the
/// integer sums `ints`: each row's pair unpacked once for all tokens, each token's pair
/// loaded once for all rows.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn k_pair<const R: usize, const C: usize, const F: u8, const P: usize>(
    v: &Views,
    g: usize,
    r0: usize,
    t0: usize,
    sv: &[__m512i; R],
    ints: &mut [[__m512i; C]; R],
) {
    let mut x = [_mm512_setzero_si512(); R];
    let mut s = [_mm512_setzero_si512(); R];
    for i in 0..R {
        (x[i], s[i]) = unpack::<F, P>(v, r0 + i, g, sv[i]);
    }
    for c in 0..C {
        let at = v.xq.add((t0 + c) * v.cols + (8 * g + 2 * P) * BLOCK);
        let y = _mm512_loadu_si512(at.cast());
        for i in 0..R {
            ints[i][c] = _mm512_dpwssd_epi32(ints[i][c], _mm512_maddubs_epi16(x[i], y), s[i]);
        }
    }
}

/// Pair `P` (blocks `2P`, `2P + 1`) of super-block `g` of `row`: both blocks' codes as
/// unsigned bytes side by side, and their scales over the 16-bit lanes (from `sv`).
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
unsafe fn unpack<const F: u8, const P: usize>(
    v: &Views,
    row: usize,
    g: usize,
    sv: __m512i,
) -> (__m512i, __m512i) {
    let at = v.qs.add(row * v.row_bytes);
    let low = _mm512_set1_epi8(0x0F);
    // 16-bit lanes 0-15 (the first block) `lo`, 16-31 `hi`.
    let halves = |lo: i16, hi: i16| _mm512_mask_set1_epi16(_mm512_set1_epi16(lo), !0xFFFF, hi);
    if F == F_Q4K {
        let raw = _mm256_loadu_si256(at.add(g * Q4K_QS + P * BLOCK).cast());
        let raw = _mm512_broadcast_i64x4(raw);
        let x = _mm512_and_si512(_mm512_srlv_epi16(raw, halves(0, 4)), low);
        // One scale per block: i16 lane 2P, then 2P + 1.
        let pick = halves(2 * P as i16, 2 * P as i16 + 1);
        (x, _mm512_permutexvar_epi16(pick, sv))
    } else {
        let group = at.add(g * Q6K_QS);
        // Low nibbles: blocks 4(P/2), +1; high nibbles: the two after them.
        let raw = _mm512_loadu_si512(group.add((P / 2) * 2 * BLOCK).cast());
        let nibbles = if P.is_multiple_of(2) {
            raw
        } else {
            _mm512_srli_epi16::<4>(raw)
        };
        // Block 4h + k's two high bits are bits 2k-2k+1 of run h; to bits 4-5.
        let high = _mm256_loadu_si256(group.add((4 + P / 2) * BLOCK).cast());
        let high = _mm512_broadcast_i64x4(high);
        let high = if P.is_multiple_of(2) {
            _mm512_sllv_epi16(high, halves(4, 2))
        } else {
            _mm512_srlv_epi16(high, halves(0, 2))
        };
        let x = _mm512_or_si512(
            _mm512_and_si512(nibbles, low),
            _mm512_and_si512(high, _mm512_set1_epi8(0x30)),
        );
        // One scale per 16 values: i16 lane 4P + k over 128-bit lane k.
        let quarter = _mm512_setr_epi32(
            0, 0, 0, 0, 0x1_0001, 0x1_0001, 0x1_0001, 0x1_0001, 0x2_0002, 0x2_0002, 0x2_0002,
            0x2_0002, 0x3_0003, 0x3_0003, 0x3_0003, 0x3_0003,
        );
        let pick = _mm512_add_epi16(_mm512_set1_epi16(4 * P as i16), quarter);
        (x, _mm512_permutexvar_epi16(pick, sv))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{supported, tile_on, Isa};
    use crate::{noise, random_blocks, Format, PackedMatrix};

    #[test]
    fn wide_tiles_equal_the_256_bit_kernels() {
        let isas = supported();
        if !isas.contains(&Isa::Zmm) {
            return;
        }
        // Rows and tokens around the tile's 4 x 4 (remainders of both), one and three
        // super-blocks per row, rows from an offset into an output of a wider stride.
        for format in [Format::Q4K, Format::Q6K] {
            for cols in [256, 768] {
                for rows in 1..=13 {
                    let data = random_blocks(format, rows, cols, rows as u64);
                    let w = PackedMatrix::from_gguf(format, rows, cols, &data).expect("pack");
                    for tokens in 1..=11 {
                        let a = w.quantize_input(&noise(tokens as u64, tokens * cols), tokens);
                        let lo = rows / 3;
                        let stride = rows - lo + 1;
                        let run = |isa: Isa| {
                            let mut o = vec![f32::NAN; tokens * stride];
                            tile_on(isa, &w, &a, lo..rows, &mut o, stride);
                            o
                        };
                        let (got, want) = (run(Isa::Zmm), run(Isa::Vnni));
                        let scale = want
                            .iter()
                            .filter(|v| !v.is_nan())
                            .fold(0f32, |m, v| m.max(v.abs()));
                        for (i, (g, e)) in got.iter().zip(&want).enumerate() {
                            // The same integer sums; f32 additions in another order.
                            let same = (g.is_nan() && e.is_nan()) || (g - e).abs() <= 1e-5 * scale;
                            assert!(same, "{format:?} {rows}x{cols} t{tokens} [{i}]: {g} vs {e}");
                        }
                    }
                }
            }
        }
    }
}
