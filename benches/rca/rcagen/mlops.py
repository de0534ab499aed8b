"""OTLP traces for the shipped example (examples/mlops), derived from its logs so the two
agree on every time, object key, request id and outcome.

The story: MinIO's drive fills up, so Spark executors' S3A PutObject calls get 507; the
Spark job fails, Airflow's build_features task fails and is retried, and the feature API
keeps serving a stale snapshot. Spark and Airflow run with OpenTelemetry Java/Python
agents; MinIO and Redis are not instrumented and appear only as the callees of client
spans (peer.service / server.address), as they would in a real deployment.
"""

from __future__ import annotations

import json
import os
import re

from .otlp import anyvalue, to_json_line
from .util import Rng, epoch_ns, parse_local, parse_rfc3339

PREFIX = re.compile(r"^(\S+?)\s*\| ?(.*)$")


def _ts_airflow(s: str) -> float:
    return parse_local(s, "%Y-%m-%dT%H:%M:%S.%f%z")


def read_compose(path: str) -> dict[str, list[tuple[float, str]]]:
    out: dict[str, list[tuple[float, str]]] = {}
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for line in lines:
        m = PREFIX.match(line.rstrip("\n"))
        if not m:
            continue
        name, rest = m.group(1), m.group(2)
        ts = None
        if name.startswith("airflow") and rest.startswith("["):
            ts = _ts_airflow(rest[1:rest.index("]")])
        elif name.startswith("spark") and re.match(r"^\d\d/\d\d/\d\d ", rest):
            ts = parse_local(rest[:17], "%y/%m/%d %H:%M:%S")
        elif name.startswith("minio") and rest.startswith("{"):
            ts = parse_rfc3339(json.loads(rest)["time"])
        if ts is not None:
            out.setdefault(name, []).append((ts, rest))
    return out


class Builder:
    def __init__(self, seed: int = 7):
        self.rng = Rng(seed)
        self.spans: dict[str, list[dict]] = {}

    def span(self, svc: str, trace: str, parent: str, name: str, kind: int, t0: float, t1: float, attrs: dict,
             error: str = "", exc: tuple[str, str] | None = None) -> str:
        sid = self.rng.hexid(8)
        d = {"traceId": trace, "spanId": sid}
        if parent:
            d["parentSpanId"] = parent
        d.update({"flags": 1, "name": name, "kind": kind, "startTimeUnixNano": str(epoch_ns(t0)),
                  "endTimeUnixNano": str(epoch_ns(max(t1, t0 + 1e-4))),
                  "attributes": [{"key": k, "value": anyvalue(v)} for k, v in attrs.items()]})
        if exc:
            d["events"] = [{"timeUnixNano": str(epoch_ns(t1)), "name": "exception",
                            "attributes": [{"key": "exception.type", "value": {"stringValue": exc[0]}},
                                           {"key": "exception.message", "value": {"stringValue": exc[1]}}]}]
        d["status"] = {"message": error, "code": 2} if error else {}
        self.spans.setdefault(svc, []).append(d)
        return sid


SERVICES = {  # service.name -> (instance, sdk language, scope, scope version)
    "airflow-worker": ("airflow-worker-1", "python", "airflow.task", "2.10.3"),
    "spark-master": ("spark-master-1", "java", "io.opentelemetry.spark", "2.6.0-alpha"),
    "spark-worker": ("spark-worker-1", "java", "io.opentelemetry.aws-sdk-1.11", "2.6.0-alpha"),
    "feature-api": ("feature-api", "python", "opentelemetry.instrumentation.flask", "0.47b0"),
}


