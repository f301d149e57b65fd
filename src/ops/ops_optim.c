/* Adam/AdamW and SGD launchers for kernels/optim.cl. Tests: tests/ops_nn/test_optim.c */
#include <math.h>

#include "clgan/ops.h"
#include "clgan/program.h"

clgan_status clgan_adam_step(clgan_ctx *ctx, size_t n, clgan_view param, clgan_view grad,
                             clgan_view m, clgan_view v, float lr, float beta1, float beta2,
                             float eps, float weight_decay, int decoupled, long step) {
  if (step < 1)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "adam: step %ld (steps count from 1)", step);
  if (!(beta1 >= 0.0f && beta1 < 1.0f) || !(beta2 >= 0.0f && beta2 < 1.0f))
    return clgan_error(CLGAN_ERR_INVALID_ARG, "adam: betas (%g, %g) outside [0, 1)",
                       (double)beta1, (double)beta2);
  if (n == 0) return CLGAN_OK;
  if (!param.mem || !grad.mem || !m.mem || !v.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "adam: param, grad, m and v are required");
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "optim", "adam_step", &k);
  if (s) return s;
  /* bias corrections in double: beta2^t for t in the thousands loses digits in float */
  double bc1 = 1.0 - pow(beta1, (double)step), bc2 = 1.0 - pow(beta2, (double)step);
  cl_float step_size = (float)(lr / bc1), inv_bc2_sqrt = (float)(1.0 / sqrt(bc2));
  cl_float decay = decoupled ? (float)((double)lr * weight_decay) : weight_decay;
  cl_int dec = decoupled != 0;
  cl_ulong nn = n, po = param.off, go = grad.off, mo = m.off, vo = v.off;
  clgan_karg args[] = {CLGAN_KARG(nn),        CLGAN_KARG(param.mem), CLGAN_KARG(po),
                       CLGAN_KARG(grad.mem),  CLGAN_KARG(go),        CLGAN_KARG(m.mem),
                       CLGAN_KARG(mo),        CLGAN_KARG(v.mem),     CLGAN_KARG(vo),
                       CLGAN_KARG(beta1),     CLGAN_KARG(beta2),     CLGAN_KARG(eps),
                       CLGAN_KARG(step_size), CLGAN_KARG(inv_bc2_sqrt), CLGAN_KARG(decay),
                       CLGAN_KARG(dec)};
  if ((s = clgan_set_args(k, "adam_step", 16, args))) return s;
  return clgan_launch_1d(ctx, k, "adam_step", n, 0);
}

clgan_status clgan_sgd_step(clgan_ctx *ctx, size_t n, clgan_view param, clgan_view grad,
                            clgan_view buf, float lr, float momentum, float weight_decay,
                            long step) {
  if (step < 1)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "sgd: step %ld (steps count from 1)", step);
  if (n == 0) return CLGAN_OK;
  if (!param.mem || !grad.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "sgd: param and grad are required");
  if (momentum != 0.0f && !buf.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "sgd: momentum %g needs a momentum buffer",
                       (double)momentum);
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "optim", "sgd_step", &k);
  if (s) return s;
  cl_int has_buf = momentum != 0.0f, first = step == 1;
  clgan_view b = has_buf ? buf : grad;
  cl_ulong nn = n, po = param.off, go = grad.off, bo = b.off;
  clgan_karg args[] = {CLGAN_KARG(nn),       CLGAN_KARG(param.mem), CLGAN_KARG(po),
                       CLGAN_KARG(grad.mem), CLGAN_KARG(go),        CLGAN_KARG(b.mem),
                       CLGAN_KARG(bo),       CLGAN_KARG(lr),        CLGAN_KARG(momentum),
                       CLGAN_KARG(weight_decay), CLGAN_KARG(has_buf), CLGAN_KARG(first)};
  if ((s = clgan_set_args(k, "sgd_step", 12, args))) return s;
  return clgan_launch_1d(ctx, k, "sgd_step", n, 0);
}

clgan_status clgan_ema_update(clgan_ctx *ctx, size_t n, float decay, clgan_view param,
                              clgan_view ema) {
  if (!(decay >= 0.0f && decay <= 1.0f))
    return clgan_error(CLGAN_ERR_INVALID_ARG, "ema: decay %g outside [0, 1]", (double)decay);
  if (n == 0) return CLGAN_OK;
  if (!param.mem || !ema.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "ema: param and ema are required");
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "optim", "ema_update", &k);
  if (s) return s;
  cl_float d = decay, omd = 1.0f - decay;
  cl_ulong nn = n, po = param.off, eo = ema.off;
  clgan_karg args[] = {CLGAN_KARG(nn), CLGAN_KARG(param.mem), CLGAN_KARG(po),
                       CLGAN_KARG(ema.mem), CLGAN_KARG(eo), CLGAN_KARG(d), CLGAN_KARG(omd)};
  if ((s = clgan_set_args(k, "ema_update", 7, args))) return s;
  return clgan_launch_1d(ctx, k, "ema_update", n, 0);
}

void clgan_ema_update_host(size_t n, float decay, const float *param, float *ema) {
  float omd = 1.0f - decay;
  for (size_t i = 0; i < n; i++) {
    float q = omd * param[i];
    ema[i] = fmaf(decay, ema[i], q);
  }
}
