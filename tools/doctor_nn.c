/* Doctor checks for the nn operators: batch norm, activations, GAN losses, Adam/SGD, Philox
 * streams and reductions, each once on small shapes against tests/ref/ref_nn.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "ref.h"

/* Up to 8 host arrays and device buffers per check, freed together. */
typedef struct nn_bufs {
  float *host[8];
  cl_mem mem[8];
} nn_bufs;

static void nn_bufs_free(nn_bufs *b) {
  for (int i = 0; i < 8; i++) {
    free(b->host[i]);
    clgan_buffer_release(&b->mem[i]);
  }
}

static float *nn_alloc(nn_bufs *b, int slot, size_t n) {
  b->host[slot] = calloc(n ? n : 1, sizeof(float));
  return b->host[slot];
}

static double fmax_err(double a, double b) { return a > b || isnan(a) ? a : b; }

/* A device buffer of n floats written in full from host (zeros when host is NULL): under
 * Oclgrind a buffer never written from the host can inherit a released one's stale
 * uninitialised-memory shadow and report false positives. */
static clgan_status nn_upload(clgan_ctx *ctx, const float *host, size_t n, const char *what,
                              cl_mem *out) {
  float *zeros = NULL;
  if (!host && !(host = zeros = calloc(n ? n : 1, sizeof(float))))
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  clgan_status s = doctor_upload(ctx, host, n, what, out);
  free(zeros);
  return s;
}

