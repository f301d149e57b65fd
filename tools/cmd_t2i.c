/* Text-to-image (issue 16): `clgan train --task captions` (GAN-INT-CLS on Fashion-MNIST with
 * generated captions, src/text/captions.c), `clgan generate --text "..."` and
 * `--interpolate "A" "B"`, and the measures (class accuracy by the shipped classifier,
 * dark/light and small/wide agreement, FD per class). Grammar and recipe: docs/TEXT.md.
 * Tests: tests/text/test_t2i_cli.sh */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_opts.h"
#include "i2i_resume.h"
#include "train_args.h"
#include "train_resume.h"
#include "clgan/classifier.h"
#include "clgan/metrics.h"
#include "clgan/text.h"

/* The rows of the sample grid: one caption per row, the same 8 noises across. */
static const char *grid_captions[8] = {
    "a dark t-shirt",       "a light t-shirt",  "a pair of dark trousers",
    "a light pullover with long sleeves", "a dark dress", "a light sneaker",
    "a dark bag with a handle", "a light ankle boot"};

static int takes_text_model(const char *name) {
  clgan_model m;
  if (clgan_model_load(name, &m)) return 0;
  int yes = clgan_model_takes_text(&m);
  clgan_model_free(&m);
  return yes;
}

int t2i_wanted(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--task") && i + 1 < argc && !strcmp(argv[i + 1], "captions")) return 1;
    if (!strcmp(argv[i], "--task=captions")) return 1;
    if (!strcmp(argv[i], "--model") && i + 1 < argc && takes_text_model(argv[i + 1])) return 1;
    if (!strncmp(argv[i], "--model=", 8) && takes_text_model(argv[i] + 8)) return 1;
    if (!strcmp(argv[i], "--resume") && i + 1 < argc) { /* a text run's checkpoint */
      clgan_st_file f;
      clgan_model m;
      if (clgan_checkpoint_open(argv[i + 1], &f, &m)) {
        clgan_error_clear();
        continue;
      }
      int yes = clgan_model_takes_text(&m);
      clgan_safetensors_free(&f);
      clgan_model_free(&m);
      if (yes) return 1;
    }
  }
  return 0;
}

int t2i_generate_wanted(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--text") || !strncmp(argv[i], "--text=", 7)) return 1;
    if (!strcmp(argv[i], "--interpolate") && i + 1 < argc && strncmp(argv[i + 1], "--", 2))
      return 1;
  }
  return 0;
}

/* Token slots of one caption (an interpolation when b is set). */
static clgan_status caption_slots(const clgan_vocab *v, const char *a, const char *b, float t,
                                  int32_t *out) {
  int32_t ia[CLGAN_TEXT_MAX_TOKENS], ib[CLGAN_TEXT_MAX_TOKENS];
  int ka = 0, kb = 0;
  clgan_status s = clgan_tokenize(v, a, ia, &ka);
  if (!s && b) s = clgan_tokenize(v, b, ib, &kb);
  if (s) return s;
  clgan_text_pack(ia, ka, b ? ib : NULL, kb, t, out);
  return CLGAN_OK;
}

/* The vocabulary size each embedbag of the model takes must hold the vocabulary. */
static clgan_status check_vocab(const clgan_model *m, const clgan_vocab *v) {
  const clgan_net_desc *nets[2] = {&m->g, &m->d};
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < nets[k]->count; i++) {
      const clgan_layer_desc *l = &nets[k]->layers[i];
      if (l->kind == CLGAN_LAYER_EMBEDBAG && l->num < v->count)
        return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': the %s's embedbag takes %d words "
                           "but the captions have %d", m->name, k ? "discriminator" : "generator",
                           l->num, v->count);
    }
  return CLGAN_OK;
}

/* ---- measures ---- */

