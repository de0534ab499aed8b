//! Qwen2 and Qwen2.5 (`qwen2` in GGUF, `model_type: qwen2` in HF): the Llama-family
//! decoder of [`super::llama`] with biases on the query, key and value projections and
//! half-split (NEOX) rotary embedding. Its converters keep HF's query/key row order in
//! GGUF, so the weights are used as stored and the rotary pairs dimension `i` with
//! `i + head_dim / 2` (HF's `rotate_half`), from either source.

use std::path::Path;

use candle_core::Device;
use serde::Deserialize;
use serde_json::Value;

use super::layers::RopeStyle;
use super::llama::{Llama, LlamaConfig};
use crate::engine::gguf::{Gguf, WeightFormat};
use crate::engine::hf::{HfConfig, HfModel};
use crate::engine::EngineError;

/// `config.json` of a Qwen2 checkpoint, with HF's field names.
#[derive(Debug, Clone, Deserialize)]
pub struct Qwen2Config {
    /// Hidden size.
    pub hidden_size: usize,
    /// Feed-forward width.
    pub intermediate_size: usize,
    /// Layers.
    pub num_hidden_layers: usize,
    /// Attention heads.
    pub num_attention_heads: usize,
    /// Key/value heads.
    pub num_key_value_heads: usize,
    /// Context length.
    pub max_position_embeddings: usize,
    /// Rotary base.
    #[serde(default = "default_theta")]
    pub rope_theta: f64,
    /// RMS norm epsilon.
    #[serde(default = "default_eps")]
    pub rms_norm_eps: f64,
    /// Sliding window size, used only when `use_sliding_window` is set.
    #[serde(default)]
    pub sliding_window: Option<usize>,
    /// Whether layers from `max_window_layers` on attend through the sliding window
    /// (false in every Qwen2.5 release).
    #[serde(default)]
    pub use_sliding_window: bool,
    /// Activation (only `silu` is run).
    #[serde(default)]
    pub hidden_act: Option<String>,
    /// Rotary scaling (`null` in the releases; YaRN is not run).
    #[serde(default)]
    pub rope_scaling: Option<Value>,
}

fn default_theta() -> f64 {
    10_000.0
}

fn default_eps() -> f64 {
    1e-6
}

impl Qwen2Config {
    /// The decoder's runtime configuration.
    pub fn into_config(self, path: &Path) -> Result<LlamaConfig, EngineError> {
        let (heads, kv_heads) = (self.num_attention_heads, self.num_key_value_heads);
        let head_dim = self.hidden_size.checked_div(heads).unwrap_or(0);
        if heads == 0 || kv_heads == 0 || head_dim == 0 || !heads.is_multiple_of(kv_heads) {
            return Err(EngineError::InvalidModel {
                path: path.to_path_buf(),
                reason: format!(
                    "inconsistent shape: hidden {}, heads {heads}, kv heads {kv_heads}",
                    self.hidden_size
                ),
            });
        }
        let unsupported = |what, detail: String| EngineError::Unsupported { what, detail };
        if let Some(act) = self.hidden_act.as_deref().filter(|a| *a != "silu") {
            return Err(unsupported(
                "activation",
                format!("{act:?} in {} (supported: silu)", path.display()),
            ));
        }
        if self.use_sliding_window {
            return Err(unsupported(
                "attention",
                format!(
                    "use_sliding_window in {} (Qwen2's per-layer sliding window is not run)",
                    path.display()
                ),
            ));
        }
        Ok(LlamaConfig {
            hidden: self.hidden_size,
            layers: self.num_hidden_layers,
            heads,
            kv_heads,
            head_dim,
            eps: self.rms_norm_eps as f32,
            rope_theta: self.rope_theta as f32,
            context: self.max_position_embeddings,
            sliding_window: None,
            ffn: self.intermediate_size,
            rope_style: RopeStyle::HalfSplit,
        })
    }
}

