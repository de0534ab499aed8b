//! Decode attention on CUDA: one kernel per layer for every sequence of a batch that
//! decodes one token, instead of a dozen candle ops per sequence. For each sequence and
//! key/value head, a block rotates the new key and writes it with the new value into the
//! sequence's cache at its next position, rotates the queries of the heads that share
//! that key/value head, and runs attention over the cached keys in chunks with an online
//! softmax. The kernel is compiled with NVRTC on first use.

use std::sync::OnceLock;

use candle_core::cuda_backend::cudarc::driver::{
    CudaSlice, DevicePtr, DeviceRepr, LaunchConfig, PushKernelArg,
};
use candle_core::cuda_backend::cudarc::nvrtc;
use candle_core::cuda_backend::{CudaDevice, CudaStorage, CudaStorageSlice};
use candle_core::op::BackpropOp;
use candle_core::{DType, Device, Storage, Tensor};

use super::DecodeSeq;

/// Threads per block.
const THREADS: u32 = 256;
/// Query heads per key/value head the kernel handles.
const MAX_REP: usize = 8;
/// Outputs each thread accumulates: `n_rep * head_dim <= MAX_OUT * THREADS`.
const MAX_OUT: usize = 8;
/// Keys per chunk of the online softmax.
const CHUNK: usize = 256;

const SOURCE: &str = r#"
struct bf16 { unsigned short x; };
struct f16 { unsigned short x; };
__device__ __forceinline__ float to_f(float v) { return v; }
__device__ __forceinline__ float to_f(bf16 v) { return __uint_as_float(((unsigned int)v.x) << 16); }
__device__ __forceinline__ float to_f(f16 v) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(v.x)); return f; }
__device__ __forceinline__ void put(float* p, float v) { *p = v; }
__device__ __forceinline__ void put(bf16* p, float v) {
  unsigned int u = __float_as_uint(v);
  u += 0x7FFFu + ((u >> 16) & 1u);
  p->x = (unsigned short)(u >> 16);
}
__device__ __forceinline__ void put(f16* p, float v) {
  unsigned short h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(v)); p->x = h;
}

#define MAX_REP 8
#define MAX_OUT 8
#define CHUNK 256
#define NEG_INF __int_as_float(0xff800000)

