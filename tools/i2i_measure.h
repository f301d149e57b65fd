/* Measures of image-to-image outputs beyond those of include/clgan/imgmetrics.h's callers in
 * tools/cmd_i2i.c (tools/i2i_measure.c). */
#ifndef CLGAN_I2I_MEASURE_H
#define CLGAN_I2I_MEASURE_H

#include "clgan/status.h"

/* The checkerboard measure of n images (c, h, w) in [-1, 1] (1 or 3 channels), taken to 8
 * bits: the period-2 power over the total non-DC power of their luma, pooled (sum over the
 * images of clgan_period2_power's p2 over the sum of its total), radius r. */
clgan_status i2i_period2_share(const float *imgs, int n, int c, int h, int w, int r,
                               double *share);

#endif
