/* Activation launchers for kernels/activation.cl. Tests: tests/ops_nn/test_activation.c */
#include "clgan/ops.h"
#include "clgan/program.h"

static clgan_status check_act(clgan_act act, const char *what) {
  if ((int)act < CLGAN_ACT_IDENTITY || act > CLGAN_ACT_SIGMOID)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: unknown activation %d", what, (int)act);
  return CLGAN_OK;
}

clgan_status clgan_activation_forward(clgan_ctx *ctx, clgan_act act, float slope, size_t n,
                                      clgan_view x, clgan_view y) {
  clgan_status s = check_act(act, "activation forward");
  if (s || n == 0) return s;
  if (!x.mem || !y.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "activation forward: x and y are required");
  if (act == CLGAN_ACT_IDENTITY && x.mem == y.mem && x.off == y.off) return CLGAN_OK;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "activation", "act_forward", &k))) return s;
  cl_ulong nn = n, xo = x.off, yo = y.off;
  cl_int a = (cl_int)act;
  clgan_karg args[] = {CLGAN_KARG(nn), CLGAN_KARG(a), CLGAN_KARG(slope), CLGAN_KARG(x.mem),
                       CLGAN_KARG(xo), CLGAN_KARG(y.mem), CLGAN_KARG(yo)};
  if ((s = clgan_set_args(k, "act_forward", 7, args))) return s;
  return clgan_launch_1d(ctx, k, "act_forward", n, 0);
}

clgan_status clgan_activation_backward(clgan_ctx *ctx, clgan_act act, float slope, size_t n,
                                       clgan_view x, clgan_view y, clgan_view dy,
                                       clgan_view dx) {
  clgan_status s = check_act(act, "activation backward");
  if (s || n == 0) return s;
  int needs_x = act == CLGAN_ACT_RELU || act == CLGAN_ACT_LEAKY_RELU;
  int needs_y = act == CLGAN_ACT_TANH || act == CLGAN_ACT_SIGMOID;
  if (!dy.mem || !dx.mem || (needs_x && !x.mem) || (needs_y && !y.mem))
    return clgan_error(CLGAN_ERR_INVALID_ARG,
                       "activation backward: dy, dx and the %s are required",
                       needs_x ? "forward input x" : "forward output y");
  if (act == CLGAN_ACT_IDENTITY && dy.mem == dx.mem && dy.off == dx.off) return CLGAN_OK;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "activation", "act_backward", &k))) return s;
  /* the unread one of x/y still needs a valid buffer on some drivers */
  clgan_view xv = x.mem ? x : dy, yv = y.mem ? y : dy;
  cl_ulong nn = n, xo = xv.off, yo = yv.off, dyo = dy.off, dxo = dx.off;
  cl_int a = (cl_int)act;
  clgan_karg args[] = {CLGAN_KARG(nn),    CLGAN_KARG(a),      CLGAN_KARG(slope),
                       CLGAN_KARG(xv.mem), CLGAN_KARG(xo),    CLGAN_KARG(yv.mem),
                       CLGAN_KARG(yo),     CLGAN_KARG(dy.mem), CLGAN_KARG(dyo),
                       CLGAN_KARG(dx.mem), CLGAN_KARG(dxo)};
  if ((s = clgan_set_args(k, "act_backward", 11, args))) return s;
  return clgan_launch_1d(ctx, k, "act_backward", n, 0);
}
