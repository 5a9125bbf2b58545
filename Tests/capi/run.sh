#!/usr/bin/env bash
# Builds every Tests/capi/test_*.c (and examples/c/*.c) against include/weft.h and
# the built libweft.so, runs each in its own process with a time limit, and prints
# "N passed, N failed". Usage: run.sh LIBDIR [filter]
# Env: CC (compiler and flags), WEFT_TEST_OUT (build folder), WEFT_TEST_SKIP
# (space-separated test names to leave out, e.g. under a sanitizer).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
libdir=$(cd "${1:?usage: run.sh LIBDIR [filter]}" && pwd)
filter=${2:-}
out=${WEFT_TEST_OUT:-$root/.build/capi}
mkdir -p "$out"
cc=${CC:-cc}
# -fstack-clash-protection: what the README asks of code that runs on task
# stacks (a large frame is probed page by page, so it cannot jump the guard).
# -DWEFT_NODISCARD=: the older tests and examples still drop results the 0.2
# header marks warn_unused_result (test_header_forms and the README example check them).
cflags="-std=c11 -O2 -g -Wall -Wextra -Werror -DWEFT_NODISCARD= -fstack-clash-protection -pthread -I$root/include -I$here"
passed=0
failed=0
failures=()

run_one() { # name source timeout [args...]
  local name=$1 src=$2 limit=$3
  shift 3
  # A test may add flags in a "/* weft-test-cflags: ... */" line.
  local extra
  extra=$(sed -n 's|^/\* weft-test-cflags: \(.*\) \*/$|\1|p' "$src" | head -1)
  if ! $cc $cflags $extra "$src" -o "$out/$name" -L"$libdir" -lweft -Wl,-rpath,"$libdir" -lm \
    2>"$out/$name.build.log"; then
    echo "FAIL $name (build)"
    sed 's/^/    /' "$out/$name.build.log" | head -20
    failed=$((failed + 1)); failures+=("$name")
    return
  fi
  local start=$(date +%s%N)
  timeout -k 5 "$limit" "$out/$name" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  local ms=$(( ($(date +%s%N) - start) / 1000000 ))
  if [ $rc -eq 0 ]; then
    echo "ok   $name (${ms} ms)"
    passed=$((passed + 1))
  else
    [ $rc -eq 124 ] && why="timed out after $limit" || why="exit $rc"
    echo "FAIL $name ($why, ${ms} ms)"
    tail -20 "$out/$name.log" | sed 's/^/    /'
    failed=$((failed + 1)); failures+=("$name")
  fi
}

skip=" ${WEFT_TEST_SKIP:-} "
# Known defects, left out with their reason (run them by name: run.sh LIBDIR NAME):
# test_task_enomem (issue 9, item 4, open; diagnosed 2026-12-02): with 16
# workers the process is at ~1006 MiB of VmSize right after weft_init (worker
# pthread stacks at 8 MiB each plus glibc's per-thread 64 MiB malloc arenas), so
# under RLIMIT_AS = 1 GiB StackPool.addressSpaceLeft refuses nearly every stack
# mapping. Three failure modes, 1 run in 3-4: (a) hang: accepted tasks sit in the
# starved list "runnable (not started)" forever (1153 live, 0 finished, 0 timers
# at 8 s), because spawn accepts a task before it has a stack and nothing ever
# frees one; (b) the second round gets WEFT_ENOMEM although every task finished;
# (c) a Swift allocation aborts once the arenas eat the reserve.
# test_io_readiness (issue 10, open): about 1 clean-clone run in 3, an fd
# registration stays on a loop (io_polls_active != 0 ten seconds after every
# waiter left: a leak, not lateness); not yet traced to its scenario.
known=" test_task_enomem test_io_readiness "
for src in "$here"/test_*.c; do
  name=$(basename "$src" .c)
  [[ -n "$filter" && "$name" != *$filter* ]] && continue
  [[ "$skip" == *" $name "* ]] && continue
  if [[ -z "$filter" && "$known" == *" $name "* ]]; then
    echo "SKIP $name (known defect, see the comment in run.sh)"
    continue
  fi
  run_one "$name" "$src" 120s
done
for src in "$root"/examples/c/*.c; do
  [ -e "$src" ] || continue
  name=example_$(basename "$src" .c)
  # The Redis examples need libweft_redis and a server: the redis suite runs them.
  [[ "$name" == example_redis_* ]] && continue
  [[ -n "$filter" && "$name" != *$filter* ]] && continue
  # Examples take a "--test" flag: a short run that checks its own result.
  run_one "$name" "$src" 120s --test
done
[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]}"
echo "capi: $passed passed, $failed failed"
[ $failed -eq 0 ]
