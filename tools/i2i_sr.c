/* Super-resolution data and measures for `clgan train --task sr` (tools/cmd_i2i.c):
 * photo crops and their MATLAB-bicubic downscales, Fashion-MNIST x2 pairs, the bicubic
 * baseline and the PSNR/SSIM-Y + gradient-energy lines of measures.txt.
 * Tests: tests/train/test_sr_cli.sh */
#include "i2i_sr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/imgmetrics.h"

/* sr: HR crops of the photos and their LR inputs made by clgan_downscale_bicubic (MATLAB's
 * antialiased bicubic) by the model's scale = image side / cond side. Training crops are
 * drawn per iteration (aligned to the scale); the held-out pairs are eval_count crops of the
 * evaluation photos (whole photos held out), Philox stream seed + 1, step 0. */
clgan_status i2i_sr_lowres(const float *hr, int n, int c, int h, int k, float *lr) {
  clgan_status s = CLGAN_OK;
  for (int i = 0; i < n && !s; i++)
    s = clgan_downscale_bicubic(hr + (size_t)i * c * h * h, c, h, h, k,
                                lr + (size_t)i * c * (h / k) * (h / k));
  return s;
}

/* sr on Fashion-MNIST (--data fashion-mnist or an IDX file): 28x28 images and their x2
 * downscales, the t10k set beside the file held out; a model taking 1x14x14 (srgan2x-fmnist) */
static clgan_status sr_idx_pairs(const char *path, int max, i2i_pairs *p) {
  clgan_dataset ds;
  clgan_status s = clgan_dataset_load(path, 1, 28, 28, max, &ds);
  if (s) return s;
  p->n = ds.count, p->cc = p->c = 1, p->h = p->w = 28, p->scale = 2;
  p->target = malloc(sizeof(float) * (size_t)ds.count * 28 * 28);
  p->cond = malloc(sizeof(float) * (size_t)ds.count * 14 * 14);
  int *idx = malloc(sizeof(int) * (size_t)ds.count);
  if (!p->target || !p->cond || !idx) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  for (int i = 0; !s && i < ds.count; i++) idx[i] = i;
  if (!s) clgan_dataset_batch(&ds, idx, ds.count, p->target);
  if (!s) s = i2i_sr_lowres(p->target, ds.count, 1, 28, 2, p->cond);
  snprintf(p->source, sizeof p->source, "sr x2:%s", ds.source);
  free(idx);
  clgan_dataset_free(&ds);
  return s;
}

