//! Llama-family decoder (Llama 2/3/3.1, Mistral, SmolLM; Qwen2 through [`super::qwen2`])
//! from GGUF or HF: RMS norm, rotary embedding (interleaved or half-split, with Llama
//! 3.1 `rope_freqs`), grouped-query attention over the engine's KV cache with optional
//! query/key/value biases, optional sliding window, gated MLP, tied or separate output
//! head.

use std::path::Path;
use std::sync::atomic::AtomicU8;

use candle_core::quantized::QMatMul;
use candle_core::{DType, Device, Tensor};

use crate::engine::device::on_cpu_pool;

use super::layers::{
    causal_mask, cpu_attention, grouped_attention, Embed, Linear, Mlp, Projections, RmsNorm,
    RopeStyle, Rotary,
};
use super::{Model, ModelInfo, Step};
use crate::engine::gguf::{Gguf, WeightFormat};
use crate::engine::hf::{HfConfig, HfModel};
use crate::engine::kv::KvCache;
use crate::engine::weights::WeightSource;
use crate::engine::EngineError;

mod decode;

use decode::KERNEL_UNCHECKED;

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
    /// Which head dimensions rotary embedding pairs, in the weights as loaded.
    pub rope_style: RopeStyle,
}

impl LlamaConfig {
    /// Reads the hyper-parameters of a `llama`-architecture GGUF.
    pub(crate) fn from_gguf(g: &Gguf, arch: &str) -> Result<Self, EngineError> {
        let key = |k: &str| format!("{arch}.{k}");
        let hidden = g.uint(&key("embedding_length"))? as usize;
        let heads = g.uint(&key("attention.head_count"))? as usize;
        let kv_heads = g
            .opt_uint(&key("attention.head_count_kv"))
            .map_or(heads, |v| v as usize);
        let head_dim = match g.opt_uint(&key("attention.key_length")) {
            Some(d) => d as usize,
            None => hidden.checked_div(heads).unwrap_or(0),
        };
        if heads == 0 || kv_heads == 0 || head_dim == 0 || !heads.is_multiple_of(kv_heads) {
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
            head_dim,
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
            rope_style: RopeStyle::Interleaved,
        })
    }
}

impl LlamaConfig {
    fn from_hf(c: &HfConfig, path: &Path) -> Result<Self, EngineError> {
        let heads = c.num_attention_heads;
        let kv_heads = c.num_key_value_heads.unwrap_or(heads);
        let head_dim = c
            .head_dim
            .unwrap_or(c.hidden_size.checked_div(heads).unwrap_or(0));
        if heads == 0 || kv_heads == 0 || head_dim == 0 || !heads.is_multiple_of(kv_heads) {
            return Err(EngineError::InvalidModel {
                path: path.to_path_buf(),
                reason: format!(
                    "inconsistent shape: hidden {}, heads {heads}, kv heads {kv_heads}",
                    c.hidden_size
                ),
            });
        }
        if let Some(act) = c.hidden_act.as_deref().filter(|a| *a != "silu") {
            return Err(EngineError::Unsupported {
                what: "activation",
                detail: format!("{act:?} in {} (supported: silu)", path.display()),
            });
        }
        Ok(Self {
            hidden: c.hidden_size,
            layers: c.num_hidden_layers,
            heads,
            kv_heads,
            head_dim,
            eps: c.rms_norm_eps.unwrap_or(1e-5) as f32,
            rope_theta: c.rope_theta.unwrap_or(10_000.0) as f32,
            context: c.max_position_embeddings.unwrap_or(4096),
            sliding_window: c.sliding_window.filter(|&w| w > 0),
            ffn: c.intermediate_size,
            rope_style: RopeStyle::Interleaved,
        })
    }
}

#[derive(Debug, Clone)]
struct Block {
    attn_norm: RmsNorm,
    /// Query, key and value projections.
    qkv: Projections,
    /// Their biases (Qwen2), each absent or (width,).
    qkv_bias: [Option<Tensor>; 3],
    o: Linear,
    ffn_norm: RmsNorm,
    mlp: Mlp,
}

