/* The metrics on real images through the shipped Fashion-MNIST classifier's features
 * (device): the proofs of docs/EVAL.md that need a classifier.
 *   - real train vs real test (5000 each): FD near 0 (below a tenth of the FD that a
 *     Gaussian blur of sigma 1 gives), precision and recall >= 0.8, all 10 classes covered;
 *   - FD rises strictly with the blur's sigma (0.5, 1, 1.5, 2, 3) and with the standard
 *     deviation of added Gaussian noise (0.05, 0.1, 0.2, 0.4, 0.8 on the [-1, 1] scale);
 *   - a "generator" collapsed to one class (5000 other training images, all Trousers): precision
 *     stays high (>= 0.7), recall falls (<= 0.25 and below a third of real-vs-real's),
 *     the class histogram shows it (at most 2 classes covered, largest share >= 0.8).
 * Prints the numbers (the tables of docs/EVAL.md). Skips (77) without an OpenCL device or
 * without the shipped classifier file, naming it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clgan/classifier.h"
#include "clgan/metrics.h"
#include "test_util.h"

#define N 5000
#define TRAIN "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
#define TEST "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

static clgan_classifier *cls;

/* features (n, feat_dim) and argmax classes of n images */
static float *features(const float *img, int n, int32_t *pred) {
  float *f = malloc(sizeof(float) * (size_t)n * cls->feat_dim);
  float *lg = malloc(sizeof(float) * (size_t)n * cls->classes);
  CHECK_OK(clgan_classifier_features(cls, img, n, lg, f));
  for (int i = 0; pred && i < n; i++) {
    int a = 0;
    for (int k = 1; k < cls->classes; k++)
      if (lg[(size_t)i * cls->classes + k] > lg[(size_t)i * cls->classes + a]) a = k;
    pred[i] = a;
  }
  free(lg);
  return f;
}

static float *as_floats(const clgan_dataset *ds) {
  float *x = malloc(sizeof(float) * (size_t)ds->count * 784);
  int *idx = malloc(sizeof(int) * (size_t)ds->count);
  for (int i = 0; i < ds->count; i++) idx[i] = i;
  clgan_dataset_batch(ds, idx, ds->count, x);
  free(idx);
  return x;
}

/* separable Gaussian blur of 28x28 images, radius ceil(3 sigma), edges clamped */
static void blur(const float *in, int n, double sigma, float *out) {
  int r = (int)ceil(3 * sigma);
  double w[32], sum = 0;
  for (int t = -r; t <= r; t++) sum += w[t + r] = exp(-t * t / (2 * sigma * sigma));
  for (int t = 0; t <= 2 * r; t++) w[t] /= sum;
  float tmp[784];
  for (int i = 0; i < n; i++) {
    const float *a = in + (size_t)i * 784;
    float *b = out + (size_t)i * 784;
    for (int y = 0; y < 28; y++)
      for (int x = 0; x < 28; x++) {
        double s = 0;
        for (int t = -r; t <= r; t++) {
          int xx = x + t < 0 ? 0 : x + t > 27 ? 27 : x + t;
          s += w[t + r] * a[y * 28 + xx];
        }
        tmp[y * 28 + x] = (float)s;
      }
    for (int y = 0; y < 28; y++)
      for (int x = 0; x < 28; x++) {
        double s = 0;
        for (int t = -r; t <= r; t++) {
          int yy = y + t < 0 ? 0 : y + t > 27 ? 27 : y + t;
          s += w[t + r] * tmp[yy * 28 + x];
        }
        b[y * 28 + x] = (float)s;
      }
  }
}

