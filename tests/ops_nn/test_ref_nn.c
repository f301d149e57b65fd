/* Host checks of the nn references (tests/ref/ref_nn.c) and of the library's host Philox
 * twin: finite differences, closed forms, hand-computed optimiser steps, known answers. */
#include <stdint.h>

#include "test_util.h"

/* deterministic doubles in [-1, 1) */
static void fill_d(double *x, size_t n, unsigned long long seed) {
  float *f = tu_alloc(n);
  ref_fill_uniform(f, n, seed);
  for (size_t i = 0; i < n; i++) x[i] = f[i];
  free(f);
}

static double rel_err(double got, double want, double abs_tol, double rel_tol) {
  return fabs(got - want) / (abs_tol + rel_tol * fabs(want));
}

/* L = sum_i w_i * y_i(x); dL/dx by central differences (h = 1e-6, double throughout, so
 * the error is ~1e-10: tolerance 1e-7 abs + 1e-6 rel). */
static void test_batchnorm_fd(int n, int c, int hw) {
  const double eps = 1e-5, h = 1e-6;
  size_t total = (size_t)n * c * hw;
  double *x = calloc(total, sizeof *x), *w = calloc(total, sizeof *w);
  double *y = calloc(total, sizeof *y), *dx = calloc(total, sizeof *dx);
  double gamma[8], beta[8], dgamma[8], dbeta[8];
  fill_d(x, total, 11);
  fill_d(w, total, 12);
  fill_d(gamma, (size_t)c, 13);
  fill_d(beta, (size_t)c, 14);
  for (size_t i = 0; i < total; i++) x[i] = 2.0 * x[i] + 0.5; /* off-centre */
  ref_batchnorm_backward_f64(n, c, hw, x, w, gamma, eps, dx, dgamma, dbeta);
  double worst = 0.0;
#define LOSS(val)                                                   \
  do {                                                              \
    ref_batchnorm_train_f64(n, c, hw, x, gamma, beta, eps, y);      \
    double l_ = 0.0;                                                \
    for (size_t k = 0; k < total; k++) l_ += w[k] * y[k];           \
    (val) = l_;                                                     \
  } while (0)
  for (size_t i = 0; i < total; i++) {
    double keep = x[i], lp, lm;
    x[i] = keep + h;
    LOSS(lp);
    x[i] = keep - h;
    LOSS(lm);
    x[i] = keep;
    worst = fmax(worst, rel_err(dx[i], (lp - lm) / (2 * h), 1e-7, 1e-6));
  }
  for (int ci = 0; ci < c; ci++) {
    double lp, lm, keep = gamma[ci];
    gamma[ci] = keep + h;
    LOSS(lp);
    gamma[ci] = keep - h;
    LOSS(lm);
    gamma[ci] = keep;
    worst = fmax(worst, rel_err(dgamma[ci], (lp - lm) / (2 * h), 1e-7, 1e-6));
    keep = beta[ci];
    beta[ci] = keep + h;
    LOSS(lp);
    beta[ci] = keep - h;
    LOSS(lm);
    beta[ci] = keep;
    worst = fmax(worst, rel_err(dbeta[ci], (lp - lm) / (2 * h), 1e-7, 1e-6));
  }
#undef LOSS
  CHECK(worst <= 1.0, "batchnorm backward vs finite differences (N=%d C=%d HW=%d): %.3g x tol",
        n, c, hw, worst);
  free(x);
  free(w);
  free(y);
  free(dx);
}

