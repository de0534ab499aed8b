#!/usr/bin/env bash
# Soak test of `loglens serve`: steady streamed load plus hostile clients for a fixed
# time, sampling the server's resident memory and open file descriptors.
#
#   benches/soak.sh [SECONDS] [CSV]      # default 600 s, soak.csv in the current directory
#
# Environment: LOGLENS_BIN (default target/release/loglens), LOGLENS_MODEL (the model),
# SOAK_CONCURRENCY (default 8 clients), SOAK_INTERVAL (default 10 s between samples).
# Load: `loglens bench serve --url` in a loop (streamed chat, 32 tokens each); every
# round also sends a cyclic-$ref schema (422), a 3 MB prompt (400), a stream the client
# drops after one second, a connection that sends half a request head and one that sends
# nothing (both closed by the server's read timeout), and a burst past the queue (429).
# Prints the first sample after warm-up (60 s), the last one and the difference; the
# samples go to the CSV (seconds, rss_kib, fds, requests answered).
set -euo pipefail

duration="${1:-600}"
csv="${2:-soak.csv}"
bin="${LOGLENS_BIN:-target/release/loglens}"
conc="${SOAK_CONCURRENCY:-8}"
interval="${SOAK_INTERVAL:-10}"
[ -x "$bin" ] || { echo "soak.sh: no loglens binary at $bin (cargo build --release)" >&2; exit 1; }
[ -n "${LOGLENS_MODEL:-}" ] || { echo "soak.sh: set LOGLENS_MODEL" >&2; exit 1; }

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" serve --port 0 --max-batch 8 --max-queue 16 --read-timeout-secs 5 \
  >"$work/serve.out" 2>"$work/serve.err" &
server=$!
pids+=("$server")
for _ in $(seq 1 600); do
  grep -q "listening on" "$work/serve.out" 2>/dev/null && break
  sleep 0.1
done
url="$(sed -n 's/^listening on //p' "$work/serve.out")"
[ -n "$url" ] || { echo "soak.sh: the server did not start" >&2; cat "$work/serve.err" >&2; exit 1; }
hostport="${url#http://}"
host="${hostport%:*}"
port="${hostport##*:}"
until curl -sf "$url/ready" >/dev/null; do sleep 0.2; done
model="$(curl -s "$url/v1/models" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')"

python3 - "$work/big.json" "$model" <<'EOF'
import json, sys
text = "ERROR disk full on node-17, evicting pods " * (3_000_000 // 42)
json.dump({"model": sys.argv[2], "messages": [{"role": "user", "content": text}], "max_tokens": 4},
          open(sys.argv[1], "w"))
EOF
cyclic="{\"model\":\"$model\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":4,\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{\"\$defs\":{\"a\":{\"\$ref\":\"#/\$defs/b\"},\"b\":{\"\$ref\":\"#/\$defs/a\"}},\"\$ref\":\"#/\$defs/a\"}}}}"
stream="{\"model\":\"$model\",\"prompt\":\"Count from one to one thousand:\",\"max_tokens\":400,\"stream\":true}"
short="{\"model\":\"$model\",\"prompt\":\"Say hi\",\"max_tokens\":8}"

sample() {
  local rss fds answered
  rss="$(awk '/^VmRSS:/ {print $2}' "/proc/$server/status")"
  fds="$(ls "/proc/$server/fd" | wc -l)"
  answered="$(curl -s "$url/metrics" | awk '/^loglens_requests_total/ {s += $2} END {print s + 0}')"
  echo "$1,$rss,$fds,$answered"
}

# Steady load.
(
  end=$((SECONDS + duration))
  while [ "$SECONDS" -lt "$end" ]; do
    "$bin" bench serve --url "$url" --model-id "$model" --concurrency "$conc" \
      --requests $((conc * 4)) --max-tokens 32 --retries 100 --json >>"$work/load.jsonl" 2>/dev/null || true
  done
) &
pids+=("$!")

# Hostile clients, one round every few seconds.
(
  end=$((SECONDS + duration))
  while [ "$SECONDS" -lt "$end" ]; do
    curl -s -o /dev/null -H 'content-type: application/json' -d "$cyclic" "$url/v1/chat/completions" || true
    curl -s -o /dev/null -H 'content-type: application/json' --data-binary @"$work/big.json" "$url/v1/chat/completions" || true
    curl -s -o /dev/null --max-time 1 -H 'content-type: application/json' -d "$stream" "$url/v1/completions" || true
    # Held open past the server's read timeout (5 s), which closes them.
    ( exec 3<>"/dev/tcp/$host/$port" && printf 'POST /v1/completions HTTP/1.1\r\nhost: localhost\r\ncontent-le' >&3 && sleep 8 ) 2>/dev/null &
    ( exec 4<>"/dev/tcp/$host/$port" && sleep 8 ) 2>/dev/null &
    for _ in $(seq 1 30); do
      curl -s -o /dev/null -H 'content-type: application/json' -d "$short" "$url/v1/completions" &
    done
    wait
    sleep 3
  done
) &
pids+=("$!")

echo "seconds,rss_kib,fds,requests" >"$csv"
start=$SECONDS
while [ $((SECONDS - start)) -lt "$duration" ]; do
  sample $((SECONDS - start)) >>"$csv"
  sleep "$interval"
done
sample $((SECONDS - start)) >>"$csv"

warm="$(awk -F, 'NR > 1 && $1 >= 60 {print; exit}' "$csv")"
last="$(tail -n 1 "$csv")"
echo "samples: $csv"
echo "after warm-up: ${warm}"
echo "last:          ${last}"
awk -F, -v w="$warm" -v l="$last" 'BEGIN {
  split(w, a, ","); split(l, b, ",");
  printf "RSS %.1f -> %.1f MiB (%+.1f), fds %d -> %d, requests answered %d\n",
    a[2] / 1024, b[2] / 1024, (b[2] - a[2]) / 1024, a[3], b[3], b[4] }'
if grep -q '"server_errors":[1-9]' "$work/load.jsonl"; then
  echo "soak.sh: the load saw 5xx answers" >&2
  exit 1
fi
