/* Forward and backward of a network graph on a device, over arenas. The graph walk is a
 * plan made once at creation (tensor regions, gradient regions reused by liveness, who
 * writes which gradient); forward and backward only follow it, with no allocation.
 * Tests: tests/train/test_net.c, tests/train/test_graph.c, tests/train/test_fixture.c */
#include "clgan/net.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/program.h"
#include "clgan/text.h"
#include "net_sn.h"

#define BN_MOMENTUM 0.1f
#define BN_EPS 1e-5f
#define IN_EPS 1e-5f
#define PIXELNORM_EPS 1e-8f /* ProGAN's */
#define NO_REGION SIZE_MAX

static size_t layer_out_size(const clgan_layer_desc *l) {
  return (size_t)l->out_c * (size_t)l->out_h * (size_t)l->out_w;
}
static size_t layer_in_size(const clgan_layer_desc *l) {
  return (size_t)l->in_c * (size_t)l->in_h * (size_t)l->in_w;
}
static int is_alias(const clgan_layer_desc *l) {
  return l->kind == CLGAN_LAYER_RESHAPE || l->kind == CLGAN_LAYER_FLATTEN ||
         l->kind == CLGAN_LAYER_IDENTITY;
}
static int tensor_of(const clgan_net_desc *d, int layer) { return d->ninputs + layer; }

static size_t tensor_size(const clgan_net_desc *d, int t) {
  if (t < d->ninputs) {
    const clgan_net_input_desc *in = &d->inputs[t];
    return (size_t)in->c * in->h * in->w;
  }
  return layer_out_size(&d->layers[t - d->ninputs]);
}

static clgan_conv layer_conv(const clgan_layer_desc *l, int n) {
  /* reflect padding runs first, into the net's pad buffer: the conv then pads nothing */
  int rp = l->pad_reflect ? l->pad : 0;
  clgan_conv c = {.n = n, .c_in = l->in_c, .h_in = l->in_h + 2 * rp, .w_in = l->in_w + 2 * rp,
                  .c_out = l->out_c, .kh = l->k, .kw = l->k, .stride = l->stride,
                  .pad = rp ? 0 : l->pad,
                  .out_pad = l->out_pad, .transposed = l->kind == CLGAN_LAYER_CONVT};
  clgan_conv_init(&c);
  return c;
}

/* Number of layers reading tensor t (an input named twice counts twice). */
static int consumers(const clgan_net_desc *d, int t) {
  int n = 0;
  for (int i = 0; i < d->count; i++)
    for (int k = 0; k < d->layers[i].nsrc; k++) n += d->layers[i].src[k] == t;
  return n;
}

/* 1 if layer i is a batch norm that runs fused with the relu / leaky relu right after it
 * (training-mode forward and every backward): the pair is one kernel each way, the batch
 * norm's output is read by nothing else, and the backward recomputes the pre-activation
 * from the batch norm's input and saves. */
static int fused_bn_act(const clgan_net_desc *d, int i) {
  if (i + 1 >= d->count || d->layers[i].kind != CLGAN_LAYER_BATCHNORM) return 0;
  const clgan_layer_desc *a = &d->layers[i + 1];
  return (a->kind == CLGAN_LAYER_RELU || a->kind == CLGAN_LAYER_LEAKY_RELU) &&
         a->src[0] == tensor_of(d, i) && consumers(d, tensor_of(d, i)) == 1;
}

/* 1 if layer i's backward has to run: it has parameters, or a gradient has to pass
 * through it to a layer that has, or to the main input. */
static void backward_needed(const clgan_net_desc *d, char *need) {
  for (int i = 0; i < d->count; i++) {
    const clgan_layer_desc *l = &d->layers[i];
    need[i] = l->weight_count > 0;
    for (int k = 0; k < l->nsrc; k++) {
      int s = l->src[k];
      if (s == 0 || (s >= d->ninputs && need[s - d->ninputs])) need[i] = 1;
    }
  }
}

/* The plan. Tensors: the main input has its region at the start of acts; other inputs
 * are bound from outside; each layer that does work has its output region (aliases share
 * their source's); normalisation layers add their saves. Gradients: each tensor root
 * that receives a gradient gets a region in gacts for the span of the backward between
 * its first writer (its last consumer) and its reader (its producer), first fit, so
 * regions are reused once their last use is past. The net's output gradient is the
 * caller's dout, the main input's the caller's din. */
typedef struct {
  size_t *t_off, *g_off, *save_off;
  int *root, *writers;
  size_t in_off, act_floats, gact_floats, gact_unshared, max_act, ws_floats;
  size_t pad_floats; /* the reflect-padded input of the largest pm=reflect conv (batch of) */
  int two_writers; /* gtmp is needed */
  int out_used;    /* the output's storage is read inside the network too */
} net_plan;

static void plan_free(net_plan *p) {
  free(p->t_off);
  free(p->g_off);
  free(p->save_off);
  free(p->root);
  free(p->writers);
}

