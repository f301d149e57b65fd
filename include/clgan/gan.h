/* The GAN trainer's core: one iteration = the D step with G frozen, then the G step
 * through a frozen D; metrics; fixed-noise samples; checkpoints (safetensors, PyTorch
 * names). Tests: tests/train/ */
#ifndef CLGAN_GAN_H
#define CLGAN_GAN_H

#include "clgan/io.h"
#include "clgan/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum clgan_gan_loss {
  CLGAN_GLOSS_NS = 0,   /* D: BCE; G: BCE(D(G(z)), 1), the non-saturating loss (default) */
  CLGAN_GLOSS_MINIMAX,  /* D: BCE; G: minimises log(1 - D(G(z))) (saturates) */
  CLGAN_GLOSS_LSGAN,    /* least squares: D 0.5(D(x)-1)^2 + 0.5 D(G(z))^2, G 0.5(D(G(z))-1)^2 */
  CLGAN_GLOSS_HINGE,    /* D: relu(1 - D(x)) + relu(1 + D(G(z))); G: -D(G(z)) */
  CLGAN_GLOSS_RAGAN,    /* relativistic average (ESRGAN), image-to-image only: D: BCE(D(x) -
                           mean D(G), 1) + BCE(D(G) - mean D(x), 0); G: the targets swapped,
                           halved (src/train/gan.c) */
  CLGAN_GLOSS_WGAN_GP   /* D: D(G(z)) - D(x) + gp_lambda (||grad D(x_hat)|| - 1)^2
                           + drift_eps D(x)^2; G: -D(G(z)) (src/train/penalty.c) */
} clgan_gan_loss;

const char *clgan_gan_loss_name(clgan_gan_loss l);
/* "ns", "minimax", "lsgan", "hinge", "wgan-gp" -> 0; -1 if unknown. */
int clgan_gan_loss_parse(const char *s, clgan_gan_loss *out);

/* "none", "l1", "mse" <-> clgan_content (content losses of image-to-image models). */
const char *clgan_content_name(clgan_content c);
int clgan_content_parse(const char *s, clgan_content *out);

typedef struct clgan_train_config {
  int batch;
  float lr_g, lr_d, beta1, beta2, eps;
  clgan_gan_loss loss;
  unsigned long long seed;
  /* EMA of G's weights: decay in [0, 1) (0: off, the default); for the first ema_start
   * iterations the average is a copy of G's weights, after them it averages */
  float ema_decay;
  long long ema_start;
  /* Image-to-image recipes (models whose networks take a 'cond' input; ignored by the
   * others, which stay bit-identical): G's loss is adv_weight * adversarial + content_weight
   * * content(G(cond), target); D's loss (real + fake) is scaled by d_loss_scale. Defaults
   * are pix2pix's: 1, L1, 100, 0.5 (the reference halves D's loss). */
  float adv_weight;           /* >= 0; 0: the content-only ablation (D still trains) */
  clgan_content content;      /* CLGAN_CONTENT_L1 (default), _MSE or _NONE */
  float content_weight;       /* lambda, >= 0 */
  float d_loss_scale;         /* > 0 */
  /* The feature loss (image-to-image, G step): feature_weight x mean |F(G(x)) - F(y)| (MSE
   * when content is mse), F = D's output at the node named feature_node ("" = "feat"), D
   * frozen (src/train/gan_feat.c). 0: off (the default). */
  float feature_weight;
  char feature_node[32];
  /* DiffAugment of D's inputs (include/clgan/augment.h): CLGAN_AUG_* bits, 0 = off (the
   * default). Models without a 'cond' input only. */
  unsigned diffaug;
  /* Gradient penalties (src/train/penalty.c; D must have a double backward: no batch
   * norm). WGAN-GP (loss CLGAN_GLOSS_WGAN_GP): gp_lambda (10) and the drift drift_eps
   * (1e-3). R1 (any loss): r1_gamma > 0 adds r1_gamma / 2 ||grad D(x)||^2 on the real batch,
   * every r1_every iterations (lazy: weighted by r1_every) from the first; 0 is off. */
  float gp_lambda, drift_eps, r1_gamma;
  int r1_every;
} clgan_train_config;