def build(example: str) -> list[dict]:
    logs = read_compose(os.path.join(example, "compose.log"))
    b = Builder()
    worker = logs.get("airflow-worker-1", [])
    runs = []  # (start, end, ok)
    for ts, rest in worker:
        m = re.search(r"execution_date=(\d{8}T\d{6})", rest)
        if m and ("Marking task as SUCCESS" in rest or "UP_FOR_RETRY" in rest):
            start = parse_local(m.group(1) + "+0000", "%Y%m%dT%H%M%S%z")
            runs.append((start, ts, "SUCCESS" in rest))
    tasks = [(ts, rest) for ts, rest in logs.get("spark-worker-1", []) if "Finished task" in rest or "Exception in task" in rest]
    puts = []
    for ts, rest in logs.get("minio-1", []):
        d = json.loads(rest)
        key = re.search(r"(warehouse/features/part-\d+\.parquet)", d["message"])
        puts.append((ts, key.group(1) if key else "warehouse/features/_temporary", d.get("requestID", ""),
                     d["level"] != "ERROR"))
    apps = [(ts, rest) for ts, rest in logs.get("spark-master-1", []) if "Registering app" in rest]
    for i, (start, end, ok) in enumerate(runs):
        nxt = runs[i + 1][0] if i + 1 < len(runs) else start + 100
        trace = b.rng.hexid(16)
        attempt = sum(1 for s, e, o in runs[:i] if not o and s >= start - 600) + 1 if not ok else 1
        root = b.span("airflow-worker", trace, "", "build_features", 1, start, end,
                      {"airflow.dag_id": "feature_pipeline", "airflow.task_id": "build_features",
                       "airflow.run_id": "scheduled__2025-11-03T20:00:00+00:00", "airflow.try_number": attempt,
                       "airflow.state": "success" if ok else "up_for_retry"},
                      "" if ok else "SparkJobFailed: job feature-build exited with 1",
                      None if ok else ("spark_utils.SparkJobFailed", "job feature-build exited with 1"))
        sub = b.span("airflow-worker", trace, root, "spark-submit feature-build", 3, start + 0.05, end - 0.05,
                     {"peer.service": "spark-master", "server.address": "spark-master", "server.port": 7077,
                      "process.command": "spark-submit"}, "" if ok else "exit status 1")
        app = next((a for a in apps if start <= a[0] < nxt), None)
        app_id = re.search(r"with ID (\S+)", app[1]).group(1) if app else "app-unknown"
        ms = b.span("spark-master", trace, sub, "RegisterApplication", 2, start + 0.1, end - 0.1,
                    {"spark.app.id": app_id, "spark.app.name": "feature-build", "server.address": "spark-master",
                     "server.port": 7077}, "" if ok else "application failed")
        for ts, rest in tasks:
            if not (start <= ts < nxt):
                continue
            tid = re.search(r"task (\d+\.\d+) in stage (\d+\.\d+) \(TID (\d+)\)", rest)
            failed = "Exception in task" in rest
            t0 = ts - 14.5
            task = b.span("spark-worker", trace, ms, f"task {tid.group(1)} stage {tid.group(2)}", 1, t0, ts,
                          {"spark.task.id": int(tid.group(3)), "spark.stage.id": tid.group(2), "spark.app.id": app_id},
                          "AWSS3IOException" if failed else "",
                          ("org.apache.hadoop.fs.s3a.AWSS3IOException",
                           "PUT 0-byte object on warehouse/features/_temporary: Storage backend has reached its "
                           "minimum free drive threshold (Status Code: 507)") if failed else None)
            for pts, key, rid, pok in puts:
                if t0 <= pts <= ts:
                    b.span("spark-worker", trace, task, "S3.PutObject", 3, pts - b.rng.uniform(0.02, 0.2), pts + 0.005,
                           {"rpc.system": "aws-api", "rpc.service": "Amazon S3", "rpc.method": "PutObject",
                            "aws.s3.bucket": "warehouse", "aws.s3.key": key.split("/", 1)[1], "aws.request_id": rid,
                            "http.request.method": "PUT", "http.response.status_code": 200 if pok else 507,
                            "server.address": "minio", "server.port": 9000, "peer.service": "minio"},
                           "" if pok else "507 Insufficient Storage",
                           None if pok else ("com.amazonaws.services.s3.model.AmazonS3Exception",
                                             "Storage backend has reached its minimum free drive threshold (Service: "
                                             f"Amazon S3; Status Code: 507; Error Code: XMinioStorageFull; Request ID: {rid})"))
    _feature_api(b, os.path.join(example, "feature-api.log"))
    return _batches(b)


def _feature_api(b: Builder, path: str) -> None:
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for line in lines:
        m = re.match(r"^(\S+ \S+) - feature_api - (\w+) - (.*)$", line.rstrip("\n"))
        if not m:
            continue
        ts = parse_local(m.group(1) + "+0000", "%Y-%m-%d %H:%M:%S,%f%z")
        msg = m.group(3)
        user = re.search(r"user[/ ](\d+)", msg)
        uid = user.group(1) if user else "0"
        dur = re.search(r"in (\d+) ms", msg)
        ok = m.group(2) == "INFO"
        t0 = ts - (int(dur.group(1)) / 1000 if dur else 0.006)
        trace = b.rng.hexid(16)
        srv = b.span("feature-api", trace, "", "GET /features/user/<user_id>", 2, t0, ts,
                     {"http.request.method": "GET", "http.route": "/features/user/<user_id>", "url.path": f"/features/user/{uid}",
                      "http.response.status_code": 200 if ok else 503, "server.address": "feature-api", "server.port": 8000},
                     "" if ok else "StaleSnapshotError", None if ok else ("feature_api.errors.StaleSnapshotError", msg.split(": ", 1)[-1]))
        b.span("feature-api", trace, srv, "HGETALL", 3, t0 + 0.001, t0 + 0.002,
               {"db.system": "redis", "db.statement": f"HGETALL features:user:{uid}", "server.address": "redis",
                "server.port": 6379})


def _batches(b: Builder) -> list[dict]:
    """Group spans by 10-second export windows (by end time), one request per window."""
    windows: dict[int, dict[str, list[dict]]] = {}
    for svc, spans in b.spans.items():
        for sp in spans:
            w = int(int(sp["endTimeUnixNano"]) // 10 ** 10)
            windows.setdefault(w, {}).setdefault(svc, []).append(sp)
    out = []
    for w in sorted(windows):
        rs = []
        for svc, spans in sorted(windows[w].items()):
            inst, lang, scope, ver = SERVICES[svc]
            attrs = {"service.name": svc, "service.namespace": "mlops", "service.instance.id": inst, "host.name": inst,
                     "deployment.environment": "production", "telemetry.sdk.language": lang,
                     "telemetry.sdk.name": "opentelemetry", "telemetry.sdk.version": "1.40.0" if lang == "java" else "1.26.0"}
            rs.append({"resource": {"attributes": [{"key": k, "value": {"stringValue": v}} for k, v in attrs.items()]},
                       "scopeSpans": [{"scope": {"name": scope, "version": ver},
                                       "spans": sorted(spans, key=lambda s: int(s["endTimeUnixNano"]))}],
                       "schemaUrl": "https://opentelemetry.io/schemas/1.24.0"})
        out.append({"resourceSpans": rs})
    return out


def write(example: str) -> str:
    reqs = build(example)
    path = os.path.join(example, "otel", "traces.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        for r in reqs:
            f.write(to_json_line(r) + "\n")
    return path
