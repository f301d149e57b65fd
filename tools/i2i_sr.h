/* Super-resolution data and measures (tools/i2i_sr.c). */
#ifndef CLGAN_I2I_SR_H
#define CLGAN_I2I_SR_H

#include <stdio.h>

#include "clgan/clgan.h"
#include "clgan/photo.h"
#include "i2i_data.h"

/* lr (n, c, h/k, h/k) = the MATLAB antialiased bicubic downscale by k of hr (n, c, h, h). */
clgan_status i2i_sr_lowres(const float *hr, int n, int c, int h, int k, float *lr);
/* The sr pairs for model m (resolved here): --data fashion-mnist or an IDX file gives
 * 14 -> 28 x2 pairs (the t10k set held out); else photos of data (NULL or "default": the
 * mate-backgrounds set) loaded into ps, train drawn per iteration (train->n = 1 << 30, no
 * arrays), held = eval_count crops of the held-out photos (Philox stream seed + 1). */
clgan_status i2i_sr_load(const char *data, int max_images, int eval_count,
                         unsigned long long seed, clgan_model *m, clgan_photoset *ps,
                         i2i_pairs *train, i2i_pairs *held);
/* bic->cond = he's inputs enlarged by bicubic to he's size (owned); bic->target = he's. */
clgan_status i2i_sr_bicubic(const i2i_pairs *he, i2i_pairs *bic);
/* Mean gradient energy (sharpness) of n images (c, h, w) in [-1, 1], on 8 bits. */
double i2i_mean_gradient_energy(const float *imgs, int n, int c, int h, int w);
/* One measures line: PSNR/SSIM-Y (border = scale) and gradient energy of imgs vs he's
 * targets, to f (may be NULL) and stderr. */
clgan_status i2i_sr_measure_line(FILE *f, const char *what, const i2i_pairs *he,
                                 const float *imgs);

#endif