void clgan_train_config_default(clgan_train_config *c);

/* Values of one iteration, read back from the device. */
typedef struct clgan_step_metrics {
  float loss_d;       /* D's loss: real term + fake term */
  float loss_g;       /* G's loss */
  float d_real;       /* mean D(x) (sigmoid of the logit) */
  float d_fake;       /* mean D(G(z)) in the D step, before D's update */
  float d_fake_after; /* mean D(G(z)) in the G step, after D's update */
  float grad_norm_d;  /* L2 norm of D's gradient (when asked for, else NaN) */
  float grad_norm_g;  /* L2 norm of G's gradient (when asked for, else NaN) */
  float loss_content; /* image-to-image: mean content loss (L1 or MSE, unweighted) of G(cond)
                         against the target, before G's update; NaN for other models */
  float loss_feature; /* image-to-image with cfg.feature_weight > 0: the mean feature loss
                         (unweighted) of the G step; else NaN */
  float penalty;      /* WGAN-GP / R1: the weighted penalty in loss_d (0 on a lazy R1 step
                         that skips it); NaN without one */
  float grad_norm_x;  /* and the mean ||grad_x D|| it was taken on (NaN without) */
} clgan_step_metrics;

/* Data-parallel training (tools/dist.c fills this in; zero on one device): the replicas
 * each compute a shard of every global batch and their sums meet through these calls.
 *   sum: sums v[0..n) over the replicas in place. Set: sync-bn, the batch norms use the
 *     statistics of the whole global batch; NULL: each replica's own (as PyTorch DDP).
 *   layer_grads_done: optional, after each layer's final parameter gradients in the
 *     backward before an Adam step (so their reduction can overlap the rest).
 *   reduce_grads: before each network's Adam step; leaves the network's gradient arena
 *     summed over the replicas. Each replica's losses are scaled by its share of the
 *     global batch (clgan_gan.batch / cfg.batch), so the sum is the global batch's mean.
 * A failing call stops the step with its status. */
typedef struct clgan_gan_replica {
  void *user;
  clgan_status (*sum)(void *user, double *v, size_t n);
  clgan_status (*layer_grads_done)(void *user, clgan_net *net, int layer);
  clgan_status (*reduce_grads)(void *user, clgan_net *net);
} clgan_gan_replica;

typedef struct clgan_gan {
  clgan_ctx *ctx;
  const clgan_model *model;   /* resolved; not owned */
  clgan_train_config cfg;
  clgan_net *g, *d;
  cl_mem dlogits;             /* (batch, patches) d loss / d logit */
  int patches;                /* logits per image D gives: 1, or h*w of a PatchGAN's map */
  cl_mem metrics;             /* (16) loss and D-output slots written on the device */
  cl_mem real;                /* (batch, C, H, W) the real batch, D's input in the D step
                                 (written whole by clgan_gan_iteration) */
  cl_mem dfake;               /* (batch, C, H, W) d loss / d G(z) in the G step */
  cl_mem labels;              /* conditional models: (2 batch) int32, the real batch's labels
                                 then the classes G is asked for; else NULL */
  cl_mem cond;                /* models taking 'cond': (batch, cond C, H, W) the conditioning
                                 batch (written whole by clgan_gan_iteration_cond), G's
                                 main input or bound, and bound to D; else NULL */
  long long step;             /* iterations completed */
  cl_mem ema;                 /* (G's param_count) the EMA of G's weights (cfg.ema_decay > 0),
                                 else NULL; its batch-norm statistics are G's own */
  int ema_shown;              /* clgan_gan_use_ema: G's params and ema handles swapped */
  cl_mem snap[9];             /* clgan_gan_snapshot: copies of both nets' arenas (and ema) */
  long long snap_counters[4]; /* and of their Adam steps and batch-norm counts */
  int batch;                  /* samples this trainer computes per iteration: cfg.batch, or
                                 its shard of the global batch cfg.batch */
  int shard_off;              /* the shard's first sample in the global batch */
  clgan_gan_replica replica;  /* data-parallel hooks (zero: one device) */
  struct clgan_gan_feat *feat; /* the feature loss's network and buffers (made on first use) */
  cl_mem text;                /* text-to-image models: (2 batch, CLGAN_TEXT_SAMPLE_INTS) int32,
                                 the real batch's captions then the mismatched ones
                                 (src/train/gan_text.c); else NULL */
  cl_mem aug[4];              /* cfg.diffaug: D's augmented input, its gradient (both batch,
                                 C, H, W), the parameters (batch x 8) and scratch (batch x 2) */
  struct clgan_gan_penalty *pen; /* WGAN-GP / R1 buffers (src/train/penalty.c), else NULL */
} clgan_gan;

