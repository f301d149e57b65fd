/* Doctor checks for the graph-model nodes (src/ops/ops_graph.c): each once on small shapes
 * against tests/ref/ref_graph.c, tolerances as tests/ops_graph/. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "ref.h"
#include "ref_graph.h"

enum { N = 3, C = 4, H = 6, W = 10, T = N * C * H * W };

/* worst normalised error of device floats against double reference values */
static double derr(const float *got, const double *want, size_t n, double abs_tol,
                   double rel_tol) {
  double e = 0.0;
  for (size_t i = 0; i < n; i++) {
    double v = fabs(got[i] - want[i]) / (abs_tol + rel_tol * fabs(want[i]));
    if (!(v <= e)) e = v;
  }
  return e;
}

static double worse(double a, double b) { return a > b || isnan(a) ? a : b; }

/* upsample 2 backward, avgpool 2, pixel shuffle 2, channel copy: one input tensor x and
 * two outputs sized T each; instance norm forward + backward; PReLU backward; dropout. */
static clgan_status check_graph(clgan_ctx *ctx, double *err, char *detail, size_t cap) {
  float *x = calloc(T, sizeof(float)), *dy = calloc(4 * T, sizeof(float));
  float *got = calloc(4 * T, sizeof(float)), *pf = calloc(2 * N * C + 2 * C, sizeof(float));
  double *xd = calloc(4 * T, sizeof(double)), *dyd = calloc(4 * T, sizeof(double));
  double *want = calloc(4 * T, sizeof(double)), *sd = calloc(2 * N * C, sizeof(double));
  cl_mem bx = NULL, bdy = NULL, bo = NULL, bs = NULL;
  clgan_status s = CLGAN_OK;
  if (!x || !dy || !got || !pf || !xd || !dyd || !want || !sd)
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s) {
    ref_fill_uniform(x, T, 31);
    ref_fill_uniform(dy, 4 * T, 32);
    for (int i = 0; i < T; i++) xd[i] = x[i];
    for (int i = 0; i < 4 * T; i++) dyd[i] = dy[i];
    s = doctor_upload(ctx, x, T, "doctor.graph.x", &bx);
  }
  if (!s) s = doctor_upload(ctx, dy, 4 * T, "doctor.graph.dy", &bdy);
  if (!s) s = doctor_upload(ctx, got, 4 * T, "doctor.graph.out", &bo);
  if (!s) s = doctor_upload(ctx, pf, 2 * N * C + 2 * C, "doctor.graph.saved", &bs);
  clgan_view vx = CLGAN_VIEW(bx, 0), vdy = CLGAN_VIEW(bdy, 0), vo = CLGAN_VIEW(bo, 0);
  *err = 0.0;
  /* upsample backward by 2: (N, C, H, W) from dy (N, C, 2H, 2W) */
  if (!s) s = clgan_upsample_backward(ctx, N, C, H, W, 2, vdy, vo, 0);
  if (!s) s = doctor_download(ctx, bo, T, got);
  if (!s) {
    ref_upsample_backward(N, C, H, W, 2, dyd, want, 0);
    *err = worse(*err, derr(got, want, T, 1.2e-7 * 4, 1e-6));
    s = clgan_pixelshuffle_forward(ctx, N, 1, H, W, 2, vx, vo); /* C = 4 = 1 * 2 * 2 */
  }
  if (!s) s = doctor_download(ctx, bo, T, got);
  if (!s) {
    ref_pixelshuffle_forward(N, 1, H, W, 2, xd, want);
    *err = worse(*err, derr(got, want, T, 1e-30, 1.2e-7));
    s = clgan_avgpool_forward(ctx, N, C, H, W, 2, vx, vo);
  }
  if (!s) s = doctor_download(ctx, bo, T / 4, got);
  if (!s) {
    ref_avgpool_forward(N, C, H, W, 2, xd, want);
    *err = worse(*err, derr(got, want, T / 4, 1.2e-7 * 4, 1e-6));
    s = clgan_instancenorm_forward(ctx, N, C, H * W, vx, CLGAN_NONE, CLGAN_NONE, 1e-5f, vo,
                                   CLGAN_VIEW(bs, 0), CLGAN_VIEW(bs, N * C));
  }
  if (!s) s = doctor_download(ctx, bo, T, got);
  if (!s) {
    ref_instancenorm_forward(N, C, H * W, xd, NULL, NULL, 1e-5, want, sd, sd + N * C);
    *err = worse(*err, derr(got, want, T, 2e-5 + 8e-7 * sqrt(H * W), 1e-4));
    /* backward from the device's saves, with dgamma/dbeta (gamma = 1: none given) */
    s = doctor_download(ctx, bs, 2 * N * C, pf);
  }
  if (!s) {
    for (int i = 0; i < 2 * N * C; i++) sd[i] = pf[i];
    s = clgan_instancenorm_backward(ctx, N, C, H * W, vx, vdy, CLGAN_NONE, CLGAN_VIEW(bs, 0),
                                    CLGAN_VIEW(bs, N * C), vo, CLGAN_VIEW(bo, T),
                                    CLGAN_VIEW(bo, T + C), 0);
  }
  if (!s) s = doctor_download(ctx, bo, T + 2 * C, got);
  if (!s) {
    ref_instancenorm_backward(N, C, H * W, xd, dyd, NULL, sd, sd + N * C, want, want + T,
                              want + T + C, 0);
    *err = worse(*err, derr(got, want, T, 2e-5 + 8e-7 * sqrt(H * W), 1e-4));
    *err = worse(*err, derr(got + T, want + T, 2 * C, 1e-6 * N * H * W, 1e-4));
    s = clgan_dropout_forward(ctx, T, 0.3f, 99, 7, vx, vo);
  }
  if (!s) s = doctor_download(ctx, bo, T, got);
  if (!s) {
    ref_dropout(T, 0.3f, 99, 7, xd, want, 0);
    *err = worse(*err, derr(got, want, T, 1.2e-7, 2.4e-7));
  }
  snprintf(detail, cap, "upsample, pixel shuffle, avgpool, instance norm, dropout; %dx%dx%dx%d",
           N, C, H, W);
  clgan_buffer_release(&bx);
  clgan_buffer_release(&bdy);
  clgan_buffer_release(&bo);
  clgan_buffer_release(&bs);
  free(x), free(dy), free(got), free(pf), free(xd), free(dyd), free(want), free(sd);
  return s;
}

const doctor_check doctor_checks_graph[] = {
    {"graph nodes", check_graph},
    {NULL, NULL},
};
