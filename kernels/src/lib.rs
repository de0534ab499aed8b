//! loglens's own compute kernels.
//!
//! On CPU, decoding one token multiplies every weight matrix by one vector, so its speed
//! is how fast the weights stream from memory and how little work each weight costs.
//! This crate multiplies GGUF block-quantized matrices (Q4_0, Q4_1, Q8_0) without
//! widening them: activations are quantized to 8 bits per 32-value block (as llama.cpp
//! does) and each block's dot product is integer arithmetic, with SIMD on x86-64
//! (AVX2, FMA, F16C; chosen at run time) and a portable path elsewhere.
//!
//! Weights are held structure-of-arrays: the packed values of every row back to back,
//! and the f16 block scales (and Q4_1 minimums) in their own arrays, so a row streams as
//! one contiguous run of bytes. Q4_0 is held as Q4_1 with minimum `-8 * d`, which is the
//! same function.
//!
//! The only `unsafe` of loglens lives in [`x86`]'s SIMD kernels; their safe entry points
//! check every bound the kernels rely on.

use std::fmt;
use std::ops::Range;

use half::f16;
use rayon::prelude::*;

pub mod attention;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use attention::{attention, attention_batch, AttentionShape, Sequence};

/// Which code runs the products on this CPU: `avx512-vnni`, `avx2` or `portable`.
pub fn cpu_path() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if let Some(name) = x86::name() {
        return name;
    }
    "portable"
}

/// Values per quantization block.
pub const BLOCK: usize = 32;

/// The GGUF block formats this crate packs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// 4-bit values, one f16 scale per block: `d * (q - 8)`.
    Q4_0,
    /// 4-bit values, f16 scale and minimum per block: `d * q + m`.
    Q4_1,
    /// 8-bit signed values, one f16 scale per block: `d * q`.
    Q8_0,
}

impl Format {
    /// Bytes of one 32-value block in a GGUF file.
    pub fn block_bytes(self) -> usize {
        match self {
            Format::Q4_0 => 18,
            Format::Q4_1 => 20,
            Format::Q8_0 => 34,
        }
    }
}

/// Why a matrix cannot be packed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackError {
    /// The row length is not a whole number of blocks.
    Columns(usize),
    /// The data is not `rows * cols / 32` blocks long.
    Length {
        /// Bytes expected.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackError::Columns(c) => write!(f, "rows of {c} values are not whole 32-value blocks"),
            PackError::Length { expected, got } => {
                write!(f, "block data is {got} bytes, the shape needs {expected}")
            }
        }
    }
}

impl std::error::Error for PackError {}

/// The packed values of a matrix.
#[derive(Debug, Clone)]
enum Values {
    /// 4-bit values of blocks in pairs: byte `k` of pair `p` holds value `k` of block
    /// `2p` in its low nibble and of block `2p + 1` in its high one (a missing last block
    /// is zero), so one 32-byte load unpacks into two whole blocks; f16 minimums per
    /// block.
    Q4 { qs: Vec<u8>, m: Vec<u16> },
    /// 8-bit values.
    Q8 { qs: Vec<i8> },
}

/// A block-quantized matrix of `rows` x `cols` (row-major, `cols` a multiple of 32),
/// ready for [`PackedMatrix::matmul`].
#[derive(Debug, Clone)]
pub struct PackedMatrix {
    rows: usize,
    cols: usize,
    /// Blocks per row.
    nb: usize,
    /// Row stride of the scale arrays: `nb` rounded up to 8, zero-padded.
    sb: usize,
    /// f16 block scales, `rows * sb`.
    d: Vec<u16>,
    values: Values,
    format: Format,
}

fn round8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

fn f16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

/// Bytes of one packed Q4 row of `nb` blocks (whole pairs).
fn q4_row_bytes(nb: usize) -> usize {
    nb.div_ceil(2) * BLOCK
}

