/* ProGAN's layers (kernels/progan.cl, issue 15). Pixel norm: the float64 reference's
 * backward by central differences of its forward; the device forward and backward
 * (overwrite and accumulate) against the reference, on random data and on pixels of very
 * different size; the layer in a network (model file word `pixelnorm`): forward and input
 * gradient through clgan_net_* against the reference. Minibatch stddev: the same for its
 * reference and kernels (groups of 4 and of 2, one group of the whole batch).
 * `--small`: small shapes only (Oclgrind). */
#include <math.h>
#include <string.h>

#include "clgan/model.h"
#include "clgan/net.h"
#include "ref/ref.h"
#include "ref/ref_graph.h"
#include "test_util.h"

#define EPS 1e-8

static double *gt(size_t n) {
  double *p = calloc(n ? n : 1, sizeof(double));
  if (!p) exit(1);
  return p;
}

static void ref_fd(void) {
  enum { N = 2, C = 5, HW = 3, T = N * C * HW };
  double x[T], w[T], y[T], dx[T];
  float xf[T], wf[T];
  ref_fill_uniform(xf, T, 1);
  ref_fill_uniform(wf, T, 2);
  for (int i = 0; i < T; i++) x[i] = xf[i], w[i] = wf[i];
  ref_pixelnorm_backward(N, C, HW, EPS, x, w, dx, 0);
  double worst = 0.0;
  for (int j = 0; j < T; j++) {
    double keep = x[j], f[2];
    for (int s = 0; s < 2; s++) {
      x[j] = keep + (s ? -1e-6 : 1e-6);
      ref_pixelnorm_forward(N, C, HW, EPS, x, y);
      f[s] = 0.0;
      for (int i = 0; i < T; i++) f[s] += w[i] * y[i];
    }
    x[j] = keep;
    worst = fmax(worst, fabs((f[0] - f[1]) / 2e-6 - dx[j]));
  }
  CHECK(worst < 1e-7, "reference backward vs central differences: %g", worst);
}

static void device(clgan_ctx *ctx, int n, int c, int hw, unsigned long long seed) {
  size_t t = (size_t)n * c * hw;
  float *x = tu_alloc(t), *dy = tu_alloc(t), *old = tu_alloc(t), *got = tu_alloc(t);
  float *want = tu_alloc(t);
  double *xd = calloc(t, sizeof *xd), *dyd = calloc(t, sizeof *dyd), *yd = calloc(t, sizeof *yd);
  ref_fill_uniform(x, t, seed);
  ref_fill_uniform(dy, t, seed + 1);
  ref_fill_uniform(old, t, seed + 2);
  /* pixels of very different size: sample 0's first pixel tiny, the next large */
  x[0] *= 1e-3f;
  if (hw > 1) for (int k = 0; k < c; k++) x[(size_t)k * hw + 1] *= 100.0f;
  for (size_t i = 0; i < t; i++) xd[i] = x[i], dyd[i] = dy[i];
  cl_mem xb = tu_upload(ctx, x, t), yb = tu_upload(ctx, NULL, t), dyb = tu_upload(ctx, dy, t);
  cl_mem dxb = tu_upload(ctx, old, t);
  CHECK_OK(clgan_pixelnorm_forward(ctx, n, c, hw, (float)EPS, CLGAN_VIEW(xb, 0), CLGAN_VIEW(yb, 0)));
  tu_download(ctx, yb, 0, t, got);
  ref_pixelnorm_forward(n, c, hw, EPS, xd, yd);
  for (size_t i = 0; i < t; i++) want[i] = (float)yd[i];
  /* a sum of c squares, a rsqrt (a few ulp), one product */
  CHECK_CLOSE(got, want, t, 1e-6, 4e-6 + 1.2e-7 * c, "pixelnorm forward");
  for (int acc = 0; acc < 2; acc++) {
    CHECK_OK(clgan_pixelnorm_backward(ctx, n, c, hw, (float)EPS, CLGAN_VIEW(xb, 0),
                                      CLGAN_VIEW(dyb, 0), CLGAN_VIEW(dxb, 0), acc));
    tu_download(ctx, dxb, 0, t, got);
    for (size_t i = 0; i < t; i++) yd[i] = acc ? (double)old[i] : 0.0;
    /* acc: added to the result of the overwrite just before */
    if (acc) {
      ref_pixelnorm_backward(n, c, hw, EPS, xd, dyd, yd, 0);
      ref_pixelnorm_backward(n, c, hw, EPS, xd, dyd, yd, 1);
    } else {
      ref_pixelnorm_backward(n, c, hw, EPS, xd, dyd, yd, 0);
    }
    double mx = 0.0;
    for (size_t i = 0; i < t; i++) want[i] = (float)yd[i], mx = fmax(mx, fabs(yd[i]));
    /* the gradient scales as 1/|x|: tolerance relative to the largest value */
    CHECK_CLOSE(got, want, t, 1e-5 * mx, 1e-5, acc ? "pixelnorm backward, accumulated" : "pixelnorm backward");
  }
  clgan_buffer_release(&xb), clgan_buffer_release(&yb), clgan_buffer_release(&dyb);
  clgan_buffer_release(&dxb);
  free(x), free(dy), free(old), free(got), free(want), free(xd), free(dyd), free(yd);
}

