/* Device batch norm fused with relu / leaky relu (clgan_batchnorm_act_*, src/ops/ops_batchnorm.c)
 * against a float64 reference composed here from tests/ref/ref_nn.c (batch norm in double,
 * then ref_act_f64; backward: ref_act_grad_f64 then the double batch-norm backward), and
 * against the unfused device pair. The reference's backward is checked by central finite
 * differences in double, the device's by finite differences in float. --small: tiny shapes
 * for Oclgrind. */
#include "nn_test.h"

/* Tolerances, abs + rel*|ref|, as tests/ops_nn/test_batchnorm.c: y, dx 2e-5 + 1e-4 (O(1)
 * values, tree-ordered float sums); mean 1e-6 + 1e-5; invstd, running var 1e-6 + 1e-4;
 * dgamma/dbeta 1e-6 * N*HW + 1e-4. Fused against unfused on the device: the forward is
 * the same arithmetic (1e-7 + 1e-6 allows a different contraction), the backward the same
 * sums in the same order: 1e-6 + 1e-5. */
#define TOL_Y 2e-5, 1e-4
#define TOL_MEAN 1e-6, 1e-5
#define TOL_STD 1e-6, 1e-4
#define TOL_SAME_FWD 1e-7, 1e-6
#define TOL_SAME_BWD 1e-6, 1e-5
/* |z| below which float and double may disagree on the activation's branch */
#define KINK 1e-4

/* deterministic doubles in [-1, 1) */
static void fill_d(double *x, size_t n, unsigned long long seed) {
  float *f = tu_alloc(n);
  ref_fill_uniform(f, n, seed);
  for (size_t i = 0; i < n; i++) x[i] = f[i];
  free(f);
}

/* z = batchnorm_train(x) (batch statistics), y = act(z), all double. */
static void ref_bn_act_f64(int n, int c, int hw, const double *x, const double *gamma,
                           const double *beta, int act, double slope, double *z, double *y) {
  size_t total = (size_t)n * c * hw;
  ref_batchnorm_train_f64(n, c, hw, x, gamma, beta, 1e-5, z);
  for (size_t i = 0; i < total; i++) y[i] = ref_act_f64(act, slope, z[i]);
}

/* dz = dy * act'(z) with the branch taken from pos[i] (z > 0), then the batch-norm
 * backward; dz is scratch. */
static void ref_bn_act_backward_f64(int n, int c, int hw, const double *x, const double *dy,
                                    const double *gamma, int act, double slope,
                                    const unsigned char *pos, double *dz, double *dx,
                                    double *dgamma, double *dbeta) {
  size_t total = (size_t)n * c * hw;
  for (size_t i = 0; i < total; i++)
    dz[i] = dy[i] * (pos[i] ? 1.0 : act == REF_ACT_RELU ? 0.0 : slope);
  ref_batchnorm_backward_f64(n, c, hw, x, dz, gamma, 1e-5, dx, dgamma, dbeta);
}

static double rel_err(double got, double want, double abs_tol, double rel_tol) {
  return fabs(got - want) / (abs_tol + rel_tol * fabs(want));
}

/* The reference backward against central differences of L = sum w*act(bn(x)) in double
 * (h = 1e-6: tolerance 1e-7 + 1e-6 as the batch-norm check in test_ref_nn.c). A
 * coordinate whose step moves any z across the kink is skipped (the derivative is not
 * defined there); at most a few are. */
