//! The matrix-product kernels for x86-64, compiled once per instruction set from the same
//! code (a macro): AVX-512 VNNI (256-bit) and AVX2 with FMA and F16C.
//!
//! A block of 32 products is one instruction with VNNI (`vpdpbusd`: unsigned by signed
//! bytes, summed into eight 32-bit lanes) and two with AVX2 (`vpmaddubsw` into 16-bit
//! pairs, `vpmaddwd` into 32-bit lanes); each block's sum is converted to f32 and
//! accumulated with its scale (weight scale times activation scale, computed for eight
//! blocks at once). Weights are unsigned codes: 4-bit nibbles (two blocks per 32-byte
//! load), Q5_0's and Q6_K's high bits or'ed in from one more load; their offsets
//! (Q4_0's 8, Q5_0's 16, Q6_K's 32) and minimums come off through the activations'
//! block sums, once per block rather than per value. Q8_0's signed weights become
//! unsigned by moving their sign onto the activations. Q6_K's scales, one per 16
//! values, multiply the 16-bit pair sums (`vpmaddwd` with the scales instead of ones),
//! so both instruction sets use AVX2's two steps there.
//!
//! Several rows and tokens are computed together, so one loaded weight block serves
//! several tokens and one activation block several rows, and the weights are
//! prefetched ahead of use.

use std::arch::x86_64::*;
use std::ops::Range;

use crate::pack::{Q4K_META, Q4K_QS, Q5_GROUP, Q6K_META, Q6K_QS};
use crate::BLOCK;

/// Value layouts, one kernel each: Q4_0/Q4_1 nibble pairs, Q8_0 bytes, Q5_0, Q4_K, Q6_K.
pub(super) const F_Q4: u8 = 0;
pub(super) const F_Q8: u8 = 1;
pub(super) const F_Q5: u8 = 2;
pub(super) const F_Q4K: u8 = 3;
pub(super) const F_Q6K: u8 = 4;

/// How far ahead of use weights are prefetched (into L2), in bytes: measured on the
/// default model at one thread (benches/RESULTS.md), 8 KiB into L2 beat 4 KiB into L1
/// by ~15 % and 16-32 KiB or L3 were no better.
pub(super) const PREFETCH: usize = 8192;

/// Weights walked by every token of a batch before the next rows are read, in bytes:
/// well inside L2, so that a batch reads each weight from memory once.
pub(super) const ROW_BLOCK_BYTES: usize = 64 * 1024;

/// Raw views of one matrix and one activation set, checked by `x86::tile_on`.
pub(super) struct Views {
    pub(super) qs: *const u8,
    /// Bytes of one row of values.
    pub(super) row_bytes: usize,
    /// f16 block scales (Q4, Q8, Q5_0), `sb` per row.
    pub(super) d: *const u16,
    /// Q4 minimums, `sb` per row; null otherwise.
    pub(super) m: *const u16,
    /// K-quant metadata, `meta_bytes` per row; null otherwise.
    pub(super) meta: *const u8,
    pub(super) meta_bytes: usize,
    /// Bytes of everything one row reads (values, scales, metadata).
    pub(super) per_row: usize,
    pub(super) nb: usize,
    pub(super) sb: usize,
    pub(super) xq: *const i8,
    pub(super) xd: *const f32,
    /// Block sums rounded through f16 (Q4).
    pub(super) xs: *const f32,
    /// Block sums exact (Q5_0, Q4_K).
    pub(super) sx: *const f32,
    /// Sums of 16 (Q6_K).
    pub(super) s16: *const i16,
    pub(super) cols: usize,
}

/// Eight 32-bit sums of four products of unsigned `x` and signed `y` bytes each.
#[target_feature(enable = "avx2")]
unsafe fn dot_avx2(x: __m256i, y: __m256i) -> __m256i {
    _mm256_madd_epi16(_mm256_maddubs_epi16(x, y), _mm256_set1_epi16(1))
}

