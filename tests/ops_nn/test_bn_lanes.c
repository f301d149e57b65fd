/* The lanes form of the batch-norm training forward and backward (kernels/batchnorm.cl,
 * bn_*_lanes*; chosen by bn_lanes in src/ops/ops_batchnorm.c) against the group form it
 * replaces on CPU devices: every output bitwise equal (same sums in the same order), and
 * against the C reference (tests/ref/ref_nn.c) with test_batchnorm.c's tolerances. Both
 * forms are forced with CLGAN_BN_FORM on any device; the kernel names the profiler records
 * prove the lanes kernels ran (the test fails if no shape took them), and HW = 1 must fall
 * back to the group form. Shapes with and without tails (HW not a multiple of the lanes).
 * The training forward takes two channels a work-item (bn_forward_train_lanes<L>x2, also at
 * l = 1), so odd channel counts too.
 * --small: tiny shapes for Oclgrind. */
#include "nn_test.h"

#define TOL_Y 2e-5, 1e-4
#define TOL_MEAN 1e-6, 1e-5
#define TOL_STD 1e-6, 1e-4

/* The lane counts that ran (bit b set for bn_forward_train_lanes(2^b)), printed at the end. */
static unsigned lanes_seen = 0;

/* Every output of one forward + backward, for one form. */
typedef struct outs {
  float *y, *dx, sm[1024], si[1024], rm[1024], rv[1024], dg[1024], db[1024];
  int lanes_fwd, lanes_bwd; /* launches of a *_lanes* kernel seen by the profiler */
  int fwd_l1;               /* of which bn_forward_train_lanes1x2 (l = 1: no backward twin) */
} outs;

static void run_form(clgan_ctx *ctx, const char *form, int n, int c, int hw, int act,
                     int affine, const float *x, const float *dy, const float *gamma,
                     const float *beta, outs *o) {
  size_t total = (size_t)n * c * hw;
  setenv("CLGAN_BN_FORM", form, 1);
  float rm0[1024], rv0[1024];
  for (int i = 0; i < c; i++) rm0[i] = 0.01f * (float)i, rv0[i] = 1.0f + 0.02f * (float)i;
  tbuf bx = tb_new(ctx, x, total, 3), by = tb_new(ctx, NULL, total, 1);
  tbuf bg = tb_new(ctx, gamma, (size_t)c, 5), bb = tb_new(ctx, beta, (size_t)c, 2);
  tbuf bsm = tb_new(ctx, NULL, (size_t)c, 7), bsi = tb_new(ctx, NULL, (size_t)c, 1);
  tbuf brm = tb_new(ctx, rm0, (size_t)c, 9), brv = tb_new(ctx, rv0, (size_t)c, 4);
  tbuf bdy = tb_new(ctx, dy, total, 6), bdx = tb_new(ctx, NULL, total, 2);
  tbuf bdg = tb_new(ctx, gamma, (size_t)c, 3), bdb = tb_new(ctx, beta, (size_t)c, 11);
  clgan_view vg = affine ? tb_view(bg) : CLGAN_NONE, vb = affine ? tb_view(bb) : CLGAN_NONE;
  float slope = 0.2f;
  CHECK_OK(clgan_profile_start(ctx));
  CHECK_OK(clgan_batchnorm_act_forward_train(ctx, n, c, hw, tb_view(bx), vg, vb,
                                             (clgan_act)act, slope, tb_view(by), tb_view(bsm),
                                             tb_view(bsi), tb_view(brm), tb_view(brv), 0.1f,
                                             1e-5f));
  /* accumulate into dgamma/dbeta (they start at gamma/beta) */
  CHECK_OK(clgan_batchnorm_act_backward(ctx, n, c, hw, tb_view(bx), tb_view(bdy), vg, vb,
                                        (clgan_act)act, slope, tb_view(bsm), tb_view(bsi),
                                        tb_view(bdx), tb_view(bdg), tb_view(bdb), 1));
  clgan_profile_entry *prof = NULL;
  int np = 0;
  CHECK_OK(clgan_profile_read(ctx, &prof, &np));
  o->lanes_fwd = o->lanes_bwd = o->fwd_l1 = 0;
  for (int i = 0; i < np; i++) {
    if (!strncmp(prof[i].name, "bn_forward_train_lanes", 22)) {
      o->lanes_fwd += (int)prof[i].calls;
      int b = 0;
      while (b < 30 && (1 << b) < atoi(prof[i].name + 22)) b++;
      lanes_seen |= 1u << b;
    }
    if (!strncmp(prof[i].name, "bn_backward_lanes", 17)) o->lanes_bwd += (int)prof[i].calls;
    if (!strcmp(prof[i].name, "bn_forward_train_lanes1x2")) o->fwd_l1 += (int)prof[i].calls;
  }
  free(prof);
  clgan_profile_stop(ctx);
  o->y = tu_alloc(total);
  o->dx = tu_alloc(total);
  tb_get(ctx, by, o->y);
  tb_get(ctx, bdx, o->dx);
  tb_get(ctx, bsm, o->sm);
  tb_get(ctx, bsi, o->si);
  tb_get(ctx, brm, o->rm);
  tb_get(ctx, brv, o->rv);
  tb_get(ctx, bdg, o->dg);
  tb_get(ctx, bdb, o->db);
  tbuf *all[] = {&bx, &by, &bg, &bb, &bsm, &bsi, &brm, &brv, &bdy, &bdx, &bdg, &bdb};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
    CHECK(tb_guards_ok(ctx, *all[i]), "%s form N=%d C=%d HW=%d: buffer %zu written outside "
          "its view", form, n, c, hw, i);
    tb_free(all[i]);
  }
  unsetenv("CLGAN_BN_FORM");
}

