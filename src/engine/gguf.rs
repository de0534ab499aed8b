//! Reading GGUF files: metadata lookups with errors that name the file and the key,
//! and tensors loaded in the weight format chosen for the device.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use candle_core::quantized::{gguf_file, GgmlDType, QMatMul, QTensor};
use candle_core::{Device, Tensor};

use super::EngineError;

/// How quantized weights are held in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightFormat {
    /// As stored in the file. On CPU, Q4_0, Q4_1, Q5_0, Q8_0, Q4_K and Q6_K matrices run
    /// on loglens's own kernels (`loglens-kernels`); other formats on candle's.
    Native,
    /// Re-quantized to Q8_0 at load (loglens's kernels on CPU): for files whose format
    /// has no fast CPU path, and for dense checkpoints on CPU.
    Q8_0,
    /// Dequantized to f32: most memory; candle's f32 matmuls.
    F32,
}

impl WeightFormat {
    /// The default for a GGUF file on a device: its own format when loglens's CPU
    /// kernels cover it (measured, benches/RESULTS.md: the default model's Q4_1 as stored
    /// decodes ~4x faster than f32 and prefills as fast, in a fifth of the memory; Q4_K_M
    /// files run as stored too); otherwise [`WeightFormat::default_for`].
    pub fn default_for_gguf(device: &Device, g: &Gguf) -> Self {
        if device.is_cpu() && g.cpu_kernels_cover() {
            WeightFormat::Native
        } else {
            Self::default_for(device, g.weight_elements())
        }
    }

    /// The default for a device and a model of `elements` weights whose format the CPU
    /// kernels do not run as stored: small models (f32 copy up to 2 GiB) use f32, whose
    /// batched prefill is candle's fastest; larger ones Q8_0 to stay within memory. On
    /// GPU, the file's own format.
    pub fn default_for(device: &Device, elements: u64) -> Self {
        const F32_LIMIT: u64 = 2 << 30;
        if !device.is_cpu() {
            WeightFormat::Native
        } else if elements * 4 <= F32_LIMIT {
            WeightFormat::F32
        } else {
            WeightFormat::Q8_0
        }
    }
}

impl std::str::FromStr for WeightFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "native" => Ok(Self::Native),
            "q8_0" | "q8" => Ok(Self::Q8_0),
            "f32" => Ok(Self::F32),
            _ => Err(format!("unknown weight format {s:?} (native, q8_0, f32)")),
        }
    }
}

/// An open GGUF file.
pub struct Gguf {
    path: PathBuf,
    content: gguf_file::Content,
    reader: BufReader<File>,
}

impl std::fmt::Debug for Gguf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gguf").field("path", &self.path).finish()
    }
}

