//! Tiny random-weight models generated here, written as GGUF and loaded through the
//! same path as real models: Llama with grouped-query attention, Llama 3.1 style
//! `rope_freqs`, Mistral with a sliding window, in f32 and quantized storage.

use std::path::Path;

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use loglens::engine::{Engine, EngineError, GenerateRequest, Input, ModelSpec, WeightFormat};

/// Shape of a tiny model.
pub(crate) struct Tiny {
    pub(crate) arch: &'static str,
    pub(crate) hidden: usize,
    pub(crate) layers: usize,
    pub(crate) heads: usize,
    pub(crate) kv_heads: usize,
    pub(crate) ffn: usize,
    pub(crate) context: u32,
    pub(crate) sliding_window: Option<u32>,
    pub(crate) rope_freqs: bool,
    pub(crate) dtype: GgmlDType,
}

impl Default for Tiny {
    fn default() -> Self {
        Self {
            arch: "llama",
            hidden: 64,
            layers: 2,
            heads: 4,
            kv_heads: 2,
            ffn: 128,
            context: 256,
            sliding_window: None,
            rope_freqs: false,
            dtype: GgmlDType::F32,
        }
    }
}

/// A byte-level vocabulary: the 256 byte symbols GPT-2 uses, a few merges, and ChatML
/// control tokens.
fn vocab() -> (Vec<String>, Vec<String>, Vec<i32>) {
    // GPT-2's byte-to-unicode table.
    let mut bs: Vec<u32> = (b'!' as u32..=b'~' as u32)
        .chain(0xA1..=0xAC)
        .chain(0xAE..=0xFF)
        .collect();
    let mut cs = bs.clone();
    let mut n = 0;
    for b in 0..256u32 {
        if !bs.contains(&b) {
            bs.push(b);
            cs.push(256 + n);
            n += 1;
        }
    }
    let mut pairs: Vec<(u32, u32)> = bs.into_iter().zip(cs).collect();
    pairs.sort();
    let mut tokens: Vec<String> = pairs
        .iter()
        .map(|(_, c)| char::from_u32(*c).map(String::from).unwrap_or_default())
        .collect();
    let merges = vec!["e r".to_string(), "er r".to_string(), "o r".to_string()];
    tokens.extend(["er", "err", "or"].iter().map(|s| s.to_string()));
    let mut types = vec![1; tokens.len()];
    for s in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] {
        tokens.push(s.to_string());
        types.push(3);
    }
    (tokens, merges, types)
}

pub(crate) fn write_tiny(path: &Path, t: &Tiny, seed: u64) {
    let dev = Device::Cpu;
    let (tokens, merges, types) = vocab();
    let vocab_n = tokens.len();
    let head_dim = t.hidden / t.heads;
    let mut state = seed;
    let mut rand = |shape: &[usize]| -> QTensor {
        let n: usize = shape.iter().product();
        let data: Vec<f32> = (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 0.2
            })
            .collect();
        let ts = Tensor::from_vec(data, shape, &dev).expect("tensor");
        let dtype = if shape.len() == 2 && shape[1].is_multiple_of(32) {
            t.dtype
        } else {
            GgmlDType::F32
        };
        QTensor::quantize(&ts, dtype).expect("quantize")
    };
    let ones = |n: usize| {
        QTensor::quantize(
            &Tensor::ones(n, candle_core::DType::F32, &dev).expect("ones"),
            GgmlDType::F32,
        )
        .expect("q")
    };
    let mut named: Vec<(String, QTensor)> = vec![
        ("token_embd.weight".into(), rand(&[vocab_n, t.hidden])),
        ("output_norm.weight".into(), ones(t.hidden)),
        ("output.weight".into(), rand(&[vocab_n, t.hidden])),
    ];
    if t.rope_freqs {
        let f: Vec<f32> = (0..head_dim / 2).map(|i| 1.0 + i as f32).collect();
        named.push((
            "rope_freqs.weight".into(),
            QTensor::quantize(
                &Tensor::from_vec(f, head_dim / 2, &dev).expect("t"),
                GgmlDType::F32,
            )
            .expect("q"),
        ));
    }
    for l in 0..t.layers {
        let p = |n: &str| format!("blk.{l}.{n}.weight");
        named.push((p("attn_norm"), ones(t.hidden)));
        named.push((p("ffn_norm"), ones(t.hidden)));
        named.push((p("attn_q"), rand(&[t.hidden, t.hidden])));
        named.push((p("attn_k"), rand(&[t.kv_heads * head_dim, t.hidden])));
        named.push((p("attn_v"), rand(&[t.kv_heads * head_dim, t.hidden])));
        named.push((p("attn_output"), rand(&[t.hidden, t.hidden])));
        named.push((p("ffn_gate"), rand(&[t.ffn, t.hidden])));
        named.push((p("ffn_up"), rand(&[t.ffn, t.hidden])));
        named.push((p("ffn_down"), rand(&[t.hidden, t.ffn])));
    }
    let a = |k: &str| format!("{}.{k}", t.arch);
    let strs = |v: &[String]| Value::Array(v.iter().cloned().map(Value::String).collect());
    let mut md: Vec<(String, Value)> = vec![
        ("general.architecture".into(), Value::String(t.arch.into())),
        ("general.name".into(), Value::String("tiny".into())),
        (a("embedding_length"), Value::U32(t.hidden as u32)),
        (a("block_count"), Value::U32(t.layers as u32)),
        (a("feed_forward_length"), Value::U32(t.ffn as u32)),
        (a("attention.head_count"), Value::U32(t.heads as u32)),
        (a("attention.head_count_kv"), Value::U32(t.kv_heads as u32)),
        (a("attention.layer_norm_rms_epsilon"), Value::F32(1e-5)),
        (a("rope.freq_base"), Value::F32(10000.0)),
        (a("context_length"), Value::U32(t.context)),
        ("tokenizer.ggml.model".into(), Value::String("gpt2".into())),
        ("tokenizer.ggml.pre".into(), Value::String("gpt2".into())),
        ("tokenizer.ggml.tokens".into(), strs(&tokens)),
        ("tokenizer.ggml.merges".into(), strs(&merges)),
        (
            "tokenizer.ggml.token_type".into(),
            Value::Array(types.iter().map(|&x| Value::I32(x)).collect()),
        ),
        (
            "tokenizer.ggml.eos_token_id".into(),
            Value::U32((vocab_n - 1) as u32),
        ),
    ];
    if let Some(w) = t.sliding_window {
        md.push((a("attention.sliding_window"), Value::U32(w)));
    }
    let md_refs: Vec<(&str, &Value)> = md.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let t_refs: Vec<(&str, &QTensor)> = named.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut f = std::fs::File::create(path).expect("create");
    gguf_file::write(&mut f, &md_refs, &t_refs).expect("write gguf");
}

