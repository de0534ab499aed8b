//! OpenAI wire types: what clients send and what loglens answers. Unknown request fields
//! are ignored, as OpenAI does; every field loglens honours is listed here.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::{Constraint, Message, SamplingParams};

use super::error::ApiError;

/// `stop`: one string or a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    /// One stop string.
    One(String),
    /// Several (OpenAI allows up to 4).
    Many(Vec<String>),
}

/// `stream_options`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StreamOptions {
    /// Send a last chunk with the usage.
    #[serde(default)]
    pub include_usage: bool,
}

/// `response_format.json_schema`.
#[derive(Debug, Clone, Deserialize)]
pub struct JsonSchemaFormat {
    /// Name of the schema (required by OpenAI; unused here).
    #[serde(default)]
    pub name: Option<String>,
    /// The schema; absent means any JSON object.
    #[serde(default)]
    pub schema: Option<Value>,
    /// Accepted; loglens always enforces the schema.
    #[serde(default)]
    pub strict: Option<bool>,
}

/// `response_format`. `regex`, `grammar` and `choice` are loglens extensions.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Free text.
    Text,
    /// Any JSON object.
    JsonObject,
    /// JSON valid for a schema.
    JsonSchema {
        /// The schema.
        json_schema: JsonSchemaFormat,
    },
    /// Text matching a regular expression.
    Regex {
        /// The pattern.
        pattern: String,
    },
    /// Text matching a Lark grammar (llguidance syntax).
    Grammar {
        /// The grammar.
        grammar: String,
    },
    /// One of these strings.
    Choice {
        /// The options.
        choices: Vec<String>,
    },
}

impl ResponseFormat {
    fn constraint(&self) -> Result<Option<Constraint>, ApiError> {
        Ok(match self {
            ResponseFormat::Text => None,
            ResponseFormat::JsonObject => Some(Constraint::JsonObject),
            ResponseFormat::JsonSchema { json_schema } => Some(match &json_schema.schema {
                Some(s) if !s.is_object() && !s.is_boolean() => {
                    return Err(ApiError::invalid(
                        "response_format.json_schema.schema must be a JSON object",
                        "response_format",
                    ))
                }
                Some(s) => Constraint::JsonSchema(s.clone()),
                None => Constraint::JsonObject,
            }),
            ResponseFormat::Regex { pattern } => Some(Constraint::Regex(pattern.clone())),
            ResponseFormat::Grammar { grammar } => Some(Constraint::Lark(grammar.clone())),
            ResponseFormat::Choice { choices } => Some(Constraint::Choice(choices.clone())),
        })
    }
}

/// A content part of a message.
#[derive(Debug, Clone, Deserialize)]
pub struct ContentPart {
    /// `text` (other kinds are refused).
    #[serde(rename = "type")]
    pub kind: String,
    /// The text.
    #[serde(default)]
    pub text: Option<String>,
}

/// Message content: a string or parts.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Content parts.
    Parts(Vec<ContentPart>),
}

/// A chat message.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatMessage {
    /// system, developer, user, assistant or tool.
    pub role: String,
    /// The content (absent for assistant messages that only call tools).
    #[serde(default)]
    pub content: Option<Content>,
}

/// Sampling fields shared by both completion endpoints.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Sampling {
    /// 0..=2; default 1.
    pub temperature: Option<f32>,
    /// 0..=1; default 1.
    pub top_p: Option<f32>,
    /// Most tokens to generate (legacy name).
    pub max_tokens: Option<u64>,
    /// Most tokens to generate.
    pub max_completion_tokens: Option<u64>,
    /// Stop strings.
    pub stop: Option<Stop>,
    /// Seed for sampling.
    pub seed: Option<u64>,
    /// Completions per prompt.
    pub n: Option<u64>,
    /// -2..=2.
    pub presence_penalty: Option<f32>,
    /// -2..=2.
    pub frequency_penalty: Option<f32>,
    /// Token id (as a string) to bias in -100..=100.
    pub logit_bias: Option<HashMap<String, f32>>,
    /// Stream server-sent events.
    #[serde(default)]
    pub stream: bool,
    /// Streaming options.
    pub stream_options: Option<StreamOptions>,
    /// Extension: keep the k most likely tokens.
    pub top_k: Option<usize>,
    /// Extension: min-p filtering.
    pub min_p: Option<f32>,
    /// Extension: repetition penalty (1 is off).
    pub repetition_penalty: Option<f32>,
}

