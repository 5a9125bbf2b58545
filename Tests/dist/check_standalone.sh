#!/usr/bin/env bash
# The installed library on a machine without Swift: `make install` into a scratch
# prefix, then, with the toolchain hidden (hide_toolchain.sh), build the demo the
# way a C user would (cc + pkg-config), check that nothing it loads is missing or
# comes from a Swift toolchain, run it, load the library from Python's ctypes, and
# let the binding (copied away from the checkout) find it the system's way.
# Prints "standalone: N passed, N failed" (or a SKIP line and 0 passed, 0 failed).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! make -C "$root" --no-print-directory install PREFIX="$work/prefix" >"$work/install.log" 2>&1; then
  sed 's/^/    /' "$work/install.log" | tail -20
  echo "standalone: 0 passed, 1 failed"
  exit 1
fi
cp "$root/examples/c/demo.c" "$work/"
cp -r "$root/bindings/python/src/weft" "$work/" # the binding, away from any checkout
cat >"$work/inside.sh" <<'INSIDE'
set -uo pipefail
cd "$1"
passed=0 failed=0
step() { # what command...
  local what=$1; shift
  if "$@" >step.log 2>&1; then passed=$((passed + 1)); echo "ok   $what"; else
    failed=$((failed + 1)); echo "FAIL $what"; sed 's/^/    /' step.log | tail -20; fi
}
export PKG_CONFIG_PATH=$PWD/prefix/lib/pkgconfig
step "no swift on this machine" sh -c '! command -v swift'
step "cc demo.c \$(pkg-config --cflags --libs weft)" \
  sh -c 'cc -std=c11 -O2 demo.c -o demo $(pkg-config --cflags --libs weft) -lm'
step "ldd: every library found, none from a Swift toolchain" \
  sh -c 'ldd demo | tee ldd.txt; ! grep -Eqi "not found|swift" ldd.txt && grep -q "libweft.so.0 => $PWD/prefix/lib/libweft.so.0" ldd.txt'
step "the demo runs (--test)" timeout 120 ./demo --test
step "python3 ctypes loads libweft.so.0" python3 -c '
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.weft_version_string.restype = ctypes.c_char_p
print(lib.weft_version_string().decode())' "$PWD/prefix/lib/libweft.so.0"
step "import weft finds the installed library (find_library)" env -u WEFT_LIB \
  LD_LIBRARY_PATH="$PWD/prefix/lib" PYTHONPATH="$PWD" python3 -c '
import os, sys, weft
maps = [l.split()[-1] for l in open("/proc/self/maps") if "libweft" in l]
print(weft.LIB_PATH, set(maps))
assert weft.LIB_PATH == "libweft.so.0", weft.LIB_PATH
assert set(maps) == {os.path.realpath(sys.argv[1])}, maps
assert weft.go(lambda: 42).result(timeout=10) == 42' "$PWD/prefix/lib/libweft.so.0"
echo "standalone: $passed passed, $failed failed"
[ $failed -eq 0 ]
INSIDE
bash "$root/Tests/dist/hide_toolchain.sh" bash "$work/inside.sh" "$work"
rc=$?
if [ $rc -eq 77 ]; then echo "standalone: 0 passed, 0 failed"; exit 0; fi
exit $rc
