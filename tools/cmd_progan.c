/* `clgan train` of a progressive model (ProGAN, Karras et al. 2018; issue 15): the model file's
 * `grow` stages (src/nets/progan.c) trained one after the other, each new stage faded in.
 * Schedule: S = ceil(stage_images / batch) stable iterations per stage, F = ceil(fade_images
 * / batch) fade iterations before every stage but the first, alpha = pos / F in a fade. Real
 * images are blended as G's output is: the image at the stage's resolution (pooled, then
 * upsampled nearest) mixed with the previous stage's by alpha. At each change of stage or
 * fade the model is expanded anew, the weights (and G's EMA) copied by name, the rest
 * initialised from the seed; Adam restarts. The step, the stage, alpha and the schedule are
 * a function of the iteration count, so resume is exact, also mid-fade.
 * docs/TRAINING.md "Progressive growing"; tests: tests/train/test_progan_cli.sh */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "clgan/clgan.h"
#include "clgan/penalty.h"
#include "train_out.h"

typedef struct pg_args {
  const char *model, *data, *out, *resume, *device, *g_loss;
  long batch, seed, iters, stage_images, fade_images, pad, max_images, log_every, sample_every,
      keep, ckpt_every;
  double lr, gp_lambda, drift, ema_half_life;
  int seen_iters, seen_stage, seen_fade, seen_pad, seen_batch, seen_seed, seen_lr, seen_loss,
      seen_gp, seen_drift, seen_ema, seen_model, seen_max_images;
} pg_args;

typedef struct sched {
  int n, res[CLGAN_MAX_STAGES];
  long long S, F; /* iterations per stable stage, per fade */
} sched;

static volatile sig_atomic_t pg_stop = 0;
static void pg_on_signal(int sig) {
  (void)sig;
  pg_stop = 1;
}

static long long sched_total(const sched *s) { return s->S + (s->n - 1) * (s->F + s->S); }

/* Where iteration `step` (0-based: the iterations done before it) falls. */
static void sched_at(const sched *s, long long step, int *stage, int *fading, float *alpha) {
  *fading = 0, *alpha = 1.0f;
  if (step < s->S) {
    *stage = 0;
    return;
  }
  long long r = step - s->S, k = r / (s->F + s->S), q = r % (s->F + s->S);
  if (1 + k >= s->n) {
    *stage = s->n - 1;
    return;
  }
  *stage = (int)(1 + k);
  if (q < s->F) *fading = 1, *alpha = (float)((double)q / (double)s->F);
}

/* The model file's text: a preset's or a file's (malloc'd). */
static char *model_text(const char *name) {
  const char *p = clgan_model_preset_text(name);
  if (p) return strdup(p);
  FILE *f = fopen(name, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  size_t len = 0, cap = 0, k;
  char chunk[4096];
  while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (len + k + 1 > cap) {
      cap = (len + k + 1) * 2;
      char *t = realloc(buf, cap);
      if (!t) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = t;
    }
    memcpy(buf + len, chunk, k);
    len += k;
  }
  fclose(f);
  if (!buf) buf = calloc(1, 1);
  else buf[len] = '\0';
  return buf;
}

static const char *arg_of(int argc, char **argv, const char *flag) {
  size_t n = strlen(flag);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], flag) && i + 1 < argc) return argv[i + 1];
    if (!strncmp(argv[i], flag, n) && argv[i][n] == '=') return argv[i] + n + 1;
  }
  return NULL;
}

static int has_flag(int argc, char **argv, const char *flag) {
  size_t n = strlen(flag);
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], flag) || (!strncmp(argv[i], flag, n) && argv[i][n] == '=')) return 1;
  return 0;
}

int progan_wanted(int argc, char **argv) {
  if (has_flag(argc, argv, "--stage-images") || has_flag(argc, argv, "--fade-images") ||
      has_flag(argc, argv, "--pad"))
    return 1;
  const char *model = arg_of(argc, argv, "--model"), *resume = arg_of(argc, argv, "--resume");
  if (model) {
    char *t = model_text(model);
    int yes = t && clgan_progan_is(t);
    free(t);
    return yes;
  }
  if (resume) {
    clgan_st_file f;
    if (clgan_safetensors_read(resume, &f)) return 0;
    int yes = clgan_safetensors_meta(&f, "progressive") != NULL;
    clgan_safetensors_free(&f);
    return yes;
  }
  return 0;
}

