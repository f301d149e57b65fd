/* Device softmax cross-entropy (src/ops/ops_loss.c) against tests/ref/ref_nn.c: mean loss,
 * accuracy and dlogits for several shapes, logits up to +-80 (max-subtraction), loss only,
 * bit-identical repeats, argument errors. --small: tiny batches for Oclgrind. */
#include "nn_test.h"

/* Tolerances, abs + rel*|ref|:
 * loss: float exp/log within a few ulp per term, k-term float sums per row and a tree of
 *   n rows: 1e-5 relative plus 1e-6 absolute.
 * accuracy: exact (a count over n; logits are drawn without ties).
 * dlogits: a softmax (k exps, one division) minus 0/1, times scale/n: 2e-6 * |scale| / n
 *   absolute plus 1e-5 relative. */

static void run(clgan_ctx *ctx, int n, int k, float spread, float scale, int with_grad) {
  size_t nk = (size_t)n * k;
  float *x = tu_alloc(nk), *d = tu_alloc(nk), *want = tu_alloc(nk);
  int32_t *y = malloc(sizeof(int32_t) * (size_t)n);
  float out2[2], want2[2];
  ref_fill_uniform(x, nk, 91 + (unsigned)(n * 31 + k));
  for (size_t i = 0; i < nk; i++) x[i] *= spread;
  for (int i = 0; i < n; i++) {
    y[i] = (int32_t)((i * 7 + 3) % k);
    if (i % 3 == 0) x[(size_t)i * k + y[i]] += spread; /* some rows right, some wrong */
  }
  tbuf bx = tb_new(ctx, x, nk, 5), bo = tb_new(ctx, NULL, 2, 3), bd = tb_new(ctx, NULL, nk, 2);
  /* labels at an int32 offset of 4, guards around them are not needed (read only) */
  int32_t *lab = calloc((size_t)n + 4, sizeof(int32_t));
  memcpy(lab + 4, y, sizeof(int32_t) * (size_t)n);
  cl_mem lm = tu_upload(ctx, (const float *)lab, (size_t)n + 4);
  CHECK_OK(clgan_softmax_xent(ctx, n, k, tb_view(bx), CLGAN_VIEW(lm, 4), scale, tb_view(bo),
                              with_grad ? tb_view(bd) : CLGAN_NONE));
  ref_softmax_xent(n, k, x, y, scale, want2, want);
  char what[128];
  snprintf(what, sizeof what, "softmax_xent n=%d k=%d spread=%g: loss", n, k, spread);
  tb_get(ctx, bo, out2);
  CHECK_CLOSE(out2, want2, 1, 1e-6, 1e-5, what);
  CHECK(out2[1] == want2[1], "n=%d k=%d: accuracy %g, reference %g", n, k, out2[1], want2[1]);
  if (with_grad) {
    tb_get(ctx, bd, d);
    snprintf(what, sizeof what, "softmax_xent n=%d k=%d scale=%g: dlogits", n, k, scale);
    CHECK_CLOSE(d, want, nk, 2e-6 * fabs(scale) / n, 1e-5, what);
    /* again: the same bits */
    float again[2], *d2 = tu_alloc(nk);
    CHECK_OK(clgan_softmax_xent(ctx, n, k, tb_view(bx), CLGAN_VIEW(lm, 4), scale, tb_view(bo),
                                tb_view(bd)));
    tb_get(ctx, bo, again);
    tb_get(ctx, bd, d2);
    CHECK(!memcmp(again, out2, sizeof again) && !memcmp(d2, d, nk * sizeof(float)),
          "n=%d k=%d: a second call gave other bits", n, k);
    free(d2);
  }
  CHECK(tb_guards_ok(ctx, bx) && tb_guards_ok(ctx, bo) && tb_guards_ok(ctx, bd),
        "n=%d k=%d: written outside a view (or dlogits written when NONE)", n, k);
  clReleaseMemObject(lm);
  tb_free(&bx);
  tb_free(&bo);
  tb_free(&bd);
  free(lab);
  free(x);
  free(d);
  free(want);
  free(y);
}

int main(int argc, char **argv) {
  int small = nn_small(argc, argv);
  clgan_ctx *ctx = tu_open_device();
  const struct { int n, k; } full[] = {{1, 2}, {7, 10}, {64, 10}, {65, 3}, {300, 10}, {33, 100}},
                             tiny[] = {{1, 2}, {7, 10}, {17, 3}};
  int count = small ? 3 : 6;
  for (int i = 0; i < count; i++) {
    int n = small ? tiny[i].n : full[i].n, k = small ? tiny[i].k : full[i].k;
    run(ctx, n, k, 3.0f, 1.0f, 1);
    run(ctx, n, k, 80.0f, 1.0f, 1);
    if (i == 1) run(ctx, n, k, 3.0f, -0.5f, 0);
  }
  tbuf b = tb_new(ctx, NULL, 4, 0);
  clgan_status s = clgan_softmax_xent(ctx, 0, 10, tb_view(b), tb_view(b), 1.0f, tb_view(b),
                                      CLGAN_NONE);
  CHECK(s == CLGAN_ERR_INVALID_ARG, "empty batch: %s", clgan_status_name(s));
  s = clgan_softmax_xent(ctx, 2, 1, tb_view(b), tb_view(b), 1.0f, tb_view(b), CLGAN_NONE);
  CHECK(s == CLGAN_ERR_INVALID_ARG, "one class: %s", clgan_status_name(s));
  s = clgan_softmax_xent(ctx, 2, 2, tb_view(b), CLGAN_NONE, 1.0f, tb_view(b), CLGAN_NONE);
  CHECK(s == CLGAN_ERR_INVALID_ARG, "no labels: %s", clgan_status_name(s));
  tb_free(&b);
  clgan_ctx_free(ctx);
  return tu_finish("test_softmax_xent");
}
