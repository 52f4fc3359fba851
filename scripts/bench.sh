#!/usr/bin/env bash
# Benchmark tracesift end to end on generated console captures.
#
# What it does:
#   1. builds the release binaries (tracesift, examples/gen_capture);
#   2. generates a big (default 1G) and a small (default 256M) console
#      capture into $BENCH_DATA (reused when already there; deterministic);
#   3. warms the page cache, then times, interleaved over $BENCH_ROUNDS rounds:
#        wc -l BIG, grep -c eb= BIG, tracesift report --json BIG,
#        tracesift report --json --no-packs BIG (the built-in rules packs
#        off: their cost is the ratio of the two),
#        tracesift timeline --eb ADDR BIG (skipped with a note if the command
#        does not exist yet), wc -l SMALL, tracesift report --json SMALL;
#   4. prints medians, each one's ratio to `wc -l` of the same file, the peak
#      RSS, CPU use and minor page faults of `report` on the big file, and the
#      small-vs-big time ratio per byte (1.00 = perfectly linear);
#   5. checks that the findings of `report --json` on the big file are exactly
#      the anomalies the generator injected, and exits 1 if not.
#
# Environment (all optional):
#   BENCH_BIG=1G  BENCH_SMALL=256M  sizes of the two captures
#   BENCH_ROUNDS=5                  timing rounds (medians are reported)
#   BENCH_DATA=bench-data           where captures go (gitignored; created)
#   BENCH_SEED=1  BENCH_CPUS=48     generator seed and CPU count
#   BENCH_REGEN=1                   regenerate even if the captures exist
#   CARGO_TARGET_DIR                honoured (default: target)
#
# Example: BENCH_BIG=256M BENCH_SMALL=64M BENCH_ROUNDS=3 scripts/bench.sh
# Results are machine-noisy: compare ratios, not seconds.

set -euo pipefail

cd "$(dirname "$0")/.."
BIG=${BENCH_BIG:-1G}
SMALL=${BENCH_SMALL:-256M}
ROUNDS=${BENCH_ROUNDS:-5}
DATA=${BENCH_DATA:-bench-data}
SEED=${BENCH_SEED:-1}
CPUS=${BENCH_CPUS:-48}
TARGET=${CARGO_TARGET_DIR:-target}

say() { printf '%s\n' "$*" >&2; }
show() { printf '+ %s\n' "$*" >&2; }

command -v python3 >/dev/null || { say "bench.sh: python3 is required"; exit 2; }

show "cargo build --release --bin tracesift --example gen_capture"
cargo build --release --quiet --bin tracesift --example gen_capture
TS="$TARGET/release/tracesift"
GEN="$TARGET/release/examples/gen_capture"

mkdir -p "$DATA"
capture() { # size -> path (generates when missing)
    local size=$1 base="$DATA/console-s$SEED-c$CPUS-$1"
    if [[ ${BENCH_REGEN:-0} == 1 || ! -s $base.txt || ! -s $base.json ]]; then
        show "$GEN --seed $SEED --size $size --cpus $CPUS --format console --out $base.txt --anomalies $base.json"
        "$GEN" --seed "$SEED" --size "$size" --cpus "$CPUS" --format console \
            --out "$base.txt" --anomalies "$base.json"
    else
        say "reusing $base.txt (BENCH_REGEN=1 to regenerate)"
    fi
    printf '%s' "$base"
}
BIG_BASE=$(capture "$BIG")
SMALL_BASE=$(capture "$SMALL")
BIG_FILE=$BIG_BASE.txt
SMALL_FILE=$SMALL_BASE.txt

