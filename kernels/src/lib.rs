//! loglens's own compute kernels.
//!
//! On CPU, decoding one token multiplies every weight matrix by one vector, so its speed
//! is how fast the weights stream from memory and how little work each weight costs.
//! This crate multiplies GGUF block-quantized matrices (Q4_0, Q4_1, Q5_0, Q8_0 and the
//! K-quants Q4_K and Q6_K, which with Q5_0 make up Q4_K_M files) without widening them:
//! activations are quantized to 8 bits (a scale per 32-value block as llama.cpp's Q8_1,
//! or per 256-value super-block for the K-quants as its Q8_K) and each block's dot
//! product is integer arithmetic, with SIMD on x86-64 (AVX-512 VNNI or AVX2 with FMA and
//! F16C, chosen at run time) and a portable path elsewhere, which every SIMD path is
//! tested against.
//!
//! Weights are held structure-of-arrays (`pack.rs` describes each layout): the packed
//! values of every row back to back, and the scales apart, so a row streams as one
//! contiguous run of bytes. Q4_0 is held as Q4_1 with minimum `-8 * d`, which is the
//! same function; Q5_0's fifth bits and Q6_K's two high bits sit beside the 4-bit parts
//! they complete, so one load unpacks them.
//!
//! The only `unsafe` of loglens lives in this crate: [`x86`]'s SIMD kernels, whose safe
//! entry points check every bound the kernels rely on, and the thread team ([`team`])
//! that can run one token's products, whose chunks write disjoint rows of one output.

use std::fmt;
use std::ops::Range;

use rayon::prelude::*;

pub use activations::Activations;

mod activations;
pub mod attention;
mod pack;
mod portable;
mod team;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use attention::{attention, attention_batch, AttentionShape, Sequence};

/// Which code runs the products on this CPU: `avx512-zmm` (512-bit K-quant tiles, 256-bit
/// VNNI otherwise), `avx512-vnni`, `avx2` or `portable`.
pub fn cpu_path() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if let Some(name) = x86::name() {
        return name;
    }
    "portable"
}

/// Values per quantization block (and per activation block).
pub const BLOCK: usize = 32;

/// Values per K-quant super-block.
pub const SUPER_BLOCK: usize = 256;

/// The GGUF block formats this crate packs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// 4-bit values, one f16 scale per 32: `d * (q - 8)`.
    Q4_0,
    /// 4-bit values, f16 scale and minimum per 32: `d * q + m`.
    Q4_1,
    /// 5-bit values, one f16 scale per 32: `d * (q - 16)`.
    Q5_0,
    /// 8-bit signed values, one f16 scale per 32: `d * q`.
    Q8_0,
    /// 4-bit values in super-blocks of 256 with an f16 scale and minimum, and 6-bit
    /// scales and minimums per 32: `(d * sc) * q - (dmin * m)`.
    Q4K,
    /// 6-bit values in super-blocks of 256 with an f16 scale, and 8-bit signed scales per
    /// 16: `(d * sc) * (q - 32)`.
    Q6K,
}

impl Format {
    /// Bytes of one block (of [`Format::block_values`] values) in a GGUF file.
    pub fn block_bytes(self) -> usize {
        match self {
            Format::Q4_0 => 18,
            Format::Q4_1 => 20,
            Format::Q5_0 => 22,
            Format::Q8_0 => 34,
            Format::Q4K => 144,
            Format::Q6K => 210,
        }
    }

    /// Values per block in a GGUF file: 32, or 256 for the K-quants.
    pub fn block_values(self) -> usize {
        match self {
            Format::Q4K | Format::Q6K => SUPER_BLOCK,
            _ => BLOCK,
        }
    }
}

/// Why a matrix cannot be packed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackError {
    /// The row length is not a whole number of the format's blocks.
    Columns(usize),
    /// The data is not `rows * cols / block_values` blocks long.
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
            PackError::Columns(c) => write!(f, "rows of {c} values are not whole blocks"),
            PackError::Length { expected, got } => {
                write!(f, "block data is {got} bytes, the shape needs {expected}")
            }
        }
    }
}

