/* Host checks of the graph-node references (tests/ref/ref_graph.c): every backward against
 * central differences of its forward in double, the accumulate/overwrite contract of each
 * backward, and hand-worked examples that pin PyTorch's conventions (PixelShuffle's channel
 * order, nearest upsampling's floor(o/k), PReLU at 0, the dropout mask's stream). */
#include <stdint.h>

#include "test_util.h"
#include "ref_graph.h"

/* deterministic doubles in [-1, 1) */
static void fill_d(double *x, size_t n, unsigned long long seed) {
  float *f = tu_alloc(n);
  ref_fill_uniform(f, n, seed);
  for (size_t i = 0; i < n; i++) x[i] = f[i];
  free(f);
}

static double *dalloc(size_t n) {
  double *p = calloc(n ? n : 1, sizeof(double));
  if (!p) {
    fprintf(stderr, "FAIL: out of host memory\n");
    exit(1);
  }
  return p;
}

static double rel_err(double got, double want, double abs_tol, double rel_tol) {
  return fabs(got - want) / (abs_tol + rel_tol * fabs(want));
}

/* One operator seen as out = f(in) with all its differentiable inputs packed in `in` and the
 * matching gradients in `grad`; bwd(acc) computes grad (+)= d(sum w*out)/d(in). */
typedef struct op {
  const char *name;
  size_t nin, nout;
  int acc_ok; /* 0: some gradient is overwritten whatever acc (instance norm's dx) */
  void (*fwd)(const struct op *o, const double *in, double *out);
  void (*bwd)(const struct op *o, const double *in, const double *w, double *grad, int acc);
  int n, c, h, w, k, b_vec, a_count, num, dim, affine;
  int x_ctot, x_coff, y_ctot, y_coff;
  const int *labels;
  double p;
} op;

/* L = sum_k w_k out_k; dL/din by central differences, h = 1e-6 in double (error ~1e-10 for
 * these smooth or piecewise-linear functions away from kinks): tolerance 1e-7 + 1e-6 rel.
 * Then the contract: bwd(acc 0) overwrites whatever was there, bwd(acc 1) adds to it. */
static void fd_check(const op *o, unsigned long long seed) {
  double *in = dalloc(o->nin), *w = dalloc(o->nout), *out = dalloc(o->nout);
  double *g = dalloc(o->nin), *g1 = dalloc(o->nin), *init = dalloc(o->nin);
  fill_d(in, o->nin, seed);
  fill_d(w, o->nout, seed + 1);
  fill_d(init, o->nin, seed + 2);
  for (size_t i = 0; i < o->nin; i++) {
    /* keep away from PReLU's kink at 0 by more than h */
    if (fabs(in[i]) < 0.05) in[i] += in[i] < 0 ? -0.05 : 0.05;
    g[i] = 1234.5; /* acc 0 must overwrite this */
  }
  o->bwd(o, in, w, g, 0);
  const double h = 1e-6;
  double worst = 0.0;
  size_t worst_i = 0;
  for (size_t i = 0; i < o->nin; i++) {
    double keep = in[i], lp = 0.0, lm = 0.0;
    in[i] = keep + h;
    o->fwd(o, in, out);
    for (size_t k = 0; k < o->nout; k++) lp += w[k] * out[k];
    in[i] = keep - h;
    o->fwd(o, in, out);
    for (size_t k = 0; k < o->nout; k++) lm += w[k] * out[k];
    in[i] = keep;
    double e = rel_err(g[i], (lp - lm) / (2 * h), 1e-7, 1e-6);
    if (!(e <= worst)) worst = e, worst_i = i;
  }
  CHECK(worst <= 1.0, "%s backward vs finite differences: input %zu off by %.3g x tol", o->name,
        worst_i, worst);
  if (o->acc_ok) {
    memcpy(g1, init, o->nin * sizeof *g1);
    o->bwd(o, in, w, g1, 1);
    double e = 0.0;
    for (size_t i = 0; i < o->nin; i++) e = fmax(e, rel_err(g1[i], init[i] + g[i], 1e-12, 1e-12));
    CHECK(e <= 1.0, "%s backward with accumulate = 1 is not old + gradient (%.3g x tol)",
          o->name, e);
  }
  free(in);
  free(w);
  free(out);
  free(g);
  free(g1);
  free(init);
}