static int same_bits(const float *a, const float *b, size_t n, const char *what, int nn, int c,
                     int hw, int act) {
  for (size_t i = 0; i < n; i++)
    if (memcmp(&a[i], &b[i], sizeof(float))) {
      CHECK(0, "%s (N=%d C=%d HW=%d act %d): [%zu] lanes %.9g, groups %.9g", what, nn, c, hw,
            act, i, (double)a[i], (double)b[i]);
      return 0;
    }
  CHECK(1, "%s", what);
  return 1;
}

/* Returns the number of lanes launches seen. */
static int run_shape(clgan_ctx *ctx, int n, int c, int hw, int act, int affine) {
  size_t total = (size_t)n * c * hw;
  float *x = tu_alloc(total), *dy = tu_alloc(total), gamma[1024], beta[1024];
  ref_fill_uniform(x, total, 100 + total);
  ref_fill_uniform(dy, total, 200 + total);
  ref_fill_uniform(gamma, (size_t)c, 3);
  ref_fill_uniform(beta, (size_t)c, 4);
  for (int ci = 0; ci < c; ci++) gamma[ci] += 1.5f;
  for (size_t i = 0; i < total; i++) {
    int ci = (int)(i / (size_t)hw % (size_t)c);
    x[i] = x[i] * (1.0f + 0.25f * (float)(ci % 5)) + 3.0f - 0.5f * (float)(ci % 7);
  }
  outs L, G;
  run_form(ctx, "lanes", n, c, hw, act, affine, x, dy, gamma, beta, &L);
  run_form(ctx, "groups", n, c, hw, act, affine, x, dy, gamma, beta, &G);
  CHECK(G.lanes_fwd == 0 && G.lanes_bwd == 0, "CLGAN_BN_FORM=groups still ran lanes kernels");
  CHECK(L.lanes_fwd == L.lanes_bwd + L.fwd_l1, "lanes: forward %d (%d with l = 1), backward %d "
        "launches", L.lanes_fwd, L.fwd_l1, L.lanes_bwd);
  same_bits(L.y, G.y, total, "y", n, c, hw, act);
  same_bits(L.dx, G.dx, total, "dx", n, c, hw, act);
  same_bits(L.sm, G.sm, (size_t)c, "save_mean", n, c, hw, act);
  same_bits(L.si, G.si, (size_t)c, "save_invstd", n, c, hw, act);
  same_bits(L.rm, G.rm, (size_t)c, "running_mean", n, c, hw, act);
  same_bits(L.rv, G.rv, (size_t)c, "running_var", n, c, hw, act);
  same_bits(L.dg, G.dg, (size_t)c, "dgamma", n, c, hw, act);
  same_bits(L.db, G.db, (size_t)c, "dbeta", n, c, hw, act);

  /* the C reference (identity activation: the fused ones are test_bn_act.c's) */
  if (act == 0) {
    float *want = tu_alloc(total), *dxw = tu_alloc(total), sm[1024], si[1024], rm[1024], rv[1024];
    float dgw[1024], dbw[1024];
    for (int i = 0; i < c; i++) rm[i] = 0.01f * (float)i, rv[i] = 1.0f + 0.02f * (float)i;
    ref_batchnorm_forward_train(n, c, hw, x, affine ? gamma : NULL, affine ? beta : NULL, want,
                                sm, si, rm, rv, 0.1f, 1e-5f);
    NN_CLOSE(L.y, want, total, TOL_Y, "lanes y vs reference");
    NN_CLOSE(L.sm, sm, (size_t)c, TOL_MEAN, "lanes save_mean vs reference");
    NN_CLOSE(L.si, si, (size_t)c, TOL_STD, "lanes save_invstd vs reference");
    NN_CLOSE(L.rm, rm, (size_t)c, TOL_MEAN, "lanes running_mean vs reference");
    NN_CLOSE(L.rv, rv, (size_t)c, TOL_STD, "lanes running_var vs reference");
    memcpy(dgw, gamma, sizeof(float) * c);
    memcpy(dbw, beta, sizeof(float) * c);
    ref_batchnorm_backward(n, c, hw, x, dy, affine ? gamma : NULL, L.sm, L.si, dxw, dgw, dbw, 1);
    NN_CLOSE(L.dx, dxw, total, TOL_Y, "lanes dx vs reference");
    double tol_sum = 1e-6 * (double)n * hw;
    NN_CLOSE(L.dg, dgw, (size_t)c, tol_sum, 1e-4, "lanes dgamma vs reference");
    NN_CLOSE(L.db, dbw, (size_t)c, tol_sum, 1e-4, "lanes dbeta vs reference");
    free(want);
    free(dxw);
  }
  free(L.y), free(L.dx), free(G.y), free(G.dx), free(x), free(dy);
  return L.lanes_fwd;
}