clgan_status i2i_sr_load(const char *data, int max_images, int eval_count,
                         unsigned long long seed, clgan_model *m, clgan_photoset *ps,
                         i2i_pairs *train, i2i_pairs *held) {
  if (data && (!strcmp(data, "fashion-mnist") || strstr(data, "idx"))) {
    clgan_status s = clgan_model_resolve(m, 1);
    if (s) return s;
    if (m->image_c != 1 || m->cond_c != 1 || m->image_h != 28 || m->image_w != 28 ||
        m->cond_h != 14 || m->cond_w != 14)
      return clgan_error(CLGAN_ERR_INVALID_ARG, "sr on Fashion-MNIST makes 1x14x14 -> 1x28x28 "
                         "pairs (--model srgan2x-fmnist); model '%s' takes %dx%dx%d from %dx%dx%d",
                         m->name, m->image_c, m->image_h, m->image_w, m->cond_c, m->cond_h, m->cond_w);
    const char *path = strcmp(data, "fashion-mnist") ? data : CLGAN_DEFAULT_DATA;
    if ((s = sr_idx_pairs(path, max_images, train))) return s;
    char test[1024];
    snprintf(test, sizeof test, "%s", path);
    char *t = strstr(test, "train");
    if (t && strlen(t) >= 5) {
      char tmp[1024];
      snprintf(tmp, sizeof tmp, "%.*st10k%s", (int)(t - test), test, t + 5);
      snprintf(test, sizeof test, "%s", tmp);
    }
    s = sr_idx_pairs(test, eval_count, held);
    if (s) clgan_error_prefix("held-out images: ");
    return s;
  }
  clgan_status s = clgan_model_resolve(m, 3);
  if (s) return s;
  int k = m->cond_h > 0 ? m->image_h / m->cond_h : 0;
  if (m->image_c != 3 || m->cond_c != 3 || m->image_h != m->image_w || m->cond_h != m->cond_w ||
      k < 2 || m->cond_h * k != m->image_h)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "sr makes RGB square crops and their x2/x4 "
                       "downscales; model '%s' takes %dx%dx%d images from %dx%dx%d", m->name,
                       m->image_c, m->image_h, m->image_w, m->cond_c, m->cond_h, m->cond_w);
  const char *dir = data && strcmp(data, "default") ? data : NULL;
  if ((s = clgan_photoset_load(dir, 1024, ps))) return s;
  if (!ps->n_eval || !ps->n_train) {
    clgan_photoset_free(ps);
    return clgan_error(CLGAN_ERR_INVALID_ARG, "sr needs 4 or more photos (every 4th is held "
                       "out), '%s' has %d", dir ? dir : CLGAN_DEFAULT_PHOTOS, ps->count);
  }
  int h = m->image_h, n = eval_count, l = h / k;
  held->n = n, held->cc = 3, held->c = 3, held->h = held->w = h, held->scale = k;
  held->cond = malloc(sizeof(float) * (size_t)n * 3 * l * l);
  held->target = malloc(sizeof(float) * (size_t)n * 3 * h * h);
  if (!held->cond || !held->target) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  s = clgan_photoset_crops(ps, 1, h, k, 3, seed + 1, 0, n, held->target);
  if (!s) s = i2i_sr_lowres(held->target, n, 3, h, k, held->cond);
  *train = *held;
  train->cond = train->target = NULL;
  train->n = 1 << 30;
  snprintf(train->source, sizeof train->source, "sr x%d:%s (%d photos, %d held out)", k,
           ps->source, ps->n_train, ps->n_eval);
  snprintf(held->source, sizeof held->source, "%s", ps->source);
  return s;
}

/* sr: the held-out inputs enlarged by bicubic (MATLAB's imresize x k): the baseline, and the
 * first column of the grids (bicubic | SR | original). */
clgan_status i2i_sr_bicubic(const i2i_pairs *he, i2i_pairs *bic) {
  *bic = *he;
  bic->cc = he->c, bic->scale = he->scale;
  int l = he->h / he->scale;
  size_t img = (size_t)he->c * he->h * he->w;
  bic->cond = malloc(sizeof(float) * img * he->n);
  bic->target = he->target; /* not owned */
  if (!bic->cond) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  clgan_status s = CLGAN_OK;
  for (int i = 0; i < he->n && !s; i++)
    s = clgan_upscale_bicubic(he->cond + (size_t)i * he->cc * l * l, he->cc, l, l, he->scale,
                              bic->cond + img * i);
  return s;
}

/* Mean gradient energy (sharpness) of n RGB images. */
double i2i_mean_gradient_energy(const float *imgs, int n, int c, int h, int w) {
  clgan_image a;
  if (clgan_image_alloc(&a, w, h, c)) return NAN;
  double e = 0;
  for (int i = 0; i < n; i++) {
    i2i_planes_to_u8(imgs + (size_t)i * c * h * w, c, h, w, &a);
    e += clgan_gradient_energy(&a) / n;
  }
  clgan_image_free(&a);
  return e;
}

/* sr measures: PSNR/SSIM (Y, border = scale) and gradient energy of one G's outputs. */
clgan_status i2i_sr_measure_line(FILE *f, const char *what, const i2i_pairs *he,
                                 const float *imgs) {
  double l1, psnr, ssim;
  clgan_status s = i2i_measure(he, imgs, he->n, he->scale, &l1, &psnr, &ssim);
  if (s) return s;
  double ge = i2i_mean_gradient_energy(imgs, he->n, he->c, he->h, he->w);
  if (f) fprintf(f, "%s psnr_y %.3f ssim_y %.4f gradient_energy %.1f\n", what, psnr, ssim, ge);
  fprintf(stderr, "  %-10s PSNR-Y %.2f dB  SSIM-Y %.4f  gradient energy %.1f\n", what, psnr, ssim, ge);
  return CLGAN_OK;
}
