#!/usr/bin/env bash
# The Python wheel: `make wheel` (reusing the built library), its contents (the
# package, py.typed, libweft.so with only weft_* exported, the bundled libuv,
# full RELRO kept, no Swift runtime needed), then installed into a fresh venv
# and used (use_weft.py) with no WEFT_LIB and the Swift toolchain hidden. Also
# `pip install bindings/python` (and -e) from the built checkout: the built
# library is found. Offline: --no-index everywhere.
# Prints "wheel: N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset WEFT_LIB
passed=0 failed=0
step() { # what command...
  local what=$1; shift
  if "$@" >"$work/step.log" 2>&1; then passed=$((passed + 1)); echo "ok   $what"; else
    failed=$((failed + 1)); echo "FAIL $what"; sed 's/^/    /' "$work/step.log" | tail -20; fi
  grep -E '^(FAIL|ok|     mapped|NEEDED)' "$work/step.log" | sed 's/^/    /'
}
# A fresh venv without pip of its own: a pip that knows --python (the Python tests'
# venv's, else the system's) installs into it; else a venv with its own pip.
provider=""
for py in "${WEFT_PY_VENV:-$root/.build/python-venv}/bin/python" python3; do
  if "$py" -m pip --python "$py" --version >/dev/null 2>&1; then provider=$py; break; fi
done
if [ -n "$provider" ]; then
  venv() { python3 -m venv --without-pip "$1"; }
  pip() { local py=$1; shift; "$provider" -m pip --python "$py" "$@"; }
else
  venv() { python3 -m venv "$1" 2>/dev/null || python3 -m virtualenv -q "$1"; }
  pip() { local py=$1; shift; "$py" -m pip "$@"; }
fi
finish() { echo "wheel: $passed passed, $failed failed"; [ $failed -eq 0 ]; exit; }

step "make wheel" make -C "$root" --no-print-directory wheel
whl=$(ls "$root"/dist/weft-*-py3-none-linux_*.whl 2>/dev/null | head -1)
[ -n "$whl" ] || { failed=$((failed + 1)); echo "FAIL no dist/weft-*-py3-none-linux_*.whl"; finish; }
echo "     $(basename "$whl"): $(du -k "$whl" | cut -f1) KiB"
mkdir "$work/unpacked"
python3 -m zipfile -e "$whl" "$work/unpacked"
step "the wheel holds the package, py.typed, libweft.so and libuv" python3 - "$work/unpacked" "$root" <<'PY'
import glob, os, sys
unpacked, root = sys.argv[1:]
src = os.path.join(root, "bindings/python/src/weft")
want = {os.path.basename(p) for p in glob.glob(src + "/*.py")} | {"py.typed", "libweft.so"}
have = set(os.listdir(os.path.join(unpacked, "weft")))
missing = want - have
uv = [n for n in have if n.startswith("libuv-") and n.endswith(".so.1")]
print("missing: %s" % sorted(missing), "libuv: %s" % uv)
wheel = open(glob.glob(unpacked + "/weft-*.dist-info/WHEEL")[0]).read()
sys.exit(1 if missing or len(uv) != 1 or "Root-Is-Purelib: false" not in wheel else 0)
PY
step "its libweft.so: only weft_* exported, SONAME, \$ORIGIN, no Swift runtime, full RELRO" \
  python3 - "$work/unpacked/weft/libweft.so" "$root/include/weft.h" "$root/Tests/abi" <<'PY'
import re, sys
lib, header, abi = sys.argv[1:]
sys.path.insert(0, abi)
import check_abi
symbols = check_abi.exported_symbols(lib)
dynamic = check_abi.readelf("-d", lib)
needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.*?)\]", dynamic)
print("NEEDED: " + " ".join(needed))
problems = [s for s in symbols if not s.startswith("weft_")]
problems += [n for n in needed if n.startswith(check_abi.SWIFT_RUNTIME_LIBS) or n == "libuv.so.1"]
problems += [] if re.search(r"\(RUNPATH\)\s+Library runpath: \[\$ORIGIN\]", dynamic) else ["RUNPATH"]
problems += [] if "Library soname: [libweft.so.0]" in dynamic else ["SONAME"]
problems += [] if re.search(r"BIND_NOW|Flags: NOW", dynamic) else ["BIND_NOW"]
problems += [] if "NODELETE" in dynamic else ["NODELETE"]
problems += [] if "GNU_RELRO" in check_abi.readelf("-l", lib) else ["GNU_RELRO"]
print("%d weft_* exported; problems: %s" % (len(symbols), problems))
sys.exit(1 if problems or len(symbols) < 100 else 0)
PY

step "a fresh venv" venv "$work/venv"
step "pip install --no-index the wheel" pip "$work/venv/bin/python" install -q --no-index --no-deps "$whl"
site=$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
cd "$work"
hide=(bash "$root/Tests/dist/hide_toolchain.sh")
"${hide[@]}" true 2>"$work/hide.err"
if [ $? -eq 77 ]; then cat "$work/hide.err"; hide=(); fi
step "use it: no WEFT_LIB${hide:+, Swift toolchain hidden}" \
  "${hide[@]}" "$work/venv/bin/python" "$root/Tests/dist/use_weft.py" "$site/weft" bundled

built=$root/.build/release/libweft.so
if [ -f "$built" ]; then
  step "a fresh venv" venv "$work/venv2"
  step "pip install bindings/python (built checkout)" \
    pip "$work/venv2/bin/python" install -q --no-index "$root/bindings/python"
  site2=$("$work/venv2/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
  step "it carries the checkout's library" cmp "$built" "$site2/weft/libweft.so"
  step "use it: no WEFT_LIB" "$work/venv2/bin/python" "$root/Tests/dist/use_weft.py" "$site2/weft" system
  step "pip install -e bindings/python" pip "$work/venv2/bin/python" install -q --no-index -e "$root/bindings/python"
  step "use the editable install: finds .build/release" \
    "$work/venv2/bin/python" "$root/Tests/dist/use_weft.py" "$root/.build/release" system
else
  echo "note: no $built: the built-checkout install was not tried"
fi
finish
