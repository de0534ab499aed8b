#!/usr/bin/env python3
"""Writes the HDFS 2k Loghub sample replicated to about one million lines, with every
number randomised, for `loglens bench parse --input` (throughput, not accuracy).

usage: benches/gen_hdfs_1m.py [OUT] [LINES]   (default /tmp/hdfs_1m.log, 1000000)
Reads $LOGLENS_DATA/loghub-2k/HDFS/HDFS_2k.log (LOGLENS_DATA defaults to ../shared/data).
"""
import os
import random
import re
import sys

data = os.environ.get("LOGLENS_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
src = os.path.join(data, "loghub-2k", "HDFS", "HDFS_2k.log")
out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/hdfs_1m.log"
total = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
lines = open(src).read().splitlines()
rng = random.Random(42)
digits = re.compile(r"\d+")


def randomise(m):
    s = m.group(0)
    # Keep the width so dates and times stay well-formed shapes.
    if len(s) == 6 and m.start() < 14:
        return s
    return str(rng.randrange(10 ** (len(s) - 1) if len(s) > 1 else 0, 10 ** len(s)))


with open(out, "w") as f:
    for i in range(total):
        f.write(digits.sub(randomise, lines[i % len(lines)]) + "\n")
print(out)
