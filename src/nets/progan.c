/* Progressive growing (ProGAN, Karras et al. 2018): a model file with a `grow R1 R2 ...`
 * line and `stage R` / `rgb [R]` blocks in each section is expanded, one stage (and fade) at
 * a time, into an ordinary graph model: every node named by its stage (s8_0, rgb8_1, ...),
 * so weights copy by name when the model grows. G always ends at the image's size (nearest
 * upsampling of a lower stage) and D always takes it (average pooling down), so the trainer,
 * the samples and eval see one shape throughout. docs/MODELS.md "Progressive growing".
 * Tests: tests/train/test_progan_grow.c */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/model.h"

#define MAX_LINES 512
#define LINE_CAP 1024

typedef struct block {
  int res;      /* a stage's resolution, or an rgb block's (0: every resolution) */
  int rgb;      /* 1: an rgb block */
  int first, n; /* its lines in the line table */
} block;

typedef struct section {
  block b[2 * CLGAN_MAX_STAGES + 2];
  int nb;
} section;

typedef struct parsed {
  char *lines[MAX_LINES]; /* trimmed, comments removed */
  int lineno[MAX_LINES];
  int nlines;
  char *head;              /* the lines before the sections, without `grow` */
  int res[CLGAN_MAX_STAGES], nstages;
  section sec[2];          /* generator, discriminator */
} parsed;

static clgan_status perr(const char *source, int line, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return clgan_error(CLGAN_ERR_INVALID_ARG, "%s:%d: %s", source, line, msg);
}

static void parsed_free(parsed *p) {
  for (int i = 0; i < p->nlines; i++) free(p->lines[i]);
  free(p->head);
  memset(p, 0, sizeof *p);
}

/* The first word of a line (its keyword), into w. */
static void first_word(const char *s, char *w, size_t cap) {
  size_t k = 0;
  while (s[k] && !isspace((unsigned char)s[k]) && k + 1 < cap) w[k] = s[k], k++;
  w[k] = '\0';
}

int clgan_progan_is(const char *text) {
  const char *s = text;
  while (s && *s) {
    while (*s == ' ' || *s == '\t') s++;
    if (!strncmp(s, "grow", 4) && (s[4] == ' ' || s[4] == '\t')) return 1;
    s = strchr(s, '\n');
    if (s) s++;
  }
  return 0;
}