/* The float wrappers against hand-worked numbers: one channel x = 1, 2, 3, 4. */
static void test_batchnorm_hand(void) {
  const float x[4] = {1, 2, 3, 4}, gamma[1] = {2}, beta[1] = {0.5f};
  float y[4], mean[1], invstd[1], rm[1] = {0}, rv[1] = {1};
  ref_batchnorm_forward_train(2, 1, 2, x, gamma, beta, y, mean, invstd, rm, rv, 0.1f, 1e-5f);
  /* mean 2.5, biased var 1.25, unbiased 5/3 */
  double is = 1.0 / sqrt(1.25 + 1e-5);
  CHECK(fabs(mean[0] - 2.5) < 1e-7 && fabs(invstd[0] - is) < 1e-6, "mean %g invstd %g",
        mean[0], invstd[0]);
  CHECK(fabs(y[0] - (-1.5 * is * 2 + 0.5)) < 1e-6 && fabs(y[3] - (1.5 * is * 2 + 0.5)) < 1e-6,
        "y %g %g", y[0], y[3]);
  CHECK(fabs(rm[0] - 0.25) < 1e-7, "running mean %g, want 0.25", rm[0]);
  CHECK(fabs(rv[0] - (0.9 + 0.1 * 5.0 / 3.0)) < 1e-6, "running var %g, want 1.0666667", rv[0]);
  float ye[4];
  const float erm[1] = {2.5f}, erv[1] = {1.25f};
  ref_batchnorm_forward_eval(1, 1, 4, x, gamma, beta, erm, erv, 1e-5f, ye);
  for (int i = 0; i < 4; i++) CHECK(fabs(ye[i] - y[i]) < 1e-6, "eval y[%d] %g vs %g", i, ye[i], y[i]);
  /* backward: dy = 1 everywhere gives dx = 0, dbeta = 4, dgamma = sum(xhat) = 0 */
  const float dy[4] = {1, 1, 1, 1};
  float dx[4], dg[1] = {10}, db[1] = {10};
  ref_batchnorm_backward(2, 1, 2, x, dy, gamma, mean, invstd, dx, dg, db, 1);
  CHECK(fabs(dx[0]) < 1e-6 && fabs(dx[3]) < 1e-6, "dx %g %g", dx[0], dx[3]);
  CHECK(fabs(dg[0] - 10) < 1e-5 && fabs(db[0] - 14) < 1e-5, "accumulated dgamma %g dbeta %g",
        dg[0], db[0]);
}

static void test_activations(void) {
  const double xs[] = {-3.0, -0.7, -0.01, 0.02, 0.5, 2.5, 8.0};
  const double h = 1e-6;
  for (int kind = REF_ACT_IDENTITY; kind <= REF_ACT_SIGMOID; kind++)
    for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
      double x = xs[i], slope = 0.2;
      double fd = (ref_act_f64(kind, slope, x + h) - ref_act_f64(kind, slope, x - h)) / (2 * h);
      double g = ref_act_grad_f64(kind, slope, x);
      CHECK(rel_err(g, fd, 1e-8, 1e-6) <= 1.0, "act %d at %g: grad %.12g fd %.12g", kind, x, g,
            fd);
    }
  /* extremes stay finite and saturate */
  CHECK(ref_act_f64(REF_ACT_SIGMOID, 0, -1000) == 0.0 && ref_act_f64(REF_ACT_SIGMOID, 0, 1000) == 1.0,
        "sigmoid saturation");
  CHECK(ref_act_grad_f64(REF_ACT_SIGMOID, 0, 1000) == 0.0 && ref_act_grad_f64(REF_ACT_TANH, 0, 400) == 0.0,
        "saturated gradients are 0, not NaN");
}

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

