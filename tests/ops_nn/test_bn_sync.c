/* Sync-bn's split batch norm (clgan_batchnorm_partial_stats, _act_forward_apply,
 * _act_backward_partial, _act_backward_apply; src/ops/ops_batchnorm.c) against the fused
 * whole-batch kernels (themselves checked against the float64 reference in test_bn_act.c):
 * the batch is cut into replicas (1 replica, and 2 of unequal size), each runs its part,
 * the host sums the partials as tools/dist.c's allreduce would (in double, as
 * src/nets/net.c does), and the results must be the whole batch's. --small: Oclgrind. */
#include "nn_test.h"

/* Tolerances, abs + rel*|want|, as test_bn_act.c's against the reference: the two paths
 * sum in different orders. y, dx: 2e-5 + 1e-4; mean 1e-6 + 1e-5; invstd and the running
 * variance 1e-6 + 1e-4; dgamma/dbeta 1e-6 * N*HW + 1e-4. */
#define TOL_Y 2e-5, 1e-4
#define TOL_MEAN 1e-6, 1e-5
#define TOL_STD 1e-6, 1e-4

/* A device buffer of n zeros (written whole: Oclgrind checks every read is of written data). */
static cl_mem zeros(clgan_ctx *ctx, size_t n) {
  float *z = tu_alloc(n);
  cl_mem m = tu_upload(ctx, z, n);
  free(z);
  return m;
}

