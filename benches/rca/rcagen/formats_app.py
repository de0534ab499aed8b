"""Application log formats: JVM (Spring Boot, logback, Spark, Kafka clients), Python
(logging, gunicorn, uvicorn, Celery, Airflow), Go (klog, zap, logrus, slog) and Node (pino).

Each class follows the tool's documented default layout (or a documented, common
configuration of it) closely enough that a parser written from the same documentation
reads it.
"""

from __future__ import annotations

import json
import re

from .fmtbase import (
    HTTP_PHRASE, JAVA_CONT, LOGFMT_RE, PY_CONT, Fmt, abbrev_logger, fit, java_level,
    kv_quote, logfmt, parse_logfmt, py_level, with_exc,
)
from .util import Rec, offset, parse_local, parse_rfc3339, rfc3339, strf

TS_ISO_MS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(?:Z|[+-]\d\d:\d\d)"


class SpringBoot(Fmt):
    """Spring Boot's default console pattern (3.x with the application name; 2.x without)."""

    name = "spring-boot"
    cont = JAVA_CONT
    RE3 = re.compile(r"^(" + TS_ISO_MS + r")\s{1,2}(TRACE|DEBUG|INFO|WARN|ERROR) \d+ --- "
                     r"(\[[^\]]*\] )?\[.{15}\] .{40} : ")
    RE2 = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\s{1,2}(TRACE|DEBUG|INFO|WARN|ERROR)"
                     r" \d+ --- \[.{15}\] .{40} : ")

    def render(self, r: Rec, inst) -> list[str]:
        o = inst.svc.fmt_opts
        lvl = java_level(r.level).rjust(5)
        thread = fit(r.thread or "main", 15, left=False)
        logger = fit(abbrev_logger(r.logger or "com.example.Application", 39), 40, left=True)
        if o.get("boot2"):
            ts = strf(r.ts, "%Y-%m-%d %H:%M:%S.%3f", inst.tz)
            head = f"{ts} {lvl} {inst.pid} --- [{thread}] {logger} : {r.msg}"
        else:
            ts = rfc3339(r.ts, 3, inst.tz)
            app = f"[{inst.svc.name}] " if o.get("app_name", True) else ""
            head = f"{ts} {lvl} {inst.pid} --- {app}[{thread}] {logger} : {r.msg}"
        return with_exc(head, r)

    def head(self, line):
        m = self.RE3.match(line)
        if m:
            return True, parse_rfc3339(m.group(1))
        m = self.RE2.match(line)
        if m:
            return True, parse_local(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
        return False, None


class LogbackMdc(Fmt):
    """logback PatternLayout with the thread and OpenTelemetry's MDC keys:
    `%d{yyyy-MM-dd HH:mm:ss.SSS} [%thread] %-5level %logger{36} - trace_id=%X{trace_id}
    span_id=%X{span_id} trace_flags=%X{trace_flags} - %msg%n` (empty when no span)."""

    name = "logback"
    cont = JAVA_CONT
    RE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \[[^\]]+\] (TRACE|DEBUG|INFO |WARN |ERROR)"
                    r" \S+ - trace_id=([0-9a-f]{32})? span_id=([0-9a-f]{16})? trace_flags=(0[01])? - ")

    def render(self, r, inst):
        ts = strf(r.ts, "%Y-%m-%d %H:%M:%S.%3f", inst.tz)
        flags = "01" if r.trace_id and r.native.get("sampled", True) else ("00" if r.trace_id else "")
        head = (f"{ts} [{r.thread or 'main'}] {java_level(r.level):<5} "
                f"{abbrev_logger(r.logger or 'com.example.App', 36)} - trace_id={r.trace_id} "
                f"span_id={r.span_id} trace_flags={flags} - {r.msg}")
        return with_exc(head, r)

    def head(self, line):
        m = self.RE.match(line)
        return (True, parse_local(m.group(1), "%Y-%m-%d %H:%M:%S.%f")) if m else (False, None)


