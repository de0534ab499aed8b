#!/usr/bin/env python3
"""Writes an HF directory with random weights of a real model's shapes, for throughput
runs where the real weights are not on the machine (the GPU nodes have no model).

    python3 scripts/random-model.py OUT_DIR --shape llama3-8b --tokenizer-from DIR
    python3 scripts/random-model.py OUT_DIR --shape qwen2.5-1.5b --tokenizer-from DIR
    python3 scripts/random-model.py OUT_DIR --shape tiny           (for tests)

Needs numpy only. Weights are bf16 (normal, std 0.02; norms 1) in shards of at most
--shard-gb, with model.safetensors.index.json; config.json has the model's hyper-
parameters. The tokenizer files are copied from --tokenizer-from (any HF directory whose
vocabulary fits in the model's), since throughput does not depend on the text.
"""

import argparse
import json
import shutil
import struct
from pathlib import Path

import numpy as np

SHAPES = {
    # Llama-3-8B-Instruct.
    "llama3-8b": dict(
        hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=8, vocab_size=128256,
        rope_theta=500000.0, max_position_embeddings=8192, rms_norm_eps=1e-5,
        tie_word_embeddings=False,
    ),
    # Mistral-7B-Instruct-v0.1 (sliding window).
    "mistral-7b": dict(
        hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=8, vocab_size=32000,
        rope_theta=10000.0, max_position_embeddings=32768, rms_norm_eps=1e-5,
        sliding_window=4096, tie_word_embeddings=False,
    ),
    # Qwen2.5-Coder-1.5B-Instruct (biases on q/k/v, half-split rotary, tied embeddings).
    "qwen2.5-1.5b": dict(
        hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
        num_attention_heads=12, num_key_value_heads=2, vocab_size=151936,
        rope_theta=1000000.0, max_position_embeddings=32768, rms_norm_eps=1e-6,
        tie_word_embeddings=True, qkv_bias=True,
    ),
    "tiny": dict(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, vocab_size=49152,
        rope_theta=10000.0, max_position_embeddings=512, rms_norm_eps=1e-5,
        tie_word_embeddings=False,
    ),
}


def tensors(c):
    h, f, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    hd = h // c["num_attention_heads"]
    kv = c["num_key_value_heads"] * hd
    yield "model.embed_tokens.weight", (v, h), False
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        yield p + "input_layernorm.weight", (h,), True
        yield p + "self_attn.q_proj.weight", (h, h), False
        yield p + "self_attn.k_proj.weight", (kv, h), False
        yield p + "self_attn.v_proj.weight", (kv, h), False
        if c.get("qkv_bias"):
            yield p + "self_attn.q_proj.bias", (h,), False
            yield p + "self_attn.k_proj.bias", (kv,), False
            yield p + "self_attn.v_proj.bias", (kv,), False
        yield p + "self_attn.o_proj.weight", (h, h), False
        yield p + "post_attention_layernorm.weight", (h,), True
        yield p + "mlp.gate_proj.weight", (f, h), False
        yield p + "mlp.up_proj.weight", (f, h), False
        yield p + "mlp.down_proj.weight", (h, f), False
    yield "model.norm.weight", (h,), True
    if not c.get("tie_word_embeddings"):
        yield "lm_head.weight", (v, h), False


def bf16(shape, ones, rng):
    if ones:
        x = np.ones(shape, dtype=np.float32)
    else:
        x = rng.standard_normal(shape, dtype=np.float32) * 0.02
    # bf16 is the high half of f32 (round to nearest even).
    u = x.view(np.uint32)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def write_shard(path, items):
    header, offset = {}, 0
    for name, arr in items:
        n = arr.nbytes
        header[name] = {"dtype": "BF16", "shape": list(arr.shape), "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for _, arr in items:
            f.write(arr.tobytes())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--shape", choices=sorted(SHAPES), default="llama3-8b")
    ap.add_argument("--tokenizer-from", help="HF directory to copy tokenizer files from")
    ap.add_argument("--shard-gb", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    c = dict(SHAPES[a.shape])
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    limit = int(a.shard_gb * 2**30)
    shards, current, size = [], [], 0
    for name, shape, ones in tensors(c):
        arr = bf16(shape, ones, rng)
        if current and size + arr.nbytes > limit:
            shards.append(current)
            current, size = [], 0
        current.append((name, arr))
        size += arr.nbytes
        if size > limit:
            shards.append(current)
            current, size = [], 0
    if current:
        shards.append(current)
    weight_map, total = {}, 0
    for i, items in enumerate(shards):
        fname = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        write_shard(out / fname, items)
        for name, arr in items:
            weight_map[name] = fname
            total += arr.nbytes
        del items
    (out / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=1))
    arch = "mistral" if "sliding_window" in c else "qwen2" if c.pop("qkv_bias", False) else "llama"
    if arch == "qwen2":
        c.update(use_sliding_window=False)
    c.update(model_type=arch, architectures=[arch.capitalize() + "ForCausalLM"],
             hidden_act="silu", torch_dtype="bfloat16", bos_token_id=1, eos_token_id=2)
    (out / "config.json").write_text(json.dumps(c, indent=1))
    if a.tokenizer_from:
        src = Path(a.tokenizer_from)
        for f in ["tokenizer.json", "tokenizer_config.json", "generation_config.json"]:
            if (src / f).exists():
                shutil.copy(src / f, out / f)
        gen = src / "generation_config.json"
        if gen.exists():
            # Stop ids come from the tokenizer's model.
            g = json.loads(gen.read_text())
            c["bos_token_id"], c["eos_token_id"] = g.get("bos_token_id"), g.get("eos_token_id")
            (out / "config.json").write_text(json.dumps(c, indent=1))
    print(f"{out}: {len(shards)} shard(s), {total / 1e9:.2f} GB of bf16 weights")


if __name__ == "__main__":
    main()