static void to_u8(const float *x, int n, uint8_t *out) {
  for (int i = 0; i < n; i++) {
    float v = floorf((x[i] + 1.0f) * 127.5f + 0.5f);
    out[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
  }
}

/* Per class: samples of "a W1 <noun>" and "a W2 <noun>"; the classifier's accuracy on the
 * class named, the mean of an attribute (brightness or fill) under each word, and FD of the
 * class's samples against its real images. */
static clgan_status measure(clgan_ctx *ctx, clgan_net *g, const clgan_model *m,
                            const clgan_vocab *v, const clgan_dataset *ds, unsigned long long seed,
                            int per, const char *out_dir, FILE *log) {
  clgan_classifier *cls = NULL;
  clgan_status s = clgan_classifier_load(ctx, NULL, 256, &cls);
  if (s) return s;
  int n2 = 2 * per, img = 784, fd_dim = cls->feat_dim;
  float *z = malloc(sizeof(float) * (size_t)n2 * m->nz), *gen = malloc(sizeof(float) * (size_t)n2 * img);
  int32_t *slots = malloc(sizeof(int32_t) * (size_t)n2 * CLGAN_TEXT_SAMPLE_INTS);
  float *logits = malloc(sizeof(float) * (size_t)n2 * cls->classes);
  float *feat = malloc(sizeof(float) * (size_t)n2 * fd_dim);
  float *rfeat = malloc(sizeof(float) * (size_t)1000 * fd_dim), *rimg = malloc(sizeof(float) * 1000 * (size_t)img);
  uint8_t *u8 = malloc((size_t)img);
  int *idx = malloc(sizeof(int) * 1000);
  if (!z || !gen || !slots || !logits || !feat || !rfeat || !rimg || !u8 || !idx) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    goto done;
  }
  static const char *pairs[2][2] = {{"dark", "light"}, {"small", "wide"}};
  int agree[2] = {0, 0}, correct = 0, total = 0;
  double fd_sum = 0;
  fprintf(log, "# class: accuracy of its samples (dark, light, small, wide captions), mean "
          "brightness under dark/light, mean fill under small/wide, FD (dark + light samples "
          "vs up to 1000 real images of the class, the classifier's features)\n");
  for (int c = 0; c < 10 && !s; c++) {
    double attr[2][2] = {{0}}, fdc = 0;
    int cc = 0;
    for (int a = 0; a < 2 && !s; a++) {
      char cap[2][CLGAN_CAPTION_MAX];
      for (int w = 0; w < 2; w++) {
        clgan_caption_words cw = {a ? NULL : pairs[0][w], a ? pairs[1][w] : NULL, NULL, NULL};
        clgan_caption_format(c, &cw, 0, cap[w]);
      }
      for (int i = 0; i < n2 && !s; i++)
        s = caption_slots(v, cap[i / per], NULL, 0, slots + (size_t)i * CLGAN_TEXT_SAMPLE_INTS);
      clgan_philox_normal((size_t)n2 * m->nz, seed + 1000 + (unsigned long long)(2 * c + a), 0, 0, 1, z);
      if (!s) s = clgan_generate_text(g, z, slots, n2, CLGAN_BN_EVAL, gen);
      if (!s) s = clgan_classifier_features(cls, gen, n2, logits, a ? NULL : feat);
      for (int i = 0; i < n2 && !s; i++) {
        int best = 0;
        for (int k = 1; k < cls->classes; k++)
          if (logits[(size_t)i * cls->classes + k] > logits[(size_t)i * cls->classes + best]) best = k;
        cc += best == c;
        clgan_caption_attrs at;
        to_u8(gen + (size_t)i * img, img, u8);
        clgan_caption_measure(u8, 28, 28, &at);
        attr[a][i / per] += (a ? at.fill : at.brightness) / per;
      }
      if (!a && !s) { /* FD of the class's dark + light samples against its real images */
        int nr = 0;
        for (int i = 0; i < ds->count && nr < 1000; i++)
          if (ds->labels[i] == c) idx[nr++] = i;
        clgan_dataset_batch(ds, idx, nr, rimg);
        s = clgan_classifier_features(cls, rimg, nr, NULL, rfeat);
        if (!s) s = clgan_fd_features(feat, n2, rfeat, nr, fd_dim, &fdc);
      }
    }
    if (s) break;
    fd_sum += fdc;
    agree[0] += attr[0][0] < attr[0][1];
    agree[1] += attr[1][0] < attr[1][1];
    correct += cc, total += 4 * per;
    fprintf(log, "%d %-10s accuracy %.4f brightness dark %.4f light %.4f fill small %.4f wide "
            "%.4f FD %.2f\n", c, clgan_caption_noun(c), (double)cc / (4.0 * per), attr[0][0],
            attr[0][1], attr[1][0], attr[1][1], fdc);
    fprintf(stderr, "  %-10s accuracy %.3f  brightness dark %.3f light %.3f  fill small %.3f "
            "wide %.3f  FD %.1f\n", clgan_caption_noun(c), (double)cc / (4.0 * per), attr[0][0],
            attr[0][1], attr[1][0], attr[1][1], fdc);
  }
  if (!s) {
    double real_acc = 0;
    s = clgan_classifier_accuracy(cls, ds, &real_acc, NULL);
    if (!s) {
      double acc = (double)correct / total;
      fprintf(log, "class_accuracy %.4f\nreal_accuracy %.4f\nratio %.4f\nbrightness_agree %d/10\n"
              "size_agree %d/10\nfd_mean %.2f\n", acc, real_acc, acc / real_acc, agree[0],
              agree[1], fd_sum / 10);
      fprintf(stderr, "class accuracy of samples %.4f vs real images %.4f (ratio %.3f); dark < "
              "light in %d/10 classes, small < wide in %d/10; mean FD per class %.2f\n", acc,
              real_acc, acc / real_acc, agree[0], agree[1], fd_sum / 10);
    }
  }
  (void)out_dir;
done:
  free(z), free(gen), free(slots), free(logits), free(feat), free(rfeat), free(rimg), free(u8), free(idx);
  clgan_classifier_free(cls);
  return s;
}

/* ---- user captions ---- */

static char *trim(char *p) {
  while (*p == ' ' || *p == '\t') p++;
  size_t n = strlen(p);
  while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n')) p[--n] = '\0';
  if (n >= 2 && p[0] == '"' && p[n - 1] == '"') p[n - 1] = '\0', p++;
  return p;
}

static int cmp_name(const void *key, const void *elem) {
  return strcmp((const char *)key, *(char *const *)elem);
}

/* The captions of the first `count` images of the PNG folder dir: from csv ("file,caption"
 * lines; '#' comments and blank lines skipped; the caption is everything after the first
 * comma, surrounding quotes removed), or else from NAME.txt beside each NAME.png (its first
 * line). An image without one, or a CSV line naming no image: CLGAN_ERR_FORMAT naming it. */
static clgan_status load_user_captions(const char *dir, const char *csv, int count, char ***out) {
  char **names = NULL;
  int n = 0;
  *out = NULL;
  clgan_status s = clgan_png_folder_names(dir, &names, &n);
  if (s) return s;
  char **caps = calloc((size_t)(n ? n : 1), sizeof *caps);
  if (!caps) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s && n < count)
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "captions need a flat folder of PNG files; '%s' has "
                    "%d of its own", dir, n);
  char line[2048];
  if (!s && csv) {
    FILE *f = fopen(csv, "r");
    if (!f) s = clgan_error(CLGAN_ERR_IO, "cannot open captions '%s'", csv);
    for (int ln = 1; !s && f && fgets(line, sizeof line, f); ln++) {
      char *t = trim(line);
      if (!*t || *t == '#') continue;
      char *comma = strchr(t, ',');
      if (!comma) {
        s = clgan_error(CLGAN_ERR_FORMAT, "%s:%d: not 'file,caption'", csv, ln);
        break;
      }
      *comma = '\0';
      char *file = trim(t), *cap = trim(comma + 1);
      char **hit = n ? bsearch(file, names, (size_t)n, sizeof *names, cmp_name) : NULL;
      if (!hit) {
        s = clgan_error(CLGAN_ERR_FORMAT, "%s:%d: '%s' is no .png of '%s'", csv, ln, file, dir);
        break;
      }
      free(caps[hit - names]);
      if (!(caps[hit - names] = strdup(cap))) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    }
    if (f) fclose(f);
  }
  for (int i = 0; !s && !csv && i < n && i < count; i++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%.*s.txt", dir, (int)(strlen(names[i]) - 4), names[i]);
    FILE *f = fopen(path, "r");
    if (!f) {
      s = clgan_error(CLGAN_ERR_IO, "no caption for '%s/%s': cannot open '%s' (give --captions "
                      "FILE.csv or a NAME.txt beside each NAME.png)", dir, names[i], path);
      break;
    }
    if (!fgets(line, sizeof line, f)) line[0] = '\0';
    fclose(f);
    if (!(caps[i] = strdup(trim(line)))) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  for (int i = 0; !s && i < count && i < n; i++)
    if (!caps[i]) s = clgan_error(CLGAN_ERR_FORMAT, "captions '%s': no caption for '%s'", csv ? csv : "", names[i]);
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
  if (s) {
    for (int i = 0; caps && i < n; i++) free(caps[i]);
    free(caps);
    return s;
  }
  for (int i = count; i < n; i++) free(caps[i]), caps[i] = NULL;
  *out = caps;
  return CLGAN_OK;
}

