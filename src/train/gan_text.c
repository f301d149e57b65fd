/* Text-to-image training (issue 16): GAN-INT-CLS's matching-aware discriminator (Reed et al.
 * 2016) with StackGAN's conditioning augmentation in G (its KL joins G's backward through the
 * condaug layer). Kept apart from gan.c: an ordinary model never reaches this file.
 * Tests: tests/train/test_gan_text.c, tests/train/fixture_t2i.json */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/gan.h"
#include "clgan/text.h"

/* gan->metrics slots, as gan.c's (real, fake, G: loss then mean sigmoid; norms), plus the
 * mismatched pair's */
enum { T_REAL = 0, T_FAKE = 2, T_G = 4, T_NORM_D = 6, T_NORM_G = 7, T_WRONG = 10, T_COUNT = 16 };

int clgan_model_takes_text(const clgan_model *m) {
  return clgan_net_find_input(&m->g, CLGAN_INPUT_TEXT) >= 0 ||
         clgan_net_find_input(&m->d, CLGAN_INPUT_TEXT) >= 0;
}

clgan_status clgan_gan_text_setup(clgan_gan *gan) {
  const clgan_model *m = gan->model;
  if (clgan_net_find_input(&m->g, CLGAN_INPUT_TEXT) < 0 ||
      clgan_net_find_input(&m->d, CLGAN_INPUT_TEXT) < 0 || m->classes || gan->cond ||
      clgan_net_find_input(&m->g, CLGAN_INPUT_Z) != 0)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': a text-to-image model's generator "
                       "takes 'z text' and its discriminator 'image text' (no labels, no "
                       "cond)", m->name);
  if (gan->batch != gan->cfg.batch)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': text-to-image training runs on one "
                       "device (no shards yet)", m->name);
  size_t ints = 2 * (size_t)gan->batch * CLGAN_TEXT_SAMPLE_INTS;
  clgan_status s = clgan_buffer_create(gan->ctx, ints * sizeof(int32_t), "captions", &gan->text);
  if (!s) s = clgan_net_bind(gan->g, CLGAN_INPUT_TEXT, CLGAN_VIEW(gan->text, 0));
  return s;
}

static clgan_loss d_kind(const clgan_gan *gan, int real, float *t) {
  *t = real ? 1.0f : 0.0f;
  if (gan->cfg.loss == CLGAN_GLOSS_LSGAN) return CLGAN_LOSS_SQUARED;
  if (gan->cfg.loss == CLGAN_GLOSS_HINGE) {
    *t = real ? 1.0f : -1.0f;
    return CLGAN_LOSS_HINGE;
  }
  return CLGAN_LOSS_BCE;
}

/* D on x with the right (0) or mismatched (1) captions, its loss as real or fake with weight
 * `scale`, and its backward (accumulating after the first). */
static clgan_status d_pass(clgan_gan *gan, clgan_view x, int wrong, int pass, int real,
                           float scale, int slot) {
  int n = gan->batch;
  gan->d->rng_step = 4 * gan->step + pass;
  clgan_status s = clgan_net_bind(gan->d, CLGAN_INPUT_TEXT,
                                  CLGAN_VIEW(gan->text, wrong ? (size_t)n * CLGAN_TEXT_SAMPLE_INTS : 0));
  if (!s) s = clgan_net_forward(gan->d, n, x, CLGAN_BN_TRAIN);
  float t;
  clgan_loss kind = d_kind(gan, real, &t);
  if (!s) s = clgan_loss_forward_backward(gan->ctx, kind, t, n * gan->patches,
                                          clgan_net_output(gan->d), scale,
                                          CLGAN_VIEW(gan->metrics, (size_t)slot),
                                          CLGAN_VIEW(gan->dlogits, 0));
  if (!s) s = clgan_net_backward(gan->d, n, CLGAN_VIEW(gan->dlogits, 0), 1, pass > 0, CLGAN_NONE);
  return s;
}

clgan_status clgan_gan_text_d_step(clgan_gan *gan) {
  int n = gan->batch;
  /* G forward only, on the right captions: its output is a constant for D */
  gan->g->rng_step = gan->step;
  clgan_status s = clgan_net_forward(gan->g, n, CLGAN_NONE, CLGAN_BN_TRAIN);
  clgan_view real = CLGAN_VIEW(gan->real, 0);
  if (!s) s = d_pass(gan, real, 0, 0, 1, 1.0f, T_REAL);
  if (!s) s = d_pass(gan, clgan_net_output(gan->g), 0, 1, 0, 0.5f, T_FAKE);
  if (!s) s = d_pass(gan, real, 1, 2, 0, 0.5f, T_WRONG);
  const clgan_train_config *c = &gan->cfg;
  if (!s) s = clgan_net_adam(gan->d, c->lr_d, c->beta1, c->beta2, c->eps, 0.0f);
  if (s) clgan_error_prefix("D step: ");
  return s;
}

