#!/usr/bin/env bash
# include/weft.h must compile cleanly as C99, C11 and C++ with every warning an
# error. Prints "header: N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include "weft.h"\nint main(void) { return weft_version() == WEFT_VERSION_HEX ? 0 : 1; }\n' >"$tmp/h.c"
cp "$tmp/h.c" "$tmp/h.cpp"
passed=0 failed=0
try() {
  if "$@" 2>"$tmp/err"; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: $*"; sed 's/^/    /' "$tmp/err" | head -20; fi
}
flags="-Wall -Wextra -Werror -pedantic -I$root/include -fsyntax-only"
try ${CC:-cc} -std=c99 $flags "$tmp/h.c"
try ${CC:-cc} -std=c11 $flags "$tmp/h.c"
try ${CXX:-c++} -std=c++11 $flags "$tmp/h.cpp"
try ${CXX:-c++} -std=c++17 $flags "$tmp/h.cpp"
# The conventions paragraph, mechanically (blocking forms, WEFT_NODISCARD,
# borrowed returns); then the check itself must catch each kind of drift.
try python3 "$root/Tests/abi/check_conventions.py" "$root/include/weft.h"
must_fail() { # what sed-expression
  local what=$1 expr=$2
  sed "$expr" "$root/include/weft.h" >"$tmp/mutant.h"
  if cmp -s "$tmp/mutant.h" "$root/include/weft.h"; then
    failed=$((failed + 1)); echo "FAIL: mutation '$what' changed nothing"; return
  fi
  if python3 "$root/Tests/abi/check_conventions.py" "$tmp/mutant.h" >"$tmp/out" 2>&1; then
    failed=$((failed + 1)); echo "FAIL: check_conventions.py accepts a header with $what"
  else passed=$((passed + 1)); fi
}
must_fail "a blocking call without its _ctx form" '/weft_wg_wait_ctx(/d'
must_fail "a blocking call without its _until form" '/weft_once_do_until(/d'
must_fail "an undocumented blocking call" 's/Takes the next connection. Blocks: yes./Takes the next connection./'
must_fail "a stale exception" 's/Blocks: only in write(2) on fd./Writes./'
must_fail "a result that may be ignored" 's/^WEFT_NODISCARD int weft_chan_recv(/int weft_chan_recv(/'
must_fail "a discardable call marked" 's/^int weft_chan_close(/WEFT_NODISCARD int weft_chan_close(/'
must_fail "an unmarked borrowed return" 's/^WEFT_NODISCARD WEFT_BORROWED weft_chan_t \*weft_ctx_done/WEFT_NODISCARD weft_chan_t *weft_ctx_done/'
must_fail "a borrowed return without its note" 's/ Borrowed: owned by ctx,/ Owned by ctx,/'
echo "header: $passed passed, $failed failed"
[ $failed -eq 0 ]
