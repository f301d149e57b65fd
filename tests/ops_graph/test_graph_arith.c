/* Device arithmetic nodes (src/ops/ops_graph.c): add, fade (ProGAN), mul (full and broadcast b), PReLU
 * (one slope or one per channel) and dropout, forward and backward (overwrite, then
 * accumulate onto the device's own values), in place where allowed, at odd view offsets with
 * guards, against tests/ref/ref_graph.c. --small: tiny shapes for Oclgrind.
 * Tolerances: graph_test.h; dropout's mask must match exactly (a dropped value is 0, a kept
 * one x * (1/(1-p)): TOL_ELEM), PReLU's da and mul's broadcast db are sums (TOL_SUM). */
#include "graph_test.h"

static char what[200];
#define MSG(s) (snprintf(what, sizeof what, "%s (N=%d C=%d HW=%d)", (s), n, c, hw), what)

static void run_add(clgan_ctx *ctx, int n, int c, int hw) {
  size_t t = (size_t)n * c * hw;
  float *af = gt_rand(t, 61 + t), *bf = gt_rand(t, 62 + t);
  tbuf ba = tb_new(ctx, af, t, 3), bb = tb_new(ctx, bf, t, 1), by = tb_new(ctx, NULL, t, 2);
  double *ad = gt_d(af, t), *bd = gt_d(bf, t), *yd = gt_dalloc(t);
  ref_add(t, ad, bd, yd);
  CHECK_OK(clgan_add(ctx, t, tb_view(ba), tb_view(bb), tb_view(by)));
  GT_CHECK(ctx, by, yd, TOL_EXACT, MSG("add"));
  /* in place, y = a (as a residual connection would) */
  CHECK_OK(clgan_add(ctx, t, tb_view(ba), tb_view(bb), tb_view(ba)));
  GT_CHECK(ctx, ba, yd, TOL_EXACT, MSG("add in place"));
  GT_GUARDS_FREE(ctx, MSG("add guards"), &ba, &bb, &by);
  free(af), free(bf), free(ad), free(bd), free(yd);
}

/* fade: the reference's backward by central differences of its forward, then the device's
 * forward and backward (overwrite, accumulate) against the reference, alpha 0 and 1 exact */
static void run_fade(clgan_ctx *ctx, int n, int c, int hw, double alpha, int acc) {
  size_t t = (size_t)n * c * hw;
  float *af = gt_rand(t, 81 + t), *bf = gt_rand(t, 82 + t), *dyf = gt_rand(t, 83);
  float *daf = gt_rand(t, 84), *dbf = gt_rand(t, 85);
  double *ad = gt_d(af, t), *bd = gt_d(bf, t), *yd = gt_dalloc(t), *dyd = gt_d(dyf, t);
  double *dad = gt_d(daf, t), *dbd = gt_d(dbf, t);
  double worst = 0.0, y1[1], y2[1];
  ref_fade_backward(t, alpha, dyd, dad, dbd, 0);
  for (size_t j = 0; j < t && j < 50; j++) { /* d <dy, y> / d a_j and / d b_j */
    for (int side = 0; side < 2; side++) {
      double *v = side ? bd : ad, keep = v[j];
      v[j] = keep + 1e-6;
      ref_fade_forward(1, alpha, ad + j, bd + j, y1);
      v[j] = keep - 1e-6;
      ref_fade_forward(1, alpha, ad + j, bd + j, y2);
      v[j] = keep;
      double fd = dyd[j] * (y1[0] - y2[0]) / 2e-6;
      worst = fmax(worst, fabs(fd - (side ? dbd[j] : dad[j])));
    }
  }
  CHECK(worst < 1e-8, "fade reference backward vs central differences: %g", worst);
  for (size_t i = 0; i < t; i++) dad[i] = daf[i], dbd[i] = dbf[i];
  tbuf ba = tb_new(ctx, af, t, 3), bb = tb_new(ctx, bf, t, 1), by = tb_new(ctx, NULL, t, 2);
  tbuf bdy = tb_new(ctx, dyf, t, 4), bda = tb_new(ctx, daf, t, 0), bdb = tb_new(ctx, dbf, t, 5);
  CHECK_OK(clgan_fade_forward(ctx, t, (float)alpha, tb_view(ba), tb_view(bb), tb_view(by)));
  ref_fade_forward(t, (float)alpha, ad, bd, yd);
  if (alpha == 0.0 || alpha == 1.0) GT_CHECK(ctx, by, yd, TOL_EXACT, MSG("fade y (alpha 0/1)"));
  else GT_CHECK(ctx, by, yd, TOL_ELEM, MSG("fade y"));
  CHECK_OK(clgan_fade_backward(ctx, t, (float)alpha, tb_view(bdy), tb_view(bda), acc,
                               tb_view(bdb), acc));
  ref_fade_backward(t, (float)alpha, dyd, dad, dbd, acc);
  GT_CHECK(ctx, bda, dad, TOL_ELEM, MSG(acc ? "fade da accumulate" : "fade da"));
  GT_CHECK(ctx, bdb, dbd, TOL_ELEM, MSG(acc ? "fade db accumulate" : "fade db"));
  GT_GUARDS_FREE(ctx, MSG("fade guards"), &ba, &bb, &by, &bdy, &bda, &bdb);
  free(af), free(bf), free(dyf), free(daf), free(dbf);
  free(ad), free(bd), free(yd), free(dyd), free(dad), free(dbd);
}

