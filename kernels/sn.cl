/* Spectral normalisation, as torch.nn.utils.spectral_norm: one power iteration on the
 * persistent u, v, sigma = u . (W v), W / sigma, and the backward through W / sigma.
 * Host launchers: src/ops/ops_sn.c. Tests: tests/ops_nn/test_sn.c (float64 reference,
 * LAPACK's largest singular value, finite differences; Oclgrind with --small). */

/* The weight as PyTorch's (rows x cols) weight_mat: row-major (conv, linear: dim 0), or,
 * for kk > 0, a ConvTranspose2d weight (in, out, k, k) seen with dim 1 first: row r is
 * output channel r, column c = in * kk + q (kk = k * k). */
inline size_t sn_at(int rows, int cols, int kk, int r, int c) {
  if (kk == 0) return (size_t)r * (size_t)cols + (size_t)c;
  int q = c / kk;
  return ((size_t)q * (size_t)rows + (size_t)r) * (size_t)kk + (size_t)(c - q * kk);
}

/* One work-group. power: v = normalize(W^T u), u = normalize(W v) (each v / max(|v|, eps),
 * as torch.nn.functional.normalize), then, with or without the iteration, work[0..rows) =
 * W v and work[rows] = sigma = u . (W v). Fixed summation order: the same bits every call. */
__kernel void sn_sigma(const int rows, const int cols, const int kk,
                       __global const float *w, const ulong wo,
                       __global float *u, const ulong uo, __global float *v, const ulong vo,
                       __global float *work, const ulong so, const int power, const float eps,
                       __local float *scratch) {
  int lid = (int)get_local_id(0), l = (int)get_local_size(0);
  w += wo, u += uo, v += vo, work += so;
  /* one item over a row-major W (a CPU): the same sums, in the same order per element,
   * walked row by row (W^T u) and four rows at a time (W v), not down W's columns */
  int rowwise = l == 1 && kk == 0;
  if (power && rowwise) {
    for (int c = 0; c < cols; c++) v[c] = 0.0f;
    for (int r = 0; r < rows; r++) {
      float ur = u[r];
      __global const float *wr = w + (size_t)r * (size_t)cols;
      for (int c = 0; c < cols; c++) v[c] += wr[c] * ur;
    }
  } else if (power) {
    for (int c = lid; c < cols; c += l) {
      float acc = 0.0f;
      for (int r = 0; r < rows; r++) acc += w[sn_at(rows, cols, kk, r, c)] * u[r];
      v[c] = acc;
    }
  }
  if (power) {
    float part = 0.0f;
    for (int c = lid; c < cols; c += l) part += v[c] * v[c];
    float den = fmax(sqrt(clgan_group_sum(scratch, part)), eps);
    for (int c = lid; c < cols; c += l) v[c] = v[c] / den;
    barrier(CLK_GLOBAL_MEM_FENCE);
  }
  int r0 = lid;
  if (rowwise)
    for (; r0 + 4 <= rows; r0 += 4) {
      __global const float *w0 = w + (size_t)r0 * (size_t)cols;
      __global const float *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;
      float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
      for (int c = 0; c < cols; c++) {
        float vc = v[c];
        a0 += w0[c] * vc;
        a1 += w1[c] * vc;
        a2 += w2[c] * vc;
        a3 += w3[c] * vc;
      }
      work[r0] = a0, work[r0 + 1] = a1, work[r0 + 2] = a2, work[r0 + 3] = a3;
    }
  for (int r = r0; r < rows; r += l) {
    float acc = 0.0f;
    for (int c = 0; c < cols; c++) acc += w[sn_at(rows, cols, kk, r, c)] * v[c];
    work[r] = acc;
  }
  if (power) {
    float part = 0.0f;
    for (int r = lid; r < rows; r += l) part += work[r] * work[r];
    float den = fmax(sqrt(clgan_group_sum(scratch, part)), eps);
    for (int r = lid; r < rows; r += l) u[r] = work[r] / den;
  }
  /* each item reads back only the u and work values it wrote itself */
  float part = 0.0f;
  for (int r = lid; r < rows; r += l) part += u[r] * work[r];
  float sigma = clgan_group_sum(scratch, part);
  if (lid == 0) work[rows] = sigma;
}

/* out = w / sigma (sigma = work[so + rows], from sn_sigma). */
__kernel void sn_scale(const ulong n, __global const float *w, const ulong wo,
                       __global const float *work, const ulong so, __global float *out,
                       const ulong oo) {
  size_t i = get_global_id(0);
  if (i >= n) return;
  out[oo + i] = w[wo + i] / work[so];
}

/* One work-group: d loss / d sigma = -sum(g * w) / sigma^2 into work[so + 1] (sigma at
 * work[so]), g the gradient of W / sigma. */
__kernel void sn_dsigma(const ulong n, __global const float *g, const ulong go,
                        __global const float *w, const ulong wo, __global float *work,
                        const ulong so, __local float *scratch) {
  int lid = (int)get_local_id(0), l = (int)get_local_size(0);
  float part = 0.0f;
  for (size_t i = (size_t)lid; i < n; i += (size_t)l) part += g[go + i] * w[wo + i];
  float sum = clgan_group_sum(scratch, part);
  if (lid == 0) {
    float sigma = work[so];
    work[so + 1] = -sum / (sigma * sigma);
  }
}

/* d loss / d W = g / sigma + (dsigma u) v^T, written or (acc) added into dw; g and dw in
 * the weight's own layout. */
__kernel void sn_backward(const int rows, const int cols, const int kk,
                          __global const float *g, const ulong go,
                          __global const float *u, const ulong uo,
                          __global const float *v, const ulong vo,
                          __global const float *work, const ulong so,
                          __global float *dw, const ulong dwo, const int acc) {
  size_t i = get_global_id(0), n = (size_t)rows * (size_t)cols;
  if (i >= n) return;
  /* remainders by subtraction: a % beside the same / compiles to an LLVM freeze, which
   * Oclgrind cannot run (kernels/graph.cl) */
  int r, c;
  if (kk == 0) {
    size_t q = i / (size_t)cols;
    r = (int)q;
    c = (int)(i - q * (size_t)cols);
  } else {
    size_t a = i / (size_t)kk, b = a / (size_t)rows;
    r = (int)(a - b * (size_t)rows);
    c = (int)b * kk + (int)(i - a * (size_t)kk);
  }
  float sigma = work[so], ds = work[so + 1];
  float t = g[go + i] / sigma + (ds * u[uo + r]) * v[vo + c];
  dw[dwo + i] = acc ? dw[dwo + i] + t : t;
}

/* sn_backward for a row-major W (kk = 0) on a CPU: item r does row r, walking its columns
 * (no division per element); the same value per element. */
__kernel void sn_backward_rows(const int rows, const int cols, __global const float *g,
                               const ulong go, __global const float *u, const ulong uo,
                               __global const float *v, const ulong vo,
                               __global const float *work, const ulong so, __global float *dw,
                               const ulong dwo, const int acc) {
  int r = (int)get_global_id(0);
  if (r >= rows) return;
  float sigma = work[so], ds = work[so + 1], su = ds * u[uo + r];
  __global const float *gr = g + go + (size_t)r * (size_t)cols;
  __global const float *vr = v + vo;
  __global float *out = dw + dwo + (size_t)r * (size_t)cols;
  if (acc)
    for (int c = 0; c < cols; c++) out[c] = out[c] + (gr[c] / sigma + su * vr[c]);
  else
    for (int c = 0; c < cols; c++) out[c] = gr[c] / sigma + su * vr[c];
}
