/* Model files: parsing, presets, shape inference, parameter layout, initialisation,
 * PyTorch tensor names. Tests: tests/train/test_model.c */
#include "clgan/model.h"
#include "clgan/gan.h"

#include <ctype.h>
#include <math.h>
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
    {"concat", CLGAN_LAYER_CONCAT},       {"add", CLGAN_LAYER_ADD},
    {"mul", CLGAN_LAYER_MUL},             {"embed", CLGAN_LAYER_EMBED},
    {"upsample", CLGAN_LAYER_UPSAMPLE},   {"avgpool", CLGAN_LAYER_AVGPOOL},
    {"sumpool", CLGAN_LAYER_SUMPOOL},     {"pixelshuffle", CLGAN_LAYER_PIXELSHUFFLE},
    {"instancenorm", CLGAN_LAYER_INSTANCENORM}, {"dropout", CLGAN_LAYER_DROPOUT},
    {"prelu", CLGAN_LAYER_PRELU},         {"identity", CLGAN_LAYER_IDENTITY},
    {"embedbag", CLGAN_LAYER_EMBEDBAG},   {"condaug", CLGAN_LAYER_CONDAUG},
    {"pixelnorm", CLGAN_LAYER_PIXELNORM}, {"mbstd", CLGAN_LAYER_MBSTD},
    {"fade", CLGAN_LAYER_FADE},
};

static const char *input_words[] = {"z", "image", "label", "cond", "text"};

const char *clgan_input_kind_name(clgan_input_kind k) {
  return (unsigned)k < 5 ? input_words[k] : "unknown";
}

int clgan_net_find_input(const clgan_net_desc *n, clgan_input_kind k) {
  for (int i = 0; i < n->ninputs; i++)
    if (n->inputs[i].kind == k) return i;
  return -1;
}

static int input_kind_of(const char *w) {
  for (int i = 0; i < 5; i++)
    if (!strcmp(w, input_words[i])) return i;
  return -1;
}

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

/* A node name: a letter or '_', then letters, digits or '_'; not an input's name. */
static int valid_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n >= CLGAN_NODE_NAME || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return 0;
  for (size_t i = 1; i < n; i++)
    if (!isalnum((unsigned char)s[i]) && s[i] != '_') return 0;
  return 1;
}

/* in=a,b,c: the node's inputs by name (resolved once the section is read). */
static clgan_status parse_in(const parse_pos *pp, const char *val, clgan_layer_desc *l) {
  l->nsrc = 0;
  const char *p = val;
  while (1) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (l->nsrc == CLGAN_MAX_SRC) return perr(pp, "more than %d inputs in in=", CLGAN_MAX_SRC);
    if (len == 0 || len >= CLGAN_NODE_NAME) return perr(pp, "bad input list in='%s'", val);
    memcpy(l->src_name[l->nsrc], p, len);
    l->src_name[l->nsrc][len] = '\0';
    if (!valid_name(l->src_name[l->nsrc]))
      return perr(pp, "bad input name '%s' in in=", l->src_name[l->nsrc]);
    l->nsrc++;
    if (!comma) break;
    p = comma + 1;
  }
  return CLGAN_OK;
}

static int parse_float(const char *s, double lo, double hi, float *out) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || *end || !(v >= lo && v <= hi)) return -1;
  *out = (float)v;
  return 0;
}

