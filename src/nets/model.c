/* Model files: parsing, presets, shape inference, parameter layout, initialisation,
 * PyTorch tensor names. Tests: tests/train/test_model.c */
#include "clgan/model.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/ops.h"
#include "internal.h"

/* Sizes above these are refused before anything is allocated: a typo like 1000000
 * channels should be an error message, not an out-of-memory. */
#define MAX_LAYERS 256
#define MAX_CHANNELS 65536
#define MAX_FEATURES (1 << 26)
#define MAX_SPATIAL 16384
#define MAX_KERNEL 64
#define MAX_LINE 1024

static const struct {
  const char *word;
  clgan_layer_kind kind;
} layer_words[] = {
    {"linear", CLGAN_LAYER_LINEAR},       {"conv", CLGAN_LAYER_CONV},
    {"convt", CLGAN_LAYER_CONVT},         {"batchnorm", CLGAN_LAYER_BATCHNORM},
    {"relu", CLGAN_LAYER_RELU},           {"leakyrelu", CLGAN_LAYER_LEAKY_RELU},
    {"tanh", CLGAN_LAYER_TANH},           {"sigmoid", CLGAN_LAYER_SIGMOID},
    {"reshape", CLGAN_LAYER_RESHAPE},     {"flatten", CLGAN_LAYER_FLATTEN},
};

typedef struct {
  const char *source;
  int line;
} parse_pos;