static void pg_help(void) {
  printf(
      "usage: clgan train --model progan32|FILE [--stage-images N] [--fade-images N] [--pad P]\n"
      "                   [--data PATH] [--batch N] [--iters N] [--seed S] [--out DIR] ...\n"
      "Trains a progressive model (a model file with a 'grow' line) stage by stage, fading each\n"
      "new stage in (docs/TRAINING.md, \"Progressive growing\").\n"
      "  --stage-images N  images per stable stage (7680: 480 iterations at batch 16)\n"
      "  --fade-images N   images per fade-in (7680; 3360 iterations in all for 4 stages)\n"
      "  --pad P           pad the data by P pixels each side (-1 background) to the model's\n"
      "                    size: Fashion-MNIST's 28x28 -> 32x32 with 2 (the default)\n"
      "  --iters N         stop after N iterations (default: the whole schedule)\n"
      "  --batch N (16), --lr LR (1e-3, betas 0 and 0.99), --g-loss L (the model's: wgan-gp),\n"
      "  --gp-lambda L (10), --drift E (1e-3), --ema-half-life IMAGES (1000; 0: no EMA),\n"
      "  --seed S (1), --data PATH, --max-images N, --out DIR (out), --resume CKPT,\n"
      "  --log-every N (10), --sample-every N (200), --checkpoint-every N (500), --keep K (3), --device D\n"
      "Writes samples/, stage_R.png and stage_R.safetensors at the end of each stage, metrics.csv,\n"
      "plot.png (with a 'stage' panel: the stage, rising through each fade), checkpoints.\n");
}

/* Returns 0, CLI_USAGE, or -1 for --help. */
static int pg_parse(int argc, char **argv, pg_args *a) {
  *a = (pg_args){.model = "progan32", .out = "out", .batch = 16, .seed = 1,
                 .stage_images = 7680, .fade_images = 7680, .pad = 2, .log_every = 10,
                 .sample_every = 200, .keep = 3, .ckpt_every = 500, .lr = 1e-3,
                 .gp_lambda = 10, .drift = 1e-3, .ema_half_life = 1000};
  static const char *refused[][2] = {
      {"--epochs", "a progressive run is measured in images per stage: --stage-images, "
                   "--fade-images (and --iters to stop early)"},
      {"--distributed", "progressive training runs on one device"},
      {"--diffaug", "DiffAugment is not applied by the progressive trainer"},
      {"--eval-every", "the progressive trainer has no FD during training: evaluate "
                       "stage_R.safetensors with clgan eval"},
      {"--r1", "the progressive trainer uses WGAN-GP's penalty"},
  };
  for (int i = 1; i < argc; i++) {
    const char *f = argv[i];
    if (!strcmp(f, "--help") || !strcmp(f, "-h")) return -1;
    char flag[64];
    snprintf(flag, sizeof flag, "%s", f);
    char *eq = strchr(flag, '=');
    const char *val = NULL;
    if (eq) *eq = '\0', val = f + (eq - flag) + 1;
    for (size_t k = 0; k < sizeof refused / sizeof *refused; k++)
      if (!strcmp(flag, refused[k][0]))
        return cli_usage_error("train", "%s does not apply to a progressive model: %s", flag,
                               refused[k][1]);
    if (!strcmp(flag, "--on-nan")) {
      const char *v = val ? val : (i + 1 < argc ? argv[i + 1] : "");
      if (strcmp(v, "stop"))
        return cli_usage_error("train", "--on-nan %s does not apply to a progressive model: "
                               "it stops on a non-finite loss (--on-nan stop)", v);
      if (!val) i++;
      continue;
    }
    if (!val) {
      if (i + 1 >= argc) return cli_usage_error("train", "%s needs a value", flag);
      val = argv[++i];
    }
    const char **sp = NULL;
    long *lp = NULL, lo = 0, hi = 0;
    double *dp = NULL, dlo = 0, dhi = 0;
    int *seen = NULL;
    if (!strcmp(flag, "--model")) sp = &a->model, seen = &a->seen_model;
    else if (!strcmp(flag, "--data")) sp = &a->data;
    else if (!strcmp(flag, "--out")) sp = &a->out;
    else if (!strcmp(flag, "--resume")) sp = &a->resume;
    else if (!strcmp(flag, "--device")) sp = &a->device;
    else if (!strcmp(flag, "--g-loss")) sp = &a->g_loss, seen = &a->seen_loss;
    else if (!strcmp(flag, "--batch")) lp = &a->batch, lo = 1, hi = 4096, seen = &a->seen_batch;
    else if (!strcmp(flag, "--seed")) lp = &a->seed, lo = 0, hi = 2147483647, seen = &a->seen_seed;
    else if (!strcmp(flag, "--iters")) lp = &a->iters, lo = 1, hi = 2147483647, seen = &a->seen_iters;
    else if (!strcmp(flag, "--stage-images"))
      lp = &a->stage_images, lo = 1, hi = 2147483647, seen = &a->seen_stage;
    else if (!strcmp(flag, "--fade-images"))
      lp = &a->fade_images, lo = 0, hi = 2147483647, seen = &a->seen_fade;
    else if (!strcmp(flag, "--pad")) lp = &a->pad, lo = 0, hi = 1024, seen = &a->seen_pad;
    else if (!strcmp(flag, "--max-images"))
      lp = &a->max_images, lo = 0, hi = 2147483647, seen = &a->seen_max_images;
    else if (!strcmp(flag, "--log-every")) lp = &a->log_every, lo = 1, hi = 2147483647;
    else if (!strcmp(flag, "--sample-every")) lp = &a->sample_every, lo = 1, hi = 2147483647;
    else if (!strcmp(flag, "--checkpoint-every")) lp = &a->ckpt_every, lo = 1, hi = 2147483647;
    else if (!strcmp(flag, "--keep")) lp = &a->keep, lo = 1, hi = 1000;
    else if (!strcmp(flag, "--lr")) dp = &a->lr, dlo = 1e-8, dhi = 1, seen = &a->seen_lr;
    else if (!strcmp(flag, "--gp-lambda")) dp = &a->gp_lambda, dlo = 0, dhi = 1e6, seen = &a->seen_gp;
    else if (!strcmp(flag, "--drift")) dp = &a->drift, dlo = 0, dhi = 1e3, seen = &a->seen_drift;
    else if (!strcmp(flag, "--ema-half-life"))
      dp = &a->ema_half_life, dlo = 0, dhi = 1e12, seen = &a->seen_ema;
    else
      return cli_usage_error("train", "unknown option '%s' for a progressive model (--help "
                             "with --model progan32 lists them)", flag);
    if (sp) *sp = val;
    if (lp && cli_parse_long("train", flag, val, lo, hi, lp)) return CLI_USAGE;
    if (dp && cli_parse_double("train", flag, val, dlo, dhi, dp)) return CLI_USAGE;
    if (seen) *seen = 1;
  }
  return 0;
}

