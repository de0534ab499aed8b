//! Llama-family decoder (Llama 2/3/3.1, Mistral, SmolLM) from GGUF: RMS norm, rotary
//! embedding (with Llama 3.1 `rope_freqs`), grouped-query attention over the engine's
//! KV cache, optional sliding window, gated MLP, tied or separate output head.

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::Embedding;

use super::layers::{causal_mask, grouped_attention, Linear, Mlp, RmsNorm, Rotary};
use super::{Model, ModelInfo, Step};
use crate::engine::gguf::{Gguf, WeightFormat};
use crate::engine::kv::KvCache;
use crate::engine::EngineError;

/// Hyper-parameters, read once from the file's metadata.
#[derive(Debug, Clone)]
pub struct LlamaConfig {
    /// Hidden size.
    pub hidden: usize,
    /// Layers.
    pub layers: usize,
    /// Attention heads.
    pub heads: usize,
    /// Key/value heads (grouped-query attention).
    pub kv_heads: usize,
    /// Dimension per head.
    pub head_dim: usize,
    /// RMS norm epsilon.
    pub eps: f32,
    /// Rotary base.
    pub rope_theta: f32,
    /// Context length.
    pub context: usize,
    /// Sliding attention window (Mistral), if any.
    pub sliding_window: Option<usize>,
    /// Feed-forward width.
    pub ffn: usize,
}

impl LlamaConfig {
    fn from_gguf(g: &Gguf, arch: &str) -> Result<Self, EngineError> {
        let key = |k: &str| format!("{arch}.{k}");
        let hidden = g.uint(&key("embedding_length"))? as usize;
        let heads = g.uint(&key("attention.head_count"))? as usize;
        let kv_heads = g
            .opt_uint(&key("attention.head_count_kv"))
            .map_or(heads, |v| v as usize);
        if heads == 0 || kv_heads == 0 || hidden % heads != 0 || heads % kv_heads != 0 {
            return Err(EngineError::InvalidModel {
                path: g.path().to_path_buf(),
                reason: format!(
                    "inconsistent shape: hidden {hidden}, heads {heads}, kv heads {kv_heads}"
                ),
            });
        }
        Ok(Self {
            hidden,
            layers: g.uint(&key("block_count"))? as usize,
            heads,
            kv_heads,
            head_dim: hidden / heads,
            eps: g
                .opt_f32(&key("attention.layer_norm_rms_epsilon"))
                .unwrap_or(1e-5),
            rope_theta: g.opt_f32(&key("rope.freq_base")).unwrap_or(10_000.0),
            context: g
                .opt_uint(&key("context_length"))
                .map_or(4096, |v| v as usize),
            sliding_window: g
                .opt_uint(&key("attention.sliding_window"))
                .map(|v| v as usize)
                .filter(|&w| w > 0),
            ffn: g
                .opt_uint(&key("feed_forward_length"))
                .map_or(hidden * 8 / 3, |v| v as usize),
        })
    }
}

#[derive(Debug, Clone)]
struct Block {
    attn_norm: RmsNorm,
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    ffn_norm: RmsNorm,
    mlp: Mlp,
}

/// A loaded Llama-family model.
#[derive(Debug)]
pub struct Llama {
    cfg: LlamaConfig,
    embed: Embedding,
    blocks: Vec<Block>,
    norm: RmsNorm,
    head: Linear,
    rotary: Rotary,
    device: Device,
    info: ModelInfo,
}

