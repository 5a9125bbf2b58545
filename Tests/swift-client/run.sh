#!/usr/bin/env bash
# A package that depends on Weft BY VERSION builds without any flag and runs
# tasks that park inside open exclusivity accesses (Sources/client/main.swift).
#
# Copies the working tree (tracked and untracked files, not .build) into a temp
# git repository, tags it 0.1.0, and builds Package.swift.in's client against
# `.package(url: "file://...", from: "0.1.0")` in debug and release; then checks
# that the misuse in Sources/compile-fail is rejected by the compiler. Prints
# "N passed, N failed".
#
#   bash Tests/swift-client/run.sh          (KEEP=1 keeps the temp dir)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d /tmp/weft-client.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# The dependency: this tree as a tagged git repository.
mkdir -p "$tmp/weft"
(cd "$root" && git ls-files -co --exclude-standard -z | grep -zvE '^(Tests/swift-client|benchmarks)/' |
  xargs -0 cp --parents -t "$tmp/weft")
git -C "$tmp/weft" init -q
git -C "$tmp/weft" add -A
git -C "$tmp/weft" -c user.name=weft -c user.email=weft@localhost commit -qm snapshot
git -C "$tmp/weft" tag 0.1.0

# The client.
mkdir -p "$tmp/client/Sources"
cp -r "$here/Sources/client" "$here/Sources/compile-fail" "$tmp/client/Sources/"
sed "s|@WEFT_URL@|file://$tmp/weft|" "$here/Package.swift.in" >"$tmp/client/Package.swift"
cd "$tmp/client"

for config in debug release; do
  if swift build -c $config --product client >"$tmp/build-$config.log" 2>&1; then
    ok "$config: builds against Weft from: 0.1.0 with no flags"
  else
    bad "$config: build"; tail -30 "$tmp/build-$config.log"; continue
  fi
  bin=$(swift build -c $config --show-bin-path)/client
  if out=$("$bin" 2>&1) && [[ "$out" == *" passed, 0 failed"* ]]; then
    ok "$config: parks inside open accesses (${out##*$'\n'})"
  else
    bad "$config: park inside an access"; echo "$out" | tail -20
  fi
  # A conflicting access inside the task, across parks, is still caught.
  out=$(SWIFT_BACKTRACE=enable=no "$bin" overlap 2>&1)
  rc=$?
  if [ $rc -ne 0 ] && [[ "$out" == *"Simultaneous accesses"* ]]; then
    ok "$config: an overlapping access across parks is caught"
  else
    bad "$config: overlap not caught (rc $rc)"; echo "$out" | tail -10
  fi
done

# Misuse is rejected at compile time (Sources/compile-fail: one error per case).
swift build --target compile-fail >"$tmp/compile-fail.log" 2>&1
rc=$?
for expect in "capture of 'chan' with non-Sendable type 'Chan<Unshared>'" \
  "mutation of captured var 'total' in concurrently-executing code" \
  "is unavailable from asynchronous contexts" \
  "initializer for conditional binding must have Optional type"; do
  if [ $rc -ne 0 ] && grep -qF "$expect" "$tmp/compile-fail.log"; then
    ok "rejected at compile time: $expect"
  else
    bad "not rejected: $expect"; grep -E "error|warning" "$tmp/compile-fail.log" | sort -u | head -10
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
