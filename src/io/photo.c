/* Photos: JPEG (libjpeg-turbo) and PNG decoding, photo sets with a held-out split, Philox
 * crops, colour conversions, MATLAB-style bicubic resampling. Tests: tests/io/test_photo.c */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "clgan/io.h"
#include "clgan/ops.h"
#include "clgan/photo.h"
#include "internal.h"

#define PHOTO_MAX_FILE ((size_t)1 << 30)
#define PHOTO_MAX_SIDE 32768
#define PHOTO_MAX_FILES 4096
#define STREAM_CROP 0x5a5a0101ull /* the crops' Philox stream: seed + this */

/* ---- images ---- */

clgan_status clgan_image_alloc(clgan_image *im, int width, int height, int channels) {
  memset(im, 0, sizeof *im);
  if (width <= 0 || height <= 0 || width > PHOTO_MAX_SIDE || height > PHOTO_MAX_SIDE ||
      !(channels == 1 || channels == 3))
    return clgan_error(CLGAN_ERR_INVALID_ARG, "image %dx%d with %d channels (1 or 3, sides "
                       "1..%d)", width, height, channels, PHOTO_MAX_SIDE);
  im->pixels = calloc((size_t)width * (size_t)height * (size_t)channels, 1);
  if (!im->pixels)
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory for a %dx%d image", width, height);
  im->width = width;
  im->height = height;
  im->channels = channels;
  return CLGAN_OK;
}

void clgan_image_free(clgan_image *im) {
  if (!im) return;
  free(im->pixels);
  memset(im, 0, sizeof *im);
}

clgan_status clgan_image_write(const char *path, const clgan_image *im) {
  return clgan_png_write(path, im->pixels, im->width, im->height, im->channels);
}

void clgan_image_to_planes(const clgan_image *im, float *out) {
  size_t hw = (size_t)im->width * (size_t)im->height;
  for (int c = 0; c < im->channels; c++)
    for (size_t p = 0; p < hw; p++)
      out[(size_t)c * hw + p] = (float)im->pixels[p * (size_t)im->channels + (size_t)c] / 127.5f - 1.0f;
}

static uint8_t to_u8(float v) {
  float u = (v + 1.0f) * 127.5f + 0.5f;
  return !(u > 0.0f) ? 0 : u >= 255.0f ? 255 : (uint8_t)u;
}

void clgan_planes_to_image(const float *planes, clgan_image *im) {
  size_t hw = (size_t)im->width * (size_t)im->height;
  for (int c = 0; c < im->channels; c++)
    for (size_t p = 0; p < hw; p++)
      im->pixels[p * (size_t)im->channels + (size_t)c] = to_u8(planes[(size_t)c * hw + p]);
}

/* ---- JPEG ---- */

typedef struct jpeg_err {
  struct jpeg_error_mgr mgr;
  jmp_buf jb;
  char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_fail(j_common_ptr cinfo) {
  jpeg_err *e = (jpeg_err *)cinfo->err;
  cinfo->err->format_message(cinfo, e->msg);
  longjmp(e->jb, 1);
}

/* Warnings (corrupt data libjpeg papers over with grey) are failures here. */
static void jpeg_warn(j_common_ptr cinfo, int level) {
  if (level < 0) jpeg_fail(cinfo);
}

typedef struct jpeg_state {
  struct jpeg_decompress_struct cinfo;
  jpeg_err err;
  uint8_t *pixels;
  int created;
} jpeg_state;

static clgan_status jpeg_decode(const char *path, const uint8_t *data, size_t size,
                                jpeg_state *st, clgan_image *out) {
  st->cinfo.err = jpeg_std_error(&st->err.mgr);
  st->err.mgr.error_exit = jpeg_fail;
  st->err.mgr.emit_message = jpeg_warn;
  if (setjmp(st->err.jb))
    return clgan_error(CLGAN_ERR_FORMAT, "'%s' is a corrupt JPEG: %s", path, st->err.msg);
  jpeg_create_decompress(&st->cinfo);
  st->created = 1;
  jpeg_mem_src(&st->cinfo, data, (unsigned long)size);
  jpeg_read_header(&st->cinfo, TRUE);
  J_COLOR_SPACE cs = st->cinfo.jpeg_color_space;
  if (cs == JCS_CMYK || cs == JCS_YCCK)
    return clgan_error(CLGAN_ERR_FORMAT, "'%s' is a %s JPEG; only grey and RGB/YCbCr JPEGs "
                       "are read (convert it to RGB first)", path,
                       cs == JCS_CMYK ? "CMYK" : "YCCK");
  int grey = cs == JCS_GRAYSCALE;
  st->cinfo.out_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&st->cinfo);
  int w = (int)st->cinfo.output_width, h = (int)st->cinfo.output_height;
  int ch = st->cinfo.output_components;
  if (w <= 0 || h <= 0 || w > PHOTO_MAX_SIDE || h > PHOTO_MAX_SIDE || !(ch == 1 || ch == 3))
    return clgan_error(CLGAN_ERR_FORMAT, "'%s': JPEG of %dx%d with %d components is not "
                       "supported (sides 1..%d, 1 or 3 components)", path, w, h, ch,
                       PHOTO_MAX_SIDE);
  st->pixels = malloc((size_t)w * (size_t)h * (size_t)ch);
  if (!st->pixels)
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory decoding '%s' (%dx%d)", path, w, h);
  while (st->cinfo.output_scanline < st->cinfo.output_height) {
    JSAMPROW row = st->pixels + (size_t)st->cinfo.output_scanline * (size_t)w * (size_t)ch;
    jpeg_read_scanlines(&st->cinfo, &row, 1);
  }
  jpeg_finish_decompress(&st->cinfo);
  out->width = w;
  out->height = h;
  out->channels = ch;
  return CLGAN_OK;
}

