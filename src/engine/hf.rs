//! Hugging Face model directories: `config.json`, `tokenizer.json`,
//! `tokenizer_config.json`, `generation_config.json` and single or sharded safetensors,
//! and the HF cache layout (`models--org--name/snapshots/<commit>/`) resolved offline
//! through `hf-hub`, so a node can be handed a copied cache.
//!
//! Weights are read shard by shard and converted one tensor at a time, so loading needs
//! one shard's bytes beside the converted model, never the whole checkpoint twice.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use candle_core::quantized::QMatMul;
use candle_core::safetensors::Load;
use candle_core::{DType, Device, Tensor};
use serde::Deserialize;
use serde_json::Value;

use super::gguf::WeightFormat;
use super::weights::{dense_matmul, WeightSource};
use super::EngineError;

/// The parts of `config.json` the Llama-family loader reads.
#[derive(Debug, Clone, Deserialize)]
pub struct HfConfig {
    /// `llama` or `mistral`.
    #[serde(default)]
    pub model_type: Option<String>,
    /// Hidden size.
    pub hidden_size: usize,
    /// Feed-forward width.
    pub intermediate_size: usize,
    /// Layers.
    pub num_hidden_layers: usize,
    /// Attention heads.
    pub num_attention_heads: usize,
    /// Key/value heads (absent: same as attention heads).
    #[serde(default)]
    pub num_key_value_heads: Option<usize>,
    /// Dimension per head (absent: hidden / heads).
    #[serde(default)]
    pub head_dim: Option<usize>,
    /// RMS norm epsilon.
    #[serde(default)]
    pub rms_norm_eps: Option<f64>,
    /// Rotary base.
    #[serde(default)]
    pub rope_theta: Option<f64>,
    /// Rotary scaling (`llama3` or `linear`).
    #[serde(default)]
    pub rope_scaling: Option<Value>,
    /// Context length.
    #[serde(default)]
    pub max_position_embeddings: Option<usize>,
    /// Mistral's sliding window (null when off).
    #[serde(default)]
    pub sliding_window: Option<usize>,
    /// Output head shares the embedding.
    #[serde(default)]
    pub tie_word_embeddings: Option<bool>,
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Activation (only `silu` is run).
    #[serde(default)]
    pub hidden_act: Option<String>,
    /// BOS id.
    #[serde(default)]
    pub bos_token_id: Option<Value>,
    /// EOS id or ids.
    #[serde(default)]
    pub eos_token_id: Option<Value>,
}