/* One layer line: [NAME:] KIND [positional...] [key=value...]. */
static clgan_status parse_layer(const parse_pos *pp, char **tok, int ntok,
                                clgan_layer_desc *l) {
  memset(l, 0, sizeof *l);
  l->line = pp->line;
  size_t tl = strlen(tok[0]);
  if (tl > 1 && tok[0][tl - 1] == ':') {
    tok[0][tl - 1] = '\0';
    if (!valid_name(tok[0]) || input_kind_of(tok[0]) >= 0)
      return perr(pp, "bad node name '%s' (a letter or _, then letters, digits or _, at most "
                  "%d characters, not an input's name)", tok[0], CLGAN_NODE_NAME - 1);
    snprintf(l->name, sizeof l->name, "%s", tok[0]);
    tok++;
    ntok--;
    if (ntok == 0) return perr(pp, "node '%s' has no layer", l->name);
  }
  int found = 0;
  for (size_t i = 0; i < sizeof layer_words / sizeof *layer_words; i++)
    if (!strcmp(tok[0], layer_words[i].word)) {
      l->kind = layer_words[i].kind;
      found = 1;
    }
  if (!found)
    return perr(pp, "unknown layer '%s' (known: linear conv convt batchnorm relu leakyrelu "
                "tanh sigmoid reshape flatten concat add mul embed upsample avgpool sumpool "
                "pixelshuffle instancenorm dropout prelu identity embedbag condaug pixelnorm "
                "mbstd)", tok[0]);
  int pos = 1, per_channel = 0;
  l->nsrc = 1;
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
        if (parse_float(tok[1], -99.999, 99.999, &l->slope))
          return perr(pp, "bad slope '%s'", tok[1]);
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
    case CLGAN_LAYER_EMBED:
      if (ntok < 3 || strchr(tok[1], '=') || strchr(tok[2], '='))
        return perr(pp, "'embed' needs the number of classes and the embedding size: embed N D");
      if (parse_int(tok[1], 1, MAX_CHANNELS, &l->num) || parse_int(tok[2], 1, MAX_FEATURES, &l->out))
        return perr(pp, "bad embed size '%s %s' (classes 1..%d, size 1..%d)", tok[1], tok[2],
                    MAX_CHANNELS, MAX_FEATURES);
      pos = 3;
      break;
    case CLGAN_LAYER_EMBEDBAG:
      if (ntok < 3 || strchr(tok[1], '=') || strchr(tok[2], '='))
        return perr(pp, "'embedbag' needs the vocabulary size and the embedding size: "
                    "embedbag N D");
      if (parse_int(tok[1], 1, MAX_CHANNELS, &l->num) || parse_int(tok[2], 1, MAX_FEATURES, &l->out))
        return perr(pp, "bad embedbag size '%s %s' (vocabulary 1..%d, size 1..%d)", tok[1],
                    tok[2], MAX_CHANNELS, MAX_FEATURES);
      pos = 3;
      break;
    case CLGAN_LAYER_CONDAUG:
      l->p = 2.0f; /* StackGAN's KL weight */
      break;
    case CLGAN_LAYER_UPSAMPLE:
    case CLGAN_LAYER_AVGPOOL:
    case CLGAN_LAYER_PIXELSHUFFLE:
      if (ntok < 2 || parse_int(tok[1], 1, MAX_KERNEL, &l->k))
        return perr(pp, "'%s' needs a factor 1..%d", tok[0], MAX_KERNEL);
      pos = 2;
      break;
    case CLGAN_LAYER_MBSTD: /* the group size, default ProGAN's 4 */
      l->k = 4;
      if (ntok >= 2 && !strchr(tok[1], '=')) {
        if (parse_int(tok[1], 1, 256, &l->k)) return perr(pp, "bad mbstd group '%s' (1..256)", tok[1]);
        pos = 2;
      }
      break;
    case CLGAN_LAYER_DROPOUT:
      l->p = 0.5f;
      if (ntok >= 2 && !strchr(tok[1], '=')) {
        if (parse_float(tok[1], 0.0, 0.999, &l->p))
          return perr(pp, "bad dropout probability '%s' (0 <= p < 1)", tok[1]);
        pos = 2;
      }
      break;
    default:
      break;
  }
  for (int i = pos; i < ntok; i++) {
    char *eq = strchr(tok[i], '=');
    if (!eq) return perr(pp, "unexpected '%s' after '%s'", tok[i], tok[0]);
    *eq = '\0';
    const char *key = tok[i], *val = eq + 1;
    if (!strcmp(key, "in")) {
      clgan_status s = parse_in(pp, val, l);
      if (s) return s;
      continue;
    }
    if (l->kind == CLGAN_LAYER_FADE && !strcmp(key, "alpha")) {
      if (parse_float(val, 0.0, 1.0, &l->p))
        return perr(pp, "bad alpha '%s' for alpha= of 'fade' (0..1)", val);
      continue;
    }
    if (l->kind == CLGAN_LAYER_CONDAUG && !strcmp(key, "kl")) {
      if (parse_float(val, 0.0, 1e6, &l->p))
        return perr(pp, "bad KL weight '%s' for kl= of 'condaug' (0..1e6)", val);
      continue;
    }
    if ((!strcmp(key, "pm") || !strcmp(key, "pad")) &&
        (l->kind == CLGAN_LAYER_CONV || l->kind == CLGAN_LAYER_CONVT)) {
      /* nn.Conv2d's padding_mode; ConvTranspose2d has only zeros, as in PyTorch */
      if (strcmp(val, "zeros") && strcmp(val, "reflect"))
        return perr(pp, "bad padding mode '%s' for %s= of '%s' (zeros or reflect)", val, key, tok[0]);
      if (l->kind == CLGAN_LAYER_CONVT && !strcmp(val, "reflect"))
        return perr(pp, "'convt' pads with zeros only (as nn.ConvTranspose2d); use upsample + "
                    "conv pm=reflect");
      l->pad_reflect = !strcmp(val, "reflect");
      continue;
    }
    if (!strcmp(key, "mode") && l->kind == CLGAN_LAYER_UPSAMPLE) {
      if (!strcmp(val, "nearest")) l->mode = 0;
      else if (!strcmp(val, "bilinear")) l->mode = 1;
      else if (!strcmp(val, "bicubic")) l->mode = 2;
      else return perr(pp, "bad upsample mode '%s' (nearest, bilinear or bicubic)", val);
      continue;
    }
    int conv_like = l->kind == CLGAN_LAYER_CONV || l->kind == CLGAN_LAYER_CONVT;
    int has_bias = conv_like || l->kind == CLGAN_LAYER_LINEAR;
    int *dst = NULL;
    long lo = 0, hi = 0;
    if (conv_like && !strcmp(key, "k")) dst = &l->k, lo = 1, hi = MAX_KERNEL;
    else if (conv_like && !strcmp(key, "s")) dst = &l->stride, lo = 1, hi = MAX_KERNEL;
    else if (conv_like && !strcmp(key, "p")) dst = &l->pad, lo = 0, hi = MAX_KERNEL;
    else if (l->kind == CLGAN_LAYER_CONVT && !strcmp(key, "op")) dst = &l->out_pad, lo = 0, hi = MAX_KERNEL;
    else if (has_bias && !strcmp(key, "bias")) dst = &l->bias, lo = 0, hi = 1;
    else if (has_bias && !strcmp(key, "sn")) dst = &l->sn, lo = 0, hi = 1;
    else if (has_bias && !strcmp(key, "eq")) dst = &l->eq, lo = 0, hi = 1;
    else if (l->kind == CLGAN_LAYER_INSTANCENORM && !strcmp(key, "affine")) dst = &l->affine, lo = 0, hi = 1;
    else if (l->kind == CLGAN_LAYER_PRELU && !strcmp(key, "per_channel")) dst = &per_channel, lo = 0, hi = 1;
    if (!dst) return perr(pp, "unknown option '%s' for '%s'", key, tok[0]);
    if (parse_int(val, lo, hi, dst))
      return perr(pp, "bad value '%s' for %s= of '%s' (%ld..%ld)", val, key, tok[0], lo, hi);
  }
  if (l->kind == CLGAN_LAYER_PRELU) l->num = per_channel ? 0 : 1; /* 0: one per channel */
  if ((l->kind == CLGAN_LAYER_CONV || l->kind == CLGAN_LAYER_CONVT) && l->k == 0)
    return perr(pp, "'%s' needs a kernel size k=", tok[0]);
  if (l->sn && l->eq) return perr(pp, "'%s': sn=1 and eq=1 do not combine", tok[0]);
  int merge = l->kind == CLGAN_LAYER_CONCAT || l->kind == CLGAN_LAYER_ADD;
  if (merge && l->nsrc < 2)
    return perr(pp, "'%s' needs two or more inputs: in=a,b", tok[0]);
  if (l->kind == CLGAN_LAYER_MUL && l->nsrc != 2)
    return perr(pp, "'mul' needs two inputs: in=a,b");
  if (l->kind == CLGAN_LAYER_FADE && l->nsrc != 2)
    return perr(pp, "'fade' needs two inputs, the old stage then the new: in=old,new");
  if (!merge && l->kind != CLGAN_LAYER_MUL && l->kind != CLGAN_LAYER_FADE && l->nsrc != 1)
    return perr(pp, "'%s' takes one input, in= names %d", tok[0], l->nsrc);
  if (l->kind == CLGAN_LAYER_EMBED && !l->src_name[0][0])
    return perr(pp, "'embed' needs its label input named: in=label");
  if (l->kind == CLGAN_LAYER_EMBEDBAG && !l->src_name[0][0])
    return perr(pp, "'embedbag' needs its text input named: in=text");
  return CLGAN_OK;
}

