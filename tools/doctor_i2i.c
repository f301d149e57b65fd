/* Doctor checks for the image-to-image (pix2pix) kernels: the reflect-padded conv (reflect
 * pad, then a conv without padding, as net.c runs pm=reflect; forward and both gradients),
 * the content losses L1 and MSE, and the GAN loss over a PatchGAN's map of logits (the mean
 * over batch x patches), each once on small shapes against tests/ref/ (ref_graph.c,
 * ref_conv.c, ref_nn.c); tolerances as tests/ops_graph/test_graph_reflect.c and
 * tests/ops_nn/test_content_loss.c. Also run under Oclgrind by tests/core/test_oclgrind.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"
#include "ref.h"
#include "ref_graph.h"

static double worst(double a, double b) { return a > b || isnan(a) ? a : b; }

/* worst normalised error of device floats against double reference values */
static double derr(const float *got, const double *want, size_t n, double abs_tol,
                   double rel_tol) {
  double e = 0.0;
  for (size_t i = 0; i < n; i++) e = worst(e, fabs(got[i] - want[i]) / (abs_tol + rel_tol * fabs(want[i])));
  return e;
}

/* Up to 10 device buffers and host arrays of one check, freed together. */
typedef struct i2i_bufs {
  cl_mem mem[10];
  float *host[10];
} i2i_bufs;

static void bufs_free(i2i_bufs *b) {
  for (int i = 0; i < 10; i++) clgan_buffer_release(&b->mem[i]), free(b->host[i]);
}

/* host[slot]: n floats, uniform in [-1, 1) from seed (0: zeros), uploaded into mem[slot] */
static clgan_status buf_make(clgan_ctx *ctx, i2i_bufs *b, int slot, size_t n,
                             unsigned long long seed, const char *what) {
  b->host[slot] = calloc(n ? n : 1, sizeof(float));
  if (!b->host[slot]) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (seed) ref_fill_uniform(b->host[slot], n, seed);
  return doctor_upload(ctx, b->host[slot], n, what, &b->mem[slot]);
}

/* 3x3 conv, stride 1, reflect padding 1 (pix2pix32-up's last conv), c_in 3 -> c_out 4 on 2
 * images of 5x6: y, dx (through the pad's adjoint), dw, db */