/// Loads a `qwen2` GGUF file.
pub fn from_gguf(
    g: &mut Gguf,
    device: &Device,
    format: WeightFormat,
) -> Result<Llama, EngineError> {
    let mut cfg = LlamaConfig::from_gguf(g, "qwen2")?;
    cfg.rope_style = RopeStyle::HalfSplit;
    require_biases(g.path(), |n| g.has_tensor(n))?;
    Llama::from_gguf_config(cfg, g, "qwen2", device, format)
}

/// Loads a Qwen2 HF directory.
pub fn from_hf(m: &HfModel, device: &Device, format: WeightFormat) -> Result<Llama, EngineError> {
    let path = m.dir().join("config.json");
    let json = m
        .json("config.json")?
        .ok_or_else(|| EngineError::ModelNotFound(path.clone()))?;
    let cfg: Qwen2Config = serde_json::from_value(json).map_err(|e| EngineError::InvalidModel {
        path: path.clone(),
        reason: format!("config.json: {e}"),
    })?;
    let scaling = HfConfig {
        rope_scaling: cfg.rope_scaling.clone(),
        rope_theta: Some(cfg.rope_theta),
        ..m.config.clone()
    };
    let head_dim = cfg.hidden_size / cfg.num_attention_heads.max(1);
    if scaling.rope_freq_factors(head_dim, &path)?.is_some() {
        return Err(EngineError::Unsupported {
            what: "rope scaling",
            detail: format!("{} (Qwen2 runs without rope_scaling)", path.display()),
        });
    }
    let cfg = cfg.into_config(&path)?;
    require_biases(m.dir(), |n| m.has(&crate::engine::hf::hf_name(n)))?;
    Llama::from_hf_config(cfg, m, device, format)
}

/// A Qwen2 checkpoint without attention biases is not a Qwen2 checkpoint: refuse it
/// rather than run it as something else.
fn require_biases(path: &Path, has: impl Fn(&str) -> bool) -> Result<(), EngineError> {
    for part in ["attn_q", "attn_k", "attn_v"] {
        let name = format!("blk.0.{part}.bias");
        if !has(&name) {
            return Err(EngineError::InvalidModel {
                path: path.to_path_buf(),
                reason: format!("tensor {name} is missing (Qwen2 has query, key and value biases)"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields of Qwen2.5-Coder-1.5B-Instruct's `config.json`.
    fn release_config() -> Value {
        serde_json::json!({
            "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0,
            "bos_token_id": 151643, "eos_token_id": 151645, "hidden_act": "silu",
            "hidden_size": 1536, "initializer_range": 0.02, "intermediate_size": 8960,
            "max_position_embeddings": 32768, "max_window_layers": 21, "model_type": "qwen2",
            "num_attention_heads": 12, "num_hidden_layers": 28, "num_key_value_heads": 2,
            "rms_norm_eps": 1e-06, "rope_scaling": null, "rope_theta": 1000000.0,
            "sliding_window": 131072, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
            "transformers_version": "4.44.0", "use_cache": true, "use_sliding_window": false,
            "vocab_size": 151936
        })
    }

    #[test]
    fn release_config_runs_half_split_without_a_window() {
        let c: Qwen2Config = serde_json::from_value(release_config()).expect("parses");
        let r = c.into_config(Path::new("x")).expect("converts");
        assert_eq!((r.hidden, r.layers, r.heads, r.kv_heads), (1536, 28, 12, 2));
        assert_eq!(r.head_dim, 128);
        assert_eq!(r.sliding_window, None, "sliding_window is off unless used");
        assert_eq!(r.rope_style, RopeStyle::HalfSplit);
        assert_eq!(r.rope_theta, 1_000_000.0);
        let mut on = release_config();
        on["use_sliding_window"] = Value::Bool(true);
        let c: Qwen2Config = serde_json::from_value(on).expect("parses");
        assert!(matches!(
            c.into_config(Path::new("x")),
            Err(EngineError::Unsupported { .. })
        ));
    }
}
