"""Background records every healthy system writes: health checks, checkpoints, snapshots,
cache refreshes, benign warnings and the odd unrelated error, at steady rates from the
start of the window to its end (so a detector has a baseline)."""

from __future__ import annotations

from typing import Callable

from .topology import Inst, Svc
from .util import Rec, Rng

Gen = Callable[[Rng, Inst, float], Rec | None]


def periodic(sim, inst: Inst, every: float, gen: Gen, jitter: float = 0.1, start: float | None = None) -> None:
    rng = sim.rng
    t = (start if start is not None else sim.t0) + rng.uniform(0, every)
    while t < sim.t1:
        r = gen(rng, inst, t)
        if r is not None and sim.fault.down(inst, t) is None:
            sim.log(inst, r)
        t += every * rng.uniform(1 - jitter, 1 + jitter)


def poisson(sim, inst: Inst, per_hour: float, gen: Gen) -> None:
    if per_hour <= 0:
        return
    rng = sim.rng
    t = sim.t0
    while True:
        t += rng.expovariate(per_hour / 3600.0)
        if t >= sim.t1:
            return
        r = gen(rng, inst, t)
        if r is not None and sim.fault.down(inst, t) is None:
            sim.log(inst, r)


# ---- per technology ------------------------------------------------------------------
def _pg_checkpoint(rng, inst, t):
    w = rng.randint(20, 4000)
    return Rec(t, "INFO", f"checkpoint complete: wrote {w} buffers ({w / 163.84:.1f}%); 0 WAL file(s) added, 0 removed, "
               f"{rng.randint(0, 3)} recycled; write={rng.uniform(0.5, 27):.3f} s, sync={rng.uniform(0, 0.05):.3f} s, "
               f"total={rng.uniform(0.5, 27.1):.3f} s; sync files={rng.randint(3, 60)}, longest=0.00{rng.randint(1, 9)} s, "
               f"average=0.001 s; distance={rng.randint(100, 90000)} kB, estimate={rng.randint(90000, 120000)} kB",
               native={"pid": 27})


def _pg_vacuum(rng, inst, t):
    tables = ["orders", "sessions", "events", "accounts", "line_items", "audit_log"]
    tb = rng.pick(tables)
    db = inst.svc.db_name or "app"
    return Rec(t, "INFO", f'automatic vacuum of table "{db}.public.{tb}": index scans: {rng.randint(0, 1)}',
               native={"pid": rng.randint(3000, 9000)},
               exc=[f"\tpages: 0 removed, {rng.randint(100, 90000)} remain, {rng.randint(10, 900)} scanned ({rng.uniform(0.1, 30):.2f}% of total)",
                    f"\ttuples: {rng.randint(0, 5000)} removed, {rng.randint(1000, 900000)} remain, 0 are dead but not yet removable",
                    f"\tavg read rate: {rng.uniform(0, 20):.3f} MB/s, avg write rate: {rng.uniform(0, 5):.3f} MB/s"])


def _pg_dup(rng, inst, t):
    db = inst.svc.db_name or "app"
    return Rec(t, "ERROR", f'duplicate key value violates unique constraint "{db}_idempotency_key_key"',
               native={"pid": rng.randint(3000, 9000), "who": f"app@{db}",
                       "extra": [("DETAIL", f"Key (idempotency_key)=({rng.hexid(8)}) already exists."),
                                 ("STATEMENT", f"INSERT INTO {db}_requests (idempotency_key, created_at) VALUES ($1, now())")]})


def _mysql_noise(rng, inst, t):
    if rng.chance(0.5):
        return Rec(t, "WARN", f"IP address '10.244.{rng.randint(0, 7)}.{rng.randint(2, 250)}' could not be resolved: "
                   "Name or service not known", native={"code": 10055, "thread": rng.randint(10, 900)})
    return Rec(t, "INFO", f"Aborted connection {rng.randint(100, 99999)} to db: '{inst.svc.db_name or 'app'}' user: 'app' "
               f"host: '10.244.{rng.randint(0, 7)}.{rng.randint(2, 250)}' (Got an error reading communication packets).",
               native={"code": 10914, "thread": rng.randint(10, 900)})


def _redis_save(sim, inst):
    def gen(rng, inst, t):
        pid = rng.randint(100, 9999)
        for i, (lvl, msg) in enumerate([("INFO", f"{rng.randint(1, 10000)} changes in 300 seconds. Saving..."),
                                        ("INFO", f"Background saving started by pid {pid}"),
                                        ("INFO", "DB saved on disk"),
                                        ("INFO", f"Fork CoW for RDB: current {rng.randint(0, 4)} MB, peak {rng.randint(1, 6)} MB, average {rng.randint(0, 3)} MB"),
                                        ("INFO", "Background saving terminated with success")]):
            role = "C" if i in (2, 3) else "M"
            sim.log(inst, Rec(t + i * rng.uniform(0.2, 1.2), lvl, msg, native={"pid": pid if role == "C" else 1, "role": role}))
        return None
    return gen


