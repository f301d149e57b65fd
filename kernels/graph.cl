/* Graph-model nodes: channel concat copies, add, mul, embedding, nearest upsampling, average
 * and sum pooling, pixel shuffle, instance norm, dropout, PReLU. Launchers:
 * src/ops/ops_graph.c. Tests: tests/ops_graph/. Every reduction has a fixed order (no atomics):
 * the same inputs and launch give the same bits on every run. */

#include "philox.clh"

/* y (+)= v at y[i]: `acc` 1 adds into the old value, 0 overwrites. */
#define GR_STORE(y, i, v, acc) ((y)[i] = (acc) ? (y)[i] + (v) : (v))

/* y[:, yc:yc+c, :] (+)= x[:, xc:xc+c, :]; one item per copied value, total = n*c*hw, chw = c*hw. */
__kernel void graph_channel_copy(const ulong total, const ulong chw, const ulong hw,
                                 __global const float *x, const ulong xo, const ulong x_ctot,
                                 const ulong x_coff, __global float *y, const ulong yo,
                                 const ulong y_ctot, const ulong y_coff, const int acc) {
  size_t i = get_global_id(0);
  if (i >= total) return;
  ulong ni = i / chw, r = i - ni * chw;
  float v = x[xo + (ni * x_ctot + x_coff) * hw + r];
  GR_STORE(y, yo + (ni * y_ctot + y_coff) * hw + r, v, acc);
}

/* y = a + b (y may be a or b: each item reads its two values before writing) */
__kernel void graph_add(const ulong n, __global const float *a, const ulong ao,
                        __global const float *b, const ulong bo, __global float *y,
                        const ulong yo) {
  size_t i = get_global_id(0);
  if (i >= n) return;
  y[yo + i] = a[ao + i] + b[bo + i];
}

/* ProGAN's fade-in: y = (1 - alpha) a + alpha b (y may be a or b); alpha 0 gives a, 1 b
 * exactly */
__kernel void graph_fade(const ulong n, const float alpha, __global const float *a,
                         const ulong ao, __global const float *b, const ulong bo,
                         __global float *y, const ulong yo) {
  size_t i = get_global_id(0);
  if (i >= n) return;
  y[yo + i] = (1.0f - alpha) * a[ao + i] + alpha * b[bo + i];
}

/* dx = s dy, or dx += s dy with acc (the fade's backward, one input at a time) */
__kernel void graph_scale_into(const ulong n, const float s, __global const float *dy,
                               const ulong dyo, __global float *dx, const ulong dxo,
                               const int acc) {
  size_t i = get_global_id(0);
  if (i >= n) return;
  float g = s * dy[dyo + i];
  dx[dxo + i] = acc ? dx[dxo + i] + g : g;
}

/* y = a * b with b indexed i (b_div 1) or i / hw (b_div hw: b (n, c) over a (n, c, hw)). */
__kernel void graph_mul_forward(const ulong total, const ulong b_div, __global const float *a,
                                const ulong ao, __global const float *b, const ulong bo,
                                __global float *y, const ulong yo) {
  size_t i = get_global_id(0);
  if (i >= total) return;
  y[yo + i] = a[ao + i] * b[bo + i / b_div];
}

/* da (+)= dy * b (has_da); db (+)= dy * a elementwise (has_db, only when b is not a
 * broadcast vector: the vector case is graph_rowsum). */
__kernel void graph_mul_backward(const ulong total, const ulong b_div, __global const float *a,
                                 const ulong ao, __global const float *b, const ulong bo,
                                 __global const float *dy, const ulong dyo, const int has_da,
                                 __global float *da, const ulong dao, const int has_db,
                                 __global float *db, const ulong dbo, const int acc) {
  size_t i = get_global_id(0);
  if (i >= total) return;
  float d = dy[dyo + i];
  float av = has_db ? a[ao + i] : 0.0f;
  float bv = has_da ? b[bo + i / b_div] : 0.0f;
  if (has_da) GR_STORE(da, dao + i, d * bv, acc);
  if (has_db) GR_STORE(db, dbo + i, d * av, acc);
}

