/* Operators: one C launcher per kernel. All float32, NCHW, row-major. Every call only
 * enqueues on ctx->queue (no host round trip, no clFinish) and returns a status.
 * A tensor argument is a (buffer, element offset) pair: clgan_view.
 * Tests: tests/test_ops_*.c against the float64 references in tests/ref.c */
#ifndef CLGAN_OPS_H
#define CLGAN_OPS_H

#include "clgan/device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A float tensor inside a buffer: `off` counts floats, not bytes. */
typedef struct clgan_view {
  cl_mem mem;
  size_t off;
} clgan_view;

#define CLGAN_VIEW(m, o) ((clgan_view){(m), (o)})
#define CLGAN_NONE ((clgan_view){NULL, 0})
static inline clgan_view clgan_view_at(clgan_view v, size_t floats) {
  return (clgan_view){v.mem, v.off + floats};
}

/* ---- elementwise basics (kernels/elementwise.cl) ---- */
/* x[i] = value */
clgan_status clgan_fill(clgan_ctx *ctx, size_t n, float value, clgan_view x);
/* y[i] += a * x[i] */
clgan_status clgan_axpy(clgan_ctx *ctx, size_t n, float a, clgan_view x, clgan_view y);
/* x[i] *= a */
clgan_status clgan_scale(clgan_ctx *ctx, size_t n, float a, clgan_view x);
/* y[i] = x[i] */
clgan_status clgan_copy(clgan_ctx *ctx, size_t n, clgan_view x, clgan_view y);

/* ---- GEMM (src/blas/gemm.c, CLBlast) ---- */
/* C(MxN) = alpha * op(A)(MxK) * op(B)(KxN) + beta * C, row-major, leading dimensions in
 * floats. trans_a/trans_b: 0 = as stored, 1 = transposed. */
clgan_status clgan_gemm(clgan_ctx *ctx, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                        float alpha, clgan_view a, size_t lda, clgan_view b, size_t ldb,
                        float beta, clgan_view c, size_t ldc);
/* `batch` independent GEMMs, operand i at a + i*stride_a etc. */
clgan_status clgan_gemm_batched(clgan_ctx *ctx, int trans_a, int trans_b, size_t m, size_t n,
                                size_t k, float alpha, clgan_view a, size_t lda, size_t stride_a,
                                clgan_view b, size_t ldb, size_t stride_b, float beta,
                                clgan_view c, size_t ldc, size_t stride_c, size_t batch);

/* ---- convolution (src/ops/ops_conv.c, kernels/conv.cl) ----
 * conv2d: x (N, C_in, H_in, W_in), w (C_out, C_in, KH, KW), b (C_out), y (N, C_out, H_out, W_out)
 *   with H_out = (H_in + 2*pad - KH) / stride + 1 (PyTorch's Conv2d, dilation 1, groups 1).
 * conv_transpose2d: x (N, C_in, H_in, W_in), w (C_in, C_out, KH, KW) (PyTorch's layout),
 *   y (N, C_out, H_out, W_out) with H_out = (H_in - 1)*stride - 2*pad + KH + out_pad.
 * Both are im2col/col2im + GEMM; the transposed forward IS conv2d's data gradient and its
 * data gradient IS conv2d's forward (one implementation each, see src/ops/ops_conv.c).
 * `ws` is scratch of at least clgan_conv_workspace() floats; `accumulate` = 1 adds into
 * dw/db (gradients of a layer used twice in one step), 0 overwrites. */
typedef struct clgan_conv {
  int n, c_in, h_in, w_in;   /* input batch and shape */
  int c_out, h_out, w_out;   /* output shape (fill with clgan_conv_init) */
  int kh, kw, stride, pad;
  int out_pad;               /* conv_transpose2d only */
  int transposed;            /* 0: conv2d, 1: conv_transpose2d */
} clgan_conv;

/* Fills h_out/w_out from the rest; CLGAN_ERR_INVALID_ARG if the shape is impossible. */
clgan_status clgan_conv_init(clgan_conv *c);
/* Scratch floats any of the calls below need for this geometry. */
size_t clgan_conv_workspace(const clgan_conv *c);

clgan_status clgan_conv_forward(clgan_ctx *ctx, const clgan_conv *c, clgan_view x, clgan_view w,
                                clgan_view b /* CLGAN_NONE: no bias */, clgan_view y,
                                clgan_view ws);