static clgan_status perr(const parse_pos *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static clgan_status perr(const parse_pos *p, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return clgan_error(CLGAN_ERR_INVALID_ARG, "%s:%d: %s", p->source, p->line, msg);
}

static int parse_int(const char *s, long lo, long hi, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (end == s || *end || v < lo || v > hi) return -1;
  *out = (int)v;
  return 0;
}

/* Splits a line into whitespace-separated tokens, dropping a '#' comment. */
static int tokenize(char *line, char **tok, int max) {
  char *hash = strchr(line, '#');
  if (hash) *hash = '\0';
  int n = 0;
  for (char *p = strtok(line, " \t\r"); p && n < max; p = strtok(NULL, " \t\r")) tok[n++] = p;
  return n;
}

/* key=value options of a layer; returns -1 and sets the error on unknown/bad ones. */
static clgan_status parse_layer(const parse_pos *pp, char **tok, int ntok,
                                clgan_layer_desc *l) {
  memset(l, 0, sizeof *l);
  l->line = pp->line;
  int found = 0;
  for (size_t i = 0; i < sizeof layer_words / sizeof *layer_words; i++)
    if (!strcmp(tok[0], layer_words[i].word)) {
      l->kind = layer_words[i].kind;
      found = 1;
    }
  if (!found)
    return perr(pp, "unknown layer '%s' (known: linear conv convt batchnorm relu leakyrelu "
                "tanh sigmoid reshape flatten)", tok[0]);
  int pos = 1;
  switch (l->kind) {
    case CLGAN_LAYER_LINEAR:
    case CLGAN_LAYER_CONV:
    case CLGAN_LAYER_CONVT: {
      if (ntok < 2) return perr(pp, "'%s' needs its output size", tok[0]);
      if (!strcmp(tok[1], "C")) l->out_is_image = 1;
      else if (parse_int(tok[1], 1, l->kind == CLGAN_LAYER_LINEAR ? MAX_FEATURES : MAX_CHANNELS,
                         &l->out))
        return perr(pp, "bad output size '%s' for '%s' (1..%d or C)", tok[1], tok[0],
                    l->kind == CLGAN_LAYER_LINEAR ? MAX_FEATURES : MAX_CHANNELS);
      pos = 2;
      l->bias = 1;
      l->k = 0;
      l->stride = 1;
      l->pad = 0;
      break;
    }
    case CLGAN_LAYER_LEAKY_RELU: {
      l->slope = 0.01f;
      if (ntok >= 2 && !strchr(tok[1], '=')) {
        char *end;
        double v = strtod(tok[1], &end);
        if (end == tok[1] || *end || !(v > -100.0 && v < 100.0))
          return perr(pp, "bad slope '%s'", tok[1]);
        l->slope = (float)v;
        pos = 2;
      }
      break;
    }
    case CLGAN_LAYER_RESHAPE: {
      if (ntok < 4) return perr(pp, "'reshape' needs C H W");
      if (parse_int(tok[1], 1, MAX_FEATURES, &l->out) || parse_int(tok[2], 1, MAX_SPATIAL, &l->rh) ||
          parse_int(tok[3], 1, MAX_SPATIAL, &l->rw))
        return perr(pp, "bad reshape size '%s %s %s'", tok[1], tok[2], tok[3]);
      pos = 4;
      break;
    }
    default:
      break;
  }
  for (int i = pos; i < ntok; i++) {
    char *eq = strchr(tok[i], '=');
    if (!eq) return perr(pp, "unexpected '%s' after '%s'", tok[i], tok[0]);
    *eq = '\0';
    const char *key = tok[i], *val = eq + 1;
    int conv_like = l->kind == CLGAN_LAYER_CONV || l->kind == CLGAN_LAYER_CONVT;
    int has_bias = conv_like || l->kind == CLGAN_LAYER_LINEAR;
    int *dst = NULL;
    long lo = 0, hi = 0;
    if (conv_like && !strcmp(key, "k")) dst = &l->k, lo = 1, hi = MAX_KERNEL;
    else if (conv_like && !strcmp(key, "s")) dst = &l->stride, lo = 1, hi = MAX_KERNEL;
    else if (conv_like && !strcmp(key, "p")) dst = &l->pad, lo = 0, hi = MAX_KERNEL;
    else if (l->kind == CLGAN_LAYER_CONVT && !strcmp(key, "op")) dst = &l->out_pad, lo = 0, hi = MAX_KERNEL;
    else if (has_bias && !strcmp(key, "bias")) dst = &l->bias, lo = 0, hi = 1;
    if (!dst) return perr(pp, "unknown option '%s' for '%s'", key, tok[0]);
    if (parse_int(val, lo, hi, dst))
      return perr(pp, "bad value '%s' for %s= of '%s' (%ld..%ld)", val, key, tok[0], lo, hi);
  }
  if ((l->kind == CLGAN_LAYER_CONV || l->kind == CLGAN_LAYER_CONVT) && l->k == 0)
    return perr(pp, "'%s' needs a kernel size k=", tok[0]);
  return CLGAN_OK;
}

clgan_status clgan_model_parse(const char *text, const char *source, clgan_model *m) {
  memset(m, 0, sizeof *m);
  snprintf(m->name, sizeof m->name, "unnamed");
  m->nz = -1;
  m->image_h = -1;
  parse_pos pp = {source, 0};
  clgan_net_desc *cur = NULL;
  const char *p = text;
  clgan_status s = CLGAN_OK;
  while (*p) {
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    pp.line++;
    if (len >= MAX_LINE) {
      s = perr(&pp, "line longer than %d characters", MAX_LINE);
      goto fail;
    }
    char line[MAX_LINE];
    memcpy(line, p, len);
    line[len] = '\0';
    p += len + (eol ? 1 : 0);
    for (size_t i = 0; i < len; i++)
      if (!isprint((unsigned char)line[i]) && line[i] != '\t' && line[i] != '\r') {
        s = perr(&pp, "unexpected byte 0x%02x", (unsigned char)line[i]);
        goto fail;
      }
    char *tok[16];
    int n = tokenize(line, tok, 16);
    if (n == 0) continue;
    if (!strcmp(tok[0], "model")) {
      if (n != 2) { s = perr(&pp, "'model' takes one name"); goto fail; }
      snprintf(m->name, sizeof m->name, "%s", tok[1]);
    } else if (!strcmp(tok[0], "latent")) {
      if (n != 2 || parse_int(tok[1], 1, MAX_FEATURES, &m->nz)) {
        s = perr(&pp, "'latent' takes a size 1..%d", MAX_FEATURES);
        goto fail;
      }
    } else if (!strcmp(tok[0], "image")) {
      if (n != 4) { s = perr(&pp, "'image' takes C H W (C may be auto)"); goto fail; }
      if (!strcmp(tok[1], "auto")) m->image_c = 0;
      else if (parse_int(tok[1], 1, 4, &m->image_c)) {
        s = perr(&pp, "image channels must be 1..4 or auto, got '%s'", tok[1]);
        goto fail;
      }
      if (parse_int(tok[2], 1, MAX_SPATIAL, &m->image_h) ||
          parse_int(tok[3], 1, MAX_SPATIAL, &m->image_w)) {
        s = perr(&pp, "bad image size '%s %s'", tok[2], tok[3]);
        goto fail;
      }
    } else if (!strcmp(tok[0], "generator") || !strcmp(tok[0], "discriminator")) {
      if (n != 1) { s = perr(&pp, "'%s' takes no arguments", tok[0]); goto fail; }
      cur = tok[0][0] == 'g' ? &m->g : &m->d;
      if (cur->count) { s = perr(&pp, "second '%s' section", tok[0]); goto fail; }
    } else {
      if (!cur) {
        s = perr(&pp, "unknown keyword '%s' (layers go after 'generator' or 'discriminator')",
                 tok[0]);
        goto fail;
      }
      if (cur->count == MAX_LAYERS) { s = perr(&pp, "more than %d layers", MAX_LAYERS); goto fail; }
      clgan_layer_desc *grown = realloc(cur->layers, sizeof *grown * (size_t)(cur->count + 1));
      if (!grown) { s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory"); goto fail; }
      cur->layers = grown;
      if ((s = parse_layer(&pp, tok, n, &cur->layers[cur->count]))) goto fail;
      cur->count++;
    }
  }
  pp.line = 0;
  if (m->nz < 0) { s = clgan_error(CLGAN_ERR_INVALID_ARG, "%s: missing 'latent N'", source); goto fail; }
  if (m->image_h < 0) { s = clgan_error(CLGAN_ERR_INVALID_ARG, "%s: missing 'image C H W'", source); goto fail; }
  if (!m->g.count) { s = clgan_error(CLGAN_ERR_INVALID_ARG, "%s: no generator layers", source); goto fail; }
  if (!m->d.count) { s = clgan_error(CLGAN_ERR_INVALID_ARG, "%s: no discriminator layers", source); goto fail; }
  m->text = strdup(text);
  if (!m->text) { s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory"); goto fail; }
  return CLGAN_OK;
fail:
  clgan_model_free(m);
  return s;
}

clgan_status clgan_model_load(const char *name, clgan_model *m) {
  const char *preset = clgan_model_preset_text(name);
  if (preset) return clgan_model_parse(preset, name, m);
  void *data;
  size_t n;
  clgan_status s = clgan_read_file(name, 1u << 20, &data, &n);
  if (s) {
    if (!strchr(name, '/') && !strchr(name, '.'))
      return clgan_error(CLGAN_ERR_INVALID_ARG, "unknown model '%s': not a preset (dcgan28, "
                         "dcgan64) and not a readable file", name);
    return s;
  }
  if (memchr(data, '\0', n)) {
    free(data);
    return clgan_error(CLGAN_ERR_FORMAT, "%s: not a text model file (NUL byte)", name);
  }
  s = clgan_model_parse(data, name, m);
  free(data);
  return s;
}

void clgan_model_free(clgan_model *m) {
  if (!m) return;
  free(m->g.layers);
  free(m->d.layers);
  free(m->text);
  memset(m, 0, sizeof *m);
}

static clgan_status lerr(const clgan_model *m, const char *net, const clgan_layer_desc *l,
                         int idx, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static clgan_status lerr(const clgan_model *m, const char *net, const clgan_layer_desc *l,
                         int idx, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (l->line)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s', line %d (%s layer %d): %s", m->name,
                       l->line, net, idx, msg);
  return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s' (%s layer %d): %s", m->name, net, idx,
                     msg);
}

static clgan_status resolve_net(const clgan_model *m, const char *name, clgan_net_desc *n,
                                int c, int h, int w) {
  n->in_c = c;
  n->in_h = h;
  n->in_w = w;
  size_t params = 0, stats = 0;
  for (int i = 0; i < n->count; i++) {
    clgan_layer_desc *l = &n->layers[i];
    l->in_c = c;
    l->in_h = h;
    l->in_w = w;
    int out = l->out_is_image ? m->image_c : l->out;
    long long in_feat = (long long)c * h * w;
    l->weight_count = l->bias_count = 0;
    switch (l->kind) {
      case CLGAN_LAYER_LINEAR:
        if (in_feat > MAX_FEATURES) return lerr(m, name, l, i, "linear input of %lld features is too large", in_feat);
        l->weight_count = (size_t)out * (size_t)in_feat;
        l->bias_count = l->bias ? (size_t)out : 0;
        c = out, h = 1, w = 1;
        break;
      case CLGAN_LAYER_CONV:
      case CLGAN_LAYER_CONVT: {
        clgan_conv cv = {.n = 1, .c_in = c, .h_in = h, .w_in = w, .c_out = out, .kh = l->k,
                         .kw = l->k, .stride = l->stride, .pad = l->pad, .out_pad = l->out_pad,
                         .transposed = l->kind == CLGAN_LAYER_CONVT};
        if (clgan_conv_init(&cv) != CLGAN_OK)
          return lerr(m, name, l, i, "%s k=%d s=%d p=%d does not fit a %dx%d input",
                      l->kind == CLGAN_LAYER_CONV ? "conv" : "convt", l->k, l->stride, l->pad, h, w);
        l->weight_count = (size_t)out * (size_t)c * (size_t)l->k * (size_t)l->k;
        l->bias_count = l->bias ? (size_t)out : 0;
        c = out, h = cv.h_out, w = cv.w_out;
        if (h > MAX_SPATIAL || w > MAX_SPATIAL)
          return lerr(m, name, l, i, "output %dx%d is too large", h, w);
        break;
      }
      case CLGAN_LAYER_BATCHNORM:
        l->weight_count = l->bias_count = (size_t)c;
        l->stat_off = stats;
        stats += 2 * (size_t)c;
        break;
      case CLGAN_LAYER_RESHAPE:
        if ((long long)l->out * l->rh * l->rw != in_feat)
          return lerr(m, name, l, i, "cannot reshape %d x %d x %d (%lld values) to %d x %d x %d",
                      c, h, w, in_feat, l->out, l->rh, l->rw);
        c = l->out, h = l->rh, w = l->rw;
        break;
      case CLGAN_LAYER_FLATTEN:
        if (in_feat > MAX_FEATURES) return lerr(m, name, l, i, "flatten of %lld values is too large", in_feat);
        c = (int)in_feat, h = 1, w = 1;
        break;
      default:
        break;
    }
    if ((long long)c * h * w > MAX_FEATURES)
      return lerr(m, name, l, i, "output of %d x %d x %d values per sample is too large", c, h, w);
    l->weight_off = params;
    params += l->weight_count;
    l->bias_off = params;
    params += l->bias_count;
    if (params > (size_t)1 << 30)
      return lerr(m, name, l, i, "more than 2^30 parameters");
    l->out_c = c;
    l->out_h = h;
    l->out_w = w;
  }
  n->out_c = c;
  n->out_h = h;
  n->out_w = w;
  n->param_count = params;
  n->stat_count = stats;
  return CLGAN_OK;
}

clgan_status clgan_model_resolve(clgan_model *m, int image_channels) {
  if (m->image_c == 0) {
    if (image_channels < 1 || image_channels > 4)
      return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': image channels are 'auto' and "
                         "the data gave %d", m->name, image_channels);
    m->image_c = image_channels;
  }
  clgan_status s = resolve_net(m, "generator", &m->g, m->nz, 1, 1);
  if (s) return s;
  if (m->g.out_c != m->image_c || m->g.out_h != m->image_h || m->g.out_w != m->image_w)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': the generator makes %d x %d x %d "
                       "images but the model's images are %d x %d x %d", m->name, m->g.out_c,
                       m->g.out_h, m->g.out_w, m->image_c, m->image_h, m->image_w);
  s = resolve_net(m, "discriminator", &m->d, m->image_c, m->image_h, m->image_w);
  if (s) return s;
  if (m->d.out_c * m->d.out_h * m->d.out_w != 1)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': the discriminator must end in one "
                       "logit per image, it gives %d x %d x %d", m->name, m->d.out_c,
                       m->d.out_h, m->d.out_w);
  return CLGAN_OK;
}

