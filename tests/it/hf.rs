//! HF directories (safetensors, config and tokenizer files), sharded checkpoints, the
//! HF cache layout, and `models convert`: tiny random-weight GGUF models are written
//! out as HF directories and must run exactly as their GGUF does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use candle_core::{DType, Device, Tensor};
use loglens::engine::convert::gguf_to_hf;
use loglens::engine::hf::resolve_cached;
use loglens::engine::{Engine, EngineError, ModelSpec, WeightFormat};
use serde_json::Value;

use super::tiny::{batched_equals_single, load, max_rel_diff, write_tiny, Tiny};

/// A tiny GGUF and its conversion in `dtype`, in a temp dir.
fn tiny_pair(t: &Tiny, seed: u64, dtype: DType) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let gguf = dir.path().join("tiny.gguf");
    write_tiny(&gguf, t, seed);
    let out = dir.path().join("tiny-hf");
    let done = gguf_to_hf(&gguf, &out, dtype).expect("converts");
    assert!(done.tensors > 0);
    (dir, gguf, out)
}

fn ids(n: u32) -> Vec<u32> {
    (0..n).map(|i| (i * 37 + 11) % 250).collect()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json")
}

fn write_json(p: &Path, v: &Value) {
    std::fs::write(p, serde_json::to_string_pretty(v).expect("json")).expect("write");
}

#[test]
fn converted_models_run_as_their_gguf() {
    let cases = [
        ("llama gqa", Tiny::default()),
        (
            "llama 3.1 rope_freqs",
            Tiny {
                rope_freqs: true,
                ..Tiny::default()
            },
        ),
        (
            "mistral sliding window",
            Tiny {
                sliding_window: Some(8),
                kv_heads: 1,
                ..Tiny::default()
            },
        ),
    ];
    for (name, t) in cases {
        let (_dir, gguf, hf) = tiny_pair(&t, 13, DType::F32);
        let a = load(&gguf, WeightFormat::F32);
        let b = load(&hf, WeightFormat::F32);
        // 40 tokens: past the sliding window, through the cache.
        let seq = ids(40);
        let (la, lb) = (a.logits(&seq).expect("gguf"), b.logits(&seq).expect("hf"));
        assert!(
            max_rel_diff(&la, &lb) < 1e-5,
            "{name}: {}",
            max_rel_diff(&la, &lb)
        );
        assert_eq!(
            a.greedy_trace(&seq[..20], 8)
                .expect("gguf")
                .iter()
                .map(|x| x.0)
                .collect::<Vec<_>>(),
            b.greedy_trace(&seq[..20], 8)
                .expect("hf")
                .iter()
                .map(|x| x.0)
                .collect::<Vec<_>>(),
            "{name}"
        );
        for text in [
            "error or err",
            "<|im_start|>user\nhi<|im_end|>",
            "héllo\r\n\t42",
        ] {
            assert_eq!(
                a.tokenizer().encode(text).expect("gguf"),
                b.tokenizer().encode(text).expect("hf"),
                "{name}: {text:?}"
            );
        }
        assert_eq!(a.tokenizer().stop_ids, b.tokenizer().stop_ids, "{name}");
        assert_eq!(a.info().vocab_size, b.info().vocab_size);
        assert_eq!(a.info().context_length, b.info().context_length);
        assert_eq!(a.info().parameters, b.info().parameters);
        let cfg = read_json(&hf.join("config.json"));
        let want_type = if t.sliding_window.is_some() {
            "mistral"
        } else {
            "llama"
        };
        assert_eq!(cfg["model_type"], want_type, "{name}");
        assert_eq!(cfg["num_key_value_heads"], t.kv_heads);
    }
}

