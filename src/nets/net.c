/* Forward and backward of a sequential network on a device, over arenas.
 * Tests: tests/train/test_net.c, tests/train/test_fixture.c */
#include "clgan/net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/program.h"

#define BN_MOMENTUM 0.1f
#define BN_EPS 1e-5f

static size_t layer_out_size(const clgan_layer_desc *l) {
  return (size_t)l->out_c * (size_t)l->out_h * (size_t)l->out_w;
}
static size_t layer_in_size(const clgan_layer_desc *l) {
  return (size_t)l->in_c * (size_t)l->in_h * (size_t)l->in_w;
}
static int is_alias(const clgan_layer_desc *l) {
  return l->kind == CLGAN_LAYER_RESHAPE || l->kind == CLGAN_LAYER_FLATTEN;
}

static clgan_conv layer_conv(const clgan_layer_desc *l, int n) {
  clgan_conv c = {.n = n, .c_in = l->in_c, .h_in = l->in_h, .w_in = l->in_w, .c_out = l->out_c,
                  .kh = l->k, .kw = l->k, .stride = l->stride, .pad = l->pad,
                  .out_pad = l->out_pad, .transposed = l->kind == CLGAN_LAYER_CONVT};
  clgan_conv_init(&c);
  return c;
}

/* Lays out the activation arena: input, then each layer's output and BN saves. */
static void plan(const clgan_net_desc *d, int batch, size_t *out_off, size_t *save_off,
                 size_t *in_off, size_t *act_floats, size_t *max_act, size_t *ws_floats) {
  size_t at = 0, in_size = (size_t)d->in_c * d->in_h * d->in_w;
  *in_off = at;
  at += (size_t)batch * in_size;
  size_t prev = *in_off, mx = in_size, ws = 0;
  for (int i = 0; i < d->count; i++) {
    const clgan_layer_desc *l = &d->layers[i];
    if (is_alias(l)) {
      if (out_off) out_off[i] = prev;
    } else {
      if (out_off) out_off[i] = at;
      prev = at;
      at += (size_t)batch * layer_out_size(l);
    }
    if (l->kind == CLGAN_LAYER_BATCHNORM) {
      if (save_off) save_off[i] = at;
      at += 2 * (size_t)l->out_c;
    }
    if (layer_out_size(l) > mx) mx = layer_out_size(l);
    if (l->kind == CLGAN_LAYER_CONV || l->kind == CLGAN_LAYER_CONVT) {
      clgan_conv c = layer_conv(l, batch);
      size_t w = clgan_conv_workspace(&c);
      if (w > ws) ws = w;
    }
  }
  *act_floats = at;
  *max_act = mx;
  *ws_floats = ws;
}

size_t clgan_net_device_bytes(const clgan_net_desc *d, int batch, int with_optimizer) {
  size_t in_off, acts, mx, ws;
  plan(d, batch, NULL, NULL, &in_off, &acts, &mx, &ws);
  size_t floats = d->param_count * (with_optimizer ? 4 : 2) + d->stat_count + acts +
                  2 * (size_t)batch * mx + ws;
  return floats * sizeof(float);
}

