/* Convolution helpers around CLBlast's GEMM: im2col, gather-form col2im, the layout
 * transposes of a folded batch, bias add and bias gradient. Launchers: src/ops/ops_conv.c.
 * Tests: tests/ops_conv/test_conv.c (also under Oclgrind).
 *
 * Every kernel sees the conv2d geometry x (n, c, h, w) -> y (n, co, ho, wo) with P = ho*wo.
 * A chunk of nb samples is "folded": its column matrix col is (c*kh*kw, nb*P) and its
 * output matrix (co, nb*P), so one GEMM covers the whole chunk. Column n*P + p of either
 * belongs to sample n, output pixel p. */

/* q = a / b, *r = a % b. The remainder is spelt out: LLVM pairs a `/` and a `%` of the same
 * operands into code with `freeze`, which Oclgrind's uninitialised-value checker cannot run.
 * Coordinates are int (32-bit division is several times cheaper than 64-bit on CPUs); only
 * linear buffer indices, which can pass 2^31, are size_t. */
int divmod(int a, int b, int *r) {
  const int q = a / b;
  *r = a - q * b;
  return q;
}

/* col[k][n*P + p] = x[n][ch][oh*s - pad + ky][ow*s - pad + kx] (0 outside the image), with
 * k = (ch*kh + ky)*kw + kx. Launched over (nb*P, kh*kw, c): one column entry per item. */
__kernel void im2col_f32(const int nb, const int c, const int h, const int w, const int ho,
                         const int wo, const int kh, const int kw, const int stride,
                         const int pad, __global const float *x, const ulong xo,
                         __global float *col, const ulong colo) {
  const int j = (int)get_global_id(0), tap = (int)get_global_id(1), ch = (int)get_global_id(2);
  const int p_count = ho * wo, cols = nb * p_count;
  if (j >= cols) return;
  int p, ow, kx;
  const int n = divmod(j, p_count, &p), oh = divmod(p, wo, &ow), ky = divmod(tap, kw, &kx);
  const int ih = oh * stride - pad + ky, iw = ow * stride - pad + kx;
  float v = 0.0f;
  if (ih >= 0 && ih < h && iw >= 0 && iw < w)
    v = x[xo + (((size_t)n * c + ch) * h + ih) * w + iw];
  col[colo + ((size_t)ch * kh * kw + tap) * cols + j] = v;
}

/* The column matrix transposed, colT (nb*P, c*kh*kw): colT[n*P + p][k] = col[k][n*P + p],
 * for the weight gradient's GEMM, which runs faster as dy (co, nb*P) x colT than as
 * dy x col^T on CPUs. Launched over (c*kh*kw, P, nb): one entry per item. */
__kernel void im2colT_f32(const int nb, const int c, const int h, const int w, const int ho,
                          const int wo, const int kh, const int kw, const int stride,
                          const int pad, __global const float *x, const ulong xo,
                          __global float *colt, const ulong colo) {
  const int krow = (int)get_global_id(0), p = (int)get_global_id(1), n = (int)get_global_id(2);
  const int k_count = c * kh * kw;
  if (krow >= k_count) return;
  int ow, kx, ky;
  const int oh = divmod(p, wo, &ow), ch = divmod(divmod(krow, kw, &kx), kh, &ky);
  const int ih = oh * stride - pad + ky, iw = ow * stride - pad + kx;
  float v = 0.0f;
  if (ih >= 0 && ih < h && iw >= 0 && iw < w)
    v = x[xo + (((size_t)n * c + ch) * h + ih) * w + iw];
  colt[colo + ((size_t)n * ho * wo + p) * k_count + krow] = v;
}

/* The adjoint of im2col, in gather form: each x element sums the column entries that were
 * read from it, in a fixed order (no atomics: deterministic on every device). Optionally
 * adds a per-channel bias (conv_transpose2d's forward ends here). Launched over
 * (h*w, c, nb): one x element per item. */
