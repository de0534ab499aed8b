//! The properties loglens's fuzz targets check, one function per target. The libFuzzer
//! binaries in `fuzz_targets/` call them; the test suite (`tests/it/fuzz_corpus.rs`)
//! replays the committed corpus through the same functions, so a finding fixed once
//! stays fixed.
//!
//! Every function must hold for any bytes: no panic, output bounded by the input (the
//! fuzzer's `-rss_limit_mb` / `-malloc_limit_mb` catch unbounded allocation), and
//! when reading, `lines = records + continuation + blank`.
#![allow(unreachable_pub, missing_docs, clippy::unwrap_used)]

use std::sync::OnceLock;

use loglens::detect::session::NextEventModel;
use loglens::engine::constrain::Grammars;
use loglens::engine::Constraint;
use loglens::logs::formats::{FormatSpec, Parser};
use loglens::logs::ingest::LineReader;
use loglens::logs::mask::{mask_into, Masked};
use loglens::logs::miner::{Miner, MinerConfig};
use loglens::logs::multiline::{Joiner, LineKind, MAX_CONTINUATION_LINES, MAX_RECORD_BYTES};
use loglens::logs::time::{parse_timestamp, rfc3339};
use loglens::server::api::{ChatRequest, CompletionRequest};

/// Lines looked at per input: enough for every parser state, few enough to stay fast.
const MAX_LINES: usize = 256;

/// Every built-in format, and the header-pattern presets.
fn all_specs() -> Vec<FormatSpec> {
    let mut specs = vec![
        FormatSpec::Compose,
        FormatSpec::Airflow,
        FormatSpec::Python,
        FormatSpec::Log4j,
        FormatSpec::Redis,
        FormatSpec::Json,
        FormatSpec::Logfmt,
        FormatSpec::Syslog,
        FormatSpec::Access,
        FormatSpec::Cri,
        FormatSpec::Generic,
    ];
    for preset in ["hdfs", "hadoop", "spark", "zookeeper", "bgl", "hpc", "openssh", "apache"] {
        specs.extend(FormatSpec::parse(preset).ok());
    }
    specs
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().take(MAX_LINES).collect()
}

/// A bound on what parsing a line of `n` bytes may produce.
fn bounded(n: usize) -> usize {
    4 * n + 256
}

/// Format detection and every format parser (plus a header pattern read from the first
/// line) on every line.
pub fn formats(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let lines = lines(&text);
    let mut specs = all_specs();
    if let Some(first) = lines.first() {
        specs.extend(FormatSpec::parse(first).ok());
    }
    specs.push(FormatSpec::detect(lines.iter().copied()));
    for spec in specs {
        let name = spec.name();
        let parser = Parser::new(spec);
        let _ = parser.has_headers();
        for l in &lines {
            let p = parser.parse_line(l);
            let size = p.message.len()
                + p.timestamp.as_deref().map_or(0, str::len)
                + p.component.as_deref().map_or(0, str::len)
                + p.trace_id.as_deref().map_or(0, str::len);
            assert!(size <= bounded(l.len()), "{name}: {size} bytes from a {}-byte line", l.len());
        }
    }
}

/// The masker and the miner (small caps, so overflow and cache clearing run), then the
/// miner's state round trip.
pub fn mask_miner(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let config = MinerConfig {
        max_clusters: 32,
        max_cache: 64,
        ..MinerConfig::default()
    };
    let mut miner = Miner::new(config);
    let mut masked = Masked::new();
    for l in lines(&text) {
        mask_into(l, &mut masked);
        assert!(masked.text().len() <= bounded(l.len()));
        for i in 0..masked.len() {
            let _ = masked.token(i);
            let _ = masked.is_whole_var(i);
        }
        assert!(masked.params(l).count() <= l.len() + 1);
        let id = miner.add(l);
        let cluster = miner.cluster(id);
        assert!(cluster.template().len() <= bounded(l.len()));
        let _ = cluster.template_id();
        assert_eq!(miner.cluster(miner.canonical(id)).size(), cluster.size());
        let _ = miner.last_params(l);
    }
    assert!(miner.len() <= config.max_clusters + 1);
    let json = miner.to_json().expect("a miner serialises");
    let back = Miner::from_json(&json).expect("a saved miner loads");
    assert_eq!(back.len(), miner.len());
}

/// Timestamp parsing with several default years.
pub fn timestamps(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for l in lines(&text).into_iter().take(64) {
        for year in [1970, 2025, 0, -9999, 9999] {
            if let Some(t) = parse_timestamp(l, year) {
                let _ = rfc3339(&t);
            }
        }
    }
}