/* ---- the operators as (fwd, bwd) pairs ---- */

static void copy_fwd(const op *o, const double *in, double *out) {
  memset(out, 0, o->nout * sizeof *out);
  ref_channel_copy(o->n, o->c, o->h, in, o->x_ctot, o->x_coff, out, o->y_ctot, o->y_coff, 0);
}
static void copy_bwd(const op *o, const double *in, const double *w, double *g, int acc) {
  /* one call touches only its slice: acc 0 clears the rest first, as a graph would */
  if (!acc) memset(g, 0, o->nin * sizeof *g);
  ref_channel_copy(o->n, o->c, o->h, w, o->y_ctot, o->y_coff, g, o->x_ctot, o->x_coff, acc);
}

static void mul_fwd(const op *o, const double *in, double *out) {
  ref_mul_forward(o->n, o->c, o->h, in, in + (size_t)o->n * o->c * o->h, o->b_vec, out);
}
static void mul_bwd(const op *o, const double *in, const double *w, double *g, int acc) {
  size_t na = (size_t)o->n * o->c * o->h;
  ref_mul_backward(o->n, o->c, o->h, in, in + na, o->b_vec, w, g, g + na, acc);
}

static void embed_fwd(const op *o, const double *in, double *out) {
  ref_embed_forward(o->n, o->num, o->dim, o->labels, in, out);
}
static void embed_bwd(const op *o, const double *in, const double *w, double *g, int acc) {
  ref_embed_backward(o->n, o->num, o->dim, o->labels, w, g, acc);
}

static void up_fwd(const op *o, const double *in, double *out) {
  ref_upsample_forward(o->n, o->c, o->h, o->w, o->k, in, out);
}
static void up_bwd(const op *o, const double *in, const double *w, double *g, int acc) {
  ref_upsample_backward(o->n, o->c, o->h, o->w, o->k, w, g, acc);
}

static void avg_fwd(const op *o, const double *in, double *out) {
  ref_avgpool_forward(o->n, o->c, o->h, o->w, o->k, in, out);
}
static void avg_bwd(const op *o, const double *in, const double *w, double *g, int acc) {
  ref_avgpool_backward(o->n, o->c, o->h, o->w, o->k, w, g, acc);
}

static void sum_fwd(const op *o, const double *in, double *out) {
  ref_sumpool_forward(o->n, o->c, o->h, in, out);
}
static void sum_bwd(const op *o, const double *in, const double *w, double *g, int acc) {
  ref_sumpool_backward(o->n, o->c, o->h, w, g, acc);
}

static void ps_fwd(const op *o, const double *in, double *out) {
  ref_pixelshuffle_forward(o->n, o->c, o->h, o->w, o->k, in, out);
}
static void ps_bwd(const op *o, const double *in, const double *w, double *g, int acc) {
  ref_pixelshuffle_backward(o->n, o->c, o->h, o->w, o->k, w, g, acc);
}

/* in = [x, gamma, beta] (affine) or [x] */
static void in_fwd(const op *o, const double *in, double *out) {
  size_t nx = (size_t)o->n * o->c * o->h;
  ref_instancenorm_forward(o->n, o->c, o->h, in, o->affine ? in + nx : NULL,
                           o->affine ? in + nx + o->c : NULL, 1e-5, out, NULL, NULL);
}
static void in_bwd(const op *o, const double *in, const double *w, double *g, int acc) {
  size_t nx = (size_t)o->n * o->c * o->h, np = (size_t)o->n * o->c;
  double *y = dalloc(nx), *sm = dalloc(np), *si = dalloc(np);
  const double *gamma = o->affine ? in + nx : NULL;
  ref_instancenorm_forward(o->n, o->c, o->h, in, gamma, o->affine ? in + nx + o->c : NULL, 1e-5,
                           y, sm, si);
  ref_instancenorm_backward(o->n, o->c, o->h, in, w, gamma, sm, si, g,
                            o->affine ? g + nx : NULL, o->affine ? g + nx + o->c : NULL, acc);
  free(y);
  free(sm);
  free(si);
}

