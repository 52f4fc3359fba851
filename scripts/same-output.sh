#!/usr/bin/env bash
# Compare what two tracesift binaries print, byte for byte, on every file of
# the shared corpus, every fixture and the generated captures in bench-data/.
# For a refactoring that must not change behaviour:
#
#   cp target/release/tracesift /tmp/ts-before    # before the change
#   ...change, cargo build --release...
#   scripts/same-output.sh /tmp/ts-before target/release/tracesift
#
# Commands compared per file: report --json, report (text), report
# --format markdown, events, stats --json, and timeline --eb for the ebs the
# JSON report names (up to 3), each with -j1 and -j2 (the parallel reader
# takes over above 4 MiB). Exit 0 when all agree, 1 with the differing
# commands listed otherwise.
#
# Environment: TRACESIFT_CORPUS (default ../shared/corpus), SAME_EXTRA (more
# files, space-separated).

set -uo pipefail
cd "$(dirname "$0")/.."
[[ $# == 2 ]] || { echo "usage: $0 BEFORE_BIN AFTER_BIN" >&2; exit 2; }
A=$1 B=$2
corpus=${TRACESIFT_CORPUS:-../shared/corpus}
files=()
while IFS= read -r -d '' f; do files+=("$f"); done < <(
    { [[ -d $corpus ]] && find "$corpus" -type f ! -name MANIFEST.tsv -print0
      find fixtures -type f \( -name '*.txt' -o -name '*.log' -o -name '*.gz' -o -name '*.zst' -o -name '*.xz' \) -print0
      [[ -d bench-data ]] && find bench-data -maxdepth 1 -type f -name '*.txt' -print0
    } | sort -z)
for f in ${SAME_EXTRA:-}; do files+=("$f"); done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
diffs=0 runs=0
run() { # label args... : compare the two binaries' stdout and exit status
    local label=$1; shift
    "$A" "$@" >"$tmp/a" 2>"$tmp/ae"; local sa=$?
    "$B" "$@" >"$tmp/b" 2>"$tmp/be"; local sb=$?
    runs=$((runs + 1))
    if [[ $sa != "$sb" ]] || ! cmp -s "$tmp/a" "$tmp/b" || ! cmp -s "$tmp/ae" "$tmp/be"; then
        diffs=$((diffs + 1))
        echo "DIFFERS: $label (exit $sa vs $sb)"
        diff <(head -c 4000 "$tmp/a") <(head -c 4000 "$tmp/b") | head -n 10
        diff <(head -c 2000 "$tmp/ae") <(head -c 2000 "$tmp/be") | head -n 6
    fi
}
for f in "${files[@]}"; do
    for j in 1 2; do
        run "report --json -j$j $f" report --json --fail-on never -j$j "$f"
        run "report -j$j $f" report --color never --fail-on never -j$j "$f"
        run "report markdown -j$j $f" report --format markdown --fail-on never -j$j "$f"
        run "events -j$j $f" events -j$j "$f"
        run "stats --json -j$j $f" stats --json -j$j "$f"
    done
    ebs=$("$A" report --json --fail-on never "$f" 2>/dev/null \
        | python3 -c 'import json,sys
try:
    d=json.load(sys.stdin)
except Exception:
    sys.exit(0)
seen=[]
for x in d.get("findings",[]):
    e=x.get("eb")
    if e is not None and e not in seen: seen.append(e)
print(" ".join(str(e) for e in seen[:3]))')
    for eb in $ebs; do
        run "timeline --eb $eb $f" timeline --eb "$eb" --color never "$f"
        run "timeline --json --eb $eb $f" timeline --json --eb "$eb" "$f"
    done
done
echo "same-output: $runs runs over ${#files[@]} files, $diffs differ"
[[ $diffs == 0 ]]
