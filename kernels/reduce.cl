/* Deterministic reductions (no atomics, fixed order): sums, sums of squares, and the
 * pairwise L2 distances behind the mode-collapse measure. Launchers: src/ops_reduce.c.
 * Tests: tests/ops_nn/test_reduce.c */

/* Group g sums x[i] (square = 0) or x[i]^2 (square = 1) over i = g*l + lid + k*G*l, then
 * writes scale * sum to out[oo + g]. With G = 1 it is the whole reduction; with G > 1 the
 * launcher runs it again over the G partial sums. */
__kernel void reduce_sum(const ulong n, __global const float *x, const ulong xo,
                         const int square, const float scale, __global float *out,
                         const ulong oo, __local float *scratch) {
  const ulong l = get_local_size(0), stride = l * get_num_groups(0);
  float s = 0.0f;
  for (ulong i = get_global_id(0); i < n; i += stride) {
    float v = x[xo + i];
    s += square ? v * v : v;
  }
  float r = clgan_group_sum(scratch, s);
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
    float q = 0.0f;
    for (int k = lid; k < d; k += l) {
      float t = a[k] - b[k];
      q += t * t;
    }
    acc += sqrt(clgan_group_sum(scratch, q));
  }
  if (lid == 0) partial[get_group_id(0)] = acc;
}
