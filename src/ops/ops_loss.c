/* GAN loss launcher for kernels/loss.cl. Tests: tests/ops_nn/test_loss.c */
#include "clgan/ops.h"
#include "ops_nn_internal.h"

clgan_status clgan_loss_forward_backward(clgan_ctx *ctx, clgan_loss kind, float target, int n,
                                         clgan_view logits, float scale, clgan_view out2,
                                         clgan_view dlogits) {
  if ((int)kind < CLGAN_LOSS_BCE || kind > CLGAN_LOSS_LINEAR)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "loss: unknown kind %d", (int)kind);
  if (n <= 0) return clgan_error(CLGAN_ERR_INVALID_ARG, "loss: batch size %d", n);
  if (!logits.mem || !out2.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "loss: logits and out2 are required");
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "loss", "loss_fwd_bwd", &k);
  if (s) return s;
  size_t l = clgan_nn_group_size(ctx, k, clgan_nn_pow2_at_least((size_t)n, 256),
                                 2 * sizeof(cl_float));
  cl_int nn = n, kd = (cl_int)kind, has_grad = dlogits.mem != NULL;
  cl_float gscale = scale / (float)n;
  clgan_view d = has_grad ? dlogits : logits; /* never written without has_grad */
  cl_ulong xo = logits.off, oo = out2.off, dxo = d.off;
  clgan_karg args[] = {CLGAN_KARG(nn),     CLGAN_KARG(kd),       CLGAN_KARG(target),
                       CLGAN_KARG(gscale), CLGAN_KARG(logits.mem), CLGAN_KARG(xo),
                       CLGAN_KARG(out2.mem), CLGAN_KARG(oo),     CLGAN_KARG(has_grad),
                       CLGAN_KARG(d.mem),  CLGAN_KARG(dxo),
                       {2 * l * sizeof(cl_float), NULL}};
  if ((s = clgan_set_args(k, "loss_fwd_bwd", 12, args))) return s;
  return clgan_launch(ctx, k, "loss_fwd_bwd", 1, &l, &l);
}

clgan_status clgan_softmax_xent(clgan_ctx *ctx, int n, int k, clgan_view logits,
                                clgan_view labels, float scale, clgan_view out2,
                                clgan_view dlogits) {
  if (n <= 0 || k < 2)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "softmax_xent: %d rows of %d classes", n, k);
  if (!logits.mem || !labels.mem || !out2.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "softmax_xent: logits, labels and out2 are required");
  cl_kernel kr;
  clgan_status s = clgan_kernel_get(ctx, "loss", "softmax_xent", &kr);
  if (s) return s;
  /* a CPU runs the rows on few items (one barrier pass per item); a GPU one row each */
  size_t want = clgan_nn_pow2_at_least((size_t)n, clgan_nn_cpu_only(ctx) ? 16 : 256);
  size_t l = clgan_nn_group_size(ctx, kr, want, 2 * sizeof(cl_float));
  cl_int nn = n, kk = k, has_grad = dlogits.mem != NULL;
  cl_float gscale = scale / (float)n;
  clgan_view d = has_grad ? dlogits : out2; /* never written without has_grad */
  cl_ulong xo = logits.off, lo = labels.off, oo = out2.off, dxo = d.off;
  clgan_karg args[] = {CLGAN_KARG(nn),        CLGAN_KARG(kk),       CLGAN_KARG(gscale),
                       CLGAN_KARG(logits.mem), CLGAN_KARG(xo),      CLGAN_KARG(labels.mem),
                       CLGAN_KARG(lo),        CLGAN_KARG(out2.mem), CLGAN_KARG(oo),
                       CLGAN_KARG(has_grad),  CLGAN_KARG(d.mem),    CLGAN_KARG(dxo),
                       {2 * l * sizeof(cl_float), NULL}};
  if ((s = clgan_set_args(kr, "softmax_xent", 13, args))) return s;
  return clgan_launch(ctx, kr, "softmax_xent", 1, &l, &l);
}

clgan_status clgan_content_loss(clgan_ctx *ctx, clgan_content kind, size_t n, clgan_view a,
                                clgan_view b, float scale, clgan_view out, clgan_view da,
                                int accumulate) {
  if (kind != CLGAN_CONTENT_L1 && kind != CLGAN_CONTENT_MSE)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "content loss: unknown kind %d", (int)kind);
  if (n == 0 || n > 0x7fffffff)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "content loss: %zu values", n);
  if (!a.mem || !b.mem || !out.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "content loss: a, b and out are required");
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "loss", "content_loss", &k);
  if (s) return s;
  size_t l = clgan_nn_group_size(ctx, k, clgan_nn_pow2_at_least(n, 256), 2 * sizeof(cl_float));
  cl_int nn = (cl_int)n, kd = kind == CLGAN_CONTENT_L1 ? 0 : 1, has_grad = da.mem != NULL;
  cl_int acc = accumulate != 0;
  cl_float gscale = scale / (float)n;
  clgan_view d = has_grad ? da : out; /* never written without has_grad */
  cl_ulong ao = a.off, bo = b.off, oo = out.off, dao = d.off;
  clgan_karg args[] = {CLGAN_KARG(nn),    CLGAN_KARG(kd),     CLGAN_KARG(gscale),
                       CLGAN_KARG(a.mem), CLGAN_KARG(ao),     CLGAN_KARG(b.mem),
                       CLGAN_KARG(bo),    CLGAN_KARG(out.mem), CLGAN_KARG(oo),
                       CLGAN_KARG(has_grad), CLGAN_KARG(acc), CLGAN_KARG(d.mem),
                       CLGAN_KARG(dao),   {2 * l * sizeof(cl_float), NULL}};
  if ((s = clgan_set_args(k, "content_loss", 14, args))) return s;
  return clgan_launch(ctx, k, "content_loss", 1, &l, &l);
}
