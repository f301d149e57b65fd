/* Paired data for image-to-image training (clgan train --task / --data with a model that
 * takes 'cond'): edges2fashion pairs made on the fly from Fashion-MNIST, and folders of
 * side-by-side A|B PNGs (pix2pix's format). Tests: tests/train/test_pix2pix_cli.sh */
#include "i2i_data.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clgan/imgmetrics.h"

void i2i_pairs_free(i2i_pairs *p) {
  free(p->cond);
  free(p->target);
  memset(p, 0, sizeof *p);
}

static clgan_status pairs_alloc(i2i_pairs *p, int n, int cc, int c, int h, int w) {
  p->n = n, p->cc = cc, p->c = c, p->h = h, p->w = w;
  p->cond = malloc(sizeof(float) * (size_t)n * cc * h * w + 1);
  p->target = malloc(sizeof(float) * (size_t)n * c * h * w + 1);
  if (!p->cond || !p->target) {
    i2i_pairs_free(p);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory for %d image pairs", n);
  }
  return CLGAN_OK;
}

/* The edge rule: the 28x28 garment centred on a 32x32 black canvas (2 pixels each side),
 * intensities g in [0, 1]; Sobel gx, gy (3x3, the canvas's outside counted as black);
 * a pixel is an edge where sqrt(gx^2 + gy^2) > 0.5 (1/8 of a full black-to-white step).
 * The input shows edges black on white, as pix2pix's edges2shoes; the target is the
 * garment on the 32x32 canvas. Both in [-1, 1]. */
static void edges_of(const uint8_t *px28, float *cond, float *target) {
  float g[32 * 32] = {0};
  for (int y = 0; y < 28; y++)
    for (int x = 0; x < 28; x++) g[(y + 2) * 32 + x + 2] = px28[y * 28 + x] / 255.0f;
  for (int i = 0; i < 32 * 32; i++) target[i] = 2.0f * g[i] - 1.0f;
#define G(yy, xx) ((yy) < 0 || (yy) > 31 || (xx) < 0 || (xx) > 31 ? 0.0f : g[(yy) * 32 + (xx)])
  for (int y = 0; y < 32; y++)
    for (int x = 0; x < 32; x++) {
      float gx = G(y - 1, x + 1) + 2 * G(y, x + 1) + G(y + 1, x + 1) - G(y - 1, x - 1) -
                 2 * G(y, x - 1) - G(y + 1, x - 1);
      float gy = G(y + 1, x - 1) + 2 * G(y + 1, x) + G(y + 1, x + 1) - G(y - 1, x - 1) -
                 2 * G(y - 1, x) - G(y - 1, x + 1);
      cond[y * 32 + x] = sqrtf(gx * gx + gy * gy) > 0.5f ? -1.0f : 1.0f;
    }
#undef G
}

