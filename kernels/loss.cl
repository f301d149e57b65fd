/* GAN losses from logits: mean loss, mean sigmoid and dloss/dlogit in one work-group.
 * Launcher: src/ops/ops_loss.c. Tests: tests/ops_nn/test_loss.c */

/* log(1 + e^-|x|): the stable tail shared by BCE and softplus */
static float log1p_exp_neg_abs(float x) { return log1p(exp(-fabs(x))); }

/* sigmoid(-|x|) = e^-|x| / (1 + e^-|x|): the small side, accurate to a few ulp */
static float sigmoid_small(float x) {
  float e = exp(-fabs(x));
  return e / (1.0f + e);
}

/* kind as clgan_loss: 0 bce, 1 minimax G, 2 squared, 3 hinge, 4 linear */
static float loss_value(int kind, float t, float x) {
  switch (kind) {
  case 0: return fmax(x, 0.0f) - x * t + log1p_exp_neg_abs(x);
  case 1: return -(fmax(x, 0.0f) + log1p_exp_neg_abs(x));
  case 2: return 0.5f * (x - t) * (x - t);
  case 3: return fmax(1.0f - t * x, 0.0f);
  default: return -t * x;
  }
}

/* sm = sigmoid(-|x|). sigmoid(x) - t is formed from the small side so that t = 1 with a
 * confident D (sigmoid near 1) does not lose its digits to cancellation. */
static float loss_grad(int kind, float t, float x, float sm) {
  switch (kind) {
  case 0: return x >= 0.0f ? (1.0f - t) - sm : sm - t;
  case 1: return x >= 0.0f ? sm - 1.0f : -sm;
  case 2: return x - t;
  case 3: return 1.0f - t * x > 0.0f ? -t : 0.0f;
  default: return -t;
  }
}

/* One work-group; scratch holds 2 floats per item. Fixed summation order (strided per
 * item, then clgan_group_sum2's tree), so repeated calls give the same bits.
 * gscale = scale / n. */
__kernel void loss_fwd_bwd(const int n, const int kind, const float t, const float gscale,
                           __global const float *x, const ulong xo, __global float *out2,
                           const ulong oo, const int has_grad, __global float *dx,
                           const ulong dxo, __local float *scratch) {
  int lid = (int)get_local_id(0), l = (int)get_local_size(0);
  float sl = 0.0f, sp = 0.0f;
  for (int i = lid; i < n; i += l) {
    float v = x[xo + i];
    float sm = sigmoid_small(v);
    sl += loss_value(kind, t, v);
    sp += v >= 0.0f ? 1.0f - sm : sm;
    if (has_grad) dx[dxo + i] = gscale * loss_grad(kind, t, v, sm);
  }
  float2 r = clgan_group_sum2(scratch, sl, sp);
  if (lid == 0) {
    out2[oo] = r.x / (float)n;
    out2[oo + 1] = r.y / (float)n;
  }
}

/* Softmax cross-entropy of n rows of k logits against int32 labels, in one work-group
 * (launcher: clgan_softmax_xent in src/ops/ops_loss.c). Each item takes whole rows
 * (strided), each row is max-subtracted: loss_i = log(sum_j e^(x_ij - m_i)) - (x_iy - m_i),
 * dx_ij = gscale * (softmax_ij - [j == y_i]). out2[0] = mean loss, out2[1] = accuracy (the
 * first largest logit is the prediction). A label outside 0..k-1 makes that row's loss NaN
 * (and its gradient the softmax alone). Fixed summation order: the same bits every call. */
__kernel void softmax_xent(const int n, const int k, const float gscale,
                           __global const float *x, const ulong xo,
                           __global const int *labels, const ulong lo,
                           __global float *out2, const ulong oo, const int has_grad,
                           __global float *dx, const ulong dxo, __local float *scratch) {
  int lid = (int)get_local_id(0), l = (int)get_local_size(0);
  float sl = 0.0f, sc = 0.0f;
  for (int i = lid; i < n; i += l) {
    __global const float *r = x + xo + (ulong)i * (ulong)k;
    int y = labels[lo + i];
    float m = r[0];
    int arg = 0;
    for (int j = 1; j < k; j++)
      if (r[j] > m) m = r[j], arg = j;
    float s = 0.0f;
    for (int j = 0; j < k; j++) s += exp(r[j] - m);
    int ok = y >= 0 && y < k;
    sl += ok ? log(s) - (r[ok ? y : 0] - m) : NAN;
    sc += arg == y ? 1.0f : 0.0f;
    if (has_grad) {
      float inv = 1.0f / s;
      __global float *d = dx + dxo + (ulong)i * (ulong)k;
      for (int j = 0; j < k; j++)
        d[j] = gscale * (exp(r[j] - m) * inv - (j == y ? 1.0f : 0.0f));
    }
  }
  float2 t = clgan_group_sum2(scratch, sl, sc);
  if (lid == 0) {
    out2[oo] = t.x / (float)n;
    out2[oo + 1] = t.y / (float)n;
  }
}

/* Content loss of an output a against its target b, n values, in one work-group (launcher:
 * clgan_content_loss in src/ops/ops_loss.c). kind 0: L1, mean |a - b|, gradient sign(a - b)
 * (0 where a == b, as torch.sign); kind 1: MSE, mean (a - b)^2, gradient 2 (a - b).
 * out[oo] = the mean loss; with has_grad, da = gscale * gradient (gscale = weight / n),
 * added to da when acc. Fixed summation order: the same bits every call. */
__kernel void content_loss(const int n, const int kind, const float gscale,
                           __global const float *a, const ulong ao, __global const float *b,
                           const ulong bo, __global float *out, const ulong oo,
                           const int has_grad, const int acc, __global float *da,
                           const ulong dao, __local float *scratch) {
  int lid = (int)get_local_id(0), l = (int)get_local_size(0);
  float sl = 0.0f;
  for (int i = lid; i < n; i += l) {
    float d = a[ao + i] - b[bo + i];
    float g;
    if (kind == 0) {
      sl += fabs(d);
      g = d > 0.0f ? 1.0f : (d < 0.0f ? -1.0f : 0.0f);
    } else {
      sl += d * d;
      g = 2.0f * d;
    }
    if (has_grad) da[dao + i] = acc ? da[dao + i] + gscale * g : gscale * g;
  }
  float2 r = clgan_group_sum2(scratch, sl, 0.0f);
  if (lid == 0) out[oo] = r.x / (float)n;
}
