/* Batch norm launchers for kernels/batchnorm.cl (PyTorch semantics, see clgan/ops.h).
 * Tests: tests/ops_nn/test_batchnorm.c */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/ops.h"
#include "ops_nn_internal.h"

/* Items per channel group. Enough items in flight to fill the device (about 256 per compute
 * unit), at most 256 and no more than the channel has values; at least a SIMD group on GPUs.
 * On a CPU every barrier is a pass over the group's items, so there the fewest win: on POCL
 * (2 cores), (64, 256, 49) forward + backward took 4.2 ms with 2 items a group, 16.8 ms
 * with 256. */
static size_t bn_group(clgan_ctx *ctx, cl_kernel k, int n, int c, int hw,
                       size_t floats_per_item) {
  size_t cu = ctx->info.compute_units ? ctx->info.compute_units : 1;
  size_t min_items = 1;
  if (!clgan_nn_cpu_only(ctx) &&
      clGetKernelWorkGroupInfo(k, ctx->info.device, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
                               sizeof min_items, &min_items, NULL) != CL_SUCCESS)
    min_items = 32;
  size_t want = clgan_nn_pow2_at_least(cu * 256 / (size_t)c, 256);
  if (want < min_items) want = min_items;
  size_t per_channel = clgan_nn_pow2_at_least((size_t)n * (size_t)hw, 256);
  if (want > per_channel) want = per_channel;
  return clgan_nn_group_size(ctx, k, want, floats_per_item * sizeof(cl_float));
}

/* log2 of the items that share one sample's HW values: the largest power of two <= both
 * HW and the group (see BN_FOR_CHANNEL in kernels/batchnorm.cl). */
static cl_int bn_row_shift(size_t l, int hw) {
  cl_int hs = 0;
  while (((size_t)2 << hs) <= l && (2 << hs) <= hw) hs++;
  return hs;
}

/* The lanes form of the training forward and the backward (kernels/batchnorm.cl): one
 * work-item a channel (the training forward with l <= 16: two channels, including l = 1),
 * the group form's l items as l lanes of a vector, bit-identical to the group form. It takes
 * the group form's place where that form has l = 2..64 items in one row (l <= HW, hs =
 * log2 l; the forward also l = 1), except 2 items with an odd HW; elsewhere the group form
 * runs. CPU-only devices use it:
 * there a group's items run one after another, so the per-item sums were scalar loops over
 * every l-th value, and vector lanes make them vector loads and adds (dcgan64's and
 * dcgan28's batch norms on POCL: docs/PERFORMANCE.md). CLGAN_BN_FORM=lanes or groups
 * overrides the device rule (the tests run both forms on any device). Writes the kernel
 * name to `name` (cap bytes) and returns the channels a work-item takes (1 or 2), 0 when
 * the group form runs. */
static int bn_lanes(clgan_ctx *ctx, const char *kernel, size_t l, int hw, cl_int hs,
                    char *name, size_t cap) {
  const char *e = getenv("CLGAN_BN_FORM");
  int want = clgan_nn_cpu_only(ctx);
  if (e && !strcmp(e, "lanes")) want = 1;
  if (e && !strcmp(e, "groups")) want = 0;
  if (!want || l > 64 || ((size_t)1 << hs) != l) return 0;
  /* 2 lanes with a tail (dcgan28's 256x7x7) measured 0.8x in the backward: per sample the
   * tail's scalar pass costs more than the 2-wide vectors save (bench/bn_forms) */
  if (l == 2 && hw % 2) return 0;
  /* the training forward: two channels a work-item, their sums' chains overlapping */
  if (l <= 16 && !strcmp(kernel, "bn_forward_train")) {
    snprintf(name, cap, "%s_lanes%zux2", kernel, l);
    return 2;
  }
  if (l < 2) return 0;
  snprintf(name, cap, "%s_lanes%zu", kernel, l);
  return 1;
}

/* Launches the lanes form: `nargs` arguments of the group form's list, without its trailing
 * hs and scratch, on one work-item per `per` channels (bn_lanes' result). */
static clgan_status bn_launch_lanes(clgan_ctx *ctx, const char *name, int nargs,
                                   const clgan_karg *args, int c, int per) {
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "batchnorm", name, &k);
  if (!s) s = clgan_set_args(k, name, nargs, args);
  if (s) return s;
  size_t global = ((size_t)c + (size_t)per - 1) / (size_t)per, one = 1;
  return clgan_launch(ctx, k, name, 1, &global, &one);
}

