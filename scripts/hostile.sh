#!/usr/bin/env bash
# Hostile inputs at full size: peak memory and exit status of `tracesift report`.
#
# Usage: scripts/hostile.sh [--quick]
#
# Builds the release binary (honours CARGO_TARGET_DIR), then feeds
# `tracesift report -` inputs generated on the fly (nothing is written to the
# repository or to disk) and measures peak RSS with `/usr/bin/time -f %M`:
#
#   one-line-1GiB    a 1 GiB line without a newline ('a' repeated)
#   urandom-50MB     50 MB of /dev/urandom
#   nul-flood        256 MiB of NUL bytes
#   cr-flood         256 MiB of carriage returns
#   ebs-1M-default   one million distinct ebs allocated and never released,
#                    at the default --max-live-ebs (100000)
#   ebs-1M-small     the same with --max-live-ebs 10000
#   one-eb-1M-allocs one eb allocated a million times by different tasks,
#                    no read ever completing (contending allocs pile up)
#   oops-20k ... oops-160k
#                    20,000 to 160,000 oops headers (`Oops: 0000 [#N]`), each
#                    its own splat: the time must grow linearly (issue #19:
#                    160,000 took 69 s when each header scanned every splat),
#                    and the memory with the splats reported (about 1 KiB each,
#                    a splat and its finding), under OOPS_BOUND_MIB (default 250)
#   leaf-1x, leaf-4x, leaf-16x
#                    62,500 to 1,000,000 distinct corrupt-leaf reports, each
#                    with its `read time tree block corruption detected`
#                    companion (issue #19: a million distinct corrupt-leaf
#                    lines used 1.3 GiB): linear in time, flat in memory (only
#                    the first 4096 distinct corruptions are kept)
#   abort-1x, abort-4x, abort-16x
#                    15,625 to 250,000 distinct `BTRFS: error (device sda) in
#                    fnN:N: errno=-5 IO failure` lines (issue #19: 32,000 took
#                    4 s, 250,000 did not finish in 9 minutes): linear in
#                    time, flat in memory (both run with -j1, see below)
#
# Prints a table (case, exit status, peak RSS) and the memory per live eb
# derived from the two million-eb runs. Exits 1 when a status is not 0/1 or a
# peak RSS is over its bound: BOUND_MIB (default 100) for every case except
# ebs-1M-default, which gets EBS_BOUND_MIB (default 150): that case keeps
# 100000 ebs live on purpose and its memory grows with the bound, not with
# the input (about 0.9 KB per live eb, so about 90 MiB at the default bound).
# --quick divides the input sizes by 16 (for a smoke run).
#
# Needs: bash, cargo, coreutils (head, tr), awk, /usr/bin/time (GNU time).
set -euo pipefail
cd "$(dirname "$0")/.."

BOUND_MIB=${BOUND_MIB:-100}
EBS_BOUND_MIB=${EBS_BOUND_MIB:-150}
OOPS_BOUND_MIB=${OOPS_BOUND_MIB:-250}
scale=1
if [ "${1:-}" = --quick ]; then
    scale=16
fi

cargo build --release --locked --quiet
bin="${CARGO_TARGET_DIR:-target}/release/tracesift"
[ -x "$bin" ] || { echo "hostile.sh: no binary at $bin" >&2; exit 2; }

gib=$((1024 * 1024 * 1024 / scale))
mib256=$((256 * 1024 * 1024 / scale))
mb50=$((50 * 1000 * 1000 / scale))
n_ebs=$((1000000 / scale))

gen_line() { head -c "$gib" /dev/zero | tr '\0' 'a'; }
gen_urandom() { head -c "$mb50" /dev/urandom; }
gen_nul() { head -c "$mib256" /dev/zero; }
gen_cr() { head -c "$mib256" /dev/zero | tr '\0' '\r'; }
# The debug patch's alloc line in ftrace_dump format, one distinct eb each
# (%.0f, not %d: mawk clamps %d to 2^31 - 1).
gen_ebs() {
    awk -v n="$n_ebs" 'BEGIN {
        for (i = 0; i < n; i++)
            printf "[%6d.%06d] iou-wrk--%-7d %2d..... %.0fus : alloc_extent_buffer: alloc_extent_buffer: alloc eb=%.0f len=16384\n",
                1000 + i / 1000000, i % 1000000, 1000 + i % 977, i % 48, 680000000 + i, 30408704 + i * 16384
    }'
}

