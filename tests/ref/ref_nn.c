/* Float64 references for batch norm, activations, losses, optimisers, Philox and reductions.
 * Checked by tests/ops_nn/test_ref_nn.c; the device ops are compared with them in tests/ops_nn/. */
#include <math.h>
#include <stdlib.h>

#include "ref.h"

/* ---- batch norm ---- */

static size_t bn_at(int c, int hw, int ni, int ci, int si) {
  return ((size_t)ni * c + ci) * hw + si;
}

/* Batch mean and biased variance of channel ci, two-pass so a large mean does not cancel. */
static void bn_stats_f(int n, int c, int hw, const float *x, int ci, double *mean, double *var) {
  double m = (double)n * hw, s = 0.0, q = 0.0;
  for (int ni = 0; ni < n; ni++)
    for (int si = 0; si < hw; si++) s += x[bn_at(c, hw, ni, ci, si)];
  s /= m;
  for (int ni = 0; ni < n; ni++)
    for (int si = 0; si < hw; si++) {
      double d = x[bn_at(c, hw, ni, ci, si)] - s;
      q += d * d;
    }
  *mean = s;
  *var = q / m;
}

void ref_batchnorm_forward_train(int n, int c, int hw, const float *x, const float *gamma,
                                 const float *beta, float *y, float *save_mean,
                                 float *save_invstd, float *running_mean, float *running_var,
                                 float momentum, float eps) {
  double m = (double)n * hw;
  for (int ci = 0; ci < c; ci++) {
    double mean, var;
    bn_stats_f(n, c, hw, x, ci, &mean, &var);
    double invstd = 1.0 / sqrt(var + eps);
    double g = gamma ? gamma[ci] : 1.0, b = beta ? beta[ci] : 0.0;
    for (int ni = 0; ni < n; ni++)
      for (int si = 0; si < hw; si++) {
        size_t i = bn_at(c, hw, ni, ci, si);
        y[i] = (float)((x[i] - mean) * invstd * g + b);
      }
    if (save_mean) save_mean[ci] = (float)mean;
    if (save_invstd) save_invstd[ci] = (float)invstd;
    if (running_mean)
      running_mean[ci] = (float)((1.0 - momentum) * running_mean[ci] + (double)momentum * mean);
    if (running_var)
      running_var[ci] = (float)((1.0 - momentum) * running_var[ci] +
                                (double)momentum * var * m / (m - 1.0));
  }
}

void ref_batchnorm_forward_eval(int n, int c, int hw, const float *x, const float *gamma,
                                const float *beta, const float *running_mean,
                                const float *running_var, float eps, float *y) {
  for (int ci = 0; ci < c; ci++) {
    double invstd = 1.0 / sqrt((double)running_var[ci] + eps);
    double g = gamma ? gamma[ci] : 1.0, b = beta ? beta[ci] : 0.0;
    for (int ni = 0; ni < n; ni++)
      for (int si = 0; si < hw; si++) {
        size_t i = bn_at(c, hw, ni, ci, si);
        y[i] = (float)(((double)x[i] - running_mean[ci]) * invstd * g + b);
      }
  }
}

void ref_batchnorm_backward(int n, int c, int hw, const float *x, const float *dy,
                            const float *gamma, const float *save_mean,
                            const float *save_invstd, float *dx, float *dgamma, float *dbeta,
                            int accumulate) {
  double m = (double)n * hw;
  for (int ci = 0; ci < c; ci++) {
    double mean = save_mean[ci], invstd = save_invstd[ci];
    double g = gamma ? gamma[ci] : 1.0, sdy = 0.0, sdyx = 0.0;
    for (int ni = 0; ni < n; ni++)
      for (int si = 0; si < hw; si++) {
        size_t i = bn_at(c, hw, ni, ci, si);
        sdy += dy[i];
        sdyx += dy[i] * (x[i] - mean) * invstd;
      }
    for (int ni = 0; ni < n; ni++)
      for (int si = 0; si < hw; si++) {
        size_t i = bn_at(c, hw, ni, ci, si);
        double xhat = (x[i] - mean) * invstd;
        dx[i] = (float)(g * invstd / m * (m * dy[i] - sdy - xhat * sdyx));
      }
    if (dgamma) dgamma[ci] = (float)((accumulate ? dgamma[ci] : 0.0) + sdyx);
    if (dbeta) dbeta[ci] = (float)((accumulate ? dbeta[ci] : 0.0) + sdy);
  }
}

