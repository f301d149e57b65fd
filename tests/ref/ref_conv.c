/* Float64 references for conv2d, conv_transpose2d, dense and bias, in PyTorch's layouts.
 * Tests of the references themselves: tests/ops_conv/test_ref_conv.c. */
#include <stdio.h>
#include <stdlib.h>

#include "ref.h"

/* Reference code runs in tests and in `clgan doctor` on small shapes: running out of host
 * memory there is not a case worth a status path. */
static double *scratch(size_t n) {
  double *p = calloc(n ? n : 1, sizeof(double));
  if (!p) {
    fprintf(stderr, "ref_conv: out of host memory (%zu doubles)\n", n);
    abort();
  }
  return p;
}

void ref_conv_shape_init(ref_conv_shape *s, int transposed) {
  if (transposed) {
    s->h_out = (s->h_in - 1) * s->stride - 2 * s->pad + s->kh + s->out_pad;
    s->w_out = (s->w_in - 1) * s->stride - 2 * s->pad + s->kw + s->out_pad;
  } else {
    s->h_out = (s->h_in + 2 * s->pad - s->kh) / s->stride + 1;
    s->w_out = (s->w_in + 2 * s->pad - s->kw) / s->stride + 1;
  }
}

/* The positions o in [*lo, *hi] of a `out`-long axis whose tap k lands inside the `in`-long
 * one: 0 <= o*stride - pad + k < in. Clamping the loops to it, rather than testing every
 * tap, lets the compiler vectorise the inner loops (the dcgan28 shapes are big). */
static void tap_range(int k, int stride, int pad, int in, int out, int *lo, int *hi) {
  int first = pad - k, last = in - 1 + pad - k; /* o*stride must lie in [first, last] */
  *lo = first > 0 ? (first + stride - 1) / stride : 0;
  *hi = last < 0 ? -1 : last / stride;
  if (*hi > out - 1) *hi = out - 1;
}

/* Index helpers; the loops below read like the formulas in ops.h. */
#define X4(p, d1, d2, d3, a, b, c, d) \
  (p)[(((size_t)(a) * (d1) + (size_t)(b)) * (d2) + (size_t)(c)) * (d3) + (size_t)(d)]

/* y[n,co,oh,ow] = b[co] + sum x[n,ci,oh*s-p+kh,ow*s-p+kw] * w[co,ci,kh,kw] */
void ref_conv2d_forward(const ref_conv_shape *s, const float *x, const float *w,
                        const float *b, float *y) {
  const int ho = s->h_out, wo = s->w_out;
  double *acc = scratch((size_t)ho * wo);
  for (int n = 0; n < s->n; n++)
    for (int co = 0; co < s->c_out; co++) {
      for (int i = 0; i < ho * wo; i++) acc[i] = b ? b[co] : 0.0;
      for (int ci = 0; ci < s->c_in; ci++)
        for (int kh = 0; kh < s->kh; kh++)
          for (int kw = 0; kw < s->kw; kw++) {
            double wv = X4(w, s->c_in, s->kh, s->kw, co, ci, kh, kw);
            int oh0, oh1, ow0, ow1;
            tap_range(kh, s->stride, s->pad, s->h_in, ho, &oh0, &oh1);
            tap_range(kw, s->stride, s->pad, s->w_in, wo, &ow0, &ow1);
            for (int oh = oh0; oh <= oh1; oh++) {
              const float *xr =
                  &X4(x, s->c_in, s->h_in, s->w_in, n, ci, oh * s->stride - s->pad + kh, 0);
              for (int ow = ow0; ow <= ow1; ow++)
                acc[oh * wo + ow] += wv * xr[ow * s->stride - s->pad + kw];
            }
          }
      for (int i = 0; i < ho * wo; i++)
        y[((size_t)n * s->c_out + co) * ho * wo + i] = (float)acc[i];
    }
  free(acc);
}

