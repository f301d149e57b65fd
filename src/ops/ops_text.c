/* Launchers of kernels/text.cl: the weighted bag of token embeddings and conditioning
 * augmentation (include/clgan/text.h). They validate, then only enqueue.
 * Tests: tests/ops_graph/test_text_ops.c against tests/ref/ref_text.c */
#include "clgan/ops.h"
#include "clgan/program.h"
#include "clgan/text.h"

#define TX_MAX ((unsigned long long)1 << 40)

static clgan_status tx_check(const char *what, int n, int num, int dim, int slots) {
  if (n < 0 || num < 0 || dim < 0 || slots < 0)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: sizes must not be negative (n %d, num %d, "
                       "dim %d, slots %d)", what, n, num, dim, slots);
  if ((unsigned long long)n * (unsigned long long)(dim > 2 * slots ? dim : 2 * slots) > TX_MAX ||
      (unsigned long long)num * (unsigned long long)dim > TX_MAX)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: tensor too large", what);
  return CLGAN_OK;
}

static clgan_status tx_need(const char *what, const char *name, clgan_view v) {
  return v.mem ? CLGAN_OK : clgan_error(CLGAN_ERR_INVALID_ARG, "%s: %s is required", what, name);
}

clgan_status clgan_embedbag_forward(clgan_ctx *ctx, int n, int num, int dim, int slots,
                                    clgan_view text, clgan_view w, clgan_view y) {
  const char *what = "embedding bag forward";
  clgan_status s = tx_check(what, n, num, dim, slots);
  if (s || (s = tx_need(what, "text", text)) || (s = tx_need(what, "w", w)) ||
      (s = tx_need(what, "y", y)))
    return s;
  size_t total = (size_t)n * (size_t)dim;
  if (!total) return CLGAN_OK;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "text", "text_embedbag_forward", &k))) return s;
  cl_int nn = n, nm = num, dd = dim, sl = slots;
  cl_ulong to = text.off, wo = w.off, yo = y.off;
  clgan_karg args[] = {CLGAN_KARG(nn), CLGAN_KARG(nm), CLGAN_KARG(dd), CLGAN_KARG(sl),
                       CLGAN_KARG(text.mem), CLGAN_KARG(to), CLGAN_KARG(w.mem), CLGAN_KARG(wo),
                       CLGAN_KARG(y.mem), CLGAN_KARG(yo)};
  if ((s = clgan_set_args(k, "text_embedbag_forward", 10, args))) return s;
  return clgan_launch_1d(ctx, k, "text_embedbag_forward", total, 0);
}

clgan_status clgan_embedbag_backward(clgan_ctx *ctx, int n, int num, int dim, int slots,
                                     clgan_view text, clgan_view dy, clgan_view dw,
                                     int accumulate) {
  const char *what = "embedding bag backward";
  clgan_status s = tx_check(what, n, num, dim, slots);
  if (s || (s = tx_need(what, "text", text)) || (s = tx_need(what, "dw", dw)) ||
      (n > 0 && (s = tx_need(what, "dy", dy))))
    return s;
  size_t total = (size_t)num * (size_t)dim;
  if (!total) return CLGAN_OK;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "text", "text_embedbag_backward", &k))) return s;
  clgan_view dyv = dy.mem ? dy : dw; /* n = 0: never read */
  cl_int nn = n, nm = num, dd = dim, sl = slots, acc = accumulate != 0;
  cl_ulong to = text.off, dyo = dyv.off, dwo = dw.off;
  clgan_karg args[] = {CLGAN_KARG(nn),  CLGAN_KARG(nm),     CLGAN_KARG(dd),  CLGAN_KARG(sl),
                       CLGAN_KARG(text.mem), CLGAN_KARG(to), CLGAN_KARG(dyv.mem),
                       CLGAN_KARG(dyo), CLGAN_KARG(dw.mem), CLGAN_KARG(dwo), CLGAN_KARG(acc)};
  if ((s = clgan_set_args(k, "text_embedbag_backward", 11, args))) return s;
  return clgan_launch_1d(ctx, k, "text_embedbag_backward", total, 0);
}

clgan_status clgan_condaug_forward(clgan_ctx *ctx, int n, int dim, clgan_view x, clgan_view eps,
                                   clgan_view y) {
  const char *what = "conditioning augmentation forward";
  clgan_status s = tx_check(what, n, 0, dim > (1 << 29) ? -1 : 2 * dim, 0);
  if (s || (s = tx_need(what, "x", x)) || (s = tx_need(what, "eps", eps)) ||
      (s = tx_need(what, "y", y)))
    return s;
  cl_ulong total = (cl_ulong)n * (cl_ulong)dim;
  if (!total) return CLGAN_OK;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "text", "text_condaug_forward", &k))) return s;
  cl_int dd = dim;
  cl_ulong xo = x.off, eo = eps.off, yo = y.off;
  clgan_karg args[] = {CLGAN_KARG(total), CLGAN_KARG(dd), CLGAN_KARG(x.mem), CLGAN_KARG(xo),
                       CLGAN_KARG(eps.mem), CLGAN_KARG(eo), CLGAN_KARG(y.mem), CLGAN_KARG(yo)};
  if ((s = clgan_set_args(k, "text_condaug_forward", 8, args))) return s;
  return clgan_launch_1d(ctx, k, "text_condaug_forward", (size_t)total, 0);
}

clgan_status clgan_condaug_backward(clgan_ctx *ctx, int n, int dim, clgan_view x, clgan_view eps,
                                    clgan_view dy, float kl_weight, clgan_view dx,
                                    int accumulate) {
  const char *what = "conditioning augmentation backward";
  clgan_status s = tx_check(what, n, 0, dim > (1 << 29) ? -1 : 2 * dim, 0);
  if (s || (s = tx_need(what, "x", x)) || (s = tx_need(what, "eps", eps)) ||
      (s = tx_need(what, "dy", dy)) || (s = tx_need(what, "dx", dx)))
    return s;
  if (!(kl_weight >= 0.0f && kl_weight < 1e30f))
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: KL weight %g (>= 0)", what, (double)kl_weight);
  cl_ulong total = (cl_ulong)n * (cl_ulong)dim;
  if (!total) return CLGAN_OK;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "text", "text_condaug_backward", &k))) return s;
  cl_int dd = dim, acc = accumulate != 0;
  cl_float kw = (cl_float)((double)kl_weight / ((double)n * (double)dim));
  cl_ulong xo = x.off, eo = eps.off, dyo = dy.off, dxo = dx.off;
  clgan_karg args[] = {CLGAN_KARG(total), CLGAN_KARG(dd),   CLGAN_KARG(x.mem),  CLGAN_KARG(xo),
                       CLGAN_KARG(eps.mem), CLGAN_KARG(eo), CLGAN_KARG(dy.mem), CLGAN_KARG(dyo),
                       CLGAN_KARG(dx.mem), CLGAN_KARG(dxo), CLGAN_KARG(kw),     CLGAN_KARG(acc)};
  if ((s = clgan_set_args(k, "text_condaug_backward", 12, args))) return s;
  return clgan_launch_1d(ctx, k, "text_condaug_backward", (size_t)total, 0);
}
