/* Image-to-image commands: `clgan train` for a model that takes 'cond' (pix2pix32/64, or
 * --task/--data pairs), and `clgan translate`. Tests: tests/train/test_pix2pix_cli.sh */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "clgan/gan.h"
#include "clgan/imgmetrics.h"
#include "clgan/photo.h"
#include "clgan/tile.h"
#include "i2i_data.h"
#include "i2i_measure.h"
#include "i2i_resume.h"
#include "i2i_sr.h"

int cmd_train_i2i(int argc, char **argv);

/* 1 when `clgan train` should run the image-to-image trainer: --task given, or the
 * --model names a model whose networks take 'cond' (without --model: --resume names the
 * checkpoint of one). */
int i2i_wanted(int argc, char **argv) {
  const char *model = NULL, *resume = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--task") || !strncmp(argv[i], "--task=", 7)) return 1;
    if (!strcmp(argv[i], "--resume") && i + 1 < argc) resume = argv[i + 1];
    else if (!strncmp(argv[i], "--resume=", 9)) resume = argv[i] + 9;
    if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[i + 1];
    else if (!strncmp(argv[i], "--model=", 8)) model = argv[i] + 8;
  }
  if (!model && resume) return i2i_resume_wanted(resume); /* a pix2pix/sr checkpoint */
  if (!model) return 0;
  clgan_model m;
  if (clgan_model_load(model, &m)) return 0; /* the GAN trainer reports it */
  int yes = clgan_model_takes_cond(&m);
  clgan_model_free(&m);
  return yes;
}

static void help_train(void) {
  printf(
      "usage: clgan train --model pix2pix32|pix2pix64|FILE (--task edges2fashion | --data DIR)\n"
      "                   [--iters N] [--batch N] [--lr LR] [--seed S] [--out DIR] ...\n"
      "Trains an image-to-image GAN (pix2pix): G maps the input image to the output, D judges\n"
      "(output, input) pairs with a map of patch logits; each iteration is a D step with G\n"
      "frozen, then a G step through a frozen D.\n"
      "  --task edges2fashion  pairs made from Fashion-MNIST: Sobel edges -> garment, 32x32\n"
      "                        (--data may name another Fashion-MNIST IDX file); held out: the\n"
      "                        t10k test set\n"
      "  --task sr            super-resolution (srgan4x, srgan4x-bn, srgan2x): photo crops of\n"
      "                        --data DIR|default (the mate-backgrounds photos, every 4th held\n"
      "                        out) and their MATLAB-bicubic downscales; weights default to\n"
      "                        content 1, adversarial 1e-3; measures bicubic vs G (PSNR/SSIM-Y)\n"
      "  --pretrain-iters N   sr: the first N iterations content-only, G alone (saved as\n"
      "                        pretrained.safetensors), then the GAN\n"
      "  --init CKPT          sr: start from a checkpoint's G and D (a PSNR run's, for GAN\n"
      "                        fine-tuning; measured as 'pretrained')\n"
      "  --feature-weight W   adds W x the L1 (mse with --content mse) of D's features of\n"
      "                        G(x) vs the target's (SRGAN's perceptual loss, D in place of VGG;\n"
      "                        default 0: off); --feature-node NAME the node of D (default feat)\n"
      "  --data DIR           side-by-side A|B PNGs (A the input, B the target); DIR/train and\n"
      "                        DIR/val when present, else the last tenth of DIR is held out\n"
      "  --iters N            iterations (default 1000); --batch N (default 16)\n"
      "  --lr LR              Adam rate of both nets (default 2e-4, beta1 0.5)\n"
      "  --g-loss ns|lsgan|ragan adversarial loss (default ns: BCE; ragan: ESRGAN's\n"
      "                        relativistic average, D and G judged against the other side's mean)\n"
      "  --adv-weight W       weight of G's adversarial loss (default 1, sr 1e-3; 0: content only)\n"
      "  --content l1|mse|none G's content loss against the target (default l1)\n"
      "  --content-weight W   its weight, lambda (default 100, sr 1)\n"
      "  --d-loss-scale S     D's loss scale (default 0.5: halved, as the reference)\n"
      "  --max-images N       use at most N training pairs; --eval-count N held-out pairs\n"
      "                        measured at the end (default 500)\n"
      "  --sample-every N     input|output|target grid every N iterations (default 200)\n"
      "  --checkpoint-every N (default 500); --log-every N metrics row (default 10)\n"
      "  --seed S, --out DIR (default out), --device D\n"
      "  --resume CKPT        continue a run from its checkpoint, exactly (--iters N: the\n"
      "                        total); the model, recipe, task, data and --max-images come\n"
      "                        from it; a flag given with another value is refused\n"
      "  --measure CKPT       no training: the checkpoint's G (of the same --model) on the\n"
      "                        held-out pairs: samples.png, measures.txt, heldout/\n"
      "Writes DIR/latest.safetensors, DIR/samples.png, DIR/metrics.csv, DIR/plot.png and\n"
      "DIR/measures.txt (L1, PSNR, SSIM of outputs vs targets on the held-out pairs).\n");
}

typedef struct {
  const char *device, *model, *task, *data, *out, *g_loss, *content, *measure;
  long iters, batch, seed, sample_every, ckpt_every, log_every, max_images, eval_count;
  long pretrain_iters;  /* super-resolution: content-only iterations before the GAN's */
  double feature_weight; /* the feature loss on D's features (0: off) */
  const char *init;      /* sr: G and D (and their Adam state) from this checkpoint, then train */
  const char *feature_node;
  double lr, adv_weight, content_weight, d_loss_scale;
  const char *resume; /* --resume CKPT (tools/i2i_resume.c) */
} i2i_args;