static void test_reference_fd(int n, int c, int hw, int act, double slope) {
  const double h = 1e-6;
  size_t total = (size_t)n * c * hw;
  double *x = calloc(total, sizeof *x), *w = calloc(total, sizeof *w);
  double *z = calloc(total, sizeof *z), *y = calloc(total, sizeof *y);
  double *dz = calloc(total, sizeof *dz), *dx = calloc(total, sizeof *dx);
  unsigned char *pos = calloc(total, 1), *pp = calloc(total, 1), *pm = calloc(total, 1);
  double gamma[8], beta[8], dgamma[8], dbeta[8];
  fill_d(x, total, 21);
  fill_d(w, total, 22);
  fill_d(gamma, (size_t)c, 23);
  fill_d(beta, (size_t)c, 24);
  for (size_t i = 0; i < total; i++) x[i] = 2.0 * x[i] + 0.5;
  ref_bn_act_f64(n, c, hw, x, gamma, beta, act, slope, z, y);
  for (size_t i = 0; i < total; i++) pos[i] = z[i] > 0.0;
  ref_bn_act_backward_f64(n, c, hw, x, w, gamma, act, slope, pos, dz, dx, dgamma, dbeta);
  double worst = 0.0;
  int checked = 0, skipped = 0;
#define LOSS(val, p)                                                  \
  do {                                                                \
    ref_bn_act_f64(n, c, hw, x, gamma, beta, act, slope, z, y);       \
    double l_ = 0.0;                                                  \
    for (size_t k = 0; k < total; k++) {                              \
      l_ += w[k] * y[k];                                              \
      (p)[k] = z[k] > 0.0;                                            \
    }                                                                 \
    (val) = l_;                                                       \
  } while (0)
#define FD_AT(var, grad)                                                          \
  do {                                                                            \
    double keep_ = (var), lp_, lm_;                                               \
    (var) = keep_ + h;                                                            \
    LOSS(lp_, pp);                                                                \
    (var) = keep_ - h;                                                            \
    LOSS(lm_, pm);                                                                \
    (var) = keep_;                                                                \
    if (memcmp(pp, pm, total) || memcmp(pp, pos, total)) {                        \
      skipped++;                                                                  \
    } else {                                                                      \
      checked++;                                                                  \
      worst = fmax(worst, rel_err((grad), (lp_ - lm_) / (2 * h), 1e-7, 1e-6));    \
    }                                                                             \
  } while (0)
  for (size_t i = 0; i < total; i++) FD_AT(x[i], dx[i]);
  for (int ci = 0; ci < c; ci++) {
    FD_AT(gamma[ci], dgamma[ci]);
    FD_AT(beta[ci], dbeta[ci]);
  }
#undef FD_AT
#undef LOSS
  CHECK(worst <= 1.0 && skipped <= checked / 10,
        "bn+act %d reference backward vs finite differences (N=%d C=%d HW=%d): %.3g x tol, "
        "%d checked, %d skipped at the kink", act, n, c, hw, worst, checked, skipped);
  free(x), free(w), free(z), free(y), free(dz), free(dx), free(pos), free(pp), free(pm);
}

/* variant: bit 0 no affine, bit 1 no dgamma/dbeta, bit 2 accumulate, bit 3 dx in place
 * over dy, bit 4 no running statistics. */
