/* Every conv2d / conv_transpose2d / dense device op against the float64 references in
 * tests/ref/ref_conv.c: shapes straddling tile edges, batch 1/3/64, the dcgan28 layers at
 * batch 64 and the dcgan64 layers at batch 2, odd buffer offsets with guard zones, bias on
 * and off, accumulate 0 and 1. `--small` runs only tiny shapes (the Oclgrind variant). */
#include <time.h>

#include "test_util.h"

/* Tolerance of an output that sums `red` products of values in [-1, 1): abs + rel*|ref|
 * with abs = TOL_ABS0 + TOL_PER_TERM * red. Float32 sums of that length stay ~10x inside
 * it; dropping or doubling a single product (|x*w| ~ 0.25) lands far outside. */
#define TOL_ABS0 1e-6
#define TOL_PER_TERM 2e-7
#define TOL_REL 1e-5

/* Tensors sit at these odd float offsets inside their buffers, with a guard zone of GUARD
 * floats behind them; guards must come back bit-identical. */
enum { OFF_X = 3, OFF_W = 5, OFF_B = 7, OFF_Y = 9, OFF_WS = 11, GUARD = 13 };
static const float SENTINEL = -12345.5f;

static clgan_ctx *ctx;

typedef struct tbuf {
  cl_mem mem;
  size_t off, n;
} tbuf;

/* The whole buffer is written from the host, sentinels included: Oclgrind's
 * uninitialised-value checker loses track of kernel writes into a buffer the host wrote only
 * in part, and reports CLBlast's reads of them. */
static tbuf tb_make(const float *data, size_t n, size_t off) {
  size_t total = off + n + GUARD;
  float *h = tu_alloc(total);
  for (size_t i = 0; i < total; i++) h[i] = SENTINEL;
  for (size_t i = 0; data && i < n; i++) h[off + i] = data[i];
  tbuf t = {tu_upload(ctx, h, total), off, n};
  free(h);
  return t;
}

static clgan_view tb_view(tbuf t) { return CLGAN_VIEW(t.mem, t.off); }

/* Compares the tensor with want, and the guard zones with the sentinel. */
static void tb_check(tbuf t, const float *want, double abs_tol, double rel_tol,
                     const char *what) {
  float *h = tu_alloc(t.off + t.n + GUARD);
  tu_download(ctx, t.mem, 0, t.off + t.n + GUARD, h);
  CHECK_CLOSE(h + t.off, want, t.n, abs_tol, rel_tol, what);
  int guard_ok = 1;
  for (size_t i = 0; i < t.off; i++) guard_ok &= h[i] == SENTINEL;
  for (size_t i = 0; i < GUARD; i++) guard_ok &= h[t.off + t.n + i] == SENTINEL;
  CHECK(guard_ok, "%s: a write landed outside the tensor", what);
  free(h);
}

static void tb_free(tbuf *t) { clgan_buffer_release(&t->mem); }

static double tol(size_t red) { return TOL_ABS0 + TOL_PER_TERM * (double)red; }

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The two shapes of the layout kernels: one contiguous run per work-item (what CPU devices
 * get) and one element per work-item (GPUs); CLGAN_CONV_FORM picks one. */
static const char *const FORMS[2] = {"rows", "items"};

typedef struct conv_case {
  const char *name;
  int transposed, n, c_in, h, w, c_out, kh, kw, stride, pad, out_pad, bias;
} conv_case;

