/* `clgan train`'s options: the argument struct, its defaults and its option table, shared
 * by tools/cmd_train.c and the command-line fuzzer (tests/fuzz/fuzz_cli.c). */
#ifndef CLGAN_TRAIN_ARGS_H
#define CLGAN_TRAIN_ARGS_H

typedef struct train_args {
  const char *device, *model, *data, *out, *resume, *g_loss, *on_nan;
  const char *eval_classifier, *eval_real; /* --eval-every's feature network and real images */
  long epochs, iters, batch, seed, sample_every, ckpt_every, keep, log_every, max_images;
  long eval_every, eval_count;             /* 0 = no FD during training */
  double lr, beta1;
  int seen_epochs, seen_iters, seen_batch, seen_lr, seen_beta1, seen_loss, seen_seed, seen_model;
} train_args;

/* Fills the defaults, then parses argv[1..]: 0, CLI_USAGE after a usage error, or -1 for
 * --help (see cli_parse_opts). */
int train_args_parse(int argc, char **argv, train_args *a);

#endif
