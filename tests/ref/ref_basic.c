/* Reference GEMM and the comparison/test-data helpers. Used by tests/ and clgan doctor. */
#include <math.h>
#include <stdint.h>

#include "ref.h"

void ref_gemm(int ta, int tb, size_t m, size_t n, size_t k, float alpha, const float *a,
              size_t lda, const float *b, size_t ldb, float beta, float *c, size_t ldc) {
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double acc = 0.0;
      for (size_t p = 0; p < k; p++) {
        double av = ta ? a[p * lda + i] : a[i * lda + p];
        double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
        acc += av * bv;
      }
      double prev = beta == 0.0f ? 0.0 : (double)beta * c[i * ldc + j];
      c[i * ldc + j] = (float)(alpha * acc + prev);
    }
}

double ref_max_err(const float *got, const float *want, size_t n, double abs_tol,
                   double rel_tol, size_t *worst) {
  double m = 0.0;
  size_t wi = 0;
  for (size_t i = 0; i < n; i++) {
    double g = got[i], w = want[i];
    double e = fabs(g - w) / (abs_tol + rel_tol * fabs(w));
    if (!(e <= m)) { /* NaN counts as the worst */
      m = isnan(e) ? INFINITY : e;
      wi = i;
    }
  }
  if (worst) *worst = wi;
  return m;
}

void ref_fill_uniform(float *x, size_t n, unsigned long long seed) {
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; i++) {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    x[i] = (float)((double)(z >> 40) / (double)(1ull << 24) * 2.0 - 1.0);
  }
}