__kernel void col2im_f32(const int nb, const int c, const int h, const int w, const int ho,
                         const int wo, const int kh, const int kw, const int stride,
                         const int pad, __global const float *col, const ulong colo,
                         const int has_bias, __global const float *b, const ulong bo,
                         __global float *x, const ulong xo) {
  const int hw = (int)get_global_id(0), ch = (int)get_global_id(1), n = (int)get_global_id(2);
  if (hw >= h * w) return;
  int iw;
  const int ih = divmod(hw, w, &iw);
  const size_t cols = (size_t)nb * ho * wo;
  /* output rows whose window covers ih: ky = ih + pad - oh*stride must lie in [0, kh) */
  const int hp = ih + pad, wp = iw + pad;
  const int oh0 = hp >= kh ? (hp - kh) / stride + 1 : 0, oh1 = min(hp / stride, ho - 1);
  const int ow0 = wp >= kw ? (wp - kw) / stride + 1 : 0, ow1 = min(wp / stride, wo - 1);
  __global const float *cn = col + colo + (size_t)n * ho * wo;
  float sum = 0.0f;
  for (int oh = oh0; oh <= oh1; oh++) {
    const int ky = hp - oh * stride;
    for (int ow = ow0; ow <= ow1; ow++) {
      const int kx = wp - ow * stride;
      sum += cn[(((size_t)ch * kh + ky) * kw + kx) * cols + oh * wo + ow];
    }
  }
  if (has_bias) sum += b[bo + ch];
  x[xo + ((size_t)n * c + ch) * h * w + hw] = sum;
}

/* (nb, c, P) -> (c, nb*P): a chunk of NCHW gradients as the folded GEMM operand. Launched
 * over (nb*P, c). */
__kernel void nchw_to_cnp_f32(const int nb, const int c, const int p_count,
                              __global const float *src, const ulong so, __global float *dst,
                              const ulong dso) {
  const int j = (int)get_global_id(0), ch = (int)get_global_id(1);
  const int cols = nb * p_count;
  if (j >= cols) return;
  int p;
  const int n = divmod(j, p_count, &p);
  dst[dso + (size_t)ch * cols + j] = src[so + ((size_t)n * c + ch) * p_count + p];
}

/* (c, nb*P) -> (nb, c, P), plus an optional per-channel bias: the folded GEMM's output
 * back in NCHW (conv2d's forward ends here). Launched over (nb*P, c). */
__kernel void cnp_to_nchw_f32(const int nb, const int c, const int p_count,
                              __global const float *src, const ulong so, const int has_bias,
                              __global const float *b, const ulong bo, __global float *dst,
                              const ulong dso) {
  const int j = (int)get_global_id(0), ch = (int)get_global_id(1);
  if (j >= nb * p_count) return;
  int p;
  const int n = divmod(j, p_count, &p);
  float v = src[so + (size_t)ch * nb * p_count + j];
  if (has_bias) v += b[bo + ch];
  dst[dso + ((size_t)n * c + ch) * p_count + p] = v;
}

/* ---- row forms (CPU devices; src/ops/ops_conv.c picks by device type) ----
 * One item per contiguous run of output: the index arithmetic (the divisions above) is
 * done once per run instead of once per element, and each item writes (and mostly reads)
 * consecutive addresses. On a CPU that is what matters: POCL runs a work-group as a loop
 * over its items, so per-item divisions and one-element items dominate the forms above.
 * On a GPU neighbouring items would touch addresses a run apart (no coalescing), so GPUs
 * keep the one-element forms. */

/* The ow (or iw) range [*lo, *hi) of an image row whose tap offset ow*stride + off lands
 * inside [0, w); the rest of the row is padding. */
void tap_range(int w, int wo, int stride, int off, int *lo, int *hi) {
  int a = off < 0 ? (-off + stride - 1) / stride : 0;
  int b = w - off > 0 ? (w - off + stride - 1) / stride : 0;
  a = min(a, wo);
  *lo = a;
  *hi = clamp(b, a, wo);
}

/* im2col_f32's result, one column-matrix row per item: nb*P consecutive floats, the rows of
 * the window's tap that fall in the padding found once (no test per element), and 4
 * outputs per vector load for strides 1 and 2. Launched over (c*kh*kw). */