pub(crate) fn load(path: &Path, format: WeightFormat) -> Engine {
    Engine::load(&ModelSpec {
        weight_format: Some(format),
        ..ModelSpec::cpu(path)
    })
    .expect("tiny model loads")
}

pub(crate) fn max_rel_diff(a: &[f32], b: &[f32]) -> f32 {
    let scale = a.iter().map(|x| x.abs()).fold(1e-6, f32::max);
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
        / scale
}

/// The KV-cache path (prefill, then one token at a time) must give the logits that a
/// single full forward pass gives: this checks positions, rotary, masks, GQA and the
/// sliding window together.
fn cache_matches_full_pass(t: Tiny) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tiny.gguf");
    write_tiny(&path, &t, 7);
    let e = load(&path, WeightFormat::Native);
    let ids: Vec<u32> = (0..40u32).map(|i| (i * 37 + 11) % 250).collect();
    let trace = e.greedy_trace(&ids[..30], 1).expect("runs");
    assert_eq!(trace.len(), 1);
    for split in [1usize, 29] {
        let full = e.logits(&ids[..split + 1]).expect("full pass");
        let step = e
            .logits_incremental(&ids[..split], ids[split])
            .expect("cached pass");
        assert!(
            max_rel_diff(&full, &step) < 1e-4,
            "{} split {split}: {}",
            t.arch,
            max_rel_diff(&full, &step)
        );
    }
}

#[test]
fn llama_gqa_cache_matches_full_pass() {
    cache_matches_full_pass(Tiny::default());
}

#[test]
fn llama31_rope_freqs_cache_matches_full_pass() {
    cache_matches_full_pass(Tiny {
        rope_freqs: true,
        ..Tiny::default()
    });
}

#[test]
fn mistral_sliding_window_cache_matches_full_pass() {
    cache_matches_full_pass(Tiny {
        arch: "llama",
        sliding_window: Some(8),
        kv_heads: 1,
        ..Tiny::default()
    });
}

#[test]
fn sliding_window_changes_attention() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, b) = (dir.path().join("a.gguf"), dir.path().join("b.gguf"));
    write_tiny(&a, &Tiny::default(), 5);
    write_tiny(
        &b,
        &Tiny {
            sliding_window: Some(4),
            ..Tiny::default()
        },
        5,
    );
    let ids: Vec<u32> = (0..12u32).map(|i| i * 13 % 250).collect();
    let short = |p: &Path| {
        load(p, WeightFormat::Native)
            .logits(&ids[..3])
            .expect("runs")
    };
    let long = |p: &Path| load(p, WeightFormat::Native).logits(&ids).expect("runs");
    // Inside the window the two models agree; past it they must not.
    assert!(max_rel_diff(&short(&a), &short(&b)) < 1e-5);
    assert!(max_rel_diff(&long(&a), &long(&b)) > 1e-3);
}

