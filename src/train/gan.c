/* The GAN iteration: D step with G frozen, G step through a frozen D, losses, metrics,
 * sampling. Tests: tests/train/test_gan.c, tests/train/test_fixture.c */
#include "clgan/gan.h"
#include "clgan/penalty.h"

#include "clgan/augment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Metric slots in gan->metrics: each loss writes (mean loss, mean sigmoid). */
enum { M_REAL = 0, M_FAKE = 2, M_G = 4, M_NORM_D = 6, M_NORM_G = 7, M_CONTENT = 8, M_FEAT = 10,
       M_COUNT = 16 };

/* Philox key offsets: parameters, per-iteration noise and the fixed noise are separate
 * streams of the one seed. */
#define STREAM_Z 0x5a5a0001ull
#define STREAM_FIXED 0x5a5a0002ull
#define STREAM_LABEL 0x5a5a0003ull /* the classes G is asked for */
#define STREAM_DROP_G 0x5a5a0004ull
#define STREAM_DROP_D 0x5a5a0005ull
#define STREAM_AUG 0x5a5a0006ull /* DiffAugment's parameters */

static const char *loss_names[] = {"ns", "minimax", "lsgan", "hinge", "ragan", "wgan-gp"};

const char *clgan_gan_loss_name(clgan_gan_loss l) {
  return (unsigned)l < sizeof loss_names / sizeof *loss_names ? loss_names[l] : "unknown";
}

int clgan_gan_loss_parse(const char *s, clgan_gan_loss *out) {
  for (int i = 0; i < (int)(sizeof loss_names / sizeof *loss_names); i++)
    if (!strcmp(s, loss_names[i])) {
      *out = (clgan_gan_loss)i;
      return 0;
    }
  return -1;
}

void clgan_train_config_default(clgan_train_config *c) {
  c->batch = 64;
  c->lr_g = c->lr_d = 2e-4f;
  c->beta1 = 0.5f;
  c->beta2 = 0.999f;
  c->eps = 1e-8f;
  c->loss = CLGAN_GLOSS_NS;
  c->seed = 1;
  c->ema_decay = 0.0f;
  c->ema_start = 0;
  c->adv_weight = 1.0f;
  c->content = CLGAN_CONTENT_L1;
  c->content_weight = 100.0f;
  c->d_loss_scale = 0.5f;
  c->feature_weight = 0.0f;
  c->feature_node[0] = '\0';
  c->diffaug = 0;
  c->gp_lambda = 10.0f;
  c->drift_eps = 1e-3f;
  c->r1_gamma = 0.0f;
  c->r1_every = 1;
}

static const char *content_names[] = {"none", "l1", "mse"};

const char *clgan_content_name(clgan_content c) {
  return (unsigned)c < 3 ? content_names[c] : "unknown";
}

int clgan_content_parse(const char *s, clgan_content *out) {
  for (int i = 0; i < 3; i++)
    if (!strcmp(s, content_names[i])) {
      *out = (clgan_content)i;
      return 0;
    }
  return -1;
}

int clgan_model_takes_cond(const clgan_model *m) {
  return clgan_net_find_input(&m->g, CLGAN_INPUT_COND) >= 0 ||
         clgan_net_find_input(&m->d, CLGAN_INPUT_COND) >= 0;
}

/* 1 if G's main input is the conditioning image (image-to-image), 0 if it is z. */
static int g_takes_cond_first(const clgan_model *m) {
  return m->g.ninputs > 0 && m->g.inputs[0].kind == CLGAN_INPUT_COND;
}

clgan_status clgan_gan_create(clgan_ctx *ctx, const clgan_model *m, const clgan_train_config *c,
                              clgan_gan **out) {
  return clgan_gan_create_shard(ctx, m, c, c->batch, 0, out);
}

