//! Grammar-constrained decoding with llguidance: a request may carry a [`Constraint`]
//! (JSON schema, any JSON object, regex, Lark grammar or a choice list) and every token
//! the engine emits for it is then one the grammar allows, so a structured answer is
//! valid by construction.
//!
//! The token environment (a trie over every token's bytes) is built once per engine, on
//! the first constrained request. Per token the engine samples first and asks the
//! matcher only whether that token is allowed; the full mask is computed only when it is
//! not, and tokens the grammar forces are fed without sampling (fast-forward).

use std::sync::Arc;
use std::time::Instant;

use llguidance::api::TopLevelGrammar;
use llguidance::toktrie::{TokEnv, TokRxInfo, TokTrie, TokenId, TokenizerEnv};
use llguidance::{Matcher, ParserFactory};
use serde_json::Value;

use super::tokenizer::Tok;
use super::EngineError;

/// What a request's output must match.
#[derive(Debug, Clone, PartialEq)]
pub enum Constraint {
    /// A JSON schema.
    JsonSchema(Value),
    /// Any JSON object.
    JsonObject,
    /// A regular expression (Rust regex syntax), matched by the whole output.
    Regex(String),
    /// A grammar in llguidance's Lark syntax.
    Lark(String),
    /// Exactly one of these strings.
    Choice(Vec<String>),
}

impl Constraint {
    /// The llguidance grammar. JSON schemas get loglens' defaults unless they set
    /// `x-guidance` themselves: no free whitespace (a small model given unlimited
    /// whitespace may emit it until the token limit) and `", "` / `": "` separators.
    fn grammar(&self) -> Result<TopLevelGrammar, EngineError> {
        Ok(match self {
            Constraint::JsonSchema(schema) => {
                TopLevelGrammar::from_json_schema(with_compact_whitespace(schema.clone()))
            }
            Constraint::JsonObject => TopLevelGrammar::from_json_schema(with_compact_whitespace(
                serde_json::json!({"type": "object"}),
            )),
            Constraint::Regex(rx) => {
                // Checked here so a bad pattern is the caller's error, not the grammar's.
                regex::Regex::new(rx)
                    .map_err(|e| EngineError::InvalidRequest(format!("invalid regex: {e}")))?;
                TopLevelGrammar::from_regex(rx)
            }
            Constraint::Lark(g) => TopLevelGrammar::from_lark(g.clone()),
            Constraint::Choice(options) => {
                if options.is_empty() {
                    return Err(EngineError::InvalidRequest(
                        "a choice constraint needs at least one option".into(),
                    ));
                }
                let alts: Vec<String> = options.iter().map(|o| regex::escape(o)).collect();
                TopLevelGrammar::from_regex(&format!("({})", alts.join("|")))
            }
        })
    }
}

fn with_compact_whitespace(mut schema: Value) -> Value {
    if let Value::Object(map) = &mut schema {
        map.entry("x-guidance").or_insert_with(|| {
            serde_json::json!({
                "whitespace_flexible": false,
                "item_separator": ", ",
                "key_separator": ": ",
            })
        });
    }
    schema
}

/// The engine's tokenizer as llguidance sees it.
struct Env {
    trie: TokTrie,
    tok: Tok,
}

impl TokenizerEnv for Env {
    fn tok_trie(&self) -> &TokTrie {
        &self.trie
    }

    fn tokenize_bytes(&self, s: &[u8]) -> Vec<TokenId> {
        self.trie.tokenize_with_greedy_fallback(s, |text| {
            self.tok.encode_plain(text).unwrap_or_default()
        })
    }
}

/// Compiles constraints for one tokenizer; built once per engine.
pub struct Grammars {
    factory: ParserFactory,
}

impl std::fmt::Debug for Grammars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grammars").finish_non_exhaustive()
    }
}

