/* Spectral normalisation ops (torch.nn.utils.spectral_norm): the power iteration and
 * sigma, W / sigma, and the backward through W / sigma. Kernels: kernels/sn.cl, launchers:
 * src/ops/ops_sn.c. Tests: tests/ops_nn/test_sn.c */
#ifndef CLGAN_SN_H
#define CLGAN_SN_H

#include "clgan/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CLGAN_SN_EPS 1e-12f /* torch.nn.utils.spectral_norm's eps */

/* The weight seen as PyTorch's weight_mat (rows x cols): kk = 0 for row-major (Conv2d,
 * Linear: dim 0), kk = k * k for a ConvTranspose2d weight (in, out, k, k) taken with dim 1
 * first (rows = out). u has rows values, v cols; work holds rows + 2 floats.
 * power: one power iteration updates v then u (normalised, v / max(|v|, eps)). Then
 * work[0..rows) = W v and work[rows] = sigma = u . (W v). One work-group, fixed order. */
clgan_status clgan_sn_sigma(clgan_ctx *ctx, int rows, int cols, int kk, clgan_view w,
                            clgan_view u, clgan_view v, clgan_view work, int power);
/* out = w / sigma, sigma at work[rows] (pass clgan_view_at(work, rows)). */
clgan_status clgan_sn_scale(clgan_ctx *ctx, size_t n, clgan_view w, clgan_view sigma,
                            clgan_view out);
/* d loss / d W from g = d loss / d (W / sigma): g / sigma - (sum(g * W) / sigma^2) u v^T,
 * written into dw, or added (accumulate). sigma_slot = clgan_view_at(work, rows): sigma,
 * and the next float receives d loss / d sigma. */
clgan_status clgan_sn_backward(clgan_ctx *ctx, int rows, int cols, int kk, clgan_view g,
                               clgan_view w, clgan_view u, clgan_view v, clgan_view sigma_slot,
                               clgan_view dw, int accumulate);

#ifdef __cplusplus
}
#endif
#endif