static clgan_status bn_check(const char *what, int n, int c, int hw, clgan_view x,
                             clgan_view out, clgan_view gamma, clgan_view beta) {
  if (n <= 0 || c <= 0 || hw <= 0)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: bad shape (N=%d, C=%d, HW=%d)", what, n, c,
                       hw);
  if ((size_t)n * (size_t)c * (size_t)hw > (size_t)1 << 40)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: tensor too large", what);
  if (!x.mem || !out.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: input and output buffers are required",
                       what);
  if (!gamma.mem != !beta.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: gamma and beta must both be given or both "
                       "be CLGAN_NONE", what);
  return CLGAN_OK;
}

/* The activations a batch-norm kernel can apply itself. */
static clgan_status bn_check_act(const char *what, clgan_act act) {
  if (act != CLGAN_ACT_IDENTITY && act != CLGAN_ACT_RELU && act != CLGAN_ACT_LEAKY_RELU)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: activation %d cannot be fused (identity, "
                       "relu or leaky relu only)", what, (int)act);
  return CLGAN_OK;
}

clgan_status clgan_batchnorm_forward_train(clgan_ctx *ctx, int n, int c, int hw, clgan_view x,
                                           clgan_view gamma, clgan_view beta, clgan_view y,
                                           clgan_view save_mean, clgan_view save_invstd,
                                           clgan_view running_mean, clgan_view running_var,
                                           float momentum, float eps) {
  return clgan_batchnorm_act_forward_train(ctx, n, c, hw, x, gamma, beta, CLGAN_ACT_IDENTITY,
                                           0.0f, y, save_mean, save_invstd, running_mean,
                                           running_var, momentum, eps);
}

clgan_status clgan_batchnorm_act_forward_train(clgan_ctx *ctx, int n, int c, int hw,
                                               clgan_view x, clgan_view gamma, clgan_view beta,
                                               clgan_act act, float slope, clgan_view y,
                                               clgan_view save_mean, clgan_view save_invstd,
                                               clgan_view running_mean, clgan_view running_var,
                                               float momentum, float eps) {
  const char *what = act ? "batchnorm+activation forward (train)" : "batchnorm forward (train)";
  clgan_status s = bn_check(what, n, c, hw, x, y, gamma, beta);
  if (!s) s = bn_check_act(what, act);
  if (s) return s;
  if (!save_mean.mem || !save_invstd.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: save_mean and save_invstd are required",
                       what);
  if (!running_mean.mem != !running_var.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: running_mean and running_var must both be "
                       "given or both be CLGAN_NONE", what);
  if ((long long)n * hw < 2)
    /* as PyTorch: the unbiased running variance needs two values per channel */
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: expected more than 1 value per channel "
                       "when training (N=%d, HW=%d)", what, n, hw);
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "batchnorm", "bn_forward_train", &k))) return s;
  size_t l = bn_group(ctx, k, n, c, hw, 1);
  cl_int hs = bn_row_shift(l, hw);
  cl_int nn = n, cc = c, hh = hw, affine = gamma.mem != NULL, running = running_mean.mem != NULL;
  cl_int a = (cl_int)act;
  /* absent optional tensors are never read; any valid buffer stands in for them */
  clgan_view g = affine ? gamma : x, b = affine ? beta : x;
  clgan_view rm = running ? running_mean : save_mean, rv = running ? running_var : save_invstd;
  cl_ulong xo = x.off, go = g.off, bo = b.off, yo = y.off, smo = save_mean.off,
           sio = save_invstd.off, rmo = rm.off, rvo = rv.off;
  clgan_karg args[] = {CLGAN_KARG(nn),       CLGAN_KARG(cc),           CLGAN_KARG(hh),
                       CLGAN_KARG(x.mem),    CLGAN_KARG(xo),           CLGAN_KARG(affine),
                       CLGAN_KARG(g.mem),    CLGAN_KARG(go),           CLGAN_KARG(b.mem),
                       CLGAN_KARG(bo),       CLGAN_KARG(y.mem),        CLGAN_KARG(yo),
                       CLGAN_KARG(save_mean.mem), CLGAN_KARG(smo),     CLGAN_KARG(save_invstd.mem),
                       CLGAN_KARG(sio),      CLGAN_KARG(running),      CLGAN_KARG(rm.mem),
                       CLGAN_KARG(rmo),      CLGAN_KARG(rv.mem),       CLGAN_KARG(rvo),
                       CLGAN_KARG(momentum), CLGAN_KARG(eps),          CLGAN_KARG(a),
                       CLGAN_KARG(slope),    CLGAN_KARG(hs),           {l * sizeof(cl_float), NULL}};
  char lname[40];
  int per = bn_lanes(ctx, "bn_forward_train", l, hw, hs, lname, sizeof lname);
  if (per) return bn_launch_lanes(ctx, lname, 25, args, c, per);
  if ((s = clgan_set_args(k, "bn_forward_train", 27, args))) return s;
  size_t global = l * (size_t)c;
  return clgan_launch(ctx, k, "bn_forward_train", 1, &global, &l);
}

