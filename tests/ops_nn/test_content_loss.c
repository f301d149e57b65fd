/* Image-to-image losses (src/ops/ops_loss.c): the content loss (L1, MSE; plain, scaled,
 * accumulated) against a float64 reference (tests/ref/ref_nn.c), and a PatchGAN's map of logits: the GAN
 * loss over batch x patches equals the mean over images of each image's mean patch loss,
 * with gradient scale / (batch * patches) (vs tests/ref/ref_nn.c's per-logit loss).
 * --small: tiny sizes for Oclgrind. */
#include "nn_test.h"

/* Tolerances, abs + rel*|ref|:
 * mean loss: a float sum of n terms of size O(1) in a tree: 1e-5 relative + 1e-7 absolute
 *   (plus 1e-6 for the patch loss, whose terms reach 100).
 * gradient: L1's sign(d) * scale / n is exact up to the one float product; MSE's 2d *
 *   scale / n a few ulp: 1e-6 relative + 1e-9 * |scale| / n absolute. */

static void run_content(clgan_ctx *ctx, int kind, size_t n, float scale, int acc, int with_grad) {
  float *a = tu_alloc(n), *b = tu_alloc(n), *d0 = tu_alloc(n), *d = tu_alloc(n), *want = tu_alloc(n);
  double *g = malloc(n * sizeof *g), loss;
  ref_fill_uniform(a, n, 11 + (unsigned)n);
  ref_fill_uniform(b, n, 12 + (unsigned)n);
  ref_fill_uniform(d0, n, 13 + (unsigned)n);
  if (n > 3) b[2] = a[2], b[3] = a[3]; /* d = 0: L1's gradient is 0 there, as torch.sign */
  tbuf ba = tb_new(ctx, a, n, 3), bb = tb_new(ctx, b, n, 5), bo = tb_new(ctx, NULL, 1, 2);
  tbuf bd = tb_new(ctx, d0, n, 1);
  CHECK_OK(clgan_content_loss(ctx, (clgan_content)kind, n, tb_view(ba), tb_view(bb), scale,
                              tb_view(bo), with_grad ? tb_view(bd) : CLGAN_NONE, acc));
  ref_content_loss(kind, n, a, b, scale, &loss, g);
  float out, wl = (float)loss;
  tb_get(ctx, bo, &out);
  char what[128];
  snprintf(what, sizeof what, "%s n=%zu scale=%g acc=%d: mean loss",
           kind == CLGAN_CONTENT_L1 ? "l1" : "mse", n, scale, acc);
  CHECK_CLOSE(&out, &wl, 1, 1e-7, 1e-5, what);
  tb_get(ctx, bd, d);
  for (size_t i = 0; i < n; i++)
    want[i] = !with_grad ? d0[i] : (float)((acc ? (double)d0[i] : 0.0) + g[i]);
  snprintf(what, sizeof what, "%s n=%zu scale=%g acc=%d grad=%d: da",
           kind == CLGAN_CONTENT_L1 ? "l1" : "mse", n, scale, acc, with_grad);
  CHECK_CLOSE(d, want, n, 1e-9 * fabs(scale) / (double)n, 1e-6, what);
  if (kind == CLGAN_CONTENT_L1 && with_grad && !acc && n > 3)
    CHECK(d[2] == 0.0f && d[3] == 0.0f, "l1: gradient at a == b is %g, %g (want 0)", d[2], d[3]);
  CHECK(tb_guards_ok(ctx, ba) && tb_guards_ok(ctx, bb) && tb_guards_ok(ctx, bo) &&
        tb_guards_ok(ctx, bd), "content n=%zu: written outside a view", n);
  tb_free(&ba), tb_free(&bb), tb_free(&bo), tb_free(&bd);
  free(a), free(b), free(d0), free(d), free(want), free(g);
}

/* A (batch, 1, h, w) map of logits through the GAN loss with n = batch * h * w, against
 * the per-image mean of per-patch losses (float64) averaged over the batch. */
