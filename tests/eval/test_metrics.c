/* The metrics library (include/clgan/metrics.h) against float64 references written
 * independently (ref_eval.c) and against closed forms, on fixed random features.
 * Tolerances (docs/EVAL.md repeats them):
 *   moments      |lib - ref| <= 1e-12 (1 + |ref|)
 *   FD vs ref    |lib - ref| <= 1e-9 * (1 + tr S1 + tr S2)     (Denman-Beavers reference)
 *   FD(a, a)     <= 1e-9 * (tr S + 1)
 *   FD closed    exact moments: 1e-9 relative; sampled (n = 40000): 3% relative
 *   MMD^2        |lib - ref| <= 1e-10 * (1 + |K| scale)
 *   KID          one distribution: |mean| <= 3 std; shifted: mean >= 10 std
 *   P/R          equal to the brute-force reference; identical sets 1 / 1; collapsed
 *                set precision >= 0.9, recall <= 0.05
 * Host only (no OpenCL device). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/metrics.h"
#include "clgan/ops.h"
#include "ref_eval.h"
#include "test_util.h"

/* random orthogonal d x d (Gram-Schmidt of Gaussian columns), row-major */
static void orthogonal(int d, unsigned long long seed, double *q) {
  float *g = malloc(sizeof(float) * (size_t)d * d);
  clgan_philox_normal((size_t)d * d, seed, 0, 0, 1, g);
  for (int c = 0; c < d; c++) {
    for (int i = 0; i < d; i++) q[(size_t)i * d + c] = g[(size_t)c * d + i];
    for (int p = 0; p < c; p++) {
      double dot = 0;
      for (int i = 0; i < d; i++) dot += q[(size_t)i * d + c] * q[(size_t)i * d + p];
      for (int i = 0; i < d; i++) q[(size_t)i * d + c] -= dot * q[(size_t)i * d + p];
    }
    double nrm = 0;
    for (int i = 0; i < d; i++) nrm += q[(size_t)i * d + c] * q[(size_t)i * d + c];
    for (int i = 0; i < d; i++) q[(size_t)i * d + c] /= sqrt(nrm);
  }
  free(g);
}

/* n samples x = mu + A z, z ~ N(0, I) from (seed); A is d x d row-major */
static float *gaussian(int n, int d, const double *mu, const double *a, unsigned long long seed) {
  float *z = malloc(sizeof(float) * (size_t)n * d), *x = malloc(sizeof(float) * (size_t)n * d);
  clgan_philox_normal((size_t)n * d, seed, 0, 0, 1, z);
  for (int i = 0; i < n; i++)
    for (int r = 0; r < d; r++) {
      double s = mu ? mu[r] : 0;
      for (int k = 0; k < d; k++) s += a[(size_t)r * d + k] * z[(size_t)i * d + k];
      x[(size_t)i * d + r] = (float)s;
    }
  free(z);
  return x;
}

static double trace(const double *s, int d) {
  double t = 0;
  for (int i = 0; i < d; i++) t += s[(size_t)i * d + i];
  return t;
}

