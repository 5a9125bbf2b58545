#!/usr/bin/env bash
# Runs a command as on a machine without Swift: in a private mount namespace an
# empty, read-only tmpfs covers the Swift toolchain (the tree of the `swift` in
# PATH, e.g. /opt/swift/usr), and PATH no longer names it; SWIFT_* and
# LD_LIBRARY_PATH are cleared. Needs root or unprivileged user namespaces.
# Usage: hide_toolchain.sh COMMAND [ARGS...]
# Exit: the command's status, or 77 after a "SKIP: reason" line when no
# namespace can be made (a machine without Swift runs the command as it is).
set -uo pipefail
swift=$(command -v "${SWIFT:-swift}" 2>/dev/null)
if [ -z "$swift" ]; then exec env -u LD_LIBRARY_PATH "$@"; fi
tree=$(dirname "$(dirname "$(readlink -f "$swift")")")
case $tree in
/ | /usr | /usr/local)
  echo "SKIP: the Swift toolchain lives in $tree, which cannot be hidden without hiding the system" >&2
  exit 77 ;;
esac
path=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v "^$tree" | paste -sd: -)
inner='mount -t tmpfs -o ro,mode=755,size=4k weft-no-swift "$0" || exit 78
[ -z "$(ls -A "$0")" ] || { echo "hide_toolchain: $0 still visible" >&2; exit 78; }
exec "$@"'
if [ "$(id -u)" = 0 ] && unshare -m --propagation private true 2>/dev/null; then
  exec env -u LD_LIBRARY_PATH -u SWIFT_ROOT -u SWIFT_BACKTRACE PATH="$path" \
    unshare -m --propagation private bash -c "$inner" "$tree" "$@"
elif unshare -r -m --propagation private true 2>/dev/null; then
  exec env -u LD_LIBRARY_PATH -u SWIFT_ROOT -u SWIFT_BACKTRACE PATH="$path" \
    unshare -r -m --propagation private bash -c "$inner" "$tree" "$@"
fi
echo "SKIP: cannot make a mount namespace to hide $tree (unshare -m needs root or user namespaces)" >&2
exit 77