/* ---- clgan train --task captions ---- */

static void help_train(void) {
  printf("usage: clgan train --task captions [--model t2i28] [options]\n\n"
         "Text-to-image on Fashion-MNIST with generated captions (docs/TEXT.md): GAN-INT-CLS's\n"
         "matching-aware D (real image + its caption, G(z, caption), real image + another\n"
         "class's caption) and StackGAN's conditioning augmentation in G.\n\n"
         "  --model M            a model taking 'text' (default t2i28)\n"
         "  --data PATH          labelled Fashion-MNIST IDX (default: Debian's training set),\n"
         "                       or a flat PNG folder with captions of its own:\n"
         "  --captions FILE.csv  'file,caption' lines for --data's PNGs (without it: NAME.txt\n"
         "                       beside each NAME.png); the vocabulary is built from them\n"
         "  --out DIR            output folder (default out): latest.safetensors, samples.png\n"
         "                       (a row per caption), metrics.csv, captions.txt, measures.txt\n"
         "  --iters N            iterations (default 4500: the run that meets the class\n"
         "                       accuracy target, docs/RESULTS.md)\n"
         "  --batch N --seed N --lr X --max-images N\n"
         "  --log-every N --sample-every N --checkpoint-every N\n"
         "  --g-loss L           ns (default, the recipe's BCE), minimax, lsgan or hinge; a\n"
         "                       model file's 'loss' line is its default (ragan, wgan-gp: no)\n"
         "  --resume CKPT        continue a text run from its checkpoint, exactly (--iters N:\n"
         "                       the total); its model, recipe, data and captions are kept\n"
         "  --ema DECAY          keep an exponential moving average of G's weights (e.g. 0.999;\n"
         "                       0 = off, the default: at 2000 iterations it lowered class\n"
         "                       accuracy, docs/TEXT.md); it then draws the grid and the\n"
         "                       measures and is what `clgan generate --text` uses\n"
         "  --ema-start N        the average starts after N iterations (default 0)\n"
         "  --no-ema             grid and measures from G's own weights though EMA is kept\n"
         "  --measure CKPT       no training: the measures of a checkpoint (its EMA if kept,\n"
         "                       unless --no-ema)\n"
         "  --measure-count N    samples per caption in the measures (default 250; 0: none)\n"
         "  --device D\n");
}

/* The run's own settings that --resume takes back (clgan_train_state.run, "key value"
 * lines): where the images and captions came from and how many were read. */
typedef struct t2i_run {
  char data[480], captions[480]; /* "" = the default (Fashion-MNIST) / none; the two fit in
                                  * clgan_train_state.run */
  long max_images;                 /* 0 = all */
  int legacy; /* the checkpoint has no `run` (written before text resume): from the flags */
} t2i_run;

static void t2i_run_format(const t2i_run *r, char *buf, size_t cap) {
  snprintf(buf, cap, "task captions\ndata %s\ncaptions %s\nmax_images %ld", r->data,
           r->captions, r->max_images);
}

static int t2i_run_parse(const char *text, t2i_run *r) {
  memset(r, 0, sizeof *r);
  int seen = 0;
  for (const char *p = text; *p;) {
    const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
    char line[1100];
    if ((size_t)(end - p) >= sizeof line) return -1;
    memcpy(line, p, (size_t)(end - p));
    line[end - p] = '\0';
    p = nl ? nl + 1 : end;
    char *v = strchr(line, ' ');
    if (!v) return -1;
    *v++ = '\0';
    char *e;
    if (!strcmp(line, "task")) { if (strcmp(v, "captions")) return -1; }
    else if (!strcmp(line, "data")) snprintf(r->data, sizeof r->data, "%s", v);
    else if (!strcmp(line, "captions")) snprintf(r->captions, sizeof r->captions, "%s", v);
    else if (!strcmp(line, "max_images")) {
      r->max_images = strtol(v, &e, 10);
      if (e == v || *e || r->max_images < 0) return -1;
    } else return -1;
    seen++;
  }
  return seen == 4 ? 0 : -1;
}

/* --resume CKPT: the checkpoint's configuration, model and run settings, with the flags
 * given checked against them (tools/train_resume.c's rule: equal values are accepted). */
static int t2i_resume_open(const char *path, int argc, char **argv, const train_args *ta,
                           const char *data, const char *captions, long max_images,
                           clgan_st_file *f, clgan_model *m,
                           clgan_train_config *cfg, long long *step, clgan_train_state *st,
                           t2i_run *run) {
  clgan_status s = clgan_checkpoint_open(path, f, m);
  if (s) return cli_report(s);
  s = clgan_checkpoint_config(f, cfg, step, st);
  if (s) clgan_error_prefix("checkpoint '%s': ", path);
  if (!s && !clgan_model_takes_text(m))
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "checkpoint '%s' is not a text-to-image run's "
                    "(model %s)", path, m->name);
  if (!s && !st->run[0]) { /* written before text resume: the flags say where the data is,
                            * and the data source and vocabulary are checked once loaded */
    memset(run, 0, sizeof *run);
    snprintf(run->data, sizeof run->data, "%s", data ? data : "");
    snprintf(run->captions, sizeof run->captions, "%s", captions ? captions : "");
    run->max_images = max_images;
    run->legacy = 1;
  } else if (!s && t2i_run_parse(st->run, run)) {
    s = clgan_error(CLGAN_ERR_FORMAT, "checkpoint '%s': malformed run settings (task, data, "
                    "captions, max_images) in its metadata; it cannot be resumed exactly", path);
  }
  int rc = s ? cli_report(s) : train_resume_check(ta, cfg, m);
  if (!rc && !run->legacy && i2i_given_flag(argc, argv, "--max-images") &&
      max_images != run->max_images) {
    char g[32], h[32];
    snprintf(g, sizeof g, "%ld", max_images);
    snprintf(h, sizeof h, "%ld", run->max_images);
    rc = train_resume_conflict("--max-images", g, "max-images", run->max_images ? h : "0 (all)", h);
  }
  if (rc) {
    clgan_safetensors_free(f);
    clgan_model_free(m);
    memset(f, 0, sizeof *f);
  }
  return rc;
}

