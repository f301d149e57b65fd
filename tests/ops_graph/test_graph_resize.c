/* Interpolating upsampling (src/ops/ops_graph.c, the `upsample k mode=bilinear|bicubic` node)
 * on the device against a float64 reference written here as dense 1-D matrices,
 * y = A_h x A_w^T per plane and dx = A_h^T dy A_w (an independent formulation of the
 * kernels' tap loops), plus: mode=bicubic against the library's MATLAB bicubic
 * (clgan_upscale_bicubic, the super-resolution baseline); bilinear against values worked by
 * hand from nn.Upsample(mode='bilinear', align_corners=False); central differences of
 * sum(r * up(x)) through the device forward; refusals. --small: tiny sizes for Oclgrind.
 * Tolerances: a forward value is a 16-term sum of products of weights (|w| <= 1, sum 1) and
 * inputs in [-1, 1), the weights themselves computed in float: TOL_SUM(16) plus 1e-6 abs; a
 * backward value gathers at most (4k)^2 terms: TOL_SUM(16 k^2). */
#include "graph_test.h"

#include "clgan/photo.h"

#define MSG(s) \
  (snprintf(what, sizeof what, "%s (mode %d N=%d C=%d %dx%d k=%d)", (s), mode, n, c, h, w, k), what)

static int mirror(int i, int n) {
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - 1 - i;
  return i;
}

static double cubic(double x) {
  double a = fabs(x);
  if (a <= 1) return 1.5 * a * a * a - 2.5 * a * a + 1;
  if (a <= 2) return -0.5 * a * a * a + 2.5 * a * a - 4 * a + 2;
  return 0;
}

/* A (n*k, n): row o = the weights output o gives each input */
static double *matrix(int mode, int n, int k) {
  double *a = gt_dalloc((size_t)n * k * n);
  for (int o = 0; o < n * k; o++) {
    double c = (o + 0.5) / k - 0.5;
    double *row = a + (size_t)o * n;
    if (mode == CLGAN_UPSAMPLE_BILINEAR) {
      if (c < 0) c = 0;
      int i0 = (int)floor(c), i1 = i0 < n - 1 ? i0 + 1 : i0;
      row[i0] += 1 - (c - i0);
      row[i1] += c - i0;
    } else {
      int f = (int)floor(c);
      for (int i = f - 1; i <= f + 2; i++) row[mirror(i, n)] += cubic(c - i);
    }
  }
  return a;
}

static void ref_forward(int mode, int planes, int h, int w, int k, const double *x, double *y) {
  double *ah = matrix(mode, h, k), *aw = matrix(mode, w, k);
  int H = h * k, W = w * k;
  for (int p = 0; p < planes; p++)
    for (int oy = 0; oy < H; oy++)
      for (int ox = 0; ox < W; ox++) {
        double s = 0;
        for (int iy = 0; iy < h; iy++)
          for (int ix = 0; ix < w; ix++)
            s += ah[(size_t)oy * h + iy] * x[((size_t)p * h + iy) * w + ix] * aw[(size_t)ox * w + ix];
        y[((size_t)p * H + oy) * W + ox] = s;
      }
  free(ah), free(aw);
}

static void ref_backward(int mode, int planes, int h, int w, int k, const double *dy, double *dx,
                         int acc) {
  double *ah = matrix(mode, h, k), *aw = matrix(mode, w, k);
  int H = h * k, W = w * k;
  for (int p = 0; p < planes; p++)
    for (int iy = 0; iy < h; iy++)
      for (int ix = 0; ix < w; ix++) {
        double s = 0;
        for (int oy = 0; oy < H; oy++)
          for (int ox = 0; ox < W; ox++)
            s += ah[(size_t)oy * h + iy] * dy[((size_t)p * H + oy) * W + ox] * aw[(size_t)ox * w + ix];
        size_t i = ((size_t)p * h + iy) * w + ix;
        dx[i] = acc ? dx[i] + s : s;
      }
  free(ah), free(aw);
}