static void run_conv(const conv_case *cc) {
  double t0 = now_s();
  clgan_conv c = {.n = cc->n, .c_in = cc->c_in, .h_in = cc->h, .w_in = cc->w,
                  .c_out = cc->c_out, .kh = cc->kh, .kw = cc->kw, .stride = cc->stride,
                  .pad = cc->pad, .out_pad = cc->out_pad, .transposed = cc->transposed};
  CHECK_OK(clgan_conv_init(&c));
  ref_conv_shape rs = {.n = c.n, .c_in = c.c_in, .h_in = c.h_in, .w_in = c.w_in,
                       .c_out = c.c_out, .kh = c.kh, .kw = c.kw, .stride = c.stride,
                       .pad = c.pad, .out_pad = c.out_pad};
  ref_conv_shape_init(&rs, c.transposed);
  CHECK(rs.h_out == c.h_out && rs.w_out == c.w_out, "%s: output %dx%d, reference %dx%d",
        cc->name, c.h_out, c.w_out, rs.h_out, rs.w_out);
  size_t nx = (size_t)c.n * c.c_in * c.h_in * c.w_in;
  size_t ny = (size_t)c.n * c.c_out * c.h_out * c.w_out;
  size_t nw = (size_t)c.c_out * c.c_in * c.kh * c.kw, nb = (size_t)c.c_out;
  size_t nws = clgan_conv_workspace(&c);
  CHECK(nws > 0, "%s: workspace %zu", cc->name, nws);

  float *x = tu_alloc(nx), *w = tu_alloc(nw), *b = tu_alloc(nb), *dy = tu_alloc(ny);
  float *y_ref = tu_alloc(ny), *dx_ref = tu_alloc(nx), *dw_ref = tu_alloc(nw);
  float *db_ref = tu_alloc(nb), *junk = tu_alloc(nw > nb ? nw : nb), *nans = tu_alloc(nw);
  ref_fill_uniform(x, nx, 101);
  ref_fill_uniform(w, nw, 102);
  ref_fill_uniform(b, nb, 103);
  ref_fill_uniform(dy, ny, 104);
  ref_fill_uniform(junk, nw > nb ? nw : nb, 105);
  for (size_t i = 0; i < nw; i++) nans[i] = NAN;
  /* per-output reduction lengths, an upper bound of the products each output sums */
  size_t red_fwd = (size_t)c.c_in * c.kh * c.kw, red_bwd = (size_t)c.c_out * c.kh * c.kw;
  size_t red_w = c.transposed ? (size_t)c.n * c.h_in * c.w_in
                              : (size_t)c.n * c.h_out * c.w_out;
  size_t red_b = (size_t)c.n * c.h_out * c.w_out;
  if (c.transposed) {
    ref_conv_transpose2d_forward(&rs, x, w, cc->bias ? b : NULL, y_ref);
    ref_conv_transpose2d_backward_data(&rs, dy, w, dx_ref);
    ref_conv_transpose2d_backward_weight(&rs, x, dy, dw_ref, 0);
  } else {
    ref_conv2d_forward(&rs, x, w, cc->bias ? b : NULL, y_ref);
    ref_conv2d_backward_data(&rs, dy, w, dx_ref);
    ref_conv2d_backward_weight(&rs, x, dy, dw_ref, 0);
  }
  ref_bias_backward(c.n, c.c_out, c.h_out * c.w_out, dy, db_ref, 0);
  double t_ref = now_s() - t0;

  /* both shapes of the layout kernels (src/ops/ops_conv.c's conv_rows), whatever the device */
  for (int f = 0; f < 2; f++) {
    double t1 = now_s();
    setenv("CLGAN_CONV_FORM", FORMS[f], 1);
    tbuf bx = tb_make(x, nx, OFF_X), bw = tb_make(w, nw, OFF_W), bb = tb_make(b, nb, OFF_B);
    tbuf by = tb_make(NULL, ny, OFF_Y), bdy = tb_make(dy, ny, OFF_Y);
    tbuf bdx = tb_make(NULL, nx, OFF_X), bws = tb_make(NULL, nws, OFF_WS);
    /* dw and db start as NaN (a fresh arena may hold anything): accumulate = 0 must overwrite
     * without reading them; db is finite junk when there is no bias, and must stay as it is */
    tbuf bdw = tb_make(nans, nw, OFF_W), bdb = tb_make(cc->bias ? nans : junk, nb, OFF_B);
    clgan_view vb = cc->bias ? tb_view(bb) : CLGAN_NONE;
    char what[200];

    CHECK_OK(clgan_conv_forward(ctx, &c, tb_view(bx), tb_view(bw), vb, tb_view(by),
                                tb_view(bws)));
    snprintf(what, sizeof what, "%s [%s] forward%s", cc->name, FORMS[f],
             cc->bias ? " + bias" : "");
    tb_check(by, y_ref, tol(red_fwd), TOL_REL, what);

    CHECK_OK(clgan_conv_backward_data(ctx, &c, tb_view(bdy), tb_view(bw), tb_view(bdx),
                                      tb_view(bws)));
    snprintf(what, sizeof what, "%s [%s] backward_data", cc->name, FORMS[f]);
    tb_check(bdx, dx_ref, tol(red_bwd), TOL_REL, what);

    clgan_view vdb = cc->bias ? tb_view(bdb) : CLGAN_NONE;
    CHECK_OK(clgan_conv_backward_weight(ctx, &c, tb_view(bx), tb_view(bdy), tb_view(bdw), vdb, 0,
                                        tb_view(bws)));
    snprintf(what, sizeof what, "%s [%s] backward_weight", cc->name, FORMS[f]);
    tb_check(bdw, dw_ref, tol(red_w), TOL_REL, what);
    if (cc->bias) {
      snprintf(what, sizeof what, "%s [%s] bias gradient", cc->name, FORMS[f]);
      tb_check(bdb, db_ref, tol(red_b), TOL_REL, what);
    } else {
      tb_check(bdb, junk, 1e-30, 0, "bias gradient buffer untouched without a bias");
    }
    /* accumulate = 1 on top of the first result gives twice the gradient */
    CHECK_OK(clgan_conv_backward_weight(ctx, &c, tb_view(bx), tb_view(bdy), tb_view(bdw), vdb, 1,
                                        tb_view(bws)));
    for (size_t i = 0; i < nw; i++) dw_ref[i] *= 2.0f;
    for (size_t i = 0; i < nb; i++) db_ref[i] *= 2.0f;
    snprintf(what, sizeof what, "%s [%s] backward_weight accumulate", cc->name, FORMS[f]);
    tb_check(bdw, dw_ref, 2 * tol(red_w), TOL_REL, what);
    if (cc->bias) {
      snprintf(what, sizeof what, "%s [%s] bias gradient accumulate", cc->name, FORMS[f]);
      tb_check(bdb, db_ref, 2 * tol(red_b), TOL_REL, what);
    }
    printf("%-36s [%-5s] ws %8zu floats  ref %6.2f s  device %6.2f s\n", cc->name, FORMS[f],
           nws, t_ref, now_s() - t1);
    tb_free(&bx), tb_free(&bw), tb_free(&bb), tb_free(&by), tb_free(&bdy), tb_free(&bdx);
    tb_free(&bws), tb_free(&bdw), tb_free(&bdb);
    /* the accumulate check doubled the references */
    for (size_t i = 0; i < nw; i++) dw_ref[i] *= 0.5f;
    for (size_t i = 0; i < nb; i++) db_ref[i] *= 0.5f;
  }
  unsetenv("CLGAN_CONV_FORM");
  free(x), free(w), free(b), free(dy), free(y_ref), free(dx_ref), free(dw_ref), free(db_ref);
  free(junk), free(nans);
}