void ref_batchnorm_train_f64(int n, int c, int hw, const double *x, const double *gamma,
                             const double *beta, double eps, double *y) {
  double m = (double)n * hw;
  for (int ci = 0; ci < c; ci++) {
    double s = 0.0, q = 0.0;
    for (int ni = 0; ni < n; ni++)
      for (int si = 0; si < hw; si++) s += x[bn_at(c, hw, ni, ci, si)];
    double mean = s / m;
    for (int ni = 0; ni < n; ni++)
      for (int si = 0; si < hw; si++) {
        double d = x[bn_at(c, hw, ni, ci, si)] - mean;
        q += d * d;
      }
    double invstd = 1.0 / sqrt(q / m + eps);
    for (int ni = 0; ni < n; ni++)
      for (int si = 0; si < hw; si++) {
        size_t i = bn_at(c, hw, ni, ci, si);
        y[i] = (x[i] - mean) * invstd * gamma[ci] + beta[ci];
      }
  }
}

void ref_batchnorm_backward_f64(int n, int c, int hw, const double *x, const double *dy,
                                const double *gamma, double eps, double *dx, double *dgamma,
                                double *dbeta) {
  double m = (double)n * hw;
  for (int ci = 0; ci < c; ci++) {
    double s = 0.0, q = 0.0, sdy = 0.0, sdyx = 0.0;
    for (int ni = 0; ni < n; ni++)
      for (int si = 0; si < hw; si++) s += x[bn_at(c, hw, ni, ci, si)];
    double mean = s / m;
    for (int ni = 0; ni < n; ni++)
      for (int si = 0; si < hw; si++) {
        double d = x[bn_at(c, hw, ni, ci, si)] - mean;
        q += d * d;
      }
    double invstd = 1.0 / sqrt(q / m + eps);
    for (int ni = 0; ni < n; ni++)
      for (int si = 0; si < hw; si++) {
        size_t i = bn_at(c, hw, ni, ci, si);
        sdy += dy[i];
        sdyx += dy[i] * (x[i] - mean) * invstd;
      }
    for (int ni = 0; ni < n; ni++)
      for (int si = 0; si < hw; si++) {
        size_t i = bn_at(c, hw, ni, ci, si);
        double xhat = (x[i] - mean) * invstd;
        dx[i] = gamma[ci] * invstd / m * (m * dy[i] - sdy - xhat * sdyx);
      }
    dgamma[ci] = sdyx;
    dbeta[ci] = sdy;
  }
}

/* ---- activations ---- */

