"""Writing the rendered logs to disk in one of three collection layouts:

- `k8s`: the kubelet's CRI files, `pods/<namespace>_<pod>_<uid>/<container>/<restart>.log`,
  each line `<RFC3339Nano> <stdout|stderr> F <text>`, a new file per container restart;
  node logs under `nodes/<node>/` (kubelet klog or a journald JSON export).
- `compose`: `docker compose logs` output, `<container> | <text>`, all services in one
  file (optionally with `--timestamps`).
- `files`: one file per service instance (nginx: access.log and error.log).

Also returns the manifest entries the self-check uses (file, format, wrapper, services).
"""

from __future__ import annotations

import os
from collections import defaultdict

from .formats import FORMATS
from .topology import Inst, Topology
from .util import Rec, Rng, rfc3339

STDERR_FORMATS = {"python-logging", "gunicorn", "uvicorn", "celery", "zap", "logrus", "klog", "slog", "coredns",
                  "postgres", "airflow"}


def cri_time(ts: float) -> str:
    """Go's RFC3339Nano: trailing zeros of the fraction are dropped."""
    s = rfc3339(ts, 9)
    head, frac = s[:-1].split(".")
    frac = frac.rstrip("0")
    return f"{head}.{frac}Z" if frac else f"{head}Z"


def render(inst: Inst, recs: list[Rec]) -> list[tuple[float, list[str], str]]:
    """(timestamp, lines, stream) per record, in time order, clock skew applied."""
    fmt = FORMATS[inst.svc.fmt]
    out = []
    for r in sorted(recs, key=lambda r: r.ts):
        r2 = r
        if inst.skew:
            r2 = Rec(**{**r.__dict__, "ts": r.ts + inst.skew})
        lines = fmt.render(r2, inst)
        stream = "stderr" if inst.svc.fmt in STDERR_FORMATS else "stdout"
        if inst.svc.fmt == "nginx" and not r.native.get("access"):
            stream = "stderr"
        if inst.svc.fmt == "gunicorn" and r.native.get("access"):
            stream = "stdout"
        out.append((r2.ts, lines, stream))
    return out


def _segment(inst: Inst, ts: float) -> int:
    n = 0
    for down, _up in sorted(inst.restarts):
        if ts >= down:
            n += 1
    return n


def write(out: str, topo: Topology, recs: dict[Inst, list[Rec]], rng: Rng) -> list[dict]:
    files: dict[str, list[tuple[float, str]]] = defaultdict(list)
    manifest: dict[str, dict] = {}

    def put(path: str, ts: float, text: str, fmt: str, wrapper: str, svc: str, inst: str) -> None:
        files[path].append((ts, text))
        m = manifest.setdefault(path, {"path": path, "format": fmt, "wrapper": wrapper, "services": [], "instances": []})
        if svc not in m["services"]:
            m["services"].append(svc)
        if inst not in m["instances"]:
            m["instances"].append(inst)

    compose_ts = rng.chance(0.3)
    width = max((len(i.name) for s in topo.services for i in s.insts), default=8) + 1
    for s in topo.services:
        for inst in s.insts:
            rendered = render(inst, recs.get(inst, []))
            if not rendered:
                continue
            if topo.layout == "k8s" and s.role == "node":
                path = f"logs/nodes/{inst.node}/{'kubelet.log' if s.fmt == 'klog' else 'journal.json'}"
                for ts, lines, _ in rendered:
                    for ln in lines:
                        put(path, ts, ln, s.fmt, "", s.name, inst.name)
            elif topo.layout == "k8s" and s.role == "cron" and s.fmt == "journald-json":
                path = f"logs/nodes/{inst.node}/journal.json"
                for ts, lines, _ in rendered:
                    for ln in lines:
                        put(path, ts, ln, s.fmt, "", s.name, inst.name)
            elif topo.layout == "k8s":
                base = f"logs/pods/{s.ns}_{inst.name}_{inst.uid}/{inst.container or s.name}"
                for ts, lines, stream in rendered:
                    path = f"{base}/{_segment(inst, ts)}.log"
                    for k, ln in enumerate(lines):
                        put(path, ts, f"{cri_time(ts)} {stream} F {ln}", s.fmt, "cri", s.name, inst.name)
            elif topo.layout == "compose":
                for ts, lines, _ in rendered:
                    for ln in lines:
                        pre = f"{inst.name:<{width}}| "
                        if compose_ts:
                            pre += cri_time(ts) + " "
                        put("logs/compose.log", ts, pre + ln, s.fmt, "compose-ts" if compose_ts else "compose", s.name, inst.name)
            else:
                for ts, lines, stream in rendered:
                    if s.fmt == "nginx":
                        path = f"logs/{inst.name}/{'access' if stream == 'stdout' else 'error'}.log"
                    elif s.fmt == "postgres":
                        path = f"logs/{inst.name}/postgresql.log"
                    else:
                        path = f"logs/{inst.name}.log"
                    for ln in lines:
                        put(path, ts, ln, s.fmt, "", s.name, inst.name)
    entries = []
    for path, items in sorted(files.items()):
        full = os.path.join(out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        items.sort(key=lambda x: x[0])
        with open(full, "w", encoding="utf-8") as f:
            for _, text in items:
                f.write(text + "\n")
        m = manifest[path]
        if path == "logs/compose.log":
            m["formats"] = {i.name: s.fmt for s in topo.services for i in s.insts}
        entries.append(m)
    return entries
