#!/usr/bin/env bash
# Checks loglens on a GPU node in one run of a few minutes, and writes what it measured
# under OUT_DIR ($OUT, else ./gpu-check-out):
#
#   env.txt        nvidia-smi, driver, CUDA libraries, the binary's BUILD.txt
#   devices.jsonl  `bench devices`, the GPU against the CPU: a tiny random model (f32 and
#                  bf16) and the default model (greedy tokens up to near-ties, logits,
#                  batched against lone runs, llama.cpp's reference tokens)
#   sdk.txt        the OpenAI SDK tests (tests/openai) against `loglens serve` on the GPU
#   tokens.json    `bench tokens` on a random model of --shape (default llama3-8b, bf16):
#                  prefill, batch-1 decode, TTFT, ITL, aggregate at 1/8/32/64 streams
#   serve.json     `bench serve` on the same model: the HTTP API at 1 and 32 streams
#   gpu-mem.csv    GPU memory and load sampled every half second
#   summary.txt    one line per step (status, seconds) and the main figures
#   log.txt        everything the steps printed
#
# Usage: scripts/gpu-check.sh [--device cuda|cpu] [--shape llama3-8b|mistral-7b|tiny]
#          [--bin LOGLENS] [--model DEFAULT.gguf] [--wheels DIR] [--python PY] [OUT_DIR]
# --device cpu --shape tiny runs the same steps on a machine without a GPU (the
# comparisons then check the CPU against itself). --bin defaults to the packed CUDA build
# (dist/loglens-cuda-sm90/loglens), else target/release/loglens. --model defaults to
# $LOGLENS_MODEL, else models/SmolLM2-135M-Instruct.Q4_1.gguf; without it the
# default-model steps are skipped. --wheels installs the SDK tests' Python packages from
# a folder of wheels (a node without network). Random models are written under
# $GPU_CHECK_WORK (default /dev/shm/loglens-gpu-check) and reused when complete.
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"

device=cuda
shape=llama3-8b
bin=""
model="${LOGLENS_MODEL:-}"
wheels=""
python=python3
out="${OUT:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --shape) shape="$2"; shift 2 ;;
    --bin) bin="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    --wheels) wheels="$2"; shift 2 ;;
    --python) python="$2"; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) out="$1"; shift ;;
  esac
done
out="${out:-gpu-check-out}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [ -z "$bin" ]; then
  for b in dist/loglens-cuda-sm90/loglens target/release/loglens; do
    [ -x "$b" ] && { bin="$here/$b"; break; }
  done
fi
[ -n "$bin" ] && [ -x "$bin" ] || { echo "gpu-check: no loglens binary (--bin)" >&2; exit 1; }
[ -n "$model" ] || model="models/SmolLM2-135M-Instruct.Q4_1.gguf"
work="${GPU_CHECK_WORK:-/dev/shm/loglens-gpu-check}"
mkdir -p "$work" 2>/dev/null || { work="${TMPDIR:-/tmp}/loglens-gpu-check"; mkdir -p "$work"; }
log="$out/log.txt"
summary="$out/summary.txt"
: >"$log"
: >"$summary"
: >"$out/devices.jsonl"
started=$(date +%s)
export LOGLENS_LOG_FORMAT=text LOGLENS_LOG="${LOGLENS_LOG:-warn,loglens::engine=info}"

# step NAME LIMIT_S COMMAND...: runs a step with a time limit, logs its output, records
# its status and seconds; a failed step does not stop the others.
step() {
  local name="$1" limit="$2"; shift 2
  local t0 t1 rc
  t0=$(date +%s.%N)
  echo "== $name: $*" >>"$log"
  # Functions run in a child shell under the time limit (they are exported below).
  timeout --kill-after=10 "$limit" bash -c '"$@"' step "$@" >>"$log" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  local secs
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  local status=ok
  [ $rc -eq 0 ] || status="FAILED($rc)"
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && status="TIMEOUT(${limit}s)"
  printf '%-28s %-14s %7ss\n' "$name" "$status" "$secs" | tee -a "$summary"
  return $rc
}