static void test_moments_and_fd_vs_ref(void) {
  const int n = 600, d = 24;
  double *a1 = malloc(sizeof(double) * d * d), *a2 = malloc(sizeof(double) * d * d);
  float *u = malloc(sizeof(float) * d * d * 2);
  ref_fill_uniform(u, (size_t)d * d * 2, 11);
  for (int i = 0; i < d * d; i++) a1[i] = u[i], a2[i] = u[d * d + i] * 0.7 + (i % (d + 1) == 0);
  double mu2[24];
  for (int k = 0; k < d; k++) mu2[k] = 0.1 * k - 1;
  float *x = gaussian(n, d, NULL, a1, 21), *y = gaussian(n + 37, d, mu2, a2, 22);
  double *m1 = malloc(sizeof(double) * d), *s1 = malloc(sizeof(double) * d * d),
         *r1 = malloc(sizeof(double) * d), *rs1 = malloc(sizeof(double) * d * d),
         *m2 = malloc(sizeof(double) * d), *s2 = malloc(sizeof(double) * d * d),
         *r2 = malloc(sizeof(double) * d), *rs2 = malloc(sizeof(double) * d * d);
  CHECK_OK(clgan_feature_moments(x, n, d, m1, s1));
  CHECK_OK(clgan_feature_moments(y, n + 37, d, m2, s2));
  refe_moments(x, n, d, r1, rs1);
  refe_moments(y, n + 37, d, r2, rs2);
  double worst = 0;
  for (int i = 0; i < d; i++) worst = fmax(worst, fabs(m1[i] - r1[i]) / (1 + fabs(r1[i])));
  for (int i = 0; i < d * d; i++) worst = fmax(worst, fabs(s1[i] - rs1[i]) / (1 + fabs(rs1[i])));
  for (int i = 0; i < d * d; i++) worst = fmax(worst, fabs(s2[i] - rs2[i]) / (1 + fabs(rs2[i])));
  CHECK(worst <= 1e-12, "moments vs reference: worst relative error %.3g", worst);

  double fd = -1, fd2 = -1;
  CHECK_OK(clgan_frechet_distance(m1, s1, m2, s2, d, &fd));
  CHECK_OK(clgan_fd_features(x, n, y, n + 37, d, &fd2));
  double ref = refe_fd(r1, rs1, r2, rs2, d);
  double tol = 1e-9 * (1 + trace(rs1, d) + trace(rs2, d));
  CHECK(ref >= 0, "the Denman-Beavers reference converged");
  CHECK(fabs(fd - ref) <= tol, "FD %.15g vs reference %.15g (tol %.3g)", fd, ref, tol);
  CHECK(fabs(fd2 - fd) <= tol, "FD from features %.15g vs from moments %.15g", fd2, fd);
  printf("FD vs Denman-Beavers reference: %.12g vs %.12g (|diff| %.3g, tol %.3g)\n", fd, ref,
         fabs(fd - ref), tol);

  /* FD of a set with itself: 0 */
  double self = -1;
  CHECK_OK(clgan_fd_features(y, n + 37, y, n + 37, d, &self));
  CHECK(self >= 0 && self <= 1e-9 * (1 + trace(rs2, d)), "FD(y, y) = %.3g", self);
  /* and of a rank-deficient set (fewer rows than features): still 0, never negative */
  CHECK_OK(clgan_fd_features(y, 10, y, 10, d, &self));
  CHECK(self >= 0 && self <= 1e-8 * (1 + trace(rs2, d)), "FD(y[:10], y[:10]) = %.3g (singular)",
        self);
  free(a1), free(a2), free(u), free(x), free(y);
  free(m1), free(s1), free(r1), free(rs1), free(m2), free(s2), free(r2), free(rs2);
}

/* Two Gaussians with covariances Q D1 Q^T and Q D2 Q^T (they commute): the closed form
 * FD = |mu1 - mu2|^2 + sum (sqrt d1 - sqrt d2)^2. */
static void test_fd_closed_form(void) {
  enum { d = 8 };
  double q[d * d], s1[d * d], s2[d * d], a1[d * d], a2[d * d], mu1[d], mu2[d], d1[d], d2[d];
  orthogonal(d, 5, q);
  double want = 0;
  for (int k = 0; k < d; k++) {
    d1[k] = 0.5 + k;
    d2[k] = 2.0 + 0.25 * k * k;
    mu1[k] = 0.3 * k;
    mu2[k] = 1 - 0.2 * k;
    want += (mu1[k] - mu2[k]) * (mu1[k] - mu2[k]) + pow(sqrt(d1[k]) - sqrt(d2[k]), 2);
  }
  for (int i = 0; i < d; i++)
    for (int j = 0; j < d; j++) {
      double v1 = 0, v2 = 0;
      for (int k = 0; k < d; k++) {
        v1 += q[i * d + k] * d1[k] * q[j * d + k];
        v2 += q[i * d + k] * d2[k] * q[j * d + k];
      }
      s1[i * d + j] = v1, s2[i * d + j] = v2;
      a1[i * d + j] = q[i * d + j] * sqrt(d1[j]); /* A A^T = Q D Q^T */
      a2[i * d + j] = q[i * d + j] * sqrt(d2[j]);
    }
  double fd = -1;
  CHECK_OK(clgan_frechet_distance(mu1, s1, mu2, s2, d, &fd));
  CHECK(fabs(fd - want) <= 1e-9 * want, "closed form: FD %.15g want %.15g", fd, want);
  /* the same from samples */
  const int n = 40000;
  float *x = gaussian(n, d, mu1, a1, 31), *y = gaussian(n, d, mu2, a2, 32);
  CHECK_OK(clgan_fd_features(x, n, y, n, d, &fd));
  CHECK(fabs(fd - want) <= 0.03 * want, "sampled closed form: FD %.6g want %.6g", fd, want);
  printf("FD closed form %.6g, from %d samples each %.6g\n", want, n, fd);
  free(x), free(y);
}

