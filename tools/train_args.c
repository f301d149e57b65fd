/* `clgan train`'s option table (see train_args.h). Tests: tests/train/test_train_cli.sh,
 * tests/fuzz/fuzz_cli.c */
#include "train_args.h"

#include <stddef.h>

#include "cli_opts.h"

int train_args_parse(int argc, char **argv, train_args *a) {
  *a = (train_args){.model = "dcgan28", .out = "out", .g_loss = "ns", .on_nan = "stop",
                     .epochs = 1, .batch = 64, .seed = 1, .sample_every = 200, .ckpt_every = 500,
                     .keep = 3, .log_every = 10, .lr = 2e-4, .beta1 = 0.5, .eval_count = 2000};
  const cli_opt opts[] = {
      {"--device", OPT_STRING, &a->device, 0, 0, NULL},
      {"--model", OPT_STRING, &a->model, 0, 0, &a->seen_model},
      {"--data", OPT_STRING, &a->data, 0, 0, NULL},
      {"--epochs", OPT_LONG, &a->epochs, 1, 1000000, &a->seen_epochs},
      {"--iters", OPT_LONG, &a->iters, 1, 1000000000, &a->seen_iters},
      {"--batch", OPT_LONG, &a->batch, 1, 65536, &a->seen_batch},
      {"--lr", OPT_DOUBLE, &a->lr, 1e-12, 10.0, &a->seen_lr},
      {"--beta1", OPT_DOUBLE, &a->beta1, 0.0, 0.999999, &a->seen_beta1},
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
  };
  return cli_parse_opts("train", argc, argv, opts, (int)(sizeof opts / sizeof *opts));
}
