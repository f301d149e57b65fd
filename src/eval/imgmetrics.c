/* PSNR/SSIM on Y (BasicSR's definitions), colourfulness, gradient energy, mean colour.
 * Tests: tests/eval/test_imgmetrics.c */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/imgmetrics.h"

void clgan_image_luma_bt601(const clgan_image *im, double *y) {
  size_t n = (size_t)im->width * (size_t)im->height;
  if (im->channels == 1) {
    for (size_t p = 0; p < n; p++) y[p] = im->pixels[p];
    return;
  }
  for (size_t p = 0; p < n; p++) {
    const uint8_t *q = im->pixels + 3 * p;
    y[p] = 16.0 + (65.481 * q[0] + 128.553 * q[1] + 24.966 * q[2]) / 255.0;
  }
}

/* Both lumas cropped by `border`: *ya, *yb are (h, w) malloc'd. */
static clgan_status cropped_lumas(const char *what, const clgan_image *a, const clgan_image *b,
                                  int border, int min_side, double **ya, double **yb, int *h,
                                  int *w) {
  *ya = *yb = NULL;
  if (!a || !b || !a->pixels || !b->pixels || a->width != b->width || a->height != b->height ||
      a->channels != b->channels || border < 0 || a->width - 2 * border < min_side ||
      a->height - 2 * border < min_side)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: images of %dx%dx%d and %dx%dx%d with border "
                       "%d (shapes must match; at least %dx%d must remain)", what,
                       a ? a->width : 0, a ? a->height : 0, a ? a->channels : 0,
                       b ? b->width : 0, b ? b->height : 0, b ? b->channels : 0, border,
                       min_side, min_side);
  size_t n = (size_t)a->width * (size_t)a->height;
  double *fa = malloc(n * sizeof *fa), *fb = malloc(n * sizeof *fb);
  if (!fa || !fb) {
    free(fa);
    free(fb);
    return clgan_error(CLGAN_ERR_NOMEM, "%s: out of host memory", what);
  }
  clgan_image_luma_bt601(a, fa);
  clgan_image_luma_bt601(b, fb);
  int cw = a->width - 2 * border, chh = a->height - 2 * border;
  for (int y = 0; y < chh; y++) /* compact in place: rows only move towards the start */
    for (int x = 0; x < cw; x++) {
      size_t src = (size_t)(y + border) * (size_t)a->width + (size_t)(x + border);
      fa[(size_t)y * (size_t)cw + (size_t)x] = fa[src];
      fb[(size_t)y * (size_t)cw + (size_t)x] = fb[src];
    }
  *ya = fa;
  *yb = fb;
  *h = chh;
  *w = cw;
  return CLGAN_OK;
}

clgan_status clgan_psnr_y(const clgan_image *a, const clgan_image *b, int border, double *psnr) {
  double *ya, *yb;
  int h, w;
  clgan_status s = cropped_lumas("PSNR", a, b, border, 1, &ya, &yb, &h, &w);
  if (s) return s;
  double se = 0;
  size_t n = (size_t)h * (size_t)w;
  for (size_t p = 0; p < n; p++) se += (ya[p] - yb[p]) * (ya[p] - yb[p]);
  free(ya);
  free(yb);
  double mse = se / (double)n;
  *psnr = mse == 0 ? INFINITY : 10.0 * log10(255.0 * 255.0 / mse);
  return CLGAN_OK;
}

clgan_status clgan_ssim_y(const clgan_image *a, const clgan_image *b, int border, double *ssim) {
  double *ya, *yb;
  int h, w;
  clgan_status s = cropped_lumas("SSIM", a, b, border, 11, &ya, &yb, &h, &w);
  if (s) return s;
  /* cv2.getGaussianKernel(11, 1.5): exp(-(i - 5)^2 / (2 1.5^2)), normalised */
  double g[11], gs = 0;
  for (int i = 0; i < 11; i++) gs += g[i] = exp(-(double)((i - 5) * (i - 5)) / (2 * 1.5 * 1.5));
  for (int i = 0; i < 11; i++) g[i] /= gs;
  const double c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
  int oh = h - 10, ow = w - 10;
  double total = 0;
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++) {
      double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
      for (int i = 0; i < 11; i++)
        for (int j = 0; j < 11; j++) {
          double wv = g[i] * g[j];
          size_t p = (size_t)(y + i) * (size_t)w + (size_t)(x + j);
          double va = ya[p], vb = yb[p];
          ma += wv * va;
          mb += wv * vb;
          saa += wv * va * va;
          sbb += wv * vb * vb;
          sab += wv * va * vb;
        }
      double va = saa - ma * ma, vb = sbb - mb * mb, cov = sab - ma * mb;
      total += ((2 * ma * mb + c1) * (2 * cov + c2)) /
               ((ma * ma + mb * mb + c1) * (va + vb + c2));
    }
  free(ya);
  free(yb);
  *ssim = total / ((double)oh * (double)ow);
  return CLGAN_OK;
}

