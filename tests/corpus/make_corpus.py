#!/usr/bin/env python3
"""Writes loglens's labelled log corpus (see README.md beside this file).

Every file is rendered from event descriptions (instant, level, service, logger,
message, continuation lines) in the layout its format documents, and its `.expected`
annotation is written from the same descriptions, never from what loglens reads. The odd
and hostile lines are written out by hand below. Deterministic: a fixed seed.

usage: tests/corpus/make_corpus.py
"""
import datetime as dt
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
UTC = dt.timezone.utc
R = random.Random(20251103)
HEX = "0123456789abcdef"


# ---------------------------------------------------------------- documents


def iso_expected(t, digits):
    """RFC 3339 UTC text of `t` with `digits` fraction digits (0, 3, 6; 9 via ns)."""
    t = t.astimezone(UTC)
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    if digits == 0:
        return base + "Z"
    frac = f"{t.microsecond:06d}"
    if digits <= 6:
        return f"{base}.{frac[:digits]}Z"
    return f"{base}.{frac}{'0' * (digits - 6)}Z"


class Stamp:
    """An instant as a log printed it: its precision and, for nanoseconds, the extra
    digits beyond microseconds."""

    def __init__(self, t, digits, ns_extra=""):
        self.t = trunc(t, min(digits, 6))
        self.digits = digits
        self.ns_extra = ns_extra

    def expected(self):
        if self.digits == 9:
            return iso_expected(self.t, 6)[:-1] + self.ns_extra + "Z"
        return iso_expected(self.t, self.digits)


def trunc(t, digits):
    us = t.microsecond - t.microsecond % (10 ** (6 - digits))
    return t.replace(microsecond=us)


class Doc:
    def __init__(self, fmt, name):
        self.fmt = fmt
        self.name = name
        self.rows = []
        self.last = None  # last record stamp, in line order

    def rec(self, line, stamp, level, comp):
        """A line that starts a record; `stamp` None when it printed no time."""
        if stamp is None:
            ts = "~" + self.last if self.last else "-"
        else:
            ts = stamp.expected()
            self.last = ts
        self.rows.append((line, f"S\t{ts}\t{level}\t{comp}"))

    def cont(self, line):
        self.rows.append((line, "C"))

    def blank(self, line=""):
        self.rows.append((line, "B"))

    def save(self, newline="\n", encoding_errors=None):
        d = os.path.join(HERE, self.fmt)
        os.makedirs(os.path.dirname(os.path.join(d, self.name)), exist_ok=True)
        path = os.path.join(d, self.name)
        with open(path, "wb") as f:
            for line, _ in self.rows:
                data = line if isinstance(line, bytes) else line.encode("utf-8")
                f.write(data + newline.encode())
        with open(path + ".expected", "w", encoding="utf-8") as f:
            for _, ann in self.rows:
                f.write(ann + "\n")


class Clock:
    def __init__(self, start=None):
        self.t = start or dt.datetime(2025, 11, 3, 20, 30, 0, R.randrange(10 ** 6), tzinfo=UTC)

    def tick(self, lo=0.05, hi=4.0):
        self.t += dt.timedelta(seconds=R.uniform(lo, hi))
        return self.t


# ---------------------------------------------------------------- content


def hexid(n):
    return "".join(R.choice(HEX) for _ in range(n))


def ip():
    return f"10.{R.randrange(0, 255)}.{R.randrange(0, 255)}.{R.randrange(1, 254)}"


def uid():
    return f"{hexid(8)}-{hexid(4)}-4{hexid(3)}-a{hexid(3)}-{hexid(12)}"


def fill(t):
    return t.format(
        n=R.randrange(1, 5000),
        ms=R.randrange(1, 900),
        id=R.randrange(1000, 99999),
        ip=ip(),
        hex=hexid(12),
        uid=uid(),
        path=R.choice(["/api/v1/orders", "/api/v1/cart", "/health", "/api/v1/users/me", "/metrics", "/api/v1/payments"]),
        user=R.choice(["alice", "bob", "carol", "svc-batch", "dmitri", "zoë"]),
        bucket=R.choice(["warehouse", "models", "uploads"]),
        table=R.choice(["orders", "users", "payments", "line_items"]),
        topic=R.choice(["orders", "payments.v2", "audit-log"]),
        pct=R.randrange(70, 99),
        size=R.randrange(1, 900),
    )


INFO_MSGS = [
    "Order {id} placed by {user}",
    "Served {path} in {ms} ms",
    "Cache warmed with {n} entries",
    "Connected to db-primary at {ip}:5432",
    "Scheduled job refresh-prices finished in {ms} ms",
    "Accepted connection from {ip}",
    "Loaded {n} feature flags",
    "Published {n} events to topic {topic}",
    "Health check passed",
    "Rotated credentials for {user}",
    "Checkpoint complete: {n} buffers written",
    "User {user} signed in",
    "Request {uid} handled",
    "Consumer group rebalanced, {n} partitions assigned",
]
WARN_MSGS = [
    "Slow query on {table} took {ms} ms",
    "Retrying request to {ip}:8080 (attempt {n})",
    "Disk usage at {pct}% on /data",
    "Connection pool nearly exhausted ({n} in use)",
    "Deprecated endpoint {path} called by {user}",
    "Response time above budget: {ms} ms",
]
ERROR_MSGS = [
    "Payment {id} declined by provider",
    "Failed to write object to bucket {bucket}",
    "Upstream {ip}:8080 refused the connection",
    "Could not acquire lock on {table} after {ms} ms",
    "Timeout waiting for db-primary ({ms} ms)",
    "Unhandled exception while processing order {id}",
]
CRIT_MSGS = [
    "Out of memory: cannot allocate {size} MiB",
    "Data directory is not writable, shutting down",
]


def msg_for(level):
    pool = {
        "info": INFO_MSGS,
        "debug": INFO_MSGS,
        "trace": INFO_MSGS,
        "notice": INFO_MSGS,
        "warn": WARN_MSGS,
        "error": ERROR_MSGS,
        "critical": CRIT_MSGS,
    }[level]
    return fill(R.choice(pool))


def level_seq(n, weights=(70, 12, 12, 4, 2)):
    names = ["info", "debug", "warn", "error", "critical"]
    return R.choices(names, weights=weights, k=n)


JAVA_EXC = [
    ("java.lang.IllegalStateException", "Order state is CLOSED"),
    ("org.springframework.dao.DataIntegrityViolationException", "could not execute statement"),
    ("java.net.SocketTimeoutException", "Read timed out"),
    ("com.example.payments.ProviderException", "card declined: insufficient funds"),
]
JAVA_CAUSE = [
    ("java.sql.SQLException", "Connection is closed"),
    ("java.io.IOException", "Broken pipe"),
    ("org.postgresql.util.PSQLException", "ERROR: duplicate key value violates unique constraint \"orders_pkey\""),
]


def java_stack(pkg="com.example.shop"):
    exc, m = R.choice(JAVA_EXC)
    out = [f"{exc}: {m}"]
    for _ in range(R.randrange(2, 6)):
        cls = R.choice(["OrderService", "PaymentClient", "Repository", "Controller", "Scheduler"])
        out.append(f"\tat {pkg}.{cls}.{R.choice(['handle', 'save', 'call', 'run'])}({cls}.java:{R.randrange(20, 400)})")
    out.append("\tat org.springframework.aop.framework.ReflectiveMethodInvocation.proceed(ReflectiveMethodInvocation.java:184)")
    if R.random() < 0.7:
        cexc, cm = R.choice(JAVA_CAUSE)
        out.append(f"Caused by: {cexc}: {cm}")
        out.append(f"\tat com.zaxxer.hikari.pool.ProxyConnection.checkClosed(ProxyConnection.java:{R.randrange(400, 520)})")
        if R.random() < 0.4:
            out.append("\tSuppressed: java.io.IOException: stream closed")
            out.append("\t\tat java.base/java.io.BufferedInputStream.close(BufferedInputStream.java:481)")
        out.append(f"\t... {R.randrange(8, 60)} more")
    return out


def py_traceback(chained=False):
    out = ["Traceback (most recent call last):"]
    for _ in range(R.randrange(1, 4)):
        f = R.choice(["/app/service/handlers.py", "/app/service/db.py", "/usr/lib/python3.12/site-packages/httpx/_client.py"])
        out.append(f'  File "{f}", line {R.randrange(10, 900)}, in {R.choice(["handle", "fetch", "send", "_request"])}')
        out.append(f"    {R.choice(['result = await client.get(url)', 'row = cur.fetchone()', 'return self._send(request)'])}")
    out.append(R.choice([
        "KeyError: 'user_id'",
        "ValueError: invalid literal for int() with base 10: 'abc'",
        "httpx.ConnectTimeout: timed out",
        "psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint \"users_pkey\"",
    ]))
    if chained:
        return out, [
            "",
            "During handling of the above exception, another exception occurred:",
            "",
            "Traceback (most recent call last):",
            '  File "/app/service/handlers.py", line 88, in handle',
            "    raise ServiceError(\"lookup failed\") from None",
            "service.errors.ServiceError: lookup failed",
        ]
    return out, []


def add_py_traceback(doc, wrap=lambda s: s, chained=None):
    tb, more = py_traceback(R.random() < 0.3 if chained is None else chained)
    for l in tb:
        doc.cont(wrap(l))
    for l in more:
        if l == "":
            doc.blank(wrap(l) if wrap("") != "" else "")
        else:
            doc.cont(wrap(l))


# ---------------------------------------------------------------- Java family


def spring_boot3():
    doc = Doc("spring-boot", "checkout-service.log")
    c = Clock()
    loggers = ["c.e.checkout.web.CartController", "c.e.checkout.service.OrderService",
               "o.s.b.w.embedded.tomcat.TomcatWebServer", "c.e.checkout.client.PaymentClient",
               "o.h.engine.jdbc.spi.SqlExceptionHelper"]
    for i, level in enumerate(level_seq(60)):
        t = c.tick()
        thread = R.choice(["main", "nio-8080-exec-1", "nio-8080-exec-7", "scheduling-1"])
        corr = f"[{hexid(32)}-{hexid(16)}]" if R.random() < 0.7 else "[                                                 ]"
        lvl = {"critical": "ERROR", "notice": "INFO"}.get(level, level.upper())
        exp_level = {"critical": "error", "notice": "info"}.get(level, level)
        msg = msg_for(level)
        if level == "warn" and R.random() < 0.5:
            msg += " (java.net.SocketTimeoutException: Read timed out)"
        ts = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
        line = f"{ts} {lvl:>5} 1 --- [checkout] [{thread:>15}] {corr} {R.choice(loggers):<40} : {msg}"
        doc.rec(line, Stamp(t, 3), exp_level, "checkout")
        if lvl == "ERROR" and R.random() < 0.8:
            for l in java_stack("com.example.checkout"):
                doc.cont(l)
    doc.save()


