/* Float64 references for the graph-model nodes; see ref_graph.h. Written as plainly as
 * possible (loops over the PyTorch definitions, scatters where the kernels gather), so they
 * do not share a mistake with kernels/graph.cl. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref.h"
#include "ref_graph.h"

#define SET(dst, v, acc) ((dst) = (acc) ? (dst) + (v) : (v))

void ref_channel_copy(int n, int c, int hw, const double *x, int x_ctot, int x_coff, double *y,
                      int y_ctot, int y_coff, int acc) {
  for (int ni = 0; ni < n; ni++)
    for (int ci = 0; ci < c; ci++)
      for (int s = 0; s < hw; s++)
        SET(y[((size_t)ni * y_ctot + y_coff + ci) * hw + s],
            x[((size_t)ni * x_ctot + x_coff + ci) * hw + s], acc);
}

void ref_add(size_t n, const double *a, const double *b, double *y) {
  for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

void ref_mul_forward(int n, int c, int hw, const double *a, const double *b, int b_vec,
                     double *y) {
  for (size_t p = 0; p < (size_t)n * c; p++)
    for (int s = 0; s < hw; s++) {
      size_t i = p * hw + s;
      y[i] = a[i] * (b_vec ? b[p] : b[i]);
    }
}

void ref_mul_backward(int n, int c, int hw, const double *a, const double *b, int b_vec,
                      const double *dy, double *da, double *db, int acc) {
  for (size_t p = 0; p < (size_t)n * c; p++) {
    double sum = 0.0;
    for (int s = 0; s < hw; s++) {
      size_t i = p * hw + s;
      if (da) SET(da[i], dy[i] * (b_vec ? b[p] : b[i]), acc);
      if (db && !b_vec) SET(db[i], dy[i] * a[i], acc);
      sum += dy[i] * a[i];
    }
    if (db && b_vec) SET(db[p], sum, acc);
  }
}

void ref_embed_forward(int n, int num, int dim, const int *labels, const double *w, double *y) {
  for (int i = 0; i < n; i++)
    for (int d = 0; d < dim; d++)
      y[(size_t)i * dim + d] =
          labels[i] >= 0 && labels[i] < num ? w[(size_t)labels[i] * dim + d] : 0.0;
}

void ref_embed_backward(int n, int num, int dim, const int *labels, const double *dy,
                        double *dw, int acc) {
  if (!acc)
    for (size_t j = 0; j < (size_t)num * dim; j++) dw[j] = 0.0;
  for (int i = 0; i < n; i++)
    if (labels[i] >= 0 && labels[i] < num)
      for (int d = 0; d < dim; d++) dw[(size_t)labels[i] * dim + d] += dy[(size_t)i * dim + d];
}

/* nn.Upsample(scale_factor=k, mode='nearest'): source index floor(o / k) */
void ref_upsample_forward(int n, int c, int h, int w, int k, const double *x, double *y) {
  int ho = h * k, wo = w * k;
  for (size_t p = 0; p < (size_t)n * c; p++)
    for (int oy = 0; oy < ho; oy++)
      for (int ox = 0; ox < wo; ox++)
        y[(p * ho + oy) * wo + ox] = x[(p * h + oy / k) * w + ox / k];
}

void ref_upsample_backward(int n, int c, int h, int w, int k, const double *dy, double *dx,
                           int acc) {
  int ho = h * k, wo = w * k;
  if (!acc)
    for (size_t i = 0; i < (size_t)n * c * h * w; i++) dx[i] = 0.0;
  for (size_t p = 0; p < (size_t)n * c; p++)
    for (int oy = 0; oy < ho; oy++)
      for (int ox = 0; ox < wo; ox++)
        dx[(p * h + oy / k) * w + ox / k] += dy[(p * ho + oy) * wo + ox];
}