static double sigmoid_f64(double x) {
  if (x >= 0.0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}

double ref_act_f64(int kind, double slope, double x) {
  switch (kind) {
  case REF_ACT_RELU: return x > 0.0 ? x : 0.0;
  case REF_ACT_LEAKY_RELU: return x > 0.0 ? x : slope * x;
  case REF_ACT_TANH: return tanh(x);
  case REF_ACT_SIGMOID: return sigmoid_f64(x);
  default: return x;
  }
}

double ref_act_grad_f64(int kind, double slope, double x) {
  switch (kind) {
  case REF_ACT_RELU: return x > 0.0 ? 1.0 : 0.0;
  case REF_ACT_LEAKY_RELU: return x > 0.0 ? 1.0 : slope;
  case REF_ACT_TANH: {
    double c = cosh(x);
    return 1.0 / (c * c);
  }
  case REF_ACT_SIGMOID: {
    /* e^-|x| / (1 + e^-|x|)^2 is symmetric and never overflows */
    double e = exp(-fabs(x));
    return e / ((1.0 + e) * (1.0 + e));
  }
  default: return 1.0;
  }
}

void ref_activation_forward(int kind, float slope, size_t n, const float *x, float *y) {
  for (size_t i = 0; i < n; i++) y[i] = (float)ref_act_f64(kind, slope, x[i]);
}

void ref_activation_backward(int kind, float slope, size_t n, const float *x, const float *dy,
                             float *dx) {
  for (size_t i = 0; i < n; i++) dx[i] = (float)(dy[i] * ref_act_grad_f64(kind, slope, x[i]));
}

/* ---- losses ---- */

/* log(1 + e^x) without overflow or cancellation */
static double softplus_f64(double x) { return fmax(x, 0.0) + log1p(exp(-fabs(x))); }

double ref_loss_f64(int kind, double t, double x) {
  switch (kind) {
  case REF_LOSS_BCE: return fmax(x, 0.0) - x * t + log1p(exp(-fabs(x)));
  case REF_LOSS_MINIMAX_G: return -softplus_f64(x);
  case REF_LOSS_SQUARED: return 0.5 * (x - t) * (x - t);
  case REF_LOSS_HINGE: return fmax(1.0 - t * x, 0.0);
  case REF_LOSS_LINEAR: return -t * x;
  default: return NAN;
  }
}

double ref_loss_grad_f64(int kind, double t, double x) {
  switch (kind) {
  case REF_LOSS_BCE: return sigmoid_f64(x) - t;
  case REF_LOSS_MINIMAX_G: return -sigmoid_f64(x);
  case REF_LOSS_SQUARED: return x - t;
  case REF_LOSS_HINGE: return 1.0 - t * x > 0.0 ? -t : 0.0;
  case REF_LOSS_LINEAR: return -t;
  default: return NAN;
  }
}

void ref_loss_forward_backward(int kind, float target, int n, const float *logits, float scale,
                               float *out2, float *dlogits) {
  double l = 0.0, p = 0.0;
  for (int i = 0; i < n; i++) {
    l += ref_loss_f64(kind, target, logits[i]);
    p += sigmoid_f64(logits[i]);
    if (dlogits) dlogits[i] = (float)((double)scale * ref_loss_grad_f64(kind, target, logits[i]) / n);
  }
  out2[0] = (float)(l / n);
  out2[1] = (float)(p / n);
}

/* ---- softmax cross-entropy ---- */

static double softmax_row_f64(int k, const double *r, int y, double *p /* k or NULL */) {
  double m = r[0];
  for (int j = 1; j < k; j++)
    if (r[j] > m) m = r[j];
  double s = 0.0;
  for (int j = 0; j < k; j++) s += exp(r[j] - m);
  if (p)
    for (int j = 0; j < k; j++) p[j] = exp(r[j] - m) / s;
  return y >= 0 && y < k ? log(s) - (r[y] - m) : NAN;
}

double ref_softmax_xent_loss_f64(int n, int k, const double *logits, const int32_t *labels) {
  double l = 0.0;
  for (int i = 0; i < n; i++) l += softmax_row_f64(k, logits + (size_t)i * k, labels[i], NULL);
  return l / n;
}

void ref_softmax_xent(int n, int k, const float *logits, const int32_t *labels, float scale,
                      float *out2, float *dlogits) {
  double *r = malloc(sizeof(double) * 2 * (size_t)k), *p = r + k;
  double l = 0.0, c = 0.0;
  for (int i = 0; i < n; i++) {
    const float *x = logits + (size_t)i * k;
    int arg = 0;
    for (int j = 0; j < k; j++) {
      r[j] = x[j];
      if (x[j] > x[arg]) arg = j;
    }
    l += softmax_row_f64(k, r, labels[i], p);
    c += arg == labels[i];
    if (dlogits)
      for (int j = 0; j < k; j++)
        dlogits[(size_t)i * k + j] = (float)((double)scale * (p[j] - (j == labels[i])) / n);
  }
  free(r);
  out2[0] = (float)(l / n);
  out2[1] = (float)(c / n);
}

/* ---- optimisers ---- */

void ref_adam_step(size_t n, float *param, const float *grad, float *m, float *v, float lr,
                   float beta1, float beta2, float eps, float weight_decay, int decoupled,
                   long step) {
  double bc1 = 1.0 - pow(beta1, (double)step), bc2 = 1.0 - pow(beta2, (double)step);
  for (size_t i = 0; i < n; i++) {
    double p = param[i], g = grad[i];
    if (decoupled) p *= 1.0 - (double)lr * weight_decay;
    else g += (double)weight_decay * p;
    double mi = beta1 * (double)m[i] + (1.0 - beta1) * g;
    double vi = beta2 * (double)v[i] + (1.0 - beta2) * g * g;
    p -= lr / bc1 * mi / (sqrt(vi) / sqrt(bc2) + eps);
    m[i] = (float)mi;
    v[i] = (float)vi;
    param[i] = (float)p;
  }
}

void ref_sgd_step(size_t n, float *param, const float *grad, float *buf, float lr,
                  float momentum, float weight_decay, long step) {
  for (size_t i = 0; i < n; i++) {
    double g = grad[i] + (double)weight_decay * param[i];
    if (momentum != 0.0f) {
      g = step <= 1 ? g : momentum * (double)buf[i] + g;
      buf[i] = (float)g;
    }
    param[i] = (float)(param[i] - lr * g);
  }
}

/* ---- Philox4x32-10 (Salmon et al., SC'11; Random123's philox.h) ---- */

void ref_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3], k0 = key[0], k1 = key[1];
  for (int r = 0; r < 10; r++) {
    if (r > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n1 = (uint32_t)p1;
    uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1, n3 = (uint32_t)p0;
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

static void philox_block(unsigned long long seed, unsigned long long block, uint32_t out[4]) {
  uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), 0, 0};
  uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  ref_philox4x32_10(ctr, key, out);
}

