//! The engine on the real default model, compared with llama.cpp's outputs in
//! `../shared/data/reference`, and its behaviour on bad input.

use std::sync::{Arc, OnceLock};

use loglens::engine::{
    Engine, EngineError, GenerateRequest, Input, Message, ModelSpec, WeightFormat,
};
use serde_json::Value;

use super::model_path;

/// The default model, loaded once for all tests.
pub(crate) fn engine() -> &'static Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE.get_or_init(|| {
        Arc::new(
            Engine::load(&ModelSpec::cpu(model_path()))
                .expect("default model (run models/fetch-default.sh or set LOGLENS_MODEL)"),
        )
    })
}

/// The references to compare with: the one committed with the script that made it
/// (`models/make-reference.py`, llama-cpp-python), and llama.cpp's own in the shared
/// data when it is there.
fn references() -> Vec<(String, Value)> {
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models/reference/smollm2-llama-cpp-python.json");
    let shared = super::data_dir().join("reference/smollm2-llamacpp.json");
    let mut out = Vec::new();
    for (p, required) in [(committed, true), (shared, false)] {
        if !p.exists() && !required {
            continue;
        }
        let text = std::fs::read_to_string(&p).expect("reference file");
        let v: Value = serde_json::from_str(&text).expect("reference JSON");
        assert!(v["model_sha256"].as_str().is_some_and(|s| s.len() == 64));
        out.push((p.display().to_string(), v));
    }
    out
}

#[test]
fn token_ids_match_llama_cpp() {
    let tok = engine().tokenizer();
    let refs = references();
    for (name, r) in &refs {
        tokenize_matches(tok, name, r);
    }
}

/// Every text of a reference's `tokenize` cases encodes to its ids and decodes back.
pub(crate) fn tokenize_matches(tok: &loglens::engine::tokenizer::Tok, name: &str, r: &Value) {
    let cases = r["tokenize"].as_array().expect("tokenize cases");
    assert!(cases.len() >= 15, "{name}");
    for c in cases {
        let text = c["text"].as_str().expect("text");
        let want: Vec<u32> = c["ids"]
            .as_array()
            .expect("ids")
            .iter()
            .filter_map(|v| v.as_u64().map(|x| x as u32))
            .collect();
        let got = tok.encode(text).expect("encodes");
        assert_eq!(got, want, "{text:?}");
        assert_eq!(
            tok.decode(&got).expect("decodes"),
            text,
            "round trip of {text:?}"
        );
    }
}

/// Greedy tokens must equal the reference up to the first step where our own top-two
/// logit gap is below `TIE`; past a near-tie two correct implementations may diverge.
/// llama.cpp keeps its KV cache in f16 and quantizes activations to 8 bits before the
/// Q4_1 dot products, so logits differ in the first decimal; 0.2 covers that, while a
/// wrong layer, rotary or tokenizer would flip clear choices (most gaps are above 1).
#[test]
fn greedy_continuations_match_llama_cpp() {
    const TIE: f32 = 0.2;
    // The file's own Q4_1 weights, as llama.cpp runs them.
    let e = Engine::load(&ModelSpec {
        weight_format: Some(WeightFormat::Native),
        ..ModelSpec::cpu(model_path())
    })
    .expect("default model");
    for (name, r) in references() {
        let total = greedy_matches(&e, &r, TIE);
        // Every prompt is checked up to its first near-tie; overall most tokens must agree.
        assert!(
            total >= 32,
            "{name}: {total} tokens matched over the three prompts"
        );
    }
}

/// Checks each greedy case of a reference up to the first step where our own top-two
/// logit gap is below `tie` (a token that differs before that fails the test); returns
/// the tokens matched over all cases, printing each case's count.
pub(crate) fn greedy_matches(e: &Engine, r: &Value, tie: f32) -> usize {
    let mut total = 0;
    for case in r["greedy"].as_array().expect("greedy cases") {
        let ids = |k: &str| -> Vec<u32> {
            case[k]
                .as_array()
                .expect("ids")
                .iter()
                .filter_map(|v| v.as_u64().map(|x| x as u32))
                .collect()
        };
        let prompt = ids("prompt_ids");
        let want = ids("greedy_ids");
        // Our tokenizer and template give the same prompt ids.
        let text = case["prompt"].as_str().expect("prompt");
        assert_eq!(
            e.tokenizer().encode(text).expect("encodes"),
            prompt,
            "prompt ids of {text:?}"
        );
        let trace = e.greedy_trace(&prompt, want.len()).expect("runs");
        let mut matched = 0;
        for (i, ((tok, gap), w)) in trace.iter().zip(&want).enumerate() {
            if tok == w {
                matched = i + 1;
                continue;
            }
            assert!(
                *gap < tie,
                "step {i} of {text:?}: got {tok}, llama.cpp {w}, gap {gap} is no tie"
            );
            break;
        }
        total += matched;
        eprintln!(
            "greedy match: {matched}/{} tokens (gaps {:?}) for {:?}",
            want.len(),
            trace
                .iter()
                .take(matched + 1)
                .map(|(_, g)| (g * 100.0).round() / 100.0)
                .collect::<Vec<_>>(),
            text.chars().take(40).collect::<String>()
        );
    }
    total
}

