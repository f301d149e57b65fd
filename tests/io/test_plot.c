/* Plots: a valid PNG of the documented size with curves in the palette's colours, text in
 * the title band, NaN gaps, and degenerate inputs (no points, one point, constant).
 * Labelled grids: the plain grid's pixels shifted by the margin, text where a label is. */
#include <cairo.h>
#include <fontconfig/fontconfig.h>

#include "io_helpers.h"

typedef struct image {
  uint8_t *px;
  int w, h, c;
} image;

static image read_plot(const char *path) {
  image im = {0};
  CHECK_OK(clgan_png_read(path, &im.px, &im.w, &im.h, &im.c));
  return im;
}

/* Pixels within 40 (per channel) of an RGB colour, inside [x0, x1) x [y0, y1). */
static int count_near(const image *im, int r, int g, int b, int x0, int x1, int y0, int y1) {
  int n = 0;
  if (!im->px || im->c != 3) return 0;
  for (int y = y0; y < y1 && y < im->h; y++)
    for (int x = x0; x < x1 && x < im->w; x++) {
      const uint8_t *p = im->px + ((size_t)y * im->w + x) * 3;
      n += abs(p[0] - r) < 40 && abs(p[1] - g) < 40 && abs(p[2] - b) < 40;
    }
  return n;
}

static int count_dark(const image *im, int x0, int x1, int y0, int y1) {
  return count_near(im, 0, 0, 0, x0, x1, y0, y1);
}

#define BLUE 0x1f, 0x77, 0xb4
#define ORANGE 0xff, 0x7f, 0x0e

static void check_full_plot(void) {
  enum { NP = 200 };
  float x[NP], loss_d[NP], loss_g[NP], dx[NP];
  for (int i = 0; i < NP; i++) {
    x[i] = (float)(i * 50);
    loss_d[i] = 1.4f * expf(-i / 60.0f) + 0.1f * sinf(i * 0.3f);
    loss_g[i] = 0.7f + 0.002f * i;
    dx[i] = 0.5f + 0.3f * cosf(i * 0.05f);
  }
  for (int i = 90; i < 110; i++) loss_d[i] = NAN; /* a gap in the middle */
  loss_g[5] = INFINITY;
  clgan_plot_series s1[2] = {{"loss_D", loss_d}, {"loss_G", loss_g}};
  clgan_plot_series s2[1] = {{"D(x)", dx}};
  clgan_plot_panel panels[2] = {{"Losses", "BCE", s1, 2}, {"Discriminator", "D output", s2, 1}};
  const char *path = io_path("plot.png");
  CHECK_OK(clgan_plot_write(path, "iteration", x, NP, panels, 2));
  image im = read_plot(path);
  int want_h = 2 * CLGAN_PLOT_PANEL_HEIGHT + CLGAN_PLOT_XAXIS_HEIGHT;
  CHECK(im.w == CLGAN_PLOT_WIDTH && im.h == want_h && im.c == 3, "plot is %dx%d c%d, want %dx%d",
        im.w, im.h, im.c, CLGAN_PLOT_WIDTH, want_h);
  int W = im.w, P = CLGAN_PLOT_PANEL_HEIGHT;
  /* panel 1 has loss_D in blue and loss_G in orange; panel 2 has D(x) in blue */
  int blue1 = count_near(&im, BLUE, 0, W, 0, P), orange1 = count_near(&im, ORANGE, 0, W, 0, P);
  int blue2 = count_near(&im, BLUE, 0, W, P, 2 * P), orange2 = count_near(&im, ORANGE, 0, W, P,
                                                                           2 * P);
  CHECK(blue1 > 300 && orange1 > 300, "panel 1 curves: %d blue, %d orange pixels", blue1,
        orange1);
  CHECK(blue2 > 300 && orange2 < 10, "panel 2 curve: %d blue, %d orange pixels", blue2, orange2);
  /* the NaN gap: x 4500..5450 maps to the middle of the plot; loss_D is not drawn there,
   * while both neighbours are */
  double x0 = 84, x1 = W - 24, lo = -0.02 * 9950, hi = 9950 * 1.02;
  int gx0 = (int)(x0 + (4600 - lo) / (hi - lo) * (x1 - x0));
  int gx1 = (int)(x0 + (5350 - lo) / (hi - lo) * (x1 - x0));
  int in_gap = count_near(&im, BLUE, gx0, gx1, 30, P - 12);
  int before = count_near(&im, BLUE, gx0 - 150, gx0 - 50, 30, P - 12);
  CHECK(in_gap < 5 && before > 50, "NaN gap: %d blue pixels inside, %d before", in_gap, before);
  /* text: title band, tick labels at the left, x label at the bottom */
  CHECK(count_dark(&im, 300, 660, 5, 25) > 40, "no title text");
  CHECK(count_dark(&im, 20, 76, 40, P - 20) > 100, "no y tick labels");
  CHECK(count_dark(&im, 0, 22, 60, P - 40) > 30, "no y axis label");
  /* below each panel's frame (at y = panel bottom - 12) and its tick marks (5 px): tick
   * labels under the last panel only, then the x label */
  int under1 = count_dark(&im, 0, W, P - 6, P + 6), under2 = count_dark(&im, 0, W, 2 * P - 6,
                                                                         2 * P + 6);
  CHECK(under2 > 100 && under1 < 5, "x tick labels: %d dark pixels under the last panel, %d "
        "under the first", under2, under1);
  CHECK(count_dark(&im, 300, 660, 2 * P + 10, im.h) > 40, "no x axis label");
  int white = count_near(&im, 255, 255, 255, 0, W, 0, im.h);
  CHECK(white > W * im.h / 2 && white < W * im.h - 5000, "%d white pixels of %d", white,
        W * im.h);
  free(im.px);
}

