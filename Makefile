# Weft: `make demo` runs the flagship demo, `make test` runs every test.
# Both install what they need on a fresh Debian machine (libuv1-dev via apt-get).

PREFIX ?= /usr/local
CONFIG ?= release
SWIFT ?= swift
BUILD := .build/$(CONFIG)
LIB := $(BUILD)/libweft.so
CC ?= cc
CFLAGS_DEMO := -std=c11 -O2 -Wall -Wextra -fstack-clash-protection -pthread -Iinclude
# libweft.so.$(VERSION), SONAME libweft.so.$(MAJOR) (the -soname in Package.swift).
header_version = $(shell sed -n 's/^\#define WEFT_VERSION_$(1) //p' include/weft.h)
MAJOR := $(call header_version,MAJOR)
VERSION := $(MAJOR).$(call header_version,MINOR).$(call header_version,PATCH)

.PHONY: all deps lib demo test test-swift test-capi test-abi test-python test-asan fuzz test-dist bench install uninstall wheel clean

all: lib

# libuv's headers and pkg-config file; apt-get only when they are missing.
deps:
	@if ! pkg-config --exists libuv 2>/dev/null; then \
	  echo "installing libuv1-dev and pkg-config"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libuv1-dev pkg-config >/dev/null; \
	fi

# The build folder gets the SONAME link too, so programs linked there run.
lib: deps
	$(SWIFT) build -c $(CONFIG) --product weft
	ln -sf libweft.so $(BUILD)/libweft.so.$(MAJOR)

demo: lib
	@mkdir -p .build/demo
	$(CC) $(CFLAGS_DEMO) examples/c/demo.c -o .build/demo/demo -L$(BUILD) -lweft -Wl,-rpath,$(abspath $(BUILD)) -lm
	.build/demo/demo $(DEMO_ARGS)

test: lib
	@bash Tests/run-all.sh $(CONFIG)

test-swift: deps
	$(SWIFT) test

test-capi: lib
	bash Tests/capi/run.sh $(BUILD) $(FILTER)

test-abi: lib
	bash Tests/abi/check_header.sh
	python3 Tests/abi/check_abi.py include/weft.h .build/weft-emitted.h $(LIB)
	bash Tests/abi/check_crash.sh $(BUILD)

# The installed library and the wheel on a machine without Swift.
test-dist: lib
	bash Tests/dist/check_standalone.sh
	bash Tests/dist/check_wheel.sh

test-python: lib
	bash bindings/python/run-tests.sh $(abspath $(LIB))

# The C ABI tests against an AddressSanitizer build (the context switch tells
# ASan about every stack it enters). Left out: those that measure RSS or need
# full speed, and those that limit the address space (ASan's shadow memory
# needs terabytes of it).
ASAN_SKIP := test_ctx_leak test_timer_after test_task_million \
  test_task_enomem test_runtime_workers_limit test_runtime_shutdown_reclaim
test-asan: deps
	$(SWIFT) build -c release --product weft --scratch-path .build-asan -Xswiftc -sanitize=address -Xcc -fsanitize=address
	ln -sf libweft.so .build-asan/release/libweft.so.$(MAJOR)
	ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 CC="$$(dirname $$(readlink -f $$(which $(SWIFT))))/clang -fsanitize=address" \
	  WEFT_TEST_OUT=.build-asan/capi WEFT_TEST_SKIP="$(ASAN_SKIP)" bash Tests/capi/run.sh .build-asan/release

# The op-sequence fuzzer (Tests/fuzz) for FUZZ_SECONDS, against a library built
# with the invariant checks (-DWEFT_CHECKS) and, where swiftc allows, coverage
# instrumentation of the Swift core for libFuzzer; scratch path .build-fuzz.
FUZZ_SECONDS ?= 600
FUZZ_SWIFT_FLAGS ?= -Xswiftc -sanitize=fuzzer
fuzz: deps
	$(SWIFT) build -c release --product weft --scratch-path .build-fuzz -Xswiftc -DWEFT_CHECKS $(FUZZ_SWIFT_FLAGS)
	ln -sf libweft.so .build-fuzz/release/libweft.so.$(MAJOR)
	bash Tests/fuzz/run.sh .build-fuzz/release $(FUZZ_SECONDS) .build-fuzz/run

bench: lib
	bash benchmarks/run.sh
	bash benchmarks/swift/run.sh