# An eb with an injected anomaly, for the timeline.
ADDR=$(python3 -c 'import json,sys
a=[x["eb"] for x in json.load(open(sys.argv[1]))["anomalies"] if "eb" in x]
print(a[0] if a else 15302115328)' "$BIG_BASE.json")
if "$TS" report --help 2>/dev/null | grep -q -- --no-packs; then
    HAVE_PACKS=1
else
    HAVE_PACKS=0
fi
if "$TS" timeline --help >/dev/null 2>&1; then
    HAVE_TIMELINE=1
else
    HAVE_TIMELINE=0
    say "note: 'tracesift timeline' does not exist yet in this build; its timing is skipped"
fi

say "warming the page cache"
cat "$BIG_FILE" "$SMALL_FILE" >/dev/null

TIMES=$(mktemp)
OUT=$(mktemp)
REPORT=$(mktemp)
trap 'rm -f "$TIMES" "$OUT" "$REPORT"' EXIT

timed() { # name command... ; appends "name seconds" to $TIMES
    local name=$1
    shift
    local t0=$EPOCHREALTIME rc=0
    # Not /dev/null: GNU grep stops at the first match when its output is /dev/null.
    "$@" >"$OUT" 2>&1 || rc=$?
    local t1=$EPOCHREALTIME
    # report exits 1 when it finds errors, timeline when nothing matched; 2 is trouble.
    if ((rc >= 2)); then
        say "bench.sh: '$*' failed with status $rc"
        exit 2
    fi
    python3 -c 'import sys; print(sys.argv[1], float(sys.argv[3]) - float(sys.argv[2]))' \
        "$name" "$t0" "$t1" >>"$TIMES"
}

say "commands timed (interleaved, $ROUNDS rounds):"
show "wc -l $BIG_FILE"
show "grep -c eb= $BIG_FILE"
show "$TS report --json $BIG_FILE"
((HAVE_PACKS)) && show "$TS report --json --no-packs $BIG_FILE"
((HAVE_TIMELINE)) && show "$TS timeline --eb $ADDR $BIG_FILE"
show "wc -l $SMALL_FILE"
show "$TS report --json $SMALL_FILE"
for ((r = 1; r <= ROUNDS; r++)); do
    say "round $r/$ROUNDS"
    timed wc_big wc -l "$BIG_FILE"
    timed grep_big grep -c eb= "$BIG_FILE"
    timed report_big "$TS" report --json "$BIG_FILE"
    if ((HAVE_PACKS)); then
        timed nopacks_big "$TS" report --json --no-packs "$BIG_FILE"
    fi
    if ((HAVE_TIMELINE)); then
        timed timeline_big "$TS" timeline --eb "$ADDR" "$BIG_FILE"
    fi
    timed wc_small wc -l "$SMALL_FILE"
    timed report_small "$TS" report --json "$SMALL_FILE"
done

# Peak RSS of report on the big file; with GNU time also its CPU use (how
# busy the cores were) and its minor page faults.
RSS_KB=""
CPU_PCT=""
FAULTS=""
if [[ -x /usr/bin/time ]] && /usr/bin/time -v true >/dev/null 2>&1; then
    show "/usr/bin/time -v $TS report --json $BIG_FILE"
    TV=$({ /usr/bin/time -v "$TS" report --json "$BIG_FILE" >/dev/null; } 2>&1) || true
    field() { awk -F': ' -v k="$1" '$1 ~ k {gsub(/[ %]/, "", $2); print $2}' <<<"$TV"; }
    RSS_KB=$(field "Maximum resident set size")
    CPU_PCT=$(field "Percent of CPU this job got")
    FAULTS=$(field "Minor .reclaiming a frame. page faults")
else
    say "no /usr/bin/time -v: sampling VmHWM from /proc/PID/status"
    "$TS" report --json "$BIG_FILE" >/dev/null &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        v=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
        [[ -n $v ]] && RSS_KB=$v
        sleep 0.02
    done
    wait "$pid" || true
fi

python3 - "$TIMES" "$BIG_FILE" "$SMALL_FILE" "${RSS_KB:-}" "${CPU_PCT:-}" "${FAULTS:-}" "$(nproc)" <<'EOF'
import os, statistics, sys
times, big, small, rss, cpu, faults, cores = sys.argv[1:8]
runs = {}
for line in open(times):
    name, secs = line.split()
    runs.setdefault(name, []).append(float(secs))
med = {k: statistics.median(v) for k, v in runs.items()}
bb, sb = os.path.getsize(big), os.path.getsize(small)
print(f"\n{'command':<24}{'file':>8}{'median s':>11}{'MB/s':>9}{'x wc -l':>9}   rounds")
rows = [("wc -l", "wc_big", bb, "wc_big"), ("grep -c eb=", "grep_big", bb, "wc_big"),
        ("report --json", "report_big", bb, "wc_big"), ("report --no-packs", "nopacks_big", bb, "wc_big"),
        ("timeline --eb", "timeline_big", bb, "wc_big"),
        ("wc -l", "wc_small", sb, "wc_small"), ("report --json", "report_small", sb, "wc_small")]
for label, key, size, base in rows:
    if key not in med:
        continue
    tag = "big" if key.endswith("big") else "small"
    print(f"{label:<24}{tag:>8}{med[key]:>11.3f}{size / 1e6 / med[key]:>9.0f}{med[key] / med[base]:>9.2f}   "
          + " ".join(f"{t:.3f}" for t in runs[key]))
if "grep_big" in med:
    print(f"\nreport vs grep -c eb= (big): {med['report_big'] / med['grep_big']:.2f}x  (spec §6 target: <= 2x)")
if "nopacks_big" in med:
    print(f"report with the built-in packs vs without (big): {med['report_big'] / med['nopacks_big']:.3f}x  (#16 target: <= 1.10x)")
print(f"big/small: {bb / sb:.2f}x the bytes, {med['report_big'] / med['report_small']:.2f}x the report time; "
      f"time per byte big/small = {(med['report_big'] / bb) / (med['report_small'] / sb):.2f} (1.00 = linear)")
if rss:
    print(f"peak RSS of report on the big file: {int(rss) / 1024:.1f} MiB  (spec §6 target: < 100 MiB)")
if cpu:
    print(f"CPU use of report on the big file: {cpu}% of one core, {int(cpu) / int(cores):.0f}% of the {cores} cores")
if faults:
    print(f"minor page faults of report on the big file: {faults}")
EOF

say ""
show "$TS report --json $BIG_FILE  (findings vs $BIG_BASE.json)"
"$TS" report --json "$BIG_FILE" >"$REPORT" || (($? == 1))
python3 - "$REPORT" "$BIG_BASE.json" <<'EOF'
import collections, json, sys
report, expected = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
key = lambda f: (f["rule"], f.get("eb"), f["severity"], f["confidence"])
got = collections.Counter(key(f) for f in report["findings"])
want = collections.Counter(key(a) for a in expected["anomalies"])
for k, n in sorted((got - want).items(), key=str):
    print(f"UNEXPECTED finding x{n}: {k}")
for k, n in sorted((want - got).items(), key=str):
    print(f"MISSING finding x{n}: {k}")
ok = got == want
print(f"findings: {sum(got.values())}, injected: {sum(want.values())} -> {'OK, equal' if ok else 'MISMATCH'}")
sys.exit(0 if ok else 1)
EOF
