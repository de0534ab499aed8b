//! Device selection: `cpu`, `cuda[:N]` or `auto`, and the device-specific kernels the
//! models call through device-neutral functions ([`decode_attention`]). The only place
//! that knows about the `cuda` feature.

use candle_core::{Device, Tensor};

use super::EngineError;

#[cfg(feature = "cuda")]
#[allow(unsafe_code)]
mod cuda;

/// Where the model runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceSpec {
    /// The CPU.
    Cpu,
    /// A CUDA GPU by ordinal.
    Cuda(usize),
    /// The first GPU when the build has CUDA and one is present, else the CPU.
    Auto,
}

impl std::str::FromStr for DeviceSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cpu" => Ok(Self::Cpu),
            "auto" => Ok(Self::Auto),
            "cuda" => Ok(Self::Cuda(0)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(Self::Cuda)
                .ok_or_else(|| format!("unknown device {s:?} (cpu, cuda, cuda:N, auto)")),
        }
    }
}

impl DeviceSpec {
    /// Opens the device.
    pub fn open(&self) -> Result<Device, EngineError> {
        match self {
            DeviceSpec::Cpu => Ok(Device::Cpu),
            DeviceSpec::Cuda(n) => cuda(*n),
            DeviceSpec::Auto => Ok(cuda(0).unwrap_or(Device::Cpu)),
        }
    }
}

#[cfg(feature = "cuda")]
fn cuda(n: usize) -> Result<Device, EngineError> {
    Device::new_cuda(n).map_err(|e| EngineError::Unsupported {
        what: "device",
        // The driver's error without the backtrace candle attaches to it.
        detail: format!(
            "CUDA device {n} cannot be opened: {}",
            e.to_string().lines().next().unwrap_or("unknown error")
        ),
    })
}

#[cfg(not(feature = "cuda"))]
fn cuda(_n: usize) -> Result<Device, EngineError> {
    Err(EngineError::Unsupported {
        what: "device",
        detail: "this build has no CUDA support; rebuild with `--features cuda`".into(),
    })
}

/// Sets the number of CPU threads the tensor kernels use. Must run before the first
/// model call; later calls have no effect.
pub fn set_cpu_threads(n: usize) {
    if n > 0 {
        // candle's CPU kernels read RAYON_NUM_THREADS when their pool starts.
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
}

/// Runs `f` on a thread of the CPU kernels' pool (rayon's global pool). The tensor ops
/// inside a forward pass split their work over that pool; called from a pool thread they
/// run inline or share work, where called from any other thread each op would hand its
/// work over and wait, two context switches per op and hundreds of ops per token.
pub fn on_cpu_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        f()
    } else {
        rayon::scope(|_| f())
    }
}

/// One decoding sequence's share of [`decode_attention`].
#[derive(Debug, Clone, Copy)]
pub struct DecodeSeq<'a> {
    /// The sequence's key cache of this layer, (1, kv_heads, capacity, head_dim); the new
    /// key is written at `len - 1`.
    pub k_cache: &'a Tensor,
    /// The value cache, same shape.
    pub v_cache: &'a Tensor,
    /// Position of the new token in the sequence (its rotary angle).
    pub pos: usize,
    /// Keys in the cache once the new one is written.
    pub len: usize,
    /// First key attended (a sliding window drops the older ones).
    pub start: usize,
    /// The sequence's row in `q`, `k`, `v` and the output.
    pub row: usize,
}

/// Attention of one new token for each of `seqs` in one kernel launch, where the device
/// has one (CUDA): `q` (1, rows, heads * head_dim), `k` and `v` (1, rows, kv_heads *
/// head_dim), rows contiguous, before the rotary embedding, which the kernel applies
/// with the f32 tables `cos`/`sin` (positions, head_dim / 2, interleaved pairs) before it
/// writes the new key and value into each cache and attends over it. Returns (1, rows,
/// heads * head_dim) with the rows of `seqs` written (the others are for the caller to
/// fill), or `None` where no kernel applies and the caller attends with tensor ops.
#[allow(clippy::too_many_arguments)]
pub fn decode_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    seqs: &[DecodeSeq<'_>],
    cos: &Tensor,
    sin: &Tensor,
    (heads, kv_heads, head_dim): (usize, usize, usize),
    scale: f32,
) -> candle_core::Result<Option<Tensor>> {
    #[cfg(feature = "cuda")]
    {
        cuda::decode_attention(q, k, v, seqs, cos, sin, heads, kv_heads, head_dim, scale)
    }
    #[cfg(not(feature = "cuda"))]
    {
        let _ = (q, k, v, seqs, cos, sin, heads, kv_heads, head_dim, scale);
        Ok(None)
    }
}
