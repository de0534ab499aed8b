//! SIMD kernels for x86-64, chosen at run time: AVX-512 (F, BW, VL, VNNI) with 512-bit
//! tiles for the K-quants' multi-token products (`wide.rs`) and the 256-bit VNNI kernels
//! for the rest, AVX-512 VNNI alone (256-bit, Ice Lake / Zen 4 and later) or AVX2 with
//! FMA and F16C (every x86-64 server CPU since 2013); the portable path runs on anything
//! else. This file detects the instruction set, checks
//! the bounds of every matrix product before entering the kernels (`matmul`), and holds
//! the activation quantizer and the attention loops.

use std::arch::x86_64::*;
use std::ops::Range;
use std::sync::OnceLock;

mod matmul;
mod wide;

use matmul::{Views, F_Q4, F_Q4K, F_Q5, F_Q6K, F_Q8};

use crate::pack::{q4_row_bytes, q5_row_bytes, supers, Q4K_META, Q4K_QS, Q6K_META, Q6K_QS};
use crate::{Activations, PackedMatrix, Values, BLOCK};

/// The best instruction set this CPU offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isa {
    /// AVX-512 F, BW, VL and VNNI: 512-bit K-quant prefill tiles, VNNI otherwise.
    Zmm,
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
            if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw") {
                isas.push(Isa::Zmm);
            }
            isas.push(Isa::Vnni);
        }
        isas.push(Isa::Avx2);
    }
    isas
}

/// The set in use: the best supported, AVX2 when `LOGLENS_NO_VNNI` is set, or the
/// 256-bit kernels only when `LOGLENS_NO_ZMM` is set (to measure one against the other).
fn isa() -> Option<Isa> {
    static ISA: OnceLock<Option<Isa>> = OnceLock::new();
    *ISA.get_or_init(|| {
        let isas = supported();
        if std::env::var_os("LOGLENS_NO_VNNI").is_some() {
            isas.into_iter().find(|&i| i == Isa::Avx2)
        } else if std::env::var_os("LOGLENS_NO_ZMM").is_some() {
            isas.into_iter().find(|&i| i != Isa::Zmm)
        } else {
            isas.first().copied()
        }
    })
}

/// The name of the instruction set in use.
pub(crate) fn name() -> Option<&'static str> {
    isa().map(|i| match i {
        Isa::Zmm => "avx512-zmm",
        Isa::Vnni => "avx512-vnni",
        Isa::Avx2 => "avx2",
    })
}

/// Whether the CPU runs these kernels.
pub(crate) fn available() -> bool {
    isa().is_some()
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
    let per_token = x.tokens * w.sb;
    assert!(x.d.len() >= per_token && x.s.len() >= per_token && x.sx.len() >= per_token);
    assert!(x.s16.len() >= 2 * per_token);
    assert!(w.sb.is_multiple_of(8) && w.sb >= w.nb);
    let scales = |n: usize| {
        assert!(w.d.len() >= w.rows * w.sb);
        n
    };
    let null = std::ptr::null::<u8>();
    let (f, qs, row_bytes, m, meta, meta_bytes) = match &w.values {
        Values::Q4 { qs, m } => {
            let row_bytes = q4_row_bytes(w.nb);
            assert!(qs.len() >= w.rows * row_bytes && m.len() >= w.rows * w.sb);
            let _ = scales(0);
            (F_Q4, qs.as_ptr(), row_bytes, m.as_ptr(), null, 0)
        }
        Values::Q8 { qs } => {
            assert!(qs.len() >= w.rows * w.cols);
            let _ = scales(0);
            let qs = qs.as_ptr().cast::<u8>();
            (F_Q8, qs, w.cols, std::ptr::null(), null, 0)
        }
        Values::Q5 { qs } => {
            let row_bytes = q5_row_bytes(w.nb);
            assert!(qs.len() >= w.rows * row_bytes);
            let _ = scales(0);
            (F_Q5, qs.as_ptr(), row_bytes, std::ptr::null(), null, 0)
        }
        Values::Q4K { qs, meta } | Values::Q6K { qs, meta } => {
            let q4k = matches!(w.values, Values::Q4K { .. });
            let (group, group_meta) = if q4k {
                (Q4K_QS, Q4K_META)
            } else {
                (Q6K_QS, Q6K_META)
            };
            // Whole super-blocks: every group the kernel walks has eight blocks.
            assert!(w.nb.is_multiple_of(8));
            let (row_bytes, meta_bytes) = (supers(w.nb) * group, supers(w.nb) * group_meta);
            assert!(qs.len() >= w.rows * row_bytes && meta.len() >= w.rows * meta_bytes);
            let f = if q4k { F_Q4K } else { F_Q6K };
            (
                f,
                qs.as_ptr(),
                row_bytes,
                std::ptr::null(),
                meta.as_ptr(),
                meta_bytes,
            )
        }
    };
    let d_bytes = if w.d.is_empty() { 0 } else { 2 * w.sb };
    let m_bytes = if m.is_null() { 0 } else { 2 * w.sb };
    let v = Views {
        qs,
        row_bytes,
        d: w.d.as_ptr(),
        m,
        meta,
        meta_bytes,
        per_row: row_bytes + meta_bytes + d_bytes + m_bytes,
        nb: w.nb,
        sb: w.sb,
        xq: x.q.as_ptr(),
        xd: x.d.as_ptr(),
        xs: x.s.as_ptr(),
        sx: x.sx.as_ptr(),
        s16: x.s16.as_ptr(),
        cols: x.cols,
    };
    let out = out.as_mut_ptr();
    // SAFETY: the CPU has the instruction set `isa` (checked above), and every index the
    // kernels form stays within the lengths asserted above (prefetches may point past
    // the end; they do not fault).
    unsafe {
        match f {
            F_Q4 => run::<F_Q4>(isa, &v, rows, x.tokens, out, stride),
            F_Q8 => run::<F_Q8>(isa, &v, rows, x.tokens, out, stride),
            F_Q5 => run::<F_Q5>(isa, &v, rows, x.tokens, out, stride),
            F_Q4K => run::<F_Q4K>(isa, &v, rows, x.tokens, out, stride),
            _ => run::<F_Q6K>(isa, &v, rows, x.tokens, out, stride),
        }
    }
}

