/* Float64 references for the text-to-image nodes (ref_text.h). */
#include "ref_text.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

static double weight_of(const int *text, int slots, int i, int k) {
  float f;
  memcpy(&f, &text[(size_t)i * 2 * slots + slots + k], sizeof f);
  return f;
}

void ref_embedbag_forward(int n, int num, int dim, int slots, const int *text, const double *w,
                          double *y) {
  for (int i = 0; i < n; i++)
    for (int d = 0; d < dim; d++) {
      double s = 0.0;
      for (int k = 0; k < slots; k++) {
        int id = text[(size_t)i * 2 * slots + k];
        if (id >= 0 && id < num) s += weight_of(text, slots, i, k) * w[(size_t)id * dim + d];
      }
      y[(size_t)i * dim + d] = s;
    }
}

void ref_embedbag_backward(int n, int num, int dim, int slots, const int *text, const double *dy,
                           double *dw, int acc) {
  if (!acc) memset(dw, 0, sizeof(double) * (size_t)num * dim);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < slots; k++) {
      int id = text[(size_t)i * 2 * slots + k];
      if (id < 0 || id >= num) continue;
      for (int d = 0; d < dim; d++)
        dw[(size_t)id * dim + d] += weight_of(text, slots, i, k) * dy[(size_t)i * dim + d];
    }
}

void ref_condaug_forward(int n, int dim, const double *x, const double *eps, double *y) {
  for (int i = 0; i < n; i++)
    for (int d = 0; d < dim; d++) {
      const double *xi = x + (size_t)i * 2 * dim;
      y[(size_t)i * dim + d] = xi[d] + exp(0.5 * xi[dim + d]) * eps[(size_t)i * dim + d];
    }
}

double ref_condaug_kl(int n, int dim, const double *x) {
  double s = 0.0;
  for (int i = 0; i < n; i++)
    for (int d = 0; d < dim; d++) {
      double mu = x[(size_t)i * 2 * dim + d], lv = x[(size_t)i * 2 * dim + dim + d];
      s += 1.0 + lv - mu * mu - exp(lv);
    }
  return -0.5 * s / ((double)n * dim);
}

void ref_condaug_backward(int n, int dim, const double *x, const double *eps, const double *dy,
                          double klw, double *dx, int acc) {
  double kw = klw / ((double)n * dim);
  for (int i = 0; i < n; i++)
    for (int d = 0; d < dim; d++) {
      size_t m = (size_t)i * 2 * dim + d, t = (size_t)i * dim + d;
      double mu = x[m], lv = x[m + dim], g = dy[t];
      double gm = g + kw * mu, gl = 0.5 * g * eps[t] * exp(0.5 * lv) + 0.5 * kw * (exp(lv) - 1.0);
      dx[m] = acc ? dx[m] + gm : gm;
      dx[m + dim] = acc ? dx[m + dim] + gl : gl;
    }
}