clgan_status clgan_gan_text_g_step(clgan_gan *gan) {
  int n = gan->batch;
  gan->d->rng_step = 4 * gan->step + 3;
  clgan_status s = clgan_net_bind(gan->d, CLGAN_INPUT_TEXT, CLGAN_VIEW(gan->text, 0));
  if (!s) s = clgan_net_forward(gan->d, n, clgan_net_output(gan->g), CLGAN_BN_TRAIN);
  clgan_loss kind = CLGAN_LOSS_BCE;
  switch (gan->cfg.loss) {
    case CLGAN_GLOSS_NS: kind = CLGAN_LOSS_BCE; break;
    case CLGAN_GLOSS_MINIMAX: kind = CLGAN_LOSS_MINIMAX_G; break;
    case CLGAN_GLOSS_LSGAN: kind = CLGAN_LOSS_SQUARED; break;
    case CLGAN_GLOSS_HINGE: kind = CLGAN_LOSS_LINEAR; break;
    case CLGAN_GLOSS_RAGAN:
    case CLGAN_GLOSS_WGAN_GP: break; /* refused by clgan_gan_create */
  }
  if (!s) s = clgan_loss_forward_backward(gan->ctx, kind, 1.0f, n * gan->patches,
                                          clgan_net_output(gan->d), 1.0f,
                                          CLGAN_VIEW(gan->metrics, T_G), CLGAN_VIEW(gan->dlogits, 0));
  /* D frozen: only the data gradient, into G's output gradient */
  clgan_view dfake = CLGAN_VIEW(gan->dfake, 0);
  if (!s) s = clgan_net_backward(gan->d, n, CLGAN_VIEW(gan->dlogits, 0), 0, 0, dfake);
  /* G's backward: the condaug layers add their KL's gradient */
  if (!s) s = clgan_net_backward(gan->g, n, dfake, 1, 0, CLGAN_NONE);
  const clgan_train_config *c = &gan->cfg;
  if (!s) s = clgan_net_adam(gan->g, c->lr_g, c->beta1, c->beta2, c->eps, 0.0f);
  if (s) clgan_error_prefix("G step: ");
  return s;
}

clgan_status clgan_gan_iteration_text(clgan_gan *gan, const float *real, const int32_t *text,
                                      const int32_t *wrong, clgan_step_metrics *m, int norms,
                                      float *d_wrong) {
  if (!gan->text)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s' takes no text", gan->model->name);
  if (!real || !text || !wrong)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "a text-to-image batch needs images, captions "
                       "and mismatched captions");
  const clgan_model *md = gan->model;
  size_t img = (size_t)md->image_c * md->image_h * md->image_w, b = (size_t)gan->batch;
  size_t per = b * CLGAN_TEXT_SAMPLE_INTS;
  clgan_status s = clgan_buffer_write(gan->ctx, gan->text, 0, per * sizeof(int32_t), text);
  if (!s) s = clgan_buffer_write(gan->ctx, gan->text, per * sizeof(int32_t),
                                 per * sizeof(int32_t), wrong);
  if (!s) s = clgan_buffer_write(gan->ctx, gan->real, 0, b * img * sizeof(float), real);
  if (!s) s = clgan_gan_sample_z(gan, gan->step);
  if (!s) s = clgan_gan_text_d_step(gan);
  if (!s && norms)
    s = clgan_reduce_sumsq(gan->ctx, gan->d->desc->param_count, CLGAN_VIEW(gan->d->grads, 0),
                           CLGAN_VIEW(gan->metrics, T_NORM_D));
  if (!s) s = clgan_gan_text_g_step(gan);
  if (!s && norms)
    s = clgan_reduce_sumsq(gan->ctx, gan->g->desc->param_count, CLGAN_VIEW(gan->g->grads, 0),
                           CLGAN_VIEW(gan->metrics, T_NORM_G));
  if (!s) s = clgan_gan_ema_step(gan, gan->step + 1);
  if (s) return clgan_error_prefix("iteration %lld: ", gan->step + 1);
  gan->step++;
  if (!m) return CLGAN_OK;
  float v[T_COUNT];
  s = clgan_buffer_read(gan->ctx, gan->metrics, 0, sizeof v, v);
  if (s) return clgan_error_prefix("iteration %lld: ", gan->step);
  m->loss_d = v[T_REAL] + 0.5f * (v[T_FAKE] + v[T_WRONG]);
  m->loss_g = v[T_G];
  m->loss_content = NAN;
  m->loss_feature = m->penalty = m->grad_norm_x = NAN; /* no feature loss, no penalty */
  m->d_real = v[T_REAL + 1];
  m->d_fake = v[T_FAKE + 1];
  m->d_fake_after = v[T_G + 1];
  m->grad_norm_d = norms ? sqrtf(v[T_NORM_D]) : NAN;
  m->grad_norm_g = norms ? sqrtf(v[T_NORM_G]) : NAN;
  if (d_wrong) *d_wrong = v[T_WRONG + 1];
  if (!isfinite(m->loss_d) || !isfinite(m->loss_g))
    return clgan_error(CLGAN_ERR_NUMERIC, "iteration %lld: the %s's loss is not finite; try a "
                       "lower --lr", gan->step, isfinite(m->loss_d) ? "generator" : "discriminator");
  return CLGAN_OK;
}

