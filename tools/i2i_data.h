/* Paired image data for image-to-image training (tools/i2i_data.c). */
#ifndef CLGAN_I2I_DATA_H
#define CLGAN_I2I_DATA_H

#include "clgan/clgan.h"
#include "clgan/photo.h"

typedef struct i2i_pairs {
  int n, cc, c, h, w;   /* pairs; cond channels, target channels, size */
  int scale;            /* super-resolution: cond is (cc, h / scale, w / scale); else 0 */
  float *cond;          /* (n, cc, h, w) in [-1, 1]: the input A */
  float *target;        /* (n, c, h, w) in [-1, 1]: the target B */
  char source[1100];
} i2i_pairs;

void i2i_pairs_free(i2i_pairs *p);
/* Fashion-MNIST (an IDX file; NULL = the default training set) -> 32x32 (edges, garment)
 * pairs, at most max (0: all). */
clgan_status i2i_edges2fashion(const char *idx_path, int max, i2i_pairs *out);
/* A folder of side-by-side A|B PNGs, each (2w x h), sorted by name, at most max. */
clgan_status i2i_pairs_folder(const char *dir, int c, int cc, int h, int w, int max,
                              i2i_pairs *out);
int i2i_folder_channels(const char *dir);
int i2i_is_dir(const char *path);
/* The *.png, *.jpg, *.jpeg names of a folder (dot files skipped), sorted (strcmp). */
clgan_status i2i_list_images(const char *dir, char ***names, int *count);
/* colorize's photos must be colour: the first photo whose pixels all have R = G = B (a grey
 * file, or grey stored as RGB) -> CLGAN_ERR_FORMAT naming it; the set is freed then. */
clgan_status i2i_photoset_colour(clgan_photoset *ps);

/* G's [-1, 1] planes (c, h, w) to the 8-bit pixels of im (allocated w x h x c). */
void i2i_planes_to_u8(const float *pl, int c, int h, int w, clgan_image *im);
/* Mean L1 (on [-1, 1] values), PSNR and SSIM (on 8-bit luma, border pixels cropped) of n
 * outputs gen against p's targets. */
clgan_status i2i_measure(const i2i_pairs *p, const float *gen, int n, int border, double *l1,
                         double *psnr, double *ssim);

#endif
