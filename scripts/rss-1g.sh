#!/usr/bin/env bash
# Peak RSS and time of every command on 1 GiB of a realistic capture, from
# the file, from `< file`, from a pipe and compressed (issue #19: at most
# 100 MiB at default options, however the input comes).
#
# Usage: scripts/rss-1g.sh [SIZE]        (SIZE: 1G by default; 256M for a quick look)
#
# Builds the release binaries (honours CARGO_TARGET_DIR), generates the
# capture with the synthetic generator's realistic profile (as
# scripts/bench.sh does: `gen_capture --seed 1 --size SIZE --cpus 48
# --format console`) into BENCH_DATA (default bench-data/, gitignored; kept
# for the next run), with .zst and .gz copies, then runs `report`,
# `events`, `stats`, `timeline --eb ADDR` (an eb with an injected anomaly)
# and `export` on each form under GNU time (`%e %U %S %M`). Output goes to
# /dev/null. Exits 1 when a peak RSS is over BOUND_MIB (default 100) or a
# run exits with a status other than 0/1.
#
# Needs bash, cargo, python3, GNU time; zstd and gzip for those rows.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${1:-1G}
BOUND_MIB=${BOUND_MIB:-100}
DATA=${BENCH_DATA:-bench-data}
TARGET=${CARGO_TARGET_DIR:-target}
[ -x /usr/bin/time ] || { echo "rss-1g.sh: needs GNU time at /usr/bin/time" >&2; exit 2; }

cargo build --release --locked --quiet --bin tracesift --example gen_capture
ts="$TARGET/release/tracesift"
gen="$TARGET/release/examples/gen_capture"
mkdir -p "$DATA"
base="$DATA/console-$SIZE"
if [ ! -s "$base.txt" ] || [ ! -s "$base.json" ]; then
    "$gen" --seed 1 --size "$SIZE" --cpus 48 --format console --out "$base.txt" --anomalies "$base.json"
fi
if command -v zstd >/dev/null && [ ! -s "$base.txt.zst" ]; then zstd -q -1 -c "$base.txt" >"$base.txt.zst"; fi
if command -v gzip >/dev/null && [ ! -s "$base.txt.gz" ]; then gzip -1 -c "$base.txt" >"$base.txt.gz"; fi
addr=$(python3 -c 'import json, sys
a = [x["eb"] for x in json.load(open(sys.argv[1]))["anomalies"] if "eb" in x]
print(a[0] if a else 0)' "$base.json")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
printf '%-9s %-6s %7s %7s %8s  %s\n' command from wall_s cpu_s rss_MiB verdict
for cmd in report events stats timeline export; do
    args=("$cmd")
    [ "$cmd" = timeline ] && args=(timeline --eb "$addr")
    for from in file redirect pipe zst gz; do
        st=0
        set +e
        case $from in
        file) /usr/bin/time -f '%e %U %S %M' -o "$tmp/t" "$ts" "${args[@]}" "$base.txt" >/dev/null 2>"$tmp/err" ;;
        redirect) /usr/bin/time -f '%e %U %S %M' -o "$tmp/t" "$ts" "${args[@]}" - <"$base.txt" >/dev/null 2>"$tmp/err" ;;
        pipe) cat "$base.txt" | /usr/bin/time -f '%e %U %S %M' -o "$tmp/t" "$ts" "${args[@]}" - >/dev/null 2>"$tmp/err" ;;
        zst | gz)
            [ -s "$base.txt.$from" ] || { set -e; continue; }
            /usr/bin/time -f '%e %U %S %M' -o "$tmp/t" "$ts" "${args[@]}" "$base.txt.$from" >/dev/null 2>"$tmp/err"
            ;;
        esac
        st=$?
        set -e
        # GNU time puts "Command exited with non-zero status N" first.
        read -r wall user sys kib < <(tail -1 "$tmp/t")
        mib=$((kib / 1024))
        v=ok
        if [ "$st" -ne 0 ] && [ "$st" -ne 1 ]; then v="STATUS $st: $(head -c 200 "$tmp/err")"; fi
        if [ "$mib" -gt "$BOUND_MIB" ]; then v="OVER $BOUND_MIB MiB"; fi
        [ "$v" = ok ] || fail=1
        printf '%-9s %-6s %7.2f %7.2f %8d  %s\n' "$cmd" "$from" "$wall" "$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')" "$mib" "$v"
    done
done
if [ "$fail" -ne 0 ]; then
    echo "rss-1g.sh: FAILED" >&2
    exit 1
fi
echo "rss-1g.sh: every run within $BOUND_MIB MiB"
