/* Run outputs: metrics CSV, plot, checkpoint rotation. Tests: tests/train/test_train_cli.sh */
#include "train_out.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *CSV_HEADER =
    "step,epoch,loss_d,loss_g,d_real,d_fake,d_fake_after,grad_norm_d,grad_norm_g,diversity,"
    "img_per_s,fd\n";

clgan_status out_prepare(const char *dir) {
  clgan_status s = clgan_mkdirs(dir);
  if (s) return clgan_error_prefix("output directory: ");
  char probe[4200];
  snprintf(probe, sizeof probe, "%s/.clgan-write-test-%d", dir, (int)getpid());
  FILE *f = fopen(probe, "wb");
  if (!f || fputs("x", f) < 0 || fclose(f) != 0) {
    int e = errno;
    if (f) unlink(probe);
    return clgan_error(CLGAN_ERR_IO, "output directory '%s' is not writable: %s", dir, strerror(e));
  }
  unlink(probe);
  char sub[4200];
  snprintf(sub, sizeof sub, "%s/samples", dir);
  if ((s = clgan_mkdirs(sub))) return s;
  snprintf(sub, sizeof sub, "%s/checkpoints", dir);
  return clgan_mkdirs(sub);
}

static void fmt_f(char *b, size_t cap, float v) {
  if (isnan(v)) b[0] = '\0';
  else snprintf(b, cap, "%.6g", v);
}

static void row_csv(const metrics_row *r, char *line, size_t cap) {
  char f[10][32];
  const float v[10] = {r->loss_d, r->loss_g, r->d_real, r->d_fake, r->d_fake_after,
                       r->grad_norm_d, r->grad_norm_g, r->diversity, r->img_per_s, r->fd};
  for (int i = 0; i < 10; i++) fmt_f(f[i], sizeof f[i], v[i]);
  snprintf(line, cap, "%lld,%lld,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", r->step, r->epoch, f[0], f[1],
           f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9]);
}

clgan_status out_metrics_append(const char *dir, const metrics_row *r, int truncate) {
  char path[4200], line[512];
  snprintf(path, sizeof path, "%s/metrics.csv", dir);
  int fresh = truncate || access(path, F_OK) != 0;
  FILE *f = fopen(path, truncate ? "w" : "a");
  if (!f) return clgan_error(CLGAN_ERR_IO, "cannot append to '%s': %s", path, strerror(errno));
  row_csv(r, line, sizeof line);
  int bad = (fresh && fputs(CSV_HEADER, f) < 0) || fputs(line, f) < 0;
  bad |= fclose(f) != 0;
  return bad ? clgan_error(CLGAN_ERR_IO, "writing '%s' failed: %s", path, strerror(errno)) : CLGAN_OK;
}

int out_history_push(metrics_history *h, const metrics_row *r) {
  if (h->n == h->cap) {
    int cap = h->cap ? 2 * h->cap : 256;
    metrics_row *g = realloc(h->rows, sizeof *g * (size_t)cap);
    if (!g) return -1;
    h->rows = g;
    h->cap = cap;
  }
  h->rows[h->n++] = *r;
  return 0;
}

void out_history_free(metrics_history *h) {
  free(h->rows);
  memset(h, 0, sizeof *h);
}

static float parse_cell(char **p) {
  char *start = *p, *end;
  char *comma = strchr(start, ',');
  if (comma) *comma = '\0';
  float v = strtof(start, &end);
  if (end == start) v = NAN;
  *p = comma ? comma + 1 : start + strlen(start);
  return v;
}

clgan_status out_history_load(const char *dir, long long upto, metrics_history *h) {
  char path[4200], line[1024];
  snprintf(path, sizeof path, "%s/metrics.csv", dir);
  FILE *f = fopen(path, "r");
  if (!f) return CLGAN_OK; /* a resumed run in a new --out starts a new log */
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, "step,", 5)) continue;
    char *p = line;
    metrics_row r;
    r.step = (long long)parse_cell(&p);
    r.epoch = (long long)parse_cell(&p);
    float *dst[] = {&r.loss_d, &r.loss_g, &r.d_real, &r.d_fake, &r.d_fake_after,
                    &r.grad_norm_d, &r.grad_norm_g, &r.diversity, &r.img_per_s, &r.fd};
    /* a log written before the fd column has none: NaN */
    for (size_t i = 0; i < 10; i++) *dst[i] = parse_cell(&p);
    if (r.step > 0 && r.step <= upto && out_history_push(h, &r)) {
      fclose(f);
      return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    }
  }
  fclose(f);
  /* rewrite the log with the rows the checkpoint covers: later rows belong to the
   * abandoned continuation */
  char tmp[4300];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *o = fopen(tmp, "w");
  if (!o) return clgan_error(CLGAN_ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
  fputs(CSV_HEADER, o);
  for (int i = 0; i < h->n; i++) {
    row_csv(&h->rows[i], line, sizeof line);
    fputs(line, o);
  }
  if (fclose(o) != 0 || rename(tmp, path) != 0)
    return clgan_error(CLGAN_ERR_IO, "cannot rewrite '%s': %s", path, strerror(errno));
  return CLGAN_OK;
}

