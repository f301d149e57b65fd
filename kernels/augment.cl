/* DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN
 * Training"), policy "color,translation,cutout", forward and backward. Per sample n the
 * host draws (src/ops/ops_augment.c, clgan_diffaug_params) 8 floats p = params + 8 n:
 *   p[0] brightness b in [-0.5, 0.5), p[1] saturation s in [0, 2), p[2] contrast k in
 *   [0.5, 1.5), p[3], p[4] the shift (ty rows, tx columns), p[5], p[6] the cutout square's
 *   first row and column (may be negative: the square is clipped to the image).
 * With a = x + b, the colour ops are
 *   a2[c, q] = (a[c, q] - mean_c a[., q]) s + mean_c a[., q]     (C > 1 only: saturation)
 *   a3 = (a2 - M) k + M,  M = mean over the sample of a2 = mean(x) + b (saturation keeps
 *   every pixel's channel mean),
 * then y[c, i, j] = a3[c, i + ty, j + tx] (0 where that lies outside the image: the zero
 * padding of the reference), and y = 0 inside the cutout square. Bits of `policy`:
 * 1 colour, 2 translation, 4 cutout; an op that is off is skipped, not applied as identity.
 * work = 2 floats per sample: [mean(x), sum of the gradient reaching a3].
 * Host launchers: src/ops/ops_augment.c. Tests: tests/ops_nn/test_augment.c (float64
 * reference, finite differences; Oclgrind with --small). */

#define AUG_COLOR 1
#define AUG_TRANSLATION 2
#define AUG_CUTOUT 4

/* 1 if output pixel (i, j) of a sample with parameters p is cut out */
inline int aug_cut(int policy, __global const float *p, int ch, int cw, int i, int j) {
  if (!(policy & AUG_CUTOUT)) return 0;
  int r0 = (int)p[5], c0 = (int)p[6];
  return i >= r0 && i < r0 + ch && j >= c0 && j < c0 + cw;
}

/* Index o of an (n, c, h, w) tensor -> sample, channel, row, column. Remainders by
 * subtraction: a % beside the same / compiles to an LLVM freeze, which Oclgrind's
 * uninitialised-value checker cannot run. */
inline void aug_split(size_t o, int c, int h, int w, int *s, int *cc, int *i, int *j) {
  size_t r = o / (size_t)w;
  *j = (int)(o - r * (size_t)w);
  size_t q = r / (size_t)h;
  *i = (int)(r - q * (size_t)h);
  size_t t = q / (size_t)c;
  *cc = (int)(q - t * (size_t)c);
  *s = (int)t;
}

/* One item per sample: work[2 n] = mean of its C x H x W values (fixed order). */
__kernel void augment_mean(const int n, const int chw, __global const float *x, const ulong xo,
                           __global float *work, const ulong wo) {
  int s = (int)get_global_id(0);
  if (s >= n) return;
  x += xo + (size_t)s * (size_t)chw;
  float acc = 0.0f;
  for (int q = 0; q < chw; q++) acc += x[q];
  work[wo + 2 * (size_t)s] = acc / (float)chw;
}

/* One item per output value. */
__kernel void augment_forward(const int n, const int c, const int h, const int w,
                              const int policy, const int ch, const int cw,
                              __global const float *params, const ulong po,
                              __global const float *work, const ulong wo,
                              __global const float *x, const ulong xo, __global float *y,
                              const ulong yo) {
  size_t o = get_global_id(0), hw = (size_t)h * (size_t)w, chw = (size_t)c * hw;
  if (o >= (size_t)n * chw) return;
  int s, cc, i, j;
  aug_split(o, c, h, w, &s, &cc, &i, &j);
  __global const float *p = params + po + 8 * (size_t)s;
  int si = i, sj = j;
  if (policy & AUG_TRANSLATION) si = i + (int)p[3], sj = j + (int)p[4];
  if (aug_cut(policy, p, ch, cw, i, j) || si < 0 || si >= h || sj < 0 || sj >= w) {
    y[yo + o] = 0.0f;
    return;
  }
  __global const float *xs = x + xo + (size_t)s * chw + (size_t)si * (size_t)w + (size_t)sj;
  float v = xs[(size_t)cc * hw];
  if (policy & AUG_COLOR) {
    float b = p[0], sat = p[1], k = p[2];
    float a = v + b;
    if (c > 1) {
      float m = 0.0f;
      for (int q = 0; q < c; q++) m += xs[(size_t)q * hw] + b;
      m = m / (float)c;
      a = (a - m) * sat + m;
    }
    float mm = work[wo + 2 * (size_t)s] + b;
    v = (a - mm) * k + mm;
  }
  y[yo + o] = v;
}