__kernel void im2col_rows_f32(const int nb, const int c, const int h, const int w,
                              const int ho, const int wo, const int kh, const int kw,
                              const int stride, const int pad, __global const float *x,
                              const ulong xo, __global float *col, const ulong colo) {
  const int krow = (int)get_global_id(0);
  if (krow >= c * kh * kw) return;
  int kx, ky;
  const int ch = divmod(divmod(krow, kw, &kx), kh, &ky);
  const int p_count = ho * wo;
  int lo, hi, oh_lo, oh_hi;
  tap_range(w, wo, stride, kx - pad, &lo, &hi);
  tap_range(h, ho, stride, ky - pad, &oh_lo, &oh_hi);
  __global float *dst = col + colo + (size_t)krow * nb * p_count;
  const size_t plane = (size_t)c * h * w;
  __global const float *xc = x + xo + (size_t)ch * h * w;
  for (int n = 0; n < nb; n++, xc += plane) {
    int oh = 0;
    for (; oh < oh_lo; oh++, dst += wo)
      for (int ow = 0; ow < wo; ow++) dst[ow] = 0.0f;
    for (; oh < oh_hi; oh++, dst += wo) {
      /* xc[base + ow*stride] is x[n][ch][oh*stride + ky - pad][ow*stride + kx - pad]; base
       * may be negative, base + ow*stride is not for ow >= lo */
      const int base = (oh * stride + ky - pad) * w + kx - pad;
      int ow = 0;
      for (; ow < lo; ow++) dst[ow] = 0.0f;
      if (stride == 2) {
        /* taps 2ow .. 2ow + 7 of the row: all inside it while ow + 4 < hi */
        for (; ow + 5 <= hi; ow += 4)
          vstore4(vload8(0, xc + (base + 2 * ow)).even, 0, dst + ow);
      } else if (stride == 1) {
        for (; ow + 4 <= hi; ow += 4) vstore4(vload4(0, xc + (base + ow)), 0, dst + ow);
      }
      for (; ow < hi; ow++) dst[ow] = xc[base + ow * stride];
      for (; ow < wo; ow++) dst[ow] = 0.0f;
    }
    for (; oh < ho; oh++, dst += wo)
      for (int ow = 0; ow < wo; ow++) dst[ow] = 0.0f;
  }
}

/* im2colT_f32's result, one output pixel (a colT row of c*kh*kw consecutive floats) per
 * item. Launched over (nb*P). */
__kernel void im2colT_rows_f32(const int nb, const int c, const int h, const int w,
                               const int ho, const int wo, const int kh, const int kw,
                               const int stride, const int pad, __global const float *x,
                               const ulong xo, __global float *colt, const ulong colo) {
  const int j = (int)get_global_id(0);
  if (j >= nb * ho * wo) return;
  int p, ow;
  const int n = divmod(j, ho * wo, &p), oh = divmod(p, wo, &ow);
  __global float *dst = colt + colo + (size_t)j * c * kh * kw;
  __global const float *src = x + xo + (size_t)n * c * h * w;
  const int ih0 = oh * stride - pad, iw0 = ow * stride - pad;
  /* the taps inside the image: ky in [ky0, ky1), kx in [kx0, kx1) */
  const int ky0 = max(-ih0, 0), ky1 = clamp(h - ih0, ky0, kh);
  const int kx0 = max(-iw0, 0), kx1 = clamp(w - iw0, kx0, kw);
  if (kw == 4 && kx0 == 0 && kx1 == 4) {
    /* 4-wide windows away from the left and right edges (every DCGAN layer): one float4
     * per window row; vload4/vstore4 need only float alignment. About 2x the loop below. */
    for (int ch = 0; ch < c; ch++, src += h * w) {
      int ky = 0;
      for (; ky < ky0; ky++, dst += 4) vstore4((float4)(0.0f), 0, dst);
      for (; ky < ky1; ky++, dst += 4) vstore4(vload4(0, src + (ih0 + ky) * w + iw0), 0, dst);
      for (; ky < kh; ky++, dst += 4) vstore4((float4)(0.0f), 0, dst);
    }
    return;
  }
  for (int ch = 0; ch < c; ch++, src += h * w) {
    int ky = 0;
    for (; ky < ky0; ky++)
      for (int kx = 0; kx < kw; kx++) *dst++ = 0.0f;
    for (; ky < ky1; ky++) {
      const int row = (ih0 + ky) * w + iw0; /* may be negative; row + kx is not, kx >= kx0 */
      int kx = 0;
      for (; kx < kx0; kx++) *dst++ = 0.0f;
      for (; kx < kx1; kx++) *dst++ = src[row + kx];
      for (; kx < kw; kx++) *dst++ = 0.0f;
    }
    for (; ky < kh; ky++)
      for (int kx = 0; kx < kw; kx++) *dst++ = 0.0f;
  }
}

/* col2im_rows_f32 for DCGAN's 4x4 stride-2 pad-1 layers, output row by output row: each
 * element of row ih gets its terms from the two window rows ky with ky = ih + 1 (mod 2) (ky
 * ascending, an out-of-range oh skipped) and, within a row, from kx 1 then 3 (even columns
 * 2j: ow = j, j - 1) or kx 0 then 2 (odd columns 2j + 1: ow = j + 1, j): the order of the
 * general loop, so bit for bit its sums, in one pass over the plane (4 column pairs per
 * vector step when wo is a multiple of 4). */
