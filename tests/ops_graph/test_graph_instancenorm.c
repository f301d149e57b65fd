/* Device instance norm (src/ops/ops_graph.c) against tests/ref/ref_graph.c: forward with and
 * without affine parameters, the saved statistics, the backward from the device's saves with
 * dx only (one group per plane) and with dgamma/dbeta (one group per channel walking the
 * samples), accumulating or not, in place over dy, at odd offsets over planes that straddle
 * work-groups; bitwise repeatable. --small: tiny shapes for Oclgrind.
 * Tolerances, as tests/ops_nn/test_batchnorm.c (float32 tree sums against float64) but
 * growing with the plane: a CPU runs a plane's sum on one item when there are many planes,
 * and a serial float sum of HW values of size <= 5 drifts by ~sqrt(HW) ulps of its partial
 * sums (3.8e-6 in the mean of a 4096 plane here):
 * mean 1e-6 + 2e-7*sqrt(HW) + 1e-5 rel; invstd 1e-6 + 1e-4 rel; y, dx (O(1), a mean error
 * times invstd*gamma <= 4 on top) 2e-5 + 8e-7*sqrt(HW) + 1e-4 rel; dgamma, dbeta sums of
 * N*HW O(1) products: 1e-6 * N*HW + 1e-4 rel. */
#include "graph_test.h"

#define TOL_Y (2e-5 + 8e-7 * sqrt((double)hw)), 1e-4
#define TOL_MEAN (1e-6 + 2e-7 * sqrt((double)hw)), 1e-5
#define TOL_STD 1e-6, 1e-4

static char what[200];
#define MSG(s) (snprintf(what, sizeof what, "%s (N=%d C=%d HW=%d variant %d)", (s), n, c, hw, variant), what)

static void run_shape(clgan_ctx *ctx, int n, int c, int hw, int variant) {
  int affine = variant != 1, dparams = variant != 2, acc = variant == 0;
  size_t t = (size_t)n * c * hw, np = (size_t)n * c;
  float *xf = gt_rand(t, 111 + t), *dyf = gt_rand(t, 112 + t), *gf = gt_rand((size_t)c, 113);
  float *bf = gt_rand((size_t)c, 114), *dgf = gt_rand((size_t)c, 115), *dbf = gt_rand((size_t)c, 116);
  /* per-plane offsets and scales, so a mix-up of planes shows */
  for (size_t i = 0; i < t; i++) {
    size_t p = i / (size_t)hw;
    xf[i] = xf[i] * (1.0f + 0.25f * (float)(p % 5)) + 3.0f - 0.5f * (float)(p % 7);
  }
  for (int j = 0; j < c; j++) gf[j] += 1.5f;
  tbuf bx = tb_new(ctx, xf, t, 3), by = tb_new(ctx, NULL, t, 1), bdy = tb_new(ctx, dyf, t, 6);
  tbuf bdx = tb_new(ctx, NULL, t, 2), bg = tb_new(ctx, gf, (size_t)c, 5);
  tbuf bb = tb_new(ctx, bf, (size_t)c, 2), bsm = tb_new(ctx, NULL, np, 7);
  tbuf bsi = tb_new(ctx, NULL, np, 1), bdg = tb_new(ctx, dgf, (size_t)c, 3);
  tbuf bdb = tb_new(ctx, dbf, (size_t)c, 11);
  double *xd = gt_d(xf, t), *dyd = gt_d(dyf, t), *gd = gt_d(gf, (size_t)c), *bd = gt_d(bf, (size_t)c);
  double *yd = gt_dalloc(t), *smd = gt_dalloc(np), *sid = gt_dalloc(np), *dxd = gt_dalloc(t);
  double *dgd = gt_d(dgf, (size_t)c), *dbd = gt_d(dbf, (size_t)c);
  clgan_view vg = affine ? tb_view(bg) : CLGAN_NONE, vb = affine ? tb_view(bb) : CLGAN_NONE;

  CHECK_OK(clgan_instancenorm_forward(ctx, n, c, hw, tb_view(bx), vg, vb, 1e-5f, tb_view(by),
                                      tb_view(bsm), tb_view(bsi)));
  ref_instancenorm_forward(n, c, hw, xd, affine ? gd : NULL, affine ? bd : NULL, 1e-5, yd, smd,
                           sid);
  GT_CHECK(ctx, by, yd, TOL_Y, MSG("instancenorm y"));
  GT_CHECK(ctx, bsm, smd, TOL_MEAN, MSG("save_mean"));
  GT_CHECK(ctx, bsi, sid, TOL_STD, MSG("save_invstd"));

  /* backward from the device's own saves, as a trainer would */
  double *sm = gt_get(ctx, bsm), *si = gt_get(ctx, bsi);
  clgan_view vdg = dparams ? tb_view(bdg) : CLGAN_NONE, vdb = dparams ? tb_view(bdb) : CLGAN_NONE;
  CHECK_OK(clgan_instancenorm_backward(ctx, n, c, hw, tb_view(bx), tb_view(bdy), vg, tb_view(bsm),
                                       tb_view(bsi), tb_view(bdx), vdg, vdb, acc));
  ref_instancenorm_backward(n, c, hw, xd, dyd, affine ? gd : NULL, sm, si, dxd,
                            dparams ? dgd : NULL, dparams ? dbd : NULL, acc);
  GT_CHECK(ctx, bdx, dxd, TOL_Y, MSG("dx"));
  double tol_sum = 1e-6 * (double)n * hw;
  if (dparams) {
    GT_CHECK(ctx, bdg, dgd, tol_sum, 1e-4, MSG("dgamma"));
    GT_CHECK(ctx, bdb, dbd, tol_sum, 1e-4, MSG("dbeta"));
  } else {
    double *keep_g = gt_d(dgf, (size_t)c), *keep_b = gt_d(dbf, (size_t)c);
    GT_CHECK(ctx, bdg, keep_g, 1e-30, 0.0, MSG("dgamma untouched when NONE"));
    GT_CHECK(ctx, bdb, keep_b, 1e-30, 0.0, MSG("dbeta untouched when NONE"));
    free(keep_g), free(keep_b);
  }
  /* bitwise repeatable, then dx written over dy itself */
  float *d1 = tu_alloc(t), *d2 = tu_alloc(t);
  tb_get(ctx, bdx, d1);
  CHECK_OK(clgan_instancenorm_backward(ctx, n, c, hw, tb_view(bx), tb_view(bdy), vg, tb_view(bsm),
                                       tb_view(bsi), tb_view(bdx), CLGAN_NONE, CLGAN_NONE, 0));
  tb_get(ctx, bdx, d2);
  if (!dparams) CHECK(!memcmp(d1, d2, t * sizeof(float)), "%s", MSG("dx: a second run differs"));
  CHECK_OK(clgan_instancenorm_backward(ctx, n, c, hw, tb_view(bx), tb_view(bdy), vg, tb_view(bsm),
                                       tb_view(bsi), tb_view(bdy), vdg, vdb, 1));
  GT_CHECK(ctx, bdy, dxd, TOL_Y, MSG("dx in place over dy"));

  GT_GUARDS_FREE(ctx, MSG("guards"), &bx, &by, &bdy, &bdx, &bg, &bb, &bsm, &bsi, &bdg, &bdb);
  free(xf), free(dyf), free(gf), free(bf), free(dgf), free(dbf), free(xd), free(dyd), free(gd);
  free(bd), free(yd), free(smd), free(sid), free(dxd), free(dgd), free(dbd), free(sm), free(si);
  free(d1), free(d2);
}