clgan_status clgan_gan_create_shard(clgan_ctx *ctx, const clgan_model *m,
                                    const clgan_train_config *c, int batch, int off,
                                    clgan_gan **out) {
  *out = NULL;
  if (batch < 1 || off < 0 || off > c->batch - batch)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "shard of %d samples at %d does not fit a global "
                       "batch of %d", batch, off, c->batch);
  if (m->kind == CLGAN_MODEL_CLASSIFIER)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s' is a classifier, not a GAN: train it "
                       "with 'clgan classify train'", m->name);
  clgan_gan *gan = calloc(1, sizeof *gan);
  if (!gan) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  gan->ctx = ctx;
  gan->model = m;
  gan->cfg = *c;
  clgan_status s = CLGAN_OK;
  /* what this trainer feeds: z, a label and a conditioning image to G, the image, a label
   * and the conditioning image to D */
  const clgan_net_desc *nets[2] = {&m->g, &m->d};
  for (int k = 0; k < 2 && !s; k++)
    for (int j = 0; j < nets[k]->ninputs && !s; j++) {
      clgan_input_kind ik = nets[k]->inputs[j].kind;
      int ok = ik == CLGAN_INPUT_LABEL || ik == CLGAN_INPUT_COND || ik == CLGAN_INPUT_TEXT ||
               ik == (k ? CLGAN_INPUT_IMAGE : CLGAN_INPUT_Z);
      if (!ok)
        s = clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': the %s takes a '%s' input, which "
                        "this trainer does not feed (it feeds z, a label and a cond image to "
                        "the generator, the image, a label and the cond image to the "
                        "discriminator)", m->name, k ? "discriminator" : "generator",
                        clgan_input_kind_name(ik));
    }
  if (!s && clgan_net_find_input(&m->g, CLGAN_INPUT_Z) != 0 && !g_takes_cond_first(m))
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': the generator's first input must be z "
                    "(or cond, image-to-image) for this trainer", m->name);
  int cond = clgan_model_takes_cond(m);
  if (!s && cond && c->feature_weight > 0.0f) { /* the feature loss's node, before any work */
    const char *fn = c->feature_node[0] ? c->feature_node : "feat";
    int found = 0;
    for (int i = 0; i < m->d.count; i++) found |= !strcmp(m->d.layers[i].name, fn);
    if (!found)
      s = clgan_error(CLGAN_ERR_INVALID_ARG, "the feature loss needs a node named '%s' in the "
                      "discriminator of model '%s' (write '%s:' before the layer whose output "
                      "are the features)", fn, m->name, fn);
  }
  if (!s && c->loss == CLGAN_GLOSS_RAGAN && (!cond || batch != c->batch))
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "the relativistic-average loss (ragan) is for "
                    "image-to-image models on one device (its means span the whole batch)");
  if (!s && cond && g_takes_cond_first(m) && clgan_net_find_input(&m->g, CLGAN_INPUT_Z) >= 0)
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': a generator taking cond first takes "
                    "no z (pix2pix's noise is dropout)", m->name);
  if (!s && cond && clgan_net_find_input(&m->g, CLGAN_INPUT_COND) < 0)
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': the discriminator takes cond but the "
                    "generator does not", m->name);
  if (!s && cond &&
      (!(c->adv_weight >= 0.0f && c->adv_weight < 1e30f) ||
       !(c->content_weight >= 0.0f && c->content_weight < 1e30f) ||
       !(c->d_loss_scale > 0.0f && c->d_loss_scale < 1e30f) ||
       !(c->feature_weight >= 0.0f && c->feature_weight < 1e30f) ||
       (c->content != CLGAN_CONTENT_NONE && c->content != CLGAN_CONTENT_L1 &&
        c->content != CLGAN_CONTENT_MSE)))
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': bad image-to-image loss weights "
                    "(adversarial %g, content %g, D scale %g: weights >= 0, D scale > 0)",
                    m->name, (double)c->adv_weight, (double)c->content_weight,
                    (double)c->d_loss_scale);
  if (!s && cond && c->adv_weight == 0.0f &&
      (c->content == CLGAN_CONTENT_NONE || c->content_weight == 0.0f))
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': with no adversarial weight G needs a "
                    "content loss", m->name);
  if (!s && (c->diffaug & ~CLGAN_AUG_ALL || (c->diffaug && cond)))
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': DiffAugment %s", m->name,
                    cond ? "is for models without a 'cond' input (it would have to move the "
                           "image and its condition together)" : "policy has unknown bits");
  if (!s) s = clgan_gan_penalty_check(m, c); /* WGAN-GP / R1: D must have a double backward */
  if (!s && c->diffaug && (c->loss == CLGAN_GLOSS_WGAN_GP || c->r1_gamma != 0.0f))
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': DiffAugment with a gradient penalty "
                    "(wgan-gp, r1) is not supported yet: the penalty's D pass does not augment",
                    m->name);
  if (!s && clgan_model_takes_text(m) &&
      (c->diffaug || c->loss == CLGAN_GLOSS_RAGAN || c->loss == CLGAN_GLOSS_WGAN_GP))
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': a text-to-image model trains with ns, "
                    "minimax, lsgan or hinge and without DiffAugment (its matching-aware D step "
                    "has no %s yet)", m->name, c->diffaug ? "augmentation" : "such loss");
  if (s) {
    free(gan);
    return s;
  }
  size_t need = clgan_net_device_bytes(&m->g, batch, 1) + clgan_net_device_bytes(&m->d, batch, 1);
  if (ctx->info.global_mem && need > ctx->info.global_mem) {
    int fit = batch;
    while (fit > 1 && clgan_net_device_bytes(&m->g, fit, 1) + clgan_net_device_bytes(&m->d, fit, 1) >
                          ctx->info.global_mem / 10 * 9)
      fit /= 2;
    s = clgan_error(CLGAN_ERR_NOMEM, "batch %d needs %.0f MiB of device memory, more than "
                    "'%s' has (%.0f MiB); try --batch %d", batch, need / 1048576.0,
                    ctx->info.name, ctx->info.global_mem / 1048576.0, fit);
  }
  if (!s) s = clgan_net_create(ctx, &m->g, batch, 1, "G", &gan->g);
  if (!s) s = clgan_net_create(ctx, &m->d, batch, 1, "D", &gan->d);
  if (!s && (c->loss == CLGAN_GLOSS_WGAN_GP || c->r1_gamma != 0.0f))
    s = clgan_gan_penalty_create(gan, m, batch); /* refuses a D without a double backward */
  gan->patches = m->d.out_h * m->d.out_w;
  if (!s) s = clgan_buffer_create(ctx, (size_t)batch * (size_t)gan->patches * sizeof(float),
                                  "dlogits", &gan->dlogits);
  if (!s) s = clgan_buffer_create(ctx, M_COUNT * sizeof(float), "metrics", &gan->metrics);
  if (!s) s = clgan_fill(ctx, M_COUNT, 0.0f, CLGAN_VIEW(gan->metrics, 0));
  size_t img = (size_t)m->image_c * m->image_h * m->image_w;
  if (!s) s = clgan_buffer_create(ctx, (size_t)batch * img * sizeof(float), "real batch", &gan->real);
  if (!s) s = clgan_buffer_create(ctx, (size_t)batch * img * sizeof(float), "G's output gradient",
                                  &gan->dfake);
  for (int i = 0; i < 4 && !s && c->diffaug; i++) {
    static const char *what[4] = {"D's augmented input", "its gradient", "DiffAugment's "
                                  "parameters", "DiffAugment's scratch"};
    size_t each[4] = {img, img, CLGAN_AUG_PARAMS, 2};
    s = clgan_buffer_create(ctx, (size_t)batch * each[i] * sizeof(float), what[i], &gan->aug[i]);
  }
  if (!s && c->ema_decay > 0.0f)
    s = clgan_buffer_create(ctx, (m->g.param_count ? m->g.param_count : 1) * sizeof(float),
                            "G's EMA", &gan->ema);
  if (!s && m->classes) {
    /* labels: the real batch's, then the classes G is asked for */
    s = clgan_buffer_create(ctx, 2 * (size_t)batch * sizeof(int32_t), "labels", &gan->labels);
    if (!s) s = clgan_net_bind(gan->g, CLGAN_INPUT_LABEL, CLGAN_VIEW(gan->labels, (size_t)batch));
  }
  if (!s && cond) {
    size_t cs = (size_t)m->cond_c * m->cond_h * m->cond_w;
    s = clgan_buffer_create(ctx, (size_t)batch * cs * sizeof(float), "cond batch", &gan->cond);
    if (!s) s = clgan_fill(ctx, (size_t)batch * cs, 0.0f, CLGAN_VIEW(gan->cond, 0));
    if (!s && !g_takes_cond_first(m)) s = clgan_net_bind(gan->g, CLGAN_INPUT_COND, CLGAN_VIEW(gan->cond, 0));
    if (!s) s = clgan_net_bind(gan->d, CLGAN_INPUT_COND, CLGAN_VIEW(gan->cond, 0));
  }
  gan->batch = batch;
  gan->shard_off = off;
  if (!s && clgan_model_takes_text(m)) s = clgan_gan_text_setup(gan); /* src/train/gan_text.c */
  if (!s) {
    gan->g->rng_seed = c->seed + STREAM_DROP_G;
    gan->d->rng_seed = c->seed + STREAM_DROP_D;
    if (batch != c->batch) { /* a shard: its place in the global batch */
      gan->g->global_batch = gan->d->global_batch = c->batch;
      gan->g->sample_off = gan->d->sample_off = off;
    }
  }
  if (s) {
    clgan_gan_free(gan);
    return s;
  }
  *out = gan;
  return CLGAN_OK;
}

void clgan_gan_free(clgan_gan *gan) {
  if (!gan) return;
  clgan_gan_feat_free(gan->feat);
  clgan_net_free(gan->g);
  clgan_net_free(gan->d);
  clgan_buffer_release(&gan->dlogits);
  clgan_buffer_release(&gan->metrics);
  clgan_buffer_release(&gan->real);
  clgan_buffer_release(&gan->dfake);
  clgan_buffer_release(&gan->labels);
  clgan_buffer_release(&gan->cond);
  clgan_buffer_release(&gan->text);
  clgan_buffer_release(&gan->ema);
  clgan_gan_penalty_free(gan);
  for (int i = 0; i < 9; i++) clgan_buffer_release(&gan->snap[i]);
  for (int i = 0; i < 4; i++) clgan_buffer_release(&gan->aug[i]);
  free(gan);
}

