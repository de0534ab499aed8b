//! The engine's error type.

use std::path::PathBuf;

/// Everything that can go wrong loading a model or generating.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The model file or directory does not exist.
    #[error("model not found: {0}")]
    ModelNotFound(PathBuf),
    /// The model file exists but cannot be read as a model.
    #[error("cannot load model {path}: {reason}")]
    InvalidModel {
        /// The file.
        path: PathBuf,
        /// What is wrong (truncated, missing tensor, bad metadata, ...).
        reason: String,
    },
    /// The model uses an architecture, quantization or tokenizer loglens does not run.
    #[error("unsupported {what}: {detail}")]
    Unsupported {
        /// What kind of thing (architecture, tokenizer, quantization, ...).
        what: &'static str,
        /// Which one, and what is supported.
        detail: String,
    },
    /// The prompt plus the tokens asked for do not fit the model's context.
    #[error("prompt of {prompt} tokens plus max_tokens {max_tokens} exceeds the context length {context} of the model")]
    ContextOverflow {
        /// Prompt tokens.
        prompt: usize,
        /// Tokens asked for.
        max_tokens: usize,
        /// The model's context length.
        context: usize,
    },
    /// A request parameter is out of range.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Tokenizing or detokenizing failed.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// Rendering the chat template failed.
    #[error("chat template: {0}")]
    Template(String),
    /// The grammar of a constrained request failed while decoding.
    #[error("constraint: {0}")]
    Constraint(String),
    /// The scheduler's queue is full; retry later.
    #[error("the engine is busy: {queued} requests waiting (limit {limit})")]
    Overloaded {
        /// Requests waiting.
        queued: usize,
        /// The queue limit.
        limit: usize,
    },
    /// The scheduler has stopped (shutting down).
    #[error("the engine is shutting down")]
    ShuttingDown,
    /// A tensor operation failed.
    #[error("compute: {0}")]
    Compute(#[from] candle_core::Error),
}
