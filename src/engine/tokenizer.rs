//! The tokenizer, built from GGUF metadata with the `tokenizers` crate: the BPE is
//! rebuilt from the vocabulary and merges with a byte-level pre-tokenizer chosen by
//! `tokenizer.ggml.pre`; an unknown pre-tokenizer is refused rather than guessed, since a
//! wrong guess silently changes every token id.

use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{AddedToken, SplitDelimiterBehavior, Tokenizer};

use super::gguf::Gguf;
use super::EngineError;

/// Llama 3's pre-tokenizer split pattern.
const LLAMA3_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// End-of-turn markers of the chat formats loglens knows.
const END_OF_TURN: &[&str] = &[
    "<|im_end|>",
    "<|endoftext|>",
    "<|eot_id|>",
    "<|end_of_text|>",
    "</s>",
    "<|end|>",
];

/// A tokenizer with the special ids generation needs.
#[derive(Debug, Clone)]
pub struct Tok {
    inner: Tokenizer,
    /// The same tokenizer with special-token text treated as plain text.
    plain: Tokenizer,
    /// Beginning-of-sequence id, if the model has one.
    pub bos: Option<u32>,
    /// Ids that end generation (EOS and every end-of-turn token).
    pub stop_ids: Vec<u32>,
    /// Text of the BOS and EOS tokens, for chat templates.
    pub bos_text: String,
    /// EOS text.
    pub eos_text: String,
}