def spring_boot2():
    doc = Doc("spring-boot", "inventory.log")
    c = Clock()
    for level in level_seq(45):
        t = c.tick()
        lvl = {"critical": "ERROR"}.get(level, level.upper())
        exp = {"critical": "error"}.get(level, level)
        ts = t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"
        logger = R.choice(["c.e.inventory.StockService", "o.s.web.servlet.DispatcherServlet", "c.z.hikari.HikariDataSource"])
        line = f"{ts} {lvl:>5} {R.randrange(100, 99999)} --- [{R.choice(['main', 'http-nio-8081-exec-3', 'task-2']):>15}] {logger:<40} : {msg_for(level)}"
        doc.rec(line, Stamp(t, 3), exp, "inventory")
        if lvl == "ERROR":
            for l in java_stack("com.example.inventory"):
                doc.cont(l)
    doc.save()


def spring_boot_ecs():
    doc = Doc("spring-boot-json", "orders.json")
    c = Clock()
    for level in level_seq(40):
        t = c.tick()
        lvl = {"critical": "ERROR"}.get(level, level.upper())
        exp = {"critical": "error"}.get(level, level)
        rec = {
            "@timestamp": iso_expected(t, 6),
            "log": {"level": lvl, "logger": R.choice(["com.example.orders.OrderController", "com.example.orders.Outbox"])},
            "process": {"pid": 1, "thread": {"name": R.choice(["main", "http-nio-8080-exec-2"])}},
            "service": {"name": "orders", "version": "1.4.2", "environment": "prod"},
            "message": msg_for(level),
            "ecs": {"version": "8.11"},
        }
        if R.random() < 0.6:
            rec["traceId"] = hexid(32)
            rec["spanId"] = hexid(16)
        if lvl == "ERROR":
            exc, m = R.choice(JAVA_EXC)
            rec["error"] = {"type": exc, "message": m, "stack_trace": "\n".join(java_stack("com.example.orders"))}
        doc.rec(json.dumps(rec), Stamp(t, 6), exp, "orders")
    doc.save()


def logback():
    doc = Doc("logback", "payments.log")
    c = Clock()
    for level in level_seq(55):
        t = c.tick()
        lvl = {"critical": "ERROR"}.get(level, level.upper())
        exp = {"critical": "error"}.get(level, level)
        ts = t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}"
        mdc = f"[{hexid(32)},{hexid(16)}]" if R.random() < 0.6 else "[,]"
        logger = R.choice(["c.e.payments.PaymentService", "c.e.payments.gateway.StripeGateway", "o.a.k.clients.NetworkClient"])
        line = f"{ts} [{R.choice(['http-nio-8080-exec-1', 'kafka-producer-network-thread | producer-1', 'main'])}] {mdc} {lvl:<5} {logger} - {msg_for(level)}"
        doc.rec(line, Stamp(t, 3), exp, "payments")
        if lvl == "ERROR" and R.random() < 0.7:
            for l in java_stack("com.example.payments"):
                doc.cont(l)
    doc.save()


def log4j2():
    doc = Doc("log4j2", "ledger.log")
    c = Clock()
    for level in level_seq(50):
        t = c.tick()
        lvl = {"critical": "FATAL"}.get(level, level.upper())
        exp = level
        ts = t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"
        ids = f"[trace_id={hexid(32)} span_id={hexid(16)}]" if R.random() < 0.5 else "[trace_id= span_id=]"
        cls = R.choice(["LedgerService", "JournalWriter", "ReconciliationJob"])
        line = f"{ts} {lvl:<5} [{R.choice(['main', 'pool-3-thread-2', 'ledger-writer'])}] {ids} {cls}:{R.randrange(20, 300)} - {msg_for(level)}"
        doc.rec(line, Stamp(t, 3), exp, "ledger")
        if lvl in ("ERROR", "FATAL") and R.random() < 0.6:
            for l in java_stack("com.example.ledger"):
                doc.cont(l)
    doc.save()


def spark():
    doc = Doc("spark", "executor.log")
    c = Clock()
    for level in level_seq(50, (75, 0, 15, 8, 2)):
        t = c.tick()
        lvl = {"critical": "ERROR"}.get(level, level.upper())
        exp = {"critical": "error"}.get(level, level)
        comp = R.choice(["TaskSetManager", "BlockManager", "Executor", "MemoryStore", "CoarseGrainedExecutorBackend"])
        msg = R.choice([
            f"Finished task {R.randrange(0, 200)}.0 in stage {R.randrange(1, 9)}.0 (TID {R.randrange(1, 900)}). {R.randrange(1000, 9000)} bytes result sent to driver",
            f"Block broadcast_{R.randrange(1, 40)} stored as values in memory (estimated size {R.randrange(1, 90)}.{R.randrange(0, 9)} KiB, free {R.randrange(100, 900)}.0 MiB)",
            f"Running task {R.randrange(0, 200)}.0 in stage {R.randrange(1, 9)}.0 (TID {R.randrange(1, 900)})",
        ]) if level in ("info", "debug") else msg_for(level)
        ts = t.strftime("%y/%m/%d %H:%M:%S")
        doc.rec(f"{ts} {lvl} {comp}: {msg}", Stamp(t, 0), exp, "executor")
        if lvl == "ERROR" and R.random() < 0.8:
            for l in java_stack("org.apache.spark.scheduler"):
                doc.cont(l)
    doc.save()


def kafka():
    doc = Doc("kafka", "server.log")
    c = Clock()
    for level in level_seq(50, (70, 5, 15, 8, 2)):
        t = c.tick()
        lvl = {"critical": "FATAL"}.get(level, level.upper())
        ts = t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}"
        ctx, logger = R.choice([
            ("[KafkaServer id=1]", "kafka.server.KafkaServer"),
            (f"[ReplicaFetcher replicaId=1, leaderId={R.randrange(2, 4)}, fetcherId=0]", "kafka.server.ReplicaFetcherThread"),
            ("[GroupCoordinator 1]", "kafka.coordinator.group.GroupCoordinator"),
            (f"[Log partition={fill('{topic}')}-{R.randrange(0, 12)}, dir=/var/lib/kafka/data]", "kafka.log.UnifiedLog"),
        ])
        line = f"[{ts}] {lvl} {ctx} {msg_for(level)} ({logger})"
        doc.rec(line, Stamp(t, 3), level, "kafka")
        if lvl == "ERROR" and R.random() < 0.4:
            for l in java_stack("kafka.server"):
                doc.cont(l)
    doc.save()


def zookeeper():
    doc = Doc("zookeeper", "zookeeper.log")
    c = Clock()
    for level in level_seq(45, (75, 0, 15, 8, 2)):
        t = c.tick()
        lvl = {"critical": "ERROR"}.get(level, level.upper())
        exp = {"critical": "error"}.get(level, level)
        ts = t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}"
        thread, cls = R.choice([
            ("main", "QuorumPeerMain"),
            ("QuorumPeer[myid=1](plain=[0:0:0:0:0:0:0:0]:2181)(secure=disabled)", "Leader"),
            (f"NIOWorkerThread-{R.randrange(1, 8)}", "NIOServerCnxn"),
            ("SyncThread:1", "FileTxnLog"),
        ])
        line = f"{ts} [myid:1] - {lvl:<5} [{thread}:{cls}@{R.randrange(100, 999)}] - {msg_for(level)}"
        doc.rec(line, Stamp(t, 3), exp, "zookeeper")
    doc.save()


def elasticsearch():
    doc = Doc("elasticsearch", "es-prod.log")
    c = Clock()
    for level in level_seq(40, (70, 5, 15, 8, 2)):
        t = c.tick()
        lvl = {"critical": "ERROR"}.get(level, level.upper())
        exp = {"critical": "error"}.get(level, level)
        ts = t.strftime("%Y-%m-%dT%H:%M:%S,") + f"{t.microsecond // 1000:03d}"
        logger = R.choice(["o.e.c.r.a.DiskThresholdMonitor", "o.e.n.Node", "o.e.c.s.MasterService", "o.e.x.m.j.p.l.CppLogMessageHandler"])
        line = f"[{ts}][{lvl:<5}][{logger}] [es-node-{R.randrange(1, 4)}] {msg_for(level)}"
        doc.rec(line, Stamp(t, 3), exp, "es-prod")
        if lvl == "ERROR" and R.random() < 0.5:
            for l in java_stack("org.elasticsearch.action"):
                doc.cont(l)
    doc.save()
    doc = Doc("elasticsearch", "es-prod_server.json")
    for level in level_seq(30, (70, 5, 15, 8, 2)):
        t = c.tick()
        lvl = {"critical": "ERROR"}.get(level, level.upper())
        exp = {"critical": "error"}.get(level, level)
        rec = {"@timestamp": iso_expected(t, 3), "log.level": lvl, "message": msg_for(level),
               "ecs.version": "1.2.0", "service.name": "ES_ECS", "event.dataset": "elasticsearch.server",
               "process.thread.name": "elasticsearch[es-node-1][generic][T#3]", "log.logger": "org.elasticsearch.cluster.service.MasterService",
               "elasticsearch.cluster.uuid": hexid(22), "elasticsearch.node.name": "es-node-1", "elasticsearch.cluster.name": "prod"}
        doc.rec(json.dumps(rec), Stamp(t, 3), exp, "ES_ECS")
    doc.save()


# ---------------------------------------------------------------- Python family


def py_level(level):
    return {"warn": "WARNING", "critical": "CRITICAL"}.get(level, level.upper())


def python_default():
    doc = Doc("python", "feature-api.log")
    c = Clock()
    for level in level_seq(55):
        t = c.tick()
        logger = R.choice(["feature_api", "feature_api", "app.db", "uvicorn.error"])
        comp = "feature_api" if logger == "feature_api" else "feature-api"
        ts = t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}"
        exp = level
        doc.rec(f"{ts} - {logger} - {py_level(level)} - {msg_for(level)}", Stamp(t, 3), exp, comp)
        if level in ("error", "critical") and R.random() < 0.8:
            add_py_traceback(doc)
    doc.save()


