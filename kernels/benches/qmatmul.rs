//! Quantized matrix products at the default model's shapes (SmolLM2-135M: hidden 576,
//! MLP 1536, vocabulary 49,152), one thread: one token (decode) and 64 tokens (prefill).
//! `cargo bench -p loglens-kernels` prints time per product and weight bytes per second.

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use loglens_kernels::{Activations, Format, PackedMatrix};

fn matrix(format: Format, rows: usize, cols: usize) -> PackedMatrix {
    let blocks = rows * cols / 32;
    let bb = format.block_bytes();
    let mut data = vec![0u8; blocks * bb];
    for (i, blk) in data.chunks_mut(bb).enumerate() {
        // A small positive f16 scale (and minimum), varied values.
        blk[0] = 0x00;
        blk[1] = 0x20;
        for (j, v) in blk[2..].iter_mut().enumerate() {
            *v = (i * 31 + j * 7) as u8;
        }
    }
    PackedMatrix::from_gguf(format, rows, cols, &data).expect("pack")
}

fn bench(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let shapes = [
        ("mlp_up q4_1", Format::Q4_1, 1536, 576),
        ("mlp_down q4_1", Format::Q4_1, 576, 1536),
        ("mlp_up q8_0", Format::Q8_0, 1536, 576),
        ("head q8_0", Format::Q8_0, 49152, 576),
        ("head q4_1", Format::Q4_1, 49152, 576),
    ];
    let mut g = c.benchmark_group("qmatmul");
    for (name, format, rows, cols) in shapes {
        let w = matrix(format, rows, cols);
        for tokens in [1usize, 64] {
            let x: Vec<f32> = (0..tokens * cols).map(|i| (i % 97) as f32 - 48.0).collect();
            let a = Activations::quantize(&x, tokens, cols);
            let mut out = vec![0f32; tokens * rows];
            g.throughput(Throughput::Bytes((w.bytes() * tokens) as u64));
            g.bench_function(format!("{name} {rows}x{cols} t{tokens}"), |b| {
                pool.install(|| b.iter(|| w.matmul(&a, &mut out)))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