// grid (kv_heads, sequences), THREADS threads. caches: n key-cache pointers, n
// value-cache pointers, then per sequence four ints: position, keys after this token,
// first key attended (sliding window), elements between heads in its cache.
template <typename T>
__device__ void decode_attention(
    const T* __restrict__ q, const T* __restrict__ k_new, const T* __restrict__ v_new,
    long long q_row, long long k_row, long long v_row,
    const float* __restrict__ cos_t, const float* __restrict__ sin_t,
    const unsigned long long* __restrict__ caches, T* __restrict__ out,
    int n_seqs, int heads, int kv_heads, int d, float scale)
{
  extern __shared__ float smem[];
  const int g = blockIdx.x, i = blockIdx.y;
  const int n_rep = heads / kv_heads;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, nwarps = blockDim.x >> 5;
  const int* meta = (const int*)(caches + 2 * n_seqs) + 4 * i;
  const int pos = meta[0], len = meta[1], start = meta[2], hs = meta[3];
  T* kc = (T*)caches[i] + (long long)g * hs;
  T* vc = (T*)caches[n_seqs + i] + (long long)g * hs;
  float* qs = smem;
  float* sc = qs + n_rep * d;
  float* m_run = sc + n_rep * CHUNK;
  float* l_run = m_run + MAX_REP;
  float* corr = l_run + MAX_REP;
  const int half = d / 2;
  const float* cr = cos_t + (long long)pos * half;
  const float* sr = sin_t + (long long)pos * half;

  const T* kn = k_new + i * k_row + g * d;
  const T* vn = v_new + i * v_row + g * d;
  T* kdst = kc + (long long)(len - 1) * d;
  T* vdst = vc + (long long)(len - 1) * d;
  for (int x = tid; x < half; x += blockDim.x) {
    float a = to_f(kn[2 * x]), b = to_f(kn[2 * x + 1]);
    put(&kdst[2 * x], a * cr[x] - b * sr[x]);
    put(&kdst[2 * x + 1], a * sr[x] + b * cr[x]);
  }
  for (int x = tid; x < d; x += blockDim.x) vdst[x] = vn[x];
  for (int x = tid; x < n_rep * half; x += blockDim.x) {
    int r = x / half, p = x - r * half;
    const T* qh = q + i * q_row + (g * n_rep + r) * d;
    float a = to_f(qh[2 * p]), b = to_f(qh[2 * p + 1]);
    qs[r * d + 2 * p] = (a * cr[p] - b * sr[p]) * scale;
    qs[r * d + 2 * p + 1] = (a * sr[p] + b * cr[p]) * scale;
  }
  if (tid < MAX_REP) { m_run[tid] = NEG_INF; l_run[tid] = 0.f; corr[tid] = 0.f; }
  float acc[MAX_OUT];
#pragma unroll
  for (int k = 0; k < MAX_OUT; k++) acc[k] = 0.f;
  __syncthreads();

  for (int c0 = start; c0 < len; c0 += CHUNK) {
    const int n = min(CHUNK, len - c0);
    for (int j = warp; j < n; j += nwarps) {
      const T* kr = kc + (long long)(c0 + j) * d;
      float s[MAX_REP];
#pragma unroll
      for (int r = 0; r < MAX_REP; r++) s[r] = 0.f;
      for (int e = lane; e < d; e += 32) {
        float kv = to_f(kr[e]);
#pragma unroll
        for (int r = 0; r < MAX_REP; r++) if (r < n_rep) s[r] += qs[r * d + e] * kv;
      }
#pragma unroll
      for (int r = 0; r < MAX_REP; r++) {
        if (r < n_rep) {
          float v = s[r];
          for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
          if (lane == 0) sc[r * CHUNK + j] = v;
        }
      }
    }
    __syncthreads();
    if (warp < n_rep) {
      float mx = NEG_INF;
      for (int j = lane; j < n; j += 32) mx = fmaxf(mx, sc[warp * CHUNK + j]);
      for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
      const float m_new = fmaxf(m_run[warp], mx);
      float sum = 0.f;
      for (int j = lane; j < n; j += 32) {
        float p = expf(sc[warp * CHUNK + j] - m_new);
        sc[warp * CHUNK + j] = p;
        sum += p;
      }
      for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
      if (lane == 0) {
        const float c = expf(m_run[warp] - m_new);
        corr[warp] = c;
        l_run[warp] = l_run[warp] * c + sum;
        m_run[warp] = m_new;
      }
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < MAX_OUT; k++) {
      const int o = tid + k * blockDim.x;
      if (o < n_rep * d) {
        const int r = o / d, e = o - r * d;
        float a = acc[k] * corr[r];
        const float* pr = sc + r * CHUNK;
        const T* vcol = vc + (long long)c0 * d + e;
        for (int j = 0; j < n; j++) a += pr[j] * to_f(vcol[(long long)j * d]);
        acc[k] = a;
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int k = 0; k < MAX_OUT; k++) {
    const int o = tid + k * blockDim.x;
    if (o < n_rep * d) {
      const int r = o / d, e = o - r * d;
      put(&out[((long long)i * heads + g * n_rep + r) * d + e], acc[k] / l_run[r]);
    }
  }
}

#define DECODE_ATTENTION(NAME, T) \
extern "C" __global__ void NAME( \
    const T* q, const T* k_new, const T* v_new, long long q_row, long long k_row, \
    long long v_row, const float* cos_t, const float* sin_t, \
    const unsigned long long* caches, T* out, int n_seqs, int heads, int kv_heads, int d, \
    float scale) { \
  decode_attention<T>(q, k_new, v_new, q_row, k_row, v_row, cos_t, sin_t, caches, out, \
                      n_seqs, heads, kv_heads, d, scale); \
}
DECODE_ATTENTION(decode_attention_bf16, bf16)
DECODE_ATTENTION(decode_attention_f16, f16)
DECODE_ATTENTION(decode_attention_f32, float)
"#;

/// The kernel's PTX, compiled once per process (or why it could not be).
fn ptx() -> Result<&'static str, String> {
    static PTX: OnceLock<Result<String, String>> = OnceLock::new();
    PTX.get_or_init(|| {
        nvrtc::compile_ptx(SOURCE)
            .map(|p| p.to_src())
            .map_err(|e| format!("NVRTC could not compile the decode attention kernel: {e}"))
    })
    .as_ref()
    .map(String::as_str)
    .map_err(Clone::clone)
}

/// A tensor's device address (its first element), with the device it lives on.
fn address(t: &Tensor) -> candle_core::Result<Option<(u64, CudaDevice)>> {
    fn ptr<T>(s: &CudaSlice<T>, dev: &CudaDevice, offset: usize) -> u64 {
        let stream = dev.cuda_stream();
        let (p, _sync) = s.device_ptr(&stream);
        p + (offset * std::mem::size_of::<T>()) as u64
    }
    let (storage, layout) = t.storage_and_layout();
    let Storage::Cuda(CudaStorage { slice, device }) = &*storage else {
        return Ok(None);
    };
    let at = layout.start_offset();
    Ok(match slice {
        CudaStorageSlice::BF16(s) => Some((ptr(s, device, at), device.clone())),
        CudaStorageSlice::F16(s) => Some((ptr(s, device, at), device.clone())),
        CudaStorageSlice::F32(s) => Some((ptr(s, device, at), device.clone())),
        _ => None,
    })
}

/// An uninitialised tensor of `q`'s dtype on its device, (1, rows, width).
fn output_like(q: &Tensor, rows: usize, width: usize) -> candle_core::Result<Option<Tensor>> {
    fn alloc<T: DeviceRepr>(
        _like: &CudaSlice<T>,
        dev: &CudaDevice,
        n: usize,
    ) -> candle_core::Result<CudaSlice<T>> {
        // SAFETY: the kernel writes every element before anything reads it.
        unsafe { dev.alloc::<T>(n) }
    }
    let (storage, _) = q.storage_and_layout();
    let Storage::Cuda(CudaStorage { slice, device }) = &*storage else {
        return Ok(None);
    };
    let n = rows * width;
    let slice = match slice {
        CudaStorageSlice::BF16(s) => CudaStorageSlice::BF16(alloc(s, device, n)?),
        CudaStorageSlice::F16(s) => CudaStorageSlice::F16(alloc(s, device, n)?),
        CudaStorageSlice::F32(s) => CudaStorageSlice::F32(alloc(s, device, n)?),
        _ => return Ok(None),
    };
    let storage = Storage::Cuda(CudaStorage {
        slice,
        device: device.clone(),
    });
    Ok(Some(Tensor::from_storage(
        storage,
        (1, rows, width),
        BackpropOp::none(),
        false,
    )))
}

/// Row stride of a (1, rows, width) view whose rows are contiguous.
fn row_stride(t: &Tensor, width: usize) -> Option<i64> {
    let dims = t.dims();
    let stride = t.stride();
    (dims.len() == 3 && dims[0] == 1 && dims[2] == width && stride[2] == 1).then(|| {
        if dims[1] > 1 {
            stride[1] as i64
        } else {
            width as i64
        }
    })
}

/// See [`super::decode_attention`].
#[allow(clippy::too_many_arguments)]
pub(super) fn decode_attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    seqs: &[DecodeSeq<'_>],
    cos: &Tensor,
    sin: &Tensor,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    scale: f32,
) -> candle_core::Result<Option<Tensor>> {
    let n = seqs.len();
    let n_rep = heads / kv_heads.max(1);
    let supported = n > 0
        && matches!(q.device(), Device::Cuda(_))
        && heads % kv_heads.max(1) == 0
        && n_rep <= MAX_REP
        && n_rep * head_dim <= MAX_OUT * THREADS as usize
        && head_dim % 2 == 0
        && q.dtype() == k.dtype()
        && q.dtype() == v.dtype()
        && matches!(q.dtype(), DType::BF16 | DType::F16 | DType::F32)
        && cos.dtype() == DType::F32
        && sin.dtype() == DType::F32
        && cos.is_contiguous()
        && sin.is_contiguous()
        && q.dim(1)? == n;
    if !supported {
        return Ok(None);
    }
    let (Some(q_row), Some(k_row), Some(v_row)) = (
        row_stride(q, heads * head_dim),
        row_stride(k, kv_heads * head_dim),
        row_stride(v, kv_heads * head_dim),
    ) else {
        return Ok(None);
    };
    let name = match q.dtype() {
        DType::BF16 => "decode_attention_bf16",
        DType::F16 => "decode_attention_f16",
        _ => "decode_attention_f32",
    };
    // Per sequence: cache pointers, then position, keys, first key, head stride.
    let mut table = vec![0u64; 4 * n];
    let mut meta: Vec<i32> = Vec::with_capacity(4 * n);
    for (j, s) in seqs.iter().enumerate() {
        let (_, kv, cap, d) = s.k_cache.dims4()?;
        let ok = s.k_cache.dtype() == q.dtype()
            && s.v_cache.dims() == s.k_cache.dims()
            && s.k_cache.is_contiguous()
            && s.v_cache.is_contiguous()
            && kv == kv_heads
            && d == head_dim
            && s.len >= 1
            && s.len <= cap
            && s.start < s.len
            && s.pos < cos.dim(0)?
            && cap * d <= i32::MAX as usize;
        let (Some((kp, _)), Some((vp, _))) = (address(s.k_cache)?, address(s.v_cache)?) else {
            return Ok(None);
        };
        if !ok {
            return Ok(None);
        }
        table[j] = kp;
        table[n + j] = vp;
        meta.extend([s.pos as i32, s.len as i32, s.start as i32, (cap * d) as i32]);
    }
    for (j, pair) in meta.chunks(2).enumerate() {
        table[2 * n + j] = u64::from(pair[0] as u32) | (u64::from(pair[1] as u32) << 32);
    }
    let ptx = match ptx() {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(cause = %e, "CUDA decode attention unavailable");
            return Ok(None);
        }
    };
    let (Some((qp, dev)), Some((kp, _)), Some((vp, _)), Some((cp, _)), Some((sp, _))) = (
        address(q)?,
        address(k)?,
        address(v)?,
        address(cos)?,
        address(sin)?,
    ) else {
        return Ok(None);
    };
    let Some(out) = output_like(q, n, heads * head_dim)? else {
        return Ok(None);
    };
    let Some((op, _)) = address(&out)? else {
        return Ok(None);
    };
    let func = dev.get_or_load_custom_func(name, "loglens_decode_attention", ptx)?;
    let stream = dev.cuda_stream();
    let table = stream
        .clone_htod(&table)
        .map_err(|e| candle_core::Error::Msg(format!("uploading the cache table: {e}")))?;
    let tp = {
        let (p, _sync) = table.device_ptr(&stream);
        p
    };
    let shared = (n_rep * head_dim + n_rep * CHUNK + 3 * MAX_REP) * std::mem::size_of::<f32>();
    let cfg = LaunchConfig {
        grid_dim: (kv_heads as u32, n as u32, 1),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: shared as u32,
    };
    let (n_i, heads_i, kv_i, d_i) = (n as i32, heads as i32, kv_heads as i32, head_dim as i32);
    let mut b = func.builder();
    b.arg(&qp)
        .arg(&kp)
        .arg(&vp)
        .arg(&q_row)
        .arg(&k_row)
        .arg(&v_row)
        .arg(&cp)
        .arg(&sp)
        .arg(&tp)
        .arg(&op)
        .arg(&n_i)
        .arg(&heads_i)
        .arg(&kv_i)
        .arg(&d_i)
        .arg(&scale);
    // SAFETY: the arguments match the kernel's signature; every pointer was checked above
    // to address a tensor of the expected dtype and extent, and the cache table and the
    // tensors outlive the launch on this stream (frees are stream-ordered).
    unsafe { b.launch(cfg) }
        .map_err(|e| candle_core::Error::Msg(format!("decode attention launch: {e}")))?;
    drop(table);
    Ok(Some(out))
}
