#!/usr/bin/env python3
"""Holds include/weft.h to the conventions paragraph at its top, mechanically:

1. Blocking forms: a function whose doc comment says "Blocks:" with anything but
   "no" may block. Every such weft_X (not itself a _until, _ctx or _try_ form)
   has weft_X_until and weft_X_ctx declared, both documented as blocking
   (weft_X_ns: weft_X_until and weft_X_ctx), unless the conventions paragraph's
   exception list names it; every name on that list is declared and blocking
   (no stale entries).
2. WEFT_NODISCARD: every function with a result carries it, except the
   discardable ones (_retain, _release, _close, _unlock and the names in
   DISCARDABLE, which the conventions paragraph lists too); none of those does.
3. Borrowed returns: a function returning a handle (weft_*_t *) other than a
   _retain carries WEFT_BORROWED; every declaration carrying WEFT_BORROWED (on
   its result or an out-parameter) has a "Borrowed:" note saying who owns it.

A doc comment is the last comment that starts on its own line before the
declaration; it covers every declaration up to the next such comment.

usage: check_conventions.py HEADER
Prints one line per problem and "conventions: N passed, N failed"."""
import re
import sys

DISCARDABLE = {
    "weft_shutdown", "weft_yield", "weft_sleep_ns", "weft_sleep_until", "weft_dump_tasks",
    "weft_wg_done", "weft_cond_signal", "weft_cond_broadcast", "weft_sem_put", "weft_timer_stop",
    "weft_ctx_cancel", "weft_ctx_cancel_cause", "weft_after_func_stop", "weft_after_func_release",
    "weft_async_cancel", "weft_fd_forget", "weft_sock_shutdown",
}
DISCARDABLE_SUFFIXES = ("_retain", "_release", "_close", "_unlock", "_runlock")

DECL_START = re.compile(r"^((?:WEFT_[A-Z]+\s+)*)((?:const\s+)?(?:unsigned\s+)?\w+\s*\**\s*)(weft_\w+)\s*\(")


class Decl:
    def __init__(self, name, macros, ret, params, doc, line):
        self.name, self.macros, self.ret, self.params, self.doc, self.line = name, macros, ret, params, doc, line

    @property
    def blocking(self):
        notes = re.findall(r"Blocks:\s*(\w+)", self.doc)
        return any(note != "no" for note in notes)


def parse(text):
    """The declarations of weft_* functions, each with its doc comment."""
    lines = text.split("\n")
    decls, doc, i = [], "", 0
    # The first comment is the conventions paragraph, not a doc comment.
    while i < len(lines) and "*/" not in lines[i]:
        i += 1
    i += 1
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("/*"):
            body = [line]
            while "*/" not in body[-1]:
                i += 1
                body.append(lines[i])
            doc = re.sub(r"\n\s*\*(?!/)\s?", " ", "\n".join(body))
            i += 1
            continue
        match = DECL_START.match(line)
        if match and not stripped.startswith("typedef"):
            start = i
            text_ = line
            while ";" not in re.sub(r"/\*.*?\*/", "", text_):
                i += 1
                text_ += "\n" + lines[i]
            decl = re.sub(r"/\*.*?\*/", " ", text_, flags=re.S)
            decl = decl[: decl.index(";")]
            after = decl[decl.index(match.group(3)) + len(match.group(3)):]
            params = after[after.index("(") + 1: after.rindex(")")]
            decls.append(Decl(match.group(3), match.group(1).split(), match.group(2).strip(), params, doc, start + 1))
        i += 1
    return decls


def exceptions(text):
    """The names on the conventions paragraph's exception list."""
    head = text[: text.index("*/")]
    part = head[head.index("except these"):]
    names = []
    for entry in re.findall(r"^\s*\*\s{5,}(weft_\w+(?:,\s*weft_\w+)*):", part, re.M):
        names += [n.strip() for n in entry.split(",")]
    return names


def main():
    text = open(sys.argv[1]).read()
    decls = parse(text)
    by_name = {d.name: d for d in decls}
    excepted = exceptions(text)
    passed, failed = 0, 0

    def check(ok, message):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print("FAIL", message)

    check(len(decls) > 100, "only %d declarations parsed" % len(decls))
    check(excepted, "no exception list found in the conventions paragraph")

    # 1. Blocking forms.
    for name in excepted:
        check(name in by_name, "exception list names %s, which is not declared" % name)
        check(name in by_name and by_name[name].blocking,
              "exception list names %s, which is not documented as blocking" % name)
    for d in decls:
        if not d.blocking or d.name.endswith(("_until", "_ctx")) or "_try_" in d.name:
            continue
        if d.name in excepted:
            continue
        stem = d.name[:-3] if d.name.endswith("_ns") else d.name
        for form in (stem + "_until", stem + "_ctx"):
            check(form in by_name,
                  "%s (line %d) blocks but has no %s (add it, or name it on the exception list)"
                  % (d.name, d.line, form))
            check(form not in by_name or by_name[form].blocking,
                  "%s is not documented as blocking (Blocks: yes)" % form)

    # A function with a deadline or context form waits: its comment must say so.
    for d in decls:
        for suffix in ("_until", "_ctx"):
            if d.name.endswith(suffix):
                stem = d.name[: -len(suffix)]
                for base in (stem, stem + "_ns"):
                    if base in by_name:
                        check(by_name[base].blocking and d.blocking,
                              "%s has a %s form but is not documented as blocking (Blocks: yes)" % (base, suffix))

    # 2. WEFT_NODISCARD.
    for d in decls:
        if d.ret == "void":
            check("WEFT_NODISCARD" not in d.macros, "%s returns void but is WEFT_NODISCARD" % d.name)
            continue
        discardable = d.name in DISCARDABLE or d.name.endswith(DISCARDABLE_SUFFIXES)
        if discardable:
            check("WEFT_NODISCARD" not in d.macros,
                  "%s is WEFT_NODISCARD but on the discardable list" % d.name)
        else:
            check("WEFT_NODISCARD" in d.macros,
                  "%s (line %d) has a result that must be checked: mark it WEFT_NODISCARD" % (d.name, d.line))
    for name in DISCARDABLE:
        check(name in by_name, "DISCARDABLE names %s, which is not declared" % name)

    # 3. Borrowed returns and out-parameters.
    for d in decls:
        returns_handle = re.match(r"^weft_\w+_t\s*\*$", d.ret) is not None
        if returns_handle and not d.name.endswith("_retain"):
            check("WEFT_BORROWED" in d.macros,
                  "%s (line %d) returns a handle the caller does not own: mark it WEFT_BORROWED"
                  % (d.name, d.line))
        borrowed = "WEFT_BORROWED" in d.macros or "WEFT_BORROWED" in d.params
        if borrowed:
            check("Borrowed:" in d.doc, "%s is WEFT_BORROWED but its comment has no \"Borrowed:\" note"
                  % d.name)
        if "WEFT_BORROWED" in d.params:
            check(re.search(r"WEFT_BORROWED\s+weft_\w+_t\s*\*\*", d.params),
                  "%s: WEFT_BORROWED belongs on a handle out-parameter (weft_X_t **)" % d.name)

    print("conventions: %d functions, %d blocking, %d exceptions; %d passed, %d failed"
          % (len(decls), sum(d.blocking for d in decls), len(excepted), passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
