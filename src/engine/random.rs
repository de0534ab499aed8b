//! `loglens models random`: random-weight models of real shapes (Llama 3 8B, Mistral 7B,
//! SmolLM2 135M, a tiny one for tests) written as HF directories, for speed runs on
//! nodes that do not hold the real weights, and for tests.
//!
//! Weights are uniform with standard deviation 0.02 (norms 1), drawn from a counter-
//! based generator keyed by the seed, the tensor and the chunk, so the same seed gives
//! the same files whatever the number of threads; chunks are generated and written in
//! parallel, which writes the 16 GB of an 8B model in seconds on a many-core node (to
//! `/dev/shm` when the disk is the bottleneck). The tokenizer is a synthetic byte-level
//! BPE that fills the model's vocabulary: 256 byte tokens, merges of lowercase letters
//! (`ab`, `abc`, ...) and ChatML control tokens, so every id decodes to text.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::json;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::{AddedToken, Tokenizer};

use super::EngineError;

/// Hyper-parameters of a model shape, with HF `config.json` names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// `llama` or `mistral`.
    pub model_type: &'static str,
    /// Hidden size.
    pub hidden_size: usize,
    /// Feed-forward width.
    pub intermediate_size: usize,
    /// Layers.
    pub num_hidden_layers: usize,
    /// Attention heads.
    pub num_attention_heads: usize,
    /// Key/value heads.
    pub num_key_value_heads: usize,
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Rotary base.
    pub rope_theta: f64,
    /// Context length.
    pub max_position_embeddings: usize,
    /// Sliding attention window (Mistral).
    pub sliding_window: Option<usize>,
    /// Output head shares the embedding.
    pub tie_word_embeddings: bool,
}

/// The shapes `models random` knows, by name.
pub const SHAPES: &[(&str, Shape)] = &[
    (
        "llama3-8b",
        Shape {
            model_type: "llama",
            hidden_size: 4096,
            intermediate_size: 14336,
            num_hidden_layers: 32,
            num_attention_heads: 32,
            num_key_value_heads: 8,
            vocab_size: 128_256,
            rope_theta: 500_000.0,
            max_position_embeddings: 8192,
            sliding_window: None,
            tie_word_embeddings: false,
        },
    ),
    (
        "mistral-7b",
        Shape {
            model_type: "mistral",
            hidden_size: 4096,
            intermediate_size: 14336,
            num_hidden_layers: 32,
            num_attention_heads: 32,
            num_key_value_heads: 8,
            vocab_size: 32_000,
            rope_theta: 10_000.0,
            max_position_embeddings: 32_768,
            sliding_window: Some(4096),
            tie_word_embeddings: false,
        },
    ),
    (
        "smollm2-135m",
        Shape {
            model_type: "llama",
            hidden_size: 576,
            intermediate_size: 1536,
            num_hidden_layers: 30,
            num_attention_heads: 9,
            num_key_value_heads: 3,
            vocab_size: 49_152,
            rope_theta: 100_000.0,
            max_position_embeddings: 8192,
            sliding_window: None,
            tie_word_embeddings: true,
        },
    ),
    (
        "tiny",
        Shape {
            model_type: "llama",
            hidden_size: 128,
            intermediate_size: 256,
            num_hidden_layers: 2,
            num_attention_heads: 4,
            num_key_value_heads: 2,
            vocab_size: 512,
            rope_theta: 10_000.0,
            max_position_embeddings: 1024,
            sliding_window: None,
            tie_word_embeddings: false,
        },
    ),
];

/// The shape named `name`.
pub fn shape(name: &str) -> Result<Shape, EngineError> {
    SHAPES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .ok_or_else(|| {
            let known: Vec<&str> = SHAPES.iter().map(|(n, _)| *n).collect();
            EngineError::InvalidRequest(format!(
                "unknown shape {name:?} (known: {})",
                known.join(", ")
            ))
        })
}

/// Storage type of the written weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RandomDtype {
    /// bfloat16 (what the real checkpoints ship).
    Bf16,
    /// float32.
    F32,
}

impl std::str::FromStr for RandomDtype {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "bf16" | "bfloat16" => Ok(Self::Bf16),
            "f32" | "float32" => Ok(Self::F32),
            _ => Err(format!("unknown dtype {s:?} (bf16, f32)")),
        }
    }
}

impl RandomDtype {
    fn bytes(self) -> usize {
        match self {
            Self::Bf16 => 2,
            Self::F32 => 4,
        }
    }