# devices NAME ARGS...: `bench devices` as one labelled JSON line of devices.jsonl.
devices() {
  local name="$1"; shift
  local tmp="$work/devices-$name.json"
  "$bin" bench devices --device "$device" --json "$@" >"$tmp"
  local rc=$?
  printf '{"check": "%s", "result": %s}\n' "$name" "$(cat "$tmp" 2>/dev/null || echo null)" \
    >>"$out/devices.jsonl"
  cat "$tmp"
  return $rc
}

# A random model of SHAPE in DIR, written once: a complete one (marked .done) is reused.
random_model() {
  local dir="$1" shape="$2" dtype="$3"
  if [ -f "$dir/.done" ]; then
    echo "reusing $dir"
    return 0
  fi
  rm -rf "$dir"
  "$bin" models random "$dir" --shape "$shape" --seed 1 --dtype "$dtype" && touch "$dir/.done"
}

env_report() {
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "loglens: $("$bin" --version 2>&1), device $device"
  [ -f "$(dirname "$bin")/BUILD.txt" ] && sed 's/^/  /' "$(dirname "$bin")/BUILD.txt"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit --format=csv
  fi
  "$python" - <<'PY' 2>/dev/null
import glob, os
try:
    import nvidia
    root = os.path.join(list(nvidia.__path__)[0], "cu13", "lib")
    print("CUDA libraries:", root)
    for f in sorted(glob.glob(root + "/lib*.so.*")):
        print("  " + os.path.basename(f))
except Exception as e:
    print("no nvidia cu13 wheels:", e)
PY
}

gpu_sampler() {
  command -v nvidia-smi >/dev/null || return 0
  nvidia-smi --query-gpu=timestamp,memory.used,memory.total,utilization.gpu,clocks.sm \
    --format=csv,noheader -lms 500 >"$out/gpu-mem.csv" 2>/dev/null &
  sampler=$!
}

export bin device work out model wheels python
export -f devices random_model env_report
sampler=""
gpu_sampler
step env 30 env_report
cp "$log" "$out/env.txt"

# 1. Correctness on small models: CPU against the device.
step tiny-random 60 random_model "$work/tiny-f32" tiny f32
step tiny-random-bf16 60 random_model "$work/tiny-bf16" tiny bf16
step devices-tiny-f32 60 devices tiny-f32 --model "$work/tiny-f32" --weight-format f32 \
  --tolerance 1e-3 --tie 1e-3
step devices-tiny-bf16 60 devices tiny-bf16 --model "$work/tiny-bf16" --weight-format native \
  --tolerance 0.05 --tie 0.05
if [ -f "$model" ]; then
  # The same function on both sides (weights dequantized to f32), then each device's
  # own Q4_1 arithmetic (the CPU's kernels and the GPU's differ in how they round).
  step devices-default-f32 120 devices default-f32 --model "$model" --weight-format f32 \
    --reference models/reference/smollm2-llama-cpp-python.json --tie 0.2 --tolerance 1e-3
  step devices-default-q4_1 120 devices default-q4_1 --model "$model" \
    --reference models/reference/smollm2-llama-cpp-python.json --tie 0.2 --tolerance 0.1
else
  echo "default model not found at $model: its steps are skipped" | tee -a "$summary"
fi

# 2. Speed on a large random model.
big="$work/$shape"
step "random-$shape" 240 random_model "$big" "$shape" bf16
bench_tokens() {
  "$bin" bench tokens --model "$big" --device "$device" --json "$@" >"$out/tokens.json"
  local rc=$?
  cat "$out/tokens.json"
  return $rc
}
export big
export -f bench_tokens
if [ "$shape" = tiny ]; then
  step bench-tokens 120 bench_tokens --prompt-tokens 256 --gen-tokens 32 --concurrency 1,8 \
    --concurrency-prompt-tokens 32
