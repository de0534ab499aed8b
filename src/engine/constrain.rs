//! Grammar-constrained decoding with llguidance: a request may carry a [`Constraint`]
//! (JSON schema, any JSON object, regex, Lark grammar or a choice list) and every token
//! the engine emits for it is then one the grammar allows, so a structured answer is
//! valid by construction.
//!
//! The token environment (a trie over every token's bytes) is built once per engine, on
//! the first constrained request. Per token the engine samples first and asks the
//! matcher only whether that token is allowed; the full mask is computed only when it is
//! not, and tokens the grammar forces are fed without sampling (fast-forward).
//!
//! A constraint is checked against [`limits`] before it is compiled (a schema's size,
//! nesting, properties, `$ref`s; a pattern's or grammar's length), and compiled on a
//! thread of its own with a large stack: llguidance recurses once per object property,
//! and a caller's thread (an async runtime's blocking pool has 2 MiB) must not be the
//! one that overflows. Errors carry no parser state.

use std::collections::HashSet;
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

/// Limits checked before a constraint is compiled; over one, the request fails with
/// [`EngineError::ConstraintTooLarge`] and nothing is compiled.
pub mod limits {
    /// Bytes of a constraint: the schema as compact JSON, the pattern, the grammar, or
    /// the choices together.
    pub const MAX_BYTES: usize = 256 * 1024;
    /// Nesting of a schema's JSON (an object property is two levels: `properties`, then
    /// the property).
    pub const MAX_DEPTH: usize = 64;
    /// Object properties in a whole schema (OpenAI's limit for structured outputs).
    pub const MAX_PROPERTIES: usize = 5_000;
    /// `$ref`s in a schema.
    pub const MAX_REFS: usize = 1_000;
    /// Options of a choice constraint.
    pub const MAX_CHOICES: usize = 10_000;
}

/// Stack of the thread that compiles a constraint; deep enough for every schema within
/// [`limits`] (about 1.5 KiB per property, measured), and only touched pages use memory.
const COMPILE_STACK: usize = 64 << 20;

impl Constraint {
    /// Checks the constraint against [`limits`], cheaply and without recursion.
    pub fn check_limits(&self) -> Result<(), EngineError> {
        let over = |what, found, limit| {
            if found > limit {
                Err(EngineError::ConstraintTooLarge { what, found, limit })
            } else {
                Ok(())
            }
        };
        match self {
            Constraint::JsonSchema(schema) => check_schema(schema),
            Constraint::JsonObject => Ok(()),
            Constraint::Regex(rx) => over("pattern length in bytes", rx.len(), limits::MAX_BYTES),
            Constraint::Lark(g) => over("grammar length in bytes", g.len(), limits::MAX_BYTES),
            Constraint::Choice(options) => {
                over("number of choices", options.len(), limits::MAX_CHOICES)?;
                let bytes = options.iter().map(String::len).sum();
                over("length of the choices in bytes", bytes, limits::MAX_BYTES)
            }
        }
    }

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
                    .map_err(|e| EngineError::InvalidConstraint(format!("invalid regex: {e}")))?;
                TopLevelGrammar::from_regex(rx)
            }
            Constraint::Lark(g) => TopLevelGrammar::from_lark(g.clone()),
            Constraint::Choice(options) => {
                if options.is_empty() {
                    return Err(EngineError::InvalidConstraint(
                        "a choice constraint needs at least one option".into(),
                    ));
                }
                let alts: Vec<String> = options.iter().map(|o| regex::escape(o)).collect();
                TopLevelGrammar::from_regex(&format!("({})", alts.join("|")))
            }
        })
    }
}

