#!/usr/bin/env bash
# Weft vs the Go peers, in one run, as ratios (see benchmarks/README.md).
#
#   bash benchmarks/run.sh                     # everything, RUNS=5
#   RUNS=1 bash benchmarks/run.sh pingpong spawn   # a quick pass over some workloads
#   make bench                                 # builds libweft.so first, then this
#
# Builds the Go peers of $PEERS/go (normative programs) into $OUT/bin, the C ports
# of benchmarks/c against include/weft.h and $LIB/libweft.so, then runs every
# configuration RUNS times, round-robin (Go GOMAXPROCS=1,2; Weft WEFT_WORKERS=1,2),
# appends every result line (or failure) to $OUT/raw.jsonl, prints one markdown
# table (benchmarks/summarize.py) and writes it to $RESULTS.
#
# Env: RUNS (5), OUT (/tmp/weft-bench), PEERS (../shared/peers or /work/shared/peers),
#      LIB (<repo>/.build/release), RESULTS (benchmarks/RESULTS.md; "" = don't write),
#      TIMEOUT (300 s per run), GO (go), CC (cc), PYTHON (python3),
#      IMPLS ("go weft": which sides to run), NOTE (a line for the report, e.g. which
#      library build was measured).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
RUNS=${RUNS:-5}
OUT=${OUT:-/tmp/weft-bench}
# The peers live in shared/ beside the checkout (as on CI), else at /work/shared.
if [ -z "${PEERS:-}" ]; then
  PEERS=/work/shared/peers
  [ -d "$ROOT/../shared/peers" ] && PEERS=$(cd "$ROOT/../shared/peers" && pwd)
fi
LIB=${LIB:-$ROOT/.build/release}
RESULTS=${RESULTS-$HERE/RESULTS.md}
TIMEOUT=${TIMEOUT:-300}
GO=${GO:-go}
CC=${CC:-cc}
PY=${PYTHON:-python3}
IMPLS=${IMPLS:-"go weft"}
ONLY=" $* "
# The Python binding vs the stdlib and trio (benchmarks/python): `run.sh python`
# runs only those; a full run ends with them.
if [[ "$ONLY" == " python " ]]; then exec env RUNS="$RUNS" LIB="$LIB" bash "$HERE/python/run.sh"; fi
# Only socket workloads asked for: their own script, their own table.
if [[ -n "$*" && -z "$(tr ' ' '\n' <<<"$*" | grep -vxE 'echo|connect|')" ]]; then
  RUNS=$RUNS OUT=$OUT LIB=$LIB RESULTS=$RESULTS GO=$GO CC=$CC PYTHON=$PY TIMEOUT=$TIMEOUT exec bash "$HERE/net.sh"
fi
BIN=$OUT/bin
RAW=$OUT/raw.jsonl
mkdir -p "$BIN" "$OUT/log"
: >"$RAW"

log() { echo "$*" >&2; }
want() { [[ "$ONLY" == "  " || "$ONLY" == *" $1 "* ]]; }
# A failure line for the summarizer: key impl config reason
record_error() {
  "$PY" -c 'import json,sys; print(json.dumps({"key": sys.argv[1], "impl": sys.argv[2], "config": sys.argv[3], "error": sys.argv[4]}))' \
    "$1" "$2" "$3" "$4" >>"$RAW"
}

# ------------------------------------------------------------------- rows
# key|workload|arguments (the same for Go and the C port; Go's flag syntax)
ROWS=(
  "spawn n=100,000|spawn|-n 100000"
  "spawn n=1,000,000|spawn|-n 1000000"
  "pingpong|pingpong|-n 1000000"
  "buffered_spsc|buffered_spsc|-n 10000000 -cap 1024"
  "buffered_mpmc|buffered_mpmc|-n 10000000 -producers 4 -consumers 4 -cap 1024"
  "select4|select4|-n 4000000"
  "ctx_fanout|ctx_fanout|-n 100000"
  "timeouts|timeouts|-n 100000 -timeout 50ms"
  "mutex|mutex|-tasks 4 -per-task 1000000"
  "blocked_memory|blocked_memory|-n 100000"
  "pipeline|pipeline|-n 1000000"
  "workerpool|workerpool|-n 1000000 -workers 8 -cap 1024 -rounds 22"
)
# Weft-only micro-benchmarks: key|program|arguments|worker counts
MICROS=(
  "ctxswitch|ctxswitch|-n 5000000|1"
  "parked_memory|parked_memory|-n 100000|1 2"
)

