/* libFuzzer target: the command-line parser (tools/cli_opts.c with tools/cli_common.c's
 * number parsing) driven with `clgan train`'s option table and its checks after parsing.
 * The input is argv[1..], split at NUL bytes. Usage errors print to stderr (run the fuzzer
 * with -close_fd_mask=2). Replayed on tests/fuzz/corpus/cli and regressions/cli by the host
 * test fuzz_cli. The table is a copy of tools/cmd_train.c's: keep them in step. */
#include <math.h>

#include "cli.h"
#include "cli_opts.h"
#include "clgan/gan.h"
#include "fuzz_util.h"

typedef struct train_args {
  const char *device, *model, *data, *out, *resume, *g_loss, *on_nan;
  long epochs, iters, batch, seed, sample_every, ckpt_every, keep, log_every, max_images;
  double lr, beta1;
  int seen_epochs, seen_iters, seen_batch, seen_lr, seen_beta1, seen_loss, seen_seed, seen_model;
} train_args;

static void train_parse(int argc, char **argv) {
  train_args a = {.model = "dcgan28", .out = "out", .g_loss = "ns", .on_nan = "stop",
                  .epochs = 1, .batch = 64, .seed = 1, .sample_every = 200, .ckpt_every = 500,
                  .keep = 3, .log_every = 10, .lr = 2e-4, .beta1 = 0.5};
  const cli_opt opts[] = {
      {"--device", OPT_STRING, &a.device, 0, 0, NULL},
      {"--model", OPT_STRING, &a.model, 0, 0, &a.seen_model},
      {"--data", OPT_STRING, &a.data, 0, 0, NULL},
      {"--epochs", OPT_LONG, &a.epochs, 1, 1000000, &a.seen_epochs},
      {"--iters", OPT_LONG, &a.iters, 1, 1000000000, &a.seen_iters},
      {"--batch", OPT_LONG, &a.batch, 1, 65536, &a.seen_batch},
      {"--lr", OPT_DOUBLE, &a.lr, 1e-12, 10.0, &a.seen_lr},
      {"--beta1", OPT_DOUBLE, &a.beta1, 0.0, 0.999999, &a.seen_beta1},
      {"--g-loss", OPT_STRING, &a.g_loss, 0, 0, &a.seen_loss},
      {"--seed", OPT_LONG, &a.seed, 0, 2147483647, &a.seen_seed},
      {"--out", OPT_STRING, &a.out, 0, 0, NULL},
      {"--resume", OPT_STRING, &a.resume, 0, 0, NULL},
      {"--sample-every", OPT_LONG, &a.sample_every, 1, 1000000000, NULL},
      {"--checkpoint-every", OPT_LONG, &a.ckpt_every, 1, 1000000000, NULL},
      {"--keep", OPT_LONG, &a.keep, 1, 1000, NULL},
      {"--log-every", OPT_LONG, &a.log_every, 1, 1000000000, NULL},
      {"--max-images", OPT_LONG, &a.max_images, 1, 1000000000, NULL},
      {"--on-nan", OPT_STRING, &a.on_nan, 0, 0, NULL},
  };
  int rc = cli_parse_opts("train", argc, argv, opts, (int)(sizeof opts / sizeof *opts));
  if (rc != 0 && rc != -1 && rc != CLI_USAGE) abort();
  if (rc) return;
  /* what the parser promises: numbers in range, strings non-empty */
  if (a.batch < 1 || a.batch > 65536 || a.keep < 1 || a.keep > 1000 || a.seed < 0 ||
      !(a.lr >= 1e-12 && a.lr <= 10.0) || !(a.beta1 >= 0.0 && a.beta1 <= 0.999999) ||
      !*a.model || !*a.out || !*a.g_loss || !*a.on_nan || (a.data && !*a.data))
    abort();
  clgan_gan_loss loss;
  (void)clgan_gan_loss_parse(a.g_loss, &loss);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  if (n > 4096) return 0;
  /* argv strings point into one NUL-terminated copy, as the kernel lays them out */
  char *buf = malloc(n + 1);
  char *argv[65];
  if (!buf) abort();
  memcpy(buf, d, n);
  buf[n] = '\0';
  int argc = 0;
  argv[argc++] = "train";
  for (size_t i = 0; i < n && argc < 64;) {
    argv[argc++] = buf + i;
    i += strlen(buf + i) + 1;
  }
  argv[argc] = NULL;
  train_parse(argc, argv);
  free(buf);
  return 0;
}