impl HfConfig {
    /// Rotary frequency divisors from `rope_scaling` (Llama 3.1's `llama3` scheme or
    /// `linear`), one per frequency; `None` when there is no scaling.
    pub fn rope_freq_factors(
        &self,
        head_dim: usize,
        path: &Path,
    ) -> Result<Option<Vec<f32>>, EngineError> {
        let Some(s) = self.rope_scaling.as_ref().filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let kind = s
            .get("rope_type")
            .or_else(|| s.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("default");
        let num = |k: &str| s.get(k).and_then(Value::as_f64);
        let half = head_dim / 2;
        match kind {
            "default" => Ok(None),
            "linear" => {
                let f = num("factor").unwrap_or(1.0) as f32;
                Ok(Some(vec![f; half]))
            }
            "llama3" => {
                let need = |k: &str| {
                    num(k).ok_or_else(|| EngineError::InvalidModel {
                        path: path.to_path_buf(),
                        reason: format!("rope_scaling llama3 lacks {k}"),
                    })
                };
                let factor = need("factor")?;
                let low = need("low_freq_factor")?;
                let high = need("high_freq_factor")?;
                let old = need("original_max_position_embeddings")?;
                let theta = self.rope_theta.unwrap_or(10_000.0);
                let low_wavelen = old / low;
                let high_wavelen = old / high;
                Ok(Some(
                    (0..half)
                        .map(|i| {
                            let freq = 1.0 / theta.powf(2.0 * i as f64 / head_dim as f64);
                            let wavelen = 2.0 * std::f64::consts::PI / freq;
                            let scale = if wavelen < high_wavelen {
                                1.0
                            } else if wavelen > low_wavelen {
                                1.0 / factor
                            } else {
                                let smooth = (old / wavelen - low) / (high - low);
                                (1.0 - smooth) / factor + smooth
                            };
                            (1.0 / scale) as f32
                        })
                        .collect(),
                ))
            }
            other => Err(EngineError::Unsupported {
                what: "rope scaling",
                detail: format!(
                    "{other:?} in {} (supported: llama3, linear)",
                    path.display()
                ),
            }),
        }
    }
}

/// An opened HF model directory.
#[derive(Debug)]
pub struct HfModel {
    dir: PathBuf,
    /// Parsed `config.json`.
    pub config: HfConfig,
    /// Tensor name -> (shard, dtype, shape).
    tensors: BTreeMap<String, TensorEntry>,
}

#[derive(Debug, Clone)]
struct TensorEntry {
    shard: PathBuf,
    dtype: String,
    shape: Vec<usize>,
}

impl HfModel {
    /// Opens a directory: reads the config and every shard's header (checking each shard
    /// holds all the bytes its header promises).
    pub fn open(dir: &Path) -> Result<Self, EngineError> {
        if !dir.is_dir() {
            return Err(EngineError::ModelNotFound(dir.to_path_buf()));
        }
        let config_path = dir.join("config.json");
        let text = std::fs::read_to_string(&config_path).map_err(|e| {
            invalid(dir, format!("config.json: {e} (an HF model directory needs config.json, tokenizer.json and safetensors)"))
        })?;
        let config: HfConfig = serde_json::from_str(&text)
            .map_err(|e| invalid(&config_path, format!("config.json: {e}")))?;
        let shards = shard_files(dir)?;
        let mut tensors = BTreeMap::new();
        for shard in shards {
            for (name, entry) in read_header(&shard)? {
                tensors.insert(name, entry);
            }
        }
        if tensors.is_empty() {
            return Err(invalid(dir, "no safetensors weights found".into()));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            tensors,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A name for the model: the directory's, or `org/name` for a snapshot of the HF
    /// cache (whose directory is named by a commit hash).
    pub fn name(&self) -> Option<String> {
        let file = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
        let parent = self.dir.parent();
        if parent.and_then(file).as_deref() == Some("snapshots") {
            if let Some(repo) = parent.and_then(Path::parent).and_then(file) {
                if let Some(id) = repo.strip_prefix("models--") {
                    return Some(id.replacen("--", "/", 1));
                }
            }
        }
        file(&self.dir)
    }

    /// `model_type`, defaulting to `llama`.
    pub fn model_type(&self) -> &str {
        self.config.model_type.as_deref().unwrap_or("llama")
    }

    /// Storage type of the embedding (the checkpoint's dtype).
    pub fn dtype(&self) -> Result<DType, EngineError> {
        let e = self
            .tensors
            .get("model.embed_tokens.weight")
            .ok_or_else(|| invalid(&self.dir, "model.embed_tokens.weight is missing".into()))?;
        st_dtype(&e.dtype).ok_or_else(|| EngineError::Unsupported {
            what: "weight dtype",
            detail: format!(
                "{} in {} (supported: BF16, F16, F32)",
                e.dtype,
                self.dir.display()
            ),
        })
    }

    /// Total number of weights.
    pub fn weight_elements(&self) -> u64 {
        self.tensors
            .values()
            .map(|t| t.shape.iter().product::<usize>() as u64)
            .sum()
    }

    /// Total bytes of weights.
    pub fn weight_bytes(&self) -> u64 {
        self.tensors
            .values()
            .map(|t| {
                let n = t.shape.iter().product::<usize>() as u64;
                n * st_dtype(&t.dtype).map_or(4, |d| d.size_in_bytes() as u64)
            })
            .sum()
    }

    /// Whether a tensor (HF name) exists.
    pub fn has(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// A JSON file of the directory, if present.
    pub fn json(&self, file: &str) -> Result<Option<Value>, EngineError> {
        let p = self.dir.join(file);
        if !p.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&p).map_err(|e| invalid(&p, e.to_string()))?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| invalid(&p, format!("not JSON: {e}")))
    }

    /// The chat template: `chat_template.jinja`, else `tokenizer_config.json`'s
    /// `chat_template` (a string, or a list of named templates: `default` is used).
    pub fn chat_template(&self) -> Result<Option<String>, EngineError> {
        let file = self.dir.join("chat_template.jinja");
        if file.exists() {
            return std::fs::read_to_string(&file)
                .map(Some)
                .map_err(|e| invalid(&file, e.to_string()));
        }
        let Some(cfg) = self.json("tokenizer_config.json")? else {
            return Ok(None);
        };
        Ok(match cfg.get("chat_template") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Array(list)) => list
                .iter()
                .find(|t| t.get("name").and_then(Value::as_str) == Some("default"))
                .or_else(|| list.first())
                .and_then(|t| t.get("template"))
                .and_then(Value::as_str)
                .map(str::to_string),
            _ => None,
        })
    }