static void drop_fwd(const op *o, const double *in, double *out) {
  ref_dropout(o->nin, o->p, 77, 5, in, out, 0);
}
static void drop_bwd(const op *o, const double *in, const double *w, double *g, int acc) {
  ref_dropout(o->nin, o->p, 77, 5, w, g, acc);
}

/* in = [x, a] */
static void prelu_fwd(const op *o, const double *in, double *out) {
  size_t nx = (size_t)o->n * o->c * o->h;
  ref_prelu_forward(o->n, o->c, o->h, in, in + nx, o->a_count, out);
}
static void prelu_bwd(const op *o, const double *in, const double *w, double *g, int acc) {
  size_t nx = (size_t)o->n * o->c * o->h;
  ref_prelu_backward(o->n, o->c, o->h, in, in + nx, o->a_count, w, g, g + nx, acc);
}

static void test_fd(void) {
  static const int labels[7] = {2, 0, 2, -1, 4, 2, 9}; /* repeats; -1 and 9 out of range */
  op ops[] = {
      {"channel copy", 3 * 5 * 4, 3 * 6 * 4, 1, copy_fwd, copy_bwd, .n = 3, .c = 2, .h = 4,
       .x_ctot = 5, .x_coff = 2, .y_ctot = 6, .y_coff = 3},
      {"mul", 2 * 3 * 5 * 2, 2 * 3 * 5, 1, mul_fwd, mul_bwd, .n = 2, .c = 3, .h = 5},
      {"mul (b broadcast)", 2 * 3 * 5 + 2 * 3, 2 * 3 * 5, 1, mul_fwd, mul_bwd, .n = 2, .c = 3,
       .h = 5, .b_vec = 1},
      {"embedding", 5 * 3, 7 * 3, 1, embed_fwd, embed_bwd, .n = 7, .num = 5, .dim = 3,
       .labels = labels},
      {"upsample k=3", 2 * 2 * 2 * 3, 2 * 2 * 6 * 9, 1, up_fwd, up_bwd, .n = 2, .c = 2, .h = 2,
       .w = 3, .k = 3},
      {"avgpool k=2", 2 * 3 * 4 * 6, 2 * 3 * 2 * 3, 1, avg_fwd, avg_bwd, .n = 2, .c = 3, .h = 4,
       .w = 6, .k = 2},
      {"sumpool", 3 * 2 * 7, 3 * 2, 1, sum_fwd, sum_bwd, .n = 3, .c = 2, .h = 7},
      {"pixelshuffle r=2", 2 * 3 * 4 * 2 * 3, 2 * 3 * 4 * 6, 1, ps_fwd, ps_bwd, .n = 2, .c = 3,
       .h = 2, .w = 3, .k = 2},
      {"pixelshuffle r=3", 1 * 2 * 9 * 2 * 2, 1 * 2 * 6 * 6, 1, ps_fwd, ps_bwd, .n = 1, .c = 2,
       .h = 2, .w = 2, .k = 3},
      {"instancenorm affine", 3 * 2 * 6 + 4, 3 * 2 * 6, 0, in_fwd, in_bwd, .n = 3, .c = 2,
       .h = 6, .affine = 1},
      {"instancenorm", 2 * 3 * 5, 2 * 3 * 5, 0, in_fwd, in_bwd, .n = 2, .c = 3, .h = 5},
      {"dropout p=0.3", 40, 40, 1, drop_fwd, drop_bwd, .p = 0.3},
      {"prelu a_count=1", 2 * 3 * 4 + 1, 2 * 3 * 4, 1, prelu_fwd, prelu_bwd, .n = 2, .c = 3,
       .h = 4, .a_count = 1},
      {"prelu a_count=C", 2 * 3 * 4 + 3, 2 * 3 * 4, 1, prelu_fwd, prelu_bwd, .n = 2, .c = 3,
       .h = 4, .a_count = 3},
  };
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) fd_check(&ops[i], 100 + 7 * i);
}

