/* Doctor checks for the elementwise basics and CLBlast SGEMM. */
#include <stdio.h>
#include <stdlib.h>

#include "ref.h"
#include "doctor.h"

clgan_status doctor_upload(clgan_ctx *ctx, const float *host, size_t n, const char *what,
                           cl_mem *out) {
  clgan_status s = clgan_buffer_create(ctx, n * sizeof(float), what, out);
  if (s == CLGAN_OK && host) s = clgan_buffer_write(ctx, *out, 0, n * sizeof(float), host);
  if (s != CLGAN_OK) clgan_buffer_release(out);
  return s;
}

clgan_status doctor_download(clgan_ctx *ctx, cl_mem buf, size_t n, float *host) {
  return clgan_buffer_read(ctx, buf, 0, n * sizeof(float), host);
}

static clgan_status check_fill_axpy(clgan_ctx *ctx, double *err, char *detail, size_t cap) {
  enum { N = 1000, OFF = 3 };
  float x[N], y[N], want[N], got[N];
  ref_fill_uniform(x, N, 1);
  ref_fill_uniform(y, N, 2);
  cl_mem bx = NULL, by = NULL;
  clgan_status s = doctor_upload(ctx, x, N, "doctor.x", &bx);
  if (!s) s = doctor_upload(ctx, y, N, "doctor.y", &by);
  /* y[OFF..] = 0.5; y += -2 * x; y *= 3 -- exercises offsets and odd sizes */
  if (!s) s = clgan_fill(ctx, N - OFF, 0.5f, CLGAN_VIEW(by, OFF));
  if (!s) s = clgan_axpy(ctx, N - OFF, -2.0f, CLGAN_VIEW(bx, OFF), CLGAN_VIEW(by, OFF));
  if (!s) s = clgan_scale(ctx, N - OFF, 3.0f, CLGAN_VIEW(by, OFF));
  if (!s) s = doctor_download(ctx, by, N, got);
  for (int i = 0; i < N; i++)
    want[i] = i < OFF ? y[i] : (float)(((double)0.5 - 2.0 * x[i]) * 3.0);
  if (!s) *err = ref_max_err(got, want, N, 1e-6, 1e-6, NULL);
  snprintf(detail, cap, "n=%d offset=%d", N - OFF, OFF);
  clgan_buffer_release(&bx);
  clgan_buffer_release(&by);
  return s;
}

static clgan_status check_sgemm(clgan_ctx *ctx, double *err, char *detail, size_t cap) {
  /* odd sizes straddle CLBlast's tiles; transposes and offsets as the layers use them */
  const size_t m = 33, n = 65, k = 31;
  float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n);
  float *c = malloc(sizeof(float) * (m * n + 5)), *want = malloc(sizeof(float) * m * n);
  float *got = malloc(sizeof(float) * m * n);
  cl_mem ba = NULL, bb = NULL, bc = NULL;
  clgan_status s = CLGAN_OK;
  if (!a || !b || !c || !want || !got) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    goto done;
  }
  ref_fill_uniform(a, m * k, 3);
  ref_fill_uniform(b, k * n, 4);
  ref_fill_uniform(c, m * n + 5, 5);
  for (size_t i = 0; i < m * n; i++) want[i] = c[5 + i];
  /* C = 1.5 * A^T(stored k x m)... use A stored m x k, B stored n x k (trans_b) */
  float *bt = malloc(sizeof(float) * n * k);
  if (!bt) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    goto done;
  }
  for (size_t p = 0; p < k; p++)
    for (size_t j = 0; j < n; j++) bt[j * k + p] = b[p * n + j];
  ref_gemm(0, 1, m, n, k, 1.5f, a, k, bt, k, 0.5f, want, n);
  s = doctor_upload(ctx, a, m * k, "doctor.A", &ba);
  if (!s) s = doctor_upload(ctx, bt, n * k, "doctor.B", &bb);
  if (!s) s = doctor_upload(ctx, c, m * n + 5, "doctor.C", &bc);
  free(bt);
  if (!s) s = clgan_gemm(ctx, 0, 1, m, n, k, 1.5f, CLGAN_VIEW(ba, 0), k, CLGAN_VIEW(bb, 0), k,
                         0.5f, CLGAN_VIEW(bc, 5), n);
  if (!s) s = clgan_buffer_read(ctx, bc, 5 * sizeof(float), m * n * sizeof(float), got);
  if (!s) *err = ref_max_err(got, want, m * n, 1e-5, 1e-4, NULL);
  snprintf(detail, cap, "M=%zu N=%zu K=%zu, B transposed, C offset 5", m, n, k);
done:
  clgan_buffer_release(&ba);
  clgan_buffer_release(&bb);
  clgan_buffer_release(&bc);
  free(a);
  free(b);
  free(c);
  free(want);
  free(got);
  return s;
}

const doctor_check doctor_checks_basic[] = {
    {"fill/axpy/scale", check_fill_axpy},
    {"clblast sgemm", check_sgemm},
    {NULL, NULL},
};