static void run_shape(clgan_ctx *ctx, int n, int c, int hw, int act, float slope,
                      int variant) {
  size_t total = (size_t)n * c * hw;
  int affine = !(variant & 1), dparams = !(variant & 2), acc = (variant & 4) != 0;
  int inplace = (variant & 8) != 0, running = !(variant & 16);
  float *x = tu_alloc(total), *dy = tu_alloc(total), *y = tu_alloc(total);
  float *want = tu_alloc(total), *got = tu_alloc(total), *zf = tu_alloc(total);
  double *xd = calloc(total, sizeof *xd), *dyd = calloc(total, sizeof *dyd);
  double *zd = calloc(total, sizeof *zd), *yd = calloc(total, sizeof *yd);
  double *dzd = calloc(total, sizeof *dzd), *dxd = calloc(total, sizeof *dxd);
  unsigned char *pos = calloc(total, 1);
  float gamma[256], beta[256], rm[256], rv[256], rm0[256], rv0[256], sm[256], si[256];
  float dg[256], db[256], cg[256], cb[256], fl[256];
  double gd[256], bd[256], dgd[256], dbd[256];
  ref_fill_uniform(x, total, 300 + total);
  ref_fill_uniform(dy, total, 400 + total);
  ref_fill_uniform(gamma, (size_t)c, 13);
  ref_fill_uniform(beta, (size_t)c, 14);
  ref_fill_uniform(rm0, (size_t)c, 15);
  ref_fill_uniform(rv0, (size_t)c, 16);
  ref_fill_uniform(dg, (size_t)c, 17);
  ref_fill_uniform(db, (size_t)c, 18);
  for (int ci = 0; ci < c; ci++) {
    rv0[ci] = 0.5f + fabsf(rv0[ci]);
    gamma[ci] += 1.5f;
    if (!affine) gamma[ci] = 1.0f, beta[ci] = 0.0f;
    gd[ci] = gamma[ci], bd[ci] = beta[ci];
  }
  for (size_t i = 0; i < total; i++) {
    int ci = (int)(i / (size_t)hw % (size_t)c);
    x[i] = x[i] * (1.0f + 0.25f * (float)(ci % 5)) + 3.0f - 0.5f * (float)(ci % 7);
    xd[i] = x[i], dyd[i] = dy[i];
  }
  tbuf bx = tb_new(ctx, x, total, 3), by = tb_new(ctx, NULL, total, 1);
  tbuf bg = tb_new(ctx, gamma, (size_t)c, 5), bb = tb_new(ctx, beta, (size_t)c, 2);
  tbuf bsm = tb_new(ctx, NULL, (size_t)c, 7), bsi = tb_new(ctx, NULL, (size_t)c, 1);
  tbuf brm = tb_new(ctx, rm0, (size_t)c, 9), brv = tb_new(ctx, rv0, (size_t)c, 4);
  tbuf bdy = tb_new(ctx, dy, total, 6), bdx = inplace ? bdy : tb_new(ctx, NULL, total, 2);
  tbuf bdg = tb_new(ctx, dg, (size_t)c, 3), bdb = tb_new(ctx, db, (size_t)c, 11);
  tbuf bz = tb_new(ctx, NULL, total, 4), bu = tb_new(ctx, NULL, total, 0);
  clgan_view vg = affine ? tb_view(bg) : CLGAN_NONE, vb = affine ? tb_view(bb) : CLGAN_NONE;
  clgan_view vrm = running ? tb_view(brm) : CLGAN_NONE, vrv = running ? tb_view(brv) : CLGAN_NONE;
  char what[200];
#define MSG(s)                                                                              \
  (snprintf(what, sizeof what, "%s (act %d N=%d C=%d HW=%d variant %d)", s, act, n, c, hw, \
            variant),                                                                       \
   what)

  /* forward: against double, and the statistics against the float reference */
  CHECK_OK(clgan_batchnorm_act_forward_train(ctx, n, c, hw, tb_view(bx), vg, vb,
                                             (clgan_act)act, slope, tb_view(by), tb_view(bsm),
                                             tb_view(bsi), vrm, vrv, 0.1f, 1e-5f));
  ref_bn_act_f64(n, c, hw, xd, gd, bd, act, slope, zd, yd);
  for (size_t i = 0; i < total; i++) want[i] = (float)yd[i];
  tb_get(ctx, by, y);
  NN_CLOSE(y, want, total, TOL_Y, MSG("fused y vs double"));
  memcpy(rm, rm0, sizeof(float) * c);
  memcpy(rv, rv0, sizeof(float) * c);
  ref_batchnorm_forward_train(n, c, hw, x, affine ? gamma : NULL, affine ? beta : NULL, zf, sm,
                              si, running ? rm : NULL, running ? rv : NULL, 0.1f, 1e-5f);
  tb_get(ctx, bsm, fl);
  NN_CLOSE(fl, sm, (size_t)c, TOL_MEAN, MSG("save_mean"));
  tb_get(ctx, bsi, fl);
  NN_CLOSE(fl, si, (size_t)c, TOL_STD, MSG("save_invstd"));
  tb_get(ctx, brm, fl);
  NN_CLOSE(fl, rm, (size_t)c, TOL_MEAN, MSG("running_mean"));
  tb_get(ctx, brv, fl);
  NN_CLOSE(fl, rv, (size_t)c, TOL_STD, MSG("running_var"));

  /* the unfused device pair gives the same y */
  CHECK_OK(clgan_batchnorm_forward_train(ctx, n, c, hw, tb_view(bx), vg, vb, tb_view(bz),
                                         tb_view(bsm), tb_view(bsi), CLGAN_NONE, CLGAN_NONE,
                                         0.1f, 1e-5f));
  CHECK_OK(clgan_activation_forward(ctx, (clgan_act)act, slope, total, tb_view(bz),
                                    tb_view(bu)));
  tb_get(ctx, bu, got);
  NN_CLOSE(y, got, total, TOL_SAME_FWD, MSG("fused y vs unfused"));

  /* The device takes relu/leaky's branch from its own z, which y's sign shows (slope > 0):
   * the reference takes the same branch, and it may differ from double's only at the kink. */
  int off_kink = 0;
  for (size_t i = 0; i < total; i++) {
    pos[i] = y[i] > 0.0f;
    if (pos[i] != (zd[i] > 0.0) && fabs(zd[i]) >= KINK) off_kink++;
  }
  CHECK(off_kink == 0, "%s: %d elements", MSG("device branch differs from double's off the kink"),
        off_kink);

  /* unfused backward first (into bu, dgamma/dbeta into cg/cb from the same start) */
  tbuf bcg = tb_new(ctx, dg, (size_t)c, 1), bcb = tb_new(ctx, db, (size_t)c, 2);
  CHECK_OK(clgan_activation_backward(ctx, (clgan_act)act, slope, total, tb_view(bz),
                                     CLGAN_NONE, tb_view(bdy), tb_view(bu)));
  CHECK_OK(clgan_batchnorm_backward(ctx, n, c, hw, tb_view(bx), tb_view(bu), vg, tb_view(bsm),
                                    tb_view(bsi), tb_view(bu),
                                    dparams ? tb_view(bcg) : CLGAN_NONE,
                                    dparams ? tb_view(bcb) : CLGAN_NONE, acc));
  tb_get(ctx, bu, want);
  tb_get(ctx, bcg, cg);
  tb_get(ctx, bcb, cb);

  CHECK_OK(clgan_batchnorm_act_backward(ctx, n, c, hw, tb_view(bx), tb_view(bdy), vg, vb,
                                        (clgan_act)act, slope, tb_view(bsm), tb_view(bsi),
                                        tb_view(bdx), dparams ? tb_view(bdg) : CLGAN_NONE,
                                        dparams ? tb_view(bdb) : CLGAN_NONE, acc));
  tb_get(ctx, bdx, got);
  NN_CLOSE(got, want, total, TOL_SAME_BWD, MSG("fused dx vs unfused"));
  ref_bn_act_backward_f64(n, c, hw, xd, dyd, gd, act, slope, pos, dzd, dxd, dgd, dbd);
  for (size_t i = 0; i < total; i++) want[i] = (float)dxd[i];
  NN_CLOSE(got, want, total, TOL_Y, MSG("fused dx vs double"));
  double tol_sum = 1e-6 * (double)n * hw;
  tb_get(ctx, bdg, fl);
  if (dparams) {
    NN_CLOSE(fl, cg, (size_t)c, TOL_SAME_BWD, MSG("dgamma vs unfused"));
    for (int ci = 0; ci < c; ci++) cg[ci] = (float)(dgd[ci] + (acc ? dg[ci] : 0.0));
    NN_CLOSE(fl, cg, (size_t)c, tol_sum, 1e-4, MSG("dgamma vs double"));
  } else {
    NN_CLOSE(fl, dg, (size_t)c, 1e-30, 0.0, MSG("dgamma untouched when NONE"));
  }
  tb_get(ctx, bdb, fl);
  if (dparams) {
    NN_CLOSE(fl, cb, (size_t)c, TOL_SAME_BWD, MSG("dbeta vs unfused"));
    for (int ci = 0; ci < c; ci++) cb[ci] = (float)(dbd[ci] + (acc ? db[ci] : 0.0));
    NN_CLOSE(fl, cb, (size_t)c, tol_sum, 1e-4, MSG("dbeta vs double"));
  } else {
    NN_CLOSE(fl, db, (size_t)c, 1e-30, 0.0, MSG("dbeta untouched when NONE"));
  }

  tbuf *all[] = {&bx, &by, &bg, &bb, &bsm, &bsi, &brm, &brv, &bdy, &bdg, &bdb, &bz, &bu,
                 &bcg, &bcb, &bdx};
  size_t nall = sizeof all / sizeof *all - (inplace ? 1 : 0);
  for (size_t i = 0; i < nall; i++) {
    CHECK(tb_guards_ok(ctx, *all[i]), "%s: buffer %zu written outside its view",
          MSG("guards"), i);
    tb_free(all[i]);
  }
#undef MSG
  free(x), free(dy), free(y), free(want), free(got), free(zf);
  free(xd), free(dyd), free(zd), free(yd), free(dzd), free(dxd), free(pos);
}

