#!/usr/bin/env bash
# Builds loglens with the CUDA backend on a machine without a GPU, and packs it for a
# GPU node.
#
#  1. Installs the CUDA 13.0 toolchain from PyPI wheels into $LOGLENS_CUDA_DIR (default
#     .cuda/ in this checkout): nvcc, nvvm and crt (nvcc's wheel asks for them unpinned,
#     so every wheel is pinned to the 13.0 line here), runtime headers, CCCL, cuBLAS,
#     cuRAND and NVRTC.
#  2. Makes what the linker needs and the wheels lack: unversioned library names, and a
#     stub libcuda.so (SONAME libcuda.so.1) so the real driver is found at run time.
#  3. Builds `cargo build --release --features cuda` with CUDA_COMPUTE_CAP (default 90:
#     H100/H200) into $CARGO_TARGET_DIR or target/cuda.
#  4. Packs dist/loglens-cuda-sm<cap>.tar.gz: the stripped binary, a launcher that points
#     LD_LIBRARY_PATH at CUDA 13 libraries on the node, and a note of the versions.
#
# Flash attention stays off: its build fetches CUTLASS from the network.
# Usage: scripts/build-cuda.sh            (everything)
#        scripts/build-cuda.sh toolchain  (step 1-2 only)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
cuda_dir="${LOGLENS_CUDA_DIR:-$here/.cuda}"
cap="${CUDA_COMPUTE_CAP:-90}"
target="${CARGO_TARGET_DIR:-$here/target/cuda}"
wheels=(
  nvidia-cuda-nvcc==13.0.88
  nvidia-nvvm==13.0.88
  nvidia-cuda-crt==13.0.88
  nvidia-cuda-runtime==13.0.96
  nvidia-cuda-cccl==13.0.85
  nvidia-cublas==13.0.2.14
  nvidia-curand==10.4.0.35
  nvidia-cuda-nvrtc==13.0.88
)

# 1. Toolchain.
if [ ! -x "$cuda_dir/venv/bin/python" ]; then
  python3 -m venv "$cuda_dir/venv"
fi
"$cuda_dir/venv/bin/pip" install --quiet --disable-pip-version-check --no-deps "${wheels[@]}"
root="$("$cuda_dir/venv/bin/python" -c 'import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], "cu13"))')"
[ -x "$root/bin/nvcc" ] || { echo "build-cuda: nvcc not found under $root" >&2; exit 1; }

# 2. Link names and the driver stub. The wheels ship libfoo.so.N only; the linker asks
#    for libfoo.so. libcuda comes with the driver, so a stub with its entry points
#    stands in at link time; its SONAME makes the binary load the node's libcuda.so.1.
stubs="$cuda_dir/link"
mkdir -p "$stubs"
for lib in cublas cublasLt curand nvrtc cudart; do
  real="$(ls "$root"/lib/lib$lib.so.* 2>/dev/null | sort | head -n 1 || true)"
  [ -n "$real" ] && ln -sf "$real" "$stubs/lib$lib.so"
done
if [ ! -f "$stubs/libcuda.so" ] || [ "$0" -nt "$stubs/libcuda.so" ]; then
  # Every driver entry point the headers declare, failing with CUDA_ERROR_UNKNOWN (999)
  # should the stub ever be loaded instead of the driver.
  grep -ohE '\bCUresult CUDAAPI (cu[A-Za-z0-9_]+)\s*\(' "$root/include/cuda.h" \
    | sed -E 's/.*CUDAAPI (cu[A-Za-z0-9_]+).*/\1/' | sort -u \
    | awk '{print "int " $1 "(void) { return 999; }"}' > "$stubs/cuda_stub.c"
  # Versioned names (cuMemAlloc_v2, ...) the header maps plain names to.
  grep -ohE '#define (cu[A-Za-z0-9_]+)\s+(cu[A-Za-z0-9_]+_v[0-9]+)' "$root/include/cuda.h" \
    | awk '{print $3}' | sort -u | awk '{print "int " $1 "(void) { return 999; }"}' >> "$stubs/cuda_stub.c"
  sort -u -o "$stubs/cuda_stub.c" "$stubs/cuda_stub.c"
  gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$stubs/libcuda.so" "$stubs/cuda_stub.c"
fi
if [ "${1:-}" = "toolchain" ]; then
  echo "$root"
  exit 0
fi

# 3. Build.
export CUDA_ROOT="$root" CUDA_PATH="$root" CUDA_COMPUTE_CAP="$cap"
export PATH="$root/bin:$PATH"
export LIBRARY_PATH="$stubs:$root/lib${LIBRARY_PATH:+:$LIBRARY_PATH}"
export RUSTFLAGS="${RUSTFLAGS:-} -L native=$stubs"
CARGO_TARGET_DIR="$target" cargo build --release --features cuda --bin loglens

# 4. Pack.
dist="$here/dist/loglens-cuda-sm$cap"
rm -rf "$dist"
mkdir -p "$dist"
cp "$target/release/loglens" "$dist/loglens.bin"
strip "$dist/loglens.bin"
cat > "$dist/loglens" <<'LAUNCH'
#!/usr/bin/env bash
# Runs loglens built with CUDA 13.0. The CUDA libraries (cuBLAS, cuRAND, NVRTC) come
# from $LOGLENS_CUDA_LIBS, else from the first Python environment on the node with the
# nvidia cu13 wheels (PyTorch's), else from the system; libcuda.so.1 from the driver.
# cudart, cuBLAS, cuRAND and NVRTC 13 must be found.
here="$(cd "$(dirname "$0")" && pwd)"
libs="${LOGLENS_CUDA_LIBS:-}"
if [ -z "$libs" ]; then
  for py in "${LOGLENS_PYTHON:-}" python3 /opt/venv/bin/python /usr/bin/python3; do
    [ -n "$py" ] && command -v "$py" >/dev/null 2>&1 || continue
    libs="$("$py" -c 'import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], "cu13", "lib"))' 2>/dev/null)" || libs=""
    [ -n "$libs" ] && [ -d "$libs" ] && break
    libs=""
  done
fi
if [ -n "$libs" ]; then
  export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
exec "$here/loglens.bin" "$@"
LAUNCH
chmod +x "$dist/loglens"
{
  echo "loglens $(git describe --always --dirty 2>/dev/null || echo unknown), --features cuda, sm_$cap"
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) with $(rustc --version)"
  echo "CUDA wheels: ${wheels[*]}"
  echo "needs at run time: NVIDIA driver with CUDA 13.0 (libcuda.so.1), and"
  echo "libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libnvrtc.so.13 (see the launcher)"
} > "$dist/BUILD.txt"
tar -C "$here/dist" -czf "$dist.tar.gz" "loglens-cuda-sm$cap"
ls -l "$dist.tar.gz"