static void col2im_k4s2p1_plane(const int ho, const int wo, const size_t cols, const float init,
                                __global const float *cr, __global float *dst) {
  const int w = 2 * wo;
  for (int ih = 0; ih < 2 * ho; ih++, dst += w) {
    const int ky0 = (ih + 1) & 1, oh0 = (ih + 1 - ky0) / 2;
    /* window rows in ascending ky: ky0 at oh0, ky0 + 2 at oh0 - 1 */
    int nk = 0;
    __global const float *r[2][4];
    for (int t = 0; t < 2; t++) {
      const int ky = ky0 + 2 * t, oh = oh0 - t;
      if (oh < 0 || oh >= ho) continue;
      for (int kx = 0; kx < 4; kx++) r[nk][kx] = cr + (size_t)(ky * 4 + kx) * cols + oh * wo;
      nk++;
    }
    if (wo % 4 == 0) {
      /* 4 column pairs per step; at the row's ends the lane whose ow falls outside (kx 3 at
       * j = 0, kx 0 at j = wo - 1) keeps its sum, as the scalar loop skips the term */
      for (int j = 0; j < wo; j += 4) {
        float4 e = (float4)(init), o = (float4)(init);
        for (int t = 0; t < nk; t++) {
          __global const float *r0 = r[t][0], *r3 = r[t][3];
          const float4 a3 = j > 0 ? vload4(0, r3 + j - 1) : (float4)(0.0f, r3[0], r3[1], r3[2]);
          const float4 a0 =
              j + 4 < wo ? vload4(0, r0 + j + 1) : (float4)(r0[j + 1], r0[j + 2], r0[j + 3], 0.0f);
          e += vload4(0, r[t][1] + j);
          float4 s = e + a3;
          if (j == 0) s.s0 = e.s0;
          e = s;
          s = o + a0;
          if (j + 4 >= wo) s.s3 = o.s3;
          o = s + vload4(0, r[t][2] + j);
        }
        vstore8((float8)(e.s0, o.s0, e.s1, o.s1, e.s2, o.s2, e.s3, o.s3), 0, dst + 2 * j);
      }
      continue;
    }
    for (int j = 0; j < wo; j++) {
      float e = init, o = init;
      for (int t = 0; t < nk; t++) {
        e += r[t][1][j];
        if (j >= 1) e += r[t][3][j - 1];
        if (j + 1 < wo) o += r[t][0][j + 1];
        o += r[t][2][j];
      }
      dst[2 * j] = e;
      dst[2 * j + 1] = o;
    }
  }
}

/* col2im_f32's result, one (sample, channel) image plane per item, accumulated tap by tap:
 * for each (ky, kx), the output rows and columns whose window puts that tap inside the
 * image are found once, and the tap's column-matrix row is read in consecutive runs. The
 * item owns its plane, so there are no races; each x element sums its terms over ky, kx,
 * then oh, ascending: a fixed order, so deterministic. Launched over (nb, c). */
__kernel void col2im_rows_f32(const int nb, const int c, const int h, const int w,
                              const int ho, const int wo, const int kh, const int kw,
                              const int stride, const int pad, __global const float *col,
                              const ulong colo, const int has_bias, __global const float *b,
                              const ulong bo, __global float *x, const ulong xo) {
  const int n = (int)get_global_id(0), ch = (int)get_global_id(1);
  if (n >= nb || ch >= c) return;
  const int p_count = ho * wo;
  const size_t cols = (size_t)nb * p_count;
  const float init = has_bias ? b[bo + ch] : 0.0f;
  __global float *dst = x + xo + ((size_t)n * c + ch) * h * w;
  __global const float *cr = col + colo + (size_t)ch * kh * kw * cols + (size_t)n * p_count;
  if (ho == 1 && wo == 1 && pad == 0 && kh == h && kw == w) {
    /* a 1x1 input spread over the whole window (a generator's first layer, the data
     * gradient of a discriminator's last): one term per element */
    for (int i = 0; i < h * w; i++) dst[i] = init + cr[(size_t)i * cols];
    return;
  }
  if (kh == 4 && kw == 4 && stride == 2 && pad == 1 && h == 2 * ho && w == 2 * wo) {
    col2im_k4s2p1_plane(ho, wo, cols, init, cr, dst);
    return;
  }
  for (int i = 0; i < h * w; i++) dst[i] = init;
  for (int ky = 0; ky < kh; ky++) {
    int oh_lo, oh_hi;
    tap_range(h, ho, stride, ky - pad, &oh_lo, &oh_hi);
    for (int kx = 0; kx < kw; kx++, cr += cols) {
      int lo, hi;
      tap_range(w, wo, stride, kx - pad, &lo, &hi);
      for (int oh = oh_lo; oh < oh_hi; oh++) {
        /* dst[base + ow*stride] is x[ih][ow*stride + kx - pad]; base may be negative,
         * base + ow*stride is not for ow >= lo */
        const int base = (oh * stride + ky - pad) * w + kx - pad;
        __global const float *c_row = cr + oh * wo;
        for (int ow = lo; ow < hi; ow++) dst[base + ow * stride] += c_row[ow];
      }
    }
  }
}

