"""The traffic simulation: user requests enter at the edge proxy and walk the call graph;
each hop asks the fault whether it is affected, records spans, logs what that service would
log, and hands its outcome back to its caller. Outcomes caused by the fault carry the path
they took (root cause first), which is how the ground truth's propagation path is found.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from . import applog
from .lang import Target
from .topology import Dep, Endpoint, Inst, Svc, Topology
from .util import Rec, Rng

RETRYABLE = {"timeout", "connect_timeout", "refused", "reset", "dns", "http", "unavailable", "kafka", "ratelimit"}


@dataclass
class Effect:
    """What the fault does to one call or one request: an error kind (see lang.KINDS) or
    `slow`, added latency, a status, a server-side message and the path so far."""

    kind: str
    latency: float = 0.0
    status: int = 0
    detail: str = ""
    path: list[str] = field(default_factory=list)
    server_log: bool = True
    etype: str = ""  # an exception the service itself throws (bad deploys)
    host: str = ""   # the address the caller really dialled, when a setting is wrong
    port: int = 0


@dataclass
class Result:
    ok: bool
    t_end: float
    status: int = 200
    kind: str = ""
    detail: str = ""
    path: list[str] | None = None  # set when the fault shaped this outcome
    err: Any = None  # the caller-side lang.Err, once built


@dataclass
class Span:
    inst: Inst
    trace_id: str
    span_id: str
    parent: str
    name: str
    kind: int  # 1 internal 2 server 3 client 4 producer 5 consumer
    start: float
    end: float
    attrs: dict[str, Any]
    status: int = 0
    status_msg: str = ""
    events: list[tuple[float, str, dict]] = field(default_factory=list)
    scope: str = ""


@dataclass
class Ctx:
    trace_id: str
    sampled: bool


class Fault:
    """Base class of the fault templates' runtime behaviour (all hooks optional)."""

    root = ""

    def server_effect(self, sim: "Sim", inst: Inst, ep: Endpoint, t: float) -> Effect | None:
        return None

    def edge_effect(self, sim: "Sim", inst: Inst, dep: Dep, callee: Inst | None, t: float) -> Effect | None:
        return None

    def leaf_effect(self, sim: "Sim", inst: Inst, dep: Dep, t: float) -> Effect | None:
        return None

    def down(self, inst: Inst, t: float) -> list[str] | None:
        return None

    def emit(self, sim: "Sim") -> None:
        pass

    def load(self, t: float) -> float:
        return 1.0


