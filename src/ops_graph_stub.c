#include "clgan/ops.h"
#define STUB return clgan_error(CLGAN_ERR_INTERNAL, "stub");
clgan_status clgan_channel_copy(clgan_ctx *ctx, int n, int c, int hw, clgan_view x, int x_ctot, int x_coff,
                                clgan_view y, int y_ctot, int y_coff, int accumulate) { STUB }
clgan_status clgan_add(clgan_ctx *ctx, size_t n, clgan_view a, clgan_view b, clgan_view y) { STUB }
clgan_status clgan_mul_forward(clgan_ctx *ctx, int n, int c, int hw, clgan_view a, clgan_view b, int b_vec, clgan_view y) { STUB }
clgan_status clgan_mul_backward(clgan_ctx *ctx, int n, int c, int hw, clgan_view a, clgan_view b, int b_vec,
                                clgan_view dy, clgan_view da, clgan_view db, int accumulate) { STUB }
clgan_status clgan_embed_forward(clgan_ctx *ctx, int n, int num, int dim, clgan_view labels, clgan_view w, clgan_view y) { STUB }
clgan_status clgan_embed_backward(clgan_ctx *ctx, int n, int num, int dim, clgan_view labels, clgan_view dy,
                                  clgan_view dw, int accumulate) { STUB }
clgan_status clgan_upsample_forward(clgan_ctx *ctx, int n, int c, int h, int w, int k, clgan_view x, clgan_view y) { STUB }
clgan_status clgan_upsample_backward(clgan_ctx *ctx, int n, int c, int h, int w, int k, clgan_view dy, clgan_view dx, int accumulate) { STUB }
clgan_status clgan_avgpool_forward(clgan_ctx *ctx, int n, int c, int h, int w, int k, clgan_view x, clgan_view y) { STUB }
clgan_status clgan_avgpool_backward(clgan_ctx *ctx, int n, int c, int h, int w, int k, clgan_view dy, clgan_view dx, int accumulate) { STUB }
clgan_status clgan_sumpool_forward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x, clgan_view y) { STUB }
clgan_status clgan_sumpool_backward(clgan_ctx *ctx, int n, int c, int hw, clgan_view dy, clgan_view dx, int accumulate) { STUB }
clgan_status clgan_pixelshuffle_forward(clgan_ctx *ctx, int n, int c, int h, int w, int r, clgan_view x, clgan_view y) { STUB }
clgan_status clgan_pixelshuffle_backward(clgan_ctx *ctx, int n, int c, int h, int w, int r, clgan_view dy, clgan_view dx, int accumulate) { STUB }
clgan_status clgan_instancenorm_forward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x, clgan_view gamma,
                                        clgan_view beta, float eps, clgan_view y, clgan_view save_mean,
                                        clgan_view save_invstd) { STUB }
clgan_status clgan_instancenorm_backward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x, clgan_view dy,
                                         clgan_view gamma, clgan_view save_mean, clgan_view save_invstd,
                                         clgan_view dx, clgan_view dgamma, clgan_view dbeta, int accumulate) { STUB }
clgan_status clgan_dropout_forward(clgan_ctx *ctx, size_t n, float p, unsigned long long seed,
                                   unsigned long long counter, clgan_view x, clgan_view y) { STUB }
clgan_status clgan_dropout_backward(clgan_ctx *ctx, size_t n, float p, unsigned long long seed,
                                    unsigned long long counter, clgan_view dy, clgan_view dx, int accumulate) { STUB }
clgan_status clgan_prelu_forward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x, clgan_view a, int a_count, clgan_view y) { STUB }
clgan_status clgan_prelu_backward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x, clgan_view a, int a_count,
                                  clgan_view dy, clgan_view dx, clgan_view da, int accumulate) { STUB }
