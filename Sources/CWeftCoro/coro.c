#define _GNU_SOURCE
#include "cweft_coro.h"

#include <pthread.h>

#include <stdint.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CWEFT_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define CWEFT_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define CWEFT_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define CWEFT_TSAN 1
#endif

#ifdef CWEFT_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom,
                                    size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
                                     size_t *size_old);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#endif

#ifdef CWEFT_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

/* Implemented in switch_x86_64.S / switch_aarch64.S. */
void cweft_switch_raw(void **save_sp, void *load_sp);
void cweft_trampoline(void);

/* initial-exec: a direct %fs access instead of a __tls_get_addr call per switch;
 * the few bytes come from the static TLS surplus glibc keeps for dlopen. */
static __thread __attribute__((tls_model("initial-exec"))) void *tls_slot;

void *cweft_tls_get(void) { return tls_slot; }
void cweft_tls_set(void *value) { tls_slot = value; }

void cweft_context_make(cweft_context *ctx, void *bottom, size_t size,
                        cweft_entry entry, void *arg) {
#ifdef CWEFT_ASAN
  /* A reused stack still carries the redzones of frames its last task never
   * returned from. */
  __asan_unpoison_memory_region(bottom, size);
#endif
  uintptr_t top = ((uintptr_t)bottom + size) & ~(uintptr_t)15;
  void **sp = (void **)top;
#if defined(__x86_64__)
  /* Popped by cweft_switch_raw: fp control, r15, r14, r13, r12, rbx, rbp, ret.
   * The ret into the trampoline leaves rsp at top: 16-byte aligned, as a
   * call expects. */
  *--sp = (void *)cweft_trampoline;          /* return address */
  *--sp = 0;                                 /* rbp */
  *--sp = 0;                                 /* rbx */
  *--sp = (void *)entry;                     /* r12 */
  *--sp = arg;                               /* r13 */
  *--sp = 0;                                 /* r14 */
  *--sp = 0;                                 /* r15 */
  *--sp = (void *)(uintptr_t)(0x1F80u | ((uint64_t)0x037Fu << 32)); /* MXCSR, x87 CW */
#elif defined(__aarch64__)
  /* A 176-byte frame: x19..x30, d8..d15, fpcr (see switch_aarch64.S). */
  sp -= 22;
  for (int i = 0; i < 22; i++) sp[i] = 0;
  sp[0] = (void *)entry;                     /* x19 */
  sp[1] = arg;                               /* x20 */
  sp[11] = (void *)cweft_trampoline;         /* x30 */
#else
#error "Weft supports x86_64 and aarch64"
#endif
  ctx->sp = sp;
  ctx->stack_bottom = bottom;
  ctx->stack_size = size;
#ifdef CWEFT_TSAN
  /* A record's context is made again for every task that reuses it. */
  if (ctx->sanitizer) __tsan_destroy_fiber(ctx->sanitizer);
  ctx->sanitizer = __tsan_create_fiber(0);
#else
  ctx->sanitizer = 0;
#endif
}

void cweft_context_init_thread(cweft_context *ctx) {
  pthread_attr_t attr;
  void *bottom = 0;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, &bottom, &size);
    pthread_attr_destroy(&attr);
  }
  ctx->stack_bottom = bottom;
  ctx->stack_size = size;
#ifdef CWEFT_TSAN
  ctx->sanitizer = __tsan_get_current_fiber();
#endif
}

void cweft_memory_unpoison(void *addr, size_t size) {
#ifdef CWEFT_ASAN
  __asan_unpoison_memory_region(addr, size);
#else
  (void)addr;
  (void)size;
#endif
}

void cweft_context_started(void) {
#ifdef CWEFT_ASAN
  __sanitizer_finish_switch_fiber(0, 0, 0);
#endif
}

void cweft_context_switch(cweft_context *from, cweft_context *to) {
#ifdef CWEFT_ASAN
  __sanitizer_start_switch_fiber(&from->sanitizer, to->stack_bottom, to->stack_size);
#endif
#ifdef CWEFT_TSAN
  __tsan_switch_to_fiber(to->sanitizer, 0);
#endif
  cweft_switch_raw(&from->sp, to->sp);
#ifdef CWEFT_ASAN
  __sanitizer_finish_switch_fiber(from->sanitizer, 0, 0);
#endif
}
