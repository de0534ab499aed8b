//! SIMD kernels for x86-64, chosen at run time: AVX-512 VNNI (256-bit, Ice Lake / Zen 4
//! and later) or AVX2 with FMA and F16C (every x86-64 server CPU since 2013); the
//! portable path runs on anything else.
//!
//! A block of 32 products is one instruction with VNNI (`vpdpbusd`: unsigned by signed
//! bytes, summed into eight 32-bit lanes) and two with AVX2 (`vpmaddubsw` into 16-bit
//! pairs, `vpmaddwd` with ones into 32-bit lanes); each block's sum is converted to f32
//! and accumulated with its scale (weight scale times activation scale, computed for
//! eight blocks at once). 4-bit values are unsigned nibbles, two blocks per 32-byte load;
//! 8-bit weights become unsigned by moving their sign onto the activations. Several rows
//! and tokens are computed together, so one loaded weight block serves several tokens
//! and one activation block several rows, and the weights are prefetched ahead of use.

use std::arch::x86_64::*;
use std::ops::Range;
use std::sync::OnceLock;

use super::{q4_row_bytes, Activations, PackedMatrix, Values, BLOCK};

/// The best instruction set this CPU offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isa {
    Vnni,
    Avx2,
}

/// The instruction sets of this CPU that have kernels here, best first.
pub(crate) fn supported() -> Vec<Isa> {
    let mut isas = Vec::new();
    if is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma")
        && is_x86_feature_detected!("f16c")
    {
        if is_x86_feature_detected!("avx512vnni") && is_x86_feature_detected!("avx512vl") {
            isas.push(Isa::Vnni);
        }
        isas.push(Isa::Avx2);
    }
    isas
}

/// The set in use: the best supported, or AVX2 when `LOGLENS_NO_VNNI` is set (to
/// measure one against the other).
fn isa() -> Option<Isa> {
    static ISA: OnceLock<Option<Isa>> = OnceLock::new();
    *ISA.get_or_init(|| {
        let isas = supported();
        if std::env::var_os("LOGLENS_NO_VNNI").is_some() {
            isas.into_iter().find(|&i| i == Isa::Avx2)
        } else {
            isas.first().copied()
        }
    })
}

/// The name of the instruction set in use.
pub(crate) fn name() -> Option<&'static str> {
    isa().map(|i| match i {
        Isa::Vnni => "avx512-vnni",
        Isa::Avx2 => "avx2",
    })
}

/// Whether the CPU runs these kernels.
pub(crate) fn available() -> bool {
    isa().is_some()
}

/// How far ahead of use weights are prefetched (into L2), in bytes: measured on the
/// default model at one thread (benches/RESULTS.md), 8 KiB into L2 beat 4 KiB into L1
/// by ~15 % and 16-32 KiB or L3 were no better.
const PREFETCH: usize = 8192;

/// Weights walked by every token of a batch before the next rows are read, in bytes:
/// well inside L2, so that a batch reads each weight from memory once.
const ROW_BLOCK_BYTES: usize = 64 * 1024;

/// Raw views of one matrix and one activation set, checked by [`tile`].
struct Views {
    qs: *const u8,
    /// Bytes of one row of values.
    row_bytes: usize,
    d: *const u16,
    /// Q4 minimums, null for Q8.
    m: *const u16,
    nb: usize,
    sb: usize,
    xq: *const i8,
    xd: *const f32,
    xs: *const f32,
    cols: usize,
}

/// Computes rows `rows` of `w` for every token of `x` into `out[t * stride + r - start]`.
pub(crate) fn tile(
    w: &PackedMatrix,
    x: &Activations,
    rows: Range<usize>,
    out: &mut [f32],
    stride: usize,
) {
    let isa = isa().expect("x86 kernels on a CPU without AVX2/FMA/F16C");
    tile_on(isa, w, x, rows, out, stride);
}

