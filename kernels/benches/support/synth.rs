//! Synthetic packed matrices for the kernels' benchmark and examples: varied codes with
//! small, normal scales (no NaN or subnormal slows a path).

use loglens_kernels::{Format, PackedMatrix};

/// A `rows` x `cols` matrix in `format`; `seed` varies the codes.
pub(crate) fn matrix(format: Format, rows: usize, cols: usize, seed: usize) -> PackedMatrix {
    let blocks = rows * cols / format.block_values();
    let bb = format.block_bytes();
    let mut data = vec![0u8; blocks * bb];
    for (i, blk) in data.chunks_mut(bb).enumerate() {
        for (j, v) in blk.iter_mut().enumerate() {
            *v = (i * 31 + j * 7 + seed) as u8;
        }
        // f16 0.0078 (0x2000) for every scale and minimum.
        let scales: &[usize] = match format {
            Format::Q4_1 | Format::Q4K => &[0, 2],
            Format::Q6K => &[208],
            _ => &[0],
        };
        for &at in scales {
            blk[at..at + 2].copy_from_slice(&0x2000u16.to_le_bytes());
        }
    }
    PackedMatrix::from_gguf(format, rows, cols, &data).expect("pack")
}