/* Resolves every layer's input names to tensor ids, once the section is read: a name is
 * an input of the network or a node above the line (so no graph can have a cycle); each
 * input and each node but the last must be used. */
static clgan_status link_section(const char *source, clgan_net_desc *n, const char *what) {
  parse_pos pp = {source, 0};
  int nt = n->ninputs + n->count;
  char *used = calloc((size_t)nt, 1);
  if (!used) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  clgan_status s = CLGAN_OK;
  for (int i = 0; i < n->count && !s; i++) {
    clgan_layer_desc *l = &n->layers[i];
    pp.line = l->line;
    for (int j = 0; j < i && !s && l->name[0]; j++)
      if (!strcmp(l->name, n->layers[j].name))
        s = perr(&pp, "a second node named '%s' (the first is on line %d)", l->name,
                 n->layers[j].line);
    for (int k = 0; k < l->nsrc && !s; k++) {
      const char *nm = l->src_name[k];
      int id = -1;
      if (!nm[0]) {
        id = i == 0 ? 0 : n->ninputs + i - 1;
      } else {
        for (int j = 0; j < n->ninputs; j++)
          if (!strcmp(nm, clgan_input_kind_name(n->inputs[j].kind))) id = j;
        for (int j = 0; j < n->count && id < 0; j++)
          if (!strcmp(nm, n->layers[j].name)) {
            if (j >= i) {
              s = perr(&pp, "'%s' is %s (line %d): a node can only take inputs from lines "
                       "above it, so the graph can have no cycle", nm,
                       j == i ? "this node itself" : "defined below", n->layers[j].line);
              break;
            }
            id = n->ninputs + j;
          }
        if (!s && id < 0) {
          int is_input = input_kind_of(nm) >= 0;
          s = perr(&pp, "unknown input '%s' in the %s%s", nm, what,
                   is_input ? ": declare it with an 'input' line after the section's name" : "");
        }
      }
      if (s) break;
      l->src[k] = id;
      used[id] = 1;
      int is_label = id < n->ninputs && n->inputs[id].kind == CLGAN_INPUT_LABEL;
      int is_text = id < n->ninputs && n->inputs[id].kind == CLGAN_INPUT_TEXT;
      if (is_label != (l->kind == CLGAN_LAYER_EMBED))
        s = perr(&pp, is_label ? "a label input can only go into 'embed' (it holds class "
                 "numbers, not values)" : "'embed' takes a label input, not '%s'", nm);
      else if (is_text != (l->kind == CLGAN_LAYER_EMBEDBAG))
        s = perr(&pp, is_text ? "a text input can only go into 'embedbag' (it holds token "
                 "ids, not values)" : "'embedbag' takes a text input, not '%s'", nm);
    }
  }
  for (int j = 0; j < n->ninputs && !s; j++)
    if (!used[j])
      s = clgan_error(CLGAN_ERR_INVALID_ARG, "%s: the %s's input '%s' is never used", source,
                      what, clgan_input_kind_name(n->inputs[j].kind));
  for (int j = 0; j + 1 < n->count && !s; j++)
    if (!used[n->ninputs + j]) {
      pp.line = n->layers[j].line;
      s = perr(&pp, "the output of %s%s%s is never used (only the last line is the %s's "
               "output)", n->layers[j].name[0] ? "'" : "this line", n->layers[j].name,
               n->layers[j].name[0] ? "'" : "", what);
    }
  free(used);
  return s;
}

