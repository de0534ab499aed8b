//! The tokenizer, with the `tokenizers` crate: an HF directory's `tokenizer.json`, or
//! rebuilt from GGUF metadata. From GGUF, GPT-2-style BPE is rebuilt from the vocabulary
//! and merges with a byte-level pre-tokenizer chosen by `tokenizer.ggml.pre` (an unknown
//! one is refused rather than guessed, since a wrong guess silently changes every token
//! id); SentencePiece BPE (Llama 2, Mistral) from the vocabulary and scores, with byte
//! fallback.

use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::sequence::Sequence as DecoderSequence;
use tokenizers::decoders::strip::Strip;
use tokenizers::decoders::DecoderWrapper;
use tokenizers::models::bpe::BPE;
use tokenizers::normalizers::{Prepend, Replace, Sequence as NormalizerSequence};
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::NormalizerWrapper;
use tokenizers::{AddedToken, SplitDelimiterBehavior, Tokenizer};

use serde_json::Value;

use super::gguf::Gguf;
use super::hf::HfModel;
use super::EngineError;

/// Llama 3's pre-tokenizer split pattern.
const LLAMA3_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Qwen2's split pattern: Llama 3's with digits one at a time.
const QWEN2_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

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
    /// Builds the tokenizer a GGUF file describes: GPT-2-style byte-level BPE
    /// (`tokenizer.ggml.model = gpt2`) or SentencePiece BPE (`llama`: Llama 2, Mistral).
    pub fn from_gguf(g: &Gguf) -> Result<Self, EngineError> {
        let model = g.string("tokenizer.ggml.model")?;
        let tokens = g.strings("tokenizer.ggml.tokens")?;
        let types = g.opt_ints("tokenizer.ggml.token_type").unwrap_or_default();
        let mut inner = match model.as_str() {
            "gpt2" => byte_level_bpe(g, &tokens)?,
            "llama" => sentencepiece_bpe(g, &tokens, &types)?,
            other => {
                return Err(EngineError::Unsupported {
                    what: "tokenizer",
                    detail: format!(
                        "tokenizer.ggml.model {other:?} in {} (supported from GGUF: gpt2-style \
                         BPE, llama-style SentencePiece; or an HF directory with tokenizer.json)",
                        g.path().display()
                    ),
                })
            }
        };
        // Control tokens (type 3, and SentencePiece's unknown token, type 2) are matched
        // whole in text, as llama.cpp does with parse_special; user-defined tokens (type
        // 4) are added as plain added tokens.
        let specials: Vec<AddedToken> = tokens
            .iter()
            .zip(types.iter().chain(std::iter::repeat(&1)))
            .filter(|(_, t)| (2..=4).contains(*t))
            .map(|(tok, t)| AddedToken::from(tok.clone(), *t != 4))
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

    /// Loads `tokenizer.json` of an HF directory, with BOS/EOS from
    /// `tokenizer_config.json` and the stop ids from `generation_config.json` and
    /// `config.json`.
    pub fn from_hf(m: &HfModel) -> Result<Self, EngineError> {
        let path = m.dir().join("tokenizer.json");
        if !path.exists() {
            return Err(EngineError::InvalidModel {
                path: m.dir().to_path_buf(),
                reason:
                    "tokenizer.json is missing (SentencePiece tokenizer.model alone is not read; \
                         convert it to tokenizer.json)"
                        .into(),
            });
        }
        let inner = Tokenizer::from_file(&path).map_err(|e| EngineError::InvalidModel {
            path: path.clone(),
            reason: format!("tokenizer.json: {e}"),
        })?;
        let tcfg = m.json("tokenizer_config.json")?.unwrap_or_default();
        let gen = m.json("generation_config.json")?.unwrap_or_default();
        let token_text = |v: Option<&Value>| -> Option<String> {
            match v? {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => o.get("content")?.as_str().map(str::to_string),
                _ => None,
            }
        };
        let ids = |v: Option<&Value>| -> Vec<u32> {
            match v {
                Some(Value::Number(n)) => n.as_u64().map(|x| x as u32).into_iter().collect(),
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|x| x.as_u64())
                    .map(|x| x as u32)
                    .collect(),
                _ => Vec::new(),
            }
        };
        let bos_text = token_text(tcfg.get("bos_token"));
        let eos_text = token_text(tcfg.get("eos_token"));
        let bos = bos_text
            .as_deref()
            .and_then(|t| inner.token_to_id(t))
            .or_else(|| ids(gen.get("bos_token_id")).first().copied())
            .or_else(|| {
                m.config
                    .bos_token_id
                    .as_ref()
                    .and_then(Value::as_u64)
                    .map(|x| x as u32)
            });
        let mut stop_ids: Vec<u32> = ids(gen.get("eos_token_id"));
        stop_ids.extend(ids(m.config.eos_token_id.as_ref()));
        stop_ids.extend(eos_text.as_deref().and_then(|t| inner.token_to_id(t)));
        let eos = stop_ids.first().copied();
        for name in END_OF_TURN {
            stop_ids.extend(inner.token_to_id(name));
        }
        stop_ids.sort_unstable();
        stop_ids.dedup();
        if stop_ids.is_empty() {
            return Err(EngineError::InvalidModel {
                path: m.dir().to_path_buf(),
                reason: "no end-of-sequence token (eos_token_id in generation_config.json or config.json)".into(),
            });
        }
        let text_of = |id: Option<u32>| id.and_then(|i| inner.id_to_token(i)).unwrap_or_default();
        let bos_text = bos_text.unwrap_or_else(|| text_of(bos));
        let eos_text = eos_text.unwrap_or_else(|| text_of(eos));
        let mut plain = inner.clone();
        plain.set_encode_special_tokens(true);
        Ok(Self {
            inner,
            plain,
            bos,
            stop_ids,
            bos_text,
            eos_text,
        })
    }

    /// The tokenizer as `tokenizer.json` text.
    pub fn to_json(&self) -> Result<String, EngineError> {
        self.inner
            .to_string(true)
            .map_err(|e| EngineError::Tokenizer(e.to_string()))
    }

    /// The id of a token's text (added tokens included).
    pub fn token_to_id(&self, text: &str) -> Option<u32> {
        self.inner.token_to_id(text)
    }

    /// The text of a token id.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
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

