/* Tests of src/eval/imgmetrics.c: PSNR of a known MSE, the BT.601 Y formula, border
 * cropping, SSIM (identity, the closed form for flat images, a separable float64 reference),
 * colourfulness, gradient energy and mean colour on hand-computed images. Host only. */
#include "clgan/imgmetrics.h"
#include "test_util.h"

static clgan_image make(int w, int h, int c) {
  clgan_image im;
  if (clgan_image_alloc(&im, w, h, c) != CLGAN_OK) exit(1);
  return im;
}

/* SSIM by another route: separable Gaussian filtering of whole maps, then the map's mean */
static double ref_ssim(const double *a, const double *b, int h, int w) {
  double g[11], s = 0;
  for (int i = 0; i < 11; i++) s += g[i] = exp(-(i - 5.0) * (i - 5.0) / 4.5);
  for (int i = 0; i < 11; i++) g[i] /= s;
  int oh = h - 10, ow = w - 10;
  double *maps[5], *tmp = malloc(sizeof(double) * h * ow);
  const double c1 = 6.5025, c2 = 58.5225;
  for (int m = 0; m < 5; m++) {
    maps[m] = malloc(sizeof(double) * oh * ow);
    for (int y = 0; y < h; y++)
      for (int x = 0; x < ow; x++) {
        double acc = 0;
        for (int j = 0; j < 11; j++) {
          size_t p = (size_t)y * w + x + j;
          double v = m == 0 ? a[p] : m == 1 ? b[p] : m == 2 ? a[p] * a[p] : m == 3 ? b[p] * b[p] : a[p] * b[p];
          acc += g[j] * v;
        }
        tmp[(size_t)y * ow + x] = acc;
      }
    for (int y = 0; y < oh; y++)
      for (int x = 0; x < ow; x++) {
        double acc = 0;
        for (int i = 0; i < 11; i++) acc += g[i] * tmp[(size_t)(y + i) * ow + x];
        maps[m][(size_t)y * ow + x] = acc;
      }
  }
  double tot = 0;
  for (int p = 0; p < oh * ow; p++) {
    double ma = maps[0][p], mb = maps[1][p];
    double va = maps[2][p] - ma * ma, vb = maps[3][p] - mb * mb, cv = maps[4][p] - ma * mb;
    tot += (2 * ma * mb + c1) * (2 * cv + c2) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
  }
  for (int m = 0; m < 5; m++) free(maps[m]);
  free(tmp);
  return tot / (oh * ow);
}

/* |DFT|^2 of Y summed over the bins (u, v) with keep(u, v), by the full 2-D DFT: the plain
 * reference of clgan_period2_power */
static double ref_dft_power(const clgan_image *im, int r, int all) {
  int h = im->height, w = im->width;
  double *y = malloc(sizeof(double) * h * w), acc = 0;
  clgan_image_luma_bt601(im, y);
  for (int u = 0; u < h; u++)
    for (int v = 0; v < w; v++) {
      int du = abs(u - h / 2), dv = abs(v - w / 2), u0 = u < h - u ? u : h - u, v0 = v < w - v ? v : w - v;
      int near_pi0 = du <= r && v0 <= r, near_0pi = u0 <= r && dv <= r, near_pipi = du <= r && dv <= r;
      if (all ? (u == 0 && v == 0) : !(near_pi0 || near_0pi || near_pipi)) continue;
      double a = 0, b = 0;
      for (int m = 0; m < h; m++)
        for (int x = 0; x < w; x++) {
          double t = 2 * M_PI * ((double)u * m / h + (double)v * x / w);
          a += y[m * w + x] * cos(t), b -= y[m * w + x] * sin(t);
        }
      acc += a * a + b * b;
    }
  free(y);
  return acc;
}

/* the period-2 power: against the full DFT on noise (radius 0 and 1), 1 of the whole for a
 * checkerboard and for period-2 stripes (on any flat background), 0 for period 4, a known
 * share for a checkerboard over a slow cosine, bad shapes refused */