WORKLOADS=()
for r in "${ROWS[@]}"; do
  IFS='|' read -r key wl args <<<"$r"
  want "$wl" && [[ " ${WORKLOADS[*]-} " != *" $wl "* ]] && WORKLOADS+=("$wl")
done

# ------------------------------------------------------------- Go peers
declare -A GO_OK=() GO_WHY=()
if [[ " $IMPLS " == *" go "* ]]; then
  if ! command -v "$GO" >/dev/null 2>&1; then
    log "go not found: installing golang-go with apt-get"
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go; } >"$OUT/log/apt.txt" 2>&1 ||
      log "apt-get install golang-go failed (see $OUT/log/apt.txt)"
  fi
  for wl in "${WORKLOADS[@]}"; do
    if ! command -v "$GO" >/dev/null 2>&1; then
      GO_WHY[$wl]="go is not installed"
    elif (cd "$PEERS/go" && GOFLAGS=-mod=mod GOTOOLCHAIN=local "$GO" build -o "$BIN/go-$wl" "./$wl") \
      >"$OUT/log/build-go-$wl.txt" 2>&1; then
      GO_OK[$wl]=1
    else
      GO_WHY[$wl]="go build failed: $(tail -n 1 "$OUT/log/build-go-$wl.txt")"
    fi
  done
fi

# ------------------------------------------------------------ Weft ports
# A port that does not link names the missing symbols as families (weft_chan_*).
declare -A WEFT_OK=() WEFT_WHY=()
cc_port() { # src out [cflags...]
  local src=$1 out=$2
  shift 2
  "$CC" -std=c11 -O2 -Wall -Wextra -pthread "$@" -I"$ROOT/include" "$src" -o "$out" \
    -L"$LIB" -lweft -Wl,-rpath,"$LIB" -lm
}
why_build() { # log file -> short reason, undefined symbols grouped by family
  local und
  und=$(grep -o "undefined reference to \`weft_[a-z0-9_]*'" "$1" | sed "s/.*\`\(weft_[a-z0-9_]*\)'/\1/" |
    sed 's/^\(weft_[a-z0-9]*\)_.*/\1_*/' | sort -u | tr '\n' ' ' | sed 's/ $//; s/ /, /g')
  if [[ -n "$und" ]]; then echo "not in libweft.so yet: $und"; else echo "build failed: $(grep -m1 -i error "$1" | cut -c1-120)"; fi
}
build_weft() { # name
  local name=$1 src="$HERE/c/$1.c" logf="$OUT/log/build-weft-$1.txt"
  if [[ ! -f "$LIB/libweft.so" ]]; then
    WEFT_WHY[$name]="$LIB/libweft.so missing (make lib)"
  elif cc_port "$src" "$BIN/weft-$name" >"$logf" 2>&1; then
    WEFT_OK[$name]=1
  elif [[ $name == spawn ]] && cc_port "$src" "$BIN/weft-$name" -DSPAWN_COUNTER >>"$logf" 2>&1; then
    WEFT_OK[$name]=1 # stand-in: atomic counter instead of weft_wg_* (marked in the table)
  else
    WEFT_WHY[$name]=$(why_build "$logf")
  fi
}
if [[ " $IMPLS " == *" weft "* ]]; then
  for wl in "${WORKLOADS[@]}"; do build_weft "$wl"; done
  for m in "${MICROS[@]}"; do
    IFS='|' read -r key prog args ws <<<"$m"
    want "$key" && build_weft "$prog"
  done
fi

# --------------------------------------------------------------- configs
# key|config|impl|command   (config is the column: go1 go2 weft1 weft2)
CONFIGS=()
for r in "${ROWS[@]}"; do
  IFS='|' read -r key wl args <<<"$r"
  want "$wl" || continue
  for p in 1 2; do
    if [[ " $IMPLS " == *" go "* ]]; then
      if [[ -n "${GO_OK[$wl]-}" ]]; then
        CONFIGS+=("$key|go$p|go|env GOMAXPROCS=$p $BIN/go-$wl $args")
      else record_error "$key" go "go$p" "${GO_WHY[$wl]}"; fi
    fi
    if [[ " $IMPLS " == *" weft "* ]]; then
      if [[ -n "${WEFT_OK[$wl]-}" ]]; then
        CONFIGS+=("$key|weft$p|weft|env WEFT_WORKERS=$p $BIN/weft-$wl $args")
      else record_error "$key" weft "weft$p" "${WEFT_WHY[$wl]}"; fi
    fi
  done
