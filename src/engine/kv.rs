//! The KV cache. The engine, not the model, owns it: one per sequence, handed to the
//! model on every step, so a scheduler can run many sequences over one set of weights.

use candle_core::Tensor;

/// Keys and values of one sequence, per layer: (1, kv_heads, positions, head_dim).
#[derive(Debug, Clone)]
pub struct KvCache {
    /// Per layer: key and value storage, (1, kv_heads, capacity, head_dim).
    layers: Vec<Option<(Tensor, Tensor)>>,
    /// Per layer: positions held in the storage.
    held: Vec<usize>,
    len: usize,
    window: Option<usize>,
}

/// Growth step of the cache storage, in positions.
pub const GROW: usize = 256;

impl KvCache {
    /// An empty cache for `layers` layers; with a sliding window, only the last `window`
    /// positions are kept.
    pub fn new(layers: usize, window: Option<usize>) -> Self {
        Self {
            layers: vec![None; layers],
            held: vec![0; layers],
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
        self.held.first().copied().unwrap_or(0)
    }

    /// Appends new keys/values for `layer` and returns the full keys/values to attend.
    /// Storage grows in steps of [`GROW`] positions and is written in place, so a decode
    /// step copies only its own keys, not the whole history.
    pub fn append(
        &mut self,
        layer: usize,
        k: Tensor,
        v: Tensor,
    ) -> candle_core::Result<(Tensor, Tensor)> {
        let t = k.dim(2)?;
        let held = self.held[layer];
        let need = held + t;
        let (kb, vb) = match self.layers[layer].take() {
            Some((kb, vb)) if kb.dim(2)? >= need => (kb, vb),
            old => {
                let cap = need.div_ceil(GROW) * GROW;
                let (b, h, _, d) = k.dims4()?;
                let kb = Tensor::zeros((b, h, cap, d), k.dtype(), k.device())?;
                let vb = Tensor::zeros((b, h, cap, d), v.dtype(), v.device())?;
                if let Some((ok, ov)) = old {
                    // A partly filled buffer narrowed is not contiguous.
                    kb.slice_set(&ok.narrow(2, 0, held)?.contiguous()?, 2, 0)?;
                    vb.slice_set(&ov.narrow(2, 0, held)?.contiguous()?, 2, 0)?;
                }
                (kb, vb)
            }
        };
        kb.slice_set(&k.contiguous()?, 2, held)?;
        vb.slice_set(&v.contiguous()?, 2, held)?;
        let out = (kb.narrow(2, 0, need)?, vb.narrow(2, 0, need)?);
        self.layers[layer] = Some((kb, vb));
        self.held[layer] = need;
        Ok(out)
    }

    /// Bytes of key and value storage held (capacity, not only filled positions).
    pub fn bytes(&self) -> usize {
        self.layers
            .iter()
            .flatten()
            .map(|(k, v)| (k.elem_count() + v.elem_count()) * k.dtype().size_in_bytes())
            .sum()
    }

    /// A new cache holding a copy of the first `n` positions, with storage for
    /// `capacity` positions so the sequence that continues from it does not regrow at
    /// once. `None` when they are not all held (a sliding window dropped some) or `n` is
    /// more than there are.
    pub fn prefix(&self, n: usize, capacity: usize) -> candle_core::Result<Option<Self>> {
        if n > self.held() || self.held() != self.len {
            return Ok(None);
        }
        let cap = capacity.max(n).div_ceil(GROW) * GROW;
        let mut layers = Vec::with_capacity(self.layers.len());
        for slot in &self.layers {
            let Some((k, v)) = slot else {
                return Ok(None);
            };
            let (b, h, _, d) = k.dims4()?;
            let kb = Tensor::zeros((b, h, cap, d), k.dtype(), k.device())?;
            let vb = Tensor::zeros((b, h, cap, d), v.dtype(), v.device())?;
            if n > 0 {
                kb.slice_set(&k.narrow(2, 0, n)?.contiguous()?, 2, 0)?;
                vb.slice_set(&v.narrow(2, 0, n)?.contiguous()?, 2, 0)?;
            }
            layers.push(Some((kb, vb)));
        }
        Ok(Some(Self {
            held: vec![n; layers.len()],
            layers,
            len: n,
            window: self.window,
        }))
    }

    /// Records that `n` positions were added (after all layers appended), dropping
    /// positions that fell out of the sliding window.
    pub fn advance(&mut self, n: usize) -> candle_core::Result<()> {
        self.len += n;
        if let Some(w) = self.window {
            for (slot, held) in self.layers.iter_mut().zip(self.held.iter_mut()) {
                if let Some((k, v)) = slot {
                    if *held > w {
                        // Keep the last `w` positions, moved to the front of new storage.
                        let keep_k = k.narrow(2, *held - w, w)?.contiguous()?;
                        let keep_v = v.narrow(2, *held - w, w)?.contiguous()?;
                        let cap = (w + 1).div_ceil(GROW) * GROW;
                        let (b, h, _, d) = keep_k.dims4()?;
                        let nk = Tensor::zeros((b, h, cap, d), keep_k.dtype(), keep_k.device())?;
                        let nv = Tensor::zeros((b, h, cap, d), keep_v.dtype(), keep_v.device())?;
                        nk.slice_set(&keep_k, 2, 0)?;
                        nv.slice_set(&keep_v, 2, 0)?;
                        *k = nk;
                        *v = nv;
                        *held = w;
                    }
                }
            }
        }
        Ok(())
    }
}
