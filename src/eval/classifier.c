/* Classifiers: files, loading onto a device, logits and penultimate features, accuracy.
 * Tests: tests/train/test_classifier.c */
#include "clgan/classifier.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clgan/gan.h"
#include "clgan/version.h"

#ifndef CLGAN_SOURCE_DIR
#define CLGAN_SOURCE_DIR "."
#endif
#ifndef CLGAN_DATADIR
#define CLGAN_DATADIR "/usr/local/share"
#endif

const char *clgan_classifier_default_path(void) {
  static char buf[4096];
  const char *env = getenv("CLGAN_CLASSIFIER");
  if (env && *env) return env;
  struct stat st;
  snprintf(buf, sizeof buf, "%s/clgan/fmnist-classifier.safetensors", CLGAN_DATADIR);
  if (!stat(buf, &st)) return buf;
  snprintf(buf, sizeof buf, "%s/%s", CLGAN_SOURCE_DIR, CLGAN_CLASSIFIER_DEFAULT_FILE);
  return buf;
}

int clgan_classifier_feature_layer(const clgan_net_desc *d) {
  for (int i = 0; i + 1 < d->count; i++)
    if (!strcmp(d->layers[i].name, "feat")) return i;
  return d->layers[d->count - 1].src[0] - d->ninputs;
}

static int weight_shape(const clgan_layer_desc *l, int64_t *shape) {
  switch (l->kind) {
    case CLGAN_LAYER_LINEAR:
      shape[0] = l->out_c, shape[1] = (int64_t)l->in_c * l->in_h * l->in_w;
      return 2;
    case CLGAN_LAYER_CONV:
      shape[0] = l->out_c, shape[1] = l->in_c, shape[2] = l->k, shape[3] = l->k;
      return 4;
    case CLGAN_LAYER_CONVT:
      shape[0] = l->in_c, shape[1] = l->out_c, shape[2] = l->k, shape[3] = l->k;
      return 4;
    case CLGAN_LAYER_EMBED:
      shape[0] = l->num, shape[1] = l->out_c;
      return 2;
    default: /* batchnorm, instancenorm, prelu */
      shape[0] = (int64_t)l->weight_count;
      return 1;
  }
}

