/* Tests of src/io/photo.c: JPEG/PNG decoding and its refusals, the MATLAB bicubic resize
 * against a float64 2-D reference and hand-computed weights, Lab, photo sets (split, shrink)
 * and Philox crops (deterministic per (seed, step, index), aligned, flipped). Host only. */
#include <stdio.h> /* before jpeglib.h, which needs FILE and size_t */

#include "clgan/photo.h"
#include "io_helpers.h"
#include <jpeglib.h>

static void write_jpeg(const char *path, int w, int h, int comps, J_COLOR_SPACE cs,
                       const uint8_t *px, int quality) {
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  FILE *f = fopen(path, "wb");
  if (!f) exit(1);
  jpeg_stdio_dest(&c, f);
  c.image_width = (JDIMENSION)w;
  c.image_height = (JDIMENSION)h;
  c.input_components = comps;
  c.in_color_space = cs;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, quality, TRUE);
  if (comps == 3) { /* 4:4:4, so the round trip is tight */
    for (int i = 0; i < 3; i++) c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
  }
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * (size_t)w * (size_t)comps);
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  fclose(f);
}

static uint8_t smooth(int x, int y, int c) { return (uint8_t)(40 + 2 * x + 3 * y + 30 * c); }

static void test_jpeg(void) {
  int w = 37, h = 23;
  uint8_t *px = malloc((size_t)w * h * 4);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++) px[((size_t)y * w + x) * 3 + c] = smooth(x, y, c);
  const char *p = io_path("rgb.jpg");
  write_jpeg(p, w, h, 3, JCS_RGB, px, 100);
  clgan_image im;
  CHECK_OK(clgan_image_read(p, &im));
  CHECK(im.width == w && im.height == h && im.channels == 3, "%dx%dx%d", im.width, im.height,
        im.channels);
  int worst = 0;
  for (size_t i = 0; im.pixels && i < (size_t)w * h * 3; i++) {
    int d = abs((int)im.pixels[i] - (int)px[i]);
    if (d > worst) worst = d;
  }
  CHECK(worst <= 3, "quality-100 4:4:4 JPEG round trip off by %d (want <= 3)", worst);
  clgan_image_free(&im);

  for (size_t i = 0; i < (size_t)w * h; i++) px[i] = (uint8_t)(i * 7);
  p = io_path("grey.jpg");
  write_jpeg(p, w, h, 1, JCS_GRAYSCALE, px, 90);
  CHECK_OK(clgan_image_read(p, &im));
  CHECK(im.channels == 1 && im.width == w, "grey JPEG read as %d channels", im.channels);
  clgan_image_free(&im);

  for (size_t i = 0; i < (size_t)w * h * 4; i++) px[i] = (uint8_t)i;
  p = io_path("cmyk.jpg");
  write_jpeg(p, w, h, 4, JCS_CMYK, px, 90);
  CHECK_FAILS(clgan_image_read(p, &im), CLGAN_ERR_FORMAT, "CMYK");
  CHECK_MSG("cmyk.jpg");
  CHECK(im.pixels == NULL && im.width == 0, "output not empty after an error");

  /* truncated: the header survives, the scan does not */
  size_t n = 0;
  uint8_t *bytes = io_read_bytes(io_path("rgb.jpg"), &n);
  p = io_path("cut.jpg");
  io_write_bytes(p, bytes, n / 2);
  CHECK_FAILS(clgan_image_read(p, &im), CLGAN_ERR_FORMAT, "corrupt JPEG");
  CHECK_MSG("cut.jpg");
  bytes[n / 3] ^= 0xFF, bytes[n / 3 + 1] ^= 0xFF; /* corrupt the scan */
  p = io_path("flipped.jpg");
  io_write_bytes(p, bytes, 200); /* header only */
  CHECK_FAILS(clgan_image_read(p, &im), CLGAN_ERR_FORMAT, "flipped.jpg");
  free(bytes);
  p = io_path("text.jpg");
  io_write_bytes(p, "hello", 5);
  CHECK_FAILS(clgan_image_read(p, &im), CLGAN_ERR_FORMAT, "neither a JPEG nor a PNG");
  CHECK_FAILS(clgan_image_read(io_path("missing.jpg"), &im), CLGAN_ERR_IO, "missing.jpg");
  free(px);
}

