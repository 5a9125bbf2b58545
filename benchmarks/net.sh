#!/usr/bin/env bash
# Weft's socket benchmarks (c/echo.c, c/connect.c) beside their Go peers
# (go/echo, go/connect: package net, same protocol, same timed region), in one
# interleaved run at the default worker count / GOMAXPROCS. Prints a markdown
# table and puts it in $RESULTS between the net markers (replacing an older
# one). benchmarks/run.sh calls this last; alone:
#   RUNS=3 bash benchmarks/net.sh            # LIB, OUT, RESULTS, GO, CC as in run.sh
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
RUNS=${RUNS:-3}
OUT=${OUT:-/tmp/weft-bench}/net
LIB=${LIB:-$ROOT/.build/release}
RESULTS=${RESULTS-$HERE/RESULTS.md}
GO=${GO:-go}
CC=${CC:-cc}
PY=${PYTHON:-python3}
TIMEOUT=${TIMEOUT:-300}
mkdir -p "$OUT/bin" "$OUT/log"
RAW=$OUT/raw.jsonl
: >"$RAW"

ROWS=(
  "echo C=100|echo|-c 100 -r 2000"
  "echo C=10,000|echo|-c 10000 -r 20"
  "connect n=10,000|connect|-n 10000 -c 16"
)

if ! command -v "$GO" >/dev/null 2>&1; then
  echo "go not found: installing golang-go with apt-get" >&2
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go; } \
    >"$OUT/log/apt.txt" 2>&1 || echo "apt-get install golang-go failed (see $OUT/log/apt.txt)" >&2
fi
declare -A OK=()
for prog in echo connect; do
  if command -v "$GO" >/dev/null 2>&1 &&
    (cd "$HERE/go" && GOFLAGS=-mod=mod GOTOOLCHAIN=local "$GO" build -o "$OUT/bin/go-$prog" "./$prog") \
      >"$OUT/log/build-go-$prog.txt" 2>&1; then
    OK[go-$prog]=1
  else
    echo "go $prog: build failed (see $OUT/log/build-go-$prog.txt)" >&2
  fi
  if "$CC" -std=c11 -O2 -Wall -Wextra -pthread -I"$ROOT/include" "$HERE/c/$prog.c" -o "$OUT/bin/weft-$prog" \
    -L"$LIB" -lweft -Wl,-rpath,"$LIB" -lm >"$OUT/log/build-weft-$prog.txt" 2>&1; then
    OK[weft-$prog]=1
  else
    echo "weft $prog: build failed (see $OUT/log/build-weft-$prog.txt)" >&2
  fi
done

START=$(date -u +%FT%TZ)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for ((run = 1; run <= RUNS; run++)); do
  for r in "${ROWS[@]}"; do
    IFS='|' read -r key prog args <<<"$r"
    for impl in go weft; do
      [[ -n "${OK[$impl-$prog]-}" ]] || continue
      line=$(timeout -k 5 "$TIMEOUT" "$OUT/bin/$impl-$prog" $args 2>"$OUT/log/stderr.txt" | grep -m1 '^{')
      if [[ -n "$line" ]]; then
        printf '{"key": "%s", "impl": "%s", "run": %d, "result": %s}\n' "$key" "$impl" "$run" "$line" >>"$RAW"
        echo "run $run/$RUNS  $key  $impl  $(grep -o '"ns_per_op": [0-9.]*' <<<"$line")" >&2
      else
        echo "run $run/$RUNS  $key  $impl  FAILED: $(tail -n 1 "$OUT/log/stderr.txt")" >&2
      fi
    done
  done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

"$PY" - "$RAW" "$RESULTS" "$START" "$RUNS" "$LOAD_START" "$LOAD_END" "$("$GO" version 2>/dev/null)" \
  "$(git -C "$ROOT" rev-parse --abbrev-ref HEAD 2>/dev/null)@$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)" <<'PYEOF'
import json, os, statistics, sys
raw, results, start, runs, load0, load1, gov, weft = sys.argv[1:9]
cells = {}
for line in open(raw):
    d = json.loads(line)
    cells.setdefault((d["key"], d["impl"]), []).append(d["result"])
def med(key, impl, field):
    v = [r[field] for r in cells.get((key, impl), []) if isinstance(r.get(field), (int, float))]
    return statistics.median(v) if v else None
def f(x, unit=""):
    return "n/a" if x is None else (f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}") + unit
def ratio(w, g, target):
    if w is None or g is None or g == 0:
        return "n/a"
    r = w / g
    return f"{r:.2f} ({'**met**' if r <= target else 'missed'})"
keys = []
for line in open(raw):
    k = json.loads(line)["key"]
    if k not in keys:
        keys.append(k)
out = ["<!-- net:begin -->", "## Sockets: Weft vs Go's package net", "",
       f"`benchmarks/net.sh` ({start}; {runs} interleaved runs, medians; load {load0} .. {load1}; "
       f"{gov}; weft {weft}). Default worker count vs default GOMAXPROCS; client and server in "
       "one process on loopback; 64-byte messages. Targets: ns per round trip ≤ 0.8× Go, "
       "p99 ≤ Go, RSS per open connection ≤ Go.", "",
       "| workload | Go ns/op | Weft ns/op | Weft/Go (≤ 0.8) | Go p99 µs | Weft p99 µs | Weft/Go p99 (≤ 1) "
       "| Go RSS/conn B | Weft RSS/conn B | Weft/Go RSS (≤ 1) |",
       "|---|---|---|---|---|---|---|---|---|---|"]
for k in keys:
    g, w = med(k, "go", "ns_per_op"), med(k, "weft", "ns_per_op")
    gp, wp = med(k, "go", "p99_us"), med(k, "weft", "p99_us")
    gr, wr = med(k, "go", "rss_per_conn_b"), med(k, "weft", "rss_per_conn_b")
    out.append(f"| {k} | {f(g)} | {f(w)} | {ratio(w, g, 0.8)} | {f(gp)} | {f(wp)} | "
               f"{ratio(wp, gp, 1.0) if gp else '–'} | {f(gr)} | {f(wr)} | {ratio(wr, gr, 1.0) if gr else '–'} |")
out += ["", "ns/op: echo = per round trip (all C connections at once), connect = per "
        "connect + accept + close (16 clients at a time).", "<!-- net:end -->"]
table = "\n".join(out) + "\n"
print(table)
if results:
    old = open(results).read() if os.path.exists(results) else ""
    if "<!-- net:begin -->" in old and "<!-- net:end -->" in old:
        a = old.index("<!-- net:begin -->")
        b = old.index("<!-- net:end -->") + len("<!-- net:end -->\n")
        old = old[:a] + old[b:]
    open(results, "w").write(old.rstrip("\n") + "\n\n" + table)
PYEOF
