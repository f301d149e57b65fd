/* Elementwise basics: fill, axpy, scale, copy. Launchers: src/ops/ops_elementwise.c.
 * Tests: tests/test_ops_elementwise.c */

__kernel void fill_f32(const ulong n, const float value, __global float *x, const ulong xo) {
  size_t i = get_global_id(0);
  if (i >= n) return;
  x[xo + i] = value;
}

__kernel void axpy_f32(const ulong n, const float a, __global const float *x, const ulong xo,
                       __global float *y, const ulong yo) {
  size_t i = get_global_id(0);
  if (i >= n) return;
  y[yo + i] += a * x[xo + i];
}

__kernel void scale_f32(const ulong n, const float a, __global float *x, const ulong xo) {
  size_t i = get_global_id(0);
  if (i >= n) return;
  x[xo + i] *= a;
}

__kernel void copy_f32(const ulong n, __global const float *x, const ulong xo,
                       __global float *y, const ulong yo) {
  size_t i = get_global_id(0);
  if (i >= n) return;
  y[yo + i] = x[xo + i];
}