/* Row sums, one work-group per output g, in a fixed tree order:
 *   out[g] (+)= sum over rows r < nrows, s < len of f(a[g*len + r*stride + s], b[same])
 * with f = a (mode 0: sum pooling), a * b (mode 1: mul's broadcast db), or
 * a > 0 ? 0 : a * b (mode 2: PReLU's da, a = x, b = dy). The group walks its values as
 * (l >> hs) rows of (1 << hs) items as BN_FOR_CHANNEL in kernels/batchnorm.cl does: item b of
 * row a takes samples a, a + (l >> hs), ... and positions b, b + (1 << hs), ... of each.
 * scratch: 1 float/item. */
__kernel void graph_rowsum(const int nrows, const ulong len, const ulong stride, const int mode,
                           __global const float *a, const ulong ao, __global const float *b,
                           const ulong bo, __global float *out, const ulong oo, const int acc,
                           const int hs, __local float *scratch) {
  const int g = (int)get_group_id(0), lid = (int)get_local_id(0);
  const int l = (int)get_local_size(0);
  float s = 0.0f;
  for (int r = lid >> hs; r < nrows; r += l >> hs) {
    const ulong base = (ulong)g * len + (ulong)r * stride;
    for (ulong si = (ulong)(lid & ((1 << hs) - 1)); si < len; si += (ulong)1 << hs) {
      const ulong i = base + si;
      const float av = a[ao + i];
      if (mode == 0) s += av;
      else if (mode == 1) s += av * b[bo + i];
      else s += av > 0.0f ? 0.0f : av * b[bo + i];
    }
  }
  const float t = clgan_group_sum(scratch, s);
  if (lid == 0) GR_STORE(out, oo + g, t, acc);
}

/* y[i, :] = w[labels[i], :], a zero row for a label outside 0..num-1; one item per y value. */
__kernel void graph_embed_forward(const int n, const int num, const int dim,
                                  __global const int *labels, const ulong lo,
                                  __global const float *w, const ulong wo, __global float *y,
                                  const ulong yo) {
  size_t t = get_global_id(0);
  if (t >= (ulong)n * (ulong)dim) return;
  ulong i = t / (ulong)dim, d = t - i * (ulong)dim;
  int lab = labels[lo + i];
  y[yo + t] = lab >= 0 && lab < num ? w[wo + (ulong)lab * (ulong)dim + d] : 0.0f;
}

/* dw[row, d] (+)= sum of dy[i, d] over i = 0..n-1 in order with labels[i] = row: one item per
 * dw value, a gather, so no two items write the same place. */
__kernel void graph_embed_backward(const int n, const int num, const int dim,
                                   __global const int *labels, const ulong lo,
                                   __global const float *dy, const ulong dyo,
                                   __global float *dw, const ulong dwo, const int acc) {
  size_t t = get_global_id(0);
  if (t >= (ulong)num * (ulong)dim) return;
  ulong row = t / (ulong)dim, d = t - row * (ulong)dim;
  float s = 0.0f;
  for (int i = 0; i < n; i++)
    if (labels[lo + i] == (int)row) s += dy[dyo + (ulong)i * (ulong)dim + d];
  GR_STORE(dw, dwo + t, s, acc);
}

/* Nearest upsampling by k (y[oy, ox] = x[oy / k, ox / k]): one item per y value over
 * planes = n*c planes of (h*k, w*k). */
__kernel void graph_upsample_forward(const ulong total, const int h, const int w, const int k,
                                     __global const float *x, const ulong xo,
                                     __global float *y, const ulong yo) {
  size_t t = get_global_id(0);
  if (t >= total) return;
  const ulong wk = (ulong)w * (ulong)k, plane = (ulong)h * (ulong)k * wk;
  ulong p = t / plane, r = t - p * plane, oy = r / wk, ox = r - oy * wk;
  y[yo + t] = x[xo + (p * (ulong)h + oy / (ulong)k) * (ulong)w + ox / (ulong)k];
}

