"""One scenario end to end: pick a template, a layout and traps, build the topology, plan
the time window, run the simulation, write logs, traces, the manifest and truth.json."""

from __future__ import annotations

import calendar
import json
import os
from collections import Counter

from . import noise, otlp, traps
from .build import build
from .faults_app import (
    BadConfigCredentials, BadConfigEndpoint, BadDeployException, BadDeployMigration, JvmOom, NodeDiskPressure,
    PoolLeak, PythonOom,
)
from .faults_data import (
    KafkaBrokerDown, MinioDiskFull, MysqlCrash, MysqlSlow, PgCrash, PgDiskFull, PgSlow, RabbitMemoryAlarm, RedisMisconf,
)
from .faults_net import CoreDnsFailure, DnsUpstream, ExternalRateLimit, QuotaHogJob, TlsClientExpired, TlsServerExpired, ZonePartition
from .layout import write
from .sim import Sim
from .util import LEVEL_RANK, Rng, rfc3339

TEMPLATES = [PgCrash, MysqlCrash, PgSlow, MysqlSlow, CoreDnsFailure, DnsUpstream, TlsServerExpired, TlsClientExpired,
             JvmOom, PythonOom, PgDiskFull, MinioDiskFull, RedisMisconf, NodeDiskPressure, BadConfigEndpoint,
             BadConfigCredentials, PoolLeak, ZonePartition, KafkaBrokerDown, RabbitMemoryAlarm, ExternalRateLimit,
             QuotaHogJob, BadDeployException, BadDeployMigration]

CATEGORIES = ["database", "network", "dns", "tls", "resource_exhaustion", "storage", "configuration",
              "connection_pool", "broker", "rate_limit", "bad_deploy"]


def plan_window(rng: Rng, want: set[str]) -> tuple[float, float, float]:
    day = calendar.timegm((2025, rng.randint(1, 12), rng.randint(1, 28), 0, 0, 0))
    if "chronic_nightly_failure" in want:
        hour = 2
    else:
        hour = rng.randint(0, 23)
    mark = day + hour * 3600
    onset = mark + rng.uniform(4, 40) * 60
    if "hourly_job_first_error" in want or "chronic_nightly_failure" in want:
        baseline = rng.uniform(max(15.0, (onset - mark) / 60 + 3), max(20.0, (onset - mark) / 60 + 25)) * 60
    else:
        baseline = rng.uniform(15, 45) * 60
    after = rng.uniform(12, 40) * 60
    total = min(90 * 60, max(30 * 60, baseline + after))
    t0 = round(onset - baseline, 3)
    return t0, round(onset, 3), round(t0 + total if t0 + total > onset + 600 else onset + 600, 3)


def generate(out: str, seed: int, index: int) -> dict:
    rng = Rng(seed * 1000003 + index)
    cls = TEMPLATES[index % len(TEMPLATES)]
    for attempt in range(40):
        tpl = cls(rng)
        layout = rng.pick(list(tpl.layouts))
        size = rng.pick(["small", "medium", "medium", "large"])
        needs = set(tpl.needs)
        topo = build(rng, size, layout, needs)
        want = traps.choose(rng)
        t0, onset, t1 = plan_window(rng, want)
        if tpl.setup(topo, onset, t1):
            break
    else:
        raise RuntimeError(f"template {cls.name} found no suitable topology")
    st = traps.arrange(rng, topo, tpl, want)
    sample = rng.choice([0.02, 0.05, 0.1, 0.2, 0.5])
    sim = Sim(rng, topo, tpl, t0, t1, sample)
    sim.run()
    noise.emit(sim)
    traps.emit(sim, st, onset)
    cap_spans(sim, rng, MAX_SPANS)
    name = f"{index:03d}-{tpl.name}"
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    manifest = write(d, topo, sim.recs, rng)
    trace_mode = rng.choice(["json", "json", "json", "json", "rotated", "pb", "none"])
    tfiles = write_traces(d, sim, topo, rng, trace_mode)
    truth = make_truth(tpl, topo, sim, st, onset, tfiles, manifest)
    with open(os.path.join(d, "truth.json"), "w") as f:
        json.dump(truth, f, indent=2)
        f.write("\n")
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump({"scenario": name, "seed": seed, "index": index, "template": tpl.name, "layout": topo.layout,
                   "window": [rfc3339(t0, 3), rfc3339(t1, 3)], "year": int(rfc3339(t0, 0)[:4]),
                   "services": sorted(s.name for s in topo.services), "logs": manifest, "traces": tfiles}, f, indent=1)
        f.write("\n")
    return truth


MAX_SPANS = 8000


def cap_spans(sim: Sim, rng: Rng, cap: int) -> None:
    """Keep whole traces, chosen at random, until the cap (a collector's sampler would)."""
    if len(sim.spans) <= cap:
        return
    by_trace: dict[str, list] = {}
    for sp in sim.spans:
        by_trace.setdefault(sp.trace_id, []).append(sp)
    ids = sorted(by_trace)
    rng.shuffle(ids)
    keep, n = set(), 0
    for tid in ids:
        if n + len(by_trace[tid]) > cap:
            continue
        keep.add(tid)
        n += len(by_trace[tid])
    sim.spans = [sp for sp in sim.spans if sp.trace_id in keep]