    fn safetensors_name(self) -> &'static str {
        match self {
            Self::Bf16 => "BF16",
            Self::F32 => "F32",
        }
    }
}

/// What [`write_random`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    /// The directory.
    pub dir: PathBuf,
    /// Number of weights.
    pub parameters: u64,
    /// Bytes of safetensors data and headers.
    pub weight_bytes: u64,
    /// Safetensors shards.
    pub shards: usize,
}

/// Largest shard, in bytes of tensor data.
const SHARD_BYTES: u64 = 4 << 30;
/// Elements generated and written per parallel task.
const CHUNK: usize = 1 << 22;
/// Standard deviation of the random weights.
const STD: f32 = 0.02;
/// Control tokens at the end of the vocabulary; the last one ends a turn.
const SPECIALS: [&str; 3] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
/// ChatML, as SmolLM2 and Qwen write it.
const CHATML: &str = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/// One tensor to write: HF name, shape, and whether it is a norm (all ones).
struct Spec {
    name: String,
    shape: Vec<usize>,
    ones: bool,
}

impl Spec {
    fn elements(&self) -> usize {
        self.shape.iter().product()
    }
}

fn tensors(s: &Shape) -> Vec<Spec> {
    let (h, f, v) = (s.hidden_size, s.intermediate_size, s.vocab_size);
    let hd = h / s.num_attention_heads;
    let kv = s.num_key_value_heads * hd;
    let mut out = Vec::new();
    let mut add = |name: String, shape: Vec<usize>, ones: bool| {
        out.push(Spec { name, shape, ones });
    };
    add("model.embed_tokens.weight".into(), vec![v, h], false);
    for i in 0..s.num_hidden_layers {
        let p = |n: &str| format!("model.layers.{i}.{n}.weight");
        add(p("input_layernorm"), vec![h], true);
        add(p("self_attn.q_proj"), vec![h, h], false);
        add(p("self_attn.k_proj"), vec![kv, h], false);
        add(p("self_attn.v_proj"), vec![kv, h], false);
        add(p("self_attn.o_proj"), vec![h, h], false);
        add(p("post_attention_layernorm"), vec![h], true);
        add(p("mlp.gate_proj"), vec![f, h], false);
        add(p("mlp.up_proj"), vec![f, h], false);
        add(p("mlp.down_proj"), vec![h, f], false);
    }
    add("model.norm.weight".into(), vec![h], true);
    if !s.tie_word_embeddings {
        add("lm_head.weight".into(), vec![v, h], false);
    }
    out
}

/// Writes a random model of `shape` into `out` (created; files in it are replaced):
/// `config.json`, `generation_config.json`, `tokenizer.json`,
/// `tokenizer_config.json`, and safetensors shards with their index.
pub fn write_random(
    out: &Path,
    name: &str,
    shape: &Shape,
    seed: u64,
    dtype: RandomDtype,
) -> Result<Written, EngineError> {
    if shape.vocab_size < 256 + SPECIALS.len() + 2
        || !shape.hidden_size.is_multiple_of(shape.num_attention_heads)
    {
        return Err(EngineError::InvalidRequest(format!(
            "shape {name} cannot be written (vocabulary of at least {} tokens and a hidden size divisible by the heads needed)",
            256 + SPECIALS.len() + 2
        )));
    }
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let specs = tensors(shape);
    let shards = plan_shards(&specs, dtype);
    let n_shards = shards.len();
    let mut weight_map = serde_json::Map::new();
    let mut jobs = Vec::new();
    let mut files = Vec::new();
    let mut weight_bytes = 0;
    for (k, members) in shards.iter().enumerate() {
        let file = if n_shards == 1 {
            "model.safetensors".to_string()
        } else {
            format!("model-{:05}-of-{n_shards:05}.safetensors", k + 1)
        };
        let path = out.join(&file);
        let (header, offsets) = header(&specs, members, dtype)?;
        let data_start = 8 + header.len() as u64;
        let data_len: u64 = offsets.last().map_or(0, |o| o.1);
        let f = File::create(&path).map_err(|e| io(&path, e))?;
        f.set_len(data_start + data_len).map_err(|e| io(&path, e))?;
        f.write_all_at(&(header.len() as u64).to_le_bytes(), 0)
            .and_then(|()| f.write_all_at(&header, 8))
            .map_err(|e| io(&path, e))?;
        weight_bytes += data_start + data_len;
        for (&t, &(start, _)) in members.iter().zip(&offsets) {
            weight_map.insert(specs[t].name.clone(), json!(file));
            let n = specs[t].elements();
            for (c, at) in (0..n).step_by(CHUNK).enumerate() {
                jobs.push(Job {
                    file: files.len(),
                    tensor: t,
                    chunk: c,
                    elements: CHUNK.min(n - at),
                    offset: data_start + start + (at * dtype.bytes()) as u64,
                });
            }
        }
        files.push((path, f));
    }
    jobs.par_iter().try_for_each(|job| {
        let spec = &specs[job.tensor];
        let bytes = fill(seed, job, spec.ones, dtype);
        let (path, f) = &files[job.file];
        f.write_all_at(&bytes, job.offset).map_err(|e| io(path, e))
    })?;
    for (path, f) in &files {
        f.sync_data().map_err(|e| io(path, e))?;
    }
    if n_shards > 1 {
        write_json(
            out,
            "model.safetensors.index.json",
            &json!({"metadata": {"total_size": weight_bytes}, "weight_map": weight_map}),
        )?;
    }
    write_configs(out, name, shape, seed, dtype)?;
    Ok(Written {
        dir: out.to_path_buf(),
        parameters: specs.iter().map(|s| s.elements() as u64).sum(),
        weight_bytes,
        shards: n_shards,
    })
}