/// Reading as `analyze` does: bounded lines (the first byte picks the limit and the
/// format), format detection on the head, multi-line joining. Every line is accounted
/// for and every record stays within the size caps.
pub fn reading(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let max_line = 16 + usize::from(pick) * 2;
    let mut reader = LineReader::new(body, max_line);
    let mut all = Vec::new();
    let mut line = String::new();
    while reader.next_line(&mut line).expect("reading memory cannot fail") {
        assert!(line.len() <= max_line.max(16) + 32, "line over its cap");
        all.push(line.clone());
        if all.len() >= 4 * MAX_LINES {
            return;
        }
    }
    let stats = reader.stats();
    assert_eq!(stats.lines, all.len() as u64);
    assert_eq!(stats.bytes, body.len() as u64);
    let specs = all_specs();
    let spec = match usize::from(pick) % (specs.len() + 1) {
        i if i < specs.len() => specs[i].clone(),
        _ => FormatSpec::detect(all.iter().take(64).map(String::as_str)),
    };
    let parser = Parser::new(spec);
    let headers = parser.has_headers();
    let mut joiner = Joiner::new();
    let mut done = Vec::new();
    let (mut records, mut continuation, mut blank) = (0u64, 0u64, 0u64);
    for (i, l) in all.iter().enumerate() {
        match joiner.push(i as u64 + 1, l, parser.parse_line(l), headers, &mut done) {
            LineKind::Record | LineKind::Unparsed => records += 1,
            LineKind::Continuation | LineKind::Dropped => continuation += 1,
            LineKind::Blank => blank += 1,
        }
    }
    joiner.finish(&mut done);
    assert_eq!(stats.lines, records + continuation + blank, "a line is unaccounted for");
    assert_eq!(done.len() as u64, records, "records lost or invented");
    for r in &done {
        assert!(r.continuation.len() <= MAX_CONTINUATION_LINES);
        let kept: usize = r.continuation.iter().map(|c| c.len() + 1).sum();
        assert!(kept <= MAX_RECORD_BYTES + max_line + 64);
        assert!(r.line >= 1 && r.line <= stats.lines);
    }
}

/// The miner and session-model loaders: anything they accept works, and a loaded miner
/// saves to a state that loads again.
pub fn state(data: &[u8]) {
    if let Ok(mut m) = Miner::from_json(data) {
        let ids: Vec<_> = m.clusters().map(|(id, _)| id).collect();
        for id in ids {
            let _ = m.cluster(m.canonical(id)).template();
        }
        for msg in ["a", "user bob logged in", "disk /dev/sda1 full", ""] {
            let id = m.add(msg);
            let _ = m.cluster(id).template();
        }
        let json = m.to_json().expect("serialises");
        Miner::from_json(&json).expect("a state written by save loads");
    }
    if let Ok(mut s) = NextEventModel::from_json(data) {
        let _ = s.surprises(&[1, 2, 3, 2, 1], true);
        s.fit(&[1, 2, 3]);
        let _ = s.surprises(&[], false);
        let json = serde_json::to_vec(&s).expect("serialises");
        NextEventModel::from_json(&json).expect("a saved model loads");
    }
}

/// OpenAI request bodies: deserialised, then validated as the server does before a
/// request meets the engine.
pub fn openai(data: &[u8]) {
    if let Ok(req) = serde_json::from_slice::<ChatRequest>(data) {
        let _ = req.messages();
        let _ = req.logprobs();
        let _ = req.constraint();
        if let Ok(c) = req.sampling.common() {
            let _ = c.sampling.validate();
        }
    }
    if let Ok(req) = serde_json::from_slice::<CompletionRequest>(data) {
        let _ = req.prompts();
        let _ = req.constraint();
        if let Ok(c) = req.sampling.common() {
            let _ = c.sampling.validate();
        }
    }
}

/// The grammar compiler for the default model's tokenizer (`LOGLENS_MODEL`, else
/// `models/` in the checkout), built once.
fn grammars() -> &'static Grammars {
    static G: OnceLock<Grammars> = OnceLock::new();
    G.get_or_init(|| {
        let path = std::env::var_os("LOGLENS_MODEL")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../models/SmolLM2-135M-Instruct.Q4_1.gguf")
            });
        let g = loglens::engine::gguf::Gguf::open(&path)
            .expect("the default model (set LOGLENS_MODEL or run models/fetch-default.sh)");
        let tok = loglens::engine::tokenizer::Tok::from_gguf(&g).expect("its tokenizer");
        Grammars::new(&tok, tok.vocab_size()).expect("a grammar compiler")
    })
}

/// Constraint compilation through the engine's entry point (JSON schema, regex, Lark,
/// choice; the first byte picks), then the first steps of decoding under it.
pub fn constraint(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(body).into_owned();
    let c = match pick % 4 {
        0 => match serde_json::from_slice(body) {
            Ok(v) => Constraint::JsonSchema(v),
            Err(_) => return,
        },
        1 => Constraint::Regex(text),
        2 => Constraint::Lark(text),
        _ => Constraint::Choice(text.lines().take(64).map(str::to_string).collect()),
    };
    let g = grammars();
    let Ok(mut m) = g.matcher(&c) else {
        return;
    };
    let Ok(forced) = m.forced() else {
        return;
    };
    for t in forced.into_iter().take(64) {
        if m.consume(t).is_err() {
            return;
        }
    }
    for t in [0u32, 1, 2, 100, 1000] {
        if m.allows(t).unwrap_or(false) {
            let _ = m.consume(t);
            break;
        }
    }
}