/* One item per sample: work[2 n + 1] = the sum of d loss / d a3, i.e. of dy over the output
 * pixels that are not cut out and whose source lies inside the image (fixed order). */
__kernel void augment_dsum(const int n, const int c, const int h, const int w,
                           const int policy, const int ch, const int cw,
                           __global const float *params, const ulong po,
                           __global const float *dy, const ulong dyo, __global float *work,
                           const ulong wo) {
  int s = (int)get_global_id(0);
  if (s >= n) return;
  __global const float *p = params + po + 8 * (size_t)s;
  size_t hw = (size_t)h * (size_t)w;
  dy += dyo + (size_t)s * (size_t)c * hw;
  int ty = policy & AUG_TRANSLATION ? (int)p[3] : 0, tx = policy & AUG_TRANSLATION ? (int)p[4] : 0;
  float acc = 0.0f;
  for (int cc = 0; cc < c; cc++)
    for (int i = 0; i < h; i++)
      for (int j = 0; j < w; j++) {
        int si = i + ty, sj = j + tx;
        if (aug_cut(policy, p, ch, cw, i, j) || si < 0 || si >= h || sj < 0 || sj >= w) continue;
        acc += dy[(size_t)cc * hw + (size_t)i * (size_t)w + (size_t)j];
      }
  work[wo + 2 * (size_t)s + 1] = acc;
}

/* d loss / d a3 at input pixel (si, sj) of channel cc: dy at the output pixel it went to. */
inline float aug_g3(int policy, __global const float *p, __global const float *dys, int h,
                    int w, int ch, int cw, int si, int sj) {
  int i = si, j = sj;
  if (policy & AUG_TRANSLATION) i = si - (int)p[3], j = sj - (int)p[4];
  if (i < 0 || i >= h || j < 0 || j >= w || aug_cut(policy, p, ch, cw, i, j)) return 0.0f;
  return dys[(size_t)i * (size_t)w + (size_t)j];
}

/* One item per input value: dx = d loss / d x (written, not added). */
__kernel void augment_backward(const int n, const int c, const int h, const int w,
                               const int policy, const int ch, const int cw,
                               __global const float *params, const ulong po,
                               __global const float *work, const ulong wo,
                               __global const float *dy, const ulong dyo, __global float *dx,
                               const ulong dxo) {
  size_t o = get_global_id(0), hw = (size_t)h * (size_t)w, chw = (size_t)c * hw;
  if (o >= (size_t)n * chw) return;
  int s, cc, si, sj;
  aug_split(o, c, h, w, &s, &cc, &si, &sj);
  __global const float *p = params + po + 8 * (size_t)s;
  __global const float *dys = dy + dyo + (size_t)s * chw;
  float g = aug_g3(policy, p, dys + (size_t)cc * hw, h, w, ch, cw, si, sj);
  if (policy & AUG_COLOR) {
    /* contrast: d a3 / d a2 = k + (1 - k) / N summed over the sample */
    float sat = p[1], k = p[2];
    float sm = work[wo + 2 * (size_t)s + 1] / (float)chw;
    float om = 1.0f - k;
    float g2 = k * g + om * sm;
    if (c > 1) { /* saturation: s g2 + (1 - s) times the pixel's channel mean of g2 */
      float m = 0.0f;
      for (int q = 0; q < c; q++)
        m += k * aug_g3(policy, p, dys + (size_t)q * hw, h, w, ch, cw, si, sj) + om * sm;
      m = m / (float)c;
      g2 = sat * g2 + (1.0f - sat) * m;
    }
    g = g2; /* brightness passes the gradient unchanged */
  }
  dx[dxo + o] = g;
}
