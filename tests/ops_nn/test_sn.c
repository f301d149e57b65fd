/* Spectral normalisation ops (src/ops/ops_sn.c, kernels/sn.cl) against a float64 reference
 * written here: one power iteration and sigma (both weight layouts: dim 0, and a
 * ConvTranspose2d weight taken with dim 1), sigma after many iterations against LAPACK's
 * largest singular value, and the backward through W / sigma against central finite
 * differences of the float64 loss. --small: for Oclgrind. */
#include <lapacke.h>

#include "clgan/sn.h"
#include "nn_test.h"

/* Tolerances (abs + rel * |ref|):
 * u, v, sigma, W / sigma after one step: float32 dot products of up to `cols` terms against
 *   float64: 2e-6 abs, 2e-5 rel (measured <= 3e-7 relative).
 * sigma after 80 iterations vs LAPACK's sigma_max: 1e-4 rel (the iteration converges
 *   geometrically in (s2 / s1)^2; the test matrix has a clear top singular value).
 * backward vs central differences (h = 1e-4 on the float64 loss): 1e-4 of max |grad| abs,
 *   1e-3 rel. */

static size_t at(int rows, int cols, int kk, int r, int c) {
  if (!kk) return (size_t)r * cols + c;
  return ((size_t)(c / kk) * rows + r) * kk + (size_t)(c % kk);
}

static double norm(const double *x, int n) {
  double q = 0;
  for (int i = 0; i < n; i++) q += x[i] * x[i];
  return sqrt(q);
}

/* one power iteration (power) and sigma, in float64 */
static double ref_sigma(int rows, int cols, int kk, const float *w, double *u, double *v,
                        int power) {
  double *wv = calloc((size_t)rows, sizeof *wv);
  if (power) {
    for (int c = 0; c < cols; c++) {
      double a = 0;
      for (int r = 0; r < rows; r++) a += (double)w[at(rows, cols, kk, r, c)] * u[r];
      v[c] = a;
    }
    double d = fmax(norm(v, cols), 1e-12);
    for (int c = 0; c < cols; c++) v[c] /= d;
  }
  for (int r = 0; r < rows; r++) {
    double a = 0;
    for (int c = 0; c < cols; c++) a += (double)w[at(rows, cols, kk, r, c)] * v[c];
    wv[r] = a;
  }
  if (power) {
    double d = fmax(norm(wv, rows), 1e-12);
    for (int r = 0; r < rows; r++) u[r] = wv[r] / d;
  }
  double s = 0;
  for (int r = 0; r < rows; r++) s += u[r] * wv[r];
  free(wv);
  return s;
}

/* L(W) = sum R * W / sigma(W), u, v fixed */
static double ref_loss(int rows, int cols, int kk, const double *w, const double *u,
                       const double *v, const float *rr) {
  double s = 0, l = 0;
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) s += u[r] * w[at(rows, cols, kk, r, c)] * v[c];
  for (size_t i = 0; i < (size_t)rows * cols; i++) l += rr[i] * w[i];
  return l / s;
}

static void unit(float *x, int n, unsigned seed) {
  ref_fill_uniform(x, (size_t)n, seed);
  double q = 0;
  for (int i = 0; i < n; i++) q += (double)x[i] * x[i];
  for (int i = 0; i < n; i++) x[i] = (float)(x[i] / sqrt(q));
}

