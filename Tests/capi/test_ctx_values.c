/* Go's Values test: lookup towards the root, the nearest binding wins, keys
 * compare by address; a value's destructor runs once when its context is
 * freed (after the last reference, including children's). */
#include "check.h"

/* Distinct objects: string literals need not be (the comparison is by address). */
static char v_c1k1[] = "c1k1";
static char v_c2k2[] = "c2k2";
static char v_c4k1[] = "c4k1";

#include <stdatomic.h>

static int k1, k2, k3;
static atomic_int freed;
static void dtor(void *v) {
  CHECK(v == &k3);
  atomic_fetch_add(&freed, 1);
}

int main(void) {
  weft_ctx_t *c1, *c2, *c3, *c4;
  CHECK(weft_ctx_value(NULL, &k1) == NULL);
  CHECK_OK(weft_ctx_with_value(NULL, &k1, (void *)v_c1k1, NULL, &c1));
  CHECK(weft_ctx_value(c1, &k1) == (void *)v_c1k1);
  CHECK(weft_ctx_value(c1, &k2) == NULL);
  CHECK_OK(weft_ctx_with_value(c1, &k2, (void *)v_c2k2, NULL, &c2));
  CHECK(weft_ctx_value(c2, &k1) == (void *)v_c1k1);
  CHECK(weft_ctx_value(c2, &k2) == (void *)v_c2k2);
  CHECK_OK(weft_ctx_with_cancel(c2, &c3));
  CHECK_OK(weft_ctx_with_value(c3, &k1, (void *)v_c4k1, NULL, &c4));
  CHECK(weft_ctx_value(c4, &k1) == (void *)v_c4k1);
  CHECK(weft_ctx_value(c4, &k2) == (void *)v_c2k2);
  CHECK(weft_ctx_value(c3, &k1) == (void *)v_c1k1);
  CHECK(weft_ctx_value(c4, &k3) == NULL);
  /* the destructor runs when the last reference (here: a child) goes */
  weft_ctx_t *owner, *child;
  CHECK_OK(weft_ctx_with_value(c4, &k3, &k3, dtor, &owner));
  CHECK_OK(weft_ctx_with_cancel(owner, &child));
  CHECK_OK(weft_ctx_release(owner));
  CHECK(atomic_load(&freed) == 0);
  CHECK(weft_ctx_value(child, &k3) == &k3);
  CHECK_OK(weft_ctx_cancel(c3)); /* values stay readable after cancel */
  CHECK(weft_ctx_value(child, &k3) == &k3);
  CHECK_CODE(weft_ctx_err(child), WEFT_ECANCELED);
  CHECK_OK(weft_ctx_release(child));
  CHECK(atomic_load(&freed) == 1);
  weft_ctx_t *all[4] = {c4, c3, c2, c1};
  for (int i = 0; i < 4; i++) CHECK_OK(weft_ctx_release(all[i]));
  CHECK(atomic_load(&freed) == 1);
  return 0;
}
