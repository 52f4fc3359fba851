#!/usr/bin/env bash
# Seed the fuzz corpora (fuzz/corpus/<target>/, gitignored) from fixtures/.
#
#   fuzz/seed.sh            # fixtures only
#   fuzz/seed.sh --corpus   # plus 16 KiB cuts of ../shared/corpus files
#
# Every target reads its first byte as a reading-options selector (0 = the
# defaults), and `timeline` reads its first line as an address, so seeds
# are the fixture files behind those prefixes.
set -euo pipefail
cd "$(dirname "$0")"
fix=../fixtures
for t in records report timeline; do mkdir -p "corpus/$t"; done
n=0
seed() { # seed NAME FILE
    local name=$1 f=$2
    for sel in '\x00' '\x05' '\x12'; do
        { printf "$sel"; cat "$f"; } >"corpus/records/$name-${sel:2}"
        { printf "$sel"; cat "$f"; } >"corpus/report/$name-${sel:2}"
    done
    local eb
    eb=$(grep -o 'eb=[0-9]*' "$f" | head -1 | cut -d= -f2 || true)
    { printf '\x00'; echo "${eb:-15302115328}"; cat "$f"; } >"corpus/timeline/$name-dec"
    if [ -n "$eb" ]; then
        { printf '\x00'; printf '0x%x\n' "$eb"; cat "$f"; } >"corpus/timeline/$name-hex"
    fi
    n=$((n + 1))
}
for f in "$fix"/*.txt "$fix"/cases/*.txt; do
    seed "$(basename "$f" .txt)" "$f"
done
# Compressed variants for the report target (which sniffs magic bytes).
gzip -c "$fix/thread-excerpt.txt" >corpus/report/thread-excerpt.gz
head -c 100 corpus/report/thread-excerpt.gz >corpus/report/thread-excerpt-truncated.gz
if command -v zstd >/dev/null; then
    zstd -q -c "$fix/thread-excerpt.txt" >corpus/report/thread-excerpt.zst
fi
if command -v xz >/dev/null; then
    xz -c "$fix/thread-excerpt.txt" >corpus/report/thread-excerpt.xz
fi
if [ "${1:-}" = --corpus ] && [ -d ../../shared/corpus ]; then
    while IFS= read -r f; do
        cut=$(mktemp)
        head -c 16384 "$f" >"$cut"
        seed "corpus-$(echo "$f" | md5sum | cut -c1-12)" "$cut"
        rm -f "$cut"
    done < <(find ../../shared/corpus -type f -name '*.txt' | sort | head -200)
fi
echo "seeded $n inputs per target"
