/* Doctor checks for conv2d, conv_transpose2d and dense: each op once on small shapes (odd
 * buffer offsets, bias on) against tests/ref/ref_conv.c. Also run under Oclgrind by
 * tests/core/test_oclgrind.sh; the full tests are tests/ops_conv/test_conv.c. */
#include <stdio.h>
#include <stdlib.h>

#include "ref.h"
#include "doctor.h"

/* Tolerance abs + rel*|want| for sums of at most ~100 products of values in [-1, 1). */
#define DOC_ABS 1e-5
#define DOC_REL 1e-4
enum { DOC_OFF = 3 }; /* every tensor starts this many floats into its buffer */

/* A host tensor, its device copy at DOC_OFF, and the reference it must match. */
typedef struct doc_tensor {
  float *host, *want, *got;
  size_t n;
  cl_mem mem;
} doc_tensor;

static clgan_status doc_make(clgan_ctx *ctx, doc_tensor *t, size_t n, unsigned long long seed,
                             const char *what) {
  t->n = n;
  t->host = calloc(n + DOC_OFF, sizeof(float));
  t->want = calloc(n, sizeof(float));
  t->got = calloc(n, sizeof(float));
  if (!t->host || !t->want || !t->got) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  ref_fill_uniform(t->host, n + DOC_OFF, seed);
  return doctor_upload(ctx, t->host, n + DOC_OFF, what, &t->mem);
}

static clgan_view doc_view(const doc_tensor *t) { return CLGAN_VIEW(t->mem, DOC_OFF); }
static const float *doc_data(const doc_tensor *t) { return t->host + DOC_OFF; }

/* Downloads the device tensor and returns its error against want (in tolerances). */
static clgan_status doc_err(clgan_ctx *ctx, doc_tensor *t, double *err) {
  clgan_status s = clgan_buffer_read(ctx, t->mem, DOC_OFF * sizeof(float), t->n * sizeof(float),
                                     t->got);
  if (!s) *err = ref_max_err(t->got, t->want, t->n, DOC_ABS, DOC_REL, NULL);
  return s;
}

static void doc_free(doc_tensor *t) {
  clgan_buffer_release(&t->mem);
  free(t->host), free(t->want), free(t->got);
}

static double max2(double a, double b) { return a > b ? a : b; }

/* forward (+ bias), backward_data, backward_weight (+ bias gradient) of one geometry. */
static clgan_status check_conv(clgan_ctx *ctx, int transposed, double *err, char *detail,
                               size_t cap) {
  clgan_conv c = {.n = 2, .c_in = 3, .h_in = transposed ? 4 : 7, .w_in = transposed ? 3 : 6,
                  .c_out = 4, .kh = transposed ? 4 : 3, .kw = transposed ? 4 : 3, .stride = 2,
                  .pad = 1, .out_pad = transposed, .transposed = transposed};
  clgan_status s = clgan_conv_init(&c);
  if (s) return s;
  ref_conv_shape rs = {.n = c.n, .c_in = c.c_in, .h_in = c.h_in, .w_in = c.w_in,
                       .c_out = c.c_out, .kh = c.kh, .kw = c.kw, .stride = c.stride,
                       .pad = c.pad, .out_pad = c.out_pad};
  ref_conv_shape_init(&rs, transposed);
  size_t nx = (size_t)c.n * c.c_in * c.h_in * c.w_in;
  size_t ny = (size_t)c.n * c.c_out * c.h_out * c.w_out;
  size_t nw = (size_t)c.c_out * c.c_in * c.kh * c.kw;
  doc_tensor x = {0}, w = {0}, b = {0}, y = {0}, dy = {0}, dx = {0}, dw = {0}, db = {0};
  cl_mem ws = NULL;
  double e_y = 0, e_dx = 0, e_dw = 0, e_db = 0;
  if (!s) s = doc_make(ctx, &x, nx, 31, "doctor.x");
  if (!s) s = doc_make(ctx, &w, nw, 32, "doctor.w");
  if (!s) s = doc_make(ctx, &b, c.c_out, 33, "doctor.b");
  if (!s) s = doc_make(ctx, &y, ny, 34, "doctor.y");
  if (!s) s = doc_make(ctx, &dy, ny, 35, "doctor.dy");
  if (!s) s = doc_make(ctx, &dx, nx, 36, "doctor.dx");
  if (!s) s = doc_make(ctx, &dw, nw, 37, "doctor.dw");
  if (!s) s = doc_make(ctx, &db, c.c_out, 38, "doctor.db");
  /* the workspace is written from the host too: Oclgrind's uninitialised-value checker
   * loses track of kernel writes into a buffer the host has not written whole */
  size_t nws = clgan_conv_workspace(&c);
  float *zeros = calloc(nws, sizeof(float));
  if (!s && !zeros) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s) s = doctor_upload(ctx, zeros, nws, "doctor.ws", &ws);
  free(zeros);
  if (s) goto done;
  if (transposed) {
    ref_conv_transpose2d_forward(&rs, doc_data(&x), doc_data(&w), doc_data(&b), y.want);
    ref_conv_transpose2d_backward_data(&rs, doc_data(&dy), doc_data(&w), dx.want);
    ref_conv_transpose2d_backward_weight(&rs, doc_data(&x), doc_data(&dy), dw.want, 0);
  } else {
    ref_conv2d_forward(&rs, doc_data(&x), doc_data(&w), doc_data(&b), y.want);
    ref_conv2d_backward_data(&rs, doc_data(&dy), doc_data(&w), dx.want);
    ref_conv2d_backward_weight(&rs, doc_data(&x), doc_data(&dy), dw.want, 0);
  }
  ref_bias_backward(c.n, c.c_out, c.h_out * c.w_out, doc_data(&dy), db.want, 0);
  s = clgan_conv_forward(ctx, &c, doc_view(&x), doc_view(&w), doc_view(&b), doc_view(&y),
                         CLGAN_VIEW(ws, 0));
  if (!s) s = clgan_conv_backward_data(ctx, &c, doc_view(&dy), doc_view(&w), doc_view(&dx),
                                       CLGAN_VIEW(ws, 0));
  if (!s) s = clgan_conv_backward_weight(ctx, &c, doc_view(&x), doc_view(&dy), doc_view(&dw),
                                         doc_view(&db), 0, CLGAN_VIEW(ws, 0));
  if (!s) s = doc_err(ctx, &y, &e_y);
  if (!s) s = doc_err(ctx, &dx, &e_dx);
  if (!s) s = doc_err(ctx, &dw, &e_dw);
  if (!s) s = doc_err(ctx, &db, &e_db);
  if (!s) *err = max2(max2(e_y, e_dx), max2(e_dw, e_db));
  snprintf(detail, cap, "%dx%d k%d s2 p1%s: y %.2g dx %.2g dw %.2g db %.2g", c.h_in, c.w_in,
           c.kh, transposed ? " op1" : "", e_y, e_dx, e_dw, e_db);
