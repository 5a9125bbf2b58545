#!/usr/bin/env bash
# A host that crashes dies the way it would without Weft, promptly, and leaves
# nothing behind: Tests/abi/crash.c crashes in main (before and after the runtime
# started) and inside a task, and overflows a task's stack; each run is piped
# through `cat` in its own session and must end within 5 s, with the expected
# signal (SIGSEGV; SIGABRT and Weft's message for the overflow) and no process
# left in its session (Swift's swift-backtrace helper would be one, holding the
# pipe open). Each case runs with the default environment and with the helper
# findable (SWIFT_BACKTRACE=swift-backtrace=PATH, SWIFT_ROOT), where only the
# library's default keeps the backtracer off; a control run with
# SWIFT_BACKTRACE=enable=yes shows that the helper would run there.
# Usage: check_crash.sh LIBDIR. Prints "crash: N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
libdir=$(cd "${1:?usage: check_crash.sh LIBDIR}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

if ! ${CC:-cc} -std=c11 -O1 -I"$root/include" "$root/Tests/abi/crash.c" -o "$work/crash" \
  -L"$libdir" -lweft -Wl,-rpath,"$libdir" 2>"$work/build.log"; then
  sed 's/^/    /' "$work/build.log"; echo "crash: 0 passed, 1 failed"; exit 1
fi

# run NAME WHERE [ENV...]: one crash in its own session; sets status, ms, leftover.
run() {
  local name=$1 where=$2
  shift 2
  local start
  start=$(date +%s%N)
  timeout -k 1 10 setsid -w env "$@" bash -c 'echo $$ >"$0/$1.sid"
    "$0/crash" "$2" 2>"$0/$1.err" | cat >"$0/$1.out"; echo "${PIPESTATUS[0]}" >"$0/$1.status"' \
    "$work" "$name" "$where"
  ms=$((($(date +%s%N) - start) / 1000000))
  status=$(cat "$work/$name.status" 2>/dev/null || echo timeout)
  local sid
  sid=$(cat "$work/$name.sid")
  sleep 0.2 # a helper would be spawned by now; it lives for tens of seconds
  leftover=$(ps -eo pid=,sid=,args= | awk -v sid="$sid" '$2 == sid {$2 = ""; print}')
  # The processes are ours (our session): end them by pid.
  for pid in $(ps -eo pid=,sid= | awk -v sid="$sid" '$2 == sid {print $1}'); do kill -9 "$pid" 2>/dev/null; done
}

expect() { # name where want_status [env...]
  local name=$1 where=$2 want=$3
  shift 3
  run "$name" "$where" "$@"
  local why=""
  [ "$status" = "$want" ] || why="exit status $status, want $want;"
  [ "$ms" -lt 5000 ] || why="$why took ${ms} ms;"
  [ -z "$leftover" ] || why="$why left behind: $leftover;"
  grep -q "^crash: $where$" "$work/$name.out" || why="$why stdout lost;"
  if [ "$where" = overflow ]; then
    grep -q "weft: stack overflow in task .*'overflow'" "$work/$name.err" || why="$why no Weft overflow message;"
  fi
  if grep -q "Backtracing" "$work/$name.err"; then why="$why Swift's backtracer ran;"; fi
  if [ -z "$why" ]; then pass "$name: $where -> $status in ${ms} ms"; else
    fail "$name: $where: $why"; sed 's/^/    /' "$work/$name.err" | head -5; fi
}

helper=""
swift=$(command -v swift 2>/dev/null) && tree=$(dirname "$(dirname "$(readlink -f "$swift")")") &&
  helper=$(ls "$tree"/libexec/swift/*/swift-backtrace 2>/dev/null | head -1)
for where in main started task overflow; do
  want=139
  [ $where = overflow ] && want=134
  expect "default-$where" $where $want -u SWIFT_BACKTRACE -u SWIFT_ROOT
  if [ -n "$helper" ]; then
    expect "findable-$where" $where $want SWIFT_BACKTRACE="swift-backtrace=$helper" SWIFT_ROOT="$tree"
  fi
done
if [ -n "$helper" ]; then
  # Control: asked for explicitly, the runtime's backtracer runs in this very setup.
  run control main SWIFT_BACKTRACE="enable=yes,swift-backtrace=$helper"
  if grep -q "Backtracing" "$work/control.err"; then pass "control: SWIFT_BACKTRACE=enable=yes still runs Swift's backtracer"; else
    fail "control: SWIFT_BACKTRACE=enable=yes did not run Swift's backtracer (status $status)"; head -5 "$work/control.err"; fi
else
  echo "note: no swift-backtrace in a Swift toolchain here: only the default environment was tried"
fi
echo "crash: $passed passed, $failed failed"
[ $failed -eq 0 ]