static void run_mul(clgan_ctx *ctx, int n, int c, int hw, int b_vec, int acc) {
  size_t t = (size_t)n * c * hw, tb = b_vec ? (size_t)n * c : t;
  float *af = gt_rand(t, 71 + t), *bf = gt_rand(tb, 72 + tb), *dyf = gt_rand(t, 73);
  float *daf = gt_rand(t, 74), *dbf = gt_rand(tb, 75);
  tbuf ba = tb_new(ctx, af, t, 2), bb = tb_new(ctx, bf, tb, 5), by = tb_new(ctx, NULL, t, 1);
  tbuf bdy = tb_new(ctx, dyf, t, 4), bda = tb_new(ctx, daf, t, 3), bdb = tb_new(ctx, dbf, tb, 0);
  double *ad = gt_d(af, t), *bd = gt_d(bf, tb), *yd = gt_dalloc(t), *dyd = gt_d(dyf, t);
  double *dad = gt_d(daf, t), *dbd = gt_d(dbf, tb);
  CHECK_OK(clgan_mul_forward(ctx, n, c, hw, tb_view(ba), tb_view(bb), b_vec, tb_view(by)));
  ref_mul_forward(n, c, hw, ad, bd, b_vec, yd);
  GT_CHECK(ctx, by, yd, TOL_ELEM, MSG(b_vec ? "mul y (b broadcast)" : "mul y"));
  CHECK_OK(clgan_mul_backward(ctx, n, c, hw, tb_view(ba), tb_view(bb), b_vec, tb_view(bdy),
                              tb_view(bda), tb_view(bdb), acc));
  ref_mul_backward(n, c, hw, ad, bd, b_vec, dyd, dad, dbd, acc);
  GT_CHECK(ctx, bda, dad, TOL_ELEM, MSG(acc ? "mul da accumulate" : "mul da"));
  if (b_vec) GT_CHECK(ctx, bdb, dbd, TOL_SUM(hw + acc), MSG(acc ? "mul db (vec) acc" : "mul db (vec)"));
  else GT_CHECK(ctx, bdb, dbd, TOL_ELEM, MSG(acc ? "mul db accumulate" : "mul db"));
  /* db only, then da alone written over dy itself (in place) */
  double *dbase = gt_get(ctx, bdb);
  CHECK_OK(clgan_mul_backward(ctx, n, c, hw, tb_view(ba), tb_view(bb), b_vec, tb_view(bdy),
                              CLGAN_NONE, tb_view(bdb), 1));
  ref_mul_backward(n, c, hw, ad, bd, b_vec, dyd, NULL, dbase, 1);
  if (b_vec) GT_CHECK(ctx, bdb, dbase, TOL_SUM(hw + 1), MSG("mul db only"));
  else GT_CHECK(ctx, bdb, dbase, TOL_ELEM, MSG("mul db only"));
  CHECK_OK(clgan_mul_backward(ctx, n, c, hw, tb_view(ba), tb_view(bb), b_vec, tb_view(bdy),
                              tb_view(bdy), CLGAN_NONE, 0));
  ref_mul_backward(n, c, hw, ad, bd, b_vec, dyd, dad, NULL, 0);
  GT_CHECK(ctx, bdy, dad, TOL_ELEM, MSG("mul da in place over dy"));
  GT_GUARDS_FREE(ctx, MSG("mul guards"), &ba, &bb, &by, &bdy, &bda, &bdb);
  free(af), free(bf), free(dyf), free(daf), free(dbf);
  free(ad), free(bd), free(yd), free(dyd), free(dad), free(dbd), free(dbase);
}