clgan_status clgan_net_create(clgan_ctx *ctx, const clgan_net_desc *d, int batch,
                              int with_optimizer, const char *name, clgan_net **out) {
  *out = NULL;
  if (batch < 1) return clgan_error(CLGAN_ERR_INVALID_ARG, "batch must be at least 1");
  clgan_net *net = calloc(1, sizeof *net);
  if (!net) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  net->desc = d;
  net->ctx = ctx;
  net->batch = batch;
  size_t nl = (size_t)(d->count ? d->count : 1);
  net->out_off = calloc(nl, sizeof *net->out_off);
  net->save_off = calloc(nl, sizeof *net->save_off);
  net->in_view = calloc(nl, sizeof *net->in_view);
  if (!net->out_off || !net->save_off || !net->in_view) {
    clgan_net_free(net);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  plan(d, batch, net->out_off, net->save_off, &net->in_off, &net->act_floats, &net->max_act,
       &net->ws_floats);
  size_t need = clgan_net_device_bytes(d, batch, with_optimizer);
  clgan_status s = CLGAN_OK;
  if (ctx->info.global_mem && need > ctx->info.global_mem) {
    int fit = batch;
    while (fit > 1 && clgan_net_device_bytes(d, fit, with_optimizer) > ctx->info.global_mem / 10 * 9) fit /= 2;
    s = clgan_error(CLGAN_ERR_NOMEM, "network %s at batch %d needs %.0f MiB, more than the "
                    "device's %.0f MiB; try --batch %d", name, batch, need / 1048576.0,
                    ctx->info.global_mem / 1048576.0, fit);
  }
  char what[64];
#define ALLOC(field, floats, label)                                                      \
  if (!s) {                                                                              \
    snprintf(what, sizeof what, "%s.%s", name, label);                                   \
    s = clgan_buffer_create(ctx, (floats) * sizeof(float), what, &net->field);           \
  }
  ALLOC(params, d->param_count, "params")
  ALLOC(grads, d->param_count, "grads")
  ALLOC(stats, d->stat_count, "bn_stats")
  ALLOC(acts, net->act_floats, "activations")
  ALLOC(grad_a, (size_t)batch * net->max_act, "activation_grads")
  ALLOC(grad_b, (size_t)batch * net->max_act, "activation_grads")
  ALLOC(ws, net->ws_floats, "conv_workspace")
  if (with_optimizer) {
    ALLOC(adam_m, d->param_count, "adam_m")
    ALLOC(adam_v, d->param_count, "adam_v")
    if (!s) s = clgan_fill(ctx, d->param_count, 0.0f, CLGAN_VIEW(net->adam_m, 0));
    if (!s) s = clgan_fill(ctx, d->param_count, 0.0f, CLGAN_VIEW(net->adam_v, 0));
  }
#undef ALLOC
  /* Activations are zeroed once so no kernel ever reads uninitialised memory, even in
   * padding a partial batch leaves untouched. */
  if (!s) s = clgan_fill(ctx, net->act_floats, 0.0f, CLGAN_VIEW(net->acts, 0));
  if (s) {
    clgan_net_free(net);
    return s;
  }
  *out = net;
  return CLGAN_OK;
}

void clgan_net_free(clgan_net *net) {
  if (!net) return;
  cl_mem *bufs[] = {&net->params, &net->grads, &net->adam_m, &net->adam_v, &net->stats,
                    &net->acts, &net->grad_a, &net->grad_b, &net->ws};
  for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) clgan_buffer_release(bufs[i]);
  free(net->out_off);
  free(net->save_off);
  free(net->in_view);
  free(net);
}

clgan_view clgan_net_input(const clgan_net *net) { return CLGAN_VIEW(net->acts, net->in_off); }

clgan_view clgan_net_output(const clgan_net *net) {
  const clgan_net_desc *d = net->desc;
  return d->count ? CLGAN_VIEW(net->acts, net->out_off[d->count - 1]) : clgan_net_input(net);
}

static clgan_act act_of(clgan_layer_kind k) {
  switch (k) {
    case CLGAN_LAYER_RELU: return CLGAN_ACT_RELU;
    case CLGAN_LAYER_LEAKY_RELU: return CLGAN_ACT_LEAKY_RELU;
    case CLGAN_LAYER_TANH: return CLGAN_ACT_TANH;
    case CLGAN_LAYER_SIGMOID: return CLGAN_ACT_SIGMOID;
    default: return CLGAN_ACT_IDENTITY;
  }
}

/* 1 if layer i is a batch norm that runs fused with the relu / leaky relu right after it
 * (training-mode forward and every backward): the pair is one kernel each way, the batch
 * norm's own output region is left unwritten, and the backward recomputes the
 * pre-activation from the batch norm's input and saves. */
static int fused_bn_act(const clgan_net_desc *d, int i) {
  return i + 1 < d->count && d->layers[i].kind == CLGAN_LAYER_BATCHNORM &&
         (d->layers[i + 1].kind == CLGAN_LAYER_RELU ||
          d->layers[i + 1].kind == CLGAN_LAYER_LEAKY_RELU);
}

static clgan_view opt(cl_mem m, size_t off, size_t count) {
  return count ? CLGAN_VIEW(m, off) : CLGAN_NONE;
}

