//! The engine's error type, and the [`ErrorKind`] a client of the engine acts on (the
//! HTTP server maps kinds and variants to statuses; it never reads the message text).

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
    /// A constraint (JSON schema, regex, grammar, choice list) cannot be compiled.
    #[error("invalid constraint: {0}")]
    InvalidConstraint(String),
    /// A constraint is over one of the limits checked before compiling it.
    #[error("the constraint's {what} is {found}, over the limit of {limit}")]
    ConstraintTooLarge {
        /// What was measured (properties, nesting depth, nodes, `$ref` chain, ...).
        what: &'static str,
        /// What the request has.
        found: usize,
        /// The most allowed.
        limit: usize,
    },
    /// Counting the prompt's tokens stopped once they were over the context (the whole
    /// prompt was not tokenized).
    #[error(
        "prompt of at least {at_least} tokens exceeds the context length {context} of the model"
    )]
    PromptOverContext {
        /// Tokens counted before stopping.
        at_least: usize,
        /// The model's context length.
        context: usize,
    },
    /// The prompt has more bytes than the context could hold as tokens: refused before
    /// it is tokenized.
    #[error("prompt of {bytes} bytes cannot fit the context length {context} of the model (at most {limit} bytes)")]
    PromptTooLarge {
        /// The prompt's bytes.
        bytes: usize,
        /// The most bytes a prompt that fits the context can have.
        limit: usize,
        /// The model's context length in tokens.
        context: usize,
    },
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

/// Who is at fault for an error, and so what a client should do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is invalid; sending it again will fail again.
    Request,
    /// The prompt does not fit the model's context.
    Context,
    /// The request's constraint is invalid, too large, or failed while decoding.
    Constraint,
    /// The engine is busy; retry later.
    Busy,
    /// The engine is stopping.
    Unavailable,
    /// Something failed inside loglens (model file, compute); not the request's fault.
    Internal,
}

impl EngineError {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::InvalidRequest(_)
            | EngineError::Tokenizer(_)
            | EngineError::Template(_) => ErrorKind::Request,
            EngineError::ContextOverflow { .. }
            | EngineError::PromptTooLarge { .. }
            | EngineError::PromptOverContext { .. } => ErrorKind::Context,
            EngineError::Constraint(_)
            | EngineError::InvalidConstraint(_)
            | EngineError::ConstraintTooLarge { .. } => ErrorKind::Constraint,
            EngineError::Overloaded { .. } => ErrorKind::Busy,
            EngineError::ShuttingDown => ErrorKind::Unavailable,
            EngineError::ModelNotFound(_)
            | EngineError::InvalidModel { .. }
            | EngineError::Unsupported { .. }
            | EngineError::Compute(_) => ErrorKind::Internal,
        }
    }
}
