/* Host-only checks of the conv/dense references (tests/ref/ref_conv.c): hand-computed values
 * that pin down PyTorch's layouts, every backward pass against central finite differences of
 * its forward, and the adjoint identity <conv2d(x), y> = <x, conv_transpose2d(y)>. */
#include "test_util.h"

/* The ops are linear in each argument, so a central difference is exact but for rounding;
 * a large step keeps that rounding (float outputs, |y| < ~10) well below the tolerance. */
#define FD_STEP 0.5
#define FD_ABS 2e-4
#define FD_REL 1e-4

typedef struct fd_case {
  int kind; /* 0 conv2d, 1 conv_transpose2d, 2 dense */
  ref_conv_shape s;
  float *x, *w, *b, *r, *y;
  size_t nx, nw, nb, ny;
} fd_case;

static void forward(fd_case *c) {
  if (c->kind == 0) ref_conv2d_forward(&c->s, c->x, c->w, c->b, c->y);
  else if (c->kind == 1) ref_conv_transpose2d_forward(&c->s, c->x, c->w, c->b, c->y);
  else ref_dense_forward(c->s.n, c->s.c_in, c->s.c_out, c->x, c->w, c->b, c->y);
}

/* The scalar loss <f(x, w, b), r>. */
static double loss(fd_case *c) {
  forward(c);
  double l = 0.0;
  for (size_t i = 0; i < c->ny; i++) l += (double)c->y[i] * c->r[i];
  return l;
}

static void fd_compare(fd_case *c, float *param, size_t count, const float *grad,
                       const char *what) {
  float *fd = tu_alloc(count);
  for (size_t i = 0; i < count; i++) {
    float v = param[i];
    param[i] = (float)(v + FD_STEP);
    double lp = loss(c);
    param[i] = (float)(v - FD_STEP);
    double lm = loss(c);
    param[i] = v;
    fd[i] = (float)((lp - lm) / (2.0 * FD_STEP));
  }
  CHECK_CLOSE(grad, fd, count, FD_ABS, FD_REL, what);
  free(fd);
}

static void check_fd(int kind, ref_conv_shape s, int bias, const char *name) {
  fd_case c = {.kind = kind, .s = s};
  if (kind < 2) {
    ref_conv_shape_init(&c.s, kind);
    c.nx = (size_t)s.n * s.c_in * s.h_in * s.w_in;
    c.nw = (size_t)s.c_out * s.c_in * s.kh * s.kw;
    c.ny = (size_t)s.n * s.c_out * c.s.h_out * c.s.w_out;
  } else {
    c.nx = (size_t)s.n * s.c_in;
    c.nw = (size_t)s.c_out * s.c_in;
    c.ny = (size_t)s.n * s.c_out;
  }
  c.nb = (size_t)s.c_out;
  c.x = tu_alloc(c.nx), c.w = tu_alloc(c.nw), c.b = bias ? tu_alloc(c.nb) : NULL;
  c.r = tu_alloc(c.ny), c.y = tu_alloc(c.ny);
  ref_fill_uniform(c.x, c.nx, 11);
  ref_fill_uniform(c.w, c.nw, 12);
  if (c.b) ref_fill_uniform(c.b, c.nb, 13);
  ref_fill_uniform(c.r, c.ny, 14);

  float *dx = tu_alloc(c.nx), *dw = tu_alloc(c.nw), *db = tu_alloc(c.nb);
  int hw = kind < 2 ? c.s.h_out * c.s.w_out : 1;
  if (kind == 0) {
    ref_conv2d_backward_data(&c.s, c.r, c.w, dx);
    ref_conv2d_backward_weight(&c.s, c.x, c.r, dw, 0);
  } else if (kind == 1) {
    ref_conv_transpose2d_backward_data(&c.s, c.r, c.w, dx);
    ref_conv_transpose2d_backward_weight(&c.s, c.x, c.r, dw, 0);
  } else {
    ref_dense_backward_data(s.n, s.c_in, s.c_out, c.r, c.w, dx);
    ref_dense_backward_weight(s.n, s.c_in, s.c_out, c.x, c.r, dw, NULL, 0);
  }
  ref_bias_backward(s.n, s.c_out, hw, c.r, db, 0);

  char what[160];
  snprintf(what, sizeof what, "%s dx vs finite differences", name);
  fd_compare(&c, c.x, c.nx, dx, what);
  snprintf(what, sizeof what, "%s dw vs finite differences", name);
  fd_compare(&c, c.w, c.nw, dw, what);
  if (c.b) {
    snprintf(what, sizeof what, "%s db vs finite differences", name);
    fd_compare(&c, c.b, c.nb, db, what);
  }

  /* accumulate = 1 adds onto what is there */
  float *acc = tu_alloc(c.nw), *want = tu_alloc(c.nw);
  ref_fill_uniform(acc, c.nw, 15);
  for (size_t i = 0; i < c.nw; i++) want[i] = acc[i] + dw[i];
  if (kind == 0) ref_conv2d_backward_weight(&c.s, c.x, c.r, acc, 1);
  else if (kind == 1) ref_conv_transpose2d_backward_weight(&c.s, c.x, c.r, acc, 1);
  else ref_dense_backward_weight(s.n, s.c_in, s.c_out, c.x, c.r, acc, NULL, 1);
  snprintf(what, sizeof what, "%s dw accumulate", name);
  CHECK_CLOSE(acc, want, c.nw, 1e-6, 1e-6, what);
  float *db2 = tu_alloc(c.nb), *dbw = tu_alloc(c.nb);
  ref_fill_uniform(db2, c.nb, 16);
  for (size_t i = 0; i < c.nb; i++) dbw[i] = db2[i] + db[i];
  ref_bias_backward(s.n, s.c_out, hw, c.r, db2, 1);
  snprintf(what, sizeof what, "%s db accumulate", name);
  CHECK_CLOSE(db2, dbw, c.nb, 1e-6, 1e-6, what);

  free(acc), free(want), free(db2), free(dbw);
  free(dx), free(dw), free(db);
  free(c.x), free(c.w), free(c.b), free(c.r), free(c.y);
}

