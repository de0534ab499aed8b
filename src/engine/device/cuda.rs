//! Decode attention on CUDA: one kernel per layer for every sequence of a batch that
//! decodes one token, instead of a dozen candle ops per sequence. It rotates each new
//! key and writes it with the new value into the sequence's cache at its next position,
//! rotates the queries, and attends over the cached keys: each (sequence, key/value
//! head) is split over several blocks when the batch is too small to fill the chip, each
//! warp keeps an online softmax over its share of the keys, and a second small kernel
//! merges the splits. The kernels are compiled with NVRTC on first use.

use std::sync::OnceLock;

use candle_core::cuda_backend::cudarc::driver::{
    CudaSlice, DevicePtr, DeviceRepr, LaunchConfig, PushKernelArg,
};
use candle_core::cuda_backend::cudarc::nvrtc;
use candle_core::cuda_backend::{CudaDevice, CudaStorage, CudaStorageSlice};
use candle_core::op::BackpropOp;
use candle_core::{DType, Device, Storage, Tensor};

use super::DecodeSeq;

/// Warps per block (`NWARPS` in the source).
const WARPS: usize = 8;
/// Query heads per key/value head the kernel handles (`MAX_REP`).
const MAX_REP: usize = 8;
/// Largest `n_rep * head_dim`: the warps' partial outputs fit the default 48 KiB of
/// shared memory.
const MAX_REP_DIMS: usize = 1024;
/// Blocks wanted in flight: two per multiprocessor of an H100/H200.
const TARGET_BLOCKS: usize = 264;
/// Fewest keys one block of a split attends.
const KEYS_PER_SPLIT: usize = 64;
/// Most splits of one sequence's keys.
const MAX_SPLITS: usize = 64;
/// The module name the kernels are loaded under.
const MODULE: &str = "loglens_decode_attention";

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
#define NWARPS 8
#define NEG_INF __int_as_float(0xff800000)

