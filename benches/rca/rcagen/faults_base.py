"""Shared machinery of the fault templates: the template base class, restarts (with the
start-up lines each stack prints and the kubelet's view of them) and small helpers."""

from __future__ import annotations

from .sim import Effect, Fault, Sim
from .topology import Dep, Inst, Svc, Topology
from .util import Rec, Rng, rfc3339


class Template(Fault):
    """A fault template: metadata, `setup` (choose the root and shape the topology) and
    the runtime hooks of sim.Fault."""

    name = ""
    fault_type = ""
    category = ""
    layouts = ("k8s", "compose", "files")
    needs: set[str] = set()
    flavours: tuple[str, ...] = ()
    description = ""

    def __init__(self, rng: Rng):
        self.rng = rng
        self.root = ""
        self.partial = False
        self.notes: list[str] = []
        self.down_windows: dict[Inst, list[tuple[float, float]]] = {}
        self.path_override: list[str] | None = None
        self.loud_candidates: list[Svc] = []
        self.traps_natural: list[str] = []

    def setup(self, topo: Topology, onset: float, t1: float) -> bool:
        raise NotImplementedError

    def down(self, inst: Inst, t: float) -> list[str] | None:
        for a, b in self.down_windows.get(inst, ()):
            if a <= t < b:
                return [self.root] if inst.svc.name == self.root else self.down_path(inst)
        return None

    def down_path(self, inst: Inst) -> list[str]:
        return [self.root, inst.svc.name]

    def describe(self) -> str:
        return self.description


def restart(sim: Sim, tpl: Template, inst: Inst, t_down: float, t_up: float, reason: str = "") -> None:
    """The instance stops at t_down and is serving again at t_up (start-up lines before)."""
    tpl.down_windows.setdefault(inst, []).append((t_down, t_up))
    inst.restarts.append((t_down, t_up))
    startup(sim, inst, t_up - sim.rng.uniform(3, 25) if inst.svc.lang == "java" else t_up - sim.rng.uniform(0.3, 3), t_up)


def startup(sim: Sim, inst: Inst, t0: float, t_ready: float, version: str = "") -> None:
    s = inst.svc
    v = version or s.version
    rng = sim.rng
    app = "".join(p.capitalize() for p in (s.noun or s.name).split("-")) + "Application"
    steps: list[tuple[str, str, str]] = []
    if s.lang == "java":
        steps = [("INFO", f"{s.pkg}.{app}", f"Starting {app} v{v} using Java 17.0.{rng.randint(8, 12)} with PID {inst.pid} "
                  f"(/app/app.jar started by app in /app)"),
                 ("INFO", f"{s.pkg}.{app}", 'The following 1 profile is active: "prod"'),
                 ("INFO", "org.springframework.boot.web.embedded.tomcat.TomcatWebServer", f"Tomcat initialized with port {s.port} (http)"),
                 ("INFO", "com.zaxxer.hikari.HikariDataSource", "HikariPool-1 - Starting..."),
                 ("INFO", "com.zaxxer.hikari.HikariDataSource", "HikariPool-1 - Start completed."),
                 ("INFO", "org.springframework.boot.web.embedded.tomcat.TomcatWebServer",
                  f"Tomcat started on port {s.port} (http) with context path ''"),
                 ("INFO", f"{s.pkg}.{app}", f"Started {app} in {t_ready - t0:.3f} seconds (process running for {t_ready - t0 + 1.1:.3f})")]
    elif s.fmt == "gunicorn":
        steps = [("INFO", "", "Starting gunicorn 22.0.0"), ("INFO", "", f"Listening at: http://0.0.0.0:{s.port} ({inst.pid})"),
                 ("INFO", "", "Using worker: sync"), ("INFO", "", f"Booting worker with pid: {inst.pid + 6}")]
    elif s.fmt == "uvicorn":
        steps = [("INFO", "", f"Started server process [{inst.pid}]"), ("INFO", "", "Waiting for application startup."),
                 ("INFO", "", "Application startup complete."),
                 ("INFO", "", f"Uvicorn running on http://0.0.0.0:{s.port} (Press CTRL+C to quit)")]
    elif s.fmt == "celery":
        steps = [("INFO", "MainProcess", "Connected to redis://redis:6379/0"), ("INFO", "MainProcess", f"celery@{inst.host} ready.")]
    elif s.lang == "go":
        steps = [("INFO", "", "starting server"), ("INFO", "", "listening")]
    elif s.lang == "node":
        steps = [("INFO", "", f"Server listening at http://0.0.0.0:{s.port}")]
    elif s.lang == "python":
        steps = [("INFO", "", f"Starting {s.name} {v}")]
    if not steps:
        return
    for i, (lvl, lg, msg) in enumerate(steps):
        t = t0 + (t_ready - t0) * i / max(1, len(steps) - 1)
        r = Rec(t, lvl, msg, logger=lg if s.lang == "java" else "", thread="main" if s.lang == "java" else lg)
        if s.lang == "go":
            r.fields = {"addr": f":{s.port}", "version": v}
        r.abnormal = False
        sim.recs[inst].append(r)