/* Scatter form: every (output, tap) pair adds its product into the input it read. */
void ref_conv2d_backward_data(const ref_conv_shape *s, const float *dy, const float *w,
                              float *dx) {
  const int hi = s->h_in, wi = s->w_in;
  double *acc = scratch((size_t)hi * wi);
  for (int n = 0; n < s->n; n++)
    for (int ci = 0; ci < s->c_in; ci++) {
      for (int i = 0; i < hi * wi; i++) acc[i] = 0.0;
      for (int co = 0; co < s->c_out; co++)
        for (int kh = 0; kh < s->kh; kh++)
          for (int kw = 0; kw < s->kw; kw++) {
            double wv = X4(w, s->c_in, s->kh, s->kw, co, ci, kh, kw);
            int oh0, oh1, ow0, ow1;
            tap_range(kh, s->stride, s->pad, hi, s->h_out, &oh0, &oh1);
            tap_range(kw, s->stride, s->pad, wi, s->w_out, &ow0, &ow1);
            for (int oh = oh0; oh <= oh1; oh++) {
              double *ar = acc + (size_t)(oh * s->stride - s->pad + kh) * wi;
              const float *dyr = &X4(dy, s->c_out, s->h_out, s->w_out, n, co, oh, 0);
              for (int ow = ow0; ow <= ow1; ow++)
                ar[ow * s->stride - s->pad + kw] += wv * dyr[ow];
            }
          }
      for (int i = 0; i < hi * wi; i++)
        dx[((size_t)n * s->c_in + ci) * hi * wi + i] = (float)acc[i];
    }
  free(acc);
}

void ref_conv2d_backward_weight(const ref_conv_shape *s, const float *x, const float *dy,
                                float *dw, int accumulate) {
  for (int co = 0; co < s->c_out; co++)
    for (int ci = 0; ci < s->c_in; ci++)
      for (int kh = 0; kh < s->kh; kh++)
        for (int kw = 0; kw < s->kw; kw++) {
          double acc = 0.0;
          int oh0, oh1, ow0, ow1;
          tap_range(kh, s->stride, s->pad, s->h_in, s->h_out, &oh0, &oh1);
          tap_range(kw, s->stride, s->pad, s->w_in, s->w_out, &ow0, &ow1);
          for (int n = 0; n < s->n; n++)
            for (int oh = oh0; oh <= oh1; oh++) {
              const float *xr =
                  &X4(x, s->c_in, s->h_in, s->w_in, n, ci, oh * s->stride - s->pad + kh, 0);
              const float *dyr = &X4(dy, s->c_out, s->h_out, s->w_out, n, co, oh, 0);
              for (int ow = ow0; ow <= ow1; ow++)
                acc += (double)xr[ow * s->stride - s->pad + kw] * dyr[ow];
            }
          float *d = &X4(dw, s->c_in, s->kh, s->kw, co, ci, kh, kw);
          *d = (float)(accumulate ? *d + acc : acc);
        }
}

/* PyTorch's definition, scatter form: input pixel (ih, iw) spreads x * w over the output
 * window at (ih*s - p, iw*s - p); rows past the last window (out_pad) receive only bias. */
void ref_conv_transpose2d_forward(const ref_conv_shape *s, const float *x, const float *w,
                                  const float *b, float *y) {
  const int ho = s->h_out, wo = s->w_out;
  double *acc = scratch((size_t)ho * wo);
  for (int n = 0; n < s->n; n++)
    for (int co = 0; co < s->c_out; co++) {
      for (int i = 0; i < ho * wo; i++) acc[i] = b ? b[co] : 0.0;
      for (int ci = 0; ci < s->c_in; ci++)
        for (int kh = 0; kh < s->kh; kh++)
          for (int kw = 0; kw < s->kw; kw++) {
            double wv = X4(w, s->c_out, s->kh, s->kw, ci, co, kh, kw);
            int ih0, ih1, iw0, iw1;
            tap_range(kh, s->stride, s->pad, ho, s->h_in, &ih0, &ih1);
            tap_range(kw, s->stride, s->pad, wo, s->w_in, &iw0, &iw1);
            for (int ih = ih0; ih <= ih1; ih++) {
              double *ar = acc + (size_t)(ih * s->stride - s->pad + kh) * wo;
              const float *xr = &X4(x, s->c_in, s->h_in, s->w_in, n, ci, ih, 0);
              for (int iw = iw0; iw <= iw1; iw++)
                ar[iw * s->stride - s->pad + kw] += wv * xr[iw];
            }
          }
      for (int i = 0; i < ho * wo; i++)
        y[((size_t)n * s->c_out + co) * ho * wo + i] = (float)acc[i];
    }
  free(acc);
}