def python_basic():
    doc = Doc("python", "etl-job.log")
    for level in level_seq(40):
        logger = R.choice(["root", "etl_loader", "urllib3.connectionpool"])
        comp = "etl_loader" if logger == "etl_loader" else "etl-job"
        doc.rec(f"{py_level(level)}:{logger}:{msg_for(level)}", None, level, comp)
        if level in ("error", "critical") and R.random() < 0.7:
            add_py_traceback(doc)
    doc.save()


def gunicorn():
    doc = Doc("gunicorn", "recsys.log")
    c = Clock()
    doc.rec(f"[{c.tick().strftime('%Y-%m-%d %H:%M:%S')} +0000] [1] [INFO] Starting gunicorn 22.0.0", Stamp(c.t, 0), "info", "recsys")
    doc.rec(f"[{c.tick().strftime('%Y-%m-%d %H:%M:%S')} +0000] [1] [INFO] Listening at: http://0.0.0.0:8000 (1)", Stamp(c.t, 0), "info", "recsys")
    for w in range(4):
        doc.rec(f"[{c.tick().strftime('%Y-%m-%d %H:%M:%S')} +0000] [{8 + w}] [INFO] Booting worker with pid: {8 + w}", Stamp(c.t, 0), "info", "recsys")
        # Uvicorn workers print without a timestamp.
        doc.rec(f"INFO:     Started server process [{8 + w}]", None, "info", "recsys")
        doc.rec("INFO:     Waiting for application startup.", None, "info", "recsys")
        doc.rec("INFO:     Application startup complete.", None, "info", "recsys")
    for level in level_seq(35, (80, 0, 10, 8, 2)):
        t = c.tick()
        if level == "info":
            code = R.choice([200, 200, 200, 201, 204, 404, 500])
            # Uvicorn logs every response at INFO, whatever its status: the field wins.
            doc.rec(f'INFO:     {ip()}:{R.randrange(30000, 60000)} - "POST /v1/recommend HTTP/1.1" {code} {"OK" if code < 300 else "Not Found" if code == 404 else "Internal Server Error"}', None, "info", "recsys")
        elif level in ("error", "critical"):
            doc.rec("ERROR:    Exception in ASGI application", None, "error", "recsys")
            add_py_traceback(doc, chained=False)
        else:
            ts = t.strftime("%Y-%m-%d %H:%M:%S")
            lvl = {"warn": "WARNING"}.get(level, level.upper())
            doc.rec(f"[{ts} +0000] [{R.randrange(8, 12)}] [{lvl}] {msg_for(level)}", Stamp(t, 0), level, "recsys")
    t = c.tick()
    doc.rec(f"[{t.strftime('%Y-%m-%d %H:%M:%S')} +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:9)", Stamp(t, 0), "critical", "recsys")
    doc.save()


def django():
    doc = Doc("django", "shop.log")
    c = Clock()
    for level in level_seq(45, (75, 5, 10, 8, 2)):
        t = c.tick()
        if level in ("info", "debug") and R.random() < 0.7:
            code = R.choice([200, 200, 200, 302, 404, 500])
            ts = t.strftime("[%d/%b/%Y %H:%M:%S]")
            exp = {5: "error", 4: "warn"}.get(code // 100, "info")
            doc.rec(f'{ts} "GET /api/products/?page={R.randrange(1, 9)} HTTP/1.1" {code} {R.randrange(100, 90000)}', Stamp(t, 0), exp, "shop")
            continue
        lvl = {"warn": "WARNING"}.get(level, level.upper())
        ts = t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}"
        mod = R.choice(["log", "views", "basehttp", "exception"])
        msg = f"Internal Server Error: /api/orders/{R.randrange(1, 900)}/" if level in ("error", "critical") else msg_for(level)
        exp = {"critical": "critical"}.get(level, level)
        doc.rec(f"{lvl} {ts} {mod} {R.randrange(100, 999)} {R.randrange(10 ** 14, 10 ** 15)} {msg}", Stamp(t, 3), exp, "shop")
        if level in ("error", "critical"):
            add_py_traceback(doc)
    doc.save()


def airflow():
    doc = Doc("airflow", "airflow-worker.log")
    c = Clock()
    for level in level_seq(50, (75, 0, 12, 10, 3)):
        t = c.tick()
        lvl = {"warn": "WARNING"}.get(level, level.upper())
        ts = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"
        src = R.choice(["taskinstance.py:2905", "standard_task_runner.py:104", "logging_mixin.py:188", "s3.py:712"])
        msg = msg_for(level) if level != "error" else "Task failed with exception"
        doc.rec(f"[{ts}] {{{src}}} {lvl} - {msg}", Stamp(t, 3), level, "airflow-worker")
        if level == "error":
            add_py_traceback(doc)
    doc.save()


def uvicorn_dotnet():
    doc = Doc("dotnet", "catalog-api.log")
    for level in level_seq(35, (75, 5, 12, 6, 2)):
        word = {"info": "info", "debug": "dbug", "warn": "warn", "error": "fail", "critical": "crit"}[level]
        cat = R.choice(["Microsoft.Hosting.Lifetime[14]", "Catalog.Api.Controllers.ItemsController[0]",
                        "Microsoft.EntityFrameworkCore.Database.Command[20101]", "Microsoft.AspNetCore.Server.Kestrel[13]"])
        doc.rec(f"{word}: {cat}", None, level, "catalog-api")
        doc.cont(f"      {msg_for(level)}")
        if level in ("error", "critical"):
            doc.cont(f"      System.InvalidOperationException: Sequence contains no elements")
            doc.cont(f"         at System.Linq.ThrowHelper.ThrowNoElementsException()")
            doc.cont(f"         at Catalog.Api.Services.ItemService.GetAsync(Int32 id) in /src/Services/ItemService.cs:line {R.randrange(20, 200)}")
    doc.save()


# ---------------------------------------------------------------- Go family


def klog():
    doc = Doc("klog", "kubelet.log")
    c = Clock()
    for level in level_seq(60, (75, 0, 12, 11, 2)):
        t = c.tick()
        letter = {"info": "I", "warn": "W", "error": "E", "critical": "F"}[level]
        src = R.choice(["kubelet.go:2418", "pod_workers.go:1298", "reflector.go:147", "prober.go:107", "kuberuntime_manager.go:1048"])
        msg = R.choice([
            f'"SyncLoop (PLEG): event for pod" pod="shop/api-{hexid(10)}-{hexid(5)}" event={{"ID":"{uid()}","Type":"ContainerStarted"}}',
            f'"Probe failed" probeType="Readiness" pod="shop/api-{hexid(5)}" containerName="api" probeResult="failure" output="Get \\"http://{ip()}:8080/ready\\": dial tcp: connect: connection refused"',
            f'"Error syncing pod, skipping" err="failed to \\"StartContainer\\" for \\"api\\" with CrashLoopBackOff: \\"back-off 5m0s restarting failed container\\"" pod="shop/api-{hexid(5)}"',
            f'"Successfully probed plugin" plugin="csi.example.com"',
        ])
        ts = t.strftime("%m%d %H:%M:%S.") + f"{t.microsecond:06d}"
        yearless = t.replace(year=2025)
        doc.rec(f"{letter}{ts}    {R.randrange(1000, 3000)} {src}] {msg}", Stamp(yearless, 6), level, "kubelet")
    doc.save()


def zap():
    doc = Doc("zap", "router.log")
    c = Clock()
    for level in level_seq(45):
        t = c.tick()
        rec = {"level": {"critical": "fatal"}.get(level, level), "ts": round(t.timestamp(), 6),
               "logger": "router.http", "caller": f"http/server.go:{R.randrange(20, 300)}", "msg": msg_for(level)}
        if R.random() < 0.5:
            rec["trace_id"] = hexid(32)
        if level == "error":
            rec["error"] = "dial tcp 10.0.0.12:5432: connect: connection refused"
            rec["stacktrace"] = "main.(*server).handle\n\t/src/http/server.go:88\nnet/http.HandlerFunc.ServeHTTP\n\t/usr/local/go/src/net/http/server.go:2171"
        stamp = Stamp(dt.datetime.fromtimestamp(rec["ts"], UTC), 6)
        doc.rec(json.dumps(rec), stamp, level, "router")
    doc.save()
    doc = Doc("zap", "fanout-console.log")
    for level in level_seq(40):
        t = c.tick()
        ts = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
        lvl = {"critical": "FATAL"}.get(level, level.upper())
        fields = json.dumps({"topic": fill("{topic}"), "partition": R.randrange(0, 12)})
        doc.rec(f"{ts}\t{lvl}\tfanout/consumer.go:{R.randrange(20, 300)}\t{msg_for(level)}\t{fields}", Stamp(t, 3), level, "fanout-console")
        if level == "error" and R.random() < 0.5:
            doc.cont("main.(*consumer).loop")
            doc.cont("\t/src/fanout/consumer.go:141")
    doc.save()


def logrus():
    doc = Doc("logrus", "billing.log")
    c = Clock()
    for level in level_seq(45):
        t = c.tick()
        lv = {"critical": "fatal"}.get(level, level)
        ts = t.strftime("%Y-%m-%dT%H:%M:%S") + "Z"
        extra = R.choice([f"invoice={R.randrange(1000, 9999)}", f'customer="{fill("{user}")}"', f"duration_ms={R.randrange(1, 900)}"])
        doc.rec(f'time="{ts}" level={lv} msg="{msg_for(level)}" {extra}', Stamp(t, 0), level, "billing")
    doc.save()


def containerd():
    doc = Doc("containerd", "containerd.log")
    c = Clock()
    for level in level_seq(40, (70, 10, 12, 8, 0)):
        t = c.tick()
        ts = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}" + "123Z"
        msg = R.choice([
            "starting containerd", "loading plugin \\\"io.containerd.snapshotter.v1.overlayfs\\\"...",
            f"RunPodSandbox for &PodSandboxMetadata{{Name:api-{hexid(5)},Namespace:shop,}}",
            f"StopContainer for \\\"{hexid(64)}\\\" with timeout 30 (s)",
        ]) if level in ("info", "debug") else msg_for(level)
        doc.rec(f'time="{ts}" level={level} msg="{msg}"', Stamp(t, 9, "123"), level, "containerd")
    doc.save()