    /// A weight source over the shards for the Llama loader, converting HF names and
    /// rotary layout to the engine's (GGUF) conventions.
    pub fn source(&self, heads: usize, kv_heads: usize) -> SafetensorsSource<'_> {
        SafetensorsSource {
            model: self,
            heads,
            kv_heads,
            permute: true,
            loaded: None,
        }
    }

    /// A weight source that converts HF names but keeps query and key rows in HF's
    /// order, for architectures that run half-split rotary (Qwen2).
    pub fn source_as_stored(&self) -> SafetensorsSource<'_> {
        SafetensorsSource {
            model: self,
            heads: 1,
            kv_heads: 1,
            permute: false,
            loaded: None,
        }
    }
}

/// The shard files of a directory: the index's files when there is one, else every
/// `*.safetensors`.
fn shard_files(dir: &Path) -> Result<Vec<PathBuf>, EngineError> {
    let index = dir.join("model.safetensors.index.json");
    if index.exists() {
        let text = std::fs::read_to_string(&index).map_err(|e| invalid(&index, e.to_string()))?;
        let v: Value =
            serde_json::from_str(&text).map_err(|e| invalid(&index, format!("not JSON: {e}")))?;
        let map = v
            .get("weight_map")
            .and_then(Value::as_object)
            .ok_or_else(|| invalid(&index, "no weight_map".into()))?;
        let mut files: Vec<PathBuf> = map
            .values()
            .filter_map(Value::as_str)
            .map(|f| dir.join(f))
            .collect();
        files.sort();
        files.dedup();
        for f in &files {
            if !f.exists() {
                return Err(invalid(
                    &index,
                    format!("shard {} is listed but missing", f.display()),
                ));
            }
        }
        return Ok(files);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| invalid(dir, e.to_string()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    files.sort();
    Ok(files)
}

/// Reads a safetensors header and checks the file is long enough for it.
fn read_header(path: &Path) -> Result<Vec<(String, TensorEntry)>, EngineError> {
    let mut f = std::fs::File::open(path).map_err(|e| invalid(path, e.to_string()))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut n = [0u8; 8];
    f.read_exact(&mut n)
        .map_err(|_| invalid(path, "not a safetensors file (too short)".into()))?;
    let n = u64::from_le_bytes(n);
    if n > 100 << 20 || 8 + n > len {
        return Err(invalid(
            path,
            format!("not a safetensors file (header of {n} bytes in a file of {len})"),
        ));
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header)
        .map_err(|e| invalid(path, e.to_string()))?;
    let v: serde_json::Map<String, Value> = serde_json::from_slice(&header)
        .map_err(|e| invalid(path, format!("safetensors header is not JSON: {e}")))?;
    let mut out = Vec::new();
    let mut end = 0u64;
    for (name, t) in v {
        if name == "__metadata__" {
            continue;
        }
        let dtype = t
            .get("dtype")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let shape: Vec<usize> = t
            .get("shape")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_u64)
                    .map(|x| x as usize)
                    .collect()
            })
            .unwrap_or_default();
        if let Some(off) = t.get("data_offsets").and_then(Value::as_array) {
            end = end.max(off.get(1).and_then(Value::as_u64).unwrap_or(0));
        }
        out.push((
            name,
            TensorEntry {
                shard: path.to_path_buf(),
                dtype,
                shape,
            },
        ));
    }
    if 8 + n + end > len {
        return Err(invalid(
            path,
            format!(
                "file is truncated: tensor data needs {} bytes, file has {len}",
                8 + n + end
            ),
        ));
    }
    Ok(out)
}