static clgan_status check_reflect_conv(clgan_ctx *ctx, double *err, char *detail, size_t cap) {
  enum { N = 2, CI = 3, CO = 4, H = 5, W = 6, P = 1, HP = H + 2 * P, WP = W + 2 * P };
  clgan_conv c = {.n = N, .c_in = CI, .h_in = HP, .w_in = WP, .c_out = CO, .kh = 3, .kw = 3,
                  .stride = 1, .pad = 0};
  clgan_status s = clgan_conv_init(&c);
  if (s) return s;
  ref_conv_shape rs = {.n = N, .c_in = CI, .h_in = HP, .w_in = WP, .c_out = CO, .kh = 3,
                       .kw = 3, .stride = 1, .pad = 0};
  ref_conv_shape_init(&rs, 0);
  const size_t nx = N * CI * H * W, nxp = N * CI * HP * WP, ny = (size_t)N * CO * H * W;
  const size_t nw = CO * CI * 9;
  enum { X, XP, WT, B, Y, DY, DXP, DX, DW, DB };
  i2i_bufs b = {{0}, {0}};
  const size_t sizes[10] = {nx, nxp, nw, CO, ny, ny, nxp, nx, nw, CO};
  for (int i = 0; i < 10 && !s; i++)
    s = buf_make(ctx, &b, i, sizes[i], i == X || i == WT || i == B || i == DY ? 60 + i : 0,
                 "doctor.reflect_conv");
  size_t nws = s ? 0 : clgan_conv_workspace(&c);
  float *zeros = s ? NULL : calloc(nws ? nws : 1, sizeof(float));
  cl_mem ws = NULL;
  if (!s && !zeros) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s) s = doctor_upload(ctx, zeros, nws, "doctor.reflect_conv.ws", &ws);
  free(zeros);
  double *xd = malloc(sizeof(double) * nx), *xpd = malloc(sizeof(double) * nxp);
  double *dxd = malloc(sizeof(double) * nx);
  float *xpf = malloc(sizeof(float) * nxp), *f = malloc(sizeof(float) * (ny + nxp + nw + CO));
  float *got = malloc(sizeof(float) * (ny + nxp + nw));
  if (!s && (!xd || !xpd || !dxd || !xpf || !f || !got))
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  double e_y = 0, e_dx = 0, e_dw = 0, e_db = 0;
  clgan_view v[10];
  for (int i = 0; i < 10; i++) v[i] = CLGAN_VIEW(b.mem[i], 0);
  if (!s) s = clgan_reflect_pad_forward(ctx, N, CI, H, W, P, v[X], v[XP]);
  if (!s) s = clgan_conv_forward(ctx, &c, v[XP], v[WT], v[B], v[Y], CLGAN_VIEW(ws, 0));
  if (!s) s = clgan_conv_backward_data(ctx, &c, v[DY], v[WT], v[DXP], CLGAN_VIEW(ws, 0));
  if (!s) s = clgan_reflect_pad_backward(ctx, N, CI, H, W, P, v[DXP], v[DX], 0);
  if (!s) s = clgan_conv_backward_weight(ctx, &c, v[XP], v[DY], v[DW], v[DB], 0, CLGAN_VIEW(ws, 0));
  if (!s) {
    /* the reference: pad (exact copies, so float after it loses nothing), conv, adjoint */
    for (size_t i = 0; i < nx; i++) xd[i] = b.host[X][i];
    ref_reflect_pad_forward(N * CI, H, W, P, xd, xpd);
    for (size_t i = 0; i < nxp; i++) xpf[i] = (float)xpd[i];
    float *fy = f, *fdxp = f + ny, *fdw = f + ny + nxp, *fdb = f + ny + nxp + nw;
    ref_conv2d_forward(&rs, xpf, b.host[WT], b.host[B], fy);
    ref_conv2d_backward_data(&rs, b.host[DY], b.host[WT], fdxp);
    ref_conv2d_backward_weight(&rs, xpf, b.host[DY], fdw, 0);
    ref_bias_backward(N, CO, H * W, b.host[DY], fdb, 0);
    for (size_t i = 0; i < nxp; i++) xpd[i] = fdxp[i];
    ref_reflect_pad_backward(N * CI, H, W, P, xpd, dxd, 0);
    s = doctor_download(ctx, b.mem[Y], ny, got);
    if (!s) e_y = ref_max_err(got, fy, ny, 1e-5, 1e-4, NULL);
    if (!s) s = doctor_download(ctx, b.mem[DX], nx, got);
    /* up to 4 padded positions read one input value (p = 1): 4 conv sums added */
    if (!s) e_dx = derr(got, dxd, nx, 4e-5, 1e-4);
    if (!s) s = doctor_download(ctx, b.mem[DW], nw, got);
    if (!s) e_dw = ref_max_err(got, fdw, nw, 1e-5 * N * H * W / 9.0, 1e-4, NULL);
    if (!s) s = doctor_download(ctx, b.mem[DB], CO, got);
    if (!s) e_db = ref_max_err(got, fdb, CO, 1e-5 * N * H * W / 9.0, 1e-4, NULL);
  }
  if (!s) *err = worst(worst(e_y, e_dx), worst(e_dw, e_db));
  snprintf(detail, cap, "%dx%d k3 reflect p1: y %.2g dx %.2g dw %.2g db %.2g", H, W, e_y, e_dx,
           e_dw, e_db);
  clgan_buffer_release(&ws);
  bufs_free(&b);
  free(xd), free(xpd), free(dxd), free(xpf), free(f), free(got);
  return s;
}

/* mean |a - b| and mean (a - b)^2 with their gradients (lambda = 100 for L1, as pix2pix),
 * plus L1 added into an existing gradient (G's adversarial one) */