clgan_status out_plot(const char *dir, const metrics_history *h) {
  int n = h->n;
  if (n == 0) return CLGAN_OK;
  float *buf = malloc(sizeof(float) * (size_t)n * 10);
  if (!buf) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  float *x = buf, *ld = buf + n, *lg = buf + 2 * n, *dr = buf + 3 * n, *df = buf + 4 * n;
  float *nd = buf + 5 * n, *ng = buf + 6 * n, *dv = buf + 7 * n, *fd = buf + 8 * n;
  int have_fd = 0;
  for (int i = 0; i < n; i++) {
    const metrics_row *r = &h->rows[i];
    x[i] = (float)r->step, ld[i] = r->loss_d, lg[i] = r->loss_g, dr[i] = r->d_real;
    df[i] = r->d_fake, nd[i] = r->grad_norm_d, ng[i] = r->grad_norm_g, dv[i] = r->diversity;
    /* diversity is measured only when samples are drawn: hold it between samples so the
     * panel shows a line rather than isolated dots */
    if (isnan(dv[i]) && i > 0) dv[i] = dv[i - 1];
    fd[i] = r->fd; /* likewise held between evaluations */
    if (isfinite(fd[i])) have_fd = 1;
    else if (i > 0) fd[i] = fd[i - 1];
  }
  clgan_plot_series losses[] = {{"loss_D", ld}, {"loss_G", lg}};
  clgan_plot_series douts[] = {{"D(x)", dr}, {"D(G(z))", df}};
  clgan_plot_series norms[] = {{"|grad D|", nd}, {"|grad G|", ng}};
  clgan_plot_series div[] = {{"sample diversity", dv}};
  clgan_plot_series fds[] = {{"FD", fd}};
  clgan_plot_panel panels[] = {
      {"Losses", "loss", losses, 2},
      {"Discriminator outputs", "probability", douts, 2},
      {"Gradient norms (vanishing gradients show as a collapse)", "L2 norm", norms, 2},
      {"Diversity of fixed-noise samples, held between samples (mode collapse shows as a drop)",
       "mean distance", div, 1},
      {"Frechet distance to real images on the classifier's features (train --eval-every), "
       "held between evaluations", "FD", fds, 1},
  };
  char path[4200];
  snprintf(path, sizeof path, "%s/plot.png", dir);
  clgan_status s = clgan_plot_write(path, "iteration", x, n, panels, have_fd ? 5 : 4);
  free(buf);
  return s;
}

static int is_ckpt(const char *name, long long *step) {
  char tail[32];
  return sscanf(name, "ckpt_%lld.safetensor%31s", step, tail) == 2 && !strcmp(tail, "s");
}

static int cmp_ll(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return (x > y) - (x < y);
}

clgan_status out_checkpoint(const char *dir, clgan_gan *gan, const clgan_train_state *st,
                            int keep, char *path_out, size_t cap) {
  char name[64], path[4200];
  snprintf(name, sizeof name, "ckpt_%08lld.safetensors", gan->step);
  snprintf(path, sizeof path, "%s/checkpoints/%s", dir, name);
  clgan_status s = clgan_checkpoint_save(path, gan, st);
  if (s) return s;
  snprintf(path_out, cap, "%s", path);
  /* latest.safetensors: a symlink replaced atomically by rename */
  char link_tmp[4200], link_path[4200], target[128];
  snprintf(target, sizeof target, "checkpoints/%s", name);
  snprintf(link_tmp, sizeof link_tmp, "%s/.latest.tmp.%d", dir, (int)getpid());
  snprintf(link_path, sizeof link_path, "%s/latest.safetensors", dir);
  unlink(link_tmp);
  if (symlink(target, link_tmp) != 0 || rename(link_tmp, link_path) != 0) {
    unlink(link_tmp);
    return clgan_error(CLGAN_ERR_IO, "cannot update '%s': %s", link_path, strerror(errno));
  }
  /* keep the newest `keep` checkpoints; only ever delete older complete ones */
  char cdir[4200];
  snprintf(cdir, sizeof cdir, "%s/checkpoints", dir);
  DIR *d = opendir(cdir);
  if (!d) return CLGAN_OK;
  long long steps[4096];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 4096) {
    long long k;
    if (is_ckpt(e->d_name, &k)) steps[n++] = k;
    else if (!strncmp(e->d_name, "ckpt_", 5) && strstr(e->d_name, ".safetensors.tmp.")) {
      /* left by a write that was killed: never a complete checkpoint, safe to drop (one
       * trainer writes into an --out at a time) */
      /* a cut path could name another file: never unlink one */
      if (snprintf(path, sizeof path, "%s/%s", cdir, e->d_name) < (int)sizeof path) unlink(path);
    }
  }
  closedir(d);
  qsort(steps, (size_t)n, sizeof *steps, cmp_ll);
  for (int i = 0; i + keep < n; i++) {
    if (steps[i] == gan->step) continue;
    if (snprintf(path, sizeof path, "%s/ckpt_%08lld.safetensors", cdir, steps[i]) < (int)sizeof path)
      unlink(path);
  }
  return CLGAN_OK;
}