/* dx[iy, ix] (+)= sum of dy over the k x k block (rows then columns): one item per dx value. */
__kernel void graph_upsample_backward(const ulong total, const int h, const int w, const int k,
                                      __global const float *dy, const ulong dyo,
                                      __global float *dx, const ulong dxo, const int acc) {
  size_t t = get_global_id(0);
  if (t >= total) return;
  const ulong hw = (ulong)h * (ulong)w, wk = (ulong)w * (ulong)k;
  ulong p = t / hw, r = t - p * hw, iy = r / (ulong)w, ix = r - iy * (ulong)w;
  __global const float *src = dy + dyo + p * hw * (ulong)k * (ulong)k + iy * (ulong)k * wk +
                              ix * (ulong)k;
  float s = 0.0f;
  for (int a = 0; a < k; a++)
    for (int b = 0; b < k; b++) s += src[(ulong)a * wk + (ulong)b];
  GR_STORE(dx, dxo + t, s, acc);
}

/* Interpolating upsampling by k (the `upsample k mode=` node): y = A_h x A_w^T per plane,
 * a linear map whose 1-D rows have 4 taps. mode 1: bilinear as nn.Upsample(mode='bilinear',
 * align_corners=False) (source c = (o + 0.5) / k - 0.5 clamped at 0, the right neighbour
 * clamped at the edge); mode 2: bicubic as MATLAB imresize (Keys a = -0.5, taps
 * floor(c) - 1 .. floor(c) + 2 mirrored at the edges: -1 -> 0, n -> n - 1), the scale's
 * baseline (src/io/photo.c clgan_upscale_bicubic). */
inline int gr_mirror(int i, int n) {
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - 1 - i;
  return i;
}

inline float gr_cubic(float x) {
  float a = fabs(x), a2 = a * a, a3 = a2 * a;
  if (a <= 1.0f) return 1.5f * a3 - 2.5f * a2 + 1.0f;
  if (a <= 2.0f) return -0.5f * a3 + 2.5f * a2 - 4.0f * a + 2.0f;
  return 0.0f;
}

/* the 4 taps (input index, weight) of output o of a 1-D upsampling of n samples by k */
inline void gr_taps(int mode, int o, int k, int n, int *idx, float *wt) {
  float c = ((float)o + 0.5f) / (float)k - 0.5f;
  if (mode == 1) {
    if (c < 0.0f) c = 0.0f;
    int i0 = (int)c, i1 = i0 + (i0 < n - 1 ? 1 : 0);
    float l1 = c - (float)i0;
    idx[0] = i0, wt[0] = 1.0f - l1, idx[1] = i1, wt[1] = l1;
    idx[2] = idx[3] = i0, wt[2] = wt[3] = 0.0f;
  } else {
    int f = (int)floor(c);
    for (int t = 0; t < 4; t++) {
      int i = f - 1 + t;
      idx[t] = gr_mirror(i, n), wt[t] = gr_cubic(c - (float)i);
    }
  }
}

/* the weight of input i in output o: the sum of o's taps that land on i */
inline float gr_tap_weight(int mode, int o, int k, int n, int i) {
  int idx[4];
  float wt[4], s = 0.0f;
  gr_taps(mode, o, k, n, idx, wt);
  for (int t = 0; t < 4; t++) s += idx[t] == i ? wt[t] : 0.0f;
  return s;
}

/* y[oy, ox] = sum_a wy[a] * (sum_b wx[b] * x[iy[a], ix[b]]): one item per y value. */
__kernel void graph_resize_up_forward(const ulong total, const int h, const int w, const int k,
                                      const int mode, __global const float *x, const ulong xo,
                                      __global float *y, const ulong yo) {
  size_t t = get_global_id(0);
  if (t >= total) return;
  const ulong wk = (ulong)w * (ulong)k, plane = (ulong)h * (ulong)k * wk;
  ulong p = t / plane, r = t - p * plane, oy = r / wk, ox = r - oy * wk;
  int iy[4], ix[4];
  float wy[4], wx[4];
  gr_taps(mode, (int)oy, k, h, iy, wy);
  gr_taps(mode, (int)ox, k, w, ix, wx);
  __global const float *src = x + xo + p * (ulong)h * (ulong)w;
  float s = 0.0f;
  for (int a = 0; a < 4; a++) {
    float row = 0.0f;
    for (int b = 0; b < 4; b++) row += wx[b] * src[(ulong)iy[a] * (ulong)w + (ulong)ix[b]];
    s += wy[a] * row;
  }
  y[yo + t] = s;
}

