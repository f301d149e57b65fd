/* Float64 references: conv2d, conv_transpose2d, dense, bias (tests/ref/ref_conv.c).
 * Checked by tests/ops_conv/test_ref_conv.c (finite differences, adjoint identity). */
#ifndef CLGAN_REF_CONV_H
#define CLGAN_REF_CONV_H
#include <stddef.h>

/* The geometry of one conv2d or conv_transpose2d, as clgan_conv has it (the reference does
 * not include the library). conv2d: x (n, c_in, h_in, w_in), w (c_out, c_in, kh, kw);
 * conv_transpose2d: w (c_in, c_out, kh, kw). y is (n, c_out, h_out, w_out) in both. */
typedef struct ref_conv_shape {
  int n, c_in, h_in, w_in;
  int c_out, h_out, w_out;
  int kh, kw, stride, pad, out_pad;
} ref_conv_shape;

/* Fills h_out/w_out: PyTorch's Conv2d (transposed = 0) or ConvTranspose2d (1) formula. */
void ref_conv_shape_init(ref_conv_shape *s, int transposed);

/* Each function is written straight from its definition (not through the other ones), so
 * the finite-difference and adjoint checks compare independent code. b may be NULL.
 * `accumulate` = 1 adds into dw/db, 0 overwrites. */
void ref_conv2d_forward(const ref_conv_shape *s, const float *x, const float *w,
                        const float *b, float *y);
void ref_conv2d_backward_data(const ref_conv_shape *s, const float *dy, const float *w,
                              float *dx);
void ref_conv2d_backward_weight(const ref_conv_shape *s, const float *x, const float *dy,
                                float *dw, int accumulate);
void ref_conv_transpose2d_forward(const ref_conv_shape *s, const float *x, const float *w,
                                  const float *b, float *y);
void ref_conv_transpose2d_backward_data(const ref_conv_shape *s, const float *dy,
                                        const float *w, float *dx);
void ref_conv_transpose2d_backward_weight(const ref_conv_shape *s, const float *x,
                                          const float *dy, float *dw, int accumulate);

/* db[c] (+)= sum over n and hw of dy (n, c, hw): the bias gradient of conv and dense. */
void ref_bias_backward(int n, int c, int hw, const float *dy, float *db, int accumulate);

/* Linear as PyTorch's: x (n, in), w (out, in), b (out) or NULL, y (n, out). */
void ref_dense_forward(int n, int in, int out, const float *x, const float *w, const float *b,
                       float *y);
void ref_dense_backward_data(int n, int in, int out, const float *dy, const float *w,
                             float *dx);
/* db may be NULL. */
void ref_dense_backward_weight(int n, int in, int out, const float *x, const float *dy,
                               float *dw, float *db, int accumulate);

#endif
