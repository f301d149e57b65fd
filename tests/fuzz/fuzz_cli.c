/* libFuzzer target: the command-line parser (tools/cli_opts.c with tools/cli_common.c's
 * number parsing) driven with `clgan train`'s option table and its checks after parsing.
 * The input is argv[1..], split at NUL bytes. Usage errors print to stderr (run the fuzzer
 * with -close_fd_mask=2). Replayed on tests/fuzz/corpus/cli and regressions/cli by the host
 * test fuzz_cli. The table is
 * tools/train_args.c, the one cmd_train.c uses. */
#include <math.h>

#include "cli.h"
#include "cli_opts.h"
#include "train_args.h"
#include "clgan/gan.h"
#include "fuzz_util.h"


static void train_parse(int argc, char **argv) {
  train_args a;
  int rc = train_args_parse(argc, argv, &a);
  if (rc != 0 && rc != -1 && rc != CLI_USAGE) abort();
  if (rc) return;
  /* what the parser promises: numbers in range, strings non-empty */
  if (a.batch < 1 || a.batch > 65536 || a.keep < 1 || a.keep > 1000 || a.seed < 0 ||
      !(a.lr >= 1e-12 && a.lr <= 10.0) || !(a.beta1 >= 0.0 && a.beta1 <= 0.999999) ||
      !(a.beta2 >= 0.0 && a.beta2 <= 0.999999) ||
      !(train_args_lr(&a, 0) >= 1e-12 && train_args_lr(&a, 0) <= 10.0) ||
      !(train_args_lr(&a, 1) >= 1e-12 && train_args_lr(&a, 1) <= 10.0) ||
      !(a.ema >= 0.0 && (float)a.ema < 1.0f) || a.ema_start < 0 ||
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
