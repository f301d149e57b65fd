/* Philox4x32-10 uniform and normal streams; launchers and the bit-identical host twin in
 * src/ops_rng.c (keep the two in step). Tests: tests/ops_nn/test_rng.c */

/* A fused multiply-add rounds once where the host rounds twice: the float results must be
 * the same bits everywhere, so every product and sum below is rounded on its own. */
#pragma OPENCL FP_CONTRACT OFF

/* Value j of stream `seed` is word j % 4 of Philox4x32-10 at counter (j / 4, 0), key seed. */
static uint4 philox4x32_10(ulong block, ulong seed) {
  uint c0 = (uint)block, c1 = (uint)(block >> 32), c2 = 0, c3 = 0;
  uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
  for (int r = 0; r < 10; r++) {
    if (r > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    uint hi0 = mul_hi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
    uint hi1 = mul_hi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  return (uint4)(c0, c1, c2, c3);
}

/* 2^k for -126 <= k <= 127, exactly */
static float pow2i(int k) { return as_float((uint)(127 + k) << 23); }

/* A nonzero integer < 2^34 as a float, truncated to 24 bits (the same on every device). */
static float u64_to_float_trunc(ulong v) {
  if (v == 0) return 0.0f;
  int p = 63 - (int)clz(v);
  if (p <= 23) return (float)(uint)v;
  float m = (float)(uint)(v >> (p - 23));
  return m * pow2i(p - 23);
}

/* ln(u) for u = (2a + 1) / 2^33 in (0, 1), with only +, -, * so every device agrees. */
static float philox_log_u(uint a) {
  ulong w = 2ul * (ulong)a + 1ul;
  int msb = 63 - (int)clz(w);
  uint top = msb >= 23 ? (uint)(w >> (msb - 23)) : (uint)(w << (23 - msb));
  int e, shift;
  float f;
  /* u = 2^e (1 + f) with 1 + f in [sqrt(1/2), sqrt(2)]; f straight from the integer keeps
   * its full relative precision when u is close to 1 */
  if (top > 0xB504F3u) {
    e = msb + 1 - 33;
    shift = msb + 1;
    f = -u64_to_float_trunc((1ul << shift) - w);
  } else {
    e = msb - 33;
    shift = msb;
    f = u64_to_float_trunc(w - (1ul << shift));
  }
  f = f * pow2i(-shift);
  /* log1p(f) = f * P(f), Chebyshev fit on [sqrt(1/2) - 1, sqrt(2) - 1], rel. error 8e-9 */
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
  /* ln 2 split so e * LN2_HI is exact */
  return fe * 0x1.62e4p-1f + (fe * 0x1.7f7d1cp-20f + lnm);
}

/* sqrt(x) for x > 0 by Newton's iteration on 1/sqrt(x): +, -, * only. */
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

/* Box-Muller: r = sqrt(-2 ln u) from word a, angle 2 pi (b >> 5) / 2^27 from word b.
 * Returns (r cos, r sin). */
static float2 philox_box_muller(uint a, uint b) {
  float lu = philox_log_u(a);
  float r = philox_sqrt(-(lu + lu));
  uint k = b >> 29; /* octant */
  uint fr = (b >> 5) & 0xFFFFFFu;
  if (k & 1u) fr = 0x1000000u - fr;
  float t = (float)fr * 0x1.921fb6p-25f; /* in [0, pi/4] */
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
  return (float2)(r * cs, r * sn);
}

/* One Philox block per work-item, writing the block's values that fall in
 * [counter, counter + n): out[i] is value counter + i, whatever the launch shape. */
#define BLOCK_MASK 0x3FFFFFFFFFFFFFFFul /* j / 4 of a 64-bit j */

__kernel void rng_uniform(const ulong n, const ulong nblocks, const ulong seed,
                          const ulong counter, const float lo, const float hi,
                          __global float *out, const ulong oo) {
  if (get_global_id(0) >= nblocks) return;
  ulong block = ((counter >> 2) + get_global_id(0)) & BLOCK_MASK;
  ulong first = block * 4ul - counter; /* index of lane 0; wraps "below 0" to a huge value */
  uint4 w = philox4x32_10(block, seed);
  uint words[4] = {w.x, w.y, w.z, w.w};
  float d = hi - lo;
  for (int l = 0; l < 4; l++) {
    ulong i = first + (ulong)l;
    if (i < n) {
      float u = (float)(words[l] >> 8) * 0x1p-24f;
      float t = d * u;
      out[oo + i] = lo + t;
    }
  }
}

__kernel void rng_normal(const ulong n, const ulong nblocks, const ulong seed,
                         const ulong counter, const float mean, const float std,
                         __global float *out, const ulong oo) {
  if (get_global_id(0) >= nblocks) return;
  ulong block = ((counter >> 2) + get_global_id(0)) & BLOCK_MASK;
  ulong first = block * 4ul - counter;
  uint4 w = philox4x32_10(block, seed);
  float2 z01 = philox_box_muller(w.x, w.y), z23 = philox_box_muller(w.z, w.w);
  float z[4] = {z01.x, z01.y, z23.x, z23.y};
  for (int l = 0; l < 4; l++) {
    ulong i = first + (ulong)l;
    if (i < n) {
      float t = std * z[l];
      out[oo + i] = mean + t;
    }
  }
}
