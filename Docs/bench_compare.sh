#!/bin/bash
# Interleaves `delineate bench engine` of two builds on one machine and prints, per network, the
# fastest and the middle of the medians of each: the way to compare engines on a noisy machine.
# usage: Docs/bench_compare.sh OLD_BINARY NEW_BINARY [ROUNDS=3]
set -euo pipefail
old=$1 new=$2 rounds=${3:-3}
for _ in $(seq "$rounds"); do
    for binary in "$old" "$new"; do
        "$binary" bench engine --threads 2 --runs 30 | grep -E '^\| (SIM|CIM|propagation)' |
            awk -F'|' -v build="$binary" '{ print build "|" $2 "|" $3 }'
    done
done | python3 -c '
import collections, sys
times = collections.defaultdict(list)
for line in sys.stdin:
    build, row, milliseconds = line.split("|")
    times[(row.strip(), build)].append(float(milliseconds))
for (row, build), values in sorted(times.items()):
    values.sort()
    print(f"{row:55} {build:40} fastest {values[0]:7.2f} ms  middle {values[len(values) // 2]:7.2f} ms")
'
