/* Deterministic reductions (no atomics, fixed order): sums, sums of squares, and the
 * pairwise L2 distances behind the mode-collapse measure. Launchers: src/ops/ops_reduce.c.
 * Tests: tests/ops_nn/test_reduce.c */

/* Item t (of the whole launch) sums x[i] (square = 0) or x[i]^2 (square = 1) over the
 * blocks [t*chunk, (t+1)*chunk), [(t+items)*chunk, ...), in four interleaved accumulators;
 * group g writes scale * its sum to out[oo + g]. chunk = 4 reads neighbouring floats across
 * items (GPUs); one long block per item keeps a CPU core on contiguous memory. With one group
 * it is the whole reduction; with more the launcher sums the partials again. */
__kernel void reduce_sum(const ulong n, const ulong chunk, __global const float *x,
                         const ulong xo, const int square, const float scale,
                         __global float *out, const ulong oo, __local float *scratch) {
  const ulong items = get_global_size(0);
  __global const float *p = x + xo;
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  for (ulong base = get_global_id(0) * chunk; base < n; base += items * chunk) {
    const ulong end = min(base + chunk, n);
    ulong i = base;
    if (square) {
      for (; i + 4 <= end; i += 4) {
        s0 += p[i] * p[i];
        s1 += p[i + 1] * p[i + 1];
        s2 += p[i + 2] * p[i + 2];
        s3 += p[i + 3] * p[i + 3];
      }
      for (; i < end; i++) s0 += p[i] * p[i];
    } else {
      for (; i + 4 <= end; i += 4) {
        s0 += p[i];
        s1 += p[i + 1];
        s2 += p[i + 2];
        s3 += p[i + 3];
      }
      for (; i < end; i++) s0 += p[i];
    }
  }
  float r = clgan_group_sum(scratch, (s0 + s1) + (s2 + s3));
  if (get_local_id(0) == 0) out[oo + get_group_id(0)] = r * scale;
}

/* Row i of n holds pairs [start(i), start(i+1)), start(i) = i*(2n-i-1)/2, in row order
 * (0,1), (0,2), ..., (1,2), ...: a float estimate of i, then exact integer fix-ups. */
static int2 pair_rows(long p, long n) {
  float disc = (float)(2 * n - 1) * (float)(2 * n - 1) - 8.0f * (float)p;
  long i = (long)(((float)(2 * n - 1) - sqrt(fmax(disc, 0.0f))) * 0.5f);
  if (i < 0) i = 0;
  if (i > n - 2) i = n - 2;
  while (i > 0 && i * (2 * n - i - 1) / 2 > p) i--;
  while ((i + 1) * (2 * n - i - 2) / 2 <= p) i++;
  return (int2)((int)i, (int)(p - i * (2 * n - i - 1) / 2 + i + 1));
}

/* Group g sums ||row_i - row_j|| over pairs p = g, g+G, ... of x (n, d) into partial[g];
 * each distance is a group-wide sum, so the pass is deterministic. Differences, not the
 * Gram-matrix identity, so near-identical rows (mode collapse) do not cancel to noise. */
__kernel void pairwise_dist(const int n, const int d, __global const float *x, const ulong xo,
                            const long npairs, __global float *partial,
                            __local float *scratch) {
  const long groups = (long)get_num_groups(0);
  const int lid = (int)get_local_id(0), l = (int)get_local_size(0);
  float acc = 0.0f;
  for (long p = (long)get_group_id(0); p < npairs; p += groups) {
    int2 ij = pair_rows(p, n);
    __global const float *a = x + xo + (ulong)ij.x * (ulong)d;
    __global const float *b = x + xo + (ulong)ij.y * (ulong)d;
    float q0 = 0.0f, q1 = 0.0f;
    int k = lid;
    for (; k + l < d; k += 2 * l) {
      float t0 = a[k] - b[k], t1 = a[k + l] - b[k + l];
      q0 += t0 * t0;
      q1 += t1 * t1;
    }
    if (k < d) {
      float t = a[k] - b[k];
      q0 += t * t;
    }
    acc += sqrt(clgan_group_sum(scratch, q0 + q1));
  }
  if (lid == 0) partial[get_group_id(0)] = acc;
}