fn st_dtype(s: &str) -> Option<DType> {
    match s {
        "BF16" => Some(DType::BF16),
        "F16" => Some(DType::F16),
        "F32" => Some(DType::F32),
        _ => None,
    }
}

/// The HF name of an engine (GGUF-convention) tensor name.
pub fn hf_name(name: &str) -> String {
    let fixed = match name {
        "token_embd.weight" => Some("model.embed_tokens.weight"),
        "output.weight" => Some("lm_head.weight"),
        "output_norm.weight" => Some("model.norm.weight"),
        "rope_freqs.weight" => Some("rope_freqs.weight"),
        _ => None,
    };
    if let Some(f) = fixed {
        return f.to_string();
    }
    let Some(rest) = name.strip_prefix("blk.") else {
        return name.to_string();
    };
    let Some((layer, part)) = rest.split_once('.') else {
        return name.to_string();
    };
    let (part, kind) = match part.rsplit_once('.') {
        Some((p, k @ ("weight" | "bias"))) => (p, k),
        _ => (part, "weight"),
    };
    let hf = match part {
        "attn_norm" => "input_layernorm",
        "attn_q" => "self_attn.q_proj",
        "attn_k" => "self_attn.k_proj",
        "attn_v" => "self_attn.v_proj",
        "attn_output" => "self_attn.o_proj",
        "ffn_norm" => "post_attention_layernorm",
        "ffn_gate" => "mlp.gate_proj",
        "ffn_up" => "mlp.up_proj",
        "ffn_down" => "mlp.down_proj",
        other => other,
    };
    format!("model.layers.{layer}.{hf}.{kind}")
}

/// Reorders the rows of a query or key projection between HF's rotary layout (each
/// head's first half of dimensions paired with its second half) and the interleaved
/// layout the engine's rotary uses (dimension pairs side by side). `to_interleaved`
/// picks the direction.
pub fn permute_rotary(
    w: &Tensor,
    heads: usize,
    to_interleaved: bool,
) -> candle_core::Result<Tensor> {
    let (rows, cols) = w.dims2()?;
    let hd = rows / heads;
    let (a, b) = if to_interleaved {
        (2, hd / 2)
    } else {
        (hd / 2, 2)
    };
    w.reshape((heads, a, b, cols))?
        .transpose(1, 2)?
        .contiguous()?
        .reshape((rows, cols))
}

/// Weights of an HF directory, one shard in memory at a time.
#[derive(Debug)]
pub struct SafetensorsSource<'a> {
    model: &'a HfModel,
    heads: usize,
    kv_heads: usize,
    /// Reorder query and key rows to the interleaved rotary layout.
    permute: bool,
    loaded: Option<(PathBuf, Vec<u8>)>,
}

impl SafetensorsSource<'_> {
    /// A tensor as stored (on the CPU), with the rotary reordering applied to query and
    /// key projections.
    fn raw(&mut self, name: &str) -> Result<Tensor, EngineError> {
        let hf = hf_name(name);
        let entry = self
            .model
            .tensors
            .get(&hf)
            .ok_or_else(|| invalid(&self.model.dir, format!("tensor {hf} is missing")))?
            .clone();
        if self.loaded.as_ref().map(|(p, _)| p) != Some(&entry.shard) {
            self.loaded = None;
            let bytes =
                std::fs::read(&entry.shard).map_err(|e| invalid(&entry.shard, e.to_string()))?;
            self.loaded = Some((entry.shard.clone(), bytes));
        }
        let (_, bytes) = self
            .loaded
            .as_ref()
            .ok_or_else(|| invalid(&entry.shard, "shard could not be read".into()))?;
        let st = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| invalid(&entry.shard, format!("safetensors: {e}")))?;
        let view = st
            .tensor(&hf)
            .map_err(|e| invalid(&entry.shard, format!("tensor {hf}: {e}")))?;
        let t = view
            .load(&Device::Cpu)
            .map_err(|e| invalid(&entry.shard, format!("tensor {hf}: {e}")))?;
        Ok(if !self.permute {
            t
        } else if name.ends_with("attn_q.weight") {
            permute_rotary(&t, self.heads, true)?
        } else if name.ends_with("attn_k.weight") {
            permute_rotary(&t, self.kv_heads, true)?
        } else {
            t
        })
    }
}

