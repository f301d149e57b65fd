/* The D step of a penalised loss: WGAN-GP (Gulrajani et al. 2017: the penalty
 * lambda (||grad D(x_hat)|| - 1)^2 at x_hat = real a + fake (1 - a), and Karras et al.'s
 * drift eps D(x)^2) and R1 (Mescheder et al. 2018: gamma / 2 ||grad D(x)||^2 on the real
 * batch, optionally lazy). The penalty's gradient is the double backward of
 * src/nets/net_penalty.c. Tests: tests/train/test_fixture_penalty.c (PyTorch),
 * tests/train/test_penalty.c (the double backward) */
#include <math.h>
#include <stdlib.h>

#include "clgan/gan.h"
#include "clgan/penalty.h"

/* metric slots of gan->metrics next to src/train/gan.c's (0..9): the penalty's mean and
 * the mean ||grad_x D|| it was taken on, then WGAN's drift */
enum { M_REAL = 0, M_FAKE = 2, M_PEN = 10, M_DRIFT = 12 };
/* the interpolation weights' Philox stream (gan.c's streams are 0x5a5a0001..5) */
#define STREAM_GP 0x5a5a0006ull

struct clgan_gan_penalty {
  cl_mem ones;  /* (batch, patches) of 1: D's output gradient for grad_x of the sum */
  cl_mem alpha; /* (batch) WGAN-GP's a */
  cl_mem xhat;  /* (batch, image) WGAN-GP's interpolates */
  cl_mem g;     /* (batch, image) grad_x D, then v = dP/dg in place */
  cl_mem coef, pen, nrm; /* (batch) each */
  size_t img;
  int patches;
};

clgan_status clgan_gan_penalty_check(const clgan_model *m, const clgan_train_config *c) {
  int wgan = c->loss == CLGAN_GLOSS_WGAN_GP;
  if (!wgan && c->r1_gamma == 0.0f) return CLGAN_OK;
  const char *what = wgan ? "--g-loss wgan-gp" : "--r1";
  int layer;
  const char *why = clgan_net_penalty_unsupported(&m->d, &layer);
  if (why && layer < 0)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': %s needs the gradient of D's input "
                       "gradient: %s", m->name, what, why);
  if (why)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': %s needs the gradient of D's input "
                       "gradient, which D's layer %d (counting from 0, as checkpoints do) "
                       "cannot give: %s", m->name, what, layer, why);
  if (wgan && c->r1_gamma != 0.0f)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "--r1 with --g-loss wgan-gp: choose one penalty");
  if (!(c->gp_lambda >= 0.0f && c->gp_lambda < 1e30f) ||
      !(c->drift_eps >= 0.0f && c->drift_eps < 1e30f) ||
      !(c->r1_gamma >= 0.0f && c->r1_gamma < 1e30f) || c->r1_every < 1)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "bad penalty settings (lambda %g, drift %g, r1 "
                       "gamma %g every %d: weights >= 0, every >= 1)", (double)c->gp_lambda,
                       (double)c->drift_eps, (double)c->r1_gamma, c->r1_every);
  return CLGAN_OK;
}

clgan_status clgan_gan_penalty_create(clgan_gan *gan, const clgan_model *m, int batch) {
  const clgan_train_config *c = &gan->cfg;
  int wgan = c->loss == CLGAN_GLOSS_WGAN_GP;
  clgan_status s0 = clgan_gan_penalty_check(m, c);
  if (s0) return s0;
  struct clgan_gan_penalty *p = calloc(1, sizeof *p);
  if (!p) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  gan->pen = p;
  p->img = (size_t)m->image_c * m->image_h * m->image_w;
  p->patches = m->d.out_c * m->d.out_h * m->d.out_w;
  size_t nb = (size_t)batch, f = sizeof(float), no = nb * (size_t)p->patches;
  clgan_ctx *ctx = gan->ctx;
  clgan_status s = clgan_buffer_create(ctx, no * f, "penalty.ones", &p->ones);
  if (!s) s = clgan_fill(ctx, no, 1.0f, CLGAN_VIEW(p->ones, 0));
  if (!s) s = clgan_buffer_create(ctx, nb * p->img * f, "penalty.grad_x", &p->g);
  if (!s) s = clgan_buffer_create(ctx, nb * f, "penalty.coef", &p->coef);
  if (!s) s = clgan_buffer_create(ctx, nb * f, "penalty.pen", &p->pen);
  if (!s) s = clgan_buffer_create(ctx, nb * f, "penalty.norm", &p->nrm);
  if (!s && wgan) s = clgan_buffer_create(ctx, nb * f, "penalty.alpha", &p->alpha);
  if (!s && wgan) s = clgan_buffer_create(ctx, nb * p->img * f, "penalty.x_hat", &p->xhat);
  return s; /* on failure clgan_gan_free releases what was made */
}

void clgan_gan_penalty_free(clgan_gan *gan) {
  struct clgan_gan_penalty *p = gan->pen;
  if (!p) return;
  cl_mem *b[] = {&p->ones, &p->alpha, &p->xhat, &p->g, &p->coef, &p->pen, &p->nrm};
  for (size_t i = 0; i < sizeof b / sizeof *b; i++) clgan_buffer_release(b[i]);
  free(p);
  gan->pen = NULL;
}

