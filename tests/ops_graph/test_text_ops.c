/* Text-to-image nodes (src/ops/ops_text.c, kernels/text.cl) against float64 references in
 * this file: the weighted bag of embeddings (ids outside 0..num-1 and empty slots skipped,
 * repeated ids, interpolation weights) and conditioning augmentation with its KL gradient.
 * The references' backwards are checked by central finite differences first (host, float64);
 * then the device against them, overwrite and accumulate, at odd offsets, guards, and bad
 * arguments. --small: tiny shapes for Oclgrind. The references are tests/ref/ref_text.c.
 * Tolerances (abs + rel * |ref|, graph_test.h): bag y, a sum of <= slots products of values
 * <= 1: TOL_SUM(slots + 1); bag dw, <= n * slots terms: TOL_SUM(n * slots + 1); condaug, an
 * exp (OpenCL's 3 ulp) times values <= 2 plus a value: abs 4e-6 + rel 4e-6. A log sigma^2
 * below zero is checked to pass through (no ReLU before the split). */
#include "clgan/text.h"
#include "graph_test.h"
#include "ref_text.h"

static char what[200];
#define MSG(s) (snprintf(what, sizeof what, "%s (n=%d num=%d dim=%d slots=%d)", (s), n, num, dim, slots), what)

/* ---- float64 references: tests/ref/ref_text.c (also clgan doctor's) ---- */
/* random text: ids in -1..num (both ends outside), weights in [0, 1), some repeats */
static int *make_text(int n, int num, int slots, unsigned long long seed) {
  int *t = calloc((size_t)n * 2 * slots + 1, sizeof(int));
  float *u = gt_rand((size_t)n * 2 * slots, seed);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < slots; k++) {
      int id = (int)((u[(size_t)i * 2 * slots + k] + 1.0f) * 0.5f * (float)(num + 2)) - 1;
      if (id > num) id = num;
      if (k == 1) id = t[(size_t)i * 2 * slots]; /* a repeat of slot 0 */
      t[(size_t)i * 2 * slots + k] = id;
      float wv = 0.5f * (u[(size_t)i * 2 * slots + slots + k] + 1.0f);
      memcpy(&t[(size_t)i * 2 * slots + slots + k], &wv, sizeof wv);
    }
  free(u);
  return t;
}

/* ---- finite differences of the references ---- */
static void test_fd(void) {
  int n = 3, num = 5, dim = 4, slots = 6;
  int *text = make_text(n, num, slots, 7);
  size_t nw = (size_t)num * dim, ny = (size_t)n * dim;
  double *w = gt_dalloc(nw), *y = gt_dalloc(ny), *dy = gt_dalloc(ny), *dw = gt_dalloc(nw);
  float *f = gt_rand(nw + ny, 11);
  for (size_t i = 0; i < nw; i++) w[i] = f[i];
  for (size_t i = 0; i < ny; i++) dy[i] = f[nw + i];
  ref_embedbag_backward(n, num, dim, slots, text, dy, dw, 0);
  double h = 1e-6, worst = 0.0;
  for (size_t j = 0; j < nw; j++) {
    double keep = w[j], lp = 0, lm = 0;
    w[j] = keep + h;
    ref_embedbag_forward(n, num, dim, slots, text, w, y);
    for (size_t i = 0; i < ny; i++) lp += dy[i] * y[i];
    w[j] = keep - h;
    ref_embedbag_forward(n, num, dim, slots, text, w, y);
    for (size_t i = 0; i < ny; i++) lm += dy[i] * y[i];
    w[j] = keep;
    double e = fabs((lp - lm) / (2 * h) - dw[j]);
    if (e > worst) worst = e;
  }
  CHECK(worst < 1e-8, "embedding bag dw vs finite differences: %g", worst);
  /* condaug with the KL term, weight 2 */
  size_t nx = 2 * ny;
  double *x = gt_dalloc(nx), *eps = gt_dalloc(ny), *dx = gt_dalloc(nx);
  float *g = gt_rand(nx + ny, 13);
  for (size_t i = 0; i < nx; i++) x[i] = 2.0 * g[i];
  for (size_t i = 0; i < ny; i++) eps[i] = g[nx + i];
  ref_condaug_backward(n, dim, x, eps, dy, 2.0, dx, 0);
  worst = 0.0;
  for (size_t j = 0; j < nx; j++) {
    double keep = x[j], l[2];
    for (int sgn = 0; sgn < 2; sgn++) {
      x[j] = keep + (sgn ? -h : h);
      ref_condaug_forward(n, dim, x, eps, y);
      l[sgn] = 2.0 * ref_condaug_kl(n, dim, x);
      for (size_t i = 0; i < ny; i++) l[sgn] += dy[i] * y[i];
    }
    x[j] = keep;
    double e = fabs((l[0] - l[1]) / (2 * h) - dx[j]);
    if (e > worst) worst = e;
  }
  CHECK(worst < 1e-7, "condaug dx (with KL) vs finite differences: %g", worst);
  free(text), free(w), free(y), free(dy), free(dw), free(f), free(x), free(eps), free(dx), free(g);
}