def write_traces(d: str, sim: Sim, topo, rng: Rng, mode: str) -> list[dict]:
    if mode == "none" or not sim.spans:
        return []
    os.makedirs(os.path.join(d, "traces"), exist_ok=True)
    groups = otlp.batches(sim.spans, rng, rng.choice([5.0, 10.0, 15.0]))
    reqs = [otlp.request(g, topo.layout) for g in groups]
    files = []
    if mode in ("json", "rotated"):
        per = len(reqs) if mode == "json" else max(1, len(reqs) // rng.randint(2, 4))
        for k in range(0, len(reqs), per):
            chunk = reqs[k:k + per]
            fname = "traces/traces.json" if k + per >= len(reqs) else \
                f"traces/traces-{rfc3339(sim.t0 + k, 3).replace(':', '-')}.json"
            with open(os.path.join(d, fname), "w") as f:
                for r in chunk:
                    f.write(otlp.to_json_line(r) + "\n")
            files.append({"path": fname, "encoding": "otlp-json"})
    else:
        framed = rng.chance(0.35)
        if framed:
            import struct
            with open(os.path.join(d, "traces/otelcol-traces.binpb"), "wb") as f:
                for r in reqs:
                    b = otlp.pb_request(r)
                    f.write(struct.pack(">I", len(b)) + b)
            files.append({"path": "traces/otelcol-traces.binpb", "encoding": "otlp-proto-length-prefixed"})
        else:
            for k, r in enumerate(reqs):
                fname = f"traces/export-{k:05d}.pb"
                with open(os.path.join(d, fname), "wb") as f:
                    f.write(otlp.pb_request(r))
                files.append({"path": fname, "encoding": "otlp-proto"})
    return files


def propagation_path(tpl, sim: Sim) -> list[str]:
    if tpl.path_override:
        return tpl.path_override
    entry = sim.topo.entry().name
    for counter in (sim.paths, sim.slow_paths):
        to_entry = Counter({p: c for p, c in counter.items() if p[-1] == entry and p[0] == tpl.root})
        if to_entry:
            return list(to_entry.most_common(1)[0][0])
    for counter in (sim.paths, sim.slow_paths):
        rooted = Counter({p: c for p, c in counter.items() if p[0] == tpl.root})
        if rooted:
            return list(max(rooted.items(), key=lambda kv: (len(kv[0]), kv[1]))[0])
    return [tpl.root]


def measured_traps(tpl, topo, sim: Sim, st: dict, path: list[str], tfiles: list[dict]) -> list[str]:
    out = [t for t in traps.ARRANGED if t in st["want"]]
    errs: Counter = Counter()
    first_err = None
    root_levels = Counter()
    for inst, recs in sim.recs.items():
        for r in recs:
            if r.ts < sim.t0:
                continue
            if LEVEL_RANK[r.level] >= LEVEL_RANK["ERROR"]:
                errs[inst.svc.name] += 1
                if first_err is None or r.ts < first_err[0]:
                    first_err = (r.ts, inst.svc.name)
            if inst.svc.name == tpl.root:
                root_levels[r.level] += 1
    if "loud_victim" in out and (not errs or errs.most_common(1)[0][0] == tpl.root):
        out.remove("loud_victim")
    if "hourly_job_first_error" in out and (first_err is None or st.get("hourly") is None
                                            or first_err[1] != st["hourly"].name):
        out.remove("hourly_job_first_error")
    healthy = [b for b in sim.blames if b != tpl.root and b not in path]
    if healthy:
        out.append("blames_healthy_dependency")
    has_logs = any(sim.recs.get(i) for s in topo.services if s.name == tpl.root for i in s.insts)
    if has_logs and root_levels["ERROR"] + root_levels["FATAL"] == 0:
        out.append("cause_quiet")
    if not has_logs:
        out.append("cause_without_logs")
    if tpl.partial:
        out.append("partial_failure")
    if not tfiles:
        out.append("no_traces")
    elif not any(sp.inst.svc.name == tpl.root or tpl.root in (sp.attrs.get("peer.service"), sp.attrs.get("server.address"),
                                                              sp.attrs.get("net.peer.name"))
                 or str(sp.attrs.get("server.address", "")).startswith(tpl.root + ".") for sp in sim.spans):
        out.append("cause_absent_from_traces")
    if errs and errs.most_common(1)[0][0] == tpl.root and "loud_cause" in tpl.traps_natural:
        out.append("loud_cause")
    return out


def make_truth(tpl, topo, sim: Sim, st: dict, onset: float, tfiles, manifest) -> dict:
    path = propagation_path(tpl, sim)
    trap_list = measured_traps(tpl, topo, sim, st, path, tfiles)
    details = {}
    if "loud" in st and "loud_victim" in trap_list:
        details["loud_victim"] = st["loud"]
    if "hourly" in st:
        details["hourly_job"] = st["hourly"].name
    if "nightly" in st:
        details["chronic_service"] = st["nightly"].name
    if st.get("deploy_name"):
        details["coincident_deploy"] = st["deploy_name"]
    if st.get("burst_name"):
        details["benign_warning_burst"] = st["burst_name"]
    healthy = sorted(b for b in sim.blames if b != tpl.root and b not in path)
    if healthy:
        details["blamed_healthy"] = healthy
    root_svc = next((s for s in topo.services if s.name == tpl.root), None)
    return {
        "root_cause_service": tpl.root,
        "category": tpl.category,
        "fault_type": tpl.fault_type,
        "propagation_path": path,
        "onset": rfc3339(onset, 0),
        "traps": trap_list,
        "description": tpl.description,
        "template": tpl.name,
        "user_facing_service": path[-1],
        "root_cause_instances": sorted({i.name for i in tpl.down_windows} & {i.name for i in (root_svc.insts if root_svc else [])})
        or [i.name for i in (root_svc.insts if root_svc else [])],
        "trap_details": details,
        "window": [rfc3339(sim.t0, 0), rfc3339(sim.t1, 0)],
        "requests": sim.nreq,
        "spans": len(sim.spans) if tfiles else 0,
    }
