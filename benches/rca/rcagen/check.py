"""Self-check of generated scenarios: every log line is a record head or a continuation in
its declared format (under its declared wrapper), timestamps never go backwards within a
file (per container for combined files), traces are valid OTLP (JSON lines or protobuf,
decoded here independently of the encoder), and truth.json is consistent with the data."""

from __future__ import annotations

import json
import os
import re
import struct
from typing import Any

from .formats import FORMATS
from .formats_app import Klog
from .formats_infra import Syslog
from .scenario import CATEGORIES
from .util import parse_rfc3339

CRI = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z) (stdout|stderr) ([FP]) (.*)$")
COMPOSE = re.compile(r"^(\S+?) *\| (.*)$")
HEX32, HEX16 = re.compile(r"^[0-9a-f]{32}$"), re.compile(r"^[0-9a-f]{16}$")
TRUTH_KEYS = ("root_cause_service", "category", "fault_type", "propagation_path", "onset", "traps", "description")


def load_json(path: str) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class Problems(list):
    def add(self, where: str, what: str) -> None:
        if len(self) < 200:
            self.append(f"{where}: {what}")


def check_logs(d: str, m: dict, probs: Problems) -> tuple[int, set[str]]:
    path = os.path.join(d, m["path"])
    wrapper = m.get("wrapper", "")
    fmts = m.get("formats", {})
    state: dict[str, dict[str, Any]] = {}
    n = 0
    text_seen: set[str] = set()
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            n += 1
            where = f"{m['path']}:{lineno}"
            stream, wts = "", None
            if wrapper == "cri":
                mm = CRI.match(line)
                if not mm:
                    probs.add(where, "not a CRI log line")
                    continue
                wts, line = parse_rfc3339(mm.group(1)), mm.group(4)
            elif wrapper.startswith("compose"):
                mm = COMPOSE.match(line)
                if not mm:
                    probs.add(where, "not a compose log line")
                    continue
                stream, line = mm.group(1), mm.group(2)
                if wrapper == "compose-ts":
                    ts_text, _, line = line.partition(" ")
                    wts = parse_rfc3339(ts_text)
            fmt_name = fmts.get(stream, m["format"]) if stream else m["format"]
            fmt = FORMATS[fmt_name]
            kind, ts = fmt.classify(line)
            st = state.setdefault(stream, {"head": False, "ts": None, "wts": None})
            if kind == "bad":
                probs.add(where, f"not a {fmt_name} line: {line[:120]!r}")
                continue
            if kind == "cont" and not st["head"]:
                probs.add(where, f"continuation line before any {fmt_name} record")
            if kind == "head":
                st["head"] = True
            if len(text_seen) < 50000:
                text_seen.add(line[:400])
            for key, val in (("ts", ts), ("wts", wts)):
                if val is None:
                    continue
                # a format with whole seconds only may follow a finer one within the same second
                slack = 1.0 if val == int(val) else 1e-6
                if st[key] is not None and val < st[key] - slack:
                    probs.add(where, f"timestamp goes backwards ({val:.3f} < {st[key]:.3f})")
                st[key] = val
            if fmt.untimed and wrapper not in ("cri", "compose-ts"):
                probs.add(where, f"{fmt_name} writes no time of its own and has no timestamping wrapper")
    return n, text_seen


# ---- OTLP ----------------------------------------------------------------------------
def check_span_json(sp: dict, where: str, probs: Problems) -> None:
    if not HEX32.match(sp.get("traceId", "")):
        probs.add(where, "traceId is not 32 lowercase hex digits")
    if not HEX16.match(sp.get("spanId", "")):
        probs.add(where, "spanId is not 16 lowercase hex digits")
    if "parentSpanId" in sp and not HEX16.match(sp["parentSpanId"]):
        probs.add(where, "parentSpanId is not 16 hex digits")
    if sp.get("kind") not in (1, 2, 3, 4, 5):
        probs.add(where, f"kind {sp.get('kind')!r} is not an enum integer 1-5")
    s, e = sp.get("startTimeUnixNano"), sp.get("endTimeUnixNano")
    if not (isinstance(s, str) and s.isdigit() and isinstance(e, str) and e.isdigit()):
        probs.add(where, "start/endTimeUnixNano must be decimal strings")
    elif int(e) < int(s):
        probs.add(where, "span ends before it starts")
    if sp.get("status", {}).get("code", 0) not in (0, 1, 2):
        probs.add(where, "status.code is not 0-2")
    for kv in sp.get("attributes", []) + [a for ev in sp.get("events", []) for a in ev.get("attributes", [])]:
        check_kv(kv, where, probs)


