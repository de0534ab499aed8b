"""Infrastructure log formats: proxies (nginx, ingress-nginx, Envoy), databases
(PostgreSQL, MySQL, Redis), brokers (Kafka, RabbitMQ), CoreDNS, MinIO, Calico, and the
host's journal (journald JSON export, syslog)."""

from __future__ import annotations

import json
import re

from .fmtbase import JAVA_CONT, Fmt, with_exc
from .formats_app import Klog, clf_time
from .util import epoch_ns, parse_local, parse_rfc3339, rfc3339, strf

KLOG = Klog()


class Nginx(Fmt):
    """nginx `combined` access lines (ingress-nginx's upstream format when `ingress`), error
    log lines (`yyyy/mm/dd hh:mm:ss [level] pid#tid: *cid msg`) and, for ingress-nginx,
    the controller's klog lines, interleaved as on the container's stream."""

    name = "nginx"
    RE_ACC = re.compile(r'^\S+ - \S+ \[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] "[^"]*" \d{3} \d+ "[^"]*" "[^"]*"')
    RE_ERR = re.compile(r"^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[(debug|info|notice|warn|error|crit|alert|emerg)\] \d+#\d+: ")

    def render(self, r, inst):
        a = r.native.get("access")
        if a:
            base = (f'{a["client"]} - - [{clf_time(r.ts, inst.tz)}] "{a["method"]} {a["path"]} HTTP/1.1" '
                    f'{a["status"]} {a["bytes"]} "-" "{a["ua"]}"')
            if inst.svc.fmt_opts.get("ingress"):
                up = a.get("upstream", "-")
                ut = f'{a.get("up_dur", a["dur"]):.3f}' if up != "-" else "-"
                us = a.get("up_status", a["status"]) if up != "-" else "-"
                base += (f' {a.get("req_len", 412)} {a["dur"]:.3f} [{a.get("up_name", "-")}] [] {up} '
                         f'{a["bytes"] if up != "-" else "-"} {ut} {us} {a.get("req_id", "-")}')
            elif inst.svc.fmt_opts.get("timing"):
                base += f' {a["dur"]:.3f} {a.get("up_dur", a["dur"]):.3f}'
            return [base]
        if r.native.get("klog"):
            return KLOG.render(r, inst)
        lvl = {"DEBUG": "debug", "INFO": "notice", "WARN": "warn", "ERROR": "error", "FATAL": "crit"}[r.level]
        lvl = r.native.get("nglevel", lvl)
        return [f"{strf(r.ts, '%Y/%m/%d %H:%M:%S', inst.tz)} [{lvl}] {r.native.get('pid', 24)}#"
                f"{r.native.get('pid', 24)}: {r.msg}"]

    def head(self, line):
        m = self.RE_ACC.match(line)
        if m:
            return True, parse_local(m.group(1), "%d/%b/%Y:%H:%M:%S %z")
        m = self.RE_ERR.match(line)
        if m:
            return True, parse_local(m.group(1), "%Y/%m/%d %H:%M:%S")
        return KLOG.head(line)