/// The same in one VNNI instruction (no 16-bit saturation either).
#[target_feature(enable = "avx2,avx512vnni,avx512vl")]
unsafe fn dot_vnni(x: __m256i, y: __m256i) -> __m256i {
    _mm256_dpbusd_epi32(_mm256_setzero_si256(), x, y)
}

/// `acc` plus, in each 32-bit lane, the sum of its two 16-bit products of `p` and `s`.
#[target_feature(enable = "avx2")]
unsafe fn scaled_avx2(acc: __m256i, p: __m256i, s: __m256i) -> __m256i {
    _mm256_add_epi32(acc, _mm256_madd_epi16(p, s))
}

/// The same in one VNNI instruction.
#[target_feature(enable = "avx2,avx512vnni,avx512vl")]
unsafe fn scaled_vnni(acc: __m256i, p: __m256i, s: __m256i) -> __m256i {
    _mm256_dpwssd_epi32(acc, p, s)
}

/// One copy of the kernels per instruction set: the same code, compiled for each.
macro_rules! kernels {
    ($name:ident, $features:literal, $dot:ident, $scaled:ident) => {
        pub(super) mod $name {
            use super::*;

            /// Walks the tile a block of rows at a time (so that a block's weights stay
            /// in L2 while every token passes over them): tokens four at a time over row
            /// pairs, then single tokens over rows four at a time; remainders one row
            /// at a time.
            #[target_feature(enable = $features)]
            pub(in super::super) unsafe fn drive<const F: u8>(
                v: &Views,
                rows: Range<usize>,
                tokens: usize,
                out: *mut f32,
                stride: usize,
            ) {
                let at = |r: usize, t: usize| out.add(t * stride + (r - rows.start));
                let block = (ROW_BLOCK_BYTES / v.per_row).max(4) & !3;
                let mut start = rows.start;
                while start < rows.end {
                    let end = rows.end.min(start + block);
                    let mut t = 0;
                    while t + 4 <= tokens {
                        let mut r = start;
                        while r + 2 <= end {
                            tile::<2, 4, F>(v, r, t, |i, j| at(r + i, t + j));
                            r += 2;
                        }
                        if r < end {
                            tile::<1, 4, F>(v, r, t, |i, j| at(r + i, t + j));
                        }
                        t += 4;
                    }
                    while t < tokens {
                        let mut r = start;
                        while r + 4 <= end {
                            tile::<4, 1, F>(v, r, t, |i, j| at(r + i, t + j));
                            r += 4;
                        }
                        while r < end {
                            tile::<1, 1, F>(v, r, t, |i, j| at(r + i, t + j));
                            r += 1;
                        }
                        t += 1;
                    }
                    start = end;
                }
            }

            /// One block's eight partial sums: weights `x` (Q4 nibbles, or Q8 signed
            /// bytes) times activations `y`.
            #[target_feature(enable = $features)]
            unsafe fn product_q4_q8<const Q4: bool>(x: __m256i, y: __m256i) -> __m256i {
                if Q4 {
                    $dot(x, y)
                } else {
                    $dot(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x))
                }
            }

            /// Horizontal sum of eight lanes.
            #[target_feature(enable = $features)]
            unsafe fn hsum(v: __m256) -> f32 {
                let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
                let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
                _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps::<1>(s, s)))
            }

            /// `R` rows from `r0` times `C` tokens from `t0`; `dst(i, j)` is where row
            /// `r0 + i` of token `t0 + j` goes.
            #[target_feature(enable = $features)]
            unsafe fn kernel<const R: usize, const C: usize, const Q4: bool>(
                v: &Views,
                r0: usize,
                t0: usize,
                dst: impl Fn(usize, usize) -> *mut f32,
            ) {
                let (nb, sb) = (v.nb, v.sb);
                let low = _mm256_set1_epi8(0x0F);
                let mut acc = [[_mm256_setzero_ps(); C]; R];
                // Weight scale x activation scale of eight blocks, per row and token.
                let mut sc = [[[0f32; 8]; C]; R];
                // Bytes of values per group of eight blocks.
                let group_bytes = if Q4 { 4 * BLOCK } else { 8 * BLOCK };
                let mut g = 0;
                while g < nb {
                    for i in 0..R {
                        let row = r0 + i;
                        let dx = _mm256_cvtph_ps(_mm_loadu_si128(v.d.add(row * sb + g).cast()));
                        for c in 0..C {
                            let dy = _mm256_loadu_ps(v.xd.add((t0 + c) * sb + g));
                            _mm256_storeu_ps(sc[i][c].as_mut_ptr(), _mm256_mul_ps(dx, dy));
                        }
                        let ahead =
                            v.qs.wrapping_add(row * v.row_bytes + (g / 8) * group_bytes + PREFETCH);
                        let mut line = 0;
                        while line < group_bytes {
                            _mm_prefetch::<_MM_HINT_T1>(ahead.wrapping_add(line).cast());
                            line += 64;
                        }
                    }
                    // Two blocks per step: a Q4 pair unpacks from one load.
                    let n = (nb - g).min(8);
                    let mut j = 0;
                    while j < n {
                        let b = g + j;
                        let two = j + 1 < n;
                        let mut y0 = [_mm256_setzero_si256(); C];
                        let mut y1 = [_mm256_setzero_si256(); C];
                        for c in 0..C {
                            let at = v.xq.add((t0 + c) * v.cols + b * BLOCK);
                            y0[c] = _mm256_loadu_si256(at.cast());
                            if two {
                                y1[c] = _mm256_loadu_si256(at.add(BLOCK).cast());
                            }
                        }
                        for i in 0..R {
                            let at = v.qs.add((r0 + i) * v.row_bytes);
                            let (x0, x1) = if Q4 {
                                let raw = _mm256_loadu_si256(at.add((b / 2) * BLOCK).cast());
                                (
                                    _mm256_and_si256(raw, low),
                                    _mm256_and_si256(_mm256_srli_epi16::<4>(raw), low),
                                )
                            } else if two {
                                (
                                    _mm256_loadu_si256(at.add(b * BLOCK).cast()),
                                    _mm256_loadu_si256(at.add((b + 1) * BLOCK).cast()),
                                )
                            } else {
                                (
                                    _mm256_loadu_si256(at.add(b * BLOCK).cast()),
                                    _mm256_setzero_si256(),
                                )
                            };
                            for c in 0..C {
                                let s0 = _mm256_set1_ps(sc[i][c][j]);
                                let p0 = product_q4_q8::<Q4>(x0, y0[c]);
                                acc[i][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), s0, acc[i][c]);
                                if two {
                                    let s1 = _mm256_set1_ps(sc[i][c][j + 1]);
                                    let p1 = product_q4_q8::<Q4>(x1, y1[c]);
                                    acc[i][c] =
                                        _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), s1, acc[i][c]);
                                }
                            }
                        }
                        j += 2;
                    }
                    g += 8;
                }
                for i in 0..R {
                    // Q4 minimums: Σ_b m_b (d_y Σq_y)_b over the zero-padded scale arrays.
                    let mut mins = [_mm256_setzero_ps(); C];
                    if Q4 {
                        let mut g = 0;
                        while g < sb {
                            let m =
                                _mm256_cvtph_ps(_mm_loadu_si128(v.m.add((r0 + i) * sb + g).cast()));
                            for (c, mins) in mins.iter_mut().enumerate() {
                                let s = _mm256_loadu_ps(v.xs.add((t0 + c) * sb + g));
                                *mins = _mm256_fmadd_ps(m, s, *mins);
                            }
                            g += 8;
                        }
                    }
                    for c in 0..C {
                        *dst(i, c) = hsum(_mm256_add_ps(acc[i][c], mins[c]));
                    }
                }
            }

            /// One tile of `R` rows by `C` tokens in format `F`.
            #[target_feature(enable = $features)]
            unsafe fn tile<const R: usize, const C: usize, const F: u8>(
                v: &Views,
                r0: usize,
                t0: usize,
                dst: impl Fn(usize, usize) -> *mut f32,
            ) {
                match F {
                    F_Q4 => kernel::<R, C, true>(v, r0, t0, dst),
                    F_Q8 => kernel::<R, C, false>(v, r0, t0, dst),
                    F_Q5 => q5_kernel::<R, C>(v, r0, t0, dst),
                    _ => k_kernel::<R, C, F>(v, r0, t0, dst),
                }
            }

            /// Q5_0, a group of eight blocks at a time: per row, the blocks' scales and
            /// minimums (`-16 d`), then the blocks a pair at a time from one load of
            /// nibbles and one of fifth bits. Each activation block is loaded once for
            /// all `R` rows, each weight block unpacked once for all `C` tokens.
            #[target_feature(enable = $features)]
            unsafe fn q5_kernel<const R: usize, const C: usize>(
                v: &Views,
                r0: usize,
                t0: usize,
                dst: impl Fn(usize, usize) -> *mut f32,
            ) {
                let (nb, sb) = (v.nb, v.sb);
                let mut acc = [[_mm256_setzero_ps(); C]; R];
                // Weight scale x activation scale of the group's blocks, per row and token.
                let mut sc = [[[0f32; 8]; C]; R];
                let mut g = 0;
                while 8 * g < nb {
                    for i in 0..R {
                        let row = r0 + i;
                        let dx = _mm256_cvtph_ps(_mm_loadu_si128(v.d.add(row * sb + 8 * g).cast()));
                        let mx = _mm256_mul_ps(dx, _mm256_set1_ps(-16.0));
                        for c in 0..C {
                            let t = t0 + c;
                            let dy = _mm256_loadu_ps(v.xd.add(t * sb + 8 * g));
                            _mm256_storeu_ps(sc[i][c].as_mut_ptr(), _mm256_mul_ps(dx, dy));
                            let s = _mm256_loadu_ps(v.sx.add(t * sb + 8 * g));
                            acc[i][c] = _mm256_fmadd_ps(mx, s, acc[i][c]);
                        }
                        prefetch(v, row, g, Q5_GROUP);
                    }
                    let n = (nb - 8 * g).min(8);
                    q5_pair::<R, C, 0>(v, g, n, r0, t0, &sc, &mut acc);
                    q5_pair::<R, C, 1>(v, g, n, r0, t0, &sc, &mut acc);
                    q5_pair::<R, C, 2>(v, g, n, r0, t0, &sc, &mut acc);
                    q5_pair::<R, C, 3>(v, g, n, r0, t0, &sc, &mut acc);
                    g += 1;
                }
                for i in 0..R {
                    for c in 0..C {
                        *dst(i, c) = hsum(acc[i][c]);
                    }
                }
            }

            /// Prefetches the weights `PREFETCH` bytes past group `g` of `row`.
            #[target_feature(enable = $features)]
            unsafe fn prefetch(v: &Views, row: usize, g: usize, group_bytes: usize) {
                let ahead =
                    v.qs.wrapping_add(row * v.row_bytes + g * group_bytes + PREFETCH);
                let mut line = 0;
                while line < group_bytes {
                    _mm_prefetch::<_MM_HINT_T1>(ahead.wrapping_add(line).cast());
                    line += 64;
                }
            }

            /// Blocks `2P` and `2P + 1` of Q5_0 group `g` (of `n` blocks). One token:
            /// row by row, both blocks at once; several: block by block, each row's
            /// weights unpacked once for all tokens.
            #[allow(clippy::too_many_arguments)]
            #[target_feature(enable = $features)]
            unsafe fn q5_pair<const R: usize, const C: usize, const P: usize>(
                v: &Views,
                g: usize,
                n: usize,
                r0: usize,
                t0: usize,
                sc: &[[[f32; 8]; C]; R],
                acc: &mut [[__m256; C]; R],
            ) {
                let (a, b) = (2 * P, 2 * P + 1);
                if a >= n {
                    return;
                }
                let zero = _mm256_setzero_si256();
                let y = |c: usize, j: usize| {
                    _mm256_loadu_si256(v.xq.add((t0 + c) * v.cols + (8 * g + j) * BLOCK).cast())
                };
                let term = |p: __m256i, s: f32, acc: __m256| {
                    _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(s), acc)
                };
                if C == 1 {
                    let ya = y(0, a);
                    let yb = if b < n { y(0, b) } else { zero };
                    for i in 0..R {
                        let (xa, xb, _, _) = unpack::<F_Q5, P>(v, r0 + i, g, zero);
                        let mut s = term($dot(xa, ya), sc[i][0][a], acc[i][0]);
                        if b < n {
                            s = term($dot(xb, yb), sc[i][0][b], s);
                        }
                        acc[i][0] = s;
                    }
                    return;
                }
                let mut xa = [zero; R];
                let mut xb = [zero; R];
                for i in 0..R {
                    (xa[i], xb[i], _, _) = unpack::<F_Q5, P>(v, r0 + i, g, zero);
                }
                for (j, x) in [(a, &xa), (b, &xb)] {
                    if j >= n {
                        break;
                    }
                    for c in 0..C {
                        let yc = y(c, j);
                        for i in 0..R {
                            acc[i][c] = term($dot(x[i], yc), sc[i][c][j], acc[i][c]);
                        }
                    }
                }
            }

            /// Q4_K and Q6_K, a super-block at a time. The activations share one scale
            /// per super-block, so each block's product times its integer scale adds up
            /// in 32-bit lanes (`vpmaddubsw`, then `vpmaddwd` and an add, or VNNI's
            /// `vpdpwssd`), converted to f32 once per super-block. Minimums (Q4_K) and
            /// the offset of 32 (Q6_K) come off through the activations' block sums.
            #[target_feature(enable = $features)]
            unsafe fn k_kernel<const R: usize, const C: usize, const F: u8>(
                v: &Views,
                r0: usize,
                t0: usize,
                dst: impl Fn(usize, usize) -> *mut f32,
            ) {
                let sb = v.sb;
                let mut acc = [[_mm256_setzero_ps(); C]; R];
                // Super-block scale x activation scale, per row and token.
                let mut scale = [[0f32; C]; R];
                // Per row, the super-block's scales: Q4_K's 8 bytes in both 128-bit
                // lanes, Q6_K's 16 as i16, even ones in the low lane and odd ones high.
                let mut sv = [_mm256_setzero_si256(); R];
                for g in 0..v.nb / 8 {
                    for i in 0..R {
                        let row = r0 + i;
                        let d = if F == F_Q4K {
                            let m = v.meta.add(row * v.meta_bytes + g * Q4K_META);
                            let both =
                                _mm_cvtph_ps(_mm_cvtsi32_si128(m.cast::<i32>().read_unaligned()));
                            sv[i] = _mm256_broadcastsi128_si256(_mm_loadl_epi64(m.add(4).cast()));
                            let mins = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(
                                m.add(12).cast(),
                            )));
                            // -(dmin * m): an exact product, as ggml forms it.
                            let neg_min = _mm256_set1_ps(-_mm_cvtss_f32(_mm_movehdup_ps(both)));
                            let mx = _mm256_mul_ps(neg_min, mins);
                            for c in 0..C {
                                let s = _mm256_loadu_ps(v.sx.add((t0 + c) * sb + 8 * g));
                                acc[i][c] = _mm256_fmadd_ps(mx, s, acc[i][c]);
                            }
                            _mm_cvtss_f32(both)
                        } else {
                            let m = v.meta.add(row * v.meta_bytes + g * Q6K_META);
                            let bits = i32::from(m.cast::<u16>().read_unaligned());
                            let d = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(bits)));
                            let s6 = _mm_loadu_si128(m.add(2).cast());
                            // Even scales in the low lane, odd in the high, as i16.
                            let split =
                                _mm_set_epi64x(0x0F0D_0B09_0705_0301, 0x0E0C_0A08_0604_0200);
                            sv[i] = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(s6, split));
                            let s16 = _mm256_cvtepi8_epi16(s6);
                            // -32 d dy (sc_2b Σ_2b + sc_2b+1 Σ_2b+1) over the 8 blocks.
                            for c in 0..C {
                                let t = t0 + c;
                                let sums =
                                    _mm256_loadu_si256(v.s16.add(t * 2 * sb + 16 * g).cast());
                                let off = _mm256_cvtepi32_ps(_mm256_madd_epi16(s16, sums));
                                let k = _mm256_set1_ps(-32.0 * d * *v.xd.add(t * sb + 8 * g));
                                acc[i][c] = _mm256_fmadd_ps(off, k, acc[i][c]);
                            }
                            d
                        };
                        for c in 0..C {
                            scale[i][c] = d * *v.xd.add((t0 + c) * sb + 8 * g);
                        }
                        prefetch(v, row, g, if F == F_Q4K { Q4K_QS } else { Q6K_QS });
                    }
                    let mut ints = [[_mm256_setzero_si256(); C]; R];
                    k_pair::<R, C, F, 0>(v, g, r0, t0, &sv, &mut ints);
                    k_pair::<R, C, F, 1>(v, g, r0, t0, &sv, &mut ints);
                    k_pair::<R, C, F, 2>(v, g, r0, t0, &sv, &mut ints);
                    k_pair::<R, C, F, 3>(v, g, r0, t0, &sv, &mut ints);
                    for i in 0..R {
                        for c in 0..C {
                            let s = _mm256_set1_ps(scale[i][c]);
                            acc[i][c] =
                                _mm256_fmadd_ps(_mm256_cvtepi32_ps(ints[i][c]), s, acc[i][c]);
                        }
                    }
                }
                for i in 0..R {
                    for c in 0..C {
                        *dst(i, c) = hsum(acc[i][c]);
                    }
                }
            }

            /// `acc + Σ pairs of p * s` in 32-bit lanes.
            #[target_feature(enable = $features)]
            unsafe fn add_scaled(acc: __m256i, p: __m256i, s: __m256i) -> __m256i {
                $scaled(acc, p, s)
            }

            /// The two blocks of pair `P` of K-quant super-block `g`, every row times
            /// every token, into the integer sums `ints`.
            #[target_feature(enable = $features)]
            unsafe fn k_pair<const R: usize, const C: usize, const F: u8, const P: usize>(
                v: &Views,
                g: usize,
                r0: usize,
                t0: usize,
                sv: &[__m256i; R],
                ints: &mut [[__m256i; C]; R],
            ) {
                // Q6_K's nibble bytes pair a block with the one two after it.
                let (a, b) = if F == F_Q6K {
                    (4 * (P / 2) + P % 2, 4 * (P / 2) + P % 2 + 2)
                } else {
                    (2 * P, 2 * P + 1)
                };
                let y = |c: usize, j: usize| {
                    _mm256_loadu_si256(v.xq.add((t0 + c) * v.cols + (8 * g + j) * BLOCK).cast())
                };
                if C == 1 {
                    let (ya, yb) = (y(0, a), y(0, b));
                    for i in 0..R {
                        let (xa, xb, sa, sbb) = unpack::<F, P>(v, r0 + i, g, sv[i]);
                        let s = add_scaled(ints[i][0], _mm256_maddubs_epi16(xa, ya), sa);
                        ints[i][0] = add_scaled(s, _mm256_maddubs_epi16(xb, yb), sbb);
                    }
                    return;
                }
                let zero = _mm256_setzero_si256();
                let (mut xa, mut xb, mut sa, mut sbb) =
                    ([zero; R], [zero; R], [zero; R], [zero; R]);
                for i in 0..R {
                    (xa[i], xb[i], sa[i], sbb[i]) = unpack::<F, P>(v, r0 + i, g, sv[i]);
                }
                for (j, x, s) in [(a, &xa, &sa), (b, &xb, &sbb)] {
                    for c in 0..C {
                        let yc = y(c, j);
                        for i in 0..R {
                            ints[i][c] =
                                add_scaled(ints[i][c], _mm256_maddubs_epi16(x[i], yc), s[i]);
                        }
                    }
                }
            }

            /// Pair `P` of group `g` of `row`: both blocks' codes as unsigned bytes, and
            /// for the K-quants each block's scales over the 16-bit lanes (from `sv`).
            #[target_feature(enable = $features)]
            unsafe fn unpack<const F: u8, const P: usize>(
                v: &Views,
                row: usize,
                g: usize,
                sv: __m256i,
            ) -> (__m256i, __m256i, __m256i, __m256i) {
                let at = v.qs.add(row * v.row_bytes);
                let low = _mm256_set1_epi8(0x0F);
                let zero = _mm256_setzero_si256();
                match F {
                    F_Q5 => {
                        let group = at.add(g * Q5_GROUP);
                        let raw = _mm256_loadu_si256(group.add(BLOCK + P * BLOCK).cast());
                        let fifth = _mm256_loadu_si256(group.cast());
                        // Bit j of each byte (block j) to bit 4.
                        let (fa, fb) = match P {
                            0 => (_mm256_slli_epi16::<4>(fifth), _mm256_slli_epi16::<3>(fifth)),
                            1 => (_mm256_slli_epi16::<2>(fifth), _mm256_slli_epi16::<1>(fifth)),
                            2 => (fifth, _mm256_srli_epi16::<1>(fifth)),
                            _ => (_mm256_srli_epi16::<2>(fifth), _mm256_srli_epi16::<3>(fifth)),
                        };
                        let bit = _mm256_set1_epi8(0x10);
                        let xa =
                            _mm256_or_si256(_mm256_and_si256(raw, low), _mm256_and_si256(fa, bit));
                        let xb = _mm256_or_si256(
                            _mm256_and_si256(_mm256_srli_epi16::<4>(raw), low),
                            _mm256_and_si256(fb, bit),
                        );
                        (xa, xb, zero, zero)
                    }
                    F_Q4K => {
                        let raw = _mm256_loadu_si256(at.add(g * Q4K_QS + P * BLOCK).cast());
                        let xa = _mm256_and_si256(raw, low);
                        let xb = _mm256_and_si256(_mm256_srli_epi16::<4>(raw), low);
                        // Scale byte k zero-extended into every 16-bit lane.
                        let spread = |k: usize| {
                            _mm256_shuffle_epi8(sv, _mm256_set1_epi16((0x8000 | k) as i16))
                        };
                        (xa, xb, spread(2 * P), spread(2 * P + 1))
                    }
                    _ => {
                        let group = at.add(g * Q6K_QS);
                        let raw = _mm256_loadu_si256(group.add(P * BLOCK).cast());
                        let high = _mm256_loadu_si256(group.add((4 + P / 2) * BLOCK).cast());
                        // Two-bit fields P % 2 and P % 2 + 2 to bits 4-5.
                        let (ha, hb) = if P % 2 == 0 {
                            (_mm256_slli_epi16::<4>(high), high)
                        } else {
                            (_mm256_slli_epi16::<2>(high), _mm256_srli_epi16::<2>(high))
                        };
                        let two = _mm256_set1_epi8(0x30);
                        let xa =
                            _mm256_or_si256(_mm256_and_si256(raw, low), _mm256_and_si256(ha, two));
                        let xb = _mm256_or_si256(
                            _mm256_and_si256(_mm256_srli_epi16::<4>(raw), low),
                            _mm256_and_si256(hb, two),
                        );
                        // Block k's scales 2k (values 0-15, low lane) and 2k + 1 (16-31,
                        // high lane): 16-bit lane k of each half of `sv`.
                        let spread = |k: usize| {
                            let pick = (((2 * k + 1) << 8) | (2 * k)) as i16;
                            _mm256_shuffle_epi8(sv, _mm256_set1_epi16(pick))
                        };
                        let k = 4 * (P / 2) + P % 2;
                        (xa, xb, spread(k), spread(k + 2))
                    }
                }
            }
        }
    };
}

kernels!(avx2, "avx2,fma,f16c", dot_avx2, scaled_avx2);
kernels!(
    vnni,
    "avx2,fma,f16c,avx512vnni,avx512vl",
    dot_vnni,
    scaled_vnni
);
