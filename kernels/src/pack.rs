//! Packing GGUF block data into the layouts the kernels read: each row's values back to
//! back (so a row streams as one run of bytes), scales apart. The GGUF block layouts are
//! those of ggml (`ggml-common.h`); a "block" below is 32 values, a "group" eight blocks
//! (one K-quant super-block of 256).
//!
//! - **Q4_0 / Q4_1**: blocks in pairs of 32 bytes: byte `k` of pair `p` holds value `k` of
//!   block `2p` in its low nibble and of block `2p + 1` in its high one (a missing last
//!   block is zero), so one 32-byte load unpacks into two whole blocks. f16 scales and
//!   minimums per block in their own arrays; Q4_0's minimum is `-8 * d`.
//! - **Q8_0**: the signed bytes; f16 scales apart.
//! - **Q5_0**: per group, 32 bytes of fifth bits (bit `j` of byte `k`: value `k` of the
//!   group's block `j`), then the group's nibble pairs as Q4 (the last group may be
//!   shorter). f16 scales apart; the offset `-16 * d` is applied as a minimum.
//! - **Q4_K**: the file's 128 bytes of nibbles per super-block, which are already pairs
//!   (bytes `32p..32p + 32` hold blocks `2p` and `2p + 1`); 20 bytes of metadata per
//!   super-block in a second array: f16 `d` and `dmin`, then the 6-bit scales and the
//!   6-bit minimums of the eight blocks, one byte each.
//! - **Q6_K**: the file's 128 bytes of low nibbles and 64 bytes of high bits per
//!   super-block as stored: bytes `32p..32p + 32` of the nibbles hold block
//!   `4 (p / 2) + p % 2` (low) and the block two after it (high); bytes `32h..32h + 32` of
//!   the high bits hold blocks `4h..4h + 4`, two bits each from the least significant.
//!   18 bytes of metadata per super-block: f16 `d`, then the 16 signed scales (one per 16
//!   values).

use crate::{round8, Format, PackError, PackedMatrix, Values, BLOCK, SUPER_BLOCK};

/// Bytes of a full Q5_0 group: fifth bits and four nibble pairs.
pub(crate) const Q5_GROUP: usize = 5 * BLOCK;
/// Bytes of values of a Q4_K super-block.
pub(crate) const Q4K_QS: usize = 4 * BLOCK;
/// Bytes of metadata of a Q4_K super-block.
pub(crate) const Q4K_META: usize = 20;
/// Bytes of values of a Q6_K super-block.
pub(crate) const Q6K_QS: usize = 6 * BLOCK;
/// Bytes of metadata of a Q6_K super-block.
pub(crate) const Q6K_META: usize = 18;

/// Bytes of one packed Q4 row of `nb` blocks (whole pairs).
pub(crate) fn q4_row_bytes(nb: usize) -> usize {
    nb.div_ceil(2) * BLOCK
}

/// Bytes of one packed Q5_0 row of `nb` blocks: full groups, then a shorter last one.
pub(crate) fn q5_row_bytes(nb: usize) -> usize {
    let rest = match nb % 8 {
        0 => 0,
        r => BLOCK + r.div_ceil(2) * BLOCK,
    };
    (nb / 8) * Q5_GROUP + rest
}

pub(crate) fn f16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

/// The 6-bit scale and minimum of block `j` of a Q4_K super-block from its 12 packed
/// bytes: blocks 0-3 in the low six bits of bytes `j` and `j + 4`; blocks 4-7 in the
/// nibbles of byte `j + 4` with their top two bits in the top bits of bytes `j - 4` and
/// `j`.
fn q4k_scale_min(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}

