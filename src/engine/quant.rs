//! CPU matmuls over GGUF block-quantized weights through loglens's own kernels
//! (`loglens-kernels`): candle has no SIMD path for Q4_0/Q4_1 and its Q8_0 and K-quant
//! paths are several times slower (benches/RESULTS.md). Weights in Q4_0, Q4_1, Q5_0,
//! Q8_0, Q4_K and Q6_K (what Q4_K_M files hold) are packed once at load; every other
//! weight stays with candle.

use std::sync::Arc;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{CpuStorage, CustomOp1, DType, Layout, Shape, Tensor};
use loglens_kernels::{Format, PackedMatrix};

/// A weight matrix packed for the CPU kernels.
#[derive(Debug)]
pub struct PackedLinear {
    w: PackedMatrix,
}

impl PackedLinear {
    /// Packs a 2-D tensor in a format the kernels run; `None` for anything else.
    pub fn pack(q: &QTensor) -> candle_core::Result<Option<Self>> {
        let Some(format) = kernel_format(q.dtype()) else {
            return Ok(None);
        };
        let (rows, cols) = match q.shape().dims() {
            [rows, cols] => (*rows, *cols),
            _ => return Ok(None),
        };
        let w = PackedMatrix::from_gguf(format, rows, cols, &q.data()?)
            .map_err(|e| candle_core::Error::Msg(format!("packing a {rows}x{cols} matrix: {e}")))?;
        Ok(Some(Self { w }))
    }

    /// Packs a candle matmul weight when it is a CPU tensor in a packable format.
    pub fn from_qmatmul(m: &QMatMul) -> candle_core::Result<Option<Self>> {
        match m {
            QMatMul::QTensor(q) if q.device().is_cpu() => Self::pack(q),
            _ => Ok(None),
        }
    }

    /// Several packed matrices stacked by rows into one; `None` when they differ in
    /// width or value layout.
    pub fn concat(parts: &[&PackedLinear]) -> Option<Self> {
        let ws: Vec<&PackedMatrix> = parts.iter().map(|p| &p.w).collect();
        PackedMatrix::concat(&ws).map(|w| Self { w })
    }

    /// Output width.
    pub fn rows(&self) -> usize {
        self.w.rows()
    }

    /// Input width.
    pub fn cols(&self) -> usize {
        self.w.cols()
    }

    /// Row `r` dequantized into `out` (`cols` values); an error past the last row.
    pub fn row(&self, r: usize, out: &mut [f32]) -> candle_core::Result<()> {
        if r >= self.w.rows() || out.len() != self.w.cols() {
            candle_core::bail!("row {r} of a {}-row matrix", self.w.rows());
        }
        self.w.dequantize_row(r, out);
        Ok(())
    }

    /// The block format.
    pub fn format(&self) -> Format {
        self.w.format()
    }

    /// x @ Wᵀ over the last dimension of `x` (any dtype; computed in f32).
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let dtype = x.dtype();
        let x = if dtype == DType::F32 {
            x.contiguous()?
        } else {
            x.to_dtype(DType::F32)?.contiguous()?
        };
        let y = x.apply_op1_no_bwd(self)?;
        if dtype == DType::F32 {
            Ok(y)
        } else {
            y.to_dtype(dtype)
        }
    }
}

impl CustomOp1 for PackedLinear {
    fn name(&self) -> &'static str {
        "loglens-qmatmul"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(data) = storage else {
            candle_core::bail!("quantized matmul takes f32 activations");
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("quantized matmul takes contiguous activations");
        };
        let dims = layout.dims();
        let cols = dims.last().copied().unwrap_or(0);
        if cols != self.w.cols() {
            candle_core::bail!(
                "activations of width {cols} against a matrix of width {}",
                self.w.cols()
            );
        }
        let x = &data[start..end];
        let tokens = x.len() / cols;
        let a = self.w.quantize_input(x, tokens);
        let mut out = vec![0f32; tokens * self.w.rows()];
        self.w.matmul(&a, &mut out);
        let mut shape = dims.to_vec();
        if let Some(last) = shape.last_mut() {
            *last = self.w.rows();
        }
        Ok((CpuStorage::F32(out), Shape::from(shape)))
    }
}

