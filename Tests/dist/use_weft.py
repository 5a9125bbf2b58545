"""Imports the installed weft and uses it: a channel round trip, a go() task, an
asyncio await; then checks where the library came from. Run by check_wheel.sh in
a fresh venv, outside the checkout. Usage: use_weft.py LIB_DIR bundled|system
(LIB_DIR: where libweft.so must come from; the libuv beside it or the system's).
Prints one "ok"/"FAIL" line per check and exits non-zero on a failure."""
import asyncio
import os
import sys

failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    failures += 0 if ok else 1


expected_dir = os.path.realpath(sys.argv[1])
libuv_bundled = sys.argv[2] == "bundled"
check("WEFT_LIB" not in os.environ, "WEFT_LIB is not set")
import weft  # noqa: E402

check(os.path.dirname(os.path.realpath(weft.LIB_PATH)) == expected_dir,
      "libweft.so loaded from %s (want %s)" % (weft.LIB_PATH, expected_dir))
ch = weft.Channel(1)
ch.send({"n": 1})
check(ch.recv() == {"n": 1}, "channel round trip")
check(weft.go(lambda a, b: a * b, 6, 7).result(timeout=10) == 42, "go() task")


async def main():
    pipe = weft.Channel(0)
    sender = weft.go(pipe.send, "from a thread")
    value = await asyncio.wait_for(pipe.recv_async(), 10)
    sender.result(timeout=10)
    return value


check(asyncio.run(main()) == "from a thread", "asyncio await of recv_async")
maps = open("/proc/self/maps").read()
mapped = {line.split()[-1] for line in maps.splitlines() if ".so" in line.split()[-1]}
weftish = sorted(p for p in mapped if "weft" in os.path.basename(p) or "libuv" in os.path.basename(p)
                 or "swift" in p)
print("     mapped: " + " ".join(weftish))
check(not [p for p in mapped if "swift" in p.lower()], "nothing from a Swift toolchain mapped")
libuv = [p for p in weftish if "libuv" in os.path.basename(p)]
check(len(libuv) == 1 and (os.path.dirname(libuv[0]) == expected_dir) == libuv_bundled,
      "one libuv, %s" % ("the one beside libweft.so" if libuv_bundled else "the system's"))
print("version %s" % weft.version())
sys.exit(1 if failures else 0)