impl PackedMatrix {
    /// Packs GGUF block data of a `rows` x `cols` matrix.
    pub fn from_gguf(
        format: Format,
        rows: usize,
        cols: usize,
        data: &[u8],
    ) -> Result<Self, PackError> {
        let per_block = format.block_values();
        if cols == 0 || !cols.is_multiple_of(per_block) {
            return Err(PackError::Columns(cols));
        }
        let nb = cols / BLOCK;
        let sb = round8(nb);
        let expected = rows * (cols / per_block) * format.block_bytes();
        if data.len() != expected {
            return Err(PackError::Length {
                expected,
                got: data.len(),
            });
        }
        let (d, values) = match format {
            Format::Q4_0 | Format::Q4_1 => pack_q4(format, rows, nb, data),
            Format::Q8_0 => pack_q8(rows, nb, data),
            Format::Q5_0 => pack_q5(rows, nb, data),
            Format::Q4K => (Vec::new(), pack_q4k(data)),
            Format::Q6K => (Vec::new(), pack_q6k(data)),
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
}

fn pack_q4(format: Format, rows: usize, nb: usize, data: &[u8]) -> (Vec<u16>, Values) {
    let (sb, bb) = (round8(nb), format.block_bytes());
    let row_bytes = q4_row_bytes(nb);
    let mut d = vec![0u16; rows * sb];
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
                // d * (q - 8) = d * q + (-8 * d); -8 * d is exact in f16 unless it
                // overflows, which no real scale does.
                let min = -8.0 * half::f16::from_bits(scale).to_f32();
                m[r * sb + b] = half::f16::from_f32(min).to_bits();
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
    (d, Values::Q4 { qs, m })
}

fn pack_q8(rows: usize, nb: usize, data: &[u8]) -> (Vec<u16>, Values) {
    let sb = round8(nb);
    let bb = Format::Q8_0.block_bytes();
    let mut d = vec![0u16; rows * sb];
    let mut qs = Vec::with_capacity(rows * nb * BLOCK);
    for r in 0..rows {
        for b in 0..nb {
            let blk = &data[(r * nb + b) * bb..][..bb];
            d[r * sb + b] = f16_at(blk, 0);
            qs.extend(blk[2..34].iter().map(|&v| v as i8));
        }
    }
    (d, Values::Q8 { qs })
}

/// Q5_0 blocks are f16 `d`, 4 bytes of fifth bits (bit `k` for value `k`, little
/// endian), then 16 bytes of nibbles: value `k` low, value `k + 16` high.
fn pack_q5(rows: usize, nb: usize, data: &[u8]) -> (Vec<u16>, Values) {
    let sb = round8(nb);
    let bb = Format::Q5_0.block_bytes();
    let row_bytes = q5_row_bytes(nb);
    let mut d = vec![0u16; rows * sb];
    let mut qs = vec![0u8; rows * row_bytes];
    for r in 0..rows {
        for b in 0..nb {
            let blk = &data[(r * nb + b) * bb..][..bb];
            d[r * sb + b] = f16_at(blk, 0);
            let fifth = u32::from_le_bytes([blk[2], blk[3], blk[4], blk[5]]);
            let (group, j) = (r * row_bytes + (b / 8) * Q5_GROUP, b % 8);
            for (k, byte) in qs[group..][..BLOCK].iter_mut().enumerate() {
                *byte |= (((fifth >> k) & 1) as u8) << j;
            }
            let pair = &mut qs[group + BLOCK + (j / 2) * BLOCK..][..BLOCK];
            let shift = 4 * (j % 2);
            for k in 0..16 {
                pair[k] |= (blk[6 + k] & 0x0F) << shift;
                pair[k + 16] |= (blk[6 + k] >> 4) << shift;
            }
        }
    }
    (d, Values::Q5 { qs })
}

/// Q4_K super-blocks are f16 `d` and `dmin`, 12 bytes of packed 6-bit scales and
/// minimums, then 128 bytes of nibbles.
fn pack_q4k(data: &[u8]) -> Values {
    let bb = Format::Q4K.block_bytes();
    let n = data.len() / bb;
    let mut qs = Vec::with_capacity(n * Q4K_QS);
    let mut meta = Vec::with_capacity(n * Q4K_META);
    for blk in data.chunks_exact(bb) {
        qs.extend_from_slice(&blk[16..144]);
        meta.extend_from_slice(&blk[0..4]);
        let (sc, m): (Vec<u8>, Vec<u8>) = (0..8).map(|j| q4k_scale_min(j, &blk[4..16])).unzip();
        meta.extend(sc);
        meta.extend(m);
    }
    Values::Q4K { qs, meta }
}

/// Q6_K super-blocks are 128 bytes of low nibbles, 64 of high bits, 16 signed scales,
/// then f16 `d`.
fn pack_q6k(data: &[u8]) -> Values {
    let bb = Format::Q6K.block_bytes();
    let n = data.len() / bb;
    let mut qs = Vec::with_capacity(n * Q6K_QS);
    let mut meta = Vec::with_capacity(n * Q6K_META);
    for blk in data.chunks_exact(bb) {
        qs.extend_from_slice(&blk[..Q6K_QS]);
        meta.extend_from_slice(&blk[208..210]);
        meta.extend_from_slice(&blk[192..208]);
    }
    Values::Q6K { qs, meta }
}

/// The super-blocks per row of a K-quant matrix of `nb` blocks.
pub(crate) fn supers(nb: usize) -> usize {
    nb * BLOCK / SUPER_BLOCK
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random_blocks;
    use half::f16;

    /// ggml's dequantization of one GGUF block, written from its definition.
    fn ggml_block(format: Format, blk: &[u8], y: &mut [f32]) {
        let h = |at: usize| f16::from_bits(f16_at(blk, at)).to_f32();
        match format {
            Format::Q4_0 => {
                for j in 0..16 {
                    y[j] = (f32::from(blk[2 + j] & 15) - 8.0) * h(0);
                    y[j + 16] = (f32::from(blk[2 + j] >> 4) - 8.0) * h(0);
                }
            }
            Format::Q4_1 => {
                for j in 0..16 {
                    y[j] = f32::from(blk[4 + j] & 15) * h(0) + h(2);
                    y[j + 16] = f32::from(blk[4 + j] >> 4) * h(0) + h(2);
                }
            }
            Format::Q8_0 => {
                for j in 0..32 {
                    y[j] = f32::from(blk[2 + j] as i8) * h(0);
                }
            }
            Format::Q5_0 => {
                let qh = u32::from_le_bytes([blk[2], blk[3], blk[4], blk[5]]);
                for j in 0..16 {
                    let h0 = ((qh >> j) << 4) & 0x10;
                    let h1 = (qh >> (j + 12)) & 0x10;
                    let x0 = ((u32::from(blk[6 + j]) & 0x0F) | h0) as i32 - 16;
                    let x1 = ((u32::from(blk[6 + j]) >> 4) | h1) as i32 - 16;
                    y[j] = x0 as f32 * h(0);
                    y[j + 16] = x1 as f32 * h(0);
                }
            }
            Format::Q4K => {
                let (d, min) = (h(0), h(2));
                for c in 0..4 {
                    let (sc, m) = q4k_scale_min(2 * c, &blk[4..16]);
                    let (d1, m1) = (d * f32::from(sc), min * f32::from(m));
                    let (sc, m) = q4k_scale_min(2 * c + 1, &blk[4..16]);
                    let (d2, m2) = (d * f32::from(sc), min * f32::from(m));
                    for l in 0..32 {
                        let q = blk[16 + 32 * c + l];
                        y[64 * c + l] = d1 * f32::from(q & 0x0F) - m1;
                        y[64 * c + 32 + l] = d2 * f32::from(q >> 4) - m2;
                    }
                }
            }
            Format::Q6K => {
                let d = h(208);
                for n in 0..2 {
                    let (ql, qh) = (&blk[64 * n..], &blk[128 + 32 * n..]);
                    let sc = |i: usize| f32::from(blk[192 + 8 * n + i] as i8);
                    for l in 0..32 {
                        let is = l / 16;
                        let q1 = ((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) as i32 - 32;
                        let q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) as i32 - 32;
                        let q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) as i32 - 32;
                        let q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) as i32 - 32;
                        let y = &mut y[128 * n..];
                        y[l] = d * sc(is) * q1 as f32;
                        y[l + 32] = d * sc(is + 2) * q2 as f32;
                        y[l + 64] = d * sc(is + 4) * q3 as f32;
                        y[l + 96] = d * sc(is + 6) * q4 as f32;
                    }
                }
            }
        }
    }

