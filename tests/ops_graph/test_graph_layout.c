/* Device layout nodes (src/ops/ops_graph.c): channel copy (concat), nearest upsampling,
 * average pooling, sum pooling and pixel shuffle, forward and backward (overwrite, then
 * accumulate onto the device's own values), at odd view offsets with guards, against the
 * float64 references in tests/ref/ref_graph.c. --small: tiny shapes for Oclgrind.
 * Tolerances: graph_test.h (TOL_EXACT for copies, TOL_SUM(m) for sums of m terms). */
#include "graph_test.h"

static char what[200];
#define MSG(s) (snprintf(what, sizeof what, "%s (N=%d C=%d H=%d W=%d k=%d)", (s), n, c, h, w, k), what)

static void run_copy(clgan_ctx *ctx, int n, int c, int h, int w, int k) {
  int hw = h * w, xct = c + 2, xco = 1, yct = c + 3, yco = 2 + (k & 1);
  size_t nx = (size_t)n * xct * hw, ny = (size_t)n * yct * hw;
  float *xf = gt_rand(nx, 11 + nx), *yf = gt_rand(ny, 12 + ny);
  tbuf bx = tb_new(ctx, xf, nx, 3), by = tb_new(ctx, yf, ny, 1);
  double *xd = gt_d(xf, nx), *yd = gt_d(yf, ny);
  CHECK_OK(clgan_channel_copy(ctx, n, c, hw, tb_view(bx), xct, xco, tb_view(by), yct, yco, 0));
  ref_channel_copy(n, c, hw, xd, xct, xco, yd, yct, yco, 0);
  GT_CHECK(ctx, by, yd, TOL_EXACT, MSG("channel copy"));
  /* backward: the roles swapped, accumulating into x's slice */
  double *base = gt_get(ctx, bx);
  CHECK_OK(clgan_channel_copy(ctx, n, c, hw, tb_view(by), yct, yco, tb_view(bx), xct, xco, 1));
  ref_channel_copy(n, c, hw, yd, yct, yco, base, xct, xco, 1);
  GT_CHECK(ctx, bx, base, TOL_EXACT, MSG("channel copy accumulate"));
  GT_GUARDS_FREE(ctx, MSG("channel copy guards"), &bx, &by);
  free(xf), free(yf), free(xd), free(yd), free(base);
}

static void run_upsample(clgan_ctx *ctx, int n, int c, int h, int w, int k) {
  size_t nx = (size_t)n * c * h * w, ny = nx * k * k;
  float *xf = gt_rand(nx, 21 + nx), *dyf = gt_rand(ny, 22 + ny), *dxf = gt_rand(nx, 23);
  tbuf bx = tb_new(ctx, xf, nx, 2), by = tb_new(ctx, NULL, ny, 5);
  tbuf bdy = tb_new(ctx, dyf, ny, 0), bdx = tb_new(ctx, dxf, nx, 7);
  double *xd = gt_d(xf, nx), *yd = gt_dalloc(ny), *dyd = gt_d(dyf, ny), *dxd = gt_dalloc(nx);
  CHECK_OK(clgan_upsample_forward(ctx, n, c, h, w, k, tb_view(bx), tb_view(by)));
  ref_upsample_forward(n, c, h, w, k, xd, yd);
  GT_CHECK(ctx, by, yd, TOL_EXACT, MSG("upsample y"));
  CHECK_OK(clgan_upsample_backward(ctx, n, c, h, w, k, tb_view(bdy), tb_view(bdx), 0));
  ref_upsample_backward(n, c, h, w, k, dyd, dxd, 0);
  GT_CHECK(ctx, bdx, dxd, TOL_SUM(k * k), MSG("upsample dx"));
  double *base = gt_get(ctx, bdx);
  CHECK_OK(clgan_upsample_backward(ctx, n, c, h, w, k, tb_view(bdy), tb_view(bdx), 1));
  ref_upsample_backward(n, c, h, w, k, dyd, base, 1);
  GT_CHECK(ctx, bdx, base, TOL_SUM(2 * k * k), MSG("upsample dx accumulate"));
  GT_GUARDS_FREE(ctx, MSG("upsample guards"), &bx, &by, &bdy, &bdx);
  free(xf), free(dyf), free(dxf), free(xd), free(yd), free(dyd), free(dxd), free(base);
}