static void check_degenerate(void) {
  float one_x = 3.0f, one_y = 0.25f;
  clgan_plot_series s = {"one", &one_y};
  clgan_plot_panel p = {"single point", "y", &s, 1};
  const char *path = io_path("one.png");
  CHECK_OK(clgan_plot_write(path, "x", &one_x, 1, &p, 1));
  image im = read_plot(path);
  int want_h = CLGAN_PLOT_PANEL_HEIGHT + CLGAN_PLOT_XAXIS_HEIGHT;
  CHECK(im.w == CLGAN_PLOT_WIDTH && im.h == want_h, "one point: %dx%d", im.w, im.h);
  int dot = count_near(&im, BLUE, 84, im.w - 24 - 150, 30, CLGAN_PLOT_PANEL_HEIGHT - 12);
  CHECK(dot >= 9 && dot < 60, "one point: a dot of %d blue pixels", dot);
  free(im.px);

  /* no points, no x: axes only */
  p.title = "empty";
  CHECK_OK(clgan_plot_write(io_path("empty.png"), NULL, NULL, 0, &p, 1));
  im = read_plot(io_path("empty.png"));
  CHECK(im.w == CLGAN_PLOT_WIDTH && count_near(&im, BLUE, 84, im.w - 200, 30, 288) == 0,
        "empty plot has curve pixels");
  CHECK(count_dark(&im, 0, im.w, 0, im.h) > 500, "empty plot has no axes");
  free(im.px);

  /* constant and all-NaN series, x NULL: a flat line across the middle */
  float flat[50], nan[50];
  for (int i = 0; i < 50; i++) flat[i] = 2.0f, nan[i] = NAN;
  clgan_plot_series s2[2] = {{"flat", flat}, {NULL, nan}};
  clgan_plot_panel p2 = {NULL, NULL, s2, 2};
  CHECK_OK(clgan_plot_write(io_path("flat.png"), NULL, NULL, 50, &p2, 1));
  im = read_plot(io_path("flat.png"));
  int mid = (30 + CLGAN_PLOT_PANEL_HEIGHT - 12) / 2;
  int line = count_near(&im, BLUE, 100, 700, mid - 3, mid + 4);
  CHECK(line > 600, "constant series: %d blue pixels on the middle row", line);
  free(im.px);

  CHECK_FAILS(clgan_plot_write(io_path("bad.png"), NULL, NULL, 5, &p2, 0), CLGAN_ERR_INVALID_ARG,
              "0 panels");
  CHECK_FAILS(clgan_plot_write(io_path("nodir/p.png"), NULL, NULL, 50, &p2, 1), CLGAN_ERR_IO,
              "nodir/p.png");
}