static void run_patch(clgan_ctx *ctx, int kind, float t, int batch, int hw, float scale) {
  int n = batch * hw;
  float *x = tu_alloc((size_t)n), *d = tu_alloc((size_t)n), *want = tu_alloc((size_t)n);
  float *unused = tu_alloc((size_t)n), ref2[2];
  ref_fill_uniform(x, (size_t)n, 77 + (unsigned)n);
  for (int i = 0; i < n; i++) x[i] *= 5.0f;
  tbuf bx = tb_new(ctx, x, (size_t)n, 4), bo = tb_new(ctx, NULL, 2, 1), bd = tb_new(ctx, NULL, (size_t)n, 0);
  CHECK_OK(clgan_loss_forward_backward(ctx, (clgan_loss)kind, t, n, tb_view(bx), scale,
                                       tb_view(bo), tb_view(bd)));
  double mean = 0.0;
  for (int b = 0; b < batch; b++) {
    double img = 0.0;
    for (int p = 0; p < hw; p++) img += ref_loss_f64(kind, t, x[b * hw + p]);
    mean += img / hw / batch;
  }
  /* each logit's gradient: that patch's loss derivative (ref at scale 1 over one logit),
   * times scale / (batch * patches) */
  for (int i = 0; i < n; i++) {
    float gi;
    ref_loss_forward_backward(kind, t, 1, &x[i], 1.0f, ref2, &gi);
    want[i] = (float)((double)gi * scale / n);
  }
  float out[2], wm = (float)mean;
  tb_get(ctx, bo, out);
  tb_get(ctx, bd, d);
  char what[96];
  snprintf(what, sizeof what, "patch map kind %d batch %d x %d patches: mean loss", kind, batch, hw);
  CHECK_CLOSE(out, &wm, 1, 1e-6, 1e-5, what);
  snprintf(what, sizeof what, "patch map kind %d batch %d x %d patches: dlogits", kind, batch, hw);
  CHECK_CLOSE(d, want, (size_t)n, 1e-7 * fabs(scale) / n, 1e-5, what);
  tb_free(&bx), tb_free(&bo), tb_free(&bd);
  free(x), free(d), free(want), free(unused);
}

int main(int argc, char **argv) {
  int small = nn_small(argc, argv);
  clgan_ctx *ctx = tu_open_device();
  const size_t full[] = {1, 5, 256, 1000, 3 * 32 * 32 * 4}, tiny[] = {1, 5, 70};
  const size_t *ns = small ? tiny : full;
  int count = small ? 3 : 5;
  for (int kind = CLGAN_CONTENT_L1; kind <= CLGAN_CONTENT_MSE; kind++)
    for (int i = 0; i < count; i++) {
      run_content(ctx, kind, ns[i], 100.0f, 0, 1);
      run_content(ctx, kind, ns[i], 1.0f, 1, 1);   /* added to an adversarial gradient */
      if (i == 1) run_content(ctx, kind, ns[i], 3.0f, 0, 0); /* loss only */
    }
  /* pix2pix's 30x30-style maps, smaller here: 2 x (3x3), 4 x (8x8); D's loss halved */
  run_patch(ctx, CLGAN_LOSS_BCE, 1.0f, 2, 9, 0.5f);
  run_patch(ctx, CLGAN_LOSS_BCE, 0.0f, 2, 9, 0.5f);
  run_patch(ctx, CLGAN_LOSS_SQUARED, 1.0f, small ? 2 : 4, small ? 4 : 64, 1.0f);
  if (!small) run_patch(ctx, CLGAN_LOSS_BCE, 1.0f, 4, 64, 1.0f);
  tbuf b = tb_new(ctx, NULL, 4, 0);
  clgan_status s = clgan_content_loss(ctx, (clgan_content)9, 4, tb_view(b), tb_view(b), 1.0f,
                                      tb_view(b), CLGAN_NONE, 0);
  CHECK(s == CLGAN_ERR_INVALID_ARG, "unknown content loss: %s", clgan_status_name(s));
  s = clgan_content_loss(ctx, CLGAN_CONTENT_L1, 0, tb_view(b), tb_view(b), 1.0f, tb_view(b),
                         CLGAN_NONE, 0);
  CHECK(s == CLGAN_ERR_INVALID_ARG, "empty content loss: %s", clgan_status_name(s));
  tb_free(&b);
  clgan_ctx_free(ctx);
  return tu_finish("test_content_loss");
}