static clgan_status init_net(clgan_net *net, unsigned long long seed, int which) {
  const clgan_net_desc *d = net->desc;
  float *p = malloc((d->param_count ? d->param_count : 1) * sizeof(float));
  float *st = malloc((d->stat_count ? d->stat_count : 1) * sizeof(float));
  clgan_status s;
  if (!p || !st) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  } else {
    clgan_net_init_params(d, seed, which, p, st);
    s = clgan_net_set_params(net, p, st);
  }
  free(p);
  free(st);
  return s;
}

clgan_status clgan_gan_init_params(clgan_gan *gan) {
  clgan_status s = init_net(gan->g, gan->cfg.seed, 0);
  if (!s) s = init_net(gan->d, gan->cfg.seed, 1);
  /* the EMA starts as G's initial weights */
  if (!s && gan->ema && gan->g->desc->param_count)
    s = clgan_copy(gan->ctx, gan->g->desc->param_count, CLGAN_VIEW(gan->g->params, 0),
                   CLGAN_VIEW(gan->ema, 0));
  return s;
}

clgan_status clgan_gan_ema_step(clgan_gan *gan, long long step) {
  size_t n = gan->g->desc->param_count;
  if (!gan->ema || !n) return CLGAN_OK;
  float decay = step <= gan->cfg.ema_start ? 0.0f : gan->cfg.ema_decay;
  clgan_view p = CLGAN_VIEW(gan->g->params, 0), e = CLGAN_VIEW(gan->ema, 0);
  /* decay 0 is a copy: fma(0, e, 1 * p) = p for a finite e */
  clgan_status s = decay == 0.0f ? clgan_copy(gan->ctx, n, p, e)
                                 : clgan_ema_update(gan->ctx, n, decay, p, e);
  if (s) clgan_error_prefix("G's EMA: ");
  return s;
}

void clgan_gan_use_ema(clgan_gan *gan, int on) {
  if (!gan->ema || !on == !gan->ema_shown) return;
  cl_mem t = gan->g->params; /* swap handles: the other one waits in gan->ema */
  gan->g->params = gan->ema;
  gan->ema = t;
  gan->ema_shown = on != 0;
}

clgan_status clgan_gan_sample_z(clgan_gan *gan, long long step) {
  if (clgan_net_find_input(&gan->model->g, CLGAN_INPUT_Z) < 0) return CLGAN_OK;
  size_t nz = (size_t)gan->model->nz, n = (size_t)gan->batch * nz;
  /* a shard draws its samples' part of the global batch's noise */
  unsigned long long at = ((unsigned long long)step * (unsigned long long)gan->cfg.batch +
                           (unsigned long long)gan->shard_off) * nz;
  return clgan_rng_normal(gan->ctx, n, gan->cfg.seed + STREAM_Z, at, 0.0f, 1.0f,
                          clgan_net_input(gan->g));
}

/* A shard's losses count as its share of the global batch's mean (1 on one device). */
static float loss_scale(const clgan_gan *gan) {
  return gan->batch == gan->cfg.batch ? 1.0f : (float)gan->batch / (float)gan->cfg.batch;
}

/* The data-parallel hooks, on the nets only for the training step that uses them. */
static void replica_attach(clgan_gan *gan, int on) {
  clgan_net *nets[2] = {gan->g, gan->d};
  for (int k = 0; k < 2; k++) {
    nets[k]->replica_sum = on ? gan->replica.sum : NULL;
    nets[k]->layer_grads_done = on ? gan->replica.layer_grads_done : NULL;
    nets[k]->replica_user = on ? gan->replica.user : NULL;
    nets[k]->notify_grads = 0;
  }
}

/* The last backward before net's Adam step: its layers report their final gradients. */
static clgan_status final_backward(clgan_gan *gan, clgan_net *net, int n, clgan_view dout,
                                   int accumulate) {
  net->notify_grads = 1;
  clgan_status s = clgan_net_backward(net, n, dout, 1, accumulate, CLGAN_NONE);
  net->notify_grads = 0;
  if (!s && gan->replica.reduce_grads) s = gan->replica.reduce_grads(gan->replica.user, net);
  return s;
}

/* Loss of D's logits for the real (real=1) or fake (real=0) batch, per the GAN loss. */
static clgan_status d_loss(clgan_gan *gan, int real, int slot) {
  clgan_loss kind = CLGAN_LOSS_BCE;
  float t = real ? 1.0f : 0.0f;
  if (gan->cfg.loss == CLGAN_GLOSS_LSGAN) kind = CLGAN_LOSS_SQUARED;
  if (gan->cfg.loss == CLGAN_GLOSS_HINGE) {
    kind = CLGAN_LOSS_HINGE;
    t = real ? 1.0f : -1.0f;
  }
  if (gan->cfg.loss == CLGAN_GLOSS_WGAN_GP) { /* -D(x), +D(G(z)) */
    kind = CLGAN_LOSS_LINEAR;
    t = real ? 1.0f : -1.0f;
  }
  /* a PatchGAN's map: the mean over every patch of every image */
  float scale = (gan->cond ? gan->cfg.d_loss_scale : 1.0f) * loss_scale(gan);
  return clgan_loss_forward_backward(gan->ctx, kind, t, gan->batch * gan->patches,
                                     clgan_net_output(gan->d), scale,
                                     CLGAN_VIEW(gan->metrics, (size_t)slot),
                                     CLGAN_VIEW(gan->dlogits, 0));
}

static clgan_status g_loss(clgan_gan *gan) {
  clgan_loss kind = CLGAN_LOSS_BCE;
  switch (gan->cfg.loss) {
    case CLGAN_GLOSS_NS: kind = CLGAN_LOSS_BCE; break;
    case CLGAN_GLOSS_MINIMAX: kind = CLGAN_LOSS_MINIMAX_G; break;
    case CLGAN_GLOSS_LSGAN: kind = CLGAN_LOSS_SQUARED; break;
    case CLGAN_GLOSS_HINGE: kind = CLGAN_LOSS_LINEAR; break;
    case CLGAN_GLOSS_RAGAN: break; /* never here: ragan_g_step */
    case CLGAN_GLOSS_WGAN_GP: kind = CLGAN_LOSS_LINEAR; break;
  }
  float scale = (gan->cond ? gan->cfg.adv_weight : 1.0f) * loss_scale(gan);
  return clgan_loss_forward_backward(gan->ctx, kind, 1.0f, gan->batch * gan->patches,
                                     clgan_net_output(gan->d), scale,
                                     CLGAN_VIEW(gan->metrics, M_G), CLGAN_VIEW(gan->dlogits, 0));
}