static void run_bag(clgan_ctx *ctx, int n, int num, int dim, int slots, int acc) {
  int *text = make_text(n, num, slots, 100 + (unsigned)n);
  size_t nt = (size_t)n * 2 * slots, ny = (size_t)n * dim, nw = (size_t)num * dim;
  float *wf = gt_rand(nw, 101 + nw), *dyf = gt_rand(ny, 102 + ny), *dwf = gt_rand(nw, 103);
  tbuf bt = gt_int_buf(ctx, text, nt, 3);
  tbuf bw = tb_new(ctx, wf, nw, 2), by = tb_new(ctx, NULL, ny, 1);
  tbuf bdy = tb_new(ctx, dyf, ny, 4), bdw = tb_new(ctx, dwf, nw, 5);
  double *wd = gt_d(wf, nw), *yd = gt_dalloc(ny), *dyd = gt_d(dyf, ny), *dwd = gt_d(dwf, nw);
  clgan_view tv = CLGAN_VIEW(bt.mem, bt.off);
  CHECK_OK(clgan_embedbag_forward(ctx, n, num, dim, slots, tv, tb_view(bw), tb_view(by)));
  ref_embedbag_forward(n, num, dim, slots, text, wd, yd);
  GT_CHECK(ctx, by, yd, TOL_SUM(slots + 1), MSG("embedding bag y"));
  CHECK_OK(clgan_embedbag_backward(ctx, n, num, dim, slots, tv, tb_view(bdy), tb_view(bdw), acc));
  ref_embedbag_backward(n, num, dim, slots, text, dyd, dwd, acc);
  GT_CHECK(ctx, bdw, dwd, TOL_SUM((double)n * slots + 1), MSG(acc ? "bag dw accumulate" : "bag dw"));
  CHECK(gt_int_guards_ok(ctx, bt), "%s", MSG("text written"));
  tb_free(&bt);
  GT_GUARDS_FREE(ctx, MSG("embedding bag guards"), &bw, &by, &bdy, &bdw);
  free(text), free(wf), free(dyf), free(dwf), free(wd), free(yd), free(dyd), free(dwd);
}