static void test_mmd_kid(void) {
  const int m = 150, d = 16;
  float *x = malloc(sizeof(float) * m * d), *y = malloc(sizeof(float) * m * d);
  ref_fill_uniform(x, (size_t)m * d, 41);
  ref_fill_uniform(y, (size_t)m * d, 42);
  for (int i = 0; i < m * d; i++) y[i] = 1.5f * y[i] + 0.2f;
  double got = 0, want = refe_mmd2(x, y, m, d);
  CHECK_OK(clgan_mmd2_poly(x, y, m, d, &got));
  CHECK(fabs(got - want) <= 1e-10 * (1 + fabs(want)), "MMD^2 %.15g vs reference %.15g", got, want);
  double mean = 0, sd = -1;
  CHECK_OK(clgan_kid(x, m, y, m, d, 100000, 1, 7, &mean, &sd));
  CHECK(fabs(mean - want) <= 1e-10 * (1 + fabs(want)) && sd == 0,
        "KID with one whole-set subset %.15g (std %g) = MMD^2 %.15g", mean, sd, want);
  printf("MMD^2 vs reference: %.12g vs %.12g\n", got, want);
  free(x), free(y);

  /* unbiased: two samples of one distribution give a mean near 0 */
  const int n = 3000, dd = 32;
  double *a = calloc((size_t)dd * dd, sizeof(double)), mu[32];
  for (int i = 0; i < dd; i++) a[i * dd + i] = 1 + 0.1 * i, mu[i] = 0.5;
  float *p = gaussian(n, dd, NULL, a, 51), *q = gaussian(n, dd, NULL, a, 52);
  CHECK_OK(clgan_kid(p, n, q, n, dd, 1000, 50, 1, &mean, &sd));
  CHECK(fabs(mean) <= 3 * sd && sd > 0, "KID of one distribution %.3g +- %.3g", mean, sd);
  printf("KID, one distribution: %.3g +- %.3g\n", mean, sd);
  float *r = gaussian(n, dd, mu, a, 53);
  CHECK_OK(clgan_kid(p, n, r, n, dd, 1000, 50, 1, &mean, &sd));
  CHECK(mean >= 10 * sd, "KID of shifted distributions %.3g +- %.3g", mean, sd);
  printf("KID, mean shifted by 0.5: %.3g +- %.3g\n", mean, sd);
  /* the subsets depend on the seed only */
  double mean2 = 0, sd2 = 0;
  CHECK_OK(clgan_kid(p, n, r, n, dd, 1000, 50, 1, &mean2, &sd2));
  CHECK(mean2 == mean && sd2 == sd, "KID repeatable");
  free(a), free(p), free(q), free(r);
}