static void run_prelu(clgan_ctx *ctx, int n, int c, int hw, int a_count, int acc) {
  size_t t = (size_t)n * c * hw;
  float *xf = gt_rand(t, 81 + t), *af = gt_rand((size_t)a_count, 82), *dyf = gt_rand(t, 83);
  float *dxf = gt_rand(t, 84), *daf = gt_rand((size_t)a_count, 85);
  for (size_t i = 0; i < t; i += 7) xf[i] = 0.0f; /* the kink itself: the slope side */
  for (int j = 0; j < a_count; j++) af[j] = 0.25f + 0.5f * af[j];
  tbuf bx = tb_new(ctx, xf, t, 1), ba = tb_new(ctx, af, (size_t)a_count, 3);
  tbuf by = tb_new(ctx, NULL, t, 2), bdy = tb_new(ctx, dyf, t, 5);
  tbuf bdx = tb_new(ctx, dxf, t, 4), bda = tb_new(ctx, daf, (size_t)a_count, 6);
  double *xd = gt_d(xf, t), *ad = gt_d(af, (size_t)a_count), *yd = gt_dalloc(t);
  double *dyd = gt_d(dyf, t), *dxd = gt_d(dxf, t), *dad = gt_d(daf, (size_t)a_count);
  CHECK_OK(clgan_prelu_forward(ctx, n, c, hw, tb_view(bx), tb_view(ba), a_count, tb_view(by)));
  ref_prelu_forward(n, c, hw, xd, ad, a_count, yd);
  GT_CHECK(ctx, by, yd, TOL_ELEM, MSG(a_count == 1 ? "prelu y (one slope)" : "prelu y"));
  CHECK_OK(clgan_prelu_backward(ctx, n, c, hw, tb_view(bx), tb_view(ba), a_count, tb_view(bdy),
                                tb_view(bdx), tb_view(bda), acc));
  ref_prelu_backward(n, c, hw, xd, ad, a_count, dyd, dxd, dad, acc);
  GT_CHECK(ctx, bdx, dxd, TOL_ELEM, MSG(acc ? "prelu dx accumulate" : "prelu dx"));
  double m = (double)t / a_count + acc;
  GT_CHECK(ctx, bda, dad, TOL_SUM(m), MSG(acc ? "prelu da accumulate" : "prelu da"));
  /* deterministic da: the same bits again */
  float *d1 = tu_alloc((size_t)a_count), *d2 = tu_alloc((size_t)a_count);
  CHECK_OK(clgan_prelu_backward(ctx, n, c, hw, tb_view(bx), tb_view(ba), a_count, tb_view(bdy),
                                CLGAN_NONE, tb_view(bda), 0));
  tb_get(ctx, bda, d1);
  CHECK_OK(clgan_prelu_backward(ctx, n, c, hw, tb_view(bx), tb_view(ba), a_count, tb_view(bdy),
                                CLGAN_NONE, tb_view(bda), 0));
  tb_get(ctx, bda, d2);
  CHECK(!memcmp(d1, d2, sizeof(float) * a_count), "%s", MSG("prelu da: a second run differs"));
  /* dx in place over dy, da from the same call (it must read dy before dx overwrites it) */
  CHECK_OK(clgan_prelu_backward(ctx, n, c, hw, tb_view(bx), tb_view(ba), a_count, tb_view(bdy),
                                tb_view(bdy), tb_view(bda), 0));
  ref_prelu_backward(n, c, hw, xd, ad, a_count, dyd, dxd, dad, 0);
  GT_CHECK(ctx, bdy, dxd, TOL_ELEM, MSG("prelu dx in place over dy"));
  GT_CHECK(ctx, bda, dad, TOL_SUM(m), MSG("prelu da beside in-place dx"));
  GT_GUARDS_FREE(ctx, MSG("prelu guards"), &bx, &ba, &by, &bdy, &bdx, &bda);
  free(xf), free(af), free(dyf), free(dxf), free(daf), free(d1), free(d2);
  free(xd), free(ad), free(yd), free(dyd), free(dxd), free(dad);
}