static void test_period2(void) {
  clgan_image n = make(16, 12, 3);
  unsigned st = 12345;
  for (int i = 0; i < 16 * 12 * 3; i++) n.pixels[i] = (uint8_t)((st = st * 1103515245u + 12345u) >> 24);
  for (int r = 0; r <= 2; r++) {
    double p2, tot;
    CHECK_OK(clgan_period2_power(&n, r, &p2, &tot));
    double w2 = ref_dft_power(&n, r, 0), wt = ref_dft_power(&n, r, 1);
    CHECK(fabs(p2 - w2) < 1e-9 * wt && fabs(tot - wt) < 1e-9 * wt,
          "noise, radius %d: p2 %.12g (DFT %.12g), total %.12g (DFT %.12g)", r, p2, w2, tot, wt);
    CHECK(p2 > 0 && p2 < tot, "noise, radius %d: share %g", r, p2 / tot);
  }
  clgan_image g = make(20, 16, 1);
  double p2, tot;
  for (int kind = 0; kind < 4; kind++) {
    for (int m = 0; m < 16; m++)
      for (int x = 0; x < 20; x++) {
        int v = kind == 0 ? ((m + x) % 2 ? 200 : 60)   /* checkerboard */
              : kind == 1 ? (x % 2 ? 90 : 100)         /* vertical stripes, period 2 */
              : kind == 2 ? (m % 2 ? 250 : 0)          /* horizontal stripes */
                          : ((x / 2) % 2 ? 180 : 20);  /* period 4 */
        g.pixels[m * 20 + x] = (uint8_t)v;
      }
    for (int r = 0; r <= 1; r++) {
      CHECK_OK(clgan_period2_power(&g, r, &p2, &tot));
      double want = kind < 3 ? 1.0 : 0.0;
      CHECK(tot > 0 && fabs(p2 / tot - want) < 1e-12, "pattern %d, radius %d: share %.15g, want %g",
            kind, r, p2 / tot, want);
    }
  }
  /* 100 + 40 cos(2 pi 5 x / 20) + 20 (-1)^(m + x) (integers: the cosine is 40, 0, -40, 0):
   * the cosine's power 40^2 / 2, the checkerboard's 20^2 a pixel -> share 400 / 1200 */
  for (int m = 0; m < 16; m++)
    for (int x = 0; x < 20; x++)
      g.pixels[m * 20 + x] = (uint8_t)lround(100 + 40 * cos(2 * M_PI * 5 * x / 20) + ((m + x) % 2 ? -20 : 20));
  CHECK_OK(clgan_period2_power(&g, 1, &p2, &tot));
  CHECK(fabs(p2 / tot - 1.0 / 3) < 1e-12, "cosine + checkerboard: share %.6g, want 1/3", p2 / tot);
  CHECK(fabs(p2 - ref_dft_power(&g, 1, 0)) < 1e-9 * tot, "cosine + checkerboard: p2 vs DFT");
  memset(g.pixels, 77, 320);
  CHECK_OK(clgan_period2_power(&g, 0, &p2, &tot));
  CHECK(p2 < 1e-18 && tot == 0, "flat: p2 %g total %g", p2, tot);
  clgan_image o = make(15, 16, 1);
  CHECK(clgan_period2_power(&o, 0, &p2, &tot) == CLGAN_ERR_INVALID_ARG, "odd width accepted");
  CHECK(clgan_period2_power(&g, 4, &p2, &tot) == CLGAN_ERR_INVALID_ARG, "radius 4 of 16 accepted");
  clgan_image_free(&n), clgan_image_free(&g), clgan_image_free(&o);
}

