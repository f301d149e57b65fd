/* Image-quality measures for image-to-image tasks: PSNR and SSIM on the Y channel (as
 * BasicSR's calculate_psnr / calculate_ssim with test_y_channel), colourfulness, sharpness
 * (gradient energy), mean colour, the period-2 (checkerboard) power. Host-only, float64. Tests: tests/eval/test_imgmetrics.c */
#ifndef CLGAN_IMGMETRICS_H
#define CLGAN_IMGMETRICS_H

#include "clgan/photo.h"
#include "clgan/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The Y (luma) plane of an 8-bit image as float64 in BasicSR's scale: for RGB,
 * Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 (ITU-R BT.601, 16..235, not rounded);
 * a grey image is its own Y (0..255). y is (height, width). */
void clgan_image_luma_bt601(const clgan_image *im, double *y);

/* PSNR in dB of b against a on Y, with `border` pixels cropped from every side (the SR
 * scale, as BasicSR crop_border): 10 log10(255^2 / MSE). Identical images give +INFINITY.
 * Shapes must match and exceed 2 border: else CLGAN_ERR_INVALID_ARG. */
clgan_status clgan_psnr_y(const clgan_image *a, const clgan_image *b, int border, double *psnr);
/* SSIM on Y after the same crop, as BasicSR's _ssim (Wang et al. 2004): an 11x11 Gaussian
 * window, sigma 1.5, 'valid' filtering (no padding), C1 = (0.01 * 255)^2,
 * C2 = (0.03 * 255)^2, the mean of the SSIM map. The cropped image must be at least 11x11. */
clgan_status clgan_ssim_y(const clgan_image *a, const clgan_image *b, int border, double *ssim);

/* Hasler and Suesstrunk's colourfulness (2003) of an RGB image on 0..255:
 * rg = R - G, yb = (R + G) / 2 - B,
 * M = sqrt(var(rg) + var(yb)) + 0.3 sqrt(mean(rg)^2 + mean(yb)^2) (population variances).
 * A grey image gives 0. */
double clgan_colourfulness(const clgan_image *im);
/* Gradient energy: the mean over pixels of dx^2 + dy^2 on Y (BT.601 as above), with forward
 * differences dx = Y(x+1, y) - Y(x, y) and dy likewise, taken where both exist
 * ((w - 1) x (h - 1) pixels). Higher is sharper; a flat image gives 0. */
double clgan_gradient_energy(const clgan_image *im);
/* Mean of each channel on 0..255: mean[0..channels). */
void clgan_mean_colour(const clgan_image *im, double mean[3]);
/* The checkerboard measure (transposed convolutions of stride 2 leave a period-2 pattern):
 * of Y (BT.601 as above), the power of its h x w DFT at the period-2 frequencies (pi, 0),
 * (0, pi) and (pi, pi) -- the bins (h/2, 0), (0, w/2), (h/2, w/2), and with radius r > 0
 * every bin within r of them in both coordinates (a pattern whose strength varies over the
 * image spreads around them) -- into *p2, and the power at every non-zero frequency into
 * *total (by Parseval, h w sum (Y - mean(Y))^2). *p2 / *total is the period-2 share: 1 for
 * a pure period-2 checkerboard or stripes, 0 for a pattern of period 4. Pool images as
 * sum p2 / sum total. Sides must be even and r < min(h, w) / 4 (the three neighbourhoods
 * apart): else CLGAN_ERR_INVALID_ARG. */
clgan_status clgan_period2_power(const clgan_image *im, int radius, double *p2, double *total);

#ifdef __cplusplus
}
#endif
#endif