done:
  doc_free(&x), doc_free(&w), doc_free(&b), doc_free(&y), doc_free(&dy), doc_free(&dx);
  doc_free(&dw), doc_free(&db);
  clgan_buffer_release(&ws);
  return s;
}

static clgan_status check_conv2d(clgan_ctx *ctx, double *err, char *detail, size_t cap) {
  return check_conv(ctx, 0, err, detail, cap);
}

static clgan_status check_conv_transpose2d(clgan_ctx *ctx, double *err, char *detail,
                                           size_t cap) {
  return check_conv(ctx, 1, err, detail, cap);
}

static clgan_status check_dense(clgan_ctx *ctx, double *err, char *detail, size_t cap) {
  const int n = 3, in = 33, out = 7;
  doc_tensor x = {0}, w = {0}, b = {0}, y = {0}, dy = {0}, dx = {0}, dw = {0}, db = {0};
  double e_y = 0, e_dx = 0, e_dw = 0, e_db = 0;
  clgan_status s = doc_make(ctx, &x, (size_t)n * in, 41, "doctor.x");
  if (!s) s = doc_make(ctx, &w, (size_t)out * in, 42, "doctor.w");
  if (!s) s = doc_make(ctx, &b, out, 43, "doctor.b");
  if (!s) s = doc_make(ctx, &y, (size_t)n * out, 44, "doctor.y");
  if (!s) s = doc_make(ctx, &dy, (size_t)n * out, 45, "doctor.dy");
  if (!s) s = doc_make(ctx, &dx, (size_t)n * in, 46, "doctor.dx");
  if (!s) s = doc_make(ctx, &dw, (size_t)out * in, 47, "doctor.dw");
  if (!s) s = doc_make(ctx, &db, out, 48, "doctor.db");
  if (s) goto done;
  ref_dense_forward(n, in, out, doc_data(&x), doc_data(&w), doc_data(&b), y.want);
  ref_dense_backward_data(n, in, out, doc_data(&dy), doc_data(&w), dx.want);
  ref_dense_backward_weight(n, in, out, doc_data(&x), doc_data(&dy), dw.want, db.want, 0);
  s = clgan_dense_forward(ctx, n, in, out, doc_view(&x), doc_view(&w), doc_view(&b),
                          doc_view(&y));
  if (!s) s = clgan_dense_backward_data(ctx, n, in, out, doc_view(&dy), doc_view(&w),
                                        doc_view(&dx));
  if (!s) s = clgan_dense_backward_weight(ctx, n, in, out, doc_view(&x), doc_view(&dy),
                                          doc_view(&dw), doc_view(&db), 0);
  if (!s) s = doc_err(ctx, &y, &e_y);
  if (!s) s = doc_err(ctx, &dx, &e_dx);
  if (!s) s = doc_err(ctx, &dw, &e_dw);
  if (!s) s = doc_err(ctx, &db, &e_db);
  if (!s) *err = max2(max2(e_y, e_dx), max2(e_dw, e_db));
  snprintf(detail, cap, "n=%d %d->%d: y %.2g dx %.2g dw %.2g db %.2g", n, in, out, e_y, e_dx,
           e_dw, e_db);
done:
  doc_free(&x), doc_free(&w), doc_free(&b), doc_free(&y), doc_free(&dy), doc_free(&dx);
  doc_free(&dw), doc_free(&db);
  return s;
}

const doctor_check doctor_checks_conv[] = {
    {"conv2d fwd/bwd", check_conv2d},
    {"conv_transpose2d fwd/bwd", check_conv_transpose2d},
    {"dense fwd/bwd", check_dense},
    {NULL, NULL},
};
