/* Launchers of kernels/sn.cl: spectral normalisation's power iteration, sigma, W / sigma
 * and its backward (include/clgan/sn.h). Tests: tests/ops_nn/test_sn.c */
#include "clgan/sn.h"

#include "ops_nn_internal.h"

static clgan_status check_shape(const char *what, int rows, int cols, int kk) {
  if (rows < 1 || cols < 1 || kk < 0 || (kk && cols % kk) ||
      (size_t)rows * (size_t)cols > ((size_t)1 << 31))
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: bad weight shape %d x %d (kk %d)", what, rows,
                       cols, kk);
  return CLGAN_OK;
}

/* One group: a single item on a CPU (the group runs on one core anyway, and POCL pays for
 * every barrier), 64 elsewhere. */
static size_t one_group(clgan_ctx *ctx, cl_kernel k) {
  return clgan_nn_group_size(ctx, k, clgan_nn_cpu_only(ctx) ? 1 : 64, sizeof(cl_float));
}

clgan_status clgan_sn_sigma(clgan_ctx *ctx, int rows, int cols, int kk, clgan_view w,
                            clgan_view u, clgan_view v, clgan_view work, int power) {
  const char *what = "spectral norm sigma";
  clgan_status s = check_shape(what, rows, cols, kk);
  if (s) return s;
  if (!w.mem || !u.mem || !v.mem || !work.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: w, u, v and work are required", what);
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "sn", "sn_sigma", &k))) return s;
  size_t l = one_group(ctx, k);
  cl_int r = rows, c = cols, q = kk, p = power != 0;
  cl_float eps = CLGAN_SN_EPS;
  cl_ulong wo = w.off, uo = u.off, vo = v.off, so = work.off;
  clgan_karg args[] = {CLGAN_KARG(r),      CLGAN_KARG(c),     CLGAN_KARG(q),
                       CLGAN_KARG(w.mem),  CLGAN_KARG(wo),    CLGAN_KARG(u.mem),
                       CLGAN_KARG(uo),     CLGAN_KARG(v.mem), CLGAN_KARG(vo),
                       CLGAN_KARG(work.mem), CLGAN_KARG(so),  CLGAN_KARG(p),
                       CLGAN_KARG(eps),    {l * sizeof(cl_float), NULL}};
  if ((s = clgan_set_args(k, "sn_sigma", 14, args))) return s;
  return clgan_launch(ctx, k, "sn_sigma", 1, &l, &l);
}

clgan_status clgan_sn_scale(clgan_ctx *ctx, size_t n, clgan_view w, clgan_view sigma,
                            clgan_view out) {
  if (n == 0) return CLGAN_OK;
  if (!w.mem || !sigma.mem || !out.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "spectral norm scale: w, sigma and out are required");
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "sn", "sn_scale", &k);
  if (s) return s;
  cl_ulong nn = n, wo = w.off, so = sigma.off, oo = out.off;
  clgan_karg args[] = {CLGAN_KARG(nn), CLGAN_KARG(w.mem),   CLGAN_KARG(wo), CLGAN_KARG(sigma.mem),
                       CLGAN_KARG(so), CLGAN_KARG(out.mem), CLGAN_KARG(oo)};
  if ((s = clgan_set_args(k, "sn_scale", 7, args))) return s;
  return clgan_launch_1d(ctx, k, "sn_scale", n, 0);
}

clgan_status clgan_sn_backward(clgan_ctx *ctx, int rows, int cols, int kk, clgan_view g,
                               clgan_view w, clgan_view u, clgan_view v, clgan_view sigma_slot,
                               clgan_view dw, int accumulate) {
  const char *what = "spectral norm backward";
  clgan_status s = check_shape(what, rows, cols, kk);
  if (s) return s;
  if (!g.mem || !w.mem || !u.mem || !v.mem || !sigma_slot.mem || !dw.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: g, w, u, v, sigma and dw are required", what);
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "sn", "sn_dsigma", &k))) return s;
  size_t l = one_group(ctx, k);
  cl_ulong n = (cl_ulong)rows * (cl_ulong)cols, go = g.off, wo = w.off, so = sigma_slot.off;
  clgan_karg a1[] = {CLGAN_KARG(n),  CLGAN_KARG(g.mem),          CLGAN_KARG(go),
                     CLGAN_KARG(w.mem), CLGAN_KARG(wo),          CLGAN_KARG(sigma_slot.mem),
                     CLGAN_KARG(so), {l * sizeof(cl_float), NULL}};
  if ((s = clgan_set_args(k, "sn_dsigma", 8, a1))) return s;
  if ((s = clgan_launch(ctx, k, "sn_dsigma", 1, &l, &l))) return s;
  cl_int r = rows, c = cols, q = kk, acc = accumulate != 0;
  cl_ulong uo = u.off, vo = v.off, dwo = dw.off;
  if (kk == 0 && clgan_nn_cpu_only(ctx)) { /* a row per item, its columns in a loop */
    if ((s = clgan_kernel_get(ctx, "sn", "sn_backward_rows", &k))) return s;
    clgan_karg a3[] = {CLGAN_KARG(r),      CLGAN_KARG(c),     CLGAN_KARG(g.mem),
                       CLGAN_KARG(go),     CLGAN_KARG(u.mem), CLGAN_KARG(uo),
                       CLGAN_KARG(v.mem),  CLGAN_KARG(vo),    CLGAN_KARG(sigma_slot.mem),
                       CLGAN_KARG(so),     CLGAN_KARG(dw.mem), CLGAN_KARG(dwo),
                       CLGAN_KARG(acc)};
    if ((s = clgan_set_args(k, "sn_backward_rows", 13, a3))) return s;
    return clgan_launch_1d(ctx, k, "sn_backward_rows", (size_t)rows, 0);
  }
  if ((s = clgan_kernel_get(ctx, "sn", "sn_backward", &k))) return s;
  clgan_karg a2[] = {CLGAN_KARG(r),     CLGAN_KARG(c),      CLGAN_KARG(q),
                     CLGAN_KARG(g.mem), CLGAN_KARG(go),     CLGAN_KARG(u.mem),
                     CLGAN_KARG(uo),    CLGAN_KARG(v.mem),  CLGAN_KARG(vo),
                     CLGAN_KARG(sigma_slot.mem), CLGAN_KARG(so), CLGAN_KARG(dw.mem),
                     CLGAN_KARG(dwo),   CLGAN_KARG(acc)};
  if ((s = clgan_set_args(k, "sn_backward", 14, a2))) return s;
  return clgan_launch_1d(ctx, k, "sn_backward", (size_t)n, 0);
}