clgan_status clgan_batchnorm_forward_eval(clgan_ctx *ctx, int n, int c, int hw, clgan_view x,
                                          clgan_view gamma, clgan_view beta,
                                          clgan_view running_mean, clgan_view running_var,
                                          float eps, clgan_view y) {
  const char *what = "batchnorm forward (eval)";
  clgan_status s = bn_check(what, n, c, hw, x, y, gamma, beta);
  if (s) return s;
  if (!running_mean.mem || !running_var.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: running_mean and running_var are required",
                       what);
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "batchnorm", "bn_forward_eval", &k))) return s;
  cl_ulong total = (cl_ulong)n * c * hw;
  cl_int cc = c, hh = hw, affine = gamma.mem != NULL;
  clgan_view g = affine ? gamma : x, b = affine ? beta : x;
  cl_ulong xo = x.off, go = g.off, bo = b.off, rmo = running_mean.off, rvo = running_var.off,
           yo = y.off;
  clgan_karg args[] = {CLGAN_KARG(total), CLGAN_KARG(cc),   CLGAN_KARG(hh),
                       CLGAN_KARG(x.mem), CLGAN_KARG(xo),   CLGAN_KARG(affine),
                       CLGAN_KARG(g.mem), CLGAN_KARG(go),   CLGAN_KARG(b.mem),
                       CLGAN_KARG(bo),    CLGAN_KARG(running_mean.mem), CLGAN_KARG(rmo),
                       CLGAN_KARG(running_var.mem), CLGAN_KARG(rvo), CLGAN_KARG(eps),
                       CLGAN_KARG(y.mem), CLGAN_KARG(yo)};
  if ((s = clgan_set_args(k, "bn_forward_eval", 17, args))) return s;
  return clgan_launch_1d(ctx, k, "bn_forward_eval", (size_t)total, 0);
}

clgan_status clgan_batchnorm_backward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x,
                                      clgan_view dy, clgan_view gamma, clgan_view save_mean,
                                      clgan_view save_invstd, clgan_view dx, clgan_view dgamma,
                                      clgan_view dbeta, int accumulate) {
  return clgan_batchnorm_act_backward(ctx, n, c, hw, x, dy, gamma, CLGAN_NONE,
                                      CLGAN_ACT_IDENTITY, 0.0f, save_mean, save_invstd, dx,
                                      dgamma, dbeta, accumulate);
}

