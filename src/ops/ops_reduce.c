/* Reduction launchers for kernels/reduce.cl: two fixed-shape passes, so the result is the
 * same bits on every call on a device. Tests: tests/ops_nn/test_reduce.c */
#include "clgan/ops.h"
#include "ops_nn_internal.h"

#define REDUCE_MAX_GROUPS 256

static clgan_status reduce_launch(clgan_ctx *ctx, cl_kernel k, size_t n, size_t chunk,
                                  cl_mem x, size_t xoff, int square, float scale, cl_mem out,
                                  size_t ooff, size_t groups, size_t l) {
  cl_ulong nn = n, ch = chunk, xo = xoff, oo = ooff;
  cl_int sq = square;
  clgan_karg args[] = {CLGAN_KARG(nn),  CLGAN_KARG(ch),    CLGAN_KARG(x),
                       CLGAN_KARG(xo),  CLGAN_KARG(sq),    CLGAN_KARG(scale),
                       CLGAN_KARG(out), CLGAN_KARG(oo),    {l * sizeof(cl_float), NULL}};
  clgan_status s = clgan_set_args(k, "reduce_sum", 9, args);
  if (s) return s;
  size_t global = groups * l;
  return clgan_launch(ctx, k, "reduce_sum", 1, &global, &l);
}

/* One pass of reduce_sum over n values into `groups` partials (1: the result). GPUs get
 * wide groups reading 4 neighbouring floats per item; a CPU gets one item per group and a
 * contiguous block each (read with a stride across 64K items, 3.6M floats took 17 ms on
 * POCL with 2 cores). */
static void reduce_shape(clgan_ctx *ctx, cl_kernel k, size_t n, size_t max_groups,
                         size_t *groups, size_t *l, size_t *chunk) {
  int cpu = clgan_nn_cpu_only(ctx);
  *l = clgan_nn_group_size(ctx, k, cpu ? 1 : clgan_nn_pow2_at_least((n + 3) / 4, 256),
                           sizeof(cl_float));
  /* about 8 blocks of 4 per item on wide devices, so each item has some work to amortise */
  *groups = cpu ? (n + 4095) / 4096 : (n + *l * 32 - 1) / (*l * 32);
  if (*groups > max_groups) *groups = max_groups;
  if (*groups < 1) *groups = 1;
  size_t items = *groups * *l;
  *chunk = cpu ? ((n + items - 1) / items + 3) / 4 * 4 : 4;
}

/* The temporary of partial sums. Its contents are always written by a kernel before they
 * are read; the zeros written here are for Oclgrind, whose uninitialised-memory shadow
 * outlives a released buffer and is only resized by a host write (without one, a new buffer
 * that reuses a smaller released one's id reads as uninitialised: tests/ops_nn/nn_test.h). */
static clgan_status partials_create(clgan_ctx *ctx, const char *what, cl_mem *out) {
  static const cl_float zeros[REDUCE_MAX_GROUPS];
  if (clgan_buffer_create(ctx, sizeof zeros, "reduction partial sums", out))
    return clgan_error_prefix("%s: ", what);
  cl_int e = clEnqueueWriteBuffer(ctx->queue, *out, CL_FALSE, 0, sizeof zeros, zeros, 0, NULL,
                                  NULL);
  if (e != CL_SUCCESS) {
    clgan_buffer_release(out);
    clgan_cl_check(e, "clEnqueueWriteBuffer");
    return clgan_error_prefix("%s: clearing the partial sums: ", what);
  }
  return CLGAN_OK;
}

/* out[0] = scale * sum of x[i] (or x[i]^2): one group for small n, else partial sums into
 * a temporary and a second one-group pass over them. */
static clgan_status reduce(clgan_ctx *ctx, const char *what, size_t n, cl_mem x, size_t xoff,
                           int square, float scale, clgan_view out) {
  if (!out.mem) return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: no output buffer", what);
  if (n == 0) return clgan_fill(ctx, 1, 0.0f, out);
  if (!x) return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: no input buffer", what);
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "reduce", "reduce_sum", &k);
  if (s) return s;
  size_t groups, l, chunk;
  reduce_shape(ctx, k, n, REDUCE_MAX_GROUPS, &groups, &l, &chunk);
  if (groups == 1)
    return reduce_launch(ctx, k, n, chunk, x, xoff, square, scale, out.mem, out.off, 1, l);
  cl_mem tmp = NULL;
  if ((s = partials_create(ctx, what, &tmp))) return s;
  s = reduce_launch(ctx, k, n, chunk, x, xoff, square, 1.0f, tmp, 0, groups, l);
  if (!s) {
    size_t g2, l2, chunk2;
    reduce_shape(ctx, k, groups, 1, &g2, &l2, &chunk2);
    s = reduce_launch(ctx, k, groups, chunk2, tmp, 0, 0, scale, out.mem, out.off, 1, l2);
  }
  /* OpenCL keeps the buffer alive until the enqueued kernels that use it finish */
  clgan_buffer_release(&tmp);
  return s;
}

clgan_status clgan_reduce_sum(clgan_ctx *ctx, size_t n, clgan_view x, clgan_view out) {
  return reduce(ctx, "reduce sum", n, x.mem, x.off, 0, 1.0f, out);
}

clgan_status clgan_reduce_sumsq(clgan_ctx *ctx, size_t n, clgan_view x, clgan_view out) {
  return reduce(ctx, "reduce sum of squares", n, x.mem, x.off, 1, 1.0f, out);
}

clgan_status clgan_pairwise_distance_mean(clgan_ctx *ctx, int n, int d, clgan_view x,
                                          clgan_view out) {
  const char *what = "pairwise distance mean";
  if (n < 0 || d <= 0 || n > 65536)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: bad shape (n=%d, d=%d)", what, n, d);
  if (!out.mem || !x.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: x and out are required", what);
  if (n < 2) return clgan_fill(ctx, 1, 0.0f, out);
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "reduce", "pairwise_dist", &k);
  if (s) return s;
  cl_long npairs = (cl_long)n * (n - 1) / 2;
  size_t groups = npairs < REDUCE_MAX_GROUPS ? (size_t)npairs : REDUCE_MAX_GROUPS;
  /* one item per group on a CPU, as in reduce_shape: a pair's rows are then read straight */
  int cpu = clgan_nn_cpu_only(ctx);
  size_t l = clgan_nn_group_size(ctx, k, cpu ? 1 : clgan_nn_pow2_at_least((size_t)d, 256),
                                 sizeof(cl_float));
  cl_mem partial = NULL;
  if ((s = partials_create(ctx, what, &partial))) return s;
  cl_int nn = n, dd = d;
  cl_ulong xo = x.off;
  clgan_karg args[] = {CLGAN_KARG(nn),     CLGAN_KARG(dd),      CLGAN_KARG(x.mem),
                       CLGAN_KARG(xo),     CLGAN_KARG(npairs),  CLGAN_KARG(partial),
                       {l * sizeof(cl_float), NULL}};
  s = clgan_set_args(k, "pairwise_dist", 7, args);
  size_t global = groups * l;
  if (!s) s = clgan_launch(ctx, k, "pairwise_dist", 1, &global, &l);
  if (!s) s = reduce(ctx, what, groups, partial, 0, 0, (float)(1.0 / (double)npairs), out);
  clgan_buffer_release(&partial);
  return s;
}
