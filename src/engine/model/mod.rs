//! Model architectures. A new architecture is one file here and one arm in
//! [`load_gguf`] and [`load_hf`]; the layers they share live in [`layers`].

use candle_core::{Device, Tensor};

use super::gguf::{Gguf, WeightFormat};
use super::hf::HfModel;
use super::kv::KvCache;
use super::EngineError;

pub mod layers;
pub mod llama;
pub mod qwen2;

/// One sequence's share of a batched forward pass: its new tokens, the position of the
/// first of them, and its cache.
#[derive(Debug)]
pub struct Step<'a> {
    /// New tokens of this sequence.
    pub tokens: &'a [u32],
    /// Position of `tokens[0]` in the sequence.
    pub pos: usize,
    /// The sequence's cache, appended to.
    pub cache: &'a mut KvCache,
}

/// What every architecture offers the engine.
pub trait Model: Send + Sync {
    /// Runs several sequences at once (each with its own tokens, position and cache):
    /// the weight matmuls see all their tokens together, attention runs per sequence.
    /// Returns the logits of each sequence's last token (f32, vocab).
    fn forward_batch(&self, steps: &mut [Step<'_>]) -> Result<Vec<Tensor>, EngineError>;
    /// One sequence: `tokens` at positions `pos..`, appending to `cache`; the logits of
    /// the last token.
    fn forward(
        &self,
        tokens: &[u32],
        pos: usize,
        cache: &mut KvCache,
    ) -> Result<Tensor, EngineError> {
        let mut steps = [Step { tokens, pos, cache }];
        let mut out = self.forward_batch(&mut steps)?;
        out.pop()
            .ok_or_else(|| EngineError::InvalidRequest("no sequence to run".into()))
    }
    /// A fresh cache for one sequence.
    fn new_cache(&self) -> KvCache;
    /// Static facts about the model.
    fn info(&self) -> &ModelInfo;
}

/// Static facts about a loaded model.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    /// Architecture name (`llama`, ...).
    pub architecture: String,
    /// Human name from the file, if any.
    pub name: Option<String>,
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Context length in tokens.
    pub context_length: usize,
    /// Number of parameters.
    pub parameters: u64,
    /// Storage type of the main weights as in the file (e.g. `Q4_1`).
    pub file_quantization: String,
    /// Weight format in memory.
    pub weight_format: WeightFormat,
    /// Bytes of weights in the file.
    pub file_weight_bytes: u64,
    /// What runs the weight matmuls, e.g. `loglens-kernels avx512-vnni (211 of 211
    /// matrices)` or `candle`.
    pub matmul: String,
}

/// Loads the architecture a GGUF file declares.
pub fn load_gguf(
    gguf: &mut Gguf,
    device: &Device,
    format: WeightFormat,
) -> Result<Box<dyn Model>, EngineError> {
    let arch = gguf.string("general.architecture")?;
    match arch.as_str() {
        // Mistral and SmolLM GGUFs are written as `llama`; Mistral's sliding window is
        // read from the metadata when present.
        "llama" | "mistral" => Ok(Box::new(llama::Llama::from_gguf(
            gguf, &arch, device, format,
        )?)),
        "qwen2" => Ok(Box::new(qwen2::from_gguf(gguf, device, format)?)),
        other => Err(EngineError::Unsupported {
            what: "architecture",
            detail: format!(
                "{other:?} in {} (supported: llama, mistral, qwen2)",
                gguf.path().display()
            ),
        }),
    }
}

/// Loads the architecture an HF directory's `config.json` declares.
pub fn load_hf(
    m: &HfModel,
    device: &Device,
    format: WeightFormat,
) -> Result<Box<dyn Model>, EngineError> {
    match m.model_type() {
        "llama" | "mistral" => Ok(Box::new(llama::Llama::from_hf(m, device, format)?)),
        "qwen2" => Ok(Box::new(qwen2::from_hf(m, device, format)?)),
        other => Err(EngineError::Unsupported {
            what: "architecture",
            detail: format!(
                "model_type {other:?} in {} (supported: llama, mistral, qwen2)",
                m.dir().display()
            ),
        }),
    }
}
