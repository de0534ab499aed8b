"""OTLP trace output: spans grouped into export batches the way a Collector's file exporter
writes them (one `ExportTraceServiceRequest` per batch), encoded as OTLP/JSON (one object
per line, hex ids, 64-bit integers as strings, enums as integers, lowerCamelCase) or as
binary protobuf, hand-encoded from the opentelemetry-proto field numbers."""

from __future__ import annotations

import json
import struct
from typing import Any

from .sim import Span
from .topology import Inst
from .util import epoch_ns

SDK = {"java": ("java", "1.40.0"), "python": ("python", "1.26.0"), "go": ("go", "1.28.0"), "node": ("nodejs", "1.25.1"),
       "envoy": ("cpp", "1.30.1"), "nginx": ("cpp", "1.11.0")}


def anyvalue(v: Any) -> dict:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, (list, tuple)):
        return {"arrayValue": {"values": [anyvalue(x) for x in v]}}
    return {"stringValue": str(v)}


def kvs(d: dict) -> list[dict]:
    return [{"key": k, "value": anyvalue(v)} for k, v in d.items() if v != ""]


def resource(inst: Inst, layout: str) -> dict:
    s = inst.svc
    lang, ver = SDK.get(s.lang, ("go", "1.28.0"))
    a = {"service.name": s.name, "service.version": inst.version, "service.instance.id": inst.uid if layout == "k8s" else inst.name,
         "deployment.environment": "production", "telemetry.sdk.language": lang, "telemetry.sdk.name": "opentelemetry",
         "telemetry.sdk.version": ver, "host.name": inst.host}
    if s.ns and layout != "files":
        a["service.namespace"] = s.ns
    if layout == "k8s":
        a.update({"k8s.namespace.name": s.ns, "k8s.pod.name": inst.name, "k8s.node.name": inst.node,
                  "cloud.availability_zone": inst.zone})
        if inst.name.count("-") >= 2 and s.role not in ("db", "cache", "broker", "objstore"):
            a["k8s.deployment.name"] = s.name
    return {"attributes": kvs(a)}


def span_json(sp: Span) -> dict:
    d: dict[str, Any] = {"traceId": sp.trace_id, "spanId": sp.span_id}
    if sp.parent:
        d["parentSpanId"] = sp.parent
    d["flags"] = 1
    d["name"] = sp.name
    d["kind"] = sp.kind
    d["startTimeUnixNano"] = str(epoch_ns(sp.start + sp.inst.skew))
    d["endTimeUnixNano"] = str(epoch_ns(sp.end + sp.inst.skew))
    if sp.attrs:
        d["attributes"] = kvs(sp.attrs)
    if sp.events:
        d["events"] = [{"timeUnixNano": str(epoch_ns(t + sp.inst.skew)), "name": n, "attributes": kvs(a)} for t, n, a in sp.events]
    st: dict[str, Any] = {}
    if sp.status_msg:
        st["message"] = sp.status_msg
    if sp.status:
        st["code"] = sp.status
    d["status"] = st
    return d


def request(spans: list[Span], layout: str) -> dict:
    by_inst: dict[int, tuple[Inst, dict[str, list[Span]]]] = {}
    for sp in spans:
        inst, scopes = by_inst.setdefault(id(sp.inst), (sp.inst, {}))
        scopes.setdefault(sp.scope, []).append(sp)
    rs = []
    for inst, scopes in by_inst.values():
        ss = []
        for scope, group in scopes.items():
            name, _, version = scope.partition("@")
            sc: dict[str, Any] = {"name": name}
            if version:
                sc["version"] = version
            ss.append({"scope": sc, "spans": [span_json(s) for s in group]})
        rs.append({"resource": resource(inst, layout), "scopeSpans": ss,
                   "schemaUrl": "https://opentelemetry.io/schemas/1.24.0"})
    return {"resourceSpans": rs}


def batches(spans: list[Span], rng, every: float, max_spans: int = 400) -> list[list[Span]]:
    """Spans leave an SDK when they end; the collector batches what arrived per interval."""
    out: list[list[Span]] = []
    cur: list[Span] = []
    edge = None
    for sp in sorted(spans, key=lambda s: (s.end, s.span_id)):
        if edge is None:
            edge = sp.end + every * rng.uniform(0.8, 1.2)
        if sp.end > edge or len(cur) >= max_spans:
            out.append(cur)
            cur = []
            edge = sp.end + every * rng.uniform(0.8, 1.2)
        cur.append(sp)
    if cur:
        out.append(cur)
    return out


def to_json_line(req: dict) -> str:
    return json.dumps(req, separators=(",", ":"))


# ---- protobuf wire format ------------------------------------------------------------
def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _len(field: int, payload: bytes) -> bytes:
    return _key(field, 2) + _varint(len(payload)) + payload


def _str(field: int, s: str) -> bytes:
    return _len(field, s.encode()) if s else b""


def _fixed64(field: int, n: int) -> bytes:
    return _key(field, 1) + struct.pack("<Q", n)


def _fixed32(field: int, n: int) -> bytes:
    return _key(field, 5) + struct.pack("<I", n)


def _uvarint_field(field: int, n: int) -> bytes:
    return _key(field, 0) + _varint(n) if n else b""


def pb_anyvalue(v: dict) -> bytes:
    if "stringValue" in v:
        return _len(1, v["stringValue"].encode())
    if "boolValue" in v:
        return _key(2, 0) + _varint(1 if v["boolValue"] else 0)
    if "intValue" in v:
        return _key(3, 0) + _varint(int(v["intValue"]))
    if "doubleValue" in v:
        return _key(4, 1) + struct.pack("<d", float(v["doubleValue"]))
    if "arrayValue" in v:
        return _len(5, b"".join(_len(1, pb_anyvalue(x)) for x in v["arrayValue"].get("values", [])))
    raise ValueError(v)


def pb_kv(kv: dict) -> bytes:
    return _str(1, kv["key"]) + _len(2, pb_anyvalue(kv["value"]))


def pb_span(s: dict) -> bytes:
    b = _len(1, bytes.fromhex(s["traceId"])) + _len(2, bytes.fromhex(s["spanId"]))
    if s.get("parentSpanId"):
        b += _len(4, bytes.fromhex(s["parentSpanId"]))
    b += _str(5, s["name"]) + _uvarint_field(6, s.get("kind", 0))
    b += _fixed64(7, int(s["startTimeUnixNano"])) + _fixed64(8, int(s["endTimeUnixNano"]))
    for kv in s.get("attributes", []):
        b += _len(9, pb_kv(kv))
    for ev in s.get("events", []):
        e = _fixed64(1, int(ev["timeUnixNano"])) + _str(2, ev["name"]) + b"".join(_len(3, pb_kv(kv)) for kv in ev.get("attributes", []))
        b += _len(11, e)
    st = s.get("status", {})
    b += _len(15, _str(2, st.get("message", "")) + _uvarint_field(3, st.get("code", 0)))
    if "flags" in s:
        b += _fixed32(16, s["flags"])
    return b


def pb_request(req: dict) -> bytes:
    out = b""
    for rs in req["resourceSpans"]:
        r = _len(1, b"".join(_len(1, pb_kv(kv)) for kv in rs["resource"]["attributes"]))
        for ss in rs["scopeSpans"]:
            sc = ss["scope"]
            scope = _str(1, sc.get("name", "")) + _str(2, sc.get("version", ""))
            r += _len(2, _len(1, scope) + b"".join(_len(2, pb_span(s)) for s in ss["spans"]))
        r += _str(3, rs.get("schemaUrl", ""))
        out += _len(1, r)
    return out
