# Weft: `make demo` runs the flagship demo, `make test` runs every test.
# Both install what they need on a fresh Debian machine (libuv1-dev via apt-get).

PREFIX ?= /usr/local
CONFIG ?= release
SWIFT ?= swift
BUILD := .build/$(CONFIG)
LIB := $(BUILD)/libweft.so
CC ?= cc
CFLAGS_DEMO := -std=c11 -O2 -Wall -Wextra -fstack-clash-protection -pthread -Iinclude

.PHONY: all deps lib demo test test-swift test-capi test-abi test-python test-asan bench install uninstall clean

all: lib

# libuv's headers and pkg-config file; apt-get only when they are missing.
deps:
	@if ! pkg-config --exists libuv 2>/dev/null; then \
	  echo "installing libuv1-dev and pkg-config"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libuv1-dev pkg-config >/dev/null; \
	fi

lib: deps
	$(SWIFT) build -c $(CONFIG) --product weft

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
	ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 CC="$$(dirname $$(readlink -f $$(which $(SWIFT))))/clang -fsanitize=address" \
	  WEFT_TEST_OUT=.build-asan/capi WEFT_TEST_SKIP="$(ASAN_SKIP)" bash Tests/capi/run.sh .build-asan/release

bench: lib
	bash benchmarks/run.sh

install: lib
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(LIB) $(DESTDIR)$(PREFIX)/lib/libweft.so
	install -m 644 include/weft.h $(DESTDIR)$(PREFIX)/include/weft.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e "s|@VERSION@|$$(sed -n 's/^#define WEFT_VERSION_MAJOR //p' include/weft.h).$$(sed -n 's/^#define WEFT_VERSION_MINOR //p' include/weft.h).$$(sed -n 's/^#define WEFT_VERSION_PATCH //p' include/weft.h)|" \
	  weft.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/weft.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libweft.so $(DESTDIR)$(PREFIX)/include/weft.h $(DESTDIR)$(PREFIX)/lib/pkgconfig/weft.pc

clean:
	rm -rf .build
