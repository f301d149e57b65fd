/* Text-to-image nodes (issue 16): a weighted bag of token embeddings (nn.EmbeddingBag,
 * mode 'sum', per_sample_weights) and StackGAN's conditioning augmentation. Launchers:
 * src/ops/ops_text.c. Tests: tests/ops_graph/test_text_ops.c. Fixed orders, no atomics. */

#define TX_STORE(y, i, v, acc) ((y)[i] = (acc) ? (y)[i] + (v) : (v))

/* y[i, d] = sum over slots k in order of wt[i, k] * w[id[i, k], d], ids outside 0..num-1
 * skipped. A sample's text is `slots` int ids then `slots` float weights (as int bits). One
 * item per y value. */
__kernel void text_embedbag_forward(const int n, const int num, const int dim, const int slots,
                                    __global const int *text, const ulong to,
                                    __global const float *w, const ulong wo,
                                    __global float *y, const ulong yo) {
  size_t t = get_global_id(0);
  if (t >= (ulong)n * (ulong)dim) return;
  ulong i = t / (ulong)dim, d = t - i * (ulong)dim;
  ulong row = to + i * 2ul * (ulong)slots;
  float s = 0.0f;
  for (int k = 0; k < slots; k++) {
    int id = text[row + (ulong)k];
    if (id >= 0 && id < num) s += as_float(text[row + (ulong)slots + (ulong)k]) *
                                  w[wo + (ulong)id * (ulong)dim + d];
  }
  y[yo + t] = s;
}

/* dw[r, d] (+)= sum over samples i, then slots k, in order, of wt[i, k] * dy[i, d] where
 * id[i, k] = r: one item per dw value (a gather: no two items write one place). */
__kernel void text_embedbag_backward(const int n, const int num, const int dim, const int slots,
                                     __global const int *text, const ulong to,
                                     __global const float *dy, const ulong dyo,
                                     __global float *dw, const ulong dwo, const int acc) {
  size_t t = get_global_id(0);
  if (t >= (ulong)num * (ulong)dim) return;
  ulong r = t / (ulong)dim, d = t - r * (ulong)dim;
  float s = 0.0f;
  for (int i = 0; i < n; i++) {
    ulong row = to + (ulong)i * 2ul * (ulong)slots;
    for (int k = 0; k < slots; k++)
      if (text[row + (ulong)k] == (int)r)
        s += as_float(text[row + (ulong)slots + (ulong)k]) * dy[dyo + (ulong)i * (ulong)dim + d];
  }
  TX_STORE(dw, dwo + t, s, acc);
}

/* Conditioning augmentation: x (n, 2 dim) holds mu then log sigma^2 per sample;
 * y = mu + exp(logvar / 2) * eps, eps (n, dim). One item per y value. */
__kernel void text_condaug_forward(const ulong total, const int dim, __global const float *x,
                                   const ulong xo, __global const float *eps, const ulong eo,
                                   __global float *y, const ulong yo) {
  size_t t = get_global_id(0);
  if (t >= total) return;
  ulong i = t / (ulong)dim, d = t - i * (ulong)dim;
  ulong xm = xo + i * 2ul * (ulong)dim + d;
  y[yo + t] = x[xm] + exp(0.5f * x[xm + (ulong)dim]) * eps[eo + t];
}

/* Its backward with the KL term of weight kw (= kl weight / (n dim): the KL is the mean over
 * samples and values, -0.5 (1 + lv - mu^2 - e^lv)):
 *   dmu (+)= dy + kw mu;  dlv (+)= dy eps exp(lv / 2) / 2 + kw (e^lv - 1) / 2.
 * One item per y value, writing its two dx values. */
__kernel void text_condaug_backward(const ulong total, const int dim, __global const float *x,
                                    const ulong xo, __global const float *eps, const ulong eo,
                                    __global const float *dy, const ulong dyo,
                                    __global float *dx, const ulong dxo, const float kw,
                                    const int acc) {
  size_t t = get_global_id(0);
  if (t >= total) return;
  ulong i = t / (ulong)dim, d = t - i * (ulong)dim;
  ulong xm = i * 2ul * (ulong)dim + d;
  float mu = x[xo + xm], lv = x[xo + xm + (ulong)dim], g = dy[dyo + t];
  float sd = exp(0.5f * lv);
  TX_STORE(dx, dxo + xm, g + kw * mu, acc);
  TX_STORE(dx, dxo + xm + (ulong)dim, 0.5f * g * eps[eo + t] * sd + 0.5f * kw * (sd * sd - 1.0f),
           acc);
}