class Envoy(Fmt):
    """Envoy's default access log format and its own application log
    (`[time][tid][level][logger] [file:line] msg`)."""

    name = "envoy"
    RE_ACC = re.compile(r'^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\] "[^"]*" \d{1,3} \S+ \d+ \d+ \d+ (\d+|-) '
                        r'"[^"]*" "[^"]*" "[^"]*" "[^"]*" "[^"]*"$')
    RE_APP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\]\[\d+\]\[(trace|debug|info|warning|error|critical)\]"
                        r"\[\w+\] \[[\w/.\-]+:\d+\] ")

    def render(self, r, inst):
        a = r.native.get("access")
        if a:
            ust = a.get("up_dur")
            return [f'[{rfc3339(r.ts, 3)}] "{a["method"]} {a["path"]} HTTP/1.1" {a["status"]} '
                    f'{a.get("flags", "-")} 0 {a["bytes"]} {int(a["dur"] * 1000)} '
                    f'{int(ust * 1000) if ust is not None else "-"} "{a["client"]}" "{a["ua"]}" '
                    f'"{a.get("req_id", "-")}" "{a.get("authority", "-")}" "{a.get("upstream", "-")}"']
        lvl = {"DEBUG": "debug", "INFO": "info", "WARN": "warning", "ERROR": "error", "FATAL": "critical"}[r.level]
        return [f"[{strf(r.ts, '%Y-%m-%d %H:%M:%S.%3f')}][{r.native.get('tid', 14)}][{lvl}]"
                f"[{r.logger or 'main'}] [{r.native.get('src', 'source/server/server.cc:912')}] {r.msg}"]

    def head(self, line):
        m = self.RE_ACC.match(line)
        if m:
            return True, parse_rfc3339(m.group(1))
        m = self.RE_APP.match(line)
        if m:
            return True, parse_local(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
        return False, None


class Postgres(Fmt):
    """PostgreSQL stderr log with `log_line_prefix = '%m [%p] '` (the default) or
    `'%m [%p] %q%u@%d '`; DETAIL/HINT/CONTEXT/STATEMENT lines carry the same prefix."""

    name = "postgres"
    RE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) (UTC|GMT|[A-Z]{3,4}|[+-]\d\d) \[\d+\] (\S+@\S+ )?"
                    r"(DEBUG\d?|LOG|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC|DETAIL|HINT|CONTEXT|STATEMENT|QUERY|LOCATION):  ")
    cont = [re.compile(r"^\t\S.*$")]

    def render(self, r, inst):
        lvl = r.native.get("pglevel") or {"DEBUG": "DEBUG1", "INFO": "LOG", "WARN": "WARNING",
                                          "ERROR": "ERROR", "FATAL": "FATAL"}[r.level]
        prefix = f"{strf(r.ts, '%Y-%m-%d %H:%M:%S.%3f')} UTC [{r.native.get('pid', inst.pid)}] "
        who = r.native.get("who")
        if inst.svc.fmt_opts.get("userdb") and who:
            prefix += f"{who} "
        out = [f"{prefix}{lvl}:  {r.msg}"]
        for kind, text in r.native.get("extra", []):
            out.append(f"{prefix}{kind}:  {text}")
        return out

    def head(self, line):
        m = self.RE.match(line)
        return (True, parse_local(m.group(1), "%Y-%m-%d %H:%M:%S.%f")) if m else (False, None)


class MySQL(Fmt):
    """MySQL 8 error log: `time thread [Priority] [MY-NNNNNN] [Subsystem] msg`."""

    name = "mysql"
    RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) \d+ \[(System|ERROR|Warning|Note)\] "
                    r"\[MY-\d{6}\] \[(Server|InnoDB|Repl|Auth|Xplugin)\] ")

    def render(self, r, inst):
        prio = r.native.get("prio") or {"DEBUG": "Note", "INFO": "Note", "WARN": "Warning",
                                        "ERROR": "ERROR", "FATAL": "ERROR"}[r.level]
        return [f"{rfc3339(r.ts, 6)} {r.native.get('thread', 0)} [{prio}] "
                f"[MY-{r.native.get('code', 10000):06d}] [{r.native.get('sub', 'Server')}] {r.msg}"]

    def head(self, line):
        m = self.RE.match(line)
        return (True, parse_rfc3339(m.group(1))) if m else (False, None)


class Redis(Fmt):
    """Redis server log: `pid:role dd Mon yyyy hh:mm:ss.mmm <level char> msg`."""

    name = "redis"
    RE = re.compile(r"^\d+:[MSCX] (\d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3}) [.\-*#] ")

    def render(self, r, inst):
        sym = {"DEBUG": ".", "INFO": "*", "WARN": "#", "ERROR": "#", "FATAL": "#"}[r.level]
        sym = r.native.get("sym", sym)
        return [f"{r.native.get('pid', 1)}:{r.native.get('role', 'M')} "
                f"{strf(r.ts, '%d %b %Y %H:%M:%S.%3f')} {sym} {r.msg}"]

    def head(self, line):
        m = self.RE.match(line)
        return (True, parse_local(m.group(1), "%d %b %Y %H:%M:%S.%f")) if m else (False, None)


class Kafka(Fmt):
    """Kafka broker's log4j layout `[%d] %p %m (%c)%n` with Java stack traces."""

    name = "kafka"
    RE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) .* \([\w.$]+\)$")
    cont = JAVA_CONT

    def render(self, r, inst):
        return with_exc(f"[{strf(r.ts, '%Y-%m-%d %H:%M:%S,%3f')}] {r.level} {r.msg} "
                        f"({r.logger or 'kafka.server.KafkaServer'})", r)

    def head(self, line):
        m = self.RE.match(line)
        return (True, parse_local(m.group(1), "%Y-%m-%d %H:%M:%S,%f")) if m else (False, None)