static void run_ca(clgan_ctx *ctx, int n, int dim, int acc) {
  int num = 0, slots = 0;
  size_t ny = (size_t)n * dim, nx = 2 * ny;
  float *xf = gt_rand(nx, 201 + nx), *ef = gt_rand(ny, 202), *dyf = gt_rand(ny, 203),
        *dxf = gt_rand(nx, 204);
  for (size_t i = 0; i < nx; i++) xf[i] *= 2.0f;
  for (size_t i = 0; i < ny; i++) ef[i] *= 2.0f;
  tbuf bx = tb_new(ctx, xf, nx, 1), be = tb_new(ctx, ef, ny, 2), by = tb_new(ctx, NULL, ny, 3);
  tbuf bdy = tb_new(ctx, dyf, ny, 4), bdx = tb_new(ctx, dxf, nx, 5);
  double *xd = gt_d(xf, nx), *ed = gt_d(ef, ny), *yd = gt_dalloc(ny), *dyd = gt_d(dyf, ny),
         *dxd = gt_d(dxf, nx);
  CHECK_OK(clgan_condaug_forward(ctx, n, dim, tb_view(bx), tb_view(be), tb_view(by)));
  ref_condaug_forward(n, dim, xd, ed, yd);
  GT_CHECK(ctx, by, yd, 4e-6, 4e-6, MSG("condaug y"));
  CHECK_OK(clgan_condaug_backward(ctx, n, dim, tb_view(bx), tb_view(be), tb_view(bdy), 2.0f,
                                  tb_view(bdx), acc));
  ref_condaug_backward(n, dim, xd, ed, dyd, 2.0, dxd, acc);
  GT_CHECK(ctx, bdx, dxd, 4e-6, 4e-6, MSG(acc ? "condaug dx accumulate" : "condaug dx"));
  GT_GUARDS_FREE(ctx, MSG("condaug guards"), &bx, &be, &by, &bdy, &bdx);
  free(xf), free(ef), free(dyf), free(dxf), free(xd), free(ed), free(yd), free(dyd), free(dxd);
}

/* log sigma^2 = -3 goes through as exp(-1.5): nothing clamps it at zero */
static void test_negative_logvar(clgan_ctx *ctx) {
  float x[2] = {0.5f, -3.0f}, e[1] = {1.0f}, y;
  tbuf bx = tb_new(ctx, x, 2, 0), be = tb_new(ctx, e, 1, 0), by = tb_new(ctx, NULL, 1, 0);
  CHECK_OK(clgan_condaug_forward(ctx, 1, 1, tb_view(bx), tb_view(be), tb_view(by)));
  tb_get(ctx, by, &y);
  CHECK(fabs(y - (0.5 + exp(-1.5))) < 1e-6, "logvar -3: y %g, want %g", y, 0.5 + exp(-1.5));
  tb_free(&bx), tb_free(&be), tb_free(&by);
}

static void test_bad_args(clgan_ctx *ctx) {
  tbuf b = tb_new(ctx, NULL, 16, 0);
  clgan_view v = tb_view(b);
  GT_BAD(clgan_embedbag_forward(ctx, 2, -3, 4, 2, v, v, v), "must not be negative");
  GT_BAD(clgan_embedbag_forward(ctx, 2, 3, 4, 2, CLGAN_NONE, v, v), "text is required");
  GT_BAD(clgan_embedbag_backward(ctx, 2, 3, 4, 2, v, v, CLGAN_NONE, 0), "dw is required");
  GT_BAD(clgan_condaug_forward(ctx, 2, 3, v, CLGAN_NONE, v), "eps is required");
  GT_BAD(clgan_condaug_backward(ctx, 2, 3, v, v, v, -1.0f, v, 0), "KL weight");
  CHECK(tb_guards_ok(ctx, b), "rejected calls wrote");
  tb_free(&b);
}

int main(int argc, char **argv) {
  int small = nn_small(argc, argv);
  test_fd();
  clgan_ctx *ctx = tu_open_device();
  test_bad_args(ctx);
  test_negative_logvar(ctx);
  if (small) {
    run_bag(ctx, 3, 5, 4, 3, 0);
    run_bag(ctx, 2, 1, 1, 2, 1);
    run_ca(ctx, 3, 5, 0);
    run_ca(ctx, 2, 1, 1);
  } else {
    const int shapes[][4] = {{1, 1, 1, 1}, {5, 7, 4, 32}, {64, 64, 128, 32}, {13, 40, 67, 5}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
      run_bag(ctx, shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3], (int)i & 1);
    run_ca(ctx, 1, 1, 0);
    run_ca(ctx, 64, 64, 1);
    run_ca(ctx, 7, 33, 0);
  }
  clgan_ctx_free(ctx);
  return tu_finish("test_text_ops");
}