static int plan_make(const clgan_net_desc *d, int batch, net_plan *p) {
  memset(p, 0, sizeof *p);
  int nt = clgan_net_tensor_count(d), nl = d->count ? d->count : 1;
  p->t_off = calloc((size_t)nt, sizeof *p->t_off);
  p->g_off = calloc((size_t)nt, sizeof *p->g_off);
  p->save_off = calloc((size_t)nl, sizeof *p->save_off);
  p->root = calloc((size_t)nt, sizeof *p->root);
  p->writers = calloc((size_t)nt, sizeof *p->writers);
  char *need = calloc((size_t)nl, 1);
  /* gradient liveness in backward steps: step s runs layer count-1-s */
  int *born = malloc(sizeof(int) * (size_t)nt), *dies = malloc(sizeof(int) * (size_t)nt);
  if (!p->t_off || !p->g_off || !p->save_off || !p->root || !p->writers || !need || !born ||
      !dies) {
    plan_free(p);
    free(need);
    free(born);
    free(dies);
    return -1;
  }
  size_t at = 0, mx = 0, ws = 0;
  p->in_off = at;
  p->t_off[0] = at;
  at += (size_t)batch * tensor_size(d, 0);
  for (int t = 0; t < nt; t++) {
    p->root[t] = t;
    if (tensor_size(d, t) > mx) mx = tensor_size(d, t);
  }
  for (int i = 0; i < d->count; i++) {
    const clgan_layer_desc *l = &d->layers[i];
    int t = tensor_of(d, i);
    if (is_alias(l)) {
      p->root[t] = p->root[l->src[0]];
      p->t_off[t] = p->t_off[l->src[0]];
    } else {
      p->t_off[t] = at;
      at += (size_t)batch * layer_out_size(l);
    }
    if (l->kind == CLGAN_LAYER_BATCHNORM) {
      p->save_off[i] = at;
      at += 2 * (size_t)l->out_c;
    } else if (l->kind == CLGAN_LAYER_INSTANCENORM) {
      p->save_off[i] = at;
      at += 2 * (size_t)batch * (size_t)l->out_c;
    } else if (l->kind == CLGAN_LAYER_CONDAUG) { /* its eps (batch, D) */
      p->save_off[i] = at;
      at += (size_t)batch * (size_t)l->out_c;
    }
    if (l->kind == CLGAN_LAYER_CONV || l->kind == CLGAN_LAYER_CONVT) {
      /* every n <= batch: the scratch of n samples is not monotonic in n (a batch over
       * the chunk cap is split in halves, while a slightly smaller one is not), and a
       * forward of fewer samples than the batch (a classifier's last chunk) must fit */
      for (int n = batch; n >= 1; n--) {
        clgan_conv c = layer_conv(l, n);
        size_t w = clgan_conv_workspace(&c);
        if (w > ws) ws = w;
      }
      if (l->pad_reflect) {
        size_t pf = (size_t)batch * l->in_c * (size_t)(l->in_h + 2 * l->pad) *
                    (size_t)(l->in_w + 2 * l->pad);
        if (pf > p->pad_floats) p->pad_floats = pf;
      }
    }
  }
  p->act_floats = at;
  p->max_act = mx;
  p->ws_floats = ws;

  /* gradients */
  backward_needed(d, need);
  int out_root = d->count ? p->root[tensor_of(d, d->count - 1)] : 0;
  for (int t = 0; t < nt; t++) born[t] = -1, dies[t] = -1, p->g_off[t] = NO_REGION;
  for (int s = 0; s < d->count; s++) {
    int i = d->count - 1 - s;
    const clgan_layer_desc *l = &d->layers[i];
    if (!need[i] || is_alias(l) || (i > 0 && fused_bn_act(d, i - 1))) continue;
    int r = p->root[tensor_of(d, i)];
    /* a normalisation's backward always writes a data gradient: where its input takes
     * none (an input of the network), it goes to the scratch */
    if ((l->kind == CLGAN_LAYER_BATCHNORM || l->kind == CLGAN_LAYER_INSTANCENORM) &&
        p->root[l->src[0]] < d->ninputs)
      p->two_writers = 1;
    if (dies[r] < 0) dies[r] = s; /* its producer reads it */
    for (int k = 0; k < l->nsrc; k++) {
      int sr = p->root[l->src[k]];
      if (sr < d->ninputs && sr != 0) continue;       /* bound inputs: no gradient */
      if (sr >= d->ninputs && !need[sr - d->ninputs]) continue;
      if (p->writers[sr]++ == 0) born[sr] = s;
    }
  }
  /* a fused activation's BN reads the activation's gradient: the activation's step is
   * the BN's (it is skipped), so extend the activation output's life to that step */
  for (int i = 0; i + 1 < d->count; i++)
    if (fused_bn_act(d, i) && need[i + 1]) {
      int r = p->root[tensor_of(d, i + 1)];
      int s = d->count - 1 - i;
      if (dies[r] < s) dies[r] = s;
    }
  size_t gat = 0, unshared = 0;
  /* first fit over regions already placed, in order of birth */
  for (int s = 0; s < d->count; s++) {
    for (int t = d->ninputs; t < nt; t++) {
      if (p->root[t] != t || born[t] != s || t == out_root) continue;
      size_t sz = (size_t)batch * tensor_size(d, t);
      unshared += sz;
      size_t off = 0;
      int moved = 1;
      while (moved) {
        moved = 0;
        for (int u = d->ninputs; u < nt; u++) {
          if (u == t || p->g_off[u] == NO_REGION) continue;
          int live = !(dies[u] < born[t] || dies[t] < born[u]);
          size_t usz = (size_t)batch * tensor_size(d, u);
          if (live && off < p->g_off[u] + usz && p->g_off[u] < off + sz) {
            off = p->g_off[u] + usz;
            moved = 1;
          }
        }
      }
      p->g_off[t] = off;
      if (off + sz > gat) gat = off + sz;
    }
  }
  for (int t = 0; t < nt; t++)
    if (p->writers[t] > 1) p->two_writers = 1;
  p->out_used = p->writers[out_root] > 0;
  p->gact_floats = gat;
  p->gact_unshared = unshared;
  free(need);
  free(born);
  free(dies);
  return 0;
}

void clgan_net_memory_plan(const clgan_net_desc *d, int batch, int with_optimizer,
                           clgan_net_memory *out) {
  memset(out, 0, sizeof *out);
  net_plan p;
  if (plan_make(d, batch, &p)) return;
  out->params = d->param_count * (with_optimizer ? 4 : 2) + d->stat_count + clgan_net_sn_floats(d);
  out->acts = p.act_floats;
  out->gacts = p.gact_floats + (p.two_writers ? (size_t)batch * p.max_act : 0);
  out->gacts_unshared = p.gact_unshared;
  out->ws = p.ws_floats + p.pad_floats;
  plan_free(&p);
}

