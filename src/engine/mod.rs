//! The inference engine: loads a model, tokenizes, renders chat templates, runs the
//! decoder over an engine-owned KV cache and samples, streaming [`Event`]s to the caller.
//! It knows nothing about logs or HTTP; the pipeline and the server are its clients.
//!
//! # Layout
//! - [`gguf`]: reading GGUF files and choosing the in-memory weight format.
//! - [`convert`]: GGUF to an HF directory.
//! - [`random`]: random-weight models of real shapes, for speed runs and tests.
//! - [`hf`]: HF directories (safetensors, config and tokenizer files) and the HF cache.
//! - [`weights`]: one interface over both for the architectures.
//! - [`model`]: architectures ([`model::llama`]) and shared layers.
//! - [`kv`]: the per-sequence KV cache.
//! - [`tokenizer`]: BPE from GGUF metadata or `tokenizer.json`; incremental detokenizer.
//! - [`chat`]: chat templates (minijinja, HF semantics, built-in fallbacks).
//! - [`sampling`]: logits to tokens.
//! - [`constrain`]: grammar-constrained decoding (llguidance).
//! - [`batch`]: sequences in flight and one forward step over them.
//! - [`scheduler`]: continuous batching on a thread of its own, for servers.
//! - [`device`]: CPU or CUDA.

pub mod batch;
pub mod chat;
pub mod constrain;
pub mod convert;
pub mod device;
pub mod error;
pub mod gguf;
pub mod hf;
pub mod kv;
pub mod locate;
pub mod model;
pub mod quant;
pub mod random;
pub mod sampling;
pub mod scheduler;
pub mod tokenizer;
pub mod weights;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use serde::Serialize;

pub use batch::{Prepared, Sink};
pub use chat::Message;
pub use constrain::Constraint;
pub use device::DeviceSpec;
pub use error::{EngineError, ErrorKind};
pub use gguf::WeightFormat;
pub use sampling::SamplingParams;
pub use scheduler::{Scheduler, SchedulerConfig};

use crate::metrics::Histogram;
use chat::ChatTemplate;
use constrain::Grammars;
use model::{Model, ModelInfo};
use tokenizer::Tok;

/// Most tokens one forward pass of a batch runs (decode tokens plus prompt chunks).
pub const STEP_TOKENS: usize = 512;

/// What `models list` shows of a model file, read from its header only.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSummary {
    /// The file.
    pub path: PathBuf,
    /// `general.name`, if set.
    pub name: Option<String>,
    /// `general.architecture`.
    pub architecture: String,
    /// Number of weights.
    pub parameters: u64,
    /// Storage type of the attention weights (e.g. `Q4_1`).
    pub quantization: String,
    /// Context length.
    pub context_length: Option<u64>,
    /// File size in bytes.
    pub size_bytes: u64,
}

/// Reads the summary of a model (a GGUF file or an HF directory) without loading its
/// weights.
pub fn summarize(path: &Path) -> Result<ModelSummary, EngineError> {
    if path.is_dir() {
        let m = hf::HfModel::open(path)?;
        let size_bytes = std::fs::read_dir(path)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter_map(|e| std::fs::metadata(e.path()).ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        return Ok(ModelSummary {
            path: path.to_path_buf(),
            name: m.name(),
            architecture: m.model_type().to_string(),
            parameters: m.weight_elements(),
            quantization: format!("{:?}", m.dtype()?).to_uppercase(),
            context_length: m.config.max_position_embeddings.map(|c| c as u64),
            size_bytes,
        });
    }
    let g = gguf::Gguf::open(path)?;
    let architecture = g.string("general.architecture")?;
    Ok(ModelSummary {
        path: path.to_path_buf(),
        name: g.opt_string("general.name"),
        parameters: g.weight_elements(),
        quantization: g
            .tensor_dtype("blk.0.attn_q.weight")
            .map_or_else(|| "unknown".into(), |d| format!("{d:?}")),
        context_length: g.opt_uint(&format!("{architecture}.context_length")),
        architecture,
        size_bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
    })
}

/// Resolves what the user named as a model: an existing path (a `.gguf` file or an HF
/// directory), else a repository id (`org/name` or `org/name@revision`) looked up in
/// the local HF cache. Nothing is downloaded.
pub fn resolve_model(path: &Path) -> Result<PathBuf, EngineError> {
    if path.exists() {
        return Ok(path.to_path_buf());
    }
    let text = path.to_string_lossy();
    if hf::looks_like_repo_id(&text) {
        if let Some(cache) = hf::cache_dir() {
            return hf::resolve_cached(&text, &cache);
        }
    }
    Err(EngineError::ModelNotFound(path.to_path_buf()))
}

/// Where a model comes from.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    /// A `.gguf` file, an HF directory, or a repository id in the local HF cache.
    pub path: PathBuf,
    /// Device to run on.
    pub device: DeviceSpec,
    /// Weight format; `None` picks the device's default.
    pub weight_format: Option<WeightFormat>,
}