# Oops headers, one per line, each die counter new: $1 of them.
gen_oops() {
    awk -v n="$(($1 / scale))" 'BEGIN {
        for (i = 0; i < n; i++)
            printf "[%6d.%06d] Oops: 0000 [#%d] PREEMPT SMP NOPTI\n", 100 + i / 1000, i % 1000000, i + 1
    }'
}
gen_oops_20k() { gen_oops 20000; }
gen_oops_40k() { gen_oops 40000; }
gen_oops_80k() { gen_oops 80000; }
gen_oops_160k() { gen_oops 160000; }

# Distinct corrupt leaves, each a tree-checker report and its companion: $1 of them.
gen_leaf() {
    awk -v n="$(($1 / scale))" 'BEGIN {
        for (i = 0; i < n; i++) {
            b = 30408704 + i * 16384
            printf "[%6d.%06d] BTRFS critical (device sda): corrupt leaf: root=5 block=%.0f slot=%d ino=%d, invalid inode transid: has %d expect [0, %d]\n",
                1000 + i / 1000000, i % 1000000, b, i % 200, 257 + i, 45277 + i, 45276 + i
            printf "[%6d.%06d] BTRFS error (device sda): read time tree block corruption detected on logical %.0f mirror %d\n",
                1000 + i / 1000000, i % 1000000, b, 1 + i % 2
        }
    }'
}

# Distinct abort sites, as in issue #19: $1 of them.
gen_abort() {
    awk -v n="$(($1 / scale))" 'BEGIN {
        for (i = 0; i < n; i++)
            printf "BTRFS: error (device sda) in fn%d:%d: errno=-5 IO failure\n", i, i
    }'
}
# gen_leaf_1x ... gen_abort_16x: 1, 4 and 16 times the base sizes.
for k in 1 4 16; do
    eval "gen_leaf_${k}x() { gen_leaf $((62500 * k)); }"
    eval "gen_abort_${k}x() { gen_abort $((15625 * k)); }"
done

# One eb, allocated over and over, never read.
gen_one_eb() {
    awk -v n="$n_ebs" 'BEGIN {
        for (i = 0; i < n; i++)
            printf "iou-wrk--%-7d %2d..... %.0fus : alloc_extent_buffer: alloc_extent_buffer: alloc eb=15302115328 len=16384\n",
                1 + i % 4000000, i % 48, 680000000 + i
    }'
}

results=()
fail=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

# run NAME BOUND_MIB GENERATOR [tracesift args...]
run() {
    local name=$1 bound=$2 gen=$3
    shift 3
    local start end status rss
    start=$(date +%s.%N)
    set +e
    "$gen" | /usr/bin/time -f "%M" -o "$tmp" "$bin" report "$@" - >/dev/null 2>"$tmp.err"
    status=${PIPESTATUS[1]}
    set -e
    end=$(date +%s.%N)
    rss=$(tail -1 "$tmp")
    local mib=$((rss / 1024))
    local verdict=ok
    if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
        verdict="BAD STATUS"
        fail=1
    fi
    if grep -q panicked "$tmp.err"; then
        verdict="PANIC"
        fail=1
    fi
    if [ "$mib" -gt "$bound" ]; then
        verdict="OVER ${bound} MiB"
        fail=1
    fi
    rm -f "$tmp.err"
    local secs
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')
    results+=("$(printf '%-16s %6s %10s %10s %8.2f  %s' "$name" "$status" "$rss" "$mib" "$secs" "$verdict")")
    eval "rss_$(echo "$name" | tr -c 'a-zA-Z0-9\n' _)=$rss"
    eval "secs_$(echo "$name" | tr -c 'a-zA-Z0-9\n' _)=$secs"
}