def check_kv(kv: dict, where: str, probs: Problems) -> None:
    v = kv.get("value", {})
    if not isinstance(kv.get("key"), str) or len(v) != 1:
        probs.add(where, f"bad KeyValue {kv!r:.80}")
    elif "intValue" in v and not (isinstance(v["intValue"], str) and v["intValue"].lstrip("-").isdigit()):
        probs.add(where, "intValue must be a decimal string")


def check_request(req: dict, where: str, probs: Problems, names: set[str]) -> int:
    n = 0
    if not isinstance(req.get("resourceSpans"), list):
        probs.add(where, "no resourceSpans array")
        return 0
    for rs in req["resourceSpans"]:
        attrs = {kv["key"]: kv["value"] for kv in rs.get("resource", {}).get("attributes", [])}
        if "service.name" not in attrs:
            probs.add(where, "resource without service.name")
        else:
            names.add(attrs["service.name"].get("stringValue", ""))
        for ss in rs.get("scopeSpans", []):
            for sp in ss.get("spans", []):
                check_span_json(sp, where, probs)
                n += 1
                for kv in sp.get("attributes", []):
                    if kv["key"] in ("peer.service", "server.address", "net.peer.name"):
                        names.add(kv["value"].get("stringValue", ""))
    return n


def _rd_varint(b: bytes, i: int) -> tuple[int, int]:
    shift = out = 0
    while True:
        if i >= len(b):
            raise ValueError("truncated varint")
        x = b[i]
        i += 1
        out |= (x & 0x7F) << shift
        if not x & 0x80:
            return out, i
        shift += 7


def pb_fields(b: bytes) -> list[tuple[int, int, Any]]:
    out, i = [], 0
    while i < len(b):
        key, i = _rd_varint(b, i)
        f, w = key >> 3, key & 7
        if w == 0:
            v, i = _rd_varint(b, i)
        elif w == 1:
            v, i = b[i:i + 8], i + 8
        elif w == 5:
            v, i = b[i:i + 4], i + 4
        elif w == 2:
            ln, i = _rd_varint(b, i)
            v, i = b[i:i + ln], i + ln
        else:
            raise ValueError(f"wire type {w}")
        if i > len(b):
            raise ValueError("truncated field")
        out.append((f, w, v))
    return out


def pb_to_json(b: bytes) -> dict:
    """Decode an ExportTraceServiceRequest into the OTLP/JSON shape (what the check needs)."""
    def anyv(x):
        for f, w, v in pb_fields(x):
            if f == 1:
                return {"stringValue": v.decode()}
            if f == 2:
                return {"boolValue": bool(v)}
            if f == 3:
                return {"intValue": str(v - (1 << 64) if v >= 1 << 63 else v)}
            if f == 4:
                return {"doubleValue": struct.unpack("<d", v)[0]}
            if f == 5:
                return {"arrayValue": {"values": [anyv(y) for ff, _, y in pb_fields(v) if ff == 1]}}
        return {}

    def kv(x):
        d = {}
        for f, w, v in pb_fields(x):
            if f == 1:
                d["key"] = v.decode()
            elif f == 2:
                d["value"] = anyv(v)
        return d

    def span(x):
        d: dict[str, Any] = {"attributes": [], "events": []}
        for f, w, v in pb_fields(x):
            if f == 1:
                d["traceId"] = v.hex()
            elif f == 2:
                d["spanId"] = v.hex()
            elif f == 4:
                d["parentSpanId"] = v.hex()
            elif f == 5:
                d["name"] = v.decode()
            elif f == 6:
                d["kind"] = v
            elif f in (7, 8):
                d["startTimeUnixNano" if f == 7 else "endTimeUnixNano"] = str(struct.unpack("<Q", v)[0])
            elif f == 9:
                d["attributes"].append(kv(v))
            elif f == 11:
                d["events"].append({"attributes": [kv(a) for ff, _, a in pb_fields(v) if ff == 3]})
            elif f == 15:
                d["status"] = {("message" if ff == 2 else "code"): (a.decode() if ff == 2 else a) for ff, _, a in pb_fields(v)}
        return d

    rss = []
    for f, _, rsb in pb_fields(b):
        if f != 1:
            raise ValueError("ExportTraceServiceRequest has only field 1")
        rs: dict[str, Any] = {"resource": {"attributes": []}, "scopeSpans": []}
        for f2, _, v in pb_fields(rsb):
            if f2 == 1:
                rs["resource"]["attributes"] = [kv(a) for ff, _, a in pb_fields(v) if ff == 1]
            elif f2 == 2:
                rs["scopeSpans"].append({"spans": [span(s) for ff, _, s in pb_fields(v) if ff == 2]})
        rss.append(rs)
    return {"resourceSpans": rss}