/// The 32 values (0..16) of block `b` of row `r` of packed Q4 data.
fn q4_block(qs: &[u8], nb: usize, r: usize, b: usize) -> impl Iterator<Item = u8> + '_ {
    let pair = &qs[r * q4_row_bytes(nb) + (b / 2) * BLOCK..][..BLOCK];
    let shift = if b.is_multiple_of(2) { 0 } else { 4 };
    pair.iter().map(move |&v| (v >> shift) & 0x0F)
}

impl PackedMatrix {
    /// Packs GGUF block data of a `rows` x `cols` matrix.
    pub fn from_gguf(
        format: Format,
        rows: usize,
        cols: usize,
        data: &[u8],
    ) -> Result<Self, PackError> {
        if cols == 0 || !cols.is_multiple_of(BLOCK) {
            return Err(PackError::Columns(cols));
        }
        let nb = cols / BLOCK;
        let sb = round8(nb);
        let bb = format.block_bytes();
        let expected = rows * nb * bb;
        if data.len() != expected {
            return Err(PackError::Length {
                expected,
                got: data.len(),
            });
        }
        let mut d = vec![0u16; rows * sb];
        let values = match format {
            Format::Q4_0 | Format::Q4_1 => {
                let row_bytes = q4_row_bytes(nb);
                let mut qs = vec![0u8; rows * row_bytes];
                let mut m = vec![0u16; rows * sb];
                for r in 0..rows {
                    for b in 0..nb {
                        let blk = &data[(r * nb + b) * bb..][..bb];
                        let scale = f16_at(blk, 0);
                        d[r * sb + b] = scale;
                        let packed = if format == Format::Q4_1 {
                            m[r * sb + b] = f16_at(blk, 2);
                            &blk[4..20]
                        } else {
                            // d * (q - 8) = d * q + (-8 * d); -8 * d is exact in f16
                            // unless it overflows, which no real scale does.
                            let min = -8.0 * f16::from_bits(scale).to_f32();
                            m[r * sb + b] = f16::from_f32(min).to_bits();
                            &blk[2..18]
                        };
                        let pair = &mut qs[r * row_bytes + (b / 2) * BLOCK..][..BLOCK];
                        let shift = if b.is_multiple_of(2) { 0 } else { 4 };
                        for k in 0..16 {
                            pair[k] |= (packed[k] & 0x0F) << shift;
                            pair[k + 16] |= (packed[k] >> 4) << shift;
                        }
                    }
                }
                Values::Q4 { qs, m }
            }
            Format::Q8_0 => {
                let mut qs = Vec::with_capacity(rows * cols);
                for r in 0..rows {
                    for b in 0..nb {
                        let blk = &data[(r * nb + b) * bb..][..bb];
                        d[r * sb + b] = f16_at(blk, 0);
                        qs.extend(blk[2..34].iter().map(|&v| v as i8));
                    }
                }
                Values::Q8 { qs }
            }
        };
        Ok(Self {
            rows,
            cols,
            nb,
            sb,
            d,
            values,
            format,
        })
    }

    /// The matrices stacked by rows (same width and value layout), as one matrix: the
    /// projections of one input (query, key and value; gate and up) in one product.
    pub fn concat(parts: &[&PackedMatrix]) -> Option<Self> {
        let first = parts.first()?;
        let q4 = matches!(first.values, Values::Q4 { .. });
        if parts
            .iter()
            .any(|p| p.cols != first.cols || matches!(p.values, Values::Q4 { .. }) != q4)
        {
            return None;
        }
        let mut d = Vec::new();
        let (mut qs4, mut m, mut qs8) = (Vec::new(), Vec::new(), Vec::new());
        for p in parts {
            d.extend_from_slice(&p.d);
            match &p.values {
                Values::Q4 { qs, m: pm } => {
                    qs4.extend_from_slice(qs);
                    m.extend_from_slice(pm);
                }
                Values::Q8 { qs } => qs8.extend_from_slice(qs),
            }
        }
        let all_q4_0 = parts.iter().all(|p| p.format == Format::Q4_0);
        Some(Self {
            rows: parts.iter().map(|p| p.rows).sum(),
            cols: first.cols,
            nb: first.nb,
            sb: first.sb,
            d,
            values: if q4 {
                Values::Q4 { qs: qs4, m }
            } else {
                Values::Q8 { qs: qs8 }
            },
            format: match first.format {
                Format::Q4_0 if !all_q4_0 => Format::Q4_1,
                f => f,
            },
        })
    }