int main(void) {
  /* PSNR: grey 100 vs 100 + 5 on half the pixels -> MSE 12.5 */
  clgan_image a = make(20, 16, 1), b = make(20, 16, 1);
  memset(a.pixels, 100, 320);
  memset(b.pixels, 100, 320);
  for (int i = 0; i < 320; i += 2) b.pixels[i] = 105;
  double p = 0, s = 0;
  CHECK_OK(clgan_psnr_y(&a, &b, 0, &p));
  CHECK(fabs(p - 10 * log10(65025 / 12.5)) < 1e-9, "PSNR %.12g", p);
  CHECK_OK(clgan_psnr_y(&a, &a, 0, &p));
  CHECK(isinf(p) && p > 0, "PSNR of an image with itself %g", p);
  /* differences only in the 4-pixel border: cropped away */
  memcpy(b.pixels, a.pixels, 320);
  b.pixels[0] = 0, b.pixels[20 * 16 - 1] = 0, b.pixels[3 * 20 + 10] = 0;
  CHECK_OK(clgan_psnr_y(&a, &b, 4, &p));
  CHECK(isinf(p), "border 4 did not crop: PSNR %g", p);
  CHECK_OK(clgan_psnr_y(&a, &b, 3, &p));
  CHECK(isfinite(p), "border 3 cropped a pixel 3 from the edge");
  CHECK(clgan_psnr_y(&a, &b, 8, &p) == CLGAN_ERR_INVALID_ARG, "16-high image, border 8 accepted");
  clgan_image_free(&a), clgan_image_free(&b);

  /* Y of RGB: black -> 16, white -> 235, BasicSR's weights */
  clgan_image c = make(2, 1, 3);
  uint8_t px[6] = {0, 0, 0, 255, 255, 255};
  memcpy(c.pixels, px, 6);
  double y[2];
  clgan_image_luma_bt601(&c, y);
  CHECK(fabs(y[0] - 16) < 1e-12 && fabs(y[1] - 235) < 1e-9, "Y %g %g", y[0], y[1]);
  clgan_image_free(&c);

  /* SSIM: itself = 1; flat images: (2 ma mb + C1) / (ma^2 + mb^2 + C1) */
  a = make(24, 24, 3), b = make(24, 24, 3);
  for (int i = 0; i < 24 * 24 * 3; i++) a.pixels[i] = (uint8_t)((i * 37) % 251);
  CHECK_OK(clgan_ssim_y(&a, &a, 2, &s));
  CHECK(fabs(s - 1) < 1e-12, "SSIM of an image with itself %.15g", s);
  for (int i = 0; i < 24 * 24 * 3; i++) b.pixels[i] = (uint8_t)(a.pixels[i] / 2 + (i % 7) * 9);
  CHECK_OK(clgan_ssim_y(&a, &b, 2, &s));
  double ya[576], yb[576], ca[400], cb[400];
  clgan_image_luma_bt601(&a, ya);
  clgan_image_luma_bt601(&b, yb);
  for (int r = 0; r < 20; r++)
    for (int q = 0; q < 20; q++) ca[r * 20 + q] = ya[(r + 2) * 24 + q + 2], cb[r * 20 + q] = yb[(r + 2) * 24 + q + 2];
  double want = ref_ssim(ca, cb, 20, 20);
  CHECK(fabs(s - want) < 1e-10 && s < 0.9, "SSIM %.12g, reference %.12g", s, want);
  memset(a.pixels, 50, 24 * 24 * 3);
  memset(b.pixels, 80, 24 * 24 * 3);
  CHECK_OK(clgan_ssim_y(&a, &b, 0, &s));
  double ma = 16 + 50 * (65.481 + 128.553 + 24.966) / 255, mb = 16 + 80 * 219.0 / 255;
  want = (2 * ma * mb + 6.5025) / (ma * ma + mb * mb + 6.5025);
  CHECK(fabs(s - want) < 1e-9, "flat SSIM %.12g want %.12g", s, want);
  CHECK(clgan_ssim_y(&a, &b, 7, &s) == CLGAN_ERR_INVALID_ARG, "10x10 left for SSIM accepted");

  /* colourfulness: grey 0; half red half green: 255 + 0.3 * 127.5 */
  CHECK(clgan_colourfulness(&a) == 0, "grey colourfulness %g", clgan_colourfulness(&a));
  for (int i = 0; i < 576; i++) {
    uint8_t *q = b.pixels + 3 * i;
    q[0] = i % 2 ? 255 : 0, q[1] = i % 2 ? 0 : 255, q[2] = 0;
  }
  CHECK(fabs(clgan_colourfulness(&b) - 293.25) < 1e-9, "colourfulness %.12g", clgan_colourfulness(&b));
  double m[3];
  clgan_mean_colour(&b, m);
  CHECK(m[0] == 127.5 && m[1] == 127.5 && m[2] == 0, "mean colour %g %g %g", m[0], m[1], m[2]);
  /* gradient energy: flat 0; vertical stripes 0/255 on grey: dx^2 = 255^2, dy = 0 */
  CHECK(clgan_gradient_energy(&a) == 0, "flat gradient energy %g", clgan_gradient_energy(&a));
  clgan_image g = make(9, 5, 1);
  for (int i = 0; i < 45; i++) g.pixels[i] = (i % 9) % 2 ? 255 : 0;
  CHECK(fabs(clgan_gradient_energy(&g) - 65025) < 1e-9, "stripes gradient energy %g",
        clgan_gradient_energy(&g));
  clgan_image_free(&a), clgan_image_free(&b), clgan_image_free(&g);
  test_period2();
  return tu_finish("eval_imgmetrics");
}
