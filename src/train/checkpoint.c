/* Checkpoints: the trainer's whole state as a safetensors file with PyTorch state_dict
 * names and layouts. Tests: tests/train/test_checkpoint.c */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/augment.h"
#include "clgan/gan.h"
#include "clgan/version.h"

#define FORMAT "clgan-checkpoint-1"

/* One named host tensor destined for (or read from) the file. */
typedef struct {
  char name[160];
  clgan_dtype dtype;
  int ndim;
  int64_t shape[4];
  float *f;        /* F32 data (points into a host copy of an arena) */
  int64_t i64;     /* I64 scalar (num_batches_tracked) */
} entry;

typedef struct {
  entry *e;
  int n, cap;
} entry_list;

static entry *push(entry_list *l) {
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 64;
    entry *g = realloc(l->e, sizeof *g * (size_t)cap);
    if (!g) return NULL;
    l->e = g;
    l->cap = cap;
  }
  entry *e = &l->e[l->n++];
  memset(e, 0, sizeof *e);
  return e;
}

/* Shape of a layer's weight as PyTorch stores it. */
static int weight_shape(const clgan_layer_desc *l, int64_t *shape) {
  switch (l->kind) {
    case CLGAN_LAYER_LINEAR:
      shape[0] = l->out_c;
      shape[1] = (int64_t)l->in_c * l->in_h * l->in_w;
      return 2;
    case CLGAN_LAYER_CONV:
      shape[0] = l->out_c, shape[1] = l->in_c, shape[2] = l->k, shape[3] = l->k;
      return 4;
    case CLGAN_LAYER_CONVT:
      shape[0] = l->in_c, shape[1] = l->out_c, shape[2] = l->k, shape[3] = l->k;
      return 4;
    case CLGAN_LAYER_BATCHNORM:
    case CLGAN_LAYER_INSTANCENORM:
      shape[0] = l->out_c;
      return 1;
    case CLGAN_LAYER_EMBED:
    case CLGAN_LAYER_EMBEDBAG:
      shape[0] = l->num, shape[1] = l->out_c;
      return 2;
    case CLGAN_LAYER_PRELU:
      shape[0] = (int64_t)l->weight_count;
      return 1;
    default:
      return 0;
  }
}

/* Lists the tensors of one network. `arena` is the parameter arena's host copy (for
 * "adam_m." / "adam_v." prefixes, the moment arena); stats may be NULL. */
static int list_net(entry_list *l, const char *prefix, const clgan_net_desc *d, float *arena,
                    float *stats, long long bn_batches) {
  for (int i = 0; i < d->count; i++) {
    const clgan_layer_desc *ly = &d->layers[i];
    if (!ly->weight_count) continue;
    entry *e = push(l);
    if (!e) return -1;
    char nm[96];
    clgan_layer_tensor_name(ly, i, ly->sn ? "weight_orig" : "weight", nm, sizeof nm);
    snprintf(e->name, sizeof e->name, "%s.%s", prefix, nm);
    e->ndim = weight_shape(ly, e->shape);
    e->f = arena + ly->weight_off;
    if (ly->sn && stats) { /* spectral norm's persistent u and v, PyTorch's buffers */
      static const char *what[2] = {"weight_u", "weight_v"};
      size_t rows = (size_t)ly->out_c;
      for (int k = 0; k < 2; k++) {
        if (!(e = push(l))) return -1;
        clgan_layer_tensor_name(ly, i, what[k], nm, sizeof nm);
        snprintf(e->name, sizeof e->name, "%s.%s", prefix, nm);
        e->ndim = 1;
        e->shape[0] = (int64_t)(k ? ly->weight_count / rows : rows);
        e->f = stats + ly->sn_off + (k ? rows : 0);
      }
    }
    if (ly->bias_count) {
      if (!(e = push(l))) return -1;
      clgan_layer_tensor_name(ly, i, "bias", nm, sizeof nm);
      snprintf(e->name, sizeof e->name, "%s.%s", prefix, nm);
      e->ndim = 1;
      e->shape[0] = (int64_t)ly->bias_count;
      e->f = arena + ly->bias_off;
    }
    if (ly->kind == CLGAN_LAYER_BATCHNORM && stats) {
      static const char *what[2] = {"running_mean", "running_var"};
      for (int k = 0; k < 2; k++) {
        if (!(e = push(l))) return -1;
        clgan_layer_tensor_name(ly, i, what[k], nm, sizeof nm);
        snprintf(e->name, sizeof e->name, "%s.%s", prefix, nm);
        e->ndim = 1;
        e->shape[0] = ly->out_c;
        e->f = stats + ly->stat_off + (size_t)k * ly->out_c;
      }
      if (!(e = push(l))) return -1;
      clgan_layer_tensor_name(ly, i, "num_batches_tracked", nm, sizeof nm);
      snprintf(e->name, sizeof e->name, "%s.%s", prefix, nm);
      e->dtype = CLGAN_DTYPE_I64;
      e->ndim = 0;
      e->i64 = bn_batches;
    }
  }
  return 0;
}

