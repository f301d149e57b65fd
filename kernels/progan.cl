/* ProGAN's layers (Karras et al. 2018). Launchers: src/ops/ops_progan.c.
 * Tests: tests/ops_graph/test_progan.c (float64 reference, finite differences, Oclgrind) */

/* Pixel norm over the channels of each pixel of x (n, c, hw):
 *   y = x / sqrt(mean_c x^2 + eps)
 * one work-item per (sample, pixel), channels summed in order. */
__kernel void pixelnorm_forward(const int n, const int c, const int hw, const float eps,
                                __global const float *x, const ulong xo, __global float *y,
                                const ulong yo) {
  int i = get_global_id(0);
  if (i >= n * hw) return;
  int smp = i / hw, pix = i - smp * hw; /* no %: beside the / it becomes an LLVM freeze,
                                          which Oclgrind cannot run (kernels/graph.cl) */
  ulong base = (ulong)smp * (ulong)c * (ulong)hw + (ulong)pix;
  float ss = 0.0f;
  for (int k = 0; k < c; k++) {
    float v = x[xo + base + (ulong)k * hw];
    ss += v * v;
  }
  float r = rsqrt(ss / (float)c + eps);
  for (int k = 0; k < c; k++) y[yo + base + (ulong)k * hw] = x[xo + base + (ulong)k * hw] * r;
}

/* dx = r dy - x r^3 (sum_k dy_k x_k) / c, r = 1 / sqrt(mean_c x^2 + eps); dx (+)= when acc */
__kernel void pixelnorm_backward(const int n, const int c, const int hw, const float eps,
                                 __global const float *x, const ulong xo,
                                 __global const float *dy, const ulong dyo, __global float *dx,
                                 const ulong dxo, const int acc) {
  int i = get_global_id(0);
  if (i >= n * hw) return;
  int smp = i / hw, pix = i - smp * hw; /* no %: beside the / it becomes an LLVM freeze,
                                          which Oclgrind cannot run (kernels/graph.cl) */
  ulong base = (ulong)smp * (ulong)c * (ulong)hw + (ulong)pix;
  float ss = 0.0f, dot = 0.0f;
  for (int k = 0; k < c; k++) {
    float v = x[xo + base + (ulong)k * hw];
    ss += v * v;
    dot += dy[dyo + base + (ulong)k * hw] * v;
  }
  float r = rsqrt(ss / (float)c + eps);
  float q = r * r * r * dot / (float)c;
  for (int k = 0; k < c; k++) {
    ulong j = base + (ulong)k * hw;
    float g = r * dy[dyo + j] - x[xo + j] * q;
    dx[dxo + j] = acc ? dx[dxo + j] + g : g;
  }
}

/* Minibatch standard deviation (Karras et al. 2018) of x (n, c, hw), groups of g
 * consecutive samples (n a multiple of g): per group j and position p = (channel, pixel),
 * std_p = sqrt(mean over the group of (x - the group's mean)^2 + eps) (the biased
 * variance, as ProGAN's own code), s_j = mean over p of std_p, written as the extra channel
 * of every sample of the group: y (n, c + 1, hw), its channel c. One work-item per group,
 * positions then members in order. (The first c channels are a channel copy.) */
__kernel void mbstd_forward(const int groups, const int g, const int c, const int hw,
                            const float eps, __global const float *x, const ulong xo,
                            __global float *y, const ulong yo) {
  int j = get_global_id(0);
  if (j >= groups) return;
  ulong chw = (ulong)c * hw;
  __global const float *xj = x + xo + (ulong)j * g * chw;
  float s = 0.0f;
  for (ulong p = 0; p < chw; p++) {
    float m = 0.0f;
    for (int k = 0; k < g; k++) m += xj[(ulong)k * chw + p];
    m /= (float)g;
    float v = 0.0f;
    for (int k = 0; k < g; k++) {
      float d = xj[(ulong)k * chw + p] - m;
      v += d * d;
    }
    s += sqrt(v / (float)g + eps);
  }
  s /= (float)chw;
  for (int k = 0; k < g; k++)
    for (int q = 0; q < hw; q++)
      y[yo + ((ulong)(j * g + k) * (c + 1) + c) * hw + q] = s;
}

/* dx (n, c, hw) (+)= dy[:, :c] + ds_j / (c hw) * (x - mean_p) / (g std_p), ds_j the sum of
 * dy's extra channel over the group's samples and pixels. One work-item per element of x. */
