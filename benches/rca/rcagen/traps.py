"""Traps: the ordinary things that mislead an on-call engineer (and a naive ranking), added
around the fault. Some are arranged before the run (a loud victim, an hourly job that
fails, a nightly job that has failed the same way for days, a deploy of a healthy service
just before the onset, skewed clocks, a burst of benign warnings); the others are measured
on the generated data afterwards (see scenario.measured_traps)."""

from __future__ import annotations

from .build import _app, _instances
from .faults_base import startup
from .topology import Endpoint, Svc, Topology
from .util import Rec, Rng

ARRANGED = ("loud_victim", "hourly_job_first_error", "chronic_nightly_failure", "coincident_deploy",
            "clock_skew", "benign_warning_burst")
MEASURED = ("blames_healthy_dependency", "cause_quiet", "partial_failure", "cause_absent_from_traces",
            "no_traces", "cause_without_logs", "loud_cause")


def choose(rng: Rng) -> set[str]:
    want = set()
    for trap, p in (("loud_victim", 0.75), ("hourly_job_first_error", 0.45), ("chronic_nightly_failure", 0.35),
                    ("coincident_deploy", 0.4), ("clock_skew", 0.3), ("benign_warning_burst", 0.5)):
        if rng.chance(p):
            want.add(trap)
    return want


def add_job(rng: Rng, topo: Topology, name: str, schedule: str) -> Svc:
    job = _app(rng, name, "cron", topo.layout if topo.layout != "k8s" else "files", None, noun=name.split("-")[0])
    # the trap emits its runs itself (sim.cron would add generic ones)
    job.schedule, job.ns, job.host = "", topo.ns, name
    job.noun = schedule
    job.endpoints.append(Endpoint(job, "PROCESS", name, [], base_ms=800.0))
    _instances(rng, topo, job, 1)
    topo.services.append(job)
    return job


def arrange(rng: Rng, topo: Topology, tpl, want: set[str]) -> dict:
    """Shape the topology for the chosen traps; returns state for `emit`."""
    st: dict = {"want": set(want)}
    if "loud_victim" in want:
        cands = [s for s in tpl.loud_candidates if s.name != tpl.root and s.insts and s.lang in ("java", "python", "go", "node")]
        if cands:
            v = rng.pick(cands)
            v.loud = True
            for d in v.deps:
                d.retries = max(d.retries, rng.randint(2, 3))
            st["loud"] = v.name
        else:
            st["want"].discard("loud_victim")
    if "hourly_job_first_error" in want:
        st["hourly"] = add_job(rng, topo, rng.pick(["report-exporter", "invoice-export", "partner-feed-upload",
                                                    "usage-rollup", "sitemap-publisher"]), "hourly")
    if "chronic_nightly_failure" in want:
        job = add_job(rng, topo, rng.pick(["nightly-reconcile", "ledger-settlement", "db-backup-verify",
                                           "nightly-etl", "gdpr-purge"]), "nightly")
        if topo.layout == "k8s":
            job.fmt, job.fmt_opts, job.lang = "journald-json", {}, "python"
            node = rng.pick([i for s in topo.services if s.role == "node" for i in s.insts] or job.insts)
            job.insts[0].host, job.insts[0].node, job.insts[0].boot = node.host, node.node, node.boot or rng.hexid(16)
        st["nightly"] = job
    if "coincident_deploy" in want:
        c = [s for s in topo.services if s.role in ("api", "frontend", "worker") and s.name != tpl.root and s.insts]
        if c:
            st["deploy"] = rng.pick(c)
        else:
            st["want"].discard("coincident_deploy")
    if "clock_skew" in want:
        insts = [i for s in topo.services if s.role not in ("external",) for i in s.insts]
        for i in rng.sample(insts, min(len(insts), rng.randint(1, 3))):
            i.skew = rng.choice([-1, 1]) * rng.uniform(0.8, 4.0)
        st["skewed"] = True
    if "benign_warning_burst" in want:
        c = [s for s in topo.services if s.name != tpl.root and s.insts and s.role in ("cache", "api", "frontend", "worker", "db")]
        if c:
            st["burst"] = rng.pick(c)
        else:
            st["want"].discard("benign_warning_burst")
    return st


