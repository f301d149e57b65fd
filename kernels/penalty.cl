/* Gradient penalties (WGAN-GP, R1) and the WGAN loss's drift term. Launchers:
 * src/ops/ops_penalty.c. Tests: tests/train/test_penalty.c (float64 host reference and
 * finite differences), tests/train/test_fixture_penalty.c (PyTorch). Every sum runs in a
 * fixed order in one work-item: the same bits on every call. */

/* One work-item per sample i of g (n, d): ss = sum_j g_ij^2, norm = sqrt(ss), then
 *   kind 0 (WGAN-GP): pen_i = w * (norm - 1)^2, coef_i = scale * 2w (norm - 1) / norm
 *                     (0 where norm is 0: the subgradient PyTorch's norm backward takes);
 *   kind 1 (R1):      pen_i = w / 2 * ss,       coef_i = scale * w.
 * coef_i * g_i is d (scale * sum_i pen_i) / d g_i. */
__kernel void penalty_coef(const int n, const ulong d, const int kind, const float w,
                           const float scale, __global const float *g, const ulong go,
                           __global float *coef, __global float *pen, __global float *nrm) {
  int i = get_global_id(0);
  if (i >= n) return;
  __global const float *gi = g + go + (ulong)i * d;
  float ss = 0.0f;
  for (ulong j = 0; j < d; j++) ss += gi[j] * gi[j];
  float norm = sqrt(ss);
  if (kind == 0) {
    float e = norm - 1.0f;
    pen[i] = w * e * e;
    coef[i] = norm > 0.0f ? scale * 2.0f * w * e / norm : 0.0f;
  } else {
    pen[i] = 0.5f * w * ss;
    coef[i] = scale * w;
  }
  nrm[i] = norm;
}

/* v[i, j] = coef[i] * g[i, j] over (n, d) */
__kernel void penalty_scale(const ulong total, const ulong d, __global const float *coef,
                            __global const float *g, const ulong go, __global float *v,
                            const ulong vo) {
  ulong k = get_global_id(0);
  if (k >= total) return;
  v[vo + k] = coef[k / d] * g[go + k];
}

/* out[0] = mean of pen (n), out[1] = mean of nrm: the logs' penalty and gradient norm */
__kernel void penalty_mean(const int n, __global const float *pen, __global const float *nrm,
                           __global float *out, const ulong oo) {
  if (get_global_id(0) != 0) return;
  float sp = 0.0f, sn = 0.0f;
  for (int i = 0; i < n; i++) {
    sp += pen[i];
    sn += nrm[i];
  }
  out[oo] = sp / (float)n;
  out[oo + 1] = sn / (float)n;
}

/* x_hat = real * a + fake * (1 - a), a (n) one per sample, over (n, d) */
__kernel void gp_interpolate(const ulong total, const ulong d, __global const float *a,
                             __global const float *real, const ulong ro,
                             __global const float *fake, const ulong fo, __global float *y,
                             const ulong yo) {
  ulong k = get_global_id(0);
  if (k >= total) return;
  float ak = a[k / d];
  float r = real[ro + k] * ak;
  float f = fake[fo + k] * (1.0f - ak);
  y[yo + k] = r + f;
}

/* The drift eps * mean(x^2) over the n logits: dx[i] += scale * 2 eps x_i / n, and
 * out[0] = eps * mean(x^2). One work-item (n is a batch of logits). */
__kernel void wgan_drift(const int n, const float eps, const float scale,
                         __global const float *x, const ulong xo, __global float *dx,
                         const ulong dxo, __global float *out, const ulong oo) {
  if (get_global_id(0) != 0) return;
  float s = 0.0f;
  for (int i = 0; i < n; i++) {
    float v = x[xo + i];
    s += v * v;
    dx[dxo + i] += scale * 2.0f * eps * v / (float)n;
  }
  out[oo] = eps * s / (float)n;
}