/// The kernels' format for a GGUF storage type, if they run it.
pub(crate) fn kernel_format(dtype: GgmlDType) -> Option<Format> {
    Some(match dtype {
        GgmlDType::Q4_0 => Format::Q4_0,
        GgmlDType::Q4_1 => Format::Q4_1,
        GgmlDType::Q5_0 => Format::Q5_0,
        GgmlDType::Q8_0 => Format::Q8_0,
        GgmlDType::Q4K => Format::Q4K,
        GgmlDType::Q6K => Format::Q6K,
        _ => return None,
    })
}

/// Packs `m` for the CPU kernels when it qualifies; otherwise keeps it with candle.
pub(crate) fn maybe_pack(m: QMatMul) -> candle_core::Result<Result<Arc<PackedLinear>, QMatMul>> {
    Ok(match PackedLinear::from_qmatmul(&m)? {
        Some(p) => Ok(Arc::new(p)),
        None => Err(m),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    /// A 48 x `cols` random matrix stored as `dtype` by candle (ggml's quantizers), its
    /// dequantization by candle, and the packed matrix.
    fn packed(dtype: GgmlDType, cols: usize) -> (Tensor, PackedLinear) {
        let w = Tensor::randn(0f32, 1.0, (48, cols), &Device::Cpu).expect("w");
        let q = QTensor::quantize(&w, dtype).expect("quantize");
        let dense = q.dequantize(&Device::Cpu).expect("dequantize");
        (
            dense,
            PackedLinear::pack(&q).expect("packs").expect("packable"),
        )
    }

    #[test]
    fn rows_and_products_agree_with_candle() {
        for (dtype, cols) in [
            (GgmlDType::Q4_0, 64),
            (GgmlDType::Q4_1, 64),
            (GgmlDType::Q5_0, 96),
            (GgmlDType::Q8_0, 64),
            (GgmlDType::Q4K, 512),
            (GgmlDType::Q6K, 512),
        ] {
            let (dense, p) = packed(dtype, cols);
            // Every row is bit for bit candle's dequantization (ggml's definition,
            // implemented independently).
            let mut row = vec![0f32; cols];
            for r in 0..48 {
                p.row(r, &mut row).expect("row");
                let want = dense.get(r).expect("row").to_vec1::<f32>().expect("vec");
                let same = row
                    .iter()
                    .zip(&want)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                // Q4_0 is held as d * q - 8 d: its zeros are all +0.
                assert!(
                    same || (dtype == GgmlDType::Q4_0 && row == want),
                    "{dtype:?} row {r}"
                );
            }
            assert!(
                p.row(48, &mut row).is_err(),
                "a row past the end is an error"
            );
            // Products over (batch, tokens, width) keep the leading dims and stay within
            // 8-bit activation error of the f32 product.
            let x = Tensor::randn(0f32, 1.0, (2, 3, cols), &Device::Cpu).expect("x");
            let got = p.forward(&x).expect("forward");
            assert_eq!(got.dims(), &[2, 3, 48]);
            let want = x.broadcast_matmul(&dense.t().expect("t")).expect("mm");
            let err = (got - &want)
                .expect("sub")
                .abs()
                .expect("abs")
                .max_all()
                .expect("max")
                .to_scalar::<f32>()
                .expect("scalar");
            let scale = want
                .abs()
                .expect("abs")
                .max_all()
                .expect("max")
                .to_scalar::<f32>()
                .expect("s");
            assert!(err < 0.03 * scale, "{dtype:?}: {err} of {scale}");
        }
        // Other formats stay with candle; a wrong width is an error, not a panic.
        let w = Tensor::randn(0f32, 1.0, (8, 256), &Device::Cpu).expect("w");
        let k = QTensor::quantize(&w, GgmlDType::Q5K).expect("q5k");
        assert!(PackedLinear::pack(&k).expect("checks").is_none());
        let (_, p) = packed(GgmlDType::Q8_0, 64);
        let bad = Tensor::zeros((1, 32), DType::F32, &Device::Cpu).expect("x");
        assert!(p.forward(&bad).is_err());
    }
}