/* h, w here are the OUTPUT sizes; the input is (h*k, w*k) */
static void run_avgpool(clgan_ctx *ctx, int n, int c, int h, int w, int k) {
  int hi = h * k, wi = w * k;
  size_t nx = (size_t)n * c * hi * wi, ny = (size_t)n * c * h * w;
  float *xf = gt_rand(nx, 31 + nx), *dyf = gt_rand(ny, 32 + ny), *dxf = gt_rand(nx, 33);
  tbuf bx = tb_new(ctx, xf, nx, 1), by = tb_new(ctx, NULL, ny, 4);
  tbuf bdy = tb_new(ctx, dyf, ny, 3), bdx = tb_new(ctx, dxf, nx, 2);
  double *xd = gt_d(xf, nx), *yd = gt_dalloc(ny), *dyd = gt_d(dyf, ny), *dxd = gt_dalloc(nx);
  CHECK_OK(clgan_avgpool_forward(ctx, n, c, hi, wi, k, tb_view(bx), tb_view(by)));
  ref_avgpool_forward(n, c, hi, wi, k, xd, yd);
  GT_CHECK(ctx, by, yd, TOL_SUM(k * k), MSG("avgpool y"));
  CHECK_OK(clgan_avgpool_backward(ctx, n, c, hi, wi, k, tb_view(bdy), tb_view(bdx), 0));
  ref_avgpool_backward(n, c, hi, wi, k, dyd, dxd, 0);
  GT_CHECK(ctx, bdx, dxd, TOL_ELEM, MSG("avgpool dx"));
  double *base = gt_get(ctx, bdx);
  CHECK_OK(clgan_avgpool_backward(ctx, n, c, hi, wi, k, tb_view(bdy), tb_view(bdx), 1));
  ref_avgpool_backward(n, c, hi, wi, k, dyd, base, 1);
  GT_CHECK(ctx, bdx, base, TOL_ELEM, MSG("avgpool dx accumulate"));
  GT_GUARDS_FREE(ctx, MSG("avgpool guards"), &bx, &by, &bdy, &bdx);
  free(xf), free(dyf), free(dxf), free(xd), free(yd), free(dyd), free(dxd), free(base);
}

static void run_sumpool(clgan_ctx *ctx, int n, int c, int h, int w, int k) {
  int hw = h * w * k; /* k stretches the plane past one work-group */
  size_t nx = (size_t)n * c * hw, ny = (size_t)n * c;
  float *xf = gt_rand(nx, 41 + nx), *dyf = gt_rand(ny, 42 + ny), *dxf = gt_rand(nx, 43);
  tbuf bx = tb_new(ctx, xf, nx, 6), by = tb_new(ctx, NULL, ny, 1);
  tbuf bdy = tb_new(ctx, dyf, ny, 2), bdx = tb_new(ctx, dxf, nx, 3);
  double *xd = gt_d(xf, nx), *yd = gt_dalloc(ny), *dyd = gt_d(dyf, ny), *dxd = gt_dalloc(nx);
  CHECK_OK(clgan_sumpool_forward(ctx, n, c, hw, tb_view(bx), tb_view(by)));
  ref_sumpool_forward(n, c, hw, xd, yd);
  GT_CHECK(ctx, by, yd, TOL_SUM(hw), MSG("sumpool y"));
  /* deterministic: the same bits again */
  float *y1 = tu_alloc(ny), *y2 = tu_alloc(ny);
  tb_get(ctx, by, y1);
  CHECK_OK(clgan_sumpool_forward(ctx, n, c, hw, tb_view(bx), tb_view(by)));
  tb_get(ctx, by, y2);
  CHECK(!memcmp(y1, y2, ny * sizeof(float)), "%s", MSG("sumpool: a second run differs"));
  CHECK_OK(clgan_sumpool_backward(ctx, n, c, hw, tb_view(bdy), tb_view(bdx), 0));
  ref_sumpool_backward(n, c, hw, dyd, dxd, 0);
  GT_CHECK(ctx, bdx, dxd, TOL_EXACT, MSG("sumpool dx"));
  double *base = gt_get(ctx, bdx);
  CHECK_OK(clgan_sumpool_backward(ctx, n, c, hw, tb_view(bdy), tb_view(bdx), 1));
  ref_sumpool_backward(n, c, hw, dyd, base, 1);
  GT_CHECK(ctx, bdx, base, TOL_EXACT, MSG("sumpool dx accumulate"));
  GT_GUARDS_FREE(ctx, MSG("sumpool guards"), &bx, &by, &bdy, &bdx);
  free(xf), free(dyf), free(dxf), free(xd), free(yd), free(dyd), free(dxd), free(base);
  free(y1), free(y2);
}