static void mbstd_ref_fd(int n, int g, int c, int hw) {
  size_t t = (size_t)n * c * hw, to = (size_t)n * (c + 1) * hw;
  double *x = gt(t), *w = gt(to), *y = gt(to), *dx = gt(t);
  float *f = tu_alloc(to);
  ref_fill_uniform(f, t, 51);
  for (size_t i = 0; i < t; i++) x[i] = f[i];
  ref_fill_uniform(f, to, 52);
  for (size_t i = 0; i < to; i++) w[i] = f[i];
  ref_mbstd_backward(n, g, c, hw, EPS, x, w, dx, 0);
  double worst = 0.0;
  for (size_t j = 0; j < t; j++) {
    double keep = x[j], fv[2];
    for (int s = 0; s < 2; s++) {
      x[j] = keep + (s ? -1e-6 : 1e-6);
      ref_mbstd_forward(n, g, c, hw, EPS, x, y);
      fv[s] = 0.0;
      for (size_t i = 0; i < to; i++) fv[s] += w[i] * y[i];
    }
    x[j] = keep;
    worst = fmax(worst, fabs((fv[0] - fv[1]) / 2e-6 - dx[j]));
  }
  CHECK(worst < 1e-7, "mbstd reference backward vs central differences (g %d): %g", g, worst);
  free(x), free(w), free(y), free(dx), free(f);
}

static void mbstd_device(clgan_ctx *ctx, int n, int g, int c, int hw, unsigned long long seed) {
  size_t t = (size_t)n * c * hw, to = (size_t)n * (c + 1) * hw;
  float *x = tu_alloc(t), *dy = tu_alloc(to), *got = tu_alloc(to), *want = tu_alloc(to);
  float *old = tu_alloc(t);
  double *xd = gt(t), *dyd = gt(to), *yd = gt(to), *dxd = gt(t);
  ref_fill_uniform(x, t, seed);
  ref_fill_uniform(dy, to, seed + 1);
  ref_fill_uniform(old, t, seed + 2);
  for (size_t i = 0; i < t; i++) xd[i] = x[i];
  for (size_t i = 0; i < to; i++) dyd[i] = dy[i];
  cl_mem xb = tu_upload(ctx, x, t), yb = tu_upload(ctx, NULL, to), dyb = tu_upload(ctx, dy, to);
  cl_mem dxb = tu_upload(ctx, old, t);
  CHECK_OK(clgan_mbstd_forward(ctx, n, g, c, hw, (float)EPS, CLGAN_VIEW(xb, 0), CLGAN_VIEW(yb, 0)));
  tu_download(ctx, yb, 0, to, got);
  ref_mbstd_forward(n, g, c, hw, EPS, xd, yd);
  for (size_t i = 0; i < to; i++) want[i] = (float)yd[i];
  /* the std channel: a mean of c*hw square roots of sums of g squares */
  CHECK_CLOSE(got, want, to, 1e-6, 1e-5, "mbstd forward");
  for (int acc = 0; acc < 2; acc++) {
    CHECK_OK(clgan_mbstd_backward(ctx, n, g, c, hw, (float)EPS, CLGAN_VIEW(xb, 0),
                                  CLGAN_VIEW(dyb, 0), CLGAN_VIEW(dxb, 0), acc));
    tu_download(ctx, dxb, 0, t, got);
    ref_mbstd_backward(n, g, c, hw, EPS, xd, dyd, dxd, 0);
    if (acc) ref_mbstd_backward(n, g, c, hw, EPS, xd, dyd, dxd, 1);
    for (size_t i = 0; i < t; i++) want[i] = (float)dxd[i];
    CHECK_CLOSE(got, want, t, 1e-5, 1e-5, acc ? "mbstd backward, accumulated" : "mbstd backward");
  }
  CHECK(clgan_mbstd_forward(ctx, n + 1, g, c, hw, (float)EPS, CLGAN_VIEW(xb, 0),
                            CLGAN_VIEW(yb, 0)) == CLGAN_ERR_INVALID_ARG || g == 1,
        "a batch not a multiple of the group is refused");
  clgan_buffer_release(&xb), clgan_buffer_release(&yb), clgan_buffer_release(&dyb);
  clgan_buffer_release(&dxb);
  free(x), free(dy), free(got), free(want), free(old), free(xd), free(dyd), free(yd), free(dxd);
}