/* G's outputs (eval mode: running statistics, no dropout) for n pairs. */
static clgan_status translate_pairs(clgan_gan *gan, const i2i_pairs *p, int n, float *out) {
  return clgan_generate_cond(gan->g, p->cond, n, CLGAN_BN_EVAL, out);
}

/* rows of input | output | target, the input repeated to the image's channels */
static clgan_status write_triplets(const char *path, const i2i_pairs *p, const float *gen, int n) {
  size_t img = (size_t)p->c * p->h * p->w, hw = (size_t)p->h * p->w;
  float *grid = malloc(sizeof(float) * 3 * (size_t)n * img);
  if (!grid) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  for (int i = 0; i < n; i++) {
    float *row = grid + (size_t)i * 3 * img;
    for (int k = 0; k < p->c; k++)
      memcpy(row + k * hw, p->cond + (size_t)i * p->cc * hw + (size_t)(k < p->cc ? k : 0) * hw,
             hw * sizeof(float));
    memcpy(row + img, gen + (size_t)i * img, img * sizeof(float));
    memcpy(row + 2 * img, p->target + (size_t)i * img, img * sizeof(float));
  }
  clgan_status s = clgan_png_write_grid(path, grid, 3 * n, p->c, p->h, p->w, 3, 2);
  free(grid);
  return s;
}

/* grey (1, h, w) from RGB planes in [-1, 1] (BT.601 luma is linear: the same weights) */
static void grey_of(const float *rgb, int n, int h, int w, float *grey) {
  for (int i = 0; i < n; i++)
    clgan_planes_rgb_to_grey(rgb + (size_t)i * 3 * h * w, h, w, grey + (size_t)i * h * w);
}

/* colorize: crops of the training photos are drawn per iteration (see the loop); the held-out
 * pairs are eval_count 64x64 crops of the evaluation photos (whole photos held out), drawn
 * from the Philox stream of seed + 1 at step 0. */
static clgan_status load_colorize(const i2i_args *a, clgan_model *m, clgan_photoset *ps,
                                  i2i_pairs *train, i2i_pairs *held) {
  m->cond_c = 1;
  clgan_status s = clgan_model_resolve(m, 3);
  if (s) return s;
  if (m->image_c != 3 || m->cond_c != 1 || m->image_h != m->image_w || m->cond_h != m->image_h)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "colorize makes grey -> RGB square crops; model "
                       "'%s' takes %dx%dx%d images from %dx%dx%d", m->name, m->image_c,
                       m->image_h, m->image_w, m->cond_c, m->cond_h, m->cond_w);
  if ((s = clgan_photoset_load(a->data, 512, ps))) return s;
  if ((s = i2i_photoset_colour(ps))) return s; /* a grey photo teaches grey: refused */
  if (!ps->n_eval || !ps->n_train) {
    clgan_photoset_free(ps);
    return clgan_error(CLGAN_ERR_INVALID_ARG, "colorize needs 4 or more photos (every 4th is "
                       "held out), '%s' has %d", ps->source, ps->count);
  }
  int h = m->image_h, n = (int)a->eval_count;
  held->n = n, held->cc = 1, held->c = 3, held->h = held->w = h;
  held->cond = malloc(sizeof(float) * (size_t)n * h * h);
  held->target = malloc(sizeof(float) * (size_t)n * 3 * h * h);
  if (!held->cond || !held->target) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  s = clgan_photoset_crops(ps, 1, h, 1, 3, (unsigned long long)a->seed + 1, 0, n, held->target);
  if (!s) grey_of(held->target, n, h, h, held->cond);
  *train = *held;
  train->cond = train->target = NULL;
  train->n = 1 << 30; /* crops are drawn, never exhausted */
  snprintf(train->source, sizeof train->source, "colorize:%s (%d photos, %d held out)",
           ps->source, ps->n_train, ps->n_eval);
  snprintf(held->source, sizeof held->source, "%s", ps->source);
  return s;
}

/* The held-out outputs and targets as PNG folders DIR/heldout/{output,target}/NNNNN.png, for
 * `clgan eval --data DIR/heldout/output --data2 DIR/heldout/target`. edges2fashion's are cut
 * back to the garment's 28x28 (the canvas's 2-pixel border off), the Fashion-MNIST
 * classifier's size. The inputs go whole to DIR/heldout/input, so `clgan translate` of that
 * folder gives the outputs again (tests/train/test_pix2pix_cli.sh checks it). */
static clgan_status write_heldout(const char *dir, const i2i_pairs *p, const float *gen, int crop) {
  static const char *sets[3] = {"output", "target", "input"};
  char path[4200];
  int sc = p->scale ? p->scale : 1;
  size_t big = (size_t)(p->c > p->cc ? p->c : p->cc) * p->h * p->w;
  float *one = malloc(sizeof(float) * big);
  clgan_status s = one ? CLGAN_OK : clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  for (int set = 0; set < 3 && !s; set++) {
    int in = set == 2, c = in ? p->cc : p->c, cr = in ? 0 : crop;
    int sh = in ? p->h / sc : p->h, sw = in ? p->w / sc : p->w, h = sh - 2 * cr, w = sw - 2 * cr;
    snprintf(path, sizeof path, "%s/heldout/%s", dir, sets[set]);
    if ((s = clgan_mkdirs(path))) break;
    for (int i = 0; i < p->n && !s; i++) {
      const float *src = (in ? p->cond : set ? p->target : gen) + (size_t)i * c * sh * sw;
      for (int k = 0; k < c; k++)
        for (int y = 0; y < h; y++)
          memcpy(one + ((size_t)k * h + y) * w, src + ((size_t)k * sh + y + cr) * sw + cr,
                 sizeof(float) * (size_t)w);
      snprintf(path, sizeof path, "%s/heldout/%s/%05d.png", dir, sets[set], i);
      s = clgan_png_write_grid(path, one, 1, c, h, w, 1, 0);
    }
  }
  free(one);
  return s;
}

