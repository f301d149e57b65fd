/* The trainer from C: loads a model and data, trains a GAN for a few iterations on the
 * default OpenCL device and writes a grid of generated images, all through libclgan's
 * public API (<clgan/clgan.h>). Build it against an installed libclgan:
 *
 *   cc -std=c11 samples/train_grid.c $(pkg-config --cflags --libs clgan) -o train_grid
 *   ./train_grid [MODEL [DATA [ITERS [OUT.png]]]]
 *
 * MODEL: dcgan28 (default), dcgan64 or a model file; DATA: an IDX file or a folder of PNGs
 * (default Fashion-MNIST, Debian's dataset-fashion-mnist); ITERS: 20; OUT: grid.png.
 * Every call returns a clgan_status; clgan_last_error() says what failed. The test
 * sample_program (tests/core/test_install.sh) builds and runs it. */
#include <clgan/clgan.h>

#include <stdio.h>
#include <stdlib.h>

#define BATCH 16
#define SAMPLES 16

static int failed(const char *what) {
  fprintf(stderr, "train_grid: %s: %s\n", what, clgan_last_error());
  return 1;
}

int main(int argc, char **argv) {
  const char *model_name = argc > 1 ? argv[1] : "dcgan28";
  const char *data = argc > 2 ? argv[2] : NULL;
  int iters = argc > 3 ? atoi(argv[3]) : 20;
  const char *out = argc > 4 ? argv[4] : "grid.png";
  int rc = 1;
  clgan_model model;
  clgan_dataset ds = {0};
  clgan_ctx *ctx = NULL;
  clgan_gan *gan = NULL;
  float *batch = NULL, *z = NULL, *images = NULL;

  /* the model, with grey images when it leaves the channels to the data */
  if (clgan_model_load(model_name, &model)) return failed("model");
  if (clgan_model_resolve(&model, model.image_c ? model.image_c : 1)) {
    failed("model");
    goto done;
  }
  int size = model.image_c * model.image_h * model.image_w;
  /* the data, converted to the model's image shape; only what the iterations use */
  if (clgan_dataset_load(data, model.image_c, model.image_h, model.image_w, BATCH * iters, &ds)) {
    failed("data");
    goto done;
  }
  /* the default device ($CLGAN_DEVICE, else the first GPU, else a CPU) */
  if (clgan_ctx_create(NULL, 0, &ctx)) {
    failed("device");
    goto done;
  }
  printf("%s on '%s', %d images\n", model.name, ctx->info.name, ds.count);

  clgan_train_config cfg;
  clgan_train_config_default(&cfg); /* Adam 2e-4, beta1 0.5, the non-saturating loss */
  cfg.batch = BATCH;
  if (clgan_gan_create(ctx, &model, &cfg, &gan) || clgan_gan_init_params(gan)) {
    failed("trainer");
    goto done;
  }
  batch = malloc(sizeof *batch * (size_t)BATCH * size);
  z = malloc(sizeof *z * (size_t)SAMPLES * model.nz);
  images = malloc(sizeof *images * (size_t)SAMPLES * size);
  if (!batch || !z || !images) {
    fprintf(stderr, "train_grid: out of memory\n");
    goto done;
  }

  /* each iteration: a D step on a real batch and G(z), then a G step through frozen D */
  for (int it = 0; it < iters; it++) {
    int idx[BATCH];
    for (int i = 0; i < BATCH; i++) idx[i] = (it * BATCH + i) % ds.count;
    clgan_dataset_batch(&ds, idx, BATCH, batch);
    clgan_step_metrics m;
    if (clgan_gan_iteration(gan, batch, &m, 0)) {
      failed("iteration");
      goto done;
    }
    printf("iteration %lld: loss_D %.4f loss_G %.4f D(x) %.3f D(G(z)) %.3f\n", gan->step,
           m.loss_d, m.loss_g, m.d_real, m.d_fake);
  }

  /* G on fixed noise, batch norm with its running statistics, as a 4x4 grid */
  clgan_fixed_noise(cfg.seed, SAMPLES, model.nz, z);
  if (clgan_generate(gan->g, z, SAMPLES, CLGAN_BN_EVAL, images) ||
      clgan_png_write_grid(out, images, SAMPLES, model.image_c, model.image_h, model.image_w, 4, 2)) {
    failed("samples");
    goto done;
  }
  printf("wrote %s\n", out);
  rc = 0;
done:
  free(batch);
  free(z);
  free(images);
  clgan_gan_free(gan);
  clgan_ctx_free(ctx);
  clgan_dataset_free(&ds);
  clgan_model_free(&model);
  return rc;
}