int cmd_train_t2i(int argc, char **argv) {
  const char *model = "t2i28", *task = "captions", *data = NULL, *out = "out", *device = NULL,
             *measure_ckpt = NULL, *captions = NULL, *resume = NULL, *g_loss = "ns";
  long iters = 4500, batch = 64, seed = 1, log_every = 50, sample_every = 500, ckpt_every = 1000,
       max_images = 0, measure_count = 250;
  double lr = 2e-4, ema = 0.0;
  long ema_start = 0;
  int seen_ema = 0, seen_ema_start = 0, no_ema = 0, measure_ema = 0;
  const cli_opt opts[] = {
      {"--model", OPT_STRING, &model, 0, 0, NULL},
      {"--task", OPT_STRING, &task, 0, 0, NULL},
      {"--ema", OPT_DOUBLE, &ema, -1e300, 1e300, &seen_ema},
      {"--ema-start", OPT_LONG, &ema_start, 0, 1000000000, &seen_ema_start},
      {"--no-ema", OPT_FLAG, &no_ema, 0, 0, NULL},
      {"--data", OPT_STRING, &data, 0, 0, NULL},
      {"--out", OPT_STRING, &out, 0, 0, NULL},
      {"--device", OPT_STRING, &device, 0, 0, NULL},
      {"--measure", OPT_STRING, &measure_ckpt, 0, 0, NULL},
      {"--captions", OPT_STRING, &captions, 0, 0, NULL},
      {"--resume", OPT_STRING, &resume, 0, 0, NULL},
      {"--g-loss", OPT_STRING, &g_loss, 0, 0, NULL},
      {"--iters", OPT_LONG, &iters, 1, 1000000000, NULL},
      {"--batch", OPT_LONG, &batch, 2, 4096, NULL},
      {"--seed", OPT_LONG, &seed, 0, 2147483647, NULL},
      {"--log-every", OPT_LONG, &log_every, 1, 1000000000, NULL},
      {"--sample-every", OPT_LONG, &sample_every, 1, 1000000000, NULL},
      {"--checkpoint-every", OPT_LONG, &ckpt_every, 1, 1000000000, NULL},
      {"--max-images", OPT_LONG, &max_images, 1, 1000000000, NULL},
      {"--measure-count", OPT_LONG, &measure_count, 0, 100000, NULL},
      {"--lr", OPT_DOUBLE, &lr, 1e-12, 10.0, NULL},
  };
  int rc = cli_parse_opts("train", argc, argv, opts, (int)(sizeof opts / sizeof *opts));
  if (rc < 0) {
    help_train();
    return CLI_OK;
  }
  if (rc) return rc;
  if (strcmp(task, "captions"))
    return cli_usage_error("train", "a text model trains with --task captions, got '%s'", task);
  if (!(ema >= 0.0 && ema < 1.0 && (float)ema < 1.0f))
    return cli_usage_error("train", "--ema must be a decay in [0, 1), e.g. 0.999 (an average "
                           "over about 1000 iterations); 0 turns EMA off; got %g", ema);
  if (seen_ema_start && !seen_ema && !resume)
    return cli_usage_error("train", "--ema-start needs --ema DECAY (EMA is off by default)");
  if (measure_ckpt && (seen_ema || seen_ema_start))
    return cli_usage_error("train", "--ema and --ema-start are training settings; --measure "
                           "uses the checkpoint's EMA if it has one (--no-ema: G's own)");
  clgan_train_config cfg;
  clgan_train_config_default(&cfg);
  int seen_loss = i2i_given_flag(argc, argv, "--g-loss");
  if (clgan_gan_loss_parse(g_loss, &cfg.loss) ||
      cfg.loss == CLGAN_GLOSS_RAGAN || cfg.loss == CLGAN_GLOSS_WGAN_GP)
    return cli_usage_error("train", "--g-loss must be ns, minimax, lsgan or hinge for "
                           "text-to-image (its matching-aware D step has no ragan or wgan-gp), "
                           "got '%s'", g_loss);
  cfg.batch = (int)batch;
  cfg.lr_g = cfg.lr_d = (float)lr;
  cfg.seed = (unsigned long long)seed;
  cfg.ema_decay = (float)ema;
  cfg.ema_start = ema_start;

  /* --resume: the model, recipe, data and captions are the checkpoint's (flags that differ
   * are refused), read before anything is touched */
  clgan_st_file rf = {0};
  clgan_model rm;
  clgan_train_state rst;
  t2i_run run = {0};
  long long start = 0;
  if (resume) {
    if (measure_ckpt) return cli_usage_error("train", "--resume and --measure conflict: give one");
    train_args ta;
    memset(&ta, 0, sizeof ta);
    ta.model = model, ta.seen_model = i2i_given_flag(argc, argv, "--model");
    ta.batch = batch, ta.seen_batch = i2i_given_flag(argc, argv, "--batch");
    ta.lr = lr, ta.seen_lr = i2i_given_flag(argc, argv, "--lr");
    ta.g_loss = g_loss, ta.seen_loss = seen_loss;
    ta.seed = seed, ta.seen_seed = i2i_given_flag(argc, argv, "--seed");
    ta.ema = ema, ta.seen_ema = seen_ema;
    ta.ema_start = ema_start, ta.seen_ema_start = seen_ema_start;
    clgan_train_config rcfg;
    memset(&rst, 0, sizeof rst);
    if ((rc = t2i_resume_open(resume, argc, argv, &ta, data, captions, max_images, &rf, &rm,
                              &rcfg, &start, &rst, &run)))
      return rc;
    if (!run.legacy && i2i_given_flag(argc, argv, "--captions") && strcmp(captions, run.captions)) {
      clgan_safetensors_free(&rf);
      clgan_model_free(&rm);
      return train_resume_conflict("--captions", captions, "captions",
                                   run.captions[0] ? run.captions : "(none)",
                                   run.captions[0] ? run.captions : NULL);
    }
    if (iters < start) {
      clgan_safetensors_free(&rf);
      clgan_model_free(&rm);
      return cli_usage_error("train", "--iters %ld is the total, and the checkpoint '%s' has "
                             "done %lld iterations already", iters, resume, start);
    }
    cfg = rcfg;
    if (!data && run.data[0]) data = run.data; /* --data may say where the data is now */
    captions = run.captions[0] ? run.captions : NULL;
    max_images = run.max_images;
  } else if (!seen_loss) {
    clgan_model lm; /* a model file's `loss` line is its default; --g-loss wins */
    if (!clgan_model_load(model, &lm)) {
      if (lm.loss >= 0) cfg.loss = (clgan_gan_loss)lm.loss;
      clgan_model_free(&lm);
    } else {
      clgan_error_clear(); /* refused below, with its message */
    }
  }
  if ((data && strlen(data) >= sizeof run.data) || (captions && strlen(captions) >= sizeof run.captions))
    return cli_usage_error("train", "--%s: a path of %zu characters or more cannot be recorded "
                           "in the checkpoint for --resume", data && strlen(data) >= sizeof run.data
                           ? "data" : "captions", sizeof run.data);
  snprintf(run.data, sizeof run.data, "%s", data ? data : "");
  snprintf(run.captions, sizeof run.captions, "%s", captions ? captions : "");
  run.max_images = max_images;

  /* everything that can be refused is refused before any output is touched */
  clgan_model m;
  clgan_status s = resume ? (m = rm, CLGAN_OK) : clgan_model_load(model, &m);
  if (s) return cli_report(s);
  clgan_dataset ds = {0};
  clgan_vocab vocab = {0};
  clgan_ctx *ctx = NULL;
  clgan_gan *gan = NULL;
  clgan_caption_words *words = NULL;
  char **user = NULL; /* user captions, one per image, or NULL: the grammar's */
  char *kept = NULL;  /* a resumed run's metrics rows up to its checkpoint */
  struct stat sb;
  int user_given = captions || (data && stat(data, &sb) == 0 && S_ISDIR(sb.st_mode));
  if (!clgan_model_takes_text(&m))
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "--task captions needs a model taking 'text' (t2i28); "
                    "'%s' does not", m.name);
  int ch = m.image_c ? m.image_c : 1;
  if (!s) s = clgan_dataset_load(data, ch, m.image_h, m.image_w, (int)max_images, &ds);
  if (!s && user_given) {
    s = load_user_captions(data, captions, ds.count, &user);
    if (!s) s = clgan_vocab_build((const char *const *)user, ds.count, &vocab);
    for (int i = 0; !s && i < ds.count; i++) { /* every caption tokenizes: <= 16 words */
      int32_t ids[CLGAN_TEXT_MAX_TOKENS];
      int k;
      if ((s = clgan_tokenize(&vocab, user[i], ids, &k))) clgan_error_prefix("image %d: ", i);
    }
  } else if (!s && (!ds.labels || ds.classes != 10 || m.image_h != 28 || m.image_w != 28 || ch != 1)) {
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "--task captions describes Fashion-MNIST (28x28 grey, "
                    "10 labelled classes) unless the data has captions of its own (--captions); "
                    "'%s' does not fit", ds.source);
  }
  if (!s && ds.count < cfg.batch)
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "%d images, fewer than one batch of %d", ds.count, cfg.batch);
  if (!s) s = clgan_model_resolve(&m, ch);
  if (!s && !user) s = clgan_vocab_from_grammar(&vocab);
  if (!s) s = check_vocab(&m, &vocab);
  if (!s && resume && run.legacy) { /* no run settings stored: the data must be the run's */
    char src[sizeof rst.data];
    snprintf(src, sizeof src, "captions:%.1000s", ds.source);
    if (strcmp(src, rst.data))
      s = clgan_error(CLGAN_ERR_MISMATCH, "--resume '%s' (a checkpoint without run settings, "
                      "written before text runs resumed): it was trained on '%s', these flags "
                      "give '%s'; give the run's --data and --max-images", resume, rst.data, src);
  }
  if (!s && resume) { /* the captions must give the vocabulary the run was trained with */
    char *vl = NULL;
    s = clgan_vocab_join(&vocab, &vl);
    if (!s && strcmp(vl, rst.vocab))
      s = clgan_error(CLGAN_ERR_MISMATCH, "--resume '%s': the captions' vocabulary (%.200s) is "
                      "not the checkpoint's (%.200s): other data or captions than the run's",
                      resume, vl, rst.vocab);
    free(vl);
  }
  clgan_caption_stats st;
  memset(&st, 0, sizeof st);
  if (!s && !user) s = clgan_caption_stats_compute(ds.pixels, ds.labels, ds.count, 28, 28, 10, &st);
  if (!s && !user && !(words = malloc(sizeof *words * (size_t)ds.count)))
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  for (int i = 0; !s && !user && i < ds.count; i++) {
    clgan_caption_attrs at;
    clgan_caption_measure(ds.pixels + (size_t)i * 784, 28, 28, &at);
    clgan_caption_words_of(&at, ds.labels[i], &st, &words[i]);
  }
  if (s) goto done;
  if ((rc = cli_open_device(device, 0, &ctx))) goto done_rc;
  if ((s = clgan_gan_create(ctx, &m, &cfg, &gan))) goto done;
  if (resume) { /* encoders, G, D, Adam moments and counters; the step keys z, eps, order */
    if ((s = clgan_checkpoint_restore(&rf, gan))) {
      clgan_error_prefix("checkpoint '%s': ", resume);
      goto done;
    }
  } else if ((s = clgan_gan_init_params(gan))) {
    goto done;
  }
  if (measure_ckpt) {
    clgan_st_file f;
    clgan_model cm;
    if ((s = clgan_checkpoint_open(measure_ckpt, &f, &cm))) goto done;
    s = clgan_checkpoint_restore(&f, gan);
    /* a run that kept an EMA of G: its measures are the EMA's, as its grids were */
    if (!s && !no_ema && clgan_safetensors_meta(&f, "ema_decay")) {
      s = clgan_checkpoint_restore_net(&f, "generator_ema", gan->g);
      if (!s) fprintf(stderr, "clgan train --measure: the EMA of G's weights (--no-ema: G's own)\n");
      measure_ema = !s;
    }
    clgan_safetensors_free(&f);
    clgan_model_free(&cm);
    if (s) goto done;
    iters = 0;
  }
  if ((s = clgan_mkdirs(out))) goto done;
  char path[4200];
  if (resume) {
    float *kpts = NULL;
    int nkept = 0;
    s = i2i_log_keep(out, start, &kept, &kpts, &nkept);
    free(kpts);
    if (s) goto done;
    fprintf(stderr, "resumed from '%s' at iteration %lld\n", resume, start);
  }
  {
    /* captions.txt: the thresholds and the first images' captions */
    snprintf(path, sizeof path, "%s/captions.txt", out);
    FILE *f = fopen(path, "w");
    if (!f) {
      s = clgan_error(CLGAN_ERR_IO, "cannot write %s", path);
      goto done;
    }
    if (!user) fprintf(f, "# class bright_lo bright_hi fill_lo fill_hi aspect_lo aspect_hi\n");
    for (int c = 0; c < 10 && !user; c++)
      fprintf(f, "# %d %.4f %.4f %.4f %.4f %.4f %.4f\n", c, st.bright_lo[c], st.bright_hi[c],
              st.fill_lo[c], st.fill_hi[c], st.aspect_lo[c], st.aspect_hi[c]);
    for (int i = 0; i < ds.count && i < 100; i++) {
      char cap[CLGAN_CAPTION_MAX];
      if (user) snprintf(cap, sizeof cap, "%s", user[i]);
      else clgan_caption_format(ds.labels[i], &words[i], i % CLGAN_CAPTION_VARIANTS, cap);
      fprintf(f, "%d %s\n", i, cap);
    }
    fclose(f);
  }
  fprintf(stderr, "clgan train: %s on '%s', %d captioned images of %s, vocabulary of %d words; "
          "%ld iterations of %d\n", m.name, ctx->info.name, ds.count, ds.source, vocab.count,
          iters, cfg.batch);
  {
    int b = cfg.batch, nfixed = 64;
    size_t isz = (size_t)m.image_c * m.image_h * m.image_w;
    /* the grid's rows: the fixed captions, or the data's first 8 different ones */
    const char *rows[8];
    int nrows = 0;
    for (int i = 0; !user && i < 8; i++) rows[nrows++] = grid_captions[i];
    for (int i = 0; user && i < ds.count && nrows < 8; i++) {
      int seen = 0;
      for (int r = 0; r < nrows; r++) seen |= !strcmp(rows[r], user[i]);
      if (!seen) rows[nrows++] = user[i];
    }
    nfixed = 8 * nrows;
    float *img = malloc(sizeof(float) * isz * (size_t)b);
    int32_t *text = malloc(sizeof(int32_t) * CLGAN_TEXT_SAMPLE_INTS * (size_t)b);
    int32_t *wrong = malloc(sizeof(int32_t) * CLGAN_TEXT_SAMPLE_INTS * (size_t)b);
    int32_t *fixed_text = malloc(sizeof(int32_t) * CLGAN_TEXT_SAMPLE_INTS * (size_t)nfixed);
    float *fixed_z = malloc(sizeof(float) * (size_t)nfixed * m.nz);
    float *gen = malloc(sizeof(float) * isz * (size_t)nfixed);
    int *perm = malloc(sizeof(int) * (size_t)ds.count), *idx = malloc(sizeof(int) * (size_t)b);
    int *var = malloc(sizeof(int) * (size_t)b);
    snprintf(path, sizeof path, "%s/metrics.csv", out);
    FILE *csv = iters > start ? fopen(path, "w") : NULL;
    if (!img || !text || !wrong || !fixed_text || !fixed_z || !gen || !perm || !idx || !var ||
        (iters > start && !csv)) {
      s = clgan_error(csv || iters <= start ? CLGAN_ERR_NOMEM : CLGAN_ERR_IO,
                      csv || iters <= start ? "out of host memory" : "cannot write %s", path);
    } else if (csv) {
      fprintf(csv, "iter,loss_d,loss_g,d_real,d_fake,d_wrong,kl,seconds\n%s", kept ? kept : "");
    }
    /* the grid: row r is caption r, column k noise k */
    float zcol[8 * 128];
    if (!s && m.nz > 128) s = clgan_error(CLGAN_ERR_INVALID_ARG, "latent > 128 in t2i grids");
    if (!s) clgan_fixed_noise(cfg.seed, 8, m.nz, zcol);
    for (int i = 0; !s && i < nfixed; i++) {
      s = caption_slots(&vocab, rows[i / 8], NULL, 0,
                        fixed_text + (size_t)i * CLGAN_TEXT_SAMPLE_INTS);
      memcpy(fixed_z + (size_t)i * m.nz, zcol + (size_t)(i % 8) * m.nz, sizeof(float) * m.nz);
    }
    int per_epoch = ds.count / b;
    double t0 = cli_now();
    for (long it = (long)start; it < iters && !s; it++) {
      long epoch = it / per_epoch, p = it % per_epoch;
      if (p == 0 || it == start) cli_epoch_order(perm, ds.count, cfg.seed, epoch);
      for (int i = 0; i < b; i++) {
        idx[i] = perm[p * b + i];
        var[i] = (int)((idx[i] + epoch) % CLGAN_CAPTION_VARIANTS); /* every phrasing in turn */
      }
      clgan_dataset_batch(&ds, idx, b, img);
      for (int i = 0; i < b && !s; i++) {
        char cap[CLGAN_CAPTION_MAX];
        if (user) snprintf(cap, sizeof cap, "%s", user[idx[i]]);
        else clgan_caption_format(ds.labels[idx[i]], &words[idx[i]], var[i], cap);
        s = caption_slots(&vocab, user ? user[idx[i]] : cap, NULL, 0,
                          text + (size_t)i * CLGAN_TEXT_SAMPLE_INTS);
      }
      /* the mismatched caption: the next sample in the batch of another class (user
       * captions: with another caption) */
      for (int i = 0; i < b; i++) {
        int j = (i + 1) % b;
        for (int k = 1; k < b; k++) {
          int jj = (i + k) % b;
          if (user ? strcmp(user[idx[jj]], user[idx[i]]) != 0
                   : ds.labels[idx[jj]] != ds.labels[idx[i]]) {
            j = jj;
            break;
          }
        }
        memcpy(wrong + (size_t)i * CLGAN_TEXT_SAMPLE_INTS, text + (size_t)j * CLGAN_TEXT_SAMPLE_INTS,
               sizeof(int32_t) * CLGAN_TEXT_SAMPLE_INTS);
      }
      if (s) break;
      int log_now = (it + 1) % log_every == 0 || it + 1 == iters;
      clgan_step_metrics mt;
      float dw = 0;
      s = clgan_gan_iteration_text(gan, img, text, wrong, log_now ? &mt : NULL, 0, &dw);
      if (s) break;
      if (log_now) {
        double kl = NAN, mn = 0, sec = cli_now() - t0;
        if (clgan_net_condaug_kl(gan->g, b, &kl, &mn)) kl = NAN, clgan_error_clear();
        fprintf(csv, "%ld,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.2f\n", it + 1, mt.loss_d, mt.loss_g,
                mt.d_real, mt.d_fake, dw, kl, sec);
        fflush(csv);
        fprintf(stderr, "iter %ld/%ld  D %.4f  G %.4f  D(x,t) %.3f  D(G,t) %.3f  D(x,wrong) %.3f  "
                "KL %.4f  %.1f s\n", it + 1, iters, mt.loss_d, mt.loss_g, mt.d_real, mt.d_fake, dw,
                kl, sec);
      }
      if ((it + 1) % sample_every == 0 || it + 1 == iters) {
        snprintf(path, sizeof path, "%s/samples.png", out);
        clgan_gan_use_ema(gan, !no_ema); /* with EMA the grid shows the average */
        s = clgan_generate_text(gan->g, fixed_z, fixed_text, nfixed, CLGAN_BN_EVAL, gen);
        clgan_gan_use_ema(gan, 0);
        if (!s) s = clgan_png_write_grid_labeled(path, gen, nfixed, m.image_c, m.image_h,
                                                 m.image_w, 8, 2, rows, nrows);
      }
      if (!s && ((it + 1) % ckpt_every == 0 || it + 1 == iters)) {
        clgan_train_state tst = {.epoch = epoch};
        snprintf(tst.data, sizeof tst.data, "captions:%.1000s", ds.source);
        t2i_run_format(&run, tst.run, sizeof tst.run);
        char *vl = NULL;
        s = clgan_vocab_join(&vocab, &vl);
        if (!s) snprintf(tst.vocab, sizeof tst.vocab, "%s", vl);
        free(vl);
        snprintf(path, sizeof path, "%s/latest.safetensors", out);
        if (!s) s = clgan_checkpoint_save(path, gan, &tst);
      }
    }
    if (csv) fclose(csv);
    if (!s && !iters) { /* --measure: the grid of the checkpoint's G too */
      snprintf(path, sizeof path, "%s/samples.png", out);
      s = clgan_generate_text(gan->g, fixed_z, fixed_text, nfixed, CLGAN_BN_EVAL, gen);
      if (!s) s = clgan_png_write_grid_labeled(path, gen, nfixed, m.image_c, m.image_h,
                                               m.image_w, 8, 2, rows, nrows);
    }
    if (!s && measure_count > 0 && !user) { /* the measures speak of Fashion-MNIST's classes */
      snprintf(path, sizeof path, "%s/measures.txt", out);
      FILE *f = fopen(path, "w");
      if (!f) s = clgan_error(CLGAN_ERR_IO, "cannot write %s", path);
      else {
        fprintf(f, "# %ld samples per caption, seed %ld, iterations %ld%s\n", measure_count, seed,
                iters, (gan->ema && !no_ema) || measure_ema ? ", the EMA of G's weights" : "");
        clgan_net *g = NULL;
        /* a net of its own sized for the measure's chunks */
        s = clgan_net_create(ctx, &m.g, 256, 0, "G (measure)", &g);
        float *p = NULL, *sts = NULL;
        if (!s) {
          p = malloc(sizeof(float) * (m.g.param_count ? m.g.param_count : 1));
          sts = malloc(sizeof(float) * (m.g.stat_count ? m.g.stat_count : 1));
          if (!p || !sts) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
        }
        clgan_gan_use_ema(gan, !no_ema); /* with EMA the measures are the average's */
        if (!s) s = clgan_net_get_params(gan->g, p, sts);
        clgan_gan_use_ema(gan, 0);
        if (!s) s = clgan_net_set_params(g, p, sts);
        if (!s) g->rng_seed = gan->g->rng_seed;
        if (!s) s = measure(ctx, g, &m, &vocab, &ds, cfg.seed, (int)measure_count, out, f);
        free(p), free(sts);
        clgan_net_free(g);
        fclose(f);
      }
    }
    free(img), free(text), free(wrong), free(fixed_text), free(fixed_z), free(gen), free(perm);
    free(idx), free(var);
    if (!s) fprintf(stderr, "samples: %s/samples.png (a row per caption)\n", out);
  }