clgan_status i2i_edges2fashion(const char *idx_path, int max, i2i_pairs *out) {
  memset(out, 0, sizeof *out);
  clgan_dataset ds;
  clgan_status s = clgan_dataset_load(idx_path, 1, 28, 28, max, &ds);
  if (s) return s;
  if (ds.channels != 1 || ds.height != 28 || ds.width != 28) {
    clgan_dataset_free(&ds);
    return clgan_error(CLGAN_ERR_INVALID_ARG, "edges2fashion needs 28x28 grey images");
  }
  s = pairs_alloc(out, ds.count, 1, 1, 32, 32);
  for (int i = 0; i < ds.count && !s; i++)
    edges_of(ds.pixels + (size_t)i * 784, out->cond + (size_t)i * 1024, out->target + (size_t)i * 1024);
  snprintf(out->source, sizeof out->source, "edges2fashion:%s", ds.source);
  clgan_dataset_free(&ds);
  return s;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_png(const char *n) {
  size_t l = strlen(n);
  return n[0] != '.' && l > 4 && !strcasecmp(n + l - 4, ".png");
}

static int is_image(const char *n) {
  size_t l = strlen(n);
  return is_png(n) || (n[0] != '.' && ((l > 4 && !strcasecmp(n + l - 4, ".jpg")) ||
                                       (l > 5 && !strcasecmp(n + l - 5, ".jpeg"))));
}

static clgan_status list_files(const char *dir, int (*want)(const char *), char ***names,
                               int *count);

/* The *.png names of a folder, sorted (strcmp). */
static clgan_status list_pngs(const char *dir, char ***names, int *count) {
  return list_files(dir, is_png, names, count);
}

clgan_status i2i_list_images(const char *dir, char ***names, int *count) {
  return list_files(dir, is_image, names, count);
}

static clgan_status list_files(const char *dir, int (*want)(const char *), char ***names,
                               int *count) {
  *names = NULL, *count = 0;
  DIR *d = opendir(dir);
  if (!d) return clgan_error(CLGAN_ERR_IO, "cannot open the folder '%s'", dir);
  struct dirent *e;
  int cap = 0;
  clgan_status s = CLGAN_OK;
  while ((e = readdir(d)) && !s) {
    if (!want(e->d_name)) continue;
    if (*count == cap) {
      cap = cap ? 2 * cap : 64;
      char **g = realloc(*names, sizeof *g * (size_t)cap);
      if (!g) { s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory"); break; }
      *names = g;
    }
    if (!((*names)[*count] = strdup(e->d_name))) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    else (*count)++;
  }
  closedir(d);
  if (!s && *count) qsort(*names, (size_t)*count, sizeof **names, cmp_str);
  return s;
}

/* 8-bit interleaved (h, w, ch) -> planes (c, h, w) in [-1, 1] of columns x0..x0+w-1, grey
 * repeated to RGB when c = 3. */
static void to_planes(const uint8_t *px, int stride_w, int ch, int x0, int h, int w, int c,
                      float *out) {
  for (int k = 0; k < c; k++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        int src = ch >= 3 ? k : 0; /* alpha (ch 2 or 4) ignored */
        out[((size_t)k * h + y) * w + x] = px[((size_t)y * stride_w + x0 + x) * ch + src] / 127.5f - 1.0f;
      }
}

clgan_status i2i_pairs_folder(const char *dir, int c, int cc, int h, int w, int max,
                              i2i_pairs *out) {
  memset(out, 0, sizeof *out);
  char **names;
  int n;
  clgan_status s = list_pngs(dir, &names, &n);
  if (!s && n == 0)
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "'%s' has no *.png pairs (side-by-side A|B images, "
                    "A the input, B the target, each %dx%d)", dir, w, h);
  if (!s && max > 0 && n > max) n = max;
  if (!s) s = pairs_alloc(out, n, cc, c, h, w);
  for (int i = 0; i < n && !s; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    uint8_t *px = NULL;
    int pw, ph, pc;
    s = clgan_png_read(path, &px, &pw, &ph, &pc);
    if (!s && (pw != 2 * w || ph != h))
      s = clgan_error(CLGAN_ERR_FORMAT, "%s: a pair must be %dx%d (A|B, each %dx%d), this one "
                      "is %dx%d", path, 2 * w, h, w, h, pw, ph);
    int colour = pc >= 3;
    if (!s && (c == 3 || cc == 3) && !colour) {
      /* a grey file: fine for grey sides only; a grey B where the model makes colour is not */
      if (c == 3)
        s = clgan_error(CLGAN_ERR_FORMAT, "%s: a grey image, but the model's target (B) is "
                        "colour (3 channels)", path);
    }
    if (!s && c == 1 && colour)
      s = clgan_error(CLGAN_ERR_FORMAT, "%s: a colour image, but the model's images are grey "
                      "(image 1 H W)", path);
    if (!s) {
      to_planes(px, pw, pc, 0, h, w, cc, out->cond + (size_t)i * cc * h * w);
      to_planes(px, pw, pc, w, h, w, c, out->target + (size_t)i * c * h * w);
    }
    free(px);
  }
  for (int i = 0; names && i < n; i++) free(names[i]);
  free(names);
  if (s) i2i_pairs_free(out);
  else snprintf(out->source, sizeof out->source, "%s", dir);
  return s;
}

/* The channels of the first pair in a folder (3 if it is colour), or 0. */
int i2i_folder_channels(const char *dir) {
  char **names;
  int n, ch = 0;
  if (list_pngs(dir, &names, &n) || n == 0) return 0;
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, names[0]);
  uint8_t *px = NULL;
  int w, h, c;
  if (!clgan_png_read(path, &px, &w, &h, &c)) ch = c >= 3 ? 3 : 1;
  free(px);
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
  return ch;
}

