//! The KV cache. The engine, not the model, owns it: one per sequence, handed to the
//! model on every step, so a scheduler can run many sequences over one set of weights.

use candle_core::Tensor;

/// Keys and values of one sequence, per layer: (1, kv_heads, positions, head_dim).
#[derive(Debug, Clone)]
pub struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
    len: usize,
    window: Option<usize>,
}

impl KvCache {
    /// An empty cache for `layers` layers; with a sliding window, only the last `window`
    /// positions are kept.
    pub fn new(layers: usize, window: Option<usize>) -> Self {
        Self {
            layers: vec![None; layers],
            len: 0,
            window,
        }
    }

    /// Positions seen so far (including ones a sliding window dropped).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True before the first token.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Positions currently held for attention.
    pub fn held(&self) -> usize {
        self.layers
            .first()
            .and_then(|l| l.as_ref())
            .map_or(0, |(k, _)| k.dim(2).unwrap_or(0))
    }

    /// Appends new keys/values for `layer` and returns the full keys/values to attend.
    pub fn append(
        &mut self,
        layer: usize,
        k: Tensor,
        v: Tensor,
    ) -> candle_core::Result<(Tensor, Tensor)> {
        let (k, v) = match self.layers[layer].take() {
            Some((pk, pv)) => (Tensor::cat(&[&pk, &k], 2)?, Tensor::cat(&[&pv, &v], 2)?),
            None => (k, v),
        };
        self.layers[layer] = Some((k.clone(), v.clone()));
        Ok((k, v))
    }

    /// Records that `n` positions were added (after all layers appended), dropping
    /// positions that fell out of the sliding window.
    pub fn advance(&mut self, n: usize) -> candle_core::Result<()> {
        self.len += n;
        if let Some(w) = self.window {
            for (k, v) in self.layers.iter_mut().flatten() {
                let held = k.dim(2)?;
                if held > w {
                    *k = k.narrow(2, held - w, w)?.contiguous()?;
                    *v = v.narrow(2, held - w, w)?.contiguous()?;
                }
            }
        }
        Ok(())
    }
}