done:
  rc = s ? cli_report(s) : CLI_OK;
done_rc:
  free(kept);
  clgan_safetensors_free(&rf);
  clgan_gan_free(gan);
  clgan_ctx_free(ctx);
  free(words);
  for (int i = 0; user && i < ds.count; i++) free(user[i]);
  free(user);
  clgan_vocab_free(&vocab);
  clgan_dataset_free(&ds);
  clgan_model_free(&m);
  return rc;
}

/* ---- clgan generate --text ---- */

static void help_generate(void) {
  printf("usage: clgan generate --checkpoint CKPT --text \"a dark ankle boot\" [--count N]\n"
         "       clgan generate --checkpoint CKPT --interpolate \"caption A\" \"caption B\" [--steps N]\n\n"
         "Images from a caption of a text-to-image checkpoint (clgan train --task captions).\n"
         "Words outside the checkpoint's vocabulary are refused, each named.\n\n"
         "  --count N       images (default 16)\n"
         "  --steps N       interpolation steps from A to B (default 8), each a row of --count\n"
         "                  noises (default 4 with --interpolate)\n"
         "  --seed N        noise seed (default 1)\n"
         "  --out DIR       folder (default generated): grid.png or interpolate.png, and with\n"
         "                  --images, img_NNNNN.png\n"
         "  --images        also one PNG per image\n"
         "  --no-ema        G's own weights though the run kept an EMA of them (train --ema)\n"
         "  --device D\n");
}