impl Tok {
    /// Builds the tokenizer a GGUF file describes.
    pub fn from_gguf(g: &Gguf) -> Result<Self, EngineError> {
        let model = g.string("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(EngineError::Unsupported {
                what: "tokenizer",
                detail: format!(
                    "tokenizer.ggml.model {model:?} in {} (supported from GGUF: gpt2-style BPE; \
                     use an HF directory with tokenizer.json for SentencePiece models)",
                    g.path().display()
                ),
            });
        }
        let pre = g
            .opt_string("tokenizer.ggml.pre")
            .unwrap_or_else(|| "default".into());
        let pre_tok: PreTokenizerWrapper = match pre.as_str() {
            // SmolLM: digits one by one, then GPT-2's byte-level split.
            "smollm" => Sequence::new(vec![
                Digits::new(true).into(),
                ByteLevel::new(false, true, true).into(),
            ])
            .into(),
            "gpt2" | "default" => ByteLevel::new(false, true, true).into(),
            "llama-bpe" | "llama3" | "llama-v3" => {
                let split = Split::new(
                    SplitPattern::Regex(LLAMA3_SPLIT.into()),
                    SplitDelimiterBehavior::Isolated,
                    false,
                )
                .map_err(|e| EngineError::Tokenizer(e.to_string()))?;
                Sequence::new(vec![split.into(), ByteLevel::new(false, true, false).into()]).into()
            }
            other => {
                return Err(EngineError::Unsupported {
                    what: "pre-tokenizer",
                    detail: format!(
                        "tokenizer.ggml.pre {other:?} in {} (known: smollm, gpt2, default, llama-bpe, llama3)",
                        g.path().display()
                    ),
                })
            }
        };
        let tokens = g.strings("tokenizer.ggml.tokens")?;
        let merges = g.strings("tokenizer.ggml.merges")?;
        let types = g.opt_ints("tokenizer.ggml.token_type").unwrap_or_default();
        let vocab: tokenizers::models::bpe::Vocab = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
        let merges: Vec<(String, String)> = merges
            .iter()
            .filter_map(|m| {
                m.split_once(' ')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
            })
            .collect();
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .build()
            .map_err(|e| EngineError::Tokenizer(e.to_string()))?;
        let mut inner = Tokenizer::new(bpe);
        inner.with_pre_tokenizer(Some(pre_tok));
        inner.with_decoder(Some(ByteLevel::new(false, true, true)));
        // Control tokens (type 3) are matched whole in text, as llama.cpp does with
        // parse_special; user-defined tokens (type 4) are added as plain added tokens.
        let specials: Vec<AddedToken> = tokens
            .iter()
            .zip(types.iter().chain(std::iter::repeat(&1)))
            .filter(|(_, t)| **t == 3 || **t == 4)
            .map(|(tok, t)| AddedToken::from(tok.clone(), *t == 3))
            .collect();
        inner.add_special_tokens(&specials);
        let mut plain = inner.clone();
        plain.set_encode_special_tokens(true);
        let id = |k: &str| g.opt_uint(k).map(|v| v as u32);
        let bos = id("tokenizer.ggml.bos_token_id");
        let eos = id("tokenizer.ggml.eos_token_id");
        let mut stop_ids: Vec<u32> = eos
            .into_iter()
            .chain(id("tokenizer.ggml.eot_token_id"))
            .collect();
        for name in END_OF_TURN {
            if let Some(i) = tokens.iter().position(|t| t == name) {
                stop_ids.push(i as u32);
            }
        }
        stop_ids.sort_unstable();
        stop_ids.dedup();
        let text = |i: Option<u32>| {
            i.and_then(|i| tokens.get(i as usize).cloned())
                .unwrap_or_default()
        };
        Ok(Self {
            inner,
            plain,
            bos,
            stop_ids,
            bos_text: text(bos),
            eos_text: text(eos),
        })
    }

    /// Token ids of `text`; special tokens written in the text are recognised, no BOS
    /// is added (chat templates add their own).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, EngineError> {
        self.inner
            .encode(text, false)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| EngineError::Tokenizer(e.to_string()))
    }

    /// Token ids of `text` where special-token text (`<|im_end|>`) is plain text: for
    /// text that comes from outside, like a grammar's literal strings.
    pub fn encode_plain(&self, text: &str) -> Result<Vec<u32>, EngineError> {
        self.plain
            .encode(text, false)
            .map(|e| e.get_ids().to_vec())
            .map_err(|e| EngineError::Tokenizer(e.to_string()))
    }

    /// The bytes of every token, by id; special tokens are marked with a leading 0xFF
    /// byte (llguidance's convention).
    pub fn token_bytes(&self) -> Result<Vec<Vec<u8>>, EngineError> {
        let json: serde_json::Value = serde_json::from_str(
            &self
                .inner
                .to_string(false)
                .map_err(|e| EngineError::Tokenizer(e.to_string()))?,
        )
        .map_err(|e| EngineError::Tokenizer(e.to_string()))?;
        llguidance::token_bytes_from_tokenizer_json(&json)
            .map_err(|e| EngineError::Tokenizer(e.to_string()))
    }

    /// Text of `ids` (special tokens included).
    pub fn decode(&self, ids: &[u32]) -> Result<String, EngineError> {
        self.inner
            .decode(ids, false)
            .map_err(|e| EngineError::Tokenizer(e.to_string()))
    }

    /// Vocabulary size, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }
}

/// Turns a growing list of ids into text deltas that never split a UTF-8 character.
#[derive(Debug, Default)]
pub struct Detokenizer {
    ids: Vec<u32>,
    prefix: usize,
    read: usize,
}

impl Detokenizer {
    /// Adds a token; returns the text it completes, if any.
    pub fn push(&mut self, tok: &Tok, id: u32) -> Result<Option<String>, EngineError> {
        self.ids.push(id);
        let before = tok.decode(&self.ids[self.prefix..self.read])?;
        let after = tok.decode(&self.ids[self.prefix..])?;
        let delta = after
            .get(before.len()..)
            .filter(|d| !d.is_empty() && !d.ends_with('\u{fffd}'));
        if let Some(delta) = delta {
            let delta = delta.to_string();
            self.prefix = self.read;
            self.read = self.ids.len();
            Ok(Some(delta))
        } else {
            Ok(None)
        }
    }
}