/* Instance norm's dgamma/dbeta accumulate, its dx never does. */
static void test_instancenorm_contract(void) {
  enum { N = 2, C = 2, HW = 4, T = N * C * HW };
  double x[T], dy[T], dx[T], dx2[T], sm[N * C], si[N * C], y[T];
  double gamma[C] = {1.5, -0.5}, beta[C] = {0.1, 0.2}, dg[C] = {3, 4}, db[C] = {5, 6};
  double dg0[C], db0[C];
  fill_d(x, T, 1);
  fill_d(dy, T, 2);
  ref_instancenorm_forward(N, C, HW, x, gamma, beta, 1e-5, y, sm, si);
  ref_instancenorm_backward(N, C, HW, x, dy, gamma, sm, si, dx, dg0, db0, 0);
  for (int i = 0; i < T; i++) dx2[i] = 99.0;
  ref_instancenorm_backward(N, C, HW, x, dy, gamma, sm, si, dx2, dg, db, 1);
  for (int i = 0; i < T; i++) CHECK(dx2[i] == dx[i], "instancenorm dx[%d] accumulated", i);
  for (int c = 0; c < C; c++)
    CHECK(fabs(dg[c] - (3 + c + dg0[c])) < 1e-12 && fabs(db[c] - (5 + c + db0[c])) < 1e-12,
          "instancenorm dgamma/dbeta[%d] did not accumulate", c);
  /* hand-worked: one plane 1, 2, 3, 4: mean 2.5, biased variance 1.25 */
  const double xs[4] = {1, 2, 3, 4};
  double ys[4], m, is;
  ref_instancenorm_forward(1, 1, 4, xs, NULL, NULL, 0.0, ys, &m, &is);
  CHECK(m == 2.5 && fabs(is - 1.0 / sqrt(1.25)) < 1e-15 && fabs(ys[0] + 1.5 / sqrt(1.25)) < 1e-15,
        "instancenorm of 1..4: mean %g invstd %g y0 %g", m, is, ys[0]);
}