clgan_status clgan_conv_backward_data(clgan_ctx *ctx, const clgan_conv *c, clgan_view dy,
                                      clgan_view w, clgan_view dx, clgan_view ws);
clgan_status clgan_conv_backward_weight(clgan_ctx *ctx, const clgan_conv *c, clgan_view x,
                                        clgan_view dy, clgan_view dw,
                                        clgan_view db /* CLGAN_NONE: no bias */, int accumulate,
                                        clgan_view ws);

/* ---- dense (src/ops/ops_conv.c): x (N, IN), w (OUT, IN) as PyTorch's Linear, b (OUT), y (N, OUT) */
clgan_status clgan_dense_forward(clgan_ctx *ctx, int n, int in, int out, clgan_view x,
                                 clgan_view w, clgan_view b, clgan_view y);
clgan_status clgan_dense_backward_data(clgan_ctx *ctx, int n, int in, int out, clgan_view dy,
                                       clgan_view w, clgan_view dx);
clgan_status clgan_dense_backward_weight(clgan_ctx *ctx, int n, int in, int out, clgan_view x,
                                         clgan_view dy, clgan_view dw, clgan_view db,
                                         int accumulate);

/* ---- batch norm (src/ops/ops_batchnorm.c): x (N, C, HW) with HW = 1 for 1d ----
 * Training: normalise with the batch mean and biased variance, save mean and 1/sqrt(var+eps)
 * for backward (each (C)), and update running_mean/var (unbiased var) with momentum:
 * r = (1 - momentum) * r + momentum * batch (PyTorch: momentum 0.1, eps 1e-5).
 * running_* may be CLGAN_NONE to skip the update. */
clgan_status clgan_batchnorm_forward_train(clgan_ctx *ctx, int n, int c, int hw, clgan_view x,
                                           clgan_view gamma, clgan_view beta, clgan_view y,
                                           clgan_view save_mean, clgan_view save_invstd,
                                           clgan_view running_mean, clgan_view running_var,
                                           float momentum, float eps);
clgan_status clgan_batchnorm_forward_eval(clgan_ctx *ctx, int n, int c, int hw, clgan_view x,
                                          clgan_view gamma, clgan_view beta,
                                          clgan_view running_mean, clgan_view running_var,
                                          float eps, clgan_view y);
/* dx from dy (training-mode statistics); dgamma/dbeta (C) may be CLGAN_NONE (frozen net). */
clgan_status clgan_batchnorm_backward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x,
                                      clgan_view dy, clgan_view gamma, clgan_view save_mean,
                                      clgan_view save_invstd, clgan_view dx, clgan_view dgamma,
                                      clgan_view dbeta, int accumulate);

/* ---- activations (src/ops/ops_activation.c). y may alias x (in place). ---- */
typedef enum clgan_act {
  CLGAN_ACT_IDENTITY = 0,
  CLGAN_ACT_RELU,
  CLGAN_ACT_LEAKY_RELU, /* slope for x < 0 */
  CLGAN_ACT_TANH,
  CLGAN_ACT_SIGMOID
} clgan_act;
clgan_status clgan_activation_forward(clgan_ctx *ctx, clgan_act act, float slope, size_t n,
                                      clgan_view x, clgan_view y);
/* dx = dy * f'(x); x is the forward input and y its output (each kind reads the one it
 * needs: relu/leaky read x, tanh/sigmoid read y). dx may alias dy. */
clgan_status clgan_activation_backward(clgan_ctx *ctx, clgan_act act, float slope, size_t n,
                                       clgan_view x, clgan_view y, clgan_view dy,
                                       clgan_view dx);

/* ---- batch norm fused with the activation after it (src/ops/ops_batchnorm.c) ----
 * y = act(batchnorm_train(x)) in one pass, act identity, relu or leaky relu (slope); the
 * statistics, saves and running update are those of clgan_batchnorm_forward_train, and
 * the pre-activation is not stored. The backward takes dy = dL/dy and folds act' in:
 * it recomputes the pre-activation from x, the saves, gamma and beta (so those must be
 * what the forward used; beta as gamma may be CLGAN_NONE). y may not alias x; dx may
 * alias dy. A relu's zeros may come out as -0.0f. */