int cmd_generate_text(int argc, char **argv) {
  const char *ckpt_path = NULL, *out = "generated", *device = NULL, *text = NULL,
             *ia = NULL, *ib = NULL;
  long count = 16, seed = 1, steps = 8;
  int seen_count = 0, images = 0, no_ema = 0;
  /* --interpolate takes two values: take it out before the table parser sees the rest */
  char **rest = malloc(sizeof(char *) * (size_t)(argc + 1));
  int nrest = 0;
  if (!rest) return cli_report(clgan_error(CLGAN_ERR_NOMEM, "out of host memory"));
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--interpolate")) {
      if (i + 2 >= argc) {
        free(rest);
        return cli_usage_error("generate", "--interpolate takes two captions: --interpolate "
                               "\"a dark coat\" \"a light coat\"");
      }
      ia = argv[i + 1], ib = argv[i + 2];
      i += 2;
      continue;
    }
    rest[nrest++] = argv[i];
  }
  rest[nrest] = NULL;
  const cli_opt opts[] = {
      {"--checkpoint", OPT_STRING, &ckpt_path, 0, 0, NULL},
      {"--text", OPT_STRING, &text, 0, 0, NULL},
      {"--count", OPT_LONG, &count, 1, 100000, &seen_count},
      {"--steps", OPT_LONG, &steps, 2, 1000, NULL},
      {"--seed", OPT_LONG, &seed, 0, 2147483647, NULL},
      {"--out", OPT_STRING, &out, 0, 0, NULL},
      {"--images", OPT_FLAG, &images, 0, 0, NULL},
      {"--no-ema", OPT_FLAG, &no_ema, 0, 0, NULL},
      {"--device", OPT_STRING, &device, 0, 0, NULL},
  };
  int rc = cli_parse_opts("generate", nrest, rest, opts, (int)(sizeof opts / sizeof *opts));
  free(rest);
  if (rc < 0) {
    help_generate();
    return CLI_OK;
  }
  if (rc) return rc;
  if (!ckpt_path) return cli_usage_error("generate", "--checkpoint is required");
  if (!text == !ia)
    return cli_usage_error("generate", "give one of --text \"caption\" or --interpolate \"A\" \"B\"");
  if (ia && !seen_count) count = 4;

  clgan_st_file f;
  clgan_model m;
  clgan_status s = clgan_checkpoint_open(ckpt_path, &f, &m);
  if (s) return cli_report(s);
  clgan_vocab v = {0};
  clgan_ctx *ctx = NULL;
  clgan_net *g = NULL;
  float *z = NULL, *img = NULL;
  int32_t *slots = NULL;
  int n = (int)(ia ? count * steps : count);
  if (!clgan_model_takes_text(&m)) {
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "--text: the checkpoint '%s' holds '%s', which takes "
                    "no text", ckpt_path, m.name);
    goto done;
  }
  const char *vl = clgan_safetensors_meta(&f, "vocab");
  if (!vl || !*vl) {
    s = clgan_error(CLGAN_ERR_FORMAT, "checkpoint '%s': no vocabulary in its metadata", ckpt_path);
    goto done;
  }
  if ((s = clgan_vocab_parse(vl, &v))) goto done;
  /* the captions first: a bad word is refused before any work or output */
  slots = malloc(sizeof(int32_t) * (size_t)n * CLGAN_TEXT_SAMPLE_INTS);
  z = malloc(sizeof(float) * (size_t)n * (size_t)(m.nz ? m.nz : 1));
  if (!slots || !z) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory for %d images", n);
    goto done;
  }
  for (int i = 0; i < n && !s; i++) {
    int32_t *o = slots + (size_t)i * CLGAN_TEXT_SAMPLE_INTS;
    if (ia) /* row = step from A to B, column = noise */
      s = caption_slots(&v, ia, ib, (float)(i / count) / (float)(steps - 1), o);
    else
      s = caption_slots(&v, text, NULL, 0, o);
  }
  if (s) goto done;
  const char *ic = clgan_safetensors_meta(&f, "image_channels");
  if ((s = clgan_model_resolve(&m, ic ? atoi(ic) : 1))) goto done;
  size_t size = (size_t)m.image_c * m.image_h * m.image_w;
  img = malloc(sizeof(float) * (size_t)n * size);
  if (!img) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory for %d images", n);
    goto done;
  }
  /* with --interpolate every row uses the same count noises */
  clgan_philox_normal((size_t)(ia ? count : n) * m.nz, (unsigned long long)seed, 0, 0, 1, z);
  for (int i = (int)count; ia && i < n; i++)
    memcpy(z + (size_t)i * m.nz, z + (size_t)(i % count) * m.nz, sizeof(float) * m.nz);
  if ((s = clgan_ctx_create(device, 0, &ctx))) goto done;
  if ((s = clgan_net_create(ctx, &m.g, n < 64 ? n : 64, 0, "G", &g))) goto done;
  /* the EMA weights when the run kept them (train --ema), unless --no-ema */
  int ema = !no_ema && clgan_safetensors_meta(&f, "ema_decay") != NULL;
  if (ema) fprintf(stderr, "clgan generate: using the EMA of G's weights (--no-ema: G's own)\n");
  if ((s = clgan_checkpoint_restore_net(&f, ema ? "generator_ema" : "generator", g))) {
    clgan_error_prefix("checkpoint '%s': ", ckpt_path);
    goto done;
  }
  if ((s = clgan_generate_text(g, z, slots, n, CLGAN_BN_EVAL, img))) goto done;
  if ((s = clgan_mkdirs(out))) goto done;
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", out, ia ? "interpolate.png" : "grid.png");
  if (ia) {
    const char **names = calloc((size_t)steps, sizeof *names);
    if (!names) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    if (names) names[0] = ia, names[steps - 1] = ib;
    if (!s) s = clgan_png_write_grid_labeled(path, img, n, m.image_c, m.image_h, m.image_w,
                                             (int)count, 2, names, (int)steps);
    free(names);
  } else {
    s = clgan_png_write_grid(path, img, n, m.image_c, m.image_h, m.image_w, 0, 2);
  }
  if (!s) printf("%s\n", path);
  for (int i = 0; images && i < n && !s; i++) {
    snprintf(path, sizeof path, "%s/img_%05d.png", out, i);
    s = clgan_png_write_grid(path, img + (size_t)i * size, 1, m.image_c, m.image_h, m.image_w, 1, 0);
  }
done:
  rc = s ? cli_report(s) : CLI_OK;
  free(z), free(img), free(slots);
  clgan_vocab_free(&v);
  clgan_net_free(g);
  clgan_ctx_free(ctx);
  clgan_safetensors_free(&f);
  clgan_model_free(&m);
  return rc;
}
