/* Device embedding (src/ops/ops_graph.c) against tests/ref/ref_graph.c: forward (an
 * out-of-range label gives a zero row and reads nothing out of bounds), backward gathered per
 * dw element over the samples in order (repeated labels, overwrite and accumulate), labels at
 * an odd int offset, guards. --small: tiny shapes for Oclgrind.
 * Tolerances: y exact (TOL_EXACT); dw a sum of at most n terms (TOL_SUM(n + 1)). */
#include "graph_test.h"

static char what[200];
#define MSG(s) (snprintf(what, sizeof what, "%s (N=%d num=%d dim=%d)", (s), n, num, dim), what)

static void run_shape(clgan_ctx *ctx, int n, int num, int dim, int acc) {
  int *lab = calloc((size_t)n + 1, sizeof(int));
  for (int i = 0; i < n; i++) lab[i] = (int)((i * 7 + 3) % (num + 2)) - 1; /* -1 .. num */
  if (n > 2) lab[2] = lab[0];                                              /* a repeat */
  size_t ny = (size_t)n * dim, nw = (size_t)num * dim;
  float *wf = gt_rand(nw, 101 + nw), *dyf = gt_rand(ny, 102 + ny), *dwf = gt_rand(nw, 103);
  tbuf bl = gt_int_buf(ctx, lab, (size_t)n, 3);
  tbuf bw = tb_new(ctx, wf, nw, 2), by = tb_new(ctx, NULL, ny, 1);
  tbuf bdy = tb_new(ctx, dyf, ny, 4), bdw = tb_new(ctx, dwf, nw, 5);
  double *wd = gt_d(wf, nw), *yd = gt_dalloc(ny), *dyd = gt_d(dyf, ny), *dwd = gt_d(dwf, nw);
  clgan_view lv = CLGAN_VIEW(bl.mem, bl.off); /* counts ints */
  CHECK_OK(clgan_embed_forward(ctx, n, num, dim, lv, tb_view(bw), tb_view(by)));
  ref_embed_forward(n, num, dim, lab, wd, yd);
  GT_CHECK(ctx, by, yd, TOL_EXACT, MSG("embedding y"));
  CHECK_OK(clgan_embed_backward(ctx, n, num, dim, lv, tb_view(bdy), tb_view(bdw), acc));
  ref_embed_backward(n, num, dim, lab, dyd, dwd, acc);
  GT_CHECK(ctx, bdw, dwd, TOL_SUM(n + 1), MSG(acc ? "embedding dw accumulate" : "embedding dw"));
  /* deterministic: the same bits again */
  float *d1 = tu_alloc(nw), *d2 = tu_alloc(nw);
  CHECK_OK(clgan_embed_backward(ctx, n, num, dim, lv, tb_view(bdy), tb_view(bdw), 0));
  tb_get(ctx, bdw, d1);
  CHECK_OK(clgan_embed_backward(ctx, n, num, dim, lv, tb_view(bdy), tb_view(bdw), 0));
  tb_get(ctx, bdw, d2);
  CHECK(!memcmp(d1, d2, nw * sizeof(float)), "%s", MSG("embedding dw: a second run differs"));
  CHECK(gt_int_guards_ok(ctx, bl), "%s", MSG("labels written"));
  tb_free(&bl);
  GT_GUARDS_FREE(ctx, MSG("embedding guards"), &bw, &by, &bdy, &bdw);
  free(lab), free(wf), free(dyf), free(dwf), free(wd), free(yd), free(dyd), free(dwd);
  free(d1), free(d2);
}

static void test_bad_args(clgan_ctx *ctx) {
  tbuf b = tb_new(ctx, NULL, 16, 0);
  clgan_view v = tb_view(b);
  GT_BAD(clgan_embed_forward(ctx, 2, -3, 4, v, v, v), "embedding forward: num must not be negative (got -3)");
  GT_BAD(clgan_embed_forward(ctx, 2, 3, 4, CLGAN_NONE, v, v), "embedding forward: labels is required");
  GT_BAD(clgan_embed_backward(ctx, 2, 3, -1, v, v, v, 0), "embedding backward: dim must not be negative (got -1)");
  GT_BAD(clgan_embed_backward(ctx, 2, 3, 4, v, v, CLGAN_NONE, 0), "embedding backward: dw is required");
  CHECK(tb_guards_ok(ctx, b), "rejected calls wrote");
  tb_free(&b);
}

int main(int argc, char **argv) {
  int small = nn_small(argc, argv);
  clgan_ctx *ctx = tu_open_device();
  test_bad_args(ctx);
  if (small) {
    run_shape(ctx, 5, 3, 4, 0);
    run_shape(ctx, 1, 1, 1, 1);
    run_shape(ctx, 9, 2, 70, 1);
  } else {
    const int shapes[][3] = {{1, 1, 1}, {5, 3, 4}, {64, 10, 128}, {64, 10, 100}, {7, 1000, 3},
                             {256, 40, 67}};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
      run_shape(ctx, shapes[i][0], shapes[i][1], shapes[i][2], (int)i & 1);
  }
  clgan_ctx_free(ctx);
  return tu_finish("test_graph_embed");
}
