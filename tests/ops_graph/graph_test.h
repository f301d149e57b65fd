/* Helpers for the graph-node device tests (tests/ops_graph/test_graph_*.c), on top of the nn
 * tests' guarded buffers: float <-> double copies for the float64 references, int label
 * buffers with guards, and the tolerances every test states.
 *
 * Tolerances, abs + rel*|ref| against the float64 reference of the same float inputs:
 * - TOL_EXACT: copies and permutations, alone or added to the old value (one correctly
 *   rounded float add is the double sum rounded, bar a double-rounding tie): abs 1e-30,
 *   rel 1.2e-7 (1 ulp).
 * - TOL_ELEM: a product of values <= 1, perhaps added to an old value (a compiler may
 *   contract the multiply-add into one rounding, and cancellation makes that error
 *   absolute): abs 1.2e-7 + rel 2.4e-7.
 * - tol_sum(m): a float sum of m terms of size <= 1 (inputs in [-1, 1)): the recursive
 *   bound m * 2^-24 * sum|term| <= m^2 * 6e-8 is loose; we allow abs 1.2e-7 * m + rel 1e-6,
 *   which a sum in any sane order meets (the error is ~sqrt(m) ulps of the sum's size). */
#ifndef CLGAN_GRAPH_TEST_H
#define CLGAN_GRAPH_TEST_H

#include "../ops_nn/nn_test.h"
#include "ref_graph.h"

#define TOL_EXACT 1e-30, 1.2e-7
/* one product of values <= 1 (with perhaps an add contracted into it): 1 ulp of 1 abs */
#define TOL_ELEM 1.2e-7, 2.4e-7
static inline double tol_sum_abs(double m) { return 1.2e-7 * (m < 1 ? 1 : m); }
#define TOL_SUM(m) tol_sum_abs(m), 1e-6

static inline double *gt_dalloc(size_t n) {
  double *p = calloc(n ? n : 1, sizeof(double));
  if (!p) {
    fprintf(stderr, "FAIL: out of host memory\n");
    exit(1);
  }
  return p;
}

/* double copy of n floats */
static inline double *gt_d(const float *f, size_t n) {
  double *d = gt_dalloc(n);
  for (size_t i = 0; i < n; i++) d[i] = f[i];
  return d;
}

/* float copy of n doubles (into f) */
static inline void gt_f(const double *d, size_t n, float *f) {
  for (size_t i = 0; i < n; i++) f[i] = (float)d[i];
}

/* random floats in [-1, 1) */
static inline float *gt_rand(size_t n, unsigned long long seed) {
  float *f = tu_alloc(n);
  ref_fill_uniform(f, n, seed);
  return f;
}

/* Downloads b and compares with the double reference want (n = b.n). */
#define GT_CHECK(ctx, b, want, ...)                                \
  do {                                                             \
    float *gt_got = tu_alloc((b).n), *gt_w = tu_alloc((b).n);      \
    tb_get((ctx), (b), gt_got);                                    \
    gt_f((want), (b).n, gt_w);                                     \
    NN_CLOSE(gt_got, gt_w, (b).n, __VA_ARGS__);                    \
    free(gt_got);                                                  \
    free(gt_w);                                                    \
  } while (0)

/* Every value outside the view still the guard, then released. */
#define GT_GUARDS_FREE(ctx, what, ...)                                                  \
  do {                                                                                  \
    tbuf *gt_all[] = {__VA_ARGS__};                                                     \
    for (size_t gt_i = 0; gt_i < sizeof gt_all / sizeof *gt_all; gt_i++) {              \
      CHECK(tb_guards_ok((ctx), *gt_all[gt_i]), "%s: buffer %zu written outside its view", \
            (what), gt_i);                                                              \
      tb_free(gt_all[gt_i]);                                                            \
    }                                                                                   \
  } while (0)

/* n ints at int offset off, guards around, written whole from offset 0 (see tb_set). */
static inline tbuf gt_int_buf(clgan_ctx *ctx, const int *host, size_t n, size_t off) {
  size_t total = off + n + NN_TAIL;
  int *h = calloc(total, sizeof(int));
  if (!h) exit(1);
  for (size_t i = 0; i < total; i++) h[i] = -7777;
  for (size_t i = 0; i < n; i++) h[off + i] = host[i];
  cl_mem m = NULL;
  if (clgan_buffer_create(ctx, total * sizeof(int), "test labels", &m) ||
      clgan_buffer_write(ctx, m, 0, total * sizeof(int), h)) {
    fprintf(stderr, "FAIL: labels upload: %s\n", clgan_last_error());
    exit(1);
  }
  free(h);
  tbuf b = {m, off, n};
  return b;
}

/* A call that must fail with CLGAN_ERR_INVALID_ARG and a message containing `needle`. */
#define GT_BAD(expr, needle)                                                                \
  do {                                                                                      \
    clgan_status gt_s = (expr);                                                             \
    CHECK(gt_s == CLGAN_ERR_INVALID_ARG && strstr(clgan_last_error(), (needle)),            \
          "%s: want INVALID_ARG with '%s', got %s (%s)", #expr, (needle),                   \
          clgan_status_name(gt_s), clgan_last_error());                                     \
  } while (0)

#endif

/* The device values of b as doubles (the base an accumulating call adds to). */
static inline double *gt_get(clgan_ctx *ctx, tbuf b) {
  float *f = tu_alloc(b.n);
  tb_get(ctx, b, f);
  double *d = gt_d(f, b.n);
  free(f);
  return d;
}