static clgan_status check_batchnorm(clgan_ctx *ctx, double *err, char *detail, size_t cap) {
  enum { N = 3, C = 5, HW = 7, T = N * C * HW };
  nn_bufs b = {{0}, {0}};
  float *x = nn_alloc(&b, 0, T), *dy = nn_alloc(&b, 1, T), *p = nn_alloc(&b, 2, 6 * C);
  float *got = nn_alloc(&b, 3, T), *want = nn_alloc(&b, 4, T), *stats = nn_alloc(&b, 5, 6 * C);
  if (!x || !dy || !p || !got || !want || !stats) {
    nn_bufs_free(&b);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  ref_fill_uniform(x, T, 21);
  ref_fill_uniform(dy, T, 22);
  ref_fill_uniform(p, 6 * C, 23);
  for (int i = 0; i < T; i++) x[i] = 2.0f * x[i] + 1.0f;
  /* p: gamma, beta, running mean, running var, dgamma, dbeta (each C) */
  for (int c = 0; c < C; c++) p[3 * C + c] = 0.5f + fabsf(p[3 * C + c]);
  clgan_status s = nn_upload(ctx, x, T, "doctor.bn.x", &b.mem[0]);
  if (!s) s = nn_upload(ctx, dy, T, "doctor.bn.dy", &b.mem[1]);
  if (!s) s = nn_upload(ctx, p, 6 * C, "doctor.bn.params", &b.mem[2]);
  if (!s) s = nn_upload(ctx, NULL, T, "doctor.bn.y", &b.mem[3]);
  if (!s) s = nn_upload(ctx, NULL, 2 * C, "doctor.bn.saved", &b.mem[4]);
  cl_mem bp = b.mem[2], sv = b.mem[4];
  if (!s)
    s = clgan_batchnorm_forward_train(ctx, N, C, HW, CLGAN_VIEW(b.mem[0], 0), CLGAN_VIEW(bp, 0),
                                      CLGAN_VIEW(bp, C), CLGAN_VIEW(b.mem[3], 0),
                                      CLGAN_VIEW(sv, 0), CLGAN_VIEW(sv, C),
                                      CLGAN_VIEW(bp, 2 * C), CLGAN_VIEW(bp, 3 * C), 0.1f, 1e-5f);
  if (!s) s = doctor_download(ctx, b.mem[3], T, got);
  if (!s) s = doctor_download(ctx, bp, 6 * C, stats);
  if (!s) {
    float *rs = p + 2 * C, sm[C], si[C];
    ref_batchnorm_forward_train(N, C, HW, x, p, p + C, want, sm, si, rs, rs + C, 0.1f, 1e-5f);
    *err = fmax_err(ref_max_err(got, want, T, 2e-5, 1e-4, NULL),
                    ref_max_err(stats + 2 * C, rs, 2 * C, 1e-6, 1e-4, NULL));
    /* backward from the device's saved statistics, accumulating into dgamma/dbeta */
    s = clgan_batchnorm_backward(ctx, N, C, HW, CLGAN_VIEW(b.mem[0], 0), CLGAN_VIEW(b.mem[1], 0),
                                 CLGAN_VIEW(bp, 0), CLGAN_VIEW(sv, 0), CLGAN_VIEW(sv, C),
                                 CLGAN_VIEW(b.mem[3], 0), CLGAN_VIEW(bp, 4 * C),
                                 CLGAN_VIEW(bp, 5 * C), 1);
    if (!s) s = clgan_buffer_read(ctx, sv, 0, C * sizeof(float), sm);
    if (!s) s = clgan_buffer_read(ctx, sv, C * sizeof(float), C * sizeof(float), si);
    if (!s) s = doctor_download(ctx, b.mem[3], T, got);
    if (!s) s = doctor_download(ctx, bp, 6 * C, stats);
    if (!s) {
      ref_batchnorm_backward(N, C, HW, x, dy, p, sm, si, want, p + 4 * C, p + 5 * C, 1);
      *err = fmax_err(*err, ref_max_err(got, want, T, 2e-5, 1e-4, NULL));
      *err = fmax_err(*err, ref_max_err(stats + 4 * C, p + 4 * C, 2 * C, 1e-4, 1e-4, NULL));
    }
  }
  snprintf(detail, cap, "train + backward, N=%d C=%d HW=%d, running stats", N, C, HW);
  nn_bufs_free(&b);
  return s;
}

static clgan_status check_activations(clgan_ctx *ctx, double *err, char *detail, size_t cap) {
  enum { N = 333 };
  nn_bufs b = {{0}, {0}};
  float *x = nn_alloc(&b, 0, N), *dy = nn_alloc(&b, 1, N), *got = nn_alloc(&b, 2, N);
  float *want = nn_alloc(&b, 3, N);
  if (!x || !dy || !got || !want) {
    nn_bufs_free(&b);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  ref_fill_uniform(x, N, 24);
  ref_fill_uniform(dy, N, 25);
  for (int i = 0; i < N; i++) x[i] *= 6.0f;
  clgan_status s = nn_upload(ctx, x, N, "doctor.act.x", &b.mem[0]);
  if (!s) s = nn_upload(ctx, dy, N, "doctor.act.dy", &b.mem[1]);
  if (!s) s = nn_upload(ctx, NULL, N, "doctor.act.y", &b.mem[2]);
  if (!s) s = nn_upload(ctx, NULL, N, "doctor.act.dx", &b.mem[3]);
  *err = 0.0;
  for (int act = CLGAN_ACT_IDENTITY; act <= CLGAN_ACT_SIGMOID && !s; act++) {
    /* tolerances as tests/ops_nn/test_activation.c */
    int smooth = act == CLGAN_ACT_TANH || act == CLGAN_ACT_SIGMOID;
    s = clgan_activation_forward(ctx, (clgan_act)act, 0.2f, N, CLGAN_VIEW(b.mem[0], 0),
                                 CLGAN_VIEW(b.mem[2], 0));
    if (!s) s = doctor_download(ctx, b.mem[2], N, got);
    if (s) break;
    ref_activation_forward(act, 0.2f, N, x, want);
    *err = fmax_err(*err, ref_max_err(got, want, N, smooth ? 1e-7 : 1e-30, smooth ? 2e-6 : 0, NULL));
    s = clgan_activation_backward(ctx, (clgan_act)act, 0.2f, N, CLGAN_VIEW(b.mem[0], 0),
                                  CLGAN_VIEW(b.mem[2], 0), CLGAN_VIEW(b.mem[1], 0),
                                  CLGAN_VIEW(b.mem[3], 0));
    if (!s) s = doctor_download(ctx, b.mem[3], N, got);
    if (s) break;
    ref_activation_backward(act, 0.2f, N, x, dy, want);
    *err = fmax_err(*err, ref_max_err(got, want, N, smooth ? 1e-6 : 1e-30, smooth ? 1e-5 : 0, NULL));
  }
  snprintf(detail, cap, "identity, relu, leaky 0.2, tanh, sigmoid; n=%d", N);
  nn_bufs_free(&b);
  return s;
}

static clgan_status check_losses(clgan_ctx *ctx, double *err, char *detail, size_t cap) {
  enum { N = 70 };
  nn_bufs b = {{0}, {0}};
  float *x = nn_alloc(&b, 0, N), *got = nn_alloc(&b, 1, N), *want = nn_alloc(&b, 2, N);
  if (!x || !got || !want) {
    nn_bufs_free(&b);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  ref_fill_uniform(x, N, 26);
  for (int i = 0; i < N; i++) x[i] *= 8.0f;
  x[0] = 100.0f;
  x[1] = -100.0f;
  clgan_status s = nn_upload(ctx, x, N, "doctor.loss.logits", &b.mem[0]);
  if (!s) s = nn_upload(ctx, NULL, 2, "doctor.loss.out", &b.mem[1]);
  if (!s) s = nn_upload(ctx, NULL, N, "doctor.loss.dlogits", &b.mem[2]);
  const struct { clgan_loss kind; float t; } cases[] = {
      {CLGAN_LOSS_BCE, 1.0f},     {CLGAN_LOSS_BCE, 0.0f},   {CLGAN_LOSS_MINIMAX_G, 0.0f},
      {CLGAN_LOSS_SQUARED, 1.0f}, {CLGAN_LOSS_HINGE, -1.0f}, {CLGAN_LOSS_LINEAR, 1.0f}};
  *err = 0.0;
  for (size_t c = 0; c < sizeof cases / sizeof *cases && !s; c++) {
    float out2[2], want2[2];
    s = clgan_loss_forward_backward(ctx, cases[c].kind, cases[c].t, N, CLGAN_VIEW(b.mem[0], 0),
                                    0.5f, CLGAN_VIEW(b.mem[1], 0), CLGAN_VIEW(b.mem[2], 0));
    if (!s) s = doctor_download(ctx, b.mem[1], 2, out2);
    if (!s) s = doctor_download(ctx, b.mem[2], N, got);
    if (s) break;
    ref_loss_forward_backward((int)cases[c].kind, cases[c].t, N, x, 0.5f, want2, want);
    /* as tests/ops_nn/test_loss.c: linear-loss terms cancel, so the absolute part scales
     * with the mean |term| */
    double mean_abs = 0.0;
    for (int i = 0; i < N; i++) mean_abs += fabs(ref_loss_f64((int)cases[c].kind, cases[c].t, x[i])) / N;
    *err = fmax_err(*err, ref_max_err(out2, want2, 2, 1e-6 * (1.0 + mean_abs), 1e-5, NULL));
    *err = fmax_err(*err, ref_max_err(got, want, N, 1e-7 * 0.5 / N, 1e-5, NULL));
  }
  snprintf(detail, cap, "bce, minimax, squared, hinge, linear; n=%d, logits to +-100", N);
  nn_bufs_free(&b);
  return s;
}

static clgan_status check_softmax_xent(clgan_ctx *ctx, double *err, char *detail, size_t cap) {
  enum { N = 37, K = 10 };
  nn_bufs b = {{0}, {0}};
  float *x = nn_alloc(&b, 0, N * K), *got = nn_alloc(&b, 1, N * K), *want = nn_alloc(&b, 2, N * K);
  float *lab = nn_alloc(&b, 3, N);
  if (!x || !got || !want || !lab) {
    nn_bufs_free(&b);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  int32_t y[N];
  ref_fill_uniform(x, N * K, 31);
  for (int i = 0; i < N * K; i++) x[i] *= 20.0f;
  for (int i = 0; i < N; i++) y[i] = (i * 3) % K;
  memcpy(lab, y, sizeof y);
  clgan_status s = nn_upload(ctx, x, N * K, "doctor.xent.logits", &b.mem[0]);
  if (!s) s = nn_upload(ctx, NULL, 2, "doctor.xent.out", &b.mem[1]);
  if (!s) s = nn_upload(ctx, NULL, N * K, "doctor.xent.dlogits", &b.mem[2]);
  if (!s) s = nn_upload(ctx, lab, N, "doctor.xent.labels", &b.mem[3]);
  float out2[2], want2[2];
  if (!s) s = clgan_softmax_xent(ctx, N, K, CLGAN_VIEW(b.mem[0], 0), CLGAN_VIEW(b.mem[3], 0),
                                 1.0f, CLGAN_VIEW(b.mem[1], 0), CLGAN_VIEW(b.mem[2], 0));
  if (!s) s = doctor_download(ctx, b.mem[1], 2, out2);
  if (!s) s = doctor_download(ctx, b.mem[2], N * K, got);
  if (!s) {
    /* tolerances as tests/ops_nn/test_softmax_xent.c */
    ref_softmax_xent(N, K, x, y, 1.0f, want2, want);
    *err = ref_max_err(out2, want2, 1, 1e-6, 1e-5, NULL);
    *err = fmax_err(*err, out2[1] == want2[1] ? 0.0 : 1e9);
    *err = fmax_err(*err, ref_max_err(got, want, N * K, 2e-6 / N, 1e-5, NULL));
  }
  snprintf(detail, cap, "n=%d rows of %d classes, logits to +-20", N, K);
  nn_bufs_free(&b);
  return s;
}

static clgan_status check_optimisers(clgan_ctx *ctx, double *err, char *detail, size_t cap) {
  enum { N = 257 };
  nn_bufs b = {{0}, {0}};
  float *p = nn_alloc(&b, 0, N), *g = nn_alloc(&b, 1, N), *m = nn_alloc(&b, 2, N);
  float *v = nn_alloc(&b, 3, N), *got = nn_alloc(&b, 4, N), *q = nn_alloc(&b, 5, N);
  float *buf = nn_alloc(&b, 6, N);
  if (!p || !g || !m || !v || !got || !q || !buf) {
    nn_bufs_free(&b);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  ref_fill_uniform(p, N, 27);
  memcpy(q, p, N * sizeof(float));
  clgan_status s = nn_upload(ctx, p, N, "doctor.adam.p", &b.mem[0]);
  if (!s) s = nn_upload(ctx, NULL, N, "doctor.adam.g", &b.mem[1]);
  if (!s) s = nn_upload(ctx, m, N, "doctor.adam.m", &b.mem[2]);
  if (!s) s = nn_upload(ctx, v, N, "doctor.adam.v", &b.mem[3]);
  if (!s) s = nn_upload(ctx, q, N, "doctor.sgd.p", &b.mem[4]);
  if (!s) s = nn_upload(ctx, NULL, N, "doctor.sgd.buf", &b.mem[5]);
  *err = 0.0;
  for (int t = 1; t <= 3 && !s; t++) {
    ref_fill_uniform(g, N, 100 + (unsigned)t);
    s = clgan_buffer_write(ctx, b.mem[1], 0, N * sizeof(float), g);
    if (!s)
      s = clgan_adam_step(ctx, N, CLGAN_VIEW(b.mem[0], 0), CLGAN_VIEW(b.mem[1], 0),
                          CLGAN_VIEW(b.mem[2], 0), CLGAN_VIEW(b.mem[3], 0), 2e-4f, 0.5f, 0.999f,
                          1e-8f, 0.01f, 1, t);
    if (!s)
      s = clgan_sgd_step(ctx, N, CLGAN_VIEW(b.mem[4], 0), CLGAN_VIEW(b.mem[1], 0),
                         CLGAN_VIEW(b.mem[5], 0), 0.1f, 0.9f, 0.0f, t);
    ref_adam_step(N, p, g, m, v, 2e-4f, 0.5f, 0.999f, 1e-8f, 0.01f, 1, t);
    ref_sgd_step(N, q, g, buf, 0.1f, 0.9f, 0.0f, t);
  }
  if (!s) s = doctor_download(ctx, b.mem[0], N, got);
  if (!s) *err = ref_max_err(got, p, N, 1e-6, 1e-6, NULL);
  if (!s) s = doctor_download(ctx, b.mem[4], N, got);
  if (!s) *err = fmax_err(*err, ref_max_err(got, q, N, 1e-6, 1e-6, NULL));
  snprintf(detail, cap, "3 steps of AdamW (lr 2e-4, betas 0.5/0.999) and SGD momentum 0.9");
  nn_bufs_free(&b);
  return s;
}

static clgan_status check_rng(clgan_ctx *ctx, double *err, char *detail, size_t cap) {
  enum { N = 1003 };
  nn_bufs b = {{0}, {0}};
  float *got = nn_alloc(&b, 0, N), *want = nn_alloc(&b, 1, N);
  if (!got || !want) {
    nn_bufs_free(&b);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  clgan_status s = nn_upload(ctx, NULL, N + 1, "doctor.rng", &b.mem[0]);
  size_t bad = 0;
  for (int kind = 0; kind < 2 && !s; kind++) {
    s = kind ? clgan_rng_normal(ctx, N, 42, 5, 0.0f, 0.02f, CLGAN_VIEW(b.mem[0], 1))
             : clgan_rng_uniform(ctx, N, 42, 5, -1.0f, 1.0f, CLGAN_VIEW(b.mem[0], 1));
    if (!s) s = clgan_buffer_read(ctx, b.mem[0], sizeof(float), N * sizeof(float), got);
    if (kind) clgan_philox_normal(N, 42, 5, 0.0f, 0.02f, want);
    else clgan_philox_uniform(N, 42, 5, -1.0f, 1.0f, want);
    for (int i = 0; i < N && !s; i++) bad += memcmp(got + i, want + i, sizeof(float)) != 0;
  }
  /* bit-identity is the contract: any differing value is a failure */
  *err = bad ? 1e9 : 0.0;
  snprintf(detail, cap, "%zu of %d uniform+normal values differ from the host twin", bad, 2 * N);
  nn_bufs_free(&b);
  return s;
}

static clgan_status check_reductions(clgan_ctx *ctx, double *err, char *detail, size_t cap) {
  enum { N = 10007, ROWS = 9, D = 77 };
  nn_bufs b = {{0}, {0}};
  float *x = nn_alloc(&b, 0, N);
  if (!x) {
    nn_bufs_free(&b);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  ref_fill_uniform(x, N, 28);
  double abs_sum = 0.0;
  for (int i = 0; i < N; i++) abs_sum += fabs(x[i]);
  clgan_status s = nn_upload(ctx, x, N, "doctor.reduce.x", &b.mem[0]);
  if (!s) s = nn_upload(ctx, NULL, 3, "doctor.reduce.out", &b.mem[1]);
  if (!s) s = clgan_reduce_sum(ctx, N, CLGAN_VIEW(b.mem[0], 0), CLGAN_VIEW(b.mem[1], 0));
  if (!s) s = clgan_reduce_sumsq(ctx, N, CLGAN_VIEW(b.mem[0], 0), CLGAN_VIEW(b.mem[1], 1));
  if (!s)
    s = clgan_pairwise_distance_mean(ctx, ROWS, D, CLGAN_VIEW(b.mem[0], 3), CLGAN_VIEW(b.mem[1], 2));
  float got[3];
  if (!s) s = doctor_download(ctx, b.mem[1], 3, got);
  if (!s) {
    float want[3] = {(float)ref_sum(N, x), (float)ref_sumsq(N, x),
                     (float)ref_pairwise_distance_mean(ROWS, D, x + 3)};
    *err = fmax_err(ref_max_err(got, want, 1, 1e-6 * abs_sum, 1e-6, NULL),
                    ref_max_err(got + 1, want + 1, 1, 1e-6 * want[1], 1e-6, NULL));
    *err = fmax_err(*err, ref_max_err(got + 2, want + 2, 1, 1e-7, 1e-5, NULL));
  }
  snprintf(detail, cap, "sum, sum of squares n=%d; pairwise distance %dx%d", N, ROWS, D);
  nn_bufs_free(&b);
  return s;
}

const doctor_check doctor_checks_nn[] = {
    {"batch norm", check_batchnorm},
    {"activations", check_activations},
    {"gan losses", check_losses},
    {"softmax xent", check_softmax_xent},
    {"adam / sgd", check_optimisers},
    {"philox rng", check_rng},
    {"reductions", check_reductions},
    {NULL, NULL},
};
