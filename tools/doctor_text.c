/* Doctor checks for the text-to-image kernels (kernels/text.cl, src/ops/ops_text.c): the
 * weighted bag of token embeddings (forward and dw; ids outside the vocabulary, an empty
 * slot and a repeated id in the input) and conditioning augmentation (forward and dx with the
 * KL term, weight 2; log sigma^2 as low as -4), each once on small shapes against
 * tests/ref/ref_text.c, tolerances as tests/ops_graph/test_text_ops.c. Also run under
 * Oclgrind by tests/core/test_oclgrind.sh (as every doctor row). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/text.h"
#include "doctor.h"
#include "ref.h"
#include "ref_text.h"

static double worst(double a, double b) { return a > b || isnan(a) ? a : b; }

/* worst normalised error of device floats against double reference values */
static double derr(const float *got, const double *want, size_t n, double abs_tol,
                   double rel_tol) {
  double e = 0.0;
  for (size_t i = 0; i < n; i++) e = worst(e, fabs(got[i] - want[i]) / (abs_tol + rel_tol * fabs(want[i])));
  return e;
}

/* embedbag 7 words x 5 values over 3 samples of 4 slots: y, and dw overwritten */
static clgan_status check_embedbag(clgan_ctx *ctx, double *err, char *detail, size_t cap) {
  enum { N = 3, NUM = 7, DIM = 5, SLOTS = 4, NT = N * 2 * SLOTS, NW = NUM * DIM, NY = N * DIM };
  /* ids: in range, one past the end (skipped), -1 (empty), a repeat */
  static const int ids[N][SLOTS] = {{0, 3, 3, -1}, {6, 7, 2, 1}, {5, -1, -1, -1}};
  static const float wts[N][SLOTS] = {{0.25f, 0.5f, 0.25f, 0.0f}, {0.3f, 0.9f, 0.2f, 0.5f},
                                      {1.0f, 0.0f, 0.0f, 0.0f}};
  int32_t text[NT];
  for (int i = 0; i < N; i++)
    for (int k = 0; k < SLOTS; k++) {
      text[i * 2 * SLOTS + k] = ids[i][k];
      memcpy(&text[i * 2 * SLOTS + SLOTS + k], &wts[i][k], sizeof(float));
    }
  float w[NW], dy[NY], got[NW];
  ref_fill_uniform(w, NW, 91);
  ref_fill_uniform(dy, NY, 92);
  double wd[NW], dyd[NY], yd[NY], dwd[NW];
  for (int i = 0; i < NW; i++) wd[i] = w[i];
  for (int i = 0; i < NY; i++) dyd[i] = dy[i];
  cl_mem bt = NULL, bw = NULL, by = NULL, bdy = NULL, bdw = NULL;
  clgan_status s = clgan_buffer_create(ctx, sizeof text, "doctor.embedbag.text", &bt);
  if (!s) s = clgan_buffer_write(ctx, bt, 0, sizeof text, text);
  if (!s) s = doctor_upload(ctx, w, NW, "doctor.embedbag.w", &bw);
  if (!s) s = doctor_upload(ctx, NULL, NY, "doctor.embedbag.y", &by);
  if (!s) s = doctor_upload(ctx, dy, NY, "doctor.embedbag.dy", &bdy);
  if (!s) s = doctor_upload(ctx, w, NW, "doctor.embedbag.dw", &bdw); /* overwritten */
  if (!s) s = clgan_embedbag_forward(ctx, N, NUM, DIM, SLOTS, CLGAN_VIEW(bt, 0), CLGAN_VIEW(bw, 0),
                                     CLGAN_VIEW(by, 0));
  if (!s) s = clgan_embedbag_backward(ctx, N, NUM, DIM, SLOTS, CLGAN_VIEW(bt, 0),
                                      CLGAN_VIEW(bdy, 0), CLGAN_VIEW(bdw, 0), 0);
  double e_y = 0, e_dw = 0;
  if (!s) {
    ref_embedbag_forward(N, NUM, DIM, SLOTS, text, wd, yd);
    ref_embedbag_backward(N, NUM, DIM, SLOTS, text, dyd, dwd, 0);
    s = doctor_download(ctx, by, NY, got);
    /* a sum of <= SLOTS products of values <= 1 (test_text_ops' TOL_SUM) */
    if (!s) e_y = derr(got, yd, NY, 1.2e-7 * (SLOTS + 1), 1e-6);
    if (!s) s = doctor_download(ctx, bdw, NW, got);
    if (!s) e_dw = derr(got, dwd, NW, 1.2e-7 * (N * SLOTS + 1), 1e-6);
  }
  if (!s) *err = worst(e_y, e_dw);
  snprintf(detail, cap, "%d words x %d, %d samples x %d slots: y %.2g dw %.2g", NUM, DIM, N,
           SLOTS, e_y, e_dw);
  clgan_buffer_release(&bt), clgan_buffer_release(&bw), clgan_buffer_release(&by);
  clgan_buffer_release(&bdy), clgan_buffer_release(&bdw);
  return s;
}

