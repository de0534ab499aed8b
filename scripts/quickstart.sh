#!/usr/bin/env bash
# The main job on a fresh machine: build loglens and analyse the example logs.
# Reports land in ./loglens-report (report.md, report.json, report.html).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "quickstart: cargo is required (https://rustup.rs)" >&2; exit 1; }
cargo build --release --locked
./target/release/loglens analyze examples/mlops --output-dir loglens-report "$@"
echo "open loglens-report/report.html, or read loglens-report/report.md"
