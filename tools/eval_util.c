/* Features and predictions of image sets for `clgan eval` and `train --eval-every`. */
#include "eval_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void eval_set_free(eval_set *s) {
  free(s->feat);
  free(s->pred);
  memset(s, 0, sizeof *s);
}

static clgan_status set_alloc(clgan_classifier *c, int n, eval_set *out, float **logits) {
  memset(out, 0, sizeof *out);
  out->n = n;
  out->feat = malloc(sizeof(float) * (size_t)n * c->feat_dim);
  out->pred = malloc(sizeof(int32_t) * (size_t)n);
  *logits = malloc(sizeof(float) * (size_t)c->batch * c->classes);
  if (!out->feat || !out->pred || !*logits) {
    eval_set_free(out);
    free(*logits);
    *logits = NULL;
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory for the features of %d images", n);
  }
  return CLGAN_OK;
}

static void argmax_rows(const float *lg, int m, int classes, int32_t *out) {
  for (int j = 0; j < m; j++) {
    const float *r = lg + (size_t)j * classes;
    int a = 0;
    for (int k = 1; k < classes; k++)
      if (r[k] > r[a]) a = k;
    out[j] = a;
  }
}

clgan_status eval_images(clgan_classifier *c, const float *images, int n, eval_set *out) {
  float *lg = NULL;
  clgan_status s = set_alloc(c, n, out, &lg);
  size_t img = (size_t)c->image_c * c->image_h * c->image_w;
  for (int i = 0; i < n && !s; i += c->batch) {
    int m = n - i < c->batch ? n - i : c->batch;
    s = clgan_classifier_features(c, images + (size_t)i * img, m, lg,
                                  out->feat + (size_t)i * c->feat_dim);
    if (!s) argmax_rows(lg, m, c->classes, out->pred + i);
  }
  free(lg);
  if (s) eval_set_free(out);
  return s;
}

clgan_status eval_dataset(clgan_classifier *c, const clgan_dataset *ds, eval_set *out) {
  float *lg = NULL;
  clgan_status s = set_alloc(c, ds->count, out, &lg);
  if (s) return s;
  size_t img = (size_t)c->image_c * c->image_h * c->image_w;
  float *x = malloc(sizeof(float) * (size_t)c->batch * img);
  int *idx = malloc(sizeof(int) * (size_t)c->batch);
  if (!x || !idx) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  for (int i = 0; i < ds->count && !s; i += c->batch) {
    int m = ds->count - i < c->batch ? ds->count - i : c->batch;
    for (int j = 0; j < m; j++) idx[j] = i + j;
    clgan_dataset_batch(ds, idx, m, x);
    s = clgan_classifier_features(c, x, m, lg, out->feat + (size_t)i * c->feat_dim);
    if (!s) argmax_rows(lg, m, c->classes, out->pred + i);
  }
  free(x);
  free(idx);
  free(lg);
  if (s) eval_set_free(out);
  return s;
}

clgan_status eval_load_data(clgan_classifier *c, const char *path, const char *cpath,
                            const char *what, int max_images, clgan_dataset *ds) {
  clgan_status s = clgan_dataset_load(path, c->image_c, c->image_h, c->image_w, max_images, ds);
  if (s) return s;
  int colour = ds->source_c >= 3 ? 3 : 1;
  if (ds->source_h != c->image_h || ds->source_w != c->image_w || colour != c->image_c) {
    s = clgan_error(CLGAN_ERR_MISMATCH, "%s '%s' holds %dx%d %s images but the classifier '%s' "
                    "takes %dx%d %s ones: compare images of the classifier's shape, or pass a "
                    "classifier trained on this shape (--classifier)", what, path, ds->source_w,
                    ds->source_h, colour == 3 ? "colour" : "grey", cpath, c->image_w,
                    c->image_h, c->image_c == 3 ? "colour" : "grey");
    clgan_dataset_free(ds);
  }
  return s;
}

clgan_status eval_classifier_path(const char *arg, const char **out) {
  const char *p = arg && *arg ? arg : clgan_classifier_default_path();
  struct stat st;
  *out = p;
  if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) return CLGAN_OK;
  if (arg && *arg)
    return clgan_error(CLGAN_ERR_IO, "classifier '%s': %s", p,
                       stat(p, &st) ? strerror(errno) : "not a regular file");
  return clgan_error(CLGAN_ERR_IO, "no classifier file at '%s' (the shipped Fashion-MNIST "
                     "classifier; $CLGAN_CLASSIFIER or --classifier FILE name another, and "
                     "'clgan classify train' makes one)", p);
}

/* ---- train --eval-every ---- */

#include "clgan/gan.h"
#include "cli.h"

