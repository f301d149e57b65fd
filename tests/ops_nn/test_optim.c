/* Device Adam/AdamW and SGD (src/ops/ops_optim.c) against tests/ref/ref_nn.c over several steps,
 * on views inside one arena at odd offsets. --small: tiny sizes for Oclgrind. */
#include "nn_test.h"

/* Tolerances, abs + rel*|ref|, after every step (the reference carries its own float state,
 * so errors do not compound across steps by more than one step's rounding):
 * param: 1e-6 + 1e-6 (an update is lr * O(1), lr = 1e-2, computed to ~1e-6 relative);
 * m, momentum buffer: 5e-7 + 1e-5: with L2 weight decay, g + wd*p can cancel, leaving one
 *   float ulp of the O(5) terms (3e-7) as absolute error on a small result;
 * v: 1e-9 + 1e-5 (squares of those gradients, weighted by 1 - beta2 = 1e-3). */
#define TOL_P 1e-6, 1e-6
#define TOL_S 5e-7, 1e-5
#define TOL_V 1e-9, 1e-5

static void adam(clgan_ctx *ctx, size_t n, float wd, int decoupled, int steps) {
  /* one arena holding param, grad, m, v back to back at an odd start, as a trainer has it */
  const size_t off = 3, span = 4 * n + 1;
  float *host = tu_alloc(span), *p = tu_alloc(n), *g = tu_alloc(n), *m = tu_alloc(n),
        *v = tu_alloc(n), *got = tu_alloc(n);
  ref_fill_uniform(p, n, 51 + n);
  tbuf arena = tb_new(ctx, NULL, span, off);
  tbuf bp = {arena.mem, off, n}, bg = {arena.mem, off + n, n}, bm = {arena.mem, off + 2 * n + 1, n},
       bv = {arena.mem, off + 3 * n + 1, n};
  tb_set(ctx, bp, p);
  tb_set(ctx, bm, m); /* zeros, as a fresh optimiser */
  tb_set(ctx, bv, v);
  char what[128];
  for (int t = 1; t <= steps; t++) {
    ref_fill_uniform(g, n, 1000 * (unsigned)t + n);
    for (size_t i = 0; i < n; i++) g[i] *= (float)t; /* growing gradients move v */
    tb_set(ctx, bg, g);
    CHECK_OK(clgan_adam_step(ctx, n, tb_view(bp), tb_view(bg), tb_view(bm), tb_view(bv), 1e-2f,
                             0.5f, 0.999f, 1e-8f, wd, decoupled, t));
    ref_adam_step(n, p, g, m, v, 1e-2f, 0.5f, 0.999f, 1e-8f, wd, decoupled, t);
    snprintf(what, sizeof what, "adam n=%zu wd=%g decoupled=%d step %d", n, wd, decoupled, t);
    tb_get(ctx, bp, got);
    NN_CLOSE(got, p, n, TOL_P, what);
    tb_get(ctx, bm, got);
    NN_CLOSE(got, m, n, TOL_S, what);
    tb_get(ctx, bv, got);
    NN_CLOSE(got, v, n, TOL_V, what);
  }
  /* the gap float between grad and m was never written */
  float gap;
  tu_download(ctx, arena.mem, off + 2 * n, 1, &gap);
  CHECK(gap == NN_GUARD && tb_guards_ok(ctx, arena), "adam n=%zu wrote outside its views", n);
  tb_free(&arena);
  free(host);
  free(p);
  free(g);
  free(m);
  free(v);
  free(got);
}

static void sgd(clgan_ctx *ctx, size_t n, float momentum, float wd) {
  float *p = tu_alloc(n), *g = tu_alloc(n), *buf = tu_alloc(n), *got = tu_alloc(n);
  ref_fill_uniform(p, n, 61 + n);
  tbuf bp = tb_new(ctx, p, n, 1), bg = tb_new(ctx, NULL, n, 2), bb = tb_new(ctx, NULL, n, 5);
  char what[128];
  for (int t = 1; t <= 3; t++) {
    ref_fill_uniform(g, n, 77 * (unsigned)t + n);
    tb_set(ctx, bg, g);
    CHECK_OK(clgan_sgd_step(ctx, n, tb_view(bp), tb_view(bg),
                            momentum != 0.0f ? tb_view(bb) : CLGAN_NONE, 0.1f, momentum, wd, t));
    ref_sgd_step(n, p, g, buf, 0.1f, momentum, wd, t);
    snprintf(what, sizeof what, "sgd n=%zu momentum=%g wd=%g step %d", n, momentum, wd, t);
    tb_get(ctx, bp, got);
    NN_CLOSE(got, p, n, TOL_P, what);
    if (momentum != 0.0f) {
      tb_get(ctx, bb, got);
      NN_CLOSE(got, buf, n, TOL_S, what);
    }
  }
  CHECK(tb_guards_ok(ctx, bp) && tb_guards_ok(ctx, bg) && tb_guards_ok(ctx, bb),
        "sgd n=%zu momentum=%g: written outside a view (or the buffer when unused)", n, momentum);
  tb_free(&bp);
  tb_free(&bg);
  tb_free(&bb);
  free(p);
  free(g);
  free(buf);
  free(got);
}