clgan_status clgan_gan_create(clgan_ctx *ctx, const clgan_model *m, const clgan_train_config *c,
                              clgan_gan **out);
void clgan_gan_free(clgan_gan *gan);
/* One replica of a data-parallel run: computes samples [off, off + batch) of each global
 * batch of c->batch (noise, fake labels and dropout masks are those samples' part of the
 * global batch's streams), to be joined through gan->replica. batch = c->batch, off = 0
 * is clgan_gan_create. */
clgan_status clgan_gan_create_shard(clgan_ctx *ctx, const clgan_model *m,
                                    const clgan_train_config *c, int batch, int off,
                                    clgan_gan **out);

/* Fresh DCGAN initial weights from cfg.seed (same on every device). */
clgan_status clgan_gan_init_params(clgan_gan *gan);

/* The EMA's update after the G step of iteration `step` (1-based): a copy of G's weights
 * while step <= ema_start, else ema = decay * ema + (1 - decay) * G (one launch either
 * way; clgan_ema_update). Nothing without EMA. clgan_gan_iteration calls it. */
clgan_status clgan_gan_ema_step(clgan_gan *gan, long long step);
/* Points G's parameter arena at the EMA (on = 1) or back at G's own weights (on = 0), for
 * sampling: G's batch-norm statistics serve both. No-op without EMA. */
void clgan_gan_use_ema(clgan_gan *gan, int on);

/* Noise of iteration `step`: a Philox stream, so resuming reproduces it exactly. */
clgan_status clgan_gan_sample_z(clgan_gan *gan, long long step);

/* The D step: G(z) (G in training mode, its output a constant here), D on the real batch
 * already written to gan->real and on G(z), D's gradient, D's Adam update. G's
 * parameters are not touched. */
clgan_status clgan_gan_d_step(clgan_gan *gan);
/* The G step: D(G(z)) with D frozen (no D weight gradients, no D update), gradient through
 * D into G, G's Adam update. Uses the G(z) of the preceding D step. */
clgan_status clgan_gan_g_step(clgan_gan *gan);

/* A whole iteration: upload `real` (batch, C, H, W) in [-1, 1], sample z, D step, G step,
 * step++. With m, reads the metrics back (one synchronisation); with norms, also
 * computes the gradient norms first. Non-finite losses -> CLGAN_ERR_NUMERIC naming the
 * iteration and the network. */
clgan_status clgan_gan_iteration(clgan_gan *gan, const float *real, clgan_step_metrics *m,
                                 int norms);

/* The same for a conditional model (model->classes > 0): labels (batch) are the real
 * batch's classes, 0..classes-1; G is asked for classes drawn uniformly from a Philox
 * stream of (seed, step) (clgan_gan_fake_labels), so a resumed run draws the same. An
 * unconditional model ignores labels. */
clgan_status clgan_gan_iteration_labels(clgan_gan *gan, const float *real, const int32_t *labels,
                                        clgan_step_metrics *m, int norms);
/* The same for an image-to-image model (one whose networks take 'cond'): real (batch, C,
 * H, W) is the target, cond (batch, cond C, H, W) the input, both in [-1, 1]. D judges
 * (target, cond) against (G(cond), cond) (or the image alone if D takes no cond), its loss
 * scaled by cfg.d_loss_scale; G's loss is cfg.adv_weight * adversarial + cfg.content_weight
 * * content(G(cond), target). D's output may be a map of logits: every loss is the mean
 * over all of them. labels: as clgan_gan_iteration_labels (NULL without classes). */
