#!/usr/bin/env bash
# Runs the Python binding's tests against a built libweft.so:
#   bash bindings/python/run-tests.sh /abs/path/to/libweft.so
# Makes (or reuses) a venv with pytest under .build/python-venv; on machines
# without python3-venv it falls back to virtualenv, apt-get python3-venv, or
# pip --user; adds trio, anyio and mypy to it. Ends with pytest's summary
# line; non-zero exit on failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lib=${1:-$root/.build/release/libweft.so}
case $lib in /*) ;; *) lib=$(pwd)/$lib ;; esac
if [ ! -f "$lib" ]; then
  echo "run-tests.sh: $lib not found (swift build -c release --product weft)" >&2
  exit 2
fi
venv=${WEFT_PY_VENV:-$root/.build/python-venv}
py=python3

have_pytest() { "$1" -c 'import pytest' >/dev/null 2>&1; }

make_venv() {
  python3 -m venv "$venv" >/dev/null 2>&1 && return 0
  rm -rf "$venv"
  if python3 -m virtualenv --version >/dev/null 2>&1; then
    python3 -m virtualenv -q "$venv" && return 0
  fi
  if command -v apt-get >/dev/null 2>&1; then
    echo "python3 -m venv failed: installing python3-venv" >&2
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    pyver=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    $SUDO apt-get update -qq >/dev/null 2>&1
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv "python$pyver-venv" >/dev/null 2>&1 ||
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null 2>&1
    rm -rf "$venv"
    python3 -m venv "$venv" >/dev/null 2>&1 && return 0
  fi
  rm -rf "$venv"
  return 1
}

if [ -x "$venv/bin/python" ] && have_pytest "$venv/bin/python"; then
  py=$venv/bin/python
elif make_venv; then
  py=$venv/bin/python
  "$py" -m pip install -q --disable-pip-version-check pytest >&2 || { echo "pip install pytest failed" >&2; exit 2; }
elif have_pytest python3; then
  py=python3
else
  echo "no venv available: pip install --user pytest" >&2
  python3 -m pip install -q --user pytest >&2 || python3 -m pip install -q --user --break-system-packages pytest >&2 || exit 2
  py=python3
fi

# trio, anyio (the async API under both) and mypy (--strict on the examples):
# into the venv from PyPI when missing; without them those tests skip.
if [ "$py" = "$venv/bin/python" ] && ! "$py" -c 'import trio, anyio, mypy' >/dev/null 2>&1; then
  "$py" -m pip install -q --disable-pip-version-check trio anyio mypy >&2 ||
    echo "run-tests.sh: pip install trio anyio mypy failed: those tests skip" >&2
fi

cd "$root"
export WEFT_LIB=$lib
export PYTHONPATH=$here/src${PYTHONPATH:+:$PYTHONPATH}
export PYTHONFAULTHANDLER=1
exec timeout "${WEFT_PY_TIMEOUT:-600}" "$py" -m pytest -p no:cacheprovider -q \
  -o faulthandler_timeout=120 "$here/tests"
