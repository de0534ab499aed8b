//! Quantized matrix products, one thread, one token (decode) and 64 tokens (prefill), at
//! the default model's shapes (SmolLM2-135M: hidden 576, MLP 1536, vocabulary 49,152) and
//! at Qwen2.5-Coder's (1.5B: hidden 1536, MLP 8960; 0.5B: hidden 896), each in the
//! formats its GGUF files hold and in the older formats for comparison.
//! `cargo bench -p loglens-kernels` prints time per product and weight bytes per second.

#![allow(missing_docs)] // criterion_group! generates an undocumented function.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use loglens_kernels::Format;

#[path = "support/synth.rs"]
mod synth;
use synth::matrix;

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
        // Qwen2.5-Coder-1.5B Q4_K_M: gate/up Q4_K, down Q4_K or Q6_K.
        ("qwen1.5b up q4_k", Format::Q4K, 8960, 1536),
        ("qwen1.5b up q4_0", Format::Q4_0, 8960, 1536),
        ("qwen1.5b up q8_0", Format::Q8_0, 8960, 1536),
        ("qwen1.5b down q6_k", Format::Q6K, 1536, 8960),
        ("qwen1.5b down q4_k", Format::Q4K, 1536, 8960),
        ("qwen1.5b down q8_0", Format::Q8_0, 1536, 8960),
        // Qwen2.5-Coder-0.5B Q4_K_M: rows of 896 are Q5_0.
        ("qwen0.5b up q5_0", Format::Q5_0, 4864, 896),
        ("qwen0.5b up q4_0", Format::Q4_0, 4864, 896),
        ("qwen0.5b up q8_0", Format::Q8_0, 4864, 896),
    ];
    let mut g = c.benchmark_group("qmatmul");
    for (name, format, rows, cols) in shapes {
        let w = matrix(format, rows, cols, 0);
        for tokens in [1usize, 64] {
            let x: Vec<f32> = (0..tokens * cols).map(|i| (i % 97) as f32 - 48.0).collect();
            let a = w.quantize_input(&x, tokens);
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
