/* Swift's crash backtracer stays off in libweft.so's host.
 *
 * libweft.so carries the Swift runtime (-static-stdlib), and with it Swift's
 * crash backtracer: when the library loads, the runtime decides whether to catch
 * every fatal signal of the whole process and hand the crash to a swift-backtrace
 * helper. That helper can outlive the crashed host while holding its stdout and
 * stderr (`prog | cat` then never ends), and a C or Python host has crash handling
 * of its own. So in libweft.so the default is off.
 *
 * How the runtime decides (stdlib/public/runtime/Backtrace.cpp): its settings
 * start with enabled = Default; its initializer (an unprioritized C++ constructor)
 * parses SWIFT_BACKTRACE, looks for swift-backtrace beside the runtime's own file
 * (here: libweft.so's directory) or under $SWIFT_ROOT, and turns Default into On
 * when it finds one. The constructor below runs first (prioritized constructors
 * precede unprioritized ones in .init_array) and turns Default into Off; an
 * explicit SWIFT_BACKTRACE=enable=yes is parsed later and still wins.
 *
 * _swift_backtraceSettings is runtime-internal: its first two fields are ints
 * (unwind algorithm, Auto = 0; enabled, Default = -1, Off = 0). Only exactly those
 * values are changed; another layout is left alone, and Tests/abi/check_crash.sh
 * (a crash with swift-backtrace findable) fails. The reference is weak: linked
 * against the dynamic Swift runtime, where the symbol is hidden, it is NULL. */
struct swift_backtrace_settings_head {
  int algorithm;
  int enabled;
};

extern struct swift_backtrace_settings_head _swift_backtraceSettings __attribute__((weak));

__attribute__((constructor(101))) static void backtracer_default_off(void) {
  struct swift_backtrace_settings_head *settings = &_swift_backtraceSettings;
  if (settings && settings->algorithm == 0 && settings->enabled == -1) settings->enabled = 0;
}
