/* `clgan train`: the GAN training loop with progress, samples, metrics, plot and
 * checkpoints. Tests: tests/train/test_train_cli.sh */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "clgan/augment.h"
#include "clgan/gemm.h"
#include "clgan/penalty.h"
#include "cli.h"
#include "cli_opts.h"
#include "train_args.h"
#include "progress.h"
#include "train_out.h"
#include "eval_util.h"
#include "train_resume.h"
#include "dist.h"

/* --distributed: this process's rank in the job (NULL: one process) */
static dist *g_dist;

static volatile sig_atomic_t stop_requested = 0;
/* The first Ctrl-C / SIGTERM asks the loop to stop after the current iteration and save a
 * checkpoint; a second one ends the process at once with the default action (the files
 * already written stay intact: every write is atomic). */
static void on_signal(int sig) {
  if (stop_requested) {
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  stop_requested = 1;
  static const char msg[] = "\nclgan: stopping after this iteration to save a checkpoint "
                            "(signal again to quit at once without it)\n";
  ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)w;
}

static void help(void) {
  printf(
      "usage: clgan train [--device D] [--model dcgan28-sn|dcgan28|dcgan64|FILE] [--data PATH]\n"
      "                   [--epochs N | --iters N] [--batch N] [--lr X] [--beta1 X]\n"
      "                   [--beta2 X] [--lr-g X] [--lr-d X] [--ema DECAY] [--ema-start N]\n"
      "                   [--diffaug color,translation,cutout]\n"
      "                   [--g-loss ns|minimax|lsgan|hinge|wgan-gp] [--seed S] [--out DIR]\n"
      "                   [--resume CKPT] [--sample-every N] [--checkpoint-every N]\n"
      "                   [--keep K] [--log-every N] [--max-images N] [--on-nan stop|skip]\n"
      "                   [--eval-every N [--eval-count M] [--eval-classifier C]\n"
      "                    [--eval-real D]]\n"
      "       mpirun -np N clgan train --distributed [--devices D0,D1,...] [--sync-bn]\n"
      "                   [--balance equal|auto|B0,B1,...] [--dist-timeout S] [--no-overlap]\n"
      "                   [--bucket-mb X] [--check-every N] ...\n\n"
      "Trains a GAN: each iteration is a D step with G frozen, then a G step through a\n"
      "frozen D (Adam, for both).\n"
      "  --model M            preset (dcgan28-sn, the default: dcgan28 with sn on D, batch\n"
      "                       16, lr 6e-4, beta2 0.99; dcgan28, the earlier default; dcgan64;\n"
      "                       cdcgan28 and cdcgan28-proj, conditional) or a model file, whose\n"
      "                       'train' line (docs/MODELS.md) sets the defaults below; an\n"
      "                       image-to-image model (pix2pix32, pix2pix64) or --task has its\n"
      "                       own options: clgan train --model pix2pix32 --help\n"
      "  --data PATH          IDX image file (gzipped or not) or a folder of PNGs; default\n"
      "                       Fashion-MNIST from Debian's dataset-fashion-mnist. Images of\n"
      "                       another size are resized to the model's; grey/RGB converted.\n"
      "                       A conditional model needs labels: an IDX file with its\n"
      "                       *-labels-idx1-ubyte file, or a folder of class subfolders\n"
      "                       (one per class, holding its PNGs; names sorted = classes)\n"
      "  --epochs N           passes over the data (default 1); or --iters N, counted from\n"
      "                       the start of training (a resumed run trains the rest)\n"
      "  --batch N            batch size (default 64, or the model's: dcgan28-sn 16)\n"
      "  --lr X, --beta1 X    Adam settings for both networks (default 2e-4, 0.5, or the\n"
      "                       model's: dcgan28-sn 6e-4)\n"
      "  --beta2 X            Adam's second-moment decay for both networks (default 0.999,\n"
      "                       or the model's: dcgan28-sn 0.99)\n"
      "  --lr-g X, --lr-d X   one network's rate (TTUR, e.g. --lr-g 1e-4 --lr-d 4e-4); each\n"
      "                       wins over --lr for its network\n"
      "  --ema DECAY          keep an exponential moving average of G's weights (e.g. 0.999;\n"
      "                       0 = off, the default): it draws the sample grids, is saved as\n"
      "                       generator_ema.* and is what `clgan generate` uses\n"
      "  --ema-start N        the average starts after N iterations (default 0); until then\n"
      "                       it is a copy of G's weights\n"
      "  --diffaug POLICY     DiffAugment of D's inputs, real and fake alike (differentiable,\n"
      "                       G learns through it): any of color,translation,cutout\n"
      "                       (comma-separated); default off (none)\n"
      "  --g-loss L           ns (non-saturating, default), minimax, lsgan, hinge or\n"
      "                       wgan-gp; a model file's `loss` line changes the default\n"
      "  --gp-lambda X        wgan-gp: the gradient penalty's weight (default 10)\n"
      "  --drift X            wgan-gp: the drift eps * D(x)^2's weight (default 1e-3)\n"
      "  --r1 GAMMA           R1 penalty GAMMA/2 * |grad D(x)|^2 on the real batch (any loss\n"
      "                       but wgan-gp; default 0: off); D needs no batch norm\n"
      "  --r1-every K         lazy R1: every K iterations, weighted by K (default 1)\n"
      "  --seed S             weights, noise and data order all follow it (default 1)\n"
      "  --out DIR            output folder (default out): real.png, samples/, metrics.csv,\n"
      "                       plot.png, checkpoints/, latest.safetensors\n"
      "  --resume CKPT        continue a run from a checkpoint, exactly\n"
      "  --sample-every N     fixed-noise grid every N iterations (default 200); for a\n"
      "                       conditional model one row of 8 per class, labelled\n"
      "  --checkpoint-every N checkpoint every N iterations (default 500); the end of a\n"
      "                       run and Ctrl-C always write one\n"
      "  --keep K             checkpoints kept (default 3)\n"
      "  --log-every N        metrics row (with gradient norms) every N iterations (default 10)\n"
      "  --max-images N       use only the first N images of the data\n"
      "  --on-nan stop|skip   when a loss or gradient is NaN/Inf: stop, keeping the last good\n"
      "                       checkpoint (default), or roll the iteration back and go on\n"
      "  --eval-every N       every N iterations (and at the end) the FD of M generated\n"
      "                       images (--eval-count, default 2000, the same noise each time)\n"
      "                       against M real ones (--eval-real, default the Fashion-MNIST\n"
      "                       test set) on the classifier's features (--eval-classifier,\n"
      "                       default the shipped one): column fd of metrics.csv, a panel\n"
      "                       of plot.png; the time it took is reported at the end\n"
      "                       (docs/EVAL.md)\n"
      "  --distributed        data-parallel over MPI ranks (docs/TRAINING.md): each rank\n"
      "                       takes a shard of every global batch (--batch is global);\n"
      "                       rank 0 writes the outputs, each rank logs to OUT/rank-R.log\n"
      "  --devices LIST       rank R opens item R (e.g. 0,1,cpu); default: --device for\n"
      "                       every rank, else the local rank's device\n"
      "  --sync-bn            batch norms use the whole global batch's statistics (default:\n"
      "                       each rank's own, as PyTorch DDP)\n"
      "  --balance B          equal shares (default); auto: shares in proportion to each\n"
      "                       rank's speed, measured in a short warm-up; or one batch size\n"
      "                       per rank, summing to --batch (e.g. 40,24)\n"
      "  --dist-timeout S     a rank that waits S seconds for another (dead, hung) ends the\n"
      "                       job naming it (default 300; 900 at least until the first\n"
      "                       iteration is done: kernels build then)\n"
      "  --no-overlap         reduce gradients after the backward, not during it\n"
      "  --bucket-mb X        gradient allreduce bucket size (default 1)\n"
      "  --check-every N      compare a checksum of the weights across ranks every N\n"
      "                       iterations (default 100; also at the start and the end)\n");
}