/// A loaded Llama-family model.
#[derive(Debug)]
pub struct Llama {
    cfg: LlamaConfig,
    embed: Embed,
    blocks: Vec<Block>,
    norm: RmsNorm,
    head: Linear,
    rotary: Rotary,
    device: Device,
    /// Activation dtype (f32, or the checkpoint's half type when run natively).
    dtype: DType,
    info: ModelInfo,
    /// State of the device's decode attention kernel (`KERNEL_*`).
    kernel: AtomicU8,
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
        Self::from_gguf_config(cfg, g, arch, device, format)
    }

    /// Loads a GGUF with hyper-parameters already read (and adjusted by the
    /// architecture).
    pub(crate) fn from_gguf_config(
        cfg: LlamaConfig,
        g: &mut Gguf,
        arch: &str,
        device: &Device,
        format: WeightFormat,
    ) -> Result<Self, EngineError> {
        let freq_factors = if g.has_tensor("rope_freqs.weight") {
            Some(g.tensor("rope_freqs.weight", device)?.to_vec1::<f32>()?)
        } else {
            None
        };
        let info = ModelInfo {
            architecture: arch.to_string(),
            name: g.opt_string("general.name"),
            vocab_size: 0,
            context_length: cfg.context,
            parameters: 0,
            file_quantization: g
                .tensor_dtype("blk.0.attn_q.weight")
                .map_or_else(|| "unknown".into(), |d| format!("{d:?}")),
            weight_format: format,
            file_weight_bytes: g.weight_bytes(),
            matmul: String::new(),
        };
        Self::build(cfg, g, device, format, DType::F32, freq_factors, info)
    }

    /// Loads a Llama or Mistral HF directory (safetensors in bf16, f16 or f32). With
    /// the `Native` format the model runs in the checkpoint's dtype; otherwise in f32.
    pub fn from_hf(
        m: &HfModel,
        device: &Device,
        format: WeightFormat,
    ) -> Result<Self, EngineError> {
        let cfg = LlamaConfig::from_hf(&m.config, m.dir())?;
        Self::from_hf_config(cfg, m, device, format)
    }

    /// Loads an HF directory with hyper-parameters already read. Query and key rows
    /// are reordered to the interleaved layout when `cfg.rope_style` says so, and kept
    /// as stored for half-split rotary.
    pub(crate) fn from_hf_config(
        cfg: LlamaConfig,
        m: &HfModel,
        device: &Device,
        format: WeightFormat,
    ) -> Result<Self, EngineError> {
        let file_dtype = m.dtype()?;
        let dtype = if format == WeightFormat::Native {
            file_dtype
        } else {
            DType::F32
        };
        let mut src = match cfg.rope_style {
            RopeStyle::Interleaved => m.source(cfg.heads, cfg.kv_heads),
            RopeStyle::HalfSplit => m.source_as_stored(),
        };
        let freq_factors = if src.has("rope_freqs.weight") {
            Some(
                src.tensor("rope_freqs.weight", &Device::Cpu, DType::F32)?
                    .to_vec1::<f32>()?,
            )
        } else {
            m.config.rope_freq_factors(cfg.head_dim, m.dir())?
        };
        let info = ModelInfo {
            architecture: m.model_type().to_string(),
            name: m
                .dir()
                .file_name()
                .map(|n| n.to_string_lossy().into_owned()),
            vocab_size: 0,
            context_length: cfg.context,
            parameters: 0,
            file_quantization: format!("{file_dtype:?}").to_uppercase(),
            weight_format: format,
            file_weight_bytes: m.weight_bytes(),
            matmul: String::new(),
        };
        Self::build(cfg, &mut src, device, format, dtype, freq_factors, info)
    }

    /// Builds the model from any weight source, checking every shape first.
    fn build(
        cfg: LlamaConfig,
        src: &mut dyn WeightSource,
        device: &Device,
        format: WeightFormat,
        dtype: DType,
        freq_factors: Option<Vec<f32>>,
        mut info: ModelInfo,
    ) -> Result<Self, EngineError> {
        let vocab = src
            .shape("token_embd.weight")
            .and_then(|s| s.first().copied())
            .ok_or_else(|| invalid(src.path(), "token_embd.weight is missing".into()))?;
        check_shapes(&cfg, vocab, &*src)?;
        let rotary = Rotary::new(
            cfg.head_dim,
            cfg.context,
            cfg.rope_theta,
            freq_factors.as_deref(),
            device,
        )?
        .to_dtype(dtype)?
        .with_style(cfg.rope_style);
        let mut blocks = Vec::with_capacity(cfg.layers);
        for i in 0..cfg.layers {
            let p = |n: &str| format!("blk.{i}.{n}.weight");
            let mut mm = |n: &str| -> Result<Linear, EngineError> {
                Ok(Linear::new(src.matmul(&p(n), device, format)?)?)
            };
            let qkv = Projections::new(vec![mm("attn_q")?, mm("attn_k")?, mm("attn_v")?]);
            let o = mm("attn_output")?;
            let gate_up = Projections::new(vec![mm("ffn_gate")?, mm("ffn_up")?]);
            let down = mm("ffn_down")?;
            let mut bias = |n: &str| -> Result<Option<Tensor>, EngineError> {
                let name = format!("blk.{i}.{n}.bias");
                src.has(&name)
                    .then(|| src.tensor(&name, device, dtype))
                    .transpose()
            };
            let qkv_bias = [bias("attn_q")?, bias("attn_k")?, bias("attn_v")?];
            blocks.push(Block {
                attn_norm: RmsNorm::new(src.tensor(&p("attn_norm"), device, dtype)?, cfg.eps),
                qkv,
                qkv_bias,
                o,
                ffn_norm: RmsNorm::new(src.tensor(&p("ffn_norm"), device, dtype)?, cfg.eps),
                mlp: Mlp { gate_up, down },
            });
        }
        let norm = RmsNorm::new(src.tensor("output_norm.weight", device, dtype)?, cfg.eps);
        let separate_head = src.has("output.weight");
        // Tied embeddings (SmolLM): the output head is the embedding matrix.
        let head = src.matmul(
            if separate_head {
                "output.weight"
            } else {
                "token_embd.weight"
            },
            device,
            format,
        )?;
        info.vocab_size = vocab;
        let head = Linear::new(head)?;
        // Tied and packed: token rows are read from the head, not held twice in f32. A
        // separate table the kernels can pack (Qwen2.5's Q5_0 or Q4_K: 0.5-0.9 GiB in
        // f32) is packed too, its rows dequantized as tokens come.
        let embed = match &head {
            Linear::Packed(p) if !separate_head => Embed::Packed(p.clone()),
            _ if separate_head && device.is_cpu() && format == WeightFormat::Native => {
                match Linear::new(src.matmul("token_embd.weight", device, format)?)? {
                    Linear::Packed(p) => Embed::Packed(p),
                    Linear::Candle(m) => Embed::Dense(candle_nn::Embedding::new(
                        dense_table(m, device, dtype)?,
                        cfg.hidden,
                    )),
                }
            }
            _ => Embed::Dense(candle_nn::Embedding::new(
                src.tensor("token_embd.weight", device, dtype)?,
                cfg.hidden,
            )),
        };
        let single = |l: &Linear| (usize::from(l.is_packed()), 1);
        let (packed, total) = blocks
            .iter()
            .flat_map(|b| {
                [
                    b.qkv.packed_count(),
                    single(&b.o),
                    b.mlp.gate_up.packed_count(),
                    single(&b.mlp.down),
                ]
            })
            .chain([single(&head)])
            .fold((0, 0), |(p, t), (bp, bt)| (p + bp, t + bt));
        info.matmul = if packed == 0 {
            "candle".into()
        } else {
            format!(
                "loglens-kernels {} ({packed} of {total} matrices)",
                loglens_kernels::cpu_path()
            )
        };
        let biases: usize = blocks
            .iter()
            .flat_map(|b| b.qkv_bias.iter().flatten())
            .map(Tensor::elem_count)
            .sum();
        info.parameters = parameter_count(&cfg, vocab, separate_head) + biases as u64;
        Ok(Self {
            embed,
            cfg,
            blocks,
            norm,
            head,
            rotary,
            device: device.clone(),
            dtype,
            info,
            kernel: AtomicU8::new(KERNEL_UNCHECKED),
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
        let mut qkv = b.qkv.forward(&h)?;
        for (y, bias) in qkv.iter_mut().zip(&b.qkv_bias) {
            if let Some(bias) = bias {
                *y = y.broadcast_add(bias)?;
            }
        }
        let [q_all, k_all, v_all] = qkv.as_slice() else {
            candle_core::bail!("attention has {} input projections, not 3", qkv.len());
        };
        let scale = 1.0 / (c.head_dim as f64).sqrt();
        let qkv = (q_all, k_all, v_all);
        let a = match self.decode_kernel(i, qkv, spans, steps)? {
            // The kernel wrote the rows of the sequences decoding one token; prompt
            // chunks in the same batch attend through tensor ops into their rows.
            Some(out) => {
                for (span, step) in spans.iter().zip(steps.iter_mut()) {
                    if span.len != 1 {
                        let q = self.attend_one(i, span, step, qkv, scale)?;
                        out.slice_set(&q, 1, span.offset)?;
                    }
                }
                out
            }
            None => self.attend_all(i, spans, steps, qkv, scale)?,
        };
        let x = (x + b.o.forward(&a)?)?;
        let h = b.ffn_norm.forward(&x)?;
        x + b.mlp.forward(&h)?
    }
}

/// One sequence's rows of a batched projection `y` (1, total tokens, n * head_dim), as
/// (1, n, t, head_dim).
fn split(y: &Tensor, span: &Span, n: usize, head_dim: usize) -> candle_core::Result<Tensor> {
    y.narrow(1, span.offset, span.len)?
        .reshape((1, span.len, n, head_dim))?
        .transpose(1, 2)
}

/// Sequences' attention outputs, one after another along the rows.
fn cat_rows(outs: Vec<Tensor>) -> candle_core::Result<Tensor> {
    match outs.as_slice() {
        [single] => Ok(single.clone()),
        _ => Tensor::cat(&outs, 1),
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
        if self.device.is_cpu() {
            on_cpu_pool(|| self.forward_steps(steps))
        } else {
            self.forward_steps(steps)
        }
    }

    fn new_cache(&self) -> KvCache {
        KvCache::new(self.cfg.layers, self.cfg.sliding_window)
    }

    fn info(&self) -> &ModelInfo {
        &self.info
    }
}

impl Llama {
    /// Whether `t` new positions after `past` cached ones attend through a mask (more than
    /// one query, or keys beyond the sliding window).
    fn needs_mask(&self, t: usize, past: usize) -> bool {
        t > 1 || self.cfg.sliding_window.is_some_and(|w| past + t > w)
    }

    /// The causal mask of `t` new positions after `past` cached ones, in the model's dtype.
    fn mask(&self, t: usize, past: usize) -> candle_core::Result<Tensor> {
        causal_mask(t, past, self.cfg.sliding_window, &self.device)?.to_dtype(self.dtype)
    }

    /// One sequence's rotary, cache append and attention through tensor ops: (1, t,
    /// heads * head_dim).
    fn attend_one(
        &self,
        layer: usize,
        span: &Span,
        step: &mut Step<'_>,
        (q_all, k_all, v_all): (&Tensor, &Tensor, &Tensor),
        scale: f64,
    ) -> candle_core::Result<Tensor> {
        let (q, k, v) = self.rotate_and_cache(layer, span, step, (q_all, k_all, v_all))?;
        self.attend_rotated(span, (&q, &k, &v), scale)
    }

    /// Attention of one sequence's rotated queries over its cached keys and values
    /// through tensor ops, with its mask: (1, t, heads * head_dim).
    fn attend_rotated(
        &self,
        span: &Span,
        (q, k, v): (&Tensor, &Tensor, &Tensor),
        scale: f64,
    ) -> candle_core::Result<Tensor> {
        let c = &self.cfg;
        let built;
        let mask = match &span.mask {
            Some(m) => Some(m),
            None if self.needs_mask(span.len, span.past) => {
                built = self.mask(span.len, span.past)?;
                Some(&built)
            }
            None => None,
        };
        grouped_attention(q, k, v, mask, scale)?
            .transpose(1, 2)?
            .reshape((1, span.len, c.heads * c.head_dim))
    }

    /// A sequence's queries and keys rotated, its keys and values appended to its cache:
    /// the queries and every cached key and value.
    fn rotate_and_cache(
        &self,
        layer: usize,
        span: &Span,
        step: &mut Step<'_>,
        (q_all, k_all, v_all): (&Tensor, &Tensor, &Tensor),
    ) -> candle_core::Result<(Tensor, Tensor, Tensor)> {
        let c = &self.cfg;
        let q = self
            .rotary
            .apply(&split(q_all, span, c.heads, c.head_dim)?, span.pos)?;
        let k = self
            .rotary
            .apply(&split(k_all, span, c.kv_heads, c.head_dim)?, span.pos)?;
        let v = split(v_all, span, c.kv_heads, c.head_dim)?.contiguous()?;
        let (k, v) = step.cache.append(layer, k, v)?;
        debug_assert_eq!(k.dim(2)?, span.past + span.len);
        Ok((q, k, v))
    }

    /// Attention of every sequence of the batch without the device kernel. On CPU every
    /// query of every sequence runs through the attention kernel, in one call, computing
    /// each query the same way however the prompt was chunked or batched: a request gets
    /// the same tokens under load as alone. Elsewhere, matmuls per sequence.
    fn attend_all(
        &self,
        layer: usize,
        spans: &[Span],
        steps: &mut [Step<'_>],
        qkv: (&Tensor, &Tensor, &Tensor),
        scale: f64,
    ) -> candle_core::Result<Tensor> {
        let c = &self.cfg;
        if self.device.is_cpu() {
            let mut seqs = Vec::with_capacity(spans.len());
            for (span, step) in spans.iter().zip(steps.iter_mut()) {
                seqs.push(self.rotate_and_cache(layer, span, step, qkv)?);
            }
            if let Some(a) = cpu_attention(&seqs, c.sliding_window, scale)? {
                return Ok(a);
            }
            let mut outs = Vec::with_capacity(spans.len());
            for (span, (q, k, v)) in spans.iter().zip(&seqs) {
                outs.push(self.attend_rotated(span, (q, k, v), scale)?);
            }
            return cat_rows(outs);
        }
        let mut outs = Vec::with_capacity(spans.len());
        for (span, step) in spans.iter().zip(steps.iter_mut()) {
            outs.push(self.attend_one(layer, span, step, qkv, scale)?);
        }
        cat_rows(outs)
    }

    /// The forward pass of [`Model::forward_batch`].
    fn forward_steps(&self, steps: &mut [Step<'_>]) -> Result<Vec<Tensor>, EngineError> {
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
            // The CPU attention kernel masks as it goes; matmuls need the mask.
            let kernel = self.device.is_cpu() && self.dtype == DType::F32;
            spans.push(Span {
                offset: ids.len(),
                len: t,
                pos: step.pos,
                past,
                mask: (self.needs_mask(t, past) && !kernel)
                    .then(|| self.mask(t, past))
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
        // The last position of every sequence, through the head together (when every
        // sequence ran one token, that is every row).
        let mut lasts = Vec::with_capacity(spans.len());
        for (span, step) in spans.iter().zip(steps.iter_mut()) {
            step.cache.advance(span.len)?;
            lasts.push(x.narrow(1, span.offset + span.len - 1, 1)?);
        }
        let last = if spans.iter().all(|s| s.len == 1) {
            x
        } else {
            Tensor::cat(&lasts, 1)?
        };
        let mut logits = self
            .head
            .forward(&self.norm.forward(&last)?)?
            .squeeze(0)?
            .to_dtype(DType::F32)?;
        if !self.device.is_cpu() {
            // One copy to the host for the whole batch rather than one per sequence.
            logits = logits.to_device(&Device::Cpu)?;
        }
        (0..spans.len()).map(|i| Ok(logits.get(i)?)).collect()
    }
}

/// Checks every weight has the shape the configuration implies, so a mismatched or
/// corrupt checkpoint fails at load with the tensor's name rather than mid-generation.
fn check_shapes(c: &LlamaConfig, vocab: usize, src: &dyn WeightSource) -> Result<(), EngineError> {
    let (q, kv) = (c.heads * c.head_dim, c.kv_heads * c.head_dim);
    let mut want: Vec<(String, Vec<usize>)> = vec![
        ("token_embd.weight".into(), vec![vocab, c.hidden]),
        ("output_norm.weight".into(), vec![c.hidden]),
    ];
    if src.has("output.weight") {
        want.push(("output.weight".into(), vec![vocab, c.hidden]));
    }
    for i in 0..c.layers {
        let p = |n: &str| format!("blk.{i}.{n}.weight");
        want.extend([
            (p("attn_norm"), vec![c.hidden]),
            (p("ffn_norm"), vec![c.hidden]),
            (p("attn_q"), vec![q, c.hidden]),
            (p("attn_k"), vec![kv, c.hidden]),
            (p("attn_v"), vec![kv, c.hidden]),
            (p("attn_output"), vec![c.hidden, q]),
            (p("ffn_gate"), vec![c.ffn, c.hidden]),
            (p("ffn_up"), vec![c.ffn, c.hidden]),
            (p("ffn_down"), vec![c.hidden, c.ffn]),
        ]);
        for (part, width) in [("attn_q", q), ("attn_k", kv), ("attn_v", kv)] {
            let name = format!("blk.{i}.{part}.bias");
            if src.has(&name) {
                want.push((name, vec![width]));
            }
        }
    }
    for (name, shape) in want {
        match src.shape(&name) {
            None => return Err(invalid(src.path(), format!("tensor {name} is missing"))),
            Some(s) if s != shape => {
                return Err(invalid(
                    src.path(),
                    format!("tensor {name} has shape {s:?}, the configuration implies {shape:?}"),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn invalid(path: &Path, reason: String) -> EngineError {
    EngineError::InvalidModel {
        path: path.to_path_buf(),
        reason,
    }
}

fn parameter_count(c: &LlamaConfig, vocab: usize, separate_head: bool) -> u64 {
    let (q, kv) = (c.heads * c.head_dim, c.kv_heads * c.head_dim);
    let per_layer = c.hidden * q * 2 + c.hidden * kv * 2 + 3 * c.hidden * c.ffn + 2 * c.hidden;
    let head = if separate_head { vocab * c.hidden } else { 0 };
    (vocab * c.hidden + c.layers * per_layer + head + c.hidden) as u64
}

/// A matmul weight as a dense table in `dtype`.
fn dense_table(m: QMatMul, device: &Device, dtype: DType) -> candle_core::Result<Tensor> {
    match m {
        QMatMul::QTensor(q) => q.dequantize(device)?.to_dtype(dtype),
        QMatMul::Tensor(t) | QMatMul::TensorF16(t) => t.to_dtype(dtype),
    }
}