/// One chunk of one tensor, written at `offset` of file `file`.
struct Job {
    file: usize,
    tensor: usize,
    chunk: usize,
    elements: usize,
    offset: u64,
}

/// Tensors grouped into shards of at most [`SHARD_BYTES`] (a larger tensor gets its own).
fn plan_shards(specs: &[Spec], dtype: RandomDtype) -> Vec<Vec<usize>> {
    let mut shards: Vec<Vec<usize>> = vec![Vec::new()];
    let mut size = 0u64;
    for (i, s) in specs.iter().enumerate() {
        let b = (s.elements() * dtype.bytes()) as u64;
        if size > 0 && size + b > SHARD_BYTES {
            shards.push(Vec::new());
            size = 0;
        }
        if let Some(last) = shards.last_mut() {
            last.push(i);
        }
        size += b;
    }
    shards
}

/// A safetensors header and each tensor's data range in the file's data.
type Header = (Vec<u8>, Vec<(u64, u64)>);

/// A safetensors header for `members` (padded to 8 bytes) and each tensor's data range.
fn header(specs: &[Spec], members: &[usize], dtype: RandomDtype) -> Result<Header, EngineError> {
    let mut map = serde_json::Map::new();
    map.insert("__metadata__".into(), json!({"format": "pt"}));
    let mut at = 0u64;
    let mut offsets = Vec::with_capacity(members.len());
    for &t in members {
        let end = at + (specs[t].elements() * dtype.bytes()) as u64;
        map.insert(
            specs[t].name.clone(),
            json!({"dtype": dtype.safetensors_name(), "shape": specs[t].shape, "data_offsets": [at, end]}),
        );
        offsets.push((at, end));
        at = end;
    }
    let mut text = serde_json::to_vec(&map)
        .map_err(|e| EngineError::InvalidRequest(format!("safetensors header: {e}")))?;
    while text.len() % 8 != 0 {
        text.push(b' ');
    }
    Ok((text, offsets))
}

/// The bytes of one chunk: ones for norms, else uniform values of standard deviation
/// [`STD`] from a generator keyed by (seed, tensor, chunk).
fn fill(seed: u64, job: &Job, ones: bool, dtype: RandomDtype) -> Vec<u8> {
    let mut out = Vec::with_capacity(job.elements * dtype.bytes());
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ ((job.tensor as u64) << 40)
        ^ ((job.chunk as u64) << 8);
    // Uniform on [-a, a] has standard deviation a / sqrt(3).
    let a = STD * 3f32.sqrt();
    let scale = 2.0 * a / (1u32 << 24) as f32;
    let mut push = |x: f32| match dtype {
        RandomDtype::Bf16 => out.extend_from_slice(&bf16_bits(x).to_le_bytes()),
        RandomDtype::F32 => out.extend_from_slice(&x.to_le_bytes()),
    };
    if ones {
        (0..job.elements).for_each(|_| push(1.0));
        return out;
    }
    let mut left = job.elements;
    while left > 0 {
        let r = splitmix64(&mut state);
        for half in [r >> 40, (r >> 16) & 0xFF_FFFF] {
            if left == 0 {
                break;
            }
            push(half as f32 * scale - a);
            left -= 1;
        }
    }
    out
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// f32 to bfloat16, rounding to nearest even (the values here are finite).
fn bf16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    ((b + 0x7FFF + ((b >> 16) & 1)) >> 16) as u16
}