class Sim:
    def __init__(self, rng: Rng, topo: Topology, fault: Fault, t0: float, t1: float, sample: float):
        self.rng, self.topo, self.fault, self.t0, self.t1, self.sample = rng, topo, fault, t0, t1, sample
        self.recs: dict[Inst, list[Rec]] = defaultdict(list)
        self.spans: list[Span] = []
        self.paths: Counter = Counter()
        self.slow_paths: Counter = Counter()
        self.blames: Counter = Counter()
        self.rate = rng.uniform(0.25, 1.0)
        self.nreq = 0

    # ---- logging and spans -------------------------------------------------------------
    def log(self, inst: Inst, rec: Rec) -> None:
        if rec.ts < self.t0 - 1 and not rec.chronic:
            return
        if rec.ts > self.t1:
            return
        self.recs[inst].append(rec)

    def span(self, inst: Inst, ctx: Ctx, parent: str, name: str, kind: int, start: float, end: float,
             attrs: dict, scope: str, err: str = "", exc: tuple[str, str, str] | None = None,
             sid: str = "") -> str:
        sid = sid or self.rng.hexid(8)
        if ctx.sampled and inst.svc.instrumented:
            sp = Span(inst, ctx.trace_id, sid, parent, name, kind, start, max(end, start + 1e-5), attrs, scope=scope)
            if err:
                sp.status, sp.status_msg = 2, err
                if exc:
                    ev = {"exception.type": exc[0], "exception.message": exc[1]}
                    if exc[2]:
                        ev["exception.stacktrace"] = exc[2]
                    sp.events.append((end, "exception", ev))
            self.spans.append(sp)
        return sid

    def target(self, caller: Inst, dep: Dep, callee: Inst | None) -> Target:
        s = dep.target
        ip = callee.ip if callee else self.rng.ip("10.96")
        ep_path = "/"
        method = "GET"
        if s.endpoints and dep.kind in ("http", "grpc"):
            ep = self.rng.pick(s.endpoints)
            ep_path, method = ep.route.replace("{id}", str(self.rng.randrange(1000, 99999))), ep.method
        if dep.kind == "ext":
            ep_path, method = f"/v{self.rng.randint(1, 3)}/{s.noun or 'api'}", self.rng.pick(["GET", "POST"])
        return Target(s.name, s.host, s.port, dep.kind, ep_path, method, ip,
                      {"postgres": "postgresql", "mysql": "mysql", "redis": "redis"}.get(s.lang, ""), s.db_name,
                      dep.topic, "warehouse", "https" if dep.kind == "ext" or s.tls else "http")

    # ---- the run -----------------------------------------------------------------------
    def run(self) -> None:
        gw = self.topo.entry()
        t = self.t0
        while True:
            t += self.rng.expovariate(self.rate * self.fault.load(t))
            if t >= self.t1 - 2:
                break
            self.nreq += 1
            ep = self._pick_ep(gw)
            inst = self.rng.pick(gw.insts)
            ctx = Ctx(self.rng.hexid(16), self.rng.random() < self.sample)
            r = self.handle(inst, ep, t, ctx, "", client=self._public_ip())
            self.outcome(r)
        for s in self.topo.role("cron"):
            self.cron(s)
        self.fault.emit(self)

    def outcome(self, r: Result) -> None:
        """Count the path of a top-level outcome the fault shaped (failed, or only slow)."""
        if r.path:
            (self.paths if not r.ok else self.slow_paths)[tuple(r.path)] += 1

    def _public_ip(self) -> str:
        return f"{self.rng.choice(['203.0.113', '198.51.100', '192.0.2'])}.{self.rng.randrange(1, 255)}"

    def _pick_ep(self, svc: Svc) -> Endpoint:
        total = sum(e.weight for e in svc.endpoints)
        x = self.rng.random() * total
        for e in svc.endpoints:
            x -= e.weight
            if x <= 0:
                return e
        return svc.endpoints[-1]

    def cron(self, s: Svc) -> None:
        for t in applog.schedule_times(s, self.t0, self.t1, self.rng):
            inst = s.insts[0]
            ctx = Ctx(self.rng.hexid(16), self.rng.random() < max(self.sample, 0.5))
            applog.job_start(self, inst, t)
            r = self.handle(inst, s.endpoints[0], t + 0.2, ctx, "", client="", job=True)
            self.outcome(r)
            applog.job_end(self, inst, r)

    # ---- one service handling one request ----------------------------------------------
    def handle(self, inst: Inst, ep: Endpoint, t: float, ctx: Ctx, parent: str, client: str,
               job: bool = False, consumer_of: Dep | None = None) -> Result:
        svc = inst.svc
        if not svc.instrumented:
            ctx = Ctx(ctx.trace_id if svc.role == "gateway" else self.rng.hexid(16), ctx.sampled)
        own = self.rng.lognormal_ms(ep.base_ms, 0.45) / 1000.0
        eff = self.fault.server_effect(self, inst, ep, t)
        sid = self.rng.hexid(8)
        cur = t + own * 0.4
        status, res_kind, res_detail, path, cause = 200, "", "", None, None
        if eff and eff.kind == "slow":
            own += eff.latency
            path = list(eff.path)
        elif eff:
            status, res_kind, res_detail, path = eff.status or 500, eff.kind, eff.detail, list(eff.path)
            cur += eff.latency
            if eff.server_log:
                applog.own_error(self, inst, ep, cur, ctx, sid, eff)
        if not eff or eff.kind == "slow":
            for dep in ep.calls:
                r = self.call(inst, dep, cur, ctx, sid)
                cur = r.t_end
                if r.ok and r.path and path is None:
                    path = extend(r.path, svc.name)
                if r.ok:
                    continue
                if dep.optional:
                    applog.fallback(self, inst, dep, r, cur, ctx, sid)
                    continue
                status = applog.status_for(svc, r)
                res_kind, cause = "http", (dep, r)
                path = extend(r.path, svc.name) if r.path else None
                break
            if ep.publish and status < 500:
                r = self.call(inst, ep.publish, cur, ctx, sid)
                cur = r.t_end
                if not r.ok:
                    status, res_kind, cause = 500, "http", (ep.publish, r)
                    path = extend(r.path, svc.name) if r.path else None
        t_end = cur + own * 0.6
        ok = status < 500
        if cause:
            applog.failed(self, inst, ep, cause[0], cause[1], t_end, ctx, sid, path is not None)
        if consumer_of is not None:
            applog.consumed(self, inst, ep, t, t_end, ok, ctx, sid)
        elif not job:
            applog.served(self, inst, ep, t, t_end, status, client, ctx, sid, cause)
        if consumer_of is not None:
            name, kind, attrs, scope = applog.consumer_span(svc, consumer_of)
        else:
            name, kind, attrs, scope = applog.server_span(svc, ep, status, client, job)
        err = f"HTTP {status}" if status >= 500 else ""
        self.span(inst, ctx, parent, name, kind, t, t_end, attrs, scope, err, sid=sid)
        return Result(ok, t_end, status, res_kind or ("http" if not ok else ""), res_detail, path)

    # ---- one outgoing call (with retries) ----------------------------------------------
    def call(self, inst: Inst, dep: Dep, t: float, ctx: Ctx, parent: str) -> Result:
        r = Result(True, t)
        for attempt in range(dep.retries + 1):
            r = self._attempt(inst, dep, t, ctx, parent)
            if r.ok or r.kind not in RETRYABLE or attempt == dep.retries:
                break
            applog.retrying(self, inst, dep, r, attempt + 1, ctx, parent)
            t = r.t_end + min(0.1 * (2 ** attempt), 2.0) * self.rng.uniform(0.5, 1.5)
        return r

    def _attempt(self, inst: Inst, dep: Dep, t: float, ctx: Ctx, parent: str) -> Result:
        s = dep.target
        callee = self.rng.pick(s.insts) if s.insts and s.role not in ("db", "cache", "objstore", "external") else \
            (s.insts[0] if s.insts else None)
        tgt = self.target(inst, dep, callee)
        csid = self.rng.hexid(8)
        edge = self.fault.edge_effect(self, inst, dep, callee, t)
        net = self.rng.uniform(0.0004, 0.002)
        if edge and edge.host:
            tgt.host, tgt.port = edge.host, edge.port or tgt.port
        if edge:
            r = Result(False, t + edge.latency + net, edge.status, edge.kind, edge.detail, list(edge.path) or None)
        elif s.role in ("api", "frontend", "worker", "gateway") and callee is not None:
            down = self.fault.down(callee, t)
            if down is not None:
                r = Result(False, t + net, 0, "refused", "", down)
            else:
                child = Ctx(ctx.trace_id, ctx.sampled) if inst.svc.instrumented else Ctx(self.rng.hexid(16), ctx.sampled)
                ep = self.rng.pick(s.endpoints)
                inner = self.handle(callee, ep, t + net, child, csid if inst.svc.instrumented else "",
                                    client=inst.ip)
                r = Result(inner.ok, inner.t_end + net, inner.status, "" if inner.ok else "http", inner.detail, inner.path)
                if inner.t_end - t > dep.timeout:
                    r = Result(False, t + dep.timeout, 0, "timeout", "", inner.path)
        else:
            r = self._leaf(inst, dep, t, tgt)
        err = applog.client_failure(self, inst, dep, tgt, r) if not r.ok else None
        name, kind, attrs, scope = applog.client_span(self, inst.svc, dep, tgt, r)
        self.span(inst, ctx, parent, name, kind, t, r.t_end, attrs, scope,
                  err.emsg[:200] if err else "", (err.etype, err.emsg, "\n".join(err.lines)) if err else None,
                  sid=csid)
        if r.ok and dep.kind in ("kafka", "amqp"):
            self._deliver(dep, r.t_end, ctx, csid if inst.svc.instrumented else "")
        if not r.ok and r.path:
            self.blames[s.name] += 1
        return r

    def _leaf(self, inst: Inst, dep: Dep, t: float, tgt: Target) -> Result:
        base = {"sql": 0.004, "redis": 0.0008, "kafka": 0.006, "amqp": 0.003, "s3": 0.04, "ext": 0.12}.get(dep.kind, 0.01)
        lat = self.rng.lognormal_ms(base * 1000, 0.5) / 1000.0
        eff = self.fault.leaf_effect(self, inst, dep, t)
        if eff is None:
            return Result(True, t + lat, 200)
        path = list(eff.path) or None
        if eff.kind == "slow":
            lat += eff.latency
            if lat > dep.timeout:
                return Result(False, t + dep.timeout, 0, "timeout" if dep.kind != "sql" else "db",
                              "ERROR: canceling statement due to statement timeout" if tgt.db_system == "postgresql" else "",
                              path)
            return Result(True, t + lat, 200, path=path)
        return Result(False, t + lat + eff.latency, eff.status, eff.kind, eff.detail, path)

    def _deliver(self, dep: Dep, t: float, ctx: Ctx, parent: str) -> None:
        workers = [w for w in self.topo.role("worker") if w.consumes == dep.topic]
        for w in workers:
            inst = self.rng.pick(w.insts)
            lag = self.rng.uniform(0.01, 0.8)
            r = self.handle(inst, w.endpoints[0], t + lag, Ctx(ctx.trace_id, ctx.sampled), parent, client="",
                            consumer_of=dep)
            self.outcome(r)


def extend(path: list[str] | None, name: str) -> list[str] | None:
    """The path one hop further up, unless this service is already its last element."""
    if not path:
        return None
    return path if path[-1] == name else path + [name]