static clgan_status parse(const char *text, const char *source, parsed *p) {
  memset(p, 0, sizeof *p);
  size_t hcap = strlen(text) + 1, hlen = 0;
  p->head = malloc(hcap);
  if (!p->head) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  p->head[0] = '\0';
  int sec = -1, lineno = 0;
  block *cur = NULL;
  const char *s = text;
  while (*s) {
    const char *e = strchr(s, '\n');
    size_t len = e ? (size_t)(e - s) : strlen(s);
    lineno++;
    char raw[LINE_CAP];
    if (len >= sizeof raw) return perr(source, lineno, "line too long");
    memcpy(raw, s, len);
    raw[len] = '\0';
    s += len + (e ? 1 : 0);
    char *hash = strchr(raw, '#');
    if (hash) *hash = '\0';
    char *b = raw;
    while (isspace((unsigned char)*b)) b++;
    size_t bl = strlen(b);
    while (bl && isspace((unsigned char)b[bl - 1])) b[--bl] = '\0';
    if (!*b) continue;
    char w[32];
    first_word(b, w, sizeof w);
    if (!strcmp(w, "grow")) {
      if (sec >= 0) return perr(source, lineno, "'grow' goes before the sections");
      char *q = b + 4;
      while (*q) {
        char *end;
        long r = strtol(q, &end, 10);
        if (end == q) return perr(source, lineno, "bad resolution '%s' in 'grow'", q);
        if (p->nstages == CLGAN_MAX_STAGES)
          return perr(source, lineno, "'grow' has more than %d stages", CLGAN_MAX_STAGES);
        if (r < 2 || r > 4096 || (p->nstages && r != 2 * p->res[p->nstages - 1]))
          return perr(source, lineno, "'grow' needs resolutions that double at each stage "
                      "(e.g. grow 4 8 16 32), got %ld after %d", r,
                      p->nstages ? p->res[p->nstages - 1] : 0);
        p->res[p->nstages++] = (int)r;
        q = end;
        while (isspace((unsigned char)*q)) q++;
      }
      if (p->nstages < 2) return perr(source, lineno, "'grow' needs two or more resolutions");
      continue;
    }
    if (!strcmp(w, "generator") || !strcmp(w, "discriminator")) {
      sec = w[0] == 'g' ? 0 : 1;
      cur = NULL;
      continue;
    }
    if (sec < 0) { /* the head: model, latent, image, loss ... */
      hlen += (size_t)snprintf(p->head + hlen, hcap - hlen, "%s\n", b);
      continue;
    }
    section *S = &p->sec[sec];
    if (!strcmp(w, "stage") || !strcmp(w, "rgb")) {
      int rgb = w[0] == 'r', r = 0;
      char *q = b + strlen(w);
      while (isspace((unsigned char)*q)) q++;
      if (*q) {
        char *end;
        long v = strtol(q, &end, 10);
        if (end == q || *end || v < 2 || v > 4096)
          return perr(source, lineno, "bad resolution '%s' for '%s'", q, w);
        r = (int)v;
      } else if (!rgb) {
        return perr(source, lineno, "'stage' needs its resolution: stage R");
      }
      for (int k = 0; k < S->nb; k++)
        if (S->b[k].rgb == rgb && S->b[k].res == r)
          return perr(source, lineno, "a second '%s%s%.0d' block in the %s", w, r ? " " : "",
                      r, sec ? "discriminator" : "generator");
      if (S->nb == (int)(sizeof S->b / sizeof *S->b))
        return perr(source, lineno, "too many blocks");
      cur = &S->b[S->nb++];
      cur->res = r, cur->rgb = rgb, cur->first = p->nlines, cur->n = 0;
      continue;
    }
    if (!strcmp(w, "input"))
      return perr(source, lineno, "a progressive model's networks take z (G) and the image (D) "
                  "only: no 'input' line");
    if (!cur)
      return perr(source, lineno, "a progressive model's layers go in 'stage R' or 'rgb' blocks");
    if (strchr(w, ':') || strstr(b, " in="))
      return perr(source, lineno, "a stage or rgb block is a plain sequence: no node names or "
                  "in= (progressive growing names the nodes)");
    if (p->nlines == MAX_LINES) return perr(source, lineno, "too many lines");
    if (cur->first + cur->n != p->nlines)
      return perr(source, lineno, "internal: block lines out of order");
    p->lines[p->nlines] = strdup(b);
    if (!p->lines[p->nlines]) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    p->lineno[p->nlines++] = lineno;
    cur->n++;
  }
  if (!p->nstages) return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: no 'grow' line", source);
  for (int sc = 0; sc < 2; sc++)
    for (int i = 0; i < p->nstages; i++) {
      int st = 0, rgb = 0;
      for (int k = 0; k < p->sec[sc].nb; k++) {
        const block *bk = &p->sec[sc].b[k];
        if (!bk->rgb && bk->res == p->res[i]) st = bk->n;
        if (bk->rgb && (bk->res == p->res[i] || bk->res == 0)) rgb = rgb || bk->n;
      }
      if (!st)
        return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: the %s has no layers for 'stage %d'",
                           source, sc ? "discriminator" : "generator", p->res[i]);
      if (!rgb)
        return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: the %s has no 'rgb' block for "
                           "resolution %d", source, sc ? "discriminator" : "generator", p->res[i]);
    }
  return CLGAN_OK;
}

static const block *find(const parsed *p, int sec, int rgb, int res) {
  const block *dflt = NULL;
  for (int k = 0; k < p->sec[sec].nb; k++) {
    const block *b = &p->sec[sec].b[k];
    if (b->rgb == rgb && b->res == res) return b;
    if (rgb && b->rgb && b->res == 0) dflt = b;
  }
  return dflt;
}

typedef struct out_text {
  char *s;
  size_t len, cap;
  int failed;
} out_text;

static void emit(out_text *o, const char *fmt, ...) {
  char line[LINE_CAP + 128];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  if (n < 0 || o->failed) return;
  if (o->len + (size_t)n + 1 > o->cap) {
    size_t cap = (o->cap + (size_t)n + 1) * 2;
    char *t = realloc(o->s, cap);
    if (!t) {
      o->failed = 1;
      return;
    }
    o->s = t, o->cap = cap;
  }
  memcpy(o->s + o->len, line, (size_t)n + 1);
  o->len += (size_t)n;
}

/* Emits a block's lines named prefix<res>_<i>; the first reads `in` ("" = the line above).
 * last: the name of its last node. */
