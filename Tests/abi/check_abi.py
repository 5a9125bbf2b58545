#!/usr/bin/env python3
"""Holds three lists of weft_* functions against each other so they cannot drift:
the declarations in include/weft.h, the prototypes the Swift compiler emitted for
the @c functions (-emit-clang-header-path), and the symbols libweft.so exports.
Also checks that the library exports nothing but weft_* symbols.

usage: check_abi.py HEADER EMITTED_HEADER LIBWEFT_SO
Prints one line per problem and "abi: N passed, N failed"."""
import re
import subprocess
import sys

DECL = re.compile(r"^([A-Za-z_][\w \*]*?[\s\*])(weft_\w+)\s*\(([^)]*)\)\s*;", re.M)
EMITTED = re.compile(r"SWIFT_EXTERN\s+(.*?)\b(weft_\w+)\s*\(([^)]*)\)[^;]*;")

SYNONYMS = {
    "int32_t": "int",
    "uint32_t": "unsigned int",
    "char const": "const char",
    "weft_case": "weft_case",
}


def norm_type(text):
    text = re.sub(r"\b_Nullable\b|\b_Nonnull\b|\b_Null_unspecified\b|\bSWIFT_\w+\b", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    # "T const *" -> "const T *"
    text = re.sub(r"^(\w+(?: \w+)?) const(\s*\*)", r"const \1\2", text)
    for a, b in SYNONYMS.items():
        text = re.sub(r"\b%s\b" % a, b, text)
    text = text.replace(" *", "*").replace("* ", "*")
    return text


def norm_param(param):
    param = param.strip()
    if param in ("", "void"):
        return None
    # function pointers keep their full shape minus names and qualifiers
    if "(" in param:
        return norm_type(re.sub(r"\(\s*\*\s*\w*\s*\)", "(*)", param))
    # drop the parameter name (last identifier) when there is a type before it
    match = re.match(r"^(.*?[\s\*])(\w+)$", param)
    if match and match.group(1).strip():
        param = match.group(1)
    return norm_type(param)


def split_params(text):
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p for p in (norm_param(p) for p in parts) if p is not None]


def functions(text, pattern):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    found = {}
    for ret, name, params in pattern.findall(text):
        found[name] = (norm_type(ret), split_params(params))
    return found


def main():
    header, emitted, lib = sys.argv[1:4]
    declared = functions(open(header).read(), DECL)
    generated = functions(open(emitted).read(), EMITTED)
    nm = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True, check=True)
    exported = set()
    foreign = []
    for line in nm.stdout.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] in "TDBRVWiu":
            (exported.add if fields[2].startswith("weft_") else foreign.append)(fields[2])
    passed, failed = 0, 0

    def check(ok, message):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL", message)

    check(declared, "no weft_* declarations found in %s" % header)
    for name in sorted(set(declared) | set(generated) | exported):
        check(name in declared, "%s is exported or @c but not declared in weft.h" % name)
        check(name in generated, "%s is declared but has no @c function" % name)
        check(name in exported, "%s is declared but not exported by libweft.so" % name)
        if name in declared and name in generated:
            check(declared[name] == generated[name],
                  "%s: header says %s, @c says %s" % (name, declared[name], generated[name]))
    check(not foreign, "libweft.so exports non-weft symbols: %s" % " ".join(foreign[:10]))
    print("abi: %d functions; %d passed, %d failed" % (len(declared), passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
