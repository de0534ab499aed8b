//! Layers shared by the architectures: RMS norm, rotary tables, attention over the
//! engine's KV cache, and the gated MLP.

use std::sync::Arc;

use candle_core::quantized::QMatMul;
use candle_core::{CpuStorage, DType, Device, Module, Storage, Tensor};
use loglens_kernels::{attention_batch, AttentionShape, Sequence};

use crate::engine::quant::{maybe_pack, PackedLinear};

/// RMS normalisation with a learned scale.
#[derive(Debug, Clone)]
pub struct RmsNorm {
    weight: Tensor,
    eps: f32,
}

impl RmsNorm {
    /// A norm with `weight` (f32, hidden) and epsilon.
    pub fn new(weight: Tensor, eps: f32) -> Self {
        Self { weight, eps }
    }

    /// Normalises the last dimension.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::ops::rms_norm(&x.contiguous()?, &self.weight, self.eps)
    }
}

/// Precomputed rotary cos/sin tables, (positions, head_dim / 2).
#[derive(Debug, Clone)]
pub struct Rotary {
    cos: Tensor,
    sin: Tensor,
    /// The tables in f32 on a GPU, for kernels that rotate as they go.
    f32_tables: Option<(Tensor, Tensor)>,
}

impl Rotary {
    /// Tables for `positions` positions. `freq_factors` (Llama 3.1's `rope_freqs`)
    /// divide the base frequencies when given.
    pub fn new(
        head_dim: usize,
        positions: usize,
        theta: f32,
        freq_factors: Option<&[f32]>,
        device: &Device,
    ) -> candle_core::Result<Self> {
        let half = head_dim / 2;
        let inv: Vec<f32> = (0..half)
            .map(|i| {
                let f = 1.0 / theta.powf(2.0 * i as f32 / head_dim as f32);
                match freq_factors {
                    Some(ff) if i < ff.len() && ff[i] > 0.0 => f / ff[i],
                    _ => f,
                }
            })
            .collect();
        let inv = Tensor::from_vec(inv, (1, half), device)?;
        let t = Tensor::arange(0u32, positions as u32, device)?
            .to_dtype(DType::F32)?
            .reshape((positions, 1))?;
        let freqs = t.matmul(&inv)?;
        let (cos, sin) = (freqs.cos()?, freqs.sin()?);
        Ok(Self {
            f32_tables: (!device.is_cpu()).then(|| (cos.clone(), sin.clone())),
            cos,
            sin,
        })
    }

    /// The tables in `dtype` (the activations' dtype).
    pub fn to_dtype(self, dtype: DType) -> candle_core::Result<Self> {
        Ok(Self {
            cos: self.cos.to_dtype(dtype)?,
            sin: self.sin.to_dtype(dtype)?,
            f32_tables: self.f32_tables,
        })
    }

    /// The f32 cos and sin tables kept on a GPU, if any.
    pub fn f32_tables(&self) -> Option<(&Tensor, &Tensor)> {
        self.f32_tables.as_ref().map(|(c, s)| (c, s))
    }

    /// Applies interleaved rotary embedding (GGUF layout) to (b, heads, t, d).
    pub fn apply(&self, x: &Tensor, pos: usize) -> candle_core::Result<Tensor> {
        let t = x.dim(2)?;
        let cos = self.cos.narrow(0, pos, t)?;
        let sin = self.sin.narrow(0, pos, t)?;
        candle_nn::rotary_emb::rope_i(&x.contiguous()?, &cos, &sin)
    }
}

/// A projection: candle's matmul, or loglens's CPU kernels for Q4_0/Q4_1/Q8_0 weights.
#[derive(Debug, Clone)]
pub enum Linear {
    /// Through candle (dense weights, K-quants, GPU).
    Candle(QMatMul),
    /// Packed for the CPU kernels.
    Packed(Arc<PackedLinear>),
}

impl Linear {
    /// Wraps a loaded weight, packing it for the CPU kernels when it qualifies.
    pub fn new(w: QMatMul) -> candle_core::Result<Self> {
        Ok(match maybe_pack(w)? {
            Ok(p) => Linear::Packed(p),
            Err(w) => Linear::Candle(w),
        })
    }

    /// Whether it runs on loglens's CPU kernels.
    pub fn is_packed(&self) -> bool {
        matches!(self, Linear::Packed(_))
    }

    /// x @ W^T.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Linear::Candle(w) => w.forward(x),
            Linear::Packed(w) => w.forward(x),
        }
    }
}