clgan_status clgan_net_forward(clgan_net *net, int n, clgan_view x, clgan_bn_mode mode) {
  const clgan_net_desc *d = net->desc;
  clgan_ctx *ctx = net->ctx;
  if (n < 1 || n > net->batch)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "forward of %d samples on a net sized for %d", n,
                       net->batch);
  clgan_view in = x.mem ? x : clgan_net_input(net);
  clgan_view P = CLGAN_VIEW(net->params, 0), ws = CLGAN_VIEW(net->ws, 0);
  clgan_status s = CLGAN_OK;
  for (int i = 0; i < d->count && !s; i++) {
    const clgan_layer_desc *l = &d->layers[i];
    net->in_view[i] = in;
    clgan_view out = is_alias(l) ? in : CLGAN_VIEW(net->acts, net->out_off[i]);
    switch (l->kind) {
      case CLGAN_LAYER_LINEAR:
        s = clgan_dense_forward(ctx, n, (int)layer_in_size(l), l->out_c, in,
                                clgan_view_at(P, l->weight_off),
                                opt(net->params, l->bias_off, l->bias_count), out);
        break;
      case CLGAN_LAYER_CONV:
      case CLGAN_LAYER_CONVT: {
        clgan_conv c = layer_conv(l, n);
        s = clgan_conv_forward(ctx, &c, in, clgan_view_at(P, l->weight_off),
                               opt(net->params, l->bias_off, l->bias_count), out, ws);
        break;
      }
      case CLGAN_LAYER_BATCHNORM: {
        int hw = l->out_h * l->out_w;
        clgan_view gamma = clgan_view_at(P, l->weight_off), beta = clgan_view_at(P, l->bias_off);
        clgan_view rm = CLGAN_VIEW(net->stats, l->stat_off);
        clgan_view rv = CLGAN_VIEW(net->stats, l->stat_off + (size_t)l->out_c);
        if (mode == CLGAN_BN_EVAL) {
          s = clgan_batchnorm_forward_eval(ctx, n, l->out_c, hw, in, gamma, beta, rm, rv, BN_EPS,
                                           out);
        } else {
          clgan_view sm = CLGAN_VIEW(net->acts, net->save_off[i]);
          clgan_view si = clgan_view_at(sm, (size_t)l->out_c);
          int upd = mode == CLGAN_BN_TRAIN, fuse = fused_bn_act(d, i);
          const clgan_layer_desc *a = fuse ? &d->layers[i + 1] : l;
          clgan_view y = fuse ? CLGAN_VIEW(net->acts, net->out_off[i + 1]) : out;
          s = clgan_batchnorm_act_forward_train(ctx, n, l->out_c, hw, in, gamma, beta,
                                                act_of(a->kind), a->slope, y, sm, si,
                                                upd ? rm : CLGAN_NONE, upd ? rv : CLGAN_NONE,
                                                BN_MOMENTUM, BN_EPS);
          if (fuse && !s) { /* the activation layer is done: skip it */
            net->in_view[++i] = out;
            out = y;
          }
        }
        break;
      }
      case CLGAN_LAYER_RELU:
      case CLGAN_LAYER_LEAKY_RELU:
      case CLGAN_LAYER_TANH:
      case CLGAN_LAYER_SIGMOID:
        s = clgan_activation_forward(ctx, act_of(l->kind), l->slope,
                                     (size_t)n * layer_out_size(l), in, out);
        break;
      case CLGAN_LAYER_RESHAPE:
      case CLGAN_LAYER_FLATTEN:
        break;
    }
    if (s) clgan_error_prefix("forward layer %d: ", i);
    in = out;
  }
  if (!s && mode == CLGAN_BN_TRAIN) {
    for (int i = 0; i < d->count; i++)
      if (d->layers[i].kind == CLGAN_LAYER_BATCHNORM) {
        net->bn_batches++;
        break;
      }
  }
  return s;
}