static clgan_status check_content(clgan_ctx *ctx, double *err, char *detail, size_t cap) {
  enum { N = 77 };
  i2i_bufs b = {{0}, {0}};
  clgan_status s = buf_make(ctx, &b, 0, N, 71, "doctor.content.a");
  if (!s) {
    b.host[1] = malloc(sizeof(float) * N);
    if (!b.host[1]) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  if (!s) {
    ref_fill_uniform(b.host[1], N, 72);
    b.host[1][2] = b.host[0][2], b.host[1][3] = b.host[0][3]; /* a == b: L1's gradient 0 */
    s = doctor_upload(ctx, b.host[1], N, "doctor.content.b", &b.mem[1]);
  }
  if (!s) s = buf_make(ctx, &b, 2, 1, 0, "doctor.content.out");
  if (!s) s = buf_make(ctx, &b, 3, N, 73, "doctor.content.da");
  float *got = malloc(sizeof(float) * N), *da0 = malloc(sizeof(float) * N);
  double *g = malloc(sizeof(double) * N);
  if (!s && (!got || !g || !da0)) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s) memcpy(da0, b.host[3], sizeof(float) * N);
  *err = 0.0;
  const struct { int kind; float scale; int acc; } cases[] = {
      {REF_CONTENT_L1, 100.0f, 0}, {REF_CONTENT_MSE, 1.0f, 0}, {REF_CONTENT_L1, 1.0f, 1}};
  for (int k = 0; k < 3 && !s; k++) {
    if (cases[k].acc) s = clgan_buffer_write(ctx, b.mem[3], 0, sizeof(float) * N, da0);
    if (!s) s = clgan_content_loss(ctx, (clgan_content)cases[k].kind, N, CLGAN_VIEW(b.mem[0], 0),
                                   CLGAN_VIEW(b.mem[1], 0), cases[k].scale,
                                   CLGAN_VIEW(b.mem[2], 0), CLGAN_VIEW(b.mem[3], 0), cases[k].acc);
    float out;
    double loss;
    if (!s) s = doctor_download(ctx, b.mem[2], 1, &out);
    if (!s) s = doctor_download(ctx, b.mem[3], N, got);
    if (s) break;
    ref_content_loss(cases[k].kind, N, b.host[0], b.host[1], cases[k].scale, &loss, g);
    if (cases[k].acc)
      for (int i = 0; i < N; i++) g[i] += da0[i];
    *err = worst(*err, derr(&out, &loss, 1, 1e-7, 1e-5));
    *err = worst(*err, derr(got, g, N, 1e-9 * cases[k].scale / N + (cases[k].acc ? 1.2e-7 : 0),
                            1e-6));
  }
  snprintf(detail, cap, "l1 x100, mse, l1 accumulated; n=%d", N);
  bufs_free(&b);
  free(got), free(g), free(da0);
  return s;
}

/* BCE (target 1 and 0) and least squares over 2 images' 6x6 logit maps, D's loss halved:
 * the mean over batch x patches against the per-image mean of per-patch losses */
static clgan_status check_patch_loss(clgan_ctx *ctx, double *err, char *detail, size_t cap) {
  enum { B = 2, HW = 36, N = B * HW };
  i2i_bufs b = {{0}, {0}};
  clgan_status s = buf_make(ctx, &b, 0, N, 81, "doctor.patch.logits");
  if (!s) {
    for (int i = 0; i < N; i++) b.host[0][i] *= 5.0f;
    s = clgan_buffer_write(ctx, b.mem[0], 0, sizeof(float) * N, b.host[0]);
  }
  if (!s) s = buf_make(ctx, &b, 1, 2, 0, "doctor.patch.out");
  if (!s) s = buf_make(ctx, &b, 2, N, 0, "doctor.patch.dlogits");
  float got[N], out[2];
  double want[N];
  *err = 0.0;
  const struct { int kind; float t, scale; } cases[] = {
      {REF_LOSS_BCE, 1.0f, 0.5f}, {REF_LOSS_BCE, 0.0f, 0.5f}, {REF_LOSS_SQUARED, 1.0f, 1.0f}};
  for (int k = 0; k < 3 && !s; k++) {
    s = clgan_loss_forward_backward(ctx, (clgan_loss)cases[k].kind, cases[k].t, N,
                                    CLGAN_VIEW(b.mem[0], 0), cases[k].scale,
                                    CLGAN_VIEW(b.mem[1], 0), CLGAN_VIEW(b.mem[2], 0));
    if (!s) s = doctor_download(ctx, b.mem[1], 2, out);
    if (!s) s = doctor_download(ctx, b.mem[2], N, got);
    if (s) break;
    double mean = 0.0;
    for (int i = 0; i < B; i++) {
      double img = 0.0;
      for (int p = 0; p < HW; p++) img += ref_loss_f64(cases[k].kind, cases[k].t, b.host[0][i * HW + p]);
      mean += img / HW / B;
    }
    for (int i = 0; i < N; i++)
      want[i] = ref_loss_grad_f64(cases[k].kind, cases[k].t, b.host[0][i]) * cases[k].scale / N;
    *err = worst(*err, derr(out, &mean, 1, 1e-6, 1e-5));
    *err = worst(*err, derr(got, want, N, 1e-7 * cases[k].scale / N, 1e-5));
  }
  snprintf(detail, cap, "bce 1/0 x0.5, squared; %d images x 6x6 patches", B);
  bufs_free(&b);
  return s;
}

const doctor_check doctor_checks_i2i[] = {
    {"reflect conv fwd/bwd", check_reflect_conv},
    {"content loss l1/mse", check_content},
    {"patch-map gan loss", check_patch_loss},
    {NULL, NULL},
};
