"""What a service writes when it serves a request, consumes a message, runs a job or
fails a call, in the idiom of its language and log format, and the span attributes its
OpenTelemetry instrumentation would record (current or older semantic conventions)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lang import Err, Target, client_error
from .topology import Dep, Endpoint, Inst, Svc
from .util import Rec

if TYPE_CHECKING:
    from .sim import Ctx, Effect, Result, Sim

SCOPES = {
    "java": {"server": ("io.opentelemetry.tomcat-10.0", "2.6.0-alpha"), "http": ("io.opentelemetry.apache-httpclient-5.2", "2.6.0-alpha"),
             "sql": ("io.opentelemetry.jdbc", "2.6.0-alpha"), "redis": ("io.opentelemetry.lettuce-5.1", "2.6.0-alpha"),
             "kafka": ("io.opentelemetry.kafka-clients-2.6", "2.6.0-alpha"), "s3": ("io.opentelemetry.aws-sdk-2.2", "2.6.0-alpha"),
             "amqp": ("io.opentelemetry.rabbitmq-2.7", "2.6.0-alpha"), "grpc": ("io.opentelemetry.grpc-1.6", "2.6.0-alpha")},
    "python": {"server": ("opentelemetry.instrumentation.flask", "0.47b0"), "http": ("opentelemetry.instrumentation.requests", "0.47b0"),
               "sql": ("opentelemetry.instrumentation.psycopg2", "0.47b0"), "redis": ("opentelemetry.instrumentation.redis", "0.47b0"),
               "kafka": ("opentelemetry.instrumentation.confluent_kafka", "0.47b0"), "s3": ("opentelemetry.instrumentation.botocore", "0.47b0"),
               "amqp": ("opentelemetry.instrumentation.pika", "0.47b0"), "grpc": ("opentelemetry.instrumentation.grpc", "0.47b0")},
    "go": {"server": ("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp", "0.53.0"),
           "http": ("go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp", "0.53.0"),
           "sql": ("github.com/XSAM/otelsql", "0.32.0"), "redis": ("github.com/redis/go-redis/extra/redisotel", "9.5.1"),
           "kafka": ("github.com/IBM/sarama/otelsarama", "0.43.0"), "s3": ("go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-sdk-go-v2/otelaws", "0.53.0"),
           "amqp": ("github.com/rabbitmq/amqp091-go", "1.10.0"), "grpc": ("go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc", "0.53.0")},
    "node": {"server": ("@opentelemetry/instrumentation-http", "0.52.1"), "http": ("@opentelemetry/instrumentation-http", "0.52.1"),
             "sql": ("@opentelemetry/instrumentation-pg", "0.43.0"), "redis": ("@opentelemetry/instrumentation-ioredis", "0.42.0"),
             "kafka": ("@opentelemetry/instrumentation-kafkajs", "0.2.0"), "s3": ("@opentelemetry/instrumentation-aws-sdk", "0.43.0"),
             "amqp": ("@opentelemetry/instrumentation-amqplib", "0.40.0"), "grpc": ("@opentelemetry/instrumentation-grpc", "0.52.1")},
}
PROXY_SCOPE = {"envoy": ("envoy", ""), "nginx": ("ngx_otel_module", "0.1.0")}


def scope_of(svc: Svc, key: str) -> str:
    if svc.lang in PROXY_SCOPE:
        n, v = PROXY_SCOPE[svc.lang]
    else:
        n, v = SCOPES.get(svc.lang, SCOPES["go"]).get(key, SCOPES["go"]["http"])
    return f"{n}@{v}"


def _rec(sim: "Sim", inst: Inst, t: float, level: str, msg: str, ctx: "Ctx | None" = None, sid: str = "",
         **kw) -> Rec:
    r = Rec(t, level, msg, **kw)
    if ctx is not None and inst.svc.logs_trace and inst.svc.instrumented:
        r.trace_id, r.span_id = ctx.trace_id, sid
        r.native["sampled"] = ctx.sampled
    sim.log(inst, r)
    return r


def java_logger(svc: Svc, kind: str) -> str:
    base = svc.pkg
    noun = (svc.noun or svc.name).split("-")[0].capitalize()
    return {"client": f"{base}.client.{noun}Client", "web": f"{base}.web.{noun}Controller",
            "servlet": "org.apache.catalina.core.ContainerBase.[Tomcat].[localhost].[/].[dispatcherServlet]",
            "listener": f"{base}.messaging.{noun}EventListener", "job": f"{base}.jobs.{noun}Job"}[kind]


def thread_for(sim: "Sim", svc: Svc) -> str:
    if svc.lang == "java":
        return f"http-nio-{svc.port}-exec-{sim.rng.randint(1, 200)}"
    if svc.fmt == "celery":
        return f"ForkPoolWorker-{sim.rng.randint(1, 8)}"
    return ""


def go_stack(svc: Svc, sim: "Sim") -> list[str]:
    noun = (svc.noun or svc.name).split("-")[0]
    return [f"main.(*server).handle{noun.capitalize()}", f"\t/app/internal/server/{noun}.go:{sim.rng.randint(40, 300)}",
            "net/http.HandlerFunc.ServeHTTP", "\t/usr/local/go/src/net/http/server.go:2171"]


# ---- requests ------------------------------------------------------------------------
def served(sim, inst: Inst, ep: Endpoint, t0: float, t1: float, status: int, client: str, ctx, sid, cause) -> None:
    svc = inst.svc
    path = ep.route.replace("{id}", str(sim.rng.randrange(1000, 99999)))
    if svc.role == "gateway":
        path = _gateway_path(sim, ep)
    dur = t1 - t0
    if svc.access_log:
        a = {"method": ep.method if svc.role != "gateway" else sim.rng.pick(["GET", "GET", "GET", "POST"]),
             "path": path, "status": status, "bytes": sim.rng.randint(80, 9000) if status < 400 else sim.rng.randint(0, 200),
             "dur": dur, "client": client or sim.rng.ip(), "ua": _ua(sim, client), "port": sim.rng.randint(30000, 60999)}
        if svc.role == "gateway" and ep.calls:
            up = ep.calls[0].target
            ui = sim.rng.pick(up.insts) if up.insts else None
            a.update(upstream=f"{ui.ip}:{up.port}" if ui else "-", up_name=f"{svc.ns}-{up.name}-{up.port}",
                     up_dur=max(dur - 0.001, 0.0), req_id=sim.rng.hexid(16), authority=f"{up.host}:{up.port}",
                     flags=_envoy_flags(cause))
            if cause and cause[1].kind in ("timeout",):
                a["up_status"] = 504
        _rec(sim, inst, t1, "INFO", "", ctx, sid, native={"access": a})
        if svc.role == "gateway" and cause and svc.lang == "nginx":
            _nginx_upstream_error(sim, inst, ep, cause, t1, client, path)
        return
    if status >= 500 or sim.rng.random() >= svc.info_rate:
        return
    noun = (svc.noun or svc.name).split("-")[0]
    if svc.lang == "go":
        _rec(sim, inst, t1, "INFO", sim.rng.pick(["request completed", "handled request", "http request"]), ctx, sid,
             logger=f"server/{noun}.go:{sim.rng.randint(30, 200)}",
             fields={"method": ep.method, "path": path, "status": status, "duration_ms": round(dur * 1000, 2)})
    elif svc.lang == "java":
        verb = {"GET": "Fetched", "POST": "Created", "PUT": "Updated"}.get(ep.method, "Handled")
        _rec(sim, inst, t1, "INFO", f"{verb} {noun} {path.rsplit('/', 1)[-1]} in {int(dur * 1000)} ms", ctx, sid,
             logger=java_logger(svc, "web"), thread=thread_for(sim, svc))
    else:
        _rec(sim, inst, t1, "INFO", f"{ep.method} {path} -> {status} in {int(dur * 1000)}ms", ctx, sid,
             logger=f"{noun}.api" if svc.lang == "python" else "", native={"app": True})


def _gateway_path(sim, ep: Endpoint) -> str:
    tgt = ep.calls[0].target if ep.calls else None
    if tgt and tgt.endpoints:
        e = sim.rng.pick(tgt.endpoints)
        return e.route.replace("{id}", str(sim.rng.randrange(1000, 99999)))
    return "/"


def _ua(sim, client: str) -> str:
    if client and not client.startswith(("10.", "172.")):
        return sim.rng.pick(["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
                             "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
                             "okhttp/4.12.0", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15"])
    return sim.rng.pick(["python-requests/2.31.0", "Go-http-client/1.1", "axios/1.6.8", "Apache-HttpClient/5.2.1 (Java/17.0.10)"])


def _envoy_flags(cause) -> str:
    if not cause:
        return "-"
    kind = cause[1].kind
    return {"timeout": "UT", "refused": "UF", "connect_timeout": "UF", "reset": "UC", "dns": "UF", "tls": "UF"}.get(kind, "-")


def _nginx_upstream_error(sim, inst, ep, cause, t, client, path) -> None:
    dep, r = cause
    if r.kind not in ("timeout", "refused", "connect_timeout", "reset"):
        return
    up = dep.target
    ui = sim.rng.pick(up.insts) if up.insts else None
    what = {"timeout": "upstream timed out (110: Connection timed out) while reading response header from upstream",
            "connect_timeout": "upstream timed out (110: Connection timed out) while connecting to upstream",
            "refused": "connect() failed (111: Connection refused) while connecting to upstream",
            "reset": "recv() failed (104: Connection reset by peer) while reading response header from upstream"}[r.kind]
    cid = sim.rng.randint(10000, 9999999)
    msg = (f'*{cid} {what}, client: {client}, server: _, request: "GET {path} HTTP/1.1", '
           f'upstream: "http://{ui.ip if ui else "10.0.0.1"}:{up.port}{path}", host: "{inst.svc.host}"')
    _rec(sim, inst, t, "ERROR", msg, native={"pid": sim.rng.randint(20, 40)}).abnormal = bool(r.path)


def status_for(svc: Svc, r: "Result") -> int:
    if svc.role == "gateway":
        if svc.lang == "envoy":
            return 504 if r.kind == "timeout" else 503
        return 504 if r.kind in ("timeout", "connect_timeout") else 502
    return {"java": 500, "python": 500, "node": 500}.get(svc.lang, 503 if r.kind != "timeout" else 504)


def client_failure(sim, inst: Inst, dep: Dep, tgt: Target, r: "Result") -> Err:
    if r.err is None:
        r.err = client_error(inst.svc.lang if inst.svc.lang in ("java", "python", "go", "node") else "go",
                             r.kind or "http", tgt, sim.rng, r.detail, r.status, inst.svc.pkg)
        r.err.target = tgt  # type: ignore[attr-defined]
    return r.err


def failed(sim, inst: Inst, ep: Endpoint, dep: Dep, r: "Result", t: float, ctx, sid, by_fault: bool) -> None:
    """The service gave up on a dependency and failed the request."""
    svc = inst.svc
    if svc.role == "gateway":
        return
    err: Err = r.err
    if err is None:
        return
    tgt = getattr(err, "target", None)
    tname = tgt.host if tgt else dep.target.name
    route = ep.route
    rec = None
    if svc.lang == "java":
        if sim.rng.chance(0.5):
            root = [ln for ln in err.lines if ln.startswith("Caused by: ")]
            rc = root[-1][len("Caused by: "):] if root else err.lines[0]
            rec = _rec(sim, inst, t, "ERROR", f"Servlet.service() for servlet [dispatcherServlet] in context with path [] "
                       f"threw exception [Request processing failed: {err.etype}: {err.emsg}] with root cause", ctx, sid,
                       logger=java_logger(svc, "servlet"), thread=thread_for(sim, svc),
                       exc=[rc] + [ln for ln in err.lines if ln.startswith("\tat ")][:6])
        else:
            rec = _rec(sim, inst, t, "ERROR", f"Call to {tname} failed for {ep.method} {route}", ctx, sid,
                       logger=java_logger(svc, "client"), thread=thread_for(sim, svc), exc=list(err.lines))
    elif svc.lang == "python":
        if svc.fmt == "celery":
            rec = _rec(sim, inst, t, "ERROR", f"Task {svc.noun or 'app'}.tasks.{route.split('.')[0].replace('-', '_')}[{sim.rng.uuid()}] "
                       f"raised unexpected: {err.etype.split('.')[-1]}({err.emsg!r})", ctx, sid, thread=thread_for(sim, svc),
                       exc=list(err.lines))
        elif svc.fmt == "uvicorn":
            rec = _rec(sim, inst, t, "ERROR", "Exception in ASGI application", ctx, sid, exc=list(err.lines))
        else:
            rec = _rec(sim, inst, t, "ERROR", f"Exception on {route} [{ep.method}]", ctx, sid,
                       logger=f"{(svc.noun or 'app').split('-')[0]}.app", exc=list(err.lines), native={"app": True})
    elif svc.lang == "node":
        rec = _rec(sim, inst, t, "ERROR", sim.rng.pick(["request failed", "upstream call failed", "unhandled error"]), ctx, sid,
                   exc=list(err.lines), fields={"upstream": tname})
    else:
        f = {"error": err.text, "method": ep.method, "path": route}
        rec = _rec(sim, inst, t, "ERROR", sim.rng.pick(["request failed", "handler error", "failed to serve request"]),
                   ctx, sid, logger=f"server/{(svc.noun or 'main').split('-')[0]}.go:{sim.rng.randint(40, 300)}", fields=f,
                   exc=go_stack(svc, sim) if svc.fmt == "zap" else None)
    rec.abnormal = by_fault
    if svc.loud and by_fault:
        _rec(sim, inst, t + 0.0005, "ERROR", f"Unexpected error while processing {ep.method} {route}: {err.etype}: {err.emsg}",
             ctx, sid, logger=java_logger(svc, "web") if svc.lang == "java" else "", thread=thread_for(sim, svc),
             native={"app": True}).abnormal = True


def retrying(sim, inst: Inst, dep: Dep, r: "Result", attempt: int, ctx, sid) -> None:
    svc = inst.svc
    err: Err = r.err
    if err is None:
        return
    tgt = getattr(err, "target", None)
    if not (svc.loud or sim.rng.chance(0.35)):
        return
    t = r.t_end + 0.0002
    if svc.lang == "python":
        msg = (f"Retrying (Retry(total={dep.retries - attempt}, connect=None, read=None, redirect=None, status=None)) "
               f"after connection broken by '{err.etype.split('.')[-1]}({err.emsg[:120]!r})': {tgt.path if tgt else '/'}")
        rec = _rec(sim, inst, t, "WARN", msg, ctx, sid, logger="urllib3.connectionpool", native={"app": True})
    elif svc.lang == "java":
        rec = _rec(sim, inst, t, "WARN", f"Attempt {attempt} calling {tgt.host if tgt else dep.target.name} failed: "
                   f"{err.etype.split('.')[-1]}: {err.emsg}; retrying", ctx, sid, logger=java_logger(svc, "client"),
                   thread=thread_for(sim, svc), exc=list(err.lines) if svc.loud and attempt == 1 else None)
    else:
        rec = _rec(sim, inst, t, "WARN", "retrying request", ctx, sid, fields={"attempt": attempt, "error": err.text[:300]})
    rec.abnormal = bool(r.path)


def fallback(sim, inst: Inst, dep: Dep, r: "Result", t: float, ctx, sid) -> None:
    svc = inst.svc
    err = client_failure(sim, inst, dep, sim.target(inst, dep, None), r)
    if sim.rng.random() > (0.6 if r.path else 0.2):
        return
    what = {"redis": "cache unavailable, serving from database", "ext": "third-party call failed, using defaults"}.get(
        dep.kind, f"optional dependency {dep.target.name} failed, continuing without it")
    if svc.lang == "go":
        rec = _rec(sim, inst, t, "WARN", what, ctx, sid, fields={"error": err.text[:300]})
    else:
        rec = _rec(sim, inst, t, "WARN", f"{what}: {err.etype.split('.')[-1]}: {err.emsg[:200]}", ctx, sid,
                   logger=java_logger(svc, "client") if svc.lang == "java" else "", thread=thread_for(sim, svc),
                   native={"app": True})
    rec.abnormal = bool(r.path)


def own_error(sim, inst: Inst, ep: Endpoint, t: float, ctx, sid, eff: "Effect") -> None:
    """A failure the service itself raises (a bug in a new version, a bad setting)."""
    from .lang import java_trace, py_trace
    svc = inst.svc
    exc = None
    if eff.etype and svc.lang == "java":
        exc = java_trace(sim.rng, eff.etype, eff.detail, svc.pkg)
    elif eff.etype and svc.lang == "python":
        exc = py_trace(sim.rng, (svc.noun or "app").split("-")[0], eff.etype, eff.detail)
    elif eff.etype and svc.lang == "node":
        exc = [f"{eff.etype}: {eff.detail}", f"    at {(svc.noun or 'handler').split('-')[0]}Handler (/app/src/routes/{svc.noun or 'index'}.js:{sim.rng.randint(10, 200)}:{sim.rng.randint(5, 40)})"]
    if svc.lang == "java":
        msg = (f"Servlet.service() for servlet [dispatcherServlet] in context with path [] threw exception "
               f"[Request processing failed: {eff.etype}: {eff.detail}] with root cause") if eff.etype else eff.detail
        rec = _rec(sim, inst, t, "ERROR", msg, ctx, sid, logger=java_logger(svc, "servlet" if eff.etype else "web"),
                   thread=thread_for(sim, svc), exc=exc)
    elif svc.lang == "go":
        rec = _rec(sim, inst, t, "ERROR", "request failed", ctx, sid, fields={"error": eff.detail, "path": ep.route},
                   exc=go_stack(svc, sim) if svc.fmt == "zap" else None)
    else:
        rec = _rec(sim, inst, t, "ERROR", f"Exception on {ep.route} [{ep.method}]" if eff.etype else eff.detail, ctx, sid,
                   exc=exc, native={"app": True})
    rec.abnormal = True


# ---- workers and jobs ----------------------------------------------------------------
def consumed(sim, inst: Inst, ep: Endpoint, t0: float, t1: float, ok: bool, ctx, sid) -> None:
    svc = inst.svc
    if not ok or sim.rng.random() > max(svc.info_rate, 0.15):
        return
    if svc.fmt == "celery":
        task = f"{(svc.noun or 'app').split('-')[0]}.tasks.process_event"
        _rec(sim, inst, t1, "INFO", f"Task {task}[{sim.rng.uuid()}] succeeded in {t1 - t0:.6f}s: None", ctx, sid,
             thread=thread_for(sim, svc))
    elif svc.lang == "java":
        _rec(sim, inst, t1, "INFO", f"Processed event from {ep.route} partition={sim.rng.randint(0, 11)} "
             f"offset={sim.rng.randint(10000, 9999999)} in {int((t1 - t0) * 1000)} ms", ctx, sid,
             logger=java_logger(svc, "listener"), thread=f"org.springframework.kafka.KafkaListenerEndpointContainer#0-{sim.rng.randint(0, 2)}-C-1")
    elif svc.lang == "go":
        _rec(sim, inst, t1, "INFO", "message processed", ctx, sid, fields={"topic": ep.route, "partition": sim.rng.randint(0, 11),
                                                                          "offset": sim.rng.randint(10000, 9999999)})
    else:
        _rec(sim, inst, t1, "INFO", f"processed message from {ep.route} in {int((t1 - t0) * 1000)}ms", ctx, sid,
             native={"app": True})


def schedule_times(s: Svc, t0: float, t1: float, rng) -> list[float]:
    out = []
    if s.schedule == "hourly":
        t = (int(t0) // 3600) * 3600
        while t < t1:
            if t >= t0:
                out.append(t + rng.uniform(0.05, 2.0))
            t += 3600
    elif s.schedule.startswith("every:"):
        step = int(s.schedule.split(":")[1]) * 60
        t = (int(t0) // step + 1) * step
        while t < t1:
            out.append(t + rng.uniform(0.05, 1.0))
            t += step
    return out


def job_start(sim, inst: Inst, t: float) -> None:
    svc = inst.svc
    _rec(sim, inst, t, "INFO", f"Starting scheduled job {svc.name}", logger=java_logger(svc, "job") if svc.lang == "java" else "",
         thread="scheduling-1", native={"app": True})


def job_end(sim, inst: Inst, r: "Result") -> None:
    svc = inst.svc
    if r.ok:
        _rec(sim, inst, r.t_end, "INFO", f"Job {svc.name} finished in {sim.rng.uniform(0.3, 9):.1f}s",
             logger=java_logger(svc, "job") if svc.lang == "java" else "", thread="scheduling-1", native={"app": True})
    else:
        _rec(sim, inst, r.t_end + 0.001, "ERROR", f"Job {svc.name} failed",
             logger=java_logger(svc, "job") if svc.lang == "java" else "", thread="scheduling-1",
             native={"app": True}).abnormal = bool(r.path)


# ---- spans ---------------------------------------------------------------------------
def server_span(svc: Svc, ep: Endpoint, status: int, client: str, job: bool):
    if job or svc.role in ("cron",):
        return f"{svc.name} run", 1, {"job.name": svc.name}, scope_of(svc, "server")
    if svc.role == "gateway":
        name = "ingress" if svc.lang == "envoy" else f"{ep.method} /"
        return name, 2, {"http.request.method": "GET", "http.response.status_code": status, "url.path": "/",
                         "upstream_cluster": ep.calls[0].target.name if ep.calls else ""}, scope_of(svc, "server")
    if svc.old_semconv:
        a = {"http.method": ep.method, "http.target": ep.route, "http.route": ep.route, "http.status_code": status,
             "net.host.name": svc.host, "net.host.port": svc.port, "http.scheme": "http"}
    else:
        a = {"http.request.method": ep.method, "url.path": ep.route, "http.route": ep.route,
             "http.response.status_code": status, "server.address": svc.host, "server.port": svc.port,
             "url.scheme": "http"}
        if client:
            a["client.address"] = client
    return f"{ep.method} {ep.route}", 2, a, scope_of(svc, "server")


def consumer_span(svc: Svc, dep: Dep):
    system = "kafka" if dep.kind == "kafka" else "rabbitmq"
    a = {"messaging.system": system, "messaging.destination.name": dep.topic, "messaging.operation": "process"}
    if system == "kafka":
        a["messaging.kafka.consumer.group"] = svc.name
    name = f"{dep.topic} process" if svc.old_semconv else f"process {dep.topic}"
    return name, 5, a, scope_of(svc, "kafka" if system == "kafka" else "amqp")


def client_span(sim, svc: Svc, dep: Dep, tgt: Target, r: "Result"):
    old = svc.old_semconv
    addr = {"net.peer.name": tgt.host, "net.peer.port": tgt.port} if old else \
        {"server.address": tgt.host, "server.port": tgt.port}
    if dep.kind in ("http", "ext"):
        code = r.status if (r.ok or r.kind in ("http", "ratelimit")) else None
        if old:
            a = {"http.method": tgt.method, "http.url": tgt.url, **addr}
            if code:
                a["http.status_code"] = code
        else:
            a = {"http.request.method": tgt.method, "url.full": tgt.url, **addr}
            if code:
                a["http.response.status_code"] = code
            if not r.ok and r.kind not in ("http", "ratelimit"):
                a["error.type"] = r.err.etype if r.err else r.kind
        if dep.kind == "http" or sim.rng.chance(0.5):
            a["peer.service"] = dep.target.name
        return (f"HTTP {tgt.method}" if old else tgt.method), 3, a, scope_of(svc, "http")
    if dep.kind == "grpc":
        noun = (dep.target.noun or dep.target.name).split("-")[0].capitalize()
        a = {"rpc.system": "grpc", "rpc.service": f"{noun.lower()}.v1.{noun}Service", "rpc.method": "Get" + noun,
             "rpc.grpc.status_code": 0 if r.ok else (4 if r.kind == "timeout" else 14), **addr}
        return f"{noun.lower()}.v1.{noun}Service/Get{noun}", 3, a, scope_of(svc, "grpc")
    if dep.kind == "sql":
        op = sim.rng.pick(["SELECT", "SELECT", "INSERT", "UPDATE"])
        table = (svc.noun or "items").split("-")[0]
        stmt = {"SELECT": f"SELECT * FROM {table} WHERE id = ?", "INSERT": f"INSERT INTO {table} (id, payload) VALUES (?, ?)",
                "UPDATE": f"UPDATE {table} SET status = ? WHERE id = ?"}[op]
        a = {"db.system": tgt.db_system or "postgresql", "db.name": tgt.db_name, "db.operation": op,
             "db.statement": stmt, "db.user": "app", **addr}
        return f"{op} {tgt.db_name}.{table}", 3, a, scope_of(svc, "sql")
    if dep.kind == "redis":
        op = sim.rng.pick(["GET", "SET", "HGETALL", "EXPIRE"])
        return op, 3, {"db.system": "redis", "db.statement": f"{op} session:?", "db.redis.database_index": 0, **addr}, \
            scope_of(svc, "redis")
    if dep.kind in ("kafka", "amqp"):
        system = "kafka" if dep.kind == "kafka" else "rabbitmq"
        a = {"messaging.system": system, "messaging.destination.name": dep.topic, "messaging.operation": "publish", **addr}
        return (f"{dep.topic} send" if old else f"publish {dep.topic}"), 4, a, scope_of(svc, dep.kind)
    if dep.kind == "s3":
        a = {"rpc.system": "aws-api", "rpc.service": "S3", "rpc.method": "PutObject", "aws.s3.bucket": tgt.bucket,
             "http.response.status_code" if not old else "http.status_code": r.status if r.status else 200, **addr}
        if dep.target.name:
            a["peer.service"] = dep.target.name
        return "S3.PutObject", 3, a, scope_of(svc, "s3")
    return dep.kind, 3, dict(addr), scope_of(svc, "http")