/* <conv2d(x; w), y> = <x, conv_transpose2d(y; w)>, the same w read as (C_out, C_in, k, k)
 * by the one and (C_in', C_out', k, k) by the other; out_pad makes the shapes meet. The
 * weight gradients agree too: conv2d's from (x, y) is conv_transpose2d's from (y, x). */
static void check_adjoint(ref_conv_shape s, const char *name) {
  ref_conv_shape_init(&s, 0);
  ref_conv_shape t = {.n = s.n, .c_in = s.c_out, .h_in = s.h_out, .w_in = s.w_out,
                      .c_out = s.c_in, .kh = s.kh, .kw = s.kw, .stride = s.stride,
                      .pad = s.pad};
  t.out_pad = (s.h_in + 2 * s.pad - s.kh) % s.stride; /* shapes chosen so w agrees */
  ref_conv_shape_init(&t, 1);
  CHECK(t.h_out == s.h_in && t.w_out == s.w_in, "%s: transposed shape %dx%d, want %dx%d", name,
        t.h_out, t.w_out, s.h_in, s.w_in);
  if (t.h_out != s.h_in || t.w_out != s.w_in) return;
  size_t nx = (size_t)s.n * s.c_in * s.h_in * s.w_in;
  size_t ny = (size_t)s.n * s.c_out * s.h_out * s.w_out;
  size_t nw = (size_t)s.c_out * s.c_in * s.kh * s.kw;
  float *x = tu_alloc(nx), *y = tu_alloc(ny), *w = tu_alloc(nw);
  float *cx = tu_alloc(ny), *ty = tu_alloc(nx), *dw1 = tu_alloc(nw), *dw2 = tu_alloc(nw);
  ref_fill_uniform(x, nx, 21);
  ref_fill_uniform(y, ny, 22);
  ref_fill_uniform(w, nw, 23);
  ref_conv2d_forward(&s, x, w, NULL, cx);
  ref_conv_transpose2d_forward(&t, y, w, NULL, ty);
  double lhs = 0, rhs = 0, mag = 0;
  for (size_t i = 0; i < ny; i++) lhs += (double)cx[i] * y[i], mag += fabs((double)cx[i] * y[i]);
  for (size_t i = 0; i < nx; i++) rhs += (double)x[i] * ty[i];
  CHECK(fabs(lhs - rhs) <= 1e-6 * mag, "%s: <conv2d(x), y> = %.12g, <x, convT(y)> = %.12g",
        name, lhs, rhs);
  ref_conv2d_backward_weight(&s, x, y, dw1, 0);
  ref_conv_transpose2d_backward_weight(&t, y, x, dw2, 0);
  char what[160];
  snprintf(what, sizeof what, "%s: conv2d dw(x, y) vs conv_transpose2d dw(y, x)", name);
  CHECK_CLOSE(dw2, dw1, nw, 1e-6, 1e-6, what);
  free(x), free(y), free(w), free(cx), free(ty), free(dw1), free(dw2);
}

