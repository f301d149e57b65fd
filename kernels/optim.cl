/* Optimiser steps over a whole parameter arena, one launch each: Adam/AdamW and SGD with
 * momentum (torch.optim semantics). Launchers: src/ops/ops_optim.c. Tests: tests/ops_nn/test_optim.c */

/* step_size = lr / (1 - beta1^t) and inv_bc2_sqrt = 1 / sqrt(1 - beta2^t) come from the host
 * in double; decay is lr*wd for AdamW (p *= 1 - decay) and wd for Adam (g += wd * p). */
__kernel void adam_step(const ulong n, __global float *p, const ulong po,
                        __global const float *g, const ulong go, __global float *m,
                        const ulong mo, __global float *v, const ulong vo, const float beta1,
                        const float beta2, const float eps, const float step_size,
                        const float inv_bc2_sqrt, const float decay, const int decoupled) {
  size_t i = get_global_id(0);
  if (i >= n) return;
  float pi = p[po + i], gi = g[go + i];
  if (decoupled) pi = pi * (1.0f - decay);
  else gi = gi + decay * pi;
  float mi = beta1 * m[mo + i] + (1.0f - beta1) * gi;
  float vi = beta2 * v[vo + i] + (1.0f - beta2) * (gi * gi);
  m[mo + i] = mi;
  v[vo + i] = vi;
  p[po + i] = pi - step_size * (mi / (sqrt(vi) * inv_bc2_sqrt + eps));
}

/* buf = g (first step) or momentum*buf + g; p -= lr*buf. has_buf = 0: plain SGD. */
__kernel void sgd_step(const ulong n, __global float *p, const ulong po,
                       __global const float *g, const ulong go, __global float *buf,
                       const ulong bo, const float lr, const float momentum, const float wd,
                       const int has_buf, const int first) {
  size_t i = get_global_id(0);
  if (i >= n) return;
  float pi = p[po + i];
  float d = g[go + i] + wd * pi;
  if (has_buf) {
    if (!first) d = momentum * buf[bo + i] + d;
    buf[bo + i] = d;
  }
  p[po + i] = pi - lr * d;
}

/* Exponential moving average of a parameter arena: e = decay * e + (1 - decay) * p, computed
 * as fma(decay, e, omd * p) with omd = 1 - decay rounded to a float by the host. fma is
 * correctly rounded, and the product omd * p is not added to anything, so the result is
 * the same bits as the host's fmaf(decay, e, omd * p) whatever the compiler contracts. */
__kernel void ema_update(const ulong n, __global const float *p, const ulong po,
                         __global float *e, const ulong eo, const float decay,
                         const float omd) {
  size_t i = get_global_id(0);
  if (i >= n) return;
  float q = omd * p[po + i];
  e[eo + i] = fma(decay, e[eo + i], q);
}