void ref_avgpool_forward(int n, int c, int h, int w, int k, const double *x, double *y) {
  int ho = h / k, wo = w / k;
  for (size_t p = 0; p < (size_t)n * c; p++)
    for (int oy = 0; oy < ho; oy++)
      for (int ox = 0; ox < wo; ox++) {
        double s = 0.0;
        for (int a = 0; a < k; a++)
          for (int b = 0; b < k; b++) s += x[(p * h + oy * k + a) * w + ox * k + b];
        y[(p * ho + oy) * wo + ox] = s / ((double)k * k);
      }
}

void ref_avgpool_backward(int n, int c, int h, int w, int k, const double *dy, double *dx,
                          int acc) {
  int ho = h / k, wo = w / k;
  for (size_t p = 0; p < (size_t)n * c; p++)
    for (int iy = 0; iy < h; iy++)
      for (int ix = 0; ix < w; ix++)
        SET(dx[(p * h + iy) * w + ix], dy[(p * ho + iy / k) * wo + ix / k] / ((double)k * k),
            acc);
}

void ref_sumpool_forward(int n, int c, int hw, const double *x, double *y) {
  for (size_t p = 0; p < (size_t)n * c; p++) {
    double s = 0.0;
    for (int i = 0; i < hw; i++) s += x[p * hw + i];
    y[p] = s;
  }
}

void ref_sumpool_backward(int n, int c, int hw, const double *dy, double *dx, int acc) {
  for (size_t p = 0; p < (size_t)n * c; p++)
    for (int i = 0; i < hw; i++) SET(dx[p * hw + i], dy[p], acc);
}

/* nn.PixelShuffle(r): x channel ci*r*r + i*r + j at (y, x) goes to y channel ci at
 * (y*r + i, x*r + j); a scatter over x. */
void ref_pixelshuffle_forward(int n, int c, int h, int w, int r, const double *x, double *y) {
  int cin = c * r * r, ho = h * r, wo = w * r;
  for (int ni = 0; ni < n; ni++)
    for (int ci = 0; ci < c; ci++)
      for (int i = 0; i < r; i++)
        for (int j = 0; j < r; j++)
          for (int iy = 0; iy < h; iy++)
            for (int ix = 0; ix < w; ix++)
              y[(((size_t)ni * c + ci) * ho + iy * r + i) * wo + ix * r + j] =
                  x[(((size_t)ni * cin + ci * r * r + i * r + j) * h + iy) * w + ix];
}

void ref_pixelshuffle_backward(int n, int c, int h, int w, int r, const double *dy, double *dx,
                               int acc) {
  int cin = c * r * r, ho = h * r, wo = w * r;
  for (int ni = 0; ni < n; ni++)
    for (int ci = 0; ci < c; ci++)
      for (int i = 0; i < r; i++)
        for (int j = 0; j < r; j++)
          for (int iy = 0; iy < h; iy++)
            for (int ix = 0; ix < w; ix++)
              SET(dx[(((size_t)ni * cin + ci * r * r + i * r + j) * h + iy) * w + ix],
                  dy[(((size_t)ni * c + ci) * ho + iy * r + i) * wo + ix * r + j], acc);
}

void ref_instancenorm_forward(int n, int c, int hw, const double *x, const double *gamma,
                              const double *beta, double eps, double *y, double *save_mean,
                              double *save_invstd) {
  for (size_t p = 0; p < (size_t)n * c; p++) {
    const double *xp = x + p * hw;
    double mean = 0.0, var = 0.0;
    for (int i = 0; i < hw; i++) mean += xp[i];
    mean /= hw;
    for (int i = 0; i < hw; i++) var += (xp[i] - mean) * (xp[i] - mean);
    var /= hw; /* biased, as PyTorch normalises */
    double invstd = 1.0 / sqrt(var + eps);
    int ci = (int)(p % (size_t)c);
    double g = gamma ? gamma[ci] : 1.0, b = beta ? beta[ci] : 0.0;
    for (int i = 0; i < hw; i++) y[p * hw + i] = (xp[i] - mean) * invstd * g + b;
    if (save_mean) save_mean[p] = mean;
    if (save_invstd) save_invstd[p] = invstd;
  }
}