static void test_png_kinds(void) {
  clgan_image im;
  /* palette -> RGB */
  png_color pal[2] = {{10, 20, 30}, {200, 100, 50}};
  uint8_t prow[4] = {0, 1, 1, 0};
  const char *p = io_path("pal.png");
  io_write_png_raw(p, 4, 1, PNG_COLOR_TYPE_PALETTE, 8, prow, 4, pal, 2, NULL, 0, NULL);
  CHECK_OK(clgan_image_read(p, &im));
  CHECK(im.channels == 3 && im.pixels && im.pixels[3] == 200 && im.pixels[5] == 50,
        "palette not expanded");
  clgan_image_free(&im);
  /* 16-bit grey -> 8 bits, rounded */
  uint8_t g16[4] = {0xFF, 0xFF, 0x80, 0x80}; /* 65535, 32896 -> 255, 128 */
  p = io_path("g16.png");
  io_write_png_raw(p, 2, 1, PNG_COLOR_TYPE_GRAY, 16, g16, 4, NULL, 0, NULL, 0, NULL);
  CHECK_OK(clgan_image_read(p, &im));
  CHECK(im.channels == 1 && im.pixels && im.pixels[0] == 255 && im.pixels[1] == 128,
        "16-bit grey read as %d %d", im.pixels ? im.pixels[0] : -1, im.pixels ? im.pixels[1] : -1);
  clgan_image_free(&im);
  /* opaque alpha is dropped; transparency is refused */
  uint8_t rgba[8] = {1, 2, 3, 255, 4, 5, 6, 255};
  p = io_path("opaque.png");
  io_write_png_raw(p, 2, 1, PNG_COLOR_TYPE_RGB_ALPHA, 8, rgba, 8, NULL, 0, NULL, 0, NULL);
  CHECK_OK(clgan_image_read(p, &im));
  CHECK(im.channels == 3 && im.pixels && im.pixels[3] == 4 && im.pixels[5] == 6,
        "opaque RGBA not reduced to RGB");
  clgan_image_free(&im);
  rgba[7] = 128;
  p = io_path("alpha.png");
  io_write_png_raw(p, 2, 1, PNG_COLOR_TYPE_RGB_ALPHA, 8, rgba, 8, NULL, 0, NULL, 0, NULL);
  CHECK_FAILS(clgan_image_read(p, &im), CLGAN_ERR_FORMAT, "transparent pixels (first at x 1");
  CHECK_MSG("alpha.png");
}

/* ---- resampling ---- */

static double cubic64(double x) {
  double a = fabs(x);
  if (a <= 1) return (1.5 * a - 2.5) * a * a + 1;
  if (a <= 2) return ((-0.5 * a + 2.5) * a - 4) * a + 2;
  return 0;
}
static int mir(int i, int n) {
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - 1 - i;
  return i;
}

/* Non-separable float64 reference: every output pixel as one 2-D weighted sum. */
static void ref_resize(const float *src, int h, int w, int oh, int ow, double widen, double *dst) {
  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++) {
      double cy = (y + 0.5) * h / oh - 0.5, cx = (x + 0.5) * w / ow - 0.5;
      double acc = 0, wsum = 0;
      int r = (int)ceil(2 * widen) + 1;
      for (int i = (int)floor(cy) - r; i <= (int)floor(cy) + r + 1; i++)
        for (int j = (int)floor(cx) - r; j <= (int)floor(cx) + r + 1; j++) {
          double wv = cubic64((cy - i) / widen) * cubic64((cx - j) / widen);
          acc += wv * src[(size_t)mir(i, h) * w + mir(j, w)];
          wsum += wv;
        }
      dst[(size_t)y * ow + x] = acc / wsum;
    }
}

