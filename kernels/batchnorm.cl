/* Batch norm over x (N, C, HW): training forward with running statistics, eval forward,
 * backward, each training kernel optionally fused with a following relu / leaky relu.
 * One work-group per channel reduces in local memory in a fixed order.
 * Launchers: src/ops/ops_batchnorm.c. Tests: tests/ops_nn/test_batchnorm.c, test_bn_act.c */

/* The pre-activation z. The fused activation (act as clgan_act: 1 relu, 2 leaky relu) is
 * z > 0 ? z : neg * z with neg = 0 or slope, its derivative's factor z > 0 ? 1 : neg: the
 * comparisons of kernels/activation.cl, as selects. The backward recomputes z with bn_z
 * from the same saved mean/invstd and parameters, so it takes the forward's branches. */
float bn_z(float v, float mean, float a, float b) { return (v - mean) * a + b; }

/* Walks channel ch's N*HW values with the group seen as (l >> hs) rows of (1 << hs) items:
 * row a takes samples a, a + rows, ..., item b of the row takes positions b, b + (1 << hs),
 * ... of each. hs is chosen by the launcher so that 1 << hs <= HW: neighbouring items read
 * neighbouring values (coalesced), and HW = 1 (batch norm after a dense layer) still spreads
 * the batch over the group. */
/* OpenCL C 1.2 has no variadic macros (POCL accepts them, NVIDIA's compiler refuses them):
 * the walk is a BEGIN/END pair around the body. tests/core/test_kernel_std.sh checks. */