void ref_instancenorm_backward(int n, int c, int hw, const double *x, const double *dy,
                               const double *gamma, const double *save_mean,
                               const double *save_invstd, double *dx, double *dgamma,
                               double *dbeta, int acc) {
  if (dgamma && !acc)
    for (int ci = 0; ci < c; ci++) dgamma[ci] = dbeta[ci] = 0.0;
  for (size_t p = 0; p < (size_t)n * c; p++) {
    int ci = (int)(p % (size_t)c);
    double mean = save_mean[p], invstd = save_invstd[p], g = gamma ? gamma[ci] : 1.0;
    double sdy = 0.0, sdyxhat = 0.0;
    for (int i = 0; i < hw; i++) {
      sdy += dy[p * hw + i];
      sdyxhat += dy[p * hw + i] * (x[p * hw + i] - mean) * invstd;
    }
    for (int i = 0; i < hw; i++) {
      double xhat = (x[p * hw + i] - mean) * invstd;
      dx[p * hw + i] = g * invstd / hw * (hw * dy[p * hw + i] - sdy - xhat * sdyxhat);
    }
    if (dgamma) {
      dgamma[ci] += sdyxhat;
      dbeta[ci] += sdy;
    }
  }
}

void ref_dropout_mask(size_t n, double p, unsigned long long seed, unsigned long long counter,
                      unsigned char *keep) {
  for (size_t i = 0; i < n; i++) {
    double u = (double)(ref_philox_word(seed, counter + i) >> 8) / 16777216.0;
    keep[i] = !(u < p);
  }
}

void ref_dropout(size_t n, double p, unsigned long long seed, unsigned long long counter,
                 const double *x, double *y, int acc) {
  unsigned char *keep = malloc(n ? n : 1);
  if (!keep) abort();
  ref_dropout_mask(n, p, seed, counter, keep);
  for (size_t i = 0; i < n; i++) SET(y[i], keep[i] ? x[i] / (1.0 - p) : 0.0, acc);
  free(keep);
}

/* a_count 1: one slope for all; a_count c: one per channel */
static double prelu_a(const double *a, int a_count, size_t i, int c, int hw) {
  return a_count == 1 ? a[0] : a[(i / (size_t)hw) % (size_t)c];
}

void ref_prelu_forward(int n, int c, int hw, const double *x, const double *a, int a_count,
                       double *y) {
  for (size_t i = 0; i < (size_t)n * c * hw; i++)
    y[i] = x[i] > 0.0 ? x[i] : prelu_a(a, a_count, i, c, hw) * x[i];
}

/* PyTorch's prelu backward: x > 0 ? dy : a * dy for dx, x > 0 ? 0 : x * dy for da, so at
 * x == 0 dx takes the slope side (a * dy) and da gets 0. */
void ref_prelu_backward(int n, int c, int hw, const double *x, const double *a, int a_count,
                        const double *dy, double *dx, double *da, int acc) {
  if (da && !acc)
    for (int j = 0; j < a_count; j++) da[j] = 0.0;
  for (size_t i = 0; i < (size_t)n * c * hw; i++) {
    double av = prelu_a(a, a_count, i, c, hw);
    if (dx) SET(dx[i], x[i] > 0.0 ? dy[i] : av * dy[i], acc);
    if (da && !(x[i] > 0.0)) da[a_count == 1 ? 0 : (i / (size_t)hw) % (size_t)c] += x[i] * dy[i];
  }
}