def _kafka_noise(rng, inst, t):
    bid = inst.name.rsplit("-", 1)[-1]
    if rng.chance(0.5):
        return Rec(t, "INFO", f"[GroupMetadataManager brokerId={bid}] Removed 0 expired offsets in {rng.randint(0, 3)} milliseconds.",
                   logger="kafka.coordinator.group.GroupMetadataManager")
    topic = rng.pick(inst.svc.topics or ["__consumer_offsets"])
    return Rec(t, "INFO", f"[LocalLog partition={topic}-{rng.randint(0, 11)}, dir=/var/lib/kafka/data] Rolled new log segment "
               f"at offset {rng.randint(10 ** 5, 10 ** 8)} in {rng.randint(0, 4)} ms.", logger="kafka.log.LocalLog")


def _rabbit_noise(rng, inst, t):
    epid = f"<0.{rng.randint(1000, 30000)}.0>"
    ip = f"10.244.{rng.randint(0, 7)}.{rng.randint(2, 250)}:{rng.randint(30000, 60999)}"
    return Rec(t, "INFO", rng.pick([f"accepting AMQP connection {epid} ({ip} -> {inst.ip}:5672)",
                                    f"connection {epid} ({ip} -> {inst.ip}:5672): user 'app' authenticated and granted access to vhost '/'",
                                    f"closing AMQP connection {epid} ({ip} -> {inst.ip}:5672, vhost: '/', user: 'app')"]),
               native={"epid": epid})


def _coredns_noise(sim):
    names = [s.host for s in sim.topo.services if s.host and s.role not in ("node", "cni")]

    def gen(rng, inst, t):
        name = rng.pick(names) if names else "kubernetes.default.svc.cluster.local"
        if "." not in name:
            name = f"{name}.{sim.topo.ns}.svc.cluster.local"
        if rng.chance(0.35):
            bogus = f"{name}.{sim.topo.ns}.svc.cluster.local."
            return Rec(t, "INFO", f'10.244.{rng.randint(0, 7)}.{rng.randint(2, 250)}:{rng.randint(30000, 60999)} - '
                       f'{rng.randint(1, 65535)} "AAAA IN {bogus} udp {len(bogus) + 18} false 512" NXDOMAIN qr,aa,rd '
                       f'{len(bogus) + 120} {rng.uniform(0.00005, 0.0004):.6f}s')
        return Rec(t, "INFO", f'10.244.{rng.randint(0, 7)}.{rng.randint(2, 250)}:{rng.randint(30000, 60999)} - '
                   f'{rng.randint(1, 65535)} "A IN {name}. udp {len(name) + 19} false 512" NOERROR qr,aa,rd '
                   f'{len(name) + 60} {rng.uniform(0.00005, 0.0004):.6f}s')
    return gen


def _calico_noise(rng, inst, t):
    if inst.svc.lang == "calico":
        return Rec(t, "INFO", f"Summarising {rng.randint(8, 20)} dataplane reconciliation loops over 1m{rng.uniform(0, 5):.1f}s: "
                   f"avg={rng.randint(3, 30)}ms longest={rng.randint(20, 120)}ms (resync-filter-v4,resync-nat-v4)",
                   logger=f"felix/summary.go {rng.randint(90, 110)}")
    return Rec(t, "INFO", "Regenerating endpoint", fields={"subsys": "endpoint", "reason": "one or more identities created or deleted",
                                                            "endpointID": rng.randint(100, 4000)})


def _kubelet_noise(rng, inst, t):
    if rng.chance(0.5):
        return Rec(t, "INFO", '"Image garbage collection succeeded"', logger="image_gc_manager.go:386",
                   native={"ident": "kubelet"})
    return Rec(t, "INFO", '"Cleaned up orphaned pod volumes dir"', logger="kubelet_volumes.go:163",
               fields={"podUID": rng.uuid()}, native={"ident": "kubelet"})


def _gw_probe(sim, inst):
    def gen(rng, inst, t):
        a = {"method": "GET", "path": rng.pick(["/healthz", "/nginx_status", "/ready"]) if inst.svc.lang == "nginx" else "/ready",
             "status": 200, "bytes": 2, "dur": 0.0, "client": f"10.0.{rng.randint(0, 3)}.1", "ua": "kube-probe/1.29",
             "req_id": rng.hexid(16)}
        return Rec(t, "INFO", "", native={"access": a})
    return gen


def _gw_scanner(rng, inst, t):
    a = {"method": rng.pick(["GET", "GET", "POST"]), "path": rng.pick(["/wp-login.php", "/.env", "/admin/config.php",
                                                                       "/favicon.ico", "/robots.txt", "/.git/config"]),
         "status": rng.pick([404, 404, 404, 403, 499]), "bytes": rng.randint(0, 600), "dur": rng.uniform(0, 0.02),
         "client": f"{rng.pick(['203.0.113', '198.51.100'])}.{rng.randint(1, 254)}",
         "ua": rng.pick(["Mozilla/5.0 zgrab/0.x", "python-requests/2.25.1", "curl/7.68.0"]), "req_id": rng.hexid(16)}
    return Rec(t, "INFO", "", native={"access": a})


