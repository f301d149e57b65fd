/* Float64 references: batch norm, activations, losses, optimisers, RNG, reductions (tests/ref/ref_nn.c).
 * Checked by tests/ops_nn/test_ref_nn.c (finite differences, closed forms, Philox known answers). */
#ifndef CLGAN_REF_NN_H
#define CLGAN_REF_NN_H
#include <stddef.h>
#include <stdint.h>

/* ---- batch norm, x (n, c, hw), PyTorch semantics (see include/clgan/ops.h) ----
 * running_mean/running_var may be NULL (no update); gamma/beta may be NULL (1 and 0). */
void ref_batchnorm_forward_train(int n, int c, int hw, const float *x, const float *gamma,
                                 const float *beta, float *y, float *save_mean,
                                 float *save_invstd, float *running_mean, float *running_var,
                                 float momentum, float eps);
void ref_batchnorm_forward_eval(int n, int c, int hw, const float *x, const float *gamma,
                                const float *beta, const float *running_mean,
                                const float *running_var, float eps, float *y);
/* dgamma/dbeta may be NULL; `accumulate` = 1 adds into them. */
void ref_batchnorm_backward(int n, int c, int hw, const float *x, const float *dy,
                            const float *gamma, const float *save_mean,
                            const float *save_invstd, float *dx, float *dgamma, float *dbeta,
                            int accumulate);
/* The same in double throughout, for finite differences: the training forward (no running
 * statistics) and its backward, which recomputes the batch statistics from x. */
void ref_batchnorm_train_f64(int n, int c, int hw, const double *x, const double *gamma,
                             const double *beta, double eps, double *y);
void ref_batchnorm_backward_f64(int n, int c, int hw, const double *x, const double *dy,
                                const double *gamma, double eps, double *dx, double *dgamma,
                                double *dbeta);

/* ---- activations: kind as clgan_act (0 identity, 1 relu, 2 leaky relu, 3 tanh, 4 sigmoid) */
enum { REF_ACT_IDENTITY = 0, REF_ACT_RELU, REF_ACT_LEAKY_RELU, REF_ACT_TANH, REF_ACT_SIGMOID };
double ref_act_f64(int kind, double slope, double x);
/* d f / d x at x, written from the derivative's formula (not through f). */
double ref_act_grad_f64(int kind, double slope, double x);
void ref_activation_forward(int kind, float slope, size_t n, const float *x, float *y);
/* dx = dy * f'(x): the reference reads x for every kind (the device reads y for tanh and
 * sigmoid, which is the same value). */
void ref_activation_backward(int kind, float slope, size_t n, const float *x, const float *dy,
                             float *dx);

/* ---- GAN losses: kind as clgan_loss (0 bce, 1 minimax_g, 2 squared, 3 hinge, 4 linear) */
enum { REF_LOSS_BCE = 0, REF_LOSS_MINIMAX_G, REF_LOSS_SQUARED, REF_LOSS_HINGE, REF_LOSS_LINEAR };
/* One element's loss and its derivative with respect to the logit. */
double ref_loss_f64(int kind, double target, double x);
double ref_loss_grad_f64(int kind, double target, double x);
/* out2[0] = mean loss, out2[1] = mean sigmoid(logit); dlogits[i] = scale * dmean/dlogit_i
 * (dlogits may be NULL). */
void ref_loss_forward_backward(int kind, float target, int n, const float *logits, float scale,
                               float *out2, float *dlogits);

/* ---- content losses: kind as clgan_content (1 l1, 2 mse) ----
 * *loss = mean over n of |a - b| or (a - b)^2; grad[i] = scale * d loss / d a_i
 * (sign(a - b), 0 where equal, as torch.sign; or 2 (a - b)) / n. Float64. */
enum { REF_CONTENT_L1 = 1, REF_CONTENT_MSE = 2 };
void ref_content_loss(int kind, size_t n, const float *a, const float *b, double scale,
                      double *loss, double *grad);

/* ---- softmax cross-entropy: logits (n, k), labels (n) in 0..k-1 ----
 * out2[0] = mean loss, out2[1] = accuracy (first largest logit); dlogits (may be NULL)
 * = scale * (softmax - onehot) / n. Float64 throughout, max-subtracted. */
void ref_softmax_xent(int n, int k, const float *logits, const int32_t *labels, float scale,
                      float *out2, float *dlogits);
/* The mean loss alone in float64, for finite differences. */
double ref_softmax_xent_loss_f64(int n, int k, const double *logits, const int32_t *labels);

/* ---- optimisers, torch.optim semantics ---- */
void ref_adam_step(size_t n, float *param, const float *grad, float *m, float *v, float lr,
                   float beta1, float beta2, float eps, float weight_decay, int decoupled,
                   long step);
void ref_sgd_step(size_t n, float *param, const float *grad, float *buf, float lr,
                  float momentum, float weight_decay, long step);

/* ---- Philox4x32-10, written from the Random123 definition ---- */
void ref_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);
/* The raw 32-bit words behind stream value j: word j % 4 of the block counter
 * (j / 4, 0) under key (seed). The library's uniform is lo + (hi-lo) * (word >> 8) / 2^24;
 * its normal is Box-Muller on the block's word pair (2p, 2p+1), p = (j % 4) / 2. */
uint32_t ref_philox_word(unsigned long long seed, unsigned long long j);
/* Box-Muller in double on the same words and the same mapping as the library: the value
 * the library's float normal approximates. */
double ref_philox_normal_f64(unsigned long long seed, unsigned long long j);

/* ---- reductions ---- */
double ref_sum(size_t n, const float *x);
double ref_sumsq(size_t n, const float *x);
/* Mean over the n(n-1)/2 pairs i < j of ||row_i - row_j||_2, rows of x (n, d); 0 if n < 2. */
double ref_pairwise_distance_mean(int n, int d, const float *x);

#endif