/// [`tile`] with the given instruction set, which must be [`supported`].
pub(crate) fn tile_on(
    isa: Isa,
    w: &PackedMatrix,
    x: &Activations,
    rows: Range<usize>,
    out: &mut [f32],
    stride: usize,
) {
    assert!(
        supported().contains(&isa),
        "{isa:?} is not supported by this CPU"
    );
    // Everything the kernels read or write is inside these bounds.
    assert!(rows.start <= rows.end && rows.end <= w.rows);
    assert_eq!(x.cols, w.cols);
    assert_eq!(w.cols, w.nb * BLOCK);
    assert!(x.tokens == 0 || stride >= rows.len());
    assert!(x.tokens == 0 || out.len() >= (x.tokens - 1) * stride + rows.len());
    assert!(x.q.len() >= x.tokens * x.cols);
    assert!(x.d.len() >= x.tokens * w.sb && x.s.len() >= x.tokens * w.sb);
    assert!(w.sb.is_multiple_of(8) && w.sb >= w.nb && w.d.len() >= w.rows * w.sb);
    let (qs, row_bytes, m, q4) = match &w.values {
        Values::Q4 { qs, m } => {
            let row_bytes = q4_row_bytes(w.nb);
            assert!(qs.len() >= w.rows * row_bytes && m.len() >= w.rows * w.sb);
            (qs.as_ptr(), row_bytes, m.as_ptr(), true)
        }
        Values::Q8 { qs } => {
            assert!(qs.len() >= w.rows * w.cols);
            (qs.as_ptr().cast::<u8>(), w.cols, std::ptr::null(), false)
        }
    };
    let v = Views {
        qs,
        row_bytes,
        d: w.d.as_ptr(),
        m,
        nb: w.nb,
        sb: w.sb,
        xq: x.q.as_ptr(),
        xd: x.d.as_ptr(),
        xs: x.s.as_ptr(),
        cols: x.cols,
    };
    let out = out.as_mut_ptr();
    // SAFETY: the CPU has the instruction set `isa()` detected, and every index the
    // kernels form stays within the lengths asserted above (prefetches may point past
    // the end; they do not fault).
    unsafe {
        match (isa, q4) {
            (Isa::Vnni, true) => vnni::drive::<true>(&v, rows, x.tokens, out, stride),
            (Isa::Vnni, false) => vnni::drive::<false>(&v, rows, x.tokens, out, stride),
            (Isa::Avx2, true) => avx2::drive::<true>(&v, rows, x.tokens, out, stride),
            (Isa::Avx2, false) => avx2::drive::<false>(&v, rows, x.tokens, out, stride),
        }
    }
}

/// Quantizes one row of `x` (whole blocks) into `q`, with each block's scale in `d` and
/// its `Σq` in `sums`: the portable rule (round to nearest, ties to even), eight lanes
/// at a time.
pub(crate) fn quantize_row(x: &[f32], q: &mut [i8], d: &mut [f32], sums: &mut [i32]) {
    assert!(available(), "x86 kernels on a CPU without AVX2/FMA/F16C");
    let nb = x.len() / BLOCK;
    assert!(
        x.len().is_multiple_of(BLOCK) && q.len() == x.len() && d.len() >= nb && sums.len() >= nb
    );
    // SAFETY: AVX2 is present (checked above); each block reads x[b*32..b*32+32] and
    // writes the same range of q, both within the lengths asserted above.
    unsafe {
        for b in 0..nb {
            let (scale, sum) =
                quantize_block(x.as_ptr().add(b * BLOCK), q.as_mut_ptr().add(b * BLOCK));
            d[b] = scale;
            sums[b] = sum;
        }
    }
}