/* Gather form: each input pixel collects dy over the window it wrote to. */
void ref_conv_transpose2d_backward_data(const ref_conv_shape *s, const float *dy,
                                        const float *w, float *dx) {
  const int hi = s->h_in, wi = s->w_in;
  double *acc = scratch((size_t)hi * wi);
  for (int n = 0; n < s->n; n++)
    for (int ci = 0; ci < s->c_in; ci++) {
      for (int i = 0; i < hi * wi; i++) acc[i] = 0.0;
      for (int co = 0; co < s->c_out; co++)
        for (int kh = 0; kh < s->kh; kh++)
          for (int kw = 0; kw < s->kw; kw++) {
            double wv = X4(w, s->c_out, s->kh, s->kw, ci, co, kh, kw);
            int ih0, ih1, iw0, iw1;
            tap_range(kh, s->stride, s->pad, s->h_out, hi, &ih0, &ih1);
            tap_range(kw, s->stride, s->pad, s->w_out, wi, &iw0, &iw1);
            for (int ih = ih0; ih <= ih1; ih++) {
              const float *dyr =
                  &X4(dy, s->c_out, s->h_out, s->w_out, n, co, ih * s->stride - s->pad + kh, 0);
              for (int iw = iw0; iw <= iw1; iw++)
                acc[ih * wi + iw] += wv * dyr[iw * s->stride - s->pad + kw];
            }
          }
      for (int i = 0; i < hi * wi; i++)
        dx[((size_t)n * s->c_in + ci) * hi * wi + i] = (float)acc[i];
    }
  free(acc);
}

void ref_conv_transpose2d_backward_weight(const ref_conv_shape *s, const float *x,
                                          const float *dy, float *dw, int accumulate) {
  for (int ci = 0; ci < s->c_in; ci++)
    for (int co = 0; co < s->c_out; co++)
      for (int kh = 0; kh < s->kh; kh++)
        for (int kw = 0; kw < s->kw; kw++) {
          double acc = 0.0;
          int ih0, ih1, iw0, iw1;
          tap_range(kh, s->stride, s->pad, s->h_out, s->h_in, &ih0, &ih1);
          tap_range(kw, s->stride, s->pad, s->w_out, s->w_in, &iw0, &iw1);
          for (int n = 0; n < s->n; n++)
            for (int ih = ih0; ih <= ih1; ih++) {
              const float *xr = &X4(x, s->c_in, s->h_in, s->w_in, n, ci, ih, 0);
              const float *dyr =
                  &X4(dy, s->c_out, s->h_out, s->w_out, n, co, ih * s->stride - s->pad + kh, 0);
              for (int iw = iw0; iw <= iw1; iw++)
                acc += (double)xr[iw] * dyr[iw * s->stride - s->pad + kw];
            }
          float *d = &X4(dw, s->c_out, s->kh, s->kw, ci, co, kh, kw);
          *d = (float)(accumulate ? *d + acc : acc);
        }
}

void ref_bias_backward(int n, int c, int hw, const float *dy, float *db, int accumulate) {
  for (int ch = 0; ch < c; ch++) {
    double acc = 0.0;
    for (int i = 0; i < n; i++)
      for (int p = 0; p < hw; p++) acc += dy[((size_t)i * c + ch) * hw + p];
    db[ch] = (float)(accumulate ? db[ch] + acc : acc);
  }
}

void ref_dense_forward(int n, int in, int out, const float *x, const float *w, const float *b,
                       float *y) {
  for (int i = 0; i < n; i++)
    for (int o = 0; o < out; o++) {
      double acc = b ? b[o] : 0.0;
      for (int k = 0; k < in; k++) acc += (double)x[(size_t)i * in + k] * w[(size_t)o * in + k];
      y[(size_t)i * out + o] = (float)acc;
    }
}

void ref_dense_backward_data(int n, int in, int out, const float *dy, const float *w,
                             float *dx) {
  for (int i = 0; i < n; i++)
    for (int k = 0; k < in; k++) {
      double acc = 0.0;
      for (int o = 0; o < out; o++) acc += (double)dy[(size_t)i * out + o] * w[(size_t)o * in + k];
      dx[(size_t)i * in + k] = (float)acc;
    }
}

void ref_dense_backward_weight(int n, int in, int out, const float *x, const float *dy,
                               float *dw, float *db, int accumulate) {
  for (int o = 0; o < out; o++)
    for (int k = 0; k < in; k++) {
      double acc = 0.0;
      for (int i = 0; i < n; i++) acc += (double)dy[(size_t)i * out + o] * x[(size_t)i * in + k];
      float *d = &dw[(size_t)o * in + k];
      *d = (float)(accumulate ? *d + acc : acc);
    }
  if (db) ref_bias_backward(n, out, 1, dy, db, accumulate);
}
