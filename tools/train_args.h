/* `clgan train`'s options: the argument struct, its defaults and its option table, shared
 * by tools/cmd_train.c and the command-line fuzzer (tests/fuzz/fuzz_cli.c). */
#ifndef CLGAN_TRAIN_ARGS_H
#define CLGAN_TRAIN_ARGS_H

typedef struct train_args {
  const char *device, *model, *data, *out, *resume, *g_loss, *on_nan;
  const char *eval_classifier, *eval_real; /* --eval-every's feature network and real images */
  long epochs, iters, batch, seed, sample_every, ckpt_every, keep, log_every, max_images;
  long ema_start;
  long eval_every, eval_count;             /* 0 = no FD during training */
  double lr, beta1, beta2, lr_g, lr_d, ema;
  int seen_epochs, seen_iters, seen_batch, seen_lr, seen_beta1, seen_loss, seen_seed, seen_model;
  int seen_lr_g, seen_lr_d, seen_ema, seen_ema_start, seen_beta2;
  const char *diffaug; /* --diffaug POLICY (include/clgan/augment.h); NULL: not given */
  /* --distributed (tools/dist.h): per-rank devices, sync-bn, shares, the wait for other
   * ranks, gradient buckets, the cross-rank checksum period */
  int distributed, sync_bn, no_overlap;
  const char *devices, *balance;
  double dist_timeout, bucket_mb;
  long check_every;
  /* gradient penalties (src/train/penalty.c): WGAN-GP's lambda and drift, R1's gamma and
   * its lazy period */
  double gp_lambda, drift, r1;
  long r1_every;
  int seen_gp_lambda, seen_drift, seen_r1, seen_r1_every;
} train_args;

/* Fills the defaults, then parses argv[1..]: 0, CLI_USAGE after a usage error, or -1 for
 * --help (see cli_parse_opts). On 0, ema is in [0, 1) also as a float. The rates:
 * --lr sets both, --lr-g / --lr-d set one and win over --lr (train_args_lr). */
int train_args_parse(int argc, char **argv, train_args *a);
struct clgan_model;
/* A model file's recipe (its `train` line: batch, lr, beta1, beta2) as the defaults of a
 * fresh run: each setting the command line did not give (--lr counts for both rates; --lr-g
 * and --lr-d each for one) takes the model's value. */
void train_args_recipe(train_args *a, const struct clgan_model *m);
/* The rates the flags ask for: G's (which = 0) or D's (1). */
double train_args_lr(const train_args *a, int which);

#endif