/// One block: returns its scale `max|x| / 127` and `Σq`.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn quantize_block(x: *const f32, q: *mut i8) -> (f32, i32) {
    let abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFF_FFFF));
    let v = [
        _mm256_loadu_ps(x),
        _mm256_loadu_ps(x.add(8)),
        _mm256_loadu_ps(x.add(16)),
        _mm256_loadu_ps(x.add(24)),
    ];
    let m = _mm256_max_ps(
        _mm256_max_ps(_mm256_and_ps(v[0], abs), _mm256_and_ps(v[1], abs)),
        _mm256_max_ps(_mm256_and_ps(v[2], abs), _mm256_and_ps(v[3], abs)),
    );
    let m = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps::<1>(m));
    let m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    let amax = _mm_cvtss_f32(_mm_max_ss(m, _mm_shuffle_ps::<1>(m, m)));
    let scale = amax / 127.0;
    let inv = _mm256_set1_ps(if scale != 0.0 { 1.0 / scale } else { 0.0 });
    let round = |v: __m256| {
        _mm256_cvtps_epi32(_mm256_round_ps::<
            { _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC },
        >(_mm256_mul_ps(v, inv)))
    };
    let i = [round(v[0]), round(v[1]), round(v[2]), round(v[3])];
    let total = _mm256_add_epi32(_mm256_add_epi32(i[0], i[1]), _mm256_add_epi32(i[2], i[3]));
    let t = _mm_add_epi32(
        _mm256_castsi256_si128(total),
        _mm256_extracti128_si256::<1>(total),
    );
    let t = _mm_add_epi32(t, _mm_shuffle_epi32::<0b01_00_11_10>(t));
    let sum = _mm_cvtsi128_si32(_mm_add_epi32(t, _mm_shuffle_epi32::<0b10_11_00_01>(t)));
    // i32 -> i16 -> i8 packs interleave 128-bit lanes; the permute restores the order.
    let packed = _mm256_packs_epi16(
        _mm256_packs_epi32(i[0], i[1]),
        _mm256_packs_epi32(i[2], i[3]),
    );
    let ordered = _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(q.cast(), ordered);
    (scale, sum)
}

/// The attention loops with AVX2 and FMA; only made where the CPU has them.
pub(crate) struct AttentionOps(());

/// The AVX2 attention loops, where this CPU runs them.
pub(crate) fn attention_ops() -> Option<AttentionOps> {
    available().then_some(AttentionOps(()))
}

impl crate::attention::HeadOps for AttentionOps {
    fn scores(
        &self,
        q: &[f32],
        k: &[f32],
        keys: Range<usize>,
        scale: f32,
        scores: &mut [f32],
    ) -> f32 {
        let d = q.len();
        if !d.is_multiple_of(8) {
            return crate::attention::Portable.scores(q, k, keys, scale, scores);
        }
        assert!(keys.start <= keys.end && k.len() >= keys.end * d && scores.len() >= keys.end);
        // SAFETY: the CPU has AVX2 and FMA (`AttentionOps` exists only then); every row
        // read and score written lies in the slices (checked above), `d` is a multiple
        // of 8.
        unsafe { scores_avx2(q.as_ptr(), k.as_ptr(), d, keys, scale, scores.as_mut_ptr()) }
    }

    fn exp(&self, scores: &mut [f32], max: f32) -> f32 {
        // SAFETY: AVX2 and FMA as above; reads and writes stay within `scores`.
        unsafe { exp_avx2(scores, max) }
    }

    fn weighted_sum(&self, p: &[f32], v: &[f32], keys: Range<usize>, o: &mut [f32]) {
        let d = o.len();
        if !d.is_multiple_of(8) {
            return crate::attention::Portable.weighted_sum(p, v, keys, o);
        }
        assert!(keys.start <= keys.end && v.len() >= keys.end * d && p.len() >= keys.end);
        // SAFETY: AVX2 and FMA as above; rows of `v`, weights and outputs read or written
        // lie in the slices (checked above), `d` is a multiple of 8.
        unsafe { weighted_avx2(p.as_ptr(), v.as_ptr(), d, keys, o.as_mut_ptr()) }
    }
}

/// Scores of eight keys at a time (eight independent sums, so the adds overlap), then of
/// the rest one by one.
#[target_feature(enable = "avx2,fma")]
unsafe fn scores_avx2(
    q: *const f32,
    k: *const f32,
    d: usize,
    keys: Range<usize>,
    scale: f32,
    out: *mut f32,
) -> f32 {
    let vscale = _mm256_set1_ps(scale);
    let mut vmax = _mm256_set1_ps(f32::NEG_INFINITY);
    let mut j = keys.start;
    while j + 8 <= keys.end {
        let mut acc = [_mm256_setzero_ps(); 8];
        let mut c = 0;
        while c < d {
            let qv = _mm256_loadu_ps(q.add(c));
            for (r, a) in acc.iter_mut().enumerate() {
                *a = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k.add((j + r) * d + c)), *a);
            }
            c += 8;
        }
        let x = _mm256_mul_ps(sum_each(acc), vscale);
        _mm256_storeu_ps(out.add(j), x);
        vmax = _mm256_max_ps(vmax, x);
        j += 8;
    }
    let mut lanes = [0f32; 8];
    _mm256_storeu_ps(lanes.as_mut_ptr(), vmax);
    let mut max = lanes.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    while j < keys.end {
        let mut a = _mm256_setzero_ps();
        let mut c = 0;
        while c < d {
            a = _mm256_fmadd_ps(
                _mm256_loadu_ps(q.add(c)),
                _mm256_loadu_ps(k.add(j * d + c)),
                a,
            );
            c += 8;
        }
        _mm256_storeu_ps(lanes.as_mut_ptr(), a);
        let x = lanes.iter().sum::<f32>() * scale;
        *out.add(j) = x;
        max = max.max(x);
        j += 1;
    }
    max
}

