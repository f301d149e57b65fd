/* Tiny test harness shared by tests/: value checks that count failures, a device opener
 * that skips (exit 77) when there is no OpenCL device, and upload/download helpers. */
#ifndef CLGAN_TEST_UTIL_H
#define CLGAN_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/clgan.h"
#include "ref.h"

static int tu_failures = 0;
static int tu_checks = 0;

#define TU_SKIP 77

#define CHECK(cond, ...)                                                   \
  do {                                                                     \
    tu_checks++;                                                           \
    if (!(cond)) {                                                         \
      tu_failures++;                                                       \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);      \
      fprintf(stderr, __VA_ARGS__);                                        \
      fprintf(stderr, "\n");                                               \
    }                                                                      \
  } while (0)

/* A library call that must succeed; prints the library's message if not. */
#define CHECK_OK(expr)                                                                     \
  do {                                                                                     \
    clgan_status tu_s = (expr);                                                            \
    tu_checks++;                                                                           \
    if (tu_s != CLGAN_OK) {                                                                \
      tu_failures++;                                                                       \
      fprintf(stderr, "FAIL %s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #expr,             \
              clgan_status_name(tu_s), clgan_last_error());                                \
    }                                                                                      \
  } while (0)

/* Compares n floats with tolerance abs + rel*|want|; reports the worst element. */
#define CHECK_CLOSE(got, want, n, abs_tol, rel_tol, what)                                  \
  do {                                                                                     \
    size_t tu_wi = 0;                                                                      \
    double tu_e = ref_max_err((got), (want), (n), (abs_tol), (rel_tol), &tu_wi);           \
    tu_checks++;                                                                           \
    if (!(tu_e <= 1.0)) {                                                                  \
      tu_failures++;                                                                       \
      fprintf(stderr, "FAIL %s:%d: %s: element %zu got %.9g want %.9g (%.3g x tolerance)\n", \
              __FILE__, __LINE__, (what), tu_wi, (double)(got)[tu_wi],                     \
              (double)(want)[tu_wi], tu_e);                                                \
    }                                                                                      \
  } while (0)

static inline int tu_finish(const char *name) {
  printf("%s: %d checks, %d failed\n", name, tu_checks, tu_failures);
  return tu_failures ? 1 : 0;
}

/* Opens the default device (or $CLGAN_DEVICE); exits 77 (skip) when there is none. */
static inline clgan_ctx *tu_open_device(void) {
  clgan_ctx *ctx = NULL;
  clgan_status s = clgan_ctx_create(NULL, 0, &ctx);
  if (s == CLGAN_ERR_NO_PLATFORM || s == CLGAN_ERR_NO_DEVICE) {
    printf("SKIP: no OpenCL device: %s\n", clgan_last_error());
    exit(TU_SKIP);
  }
  if (s != CLGAN_OK) {
    fprintf(stderr, "FAIL: opening the device: %s\n", clgan_last_error());
    exit(1);
  }
  return ctx;
}

/* New device buffer of n floats holding host (or uninitialised if host is NULL). */
static inline cl_mem tu_upload(clgan_ctx *ctx, const float *host, size_t n) {
  cl_mem m = NULL;
  if (clgan_buffer_create(ctx, (n ? n : 1) * sizeof(float), "test", &m) != CLGAN_OK ||
      (host && clgan_buffer_write(ctx, m, 0, n * sizeof(float), host) != CLGAN_OK)) {
    fprintf(stderr, "FAIL: upload: %s\n", clgan_last_error());
    exit(1);
  }
  return m;
}

static inline void tu_download(clgan_ctx *ctx, cl_mem m, size_t off, size_t n, float *host) {
  if (clgan_buffer_read(ctx, m, off * sizeof(float), n * sizeof(float), host) != CLGAN_OK) {
    fprintf(stderr, "FAIL: download: %s\n", clgan_last_error());
    exit(1);
  }
}

static inline float *tu_alloc(size_t n) {
  float *p = calloc(n ? n : 1, sizeof(float));
  if (!p) {
    fprintf(stderr, "FAIL: out of host memory\n");
    exit(1);
  }
  return p;
}

#endif