impl Gguf {
    /// Opens and reads the header of a GGUF file.
    pub fn open(path: &Path) -> Result<Self, EngineError> {
        if !path.exists() {
            return Err(EngineError::ModelNotFound(path.to_path_buf()));
        }
        let file = File::open(path).map_err(|e| invalid(path, e.to_string()))?;
        let mut reader = BufReader::new(file);
        let content = gguf_file::Content::read(&mut reader)
            .map_err(|e| invalid(path, format!("not a readable GGUF file ({e})")))?;
        // A truncated file reads its header fine; check the data is all there.
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let end = content
            .tensor_infos
            .values()
            .map(|t| t.offset + tensor_bytes(t))
            .max()
            .unwrap_or(0);
        if content.tensor_data_offset + end > len {
            return Err(invalid(
                path,
                format!(
                    "file is truncated: tensor data needs {} bytes, file has {len}",
                    content.tensor_data_offset + end
                ),
            ));
        }
        Ok(Self {
            path: path.to_path_buf(),
            content,
            reader,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// All metadata.
    pub fn metadata(&self) -> &HashMap<String, gguf_file::Value> {
        &self.content.metadata
    }

    fn value(&self, key: &str) -> Result<&gguf_file::Value, EngineError> {
        self.content
            .metadata
            .get(key)
            .ok_or_else(|| invalid(&self.path, format!("metadata key {key} is missing")))
    }

    /// A string value.
    pub fn string(&self, key: &str) -> Result<String, EngineError> {
        self.value(key)?
            .to_string()
            .cloned()
            .map_err(|e| invalid(&self.path, format!("{key}: {e}")))
    }

    /// An optional string value.
    pub fn opt_string(&self, key: &str) -> Option<String> {
        self.content.metadata.get(key)?.to_string().ok().cloned()
    }

    /// An unsigned integer value (any integer width).
    pub fn uint(&self, key: &str) -> Result<u64, EngineError> {
        let v = self.value(key)?;
        v.to_u64()
            .or_else(|_| v.to_u32().map(u64::from))
            .or_else(|_| v.to_i32().map(|x| x.max(0) as u64))
            .or_else(|_| v.to_u16().map(u64::from))
            .or_else(|_| v.to_u8().map(u64::from))
            .map_err(|e| invalid(&self.path, format!("{key}: {e}")))
    }

    /// An optional unsigned integer value.
    pub fn opt_uint(&self, key: &str) -> Option<u64> {
        self.content
            .metadata
            .contains_key(key)
            .then(|| self.uint(key).ok())
            .flatten()
    }

    /// An optional float value.
    pub fn opt_f32(&self, key: &str) -> Option<f32> {
        let v = self.content.metadata.get(key)?;
        v.to_f32()
            .ok()
            .or_else(|| v.to_f64().ok().map(|x| x as f32))
    }

    /// A list of strings.
    pub fn strings(&self, key: &str) -> Result<Vec<String>, EngineError> {
        let list = self
            .value(key)?
            .to_vec()
            .map_err(|e| invalid(&self.path, format!("{key}: {e}")))?;
        list.iter()
            .map(|v| v.to_string().cloned())
            .collect::<Result<_, _>>()
            .map_err(|e| invalid(&self.path, format!("{key}: {e}")))
    }

    /// A list of floats, if present.
    pub fn opt_f32s(&self, key: &str) -> Option<Vec<f32>> {
        let list = self.content.metadata.get(key)?.to_vec().ok()?;
        list.iter()
            .map(|v| v.to_f32().or_else(|_| v.to_f64().map(|x| x as f32)))
            .collect::<Result<_, _>>()
            .ok()
    }

    /// A list of integers, if present.
    pub fn opt_ints(&self, key: &str) -> Option<Vec<i64>> {
        let list = self.content.metadata.get(key)?.to_vec().ok()?;
        list.iter()
            .map(|v| {
                v.to_i32()
                    .map(i64::from)
                    .or_else(|_| v.to_u32().map(i64::from))
            })
            .collect::<Result<_, _>>()
            .ok()
    }

    /// Whether a tensor exists.
    pub fn has_tensor(&self, name: &str) -> bool {
        self.content.tensor_infos.contains_key(name)
    }

    /// Storage type of a tensor.
    pub fn tensor_dtype(&self, name: &str) -> Option<GgmlDType> {
        self.content.tensor_infos.get(name).map(|t| t.ggml_dtype)
    }

    /// Every tensor's name, sorted.
    pub fn tensor_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.content.tensor_infos.keys().cloned().collect();
        names.sort();
        names
    }

    /// Shape of a tensor.
    pub fn tensor_shape(&self, name: &str) -> Option<Vec<usize>> {
        self.content
            .tensor_infos
            .get(name)
            .map(|t| t.shape.dims().to_vec())
    }

    /// Total number of weights.
    pub fn weight_elements(&self) -> u64 {
        self.content
            .tensor_infos
            .values()
            .map(|t| t.shape.elem_count() as u64)
            .sum()
    }

    /// Whether every matrix is in a format loglens's CPU kernels run as stored
    /// (Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q6_K: every matrix of a Q4_K_M file).
    pub fn cpu_kernels_cover(&self) -> bool {
        self.content
            .tensor_infos
            .values()
            .filter(|t| t.shape.dims().len() == 2)
            .all(|t| super::quant::kernel_format(t.ggml_dtype).is_some())
    }

    /// Total bytes of tensor data.
    pub fn weight_bytes(&self) -> u64 {
        self.content.tensor_infos.values().map(tensor_bytes).sum()
    }

    /// Loads a tensor as stored.
    pub fn qtensor(&mut self, name: &str, device: &Device) -> Result<QTensor, EngineError> {
        self.content
            .tensor(&mut self.reader, name, device)
            .map_err(|e| invalid(&self.path, format!("tensor {name}: {e}")))
    }

    /// Loads a tensor as f32.
    pub fn tensor(&mut self, name: &str, device: &Device) -> Result<Tensor, EngineError> {
        Ok(self.qtensor(name, device)?.dequantize(device)?)
    }

    /// Loads a weight matrix for matmuls in the chosen format.
    pub fn matmul(
        &mut self,
        name: &str,
        device: &Device,
        format: WeightFormat,
    ) -> Result<QMatMul, EngineError> {
        let q = self.qtensor(name, device)?;
        Ok(to_matmul(q, device, format)?)
    }
}

/// Converts a loaded tensor into a matmul weight in `format`.
pub(crate) fn to_matmul(
    q: QTensor,
    device: &Device,
    format: WeightFormat,
) -> candle_core::Result<QMatMul> {
    match format {
        WeightFormat::Native => QMatMul::from_qtensor(q),
        WeightFormat::F32 => Ok(QMatMul::Tensor(q.dequantize(device)?)),
        WeightFormat::Q8_0 => {
            let keep = matches!(
                q.dtype(),
                GgmlDType::Q8_0 | GgmlDType::F32 | GgmlDType::F16 | GgmlDType::BF16
            ) || q.shape().dims().last().is_some_and(|d| d % 32 != 0);
            if keep {
                QMatMul::from_qtensor(q)
            } else {
                let t = q.dequantize(device)?;
                QMatMul::from_qtensor(QTensor::quantize(&t, GgmlDType::Q8_0)?)
            }
        }
    }
}

/// Bytes a tensor occupies in the file.
fn tensor_bytes(t: &gguf_file::TensorInfo) -> u64 {
    (t.shape.elem_count() / t.ggml_dtype.block_size() * t.ggml_dtype.type_size()) as u64
}

fn invalid(path: &Path, reason: String) -> EngineError {
    EngineError::InvalidModel {
        path: path.to_path_buf(),
        reason,
    }
}