static void run_dropout(clgan_ctx *ctx, size_t t, float p, unsigned long long seed,
                        unsigned long long counter) {
  int n = (int)t, c = 1, hw = 1; /* for MSG */
  float *xf = gt_rand(t, 91 + t), *dyf = gt_rand(t, 92), *dxf = gt_rand(t, 93);
  tbuf bx = tb_new(ctx, xf, t, 3), by = tb_new(ctx, NULL, t, 1);
  tbuf bdy = tb_new(ctx, dyf, t, 2), bdx = tb_new(ctx, dxf, t, 5);
  double *xd = gt_d(xf, t), *yd = gt_dalloc(t), *dyd = gt_d(dyf, t), *dxd = gt_d(dxf, t);
  char tag[96];
  snprintf(tag, sizeof tag, "dropout p=%g seed %llu counter %llu", (double)p, seed, counter);
  CHECK_OK(clgan_dropout_forward(ctx, t, p, seed, counter, tb_view(bx), tb_view(by)));
  ref_dropout(t, p, seed, counter, xd, yd, 0);
  GT_CHECK(ctx, by, yd, TOL_ELEM, MSG(tag));
  /* the same mask as the host twin's uniforms, which a trainer could use */
  float *u = tu_alloc(t), *y = tu_alloc(t);
  clgan_philox_uniform(t, seed, counter, 0.0f, 1.0f, u);
  tb_get(ctx, by, y);
  size_t bad = 0;
  for (size_t i = 0; i < t; i++) bad += (y[i] == 0.0f && xf[i] != 0.0f) != (u[i] < p);
  CHECK(bad == 0, "%s: %zu values disagree with clgan_philox_uniform < p", MSG(tag), bad);
  CHECK_OK(clgan_dropout_backward(ctx, t, p, seed, counter, tb_view(bdy), tb_view(bdx), 1));
  ref_dropout(t, p, seed, counter, dyd, dxd, 1);
  GT_CHECK(ctx, bdx, dxd, TOL_ELEM, MSG("dropout backward accumulate"));
  /* in place: x = dropout(x) */
  CHECK_OK(clgan_dropout_forward(ctx, t, p, seed, counter, tb_view(bx), tb_view(bx)));
  GT_CHECK(ctx, bx, yd, TOL_ELEM, MSG("dropout in place"));
  GT_GUARDS_FREE(ctx, MSG("dropout guards"), &bx, &by, &bdy, &bdx);
  free(xf), free(dyf), free(dxf), free(xd), free(yd), free(dyd), free(dxd), free(u), free(y);
}