/* mbstd's double backward: the reference JVP against central differences of the forward
 * along t, the reference HVP against central differences of <dy, JVP(x, t)> in x, then the
 * device kernels against both references (overwrite and accumulate) */
static void mbstd_second(clgan_ctx *ctx, int n, int g, int c, int hw, unsigned long long seed) {
  size_t t = (size_t)n * c * hw, to = (size_t)n * (c + 1) * hw;
  double *x = gt(t), *tv = gt(t), *dy = gt(to), *y = gt(to), *y2 = gt(to), *jv = gt(to);
  double *r = gt(t);
  float *f = tu_alloc(to), *got = tu_alloc(to), *want = tu_alloc(to), *old = tu_alloc(t);
  ref_fill_uniform(f, t, seed);
  for (size_t i = 0; i < t; i++) x[i] = f[i];
  ref_fill_uniform(f, t, seed + 1);
  for (size_t i = 0; i < t; i++) tv[i] = f[i];
  ref_fill_uniform(f, to, seed + 2);
  for (size_t i = 0; i < to; i++) dy[i] = f[i];
  ref_fill_uniform(old, t, seed + 3);
  ref_mbstd_jvp(n, g, c, hw, EPS, x, tv, jv);
  double *xp = gt(t), worst = 0.0;
  for (size_t i = 0; i < t; i++) xp[i] = x[i] + 1e-6 * tv[i];
  ref_mbstd_forward(n, g, c, hw, EPS, xp, y);
  for (size_t i = 0; i < t; i++) xp[i] = x[i] - 1e-6 * tv[i];
  ref_mbstd_forward(n, g, c, hw, EPS, xp, y2);
  for (size_t i = 0; i < to; i++) worst = fmax(worst, fabs((y[i] - y2[i]) / 2e-6 - jv[i]));
  CHECK(worst < 1e-7, "mbstd reference JVP vs central differences (g %d): %g", g, worst);
  ref_mbstd_hvp(n, g, c, hw, EPS, x, tv, dy, r, 0);
  worst = 0.0;
  for (size_t j = 0; j < t; j++) {
    double keep = x[j], fv[2];
    for (int s = 0; s < 2; s++) {
      x[j] = keep + (s ? -1e-6 : 1e-6);
      ref_mbstd_jvp(n, g, c, hw, EPS, x, tv, y);
      fv[s] = 0.0;
      for (size_t i = 0; i < to; i++) fv[s] += dy[i] * y[i];
    }
    x[j] = keep;
    worst = fmax(worst, fabs((fv[0] - fv[1]) / 2e-6 - r[j]));
  }
  CHECK(worst < 1e-7, "mbstd reference HVP vs central differences (g %d): %g", g, worst);
  float *xf = tu_alloc(t), *tf = tu_alloc(t), *dyf = tu_alloc(to);
  for (size_t i = 0; i < t; i++) xf[i] = (float)x[i], tf[i] = (float)tv[i];
  for (size_t i = 0; i < to; i++) dyf[i] = (float)dy[i];
  cl_mem xb = tu_upload(ctx, xf, t), tb = tu_upload(ctx, tf, t), yb = tu_upload(ctx, NULL, to);
  cl_mem dyb = tu_upload(ctx, dyf, to), rb = tu_upload(ctx, old, t);
  CHECK_OK(clgan_mbstd_jvp(ctx, n, g, c, hw, (float)EPS, CLGAN_VIEW(xb, 0), CLGAN_VIEW(tb, 0),
                           CLGAN_VIEW(yb, 0)));
  tu_download(ctx, yb, 0, to, got);
  for (size_t i = 0; i < to; i++) want[i] = (float)jv[i];
  /* a mean of c*hw ratios of g-term sums by square roots */
  CHECK_CLOSE(got, want, to, 1e-5, 1e-5, "mbstd jvp");
  for (int acc = 0; acc < 2; acc++) {
    CHECK_OK(clgan_mbstd_hvp(ctx, n, g, c, hw, (float)EPS, CLGAN_VIEW(xb, 0), CLGAN_VIEW(tb, 0),
                             CLGAN_VIEW(dyb, 0), CLGAN_VIEW(rb, 0), acc));
    tu_download(ctx, rb, 0, t, got);
    for (size_t i = 0; i < t; i++) want[i] = (float)(acc ? 2.0 * r[i] : r[i]);
    CHECK_CLOSE(got, want, t, 1e-5, 1e-4, acc ? "mbstd hvp, accumulated" : "mbstd hvp");
  }
  clgan_buffer_release(&xb), clgan_buffer_release(&tb), clgan_buffer_release(&yb);
  clgan_buffer_release(&dyb), clgan_buffer_release(&rb);
  free(x), free(tv), free(dy), free(y), free(y2), free(jv), free(r), free(xp);
  free(f), free(got), free(want), free(old), free(xf), free(tf), free(dyf);
}

