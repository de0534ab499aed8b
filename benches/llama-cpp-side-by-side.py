#!/usr/bin/env python3
"""llama.cpp on the same GGUF and machine, for the engine's speed targets.

Prints prefill tok/s (one 512-token batch) and decode tok/s (128 single-token steps with
greedy choice, from a one-token context, as llama-bench's tg128) for each thread count, as
JSON lines. Needs llama-cpp-python (`pip install llama-cpp-python`, which builds llama.cpp
for this CPU); it is a benchmark-time tool, not part of loglens.

    python3 benches/llama-cpp-side-by-side.py MODEL.gguf [--threads 1,2] [--reps 3]
"""
import argparse
import json
import time

import llama_cpp
import numpy as np

LINE = (
    b"2026-11-22T03:14:07.123Z ERROR [storage-api] request 7f3a9c failed: "
    b"connection refused to 10.0.4.17:9000 after 3 retries (timeout=5s)\n"
)


def measure(path, threads, prompt_tokens, gen_tokens):
    llm = llama_cpp.Llama(
        model_path=path,
        n_ctx=prompt_tokens + gen_tokens + 16,
        n_threads=threads,
        n_threads_batch=threads,
        n_batch=prompt_tokens,
        verbose=False,
    )
    toks = llm.tokenize(LINE * (prompt_tokens // 20 + 1), add_bos=False)[:prompt_tokens]
    llm.reset()
    t = time.perf_counter()
    llm.eval(toks)
    prefill = prompt_tokens / (time.perf_counter() - t)
    llm.reset()
    llm.eval(toks[:1])
    t = time.perf_counter()
    for _ in range(gen_tokens):
        nxt = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        llm.eval([nxt])
    decode = gen_tokens / (time.perf_counter() - t)
    return prefill, decode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--prompt-tokens", type=int, default=512)
    ap.add_argument("--gen-tokens", type=int, default=128)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    for rep in range(a.reps):
        for n in [int(x) for x in a.threads.split(",")]:
            pp, tg = measure(a.model, n, a.prompt_tokens, a.gen_tokens)
            print(json.dumps({
                "engine": f"llama.cpp (llama-cpp-python {llama_cpp.__version__})",
                "rep": rep, "threads": n,
                "prefill_tok_s": round(pp, 1), "decode_tok_s": round(tg, 1),
            }), flush=True)


if __name__ == "__main__":
    main()