static void test_losses(void) {
  struct { int kind; double t; } cases[] = {
      {REF_LOSS_BCE, 1.0},     {REF_LOSS_BCE, 0.0},     {REF_LOSS_BCE, 0.3},
      {REF_LOSS_MINIMAX_G, 0}, {REF_LOSS_SQUARED, 1.0}, {REF_LOSS_SQUARED, 0.0},
      {REF_LOSS_HINGE, 1.0},   {REF_LOSS_HINGE, -1.0},  {REF_LOSS_LINEAR, 1.0},
      {REF_LOSS_LINEAR, -1.0}};
  const double xs[] = {-12.0, -3.0, -0.4, 0.3, 0.8, 1.6, 4.0, 12.0}; /* off the hinge kinks */
  const double h = 1e-6;
  for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
    for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
      int k = cases[c].kind;
      double t = cases[c].t, x = xs[i];
      double fd = (ref_loss_f64(k, t, x + h) - ref_loss_f64(k, t, x - h)) / (2 * h);
      double g = ref_loss_grad_f64(k, t, x);
      CHECK(rel_err(g, fd, 1e-8, 1e-6) <= 1.0, "loss %d t=%g at %g: grad %.12g fd %.12g", k, t,
            x, g, fd);
    }
  /* the stable forms equal the textbook ones where those are still accurate */
  for (double x = -15.0; x <= 15.0; x += 0.75) {
    for (double t = 0.0; t <= 1.0; t += 0.25) {
      double want = -(t * log(sigmoid(x)) + (1 - t) * log(1 - sigmoid(x)));
      CHECK(rel_err(ref_loss_f64(REF_LOSS_BCE, t, x), want, 1e-9, 1e-9) <= 1.0,
            "BCE(%g, t=%g) = %.15g, textbook %.15g", x, t, ref_loss_f64(REF_LOSS_BCE, t, x), want);
    }
    double want = log(1 - sigmoid(x));
    CHECK(rel_err(ref_loss_f64(REF_LOSS_MINIMAX_G, 0, x), want, 1e-9, 1e-9) <= 1.0,
          "minimax(%g) = %.15g, textbook %.15g", x, ref_loss_f64(REF_LOSS_MINIMAX_G, 0, x), want);
  }
  /* extreme logits: finite, and equal to the asymptotic closed forms */
  const double e100 = exp(-100.0);
  struct { int kind; double t, x, loss, grad; } ext[] = {
      {REF_LOSS_BCE, 1, 100, e100, 0.0},         {REF_LOSS_BCE, 1, -100, 100.0, -1.0},
      {REF_LOSS_BCE, 0, 100, 100.0, 1.0},        {REF_LOSS_BCE, 0, -100, e100, e100},
      {REF_LOSS_MINIMAX_G, 0, 100, -100.0, -1.0}, {REF_LOSS_MINIMAX_G, 0, -100, -e100, -e100},
      {REF_LOSS_HINGE, 1, 100, 0.0, 0.0},        {REF_LOSS_HINGE, -1, 100, 101.0, 1.0},
      {REF_LOSS_SQUARED, 1, -100, 5100.5, -101.0}, {REF_LOSS_LINEAR, 1, -100, 100.0, -1.0}};
  for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
    double l = ref_loss_f64(ext[i].kind, ext[i].t, ext[i].x);
    double g = ref_loss_grad_f64(ext[i].kind, ext[i].t, ext[i].x);
    CHECK(isfinite(l) && isfinite(g) && rel_err(l, ext[i].loss, 1e-300, 1e-12) <= 1.0 &&
              rel_err(g, ext[i].grad, 1e-300, 1e-12) <= 1.0,
          "loss %d t=%g x=%g: %.17g / %.17g, want %.17g / %.17g", ext[i].kind, ext[i].t,
          ext[i].x, l, g, ext[i].loss, ext[i].grad);
  }
  /* the batch wrapper: mean, mean sigmoid, scale/n in the gradient */
  const float logits[3] = {1, 2, 3};
  float out2[2], d[3];
  ref_loss_forward_backward(REF_LOSS_SQUARED, 0.0f, 3, logits, 2.0f, out2, d);
  CHECK(fabs(out2[0] - 7.0 / 3.0) < 1e-6, "mean squared loss %g, want 7/3", out2[0]);
  CHECK(fabs(out2[1] - (sigmoid(1) + sigmoid(2) + sigmoid(3)) / 3) < 1e-6, "mean sigmoid %g",
        out2[1]);
  CHECK(fabs(d[2] - 2.0 * 3.0 / 3.0) < 1e-6, "dlogit %g, want scale * x / n = 2", d[2]);
}

/* Adam by hand, p = 1, lr 0.1, betas (0.9, 0.999), eps 1e-8, gradients 0.5, -0.25, 0.125:
 * step 1: m = 0.05, v = 0.00025, m/(1-0.9) = 0.5, v/(1-0.999) = 0.25 -> p = 1 - 0.1 = 0.9
 * step 2: m = 0.045 - 0.025 = 0.02, v = 0.00024975 + 0.0000625 = 0.00031225,
 *         p = 0.9 - 0.1 * (0.02/0.19) / sqrt(0.00031225/0.001999) = 0.8733663
 * step 3 and the weight-decay variants worked the same way (L2: g += 0.1 p; AdamW:
 * p *= 1 - 0.01 first). */
static void test_adam(void) {
  const float grads[3] = {0.5f, -0.25f, 0.125f};
  const double want[3][3] = {{0.900000002, 0.8733662987, 0.8393233849},
                             {0.9000000017, 0.8544413675, 0.8005694721},
                             {0.890000002, 0.8544662987, 0.8118787219}};
  const float wd[3] = {0.0f, 0.1f, 0.1f};
  const int dec[3] = {0, 0, 1};
  for (int v = 0; v < 3; v++) {
    float p = 1.0f, m = 0.0f, s = 0.0f;
    for (int t = 1; t <= 3; t++) {
      ref_adam_step(1, &p, &grads[t - 1], &m, &s, 0.1f, 0.9f, 0.999f, 1e-8f, wd[v], dec[v], t);
      CHECK(fabs(p - want[v][t - 1]) <= 2e-7, "adam variant %d step %d: p %.9g want %.9g", v, t,
            p, want[v][t - 1]);
    }
  }
  /* SGD momentum 0.9, lr 0.1, g = 0.5 twice: buf 0.5 then 0.95; p 0.95 then 0.855 */
  float p = 1.0f, buf = 123.0f;
  const float g = 0.5f;
  ref_sgd_step(1, &p, &g, &buf, 0.1f, 0.9f, 0.0f, 1);
  CHECK(fabs(p - 0.95) < 1e-7 && fabs(buf - 0.5) < 1e-7, "sgd step 1: p %g buf %g", p, buf);
  ref_sgd_step(1, &p, &g, &buf, 0.1f, 0.9f, 0.0f, 2);
  CHECK(fabs(p - 0.855) < 1e-7 && fabs(buf - 0.95) < 1e-7, "sgd step 2: p %g buf %g", p, buf);
}

