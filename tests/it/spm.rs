//! SentencePiece (llama-style) tokenizers built from GGUF metadata, against the ids
//! llama.cpp gives (`models/reference/tiny-spm-llama-cpp-python.json`, written by
//! `models/make-spm-reference.py` from the vocabulary stored in the same file).

use std::path::Path;

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use loglens::engine::gguf::Gguf;
use loglens::engine::tokenizer::{Detokenizer, Tok};

fn reference() -> serde_json::Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models/reference/tiny-spm-llama-cpp-python.json");
    serde_json::from_str(&std::fs::read_to_string(p).expect("reference")).expect("json")
}

/// A GGUF holding only the reference vocabulary (and one tensor, as GGUF needs).
fn write_vocab(path: &Path, r: &serde_json::Value, add_space_prefix: bool) {
    let strs = |k: &str| -> Vec<Value> {
        r[k].as_array()
            .expect("list")
            .iter()
            .map(|v| Value::String(v.as_str().expect("str").to_string()))
            .collect()
    };
    let scores: Vec<Value> = r["scores"]
        .as_array()
        .expect("scores")
        .iter()
        .map(|v| Value::F32(v.as_f64().expect("f") as f32))
        .collect();
    let types: Vec<Value> = r["types"]
        .as_array()
        .expect("types")
        .iter()
        .map(|v| Value::I32(v.as_i64().expect("i") as i32))
        .collect();
    let md: Vec<(&str, Value)> = vec![
        ("general.architecture", Value::String("llama".into())),
        ("tokenizer.ggml.model", Value::String("llama".into())),
        ("tokenizer.ggml.tokens", Value::Array(strs("tokens"))),
        ("tokenizer.ggml.scores", Value::Array(scores)),
        ("tokenizer.ggml.token_type", Value::Array(types)),
        ("tokenizer.ggml.bos_token_id", Value::U32(1)),
        ("tokenizer.ggml.eos_token_id", Value::U32(2)),
        (
            "tokenizer.ggml.add_space_prefix",
            Value::Bool(add_space_prefix),
        ),
    ];
    let t = QTensor::quantize(
        &Tensor::zeros(8, candle_core::DType::F32, &Device::Cpu).expect("t"),
        GgmlDType::F32,
    )
    .expect("q");
    let md_refs: Vec<(&str, &Value)> = md.iter().map(|(k, v)| (*k, v)).collect();
    let mut f = std::fs::File::create(path).expect("create");
    gguf_file::write(&mut f, &md_refs, &[("token_embd.weight", &t)]).expect("write");
}

#[test]
fn sentencepiece_ids_match_llama_cpp() {
    let r = reference();
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("spm.gguf");
    write_vocab(&path, &r, true);
    let tok = Tok::from_gguf(&Gguf::open(&path).expect("opens")).expect("builds");
    assert_eq!(tok.bos, Some(1));
    assert_eq!(tok.stop_ids, vec![2]);
    assert_eq!(
        (tok.bos_text.as_str(), tok.eos_text.as_str()),
        ("<s>", "</s>")
    );
    let cases = r["cases"].as_array().expect("cases");
    assert!(cases.len() >= 10);
    for c in cases {
        let text = c["text"].as_str().expect("text");
        let want: Vec<u32> = c["ids"]
            .as_array()
            .expect("ids")
            .iter()
            .map(|v| v.as_u64().expect("id") as u32)
            .collect();
        let got = tok.encode(text).expect("encodes");
        assert_eq!(got, want, "{text:?}");
        // Decoding drops the prefixed space only at the very start, and streaming the
        // ids one by one gives the same text without broken characters.
        let whole = tok.decode(&got).expect("decodes");
        if !text.contains("<s>") {
            assert_eq!(whole, text, "round trip");
        }
        let mut d = Detokenizer::default();
        let mut streamed = String::new();
        for &id in &got {
            if let Some(piece) = d.push(&tok, id).expect("pushes") {
                assert!(
                    !piece.contains('\u{fffd}'),
                    "{text:?}: broken piece {piece:?}"
                );
                streamed.push_str(&piece);
            }
        }
        assert_eq!(streamed, whole, "{text:?}");
    }
    // Constrained decoding reads every token's bytes from the same tokenizer.
    let bytes = tok.token_bytes().expect("token bytes");
    let id = |s: &str| {
        r["tokens"]
            .as_array()
            .expect("t")
            .iter()
            .position(|t| t == s)
            .expect("piece")
    };
    assert_eq!(bytes[id("▁error")], b" error");
    assert_eq!(bytes[id("<0x0A>")], b"\n");
    assert_eq!(bytes[1].first(), Some(&0xff), "control tokens are marked");
}

#[test]
fn sentencepiece_without_space_prefix_does_not_prepend() {
    let r = reference();
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("spm.gguf");
    write_vocab(&path, &r, false);
    let tok = Tok::from_gguf(&Gguf::open(&path).expect("opens")).expect("builds");
    let names = |ids: Vec<u32>| -> Vec<String> {
        ids.into_iter()
            .map(|i| tok.id_to_token(i).expect("token"))
            .collect()
    };
    assert_eq!(names(tok.encode("in on").expect("enc")), ["in", "▁on"]);
    assert_eq!(
        tok.decode(&tok.encode(" a s").expect("enc")).expect("dec"),
        " a s"
    );
}