static void run_shape(clgan_ctx *ctx, int n, int c, int hw, int v) {
  run_add(ctx, n, c, hw);
  run_fade(ctx, n, c, hw, 0.3 + 0.1 * v, v & 1);
  run_fade(ctx, n, c, hw, (v & 1) ? 1.0 : 0.0, !(v & 1));
  run_mul(ctx, n, c, hw, 0, v & 1);
  run_mul(ctx, n, c, hw, 1, !(v & 1));
  run_prelu(ctx, n, c, hw, 1, v & 1);
  run_prelu(ctx, n, c, hw, c, !(v & 1));
}

static void test_bad_args(clgan_ctx *ctx) {
  tbuf b = tb_new(ctx, NULL, 64, 0);
  clgan_view v = tb_view(b);
  GT_BAD(clgan_add(ctx, 4, v, CLGAN_NONE, v), "add: b is required");
  GT_BAD(clgan_fade_forward(ctx, 4, 1.5f, v, v, v), "fade forward: alpha must be in [0, 1] (got 1.5)");
  GT_BAD(clgan_fade_backward(ctx, 4, 0.5f, CLGAN_NONE, v, 0, v, 0), "fade backward: dy is required");
  GT_BAD(clgan_mul_forward(ctx, 1, 2, 3, v, v, 2, v), "mul forward: b_vec must be 0 or 1 (got 2)");
  GT_BAD(clgan_mul_backward(ctx, 1, -2, 3, v, v, 0, v, v, v, 0), "mul backward: C must not be negative (got -2)");
  GT_BAD(clgan_mul_backward(ctx, 1, 2, 3, v, CLGAN_NONE, 0, v, v, CLGAN_NONE, 0), "mul backward: b (for da) is required");
  GT_BAD(clgan_prelu_forward(ctx, 2, 3, 4, v, v, 2, v), "prelu forward: a_count must be 1 or C = 3 (got 2)");
  GT_BAD(clgan_prelu_backward(ctx, 2, 3, -4, v, v, 3, v, v, v, 0), "prelu backward: HW must not be negative (got -4)");
  GT_BAD(clgan_dropout_forward(ctx, 8, 1.0f, 1, 0, v, v), "dropout forward: p must be in [0, 1) (got 1)");
  GT_BAD(clgan_dropout_backward(ctx, 8, -0.5f, 1, 0, v, v, 0), "dropout backward: p must be in [0, 1) (got -0.5)");
  GT_BAD(clgan_dropout_forward(ctx, 8, NAN, 1, 0, v, v), "dropout forward: p must be in [0, 1)");
  CHECK(tb_guards_ok(ctx, b), "rejected calls wrote");
  tb_free(&b);
}

int main(int argc, char **argv) {
  int small = nn_small(argc, argv);
  clgan_ctx *ctx = tu_open_device();
  test_bad_args(ctx);
  if (small) {
    const int shapes[][3] = {{2, 3, 5}, {1, 1, 1}, {3, 2, 70}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
      run_shape(ctx, shapes[i][0], shapes[i][1], shapes[i][2], (int)i);
    run_dropout(ctx, 37, 0.3f, 7, 0);
    run_dropout(ctx, 22, 0.0f, 7, 5);
    run_dropout(ctx, 41, 0.5f, 0xFFFFFFFFFFFFull, (1ull << 40) + 3);
  } else {
    const int shapes[][3] = {{1, 1, 1}, {2, 3, 5}, {64, 3, 49}, {3, 64, 196}, {64, 256, 1},
                             {5, 7, 1000}, {64, 128, 16}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
      run_shape(ctx, shapes[i][0], shapes[i][1], shapes[i][2], (int)i);
    const float ps[] = {0.0f, 0.1f, 0.5f, 0.9f};
    const size_t ns[] = {1, 3, 4, 1001, 65537};
    for (size_t a = 0; a < 4; a++)
      for (size_t b = 0; b < 5; b++)
        run_dropout(ctx, ns[b], ps[a], 1234567 + a, b == 4 ? (1ull << 40) + 1 : b);
  }
  clgan_ctx_free(ctx);
  return tu_finish("test_graph_arith");
}
