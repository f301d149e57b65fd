/* Launchers for kernels/progan.cl. Tests: tests/ops_graph/test_pixelnorm.c */
#include "clgan/ops.h"
#include "clgan/program.h"

static clgan_status pn_check(int n, int c, int hw) {
  if (n < 0 || c < 1 || hw < 1)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "pixelnorm of n %d, c %d, hw %d", n, c, hw);
  return CLGAN_OK;
}

clgan_status clgan_pixelnorm_forward(clgan_ctx *ctx, int n, int c, int hw, float eps, clgan_view x,
                                     clgan_view y) {
  clgan_status s = pn_check(n, c, hw);
  if (s || !n) return s;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "progan", "pixelnorm_forward", &k))) return s;
  cl_ulong xo = x.off, yo = y.off;
  clgan_karg a[] = {CLGAN_KARG(n), CLGAN_KARG(c), CLGAN_KARG(hw), CLGAN_KARG(eps),
                    CLGAN_KARG(x.mem), CLGAN_KARG(xo), CLGAN_KARG(y.mem), CLGAN_KARG(yo)};
  if ((s = clgan_set_args(k, "pixelnorm_forward", 8, a))) return s;
  return clgan_launch_1d(ctx, k, "pixelnorm_forward", (size_t)n * (size_t)hw, 0);
}

clgan_status clgan_pixelnorm_backward(clgan_ctx *ctx, int n, int c, int hw, float eps,
                                      clgan_view x, clgan_view dy, clgan_view dx, int accumulate) {
  clgan_status s = pn_check(n, c, hw);
  if (s || !n) return s;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "progan", "pixelnorm_backward", &k))) return s;
  cl_ulong xo = x.off, dyo = dy.off, dxo = dx.off;
  cl_int acc = accumulate != 0;
  clgan_karg a[] = {CLGAN_KARG(n), CLGAN_KARG(c), CLGAN_KARG(hw), CLGAN_KARG(eps),
                    CLGAN_KARG(x.mem), CLGAN_KARG(xo), CLGAN_KARG(dy.mem), CLGAN_KARG(dyo),
                    CLGAN_KARG(dx.mem), CLGAN_KARG(dxo), CLGAN_KARG(acc)};
  if ((s = clgan_set_args(k, "pixelnorm_backward", 11, a))) return s;
  return clgan_launch_1d(ctx, k, "pixelnorm_backward", (size_t)n * (size_t)hw, 0);
}