clgan_status clgan_gan_iteration_cond(clgan_gan *gan, const float *real, const float *cond,
                                      const int32_t *labels, clgan_step_metrics *m, int norms);
/* An image-to-image iteration of G alone on its content loss (super-resolution's PSNR
 * pre-training, BasicSR's first stage): G(cond) against real, cfg.content x
 * cfg.content_weight, one Adam step of G; D neither runs nor changes. m's D and adversarial
 * fields are NaN. Needs a model whose G takes 'cond' first and a content loss. */
clgan_status clgan_gan_iteration_content(clgan_gan *gan, const float *real, const float *cond,
                                         clgan_step_metrics *m);
/* The feature loss (cfg.feature_weight > 0) of the G step: its value to metrics slot `slot`,
 * d loss / d G(x) into dfake (added when accumulate). Called by the G steps (gan.c). */
clgan_status clgan_gan_feature_loss(clgan_gan *gan, int slot, clgan_view dfake, int accumulate);
void clgan_gan_feat_free(struct clgan_gan_feat *f);
/* 1 if the model's generator or discriminator takes a 'cond' input. */
int clgan_model_takes_cond(const clgan_model *m);

/* ---- text-to-image (src/train/gan_text.c; GAN-INT-CLS, issue 16) ----
 * Captions are token slots (include/clgan/text.h, CLGAN_TEXT_SAMPLE_INTS int32s a sample). */
int clgan_model_takes_text(const clgan_model *m);
/* clgan_gan_create calls it for a text model: the caption buffer, bound to G. */
clgan_status clgan_gan_text_setup(clgan_gan *gan);
/* One matching-aware iteration: text (batch samples of slots) are the real batch's captions,
 * wrong (batch) mismatched ones. The D step: D(real, text) -> real, D(G(z, text), text) ->
 * fake and D(real, wrong) -> fake, the two fake terms weighted 1/2 (Reed et al. 2016); G
 * forward only. The G step: D(G(z, text), text) -> real through the frozen D, plus the KL of
 * G's condaug layers (their weight) in G's backward. m->loss_d = real + (fake + wrong) / 2;
 * m->d_fake is D(G(z)), the wrong pair's mean D output goes to *d_wrong (may be NULL). */
clgan_status clgan_gan_iteration_text(clgan_gan *gan, const float *real, const int32_t *text,
                                      const int32_t *wrong, clgan_step_metrics *m, int norms,
                                      float *d_wrong);
clgan_status clgan_gan_text_d_step(clgan_gan *gan);
clgan_status clgan_gan_text_g_step(clgan_gan *gan);
/* KL of G's first condaug layer in its last forward (float64 on the host), and the smallest
 * log sigma^2 there; CLGAN_ERR_INVALID_ARG without one. */
clgan_status clgan_net_condaug_kl(clgan_net *g, int n, double *kl, double *min_logvar);
/* n images from noise z (n, nz) and captions text (n samples of slots), in chunks of the batch. */
clgan_status clgan_generate_text(clgan_net *g, const float *z, const int32_t *text, int n,
                                 clgan_bn_mode mode, float *images);

/* The classes G is asked for at iteration `step` (batch of them). */
void clgan_gan_fake_labels(const clgan_gan *gan, long long step, int32_t *out);

/* Copies both networks' parameters, Adam moments, statistics and counters aside (on the
 * device; the buffers are allocated on first use), and puts them back: together they let a
 * caller skip an iteration whose values went non-finite. */
clgan_status clgan_gan_snapshot(clgan_gan *gan);
clgan_status clgan_gan_rollback(clgan_gan *gan);

/* Generates n images (n, C, H, W) in [-1, 1] from host noise z (n, nz), in chunks of the
 * batch. mode: CLGAN_BN_EVAL (running statistics) or CLGAN_BN_BATCH_STATS. */
