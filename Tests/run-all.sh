#!/usr/bin/env bash
# Every test suite, one after another: the header and ABI checks, the Swift unit
# tests, the C ABI tests (and examples), the Python binding tests. Each suite
# prints its own "N passed, N failed"; the last line sums them.
set -uo pipefail
cd "$(dirname "$0")/.."
config=${1:-release}
lib=.build/$config/libweft.so
total_passed=0
total_failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

suite() { # name command...
  local name=$1
  shift
  echo "== $name"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line
  line=$(grep -Eo '[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  local p=0 f=0
  if [ -n "$line" ]; then
    p=$(echo "$line" | awk '{print $1}')
    f=$(echo "$line" | awk '{print $3}')
  fi
  # Swift's XCTest prints "Executed N tests, with M failures".
  if [ -z "$line" ] && grep -q "Executed [0-9]* tests" "$log"; then
    line=$(grep -Eo 'Executed [0-9]+ tests?, with [0-9]+ failures?' "$log" | tail -1)
    local n m
    n=$(echo "$line" | awk '{print $2}')
    m=$(echo "$line" | awk '{print $5}')
    p=$((n - m))
    f=$m
  fi
  # Swift Testing prints "Test run with N tests ... passed" or "... N issues".
  if [ -z "$line" ] && grep -qE "Test run with [0-9]+ tests?" "$log"; then
    p=$(grep -Eo 'Test run with [0-9]+ tests?' "$log" | tail -1 | awk '{print $4}')
  fi
  if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi
  if [ $rc -eq 0 ] && [ -z "$line" ] && [ "$p" = 0 ]; then p=1; fi  # a program that checks itself
  total_passed=$((total_passed + p))
  total_failed=$((total_failed + f))
}

suite header bash Tests/abi/check_header.sh
suite swift-docs python3 Tests/abi/check_swift_docs.py
suite abi python3 Tests/abi/check_abi.py include/weft.h .build/weft-emitted.h "$lib"
suite install bash Tests/abi/check_install.sh
suite readme bash Tests/abi/check_readme.sh ".build/$config"
suite standalone bash Tests/dist/check_standalone.sh
suite crash bash Tests/abi/check_crash.sh ".build/$config"
suite swift swift test
suite swift-example swift run weft-swift-example --test
suite swift-client bash Tests/swift-client/run.sh
suite capi bash Tests/capi/run.sh ".build/$config"
# The op-sequence fuzzer: the committed corpus, then a bounded search (45 s;
# WEFT_FUZZ_SECONDS changes it, 0 skips it) on the regular build, libFuzzer on
# the C side; make fuzz runs the long search on a checked, Swift-instrumented
# build. The search found a timer entry used after its free (issue 13).
suite fuzz bash Tests/fuzz/run.sh ".build/$config" "${WEFT_FUZZ_SECONDS:-45}"
if [ -f bindings/python/run-tests.sh ]; then
  suite python bash bindings/python/run-tests.sh "$(pwd)/$lib"
fi
suite wheel bash Tests/dist/check_wheel.sh
suite redis make -s test-redis
echo
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