/* EMA of an arena over several steps: bit-exact against the host twin (the exact float
 * formula fma(decay, e, (1 - decay) * p)), and within float rounding of a float64
 * reference that carries its own double state. Error bound per element, carried along:
 * b = decay * b + 3e-7 * (|decay * e| + |(1 - decay) * p|): the old error damped, plus the
 * roundings of 1 - decay, of the product and of the fma, each at most 2^-24 relative to
 * the terms (the terms, not the result, which can cancel). */
static void ema(clgan_ctx *ctx, size_t n, float decay, int steps) {
  float *p = tu_alloc(n), *e = tu_alloc(n), *got = tu_alloc(n);
  double *e64 = malloc(n * sizeof *e64), *bound = calloc(n, sizeof *bound);
  CHECK(e64 && bound, "out of memory");
  if (!e64 || !bound) return;
  ref_fill_uniform(e, n, 91 + n);
  for (size_t i = 0; i < n; i++) e64[i] = e[i];
  tbuf bp = tb_new(ctx, NULL, n, 3), be = tb_new(ctx, e, n, 1);
  char what[128];
  for (int t = 1; t <= steps; t++) {
    ref_fill_uniform(p, n, 131 * (unsigned)t + n);
    tb_set(ctx, bp, p);
    CHECK_OK(clgan_ema_update(ctx, n, decay, tb_view(bp), tb_view(be)));
    clgan_ema_update_host(n, decay, p, e);
    for (size_t i = 0; i < n; i++) {
      double a = (double)decay * e64[i], b = (1.0 - (double)decay) * p[i];
      bound[i] = decay * bound[i] + 3e-7 * (fabs(a) + fabs(b));
      e64[i] = a + b;
    }
    tb_get(ctx, be, got);
    snprintf(what, sizeof what, "ema n=%zu decay=%g step %d", n, decay, t);
    size_t bad = 0, far = 0;
    for (size_t i = 0; i < n; i++) {
      uint32_t a, b;
      memcpy(&a, &got[i], 4);
      memcpy(&b, &e[i], 4);
      if (a != b) bad++;
      if (fabs((double)got[i] - e64[i]) > bound[i]) far++;
    }
    CHECK(bad == 0, "%s: %zu of %zu values differ from the host formula's bits", what, bad, n);
    CHECK(far == 0, "%s: %zu of %zu values off the float64 reference", what, far, n);
  }
  CHECK(tb_guards_ok(ctx, bp) && tb_guards_ok(ctx, be), "ema n=%zu wrote outside its views", n);
  tb_free(&bp);
  tb_free(&be);
  free(p);
  free(e);
  free(e64);
  free(bound);
  free(got);
}

int main(int argc, char **argv) {
  int small = nn_small(argc, argv);
  clgan_ctx *ctx = tu_open_device();
  const size_t full[] = {1, 33, 100003}, tiny[] = {1, 33};
  size_t count = small ? 2 : 3;
  for (size_t i = 0; i < count; i++) {
    size_t n = small ? tiny[i] : full[i];
    adam(ctx, n, 0.0f, 0, small ? 2 : 5);
    adam(ctx, n, 0.05f, 0, small ? 2 : 5);
    adam(ctx, n, 0.05f, 1, small ? 2 : 5);
    sgd(ctx, n, 0.9f, 0.0f);
    sgd(ctx, n, 0.9f, 0.01f);
    sgd(ctx, n, 0.0f, 0.0f);
    ema(ctx, n, 0.999f, small ? 2 : 4);
    ema(ctx, n, 0.5f, small ? 2 : 4);
    ema(ctx, n, 0.0f, 1); /* decay 0: a copy of the parameters */
    ema(ctx, n, 1.0f, 1); /* decay 1: unchanged */
  }
  tbuf b = tb_new(ctx, NULL, 4, 0);
  clgan_view v = tb_view(b);
  clgan_status s = clgan_adam_step(ctx, 4, v, v, v, v, 1e-3f, 0.9f, 0.999f, 1e-8f, 0, 0, 0);
  CHECK(s == CLGAN_ERR_INVALID_ARG, "adam step 0: %s", clgan_status_name(s));
  s = clgan_sgd_step(ctx, 4, v, v, CLGAN_NONE, 0.1f, 0.9f, 0.0f, 1);
  CHECK(s == CLGAN_ERR_INVALID_ARG, "sgd momentum without a buffer: %s", clgan_status_name(s));
  s = clgan_ema_update(ctx, 4, 1.5f, v, v);
  CHECK(s == CLGAN_ERR_INVALID_ARG, "ema decay 1.5: %s", clgan_status_name(s));
  tb_free(&b);
  clgan_ctx_free(ctx);
  return tu_finish("test_optim");
}