    /// Rows (output features).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns (input features).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The format it was packed from.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        let values = match &self.values {
            Values::Q4 { qs, m } => qs.len() + 2 * m.len(),
            Values::Q8 { qs } => qs.len(),
        };
        values + 2 * self.d.len()
    }

    /// Row `r` as f32 values.
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        assert!(
            r < self.rows && out.len() == self.cols,
            "row {r} out of range"
        );
        for b in 0..self.nb {
            let d = f16::from_bits(self.d[r * self.sb + b]).to_f32();
            let o = &mut out[b * BLOCK..][..BLOCK];
            match &self.values {
                Values::Q4 { qs, m } => {
                    let m = f16::from_bits(m[r * self.sb + b]).to_f32();
                    for (o, q) in o.iter_mut().zip(q4_block(qs, self.nb, r, b)) {
                        *o = d * f32::from(q) + m;
                    }
                }
                Values::Q8 { qs } => {
                    let q = &qs[(r * self.nb + b) * BLOCK..][..BLOCK];
                    for (o, &q) in o.iter_mut().zip(q) {
                        *o = d * f32::from(q);
                    }
                }
            }
        }
    }

    /// `out = x · selfᵀ` for `x.tokens()` activation rows: `out` is tokens x rows,
    /// row-major. Work is split over rows across rayon's pool (its size is the thread
    /// count); with one thread it runs inline.
    pub fn matmul(&self, x: &Activations, out: &mut [f32]) {
        assert_eq!(x.cols, self.cols, "activation width");
        assert_eq!(out.len(), x.tokens * self.rows, "output size");
        let threads = rayon::current_num_threads();
        if threads <= 1 || self.rows < 64 {
            self.tile(x, 0..self.rows, out, self.rows);
            return;
        }
        // A few chunks per thread so uneven progress evens out; multiples of 4 rows.
        let chunk = round8(self.rows.div_ceil(threads * 4)).max(16);
        if x.tokens == 1 {
            out.par_chunks_mut(chunk).enumerate().for_each(|(i, o)| {
                let r0 = i * chunk;
                self.tile(x, r0..r0 + o.len(), o, o.len());
            });
            return;
        }
        let parts: Vec<(usize, Vec<f32>)> = (0..self.rows.div_ceil(chunk))
            .into_par_iter()
            .map(|i| {
                let rows = i * chunk..((i + 1) * chunk).min(self.rows);
                let mut o = vec![0f32; x.tokens * rows.len()];
                let n = rows.len();
                self.tile(x, rows.clone(), &mut o, n);
                (rows.start, o)
            })
            .collect();
        for (r0, o) in parts {
            let n = o.len() / x.tokens;
            for t in 0..x.tokens {
                out[t * self.rows + r0..][..n].copy_from_slice(&o[t * n..][..n]);
            }
        }
    }

    /// Rows `rows` for every token: `out[t * stride + (r - rows.start)]`.
    fn tile(&self, x: &Activations, rows: Range<usize>, out: &mut [f32], stride: usize) {
        #[cfg(target_arch = "x86_64")]
        if x86::available() {
            x86::tile(self, x, rows, out, stride);
            return;
        }
        self.tile_portable(x, rows, out, stride);
    }

    /// The reference: plain integer dot products per block.
    fn tile_portable(&self, x: &Activations, rows: Range<usize>, out: &mut [f32], stride: usize) {
        let (nb, sb) = (self.nb, self.sb);
        for t in 0..x.tokens {
            let xq = &x.q[t * self.cols..][..self.cols];
            let (xd, xs) = (&x.d[t * sb..][..sb], &x.s[t * sb..][..sb]);
            for r in rows.clone() {
                let mut sum = 0f32;
                for b in 0..nb {
                    let scale = f16::from_bits(self.d[r * sb + b]).to_f32() * xd[b];
                    let y = &xq[b * BLOCK..][..BLOCK];
                    let dot: i32 = match &self.values {
                        Values::Q4 { qs, m } => {
                            sum += f16::from_bits(m[r * sb + b]).to_f32() * xs[b];
                            q4_block(qs, nb, r, b)
                                .zip(y)
                                .map(|(q, &y)| i32::from(q) * i32::from(y))
                                .sum()
                        }
                        Values::Q8 { qs } => qs[(r * nb + b) * BLOCK..][..BLOCK]
                            .iter()
                            .zip(y)
                            .map(|(&a, &b)| i32::from(a) * i32::from(b))
                            .sum(),
                    };
                    sum += scale * dot as f32;
                }
                out[t * stride + (r - rows.start)] = sum;
            }
        }
    }
}