impl ModelSpec {
    /// A GGUF file on the CPU with default settings.
    pub fn cpu(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            device: DeviceSpec::Cpu,
            weight_format: None,
        }
    }
}

/// What to generate from.
#[derive(Debug, Clone)]
pub enum Input {
    /// Raw text, tokenized as is (special tokens in it are recognised).
    Prompt(String),
    /// A conversation, rendered with the model's chat template.
    Messages(Vec<Message>),
    /// Token ids.
    Tokens(Vec<u32>),
}

/// One generation request.
#[derive(Debug, Clone)]
pub struct GenerateRequest {
    /// The input.
    pub input: Input,
    /// Sampling parameters.
    pub sampling: SamplingParams,
    /// Most tokens to generate.
    pub max_tokens: usize,
    /// Stop strings (matched across token boundaries, not included in the output).
    pub stop: Vec<String>,
    /// What the output must match.
    pub constraint: Option<Constraint>,
    /// Report each token's log-probability and this many alternatives (0..=20).
    pub logprobs: Option<usize>,
    /// Set from any thread to stop the request at the next step.
    pub cancel: Option<CancelToken>,
}

/// Cancels a request from another thread (a client that went away).
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks for the request to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether it was asked to stop.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl GenerateRequest {
    /// A greedy request with defaults.
    pub fn new(input: Input, max_tokens: usize) -> Self {
        Self {
            input,
            sampling: SamplingParams::default(),
            max_tokens,
            stop: Vec::new(),
            constraint: None,
            logprobs: None,
            cancel: None,
        }
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// An end-of-turn token or a stop string.
    Stop,
    /// `max_tokens` reached.
    Length,
    /// The caller stopped it.
    Cancelled,
}

/// Token counts and timings of one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: usize,
    /// Generated tokens.
    pub completion_tokens: usize,
    /// Time to the first generated token, in seconds.
    pub ttft_s: f64,
    /// Total time, in seconds.
    pub total_s: f64,
    /// Full grammar masks computed (a sampled token the grammar refused).
    pub constraint_masks: usize,
    /// Seconds spent in the grammar: checking sampled tokens, masks, advancing, forced
    /// tokens.
    pub constraint_s: f64,
    /// Tokens the grammar forced (fed without sampling).
    pub forced_tokens: usize,
}

/// One alternative token and its log-probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TopLogprob {
    /// Token id.
    pub id: u32,
    /// Natural log of its probability.
    pub logprob: f32,
}

/// What the engine streams back.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A piece of generated text (whole UTF-8 characters), with the token id that
    /// completed it.
    Text {
        /// The text.
        text: String,
        /// The token.
        token: u32,
    },
    /// A generated token with its log-probability (only when the request asks for
    /// logprobs); comes before the text it completes.
    Token {
        /// The token.
        id: u32,
        /// Its log-probability under the model (0 for tokens the grammar forced).
        logprob: f32,
        /// The most likely tokens at that position.
        top: Vec<TopLogprob>,
    },
    /// The request failed while generating; nothing follows.
    Error {
        /// What went wrong.
        message: String,
        /// Whose fault it is (what a client should do).
        kind: ErrorKind,
    },
    /// The end.
    Done {
        /// Why it ended.
        finish: FinishReason,
        /// Counts and timings.
        usage: Usage,
    },
}

/// Where a request's events go; returning `ControlFlow::Break` cancels the request.
pub type EventSink<'a> = dyn FnMut(Event) -> ControlFlow<()> + 'a;