size_t clgan_net_device_bytes(const clgan_net_desc *d, int batch, int with_optimizer) {
  clgan_net_memory m;
  clgan_net_memory_plan(d, batch, with_optimizer, &m);
  return (m.params + m.acts + m.gacts + m.ws) * sizeof(float);
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
  net->mb_layer = -1;
  net_plan p;
  size_t nt = (size_t)clgan_net_tensor_count(d), nl = (size_t)(d->count ? d->count : 1);
  net->t_view = calloc(nt, sizeof *net->t_view);
  net->drop_counter = calloc(nl, sizeof *net->drop_counter);
  net->gdone = calloc(nt, sizeof *net->gdone);
  net->fused = calloc(nl, 1);
  if (!net->t_view || !net->drop_counter || !net->gdone || !net->fused || plan_make(d, batch, &p)) {
    clgan_net_free(net);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  for (int i = 0; i < d->count; i++) net->fused[i] = (char)fused_bn_act(d, i);
  net->t_off = p.t_off, net->g_off = p.g_off, net->save_off = p.save_off;
  if (p.out_used) {
    clgan_net_free(net);
    return clgan_error(CLGAN_ERR_INVALID_ARG, "network %s: its last line is a view (reshape, "
                       "flatten, identity) of a tensor other layers also use; end the network "
                       "on a layer that computes", name);
  }
  net->root = p.root, net->writers = p.writers;
  net->in_off = p.in_off;
  net->act_floats = p.act_floats;
  net->gact_floats = p.gact_floats;
  net->max_act = p.max_act;
  net->ws_floats = p.ws_floats;
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
  ALLOC(gacts, net->gact_floats ? net->gact_floats : 1, "activation_grads")
  if (p.two_writers) ALLOC(gtmp, (size_t)batch * net->max_act, "activation_grads")
  ALLOC(ws, net->ws_floats, "conv_workspace")
  if (p.pad_floats) ALLOC(padbuf, p.pad_floats, "reflect_pad")
  if (!s) s = clgan_net_sn_create(net);
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
                    &net->acts, &net->gacts, &net->gtmp, &net->ws, &net->padbuf,
                    &net->bn_part, &net->bn_total, &net->sn, &net->tacts, &net->rbuf};
  for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) clgan_buffer_release(bufs[i]);
  free(net->t_off);
  free(net->g_off);
  free(net->save_off);
  free(net->root);
  free(net->writers);
  free(net->t_view);
  free(net->drop_counter);
  free(net->gdone);
  free(net->fused);
  free(net->sn_off);
  free(net->tan_view);
  free(net->r_need);
  free(net);
}

clgan_status clgan_net_bind(clgan_net *net, clgan_input_kind kind, clgan_view v) {
  int j = clgan_net_find_input(net->desc, kind);
  if (j < 0) return CLGAN_OK; /* a network without this input ignores it */
  if (j == 0)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "input '%s' is the network's main input: pass "
                       "it to forward", clgan_input_kind_name(kind));
  net->bound[j] = v;
  return CLGAN_OK;
}

clgan_view clgan_net_input(const clgan_net *net) { return CLGAN_VIEW(net->acts, net->in_off); }

clgan_view clgan_net_output(const clgan_net *net) {
  const clgan_net_desc *d = net->desc;
  int t = d->count ? tensor_of(d, d->count - 1) : 0;
  return t == 0 ? clgan_net_input(net) : CLGAN_VIEW(net->acts, net->t_off[t]);
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

static clgan_view opt(cl_mem m, size_t off, size_t count) {
  return count ? CLGAN_VIEW(m, off) : CLGAN_NONE;
}

/* Dropout's Philox counter for layer i at the net's current step: layers own disjoint
 * 2^48-wide ranges, steps follow each other inside them. */
static unsigned long long drop_counter(const clgan_net *net, int i, int n) {
  const clgan_layer_desc *l = &net->desc->layers[i];
  /* a replica's samples take their place in the whole batch's stream */
  unsigned long long nb = (unsigned long long)(net->global_batch ? net->global_batch : n);
  return ((unsigned long long)(i + 1) << 48) +
         ((unsigned long long)net->rng_step * nb + (unsigned long long)net->sample_off) *
             layer_out_size(l);
}

/* sync-bn: the two small buffers the partial sums and the whole batch's values go through */
static clgan_status bn_sync_buffers(clgan_net *net, size_t *cap) {
  int maxc = 1;
  for (int i = 0; i < net->desc->count; i++)
    if (net->desc->layers[i].kind == CLGAN_LAYER_BATCHNORM && net->desc->layers[i].out_c > maxc)
      maxc = net->desc->layers[i].out_c;
  *cap = 2 * (size_t)maxc;
  clgan_status s = CLGAN_OK;
  if (!net->bn_part) s = clgan_buffer_create(net->ctx, *cap * sizeof(float), "sync-bn partial sums",
                                             &net->bn_part);
  if (!s && !net->bn_total)
    s = clgan_buffer_create(net->ctx, *cap * sizeof(float), "sync-bn sums", &net->bn_total);
  return s;
}

/* Reads the replica's 2c partial sums, has them summed over the replicas (`stats`: as
 * (count, sum, M2) into the whole batch's mean and biased variance, in double), and writes
 * the result whole into bn_total (never part of a buffer: Oclgrind's shadow, docs/ERRORS.md). */
static clgan_status bn_sync_sum(clgan_net *net, int c, double count, int stats) {
  size_t cap;
  clgan_status s = bn_sync_buffers(net, &cap);
  float *f = calloc(cap, sizeof *f);
  double *v = calloc(3 * (size_t)c, sizeof *v);
  if (!s && (!f || !v)) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s) s = clgan_buffer_read(net->ctx, net->bn_part, 0, 2 * (size_t)c * sizeof(float), f);
  for (int k = 0; k < c && !s; k++) {
    v[k] = f[k];
    /* sum of squares about zero: M2 + sum^2 / count */
    v[c + k] = stats ? f[c + k] + (double)f[k] * f[k] / count : f[c + k];
    v[2 * c + k] = count;
  }
  if (!s) s = net->replica_sum(net->replica_user, v, stats ? 3 * (size_t)c : 2 * (size_t)c);
  for (int k = 0; k < c && !s; k++) {
    if (stats) {
      double mean = v[k] / v[2 * c + k], var = v[c + k] / v[2 * c + k] - mean * mean;
      f[k] = (float)mean;
      f[c + k] = (float)(var > 0.0 ? var : 0.0);
    } else {
      f[k] = (float)v[k];
      f[c + k] = (float)v[c + k];
    }
  }
  if (!s) s = clgan_buffer_write(net->ctx, net->bn_total, 0, cap * sizeof(float), f);
  if (s) clgan_error_prefix("sync-bn: ");
  free(f);
  free(v);
  return s;
}

