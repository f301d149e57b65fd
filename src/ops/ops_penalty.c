/* Launchers for kernels/penalty.cl. Tests: tests/train/test_penalty.c */
#include "clgan/penalty.h"
#include "clgan/program.h"

clgan_status clgan_penalty_coef(clgan_ctx *ctx, clgan_penalty_kind kind, int n, size_t d,
                                float w, float scale, clgan_view g, clgan_view coef,
                                clgan_view pen, clgan_view nrm) {
  if (n < 1 || !d) return clgan_error(CLGAN_ERR_INVALID_ARG, "penalty of %d samples of %zu", n, d);
  if (coef.off || pen.off || nrm.off)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "penalty: coef, pen and nrm must start their buffers");
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "penalty", "penalty_coef", &k);
  if (s) return s;
  cl_ulong dd = d, go = g.off;
  cl_int nn = n, kk = (cl_int)kind;
  clgan_karg a[] = {CLGAN_KARG(nn), CLGAN_KARG(dd), CLGAN_KARG(kk), CLGAN_KARG(w),
                    CLGAN_KARG(scale), CLGAN_KARG(g.mem), CLGAN_KARG(go), CLGAN_KARG(coef.mem),
                    CLGAN_KARG(pen.mem), CLGAN_KARG(nrm.mem)};
  if ((s = clgan_set_args(k, "penalty_coef", 10, a))) return s;
  return clgan_launch_1d(ctx, k, "penalty_coef", (size_t)n, 0);
}

clgan_status clgan_penalty_scale(clgan_ctx *ctx, int n, size_t d, clgan_view coef, clgan_view g,
                                 clgan_view v) {
  if (coef.off) return clgan_error(CLGAN_ERR_INVALID_ARG, "penalty: coef must start its buffer");
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "penalty", "penalty_scale", &k);
  if (s) return s;
  cl_ulong total = (cl_ulong)n * d, dd = d, go = g.off, vo = v.off;
  clgan_karg a[] = {CLGAN_KARG(total), CLGAN_KARG(dd), CLGAN_KARG(coef.mem), CLGAN_KARG(g.mem),
                    CLGAN_KARG(go), CLGAN_KARG(v.mem), CLGAN_KARG(vo)};
  if ((s = clgan_set_args(k, "penalty_scale", 7, a))) return s;
  return clgan_launch_1d(ctx, k, "penalty_scale", (size_t)total, 0);
}

clgan_status clgan_penalty_mean(clgan_ctx *ctx, int n, clgan_view pen, clgan_view nrm,
                                clgan_view out) {
  if (pen.off || nrm.off)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "penalty: pen and nrm must start their buffers");
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "penalty", "penalty_mean", &k);
  if (s) return s;
  cl_int nn = n;
  cl_ulong oo = out.off;
  clgan_karg a[] = {CLGAN_KARG(nn), CLGAN_KARG(pen.mem), CLGAN_KARG(nrm.mem), CLGAN_KARG(out.mem),
                    CLGAN_KARG(oo)};
  if ((s = clgan_set_args(k, "penalty_mean", 5, a))) return s;
  return clgan_launch_1d(ctx, k, "penalty_mean", 1, 1);
}

clgan_status clgan_gp_interpolate(clgan_ctx *ctx, int n, size_t d, clgan_view av, clgan_view real,
                                  clgan_view fake, clgan_view y) {
  if (av.off) return clgan_error(CLGAN_ERR_INVALID_ARG, "gp: alpha must start its buffer");
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "penalty", "gp_interpolate", &k);
  if (s) return s;
  cl_ulong total = (cl_ulong)n * d, dd = d, ro = real.off, fo = fake.off, yo = y.off;
  clgan_karg a[] = {CLGAN_KARG(total), CLGAN_KARG(dd), CLGAN_KARG(av.mem), CLGAN_KARG(real.mem),
                    CLGAN_KARG(ro), CLGAN_KARG(fake.mem), CLGAN_KARG(fo), CLGAN_KARG(y.mem),
                    CLGAN_KARG(yo)};
  if ((s = clgan_set_args(k, "gp_interpolate", 9, a))) return s;
  return clgan_launch_1d(ctx, k, "gp_interpolate", (size_t)total, 0);
}

clgan_status clgan_wgan_drift(clgan_ctx *ctx, int n, float eps, float scale, clgan_view x,
                              clgan_view dx, clgan_view out) {
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "penalty", "wgan_drift", &k);
  if (s) return s;
  cl_int nn = n;
  cl_ulong xo = x.off, dxo = dx.off, oo = out.off;
  clgan_karg a[] = {CLGAN_KARG(nn), CLGAN_KARG(eps), CLGAN_KARG(scale), CLGAN_KARG(x.mem),
                    CLGAN_KARG(xo), CLGAN_KARG(dx.mem), CLGAN_KARG(dxo), CLGAN_KARG(out.mem),
                    CLGAN_KARG(oo)};
  if ((s = clgan_set_args(k, "wgan_drift", 9, a))) return s;
  return clgan_launch_1d(ctx, k, "wgan_drift", 1, 1);
}