// The cache table: n key-cache pointers, n value-cache pointers, then six ints per
// sequence: position, keys once the new one is written, first key attended, elements
// between heads in its cache, its row in q/k/v/out, unused.
//
// grid (kv_heads, sequences, splits), NWARPS warps. Block (g, i, s) attends the queries
// of heads g*n_rep .. (g+1)*n_rep of sequence i over split s of its keys; each warp
// keeps an online softmax over every NWARPS-th key, the warps are merged in shared
// memory, and the block writes the output (one split) or its partial (m, l, acc) for
// `combine`. The block whose split holds the new key first writes it (rotated) and the
// new value; no other block reads that row.
template <typename T, int DPL>
__device__ void attend(
    const T* __restrict__ q, const T* __restrict__ k_new, const T* __restrict__ v_new,
    long long q_row, long long k_row, long long v_row,
    const float* __restrict__ cos_t, const float* __restrict__ sin_t,
    const unsigned long long* __restrict__ table, T* __restrict__ out,
    float* __restrict__ partial, int n_seqs, int heads, int kv_heads, float scale)
{
  extern __shared__ float smem[];
  const int d = DPL * 32, half = DPL * 16;
  const int g = blockIdx.x, i = blockIdx.y, split = blockIdx.z, splits = gridDim.z;
  const int n_rep = heads / kv_heads;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int* meta = (const int*)(table + 2 * n_seqs) + 6 * i;
  const int pos = meta[0], len = meta[1], start = meta[2], hs = meta[3], row = meta[4];
  T* kc = (T*)table[i] + (long long)g * hs;
  T* vc = (T*)table[n_seqs + i] + (long long)g * hs;
  const float* cr = cos_t + (long long)pos * half;
  const float* sr = sin_t + (long long)pos * half;
  float* qs = smem;                        // n_rep * d
  float* wacc = qs + n_rep * d;            // NWARPS * n_rep * d
  float* wm = wacc + NWARPS * n_rep * d;   // NWARPS * MAX_REP
  float* wl = wm + NWARPS * MAX_REP;       // NWARPS * MAX_REP

  const int total = len - start;
  const int per = (total + splits - 1) / splits;
  const int j0 = start + split * per;
  const int j1 = min(len, j0 + per);

  if (j0 <= len - 1 && len - 1 < j1) {
    const T* kn = k_new + row * k_row + g * d;
    const T* vn = v_new + row * v_row + g * d;
    T* kdst = kc + (long long)(len - 1) * d;
    T* vdst = vc + (long long)(len - 1) * d;
    for (int x = tid; x < half; x += blockDim.x) {
      float a = to_f(kn[2 * x]), b = to_f(kn[2 * x + 1]);
      put(&kdst[2 * x], a * cr[x] - b * sr[x]);
      put(&kdst[2 * x + 1], a * sr[x] + b * cr[x]);
    }
    for (int x = tid; x < d; x += blockDim.x) vdst[x] = vn[x];
  }
  for (int x = tid; x < n_rep * half; x += blockDim.x) {
    int r = x / half, p = x - r * half;
    const T* qh = q + row * q_row + (g * n_rep + r) * d;
    float a = to_f(qh[2 * p]), b = to_f(qh[2 * p + 1]);
    qs[r * d + 2 * p] = (a * cr[p] - b * sr[p]) * scale;
    qs[r * d + 2 * p + 1] = (a * sr[p] + b * cr[p]) * scale;
  }
  __syncthreads();

  float qr[MAX_REP][DPL], acc[MAX_REP][DPL], m[MAX_REP], l[MAX_REP];
#pragma unroll
  for (int r = 0; r < MAX_REP; r++) {
    m[r] = NEG_INF;
    l[r] = 0.f;
#pragma unroll
    for (int t = 0; t < DPL; t++) {
      qr[r][t] = r < n_rep ? qs[r * d + lane + 32 * t] : 0.f;
      acc[r][t] = 0.f;
    }
  }
  for (int j = j0 + warp; j < j1; j += NWARPS) {
    const T* kr = kc + (long long)j * d;
    const T* vr = vc + (long long)j * d;
    float kx[DPL], vx[DPL];
#pragma unroll
    for (int t = 0; t < DPL; t++) { kx[t] = to_f(kr[lane + 32 * t]); vx[t] = to_f(vr[lane + 32 * t]); }
#pragma unroll
    for (int r = 0; r < MAX_REP; r++) {
      if (r < n_rep) {
        float s = 0.f;
#pragma unroll
        for (int t = 0; t < DPL; t++) s += qr[r][t] * kx[t];
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        const float mn = fmaxf(m[r], s);
        const float c = expf(m[r] - mn);
        const float p = expf(s - mn);
        l[r] = l[r] * c + p;
#pragma unroll
        for (int t = 0; t < DPL; t++) acc[r][t] = acc[r][t] * c + p * vx[t];
        m[r] = mn;
      }
    }
  }
#pragma unroll
  for (int r = 0; r < MAX_REP; r++) {
    if (r < n_rep) {
      if (lane == 0) { wm[warp * MAX_REP + r] = m[r]; wl[warp * MAX_REP + r] = l[r]; }
#pragma unroll
      for (int t = 0; t < DPL; t++) wacc[(warp * n_rep + r) * d + lane + 32 * t] = acc[r][t];
    }
  }
  __syncthreads();
  for (int o = tid; o < n_rep * d; o += blockDim.x) {
    const int r = o / d, e = o - r * d;
    float mx = NEG_INF;
    for (int w = 0; w < NWARPS; w++) mx = fmaxf(mx, wm[w * MAX_REP + r]);
    float ls = 0.f, a = 0.f;
    if (mx != NEG_INF) {
      for (int w = 0; w < NWARPS; w++) {
        const float f = expf(wm[w * MAX_REP + r] - mx);
        ls += wl[w * MAX_REP + r] * f;
        a += wacc[(w * n_rep + r) * d + e] * f;
      }
    }
    const int h = g * n_rep + r;
    if (splits == 1) {
      put(&out[((long long)row * heads + h) * d + e], a / ls);
    } else {
      float* pp = partial + ((long long)(i * heads + h) * splits + split) * (d + 2);
      pp[2 + e] = a;
      if (e == 0) { pp[0] = mx; pp[1] = ls; }
    }
  }
}

