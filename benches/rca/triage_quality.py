#!/usr/bin/env python3
"""Triage quality per model on generated incident scenarios (see README.md).

Runs `loglens analyze` with LLM triage on each scenario's `logs/` (never its truth or
manifest), once per model, and scores the verdicts against `truth.json`:

- top category right: the first ranked group with a model verdict (not a fallback) that
  calls it an anomaly has a category that fits the truth's (table `FITS` below);
- any category right: some model verdict has a fitting category;
- root service named: the root-cause service appears in a model verdict's summary, root
  cause or affected components;
- fallbacks: verdicts where the detectors' verdict replaced an unusable or failed answer;
- invented ids: identifier-like strings (3+ characters with a digit: ids, addresses,
  times, counts) in a model's summary, root cause or remediation that appear nowhere in
  what it was shown (the evidence lines, the group's template and samples);
- seconds: wall-clock of the whole analyze, and the CPU seconds it used (on a shared
  machine, CPU seconds / threads is what an idle one would take at best).

Prints one JSON line per (model, scenario) and one summary line per model.

    python3 benches/rca/generate.py --out /tmp/rca --seed 7 --count 25
    python3 benches/rca/triage_quality.py /tmp/rca --loglens target/release/loglens \\
        --model smollm2-135m --model qwen2.5-coder-0.5b [--stride 4] [--limit 6] \\
        [--max-groups 3]

Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

# Truth categories (the generator's) -> the verdict categories that fit them.
FITS = {
    "database": {"database"},
    "dns": {"network"},
    "tls": {"credentials/auth", "configuration"},
    "resource_exhaustion": {"resource exhaustion"},
    "storage": {"storage", "resource exhaustion"},
    "configuration": {"configuration", "credentials/auth"},
    "connection_pool": {"resource exhaustion", "database", "application bug"},
    "network": {"network"},
    "broker": {"dependency", "storage", "resource exhaustion"},
    "rate_limit": {"dependency", "resource exhaustion"},
    "bad_deploy": {"application bug", "configuration"},
}

TOKEN_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.:_-]*[0-9A-Za-z]")


def ids_in(text: str) -> set[str]:
    """Identifier-like tokens: 3 characters or more with a digit (ids, addresses, times,
    counts, versions)."""
    return {t for t in TOKEN_RE.findall(text) if len(t) >= 3 and any(c.isdigit() for c in t)}


def shown_text(group: dict) -> str:
    v = group.get("verdict") or {}
    parts = [group.get("template", ""), group.get("component") or ""]
    parts += [s.get("text", "") for s in group.get("samples", [])]
    parts += list(((v.get("meta") or {}).get("evidence") or {}).values())
    return "\n".join(str(p) for p in parts)


def score(report: dict, truth: dict) -> dict:
    fits = FITS.get(truth["category"], set())
    root = truth["root_cause_service"].lower()
    judged = fallbacks = invented = model_verdicts = 0
    top = None
    any_right = named = False
    invented_examples: list[str] = []
    for g in sorted(report.get("groups", []), key=lambda g: g.get("rank", 0)):
        v = g.get("verdict")
        if not v:
            continue
        judged += 1
        meta = v.get("meta") or {}
        if meta.get("fallback") or meta.get("error"):
            fallbacks += 1
            continue
        model_verdicts += 1
        cat = v.get("category")
        if v.get("is_anomaly") and top is None:
            top = cat
        any_right |= cat in fits
        said = " ".join([v.get("summary", ""), v.get("root_cause", "")] + v.get("remediation_steps", []))
        named |= root in (said + " " + " ".join(v.get("affected_components", []))).lower()
        shown = shown_text(g).lower()
        for i in ids_in(said):
            if i.lower() not in shown:
                invented += 1
                if len(invented_examples) < 3:
                    invented_examples.append(i)
    return {
        "truth_category": truth["category"],
        "top_category": top,
        "top_category_right": top in fits,
        "any_category_right": any_right,
        "root_service_named": named,
        "judged": judged,
        "model_verdicts": model_verdicts,
        "fallbacks": fallbacks,
        "invented_ids": invented,
        "invented_examples": invented_examples,
    }


def run(loglens: str, model: str, scenario: str, max_groups: int, threads: int | None) -> dict:
    with tempfile.TemporaryDirectory() as out:
        cmd = [loglens, "analyze", os.path.join(scenario, "logs"), "--model", model, "-q",
               "--no-cache", "--format", "json", "-o", out, "--llm-max-groups", str(max_groups)]
        if threads:
            cmd += ["--threads", str(threads)]
        t = time.perf_counter()
        before = os.times()
        p = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.perf_counter() - t
        after = os.times()
        cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
        path = os.path.join(out, "report.json")
        if not os.path.exists(path):
            return {"error": p.stderr.strip()[-400:], "seconds": seconds}
        with open(path) as f:
            report = json.load(f)
    with open(os.path.join(scenario, "truth.json")) as f:
        truth = json.load(f)
    r = score(report, truth)
    r["seconds"] = round(seconds, 1)
    r["cpu_seconds"] = round(cpu, 1)
    if report.get("triage_error"):
        r["error"] = report["triage_error"]
    return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", help="directory generate.py wrote")
    ap.add_argument("--loglens", default="target/release/loglens")
    ap.add_argument("--model", action="append", required=True, help="repeatable")
    ap.add_argument("--stride", type=int, default=1, help="every K-th scenario (spreads templates)")
    ap.add_argument("--limit", type=int, default=0, help="N scenarios at most (0: all)")
    ap.add_argument("--max-groups", type=int, default=8, help="--llm-max-groups")
    ap.add_argument("--threads", type=int)
    a = ap.parse_args()
    dirs = sorted(d for d in os.listdir(a.scenarios) if os.path.isfile(os.path.join(a.scenarios, d, "truth.json")))
    dirs = dirs[:: max(a.stride, 1)]
    if a.limit:
        dirs = dirs[: a.limit]
    if not dirs:
        print(f"no scenarios in {a.scenarios}", file=sys.stderr)
        return 1
    for model in a.model:
        rows = []
        for d in dirs:
            r = run(a.loglens, model, os.path.join(a.scenarios, d), a.max_groups, a.threads)
            r.update(model=model, scenario=d)
            print(json.dumps(r), flush=True)
            rows.append(r)
        ok = [r for r in rows if "error" not in r]
        total = lambda k: sum(r.get(k, 0) for r in ok)  # noqa: E731
        print(json.dumps({
            "model": model,
            "scenarios": len(rows),
            "errors": len(rows) - len(ok),
            "top_category_right": total("top_category_right"),
            "any_category_right": total("any_category_right"),
            "root_service_named": total("root_service_named"),
            "verdicts": total("judged"),
            "fallbacks": total("fallbacks"),
            "invented_ids": total("invented_ids"),
            "mean_seconds": round(sum(r["seconds"] for r in rows) / len(rows), 1),
            "mean_cpu_seconds": round(sum(r.get("cpu_seconds", 0) for r in rows) / len(rows), 1),
        }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