static void run(clgan_ctx *ctx, int n, int c, int hw, int split, int act, float slope) {
  size_t per = (size_t)c * hw, total = (size_t)n * per;
  float *x = tu_alloc(total), *dy = tu_alloc(total), *g = tu_alloc(c), *b = tu_alloc(c);
  ref_fill_uniform(x, total, 31);
  ref_fill_uniform(dy, total, 32);
  ref_fill_uniform(g, (size_t)c, 33);
  ref_fill_uniform(b, (size_t)c, 34);
  for (size_t i = 0; i < total; i++) x[i] = 2.0f * x[i] + 0.5f;
  float *ones = tu_alloc(c);
  for (int k = 0; k < c; k++) ones[k] = 1.0f;
  cl_mem X = tu_upload(ctx, x, total), DY = tu_upload(ctx, dy, total);
  cl_mem G = tu_upload(ctx, g, c), B = tu_upload(ctx, b, c);
  cl_mem YF = zeros(ctx, total), DXF = zeros(ctx, total);
  cl_mem SF = zeros(ctx, 2 * (size_t)c), RF = zeros(ctx, 2 * (size_t)c);
  cl_mem DPF = zeros(ctx, 2 * (size_t)c);
  float *zr = tu_alloc(2 * (size_t)c);
  for (int k = 0; k < c; k++) zr[c + k] = 1.0f;
  CHECK_OK(clgan_buffer_write(ctx, RF, 0, 2 * (size_t)c * sizeof(float), zr));
  clgan_view gv = CLGAN_VIEW(G, 0), bv = CLGAN_VIEW(B, 0);
  CHECK_OK(clgan_batchnorm_act_forward_train(ctx, n, c, hw, CLGAN_VIEW(X, 0), gv, bv, act, slope,
                                             CLGAN_VIEW(YF, 0), CLGAN_VIEW(SF, 0),
                                             CLGAN_VIEW(SF, (size_t)c), CLGAN_VIEW(RF, 0),
                                             CLGAN_VIEW(RF, (size_t)c), 0.1f, 1e-5f));
  CHECK_OK(clgan_batchnorm_act_backward(ctx, n, c, hw, CLGAN_VIEW(X, 0), CLGAN_VIEW(DY, 0), gv, bv,
                                        act, slope, CLGAN_VIEW(SF, 0), CLGAN_VIEW(SF, (size_t)c),
                                        CLGAN_VIEW(DXF, 0), CLGAN_VIEW(DPF, 0),
                                        CLGAN_VIEW(DPF, (size_t)c), 0));
  /* the replicas: samples [0, split) and [split, n) (one replica when split == n) */
  int nr = split < n ? 2 : 1, cnt[2] = {split, n - split};
  size_t off[2] = {0, (size_t)split * per};
  cl_mem Y = zeros(ctx, total), DX = zeros(ctx, total);
  cl_mem S[2], R[2], P[2], DP[2];
  cl_mem ST = zeros(ctx, 2 * (size_t)c), TT = zeros(ctx, 2 * (size_t)c);
  double *v = calloc(3 * (size_t)c, sizeof *v);
  float *h = tu_alloc(2 * (size_t)c);
  for (int r = 0; r < nr; r++) {
    S[r] = zeros(ctx, 2 * (size_t)c);
    R[r] = tu_upload(ctx, zr, 2 * (size_t)c);
    P[r] = zeros(ctx, 2 * (size_t)c);
    DP[r] = zeros(ctx, 2 * (size_t)c);
    CHECK_OK(clgan_batchnorm_partial_stats(ctx, cnt[r], c, hw, CLGAN_VIEW(X, off[r]),
                                           CLGAN_VIEW(P[r], 0)));
    tu_download(ctx, P[r], 0, 2 * (size_t)c, h);
    double m = (double)cnt[r] * hw;
    for (int k = 0; k < c; k++) {
      v[k] += h[k];
      v[c + k] += h[c + k] + (double)h[k] * h[k] / m;
      v[2 * c + k] += m;
    }
  }
  for (int k = 0; k < c; k++) {
    double mean = v[k] / v[2 * c + k], var = v[c + k] / v[2 * c + k] - mean * mean;
    h[k] = (float)mean, h[c + k] = (float)(var > 0 ? var : 0);
  }
  CHECK_OK(clgan_buffer_write(ctx, ST, 0, 2 * (size_t)c * sizeof(float), h));
  float M = (float)n * (float)hw;
  for (int r = 0; r < nr; r++)
    CHECK_OK(clgan_batchnorm_act_forward_apply(ctx, cnt[r], c, hw, CLGAN_VIEW(X, off[r]), gv, bv,
                                               act, slope, CLGAN_VIEW(ST, 0), M,
                                               CLGAN_VIEW(Y, off[r]), CLGAN_VIEW(S[r], 0),
                                               CLGAN_VIEW(S[r], (size_t)c), CLGAN_VIEW(R[r], 0),
                                               CLGAN_VIEW(R[r], (size_t)c), 0.1f, 1e-5f));
  memset(v, 0, 3 * (size_t)c * sizeof *v);
  for (int r = 0; r < nr; r++) {
    CHECK_OK(clgan_batchnorm_act_backward_partial(ctx, cnt[r], c, hw, CLGAN_VIEW(X, off[r]),
                                                  CLGAN_VIEW(DY, off[r]), gv, bv, act, slope,
                                                  CLGAN_VIEW(S[r], 0), CLGAN_VIEW(S[r], (size_t)c),
                                                  CLGAN_VIEW(DX, off[r]), CLGAN_VIEW(P[r], 0)));
    tu_download(ctx, P[r], 0, 2 * (size_t)c, h);
    for (int k = 0; k < 2 * c; k++) v[k] += h[k];
  }
  for (int k = 0; k < 2 * c; k++) h[k] = (float)v[k];
  CHECK_OK(clgan_buffer_write(ctx, TT, 0, 2 * (size_t)c * sizeof(float), h));
  for (int r = 0; r < nr; r++)
    CHECK_OK(clgan_batchnorm_act_backward_apply(ctx, cnt[r], c, hw, CLGAN_VIEW(X, off[r]),
                                                CLGAN_VIEW(DY, off[r]), gv, act, CLGAN_VIEW(S[r], 0),
                                                CLGAN_VIEW(S[r], (size_t)c), CLGAN_VIEW(P[r], 0),
                                                CLGAN_VIEW(TT, 0), M, CLGAN_VIEW(DX, off[r]),
                                                CLGAN_VIEW(DP[r], 0), CLGAN_VIEW(DP[r], (size_t)c), 0));
  float *want = tu_alloc(total), *got = tu_alloc(total);
  float *w2 = tu_alloc(2 * (size_t)c), *g2 = tu_alloc(2 * (size_t)c), *sum = tu_alloc(2 * (size_t)c);
  char what[160];
  tu_download(ctx, YF, 0, total, want);
  tu_download(ctx, Y, 0, total, got);
  snprintf(what, sizeof what, "y (%d,%d,%d) split %d act %d", n, c, hw, split, act);
  NN_CLOSE(got, want, total, TOL_Y, what);
  tu_download(ctx, DXF, 0, total, want);
  tu_download(ctx, DX, 0, total, got);
  snprintf(what, sizeof what, "dx (%d,%d,%d) split %d act %d", n, c, hw, split, act);
  NN_CLOSE(got, want, total, TOL_Y, what);
  for (int r = 0; r < nr; r++) {
    tu_download(ctx, SF, 0, 2 * (size_t)c, w2);
    tu_download(ctx, S[r], 0, 2 * (size_t)c, g2);
    NN_CLOSE(g2, w2, (size_t)c, TOL_MEAN, "save_mean");
    NN_CLOSE(g2 + c, w2 + c, (size_t)c, TOL_STD, "save_invstd");
    tu_download(ctx, RF, 0, 2 * (size_t)c, w2);
    tu_download(ctx, R[r], 0, 2 * (size_t)c, g2);
    NN_CLOSE(g2, w2, (size_t)c, TOL_MEAN, "running_mean");
    NN_CLOSE(g2 + c, w2 + c, (size_t)c, TOL_STD, "running_var");
    tu_download(ctx, DP[r], 0, 2 * (size_t)c, g2);
    for (int k = 0; k < 2 * c; k++) sum[k] += g2[k];
  }
  tu_download(ctx, DPF, 0, 2 * (size_t)c, w2);
  snprintf(what, sizeof what, "dgamma, dbeta summed over the replicas (%d,%d,%d)", n, c, hw);
  NN_CLOSE(sum, w2, 2 * (size_t)c, 1e-6 * n * hw, 1e-4, what);
  cl_mem all[] = {X, DY, G, B, YF, DXF, SF, RF, DPF, Y, DX, ST, TT};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) clgan_buffer_release(&all[i]);
  for (int r = 0; r < nr; r++) {
    clgan_buffer_release(&S[r]);
    clgan_buffer_release(&R[r]);
    clgan_buffer_release(&P[r]);
    clgan_buffer_release(&DP[r]);
  }
  free(x), free(dy), free(g), free(b), free(ones), free(zr), free(v), free(h);
  free(want), free(got), free(w2), free(g2), free(sum);
}

int main(int argc, char **argv) {
  int small = nn_small(argc, argv);
  clgan_ctx *ctx = tu_open_device();
  const int shapes[][4] = {{3, 2, 5, 1}, {5, 3, 7, 2}, {4, 3, 1, 1}};
  for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
    for (int a = 0; a < 3; a++) {
      const int *s = shapes[i];
      run(ctx, s[0], s[1], s[2], s[0], a, 0.2f);   /* one replica */
      run(ctx, s[0], s[1], s[2], s[3], a, 0.2f);   /* two, unequal */
    }
  if (!small) {
    run(ctx, 64, 128, 49, 24, CLGAN_ACT_LEAKY_RELU, 0.2f); /* dcgan28's D, shares 24/40 */
    run(ctx, 32, 256, 49, 16, CLGAN_ACT_RELU, 0.0f);       /* dcgan28's G, 2 x 16 */
  }
  clgan_ctx_free(ctx);
  return tu_finish("bn_sync");
}
