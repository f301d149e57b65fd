/* The double backward through a network for gradient penalties (WGAN-GP, R1): the
 * tangent (forward-mode) pass and the penalty's parameter gradient. The reasoning is in
 * docs/KERNELS.md, "Double backward (gradient penalties)".
 * Tests: tests/train/test_penalty.c (float64 host reference, finite differences) */
#include "clgan/penalty.h"

#include <stdlib.h>

static int is_alias(const clgan_layer_desc *l) {
  return l->kind == CLGAN_LAYER_RESHAPE || l->kind == CLGAN_LAYER_FLATTEN ||
         l->kind == CLGAN_LAYER_IDENTITY;
}

static size_t t_size(const clgan_net_desc *d, int t) {
  if (t < d->ninputs) return (size_t)d->inputs[t].c * d->inputs[t].h * d->inputs[t].w;
  const clgan_layer_desc *l = &d->layers[t - d->ninputs];
  return (size_t)l->out_c * l->out_h * l->out_w;
}

const char *clgan_net_penalty_unsupported(const clgan_net_desc *d, int *layer) {
  if (layer) *layer = -1;
  int mbstds = 0;
  if (d->ninputs != 1)
    return "a network with inputs besides its main one (labels, a cond image) has no double "
           "backward yet";
  for (int i = 0; i < d->count; i++) {
    const clgan_layer_desc *l = &d->layers[i];
    const char *why = NULL;
    switch (l->kind) {
      case CLGAN_LAYER_LINEAR:
      case CLGAN_LAYER_CONV:
      case CLGAN_LAYER_CONVT:
        if (l->sn) why = "spectral norm has no double backward yet";
        break;
      case CLGAN_LAYER_RELU:
      case CLGAN_LAYER_LEAKY_RELU:
      case CLGAN_LAYER_RESHAPE:
      case CLGAN_LAYER_FLATTEN:
      case CLGAN_LAYER_IDENTITY:
      case CLGAN_LAYER_CONCAT:
      case CLGAN_LAYER_ADD:
      case CLGAN_LAYER_FADE:
      case CLGAN_LAYER_UPSAMPLE:
      case CLGAN_LAYER_AVGPOOL:
      case CLGAN_LAYER_SUMPOOL:
      case CLGAN_LAYER_PIXELSHUFFLE:
        break;
      case CLGAN_LAYER_BATCHNORM:
        why = "batch norm mixes the samples of a batch, so a per-sample gradient penalty is "
              "not defined through it (WGAN-GP and R1 discriminators have none: remove it)";
        break;
      case CLGAN_LAYER_INSTANCENORM: why = "instance norm has no double backward yet"; break;
      case CLGAN_LAYER_DROPOUT: why = "dropout has no double backward yet"; break;
      case CLGAN_LAYER_MBSTD: /* its second-order term: one layer's r (net.h) */
        if (mbstds++) why = "a second minibatch stddev layer: a penalised D may have one";
        break;
      case CLGAN_LAYER_TANH:
      case CLGAN_LAYER_SIGMOID:
        why = "tanh and sigmoid are not piecewise linear: their double backward is not done yet";
        break;
      default: why = "this layer kind has no double backward yet"; break;
    }
    if (why) {
      if (layer) *layer = i;
      return why;
    }
  }
  return NULL;
}

#define MBSTD_EPS 1e-8f /* as net.c's PIXELNORM_EPS */

/* A D with a minibatch stddev layer: its index, r's buffer and which layers its input
 * depends on (the layers the r backward runs), made once. */