clgan_status clgan_batchnorm_act_forward_train(clgan_ctx *ctx, int n, int c, int hw,
                                               clgan_view x, clgan_view gamma, clgan_view beta,
                                               clgan_act act, float slope, clgan_view y,
                                               clgan_view save_mean, clgan_view save_invstd,
                                               clgan_view running_mean, clgan_view running_var,
                                               float momentum, float eps);
clgan_status clgan_batchnorm_act_backward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x,
                                          clgan_view dy, clgan_view gamma, clgan_view beta,
                                          clgan_act act, float slope, clgan_view save_mean,
                                          clgan_view save_invstd, clgan_view dx,
                                          clgan_view dgamma, clgan_view dbeta, int accumulate);

/* ---- batch norm over a batch split across data-parallel replicas (sync-bn) ----
 * The training forward and the backward above, each cut where its per-channel sums are
 * complete, so the caller can sum them over the replicas in between (src/nets/net.c):
 *   partial_stats: part (2C) = this replica's sum of x, then its sum of (x - its own
 *     mean)^2; the caller combines the replicas' (count, sum, M2) into the whole batch's
 *     mean (C) then biased variance (C) in `stats`.
 *   forward_apply: y = act(bn(x)) with those statistics over `count` values per channel;
 *     saves and the running update as clgan_batchnorm_act_forward_train.
 *   backward_partial: part (2C) = this replica's sum(dz), sum(dz * (x - mean)), dz = dy *
 *     act'(z) (left in dx when act is not identity).
 *   backward_apply: dx from the sums over the whole batch (total, 2C, the replicas' parts
 *     summed) and count; dgamma/dbeta get this replica's own part (the gradient reduction
 *     sums them). dx may alias dy.
 * With one replica (stats and total from the part alone) these give what the fused
 * kernels give, up to summation order. Tests: tests/ops_nn/test_bn_sync.c */
clgan_status clgan_batchnorm_partial_stats(clgan_ctx *ctx, int n, int c, int hw, clgan_view x,
                                           clgan_view part);
clgan_status clgan_batchnorm_act_forward_apply(clgan_ctx *ctx, int n, int c, int hw,
                                               clgan_view x, clgan_view gamma, clgan_view beta,
                                               clgan_act act, float slope, clgan_view stats,
                                               float count, clgan_view y, clgan_view save_mean,
                                               clgan_view save_invstd, clgan_view running_mean,
                                               clgan_view running_var, float momentum,
                                               float eps);
clgan_status clgan_batchnorm_act_backward_partial(clgan_ctx *ctx, int n, int c, int hw,
                                                  clgan_view x, clgan_view dy, clgan_view gamma,
                                                  clgan_view beta, clgan_act act, float slope,
                                                  clgan_view save_mean, clgan_view save_invstd,
                                                  clgan_view dx, clgan_view part);
clgan_status clgan_batchnorm_act_backward_apply(clgan_ctx *ctx, int n, int c, int hw,
                                                clgan_view x, clgan_view dy, clgan_view gamma,
                                                clgan_act act, clgan_view save_mean,
                                                clgan_view save_invstd, clgan_view part,
                                                clgan_view total, float count, clgan_view dx,
                                                clgan_view dgamma, clgan_view dbeta,
                                                int accumulate);

/* ---- GAN losses (src/ops/ops_loss.c), from logits, mean over n ----
 * Each writes out[0] = the mean loss and out[1] = mean(sigmoid(logit)) (D's output as a
 * probability, for the logs) into a device buffer, and dlogits[i] = scale * dloss/dlogit_i
 * (the 1/n of the mean included), so the two D terms can be summed with scale 1.
 *   BCE          target t:  max(x,0) - x*t + log1p(exp(-|x|))        (D; G non-saturating: t=1)
 *   MINIMAX_G              :  -softplus(x) = log(1 - sigmoid(x))        (G minimises it)
 *   SQUARED      target t:  0.5 * (x - t)^2                         (LSGAN)
 *   HINGE        target t:  relu(1 - t*x), t = +1 real, -1 fake     (hinge D)
 *   LINEAR       target t:  -t * x                                  (hinge G with t = 1) */
typedef enum clgan_loss {
  CLGAN_LOSS_BCE = 0,
  CLGAN_LOSS_MINIMAX_G,
  CLGAN_LOSS_SQUARED,
  CLGAN_LOSS_HINGE,
  CLGAN_LOSS_LINEAR
} clgan_loss;
clgan_status clgan_loss_forward_backward(clgan_ctx *ctx, clgan_loss kind, float target, int n,
                                         clgan_view logits, float scale, clgan_view out2,
                                         clgan_view dlogits /* CLGAN_NONE: loss only */);