static void test_philox(void) {
  /* Random123 kat_vectors, philox4x32 R=10: counter, key, expected */
  static const uint32_t kat[3][10] = {
      {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
      {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
       0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
      {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
       0x94fdcceb, 0x5001e420, 0x24126ea1}};
  for (int i = 0; i < 3; i++) {
    uint32_t out[4];
    ref_philox4x32_10(kat[i], kat[i] + 4, out);
    CHECK(!memcmp(out, kat[i] + 6, sizeof out), "philox KAT %d: %08x %08x %08x %08x", i, out[0],
          out[1], out[2], out[3]);
  }
  /* the library's twin: uniform(0, 1) is exactly (word >> 8) / 2^24 of the reference words,
   * over counters that start mid-block and wrap around 2^64 */
  const unsigned long long counters[] = {0, 1, 7, 1000003, 0xFFFFFFFFFFFFFFFAull};
  const unsigned long long seeds[] = {0, 42, 0xDEADBEEFCAFEF00Dull};
  float u[37], z[37];
  int bad_u = 0;
  double worst_z = 0.0;
  for (size_t s = 0; s < 3; s++)
    for (size_t c = 0; c < 5; c++) {
      clgan_philox_uniform(37, seeds[s], counters[c], 0.0f, 1.0f, u);
      clgan_philox_normal(37, seeds[s], counters[c], 0.0f, 1.0f, z);
      for (int i = 0; i < 37; i++) {
        unsigned long long j = counters[c] + (unsigned long long)i;
        if (u[i] * 16777216.0f != (float)(ref_philox_word(seeds[s], j) >> 8)) bad_u++;
        /* float Box-Muller with +,-,* only: ~1e-6 of the double one */
        worst_z = fmax(worst_z, rel_err(z[i], ref_philox_normal_f64(seeds[s], j), 2e-6, 2e-6));
      }
    }
  CHECK(bad_u == 0, "%d uniforms differ from the reference Philox words", bad_u);
  CHECK(worst_z <= 1.0, "host normals vs double Box-Muller: %.3g x tolerance", worst_z);
  /* (lo, hi) and (mean, std) are applied as lo + (hi-lo)*u and mean + std*z */
  float a[8], b[8];
  clgan_philox_uniform(8, 5, 3, -2.0f, 6.0f, a);
  clgan_philox_uniform(8, 5, 3, 0.0f, 1.0f, b);
  for (int i = 0; i < 8; i++) CHECK(a[i] == -2.0f + 8.0f * b[i], "uniform range %d", i);
  clgan_philox_normal(8, 5, 3, 1.5f, 0.25f, a);
  clgan_philox_normal(8, 5, 3, 0.0f, 1.0f, b);
  for (int i = 0; i < 8; i++) CHECK(a[i] == 1.5f + 0.25f * b[i], "normal scale %d", i);
  /* moments of 1e6 values: standard errors 1e-3 (mean) and 7e-4 (std); 5 sigma bounds */
  enum { M = 1000000 };
  float *big = tu_alloc(M);
  clgan_philox_normal(M, 2024, 0, 0.0f, 1.0f, big);
  double s1 = 0, s2 = 0, s4 = 0, tail = 0;
  for (int i = 0; i < M; i++) {
    double v = big[i];
    s1 += v;
    s2 += v * v;
    s4 += v * v * v * v;
    tail += fabs(v) > 3.0;
  }
  double mean = s1 / M, sd = sqrt(s2 / M - mean * mean), kurt = s4 / M;
  CHECK(fabs(mean) < 5e-3, "normal mean %g", mean);
  CHECK(fabs(sd - 1.0) < 3.5e-3, "normal std %g", sd);
  CHECK(fabs(kurt - 3.0) < 0.05, "normal 4th moment %g, want 3", kurt);
  CHECK(fabs(tail / M - 0.0026998) < 5 * sqrt(0.0027 / M), "P(|z|>3) = %g, want 0.0027", tail / M);
  clgan_philox_uniform(M, 2024, 0, 0.0f, 1.0f, big);
  s1 = s2 = 0;
  for (int i = 0; i < M; i++) {
    s1 += big[i];
    s2 += (double)big[i] * big[i];
  }
  CHECK(fabs(s1 / M - 0.5) < 5 * 0.2887 / 1000, "uniform mean %g", s1 / M);
  CHECK(fabs(s2 / M - s1 / M * (s1 / M) - 1.0 / 12) < 5e-4, "uniform variance %g",
        s2 / M - s1 / M * (s1 / M));
  free(big);
}

static void test_reductions(void) {
  const float x[6] = {0, 0, 3, 4, 6, 8}; /* rows (0,0), (3,4), (6,8): distances 5, 10, 5 */
  CHECK(fabs(ref_pairwise_distance_mean(3, 2, x) - 20.0 / 3.0) < 1e-12, "pairwise mean %g",
        ref_pairwise_distance_mean(3, 2, x));
  CHECK(ref_pairwise_distance_mean(1, 2, x) == 0.0, "one row has no pairs");
  CHECK(ref_sum(6, x) == 21.0 && ref_sumsq(6, x) == 125.0, "sum %g sumsq %g", ref_sum(6, x),
        ref_sumsq(6, x));
}

/* Softmax cross-entropy: the analytic gradient (scale (p - onehot) / n) against central
 * differences of the float64 mean loss (h = 1e-6: tolerance 1e-8 abs + 1e-6 rel), a
 * hand-computed value, and stability at logits of +-1e4 (no overflow, loss finite). */
static void test_softmax_xent(void) {
  const int n = 3, k = 5;
  const double h = 1e-6;
  double x[15];
  float xf[15], d[15], out2[2];
  int32_t y[3] = {0, 4, 2};
  fill_d(x, 15, 21);
  for (int i = 0; i < 15; i++) xf[i] = (float)(x[i] * 4.0), x[i] = xf[i];
  ref_softmax_xent(n, k, xf, y, 2.0f, out2, d);
  for (int i = 0; i < 15; i++) {
    double s = x[i];
    x[i] = s + h;
    double lp = ref_softmax_xent_loss_f64(n, k, x, y);
    x[i] = s - h;
    double lm = ref_softmax_xent_loss_f64(n, k, x, y);
    x[i] = s;
    double fd = 2.0 * (lp - lm) / (2 * h);
    CHECK(rel_err(d[i], fd, 1e-7, 1e-5) <= 1.0, "softmax_xent dlogit %d: %.9g, fd %.9g", i,
          d[i], fd);
  }
  CHECK(fabs(out2[0] - ref_softmax_xent_loss_f64(n, k, x, y)) < 1e-6, "softmax_xent loss");
  /* two classes, logits (0, log 3): p = (1/4, 3/4); label 0 -> loss log 4; wrong */
  float two[2] = {0.0f, (float)log(3.0)};
  int32_t y0 = 0;
  ref_softmax_xent(1, 2, two, &y0, 1.0f, out2, d);
  CHECK(fabs(out2[0] - log(4.0)) < 1e-6 && out2[1] == 0.0f, "softmax_xent(0, log 3; 0) = %g acc %g",
        out2[0], out2[1]);
  CHECK(fabs(d[0] + 0.75) < 1e-6 && fabs(d[1] - 0.75) < 1e-6, "softmax_xent grad %g %g", d[0], d[1]);
  float big[3] = {1e4f, -1e4f, 9990.0f};
  ref_softmax_xent(1, 3, big, &y0, 1.0f, out2, d);
  CHECK(isfinite(out2[0]) && out2[0] < 1e-4 && out2[1] == 1.0f, "softmax_xent at 1e4: %g", out2[0]);
}

int main(void) {
  test_softmax_xent();
  test_batchnorm_fd(3, 2, 5);
  test_batchnorm_fd(4, 3, 1);
  test_batchnorm_fd(1, 2, 7);
  test_batchnorm_hand();
  test_activations();
  test_losses();
  test_adam();
  test_philox();
  test_reductions();
  return tu_finish("test_ref_nn");
}