#define BN_FOR_CHANNEL_BEGIN(idx)                                                  \
  for (int ni_ = lid >> hs; ni_ < n; ni_ += l >> hs) {                             \
    const ulong base_ = ((ulong)ni_ * (ulong)c + (ulong)ch) * (ulong)hw;          \
    for (int si_ = lid & ((1 << hs) - 1); si_ < hw; si_ += 1 << hs) {              \
      const ulong idx = base_ + (ulong)si_;
#define BN_FOR_CHANNEL_END }}

/* Two-pass mean and biased variance (robust to a large mean), then y = act(bn(x)).
 * has_affine = 0 means gamma = 1, beta = 0; has_running = 0 skips the running update.
 * scratch: 1 float/item. */
__kernel void bn_forward_train(const int n, const int c, const int hw, __global const float *x,
                               const ulong xo, const int has_affine,
                               __global const float *gamma, const ulong go,
                               __global const float *beta, const ulong bo, __global float *y,
                               const ulong yo, __global float *save_mean, const ulong smo,
                               __global float *save_invstd, const ulong sio,
                               const int has_running, __global float *run_mean,
                               const ulong rmo, __global float *run_var, const ulong rvo,
                               const float momentum, const float eps, const int act,
                               const float slope, const int hs, __local float *scratch) {
  const int ch = (int)get_group_id(0), lid = (int)get_local_id(0);
  const int l = (int)get_local_size(0);
  const float m = (float)n * (float)hw;
  float s = 0.0f;
  BN_FOR_CHANNEL_BEGIN(i) s += x[xo + i]; BN_FOR_CHANNEL_END
  const float mean = clgan_group_sum(scratch, s) / m;
  float q = 0.0f;
  BN_FOR_CHANNEL_BEGIN(i) {
    float d = x[xo + i] - mean;
    q += d * d;
  } BN_FOR_CHANNEL_END
  const float var = clgan_group_sum(scratch, q) / m;
  const float invstd = 1.0f / sqrt(var + eps);
  const float g = has_affine ? gamma[go + ch] : 1.0f, b = has_affine ? beta[bo + ch] : 0.0f;
  const float a = invstd * g;
  if (act == 0) {
    BN_FOR_CHANNEL_BEGIN(i) y[yo + i] = bn_z(x[xo + i], mean, a, b); BN_FOR_CHANNEL_END
  } else {
    const float neg = act == 1 ? 0.0f : slope;
    BN_FOR_CHANNEL_BEGIN(i) {
      float z = bn_z(x[xo + i], mean, a, b);
      y[yo + i] = z > 0.0f ? z : neg * z;
    } BN_FOR_CHANNEL_END
  }
  if (lid == 0) {
    save_mean[smo + ch] = mean;
    save_invstd[sio + ch] = invstd;
    if (has_running) {
      /* PyTorch keeps the unbiased variance; m >= 2 is checked by the launcher */
      run_mean[rmo + ch] = (1.0f - momentum) * run_mean[rmo + ch] + momentum * mean;
      run_var[rvo + ch] =
          (1.0f - momentum) * run_var[rvo + ch] + momentum * (var * (m / (m - 1.0f)));
    }
  }
}

__kernel void bn_forward_eval(const ulong total, const int c, const int hw,
                              __global const float *x, const ulong xo, const int has_affine,
                              __global const float *gamma, const ulong go,
                              __global const float *beta, const ulong bo,
                              __global const float *run_mean, const ulong rmo,
                              __global const float *run_var, const ulong rvo, const float eps,
                              __global float *y, const ulong yo) {
  size_t i = get_global_id(0);
  if (i >= total) return;
  int ch = (int)((i / (ulong)hw) % (ulong)c);
  float invstd = 1.0f / sqrt(run_var[rvo + ch] + eps);
  float g = has_affine ? gamma[go + ch] : 1.0f, b = has_affine ? beta[bo + ch] : 0.0f;
  y[yo + i] = (x[xo + i] - run_mean[rmo + ch]) * (invstd * g) + b;
}

/* dx = g*invstd/m * (m*dz - sum(dz) - xhat*sum(dz*xhat)); dgamma = sum(dz*xhat),
 * dbeta = sum(dz), where dz = dy * act'(z) (act 0: dz = dy; otherwise z is recomputed from
 * x, which needs beta, and the first pass parks dz in dx for the second). has_dparams = 0:
 * a frozen net needs dx only. dx may alias dy: each item rereads its own values before
 * writing them. scratch: 2 floats/item. */
__kernel void bn_backward(const int n, const int c, const int hw, __global const float *x,
                          const ulong xo, __global const float *dy, const ulong dyo,
                          const int has_affine, __global const float *gamma, const ulong go,
                          __global const float *beta, const ulong bo, const int act,
                          const float slope, __global const float *save_mean, const ulong smo,
                          __global const float *save_invstd, const ulong sio,
                          __global float *dx, const ulong dxo, const int has_dparams,
                          __global float *dgamma, const ulong dgo, __global float *dbeta,
                          const ulong dbo, const int accumulate, const int hs,
                          __local float *scratch) {
  const int ch = (int)get_group_id(0), lid = (int)get_local_id(0);
  const int l = (int)get_local_size(0);
  const float m = (float)n * (float)hw;
  const float mean = save_mean[smo + ch], invstd = save_invstd[sio + ch];
  const float g = has_affine ? gamma[go + ch] : 1.0f;
  const float a = invstd * g, b = has_affine && act != 0 ? beta[bo + ch] : 0.0f;
  float sdy = 0.0f, sdyx = 0.0f;
  if (act == 0) {
    BN_FOR_CHANNEL_BEGIN(i) {
      float d = dy[dyo + i];
      sdy += d;
      sdyx += d * (x[xo + i] - mean);
    } BN_FOR_CHANNEL_END
  } else {
    const float neg = act == 1 ? 0.0f : slope;
    BN_FOR_CHANNEL_BEGIN(i) {
      float v = x[xo + i], d = dy[dyo + i];
      d = bn_z(v, mean, a, b) > 0.0f ? d : neg * d;
      dx[dxo + i] = d;
      sdy += d;
      sdyx += d * (v - mean);
    } BN_FOR_CHANNEL_END
  }
  const float2 r = clgan_group_sum2(scratch, sdy, sdyx);
  const float sum_dy = r.x, sum_dyxhat = r.y * invstd;
  const float k = g * invstd / m, kx = sum_dyxhat * invstd;
  /* dz: dy itself, or what the first pass left in dx */
  __global const float *dz = act == 0 ? dy : (__global const float *)dx;
  const ulong dzo = act == 0 ? dyo : dxo;
  BN_FOR_CHANNEL_BEGIN(i) {
    float xc = x[xo + i] - mean;
    dx[dxo + i] = k * ((m * dz[dzo + i] - sum_dy) - xc * kx);
  } BN_FOR_CHANNEL_END
  if (lid == 0 && has_dparams) {
    dgamma[dgo + ch] = (accumulate ? dgamma[dgo + ch] : 0.0f) + sum_dyxhat;
    dbeta[dbo + ch] = (accumulate ? dbeta[dbo + ch] : 0.0f) + sum_dy;
  }
}

/* ---- batch norm with its statistics summed across data-parallel replicas (sync-bn) ----
 * Each kernel of a pair does one replica's part; the host sums the partials across the
 * replicas in between (src/nets/net.c, tools/dist.c). The same per-channel walk and group
 * sums as above. Tests: tests/ops_nn/test_bn_sync.c */

/* part (2C): this replica's sum of x and its sum of squared deviations from its own mean
 * (two passes, as bn_forward_train), per channel. scratch: 1 float/item. */
__kernel void bn_partial_stats(const int n, const int c, const int hw, __global const float *x,
                               const ulong xo, __global float *part, const ulong po,
                               const int hs, __local float *scratch) {
  const int ch = (int)get_group_id(0), lid = (int)get_local_id(0);
  const int l = (int)get_local_size(0);
  const float m = (float)n * (float)hw;
  float s = 0.0f;
  BN_FOR_CHANNEL_BEGIN(i) s += x[xo + i]; BN_FOR_CHANNEL_END
  const float sum = clgan_group_sum(scratch, s);
  const float mean = sum / m;
  float q = 0.0f;
  BN_FOR_CHANNEL_BEGIN(i) {
    float d = x[xo + i] - mean;
    q += d * d;
  } BN_FOR_CHANNEL_END
  const float m2 = clgan_group_sum(scratch, q);
  if (lid == 0) {
    part[po + ch] = sum;
    part[po + c + ch] = m2;
  }
}

/* y = act(bn(x)) with the whole batch's mean and biased variance (stats: mean (C) then var
 * (C)) over `count` values per channel; saves and the running update as bn_forward_train. */
__kernel void bn_forward_apply(const int n, const int c, const int hw, __global const float *x,
                               const ulong xo, const int has_affine,
                               __global const float *gamma, const ulong go,
                               __global const float *beta, const ulong bo,
                               __global const float *stats, const ulong sto, const float count,
                               __global float *y, const ulong yo, __global float *save_mean,
                               const ulong smo, __global float *save_invstd, const ulong sio,
                               const int has_running, __global float *run_mean,
                               const ulong rmo, __global float *run_var, const ulong rvo,
                               const float momentum, const float eps, const int act,
                               const float slope, const int hs) {
  const int ch = (int)get_group_id(0), lid = (int)get_local_id(0);
  const int l = (int)get_local_size(0);
  const float mean = stats[sto + ch], var = stats[sto + c + ch];
  const float invstd = 1.0f / sqrt(var + eps);
  const float g = has_affine ? gamma[go + ch] : 1.0f, b = has_affine ? beta[bo + ch] : 0.0f;
  const float a = invstd * g;
  const float neg = act == 1 ? 0.0f : slope;
  BN_FOR_CHANNEL_BEGIN(i) {
    float z = bn_z(x[xo + i], mean, a, b);
    y[yo + i] = act == 0 || z > 0.0f ? z : neg * z;
  } BN_FOR_CHANNEL_END
  if (lid == 0) {
    save_mean[smo + ch] = mean;
    save_invstd[sio + ch] = invstd;
    if (has_running) {
      run_mean[rmo + ch] = (1.0f - momentum) * run_mean[rmo + ch] + momentum * mean;
      run_var[rvo + ch] =
          (1.0f - momentum) * run_var[rvo + ch] + momentum * (var * (count / (count - 1.0f)));
    }
  }
}

/* part (2C): this replica's sum(dz) and sum(dz * (x - mean)), dz = dy * act'(z) (parked in
 * dx when act != 0, for bn_backward_apply). scratch: 2 floats/item. */
__kernel void bn_backward_partial(const int n, const int c, const int hw,
                                  __global const float *x, const ulong xo,
                                  __global const float *dy, const ulong dyo,
                                  const int has_affine, __global const float *gamma,
                                  const ulong go, __global const float *beta, const ulong bo,
                                  const int act, const float slope,
                                  __global const float *save_mean, const ulong smo,
                                  __global const float *save_invstd, const ulong sio,
                                  __global float *dx, const ulong dxo, __global float *part,
                                  const ulong po, const int hs, __local float *scratch) {
  const int ch = (int)get_group_id(0), lid = (int)get_local_id(0);
  const int l = (int)get_local_size(0);
  const float mean = save_mean[smo + ch], invstd = save_invstd[sio + ch];
  const float g = has_affine ? gamma[go + ch] : 1.0f;
  const float a = invstd * g, b = has_affine && act != 0 ? beta[bo + ch] : 0.0f;
  const float neg = act == 1 ? 0.0f : slope;
  float sdy = 0.0f, sdyx = 0.0f;
  BN_FOR_CHANNEL_BEGIN(i) {
    float v = x[xo + i], d = dy[dyo + i];
    if (act != 0) {
      d = bn_z(v, mean, a, b) > 0.0f ? d : neg * d;
      dx[dxo + i] = d;
    }
    sdy += d;
    sdyx += d * (v - mean);
  } BN_FOR_CHANNEL_END
  const float2 r = clgan_group_sum2(scratch, sdy, sdyx);
  if (lid == 0) {
    part[po + ch] = r.x;
    part[po + c + ch] = r.y;
  }
}

/* dx from the sums over the whole batch (total: sum dz (C) then sum dz*(x-mean) (C), over
 * `count` values per channel); dgamma/dbeta get this replica's own part (part), which the
 * gradient reduction then sums across replicas. */
__kernel void bn_backward_apply(const int n, const int c, const int hw, __global const float *x,
                                const ulong xo, __global const float *dy, const ulong dyo,
                                const int has_affine, __global const float *gamma,
                                const ulong go, const int act,
                                __global const float *save_mean, const ulong smo,
                                __global const float *save_invstd, const ulong sio,
                                __global const float *part, const ulong po,
                                __global const float *total, const ulong to, const float count,
                                __global float *dx, const ulong dxo, const int has_dparams,
                                __global float *dgamma, const ulong dgo, __global float *dbeta,
                                const ulong dbo, const int accumulate, const int hs) {
  const int ch = (int)get_group_id(0), lid = (int)get_local_id(0);
  const int l = (int)get_local_size(0);
  const float mean = save_mean[smo + ch], invstd = save_invstd[sio + ch];
  const float g = has_affine ? gamma[go + ch] : 1.0f;
  const float sum_dy = total[to + ch], sum_dyxhat = total[to + c + ch] * invstd;
  const float k = g * invstd / count, kx = sum_dyxhat * invstd;
  __global const float *dz = act == 0 ? dy : (__global const float *)dx;
  const ulong dzo = act == 0 ? dyo : dxo;
  BN_FOR_CHANNEL_BEGIN(i) {
    float xc = x[xo + i] - mean;
    dx[dxo + i] = k * ((count * dz[dzo + i] - sum_dy) - xc * kx);
  } BN_FOR_CHANNEL_END
  if (lid == 0 && has_dparams) {
    dgamma[dgo + ch] = (accumulate ? dgamma[dgo + ch] : 0.0f) + part[po + c + ch] * invstd;
    dbeta[dbo + ch] = (accumulate ? dbeta[dbo + ch] : 0.0f) + part[po + ch];
  }
}

/* ---- the "lanes" form of bn_forward_train and bn_backward, for CPU devices ----
 * On a CPU (POCL) a group's items run one after another on one core, so the group form's
 * per-item sums (an item per lane of the reduction, at most a few items a group there) are
 * scalar loops reading every l-th value. Here one work-item does a whole channel with L
 * lanes in a float-L vector: lane j holds exactly the sum item j of an L-item group form
 * accumulates (positions j, j + L, ... of each sample, samples in order; the launcher uses
 * this form only where the group form has its L items in one row, 1 << hs == L <= HW), and
 * the lanes are folded in clgan_group_sum's tree order. Where L does not divide HW, the last
 * HW % L positions of a sample go to lanes 0.. as in the group form; the other lanes add an
 * exact zero there (x + 0 == x: a lane's sum starts at +0 and can never become -0). Same
 * operations in the same order, so the results are bit-identical to the group form's, and
 * the loops are vector loads and adds.
 * (The training forward takes two channels a work-item, each as described: below.)
 * Launcher: src/ops/ops_batchnorm.c (bn_lanes). Test: tests/ops_nn/test_bn_lanes.c */
float bn_fold2(float2 v) { return v.x + v.y; }
float bn_fold4(float4 v) { return bn_fold2(v.lo + v.hi); }
float bn_fold8(float8 v) { return bn_fold4(v.lo + v.hi); }
float bn_fold16(float16 v) { return bn_fold8(v.lo + v.hi); }

/* Per sample of channel ch: `row` is the sample's first value, `si` runs over its full runs
 * of L values; after the loop, si < hw means a tail of hw - si values. */
#define BN_SAMPLES_BEGIN                                                           \
  for (int ni_ = 0; ni_ < n; ni_++) {                                              \
    const ulong row = ((ulong)ni_ * (ulong)c + (ulong)ch) * (ulong)hw;             \
    int si = 0;
#define BN_SAMPLES_END }

/* Vector loads and stores of L floats (L = 1: a scalar), for the macros below. */
#define BN_LD1(p) ((p)[0])
#define BN_LD2(p) vload2(0, p)
#define BN_LD4(p) vload4(0, p)
#define BN_LD8(p) vload8(0, p)
#define BN_LD16(p) vload16(0, p)
#define BN_ST1(v, p) ((p)[0] = (v))
#define BN_ST2(v, p) vstore2(v, 0, p)
#define BN_ST4(v, p) vstore4(v, 0, p)
#define BN_ST8(v, p) vstore8(v, 0, p)
#define BN_ST16(v, p) vstore16(v, 0, p)
float bn_fold1(float v) { return v; }

/* The training forward's output pass for channel ch (mean, a, b, neg, var, invstd, m set), L
 * values a step, then its saved and running statistics: the lanes kernels' (two channels a
 * work-item, and the 32- and 64-lane ones 16 a step). */
#define BN_FWD_OUTPUT(L, T)                                                                    \
  BN_SAMPLES_BEGIN                                                                             \
    if (act == 0) {                                                                            \
      for (; si + L <= hw; si += L)                                                            \
        BN_ST##L((BN_LD##L(xc + row + si) - mean) * a + b, yc + row + si);                     \
      for (; si < hw; si++) yc[row + si] = bn_z(xc[row + si], mean, a, b);                     \
    } else {                                                                                   \
      for (; si + L <= hw; si += L) {                                                          \
        T z = (BN_LD##L(xc + row + si) - mean) * a + b;                                        \
        BN_ST##L(select(neg * z, z, z > 0.0f), yc + row + si);                                 \
      }                                                                                        \
      for (; si < hw; si++) {                                                                  \
        float z = bn_z(xc[row + si], mean, a, b);                                              \
        yc[row + si] = z > 0.0f ? z : neg * z;                                                 \
      }                                                                                        \
    }                                                                                          \
  BN_SAMPLES_END                                                                               \
  save_mean[smo + ch] = mean;                                                                  \
  save_invstd[sio + ch] = invstd;                                                              \
  if (has_running) {                                                                           \
    run_mean[rmo + ch] = (1.0f - momentum) * run_mean[rmo + ch] + momentum * mean;             \
    run_var[rvo + ch] =                                                                        \
        (1.0f - momentum) * run_var[rvo + ch] + momentum * (var * (m / (m - 1.0f)));           \
  }

/* dst = a float-L vector whose lane j < r is EXPR (which may use j), the others 0. */
#define BN_TAIL_VEC(L, dst, r, EXPR)                                               \
  {                                                                                \
    float t_[L];                                                                   \
    for (int j = 0; j < L; j++) t_[j] = j < (r) ? (EXPR) : 0.0f;                   \
    dst = BN_LD##L(t_);                                                            \
  }

/* The training forward, two channels a work-item (bn_forward_train_lanes<L>x2, L = 1..16):
 * the sums are chains of vector adds, one per channel, so a core waits an add's latency per
 * vector; here two channels' chains run in the same loop, each lane exactly as above (L = 1:
 * as the group form with one item), so the two overlap; the output pass then runs channel
 * by channel. Item g takes channels 2g and 2g + 1 (an odd C's last item: channel C - 1,
 * computed twice, written once). The backward measured no faster so (docs/PERFORMANCE.md)
 * and keeps one channel a work-item. */

/* Both channels' rows of sample ni_: r0 (channel c0), r1 (channel c1). */
#define BN_PAIR_BEGIN                                                              \
  for (int ni_ = 0; ni_ < n; ni_++) {                                              \
    const ulong r0 = ((ulong)ni_ * (ulong)c + (ulong)c0) * (ulong)hw;              \
    const ulong r1 = ((ulong)ni_ * (ulong)c + (ulong)c1) * (ulong)hw;              \
    int si = 0;
#define BN_PAIR_END }

#define BN_FORWARD_PAIR(L, T)                                                                  \
  __kernel void bn_forward_train_lanes##L##x2(                                                 \
      const int n, const int c, const int hw, __global const float *x, const ulong xo,         \
      const int has_affine, __global const float *gamma, const ulong go,                       \
      __global const float *beta, const ulong bo, __global float *y, const ulong yo,           \
      __global float *save_mean, const ulong smo, __global float *save_invstd,                 \
      const ulong sio, const int has_running, __global float *run_mean, const ulong rmo,       \
      __global float *run_var, const ulong rvo, const float momentum, const float eps,         \
      const int act, const float slope) {                                                      \
    const int c0 = (int)get_global_id(0) * 2;                                                  \
    if (c0 >= c) return;                                                                       \
    const int c1 = min(c0 + 1, c - 1);                                                         \
    const float m = (float)n * (float)hw;                                                      \
    __global const float *xc = x + xo;                                                         \
    T s0 = (T)(0.0f), s1 = (T)(0.0f), q0 = (T)(0.0f), q1 = (T)(0.0f);                          \
    BN_PAIR_BEGIN                                                                              \
      for (; si + L <= hw; si += L) {                                                          \
        s0 += BN_LD##L(xc + r0 + si);                                                          \
        s1 += BN_LD##L(xc + r1 + si);                                                          \
      }                                                                                        \
      if (si < hw) {                                                                           \
        T t;                                                                                   \
        BN_TAIL_VEC(L, t, hw - si, xc[r0 + si + j])                                            \
        s0 += t;                                                                               \
        BN_TAIL_VEC(L, t, hw - si, xc[r1 + si + j])                                            \
        s1 += t;                                                                               \
      }                                                                                        \
    BN_PAIR_END                                                                                \
    const float mean0 = bn_fold##L(s0) / m, mean1 = bn_fold##L(s1) / m;                        \
    BN_PAIR_BEGIN                                                                              \
      for (; si + L <= hw; si += L) {                                                          \
        T d0 = BN_LD##L(xc + r0 + si) - mean0, d1 = BN_LD##L(xc + r1 + si) - mean1;            \
        q0 += d0 * d0;                                                                         \
        q1 += d1 * d1;                                                                         \
      }                                                                                        \
      if (si < hw) {                                                                           \
        T d;                                                                                   \
        BN_TAIL_VEC(L, d, hw - si, xc[r0 + si + j] - mean0)                                    \
        q0 += d * d;                                                                           \
        BN_TAIL_VEC(L, d, hw - si, xc[r1 + si + j] - mean1)                                    \
        q1 += d * d;                                                                           \
      }                                                                                        \
    BN_PAIR_END                                                                                \
    const float neg = act == 1 ? 0.0f : slope;                                                 \
    __global float *yc = y + yo;                                                               \
    for (int h = 0; h < 2 && (h == 0 || c1 != c0); h++) {                                      \
      const int ch = h ? c1 : c0;                                                              \
      const float mean = h ? mean1 : mean0;                                                    \
      const float var = bn_fold##L(h ? q1 : q0) / m;                                           \
      const float invstd = 1.0f / sqrt(var + eps);                                             \
      const float g = has_affine ? gamma[go + ch] : 1.0f;                                      \
      const float b = has_affine ? beta[bo + ch] : 0.0f;                                       \
      const float a = invstd * g;                                                              \
      BN_FWD_OUTPUT(L, T)                                                                      \
    }                                                                                          \
  }

BN_FORWARD_PAIR(1, float)
BN_FORWARD_PAIR(2, float2)
BN_FORWARD_PAIR(4, float4)
BN_FORWARD_PAIR(8, float8)
BN_FORWARD_PAIR(16, float16)

/* dx may alias dy, as in bn_backward: every value is read before its own position is
 * written, and by the same work-item. */
#define BN_BACKWARD_LANES(L, T)                                                                \
  __kernel void bn_backward_lanes##L(                                                          \
      const int n, const int c, const int hw, __global const float *x, const ulong xo,         \
      __global const float *dy, const ulong dyo, const int has_affine,                         \
      __global const float *gamma, const ulong go, __global const float *beta, const ulong bo, \
      const int act, const float slope, __global const float *save_mean, const ulong smo,      \
      __global const float *save_invstd, const ulong sio, __global float *dx, const ulong dxo, \
      const int has_dparams, __global float *dgamma, const ulong dgo, __global float *dbeta,   \
      const ulong dbo, const int accumulate) {                                                 \
    const int ch = (int)get_global_id(0);                                                      \
    if (ch >= c) return;                                                                       \
    const float m = (float)n * (float)hw;                                                      \
    const float mean = save_mean[smo + ch], invstd = save_invstd[sio + ch];                    \
    const float g = has_affine ? gamma[go + ch] : 1.0f;                                        \
    const float a = invstd * g, b = has_affine && act != 0 ? beta[bo + ch] : 0.0f;             \
    const float neg = act == 1 ? 0.0f : slope;                                                 \
    __global const float *xc = x + xo, *dyc = dy + dyo;                                        \
    __global float *dxc = dx + dxo;                                                            \
    T sdy = (T)(0.0f), sdyx = (T)(0.0f);                                                       \
    BN_SAMPLES_BEGIN                                                                           \
      if (act == 0) {                                                                          \
        for (; si + L <= hw; si += L) {                                                        \
          T d = vload##L(0, dyc + row + si);                                                   \
          sdy += d;                                                                            \
          sdyx += d * (vload##L(0, xc + row + si) - mean);                                     \
        }                                                                                      \
      } else {                                                                                 \
        for (; si + L <= hw; si += L) {                                                        \
          T v = vload##L(0, xc + row + si), d = vload##L(0, dyc + row + si);                   \
          d = select(neg * d, d, (v - mean) * a + b > 0.0f);                                   \
          vstore##L(d, 0, dxc + row + si);                                                     \
          sdy += d;                                                                            \
          sdyx += d * (v - mean);                                                              \
        }                                                                                      \
      }                                                                                        \
      if (si < hw) {                                                                           \
        /* dz (written to dx first when act != 0) and x - mean, lanes past the tail 0 */       \
        float td[L], tx[L];                                                                    \
        for (int j = 0; j < L; j++) {                                                          \
          td[j] = 0.0f;                                                                        \
          tx[j] = 0.0f;                                                                        \
          if (si + j < hw) {                                                                   \
            float v = xc[row + si + j], d = dyc[row + si + j];                                 \
            if (act != 0) {                                                                    \
              d = bn_z(v, mean, a, b) > 0.0f ? d : neg * d;                                    \
              dxc[row + si + j] = d;                                                           \
            }                                                                                  \
            td[j] = d;                                                                         \
            tx[j] = v - mean;                                                                  \
          }                                                                                    \
        }                                                                                      \
        T d = vload##L(0, td);                                                                 \
        sdy += d;                                                                              \
        sdyx += d * vload##L(0, tx);                                                           \
      }                                                                                        \
    BN_SAMPLES_END                                                                             \
    const float sum_dy = bn_fold##L(sdy), sum_dyxhat = bn_fold##L(sdyx) * invstd;              \
    const float k = g * invstd / m, kx = sum_dyxhat * invstd;                                  \
    __global const float *dz = act == 0 ? dyc : (__global const float *)dxc;                   \
    BN_SAMPLES_BEGIN                                                                           \
      for (; si + L <= hw; si += L) {                                                          \
        T xm = vload##L(0, xc + row + si) - mean;                                              \
        vstore##L(k * ((m * vload##L(0, dz + row + si) - sum_dy) - xm * kx), 0,               \
                  dxc + row + si);                                                             \
      }                                                                                        \
      for (; si < hw; si++) {                                                                  \
        float xm = xc[row + si] - mean;                                                        \
        dxc[row + si] = k * ((m * dz[row + si] - sum_dy) - xm * kx);                           \
      }                                                                                        \
    BN_SAMPLES_END                                                                             \
    if (has_dparams) {                                                                         \
      dgamma[dgo + ch] = (accumulate ? dgamma[dgo + ch] : 0.0f) + sum_dyxhat;                  \
      dbeta[dbo + ch] = (accumulate ? dbeta[dbo + ch] : 0.0f) + sum_dy;                        \
    }                                                                                          \
  }

/* 32 and 64 lanes (CPUs with more cores get more items a group, about 256 x cores / C):
 * K = L / 16 float16 chunks per sum, lane j in chunk j / 16. bn_fold_chunks folds them in
 * clgan_group_sum's order: a[i] += a[i + h] for h = L/2 .. 16 is chunk u += chunk u + h/16,
 * then chunk 0 as bn_fold16. */
float bn_fold_chunks(float16 *a, int k) {
  for (int h = k / 2; h > 0; h /= 2)
    for (int u = 0; u < h; u++) a[u] += a[u + h];
  return bn_fold16(a[0]);
}

#define BN_FORWARD_LANES_WIDE(L, K)                                                            \
  __kernel void bn_forward_train_lanes##L(                                                     \
      const int n, const int c, const int hw, __global const float *x, const ulong xo,         \
      const int has_affine, __global const float *gamma, const ulong go,                       \
      __global const float *beta, const ulong bo, __global float *y, const ulong yo,           \
      __global float *save_mean, const ulong smo, __global float *save_invstd,                 \
      const ulong sio, const int has_running, __global float *run_mean, const ulong rmo,       \
      __global float *run_var, const ulong rvo, const float momentum, const float eps,         \
      const int act, const float slope) {                                                      \
    const int ch = (int)get_global_id(0);                                                      \
    if (ch >= c) return;                                                                       \
    const float m = (float)n * (float)hw;                                                      \
    __global const float *xc = x + xo;                                                         \
    float16 s[K], q[K];                                                                        \
    for (int u = 0; u < K; u++) s[u] = q[u] = (float16)(0.0f);                                 \
    BN_SAMPLES_BEGIN                                                                           \
      for (; si + L <= hw; si += L)                                                            \
        for (int u = 0; u < K; u++) s[u] += vload16(0, xc + row + si + 16 * u);                \
      if (si < hw) {                                                                           \
        float t_[L];                                                                           \
        for (int j = 0; j < L; j++) t_[j] = si + j < hw ? xc[row + si + j] : 0.0f;             \
        for (int u = 0; u < K; u++) s[u] += vload16(u, t_);                                    \
      }                                                                                        \
    BN_SAMPLES_END                                                                             \
    const float mean = bn_fold_chunks(s, K) / m;                                               \
    BN_SAMPLES_BEGIN                                                                           \
      for (; si + L <= hw; si += L)                                                            \
        for (int u = 0; u < K; u++) {                                                          \
          float16 d = vload16(0, xc + row + si + 16 * u) - mean;                               \
          q[u] += d * d;                                                                       \
        }                                                                                      \
      if (si < hw) {                                                                           \
        float t_[L];                                                                           \
        for (int j = 0; j < L; j++) t_[j] = si + j < hw ? xc[row + si + j] - mean : 0.0f;      \
        for (int u = 0; u < K; u++) {                                                          \
          float16 d = vload16(u, t_);                                                          \
          q[u] += d * d;                                                                       \
        }                                                                                      \
      }                                                                                        \
    BN_SAMPLES_END                                                                             \
    const float var = bn_fold_chunks(q, K) / m;                                                \
    const float invstd = 1.0f / sqrt(var + eps);                                               \
    const float g = has_affine ? gamma[go + ch] : 1.0f, b = has_affine ? beta[bo + ch] : 0.0f; \
    const float a = invstd * g;                                                                \
    const float neg = act == 1 ? 0.0f : slope;                                                 \
    __global float *yc = y + yo;                                                               \
    BN_FWD_OUTPUT(16, float16)                                                                 \
  }

#define BN_BACKWARD_LANES_WIDE(L, K)                                                           \
  __kernel void bn_backward_lanes##L(                                                          \
      const int n, const int c, const int hw, __global const float *x, const ulong xo,         \
      __global const float *dy, const ulong dyo, const int has_affine,                         \
      __global const float *gamma, const ulong go, __global const float *beta, const ulong bo, \
      const int act, const float slope, __global const float *save_mean, const ulong smo,      \
      __global const float *save_invstd, const ulong sio, __global float *dx, const ulong dxo, \
      const int has_dparams, __global float *dgamma, const ulong dgo, __global float *dbeta,   \
      const ulong dbo, const int accumulate) {                                                 \
    const int ch = (int)get_global_id(0);                                                      \
    if (ch >= c) return;                                                                       \
    const float m = (float)n * (float)hw;                                                      \
    const float mean = save_mean[smo + ch], invstd = save_invstd[sio + ch];                    \
    const float g = has_affine ? gamma[go + ch] : 1.0f;                                        \
    const float a = invstd * g, b = has_affine && act != 0 ? beta[bo + ch] : 0.0f;             \
    const float neg = act == 1 ? 0.0f : slope;                                                 \
    __global const float *xc = x + xo, *dyc = dy + dyo;                                        \
    __global float *dxc = dx + dxo;                                                            \
    float16 sdy[K], sdyx[K];                                                                   \
    for (int u = 0; u < K; u++) sdy[u] = sdyx[u] = (float16)(0.0f);                            \
    BN_SAMPLES_BEGIN                                                                           \
      for (; si + L <= hw; si += L)                                                            \
        for (int u = 0; u < K; u++) {                                                          \
          const ulong o = row + (ulong)(si + 16 * u);                                          \
          float16 v = vload16(0, xc + o), d = vload16(0, dyc + o);                             \
          if (act != 0) {                                                                      \
            d = select(neg * d, d, (v - mean) * a + b > 0.0f);                                 \
            vstore16(d, 0, dxc + o);                                                           \
          }                                                                                    \
          sdy[u] += d;                                                                         \
          sdyx[u] += d * (v - mean);                                                           \
        }                                                                                      \
      if (si < hw) {                                                                           \
        float td[L], tx[L];                                                                    \
        for (int j = 0; j < L; j++) {                                                          \
          td[j] = 0.0f;                                                                        \
          tx[j] = 0.0f;                                                                        \
          if (si + j < hw) {                                                                   \
            float v = xc[row + si + j], d = dyc[row + si + j];                                 \
            if (act != 0) {                                                                    \
              d = bn_z(v, mean, a, b) > 0.0f ? d : neg * d;                                    \
              dxc[row + si + j] = d;                                                           \
            }                                                                                  \
            td[j] = d;                                                                         \
            tx[j] = v - mean;                                                                  \
          }                                                                                    \
        }                                                                                      \
        for (int u = 0; u < K; u++) {                                                          \
          float16 d = vload16(u, td);                                                          \
          sdy[u] += d;                                                                         \
          sdyx[u] += d * vload16(u, tx);                                                       \
        }                                                                                      \
      }                                                                                        \
    BN_SAMPLES_END                                                                             \
    const float sum_dy = bn_fold_chunks(sdy, K);                                               \
    const float sum_dyxhat = bn_fold_chunks(sdyx, K) * invstd;                                 \
    const float k = g * invstd / m, kx = sum_dyxhat * invstd;                                  \
    __global const float *dz = act == 0 ? dyc : (__global const float *)dxc;                   \
    BN_SAMPLES_BEGIN                                                                           \
      for (; si + 16 <= hw; si += 16) {                                                        \
        float16 xm = vload16(0, xc + row + si) - mean;                                         \
        vstore16(k * ((m * vload16(0, dz + row + si) - sum_dy) - xm * kx), 0, dxc + row + si); \
      }                                                                                        \
      for (; si < hw; si++) {                                                                  \
        float xm = xc[row + si] - mean;                                                        \
        dxc[row + si] = k * ((m * dz[row + si] - sum_dy) - xm * kx);                           \
      }                                                                                        \
    BN_SAMPLES_END                                                                             \
    if (has_dparams) {                                                                         \
      dgamma[dgo + ch] = (accumulate ? dgamma[dgo + ch] : 0.0f) + sum_dyxhat;                  \
      dbeta[dbo + ch] = (accumulate ? dbeta[dbo + ch] : 0.0f) + sum_dy;                        \
    }                                                                                          \
  }

BN_BACKWARD_LANES(2, float2)
BN_BACKWARD_LANES(4, float4)
BN_BACKWARD_LANES(8, float8)
BN_BACKWARD_LANES(16, float16)
BN_FORWARD_LANES_WIDE(32, 2)
BN_FORWARD_LANES_WIDE(64, 4)
BN_BACKWARD_LANES_WIDE(32, 2)
BN_BACKWARD_LANES_WIDE(64, 4)