/// The lane sums of eight vectors, as one vector in their order.
#[target_feature(enable = "avx2")]
unsafe fn sum_each(a: [__m256; 8]) -> __m256 {
    let h0123 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
    let h4567 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
    // Each holds its vectors' low-half sums in its low 128 bits, high-half sums above.
    _mm256_add_ps(
        _mm256_permute2f128_ps(h0123, h4567, 0x20),
        _mm256_permute2f128_ps(h0123, h4567, 0x31),
    )
}

/// `x = exp(x - max)` eight at a time; returns the sum.
#[target_feature(enable = "avx2,fma")]
unsafe fn exp_avx2(x: &mut [f32], max: f32) -> f32 {
    let vmax = _mm256_set1_ps(max);
    let mut sum = _mm256_setzero_ps();
    let mut chunks = x.chunks_exact_mut(8);
    for c in &mut chunks {
        let e = exp8(_mm256_sub_ps(_mm256_loadu_ps(c.as_ptr()), vmax));
        _mm256_storeu_ps(c.as_mut_ptr(), e);
        sum = _mm256_add_ps(sum, e);
    }
    let mut lanes = [0f32; 8];
    _mm256_storeu_ps(lanes.as_mut_ptr(), sum);
    let mut total: f32 = lanes.iter().sum();
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        lanes = [f32::NEG_INFINITY; 8];
        lanes[..rest.len()].copy_from_slice(rest);
        _mm256_storeu_ps(
            lanes.as_mut_ptr(),
            exp8(_mm256_sub_ps(_mm256_loadu_ps(lanes.as_ptr()), vmax)),
        );
        rest.copy_from_slice(&lanes[..rest.len()]);
        total += rest.iter().sum::<f32>();
    }
    total
}

/// `exp(x)` of eight values at most 0 (softmax arguments), within ~2 ulp: `x = n ln 2 + r`
/// with `|r| <= ln 2 / 2`, `e^r` by its Taylor polynomial to degree 6 (error below
/// 2e-7 there), times `2^n` built in the exponent bits. Below -87.3 (where `e^x` leaves
/// the normal floats) the result is `e^-87.3`, about 1e-38: nothing next to the
/// softmax's largest term, which is 1.
#[target_feature(enable = "avx2,fma")]
unsafe fn exp8(x: __m256) -> __m256 {
    let x = _mm256_max_ps(x, _mm256_set1_ps(-87.3));
    let n = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm256_mul_ps(
        x,
        _mm256_set1_ps(std::f32::consts::LOG2_E),
    ));
    // ln 2 in two parts, so that n * LN2_HI is exact.
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693_145_75), x);
    let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.428_606_8e-6), r);
    let mut p = _mm256_set1_ps(1.0 / 720.0);
    for c in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
    }
    let pow2 = _mm256_slli_epi32::<23>(_mm256_add_epi32(
        _mm256_cvtps_epi32(n),
        _mm256_set1_epi32(127),
    ));
    _mm256_mul_ps(p, _mm256_castsi256_ps(pow2))
}

/// `o = sum of p[j] * v_j`, with up to 64 outputs held in registers over all the keys.
#[target_feature(enable = "avx2,fma")]
unsafe fn weighted_avx2(p: *const f32, v: *const f32, d: usize, keys: Range<usize>, o: *mut f32) {
    let mut c = 0;
    while c + 64 <= d {
        weighted_cols::<8>(p, v, d, keys.clone(), c, o);
        c += 64;
    }
    while c + 32 <= d {
        weighted_cols::<4>(p, v, d, keys.clone(), c, o);
        c += 32;
    }
    while c < d {
        weighted_cols::<1>(p, v, d, keys.clone(), c, o);
        c += 8;
    }
}