/// GPT-2-style byte-level BPE from the vocabulary and merges, with the pre-tokenizer
/// `tokenizer.ggml.pre` names.
fn byte_level_bpe(g: &Gguf, tokens: &[String]) -> Result<Tokenizer, EngineError> {
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
        "llama-bpe" | "llama3" | "llama-v3" => regex_then_bytes(LLAMA3_SPLIT)?,
        // llama.cpp reads DeepSeek-R1's Qwen distillations with Qwen2's pattern too.
        "qwen2" | "deepseek-r1-qwen" => regex_then_bytes(QWEN2_SPLIT)?,
        other => {
            return Err(EngineError::Unsupported {
                what: "pre-tokenizer",
                detail: format!(
                    "tokenizer.ggml.pre {other:?} in {} (known: smollm, gpt2, default, llama-bpe, llama3, qwen2)",
                    g.path().display()
                ),
            })
        }
    };
    let merges = g.strings("tokenizer.ggml.merges")?;
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
    Ok(inner)
}

/// A regex split (each match its own piece), then GPT-2's byte mapping without its own
/// split.
fn regex_then_bytes(pattern: &str) -> Result<PreTokenizerWrapper, EngineError> {
    let split = Split::new(
        SplitPattern::Regex(pattern.into()),
        SplitDelimiterBehavior::Isolated,
        false,
    )
    .map_err(|e| EngineError::Tokenizer(e.to_string()))?;
    Ok(Sequence::new(vec![
        split.into(),
        ByteLevel::new(false, true, false).into(),
    ])
    .into())
}

/// SentencePiece BPE (Llama 2, Mistral) from the vocabulary and scores: spaces become
/// `▁` and one is prepended to each run of text (`tokenizer.ggml.add_space_prefix`,
/// default on), pieces merge in order of the merged piece's score, and bytes without a
/// piece fall back to `<0xXX>` tokens. The merges are derived from the vocabulary the
/// way Hugging Face converts SentencePiece models.
fn sentencepiece_bpe(g: &Gguf, tokens: &[String], types: &[i64]) -> Result<Tokenizer, EngineError> {
    let scores = g.opt_f32s("tokenizer.ggml.scores").unwrap_or_default();
    let vocab: tokenizers::models::bpe::Vocab = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();
    let score = |i: usize| scores.get(i).copied().unwrap_or(-(i as f32));
    let normal = |i: usize| matches!(types.get(i).copied().unwrap_or(1), 1);
    let mut merges: Vec<(f32, u32, u32, u32, String, String)> = Vec::new();
    for (id, piece) in tokens.iter().enumerate() {
        if !normal(id) {
            continue;
        }
        for (cut, _) in piece.char_indices().skip(1) {
            let (l, r) = piece.split_at(cut);
            if let (Some(&li), Some(&ri)) = (vocab.get(l), vocab.get(r)) {
                if normal(li as usize) && normal(ri as usize) {
                    merges.push((score(id), id as u32, li, ri, l.to_string(), r.to_string()));
                }
            }
        }
    }
    merges.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.cmp(&b.1))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(&b.3))
    });
    let merges: Vec<(String, String)> = merges.into_iter().map(|m| (m.4, m.5)).collect();
    let unk = types
        .iter()
        .position(|&t| t == 2)
        .and_then(|i| tokens.get(i).cloned())
        .unwrap_or_else(|| "<unk>".into());
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .unk_token(unk)
        .fuse_unk(true)
        .byte_fallback(true)
        .build()
        .map_err(|e| EngineError::Tokenizer(e.to_string()))?;
    let mut inner = Tokenizer::new(bpe);
    let space = Replace::new(" ", "\u{2581}").map_err(|e| EngineError::Tokenizer(e.to_string()))?;
    let prefix = g
        .metadata()
        .get("tokenizer.ggml.add_space_prefix")
        .and_then(|v| v.to_bool().ok())
        .unwrap_or(true);
    let normalizer: NormalizerWrapper = if prefix {
        NormalizerSequence::new(vec![Prepend::new("\u{2581}".into()).into(), space.into()]).into()
    } else {
        space.into()
    };
    inner.with_normalizer(Some(normalizer));
    let unspace =
        Replace::new("\u{2581}", " ").map_err(|e| EngineError::Tokenizer(e.to_string()))?;
    let mut steps: Vec<DecoderWrapper> = vec![
        unspace.into(),
        ByteFallback::new().into(),
        Fuse::new().into(),
    ];
    if prefix {
        steps.push(Strip::new(' ', 1, 0).into());
    }
    inner.with_decoder(Some(DecoderSequence::new(steps)));
    Ok(inner)
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