/* Values worked by hand, in PyTorch's conventions (cross-correlation, no kernel flip). */
static void check_hand_values(void) {
  /* conv2d, x 1x1x3x3 = 1..9, w 1x1x2x2 = 1..4, bias 0.5: y = [[37,47],[67,77]] + 0.5 */
  float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 2, 3, 4}, b = 0.5f, y[4];
  ref_conv_shape s = {.n = 1, .c_in = 1, .h_in = 3, .w_in = 3, .c_out = 1, .kh = 2, .kw = 2,
                      .stride = 1};
  ref_conv_shape_init(&s, 0);
  ref_conv2d_forward(&s, x, w, &b, y);
  const float want[4] = {37.5f, 47.5f, 67.5f, 77.5f};
  CHECK_CLOSE(y, want, 4, 0, 1e-7, "conv2d 3x3 * 2x2 by hand");

  /* conv_transpose2d stride 2 k2, x 1x1x1x2 = [1, 2], w (C_in 1, C_out 2, 2, 2):
   * out channel c is w[0][c] scaled by each input pixel, tiled side by side */
  float tx[2] = {1, 2}, tw[8] = {1, 2, 3, 4, 5, 6, 7, 8}, ty[16];
  ref_conv_shape t = {.n = 1, .c_in = 1, .h_in = 1, .w_in = 2, .c_out = 2, .kh = 2, .kw = 2,
                      .stride = 2};
  ref_conv_shape_init(&t, 1);
  CHECK(t.h_out == 2 && t.w_out == 4, "convT shape %dx%d", t.h_out, t.w_out);
  ref_conv_transpose2d_forward(&t, tx, tw, NULL, ty);
  const float twant[16] = {1, 2, 2, 4, 3, 4, 6, 8, 5, 6, 10, 12, 7, 8, 14, 16};
  CHECK_CLOSE(ty, twant, 16, 0, 1e-7, "conv_transpose2d stride 2 by hand");

  /* Linear: x (1, 2) = [1, 2], w (3, 2), b: y = w x + b */
  float dx[2] = {1, 2}, dw[6] = {1, 0, 0, 1, 1, 1}, db[3] = {0, 10, 100}, dy[3];
  ref_dense_forward(1, 2, 3, dx, dw, db, dy);
  const float dwant[3] = {1, 12, 103};
  CHECK_CLOSE(dy, dwant, 3, 0, 1e-7, "dense by hand");
}

int main(void) {
  check_hand_values();
  /* conv2d: k3/k4/k5, s1/s2, pad 0..2, non-square inputs, with and without bias */
  check_fd(0, (ref_conv_shape){.n = 2, .c_in = 3, .h_in = 6, .w_in = 5, .c_out = 2, .kh = 3,
                               .kw = 3, .stride = 1, .pad = 1}, 1, "conv2d k3 s1 p1");
  check_fd(0, (ref_conv_shape){.n = 1, .c_in = 2, .h_in = 7, .w_in = 8, .c_out = 3, .kh = 4,
                               .kw = 4, .stride = 2, .pad = 1}, 0, "conv2d k4 s2 p1");
  check_fd(0, (ref_conv_shape){.n = 2, .c_in = 2, .h_in = 6, .w_in = 5, .c_out = 2, .kh = 5,
                               .kw = 3, .stride = 2, .pad = 2}, 1, "conv2d k5x3 s2 p2");
  /* conv_transpose2d, including out_pad 1 */
  check_fd(1, (ref_conv_shape){.n = 2, .c_in = 3, .h_in = 3, .w_in = 4, .c_out = 2, .kh = 4,
                               .kw = 4, .stride = 2, .pad = 1, .out_pad = 1}, 1,
           "conv_transpose2d k4 s2 p1 op1");
  check_fd(1, (ref_conv_shape){.n = 1, .c_in = 2, .h_in = 4, .w_in = 3, .c_out = 3, .kh = 3,
                               .kw = 3, .stride = 1, .pad = 0}, 0, "conv_transpose2d k3 s1 p0");
  check_fd(1, (ref_conv_shape){.n = 2, .c_in = 2, .h_in = 3, .w_in = 3, .c_out = 2, .kh = 5,
                               .kw = 5, .stride = 2, .pad = 2, .out_pad = 1}, 1,
           "conv_transpose2d k5 s2 p2 op1");
  check_fd(2, (ref_conv_shape){.n = 3, .c_in = 5, .c_out = 4}, 1, "dense 5->4");
  check_fd(2, (ref_conv_shape){.n = 2, .c_in = 7, .c_out = 1}, 0, "dense 7->1");

  check_adjoint((ref_conv_shape){.n = 2, .c_in = 3, .h_in = 7, .w_in = 6, .c_out = 4, .kh = 3,
                                 .kw = 3, .stride = 1, .pad = 1}, "adjoint k3 s1 p1");
  check_adjoint((ref_conv_shape){.n = 2, .c_in = 3, .h_in = 9, .w_in = 11, .c_out = 2, .kh = 4,
                                 .kw = 4, .stride = 2, .pad = 1}, "adjoint k4 s2 p1");
  check_adjoint((ref_conv_shape){.n = 1, .c_in = 2, .h_in = 10, .w_in = 12, .c_out = 3, .kh = 5,
                                 .kw = 5, .stride = 2, .pad = 2}, "adjoint k5 s2 p2");
  return tu_finish("test_ref_conv");
}