/* ---- content losses (src/ops/ops_loss.c, kernels/loss.cl): image-to-image ----
 * Mean over n values of |a - b| (L1) or (a - b)^2 (MSE), written to out[0] (a device
 * float), and da = scale * d mean / d a: scale * sign(a - b) / n (0 where a == b, as
 * torch.sign) or scale * 2 (a - b) / n, added to da when accumulate. b is the target (no
 * gradient). Fixed summation order: the same bits every call. Tests:
 * tests/ops_nn/test_content_loss.c */
typedef enum clgan_content {
  CLGAN_CONTENT_NONE = 0,
  CLGAN_CONTENT_L1,
  CLGAN_CONTENT_MSE
} clgan_content;
clgan_status clgan_content_loss(clgan_ctx *ctx, clgan_content kind, size_t n, clgan_view a,
                                clgan_view b, float scale, clgan_view out,
                                clgan_view da /* CLGAN_NONE: loss only */, int accumulate);

/* ---- softmax cross-entropy (src/ops/ops_loss.c, kernels/loss.cl): classifiers ----
 * logits (n, k) rows, labels (n) int32 (the view's offset counts int32s) in 0..k-1.
 * Writes out2[0] = mean over rows of -log softmax(x_i)[y_i] and out2[1] = accuracy (the
 * fraction of rows whose first largest logit is the label) into a device buffer, and
 * dlogits (n, k) = scale * (softmax(x_i) - onehot(y_i)) / n. Max-subtracted (any finite
 * logits are safe); fixed summation order (the same bits on every call). A label outside
 * 0..k-1 makes out2[0] NaN. Tests: tests/ops_nn/test_softmax_xent.c */
clgan_status clgan_softmax_xent(clgan_ctx *ctx, int n, int k, clgan_view logits,
                                clgan_view labels, float scale, clgan_view out2,
                                clgan_view dlogits /* CLGAN_NONE: loss only */);

/* ---- optimisers (src/ops/ops_optim.c): one launch over a whole parameter arena ----
 * Adam as torch.optim.Adam / AdamW: step t counts from 1; bias-corrected; weight_decay is
 * L2 added to the gradient (decoupled = 0, Adam) or decoupled p -= lr*wd*p (AdamW). */
clgan_status clgan_adam_step(clgan_ctx *ctx, size_t n, clgan_view param, clgan_view grad,
                             clgan_view m, clgan_view v, float lr, float beta1, float beta2,
                             float eps, float weight_decay, int decoupled, long step);
/* SGD with momentum as torch.optim.SGD (dampening 0, no nesterov): buf = mu*buf + g
 * (buf = g on step 1), p -= lr * buf. */
clgan_status clgan_sgd_step(clgan_ctx *ctx, size_t n, clgan_view param, clgan_view grad,
                            clgan_view buf, float lr, float momentum, float weight_decay,
                            long step);

/* Exponential moving average (EMA of a generator's weights): ema[i] = decay * ema[i] +
 * (1 - decay) * param[i], one launch, decay in [0, 1]. Computed as fma(decay, ema,
 * (1 - decay) * param) with 1 - decay rounded to a float: the host twin below gives the
 * same bits. */
clgan_status clgan_ema_update(clgan_ctx *ctx, size_t n, float decay, clgan_view param,
                              clgan_view ema);
void clgan_ema_update_host(size_t n, float decay, const float *param, float *ema);

/* ---- counter-based random numbers (src/ops/ops_rng.c, Philox4x32-10) ----
 * Value i of a stream is a pure function of (seed, counter + i): the same on every device
 * and on the host (clgan_philox_* below), whatever the launch shape. */
clgan_status clgan_rng_uniform(clgan_ctx *ctx, size_t n, unsigned long long seed,
                               unsigned long long counter, float lo, float hi, clgan_view out);
clgan_status clgan_rng_normal(clgan_ctx *ctx, size_t n, unsigned long long seed,
                              unsigned long long counter, float mean, float std,
                              clgan_view out);
/* Host twins, bit-identical to the device kernels' float results. */
void clgan_philox_uniform(size_t n, unsigned long long seed, unsigned long long counter,
                          float lo, float hi, float *out);