impl WeightSource for SafetensorsSource<'_> {
    fn path(&self) -> &Path {
        &self.model.dir
    }

    fn has(&self, name: &str) -> bool {
        self.model.has(&hf_name(name))
    }

    fn tensor(&mut self, name: &str, device: &Device, dtype: DType) -> Result<Tensor, EngineError> {
        Ok(self.raw(name)?.to_dtype(dtype)?.to_device(device)?)
    }

    fn matmul(
        &mut self,
        name: &str,
        device: &Device,
        format: WeightFormat,
    ) -> Result<QMatMul, EngineError> {
        let t = self.raw(name)?;
        Ok(dense_matmul(t, device, format)?)
    }

    fn shape(&self, name: &str) -> Option<Vec<usize>> {
        self.model
            .tensors
            .get(&hf_name(name))
            .map(|e| e.shape.clone())
    }
}

/// Where the HF cache lives: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
/// `~/.cache/huggingface/hub`.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HF_HUB_CACHE") {
        return Some(PathBuf::from(p));
    }
    if let Some(p) = std::env::var_os("HF_HOME") {
        return Some(PathBuf::from(p).join("hub"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/huggingface/hub"))
}

/// Whether `spec` reads as a repository id (`org/name` or `org/name@revision`) rather
/// than a path.
pub fn looks_like_repo_id(spec: &str) -> bool {
    let id = spec.split_once('@').map_or(spec, |(id, _)| id);
    let parts: Vec<&str> = id.split('/').collect();
    parts.len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && *p != "."
                && *p != ".."
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        })
}

/// Resolves a repository id in the local HF cache (never over the network): the
/// snapshot directory of `revision` (a branch or tag name with a `refs/` entry, or a
/// commit hash), default `main`.
pub fn resolve_cached(spec: &str, cache: &Path) -> Result<PathBuf, EngineError> {
    let (id, rev) = spec.split_once('@').unwrap_or((spec, "main"));
    let repo =
        hf_hub::Repo::with_revision(id.to_string(), hf_hub::RepoType::Model, rev.to_string());
    let folder = cache.join(repo.folder_name());
    let cached = hf_hub::Cache::new(cache.to_path_buf()).repo(repo);
    if let Some(config) = cached.get("config.json") {
        if let Some(dir) = config.parent() {
            return Ok(dir.to_path_buf());
        }
    }
    let by_commit = folder.join("snapshots").join(rev);
    if by_commit.join("config.json").exists() {
        return Ok(by_commit);
    }
    Err(EngineError::ModelNotFound(if folder.exists() {
        folder.join("snapshots").join(format!("<{rev}>"))
    } else {
        folder
    }))
}