run one-line-1GiB "$BOUND_MIB" gen_line
run urandom-50MB "$BOUND_MIB" gen_urandom
run nul-flood "$BOUND_MIB" gen_nul
run cr-flood "$BOUND_MIB" gen_cr
run ebs-1M-default "$EBS_BOUND_MIB" gen_ebs
run ebs-1M-small "$BOUND_MIB" gen_ebs --max-live-ebs 10000
run one-eb-1M-allocs "$BOUND_MIB" gen_one_eb
run oops-20k "$OOPS_BOUND_MIB" gen_oops_20k
run oops-40k "$OOPS_BOUND_MIB" gen_oops_40k
run oops-80k "$OOPS_BOUND_MIB" gen_oops_80k
run oops-160k "$OOPS_BOUND_MIB" gen_oops_160k
# One thread: these measure the grouping of reports; with two, the memory
# of the batches the parallel reader has in flight comes on top, and varies
# from run to run with how far it gets ahead of the analysis.
run leaf-1x "$BOUND_MIB" gen_leaf_1x -j1
run leaf-4x "$BOUND_MIB" gen_leaf_4x -j1
run leaf-16x "$BOUND_MIB" gen_leaf_16x -j1
run abort-1x "$BOUND_MIB" gen_abort_1x -j1
run abort-4x "$BOUND_MIB" gen_abort_4x -j1
run abort-16x "$BOUND_MIB" gen_abort_16x -j1

printf '%-16s %6s %10s %10s %8s  %s\n' case status "rss_KiB" "rss_MiB" "secs" verdict
for r in "${results[@]}"; do echo "$r"; done
live_default=$((n_ebs < 100000 ? n_ebs : 100000))
per_eb=$(( (rss_ebs_1M_default - rss_ebs_1M_small) * 1024 / (live_default - 10000) ))
echo "memory per live eb: about $per_eb bytes ((default - small) / ($live_default - 10000) live ebs)"
per_splat=$(( (rss_oops_160k - rss_oops_20k) * 1024 / (140000 / scale) ))
echo "memory per splat: about $per_splat bytes ((oops-160k - oops-20k) / $((140000 / scale)) splats)"
# Eight times the headers must take well under 8 x 8 times the time: linear, not quadratic.
growth=$(awk -v a="$secs_oops_20k" -v b="$secs_oops_160k" 'BEGIN { printf "%.1f", b / (a > 0.01 ? a : 0.01) }')
echo "oops headers: 8x the lines took ${growth}x the time (linear: about 8)"
if awk -v g="$growth" 'BEGIN { exit !(g > 24) }'; then
    echo "hostile.sh: oops headers grow faster than linearly" >&2
    fail=1
fi
# Grouped btrfs reports: 16 times the lines in at most 3 x 16 times the
# time, and at most FLAT_MIB (default 16) more memory.
FLAT_MIB=${FLAT_MIB:-16}
for c in leaf abort; do
    eval "a=\$secs_${c}_1x b=\$secs_${c}_16x ra=\$rss_${c}_1x rb=\$rss_${c}_16x"
    growth=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", b / (a > 0.01 ? a : 0.01) }')
    grew=$(( (rb - ra) / 1024 ))
    echo "$c reports: 16x the lines took ${growth}x the time (linear: about 16) and ${grew} MiB more memory (flat: 0)"
    if awk -v g="$growth" 'BEGIN { exit !(g > 48) }'; then
        echo "hostile.sh: $c reports grow faster than linearly" >&2
        fail=1
    fi
    if [ "$grew" -gt "$FLAT_MIB" ]; then
        echo "hostile.sh: $c reports' memory grows with the input" >&2
        fail=1
    fi
done
if [ "$fail" -ne 0 ]; then
    echo "hostile.sh: FAILED" >&2
    exit 1
fi
echo "hostile.sh: all within bounds"