def kubelet_inst(topo: Topology, inst: Inst) -> Inst | None:
    for s in topo.services:
        if s.role == "node":
            for k in s.insts:
                if k.node == inst.node:
                    return k
    return None


def kubelet_log(sim: Sim, inst: Inst, t: float, level: str, msg: str, fields: dict | None = None,
                logger: str = "pod_workers.go:1298", ident: str = "kubelet", abnormal: bool = True) -> None:
    k = kubelet_inst(sim.topo, inst)
    if k is None:
        return
    if ident != "kubelet" and k.svc.fmt != "journald-json":
        return
    r = Rec(t, level, msg, logger=logger, fields=dict(fields or {}), native={"ident": ident})
    if k.svc.fmt == "journald-json" and ident == "kubelet":
        # kubelet in the journal: the klog header is part of MESSAGE
        from .formats_app import Klog
        line = Klog().render(r, k)[0]
        r = Rec(t, level, line, native={"ident": "kubelet", "pid": k.pid})
    r.abnormal = abnormal
    sim.recs[k].append(r)


def crashloop_kubelet(sim: Sim, inst: Inst, t: float, backoff: int) -> None:
    pod, ns, c = inst.name, inst.svc.ns, inst.container
    kubelet_log(sim, inst, t, "ERROR", '"Error syncing pod, skipping"',
                {"err": f'failed to "StartContainer" for "{c}" with CrashLoopBackOff: "back-off {backoff}s restarting failed '
                        f'container={c} pod={pod}_{ns}({inst.uid})"', "pod": f"{ns}/{pod}", "podUID": inst.uid})


def users_of(topo: Topology, svc: Svc, kinds: tuple[str, ...] = ()) -> list[Svc]:
    return [s for s in topo.services if any(d.target is svc and (not kinds or d.kind in kinds) for d in s.deps)]


def on_user_path(topo: Topology, svc: Svc) -> bool:
    """Whether requests from the edge reach svc."""
    seen, todo = set(), [topo.entry()]
    while todo:
        s = todo.pop()
        if s is svc:
            return True
        if id(s) in seen:
            continue
        seen.add(id(s))
        todo += [d.target for d in s.deps]
    return False


def ensure_dep(topo: Topology, user: Svc, target: Svc, kind: str, **kw) -> Dep:
    for d in user.deps:
        if d.target is target:
            return d
    d = Dep(target, kind, **kw)
    user.deps.append(d)
    for ep in user.endpoints:
        if user.role in ("worker", "cron") or ep.method in ("POST", "PUT") or not ep.calls:
            ep.calls.append(d)
    if not any(d in ep.calls for ep in user.endpoints) and user.endpoints:
        user.endpoints[0].calls.append(d)
    return d


def eff(kind: str, root: str, **kw) -> Effect:
    return Effect(kind, path=[root], **kw)


def ts_text(t: float) -> str:
    return rfc3339(t, 0)