/// A loaded model with its tokenizer and chat template.
pub struct Engine {
    model: Box<dyn Model>,
    tok: Tok,
    template: ChatTemplate,
    path: PathBuf,
    grammars: OnceLock<Result<Grammars, String>>,
    token_bytes: OnceLock<Vec<Vec<u8>>>,
    digit_tokens: OnceLock<Vec<bool>>,
    /// Time of each full grammar mask computed.
    pub mask_hist: Histogram,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("path", &self.path)
            .field("info", self.model.info())
            .finish()
    }
}

impl Engine {
    /// Loads a model: a GGUF file, an HF directory, or a repository id found in the
    /// local HF cache.
    pub fn load(spec: &ModelSpec) -> Result<Self, EngineError> {
        let device = spec.device.open()?;
        let path = resolve_model(&spec.path)?;
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let (model, tok, source) = if path.is_dir() {
            let m = hf::HfModel::open(&path)?;
            let tok = Tok::from_hf(&m)?;
            let format = spec
                .weight_format
                .unwrap_or_else(|| WeightFormat::default_for(&device, m.weight_elements()));
            let model = model::load_hf(&m, &device, format)?;
            (model, tok, m.chat_template()?)
        } else if ext == "gguf" {
            let mut g = gguf::Gguf::open(&path)?;
            let tok = Tok::from_gguf(&g)?;
            let format = spec
                .weight_format
                .unwrap_or_else(|| WeightFormat::default_for_gguf(&device, &g));
            let model = model::load_gguf(&mut g, &device, format)?;
            (model, tok, g.opt_string("tokenizer.chat_template"))
        } else {
            return Err(EngineError::Unsupported {
                what: "model format",
                detail: format!(
                    "{} (loglens loads .gguf files and HF directories with config.json and safetensors)",
                    path.display()
                ),
            });
        };
        if tok.vocab_size() > model.info().vocab_size {
            return Err(EngineError::InvalidModel {
                path: path.clone(),
                reason: format!(
                    "tokenizer has {} tokens but the embedding has {} rows",
                    tok.vocab_size(),
                    model.info().vocab_size
                ),
            });
        }
        let source = source.unwrap_or_else(|| {
            ChatTemplate::builtin_for(|t| tok.token_to_id(t).is_some()).to_string()
        });
        let template = ChatTemplate::new(&source, &tok.bos_text, &tok.eos_text)?;
        Ok(Self {
            model,
            tok,
            template,
            path,
            grammars: OnceLock::new(),
            token_bytes: OnceLock::new(),
            digit_tokens: OnceLock::new(),
            mask_hist: Histogram::new(crate::metrics::FINE_BOUNDS),
        })
    }