/* condaug on 3 samples of 6 values: y, and dx (with the KL's gradient, weight 2) added to an
 * existing gradient; log sigma^2 in [-4, 4) */
static clgan_status check_condaug(clgan_ctx *ctx, double *err, char *detail, size_t cap) {
  enum { N = 3, DIM = 6, NY = N * DIM, NX = 2 * NY };
  float x[NX], eps[NY], dy[NY], dx0[NX], got[NX];
  ref_fill_uniform(x, NX, 93);
  ref_fill_uniform(eps, NY, 94);
  ref_fill_uniform(dy, NY, 95);
  ref_fill_uniform(dx0, NX, 96);
  for (int i = 0; i < NX; i++) x[i] *= 4.0f;
  double xd[NX], ed[NY], dyd[NY], yd[NY], dxd[NX];
  for (int i = 0; i < NX; i++) xd[i] = x[i], dxd[i] = dx0[i];
  for (int i = 0; i < NY; i++) ed[i] = eps[i], dyd[i] = dy[i];
  cl_mem bx = NULL, be = NULL, by = NULL, bdy = NULL, bdx = NULL;
  clgan_status s = doctor_upload(ctx, x, NX, "doctor.condaug.x", &bx);
  if (!s) s = doctor_upload(ctx, eps, NY, "doctor.condaug.eps", &be);
  if (!s) s = doctor_upload(ctx, NULL, NY, "doctor.condaug.y", &by);
  if (!s) s = doctor_upload(ctx, dy, NY, "doctor.condaug.dy", &bdy);
  if (!s) s = doctor_upload(ctx, dx0, NX, "doctor.condaug.dx", &bdx);
  if (!s) s = clgan_condaug_forward(ctx, N, DIM, CLGAN_VIEW(bx, 0), CLGAN_VIEW(be, 0), CLGAN_VIEW(by, 0));
  if (!s) s = clgan_condaug_backward(ctx, N, DIM, CLGAN_VIEW(bx, 0), CLGAN_VIEW(be, 0),
                                     CLGAN_VIEW(bdy, 0), 2.0f, CLGAN_VIEW(bdx, 0), 1);
  double e_y = 0, e_dx = 0;
  if (!s) {
    ref_condaug_forward(N, DIM, xd, ed, yd);
    ref_condaug_backward(N, DIM, xd, ed, dyd, 2.0, dxd, 1);
    s = doctor_download(ctx, by, NY, got);
    /* an exp (3 ulp) times values <= e^2 plus a value; dx adds to values <= 1 */
    if (!s) e_y = derr(got, yd, NY, 4e-6, 4e-6);
    if (!s) s = doctor_download(ctx, bdx, NX, got);
    if (!s) e_dx = derr(got, dxd, NX, 4e-6, 4e-6);
  }
  if (!s) *err = worst(e_y, e_dx);
  snprintf(detail, cap, "%d samples x %d, kl=2, accumulate: y %.2g dx %.2g", N, DIM, e_y, e_dx);
  clgan_buffer_release(&bx), clgan_buffer_release(&be), clgan_buffer_release(&by);
  clgan_buffer_release(&bdy), clgan_buffer_release(&bdx);
  return s;
}

const doctor_check doctor_checks_text[] = {
    {"text embedbag fwd/bwd", check_embedbag},
    {"text condaug fwd/bwd", check_condaug},
    {NULL, NULL},
};
