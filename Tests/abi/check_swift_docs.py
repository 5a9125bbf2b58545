#!/usr/bin/env python3
"""Every public/open declaration in Sources/Weft has a /// doc comment.

A declaration's doc comment is the run of `///` lines right above it (attribute
lines such as @inlinable or @available in between are allowed). Prints each
undocumented declaration and "N passed, N failed"; exit 1 when any is missing.
  python3 Tests/abi/check_swift_docs.py [Sources/Weft]
"""
import pathlib, re, sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "Sources/Weft")
decl = re.compile(r"^\s*(?:@[\w.]+(?:\([^)]*\))?\s+)*(?:public|open)\s+(?!extension\b)")
attr = re.compile(r"^\s*(?:@[\w.]+(?:\(.*?\))?\s*)+$")
passed = failed = 0
for path in sorted(root.rglob("*.swift")):
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        if not decl.match(line):
            continue
        j = i - 1
        while j >= 0 and attr.match(lines[j]):
            j -= 1
        if j >= 0 and lines[j].strip().startswith("///"):
            passed += 1
        else:
            failed += 1
            print(f"{path}:{i + 1}: no /// doc comment: {line.strip()}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
