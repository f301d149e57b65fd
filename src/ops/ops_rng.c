/* Philox4x32-10 random streams: launchers for kernels/rng.cl and their host twins, which
 * are bit-identical to the kernels because both compile kernels/philox.clh.
 * Tests: tests/ops_nn/test_ref_nn.c (host, known answers), tests/ops_nn/test_rng.c (device) */
#include <stdint.h>
#include <string.h>

#include "clgan/ops.h"
#include "clgan/program.h"

/* Contracting a*b+c into one fused rounding would break bit-identity with the device (the
 * kernels turn contraction off too). GCC in ISO C mode does not contract; clang needs this. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include "philox.clh" /* kernels/philox.clh: the arithmetic the kernels run */

void clgan_philox_uniform(size_t n, unsigned long long seed, unsigned long long counter,
                          float lo, float hi, float *out) {
  float d = hi - lo;
  uint32_t w[4];
  uint64_t have = ~0ull;
  for (size_t i = 0; i < n; i++) {
    uint64_t j = counter + i, block = (j >> 2) & BLOCK_MASK;
    if (block != have) philox4x32_10(block, seed, w), have = block;
    float u = (float)(w[j & 3] >> 8) * 0x1p-24f;
    float t = d * u;
    out[i] = lo + t;
  }
}

void clgan_philox_normal(size_t n, unsigned long long seed, unsigned long long counter,
                         float mean, float std, float *out) {
  uint32_t w[4];
  float z[4];
  uint64_t have = ~0ull;
  for (size_t i = 0; i < n; i++) {
    uint64_t j = counter + i, block = (j >> 2) & BLOCK_MASK;
    if (block != have) {
      philox4x32_10(block, seed, w);
      philox_box_muller(w[0], w[1], z);
      philox_box_muller(w[2], w[3], z + 2);
      have = block;
    }
    float t = std * z[j & 3];
    out[i] = mean + t;
  }
}

static clgan_status rng_launch(clgan_ctx *ctx, const char *kernel, size_t n,
                               unsigned long long seed, unsigned long long counter, float a,
                               float b, clgan_view out) {
  if (n == 0) return CLGAN_OK;
  if (!out.mem) return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: no output buffer", kernel);
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "rng", kernel, &k);
  if (s) return s;
  /* blocks touched by values counter .. counter + n - 1 */
  cl_ulong nn = n, nblocks = ((counter & 3u) + (cl_ulong)n + 3u) / 4u, sd = seed, ct = counter,
           oo = out.off;
  clgan_karg args[] = {CLGAN_KARG(nn), CLGAN_KARG(nblocks), CLGAN_KARG(sd), CLGAN_KARG(ct),
                       CLGAN_KARG(a), CLGAN_KARG(b), CLGAN_KARG(out.mem), CLGAN_KARG(oo)};
  if ((s = clgan_set_args(k, kernel, 8, args))) return s;
  return clgan_launch_1d(ctx, k, kernel, nblocks, 0);
}

clgan_status clgan_rng_uniform(clgan_ctx *ctx, size_t n, unsigned long long seed,
                               unsigned long long counter, float lo, float hi,
                               clgan_view out) {
  return rng_launch(ctx, "rng_uniform", n, seed, counter, lo, hi, out);
}

clgan_status clgan_rng_normal(clgan_ctx *ctx, size_t n, unsigned long long seed,
                              unsigned long long counter, float mean, float std,
                              clgan_view out) {
  return rng_launch(ctx, "rng_normal", n, seed, counter, mean, std, out);
}