static void emit_block(out_text *o, const parsed *p, const block *b, const char *prefix, int res,
                       const char *in, char *last, size_t cap) {
  for (int i = 0; i < b->n; i++) {
    const char *l = p->lines[b->first + i];
    if (i == 0 && in[0]) emit(o, "  %s%d_%d: %s in=%s\n", prefix, res, i, l, in);
    else emit(o, "  %s%d_%d: %s\n", prefix, res, i, l);
  }
  snprintf(last, cap, "%s%d_%d", prefix, res, b->n - 1);
}

clgan_status clgan_progan_stages(const char *text, const char *source, int *res, int *count) {
  parsed p;
  clgan_status s = parse(text, source, &p);
  if (!s) {
    for (int i = 0; i < p.nstages; i++) res[i] = p.res[i];
    *count = p.nstages;
  }
  parsed_free(&p);
  return s;
}

clgan_status clgan_progan_expand(const char *text, const char *source, int stage, int fading,
                                 float alpha, char **out) {
  *out = NULL;
  parsed p;
  clgan_status s = parse(text, source, &p);
  if (s) {
    parsed_free(&p);
    return s;
  }
  if (stage < 0 || stage >= p.nstages) {
    parsed_free(&p);
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: no stage %d (the model has %d)", source,
                       stage, p.nstages);
  }
  fading = fading && stage > 0;
  int R = p.res[stage], Rp = stage ? p.res[stage - 1] : 0, F = p.res[p.nstages - 1];
  out_text o = {0};
  char last[64], old[64], prev[64];
  emit(&o, "%s", p.head);
  emit(&o, "generator\n");
  for (int i = 0; i <= stage; i++) {
    emit_block(&o, &p, find(&p, 0, 0, p.res[i]), "s", p.res[i], "", last, sizeof last);
    if (i == stage - 1) snprintf(prev, sizeof prev, "%s", last);
  }
  emit_block(&o, &p, find(&p, 0, 1, R), "rgb", R, "", last, sizeof last);
  if (fading) { /* the old stage's rgb, upsampled, faded into the new one's */
    emit_block(&o, &p, find(&p, 0, 1, Rp), "rgb", Rp, prev, old, sizeof old);
    emit(&o, "  old_up: upsample 2\n");
    emit(&o, "  fade: fade in=old_up,%s alpha=%.9g\n", last, alpha);
  }
  if (R < F) emit(&o, "  out_up: upsample %d\n", F / R);
  emit(&o, "discriminator\n");
  const char *img = "image";
  if (R < F) {
    emit(&o, "  in_pool: avgpool %d\n", F / R);
    img = "in_pool";
  }
  emit_block(&o, &p, find(&p, 1, 1, R), "rgb", R, "", last, sizeof last);
  emit_block(&o, &p, find(&p, 1, 0, R), "s", R, "", last, sizeof last);
  if (fading) { /* the old stage's rgb of the image pooled, faded into the new stage's output */
    emit(&o, "  old_pool: avgpool 2 in=%s\n", img);
    emit_block(&o, &p, find(&p, 1, 1, Rp), "rgb", Rp, "", old, sizeof old);
    emit(&o, "  fade: fade in=%s,%s alpha=%.9g\n", old, last, alpha);
  }
  for (int i = stage - 1; i >= 0; i--)
    emit_block(&o, &p, find(&p, 1, 0, p.res[i]), "s", p.res[i], "", last, sizeof last);
  parsed_free(&p);
  if (o.failed) {
    free(o.s);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  *out = o.s;
  return CLGAN_OK;
}

int clgan_progan_copy_params(const clgan_net_desc *from, const float *fp, const float *fs,
                             const clgan_net_desc *to, float *tp, float *ts) {
  int copied = 0;
  for (int i = 0; i < to->count; i++) {
    const clgan_layer_desc *t = &to->layers[i];
    if (!t->name[0] || !(t->weight_count + t->bias_count)) continue;
    for (int j = 0; j < from->count; j++) {
      const clgan_layer_desc *f = &from->layers[j];
      if (strcmp(f->name, t->name) || f->kind != t->kind) continue;
      if (f->weight_count != t->weight_count || f->bias_count != t->bias_count) break;
      memcpy(tp + t->weight_off, fp + f->weight_off, sizeof(float) * t->weight_count);
      if (t->bias_count) memcpy(tp + t->bias_off, fp + f->bias_off, sizeof(float) * t->bias_count);
      if (t->kind == CLGAN_LAYER_BATCHNORM && fs && ts)
        memcpy(ts + t->stat_off, fs + f->stat_off, sizeof(float) * 2 * t->weight_count);
      copied++;
      break;
    }
  }
  return copied;
}
