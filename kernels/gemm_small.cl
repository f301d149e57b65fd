/* clgan's own GEMM for one shape class CLBlast's indirect kernel serves badly: NT with a
 * short M (2..16 rows), e.g. a generator's first linear layer at a small batch, Y = Z W^T
 * with Z (batch x latent) and W (features x latent) as PyTorch stores it. CLBlast pads and
 * transposes all of W into scratch on every call; here W is read in place.
 * Host launcher and routing: src/blas/gemm.c (the plan's small_m). Tests:
 * tests/perf/test_gemm.c (float64 reference; on POCL bit for bit against CLBlast's route).
 *
 * Per output element the sum runs over k = 0, 1, ..., K-1 as one chain of multiply-adds
 * from 0, as CLBlast's Xgemm does it (one accumulator per element, K in order), so the two
 * agree bit for bit where both contract a * b + c to one fma, as POCL does. */

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
