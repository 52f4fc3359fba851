#!/usr/bin/env bash
# What the built-in rule packs cost `report`: interleaved runs of
# `report --json FILE` and `report --json --no-packs FILE`, medians and
# their ratio (#16 holds it to 1.10). Interleaving cancels most of a shared
# machine's drift; bench.sh's few rounds of every command do not.
#
#   scripts/packs-ab.sh bench-data/console-s1-c48-g2746f92b-1G.txt [RUNS=7]
set -euo pipefail
cd "$(dirname "$0")/.."
F=$1 N=${2:-7} TS=${CARGO_TARGET_DIR:-target}/release/tracesift
for _ in $(seq "$N"); do
    for mode in packs no-packs; do
        extra=(); [[ $mode == no-packs ]] && extra=(--no-packs)
        s=$(date +%s%N)
        "$TS" report --json "${extra[@]}" "$F" >/dev/null || (($? == 1))
        e=$(date +%s%N)
        echo "$mode $(((e - s) / 1000000))"
    done
done | python3 -c '
import statistics, sys
runs = {}
for line in sys.stdin:
    mode, ms = line.split()
    runs.setdefault(mode, []).append(int(ms))
a, b = statistics.median(runs["packs"]), statistics.median(runs["no-packs"])
p, n = sorted(runs["packs"]), sorted(runs["no-packs"])
print(f"report with packs {a:.0f} ms, --no-packs {b:.0f} ms: {a / b:.3f}x (runs {p} vs {n})")'
