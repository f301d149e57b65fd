/* --resume of image-to-image runs (i2i_resume.h). */
#include "i2i_resume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "train_args.h"
#include "train_resume.h"

void i2i_run_format(const i2i_run *r, char *buf, size_t cap) {
  snprintf(buf, cap, "task %s\ndata %s\nmax_images %ld\npretrain_iters %ld\neval_count %ld",
           r->task, r->data, r->max_images, r->pretrain_iters, r->eval_count);
}

static int parse_long(const char *v, long *out) {
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (end == v || *end || errno || x < 0) return -1;
  *out = x;
  return 0;
}

int i2i_run_parse(const char *text, i2i_run *r) {
  memset(r, 0, sizeof *r);
  int seen = 0;
  for (const char *p = text; *p;) {
    const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
    char line[1024];
    if ((size_t)(end - p) >= sizeof line) return -1;
    memcpy(line, p, (size_t)(end - p));
    line[end - p] = '\0';
    p = nl ? nl + 1 : end;
    char *v = strchr(line, ' ');
    if (!v) return -1;
    *v++ = '\0';
    if (!strcmp(line, "task") && strlen(v) < sizeof r->task) snprintf(r->task, sizeof r->task, "%s", v);
    else if (!strcmp(line, "data") && strlen(v) < sizeof r->data) snprintf(r->data, sizeof r->data, "%s", v);
    else if (!strcmp(line, "max_images")) { if (parse_long(v, &r->max_images)) return -1; }
    else if (!strcmp(line, "pretrain_iters")) { if (parse_long(v, &r->pretrain_iters)) return -1; }
    else if (!strcmp(line, "eval_count")) { if (parse_long(v, &r->eval_count)) return -1; }
    else return -1;
    seen++;
  }
  return seen == 5 && r->eval_count > 0 ? 0 : -1;
}

int i2i_given_flag(int argc, char **argv, const char *flag) {
  size_t n = strlen(flag);
  for (int i = 1; i < argc; i++)
    if (!strncmp(argv[i], flag, n) && (argv[i][n] == '\0' || argv[i][n] == '=')) return 1;
  return 0;
}

static int float_conflict(const char *flag, double want, float have, const char *what) {
  if ((float)want == have) return 0;
  char g[48], st[48];
  snprintf(g, sizeof g, "%g", want);
  train_resume_fmt_float(st, sizeof st, have);
  return train_resume_conflict(flag, g, what, st, st);
}

static int long_conflict(const char *flag, long want, long have, const char *what,
                         const char *zero) {
  if (want == have) return 0;
  char g[32], st[32];
  snprintf(g, sizeof g, "%ld", want);
  snprintf(st, sizeof st, "%ld", have);
  return train_resume_conflict(flag, g, what, have ? st : zero, st);
}

static int check_flags(int argc, char **argv, const i2i_given *g, const clgan_train_config *cfg,
                       const clgan_model *model, const i2i_run *run) {
  /* the flags the GAN trainer has too: its check, its messages */
  train_args ta;
  memset(&ta, 0, sizeof ta);
  ta.model = g->model, ta.seen_model = i2i_given_flag(argc, argv, "--model");
  ta.batch = g->batch, ta.seen_batch = i2i_given_flag(argc, argv, "--batch");
  ta.lr = g->lr, ta.seen_lr = i2i_given_flag(argc, argv, "--lr");
  ta.g_loss = g->g_loss, ta.seen_loss = i2i_given_flag(argc, argv, "--g-loss");
  ta.seed = g->seed, ta.seen_seed = i2i_given_flag(argc, argv, "--seed");
  int rc = train_resume_check(&ta, cfg, model);
  if (rc) return rc;
  if (i2i_given_flag(argc, argv, "--task") && strcmp(g->task ? g->task : "", run->task))
    return train_resume_conflict("--task", g->task, "task",
                                 run->task[0] ? run->task : "(none: --data pairs)",
                                 run->task[0] ? run->task : NULL);
  if (i2i_given_flag(argc, argv, "--max-images") &&
      (rc = long_conflict("--max-images", g->max_images, run->max_images, "max-images", "0 (all)")))
    return rc;
  if (i2i_given_flag(argc, argv, "--pretrain-iters") &&
      (rc = long_conflict("--pretrain-iters", g->pretrain_iters, run->pretrain_iters,
                          "pre-training iterations", "0 (none)")))
    return rc;
  if (i2i_given_flag(argc, argv, "--adv-weight") &&
      (rc = float_conflict("--adv-weight", g->adv_weight, cfg->adv_weight, "adversarial weight")))
    return rc;
  if (i2i_given_flag(argc, argv, "--content-weight") &&
      (rc = float_conflict("--content-weight", g->content_weight, cfg->content_weight,
                           "content weight")))
    return rc;
  if (i2i_given_flag(argc, argv, "--d-loss-scale") &&
      (rc = float_conflict("--d-loss-scale", g->d_loss_scale, cfg->d_loss_scale, "D loss scale")))
    return rc;
  clgan_content c;
  if (i2i_given_flag(argc, argv, "--content") && !clgan_content_parse(g->content, &c) && c != cfg->content)
    return train_resume_conflict("--content", g->content, "content loss",
                                 clgan_content_name(cfg->content), clgan_content_name(cfg->content));
  return 0;
}