/* The device's fused backward against central differences of its own fused forward, in
 * float: L = sum w*y, h = 1e-2 on x (values O(1)), tolerance 2e-3 + 1e-2 rel (the loss's
 * float rounding over 2h, and the h^2 term). Coordinates whose steps flip any element's
 * branch (y > 0) are skipped. */
static void test_device_fd(clgan_ctx *ctx, int n, int c, int hw, int act, float slope) {
  const float h = 1e-2f;
  size_t total = (size_t)n * c * hw;
  float *x = tu_alloc(total), *w = tu_alloc(total), *y = tu_alloc(total);
  float *dx = tu_alloc(total), *gamma = tu_alloc((size_t)c), *beta = tu_alloc((size_t)c);
  unsigned char *p0 = calloc(total, 1), *pp = calloc(total, 1), *pm = calloc(total, 1);
  ref_fill_uniform(x, total, 31);
  ref_fill_uniform(w, total, 32);
  ref_fill_uniform(gamma, (size_t)c, 33);
  ref_fill_uniform(beta, (size_t)c, 34);
  for (int ci = 0; ci < c; ci++) gamma[ci] += 1.5f;
  tbuf bx = tb_new(ctx, x, total, 1), by = tb_new(ctx, NULL, total, 2);
  tbuf bg = tb_new(ctx, gamma, (size_t)c, 0), bb = tb_new(ctx, beta, (size_t)c, 3);
  tbuf bsm = tb_new(ctx, NULL, (size_t)c, 0), bsi = tb_new(ctx, NULL, (size_t)c, 0);
  tbuf bw = tb_new(ctx, w, total, 0), bdx = tb_new(ctx, NULL, total, 0);
  double worst = 0.0;
  int checked = 0, skipped = 0;
#define FWD(loss, p)                                                                        \
  do {                                                                                      \
    CHECK_OK(clgan_batchnorm_act_forward_train(ctx, n, c, hw, tb_view(bx), tb_view(bg),     \
                                               tb_view(bb), (clgan_act)act, slope,          \
                                               tb_view(by), tb_view(bsm), tb_view(bsi),     \
                                               CLGAN_NONE, CLGAN_NONE, 0.1f, 1e-5f));       \
    tb_get(ctx, by, y);                                                                     \
    double l_ = 0.0;                                                                        \
    for (size_t k = 0; k < total; k++) l_ += (double)w[k] * y[k], (p)[k] = y[k] > 0.0f;     \
    (loss) = l_;                                                                            \
  } while (0)
  double l0;
  FWD(l0, p0);
  (void)l0;
  CHECK_OK(clgan_batchnorm_act_backward(ctx, n, c, hw, tb_view(bx), tb_view(bw), tb_view(bg),
                                        tb_view(bb), (clgan_act)act, slope, tb_view(bsm),
                                        tb_view(bsi), tb_view(bdx), CLGAN_NONE, CLGAN_NONE, 0));
  tb_get(ctx, bdx, dx);
  for (size_t i = 0; i < total; i++) {
    float keep = x[i];
    double lp, lm;
    x[i] = keep + h;
    tb_set(ctx, bx, x);
    FWD(lp, pp);
    x[i] = keep - h;
    tb_set(ctx, bx, x);
    FWD(lm, pm);
    x[i] = keep;
    if (memcmp(pp, p0, total) || memcmp(pm, p0, total)) {
      skipped++;
      continue;
    }
    checked++;
    double fd = (lp - lm) / ((double)(keep + h) - (double)(keep - h));
    worst = fmax(worst, rel_err(dx[i], fd, 2e-3, 1e-2));
  }
#undef FWD
  tb_set(ctx, bx, x);
  CHECK(worst <= 1.0 && checked >= (int)total / 2,
        "bn+act %d device backward vs float finite differences (N=%d C=%d HW=%d): %.3g x tol, "
        "%d checked, %d skipped at the kink", act, n, c, hw, worst, checked, skipped);
  tbuf *all[] = {&bx, &by, &bg, &bb, &bsm, &bsi, &bw, &bdx};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) tb_free(all[i]);
  free(x), free(w), free(y), free(dx), free(gamma), free(beta), free(p0), free(pp), free(pm);
}

