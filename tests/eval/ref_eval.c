/* Float64 references for the metrics (see ref_eval.h): other algorithms than the
 * library's, on purpose. */
#include "ref_eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void refe_moments(const float *x, int n, int d, double *mu, double *sigma) {
  for (int k = 0; k < d; k++) {
    double s = 0;
    for (int i = 0; i < n; i++) s += x[(size_t)i * d + k];
    mu[k] = s / n;
  }
  memset(sigma, 0, sizeof(double) * (size_t)d * d);
  double *c = malloc(sizeof(double) * (size_t)d);
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < d; k++) c[k] = x[(size_t)i * d + k] - mu[k];
    for (int a = 0; a < d; a++)
      for (int b = 0; b < d; b++) sigma[(size_t)a * d + b] += c[a] * c[b] / (n - 1);
  }
  free(c);
}

/* inverse by Gauss-Jordan elimination with partial pivoting; 0 if singular */
static int inverse(const double *a, int d, double *inv) {
  double *m = malloc(sizeof(double) * (size_t)d * 2 * d);
  int w = 2 * d, ok = 1;
  for (int i = 0; i < d; i++)
    for (int j = 0; j < w; j++)
      m[(size_t)i * w + j] = j < d ? a[(size_t)i * d + j] : (j - d == i ? 1.0 : 0.0);
  for (int c = 0; c < d && ok; c++) {
    int p = c;
    for (int r = c + 1; r < d; r++)
      if (fabs(m[(size_t)r * w + c]) > fabs(m[(size_t)p * w + c])) p = r;
    if (m[(size_t)p * w + c] == 0) {
      ok = 0;
      break;
    }
    if (p != c)
      for (int j = 0; j < w; j++) {
        double t = m[(size_t)p * w + j];
        m[(size_t)p * w + j] = m[(size_t)c * w + j];
        m[(size_t)c * w + j] = t;
      }
    double piv = m[(size_t)c * w + c];
    for (int j = 0; j < w; j++) m[(size_t)c * w + j] /= piv;
    for (int r = 0; r < d; r++) {
      if (r == c) continue;
      double f = m[(size_t)r * w + c];
      if (f == 0) continue;
      for (int j = 0; j < w; j++) m[(size_t)r * w + j] -= f * m[(size_t)c * w + j];
    }
  }
  for (int i = 0; i < d && ok; i++)
    for (int j = 0; j < d; j++) inv[(size_t)i * d + j] = m[(size_t)i * w + d + j];
  free(m);
  return ok;
}

int refe_sqrtm_db(const double *a, int d, double *out) {
  size_t dd = (size_t)d * d;
  double *y = malloc(sizeof(double) * dd), *z = malloc(sizeof(double) * dd),
         *yi = malloc(sizeof(double) * dd), *zi = malloc(sizeof(double) * dd);
  memcpy(y, a, sizeof(double) * dd);
  memset(z, 0, sizeof(double) * dd);
  for (int i = 0; i < d; i++) z[(size_t)i * d + i] = 1;
  int it, done = 0;
  double prev = INFINITY;
  for (it = 1; it <= 100 && !done; it++) {
    if (!inverse(y, d, yi) || !inverse(z, d, zi)) break;
    double change = 0, norm = 0;
    for (size_t i = 0; i < dd; i++) {
      double ny = 0.5 * (y[i] + zi[i]);
      change += (ny - y[i]) * (ny - y[i]);
      norm += ny * ny;
      y[i] = ny;
      z[i] = 0.5 * (z[i] + yi[i]);
    }
    /* converged: the step is at rounding level, or has stopped shrinking near it */
    if (change <= 1e-26 * norm || (change <= 1e-18 * norm && change >= prev)) done = 1;
    prev = change;
  }
  memcpy(out, y, sizeof(double) * dd);
  free(y);
  free(z);
  free(yi);
  free(zi);
  return done ? it - 1 : -1;
}

double refe_fd(const double *mu1, const double *s1, const double *mu2, const double *s2, int d) {
  size_t dd = (size_t)d * d;
  double *p = calloc(dd, sizeof(double)), *r = malloc(sizeof(double) * dd);
  for (int i = 0; i < d; i++)
    for (int j = 0; j < d; j++) {
      double s = 0;
      for (int k = 0; k < d; k++) s += s1[(size_t)i * d + k] * s2[(size_t)k * d + j];
      p[(size_t)i * d + j] = s;
    }
  int it = refe_sqrtm_db(p, d, r);
  double fd = 0;
  for (int i = 0; i < d; i++) {
    fd += (mu1[i] - mu2[i]) * (mu1[i] - mu2[i]);
    fd += s1[(size_t)i * d + i] + s2[(size_t)i * d + i] - 2 * r[(size_t)i * d + i];
  }
  free(p);
  free(r);
  return it < 0 ? -1 : fd;
}

static double kern(const float *a, const float *b, int d) {
  double s = 0;
  for (int k = 0; k < d; k++) s += (double)a[k] * b[k];
  return pow(s / d + 1, 3);
}

double refe_mmd2(const float *x, const float *y, int m, int d) {
  double kxx = 0, kyy = 0, kxy = 0;
  for (int i = 0; i < m; i++)
    for (int j = 0; j < m; j++) {
      if (i != j) {
        kxx += kern(x + (size_t)i * d, x + (size_t)j * d, d);
        kyy += kern(y + (size_t)i * d, y + (size_t)j * d, d);
      }
      kxy += kern(x + (size_t)i * d, y + (size_t)j * d, d);
    }
  return kxx / ((double)m * (m - 1)) + kyy / ((double)m * (m - 1)) - 2 * kxy / ((double)m * m);
}

static double dist(const float *a, const float *b, int d) {
  double s = 0;
  for (int k = 0; k < d; k++) s += ((double)a[k] - b[k]) * ((double)a[k] - b[k]);
  return sqrt(s);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* radius of each row: sorted distances to all other rows, the k-th */
static double *radii(const float *x, int n, int d, int k) {
  double *r = malloc(sizeof(double) * (size_t)n), *all = malloc(sizeof(double) * (size_t)n);
  for (int i = 0; i < n; i++) {
    int c = 0;
    for (int j = 0; j < n; j++)
      if (j != i) all[c++] = dist(x + (size_t)i * d, x + (size_t)j * d, d);
    qsort(all, (size_t)c, sizeof *all, cmp_double);
    r[i] = all[k - 1];
  }
  free(all);
  return r;
}

void refe_pr(const float *real, int nr, const float *fake, int nf, int d, int k, double *prec,
             double *rec) {
  double *rr = radii(real, nr, d, k), *rf = radii(fake, nf, d, k);
  int p = 0, q = 0;
  for (int i = 0; i < nf; i++)
    for (int j = 0; j < nr; j++)
      if (dist(fake + (size_t)i * d, real + (size_t)j * d, d) <= rr[j]) {
        p++;
        break;
      }
  for (int j = 0; j < nr; j++)
    for (int i = 0; i < nf; i++)
      if (dist(real + (size_t)j * d, fake + (size_t)i * d, d) <= rf[i]) {
        q++;
        break;
      }
  *prec = (double)p / nf;
  *rec = (double)q / nr;
  free(rr);
  free(rf);
}