/* A classifier file: one 'classifier' section (image -> K logits), no generator or
 * discriminator, no latent; 'classes' is optional (the final linear's size is the count). */
static clgan_status parse_classifier(const char *source, clgan_model *m) {
  if (m->g.count || m->d.count || m->g.ninputs || m->d.ninputs)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: a model file is a GAN (generator and "
                       "discriminator) or a classifier, not both", source);
  if (m->image_h < 0) return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: missing 'image C H W'", source);
  if (!m->c.count) return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: no classifier layers", source);
  if (!m->c.ninputs) m->c.ninputs = 1, m->c.inputs[0].kind = CLGAN_INPUT_IMAGE;
  if (m->c.ninputs != 1 || m->c.inputs[0].kind != CLGAN_INPUT_IMAGE)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: a classifier takes one input, 'image'", source);
  const clgan_layer_desc *last = &m->c.layers[m->c.count - 1];
  if (last->kind != CLGAN_LAYER_LINEAR || last->out_is_image || last->out < 2)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s:%d: a classifier ends in 'linear K', its K "
                       "class logits (K >= 2)", source, last->line);
  if (m->classes && m->classes != last->out)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: 'classes %d' but the final linear gives %d "
                       "logits", source, m->classes, last->out);
  m->classes = last->out;
  if (m->nz < 0) m->nz = 0;
  m->kind = CLGAN_MODEL_CLASSIFIER;
  return link_section(source, &m->c, "classifier");
}