static void test_bad_args(clgan_ctx *ctx) {
  tbuf b = tb_new(ctx, NULL, 8, 0);
  clgan_view v = tb_view(b);
  clgan_status s = clgan_batchnorm_act_forward_train(ctx, 2, 2, 2, v, v, v, CLGAN_ACT_TANH,
                                                     0.0f, v, v, v, CLGAN_NONE, CLGAN_NONE,
                                                     0.1f, 1e-5f);
  CHECK(s == CLGAN_ERR_INVALID_ARG && strstr(clgan_last_error(), "cannot be fused"),
        "tanh fused: %s (%s)", clgan_status_name(s), clgan_last_error());
  s = clgan_batchnorm_act_backward(ctx, 2, 2, 2, v, v, v, v, (clgan_act)7, 0.0f, v, v, v,
                                   CLGAN_NONE, CLGAN_NONE, 0);
  CHECK(s == CLGAN_ERR_INVALID_ARG, "activation 7: %s", clgan_status_name(s));
  s = clgan_batchnorm_act_backward(ctx, 2, 2, 2, v, v, v, CLGAN_NONE, CLGAN_ACT_RELU, 0.0f, v,
                                   v, v, CLGAN_NONE, CLGAN_NONE, 0);
  CHECK(s == CLGAN_ERR_INVALID_ARG && strstr(clgan_last_error(), "beta"),
        "fused backward with gamma but no beta: %s (%s)", clgan_status_name(s),
        clgan_last_error());
  s = clgan_batchnorm_act_forward_train(ctx, 1, 2, 1, v, v, v, CLGAN_ACT_RELU, 0.0f, v, v, v,
                                        CLGAN_NONE, CLGAN_NONE, 0.1f, 1e-5f);
  CHECK(s == CLGAN_ERR_INVALID_ARG, "N*HW = 1 in training: %s", clgan_status_name(s));
  tb_free(&b);
}