static clgan_status read_jpeg(const char *path, const uint8_t *data, size_t size,
                              clgan_image *out) {
  jpeg_state *st = calloc(1, sizeof *st); /* heap: jmp_buf and cinfo are big */
  if (!st) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory decoding '%s'", path);
  clgan_status s = jpeg_decode(path, data, size, st, out);
  if (st->created) jpeg_destroy_decompress(&st->cinfo);
  if (s == CLGAN_OK) out->pixels = st->pixels;
  else free(st->pixels);
  free(st);
  return s;
}

/* ---- PNG: grey/RGB as they are; alpha dropped only when fully opaque ---- */

static clgan_status read_png(const char *path, clgan_image *out) {
  uint8_t *px = NULL;
  int w = 0, h = 0, ch = 0;
  clgan_status s = clgan_png_read(path, &px, &w, &h, &ch);
  if (s) return s;
  if (ch == 2 || ch == 4) {
    size_t n = (size_t)w * (size_t)h;
    for (size_t p = 0; p < n; p++)
      if (px[p * (size_t)ch + (size_t)ch - 1] != 255) {
        free(px);
        return clgan_error(CLGAN_ERR_FORMAT, "'%s' has transparent pixels (first at x %zu, y "
                           "%zu); flatten it onto a background first", path, p % (size_t)w,
                           p / (size_t)w);
      }
    int nc = ch - 1;
    for (size_t p = 0; p < n; p++)
      for (int c = 0; c < nc; c++) px[p * (size_t)nc + (size_t)c] = px[p * (size_t)ch + (size_t)c];
  }
  out->pixels = px;
  out->width = w;
  out->height = h;
  out->channels = ch == 2 || ch == 1 ? 1 : 3;
  return CLGAN_OK;
}

clgan_status clgan_image_read(const char *path, clgan_image *out) {
  memset(out, 0, sizeof *out);
  void *data = NULL;
  size_t size = 0;
  clgan_status s = clgan_read_file(path, PHOTO_MAX_FILE, &data, &size);
  if (s) return s;
  const uint8_t *b = data;
  if (size >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) {
    s = read_jpeg(path, b, size, out);
    free(data);
  } else if (size >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) {
    free(data);
    s = read_png(path, out);
  } else {
    free(data);
    s = clgan_error(CLGAN_ERR_FORMAT, "'%s' is neither a JPEG nor a PNG (no signature at byte "
                    "0)", path);
  }
  if (s) memset(out, 0, sizeof *out);
  return s;
}

/* ---- colour ---- */

void clgan_planes_rgb_to_grey(const float *rgb, int h, int w, float *grey) {
  size_t hw = (size_t)h * (size_t)w;
  for (size_t p = 0; p < hw; p++)
    grey[p] = 0.299f * rgb[p] + 0.587f * rgb[hw + p] + 0.114f * rgb[2 * hw + p];
}

static double srgb_to_linear(double v) {
  return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}