/// `config.json`, `generation_config.json`, `tokenizer.json`, `tokenizer_config.json`.
fn write_configs(
    out: &Path,
    name: &str,
    s: &Shape,
    seed: u64,
    dtype: RandomDtype,
) -> Result<(), EngineError> {
    let tok = tokenizer(s.vocab_size)?;
    let id = |t: &str| tok.token_to_id(t);
    let (eot, eos) = (id("<|im_end|>"), id("<|endoftext|>"));
    let architecture = if s.model_type == "mistral" {
        "MistralForCausalLM"
    } else {
        "LlamaForCausalLM"
    };
    write_json(
        out,
        "config.json",
        &json!({
            "architectures": [architecture],
            "model_type": s.model_type,
            "hidden_size": s.hidden_size,
            "intermediate_size": s.intermediate_size,
            "num_hidden_layers": s.num_hidden_layers,
            "num_attention_heads": s.num_attention_heads,
            "num_key_value_heads": s.num_key_value_heads,
            "head_dim": s.hidden_size / s.num_attention_heads,
            "rms_norm_eps": 1e-5,
            "rope_theta": s.rope_theta,
            "max_position_embeddings": s.max_position_embeddings,
            "sliding_window": s.sliding_window,
            "tie_word_embeddings": s.tie_word_embeddings,
            "vocab_size": s.vocab_size,
            "hidden_act": "silu",
            "eos_token_id": eot,
            "torch_dtype": if dtype == RandomDtype::Bf16 { "bfloat16" } else { "float32" },
            "loglens_random": {"shape": name, "seed": seed},
        }),
    )?;
    write_json(
        out,
        "generation_config.json",
        &json!({"eos_token_id": [eot, eos]}),
    )?;
    write_json(
        out,
        "tokenizer_config.json",
        &json!({
            "tokenizer_class": "PreTrainedTokenizerFast",
            "eos_token": "<|im_end|>",
            "model_max_length": s.max_position_embeddings,
            "clean_up_tokenization_spaces": false,
            "chat_template": CHATML,
        }),
    )?;
    let text = tok
        .to_string(false)
        .map_err(|e| EngineError::Tokenizer(e.to_string()))?;
    let p = out.join("tokenizer.json");
    std::fs::write(&p, text).map_err(|e| io(&p, e))
}

/// A byte-level BPE of exactly `vocab` tokens: GPT-2's 256 byte symbols, merges of
/// lowercase letters in order of length (every prefix of a merged token is a token), and
/// [`SPECIALS`] as the last ids.
pub fn tokenizer(vocab: usize) -> Result<Tokenizer, EngineError> {
    let bytes = byte_symbols();
    let mut ids: tokenizers::models::bpe::Vocab = bytes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.to_string(), i as u32))
        .collect();
    let want = vocab.saturating_sub(bytes.len() + SPECIALS.len());
    let mut merges = Vec::with_capacity(want);
    let letters: Vec<String> = ('a'..='z').map(String::from).collect();
    let mut level = letters.clone();
    while merges.len() < want {
        let mut next = Vec::new();
        'outer: for prefix in &level {
            for l in &letters {
                if merges.len() == want {
                    break 'outer;
                }
                let token = format!("{prefix}{l}");
                ids.insert(token.clone(), ids.len() as u32);
                merges.push((prefix.clone(), l.clone()));
                next.push(token);
            }
        }
        level = next;
    }
    let bpe = BPE::builder()
        .vocab_and_merges(ids, merges)
        .build()
        .map_err(|e| EngineError::Tokenizer(e.to_string()))?;
    let mut tok = Tokenizer::new(bpe);
    tok.with_pre_tokenizer(Some(ByteLevel::new(false, true, true)));
    tok.with_decoder(Some(ByteLevel::new(false, true, true)));
    let specials: Vec<AddedToken> = SPECIALS
        .iter()
        .map(|s| AddedToken::from(s.to_string(), true))
        .collect();
    tok.add_special_tokens(&specials);
    Ok(tok)
}