clgan_status clgan_batchnorm_act_backward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x,
                                          clgan_view dy, clgan_view gamma, clgan_view beta,
                                          clgan_act act, float slope, clgan_view save_mean,
                                          clgan_view save_invstd, clgan_view dx,
                                          clgan_view dgamma, clgan_view dbeta, int accumulate) {
  const char *what = act ? "batchnorm+activation backward" : "batchnorm backward";
  clgan_status s = bn_check(what, n, c, hw, x, dx, CLGAN_NONE, CLGAN_NONE);
  if (!s) s = bn_check_act(what, act);
  if (s) return s;
  if (act && !gamma.mem != !beta.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: gamma and beta must both be given or both "
                       "be CLGAN_NONE", what);
  if (!dy.mem || !save_mean.mem || !save_invstd.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: dy, save_mean and save_invstd are required",
                       what);
  if (!dgamma.mem != !dbeta.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: dgamma and dbeta must both be given or "
                       "both be CLGAN_NONE", what);
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "batchnorm", "bn_backward", &k))) return s;
  size_t l = bn_group(ctx, k, n, c, hw, 2);
  cl_int hs = bn_row_shift(l, hw);
  cl_int nn = n, cc = c, hh = hw, affine = gamma.mem != NULL, dparams = dgamma.mem != NULL,
         acc = accumulate != 0, a = (cl_int)act;
  /* beta is read only by a fused activation (to recompute the pre-activation) */
  clgan_view g = affine ? gamma : x, b = affine && act ? beta : x;
  clgan_view dg = dparams ? dgamma : dx, db = dparams ? dbeta : dx;
  cl_ulong xo = x.off, dyo = dy.off, go = g.off, bo = b.off, smo = save_mean.off, sio = save_invstd.off,
           dxo = dx.off, dgo = dg.off, dbo = db.off;
  clgan_karg args[] = {CLGAN_KARG(nn),     CLGAN_KARG(cc),      CLGAN_KARG(hh),
                       CLGAN_KARG(x.mem),  CLGAN_KARG(xo),      CLGAN_KARG(dy.mem),
                       CLGAN_KARG(dyo),    CLGAN_KARG(affine),  CLGAN_KARG(g.mem),
                       CLGAN_KARG(go),     CLGAN_KARG(b.mem),   CLGAN_KARG(bo),
                       CLGAN_KARG(a),      CLGAN_KARG(slope),   CLGAN_KARG(save_mean.mem), CLGAN_KARG(smo),
                       CLGAN_KARG(save_invstd.mem), CLGAN_KARG(sio), CLGAN_KARG(dx.mem),
                       CLGAN_KARG(dxo),    CLGAN_KARG(dparams), CLGAN_KARG(dg.mem),
                       CLGAN_KARG(dgo),    CLGAN_KARG(db.mem),  CLGAN_KARG(dbo),
                       CLGAN_KARG(acc),    CLGAN_KARG(hs),      {2 * l * sizeof(cl_float), NULL}};
  char lname[40];
  int per = bn_lanes(ctx, "bn_backward", l, hw, hs, lname, sizeof lname);
  if (per) return bn_launch_lanes(ctx, lname, 26, args, c, per);
  if ((s = clgan_set_args(k, "bn_backward", 28, args))) return s;
  size_t global = l * (size_t)c;
  return clgan_launch(ctx, k, "bn_backward", 1, &global, &l);
}

/* ---- sync-bn: the training forward and the backward cut at their per-channel sums ---- */

clgan_status clgan_batchnorm_partial_stats(clgan_ctx *ctx, int n, int c, int hw, clgan_view x,
                                           clgan_view part) {
  const char *what = "batchnorm partial statistics";
  clgan_status s = bn_check(what, n, c, hw, x, part, CLGAN_NONE, CLGAN_NONE);
  if (s) return s;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "batchnorm", "bn_partial_stats", &k))) return s;
  size_t l = bn_group(ctx, k, n, c, hw, 1);
  cl_int hs = bn_row_shift(l, hw);
  cl_int nn = n, cc = c, hh = hw;
  cl_ulong xo = x.off, po = part.off;
  clgan_karg args[] = {CLGAN_KARG(nn),       CLGAN_KARG(cc), CLGAN_KARG(hh),
                       CLGAN_KARG(x.mem),    CLGAN_KARG(xo), CLGAN_KARG(part.mem),
                       CLGAN_KARG(po),       CLGAN_KARG(hs), {l * sizeof(cl_float), NULL}};
  if ((s = clgan_set_args(k, "bn_partial_stats", 9, args))) return s;
  size_t global = l * (size_t)c;
  return clgan_launch(ctx, k, "bn_partial_stats", 1, &global, &l);
}