clgan_status clgan_model_parse(const char *text, const char *source, clgan_model *m) {
  if (clgan_progan_is(text)) { /* a progressive model: its final stage (src/nets/progan.c) */
    memset(m, 0, sizeof *m);
    int res[CLGAN_MAX_STAGES], count = 0;
    char *full = NULL;
    clgan_status s = clgan_progan_stages(text, source, res, &count);
    if (!s) s = clgan_progan_expand(text, source, count - 1, 0, 1.0f, &full);
    if (!s) s = clgan_model_parse(full, source, m);
    free(full);
    return s;
  }
  memset(m, 0, sizeof *m);
  snprintf(m->name, sizeof m->name, "unnamed");
  m->nz = -1;
  m->image_h = -1;
  m->loss = -1;
  m->train_lr = m->train_beta1 = m->train_beta2 = -1;
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
    } else if (!strcmp(tok[0], "cond")) {
      if (n != 4) { s = perr(&pp, "'cond' takes C H W (C may be auto)"); goto fail; }
      if (!strcmp(tok[1], "auto")) m->cond_c = 0;
      else if (parse_int(tok[1], 1, 4, &m->cond_c)) {
        s = perr(&pp, "cond channels must be 1..4 or auto, got '%s'", tok[1]);
        goto fail;
      }
      if (parse_int(tok[2], 1, MAX_SPATIAL, &m->cond_h) ||
          parse_int(tok[3], 1, MAX_SPATIAL, &m->cond_w)) {
        s = perr(&pp, "bad cond size '%s %s'", tok[2], tok[3]);
        goto fail;
      }
    } else if (!strcmp(tok[0], "classes")) {
      if (n != 2 || parse_int(tok[1], 2, MAX_CHANNELS, &m->classes)) {
        s = perr(&pp, "'classes' takes a count 2..%d", MAX_CHANNELS);
        goto fail;
      }
    } else if (!strcmp(tok[0], "loss")) {
      /* One name table for model files, flags and checkpoints (gan.c's), so the
       * indices cannot drift apart. */
      clgan_gan_loss l;
      if (n != 2 || clgan_gan_loss_parse(tok[1], &l)) {
        s = perr(&pp, "'loss' takes ns, minimax, lsgan, hinge, ragan or wgan-gp");
        goto fail;
      }
      m->loss = (int)l;
    } else if (!strcmp(tok[0], "train")) {
      /* the recipe `clgan train` uses for this model unless a flag says otherwise */
      if (n < 2) {
        s = perr(&pp, "'train' takes KEY=VALUE settings: batch, lr, beta1, beta2");
        goto fail;
      }
      for (int i = 1; i < n; i++) {
        const char *eq = strchr(tok[i], '=');
        size_t kl = eq ? (size_t)(eq - tok[i]) : 0;
        int bad = !eq;
        if (!bad && kl == 5 && !strncmp(tok[i], "batch", 5))
          bad = parse_int(eq + 1, 1, 65536, &m->train_batch);
        else if (!bad && kl == 2 && !strncmp(tok[i], "lr", 2))
          bad = parse_float(eq + 1, 1e-12, 10.0, &m->train_lr);
        else if (!bad && kl == 5 && !strncmp(tok[i], "beta1", 5))
          bad = parse_float(eq + 1, 0.0, 0.999999, &m->train_beta1);
        else if (!bad && kl == 5 && !strncmp(tok[i], "beta2", 5))
          bad = parse_float(eq + 1, 0.0, 0.999999, &m->train_beta2);
        else
          bad = 1;
        if (bad) {
          s = perr(&pp, "'train' setting '%s': expected batch=1..65536, lr=X (> 0), beta1=X or "
                   "beta2=X (in [0, 1))", tok[i]);
          goto fail;
        }
      }
    } else if (!strcmp(tok[0], "generator") || !strcmp(tok[0], "discriminator") ||
               !strcmp(tok[0], "classifier")) {
      if (n != 1) { s = perr(&pp, "'%s' takes no arguments", tok[0]); goto fail; }
      cur = tok[0][0] == 'g' ? &m->g : tok[0][0] == 'd' ? &m->d : &m->c;
      if (cur->count || cur->ninputs) { s = perr(&pp, "second '%s' section", tok[0]); goto fail; }
    } else if (!strcmp(tok[0], "input")) {
      if (!cur || cur->count || cur->ninputs || n < 2) {
        s = perr(&pp, "'input' names a section's inputs, once, before its first layer "
                 "(e.g. 'input z label')");
        goto fail;
      }
      for (int i = 1; i < n; i++) {
        int k = input_kind_of(tok[i]);
        if (k < 0) {
          s = perr(&pp, "unknown input '%s' (known: z image label cond text)", tok[i]);
          goto fail;
        }
        if (clgan_net_find_input(cur, (clgan_input_kind)k) >= 0 || cur->ninputs == CLGAN_MAX_NET_INPUTS) {
          s = perr(&pp, "input '%s' declared twice", tok[i]);
          goto fail;
        }
        cur->inputs[cur->ninputs++].kind = (clgan_input_kind)k;
      }
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
  if (m->c.count || m->c.ninputs) {
    s = parse_classifier(source, m);
    if (s) goto fail;
    goto done;
  }
  /* z needs its size; a generator without z (image-to-image) needs none */
  if (m->nz < 0 && (!m->g.ninputs || clgan_net_find_input(&m->g, CLGAN_INPUT_Z) >= 0)) {
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "%s: missing 'latent N'", source);
    goto fail;
  }
  if (m->nz < 0) m->nz = 0;
  if (m->image_h < 0) { s = clgan_error(CLGAN_ERR_INVALID_ARG, "%s: missing 'image C H W'", source); goto fail; }
  if (!m->g.count) { s = clgan_error(CLGAN_ERR_INVALID_ARG, "%s: no generator layers", source); goto fail; }
  if (!m->d.count) { s = clgan_error(CLGAN_ERR_INVALID_ARG, "%s: no discriminator layers", source); goto fail; }
  /* a section without an 'input' line takes its usual one: z for G, the image for D */
  if (!m->g.ninputs) m->g.ninputs = 1, m->g.inputs[0].kind = CLGAN_INPUT_Z;
  if (!m->d.ninputs) m->d.ninputs = 1, m->d.inputs[0].kind = CLGAN_INPUT_IMAGE;
  if (clgan_net_find_input(&m->d, CLGAN_INPUT_IMAGE) != 0) {
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "%s: the discriminator's first input must be "
                    "'image' (the images it judges)", source);
    goto fail;
  }
  if ((s = link_section(source, &m->g, "generator"))) goto fail;
  if ((s = link_section(source, &m->d, "discriminator"))) goto fail;
  int labels = clgan_net_find_input(&m->g, CLGAN_INPUT_LABEL) >= 0 ||
               clgan_net_find_input(&m->d, CLGAN_INPUT_LABEL) >= 0;
  if (labels && !m->classes) {
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "%s: a label input needs 'classes N' (the number "
                    "of classes in the data)", source);
    goto fail;
  }
  if (!labels && m->classes) {
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "%s: 'classes %d' but no network takes a label "
                    "input ('input ... label')", source, m->classes);
    goto fail;
  }
