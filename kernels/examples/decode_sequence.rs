//! The matrix products of one decoded token of Qwen2.5-Coder-0.5B or -1.5B Q4_K_M
//! (random weights in the files' formats), in order, as the engine runs them: per layer
//! query/key/value, output, gate/up, down, then the output head. Prints tokens per second
//! of the products alone, with the thread count of rayon's global pool; with
//! `LOGLENS_KERNEL_TEAM=1` the products run on the kernels' thread team instead.
//!
//! `RAYON_NUM_THREADS=2 cargo run --release -p loglens-kernels --example decode_sequence -- 0.5b 200`

use std::time::Instant;

use loglens_kernels::{Format, PackedMatrix};

#[path = "../benches/support/synth.rs"]
mod synth;
use synth::matrix;

struct Layer {
    qkv: Vec<PackedMatrix>,
    o: PackedMatrix,
    gate_up: PackedMatrix,
    down: PackedMatrix,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let model = args.get(1).map_or("0.5b", String::as_str);
    let tokens: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    // (hidden, kv width, ffn, layers, small format, k-quant, head format)
    let (hidden, kv, ffn, layers, small, head_format) = match model {
        "1.5b" => (1536, 256, 8960, 28, Format::Q4K, Format::Q6K),
        _ => (896, 128, 4864, 24, Format::Q5_0, Format::Q8_0),
    };
    let v_alt = if model == "1.5b" {
        Format::Q6K
    } else {
        Format::Q8_0
    };
    let mut net = Vec::new();
    for l in 0..layers {
        let q = matrix(small, hidden, hidden, l);
        let k = matrix(small, kv, hidden, l + 1);
        let v = matrix(if l % 2 == 0 { small } else { v_alt }, kv, hidden, l + 2);
        let qkv = match PackedMatrix::concat(&[&q, &k, &v]) {
            Some(m) => vec![m],
            None => vec![q, k, v],
        };
        let gate = matrix(small, ffn, hidden, l + 3);
        let up = matrix(small, ffn, hidden, l + 4);
        let down_f = if l % 2 == 0 { Format::Q4K } else { Format::Q6K };
        net.push(Layer {
            qkv,
            o: matrix(small, hidden, hidden, l + 5),
            gate_up: PackedMatrix::concat(&[&gate, &up]).expect("stack"),
            down: matrix(down_f, hidden, ffn, l + 6),
        });
    }
    let head = matrix(head_format, 151936, hidden, 9);
    let bytes: usize = net
        .iter()
        .map(|l| {
            l.qkv.iter().map(PackedMatrix::bytes).sum::<usize>()
                + l.o.bytes()
                + l.gate_up.bytes()
                + l.down.bytes()
        })
        .sum::<usize>()
        + head.bytes();
    let x: Vec<f32> = (0..ffn * 2)
        .map(|i| ((i % 97) as f32 - 48.0) / 50.0)
        .collect();
    let mut out = vec![0f32; 151936];
    let step = |out: &mut Vec<f32>| {
        for l in &net {
            for m in &l.qkv {
                let a = m.quantize_input(&x[..hidden], 1);
                m.matmul(&a, &mut out[..m.rows()]);
            }
            let a = l.o.quantize_input(&x[..hidden], 1);
            l.o.matmul(&a, &mut out[..hidden]);
            let a = l.gate_up.quantize_input(&x[..hidden], 1);
            l.gate_up.matmul(&a, &mut out[..2 * ffn]);
            let a = l.down.quantize_input(&x[..ffn], 1);
            l.down.matmul(&a, &mut out[..hidden]);
        }
        let a = head.quantize_input(&x[..hidden], 1);
        head.matmul(&a, out);
    };
    let threads = rayon::current_num_threads();
    let mut pool_step = || rayon::scope(|_| step(&mut out));
    for _ in 0..5 {
        pool_step();
    }
    let mut times = Vec::new();
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    for _ in 0..tokens {
        let t = Instant::now();
        pool_step();
        times.push(t.elapsed().as_secs_f64());
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    times.sort_by(f64::total_cmp);
    let med = times[times.len() / 2];
    println!(
        "{model} threads {threads}: {:.1} tok/s (median step {:.2} ms, {:.1} GB/s), cpu/wall {:.2}",
        tokens as f64 / wall,
        med * 1e3,
        bytes as f64 / med / 1e9,
        cpu / wall
    );
}

/// User + system CPU seconds of this process.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}