/// The kernels of layout `F` for `isa`.
///
/// # Safety
/// The CPU has `isa`; `v` and `out` are valid for the rows and tokens given.
unsafe fn run<const F: u8>(
    isa: Isa,
    v: &Views,
    rows: Range<usize>,
    tokens: usize,
    out: *mut f32,
    stride: usize,
) {
    match isa {
        Isa::Zmm => wide::drive::<F>(v, rows, tokens, out, stride),
        Isa::Vnni => matmul::vnni::drive::<F>(v, rows, tokens, out, stride),
        Isa::Avx2 => matmul::avx2::drive::<F>(v, rows, tokens, out, stride),
    }
}

/// Quantizes one row of `x` (whole blocks) into `q`, with each block's scale in `d` and
/// its `Σq` in `sums`; each run of `group` blocks shares the scale of its largest value.
/// The portable rule (round to nearest, ties to even), eight lanes at a time.
pub(crate) fn quantize_row(x: &[f32], q: &mut [i8], d: &mut [f32], sums: &mut [i32], group: usize) {
    assert!(available(), "x86 kernels on a CPU without AVX2/FMA/F16C");
    let nb = x.len() / BLOCK;
    assert!(
        x.len().is_multiple_of(BLOCK) && q.len() == x.len() && d.len() >= nb && sums.len() >= nb
    );
    assert!(group > 0);
    // SAFETY: AVX2 is present (checked above); each block reads x[b*32..b*32+32] and
    // writes the same range of q, both within the lengths asserted above.
    unsafe {
        let mut b0 = 0;
        while b0 < nb {
            let run = b0..nb.min(b0 + group);
            let amax = run
                .clone()
                .map(|b| block_amax(x.as_ptr().add(b * BLOCK)))
                .fold(0f32, f32::max);
            let scale = amax / 127.0;
            let inv = if scale != 0.0 { 1.0 / scale } else { 0.0 };
            for b in run {
                sums[b] = quantize_block(
                    x.as_ptr().add(b * BLOCK),
                    q.as_mut_ptr().add(b * BLOCK),
                    inv,
                );
                d[b] = scale;
            }
            b0 += group;
        }
    }
}

/// The largest magnitude of 32 values (a NaN counts as nothing).
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn block_amax(x: *const f32) -> f32 {
    let abs = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFF_FFFF));
    let v = |k: usize| _mm256_and_ps(_mm256_loadu_ps(x.add(8 * k)), abs);
    let m = _mm256_max_ps(_mm256_max_ps(v(0), v(1)), _mm256_max_ps(v(2), v(3)));
    let m = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps::<1>(m));
    let m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    _mm_cvtss_f32(_mm_max_ss(m, _mm_shuffle_ps::<1>(m, m)))
}

/// One block: `q = round(x * inv)`; returns `Σq`.
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn quantize_block(x: *const f32, q: *mut i8, inv: f32) -> i32 {
    let inv = _mm256_set1_ps(inv);
    let round = |k: usize| {
        _mm256_cvtps_epi32(_mm256_round_ps::<
            { _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC },
        >(_mm256_mul_ps(_mm256_loadu_ps(x.add(8 * k)), inv)))
    };
    let i = [round(0), round(1), round(2), round(3)];
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
    sum
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
