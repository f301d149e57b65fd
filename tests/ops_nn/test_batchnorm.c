/* Device batch norm (src/ops/ops_batchnorm.c) against tests/ref/ref_nn.c: training forward with
 * running statistics, eval forward, backward with and without accumulation, at odd view
 * offsets, over shapes that straddle work-group edges. --small: tiny shapes for Oclgrind. */
#include "nn_test.h"

/* Tolerances, abs + rel*|ref| (float32 sums against float64):
 * y, dx: the normalised values are O(1), sums are tree-ordered: 2e-5 + 1e-4.
 * mean: 1e-6 + 1e-5; invstd and running var: 1e-6 + 1e-4.
 * dgamma, dbeta: sums of N*HW products of O(1) terms; error grows with the sum's length:
 * 1e-6 * N*HW + 1e-4. */
#define TOL_Y 2e-5, 1e-4
#define TOL_MEAN 1e-6, 1e-5
#define TOL_STD 1e-6, 1e-4

static void run_shape(clgan_ctx *ctx, int n, int c, int hw, int variant) {
  size_t total = (size_t)n * c * hw;
  float *x = tu_alloc(total), *dy = tu_alloc(total), *y = tu_alloc(total);
  float *want = tu_alloc(total), *dxw = tu_alloc(total);
  float gamma[256], beta[256], rm[256], rv[256], rm0[256], rv0[256], sm[256], si[256];
  float dg[256], db[256], dgw[256], dbw[256], got[256];
  ref_fill_uniform(x, total, 100 + total);
  ref_fill_uniform(dy, total, 200 + total);
  ref_fill_uniform(gamma, (size_t)c, 3);
  ref_fill_uniform(beta, (size_t)c, 4);
  ref_fill_uniform(rm0, (size_t)c, 5);
  ref_fill_uniform(rv0, (size_t)c, 6);
  ref_fill_uniform(dg, (size_t)c, 7);
  ref_fill_uniform(db, (size_t)c, 8);
  for (int ci = 0; ci < c; ci++) {
    rv0[ci] = 0.5f + fabsf(rv0[ci]);
    gamma[ci] += 1.5f;
  }
  /* per-channel offsets and scales, so a mix-up of channels shows */
  for (size_t i = 0; i < total; i++) {
    int ci = (int)(i / (size_t)hw % (size_t)c);
    x[i] = x[i] * (1.0f + 0.25f * (float)(ci % 5)) + 3.0f - 0.5f * (float)(ci % 7);
  }
  int affine = variant != 1, dparams = variant != 2, acc = variant == 0;
  tbuf bx = tb_new(ctx, x, total, 3), by = tb_new(ctx, NULL, total, 1);
  tbuf bg = tb_new(ctx, gamma, (size_t)c, 5), bb = tb_new(ctx, beta, (size_t)c, 2);
  tbuf bsm = tb_new(ctx, NULL, (size_t)c, 7), bsi = tb_new(ctx, NULL, (size_t)c, 1);
  tbuf brm = tb_new(ctx, rm0, (size_t)c, 9), brv = tb_new(ctx, rv0, (size_t)c, 4);
  tbuf bdy = tb_new(ctx, dy, total, 6), bdx = tb_new(ctx, NULL, total, 2);
  tbuf bdg = tb_new(ctx, dg, (size_t)c, 3), bdb = tb_new(ctx, db, (size_t)c, 11);
  clgan_view vg = affine ? tb_view(bg) : CLGAN_NONE, vb = affine ? tb_view(bb) : CLGAN_NONE;
  char what[160];
#define SHAPE_MSG(s) (snprintf(what, sizeof what, "%s (N=%d C=%d HW=%d variant %d)", s, n, c, hw, variant), what)

  CHECK_OK(clgan_batchnorm_forward_train(ctx, n, c, hw, tb_view(bx), vg, vb, tb_view(by),
                                         tb_view(bsm), tb_view(bsi), tb_view(brm),
                                         tb_view(brv), 0.1f, 1e-5f));
  memcpy(rm, rm0, sizeof(float) * c);
  memcpy(rv, rv0, sizeof(float) * c);
  ref_batchnorm_forward_train(n, c, hw, x, affine ? gamma : NULL, affine ? beta : NULL, want,
                              sm, si, rm, rv, 0.1f, 1e-5f);
  tb_get(ctx, by, y);
  NN_CLOSE(y, want, total, TOL_Y, SHAPE_MSG("train y"));
  tb_get(ctx, bsm, got);
  NN_CLOSE(got, sm, (size_t)c, TOL_MEAN, SHAPE_MSG("save_mean"));
  tb_get(ctx, bsi, got);
  NN_CLOSE(got, si, (size_t)c, TOL_STD, SHAPE_MSG("save_invstd"));
  tb_get(ctx, brm, got);
  NN_CLOSE(got, rm, (size_t)c, TOL_MEAN, SHAPE_MSG("running_mean"));
  tb_get(ctx, brv, got);
  NN_CLOSE(got, rv, (size_t)c, TOL_STD, SHAPE_MSG("running_var"));

  /* eval with the updated running statistics (the device's own, as a trainer would) */
  tb_get(ctx, brm, rm);
  tb_get(ctx, brv, rv);
  CHECK_OK(clgan_batchnorm_forward_eval(ctx, n, c, hw, tb_view(bx), vg, vb, tb_view(brm),
                                        tb_view(brv), 1e-5f, tb_view(by)));
  ref_batchnorm_forward_eval(n, c, hw, x, affine ? gamma : NULL, affine ? beta : NULL, rm, rv,
                             1e-5f, want);
  tb_get(ctx, by, y);
  NN_CLOSE(y, want, total, TOL_Y, SHAPE_MSG("eval y"));

  /* backward from the device's saved statistics */
  tb_get(ctx, bsm, sm);
  tb_get(ctx, bsi, si);
  CHECK_OK(clgan_batchnorm_backward(ctx, n, c, hw, tb_view(bx), tb_view(bdy), vg, tb_view(bsm),
                                    tb_view(bsi), tb_view(bdx),
                                    dparams ? tb_view(bdg) : CLGAN_NONE,
                                    dparams ? tb_view(bdb) : CLGAN_NONE, acc));
  memcpy(dgw, dg, sizeof(float) * c);
  memcpy(dbw, db, sizeof(float) * c);
  ref_batchnorm_backward(n, c, hw, x, dy, affine ? gamma : NULL, sm, si, dxw, dgw, dbw, acc);
  tb_get(ctx, bdx, y);
  NN_CLOSE(y, dxw, total, TOL_Y, SHAPE_MSG("dx"));
  double tol_sum = 1e-6 * (double)n * hw;
  tb_get(ctx, bdg, got);
  if (dparams) NN_CLOSE(got, dgw, (size_t)c, tol_sum, 1e-4, SHAPE_MSG("dgamma"));
  else NN_CLOSE(got, dg, (size_t)c, 1e-30, 0.0, SHAPE_MSG("dgamma untouched when NONE"));
  tb_get(ctx, bdb, got);
  if (dparams) NN_CLOSE(got, dbw, (size_t)c, tol_sum, 1e-4, SHAPE_MSG("dbeta"));
  else NN_CLOSE(got, db, (size_t)c, 1e-30, 0.0, SHAPE_MSG("dbeta untouched when NONE"));

  tbuf *all[] = {&bx, &by, &bg, &bb, &bsm, &bsi, &brm, &brv, &bdy, &bdx, &bdg, &bdb};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
    CHECK(tb_guards_ok(ctx, *all[i]), "%s: buffer %zu written outside its view",
          SHAPE_MSG("guards"), i);
    tb_free(all[i]);
  }