/* The transpose, gathered: dx[iy, ix] (+)= sum over the outputs (oy, ox) whose taps reach it
 * of wy * wx * dy, oy and ox in the window k*(i-3) .. k*(i+4) - 1 (every output that can
 * read input i, mirrored taps included), in increasing order: one item per dx value. */
__kernel void graph_resize_up_backward(const ulong total, const int h, const int w, const int k,
                                       const int mode, __global const float *dy, const ulong dyo,
                                       __global float *dx, const ulong dxo, const int acc) {
  size_t t = get_global_id(0);
  if (t >= total) return;
  const ulong hw = (ulong)h * (ulong)w, wk = (ulong)w * (ulong)k;
  ulong p = t / hw, r = t - p * hw;
  int iy = (int)(r / (ulong)w), ix = (int)(r - (ulong)iy * (ulong)w);
  int y0 = max(0, k * (iy - 3)), y1 = min(h * k, k * (iy + 4));
  int x0 = max(0, k * (ix - 3)), x1 = min(w * k, k * (ix + 4));
  __global const float *src = dy + dyo + p * hw * (ulong)k * (ulong)k;
  float s = 0.0f;
  for (int oy = y0; oy < y1; oy++) {
    float wy = gr_tap_weight(mode, oy, k, h, iy);
    if (wy == 0.0f) continue;
    float row = 0.0f;
    for (int ox = x0; ox < x1; ox++)
      row += gr_tap_weight(mode, ox, k, w, ix) * src[(ulong)oy * wk + (ulong)ox];
    s += wy * row;
  }
  GR_STORE(dx, dxo + t, s, acc);
}

/* Average pooling k x k, stride k: y = (sum of the block, rows then columns) * inv (1/(k*k)
 * from the host); one item per y value; h, w are the input sizes. */
__kernel void graph_avgpool_forward(const ulong total, const int h, const int w, const int k,
                                    const float inv, __global const float *x, const ulong xo,
                                    __global float *y, const ulong yo) {
  size_t t = get_global_id(0);
  if (t >= total) return;
  const ulong ho = (ulong)(h / k), wo = (ulong)(w / k), plane = ho * wo;
  ulong p = t / plane, r = t - p * plane, oy = r / wo, ox = r - oy * wo;
  __global const float *src =
      x + xo + p * (ulong)h * (ulong)w + oy * (ulong)k * (ulong)w + ox * (ulong)k;
  float s = 0.0f;
  for (int a = 0; a < k; a++)
    for (int b = 0; b < k; b++) s += src[(ulong)a * (ulong)w + (ulong)b];
  y[yo + t] = s * inv;
}

/* dx (+)= dy of the block * inv: one item per dx value. */
__kernel void graph_avgpool_backward(const ulong total, const int h, const int w, const int k,
                                     const float inv, __global const float *dy, const ulong dyo,
                                     __global float *dx, const ulong dxo, const int acc) {
  size_t t = get_global_id(0);
  if (t >= total) return;
  const ulong hw = (ulong)h * (ulong)w;
  ulong p = t / hw, r = t - p * hw, iy = r / (ulong)w, ix = r - iy * (ulong)w;
  const ulong ho = (ulong)(h / k), wo = (ulong)(w / k);
  float v = dy[dyo + (p * ho + iy / (ulong)k) * wo + ix / (ulong)k] * inv;
  GR_STORE(dx, dxo + t, v, acc);
}

/* dx[i] (+)= dy[i / div]: sum pooling's backward (div = hw). */
__kernel void graph_broadcast(const ulong total, const ulong div, __global const float *dy,
                              const ulong dyo, __global float *dx, const ulong dxo,
                              const int acc) {
  size_t t = get_global_id(0);
  if (t >= total) return;
  GR_STORE(dx, dxo + t, dy[dyo + t / div], acc);
}