done:
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
    if (!strchr(name, '/') && !strchr(name, '.')) {
      char list[512] = "";
      for (int i = 0; clgan_model_preset_name(i); i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 clgan_model_preset_name(i));
      return clgan_error(CLGAN_ERR_INVALID_ARG, "unknown model '%s': not a preset (%s) and not "
                         "a readable file", name, list);
    }
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
  free(m->c.layers);
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

static clgan_status resolve_net(const clgan_model *m, const char *name, clgan_net_desc *n) {
  int nt = clgan_net_tensor_count(n);
  int *tc = malloc(sizeof(int) * 3 * (size_t)nt);
  if (!tc) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  int *th = tc + nt, *tw = th + nt;
  for (int j = 0; j < n->ninputs; j++) {
    clgan_net_input_desc *in = &n->inputs[j];
    switch (in->kind) {
      case CLGAN_INPUT_Z: in->c = m->nz, in->h = in->w = 1; break;
      case CLGAN_INPUT_LABEL:
      case CLGAN_INPUT_TEXT: in->c = in->h = in->w = 1; break;
      case CLGAN_INPUT_COND: in->c = m->cond_c, in->h = m->cond_h, in->w = m->cond_w; break;
      default: in->c = m->image_c, in->h = m->image_h, in->w = m->image_w; break;
    }
    tc[j] = in->c, th[j] = in->h, tw[j] = in->w;
  }
  n->in_c = n->inputs[0].c;
  n->in_h = n->inputs[0].h;
  n->in_w = n->inputs[0].w;
  size_t params = 0, stats = 0;
  clgan_status s = CLGAN_OK;
#define FAIL(...)                                   \
  do {                                              \
    s = lerr(m, name, l, i, __VA_ARGS__);           \
    goto done;                                      \
  } while (0)
  for (int i = 0; i < n->count; i++) {
    clgan_layer_desc *l = &n->layers[i];
    int s0 = l->src[0];
    int c = tc[s0], h = th[s0], w = tw[s0];
    l->in_c = c;
    l->in_h = h;
    l->in_w = w;
    int out = l->out_is_image ? m->image_c : l->out;
    long long in_feat = (long long)c * h * w;
    l->weight_count = l->bias_count = 0;
    switch (l->kind) {
      case CLGAN_LAYER_LINEAR:
        if (in_feat > MAX_FEATURES) FAIL("linear input of %lld features is too large", in_feat);
        l->weight_count = (size_t)out * (size_t)in_feat;
        l->bias_count = l->bias ? (size_t)out : 0;
        c = out, h = 1, w = 1;
        break;
      case CLGAN_LAYER_CONV:
      case CLGAN_LAYER_CONVT: {
        clgan_conv cv = {.n = 1, .c_in = c, .h_in = h, .w_in = w, .c_out = out, .kh = l->k,
                         .kw = l->k, .stride = l->stride, .pad = l->pad, .out_pad = l->out_pad,
                         .transposed = l->kind == CLGAN_LAYER_CONVT};
        if (l->pad_reflect && (l->pad >= h || l->pad >= w))
          FAIL("conv pm=reflect p=%d needs an input larger than the padding, got %dx%d", l->pad,
               h, w);
        if (clgan_conv_init(&cv) != CLGAN_OK)
          FAIL("%s k=%d s=%d p=%d does not fit a %dx%d input",
               l->kind == CLGAN_LAYER_CONV ? "conv" : "convt", l->k, l->stride, l->pad, h, w);
        l->weight_count = (size_t)out * (size_t)c * (size_t)l->k * (size_t)l->k;
        l->bias_count = l->bias ? (size_t)out : 0;
        c = out, h = cv.h_out, w = cv.w_out;
        if (h > MAX_SPATIAL || w > MAX_SPATIAL) FAIL("output %dx%d is too large", h, w);
        break;
      }
      case CLGAN_LAYER_BATCHNORM:
        l->weight_count = l->bias_count = (size_t)c;
        l->stat_off = stats;
        stats += 2 * (size_t)c;
        break;
      case CLGAN_LAYER_RESHAPE:
        if ((long long)l->out * l->rh * l->rw != in_feat)
          FAIL("cannot reshape %d x %d x %d (%lld values) to %d x %d x %d", c, h, w, in_feat,
               l->out, l->rh, l->rw);
        c = l->out, h = l->rh, w = l->rw;
        break;
      case CLGAN_LAYER_FLATTEN:
        if (in_feat > MAX_FEATURES) FAIL("flatten of %lld values is too large", in_feat);
        c = (int)in_feat, h = 1, w = 1;
        break;
      case CLGAN_LAYER_CONCAT: {
        long long sum = 0;
        for (int k = 0; k < l->nsrc; k++) {
          int t = l->src[k];
          if (th[t] != h || tw[t] != w)
            FAIL("cannot concat '%s' (%d x %d x %d) with '%s' (%d x %d x %d): the heights and "
                 "widths differ", l->src_name[0][0] ? l->src_name[0] : "the line above", tc[s0],
                 h, w, l->src_name[k], tc[t], th[t], tw[t]);
          sum += tc[t];
        }
        if (sum > MAX_FEATURES) FAIL("concat of %lld channels is too large", sum);
        c = (int)sum;
        break;
      }
      case CLGAN_LAYER_ADD:
        for (int k = 1; k < l->nsrc; k++) {
          int t = l->src[k];
          if (tc[t] != c || th[t] != h || tw[t] != w)
            FAIL("cannot add '%s' (%d x %d x %d) and '%s' (%d x %d x %d): the shapes differ",
                 l->src_name[0], c, h, w, l->src_name[k], tc[t], th[t], tw[t]);
        }
        break;
      case CLGAN_LAYER_FADE: {
        int t = l->src[1];
        if (tc[t] != c || th[t] != h || tw[t] != w)
          FAIL("cannot fade '%s' (%d x %d x %d) into '%s' (%d x %d x %d): the shapes differ",
               l->src_name[0], c, h, w, l->src_name[1], tc[t], th[t], tw[t]);
        if (l->src[0] == l->src[1]) FAIL("'fade' of '%s' with itself", l->src_name[0]);
        break;
      }
      case CLGAN_LAYER_MUL: {
        int t = l->src[1];
        if (tc[t] != c || !((th[t] == h && tw[t] == w) || (th[t] == 1 && tw[t] == 1)))
          FAIL("cannot multiply '%s' (%d x %d x %d) by '%s' (%d x %d x %d): the second must "
               "have the first's shape, or its channels as a %d x 1 x 1 vector", l->src_name[0],
               c, h, w, l->src_name[1], tc[t], th[t], tw[t], c);
        break;
      }
      case CLGAN_LAYER_EMBED:
        if (l->num != m->classes)
          FAIL("embed of %d classes, but the model has %d ('classes')", l->num, m->classes);
        l->weight_count = (size_t)l->num * (size_t)l->out;
        c = l->out, h = 1, w = 1;
        break;
      case CLGAN_LAYER_EMBEDBAG:
        l->weight_count = (size_t)l->num * (size_t)l->out;
        c = l->out, h = 1, w = 1;
        break;
      case CLGAN_LAYER_CONDAUG:
        if (h != 1 || w != 1 || c % 2)
          FAIL("condaug takes (mu, log sigma^2) as 2D x 1 x 1 values, got %d x %d x %d", c, h, w);
        c /= 2;
        break;
      case CLGAN_LAYER_UPSAMPLE:
        if ((long long)h * l->k > MAX_SPATIAL || (long long)w * l->k > MAX_SPATIAL)
          FAIL("upsample %d of %dx%d is too large", l->k, h, w);
        h *= l->k, w *= l->k;
        break;
      case CLGAN_LAYER_AVGPOOL:
        if (h % l->k || w % l->k) FAIL("avgpool %d does not divide a %dx%d input", l->k, h, w);
        h /= l->k, w /= l->k;
        break;
      case CLGAN_LAYER_SUMPOOL:
        h = w = 1;
        break;
      case CLGAN_LAYER_MBSTD:
        if (c + 1 > MAX_CHANNELS) FAIL("mbstd of %d channels is too large", c);
        c += 1;
        break;
      case CLGAN_LAYER_PIXELSHUFFLE:
        if (c % (l->k * l->k))
          FAIL("pixelshuffle %d needs channels divisible by %d, the input has %d", l->k,
               l->k * l->k, c);
        if ((long long)h * l->k > MAX_SPATIAL || (long long)w * l->k > MAX_SPATIAL)
          FAIL("pixelshuffle %d of %dx%d is too large", l->k, h, w);
        c /= l->k * l->k, h *= l->k, w *= l->k;
        break;
      case CLGAN_LAYER_INSTANCENORM:
        if (h * w < 2) FAIL("instancenorm needs more than one value per channel, the input is %dx%d", h, w);
        if (l->affine) l->weight_count = l->bias_count = (size_t)c;
        break;
      case CLGAN_LAYER_PRELU:
        l->weight_count = l->num ? 1 : (size_t)c;
        break;
      default:
        break;
    }
    if ((long long)c * h * w > MAX_FEATURES)
      FAIL("output of %d x %d x %d values per sample is too large", c, h, w);
    if (l->sn && m->kind == CLGAN_MODEL_CLASSIFIER)
      FAIL("sn=1 is for GAN models: a classifier's checkpoint has no place for u and v");
    if (l->sn) { /* spectral norm's u (out channels) and v (the rest of the weight) */
      l->sn_off = stats;
      stats += (size_t)c + l->weight_count / (size_t)c;
    }
    l->weight_off = params;
    params += l->weight_count;
    l->bias_off = params;
    params += l->bias_count;
    if (params > (size_t)1 << 30) FAIL("more than 2^30 parameters");
    l->out_c = c;
    l->out_h = h;
    l->out_w = w;
    tc[n->ninputs + i] = c, th[n->ninputs + i] = h, tw[n->ninputs + i] = w;
  }
#undef FAIL
  const clgan_layer_desc *last = &n->layers[n->count - 1];
  n->out_c = last->out_c;
  n->out_h = last->out_h;
  n->out_w = last->out_w;
  n->param_count = params;
  n->stat_count = stats;
done:
  free(tc);
  return s;
}