clgan_status clgan_batchnorm_act_forward_apply(clgan_ctx *ctx, int n, int c, int hw,
                                               clgan_view x, clgan_view gamma, clgan_view beta,
                                               clgan_act act, float slope, clgan_view stats,
                                               float count, clgan_view y, clgan_view save_mean,
                                               clgan_view save_invstd, clgan_view running_mean,
                                               clgan_view running_var, float momentum,
                                               float eps) {
  const char *what = "batchnorm forward (apply synchronised statistics)";
  clgan_status s = bn_check(what, n, c, hw, x, y, gamma, beta);
  if (!s) s = bn_check_act(what, act);
  if (s) return s;
  if (!stats.mem || !save_mean.mem || !save_invstd.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: stats, save_mean and save_invstd are "
                       "required", what);
  if (!running_mean.mem != !running_var.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: running_mean and running_var must both be "
                       "given or both be CLGAN_NONE", what);
  if (!(count >= 2.0f))
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: expected more than 1 value per channel "
                       "when training (count %g)", what, (double)count);
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "batchnorm", "bn_forward_apply", &k))) return s;
  size_t l = bn_group(ctx, k, n, c, hw, 0);
  cl_int hs = bn_row_shift(l, hw);
  cl_int nn = n, cc = c, hh = hw, affine = gamma.mem != NULL, running = running_mean.mem != NULL;
  cl_int a = (cl_int)act;
  clgan_view g = affine ? gamma : x, b = affine ? beta : x;
  clgan_view rm = running ? running_mean : save_mean, rv = running ? running_var : save_invstd;
  cl_ulong xo = x.off, go = g.off, bo = b.off, sto = stats.off, yo = y.off, smo = save_mean.off,
           sio = save_invstd.off, rmo = rm.off, rvo = rv.off;
  clgan_karg args[] = {CLGAN_KARG(nn),         CLGAN_KARG(cc),       CLGAN_KARG(hh),
                       CLGAN_KARG(x.mem),      CLGAN_KARG(xo),       CLGAN_KARG(affine),
                       CLGAN_KARG(g.mem),      CLGAN_KARG(go),       CLGAN_KARG(b.mem),
                       CLGAN_KARG(bo),         CLGAN_KARG(stats.mem), CLGAN_KARG(sto),
                       CLGAN_KARG(count),      CLGAN_KARG(y.mem),    CLGAN_KARG(yo),
                       CLGAN_KARG(save_mean.mem), CLGAN_KARG(smo),   CLGAN_KARG(save_invstd.mem),
                       CLGAN_KARG(sio),        CLGAN_KARG(running),  CLGAN_KARG(rm.mem),
                       CLGAN_KARG(rmo),        CLGAN_KARG(rv.mem),   CLGAN_KARG(rvo),
                       CLGAN_KARG(momentum),   CLGAN_KARG(eps),      CLGAN_KARG(a),
                       CLGAN_KARG(slope),      CLGAN_KARG(hs)};
  if ((s = clgan_set_args(k, "bn_forward_apply", 29, args))) return s;
  size_t global = l * (size_t)c;
  return clgan_launch(ctx, k, "bn_forward_apply", 1, &global, &l);
}

clgan_status clgan_batchnorm_act_backward_partial(clgan_ctx *ctx, int n, int c, int hw,
                                                  clgan_view x, clgan_view dy, clgan_view gamma,
                                                  clgan_view beta, clgan_act act, float slope,
                                                  clgan_view save_mean, clgan_view save_invstd,
                                                  clgan_view dx, clgan_view part) {
  const char *what = "batchnorm backward (partial sums)";
  clgan_status s = bn_check(what, n, c, hw, x, dx, CLGAN_NONE, CLGAN_NONE);
  if (!s) s = bn_check_act(what, act);
  if (s) return s;
  if (act && !gamma.mem != !beta.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: gamma and beta must both be given or both "
                       "be CLGAN_NONE", what);
  if (!dy.mem || !save_mean.mem || !save_invstd.mem || !part.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: dy, save_mean, save_invstd and part are "
                       "required", what);
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "batchnorm", "bn_backward_partial", &k))) return s;
  size_t l = bn_group(ctx, k, n, c, hw, 2);
  cl_int hs = bn_row_shift(l, hw);
  cl_int nn = n, cc = c, hh = hw, affine = gamma.mem != NULL, a = (cl_int)act;
  clgan_view g = affine ? gamma : x, b = affine && act ? beta : x;
  cl_ulong xo = x.off, dyo = dy.off, go = g.off, bo = b.off, smo = save_mean.off,
           sio = save_invstd.off, dxo = dx.off, po = part.off;
  clgan_karg args[] = {CLGAN_KARG(nn),       CLGAN_KARG(cc),       CLGAN_KARG(hh),
                       CLGAN_KARG(x.mem),    CLGAN_KARG(xo),       CLGAN_KARG(dy.mem),
                       CLGAN_KARG(dyo),      CLGAN_KARG(affine),   CLGAN_KARG(g.mem),
                       CLGAN_KARG(go),       CLGAN_KARG(b.mem),    CLGAN_KARG(bo),
                       CLGAN_KARG(a),        CLGAN_KARG(slope),    CLGAN_KARG(save_mean.mem),
                       CLGAN_KARG(smo),      CLGAN_KARG(save_invstd.mem), CLGAN_KARG(sio),
                       CLGAN_KARG(dx.mem),   CLGAN_KARG(dxo),      CLGAN_KARG(part.mem),
                       CLGAN_KARG(po),       CLGAN_KARG(hs),       {2 * l * sizeof(cl_float), NULL}};
  if ((s = clgan_set_args(k, "bn_backward_partial", 24, args))) return s;
  size_t global = l * (size_t)c;
  return clgan_launch(ctx, k, "bn_backward_partial", 1, &global, &l);
}

