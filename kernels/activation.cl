/* Activations forward and backward, in place allowed. Launchers: src/ops/ops_activation.c.
 * Tests: tests/ops_nn/test_activation.c */

/* act is clgan_act: 0 identity, 1 relu, 2 leaky relu, 3 tanh, 4 sigmoid. One kernel with a
 * uniform switch keeps the launcher a single table-free call. */
__kernel void act_forward(const ulong n, const int act, const float slope,
                          __global const float *x, const ulong xo, __global float *y,
                          const ulong yo) {
  size_t i = get_global_id(0);
  if (i >= n) return;
  float v = x[xo + i], r;
  switch (act) {
  case 1: r = v > 0.0f ? v : 0.0f; break;
  case 2: r = v > 0.0f ? v : slope * v; break;
  case 3: r = tanh(v); break;
  case 4: {
    /* exp of a non-positive argument only: no overflow for large |v| */
    float e = exp(-fabs(v));
    r = v >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
    break;
  }
  default: r = v; break;
  }
  y[yo + i] = r;
}

/* relu/leaky read the input x; tanh/sigmoid read the output y (cheaper, and what the
 * layers keep). dx may alias dy. */
__kernel void act_backward(const ulong n, const int act, const float slope,
                           __global const float *x, const ulong xo, __global const float *y,
                           const ulong yo, __global const float *dy, const ulong dyo,
                           __global float *dx, const ulong dxo) {
  size_t i = get_global_id(0);
  if (i >= n) return;
  float g = dy[dyo + i], r;
  switch (act) {
  case 1: r = x[xo + i] > 0.0f ? g : 0.0f; break;
  case 2: r = x[xo + i] > 0.0f ? g : slope * g; break;
  case 3: {
    float t = y[yo + i];
    r = g * (1.0f - t * t);
    break;
  }
  case 4: {
    float s = y[yo + i];
    r = g * (s * (1.0f - s));
    break;
  }
  default: r = g; break;
  }
  dx[dxo + i] = r;
}
