/* Helpers for the nn device tests (tests/ops_nn/test_*.c): device tensors at odd offsets
 * with guard values before and after, so a kernel that writes outside its view is caught. */
#ifndef CLGAN_NN_TEST_H
#define CLGAN_NN_TEST_H

#include "test_util.h"

#define NN_GUARD (-777.25f)
#define NN_TAIL 5

typedef struct tbuf {
  cl_mem mem;
  size_t off, n;
} tbuf;

/* n floats at element offset off (host NULL: all guard values). */
static inline tbuf tb_new(clgan_ctx *ctx, const float *host, size_t n, size_t off) {
  if (n > ((size_t)1 << 32) || off > 4096) {
    fprintf(stderr, "FAIL: tb_new: implausible size %zu at offset %zu\n", n, off);
    exit(1);
  }
  size_t total = off + n + NN_TAIL;
  float *h = tu_alloc(total);
  for (size_t i = 0; i < total; i++) h[i] = NN_GUARD;
  for (size_t i = 0; host && i < n; i++) h[off + i] = host[i];
  tbuf b = {tu_upload(ctx, h, total), off, n};
  free(h);
  return b;
}

static inline clgan_view tb_view(tbuf b) { return CLGAN_VIEW(b.mem, b.off); }

static inline void tb_get(clgan_ctx *ctx, tbuf b, float *host) {
  tu_download(ctx, b.mem, b.off, b.n, host);
}

/* Overwrites the view's n values (guards untouched). The whole buffer is rewritten from
 * offset 0: Oclgrind sizes its uninitialised-memory shadow of a buffer to each host write,
 * so a write of part of a buffer makes the rest read as uninitialised. */
static inline void tb_set(clgan_ctx *ctx, tbuf b, const float *host) {
  size_t bytes = 0;
  clGetMemObjectInfo(b.mem, CL_MEM_SIZE, sizeof bytes, &bytes, NULL);
  size_t total = bytes / sizeof(float);
  float *h = tu_alloc(total);
  tu_download(ctx, b.mem, 0, total, h);
  for (size_t i = 0; i < b.n; i++) h[b.off + i] = host[i];
  if (clgan_buffer_write(ctx, b.mem, 0, total * sizeof(float), h)) {
    fprintf(stderr, "FAIL: write: %s\n", clgan_last_error());
    exit(1);
  }
  free(h);
}

/* 1 if every value outside the view still holds the guard. */
static inline int tb_guards_ok(clgan_ctx *ctx, tbuf b) {
  size_t total = b.off + b.n + NN_TAIL;
  float *h = tu_alloc(total);
  tu_download(ctx, b.mem, 0, total, h);
  int ok = 1;
  for (size_t i = 0; i < total; i++)
    if ((i < b.off || i >= b.off + b.n) && h[i] != NN_GUARD) ok = 0;
  free(h);
  return ok;
}

static inline void tb_free(tbuf *b) { clgan_buffer_release(&b->mem); }

/* CHECK_CLOSE whose tolerance may be one macro holding "abs, rel". */
#define NN_CLOSE(got, want, n, ...) CHECK_CLOSE(got, want, n, __VA_ARGS__)

static inline int nn_small(int argc, char **argv) {
  return argc > 1 && !strcmp(argv[1], "--small");
}

#endif
