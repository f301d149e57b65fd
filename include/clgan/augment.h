/* DiffAugment (Zhao et al. 2020): differentiable colour (brightness, saturation, contrast),
 * translation (by up to 1/8 of the image, zero fill) and cutout (a half-size square),
 * applied to D's inputs, real and fake alike, with a backward that passes G's gradient
 * through. Kernels: kernels/augment.cl (the formulas), launchers: src/ops/ops_augment.c.
 * Tests: tests/ops_nn/test_augment.c, tests/train/test_diffaug_cli.sh */
#ifndef CLGAN_AUGMENT_H
#define CLGAN_AUGMENT_H

#include "clgan/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Policy bits; 0 is off. */
#define CLGAN_AUG_COLOR 1u
#define CLGAN_AUG_TRANSLATION 2u
#define CLGAN_AUG_CUTOUT 4u
#define CLGAN_AUG_ALL 7u
#define CLGAN_AUG_PARAMS 8 /* floats per sample in the params buffer */

/* "color,translation,cutout" (any non-empty subset, comma-separated, any order; "none" is
 * 0) -> bits; -1 for anything else. The ops always run in the order colour, translation,
 * cutout, as in the reference's policy "color,translation,cutout". */
int clgan_diffaug_parse(const char *s, unsigned *policy);
/* bits -> "color,translation,cutout" (or "none") in buf. */
void clgan_diffaug_name(unsigned policy, char *buf, size_t cap);

/* The shift bound and the cutout square of an h x w image, as the reference:
 * (int)(h / 8 + 0.5) rows, (int)(h / 2 + 0.5) rows cut (columns alike). */
void clgan_diffaug_sizes(int h, int w, int *shift_h, int *shift_w, int *cut_h, int *cut_w);

/* The random parameters of n samples (CLGAN_AUG_PARAMS floats each, see kernels/augment.cl)
 * from Philox stream `seed`, sample i using values counter + 8 i .. + 7 (host, exact: the
 * same bits on every machine). Parameters of an op that is off are still drawn. */
void clgan_diffaug_params(unsigned policy, int h, int w, unsigned long long seed,
                          unsigned long long counter, int n, float *out);

/* y = augment(x) for n samples of c x h x w; params: n * 8 floats (clgan_diffaug_params,
 * on the device); work: 2 n floats of scratch that the backward reads too. x and y must
 * not overlap. */
clgan_status clgan_diffaug_forward(clgan_ctx *ctx, unsigned policy, int n, int c, int h, int w,
                                   clgan_view params, clgan_view work, clgan_view x,
                                   clgan_view y);
/* dx = d loss / d x from dy = d loss / d y, for the same params (written, not added). The
 * backward needs no forward values: work is overwritten with what it needs. */
clgan_status clgan_diffaug_backward(clgan_ctx *ctx, unsigned policy, int n, int c, int h,
                                    int w, clgan_view params, clgan_view work, clgan_view dy,
                                    clgan_view dx);

#ifdef __cplusplus
}
#endif
#endif