int i2i_resume_open(const char *path, int argc, char **argv, const i2i_given *g,
                    clgan_st_file *f, clgan_model *model, clgan_train_config *cfg,
                    long long *step, i2i_run *run) {
  clgan_status s = clgan_checkpoint_open(path, f, model);
  if (s) return cli_report(s);
  clgan_train_state st;
  memset(&st, 0, sizeof st);
  s = clgan_checkpoint_config(f, cfg, step, &st);
  if (s) clgan_error_prefix("checkpoint '%s': ", path);
  if (!s && !clgan_model_takes_cond(model))
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "checkpoint '%s' is not an image-to-image run's "
                    "(model %s)", path, model->name);
  if (!s && i2i_run_parse(st.run, run))
    s = clgan_error(CLGAN_ERR_FORMAT, "checkpoint '%s': %s run settings (task, data, "
                    "max_images, pretrain_iters, eval_count) in its metadata; it cannot "
                    "be resumed exactly", path, st.run[0] ? "malformed" : "no");
  int rc = s ? cli_report(s) : check_flags(argc, argv, g, cfg, model, run);
  if (rc) {
    clgan_safetensors_free(f);
    clgan_model_free(model);
    memset(f, 0, sizeof *f);
  }
  return rc;
}

int i2i_resume_wanted(const char *path) {
  clgan_st_file f;
  clgan_model m;
  if (clgan_checkpoint_open(path, &f, &m)) return 0;
  int yes = clgan_model_takes_cond(&m);
  clgan_safetensors_free(&f);
  clgan_model_free(&m);
  return yes;
}

clgan_status i2i_log_keep(const char *dir, long long upto, char **rows, float **pts, int *n) {
  char path[4200], line[1024];
  size_t len = 0, cap = 1024;
  int np = 0, pcap = 64;
  *rows = malloc(cap), *pts = malloc(sizeof(float) * 4 * (size_t)pcap), *n = 0;
  if (!*rows || !*pts) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  (*rows)[0] = '\0';
  snprintf(path, sizeof path, "%s/metrics.csv", dir);
  FILE *fp = fopen(path, "r");
  if (!fp) return CLGAN_OK; /* a resumed run in a new --out starts a new log */
  while (fgets(line, sizeof line, fp)) {
    float v[4];
    long long it;
    /* iter,loss_d,loss_g_adv,loss_content,d_real,d_fake,seconds */
    if (sscanf(line, "%lld,%f,%f,%f", &it, &v[1], &v[2], &v[3]) != 4 || it < 1 || it > upto)
      continue;
    size_t l = strlen(line);
    if (len + l + 1 > cap) {
      char *r = realloc(*rows, cap = 2 * (len + l + 1));
      if (!r) break;
      *rows = r;
    }
    if (np == pcap) {
      float *p = realloc(*pts, sizeof(float) * 4 * (size_t)(pcap *= 2));
      if (!p) break;
      *pts = p;
    }
    memcpy(*rows + len, line, l + 1);
    len += l;
    v[0] = (float)it;
    memcpy(*pts + 4 * np++, v, sizeof v);
  }
  int bad = !feof(fp);
  fclose(fp);
  *n = np;
  return bad ? clgan_error(CLGAN_ERR_NOMEM, "out of host memory reading '%s'", path) : CLGAN_OK;
}

int i2i_resume_pretrained(clgan_gan *gan, const clgan_st_file *f, const char *dir,
                          const float *cond, int n, float *out, clgan_status *s) {
  char path[4200];
  snprintf(path, sizeof path, "%s/pretrained.safetensors", dir);
  clgan_st_file pf;
  clgan_model pm;
  FILE *fp = fopen(path, "rb");
  if (!fp) return 0;
  fclose(fp);
  if ((*s = clgan_checkpoint_open(path, &pf, &pm))) return 0;
  *s = clgan_checkpoint_restore_net(&pf, "generator", gan->g);
  if (!*s) *s = clgan_generate_cond(gan->g, cond, n, CLGAN_BN_EVAL, out);
  clgan_safetensors_free(&pf);
  clgan_model_free(&pm);
  if (*s) clgan_error_prefix("'%s': ", path);
  /* G as the resume checkpoint has it (parameters and batch-norm statistics) */
  clgan_status r = clgan_checkpoint_restore_net(f, "generator", gan->g);
  if (!*s) *s = r;
  return !*s;
}