double clgan_colourfulness(const clgan_image *im) {
  if (im->channels != 3) return 0;
  size_t n = (size_t)im->width * (size_t)im->height;
  double srg = 0, syb = 0, srg2 = 0, syb2 = 0;
  for (size_t p = 0; p < n; p++) {
    const uint8_t *q = im->pixels + 3 * p;
    double rg = (double)q[0] - q[1], yb = 0.5 * ((double)q[0] + q[1]) - q[2];
    srg += rg;
    syb += yb;
    srg2 += rg * rg;
    syb2 += yb * yb;
  }
  double mrg = srg / n, myb = syb / n;
  double vrg = srg2 / n - mrg * mrg, vyb = syb2 / n - myb * myb;
  if (vrg < 0) vrg = 0;
  if (vyb < 0) vyb = 0;
  return sqrt(vrg + vyb) + 0.3 * sqrt(mrg * mrg + myb * myb);
}

double clgan_gradient_energy(const clgan_image *im) {
  int w = im->width, h = im->height;
  if (w < 2 || h < 2) return 0;
  double *y = malloc((size_t)w * (size_t)h * sizeof *y);
  if (!y) return NAN;
  clgan_image_luma_bt601(im, y);
  double e = 0;
  for (int r = 0; r < h - 1; r++)
    for (int c = 0; c < w - 1; c++) {
      size_t p = (size_t)r * (size_t)w + (size_t)c;
      double dx = y[p + 1] - y[p], dy = y[p + (size_t)w] - y[p];
      e += dx * dx + dy * dy;
    }
  free(y);
  return e / ((double)(w - 1) * (double)(h - 1));
}

void clgan_mean_colour(const clgan_image *im, double mean[3]) {
  size_t n = (size_t)im->width * (size_t)im->height;
  for (int c = 0; c < 3; c++) mean[c] = 0;
  for (int c = 0; c < im->channels; c++) {
    double s = 0;
    for (size_t p = 0; p < n; p++) s += im->pixels[p * (size_t)im->channels + (size_t)c];
    mean[c] = s / (double)n;
  }
}

clgan_status clgan_period2_power(const clgan_image *im, int radius, double *p2, double *total) {
  int w = im ? im->width : 0, h = im ? im->height : 0, r = radius;
  if (!im || !im->pixels || h < 2 || w < 2 || h % 2 || w % 2 || r < 0 || 4 * r >= h ||
      4 * r >= w)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "period-2 power of a %dx%d image with radius %d "
                       "(sides must be even, radius < a quarter of each)", w, h, r);
  size_t n = (size_t)w * (size_t)h;
  int nv = 2 * (2 * r + 1); /* columns v in -r..r and w/2-r..w/2+r */
  double *y = malloc(n * sizeof *y), *re = malloc(sizeof(double) * (size_t)h * nv),
         *im_ = malloc(sizeof(double) * (size_t)h * nv);
  if (!y || !re || !im_) {
    free(y), free(re), free(im_);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  clgan_image_luma_bt601(im, y);
  double mean = 0, var = 0;
  for (size_t p = 0; p < n; p++) mean += y[p];
  mean /= (double)n;
  for (size_t p = 0; p < n; p++) y[p] -= mean, var += y[p] * y[p];
  /* the row DFTs at the needed columns: R[m][v] = sum_n y[m, n] e^{-2 pi i v n / w} */
  for (int j = 0; j < nv; j++) {
    int v = j < 2 * r + 1 ? j - r : w / 2 + j - (3 * r + 1);
    for (int m = 0; m < h; m++) {
      double a = 0, b = 0;
      for (int x = 0; x < w; x++) {
        long k = ((long)v * x % w + w) % w; /* exact phase index */
        double t = 2.0 * M_PI * (double)k / w;
        a += y[(size_t)m * w + x] * cos(t);
        b -= y[(size_t)m * w + x] * sin(t);
      }
      re[(size_t)m * nv + j] = a, im_[(size_t)m * nv + j] = b;
    }
  }
  /* the column DFTs: rows u near h/2 with every column; rows u near 0 with the columns
   * near w/2 only (those near 0 would be the low frequencies, DC among them) */
  double acc = 0;
  for (int j = 0; j < nv; j++)
    for (int du = -r; du <= r; du++)
      for (int half = 0; half < 2; half++) {
        if (!half && j < 2 * r + 1) continue;
        int u = half ? h / 2 + du : du;
        double a = 0, b = 0;
        for (int m = 0; m < h; m++) {
          long k = ((long)u * m % h + h) % h;
          double t = 2.0 * M_PI * (double)k / h, c = cos(t), s = -sin(t);
          double xr = re[(size_t)m * nv + j], xi = im_[(size_t)m * nv + j];
          a += xr * c - xi * s;
          b += xr * s + xi * c;
        }
        acc += a * a + b * b;
      }
  free(y), free(re), free(im_);
  *p2 = acc;
  *total = (double)n * var;
  return CLGAN_OK;
}