int main(void) {
  const char *path = clgan_classifier_default_path();
  struct stat st;
  if (stat(path, &st) != 0) {
    printf("SKIP: the shipped classifier '%s' is missing\n", path);
    return TU_SKIP;
  }
  if (stat(TEST, &st) != 0) {
    printf("SKIP: %s missing (Debian's dataset-fashion-mnist)\n", TEST);
    return TU_SKIP;
  }
  clgan_ctx *ctx = tu_open_device();
  CHECK_OK(clgan_classifier_load(ctx, path, 256, &cls));
  if (!cls) return tu_finish("eval_images");
  CHECK(cls->image_c == 1 && cls->image_h == 28 && cls->image_w == 28, "a 28x28 grey classifier");
  clgan_dataset tr, te;
  CHECK_OK(clgan_dataset_load(TRAIN, 1, 28, 28, N, &tr));
  CHECK_OK(clgan_dataset_load(TEST, 1, 28, 28, N, &te));
  int d = cls->feat_dim;
  float *xtr = as_floats(&tr), *xte = as_floats(&te), *tmp = malloc(sizeof(float) * N * 784);
  int32_t *ptr = malloc(sizeof(int32_t) * N), *pte = malloc(sizeof(int32_t) * N);
  float *ftr = features(xtr, N, ptr), *fte = features(xte, N, pte);

  double fd0 = 0, kid0 = 0, kid0s = 0, p0 = 0, r0 = 0;
  CHECK_OK(clgan_fd_features(ftr, N, fte, N, d, &fd0));
  CHECK_OK(clgan_kid(ftr, N, fte, N, d, 1000, 20, 1, &kid0, &kid0s));
  CHECK_OK(clgan_precision_recall(ftr, N, fte, N, d, CLGAN_PR_K, &p0, &r0));
  clgan_class_hist h0;
  CHECK_OK(clgan_class_histogram(pte, N, cls->classes, &h0));
  printf("train vs test (%d each, %d features): FD %.4f, KID %.5f +- %.5f, precision %.4f, "
         "recall %.4f, test classes covered %d, largest share %.3f\n",
         N, d, fd0, kid0, kid0s, p0, r0, h0.covered, h0.largest_share);
  CHECK(p0 >= 0.8 && r0 >= 0.8, "train vs test: precision %g recall %g", p0, r0);
  CHECK(h0.covered == 10, "all classes covered in the test set: %d", h0.covered);

  /* blur: FD against the training images rises with sigma */
  const double sig[] = {0.5, 1, 1.5, 2, 3};
  double prev = fd0, fd_sigma1 = 0;
  printf("blur sigma  FD        KID\n%-10s  %-8.4f  %.5f\n", "0", fd0, kid0);
  for (int s = 0; s < 5; s++) {
    blur(xte, N, sig[s], tmp);
    float *f = features(tmp, N, NULL);
    double fd = 0, kid = 0, ks = 0;
    CHECK_OK(clgan_fd_features(ftr, N, f, N, d, &fd));
    CHECK_OK(clgan_kid(ftr, N, f, N, d, 1000, 20, 1, &kid, &ks));
    printf("%-10g  %-8.4f  %.5f +- %.5f\n", sig[s], fd, kid, ks);
    CHECK(fd > prev, "FD rises with blur: sigma %g gives %g after %g", sig[s], fd, prev);
    if (sig[s] == 1) fd_sigma1 = fd;
    prev = fd;
    free(f);
  }
  CHECK(fd0 <= 0.1 * fd_sigma1, "train vs test FD %g is near 0: below a tenth of blur 1's %g",
        fd0, fd_sigma1);

  /* noise: the same with Gaussian noise, clamped to [-1, 1] */
  const double nstd[] = {0.05, 0.1, 0.2, 0.4, 0.8};
  float *noise = malloc(sizeof(float) * N * 784);
  prev = fd0;
  printf("noise std   FD        KID\n");
  for (int s = 0; s < 5; s++) {
    clgan_philox_normal((size_t)N * 784, 77, 0, 0, (float)nstd[s], noise);
    for (size_t i = 0; i < (size_t)N * 784; i++) {
      float v = xte[i] + noise[i];
      tmp[i] = v < -1 ? -1 : v > 1 ? 1 : v;
    }
    float *f = features(tmp, N, NULL);
    double fd = 0, kid = 0, ks = 0;
    CHECK_OK(clgan_fd_features(ftr, N, f, N, d, &fd));
    CHECK_OK(clgan_kid(ftr, N, f, N, d, 1000, 20, 1, &kid, &ks));
    printf("%-10g  %-8.4f  %.5f +- %.5f\n", nstd[s], fd, kid, ks);
    CHECK(fd > prev, "FD rises with noise: std %g gives %g after %g", nstd[s], fd, prev);
    prev = fd;
    free(f);
  }
  free(noise);

  /* a generator collapsed to one class: N training images of class 1 (Trouser) only,
   * none of them among the N the sets are compared with */
  clgan_dataset all;
  CHECK_OK(clgan_dataset_load(TRAIN, 1, 28, 28, 0, &all));
  int nc = 0, *ci = malloc(sizeof(int) * N);
  for (int i = N; i < all.count && nc < N; i++)
    if (all.labels[i] == 1) ci[nc++] = i;
  clgan_dataset_batch(&all, ci, nc, tmp);
  clgan_dataset_free(&all);
  free(ci);
  int32_t *pc = malloc(sizeof(int32_t) * (size_t)nc);
  float *fc = features(tmp, nc, pc);
  double pcol = 0, rcol = 0, fdc = 0;
  CHECK_OK(clgan_precision_recall(ftr, N, fc, nc, d, CLGAN_PR_K, &pcol, &rcol));
  CHECK_OK(clgan_fd_features(ftr, N, fc, nc, d, &fdc));
  clgan_class_hist hc;
  CHECK_OK(clgan_class_histogram(pc, nc, cls->classes, &hc));
  printf("collapsed to '%s' (%d images): FD %.4f, precision %.4f, recall %.4f, classes covered "
         "%d, largest share %.3f ('%s')\n",
         cls->class_names[1], nc, fdc, pcol, rcol, hc.covered, hc.largest_share,
         cls->class_names[hc.largest]);
  CHECK(pcol >= 0.7, "collapsed: precision stays high: %g", pcol);
  CHECK(rcol <= 0.25 && rcol < r0 / 3, "collapsed: recall falls: %g (real vs real %g)", rcol, r0);
  CHECK(hc.covered <= 2 && hc.largest_share >= 0.8 && hc.largest == 1,
        "collapsed: histogram covered %d, largest %d share %g", hc.covered, hc.largest,
        hc.largest_share);

  clgan_class_hist_free(&h0);
  clgan_class_hist_free(&hc);
  free(xtr), free(xte), free(tmp), free(ptr), free(pte), free(ftr), free(fte), free(pc), free(fc);
  clgan_dataset_free(&tr);
  clgan_dataset_free(&te);
  clgan_classifier_free(cls);
  clgan_ctx_free(ctx);
  return tu_finish("eval_images");
}