clgan_status clgan_model_resolve(clgan_model *m, int image_channels) {
  if (m->image_c == 0) {
    if (image_channels < 1 || image_channels > 4)
      return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': image channels are 'auto' and "
                         "the data gave %d", m->name, image_channels);
    m->image_c = image_channels;
  }
  if (m->kind == CLGAN_MODEL_CLASSIFIER) /* parse checked it ends in linear K */
    return resolve_net(m, "classifier", &m->c);
  if (!m->cond_h) m->cond_h = m->image_h, m->cond_w = m->image_w;
  if (!m->cond_c) m->cond_c = m->image_c;
  clgan_status s = resolve_net(m, "generator", &m->g);
  if (s) return s;
  if (m->g.out_c != m->image_c || m->g.out_h != m->image_h || m->g.out_w != m->image_w)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': the generator makes %d x %d x %d "
                       "images but the model's images are %d x %d x %d", m->name, m->g.out_c,
                       m->g.out_h, m->g.out_w, m->image_c, m->image_h, m->image_w);
  s = resolve_net(m, "discriminator", &m->d);
  if (s) return s;
  /* a map of logits (1, h, w) is a PatchGAN's: the losses take the mean over its patches */
  if (m->d.out_c != 1)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "model '%s': the discriminator must end in one "
                       "logit per image, it gives %d x %d x %d (a map of logits, 1 x h x w, one "
                       "per patch, is fine too)", m->name, m->d.out_c,
                       m->d.out_h, m->d.out_w);
  return CLGAN_OK;
}