/* D's label input: the real batch's labels or the classes G was asked for. Each of D's
 * three forwards in an iteration draws its own dropout masks. */
static clgan_status d_inputs(clgan_gan *gan, int fake, int pass) {
  gan->d->rng_step = 3 * gan->step + pass;
  if (!gan->labels) return CLGAN_OK;
  return clgan_net_bind(gan->d, CLGAN_INPUT_LABEL,
                        CLGAN_VIEW(gan->labels, fake ? (size_t)gan->batch : 0));
}

/* DiffAugment of D's input x (which: 0 the real batch, 1 the fakes of the D step, 2 those
 * of the G step, each with its own draw), into gan->aug[0]; *dx is what D reads: x itself
 * with DiffAugment off. The parameters are value (3 step + which) * batch + sample of the
 * global batch, times 8, of the seed's own stream, so a resumed run draws the same. */
static clgan_status augment(clgan_gan *gan, int which, clgan_view x, clgan_view *dx) {
  *dx = x;
  unsigned pol = gan->cfg.diffaug;
  if (!pol) return CLGAN_OK;
  const clgan_model *m = gan->model;
  int b = gan->batch;
  float *p = malloc((size_t)b * CLGAN_AUG_PARAMS * sizeof *p);
  if (!p) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  unsigned long long at = ((unsigned long long)(3 * gan->step + which) *
                               (unsigned long long)gan->cfg.batch +
                           (unsigned long long)gan->shard_off) * CLGAN_AUG_PARAMS;
  clgan_diffaug_params(pol, m->image_h, m->image_w, gan->cfg.seed + STREAM_AUG, at, b, p);
  clgan_status s = clgan_buffer_write(gan->ctx, gan->aug[2], 0,
                                      (size_t)b * CLGAN_AUG_PARAMS * sizeof *p, p);
  free(p);
  if (!s) s = clgan_diffaug_forward(gan->ctx, pol, b, m->image_c, m->image_h, m->image_w,
                                    CLGAN_VIEW(gan->aug[2], 0), CLGAN_VIEW(gan->aug[3], 0), x,
                                    CLGAN_VIEW(gan->aug[0], 0));
  *dx = CLGAN_VIEW(gan->aug[0], 0);
  return s;
}

clgan_status clgan_gan_d_step(clgan_gan *gan) {
  int n = gan->batch;
  replica_attach(gan, 1);
  clgan_view dl = CLGAN_VIEW(gan->dlogits, 0);
  /* G runs forward only: its output is a constant for D, nothing flows back into G */
  gan->g->rng_step = gan->step;
  clgan_view gx = gan->cond && g_takes_cond_first(gan->model) ? CLGAN_VIEW(gan->cond, 0) : CLGAN_NONE;
  clgan_status s = clgan_net_forward(gan->g, n, gx, CLGAN_BN_TRAIN);
  clgan_view dx = CLGAN_NONE;
  if (!s && gan->pen) { /* WGAN-GP or R1: D's gradient in src/train/penalty.c */
    s = clgan_gan_d_grads_penalised(gan, clgan_net_output(gan->g), NULL);
    goto adam;
  }
  if (!s) s = d_inputs(gan, 0, 0);
  if (!s) s = augment(gan, 0, CLGAN_VIEW(gan->real, 0), &dx);
  if (!s) s = clgan_net_forward(gan->d, n, dx, CLGAN_BN_TRAIN);
  if (!s) s = d_loss(gan, 1, M_REAL);
  if (!s) s = clgan_net_backward(gan->d, n, dl, 1, 0, CLGAN_NONE);
  if (!s) s = d_inputs(gan, 1, 1);
  if (!s) s = augment(gan, 1, clgan_net_output(gan->g), &dx);
  if (!s) s = clgan_net_forward(gan->d, n, dx, CLGAN_BN_TRAIN);
  if (!s) s = d_loss(gan, 0, M_FAKE);
  if (!s) s = final_backward(gan, gan->d, n, dl, 1);
adam:;
  const clgan_train_config *c = &gan->cfg;
  if (!s) s = clgan_net_adam(gan->d, c->lr_d, c->beta1, c->beta2, c->eps, 0.0f);
  replica_attach(gan, 0);
  if (s) clgan_error_prefix("D step: ");
  return s;
}

clgan_status clgan_gan_g_step(clgan_gan *gan) {
  int n = gan->batch;
  replica_attach(gan, 1);
  /* D frozen: forward, then only the data gradient, landing in G's gradient buffer */
  clgan_view dfake = CLGAN_VIEW(gan->dfake, 0);
  clgan_view dx = CLGAN_NONE;
  clgan_status s = d_inputs(gan, 1, 2);
  if (!s) s = augment(gan, 2, clgan_net_output(gan->g), &dx);
  if (!s) s = clgan_net_forward(gan->d, n, dx, CLGAN_BN_TRAIN);
  if (!s) s = g_loss(gan);
  /* the content-only ablation: D's forward is only for the logs, no gradient through it */
  int adv = !gan->cond || gan->cfg.adv_weight != 0.0f;
  /* DiffAugment: D's data gradient is for the augmented fakes; its backward takes it to G */
  clgan_view ddx = gan->cfg.diffaug ? CLGAN_VIEW(gan->aug[1], 0) : dfake;
  if (!s && adv) s = clgan_net_backward(gan->d, n, CLGAN_VIEW(gan->dlogits, 0), 0, 0, ddx);
  if (!s && adv && gan->cfg.diffaug) {
    const clgan_model *m = gan->model;
    s = clgan_diffaug_backward(gan->ctx, gan->cfg.diffaug, n, m->image_c, m->image_h,
                               m->image_w, CLGAN_VIEW(gan->aug[2], 0), CLGAN_VIEW(gan->aug[3], 0),
                               ddx, dfake);
  }
  if (!s && gan->cond && gan->cfg.content != CLGAN_CONTENT_NONE) {
    const clgan_model *m = gan->model;
    size_t img = (size_t)m->image_c * m->image_h * m->image_w;
    s = clgan_content_loss(gan->ctx, gan->cfg.content, (size_t)n * img, clgan_net_output(gan->g),
                           CLGAN_VIEW(gan->real, 0), gan->cfg.content_weight * loss_scale(gan),
                           CLGAN_VIEW(gan->metrics, M_CONTENT), dfake, adv);
  }
  if (!s && gan->cond && gan->cfg.feature_weight > 0.0f)
    s = clgan_gan_feature_loss(gan, M_FEAT, dfake, adv || gan->cfg.content != CLGAN_CONTENT_NONE);
  if (!s) s = final_backward(gan, gan->g, n, dfake, 0);
  const clgan_train_config *c = &gan->cfg;
  if (!s) s = clgan_net_adam(gan->g, c->lr_g, c->beta1, c->beta2, c->eps, 0.0f);
  replica_attach(gan, 0);
  if (s) clgan_error_prefix("G step: ");
  return s;
}