# ldconfig (root, no DESTDIR) so the loader's cache and find_library see it.
install: lib
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(LIB) $(DESTDIR)$(PREFIX)/lib/libweft.so.$(VERSION)
	ln -sf libweft.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libweft.so.$(MAJOR)
	ln -sf libweft.so.$(MAJOR) $(DESTDIR)$(PREFIX)/lib/libweft.so
	install -m 644 include/weft.h $(DESTDIR)$(PREFIX)/include/weft.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|' weft.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/weft.pc
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

# dist/weft-$(VERSION)-py3-none-linux_<arch>.whl: the Python binding with libweft.so
# and the libuv it needs beside it, renamed (libuv-<hash>.so.1) and found through
# RUNPATH $$ORIGIN, the way auditwheel bundles; Debian's libuv.a is not PIC, so it
# cannot go inside libweft.so. The binding's own build backend writes it (no pip, offline).
WHEEL_STAGE := .build/wheel
wheel: lib
	@command -v patchelf >/dev/null || { echo "installing patchelf"; SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patchelf >/dev/null; }
	rm -rf $(WHEEL_STAGE) && mkdir -p $(WHEEL_STAGE) dist
	uv=$$(ldd $(LIB) | awk '$$1 == "libuv.so.1" {print $$3}') && [ -f "$$uv" ] && \
	  bundled=libuv-$$(sha256sum "$$uv" | cut -c1-8).so.1 && \
	  strip -o $(WHEEL_STAGE)/$$bundled "$$uv" && patchelf --set-soname $$bundled $(WHEEL_STAGE)/$$bundled && \
	  strip -o $(WHEEL_STAGE)/libweft.so $(LIB) && \
	  patchelf --replace-needed libuv.so.1 $$bundled --set-rpath '$$ORIGIN' $(WHEEL_STAGE)/libweft.so
	rm -f dist/weft-*-py3-none-*.whl
	WEFT_BUNDLE_DIR=$(abspath $(WHEEL_STAGE)) python3 -c 'import sys; sys.path.insert(0, "bindings/python/build_backend"); \
	  import weft_build; print("dist/" + weft_build.build_wheel("dist"))'

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libweft.so $(DESTDIR)$(PREFIX)/lib/libweft.so.$(MAJOR) $(DESTDIR)$(PREFIX)/lib/libweft.so.$(VERSION)
	rm -f $(DESTDIR)$(PREFIX)/include/weft.h $(DESTDIR)$(PREFIX)/lib/pkgconfig/weft.pc

clean:
	rm -rf .build

# libweft_redis.so (include/weft_redis.h): the Redis Streams work queue, an
# optional companion on hiredis; libweft.so does not depend on it. redis-deps
# installs redis-server and libhiredis-dev when missing (like deps for libuv).
REDIS_BUILD := .build/redis
REDIS_CFLAGS := -std=c11 -O2 -Wall -Wextra -fstack-clash-protection -pthread -Iinclude
REDIS_LINK := -L$(REDIS_BUILD) -L$(BUILD) -lweft_redis -lweft -lhiredis -Wl,-rpath,$(abspath $(REDIS_BUILD)):$(abspath $(BUILD))
.PHONY: redis-deps redis test-redis demo-distributed bench-redis
redis-deps:
	@if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null || [ ! -f /usr/include/hiredis/hiredis.h ]; then \
	  echo "installing redis-server, redis-tools and libhiredis-dev"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools libhiredis-dev >/dev/null; \
	fi
redis: redis-deps lib
	@mkdir -p $(REDIS_BUILD)
	$(CC) $(REDIS_CFLAGS) -fPIC -shared -fvisibility=hidden redis/weft_redis.c -o $(REDIS_BUILD)/libweft_redis.so \
	  -Wl,-soname,libweft_redis.so.0 -L$(BUILD) -lweft -lhiredis
	ln -sf libweft_redis.so $(REDIS_BUILD)/libweft_redis.so.0
	$(CC) $(REDIS_CFLAGS) examples/c/redis_jobs.c -o $(REDIS_BUILD)/redis_jobs $(REDIS_LINK)
	$(CC) $(REDIS_CFLAGS) redis/tests/test_redis.c -o $(REDIS_BUILD)/test_redis $(REDIS_LINK)
test-redis: redis
	bash redis/tests/run.sh
demo-distributed: redis
	bash redis/demo.sh $(DEMO_ARGS)
bench-redis: redis
	bash benchmarks/redis/run.sh