/// Columns `c..c + 8 * N` of [`weighted_avx2`].
#[inline(always)]
unsafe fn weighted_cols<const N: usize>(
    p: *const f32,
    v: *const f32,
    d: usize,
    keys: Range<usize>,
    c: usize,
    o: *mut f32,
) {
    let mut acc = [_mm256_setzero_ps(); N];
    for j in keys {
        let pj = _mm256_set1_ps(*p.add(j));
        let row = v.add(j * d + c);
        for (n, a) in acc.iter_mut().enumerate() {
            *a = _mm256_fmadd_ps(pj, _mm256_loadu_ps(row.add(8 * n)), *a);
        }
    }
    for (n, a) in acc.iter().enumerate() {
        _mm256_storeu_ps(o.add(c + 8 * n), *a);
    }
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

/// One copy of the kernels per instruction set: the same code, compiled for each.
macro_rules! kernels {
    ($name:ident, $features:literal, $dot:ident) => {
        mod $name {
            use super::*;

            /// Walks the tile a block of rows at a time (so that a block's weights stay
            /// in L2 while every token passes over them): tokens four at a time over row
            /// pairs, then single tokens over rows four at a time; remainders one row
            /// at a time.
            #[target_feature(enable = $features)]
            pub(super) unsafe fn drive<const Q4: bool>(
                v: &Views,
                rows: Range<usize>,
                tokens: usize,
                out: *mut f32,
                stride: usize,
            ) {
                let at = |r: usize, t: usize| out.add(t * stride + (r - rows.start));
                let per_row = v.row_bytes + v.sb * if Q4 { 4 } else { 2 };
                let block = (ROW_BLOCK_BYTES / per_row).max(4) & !3;
                let mut start = rows.start;
                while start < rows.end {
                    let end = rows.end.min(start + block);
                    let mut t = 0;
                    while t + 4 <= tokens {
                        let mut r = start;
                        while r + 2 <= end {
                            kernel::<2, 4, Q4>(v, r, t, |i, j| at(r + i, t + j));
                            r += 2;
                        }
                        if r < end {
                            kernel::<1, 4, Q4>(v, r, t, |i, j| at(r + i, t + j));
                        }
                        t += 4;
                    }
                    while t < tokens {
                        let mut r = start;
                        while r + 4 <= end {
                            kernel::<4, 1, Q4>(v, r, t, |i, j| at(r + i, t + j));
                            r += 4;
                        }
                        while r < end {
                            kernel::<1, 1, Q4>(v, r, t, |i, j| at(r + i, t + j));
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
            unsafe fn product<const Q4: bool>(x: __m256i, y: __m256i) -> __m256i {
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
                                let p0 = product::<Q4>(x0, y0[c]);
                                acc[i][c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), s0, acc[i][c]);
                                if two {
                                    let s1 = _mm256_set1_ps(sc[i][c][j + 1]);
                                    let p1 = product::<Q4>(x1, y1[c]);
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
        }
    };
}

kernels!(avx2, "avx2,fma,f16c", dot_avx2);
kernels!(vnni, "avx2,fma,f16c,avx512vnni,avx512vl", dot_vnni);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_a_few_ulp() {
        if !available() {
            return;
        }
        let xs: Vec<f32> = (0..=20_000).map(|i| -87.0 * i as f32 / 20_000.0).collect();
        let mut got = xs.clone();
        // SAFETY: the CPU has AVX2 and FMA (checked above).
        let sum = unsafe { exp_avx2(&mut got, 0.0) };
        let mut want_sum = 0f64;
        for (&x, &e) in xs.iter().zip(&got) {
            let want = f64::from(x).exp();
            want_sum += want;
            let rel = (f64::from(e) - want).abs() / want;
            assert!(rel < 4e-7, "exp({x}) = {e}, not {want}");
        }
        assert!((f64::from(sum) - want_sum).abs() / want_sum < 1e-5);
        // Far below the float range: nothing next to a softmax's largest term, never NaN.
        let mut tiny = [-1e30f32, -200.0, f32::NEG_INFINITY];
        // SAFETY: as above.
        unsafe { exp_avx2(&mut tiny, 0.0) };
        assert!(tiny.iter().all(|&e| (0.0..1e-37).contains(&e)), "{tiny:?}");
    }
}