typedef struct dense_case {
  const char *name;
  int n, in, out, bias;
} dense_case;

static void run_dense(const dense_case *dc) {
  double t0 = now_s();
  int n = dc->n, in = dc->in, out = dc->out;
  size_t nx = (size_t)n * in, ny = (size_t)n * out, nw = (size_t)out * in;
  float *x = tu_alloc(nx), *w = tu_alloc(nw), *b = tu_alloc(out), *dy = tu_alloc(ny);
  float *y_ref = tu_alloc(ny), *dx_ref = tu_alloc(nx), *dw_ref = tu_alloc(nw);
  float *db_ref = tu_alloc(out), *junk = tu_alloc(nw > (size_t)out ? nw : (size_t)out);
  float *nans = tu_alloc(nw);
  for (size_t i = 0; i < nw; i++) nans[i] = NAN;
  ref_fill_uniform(x, nx, 201);
  ref_fill_uniform(w, nw, 202);
  ref_fill_uniform(b, out, 203);
  ref_fill_uniform(dy, ny, 204);
  ref_fill_uniform(junk, nw > (size_t)out ? nw : (size_t)out, 205);
  ref_dense_forward(n, in, out, x, w, dc->bias ? b : NULL, y_ref);
  ref_dense_backward_data(n, in, out, dy, w, dx_ref);
  ref_dense_backward_weight(n, in, out, x, dy, dw_ref, db_ref, 0);

  tbuf bx = tb_make(x, nx, OFF_X), bw = tb_make(w, nw, OFF_W), bb = tb_make(b, out, OFF_B);
  tbuf by = tb_make(NULL, ny, OFF_Y), bdy = tb_make(dy, ny, OFF_Y);
  tbuf bdx = tb_make(NULL, nx, OFF_X);
  tbuf bdw = tb_make(nans, nw, OFF_W), bdb = tb_make(dc->bias ? nans : junk, out, OFF_B);
  clgan_view vb = dc->bias ? tb_view(bb) : CLGAN_NONE;
  clgan_view vdb = dc->bias ? tb_view(bdb) : CLGAN_NONE;
  char what[200];

  CHECK_OK(clgan_dense_forward(ctx, n, in, out, tb_view(bx), tb_view(bw), vb, tb_view(by)));
  snprintf(what, sizeof what, "%s forward%s", dc->name, dc->bias ? " + bias" : "");
  tb_check(by, y_ref, tol(in), TOL_REL, what);
  CHECK_OK(clgan_dense_backward_data(ctx, n, in, out, tb_view(bdy), tb_view(bw), tb_view(bdx)));
  snprintf(what, sizeof what, "%s backward_data", dc->name);
  tb_check(bdx, dx_ref, tol(out), TOL_REL, what);
  CHECK_OK(clgan_dense_backward_weight(ctx, n, in, out, tb_view(bx), tb_view(bdy), tb_view(bdw),
                                       vdb, 0));
  snprintf(what, sizeof what, "%s backward_weight", dc->name);
  tb_check(bdw, dw_ref, tol(n), TOL_REL, what);
  if (dc->bias) {
    snprintf(what, sizeof what, "%s bias gradient", dc->name);
    tb_check(bdb, db_ref, tol(n), TOL_REL, what);
  }
  CHECK_OK(clgan_dense_backward_weight(ctx, n, in, out, tb_view(bx), tb_view(bdy), tb_view(bdw),
                                       vdb, 1));
  for (size_t i = 0; i < nw; i++) dw_ref[i] *= 2.0f;
  for (int i = 0; i < out; i++) db_ref[i] *= 2.0f;
  snprintf(what, sizeof what, "%s backward_weight accumulate", dc->name);
  tb_check(bdw, dw_ref, 2 * tol(n), TOL_REL, what);
  if (dc->bias) {
    snprintf(what, sizeof what, "%s bias gradient accumulate", dc->name);
    tb_check(bdb, db_ref, 2 * tol(n), TOL_REL, what);
  } else {
    tb_check(bdb, junk, 1e-30, 0, "dense bias gradient buffer untouched without a bias");
  }
  printf("%-36s device+ref %6.2f s\n", dc->name, now_s() - t0);
  tb_free(&bx), tb_free(&bw), tb_free(&bb), tb_free(&by), tb_free(&bdy), tb_free(&bdx);
  tb_free(&bdw), tb_free(&bdb);
  free(x), free(w), free(b), free(dy), free(y_ref), free(dx_ref), free(dw_ref), free(db_ref);
  free(junk), free(nans);
}