/* Mean Hasler-Suesstrunk colourfulness of outputs and targets (RGB on 0..255). */
static clgan_status colourfulness(const i2i_pairs *p, const float *gen, int n, double *out,
                                  double *tgt) {
  size_t img = (size_t)p->c * p->h * p->w;
  clgan_image a;
  clgan_status s = clgan_image_alloc(&a, p->w, p->h, 3);
  if (s) return s;
  *out = *tgt = 0;
  for (int i = 0; i < n; i++) {
    i2i_planes_to_u8(gen + i * img, 3, p->h, p->w, &a);
    *out += clgan_colourfulness(&a) / n;
    i2i_planes_to_u8(p->target + i * img, 3, p->h, p->w, &a);
    *tgt += clgan_colourfulness(&a) / n;
  }
  clgan_image_free(&a);
  return CLGAN_OK;
}

static clgan_status load_data(const i2i_args *a, clgan_model *m, i2i_pairs *train,
                              i2i_pairs *held, clgan_photoset *ps) {
  clgan_status s;
  memset(train, 0, sizeof *train), memset(held, 0, sizeof *held);
  if (a->task && !strcmp(a->task, "colorize")) return load_colorize(a, m, ps, train, held);
  if (a->task && !strcmp(a->task, "sr"))
    return i2i_sr_load(a->data, (int)a->max_images, (int)a->eval_count,
                       (unsigned long long)a->seed, m, ps, train, held);
  if (a->task) {
    if (strcmp(a->task, "edges2fashion"))
      return clgan_error(CLGAN_ERR_INVALID_ARG, "unknown task '%s' (known: edges2fashion, "
                         "colorize, sr)", a->task);
    if ((s = clgan_model_resolve(m, 1))) return s;
    if (m->image_h != 32 || m->image_w != 32 || m->image_c != 1 || m->cond_c != 1)
      return clgan_error(CLGAN_ERR_INVALID_ARG, "edges2fashion makes 1x32x32 pairs; model '%s' "
                         "takes %dx%dx%d images", m->name, m->image_c, m->image_h, m->image_w);
    const char *path = a->data ? a->data : CLGAN_DEFAULT_DATA;
    if ((s = i2i_edges2fashion(path, (int)a->max_images, train))) return s;
    /* held out: the test set beside the training file (t10k for train) */
    char test[1024];
    snprintf(test, sizeof test, "%s", path);
    char *t = strstr(test, "train");
    if (t && strlen(t) >= 5) {
      char tmp[1024];
      snprintf(tmp, sizeof tmp, "%.*st10k%s", (int)(t - test), test, t + 5);
      snprintf(test, sizeof test, "%s", tmp);
    }
    s = i2i_edges2fashion(test, (int)a->eval_count, held);
    if (s) clgan_error_prefix("held-out pairs: ");
    return s;
  }
  if (!a->data)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s' is image-to-image: give --task "
                       "edges2fashion or --data DIR of A|B pairs", m->name);
  char tr[4096], va[4096];
  snprintf(tr, sizeof tr, "%s/train", a->data);
  snprintf(va, sizeof va, "%s/val", a->data);
  int split = i2i_is_dir(tr) && i2i_is_dir(va);
  const char *tdir = split ? tr : a->data;
  int ch = m->image_c ? m->image_c : i2i_folder_channels(tdir);
  if ((s = clgan_model_resolve(m, ch ? ch : 3))) return s;
  if (m->cond_h != m->image_h || m->cond_w != m->image_w)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "A|B pairs have equal sides; model '%s' has a "
                       "cond of another size", m->name);
  if ((s = i2i_pairs_folder(tdir, m->image_c, m->cond_c, m->image_h, m->image_w,
                            split ? (int)a->max_images : 0, train)))
    return s;
  if (split) {
    s = i2i_pairs_folder(va, m->image_c, m->cond_c, m->image_h, m->image_w, (int)a->eval_count, held);
    return s;
  }
  /* no split: the last tenth (at least one pair) is held out */
  int nh = train->n / 10 > 0 ? train->n / 10 : 1;
  if (train->n < 2)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "'%s' has %d pair(s): too few to hold any out",
                       a->data, train->n);
  size_t ci = (size_t)train->cc * train->h * train->w, ti = (size_t)train->c * train->h * train->w;
  *held = *train;
  held->n = nh;
  held->cond = malloc(sizeof(float) * ci * nh);
  held->target = malloc(sizeof(float) * ti * nh);
  if (!held->cond || !held->target) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  train->n -= nh;
  memcpy(held->cond, train->cond + ci * train->n, sizeof(float) * ci * nh);
  memcpy(held->target, train->target + ti * train->n, sizeof(float) * ti * nh);
  if (a->max_images > 0 && train->n > a->max_images) train->n = (int)a->max_images;
  return CLGAN_OK;
}