/// GPT-2's byte-to-symbol table, in byte order.
fn byte_symbols() -> Vec<char> {
    let printable = |b: u32| (0x21..=0x7E).contains(&b) || (0xA1..=0xAC).contains(&b) || b >= 0xAE;
    let mut shifted = 0;
    (0..256u32)
        .map(|b| {
            let code = if printable(b) {
                b
            } else {
                shifted += 1;
                255 + shifted
            };
            // Every code is below 0x200, a valid scalar value.
            char::from_u32(code).unwrap_or('?')
        })
        .collect()
}

fn write_json(out: &Path, file: &str, v: &serde_json::Value) -> Result<(), EngineError> {
    let p = out.join(file);
    let text = serde_json::to_string_pretty(v)
        .map_err(|e| EngineError::InvalidRequest(format!("{}: {e}", p.display())))?;
    std::fs::write(&p, text).map_err(|e| io(&p, e))
}

fn io(p: &Path, e: std::io::Error) -> EngineError {
    EngineError::InvalidRequest(format!("{}: {e}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_fills_the_vocabulary_and_round_trips() {
        for vocab in [512, 32_000] {
            let tok = tokenizer(vocab).expect("tokenizer");
            assert_eq!(tok.get_vocab_size(true), vocab);
            assert_eq!(tok.token_to_id("<|im_end|>"), Some(vocab as u32 - 1));
            let text = "ERROR disk full: 98% used\n{\"a\": 1}";
            let ids = tok.encode(text, false).expect("encode").get_ids().to_vec();
            assert!(ids.iter().all(|&i| (i as usize) < vocab));
            assert_eq!(tok.decode(&ids, false).expect("decode"), text);
        }
    }

    #[test]
    fn chunks_are_deterministic_and_centred() {
        let job = Job {
            file: 0,
            tensor: 3,
            chunk: 1,
            elements: 10_001,
            offset: 0,
        };
        let a = fill(7, &job, false, RandomDtype::F32);
        assert_eq!(a, fill(7, &job, false, RandomDtype::F32));
        assert_ne!(a, fill(8, &job, false, RandomDtype::F32));
        let xs: Vec<f32> = a
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(xs.len(), 10_001);
        let mean = xs.iter().sum::<f32>() / xs.len() as f32;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / xs.len() as f32;
        assert!(mean.abs() < 1e-3, "mean {mean}");
        assert!((var.sqrt() - STD).abs() < 1e-3, "std {}", var.sqrt());
        let b = fill(7, &job, false, RandomDtype::Bf16);
        assert_eq!(b.len(), 2 * 10_001);
        assert_eq!(bf16_bits(1.0), 0x3F80);
    }

    #[test]
    fn a_written_model_loads_and_generates() {
        use crate::engine::{Engine, GenerateRequest, Input, Message, ModelSpec};
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("tiny");
        let s = shape("tiny").expect("shape");
        let w = write_random(&out, "tiny", &s, 3, RandomDtype::F32).expect("writes");
        assert_eq!(w.shards, 1);
        let again = dir.path().join("again");
        write_random(&again, "tiny", &s, 3, RandomDtype::F32).expect("writes");
        let bytes = |d: &Path| std::fs::read(d.join("model.safetensors")).expect("read");
        assert_eq!(bytes(&out), bytes(&again), "same seed, same weights");
        let e = Engine::load(&ModelSpec::cpu(&out)).expect("loads");
        assert_eq!(e.info().vocab_size, s.vocab_size);
        assert_eq!(e.info().parameters, w.parameters);
        let chat = e
            .render_chat(&[Message::new("user", "disk full?")])
            .expect("template");
        assert!(chat.ends_with("<|im_start|>assistant\n"), "{chat:?}");
        let mut req = GenerateRequest::new(Input::Prompt("ERROR disk".into()), 8);
        req.sampling.logit_bias = e.tokenizer().stop_ids.iter().map(|&t| (t, -1e9)).collect();
        let (_, _, usage) = e.generate_text(&req).expect("generates");
        assert_eq!(usage.completion_tokens, 8);
    }

    #[test]
    fn shards_split_large_models() {
        let s = shape("llama3-8b").expect("shape");
        let specs = tensors(&s);
        let shards = plan_shards(&specs, RandomDtype::Bf16);
        assert!(shards.len() >= 4, "{} shards", shards.len());
        let params: usize = specs.iter().map(Spec::elements).sum();
        assert!((8_000_000_000..8_100_000_000).contains(&params), "{params}");
        assert_eq!(shards.iter().map(Vec::len).sum::<usize>(), specs.len());
    }
}
