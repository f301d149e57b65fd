/* Philox4x32-10 random streams: launchers for kernels/rng.cl and their host twins, which
 * must stay bit-identical to the kernels (same float operations in the same order).
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

#define BLOCK_MASK 0x3FFFFFFFFFFFFFFFull

static void philox4x32_10(uint64_t block, uint64_t seed, uint32_t out[4]) {
  uint32_t c0 = (uint32_t)block, c1 = (uint32_t)(block >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  for (int r = 0; r < 10; r++) {
    if (r > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c0 = n0;
    c1 = (uint32_t)p1;
    c2 = n2;
    c3 = (uint32_t)p0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

static float as_float(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static uint32_t as_uint(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

static int clz64(uint64_t v) { return __builtin_clzll(v); }

static float pow2i(int k) { return as_float((uint32_t)(127 + k) << 23); }

static float u64_to_float_trunc(uint64_t v) {
  if (v == 0) return 0.0f;
  int p = 63 - clz64(v);
  if (p <= 23) return (float)(uint32_t)v;
  float m = (float)(uint32_t)(v >> (p - 23));
  return m * pow2i(p - 23);
}

static float philox_log_u(uint32_t a) {
  uint64_t w = 2ull * (uint64_t)a + 1ull;
  int msb = 63 - clz64(w);
  uint32_t top = msb >= 23 ? (uint32_t)(w >> (msb - 23)) : (uint32_t)(w << (23 - msb));
  int e, shift;
  float f;
  if (top > 0xB504F3u) {
    e = msb + 1 - 33;
    shift = msb + 1;
    f = -u64_to_float_trunc((1ull << shift) - w);
  } else {
    e = msb - 33;
    shift = msb;
    f = u64_to_float_trunc(w - (1ull << shift));
  }
  f = f * pow2i(-shift);
  float p = -0x1.31335ap-4f;
  p = p * f + 0x1.064786p-3f;
  p = p * f + -0x1.0fb036p-3f;
  p = p * f + 0x1.22cf10p-3f;
  p = p * f + -0x1.5423b0p-3f;
  p = p * f + 0x1.999e86p-3f;
  p = p * f + -0x1.000424p-2f;
  p = p * f + 0x1.55555ep-2f;
  p = p * f + -0x1.fffff8p-2f;
  p = p * f + 1.0f;
  float lnm = f * p;
  float fe = (float)e;
  return fe * 0x1.62e4p-1f + (fe * 0x1.7f7d1cp-20f + lnm);
}

static float philox_sqrt(float x) {
  float y = as_float(0x5f375a86u - (as_uint(x) >> 1));
  float h = 0.5f * x;
  for (int k = 0; k < 3; k++) {
    float t = y * y;
    t = h * t;
    t = 1.5f - t;
    y = y * t;
  }
  return x * y;
}

static void philox_box_muller(uint32_t a, uint32_t b, float z[2]) {
  float lu = philox_log_u(a);
  float r = philox_sqrt(-(lu + lu));
  uint32_t k = b >> 29;
  uint32_t fr = (b >> 5) & 0xFFFFFFu;
  if (k & 1u) fr = 0x1000000u - fr;
  float t = (float)fr * 0x1.921fb6p-25f;
  float t2 = t * t;
  float s = 0x1.71de3ap-19f;
  s = s * t2 + -0x1.a01a02p-13f;
  s = s * t2 + 0x1.111112p-7f;
  s = s * t2 + -0x1.555556p-3f;
  s = s * t2;
  s = s * t + t;
  float c = -0x1.27e4fcp-22f;
  c = c * t2 + 0x1.a01a02p-16f;
  c = c * t2 + -0x1.6c16c2p-10f;
  c = c * t2 + 0x1.555556p-5f;
  c = c * t2 + -0.5f;
  c = c * t2 + 1.0f;
  float cp = (k & 1u) ? s : c, sp = (k & 1u) ? c : s;
  float cs, sn;
  switch (k >> 1) {
  case 0: cs = cp; sn = sp; break;
  case 1: cs = -sp; sn = cp; break;
  case 2: cs = -cp; sn = -sp; break;
  default: cs = sp; sn = -cp; break;
  }
  z[0] = r * cs;
  z[1] = r * sn;
}

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