impl Llama {
    /// Loads every tensor of a `llama`-architecture GGUF.
    pub fn from_gguf(
        g: &mut Gguf,
        arch: &str,
        device: &Device,
        format: WeightFormat,
    ) -> Result<Self, EngineError> {
        let cfg = LlamaConfig::from_gguf(g, arch)?;
        let embed_w = g.tensor("token_embd.weight", device)?;
        let (vocab, hidden) = embed_w.dims2()?;
        if hidden != cfg.hidden {
            return Err(EngineError::InvalidModel {
                path: g.path().to_path_buf(),
                reason: format!(
                    "token_embd has width {hidden}, metadata says {}",
                    cfg.hidden
                ),
            });
        }
        let head = if g.has_tensor("output.weight") {
            g.matmul("output.weight", device, format)?
        } else {
            // Tied embeddings (SmolLM): the output head is the embedding matrix.
            let q = g.qtensor("token_embd.weight", device)?;
            crate::engine::gguf::to_matmul(q, device, format)?
        };
        let freq_factors = if g.has_tensor("rope_freqs.weight") {
            Some(g.tensor("rope_freqs.weight", device)?.to_vec1::<f32>()?)
        } else {
            None
        };
        let rotary = Rotary::new(
            cfg.head_dim,
            cfg.context,
            cfg.rope_theta,
            freq_factors.as_deref(),
            device,
        )?;
        let mut blocks = Vec::with_capacity(cfg.layers);
        for i in 0..cfg.layers {
            let p = |n: &str| format!("blk.{i}.{n}.weight");
            blocks.push(Block {
                attn_norm: RmsNorm::new(g.tensor(&p("attn_norm"), device)?, cfg.eps),
                q: Linear(g.matmul(&p("attn_q"), device, format)?),
                k: Linear(g.matmul(&p("attn_k"), device, format)?),
                v: Linear(g.matmul(&p("attn_v"), device, format)?),
                o: Linear(g.matmul(&p("attn_output"), device, format)?),
                ffn_norm: RmsNorm::new(g.tensor(&p("ffn_norm"), device)?, cfg.eps),
                mlp: Mlp {
                    gate: Linear(g.matmul(&p("ffn_gate"), device, format)?),
                    up: Linear(g.matmul(&p("ffn_up"), device, format)?),
                    down: Linear(g.matmul(&p("ffn_down"), device, format)?),
                },
            });
        }
        let norm = RmsNorm::new(g.tensor("output_norm.weight", device)?, cfg.eps);
        let parameters = parameter_count(&cfg, vocab, g.has_tensor("output.weight"));
        let info = ModelInfo {
            architecture: arch.to_string(),
            name: g.opt_string("general.name"),
            vocab_size: vocab,
            context_length: cfg.context,
            parameters,
            file_quantization: g
                .tensor_dtype("blk.0.attn_q.weight")
                .map_or_else(|| "unknown".into(), |d| format!("{d:?}")),
            weight_format: format,
            file_weight_bytes: g.weight_bytes(),
        };
        Ok(Self {
            embed: Embedding::new(embed_w, hidden),
            cfg,
            blocks,
            norm,
            head: Linear(head),
            rotary,
            device: device.clone(),
            info,
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &LlamaConfig {
        &self.cfg
    }

    /// One layer over a ragged batch: `x` is (1, total tokens, hidden), `spans` gives each
    /// sequence's (offset, length, position, cached positions before this pass, mask).
    fn block_forward(
        &self,
        i: usize,
        x: &Tensor,
        spans: &[Span],
        steps: &mut [Step<'_>],
    ) -> candle_core::Result<Tensor> {
        let b = &self.blocks[i];
        let c = &self.cfg;
        let h = b.attn_norm.forward(x)?;
        let (q_all, k_all, v_all) = (b.q.forward(&h)?, b.k.forward(&h)?, b.v.forward(&h)?);
        let scale = 1.0 / (c.head_dim as f64).sqrt();
        let mut outs = Vec::with_capacity(spans.len());
        for (span, step) in spans.iter().zip(steps.iter_mut()) {
            let t = span.len;
            let split = |y: &Tensor, n: usize| -> candle_core::Result<Tensor> {
                y.narrow(1, span.offset, t)?
                    .reshape((1, t, n, c.head_dim))?
                    .transpose(1, 2)
            };
            let q = self.rotary.apply(&split(&q_all, c.heads)?, span.pos)?;
            let k = self.rotary.apply(&split(&k_all, c.kv_heads)?, span.pos)?;
            let v = split(&v_all, c.kv_heads)?.contiguous()?;
            let (k, v) = step.cache.append(i, k, v)?;
            debug_assert_eq!(k.dim(2)?, span.past + t);
            let a = grouped_attention(&q, &k, &v, span.mask.as_ref(), scale)?;
            outs.push(a.transpose(1, 2)?.reshape((1, t, c.heads * c.head_dim))?);
        }
        let a = match outs.as_slice() {
            [single] => single.clone(),
            _ => Tensor::cat(&outs, 1)?,
        };
        let x = (x + b.o.forward(&a)?)?;
        let h = b.ffn_norm.forward(&x)?;
        x + b.mlp.forward(&h)?
    }
}

/// Where one sequence sits in a ragged batch.
struct Span {
    offset: usize,
    len: usize,
    pos: usize,
    past: usize,
    mask: Option<Tensor>,
}

impl Model for Llama {
    fn forward_batch(&self, steps: &mut [Step<'_>]) -> Result<Vec<Tensor>, EngineError> {
        let mut spans = Vec::with_capacity(steps.len());
        let mut ids = Vec::new();
        for step in steps.iter() {
            let t = step.tokens.len();
            if t == 0 {
                return Err(EngineError::InvalidRequest("no tokens to run".into()));
            }
            if step.pos + t > self.cfg.context {
                return Err(EngineError::ContextOverflow {
                    prompt: step.pos + t,
                    max_tokens: 0,
                    context: self.cfg.context,
                });
            }
            let past = step.cache.held();
            let window = self.cfg.sliding_window;
            let need_mask = t > 1 || window.is_some_and(|w| past + t > w);
            spans.push(Span {
                offset: ids.len(),
                len: t,
                pos: step.pos,
                past,
                mask: need_mask
                    .then(|| causal_mask(t, past, window, &self.device))
                    .transpose()?,
            });
            ids.extend_from_slice(step.tokens);
        }
        if spans.is_empty() {
            return Ok(Vec::new());
        }
        let ids = Tensor::new(ids.as_slice(), &self.device)?.unsqueeze(0)?;
        let mut x = self.embed.forward(&ids)?;
        for i in 0..self.blocks.len() {
            x = self.block_forward(i, &x, &spans, steps)?;
        }
        // The last position of every sequence, through the head together.
        let mut lasts = Vec::with_capacity(spans.len());
        for (span, step) in spans.iter().zip(steps.iter_mut()) {
            step.cache.advance(span.len)?;
            lasts.push(x.narrow(1, span.offset + span.len - 1, 1)?);
        }
        let last = Tensor::cat(&lasts, 1)?;
        let logits = self
            .head
            .forward(&self.norm.forward(&last)?)?
            .squeeze(0)?
            .to_dtype(DType::F32)?;
        (0..spans.len()).map(|i| Ok(logits.get(i)?)).collect()
    }

    fn new_cache(&self) -> KvCache {
        KvCache::new(self.cfg.layers, self.cfg.sliding_window)
    }

    fn info(&self) -> &ModelInfo {
        &self.info
    }
}

fn parameter_count(c: &LlamaConfig, vocab: usize, separate_head: bool) -> u64 {
    let kv = c.kv_heads * c.head_dim;
    let per_layer =
        c.hidden * c.hidden * 2 + c.hidden * kv * 2 + 3 * c.hidden * c.ffn + 2 * c.hidden;
    let head = if separate_head { vocab * c.hidden } else { 0 };
    (vocab * c.hidden + c.layers * per_layer + head + c.hidden) as u64
}
