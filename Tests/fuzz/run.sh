#!/usr/bin/env bash
# Builds the op-sequence fuzzer (fuzz_ops.c) against include/weft.h and LIBDIR's
# libweft.so and runs it for SECONDS: with libFuzzer (the Swift toolchain's
# clang -fsanitize=fuzzer) when it links, else with the plain driver (driver.c).
# The committed corpus (Tests/fuzz/corpus) runs first; new inputs libFuzzer finds
# go to a scratch folder, never into the repository. A broken invariant aborts
# and fails the run (libFuzzer saves the input as crash-*; the driver prints the
# seed). Prints "fuzz: N passed, N failed": each corpus input is one test, the
# timed run another.
# Usage: run.sh LIBDIR SECONDS [out-dir]    Env: FUZZ_DRIVER=plain forces the driver.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
libdir=$(cd "${1:?usage: run.sh LIBDIR SECONDS}" && pwd)
seconds=${2:-30}
out=${3:-$root/.build/fuzz}
mkdir -p "$out" && out=$(cd "$out" && pwd)
clang=/opt/swift/usr/bin/clang
[ -x "$clang" ] || clang=$(dirname "$(readlink -f "$(command -v swift)")")/clang
cflags="-std=c11 -O1 -g -Wall -Wextra -Werror -pthread -I$root/include"
link="-L$libdir -lweft -Wl,-rpath,$libdir"
ncorpus=$(find "$here/corpus" -type f | wc -l)
export SWIFT_BACKTRACE=enable=no

mode=plain
if [ "${FUZZ_DRIVER:-}" != plain ] &&
  $clang $cflags -fsanitize=fuzzer "$here/fuzz_ops.c" -o "$out/fuzz_ops" $link 2>"$out/build.log"; then
  mode=libfuzzer
elif ! ${CC:-$clang} $cflags "$here/fuzz_ops.c" "$here/driver.c" -o "$out/fuzz_ops" $link 2>"$out/build.log"; then
  cat "$out/build.log"
  echo "fuzz: 0 passed, 1 failed"
  exit 1
fi
echo "fuzz: $mode, $ncorpus corpus inputs, ${seconds} s, library $libdir"
cd "$out"
if [ $mode = libfuzzer ]; then
  rm -rf "$out/found" && mkdir -p "$out/found"
  # -runs over the corpus first (each must pass), then the timed search.
  timeout -k 10 $((60 + ncorpus * 2)) ./fuzz_ops -runs=0 "$here/corpus" >"$out/corpus.log" 2>&1
  rc=$?
  if [ $rc -ne 0 ]; then
    tail -30 "$out/corpus.log"
    echo "fuzz: 0 passed, $((ncorpus + 1)) failed"
    exit 1
  fi
  rc=0
  rm -f "$out/run.log"
  [ "$seconds" -gt 0 ] && {
    timeout -k 10 $((seconds + 60)) ./fuzz_ops -max_total_time="$seconds" -timeout=20 -max_len=259 \
      -print_final_stats=1 "$out/found" "$here/corpus" >"$out/run.log" 2>&1
    rc=$?
  }
  grep -E "^#[0-9]+ +DONE|stat::number_of_executed_units|stat::new_units_added" "$out/run.log" 2>/dev/null | tail -3
else
  timeout -k 10 $((seconds + 60 + ncorpus * 2)) ./fuzz_ops -seconds="$seconds" "$here/corpus" >"$out/run.log" 2>&1
  rc=$?
  grep -E "^fuzz: " "$out/run.log" | grep -v passed
fi
if [ $rc -ne 0 ]; then
  tail -30 "$out/run.log"
  ls "$out"/crash-* 2>/dev/null | sed 's/^/crashing input: /'
  echo "fuzz: $ncorpus passed, 1 failed"
  exit 1
fi
echo "fuzz: $((ncorpus + 1)) passed, 0 failed"