// grid (heads, sequences), d threads: merges the splits' partials of `attend`.
template <typename T>
__device__ void combine(const float* __restrict__ partial, const unsigned long long* __restrict__ table,
                        T* __restrict__ out, int n_seqs, int heads, int d, int splits)
{
  const int h = blockIdx.x, i = blockIdx.y, e = threadIdx.x;
  const int row = ((const int*)(table + 2 * n_seqs) + 6 * i)[4];
  const float* pp = partial + (long long)(i * heads + h) * splits * (d + 2);
  float mx = NEG_INF;
  for (int s = 0; s < splits; s++) mx = fmaxf(mx, pp[s * (d + 2)]);
  float ls = 0.f, a = 0.f;
  for (int s = 0; s < splits; s++) {
    const float ms = pp[s * (d + 2)];
    if (ms == NEG_INF) continue;
    const float f = expf(ms - mx);
    ls += pp[s * (d + 2) + 1] * f;
    a += pp[s * (d + 2) + 2 + e] * f;
  }
  if (e < d) put(&out[((long long)row * heads + h) * d + e], a / ls);
}

#define ATTEND(T, TN, DPL) \
extern "C" __global__ void attend_##TN##_##DPL( \
    const T* q, const T* k_new, const T* v_new, long long q_row, long long k_row, \
    long long v_row, const float* cos_t, const float* sin_t, \
    const unsigned long long* table, T* out, float* partial, int n_seqs, int heads, \
    int kv_heads, float scale) { \
  attend<T, DPL>(q, k_new, v_new, q_row, k_row, v_row, cos_t, sin_t, table, out, partial, \
                 n_seqs, heads, kv_heads, scale); \
}
#define COMBINE(T, TN) \
extern "C" __global__ void combine_##TN(const float* partial, const unsigned long long* table, \
    T* out, int n_seqs, int heads, int d, int splits) { \
  combine<T>(partial, table, out, n_seqs, heads, d, splits); \
}
ATTEND(bf16, bf16, 1) ATTEND(bf16, bf16, 2) ATTEND(bf16, bf16, 4) ATTEND(bf16, bf16, 8)
ATTEND(f16, f16, 1) ATTEND(f16, f16, 2) ATTEND(f16, f16, 4) ATTEND(f16, f16, 8)
ATTEND(float, f32, 1) ATTEND(float, f32, 2) ATTEND(float, f32, 4) ATTEND(float, f32, 8)
COMBINE(bf16, bf16) COMBINE(f16, f16) COMBINE(float, f32)
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
    let rows = q.dim(1)?;
    let n_rep = heads / kv_heads.max(1);
    let dpl = head_dim / 32;
    let supported = n > 0
        && matches!(q.device(), Device::Cuda(_))
        && heads.is_multiple_of(kv_heads.max(1))
        && n_rep <= MAX_REP
        && head_dim.is_multiple_of(32)
        && matches!(dpl, 1 | 2 | 4 | 8)
        && n_rep * head_dim <= MAX_REP_DIMS
        && q.dtype() == k.dtype()
        && q.dtype() == v.dtype()
        && matches!(q.dtype(), DType::BF16 | DType::F16 | DType::F32)
        && cos.dtype() == DType::F32
        && sin.dtype() == DType::F32
        && cos.is_contiguous()
        && sin.is_contiguous()
        && seqs.iter().all(|s| s.row < rows);
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
    let tn = match q.dtype() {
        DType::BF16 => "bf16",
        DType::F16 => "f16",
        _ => "f32",
    };
    // Per sequence: cache pointers, then position, keys, first key, head stride, row.
    let mut table = vec![0u64; 5 * n];
    let mut meta: Vec<i32> = Vec::with_capacity(6 * n);
    let mut longest = 0;
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
        meta.extend([
            s.pos as i32,
            s.len as i32,
            s.start as i32,
            (cap * d) as i32,
            s.row as i32,
            0,
        ]);
        longest = longest.max(s.len - s.start);
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
    let Some(out) = output_like(q, rows, heads * head_dim)? else {
        return Ok(None);
    };
    let Some((op, _)) = address(&out)? else {
        return Ok(None);
    };
    // Enough blocks to fill the chip when the batch is small: each sequence's keys are
    // split over several blocks (at least KEYS_PER_SPLIT keys each), merged by `combine`.
    let blocks = kv_heads * n;
    let splits = TARGET_BLOCKS
        .div_ceil(blocks)
        .min(longest.div_ceil(KEYS_PER_SPLIT))
        .clamp(1, MAX_SPLITS);
    let stream = dev.cuda_stream();
    let err =
        |what: &str, e: &dyn std::fmt::Display| candle_core::Error::Msg(format!("{what}: {e}"));
    let table = stream
        .clone_htod(&table)
        .map_err(|e| err("uploading the cache table", &e))?;
    let partial: Option<CudaSlice<f32>> = if splits > 1 {
        // SAFETY: `attend` writes every partial before `combine` reads it.
        Some(unsafe { dev.alloc::<f32>(n * heads * splits * (head_dim + 2))? })
    } else {
        None
    };
    let tp = {
        let (p, _sync) = table.device_ptr(&stream);
        p
    };
    let pp = partial.as_ref().map_or(0, |s| {
        let (p, _sync) = s.device_ptr(&stream);
        p
    });
    let shared =
        (n_rep * head_dim * (1 + WARPS) + 2 * WARPS * MAX_REP) * std::mem::size_of::<f32>();
    let cfg = LaunchConfig {
        grid_dim: (kv_heads as u32, n as u32, splits as u32),
        block_dim: (32 * WARPS as u32, 1, 1),
        shared_mem_bytes: shared as u32,
    };
    let (n_i, heads_i, kv_i) = (n as i32, heads as i32, kv_heads as i32);
    let attend = dev.get_or_load_custom_func(&format!("attend_{tn}_{dpl}"), MODULE, ptx)?;
    let mut b = attend.builder();
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
        .arg(&pp)
        .arg(&n_i)
        .arg(&heads_i)
        .arg(&kv_i)
        .arg(&scale);
    // SAFETY: the arguments match the kernel's signature; every pointer was checked above
    // to address a tensor of the expected dtype and extent, and the table, the partials
    // and the tensors outlive the launches on this stream (frees are stream-ordered).
    unsafe { b.launch(cfg) }.map_err(|e| err("decode attention launch", &e))?;
    if splits > 1 {
        let (d_i, splits_i) = (head_dim as i32, splits as i32);
        let combine = dev.get_or_load_custom_func(&format!("combine_{tn}"), MODULE, ptx)?;
        let cfg = LaunchConfig {
            grid_dim: (heads as u32, n as u32, 1),
            block_dim: (head_dim as u32, 1, 1),
            shared_mem_bytes: 0,
        };
        let mut b = combine.builder();
        b.arg(&pp)
            .arg(&tp)
            .arg(&op)
            .arg(&n_i)
            .arg(&heads_i)
            .arg(&d_i)
            .arg(&splits_i);
        // SAFETY: as above; `partial` holds n * heads * splits * (head_dim + 2) floats.
        unsafe { b.launch(cfg) }.map_err(|e| err("decode attention combine", &e))?;
    }
    drop(table);
    drop(partial);
    Ok(Some(out))
}