/* "key value" line of a metadata text, or NULL. */
static const char *meta_line(const char *text, const char *key, char *out, size_t cap) {
  size_t n = strlen(key);
  for (const char *p = text; p && *p;) {
    if (!strncmp(p, "text\n", 5)) return NULL;
    if (!strncmp(p, key, n) && p[n] == ' ') {
      const char *e = strchr(p, '\n');
      size_t len = e ? (size_t)(e - p - n - 1) : strlen(p + n + 1);
      if (len >= cap) len = cap - 1;
      memcpy(out, p + n + 1, len);
      out[len] = '\0';
      return out;
    }
    p = strchr(p, '\n');
    if (p) p++;
  }
  return NULL;
}

/* The real batch as the stage sees it: the padded images pooled to the stage's resolution
 * and upsampled back (nearest), and while fading, mixed with the previous stage's by alpha. */
static void blend_reals(float *x, int n, int c, int H, int W, int R, int Rp, float alpha,
                        float *tmp) {
  int fs[2] = {H / R, Rp ? H / Rp : 0};
  size_t img = (size_t)c * H * W;
  for (int v = 0; v < (Rp ? 2 : 1); v++) {
    int f = fs[v];
    float *dst = v ? tmp : x;
    if (v) memcpy(tmp, x, sizeof(float) * (size_t)n * img); /* x was already pooled to R */
    if (f <= 1) continue;
    for (size_t s = 0; s < (size_t)n * c; s++) {
      float *p = dst + s * (size_t)H * W;
      for (int by = 0; by < H; by += f)
        for (int bx = 0; bx < W; bx += f) {
          double m = 0;
          for (int y = 0; y < f; y++)
            for (int xx = 0; xx < f; xx++) m += p[(by + y) * W + bx + xx];
          float mv = (float)(m / (f * f));
          for (int y = 0; y < f; y++)
            for (int xx = 0; xx < f; xx++) p[(by + y) * W + bx + xx] = mv;
        }
    }
  }
  if (Rp)
    for (size_t i = 0; i < (size_t)n * img; i++) x[i] = (1.0f - alpha) * tmp[i] + alpha * x[i];
}

/* The trainer of one (stage, fade): the model expanded at alpha and its GAN. */
typedef struct pg_stage {
  clgan_model *m; /* on the heap: the GAN and its nets point into it */
  clgan_gan *gan;
  int stage, fading;
} pg_stage;

static void pg_stage_free(pg_stage *p) {
  clgan_gan_free(p->gan);
  if (p->m) clgan_model_free(p->m);
  free(p->m);
  memset(p, 0, sizeof *p);
  p->stage = -1;
}

static clgan_status pg_expand(const char *text, int stage, int fading, float alpha, int channels,
                              clgan_model *m) {
  char *t = NULL;
  clgan_status s = clgan_progan_expand(text, "progressive model", stage, fading, alpha, &t);
  if (!s) s = clgan_model_parse(t, "progressive model", m);
  free(t);
  if (!s) s = clgan_model_resolve(m, channels);
  return s;
}

/* Host copies of a stage's G, D and EMA parameters (and statistics). */
typedef struct pg_host {
  float *gp, *gs, *dp, *ds, *ep;
} pg_host;

