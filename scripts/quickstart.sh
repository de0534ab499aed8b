#!/usr/bin/env bash
# The main job on a fresh machine: fetch the quickstart model if missing, build loglens
# and analyse the example logs.
# Reports land in ./loglens-report (report.md, report.json, report.html).
#
# The model is Qwen2.5-Coder-0.5B-Instruct (Q4_K_M, 491 MB, Apache-2.0; from PyPI,
# sha256-checked): the strongest known model whose analysis of the examples finishes in
# under 3 minutes on 2 CPU cores (benches/RESULTS.md, "Which model triages"). Another
# known model: LOGLENS_QUICKSTART_MODEL=smollm2-135m (the tests' default, seconds, weak
# verdicts) or qwen2.5-coder-1.5b (better, slower); `models/fetch.sh --list` names them.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "quickstart: cargo is required (https://rustup.rs)" >&2; exit 1; }
model="$(models/fetch.sh "${LOGLENS_QUICKSTART_MODEL:-qwen2.5-coder-0.5b}")"
cargo run --release --locked --quiet -- analyze examples/mlops --model "$model" \
  --output-dir loglens-report "$@"
echo "open loglens-report/report.html, or read loglens-report/report.md"