static void run(clgan_ctx *ctx, int mode, int n, int c, int h, int w, int k) {
  int planes = n * c;
  char what[160];
  size_t nx = (size_t)planes * h * w, ny = nx * k * k;
  float *xf = gt_rand(nx, 61 + nx), *dyf = gt_rand(ny, 62 + ny), *dxf = gt_rand(nx, 63);
  tbuf bx = tb_new(ctx, xf, nx, 2), by = tb_new(ctx, NULL, ny, 5);
  tbuf bdy = tb_new(ctx, dyf, ny, 1), bdx = tb_new(ctx, dxf, nx, 3);
  double *xd = gt_d(xf, nx), *yd = gt_dalloc(ny), *dyd = gt_d(dyf, ny), *dxd = gt_dalloc(nx);
  CHECK_OK(clgan_upsample_mode_forward(ctx, n, c, h, w, k, mode, tb_view(bx), tb_view(by)));
  ref_forward(mode, planes, h, w, k, xd, yd);
  GT_CHECK(ctx, by, yd, 1e-6 + tol_sum_abs(16), 1e-6, MSG("upsample y"));
  if (mode == CLGAN_UPSAMPLE_BICUBIC) { /* the same map as the library's baseline */
    float *lib = tu_alloc(ny), *got = tu_alloc(ny);
    CHECK_OK(clgan_upscale_bicubic(xf, planes, h, w, k, lib));
    tb_get(ctx, by, got);
    NN_CLOSE(got, lib, ny, 2e-6, 1e-6, MSG("upsample bicubic vs clgan_upscale_bicubic"));
    free(lib), free(got);
  }
  double tb = 1e-6 + tol_sum_abs(16.0 * k * k);
  CHECK_OK(clgan_upsample_mode_backward(ctx, n, c, h, w, k, mode, tb_view(bdy), tb_view(bdx), 0));
  ref_backward(mode, planes, h, w, k, dyd, dxd, 0);
  GT_CHECK(ctx, bdx, dxd, tb, 1e-6, MSG("upsample dx"));
  double *base = gt_get(ctx, bdx);
  CHECK_OK(clgan_upsample_mode_backward(ctx, n, c, h, w, k, mode, tb_view(bdy), tb_view(bdx), 1));
  ref_backward(mode, planes, h, w, k, dyd, base, 1);
  GT_CHECK(ctx, bdx, base, 2 * tb, 1e-6, MSG("upsample dx accumulate"));
  /* central differences of L = sum(r * up(x)) (r = dy) through the device forward: L is
   * linear in x, so the quotient is exact but for float rounding of L */
  CHECK_OK(clgan_upsample_mode_backward(ctx, n, c, h, w, k, mode, tb_view(bdy), tb_view(bdx), 0));
  float *got = tu_alloc(nx), *yf = tu_alloc(ny);
  tb_get(ctx, bdx, got);
  int bad = 0;
  for (int t = 0; t < 12; t++) {
    size_t i = ((size_t)t * 7919 + 5) % nx;
    double l[2];
    for (int sgn = 0; sgn < 2; sgn++) {
      float keep = xf[i];
      xf[i] = keep + (sgn ? -0.25f : 0.25f);
      tb_set(ctx, bx, xf);
      xf[i] = keep;
      CHECK_OK(clgan_upsample_mode_forward(ctx, n, c, h, w, k, mode, tb_view(bx), tb_view(by)));
      tb_get(ctx, by, yf);
      l[sgn] = 0.0;
      for (size_t j = 0; j < ny; j++) l[sgn] += (double)dyf[j] * yf[j];
    }
    double fd = (l[0] - l[1]) / 0.5;
    if (fabs(fd - got[i]) > 1e-4 + 1e-5 * fabs(fd)) {
      bad++;
      fprintf(stderr, "upsample x[%zu]: analytic %.7g, finite difference %.7g\n", i, got[i], fd);
    }
  }
  tb_set(ctx, bx, xf);
  CHECK(bad == 0, "%s", MSG("upsample: finite differences disagree"));
  GT_GUARDS_FREE(ctx, "upsample guards", &bx, &by, &bdy, &bdx);
  free(xf), free(dyf), free(dxf), free(xd), free(yd), free(dyd), free(dxd), free(base);
  free(got), free(yf);
}

/* nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False) of the row [1 2] and of
 * [1 2 3 4] by 2, worked by hand: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (right
 * neighbour clamped) */
static void bilinear_by_hand(clgan_ctx *ctx) {
  float x[4] = {1, 2, 3, 4}, y[16];
  tbuf bx = tb_new(ctx, x, 4, 0), by = tb_new(ctx, NULL, 16, 0);
  CHECK_OK(clgan_upsample_mode_forward(ctx, 1, 1, 1, 4, 2, CLGAN_UPSAMPLE_BILINEAR, tb_view(bx),
                                       tb_view(by)));
  tb_get(ctx, by, y);
  const float want[8] = {1, 1.25f, 1.75f, 2.25f, 2.75f, 3.25f, 3.75f, 4};
  int ok = 1;
  for (int r = 0; r < 2; r++)
    for (int i = 0; i < 8; i++) ok &= fabsf(y[r * 8 + i] - want[i]) < 1e-6f;
  CHECK(ok, "bilinear [1 2 3 4] x2: %g %g %g %g %g %g %g %g", y[0], y[1], y[2], y[3], y[4], y[5],
        y[6], y[7]);
  tb_free(&bx), tb_free(&by);
}

int main(int argc, char **argv) {
  int small = nn_small(argc, argv);
  clgan_ctx *ctx = tu_open_device();
  bilinear_by_hand(ctx);
  for (int mode = 1; mode <= 2; mode++) {
    run(ctx, mode, 1, 1, 1, 1, 2); /* one pixel: every tap mirrored onto it */
    run(ctx, mode, 2, 3, 3, 5, 2);
    run(ctx, mode, 1, 2, 4, 4, 4); /* x4: the super-resolution skip */
    if (!small) {
      run(ctx, mode, 2, 3, 16, 16, 4);
      run(ctx, mode, 1, 2, 7, 9, 3);
    }
  }
  tbuf b = tb_new(ctx, NULL, 64, 0);
  GT_BAD(clgan_upsample_mode_forward(ctx, 1, 1, 2, 2, 2, 3, tb_view(b), tb_view(b)),
         "unknown mode 3");
  GT_BAD(clgan_upsample_mode_backward(ctx, 1, 1, 2, 2, 0, 1, tb_view(b), tb_view(b), 0),
         "scale factor k");
  tb_free(&b);
  clgan_ctx_free(ctx);
  return tu_finish("test_graph_resize");
}