/* PyTorch's conventions, on values worked out by hand. */
static void test_conventions(void) {
  /* PixelShuffle(2) of (1, 8, 1, 2): y channel ci at (i, 2*ix + j) = x channel 4*ci + 2*i + j
   * at (0, ix). */
  double x[16], y[16], back[16];
  for (int i = 0; i < 16; i++) x[i] = i;
  ref_pixelshuffle_forward(1, 2, 1, 2, 2, x, y);
  /* x index = ch*2 + ix; y (2, 2, 4): index ((ci*2) + oy)*4 + ox */
  const double want[16] = {0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 14, 13, 15};
  int ok = 1;
  for (int i = 0; i < 16; i++) ok &= y[i] == want[i];
  CHECK(ok, "pixelshuffle channel order: y = %g %g %g %g ...", y[0], y[1], y[2], y[3]);
  ref_pixelshuffle_backward(1, 2, 1, 2, 2, y, back, 0);
  ok = 1;
  for (int i = 0; i < 16; i++) ok &= back[i] == x[i];
  CHECK(ok, "pixel unshuffle is not the inverse of pixel shuffle");
  /* nearest upsampling by 3 of a 1x2 row: 0 0 0 1 1 1 on each of 3 rows */
  const double row[2] = {5, 7};
  double up[18];
  ref_upsample_forward(1, 1, 1, 2, 3, row, up);
  CHECK(up[0] == 5 && up[2] == 5 && up[3] == 7 && up[17] == 7 && up[12] == 5,
        "upsample floor(o/k): %g %g %g %g", up[0], up[2], up[3], up[17]);
  /* PReLU at 0: y = 0; dx = a * dy (slope side); da gets 0 * dy = 0 */
  const double xz[3] = {0.0, 2.0, -3.0}, a[1] = {0.25}, dyz[3] = {4.0, 5.0, 6.0};
  double yz[3], dxz[3], da[1];
  ref_prelu_forward(1, 1, 3, xz, a, 1, yz);
  ref_prelu_backward(1, 1, 3, xz, a, 1, dyz, dxz, da, 0);
  CHECK(yz[0] == 0 && yz[1] == 2 && yz[2] == -0.75, "prelu y %g %g %g", yz[0], yz[1], yz[2]);
  CHECK(dxz[0] == 1.0 && dxz[1] == 5.0 && dxz[2] == 1.5 && da[0] == -18.0,
        "prelu dx %g %g %g da %g (want 1 5 1.5, -18)", dxz[0], dxz[1], dxz[2], da[0]);
  /* embedding: an out-of-range label gives a zero row; its dy goes nowhere */
  const int lab[3] = {1, 3, -2};
  const double wt[6] = {1, 2, 3, 4, 5, 6};
  double ye[6], dw[6];
  ref_embed_forward(3, 3, 2, lab, wt, ye);
  CHECK(ye[0] == 3 && ye[1] == 4 && ye[2] == 0 && ye[5] == 0, "embedding rows %g %g %g", ye[0],
        ye[2], ye[4]);
  const double dye[6] = {1, 1, 1, 1, 1, 1};
  ref_embed_backward(3, 3, 2, lab, dye, dw, 0);
  CHECK(dw[2] == 1 && dw[0] == 0 && dw[4] == 0, "embedding dw %g %g %g", dw[0], dw[2], dw[4]);
  /* avgpool 2 of one 2x2 block */
  const double blk[4] = {1, 2, 3, 6};
  double av;
  ref_avgpool_forward(1, 1, 2, 2, 2, blk, &av);
  CHECK(av == 3.0, "avgpool of 1 2 3 6 = %g, want 3", av);
}

/* The dropout mask from the independent Philox reference equals the library's host twin's
 * uniform < p (what the device computes), and drops about p of the values. */
static void test_dropout_mask(void) {
  enum { N = 4099 };
  const unsigned long long seeds[] = {0, 1234567, 0xFFFFFFFFFFFFull};
  const unsigned long long counters[] = {0, 3, 1ull << 40};
  const double ps[] = {0.0, 0.1, 0.5, 0.9};
  float *u = tu_alloc(N);
  unsigned char keep[N];
  for (size_t s = 0; s < 3; s++)
    for (size_t c = 0; c < 3; c++) {
      clgan_philox_uniform(N, seeds[s], counters[c], 0.0f, 1.0f, u);
      for (size_t pi = 0; pi < 4; pi++) {
        ref_dropout_mask(N, ps[pi], seeds[s], counters[c], keep);
        int bad = 0, dropped = 0;
        for (int i = 0; i < N; i++) {
          bad += keep[i] != !(u[i] < (float)ps[pi]);
          dropped += !keep[i];
        }
        CHECK(bad == 0, "dropout mask: %d of %d differ from clgan_philox_uniform < p", bad, N);
        /* binomial: 5 standard deviations */
        double sd = sqrt(N * ps[pi] * (1 - ps[pi]));
        CHECK(fabs(dropped - N * ps[pi]) <= 5 * sd + 0.5, "dropout p=%g dropped %d of %d",
              ps[pi], dropped, N);
      }
    }
  free(u);
}

int main(void) {
  test_fd();
  test_instancenorm_contract();
  test_conventions();
  test_dropout_mask();
  return tu_finish("test_ref_graph");
}