/* nchw_to_cnp_f32 by (sample, channel) planes of P floats. Launched over (nb, c). */
__kernel void nchw_to_cnp_rows_f32(const int nb, const int c, const int p_count,
                                   __global const float *src, const ulong so,
                                   __global float *dst, const ulong dso) {
  const int n = (int)get_global_id(0), ch = (int)get_global_id(1);
  if (n >= nb || ch >= c) return;
  __global const float *s = src + so + ((size_t)n * c + ch) * p_count;
  __global float *d = dst + dso + ((size_t)ch * nb + n) * p_count;
  for (int p = 0; p < p_count; p++) d[p] = s[p];
}

/* cnp_to_nchw_f32 by (sample, channel) planes of P floats. Launched over (nb, c). */
__kernel void cnp_to_nchw_rows_f32(const int nb, const int c, const int p_count,
                                   __global const float *src, const ulong so,
                                   const int has_bias, __global const float *b,
                                   const ulong bo, __global float *dst, const ulong dso) {
  const int n = (int)get_global_id(0), ch = (int)get_global_id(1);
  if (n >= nb || ch >= c) return;
  __global const float *s = src + so + ((size_t)ch * nb + n) * p_count;
  __global float *d = dst + dso + ((size_t)n * c + ch) * p_count;
  if (has_bias) {
    const float add = b[bo + ch];
    for (int p = 0; p < p_count; p++) d[p] = s[p] + add;
  } else {
    for (int p = 0; p < p_count; p++) d[p] = s[p];
  }
}

/* y (n, c, P) += b (c). */
__kernel void bias_add_f32(const ulong total, const int c, const int p_count,
                           __global const float *b, const ulong bo, __global float *y,
                           const ulong yo) {
  const size_t i = get_global_id(0);
  if (i >= total) return;
  y[yo + i] += b[bo + (i / (size_t)p_count) % (size_t)c]; /* no pair: different operands */
}

/* db[ch] (+)= sum over n and P of dy (n, c, P). One work-group per channel: each item sums
 * a strided slice, then a tree in local memory (the local size is a power of two). The
 * order is fixed for a given local size, so the result is reproducible. */
__kernel void bias_grad_f32(const int n, const int c, const int p_count,
                            __global const float *dy, const ulong dyo, __global float *db,
                            const ulong dbo, const int accumulate, __local float *part) {
  const size_t ch = get_group_id(0);
  const size_t lid = get_local_id(0), ls = get_local_size(0);
  const size_t count = (size_t)n * p_count;
  float acc = 0.0f;
  for (size_t j = lid; j < count; j += ls) {
    const size_t s = j / (size_t)p_count, p = j - s * (size_t)p_count; /* no pair: see divmod */
    acc += dy[dyo + (s * (size_t)c + ch) * (size_t)p_count + p];
  }
  part[lid] = acc;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (size_t span = ls / 2; span > 0; span /= 2) {
    if (lid < span) part[lid] += part[lid + span];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (lid == 0) db[dbo + ch] = accumulate ? db[dbo + ch] + part[0] : part[0];
}

/* bias_grad_f32's result for a local size of ls (a power of two <= 256) from one item per
 * channel, with no barriers (a CPU, where each barrier is a pass over the group): the ls
 * partial sums in a private array, each taking its terms in the same order, then the same
 * tree. Bitwise the value bias_grad_f32 gives with ls items. */
__kernel void bias_grad_serial_f32(const int n, const int c, const int p_count,
                                   __global const float *dy, const ulong dyo,
                                   __global float *db, const ulong dbo, const int accumulate,
                                   const int ls) {
  const size_t ch = get_global_id(0);
  if (ch >= (size_t)c) return;
  float part[256];
  for (int i = 0; i < ls; i++) part[i] = 0.0f;
  int slot = 0;
  for (int s = 0; s < n; s++) {
    __global const float *row = dy + dyo + ((size_t)s * (size_t)c + ch) * (size_t)p_count;
    for (int q = 0; q < p_count; q++) {
      part[slot] += row[q];
      slot = slot + 1 == ls ? 0 : slot + 1;
    }
  }
  for (int span = ls / 2; span > 0; span /= 2)
    for (int i = 0; i < span; i++) part[i] += part[i + span];
  db[dbo + ch] = accumulate ? db[dbo + ch] + part[0] : part[0];
}
