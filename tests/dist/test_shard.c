/* Shards of a global batch without MPI (clgan_gan_create_shard, src/train/gan.c): the
 * shards' noise and fake labels are the global batch's, cut; and with per-shard losses
 * scaled by the share, D's gradient of the global batch is the sum of the shards' (a model
 * without batch norm, so the shards are independent). Usage: test_shard DIR (tests/dist). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

typedef struct capture {
  const clgan_net_desc *d;
  float *grads;
} capture;

/* the replica's reduction, here only a look at D's gradient before its Adam step */
static clgan_status grab(void *user, clgan_net *net) {
  capture *c = user;
  if (net->desc != c->d) return CLGAN_OK;
  return clgan_buffer_read(net->ctx, net->grads, 0, net->desc->param_count * sizeof(float),
                           c->grads);
}

static void sample_z_of(clgan_gan *g, long long step, float *out) {
  CHECK_OK(clgan_gan_sample_z(g, step));
  clgan_view v = clgan_net_input(g->g);
  tu_download(g->ctx, v.mem, v.off, (size_t)g->batch * g->model->nz, out);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  clgan_ctx *ctx = tu_open_device();
  char path[4096];
  /* noise and fake labels: cdcgan28, global batch 8 as 3 + 5 */
  clgan_model cm;
  CHECK_OK(clgan_model_load("cdcgan28", &cm));
  CHECK_OK(clgan_model_resolve(&cm, 1));
  clgan_train_config cfg;
  clgan_train_config_default(&cfg);
  cfg.batch = 8;
  cfg.seed = 5;
  clgan_gan *full = NULL, *a = NULL, *b = NULL, *bad = NULL;
  CHECK_OK(clgan_gan_create(ctx, &cm, &cfg, &full));
  CHECK_OK(clgan_gan_create_shard(ctx, &cm, &cfg, 3, 0, &a));
  CHECK_OK(clgan_gan_create_shard(ctx, &cm, &cfg, 5, 3, &b));
  CHECK(clgan_gan_create_shard(ctx, &cm, &cfg, 5, 4, &bad) == CLGAN_ERR_INVALID_ARG && !bad,
        "a shard past the global batch is refused");
  size_t nz = (size_t)cm.nz;
  float *zf = tu_alloc(8 * nz), *zs = tu_alloc(8 * nz);
  sample_z_of(full, 4, zf);
  sample_z_of(a, 4, zs);
  sample_z_of(b, 4, zs + 3 * nz);
  CHECK(!memcmp(zf, zs, 8 * nz * sizeof(float)), "the shards' noise is the global batch's");
  int32_t lf[8], ls[8];
  clgan_gan_fake_labels(full, 4, lf);
  clgan_gan_fake_labels(a, 4, ls);
  clgan_gan_fake_labels(b, 4, ls + 3);
  CHECK(!memcmp(lf, ls, sizeof lf), "the shards' fake labels are the global batch's");
  clgan_gan_free(full), clgan_gan_free(a), clgan_gan_free(b);
  full = a = b = NULL;
  clgan_model_free(&cm);

  /* D's gradient: the global batch's = the sum of the shards' (scaled by their shares) */
  clgan_model m;
  snprintf(path, sizeof path, "%s/tiny_nobn.model", argv[1]);
  CHECK_OK(clgan_model_load(path, &m));
  CHECK_OK(clgan_model_resolve(&m, 1));
  size_t img = (size_t)m.image_c * m.image_h * m.image_w, np = m.d.param_count;
  float *real = tu_alloc(8 * img);
  ref_fill_uniform(real, 8 * img, 9);
  capture cf = {&m.d, tu_alloc(np)}, ca = {&m.d, tu_alloc(np)}, cb = {&m.d, tu_alloc(np)};
  clgan_gan *g[3];
  capture *c[3] = {&cf, &ca, &cb};
  int nb[3] = {8, 3, 5}, off[3] = {0, 0, 3};
  for (int k = 0; k < 3; k++) {
    CHECK_OK(clgan_gan_create_shard(ctx, &m, &cfg, nb[k], off[k], &g[k]));
    CHECK_OK(clgan_gan_init_params(g[k]));
    g[k]->replica.user = c[k];
    g[k]->replica.reduce_grads = grab;
    CHECK_OK(clgan_gan_iteration(g[k], real + (size_t)off[k] * img, NULL, 0));
  }
  float *sum = tu_alloc(np);
  for (size_t i = 0; i < np; i++) sum[i] = ca.grads[i] + cb.grads[i];
  /* two partial sums added against one sum: float rounding, 1e-6 + 1e-4 relative */
  CHECK_CLOSE(sum, cf.grads, np, 1e-6, 1e-4, "D's gradient = the sum of the shards'");
  double mag = 0;
  for (size_t i = 0; i < np; i++) mag += cf.grads[i] * (double)cf.grads[i];
  CHECK(mag > 1e-12, "D's gradient is not zero (the comparison means something)");
  for (int k = 0; k < 3; k++) clgan_gan_free(g[k]);
  free(cf.grads), free(ca.grads), free(cb.grads), free(sum), free(real), free(zf), free(zs);
  clgan_model_free(&m);
  clgan_ctx_free(ctx);
  return tu_finish("shard");
}