/* Pixel shuffle by r as nn.PixelShuffle: y[n, ci, oy, ox] = x[n, ci*r*r + (oy%r)*r + ox%r,
 * oy/r, ox/r], x (n, c*r*r, h, w), y (n, c, h*r, w*r). dir 0: forward, one item per y value
 * (src x, dst y); dir 1: the backward (pixel unshuffle), one item per dx value (src dy, dst
 * dx), accumulating when acc. */
__kernel void graph_pixelshuffle(const ulong total, const int dir, const int c, const int h,
                                 const int w, const int r, __global const float *src,
                                 const ulong so, __global float *dst, const ulong dso,
                                 const int acc) {
  size_t t = get_global_id(0);
  if (t >= total) return;
  const ulong R = (ulong)r, W = (ulong)w, H = (ulong)h, wr = W * R;
  const ulong big = H * R * wr; /* one y plane = r*r x values */
  ulong yi, xi;                 /* the y index and the x index of this pair */
  if (dir == 0) {
    yi = t;
    ulong p = t / big, rem = t - p * big, oy = rem / wr, ox = rem - oy * wr;
    ulong ni = p / (ulong)c, ci = p - ni * (ulong)c;
    /* remainders by subtraction: a `%` beside the same `/` becomes an LLVM freeze, which
     * Oclgrind's uninitialised-value check cannot run */
    ulong qy = oy / R, qx = ox / R;
    ulong ch = (ci * R + (oy - qy * R)) * R + (ox - qx * R);
    xi = ((ni * (ulong)c * R * R + ch) * H + qy) * W + qx;
  } else {
    xi = t;
    const ulong hw = H * W;
    ulong q = t / hw, rem = t - q * hw, iy = rem / W, ix = rem - iy * W;
    ulong rr = R * R, ni = q / ((ulong)c * rr), ch = q - ni * (ulong)c * rr;
    ulong ci = ch / rr, ij = ch - ci * rr, i = ij / R, j = ij - i * R;
    yi = ((ni * (ulong)c + ci) * H * R + iy * R + i) * wr + ix * R + j;
  }
  if (dir == 0) dst[dso + yi] = src[so + xi];
  else GR_STORE(dst, dso + xi, src[so + yi], acc);
}

/* Instance norm forward: one work-group per (sample, channel) plane of hw values, two-pass
 * mean (about the plane's first value) and biased variance in a fixed tree, y = (x - mean) * invstd * g + b.
 * scratch: 1 float/item. */
__kernel void graph_instancenorm_forward(const int c, const int hw, __global const float *x,
                                         const ulong xo, const int has_affine,
                                         __global const float *gamma, const ulong go,
                                         __global const float *beta, const ulong bo,
                                         const float eps, __global float *y, const ulong yo,
                                         __global float *save_mean, const ulong smo,
                                         __global float *save_invstd, const ulong sio,
                                         __local float *scratch) {
  const int p = (int)get_group_id(0), lid = (int)get_local_id(0);
  const int l = (int)get_local_size(0), ch = p % c;
  const ulong base = (ulong)p * (ulong)hw;
  /* the mean as pivot + mean of (x - pivot): a plane's offset does not swamp the sum of
   * its spread (64x64 planes with an offset of 3 missed the tolerance by a plain sum) */
  const float pivot = x[xo + base];
  float s = 0.0f;
  for (int i = lid; i < hw; i += l) s += x[xo + base + i] - pivot;
  const float mean = pivot + clgan_group_sum(scratch, s) / (float)hw;
  float q = 0.0f;
  for (int i = lid; i < hw; i += l) {
    float d = x[xo + base + i] - mean;
    q += d * d;
  }
  const float var = clgan_group_sum(scratch, q) / (float)hw;
  const float invstd = 1.0f / sqrt(var + eps);
  const float g = has_affine ? gamma[go + ch] : 1.0f, b = has_affine ? beta[bo + ch] : 0.0f;
  const float a = invstd * g;
  for (int i = lid; i < hw; i += l) y[yo + base + i] = (x[xo + base + i] - mean) * a + b;
  if (lid == 0) {
    save_mean[smo + p] = mean;
    save_invstd[sio + p] = invstd;
  }
}