static void test_resize(void) {
  /* hand-computed: MATLAB's x1/2 bicubic weights, (a = -0.5, kernel widened by 2) */
  const double w2[8] = {-0.01171875, -0.03515625, 0.11328125, 0.43359375,
                        0.43359375,  0.11328125,  -0.03515625, -0.01171875};
  /* two equal rows (the vertical pass then sees a constant) with an impulse at x = 16 */
  float row[64] = {0}, out[16];
  row[16] = row[48] = 1;
  CHECK_OK(clgan_downscale_bicubic(row, 1, 2, 32, 2, out));
  /* output j is centred at 2j + 0.5 and takes inputs 2j - 3 .. 2j + 4 with w2[0..7] */
  for (int j = 6; j <= 9; j++) {
    int t = 16 - (2 * j - 3);
    double want = t >= 0 && t < 8 ? w2[t] : 0;
    CHECK(fabs(out[j] - want) < 1e-7, "x1/2 impulse response at %d: %.9g want %.9g", j, out[j], want);
  }
  /* upscale x2: output o sits at (o + 0.5) / 2 - 0.5, so o = 29..36 are 1.75, 1.25, 0.75,
   * 0.25, 0.25, 0.75, 1.25, 1.75 from the impulse */
  float up[4 * 64];
  const double u2[8] = {-0.0234375, -0.0703125, 0.2265625, 0.8671875,
                        0.8671875,  0.2265625,  -0.0703125, -0.0234375};
  CHECK_OK(clgan_upscale_bicubic(row, 1, 2, 32, 2, up));
  for (int o = 29; o <= 36; o++)
    CHECK(fabs(up[o] - u2[o - 29]) < 1e-7, "x2 upscale impulse at %d: %.9g want %.9g", o,
          up[o], u2[o - 29]);
  CHECK(fabs(up[28]) < 1e-7 && fabs(up[37]) < 1e-7, "x2 upscale reaches too far");

  /* random images against the 2-D float64 reference, several factors, odd sizes */
  const int ks[3] = {2, 3, 4};
  for (int t = 0; t < 3; t++) {
    int k = ks[t], h = 6 * k, w = 5 * k + k * 2;
    float *src = tu_alloc((size_t)2 * h * w), *dst = tu_alloc((size_t)2 * h * w);
    double *ref = malloc(sizeof(double) * h * w);
    float *reff = tu_alloc((size_t)h * w);
    for (int i = 0; i < 2 * h * w; i++) src[i] = (float)((i * 7919) % 255) / 127.5f - 1;
    CHECK_OK(clgan_downscale_bicubic(src, 2, h, w, k, dst));
    for (int c = 0; c < 2; c++) {
      ref_resize(src + (size_t)c * h * w, h, w, h / k, w / k, k, ref);
      for (int i = 0; i < (h / k) * (w / k); i++) reff[i] = (float)ref[i];
      CHECK_CLOSE(dst + (size_t)c * (h / k) * (w / k), reff, (size_t)(h / k) * (w / k), 1e-6,
                  1e-6, "downscale vs 2-D float64 reference");
    }
    CHECK_OK(clgan_upscale_bicubic(src, 1, h / k, w / k, k, dst));
    ref_resize(src, h / k, w / k, h, w, 1.0, ref);
    for (int i = 0; i < h * w; i++) reff[i] = (float)ref[i];
    CHECK_CLOSE(dst, reff, (size_t)h * w, 1e-6, 1e-6, "upscale vs 2-D float64 reference");
    /* a linear ramp is reproduced away from the mirrored edges: centre k j + (k - 1) / 2 */
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) src[(size_t)y * w + x] = 0.25f * x + 0.5f * y;
    CHECK_OK(clgan_downscale_bicubic(src, 1, h, w, k, dst));
    int y = 3, x = 3;
    double want = 0.25 * (k * x + (k - 1) / 2.0) + 0.5 * (k * y + (k - 1) / 2.0);
    CHECK(fabs(dst[y * (w / k) + x] - want) < 1e-5, "ramp x1/%d: %.7g want %.7g", k,
          dst[y * (w / k) + x], want);
    free(src), free(dst), free(ref), free(reff);
  }
  float dummy[4];
  CHECK_FAILS(clgan_downscale_bicubic(row, 1, 1, 31, 2, dummy), CLGAN_ERR_INVALID_ARG,
              "multiples");

  /* 8-bit: a constant image stays exactly constant */
  clgan_image im, sm;
  CHECK_OK(clgan_image_alloc(&im, 12, 8, 3));
  memset(im.pixels, 77, 12 * 8 * 3);
  CHECK_OK(clgan_image_downscale(&im, 4, &sm));
  CHECK(sm.width == 3 && sm.height == 2 && sm.pixels && sm.pixels[0] == 77 && sm.pixels[17] == 77,
        "constant image changed by the downscale");
  clgan_image_free(&im);
  clgan_image_free(&sm);
}