class PyLogging(Fmt):
    """Python logging: `%(asctime)s - %(name)s - %(levelname)s - %(message)s`, or, with
    OpenTelemetry's logging instrumentation, its documented default OTEL_PYTHON_LOG_FORMAT."""

    name = "python-logging"
    cont = PY_CONT
    RE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) - \S+ - (DEBUG|INFO|WARNING|ERROR|CRITICAL) - ")
    RE_OTEL = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (DEBUG|INFO|WARNING|ERROR|CRITICAL) "
                         r"\[\S+\] \[\S+:\d+\] \[trace_id=([0-9a-f]{32}|0) span_id=([0-9a-f]{16}|0) "
                         r"resource\.service\.name=\S* trace_sampled=(True|False)\] - ")

    def render(self, r, inst):
        ts = strf(r.ts, "%Y-%m-%d %H:%M:%S,%3f", inst.tz)
        name = r.logger or inst.svc.name.replace("-", "_")
        if inst.svc.fmt_opts.get("otel"):
            src = r.native.get("src", f"{name.split('.')[-1]}.py:{r.native.get('line', 42)}")
            head = (f"{ts} {py_level(r.level)} [{name}] [{src}] [trace_id={r.trace_id or '0'} "
                    f"span_id={r.span_id or '0'} resource.service.name={inst.svc.name} "
                    f"trace_sampled={'True' if r.trace_id and r.native.get('sampled', True) else 'False'}]"
                    f" - {r.msg}")
        else:
            head = f"{ts} - {name} - {py_level(r.level)} - {r.msg}"
        return with_exc(head, r)

    def head(self, line):
        m = self.RE.match(line) or self.RE_OTEL.match(line)
        return (True, parse_local(m.group(1), "%Y-%m-%d %H:%M:%S,%f")) if m else (False, None)


def clf_time(ts, tz):
    return strf(ts, "%d/%b/%Y:%H:%M:%S ", tz) + offset(tz)


class Gunicorn(Fmt):
    """gunicorn's error log (`[time] [pid] [LEVEL] msg`), its default access log format
    (`%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"`) and the application's
    own Python logging lines, all on one stream as in a container."""

    name = "gunicorn"
    cont = PY_CONT
    RE_ERR = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4})\] \[\d+\] "
                        r"\[(DEBUG|INFO|WARNING|ERROR|CRITICAL)\] ")
    RE_ACC = re.compile(r'^\S+ - \S+ \[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] "[^"]*" \d{3} (\d+|-) "[^"]*" "[^"]*"$')

    def render(self, r, inst):
        a = r.native.get("access")
        if a:
            return [f'{a["client"]} - - [{clf_time(r.ts, inst.tz)}] "{a["method"]} {a["path"]} '
                    f'HTTP/1.1" {a["status"]} {a["bytes"]} "-" "{a["ua"]}"']
        if r.native.get("app"):
            return PYLOG.render(r, inst)
        ts = strf(r.ts, "%Y-%m-%d %H:%M:%S ", inst.tz) + offset(inst.tz)
        return with_exc(f"[{ts}] [{r.native.get('pid', inst.pid)}] [{py_level(r.level)}] {r.msg}", r)

    def head(self, line):
        m = self.RE_ERR.match(line)
        if m:
            return True, parse_local(m.group(1), "%Y-%m-%d %H:%M:%S %z")
        m = self.RE_ACC.match(line)
        if m:
            return True, parse_local(m.group(1), "%d/%b/%Y:%H:%M:%S %z")
        return PYLOG.head(line)


class Uvicorn(Fmt):
    """uvicorn's default formatters: `%(levelprefix)s %(message)s` and the access line
    `%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s`; no time."""

    name = "uvicorn"
    untimed = True
    cont = PY_CONT
    RE = re.compile(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL):\s+\S")

    def render(self, r, inst):
        lvl = (py_level(r.level) + ":").ljust(9)
        a = r.native.get("access")
        if a:
            return [f'{lvl} {a["client"]}:{a.get("port", 50000)} - "{a["method"]} {a["path"]} HTTP/1.1" '
                    f'{a["status"]} {HTTP_PHRASE.get(a["status"], "")}'.rstrip()]
        return with_exc(f"{lvl} {r.msg}", r)

    def head(self, line):
        return (bool(self.RE.match(line)), None)


class Celery(Fmt):
    """Celery worker log: `[%(asctime)s: %(levelname)s/%(processName)s] %(message)s`."""

    name = "celery"
    cont = PY_CONT
    RE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): (DEBUG|INFO|WARNING|ERROR|CRITICAL)/[\w-]+\] ")

    def render(self, r, inst):
        ts = strf(r.ts, "%Y-%m-%d %H:%M:%S,%3f", inst.tz)
        return with_exc(f"[{ts}: {py_level(r.level)}/{r.thread or 'MainProcess'}] {r.msg}", r)

    def head(self, line):
        m = self.RE.match(line)
        return (True, parse_local(m.group(1), "%Y-%m-%d %H:%M:%S,%f")) if m else (False, None)