/* The plain D step's pieces, for the penalised one (src/train/penalty.c) */
clgan_status clgan_gan_d_loss(clgan_gan *gan, int real, int slot) { return d_loss(gan, real, slot); }
clgan_status clgan_gan_d_inputs(clgan_gan *gan, int fake, int pass) {
  return d_inputs(gan, fake, pass);
}
clgan_status clgan_gan_final_backward(clgan_gan *gan, clgan_net *net, int n, clgan_view dout,
                                      int accumulate) {
  return final_backward(gan, net, n, dout, accumulate);
}
float clgan_gan_loss_scale(const clgan_gan *gan) { return loss_scale(gan); }

void clgan_gan_fake_labels(const clgan_gan *gan, long long step, int32_t *out) {
  int b = gan->batch, k = gan->model->classes;
  unsigned long long gb = (unsigned long long)gan->cfg.batch, at = (unsigned long long)gan->shard_off;
  for (int i = 0; i < b; i++) { /* value i of the stream, as a batch-sized draw would give */
    float u;
    clgan_philox_uniform(1, gan->cfg.seed + STREAM_LABEL,
                         (unsigned long long)step * gb + at + (unsigned long long)i, 0.0f, 1.0f,
                         &u);
    int c = (int)(u * (float)k);
    out[i] = c < k ? c : k - 1;
  }
}

clgan_status clgan_gan_iteration(clgan_gan *gan, const float *real, clgan_step_metrics *m,
                                 int norms) {
  return clgan_gan_iteration_labels(gan, real, NULL, m, norms);
}

clgan_status clgan_gan_iteration_labels(clgan_gan *gan, const float *real, const int32_t *labels,
                                        clgan_step_metrics *m, int norms) {
  if (gan->cond)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s' is image-to-image: its batches need "
                       "the conditioning images (clgan_gan_iteration_cond)", gan->model->name);
  return clgan_gan_iteration_cond(gan, real, NULL, labels, m, norms);
}

/* ---- the relativistic-average GAN loss (ESRGAN; BasicSR's ESRGANModel), on the host ----
 * D's logits are few (batch x patches), so the loss and its gradient are computed in double
 * on the host from the downloaded logits; the order of D's forwards is BasicSR's, so batch
 * norm's running statistics move as there. With C = D's logits, mean over all N of them:
 *   D: dls * (BCE(C(real) - mean C(fake), 1) + BCE(C(fake) - mean C(real), 0))
 *   G: adv * (BCE(C(real) - mean C(fake), 0) + BCE(C(fake) - mean C(real), 1)) / 2
 * (dls = d_loss_scale, 0.5 as BasicSR's; each BCE the mean over N). Metric slots: the losses'
 * parts and the mean relativistic probabilities sigmoid(C(real) - mean C(fake)) and
 * sigmoid(C(fake) - mean C(real)). */
static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

static clgan_status logits_get(clgan_gan *gan, float *out) {
  clgan_view o = clgan_net_output(gan->d);
  return clgan_buffer_read(gan->ctx, o.mem, o.off * sizeof(float),
                           (size_t)gan->batch * gan->patches * sizeof(float), out);
}

static double mean_of(const float *v, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += v[i];
  return s / n;
}

static clgan_status ragan_d_step(clgan_gan *gan) {
  int b = gan->batch, n = b * gan->patches;
  float *lr = malloc(sizeof(float) * 3 * (size_t)n), *lf = lr + n, *dl = lf + n;
  if (!lr) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  clgan_view dlv = CLGAN_VIEW(gan->dlogits, 0);
  gan->g->rng_step = gan->step;
  clgan_view gx = CLGAN_VIEW(gan->cond, 0);
  clgan_status s = clgan_net_forward(gan->g, b, gx, CLGAN_BN_TRAIN);
  /* fake first (no gradient), then real, whose backward runs; then fake again */
  if (!s) s = d_inputs(gan, 1, 1);
  if (!s) s = clgan_net_forward(gan->d, b, clgan_net_output(gan->g), CLGAN_BN_TRAIN);
  if (!s) s = logits_get(gan, lf);
  if (!s) s = d_inputs(gan, 0, 0);
  if (!s) s = clgan_net_forward(gan->d, b, CLGAN_VIEW(gan->real, 0), CLGAN_BN_TRAIN);
  if (!s) s = logits_get(gan, lr);
  if (s) goto done;
  double mr = mean_of(lr, n), mf = mean_of(lf, n), dls = gan->cfg.d_loss_scale;
  double l_real = 0, l_fake = 0, p_real = 0, p_fake = 0;
  for (int i = 0; i < n; i++) {
    double xr = lr[i] - mf, xf = lf[i] - mr;
    l_real += softplus(-xr) / n, p_real += sigm(xr) / n;
    l_fake += softplus(xf) / n, p_fake += sigm(xf) / n;
    dl[i] = (float)(dls * (sigm(xr) - 1.0) / n);
  }
  s = clgan_buffer_write(gan->ctx, gan->dlogits, 0, sizeof(float) * (size_t)n, dl);
  if (!s) s = clgan_net_backward(gan->d, b, dlv, 1, 0, CLGAN_NONE);
  if (!s) s = d_inputs(gan, 1, 1);
  if (!s) s = clgan_net_forward(gan->d, b, clgan_net_output(gan->g), CLGAN_BN_TRAIN);
  for (int i = 0; i < n; i++) dl[i] = (float)(dls * sigm(lf[i] - mr) / n);
  if (!s) s = clgan_buffer_write(gan->ctx, gan->dlogits, 0, sizeof(float) * (size_t)n, dl);
  if (!s) s = final_backward(gan, gan->d, b, dlv, 1);
  const clgan_train_config *c = &gan->cfg;
  if (!s) s = clgan_net_adam(gan->d, c->lr_d, c->beta1, c->beta2, c->eps, 0.0f);
  float mv[4] = {(float)l_real, (float)p_real, (float)l_fake, (float)p_fake};
  if (!s) s = clgan_buffer_write(gan->ctx, gan->metrics, M_REAL * sizeof(float), sizeof mv, mv);
done:
  free(lr);
  if (s) clgan_error_prefix("D step (ragan): ");
  return s;
}