static void pg_host_free(pg_host *h) {
  free(h->gp), free(h->gs), free(h->dp), free(h->ds), free(h->ep);
  memset(h, 0, sizeof *h);
}

static clgan_status pg_download(pg_stage *p, pg_host *h) {
  clgan_gan *g = p->gan;
  h->gp = malloc(sizeof(float) * (p->m->g.param_count + 1));
  h->gs = malloc(sizeof(float) * (p->m->g.stat_count + 1));
  h->dp = malloc(sizeof(float) * (p->m->d.param_count + 1));
  h->ds = malloc(sizeof(float) * (p->m->d.stat_count + 1));
  h->ep = g->ema ? malloc(sizeof(float) * (p->m->g.param_count + 1)) : NULL;
  if (!h->gp || !h->gs || !h->dp || !h->ds || (g->ema && !h->ep))
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  clgan_status s = clgan_net_get_params(g->g, h->gp, h->gs);
  if (!s) s = clgan_net_get_params(g->d, h->dp, h->ds);
  if (!s && g->ema)
    s = clgan_buffer_read(g->ctx, g->ema, 0, sizeof(float) * p->m->g.param_count, h->ep);
  return s;
}

/* Moves to (stage, fading): a new model and GAN, the old weights copied by name. */
static clgan_status pg_grow(clgan_ctx *ctx, const char *text, int channels,
                            const clgan_train_config *cfg, long long step, int stage, int fading,
                            float alpha, pg_stage *cur, int fresh) {
  pg_host old = {0};
  clgan_status s = CLGAN_OK;
  if (cur->gan && !fresh) s = pg_download(cur, &old);
  pg_stage nx = {0};
  nx.stage = stage, nx.fading = fading;
  if (!s && !(nx.m = calloc(1, sizeof *nx.m))) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s) s = pg_expand(text, stage, fading, alpha, channels, nx.m);
  if (!s) s = clgan_gan_create(ctx, nx.m, cfg, &nx.gan);
  if (!s) s = clgan_gan_init_params(nx.gan);
  if (!s && old.gp) {
    pg_host h = {0};
    s = pg_download(&nx, &h);
    if (!s) {
      clgan_progan_copy_params(&cur->m->g, old.gp, old.gs, &nx.m->g, h.gp, h.gs);
      clgan_progan_copy_params(&cur->m->d, old.dp, old.ds, &nx.m->d, h.dp, h.ds);
      if (h.ep && old.ep) {
        /* the EMA of a new layer starts as its weights */
        memcpy(h.ep, h.gp, sizeof(float) * nx.m->g.param_count);
        clgan_progan_copy_params(&cur->m->g, old.ep, NULL, &nx.m->g, h.ep, NULL);
      }
      s = clgan_net_set_params(nx.gan->g, h.gp, h.gs);
      if (!s) s = clgan_net_set_params(nx.gan->d, h.dp, h.ds);
      if (!s && h.ep)
        s = clgan_buffer_write(ctx, nx.gan->ema, 0, sizeof(float) * nx.m->g.param_count, h.ep);
    }
    pg_host_free(&h);
  }
  pg_host_free(&old);
  if (s) {
    pg_stage_free(&nx);
    return s;
  }
  nx.gan->step = step;
  pg_stage_free(cur);
  *cur = nx;
  return CLGAN_OK;
}

static clgan_status pg_samples(const char *path, pg_stage *p, const float *z, int n) {
  const clgan_model *m = p->m;
  size_t size = (size_t)m->image_c * m->image_h * m->image_w;
  float *img = malloc(sizeof(float) * (size_t)n * size);
  if (!img) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  clgan_gan_use_ema(p->gan, 1);
  clgan_status s = clgan_generate(p->gan->g, z, n, CLGAN_BN_EVAL, img);
  clgan_gan_use_ema(p->gan, 0);
  if (!s) s = clgan_png_write_grid(path, img, n, m->image_c, m->image_h, m->image_w, 8, 2);
  free(img);
  return s;
}

/* The checkpoint's metadata: the schedule and where the run is, then the model file. */
static void pg_state(clgan_train_state *st, const sched *sc, const pg_args *a, long long step,
                     const char *text) {
  int stage, fading;
  float alpha;
  sched_at(sc, step, &stage, &fading, &alpha);
  int n = snprintf(st->progressive, sizeof st->progressive,
                   "stage %d\nresolution %d\nfading %d\nalpha %.9g\nstep %lld\nstage_iters %lld\n"
                   "fade_iters %lld\npad %ld\ntext\n",
                   stage, sc->res[stage], fading, alpha, step, sc->S, sc->F, a->pad);
  if (n > 0 && (size_t)n < sizeof st->progressive)
    snprintf(st->progressive + n, sizeof st->progressive - (size_t)n, "%s", text);
  snprintf(st->run, sizeof st->run, "stage_images %ld\nfade_images %ld\npad %ld\n"
           "ema_half_life %.9g\nmax_images %ld\n", a->stage_images, a->fade_images, a->pad,
           a->ema_half_life, a->max_images);
}