static void test_pr(void) {
  const int n = 300, d = 10;
  double *a = calloc((size_t)d * d, sizeof(double)), mu[10];
  for (int i = 0; i < d; i++) a[i * d + i] = 1, mu[i] = i < 3 ? 1.0 : 0.0;
  float *real = gaussian(n, d, NULL, a, 61), *fake = gaussian(n + 50, d, mu, a, 62);
  double p = -1, r = -1, rp = -2, rr = -2;
  CHECK_OK(clgan_precision_recall(real, n, fake, n + 50, d, CLGAN_PR_K, &p, &r));
  refe_pr(real, n, fake, n + 50, d, CLGAN_PR_K, &rp, &rr);
  CHECK(p == rp && r == rr, "P/R %.6g/%.6g vs reference %.6g/%.6g", p, r, rp, rr);
  printf("P/R of a shifted Gaussian: %.4f / %.4f (reference %.4f / %.4f)\n", p, r, rp, rr);
  /* k = 1 too, and blocks of rows that do not divide evenly */
  CHECK_OK(clgan_precision_recall(real, 131, fake, 67, d, 1, &p, &r));
  refe_pr(real, 131, fake, 67, d, 1, &rp, &rr);
  CHECK(p == rp && r == rr, "k = 1: P/R %.6g/%.6g vs reference %.6g/%.6g", p, r, rp, rr);
  /* identical sets */
  CHECK_OK(clgan_precision_recall(real, n, real, n, d, CLGAN_PR_K, &p, &r));
  CHECK(p == 1 && r == 1, "identical sets: P/R %g/%g", p, r);
  /* collapsed: every generated sample near one real sample */
  float *col = malloc(sizeof(float) * (size_t)n * d);
  float noise[3000];
  clgan_philox_normal((size_t)n * d, 63, 0, 0, 0.01f, noise);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < d; k++) col[(size_t)i * d + k] = real[17 * d + k] + noise[i * d + k];
  CHECK_OK(clgan_precision_recall(real, n, col, n, d, CLGAN_PR_K, &p, &r));
  CHECK(p >= 0.9 && r <= 0.05, "collapsed: precision %g recall %g", p, r);
  printf("P/R of a set collapsed onto one real sample: %.4f / %.4f\n", p, r);
  free(a), free(real), free(fake), free(col);
}

static void test_hist(void) {
  int32_t l[200];
  /* 10 classes, 200 samples: class 0 gets 150, classes 1..4 get 10, 5..9 get 10/5/4/1/0 */
  int counts[10] = {150, 10, 10, 10, 5, 5, 5, 4, 1, 0}, c = 0; /* 5/200 = 2.5%: covered */
  for (int k = 0; k < 10; k++)
    for (int i = 0; i < counts[k]; i++) l[c++] = k;
  CHECK(c == 200, "fixture");
  clgan_class_hist h;
  CHECK_OK(clgan_class_histogram(l, 200, 10, &h));
  CHECK(h.covered == 7, "covered %d (classes with >= 2.5%%)", h.covered);
  CHECK(h.largest == 0 && fabs(h.largest_share - 0.75) < 1e-15, "largest %d share %g", h.largest,
        h.largest_share);
  for (int k = 0; k < 10; k++) CHECK(h.counts[k] == counts[k], "count %d", k);
  clgan_class_hist_free(&h);
  l[3] = 10;
  CHECK(clgan_class_histogram(l, 200, 10, &h) == CLGAN_ERR_INVALID_ARG &&
            strstr(clgan_last_error(), "label 10 (sample 3)"),
        "bad label refused: %s", clgan_last_error());
}

static void test_errors(void) {
  float x[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  double mu[2], s[4], v = 0, w = 0;
  CHECK(clgan_feature_moments(x, 1, 2, mu, s) == CLGAN_ERR_INVALID_ARG, "one row refused");
  x[5] = NAN;
  CHECK(clgan_feature_moments(x, 4, 2, mu, s) == CLGAN_ERR_NUMERIC &&
            strstr(clgan_last_error(), "feature value 5"),
        "NaN refused: %s", clgan_last_error());
  CHECK(clgan_precision_recall(x, 3, x, 3, 2, 3, &v, &w) == CLGAN_ERR_INVALID_ARG,
        "k >= rows refused: %s", clgan_last_error());
  CHECK(clgan_kid(x, 4, x, 4, 2, 1, 1, 0, &v, &w) == CLGAN_ERR_INVALID_ARG, "subset size 1");
}

int main(void) {
  test_moments_and_fd_vs_ref();
  test_fd_closed_form();
  test_mmd_kid();
  test_pr();
  test_hist();
  test_errors();
  return tu_finish("eval_metrics");
}