#[test]
fn half_precision_conversions_stay_close_and_run_natively() {
    let t = Tiny::default();
    let seq = ids(24);
    let (_d0, gguf, _) = tiny_pair(&t, 17, DType::F32);
    let want = load(&gguf, WeightFormat::F32).logits(&seq).expect("gguf");
    for (dtype, tol) in [(DType::F16, 5e-3), (DType::BF16, 3e-2)] {
        let (_d, _, hf) = tiny_pair(&t, 17, dtype);
        // Widened to f32 at load.
        let wide = load(&hf, WeightFormat::F32).logits(&seq).expect("f32");
        assert!(
            max_rel_diff(&want, &wide) < tol,
            "{dtype:?} widened: {}",
            max_rel_diff(&want, &wide)
        );
        // Run in the checkpoint's own dtype, as a GPU would.
        let native = load(&hf, WeightFormat::Native);
        assert_eq!(
            native.info().file_quantization,
            format!("{dtype:?}").to_uppercase()
        );
        let got = native.logits(&seq).expect("native");
        assert!(
            max_rel_diff(&want, &got) < 4.0 * tol,
            "{dtype:?} native: {}",
            max_rel_diff(&want, &got)
        );
        let step = native
            .logits_incremental(&seq[..23], seq[23])
            .expect("cached");
        assert!(
            max_rel_diff(&got, &step) < 4.0 * tol,
            "{dtype:?} cache: {}",
            max_rel_diff(&got, &step)
        );
        // Quantized at load for CPU.
        let q = load(&hf, WeightFormat::Q8_0).logits(&seq).expect("q8");
        assert!(
            max_rel_diff(&want, &q) < 0.05,
            "{dtype:?} q8_0: {}",
            max_rel_diff(&want, &q)
        );
    }
}

#[test]
fn hf_directories_batch_like_gguf() {
    let (_d, _, hf) = tiny_pair(
        &Tiny {
            sliding_window: Some(8),
            ..Tiny::default()
        },
        21,
        DType::F32,
    );
    batched_equals_single(&load(&hf, WeightFormat::F32));
}

#[test]
fn sharded_checkpoints_load_through_their_index() {
    let (_d, _, hf) = tiny_pair(&Tiny::default(), 5, DType::F32);
    let whole = load(&hf, WeightFormat::F32)
        .logits(&ids(12))
        .expect("whole");
    let st = hf.join("model.safetensors");
    let all = candle_core::safetensors::load(&st, &Device::Cpu).expect("load");
    std::fs::remove_file(&st).expect("rm");
    let mut names: Vec<&String> = all.keys().collect();
    names.sort();
    let (first, second) = names.split_at(names.len() / 2);
    let mut map = serde_json::Map::new();
    for (file, part) in [
        ("model-00001-of-00002.safetensors", first),
        ("model-00002-of-00002.safetensors", second),
    ] {
        let shard: HashMap<String, Tensor> = part
            .iter()
            .map(|n| ((*n).clone(), all[*n].clone()))
            .collect();
        candle_core::safetensors::save(&shard, hf.join(file)).expect("save");
        for n in part {
            map.insert((*n).clone(), Value::String(file.into()));
        }
    }
    write_json(
        &hf.join("model.safetensors.index.json"),
        &serde_json::json!({"metadata": {}, "weight_map": map}),
    );
    let sharded = load(&hf, WeightFormat::F32)
        .logits(&ids(12))
        .expect("sharded");
    assert_eq!(whole, sharded);
    // A shard the index names but the directory lacks.
    std::fs::remove_file(hf.join("model-00002-of-00002.safetensors")).expect("rm");
    let err = Engine::load(&ModelSpec::cpu(&hf)).expect_err("missing shard");
    assert!(err.to_string().contains("00002-of-00002"), "{err}");
}