static void case_(clgan_ctx *ctx, int rows, int cols, int kk) {
  size_t n = (size_t)rows * cols;
  float *w = tu_alloc(n), *u = tu_alloc((size_t)rows), *v = tu_alloc((size_t)cols);
  ref_fill_uniform(w, n, 11 + (unsigned)n);
  /* a clear top singular value: add 3 * a b^T (weight_mat layout) */
  float *a = tu_alloc((size_t)rows), *b = tu_alloc((size_t)cols);
  unit(a, rows, 5), unit(b, cols, 6);
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) w[at(rows, cols, kk, r, c)] += 3.0f * a[r] * b[c];
  unit(u, rows, 7), unit(v, cols, 8);
  char what[96];
  snprintf(what, sizeof what, "%dx%d kk=%d", rows, cols, kk);
  tbuf bw = tb_new(ctx, w, n, 3), bu = tb_new(ctx, u, (size_t)rows, 1),
       bv = tb_new(ctx, v, (size_t)cols, 2), bs = tb_new(ctx, NULL, (size_t)rows + 2, 4),
       bo = tb_new(ctx, NULL, n, 5);
  double *du = malloc(sizeof *du * rows), *dv = malloc(sizeof *dv * cols);
  for (int r = 0; r < rows; r++) du[r] = u[r];
  for (int c = 0; c < cols; c++) dv[c] = v[c];
  /* 1. eval (no iteration), then one training step */
  for (int power = 0; power < 2; power++) {
    double s = ref_sigma(rows, cols, kk, w, du, dv, power);
    CHECK_OK(clgan_sn_sigma(ctx, rows, cols, kk, tb_view(bw), tb_view(bu), tb_view(bv),
                            tb_view(bs), power));
    CHECK_OK(clgan_sn_scale(ctx, n, tb_view(bw), clgan_view_at(tb_view(bs), (size_t)rows),
                            tb_view(bo)));
    float *gu = tu_alloc((size_t)rows), *gv = tu_alloc((size_t)cols), *gs = tu_alloc((size_t)rows + 2),
          *go = tu_alloc(n), *wu = tu_alloc((size_t)rows), *wv = tu_alloc((size_t)cols), *wo = tu_alloc(n);
    tb_get(ctx, bu, gu), tb_get(ctx, bv, gv), tb_get(ctx, bs, gs), tb_get(ctx, bo, go);
    for (int r = 0; r < rows; r++) wu[r] = (float)du[r];
    for (int c = 0; c < cols; c++) wv[c] = (float)dv[c];
    for (size_t i = 0; i < n; i++) wo[i] = (float)(w[i] / s);
    float fs = (float)s;
    char w2[128];
    snprintf(w2, sizeof w2, "%s power=%d u", what, power);
    CHECK_CLOSE(gu, wu, (size_t)rows, 2e-6, 2e-5, w2);
    snprintf(w2, sizeof w2, "%s power=%d v", what, power);
    CHECK_CLOSE(gv, wv, (size_t)cols, 2e-6, 2e-5, w2);
    snprintf(w2, sizeof w2, "%s power=%d sigma", what, power);
    CHECK_CLOSE(gs + rows, &fs, 1, 2e-6, 2e-5, w2);
    snprintf(w2, sizeof w2, "%s power=%d W/sigma", what, power);
    CHECK_CLOSE(go, wo, n, 2e-6, 2e-5, w2);
    free(gu), free(gv), free(gs), free(go), free(wu), free(wv), free(wo);
  }
  /* 2. backward: g = R, against central differences of the float64 loss (u, v fixed) */
  float *rr = tu_alloc(n), *gw = tu_alloc(n), *g2 = tu_alloc(n);
  ref_fill_uniform(rr, n, 23);
  for (int r = 0; r < rows; r++) du[r] = 0; /* the device's u, v after step 1 */
  float *hu = tu_alloc((size_t)rows), *hv = tu_alloc((size_t)cols);
  tb_get(ctx, bu, hu), tb_get(ctx, bv, hv);
  for (int r = 0; r < rows; r++) du[r] = hu[r];
  for (int c = 0; c < cols; c++) dv[c] = hv[c];
  tbuf bg = tb_new(ctx, rr, n, 2), bd = tb_new(ctx, NULL, n, 1);
  CHECK_OK(clgan_sn_sigma(ctx, rows, cols, kk, tb_view(bw), tb_view(bu), tb_view(bv), tb_view(bs), 0));
  CHECK_OK(clgan_sn_backward(ctx, rows, cols, kk, tb_view(bg), tb_view(bw), tb_view(bu),
                             tb_view(bv), clgan_view_at(tb_view(bs), (size_t)rows), tb_view(bd), 0));
  tb_get(ctx, bd, gw);
  double *wd = malloc(sizeof *wd * n);
  for (size_t i = 0; i < n; i++) wd[i] = w[i];
  float *fd = tu_alloc(n);
  double gmax = 0;
  for (size_t i = 0; i < n; i++) {
    double h = 1e-4, keep = wd[i];
    wd[i] = keep + h;
    double lp = ref_loss(rows, cols, kk, wd, du, dv, rr);
    wd[i] = keep - h;
    double lm = ref_loss(rows, cols, kk, wd, du, dv, rr);
    wd[i] = keep;
    fd[i] = (float)((lp - lm) / (2 * h));
    gmax = fmax(gmax, fabs(fd[i]));
  }
  char w3[192];
  snprintf(w3, sizeof w3, "%s backward vs finite differences", what);
  CHECK_CLOSE(gw, fd, n, 1e-4 * gmax, 1e-3, w3);
  /* accumulate adds the same gradient again */
  CHECK_OK(clgan_sn_backward(ctx, rows, cols, kk, tb_view(bg), tb_view(bw), tb_view(bu),
                             tb_view(bv), clgan_view_at(tb_view(bs), (size_t)rows), tb_view(bd), 1));
  tb_get(ctx, bd, g2);
  for (size_t i = 0; i < n; i++) fd[i] = 2 * gw[i];
  snprintf(w3, sizeof w3, "%s backward accumulate", what);
  CHECK_CLOSE(g2, fd, n, 1e-6 * gmax, 1e-6, w3);
  /* 3. sigma converges to the largest singular value (LAPACK) */
  int iters = 80;
  for (int i = 0; i < iters; i++)
    CHECK_OK(clgan_sn_sigma(ctx, rows, cols, kk, tb_view(bw), tb_view(bu), tb_view(bv), tb_view(bs), 1));
  float *gs = tu_alloc((size_t)rows + 2);
  tb_get(ctx, bs, gs);
  double *m = malloc(sizeof *m * n), *sv = malloc(sizeof *sv * (size_t)(rows < cols ? rows : cols));
  double *sup = malloc(sizeof *sup * (size_t)(rows < cols ? rows : cols));
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) m[(size_t)r * cols + c] = w[at(rows, cols, kk, r, c)];
  int info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', rows, cols, m, cols, sv, NULL, 1, NULL, 1, sup);
  CHECK(info == 0, "dgesvd failed (%d)", info);
  float top = (float)sv[0];
  snprintf(w3, sizeof w3, "%s sigma after %d iterations vs LAPACK", what, iters);
  CHECK_CLOSE(gs + rows, &top, 1, 0, 1e-4, w3);
  CHECK(tb_guards_ok(ctx, bw) && tb_guards_ok(ctx, bu) && tb_guards_ok(ctx, bv) &&
            tb_guards_ok(ctx, bs) && tb_guards_ok(ctx, bo) && tb_guards_ok(ctx, bd),
        "%s: a kernel wrote outside its view", what);
  tb_free(&bw), tb_free(&bu), tb_free(&bv), tb_free(&bs), tb_free(&bo), tb_free(&bg), tb_free(&bd);
  free(w), free(u), free(v), free(a), free(b), free(du), free(dv), free(rr), free(gw), free(g2);
  free(hu), free(hv), free(wd), free(fd), free(gs), free(m), free(sv), free(sup);
}

int main(int argc, char **argv) {
  clgan_ctx *ctx = tu_open_device();
  if (nn_small(argc, argv)) {
    case_(ctx, 5, 12, 0);
    case_(ctx, 3, 2 * 4, 4); /* a ConvTranspose2d (2, 3, 2, 2) weight, dim 1 */
  } else {
    case_(ctx, 64, 16, 0);    /* dcgan28's D conv 1 -> 64 */
    case_(ctx, 1, 300, 0);    /* a linear with one output */
    case_(ctx, 24, 10 * 16, 16); /* ConvTranspose2d (10, 24, 4, 4), dim 1 */
    case_(ctx, 40, 7, 0);     /* more rows than columns */
  }
  clgan_ctx_free(ctx);
  return tu_finish("sn");
}
