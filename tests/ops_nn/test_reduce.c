/* Device reductions (src/ops/ops_reduce.c) against tests/ref/ref_nn.c: sum, sum of squares and
 * the mean pairwise L2 distance, each bit-identical when repeated. --small: for Oclgrind. */
#include "nn_test.h"

/* Tolerances, abs + rel*|ref|:
 * sum, sumsq: float sums in a fixed tree; the error is bounded by a few float epsilons
 *   times sum |x_i| (cancellation can make the result itself small): abs = 1e-6 * sum|x|,
 *   rel = 1e-6.
 * pairwise mean: each distance is a float sum of d squares, then a tree over the pairs:
 *   abs 1e-7 + rel 1e-5. */

static void sums(clgan_ctx *ctx, size_t n) {
  float *x = tu_alloc(n);
  ref_fill_uniform(x, n, 71 + n);
  for (size_t i = 0; i < n; i++) x[i] = x[i] * 2.0f + 0.25f;
  double abs_sum = 0.0;
  for (size_t i = 0; i < n; i++) abs_sum += fabs(x[i]);
  tbuf bx = tb_new(ctx, x, n, 5), bo = tb_new(ctx, NULL, 2, 3);
  float got[2], again[2], want[2] = {(float)ref_sum(n, x), (float)ref_sumsq(n, x)};
  CHECK_OK(clgan_reduce_sum(ctx, n, tb_view(bx), tb_view(bo)));
  CHECK_OK(clgan_reduce_sumsq(ctx, n, tb_view(bx), clgan_view_at(tb_view(bo), 1)));
  tb_get(ctx, bo, got);
  char what[64];
  snprintf(what, sizeof what, "sum n=%zu", n);
  CHECK_CLOSE(got, want, 1, 1e-6 * abs_sum, 1e-6, what);
  snprintf(what, sizeof what, "sumsq n=%zu", n);
  CHECK_CLOSE(got + 1, want + 1, 1, 1e-6 * want[1], 1e-6, what);
  CHECK_OK(clgan_reduce_sum(ctx, n, tb_view(bx), tb_view(bo)));
  CHECK_OK(clgan_reduce_sumsq(ctx, n, tb_view(bx), clgan_view_at(tb_view(bo), 1)));
  tb_get(ctx, bo, again);
  CHECK(!memcmp(got, again, sizeof got), "n=%zu: repeated reductions differ (%.9g %.9g)", n,
        got[0], again[0]);
  CHECK(tb_guards_ok(ctx, bx) && tb_guards_ok(ctx, bo), "sum n=%zu wrote outside its view", n);
  tb_free(&bx);
  tb_free(&bo);
  free(x);
}

/* collapse: every row the same plus noise of that size (0 = identical rows) */
static void pairwise(clgan_ctx *ctx, int n, int d, float collapse) {
  size_t total = (size_t)n * d;
  float *x = tu_alloc(total);
  ref_fill_uniform(x, total, 81 + total);
  if (collapse >= 0.0f)
    for (size_t i = 0; i < total; i++) x[i] = 0.5f + collapse * x[i] + 0.25f * x[i % d];
  tbuf bx = tb_new(ctx, x, total, 1), bo = tb_new(ctx, NULL, 1, 2);
  float got, again, want = (float)ref_pairwise_distance_mean(n, d, x);
  CHECK_OK(clgan_pairwise_distance_mean(ctx, n, d, tb_view(bx), tb_view(bo)));
  tb_get(ctx, bo, &got);
  char what[96];
  snprintf(what, sizeof what, "pairwise mean n=%d d=%d collapse=%g", n, d, collapse);
  CHECK_CLOSE(&got, &want, 1, 1e-7, 1e-5, what);
  CHECK_OK(clgan_pairwise_distance_mean(ctx, n, d, tb_view(bx), tb_view(bo)));
  tb_get(ctx, bo, &again);
  CHECK(got == again, "%s: repeated calls differ", what);
  CHECK(tb_guards_ok(ctx, bo), "%s: wrote outside the output view", what);
  tb_free(&bx);
  tb_free(&bo);
  free(x);
}

int main(int argc, char **argv) {
  int small = nn_small(argc, argv);
  clgan_ctx *ctx = tu_open_device();
  const size_t full[] = {1, 7, 31, 32, 33, 63, 64, 65, 1000, 100003}, tiny[] = {1, 7, 33, 300, 9000};
  size_t count = small ? 5 : 10;
  for (size_t i = 0; i < count; i++) sums(ctx, small ? tiny[i] : full[i]);
  pairwise(ctx, 1, 5, -1.0f);
  pairwise(ctx, 2, 3, -1.0f);
  pairwise(ctx, 5, 33, -1.0f);
  pairwise(ctx, 4, 7, 0.0f);
  pairwise(ctx, 24, 70, -1.0f); /* 276 pairs: more than one pair per group */
  if (!small) {
    pairwise(ctx, 7, 33, -1.0f);
    pairwise(ctx, 65, 100, -1.0f);
    pairwise(ctx, 64, 784, 1e-3f);  /* near collapse: no cancellation to noise */
    pairwise(ctx, 256, 784, -1.0f); /* the largest batch */
    pairwise(ctx, 16, 12288, -1.0f); /* the widest rows (64x64x3) */
  }
  tbuf b = tb_new(ctx, NULL, 1, 0);
  clgan_status s = clgan_pairwise_distance_mean(ctx, 4, 0, tb_view(b), tb_view(b));
  CHECK(s == CLGAN_ERR_INVALID_ARG, "d = 0: %s", clgan_status_name(s));
  CHECK_OK(clgan_reduce_sum(ctx, 0, CLGAN_NONE, tb_view(b)));
  float z = 1.0f;
  tb_get(ctx, b, &z);
  CHECK(z == 0.0f, "empty sum is %g", z);
  tb_free(&b);
  clgan_ctx_free(ctx);
  return tu_finish("test_reduce");
}
