//! The inference engine: loads a model, tokenizes, renders chat templates, runs the
//! decoder over an engine-owned KV cache and samples, streaming [`Event`]s to the caller.
//! It knows nothing about logs or HTTP; the pipeline and the server are its clients.
//!
//! # Layout
//! - [`gguf`]: reading GGUF files and choosing the in-memory weight format.
//! - [`model`]: architectures ([`model::llama`]) and shared layers.
//! - [`kv`]: the per-sequence KV cache.
//! - [`tokenizer`]: BPE from GGUF metadata or `tokenizer.json`; incremental detokenizer.
//! - [`chat`]: chat templates (minijinja, HF semantics, built-in fallbacks).
//! - [`sampling`]: logits to tokens.
//! - [`device`]: CPU or CUDA.

pub mod chat;
pub mod device;
pub mod error;
pub mod gguf;
pub mod kv;
pub mod model;
pub mod sampling;
pub mod tokenizer;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

pub use chat::Message;
pub use device::DeviceSpec;
pub use error::EngineError;
pub use gguf::WeightFormat;
pub use sampling::SamplingParams;

use chat::ChatTemplate;
use model::{Model, ModelInfo};
use sampling::Sampler;
use tokenizer::{Detokenizer, Tok};

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

/// Reads the summary of a GGUF file without loading its weights.
pub fn summarize(path: &Path) -> Result<ModelSummary, EngineError> {
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

/// Where a model comes from.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    /// A `.gguf` file.
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
}