/* A checkpoint of the current state, its model text at the current alpha. */
static clgan_status pg_save(const char *dir, pg_stage *p, clgan_train_state *st, const sched *sc,
                            const pg_args *a, const char *text, const char *name, int keep,
                            char *ckpt_path, size_t cap) {
  int stage, fading;
  float alpha;
  sched_at(sc, p->gan->step, &stage, &fading, &alpha);
  if (stage != p->stage || fading != p->fading) /* the end of a phase: the model trained */
    stage = p->stage, fading = p->fading, alpha = 1.0f;
  char *t = NULL;
  clgan_status s = clgan_progan_expand(text, "progressive model", stage, fading, alpha, &t);
  if (s) return s;
  char *keep_text = p->m->text;
  p->m->text = t;
  pg_state(st, sc, a, p->gan->step, text);
  if (name) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    s = clgan_checkpoint_save(path, p->gan, st);
  } else {
    s = out_checkpoint(dir, p->gan, st, keep, ckpt_path, cap);
  }
  p->m->text = keep_text;
  free(t);
  return s;
}

static clgan_status pg_plot(const char *dir, const metrics_history *h, const sched *sc) {
  int n = h->n;
  if (n < 1) return CLGAN_OK;
  float *x = malloc(sizeof(float) * (size_t)n * 8);
  if (!x) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  float *ld = x + n, *lg = ld + n, *dr = lg + n, *df = dr + n, *nd = df + n, *ng = nd + n,
        *st = ng + n;
  for (int i = 0; i < n; i++) {
    const metrics_row *r = &h->rows[i];
    int stage, fading;
    float alpha;
    sched_at(sc, r->step - 1, &stage, &fading, &alpha);
    x[i] = (float)r->step, ld[i] = r->loss_d, lg[i] = r->loss_g, dr[i] = r->d_real;
    df[i] = r->d_fake, nd[i] = r->grad_norm_d, ng[i] = r->grad_norm_g;
    st[i] = (float)stage - (fading ? 1.0f - alpha : 0.0f);
  }
  clgan_plot_series losses[] = {{"loss_D", ld}, {"loss_G", lg}};
  clgan_plot_series douts[] = {{"D(x)", dr}, {"D(G(z))", df}};
  clgan_plot_series norms[] = {{"|grad D|", nd}, {"|grad G|", ng}};
  clgan_plot_series stages[] = {{"stage (rises through each fade-in)", st}};
  clgan_plot_panel panels[] = {{"losses", "loss", losses, 2}, {"D outputs", "D", douts, 2},
                               {"gradient norms", "L2 norm", norms, 2},
                               {"stage boundaries", "stage", stages, 1}};
  char path[4200];
  snprintf(path, sizeof path, "%s/plot.png", dir);
  clgan_status s = clgan_plot_write(path, "iteration", x, n, panels, 4);
  free(x);
  return s;
}