clgan_status clgan_classifier_save(const char *path, const clgan_model *m, const float *params,
                                   const float *stats, long long bn_batches,
                                   const char *const *keys, const char *const *values,
                                   int nmeta) {
  const clgan_net_desc *d = &m->c;
  clgan_st_tensor *t = calloc((size_t)d->count * 5 + 1, sizeof *t);
  const char **k = calloc((size_t)nmeta + 5, sizeof *k), **v = calloc((size_t)nmeta + 5, sizeof *v);
  if (!t || !k || !v) {
    free(t), free(k), free(v);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  int n = 0;
  char nm[96];
  for (int i = 0; i < d->count; i++) {
    const clgan_layer_desc *l = &d->layers[i];
    if (!l->weight_count) continue;
    clgan_layer_tensor_name(l, i, "weight", nm, sizeof nm);
    snprintf(t[n].name, sizeof t[n].name, CLGAN_CLASSIFIER_PREFIX "%s", nm);
    t[n].ndim = weight_shape(l, t[n].shape);
    t[n].data = params + l->weight_off;
    t[n++].nbytes = l->weight_count * 4;
    if (l->bias_count) {
      clgan_layer_tensor_name(l, i, "bias", nm, sizeof nm);
      snprintf(t[n].name, sizeof t[n].name, CLGAN_CLASSIFIER_PREFIX "%s", nm);
      t[n].ndim = 1;
      t[n].shape[0] = (int64_t)l->bias_count;
      t[n].data = params + l->bias_off;
      t[n++].nbytes = l->bias_count * 4;
    }
    if (l->kind == CLGAN_LAYER_BATCHNORM) {
      static const char *what[2] = {"running_mean", "running_var"};
      for (int j = 0; j < 2; j++) {
        clgan_layer_tensor_name(l, i, what[j], nm, sizeof nm);
        snprintf(t[n].name, sizeof t[n].name, CLGAN_CLASSIFIER_PREFIX "%s", nm);
        t[n].ndim = 1;
        t[n].shape[0] = l->out_c;
        t[n].data = stats + l->stat_off + (size_t)j * l->out_c;
        t[n++].nbytes = (size_t)l->out_c * 4;
      }
      clgan_layer_tensor_name(l, i, "num_batches_tracked", nm, sizeof nm);
      snprintf(t[n].name, sizeof t[n].name, CLGAN_CLASSIFIER_PREFIX "%s", nm);
      t[n].dtype = CLGAN_DTYPE_I64;
      t[n].ndim = 0;
      t[n].data = &bn_batches;
      t[n++].nbytes = 8;
    }
  }
  char ic[16], cls[16];
  snprintf(ic, sizeof ic, "%d", m->image_c);
  snprintf(cls, sizeof cls, "%d", m->classes);
  int nk = 0;
  k[nk] = "format", v[nk++] = CLGAN_CLASSIFIER_FORMAT;
  k[nk] = "clgan_version", v[nk++] = CLGAN_VERSION_STRING;
  k[nk] = "model", v[nk++] = m->text;
  k[nk] = "image_channels", v[nk++] = ic;
  k[nk] = "classes", v[nk++] = cls;
  for (int i = 0; i < nmeta; i++) k[nk] = keys[i], v[nk++] = values[i];
  clgan_status s = clgan_safetensors_write(path, t, n, k, v, nk);
  free(t), free(k), free(v);
  return s;
}

void clgan_classifier_free(clgan_classifier *c) {
  if (!c) return;
  clgan_net_free(c->net);
  clgan_model_free(&c->model);
  free(c->class_names);
  free(c->command);
  free(c);
}

clgan_status clgan_classifier_load(clgan_ctx *ctx, const char *path, int batch,
                                   clgan_classifier **out) {
  *out = NULL;
  if (!path) path = clgan_classifier_default_path();
  if (batch <= 0) batch = 256;
  clgan_st_file f;
  clgan_status s = clgan_safetensors_read(path, &f);
  if (s) return clgan_error_prefix("classifier '%s': ", path);
  clgan_classifier *c = calloc(1, sizeof *c);
  if (!c) {
    clgan_safetensors_free(&f);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  const char *fmt = clgan_safetensors_meta(&f, "format");
  const char *text = clgan_safetensors_meta(&f, "model");
  const char *ic = clgan_safetensors_meta(&f, "image_channels");
  if (!fmt || strcmp(fmt, CLGAN_CLASSIFIER_FORMAT) || !text) {
    s = clgan_error(CLGAN_ERR_FORMAT, "classifier '%s': not a clgan classifier (format is %s, "
                    "want %s; train one with 'clgan classify train')", path,
                    fmt ? fmt : "missing", CLGAN_CLASSIFIER_FORMAT);
    goto fail;
  }
  if ((s = clgan_model_parse(text, "classifier model", &c->model))) {
    clgan_error_prefix("classifier '%s': ", path);
    goto fail;
  }
  if (c->model.kind != CLGAN_MODEL_CLASSIFIER) {
    s = clgan_error(CLGAN_ERR_FORMAT, "classifier '%s': its model has no classifier section", path);
    goto fail;
  }
  if ((s = clgan_model_resolve(&c->model, ic ? atoi(ic) : 0))) {
    clgan_error_prefix("classifier '%s': ", path);
    goto fail;
  }
  const clgan_net_desc *d = &c->model.c;
  c->ctx = ctx;
  c->batch = batch;
  c->classes = c->model.classes;
  c->image_c = c->model.image_c, c->image_h = c->model.image_h, c->image_w = c->model.image_w;
  c->feat_layer = clgan_classifier_feature_layer(d);
  c->feat_dim = c->feat_layer < 0 ? d->in_c * d->in_h * d->in_w
                                  : d->layers[c->feat_layer].out_c * d->layers[c->feat_layer].out_h *
                                        d->layers[c->feat_layer].out_w;
  c->class_names = calloc((size_t)c->classes, sizeof *c->class_names);
  if (!c->class_names) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    goto fail;
  }
  const char *cn = clgan_safetensors_meta(&f, "class_names");
  for (int i = 0; i < c->classes; i++) {
    size_t len = 0;
    if (cn && *cn) {
      const char *e = strchr(cn, '\n');
      len = e ? (size_t)(e - cn) : strlen(cn);
      if (len >= CLGAN_CLASS_NAME_MAX) len = CLGAN_CLASS_NAME_MAX - 1;
      memcpy(c->class_names[i], cn, len);
      cn = e ? e + 1 : cn + strlen(cn);
    }
    if (!len) snprintf(c->class_names[i], CLGAN_CLASS_NAME_MAX, "%d", i);
  }
  const char *cmd = clgan_safetensors_meta(&f, "command");
  if (cmd && !(c->command = strdup(cmd))) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    goto fail;
  }
  const char *seed = clgan_safetensors_meta(&f, "seed");
  c->seed = seed ? strtoull(seed, NULL, 10) : 0;
  const char *acc = clgan_safetensors_meta(&f, "test_accuracy");
  c->test_accuracy = acc ? strtod(acc, NULL) : -1.0;
  if ((s = clgan_net_create(ctx, d, batch, 0, "classifier", &c->net))) goto fail;
  if ((s = clgan_checkpoint_restore_net(&f, "classifier", c->net))) {
    clgan_error_prefix("classifier '%s': ", path);
    goto fail;
  }
  clgan_safetensors_free(&f);
  *out = c;
  return CLGAN_OK;
fail:
  clgan_safetensors_free(&f);
  clgan_classifier_free(c);
  return s;
}