static void progress(int tty, long long step, long long total, long long epoch, long long epochs,
                     double ips, double eta, const clgan_step_metrics *m) {
  if (tty) { /* fitted to the terminal's width (tools/progress.c) */
    progress_values v = {step, total, epoch + 1, epochs, ips, eta,
                         m->loss_d, m->loss_g, m->d_real, m->d_fake};
    progress_draw(&v);
  } else {
    fprintf(stderr, "epoch %lld/%lld iter %lld/%lld %.0f img/s ETA %.0fs loss_D %.4f loss_G %.4f "
            "D(x) %.4f D(G(z)) %.4f\n", epoch + 1, epochs, step, total, ips, eta, m->loss_d,
            m->loss_g, m->d_real, m->d_fake);
  }
}

/* The first subfolder (by name, no dot folders) of a PNG folder without PNG files of its
 * own: its first class folder. 0 if none. */
static int first_class_folder(const char *dir, char *out, size_t cap) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  struct dirent *e;
  char best[1024] = "", path[2200];
  struct stat sb;
  while ((e = readdir(d))) {
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (e->d_name[0] != '.' && (!*best || strcmp(e->d_name, best) < 0) && !stat(path, &sb) &&
        S_ISDIR(sb.st_mode))
      snprintf(best, sizeof best, "%s", e->d_name);
  }
  closedir(d);
  if (!*best) return 0;
  snprintf(out, cap, "%s/%s", dir, best);
  return 1;
}