clgan_status clgan_net_condaug_kl(clgan_net *g, int n, double *kl, double *min_logvar) {
  const clgan_net_desc *d = g->desc;
  for (int i = 0; i < d->count; i++) {
    const clgan_layer_desc *l = &d->layers[i];
    if (l->kind != CLGAN_LAYER_CONDAUG) continue;
    int dim = l->out_c;
    size_t cnt = (size_t)n * 2 * (size_t)dim;
    float *x = malloc(cnt * sizeof(float));
    if (!x) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    clgan_view v = g->t_view[l->src[0]];
    clgan_status s = clgan_buffer_read(g->ctx, v.mem, v.off * sizeof(float), cnt * sizeof(float), x);
    double sum = 0.0, mn = INFINITY;
    for (int j = 0; j < n && !s; j++)
      for (int k = 0; k < dim; k++) {
        double mu = x[(size_t)j * 2 * dim + k], lv = x[(size_t)j * 2 * dim + dim + k];
        sum += 1.0 + lv - mu * mu - exp(lv);
        if (lv < mn) mn = lv;
      }
    free(x);
    if (s) return s;
    *kl = -0.5 * sum / ((double)n * dim);
    if (min_logvar) *min_logvar = mn;
    return CLGAN_OK;
  }
  return clgan_error(CLGAN_ERR_INVALID_ARG, "the generator has no condaug layer");
}

clgan_status clgan_generate_text(clgan_net *g, const float *z, const int32_t *text, int n,
                                 clgan_bn_mode mode, float *images) {
  int ti = clgan_net_find_input(g->desc, CLGAN_INPUT_TEXT);
  if (ti <= 0 || !text)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "generate from text: the generator takes 'z text' "
                       "and the captions are needed");
  const clgan_net_desc *d = g->desc;
  size_t nz = (size_t)d->in_c * d->in_h * d->in_w, zn = (size_t)g->batch * nz;
  size_t img = (size_t)d->out_c * d->out_h * d->out_w;
  size_t tn = (size_t)g->batch * CLGAN_TEXT_SAMPLE_INTS;
  float *hz = calloc(zn, sizeof(float));
  int32_t *ht = calloc(tn, sizeof(int32_t));
  cl_mem zb = NULL, tb = NULL;
  clgan_view prev = g->bound[ti]; /* a trainer's binding comes back afterwards */
  clgan_status s = hz && ht ? clgan_buffer_create(g->ctx, zn * sizeof(float), "generate.z", &zb)
                            : clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s) s = clgan_buffer_create(g->ctx, tn * sizeof(int32_t), "generate.text", &tb);
  if (!s) s = clgan_net_bind(g, CLGAN_INPUT_TEXT, CLGAN_VIEW(tb, 0));
  for (int at = 0; at < n && !s; at += g->batch) {
    int k = n - at < g->batch ? n - at : g->batch;
    memset(hz, 0, zn * sizeof(float));
    memcpy(hz, z + (size_t)at * nz, (size_t)k * nz * sizeof(float));
    for (size_t i = 0; i < tn; i++) ht[i] = -1; /* empty slots in a short last chunk */
    memcpy(ht, text + (size_t)at * CLGAN_TEXT_SAMPLE_INTS,
           (size_t)k * CLGAN_TEXT_SAMPLE_INTS * sizeof(int32_t));
    s = clgan_buffer_write(g->ctx, zb, 0, zn * sizeof(float), hz);
    if (!s) s = clgan_buffer_write(g->ctx, tb, 0, tn * sizeof(int32_t), ht);
    if (!s) s = clgan_net_forward(g, k, CLGAN_VIEW(zb, 0), mode);
    clgan_view o = clgan_net_output(g);
    if (!s) s = clgan_buffer_read(g->ctx, o.mem, o.off * sizeof(float), (size_t)k * img * sizeof(float),
                                  images + (size_t)at * img);
  }
  g->bound[ti] = prev;
  clgan_buffer_release(&zb);
  clgan_buffer_release(&tb);
  free(hz);
  free(ht);
  return s;
}