/* z -> pixelnorm -> linear: the net's forward and its input gradient */
static void in_a_net(clgan_ctx *ctx) {
  const char *text = "model pn\nlatent 6\nimage 1 2 2\ngenerator\n  pixelnorm\n  linear 4\n"
                     "  reshape 1 2 2\ndiscriminator\n  flatten\n  linear 1\n";
  clgan_model m;
  CHECK_OK(clgan_model_parse(text, "pn", &m));
  CHECK_OK(clgan_model_resolve(&m, 1));
  if (!m.g.count) return;
  CHECK(m.g.layers[0].kind == CLGAN_LAYER_PIXELNORM, "'pixelnorm' parses");
  enum { N = 3, Z = 6, O = 4 };
  clgan_net *g = NULL;
  CHECK_OK(clgan_net_create(ctx, &m.g, N, 0, "G", &g));
  if (!g) return;
  float p[O * Z + O], z[N * Z], dy[N * O], y[N * O], dz[N * Z];
  ref_fill_uniform(p, O * Z + O, 7);
  ref_fill_uniform(z, N * Z, 8);
  ref_fill_uniform(dy, N * O, 9);
  cl_mem zb = tu_upload(ctx, z, N * Z), dyb = tu_upload(ctx, dy, N * O), dzb = tu_upload(ctx, NULL, N * Z);
  CHECK_OK(clgan_net_set_params(g, p, NULL));
  CHECK_OK(clgan_net_forward(g, N, CLGAN_VIEW(zb, 0), CLGAN_BN_TRAIN));
  clgan_view o = clgan_net_output(g);
  tu_download(ctx, o.mem, o.off, N * O, y);
  CHECK_OK(clgan_net_backward(g, N, CLGAN_VIEW(dyb, 0), 0, 0, CLGAN_VIEW(dzb, 0)));
  tu_download(ctx, dzb, 0, N * Z, dz);
  double zd[N * Z], pn[N * Z], dpn[N * Z], dzd[N * Z];
  for (int i = 0; i < N * Z; i++) zd[i] = z[i];
  ref_pixelnorm_forward(N, Z, 1, EPS, zd, pn);
  float wy[N * O], wdz[N * Z];
  for (int i = 0; i < N; i++)
    for (int k = 0; k < O; k++) {
      double s = p[O * Z + k];
      for (int j = 0; j < Z; j++) s += p[k * Z + j] * pn[i * Z + j];
      wy[i * O + k] = (float)s;
    }
  for (int i = 0; i < N; i++)
    for (int j = 0; j < Z; j++) {
      double s = 0.0;
      for (int k = 0; k < O; k++) s += p[k * Z + j] * (double)dy[i * O + k];
      dpn[i * Z + j] = s;
    }
  ref_pixelnorm_backward(N, Z, 1, EPS, zd, dpn, dzd, 0);
  for (int i = 0; i < N * Z; i++) wdz[i] = (float)dzd[i];
  CHECK_CLOSE(y, wy, N * O, 1e-5, 1e-5, "net: linear(pixelnorm(z))");
  CHECK_CLOSE(dz, wdz, N * Z, 1e-5, 1e-5, "net: d/dz through pixelnorm");
  clgan_buffer_release(&zb), clgan_buffer_release(&dyb), clgan_buffer_release(&dzb);
  clgan_net_free(g);
  clgan_model_free(&m);
}