impl Grammars {
    /// Builds the token environment: every token's bytes in a trie, the engine's stop
    /// tokens as end-of-sequence. `vocab_size` is the model's (it may exceed the
    /// tokenizer's; the extra rows are never allowed).
    pub fn new(tok: &Tok, vocab_size: usize) -> Result<Self, EngineError> {
        let mut words = tok.token_bytes()?;
        words.resize(vocab_size.max(words.len()), Vec::new());
        let eos = *tok
            .stop_ids
            .first()
            .ok_or_else(|| EngineError::Unsupported {
                what: "constrained decoding",
                detail: "the tokenizer has no end-of-sequence token".into(),
            })?;
        let mut info = TokRxInfo::new(words.len() as u32, eos);
        info.tok_bos = tok.bos;
        let trie = TokTrie::from(&info, &words).with_eos_tokens(&tok.stop_ids);
        let env: TokEnv = Arc::new(Env {
            trie,
            tok: tok.clone(),
        });
        let mut factory =
            ParserFactory::new_simple(&env).map_err(|e| EngineError::Unsupported {
                what: "constrained decoding",
                detail: e.to_string(),
            })?;
        factory.quiet();
        Ok(Self { factory })
    }

    /// A matcher for one request, at the start of its output.
    pub fn matcher(&self, c: &Constraint) -> Result<GrammarState, EngineError> {
        let grammar = c.grammar()?;
        let parser = self
            .factory
            .create_parser(grammar)
            .map_err(|e| EngineError::InvalidRequest(format!("invalid constraint: {e}")))?;
        let m = Matcher::new(Ok(parser));
        if let Some(e) = m.get_error() {
            return Err(EngineError::InvalidRequest(format!(
                "invalid constraint: {e}"
            )));
        }
        Ok(GrammarState {
            m,
            mask_s: Vec::new(),
        })
    }
}

/// One request's position in its grammar.
pub struct GrammarState {
    m: Matcher,
    /// Seconds spent computing each full mask (for metrics).
    pub mask_s: Vec<f64>,
}

impl std::fmt::Debug for GrammarState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrammarState")
            .field("masks", &self.mask_s.len())
            .finish()
    }
}

impl GrammarState {
    fn check(&self) -> Result<(), EngineError> {
        match self.m.get_error() {
            Some(e) => Err(EngineError::Constraint(e)),
            None => Ok(()),
        }
    }

    /// Whether the grammar allows `token` next.
    pub fn allows(&mut self, token: u32) -> Result<bool, EngineError> {
        let n = self
            .m
            .validate_tokens(&[token])
            .map_err(|e| EngineError::Constraint(e.to_string()))?;
        Ok(n == 1)
    }

    /// Sets the logits of every token the grammar does not allow to -inf.
    pub fn mask(&mut self, logits: &mut [f32]) -> Result<(), EngineError> {
        let t = Instant::now();
        let mask = self
            .m
            .compute_mask_or_eos()
            .map_err(|e| EngineError::Constraint(e.to_string()))?;
        self.check()?;
        for (i, l) in logits.iter_mut().enumerate() {
            if i >= mask.len() || !mask.is_allowed(i as u32) {
                *l = f32::NEG_INFINITY;
            }
        }
        self.mask_s.push(t.elapsed().as_secs_f64());
        Ok(())
    }

    /// Advances past `token`.
    pub fn consume(&mut self, token: u32) -> Result<(), EngineError> {
        self.m
            .consume_token(token)
            .map_err(|e| EngineError::Constraint(e.to_string()))?;
        self.check()
    }

    /// Tokens the grammar now forces, consumed; empty when there is a choice.
    pub fn forced(&mut self) -> Result<Vec<u32>, EngineError> {
        let t = self.m.consume_ff_tokens();
        self.check()?;
        Ok(t)
    }

    /// Whether the grammar is complete and allows nothing more.
    pub fn is_stopped(&self) -> bool {
        self.m.is_stopped()
    }
}