clgan_status clgan_batchnorm_act_backward_apply(clgan_ctx *ctx, int n, int c, int hw,
                                                clgan_view x, clgan_view dy, clgan_view gamma,
                                                clgan_act act, clgan_view save_mean,
                                                clgan_view save_invstd, clgan_view part,
                                                clgan_view total, float count, clgan_view dx,
                                                clgan_view dgamma, clgan_view dbeta,
                                                int accumulate) {
  const char *what = "batchnorm backward (apply synchronised sums)";
  clgan_status s = bn_check(what, n, c, hw, x, dx, CLGAN_NONE, CLGAN_NONE);
  if (!s) s = bn_check_act(what, act);
  if (s) return s;
  if (!dy.mem || !save_mean.mem || !save_invstd.mem || !part.mem || !total.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: dy, saves, part and total are required",
                       what);
  if (!dgamma.mem != !dbeta.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: dgamma and dbeta must both be given or "
                       "both be CLGAN_NONE", what);
  if (!(count >= 1.0f))
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: count %g", what, (double)count);
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "batchnorm", "bn_backward_apply", &k))) return s;
  size_t l = bn_group(ctx, k, n, c, hw, 0);
  cl_int hs = bn_row_shift(l, hw);
  cl_int nn = n, cc = c, hh = hw, affine = gamma.mem != NULL, dparams = dgamma.mem != NULL,
         acc = accumulate != 0, a = (cl_int)act;
  clgan_view g = affine ? gamma : x;
  clgan_view dg = dparams ? dgamma : dx, db = dparams ? dbeta : dx;
  cl_ulong xo = x.off, dyo = dy.off, go = g.off, smo = save_mean.off, sio = save_invstd.off,
           po = part.off, to = total.off, dxo = dx.off, dgo = dg.off, dbo = db.off;
  clgan_karg args[] = {CLGAN_KARG(nn),        CLGAN_KARG(cc),       CLGAN_KARG(hh),
                       CLGAN_KARG(x.mem),     CLGAN_KARG(xo),       CLGAN_KARG(dy.mem),
                       CLGAN_KARG(dyo),       CLGAN_KARG(affine),   CLGAN_KARG(g.mem),
                       CLGAN_KARG(go),        CLGAN_KARG(a),        CLGAN_KARG(save_mean.mem),
                       CLGAN_KARG(smo),       CLGAN_KARG(save_invstd.mem), CLGAN_KARG(sio),
                       CLGAN_KARG(part.mem),  CLGAN_KARG(po),       CLGAN_KARG(total.mem),
                       CLGAN_KARG(to),        CLGAN_KARG(count),    CLGAN_KARG(dx.mem),
                       CLGAN_KARG(dxo),       CLGAN_KARG(dparams),  CLGAN_KARG(dg.mem),
                       CLGAN_KARG(dgo),       CLGAN_KARG(db.mem),   CLGAN_KARG(dbo),
                       CLGAN_KARG(acc),       CLGAN_KARG(hs)};
  if ((s = clgan_set_args(k, "bn_backward_apply", 29, args))) return s;
  size_t global = l * (size_t)c;
  return clgan_launch(ctx, k, "bn_backward_apply", 1, &global, &l);
}