/// Walks a schema with an explicit stack: size, depth, properties and `$ref`s against
/// [`limits`], then `$ref` chains that never reach a schema.
fn check_schema(schema: &Value) -> Result<(), EngineError> {
    let too = |what, found, limit| EngineError::ConstraintTooLarge { what, found, limit };
    let mut bytes = 0usize;
    let mut properties = 0usize;
    let mut refs = 0usize;
    let mut stack: Vec<(&Value, usize)> = vec![(schema, 1)];
    while let Some((v, depth)) = stack.pop() {
        if depth > limits::MAX_DEPTH {
            return Err(too("nesting depth", depth, limits::MAX_DEPTH));
        }
        bytes += match v {
            Value::Null | Value::Bool(_) => 5,
            Value::Number(_) => 8,
            Value::String(s) => s.len() + 3,
            Value::Array(a) => a.len() + 2,
            Value::Object(o) => o.keys().map(|k| k.len() + 4).sum::<usize>() + 2,
        };
        if bytes > limits::MAX_BYTES {
            return Err(too("size in bytes", bytes, limits::MAX_BYTES));
        }
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|x| (x, depth + 1))),
            Value::Object(o) => {
                if let Some(Value::Object(p)) = o.get("properties") {
                    properties += p.len();
                    if properties > limits::MAX_PROPERTIES {
                        return Err(too(
                            "number of properties",
                            properties,
                            limits::MAX_PROPERTIES,
                        ));
                    }
                }
                if o.get("$ref").is_some_and(Value::is_string) {
                    refs += 1;
                    if refs > limits::MAX_REFS {
                        return Err(too("number of $refs", refs, limits::MAX_REFS));
                    }
                }
                stack.extend(o.values().map(|x| (x, depth + 1)));
            }
            _ => {}
        }
    }
    check_ref_cycles(schema)
}

/// Refuses `$ref` chains that come back to where they started without passing through
/// anything that produces output (`{"$ref": "#"}`, or a → b → a): such a schema
/// describes no value. Each reference is followed once (linear in the schema).
fn check_ref_cycles(schema: &Value) -> Result<(), EngineError> {
    let mut good: HashSet<&str> = HashSet::new();
    let mut stack = vec![schema];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(o) => {
                if let Some(start) = o.get("$ref").and_then(Value::as_str) {
                    follow_refs(schema, start, &mut good)?;
                }
                stack.extend(o.values());
            }
            _ => {}
        }
    }
    Ok(())
}

/// Follows a chain of schemas that are only a `$ref` from `start` until one produces
/// something, cannot be resolved here (llguidance reports those), or is known good.
fn follow_refs<'a>(
    root: &'a Value,
    start: &'a str,
    good: &mut HashSet<&'a str>,
) -> Result<(), EngineError> {
    let mut path: Vec<&str> = Vec::new();
    let mut at = start;
    while !good.contains(at) {
        if path.contains(&at) {
            path.push(at);
            return Err(EngineError::InvalidConstraint(format!(
                "the $ref chain {} never reaches a schema",
                path.join(" -> ")
            )));
        }
        path.push(at);
        match at
            .strip_prefix('#')
            .and_then(|p| root.pointer(p))
            .and_then(only_ref)
        {
            Some(next) => at = next,
            None => break,
        }
    }
    good.extend(path);
    Ok(())
}

/// The `$ref` a schema consists of, if it produces nothing before following it.
fn only_ref(schema: &Value) -> Option<&str> {
    let o = schema.as_object()?;
    if let Some(r) = o.get("$ref").and_then(Value::as_str) {
        let other = o.keys().any(|k| {
            !matches!(
                k.as_str(),
                "$ref"
                    | "$defs"
                    | "definitions"
                    | "$schema"
                    | "$id"
                    | "title"
                    | "description"
                    | "$comment"
            )
        });
        return (!other).then_some(r);
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(branches)) = o.get(key) {
            if branches.len() == 1 {
                return branches.first().and_then(only_ref);
            }
        }
    }
    None
}

