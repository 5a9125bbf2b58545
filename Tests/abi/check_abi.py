#!/usr/bin/env python3
"""Holds three lists of weft_* functions against each other so they cannot drift:
the declarations in include/weft.h, the prototypes the Swift compiler emitted for
the @c functions (-emit-clang-header-path), and the symbols libweft.so exports.
Also checks that the library exports nothing but weft_* symbols (the Swift runtime
is linked in statically and must stay local), and that it stands alone and is
hardened: SONAME libweft.so.<MAJOR>, no RUNPATH/RPATH outside $ORIGIN, no Swift
runtime library NEEDED (the list is printed), full RELRO (GNU_RELRO + BIND_NOW),
NODELETE (dlclose must not unmap the Swift runtime inside),
and its C files compiled with -O and -D_FORTIFY_SOURCE=2, read from the command
line those that record it (-grecord-command-line: CWeftHost) keep in their debug info,
or else SwiftPM's build manifest (.build/<config>.yaml).

usage: check_abi.py HEADER EMITTED_HEADER LIBWEFT_SO
Prints one line per problem and "abi: N passed, N failed"."""
import json
import os
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
    text = re.sub(r"\b_Nullable\b|\b_Nonnull\b|\b_Null_unspecified\b|\bSWIFT_\w+\b|\bWEFT_(?:NODISCARD|BORROWED)\b", " ", text)
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


SWIFT_RUNTIME_LIBS = ("libswift", "libdispatch", "libBlocksRuntime", "libFoundation", "lib_Foundation")


def readelf(*args):
    return subprocess.run(["readelf", "-W", *args], capture_output=True, text=True, check=True).stdout


def exported_symbols(lib):
    """Defined dynamic symbols other objects can bind to (not LOCAL, not UND)."""
    names = []
    for line in readelf("--dyn-syms", lib).splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[0].endswith(":") and fields[6] != "UND" \
                and fields[4] in ("GLOBAL", "WEAK", "UNIQUE") and fields[5] in ("DEFAULT", "PROTECTED"):
            names.append(fields[7].split("@")[0])
    return names


def compile_units(lib):
    """(source file, producer command line) of every DWARF compile unit."""
    units, producer = [], None
    for line in readelf("--debug-dump=info", lib).splitlines():
        if "DW_AT_producer" in line:
            producer = line.split("): ", 1)[-1]
        elif "DW_AT_name" in line and producer is not None:
            units.append((line.rsplit("): ", 1)[-1].strip(), producer))
            producer = None
    return units


def manifest_command(lib, source):
    """The compile command of source in SwiftPM's build manifest (.build/<config>.yaml
    beside the library's build folder), as one string, or None."""
    folder = os.path.dirname(os.path.realpath(lib))
    manifest = os.path.join(os.path.dirname(os.path.dirname(folder)), os.path.basename(folder) + ".yaml")
    if not os.path.exists(manifest):
        return None
    inputs = None
    for line in open(manifest):
        line = line.strip()
        if line.startswith("inputs:"):
            inputs = line
        elif line.startswith("args:") and inputs and '"%s"' % source in inputs:
            return " " + " ".join(json.loads(line[len("args:"):]))
    return None


def check_standalone(lib, major, check):
    dynamic = readelf("-d", lib)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.*?)\]", dynamic)
    soname = re.findall(r"\(SONAME\)\s+Library soname: \[(.*?)\]", dynamic)
    paths = [p for entry in re.findall(r"\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[(.*?)\]", dynamic)
             for p in entry.split(":")]
    print("NEEDED: %s" % " ".join(needed))
    check(soname == ["libweft.so.%d" % major],
          "SONAME is %s, want libweft.so.%d" % (soname or "missing", major))
    for path in paths:
        check(path.startswith("$ORIGIN"),
              "RUNPATH/RPATH %s: only $ORIGIN-relative paths (it points into the build machine)" % path)
    swift = [n for n in needed if n.startswith(SWIFT_RUNTIME_LIBS)]
    check(not swift, "needs the Swift runtime's shared libraries: %s" % " ".join(swift))
    flags = " ".join(re.findall(r"\(FLAGS(?:_1)?\)\s+(?:Flags: )?(.*)", dynamic))
    check("BIND_NOW" in flags.split() or "NOW" in flags.split(), "no BIND_NOW (link with -z now): %s" % flags)
    check(re.search(r"^\s*GNU_RELRO\b", readelf("-l", lib), re.M), "no GNU_RELRO segment (-z relro)")
    check("NODELETE" in flags.split(), "no NODELETE (-z nodelete: the Swift runtime inside cannot be unloaded)")
    c_units = [(name, producer) for name, producer in compile_units(lib)
               if name.endswith(".c") and "/Sources/" in name]
    check(c_units, "no compile unit of Sources/*.c found in the debug info")
    recorded = [(name, producer) for name, producer in c_units if "-grecord-command-line" in producer]
    check(recorded, "no Sources/*.c recorded its command line (CWeftHost's -grecord-command-line)")
    for name, producer in c_units:
        if (name, producer) not in recorded:
            producer = manifest_command(lib, name)
            if producer is None:
                print("note: %s: no command line in its debug info or build manifest (FORTIFY unchecked)" % name)
                continue
        if not re.search(r" -O([1-3sz]|fast)?(?=\s|$)", producer):
            print("note: %s built without optimization (a debug build): no FORTIFY to check" % name)
            continue
        check(re.search(r"-D ?_FORTIFY_SOURCE=[23]\b", producer),
              "%s was not compiled with -D_FORTIFY_SOURCE=2" % name)


def main():
    header, emitted, lib = sys.argv[1:4]
    declared = functions(open(header).read(), DECL)
    generated = functions(open(emitted).read(), EMITTED)
    symbols = exported_symbols(lib)
    exported = {name for name in symbols if name.startswith("weft_")}
    foreign = [name for name in symbols if not name.startswith("weft_")]
    major = int(re.search(r"#define WEFT_VERSION_MAJOR (\d+)", open(header).read()).group(1))
    passed, failed = 0, 0

    def check(ok, message):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL", message)
        return ok

    check(declared, "no weft_* declarations found in %s" % header)
    for name in sorted(set(declared) | set(generated) | exported):
        check(name in declared, "%s is exported or @c but not declared in weft.h" % name)
        check(name in generated, "%s is declared but has no @c function" % name)
        check(name in exported, "%s is declared but not exported by libweft.so" % name)
        if name in declared and name in generated:
            check(declared[name] == generated[name],
                  "%s: header says %s, @c says %s" % (name, declared[name], generated[name]))
    check(not foreign, "libweft.so exports %d non-weft symbols: %s" % (len(foreign), " ".join(foreign[:10])))
    check_standalone(lib, major, check)
    print("abi: %d functions; %d passed, %d failed" % (len(declared), passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
