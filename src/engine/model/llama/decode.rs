//! The device's fused decode attention (`crate::engine::device::decode_attention`) in
//! the Llama forward pass: used for the sequences of a step that decode one token,
//! checked once against tensor ops on its first use and never used again if it differs.

use std::sync::atomic::Ordering;

use candle_core::{DType, Tensor};

use super::{split, Llama, Span, Step};
use crate::engine::device::{decode_attention, DecodeSeq};
use crate::engine::model::layers::grouped_attention;

/// Whether the device's decode attention kernel may run: not yet checked, checked
/// against tensor ops and equal, or found different (then never used again).
pub(super) const KERNEL_UNCHECKED: u8 = 0;
pub(super) const KERNEL_VERIFIED: u8 = 1;
pub(super) const KERNEL_DISABLED: u8 = 2;

impl Llama {
    /// Attention of a layer through the device's kernel for the sequences of the batch
    /// that run one token: their new keys and values go straight into the caches, and
    /// they all attend in one launch. Returns (1, total tokens, heads * head_dim) with
    /// their rows written (the caller fills the rows of prompt chunks), or `None` where
    /// the kernel does not apply (CPU, no sequence with one token, a shape it does not
    /// take) or was found to differ from the tensor ops on its first use.
    pub(super) fn decode_kernel(
        &self,
        layer: usize,
        (q, k, v): (&Tensor, &Tensor, &Tensor),
        spans: &[Span],
        steps: &mut [Step<'_>],
    ) -> candle_core::Result<Option<Tensor>> {
        let c = &self.cfg;
        let Some((cos, sin)) = self.rotary.f32_tables() else {
            return Ok(None);
        };
        if self.kernel.load(Ordering::Relaxed) == KERNEL_DISABLED
            || spans.iter().all(|s| s.len != 1)
        {
            return Ok(None);
        }
        let mut bufs = Vec::with_capacity(spans.len());
        for (span, step) in spans.iter().zip(steps.iter_mut()) {
            if span.len != 1 {
                continue;
            }
            let (kb, vb, held) =
                step.cache
                    .reserve(layer, 1, (c.kv_heads, c.head_dim), self.dtype, &self.device)?;
            let len = held + 1;
            let start = c.sliding_window.map_or(0, |w| len.saturating_sub(w));
            bufs.push((kb, vb, span.pos, len, start, span.offset));
        }
        let seqs: Vec<DecodeSeq<'_>> = bufs
            .iter()
            .map(|(kb, vb, pos, len, start, row)| DecodeSeq {
                k_cache: kb,
                v_cache: vb,
                pos: *pos,
                len: *len,
                start: *start,
                row: *row,
            })
            .collect();
        let scale = 1.0 / (c.head_dim as f32).sqrt();
        let shape = (c.heads, c.kv_heads, c.head_dim);
        let Some(out) = decode_attention(q, k, v, &seqs, cos, sin, shape, scale)? else {
            return Ok(None);
        };
        if self.kernel.load(Ordering::Relaxed) == KERNEL_UNCHECKED {
            let worst = self.check_kernel(&out, (q, k, v), spans, &seqs)?;
            // bf16 rounding of the rotated keys and of the output stays near 1e-2.
            let limit = if self.dtype == DType::F32 { 1e-3 } else { 5e-2 };
            if worst > limit {
                self.kernel.store(KERNEL_DISABLED, Ordering::Relaxed);
                tracing::error!(
                    worst,
                    limit,
                    "the device's decode attention kernel differs from tensor ops; using tensor ops"
                );
                // The caches were not committed: the tensor ops overwrite what it wrote.
                return Ok(None);
            }
            self.kernel.store(KERNEL_VERIFIED, Ordering::Relaxed);
            tracing::info!(worst, "decode attention kernel checked against tensor ops");
        }
        for (span, step) in spans.iter().zip(steps.iter_mut()) {
            if span.len == 1 {
                step.cache.commit(layer, 1);
            }
        }
        Ok(Some(out))
    }

    /// The kernel's output and the keys it wrote against tensor ops over the same
    /// caches: the largest relative difference.
    fn check_kernel(
        &self,
        out: &Tensor,
        (q, k, v): (&Tensor, &Tensor, &Tensor),
        spans: &[Span],
        seqs: &[DecodeSeq<'_>],
    ) -> candle_core::Result<f32> {
        let c = &self.cfg;
        let scale = 1.0 / (c.head_dim as f64).sqrt();
        let mut worst = 0f32;
        let decoding = spans.iter().filter(|s| s.len == 1);
        for (span, s) in decoding.zip(seqs) {
            let k_new = self
                .rotary
                .apply(&split(k, span, c.kv_heads, c.head_dim)?, span.pos)?;
            let v_new = split(v, span, c.kv_heads, c.head_dim)?;
            let q_rot = self
                .rotary
                .apply(&split(q, span, c.heads, c.head_dim)?, span.pos)?;
            let written_k = s.k_cache.narrow(2, s.len - 1, 1)?;
            let written_v = s.v_cache.narrow(2, s.len - 1, 1)?;
            // The reference in f32, so that only the kernel's own rounding shows.
            let f32 = |t: Tensor| t.to_dtype(DType::F32);
            let keys = f32(s.k_cache.narrow(2, s.start, s.len - s.start)?)?;
            let values = f32(s.v_cache.narrow(2, s.start, s.len - s.start)?)?;
            let want = grouped_attention(&f32(q_rot)?, &keys, &values, None, scale)?
                .transpose(1, 2)?
                .reshape((1, 1, c.heads * c.head_dim))?;
            worst = worst
                .max(rel_diff(&written_k, &k_new)?)
                .max(rel_diff(&written_v, &v_new)?)
                .max(rel_diff(&out.narrow(1, s.row, 1)?, &want)?);
        }
        Ok(worst)
    }
}

/// Largest difference between `a` and `b`, relative to the largest magnitude in `b`.
fn rel_diff(a: &Tensor, b: &Tensor) -> candle_core::Result<f32> {
    let (a, b) = (a.to_dtype(DType::F32)?, b.to_dtype(DType::F32)?);
    let diff = (a - &b)?.abs()?.max_all()?.to_scalar::<f32>()?;
    let scale = b.abs()?.max_all()?.to_scalar::<f32>()?;
    Ok(diff / scale.max(f32::MIN_POSITIVE))
}