int cmd_train_i2i(int argc, char **argv) {
  i2i_args a = {.model = "pix2pix32", .out = "out", .g_loss = "ns", .content = "l1",
                .iters = 1000, .batch = 16, .seed = 1, .sample_every = 200, .ckpt_every = 500,
                .log_every = 10, .eval_count = 500, .lr = 2e-4, .adv_weight = -1,
                .content_weight = -1, .d_loss_scale = 0.5};
  const cli_opt opts[] = {
      {"--device", OPT_STRING, &a.device, 0, 0, NULL},
      {"--model", OPT_STRING, &a.model, 0, 0, NULL},
      {"--task", OPT_STRING, &a.task, 0, 0, NULL},
      {"--measure", OPT_STRING, &a.measure, 0, 0, NULL},
      {"--data", OPT_STRING, &a.data, 0, 0, NULL},
      {"--out", OPT_STRING, &a.out, 0, 0, NULL},
      {"--g-loss", OPT_STRING, &a.g_loss, 0, 0, NULL},
      {"--content", OPT_STRING, &a.content, 0, 0, NULL},
      {"--iters", OPT_LONG, &a.iters, 1, 1000000000, NULL},
      {"--batch", OPT_LONG, &a.batch, 1, 65536, NULL},
      {"--seed", OPT_LONG, &a.seed, 0, 2147483647, NULL},
      {"--sample-every", OPT_LONG, &a.sample_every, 1, 1000000000, NULL},
      {"--checkpoint-every", OPT_LONG, &a.ckpt_every, 1, 1000000000, NULL},
      {"--log-every", OPT_LONG, &a.log_every, 1, 1000000000, NULL},
      {"--max-images", OPT_LONG, &a.max_images, 1, 1000000000, NULL},
      {"--eval-count", OPT_LONG, &a.eval_count, 1, 1000000, NULL},
      {"--lr", OPT_DOUBLE, &a.lr, 1e-12, 10.0, NULL},
      {"--adv-weight", OPT_DOUBLE, &a.adv_weight, 0.0, 1e6, NULL},
      {"--content-weight", OPT_DOUBLE, &a.content_weight, 0.0, 1e6, NULL},
      {"--d-loss-scale", OPT_DOUBLE, &a.d_loss_scale, 1e-6, 1e6, NULL},
      {"--pretrain-iters", OPT_LONG, &a.pretrain_iters, 0, 1000000000, NULL},
      {"--resume", OPT_STRING, &a.resume, 0, 0, NULL},
      {"--feature-weight", OPT_DOUBLE, &a.feature_weight, 0.0, 1e6, NULL},
      {"--feature-node", OPT_STRING, &a.feature_node, 0, 0, NULL},
      {"--init", OPT_STRING, &a.init, 0, 0, NULL},
  };
  int rc = cli_parse_opts("train", argc, argv, opts, (int)(sizeof opts / sizeof *opts));
  if (rc < 0) {
    help_train();
    return CLI_OK;
  }
  if (rc) return rc;
  /* --resume: the model, recipe and data settings are the checkpoint's (flags that differ
   * are refused), read before anything is touched */
  clgan_st_file rf = {0};
  clgan_model rm;
  clgan_train_config rcfg;
  i2i_run run = {0};
  long long start = 0;
  if (a.resume) {
    if (a.measure) return cli_usage_error("train", "--resume and --measure conflict: give one");
    i2i_given gv = {a.model, a.task, a.g_loss, a.content, a.batch, a.seed, a.max_images,
                    a.pretrain_iters, a.lr, a.adv_weight, a.content_weight, a.d_loss_scale};
    if ((rc = i2i_resume_open(a.resume, argc, argv, &gv, &rf, &rm, &rcfg, &start, &run)))
      return rc;
    a.task = run.task[0] ? run.task : NULL;
    if (!a.data && run.data[0]) a.data = run.data; /* --data may say where the data is now */
    a.max_images = run.max_images, a.pretrain_iters = run.pretrain_iters;
    if (!i2i_given_flag(argc, argv, "--eval-count")) a.eval_count = run.eval_count;
    if (a.iters < start) {
      clgan_safetensors_free(&rf);
      clgan_model_free(&rm);
      return cli_usage_error("train", "--iters %ld is the total, and the checkpoint '%s' has "
                             "done %lld iterations already", a.iters, a.resume, start);
    }
  }
  /* weights not given: pix2pix's (adversarial 1, L1 x 100), or SRGAN's for sr (1e-3, 1) */
  int sr = a.task && !strcmp(a.task, "sr");
  if (a.adv_weight < 0) a.adv_weight = sr ? 1e-3 : 1.0;
  if (a.content_weight < 0) a.content_weight = sr ? 1.0 : 100.0;
  if (a.pretrain_iters && !sr)
    return cli_usage_error("train", "--pretrain-iters is for --task sr");
  if (a.init && (!sr || a.measure))
    return cli_usage_error("train", "--init is for --task sr training (not with --measure)");
  if (a.init && a.resume)
    return cli_usage_error("train", "--init starts a new run from a checkpoint's weights and "
                           "--resume continues one: give one of them");
  if (a.pretrain_iters >= a.iters)
    return cli_usage_error("train", "--pretrain-iters %ld leaves no GAN iterations of %ld",
                           a.pretrain_iters, a.iters);
  clgan_train_config cfg;
  clgan_train_config_default(&cfg);
  if (clgan_gan_loss_parse(a.g_loss, &cfg.loss) ||
      (cfg.loss != CLGAN_GLOSS_NS && cfg.loss != CLGAN_GLOSS_LSGAN && cfg.loss != CLGAN_GLOSS_RAGAN))
    return cli_usage_error("train", "--g-loss must be ns, lsgan or ragan for image-to-image, got '%s'",
                           a.g_loss);
  if (clgan_content_parse(a.content, &cfg.content))
    return cli_usage_error("train", "--content must be l1, mse or none, got '%s'", a.content);
  cfg.batch = (int)a.batch;
  cfg.lr_g = cfg.lr_d = (float)a.lr;
  cfg.seed = (unsigned long long)a.seed;
  cfg.adv_weight = (float)a.adv_weight;
  cfg.content_weight = (float)a.content_weight;
  cfg.d_loss_scale = (float)a.d_loss_scale;
  if (a.resume) cfg = rcfg;
  cfg.feature_weight = (float)a.feature_weight;
  if (a.feature_node && strlen(a.feature_node) >= sizeof cfg.feature_node)
    return cli_usage_error("train", "--feature-node: a node name has at most %d characters",
                           (int)sizeof cfg.feature_node - 1);
  if (a.feature_node) snprintf(cfg.feature_node, sizeof cfg.feature_node, "%s", a.feature_node);
  run.max_images = a.max_images, run.pretrain_iters = a.pretrain_iters;
  run.eval_count = a.eval_count;
  if (a.task != run.task) snprintf(run.task, sizeof run.task, "%s", a.task ? a.task : "");
  if (a.data != run.data) snprintf(run.data, sizeof run.data, "%s", a.data ? a.data : "");

  /* everything that can be refused is refused before any output is touched */
  clgan_model m;
  clgan_status s = a.resume ? (m = rm, CLGAN_OK) : clgan_model_load(a.model, &m);
  if (s) return cli_report(s);
  i2i_pairs tr = {0}, he = {0};
  clgan_photoset ps = {0};
  if (!clgan_model_takes_cond(&m))
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "--task needs an image-to-image model (one taking "
                    "'cond', e.g. pix2pix32); '%s' is not", m.name);
  if (!s) s = load_data(&a, &m, &tr, &he, &ps);
  if (!s && tr.n < cfg.batch)
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "%d training pairs, fewer than one batch of %d", tr.n, cfg.batch);
  clgan_ctx *ctx = NULL;
  clgan_gan *gan = NULL;
  char *kept = NULL; /* a resumed run's log up to its checkpoint */
  float *kpts = NULL;
  int nkept = 0;
  if (s) goto done;
  if ((rc = cli_open_device(a.device, 0, &ctx))) goto done_rc;
  if ((s = clgan_gan_create(ctx, &m, &cfg, &gan))) goto done;
  if (a.resume && (s = clgan_checkpoint_restore(&rf, gan))) {
    clgan_error_prefix("checkpoint '%s': ", a.resume);
    goto done;
  }
  if (!a.resume && (s = clgan_gan_init_params(gan))) goto done;
  if (a.measure || a.init) { /* G and D from the checkpoint; --measure: no iteration runs */
    clgan_st_file f;
    clgan_model cm;
    if ((s = clgan_checkpoint_open(a.measure ? a.measure : a.init, &f, &cm))) goto done;
    s = clgan_checkpoint_restore(&f, gan);
    clgan_safetensors_free(&f);
    clgan_model_free(&cm);
    if (s) goto done;
    if (a.measure) a.iters = 0;
  }
  if ((s = clgan_mkdirs(a.out))) goto done;
  if (a.resume && (s = i2i_log_keep(a.out, start, &kept, &kpts, &nkept))) goto done;
  if (a.resume) fprintf(stderr, "resumed from '%s' at iteration %lld\n", a.resume, start);
  fprintf(stderr, "clgan train: %s on '%s', %d training pairs (0: crops drawn per iteration) "
          "of %s, %d held out; adversarial "
          "%s x %g + %s x %g, D loss x %g; %ld iterations of %d\n", m.name, ctx->info.name,
          tr.cond ? tr.n : 0, tr.source, he.n, clgan_gan_loss_name(cfg.loss), cfg.adv_weight,
          clgan_content_name(cfg.content), cfg.content_weight, cfg.d_loss_scale, a.iters, cfg.batch);
  {
    size_t ci = (size_t)tr.cc * tr.h * tr.w, ti = (size_t)tr.c * tr.h * tr.w;
    if (tr.scale) ci /= (size_t)tr.scale * (size_t)tr.scale; /* sr: the low-resolution input */
    float *bc = malloc(sizeof(float) * ci * cfg.batch), *bt = malloc(sizeof(float) * ti * cfg.batch);
    int *perm = malloc(sizeof(int) * (size_t)tr.n);
    int nsample = he.n < 8 ? he.n : 8;
    float *gen = malloc(sizeof(float) * ti * (size_t)(he.n > 8 ? he.n : 8));
    float *gen_pre = sr ? malloc(sizeof(float) * ti * (size_t)(he.n > 8 ? he.n : 8)) : NULL;
    int have_pre = 0;
    i2i_pairs bic = {0};
    if (sr && !s) s = i2i_sr_bicubic(&he, &bic);
    if (sr && !gen_pre && !s) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    if (sr && a.resume && !s && a.pretrain_iters && start > a.pretrain_iters) /* its line */
      have_pre = i2i_resume_pretrained(gan, &rf, a.out, he.cond, he.n, gen_pre, &s);
    int npts = 0;
    long cap = (a.measure ? 0 : a.iters) / a.log_every + 2 + nkept;
    float *px = malloc(sizeof(float) * 4 * (size_t)cap);
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.csv", a.out);
    FILE *csv = fopen(path, "w");
    if (!bc || !bt || !perm || !gen || !px || !csv) {
      s = clgan_error(csv ? CLGAN_ERR_NOMEM : CLGAN_ERR_IO, csv ? "out of host memory" : "cannot write %s", path);
    } else {
      fprintf(csv, "iter,loss_d,loss_g_adv,loss_content,d_real,d_fake,seconds\n");
      if (kept) fputs(kept, csv);
      for (int i = 0; i < nkept; i++, npts++)
        for (int k = 0; k < 4; k++) px[(size_t)k * cap + i] = kpts[4 * i + k];
    }
    int per_epoch = tr.n / cfg.batch, crops = ps.count > 0;
    if (!a.iters && !s) { /* --measure: the grid of the checkpoint's G */
      snprintf(path, sizeof path, "%s/samples.png", a.out);
      s = translate_pairs(gan, &he, nsample, gen);
      if (!s) s = write_triplets(path, &he, gen, nsample);
    }
    if (crops) free(perm), perm = malloc(sizeof(int));
    double t0 = cli_now();
    for (long it = (long)start; it < a.iters && !s; it++) {
      long epoch = it / per_epoch, p = it % per_epoch;
      if (crops) { /* Philox crops of (seed, iteration): a resumed run draws the same */
        s = clgan_photoset_crops(&ps, 0, tr.h, tr.scale ? tr.scale : 1, 3, cfg.seed, it,
                                 cfg.batch, bt);
        if (s) break;
        if (tr.scale) s = i2i_sr_lowres(bt, cfg.batch, 3, tr.h, tr.scale, bc);
        else grey_of(bt, cfg.batch, tr.h, tr.w, bc);
        if (s) break;
      }
      if (!crops && (p == 0 || it == start)) cli_epoch_order(perm, tr.n, cfg.seed, epoch);
      for (int i = 0; !crops && i < cfg.batch; i++) {
        int k = perm[p * cfg.batch + i];
        memcpy(bc + ci * i, tr.cond + ci * k, sizeof(float) * ci);
        memcpy(bt + ti * i, tr.target + ti * k, sizeof(float) * ti);
      }
      int log_now = (it + 1) % a.log_every == 0 || it + 1 == a.iters;
      clgan_step_metrics mt;
      /* sr pre-training: content only (G alone), then the GAN */
      gan->cfg.adv_weight = it < a.pretrain_iters ? 0.0f : cfg.adv_weight;
      /* the PSNR G: after the pre-training, or --init's at the start */
      if (sr && ((a.pretrain_iters && it == a.pretrain_iters) || (a.init && it == 0))) {
        snprintf(path, sizeof path, "%s/pretrained.safetensors", a.out);
        clgan_train_state pst = {.epoch = 0};
        snprintf(pst.data, sizeof pst.data, "sr");
        i2i_run_format(&run, pst.run, sizeof pst.run);
        s = clgan_checkpoint_save(path, gan, &pst);
        if (!s) s = translate_pairs(gan, &he, he.n, gen_pre);
        if (s) break;
        have_pre = 1;
        fprintf(stderr, "pre-training done (%ld content-only iterations): %s\n", it, path);
      }
      /* sr: the PSNR stage (and a content-only run) is G alone; D starts at the GAN stage */
      if (sr && (it < a.pretrain_iters || cfg.adv_weight == 0.0f))
        s = clgan_gan_iteration_content(gan, bt, bc, &mt);
      else
        s = clgan_gan_iteration_cond(gan, bt, bc, NULL, &mt, 0);
      if (s) break;
      if (log_now) {
        double sec = cli_now() - t0;
        fprintf(csv, "%ld,%.6g,%.6g,%.6g,%.6g,%.6g,%.2f\n", it + 1, mt.loss_d, mt.loss_g,
                mt.loss_content, mt.d_real, mt.d_fake, sec);
        fflush(csv);
        fprintf(stderr, "iter %ld/%ld  D %.4f  G adv %.4f  %s %.4f  D(x) %.3f  D(G) %.3f  %.1f s\n",
                it + 1, a.iters, mt.loss_d, mt.loss_g, clgan_content_name(cfg.content),
                mt.loss_content, mt.d_real, mt.d_fake, sec);
        if (isfinite(mt.loss_feature)) fprintf(stderr, "  feature loss %.4f\n", mt.loss_feature);
        px[npts] = (float)(it + 1);
        px[cap + npts] = mt.loss_d, px[2 * cap + npts] = mt.loss_g, px[3 * cap + npts] = mt.loss_content;
        npts++;
      }
      if ((it + 1) % a.sample_every == 0 || it + 1 == a.iters) {
        snprintf(path, sizeof path, "%s/samples.png", a.out);
        s = translate_pairs(gan, &he, nsample, gen);
        if (!s) s = write_triplets(path, sr ? &bic : &he, gen, nsample);
      }
      if (!s && ((it + 1) % a.ckpt_every == 0 || it + 1 == a.iters)) {
        clgan_train_state st = {.epoch = epoch};
        snprintf(st.data, sizeof st.data, "%s", a.task ? a.task : a.data);
        i2i_run_format(&run, st.run, sizeof st.run);
        /* the run's adversarial weight, not the 0 of sr's pre-training: a resume needs it */
        gan->cfg.adv_weight = cfg.adv_weight;
        snprintf(path, sizeof path, "%s/latest.safetensors", a.out);
        s = clgan_checkpoint_save(path, gan, &st);
      }
    }
    if (!s && npts) {
      clgan_plot_series sd = {"D", px + cap}, sg = {"G adversarial", px + 2 * cap};
      clgan_plot_series sc = {clgan_content_name(cfg.content), px + 3 * cap};
      clgan_plot_series adv[2] = {sd, sg};
      clgan_plot_panel pan[2] = {{"losses", "loss", adv, 2}, {"content loss (train batch)", "mean", &sc, 1}};
      snprintf(path, sizeof path, "%s/plot.png", a.out);
      s = clgan_plot_write(path, "iteration", px, npts, pan, 2);
    }
    if (!s) { /* the measures on every held-out pair */
      double l1 = 0, psnr = 0, ssim = 0, cf_out = 0, cf_tgt = 0;
      s = translate_pairs(gan, &he, he.n, gen);
      if (!s) s = i2i_measure(&he, gen, he.n, he.scale, &l1, &psnr, &ssim);
      if (!s && he.c == 3) s = colourfulness(&he, gen, he.n, &cf_out, &cf_tgt);
      /* the checkerboard measure, radius 1 (docs/RESULTS.md); odd sides have none */
      double p2_out = NAN, p2_tgt = NAN;
      if (!s && he.h % 2 == 0 && he.w % 2 == 0 && he.h >= 8 && he.w >= 8 &&
          !(s = i2i_period2_share(gen, he.n, he.c, he.h, he.w, 1, &p2_out)))
        s = i2i_period2_share(he.target, he.n, he.c, he.h, he.w, 1, &p2_tgt);
      int edges = a.task && !strcmp(a.task, "edges2fashion");
      if (!s) s = write_heldout(a.out, &he, gen, edges ? 2 : 0);
      if (!s) {
        double sec = cli_now() - t0;
        snprintf(path, sizeof path, "%s/measures.txt", a.out);
        FILE *f = fopen(path, "w");
        if (f) {
          fprintf(f, "pairs %d\nl1 %.5f\npsnr %.3f\nssim %.4f\niterations %ld\nseconds %.1f\n",
                  he.n, l1, psnr, ssim, a.iters, sec);
          if (he.c == 3)
            fprintf(f, "colourfulness_output %.2f\ncolourfulness_target %.2f\n", cf_out, cf_tgt);
          if (!isnan(p2_out))
            fprintf(f, "period2_output %.6f\nperiod2_target %.6f\n", p2_out, p2_tgt);
        }
        if (sr) { /* bicubic, the pre-trained (PSNR) G, the final G, and the originals */
          fprintf(stderr, "held-out crops, x%d, Y channel, %d-pixel border cropped:\n", he.scale,
                  he.scale);
          s = i2i_sr_measure_line(f, "bicubic", &he, bic.cond);
          if (!s && have_pre) s = i2i_sr_measure_line(f, "pretrained", &he, gen_pre);
          if (!s) s = i2i_sr_measure_line(f, have_pre ? "gan" : "final", &he, gen);
          double ge = i2i_mean_gradient_energy(he.target, he.n, he.c, he.h, he.w);
          if (f) fprintf(f, "original gradient_energy %.1f\n", ge);
          fprintf(stderr, "  original   gradient energy %.1f\n", ge);
        }
        if (f) fclose(f);
        fprintf(stderr, "held-out %d pairs: L1 %.4f  PSNR %.2f dB  SSIM %.4f (%.1f s). Samples: "
                "%s/samples.png%s%s%s\n", he.n, l1, psnr, ssim, sec, a.out,
                npts ? ", plot: " : "", npts ? a.out : "", npts ? "/plot.png" : "");
      }
    }
    if (csv) fclose(csv);
    free(bc), free(bt), free(perm), free(gen), free(px), free(gen_pre), free(bic.cond);
  }