/// What both endpoints turn a request into, before it meets the engine.
#[derive(Debug, Clone)]
pub struct Common {
    /// Sampling parameters.
    pub sampling: SamplingParams,
    /// Most tokens (`usize::MAX`: fill the context).
    pub max_tokens: usize,
    /// Stop strings.
    pub stop: Vec<String>,
    /// Choices per prompt.
    pub n: usize,
    /// Stream or not.
    pub stream: bool,
    /// Last chunk with usage.
    pub include_usage: bool,
}

impl Sampling {
    /// Checks ranges (OpenAI's) and builds the engine's parameters.
    pub fn common(&self) -> Result<Common, ApiError> {
        let temperature = self.temperature.unwrap_or(1.0);
        if !(0.0..=2.0).contains(&temperature) {
            return Err(ApiError::invalid(
                "temperature must be between 0 and 2",
                "temperature",
            ));
        }
        let top_p = self.top_p.unwrap_or(1.0);
        if !(top_p > 0.0 && top_p <= 1.0) {
            return Err(ApiError::invalid("top_p must be in (0, 1]", "top_p"));
        }
        for (name, v) in [
            ("presence_penalty", self.presence_penalty),
            ("frequency_penalty", self.frequency_penalty),
        ] {
            if v.is_some_and(|v| !(-2.0..=2.0).contains(&v)) {
                return Err(ApiError::invalid(
                    format!("{name} must be between -2 and 2"),
                    name,
                ));
            }
        }
        let n = self.n.unwrap_or(1);
        if !(1..=16).contains(&n) {
            return Err(ApiError::invalid("n must be between 1 and 16", "n"));
        }
        let max_tokens = match self.max_completion_tokens.or(self.max_tokens) {
            Some(0) => {
                return Err(ApiError::invalid(
                    "max_tokens must be at least 1",
                    "max_tokens",
                ))
            }
            Some(m) => usize::try_from(m).unwrap_or(usize::MAX - 1),
            None => usize::MAX,
        };
        let mut logit_bias = Vec::new();
        for (k, v) in self.logit_bias.iter().flatten() {
            let id: u32 = k.parse().map_err(|_| {
                ApiError::invalid(
                    format!("logit_bias key {k:?} is not a token id"),
                    "logit_bias",
                )
            })?;
            if !(-100.0..=100.0).contains(v) {
                return Err(ApiError::invalid(
                    "logit_bias values must be between -100 and 100",
                    "logit_bias",
                ));
            }
            logit_bias.push((id, *v));
        }
        let stop = match &self.stop {
            None => Vec::new(),
            Some(Stop::One(s)) => vec![s.clone()],
            Some(Stop::Many(v)) => v.clone(),
        };
        if stop.len() > 4 {
            return Err(ApiError::invalid("stop takes at most 4 strings", "stop"));
        }
        Ok(Common {
            sampling: SamplingParams {
                temperature,
                top_p,
                top_k: self.top_k.unwrap_or(0),
                min_p: self.min_p.unwrap_or(0.0),
                repetition_penalty: self.repetition_penalty.unwrap_or(1.0),
                frequency_penalty: self.frequency_penalty.unwrap_or(0.0),
                presence_penalty: self.presence_penalty.unwrap_or(0.0),
                logit_bias,
                seed: self.seed,
            },
            max_tokens,
            stop,
            n: n as usize,
            stream: self.stream,
            include_usage: self
                .stream_options
                .as_ref()
                .is_some_and(|o| o.include_usage),
        })
    }
}

/// `POST /v1/chat/completions`.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatRequest {
    /// Model id.
    pub model: String,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// Sampling and output fields.
    #[serde(flatten)]
    pub sampling: Sampling,
    /// Return log-probabilities of the output tokens.
    #[serde(default)]
    pub logprobs: bool,
    /// Alternatives per token (0..=20; needs `logprobs`).
    pub top_logprobs: Option<usize>,
    /// Output format.
    pub response_format: Option<ResponseFormat>,
}

