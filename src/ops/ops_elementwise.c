/* Launchers for kernels/elementwise.cl. Tests: tests/test_ops_elementwise.c */
#include "clgan/ops.h"
#include "clgan/program.h"

clgan_status clgan_fill(clgan_ctx *ctx, size_t n, float value, clgan_view x) {
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "elementwise", "fill_f32", &k);
  if (s) return s;
  cl_ulong nn = n, xo = x.off;
  clgan_karg a[] = {CLGAN_KARG(nn), CLGAN_KARG(value), CLGAN_KARG(x.mem), CLGAN_KARG(xo)};
  if ((s = clgan_set_args(k, "fill_f32", 4, a))) return s;
  return clgan_launch_1d(ctx, k, "fill_f32", n, 0);
}

clgan_status clgan_axpy(clgan_ctx *ctx, size_t n, float alpha, clgan_view x, clgan_view y) {
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "elementwise", "axpy_f32", &k);
  if (s) return s;
  cl_ulong nn = n, xo = x.off, yo = y.off;
  clgan_karg a[] = {CLGAN_KARG(nn), CLGAN_KARG(alpha), CLGAN_KARG(x.mem), CLGAN_KARG(xo),
                    CLGAN_KARG(y.mem), CLGAN_KARG(yo)};
  if ((s = clgan_set_args(k, "axpy_f32", 6, a))) return s;
  return clgan_launch_1d(ctx, k, "axpy_f32", n, 0);
}

clgan_status clgan_scale(clgan_ctx *ctx, size_t n, float alpha, clgan_view x) {
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "elementwise", "scale_f32", &k);
  if (s) return s;
  cl_ulong nn = n, xo = x.off;
  clgan_karg a[] = {CLGAN_KARG(nn), CLGAN_KARG(alpha), CLGAN_KARG(x.mem), CLGAN_KARG(xo)};
  if ((s = clgan_set_args(k, "scale_f32", 4, a))) return s;
  return clgan_launch_1d(ctx, k, "scale_f32", n, 0);
}

clgan_status clgan_copy(clgan_ctx *ctx, size_t n, clgan_view x, clgan_view y) {
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "elementwise", "copy_f32", &k);
  if (s) return s;
  cl_ulong nn = n, xo = x.off, yo = y.off;
  clgan_karg a[] = {CLGAN_KARG(nn), CLGAN_KARG(x.mem), CLGAN_KARG(xo), CLGAN_KARG(y.mem),
                    CLGAN_KARG(yo)};
  if ((s = clgan_set_args(k, "copy_f32", 5, a))) return s;
  return clgan_launch_1d(ctx, k, "copy_f32", n, 0);
}