static size_t entry_bytes(const entry *e) {
  size_t n = 1;
  for (int k = 0; k < e->ndim; k++) n *= (size_t)e->shape[k];
  return n * (e->dtype == CLGAN_DTYPE_I64 ? 8 : 4);
}

typedef struct {
  float *gp, *gs, *gm, *gv, *dp, *ds, *dm, *dv;
  float *ge, *gs2; /* the EMA weights, and where a restore puts its copy of G's statistics */
} host_copy;

static void host_free(host_copy *h) {
  float **all[] = {&h->gp, &h->gs, &h->gm, &h->gv, &h->dp, &h->ds, &h->dm, &h->dv, &h->ge, &h->gs2};
  for (size_t i = 0; i < 10; i++) {
    free(*all[i]);
    *all[i] = NULL;
  }
}

static clgan_status host_alloc(host_copy *h, const clgan_model *m, int ema) {
  memset(h, 0, sizeof *h);
  size_t gp = m->g.param_count + 1, dp = m->d.param_count + 1;
  h->gp = malloc(gp * 4), h->gm = malloc(gp * 4), h->gv = malloc(gp * 4);
  h->dp = malloc(dp * 4), h->dm = malloc(dp * 4), h->dv = malloc(dp * 4);
  h->gs = malloc((m->g.stat_count + 1) * 4), h->ds = malloc((m->d.stat_count + 1) * 4);
  if (ema) h->ge = malloc(gp * 4), h->gs2 = malloc((m->g.stat_count + 1) * 4);
  if (!h->gp || !h->gm || !h->gv || !h->dp || !h->dm || !h->dv || !h->gs || !h->ds ||
      (ema && (!h->ge || !h->gs2))) {
    host_free(h);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory for a checkpoint");
  }
  return CLGAN_OK;
}

/* save: the EMA's statistics are G's (gs); restore: they land in gs2, unused */
static int list_all(entry_list *l, const clgan_gan *gan, host_copy *h, int restoring) {
  const clgan_model *m = gan->model;
  return list_net(l, "generator", &m->g, h->gp, h->gs, gan->g->bn_batches) ||
         (gan->ema && list_net(l, "generator_ema", &m->g, h->ge, restoring ? h->gs2 : h->gs,
                               gan->g->bn_batches)) ||
         list_net(l, "discriminator", &m->d, h->dp, h->ds, gan->d->bn_batches) ||
         list_net(l, "adam_m.generator", &m->g, h->gm, NULL, 0) ||
         list_net(l, "adam_v.generator", &m->g, h->gv, NULL, 0) ||
         list_net(l, "adam_m.discriminator", &m->d, h->dm, NULL, 0) ||
         list_net(l, "adam_v.discriminator", &m->d, h->dv, NULL, 0);
}

