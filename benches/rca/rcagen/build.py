"""Builds a randomised request-serving topology (see topology.py for the shapes)."""

from __future__ import annotations

from .topology import (
    EXTERNALS, FLAVOURS, FRONTENDS, ZONESETS, Dep, Endpoint, Inst, Namer, Svc, Topology,
    fmt_for, pick_lang,
)
from .util import Rng

SIZES = {"small": (3, 5), "medium": (6, 9), "large": (10, 16)}
STATEFUL = ("db", "cache", "broker", "objstore")


def build(rng: Rng, size: str, layout: str, needs: set[str], flavour: str | None = None) -> Topology:
    flavour = flavour or rng.pick(sorted(FLAVOURS))
    namer = Namer(rng)
    lo, hi = SIZES[size]
    n_api = rng.randint(lo, hi)
    nouns = rng.sample(FLAVOURS[flavour], min(n_api, len(FLAVOURS[flavour])))
    zones = rng.pick(ZONESETS)
    ns = rng.pick(["prod", "default", "apps", flavour, f"{flavour}-prod"])
    nodes = _nodes(rng, zones, layout, size)
    topo = Topology([], zones, nodes, layout, ns, flavour)
    fqdn = layout == "k8s" and rng.chance(0.35)

    def add(svc: Svc, replicas: int) -> Svc:
        svc.ns = svc.ns or ns
        if not svc.host:
            svc.host = f"{svc.name}.{ns}.svc.cluster.local" if fqdn and svc.role not in ("external",) else svc.name
        _instances(rng, topo, svc, replicas)
        topo.services.append(svc)
        return svc

    # stores and infrastructure
    dbs = []
    n_db = 1 if size == "small" else rng.randint(1, 3)
    want_mysql = "mysql" in needs
    for i in range(n_db):
        kind = "mysql" if (want_mysql and i == 0) or (not want_mysql and rng.chance(0.25)) else "postgres"
        if "postgres" in needs and i == 0:
            kind = "postgres"
        base = nouns[i % len(nouns)]
        name = namer.take(rng.pick([f"{base}-db", f"{base}-{'pg' if kind == 'postgres' else 'mysql'}",
                                    "postgres" if kind == "postgres" else "mysql"]), "")
        dbs.append(add(Svc(name, "db", kind, kind, {"userdb": rng.chance(0.4)}, port=5432 if kind == "postgres" else 3306,
                           instrumented=False, db_name=base.replace("-", "_")), 1))
    cache = None
    if "redis" in needs or rng.chance(0.7):
        cache = add(Svc(namer.take(rng.pick(["redis", "redis-cache", "cache", "session-redis"]), ""), "cache", "redis",
                        "redis", port=6379, instrumented=False), 1)
    broker = None
    if "kafka" in needs or ("rabbitmq" not in needs and size != "small" and rng.chance(0.45)):
        broker = add(Svc(namer.take("kafka", ""), "broker", "kafka", "kafka", port=9092, instrumented=False), 3)
    elif "rabbitmq" in needs or (size != "small" and rng.chance(0.25)):
        broker = add(Svc(namer.take("rabbitmq", ""), "broker", "rabbitmq", "rabbitmq", port=5672, instrumented=False), 1)
    store = None
    if "minio" in needs or rng.chance(0.25):
        store = add(Svc(namer.take(rng.pick(["minio", "object-store", "s3-minio"]), ""), "objstore", "minio",
                        "minio" if layout == "k8s" and rng.chance(0.6) else "minio-json", port=9000,
                        instrumented=False), 1 if rng.chance(0.6) else 4)
    exts = []
    for key in rng.sample(sorted(EXTERNALS), 1 if "external" in needs else rng.choice([0, 1, 1, 2])):
        exts.append(add(Svc(EXTERNALS[key].split(".")[-3], "external", "external", "", host=EXTERNALS[key], port=443,
                            instrumented=False, noun=key), 0))

    # request path
    gw_kind = rng.pick(["nginx", "envoy"] if layout != "k8s" else ["ingress-nginx", "envoy", "ingress-nginx"])
    if gw_kind == "ingress-nginx":
        gw = add(Svc("ingress-nginx-controller", "gateway", "nginx", "nginx", {"ingress": True}, port=80,
                     access_log=True, instrumented=rng.chance(0.5), ns="ingress-nginx"), rng.randint(1, 3))
    elif gw_kind == "envoy":
        gw = add(Svc(rng.pick(["envoy", "edge-proxy", "envoy-gateway", "api-gateway"]), "gateway", "envoy", "envoy",
                     port=8080, access_log=True, instrumented=rng.chance(0.7)), rng.randint(1, 3))
    else:
        gw = add(Svc(rng.pick(["nginx", "edge", "lb"]), "gateway", "nginx", "nginx", {"timing": rng.chance(0.5)},
                     port=80, access_log=True, instrumented=False), rng.randint(1, 2))
    fronts = []
    for fname in rng.sample(FRONTENDS, 1 if size == "small" else rng.randint(1, 2)):
        fronts.append(add(_app(rng, namer.take(fname, ""), "frontend", layout, "node" if rng.chance(0.4) else None),
                          rng.randint(1, 3)))
    apis = [add(_app(rng, namer.take(n), "api", layout, None, noun=n), rng.choice([1, 2, 2, 3, 4])) for n in nouns]

    # wiring
    for i, api in enumerate(apis):
        for other in apis[i + 1:]:
            if rng.chance(0.28 if size != "large" else 0.16):
                api.deps.append(Dep(other, "grpc" if api.lang in ("go", "java") and rng.chance(0.3) else "http",
                                    timeout=rng.choice([2.0, 3.0, 5.0, 10.0]), retries=rng.choice([0, 0, 1, 2])))
    for i, db in enumerate(dbs):
        users = [a for j, a in enumerate(apis) if j % len(dbs) == i]
        for a in users:
            a.deps.append(Dep(db, "sql", timeout=rng.choice([5.0, 10.0, 30.0])))
            a.db_name = db.db_name
        if rng.chance(0.4) and len(apis) > len(dbs):
            extra = rng.pick(apis)
            if not any(d.target is db for d in extra.deps):
                extra.deps.append(Dep(db, "sql", timeout=10.0))
    if cache:
        for a in rng.sample(apis + fronts, max(1, len(apis) // 2)):
            a.deps.append(Dep(cache, "redis", optional=rng.chance(0.5), timeout=1.0))
    for f in fronts:
        for a in rng.sample(apis, min(len(apis), rng.randint(2, 5))):
            f.deps.append(Dep(a, "http", timeout=rng.choice([3.0, 5.0, 10.0, 15.0]), retries=rng.choice([0, 1, 2])))
    called = {id(d.target) for s in topo.services for d in s.deps}
    for a in apis:
        if id(a) not in called:
            rng.pick(fronts).deps.append(Dep(a, "http", timeout=10.0, retries=rng.choice([0, 1])))
    for f in fronts:
        gw.deps.append(Dep(f, "http", timeout=rng.choice([15.0, 30.0, 60.0])))
    for a in rng.sample(apis, min(2, len(apis))):
        if rng.chance(0.5):
            gw.deps.append(Dep(a, "http", timeout=30.0))
    if broker:
        _wire_broker(rng, topo, namer, broker, apis, dbs, exts, layout, add)
    if store:
        for a in rng.sample([s for s in topo.services if s.role in ("api", "worker")], rng.randint(1, 2)):
            a.deps.append(Dep(store, "s3", timeout=30.0, retries=rng.choice([0, 2, 3])))
    for e in exts:
        for a in rng.sample([s for s in topo.services if s.role in ("api", "worker")], rng.randint(1, 2)):
            a.deps.append(Dep(e, "ext", timeout=rng.choice([5.0, 10.0, 20.0]), retries=rng.choice([0, 1, 2, 3])))
    for s in topo.services:
        _endpoints(rng, s)
    if layout == "k8s":
        _k8s_infra(rng, topo, add)
    return topo


def _app(rng: Rng, name: str, role: str, layout: str, lang: str | None, noun: str = "") -> Svc:
    lang = lang or pick_lang(rng)
    fmt, opts = fmt_for(rng, lang, layout)
    logs_trace = fmt in ("logback",) or (fmt == "python-logging" and opts.get("otel")) or \
        (fmt in ("zap", "pino", "slog", "logrus") and rng.chance(0.5))
    company = rng.pick(["acme", "example", "corp", "shopco", "northwind"])
    return Svc(name, role, lang, fmt, opts, port={"java": 8080, "python": 8000, "go": 8080, "node": 3000}[lang],
               instrumented=rng.chance(0.85), logs_trace=bool(logs_trace), old_semconv=rng.chance(0.25),
               version=f"{rng.randint(1, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
               access_log=fmt in ("gunicorn", "uvicorn") or (fmt == "pino" and rng.chance(0.7)),
               info_rate=rng.choice([0.02, 0.05, 0.1, 0.2]), pkg=f"com.{company}.{(noun or name).split('-')[0]}",
               noun=noun or name)


def _wire_broker(rng, topo, namer, broker, apis, dbs, exts, layout, add):
    producers = rng.sample(apis, min(len(apis), rng.randint(1, 2)))
    for p in producers:
        topic = f"{p.noun or p.name}.events" if broker.lang == "kafka" else f"{p.noun or p.name}-jobs"
        broker.topics.append(topic)
        p.deps.append(Dep(broker, "kafka" if broker.lang == "kafka" else "amqp", timeout=5.0, topic=topic))
        w = add(_app(rng, namer.take(f"{p.noun or p.name}-{rng.pick(['worker', 'consumer', 'processor'])}", ""),
                     "worker", layout, "python" if rng.chance(0.3) else None, noun=p.noun), rng.randint(1, 3))
        if w.lang == "python" and rng.chance(0.6):
            w.fmt, w.fmt_opts = "celery", {}
        w.consumes = topic
        if dbs:
            w.deps.append(Dep(rng.pick(dbs), "sql", timeout=10.0))
        if exts and rng.chance(0.5):
            w.deps.append(Dep(rng.pick(exts), "ext", timeout=10.0, retries=2))


def _endpoints(rng: Rng, s: Svc) -> None:
    noun = (s.noun or s.name).split("-")[0]
    if s.role == "gateway":
        for d in s.deps:
            s.endpoints.append(Endpoint(s, "GET", "/", [d], weight=3.0 if d.target.role == "frontend" else 1.0, base_ms=0.5))
    elif s.role in ("frontend", "api"):
        shapes = [("GET", f"/api/v1/{noun}/{{id}}"), ("GET", f"/api/v1/{noun}"), ("POST", f"/api/v1/{noun}"),
                  ("PUT", f"/api/v1/{noun}/{{id}}"), ("GET", f"/api/v1/{noun}/{{id}}/summary")]
        if s.role == "frontend":
            shapes = [("GET", "/"), ("GET", "/product/{id}"), ("POST", "/api/cart"), ("GET", "/account"),
                      ("GET", "/search"), ("POST", "/checkout")]
        produce = [d for d in s.deps if d.kind in ("kafka", "amqp")]
        for method, route in rng.sample(shapes, rng.randint(2, min(4, len(shapes)))):
            sync = [d for d in s.deps if d.kind not in ("kafka", "amqp")]
            calls = [d for d in sync if d.kind == "sql" or rng.chance(0.55)]
            if not calls and sync:
                calls = [rng.pick(sync)]
            pub = produce[0] if produce and method in ("POST", "PUT") else None
            s.endpoints.append(Endpoint(s, method, route, calls, pub, weight=3.0 if method == "GET" else 1.0,
                                        base_ms=rng.choice([3.0, 6.0, 12.0, 25.0])))
        if produce and not any(e.publish for e in s.endpoints):
            s.endpoints[0].publish = produce[0]
    elif s.role in ("worker", "cron"):
        s.endpoints.append(Endpoint(s, "PROCESS", s.consumes or s.name, [d for d in s.deps], base_ms=30.0))


def _nodes(rng: Rng, zones: list[str], layout: str, size: str) -> dict[str, str]:
    per = {"small": 1, "medium": 2, "large": 3}[size] if layout == "k8s" else 1
    style = rng.choice(["aws", "gke", "plain"])
    out = {}
    for zi, z in enumerate(zones):
        for n in range(per):
            if style == "aws":
                name = f"ip-10-0-{zi * 32 + rng.randint(1, 31)}-{rng.randint(2, 250)}.ec2.internal"
            elif style == "gke":
                name = f"gke-prod-pool-{zi + 1}-{rng.alnum(8)}-{rng.alnum(4)}"
            else:
                name = f"worker-{zi + 1}{n + 1:02d}"
            out[name] = z
    return out


def _instances(rng: Rng, topo: Topology, svc: Svc, replicas: int) -> None:
    nodes = sorted(topo.nodes)
    rs = rng.alnum(rng.choice([9, 10]))
    for i in range(replicas):
        node = nodes[(i + rng.randrange(len(nodes))) % len(nodes)] if replicas < len(nodes) else nodes[i % len(nodes)]
        if topo.layout == "k8s":
            if svc.role in ("db", "cache", "broker", "objstore"):
                name = f"{svc.name}-{i}"
            elif svc.role in ("cni", "node"):
                name = f"{svc.name}-{rng.alnum(5)}"
            else:
                name = f"{svc.name}-{rs}-{rng.alnum(5)}"
            host = name
        elif topo.layout == "compose":
            name = host = f"{svc.name}-{i + 1}"
            node = nodes[0]
        else:
            name = f"{svc.name}-{i + 1}" if replicas > 1 else svc.name
            host = f"{svc.name}-{i + 1}" if rng.chance(0.5) else f"ip-10-0-{rng.randint(1, 60)}-{rng.randint(2, 250)}"
        pid = 1 if topo.layout != "files" else rng.randint(900, 60000)
        svc.insts.append(Inst(svc, name, host, topo.nodes[node], node, rng.ip("10.244" if topo.layout == "k8s" else "172.18"),
                              pid, rng.uuid(), svc.version, boot=rng.hexid(16), container=svc.name.split(".")[0]))


def _k8s_infra(rng: Rng, topo: Topology, add) -> None:
    dns = Svc("coredns", "dns", "coredns", "coredns", port=53, instrumented=False, ns="kube-system", host="kube-dns")
    add(dns, 2)
    cni_kind = rng.pick(["calico-node", "cilium"])
    cni = Svc(cni_kind, "cni", "calico" if cni_kind == "calico-node" else "cilium",
              "calico" if cni_kind == "calico-node" else "logrus", instrumented=False, ns="kube-system")
    topo.services.append(cni)
    kubelet = Svc("kubelet", "node", "kubelet", rng.pick(["klog", "journald-json"]), instrumented=False, ns="")
    topo.services.append(kubelet)
    for node, zone in sorted(topo.nodes.items()):
        cni.insts.append(Inst(cni, f"{cni.name}-{rng.alnum(5)}", node, zone, node, rng.ip("10.0"), 1, rng.uuid(),
                              "3.27.2" if cni.lang == "calico" else "1.15.4", container=cni.name.split("-")[0]))
        kubelet.insts.append(Inst(kubelet, node, node, zone, node, rng.ip("10.0"), rng.randint(800, 3000), rng.uuid(),
                                  "1.29.4", boot=rng.hexid(16)))
