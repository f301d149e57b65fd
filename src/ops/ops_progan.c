/* Launchers for kernels/progan.cl. Tests: tests/ops_graph/test_progan.c */
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

static clgan_status mb_check(int n, int g, int c, int hw) {
  if (n < 1 || g < 1 || c < 1 || hw < 1 || n % g)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "minibatch stddev of %d samples in groups of %d "
                       "(c %d, hw %d): the batch must be a multiple of the group", n, g, c, hw);
  return CLGAN_OK;
}

clgan_status clgan_mbstd_forward(clgan_ctx *ctx, int n, int g, int c, int hw, float eps,
                                 clgan_view x, clgan_view y) {
  clgan_status s = mb_check(n, g, c, hw);
  if (!s) s = clgan_channel_copy(ctx, n, c, hw, x, c, 0, y, c + 1, 0, 0);
  if (s) return s;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "progan", "mbstd_forward", &k))) return s;
  cl_int groups = n / g;
  cl_ulong xo = x.off, yo = y.off;
  clgan_karg a[] = {CLGAN_KARG(groups), CLGAN_KARG(g), CLGAN_KARG(c), CLGAN_KARG(hw),
                    CLGAN_KARG(eps), CLGAN_KARG(x.mem), CLGAN_KARG(xo), CLGAN_KARG(y.mem),
                    CLGAN_KARG(yo)};
  if ((s = clgan_set_args(k, "mbstd_forward", 9, a))) return s;
  return clgan_launch_1d(ctx, k, "mbstd_forward", (size_t)groups, 0);
}

clgan_status clgan_mbstd_backward(clgan_ctx *ctx, int n, int g, int c, int hw, float eps,
                                  clgan_view x, clgan_view dy, clgan_view dx, int accumulate) {
  clgan_status s = mb_check(n, g, c, hw);
  if (s) return s;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "progan", "mbstd_backward", &k))) return s;
  cl_ulong xo = x.off, dyo = dy.off, dxo = dx.off;
  cl_int acc = accumulate != 0;
  clgan_karg a[] = {CLGAN_KARG(n), CLGAN_KARG(g), CLGAN_KARG(c), CLGAN_KARG(hw),
                    CLGAN_KARG(eps), CLGAN_KARG(x.mem), CLGAN_KARG(xo), CLGAN_KARG(dy.mem),
                    CLGAN_KARG(dyo), CLGAN_KARG(dx.mem), CLGAN_KARG(dxo), CLGAN_KARG(acc)};
  if ((s = clgan_set_args(k, "mbstd_backward", 12, a))) return s;
  return clgan_launch_1d(ctx, k, "mbstd_backward", (size_t)n * (size_t)c * (size_t)hw, 0);
}

clgan_status clgan_mbstd_jvp(clgan_ctx *ctx, int n, int g, int c, int hw, float eps,
                             clgan_view x, clgan_view t, clgan_view y) {
  clgan_status s = mb_check(n, g, c, hw);
  if (!s) s = clgan_channel_copy(ctx, n, c, hw, t, c, 0, y, c + 1, 0, 0);
  if (s) return s;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "progan", "mbstd_jvp", &k))) return s;
  cl_int groups = n / g;
  cl_ulong xo = x.off, to = t.off, yo = y.off;
  clgan_karg a[] = {CLGAN_KARG(groups), CLGAN_KARG(g), CLGAN_KARG(c), CLGAN_KARG(hw),
                    CLGAN_KARG(eps), CLGAN_KARG(x.mem), CLGAN_KARG(xo), CLGAN_KARG(t.mem),
                    CLGAN_KARG(to), CLGAN_KARG(y.mem), CLGAN_KARG(yo)};
  if ((s = clgan_set_args(k, "mbstd_jvp", 11, a))) return s;
  return clgan_launch_1d(ctx, k, "mbstd_jvp", (size_t)groups, 0);
}

clgan_status clgan_mbstd_hvp(clgan_ctx *ctx, int n, int g, int c, int hw, float eps,
                             clgan_view x, clgan_view t, clgan_view dy, clgan_view r,
                             int accumulate) {
  clgan_status s = mb_check(n, g, c, hw);
  if (s) return s;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "progan", "mbstd_hvp", &k))) return s;
  cl_ulong xo = x.off, to = t.off, dyo = dy.off, ro = r.off;
  cl_int acc = accumulate != 0;
  clgan_karg a[] = {CLGAN_KARG(n), CLGAN_KARG(g), CLGAN_KARG(c), CLGAN_KARG(hw),
                    CLGAN_KARG(eps), CLGAN_KARG(x.mem), CLGAN_KARG(xo), CLGAN_KARG(t.mem),
                    CLGAN_KARG(to), CLGAN_KARG(dy.mem), CLGAN_KARG(dyo), CLGAN_KARG(r.mem),
                    CLGAN_KARG(ro), CLGAN_KARG(acc)};
  if ((s = clgan_set_args(k, "mbstd_hvp", 14, a))) return s;
  return clgan_launch_1d(ctx, k, "mbstd_hvp", (size_t)n * (size_t)c * (size_t)hw, 0);
}