static clgan_status ragan_g_step(clgan_gan *gan) {
  int b = gan->batch, n = b * gan->patches;
  float *lr = malloc(sizeof(float) * 3 * (size_t)n), *lf = lr + n, *dl = lf + n;
  if (!lr) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  clgan_view dfake = CLGAN_VIEW(gan->dfake, 0);
  /* D frozen: real (no gradient), then G's output, whose data gradient flows into G */
  clgan_status s = d_inputs(gan, 0, 2);
  if (!s) s = clgan_net_forward(gan->d, b, CLGAN_VIEW(gan->real, 0), CLGAN_BN_TRAIN);
  if (!s) s = logits_get(gan, lr);
  if (!s) s = d_inputs(gan, 1, 2);
  if (!s) s = clgan_net_forward(gan->d, b, clgan_net_output(gan->g), CLGAN_BN_TRAIN);
  if (!s) s = logits_get(gan, lf);
  if (s) goto done;
  double mr = mean_of(lr, n), mf = mean_of(lf, n), w = gan->cfg.adv_weight;
  double l_g = 0, p_fake = 0, pr_mean = 0;
  for (int i = 0; i < n; i++) {
    double xr = lr[i] - mf, xf = lf[i] - mr;
    l_g += 0.5 * (softplus(xr) + softplus(-xf)) / n;
    p_fake += sigm(xf) / n;
    pr_mean += sigm(xr) / n;
  }
  /* d/dC(fake)_i: 0.5 * ((sigmoid(xf_i) - 1) / N - mean_j sigmoid(xr_j) / N) */
  for (int i = 0; i < n; i++)
    dl[i] = (float)(w * 0.5 * ((sigm(lf[i] - mr) - 1.0) - pr_mean) / n);
  s = clgan_buffer_write(gan->ctx, gan->dlogits, 0, sizeof(float) * (size_t)n, dl);
  float mv[2] = {(float)l_g, (float)p_fake};
  if (!s) s = clgan_buffer_write(gan->ctx, gan->metrics, M_G * sizeof(float), sizeof mv, mv);
  int adv = w != 0.0;
  if (!s && adv) s = clgan_net_backward(gan->d, b, CLGAN_VIEW(gan->dlogits, 0), 0, 0, dfake);
  if (!s && gan->cfg.content != CLGAN_CONTENT_NONE) {
    const clgan_model *m = gan->model;
    size_t img = (size_t)m->image_c * m->image_h * m->image_w;
    s = clgan_content_loss(gan->ctx, gan->cfg.content, (size_t)b * img, clgan_net_output(gan->g),
                           CLGAN_VIEW(gan->real, 0), gan->cfg.content_weight,
                           CLGAN_VIEW(gan->metrics, M_CONTENT), dfake, adv);
  }
  if (!s && gan->cfg.feature_weight > 0.0f)
    s = clgan_gan_feature_loss(gan, M_FEAT, dfake, adv || gan->cfg.content != CLGAN_CONTENT_NONE);
  if (!s && !adv && gan->cfg.content == CLGAN_CONTENT_NONE && gan->cfg.feature_weight == 0.0f)
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "G has no loss (adversarial weight 0, no content)");
  if (!s) s = final_backward(gan, gan->g, b, dfake, 0);
  const clgan_train_config *c = &gan->cfg;
  if (!s) s = clgan_net_adam(gan->g, c->lr_g, c->beta1, c->beta2, c->eps, 0.0f);
done:
  free(lr);
  if (s) clgan_error_prefix("G step (ragan): ");
  return s;
}

clgan_status clgan_gan_iteration_cond(clgan_gan *gan, const float *real, const float *cond,
                                      const int32_t *labels, clgan_step_metrics *m, int norms) {
  size_t img = (size_t)gan->model->image_c * gan->model->image_h * gan->model->image_w;
  size_t n = (size_t)gan->batch * img;
  int k = gan->model->classes, b = gan->batch;
  if (k && !labels)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s' is conditional (%d classes): the "
                       "real batch needs its labels", gan->model->name, k);
  if (gan->cond && !cond)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s' is image-to-image: the batch needs "
                       "its conditioning images", gan->model->name);
  if (gan->text)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s' is text-to-image: its batches need "
                       "captions (clgan_gan_iteration_text)", gan->model->name);
  clgan_status s = CLGAN_OK;
  if (gan->cond) { /* written whole, as the real batch below */
    const clgan_model *md = gan->model;
    size_t cs = (size_t)md->cond_c * md->cond_h * md->cond_w;
    s = clgan_buffer_write(gan->ctx, gan->cond, 0, (size_t)b * cs * sizeof(float), cond);
    if (s) return clgan_error_prefix("iteration %lld: ", gan->step + 1);
  }
  if (k) {
    int32_t *lab = malloc(2 * (size_t)b * sizeof *lab);
    if (!lab) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    for (int i = 0; i < b && !s; i++)
      if (labels[i] < 0 || labels[i] >= k)
        s = clgan_error(CLGAN_ERR_INVALID_ARG, "label %d of the real batch is %d, outside the "
                        "model's classes 0..%d", i, (int)labels[i], k - 1);
    memcpy(lab, labels, (size_t)b * sizeof *lab);
    clgan_gan_fake_labels(gan, gan->step, lab + b);
    if (!s) s = clgan_buffer_write(gan->ctx, gan->labels, 0, 2 * (size_t)b * sizeof *lab, lab);
    free(lab);
    if (s) return clgan_error_prefix("iteration %lld: ", gan->step + 1);
  }
  /* A buffer of its own, written whole, that D reads as its input: never a host write of
   * part of D's arena, which would resize Oclgrind's uninitialised-value shadow of the
   * whole arena to that part (docs/ERRORS.md, tests/reliability/oclgrind_shadow.c). */
  s = clgan_buffer_write(gan->ctx, gan->real, 0, n * sizeof(float), real);
  if (!s) s = clgan_gan_sample_z(gan, gan->step);
  if (!s && gan->cfg.loss == CLGAN_GLOSS_RAGAN) {
    s = ragan_d_step(gan);
    if (!s) s = ragan_g_step(gan);
    if (!s) s = clgan_gan_ema_step(gan, gan->step + 1);
    if (s) return clgan_error_prefix("iteration %lld: ", gan->step + 1);
    goto stepped;
  }
  if (!s) s = clgan_gan_d_step(gan);
  if (!s && norms)
    s = clgan_reduce_sumsq(gan->ctx, gan->d->desc->param_count, CLGAN_VIEW(gan->d->grads, 0),
                           CLGAN_VIEW(gan->metrics, M_NORM_D));
  if (!s) s = clgan_gan_g_step(gan);
  if (!s && norms)
    s = clgan_reduce_sumsq(gan->ctx, gan->g->desc->param_count, CLGAN_VIEW(gan->g->grads, 0),
                           CLGAN_VIEW(gan->metrics, M_NORM_G));
  if (!s) s = clgan_gan_ema_step(gan, gan->step + 1);
  if (s) return clgan_error_prefix("iteration %lld: ", gan->step + 1);
