/* Device Philox streams (src/ops/ops_rng.c, kernels/rng.cl) against the host twins: the same
 * bits for every n, counter, seed and view offset, and value i a function of
 * (seed, counter + i) only. --small: tiny sizes for Oclgrind. */
#include "nn_test.h"

/* Tolerance: none. The whole point is bit-identity (memcmp). */

static int same_bits(const float *a, const float *b, size_t n, size_t *where) {
  for (size_t i = 0; i < n; i++)
    if (memcmp(a + i, b + i, sizeof(float))) {
      *where = i;
      return 0;
    }
  return 1;
}

static void run(clgan_ctx *ctx, size_t n, unsigned long long seed, unsigned long long counter,
                size_t off) {
  float *got = tu_alloc(n), *want = tu_alloc(n);
  tbuf b = tb_new(ctx, NULL, n, off);
  size_t at = 0;
  CHECK_OK(clgan_rng_uniform(ctx, n, seed, counter, -0.75f, 2.5f, tb_view(b)));
  tb_get(ctx, b, got);
  clgan_philox_uniform(n, seed, counter, -0.75f, 2.5f, want);
  CHECK(same_bits(got, want, n, &at), "uniform n=%zu seed=%llu counter=%llu: value %zu %.9g vs host %.9g",
        n, seed, counter, at, got[at], want[at]);
  CHECK_OK(clgan_rng_normal(ctx, n, seed, counter, 0.5f, 0.02f, tb_view(b)));
  tb_get(ctx, b, got);
  clgan_philox_normal(n, seed, counter, 0.5f, 0.02f, want);
  CHECK(same_bits(got, want, n, &at), "normal n=%zu seed=%llu counter=%llu: value %zu %.9g vs host %.9g",
        n, seed, counter, at, got[at], want[at]);
  CHECK(tb_guards_ok(ctx, b), "rng n=%zu counter=%llu offset %zu: written outside the view", n,
        counter, off);
  tb_free(&b);
  free(got);
  free(want);
}

/* A stream split in two launches (any split point, mid-block or not) equals one launch. */
static void split(clgan_ctx *ctx, size_t n, size_t cut, unsigned long long counter) {
  float *whole = tu_alloc(n), *parts = tu_alloc(n);
  tbuf b = tb_new(ctx, NULL, n, 1);
  CHECK_OK(clgan_rng_normal(ctx, n, 9, counter, 0.0f, 1.0f, tb_view(b)));
  tb_get(ctx, b, whole);
  CHECK_OK(clgan_rng_normal(ctx, cut, 9, counter, 0.0f, 1.0f, tb_view(b)));
  CHECK_OK(clgan_rng_normal(ctx, n - cut, 9, counter + cut, 0.0f, 1.0f,
                            clgan_view_at(tb_view(b), cut)));
  tb_get(ctx, b, parts);
  size_t at = 0;
  CHECK(same_bits(whole, parts, n, &at), "normal stream n=%zu split at %zu differs at %zu", n,
        cut, at);
  tb_free(&b);
  free(whole);
  free(parts);
}

int main(int argc, char **argv) {
  int small = nn_small(argc, argv);
  clgan_ctx *ctx = tu_open_device();
  const size_t full[] = {1, 2, 3, 5, 7, 31, 32, 33, 1000, 100003}, tiny[] = {1, 3, 7, 33};
  const unsigned long long counters[] = {0, 1, 2, 3, 6, 0xFFFFFFFFull, 0x123456789ull,
                                         0xFFFFFFFFFFFFFFFDull};
  const unsigned long long seeds[] = {0, 1234, 0xFEDCBA9876543210ull};
  size_t count = small ? 4 : 10;
  for (size_t i = 0; i < count; i++)
    for (size_t c = 0; c < 8; c++) {
      if (small && c % 3) continue;
      run(ctx, small ? tiny[i] : full[i], seeds[(i + c) % 3], counters[c], (i + c) % 5);
    }
  split(ctx, small ? 13 : 1001, small ? 6 : 501, 2);
  split(ctx, small ? 13 : 1001, small ? 5 : 500, 0xFFFFFFFFFFFFFFF0ull);
  tbuf b = tb_new(ctx, NULL, 1, 0);
  clgan_status s = clgan_rng_uniform(ctx, 1, 0, 0, 0.0f, 1.0f, CLGAN_NONE);
  CHECK(s == CLGAN_ERR_INVALID_ARG, "no output buffer: %s", clgan_status_name(s));
  tb_free(&b);
  clgan_ctx_free(ctx);
  return tu_finish("test_rng");
}