impl std::error::Error for PackError {}

/// The packed values of a matrix; [`pack`] documents each layout.
#[derive(Debug, Clone)]
enum Values {
    /// Q4_0 / Q4_1: nibbles of blocks in pairs; f16 minimums per block.
    Q4 { qs: Vec<u8>, m: Vec<u16> },
    /// Q8_0: signed bytes.
    Q8 { qs: Vec<i8> },
    /// Q5_0: groups of eight blocks, fifth bits then nibble pairs.
    Q5 { qs: Vec<u8> },
    /// Q4_K: nibble pairs; per super-block scale, minimum and their 6-bit factors.
    Q4K { qs: Vec<u8>, meta: Vec<u8> },
    /// Q6_K: the file's low and high bits as stored; per super-block scale and the
    /// 16 signed factors.
    Q6K { qs: Vec<u8>, meta: Vec<u8> },
}

/// A block-quantized matrix of `rows` x `cols` (row-major, `cols` a multiple of 32, of
/// 256 for the K-quants), ready for [`PackedMatrix::matmul`].
#[derive(Debug, Clone)]
pub struct PackedMatrix {
    rows: usize,
    cols: usize,
    /// 32-value blocks per row.
    nb: usize,
    /// Row stride of the per-block scale arrays: `nb` rounded up to 8, zero-padded.
    sb: usize,
    /// f16 block scales, `rows * sb` (Q4_0, Q4_1, Q5_0, Q8_0; empty for the K-quants,
    /// whose scales are in their metadata).
    d: Vec<u16>,
    values: Values,
    format: Format,
}

fn round8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

