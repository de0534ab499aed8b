//! Model architectures. A new architecture is one file here and one arm in
//! [`load_gguf`]; the layers they share live in [`layers`].

use candle_core::{Device, Tensor};

use super::gguf::{Gguf, WeightFormat};
use super::kv::KvCache;
use super::EngineError;

pub mod layers;
pub mod llama;

/// What every architecture offers the engine.
pub trait Model: Send + Sync {
    /// Runs `tokens` (positions `pos..pos + tokens.len()` of one sequence) through the
    /// model, appending to `cache`, and returns the logits of the last token (f32, vocab).
    fn forward(
        &self,
        tokens: &[u32],
        pos: usize,
        cache: &mut KvCache,
    ) -> Result<Tensor, EngineError>;
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
        other => Err(EngineError::Unsupported {
            what: "architecture",
            detail: format!(
                "{other:?} in {} (supported: llama, mistral)",
                gguf.path().display()
            ),
        }),
    }
}