/// Quantizes one row (whole blocks): values `round(x / d)` (ties to even) with
/// `d = max|x| / 127`; each block's `d` and `Σq`.
fn quantize_row(x: &[f32], q: &mut [i8], d: &mut [f32], sums: &mut [i32]) {
    for (b, (xs, qs)) in x
        .chunks_exact(BLOCK)
        .zip(q.chunks_exact_mut(BLOCK))
        .enumerate()
    {
        let amax = xs.iter().fold(0f32, |a, v| a.max(v.abs()));
        let scale = amax / 127.0;
        let inv = if scale != 0.0 { 1.0 / scale } else { 0.0 };
        let mut sum = 0i32;
        for (q, &v) in qs.iter_mut().zip(xs) {
            // In range by construction; a NaN becomes 0.
            *q = (v * inv).round_ties_even() as i8;
            sum += i32::from(*q);
        }
        d[b] = scale;
        sums[b] = sum;
    }
}

/// Activation rows quantized to 8 bits per 32-value block, as llama.cpp's Q8_1: values
/// `round(x / d)` with `d = max|x| / 127`, the scale `d` and the block's `d * Σq`, both
/// rounded through f16.
#[derive(Debug, Clone)]
pub struct Activations {
    tokens: usize,
    cols: usize,
    q: Vec<i8>,
    /// Scales, `tokens * sb` (zero-padded).
    d: Vec<f32>,
    /// `d * Σq` per block, `tokens * sb` (zero-padded).
    s: Vec<f32>,
}

impl Activations {
    /// Quantizes `x`, `tokens` rows of `cols` values (a multiple of 32).
    pub fn quantize(x: &[f32], tokens: usize, cols: usize) -> Self {
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
                x86::quantize_row(xr, qr, &mut scales, &mut sums);
            } else {
                quantize_row(xr, qr, &mut scales, &mut sums);
            }
            for b in 0..nb {
                d[t * sb + b] = f16::from_f32(scales[b]).to_f32();
                s[t * sb + b] = f16::from_f32(sums[b] as f32 * scales[b]).to_f32();
            }
        }
        Self {
            tokens,
            cols,
            q,
            d,
            s,
        }
    }

    /// Rows.
    pub fn tokens(&self) -> usize {
        self.tokens
    }
}