int main(int argc, char **argv) {
  int small = nn_small(argc, argv);
  const int acts[2] = {CLGAN_ACT_RELU, CLGAN_ACT_LEAKY_RELU};
  const float slopes[2] = {0.0f, 0.2f};
  for (int a = 0; a < 2; a++) {
    test_reference_fd(3, 2, 5, acts[a], slopes[a]);
    test_reference_fd(1, 3, 7, acts[a], slopes[a]);
    test_reference_fd(4, 3, 1, acts[a], slopes[a]);
  }
  clgan_ctx *ctx = tu_open_device();
  test_bad_args(ctx);
  for (int a = 0; a < 2; a++) test_device_fd(ctx, 3, 2, 5, acts[a], slopes[a]);
  if (small) {
    const int shapes[][3] = {{3, 2, 1}, {1, 3, 7}, {3, 1, 100}, {2, 3, 5}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
      for (int a = 0; a < 2; a++)
        run_shape(ctx, shapes[i][0], shapes[i][1], shapes[i][2], acts[a], slopes[a],
                  (int)(i * 2 + a) % 32 * 5 % 32);
  } else {
    const int ns[] = {1, 3, 64}, cs[] = {1, 3, 64}, hws[] = {1, 7, 49, 196};
    int v = 0;
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++)
        for (int k = 0; k < 4; k++) {
          if (ns[i] * hws[k] < 2) continue;
          int a = v % 2;
          run_shape(ctx, ns[i], cs[j], hws[k], acts[a], slopes[a], (v * 5) % 32);
          v++;
        }
    /* dcgan28's pairs: G's BatchNorm2d + ReLU twice, D's BatchNorm2d + LeakyReLU(0.2) */
    run_shape(ctx, 64, 256, 49, CLGAN_ACT_RELU, 0.0f, 0);
    run_shape(ctx, 64, 128, 196, CLGAN_ACT_RELU, 0.0f, 4);
    run_shape(ctx, 64, 128, 49, CLGAN_ACT_LEAKY_RELU, 0.2f, 10);
  }
  clgan_ctx_free(ctx);
  return tu_finish("test_bn_act");
}