/// Q4_0, Q4_1 and Q8_0 files run as stored on loglens's CPU kernels (8-bit activations,
/// integer dot products); their logits stay close to the same weights dequantized to f32
/// through candle, and to the f32 model they were quantized from.
#[test]
fn quantized_storage_is_close_to_f32() {
    let dir = tempfile::tempdir().expect("temp dir");
    let f32_path = dir.path().join("f32.gguf");
    write_tiny(&f32_path, &Tiny::default(), 3);
    let ids = [5u32, 17, 99, 3, 250];
    let a = load(&f32_path, WeightFormat::Native)
        .logits(&ids)
        .expect("f32");
    // Storage error against the f32 model, then the kernels' own error.
    for (dtype, storage, kernel) in [
        (GgmlDType::Q8_0, 0.05, 0.02),
        (GgmlDType::Q4_1, 0.25, 0.03),
        (GgmlDType::Q4_0, 0.25, 0.03),
    ] {
        let q_path = dir.path().join(format!("{dtype:?}.gguf"));
        write_tiny(
            &q_path,
            &Tiny {
                dtype,
                ..Tiny::default()
            },
            3,
        );
        let native = load(&q_path, WeightFormat::Native);
        assert!(
            native.info().matmul.starts_with("loglens-kernels"),
            "{dtype:?}: {}",
            native.info().matmul
        );
        let b = native.logits(&ids).expect("as stored");
        let dense = load(&q_path, WeightFormat::F32);
        assert_eq!(dense.info().matmul, "candle");
        let c = dense.logits(&ids).expect("dequantized");
        assert!(
            max_rel_diff(&a, &c) < storage,
            "{dtype:?} dequantized vs f32: {}",
            max_rel_diff(&a, &c)
        );
        assert!(
            max_rel_diff(&b, &c) < kernel,
            "{dtype:?} as stored vs dequantized: {}",
            max_rel_diff(&b, &c)
        );
        batched_equals_single(&native);
    }
}

#[test]
fn tiny_model_generates_and_refuses_what_it_cannot_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tiny.gguf");
    write_tiny(&path, &Tiny::default(), 11);
    let e = load(&path, WeightFormat::Q8_0);
    assert_eq!(e.info().context_length, 256);
    // Byte-level BPE from the GGUF merges: e+r, er+r, o+r.
    assert_eq!(
        e.tokenizer().encode("error").expect("encodes"),
        vec![257, 258]
    );
    assert_eq!(
        e.tokenizer().encode("<|im_end|>").expect("encodes"),
        vec![261]
    );
    assert_eq!(e.tokenizer().decode(&[257, 258]).expect("decodes"), "error");
    let (text, _, usage) = e
        .generate_text(&GenerateRequest::new(
            Input::Prompt("<|im_start|>user\nhi".into()),
            8,
        ))
        .expect("generates");
    assert!(usage.completion_tokens <= 8);
    assert!(text.len() <= 8 * 4);
    let err = e
        .generate_text(&GenerateRequest::new(Input::Prompt("x".repeat(300)), 8))
        .expect_err("context");
    assert!(matches!(err, EngineError::ContextOverflow { .. }));
    // An architecture the engine does not run.
    let bad = dir.path().join("gpt.gguf");
    write_tiny(
        &bad,
        &Tiny {
            arch: "gptneox",
            ..Tiny::default()
        },
        1,
    );
    let err = Engine::load(&ModelSpec::cpu(&bad)).expect_err("unsupported");
    assert!(err.to_string().contains("gptneox"), "{err}");
}

#[test]
fn batched_and_one_at_a_time_give_the_same_tokens() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tiny.gguf");
    write_tiny(&path, &Tiny::default(), 21);
    batched_equals_single(&load(&path, WeightFormat::F32));
}

