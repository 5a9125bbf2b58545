#!/usr/bin/env bash
# `make install` into a scratch prefix, then build a C program the way a user
# would: cc prog.c $(pkg-config --cflags --libs weft). The library is installed as
# libweft.so.X.Y.Z with the libweft.so.X (SONAME) and libweft.so links, and the
# program records the SONAME. Prints "install: N passed, N failed".
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
v() { sed -n "s/^#define WEFT_VERSION_$1 //p" "$root/include/weft.h"; }
major=$(v MAJOR)
version=$major.$(v MINOR).$(v PATCH)
lib=$prefix/lib
step test -f "$lib/libweft.so.$version" -a ! -L "$lib/libweft.so.$version"
step test "$(readlink "$lib/libweft.so.$major")" = "libweft.so.$version"
step test "$(readlink "$lib/libweft.so")" = "libweft.so.$major"
step sh -c "readelf -d '$lib/libweft.so.$version' | grep -q 'Library soname: \[libweft.so.$major\]'"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
step pkg-config --exists weft
step sh -c "cc '$prefix/prog.c' -o '$prefix/prog' \$(pkg-config --cflags --libs weft)"
step sh -c "readelf -d '$prefix/prog' | grep -q 'Shared library: \[libweft.so.$major\]'"
step "$prefix/prog"
echo "install: $passed passed, $failed failed"
[ $failed -eq 0 ]