void clgan_layer_tensor_name(int index, const char *what, char *out, size_t cap) {
  snprintf(out, cap, "%d.%s", index, what);
}

void clgan_net_init_params(const clgan_net_desc *n, unsigned long long seed, int which,
                           float *params, float *stats) {
  /* Each layer draws from its own counter range, so adding a layer leaves the others'
   * initial values unchanged; `which` separates G (0) from D (1). */
  for (int i = 0; i < n->count; i++) {
    const clgan_layer_desc *l = &n->layers[i];
    unsigned long long counter = ((unsigned long long)which << 60) | ((unsigned long long)i << 40);
    switch (l->kind) {
      case CLGAN_LAYER_LINEAR:
      case CLGAN_LAYER_CONV:
      case CLGAN_LAYER_CONVT:
        clgan_philox_normal(l->weight_count, seed, counter, 0.0f, 0.02f, params + l->weight_off);
        memset(params + l->bias_off, 0, l->bias_count * sizeof(float));
        break;
      case CLGAN_LAYER_BATCHNORM:
        clgan_philox_normal(l->weight_count, seed, counter, 1.0f, 0.02f, params + l->weight_off);
        memset(params + l->bias_off, 0, l->bias_count * sizeof(float));
        for (size_t c = 0; c < l->weight_count; c++) {
          stats[l->stat_off + c] = 0.0f;
          stats[l->stat_off + l->weight_count + c] = 1.0f;
        }
        break;
      default:
        break;
    }
  }
}

double clgan_net_forward_flops(const clgan_net_desc *n) {
  double f = 0.0;
  for (int i = 0; i < n->count; i++) {
    const clgan_layer_desc *l = &n->layers[i];
    switch (l->kind) {
      case CLGAN_LAYER_LINEAR:
        f += 2.0 * (double)l->weight_count;
        break;
      case CLGAN_LAYER_CONV:
        f += 2.0 * (double)l->weight_count * l->out_h * l->out_w;
        break;
      case CLGAN_LAYER_CONVT:
        f += 2.0 * (double)l->weight_count * l->in_h * l->in_w;
        break;
      default:
        f += (double)l->out_c * l->out_h * l->out_w;
        break;
    }
  }
  return f;
}