else
  step bench-tokens 300 bench_tokens --prompt-tokens 2048 --gen-tokens 128 \
    --concurrency 1,8,32,64 --concurrency-prompt-tokens 128
fi

# 3. The OpenAI SDK against `loglens serve` on the device.
sdk() {
  set -o pipefail
  if [ -n "$wheels" ]; then
    "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target "$work/site" "$wheels"/*.whl || return 1
    export PYTHONPATH="$work/site${PYTHONPATH:+:$PYTHONPATH}"
  fi
  LOGLENS_BIN="$bin" LOGLENS_MODEL="$model" LOGLENS_DEVICE="$device" \
    "$python" -m pytest -q -p no:cacheprovider tests/openai 2>&1 | tee "$out/sdk.txt"
}
export -f sdk
if [ -f "$model" ]; then
  step sdk-tests 150 sdk
fi

bench_serve() {
  "$bin" bench serve --model "$big" --device "$device" --concurrency "$1" \
    --max-tokens 64 --json >"$out/serve.json"
  local rc=$?
  cat "$out/serve.json"
  return $rc
}
export -f bench_serve
if [ "$shape" = tiny ]; then
  step bench-serve 120 bench_serve 1,4
else
  left=$((470 - ($(date +%s) - started)))
  if [ "$left" -gt 60 ]; then
    step bench-serve "$left" bench_serve 1,32
  else
    echo "bench-serve skipped: ${left}s left of the run's budget" | tee -a "$summary"
  fi
fi

[ -n "$sampler" ] && kill "$sampler" 2>/dev/null
"$python" - "$out" <<'PY' | tee -a "$summary"
import json, sys, os
out = sys.argv[1]
def load(name):
    try:
        with open(os.path.join(out, name)) as f:
            return json.load(f)
    except Exception:
        return None
for line in open(os.path.join(out, "devices.jsonl")):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    r = d.get("result") or {}
    ps = r.get("prompts", [])
    print(f"devices {d['check']:<14} pass={r.get('pass')} agreed=" +
          ",".join(f"{p['agreed']}/{p['compared']}" for p in ps) +
          " rel_logit_diff=" + ",".join(f"{p['rel_logit_diff']:.1e}" for p in ps) +
          (" reference=" + ",".join(str(p['reference_agreed']) for p in ps)
           if ps and ps[0].get("reference_agreed") is not None else ""))
t = load("tokens.json")
if t:
    print(f"tokens {os.path.basename(t['model'])}: prefill {t['prefill_tok_s']:.0f} tok/s "
          f"({t['prompt_tokens']} tokens), decode {t['decode_tok_s']:.1f} tok/s, "
          f"TTFT {t['ttft_ms']:.0f} ms, ITL p50 {t['itl_p50_ms']:.2f} / p99 {t['itl_p99_ms']:.2f} ms")
    for c in t["concurrency"]:
        print(f"  {c['n']:>3} streams: {c['aggregate_tok_s']:.0f} tok/s aggregate, "
              f"{c['decode_tok_s']:.0f} tok/s decoding")
s = load("serve.json")
if s:
    for l in s.get("levels", []):
        print(f"serve {l['concurrency']:>3} streams: {l['output_tok_per_s']:.0f} tok/s, "
              f"TTFT p50 {l['ttft_p50_ms']:.0f} ms, ITL p50 {l['itl_p50_ms']:.1f} ms, errors {l['errors']}")
try:
    mem = [int(l.split(",")[1].split()[0]) for l in open(os.path.join(out, "gpu-mem.csv")) if l.strip()]
    if mem:
        print(f"GPU memory used: peak {max(mem)} MiB")
except Exception:
    pass
PY
echo "total $(( $(date +%s) - started ))s; figures in $out" | tee -a "$summary"