clgan_status clgan_generate(clgan_net *g, const float *z, int n, clgan_bn_mode mode,
                            float *images);

/* The same for a conditional generator: labels (n) are the classes to generate. */
clgan_status clgan_generate_labels(clgan_net *g, const float *z, const int32_t *labels, int n,
                                   clgan_bn_mode mode, float *images);

/* The same for an image-to-image generator (its first input 'cond', no z): cond (n, cond
 * C, H, W) in, images (n, C, H, W) out, in chunks of g's batch. Dropout is off in
 * CLGAN_BN_EVAL. */
clgan_status clgan_generate_cond(clgan_net *g, const float *cond, int n, clgan_bn_mode mode,
                                 float *images);

/* Mean pairwise L2 distance of the images (a diversity measure; mode collapse -> 0). */
clgan_status clgan_diversity(clgan_ctx *ctx, const float *images, int n, int size, float *out);

/* The truncation trick: n values of the standard normal stream (seed, counter), each
 * redrawn until |z| <= bound. Attempt 0 of value i is the stream's own value i (so a bound
 * no value exceeds changes nothing); attempt k >= 1 is the value at counter + i + k * 2^40
 * of the same stream: a pure function of (seed, i, k), so the result is reproducible and
 * does not depend on n or the order of the work. bound >= 0.01 (below that the expected
 * 1/(0.8 bound) attempts grow); CLGAN_ERR_INVALID_ARG otherwise. */
clgan_status clgan_truncated_normal(size_t n, unsigned long long seed, unsigned long long counter,
                                    float bound, float *out);

/* Fixed noise for sample grids: n x nz normals from (seed, stream 2). */
void clgan_fixed_noise(unsigned long long seed, int n, int nz, float *z);

/* ---- checkpoints (src/train/checkpoint.c) ----
 * Tensors: "generator.<i>.weight|bias|running_mean|running_var|num_batches_tracked",
 * "discriminator.<i>...." (i = layer index, as in an nn.Sequential of the model file's
 * layers), "adam_m.generator.<i>.weight", "adam_v....", and with EMA
 * "generator_ema.<i>...." (the EMA weights with G's batch-norm statistics). Metadata:
 * format, version, the model file text, the configuration (ema_decay and ema_start only
 * with EMA), step, epoch, Adam steps, the data source. */
typedef struct clgan_train_state {
  long long epoch;
  char data[1024];            /* the data source, informational */
  char class_names[4096];     /* a conditional model's class names, one per line ("" = none) */
  char run[1024];             /* the command's own settings that --resume restores ("key value"
                                 lines; the image-to-image trainer's), metadata "run"; "" = none
                                 (and no key: other checkpoints stay as they were) */
  char vocab[4096];           /* a text model's vocabulary, words separated by spaces ("" =
                                 none; include/clgan/text.h) */
  char progressive[16384];    /* a progressive run (tools/cmd_progan.c): its stage, fade, alpha
                                 and schedule ("key value" lines), then a line "text" and the
                                 progressive model file; metadata "progressive"; "" = none */
} clgan_train_state;

clgan_status clgan_checkpoint_save(const char *path, clgan_gan *gan, const clgan_train_state *st);

/* Opens and validates a checkpoint; parses the model stored in it (unresolved). */
clgan_status clgan_checkpoint_open(const char *path, clgan_st_file *f, clgan_model *model);
/* Reads the configuration and counters stored in an opened checkpoint. */
clgan_status clgan_checkpoint_config(const clgan_st_file *f, clgan_train_config *c,
                                     long long *step, clgan_train_state *st);
/* Copies G, D and the optimiser state into the trainer; a tensor missing or of the wrong
 * shape -> CLGAN_ERR_MISMATCH naming the first one. */
clgan_status clgan_checkpoint_restore(const clgan_st_file *f, clgan_gan *gan);
/* Copies one network's parameters and statistics ("generator"/"discriminator"). */
clgan_status clgan_checkpoint_restore_net(const clgan_st_file *f, const char *prefix,
                                          clgan_net *net);

#ifdef __cplusplus
}
#endif
#endif
