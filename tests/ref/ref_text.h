/* Float64 references for the text-to-image nodes (tests/ref/ref_text.c; include/clgan/text.h):
 * the weighted bag of token embeddings and conditioning augmentation with its KL term. Used by
 * tests/ops_graph/test_text_ops.c (which checks their backwards by central differences) and by
 * `clgan doctor` (tools/doctor_text.c). `text` holds per sample `slots` ids then `slots`
 * weights stored as float bits (CLGAN_TEXT_SAMPLE_INTS = 2 * 32 for the library's slots); ids
 * outside 0..num-1 add nothing. `acc` = 1 adds into the destination, 0 overwrites. */
#ifndef CLGAN_REF_TEXT_H
#define CLGAN_REF_TEXT_H

/* y[i, d] = sum_k weight[i, k] * w[id[i, k], d] */
void ref_embedbag_forward(int n, int num, int dim, int slots, const int *text, const double *w,
                          double *y);
void ref_embedbag_backward(int n, int num, int dim, int slots, const int *text, const double *dy,
                           double *dw, int acc);
/* x: n x (mu[dim], logvar[dim]); y = mu + exp(logvar / 2) * eps */
void ref_condaug_forward(int n, int dim, const double *x, const double *eps, double *y);
/* KL = -0.5 mean(1 + logvar - mu^2 - e^logvar) over n * dim (StackGAN's KL_loss) */
double ref_condaug_kl(int n, int dim, const double *x);
/* dx of dy . y + klw * KL */
void ref_condaug_backward(int n, int dim, const double *x, const double *eps, const double *dy,
                          double klw, double *dx, int acc);

#endif
