#!/usr/bin/env python3
"""Generate incident scenarios (logs, OTLP traces, ground truth) for `loglens bench rca`.

    python3 benches/rca/generate.py --out DIR [--seed N] [--count N]
    python3 benches/rca/generate.py --check DIR
    python3 benches/rca/generate.py --example-traces examples/mlops

Standard library only; the same seed and count always give the same files. See
benches/rca/README.md for the scenario format, the fault types and the traps.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rcagen import check, scenario  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", help="directory to write scenarios into (one sub-directory each)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--count", type=int, default=len(scenario.TEMPLATES),
                   help=f"number of scenarios (default {len(scenario.TEMPLATES)}: one per template)")
    p.add_argument("--check", metavar="DIR", help="validate the scenarios under DIR and exit")
    p.add_argument("--example-traces", metavar="DIR", help="(re)write DIR/traces.json for the shipped mlops example")
    a = p.parse_args(argv)
    if a.check:
        return check.main(a.check)
    if a.example_traces:
        from rcagen import mlops
        path = mlops.write(a.example_traces)
        print(f"wrote {path}")
        return 0
    if not a.out:
        p.error("--out, --check or --example-traces is required")
    if a.count < 1:
        p.error("--count must be at least 1")
    os.makedirs(a.out, exist_ok=True)
    for i in range(a.count):
        t = scenario.generate(a.out, a.seed, i)
        print(f"{i:03d} {t['template']:<32} root={t['root_cause_service']:<28} category={t['category']:<20} "
              f"traps={','.join(t['traps'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