impl PackedMatrix {
    /// The matrices stacked by rows (same width and format; Q4_0 stacks with Q4_1), as
    /// one matrix: the projections of one input (query, key and value; gate and up) in
    /// one product.
    pub fn concat(parts: &[&PackedMatrix]) -> Option<Self> {
        let first = parts.first()?;
        let family = |f: Format| match f {
            Format::Q4_0 | Format::Q4_1 => Format::Q4_1,
            f => f,
        };
        if parts
            .iter()
            .any(|p| p.cols != first.cols || family(p.format) != family(first.format))
        {
            return None;
        }
        let mut d = Vec::new();
        let (mut qs, mut extra, mut qs8) = (Vec::new(), Vec::new(), Vec::new());
        for p in parts {
            d.extend_from_slice(&p.d);
            match &p.values {
                Values::Q4 { qs: q, m } => {
                    qs.extend_from_slice(q);
                    extra.extend(m.iter().flat_map(|v| v.to_le_bytes()));
                }
                Values::Q8 { qs: q } => qs8.extend_from_slice(q),
                Values::Q5 { qs: q } => qs.extend_from_slice(q),
                Values::Q4K { qs: q, meta } | Values::Q6K { qs: q, meta } => {
                    qs.extend_from_slice(q);
                    extra.extend_from_slice(meta);
                }
            }
        }
        let values = match first.values {
            Values::Q4 { .. } => Values::Q4 {
                qs,
                m: extra
                    .chunks_exact(2)
                    .map(|b| u16::from_le_bytes([b[0], b[1]]))
                    .collect(),
            },
            Values::Q8 { .. } => Values::Q8 { qs: qs8 },
            Values::Q5 { .. } => Values::Q5 { qs },
            Values::Q4K { .. } => Values::Q4K { qs, meta: extra },
            Values::Q6K { .. } => Values::Q6K { qs, meta: extra },
        };
        let all_same = parts.iter().all(|p| p.format == first.format);
        Some(Self {
            rows: parts.iter().map(|p| p.rows).sum(),
            cols: first.cols,
            nb: first.nb,
            sb: first.sb,
            d,
            values,
            format: if all_same {
                first.format
            } else {
                family(first.format)
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
            Values::Q5 { qs } => qs.len(),
            Values::Q4K { qs, meta } | Values::Q6K { qs, meta } => qs.len() + meta.len(),
        };
        values + 2 * self.d.len()
    }

    /// Row `r` as f32 values, bit for bit as ggml dequantizes it.
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        assert!(
            r < self.rows && out.len() == self.cols,
            "row {r} out of range"
        );
        portable::dequantize_row(self, r, out);
    }

    /// Blocks of the input sharing one scale: 8 (a super-block) for the K-quants.
    fn input_group(&self) -> usize {
        match self.format {
            Format::Q4K | Format::Q6K => SUPER_BLOCK / BLOCK,
            _ => 1,
        }
    }

    /// `x` (`tokens` rows of [`PackedMatrix::cols`] values) quantized as this matrix's
    /// products take it.
    pub fn quantize_input(&self, x: &[f32], tokens: usize) -> Activations {
        Activations::quantize_grouped(x, tokens, self.cols, self.input_group())
    }

    /// `out = x · selfᵀ` for `x.tokens()` activation rows (from
    /// [`PackedMatrix::quantize_input`]): `out` is tokens x rows, row-major. Work is split
    /// over rows across as many threads as rayon's pool has (with one thread it runs
    /// inline): on rayon's pool, or for one token's product (a decode step) on the
    /// kernels' own thread team when `LOGLENS_KERNEL_TEAM=1` ([`team`]).
    pub fn matmul(&self, x: &Activations, out: &mut [f32]) {
        assert_eq!(x.cols, self.cols, "activation width");
        assert_eq!(
            x.group,
            self.input_group(),
            "activations quantized for another format"
        );
        assert_eq!(out.len(), x.tokens * self.rows, "output size");
        let threads = rayon::current_num_threads();
        if threads <= 1 || self.rows < 64 {
            self.tile(x, 0..self.rows, out, self.rows);
            return;
        }
        // A few chunks per thread so uneven progress evens out; multiples of 4 rows.
        let chunk = round8(self.rows.div_ceil(threads * 4)).max(16);
        if x.tokens == 1 && team::enabled() {
            if let Some(team) = team::Team::get(threads) {
                if self.matmul_on_team(team, x, out, chunk) {
                    return;
                }
            }
        }
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

    /// One token's product on the kernels' thread team ([`team`]), in chunks of `chunk`
    /// rows; `false` (nothing written) when the team is not available to this call.
    fn matmul_on_team(
        &self,
        team: &team::Team,
        x: &Activations,
        out: &mut [f32],
        chunk: usize,
    ) -> bool {
        debug_assert!(x.tokens == 1 && out.len() == self.rows && chunk > 0);
        let n = self.rows.div_ceil(chunk);
        if n > team::MAX_CHUNKS {
            return false;
        }
        let out = SharedOut(out.as_mut_ptr(), out.len());
        let rows = self.rows;
        team.run(n, &|i| {
            let r = i * chunk..((i + 1) * chunk).min(rows);
            // SAFETY: `out` has one value per row (one token); chunk `i` covers rows
            // `r`, which no other chunk does, and each chunk runs once, while `out` is
            // borrowed by this call.
            let o = unsafe { out.rows(r.clone()) };
            self.tile(x, r, o, o.len());
        })
    }

    /// Rows `rows` for every token: `out[t * stride + (r - rows.start)]`.
    fn tile(&self, x: &Activations, rows: Range<usize>, out: &mut [f32], stride: usize) {
        #[cfg(target_arch = "x86_64")]
        if x86::available() {
            x86::tile(self, x, rows, out, stride);
            return;
        }
        portable::tile(self, x, rows, out, stride);
    }
}

/// A single token's output row shared by the chunks of a product, each of which writes
/// rows no other chunk does.
struct SharedOut(*mut f32, usize);

// SAFETY: the chunks that share it write disjoint ranges (see `SharedOut::rows`).
unsafe impl Sync for SharedOut {}

impl SharedOut {
    /// The values of rows `r`.
    ///
    /// # Safety
    /// No other live slice covers any of `r`.
    #[allow(clippy::mut_from_ref)]
    unsafe fn rows(&self, r: std::ops::Range<usize>) -> &mut [f32] {
        assert!(r.start <= r.end && r.end <= self.1, "rows out of range");
        std::slice::from_raw_parts_mut(self.0.add(r.start), r.len())
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
/// Random GGUF blocks of `format` whose scales are normal, varied f16 values (and
/// every other byte random): the fields ggml's definitions read, exercised whole.
pub(crate) fn random_blocks(format: Format, rows: usize, cols: usize, seed: u64) -> Vec<u8> {
    let n = rows * cols / format.block_values();
    let bb = format.block_bytes();
    let bytes = noise(seed, n * bb);
    let mut out: Vec<u8> = bytes.iter().map(|v| ((v + 1.0) * 127.99) as u8).collect();
    let scales = noise(seed ^ 0x5555, 2 * n);
    // Q4_K's scales are never negative; the others' are when a block's extreme value
    // is positive (ggml divides it by the most negative code).
    let f = |v: f32, lo: f32| half::f16::from_f32(lo + 0.05 * v.abs()).to_le_bytes();
    let signed =
        |v: f32, lo: f32| half::f16::from_f32((lo + 0.05 * v.abs()) * v.signum()).to_le_bytes();
    for (b, blk) in out.chunks_exact_mut(bb).enumerate() {
        let (s0, s1) = (scales[2 * b], scales[2 * b + 1]);
        match format {
            Format::Q4_0 | Format::Q5_0 | Format::Q8_0 => {
                blk[..2].copy_from_slice(&signed(s0, 0.001));
            }
            Format::Q4_1 => {
                blk[..2].copy_from_slice(&f(s0, 0.001));
                blk[2..4].copy_from_slice(&(-half::f16::from_f32(0.2 * s1.abs())).to_le_bytes());
            }
            Format::Q4K => {
                blk[..2].copy_from_slice(&f(s0, 0.0001));
                blk[2..4].copy_from_slice(&f(s1, 0.0001));
            }
            Format::Q6K => blk[208..].copy_from_slice(&signed(s0, 0.0001)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activations::quantize_row;
    use half::f16;

    const ALL: [Format; 6] = [
        Format::Q4_0,
        Format::Q4_1,
        Format::Q5_0,
        Format::Q8_0,
        Format::Q4K,
        Format::Q6K,
    ];

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

    /// Every product path this CPU runs on `w` and `x`: each SIMD instruction set, the
    /// dispatching entry point, and last the portable reference.
    fn products(w: &PackedMatrix, a: &Activations) -> Vec<(String, Vec<f32>)> {
        let (rows, tokens) = (w.rows, a.tokens);
        let mut results = Vec::new();
        #[cfg(target_arch = "x86_64")]
        for isa in x86::supported() {
            let mut o = vec![0f32; tokens * rows];
            x86::tile_on(isa, w, a, 0..rows, &mut o, rows);
            results.push((format!("{isa:?}"), o));
        }
        let mut o = vec![0f32; tokens * rows];
        w.matmul(a, &mut o);
        results.push(("matmul".into(), o));
        let mut o = vec![0f32; tokens * rows];
        portable::tile(w, a, 0..rows, &mut o, rows);
        results.push(("portable".into(), o));
        results
    }

    #[test]
    fn products_match_the_dequantized_matrix() {
        // Widths with and without a whole number of 8-block groups (Q5_0: an odd number
        // of blocks too); token counts that exercise the 4-token and single-token paths
        // and their remainders; enough rows for the parallel split.
        for format in ALL {
            let shapes: &[(usize, usize, usize)] = if format.block_values() == SUPER_BLOCK {
                &[
                    (7, 256, 1),
                    (33, 512, 1),
                    (9, 768, 6),
                    (70, 1536, 5),
                    (5, 256, 9),
                ]
            } else {
                &[
                    (7, 64, 1),
                    (33, 576, 1),
                    (9, 288, 6),
                    (66, 1536, 5),
                    (5, 480, 9),
                    (70, 896, 3),
                    (3, 96, 2),
                ]
            };
            for &(rows, cols, tokens) in shapes {
                let data = random_blocks(format, rows, cols, 3);
                let w = PackedMatrix::from_gguf(format, rows, cols, &data).expect("pack");
                let x = noise(11, tokens * cols);
                let want = reference(&w, &x, tokens);
                let a = w.quantize_input(&x, tokens);
                let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
                let results = products(&w, &a);
                let (_, slow) = results.last().expect("the portable path");
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
    fn single_token_products_on_a_team_equal_the_portable_path() {
        // A team of its own (the process's is sized by the first product), with chunks
        // that do and do not divide the rows.
        let team = team::Team::start(3).expect("a team of three");
        for format in ALL {
            let cols = if format.block_values() == SUPER_BLOCK {
                512
            } else {
                96
            };
            let rows = 203;
            let data = random_blocks(format, rows, cols, 7);
            let w = PackedMatrix::from_gguf(format, rows, cols, &data).expect("pack");
            let a = w.quantize_input(&noise(13, cols), 1);
            let mut want = vec![0f32; rows];
            portable::tile(&w, &a, 0..rows, &mut want, rows);
            for chunk in [16, 40, 208] {
                let mut got = vec![f32::NAN; rows];
                assert!(w.matmul_on_team(&team, &a, &mut got, chunk));
                let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
                for (i, (g, e)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        (g - e).abs() <= 1e-4 * scale,
                        "{format:?} chunk {chunk} row {i}: {g} vs {e}"
                    );
                }
            }
        }
    }

    #[test]
    fn extreme_codes_do_not_saturate() {
        // Every weight code at its maximum against activations at +-127: the 16-bit
        // pair sums of AVX2 must not clip (Q6_K: 2 * 63 * 127).
        for format in [Format::Q5_0, Format::Q4K, Format::Q6K] {
            let (rows, cols) = (4, 512);
            let mut data = random_blocks(format, rows, cols, 9);
            for blk in data.chunks_exact_mut(format.block_bytes()) {
                match format {
                    Format::Q5_0 => blk[2..].fill(0xFF),
                    Format::Q4K => blk[16..].fill(0xFF),
                    _ => blk[..192].fill(0xFF),
                }
            }
            let w = PackedMatrix::from_gguf(format, rows, cols, &data).expect("pack");
            let x: Vec<f32> = (0..cols)
                .map(|i| if i % 3 == 0 { -1.0 } else { 1.0 })
                .collect();
            let want = reference(&w, &x, 1);
            let a = w.quantize_input(&x, 1);
            let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
            for (path, got) in products(&w, &a) {
                for (g, e) in got.iter().zip(&want) {
                    assert!(
                        (g - e).abs() <= 1e-3 * scale,
                        "{path} {format:?}: {g} vs {e}"
                    );
                }
            }
        }
    }

    #[test]
    fn stacked_matrices_give_the_stacked_products() {
        let pack = |f: Format, rows: usize, cols: usize, seed: u64| {
            PackedMatrix::from_gguf(f, rows, cols, &random_blocks(f, rows, cols, seed))
                .expect("pack")
        };
        let c = pack(Format::Q8_0, 3, 256, 2);
        let k6 = pack(Format::Q6K, 3, 256, 2);
        let k4 = pack(Format::Q4K, 3, 512, 2);
        assert!(PackedMatrix::concat(&[&pack(Format::Q4_1, 5, 256, 1), &c]).is_none());
        assert!(PackedMatrix::concat(&[&pack(Format::Q4K, 2, 256, 1), &k6]).is_none());
        assert!(PackedMatrix::concat(&[&pack(Format::Q4K, 2, 256, 1), &k4]).is_none());
        for (a, b) in [
            (pack(Format::Q4_1, 5, 256, 1), pack(Format::Q4_0, 3, 256, 2)),
            (pack(Format::Q5_0, 5, 288, 1), pack(Format::Q5_0, 3, 288, 2)),
            (pack(Format::Q4K, 5, 256, 1), pack(Format::Q4K, 3, 256, 2)),
            (pack(Format::Q6K, 5, 256, 1), k6.clone()),
        ] {
            let cols = a.cols();
            let ab = PackedMatrix::concat(&[&a, &b]).expect("stacks");
            assert_eq!((ab.rows(), ab.cols()), (8, cols));
            assert_eq!(ab.bytes(), a.bytes() + b.bytes());
            let x = a.quantize_input(&noise(4, 2 * cols), 2);
            let (mut oa, mut ob, mut oab) = (vec![0f32; 10], vec![0f32; 6], vec![0f32; 16]);
            a.matmul(&x, &mut oa);
            b.matmul(&x, &mut ob);
            ab.matmul(&x, &mut oab);
            for t in 0..2 {
                assert_eq!(&oab[t * 8..t * 8 + 5], &oa[t * 5..t * 5 + 5]);
                assert_eq!(&oab[t * 8 + 5..t * 8 + 8], &ob[t * 3..t * 3 + 3]);
            }
        }
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
        // Scales per block, per 8 blocks (and a shorter last run), per 5 blocks.
        for group in [1, 8, 5] {
            let (mut q1, mut q2) = (vec![0i8; x.len()], vec![0i8; x.len()]);
            let (mut d1, mut d2) = (vec![0f32; 12], vec![0f32; 12]);
            let (mut s1, mut s2) = (vec![0i32; 12], vec![0i32; 12]);
            quantize_row(&x, &mut q1, &mut d1, &mut s1, group);
            if group == 1 {
                assert_eq!(&q1[64..68], &[127, 2, -4, 0]);
                assert!(q1[32..64].iter().all(|&q| q == 0) && d1[1] == 0.0);
            } else {
                // One scale per run, from its largest value.
                assert!(d1[..group].iter().all(|&d| d == 1e30 / 127.0));
                for run in d1[group..].chunks(group) {
                    assert!(run.iter().all(|&d| d == run[0]) && run[0] < 1.0 / 127.0 * 127.0);
                }
            }
            #[cfg(target_arch = "x86_64")]
            if x86::available() {
                x86::quantize_row(&x, &mut q2, &mut d2, &mut s2, group);
                assert_eq!(q1, q2);
                assert_eq!(d1, d2);
                assert_eq!(s1, s2);
            }
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
        // Unrounded sums, and sums of each 16, for the formats that need them exact.
        assert_eq!(f64::from(a.sx[0]), f64::from(a.d[0]) * f64::from(sum));
        let half: i32 = a.q[..16].iter().map(|&q| i32::from(q)).sum();
        assert_eq!(
            (i32::from(a.s16[0]), i32::from(a.s16[1])),
            (half, sum - half)
        );
        assert!(a.s16[2..].iter().all(|&s| s == 0), "padding is zero");
        // All-zero and non-finite blocks quantize without dividing by zero.
        let z = Activations::quantize(&[0.0; 32], 1, 32);
        assert!(z.q.iter().all(|&q| q == 0) && z.d[0] == 0.0);
        // K-quant inputs: one f32 scale per 256 values.
        let x: Vec<f32> = (0..512)
            .map(|i| {
                if i < 256 {
                    (i % 21) as f32 - 10.0
                } else {
                    (i % 201) as f32 - 100.0
                }
            })
            .collect();
        let w =
            PackedMatrix::from_gguf(Format::Q4K, 1, 512, &random_blocks(Format::Q4K, 1, 512, 1))
                .expect("pack");
        let a = w.quantize_input(&x, 1);
        assert!(a.d[..8].iter().all(|&d| d == 10.0 / 127.0));
        assert!(a.d[8..16].iter().all(|&d| d == 100.0 / 127.0));
        assert_eq!((a.q[0], a.q[256]), (-127, -57)); // -10 and -45 of 100
    }
}