impl ChatRequest {
    /// The engine's messages.
    pub fn messages(&self) -> Result<Vec<Message>, ApiError> {
        if self.messages.is_empty() {
            return Err(ApiError::invalid("messages must not be empty", "messages"));
        }
        self.messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let role = match m.role.as_str() {
                    "developer" => "system",
                    r @ ("system" | "user" | "assistant" | "tool") => r,
                    other => {
                        return Err(ApiError::invalid(
                            format!("messages[{i}].role {other:?} is not one of system, developer, user, assistant, tool"),
                            "messages",
                        ))
                    }
                };
                let text = match &m.content {
                    None => String::new(),
                    Some(Content::Text(t)) => t.clone(),
                    Some(Content::Parts(parts)) => {
                        let mut text = String::new();
                        for p in parts {
                            match (p.kind.as_str(), &p.text) {
                                ("text", Some(t)) => text.push_str(t),
                                (kind, _) => {
                                    return Err(ApiError::invalid(
                                        format!("messages[{i}]: content part of type {kind:?} is not supported (text only)"),
                                        "messages",
                                    ))
                                }
                            }
                        }
                        text
                    }
                };
                Ok(Message::new(role, text))
            })
            .collect()
    }

    /// The constraint from `response_format`.
    pub fn constraint(&self) -> Result<Option<Constraint>, ApiError> {
        self.response_format
            .as_ref()
            .map_or(Ok(None), ResponseFormat::constraint)
    }

    /// How many alternatives per token, if logprobs are asked for.
    pub fn logprobs(&self) -> Result<Option<usize>, ApiError> {
        match (self.logprobs, self.top_logprobs) {
            (_, Some(n)) if n > 20 => Err(ApiError::invalid(
                "top_logprobs must be between 0 and 20",
                "top_logprobs",
            )),
            (false, Some(_)) => Err(ApiError::invalid(
                "top_logprobs requires logprobs to be true",
                "top_logprobs",
            )),
            (true, n) => Ok(Some(n.unwrap_or(0))),
            (false, None) => Ok(None),
        }
    }
}

/// `prompt` of `/v1/completions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Prompt {
    /// One prompt.
    One(String),
    /// Several prompts; each gets `n` choices.
    Many(Vec<String>),
}

/// `POST /v1/completions`.
#[derive(Debug, Clone, Deserialize)]
pub struct CompletionRequest {
    /// Model id.
    pub model: String,
    /// The prompt(s).
    pub prompt: Prompt,
    /// Sampling and output fields.
    #[serde(flatten)]
    pub sampling: Sampling,
    /// Alternatives per token (0..=5 in OpenAI's legacy API; up to 20 here).
    pub logprobs: Option<usize>,
    /// Output format (loglens extension on this endpoint).
    pub response_format: Option<ResponseFormat>,
}

impl CompletionRequest {
    /// The prompts.
    pub fn prompts(&self) -> Result<Vec<String>, ApiError> {
        let p = match &self.prompt {
            Prompt::One(p) => vec![p.clone()],
            Prompt::Many(v) => v.clone(),
        };
        if p.is_empty() || p.iter().any(String::is_empty) {
            return Err(ApiError::invalid("prompt must not be empty", "prompt"));
        }
        Ok(p)
    }

    /// The constraint from `response_format`.
    pub fn constraint(&self) -> Result<Option<Constraint>, ApiError> {
        self.response_format
            .as_ref()
            .map_or(Ok(None), ResponseFormat::constraint)
    }
}

/// Token counts of a response.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct UsageOut {
    /// Prompt tokens (counted once per prompt).
    pub prompt_tokens: usize,
    /// Generated tokens, all choices.
    pub completion_tokens: usize,
    /// Their sum.
    pub total_tokens: usize,
}

/// A token in `logprobs.content`.
#[derive(Debug, Clone, Serialize)]
pub struct TokenLogprob {
    /// The token's text.
    pub token: String,
    /// Its log-probability.
    pub logprob: f32,
    /// Its UTF-8 bytes.
    pub bytes: Vec<u8>,
    /// Alternatives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<Vec<TopLogprobOut>>,
}

/// An alternative token.
#[derive(Debug, Clone, Serialize)]
pub struct TopLogprobOut {
    /// The token's text.
    pub token: String,
    /// Its log-probability.
    pub logprob: f32,
    /// Its UTF-8 bytes.
    pub bytes: Vec<u8>,
}

/// A model in `/v1/models`.
#[derive(Debug, Clone, Serialize)]
pub struct ModelCard {
    /// Id to put in requests.
    pub id: String,
    /// Always `model`.
    pub object: &'static str,
    /// Unix time the server loaded it.
    pub created: u64,
    /// Always `loglens`.
    pub owned_by: &'static str,
}