def zerolog():
    doc = Doc("zerolog", "notifier.log")
    c = Clock()
    for level in level_seq(40):
        t = c.tick().replace(microsecond=0)
        rec = {"level": {"critical": "fatal"}.get(level, level), "service": "notifier", "time": int(t.timestamp()),
               "message": msg_for(level)}
        if level == "error":
            rec["error"] = "smtp: 421 service not available"
        doc.rec(json.dumps(rec, separators=(",", ":")), Stamp(t, 0), level, "notifier")
    doc.save()


def slog():
    c = Clock()
    doc = Doc("slog", "gateway.log")
    for level in level_seq(40, (75, 10, 10, 5, 0)):
        t = c.tick()
        off = dt.timezone(dt.timedelta(hours=-5))
        local = t.astimezone(off)
        ts = local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}-05:00"
        lv = {"warn": "WARN"}.get(level, level.upper())
        doc.rec(f'time={ts} level={lv} msg="{msg_for(level)}" route={fill("{path}")} status={R.choice([200, 200, 503])}', Stamp(t, 3), level, "gateway")
    doc.save()
    doc = Doc("slog", "gateway.json.log")
    for level in level_seq(30, (75, 10, 10, 5, 0)):
        t = c.tick()
        rec = {"time": iso_expected(t, 6)[:-1] + "+00:00", "level": level.upper(), "msg": msg_for(level),
               "trace_id": hexid(32), "span_id": hexid(16)}
        doc.rec(json.dumps(rec), Stamp(t, 6), level, "gateway")
    doc.save()


def go_std():
    doc = Doc("go", "worker.log")
    c = Clock()
    for _ in range(30):
        t = c.tick()
        msg = R.choice(["worker: picked job {id}", "worker: job {id} done in {ms} ms", "worker: heartbeat ok", "worker: fetched {n} rows from {table}"])
        doc.rec(f"{t.strftime('%Y/%m/%d %H:%M:%S')} {fill(msg)}", Stamp(t, 0), "info", "worker")
    t = c.tick()
    doc.rec(f"{t.strftime('%Y/%m/%d %H:%M:%S')} worker: error: job 4242 failed: context deadline exceeded", Stamp(t, 0), "error", "worker")
    doc.rec("panic: runtime error: invalid memory address or nil pointer dereference", None, "critical", "worker")
    doc.cont("[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x6b2f4a]")
    doc.blank()
    doc.cont("goroutine 42 [running]:")
    doc.cont("main.(*worker).process(0xc000128000, {0x7f1c4a, 0xc0001a2000})")
    doc.cont("\t/src/worker/worker.go:88 +0x4a")
    doc.cont("main.(*worker).loop(0xc000128000)")
    doc.cont("\t/src/worker/worker.go:51 +0x1b2")
    doc.cont("created by main.main in goroutine 1")
    doc.cont("\t/src/worker/main.go:33 +0x2c5")
    doc.blank()
    doc.cont("goroutine 1 [chan receive]:")
    doc.cont("main.main()")
    doc.cont("\t/src/worker/main.go:40 +0x305")
    doc.cont("exit status 2")
    doc.save()


# ---------------------------------------------------------------- Node and Ruby


PINO = {"trace": 10, "debug": 20, "info": 30, "warn": 40, "error": 50, "critical": 60}


def pino():
    doc = Doc("pino", "web.log")
    c = Clock()
    for level in level_seq(45):
        t = c.tick()
        ms = int(t.timestamp() * 1000)
        rec = {"level": PINO[level], "time": ms, "pid": 7, "hostname": "web-6d9f", "msg": msg_for(level)}
        if level == "info" and R.random() < 0.5:
            rec["req"] = {"id": R.randrange(1, 999), "method": "GET", "url": fill("{path}")}
            rec["res"] = {"statusCode": 200}
            rec["responseTime"] = R.randrange(1, 300)
        if level == "error":
            rec["err"] = {"type": "Error", "message": "ECONNREFUSED", "stack": "Error: connect ECONNREFUSED 10.0.0.7:6379\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)"}
        stamp = Stamp(dt.datetime.fromtimestamp(ms / 1000, UTC), 3)
        doc.rec(json.dumps(rec, separators=(",", ":")), stamp, level, "web")
    doc.save()


def bunyan():
    doc = Doc("bunyan", "search.log")
    c = Clock()
    for level in level_seq(40):
        t = c.tick()
        rec = {"name": "search-api", "hostname": "search-2", "pid": 11, "level": PINO[level],
               "msg": msg_for(level), "time": iso_expected(t, 3), "v": 0}
        doc.rec(json.dumps(rec, separators=(",", ":")), Stamp(t, 3), level, "search-api")
    doc.save()


def winston():
    doc = Doc("winston", "notifications.log")
    c = Clock()
    for level in level_seq(35, (75, 10, 10, 5, 0)):
        t = c.tick()
        rec = {"level": level, "message": msg_for(level), "service": "notifications", "timestamp": iso_expected(t, 3)}
        doc.rec(json.dumps(rec, separators=(",", ":")), Stamp(t, 3), level, "notifications")
    doc.save()
    doc = Doc("winston", "mailer.log")
    for level in level_seq(35, (75, 10, 10, 5, 0)):
        t = c.tick()
        doc.rec(f"{iso_expected(t, 3)} [{level}]: {msg_for(level)}", Stamp(t, 3), level, "mailer")
        if level == "error" and R.random() < 0.6:
            doc.cont("Error: connect ETIMEDOUT 10.0.0.9:587")
            doc.cont("    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)")
    doc.save()


def rails():
    doc = Doc("rails", "storefront.log")
    c = Clock()
    for level in level_seq(40, (75, 8, 10, 6, 1)):
        t = c.tick()
        sev = {"critical": "FATAL"}.get(level, level.upper())
        ts = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}"
        req = uid()
        prog, comp = ("sidekiq", "storefront") if R.random() < 0.2 else ("", "storefront")
        if level == "info" and not prog:
            msg = R.choice([f'Started GET "{fill("{path}")}" for {ip()} at {t.strftime("%Y-%m-%d %H:%M:%S")} +0000',
                            f"Completed 200 OK in {R.randrange(3, 400)}ms (Views: {R.randrange(1, 90)}.{R.randrange(0, 9)}ms | ActiveRecord: {R.randrange(1, 50)}.{R.randrange(0, 9)}ms)"])
        else:
            msg = msg_for(level)
        doc.rec(f"{sev[0]}, [{ts} #{R.randrange(100, 9999)}] {sev:>5} -- {prog}: [{req}] {msg}", Stamp(t, 6), level, comp)
    doc.save()


# ---------------------------------------------------------------- web servers, proxies


def status_level(code):
    return "error" if code >= 500 else "warn" if code >= 400 else "info"


UA = ['"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"',
      '"curl/8.5.0"', '"kube-probe/1.31"', '"python-httpx/0.27.0"']


def nginx():
    doc = Doc("nginx", "access.log")
    c = Clock()
    for _ in range(60):
        t = c.tick()
        code = R.choices([200, 201, 204, 301, 304, 400, 401, 404, 429, 500, 502, 503, 504], weights=[40, 5, 5, 2, 5, 3, 3, 6, 2, 3, 3, 2, 1])[0]
        ts = t.strftime("%d/%b/%Y:%H:%M:%S +0000")
        req = f'{R.choice(["GET", "POST", "PUT", "DELETE"])} {fill("{path}")}?q={R.randrange(1, 99)} HTTP/1.1'
        user = R.choice(["-", "-", "alice"])
        doc.rec(f'{ip()} - {user} [{ts}] "{req}" {code} {R.randrange(0, 90000)} "-" {R.choice(UA)}', Stamp(t, 0), status_level(code), "nginx")
    doc.save()
    doc = Doc("nginx", "error.log")
    for level in level_seq(30, (60, 0, 25, 13, 2)):
        t = c.tick()
        word = {"info": "notice", "warn": "warn", "error": "error", "critical": "crit"}[level]
        exp = {"info": "notice"}.get(level, level)
        msg = R.choice([
            f'*{R.randrange(1, 9999)} connect() failed (111: Connection refused) while connecting to upstream, client: {ip()}, server: shop.example.com, request: "GET /api/v1/cart HTTP/1.1", upstream: "http://{ip()}:8080/api/v1/cart", host: "shop.example.com"',
            f"*{R.randrange(1, 9999)} upstream timed out (110: Connection timed out) while reading response header from upstream, client: {ip()}",
            "signal process started",
            f"worker process {R.randrange(100, 999)} exited with code 0",
        ])
        doc.rec(f"{t.strftime('%Y/%m/%d %H:%M:%S')} [{word}] {R.randrange(1, 99)}#{R.randrange(1, 99)}: {msg}", Stamp(t, 0), exp, "nginx")
    doc.save()


def apache():
    doc = Doc("apache2", "error.log")
    c = Clock()
    for level in level_seq(35, (55, 5, 25, 13, 2)):
        t = c.tick()
        word = {"info": "notice", "debug": "debug", "warn": "warn", "error": "error", "critical": "crit"}[level]
        exp = {"info": "notice"}.get(level, level)
        mod = R.choice(["core", "mpm_event", "proxy", "ssl", "authz_core"])
        ts = t.strftime("%a %b %d %H:%M:%S.") + f"{t.microsecond:06d} {t.year}"
        client = f" [client {ip()}:{R.randrange(30000, 60000)}]" if R.random() < 0.5 else ""
        msg = R.choice([
            "AH00094: Command line: '/usr/sbin/apache2'",
            f"(111)Connection refused: AH00957: http: attempt to connect to {ip()}:8080 (backend) failed",
            "AH01630: client denied by server configuration: /var/www/html/.env",
            "AH00489: Apache/2.4.62 (Debian) configured -- resuming normal operations",
        ])
        doc.rec(f"[{ts}] [{mod}:{word}] [pid {R.randrange(100, 9999)}:tid {R.randrange(10 ** 14, 10 ** 15)}]{client} {msg}", Stamp(t, 6), exp, "apache2")
    doc.save()


