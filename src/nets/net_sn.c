/* Spectral normalisation inside a network: per sn layer, W / sigma and its work in one
 * buffer, u and v in the statistics arena (checkpointed as weight_u, weight_v).
 * Tests: tests/ops_nn/test_sn.c, tests/train/test_fixture.c, tests/train/test_model.c */
#include "net_sn.h"

#include <math.h>
#include <stdlib.h>

#include "clgan/sn.h"

static int sn_rows(const clgan_layer_desc *l) { return l->out_c; }
static int sn_cols(const clgan_layer_desc *l) { return (int)(l->weight_count / (size_t)l->out_c); }
static int sn_kk(const clgan_layer_desc *l) {
  return l->kind == CLGAN_LAYER_CONVT ? l->k * l->k : 0;
}

/* Layer i's W / sigma at off, its work right after; the gradient scratch at the end. */
static size_t layout(const clgan_net_desc *d, size_t *off, size_t *grad_off) {
  size_t at = 0, mx = 0;
  for (int i = 0; i < d->count; i++) {
    const clgan_layer_desc *l = &d->layers[i];
    if (!l->sn && !l->eq) continue;
    if (off) off[i] = at;
    at += l->weight_count + (size_t)sn_rows(l) + 2;
    if (l->weight_count > mx) mx = l->weight_count;
  }
  if (grad_off) *grad_off = at;
  return mx ? at + mx : 0;
}

size_t clgan_net_sn_floats(const clgan_net_desc *d) { return layout(d, NULL, NULL); }

clgan_status clgan_net_sn_create(clgan_net *net) {
  const clgan_net_desc *d = net->desc;
  size_t floats = layout(d, NULL, NULL);
  if (!floats) return CLGAN_OK;
  net->sn_off = calloc((size_t)d->count, sizeof *net->sn_off);
  if (!net->sn_off) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  layout(d, net->sn_off, &net->sn_grad_off);
  clgan_status s = clgan_buffer_create(net->ctx, floats * sizeof(float), "spectral_norm", &net->sn);
  /* written by kernels before any read; zeros for Oclgrind's shadow, and for a read of the
   * scratch by a backward that has no forward before it */
  if (!s) s = clgan_fill(net->ctx, floats, 0.0f, CLGAN_VIEW(net->sn, 0));
  return s;
}

static clgan_view uv(const clgan_net *net, const clgan_layer_desc *l, int which) {
  return CLGAN_VIEW(net->stats, l->sn_off + (which ? (size_t)sn_rows(l) : 0));
}

/* eq=1's run-time scale: He's sqrt(2 / fan_in), fan_in the inputs one output sums */
float clgan_net_eq_scale(const clgan_layer_desc *l) {
  return (float)sqrt(2.0 / (double)(l->weight_count / (size_t)l->out_c));
}

clgan_status clgan_net_sn_forward(clgan_net *net, int i, int power, clgan_view *w) {
  const clgan_layer_desc *l = &net->desc->layers[i];
  clgan_view W = CLGAN_VIEW(net->params, l->weight_off);
  clgan_view out = CLGAN_VIEW(net->sn, net->sn_off[i]);
  if (l->eq) { /* W * c: a copy scaled (the buffer is the layer's own) */
    *w = out;
    clgan_status s = clgan_copy(net->ctx, l->weight_count, W, out);
    if (!s) s = clgan_scale(net->ctx, l->weight_count, clgan_net_eq_scale(l), out);
    return s;
  }
  clgan_view work = clgan_view_at(out, l->weight_count);
  clgan_status s = clgan_sn_sigma(net->ctx, sn_rows(l), sn_cols(l), sn_kk(l), W, uv(net, l, 0),
                                  uv(net, l, 1), work, power);
  if (!s) s = clgan_sn_scale(net->ctx, l->weight_count, W,
                             clgan_view_at(work, (size_t)sn_rows(l)), out);
  *w = out;
  return s;
}

clgan_view clgan_net_sn_grad(const clgan_net *net) {
  return CLGAN_VIEW(net->sn, net->sn_grad_off);
}

clgan_status clgan_net_sn_backward(clgan_net *net, int i, int accumulate) {
  const clgan_layer_desc *l = &net->desc->layers[i];
  if (l->eq) { /* d / d W = c * d / d (W c) */
    clgan_view G = CLGAN_VIEW(net->grads, l->weight_off);
    float c = clgan_net_eq_scale(l);
    if (accumulate) return clgan_axpy(net->ctx, l->weight_count, c, clgan_net_sn_grad(net), G);
    clgan_status s = clgan_copy(net->ctx, l->weight_count, clgan_net_sn_grad(net), G);
    return s ? s : clgan_scale(net->ctx, l->weight_count, c, G);
  }
  clgan_view work = CLGAN_VIEW(net->sn, net->sn_off[i] + l->weight_count);
  return clgan_sn_backward(net->ctx, sn_rows(l), sn_cols(l), sn_kk(l), clgan_net_sn_grad(net),
                           CLGAN_VIEW(net->params, l->weight_off), uv(net, l, 0), uv(net, l, 1),
                           clgan_view_at(work, (size_t)sn_rows(l)),
                           CLGAN_VIEW(net->grads, l->weight_off), accumulate);
}