int i2i_is_dir(const char *path) {
  struct stat st;
  return path && !stat(path, &st) && S_ISDIR(st.st_mode);
}

clgan_status i2i_photoset_colour(clgan_photoset *ps) {
  for (int i = 0; i < ps->count; i++) {
    const clgan_image *im = &ps->photos[i];
    size_t n = (size_t)im->width * (size_t)im->height, p = 0;
    const uint8_t *q = im->pixels;
    if (im->channels == 3)
      for (; p < n && q[3 * p] == q[3 * p + 1] && q[3 * p] == q[3 * p + 2]; p++) {}
    if (im->channels == 1 || p == n) {
      clgan_status s = clgan_error(CLGAN_ERR_FORMAT, "%s/%s: a grey image, but colorize needs "
                                   "colour photos (it learns their colours from their grey)",
                                   ps->source[0] ? ps->source : CLGAN_DEFAULT_PHOTOS, ps->names[i]);
      clgan_photoset_free(ps);
      return s;
    }
  }
  return CLGAN_OK;
}

/* G's [-1, 1] planes (c, h, w) to 8-bit pixels (rounded, clamped) in im (allocated w x h x c). */
void i2i_planes_to_u8(const float *pl, int c, int h, int w, clgan_image *im) {
  im->width = w, im->height = h, im->channels = c;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int k = 0; k < c; k++) {
        float v = floorf((pl[((size_t)k * h + y) * w + x] + 1.0f) * 127.5f + 0.5f);
        im->pixels[((size_t)y * w + x) * c + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
      }
}

/* Mean L1 (on [-1, 1] values), PSNR and SSIM (on 8-bit luma, no border) over n pairs. */
clgan_status i2i_measure(const i2i_pairs *p, const float *gen, int n, int border,
                         double *l1, double *psnr, double *ssim) {
  size_t img = (size_t)p->c * p->h * p->w;
  clgan_image a, b;
  clgan_status s = clgan_image_alloc(&a, p->w, p->h, p->c);
  if (!s) s = clgan_image_alloc(&b, p->w, p->h, p->c);
  if (s) return s;
  *l1 = *psnr = *ssim = 0.0;
  for (int i = 0; i < n && !s; i++) {
    double d = 0.0, ps, ss;
    for (size_t j = 0; j < img; j++) d += fabs((double)gen[i * img + j] - p->target[i * img + j]);
    *l1 += d / (double)img / n;
    i2i_planes_to_u8(gen + i * img, p->c, p->h, p->w, &a);
    i2i_planes_to_u8(p->target + i * img, p->c, p->h, p->w, &b);
    s = clgan_psnr_y(&a, &b, border, &ps);
    if (!s) s = clgan_ssim_y(&a, &b, border, &ss);
    /* identical images give an infinite PSNR: count them at 100 dB */
    *psnr += (isfinite(ps) ? ps : 100.0) / n;
    *ssim += ss / n;
  }
  clgan_image_free(&a);
  clgan_image_free(&b);
  return s;
}
