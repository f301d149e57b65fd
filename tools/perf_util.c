/* Helpers shared by `clgan tune` and `clgan bench ops|train` (see perf_util.h). */
#include "perf_util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

extern char **environ;

int perf_child_start(perf_child *c, char *const argv[], const char *const *extra_env) {
  memset(c, 0, sizeof *c);
  c->pid = -1;
  c->fd = -1;
  size_t n = 0, extra = 0;
  while (environ[n]) n++;
  while (extra_env && extra_env[extra]) extra++;
  char **env = calloc(n + extra + 1, sizeof *env);
  if (!env) return -1;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    int replaced = 0;
    for (size_t j = 0; j < extra && !replaced; j++) {
      const char *eq = strchr(extra_env[j], '=');
      size_t len = eq ? (size_t)(eq - extra_env[j]) + 1 : strlen(extra_env[j]);
      replaced = !strncmp(environ[i], extra_env[j], len);
    }
    if (!replaced) env[k++] = environ[i];
  }
  for (size_t j = 0; j < extra; j++) env[k++] = (char *)extra_env[j];
  env[k] = NULL;
  int p[2];
  if (pipe(p) != 0) {
    free(env);
    return -1;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  posix_spawn_file_actions_adddup2(&fa, p[1], 2);
  posix_spawn_file_actions_addclose(&fa, p[0]);
  posix_spawn_file_actions_addclose(&fa, p[1]);
  pid_t pid;
  /* the magic link, not the path it names: still this binary if a rebuild replaced it */
  int e = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, env);
  posix_spawn_file_actions_destroy(&fa);
  free(env);
  close(p[1]);
  if (e != 0) {
    close(p[0]);
    fprintf(stderr, "clgan: error: cannot start a measuring process: %s\n", strerror(e));
    return -1;
  }
  c->pid = (int)pid;
  c->fd = p[0];
  return 0;
}

int perf_child_line(perf_child *c, char *line, size_t cap, double deadline) {
  for (;;) {
    char *nl = memchr(c->buf, '\n', c->used);
    if (nl || (c->eof && c->used) || c->used == sizeof c->buf) {
      size_t len = nl ? (size_t)(nl - c->buf) : c->used;
      size_t take = len < cap - 1 ? len : cap - 1;
      memcpy(line, c->buf, take);
      line[take] = '\0';
      size_t drop = nl ? len + 1 : len;
      memmove(c->buf, c->buf + drop, c->used - drop);
      c->used -= drop;
      return 1;
    }
    if (c->eof) return 0;
    double left = deadline - cli_now();
    if (left <= 0) return -1;
    struct pollfd pf = {c->fd, POLLIN, 0};
    int r = poll(&pf, 1, left > 1e6 ? 1000000000 : (int)(left * 1000) + 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue; /* the deadline check above ends it */
    ssize_t got = read(c->fd, c->buf + c->used, sizeof c->buf - c->used);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) c->eof = 1;
    else c->used += (size_t)got;
  }
}

int perf_child_finish(perf_child *c, int kill_it, double *cpu_s) {
  if (c->pid > 0 && kill_it) kill((pid_t)c->pid, SIGKILL);
  int status = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  if (c->pid > 0)
    while (wait4((pid_t)c->pid, &status, 0, &ru) < 0 && errno == EINTR) {
    }
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  c->pid = -1;
  if (cpu_s)
    *cpu_s = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
             (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
  if (kill_it || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

int perf_model_load(const char *name, clgan_model *m) {
  clgan_status s = clgan_model_load(name, m);
  if (!s) s = clgan_model_resolve(m, m->image_c ? m->image_c : 1);
  if (s) {
    cli_report(s);
    clgan_model_free(m);
    return -1;
  }
  return 0;
}

void perf_shape_name(const clgan_gemm_shape *s, char *out, size_t cap) {
  snprintf(out, cap, "%c%c %zux%zux%zu", s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->m, s->n, s->k);
}

int perf_shapes_parse(const char *text, clgan_gemm_shape *out, int cap) {
  int n = 0;
  const char *p = text;
  while (*p) {
    int ta, tb, used = 0;
    unsigned long long m, nn, k;
    if (n >= cap || sscanf(p, "%d,%d,%llu,%llu,%llu%n", &ta, &tb, &m, &nn, &k, &used) != 5 ||
        (ta != 0 && ta != 1) || (tb != 0 && tb != 1) || !m || !nn || !k)
      return -1;
    out[n++] = (clgan_gemm_shape){ta, tb, (size_t)m, (size_t)nn, (size_t)k};
    p += used;
    if (*p == ';') p++;
    else if (*p) return -1;
  }
  return n;
}

int perf_shapes_format(const clgan_gemm_shape *s, int n, char *out, size_t cap) {
  size_t at = 0;
  if (cap) out[0] = '\0';
  for (int i = 0; i < n; i++) {
    int w = snprintf(out + at, cap - at, "%s%d,%d,%zu,%zu,%zu", i ? ";" : "", s[i].ta, s[i].tb,
                     s[i].m, s[i].n, s[i].k);
    if (w < 0 || (size_t)w >= cap - at) return -1;
    at += (size_t)w;
  }
  return 0;
}

void perf_progress(const char *what, int done, int total, double elapsed, double budget,
                   const char *tail) {
  int tty = isatty(2);
  int width = 24, fill = total > 0 ? (int)((double)width * done / total) : 0;
  if (budget > 0 && elapsed / budget * width > fill) fill = (int)(elapsed / budget * width);
  if (fill > width) fill = width;
  char bar[32];
  for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '-';
  bar[width] = '\0';
  fprintf(stderr, "%s%s [%s] %d/%d, %.0f/%.0f s  %s%s", tty ? "\r" : "", what, bar, done, total,
          elapsed, budget, tail ? tail : "", tty ? "\033[K" : "\n");
  fflush(stderr);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double perf_median(double *v, int n) {
  if (n <= 0) return 0.0;
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
