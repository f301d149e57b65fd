/* clgan's own GEMM kernels for two shape classes CLBlast's indirect kernel serves badly on a
 * CPU (the built-in POCL plan's small_m and panel; host launchers and routing in
 * src/blas/gemm.c; tests in tests/perf/test_gemm.c: float64 reference, and on POCL bit for
 * bit against CLBlast's route).
 *
 * Per output element both sum over k = 0, 1, ..., K-1 as one chain of multiply-adds from 0,
 * as CLBlast's Xgemm does it (one accumulator per element, K in order), so they agree with
 * it bit for bit where both contract a * b + c to one fma, as POCL does.
 *
 * Small M: NT with a short M (2..16 rows), e.g. a generator's first linear layer at a small
 * batch, Y = Z W^T with Z (batch x latent) and W (features x latent) as PyTorch stores it.
 * CLBlast pads and transposes all of W into scratch on every call; here W is read in place. */

/* Output columns (rows of B) an item computes at a time. */
#define GS_NB 4

/* C = alpha A B^T + beta C, A m x k (lda), B n x k (ldb), C m x n (ldc), all row-major;
 * m <= 16. Item g computes columns [g * per_item, (g + 1) * per_item) of C (per_item a
 * multiple of GS_NB), GS_NB at a time, each with a float16 accumulator (lane i = row i); at
 * holds A^T (k float16 vectors, lanes >= m zero), filled by the group. beta == 0 does not
 * read C. */
__kernel void gemm_nt_small_m(const int m, const int n, const int k, const float alpha,
                              __global const float *a, const ulong ao, const int lda,
                              __global const float *b, const ulong bo, const int ldb,
                              const float beta, __global float *c, const ulong co,
                              const int ldc, const int per_item,
                              __local float16 *at) {
  a += ao, b += bo, c += co;
  int lid = (int)get_local_id(0), l = (int)get_local_size(0);
  for (int q = lid; q < k; q += l) {
    float col[16];
    for (int i = 0; i < 16; i++) col[i] = i < m ? a[(size_t)i * (size_t)lda + (size_t)q] : 0.0f;
    at[q] = vload16(0, col);
  }
  barrier(CLK_LOCAL_MEM_FENCE);
  int first = (int)get_global_id(0) * per_item, end = min(n, first + per_item);
  for (int j0 = first; j0 < end; j0 += GS_NB) {
    /* a last block with fewer columns recomputes column n - 1 in its spare slots */
    __global const float *b0 = b + (size_t)min(j0 + 0, n - 1) * (size_t)ldb;
    __global const float *b1 = b + (size_t)min(j0 + 1, n - 1) * (size_t)ldb;
    __global const float *b2 = b + (size_t)min(j0 + 2, n - 1) * (size_t)ldb;
    __global const float *b3 = b + (size_t)min(j0 + 3, n - 1) * (size_t)ldb;
    float16 c0 = (float16)(0.0f), c1 = (float16)(0.0f), c2 = (float16)(0.0f),
            c3 = (float16)(0.0f);
    for (int q = 0; q < k; q++) {
      float16 x = at[q];
      c0 = fma(x, (float16)(b0[q]), c0);
      c1 = fma(x, (float16)(b1[q]), c1);
      c2 = fma(x, (float16)(b2[q]), c2);
      c3 = fma(x, (float16)(b3[q]), c3);
    }
    float r[GS_NB][16];
    vstore16(c0, 0, r[0]);
    vstore16(c1, 0, r[1]);
    vstore16(c2, 0, r[2]);
    vstore16(c3, 0, r[3]);
    for (int t = 0; t < GS_NB && j0 + t < end; t++)
      for (int i = 0; i < m; i++) {
        __global float *out = c + (size_t)i * (size_t)ldc + (size_t)(j0 + t);
        *out = beta == 0.0f ? alpha * r[t][i] : alpha * r[t][i] + beta * *out;
      }
  }
}

/* ---- NN and NT by packed column panels ----
 * CLBlast's Xgemm on POCL walks K from end to end in each work-item without blocking, reading
 * B's columns with a stride of a row (a new page per k for wide B): 80-130 GFLOPS on the long
 * NN shapes where OpenBLAS reaches 190, and for NT it transposes B into scratch first. Packing
 * op(B) once into 32-column panels makes each item's B one contiguous stream, and items of
 * one panel run one after another on a core, so the panel stays in its cache while A's 8 rows
 * stream past: 160-205 GFLOPS on the same shapes (docs/PERFORMANCE.md, "Shapes no plan
 * covers"). TN keeps CLBlast: there its column-major form was as fast. */

/* Panels: op(B) seen as K x n cut into strips of PANEL_W columns, each strip's K rows of
 * PANEL_W values contiguous: bp[(p * k + q) * PANEL_W + t] = op(B)[q][p * PANEL_W + t], 0 past
 * n. */
#define PANEL_W 32

