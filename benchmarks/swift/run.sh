#!/usr/bin/env bash
# Weft's Swift face beside Swift Concurrency, and Chan<Int> beside the byte
# channel (the C ports of benchmarks/c through libweft.so), in one run:
# RUNS rounds (default 5), round-robin, medians (see README.md).
#
#   bash benchmarks/swift/run.sh             (make bench runs it after the Go table)
#
# Env: RUNS (5), LIB (<repo>/.build/release, holding libweft.so), OUT
#      (/tmp/weft-bench-swift), RESULTS (benchmarks/swift/RESULTS.md; "" = don't write),
#      CC (cc).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
RUNS=${RUNS:-5}
LIB=${LIB:-$ROOT/.build/release}
OUT=${OUT:-/tmp/weft-bench-swift}
RESULTS=${RESULTS-$HERE/RESULTS.md}
CC=${CC:-cc}
mkdir -p "$OUT"
RAW=$OUT/raw.jsonl
: >"$RAW"

echo "building the Swift benchmark (release) and the byte-channel ports" >&2
swift build -c release --package-path "$HERE/WeftSwiftBench" >"$OUT/build.log" 2>&1 || {
  tail -30 "$OUT/build.log"
  exit 1
}
BENCH=$(swift build -c release --package-path "$HERE/WeftSwiftBench" --show-bin-path)/weft-swift-bench
for name in pingpong buffered_spsc; do
  "$CC" -std=c11 -O2 -pthread -I"$ROOT/include" "$ROOT/benchmarks/c/$name.c" -o "$OUT/$name" \
    -L"$LIB" -lweft -Wl,-rpath,"$LIB" -lm || exit 1
done

for round in $(seq 1 "$RUNS"); do
  echo "round $round/$RUNS" >&2
  RUNS=1 "$BENCH" >>"$RAW" || echo "weft-swift-bench failed in round $round" >&2
  "$OUT/pingpong" -n 200000 | sed 's/^{/{"key": "pingpong", "impl": "byte channel (C)", /' >>"$RAW"
  "$OUT/buffered_spsc" -n 1000000 -cap 1024 |
    sed 's/^{/{"key": "buffered 1e6", "impl": "byte channel (C)", /' >>"$RAW"
done

python3 - "$RAW" "$RUNS" "${RESULTS:-}" <<'PY'
import json, statistics, sys, time
raw, runs, results = sys.argv[1], sys.argv[2], sys.argv[3]
samples = {}
order = []
for line in open(raw):
    line = line.strip()
    if not line.startswith("{"):
        continue
    row = json.loads(line)
    # The C ports print their own "impl": "weft" after ours; keep ours (the first).
    pairs = json.loads(line, object_pairs_hook=lambda kv: kv)
    impl = next(v for k, v in pairs if k == "impl")
    key = (row["key"], impl)
    if key not in samples:
        samples[key] = []
        order.append(key)
    samples[key].append(float(row["ns_per_op"]))
# The baseline of each workload: the first Weft row.
base = {}
for key in order:
    base.setdefault(key[0], key)
lines = [
    "# Swift face benchmarks",
    "",
    f"One run, {runs} rounds round-robin, median ns per operation (round trip for",
    "ping-pong, spawned task for spawn, value for buffered); ratio = this row / the",
    "first row of its workload (lower is faster). `byte channel (C)` is the same core",
    "through the C ABI (benchmarks/c). " + time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()) + ".",
    "",
    "| workload | implementation | median ns/op | ratio |",
    "|---|---|---:|---:|",
]
for key in order:
    med = statistics.median(samples[key])
    ref = statistics.median(samples[base[key[0]]])
    lines.append(f"| {key[0]} | {key[1]} | {med:,.0f} | {med / ref:.2f}x |")
table = "\n".join(lines) + "\n"
print(table)
if results:
    open(results, "w").write(table)
PY