static double linear_to_srgb(double v) {
  return v <= 0.0031308 ? 12.92 * v : 1.055 * pow(v, 1.0 / 2.4) - 0.055;
}
/* D65 reference white (CIE 1931 2 degree observer), and the CIE f() with its linear toe */
static const double WX = 0.95047, WY = 1.0, WZ = 1.08883;
static double lab_f(double t) {
  const double d = 6.0 / 29.0;
  return t > d * d * d ? cbrt(t) : t / (3 * d * d) + 4.0 / 29.0;
}
static double lab_finv(double t) {
  const double d = 6.0 / 29.0;
  return t > d ? t * t * t : 3 * d * d * (t - 4.0 / 29.0);
}

void clgan_srgb_to_lab(const float rgb[3], float lab[3]) {
  double r = srgb_to_linear(rgb[0]), g = srgb_to_linear(rgb[1]), b = srgb_to_linear(rgb[2]);
  double x = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
  double y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
  double z = 0.0193339 * r + 0.1191920 * g + 0.9503041 * b;
  double fx = lab_f(x / WX), fy = lab_f(y / WY), fz = lab_f(z / WZ);
  lab[0] = (float)(116 * fy - 16);
  lab[1] = (float)(500 * (fx - fy));
  lab[2] = (float)(200 * (fy - fz));
}

static float clamp01(double v) { return v < 0 ? 0.0f : v > 1 ? 1.0f : (float)v; }

void clgan_lab_to_srgb(const float lab[3], float rgb[3]) {
  double fy = (lab[0] + 16.0) / 116.0, fx = fy + lab[1] / 500.0, fz = fy - lab[2] / 200.0;
  double x = WX * lab_finv(fx), y = WY * lab_finv(fy), z = WZ * lab_finv(fz);
  double r = 3.2404542 * x - 1.5371385 * y - 0.4985314 * z;
  double g = -0.9692660 * x + 1.8760108 * y + 0.0415560 * z;
  double b = 0.0556434 * x - 0.2040259 * y + 1.0572252 * z;
  rgb[0] = clamp01(linear_to_srgb(clamp01(r)));
  rgb[1] = clamp01(linear_to_srgb(clamp01(g)));
  rgb[2] = clamp01(linear_to_srgb(clamp01(b)));
}

/* ---- resampling (MATLAB imresize, bicubic) ---- */

static double cubic(double x) { /* Keys, a = -0.5 */
  double a = fabs(x), a2 = a * a, a3 = a2 * a;
  if (a <= 1) return 1.5 * a3 - 2.5 * a2 + 1;
  if (a <= 2) return -0.5 * a3 + 2.5 * a2 - 4 * a + 2;
  return 0;
}

static int mirror(int i, int n) { /* symmetric padding: -1 -> 0, n -> n - 1 */
  for (;;) {
    if (i < 0) i = -i - 1;
    else if (i >= n) i = 2 * n - 1 - i;
    else return i;
  }
}

/* The taps of a 1-D resize from n_in to n_out samples: for output j, `taps` input indices
 * (mirrored) and normalised weights. widen = k for a downscale by k (antialiasing), else 1;
 * centre(j) = (j + 0.5) * n_in / n_out - 0.5. */
typedef struct resize_plan {
  int n_out, taps;
  int *idx;                 /* (n_out, taps) */
  double *wt;               /* (n_out, taps) */
} resize_plan;

static int plan_make(resize_plan *p, int n_in, int n_out, double widen) {
  double scale = (double)n_in / n_out;
  int taps = (int)ceil(4 * widen) + 2;
  p->n_out = n_out;
  p->taps = taps;
  p->idx = malloc((size_t)n_out * (size_t)taps * sizeof *p->idx);
  p->wt = malloc((size_t)n_out * (size_t)taps * sizeof *p->wt);
  if (!p->idx || !p->wt) return -1;
  for (int j = 0; j < n_out; j++) {
    double c = (j + 0.5) * scale - 0.5;
    int left = (int)floor(c - 2 * widen);
    double sum = 0;
    for (int t = 0; t < taps; t++) {
      int i = left + t;
      double wv = cubic((c - i) / widen) / widen;
      p->idx[(size_t)j * (size_t)taps + (size_t)t] = mirror(i, n_in);
      p->wt[(size_t)j * (size_t)taps + (size_t)t] = wv;
      sum += wv;
    }
    for (int t = 0; t < taps; t++) p->wt[(size_t)j * (size_t)taps + (size_t)t] /= sum;
  }
  return 0;
}

