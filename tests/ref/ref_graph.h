/* Float64 references for the graph-model nodes (tests/ref/ref_graph.c), in double throughout:
 * the device tests (tests/ops_graph/) convert to and from float around them, and the host
 * test (tests/ops_graph/test_ref_graph.c) checks every backward against central differences
 * of the forward. Shapes and semantics as include/clgan/ops.h, "graph nodes"; `acc` = 1 adds
 * into the destination, 0 overwrites; an optional output may be NULL. */
#ifndef CLGAN_REF_GRAPH_H
#define CLGAN_REF_GRAPH_H
#include <stddef.h>

void ref_channel_copy(int n, int c, int hw, const double *x, int x_ctot, int x_coff, double *y,
                      int y_ctot, int y_coff, int acc);
void ref_add(size_t n, const double *a, const double *b, double *y);
void ref_fade_forward(size_t n, double alpha, const double *a, const double *b, double *y);
void ref_fade_backward(size_t n, double alpha, const double *dy, double *da, double *db, int acc);
void ref_mul_forward(int n, int c, int hw, const double *a, const double *b, int b_vec,
                     double *y);
void ref_mul_backward(int n, int c, int hw, const double *a, const double *b, int b_vec,
                      const double *dy, double *da, double *db, int acc);
void ref_embed_forward(int n, int num, int dim, const int *labels, const double *w, double *y);
void ref_embed_backward(int n, int num, int dim, const int *labels, const double *dy,
                        double *dw, int acc);
void ref_upsample_forward(int n, int c, int h, int w, int k, const double *x, double *y);
void ref_upsample_backward(int n, int c, int h, int w, int k, const double *dy, double *dx,
                           int acc);
void ref_avgpool_forward(int n, int c, int h, int w, int k, const double *x, double *y);
void ref_avgpool_backward(int n, int c, int h, int w, int k, const double *dy, double *dx,
                          int acc);
void ref_sumpool_forward(int n, int c, int hw, const double *x, double *y);
void ref_sumpool_backward(int n, int c, int hw, const double *dy, double *dx, int acc);
void ref_pixelshuffle_forward(int n, int c, int h, int w, int r, const double *x, double *y);
void ref_pixelshuffle_backward(int n, int c, int h, int w, int r, const double *dy, double *dx,
                               int acc);
/* gamma/beta NULL: 1 and 0; save_mean/save_invstd (n*c) may be NULL. */
void ref_instancenorm_forward(int n, int c, int hw, const double *x, const double *gamma,
                              const double *beta, double eps, double *y, double *save_mean,
                              double *save_invstd);
/* From the saved statistics (those of the forward make it the exact gradient); dx is
 * overwritten; dgamma/dbeta may be NULL and accumulate when acc. */
void ref_instancenorm_backward(int n, int c, int hw, const double *x, const double *dy,
                               const double *gamma, const double *save_mean,
                               const double *save_invstd, double *dx, double *dgamma,
                               double *dbeta, int acc);
/* keep[i] = 0 when the uniform (word >> 8) / 2^24 of Philox stream value counter + i
 * (ref_philox_word, written from the Random123 definition) is < p, else 1. */
void ref_dropout_mask(size_t n, double p, unsigned long long seed, unsigned long long counter,
                      unsigned char *keep);
/* y (+)= keep * x / (1 - p): the forward (acc 0) and, on (dy, dx), the backward. */
void ref_dropout(size_t n, double p, unsigned long long seed, unsigned long long counter,
                 const double *x, double *y, int acc);
void ref_prelu_forward(int n, int c, int hw, const double *x, const double *a, int a_count,
                       double *y);
void ref_prelu_backward(int n, int c, int hw, const double *x, const double *a, int a_count,
                        const double *dy, double *dx, double *da, int acc);
/* reflect padding by p of `planes` (h, w) planes, as numpy.pad(mode='reflect') (the edge not
 * repeated): y is (planes, h+2p, w+2p); the backward is its adjoint, a scatter-add. */
void ref_reflect_pad_forward(int planes, int h, int w, int p, const double *x, double *y);
void ref_reflect_pad_backward(int planes, int h, int w, int p, const double *dy, double *dx,
                              int acc);

/* ProGAN's pixel norm: y = x / sqrt(mean_c x^2 + eps) per pixel of x (n, c, hw); the backward
 * from x (dx overwritten, or added to when acc) */
void ref_pixelnorm_forward(int n, int c, int hw, double eps, const double *x, double *y);
void ref_pixelnorm_backward(int n, int c, int hw, double eps, const double *x, const double *dy,
                            double *dx, int acc);
/* ProGAN's minibatch stddev: x (n, c, hw) -> y (n, c + 1, hw), groups of g consecutive
 * samples, the extra channel the group's mean over (channel, pixel) of sqrt(biased var +
 * eps); the backward from x (dx overwritten, or added to when acc) */
void ref_mbstd_forward(int n, int g, int c, int hw, double eps, const double *x, double *y);
void ref_mbstd_backward(int n, int g, int c, int hw, double eps, const double *x,
                        const double *dy, double *dx, int acc);
void ref_mbstd_jvp(int n, int g, int c, int hw, double eps, const double *x, const double *t,
                   double *y);
void ref_mbstd_hvp(int n, int g, int c, int hw, double eps, const double *x, const double *t,
                   const double *dy, double *r, int acc);
#endif