    const ALL: [Format; 6] = [
        Format::Q4_0,
        Format::Q4_1,
        Format::Q5_0,
        Format::Q8_0,
        Format::Q4K,
        Format::Q6K,
    ];

    #[test]
    fn rows_dequantize_bit_for_bit_as_ggml() {
        // Widths with whole and partial groups of eight blocks (K-quants: 1 and 3
        // super-blocks).
        for format in ALL {
            let k = format.block_values() == SUPER_BLOCK;
            let shapes: &[(usize, usize)] = if k {
                &[(3, 256), (5, 768)]
            } else {
                &[(3, 32), (4, 96), (5, 288), (2, 896)]
            };
            for &(rows, cols) in shapes {
                let data = random_blocks(format, rows, cols, cols as u64);
                let w = PackedMatrix::from_gguf(format, rows, cols, &data).expect("pack");
                let (per_row, bb) = (cols / format.block_values(), format.block_bytes());
                let mut want = vec![0f32; cols];
                let mut got = vec![0f32; cols];
                for r in 0..rows {
                    for b in 0..per_row {
                        let blk = &data[(r * per_row + b) * bb..][..bb];
                        ggml_block(format, blk, &mut want[b * format.block_values()..]);
                    }
                    w.dequantize_row(r, &mut got);
                    for (i, (g, e)) in got.iter().zip(&want).enumerate() {
                        // Q4_0 is held as Q4_1 (d * q - 8 d): its zeros are all +0.
                        let same = g.to_bits() == e.to_bits() || (format == Format::Q4_0 && g == e);
                        assert!(same, "{format:?} {rows}x{cols} [{r}][{i}]: {g} vs {e}");
                    }
                }
            }
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
        // K-quant rows are whole super-blocks.
        assert_eq!(
            PackedMatrix::from_gguf(Format::Q4K, 1, 896, &[0; 504]).err(),
            Some(PackError::Columns(896))
        );
        assert_eq!(
            PackedMatrix::from_gguf(Format::Q6K, 2, 256, &[0; 210]).err(),
            Some(PackError::Length {
                expected: 420,
                got: 210
            })
        );
        assert!(PackedMatrix::from_gguf(Format::Q5_0, 1, 0, &[]).is_err());
    }

    #[test]
    fn layouts_hold_what_the_format_stores() {
        // Bytes held: Q5_0 as the file (fifth bits of a short last group padded),
        // Q4_K with its scales unpacked (+4 bytes per 256), Q6_K as the file.
        let bytes = |f: Format, rows: usize, cols: usize| {
            PackedMatrix::from_gguf(f, rows, cols, &random_blocks(f, rows, cols, 1))
                .expect("pack")
                .bytes()
        };
        assert_eq!(bytes(Format::Q5_0, 2, 256), 2 * (8 * 22));
        assert_eq!(bytes(Format::Q4K, 3, 512), 3 * 2 * 148);
        assert_eq!(bytes(Format::Q6K, 3, 512), 3 * 2 * 210);
        // 28 blocks (Qwen2.5-0.5B's width): 3 full groups, one of 4.
        assert_eq!(q5_row_bytes(28), 3 * 160 + 32 + 64);
    }
}