static void test_colour(void) {
  float lab[3], rgb[3];
  clgan_srgb_to_lab((float[3]){1, 1, 1}, lab);
  CHECK(fabsf(lab[0] - 100) < 1e-3 && fabsf(lab[1]) < 1e-2 && fabsf(lab[2]) < 1e-2,
        "white -> Lab %g %g %g", lab[0], lab[1], lab[2]);
  clgan_srgb_to_lab((float[3]){1, 0, 0}, lab); /* published: 53.24, 80.09, 67.20 */
  CHECK(fabsf(lab[0] - 53.24f) < 0.02 && fabsf(lab[1] - 80.09f) < 0.05 &&
        fabsf(lab[2] - 67.20f) < 0.05, "red -> Lab %g %g %g", lab[0], lab[1], lab[2]);
  float worst = 0;
  for (int i = 0; i < 125; i++) {
    float c[3] = {(i % 5) / 4.0f, (i / 5 % 5) / 4.0f, (i / 25) / 4.0f};
    clgan_srgb_to_lab(c, lab);
    clgan_lab_to_srgb(lab, rgb);
    for (int j = 0; j < 3; j++) worst = fmaxf(worst, fabsf(rgb[j] - c[j]));
  }
  CHECK(worst < 1e-4, "sRGB -> Lab -> sRGB off by %g", worst);
  float planes[6] = {1, -1, 0.5f, 0.5f, -1, 1}, grey[2];
  clgan_planes_rgb_to_grey(planes, 1, 2, grey);
  CHECK(fabsf(grey[0] - (0.299f + 0.587f * 0.5f - 0.114f)) < 1e-6, "luma %g", grey[0]);
}

/* ---- photo sets ---- */

/* photo i: R = x, G = y, B = 40 i: a crop tells where it came from */
static void make_set(int n, int w, int h) {
  uint8_t *px = malloc((size_t)w * h * 3);
  for (int i = 0; i < n; i++) {
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        uint8_t *q = px + ((size_t)y * w + x) * 3;
        q[0] = (uint8_t)x, q[1] = (uint8_t)y, q[2] = (uint8_t)(40 * i);
      }
    char name[64];
    snprintf(name, sizeof name, "set/p%d.png", i);
    CHECK_OK(clgan_png_write(io_path(name), px, w, h, 3));
  }
  io_write_bytes(io_path("set/notes.txt"), "x", 1);
  free(px);
}