impl GenerateRequest {
    /// A greedy request with defaults.
    pub fn new(input: Input, max_tokens: usize) -> Self {
        Self {
            input,
            sampling: SamplingParams::default(),
            max_tokens,
            stop: Vec::new(),
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
    /// Loads a model.
    pub fn load(spec: &ModelSpec) -> Result<Self, EngineError> {
        let device = spec.device.open()?;
        let ext = spec.path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if spec.path.is_dir() || ext != "gguf" {
            if !spec.path.exists() {
                return Err(EngineError::ModelNotFound(spec.path.clone()));
            }
            return Err(EngineError::Unsupported {
                what: "model format",
                detail: format!("{} (this build loads .gguf files)", spec.path.display()),
            });
        }
        let mut g = gguf::Gguf::open(&spec.path)?;
        let tok = Tok::from_gguf(&g)?;
        let format = spec
            .weight_format
            .unwrap_or_else(|| WeightFormat::default_for(&device, g.weight_elements()));
        let model = model::load_gguf(&mut g, &device, format)?;
        if tok.vocab_size() > model.info().vocab_size {
            return Err(EngineError::InvalidModel {
                path: spec.path.clone(),
                reason: format!(
                    "tokenizer has {} tokens but the embedding has {} rows",
                    tok.vocab_size(),
                    model.info().vocab_size
                ),
            });
        }
        let source = match g.opt_string("tokenizer.chat_template") {
            Some(t) => t,
            None => {
                let tokens = g.strings("tokenizer.ggml.tokens").unwrap_or_default();
                ChatTemplate::builtin_for(|t| tokens.iter().any(|x| x == t)).to_string()
            }
        };
        let template = ChatTemplate::new(&source, &tok.bos_text, &tok.eos_text)?;
        Ok(Self {
            model,
            tok,
            template,
            path: spec.path.clone(),
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

    /// Runs several requests together: each is prefilled on its own, then all decode in
    /// one batch per step (the weight matmuls read the weights once for every sequence),
    /// and each finishes on its own. Every request streams to its own sink. Returns the
    /// usage of each, in order.
    pub fn generate_many(
        &self,
        requests: Vec<(&GenerateRequest, &mut EventSink<'_>)>,
    ) -> Result<Vec<Usage>, EngineError> {
        let mut seqs = requests
            .into_iter()
            .map(|(req, sink)| self.start(req, sink))
            .collect::<Result<Vec<_>, _>>()?;
        // Prefill in chunks so memory for attention scores stays bounded.
        const CHUNK: usize = 512;
        for seq in &mut seqs {
            let mut logits = None;
            for (i, chunk) in seq.prompt.chunks(CHUNK).enumerate() {
                logits = Some(self.model.forward(chunk, i * CHUNK, &mut seq.cache)?);
            }
            if let Some(l) = logits {
                seq.logits = l.to_vec1::<f32>()?;
            }
        }
        loop {
            let mut next = Vec::new();
            for (k, seq) in seqs.iter_mut().enumerate() {
                if seq.finish.is_some() {
                    continue;
                }
                if let Some(token) = self.accept(seq)? {
                    next.push((k, token));
                }
            }
            if next.is_empty() {
                break;
            }
            let tokens: Vec<[u32; 1]> = next.iter().map(|&(_, t)| [t]).collect();
            let mut live: Vec<&mut Seq<'_>> =
                seqs.iter_mut().filter(|s| s.finish.is_none()).collect();
            let mut steps: Vec<model::Step<'_>> = live
                .iter_mut()
                .zip(&tokens)
                .map(|(seq, tok)| model::Step {
                    tokens: tok,
                    pos: seq.prompt.len() + seq.generated.len() - 1,
                    cache: &mut seq.cache,
                })
                .collect();
            let logits = self.model.forward_batch(&mut steps)?;
            drop(steps);
            for (seq, l) in live.iter_mut().zip(logits) {
                seq.logits = l.to_vec1::<f32>()?;
            }
        }
        Ok(seqs.into_iter().map(|s| s.usage).collect())
    }

    fn start<'s>(
        &self,
        req: &'s GenerateRequest,
        sink: &'s mut EventSink<'s>,
    ) -> Result<Seq<'s>, EngineError> {
        req.sampling.validate()?;
        if req.max_tokens == 0 {
            return Err(EngineError::InvalidRequest(
                "max_tokens must be at least 1".into(),
            ));
        }
        let prompt = self.prompt_tokens(&req.input)?;
        if prompt.is_empty() {
            return Err(EngineError::InvalidRequest("the prompt is empty".into()));
        }
        let context = self.info().context_length;
        if prompt.len() + req.max_tokens > context {
            return Err(EngineError::ContextOverflow {
                prompt: prompt.len(),
                max_tokens: req.max_tokens,
                context,
            });
        }
        let vocab = self.info().vocab_size as u32;
        if let Some(bad) = prompt.iter().find(|&&t| t >= vocab) {
            return Err(EngineError::InvalidRequest(format!(
                "token id {bad} is outside the vocabulary ({vocab})"
            )));
        }
        Ok(Seq {
            req,
            sink,
            usage: Usage {
                prompt_tokens: prompt.len(),
                ..Default::default()
            },
            prompt,
            cache: self.model.new_cache(),
            sampler: Sampler::new(req.sampling.clone()),
            detok: Detokenizer::default(),
            generated: Vec::new(),
            text: String::new(),
            emitted: 0,
            max_stop: req.stop.iter().map(String::len).max().unwrap_or(0),
            start: Instant::now(),
            logits: Vec::new(),
            finish: None,
        })
    }

    /// Samples the sequence's next token and streams what it completes. Returns the
    /// token to run next, or `None` when the sequence has finished.
    fn accept(&self, seq: &mut Seq<'_>) -> Result<Option<u32>, EngineError> {
        let next = seq.sampler.sample(&mut seq.logits, &seq.generated);
        if seq.generated.is_empty() {
            seq.usage.ttft_s = seq.start.elapsed().as_secs_f64();
        }
        let finish = if self.tok.stop_ids.contains(&next) {
            Some(FinishReason::Stop)
        } else {
            seq.generated.push(next);
            seq.usage.completion_tokens = seq.generated.len();
            let mut finish = None;
            if let Some(delta) = seq.detok.push(&self.tok, next)? {
                seq.text.push_str(&delta);
                // Stop strings may span tokens: search the text not yet emitted plus a
                // margin, and hold back what could still start one.
                if let Some(cut) = find_stop(&seq.text, seq.emitted, &seq.req.stop) {
                    if cut > seq.emitted {
                        let piece = seq.text[seq.emitted..cut].to_string();
                        let _ = (seq.sink)(Event::Text {
                            text: piece,
                            token: next,
                        });
                    }
                    // Nothing after the stop string is ever sent.
                    seq.emitted = seq.text.len();
                    finish = Some(FinishReason::Stop);
                } else {
                    let safe = safe_end(&seq.text, seq.max_stop);
                    if safe > seq.emitted {
                        let piece = seq.text[seq.emitted..safe].to_string();
                        seq.emitted = safe;
                        if (seq.sink)(Event::Text {
                            text: piece,
                            token: next,
                        })
                        .is_break()
                        {
                            finish = Some(FinishReason::Cancelled);
                        }
                    }
                }
            }
            if finish.is_none() && seq.generated.len() >= seq.req.max_tokens {
                finish = Some(FinishReason::Length);
            }
            finish
        };
        let Some(finish) = finish else {
            return Ok(Some(next));
        };
        // Text held back while it could have begun a stop string.
        if finish != FinishReason::Cancelled && seq.emitted < seq.text.len() {
            let piece = seq.text[seq.emitted..].to_string();
            seq.emitted = seq.text.len();
            let token = *seq.generated.last().unwrap_or(&0);
            let _ = (seq.sink)(Event::Text { text: piece, token });
        }
        seq.usage.total_s = seq.start.elapsed().as_secs_f64();
        let usage = seq.usage;
        let _ = (seq.sink)(Event::Done { finish, usage });
        seq.finish = Some(finish);
        Ok(None)
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
            }
            ControlFlow::Continue(())
        })?;
        Ok((out, finish, usage))
    }
}

/// A request being generated.
struct Seq<'s> {
    req: &'s GenerateRequest,
    sink: &'s mut EventSink<'s>,
    prompt: Vec<u32>,
    cache: kv::KvCache,
    sampler: Sampler,
    detok: Detokenizer,
    generated: Vec<u32>,
    text: String,
    emitted: usize,
    max_stop: usize,
    usage: Usage,
    start: Instant,
    logits: Vec<f32>,
    finish: Option<FinishReason>,
}

/// Byte offset where the first stop string starts in `text[from..]`, searching from a
/// little before `from` so strings spanning two deltas are found.
fn find_stop(text: &str, from: usize, stops: &[String]) -> Option<usize> {
    stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| {
            let mut start = from.saturating_sub(s.len());
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            text[start..].find(s.as_str()).map(|i| start + i)
        })
        .min()
}

/// End of the text that can be emitted without cutting a possible stop string.
fn safe_end(text: &str, max_stop: usize) -> usize {
    if max_stop == 0 {
        return text.len();
    }
    let mut end = text.len().saturating_sub(max_stop - 1);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_strings_across_deltas() {
        let stops = vec!["END".to_string()];
        assert_eq!(find_stop("abcEN", 3, &stops), None);
        assert_eq!(find_stop("abcEND!", 5, &stops), Some(3));
        assert_eq!(safe_end("abcEN", 3), 3);
        assert_eq!(safe_end("héllo", 2), 5);
        assert_eq!(safe_end("hé", 2), 1);
        assert_eq!(safe_end("abc", 0), 3);
    }
}
