/* Gradient penalties on ||grad_x D(x)|| (WGAN-GP, R1): the kernels, and the double backward
 * through a network that gives the penalty's gradient with respect to D's parameters.
 * Design: docs/KERNELS.md, "Double backward (gradient penalties)".
 * Tests: tests/train/test_penalty.c, tests/train/test_fixture_penalty.c */
#ifndef CLGAN_PENALTY_H
#define CLGAN_PENALTY_H

#include "clgan/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum clgan_penalty_kind {
  CLGAN_PENALTY_WGAN_GP = 0, /* w * (||g|| - 1)^2 per sample (Gulrajani et al. 2017) */
  CLGAN_PENALTY_R1 = 1       /* w / 2 * ||g||^2 per sample (Mescheder et al. 2018) */
} clgan_penalty_kind;

/* ---- kernels (src/ops/ops_penalty.c, kernels/penalty.cl) ----
 * g (n, d): per sample the norm of its row, pen (n) its penalty, coef (n) with
 * coef_i * g_i = d (scale * sum_i pen_i) / d g_i (WGAN-GP at norm 0: coef 0). */
clgan_status clgan_penalty_coef(clgan_ctx *ctx, clgan_penalty_kind kind, int n, size_t d,
                                float w, float scale, clgan_view g, clgan_view coef,
                                clgan_view pen, clgan_view nrm);
/* v (n, d) = coef_i * g_i (v may alias g) */
clgan_status clgan_penalty_scale(clgan_ctx *ctx, int n, size_t d, clgan_view coef, clgan_view g,
                                 clgan_view v);
/* out[0] = mean(pen), out[1] = mean(nrm) over n */
clgan_status clgan_penalty_mean(clgan_ctx *ctx, int n, clgan_view pen, clgan_view nrm,
                                clgan_view out);
/* y (n, d) = real * a_i + fake * (1 - a_i), a (n) */
clgan_status clgan_gp_interpolate(clgan_ctx *ctx, int n, size_t d, clgan_view a, clgan_view real,
                                  clgan_view fake, clgan_view y);
/* The WGAN drift eps * mean(x^2) over n logits: dx += scale * 2 eps x / n, out[0] = eps *
 * mean(x^2) (unscaled) */
clgan_status clgan_wgan_drift(clgan_ctx *ctx, int n, float eps, float scale, clgan_view x,
                              clgan_view dx, clgan_view out);

/* ---- the double backward (src/nets/net_penalty.c) ----
 * NULL if every layer of d has a double backward here; else a static message naming the
 * first that has not (batch norm, instance norm, spectral norm, dropout, tanh, sigmoid,
 * mul, prelu, embed; a network with more than its main input). */
const char *clgan_net_penalty_unsupported(const clgan_net_desc *d, int *layer);

/* Forward-mode pass (JVP) of the last forward along v (n, main input): the tangent of
 * every tensor, in a second activation arena (allocated on first use). Piecewise-linear
 * layers only: conv/linear apply W (no bias), relu/leaky relu their slope pattern at the
 * forward's input, avgpool/upsample/sumpool/pixelshuffle/concat/add/views are linear. */
clgan_status clgan_net_tangent_forward(clgan_net *net, int n, clgan_view v);

/* With u = dout and g = J^T u (the input gradient of a backward from u, through the same
 * last forward) and v from clgan_net_tangent_forward: adds (accumulate 1) or writes d<v,
 * g>/d theta into the gradient arena. For piecewise-linear nets that is, for each weighted
 * layer, (its output gradient from u) x (its input's tangent), and 0 for every bias: a
 * backward of the last forward from u in which the weights see the tangents. */
clgan_status clgan_net_penalty_backward(clgan_net *net, int n, clgan_view dout, int accumulate);

/* ---- the trainer's penalised D step (src/train/penalty.c) ---- */
struct clgan_gan;
struct clgan_model;
struct clgan_train_config;
/* CLGAN_OK unless the configuration asks for a penalty (WGAN-GP, R1) that D cannot take
 * (clgan_net_penalty_unsupported: the message names the layer, e.g. batch norm) or its
 * settings are out of range. The CLI calls it before touching any output. */
clgan_status clgan_gan_penalty_check(const struct clgan_model *m,
                                     const struct clgan_train_config *c);
/* Checks D (clgan_net_penalty_unsupported: a clear error naming the layer, e.g. batch
 * norm) and the settings, and allocates the buffers; clgan_gan_create calls it for
 * --g-loss wgan-gp or --r1. */
clgan_status clgan_gan_penalty_create(struct clgan_gan *gan, const struct clgan_model *m,
                                      int batch);
void clgan_gan_penalty_free(struct clgan_gan *gan);
/* D's whole gradient (written, not added) for a penalised loss, from gan->real and fake
 * (G's output); alpha (batch) the WGAN-GP interpolation weights, NULL: Philox uniforms of
 * (seed + stream, step * global batch + shard offset). Order: WGAN-GP: the penalty at
 * x_hat, D(x) (with the drift), D(G(z)); R1: D(x), its penalty on the same forward (every
 * r1_every steps), D(G(z)). clgan_gan_d_step calls it, then Adam. */
clgan_status clgan_gan_d_grads_penalised(struct clgan_gan *gan, clgan_view fake,
                                         const float *alpha);
/* From the metric slots read back: *penalty, *grad_norm_x; returns what adds to loss_d
 * (penalty and drift). */
float clgan_gan_penalty_metrics(const struct clgan_gan *gan, const float *slots, float *penalty,
                                float *grad_norm_x);
/* src/train/gan.c's pieces of the plain D step, shared with the penalised one */
clgan_status clgan_gan_d_loss(struct clgan_gan *gan, int real, int slot);
clgan_status clgan_gan_d_inputs(struct clgan_gan *gan, int fake, int pass);
clgan_status clgan_gan_final_backward(struct clgan_gan *gan, clgan_net *net, int n,
                                      clgan_view dout, int accumulate);
float clgan_gan_loss_scale(const struct clgan_gan *gan);

#ifdef __cplusplus
}
#endif
#endif