clgan_status clgan_classifier_forward(clgan_classifier *c, int n, clgan_view images,
                                      clgan_view logits, clgan_view features) {
  if (n < 1 || n > c->batch)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "classifier: %d images, the net takes 1..%d", n,
                       c->batch);
  clgan_status s = clgan_net_forward(c->net, n, images, CLGAN_BN_EVAL);
  if (!s && logits.mem)
    s = clgan_copy(c->ctx, (size_t)n * c->classes, clgan_net_output(c->net), logits);
  if (!s && features.mem) {
    clgan_view fv = c->net->t_view[c->net->desc->ninputs + c->feat_layer];
    s = clgan_copy(c->ctx, (size_t)n * c->feat_dim, fv, features);
  }
  return s;
}

clgan_status clgan_classifier_features(clgan_classifier *c, const float *images, int n,
                                       float *logits, float *features) {
  size_t img = (size_t)c->image_c * c->image_h * c->image_w;
  clgan_view in = clgan_net_input(c->net);
  clgan_status s = CLGAN_OK;
  for (int i = 0; i < n && !s; i += c->batch) {
    int m = n - i < c->batch ? n - i : c->batch;
    s = clgan_buffer_write(c->ctx, in.mem, in.off * 4, (size_t)m * img * 4, images + (size_t)i * img);
    if (!s) s = clgan_net_forward(c->net, m, CLGAN_NONE, CLGAN_BN_EVAL);
    if (!s && logits) {
      clgan_view o = clgan_net_output(c->net);
      s = clgan_buffer_read(c->ctx, o.mem, o.off * 4, (size_t)m * c->classes * 4,
                            logits + (size_t)i * c->classes);
    }
    if (!s && features) {
      clgan_view fv = c->net->t_view[c->net->desc->ninputs + c->feat_layer];
      s = clgan_buffer_read(c->ctx, fv.mem, fv.off * 4, (size_t)m * c->feat_dim * 4,
                            features + (size_t)i * c->feat_dim);
    }
  }
  return s;
}

clgan_status clgan_classifier_accuracy(clgan_classifier *c, const clgan_dataset *ds,
                                       double *accuracy, double *per_class) {
  if (!ds->labels)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: the data has no labels (an IDX file needs "
                       "its *-labels-idx1-ubyte file, PNGs one folder per class)", ds->source);
  if (ds->classes != c->classes)
    return clgan_error(CLGAN_ERR_MISMATCH, "%s: the data has %d classes, the classifier %d",
                       ds->source, ds->classes, c->classes);
  if (ds->channels != c->image_c || ds->height != c->image_h || ds->width != c->image_w)
    return clgan_error(CLGAN_ERR_MISMATCH, "%s: images are %dx%dx%d, the classifier takes "
                       "%dx%dx%d", ds->source, ds->channels, ds->height, ds->width, c->image_c,
                       c->image_h, c->image_w);
  size_t img = (size_t)c->image_c * c->image_h * c->image_w;
  float *x = malloc((size_t)c->batch * img * 4), *lg = malloc((size_t)c->batch * c->classes * 4);
  int *idx = malloc(sizeof(int) * (size_t)c->batch);
  long long *hit = calloc((size_t)c->classes * 2, sizeof *hit), *tot = hit + c->classes;
  clgan_status s = CLGAN_OK;
  if (!x || !lg || !idx || !hit) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  long long right = 0;
  for (int i = 0; i < ds->count && !s; i += c->batch) {
    int m = ds->count - i < c->batch ? ds->count - i : c->batch;
    for (int j = 0; j < m; j++) idx[j] = i + j;
    clgan_dataset_batch(ds, idx, m, x);
    if ((s = clgan_classifier_features(c, x, m, lg, NULL))) break;
    for (int j = 0; j < m; j++) {
      const float *r = lg + (size_t)j * c->classes;
      int arg = 0;
      for (int k = 1; k < c->classes; k++)
        if (r[k] > r[arg]) arg = k;
      int y = ds->labels[i + j];
      if (y < 0 || y >= c->classes) continue;
      tot[y]++;
      if (arg == y) hit[y]++, right++;
    }
  }
  if (!s) {
    *accuracy = ds->count ? (double)right / ds->count : 0.0;
    for (int k = 0; per_class && k < c->classes; k++)
      per_class[k] = tot[k] ? (double)hit[k] / (double)tot[k] : -1.0;
  }
  free(x), free(lg), free(idx), free(hit);
  return s;
}
