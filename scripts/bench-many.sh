#!/usr/bin/env bash
# Benchmark `tracesift report --each` on a directory of many small captures
# (the shape of fstests result directories and CI console logs), against
# `find DIR -type f | xargs grep -c eb=` over the same files.
#
# What it does:
#   1. builds the release binaries (tracesift, examples/gen_capture);
#   2. generates $MANY_N console captures of 19 to 123 KB, 49 KB on average
#      (seeds 1..N; each with boots, splats, an ftrace dump and injected
#      anomalies) into $MANY_DATA/many-N, reused when already there
#      (deterministic);
#   3. warms the page cache, then times, interleaved over $MANY_ROUNDS rounds:
#        find DIR -type f | xargs grep -c eb=
#        tracesift report --each DIR              (text summary, -j all cores)
#        tracesift report --each --json DIR       (NDJSON, one document per capture)
#        tracesift report --each -j 1 DIR         (one thread)
#   4. prints each one's median, captures per second, and its time relative
#      to grep's in the same run, then the peak RSS of `report --each`;
#   5. checks that --json wrote one line per capture, and exits 1 if not.
#
# Environment (all optional):
#   MANY_N=2000            captures
#   MANY_ROUNDS=5          timing rounds (medians are reported)
#   MANY_DATA=bench-data   where the captures go (gitignored; created)
#   MANY_REGEN=1           regenerate even if the captures exist
#   CARGO_TARGET_DIR       honoured (default: target)
#
# Results are machine-noisy: compare the ratios, not the seconds.

set -euo pipefail

cd "$(dirname "$0")/.."
N=${MANY_N:-2000}
ROUNDS=${MANY_ROUNDS:-5}
DATA=${MANY_DATA:-bench-data}
TARGET=${CARGO_TARGET_DIR:-target}
DIR=$DATA/many-$N

say() { printf '%s\n' "$*" >&2; }
show() { printf '+ %s\n' "$*" >&2; }

show "cargo build --release --bin tracesift --example gen_capture"
cargo build --release --quiet --bin tracesift --example gen_capture
TS="$TARGET/release/tracesift"
GEN="$TARGET/release/examples/gen_capture"

if [[ ${MANY_REGEN:-0} == 1 || ! -f $DIR/.complete ]]; then
    rm -rf "$DIR"
    mkdir -p "$DIR"
    say "generating $N captures into $DIR"
    for ((i = 1; i <= N; i++)); do
        # The generator's size target, 24 to 192 KiB in eight steps.
        size=$(( (i % 8 + 1) * 24 ))K
        sub=$DIR/$(printf '%03d' $((i / 100)))
        mkdir -p "$sub"
        "$GEN" --seed "$i" --size "$size" --cpus 4 --format console \
            --out "$sub/capture-$i.txt" 2>/dev/null
    done
    touch "$DIR/.complete"
else
    say "reusing $DIR (MANY_REGEN=1 to regenerate)"
fi
FILES=$(find "$DIR" -type f -name '*.txt' | wc -l)
BYTES=$(find "$DIR" -type f -name '*.txt' -print0 | xargs -0 cat | wc -c)
say "$FILES captures, $BYTES bytes; warming the page cache"
find "$DIR" -type f -print0 | xargs -0 cat >/dev/null

# The commands, by name.
run() {
    case $1 in
        grep) find "$DIR" -type f -name '*.txt' | xargs grep -c eb= ;;
        each) "$TS" report --each --fail-on never "$DIR" ;;
        each-json) "$TS" report --each --json --fail-on never "$DIR" ;;
        each-j1) "$TS" report --each -j 1 --fail-on never "$DIR" ;;
    esac
}
NAMES=(grep each each-json each-j1)
declare -A TIMES
for ((r = 1; r <= ROUNDS; r++)); do
    for name in "${NAMES[@]}"; do
        start=$(date +%s%N)
        run "$name" >/dev/null
        end=$(date +%s%N)
        TIMES[$name]+="$(( (end - start) / 1000 )) "
    done
    say "round $r/$ROUNDS done"
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
GREP_US=$(median <<<"${TIMES[grep]}")
printf '\n%d captures (%d bytes) in %s, %d cores, medians of %d rounds\n\n' \
    "$FILES" "$BYTES" "$DIR" "$(nproc)" "$ROUNDS"
printf '| %-52s | %9s | %12s | %9s |\n' "command" "median" "captures/s" "× grep"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..54})" "$(printf -- '-%.0s' {1..10})-" \
    "$(printf -- '-%.0s' {1..13})-" "$(printf -- '-%.0s' {1..10})-"
label() {
    case $1 in
        grep) echo "find DIR -type f | xargs grep -c eb=" ;;
        each) echo "tracesift report --each DIR" ;;
        each-json) echo "tracesift report --each --json DIR" ;;
        each-j1) echo "tracesift report --each -j 1 DIR" ;;
    esac
}
for name in "${NAMES[@]}"; do
    us=$(median <<<"${TIMES[$name]}")
    awk -v l="$(label "$name")" -v us="$us" -v n="$FILES" -v g="$GREP_US" 'BEGIN {
        printf "| %-52s | %7.3f s | %12.0f | %9.2f |\n", "`" l "`", us / 1e6, n / (us / 1e6), us / g }'
done

if [[ -x /usr/bin/time ]]; then
    rss=$( { /usr/bin/time -f '%M' "$TS" report --each --fail-on never "$DIR" >/dev/null; } 2>&1 | tail -n 1)
    printf '\npeak RSS of `tracesift report --each DIR`: %s KiB\n' "$rss"
fi

lines=$("$TS" report --each --json --fail-on never "$DIR" | wc -l)
if [[ $lines -ne $FILES ]]; then
    say "FAIL: report --each --json wrote $lines lines for $FILES captures"
    exit 1
fi
say "ok: one JSON line per capture"