clgan_status clgan_checkpoint_save(const char *path, clgan_gan *gan, const clgan_train_state *st) {
  host_copy h;
  clgan_status s = host_alloc(&h, gan->model, gan->ema != NULL);
  if (s) return s;
  clgan_ctx *ctx = gan->ctx;
  size_t gb = gan->model->g.param_count * 4, db = gan->model->d.param_count * 4;
  s = clgan_net_get_params(gan->g, h.gp, h.gs);
  if (!s && gan->ema && gb) s = clgan_buffer_read(ctx, gan->ema, 0, gb, h.ge);
  if (!s) s = clgan_net_get_params(gan->d, h.dp, h.ds);
  if (!s) s = clgan_buffer_read(ctx, gan->g->adam_m, 0, gb, h.gm);
  if (!s) s = clgan_buffer_read(ctx, gan->g->adam_v, 0, gb, h.gv);
  if (!s) s = clgan_buffer_read(ctx, gan->d->adam_m, 0, db, h.dm);
  if (!s) s = clgan_buffer_read(ctx, gan->d->adam_v, 0, db, h.dv);
  entry_list l = {0};
  if (!s && list_all(&l, gan, &h, 0)) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  clgan_st_tensor *t = s ? NULL : calloc((size_t)l.n + 1, sizeof *t);
  if (!s && !t) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  for (int i = 0; !s && i < l.n; i++) {
    entry *e = &l.e[i];
    snprintf(t[i].name, sizeof t[i].name, "%s", e->name);
    t[i].dtype = e->dtype;
    t[i].ndim = e->ndim;
    memcpy(t[i].shape, e->shape, sizeof e->shape);
    t[i].data = e->dtype == CLGAN_DTYPE_I64 ? (const void *)&e->i64 : (const void *)e->f;
    t[i].nbytes = entry_bytes(e);
  }
  if (!s) {
    const clgan_train_config *c = &gan->cfg;
    char step[32], epoch[32], seed[32], batch[16], lr_g[32], lr_d[32], b1[32], b2[32], eps[32];
    char ag[32], ad[32], ic[8], ema[32], ema_start[32], advw[32], cw[32], dls[32], cc[8];
    char aug[64];
    clgan_diffaug_name(c->diffaug, aug, sizeof aug);
    snprintf(step, sizeof step, "%lld", gan->step);
    snprintf(epoch, sizeof epoch, "%lld", st ? st->epoch : 0);
    snprintf(seed, sizeof seed, "%llu", c->seed);
    snprintf(batch, sizeof batch, "%d", c->batch);
    /* %.9g round-trips a float exactly, which exact resume needs */
    snprintf(lr_g, sizeof lr_g, "%.9g", c->lr_g);
    snprintf(lr_d, sizeof lr_d, "%.9g", c->lr_d);
    snprintf(b1, sizeof b1, "%.9g", c->beta1);
    snprintf(b2, sizeof b2, "%.9g", c->beta2);
    snprintf(eps, sizeof eps, "%.9g", c->eps);
    snprintf(ag, sizeof ag, "%lld", gan->g->adam_step);
    snprintf(ad, sizeof ad, "%lld", gan->d->adam_step);
    snprintf(ic, sizeof ic, "%d", gan->model->image_c);
    snprintf(ema, sizeof ema, "%.9g", c->ema_decay);
    snprintf(ema_start, sizeof ema_start, "%lld", c->ema_start);
    snprintf(advw, sizeof advw, "%.9g", c->adv_weight);
    snprintf(cw, sizeof cw, "%.9g", c->content_weight);
    snprintf(dls, sizeof dls, "%.9g", c->d_loss_scale);
    snprintf(cc, sizeof cc, "%d", gan->model->cond_c);
    char gpl[32], dre[32], r1g[32], r1e[32];
    snprintf(gpl, sizeof gpl, "%.9g", c->gp_lambda);
    snprintf(dre, sizeof dre, "%.9g", c->drift_eps);
    snprintf(r1g, sizeof r1g, "%.9g", c->r1_gamma);
    snprintf(r1e, sizeof r1e, "%d", c->r1_every);
    const char *keys[40] = {"format", "clgan_version", "model", "image_channels", "step",
                            "epoch", "seed", "batch", "lr_g", "lr_d", "beta1", "beta2", "eps",
                            "g_loss", "adam_step_generator", "adam_step_discriminator", "data"};
    const char *vals[40] = {FORMAT, CLGAN_VERSION_STRING, gan->model->text, ic, step, epoch,
                            seed, batch, lr_g, lr_d, b1, b2, eps, clgan_gan_loss_name(c->loss),
                            ag, ad, st ? st->data : ""};
    int nkeys = 17;
    /* class names only for a conditional model, the EMA settings only with EMA: other
     * checkpoints stay as they were */
    if (gan->model->classes)
      keys[nkeys] = "class_names", vals[nkeys++] = st ? st->class_names : "";
    if (gan->ema) {
      keys[nkeys] = "ema_decay", vals[nkeys++] = ema;
      keys[nkeys] = "ema_start", vals[nkeys++] = ema_start;
    }
    if (gan->text) /* a text model's vocabulary: generate tokenizes with it */
      keys[nkeys] = "vocab", vals[nkeys++] = st ? st->vocab : "";
    if (gan->cond) { /* the image-to-image recipe: only for models that take cond */
      keys[nkeys] = "adv_weight", vals[nkeys++] = advw;
      keys[nkeys] = "content_loss", vals[nkeys++] = clgan_content_name(c->content);
      keys[nkeys] = "content_weight", vals[nkeys++] = cw;
      keys[nkeys] = "d_loss_scale", vals[nkeys++] = dls;
      keys[nkeys] = "cond_channels", vals[nkeys++] = cc; /* resolves a 'cond auto' model */
    }
    if (st && st->run[0]) keys[nkeys] = "run", vals[nkeys++] = st->run;
    if (st && st->progressive[0]) keys[nkeys] = "progressive", vals[nkeys++] = st->progressive;
    if (c->diffaug) keys[nkeys] = "diffaug", vals[nkeys++] = aug; /* only when on */
    if (c->loss == CLGAN_GLOSS_WGAN_GP) { /* the penalties' settings only when on */
      keys[nkeys] = "gp_lambda", vals[nkeys++] = gpl;
      keys[nkeys] = "drift_eps", vals[nkeys++] = dre;
    }
    if (c->r1_gamma != 0.0f) {
      keys[nkeys] = "r1_gamma", vals[nkeys++] = r1g;
      keys[nkeys] = "r1_every", vals[nkeys++] = r1e;
    }
    s = clgan_safetensors_write(path, t, l.n, keys, vals, nkeys);
  }
  free(t);
  free(l.e);
  host_free(&h);
  return s;
}