/// llguidance's message without the marker it leaves where parser state would be.
fn plain(e: &dyn std::fmt::Display) -> String {
    let s = e.to_string();
    s.trim_end()
        .trim_end_matches("<non-verbose/>")
        .trim_end()
        .to_string()
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
        // Errors go to clients: no parser state or grammar dumps in them.
        factory.limits_mut().verbose_errors = false;
        Ok(Self { factory })
    }

    /// A matcher for one request, at the start of its output: checked against
    /// [`limits`], then compiled on a thread with a large stack (a panic in the compiler
    /// is an error of this request, not of the caller's thread).
    pub fn matcher(&self, c: &Constraint) -> Result<GrammarState, EngineError> {
        c.check_limits()?;
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("loglens-grammar".into())
                .stack_size(COMPILE_STACK)
                .spawn_scoped(scope, || self.compile(c))
                .map_err(|e| EngineError::Unsupported {
                    what: "constrained decoding",
                    detail: format!("cannot start the grammar compiler's thread: {e}"),
                })?
                .join()
                .unwrap_or_else(|_| {
                    Err(EngineError::InvalidConstraint(
                        "the constraint could not be compiled (the compiler failed)".into(),
                    ))
                })
        })
    }

    fn compile(&self, c: &Constraint) -> Result<GrammarState, EngineError> {
        let grammar = c.grammar()?;
        let parser = self
            .factory
            .create_parser(grammar)
            .map_err(|e| EngineError::InvalidConstraint(plain(&e)))?;
        let mut m = Matcher::new(Ok(parser));
        // The first mask, computed once here: a grammar that cannot produce anything
        // (a `$ref` cycle) or that is too wide for the parser (thousands of optional
        // properties) fails now, as the request's error, not after it was queued.
        if let Err(e) = m.compute_mask_or_eos() {
            return Err(EngineError::InvalidConstraint(plain(&e)));
        }
        if let Some(e) = m.get_error() {
            return Err(EngineError::InvalidConstraint(plain(&e)));
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
            Some(e) => Err(EngineError::Constraint(plain(&e))),
            None => Ok(()),
        }
    }

    /// Whether the grammar allows `token` next.
    pub fn allows(&mut self, token: u32) -> Result<bool, EngineError> {
        let n = self
            .m
            .validate_tokens(&[token])
            .map_err(|e| EngineError::Constraint(plain(&e)))?;
        Ok(n == 1)
    }

    /// Sets the logits of every token the grammar does not allow to -inf.
    pub fn mask(&mut self, logits: &mut [f32]) -> Result<(), EngineError> {
        let t = Instant::now();
        let mask = self
            .m
            .compute_mask_or_eos()
            .map_err(|e| EngineError::Constraint(plain(&e)))?;
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
            .map_err(|e| EngineError::Constraint(plain(&e)))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn too_large(c: Constraint) -> &'static str {
        match c.check_limits() {
            Err(EngineError::ConstraintTooLarge { what, .. }) => what,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn limits_are_checked_before_compiling() {
        let mut deep = json!({"type": "integer"});
        for _ in 0..limits::MAX_DEPTH {
            deep = json!({"anyOf": [deep]});
        }
        assert!(too_large(Constraint::JsonSchema(deep)).contains("nesting"));
        let props: serde_json::Map<String, Value> = (0..=limits::MAX_PROPERTIES)
            .map(|i| (format!("p{i}"), json!({})))
            .collect();
        let wide = json!({"type": "object", "properties": props});
        assert!(too_large(Constraint::JsonSchema(wide)).contains("properties"));
        let big = json!({"enum": ["x".repeat(limits::MAX_BYTES)]});
        assert!(too_large(Constraint::JsonSchema(big)).contains("bytes"));
        let rx = Constraint::Regex("a".repeat(limits::MAX_BYTES + 1));
        assert!(too_large(rx).contains("pattern"));
        let lark = Constraint::Lark("x".repeat(limits::MAX_BYTES + 1));
        assert!(too_large(lark).contains("grammar"));
        let many = Constraint::Choice(vec!["a".into(); limits::MAX_CHOICES + 1]);
        assert!(too_large(many).contains("choices"));
        let ok = json!({"type": "object", "properties": {"a": {"type": "string"}}});
        assert!(Constraint::JsonSchema(ok).check_limits().is_ok());
    }

    #[test]
    fn ref_chains_that_produce_nothing_are_refused() {
        for schema in [
            json!({"$ref": "#"}),
            json!({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}),
            json!({"$defs": {"a": {"oneOf": [{"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}),
        ] {
            match Constraint::JsonSchema(schema.clone()).check_limits() {
                Err(EngineError::InvalidConstraint(m)) => assert!(m.contains("$ref"), "{m}"),
                other => panic!("{schema}: {other:?}"),
            }
        }
        // Recursion through structure describes trees; a long chain ending in a type is
        // fine.
        let tree = json!({"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#"}}}});
        assert!(Constraint::JsonSchema(tree).check_limits().is_ok());
        let defs: serde_json::Map<String, Value> = (0..500)
            .map(|i| {
                (
                    format!("d{i}"),
                    json!({"$ref": format!("#/$defs/d{}", i + 1)}),
                )
            })
            .chain([("d500".to_string(), json!({"type": "integer"}))])
            .collect();
        let chain = json!({"$defs": defs, "$ref": "#/$defs/d0"});
        assert!(Constraint::JsonSchema(chain).check_limits().is_ok());
    }
}