done:
  rc = s ? cli_report(s) : CLI_OK;
done_rc:
  clgan_gan_free(gan);
  clgan_ctx_free(ctx);
  clgan_safetensors_free(&rf);
  free(kept), free(kpts);
  clgan_photoset_free(&ps);
  i2i_pairs_free(&tr);
  i2i_pairs_free(&he);
  clgan_model_free(&m);
  return rc;
}

/* ---- clgan translate ---- */

typedef struct {
  clgan_net *g;
  int n_max;
} tile_user;

static clgan_status tile_run(void *user, int n, const float *in, float *out) {
  tile_user *u = user;
  return clgan_generate_cond(u->g, in, n, CLGAN_BN_EVAL, out);
}

static clgan_status translate_file(clgan_net *g, const clgan_model *m, const char *in,
                                   const char *out) {
  clgan_image im, om = {0};
  clgan_status s = clgan_image_read(in, &im);
  if (s) return s;
  int cc = m->cond_c, c = m->image_c, h = im.height, w = im.width;
  if (cc == 3 && im.channels == 1) {
    clgan_image_free(&im);
    return clgan_error(CLGAN_ERR_FORMAT, "%s: a grey image, but the model's input is colour", in);
  }
  float *src = malloc(sizeof(float) * (size_t)im.channels * h * w);
  float *x = malloc(sizeof(float) * (size_t)cc * h * w), *y = malloc(sizeof(float) * (size_t)c * h * w);
  if (!src || !x || !y) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s) {
    clgan_image_to_planes(&im, src); /* [-1, 1] planes, as G's input */
    size_t hw = (size_t)h * w;
    if (cc == 1 && im.channels == 3) clgan_planes_rgb_to_grey(src, h, w, x);
    else memcpy(x, src, sizeof(float) * hw * cc);
    /* the tile rule: tiles of the model's size, overlapping by a quarter of it */
    clgan_tile_opts o = {.tile = m->cond_h, .overlap = m->cond_h / 4, .scale = 1,
                         .batch = g->batch, .c_in = cc, .c_out = c};
    tile_user u = {g, g->batch};
    s = clgan_tiled_apply(tile_run, &u, &o, x, h, w, y);
  }
  if (!s) s = clgan_image_alloc(&om, w, h, c);
  if (!s) {
    clgan_planes_to_image(y, &om); /* G's [-1, 1] to 8 bits */
    s = clgan_image_write(out, &om);
  }
  clgan_image_free(&im);
  clgan_image_free(&om);
  free(src), free(x), free(y);
  return s;
}

