/* Reflect padding (src/ops/ops_graph.c, conv's pm=reflect) on the device against a float64
 * reference (tests/ref/ref_graph.c) as numpy.pad(mode='reflect') does it (forward) and as its adjoint,
 * a scatter (backward: each padded position adds its gradient to the input it read), plus
 * central differences of sum(r * pad(x)) through the device forward, and refusals. --small:
 * tiny sizes for Oclgrind. Tolerances: graph_test.h (the backward sums <= 9 terms). */
#include "graph_test.h"

#define MSG(s) (snprintf(what, sizeof what, "%s (N=%d C=%d %dx%d p=%d)", (s), n, c, h, w, p), what)

static void run(clgan_ctx *ctx, int n, int c, int h, int w, int p) {
  int planes = n * c;
  char what[128];
  size_t nx = (size_t)planes * h * w, ny = (size_t)planes * (h + 2 * p) * (w + 2 * p);
  float *xf = gt_rand(nx, 51 + nx), *dyf = gt_rand(ny, 52 + ny), *dxf = gt_rand(nx, 53);
  tbuf bx = tb_new(ctx, xf, nx, 2), by = tb_new(ctx, NULL, ny, 5);
  tbuf bdy = tb_new(ctx, dyf, ny, 1), bdx = tb_new(ctx, dxf, nx, 3);
  double *xd = gt_d(xf, nx), *yd = gt_dalloc(ny), *dyd = gt_d(dyf, ny), *dxd = gt_dalloc(nx);
  CHECK_OK(clgan_reflect_pad_forward(ctx, n, c, h, w, p, tb_view(bx), tb_view(by)));
  ref_reflect_pad_forward(planes, h, w, p, xd, yd);
  GT_CHECK(ctx, by, yd, TOL_EXACT, MSG("reflect pad y"));
  CHECK_OK(clgan_reflect_pad_backward(ctx, n, c, h, w, p, tb_view(bdy), tb_view(bdx), 0));
  ref_reflect_pad_backward(planes, h, w, p, dyd, dxd, 0);
  GT_CHECK(ctx, bdx, dxd, TOL_SUM(9), MSG("reflect pad dx"));
  float *got = tu_alloc(nx);
  tb_get(ctx, bdx, got);
  double *base = gt_d(got, nx);
  CHECK_OK(clgan_reflect_pad_backward(ctx, n, c, h, w, p, tb_view(bdy), tb_view(bdx), 1));
  ref_reflect_pad_backward(planes, h, w, p, dyd, base, 1);
  GT_CHECK(ctx, bdx, base, TOL_SUM(18), MSG("reflect pad dx accumulate"));
  /* central differences of L = sum(r * pad(x)) (r = dy) through the device forward: L is
   * linear, so the difference quotient is exact up to float rounding of L */
  CHECK_OK(clgan_reflect_pad_backward(ctx, n, c, h, w, p, tb_view(bdy), tb_view(bdx), 0));
  tb_get(ctx, bdx, got);
  float *yf = tu_alloc(ny);
  int bad = 0;
  for (int k = 0; k < 12; k++) {
    size_t i = ((size_t)k * 7919 + 5) % nx;
    double l[2];
    for (int sgn = 0; sgn < 2; sgn++) {
      float keep = xf[i];
      xf[i] = keep + (sgn ? -0.25f : 0.25f);
      tb_set(ctx, bx, xf);
      xf[i] = keep;
      CHECK_OK(clgan_reflect_pad_forward(ctx, n, c, h, w, p, tb_view(bx), tb_view(by)));
      tb_get(ctx, by, yf);
      l[sgn] = 0.0;
      for (size_t j = 0; j < ny; j++) l[sgn] += (double)dyf[j] * yf[j];
    }
    double fd = (l[0] - l[1]) / 0.5;
    if (fabs(fd - got[i]) > 1e-5 + 1e-5 * fabs(fd)) {
      bad++;
      fprintf(stderr, "reflect pad x[%zu]: analytic %.7g, finite difference %.7g\n", i, got[i], fd);
    }
  }
  tb_set(ctx, bx, xf);
  CHECK(bad == 0, "%s", MSG("reflect pad: finite differences disagree"));
  GT_GUARDS_FREE(ctx, "reflect pad guards", &bx, &by, &bdy, &bdx);
  free(xf), free(dyf), free(dxf), free(xd), free(yd), free(dyd), free(dxd), free(base);
  free(got), free(yf);
}

int main(int argc, char **argv) {
  int small = nn_small(argc, argv);
  clgan_ctx *ctx = tu_open_device();
  run(ctx, 1, 1, 2, 2, 1);   /* the smallest: every position reflects */
  run(ctx, 2, 3, 5, 4, 3);   /* p = h - 2, p = w - 1: both mirrors at once */
  run(ctx, 1, 2, 4, 7, 1);
  if (!small) {
    run(ctx, 4, 8, 32, 32, 1);
    run(ctx, 2, 3, 16, 9, 3);
  }
  tbuf b = tb_new(ctx, NULL, 64, 0);
  clgan_status s = clgan_reflect_pad_forward(ctx, 1, 1, 3, 3, 3, tb_view(b), tb_view(b));
  CHECK(s == CLGAN_ERR_INVALID_ARG && strstr(clgan_last_error(), "larger"),
        "pad 3 of a 3x3 input: %s", clgan_last_error());
  s = clgan_reflect_pad_backward(ctx, 1, 1, 3, 3, 0, tb_view(b), tb_view(b), 0);
  CHECK(s == CLGAN_ERR_INVALID_ARG, "pad 0: %s", clgan_status_name(s));
  tb_free(&b);
  clgan_ctx_free(ctx);
  return tu_finish("test_graph_reflect");
}
