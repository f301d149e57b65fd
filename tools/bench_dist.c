/* `clgan bench train --distributed`: data-parallel iterations under mpirun, timed with the
 * gradient reductions overlapping the backward and without, the bytes each step moves, and
 * the ring-allreduce prediction for this link (docs/PERFORMANCE.md). Tests:
 * tests/dist/test_dist.sh (part bench) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "dist.h"
#include "perf_util.h"

int bench_train_dist(int argc, char **argv);

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median of n timed iterations (seconds), every rank's slowest counting. */
static clgan_status timed(dist *d, clgan_gan *gan, const float *real, const int32_t *labels,
                          long iters, double *median, double *wait) {
  double *t = calloc((size_t)iters, sizeof *t);
  if (!t) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  clgan_status s = CLGAN_OK;
  dist_reset_stats(d);
  for (long i = 0; i < iters && !s; i++) {
    clgan_step_metrics m;
    int stop = 0;
    double t0 = cli_now();
    dist_heartbeat(d, gan->step + 1);
    s = clgan_gan_iteration_labels(gan, real, labels, &m, 0);
    if (!s) s = dist_end_step(d, gan, &m, &stop);
    t[i] = cli_now() - t0;
  }
  double *all = calloc((size_t)dist_world(d), sizeof *all);
  if (!s && !all) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s) {
    qsort(t, (size_t)iters, sizeof *t, by_value);
    s = dist_allgather(d, t[iters / 2], all);
    *median = 0.0;
    for (int r = 0; !s && r < dist_world(d); r++)
      if (all[r] > *median) *median = all[r];
    *wait = dist_get_stats(d)->wait_s / (double)iters;
  }
  free(all);
  free(t);
  return s;
}