#undef SHAPE_MSG
  free(x);
  free(dy);
  free(y);
  free(want);
  free(dxw);
}

/* One value per channel cannot give an unbiased variance: PyTorch refuses, so do we. */
static void test_bad_args(clgan_ctx *ctx) {
  tbuf b = tb_new(ctx, NULL, 4, 0);
  clgan_view v = tb_view(b);
  clgan_status s = clgan_batchnorm_forward_train(ctx, 1, 4, 1, v, CLGAN_NONE, CLGAN_NONE, v, v,
                                                 v, CLGAN_NONE, CLGAN_NONE, 0.1f, 1e-5f);
  CHECK(s == CLGAN_ERR_INVALID_ARG && strstr(clgan_last_error(), "more than 1 value"),
        "N*HW = 1 in training: %s (%s)", clgan_status_name(s), clgan_last_error());
  s = clgan_batchnorm_forward_eval(ctx, 0, 4, 1, v, CLGAN_NONE, CLGAN_NONE, v, v, 1e-5f, v);
  CHECK(s == CLGAN_ERR_INVALID_ARG, "N = 0: %s", clgan_status_name(s));
  s = clgan_batchnorm_backward(ctx, 2, 2, 1, v, v, v, v, v, v, v, CLGAN_NONE, 0);
  CHECK(s == CLGAN_ERR_INVALID_ARG, "dgamma without dbeta: %s", clgan_status_name(s));
  tb_free(&b);
}

int main(int argc, char **argv) {
  int small = nn_small(argc, argv);
  clgan_ctx *ctx = tu_open_device();
  test_bad_args(ctx);
  if (small) {
    /* 3*100 values per channel: more than one group's worth, so the strided walk wraps */
    const int shapes[][3] = {{3, 2, 1}, {1, 3, 7}, {3, 1, 100}, {2, 3, 5}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
      run_shape(ctx, shapes[i][0], shapes[i][1], shapes[i][2], (int)i % 3);
  } else {
    const int ns[] = {1, 3, 64}, cs[] = {1, 3, 64}, hws[] = {1, 7, 49, 196};
    int v = 0;
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++)
        for (int d = 0; d < 4; d++) {
          if (ns[a] * hws[d] < 2) continue;
          run_shape(ctx, ns[a], cs[b], hws[d], v++ % 3);
        }
    /* the dcgan28 generator's BatchNorm2d layers, and a 1d one after a Linear */
    run_shape(ctx, 64, 256, 49, 0);
    run_shape(ctx, 64, 128, 196, 0);
    run_shape(ctx, 64, 256, 1, 0);
  }
  clgan_ctx_free(ctx);
  return tu_finish("test_batchnorm");
}