/* mbstd in a network: its output is the reference's of its input (a batch of 3, fewer than
 * the group of 4: one group of them all), and the model resolves its shape (C + 1) */
static void mbstd_in_a_net(clgan_ctx *ctx) {
  const char *text = "model mb\nlatent 6\nimage 1 2 2\ngenerator\n  linear 16\n  r: reshape 4 2 2\n"
                     "  mb: mbstd\n  conv 1 k=1\ndiscriminator\n  flatten\n  linear 1\n";
  clgan_model m;
  CHECK_OK(clgan_model_parse(text, "mb", &m));
  CHECK_OK(clgan_model_resolve(&m, 1));
  if (!m.g.count) return;
  CHECK(m.g.layers[2].kind == CLGAN_LAYER_MBSTD && m.g.layers[2].out_c == 5 && m.g.layers[2].k == 4,
        "mbstd parses, group 4, 4 -> 5 channels");
  enum { N = 3 };
  clgan_net *g = NULL;
  CHECK_OK(clgan_net_create(ctx, &m.g, N, 0, "G", &g));
  if (!g) return;
  size_t np = m.g.param_count;
  float *p = tu_alloc(np), z[N * 6], a[N * 16], b[N * 20], want[N * 20];
  ref_fill_uniform(p, np, 3);
  ref_fill_uniform(z, N * 6, 4);
  cl_mem zb = tu_upload(ctx, z, N * 6);
  CHECK_OK(clgan_net_set_params(g, p, NULL));
  CHECK_OK(clgan_net_forward(g, N, CLGAN_VIEW(zb, 0), CLGAN_BN_TRAIN));
  clgan_view va = g->t_view[m.g.ninputs + 1], vb = g->t_view[m.g.ninputs + 2];
  tu_download(ctx, va.mem, va.off, N * 16, a);
  tu_download(ctx, vb.mem, vb.off, N * 20, b);
  double ad[N * 16], bd[N * 20];
  for (int i = 0; i < N * 16; i++) ad[i] = a[i];
  ref_mbstd_forward(N, N, 4, 4, EPS, ad, bd);
  for (int i = 0; i < N * 20; i++) want[i] = (float)bd[i];
  CHECK_CLOSE(b, want, N * 20, 1e-6, 1e-5, "net: mbstd of a batch of 3");
  clgan_buffer_release(&zb);
  clgan_net_free(g);
  clgan_model_free(&m);
  free(p);
}

int main(int argc, char **argv) {
  int small = argc > 1 && !strcmp(argv[1], "--small");
  ref_fd();
  clgan_ctx *ctx = tu_open_device();
  /* the network first: under Oclgrind a network made after buffers were released may get
   * their ids, whose stale shadows Oclgrind keeps and reports on (docs/ERRORS.md), so
   * --small (Oclgrind) makes only this one */
  in_a_net(ctx);
  if (!small) mbstd_in_a_net(ctx);
  device(ctx, 2, 3, 5, 11);
  if (!small) {
    device(ctx, 4, 64, 49, 21);
    device(ctx, 3, 512, 16, 31);
    device(ctx, 2, 1, 7, 41);
  }
  mbstd_ref_fd(8, 4, 3, 4);
  mbstd_ref_fd(6, 2, 2, 3);
  mbstd_device(ctx, 8, 4, 3, 4, 61);
  if (!small) {
    mbstd_device(ctx, 16, 4, 64, 16, 71);
    mbstd_device(ctx, 6, 2, 5, 9, 81);
    mbstd_device(ctx, 3, 3, 8, 1, 91);
  }
  mbstd_second(ctx, 8, 4, 3, 4, 101);
  if (!small) {
    mbstd_second(ctx, 6, 2, 5, 9, 111);
    mbstd_second(ctx, 3, 3, 8, 1, 121);
  }
  clgan_ctx_free(ctx);
  return tu_finish("progan");
}
