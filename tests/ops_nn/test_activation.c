/* Device activations (src/ops/ops_activation.c) against tests/ref/ref_nn.c: forward and
 * backward, out of place and in place, at odd offsets. --small: tiny sizes for Oclgrind. */
#include "nn_test.h"

/* Tolerances, abs + rel*|ref|:
 * identity, relu, leaky relu: one float product at most, so exact (1e-30 + 0).
 * tanh, sigmoid forward: OpenCL allows tanh 5 ulp, exp 3 ulp plus a 2.5-ulp division:
 *   1e-7 + 2e-6 (the abs term covers sigmoid's denormal tail, which a device may flush).
 * tanh, sigmoid backward: the device uses y = f(x) as stored, so 1 - y^2 and y (1 - y) carry
 *   twice y's error, up to ~6e-7 absolute where y is near 1 on a 5-ulp tanh: 1e-6 + 1e-5. */
static void tolerances(int act, int backward, double *abs_tol, double *rel_tol) {
  if (act == CLGAN_ACT_TANH || act == CLGAN_ACT_SIGMOID) {
    *abs_tol = backward ? 1e-6 : 1e-7;
    *rel_tol = backward ? 1e-5 : 2e-6;
  } else {
    *abs_tol = 1e-30;
    *rel_tol = 0.0;
  }
}

static const char *act_name[] = {"identity", "relu", "leaky_relu", "tanh", "sigmoid"};

static void run(clgan_ctx *ctx, int act, size_t n) {
  const float slope = act == CLGAN_ACT_LEAKY_RELU ? 0.2f : 0.0f;
  float *x = tu_alloc(n), *dy = tu_alloc(n), *y = tu_alloc(n), *got = tu_alloc(n);
  float *want = tu_alloc(n);
  ref_fill_uniform(x, n, 31 + n);
  ref_fill_uniform(dy, n, 32 + n);
  for (size_t i = 0; i < n; i++) x[i] *= 8.0f;
  if (n > 3) x[1] = 100.0f, x[2] = -100.0f, x[3] = 0.0f; /* saturation and the kink */
  double at, rt;
  char what[96];

  /* out of place */
  tbuf bx = tb_new(ctx, x, n, 3), by = tb_new(ctx, NULL, n, 1);
  CHECK_OK(clgan_activation_forward(ctx, (clgan_act)act, slope, n, tb_view(bx), tb_view(by)));
  ref_activation_forward(act, slope, n, x, want);
  tb_get(ctx, by, y);
  tolerances(act, 0, &at, &rt);
  snprintf(what, sizeof what, "%s forward n=%zu", act_name[act], n);
  CHECK_CLOSE(y, want, n, at, rt, what);

  /* backward reads x (relu, leaky) or y (tanh, sigmoid); dx written over dy in place */
  tbuf bdy = tb_new(ctx, dy, n, 5);
  CHECK_OK(clgan_activation_backward(ctx, (clgan_act)act, slope, n, tb_view(bx), tb_view(by),
                                     tb_view(bdy), tb_view(bdy)));
  ref_activation_backward(act, slope, n, x, dy, want);
  tb_get(ctx, bdy, got);
  tolerances(act, 1, &at, &rt);
  snprintf(what, sizeof what, "%s backward n=%zu", act_name[act], n);
  CHECK_CLOSE(got, want, n, at, rt, what);

  /* in place: y over x */
  CHECK_OK(clgan_activation_forward(ctx, (clgan_act)act, slope, n, tb_view(bx), tb_view(bx)));
  tb_get(ctx, bx, got);
  snprintf(what, sizeof what, "%s forward in place n=%zu", act_name[act], n);
  CHECK_CLOSE(got, y, n, 1e-30, 0.0, what);

  CHECK(tb_guards_ok(ctx, bx) && tb_guards_ok(ctx, by) && tb_guards_ok(ctx, bdy),
        "%s n=%zu: written outside a view", act_name[act], n);
  tb_free(&bx);
  tb_free(&by);
  tb_free(&bdy);
  free(x);
  free(dy);
  free(y);
  free(got);
  free(want);
}

int main(int argc, char **argv) {
  int small = nn_small(argc, argv);
  clgan_ctx *ctx = tu_open_device();
  const size_t full[] = {1, 7, 31, 32, 33, 63, 64, 65, 1000, 100003}, tiny[] = {1, 7, 33};
  const size_t *sizes = small ? tiny : full;
  size_t count = small ? 3 : 10;
  for (int act = CLGAN_ACT_IDENTITY; act <= CLGAN_ACT_SIGMOID; act++)
    for (size_t i = 0; i < count; i++) run(ctx, act, sizes[i]);
  tbuf b = tb_new(ctx, NULL, 4, 0);
  clgan_status s = clgan_activation_forward(ctx, (clgan_act)9, 0.0f, 4, tb_view(b), tb_view(b));
  CHECK(s == CLGAN_ERR_INVALID_ARG, "unknown activation: %s", clgan_status_name(s));
  s = clgan_activation_backward(ctx, CLGAN_ACT_TANH, 0.0f, 4, tb_view(b), CLGAN_NONE, tb_view(b),
                                tb_view(b));
  CHECK(s == CLGAN_ERR_INVALID_ARG, "tanh backward without y: %s", clgan_status_name(s));
  tb_free(&b);
  clgan_ctx_free(ctx);
  return tu_finish("test_activation");
}