fn invalid(path: &Path, reason: String) -> EngineError {
    EngineError::InvalidModel {
        path: path.to_path_buf(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_both_ways_for_every_layer_part() {
        assert_eq!(hf_name("token_embd.weight"), "model.embed_tokens.weight");
        assert_eq!(
            hf_name("blk.11.attn_k.weight"),
            "model.layers.11.self_attn.k_proj.weight"
        );
        assert_eq!(
            hf_name("blk.0.ffn_norm.weight"),
            "model.layers.0.post_attention_layernorm.weight"
        );
        assert_eq!(
            hf_name("blk.3.attn_v.bias"),
            "model.layers.3.self_attn.v_proj.bias"
        );
    }

    #[test]
    fn repo_ids_are_told_from_paths() {
        assert!(looks_like_repo_id("meta-llama/Llama-3.1-8B-Instruct"));
        assert!(looks_like_repo_id("org/name@v1.0"));
        assert!(!looks_like_repo_id("models/x/y"));
        assert!(!looks_like_repo_id("../x"));
        assert!(!looks_like_repo_id("model.gguf"));
    }

    /// The rotary reordering is what makes the engine's interleaved rotary on the
    /// reordered weights equal HF's half-split rotary on the original ones.
    #[test]
    fn permuted_projection_with_interleaved_rotary_equals_hf_rotary() {
        let dev = Device::Cpu;
        let (heads, hd, hidden, t) = (3usize, 8usize, 12usize, 5usize);
        let w = Tensor::randn(0f32, 1.0, (heads * hd, hidden), &dev).expect("w");
        let x = Tensor::randn(0f32, 1.0, (t, hidden), &dev).expect("x");
        let theta = 10_000f32;
        let inv: Vec<f32> = (0..hd / 2)
            .map(|i| 1.0 / theta.powf(2.0 * i as f32 / hd as f32))
            .collect();
        let inv = Tensor::from_vec(inv, (1, hd / 2), &dev).expect("inv");
        let pos = Tensor::arange(0u32, t as u32, &dev)
            .and_then(|p| p.to_dtype(DType::F32))
            .and_then(|p| p.reshape((t, 1)))
            .expect("pos");
        let freqs = pos.matmul(&inv).expect("freqs");
        let (cos, sin) = (freqs.cos().expect("cos"), freqs.sin().expect("sin"));
        let project = |w: &Tensor| {
            x.matmul(&w.t().expect("t"))
                .and_then(|y| y.reshape((1, t, heads, hd)))
                .and_then(|y| y.transpose(1, 2))
                .and_then(|y| y.contiguous())
                .expect("project")
        };
        let hf = candle_nn::rotary_emb::rope(&project(&w), &cos, &sin).expect("rope");
        let wi = permute_rotary(&w, heads, true).expect("permute");
        let ours = candle_nn::rotary_emb::rope_i(&project(&wi), &cos, &sin).expect("rope_i");
        // Same values, each head's dimensions reordered: undo the order on the output.
        let back = ours
            .reshape((1, heads, t, hd / 2, 2))
            .and_then(|y| y.transpose(3, 4))
            .and_then(|y| y.contiguous())
            .and_then(|y| y.reshape((1, heads, t, hd)))
            .expect("reorder");
        let diff = (hf - back)
            .and_then(|d| d.abs())
            .and_then(|d| d.max_all())
            .and_then(|d| d.to_scalar::<f32>())
            .expect("diff");
        assert!(diff < 1e-4, "{diff}");
        let round = permute_rotary(&wi, heads, false).expect("back");
        let d = (round - &w)
            .and_then(|d| d.abs())
            .and_then(|d| d.max_all())
            .and_then(|d| d.to_scalar::<f32>())
            .expect("diff");
        assert_eq!(d, 0.0);
    }

    #[test]
    fn llama3_rope_scaling_keeps_high_frequencies_and_divides_low_ones() {
        let cfg: HfConfig = serde_json::from_value(serde_json::json!({
            "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 1,
            "num_attention_heads": 32, "vocab_size": 10, "rope_theta": 500000.0,
            "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
        }))
        .expect("config");
        let f = cfg
            .rope_freq_factors(128, Path::new("x"))
            .expect("ok")
            .expect("some");
        assert_eq!(f.len(), 64);
        assert_eq!(f[0], 1.0);
        assert!((f[63] - 8.0).abs() < 1e-4);
        assert!(f.windows(2).all(|w| w[0] <= w[1]));
        let bad: HfConfig = serde_json::from_value(serde_json::json!({
            "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1,
            "num_attention_heads": 2, "vocab_size": 10, "rope_scaling": {"type": "yarn", "factor": 4.0}
        }))
        .expect("config");
        assert!(matches!(
            bad.rope_freq_factors(4, Path::new("x")),
            Err(EngineError::Unsupported { .. })
        ));
    }
}
