/* Measures of image-to-image outputs (i2i_measure.h). */
#include "i2i_measure.h"

#include "clgan/imgmetrics.h"
#include "clgan/photo.h"

clgan_status i2i_period2_share(const float *imgs, int n, int c, int h, int w, int r,
                               double *share) {
  clgan_image im;
  clgan_status s = clgan_image_alloc(&im, w, h, c);
  if (s) return s;
  double p2 = 0, tot = 0;
  for (int i = 0; i < n && !s; i++) {
    double a, b;
    clgan_planes_to_image(imgs + (size_t)i * c * h * w, &im);
    if (!(s = clgan_period2_power(&im, r, &a, &b))) p2 += a, tot += b;
  }
  clgan_image_free(&im);
  *share = tot > 0 ? p2 / tot : 0.0;
  return s;
}