static void plan_free(resize_plan *p) {
  free(p->idx);
  free(p->wt);
}

/* Resizes planes (c, h, w) -> (c, oh, ow) with widening `widen` (k down, 1 up). */
static clgan_status resize_planes(const float *src, int c, int h, int w, int oh, int ow,
                                  double widen, float *dst) {
  resize_plan pr = {0}, pc = {0};
  double *tmp = malloc((size_t)oh * (size_t)w * sizeof *tmp);
  clgan_status s = CLGAN_OK;
  if (!tmp || plan_make(&pr, h, oh, widen) || plan_make(&pc, w, ow, widen)) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory resizing %dx%d -> %dx%d", w, h, ow, oh);
    goto done;
  }
  for (int ch = 0; ch < c; ch++) {
    const float *in = src + (size_t)ch * (size_t)h * (size_t)w;
    float *out = dst + (size_t)ch * (size_t)oh * (size_t)ow;
    for (int y = 0; y < oh; y++) { /* rows first, as MATLAB resizes dim 1 first */
      double *row = tmp + (size_t)y * (size_t)w;
      for (int x = 0; x < w; x++) row[x] = 0;
      for (int t = 0; t < pr.taps; t++) {
        double wv = pr.wt[(size_t)y * (size_t)pr.taps + (size_t)t];
        const float *irow = in + (size_t)pr.idx[(size_t)y * (size_t)pr.taps + (size_t)t] * (size_t)w;
        for (int x = 0; x < w; x++) row[x] += wv * irow[x];
      }
    }
    for (int y = 0; y < oh; y++) {
      const double *row = tmp + (size_t)y * (size_t)w;
      for (int x = 0; x < ow; x++) {
        double acc = 0;
        const int *ix = pc.idx + (size_t)x * (size_t)pc.taps;
        const double *wt = pc.wt + (size_t)x * (size_t)pc.taps;
        for (int t = 0; t < pc.taps; t++) acc += wt[t] * row[ix[t]];
        out[(size_t)y * (size_t)ow + (size_t)x] = (float)acc;
      }
    }
  }
done:
  plan_free(&pr);
  plan_free(&pc);
  free(tmp);
  return s;
}

clgan_status clgan_downscale_bicubic(const float *src, int c, int h, int w, int k, float *dst) {
  if (!src || !dst || c <= 0 || h <= 0 || w <= 0 || k < 1 || h % k || w % k)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "bicubic downscale of %dx%d (x%d channels) by %d: "
                       "sides must be positive multiples of the factor", w, h, c, k);
  if (k == 1) {
    memcpy(dst, src, (size_t)c * (size_t)h * (size_t)w * sizeof *dst);
    return CLGAN_OK;
  }
  return resize_planes(src, c, h, w, h / k, w / k, (double)k, dst);
}

clgan_status clgan_upscale_bicubic(const float *src, int c, int h, int w, int k, float *dst) {
  if (!src || !dst || c <= 0 || h <= 0 || w <= 0 || k < 1 || (long long)h * k > PHOTO_MAX_SIDE ||
      (long long)w * k > PHOTO_MAX_SIDE)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "bicubic upscale of %dx%d (x%d channels) by %d: "
                       "bad shape", w, h, c, k);
  return resize_planes(src, c, h, w, h * k, w * k, 1.0, dst);
}

clgan_status clgan_image_downscale(const clgan_image *src, int k, clgan_image *dst) {
  memset(dst, 0, sizeof *dst);
  if (k < 1 || src->width % k || src->height % k)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "downscaling a %dx%d image by %d: sides must be "
                       "multiples of the factor", src->width, src->height, k);
  int c = src->channels, h = src->height, w = src->width;
  size_t n = (size_t)c * (size_t)h * (size_t)w;
  float *in = malloc(n * sizeof *in), *out = malloc(n / ((size_t)k * (size_t)k) * sizeof *out);
  clgan_status s = CLGAN_OK;
  if (!in || !out) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory downscaling a %dx%d image", w, h);
    goto done;
  }
  /* planes in 0..255, so the rounding below is MATLAB's uint8 rounding */
  size_t hw = (size_t)h * (size_t)w;
  for (int ch = 0; ch < c; ch++)
    for (size_t p = 0; p < hw; p++) in[(size_t)ch * hw + p] = src->pixels[p * (size_t)c + (size_t)ch];
  s = clgan_downscale_bicubic(in, c, h, w, k, out);
  if (s) goto done;
  s = clgan_image_alloc(dst, w / k, h / k, c);
  if (s) goto done;
  size_t ohw = (size_t)(h / k) * (size_t)(w / k);
  for (int ch = 0; ch < c; ch++)
    for (size_t p = 0; p < ohw; p++) {
      float v = floorf(out[(size_t)ch * ohw + p] + 0.5f);
      dst->pixels[p * (size_t)c + (size_t)ch] = v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)v;
    }
