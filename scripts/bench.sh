#!/usr/bin/env bash
# Benchmark tracesift end to end on realistic generated captures.
#
# The captures come from the tracesift-synth generator's realistic profile
# (synth/, see its crate docs): three boots, each with its banner and its
# ftrace dump (console form) or its `trace` file (tracefs form); WARNING
# splat floods at 11,500 blocks per GiB among the dmesg lines; 2 % dmesg
# noise; tracefs `console:` events with and without their printk time;
# CPU:N [LOST M EVENTS] markers; about a third of the lines with `eb=`,
# mostly fresh ebs. Its truth (the findings report must give) describes
# boot scoping (#14): until that lands the findings check reports a mismatch.
#
# What it does:
#   1. builds the release binaries (tracesift, examples/gen_capture);
#   2. generates into $BENCH_DATA (reused when there; deterministic; the file
#      names carry a hash of the generator's source): the console and the
#      tracefs form at BENCH_BIG, the console form at BENCH_SMALL (and
#      BENCH_HUGE if set), and the console capture compressed with gzip,
#      zstd and xz (at BENCH_COMPRESSED size; a missing compressor skips its
#      rows with a note);
#   3. warms the page cache, then times, interleaved over $BENCH_ROUNDS
#      rounds, for each form on the big capture:
#        wc -l, grep -c eb=, report --json FILE, report --json < FILE,
#        cat FILE | report --json, report --json --no-packs (the built-in
#        rules packs off: their cost is the ratio to report --json, issue
#        #16), events, stats, timeline --eb ADDR, -j1 report --json,
#        -j2 report --json;
#      for each compressed input: DECOMPRESSOR FILE | wc -l and report --json
#      FILE; for linearity: wc -l and report --json on the small (and huge)
#      console capture;
#   4. prints per command the median, MB/s, the ratio to `wc -l` of the same
#      file in the same run (or to the decompressor piped to wc -l), the
#      peak RSS (GNU time), the target it is held to (issue #18 and spec §6),
#      the -j1/-j2 speed-up, time and memory per byte across sizes;
#   5. checks the findings of report --json on each big capture against the
#      generator's truth (same multiset of rule, eb, severity, confidence;
#      same summed count per splat title) and exits 1 if they differ.
#
# Environment (all optional):
#   BENCH_BIG=1G  BENCH_SMALL=128M   sizes (the linearity pair)
#   BENCH_HUGE=                      a third size for linearity, e.g. 2G
#   BENCH_COMPRESSED=small           size of the compressed inputs: small|big
#   BENCH_ROUNDS=5                   timing rounds (medians are reported)
#   BENCH_FORMS="console tracefs"    which forms get the full set of rows
#   BENCH_QUICK=1                    smoke run: 48M/16M, 1 round
#   BENCH_DATA=bench-data            where captures go (gitignored; created)
#   BENCH_SEED=1  BENCH_CPUS=48      generator seed and CPU count
#   BENCH_REGEN=1                    regenerate even if the captures exist
#   CARGO_TARGET_DIR                 honoured (default: target)
#
# Needs bash, python3, coreutils, grep; GNU time (/usr/bin/time) for the
# RSS column; gzip, zstd, xz for their rows. Installs nothing.
# Example: BENCH_BIG=256M BENCH_SMALL=64M BENCH_ROUNDS=3 scripts/bench.sh
# Results are machine-noisy: compare ratios, not seconds.

set -euo pipefail

cd "$(dirname "$0")/.."
if [[ ${BENCH_QUICK:-0} == 1 ]]; then
    BIG=${BENCH_BIG:-48M}
    SMALL=${BENCH_SMALL:-16M}
    ROUNDS=${BENCH_ROUNDS:-1}
else
    BIG=${BENCH_BIG:-1G}
    SMALL=${BENCH_SMALL:-128M}
    ROUNDS=${BENCH_ROUNDS:-5}
