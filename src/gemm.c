/* The only file that talks to CLBlast: SGEMM and strided-batched SGEMM on clgan views.
 * Tests: tests/test_gemm.c (against a host reference); `clgan doctor` checks it too. */
#include <clblast_c.h>
#include <stdlib.h>

#include "clgan/ops.h"
#include "internal.h"

static const char *clblast_name(CLBlastStatusCode c) {
  switch (c) {
    case CLBlastNotImplemented: return "CLBlastNotImplemented";
    case CLBlastInvalidMatrixA: return "CLBlastInvalidMatrixA";
    case CLBlastInvalidMatrixB: return "CLBlastInvalidMatrixB";
    case CLBlastInvalidMatrixC: return "CLBlastInvalidMatrixC";
    case CLBlastInvalidDimension: return "CLBlastInvalidDimension";
    case CLBlastInvalidLeadDimA: return "CLBlastInvalidLeadDimA";
    case CLBlastInvalidLeadDimB: return "CLBlastInvalidLeadDimB";
    case CLBlastInvalidLeadDimC: return "CLBlastInvalidLeadDimC";
    case CLBlastInsufficientMemoryA: return "CLBlastInsufficientMemoryA";
    case CLBlastInsufficientMemoryB: return "CLBlastInsufficientMemoryB";
    case CLBlastInsufficientMemoryC: return "CLBlastInsufficientMemoryC";
    case CLBlastInsufficientMemoryTemp: return "CLBlastInsufficientMemoryTemp";
    case CLBlastInvalidBatchCount: return "CLBlastInvalidBatchCount";
    case CLBlastInvalidOverrideKernel: return "CLBlastInvalidOverrideKernel";
    case CLBlastMissingOverrideParameter: return "CLBlastMissingOverrideParameter";
    case CLBlastInvalidLocalMemUsage: return "CLBlastInvalidLocalMemUsage";
    case CLBlastNoHalfPrecision: return "CLBlastNoHalfPrecision";
    case CLBlastNoDoublePrecision: return "CLBlastNoDoublePrecision";
    case CLBlastDatabaseError: return "CLBlastDatabaseError";
    case CLBlastUnknownError: return "CLBlastUnknownError";
    case CLBlastUnexpectedError: return "CLBlastUnexpectedError";
    default: break;
  }
  /* the rest coincide with OpenCL's codes */
  return clgan_cl_error_name((int)c);
}

static clgan_status check(CLBlastStatusCode c, const char *what, size_t m, size_t n, size_t k) {
  if (c == CLBlastSuccess) return CLGAN_OK;
  clgan_status s = (c == CLBlastTempBufferAllocFailure || c == CLBlastOpenCLOutOfResources)
                       ? CLGAN_ERR_NOMEM : CLGAN_ERR_CLBLAST;
  return clgan_error(s, "%s (M=%zu N=%zu K=%zu) failed: %s (%d)", what, m, n, k,
                     clblast_name(c), (int)c);
}

void clgan_gemm_free(clgan_ctx *ctx) { (void)ctx; }

clgan_status clgan_gemm(clgan_ctx *ctx, int ta, int tb, size_t m, size_t n, size_t k,
                        float alpha, clgan_view a, size_t lda, clgan_view b, size_t ldb,
                        float beta, clgan_view c, size_t ldc) {
  if (m == 0 || n == 0) return CLGAN_OK;
  if (k == 0) /* CLBlast rejects K=0; C = beta*C is the right answer */
    return beta == 0.0f ? clgan_fill(ctx, m * n, 0.0f, c) : clgan_scale(ctx, m * n, beta, c);
  CLBlastStatusCode r = CLBlastSgemm(
      CLBlastLayoutRowMajor, ta ? CLBlastTransposeYes : CLBlastTransposeNo,
      tb ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a.mem, a.off, lda, b.mem,
      b.off, ldb, beta, c.mem, c.off, ldc, &ctx->queue, NULL);
  return check(r, "CLBlastSgemm", m, n, k);
}

clgan_status clgan_gemm_batched(clgan_ctx *ctx, int ta, int tb, size_t m, size_t n, size_t k,
                                float alpha, clgan_view a, size_t lda, size_t sa, clgan_view b,
                                size_t ldb, size_t sb, float beta, clgan_view c, size_t ldc,
                                size_t sc, size_t batch) {
  if (batch == 0 || m == 0 || n == 0) return CLGAN_OK;
  if (batch == 1)
    return clgan_gemm(ctx, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (k == 0) {
    for (size_t i = 0; i < batch; i++) {
      clgan_status s = clgan_gemm(ctx, ta, tb, m, n, 0, alpha, a, lda, b, ldb, beta,
                                  clgan_view_at(c, i * sc), ldc);
      if (s != CLGAN_OK) return s;
    }
    return CLGAN_OK;
  }
  CLBlastStatusCode r = CLBlastSgemmStridedBatched(
      CLBlastLayoutRowMajor, ta ? CLBlastTransposeYes : CLBlastTransposeNo,
      tb ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a.mem, a.off, lda, sa,
      b.mem, b.off, ldb, sb, beta, c.mem, c.off, ldc, sc, batch, &ctx->queue, NULL);
  return check(r, "CLBlastSgemmStridedBatched", m, n, k);
}
