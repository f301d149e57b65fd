/* Philox4x32-10 uniform and normal streams; launchers and the host twins in src/ops/ops_rng.c,
 * which share kernels/philox.clh with these kernels. Tests: tests/ops_nn/test_rng.c */

/* A fused multiply-add rounds once where the host rounds twice: the float results must be
 * the same bits everywhere, so every product and sum below is rounded on its own. */
#pragma OPENCL FP_CONTRACT OFF

#include "philox.clh"

/* One Philox block per work-item, writing the block's values that fall in
 * [counter, counter + n): out[i] is value counter + i, whatever the launch shape. */

__kernel void rng_uniform(const ulong n, const ulong nblocks, const ulong seed,
                          const ulong counter, const float lo, const float hi,
                          __global float *out, const ulong oo) {
  if (get_global_id(0) >= nblocks) return;
  ulong block = ((counter >> 2) + get_global_id(0)) & BLOCK_MASK;
  ulong first = block * 4ul - counter; /* index of lane 0; wraps "below 0" to a huge value */
  uint words[4];
  philox4x32_10(block, seed, words);
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
  uint w[4];
  float z[4];
  philox4x32_10(block, seed, w);
  philox_box_muller(w[0], w[1], z);
  philox_box_muller(w[2], w[3], z + 2);
  for (int l = 0; l < 4; l++) {
    ulong i = first + (ulong)l;
    if (i < n) {
      float t = std * z[l];
      out[oo + i] = mean + t;
    }
  }
}