fi
HUGE=${BENCH_HUGE:-}
COMPRESSED=${BENCH_COMPRESSED:-small}
FORMS=${BENCH_FORMS:-console tracefs}
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
# Captures made by another version of the generator are not reused.
GENV=$(cat synth/Cargo.toml synth/src/*.rs | sha1sum | cut -c1-8)

mkdir -p "$DATA"
capture() { # form size -> base path (generates when missing)
    local form=$1 size=$2 base="$DATA/$1-s$SEED-c$CPUS-g$GENV-$2"
    if [[ ${BENCH_REGEN:-0} == 1 || ! -s $base.txt || ! -s $base.json ]]; then
        show "$GEN --seed $SEED --size $size --cpus $CPUS --format $form --out $base.txt --anomalies $base.json"
        "$GEN" --seed "$SEED" --size "$size" --cpus "$CPUS" --format "$form" \
            --out "$base.txt" --anomalies "$base.json"
    else
        say "reusing $base.txt (BENCH_REGEN=1 to regenerate)"
    fi
    printf '%s' "$base"
}
declare -A BASE
for form in $FORMS; do
    BASE[$form]=$(capture "$form" "$BIG")
done
[[ -n ${BASE[console]:-} ]] || BASE[console]=$(capture console "$BIG")
SMALL_BASE=$(capture console "$SMALL")
HUGE_BASE=""
[[ -n $HUGE ]] && HUGE_BASE=$(capture console "$HUGE")

# Compressed copies of the console capture.
if [[ $COMPRESSED == big ]]; then ZBASE=${BASE[console]}; else ZBASE=$SMALL_BASE; fi
ZROWS=()
compress() { # ext tool decompressor command...
    local ext=$1 tool=$2 cat=$3
    shift 3
    if ! command -v "$tool" >/dev/null || ! command -v "$cat" >/dev/null; then
        say "note: no $tool/$cat here: the .$ext rows are skipped"
        return
    fi
    if [[ ${BENCH_REGEN:-0} == 1 || ! -s $ZBASE.txt.$ext || $ZBASE.txt -nt $ZBASE.txt.$ext ]]; then
        show "$* < $ZBASE.txt > $ZBASE.txt.$ext"
        "$@" <"$ZBASE.txt" >"$ZBASE.txt.$ext.tmp"
        mv "$ZBASE.txt.$ext.tmp" "$ZBASE.txt.$ext"
    fi
    ZROWS+=("$ext:$cat")
}
compress gz gzip zcat gzip -c
compress zst zstd zstdcat zstd -q -c
compress xz xz xzcat xz -c -T0

# An eb with an injected anomaly, for the timeline.
ADDR=$(python3 -c 'import json,sys
a=[x["eb"] for x in json.load(open(sys.argv[1]))["anomalies"] if "eb" in x]
print(a[0] if a else 15302115328)' "${BASE[console]}.json")

HAVE_TIME=0
if [[ -x /usr/bin/time ]] && /usr/bin/time -f %M true >/dev/null 2>&1; then
    HAVE_TIME=1
else
    say "note: no GNU time at /usr/bin/time: the peak RSS column stays empty"
fi

say "warming the page cache"
for f in "${BASE[@]}" "$SMALL_BASE" $HUGE_BASE; do cat "$f.txt" >/dev/null; done
for z in "${ZROWS[@]}"; do cat "$ZBASE.txt.${z%%:*}" >/dev/null; done

TIMES=$(mktemp)
OUT=$(mktemp)
RSS=$(mktemp)
REPORT=$(mktemp)
trap 'rm -f "$TIMES" "$OUT" "$RSS" "$REPORT"' EXIT

# timed KEY FILE COMMAND... : runs COMMAND (a shell snippet when it is one
# word with a space; see below) once, appends "KEY FILE SECONDS RSS_KB".
# The peak RSS is that of the process wrapped by `$MEASURE`.
MEASURE=()
((HAVE_TIME)) && MEASURE=(/usr/bin/time -o "$RSS" -f %M)
timed() {
    local key=$1 file=$2 script=$3
    : >"$RSS"
    local t0=$EPOCHREALTIME rc=0
    # Not /dev/null for grep: GNU grep stops at the first match when its output is /dev/null.
    bash -c "$script" _ "$TS" "$file" "$ADDR" "${MEASURE[@]}" >"$OUT" 2>&1 || rc=$?
    local t1=$EPOCHREALTIME
    # report exits 1 when it finds errors, timeline when nothing matched; 2 is trouble.
    if ((rc >= 2)); then
        say "bench.sh: '$script' on $file failed with status $rc:"
        head -5 "$OUT" >&2
        exit 2
    fi
    local rss
    rss=$(tail -1 "$RSS" 2>/dev/null || true)
    python3 -c 'import sys; print(sys.argv[1], sys.argv[2], float(sys.argv[4]) - float(sys.argv[3]), sys.argv[5] or "-")' \
        "$key" "$file" "$t0" "$t1" "${rss:-}" >>"$TIMES"
}
# The snippets: $1 = tracesift, $2 = the file, $3 = the eb address,
# ${@:4} = the RSS wrapper (empty without GNU time).
M='"${@:4}"'
declare -A SNIP=(
    [wc]='wc -l "$2"'
    [grep]='grep -c eb= "$2"'
    [report]="$M \"\$1\" report --json \"\$2\" >/dev/null"
    [stdin]="$M \"\$1\" report --json <\"\$2\" >/dev/null"
    [pipe]="cat \"\$2\" | $M \"\$1\" report --json >/dev/null"
    [nopacks]="$M \"\$1\" report --json --no-packs \"\$2\" >/dev/null"
    [events]="$M \"\$1\" events \"\$2\" >/dev/null"
    [stats]="$M \"\$1\" stats \"\$2\" >/dev/null"
    [timeline]="$M \"\$1\" timeline --eb \"\$3\" \"\$2\" >/dev/null"
    [j1]="$M \"\$1\" -j1 report --json \"\$2\" >/dev/null"
    [j2]="$M \"\$1\" -j2 report --json \"\$2\" >/dev/null"
)
ROWS=(wc grep report stdin pipe nopacks events stats timeline j1 j2)

# A snippet as the command line it runs (without the RSS wrapper).
display() { # snippet file
    local s=${1//'"${@:4}" '/}
    s=${s//'"$1"'/$TS}
    s=${s//'"$2"'/$2}
    show "${s//'"$3"'/$ADDR}"
}
say "commands timed (interleaved, $ROUNDS rounds; each tracesift run under GNU time for its peak RSS):"
for form in $FORMS; do
    for k in "${ROWS[@]}"; do display "${SNIP[$k]}" "${BASE[$form]}.txt"; done
done
for z in "${ZROWS[@]}"; do
    display "${z#*:} \"\$2\" | wc -l" "$ZBASE.txt.${z%%:*}"
    display "${SNIP[report]}" "$ZBASE.txt.${z%%:*}"
done
for b in "$SMALL_BASE" $HUGE_BASE; do
    display "${SNIP[wc]}" "$b.txt"
    display "${SNIP[report]}" "$b.txt"
done
for r in $(seq 1 "$ROUNDS"); do
    say "round $r/$ROUNDS"
    for form in $FORMS; do
        for k in "${ROWS[@]}"; do
            timed "$form/$k" "${BASE[$form]}.txt" "${SNIP[$k]}"
        done
    done
    for z in "${ZROWS[@]}"; do
        ext=${z%%:*} dcat=${z#*:}
        timed "z/$ext/cat" "$ZBASE.txt.$ext" "$dcat \"\$2\" | wc -l"
        timed "z/$ext/report" "$ZBASE.txt.$ext" "${SNIP[report]}"
    done
    for b in "$SMALL_BASE" $HUGE_BASE; do
        timed "lin/wc" "$b.txt" "${SNIP[wc]}"
        timed "lin/report" "$b.txt" "${SNIP[report]}"
    done
done

python3 - "$TIMES" "$FORMS" "${BASE[console]}.txt" "$ROUNDS" <<'EOF'
import json, os, statistics, sys
times, forms, big_console, rounds = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4]
runs, rss = {}, {}
for line in open(times):
    key, path, secs, kb = line.split()
    runs.setdefault((key, path), []).append(float(secs))
    if kb != "-":
        rss.setdefault((key, path), []).append(int(kb))
med = {k: statistics.median(v) for k, v in runs.items()}
peak = {k: max(v) for k, v in rss.items()}
MiB = 1 << 20

def mib(k):
    return f"{peak[k] / 1024:.0f} MiB" if k in peak else ""

def facts(path):
    meta = json.load(open(path[: -len(".txt")] + ".json")) if path.endswith(".txt") else None
    size = os.path.getsize(path)
    if not meta:
        return f"{path} ({size / MiB:.0f} MiB)"
    c = meta["counts"]
    return (f"{path} ({size / MiB:.0f} MiB, {c['lines'] / 1e6:.2f} M lines, {c['boots']} boots, "
            f"{100 * c['eb_lines'] / c['lines']:.1f} % eb=, {c['distinct_ebs']} distinct ebs, "
            f"{c['splats']} splats, {100 * c['noise_lines'] / c['lines']:.1f} % noise)")

LABEL = {"wc": "wc -l FILE", "grep": "grep -c eb= FILE", "report": "report --json FILE",
         "stdin": "report --json < FILE", "pipe": "cat FILE | report --json",
         "nopacks": "report --no-packs FILE",
         "events": "events FILE", "stats": "stats FILE", "timeline": "timeline --eb ADDR FILE",
         "j1": "-j1 report --json FILE", "j2": "-j2 report --json FILE"}
# Issue #18's targets (times as multiples of wc -l; RSS in MiB).
TARGET = {"report": (4, 64), "stdin": (4, 64), "pipe": (4, 64), "events": (8, 64),
          "stats": (3, 64), "timeline": (2, 64), "j1": (None, 64), "j2": (4, 64)}
miss = []

def verdict(form, name, ratio, k):
    t = TARGET.get(name)
    if not t:
        return ""
    ok = (t[0] is None or ratio <= t[0]) and (k not in peak or peak[k] / 1024 <= t[1])
    if not ok:
        miss.append(f"{form} {name}")
    want = (f"<= {t[0]}x, " if t[0] else "") + f"<= {t[1]} MiB"
    return f"{want:<19}{'ok' if ok else 'MISS'}"

header = f"{'command':<28}{'median s':>9}{'MB/s':>7}{'x base':>8}{'peak RSS':>10}   {'target (#18)':<24}rounds"
for form in forms:
    path = next((p for (k, p) in runs if k == f"{form}/wc"), None)
    if path is None:
        continue
    size = os.path.getsize(path)
    base = med[(f"{form}/wc", path)]
    print(f"\n{form} form: {facts(path)}")
    print(header)
    for name in LABEL:
        k = (f"{form}/{name}", path)
        if k not in med:
            continue
        ratio = med[k] / base
        print(f"{LABEL[name]:<28}{med[k]:>9.3f}{size / 1e6 / med[k]:>7.0f}{ratio:>8.2f}{mib(k):>10}   "
              f"{verdict(form, name, ratio, k):<24}" + " ".join(f"{t:.3f}" for t in runs[k]))
    j1, j2 = med.get((f"{form}/j1", path)), med.get((f"{form}/j2", path))
    if j1 and j2:
        sp = j1 / j2
        if sp < 1.8:
            miss.append(f"{form} -j2 speed-up")
        print(f"-j1/-j2 speed-up of report: {sp:.2f}x  (target >= 1.8x: {'ok' if sp >= 1.8 else 'MISS'})")
    np = med.get((f"{form}/nopacks", path))
    if np:
        pk = med[(f"{form}/report", path)] / np
        if pk > 1.10:
            miss.append(f"{form} packs cost")
        print(f"report with the built-in packs vs --no-packs: {pk:.3f}x  (#16 target: <= 1.10x: {'ok' if pk <= 1.10 else 'MISS'})")
    g = med.get((f"{form}/grep", path))
    if g:
        print(f"report vs grep -c eb=: {med[(f'{form}/report', path)] / g:.2f}x  (spec §6 target: <= 2x)")

zkeys = sorted({(k.split("/")[1], p) for (k, p) in runs if k.startswith("z/")})
if zkeys:
    print(f"\ncompressed console capture: {facts(zkeys[0][1].rsplit('.', 1)[0])}")
    print("(base: the decompressor piped to wc -l; MB/s of uncompressed bytes)")
    print(header)
    for ext, path in zkeys:
        c, r = (f"z/{ext}/cat", path), (f"z/{ext}/report", path)
        size = os.path.getsize(path.rsplit(".", 1)[0])
        ratio = med[r] / med[c]
        ok = ratio <= 1.3 and (r not in peak or peak[r] / 1024 <= 64)
        if not ok:
            miss.append(f".{ext} input")
        print(f"{'DECOMPRESS .' + ext + ' | wc -l':<28}{med[c]:>9.3f}{size / 1e6 / med[c]:>7.0f}{1:>8.2f}{'':>10}   {'':<24}"
              + " ".join(f"{t:.3f}" for t in runs[c]))
        print(f"{'report --json FILE.' + ext:<28}{med[r]:>9.3f}{size / 1e6 / med[r]:>7.0f}{ratio:>8.2f}{mib(r):>10}   "
              f"{'<= 1.3x, <= 64 MiB':<19}{'ok' if ok else 'MISS':<5}" + " ".join(f"{t:.3f}" for t in runs[r]))

# Linearity: report time and peak RSS per byte, each size against the big one.
pts = [(os.path.getsize(p), med[("lin/report", p)], med[("lin/wc", p)], peak.get(("lin/report", p)))
       for (k, p) in runs if k == "lin/report"]
bk = ("console/report", big_console)
if bk in med and pts:
    bsize, bt = os.path.getsize(big_console), med[bk]
    print(f"\nlinearity of report --json (console form; target: time per byte within 10 %, flat memory)")
    print(f"{'size':>10}{'report s':>10}{'x wc -l':>9}{'per byte vs big':>17}{'peak RSS':>10}")
    for size, t, w, kb in sorted(pts) + [(bsize, bt, med[("console/wc", big_console)], peak.get(bk))]:
        per = (t / size) / (bt / bsize)
        if abs(per - 1) > 0.10:
            miss.append(f"linearity at {size / MiB:.0f} MiB")
        print(f"{size / MiB:>6.0f} MiB{t:>10.3f}{t / w:>9.2f}{per:>17.2f}{(f'{kb / 1024:.0f} MiB' if kb else ''):>10}")
print(f"\n{rounds} rounds; targets missed: {', '.join(miss) if miss else 'none'}")
EOF

status=0
for form in $FORMS; do
    say ""
    show "$TS report --json ${BASE[$form]}.txt  (findings vs ${BASE[$form]}.json)"
    "$TS" report --json "${BASE[$form]}.txt" >"$REPORT" || (($? == 1))
    python3 - "$REPORT" "${BASE[$form]}.json" "$form" <<'EOF' || status=1
import collections, json, sys
report, truth, form = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
# Non-splat findings as a multiset of (rule, eb, severity, confidence);
# kernel-splat findings as their summed count per title (one finding per
# splat and one finding per title with a count compare equal).
def outcome(items):
    found, splats = collections.Counter(), collections.Counter()
    for f in items:
        if f["rule"] == "kernel-splat":
            splats[f["title"]] += f.get("count", 1)
        else:
            found[(f["rule"], f.get("eb"), f["severity"], f["confidence"])] += 1
    return found, splats
got, want = outcome(report["findings"]), outcome(truth["anomalies"])
diffs = []
for g, w in zip(got, want):
    for k in sorted(set(g) | set(w), key=str):
        if g[k] != w[k]:
            diffs.append((k, g[k], w[k]))
print(f"{form}: findings {len(report['findings'])} (splat blocks counted: {sum(got[1].values())}), "
      f"truth {len(truth['anomalies'])} (splat blocks: {sum(want[1].values())}) -> "
      + ("OK, equal" if not diffs else f"MISMATCH in {len(diffs)} keys"))
if diffs:
    # Per rule: how many findings of each confidence, found and in the truth.
    per = collections.defaultdict(lambda: (collections.Counter(), collections.Counter()))
    for k, g, w in diffs:
        if isinstance(k, tuple):
            per[k[0]][0][k[3]] += g
            per[k[0]][1][k[3]] += w
        else:
            per["kernel-splat"][0][k] += g
            per["kernel-splat"][1][k] += w
    for rule, (g, w) in sorted(per.items()):
        if rule == "kernel-splat":
            titles = sorted(set(g) | set(w))
            print(f"  kernel-splat blocks of {len(titles)} titles: found {sum(g.values())}, "
                  f"injected {sum(w.values())} (e.g. {titles[0]}: {g[titles[0]]} vs {w[titles[0]]})")
        else:
            print(f"  {rule}: found {dict(g)}, injected {dict(w)} (differing keys only)")
sys.exit(1 if diffs else 0)
EOF
done
if ((status)); then
    say "bench.sh: the findings differ from the generator's truth"
fi
exit $status