stepped:
  gan->step++;
  if (!m) return CLGAN_OK;
  float v[M_COUNT];
  s = clgan_buffer_read(gan->ctx, gan->metrics, 0, sizeof v, v);
  if (s) return clgan_error_prefix("iteration %lld: ", gan->step);
  m->loss_d = gan->cond ? gan->cfg.d_loss_scale * (v[M_REAL] + v[M_FAKE]) : v[M_REAL] + v[M_FAKE];
  m->loss_content = gan->cond && gan->cfg.content != CLGAN_CONTENT_NONE ? v[M_CONTENT] : NAN;
  m->loss_feature = gan->cond && gan->cfg.feature_weight > 0.0f ? v[M_FEAT] : NAN;
  m->loss_g = v[M_G];
  m->d_real = v[M_REAL + 1];
  m->d_fake = v[M_FAKE + 1];
  m->d_fake_after = v[M_G + 1];
  m->grad_norm_d = norms ? sqrtf(v[M_NORM_D]) : NAN;
  m->grad_norm_g = norms ? sqrtf(v[M_NORM_G]) : NAN;
  m->penalty = m->grad_norm_x = NAN;
  if (gan->pen) /* the penalty (and WGAN's drift) are part of D's loss */
    m->loss_d += clgan_gan_penalty_metrics(gan, v, &m->penalty, &m->grad_norm_x);
  if (!isfinite(m->loss_d) || (norms && !isfinite(m->grad_norm_d)))
    return clgan_error(CLGAN_ERR_NUMERIC, "iteration %lld: the discriminator's %s is not "
                       "finite (%g); try a lower --lr", gan->step,
                       isfinite(m->loss_d) ? "gradient" : "loss",
                       isfinite(m->loss_d) ? m->grad_norm_d : m->loss_d);
  if (!isfinite(m->loss_g) || (norms && !isfinite(m->grad_norm_g)))
    return clgan_error(CLGAN_ERR_NUMERIC, "iteration %lld: the generator's %s is not finite "
                       "(%g); try a lower --lr", gan->step,
                       isfinite(m->loss_g) ? "gradient" : "loss",
                       isfinite(m->loss_g) ? m->grad_norm_g : m->loss_g);
  return CLGAN_OK;
}

clgan_status clgan_gan_iteration_content(clgan_gan *gan, const float *real, const float *cond,
                                         clgan_step_metrics *m) {
  const clgan_model *md = gan->model;
  if (!gan->cond || !g_takes_cond_first(md) || gan->cfg.content == CLGAN_CONTENT_NONE)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "a content-only step needs an image-to-image model "
                       "whose G takes 'cond' first and a content loss ('%s')", md->name);
  size_t img = (size_t)md->image_c * md->image_h * md->image_w;
  size_t cs = (size_t)md->cond_c * md->cond_h * md->cond_w;
  int b = gan->batch;
  clgan_status s = clgan_buffer_write(gan->ctx, gan->cond, 0, (size_t)b * cs * sizeof(float), cond);
  if (!s) s = clgan_buffer_write(gan->ctx, gan->real, 0, (size_t)b * img * sizeof(float), real);
  replica_attach(gan, 1);
  gan->g->rng_step = gan->step;
  clgan_view dout = CLGAN_VIEW(gan->dfake, 0);
  if (!s) s = clgan_net_forward(gan->g, b, CLGAN_VIEW(gan->cond, 0), CLGAN_BN_TRAIN);
  if (!s)
    s = clgan_content_loss(gan->ctx, gan->cfg.content, (size_t)b * img, clgan_net_output(gan->g),
                           CLGAN_VIEW(gan->real, 0), gan->cfg.content_weight * loss_scale(gan),
                           CLGAN_VIEW(gan->metrics, M_CONTENT), dout, 0);
  if (!s) s = final_backward(gan, gan->g, b, dout, 0);
  const clgan_train_config *c = &gan->cfg;
  if (!s) s = clgan_net_adam(gan->g, c->lr_g, c->beta1, c->beta2, c->eps, 0.0f);
  replica_attach(gan, 0);
  if (!s) s = clgan_gan_ema_step(gan, gan->step + 1);
  if (s) return clgan_error_prefix("iteration %lld (content only): ", gan->step + 1);
  gan->step++;
  if (!m) return CLGAN_OK;
  float v[M_COUNT];
  if ((s = clgan_buffer_read(gan->ctx, gan->metrics, 0, sizeof v, v)))
    return clgan_error_prefix("iteration %lld: ", gan->step);
  m->loss_d = m->loss_g = m->d_real = m->d_fake = m->d_fake_after = NAN;
  m->grad_norm_d = m->grad_norm_g = NAN;
  m->loss_content = v[M_CONTENT];
  m->loss_feature = NAN;
  if (!isfinite(m->loss_content))
    return clgan_error(CLGAN_ERR_NUMERIC, "iteration %lld: the content loss is not finite (%g); "
                       "try a lower --lr", gan->step, m->loss_content);
  return CLGAN_OK;
}

/* The arenas a snapshot covers, in a fixed order, with their sizes in floats. */
static int snap_arenas(clgan_gan *gan, cl_mem *live[9], size_t sizes[9]) {
  clgan_net *nets[2] = {gan->g, gan->d};
  for (int k = 0; k < 2; k++) {
    clgan_net *n = nets[k];
    live[4 * k + 0] = &n->params, sizes[4 * k + 0] = n->desc->param_count;
    live[4 * k + 1] = &n->adam_m, sizes[4 * k + 1] = n->desc->param_count;
    live[4 * k + 2] = &n->adam_v, sizes[4 * k + 2] = n->desc->param_count;
    live[4 * k + 3] = &n->stats, sizes[4 * k + 3] = n->desc->stat_count;
  }
  if (!gan->ema) return 8;
  live[8] = &gan->ema, sizes[8] = gan->g->desc->param_count;
  return 9;
}

static clgan_status copy_arena(clgan_ctx *ctx, cl_mem from, cl_mem to, size_t floats) {
  if (!floats) return CLGAN_OK;
  return clgan_cl_check(clEnqueueCopyBuffer(ctx->queue, from, to, 0, 0, floats * sizeof(float),
                                            0, NULL, NULL), "clEnqueueCopyBuffer (snapshot)");
}

clgan_status clgan_gan_snapshot(clgan_gan *gan) {
  cl_mem *live[9];
  size_t sizes[9];
  int n = snap_arenas(gan, live, sizes);
  clgan_status s = CLGAN_OK;
  for (int i = 0; i < n && !s; i++) {
    if (!gan->snap[i]) s = clgan_buffer_create(gan->ctx, (sizes[i] ? sizes[i] : 1) * sizeof(float),
                                               "snapshot", &gan->snap[i]);
    if (!s) s = copy_arena(gan->ctx, *live[i], gan->snap[i], sizes[i]);
  }
  gan->snap_counters[0] = gan->g->adam_step, gan->snap_counters[1] = gan->g->bn_batches;
  gan->snap_counters[2] = gan->d->adam_step, gan->snap_counters[3] = gan->d->bn_batches;
  return s;
}

clgan_status clgan_gan_rollback(clgan_gan *gan) {
  cl_mem *live[9];
  size_t sizes[9];
  int n = snap_arenas(gan, live, sizes);
  if (!gan->snap[0]) return clgan_error(CLGAN_ERR_INTERNAL, "rollback without a snapshot");
  clgan_status s = CLGAN_OK;
  for (int i = 0; i < n && !s; i++) s = copy_arena(gan->ctx, gan->snap[i], *live[i], sizes[i]);
  gan->g->adam_step = gan->snap_counters[0], gan->g->bn_batches = gan->snap_counters[1];
  gan->d->adam_step = gan->snap_counters[2], gan->d->bn_batches = gan->snap_counters[3];
  return s;
}