class Airflow(Fmt):
    """Airflow 2 task/scheduler log: `[%(asctime)s] {%(filename)s:%(lineno)d} %(levelname)s - %(message)s`."""

    name = "airflow"
    cont = PY_CONT
    RE = re.compile(r"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4})\] \{[\w.]+:\d+\} "
                    r"(DEBUG|INFO|WARNING|ERROR|CRITICAL) - ")

    def render(self, r, inst):
        ts = strf(r.ts, "%Y-%m-%dT%H:%M:%S.%3f", inst.tz) + offset(inst.tz)
        return with_exc(f"[{ts}] {{{r.logger or 'taskinstance.py:1157'}}} {py_level(r.level)} - {r.msg}", r)

    def head(self, line):
        m = self.RE.match(line)
        return (True, parse_local(m.group(1), "%Y-%m-%dT%H:%M:%S.%f%z")) if m else (False, None)


class Spark(Fmt):
    """Spark's log4j2 default: `%d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex`."""

    name = "spark"
    cont = JAVA_CONT
    RE = re.compile(r"^(\d\d/\d\d/\d\d \d\d:\d\d:\d\d) (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) [\w$.]+: ")

    def render(self, r, inst):
        return with_exc(f"{strf(r.ts, '%y/%m/%d %H:%M:%S', inst.tz)} {r.level} "
                        f"{(r.logger or 'SparkContext').split('.')[-1]}: {r.msg}", r)

    def head(self, line):
        m = self.RE.match(line)
        return (True, parse_local(m.group(1), "%y/%m/%d %H:%M:%S")) if m else (False, None)


class Klog(Fmt):
    """klog text header `Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg` (Kubernetes, kubelet)."""

    name = "klog"
    RE = re.compile(r"^([IWEF])(\d\d)(\d\d) (\d\d:\d\d:\d\d\.\d{6}) +\d+ [\w.\-/]+:\d+\] ")

    def render(self, r, inst):
        letter = {"DEBUG": "I", "INFO": "I", "WARN": "W", "ERROR": "E", "FATAL": "F"}[r.level]
        d = strf(r.ts, "%m%d %H:%M:%S.%6f", inst.tz)
        body = r.msg
        if r.fields:
            body += " " + " ".join(f"{k}={json.dumps(v) if isinstance(v, str) else v}"
                                   for k, v in r.fields.items())
        src = r.logger if re.match(r"^[\w.\-/]+\.go:\d+$", r.logger or "") else \
            f"{(inst.svc.noun or 'main').split('-')[0]}.go:{40 + len(r.msg) % 200}"
        return with_exc(f"{letter}{d} {r.native.get('tid', inst.pid):>7} {src}] {body}", r)

    def head(self, line):
        m = self.RE.match(line)
        if not m:
            return False, None
        year = self.year
        return True, parse_local(f"{year}{m.group(2)}{m.group(3)} {m.group(4)}", "%Y%m%d %H:%M:%S.%f")

    year = 2025  # klog omits the year; the checker sets it from the scenario


class Zap(Fmt):
    """zap's production JSON encoder (`level`, `ts` epoch seconds or ISO8601, `caller`,
    `msg`, fields, `stacktrace` on errors)."""

    name = "zap"
    json_lines = True

    def render(self, r, inst):
        iso = inst.svc.fmt_opts.get("iso")
        d = {"level": {"WARN": "warn", "FATAL": "fatal"}.get(r.level, r.level.lower()),
             "ts": rfc3339(r.ts, 3, inst.tz) if iso else round(r.ts, 6),
             "caller": r.logger or "server/server.go:88", "msg": r.msg}
        if r.trace_id:
            d["trace_id"], d["span_id"] = r.trace_id, r.span_id
        d.update(r.fields)
        if r.exc:
            d["stacktrace"] = "\n".join(r.exc)
        return [json.dumps(d, separators=(",", ":"))]

    def head(self, line):
        d = json.loads(line)
        ts = d["ts"]
        ok = isinstance(d["msg"], str) and d["level"] in ("debug", "info", "warn", "error", "dpanic", "panic", "fatal")
        return ok, (float(ts) if isinstance(ts, (int, float)) else parse_rfc3339(ts))


