/* CLBlast's GEMM and Oclgrind's uninitialised-value check (docs/ERRORS.md, "Oclgrind's
 * uninitialised-value check"). Run through tests/oclgrind_run.sh, which fails on any
 * diagnostic. The results are checked here; a wrong one or a failed call exits 99, which
 * meson never counts as an expected failure.
 *
 * MODE fresh: SGEMMs with beta = 0 into a C that nothing ever wrote (Oclgrind: all of it
 * uninitialised), on XgemmDirect and on the indirect Xgemm with a scratch nothing wrote
 * either, odd shapes (padded tiles), both forms of the call: must be clean. So CLBlast does
 * not read C when beta is 0 (no 0 * NaN from stale memory on a real device), and its copy
 * and pad kernels write all of the scratch that Xgemm reads.
 *
 * MODE regrow (known gap): the GEMM scratch is a buffer the host never writes, and when a
 * bigger GEMM outgrows it src/blas/gemm.c releases it and creates a bigger one, which Oclgrind
 * gives the released id and, with it, the old buffer's shadow, old size included (the
 * `reuse` case of oclgrind_shadow.c): CLBlast's stores past the old size go unrecorded and
 * Oclgrind reports its TransposeMatrix and Xgemm kernels' reads of them (1000 reports).
 * meson expects the failure until the scratch is written whole by the host once when
 * created (src/blas/gemm.c, temp_for). Two indirect SGEMMs, the second bigger.
 * Usage: oclgrind_gemm_scratch [fresh|regrow]   (on $CLGAN_DEVICE, meant for Oclgrind) */
#include <string.h>

#include "clgan/gemm.h"
#include "test_util.h"

static cl_mem upload(clgan_ctx *ctx, const float *h, size_t n) {
  cl_mem m = NULL;
  if (clgan_buffer_create(ctx, n * sizeof(float), "x", &m) ||
      clgan_buffer_write(ctx, m, 0, n * sizeof(float), h)) {
    fprintf(stderr, "FAIL: upload: %s\n", clgan_last_error());
    exit(99);
  }
  return m;
}

/* the built-in POCL program (src/blas/gemm_tune.c): 1-item work-groups, no local memory, within
 * any device's limits; min_indirect picks the kernel whatever the shape */
static void use_plan(clgan_ctx *ctx, unsigned long min_indirect, int row_major) {
  clgan_gemm_plan p;
  clgan_gemm_plan_init(&p);
  clgan_gemm_program prog = {.xgemm = {0, 1, 16, 1, 1, 1, 16, 1, 1, 16, 0, 0, 0, 0, 16, 16},
                             .direct = {2, 4, 4, 4, 4, 0, 0, 4, 4, 32},
                             .min_indirect = min_indirect};
  p.nprograms = 1;
  p.programs[0] = prog;
  p.fallback = 0;
  p.fallback_layout = row_major ? CLGAN_GEMM_LAYOUT_ROW : CLGAN_GEMM_LAYOUT_COL;
  if (clgan_gemm_set_plan(ctx, &p)) {
    fprintf(stderr, "FAIL: set plan: %s\n", clgan_last_error());
    exit(99);
  }
}

/* C (m x n) = A B, beta 0, into a new buffer nothing writes before the GEMM; checked
 * exactly (small integers). The buffers are released only when `release` is set. */
static void gemm(clgan_ctx *ctx, size_t m, size_t n, size_t k, int release) {
  float *a = tu_alloc(m * k), *b = tu_alloc(k * n), *c = tu_alloc(m * n);
  for (size_t i = 0; i < m * k; i++) a[i] = (float)(i % 7) - 3.0f;
  for (size_t i = 0; i < k * n; i++) b[i] = (float)(i % 5) - 2.0f;
  cl_mem da = upload(ctx, a, m * k), db = upload(ctx, b, k * n), dc = NULL;
  if (clgan_buffer_create(ctx, m * n * sizeof(float), "c", &dc) ||
      clgan_gemm(ctx, 0, 0, m, n, k, 1.0f, CLGAN_VIEW(da, 0), k, CLGAN_VIEW(db, 0), n, 0.0f,
                 CLGAN_VIEW(dc, 0), n) ||
      clgan_buffer_read(ctx, dc, 0, m * n * sizeof(float), c)) {
    fprintf(stderr, "FAIL: gemm %zux%zux%zu: %s\n", m, n, k, clgan_last_error());
    exit(99);
  }
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      float want = 0.0f;
      for (size_t q = 0; q < k; q++) want += a[i * k + q] * b[q * n + j];
      if (c[i * n + j] != want) {
        fprintf(stderr, "FAIL: gemm %zux%zux%zu: C[%zu][%zu] = %g, want %g\n", m, n, k, i, j,
                c[i * n + j], want);
        exit(99);
      }
    }
  printf("gemm %zux%zux%zu: right, scratch %zu bytes\n", m, n, k, clgan_gemm_scratch_bytes(ctx));
  if (release) {
    clgan_buffer_release(&da);
    clgan_buffer_release(&db);
    clgan_buffer_release(&dc);
  }
  free(a);
  free(b);
  free(c);
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "regrow";
  clgan_ctx *ctx = tu_open_device();
  if (!strcmp(mode, "fresh")) {
    /* nothing is released before the end, so every buffer is new, never a released one's
     * id; the scratch the direct calls leave (4 KiB, unused) is released when the indirect
     * one outgrows it, but as no kernel ever had it, Oclgrind made no shadow for its id */
    for (int row = 0; row < 2; row++) {
      use_plan(ctx, CLGAN_GEMM_ALWAYS_DIRECT, row);
      gemm(ctx, 5, 7, 3, 0);
      gemm(ctx, 33, 29, 17, 0);
    }
    /* the indirect kernel: one scratch, sized by the first (biggest) call */
    use_plan(ctx, CLGAN_GEMM_ALWAYS_INDIRECT, 1);
    gemm(ctx, 33, 29, 17, 0);
    use_plan(ctx, CLGAN_GEMM_ALWAYS_INDIRECT, 0);
    gemm(ctx, 31, 9, 13, 0);
  } else if (!strcmp(mode, "regrow")) {
    use_plan(ctx, CLGAN_GEMM_ALWAYS_INDIRECT, 1);
    gemm(ctx, 5, 7, 3, 1);
    size_t first = clgan_gemm_scratch_bytes(ctx);
    gemm(ctx, 33, 29, 17, 1);
    if (!(first > 0 && clgan_gemm_scratch_bytes(ctx) > first)) {
      fprintf(stderr, "FAIL: the scratch did not grow: the test tests nothing\n");
      return 99;
    }
  } else {
    fprintf(stderr, "usage: oclgrind_gemm_scratch [fresh|regrow]\n");
    return 99;
  }
  clgan_ctx_free(ctx);
  return 0;
}