/* Bad arguments fail with CLGAN_ERR_INVALID_ARG and a message, before anything runs. */
static void check_bad_args(void) {
  clgan_conv c = {.n = 2, .c_in = 3, .h_in = 5, .w_in = 5, .c_out = 4, .kh = 3, .kw = 3,
                  .stride = 1, .pad = 1};
  CHECK_OK(clgan_conv_init(&c));
  size_t nws = clgan_conv_workspace(&c);
  tbuf bx = tb_make(NULL, 2 * 3 * 25, 0), bw = tb_make(NULL, 4 * 3 * 9, 0);
  tbuf by = tb_make(NULL, 2 * 4 * 25, 0), bws = tb_make(NULL, nws, 0);
  /* y one float short: the buffer holds 200 + GUARD floats, the view starts at GUARD + 1 */
  clgan_status s = clgan_conv_forward(ctx, &c, tb_view(bx), tb_view(bw), CLGAN_NONE,
                                      CLGAN_VIEW(by.mem, GUARD + 1), tb_view(bws));
  CHECK(s == CLGAN_ERR_INVALID_ARG && strstr(clgan_last_error(), "'y'"),
        "short y: %s: %s", clgan_status_name(s), clgan_last_error());
  s = clgan_conv_forward(ctx, &c, tb_view(bx), CLGAN_NONE, CLGAN_NONE, tb_view(by),
                         tb_view(bws));
  CHECK(s == CLGAN_ERR_INVALID_ARG && strstr(clgan_last_error(), "'w'"),
        "no w: %s: %s", clgan_status_name(s), clgan_last_error());
  clgan_conv stale = c;
  stale.h_in = 7; /* changed without clgan_conv_init */
  s = clgan_conv_backward_data(ctx, &stale, tb_view(by), tb_view(bw), tb_view(bx),
                               tb_view(bws));
  CHECK(s == CLGAN_ERR_INVALID_ARG, "stale geometry: %s", clgan_status_name(s));
  s = clgan_dense_forward(ctx, 0, 3, 4, tb_view(bx), tb_view(bw), CLGAN_NONE, tb_view(by));
  CHECK(s == CLGAN_ERR_INVALID_ARG, "dense n = 0: %s", clgan_status_name(s));
  tb_free(&bx), tb_free(&bw), tb_free(&by), tb_free(&bws);
}