void clgan_philox_normal(size_t n, unsigned long long seed, unsigned long long counter,
                         float mean, float std, float *out);

/* ---- reductions (src/ops/ops_reduce.c): results land in a device buffer ---- */
/* out[0] = sum(x) */
clgan_status clgan_reduce_sum(clgan_ctx *ctx, size_t n, clgan_view x, clgan_view out);
/* out[0] = sum(x^2) (sqrt on the host gives the L2 norm) */
clgan_status clgan_reduce_sumsq(clgan_ctx *ctx, size_t n, clgan_view x, clgan_view out);
/* Mean pairwise L2 distance between the n rows of x (n, d): a diversity measure for
 * sample batches (mode collapse drives it to 0). out[0] = the mean. */
clgan_status clgan_pairwise_distance_mean(clgan_ctx *ctx, int n, int d, clgan_view x,
                                          clgan_view out);

/* ---- graph nodes (src/ops/ops_graph.c, kernels/graph.cl) ----
 * The node kinds of the graph model, PyTorch semantics, NCHW. `accumulate` = 1 adds into the
 * destination, 0 overwrites. Views on int buffers (labels) count ints. Every reduction has a
 * fixed order (no atomics), so the same call gives the same bits run to run. Sizes may be 0
 * (nothing is enqueued); negative sizes and bad factors give CLGAN_ERR_INVALID_ARG. */
/* y[:, y_coff:y_coff+c, :] (+)= x[:, x_coff:x_coff+c, :] for tensors (n, x_ctot, hw) and
 * (n, y_ctot, hw): concat forward is one call per input; its backward one call per input with
 * the roles swapped. Features concat is hw = 1. */
clgan_status clgan_channel_copy(clgan_ctx *ctx, int n, int c, int hw, clgan_view x, int x_ctot,
                                int x_coff, clgan_view y, int y_ctot, int y_coff,
                                int accumulate);
/* y = a + b, n elements (y may alias a or b) */
clgan_status clgan_add(clgan_ctx *ctx, size_t n, clgan_view a, clgan_view b, clgan_view y);
/* ProGAN's fade-in node: y = (1 - alpha) a + alpha b, alpha in [0, 1] (y may be a or b);
 * its backward da (+)= (1 - alpha) dy, db (+)= alpha dy (each may be CLGAN_NONE; acc per
 * input). Linear, so its tangent (gradient penalties) is its forward.
 * Tests: tests/ops_graph/test_graph_arith.c, tests/train/test_penalty.c */
clgan_status clgan_fade_forward(clgan_ctx *ctx, size_t n, float alpha, clgan_view a, clgan_view b,
                                clgan_view y);
clgan_status clgan_fade_backward(clgan_ctx *ctx, size_t n, float alpha, clgan_view dy,
                                 clgan_view da, int acc_a, clgan_view db, int acc_b);
/* y = a * b, a (n, c, hw); b (n, c, hw), or b (n, c) broadcast over hw when b_vec = 1
 * (y may alias a) */
clgan_status clgan_mul_forward(clgan_ctx *ctx, int n, int c, int hw, clgan_view a, clgan_view b,
                               int b_vec, clgan_view y);
/* da (+)= dy * b, db (+)= dy * a (summed over hw when b_vec); either may be CLGAN_NONE.
 * da may alias dy. */
clgan_status clgan_mul_backward(clgan_ctx *ctx, int n, int c, int hw, clgan_view a, clgan_view b,
                                int b_vec, clgan_view dy, clgan_view da, clgan_view db,
                                int accumulate);
/* nn.Embedding: y (n, dim) = w[labels[i]] for w (num, dim); a label outside 0..num-1 gives a
 * zero row (the host validates labels before; the kernel never reads out of bounds) */
clgan_status clgan_embed_forward(clgan_ctx *ctx, int n, int num, int dim, clgan_view labels,
                                 clgan_view w, clgan_view y);
/* dw (+)= sum over samples i with labels[i] = row of dy[i]; deterministic: each dw element
 * loops i = 0..n-1 in order */
clgan_status clgan_embed_backward(clgan_ctx *ctx, int n, int num, int dim, clgan_view labels,
                                  clgan_view dy, clgan_view dw, int accumulate);
/* nearest upsampling by k: (n, c, h, w) -> (n, c, h*k, w*k) as nn.Upsample(scale_factor=k);
 * backward sums each k x k block */
