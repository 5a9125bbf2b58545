#!/usr/bin/env bash
# `make install` into a scratch prefix, then build a C program the way a user
# would: cc prog.c $(pkg-config --cflags --libs weft). Prints "install: N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
passed=0 failed=0
step() {
  if "$@" >"$prefix/log" 2>&1; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: $*"; sed 's/^/    /' "$prefix/log" | tail -20; fi
}
step make -C "$root" --no-print-directory install PREFIX="$prefix"
cat >"$prefix/prog.c" <<'C'
#include <weft.h>
#include <stdio.h>
static void hello(void *arg) { *(int *)arg = 42; }
int main(void) {
  int answer = 0;
  if (weft_go(hello, &answer) != 0) return 1;
  while (answer != 42) weft_sleep_ns(100000);
  printf("weft %s says %d\n", weft_version_string(), answer);
  return weft_shutdown();
}
C
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
step pkg-config --exists weft
step sh -c "cc '$prefix/prog.c' -o '$prefix/prog' \$(pkg-config --cflags --libs weft)"
step "$prefix/prog"
echo "install: $passed passed, $failed failed"
[ $failed -eq 0 ]