/// Runs three requests of different lengths one at a time and then batched; the greedy
/// tokens must be the same.
pub(crate) fn batched_equals_single(e: &Engine) {
    use std::ops::ControlFlow;
    // Different prompt lengths and token budgets, so sequences sit at different
    // positions and leave the batch at different steps.
    let reqs: Vec<GenerateRequest> = [(3usize, 10usize), (17, 4), (8, 12)]
        .iter()
        .map(|&(len, max)| {
            let ids: Vec<u32> = (0..len as u32)
                .map(|i| (i * 31 + len as u32) % 250)
                .collect();
            let mut r = GenerateRequest::new(Input::Tokens(ids), max);
            // Keep the end token out so every request runs to its budget.
            r.sampling.logit_bias = vec![(261, -1e9)];
            r
        })
        .collect();
    let tokens_of = |events: &[loglens::engine::Event]| -> Vec<u32> {
        events
            .iter()
            .filter_map(|ev| match ev {
                loglens::engine::Event::Text { token, .. } => Some(*token),
                _ => None,
            })
            .collect()
    };
    let single: Vec<Vec<u32>> = reqs
        .iter()
        .map(|r| {
            let mut ev = Vec::new();
            e.generate(r, &mut |x| {
                ev.push(x);
                ControlFlow::Continue(())
            })
            .expect("runs");
            tokens_of(&ev)
        })
        .collect();
    let mut events: Vec<Vec<loglens::engine::Event>> = vec![Vec::new(); reqs.len()];
    {
        let mut sinks: Vec<_> = events
            .iter_mut()
            .map(|ev| {
                move |x| {
                    ev.push(x);
                    ControlFlow::Continue(())
                }
            })
            .collect();
        let batch = reqs
            .iter()
            .zip(sinks.iter_mut())
            .map(|(r, s)| {
                (
                    r,
                    s as &mut dyn FnMut(loglens::engine::Event) -> ControlFlow<()>,
                )
            })
            .collect();
        let usages = e.generate_many(batch).expect("runs batched");
        assert_eq!(
            usages
                .iter()
                .map(|u| u.completion_tokens)
                .collect::<Vec<_>>(),
            vec![10, 4, 12]
        );
    }
    let batched: Vec<Vec<u32>> = events.iter().map(|ev| tokens_of(ev)).collect();
    assert_eq!(batched, single);
    for ev in &events {
        assert!(matches!(
            ev.last(),
            Some(loglens::engine::Event::Done { .. })
        ));
    }
}

#[test]
fn prompts_prefilled_in_small_chunks_match_one_pass() {
    use std::ops::ControlFlow;
    use std::sync::{mpsc, Arc};

    use loglens::engine::{Event, Scheduler, SchedulerConfig};
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tiny.gguf");
    write_tiny(
        &path,
        &Tiny {
            context: 1024,
            ..Tiny::default()
        },
        5,
    );
    let e = Arc::new(load(&path, WeightFormat::F32));
    // 600 tokens in chunks of 100: the cache grows past its first 256 positions while
    // partly filled.
    let ids: Vec<u32> = (0..600u32).map(|i| (i * 7 + 3) % 250).collect();
    let mut req = GenerateRequest::new(Input::Tokens(ids), 8);
    req.sampling.logit_bias = vec![(261, -1e9)];
    let (alone, _, _) = e.generate_text(&req).expect("one pass");
    let sched = Scheduler::new(
        e.clone(),
        SchedulerConfig {
            max_batch: 4,
            max_queue: 4,
            step_tokens: 100,
        },
    );
    let (tx, rx) = mpsc::channel();
    for i in 0..2 {
        let tx = tx.clone();
        sched
            .submit(
                req.clone(),
                Box::new(move |ev| {
                    let _ = tx.send((i, ev));
                    ControlFlow::Continue(())
                }),
            )
            .expect("submitted");
    }
    drop(tx);
    let mut texts = [String::new(), String::new()];
    let mut done = 0;
    for (i, ev) in rx {
        match ev {
            Event::Text { text: t, .. } => texts[i].push_str(&t),
            Event::Done { .. } => done += 1,
            Event::Error { message, .. } => panic!("{message}"),
            Event::Token { .. } => {}
        }
    }
    assert_eq!(done, 2);
    assert!(!alone.is_empty());
    assert_eq!(texts, [alone.clone(), alone]);
    sched.shutdown();
}

/// `bench tokens` measures every figure it reports, per concurrency level both over the
/// whole run and over the decode phase alone.
#[test]
fn token_benchmark_reports_every_figure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tiny.gguf");
    write_tiny(&path, &Tiny::default(), 8);
    let e = load(&path, WeightFormat::F32);
    let r = loglens::bench::tokens::run(&e, 32, 12, &[1, 3], None).expect("runs");
    assert_eq!(r.prompt_tokens, 32);
    assert_eq!(r.concurrency_prompt_tokens, 32);
    assert!(r.prefill_tok_s > 0.0 && r.decode_tok_s > 0.0 && r.ttft_ms > 0.0);
    assert!(r.itl_p50_ms > 0.0 && r.itl_p99_ms >= r.itl_p50_ms);
    assert_eq!(
        r.concurrency.iter().map(|c| c.n).collect::<Vec<_>>(),
        vec![1, 3]
    );
    for c in &r.concurrency {
        assert!(c.aggregate_tok_s > 0.0 && c.decode_tok_s > 0.0, "{c:?}");
    }
}