def haproxy():
    doc = Doc("haproxy", "haproxy.log")
    c = Clock()
    for i in range(50):
        t = c.tick()
        ts = t.strftime("%b %d %H:%M:%S").replace(" 0", "  ", 1) if t.day < 10 else t.strftime("%b %d %H:%M:%S")
        if i % 17 == 5:
            # local0.alert (16*8+1): a server going down.
            doc.rec(f"<129>{ts} lb-1 haproxy[{R.randrange(100, 999)}]: Server be_app/app-{R.randrange(1, 4)} is DOWN, reason: Layer4 connection problem, info: \"Connection refused\", check duration: 0ms. 2 active and 0 backup servers left.",
                    Stamp(t.replace(year=2025), 0), "critical", "haproxy")
            continue
        code = R.choices([200, 200, 200, 304, 404, 503], weights=[50, 10, 10, 5, 5, 5])[0]
        acc = t.strftime("%d/%b/%Y:%H:%M:%S.") + f"{t.microsecond // 1000:03d}"
        line = (f"<134>{ts} lb-1 haproxy[{R.randrange(100, 999)}]: {ip()}:{R.randrange(30000, 60000)} [{acc}] fe_http~ be_app/app-{R.randrange(1, 4)} "
                f"0/0/{R.randrange(0, 5)}/{R.randrange(1, 400)}/{R.randrange(1, 400)} {code} {R.randrange(100, 9000)} - - ---- 12/12/3/1/0 0/0 \"GET {fill('{path}')} HTTP/1.1\"")
        doc.rec(line, Stamp(t.replace(year=2025, microsecond=0), 0), status_level(code), "haproxy")
    doc.save()


def envoy():
    doc = Doc("envoy", "front-envoy.log")
    c = Clock()
    for i in range(50):
        t = c.tick()
        if i % 4 == 0:
            level = R.choice(["info", "warning", "error", "debug"])
            exp = {"warning": "warn"}.get(level, level)
            ts = t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"
            logger = R.choice(["config", "upstream", "main", "connection"])
            msg = R.choice(["StreamAggregatedResources gRPC config stream to xds_cluster closed: 14, upstream connect error",
                            "cds: added/updated 3 cluster(s), skipped 0 unmodified cluster(s)",
                            "all clusters initialized. initializing init manager"])
            doc.rec(f"[{ts}][{R.randrange(1, 40)}][{level}][{logger}] [source/common/config/grpc_stream.h:{R.randrange(100, 300)}] {msg}", Stamp(t, 3), exp, "front-envoy")
            continue
        code = R.choices([200, 200, 404, 503, 504], weights=[60, 20, 8, 8, 4])[0]
        flags = {503: "UF", 504: "UT"}.get(code, "-")
        ts = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
        doc.rec(f'[{ts}] "GET {fill("{path}")} HTTP/1.1" {code} {flags} 0 {R.randrange(0, 9000)} {R.randrange(1, 900)} {R.randrange(1, 900)} "{ip()}" {R.choice(UA)} "{uid()}" "shop.example.com" "{ip()}:8080"',
                Stamp(t, 3), status_level(code), "front-envoy")
    doc.save()


# ---------------------------------------------------------------- databases and stores


def postgres():
    doc = Doc("postgres", "postgresql-2025-11-03_000000.log")
    c = Clock()
    for level in level_seq(45, (65, 0, 12, 18, 5)):
        t = c.tick()
        ts = t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d} UTC"
        pid = R.randrange(100, 9999)
        pre = f"{ts} [{pid}] "
        st = Stamp(t, 3)
        if level in ("info", "debug"):
            msg = R.choice(["checkpoint starting: time", f"checkpoint complete: wrote {R.randrange(1, 900)} buffers ({R.randrange(1, 9)}.{R.randrange(0, 9)}%)",
                            f"connection received: host={ip()} port={R.randrange(30000, 60000)}", "automatic vacuum of table \"shop.public.orders\": index scans: 1",
                            "database system is ready to accept connections"])
            doc.rec(f"{pre}LOG:  {msg}", st, "info", "postgresql")
            if msg.startswith("automatic vacuum"):
                doc.cont("\tpages: 0 removed, 1212 remain, 0 skipped due to pins")
                doc.cont("\ttuples: 18 removed, 40210 remain, 0 are dead but not yet removable")
        elif level == "warn":
            doc.rec(f"{pre}WARNING:  there is no transaction in progress", st, "warn", "postgresql")
        elif level == "error":
            kind = R.randrange(3)
            if kind == 0:
                doc.rec(f'{pre}ERROR:  duplicate key value violates unique constraint "orders_pkey"', st, "error", "postgresql")
                doc.cont(f"{pre}DETAIL:  Key (id)=({R.randrange(1, 99999)}) already exists.")
                doc.cont(f"{pre}STATEMENT:  INSERT INTO orders (id, customer_id, total)")
                doc.cont("\tVALUES ($1, $2, $3)")
            elif kind == 1:
                doc.rec(f'{pre}ERROR:  relation "order_items" does not exist at character 15', st, "error", "postgresql")
                doc.cont(f"{pre}HINT:  Perhaps you meant to reference the table \"public.line_items\".")
                doc.cont(f"{pre}STATEMENT:  SELECT * FROM order_items WHERE order_id = 42")
            else:
                doc.rec(f"{pre}ERROR:  canceling statement due to statement timeout", st, "error", "postgresql")
                doc.cont(f"{pre}CONTEXT:  while updating tuple (12,7) in relation \"payments\"")
        else:
            doc.rec(f'{pre}FATAL:  password authentication failed for user "{fill("{user}")}"', st, "critical", "postgresql")
            doc.cont(f'{pre}DETAIL:  Connection matched pg_hba.conf line 99: "host all all 0.0.0.0/0 scram-sha-256"')
    doc.save()


def mysql():
    doc = Doc("mysql", "mysqld.log")
    c = Clock()
    for level in level_seq(40, (70, 0, 18, 12, 0)):
        t = c.tick()
        word = {"info": R.choice(["System", "Note"]), "warn": "Warning", "error": "ERROR"}[level]
        code = R.choice(["MY-010931", "MY-013602", "MY-010068", "MY-011071", "MY-012574"])
        sub = R.choice(["Server", "InnoDB", "Repl"])
        ts = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}Z"
        doc.rec(f"{ts} {R.randrange(0, 90)} [{word}] [{code}] [{sub}] {msg_for(level)}", Stamp(t, 6), level, "mysqld")
    doc.save()
    doc = Doc("mysql", "mariadb.err")
    for level in level_seq(25, (70, 0, 18, 12, 0)):
        t = c.tick()
        word = {"info": "Note", "warn": "Warning", "error": "ERROR"}[level]
        doc.rec(f"{t.strftime('%Y-%m-%d %H:%M:%S')} {R.randrange(0, 40)} [{word}] InnoDB: {msg_for(level)}", Stamp(t, 0), level, "mariadb")
    doc.save()


