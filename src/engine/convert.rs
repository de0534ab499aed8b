//! `loglens models convert`: a GGUF model written out as an HF directory (config.json,
//! tokenizer.json, tokenizer_config.json, generation_config.json and one safetensors
//! file in f16 or f32), so other tools on the node can use the same weights.
//!
//! Quantized weights are dequantized; query and key projections of Llama-family files
//! are reordered from the interleaved rotary layout GGUF uses back to HF's (Qwen2 files
//! already hold HF's order). Llama 3.1's `rope_freqs` has no
//! `config.json` form that reproduces it exactly, so it is kept as a `rope_freqs.weight`
//! tensor, which loglens reads back (other tools ignore it).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use serde::Serialize;
use serde_json::json;

use super::gguf::Gguf;
use super::hf::{hf_name, permute_rotary};
use super::model::llama::LlamaConfig;
use super::tokenizer::Tok;
use super::EngineError;

/// What a conversion wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Converted {
    /// The output directory.
    pub dir: PathBuf,
    /// Tensors written.
    pub tensors: usize,
    /// Bytes of the safetensors file.
    pub weight_bytes: u64,
}

/// Converts the GGUF file `input` into an HF directory `out` (created; files in it
/// are overwritten) with weights in `dtype` (f16, bf16 or f32).
pub fn gguf_to_hf(input: &Path, out: &Path, dtype: DType) -> Result<Converted, EngineError> {
    if !matches!(dtype, DType::F16 | DType::BF16 | DType::F32) {
        return Err(EngineError::InvalidRequest(format!(
            "convert writes f16, bf16 or f32, not {dtype:?}"
        )));
    }
    let mut g = Gguf::open(input)?;
    let arch = g.string("general.architecture")?;
    let qwen2 = arch == "qwen2";
    if arch != "llama" && arch != "mistral" && !qwen2 {
        return Err(EngineError::Unsupported {
            what: "architecture",
            detail: format!(
                "{arch:?} in {} (convert handles llama, mistral, qwen2)",
                input.display()
            ),
        });
    }
    let cfg = LlamaConfig::from_gguf(&g, &arch)?;
    let tok = Tok::from_gguf(&g)?;
    let io =
        |p: &Path, e: std::io::Error| EngineError::InvalidRequest(format!("{}: {e}", p.display()));
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;

    let device = Device::Cpu;
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    let mut vocab = 0;
    for name in g.tensor_names() {
        let t = g.tensor(&name, &device)?;
        let t = if qwen2 {
            t
        } else if name.ends_with("attn_q.weight") {
            permute_rotary(&t, cfg.heads, false)?
        } else if name.ends_with("attn_k.weight") {
            permute_rotary(&t, cfg.kv_heads, false)?
        } else {
            t
        };
        if name == "token_embd.weight" {
            vocab = t.dim(0)?;
        }
        // Rotary divisors stay f32: they are read back exactly.
        let t = if name == "rope_freqs.weight" {
            t
        } else {
            t.to_dtype(dtype)?
        };
        tensors.insert(hf_name(&name), t);
    }
    let weights = out.join("model.safetensors");
    candle_core::safetensors::save(&tensors, &weights)?;

    let tied = !g.has_tensor("output.weight");
    let torch_dtype = match dtype {
        DType::F16 => "float16",
        DType::BF16 => "bfloat16",
        _ => "float32",
    };
    let (model_type, architectures) = if qwen2 {
        ("qwen2", "Qwen2ForCausalLM")
    } else if cfg.sliding_window.is_some() {
        ("mistral", "MistralForCausalLM")
    } else {
        ("llama", "LlamaForCausalLM")
    };
    let eos_ids = tok.stop_ids.clone();
    let mut config = json!({
        "architectures": [architectures],
        "model_type": model_type,
        "hidden_size": cfg.hidden,
        "intermediate_size": cfg.ffn,
        "num_hidden_layers": cfg.layers,
        "num_attention_heads": cfg.heads,
        "num_key_value_heads": cfg.kv_heads,
        "head_dim": cfg.head_dim,
        "rms_norm_eps": cfg.eps,
        "rope_theta": cfg.rope_theta,
        "max_position_embeddings": cfg.context,
        "sliding_window": cfg.sliding_window,
        "tie_word_embeddings": tied,
        "vocab_size": vocab,
        "hidden_act": "silu",
        "bos_token_id": tok.bos,
        "eos_token_id": tok.token_to_id(&tok.eos_text).or(eos_ids.first().copied()),
        "torch_dtype": torch_dtype,
        "loglens_converted_from": input.file_name().map(|n| n.to_string_lossy().into_owned()),
    });
    if qwen2 {
        config["use_sliding_window"] = json!(false);
    }
    let mut tcfg = json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": tok.bos_text,
        "eos_token": tok.eos_text,
        "model_max_length": cfg.context,
        "clean_up_tokenization_spaces": false,
    });
    if let Some(t) = g.opt_string("tokenizer.chat_template") {
        tcfg["chat_template"] = json!(t);
    }
    let gen = json!({
        "bos_token_id": tok.bos,
        "eos_token_id": eos_ids,
    });
    let write = |file: &str, text: String| -> Result<(), EngineError> {
        let p = out.join(file);
        std::fs::write(&p, text).map_err(|e| io(&p, e))
    };
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    write("config.json", pretty(&config))?;
    write("tokenizer_config.json", pretty(&tcfg))?;
    write("generation_config.json", pretty(&gen))?;
    write("tokenizer.json", tok.to_json()?)?;
    Ok(Converted {
        dir: out.to_path_buf(),
        tensors: tensors.len(),
        weight_bytes: std::fs::metadata(&weights).map(|m| m.len()).unwrap_or(0),
    })
}