/* NN: B stored k x n (row q contiguous), one row per item. Launched over k. */
__kernel void gemm_pack_rows(const int n, const int k, __global const float *b, const ulong bo,
                             const int ldb, __global float *bp) {
  const int q = (int)get_global_id(0);
  if (q >= k) return;
  __global const float *src = b + bo + (size_t)q * (size_t)ldb;
  const int strips = (n + PANEL_W - 1) / PANEL_W;
  for (int p = 0; p < strips; p++) {
    __global float *d = bp + ((size_t)p * (size_t)k + (size_t)q) * PANEL_W;
    const int j0 = p * PANEL_W;
    if (j0 + PANEL_W <= n) {
      for (int t = 0; t < PANEL_W; t += 8) vstore8(vload8(0, src + j0 + t), 0, d + t);
    } else {
      for (int t = 0; t < PANEL_W; t++) d[t] = j0 + t < n ? src[j0 + t] : 0.0f;
    }
  }
}

/* NT: B stored n x k (row j contiguous over k); item (q block, strip) moves a PANEL_W x 16
 * block, reading PANEL_W rows 16 values at a time. Launched over (ceil(k / 16), strips). */
__kernel void gemm_pack_cols(const int n, const int k, __global const float *b, const ulong bo,
                             const int ldb, __global float *bp) {
  const int q0 = (int)get_global_id(0) * 16, p = (int)get_global_id(1);
  if (q0 >= k || p * PANEL_W >= n) return;
  const int qn = min(16, k - q0);
  __global float *d = bp + ((size_t)p * (size_t)k + (size_t)q0) * PANEL_W;
  for (int t = 0; t < PANEL_W; t++) {
    const int j = p * PANEL_W + t;
    __global const float *src = b + bo + (size_t)min(j, n - 1) * (size_t)ldb + q0;
    for (int q = 0; q < qn; q++) d[q * PANEL_W + t] = j < n ? src[q] : 0.0f;
  }
}

static inline void panel_store(__global float *out, const float16 v0, const float16 v1,
                               const int cols, const float alpha, const float beta) {
  if (cols == 32) {
    if (beta == 0.0f) {
      vstore16(alpha * v0, 0, out);
      vstore16(alpha * v1, 0, out + 16);
    } else {
      vstore16(alpha * v0 + beta * vload16(0, out), 0, out);
      vstore16(alpha * v1 + beta * vload16(0, out + 16), 0, out + 16);
    }
    return;
  }
  float r[32];
  vstore16(v0, 0, r);
  vstore16(v1, 0, r + 16);
  for (int t = 0; t < cols; t++) out[t] = beta == 0.0f ? alpha * r[t] : alpha * r[t] + beta * out[t];
}

#define PN_ACC(r) float16 c##r##0 = (float16)(0.0f), c##r##1 = (float16)(0.0f);
#define PN_ROW(r) __global const float *a##r = a + (size_t)min(i0 + r, m - 1) * (size_t)lda;
#define PN_FMA(r, v)                                                                       \
  {                                                                                        \
    const float16 x = (float16)(v);                                                        \
    c##r##0 = fma(x, b0, c##r##0);                                                         \
    c##r##1 = fma(x, b1, c##r##1);                                                         \
  }
#define PN_STORE(r)                                                                        \
  if (i0 + r < m) panel_store(c + (size_t)(i0 + r) * (size_t)ldc + j0, c##r##0, c##r##1, cols, alpha, beta);
#define PN_ALL(M) M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)

/* C = alpha A op(B) + beta C, row-major, op(B) packed into 32-column panels at bp. Item
 * (ip, jp) computes the 8 x 32 tile of C at rows 8 ip, columns 32 jp: per element one chain
 * of multiply-adds over k = 0 .. K-1 in order from 0, as CLBlast's Xgemm. Launched over
 * (ceil(m / 8), ceil(n / 32)). A is read in place (m x k, lda). */
__kernel void gemm_panel(const int m, const int n, const int k, const float alpha,
                         __global const float *a, const ulong ao, const int lda,
                         __global const float16 *bp, const float beta, __global float *c,
                         const ulong co, const int ldc) {
  const int i0 = (int)get_global_id(0) * 8, jp = (int)get_global_id(1), j0 = jp * 32;
  if (i0 >= m || j0 >= n) return;
  a += ao, c += co;
  PN_ALL(PN_ACC) PN_ALL(PN_ROW)
  __global const float16 *bq = bp + (size_t)jp * (size_t)k * 2;
  for (int q = 0; q < k; q++) {
    const float16 b0 = bq[2 * q], b1 = bq[2 * q + 1];
    PN_FMA(0, a0[q]) PN_FMA(1, a1[q]) PN_FMA(2, a2[q]) PN_FMA(3, a3[q])
    PN_FMA(4, a4[q]) PN_FMA(5, a5[q]) PN_FMA(6, a6[q]) PN_FMA(7, a7[q])
  }
  const int cols = min(32, n - j0);
  PN_ALL(PN_STORE)
}
