/* Device GAN losses (src/ops/ops_loss.c) against tests/ref/ref_nn.c: every kind and target,
 * mean loss, mean sigmoid and dlogits, logits up to +-100. --small: tiny batches for Oclgrind. */
#include "nn_test.h"

/* Tolerances, abs + rel*|ref|:
 * out2 (mean loss, mean sigmoid): float sums of n terms in a tree, OpenCL exp/log1p within a
 *   few ulp: 1e-5 relative, plus 1e-6 * (1 + mean |loss term|) absolute, because the terms
 *   of the linear loss have both signs and may cancel.
 * dlogits: a few float operations on an O(1) derivative, times scale/n: 1e-5 relative plus
 *   1e-7 * |scale| / n absolute. */

static const char *loss_name[] = {"bce", "minimax_g", "squared", "hinge", "linear"};

static void run(clgan_ctx *ctx, int kind, float target, int n, float scale, int with_grad) {
  float *x = tu_alloc((size_t)n), *d = tu_alloc((size_t)n), *want = tu_alloc((size_t)n);
  float out2[2], want2[2];
  ref_fill_uniform(x, (size_t)n, 41 + (unsigned)n);
  for (int i = 0; i < n; i++) x[i] *= 6.0f;
  if (n > 4) x[1] = 100.0f, x[2] = -100.0f, x[3] = 1.0f, x[4] = -1.0f; /* extremes, hinge kinks */
  tbuf bx = tb_new(ctx, x, (size_t)n, 7), bo = tb_new(ctx, NULL, 2, 3);
  tbuf bd = tb_new(ctx, NULL, (size_t)n, 2);
  CHECK_OK(clgan_loss_forward_backward(ctx, (clgan_loss)kind, target, n, tb_view(bx), scale,
                                       tb_view(bo), with_grad ? tb_view(bd) : CLGAN_NONE));
  ref_loss_forward_backward(kind, target, n, x, scale, want2, want);
  char what[128];
  snprintf(what, sizeof what, "%s t=%g n=%d: out2 (mean loss, mean sigmoid)", loss_name[kind],
           target, n);
  tb_get(ctx, bo, out2);
  double mean_abs = 0.0;
  for (int i = 0; i < n; i++) mean_abs += fabs(ref_loss_f64(kind, target, x[i])) / n;
  CHECK_CLOSE(out2, want2, 2, 1e-6 * (1.0 + mean_abs), 1e-5, what);
  CHECK(isfinite(out2[0]) && isfinite(out2[1]), "%s: not finite", what);
  if (with_grad) {
    tb_get(ctx, bd, d);
    snprintf(what, sizeof what, "%s t=%g n=%d scale=%g: dlogits", loss_name[kind], target, n,
             scale);
    CHECK_CLOSE(d, want, (size_t)n, 1e-7 * fabs(scale) / n, 1e-5, what);
  }
  CHECK(tb_guards_ok(ctx, bx) && tb_guards_ok(ctx, bo) && tb_guards_ok(ctx, bd),
        "%s t=%g n=%d: written outside a view (or dlogits written when NONE)", loss_name[kind],
        target, n);
  tb_free(&bx);
  tb_free(&bo);
  tb_free(&bd);
  free(x);
  free(d);
  free(want);
}

int main(int argc, char **argv) {
  int small = nn_small(argc, argv);
  clgan_ctx *ctx = tu_open_device();
  const struct { int kind; float t; } cases[] = {
      {CLGAN_LOSS_BCE, 1.0f},     {CLGAN_LOSS_BCE, 0.0f},    {CLGAN_LOSS_BCE, 0.9f},
      {CLGAN_LOSS_MINIMAX_G, 0.0f}, {CLGAN_LOSS_SQUARED, 1.0f}, {CLGAN_LOSS_SQUARED, 0.0f},
      {CLGAN_LOSS_HINGE, 1.0f},   {CLGAN_LOSS_HINGE, -1.0f}, {CLGAN_LOSS_LINEAR, 1.0f},
      {CLGAN_LOSS_LINEAR, -1.0f}};
  const int full[] = {1, 7, 64, 65, 300, 1000}, tiny[] = {1, 7, 65};
  const int *ns = small ? tiny : full;
  int count = small ? 3 : 6;
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
    for (int i = 0; i < count; i++) {
      run(ctx, cases[c].kind, cases[c].t, ns[i], 1.0f, 1);
      if (i == 1) run(ctx, cases[c].kind, cases[c].t, ns[i], -0.5f, 0); /* loss only */
    }
  tbuf b = tb_new(ctx, NULL, 4, 0);
  clgan_status s = clgan_loss_forward_backward(ctx, (clgan_loss)7, 1.0f, 4, tb_view(b), 1.0f,
                                               tb_view(b), CLGAN_NONE);
  CHECK(s == CLGAN_ERR_INVALID_ARG, "unknown loss: %s", clgan_status_name(s));
  s = clgan_loss_forward_backward(ctx, CLGAN_LOSS_BCE, 1.0f, 0, tb_view(b), 1.0f, tb_view(b),
                                  CLGAN_NONE);
  CHECK(s == CLGAN_ERR_INVALID_ARG, "empty batch: %s", clgan_status_name(s));
  tb_free(&b);
  clgan_ctx_free(ctx);
  return tu_finish("test_loss");
}