/// Token embeddings: a dense table, or rows dequantized on demand from the packed
/// output head they are tied to (SmolLM, Llama 3.2), which saves an f32 copy of the
/// vocabulary (113 MiB for the default model).
#[derive(Debug, Clone)]
pub enum Embed {
    /// A dense table through candle.
    Dense(candle_nn::Embedding),
    /// Rows of a packed matrix.
    Packed(Arc<PackedLinear>),
}

impl Embed {
    /// Looks up `ids` (b, t) into (b, t, hidden).
    pub fn forward(&self, ids: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Embed::Dense(e) => e.forward(ids),
            Embed::Packed(p) => {
                let (b, t) = ids.dims2()?;
                let hidden = p.cols();
                let mut out = vec![0f32; b * t * hidden];
                for (id, row) in ids
                    .flatten_all()?
                    .to_vec1::<u32>()?
                    .into_iter()
                    .zip(out.chunks_mut(hidden))
                {
                    p.row(id as usize, row)?;
                }
                Tensor::from_vec(out, (b, t, hidden), ids.device())
            }
        }
    }
}

/// Projections of one input (query, key, value; gate, up): stacked into one packed
/// matrix when they all run on the CPU kernels (one product, one quantization of the
/// input), or into one dense matrix on a GPU (one launch, and a wider product that keeps
/// the memory bus busier), otherwise applied one by one.
#[derive(Debug, Clone)]
pub enum Projections {
    /// Applied one by one.
    Separate(Vec<Linear>),
    /// One stacked matrix and the output width of each part.
    Stacked(Linear, Vec<usize>),
}

impl Projections {
    /// Stacks `parts` when they are all packed alike, or all dense of one dtype on a GPU.
    pub fn new(parts: Vec<Linear>) -> Self {
        if parts.len() > 1 {
            if let Some(stacked) = stack_dense_gpu(&parts) {
                return stacked;
            }
        }
        let packed: Vec<&PackedLinear> = parts
            .iter()
            .filter_map(|l| match l {
                Linear::Packed(p) => Some(&**p),
                Linear::Candle(_) => None,
            })
            .collect();
        if packed.len() == parts.len() && parts.len() > 1 {
            if let Some(w) = PackedLinear::concat(&packed) {
                let widths = packed.iter().map(|p| p.rows()).collect();
                return Projections::Stacked(Linear::Packed(Arc::new(w)), widths);
            }
        }
        Projections::Separate(parts)
    }

    /// Each part's output, in order.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Vec<Tensor>> {
        match self {
            Projections::Separate(ls) => ls.iter().map(|l| l.forward(x)).collect(),
            Projections::Stacked(l, widths) => {
                let y = l.forward(x)?;
                let last = y.rank() - 1;
                let mut at = 0;
                widths
                    .iter()
                    .map(|&w| {
                        let part = y.narrow(last, at, w);
                        at += w;
                        part
                    })
                    .collect()
            }
        }
    }

    /// How many of the original matrices run on the CPU kernels, and of how many.
    pub fn packed_count(&self) -> (usize, usize) {
        match self {
            Projections::Separate(ls) => (ls.iter().filter(|l| l.is_packed()).count(), ls.len()),
            Projections::Stacked(l, widths) => {
                (if l.is_packed() { widths.len() } else { 0 }, widths.len())
            }
        }
    }
}

/// Dense weights of one dtype on a GPU, concatenated along the output rows.
fn stack_dense_gpu(parts: &[Linear]) -> Option<Projections> {
    let dense: Vec<&Tensor> = parts
        .iter()
        .filter_map(|l| match l {
            Linear::Candle(QMatMul::Tensor(w)) => Some(w),
            _ => None,
        })
        .collect();
    let first = dense.first()?;
    let alike = dense.len() == parts.len()
        && !first.device().is_cpu()
        && dense.iter().all(|w| {
            w.rank() == 2 && w.dtype() == first.dtype() && w.dim(1).ok() == first.dim(1).ok()
        });
    if !alike {
        return None;
    }
    let widths = dense.iter().map(|w| w.dim(0).unwrap_or(0)).collect();
    match Tensor::cat(&dense, 0) {
        Ok(w) => Some(Projections::Stacked(
            Linear::Candle(QMatMul::Tensor(w)),
            widths,
        )),
        Err(e) => {
            tracing::warn!(cause = %e, "projections stay separate");
            None
        }
    }
}