int cmd_translate(int argc, char **argv) {
  const char *device = NULL, *ckpt = NULL, *in = NULL, *out = NULL;
  long batch = 8;
  const cli_opt opts[] = {
      {"--device", OPT_STRING, &device, 0, 0, NULL},
      {"--checkpoint", OPT_STRING, &ckpt, 0, 0, NULL},
      {"--in", OPT_STRING, &in, 0, 0, NULL},
      {"--out", OPT_STRING, &out, 0, 0, NULL},
      {"--batch", OPT_LONG, &batch, 1, 4096, NULL},
  };
  int rc = cli_parse_opts("translate", argc, argv, opts, (int)(sizeof opts / sizeof *opts));
  if (rc < 0) {
    printf("usage: clgan translate --checkpoint CKPT --in IMG|DIR --out DIR [--batch N] [--device D]\n"
           "Runs an image-to-image checkpoint's generator (eval mode: running statistics, no\n"
           "dropout) on a PNG or JPEG, or on every *.png/*.jpg of a folder, writing PNGs of\n"
           "the same names (.png) into DIR. Any size: the image is cut into tiles of the model's\n"
           "size overlapping by a quarter of it, their outputs blended (clgan_tiled_apply);\n"
           "an image smaller than a tile is mirror-padded.\n");
    return CLI_OK;
  }
  if (rc) return rc;
  if (!ckpt || !in || !out) return cli_usage_error("translate", "--checkpoint, --in and --out are required");
  clgan_st_file f;
  clgan_model m;
  clgan_status s = clgan_checkpoint_open(ckpt, &f, &m);
  if (s) return cli_report(s);
  const char *ic = clgan_safetensors_meta(&f, "image_channels");
  const char *cch = clgan_safetensors_meta(&f, "cond_channels");
  if (cch && !m.cond_c) m.cond_c = atoi(cch); /* colorize: 'cond auto' was 1 */
  s = clgan_model_resolve(&m, ic ? atoi(ic) : 0);
  if (!s && (m.g.ninputs != 1 || m.g.inputs[0].kind != CLGAN_INPUT_COND))
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "'%s' is not an image-to-image checkpoint (its "
                    "generator does not take one 'cond' image)", ckpt);
  if (!s && (m.cond_h != m.image_h || m.cond_w != m.image_w || m.cond_h != m.cond_w))
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "translate needs a square model whose input and "
                    "output sizes agree (super-resolution has its own command)");
  clgan_ctx *ctx = NULL;
  clgan_net *g = NULL;
  if (s) goto fail;
  if ((rc = cli_open_device(device, 0, &ctx))) goto fail_rc;
  if ((s = clgan_net_create(ctx, &m.g, (int)batch, 0, "G", &g))) goto fail;
  if ((s = clgan_checkpoint_restore_net(&f, "generator", g))) goto fail;
  if ((s = clgan_mkdirs(out))) goto fail;
  int done = 0;
  if (i2i_is_dir(in)) {
    char **names;
    int n;
    if ((s = i2i_list_images(in, &names, &n))) goto fail;
    if (!n) {
      s = clgan_error(CLGAN_ERR_INVALID_ARG, "'%s' has no *.png or *.jpg images", in);
      goto fail;
    }
    for (int i = 0; i < n && !s; i++) {
      char ip[4096], op[4096], base[1024];
      snprintf(ip, sizeof ip, "%s/%s", in, names[i]);
      snprintf(base, sizeof base, "%s", names[i]);
      char *dot = strrchr(base, '.');
      if (dot) *dot = '\0';
      snprintf(op, sizeof op, "%s/%s.png", out, base);
      s = translate_file(g, &m, ip, op);
      if (!s) done++;
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
  } else {
    const char *slash = strrchr(in, '/');
    char base[1024], op[4096];
    snprintf(base, sizeof base, "%s", slash ? slash + 1 : in);
    char *dot = strrchr(base, '.');
    if (dot) *dot = '\0';
    snprintf(op, sizeof op, "%s/%s.png", out, base);
    s = translate_file(g, &m, in, op);
    if (!s) done++;
  }
  if (!s) fprintf(stderr, "translated %d image(s) into %s\n", done, out);
fail:
  rc = s ? cli_report(s) : CLI_OK;
fail_rc:
  clgan_net_free(g);
  clgan_ctx_free(ctx);
  clgan_safetensors_free(&f);
  clgan_model_free(&m);
  return rc;
}