done:
  free(in);
  free(out);
  return s;
}

/* ---- photo sets ---- */

static int is_photo_name(const char *n) {
  size_t len = strlen(n);
  if (n[0] == '.') return 0;
  const char *ext[] = {".jpg", ".jpeg", ".png"};
  for (int e = 0; e < 3; e++) {
    size_t el = strlen(ext[e]);
    if (len > el && strcasecmp(n + len - el, ext[e]) == 0) return 1;
  }
  return 0;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void clgan_photoset_free(clgan_photoset *ps) {
  if (!ps) return;
  for (int i = 0; i < ps->count; i++) clgan_image_free(&ps->photos[i]);
  free(ps->photos);
  free(ps->names);
  free(ps->held_out);
  free(ps->train_idx);
  free(ps->eval_idx);
  memset(ps, 0, sizeof *ps);
}

/* grey -> RGB, then the max_side shrink */
static clgan_status photo_prepare(const char *path, clgan_image *im, int max_side) {
  if (im->channels == 1) {
    clgan_image rgb;
    clgan_status s = clgan_image_alloc(&rgb, im->width, im->height, 3);
    if (s) return s;
    size_t n = (size_t)im->width * (size_t)im->height;
    for (size_t p = 0; p < n; p++)
      rgb.pixels[3 * p] = rgb.pixels[3 * p + 1] = rgb.pixels[3 * p + 2] = im->pixels[p];
    clgan_image_free(im);
    *im = rgb;
  }
  int side = im->width > im->height ? im->width : im->height;
  if (max_side > 0 && side > max_side) {
    int k = (side + max_side - 1) / max_side;
    int w = im->width - im->width % k, h = im->height - im->height % k;
    if (w < k || h < k)
      return clgan_error(CLGAN_ERR_FORMAT, "'%s' (%dx%d) is too thin to shrink by %d", path,
                         im->width, im->height, k);
    if (w != im->width || h != im->height) { /* crop right/bottom to multiples of k */
      for (int y = 0; y < h; y++)
        memmove(im->pixels + (size_t)y * (size_t)w * 3,
                im->pixels + (size_t)y * (size_t)im->width * 3, (size_t)w * 3);
      im->width = w;
      im->height = h;
    }
    clgan_image small;
    clgan_status s = clgan_image_downscale(im, k, &small);
    if (s) return clgan_error_prefix("shrinking '%s': ", path);
    clgan_image_free(im);
    *im = small;
  }
  if (im->width < 16 || im->height < 16)
    return clgan_error(CLGAN_ERR_FORMAT, "'%s' is %dx%d, smaller than 16x16%s", path, im->width,
                       im->height, max_side > 0 ? " after shrinking" : "");
  return CLGAN_OK;
}

clgan_status clgan_photoset_load(const char *dir, int max_side, clgan_photoset *out) {
  memset(out, 0, sizeof *out);
  if (!dir || !*dir) dir = CLGAN_DEFAULT_PHOTOS;
  DIR *d = opendir(dir);
  if (!d)
    return clgan_error(CLGAN_ERR_IO, "cannot open photo folder '%s': %s", dir, strerror(errno));
  char **names = NULL;
  int n = 0, cap = 0;
  clgan_status s = CLGAN_OK;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!is_photo_name(e->d_name)) continue;
    if (n == PHOTO_MAX_FILES) {
      s = clgan_error(CLGAN_ERR_FORMAT, "'%s' holds more than %d images", dir, PHOTO_MAX_FILES);
      break;
    }
    if (n == cap) {
      cap = cap ? 2 * cap : 32;
      char **nn = realloc(names, (size_t)cap * sizeof *nn);
      if (!nn) {
        s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory listing '%s'", dir);
        break;
      }
      names = nn;
    }
    if (!(names[n] = strdup(e->d_name))) {
      s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory listing '%s'", dir);
      break;
    }
    n++;
  }
  closedir(d);
  if (!s && n == 0)
    s = clgan_error(CLGAN_ERR_FORMAT, "'%s' holds no .jpg, .jpeg or .png image", dir);
  if (!s) {
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    out->photos = calloc((size_t)n, sizeof *out->photos);
    out->names = calloc((size_t)n, sizeof *out->names);
    out->held_out = calloc((size_t)n, sizeof *out->held_out);
    out->train_idx = calloc((size_t)n, sizeof *out->train_idx);
    out->eval_idx = calloc((size_t)n, sizeof *out->eval_idx);
    if (!out->photos || !out->names || !out->held_out || !out->train_idx || !out->eval_idx)
      s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory loading '%s'", dir);
  }
  for (int i = 0; !s && i < n; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    snprintf(out->names[i], sizeof out->names[i], "%s", names[i]);
    s = clgan_image_read(path, &out->photos[i]);
    out->count = i + 1; /* freed by clgan_photoset_free on error */
    if (!s) s = photo_prepare(path, &out->photos[i], max_side);
    int held = n >= 4 && i % 4 == 3;
    out->held_out[i] = held;
    if (held) out->eval_idx[out->n_eval++] = i;
    else out->train_idx[out->n_train++] = i;
  }
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
  if (s) {
    clgan_photoset_free(out);
    return s;
  }
  snprintf(out->source, sizeof out->source, "%s", dir);
  return CLGAN_OK;
}

