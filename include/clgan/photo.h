/* Photos for the image-to-image tasks (super-resolution, colourisation): JPEG/PNG decoding,
 * photo sets with a held-out split, random crops, colour conversions and the antialiased
 * bicubic downscale. Host-only. Tests: tests/io/test_photo.c */
#ifndef CLGAN_PHOTO_H
#define CLGAN_PHOTO_H

#include <stddef.h>
#include <stdint.h>

#include "clgan/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Debian's mate-backgrounds nature photos (12 JPEGs, 1280x1024 .. 2560x1920): the default
 * photo set. */
#define CLGAN_DEFAULT_PHOTOS "/usr/share/backgrounds/mate/nature"

/* An 8-bit image, interleaved: pixel (y, x) channel c at pixels[(y * width + x) * channels + c]. */
typedef struct clgan_image {
  int width, height;
  int channels;             /* 1 grey or 3 RGB */
  uint8_t *pixels;          /* (height, width, channels) */
} clgan_image;

/* Reads a JPEG (libjpeg-turbo) or a PNG (clgan_png_read), told apart by their signatures,
 * into grey (1) or RGB (3):
 * - JPEG: grey and YCbCr/RGB files; CMYK/YCCK files are refused (CLGAN_ERR_FORMAT naming the
 *   colour space) rather than guessed at. A corrupt or truncated file: CLGAN_ERR_FORMAT with
 *   libjpeg's message. libjpeg's warnings (e.g. "premature end of data") are errors here:
 *   a half-grey photo would poison training silently.
 * - PNG: palette images are expanded to RGB and 16-bit samples rounded to 8 bits
 *   (round(v * 255 / 65535)); an alpha channel (or tRNS) is dropped when every pixel is
 *   opaque, and otherwise refused (CLGAN_ERR_FORMAT "has transparent pixels"): what colour
 *   lies behind them is not ours to choose.
 * Sides are limited to 32768. Every error names the file. On error *out is empty. */
clgan_status clgan_image_read(const char *path, clgan_image *out);
/* Writes an image as PNG, atomically. */
clgan_status clgan_image_write(const char *path, const clgan_image *im);
/* Allocates an image of the given shape (pixels zeroed). */
clgan_status clgan_image_alloc(clgan_image *im, int width, int height, int channels);
void clgan_image_free(clgan_image *im);

/* Image <-> float planes: out (channels, height, width) = v / 127.5 - 1, in [-1, 1]. */
void clgan_image_to_planes(const clgan_image *im, float *out);
/* Back to 8 bits: floor((v + 1) * 127.5 + 0.5) clamped to 0..255, NaN -> 0 (the grid rule).
 * im must be allocated with the planes' shape. */
void clgan_planes_to_image(const float *planes, clgan_image *im);

/* ---- colour ---- */

/* BT.601 luma of RGB planes (3, h, w) into (1, h, w): 0.299 R + 0.587 G + 0.114 B (the
 * weights clgan_dataset_load uses). Works on any affine scale, e.g. [-1, 1] planes. */
void clgan_planes_rgb_to_grey(const float *rgb, int h, int w, float *grey);
/* CIE L*a*b* (D65 white, sRGB primaries and transfer curve) of an sRGB colour in [0, 1]:
 * L in [0, 100], a and b roughly in [-128, 127]; and back (the result clamped to [0, 1]). */
void clgan_srgb_to_lab(const float rgb[3], float lab[3]);
void clgan_lab_to_srgb(const float lab[3], float rgb[3]);

/* ---- resampling ---- */

/* Downscales float planes (c, h, w) by an integer factor k into (c, h / k, w / k), as
 * MATLAB's imresize(x, 1/k, 'bicubic') does (the antialiased bicubic of the SR literature,
 * also BasicSR's matlab_functions.imresize): the cubic kernel of Keys with a = -0.5,
 * widened by k (h(d) = cubic(d / k) / k, 4k taps), centred for output pixel j at input
 * coordinate k j + (k - 1) / 2 (pixel centres at integers), weights normalised to sum 1,
 * and samples outside the image mirrored with the edge repeated (-1 -> 0, -2 -> 1).
 * Separable, rows then columns, float64 accumulation. h and w must be multiples of k
 * (crop first: clgan_image_mod_crop); k >= 1 (k = 1 copies). No clamping: overshoot near
 * edges is kept, as MATLAB does before it rounds. Bad shapes: CLGAN_ERR_INVALID_ARG. */