clgan_status clgan_upsample_forward(clgan_ctx *ctx, int n, int c, int h, int w, int k,
                                    clgan_view x, clgan_view y);
clgan_status clgan_upsample_backward(clgan_ctx *ctx, int n, int c, int h, int w, int k,
                                     clgan_view dy, clgan_view dx, int accumulate);
/* upsampling by k with a mode: CLGAN_UPSAMPLE_NEAREST (the above), _BILINEAR
 * (nn.Upsample(mode='bilinear', align_corners=False)) or _BICUBIC (MATLAB imresize's bicubic,
 * Keys a = -0.5, symmetric edges: clgan_upscale_bicubic of photo.h). Linear: the backward is
 * the transpose, gathered per input value in a fixed order (deterministic).
 * Tests: tests/ops_graph/test_graph_resize.c */
enum { CLGAN_UPSAMPLE_NEAREST = 0, CLGAN_UPSAMPLE_BILINEAR = 1, CLGAN_UPSAMPLE_BICUBIC = 2 };
clgan_status clgan_upsample_mode_forward(clgan_ctx *ctx, int n, int c, int h, int w, int k,
                                         int mode, clgan_view x, clgan_view y);
clgan_status clgan_upsample_mode_backward(clgan_ctx *ctx, int n, int c, int h, int w, int k,
                                          int mode, clgan_view dy, clgan_view dx,
                                          int accumulate);
/* reflect padding by p (nn.ReflectionPad2d(p); nn.Conv2d's padding_mode='reflect'), p < h and
 * p < w: (n, c, h, w) -> (n, c, h+2p, w+2p); h, w are the INPUT sizes. The backward gathers,
 * for each input value, the gradients of every padded position that reads it (at most 3 per
 * axis, in increasing order): deterministic. Tests: tests/ops_graph/test_graph_reflect.c */
clgan_status clgan_reflect_pad_forward(clgan_ctx *ctx, int n, int c, int h, int w, int p,
                                       clgan_view x, clgan_view y);
clgan_status clgan_reflect_pad_backward(clgan_ctx *ctx, int n, int c, int h, int w, int p,
                                        clgan_view dy, clgan_view dx, int accumulate);
/* nn.AvgPool2d(k) (stride k, no padding; h, w multiples of k): (n,c,h,w) -> (n,c,h/k,w/k);
 * h, w are the INPUT sizes */
clgan_status clgan_avgpool_forward(clgan_ctx *ctx, int n, int c, int h, int w, int k,
                                   clgan_view x, clgan_view y);
clgan_status clgan_avgpool_backward(clgan_ctx *ctx, int n, int c, int h, int w, int k,
                                    clgan_view dy, clgan_view dx, int accumulate);
/* sum over h*w: (n, c, hw) -> (n, c) (projection discriminator); backward broadcasts */
clgan_status clgan_sumpool_forward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x,
                                   clgan_view y);
clgan_status clgan_sumpool_backward(clgan_ctx *ctx, int n, int c, int hw, clgan_view dy,
                                    clgan_view dx, int accumulate);
/* nn.PixelShuffle(r): (n, c*r*r, h, w) -> (n, c, h*r, w*r); c is the OUTPUT channel count,
 * h, w the input sizes. backward is the inverse permutation (pixel unshuffle) */
clgan_status clgan_pixelshuffle_forward(clgan_ctx *ctx, int n, int c, int h, int w, int r,
                                        clgan_view x, clgan_view y);
clgan_status clgan_pixelshuffle_backward(clgan_ctx *ctx, int n, int c, int h, int w, int r,
                                         clgan_view dy, clgan_view dx, int accumulate);
/* nn.InstanceNorm2d(c, affine): per (sample, channel) mean and biased variance over hw
 * (hw >= 2, as PyTorch); gamma/beta (c) or CLGAN_NONE (affine=False, PyTorch's default);
 * saves mean and 1/sqrt(var+eps), (n*c) each, for the backward */
clgan_status clgan_instancenorm_forward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x,
                                        clgan_view gamma, clgan_view beta, float eps,
                                        clgan_view y, clgan_view save_mean,
                                        clgan_view save_invstd);
/* dx (overwritten, never accumulated; may alias dy); dgamma, dbeta (c) may be CLGAN_NONE
 * (frozen or non-affine) */