    /// Facts about the model.
    pub fn info(&self) -> &ModelInfo {
        self.model.info()
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &Tok {
        &self.tok
    }

    /// The grammar compiler, built on first use (the token trie takes a moment).
    pub fn grammars(&self) -> Result<&Grammars, EngineError> {
        self.grammars
            .get_or_init(|| {
                Grammars::new(&self.tok, self.info().vocab_size).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| EngineError::Unsupported {
                what: "constrained decoding",
                detail: e.clone(),
            })
    }

    /// A token's text for display (lossy when it holds part of a character) and its
    /// exact bytes.
    pub fn token_piece(&self, id: u32) -> (String, Vec<u8>) {
        let mut bytes = self
            .token_bytes_table()
            .get(id as usize)
            .cloned()
            .unwrap_or_default();
        if bytes.first() == Some(&0xff) {
            bytes.remove(0);
        }
        (String::from_utf8_lossy(&bytes).into_owned(), bytes)
    }

    /// Every token's bytes by id (special tokens marked with a leading 0xFF), built once.
    fn token_bytes_table(&self) -> &[Vec<u8>] {
        self.token_bytes
            .get_or_init(|| self.tok.token_bytes().unwrap_or_default())
    }

    /// Which token ids are made of ASCII digits only.
    pub(crate) fn digit_tokens(&self) -> &[bool] {
        self.digit_tokens.get_or_init(|| {
            self.token_bytes_table()
                .iter()
                .map(|b| !b.is_empty() && b.iter().all(u8::is_ascii_digit))
                .collect()
        })
    }

    /// Renders messages with the chat template, assistant turn opened.
    pub fn render_chat(&self, messages: &[Message]) -> Result<String, EngineError> {
        self.template.render(messages, true)
    }

    /// Prompt token ids of a request.
    pub fn prompt_tokens(&self, input: &Input) -> Result<Vec<u32>, EngineError> {
        match input {
            Input::Prompt(p) => self.tok.encode(p),
            Input::Messages(m) => self.tok.encode(&self.render_chat(m)?),
            Input::Tokens(t) => Ok(t.clone()),
        }
    }

    /// Logits after `tokens` (run from an empty cache), for tests and comparisons.
    pub fn logits(&self, tokens: &[u32]) -> Result<Vec<f32>, EngineError> {
        let mut cache = self.model.new_cache();
        let l = self.model.forward(tokens, 0, &mut cache)?;
        Ok(l.to_vec1::<f32>()?)
    }

    /// Logits after `prefix` then `next`, run as a prefill of `prefix` and one cached
    /// decode step: must equal [`Engine::logits`] of the whole sequence.
    pub fn logits_incremental(&self, prefix: &[u32], next: u32) -> Result<Vec<f32>, EngineError> {
        let mut cache = self.model.new_cache();
        if !prefix.is_empty() {
            self.model.forward(prefix, 0, &mut cache)?;
        }
        let l = self.model.forward(&[next], prefix.len(), &mut cache)?;
        Ok(l.to_vec1::<f32>()?)
    }

    /// Greedy decoding of `n` tokens after `prompt`, returning each chosen token with the
    /// gap between its logit and the runner-up's (how close the choice was). Used to
    /// compare with other implementations, where near-ties may legitimately flip.
    pub fn greedy_trace(&self, prompt: &[u32], n: usize) -> Result<Vec<(u32, f32)>, EngineError> {
        let mut cache = self.model.new_cache();
        let mut logits = self
            .model
            .forward(prompt, 0, &mut cache)?
            .to_vec1::<f32>()?;
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let best = sampling::argmax(&logits);
            let second = logits
                .iter()
                .enumerate()
                .filter(|(j, _)| *j as u32 != best)
                .map(|(_, v)| *v)
                .fold(f32::NEG_INFINITY, f32::max);
            out.push((best, logits[best as usize] - second));
            if i + 1 < n {
                logits = self
                    .model
                    .forward(&[best], prompt.len() + i, &mut cache)?
                    .to_vec1::<f32>()?;
            }
        }
        Ok(out)
    }

    /// Runs a request, calling `sink` with each event; the sink returns
    /// `ControlFlow::Break` to cancel. Returns the usage.
    pub fn generate(
        &self,
        req: &GenerateRequest,
        sink: &mut EventSink<'_>,
    ) -> Result<Usage, EngineError> {
        let mut usages = self.generate_many(vec![(req, sink)])?;
        usages
            .pop()
            .ok_or_else(|| EngineError::InvalidRequest("no request".into()))
    }

    /// Runs several requests together: they share each forward pass (prompts prefilled
    /// in chunks, then every sequence's next token in one batch, the weight matmuls
    /// reading the weights once for all) and each finishes on its own, streaming to its
    /// own sink. Returns the usage of each, in order; the first request that fails fails
    /// the call.
    pub fn generate_many(
        &self,
        requests: Vec<(&GenerateRequest, &mut EventSink<'_>)>,
    ) -> Result<Vec<Usage>, EngineError> {
        let prepared = requests
            .into_iter()
            .map(|(req, sink)| Ok((self.prepare(req.clone())?, sink)))
            .collect::<Result<Vec<_>, EngineError>>()?;
        let mut seqs: Vec<batch::Seq<'_>> = prepared
            .into_iter()
            .map(|(p, sink)| self.admit(p, Box::new(sink)))
            .collect();
        while seqs.iter().any(|s| !s.is_done()) {
            self.step(&mut seqs, STEP_TOKENS)?;
        }
        seqs.into_iter()
            .map(|mut s| match s.take_error() {
                Some(e) => Err(e),
                None => Ok(s.usage()),
            })
            .collect()
    }

    /// Runs a request and returns the whole text.
    pub fn generate_text(
        &self,
        req: &GenerateRequest,
    ) -> Result<(String, FinishReason, Usage), EngineError> {
        let mut out = String::new();
        let mut finish = FinishReason::Stop;
        let usage = self.generate(req, &mut |e| {
            match e {
                Event::Text { text, .. } => out.push_str(&text),
                Event::Done { finish: f, .. } => finish = f,
                Event::Token { .. } | Event::Error { .. } => {}
            }
            ControlFlow::Continue(())
        })?;
        Ok((out, finish, usage))
    }
}