done
if [[ " $IMPLS " == *" weft "* ]]; then
  for m in "${MICROS[@]}"; do
    IFS='|' read -r key prog args ws <<<"$m"
    want "$key" || continue
    for w in $ws; do
      if [[ -n "${WEFT_OK[$prog]-}" ]]; then
        CONFIGS+=("$key|weft$w|weft|env WEFT_WORKERS=$w $BIN/weft-$prog $args")
      else record_error "$key" weft "weft$w" "${WEFT_WHY[$prog]}"; fi
    done
  done
fi

# ------------------------------------------------------------------- run
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
GOV=$("$GO" version 2>/dev/null || echo "go: not installed")
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
BRANCH=$(git -C "$ROOT" rev-parse --abbrev-ref HEAD 2>/dev/null || echo "?")
START=$(date -u +%FT%TZ)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "# $START  nproc=$(nproc)  cpu='$CPU'  load=$LOAD_START"
log "# $GOV  weft $BRANCH@$COMMIT  runs=$RUNS  configs=${#CONFIGS[@]}  raw=$RAW"

fails=0
for ((run = 1; run <= RUNS; run++)); do
  for c in "${CONFIGS[@]}"; do
    IFS='|' read -r key cfg impl cmd <<<"$c"
    load=$(cut -d' ' -f1 /proc/loadavg)
    errf="$OUT/log/stderr.txt"
    line=$(timeout -k 5 "$TIMEOUT" $cmd 2>"$errf")
    rc=$?
    line=$(grep -m1 '^{' <<<"$line")
    if [[ $rc -eq 0 && -n "$line" ]]; then
      printf '{"key": "%s", "config": "%s", "impl": "%s", "run": %d, "load1": %s, "result": %s}\n' \
        "$key" "$cfg" "$impl" "$run" "$load" "$line" >>"$RAW"
      log "run $run/$RUNS  $key  $cfg  load=$load  $(grep -o '"ns_per_op": [0-9.]*' <<<"$line")"
    else
      fails=$((fails + 1))
      if [[ $rc -eq 124 || $rc -eq 137 ]]; then
        why="timed out after ${TIMEOUT}s"
      else
        why="exit $rc: $(grep -v '^$' "$errf" | tail -n 1 | cut -c1-160)"
      fi
      record_error "$key" "$impl" "$cfg" "$why"
      log "run $run/$RUNS  $key  $cfg  load=$load  FAILED: $why"
    fi
  done
done
END=$(date -u +%FT%TZ)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

"$PY" "$HERE/summarize.py" "$RAW" \
  --meta "date=$START .. $END" --meta "nproc=$(nproc)" --meta "cpu=$CPU" \
  --meta "kernel=$(uname -sr)" --meta "go=$GOV" --meta "weft=$BRANCH@$COMMIT ($LIB/libweft.so)" \
  --meta "runs=$RUNS" --meta "load_start=$LOAD_START" --meta "load_end=$LOAD_END" \
  --meta "filter=${*:-all}" ${NOTE:+--meta "note=$NOTE"} --out "$RESULTS"
log "$fails run(s) failed; raw lines in $RAW"
if want python; then
  RUNS="$RUNS" LIB="$LIB" bash "$HERE/python/run.sh" || log "python benchmarks failed"
fi
# The socket benchmarks (echo, connect) have their own table; `run.sh echo`
# or `run.sh connect` runs only them.
if [[ "$ONLY" == "  " || "$ONLY" == *" echo "* || "$ONLY" == *" connect "* ]]; then
  RUNS=$RUNS OUT=$OUT LIB=$LIB RESULTS=$RESULTS GO=$GO CC=$CC PYTHON=$PY TIMEOUT=$TIMEOUT bash "$HERE/net.sh"
fi
exit 0