static void run_pixelshuffle(clgan_ctx *ctx, int n, int c, int h, int w, int k) {
  size_t nt = (size_t)n * c * k * k * h * w; /* the same count on both sides */
  float *xf = gt_rand(nt, 51 + nt), *dyf = gt_rand(nt, 52 + nt), *dxf = gt_rand(nt, 53);
  tbuf bx = tb_new(ctx, xf, nt, 4), by = tb_new(ctx, NULL, nt, 2);
  tbuf bdy = tb_new(ctx, dyf, nt, 1), bdx = tb_new(ctx, dxf, nt, 5);
  double *xd = gt_d(xf, nt), *yd = gt_dalloc(nt), *dyd = gt_d(dyf, nt), *dxd = gt_dalloc(nt);
  CHECK_OK(clgan_pixelshuffle_forward(ctx, n, c, h, w, k, tb_view(bx), tb_view(by)));
  ref_pixelshuffle_forward(n, c, h, w, k, xd, yd);
  GT_CHECK(ctx, by, yd, TOL_EXACT, MSG("pixelshuffle y"));
  CHECK_OK(clgan_pixelshuffle_backward(ctx, n, c, h, w, k, tb_view(bdy), tb_view(bdx), 0));
  ref_pixelshuffle_backward(n, c, h, w, k, dyd, dxd, 0);
  GT_CHECK(ctx, bdx, dxd, TOL_EXACT, MSG("pixelshuffle dx"));
  double *base = gt_get(ctx, bdx);
  CHECK_OK(clgan_pixelshuffle_backward(ctx, n, c, h, w, k, tb_view(bdy), tb_view(bdx), 1));
  ref_pixelshuffle_backward(n, c, h, w, k, dyd, base, 1);
  GT_CHECK(ctx, bdx, base, TOL_EXACT, MSG("pixelshuffle dx accumulate"));
  GT_GUARDS_FREE(ctx, MSG("pixelshuffle guards"), &bx, &by, &bdy, &bdx);
  free(xf), free(dyf), free(dxf), free(xd), free(yd), free(dyd), free(dxd), free(base);
}

static void run_shape(clgan_ctx *ctx, int n, int c, int h, int w, int k) {
  run_copy(ctx, n, c, h, w, k);
  run_upsample(ctx, n, c, h, w, k);
  run_avgpool(ctx, n, c, h, w, k);
  run_sumpool(ctx, n, c, h, w, k);
  run_pixelshuffle(ctx, n, c, h, w, k);
}

static void test_bad_args(clgan_ctx *ctx) {
  tbuf b = tb_new(ctx, NULL, 64, 0);
  clgan_view v = tb_view(b);
  GT_BAD(clgan_channel_copy(ctx, 2, 3, 4, v, 4, 2, v, 3, 0, 0), "x channels 2..4 outside x's 4");
  GT_BAD(clgan_channel_copy(ctx, 2, 3, 4, v, 3, 0, v, 5, 3, 0), "y channels 3..5");
  GT_BAD(clgan_channel_copy(ctx, -1, 3, 4, v, 3, 0, v, 3, 0, 0), "channel copy: N must not be negative (got -1)");
  GT_BAD(clgan_channel_copy(ctx, 1, 1, 1, CLGAN_NONE, 1, 0, v, 1, 0, 0), "channel copy: x is required");
  GT_BAD(clgan_upsample_forward(ctx, 1, 1, 2, 2, 0, v, v), "upsample forward: scale factor k must be at least 1 (got 0)");
  GT_BAD(clgan_upsample_backward(ctx, 1, 1, -2, 2, 2, v, v, 0), "upsample backward: H must not be negative (got -2)");
  GT_BAD(clgan_avgpool_forward(ctx, 1, 1, 5, 4, 2, v, v), "avgpool forward: input 5x4 is not a multiple of k = 2");
  GT_BAD(clgan_avgpool_backward(ctx, 1, 1, 4, 6, 4, v, v, 0), "avgpool backward: input 4x6");
  GT_BAD(clgan_sumpool_forward(ctx, 1, 2, -3, v, v), "sumpool forward: HW must not be negative (got -3)");
  GT_BAD(clgan_sumpool_backward(ctx, 1, 2, 3, v, CLGAN_NONE, 0), "sumpool backward: dx is required");
  GT_BAD(clgan_pixelshuffle_forward(ctx, 1, 1, 2, 2, 0, v, v), "pixelshuffle forward: upscale factor r must be at least 1 (got 0)");
  GT_BAD(clgan_pixelshuffle_backward(ctx, 1, -1, 2, 2, 2, v, v, 0), "pixelshuffle backward: C must not be negative");
  /* zero sizes enqueue nothing and succeed */
  CHECK_OK(clgan_upsample_forward(ctx, 0, 3, 2, 2, 2, v, v));
  CHECK_OK(clgan_channel_copy(ctx, 2, 0, 4, v, 3, 3, v, 3, 0, 0));
  CHECK(tb_guards_ok(ctx, b), "zero-size calls wrote");
  tb_free(&b);
}

int main(int argc, char **argv) {
  int small = nn_small(argc, argv);
  clgan_ctx *ctx = tu_open_device();
  test_bad_args(ctx);
  if (small) {
    const int shapes[][5] = {{2, 3, 3, 2, 2}, {1, 1, 1, 1, 1}, {1, 2, 2, 3, 3}, {2, 1, 5, 7, 4}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
      run_shape(ctx, shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], shapes[i][4]);
  } else {
    const int shapes[][5] = {{2, 3, 5, 7, 2},  {1, 1, 1, 1, 1},  {3, 4, 8, 8, 3},
                             {2, 5, 13, 11, 4}, {64, 16, 7, 7, 2}, {2, 3, 40, 25, 1},
                             {1, 2, 33, 31, 5}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
      run_shape(ctx, shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], shapes[i][4]);
  }
  clgan_ctx_free(ctx);
  return tu_finish("test_graph_layout");
}
