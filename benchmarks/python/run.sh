#!/usr/bin/env bash
# The Python binding beside the standard library and trio, in one run (medians
# of RUNS, round-robin, ratios): writes benchmarks/python/RESULTS.md.
#   bash benchmarks/python/run.sh            # RUNS=5
#   RUNS=1 QUICK=1 bash benchmarks/python/run.sh aio_pingpong spsc
# Uses the test venv (.build/python-venv, with trio) when present.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LIB=${LIB:-$ROOT/.build/release}
RUNS=${RUNS:-5}
PY=${PYTHON:-python3}
[ -x "$ROOT/.build/python-venv/bin/python" ] && PY=$ROOT/.build/python-venv/bin/python
RESULTS=${PY_RESULTS-$HERE/RESULTS.md}
table=$(mktemp)
export WEFT_LIB=$LIB/libweft.so PYTHONPATH=$ROOT/bindings/python/src${PYTHONPATH:+:$PYTHONPATH}
START=$(date -u +%FT%TZ)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
"$PY" "$HERE/bench.py" --runs "$RUNS" ${QUICK:+--quick} --out "$table" "$@" || exit 1
if [ -n "$RESULTS" ]; then
  {
    echo "# Python binding vs the standard library and trio"
    echo
    echo "Medians of $RUNS runs, each side round-robin in one process; weft / peer < 1.0: weft is faster."
    echo "date=$START .. $(date -u +%FT%TZ)  nproc=$(nproc)  python=$("$PY" -V 2>&1 | cut -d' ' -f2)" \
      " weft=$(git -C "$ROOT" rev-parse --abbrev-ref HEAD 2>/dev/null)@$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)" \
      " load=$LOAD_START .. $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    cat "$table"
  } >"$RESULTS"
  echo "wrote $RESULTS" >&2
fi
rm -f "$table"