clgan_status clgan_net_backward(clgan_net *net, int n, clgan_view dout, int param_grads,
                                int accumulate, clgan_view din) {
  const clgan_net_desc *d = net->desc;
  clgan_ctx *ctx = net->ctx;
  clgan_view P = CLGAN_VIEW(net->params, 0), G = CLGAN_VIEW(net->grads, 0);
  clgan_view ws = CLGAN_VIEW(net->ws, 0);
  clgan_view dy = dout;
  clgan_status s = CLGAN_OK;
  /* the first layer that does work writes din: reshape/flatten before it are views */
  int first = 0;
  while (first < d->count && is_alias(&d->layers[first])) first++;
  if (first == d->count && din.mem) /* a network of views only: din is dout */
    return clgan_copy(ctx, (size_t)n * d->in_c * d->in_h * d->in_w, dout, din);
  for (int i = d->count - 1; i >= first && !s; i--) {
    const clgan_layer_desc *l = &d->layers[i];
    if (is_alias(l) || (i > 0 && fused_bn_act(d, i - 1))) continue;
    clgan_view x = net->in_view[i];
    clgan_view y = CLGAN_VIEW(net->acts, net->out_off[i]);
    int need_dx = i > first || din.mem != NULL;
    /* dx goes to the ping-pong buffer dy is not in, so no kernel reads what it writes */
    clgan_view dx = (i == first && din.mem) ? din
                    : CLGAN_VIEW(dy.mem == net->grad_a ? net->grad_b : net->grad_a, 0);
    switch (l->kind) {
      case CLGAN_LAYER_LINEAR: {
        int in = (int)layer_in_size(l);
        if (param_grads)
          s = clgan_dense_backward_weight(ctx, n, in, l->out_c, x, dy,
                                          clgan_view_at(G, l->weight_off),
                                          opt(net->grads, l->bias_off, l->bias_count), accumulate);
        if (!s && need_dx)
          s = clgan_dense_backward_data(ctx, n, in, l->out_c, dy, clgan_view_at(P, l->weight_off), dx);
        break;
      }
      case CLGAN_LAYER_CONV:
      case CLGAN_LAYER_CONVT: {
        clgan_conv c = layer_conv(l, n);
        if (param_grads)
          s = clgan_conv_backward_weight(ctx, &c, x, dy, clgan_view_at(G, l->weight_off),
                                         opt(net->grads, l->bias_off, l->bias_count), accumulate, ws);
        if (!s && need_dx) s = clgan_conv_backward_data(ctx, &c, dy, clgan_view_at(P, l->weight_off), dx, ws);
        break;
      }
      case CLGAN_LAYER_BATCHNORM: {
        /* fused: dy is the gradient of the activation's output (its layer was skipped) */
        const clgan_layer_desc *a = fused_bn_act(d, i) ? &d->layers[i + 1] : l;
        clgan_view sm = CLGAN_VIEW(net->acts, net->save_off[i]);
        s = clgan_batchnorm_act_backward(ctx, n, l->out_c, l->out_h * l->out_w, x, dy,
                                         clgan_view_at(P, l->weight_off),
                                         clgan_view_at(P, l->bias_off), act_of(a->kind),
                                         a->slope, sm, clgan_view_at(sm, (size_t)l->out_c), dx,
                                         param_grads ? clgan_view_at(G, l->weight_off) : CLGAN_NONE,
                                         param_grads ? clgan_view_at(G, l->bias_off) : CLGAN_NONE,
                                         accumulate);
        break;
      }
      case CLGAN_LAYER_RELU:
      case CLGAN_LAYER_LEAKY_RELU:
      case CLGAN_LAYER_TANH:
      case CLGAN_LAYER_SIGMOID:
        if (need_dx)
          s = clgan_activation_backward(ctx, act_of(l->kind), l->slope,
                                        (size_t)n * layer_out_size(l), x, y, dy, dx);
        break;
      default:
        break;
    }
    if (s) clgan_error_prefix("backward layer %d: ", i);
    if (!need_dx) break;
    dy = dx;
  }
  return s;
}

clgan_status clgan_net_adam(clgan_net *net, float lr, float beta1, float beta2, float eps,
                            float weight_decay) {
  if (!net->adam_m) return clgan_error(CLGAN_ERR_INTERNAL, "network has no optimiser state");
  net->adam_step++;
  return clgan_adam_step(net->ctx, net->desc->param_count, CLGAN_VIEW(net->params, 0),
                         CLGAN_VIEW(net->grads, 0), CLGAN_VIEW(net->adam_m, 0),
                         CLGAN_VIEW(net->adam_v, 0), lr, beta1, beta2, eps, weight_decay, 0,
                         (long)net->adam_step);
}

clgan_status clgan_net_set_params(clgan_net *net, const float *params, const float *stats) {
  clgan_status s = CLGAN_OK;
  if (params)
    s = clgan_buffer_write(net->ctx, net->params, 0, net->desc->param_count * sizeof(float), params);
  if (!s && stats)
    s = clgan_buffer_write(net->ctx, net->stats, 0, net->desc->stat_count * sizeof(float), stats);
  return s;
}

clgan_status clgan_net_get_params(clgan_net *net, float *params, float *stats) {
  clgan_status s = CLGAN_OK;
  if (params)
    s = clgan_buffer_read(net->ctx, net->params, 0, net->desc->param_count * sizeof(float), params);
  if (!s && stats)
    s = clgan_buffer_read(net->ctx, net->stats, 0, net->desc->stat_count * sizeof(float), stats);
  return s;
}