__kernel void mbstd_backward(const int n, const int g, const int c, const int hw,
                             const float eps, __global const float *x, const ulong xo,
                             __global const float *dy, const ulong dyo, __global float *dx,
                             const ulong dxo, const int acc) {
  ulong i = get_global_id(0);
  ulong chw = (ulong)c * hw;
  if (i >= (ulong)n * chw) return;
  ulong s = i / chw, p = i - s * chw; /* remainders by subtraction (no LLVM freeze) */
  ulong j = s / (ulong)g;
  __global const float *xj = x + xo + j * (ulong)g * chw;
  float m = 0.0f;
  for (int k = 0; k < g; k++) m += xj[(ulong)k * chw + p];
  m /= (float)g;
  float v = 0.0f;
  for (int k = 0; k < g; k++) {
    float d = xj[(ulong)k * chw + p] - m;
    v += d * d;
  }
  float sd = sqrt(v / (float)g + eps);
  float ds = 0.0f;
  for (int k = 0; k < g; k++)
    for (int q = 0; q < hw; q++)
      ds += dy[dyo + ((j * (ulong)g + (ulong)k) * (ulong)(c + 1) + (ulong)c) * hw + (ulong)q];
  ulong pc = p / (ulong)hw, pq = p - pc * (ulong)hw;
  float gv = dy[dyo + (s * (ulong)(c + 1) + pc) * hw + pq] +
             ds / (float)chw * (x[xo + i] - m) / ((float)g * sd);
  dx[dxo + i] = acc ? dx[dxo + i] + gv : gv;
}

/* Minibatch stddev's double backward (gradient penalties, docs/KERNELS.md "Double backward").
 * With d = x - mean_p, sd_p = sqrt(mean_g d^2 + eps), P = c hw and t a tangent of x:
 * the JVP of the std channel, per group j, ds_j = (1/P) sum_p sum_k d_kp t_kp / (g sd_p),
 * written as the tangent's extra channel of every sample of the group (the first c channels
 * are a channel copy of t). One work-item per group, positions then members in order. */
__kernel void mbstd_jvp(const int groups, const int g, const int c, const int hw,
                        const float eps, __global const float *x, const ulong xo,
                        __global const float *t, const ulong to, __global float *y,
                        const ulong yo) {
  int j = get_global_id(0);
  if (j >= groups) return;
  ulong chw = (ulong)c * hw;
  __global const float *xj = x + xo + (ulong)j * g * chw;
  __global const float *tj = t + to + (ulong)j * g * chw;
  float s = 0.0f;
  for (ulong p = 0; p < chw; p++) {
    float m = 0.0f;
    for (int k = 0; k < g; k++) m += xj[(ulong)k * chw + p];
    m /= (float)g;
    float v = 0.0f, a = 0.0f;
    for (int k = 0; k < g; k++) {
      float d = xj[(ulong)k * chw + p] - m;
      v += d * d;
      a += d * tj[(ulong)k * chw + p];
    }
    s += a / ((float)g * sqrt(v / (float)g + eps));
  }
  s /= (float)chw;
  for (int k = 0; k < g; k++)
    for (int q = 0; q < hw; q++)
      y[yo + ((ulong)(j * g + k) * (c + 1) + c) * hw + q] = s;
}

/* The Hessian-vector term r = grad_x <dy, J(x) t> (t and dy held; only the std channel's
 * JVP depends on x): with D_j the sum of dy's extra channel over group j, A_p = mean_g d t,
 * r_kp = D_j / P * ((t_kp - mean_g t) / (g sd_p) - A_p d_kp / (g sd_p^3)).
 * r (+)= when acc. One work-item per element of x, its group recomputed. */
__kernel void mbstd_hvp(const int n, const int g, const int c, const int hw, const float eps,
                        __global const float *x, const ulong xo, __global const float *t,
                        const ulong to, __global const float *dy, const ulong dyo,
                        __global float *r, const ulong ro, const int acc) {
  ulong i = get_global_id(0);
  ulong chw = (ulong)c * hw;
  if (i >= (ulong)n * chw) return;
  ulong s = i / chw, p = i - s * chw; /* remainders by subtraction (no LLVM freeze) */
  ulong j = s / (ulong)g;
  __global const float *xj = x + xo + j * (ulong)g * chw;
  __global const float *tj = t + to + j * (ulong)g * chw;
  float m = 0.0f, tm = 0.0f;
  for (int k = 0; k < g; k++) {
    m += xj[(ulong)k * chw + p];
    tm += tj[(ulong)k * chw + p];
  }
  m /= (float)g;
  tm /= (float)g;
  float v = 0.0f, a = 0.0f;
  for (int k = 0; k < g; k++) {
    float d = xj[(ulong)k * chw + p] - m;
    v += d * d;
    a += d * tj[(ulong)k * chw + p];
  }
  v /= (float)g;
  a /= (float)g;
  float sd = sqrt(v + eps);
  float ds = 0.0f;
  for (int k = 0; k < g; k++)
    for (int q = 0; q < hw; q++)
      ds += dy[dyo + ((j * (ulong)g + (ulong)k) * (ulong)(c + 1) + (ulong)c) * hw + (ulong)q];
  float d = x[xo + i] - m;
  float gv = ds / (float)chw *
             ((t[to + i] - tm) / ((float)g * sd) - a * d / ((float)g * sd * sd * sd));
  r[ro + i] = acc ? r[ro + i] + gv : gv;
}