int cmd_train_progan(int argc, char **argv) {
  pg_args a;
  int rc = pg_parse(argc, argv, &a);
  if (rc < 0) {
    pg_help();
    return CLI_OK;
  }
  if (rc) return rc;
  /* Everything that can be refused is refused before any output is touched. */
  clgan_status s = CLGAN_OK;
  char *text = NULL;
  clgan_st_file ckpt;
  int have_ckpt = 0;
  clgan_train_state state;
  memset(&state, 0, sizeof state);
  clgan_train_config cfg;
  clgan_train_config_default(&cfg);
  long long start_step = 0;
  int channels = 0;
  pg_stage cur = {0};
  cur.stage = -1;
  if (a.resume) {
    clgan_model cm;
    if ((s = clgan_checkpoint_open(a.resume, &ckpt, &cm))) return cli_report(s);
    clgan_model_free(&cm);
    have_ckpt = 1;
    if ((s = clgan_checkpoint_config(&ckpt, &cfg, &start_step, &state))) goto fail_early;
    const char *t = strstr(state.progressive, "\ntext\n");
    if (!t) {
      s = clgan_error(CLGAN_ERR_INVALID_ARG, "checkpoint '%s' is not from a progressive run "
                      "(no 'progressive' metadata); resume it without --stage-images, "
                      "--fade-images and --pad", a.resume);
      goto fail_early;
    }
    if (a.seen_model || a.seen_batch || a.seen_lr || a.seen_seed || a.seen_loss ||
        a.seen_stage || a.seen_fade || a.seen_pad || a.seen_gp || a.seen_drift || a.seen_ema) {
      s = clgan_error(CLGAN_ERR_INVALID_ARG, "--resume continues the checkpoint's run with its "
                      "own model, schedule and settings: give only --iters, --data, --out and "
                      "the logging options");
      goto fail_early;
    }
    text = strdup(t + 6);
    char v[64];
    a.batch = cfg.batch;
    a.seed = (long)cfg.seed;
    a.stage_images = meta_line(state.run, "stage_images", v, sizeof v) ? atol(v) : 0;
    a.fade_images = meta_line(state.run, "fade_images", v, sizeof v) ? atol(v) : 0;
    a.pad = meta_line(state.run, "pad", v, sizeof v) ? atol(v) : 0;
    a.ema_half_life = meta_line(state.run, "ema_half_life", v, sizeof v) ? atof(v) : 0;
    if (!a.seen_max_images) /* the same data as the run's, unless asked otherwise */
      a.max_images = meta_line(state.run, "max_images", v, sizeof v) ? atol(v) : 0;
    const char *ic = clgan_safetensors_meta(&ckpt, "image_channels");
    channels = ic ? atoi(ic) : 0;
  } else {
    text = model_text(a.model);
    if (!text) {
      s = clgan_error(CLGAN_ERR_INVALID_ARG, "unknown model '%s': not a preset and not a "
                      "readable file", a.model);
      goto fail_early;
    }
  }
  if (!text) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    goto fail_early;
  }
  if (!clgan_progan_is(text)) {
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "--stage-images, --fade-images and --pad are for "
                    "progressive models (a model file with a 'grow' line, e.g. progan32); "
                    "'%s' is not one", a.model);
    goto fail_early;
  }
  sched sc = {0};
  if ((s = clgan_progan_stages(text, a.model, sc.res, &sc.n))) goto fail_early;
  sc.S = (a.stage_images + a.batch - 1) / a.batch;
  sc.F = (a.fade_images + a.batch - 1) / a.batch;
  {
    clgan_model fin; /* the final stage: shapes, labels, the loss, the penalty */
    if ((s = pg_expand(text, sc.n - 1, 0, 1.0f, channels ? channels : 1, &fin))) goto fail_early;
    int bad = fin.classes > 0 || clgan_model_takes_cond(&fin) || clgan_model_takes_text(&fin);
    int H = fin.image_h, W = fin.image_w, loss = fin.loss;
    if (!channels) channels = fin.image_c ? fin.image_c : 0;
    clgan_model_free(&fin);
    if (bad) {
      s = clgan_error(CLGAN_ERR_INVALID_ARG, "a progressive model takes z and the image only: "
                      "no labels, cond or text");
      goto fail_early;
    }
    if (H - 2 * a.pad < 4 || W - 2 * a.pad < 4) {
      s = clgan_error(CLGAN_ERR_INVALID_ARG, "--pad %ld is too big for %dx%d images (the data "
                      "would be %ldx%ld)", a.pad, H, W, H - 2 * a.pad, W - 2 * a.pad);
      goto fail_early;
    }
    if (!have_ckpt) {
      cfg.batch = (int)a.batch;
      cfg.lr_g = cfg.lr_d = (float)a.lr;
      cfg.beta1 = 0.0f, cfg.beta2 = 0.99f;
      cfg.seed = (unsigned long long)a.seed;
      cfg.loss = loss >= 0 ? (clgan_gan_loss)loss : CLGAN_GLOSS_WGAN_GP;
      if (a.g_loss && (clgan_gan_loss_parse(a.g_loss, &cfg.loss) || cfg.loss == CLGAN_GLOSS_RAGAN)) {
        s = clgan_error(CLGAN_ERR_INVALID_ARG, "--g-loss must be ns, minimax, lsgan, hinge or "
                        "wgan-gp, got '%s'", a.g_loss);
        goto fail_early;
      }
      cfg.gp_lambda = (float)a.gp_lambda, cfg.drift_eps = (float)a.drift;
      /* EMA of G with a half-life of ema_half_life images */
      cfg.ema_decay = a.ema_half_life > 0 ? (float)pow(0.5, (double)a.batch / a.ema_half_life) : 0.0f;
      cfg.ema_start = 0;
    }
  }
  long long total = sched_total(&sc);
  if (a.seen_iters && a.iters < total) total = a.iters;
  if (start_step > total) {
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "the checkpoint is at iteration %lld, past the "
                    "%lld asked for", start_step, total);
    goto fail_early;
  }
  if (!channels) {
    const char *d = a.data ? a.data : (state.data[0] ? state.data : NULL);
    channels = !d || strstr(d, "ubyte") ? 1 : 3;
  }
  {
    clgan_model fin;
    if ((s = pg_expand(text, sc.n - 1, 0, 1.0f, channels, &fin))) goto fail_early;
    s = clgan_gan_penalty_check(&fin, &cfg);
    clgan_model_free(&fin);
    if (s) goto fail_early;
  }
  clgan_model shape; /* for sizes */
  if ((s = pg_expand(text, 0, 0, 1.0f, channels, &shape))) goto fail_early;
  int C = shape.image_c, H = shape.image_h, W = shape.image_w, nz = shape.nz;
  clgan_model_free(&shape);
  int dh = H - 2 * (int)a.pad, dw = W - 2 * (int)a.pad;
  clgan_dataset ds;
  char data_buf[sizeof state.data];
  snprintf(data_buf, sizeof data_buf, "%s", state.data);
  const char *data_path = a.data ? a.data : (have_ckpt && data_buf[0] ? data_buf : NULL);
  if ((s = clgan_dataset_load(data_path, C, dh, dw, (int)a.max_images, &ds))) goto fail_early;
  if (ds.count < cfg.batch) {
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "the data has %d images, fewer than one batch of %d",
                    ds.count, cfg.batch);
    clgan_dataset_free(&ds);
    goto fail_early;
  }
  if ((s = out_prepare(a.out))) {
    clgan_dataset_free(&ds);
    goto fail_early;
  }
  char dir2[4200];
  snprintf(dir2, sizeof dir2, "%s/samples", a.out);
  clgan_ctx *ctx = NULL;
  if ((s = clgan_ctx_create(a.device, 0, &ctx))) {
    clgan_dataset_free(&ds);
    goto fail_early;
  }
  snprintf(state.data, sizeof state.data, "%s", data_path ? data_path : CLGAN_DEFAULT_DATA);
  fprintf(stderr, "clgan train: progressive %s on '%s', data %s as %dx%d padded by %ld to "
          "%dx%dx%d, batch %d, g-loss %s; stages", a.model, ctx->info.name, ds.source, dh, dw,
          a.pad, C, H, W, cfg.batch, clgan_gan_loss_name(cfg.loss));
  for (int i = 0; i < sc.n; i++) fprintf(stderr, " %d", sc.res[i]);
  fprintf(stderr, ", %lld iterations a stage, %lld a fade, %lld in all%s\n", sc.S, sc.F,
          sched_total(&sc), total < sched_total(&sc) ? " (stopping early: --iters)" : "");

  size_t img = (size_t)C * H * W, dimg = (size_t)C * dh * dw;
  int nfixed = 64;
  float *fixed_z = malloc(sizeof(float) * (size_t)nfixed * nz);
  float *batch = malloc(sizeof(float) * (size_t)cfg.batch * img);
  float *raw = malloc(sizeof(float) * (size_t)cfg.batch * dimg);
  float *tmp = malloc(sizeof(float) * (size_t)cfg.batch * img);
  int *perm = malloc(sizeof(int) * (size_t)ds.count);
  metrics_history hist = {0};
  char ckpt_path[4200] = "";
  long long ipe = ds.count / cfg.batch;
  if (!fixed_z || !batch || !raw || !tmp || !perm) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    goto done;
  }
  clgan_fixed_noise(cfg.seed, nfixed, nz, fixed_z);
  {
    int stage, fading;
    float alpha;
    sched_at(&sc, start_step, &stage, &fading, &alpha);
    if ((s = pg_grow(ctx, text, C, &cfg, start_step, stage, fading, alpha, &cur, 1))) goto done;
    if (have_ckpt) {
      if ((s = clgan_checkpoint_restore(&ckpt, cur.gan))) {
        clgan_error_prefix("checkpoint '%s': ", a.resume);
        goto done;
      }
      if ((s = out_history_load(a.out, start_step, &hist))) goto done;
      fprintf(stderr, "resumed from '%s' at iteration %lld (stage %d, %s, alpha %g)\n",
              a.resume, start_step, sc.res[stage], fading ? "fading in" : "stable", alpha);
    }
  }
  int fresh_log = !have_ckpt;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = pg_on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  long long cur_epoch = -1;
  double t0 = cli_now();
  clgan_step_metrics m = {0};
  while (cur.gan->step < total && !pg_stop) {
    long long step = cur.gan->step;
    int stage, fading;
    float alpha;
    sched_at(&sc, step, &stage, &fading, &alpha);
    if (stage != cur.stage || fading != cur.fading) {
      /* the end of a stage's stable phase: its grid and checkpoint */
      if (!cur.fading && stage != cur.stage) {
        char name[64], path[4200];
        snprintf(path, sizeof path, "%s/stage_%d.png", a.out, sc.res[cur.stage]);
        if ((s = pg_samples(path, &cur, fixed_z, nfixed))) break;
        snprintf(name, sizeof name, "stage_%d.safetensors", sc.res[cur.stage]);
        if ((s = pg_save(a.out, &cur, &state, &sc, &a, text, name, 0, NULL, 0))) break;
      }
      if ((s = pg_grow(ctx, text, C, &cfg, step, stage, fading, alpha, &cur, 0))) break;
      fprintf(stderr, "iteration %lld: stage %d, %s\n", step, sc.res[stage],
              fading ? "fading in" : "stable");
    }
    clgan_model_set_fade(&cur.m->g, alpha);
    clgan_model_set_fade(&cur.m->d, alpha);
    long long e = step / ipe, p = step % ipe;
    if (e != cur_epoch) {
      cli_epoch_order(perm, ds.count, cfg.seed, e);
      cur_epoch = e;
    }
    clgan_dataset_batch(&ds, perm + p * cfg.batch, cfg.batch, raw);
    /* pad with the background (-1), then blend as the stage sees it */
    for (size_t i = 0; i < (size_t)cfg.batch * img; i++) batch[i] = -1.0f;
    for (int b = 0; b < cfg.batch * C; b++)
      for (int y = 0; y < dh; y++)
        memcpy(batch + (size_t)b * H * W + (size_t)(y + a.pad) * W + a.pad,
               raw + (size_t)b * dh * dw + (size_t)y * dw, sizeof(float) * (size_t)dw);
    blend_reals(batch, cfg.batch, C, H, W, sc.res[stage], fading ? sc.res[stage - 1] : 0, alpha,
                tmp);
    int log_now = (step + 1) % a.log_every == 0 || step + 1 == total;
    if ((s = clgan_gan_iteration(cur.gan, batch, &m, log_now))) break;
    if (log_now) {
      metrics_row r = {cur.gan->step, e, m.loss_d, m.loss_g, m.d_real, m.d_fake,
                       m.d_fake_after, m.grad_norm_d, m.grad_norm_g, NAN,
                       (float)((double)(cur.gan->step - start_step) * cfg.batch /
                               (cli_now() - t0 + 1e-9)), NAN};
      if ((s = out_metrics_append(a.out, &r, fresh_log))) break;
      fresh_log = 0;
      if (out_history_push(&hist, &r)) {
        s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
        break;
      }
      fprintf(stderr, "iteration %lld/%lld (stage %d%s, alpha %.3f): loss_D %.4f loss_G %.4f\n",
              cur.gan->step, total, sc.res[stage], fading ? " fading" : "", alpha, m.loss_d,
              m.loss_g);
    }
    if (cur.gan->step % a.sample_every == 0) {
      char path[4200];
      snprintf(path, sizeof path, "%s/samples/iter_%08lld.png", a.out, cur.gan->step);
      if ((s = pg_samples(path, &cur, fixed_z, nfixed))) break;
      if ((s = pg_plot(a.out, &hist, &sc))) break;
    }
    if (cur.gan->step % a.ckpt_every == 0 && cur.gan->step != total &&
        (s = pg_save(a.out, &cur, &state, &sc, &a, text, NULL, (int)a.keep, ckpt_path,
                     sizeof ckpt_path)))
      break;
  }
  if (!s && cur.gan->step > start_step) {
    s = pg_save(a.out, &cur, &state, &sc, &a, text, NULL, (int)a.keep, ckpt_path,
                sizeof ckpt_path);
    char path[4200];
    snprintf(path, sizeof path, "%s/samples.png", a.out);
    if (!s) s = pg_samples(path, &cur, fixed_z, nfixed);
    int nst, nfd;
    float nal;
    sched_at(&sc, cur.gan->step, &nst, &nfd, &nal);
    /* the end of a stage's stable phase (the last stage's, or a run stopped there): its
     * own outputs */
    if (!s && !cur.fading && (cur.gan->step == sched_total(&sc) || nst != cur.stage)) {
      char name[64];
      snprintf(path, sizeof path, "%s/stage_%d.png", a.out, sc.res[cur.stage]);
      s = pg_samples(path, &cur, fixed_z, nfixed);
      snprintf(name, sizeof name, "stage_%d.safetensors", sc.res[cur.stage]);
      if (!s) s = pg_save(a.out, &cur, &state, &sc, &a, text, name, 0, NULL, 0);
    }
    if (!s) s = pg_plot(a.out, &hist, &sc);
    if (!s)
      fprintf(stderr, "%s after %lld iterations (%.1f s). Samples: %s/samples.png, plot: "
              "%s/plot.png, checkpoint: %s\n", pg_stop ? "stopped" : "done", cur.gan->step,
              cli_now() - t0, a.out, a.out, ckpt_path);
  } else if (s) {
    clgan_error_prefix("stopped; no checkpoint written after the failure (the last good one: "
                       "%s): ", *ckpt_path ? ckpt_path : a.resume ? a.resume : "none");
  }
  if (!s && pg_stop)
    s = clgan_error(CLGAN_ERR_INTERRUPTED, "interrupted; the checkpoint above resumes the run");
done:
  rc = s ? cli_report(s) : CLI_OK;
  out_history_free(&hist);
  free(fixed_z), free(batch), free(raw), free(tmp), free(perm);
  pg_stage_free(&cur);
  clgan_ctx_free(ctx);
  clgan_dataset_free(&ds);
  if (have_ckpt) clgan_safetensors_free(&ckpt);
  free(text);
  return rc;
fail_early:
  rc = cli_report(s);
  if (have_ckpt) clgan_safetensors_free(&ckpt);
  free(text);
  return rc;
}