/* mirror without repeating the edge: ... x2 x1 | x0 x1 x2 ... x(n-1) | x(n-2) ... */
static int mirror(int i, int n) {
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

void ref_reflect_pad_forward(int planes, int h, int w, int p, const double *x, double *y) {
  int hp = h + 2 * p, wp = w + 2 * p;
  for (int q = 0; q < planes; q++)
    for (int a = 0; a < hp; a++)
      for (int b = 0; b < wp; b++)
        y[((size_t)q * hp + a) * wp + b] = x[((size_t)q * h + mirror(a - p, h)) * w + mirror(b - p, w)];
}

void ref_reflect_pad_backward(int planes, int h, int w, int p, const double *dy, double *dx,
                              int acc) {
  int hp = h + 2 * p, wp = w + 2 * p;
  if (!acc) memset(dx, 0, sizeof *dx * (size_t)planes * h * w);
  for (int q = 0; q < planes; q++)
    for (int a = 0; a < hp; a++)
      for (int b = 0; b < wp; b++)
        dx[((size_t)q * h + mirror(a - p, h)) * w + mirror(b - p, w)] += dy[((size_t)q * hp + a) * wp + b];
}

/* ProGAN's pixel norm over the channels of each pixel (issue 15) */
void ref_pixelnorm_forward(int n, int c, int hw, double eps, const double *x, double *y) {
  for (int i = 0; i < n; i++)
    for (int p = 0; p < hw; p++) {
      const double *xi = x + (size_t)i * c * hw + p;
      double ss = 0.0;
      for (int k = 0; k < c; k++) ss += xi[(size_t)k * hw] * xi[(size_t)k * hw];
      double r = 1.0 / sqrt(ss / c + eps);
      for (int k = 0; k < c; k++) y[(size_t)i * c * hw + p + (size_t)k * hw] = xi[(size_t)k * hw] * r;
    }
}

void ref_pixelnorm_backward(int n, int c, int hw, double eps, const double *x, const double *dy,
                            double *dx, int acc) {
  for (int i = 0; i < n; i++)
    for (int p = 0; p < hw; p++) {
      size_t b = (size_t)i * c * hw + p;
      double ss = 0.0, dot = 0.0;
      for (int k = 0; k < c; k++) {
        ss += x[b + (size_t)k * hw] * x[b + (size_t)k * hw];
        dot += x[b + (size_t)k * hw] * dy[b + (size_t)k * hw];
      }
      double r = 1.0 / sqrt(ss / c + eps);
      for (int k = 0; k < c; k++) {
        size_t j = b + (size_t)k * hw;
        double g = r * dy[j] - x[j] * r * r * r * dot / c;
        dx[j] = acc ? dx[j] + g : g;
      }
    }
}

/* ProGAN's minibatch stddev, groups of g consecutive samples (issue 15) */
void ref_mbstd_forward(int n, int g, int c, int hw, double eps, const double *x, double *y) {
  size_t chw = (size_t)c * hw;
  for (int j = 0; j < n / g; j++) {
    double s = 0.0;
    for (size_t p = 0; p < chw; p++) {
      double m = 0.0, v = 0.0;
      for (int k = 0; k < g; k++) m += x[(size_t)(j * g + k) * chw + p];
      m /= g;
      for (int k = 0; k < g; k++) {
        double d = x[(size_t)(j * g + k) * chw + p] - m;
        v += d * d;
      }
      s += sqrt(v / g + eps);
    }
    s /= (double)chw;
    for (int k = 0; k < g; k++) {
      size_t sm = (size_t)(j * g + k);
      for (size_t p = 0; p < chw; p++) y[sm * (chw + hw) + p] = x[sm * chw + p];
      for (int q = 0; q < hw; q++) y[sm * (chw + hw) + chw + q] = s;
    }
  }
}

void ref_mbstd_backward(int n, int g, int c, int hw, double eps, const double *x,
                        const double *dy, double *dx, int acc) {
  size_t chw = (size_t)c * hw;
  for (int j = 0; j < n / g; j++) {
    double ds = 0.0;
    for (int k = 0; k < g; k++)
      for (int q = 0; q < hw; q++) ds += dy[(size_t)(j * g + k) * (chw + hw) + chw + q];
    for (size_t p = 0; p < chw; p++) {
      double m = 0.0, v = 0.0;
      for (int k = 0; k < g; k++) m += x[(size_t)(j * g + k) * chw + p];
      m /= g;
      for (int k = 0; k < g; k++) {
        double d = x[(size_t)(j * g + k) * chw + p] - m;
        v += d * d;
      }
      double sd = sqrt(v / g + eps);
      for (int k = 0; k < g; k++) {
        size_t sm = (size_t)(j * g + k), i = sm * chw + p;
        double gv = dy[sm * (chw + hw) + p] + ds / (double)chw * (x[i] - m) / (g * sd);
        dx[i] = acc ? dx[i] + gv : gv;
      }
    }
  }
}

/* mbstd's JVP along t (the std channel's derivative; the first c channels are t) and the
 * Hessian-vector term r = grad_x <dy, J(x) t>, t and dy held (gradient penalties) */
void ref_mbstd_jvp(int n, int g, int c, int hw, double eps, const double *x, const double *t,
                   double *y) {
  size_t chw = (size_t)c * hw;
  for (int j = 0; j < n / g; j++) {
    double s = 0.0;
    for (size_t p = 0; p < chw; p++) {
      double m = 0.0, v = 0.0, a = 0.0;
      for (int k = 0; k < g; k++) m += x[(size_t)(j * g + k) * chw + p];
      m /= g;
      for (int k = 0; k < g; k++) {
        double d = x[(size_t)(j * g + k) * chw + p] - m;
        v += d * d;
        a += d * t[(size_t)(j * g + k) * chw + p];
      }
      s += a / (g * sqrt(v / g + eps));
    }
    s /= (double)chw;
    for (int k = 0; k < g; k++) {
      size_t sm = (size_t)(j * g + k);
      for (size_t p = 0; p < chw; p++) y[sm * (chw + hw) + p] = t[sm * chw + p];
      for (int q = 0; q < hw; q++) y[sm * (chw + hw) + chw + q] = s;
    }
  }
}

void ref_mbstd_hvp(int n, int g, int c, int hw, double eps, const double *x, const double *t,
                   const double *dy, double *r, int acc) {
  size_t chw = (size_t)c * hw;
  for (int j = 0; j < n / g; j++) {
    double ds = 0.0;
    for (int k = 0; k < g; k++)
      for (int q = 0; q < hw; q++) ds += dy[(size_t)(j * g + k) * (chw + hw) + chw + q];
    for (size_t p = 0; p < chw; p++) {
      double m = 0.0, tm = 0.0, v = 0.0, a = 0.0;
      for (int k = 0; k < g; k++) {
        m += x[(size_t)(j * g + k) * chw + p];
        tm += t[(size_t)(j * g + k) * chw + p];
      }
      m /= g, tm /= g;
      for (int k = 0; k < g; k++) {
        double d = x[(size_t)(j * g + k) * chw + p] - m;
        v += d * d;
        a += d * t[(size_t)(j * g + k) * chw + p];
      }
      v /= g, a /= g;
      double sd = sqrt(v + eps);
      for (int k = 0; k < g; k++) {
        size_t i = (size_t)(j * g + k) * chw + p;
        double gv = ds / (double)chw * ((t[i] - tm) / (g * sd) - a * (x[i] - m) / (g * sd * sd * sd));
        r[i] = acc ? r[i] + gv : gv;
      }
    }
  }
}

/* ProGAN's fade-in: y = (1 - alpha) a + alpha b */
void ref_fade_forward(size_t n, double alpha, const double *a, const double *b, double *y) {
  for (size_t i = 0; i < n; i++) y[i] = (1.0 - alpha) * a[i] + alpha * b[i];
}

void ref_fade_backward(size_t n, double alpha, const double *dy, double *da, double *db, int acc) {
  for (size_t i = 0; i < n; i++) {
    da[i] = (acc ? da[i] : 0.0) + (1.0 - alpha) * dy[i];
    db[i] = (acc ? db[i] : 0.0) + alpha * dy[i];
  }
}