class RabbitMQ(Fmt):
    """RabbitMQ 3.9+ console log: `time [level] <erlang pid> msg`; multi-line messages
    repeat the prefix on every line."""

    name = "rabbitmq"
    RE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d) \[(debug|info|notice|warning|error|critical)\] <\d+\.\d+\.\d+> ?")

    def render(self, r, inst):
        lvl = {"DEBUG": "debug", "INFO": "info", "WARN": "warning", "ERROR": "error", "FATAL": "critical"}[r.level]
        ts = strf(r.ts, "%Y-%m-%d %H:%M:%S.%6f") + "+00:00"
        epid = r.native.get("epid", "<0.230.0>")
        return [f"{ts} [{lvl}] {epid} {line}".rstrip() for line in [r.msg] + list(r.exc or [])]

    def head(self, line):
        m = self.RE.match(line)
        return (True, parse_rfc3339(m.group(1).replace(" ", "T"))) if m else (False, None)


class CoreDNS(Fmt):
    """CoreDNS: the `log` plugin's query lines and `[LEVEL] plugin/x: msg` lines; no time of
    its own (read under the container runtime's timestamps)."""

    name = "coredns"
    untimed = True
    RE = re.compile(r"^(\[(INFO|WARNING|ERROR|FATAL|DEBUG)\] |\.:53$|CoreDNS-\d|linux/\w+, go)")

    def render(self, r, inst):
        if r.native.get("raw"):
            return [r.msg]
        lvl = {"DEBUG": "DEBUG", "INFO": "INFO", "WARN": "WARNING", "ERROR": "ERROR", "FATAL": "FATAL"}[r.level]
        return [f"[{lvl}] {r.msg}"]

    def head(self, line):
        return bool(self.RE.match(line)), None


class MinIO(Fmt):
    """MinIO server console: untimed banner lines and multi-line error blocks
    (`API:`, `Time:`, `DeploymentID:`, ..., `Error:` and numbered frames)."""

    name = "minio"
    untimed = True
    RE_HEAD = re.compile(r"^(API: \w+\(.*\)|MinIO Object Storage Server|Copyright: |License: |Version: |"
                         r"Status: |S3-API: |Console: |Documentation: |WARN(ING)?: |INFO: )")
    cont = [re.compile(r"^(Time|DeploymentID|RequestID|RemoteHost|Host|UserAgent|Error): .*$"),
            re.compile(r"^ {7}\d+: \S+$")]
    RE_TIME = re.compile(r"^Time: (\d\d:\d\d:\d\d UTC \d\d/\d\d/\d{4})$")

    def render(self, r, inst):
        b = r.native.get("block")
        if not b:
            return [r.msg]
        out = [f"API: {b['api']}", f"Time: {strf(r.ts, '%H:%M:%S UTC %m/%d/%Y')}",
               f"DeploymentID: {b['deployment']}"]
        if b.get("request_id"):
            out += [f"RequestID: {b['request_id']}", f"RemoteHost: {b['remote']}",
                    f"Host: {b['host']}", f"UserAgent: {b['ua']}"]
        out.append(f"Error: {r.msg}")
        frames = b.get("frames", [])
        out += [f"       {len(frames) - i}: {f}" for i, f in enumerate(frames)]
        return out

    def classify(self, line):
        m = self.RE_TIME.match(line)
        if m:
            return "cont", parse_local(m.group(1), "%H:%M:%S UTC %m/%d/%Y")
        return super().classify(line)

    def head(self, line):
        return bool(self.RE_HEAD.match(line)), None


class MinIOJson(Fmt):
    """MinIO with `--json`: one object per line with `level`, `time`, `message`/`error`, `api`."""

    name = "minio-json"
    json_lines = True

    def render(self, r, inst):
        d = {"level": {"WARN": "WARNING"}.get(r.level, r.level), "errKind": r.native.get("kind", "")}
        d["time"] = rfc3339(r.ts, 6)
        d["message"] = r.msg
        b = r.native.get("block")
        if b:
            d["api"] = {"name": b["api"].split("(")[0], "args": b.get("args", {})}
            d["remotehost"] = b.get("remote", "")
            d["requestID"] = b.get("request_id", "")
            d["userAgent"] = b.get("ua", "")
            d["error"] = {"message": r.msg, "source": b.get("frames", [])[-1:]}
        if not d["errKind"]:
            del d["errKind"]
        return [json.dumps(d, separators=(",", ":"))]

    def head(self, line):
        d = json.loads(line)
        return d["level"] in ("INFO", "WARNING", "ERROR", "FATAL"), parse_rfc3339(d["time"])