/// Gated MLP: down(silu(gate(x)) * up(x)).
#[derive(Debug, Clone)]
pub struct Mlp {
    /// Gate and up projections.
    pub gate_up: Projections,
    /// Down projection.
    pub down: Linear,
}

impl Mlp {
    /// Forward pass.
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let gu = self.gate_up.forward(x)?;
        let (g, u) = match gu.as_slice() {
            [g, u] => (g, u),
            _ => candle_core::bail!("the MLP has {} input projections, not 2", gu.len()),
        };
        let g = candle_nn::ops::silu(&g.contiguous()?)?;
        self.down.forward(&(g * u)?)
    }
}

/// Causal attention mask for `t` new positions after `past` cached ones, with an
/// optional sliding window: (t, past + t) of 0 and -inf.
pub fn causal_mask(
    t: usize,
    past: usize,
    window: Option<usize>,
    device: &Device,
) -> candle_core::Result<Tensor> {
    let total = past + t;
    let mask: Vec<f32> = (0..t)
        .flat_map(|i| {
            let me = past + i;
            (0..total).map(move |j| {
                let future = j > me;
                let too_old = window.is_some_and(|w| me >= w && j <= me - w);
                if future || too_old {
                    f32::NEG_INFINITY
                } else {
                    0.0
                }
            })
        })
        .collect();
    Tensor::from_vec(mask, (t, total), device)
}

/// Grouped-query attention without copying keys and values per query head: the
/// `n_rep` query heads that share a key/value head are folded into the row dimension,
/// q (b, kv*n_rep, t, d) -> (b, kv, n_rep*t, d), so one matmul per kv head serves them
/// all. `mask` is (t, T) and is tiled over the folded rows. Returns (b, heads, t, d).
pub fn grouped_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
    scale: f64,
) -> candle_core::Result<Tensor> {
    let (b, heads, t, d) = q.dims4()?;
    let kv = k.dim(1)?;
    let n_rep = heads / kv;
    let q = q.contiguous()?.reshape((b, kv, n_rep * t, d))?;
    // Keys and values are the cache's buffers narrowed to the filled positions: each
    // head's rows are contiguous, heads a buffer apart, which the matmul takes as batch
    // strides, so the cache is not copied per layer and token.
    let k = matmul_ready(k)?;
    let v = matmul_ready(v)?;
    let scores = (q.matmul(&k.t()?)? * scale)?;
    let scores = match mask {
        Some(m) if n_rep > 1 => scores.broadcast_add(&Tensor::cat(&vec![m; n_rep], 0)?)?,
        Some(m) => scores.broadcast_add(m)?,
        None => scores,
    };
    let probs = candle_nn::ops::softmax_last_dim(&scores)?;
    probs.matmul(&v)?.reshape((b, heads, t, d))
}