clgan_status clgan_downscale_bicubic(const float *src, int c, int h, int w, int k, float *dst);
/* Bicubic upscale by an integer factor k (the baseline "bicubic" of SR papers: MATLAB's
 * imresize(x, k, 'bicubic'), a = -0.5, no widening, mirrored edges); dst (c, h k, w k). */
clgan_status clgan_upscale_bicubic(const float *src, int c, int h, int w, int k, float *dst);
/* The same downscale on an 8-bit image (results rounded to nearest and clamped, as MATLAB
 * does on uint8 input); sides must be multiples of k. dst is allocated. */
clgan_status clgan_image_downscale(const clgan_image *src, int k, clgan_image *dst);

/* ---- photo sets ---- */

/* Photo set = the *.jpg, *.jpeg and *.png files of one folder (any case; dot files skipped),
 * sorted by name (strcmp), all decoded once at load and kept as RGB (grey files are
 * replicated to RGB). */
typedef struct clgan_photoset {
  int count;                /* photos */
  clgan_image *photos;      /* (count) RGB, shrunk at load (see clgan_photoset_load) */
  char (*names)[256];       /* (count) file names without the folder */
  int *held_out;            /* (count) 1 for an evaluation photo */
  int n_train, n_eval;
  int *train_idx, *eval_idx; /* (n_train), (n_eval): photo indices, in name order */
  char source[1024];        /* the folder */
} clgan_photoset;

/* Loads a photo set (dir NULL or "" = CLGAN_DEFAULT_PHOTOS).
 * - Held out: photo i (in name order) is an evaluation photo when i % 4 == 3: whole photos,
 *   never crops of training photos. For the default set: FreshFlower, RainDrops and
 *   YellowFlower (9 train, 3 eval). Sets of 1-3 photos have no evaluation photos.
 * - max_side > 0: a photo whose longer side exceeds max_side is shrunk at load by the
 *   smallest integer factor k that brings it within max_side (clgan_image_downscale after
 *   cropping the sides to multiples of k): 2560x1600 with max_side 1024 -> k = 3 -> 853x533.
 *   Why: 64x64 crops of a 2560-pixel photo hold little but texture and JPEG noise; shrinking
 *   puts whole objects in a crop, removes JPEG artefacts from the "originals", and makes
 *   loading 4-9 times lighter on memory. max_side <= 0 keeps full size.
 * - Any unreadable file fails the whole load, naming the file. No image in the folder:
 *   CLGAN_ERR_FORMAT. A photo smaller than 16x16 after shrinking: CLGAN_ERR_FORMAT.
 * On error *out is empty. */
clgan_status clgan_photoset_load(const char *dir, int max_side, clgan_photoset *out);
void clgan_photoset_free(clgan_photoset *ps);

/* n random s x s crops (float planes in [-1, 1], (n, channels, s, s)) from the training
 * photos (held_out = 0) or the evaluation photos (1). Crop i of step `step` is drawn from
 * the Philox stream keyed by seed with counter 4 (step 2^20 + i): its 4 uniforms pick
 * the photo (uniformly among the split's photos), the top row, the left column (uniform over
 * the valid positions, snapped down to multiples of `align`, e.g. the SR scale, so a
 * downscale of the crop lines up with the photo's grid) and a horizontal flip (u >= 0.5).
 * The same (seed, step, i) always gives the same crop, whatever n, so resumed training is
 * exact. channels 3 = RGB, 1 = BT.601 luma. n < 2^20. A split without photos, or a photo
 * smaller than s: CLGAN_ERR_INVALID_ARG naming it. */
clgan_status clgan_photoset_crops(const clgan_photoset *ps, int held_out, int s, int align,
                                  int channels, unsigned long long seed, long long step, int n,
                                  float *out);

#ifdef __cplusplus
}
#endif
#endif