def check_traces(d: str, tfiles: list[dict], probs: Problems) -> tuple[int, set[str]]:
    names: set[str] = set()
    n = 0
    for t in tfiles:
        path = os.path.join(d, t["path"])
        enc = t["encoding"]
        if enc == "otlp-json":
            with open(path, encoding="utf-8") as f:
                for i, line in enumerate(f, 1):
                    try:
                        req = json.loads(line)
                    except json.JSONDecodeError as e:
                        probs.add(f"{t['path']}:{i}", f"not JSON: {e}")
                        continue
                    n += check_request(req, f"{t['path']}:{i}", probs, names)
            continue
        with open(path, "rb") as f:
            data = f.read()
        msgs = []
        if enc == "otlp-proto-length-prefixed":
            i = 0
            while i < len(data):
                ln = struct.unpack(">I", data[i:i + 4])[0]
                msgs.append(data[i + 4:i + 4 + ln])
                i += 4 + ln
        else:
            msgs.append(data)
        for k, mb in enumerate(msgs):
            try:
                n += check_request(pb_to_json(mb), f"{t['path']}#{k}", probs, names)
            except (ValueError, UnicodeDecodeError, struct.error) as e:
                probs.add(f"{t['path']}#{k}", f"protobuf does not decode: {e}")
    return n, names


def check_scenario(d: str) -> Problems:
    probs = Problems()
    man = load_json(os.path.join(d, "manifest.json"))
    truth = load_json(os.path.join(d, "truth.json"))
    Klog.year = Syslog.year = man["year"]
    texts: set[str] = set()
    services_in_logs: set[str] = set()
    lines = 0
    for m in man["logs"]:
        n, seen = check_logs(d, m, probs)
        lines += n
        texts |= seen
        services_in_logs |= set(m["services"])
    spans, trace_names = check_traces(d, man["traces"], probs)
    for k in TRUTH_KEYS:
        if k not in truth:
            probs.add("truth.json", f"missing {k}")
    root = truth.get("root_cause_service", "")
    if root not in services_in_logs and not any(root in t for t in texts):
        probs.add("truth.json", f"root cause {root!r} appears nowhere in the logs")
    if truth.get("category") not in CATEGORIES:
        probs.add("truth.json", f"unknown category {truth.get('category')!r}")
    path = truth.get("propagation_path", [])
    if not path or path[0] != root:
        probs.add("truth.json", "propagation_path must start at the root cause")
    for s in path:
        if s not in man["services"]:
            probs.add("truth.json", f"propagation_path names unknown service {s!r}")
    onset = parse_rfc3339(truth["onset"])
    w0, w1 = (parse_rfc3339(x) for x in man["window"])
    if not (w0 < onset < w1):
        probs.add("truth.json", "onset outside the window")
    if man["traces"] and "no_traces" in truth["traps"]:
        probs.add("truth.json", "no_traces but trace files exist")
    if "cause_absent_from_traces" in truth["traps"] and any(root == n or n.startswith(root + ".") for n in trace_names):
        probs.add("truth.json", "cause_absent_from_traces but the root is named in the traces")
    probs.stats = {"lines": lines, "spans": spans, "files": len(man["logs"]) + len(man["traces"])}  # type: ignore[attr-defined]
    return probs


def main(root: str) -> int:
    dirs = sorted(e.path for e in os.scandir(root) if e.is_dir() and os.path.exists(os.path.join(e.path, "truth.json")))
    if not dirs:
        print(f"no scenarios under {root}")
        return 1
    bad = 0
    for d in dirs:
        probs = check_scenario(d)
        s = probs.stats  # type: ignore[attr-defined]
        status = "ok" if not probs else f"{len(probs)} problem(s)"
        print(f"{os.path.basename(d):<44} {s['files']:>4} files {s['lines']:>7} lines {s['spans']:>6} spans  {status}")
        for p in probs[:15]:
            print(f"    {p}")
        bad += bool(probs)
    print(f"{len(dirs) - bad} passed, {bad} failed")
    return 1 if bad else 0