static clgan_status mbstd_setup(clgan_net *net) {
  const clgan_net_desc *d = net->desc;
  if (net->rbuf) return CLGAN_OK;
  int m = -1;
  for (int i = 0; i < d->count; i++)
    if (d->layers[i].kind == CLGAN_LAYER_MBSTD) m = i;
  if (m < 0) return CLGAN_OK;
  int nt = d->ninputs + d->count;
  char *need_t = calloc((size_t)nt, 1);
  free(net->r_need);
  net->r_need = calloc((size_t)d->count, 1);
  if (!need_t || !net->r_need) {
    free(need_t);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  need_t[d->layers[m].src[0]] = 1;
  for (int i = m - 1; i >= 0; i--) {
    const clgan_layer_desc *l = &d->layers[i];
    if (!need_t[d->ninputs + i]) continue;
    net->r_need[i] = 1;
    for (int k = 0; k < l->nsrc; k++) need_t[l->src[k]] = 1;
  }
  free(need_t);
  const clgan_layer_desc *l = &d->layers[m];
  size_t fl = (size_t)net->batch * l->in_c * l->in_h * l->in_w;
  float *zeros = calloc(fl, sizeof(float)); /* a whole host write (docs/ERRORS.md) */
  if (!zeros) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  clgan_status s = clgan_buffer_create(net->ctx, fl * sizeof(float), "mbstd r", &net->rbuf);
  if (!s) s = clgan_buffer_write(net->ctx, net->rbuf, 0, fl * sizeof(float), zeros);
  free(zeros);
  if (!s) net->mb_layer = m;
  return s;
}

static clgan_conv penalty_conv(const clgan_layer_desc *l, int n) {
  int rp = l->pad_reflect ? l->pad : 0; /* as net.c's layer_conv */
  clgan_conv c = {.n = n, .c_in = l->in_c, .h_in = l->in_h + 2 * rp, .w_in = l->in_w + 2 * rp,
                  .c_out = l->out_c, .kh = l->k, .kw = l->k, .stride = l->stride,
                  .pad = rp ? 0 : l->pad, .out_pad = l->out_pad,
                  .transposed = l->kind == CLGAN_LAYER_CONVT};
  clgan_conv_init(&c);
  return c;
}

clgan_status clgan_net_tangent_forward(clgan_net *net, int n, clgan_view v) {
  const clgan_net_desc *d = net->desc;
  clgan_ctx *ctx = net->ctx;
  int bad;
  const char *why = clgan_net_penalty_unsupported(d, &bad);
  if (why) return clgan_error(CLGAN_ERR_INVALID_ARG, "layer %d: %s", bad, why);
  if (n < 1 || n > net->batch)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "tangent of %d samples on a net sized for %d", n,
                       net->batch);
  int nt = d->ninputs + d->count;
  clgan_status s = CLGAN_OK;
  if (!net->tan_view) {
    net->tan_view = calloc((size_t)nt, sizeof *net->tan_view);
    if (!net->tan_view) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  if (!net->tacts) {
    /* zeros written whole by the host once: a buffer made mid-run may get a released
     * buffer's id, whose stale Oclgrind shadow only a whole host write replaces
     * (docs/ERRORS.md) */
    float *zeros = calloc(net->act_floats ? net->act_floats : 1, sizeof(float));
    if (!zeros) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    s = clgan_buffer_create(ctx, net->act_floats * sizeof(float), "tangents", &net->tacts);
    if (!s) s = clgan_buffer_write(ctx, net->tacts, 0, net->act_floats * sizeof(float), zeros);
    free(zeros);
    if (s) return s;
  }
  if (!s) s = mbstd_setup(net);
  if (s) return s;
  clgan_view P = CLGAN_VIEW(net->params, 0), ws = CLGAN_VIEW(net->ws, 0);
  net->tan_view[0] = v;
  for (int i = 0; i < d->count && !s; i++) {
    const clgan_layer_desc *l = &d->layers[i];
    int t = d->ninputs + i;
    clgan_view in = net->tan_view[l->src[0]];
    clgan_view out = is_alias(l) ? in : CLGAN_VIEW(net->tacts, net->t_off[t]);
    size_t sz = (size_t)n * t_size(d, t);
    /* eq=1: the forward's W * c (src/nets/net_sn.c), linear in W like the rest */
    clgan_view W = l->eq ? CLGAN_VIEW(net->sn, net->sn_off[i]) : clgan_view_at(P, l->weight_off);
    switch (l->kind) {
      case CLGAN_LAYER_LINEAR:
        s = clgan_dense_forward(ctx, n, (int)(l->in_c * l->in_h * l->in_w), l->out_c, in, W,
                                CLGAN_NONE, out);
        break;
      case CLGAN_LAYER_CONV:
      case CLGAN_LAYER_CONVT: {
        clgan_conv c = penalty_conv(l, n);
        if (l->pad_reflect) { /* reflect padding is linear: pad the tangent the same way */
          s = clgan_reflect_pad_forward(ctx, n, l->in_c, l->in_h, l->in_w, l->pad, in,
                                        CLGAN_VIEW(net->padbuf, 0));
          in = CLGAN_VIEW(net->padbuf, 0);
        }
        if (!s) s = clgan_conv_forward(ctx, &c, in, W, CLGAN_NONE, out, ws);
        break;
      }
      case CLGAN_LAYER_RELU:
      case CLGAN_LAYER_LEAKY_RELU: /* the slope pattern of the forward's input, applied */
        s = clgan_activation_backward(ctx, l->kind == CLGAN_LAYER_RELU ? CLGAN_ACT_RELU
                                                                       : CLGAN_ACT_LEAKY_RELU,
                                      l->slope, sz, net->t_view[l->src[0]], net->t_view[t], in,
                                      out);
        break;
      case CLGAN_LAYER_CONCAT: {
        int hw = l->in_h * l->in_w;
        for (int k = 0, at = 0; k < l->nsrc && !s; k++) {
          int c = (int)(t_size(d, l->src[k]) / (size_t)hw);
          s = clgan_channel_copy(ctx, n, c, hw, net->tan_view[l->src[k]], c, 0, out, l->out_c, at, 0);
          at += c;
        }
        break;
      }
      case CLGAN_LAYER_ADD:
        s = clgan_add(ctx, sz, in, net->tan_view[l->src[1]], out);
        for (int k = 2; k < l->nsrc && !s; k++) s = clgan_add(ctx, sz, out, net->tan_view[l->src[k]], out);
        break;
      case CLGAN_LAYER_FADE: /* linear: the forward of the tangents */
        s = clgan_fade_forward(ctx, sz, l->p, in, net->tan_view[l->src[1]], out);
        break;
      case CLGAN_LAYER_UPSAMPLE:
        s = clgan_upsample_forward(ctx, n, l->in_c, l->in_h, l->in_w, l->k, in, out);
        break;
      case CLGAN_LAYER_AVGPOOL:
        s = clgan_avgpool_forward(ctx, n, l->in_c, l->in_h, l->in_w, l->k, in, out);
        break;
      case CLGAN_LAYER_SUMPOOL:
        s = clgan_sumpool_forward(ctx, n, l->in_c, l->in_h * l->in_w, in, out);
        break;
      case CLGAN_LAYER_PIXELSHUFFLE:
        s = clgan_pixelshuffle_forward(ctx, n, l->out_c, l->in_h, l->in_w, l->k, in, out);
        break;
      case CLGAN_LAYER_MBSTD: /* mixes the group's tangents, at the forward's input */
        s = clgan_mbstd_jvp(ctx, n, n < l->k ? n : l->k, l->in_c, l->in_h * l->in_w,
                            MBSTD_EPS, net->t_view[l->src[0]], in, out);
        break;
      default: /* views */
        break;
    }
    if (s) clgan_error_prefix("tangent layer %d: ", i);
    net->tan_view[t] = out;
  }
  return s;
}

clgan_status clgan_net_penalty_backward(clgan_net *net, int n, clgan_view dout, int accumulate) {
  if (!net->tan_view || !net->tacts)
    return clgan_error(CLGAN_ERR_INTERNAL, "penalty backward before a tangent pass");
  /* the biases take no gradient (the backward leaves theirs alone): overwriting means
   * zeroing the arena, then adding */
  clgan_status s = CLGAN_OK;
  if (!accumulate && net->desc->param_count)
    s = clgan_fill(net->ctx, net->desc->param_count, 0.0f, CLGAN_VIEW(net->grads, 0));
  if (s) return s;
  net->tan_on = 1;
  s = clgan_net_backward(net, n, dout, 1, 1, CLGAN_NONE);
  net->tan_on = 0;
  /* mbstd: its input moves with the weights below it, and its JVP depends on that input:
   * the term r it wrote (its Hessian-vector product) back through those layers with their
   * forward inputs, weights and biases both (docs/KERNELS.md "Double backward") */
  const clgan_net_desc *d = net->desc;
  int m = net->mb_layer;
  if (!s && m >= 0 && net->root[d->layers[m].src[0]] != 0) {
    net->bwd_top = m;
    s = clgan_net_backward(net, n, CLGAN_VIEW(net->rbuf, 0), 1, 1, CLGAN_NONE);
    net->bwd_top = 0;
    if (s) clgan_error_prefix("minibatch stddev's second-order term: ");
  }
  return s;
}