def mongodb():
    doc = Doc("mongodb", "mongod.log")
    c = Clock()
    for level in level_seq(40, (70, 8, 14, 8, 0)):
        t = c.tick()
        s = {"info": "I", "debug": "D1", "warn": "W", "error": "E"}[level]
        rec = {"t": {"$date": t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+00:00"}, "s": s,
               "c": R.choice(["NETWORK", "COMMAND", "REPL", "STORAGE", "ACCESS"]), "id": R.randrange(20000, 5000000),
               "ctx": R.choice(["conn12", "listener", "ReplCoord-3", "Checkpointer"]), "msg": msg_for(level),
               "attr": {"remote": f"{ip()}:{R.randrange(30000, 60000)}", "durationMillis": R.randrange(1, 900)}}
        doc.rec(json.dumps(rec, separators=(",", ":")), Stamp(t, 3), level, "mongod")
    doc.save()


def redis():
    doc = Doc("redis", "redis-server.log")
    c = Clock()
    for level in level_seq(40, (50, 20, 25, 5, 0)):
        t = c.tick()
        mark, exp = {"info": ("*", "notice"), "debug": ("-", "debug"), "warn": ("#", "warn"), "error": ("#", "warn")}[level]
        role = R.choice(["M", "M", "S", "C"])
        msg = R.choice(["Background saving started by pid {n}", "DB saved on disk", "Ready to accept connections tcp",
                        "Accepted {ip}:6379", "Client closed connection"]) if mark != "#" else R.choice(
            ["WARNING: The TCP backlog setting of 511 cannot be enforced because /proc/sys/net/core/somaxconn is set to the lower value of 128.",
             "Warning: no config file specified, using the default config."])
        if level == "error":
            msg = "Error trying to save the DB, can't exit."
            exp = "error"
        ts = t.strftime("%d %b %Y %H:%M:%S.") + f"{t.microsecond // 1000:03d}"
        doc.rec(f"{R.randrange(1, 999)}:{role} {ts} {mark} {fill(msg)}", Stamp(t, 3), exp, "redis-server")
    doc.save()


# ---------------------------------------------------------------- infrastructure


def minio():
    doc = Doc("minio", "minio.log")
    banner = ["MinIO Object Storage Server", "Copyright: 2015-2025 MinIO, Inc.",
              "License: GNU AGPLv3 - https://www.gnu.org/licenses/agpl-3.0.html",
              "Version: RELEASE.2025-09-07T16-13-09Z (go1.24.6 linux/amd64)", "",
              "API: http://10.0.3.4:9000  http://127.0.0.1:9000", "WebUI: http://10.0.3.4:9001 http://127.0.0.1:9001", "",
              "Docs: https://docs.min.io"]
    # The banner is one record of startup text (no header, lines run on).
    doc.rec(banner[0], None, "info", "minio")
    for l in banner[1:]:
        if l == "":
            doc.blank()
        else:
            doc.cont(l)
    c = Clock()
    for i in range(9):
        t = c.tick(5, 60)
        doc.blank()
        api = R.choice(["SYSTEM()", "SYSTEM.grid", f"PutObject(bucket={fill('{bucket}')}, object=features/part-{R.randrange(1, 9999):05d}.parquet)",
                        f"GetObject(bucket={fill('{bucket}')}, object=model-{R.randrange(1, 40)}.bin)"])
        t = t.replace(microsecond=0)
        doc.rec(f"API: {api}", Stamp(t, 0), "error", "minio")
        doc.cont(f"Time: {t.strftime('%H:%M:%S')} UTC {t.strftime('%m/%d/%Y')}")
        doc.cont(f"DeploymentID: {uid()}")
        if "Object" in api:
            doc.cont(f"RequestID: {hexid(16).upper()}")
            doc.cont(f"RemoteHost: {ip()}")
            doc.cont("UserAgent: MinIO (linux; amd64) minio-go/v7.0.95")
        err = R.choice([
            "Storage resources are insufficient for the write operation .minio.sys/tmp (cmd.InsufficientWriteQuorum)",
            f"Drive http://10.0.3.{R.randrange(2, 9)}:9000/data1 is offline (*errors.errorString)",
            "grid: http://minio-0.minio:9000 connecting to ws://minio-2.minio:9000/minio/grid/v1: dial tcp: lookup minio-2.minio: no such host (*net.DNSError) Sleeping 1.2s (3) (*fmt.wrapError)",
        ])
        doc.cont(f"Error: {err}")
        for k in range(R.randrange(3, 7), 0, -1):
            doc.cont(f"       {k}: {R.choice(['internal/logger/logger.go:268:logger.LogIf()', 'cmd/erasure-object.go:1404:cmd.erasureObjects.putObject()', 'internal/grid/connection.go:688:grid.(*Connection).connect()'])}")
    doc.save()


def coredns():
    doc = Doc("coredns", "coredns.log")
    doc.rec(".:53", None, "info", "coredns")
    doc.cont("CoreDNS-1.11.3")
    doc.cont("linux/amd64, go1.21.11, a6338e9")
    for level in level_seq(40, (70, 0, 10, 20, 0)):
        if level == "info":
            if R.random() < 0.6:
                q = f'[INFO] {ip()}:{R.randrange(30000, 60000)} - {R.randrange(1, 65535)} "{R.choice(["A", "AAAA", "SRV"])} IN {R.choice(["api.shop.svc.cluster.local.", "db-primary.shop.svc.cluster.local.", "example.org."])} udp {R.randrange(30, 90)} false 512" NOERROR qr,aa,rd {R.randrange(60, 200)} 0.000{R.randrange(100, 999)}s'
            else:
                q = "[INFO] plugin/reload: Running configuration SHA512 = " + hexid(32)
            doc.rec(q, None, "info", "coredns")
        elif level == "warn":
            doc.rec("[WARNING] plugin/kubernetes: starting server with unsynced Kubernetes API", None, "warn", "coredns")
        else:
            doc.rec(f'[ERROR] plugin/errors: 2 {R.choice(["example.org.", "registry.internal."])} A: read udp {ip()}:{R.randrange(30000, 60000)}->10.96.0.10:53: i/o timeout', None, "error", "coredns")
    doc.save()


def journald():
    c = Clock()
    doc = Doc("journald", "node-json.log")
    units = [("kubelet", "kubelet.service"), ("containerd", "containerd.service"), ("systemd", None), ("sshd", "ssh.service")]
    for level in level_seq(35, (70, 5, 12, 10, 3)):
        t = c.tick()
        ident, unit = R.choice(units)
        prio = {"debug": 7, "info": 6, "warn": 4, "error": 3, "critical": 2}[level]
        rec = {"__CURSOR": f"s={hexid(32)};i={R.randrange(1, 9999):x}", "__REALTIME_TIMESTAMP": str(int(t.timestamp() * 10 ** 6)),
               "__MONOTONIC_TIMESTAMP": str(R.randrange(10 ** 9, 10 ** 10)), "_BOOT_ID": hexid(32), "PRIORITY": str(prio),
               "_HOSTNAME": "node-3", "SYSLOG_IDENTIFIER": ident, "_PID": str(R.randrange(100, 9999)), "MESSAGE": msg_for(level)}
        if unit:
            rec["_SYSTEMD_UNIT"] = unit
        doc.rec(json.dumps(rec), Stamp(t, 6), level, ident)
    doc.save()
    doc = Doc("journald", "node-short-iso.log")
    for level in level_seq(35, (80, 0, 10, 10, 0)):
        t = c.tick().replace(microsecond=0)
        ident = R.choice(["kubelet", "containerd", "systemd", "kernel"])
        if ident == "kubelet":
            letter = {"info": "I", "warn": "W", "error": "E"}[level]
            kt = t.strftime("%m%d %H:%M:%S.") + f"{R.randrange(0, 999999):06d}"
            msg = f'{letter}{kt}    {R.randrange(1000, 3000)} pod_workers.go:1298] "{msg_for(level)}"'
        elif ident == "kernel":
            msg = f"[{R.randrange(100, 99999)}.{R.randrange(0, 999999):06d}] eth0: Link is Up - 10Gbps/Full - flow control off"
            level = "info"
        else:
            msg = msg_for(level) if level == "info" else f"{'error' if level == 'error' else 'warning'}: {msg_for(level)}"
        tag = "kernel" if ident == "kernel" else f"{ident}[{R.randrange(1, 9999)}]"
        doc.rec(f"{t.strftime('%Y-%m-%dT%H:%M:%S')}+0000 node-3 {tag}: {msg}", Stamp(t, 0), level, ident)
    doc.save()


def syslog():
    c = Clock()
    doc = Doc("syslog", "messages")
    for level in level_seq(40, (80, 0, 10, 10, 0)):
        t = c.tick().replace(microsecond=0)
        ts = t.strftime("%b %d %H:%M:%S").replace(" 0", "  ", 1) if t.day < 10 else t.strftime("%b %d %H:%M:%S")
        prog = R.choice(["sshd", "CRON", "systemd", "dhclient", "postfix/smtpd"])
        msg = {
            "sshd": R.choice([f"Accepted publickey for deploy from {ip()} port {R.randrange(30000, 60000)} ssh2: ED25519 SHA256:{hexid(20)}",
                              f"Invalid user admin from {ip()} port {R.randrange(30000, 60000)}",
                              f"error: kex_exchange_identification: Connection closed by remote host"]),
            "CRON": f"(root) CMD (/usr/local/bin/backup.sh >/dev/null 2>&1)",
            "systemd": R.choice(["Started Session 42 of User deploy.", "Stopping nginx.service - A high performance web server..."]),
            "dhclient": f"DHCPACK of {ip()} from 10.0.0.1",
            "postfix/smtpd": f"warning: hostname mail.example.net does not resolve to address {ip()}",
        }[prog]
        exp = "error" if msg.startswith("error:") else "warn" if msg.startswith("warning:") else "info"
        doc.rec(f"{ts} web-2 {prog}[{R.randrange(100, 99999)}]: {msg}", Stamp(t.replace(year=2025), 0), exp, prog)
    doc.save()
    doc = Doc("syslog", "rfc5424.log")
    for level in level_seq(30, (70, 5, 12, 10, 3)):
        t = c.tick()
        sev = {"debug": 7, "info": 6, "warn": 4, "error": 3, "critical": 2}[level]
        app = R.choice(["billing", "scheduler", "audit"])
        sd = R.choice(["-", f'[meta@32473 requestId="{uid()}"]', f'[otel@32473 trace_id="{hexid(32)}" span_id="{hexid(16)}"]'])
        ts = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+01:00"
        local = Stamp(t, 3)
        shifted = Stamp(t - dt.timedelta(hours=1), 3)
        doc.rec(f"<{16 * 8 + sev}>1 {ts} app-host-1 {app} {R.randrange(100, 9999)} ID{R.randrange(1, 99)} {sd} {msg_for(level)}", shifted, level, app)
    doc.save()


def k8s_events():
    doc = Doc("k8s-events", "events.jsonl")
    c = Clock()
    for _ in range(35):
        t = c.tick().replace(microsecond=0)
        pod = f"api-7d9f8b6c5d-{hexid(5)}"
        kind, reason, msg = R.choice([
            ("Normal", "Scheduled", f"Successfully assigned shop/{pod} to node-3"),
            ("Normal", "Pulled", 'Container image "registry.internal/api:1.8.2" already present on machine'),
            ("Warning", "BackOff", "Back-off restarting failed container api in pod"),
            ("Warning", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503"),
            ("Normal", "Killing", "Stopping container api"),
        ])
        rec = {"kind": "Event", "apiVersion": "v1", "metadata": {"name": f"{pod}.{hexid(16)}", "namespace": "shop"},
               "involvedObject": {"kind": "Pod", "namespace": "shop", "name": pod}, "reason": reason, "message": msg,
               "source": {"component": "kubelet", "host": "node-3"}, "firstTimestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
               "lastTimestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "count": R.randrange(1, 20), "type": kind}
        doc.rec(json.dumps(rec), Stamp(t, 0), "warn" if kind == "Warning" else "info", pod)
    doc.save()


# ---------------------------------------------------------------- wrappers


def docker_json():
    cid = hexid(64)
    doc = Doc("docker", f"{cid}/{cid}-json.log")
    comp = cid[:12]
    c = Clock()

    def entry(inner, t, stream="stderr"):
        return json.dumps({"log": inner + "\n", "stream": stream, "time": iso_expected(t, 6)[:-1] + "789Z"})

    for level in level_seq(35, (75, 5, 10, 8, 2)):
        t = c.tick()
        ts = t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}"
        doc.rec(entry(f"{ts} - worker - {py_level(level)} - {msg_for(level)}", t), Stamp(t, 3), level, comp)
        if level in ("error", "critical"):
            tb, _ = py_traceback()
            for l in tb:
                c.tick(0.0001, 0.001)
                doc.cont(entry(l, c.t))
    # A line the runtime printed without a header of its own: Docker's time is its time.
    t = c.tick()
    doc.rec(entry("Starting worker with 4 threads", t, "stdout"), Stamp(t, 9, "789"), "info", comp)
    doc.save()


def cri():
    cid = hexid(64)
    doc = Doc("cri", f"containers/api-7d9f8b6c5d-x2x9q_shop_api-{cid}.log")
    c = Clock()
    for level in level_seq(40):
        t = c.tick()
        rt = iso_expected(t, 6)[:-1] + "123Z"
        stream = "stderr" if level in ("warn", "error", "critical") else "stdout"
        lvl = {"critical": "ERROR"}.get(level, level.upper())
        exp = {"critical": "error"}.get(level, level)
        inner_ts = t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"
        msg = msg_for(level)
        if level == "info" and R.random() < 0.15:
            # A long line the runtime split: P then F.
            cut = len(msg) // 2
            doc.rec(f"{rt} {stream} P {inner_ts} {lvl:>5} 1 --- [main] c.e.api.Service : {msg[:cut]}", Stamp(t, 3), exp, "api")
            doc.cont(f"{rt} {stream} F {msg[cut:]}")
            continue
        doc.rec(f"{rt} {stream} F {inner_ts} {lvl:>5} 1 --- [main] c.e.api.Service : {msg}", Stamp(t, 3), exp, "api")
        if lvl == "ERROR":
            for l in java_stack("com.example.api"):
                doc.cont(f"{rt} {stream} F {l}")
    doc.save()


def compose():
    doc = Doc("compose", "compose.log")
    c = Clock()
    names = {"airflow-scheduler-1": 20, "redis-1": 10, "postgres-1": 11, "api-1": 6, "nginx-1": 8}
    width = max(len(n) for n in names) + 1

    def pre(n):
        return f"{n:<{width}}| "

    for _ in range(70):
        t = c.tick()
        svc = R.choice(list(names))
        p = pre(svc)
        if svc == "airflow-scheduler-1":
            level = R.choice(["info", "info", "info", "warn", "error"])
            ts = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}+0000"
            msg = msg_for(level) if level != "error" else "Task failed with exception"
            doc.rec(f"{p}[{ts}] {{scheduler_job_runner.py:{R.randrange(100, 900)}}} {py_level(level)} - {msg}", Stamp(t, 3), level, svc)
            if level == "error":
                add_py_traceback(doc, wrap=lambda s, p=p: (p + s) if s else p.rstrip())
        elif svc == "redis-1":
            ts = t.strftime("%d %b %Y %H:%M:%S.") + f"{t.microsecond // 1000:03d}"
            doc.rec(f"{p}1:M {ts} * {fill(R.choice(['DB saved on disk', 'Background saving started by pid {n}']))}", Stamp(t, 3), "notice", svc)
        elif svc == "postgres-1":
            ts = t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d} UTC"
            if R.random() < 0.3:
                doc.rec(f"{p}{ts} [{R.randrange(60, 99)}] ERROR:  deadlock detected", Stamp(t, 3), "error", svc)
                doc.cont(f"{p}{ts} [{R.randrange(60, 99)}] DETAIL:  Process 71 waits for ShareLock on transaction 1207; blocked by process 88.")
            else:
                doc.rec(f"{p}{ts} [{R.randrange(60, 99)}] LOG:  checkpoint starting: time", Stamp(t, 3), "info", svc)
        elif svc == "api-1":
            level = R.choice(["info", "info", "warn", "error"])
            rec = {"time": iso_expected(t, 3), "level": level.upper(), "msg": msg_for(level), "service": "shop-api"}
            doc.rec(f"{p}{json.dumps(rec)}", Stamp(t, 3), level, "shop-api")
        else:
            code = R.choice([200, 200, 404, 502])
            ts = t.strftime("%d/%b/%Y:%H:%M:%S +0000")
            doc.rec(f'{p}{ip()} - - [{ts}] "GET {fill("{path}")} HTTP/1.1" {code} {R.randrange(10, 9000)} "-" "curl/8.5.0"', Stamp(t, 0), status_level(code), svc)
    doc.save()