def emit(sim, st: dict, onset: float) -> None:
    rng = sim.rng
    if "hourly" in st:
        _hourly(sim, st["hourly"])
    if "nightly" in st:
        _nightly(sim, st["nightly"])
    if "deploy" in st:
        s: Svc = st["deploy"]
        parts = s.version.split(".")
        newv = f"{parts[0]}.{parts[1]}.{int(parts[2]) + 1}"
        t = onset - rng.uniform(60, 360)
        for k, inst in enumerate(s.insts):
            tt = t + k * rng.uniform(15, 40)
            inst.version = newv
            startup(sim, inst, tt - rng.uniform(3, 20), tt, newv)
        st["deploy_name"] = s.name
    if "burst" in st:
        s = st["burst"]
        inst = rng.pick(s.insts)
        t = onset - rng.uniform(90, 400)
        for _ in range(rng.randint(4, 12)):
            sim.log(inst, _benign_warning(rng, s, t))
            t += rng.uniform(5, 40)
        st["burst_name"] = s.name


def _benign_warning(rng: Rng, s: Svc, t: float) -> Rec:
    if s.lang == "redis":
        return Rec(t, "WARN", f"WARNING: used_memory {rng.randint(1900, 2040)}mb is close to maxmemory 2048mb, evicting keys",
                   native={"sym": "#"})
    if s.lang == "postgres":
        return Rec(t, "WARN", "there is no transaction in progress", native={"pglevel": "WARNING", "pid": rng.randint(3000, 9000)})
    if s.lang == "mysql":
        return Rec(t, "WARN", "Timeout waiting for reply of binlog (file: binlog.000123, pos: 4567), semi-sync up to file "
                   "binlog.000123, position 4000.", native={"code": 11271, "sub": "Repl"})
    if s.lang == "java":
        return Rec(t, "WARN", f"HikariPool-1 - Thread starvation or clock leap detected (housekeeper delta={rng.randint(1, 3)}m"
                   f"{rng.randint(1, 59)}s{rng.randint(1, 999)}ms).", logger="com.zaxxer.hikari.pool.HikariPool",
                   thread="HikariPool-1 housekeeper")
    if s.lang == "go":
        return Rec(t, "WARN", "slow GC cycle", fields={"pause_ms": rng.randint(80, 400), "heap_mb": rng.randint(300, 900)})
    return Rec(t, "WARN", f"event loop lag {rng.randint(200, 900)}ms" if s.lang == "node" else
               f"slow response from cache ({rng.randint(300, 900)} ms)", native={"app": True})


def _job_lines(sim, job: Svc, t: float, error: bool, chronic: bool) -> None:
    rng = sim.rng
    inst = job.insts[0]
    ident = {"ident": job.name, "unit": f"{job.name}.service"}
    recs = [Rec(t, "INFO", f"Starting {job.name}", native=dict(ident, app=True), logger=f"{job.pkg}.jobs.Runner", thread="main")]
    if error:
        target = {"report-exporter": "sftp.reports.example.org", "invoice-export": "sftp.billing.example.org",
                  "partner-feed-upload": "feeds.partner.example.com", "usage-rollup": "warehouse.internal",
                  "sitemap-publisher": "cdn-origin.example.net"}.get(job.name, "sftp.partner.example.com")
        if chronic:
            target = "legacy-billing.internal"
        msg = (f"{job.name} failed: could not connect to {target}:22: [Errno 110] Connection timed out" if not chronic else
               f"{job.name} failed: 3 records rejected by {target}: duplicate settlement reference")
        e = Rec(t + rng.uniform(5, 40), "ERROR", msg, native=dict(ident, app=True), logger=f"{job.pkg}.jobs.Runner", thread="main")
        if job.lang == "java":
            e.exc = ["java.io.IOException: " + msg.split(": ", 1)[1], f"\tat {job.pkg}.jobs.Runner.run(Runner.java:{rng.randint(40, 99)})",
                     "\tat java.base/java.lang.Thread.run(Thread.java:1583)"]
        elif job.lang == "python" and job.fmt != "journald-json":
            e.exc = ["Traceback (most recent call last):", f'  File "/app/{job.name.replace("-", "_")}/main.py", line {rng.randint(20, 90)}, in run',
                     "    upload(batch)", f"TimeoutError: {msg.split(': ', 1)[1]}"] if not chronic else None
        e.chronic = chronic
        recs.append(e)
    for r in recs:
        r.chronic = chronic
        sim.log(inst, r)


def _hourly(sim, job: Svc) -> None:
    t = (int(sim.t0) // 3600) * 3600
    while t < sim.t1:
        if t >= sim.t0:
            _job_lines(sim, job, t + sim.rng.uniform(0.1, 2), error=True, chronic=False)
        t += 3600


def _nightly(sim, job: Svc) -> None:
    day = (int(sim.t0) // 86400) * 86400
    for back in range(sim.rng.randint(3, 7), -1, -1):
        t = day - back * 86400 + 2 * 3600 + sim.rng.uniform(0, 90)
        if t < sim.t1:
            _job_lines(sim, job, t, error=True, chronic=True)
