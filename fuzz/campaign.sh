#!/usr/bin/env bash
# The 10-million-execution campaign of fuzz/README.md, every target at once.
#
# Usage: fuzz/campaign.sh [RUNS] [TARGET...]     (RUNS: 10000000; targets: all three)
#
# Builds the targets, then runs them side by side (one process each, so a
# target that finishes early leaves its core to the others: on 2 cores the
# three take about 80 minutes of wall time), each on its corpus/<target>/
# with the dictionary and the flags the README explains. Each target's log
# goes to artifacts/logs/<target>.log (libFuzzer's final stats at its end),
# and artifacts/logs/campaign.txt gets a START and an END line per target
# with the commit, the exit status and the wall time. Crashes land in
# artifacts/<target>/. Start it before changing src/: the figures are for
# the commit it was started on.
#
# Needs a nightly toolchain and cargo-fuzz (see fuzz/README.md); run
# fuzz/seed.sh --corpus first for the seeds.
set -euo pipefail
cd "$(dirname "$0")"

runs=${1:-10000000}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(records report timeline)

cargo +nightly fuzz build -s none --no-trace-compares
commit=$(git rev-parse --short HEAD)
[ -z "$(git status --porcelain -- ../src fuzz_targets)" ] || commit="$commit+dirty"
mkdir -p artifacts/logs

run_one() {
    local t=$1 s e rc=0
    mkdir -p "artifacts/$t" "corpus/$t"
    echo "START $t runs=$runs $(date -u +%FT%TZ) $commit" >>artifacts/logs/campaign.txt
    s=$(date +%s)
    "./target/x86_64-unknown-linux-gnu/release/$t" -artifact_prefix="artifacts/$t/" \
        -dict=dict/tracesift.dict -max_len=4096 -runs="$runs" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 "corpus/$t" >"artifacts/logs/$t.log" 2>&1 || rc=$?
    e=$(date +%s)
    echo "END $t rc=$rc wall=$((e - s))s $(grep -h 'number_of_executed_units' "artifacts/logs/$t.log" | tail -1) $(date -u +%FT%TZ)" \
        >>artifacts/logs/campaign.txt
}

for t in "${targets[@]}"; do
    run_one "$t" &
done
wait
tail -n "$((2 * ${#targets[@]}))" artifacts/logs/campaign.txt
