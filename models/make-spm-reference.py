#!/usr/bin/env python3
"""Writes models/reference/tiny-spm-llama-cpp-python.json: a tiny SentencePiece (llama
style) vocabulary and the ids llama.cpp gives a set of strings with it. The engine's
tests rebuild a GGUF from the vocabulary in that file and must produce the same ids.

Run (a one-off; the output is committed):

    python3 -m venv /tmp/ref-venv
    /tmp/ref-venv/bin/pip install cmake==4.4.4 ninja==1.13.2 llama-cpp-python==0.3.16 gguf==0.17.1
    /tmp/ref-venv/bin/python models/make-spm-reference.py
"""

import json
import tempfile
from pathlib import Path

import gguf
import llama_cpp
import numpy as np

NORMAL, UNKNOWN, CONTROL, BYTE = 1, 2, 3, 6

# Pieces in priority order (earlier pieces score higher and merge first), as a
# SentencePiece BPE model lists them.
PIECES = [
    "▁", "e", "r", "o", "t", "i", "n", "a", "s", "l", "g", "m", "c", "d", "u", "p",
    ":", "0", "1", "2", "6", "-", ".",
    "er", "or", "▁t", "in", "▁e", "rr", "lo", "og", "at", "ti", "me", "on", "ou",
    "▁err", "▁error", "▁log", "▁time", "▁out", "▁in", "▁on", "▁a", "▁s", "▁d",
    "▁c", "oc", "cu", "ur", "rre", "red", "▁disk", "▁20", "26",
]

STRINGS = [
    "error",
    "an error occurred",
    " leading space",
    "time out: 2026-01-02",
    "héllo 🚨 wörld",
    "<s>log</s> error",
    "line\nnext\ttab",
    "  two  spaces  ",
    "ERROR disk",
    "in on a s d c",
    "errerror",
    "",
]


def vocab():
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + PIECES
    types = [UNKNOWN, CONTROL, CONTROL] + [BYTE] * 256 + [NORMAL] * len(PIECES)
    scores = [0.0, 0.0, 0.0] + [0.0] * 256 + [-float(i) for i in range(len(PIECES))]
    return tokens, scores, types


def main() -> None:
    tokens, scores, types = vocab()
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "tiny-spm.gguf"
        w = gguf.GGUFWriter(str(path), "llama")
        w.add_context_length(64)
        w.add_embedding_length(8)
        w.add_block_count(1)
        w.add_feed_forward_length(16)
        w.add_head_count(2)
        w.add_head_count_kv(2)
        w.add_layer_norm_rms_eps(1e-5)
        w.add_tokenizer_model("llama")
        w.add_token_list(tokens)
        w.add_token_scores(scores)
        w.add_token_types(types)
        w.add_bos_token_id(1)
        w.add_eos_token_id(2)
        w.add_unk_token_id(0)
        w.add_add_space_prefix(True)
        w.add_tensor("token_embd.weight", np.zeros((len(tokens), 8), dtype=np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
        cases = [
            {"text": s, "ids": llm.tokenize(s.encode(), add_bos=False, special=True)}
            for s in STRINGS
        ]
    doc = {
        "produced_by": f"llama-cpp-python {llama_cpp.__version__}: tokenize with special=True, "
        "no BOS, add_space_prefix true",
        "script": "models/make-spm-reference.py",
        "tokens": tokens,
        "scores": scores,
        "types": types,
        "cases": cases,
    }
    out = Path(__file__).resolve().parent / "reference" / "tiny-spm-llama-cpp-python.json"
    out.write_text(json.dumps(doc, ensure_ascii=False) + "\n")
    print(out)


if __name__ == "__main__":
    main()
