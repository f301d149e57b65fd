/* Flags given with --resume against the checkpoint's own settings (train_resume.h). */
#include "train_resume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/augment.h"
#include "cli.h"

/* "--batch 32 conflicts with the checkpoint's batch 16: ..."; `same` is the value to give
 * to resume (NULL: only dropping the flag does) */
static int conflict(const char *flag, const char *given, const char *what, const char *stored,
                    const char *same) {
  char alt[128] = "";
  if (same) snprintf(alt, sizeof alt, " (or give %s %s)", flag, same);
  return cli_usage_error("train", "%s %s conflicts with the checkpoint's %s %s (--resume "
                         "continues that run with its own settings). To resume it, drop %s%s; "
                         "to start a new run with %s %s, leave out --resume and use another "
                         "--out", flag, given, what, stored, flag, alt, flag, given);
}

/* The shortest %g form that reads back as v (2e-4 stored as a float prints 0.0002). */
static void fmt_float(char *buf, size_t cap, float v) {
  for (int p = 6; p <= 9; p++) {
    snprintf(buf, cap, "%.*g", p, (double)v);
    if (strtof(buf, NULL) == v) return;
  }
}

int train_resume_check(const train_args *a, const clgan_train_config *cfg,
                       const clgan_model *ckpt_model) {
  char given[96], stored[96];
  if (a->seen_model) {
    clgan_model m;
    clgan_status s = clgan_model_load(a->model, &m);
    if (s) return cli_report(s);
    int same = m.text && ckpt_model->text && !strcmp(m.text, ckpt_model->text);
    if (!same) {
      /* same name, other text: say so, or the message would read "'tiny' ... 'tiny'" */
      if (strcmp(a->model, m.name))
        snprintf(given, sizeof given, "'%s' (model %s)", a->model, m.name);
      else
        snprintf(given, sizeof given, "%s", a->model);
      snprintf(stored, sizeof stored, "%s%s", ckpt_model->name,
               strcmp(m.name, ckpt_model->name) ? "" : " (same name, other layers)");
    }
    clgan_model_free(&m);
    if (!same) return conflict("--model", given, "model", stored, NULL);
  }
  if (a->seen_batch && a->batch != cfg->batch) {
    snprintf(given, sizeof given, "%ld", a->batch);
    snprintf(stored, sizeof stored, "%d", cfg->batch);
    return conflict("--batch", given, "batch", stored, stored);
  }
  /* --lr sets both networks' rates, --lr-g / --lr-d one each and win over --lr; the
   * checkpoint stores each as a float (exactly) */
  if (a->seen_lr && !a->seen_lr_g && !a->seen_lr_d &&
      ((float)a->lr != cfg->lr_g || (float)a->lr != cfg->lr_d)) {
    snprintf(given, sizeof given, "%g", a->lr);
    if (cfg->lr_g == cfg->lr_d) {
      fmt_float(stored, sizeof stored, cfg->lr_g);
      return conflict("--lr", given, "learning rate", stored, stored);
    }
    char g[32], d[32];
    fmt_float(g, sizeof g, cfg->lr_g);
    fmt_float(d, sizeof d, cfg->lr_d);
    snprintf(stored, sizeof stored, "%s (G) and %s (D)", g, d);
    return conflict("--lr", given, "learning rates", stored, NULL);
  }
  for (int k = 0; k < 2 && (a->seen_lr_g || a->seen_lr_d); k++) {
    int specific = k ? a->seen_lr_d : a->seen_lr_g;
    if (!specific && !a->seen_lr) continue;
    float want = (float)train_args_lr(a, k), have = k ? cfg->lr_d : cfg->lr_g;
    if (want == have) continue;
    snprintf(given, sizeof given, "%g", train_args_lr(a, k));
    fmt_float(stored, sizeof stored, have);
    const char *flag = specific ? (k ? "--lr-d" : "--lr-g") : "--lr";
    return conflict(flag, given, k ? "D learning rate" : "G learning rate", stored,
                    specific ? stored : NULL);
  }
  if (a->seen_ema && (float)a->ema != cfg->ema_decay) {
    snprintf(given, sizeof given, "%g", a->ema);
    fmt_float(stored, sizeof stored, cfg->ema_decay);
    if (cfg->ema_decay == 0.0f) snprintf(stored, sizeof stored, "0 (off)");
    return conflict("--ema", given, "EMA decay", stored, cfg->ema_decay == 0.0f ? "0" : stored);
  }
  if (a->seen_ema_start && a->ema_start != cfg->ema_start) {
    snprintf(given, sizeof given, "%ld", a->ema_start);
    snprintf(stored, sizeof stored, "%lld", cfg->ema_start);
    return conflict("--ema-start", given, "EMA start", stored, stored);
  }
  if (a->seen_beta1 && (float)a->beta1 != cfg->beta1) {
    snprintf(given, sizeof given, "%g", a->beta1);
    fmt_float(stored, sizeof stored, cfg->beta1);
    return conflict("--beta1", given, "beta1", stored, stored);
  }
  if (a->seen_beta2 && (float)a->beta2 != cfg->beta2) {
    snprintf(given, sizeof given, "%g", a->beta2);
    fmt_float(stored, sizeof stored, cfg->beta2);
    return conflict("--beta2", given, "beta2", stored, stored);
  }
  if (a->seen_loss) {
    clgan_gan_loss l;
    if (clgan_gan_loss_parse(a->g_loss, &l) == 0 && l != cfg->loss)
      return conflict("--g-loss", a->g_loss, "g-loss", clgan_gan_loss_name(cfg->loss),
                      clgan_gan_loss_name(cfg->loss));
  }
  unsigned aug;
  if (a->diffaug && !clgan_diffaug_parse(a->diffaug, &aug) && aug != cfg->diffaug) {
    clgan_diffaug_name(cfg->diffaug, stored, sizeof stored);
    return conflict("--diffaug", a->diffaug, "DiffAugment policy", stored, stored);
  }
  /* the penalties' settings: the checkpoint's (src/train/checkpoint.c) */
  const struct {
    int seen;
    double given;
    float have;
    const char *flag, *what;
  } pen[] = {{a->seen_gp_lambda, a->gp_lambda, cfg->gp_lambda, "--gp-lambda", "gp-lambda"},
             {a->seen_drift, a->drift, cfg->drift_eps, "--drift", "drift"},
             {a->seen_r1, a->r1, cfg->r1_gamma, "--r1", "r1 gamma"},
             {a->seen_r1_every, (double)a->r1_every, (float)cfg->r1_every, "--r1-every", "r1-every"}};
  for (size_t k = 0; k < sizeof pen / sizeof *pen; k++)
    if (pen[k].seen && (float)pen[k].given != pen[k].have) {
      snprintf(given, sizeof given, "%g", pen[k].given);
      fmt_float(stored, sizeof stored, pen[k].have);
      return conflict(pen[k].flag, given, pen[k].what, stored, stored);
    }
  if (a->seen_seed && (unsigned long long)a->seed != cfg->seed) {
    snprintf(given, sizeof given, "%ld", a->seed);
    snprintf(stored, sizeof stored, "%llu", cfg->seed);
    return conflict("--seed", given, "seed", stored, stored);
  }
  return 0;
}

int train_resume_conflict(const char *flag, const char *given, const char *what,
                          const char *stored, const char *same) {
  return conflict(flag, given, what, stored, same);
}

void train_resume_fmt_float(char *buf, size_t cap, float v) { fmt_float(buf, cap, v); }
