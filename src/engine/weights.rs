//! Where an architecture reads its weights from: a GGUF file or an HF safetensors
//! directory, behind one interface that speaks the engine's tensor names (GGUF's:
//! `blk.N.attn_q.weight`, ...) and its rotary layout (interleaved).

use std::path::Path;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Device, Tensor};

use super::gguf::{Gguf, WeightFormat};
use super::EngineError;

/// A model's weights by engine name.
pub trait WeightSource {
    /// The file or directory, for errors.
    fn path(&self) -> &Path;
    /// Whether a tensor exists.
    fn has(&self, name: &str) -> bool;
    /// A dense tensor (embeddings, norms) in `dtype` on `device`.
    fn tensor(&mut self, name: &str, device: &Device, dtype: DType) -> Result<Tensor, EngineError>;
    /// A weight matrix for matmuls in the chosen format.
    fn matmul(
        &mut self,
        name: &str,
        device: &Device,
        format: WeightFormat,
    ) -> Result<QMatMul, EngineError>;
    /// A tensor's shape, without loading it.
    fn shape(&self, name: &str) -> Option<Vec<usize>>;
}

impl WeightSource for Gguf {
    fn path(&self) -> &Path {
        Gguf::path(self)
    }

    fn has(&self, name: &str) -> bool {
        self.has_tensor(name)
    }

    fn tensor(&mut self, name: &str, device: &Device, dtype: DType) -> Result<Tensor, EngineError> {
        Ok(Gguf::tensor(self, name, device)?.to_dtype(dtype)?)
    }

    fn matmul(
        &mut self,
        name: &str,
        device: &Device,
        format: WeightFormat,
    ) -> Result<QMatMul, EngineError> {
        Gguf::matmul(self, name, device, format)
    }

    fn shape(&self, name: &str) -> Option<Vec<usize>> {
        self.tensor_shape(name)
    }
}

/// A dense (f32/f16/bf16) matrix as a matmul weight: `Native` keeps its dtype, `F32`
/// widens it, `Q8_0` quantizes it (when its rows split into 32-wide blocks).
pub(crate) fn dense_matmul(
    t: Tensor,
    device: &Device,
    format: WeightFormat,
) -> candle_core::Result<QMatMul> {
    match format {
        WeightFormat::Native => Ok(QMatMul::Tensor(t.to_device(device)?)),
        WeightFormat::F32 => Ok(QMatMul::Tensor(t.to_dtype(DType::F32)?.to_device(device)?)),
        WeightFormat::Q8_0 => {
            let t = t.to_dtype(DType::F32)?.to_device(device)?;
            if t.dims().last().is_some_and(|d| d % 32 == 0) {
                QMatMul::from_qtensor(QTensor::quantize(&t, GgmlDType::Q8_0)?)
            } else {
                Ok(QMatMul::Tensor(t))
            }
        }
    }
}