#[test]
fn chat_template_from_the_model_renders_chatml() {
    let e = engine();
    let s = e
        .render_chat(&[Message::new("system", "S"), Message::new("user", "U")])
        .expect("renders");
    assert_eq!(
        s,
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"
    );
    let stops = &e.tokenizer().stop_ids;
    assert!(stops.contains(&2) && stops.contains(&0), "{stops:?}");
}

#[test]
fn generation_stops_limits_and_seeds() {
    let e = engine();
    let msgs = vec![Message::new(
        "user",
        "List three causes of disk full errors.",
    )];
    let mut req = GenerateRequest::new(Input::Messages(msgs.clone()), 12);
    let (text, finish, usage) = e.generate_text(&req).expect("generates");
    assert_eq!(finish, loglens::engine::FinishReason::Length);
    assert_eq!(usage.completion_tokens, 12);
    assert!(!text.is_empty());
    // A stop string cuts the output before it.
    let first_word = text
        .split_whitespace()
        .nth(1)
        .expect("two words")
        .to_string();
    req.stop = vec![first_word.clone()];
    let (cut, finish, _) = e.generate_text(&req).expect("generates");
    assert_eq!(finish, loglens::engine::FinishReason::Stop);
    assert!(
        !cut.contains(&first_word),
        "{cut:?} contains {first_word:?}"
    );
    assert!(text.starts_with(cut.trim_end()), "{cut:?} vs {text:?}");
    // A stop string that never comes changes nothing (held-back text is flushed).
    req.stop = vec!["\u{1}never\u{1}".into()];
    let (same, _, _) = e.generate_text(&req).expect("generates");
    assert_eq!(same, text);
    // Same seed, same output.
    req.stop.clear();
    req.sampling.temperature = 0.9;
    req.sampling.seed = Some(42);
    let a = e.generate_text(&req).expect("generates").0;
    let b = e.generate_text(&req).expect("generates").0;
    assert_eq!(a, b);
}

#[test]
fn over_long_prompts_and_bad_files_are_clear_errors() {
    let e = engine();
    let long = "error ".repeat(9000);
    let err = e
        .generate_text(&GenerateRequest::new(Input::Prompt(long), 16))
        .expect_err("too long");
    assert!(matches!(err, EngineError::ContextOverflow { .. }), "{err}");
    assert!(err.to_string().contains("context length 8192"), "{err}");

    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("none.gguf");
    let err = Engine::load(&ModelSpec::cpu(&missing)).expect_err("missing");
    assert!(matches!(err, EngineError::ModelNotFound(_)), "{err}");
    // A truncated copy of the real model.
    let bytes = std::fs::read(model_path()).expect("model bytes");
    let cut = dir.path().join("cut.gguf");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let err = Engine::load(&ModelSpec::cpu(&cut)).expect_err("truncated");
    assert!(err.to_string().contains("truncated"), "{err}");
    let junk = dir.path().join("junk.gguf");
    std::fs::write(&junk, b"definitely not a model").expect("write");
    let err = Engine::load(&ModelSpec::cpu(&junk)).expect_err("junk");
    assert!(err.to_string().contains("junk.gguf"), "{err}");
}

/// `models convert` on the default model: the f16 HF directory it writes gives the same
/// greedy tokens as the GGUF, up to near-ties (f16 rounding of the dequantized weights
/// moves logits by a few hundredths), and logits within that rounding.
#[test]
fn converted_default_model_gives_the_gguf_tokens() {
    const TIE: f32 = 0.1;
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("smollm2-hf");
    loglens::engine::convert::gguf_to_hf(&model_path(), &out, candle_core::DType::F16)
        .expect("converts");
    let hf = Engine::load(&ModelSpec::cpu(&out)).expect("converted model loads");
    // The GGUF dequantized as the conversion does (the default would run it as stored,
    // with 8-bit activations, which moves logits by more than f16 rounding does).
    let gguf = Engine::load(&ModelSpec {
        weight_format: Some(WeightFormat::F32),
        ..ModelSpec::cpu(model_path())
    })
    .expect("default model");
    assert_eq!(hf.info().vocab_size, gguf.info().vocab_size);
    assert_eq!(hf.tokenizer().stop_ids, gguf.tokenizer().stop_ids);
    let msgs = vec![Message::new("user", "Why would a pod restart?")];
    assert_eq!(
        hf.render_chat(&msgs).expect("template"),
        gguf.render_chat(&msgs).expect("template")
    );
    let (_, r) = references().remove(0);
    let mut compared = 0;
    for case in r["greedy"].as_array().expect("cases") {
        let prompt = case["prompt"].as_str().expect("prompt");
        let ids = gguf.tokenizer().encode(prompt).expect("encodes");
        assert_eq!(hf.tokenizer().encode(prompt).expect("encodes"), ids);
        let (a, b) = (
            gguf.logits(&ids).expect("gguf"),
            hf.logits(&ids).expect("hf"),
        );
        let scale = a.iter().map(|x| x.abs()).fold(0.0, f32::max);
        let diff = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(
            diff / scale < 0.01,
            "{prompt:?}: max logit diff {diff} of {scale}"
        );
        let ta = gguf.greedy_trace(&ids, 16).expect("gguf");
        let tb = hf.greedy_trace(&ids, 16).expect("hf");
        for ((x, gap), (y, _)) in ta.iter().zip(&tb) {
            if x != y {
                assert!(*gap < TIE, "{prompt:?}: {x} vs {y} with gap {gap}");
                break;
            }
            compared += 1;
        }
    }
    assert!(compared >= 24, "{compared} tokens agreed");
}