#define CONV(name, n, ci, h, w, co, k, s, p, bias) {name, 0, n, ci, h, w, co, k, k, s, p, 0, bias}
#define CONVT(name, n, ci, h, w, co, k, s, p, op, bias) \
  {name, 1, n, ci, h, w, co, k, k, s, p, op, bias}

/* Tiny shapes for Oclgrind: every kernel in both forms and both chunk paths (n = 1 writes
 * through directly, n > 1 folds), with bias and out_pad. */
static const conv_case small_convs[] = {
    CONV("small conv k3 s1 p1", 2, 3, 5, 4, 2, 3, 1, 1, 1),
    CONV("small conv k4 s2 p1 n1", 1, 2, 6, 6, 3, 4, 2, 1, 0),
    CONVT("small convT k4 s2 p1 op1", 2, 3, 3, 2, 2, 4, 2, 1, 1, 1),
    CONVT("small convT k3 s1 p0 n1", 1, 2, 2, 3, 3, 3, 1, 0, 0, 0),
    {"small conv k5x3 s2 p2 n3", 0, 3, 2, 7, 6, 3, 5, 3, 2, 2, 0, 1},
    CONVT("small convT k5 s2 p2 op1 n3", 3, 2, 3, 2, 3, 5, 2, 2, 1, 1),
    /* output rows of 5 at stride 2: the row kernels' vector paths */
    CONV("small conv k4 s2 p1 11x11", 2, 2, 11, 11, 3, 4, 2, 1, 1),
    CONVT("small convT k4 s2 p1 5x5", 2, 2, 5, 5, 3, 4, 2, 1, 0, 1),
    /* col2im's k4 s2 p1 path, 4 column pairs per step (input width a multiple of 4), and
     * its 1x1-input path, both with a bias */
    CONVT("small convT k4 s2 p1 4x8", 2, 3, 4, 8, 2, 4, 2, 1, 0, 1),
    CONVT("small convT k4 s1 p0 1x1", 3, 5, 1, 1, 2, 4, 1, 0, 0, 1),
};
static const dense_case small_dense[] = {
    {"small dense 5->3", 2, 5, 3, 1},
    {"small dense 4->1 no bias", 3, 4, 1, 0},
    {"small dense 7->2 n1", 1, 7, 2, 1},
};

