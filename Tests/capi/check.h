/* Tiny assertion helpers for the C ABI tests: one test program per topic, exit
 * status 0 = pass. The runner (run.sh) runs each in its own process. */
#ifndef WEFT_TEST_CHECK_H
#define WEFT_TEST_CHECK_H

#include "weft.h"

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                             \
    }                                                                      \
  } while (0)

/* Checks that expr returns the code want, printing both names if not. */
#define CHECK_CODE(expr, want)                                             \
  do {                                                                     \
    int check_got_ = (expr);                                               \
    if (check_got_ != (want)) {                                            \
      fprintf(stderr, "%s:%d: %s returned %s (%d), want %s\n", __FILE__,   \
              __LINE__, #expr, weft_err_name(check_got_), check_got_,      \
              weft_err_name(want));                                        \
      exit(1);                                                             \
    }                                                                      \
  } while (0)

#define CHECK_OK(expr) CHECK_CODE(expr, 0)

#endif