/* Instance norm backward per plane: dx = g*invstd/hw * (hw*dy - sum(dy) - xhat*sum(dy*xhat)).
 * per_channel 0: one group per plane (dx only). per_channel 1: one group per channel walking
 * samples 0..n-1 in order, which also gives dgamma = sum over samples of sum(dy*xhat) and
 * dbeta = sum of sum(dy) in that order. dx may alias dy: each item rereads its own values
 * before writing them. scratch: 2 floats/item. */
__kernel void graph_instancenorm_backward(const int n, const int c, const int hw,
                                          const int per_channel, __global const float *x,
                                          const ulong xo, __global const float *dy,
                                          const ulong dyo, const int has_affine,
                                          __global const float *gamma, const ulong go,
                                          __global const float *save_mean, const ulong smo,
                                          __global const float *save_invstd, const ulong sio,
                                          __global float *dx, const ulong dxo,
                                          const int has_dparams, __global float *dgamma,
                                          const ulong dgo, __global float *dbeta,
                                          const ulong dbo, const int acc,
                                          __local float *scratch) {
  const int grp = (int)get_group_id(0), lid = (int)get_local_id(0);
  const int l = (int)get_local_size(0);
  /* (a % beside the same / would compile to an LLVM freeze, which Oclgrind cannot run) */
  const int q = grp / c;
  const int ch = per_channel ? grp : grp - q * c;
  const int n0 = per_channel ? 0 : q, n1 = per_channel ? n : n0 + 1;
  const float g = has_affine ? gamma[go + ch] : 1.0f, m = (float)hw;
  float dg = 0.0f, db = 0.0f;
  for (int ni = n0; ni < n1; ni++) {
    const int p = ni * c + ch;
    const ulong base = (ulong)p * (ulong)hw;
    const float mean = save_mean[smo + p], invstd = save_invstd[sio + p];
    float sdy = 0.0f, sdyx = 0.0f;
    for (int i = lid; i < hw; i += l) {
      float d = dy[dyo + base + i];
      sdy += d;
      sdyx += d * (x[xo + base + i] - mean);
    }
    const float2 r = clgan_group_sum2(scratch, sdy, sdyx);
    const float sum_dyxhat = r.y * invstd;
    const float k = g * invstd / m, kx = sum_dyxhat * invstd;
    for (int i = lid; i < hw; i += l) {
      float xc = x[xo + base + i] - mean;
      dx[dxo + base + i] = k * ((m * dy[dyo + base + i] - r.x) - xc * kx);
    }
    dg += sum_dyxhat;
    db += r.x;
  }
  if (lid == 0 && has_dparams) {
    GR_STORE(dgamma, dgo + ch, dg, acc);
    GR_STORE(dbeta, dbo + ch, db, acc);
  }
}

/* Inverted dropout over n values: value i is dropped when the Philox uniform of stream
 * (seed, counter + i) is < p, else scaled. u is computed exactly as kernels/rng.cl's
 * rng_uniform with lo 0, hi 1 (and the host's clgan_philox_uniform): (word >> 8) * 2^-24.
 * One Philox block (4 values) per item; y (+)= mask * x * scale. The backward is the same
 * launch with (dy, dx) and the same (seed, counter). y may be x. */
__kernel void graph_dropout(const ulong n, const ulong nblocks, const ulong seed,
                            const ulong counter, const float p, const float scale,
                            __global const float *x, const ulong xo, __global float *y,
                            const ulong yo, const int acc) {
  if (get_global_id(0) >= nblocks) return;
  ulong block = ((counter >> 2) + get_global_id(0)) & BLOCK_MASK;
  ulong first = block * 4ul - counter; /* index of lane 0; wraps "below 0" to a huge value */
  uint words[4];
  philox4x32_10(block, seed, words);
  for (int k = 0; k < 4; k++) {
    ulong i = first + (ulong)k;
    if (i < n) {
      float u = (float)(words[k] >> 8) * 0x1p-24f;
      float v = u < p ? 0.0f : x[xo + i] * scale;
      GR_STORE(y, yo + i, v, acc);
    }
  }
}