clgan_status clgan_generate(clgan_net *g, const float *z, int n, clgan_bn_mode mode,
                            float *images) {
  return clgan_generate_labels(g, z, NULL, n, mode, images);
}

clgan_status clgan_generate_labels(clgan_net *g, const float *z, const int32_t *labels, int n,
                                   clgan_bn_mode mode, float *images) {
  int li = clgan_net_find_input(g->desc, CLGAN_INPUT_LABEL), conditional = li > 0;
  if (clgan_net_find_input(g->desc, CLGAN_INPUT_TEXT) >= 0)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "a text-to-image generator needs captions "
                       "(clgan generate --text; clgan_generate_text)");
  if (conditional && !labels)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "a conditional generator needs the classes to "
                       "generate");
  const clgan_net_desc *d = g->desc;
  size_t nz = (size_t)d->in_c * d->in_h * d->in_w;
  size_t img = (size_t)d->out_c * d->out_h * d->out_w, zn = (size_t)g->batch * nz;
  /* z goes through a buffer the host writes whole (a short last chunk padded with zeros)
   * that G reads as its input, as in clgan_gan_iteration: never a host write of part of a
   * buffer */
  float *hz = calloc(zn, sizeof(float));
  int32_t *hl = calloc((size_t)g->batch, sizeof(int32_t));
  cl_mem zb = NULL, lb = NULL;
  /* the label input is bound to a buffer of our own only while we generate: the caller's
   * binding (a trainer's labels) comes back afterwards, not a released buffer */
  clgan_view prev_label = conditional ? g->bound[li] : CLGAN_VIEW(NULL, 0);
  clgan_status s = hz && hl ? clgan_buffer_create(g->ctx, zn * sizeof(float), "generate.z", &zb)
                            : clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s && conditional) {
    s = clgan_buffer_create(g->ctx, (size_t)g->batch * sizeof(int32_t), "generate.labels", &lb);
    if (!s) s = clgan_net_bind(g, CLGAN_INPUT_LABEL, CLGAN_VIEW(lb, 0));
  }
  for (int at = 0; at < n && !s; at += g->batch) {
    int k = n - at < g->batch ? n - at : g->batch;
    memcpy(hz, z + (size_t)at * nz, (size_t)k * nz * sizeof(float));
    memset(hz + (size_t)k * nz, 0, (zn - (size_t)k * nz) * sizeof(float));
    s = clgan_buffer_write(g->ctx, zb, 0, zn * sizeof(float), hz);
    if (!s && lb) {
      memcpy(hl, labels + at, (size_t)k * sizeof(int32_t));
      s = clgan_buffer_write(g->ctx, lb, 0, (size_t)g->batch * sizeof(int32_t), hl);
    }
    if (!s) s = clgan_net_forward(g, k, CLGAN_VIEW(zb, 0), mode);
    clgan_view o = clgan_net_output(g);
    if (!s) s = clgan_buffer_read(g->ctx, o.mem, o.off * sizeof(float), (size_t)k * img * sizeof(float),
                                  images + (size_t)at * img);
  }
  if (conditional) g->bound[li] = prev_label;
  clgan_buffer_release(&zb);
  clgan_buffer_release(&lb);
  free(hz);
  free(hl);
  return s;
}

clgan_status clgan_generate_cond(clgan_net *g, const float *cond, int n, clgan_bn_mode mode,
                                 float *images) {
  const clgan_net_desc *d = g->desc;
  if (!d->ninputs || d->inputs[0].kind != CLGAN_INPUT_COND || d->ninputs != 1)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "generate from images: the generator must take "
                       "one input, 'cond'");
  size_t cs = (size_t)d->in_c * d->in_h * d->in_w, cn = (size_t)g->batch * cs;
  size_t img = (size_t)d->out_c * d->out_h * d->out_w;
  float *hc = calloc(cn, sizeof(float));
  cl_mem cb = NULL;
  clgan_status s = hc ? clgan_buffer_create(g->ctx, cn * sizeof(float), "generate.cond", &cb)
                      : clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  for (int at = 0; at < n && !s; at += g->batch) {
    int k = n - at < g->batch ? n - at : g->batch;
    /* written whole, a short last chunk padded with zeros (as clgan_generate_labels) */
    memcpy(hc, cond + (size_t)at * cs, (size_t)k * cs * sizeof(float));
    memset(hc + (size_t)k * cs, 0, (cn - (size_t)k * cs) * sizeof(float));
    s = clgan_buffer_write(g->ctx, cb, 0, cn * sizeof(float), hc);
    if (!s) s = clgan_net_forward(g, k, CLGAN_VIEW(cb, 0), mode);
    clgan_view o = clgan_net_output(g);
    if (!s) s = clgan_buffer_read(g->ctx, o.mem, o.off * sizeof(float), (size_t)k * img * sizeof(float),
                                  images + (size_t)at * img);
  }
  clgan_buffer_release(&cb);
  free(hc);
  return s;
}

clgan_status clgan_diversity(clgan_ctx *ctx, const float *images, int n, int size, float *out) {
  cl_mem x = NULL, r = NULL;
  clgan_status s = clgan_buffer_create(ctx, (size_t)n * size * sizeof(float), "diversity.x", &x);
  if (!s) s = clgan_buffer_create(ctx, sizeof(float), "diversity.out", &r);
  if (!s) s = clgan_buffer_write(ctx, x, 0, (size_t)n * size * sizeof(float), images);
  if (!s) s = clgan_pairwise_distance_mean(ctx, n, size, CLGAN_VIEW(x, 0), CLGAN_VIEW(r, 0));
  if (!s) s = clgan_buffer_read(ctx, r, 0, sizeof(float), out);
  clgan_buffer_release(&x);
  clgan_buffer_release(&r);
  return s;
}

void clgan_fixed_noise(unsigned long long seed, int n, int nz, float *z) {
  clgan_philox_normal((size_t)n * nz, seed + STREAM_FIXED, 0, 0.0f, 1.0f, z);
}

clgan_status clgan_truncated_normal(size_t n, unsigned long long seed, unsigned long long counter,
                                    float bound, float *out) {
  if (!(bound >= 0.01f))
    return clgan_error(CLGAN_ERR_INVALID_ARG, "truncation bound %g: it must be at least 0.01",
                       (double)bound);
  clgan_philox_normal(n, seed, counter, 0.0f, 1.0f, out);
  for (size_t i = 0; i < n; i++)
    for (unsigned long long k = 1; !(fabsf(out[i]) <= bound); k++) {
      /* P(|z| <= 0.01) is 0.008: 2^22 misses in a row have probability below 1e-14000 */
      if (k > (1ull << 22))
        return clgan_error(CLGAN_ERR_INTERNAL, "truncation: value %zu found no draw within "
                           "%g", i, (double)bound);
      clgan_philox_normal(1, seed, counter + i + (k << 40), 0.0f, 1.0f, &out[i]);
    }
  return CLGAN_OK;
}
