/* ProGAN's layers (Karras et al. 2018). Launchers: src/ops/ops_progan.c.
 * Tests: tests/ops_graph/test_pixelnorm.c (float64 reference, finite differences, Oclgrind) */

/* Pixel norm over the channels of each pixel of x (n, c, hw):
 *   y = x / sqrt(mean_c x^2 + eps)
 * one work-item per (sample, pixel), channels summed in order. */
__kernel void pixelnorm_forward(const int n, const int c, const int hw, const float eps,
                                __global const float *x, const ulong xo, __global float *y,
                                const ulong yo) {
  int i = get_global_id(0);
  if (i >= n * hw) return;
  ulong base = (ulong)(i / hw) * (ulong)c * (ulong)hw + (ulong)(i % hw);
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
  ulong base = (ulong)(i / hw) * (ulong)c * (ulong)hw + (ulong)(i % hw);
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
