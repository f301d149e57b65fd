/* The conditional GAN learns its classes: cdcgan28 trained for ITERS iterations on
 * Fashion-MNIST (Debian's dataset-fashion-mnist, with its labels) must make samples whose
 * class means look like that class's real mean. For each class k, the mean of 64 samples
 * asked for k is correlated (Pearson, over the 784 pixels) with each class's real mean; the
 * class is recognised when its own real mean correlates best. Fashion-MNIST's class means are
 * distinct shapes (trousers, bags, shoes, shirts), but shirt, T-shirt, pullover and coat
 * share a silhouette and correlate with each other above 0.9, so after a short run some of
 * those four swap: the test asks for at least MIN_HITS of 10, a level an unconditional model
 * (the label ignored: one mean for every class, so at most the one or two classes whose real
 * mean is closest to the overall mean) cannot reach, and prints the matrix's diagonal.
 * Exit 77 without a device or without the data. */
#include <math.h>
#include <unistd.h>

#include "clgan/gan.h"
#include "test_util.h"

enum { ITERS = 300, BATCH = 64, PER_CLASS = 64, CLASSES = 10, PIX = 784, MIN_HITS = 7 };

static double corr(const double *a, const double *b, int n) {
  double ma = 0, mb = 0;
  for (int i = 0; i < n; i++) ma += a[i], mb += b[i];
  ma /= n, mb /= n;
  double sab = 0, saa = 0, sbb = 0;
  for (int i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / sqrt(saa * sbb + 1e-30);
}

int main(void) {
  /* CLGAN_TEST_FMNIST: the training images elsewhere (bench/gpu_check.sh carries them) */
  const char *data = getenv("CLGAN_TEST_FMNIST") ? getenv("CLGAN_TEST_FMNIST") : CLGAN_DEFAULT_DATA;
  if (access(data, R_OK)) {
    printf("SKIP: %s not installed (dataset-fashion-mnist)\n", data);
    return TU_SKIP;
  }
  clgan_ctx *ctx = tu_open_device();
  clgan_dataset ds;
  CHECK_OK(clgan_dataset_load(data, 1, 28, 28, 0, &ds));
  if (tu_failures || !ds.labels) return tu_finish("cgan_learns");
  clgan_model m;
  CHECK_OK(clgan_model_load("cdcgan28", &m));
  CHECK_OK(clgan_model_resolve(&m, 1));
  clgan_train_config c;
  clgan_train_config_default(&c);
  c.batch = BATCH;
  c.seed = 11;
  clgan_gan *gan = NULL;
  CHECK_OK(clgan_gan_create(ctx, &m, &c, &gan));
  if (!gan) return tu_finish("cgan_learns");
  CHECK_OK(clgan_gan_init_params(gan));
  float *real = tu_alloc((size_t)BATCH * PIX);
  int idx[BATCH];
  int32_t lab[BATCH];
  clgan_step_metrics sm;
  for (int it = 0; it < ITERS && !tu_failures; it++) {
    for (int i = 0; i < BATCH; i++) {
      /* a fixed walk through the data: stride coprime with 60000 */
      idx[i] = (int)(((long long)(it * BATCH + i) * 7919) % ds.count);
      lab[i] = ds.labels[idx[i]];
    }
    clgan_dataset_batch(&ds, idx, BATCH, real);
    CHECK_OK(clgan_gan_iteration_labels(gan, real, lab, &sm, 0));
  }
  /* per-class means: real (all the data) and generated (PER_CLASS samples each) */
  double real_mean[CLASSES][PIX] = {{0}}, gen_mean[CLASSES][PIX] = {{0}};
  int count[CLASSES] = {0};
  for (int i = 0; i < ds.count; i++) {
    int k = ds.labels[i];
    count[k]++;
    for (int p = 0; p < PIX; p++) real_mean[k][p] += ds.pixels[(size_t)i * PIX + p];
  }
  for (int k = 0; k < CLASSES; k++)
    for (int p = 0; p < PIX; p++) real_mean[k][p] /= count[k] ? count[k] : 1;
  int n = CLASSES * PER_CLASS;
  float *z = tu_alloc((size_t)n * m.nz), *img = tu_alloc((size_t)n * PIX);
  int32_t *gl = malloc(sizeof(int32_t) * (size_t)n);
  clgan_fixed_noise(99, n, m.nz, z);
  for (int i = 0; i < n; i++) gl[i] = i / PER_CLASS;
  CHECK_OK(clgan_generate_labels(gan->g, z, gl, n, CLGAN_BN_EVAL, img));
  for (int i = 0; i < n; i++)
    for (int p = 0; p < PIX; p++) gen_mean[gl[i]][p] += img[(size_t)i * PIX + p] / PER_CLASS;
  int hits = 0;
  printf("class: correlation with its own real mean / best other (%d iterations)\n", ITERS);
  for (int k = 0; k < CLASSES; k++) {
    double own = corr(gen_mean[k], real_mean[k], PIX), best_other = -2;
    int arg = k;
    for (int j = 0; j < CLASSES; j++) {
      double r = corr(gen_mean[k], real_mean[j], PIX);
      if (j != k && r > best_other) best_other = r;
      if (r > corr(gen_mean[k], real_mean[arg], PIX)) arg = j;
    }
    hits += arg == k;
    printf("  %d: %.3f / %.3f%s\n", k, own, best_other, arg == k ? "" : "  (confused)");
  }
  CHECK(hits >= MIN_HITS, "only %d of %d classes recognised in their samples (want >= %d)", hits,
        CLASSES, MIN_HITS);
  printf("recognised: %d of %d\n", hits, CLASSES);
  free(real), free(z), free(img), free(gl);
  clgan_gan_free(gan);
  clgan_model_free(&m);
  clgan_dataset_free(&ds);
  clgan_ctx_free(ctx);
  return tu_finish("cgan_learns");
}