/* The whole batch's values per channel: global_batch samples (or n) of hw each. */
static float bn_sync_count(const clgan_net *net, int n, int hw) {
  return (float)(net->global_batch ? net->global_batch : n) * (float)hw;
}

clgan_status clgan_net_forward(clgan_net *net, int n, clgan_view x, clgan_bn_mode mode) {
  const clgan_net_desc *d = net->desc;
  clgan_ctx *ctx = net->ctx;
  if (n < 1 || n > net->batch)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "forward of %d samples on a net sized for %d", n,
                       net->batch);
  net->t_view[0] = x.mem ? x : clgan_net_input(net);
  for (int j = 1; j < d->ninputs; j++) {
    if (!net->bound[j].mem)
      return clgan_error(CLGAN_ERR_INVALID_ARG, "the network's input '%s' is not bound",
                         clgan_input_kind_name(d->inputs[j].kind));
    net->t_view[j] = net->bound[j];
  }
  clgan_view P = CLGAN_VIEW(net->params, 0), ws = CLGAN_VIEW(net->ws, 0);
  clgan_status s = CLGAN_OK;
  for (int i = 0; i < d->count && !s; i++) {
    const clgan_layer_desc *l = &d->layers[i];
    int t = tensor_of(d, i);
    clgan_view in = net->t_view[l->src[0]];
    clgan_view out = is_alias(l) ? in : CLGAN_VIEW(net->acts, net->t_off[t]);
    int hw = l->in_h * l->in_w;
    switch (l->kind) {
      case CLGAN_LAYER_LINEAR: {
        clgan_view W = clgan_view_at(P, l->weight_off);
        if (l->sn || l->eq) s = clgan_net_sn_forward(net, i, mode != CLGAN_BN_EVAL, &W);
        if (!s)
          s = clgan_dense_forward(ctx, n, (int)layer_in_size(l), l->out_c, in, W,
                                  opt(net->params, l->bias_off, l->bias_count), out);
        break;
      }
      case CLGAN_LAYER_CONV:
      case CLGAN_LAYER_CONVT: {
        clgan_conv c = layer_conv(l, n);
        clgan_view W = clgan_view_at(P, l->weight_off);
        if (l->sn || l->eq) s = clgan_net_sn_forward(net, i, mode != CLGAN_BN_EVAL, &W);
        if (!s && l->pad_reflect) {
          s = clgan_reflect_pad_forward(ctx, n, l->in_c, l->in_h, l->in_w, l->pad, in,
                                        CLGAN_VIEW(net->padbuf, 0));
          in = CLGAN_VIEW(net->padbuf, 0);
        }
        if (!s) s = clgan_conv_forward(ctx, &c, in, W, opt(net->params, l->bias_off, l->bias_count),
                                       out, ws);
        break;
      }
      case CLGAN_LAYER_BATCHNORM: {
        clgan_view gamma = clgan_view_at(P, l->weight_off), beta = clgan_view_at(P, l->bias_off);
        clgan_view rm = CLGAN_VIEW(net->stats, l->stat_off);
        clgan_view rv = CLGAN_VIEW(net->stats, l->stat_off + (size_t)l->out_c);
        if (mode == CLGAN_BN_EVAL) {
          s = clgan_batchnorm_forward_eval(ctx, n, l->out_c, hw, in, gamma, beta, rm, rv, BN_EPS,
                                           out);
        } else {
          clgan_view sm = CLGAN_VIEW(net->acts, net->save_off[i]);
          clgan_view si = clgan_view_at(sm, (size_t)l->out_c);
          int upd = mode == CLGAN_BN_TRAIN, fuse = net->fused[i];
          const clgan_layer_desc *a = fuse ? &d->layers[i + 1] : l;
          clgan_view y = fuse ? CLGAN_VIEW(net->acts, net->t_off[t + 1]) : out;
          if (net->replica_sum) { /* sync-bn: the whole batch's statistics */
            size_t cap;
            s = bn_sync_buffers(net, &cap);
            if (!s)
              s = clgan_batchnorm_partial_stats(ctx, n, l->out_c, hw, in, CLGAN_VIEW(net->bn_part, 0));
            if (!s) s = bn_sync_sum(net, l->out_c, (double)n * hw, 1);
            if (!s)
              s = clgan_batchnorm_act_forward_apply(
                  ctx, n, l->out_c, hw, in, gamma, beta, act_of(a->kind), a->slope,
                  CLGAN_VIEW(net->bn_total, 0), bn_sync_count(net, n, hw), y, sm, si,
                  upd ? rm : CLGAN_NONE, upd ? rv : CLGAN_NONE, BN_MOMENTUM, BN_EPS);
          } else {
            s = clgan_batchnorm_act_forward_train(ctx, n, l->out_c, hw, in, gamma, beta,
                                                  act_of(a->kind), a->slope, y, sm, si,
                                                  upd ? rm : CLGAN_NONE, upd ? rv : CLGAN_NONE,
                                                  BN_MOMENTUM, BN_EPS);
          }
          if (fuse && !s) { /* the activation layer is done: skip it */
            net->t_view[t] = out;
            i++, t++;
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
      case CLGAN_LAYER_CONCAT:
        for (int k = 0, at = 0; k < l->nsrc && !s; k++) {
          int c = (int)(tensor_size(d, l->src[k]) / (size_t)hw);
          s = clgan_channel_copy(ctx, n, c, hw, net->t_view[l->src[k]], c, 0, out, l->out_c, at, 0);
          at += c;
        }
        break;
      case CLGAN_LAYER_ADD:
        s = clgan_add(ctx, (size_t)n * layer_out_size(l), in, net->t_view[l->src[1]], out);
        for (int k = 2; k < l->nsrc && !s; k++)
          s = clgan_add(ctx, (size_t)n * layer_out_size(l), out, net->t_view[l->src[k]], out);
        break;
      case CLGAN_LAYER_FADE:
        s = clgan_fade_forward(ctx, (size_t)n * layer_out_size(l), l->p, in,
                               net->t_view[l->src[1]], out);
        break;
      case CLGAN_LAYER_MUL:
        s = clgan_mul_forward(ctx, n, l->in_c, hw, in, net->t_view[l->src[1]],
                              tensor_size(d, l->src[1]) != tensor_size(d, l->src[0]), out);
        break;
      case CLGAN_LAYER_EMBED:
        s = clgan_embed_forward(ctx, n, l->num, l->out_c, in, clgan_view_at(P, l->weight_off), out);
        break;
      case CLGAN_LAYER_EMBEDBAG:
        s = clgan_embedbag_forward(ctx, n, l->num, l->out_c, CLGAN_TEXT_SLOTS, in,
                                   clgan_view_at(P, l->weight_off), out);
        break;
      case CLGAN_LAYER_CONDAUG: { /* eps: Philox normals of (seed, layer, step), saved */
        clgan_view eps = CLGAN_VIEW(net->acts, net->save_off[i]);
        net->drop_counter[i] = drop_counter(net, i, n);
        s = clgan_rng_normal(ctx, (size_t)n * (size_t)l->out_c, net->rng_seed,
                             net->drop_counter[i], 0.0f, 1.0f, eps);
        if (!s) s = clgan_condaug_forward(ctx, n, l->out_c, in, eps, out);
        break;
      }
      case CLGAN_LAYER_UPSAMPLE:
        s = clgan_upsample_mode_forward(ctx, n, l->in_c, l->in_h, l->in_w, l->k, l->mode, in, out);
        break;
      case CLGAN_LAYER_AVGPOOL:
        s = clgan_avgpool_forward(ctx, n, l->in_c, l->in_h, l->in_w, l->k, in, out);
        break;
      case CLGAN_LAYER_SUMPOOL:
        s = clgan_sumpool_forward(ctx, n, l->in_c, hw, in, out);
        break;
      case CLGAN_LAYER_PIXELSHUFFLE:
        s = clgan_pixelshuffle_forward(ctx, n, l->out_c, l->in_h, l->in_w, l->k, in, out);
        break;
      case CLGAN_LAYER_INSTANCENORM: {
        clgan_view sm = CLGAN_VIEW(net->acts, net->save_off[i]);
        s = clgan_instancenorm_forward(ctx, n, l->in_c, hw, in,
                                       opt(net->params, l->weight_off, l->weight_count),
                                       opt(net->params, l->bias_off, l->bias_count), IN_EPS, out,
                                       sm, clgan_view_at(sm, (size_t)net->batch * l->in_c));
        break;
      }
      case CLGAN_LAYER_DROPOUT: {
        float p = mode == CLGAN_BN_EVAL ? 0.0f : l->p;
        net->drop_counter[i] = drop_counter(net, i, n);
        s = clgan_dropout_forward(ctx, (size_t)n * layer_out_size(l), p, net->rng_seed,
                                  net->drop_counter[i], in, out);
        break;
      }
      case CLGAN_LAYER_PRELU:
        s = clgan_prelu_forward(ctx, n, l->in_c, hw, in, clgan_view_at(P, l->weight_off),
                                (int)l->weight_count, out);
        break;
      case CLGAN_LAYER_PIXELNORM:
        s = clgan_pixelnorm_forward(ctx, n, l->in_c, hw, PIXELNORM_EPS, in, out);
        break;
      case CLGAN_LAYER_MBSTD: /* a batch of fewer than k samples: one group of them all */
        s = clgan_mbstd_forward(ctx, n, n < l->k ? n : l->k, l->in_c, hw, PIXELNORM_EPS, in, out);
        break;
      case CLGAN_LAYER_RESHAPE:
      case CLGAN_LAYER_FLATTEN:
      case CLGAN_LAYER_IDENTITY:
        break;
    }
    if (s) clgan_error_prefix("forward layer %d: ", i);
    net->t_view[t] = out;
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

/* Backward state: where each tensor root's gradient lives, and how many of its
 * contributions have been written so far in this backward. */
typedef struct {
  clgan_net *net;
  int n;
  clgan_view dout, din;
  int out_root;
  int *done;
} bwd;

/* The gradient region of tensor t (its root's), or CLGAN_NONE if it takes none. */
static clgan_view grad_of(const bwd *b, int t) {
  int r = b->net->root[t];
  if (r == b->out_root) return b->dout;
  if (r == 0) return b->din;
  if (b->net->g_off[r] == NO_REGION) return CLGAN_NONE;
  return CLGAN_VIEW(b->net->gacts, b->net->g_off[r]);
}

/* Where a contribution to t's gradient goes: its region, overwriting (the first writer),
 * or adding (a later writer of an op that can accumulate); otherwise the scratch, then
 * added by grad_commit. */
typedef struct {
  clgan_view v;
  int acc, via_tmp, r;
} gdst;

static gdst grad_dst(bwd *b, int t, int can_acc) {
  gdst g = {grad_of(b, t), 0, 0, b->net->root[t]};
  if (!g.v.mem) return g;
  if (b->done[g.r] > 0) {
    if (can_acc) g.acc = 1;
    else g.v = CLGAN_VIEW(b->net->gtmp, 0), g.via_tmp = 1;
  }
  return g;
}

static clgan_status grad_commit(bwd *b, gdst g, int t) {
  if (!g.v.mem) return CLGAN_OK;
  b->done[g.r]++;
  if (!g.via_tmp) return CLGAN_OK;
  return clgan_axpy(b->net->ctx, (size_t)b->n * tensor_size(b->net->desc, t), 1.0f, g.v,
                    grad_of(b, t));
}

clgan_status clgan_net_backward(clgan_net *net, int n, clgan_view dout, int param_grads,
                                int accumulate, clgan_view din) {
  const clgan_net_desc *d = net->desc;
  clgan_ctx *ctx = net->ctx;
  clgan_view P = CLGAN_VIEW(net->params, 0), G = CLGAN_VIEW(net->grads, 0);
  clgan_view ws = CLGAN_VIEW(net->ws, 0);
  int nt = clgan_net_tensor_count(d);
  int out_t = d->count ? tensor_of(d, d->count - 1) : 0;
  int top = net->bwd_top; /* > 0: the layers below it only (a penalty's mbstd term) */
  if (top > 0) out_t = d->layers[top].src[0];
  if (net->root[out_t] == 0) /* a network of views only: din is dout */
    return din.mem ? clgan_copy(ctx, (size_t)n * tensor_size(d, 0), dout, din) : CLGAN_OK;
  int *done = net->gdone; /* planned: no allocation per backward */
  memset(done, 0, sizeof *done * (size_t)nt);
  bwd b = {net, n, dout, din, net->root[out_t], done};
  clgan_status s = CLGAN_OK;
  for (int i = (top > 0 ? top : d->count) - 1; i >= 0 && !s; i--) {
    const clgan_layer_desc *l = &d->layers[i];
    if (is_alias(l) || (i > 0 && net->fused[i - 1])) continue;
    if (top > 0 && !net->r_need[i]) continue; /* not below the injected gradient */
    int t = tensor_of(d, i);
    /* fused: the gradient arriving is the activation's (its layer was skipped) */
    int fuse = net->fused[i];
    clgan_view dy = grad_of(&b, fuse ? t + 1 : t);
    if (!dy.mem) continue; /* nothing downstream needs a gradient through here */
    clgan_view x = net->t_view[l->src[0]];
    clgan_view y = net->t_view[t];
    int hw = l->in_h * l->in_w;
    clgan_view W = clgan_view_at(P, l->weight_off), dW = clgan_view_at(G, l->weight_off);
    clgan_view dB = opt(net->grads, l->bias_off, l->bias_count);
    if (!param_grads) dW = dB = CLGAN_NONE;
    if (net->tan_on && (l->kind == CLGAN_LAYER_LINEAR || l->kind == CLGAN_LAYER_CONV ||
                        l->kind == CLGAN_LAYER_CONVT)) {
      x = net->tan_view[l->src[0]]; /* a penalty's weight gradient: dy x tangent, no bias */
      dB = CLGAN_NONE;
    }
    int wacc = accumulate; /* the weight's accumulate flag (sn: into a zeroed scratch) */
    if (l->sn || l->eq) {
      W = CLGAN_VIEW(net->sn, net->sn_off[i]); /* this forward's W / sigma */
      if (param_grads) {
        dW = clgan_net_sn_grad(net);
        if (accumulate && dB.mem) s = clgan_fill(ctx, l->weight_count, 0.0f, dW);
        else wacc = 0;
      }
    }
    gdst g = {CLGAN_NONE, 0, 0, 0};
    switch (l->kind) {
      case CLGAN_LAYER_LINEAR: {
        int in = (int)layer_in_size(l);
        if (!s && param_grads && l->weight_count)
          s = clgan_dense_backward_weight(ctx, n, in, l->out_c, x, dy, dW, dB, wacc);
        if (!s && param_grads && (l->sn || l->eq)) s = clgan_net_sn_backward(net, i, accumulate);
        g = grad_dst(&b, l->src[0], 0);
        if (!s && g.v.mem) s = clgan_dense_backward_data(ctx, n, in, l->out_c, dy, W, g.v);
        if (!s) s = grad_commit(&b, g, l->src[0]);
        break;
      }
      case CLGAN_LAYER_CONV:
      case CLGAN_LAYER_CONVT: {
        clgan_conv c = layer_conv(l, n);
        clgan_view pb = CLGAN_VIEW(net->padbuf, 0);
        if (!s && l->pad_reflect && param_grads) { /* the padded input again, for the weights */
          s = clgan_reflect_pad_forward(ctx, n, l->in_c, l->in_h, l->in_w, l->pad, x, pb);
          x = pb;
        }
        if (!s && param_grads) s = clgan_conv_backward_weight(ctx, &c, x, dy, dW, dB, wacc, ws);
        if (!s && param_grads && (l->sn || l->eq)) s = clgan_net_sn_backward(net, i, accumulate);
        g = grad_dst(&b, l->src[0], l->pad_reflect);
        if (!s && g.v.mem && l->pad_reflect) { /* d padded input, then folded back */
          s = clgan_conv_backward_data(ctx, &c, dy, W, pb, ws);
          if (!s) s = clgan_reflect_pad_backward(ctx, n, l->in_c, l->in_h, l->in_w, l->pad, pb,
                                                 g.v, g.acc);
        } else if (!s && g.v.mem) {
          s = clgan_conv_backward_data(ctx, &c, dy, W, g.v, ws);
        }
        if (!s) s = grad_commit(&b, g, l->src[0]);
        break;
      }
      case CLGAN_LAYER_BATCHNORM: {
        const clgan_layer_desc *a = fuse ? &d->layers[i + 1] : l;
        clgan_view sm = CLGAN_VIEW(net->acts, net->save_off[i]);
        g = grad_dst(&b, l->src[0], 0);
        /* a batch norm always runs its backward: its parameters need it even when nothing
         * upstream does, and its dx pass is what produces them */
        clgan_view dx = g.v.mem ? g.v : CLGAN_VIEW(net->gtmp, 0); /* planned: gtmp exists */
        clgan_view dbeta = param_grads ? clgan_view_at(G, l->bias_off) : CLGAN_NONE;
        clgan_view si = clgan_view_at(sm, (size_t)l->out_c);
        if (net->replica_sum) { /* sync-bn: the sums of the whole batch */
          size_t cap;
          s = bn_sync_buffers(net, &cap);
          if (!s)
            s = clgan_batchnorm_act_backward_partial(ctx, n, l->out_c, hw, x, dy, W,
                                                     clgan_view_at(P, l->bias_off), act_of(a->kind),
                                                   a->slope, sm, si, dx, CLGAN_VIEW(net->bn_part, 0));
          if (!s) s = bn_sync_sum(net, l->out_c, (double)n * hw, 0);
          if (!s)
            s = clgan_batchnorm_act_backward_apply(ctx, n, l->out_c, hw, x, dy, W, act_of(a->kind),
                                                   sm, si, CLGAN_VIEW(net->bn_part, 0),
                                                   CLGAN_VIEW(net->bn_total, 0),
                                                   bn_sync_count(net, n, hw), dx, dW, dbeta,
                                                   accumulate);
        } else {
          s = clgan_batchnorm_act_backward(ctx, n, l->out_c, hw, x, dy, W,
                                           clgan_view_at(P, l->bias_off), act_of(a->kind),
                                           a->slope, sm, si, dx, dW, dbeta, accumulate);
        }
        if (!s) s = grad_commit(&b, g, l->src[0]);
        break;
      }
      case CLGAN_LAYER_RELU:
      case CLGAN_LAYER_LEAKY_RELU:
      case CLGAN_LAYER_TANH:
      case CLGAN_LAYER_SIGMOID:
        g = grad_dst(&b, l->src[0], 0);
        if (g.v.mem)
          s = clgan_activation_backward(ctx, act_of(l->kind), l->slope,
                                        (size_t)n * layer_out_size(l), x, y, dy, g.v);
        if (!s) s = grad_commit(&b, g, l->src[0]);
        break;
      case CLGAN_LAYER_CONCAT:
        for (int k = 0, at = 0; k < l->nsrc && !s; k++) {
          int c = (int)(tensor_size(d, l->src[k]) / (size_t)hw);
          g = grad_dst(&b, l->src[k], 1);
          if (g.v.mem) s = clgan_channel_copy(ctx, n, c, hw, dy, l->out_c, at, g.v, c, 0, g.acc);
          if (!s) s = grad_commit(&b, g, l->src[k]);
          at += c;
        }
        break;
      case CLGAN_LAYER_ADD:
        for (int k = 0; k < l->nsrc && !s; k++) {
          g = grad_dst(&b, l->src[k], 1);
          size_t sz = (size_t)n * layer_out_size(l);
          if (g.v.mem) s = g.acc ? clgan_axpy(ctx, sz, 1.0f, dy, g.v) : clgan_copy(ctx, sz, dy, g.v);
          if (!s) s = grad_commit(&b, g, l->src[k]);
        }
        break;
      case CLGAN_LAYER_FADE: { /* two distinct inputs (model.c) */
        gdst ga = grad_dst(&b, l->src[0], 1), gb = grad_dst(&b, l->src[1], 1);
        s = clgan_fade_backward(ctx, (size_t)n * layer_out_size(l), l->p, dy, ga.v, ga.acc,
                                gb.v, gb.acc);
        if (!s) s = grad_commit(&b, ga, l->src[0]);
        if (!s) s = grad_commit(&b, gb, l->src[1]);
        break;
      }
      case CLGAN_LAYER_MUL: {
        int bvec = tensor_size(d, l->src[1]) != tensor_size(d, l->src[0]);
        gdst ga = grad_dst(&b, l->src[0], 1);
        /* the same tensor on both sides: two contributions, one after the other */
        if (l->src[0] == l->src[1]) {
          s = clgan_mul_backward(ctx, n, l->in_c, hw, x, net->t_view[l->src[1]], bvec, dy, ga.v,
                                 CLGAN_NONE, ga.acc);
          if (!s) s = grad_commit(&b, ga, l->src[0]);
          gdst gb = grad_dst(&b, l->src[1], 1);
          if (!s) s = clgan_mul_backward(ctx, n, l->in_c, hw, x, net->t_view[l->src[1]], bvec, dy,
                                         CLGAN_NONE, gb.v, gb.acc);
          if (!s) s = grad_commit(&b, gb, l->src[1]);
          break;
        }
        gdst gb = grad_dst(&b, l->src[1], 1);
        if (ga.acc != gb.acc && ga.v.mem && gb.v.mem) {
          s = clgan_mul_backward(ctx, n, l->in_c, hw, x, net->t_view[l->src[1]], bvec, dy, ga.v,
                                 CLGAN_NONE, ga.acc);
          if (!s) s = clgan_mul_backward(ctx, n, l->in_c, hw, x, net->t_view[l->src[1]], bvec,
                                         dy, CLGAN_NONE, gb.v, gb.acc);
        } else if (ga.v.mem || gb.v.mem) {
          s = clgan_mul_backward(ctx, n, l->in_c, hw, x, net->t_view[l->src[1]], bvec, dy, ga.v,
                                 gb.v, ga.v.mem ? ga.acc : gb.acc);
        }
        if (!s) s = grad_commit(&b, ga, l->src[0]);
        if (!s) s = grad_commit(&b, gb, l->src[1]);
        break;
      }
      case CLGAN_LAYER_EMBED:
        if (param_grads)
          s = clgan_embed_backward(ctx, n, l->num, l->out_c, x, dy, dW, accumulate);
        break;
      case CLGAN_LAYER_EMBEDBAG:
        if (param_grads)
          s = clgan_embedbag_backward(ctx, n, l->num, l->out_c, CLGAN_TEXT_SLOTS, x, dy, dW,
                                      accumulate);
        break;
      case CLGAN_LAYER_CONDAUG: /* the KL term joins a training backward (param_grads) */
        g = grad_dst(&b, l->src[0], 1);
        if (g.v.mem)
          s = clgan_condaug_backward(ctx, n, l->out_c, x, CLGAN_VIEW(net->acts, net->save_off[i]),
                                     dy, param_grads ? l->p : 0.0f, g.v, g.acc);
        if (!s) s = grad_commit(&b, g, l->src[0]);
        break;
      case CLGAN_LAYER_UPSAMPLE:
        g = grad_dst(&b, l->src[0], 1);
        if (g.v.mem)
          s = clgan_upsample_mode_backward(ctx, n, l->in_c, l->in_h, l->in_w, l->k, l->mode, dy,
                                           g.v, g.acc);
        if (!s) s = grad_commit(&b, g, l->src[0]);
        break;
      case CLGAN_LAYER_AVGPOOL:
        g = grad_dst(&b, l->src[0], 1);
        if (g.v.mem) s = clgan_avgpool_backward(ctx, n, l->in_c, l->in_h, l->in_w, l->k, dy, g.v, g.acc);
        if (!s) s = grad_commit(&b, g, l->src[0]);
        break;
      case CLGAN_LAYER_SUMPOOL:
        g = grad_dst(&b, l->src[0], 1);
        if (g.v.mem) s = clgan_sumpool_backward(ctx, n, l->in_c, hw, dy, g.v, g.acc);
        if (!s) s = grad_commit(&b, g, l->src[0]);
        break;
      case CLGAN_LAYER_PIXELSHUFFLE:
        g = grad_dst(&b, l->src[0], 1);
        if (g.v.mem)
          s = clgan_pixelshuffle_backward(ctx, n, l->out_c, l->in_h, l->in_w, l->k, dy, g.v, g.acc);
        if (!s) s = grad_commit(&b, g, l->src[0]);
        break;
      case CLGAN_LAYER_INSTANCENORM: {
        clgan_view sm = CLGAN_VIEW(net->acts, net->save_off[i]);
        g = grad_dst(&b, l->src[0], 0);
        clgan_view dg = param_grads && l->weight_count ? dW : CLGAN_NONE;
        clgan_view db = param_grads && l->bias_count ? dB : CLGAN_NONE;
        if (g.v.mem || dg.mem)
          s = clgan_instancenorm_backward(ctx, n, l->in_c, hw, x, dy,
                                          opt(net->params, l->weight_off, l->weight_count), sm,
                                          clgan_view_at(sm, (size_t)net->batch * l->in_c),
                                          g.v.mem ? g.v : CLGAN_VIEW(net->gtmp, 0),
                                          dg, db, accumulate);
        if (!s) s = grad_commit(&b, g, l->src[0]);
        break;
      }
      case CLGAN_LAYER_DROPOUT:
        g = grad_dst(&b, l->src[0], 1);
        if (g.v.mem)
          s = clgan_dropout_backward(ctx, (size_t)n * layer_out_size(l), l->p, net->rng_seed,
                                     net->drop_counter[i], dy, g.v, g.acc);
        if (!s) s = grad_commit(&b, g, l->src[0]);
        break;
      case CLGAN_LAYER_MBSTD:
        g = grad_dst(&b, l->src[0], 1);
        if (g.v.mem)
          s = clgan_mbstd_backward(ctx, n, n < l->k ? n : l->k, l->in_c, hw, PIXELNORM_EPS, x, dy,
                                   g.v, g.acc);
        if (!s && net->tan_on && net->rbuf) /* the penalty's second-order term (net_penalty.c) */
          s = clgan_mbstd_hvp(ctx, n, n < l->k ? n : l->k, l->in_c, hw, PIXELNORM_EPS, x,
                              net->tan_view[l->src[0]], dy, CLGAN_VIEW(net->rbuf, 0), 0);
        if (!s) s = grad_commit(&b, g, l->src[0]);
        break;
      case CLGAN_LAYER_PIXELNORM:
        g = grad_dst(&b, l->src[0], 1);
        if (g.v.mem) s = clgan_pixelnorm_backward(ctx, n, l->in_c, hw, PIXELNORM_EPS, x, dy, g.v, g.acc);
        if (!s) s = grad_commit(&b, g, l->src[0]);
        break;
      case CLGAN_LAYER_PRELU:
        g = grad_dst(&b, l->src[0], 1);
        /* one accumulate flag per call: dx and the slopes' gradient may need different ones */
        if (g.v.mem && dW.mem && g.acc != accumulate) {
          s = clgan_prelu_backward(ctx, n, l->in_c, hw, x, W, (int)l->weight_count, dy, g.v,
                                   CLGAN_NONE, g.acc);
          if (!s) s = clgan_prelu_backward(ctx, n, l->in_c, hw, x, W, (int)l->weight_count, dy,
                                           CLGAN_NONE, dW, accumulate);
        } else if (g.v.mem || dW.mem) {
          s = clgan_prelu_backward(ctx, n, l->in_c, hw, x, W, (int)l->weight_count, dy, g.v, dW,
                                   g.v.mem ? g.acc : accumulate);
        }
        if (!s) s = grad_commit(&b, g, l->src[0]);
        break;
      default:
        break;
    }
    if (!s && param_grads && net->notify_grads && net->layer_grads_done && l->weight_count)
      s = net->layer_grads_done(net->replica_user, net, i);
    if (s) clgan_error_prefix("backward layer %d: ", i);
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