/* The penalty of the last forward of D (n samples): g = grad_x of the sum of D's logits,
 * the per-sample penalty with weight w, its mean into the metrics, and its parameter
 * gradient written (accumulate 0) or added into D's gradient arena. */
static clgan_status penalty_term(clgan_gan *gan, clgan_penalty_kind kind, float w, int acc) {
  struct clgan_gan_penalty *p = gan->pen;
  clgan_ctx *ctx = gan->ctx;
  int n = gan->batch;
  clgan_view u = CLGAN_VIEW(p->ones, 0), g = CLGAN_VIEW(p->g, 0);
  float scale = clgan_gan_loss_scale(gan) / (float)n;
  clgan_status s = clgan_net_backward(gan->d, n, u, 0, 0, g);
  if (!s) s = clgan_penalty_coef(ctx, kind, n, p->img, w, scale, g, CLGAN_VIEW(p->coef, 0),
                                 CLGAN_VIEW(p->pen, 0), CLGAN_VIEW(p->nrm, 0));
  if (!s) s = clgan_penalty_mean(ctx, n, CLGAN_VIEW(p->pen, 0), CLGAN_VIEW(p->nrm, 0),
                                 CLGAN_VIEW(gan->metrics, M_PEN));
  if (!s) s = clgan_penalty_scale(ctx, n, p->img, CLGAN_VIEW(p->coef, 0), g, g);
  if (!s) s = clgan_net_tangent_forward(gan->d, n, g);
  if (!s) s = clgan_net_penalty_backward(gan->d, n, u, acc);
  if (s) clgan_error_prefix("%s penalty: ", kind == CLGAN_PENALTY_WGAN_GP ? "WGAN-GP" : "R1");
  return s;
}

clgan_status clgan_gan_d_grads_penalised(clgan_gan *gan, clgan_view fake, const float *alpha) {
  struct clgan_gan_penalty *p = gan->pen;
  const clgan_train_config *c = &gan->cfg;
  clgan_ctx *ctx = gan->ctx;
  int n = gan->batch, wgan = c->loss == CLGAN_GLOSS_WGAN_GP;
  clgan_view dl = CLGAN_VIEW(gan->dlogits, 0), real = CLGAN_VIEW(gan->real, 0);
  clgan_status s = CLGAN_OK;
  if (wgan) { /* the penalty first: it writes D's gradient, the two terms below add */
    if (alpha) {
      s = clgan_buffer_write(ctx, p->alpha, 0, (size_t)n * sizeof(float), alpha);
    } else {
      unsigned long long at = (unsigned long long)gan->step * (unsigned long long)c->batch +
                              (unsigned long long)gan->shard_off;
      s = clgan_rng_uniform(ctx, (size_t)n, c->seed + STREAM_GP, at, 0.0f, 1.0f,
                            CLGAN_VIEW(p->alpha, 0));
    }
    if (!s) s = clgan_gp_interpolate(ctx, n, p->img, CLGAN_VIEW(p->alpha, 0), real, fake,
                                     CLGAN_VIEW(p->xhat, 0));
    if (!s) s = clgan_gan_d_inputs(gan, 0, 0);
    if (!s) s = clgan_net_forward(gan->d, n, CLGAN_VIEW(p->xhat, 0), CLGAN_BN_TRAIN);
    if (!s) s = penalty_term(gan, CLGAN_PENALTY_WGAN_GP, c->gp_lambda, 0);
  }
  if (!s) s = clgan_gan_d_inputs(gan, 0, 0);
  if (!s) s = clgan_net_forward(gan->d, n, real, CLGAN_BN_TRAIN);
  if (!s) s = clgan_gan_d_loss(gan, 1, M_REAL);
  if (!s && wgan)
    s = clgan_wgan_drift(ctx, n * p->patches, c->drift_eps, clgan_gan_loss_scale(gan),
                         clgan_net_output(gan->d), dl, CLGAN_VIEW(gan->metrics, M_DRIFT));
  if (!s) s = clgan_net_backward(gan->d, n, dl, 1, wgan, CLGAN_NONE);
  if (!s && c->r1_gamma > 0.0f) { /* on the real forward just done; lazy: every k, weight k */
    if (gan->step % c->r1_every == 0)
      s = penalty_term(gan, CLGAN_PENALTY_R1, c->r1_gamma * (float)c->r1_every, 1);
    else
      s = clgan_fill(ctx, 2, 0.0f, CLGAN_VIEW(gan->metrics, M_PEN));
  }
  if (!s) s = clgan_gan_d_inputs(gan, 1, 1);
  if (!s) s = clgan_net_forward(gan->d, n, fake, CLGAN_BN_TRAIN);
  if (!s) s = clgan_gan_d_loss(gan, 0, M_FAKE);
  if (!s) s = clgan_gan_final_backward(gan, gan->d, n, dl, 1);
  return s;
}

float clgan_gan_penalty_metrics(const clgan_gan *gan, const float *slots, float *penalty,
                                float *grad_norm_x) {
  *penalty = slots[M_PEN];
  *grad_norm_x = slots[M_PEN + 1];
  return slots[M_PEN] + (gan->cfg.loss == CLGAN_GLOSS_WGAN_GP ? slots[M_DRIFT] : 0.0f);
}