clgan_status clgan_photoset_crops(const clgan_photoset *ps, int held_out, int s, int align,
                                  int channels, unsigned long long seed, long long step, int n,
                                  float *out) {
  int np = held_out ? ps->n_eval : ps->n_train;
  const int *idx = held_out ? ps->eval_idx : ps->train_idx;
  if (np == 0)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "photo set '%s' has no %s photos", ps->source,
                       held_out ? "held-out" : "training");
  if (s <= 0 || align < 1 || !(channels == 1 || channels == 3) || n < 0 || n >= (1 << 20) ||
      step < 0)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "photo crops: bad arguments (size %d, align %d, "
                       "channels %d, n %d, step %lld)", s, align, channels, n, step);
  for (int j = 0; j < np; j++) {
    const clgan_image *im = &ps->photos[idx[j]];
    if (im->width < s || im->height < s)
      return clgan_error(CLGAN_ERR_INVALID_ARG, "photo '%s' (%dx%d) is smaller than a %dx%d "
                         "crop", ps->names[idx[j]], im->width, im->height, s, s);
  }
  size_t ss = (size_t)s * (size_t)s;
  for (int i = 0; i < n; i++) {
    float u[4];
    clgan_philox_uniform(4, seed + STREAM_CROP,
                         ((unsigned long long)step << 20 | (unsigned long long)i) << 2, 0.0f,
                         1.0f, u);
    int pi = (int)(u[0] * (float)np);
    if (pi >= np) pi = np - 1;
    const clgan_image *im = &ps->photos[idx[pi]];
    int ny = (im->height - s) / align + 1, nx = (im->width - s) / align + 1;
    int y0 = (int)(u[1] * (float)ny), x0 = (int)(u[2] * (float)nx);
    if (y0 >= ny) y0 = ny - 1;
    if (x0 >= nx) x0 = nx - 1;
    y0 *= align;
    x0 *= align;
    int flip = u[3] >= 0.5f;
    float *o = out + (size_t)i * (size_t)channels * ss;
    for (int y = 0; y < s; y++)
      for (int x = 0; x < s; x++) {
        int sx = flip ? x0 + s - 1 - x : x0 + x;
        const uint8_t *p = im->pixels + ((size_t)(y0 + y) * (size_t)im->width + (size_t)sx) * 3;
        float r = p[0] / 127.5f - 1.0f, g = p[1] / 127.5f - 1.0f, b = p[2] / 127.5f - 1.0f;
        size_t q = (size_t)y * (size_t)s + (size_t)x;
        if (channels == 3) {
          o[q] = r;
          o[ss + q] = g;
          o[2 * ss + q] = b;
        } else {
          o[q] = 0.299f * r + 0.587f * g + 0.114f * b;
        }
      }
  }
  return CLGAN_OK;
}