uint32_t ref_philox_word(unsigned long long seed, unsigned long long j) {
  uint32_t w[4];
  philox_block(seed, j >> 2, w);
  return w[j & 3];
}

double ref_philox_normal_f64(unsigned long long seed, unsigned long long j) {
  uint32_t w[4];
  philox_block(seed, j >> 2, w);
  int p = (int)(j & 3) >> 1;
  /* u in (0, 1) from 33 bits; the angle from the top 27 bits of the second word */
  double u = ((double)w[2 * p] * 2.0 + 1.0) / 8589934592.0;
  double theta = 2.0 * 3.14159265358979323846 * (double)(w[2 * p + 1] >> 5) / 134217728.0;
  double r = sqrt(-2.0 * log(u));
  return (j & 1) ? r * sin(theta) : r * cos(theta);
}

/* ---- reductions ---- */

double ref_sum(size_t n, const float *x) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return s;
}

double ref_sumsq(size_t n, const float *x) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
  return s;
}

double ref_pairwise_distance_mean(int n, int d, const float *x) {
  if (n < 2) return 0.0;
  double total = 0.0;
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++) {
      double q = 0.0;
      for (int k = 0; k < d; k++) {
        double t = (double)x[(size_t)i * d + k] - x[(size_t)j * d + k];
        q += t * t;
      }
      total += sqrt(q);
    }
  return total / ((double)n * (n - 1) / 2.0);
}

void ref_content_loss(int kind, size_t n, const float *a, const float *b, double scale,
                      double *loss, double *grad) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)a[i] - (double)b[i];
    s += kind == REF_CONTENT_L1 ? fabs(d) : d * d;
    double g = kind == REF_CONTENT_L1 ? (d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0) : 2.0 * d;
    grad[i] = scale * g / (double)n;
  }
  *loss = s / (double)n;
}