clgan_status clgan_instancenorm_backward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x,
                                         clgan_view dy, clgan_view gamma, clgan_view save_mean,
                                         clgan_view save_invstd, clgan_view dx,
                                         clgan_view dgamma, clgan_view dbeta, int accumulate);
/* inverted dropout: element i is dropped (0) when the Philox uniform u(seed, counter + i) < p,
 * else scaled by 1/(1-p) (the float 1.0f / (1.0f - p)). u is bit-identical to
 * clgan_rng_uniform / clgan_philox_uniform(lo 0, hi 1) of the same (seed, counter), so the
 * host can reproduce the mask exactly. The backward recomputes the mask (nothing stored).
 * p in [0, 1); p = 0 copies. y may alias x (dx may alias dy). */
clgan_status clgan_dropout_forward(clgan_ctx *ctx, size_t n, float p, unsigned long long seed,
                                   unsigned long long counter, clgan_view x, clgan_view y);
clgan_status clgan_dropout_backward(clgan_ctx *ctx, size_t n, float p, unsigned long long seed,
                                    unsigned long long counter, clgan_view dy, clgan_view dx,
                                    int accumulate);
/* nn.PReLU(num_parameters = a_count), a_count 1 or c: y = x > 0 ? x : a[ch] * x */
clgan_status clgan_prelu_forward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x, clgan_view a,
                                 int a_count, clgan_view y);
/* dx (+)= dy * (x > 0 ? 1 : a); da (a_count) (+)= sum of dy * x over x <= 0 (fixed order);
 * either may be CLGAN_NONE. At x == 0 both take the slope side, as PyTorch's prelu backward.
 * dx may alias dy or x. */
clgan_status clgan_prelu_backward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x, clgan_view a,
                                  int a_count, clgan_view dy, clgan_view dx, clgan_view da,
                                  int accumulate);

/* ---- ProGAN (src/ops/ops_progan.c, kernels/progan.cl) ----
 * Pixel norm (Karras et al. 2018) over the channels of each pixel of x (n, c, hw):
 * y = x / sqrt(mean_c x^2 + eps) (ProGAN's eps 1e-8); the backward reads x:
 * dx (+)= r dy - x r^3 mean_c(dy x), r = 1 / sqrt(mean_c x^2 + eps). Fixed channel order.
 * Tests: tests/ops_graph/test_progan.c */
clgan_status clgan_pixelnorm_forward(clgan_ctx *ctx, int n, int c, int hw, float eps, clgan_view x,
                                     clgan_view y);
clgan_status clgan_pixelnorm_backward(clgan_ctx *ctx, int n, int c, int hw, float eps,
                                      clgan_view x, clgan_view dy, clgan_view dx, int accumulate);
/* Minibatch standard deviation: x (n, c, hw) -> y (n, c + 1, hw), groups of g consecutive
 * samples (n a multiple of g): y[:, :c] = x, y[:, c] = s_j for every sample of group j,
 * s_j = mean over (channel, pixel) of sqrt(biased variance over the group + eps) (ProGAN's
 * own definition). The backward adds dy[:, :c] and the std's gradient (dx overwritten, or
 * added to with accumulate). Tests: tests/ops_graph/test_progan.c */
clgan_status clgan_mbstd_forward(clgan_ctx *ctx, int n, int g, int c, int hw, float eps,
                                 clgan_view x, clgan_view y);
clgan_status clgan_mbstd_backward(clgan_ctx *ctx, int n, int g, int c, int hw, float eps,
                                  clgan_view x, clgan_view dy, clgan_view dx, int accumulate);
/* Its double backward (gradient penalties through D): the JVP along a tangent t of x,
 * y (n, c + 1, hw) = (t, the std channel's derivative along t), and the Hessian-vector
 * term r (+)= grad_x <dy, J(x) t> with t and dy held (docs/KERNELS.md "Double backward").
 * Tests: tests/ops_graph/test_progan.c (float64 reference, finite differences),
 * tests/train/test_penalty.c (a ProGAN-like D) */
clgan_status clgan_mbstd_jvp(clgan_ctx *ctx, int n, int g, int c, int hw, float eps,
                             clgan_view x, clgan_view t, clgan_view y);
clgan_status clgan_mbstd_hvp(clgan_ctx *ctx, int n, int g, int c, int hw, float eps,
                             clgan_view x, clgan_view t, clgan_view dy, clgan_view r,
                             int accumulate);

#ifdef __cplusplus
}
#endif
#endif