/// Attention of each sequence of a batch through loglens's CPU kernel, all of them in
/// one parallel call: for each, q (1, heads, t, d) over the cache's k and v (1, kv, n,
/// d), the last `t` keys being the new ones, causal with an optional sliding window.
/// Returns the sequences' outputs one after another, (1, sum of t, heads * d),
/// token-major, or `None` where the kernel does not apply (not CPU f32, a layout it does
/// not read, or sequences with different head counts), for the caller to use
/// [`grouped_attention`].
pub fn cpu_attention(
    seqs: &[(Tensor, Tensor, Tensor)],
    window: Option<usize>,
    scale: f64,
) -> candle_core::Result<Option<Tensor>> {
    let mut shapes = Vec::with_capacity(seqs.len());
    let mut queries = Vec::with_capacity(seqs.len());
    for (q, k, v) in seqs {
        let f32_cpu = |x: &Tensor| x.device().is_cpu() && x.dtype() == DType::F32;
        if !(f32_cpu(q) && f32_cpu(k) && f32_cpu(v)) {
            return Ok(None);
        }
        let (b, heads, t, d) = q.dims4()?;
        let (kb, kv, n, kd) = k.dims4()?;
        if b != 1 || kb != 1 || kd != d || v.dims() != k.dims() || k.stride() != v.stride() {
            return Ok(None);
        }
        // Rows of each head contiguous; heads may be a buffer apart.
        let ks = k.stride();
        if ks[3] != 1 || (n > 1 && ks[2] != d) {
            return Ok(None);
        }
        shapes.push(AttentionShape {
            heads,
            kv_heads: kv,
            head_dim: d,
            queries: t,
            keys: n,
            kv_head_stride: ks[1],
            window,
            scale: scale as f32,
        });
        queries.push(q.contiguous()?);
    }
    let guards: Vec<_> = queries
        .iter()
        .zip(seqs)
        .map(|(q, (_, k, v))| {
            (
                q.storage_and_layout(),
                k.storage_and_layout(),
                v.storage_and_layout(),
            )
        })
        .collect();
    let mut inputs = Vec::with_capacity(seqs.len());
    for (((qs, ql), (kst, kl), (vst, vl)), &shape) in guards.iter().zip(&shapes) {
        let (
            Storage::Cpu(CpuStorage::F32(qd)),
            Storage::Cpu(CpuStorage::F32(kd)),
            Storage::Cpu(CpuStorage::F32(vd)),
        ) = (&**qs, &**kst, &**vst)
        else {
            return Ok(None);
        };
        inputs.push(Sequence {
            q: &qd[ql.start_offset()..],
            k: &kd[kl.start_offset()..],
            v: &vd[vl.start_offset()..],
            shape,
        });
    }
    let width = shapes.first().map_or(0, |s| s.heads * s.head_dim);
    if shapes.iter().any(|s| s.heads * s.head_dim != width) {
        return Ok(None);
    }
    let total: usize = shapes.iter().map(|s| s.queries).sum();
    let mut out = vec![0f32; total * width];
    let mut views = Vec::with_capacity(shapes.len());
    let mut rest = out.as_mut_slice();
    for s in &shapes {
        let (mine, after) = rest.split_at_mut(s.queries * width);
        views.push(mine);
        rest = after;
    }
    attention_batch(&inputs, &mut views).map_err(candle_core::Error::Msg)?;
    drop(views);
    let device = seqs
        .first()
        .map_or(Device::Cpu, |(q, ..)| q.device().clone());
    Ok(Some(Tensor::from_vec(out, (1, total, width), &device)?))
}

/// `x` (b, h, n, d) as is when its last two dimensions are laid out row-major (any
/// stride between heads), else a contiguous copy.
fn matmul_ready(x: &Tensor) -> candle_core::Result<Tensor> {
    let stride = x.stride();
    let dims = x.dims();
    let rows_ok = dims.len() == 4 && stride[3] == 1 && (dims[2] <= 1 || stride[2] == dims[3]);
    if rows_ok {
        Ok(x.clone())
    } else {
        x.contiguous()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The straightforward formula: every query head gets its own copy of its kv head.
    fn reference_attention(
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        mask: Option<&Tensor>,
        scale: f64,
    ) -> Tensor {
        let (b, h, _, d) = q.dims4().expect("4d");
        let kv = k.dim(1).expect("dim");
        let rep = |x: &Tensor| {
            let (_, _, t, _) = x.dims4().expect("4d");
            x.unsqueeze(2)
                .and_then(|x| x.expand((b, kv, h / kv, t, d)))
                .and_then(|x| x.reshape((b, h, t, d)))
                .expect("repeat")
        };
        let (k, v) = (rep(k), rep(v));
        let s = (q.matmul(&k.t().expect("t")).expect("mm") * scale).expect("scale");
        let s = match mask {
            Some(m) => s.broadcast_add(m).expect("mask"),
            None => s,
        };
        candle_nn::ops::softmax_last_dim(&s)
            .expect("softmax")
            .matmul(&v.contiguous().expect("c"))
            .expect("mm")
    }

    #[test]
    fn grouped_attention_equals_repeated_heads() {
        let dev = Device::Cpu;
        for (t, past) in [(14usize, 0usize), (1, 20), (5, 3)] {
            let q = Tensor::randn(0f32, 1.0, (1, 9, t, 16), &dev).expect("q");
            let k = Tensor::randn(0f32, 1.0, (1, 3, past + t, 16), &dev).expect("k");
            let v = Tensor::randn(0f32, 1.0, (1, 3, past + t, 16), &dev).expect("v");
            let mask = causal_mask(t, past, None, &dev).expect("mask");
            let a = grouped_attention(&q, &k, &v, Some(&mask), 0.25).expect("grouped");
            let b = reference_attention(&q, &k, &v, Some(&mask), 0.25);
            let diff = (a - b)
                .expect("sub")
                .abs()
                .expect("abs")
                .max_all()
                .expect("max")
                .to_scalar::<f32>()
                .expect("scalar");
            assert!(diff < 1e-5, "t {t} past {past}: {diff}");
        }
    }
}