static void test_photoset(void) {
  mkdir(io_path("set"), 0755);
  make_set(6, 200, 120);
  clgan_photoset ps;
  CHECK_OK(clgan_photoset_load(io_path("set"), 0, &ps));
  CHECK(ps.count == 6 && ps.n_train == 5 && ps.n_eval == 1 && ps.eval_idx[0] == 3 &&
        strcmp(ps.names[3], "p3.png") == 0, "split: %d photos, %d eval", ps.count, ps.n_eval);
  /* crops: aligned, inside, flipped or not, the same whatever n */
  const int s = 16, n = 12;
  float *a = tu_alloc((size_t)n * 3 * s * s), *b = tu_alloc((size_t)n * 3 * s * s);
  CHECK_OK(clgan_photoset_crops(&ps, 0, s, 4, 3, 9, 5, n, a));
  CHECK_OK(clgan_photoset_crops(&ps, 0, s, 4, 3, 9, 5, 3, b));
  CHECK(memcmp(a, b, sizeof(float) * 3 * 3 * s * s) == 0, "crops depend on the batch size");
  int flips = 0;
  for (int i = 0; i < n; i++) {
    const float *c = a + (size_t)i * 3 * s * s;
    int r0 = (int)lroundf((c[0] + 1) * 127.5f), r1 = (int)lroundf((c[1] + 1) * 127.5f);
    int g0 = (int)lroundf((c[s * s] + 1) * 127.5f), bb = (int)lroundf((c[2 * s * s] + 1) * 127.5f);
    int flip = r1 < r0;
    flips += flip;
    int x0 = flip ? r0 - (s - 1) : r0;
    CHECK(x0 % 4 == 0 && g0 % 4 == 0 && x0 + s <= 200 && g0 + s <= 120,
          "crop %d at x %d y %d (align 4, inside 200x120)", i, x0, g0);
    CHECK(bb != 120, "crop %d comes from the held-out photo", i);
  }
  CHECK(flips > 0 && flips < n, "%d of %d crops flipped", flips, n);
  CHECK_OK(clgan_photoset_crops(&ps, 0, s, 4, 3, 9, 6, 3, b));
  CHECK(memcmp(a, b, sizeof(float) * 3 * 3 * s * s) != 0, "step 6 repeats step 5");
  CHECK_OK(clgan_photoset_crops(&ps, 1, s, 1, 3, 9, 0, 4, b));
  for (int i = 0; i < 4; i++)
    CHECK(lroundf((b[(size_t)i * 3 * s * s + 2 * s * s] + 1) * 127.5f) == 120,
          "held-out crop %d not from p3", i);
  CHECK_OK(clgan_photoset_crops(&ps, 0, s, 4, 1, 9, 5, 1, b));
  float want = 0.299f * a[0] + 0.587f * a[s * s] + 0.114f * a[2 * s * s];
  CHECK(fabsf(b[0] - want) < 1e-6, "grey crop %g want %g", b[0], want);
  CHECK_FAILS(clgan_photoset_crops(&ps, 0, 130, 1, 3, 9, 0, 1, b), CLGAN_ERR_INVALID_ARG,
              "smaller than a 130x130 crop");
  clgan_photoset_free(&ps);
  /* shrink at load: 200x120 with max_side 64 -> k = 4 -> 50x30 */
  CHECK_OK(clgan_photoset_load(io_path("set"), 64, &ps));
  CHECK(ps.count == 6 && ps.photos[0].width == 50 && ps.photos[0].height == 30,
        "shrunk to %dx%d", ps.photos[0].width, ps.photos[0].height);
  clgan_photoset_free(&ps);
  /* a bad file names itself and fails the load */
  io_write_bytes(io_path("set/p9.jpg"), "\xFF\xD8\xFF\xE0 junk", 9);
  CHECK_FAILS(clgan_photoset_load(io_path("set"), 0, &ps), CLGAN_ERR_FORMAT, "p9.jpg");
  CHECK(ps.count == 0 && ps.photos == NULL, "set not empty after an error");
  CHECK_FAILS(clgan_photoset_load(io_path("nowhere"), 0, &ps), CLGAN_ERR_IO, "nowhere");
  free(a), free(b);
}

/* The Debian photos, when installed: 12 photos, the three held-out ones by name. */
static void test_default_set(void) {
  if (access(CLGAN_DEFAULT_PHOTOS "/Aqua.jpg", R_OK) != 0) {
    printf("note: mate-backgrounds not installed; default photo set not checked\n");
    return;
  }
  clgan_photoset ps;
  CHECK_OK(clgan_photoset_load(NULL, 1024, &ps));
  CHECK(ps.count == 12 && ps.n_eval == 3, "%d photos, %d held out", ps.count, ps.n_eval);
  if (ps.n_eval == 3)
    CHECK(!strcmp(ps.names[ps.eval_idx[0]], "FreshFlower.jpg") &&
          !strcmp(ps.names[ps.eval_idx[1]], "RainDrops.jpg") &&
          !strcmp(ps.names[ps.eval_idx[2]], "YellowFlower.jpg"), "held out: %s %s %s",
          ps.names[ps.eval_idx[0]], ps.names[ps.eval_idx[1]], ps.names[ps.eval_idx[2]]);
  for (int i = 0; i < ps.count; i++)
    CHECK(ps.photos[i].width <= 1024 && ps.photos[i].height <= 1024 && ps.photos[i].channels == 3,
          "%s: %dx%d", ps.names[i], ps.photos[i].width, ps.photos[i].height);
  clgan_photoset_free(&ps);
}

int main(void) {
  test_jpeg();
  test_png_kinds();
  test_resize();
  test_colour();
  test_photoset();
  test_default_set();
  return tu_finish("io_photo");
}