void clgan_layer_tensor_name(const clgan_layer_desc *l, int index, const char *what, char *out,
                             size_t cap) {
  if (l && l->name[0]) snprintf(out, cap, "%s.%s", l->name, what);
  else snprintf(out, cap, "%d.%s", index, what);
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
        /* eq=1: N(0, 1), scaled at run time (equalised learning rate) */
        clgan_philox_normal(l->weight_count, seed, counter, 0.0f, l->eq ? 1.0f : 0.02f,
                            params + l->weight_off);
        memset(params + l->bias_off, 0, l->bias_count * sizeof(float));
        if (l->sn && stats) { /* u, v: N(0, 1) normalised, as spectral_norm starts them */
          size_t rows = (size_t)l->out_c, cols = l->weight_count / rows;
          float *uv = stats + l->sn_off;
          clgan_philox_normal(rows + cols, seed, counter + (1ull << 39), 0.0f, 1.0f, uv);
          for (int k = 0; k < 2; k++) {
            float *x = k ? uv + rows : uv;
            size_t n = k ? cols : rows;
            double q = 0.0;
            for (size_t j = 0; j < n; j++) q += (double)x[j] * x[j];
            float den = fmaxf((float)sqrt(q), 1e-12f);
            for (size_t j = 0; j < n; j++) x[j] /= den;
          }
        }
        break;
      case CLGAN_LAYER_BATCHNORM:
        clgan_philox_normal(l->weight_count, seed, counter, 1.0f, 0.02f, params + l->weight_off);
        memset(params + l->bias_off, 0, l->bias_count * sizeof(float));
        for (size_t c = 0; c < l->weight_count; c++) {
          stats[l->stat_off + c] = 0.0f;
          stats[l->stat_off + l->weight_count + c] = 1.0f;
        }
        break;
      case CLGAN_LAYER_EMBED: /* nn.Embedding's own N(0, 1) */
      case CLGAN_LAYER_EMBEDBAG: /* nn.EmbeddingBag's too */
        clgan_philox_normal(l->weight_count, seed, counter, 0.0f, 1.0f, params + l->weight_off);
        break;
      case CLGAN_LAYER_PRELU: /* nn.PReLU's 0.25 */
        for (size_t c = 0; c < l->weight_count; c++) params[l->weight_off + c] = 0.25f;
        break;
      case CLGAN_LAYER_INSTANCENORM: /* affine: nn.InstanceNorm2d's ones and zeros */
        for (size_t c = 0; c < l->weight_count; c++) params[l->weight_off + c] = 1.0f;
        memset(params + l->bias_off, 0, l->bias_count * sizeof(float));
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

void clgan_model_set_fade(clgan_net_desc *n, float alpha) {
  for (int i = 0; i < n->count; i++)
    if (n->layers[i].kind == CLGAN_LAYER_FADE) n->layers[i].p = alpha;
}