clgan_status clgan_checkpoint_open(const char *path, clgan_st_file *f, clgan_model *model) {
  clgan_status s = clgan_safetensors_read(path, f);
  if (s) return clgan_error_prefix("checkpoint '%s': ", path);
  const char *fmt = clgan_safetensors_meta(f, "format");
  const char *text = clgan_safetensors_meta(f, "model");
  if (!fmt || strcmp(fmt, FORMAT) != 0 || !text) {
    /* the message first: fmt points into f, which the free releases */
    s = clgan_error(CLGAN_ERR_FORMAT, "checkpoint '%s': not a clgan checkpoint of format "
                    "%s (format is %s)", path, FORMAT, fmt ? fmt : "missing");
    clgan_safetensors_free(f);
    return s;
  }
  s = clgan_model_parse(text, "checkpoint model", model);
  if (s) {
    clgan_safetensors_free(f);
    return clgan_error_prefix("checkpoint '%s': ", path);
  }
  return CLGAN_OK;
}

static int meta_ll(const clgan_st_file *f, const char *key, long long *v) {
  const char *s = clgan_safetensors_meta(f, key);
  char *end;
  if (!s) return -1;
  *v = strtoll(s, &end, 10);
  return end == s || *end ? -1 : 0;
}

static int meta_f(const clgan_st_file *f, const char *key, float *v) {
  const char *s = clgan_safetensors_meta(f, key);
  char *end;
  if (!s) return -1;
  *v = strtof(s, &end);
  return end == s || *end ? -1 : 0;
}