def _app_benign(rng, inst, t):
    s = inst.svc
    if s.lang == "java":
        return Rec(t, "WARN", "Resolved [org.springframework.web.bind.MissingServletRequestParameterException: Required "
                   "request parameter 'id' for method parameter type String is not present]",
                   logger="org.springframework.web.servlet.mvc.support.DefaultHandlerExceptionResolver",
                   thread=f"http-nio-{s.port}-exec-{rng.randint(1, 200)}")
    if s.lang == "python":
        return Rec(t, "WARN", rng.pick([f"Connection pool is full, discarding connection: {rng.pick(['localhost', s.host])}. "
                                        "Connection pool size: 10", f"invalid promo code '{rng.alnum(6).upper()}' for user {rng.randint(1000, 99999)}"]),
                   logger=rng.pick(["urllib3.connectionpool", f"{(s.noun or 'app').split('-')[0]}.api"]), native={"app": True})
    if s.lang == "node":
        return Rec(t, "WARN", "request aborted by client", fields={"url": f"/api/{s.noun or 'items'}"})
    return Rec(t, "WARN", "validation failed", fields={"error": rng.pick(["invalid quantity", "missing field: currency",
                                                                          "unknown sort key"])})


def _app_chronic_error(rng, inst, t):
    s = inst.svc
    msg = rng.pick(["Failed to publish analytics event: request timed out after 2000 ms",
                    "Could not refresh feature flags, keeping cached values"])
    if s.lang == "java":
        return Rec(t, "ERROR", msg, logger=f"{s.pkg}.telemetry.AnalyticsPublisher", thread="analytics-1")
    if s.lang == "go":
        return Rec(t, "ERROR", "analytics publish failed", fields={"error": "context deadline exceeded"})
    return Rec(t, "ERROR", msg, native={"app": True})


def _app_periodic(rng, inst, t):
    s = inst.svc
    if s.lang == "java":
        return Rec(t, "INFO", f"Refreshed {rng.randint(100, 9000)} {(s.noun or 'config').split('-')[0]} cache entries in "
                   f"{rng.randint(5, 400)} ms", logger=f"{s.pkg}.cache.CacheRefresher", thread="scheduling-1")
    if s.lang == "go":
        return Rec(t, "INFO", "cache refreshed", fields={"entries": rng.randint(100, 9000), "took": f"{rng.randint(2, 300)}ms"})
    if s.fmt == "celery":
        return Rec(t, "INFO", "Events of group {task} enabled by remote.", thread="MainProcess")
    return Rec(t, "INFO", f"refreshed configuration ({rng.randint(10, 90)} keys)", native={"app": True})


def emit(sim) -> None:
    rng = sim.rng
    for s in sim.topo.services:
        for inst in s.insts:
            _emit_inst(sim, rng, s, inst)


def _emit_inst(sim, rng: Rng, s: Svc, inst: Inst) -> None:
    if s.lang == "postgres":
        periodic(sim, inst, 300, lambda r, i, t: Rec(t, "INFO", "checkpoint starting: time", native={"pid": 27}))
        periodic(sim, inst, 300, _pg_checkpoint)
        poisson(sim, inst, rng.uniform(2, 10), _pg_vacuum)
        poisson(sim, inst, rng.uniform(0, 6), _pg_dup)
    elif s.lang == "mysql":
        poisson(sim, inst, rng.uniform(5, 30), _mysql_noise)
    elif s.lang == "redis":
        periodic(sim, inst, rng.choice([60, 300]), _redis_save(sim, inst))
    elif s.lang == "kafka":
        poisson(sim, inst, rng.uniform(10, 40), _kafka_noise)
    elif s.lang == "rabbitmq":
        poisson(sim, inst, rng.uniform(10, 60), _rabbit_noise)
    elif s.lang == "coredns" and rng.chance(0.7):
        poisson(sim, inst, rng.uniform(60, 400), _coredns_noise(sim))
    elif s.role == "cni":
        periodic(sim, inst, 60 if s.lang == "calico" else 300, _calico_noise)
    elif s.role == "node":
        poisson(sim, inst, rng.uniform(2, 12), _kubelet_noise)
    elif s.role == "gateway":
        periodic(sim, inst, 10, _gw_probe(sim, inst), jitter=0.02)
        poisson(sim, inst, rng.uniform(5, 60), _gw_scanner)
    elif s.role in ("api", "frontend", "worker"):
        poisson(sim, inst, rng.uniform(0.5, 6), _app_benign)
        periodic(sim, inst, rng.choice([120, 300, 600]), _app_periodic)
        if rng.chance(0.25):
            poisson(sim, inst, rng.uniform(1, 6), _app_chronic_error)