static const conv_case convs[] = {
    /* tile edges: channels and sizes 1, 7, 31..33, 63..65; batch 1, 3, 64 */
    CONV("conv 1->7 7x7 k3 s1 p1 n1", 1, 1, 7, 7, 7, 3, 1, 1, 1),
    CONV("conv 7->33 33x31 k4 s2 p1 n3", 3, 7, 33, 31, 33, 4, 2, 1, 0),
    CONV("conv 3->5 9x9 k5 s2 p2 n64", 64, 3, 9, 9, 5, 5, 2, 2, 1),
    CONV("conv 32->65 15x15 k3 s2 p0 n3", 3, 32, 15, 15, 65, 3, 2, 0, 1),
    CONV("conv 65->63 8x8 k4 s1 p2 n1", 1, 65, 8, 8, 63, 4, 1, 2, 0),
    CONV("conv 64->1 7x7 k3 s1 p1 n3", 3, 64, 7, 7, 1, 3, 1, 1, 1),
    {"conv 2->31 65x63 k5x3 s1 p2 n3", 0, 3, 2, 65, 63, 31, 5, 3, 1, 2, 0, 1},
    CONVT("convT 7->1 7x7 k4 s2 p1 n1", 1, 7, 7, 7, 1, 4, 2, 1, 0, 1),
    CONVT("convT 33->32 5x6 k4 s2 p1 op1 n3", 3, 33, 5, 6, 32, 4, 2, 1, 1, 0),
    CONVT("convT 5->3 4x4 k3 s2 p1 op1 n64", 64, 5, 4, 4, 3, 3, 2, 1, 1, 1),
    CONVT("convT 63->65 9x9 k5 s1 p2 n3", 3, 63, 9, 9, 65, 5, 1, 2, 0, 1),
    CONVT("convT 31->7 16x16 k5 s2 p2 op1 n1", 1, 31, 16, 16, 7, 5, 2, 2, 1, 0),
    CONVT("convT 1->2 31x33 k3 s1 p0 n3", 3, 1, 31, 33, 2, 3, 1, 0, 0, 1),
    {"convT 7->5 6x5 k3x5 s2 p1 op1 n3", 1, 3, 7, 6, 5, 5, 3, 5, 2, 1, 1, 1},
    /* col2im's k4 s2 p1 path with 4 column pairs per step, and its 1x1-input path, with bias */
    CONVT("convT 9->6 8x12 k4 s2 p1 n3", 3, 9, 8, 12, 6, 4, 2, 1, 0, 1),
    CONVT("convT 7->9 1x1 k4 s1 p0 n5", 5, 7, 1, 1, 9, 4, 1, 0, 0, 1),
    /* more than one chunk of the folded batch (workspace cap), uneven last chunk */
    CONV("conv 64->16 64x64 k3 n5 (2 chunks)", 5, 64, 64, 64, 16, 3, 1, 1, 1),
    CONVT("convT 16->64 32x32 k4 s2 n9 (2 chunks)", 9, 16, 32, 32, 64, 4, 2, 1, 0, 1),
    /* one sample alone exceeds the cap: per-sample chunks, dw summed over them */
    CONV("conv 8->1 256x256 k4 n2 (1/chunk)", 2, 8, 256, 256, 1, 4, 1, 0, 1),
    /* dcgan28 (issue 4) at batch 64, no bias */
    CONV("dcgan28 D conv 1->64 28->14 n64", 64, 1, 28, 28, 64, 4, 2, 1, 0),
    CONV("dcgan28 D conv 64->128 14->7 n64", 64, 64, 14, 14, 128, 4, 2, 1, 0),
    CONVT("dcgan28 G convT 256->128 7->14 n64", 64, 256, 7, 7, 128, 4, 2, 1, 0, 0),
    CONVT("dcgan28 G convT 128->1 14->28 n64", 64, 128, 14, 14, 1, 4, 2, 1, 0, 0),
    /* dcgan64 (PyTorch's DCGAN example) at batch 2 to keep the reference cheap */
    CONVT("dcgan64 G convT 100->512 1->4 n2", 2, 100, 1, 1, 512, 4, 1, 0, 0, 0),
    CONVT("dcgan64 G convT 512->256 4->8 n2", 2, 512, 4, 4, 256, 4, 2, 1, 0, 0),
    CONVT("dcgan64 G convT 256->128 8->16 n2", 2, 256, 8, 8, 128, 4, 2, 1, 0, 0),
    CONVT("dcgan64 G convT 128->64 16->32 n2", 2, 128, 16, 16, 64, 4, 2, 1, 0, 0),
    CONVT("dcgan64 G convT 64->3 32->64 n2", 2, 64, 32, 32, 3, 4, 2, 1, 0, 0),
    CONV("dcgan64 D conv 3->64 64->32 n2", 2, 3, 64, 64, 64, 4, 2, 1, 0),
    CONV("dcgan64 D conv 64->128 32->16 n2", 2, 64, 32, 32, 128, 4, 2, 1, 0),
    CONV("dcgan64 D conv 128->256 16->8 n2", 2, 128, 16, 16, 256, 4, 2, 1, 0),
    CONV("dcgan64 D conv 256->512 8->4 n2", 2, 256, 8, 8, 512, 4, 2, 1, 0),
    CONV("dcgan64 D conv 512->1 4->1 n2", 2, 512, 4, 4, 1, 4, 1, 0, 0),
};
static const dense_case denses[] = {
    {"dense 1->1 n1", 1, 1, 1, 1},
    {"dense 33->65 n3", 3, 33, 65, 0},
    {"dense 100->63 n64", 64, 100, 63, 1},
    {"dense 65->1 n3", 3, 65, 1, 1},
    {"dense 31->7 n64", 64, 31, 7, 0},
    {"dcgan28 G dense 100->12544 n64", 64, 100, 12544, 0},
    {"dcgan28 D dense 6272->1 n64", 64, 6272, 1, 1},
};

#define COUNT(a) (sizeof(a) / sizeof *(a))

int main(int argc, char **argv) {
  int small = argc > 1 && !strcmp(argv[1], "--small");
  ctx = tu_open_device();
  printf("device: %s (%s)\n", ctx->info.name, ctx->info.platform_name);
  const conv_case *cv = small ? small_convs : convs;
  const dense_case *dn = small ? small_dense : denses;
  size_t ncv = small ? COUNT(small_convs) : COUNT(convs);
  size_t ndn = small ? COUNT(small_dense) : COUNT(denses);
  check_bad_args();
  for (size_t i = 0; i < ncv; i++) run_conv(&cv[i]);
  for (size_t i = 0; i < ndn; i++) run_dense(&dn[i]);
  clgan_ctx_free(ctx);
  return tu_finish(small ? "test_conv --small" : "test_conv");
}