/// A deterministic pseudo-random sequence (xorshift) in [-1, 1), for the tests.
#[cfg(test)]
pub(crate) fn noise(seed: u64, n: usize) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GGUF blocks of random values and scales for `format`.
    fn blocks(format: Format, rows: usize, cols: usize, seed: u64) -> Vec<u8> {
        let n = rows * cols / BLOCK;
        let r = noise(seed, n * 3);
        let mut out = Vec::with_capacity(n * format.block_bytes());
        for b in 0..n {
            let d = f16::from_f32(0.01 + 0.05 * r[3 * b].abs()).to_bits();
            out.extend_from_slice(&d.to_le_bytes());
            let vals = noise(seed ^ (b as u64 + 1), BLOCK);
            match format {
                Format::Q4_1 => {
                    let m = f16::from_f32(-0.3 * r[3 * b + 1].abs()).to_bits();
                    out.extend_from_slice(&m.to_le_bytes());
                    out.extend(vals[..16].iter().map(|v| ((v + 1.0) * 127.99) as u8));
                }
                Format::Q4_0 => {
                    out.extend(vals[..16].iter().map(|v| ((v + 1.0) * 127.99) as u8));
                }
                Format::Q8_0 => out.extend(vals.iter().map(|v| (v * 127.0) as i8 as u8)),
            }
        }
        out
    }

    /// The plain-f32 product of the dequantized matrix with `x`.
    fn reference(w: &PackedMatrix, x: &[f32], tokens: usize) -> Vec<f32> {
        let mut row = vec![0f32; w.cols];
        let mut out = vec![0f32; tokens * w.rows];
        for r in 0..w.rows {
            w.dequantize_row(r, &mut row);
            for t in 0..tokens {
                out[t * w.rows + r] = row
                    .iter()
                    .zip(&x[t * w.cols..][..w.cols])
                    .map(|(a, b)| a * b)
                    .sum();
            }
        }
        out
    }

    #[test]
    fn q4_0_dequantizes_as_gguf_defines_it() {
        let data = blocks(Format::Q4_0, 1, 32, 7);
        let w = PackedMatrix::from_gguf(Format::Q4_0, 1, 32, &data).expect("pack");
        let mut row = vec![0f32; 32];
        w.dequantize_row(0, &mut row);
        let d = f16::from_bits(f16_at(&data, 0)).to_f32();
        for j in 0..16 {
            let q = data[2 + j];
            assert_eq!(row[j], d * (f32::from(q & 15) - 8.0));
            assert_eq!(row[j + 16], d * (f32::from(q >> 4) - 8.0));
        }
    }

    #[test]
    fn products_match_the_dequantized_matrix() {
        // Widths with and without a whole number of 8-block groups; token counts that
        // exercise the 4-token and single-token paths and their remainders.
        for format in [Format::Q4_0, Format::Q4_1, Format::Q8_0] {
            for (rows, cols, tokens) in [
                (7, 64, 1),
                (33, 576, 1),
                (9, 288, 6),
                (66, 1536, 5),
                (5, 480, 9),
            ] {
                let w = PackedMatrix::from_gguf(format, rows, cols, &blocks(format, rows, cols, 3))
                    .expect("pack");
                let x = noise(11, tokens * cols);
                let want = reference(&w, &x, tokens);
                let a = Activations::quantize(&x, tokens, cols);
                let mut slow = vec![0f32; tokens * rows];
                w.tile_portable(&a, 0..rows, &mut slow, rows);
                let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
                // Every kernel this CPU runs, and the dispatching entry point.
                let mut results = Vec::new();
                #[cfg(target_arch = "x86_64")]
                for isa in x86::supported() {
                    let mut o = vec![0f32; tokens * rows];
                    x86::tile_on(isa, &w, &a, 0..rows, &mut o, rows);
                    results.push((format!("{isa:?}"), o));
                }
                let mut o = vec![0f32; tokens * rows];
                w.matmul(&a, &mut o);
                results.push(("matmul".into(), o));
                for (path, fast) in &results {
                    for i in 0..want.len() {
                        // The SIMD and portable paths sum the same integers in another order.
                        assert!(
                            (fast[i] - slow[i]).abs() <= 1e-4 * scale,
                            "{path} {format:?} {rows}x{cols} t{tokens} [{i}]: {} vs {}",
                            fast[i],
                            slow[i]
                        );
                        // 8-bit activations cost about 1% of the output's range.
                        assert!(
                            (fast[i] - want[i]).abs() <= 0.02 * scale,
                            "{path} {format:?} {rows}x{cols} t{tokens} [{i}]: {} vs f32 {}",
                            fast[i],
                            want[i]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn stacked_matrices_give_the_stacked_products() {
        let a = PackedMatrix::from_gguf(Format::Q4_1, 5, 64, &blocks(Format::Q4_1, 5, 64, 1))
            .expect("a");
        let b = PackedMatrix::from_gguf(Format::Q4_0, 3, 64, &blocks(Format::Q4_0, 3, 64, 2))
            .expect("b");
        let c = PackedMatrix::from_gguf(Format::Q8_0, 3, 64, &blocks(Format::Q8_0, 3, 64, 2))
            .expect("c");
        assert!(
            PackedMatrix::concat(&[&a, &c]).is_none(),
            "4-bit with 8-bit"
        );
        let ab = PackedMatrix::concat(&[&a, &b]).expect("stacks");
        assert_eq!((ab.rows(), ab.cols()), (8, 64));
        let x = Activations::quantize(&noise(4, 128), 2, 64);
        let (mut oa, mut ob, mut oab) = (vec![0f32; 10], vec![0f32; 6], vec![0f32; 16]);
        a.matmul(&x, &mut oa);
        b.matmul(&x, &mut ob);
        ab.matmul(&x, &mut oab);
        for t in 0..2 {
            assert_eq!(&oab[t * 8..t * 8 + 5], &oa[t * 5..t * 5 + 5]);
            assert_eq!(&oab[t * 8 + 5..t * 8 + 8], &ob[t * 3..t * 3 + 3]);
        }
    }

    #[test]
    fn bad_shapes_are_refused() {
        assert_eq!(
            PackedMatrix::from_gguf(Format::Q4_1, 2, 48, &[0; 60]).err(),
            Some(PackError::Columns(48))
        );
        assert_eq!(
            PackedMatrix::from_gguf(Format::Q8_0, 2, 32, &[0; 67]).err(),
            Some(PackError::Length {
                expected: 68,
                got: 67
            })
        );
    }

    #[test]
    fn simd_quantization_equals_the_portable_rule() {
        let mut x = noise(5, 4 * 96);
        // Exact halves (ties), zeros, a block of zeros, extremes.
        x[32..64].fill(0.0);
        x[64..96].fill(1.0);
        x[64] = 127.0; // scale 1: the values below are exact halves
        x[65] = 2.5;
        x[66] = -3.5;
        x[67] = 0.5;
        x[100] = -1e30;
        let (mut q1, mut q2) = (vec![0i8; x.len()], vec![0i8; x.len()]);
        let (mut d1, mut d2) = (vec![0f32; 12], vec![0f32; 12]);
        let (mut s1, mut s2) = (vec![0i32; 12], vec![0i32; 12]);
        quantize_row(&x, &mut q1, &mut d1, &mut s1);
        assert_eq!(&q1[64..68], &[127, 2, -4, 0]);
        assert!(q1[32..64].iter().all(|&q| q == 0) && d1[1] == 0.0);
        #[cfg(target_arch = "x86_64")]
        if x86::available() {
            x86::quantize_row(&x, &mut q2, &mut d2, &mut s2);
            assert_eq!(q1, q2);
            assert_eq!(d1, d2);
            assert_eq!(s1, s2);
        }
    }

    #[test]
    fn quantized_activations_follow_q8_1() {
        let x: Vec<f32> = (0..32).map(|i| i as f32 - 10.0).collect();
        let a = Activations::quantize(&x, 1, 32);
        let d = 21.0 / 127.0;
        assert_eq!(a.d[0], f16::from_f32(d).to_f32());
        assert_eq!(a.q[31], 127);
        assert_eq!(a.q[0], (-10.0f32 / d).round_ties_even() as i8);
        let sum: i32 = a.q.iter().map(|&q| i32::from(q)).sum();
        assert_eq!(a.s[0], f16::from_f32(sum as f32 * d).to_f32());
        // All-zero and non-finite blocks quantize without dividing by zero.
        let z = Activations::quantize(&[0.0; 32], 1, 32);
        assert!(z.q.iter().all(|&q| q == 0) && z.d[0] == 0.0);
    }
}
