#!/bin/bash
# Interleaves `delineate bench engine` with Training/bench_reference.py (PyTorch and ONNX Runtime on
# the same networks and threads) and prints the table of Docs/performance.md: per network, the
# fastest median of each engine over the rounds, and the ratio to ONNX Runtime. On a noisy machine
# only interleaved runs compare engines fairly.
# usage: Docs/bench_against_reference.sh [BINARY=.build/release/delineate] [THREADS=2] [ROUNDS=3]
set -euo pipefail
binary=${1:-.build/release/delineate} threads=${2:-2} rounds=${3:-3}
python=Training/.venv/bin/python
for _ in $(seq "$rounds"); do
    "$binary" bench engine --threads "$threads" --runs 30 | grep -E '^\| (SIM|CIM|propagation)' |
        awk -F'|' '{ print "delineate|" $2 "|" $3 }'
    "$python" Training/bench_reference.py --threads "$threads" --runs 30 2>/dev/null |
        grep -E '^\| (SIM|CIM|propagation)' | awk -F'|' '{ print "pytorch|" $2 "|" $3; print "ort|" $2 "|" $4 }'
done | python3 -c '
import collections, sys
fastest = collections.defaultdict(dict)
rows = []
for line in sys.stdin:
    engine, row, milliseconds = (part.strip() for part in line.split("|"))
    # The two benchmarks name the networks alike up to a parenthesis.
    row = row.split(" (")[0]
    if row not in rows:
        rows.append(row)
    fastest[row][engine] = min(fastest[row].get(engine, float("inf")), float(milliseconds))
print(f"| network ({sys.argv[1]} threads, ms) | Delineate engine | PyTorch CPU | ONNX Runtime | Delineate / ORT |")
print("| --- | ---: | ---: | ---: | ---: |")
for row in rows:
    ours, torch, ort = (fastest[row][engine] for engine in ("delineate", "pytorch", "ort"))
    print(f"| {row} | {ours:.2f} | {torch:.2f} | {ort:.2f} | {ours / ort:.2f} |")
' "$threads"
