//! The KV cache. The engine, not the model, owns it: one per sequence, handed to the
//! model on every step, so a scheduler can run many sequences over one set of weights.

use candle_core::{DType, Device, Tensor};

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
        let (_, h, _, d) = k.dims4()?;
        let (kb, vb, held) = self.reserve(layer, t, (h, d), k.dtype(), k.device())?;
        kb.slice_set(&k.contiguous()?, 2, held)?;
        vb.slice_set(&v.contiguous()?, 2, held)?;
        self.commit(layer, t);
        Ok((kb.narrow(2, 0, held + t)?, vb.narrow(2, 0, held + t)?))
    }

    /// Makes room for `t` more positions in `layer` and returns its key and value
    /// storage, (1, kv_heads, capacity, head_dim), with the positions held before them:
    /// for kernels that write new keys and values in place. [`KvCache::commit`] then
    /// records them.
    pub fn reserve(
        &mut self,
        layer: usize,
        t: usize,
        (heads, head_dim): (usize, usize),
        dtype: DType,
        device: &Device,
    ) -> candle_core::Result<(Tensor, Tensor, usize)> {
        let held = *self
            .held
            .get(layer)
            .ok_or_else(|| candle_core::Error::Msg(format!("no layer {layer} in the cache")))?;
        let need = held + t;
        let (kb, vb) = match self.layers[layer].take() {
            Some((kb, vb)) if kb.dim(2)? >= need => (kb, vb),
            old => {
                let cap = need.div_ceil(GROW) * GROW;
                let kb = Tensor::zeros((1, heads, cap, head_dim), dtype, device)?;
                let vb = Tensor::zeros((1, heads, cap, head_dim), dtype, device)?;
                if let Some((ok, ov)) = old {
                    // A partly filled buffer narrowed is not contiguous.
                    kb.slice_set(&ok.narrow(2, 0, held)?.contiguous()?, 2, 0)?;
                    vb.slice_set(&ov.narrow(2, 0, held)?.contiguous()?, 2, 0)?;
                }
                (kb, vb)
            }
        };
        self.layers[layer] = Some((kb.clone(), vb.clone()));
        Ok((kb, vb, held))
    }

    /// Records `t` positions written into `layer`'s storage after [`KvCache::reserve`].
    pub fn commit(&mut self, layer: usize, t: usize) {
        if let Some(h) = self.held.get_mut(layer) {
            *h += t;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_grows_in_place_and_commit_records_positions() {
        let dev = Device::Cpu;
        let mut c = KvCache::new(2, None);
        let k = Tensor::ones((1, 2, 3, 4), DType::F32, &dev).expect("k");
        let (kv, vv) = c.append(0, k.clone(), k.clone()).expect("append");
        assert_eq!(kv.dims(), &[1, 2, 3, 4]);
        assert_eq!(vv.dims(), &[1, 2, 3, 4]);
        // Room for one more position in the same storage, written by the caller.
        let (kb, _, held) = c.reserve(0, 1, (2, 4), DType::F32, &dev).expect("reserve");
        assert_eq!((held, kb.dim(2).expect("dim")), (3, GROW));
        c.commit(0, 1);
        let (kb2, _, held) = c
            .reserve(0, GROW - 4, (2, 4), DType::F32, &dev)
            .expect("fits");
        assert_eq!((held, kb2.dim(2).expect("dim")), (4, GROW));
        // Past the capacity the storage grows, keeping what was held.
        let (kb3, _, held) = c.reserve(0, GROW, (2, 4), DType::F32, &dev).expect("grows");
        assert_eq!((held, kb3.dim(2).expect("dim")), (4, 2 * GROW));
        let kept = kb3
            .narrow(2, 0, 3)
            .and_then(|t| t.sum_all())
            .and_then(|t| t.to_scalar::<f32>())
            .expect("sum");
        assert_eq!(kept, 24.0);
        // Layer 1 is untouched.
        let (_, _, held) = c.reserve(1, 1, (2, 4), DType::F32, &dev).expect("layer 1");
        assert_eq!(held, 0);
        assert!(c.reserve(2, 1, (2, 4), DType::F32, &dev).is_err());
    }
}