class Calico(Fmt):
    """calico-node (felix/confd) log: `yyyy-mm-dd hh:mm:ss.mmm [LEVEL][pid] file.go line: msg`;
    BIRD lines as `bird: msg`."""

    name = "calico"
    RE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \[(DEBUG|INFO|WARNING|ERROR|FATAL)\]\[\d+\] "
                    r"[\w/.\-]+ \d+: ")
    RE_BIRD = re.compile(r"^bird: ")

    def render(self, r, inst):
        if r.native.get("bird"):
            return [f"bird: {r.msg}"]
        lvl = {"WARN": "WARNING"}.get(r.level, r.level)
        return [f"{strf(r.ts, '%Y-%m-%d %H:%M:%S.%3f')} [{lvl}][{r.native.get('pid', 64)}] "
                f"{r.logger or 'felix/int_dataplane.go 1805'}: {r.msg}"]

    def head(self, line):
        m = self.RE.match(line)
        if m:
            return True, parse_local(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
        return bool(self.RE_BIRD.match(line)), None


class Journald(Fmt):
    """`journalctl -o json`: one object per entry, every value a string."""

    name = "journald-json"
    json_lines = True
    PRIO = {"DEBUG": "7", "INFO": "6", "WARN": "4", "ERROR": "3", "FATAL": "2"}

    def render(self, r, inst):
        us = epoch_ns(r.ts) // 1000
        ident = r.native.get("ident", inst.svc.name)
        d = {"__CURSOR": f"s={inst.boot};i={us % 999983:x};b={inst.boot};m={us % 99991:x};t={us:x};x={us % 7919:x}",
             "__REALTIME_TIMESTAMP": str(us),
             "__MONOTONIC_TIMESTAMP": str(us - inst.boot_us),
             "_BOOT_ID": inst.boot, "PRIORITY": r.native.get("prio", self.PRIO[r.level]),
             "_HOSTNAME": inst.host, "SYSLOG_IDENTIFIER": ident}
        if ident == "kernel":
            d["_TRANSPORT"] = "kernel"
            d["SYSLOG_FACILITY"] = "0"
        else:
            d["_TRANSPORT"] = r.native.get("transport", "stdout")
            d["_PID"] = str(r.native.get("pid", inst.pid))
            d["_SYSTEMD_UNIT"] = r.native.get("unit", f"{ident}.service")
            d["_COMM"] = r.native.get("comm", ident[:15])
        msg = r.msg if not r.exc else r.msg + "\n" + "\n".join(r.exc)
        d["MESSAGE"] = msg
        return [json.dumps(d, separators=(",", ":"))]

    def head(self, line):
        d = json.loads(line)
        ok = all(isinstance(v, str) for v in d.values()) and "MESSAGE" in d and d["PRIORITY"] in "01234567"
        return ok, int(d["__REALTIME_TIMESTAMP"]) / 1e6


class Syslog(Fmt):
    """RFC 5424 (`<pri>1 time host app procid msgid - msg`) or BSD RFC 3164
    (`Mmm dd hh:mm:ss host app[pid]: msg`) syslog lines."""

    name = "syslog"
    RE5424 = re.compile(r"^<\d{1,3}>1 (\S+) \S+ \S+ \S+ \S+ (-|\[.*\]) ")
    RE3164 = re.compile(r"^(\w{3} [ \d]\d \d\d:\d\d:\d\d) \S+ [\w\-./]+(\[\d+\])?: ")
    SEV = {"DEBUG": 7, "INFO": 6, "WARN": 4, "ERROR": 3, "FATAL": 2}
    year = 2025

    def render(self, r, inst):
        ident = r.native.get("ident", inst.svc.name)
        pid = r.native.get("pid", inst.pid if ident != "kernel" else None)
        if inst.svc.fmt_opts.get("bsd"):
            d = strf(r.ts, "%b %d %H:%M:%S")
            d = d[:4] + (" " + d[5] if d[4] == "0" else d[4:6]) + d[6:]
            return [f"{d} {inst.host} {ident}{f'[{pid}]' if pid else ''}: {r.msg}"]
        pri = 8 * r.native.get("facility", 3 if ident != "kernel" else 0) + self.SEV[r.level]
        return [f"<{pri}>1 {rfc3339(r.ts, 3)} {inst.host} {ident} {pid or '-'} - - {r.msg}"]

    def head(self, line):
        m = self.RE5424.match(line)
        if m:
            return True, parse_rfc3339(m.group(1))
        m = self.RE3164.match(line)
        if m:
            return True, parse_local(f"{self.year} {m.group(1)}", "%Y %b %d %H:%M:%S")
        return False, None


INFRA_FORMATS = [Nginx(), Envoy(), Postgres(), MySQL(), Redis(), Kafka(), RabbitMQ(), CoreDNS(),
                 MinIO(), MinIOJson(), Calico(), Journald(), Syslog()]