/* PReLU: y = x > 0 ? x : a[ch] * x (ch = (i / hw) % c, or 0 when a_count is 1); the backward's
 * dx (+)= dy * (x > 0 ? 1 : a[ch]) (bwd 1, src = dy). da is graph_rowsum mode 2. */
__kernel void graph_prelu(const ulong total, const int c, const ulong hw, const int a_per_ch,
                          const int bwd, __global const float *x, const ulong xo,
                          __global const float *a, const ulong ao, __global const float *src,
                          const ulong so, __global float *dst, const ulong dso, const int acc) {
  size_t t = get_global_id(0);
  if (t >= total) return;
  ulong ch = a_per_ch ? (t / hw) % (ulong)c : 0;
  float xv = x[xo + t], av = a[ao + ch];
  if (!bwd) {
    dst[dso + t] = xv > 0.0f ? xv : av * xv;
  } else {
    float d = src[so + t];
    GR_STORE(dst, dso + t, xv > 0.0f ? d : av * d, acc);
  }
}

/* Reflect padding by p on each side (nn.ReflectionPad2d(p), nn.Conv2d's
 * padding_mode='reflect'), p < h and p < w: index i of the padded axis reads the input at
 * |i - p|, mirrored again past the far edge. */
/* q is the padded index (0 <= q < n + 2p); written without a negation of q - p, which
 * compilers turn into llvm.abs, a call Oclgrind cannot run */
static int reflect_at(int q, int n, int p) {
  if (q < p) return p - q;
  int i = q - p;
  return i >= n ? 2 * (n - 1) - i : i;
}

/* y (planes, h + 2p, w + 2p) from x (planes, h, w): one item per y value. */
__kernel void graph_reflect_pad_forward(const ulong total, const int h, const int w,
                                        const int p, __global const float *x, const ulong xo,
                                        __global float *y, const ulong yo) {
  size_t t = get_global_id(0);
  if (t >= total) return;
  const ulong hp = (ulong)(h + 2 * p), wp = (ulong)(w + 2 * p), plane = hp * wp;
  ulong pl = t / plane, r = t - pl * plane, oy = r / wp, ox = r - oy * wp;
  int iy = reflect_at((int)oy, h, p), ix = reflect_at((int)ox, w, p);
  y[yo + t] = x[xo + (pl * (ulong)h + (ulong)iy) * (ulong)w + (ulong)ix];
}

/* The padded positions of one axis that read input index i, in increasing order: its
 * mirror in the leading pad, itself, its mirror in the trailing pad (at most 3). */
static int reflect_sources(int i, int n, int p, int *q) {
  int k = 0;
  if (i >= 1 && i <= p) q[k++] = p - i;
  q[k++] = i + p;
  if (i <= n - 2 && i > n - 2 - p) q[k++] = 2 * (n - 1) - i + p;
  return k;
}

/* dx[iy, ix] (+)= the sum of dy over every padded position that reads it (rows, then
 * columns, in increasing order): a gather, so no atomics and the same bits every call.
 * One item per dx value. */
__kernel void graph_reflect_pad_backward(const ulong total, const int h, const int w,
                                         const int p, __global const float *dy,
                                         const ulong dyo, __global float *dx, const ulong dxo,
                                         const int acc) {
  size_t t = get_global_id(0);
  if (t >= total) return;
  const ulong hw = (ulong)h * (ulong)w, wp = (ulong)(w + 2 * p);
  ulong pl = t / hw, r = t - pl * hw;
  int iy = (int)(r / (ulong)w), ix = (int)(r - (ulong)iy * (ulong)w);
  int qy[3], qx[3];
  int ny = reflect_sources(iy, h, p, qy), nx = reflect_sources(ix, w, p, qx);
  __global const float *src = dy + dyo + pl * (ulong)(h + 2 * p) * wp;
  float s = 0.0f;
  for (int a = 0; a < ny; a++)
    for (int b = 0; b < nx; b++) s += src[(ulong)qy[a] * wp + (ulong)qx[b]];
  GR_STORE(dx, dxo + t, s, acc);
}