static void test_bad_args(clgan_ctx *ctx) {
  tbuf b = tb_new(ctx, NULL, 16, 0);
  clgan_view v = tb_view(b);
  GT_BAD(clgan_instancenorm_forward(ctx, 2, 2, 1, v, CLGAN_NONE, CLGAN_NONE, 1e-5f, v, v, v),
         "instancenorm forward: expected more than 1 spatial element (HW=1)");
  GT_BAD(clgan_instancenorm_forward(ctx, -1, 2, 4, v, CLGAN_NONE, CLGAN_NONE, 1e-5f, v, v, v),
         "instancenorm forward: N must not be negative (got -1)");
  GT_BAD(clgan_instancenorm_forward(ctx, 1, 2, 4, v, v, CLGAN_NONE, 1e-5f, v, v, v),
         "gamma and beta must both be given");
  GT_BAD(clgan_instancenorm_forward(ctx, 1, 2, 4, v, CLGAN_NONE, CLGAN_NONE, 1e-5f, v, CLGAN_NONE, v),
         "instancenorm forward: save_mean is required");
  GT_BAD(clgan_instancenorm_backward(ctx, 1, 2, 4, v, v, v, v, v, v, v, CLGAN_NONE, 0),
         "instancenorm backward: dgamma and dbeta must both be given");
  GT_BAD(clgan_instancenorm_backward(ctx, 1, -2, 4, v, v, v, v, v, v, CLGAN_NONE, CLGAN_NONE, 0),
         "instancenorm backward: C must not be negative (got -2)");
  CHECK(tb_guards_ok(ctx, b), "rejected calls wrote");
  tb_free(&b);
}

int main(int argc, char **argv) {
  int small = nn_small(argc, argv);
  clgan_ctx *ctx = tu_open_device();
  test_bad_args(ctx);
  if (small) {
    const int shapes[][3] = {{2, 3, 2}, {1, 2, 7}, {3, 1, 100}, {2, 2, 5}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
      run_shape(ctx, shapes[i][0], shapes[i][1], shapes[i][2], (int)i % 3);
  } else {
    const int ns[] = {1, 3, 64}, cs[] = {1, 3, 64}, hws[] = {2, 7, 49, 196, 1024};
    int v = 0;
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++)
        for (int d = 0; d < 5; d++) run_shape(ctx, ns[a], cs[b], hws[d], v++ % 3);
    run_shape(ctx, 16, 64, 4096, 0); /* a 64x64 feature map */
  }
  clgan_ctx_free(ctx);
  return tu_finish("test_graph_instancenorm");
}