/* Non-zero pixels of rows [y0, y1) of columns [0, x1). */
static int lit(const image *im, int x1, int y0, int y1) {
  int n = 0;
  for (int y = y0; y < y1; y++)
    for (int x = 0; x < x1; x++)
      for (int k = 0; k < im->c; k++) n += im->px[((size_t)y * im->w + x) * im->c + k] != 0;
  return n;
}

static void check_labeled_grid(int c) {
  /* 3 rows of 4 images of 28x28, padding 2; row 1 has no label */
  enum { N = 12, H = 28, W = 28 };
  static float img[N * 3 * H * W];
  for (size_t i = 0; i < sizeof img / sizeof *img; i++) img[i] = (float)((i * 37) % 200) / 100.0f - 1.0f;
  const char *labels[3] = {"T-shirt/top", NULL, "Ankle boot"};
  CHECK_OK(clgan_png_write_grid(io_path("plain.png"), img, N, c, H, W, 4, 2));
  CHECK_OK(clgan_png_write_grid_labeled(io_path("lab.png"), img, N, c, H, W, 4, 2, labels, 3));
  image p = read_plot(io_path("plain.png")), l = read_plot(io_path("lab.png"));
  int margin = clgan_grid_label_margin(labels, 3, H, 2);
  CHECK(l.c == c && l.h == p.h && l.w == p.w + margin && margin > 20, "labelled %dx%d c%d, "
        "plain %dx%d, margin %d", l.w, l.h, l.c, p.w, p.h, margin);
  if (l.w == p.w + margin && l.h == p.h && l.c == p.c) {
    int diff = 0;
    for (int y = 0; y < p.h; y++)
      diff += memcmp(l.px + ((size_t)y * l.w + margin) * c, p.px + (size_t)y * p.w * c,
                     (size_t)p.w * c) != 0;
    CHECK(diff == 0, "c%d: %d rows of the image part differ from the plain grid", c, diff);
    int row = H + 2;
    int r0 = lit(&l, margin, 2, 2 + H), r1 = lit(&l, margin, 2 + row, 2 + row + H),
        r2 = lit(&l, margin, 2 + 2 * row, 2 + 2 * row + H);
    CHECK(r0 > 30 && r2 > 30, "c%d: label text missing: %d and %d lit pixels", c, r0, r2);
    CHECK(r1 == 0, "c%d: the unlabelled row's margin has %d lit pixels", c, r1);
  }
  free(p.px);
  free(l.px);
  /* no labels at all: still a valid grid; bad label arguments refused */
  CHECK_OK(clgan_png_write_grid_labeled(io_path("nolab.png"), img, N, c, H, W, 4, 2, NULL, 0));
  CHECK_FAILS(clgan_png_write_grid_labeled(io_path("bad.png"), img, N, c, H, W, 4, 2, NULL, 2),
              CLGAN_ERR_INVALID_ARG, "bad labels");
  CHECK_FAILS(clgan_png_write_grid_labeled(io_path("nodir/g.png"), img, N, c, H, W, 4, 2, labels,
                                           3), CLGAN_ERR_IO, "nodir/g.png");
}

int main(void) {
  check_full_plot();
  check_degenerate();
  check_labeled_grid(1);
  check_labeled_grid(3);
  /* cairo and fontconfig keep font caches for the process's life; release them so that
   * leak checkers (the sanitizer build) see only clgan's own allocations */
  cairo_debug_reset_static_data();
  FcFini();
  return tu_finish("plot");
}