clgan_status clgan_checkpoint_config(const clgan_st_file *f, clgan_train_config *c,
                                     long long *step, clgan_train_state *st) {
  long long seed, batch, epoch;
  const char *loss = clgan_safetensors_meta(f, "g_loss");
  clgan_train_config_default(c);
  if (meta_ll(f, "step", step) || meta_ll(f, "seed", &seed) || meta_ll(f, "batch", &batch) ||
      meta_ll(f, "epoch", &epoch) || meta_f(f, "lr_g", &c->lr_g) || meta_f(f, "lr_d", &c->lr_d) ||
      meta_f(f, "beta1", &c->beta1) || meta_f(f, "beta2", &c->beta2) ||
      meta_f(f, "eps", &c->eps) || !loss || clgan_gan_loss_parse(loss, &c->loss) || batch < 1 ||
      batch > 1 << 20 || *step < 0)
    return clgan_error(CLGAN_ERR_FORMAT, "checkpoint: missing or malformed training "
                       "configuration in its metadata");
  c->seed = (unsigned long long)seed;
  c->batch = (int)batch;
  /* absent in a checkpoint without EMA (and in those older than EMA): off */
  if (clgan_safetensors_meta(f, "ema_decay") &&
      (meta_f(f, "ema_decay", &c->ema_decay) || meta_ll(f, "ema_start", &c->ema_start) ||
       !(c->ema_decay >= 0.0f && c->ema_decay < 1.0f) || c->ema_start < 0))
    return clgan_error(CLGAN_ERR_FORMAT, "checkpoint: malformed EMA settings (ema_decay, "
                       "ema_start) in its metadata");
  const char *ck = clgan_safetensors_meta(f, "content_loss");
  if (ck && (clgan_content_parse(ck, &c->content) || meta_f(f, "adv_weight", &c->adv_weight) ||
             meta_f(f, "content_weight", &c->content_weight) ||
             meta_f(f, "d_loss_scale", &c->d_loss_scale) || !(c->adv_weight >= 0.0f) ||
             !(c->content_weight >= 0.0f) || !(c->d_loss_scale > 0.0f)))
    return clgan_error(CLGAN_ERR_FORMAT, "checkpoint: malformed image-to-image settings "
                       "(adv_weight, content_loss, content_weight, d_loss_scale) in its metadata");
  const char *da = clgan_safetensors_meta(f, "diffaug"); /* absent: off */
  if (da && clgan_diffaug_parse(da, &c->diffaug))
    return clgan_error(CLGAN_ERR_FORMAT, "checkpoint: malformed DiffAugment policy '%s' in its "
                       "metadata", da);
  long long r1e = 1;
  if ((clgan_safetensors_meta(f, "gp_lambda") &&
       (meta_f(f, "gp_lambda", &c->gp_lambda) || meta_f(f, "drift_eps", &c->drift_eps))) ||
      (clgan_safetensors_meta(f, "r1_gamma") &&
       (meta_f(f, "r1_gamma", &c->r1_gamma) || meta_ll(f, "r1_every", &r1e) || r1e < 1 ||
        r1e > 1000000)))
    return clgan_error(CLGAN_ERR_FORMAT, "checkpoint: malformed penalty settings (gp_lambda, "
                       "drift_eps, r1_gamma, r1_every) in its metadata");
  c->r1_every = (int)r1e;
  if (st) {
    st->epoch = epoch;
    const char *d = clgan_safetensors_meta(f, "data");
    snprintf(st->data, sizeof st->data, "%s", d ? d : "");
    const char *cn = clgan_safetensors_meta(f, "class_names");
    snprintf(st->class_names, sizeof st->class_names, "%s", cn ? cn : "");
    const char *run = clgan_safetensors_meta(f, "run");
    snprintf(st->run, sizeof st->run, "%s", run ? run : "");
    const char *vo = clgan_safetensors_meta(f, "vocab");
    snprintf(st->vocab, sizeof st->vocab, "%s", vo ? vo : "");
    const char *pg = clgan_safetensors_meta(f, "progressive");
    snprintf(st->progressive, sizeof st->progressive, "%s", pg ? pg : "");
  }
  return CLGAN_OK;
}