def kubectl_prefix():
    doc = Doc("compose", "kubectl-prefix.log")
    c = Clock()
    for _ in range(30):
        t = c.tick()
        pod, ctr = R.choice([("api-7d9f8b6c5d-x2x9q", "api"), ("api-7d9f8b6c5d-x2x9q", "istio-proxy"), ("worker-5c7b9-ab12c", "worker")])
        level = R.choice(["info", "info", "warn", "error"])
        ts = iso_expected(t, 3)
        doc.rec(f"[pod/{pod}/{ctr}] {ts} {level.upper()} {msg_for(level)}", Stamp(t, 3), level, ctr)
    doc.save()


# ---------------------------------------------------------------- platforms, epochs


def windows_cbs():
    doc = Doc("windows", "CBS.log")
    c = Clock()
    for level in level_seq(40, (80, 0, 12, 8, 0)):
        t = c.tick().replace(microsecond=0)
        word = {"info": "Info", "warn": "Warning", "error": "Error"}[level]
        comp = R.choice(["CBS", "CSI", "DPX"])
        msg = R.choice([
            "Loaded Servicing Stack v10.0.17763.6640 with Core: C:\\Windows\\winsxs\\amd64_microsoft-windows-servicingstack\\cbscore.dll",
            f"Session: 31143012_{R.randrange(10 ** 9, 10 ** 10)} initialized by client WindowsUpdateAgent.",
            f"Exec: Processing complete.  Session: 31143012_{R.randrange(10 ** 9, 10 ** 10)}, Package: Package_for_RollupFix~31bf3856ad364e35~amd64~~17763.6659.1.3 [HRESULT = 0x00000000 - S_OK]",
            "Failed to get next element [HRESULT = 0x800f0805 - CBS_E_INVALID_PACKAGE]",
        ]) if level != "error" else "Failed to resolve package [HRESULT = 0x800f081f - CBS_E_SOURCE_MISSING]"
        doc.rec(f"{t.strftime('%Y-%m-%d %H:%M:%S')}, {word:<22}{comp:<7}{msg}", Stamp(t, 0), level, "CBS")
    doc.save()


