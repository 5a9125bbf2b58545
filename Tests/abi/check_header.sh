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
echo "header: $passed passed, $failed failed"
[ $failed -eq 0 ]
