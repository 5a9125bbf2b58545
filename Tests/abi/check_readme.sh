#!/usr/bin/env bash
# The README's C example must compile cleanly and run: extract the first ```c
# block, build it against include/weft.h and the built library, check its output.
# Usage: check_readme.sh LIBDIR. Prints "readme: N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
libdir=$(cd "${1:?usage: check_readme.sh LIBDIR}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
awk '/^```c$/ {on=1; next} /^```$/ && on {exit} on' "$root/README.md" >"$tmp/readme.c"
passed=0 failed=0
if ${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$root/include" "$tmp/readme.c" -o "$tmp/readme" \
  -L"$libdir" -lweft -Wl,-rpath,"$libdir" 2>"$tmp/err"; then
  passed=$((passed + 1))
  if [ "$(timeout 60 "$tmp/readme" | grep -c '^job ')" = 100 ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: the README example did not print its 100 jobs"; fi
else
  failed=$((failed + 1)); echo "FAIL: the README example does not compile"; sed 's/^/    /' "$tmp/err" | head -20
fi
echo "readme: $passed passed, $failed failed"
[ $failed -eq 0 ]