def logcat():
    doc = Doc("android", "logcat.txt")
    c = Clock()
    for _ in range(40):
        t = c.tick()
        letter = R.choices("VDIWEF", weights=[3, 10, 60, 12, 12, 3])[0]
        level = {"V": "trace", "D": "debug", "I": "info", "W": "warn", "E": "error", "F": "critical"}[letter]
        tag, comp = R.choice([("ActivityManager", "logcat"), ("OkHttp", "logcat"), ("chatty", "logcat"),
                              ("com.example.shop", "logcat"), ("SQLiteLog", "logcat")])
        ts = t.strftime("%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"
        pid, tid = R.randrange(100, 30000), R.randrange(100, 30000)
        doc.rec(f"{ts} {pid:>5} {tid:>5} {letter} {tag:<8}: {msg_for(level if level in ('info', 'warn', 'error', 'critical') else 'info')}", Stamp(t, 3), level, comp)
    t = c.tick()
    ts = t.strftime("%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"
    # Every line of a crash has its own header: each is its own record.
    for l in ["FATAL EXCEPTION: main", "Process: com.example.shop, PID: 4242",
              "java.lang.NullPointerException: Attempt to invoke virtual method 'int java.lang.String.length()' on a null object reference",
              "\tat com.example.shop.CartActivity.onCreate(CartActivity.java:58)"]:
        doc.rec(f"{ts}  4242  4242 E AndroidRuntime: {l}", Stamp(t, 3), "error", "logcat")
    doc.save()


def epochs():
    c = Clock()
    doc = Doc("epoch", "epoch-seconds.log")
    for level in level_seq(25, (75, 5, 15, 5, 0)):
        t = c.tick().replace(microsecond=0)
        doc.rec(f"{int(t.timestamp())} {level.upper()} [worker-{R.randrange(1, 9)}] {msg_for(level)}", Stamp(t, 0), level, "epoch-seconds")
    doc.save()
    doc = Doc("epoch", "epoch-millis.log")
    for level in level_seq(25, (75, 5, 15, 5, 0)):
        t = trunc(c.tick(), 3)
        doc.rec(f"{int(t.timestamp() * 1000)} {level.upper()} {msg_for(level)}", Stamp(t, 3), level, "epoch-millis")
    doc.save()
    doc = Doc("epoch", "epoch-micros.log")
    for level in level_seq(25, (75, 5, 15, 5, 0)):
        t = c.tick()
        us = int(t.timestamp()) * 10 ** 6 + t.microsecond
        doc.rec(json.dumps({"ts": us, "severity": level.upper(), "message": msg_for(level), "service": "ingest"}), Stamp(t, 6), level, "ingest")
    doc.save()
    doc = Doc("epoch", "epoch-nanos.log")
    for level in level_seq(25, (75, 5, 15, 5, 0)):
        t = c.tick()
        ns = (int(t.timestamp()) * 10 ** 6 + t.microsecond) * 1000 + 456
        doc.rec(f"ts={ns} level={level} msg=\"{msg_for(level)}\" component=exporter", Stamp(t, 9, "456"), level, "epoch-nanos")
    doc.save()
    doc = Doc("epoch", "epoch-fraction.log")
    for level in level_seq(20, (75, 5, 15, 5, 0)):
        t = c.tick()
        doc.rec(f"{int(t.timestamp())}.{t.microsecond:06d} {level.upper()} {msg_for(level)}", Stamp(t, 6), level, "epoch-fraction")
    doc.save()


# ---------------------------------------------------------------- odd and mixed


def hostile():
    """Hand-written odd lines: the annotation is written with each."""
    doc = Doc("hostile", "edge-cases.log")
    T = lambda s: Stamp(dt.datetime.fromisoformat(s), 3 if "." in s else 0)  # noqa: E731
    doc.rec("2025-11-03 20:36:40 ERROR 500", T("2025-11-03T20:36:40+00:00"), "error", "edge-cases")
    doc.rec("2025-11-03T20:36:40Z ERROR exit 137", T("2025-11-03T20:36:40+00:00"), "error", "edge-cases")
    doc.rec("2025-11-03 20:36:41 INFO fetched «https://example.com/a?b=1»", T("2025-11-03T20:36:41+00:00"), "info", "edge-cases")
    doc.rec("2025-11-03 20:36:41 INFO 下载完成 → https://mirror.example.cn/pkg.tar.gz", T("2025-11-03T20:36:41+00:00"), "info", "edge-cases")
    doc.rec("2025-11-03 20:36:42 WARN retry → ftp://files.example.org/x (attempt 3)", T("2025-11-03T20:36:42+00:00"), "warn", "edge-cases")
    doc.rec("2025-11-03 20:36:42.500 INFO processed 0 errors, error_count=0", T("2025-11-03T20:36:42.500+00:00"), "info", "edge-cases")
    doc.rec("2025-11-03 20:36:43 INFO [[[[[[[[ unbalanced ]]", T("2025-11-03T20:36:43+00:00"), "info", "edge-cases")
    doc.rec("2025-11-03 20:36:43 DEBUG {\"not\": \"closed\"", T("2025-11-03T20:36:43+00:00"), "debug", "edge-cases")
    doc.rec("2025-11-03 20:36:44 INFO a | b | c || d", T("2025-11-03T20:36:44+00:00"), "info", "edge-cases")
    doc.rec("2025-11-03 20:36:44 ERROR " + "x" * 3000, T("2025-11-03T20:36:44+00:00"), "error", "edge-cases")
    doc.rec("2025-11-03 20:36:45 INFO tab\tseparated\tvalues\there", T("2025-11-03T20:36:45+00:00"), "info", "edge-cases")
    doc.rec("2025-11-03 20:36:45 WARN emoji 🚀 and ünïcödé in text", T("2025-11-03T20:36:45+00:00"), "warn", "edge-cases")
    doc.rec(b"2025-11-03 20:36:46 ERROR invalid bytes \xff\xfe here", T("2025-11-03T20:36:46+00:00"), "error", "edge-cases")
    doc.rec("2025-11-03 20:36:46 INFO level words later: ERROR WARN FATAL in the text", T("2025-11-03T20:36:46+00:00"), "info", "edge-cases")
    doc.rec("2025-11-03 20:36:47 INFO <script>alert(1)</script> <img src=x onerror=alert(2)>", T("2025-11-03T20:36:47+00:00"), "info", "edge-cases")
    doc.rec("2025-11-03 20:36:47 INFO path C:\\Windows\\System32\\drivers\\etc\\hosts", T("2025-11-03T20:36:47+00:00"), "info", "edge-cases")
    doc.rec("2025-11-03 20:36:48 CRITICAL disk /dev/sda1 failed SMART check", T("2025-11-03T20:36:48+00:00"), "critical", "edge-cases")
    doc.rec("2025-11-03 20:36:48 ERROR 2025-11-03 20:36:48 nested timestamp in message", T("2025-11-03T20:36:48+00:00"), "error", "edge-cases")
    doc.rec("2025-11-03 20:36:49 INFO ================================================", T("2025-11-03T20:36:49+00:00"), "info", "edge-cases")
    doc.blank()
    doc.blank("   ")
    doc.blank("\t")
    doc.rec("2025-11-03 20:36:50 ERROR job failed:", T("2025-11-03T20:36:50+00:00"), "error", "edge-cases")
    doc.cont("    first indented detail")
    doc.cont("\tsecond detail with a tab")
    doc.rec("2025-11-03 20:36:51 INFO after the details", T("2025-11-03T20:36:51+00:00"), "info", "edge-cases")
    doc.rec("2025-11-03 20:36:51 WARN 9999-99-99 99:99:99 is no date", T("2025-11-03T20:36:51+00:00"), "warn", "edge-cases")
    doc.rec("2025-11-03 20:36:52 INFO key=value key2=\"quoted value\" key3=", T("2025-11-03T20:36:52+00:00"), "info", "edge-cases")
    doc.rec("2025-11-03 20:36:52 ERROR Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space", T("2025-11-03T20:36:52+00:00"), "error", "edge-cases")
    doc.rec("2025-11-03 20:36:53 INFO \u200bzero-width and \u00a0no-break spaces", T("2025-11-03T20:36:53+00:00"), "info", "edge-cases")
    doc.rec("2025-11-03 20:36:53 INFO done", T("2025-11-03T20:36:53+00:00"), "info", "edge-cases")
    doc.save(newline="\r\n")


def mixed():
    doc = Doc("mixed", "ml-serving.log")
    c = Clock()
    for _ in range(40):
        t = c.tick()
        kind = R.random()
        if kind < 0.5:
            level = R.choice(["info", "info", "warn", "error"])
            ts = t.strftime("%Y-%m-%d %H:%M:%S")
            doc.rec(f"[{ts} +0000] [{R.randrange(7, 12)}] [{py_level(level)}] {msg_for(level)}", Stamp(t, 0), level, "ml-serving")
        elif kind < 0.8:
            level = R.choice(["info", "info", "warn", "error"])
            letter = {"info": "I", "warn": "W", "error": "E"}[level]
            ts = t.strftime("%m%d %H:%M:%S.") + f"{t.microsecond:06d}"
            doc.rec(f"{letter}{ts} {R.randrange(1, 99):>6} leaderelection.go:{R.randrange(100, 400)}] {msg_for(level)}", Stamp(t, 6), level, "ml-serving")
        else:
            level = R.choice(["info", "error"])
            rec = {"ts": iso_expected(t, 3), "level": level, "msg": msg_for(level), "logger": "triton.client"}
            doc.rec(json.dumps(rec), Stamp(t, 3), level, "ml-serving")
    doc.save()


# ---------------------------------------------------------------- more services


def hclog():
    doc = Doc("hclog", "consul.log")
    c = Clock()
    for level in level_seq(40, (70, 10, 12, 8, 0)):
        t = c.tick()
        ts = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
        lvl = {"warn": "WARN"}.get(level, level.upper())
        name = R.choice(["agent", "agent.server.raft", "agent.server.serf.lan", "agent.http", "agent.leader"])
        msg = R.choice([
            f'entering follower state: follower="Node at {ip()}:8300 [Follower]" leader-address= leader-id=',
            f"Synced node info",
            f'memberlist: Suspect consul-{R.randrange(1, 4)} has failed, no acks received',
            f'Request error: method=GET url=/v1/kv/config/app from={ip()}:{R.randrange(30000, 60000)} error="rpc error making call: No cluster leader"',
        ]) if level in ("info", "debug") else msg_for(level)
        doc.rec(f"{ts} [{lvl}]  {name}: {msg}", Stamp(t, 3), level, "consul")
    doc.save()


def fluent_bit():
    doc = Doc("fluent-bit", "fluent-bit.log")
    c = Clock()
    for level in level_seq(35, (70, 10, 12, 8, 0)):
        t = c.tick().replace(microsecond=0)
        word = {"info": " info", "debug": "debug", "warn": " warn", "error": "error"}[level]
        plugin = R.choice(["engine", "input:tail:tail.0", "output:es:es.0", "fluent bit", "storage"])
        msg = R.choice(["started (pid=1)", "inotify_fs_add(): inode=1052 watch_fd=1 name=/var/log/containers/api.log",
                        f"chunk '1-{R.randrange(10 ** 9, 10 ** 10)}.{R.randrange(100, 999)}.flb' cannot be retried",
                        f"HTTP status=429 URI=/_bulk"]) if level != "info" else R.choice(["started (pid=1)", "[sp] stream processor started", "flush chunk succeeded"])
        doc.rec(f"[{t.strftime('%Y/%m/%d %H:%M:%S')}] [{word}] [{plugin}] {msg}", Stamp(t, 0), level, "fluent-bit")
    doc.save()


def cassandra():
    doc = Doc("cassandra", "system.log")
    c = Clock()
    for level in level_seq(40, (75, 5, 12, 8, 0)):
        t = c.tick()
        lvl = {"warn": "WARN"}.get(level, level.upper())
        ts = t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}"
        thread = R.choice(["main", "CompactionExecutor:4", "GossipStage:1", "MemtableFlushWriter:2", "ScheduledTasks:1"])
        src = R.choice(["CassandraDaemon.java:752", "ColumnFamilyStore.java:1015", "Gossiper.java:1138", "NoSpamLogger.java:92"])
        doc.rec(f"{lvl:<5} [{thread}] {ts} {src} - {msg_for(level)}", Stamp(t, 3), level, "cassandra")
        if level == "error" and R.random() < 0.6:
            for l in java_stack("org.apache.cassandra.db"):
                doc.cont(l)
    doc.save()


def tomcat_jul():
    doc = Doc("tomcat", "catalina.out")
    c = Clock()
    for level in level_seq(30, (70, 0, 15, 15, 0)):
        t = c.tick().replace(microsecond=0)
        word = {"info": "INFO", "warn": "WARNING", "error": "SEVERE"}[level]
        h = t.hour % 12 or 12
        ts = f"{t.strftime('%b %d, %Y')} {h}:{t.strftime('%M:%S')} {'PM' if t.hour >= 12 else 'AM'}"
        src = R.choice(["org.apache.catalina.startup.Catalina start", "org.apache.coyote.AbstractProtocol init",
                        "org.apache.catalina.core.StandardContext startInternal", "com.example.shop.web.OrderServlet doPost"])
        doc.rec(f"{ts} {src}", Stamp(t, 0), level, "catalina")
        doc.cont(f"{word}: {msg_for(level)}")
        if level == "error":
            for l in java_stack("com.example.shop.web"):
                doc.cont(l)
    doc.save()


def rabbitmq():
    doc = Doc("rabbitmq", "rabbit@mq-0.log")
    c = Clock()
    for level in level_seq(35, (70, 5, 15, 10, 0)):
        t = c.tick()
        lvl = {"warn": "warning"}.get(level, level)
        ts = t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond:06d}+00:00"
        msg = R.choice(["Starting RabbitMQ 3.13.7 on Erlang 26.2.5", f"accepting AMQP connection <0.{R.randrange(100, 9999)}.0> ({ip()}:{R.randrange(30000, 60000)} -> {ip()}:5672)",
                        f"connection <0.{R.randrange(100, 9999)}.0> ({ip()}:5672): user 'shop' authenticated and granted access to vhost '/'"]) if level in ("info", "debug") else msg_for(level)
        doc.rec(f"{ts} [{lvl}] <0.{R.randrange(100, 9999)}.0> {msg}", Stamp(t, 6), level, "rabbit@mq-0")
    doc.save()


def plain():
    doc = Doc("plain", "nightly-batch.out")
    lines = ["Loading configuration from /etc/batch/nightly.yaml", "Connecting to warehouse at db-primary:5432",
             "Processing 1200 partitions", "partition 0001 done", "partition 0002 done", "partition 0003 done",
             "Warning: partition 0004 has no rows", "partition 0005 done"]
    for l in lines:
        lv = "warn" if l.startswith("Warning") else "info"
        doc.rec(l, None, lv, "nightly-batch")
    doc.rec('Exception in thread "main" java.lang.IllegalStateException: partition 0006 is locked', None, "error", "nightly-batch")
    for l in java_stack("com.example.batch")[1:]:
        doc.cont(l)
    doc.rec("Shutting down after failure", None, "info", "nightly-batch")
    doc.rec("Retrying partition 0006 in 30 s", None, "info", "nightly-batch")
    doc.rec("Traceback (most recent call last):", None, "error", "nightly-batch")
    tb, _ = py_traceback()
    for l in tb[1:]:
        doc.cont(l)
    doc.rec("Batch finished with 0 errors after retry", None, "info", "nightly-batch")
    doc.save()


def main():
    for f in [spring_boot3, spring_boot2, spring_boot_ecs, logback, log4j2, spark, kafka, zookeeper,
              elasticsearch, python_default, python_basic, gunicorn, django, airflow, uvicorn_dotnet,
              klog, zap, logrus, containerd, zerolog, slog, go_std, pino, bunyan, winston, rails,
              nginx, apache, haproxy, envoy, postgres, mysql, mongodb, redis, minio, coredns,
              journald, syslog, k8s_events, docker_json, cri, compose, kubectl_prefix, windows_cbs,
              logcat, epochs, hostile, mixed, hclog, fluent_bit, cassandra, tomcat_jul, rabbitmq, plain]:
        f()


if __name__ == "__main__":
    main()
