/* `clgan train`'s option table (see train_args.h). Tests: tests/train/test_train_cli.sh,
 * tests/fuzz/fuzz_cli.c */
#include "train_args.h"

#include <stddef.h>

#include "cli.h"
#include "cli_opts.h"
#include "clgan/model.h"

int train_args_parse(int argc, char **argv, train_args *a) {
  *a = (train_args){.model = CLGAN_DEFAULT_MODEL, .out = "out", .g_loss = "ns", .on_nan = "stop",
                     .epochs = 1, .batch = 64, .seed = 1, .sample_every = 200, .ckpt_every = 500,
                     .keep = 3, .log_every = 10, .lr = 2e-4, .beta1 = 0.5, .beta2 = 0.999,
                     .eval_count = 2000,
                     .balance = "equal", .dist_timeout = 300, .bucket_mb = 1, .check_every = 100,
                     .gp_lambda = 10.0, .drift = 1e-3, .r1 = 0.0, .r1_every = 1};
  const cli_opt opts[] = {
      {"--device", OPT_STRING, &a->device, 0, 0, NULL},
      {"--model", OPT_STRING, &a->model, 0, 0, &a->seen_model},
      {"--data", OPT_STRING, &a->data, 0, 0, NULL},
      {"--epochs", OPT_LONG, &a->epochs, 1, 1000000, &a->seen_epochs},
      {"--iters", OPT_LONG, &a->iters, 1, 1000000000, &a->seen_iters},
      {"--batch", OPT_LONG, &a->batch, 1, 65536, &a->seen_batch},
      {"--lr", OPT_DOUBLE, &a->lr, 1e-12, 10.0, &a->seen_lr},
      {"--lr-g", OPT_DOUBLE, &a->lr_g, 1e-12, 10.0, &a->seen_lr_g},
      {"--lr-d", OPT_DOUBLE, &a->lr_d, 1e-12, 10.0, &a->seen_lr_d},
      {"--ema", OPT_DOUBLE, &a->ema, -1e300, 1e300, &a->seen_ema},
      {"--ema-start", OPT_LONG, &a->ema_start, 0, 1000000000, &a->seen_ema_start},
      {"--beta1", OPT_DOUBLE, &a->beta1, 0.0, 0.999999, &a->seen_beta1},
      {"--beta2", OPT_DOUBLE, &a->beta2, 0.0, 0.999999, &a->seen_beta2},
      {"--g-loss", OPT_STRING, &a->g_loss, 0, 0, &a->seen_loss},
      {"--seed", OPT_LONG, &a->seed, 0, 2147483647, &a->seen_seed},
      {"--out", OPT_STRING, &a->out, 0, 0, NULL},
      {"--resume", OPT_STRING, &a->resume, 0, 0, NULL},
      {"--sample-every", OPT_LONG, &a->sample_every, 1, 1000000000, NULL},
      {"--checkpoint-every", OPT_LONG, &a->ckpt_every, 1, 1000000000, NULL},
      {"--keep", OPT_LONG, &a->keep, 1, 1000, NULL},
      {"--log-every", OPT_LONG, &a->log_every, 1, 1000000000, NULL},
      {"--max-images", OPT_LONG, &a->max_images, 1, 1000000000, NULL},
      {"--on-nan", OPT_STRING, &a->on_nan, 0, 0, NULL},
      {"--eval-every", OPT_LONG, &a->eval_every, 1, 1000000000, NULL},
      {"--eval-count", OPT_LONG, &a->eval_count, 4, 1000000, NULL},
      {"--eval-classifier", OPT_STRING, &a->eval_classifier, 0, 0, NULL},
      {"--eval-real", OPT_STRING, &a->eval_real, 0, 0, NULL},
      {"--distributed", OPT_FLAG, &a->distributed, 0, 0, NULL},
      {"--devices", OPT_STRING, &a->devices, 0, 0, NULL},
      {"--sync-bn", OPT_FLAG, &a->sync_bn, 0, 0, NULL},
      {"--balance", OPT_STRING, &a->balance, 0, 0, NULL},
      {"--dist-timeout", OPT_DOUBLE, &a->dist_timeout, 1.0, 1e6, NULL},
      {"--no-overlap", OPT_FLAG, &a->no_overlap, 0, 0, NULL},
      {"--bucket-mb", OPT_DOUBLE, &a->bucket_mb, 0.001, 4096.0, NULL},
      {"--check-every", OPT_LONG, &a->check_every, 1, 1000000000, NULL},
      {"--diffaug", OPT_STRING, &a->diffaug, 0, 0, NULL},
      {"--gp-lambda", OPT_DOUBLE, &a->gp_lambda, 0.0, 1e30, &a->seen_gp_lambda},
      {"--drift", OPT_DOUBLE, &a->drift, 0.0, 1e30, &a->seen_drift},
      {"--r1", OPT_DOUBLE, &a->r1, 0.0, 1e30, &a->seen_r1},
      {"--r1-every", OPT_LONG, &a->r1_every, 1, 1000000, &a->seen_r1_every},
  };
  int rc = cli_parse_opts("train", argc, argv, opts, (int)(sizeof opts / sizeof *opts));
  if (rc) return rc;
  /* a float decay of 1 would freeze the average at G's initial weights */
  if (!(a->ema >= 0.0 && a->ema < 1.0 && (float)a->ema < 1.0f))
    return cli_usage_error("train", "--ema must be a decay in [0, 1), e.g. 0.999 (an average "
                           "over about 1000 iterations); 0 turns EMA off; got %g", a->ema);
  return 0;
}

void train_args_recipe(train_args *a, const struct clgan_model *m) {
  if (!a->seen_batch && m->train_batch > 0) a->batch = m->train_batch;
  if (!a->seen_lr && m->train_lr > 0) a->lr = m->train_lr;
  if (!a->seen_beta1 && m->train_beta1 >= 0) a->beta1 = m->train_beta1;
  if (!a->seen_beta2 && m->train_beta2 >= 0) a->beta2 = m->train_beta2;
}

double train_args_lr(const train_args *a, int which) {
  if (which == 0 && a->seen_lr_g) return a->lr_g;
  if (which == 1 && a->seen_lr_d) return a->lr_d;
  return a->lr;
}