class Logrus(Fmt):
    """logrus TextFormatter without a TTY (`time="RFC3339" level=info msg="..." k=v`) or
    its JSONFormatter."""

    name = "logrus"
    RE = re.compile(r'^time="([^"]+)" level=(debug|info|warning|error|fatal|panic) msg=')

    def render(self, r, inst):
        lvl = {"WARN": "warning"}.get(r.level, r.level.lower())
        f = dict(r.fields)
        if r.trace_id:
            f["trace_id"], f["span_id"] = r.trace_id, r.span_id
        if r.exc:
            f["error"] = r.exc[0]
        if inst.svc.fmt_opts.get("json"):
            d = {"level": lvl, "msg": r.msg, "time": rfc3339(r.ts, 0, inst.tz)}
            d.update(f)
            return [json.dumps(d, separators=(",", ":"))]
        s = f'time="{rfc3339(r.ts, 0, inst.tz)}" level={lvl} msg={kv_quote(r.msg)}'
        return [s + (" " + logfmt(f) if f else "")]

    def head(self, line):
        if line.startswith("{"):
            d = json.loads(line)
            return d["level"] in ("debug", "info", "warning", "error", "fatal", "panic"), parse_rfc3339(d["time"])
        m = self.RE.match(line)
        return (bool(LOGFMT_RE.match(line)), parse_rfc3339(m.group(1))) if m else (False, None)


class Slog(Fmt):
    """log/slog TextHandler (`time=... level=INFO msg=...`) or JSONHandler."""

    name = "slog"
    RE = re.compile(r"^time=(\S+) level=(DEBUG|INFO|WARN|ERROR)([+-]\d+)? msg=")

    def render(self, r, inst):
        lvl = {"FATAL": "ERROR"}.get(r.level, r.level)
        f = dict(r.fields)
        if r.trace_id:
            f["trace_id"], f["span_id"] = r.trace_id, r.span_id
        if r.exc:
            f["err"] = r.exc[0]
        if inst.svc.fmt_opts.get("json"):
            d = {"time": rfc3339(r.ts, 9, inst.tz), "level": lvl, "msg": r.msg}
            d.update(f)
            return [json.dumps(d, separators=(",", ":"))]
        s = f"time={rfc3339(r.ts, 3, inst.tz)} level={lvl} msg={kv_quote(r.msg)}"
        return [s + (" " + logfmt(f) if f else "")]

    def head(self, line):
        if line.startswith("{"):
            d = json.loads(line)
            return d["level"] in ("DEBUG", "INFO", "WARN", "ERROR"), parse_rfc3339(d["time"])
        m = self.RE.match(line)
        if not m or not LOGFMT_RE.match(line):
            return False, None
        return True, parse_rfc3339(parse_logfmt(line)["time"])


class Pino(Fmt):
    """pino's NDJSON (numeric `level`, epoch-ms `time`, `pid`, `hostname`, `msg`); pino-http
    adds `req`, `res`, `responseTime`; errors go under `err` with `type`, `message`, `stack`."""

    name = "pino"
    json_lines = True
    LEVEL = {"DEBUG": 20, "INFO": 30, "WARN": 40, "ERROR": 50, "FATAL": 60}

    def render(self, r, inst):
        d = {"level": self.LEVEL[r.level], "time": int(r.ts * 1000), "pid": inst.pid,
             "hostname": inst.host}
        a = r.native.get("access")
        if a:
            d["req"] = {"id": a.get("n", 1), "method": a["method"], "url": a["path"],
                        "remoteAddress": "::ffff:" + a["client"], "remotePort": a.get("port", 50000)}
            d["res"] = {"statusCode": a["status"]}
            d["responseTime"] = int(a["dur"] * 1000)
        if r.trace_id:
            d["trace_id"], d["span_id"], d["trace_flags"] = r.trace_id, r.span_id, "01"
        d.update(r.fields)
        if r.exc:
            first = r.exc[0]
            typ, _, message = first.partition(": ")
            d["err"] = {"type": typ, "message": message, "stack": "\n".join(r.exc)}
        d["msg"] = r.msg or ("request completed" if a else "")
        return [json.dumps(d, separators=(",", ":"))]

    def head(self, line):
        d = json.loads(line)
        ok = d["level"] in (10, 20, 30, 40, 50, 60) and isinstance(d["msg"], str) and "hostname" in d
        return ok, d["time"] / 1000.0


PYLOG = PyLogging()

APP_FORMATS = [SpringBoot(), LogbackMdc(), PYLOG, Gunicorn(), Uvicorn(), Celery(), Airflow(),
               Spark(), Klog(), Zap(), Logrus(), Slog(), Pino()]