/* Grey for IDX files; for a PNG folder, RGB if its first image has colour. */
static int data_channels(const char *dir) {
  DIR *d = dir && *dir ? opendir(dir) : NULL;
  if (!d) return 1; /* not a folder: an IDX file, grey */
  struct dirent *e;
  char best[1024] = "";
  while ((e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (n > 4 && !strcasecmp(e->d_name + n - 4, ".png") && (!*best || strcmp(e->d_name, best) < 0))
      snprintf(best, sizeof best, "%s", e->d_name);
  }
  closedir(d);
  char sub[2200];
  if (!*best && first_class_folder(dir, sub, sizeof sub)) return data_channels(sub);
  if (!*best) return 1;
  char path[2200];
  snprintf(path, sizeof path, "%s/%s", dir, best);
  uint8_t *px;
  int w, h, c;
  if (clgan_png_read(path, &px, &w, &h, &c) != CLGAN_OK) {
    clgan_error_clear();
    return 1;
  }
  free(px);
  return c >= 3 ? 3 : 1;
}

/* Conditional models: the fixed samples' labels (one row of 8 per class, at most
 * COND_ROWS_MAX rows) and the rows' class names. */
#define COND_ROWS_MAX 64
typedef struct cond_samples {
  int32_t *labels;                       /* (nfixed) or NULL: an unconditional model */
  int rows;
  char (*names)[CLGAN_CLASS_NAME_MAX];   /* (rows) */
  const char **row_names;                /* (rows) pointers into names */
} cond_samples;

static void cond_samples_free(cond_samples *c) {
  free(c->labels);
  free(c->names);
  free(c->row_names);
}

/* Class names for the checkpoint: one per line, the data's name for each of the model's
 * classes (its number where the data has none); as many as fit. */
static void class_names_from_data(const clgan_dataset *ds, int classes, char *out, size_t cap) {
  size_t len = 0;
  out[0] = '\0';
  for (int k = 0; k < classes; k++) {
    char nb[CLGAN_CLASS_NAME_MAX];
    clgan_dataset_class_name(ds, k, nb, sizeof nb);
    size_t n = strlen(nb);
    if (len + n + (k ? 1 : 0) >= cap) break;
    if (k) out[len++] = '\n';
    memcpy(out + len, nb, n + 1);
    len += n;
  }
}

/* Row k's label: line k of the checkpoint's class names, or k. */
static clgan_status cond_samples_init(cond_samples *c, int classes, const char *names,
                                      int *nfixed) {
  memset(c, 0, sizeof *c);
  c->rows = classes < COND_ROWS_MAX ? classes : COND_ROWS_MAX;
  *nfixed = 8 * c->rows;
  c->labels = malloc(sizeof *c->labels * (size_t)*nfixed);
  c->names = calloc((size_t)c->rows, sizeof *c->names);
  c->row_names = calloc((size_t)c->rows, sizeof *c->row_names);
  if (!c->labels || !c->names || !c->row_names)
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  for (int i = 0; i < *nfixed; i++) c->labels[i] = i / 8;
  const char *p = names;
  for (int k = 0; k < c->rows; k++) {
    const char *e = p ? strchr(p, '\n') : NULL;
    size_t n = p ? (e ? (size_t)(e - p) : strlen(p)) : 0;
    if (n >= CLGAN_CLASS_NAME_MAX) n = CLGAN_CLASS_NAME_MAX - 1;
    if (n) {
      memcpy(c->names[k], p, n);
      c->names[k][n] = '\0';
    } else {
      snprintf(c->names[k], sizeof c->names[k], "%d", k);
    }
    c->row_names[k] = c->names[k];
    p = p && e ? e + 1 : NULL;
  }
  return CLGAN_OK;
}

static clgan_status write_samples(const char *dir, const char *name, clgan_gan *gan,
                                  const float *fixed_z, int nfixed, float *diversity,
                                  const cond_samples *cond) {
  const clgan_model *m = gan->model;
  int size = m->image_c * m->image_h * m->image_w;
  float *img = malloc(sizeof(float) * (size_t)nfixed * size);
  if (!img) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  /* with EMA the grids show the averaged weights (with G's running statistics) */
  clgan_gan_use_ema(gan, 1);
  clgan_status s = cond->labels
                       ? clgan_generate_labels(gan->g, fixed_z, cond->labels, nfixed,
                                               CLGAN_BN_EVAL, img)
                       : clgan_generate(gan->g, fixed_z, nfixed, CLGAN_BN_EVAL, img);
  clgan_gan_use_ema(gan, 0);
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (!s && cond->labels)
    s = clgan_png_write_grid_labeled(path, img, nfixed, m->image_c, m->image_h, m->image_w, 8,
                                     2, cond->row_names, cond->rows);
  else if (!s)
    s = clgan_png_write_grid(path, img, nfixed, m->image_c, m->image_h, m->image_w, 8, 2);
  if (!s && diversity) s = clgan_diversity(gan->ctx, img, nfixed, size, diversity);
  free(img);
  return s;
}

/* Shares of the global batch from --balance: 0 equal, 1 one batch size per rank in w, or
 * CLI_USAGE after printing why not. */
static int balance_weights(const train_args *a, int world, double *w) {
  if (!strcmp(a->balance, "equal") || !strcmp(a->balance, "auto")) return 0;
  const char *p = a->balance;
  long sum = 0;
  for (int r = 0; r < world; r++) {
    char *e;
    long v = strtol(p, &e, 10);
    if (e == p || v < 1 || (r < world - 1 ? *e != ',' : *e != '\0'))
      return cli_usage_error("train", "--balance must be 'equal' or %d batch sizes (one per "
                             "rank, comma-separated, summing to --batch %ld), got '%s'", world,
                             a->batch, a->balance);
    w[r] = (double)v;
    sum += v;
    p = e + 1;
  }
  if (sum != a->batch)
    return cli_usage_error("train", "--balance %s sums to %ld, not the global --batch %ld",
                           a->balance, sum, a->batch);
  return 1;
}

static int train_main(int argc, char **argv);

/* --balance auto: this rank's speed in images per second, from a short timed warm-up of a
 * throwaway trainer at an equal share (1 untimed iteration, which builds the kernels, then
 * 3 timed; no reductions, so each rank measures its own device alone). */
static clgan_status warmup_speed(clgan_ctx *ctx, const clgan_model *m, const clgan_train_config *cfg,
                                 int lb, int off, const clgan_dataset *ds, float *buf,
                                 int32_t *labels, double *speed) {
  clgan_gan *g = NULL;
  clgan_status s = clgan_gan_create_shard(ctx, m, cfg, lb, off, &g);
  if (!s) s = clgan_gan_init_params(g);
  int *idx = malloc(sizeof *idx * (size_t)lb);
  if (!s && !idx) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  for (int i = 0; !s && i < lb; i++) idx[i] = i;
  if (!s) clgan_dataset_batch(ds, idx, lb, buf);
  for (int i = 0; !s && labels && i < lb; i++) labels[i] = ds->labels[i];
  double t0 = 0.0;
  clgan_step_metrics mm;
  for (int i = 0; i < 4 && !s; i++) {
    if (i == 1) t0 = cli_now();
    s = labels ? clgan_gan_iteration_labels(g, buf, labels, &mm, 0)
               : clgan_gan_iteration(g, buf, &mm, 0);
  }
  if (!s) *speed = 3.0 * lb / (cli_now() - t0);
  if (s) clgan_error_prefix("--balance auto's warm-up: ");
  free(idx);
  clgan_gan_free(g);
  return s;
}

/* --distributed wraps the run in MPI: a failure on one rank ends the whole job at once
 * (MPI_Abort), so no rank waits for it. */
int cmd_train(int argc, char **argv) {
  if (progan_wanted(argc, argv)) return cmd_train_progan(argc, argv); /* tools/cmd_progan.c */
  if (t2i_wanted(argc, argv)) return cmd_train_t2i(argc, argv); /* tools/cmd_t2i.c */
  if (i2i_wanted(argc, argv)) return cmd_train_i2i(argc, argv);
  train_args a;
  int rc = train_args_parse(argc, argv, &a);
  if (rc || !a.distributed) {
    if (!rc && (a.devices || a.sync_bn || a.no_overlap || strcmp(a.balance, "equal")))
      return cli_usage_error("train", "--devices, --sync-bn, --balance and --no-overlap go "
                             "with --distributed");
    return train_main(argc, argv);
  }
  if (!dist_built()) return cli_usage_error("train", "--distributed: %s", dist_howto());
  if (!strcmp(a.on_nan, "skip"))
    return cli_usage_error("train", "--on-nan skip does not work with --distributed (the "
                           "ranks would have to agree on every skip): use --on-nan stop");
  dist_opts o = {a.sync_bn, !a.no_overlap, a.dist_timeout, a.bucket_mb};
  clgan_status s = dist_init(&o, &g_dist);
  if (s) return cli_report(s);
  rc = train_main(argc, argv);
  if (rc && rc != CLI_INTERRUPTED && dist_world(g_dist) > 1) dist_abort(g_dist, rc);
  dist_finish(g_dist);
  g_dist = NULL;
  return rc;
}

static int train_main(int argc, char **argv) {
  train_args a;
  int rc = train_args_parse(argc, argv, &a);
  dist *dd = g_dist;
  int lead = !dd || dist_rank(dd) == 0; /* writes the outputs */
  if (rc < 0) {
    help();
    return CLI_OK;
  }
  if (rc) return rc;
  if (a.seen_epochs && a.seen_iters)
    return cli_usage_error("train", "--epochs and --iters conflict: give one");
  clgan_gan_loss loss;
  if (clgan_gan_loss_parse(a.g_loss, &loss) || loss == CLGAN_GLOSS_RAGAN)
    return cli_usage_error("train", "--g-loss must be ns, minimax, lsgan, hinge or wgan-gp, got '%s'%s",
                           a.g_loss, loss == CLGAN_GLOSS_RAGAN ? " (ragan is for image-to-image "
                           "models: --task)" : "");
  if (strcmp(a.on_nan, "stop") && strcmp(a.on_nan, "skip"))
    return cli_usage_error("train", "--on-nan must be stop or skip, got '%s'", a.on_nan);
  int skip_nan = !strcmp(a.on_nan, "skip");
  if (a.seen_ema_start && !a.seen_ema && !a.resume)
    return cli_usage_error("train", "--ema-start needs --ema DECAY (EMA is off by default)");
  unsigned diffaug = 0;
  if (a.diffaug && clgan_diffaug_parse(a.diffaug, &diffaug))
    return cli_usage_error("train", "--diffaug must be none or a comma-separated list of "
                           "color, translation, cutout (e.g. color,translation,cutout), got '%s'",
                           a.diffaug);
  if (!a.eval_every && (a.eval_classifier || a.eval_real))
    return cli_usage_error("train", "--eval-classifier and --eval-real go with --eval-every N");

  /* Everything that can be refused is refused before any output is touched. */
  clgan_status s;
  clgan_model model;
  clgan_st_file ckpt;
  int have_ckpt = 0;
  clgan_train_config cfg;
  clgan_train_config_default(&cfg);
  long long start_step = 0;
  clgan_train_state state = {0};
  if (a.resume) {
    if ((s = clgan_checkpoint_open(a.resume, &ckpt, &model))) return cli_report(s);
    have_ckpt = 1;
    if ((s = clgan_checkpoint_config(&ckpt, &cfg, &start_step, &state))) {
      clgan_error_prefix("checkpoint '%s': ", a.resume);
      goto fail_early;
    }
    /* flags equal to the checkpoint's settings are accepted, others refused */
    if ((rc = train_resume_check(&a, &cfg, &model))) {
      clgan_safetensors_free(&ckpt);
      clgan_model_free(&model);
      return rc;
    }
  } else {
    if ((s = clgan_model_load(a.model, &model))) return cli_report(s);
    train_args_recipe(&a, &model); /* the model file's `train` line: defaults, flags win */
    cfg.batch = (int)a.batch;
    cfg.lr_g = (float)train_args_lr(&a, 0);
    cfg.lr_d = (float)train_args_lr(&a, 1);
    cfg.ema_decay = (float)a.ema;
    cfg.ema_start = a.ema_start;
    cfg.beta1 = (float)a.beta1;
    cfg.beta2 = (float)a.beta2;
    cfg.loss = loss;
    cfg.seed = (unsigned long long)a.seed;
    cfg.diffaug = diffaug;
    /* a model file's `loss` line is its default loss; --g-loss still wins */
    if (!a.seen_loss && model.loss >= 0) cfg.loss = (clgan_gan_loss)model.loss;
    cfg.gp_lambda = (float)a.gp_lambda;
    cfg.drift_eps = (float)a.drift;
    cfg.r1_gamma = (float)a.r1;
    cfg.r1_every = (int)a.r1_every;
  }
  int channels = model.image_c;
  if (have_ckpt) {
    const char *ic = clgan_safetensors_meta(&ckpt, "image_channels");
    channels = ic ? atoi(ic) : 0;
  }
  if (channels == 0) channels = data_channels(a.data);
  if ((s = clgan_model_resolve(&model, channels))) goto fail_early;
  if ((s = clgan_gan_penalty_check(&model, &cfg))) goto fail_early; /* e.g. batch norm in D */
  const char *eval_cpath = NULL;
  if (a.eval_every && (s = eval_classifier_path(a.eval_classifier, &eval_cpath))) goto fail_early;

  clgan_dataset ds;
  char ckpt_data[sizeof state.data];
  snprintf(ckpt_data, sizeof ckpt_data, "%s", state.data);
  const char *data_path = a.data ? a.data : (have_ckpt && ckpt_data[0] ? ckpt_data : NULL);
  s = clgan_dataset_load(data_path, model.image_c, model.image_h, model.image_w,
                         (int)a.max_images, &ds);
  if (s) goto fail_early;
  if (ds.count < cfg.batch) {
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "the data has %d images, fewer than one batch of %d",
                    ds.count, cfg.batch);
    clgan_dataset_free(&ds);
    goto fail_early;
  }
  /* a conditional model needs the data's labels, within its classes */
  if (model.classes > 0 && !ds.labels) {
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s' is conditional (%d classes) but the data "
                    "'%s' has no labels; use an IDX file with its -labels-idx1-ubyte file, or "
                    "a PNG folder with one subfolder per class (and no PNG files of its own)",
                    model.name, model.classes, data_path ? data_path : CLGAN_DEFAULT_DATA);
    clgan_dataset_free(&ds);
    goto fail_early;
  }
  if (model.classes > 0 && ds.classes > model.classes) {
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "the data '%s' has %d classes but model '%s' has "
                    "only %d", data_path ? data_path : CLGAN_DEFAULT_DATA, ds.classes,
                    model.name, model.classes);
    clgan_dataset_free(&ds);
    goto fail_early;
  }
  if ((s = out_prepare(a.out))) {
    clgan_dataset_free(&ds);
    goto fail_early;
  }
  clgan_ctx *ctx = NULL;
  const char *dev_spec = a.device;
  char dev_buf[256];
  if (dd && !(s = dist_open_log(dd, a.out)))
    s = dist_device_spec(dd, a.devices, a.device, dev_buf, sizeof dev_buf, &dev_spec);
  if (s || (s = clgan_ctx_create(dev_spec, 0, &ctx))) {
    clgan_dataset_free(&ds);
    goto fail_early;
  }

  long long ipe = ds.count / cfg.batch;
  long long total = a.seen_iters ? a.iters : a.epochs * ipe;
  long long epochs_total = (total + ipe - 1) / ipe;
  int tty = isatty(2);
  snprintf(state.data, sizeof state.data, "%s", data_path ? data_path : CLGAN_DEFAULT_DATA);
  const clgan_gemm_plan *plan = clgan_gemm_get_plan(ctx);
  if (dd)
    dist_log(dd, "device '%s' (%s), model %s, global batch %d", ctx->info.name,
             ctx->info.platform_name, model.name, cfg.batch);
  if (lead)
  fprintf(stderr, "clgan train: %s on '%s' (%s), data %s as %dx%dx%d, batch %d, "
          "g-loss %s, %lld iterations; GEMM plan: %s\n", model.name, ctx->info.name,
          ctx->info.platform_name, ds.source, model.image_c, model.image_h, model.image_w,
          cfg.batch, clgan_gan_loss_name(cfg.loss), total, plan ? plan->origin : "?");
  if (cfg.lr_g != cfg.lr_d)
    fprintf(stderr, "clgan train: learning rates %g (G), %g (D)\n", cfg.lr_g, cfg.lr_d);
  if (cfg.diffaug) {
    char pol[64];
    clgan_diffaug_name(cfg.diffaug, pol, sizeof pol);
    fprintf(stderr, "clgan train: DiffAugment %s on D's inputs\n", pol);
  }
  if (cfg.ema_decay > 0.0f)
    fprintf(stderr, "clgan train: EMA of G's weights, decay %g, averaging after iteration "
            "%lld; the samples show it\n", cfg.ema_decay, cfg.ema_start);

  clgan_gan *gan = NULL;
  int nfixed = 64;
  /* conditional: one row of 8 fixed samples per class; the class names go into the
   * checkpoints (a resumed run keeps the checkpoint's) */
  cond_samples cond = {0};
  int32_t *blabels = NULL;
  if (model.classes > 0) {
    if (!state.class_names[0])
      class_names_from_data(&ds, model.classes, state.class_names, sizeof state.class_names);
    s = cond_samples_init(&cond, model.classes, state.class_names, &nfixed);
    if (!s && !(blabels = malloc(sizeof *blabels * (size_t)cfg.batch)))
      s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  size_t img = (size_t)model.image_c * model.image_h * model.image_w;
  float *fixed_z = malloc(sizeof(float) * (size_t)nfixed * model.nz);
  float *batch = malloc(sizeof(float) * (size_t)cfg.batch * img);
  int *perm = malloc(sizeof(int) * (size_t)ds.count);
  metrics_history hist = {0};
  eval_monitor em = {0};
  char ckpt_path[4200] = "";
  if (!fixed_z || !batch || !perm) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    goto done;
  }
  if (s) goto done; /* the conditional set-up above */
  if (dd) { /* this rank's shard of every global batch */
    int w = dist_world(dd), lb = 0, off = 0, *all = calloc((size_t)w, sizeof *all);
    double *wt = calloc((size_t)w, sizeof *wt);
    int given = all && wt ? balance_weights(&a, w, wt) : 0;
    if (!all || !wt) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    else if (given == CLI_USAGE)
      s = clgan_error(CLGAN_ERR_INVALID_ARG, "--balance %s: see above", a.balance);
    if (!s && !strcmp(a.balance, "auto")) { /* shares in proportion to measured speed */
      if (!(s = dist_shares(dd, cfg.batch, NULL, 2, &lb, &off, all)))
        s = warmup_speed(ctx, &model, &cfg, lb, off, &ds, batch, blabels, &wt[0]);
      double mine = s ? 0.0 : wt[0];
      if (!s) s = dist_allgather(dd, mine, wt);
      if (!s) given = 1;
      for (int r = 0; !s && lead && r < w; r++)
        fprintf(stderr, "%s%.0f", r ? "/" : "clgan train: --balance auto measured img/s: ", wt[r]);
      if (!s && lead) fputc('\n', stderr);
      if (!s) dist_log(dd, "--balance auto: this rank measured %.1f img/s", mine);
    }
    if (!s) s = dist_shares(dd, cfg.batch, given == 1 ? wt : NULL, 2, &lb, &off, all);
    if (!s) s = clgan_gan_create_shard(ctx, &model, &cfg, lb, off, &gan);
    if (!s) s = dist_attach(dd, gan);
    if (!s) {
      dist_log(dd, "shard: samples %d..%d of each global batch of %d%s", off, off + lb - 1,
               cfg.batch, a.sync_bn ? ", sync-bn" : "");
      if (lead)
        fprintf(stderr, "clgan train: distributed over %d ranks, shares %d", w, all[0]);
      for (int r = 1; lead && r < w; r++) fprintf(stderr, "/%d", all[r]);
      if (lead) fprintf(stderr, "%s, logs %s/rank-R.log\n", a.sync_bn ? ", sync-bn" : "", a.out);
    }
    free(all);
    free(wt);
    if (s) goto done;
  } else if ((s = clgan_gan_create(ctx, &model, &cfg, &gan))) goto done;
  if (a.eval_every) {
    const char *real = a.eval_real ? a.eval_real : CLGAN_EVAL_DEFAULT_REAL;
    if ((s = eval_monitor_init(&em, ctx, eval_cpath, real, (int)a.eval_count, &model, cfg.seed)))
      goto done;
    fprintf(stderr, "FD every %ld iterations: %d generated vs %d images of %s on '%s' (set-up "
            "%.1f s)\n", a.eval_every, em.count, em.count, real, eval_cpath, em.setup_seconds);
  }
  if (have_ckpt) {
    if ((s = clgan_checkpoint_restore(&ckpt, gan))) {
      clgan_error_prefix("checkpoint '%s': ", a.resume);
      goto done;
    }
    if (lead && (s = out_history_load(a.out, start_step, &hist))) goto done;
    if (lead) fprintf(stderr, "resumed from '%s' at iteration %lld\n", a.resume, start_step);
  } else {
    if ((s = clgan_gan_init_params(gan))) goto done;
  }
  /* the same start on every rank */
  if (dd && (s = dist_check_same(dd, gan, gan->step, 1))) goto done;
  /* a fresh run replaces an old metrics.csv with its first row, so a run that fails before
   * then (a kernel build, say) leaves the old log alone */
  int fresh_log = !have_ckpt;
  clgan_fixed_noise(cfg.seed, nfixed, model.nz, fixed_z);
  {
    /* a grid of real images, to compare the samples with */
    int idx[64];
    int nreal = ds.count < 64 ? ds.count : 64;
    for (int i = 0; i < nreal; i++) idx[i] = i;
    float *real = malloc(sizeof(float) * (size_t)nreal * img);
    char path[4200];
    snprintf(path, sizeof path, "%s/real.png", a.out);
    if (!real) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    if (!s && lead) {
      clgan_dataset_batch(&ds, idx, nreal, real);
      s = clgan_png_write_grid(path, real, nreal, model.image_c, model.image_h, model.image_w, 8, 2);
    }
    free(real);
    if (s) goto done;
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  /* Fault injection for the tests: CLGAN_FAULT_NAN_AT=k poisons D's parameters with NaN
   * just before iteration k, so the non-finite handling runs on the real code path. */
  const char *fault = getenv("CLGAN_FAULT_NAN_AT");
  long long fault_nan_at = fault ? atoll(fault) : -1;
  /* and CLGAN_FAULT_DIVERGE_AT=k (--distributed) changes one of D's weights on the last
   * rank just before iteration k, so the cross-rank checksum has a real divergence to catch */
  const char *fault_div = getenv("CLGAN_FAULT_DIVERGE_AT");
  long long fault_div_at = fault_div && dd && dist_rank(dd) == dist_world(dd) - 1 ? atoll(fault_div) : -1;
  long long cur_epoch = -1;
  int skipped_in_row = 0;
  double t0 = cli_now(), t_last = t0;
  long long step_last = gan->step;
  double ips = 0.0;
  clgan_step_metrics m = {0};
  while (gan->step < total && !stop_requested) {
    long long e = gan->step / ipe, p = gan->step % ipe;
    if (e != cur_epoch) {
      cli_epoch_order(perm, ds.count, cfg.seed, e);
      cur_epoch = e;
    }
    /* the global batch is perm[p * batch ...]; a rank takes its shard of it (the whole of
     * it on one device), so the sampler is a function of (seed, step, rank, shares) */
    const int *take = perm + p * cfg.batch + gan->shard_off;
    clgan_dataset_batch(&ds, take, gan->batch, batch);
    for (int i = 0; blabels && i < gan->batch; i++) blabels[i] = ds.labels[take[i]];
    if (dd) dist_heartbeat(dd, gan->step + 1);
    int log_now = (gan->step + 1) % a.log_every == 0 || gan->step + 1 == total;
    if (skip_nan && (s = clgan_gan_snapshot(gan))) break;
    if (fault_div_at == gan->step + 1 &&
        (s = clgan_fill(ctx, 1, 0.25f, CLGAN_VIEW(gan->d->params, 0))))
      break;
    if (fault_nan_at == gan->step + 1 &&
        (s = clgan_fill(ctx, model.d.param_count, NAN, CLGAN_VIEW(gan->d->params, 0))))
      break;
    /* skipping needs finite gradients checked every iteration, before they reach the
     * parameters of the next one */
    s = blabels ? clgan_gan_iteration_labels(gan, batch, blabels, &m, log_now || skip_nan)
                : clgan_gan_iteration(gan, batch, &m, log_now || skip_nan);
    if (!s && dd) { /* the global batch's metrics; a stop request reaches every rank */
      int stop = stop_requested != 0;
      s = dist_end_step(dd, gan, &m, &stop);
      if (stop) stop_requested = 1;
      if (!s && gan->step % a.check_every == 0)
        s = dist_check_same(dd, gan, gan->step, a.sync_bn);
      if (!s && log_now)
        dist_log(dd, "iteration %lld loss_D %.6f loss_G %.6f; waited %.3f s on gradients, "
                 "%.3f s in sync-bn so far", gan->step, m.loss_d, m.loss_g,
                 dist_get_stats(dd)->wait_s, dist_get_stats(dd)->sync_bn_s);
    }
    if (s == CLGAN_ERR_NUMERIC && skip_nan && ++skipped_in_row >= 10) {
      clgan_error_prefix("10 iterations in a row were not finite, the last: ");
      break;
    }
    if (s == CLGAN_ERR_NUMERIC && skip_nan) {
      fprintf(stderr, "%sclgan: warning: %s; iteration rolled back, batch skipped\n",
              tty ? "\n" : "", clgan_last_error());
      clgan_error_clear();
      if ((s = clgan_gan_rollback(gan))) break;
      continue;
    }
    if (s) break;
    skipped_in_row = 0;
    double now = cli_now();
    if (now - t_last > 1.0 || gan->step == total) {
      ips = (double)(gan->step - step_last) * cfg.batch / (now - t_last);
      t_last = now;
      step_last = gan->step;
    } else if (ips == 0.0) {
      ips = (double)(gan->step - step_last) * cfg.batch / (now - t0 + 1e-9);
    }
    int sample_now = lead && (gan->step % a.sample_every == 0 || gan->step == total);
    float diversity = NAN;
    if (sample_now) {
      char name[64];
      snprintf(name, sizeof name, "samples/iter_%08lld.png", gan->step);
      if ((s = write_samples(a.out, name, gan, fixed_z, nfixed, &diversity, &cond))) break;
    }
    int eval_now = lead && a.eval_every && (gan->step % a.eval_every == 0 || gan->step == total);
    float fd = NAN;
    if (eval_now) {
      double v = 0;
      clgan_gan_use_ema(gan, 1); /* with EMA the FD is the average's, as clgan eval scores */
      s = eval_monitor_fd(&em, gan->g, &model, &v);
      clgan_gan_use_ema(gan, 0);
      if (s == CLGAN_ERR_NUMERIC) { /* samples gone non-finite: no FD this time */
        clgan_error_clear();
        s = CLGAN_OK;
      } else if (!s) {
        fd = (float)v;
      }
      if (s) break;
    }
    if (lead && (log_now || sample_now || eval_now)) {
      metrics_row r = {gan->step, e, m.loss_d, m.loss_g, m.d_real, m.d_fake, m.d_fake_after,
                       m.grad_norm_d, m.grad_norm_g, diversity, (float)ips, fd};
      if ((s = out_metrics_append(a.out, &r, fresh_log))) break;
      fresh_log = 0;
      if (out_history_push(&hist, &r)) {
        s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
        break;
      }
    }
    if ((sample_now || eval_now) && (s = out_plot(a.out, &hist))) break;
    if (lead && gan->step % a.ckpt_every == 0 && gan->step != total) {
      state.epoch = e;
      if ((s = out_checkpoint(a.out, gan, &state, (int)a.keep, ckpt_path, sizeof ckpt_path))) break;
    }
    double eta = ips > 0 ? (double)(total - gan->step) * cfg.batch / ips : 0.0;
    if (lead && (tty || (log_now && (gan->step % (a.log_every * 10) == 0 || gan->step == total))))
      progress(tty, gan->step, total, e, epochs_total, ips, eta, &m);
  }
  if (tty && lead) fputc('\n', stderr);
  /* The end of a run and Ctrl-C (honoured between iterations) leave a checkpoint of the
   * last completed iteration. A failure inside an iteration writes none: the state may hold
   * part of the failed iteration (G's batch-norm statistics, D's update), so the last
   * checkpoint written before it stays the one to resume from. */
  if (!s && dd) s = dist_check_same(dd, gan, gan->step, a.sync_bn);
  if (!s && gan->step > 0 && !lead) {
    dist_log(dd, "done after %lld iterations (%.1f s); waited %.3f s on gradients", gan->step,
             cli_now() - t0, dist_get_stats(dd)->wait_s);
  } else if (!s && gan->step > 0) {
    state.epoch = (gan->step - 1) / ipe;
    s = out_checkpoint(a.out, gan, &state, (int)a.keep, ckpt_path, sizeof ckpt_path);
    if (!s) s = write_samples(a.out, "samples.png", gan, fixed_z, nfixed, NULL, &cond);
    if (!s) s = out_plot(a.out, &hist);
    if (!s)
      fprintf(stderr, "%s after %lld iterations (%.1f s). Samples: %s/samples.png, plot: "
              "%s/plot.png, checkpoint: %s\n", stop_requested ? "stopped" : "done", gan->step,
              cli_now() - t0, a.out, a.out, ckpt_path);
    if (!s && em.runs)
      fprintf(stderr, "FD: %d evaluations of %d images took %.1f s, %.1f%% of the run's %.1f s "
              "(set-up %.1f s more)\n", em.runs, em.count, em.seconds,
              100.0 * em.seconds / (cli_now() - t0), cli_now() - t0, em.setup_seconds);
  } else if (s) {
    clgan_error_prefix("stopped; no checkpoint written after the failure (the last good one: "
                       "%s): ", *ckpt_path ? ckpt_path : a.resume ? a.resume : "none");
  }
  if (!s && stop_requested) s = clgan_error(CLGAN_ERR_INTERRUPTED, "interrupted; the "
                                           "checkpoint above resumes the run");
done:
  if (s && dd) dist_log(dd, "error: %s", clgan_last_error());
  rc = s ? cli_report(s) : CLI_OK;
  out_history_free(&hist);
  eval_monitor_free(&em);
  free(fixed_z);
  free(batch);
  free(perm);
  free(blabels);
  cond_samples_free(&cond);
  clgan_gan_free(gan);
  clgan_ctx_free(ctx);
  clgan_dataset_free(&ds);
  if (have_ckpt) clgan_safetensors_free(&ckpt);
  clgan_model_free(&model);
  return rc;
fail_early:
  rc = cli_report(s);
  if (have_ckpt) clgan_safetensors_free(&ckpt);
  clgan_model_free(&model);
  return rc;
}