void eval_monitor_free(eval_monitor *em) {
  clgan_classifier_free(em->c);
  free(em->mu);
  free(em->sigma);
  free(em->z);
  free(em->img);
  free(em->labels);
  memset(em, 0, sizeof *em);
}

clgan_status eval_monitor_init(eval_monitor *em, clgan_ctx *ctx, const char *cpath,
                               const char *real, int count, const clgan_model *m,
                               unsigned long long seed) {
  memset(em, 0, sizeof *em);
  double t0 = cli_now();
  clgan_status s = clgan_classifier_load(ctx, cpath, 256, &em->c);
  if (s) return s;
  clgan_classifier *c = em->c;
  if (m->image_c != c->image_c || m->image_h != c->image_h || m->image_w != c->image_w) {
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "--eval-every: model '%s' makes %dx%d %s images but "
                    "the classifier '%s' takes %dx%d %s ones (--eval-classifier names another)",
                    m->name, m->image_w, m->image_h, m->image_c == 3 ? "colour" : "grey", cpath,
                    c->image_w, c->image_h, c->image_c == 3 ? "colour" : "grey");
    eval_monitor_free(em);
    return s;
  }
  clgan_dataset ds;
  eval_set es = {0};
  if ((s = eval_load_data(c, real, cpath, "--eval-real", count, &ds))) {
    eval_monitor_free(em);
    return s;
  }
  s = eval_dataset(c, &ds, &es);
  int d = c->feat_dim;
  em->count = count;
  em->mu = malloc(sizeof(double) * (size_t)d);
  em->sigma = malloc(sizeof(double) * (size_t)d * d);
  em->z = malloc(sizeof(float) * (size_t)count * m->nz);
  em->img = malloc(sizeof(float) * (size_t)count * m->image_c * m->image_h * m->image_w);
  em->labels = m->classes > 0 ? malloc(sizeof(int32_t) * (size_t)count) : NULL;
  if (!s && (!em->mu || !em->sigma || !em->z || !em->img || (m->classes > 0 && !em->labels)))
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory for --eval-every");
  if (!s) s = clgan_feature_moments(es.feat, es.n, d, em->mu, em->sigma);
  eval_set_free(&es);
  clgan_dataset_free(&ds);
  if (s) {
    eval_monitor_free(em);
    return s;
  }
  /* the same noise every time (its own seed, away from training's streams) */
  clgan_philox_normal((size_t)count * m->nz, seed ^ 0x65766171ULL, 0, 0, 1, em->z);
  for (int i = 0; em->labels && i < count; i++) em->labels[i] = i % m->classes;
  em->setup_seconds = cli_now() - t0;
  return CLGAN_OK;
}

clgan_status eval_monitor_fd(eval_monitor *em, clgan_net *g, const clgan_model *m, double *fd) {
  double t0 = cli_now();
  clgan_status s = em->labels
                       ? clgan_generate_labels(g, em->z, em->labels, em->count, CLGAN_BN_EVAL,
                                               em->img)
                       : clgan_generate(g, em->z, em->count, CLGAN_BN_EVAL, em->img);
  eval_set es = {0};
  if (!s) s = eval_images(em->c, em->img, em->count, &es);
  int d = em->c->feat_dim;
  double *mu = malloc(sizeof(double) * (size_t)d), *sigma = malloc(sizeof(double) * (size_t)d * d);
  if (!s && (!mu || !sigma)) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s) s = clgan_feature_moments(es.feat, es.n, d, mu, sigma);
  if (!s) s = clgan_frechet_distance(mu, sigma, em->mu, em->sigma, d, fd);
  free(mu);
  free(sigma);
  eval_set_free(&es);
  em->runs++;
  em->seconds += cli_now() - t0;
  return s;
}

int eval_checkpoint_pad(const clgan_st_file *f) {
  const char *meta = clgan_safetensors_meta(f, "progressive");
  for (const char *l = meta; l && *l;) {
    int p;
    if (sscanf(l, "pad %d", &p) == 1 && p >= 0) return p;
    l = strchr(l, '\n');
    if (l) l++;
  }
  return 0;
}

void eval_crop(float *img, int n, int c, int h, int w, int p) {
  int oh = h - 2 * p, ow = w - 2 * p;
  if (p <= 0 || oh < 1 || ow < 1) return;
  size_t o = 0; /* each output pixel lies at or before its source: in place, in order */
  for (long long k = 0; k < (long long)n * c; k++)
    for (int y = 0; y < oh; y++)
      for (int x = 0; x < ow; x++) img[o++] = img[(size_t)k * h * w + (size_t)(y + p) * w + x + p];
}
