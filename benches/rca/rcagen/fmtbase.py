"""The contract every log format implements, and helpers shared by the format modules.

A format renders a `Rec` for one instance into text lines and, for the self-check,
classifies a line as a record head (with its timestamp when the format carries one) or as
a continuation of the record before it (a stack trace frame, a DETAIL line, a MinIO block
field). Formats are written from each tool's public documentation of its output.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .util import Rec

JAVA_CONT = [
    re.compile(r"^\tat \S.*$"),
    re.compile(r"^\t\.\.\. \d+ (more|common frames omitted)$"),
    re.compile(r"^(Caused by: |\tSuppressed: )?[A-Za-z_$][\w$]*(\.[\w$]+)+(: .*)?$"),
]
PY_CONT = [
    re.compile(r"^Traceback \(most recent call last\):$"),
    re.compile(r'^  File ".*", line \d+, in \S+$'),
    re.compile(r"^    \S.*$"),
    re.compile(r"^\s*\^+$"),
    re.compile(r"^[A-Za-z_][\w.]*(: .*)?$"),
    re.compile(r"^$"),
    re.compile(r"^(The above exception was the direct cause of the following exception|"
               r"During handling of the above exception, another exception occurred):$"),
]


class Fmt:
    """A log format: `render` for the generator, `classify` for the self-check."""

    name = ""
    # True when the format writes no timestamp of its own (CoreDNS, uvicorn, MinIO's
    # console): such services are only written under a wrapper that adds one (CRI).
    untimed = False
    json_lines = False
    cont: list[re.Pattern] = []

    def render(self, r: Rec, inst: Any) -> list[str]:
        raise NotImplementedError

    def head(self, line: str) -> tuple[bool, float | None]:
        """(is a record head, its timestamp or None)."""
        raise NotImplementedError

    def classify(self, line: str) -> tuple[str, float | None]:
        """('head'|'cont'|'bad', timestamp or None)."""
        try:
            ok, ts = self.head(line)
        except (ValueError, KeyError, TypeError, json.JSONDecodeError):
            ok, ts = False, None
        if ok:
            return "head", ts
        for pat in self.cont:
            if pat.match(line):
                return "cont", None
        return "bad", None


def with_exc(head: str, r: Rec) -> list[str]:
    return [head] + list(r.exc or [])


def kv_quote(v: Any) -> str:
    """logfmt value quoting as logrus and slog's text handler do it."""
    s = str(v)
    if s == "" or any(c in s for c in ' "=\\') or any(ord(c) < 0x20 for c in s):
        return json.dumps(s, ensure_ascii=False)
    return s


def logfmt(fields: dict[str, Any]) -> str:
    return " ".join(f"{k}={kv_quote(v)}" for k, v in fields.items())


LOGFMT_RE = re.compile(r'^(\s*[\w.\-/]+=("([^"\\]|\\.)*"|\S*))+\s*$')


def parse_logfmt(line: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in re.finditer(r'([\w.\-/]+)=("((?:[^"\\]|\\.)*)"|(\S*))', line):
        out[m.group(1)] = m.group(3) if m.group(3) is not None else m.group(4)
    return out


def abbrev_logger(name: str, width: int) -> str:
    """logback's %logger{N}: shorten leading package segments to one letter until it fits."""
    if len(name) <= width:
        return name
    segs = name.split(".")
    for i in range(len(segs) - 1):
        segs[i] = segs[i][0]
        if len(".".join(segs)) <= width:
            break
    return ".".join(segs)


def fit(s: str, width: int, left: bool) -> str:
    """%-W.Ws / %W.Ws: pad to width, truncate from the left (logback's default)."""
    if len(s) > width:
        s = s[len(s) - width:]
    return s.ljust(width) if left else s.rjust(width)


def java_level(level: str) -> str:
    return {"FATAL": "ERROR"}.get(level, level)


def py_level(level: str) -> str:
    return {"WARN": "WARNING", "FATAL": "CRITICAL"}.get(level, level)


HTTP_PHRASE = {
    200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 301: "Moved Permanently",
    302: "Found", 304: "Not Modified", 400: "Bad Request", 401: "Unauthorized",
    403: "Forbidden", 404: "Not Found", 409: "Conflict", 422: "Unprocessable Entity",
    429: "Too Many Requests", 499: "Client Closed Request", 500: "Internal Server Error",
    502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
    507: "Insufficient Storage",
}