static clgan_status copy_in(const clgan_st_file *f, entry_list *l) {
  for (int i = 0; i < l->n; i++) {
    entry *e = &l->e[i];
    const clgan_st_tensor *t = clgan_safetensors_find(f, e->name);
    if (!t)
      return clgan_error(CLGAN_ERR_MISMATCH, "checkpoint does not fit the model: tensor '%s' "
                         "is missing", e->name);
    int same = t->dtype == e->dtype && t->ndim == e->ndim;
    for (int k = 0; same && k < e->ndim; k++) same = t->shape[k] == e->shape[k];
    if (!same || t->nbytes != entry_bytes(e)) {
      char want[96] = "", got[96] = "";
      for (int k = 0; k < e->ndim; k++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%" PRId64, k ? "x" : "", e->shape[k]);
      for (int k = 0; k < t->ndim && k < 8; k++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%" PRId64, k ? "x" : "", t->shape[k]);
      return clgan_error(CLGAN_ERR_MISMATCH, "checkpoint does not fit the model: tensor '%s' "
                         "is [%s] in the file, the model needs [%s]", e->name, got, want);
    }
    if (e->dtype == CLGAN_DTYPE_I64) memcpy(&e->i64, t->data, 8);
    else memcpy(e->f, t->data, t->nbytes);
  }
  return CLGAN_OK;
}

static long long bn_count(const entry_list *l, const char *prefix) {
  size_t n = strlen(prefix);
  for (int i = 0; i < l->n; i++)
    if (l->e[i].dtype == CLGAN_DTYPE_I64 && !strncmp(l->e[i].name, prefix, n)) return l->e[i].i64;
  return 0;
}

clgan_status clgan_checkpoint_restore_net(const clgan_st_file *f, const char *prefix,
                                          clgan_net *net) {
  const clgan_net_desc *d = net->desc;
  float *p = malloc((d->param_count + 1) * 4), *st = malloc((d->stat_count + 1) * 4);
  entry_list l = {0};
  clgan_status s = CLGAN_OK;
  if (!p || !st || list_net(&l, prefix, d, p, st, 0))
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s) s = copy_in(f, &l);
  if (!s) s = clgan_net_set_params(net, p, st);
  if (!s) net->bn_batches = bn_count(&l, prefix);
  free(l.e);
  free(p);
  free(st);
  return s;
}

clgan_status clgan_checkpoint_restore(const clgan_st_file *f, clgan_gan *gan) {
  host_copy h;
  clgan_status s = host_alloc(&h, gan->model, gan->ema != NULL);
  if (s) return s;
  entry_list l = {0};
  if (list_all(&l, gan, &h, 1)) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s) s = copy_in(f, &l);
  long long ag = 0, ad = 0, step = 0;
  if (!s && (meta_ll(f, "adam_step_generator", &ag) || meta_ll(f, "adam_step_discriminator", &ad) ||
             meta_ll(f, "step", &step)))
    s = clgan_error(CLGAN_ERR_FORMAT, "checkpoint: malformed optimiser counters in its metadata");
  clgan_ctx *ctx = gan->ctx;
  size_t gb = gan->model->g.param_count * 4, db = gan->model->d.param_count * 4;
  if (!s) s = clgan_net_set_params(gan->g, h.gp, h.gs);
  if (!s) s = clgan_net_set_params(gan->d, h.dp, h.ds);
  if (!s && gan->ema && gb) s = clgan_buffer_write(ctx, gan->ema, 0, gb, h.ge);
  if (!s) s = clgan_buffer_write(ctx, gan->g->adam_m, 0, gb, h.gm);
  if (!s) s = clgan_buffer_write(ctx, gan->g->adam_v, 0, gb, h.gv);
  if (!s) s = clgan_buffer_write(ctx, gan->d->adam_m, 0, db, h.dm);
  if (!s) s = clgan_buffer_write(ctx, gan->d->adam_v, 0, db, h.dv);
  if (!s) {
    gan->g->adam_step = ag;
    gan->d->adam_step = ad;
    gan->g->bn_batches = bn_count(&l, "generator.");
    gan->d->bn_batches = bn_count(&l, "discriminator.");
    gan->step = step;
  }
  free(l.e);
  host_free(&h);
  return s;
}