#[test]
fn llama3_rope_scaling_from_config_runs_consistently() {
    let (_d, _, hf) = tiny_pair(
        &Tiny {
            context: 512,
            ..Tiny::default()
        },
        9,
        DType::F32,
    );
    let seq = ids(60);
    let plain = load(&hf, WeightFormat::F32).logits(&seq).expect("plain");
    let cfg_path = hf.join("config.json");
    let mut cfg = read_json(&cfg_path);
    cfg["rope_scaling"] = serde_json::json!({"rope_type": "llama3", "factor": 8.0,
        "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 32});
    write_json(&cfg_path, &cfg);
    let e = load(&hf, WeightFormat::F32);
    let scaled = e.logits(&seq).expect("scaled");
    assert!(
        max_rel_diff(&plain, &scaled) > 1e-3,
        "scaling changed nothing"
    );
    let step = e.logits_incremental(&seq[..59], seq[59]).expect("cached");
    assert!(max_rel_diff(&scaled, &step) < 1e-4);
    cfg["rope_scaling"] = serde_json::json!({"rope_type": "yarn", "factor": 4.0});
    write_json(&cfg_path, &cfg);
    let err = Engine::load(&ModelSpec::cpu(&hf)).expect_err("yarn");
    assert!(matches!(err, EngineError::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("yarn"));
}

#[test]
fn the_hf_cache_layout_resolves_offline_by_id_and_revision() {
    let (_d, _, hf) = tiny_pair(&Tiny::default(), 3, DType::F16);
    let cache = tempfile::tempdir().expect("cache");
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let repo = cache.path().join("models--acme--tiny-log-model");
    let snap = repo.join("snapshots").join(commit);
    std::fs::create_dir_all(&snap).expect("mkdir");
    std::fs::create_dir_all(repo.join("refs")).expect("mkdir");
    std::fs::write(repo.join("refs/main"), commit).expect("ref");
    for f in std::fs::read_dir(&hf).expect("ls") {
        let f = f.expect("entry").path();
        std::fs::copy(&f, snap.join(f.file_name().expect("name"))).expect("copy");
    }
    assert_eq!(
        resolve_cached("acme/tiny-log-model", cache.path()).expect("main"),
        snap
    );
    assert_eq!(
        resolve_cached(&format!("acme/tiny-log-model@{commit}"), cache.path()).expect("commit"),
        snap
    );
    assert!(matches!(
        resolve_cached("acme/tiny-log-model@v2", cache.path()),
        Err(EngineError::ModelNotFound(_))
    ));
    assert!(matches!(
        resolve_cached("acme/other", cache.path()),
        Err(EngineError::ModelNotFound(_))
    ));
    // The CLI takes the id wherever it takes a model path.
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_loglens"))
            .args(args)
            .env("HF_HUB_CACHE", cache.path())
            .env("LOGLENS_MODEL_DIR", cache.path())
            .output()
            .expect("runs");
        (
            out.status.success(),
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stdout, err) = cli(&["models", "list", "--json", "acme/tiny-log-model"]);
    assert!(ok, "{err}");
    let line: Value = serde_json::from_slice(&stdout).expect("json line");
    assert_eq!(line["architecture"], "llama");
    assert_eq!(line["quantization"], "F16");
    assert_eq!(line["name"], "acme/tiny-log-model");
    let generate = [
        "generate",
        "--raw",
        "--prompt",
        "error",
        "--max-tokens",
        "3",
        "--model",
    ];
    let (ok, _, err) = cli(&[&generate[..], &["acme/tiny-log-model"]].concat());
    assert!(ok, "{err}");
    let (ok, _, err) = cli(&[&generate[..], &["acme/missing-model"]].concat());
    assert!(!ok);
    assert!(err.contains("models--acme--missing-model"), "{err}");
}

#[test]
fn broken_hf_directories_are_clear_errors() {
    let load_err = |dir: &Path| {
        Engine::load(&ModelSpec::cpu(dir))
            .expect_err("must fail")
            .to_string()
    };
    let (_d, _, hf) = tiny_pair(&Tiny::default(), 1, DType::F32);
    // Truncated weights.
    let st = hf.join("model.safetensors");
    let bytes = std::fs::read(&st).expect("read");
    std::fs::write(&st, &bytes[..bytes.len() - 100]).expect("truncate");
    let e = load_err(&hf);
    assert!(e.contains("truncated"), "{e}");
    // Not safetensors at all.
    std::fs::write(&st, b"\x00\x01binary junk that is not a header").expect("junk");
    let e = load_err(&hf);
    assert!(e.contains("not a safetensors file"), "{e}");
    std::fs::write(&st, &bytes).expect("restore");
    // A configuration that disagrees with the weights names the tensor.
    let cfg_path = hf.join("config.json");
    let good = read_json(&cfg_path);
    let mut cfg = good.clone();
    cfg["intermediate_size"] = Value::from(96);
    write_json(&cfg_path, &cfg);
    let e = load_err(&hf);
    assert!(e.contains("ffn_gate") && e.contains("shape"), "{e}");
    // An architecture the engine does not run.
    cfg = good.clone();
    cfg["model_type"] = Value::from("gpt_neox");
    write_json(&cfg_path, &cfg);
    let e = load_err(&hf);
    assert!(e.contains("gpt_neox"), "{e}");
    // Unreadable config.
    std::fs::write(&cfg_path, "{ not json").expect("write");
    let e = load_err(&hf);
    assert!(e.contains("config.json"), "{e}");
    write_json(&cfg_path, &good);
    // No tokenizer.
    std::fs::remove_file(hf.join("tokenizer.json")).expect("rm");
    let e = load_err(&hf);
    assert!(e.contains("tokenizer.json"), "{e}");
    // A directory without a model.
    let empty = tempfile::tempdir().expect("dir");
    let e = load_err(empty.path());
    assert!(e.contains("config.json"), "{e}");
}