int bench_train_dist(int argc, char **argv) {
  const char *spec = NULL, *devices = NULL, *model = "dcgan28";
  long batch = 64, iters = 10, warmup = 2;
  int distributed = 0, sync_bn = 0;
  double bucket_mb = 1.0, timeout = 300.0;
  const cli_opt opts[] = {
      {"--distributed", OPT_FLAG, &distributed, 0, 0, NULL},
      {"--device", OPT_STRING, &spec, 0, 0, NULL},
      {"--devices", OPT_STRING, &devices, 0, 0, NULL},
      {"--model", OPT_STRING, &model, 0, 0, NULL},
      {"--batch", OPT_LONG, &batch, 2, 65536, NULL},
      {"--iters", OPT_LONG, &iters, 1, 100000, NULL},
      {"--warmup", OPT_LONG, &warmup, 0, 1000, NULL},
      {"--sync-bn", OPT_FLAG, &sync_bn, 0, 0, NULL},
      {"--bucket-mb", OPT_DOUBLE, &bucket_mb, 0.001, 4096.0, NULL},
      {"--dist-timeout", OPT_DOUBLE, &timeout, 1.0, 1e6, NULL},
  };
  int rc = cli_parse_opts("bench train", argc, argv, opts, (int)(sizeof opts / sizeof *opts));
  if (rc < 0) {
    printf("usage: mpirun -np N clgan bench train --distributed [--device D | --devices LIST]\n"
           "         [--model M] [--batch 64] [--iters 10] [--warmup 2] [--sync-bn]\n"
           "         [--bucket-mb 1]\n\n"
           "Times data-parallel training iterations (the global --batch split over the ranks),\n"
           "with the gradient allreduce overlapping the backward and without, and prints the\n"
           "gradient bytes per step and the median iteration time (the slowest rank's).\n");
    return CLI_OK;
  }
  if (rc) return rc;
  if (!dist_built()) return cli_usage_error("bench train", "--distributed: %s", dist_howto());
  dist_opts o = {sync_bn, 1, timeout, bucket_mb};
  dist *d = NULL;
  clgan_status s = dist_init(&o, &d);
  if (s) return cli_report(s);
  clgan_model m;
  clgan_ctx *ctx = NULL;
  clgan_gan *gan = NULL;
  float *real = NULL;
  int32_t *labels = NULL;
  char buf[256];
  const char *dev = NULL;
  int lead = dist_rank(d) == 0, w = dist_world(d), lb = 0, off = 0;
  int *all = calloc((size_t)w, sizeof *all);
  if (perf_model_load(model, &m)) {
    dist_abort(d, CLI_USAGE);
    return CLI_USAGE;
  }
  clgan_train_config cfg;
  clgan_train_config_default(&cfg);
  cfg.batch = (int)batch;
  s = all ? dist_device_spec(d, devices, spec, buf, sizeof buf, &dev)
          : clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s) s = clgan_ctx_create(dev, 0, &ctx);
  if (!s) s = dist_shares(d, cfg.batch, NULL, 2, &lb, &off, all);
  if (!s) s = clgan_gan_create_shard(ctx, &m, &cfg, lb, off, &gan);
  if (!s) s = clgan_gan_init_params(gan);
  size_t n = (size_t)lb * m.image_c * m.image_h * m.image_w;
  if (!s && !(real = malloc(n * sizeof *real))) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s && m.classes && !(labels = calloc((size_t)lb, sizeof *labels)))
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  for (size_t i = 0; !s && i < n; i++) real[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
  for (int i = 0; !s && labels && i < lb; i++) labels[i] = i % m.classes;
  double med[2] = {0, 0}, wait[2] = {0, 0};
  for (int pass = 0; pass < 2 && !s; pass++) {
    /* pass 0: overlapped buckets; pass 1: one reduction after the backward */
    dist *dp = d;
    dist_set_overlap(d, !pass);
    if (!s) s = dist_attach(dp, gan);
    for (long i = 0; i < warmup && !s; i++) {
      clgan_step_metrics mm;
      int stop = 0;
      dist_heartbeat(dp, gan->step + 1);
      s = clgan_gan_iteration_labels(gan, real, labels, &mm, 0);
      if (!s) s = dist_end_step(dp, gan, &mm, &stop);
    }
    if (!s) s = timed(dp, gan, real, labels, iters, &med[pass], &wait[pass]);
  }
  double bytes = (double)(m.g.param_count + m.d.param_count) * sizeof(float), ar = 0.0;
  if (!s) s = dist_time_allreduce(d, m.g.param_count + m.d.param_count, 5, &ar);
  if (!s && lead) {
    printf("model %s, global batch %ld over %d ranks (%d each on rank 0), device '%s'%s\n",
           m.name, batch, w, lb, ctx->info.name, sync_bn ? ", sync-bn" : "");
    printf("gradient bytes per step: %.2f MB (G %.2f + D %.2f); ring allreduce sends %.2f MB "
           "per rank\n", bytes / 1e6, m.g.param_count * 4.0 / 1e6, m.d.param_count * 4.0 / 1e6,
           2.0 * (w - 1) / w * bytes / 1e6);
    for (int p = 0; p < 2; p++)
      printf("%-26s %8.1f ms/iter  %8.0f img/s  (rank 0 waited %.1f ms/iter on gradients)\n",
             p ? "reduce after backward:" : "reduce during backward:", 1e3 * med[p],
             (double)batch / med[p], 1e3 * wait[p]);
    printf("allreduce of the gradients alone (host memory, no device): %.1f ms, %.2f GB/s of "
           "ring traffic per rank\n", 1e3 * ar, ar > 0 ? 2.0 * (w - 1) / w * bytes / ar / 1e9 : 0.0);
    printf("overlap saves %.1f ms/iter (%.1f%%)\n", 1e3 * (med[1] - med[0]),
           100.0 * (med[1] - med[0]) / med[1]);
  }
  rc = s ? cli_report(s) : CLI_OK;
  if (rc && w > 1) dist_abort(d, rc);
  clgan_gan_free(gan);
  clgan_ctx_free(ctx);
  free(real);
  free(labels);
  free(all);
  clgan_model_free(&m);
  dist_finish(d);
  return rc;
}
