#!/usr/bin/env python3
"""Writes the scale input for `loglens analyze` with traces: N services calling each other
in layers, one of them failing from two thirds of the window on, with one log file per
service (`logs/<service>.log`, Python logging format) and OTLP/JSON traces as the
Collector's file exporter writes them (one ExportTraceServiceRequest per line).

    python3 benches/rca/gen_scale.py --out /tmp/rca-scale --services 400 --spans 1000000 --lines 1000000
    taskset -c 0 loglens analyze /tmp/rca-scale/logs --traces /tmp/rca-scale/traces --no-llm -o /tmp/out

Standard library only; deterministic for a given --seed.
"""

import argparse
import json
import os
import random

START = 1_735_725_600  # 2025-01-01T10:00:00Z
WINDOW_S = 60 * 60


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--services", type=int, default=400)
    ap.add_argument("--spans", type=int, default=1_000_000)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    names = [f"s{i:03d}-api" for i in range(a.services)]
    # Layers: each service calls two services of the next layer.
    layers = [names[i:i + 20] for i in range(0, len(names), 20)]
    callees = {}
    for li, layer in enumerate(layers[:-1]):
        nxt = layers[li + 1]
        for s in layer:
            callees[s] = rnd.sample(nxt, min(2, len(nxt)))
    root = layers[len(layers) // 2][3]
    onset = START + WINDOW_S * 2 // 3
    os.makedirs(os.path.join(a.out, "logs"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "traces"), exist_ok=True)

    def failing(s, t):
        return t >= onset and s == root

    # Services whose calls reach the root cause (it included).
    reach = {root}
    changed = True
    while changed:
        changed = False
        for s, cs in callees.items():
            if s not in reach and any(c in reach for c in cs):
                reach.add(s)
                changed = True

    def fails_below(s, t):
        return t >= onset and s in reach

    # Traces: requests enter at layer 0 and walk down one path.
    spans_per_line = 1000
    batch = {}
    n = 0
    trace_no = 0
    with open(os.path.join(a.out, "traces", "traces.json"), "w") as out:
        while n < a.spans:
            trace_no += 1
            t = START + rnd.random() * WINDOW_S
            trace_id = f"{trace_no:032x}"
            s = rnd.choice(layers[0])
            parent = ""
            depth = 0
            while s is not None and n < a.spans:
                span_id = f"{(trace_no << 8) + depth:016x}"
                err = fails_below(s, t)
                ns = int(t * 1e9) + depth * 1_000_000
                span = {"traceId": trace_id, "spanId": span_id, "parentSpanId": parent,
                        "name": "GET /work", "kind": 2,
                        "startTimeUnixNano": str(ns), "endTimeUnixNano": str(ns + 20_000_000),
                        "status": {"code": 2 if err else 0,
                                   "message": "disk full: no space left on device" if failing(s, t) else ""}}
                batch.setdefault(s, []).append(span)
                n += 1
                kids = callees.get(s)
                parent = span_id
                s = rnd.choice(kids) if kids else None
                depth += 1
            if sum(len(v) for v in batch.values()) >= spans_per_line:
                write_batch(out, batch)
                batch = {}
        write_batch(out, batch)
    # Logs: a share of the lines per service; errors where calls fail.
    per = a.lines // a.services
    for s in names:
        with open(os.path.join(a.out, "logs", f"{s}.log"), "w") as f:
            for i in range(per):
                t = START + WINDOW_S * i / per
                stamp = fmt(t)
                if failing(s, t):
                    f.write(f"{stamp} - {s} - ERROR - write /data/seg-{i}: no space left on device\n")
                elif fails_below(s, t) and i % 3 == 0:
                    f.write(f"{stamp} - {s} - ERROR - call to {callees[s][0]} failed: status 500 after {rnd.randint(5, 900)} ms\n")
                else:
                    f.write(f"{stamp} - {s} - INFO - handled request {rnd.randint(1, 10**6)} in {rnd.randint(1, 90)} ms\n")
    print(json.dumps({"root_cause_service": root, "spans": n, "lines": per * a.services,
                      "services": a.services, "onset": fmt(onset)}))


def write_batch(out, batch):
    if not batch:
        return
    rs = [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": s}}]},
           "scopeSpans": [{"scope": {"name": "gen"}, "spans": spans}]} for s, spans in batch.items()]
    out.write(json.dumps({"resourceSpans": rs}, separators=(",", ":")))
    out.write("\n")


def fmt(t):
    import datetime
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return d.strftime("%Y-%m-%d %H:%M:%S,") + f"{d.microsecond // 1000:03d}"


if __name__ == "__main__":
    main()