int main(int argc, char **argv) {
  int small = nn_small(argc, argv);
  clgan_ctx *ctx = NULL;
  clgan_status s = clgan_ctx_create(NULL, CLGAN_CTX_PROFILING, &ctx);
  if (s == CLGAN_ERR_NO_PLATFORM || s == CLGAN_ERR_NO_DEVICE) {
    printf("SKIP: no OpenCL device: %s\n", clgan_last_error());
    return TU_SKIP;
  }
  CHECK(s == CLGAN_OK, "opening the device: %s", clgan_last_error());
  if (s) return tu_finish("test_bn_lanes");
  /* The group form's item count l (so the lane count) depends on C and the compute units:
   * about 256 * CUs / C, 2..64 where the lanes apply (16 channels: 32 lanes on 2 compute
   * units). Channels from 16 to 512 give some l in range on 1 to 128 compute units. HW = 48 is a multiple of every l; 7, 13, 21, 35,
   * 49 and 196 leave tails (HW % l values at the end of each sample). */
  int lanes = 0;
  if (small) {
    const int shapes[][3] = {{2, 32, 13}, {1, 16, 35}, {2, 64, 7}, {1, 128, 16}, {2, 32, 16}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
      lanes += run_shape(ctx, shapes[i][0], shapes[i][1], shapes[i][2], (int)i % 3, i != 1);
  } else {
    const int cs[] = {16, 32, 64, 128, 256, 512, 1023};
    for (int i = 0; i < 7; i++)
      for (int act = 0; act < 3; act++) {
        lanes += run_shape(ctx, 3 + act, cs[i], 48, act, act != 1);
        lanes += run_shape(ctx, 2 + act, cs[i], i % 2 ? 21 : 35, act, act != 2);
      }
    /* 8 channels: 64 lanes on 2 compute units (HW 64: no tail; 100: a tail) */
    for (int act = 0; act < 3; act++) {
      lanes += run_shape(ctx, 3, 8, 64, act, 1);
      lanes += run_shape(ctx, 2, 8, 100, act, act != 1);
    }
    /* dcgan28's batch norms (7x7, 14x14) and dcgan64's widest (32x32), batch 16 */
    for (int act = 0; act < 3; act++) {
      lanes += run_shape(ctx, 16, 256, 49, act, 1);
      lanes += run_shape(ctx, 16, 128, 49, act, 1);
      lanes += run_shape(ctx, 16, 128, 196, act, 1);
    }
    lanes += run_shape(ctx, 16, 64, 1024, 1, 1);
    lanes += run_shape(ctx, 16, 64, 1024, 0, 1);
    /* an odd C: the two-channel forms' last item holds one channel */
    for (int act = 0; act < 3; act++) {
      lanes += run_shape(ctx, 3, 33, 48, act, act != 1);
      lanes += run_shape(ctx, 2, 129, 21, act, 1);
    }
  }
  CHECK(lanes > 0, "no shape ran the lanes kernels (CLGAN_BN_FORM=lanes)");
  /* HW = 1 (after a dense layer): the group form spreads the batch over its items, which
   * the lanes do not, so it must run */
  CHECK(run_shape(ctx, 8, 64, 1, 0, 1) == 0, "lanes ran with HW = 1");
  printf("lanes launches: %d; lane counts:", lanes);
  for (int b = 0; b < 31; b++)
    if (lanes_seen & (1u << b)) printf(" %d", 1 << b);
  printf("\n");
  clgan_ctx_free(ctx);
  return tu_finish("test_bn_lanes");
}
