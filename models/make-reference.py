#!/usr/bin/env python3
"""Writes models/reference/NAME-llama-cpp-python.json: token ids and greedy
continuations of a model from an independent implementation, llama.cpp through
llama-cpp-python, which the engine's tests compare against. NAME is a name of
models/fetch.sh (default: smollm2-135m, whose file is smollm2-llama-cpp-python.json).

Run (a one-off; the output is committed, the tests do not need llama-cpp-python):

    python3 -m venv /tmp/ref-venv
    /tmp/ref-venv/bin/pip install cmake==4.4.4 ninja==1.13.2 llama-cpp-python==0.3.16
    /tmp/ref-venv/bin/python models/make-reference.py models/SmolLM2-135M-Instruct.Q4_1.gguf
    /tmp/ref-venv/bin/python models/make-reference.py \
        $LOGLENS_MODEL_DIR/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf qwen2.5-coder-1.5b

llama-cpp-python builds llama.cpp from source (a few minutes on two cores).
"""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import llama_cpp

# Strings an on-call engineer's logs are made of: timestamps, IPs, paths, numbers,
# unicode, CRLF and tabs, JSON, stack traces, and ChatML with control tokens.
TEXTS = [
    "Hello, world!",
    "2026-03-14T09:26:53.589793Z ERROR payments-api: upstream connect error 503",
    "Mar 14 09:26:53 node-7 kernel: [12345.678901] Out of memory: Killed process 4242 (java)",
    "10.0.12.7 - - [14/Mar/2026:09:26:53 +0000] \"GET /api/v1/orders?id=42 HTTP/1.1\" 502 173",
    "081109 203615 148 INFO dfs.DataNode$PacketResponder: Received block blk_-1608999687919862906",
    "  File \"/srv/app/worker.py\", line 118, in run\n    raise TimeoutError('db')",
    "{\"level\":\"warn\",\"ts\":1710408413.5,\"msg\":\"retrying\",\"attempt\":3}",
    "Zeitüberschreitung beim Verbinden – 连接超时 – タイムアウト 🚨",
    "line one\r\nline two\r\n\tindented\ttabs",
    "0x7ffd5e8c 3.14159 -42 1e-9 007 1234567890",
    "C:\\Program Files\\loglens\\logs\\app.log and /var/log/syslog.1.gz",
    "<|im_start|>user\nWhy did the pod restart?<|im_end|>\n<|im_start|>assistant\n",
    "   leading spaces, trailing spaces   ",
    "ÄÖÜ äöü ß é è ñ ø å",
    "kube-system/coredns-5d78c9869d-abcde CrashLoopBackOff (back-off 5m0s)",
]

PROMPTS = [
    "<|im_start|>system\nYou are a site reliability engineer.<|im_end|>\n"
    "<|im_start|>user\nWhat does 'connection refused' in a log usually mean?<|im_end|>\n"
    "<|im_start|>assistant\n",
    "<|im_start|>user\nExplain this log line: 2026-03-14 09:26:53 ERROR db-pool: "
    "timeout acquiring connection after 30000 ms<|im_end|>\n<|im_start|>assistant\n",
    "A disk that is almost full causes",
]

GREEDY_TOKENS = 32


def source(name: str) -> str:
    """Where models/fetch.sh gets the model, from its --list line."""
    here = Path(__file__).resolve().parent
    listing = subprocess.run([str(here / "fetch.sh"), "--list"], capture_output=True, text=True).stdout
    for line in listing.splitlines():
        parts = line.split()
        if parts and parts[0] == name:
            return "from PyPI " + parts[-1]
    sys.exit(f"{name} is not a models/fetch.sh name")


def main() -> None:
    model = Path(sys.argv[1] if len(sys.argv) > 1 else "models/SmolLM2-135M-Instruct.Q4_1.gguf")
    name = sys.argv[2] if len(sys.argv) > 2 else "smollm2-135m"
    stem = "smollm2" if name == "smollm2-135m" else name
    out = Path(__file__).resolve().parent / "reference" / f"{stem}-llama-cpp-python.json"
    llm = llama_cpp.Llama(
        model_path=str(model), n_ctx=1024, n_threads=2, n_batch=512, verbose=False, seed=0
    )
    tokenize = []
    for text in TEXTS:
        ids = llm.tokenize(text.encode(), add_bos=False, special=True)
        back = llm.detokenize(ids, special=True).decode("utf-8", "replace")
        tokenize.append({"text": text, "ids": ids, "round_trips": back == text})
    greedy = []
    for prompt in PROMPTS:
        ids = llm.tokenize(prompt.encode(), add_bos=False, special=True)
        llm.reset()
        out_ids = []
        for tok in llm.generate(ids, top_k=1, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0):
            out_ids.append(tok)
            if len(out_ids) == GREEDY_TOKENS or tok == llm.token_eos():
                break
        greedy.append({"prompt": prompt, "prompt_ids": ids, "greedy_ids": out_ids})
    doc = {
        "model": f"{model.name} {source(name)}",
        "model_sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
        "produced_by": f"llama-cpp-python {llama_cpp.__version__} (llama.cpp, CPU, 2 threads): "
        "tokenize with special=True and no BOS; greedy decoding (top_k 1, temperature 0), "
        f"{GREEDY_TOKENS} tokens or up to the end token",
        "script": "models/make-reference.py",
        "tokenize": tokenize,
        "greedy": greedy,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    print(out)


if __name__ == "__main__":
    main()
