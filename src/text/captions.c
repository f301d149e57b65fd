/* Captions of Fashion-MNIST images from their class and measured attributes, the vocabulary
 * built from captions, and the tokenizer (include/clgan/text.h; grammar: docs/TEXT.md).
 * Tests: tests/text/test_captions.c */
#include "clgan/text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MASK_LEVEL 25 /* a pixel above 0.1 of full scale belongs to the item */

static const char *nouns[10] = {"t-shirt", "trousers", "pullover", "dress", "coat",
                                "sandal",  "shirt",    "sneaker",  "bag",   "ankle boot"};

const char *clgan_caption_noun(int label) {
  return label >= 0 && label < 10 ? nouns[label] : NULL;
}

static int is_top(int c) { return c == 0 || c == 2 || c == 4 || c == 6; }
static int is_footwear(int c) { return c == 5 || c == 7 || c == 9; }

/* Width of row r of the mask: last item column - first + 1 (0 if none). */
static int row_width(const uint8_t *img, int w, int r) {
  int a = -1, b = -1;
  for (int x = 0; x < w; x++)
    if (img[r * w + x] > MASK_LEVEL) {
      if (a < 0) a = x;
      b = x;
    }
  return a < 0 ? 0 : b - a + 1;
}

/* Runs of item pixels in row r. */
static int row_runs(const uint8_t *img, int w, int r) {
  int runs = 0, in = 0;
  for (int x = 0; x < w; x++) {
    int on = img[r * w + x] > MASK_LEVEL;
    if (on && !in) runs++;
    in = on;
  }
  return runs;
}

void clgan_caption_measure(const uint8_t *img, int h, int w, clgan_caption_attrs *out) {
  memset(out, 0, sizeof *out);
  long cnt = 0, sum = 0;
  int r0 = h, r1 = -1, c0 = w, c1 = -1;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      int v = img[y * w + x];
      if (v <= MASK_LEVEL) continue;
      cnt++, sum += v;
      if (y < r0) r0 = y;
      if (y > r1) r1 = y;
      if (x < c0) c0 = x;
      if (x > c1) c1 = x;
    }
  if (!cnt) return;
  out->brightness = (float)((double)sum / (255.0 * (double)cnt));
  out->fill = (float)((double)cnt / ((double)h * w));
  int bh = r1 - r0 + 1, bw = c1 - c0 + 1;
  out->aspect = (float)bh / (float)bw;
  int wq = row_width(img, w, r0 + bh / 4), w3 = row_width(img, w, r0 + (3 * bh) / 4);
  out->sleeve = wq ? (float)w3 / (float)wq : 0.0f;
  /* a handle: in the top 40% of the item, a row cut in two runs (the loop's two sides)
   * with a row of one run (the loop's top) above it */
  int single_above = 0;
  for (int y = r0; y < r0 + (2 * bh) / 5 && !out->handle; y++) {
    int k = row_runs(img, w, y);
    if (k == 1) single_above = 1;
    if (k >= 2 && single_above) out->handle = 1;
  }
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

clgan_status clgan_caption_stats_compute(const uint8_t *imgs, const int32_t *labels, int n, int h,
                                         int w, int classes, clgan_caption_stats *out) {
  memset(out, 0, sizeof *out);
  if (classes < 1 || classes > 16 || n < 1 || h < 1 || w < 1 || !imgs || !labels)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "caption statistics: need labelled images of at "
                       "most 16 classes (got %d images, %d classes)", n, classes);
  out->classes = classes;
  float *v = malloc(sizeof(float) * 3 * (size_t)n);
  int *cnt = calloc(16, sizeof(int));
  if (!v || !cnt) {
    free(v), free(cnt);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  for (int c = 0; c < classes; c++) {
    int k = 0;
    for (int i = 0; i < n; i++) {
      if (labels[i] != c) continue;
      clgan_caption_attrs a;
      clgan_caption_measure(imgs + (size_t)i * h * w, h, w, &a);
      v[k] = a.brightness, v[n + k] = a.fill, v[2 * (size_t)n + k] = a.aspect;
      k++;
    }
    if (!k) continue;
    float *lo[3] = {&out->bright_lo[c], &out->fill_lo[c], &out->aspect_lo[c]};
    float *hi[3] = {&out->bright_hi[c], &out->fill_hi[c], &out->aspect_hi[c]};
    for (int j = 0; j < 3; j++) {
      float *q = v + (size_t)j * n;
      qsort(q, (size_t)k, sizeof(float), cmp_float);
      *lo[j] = q[k / 3];
      *hi[j] = q[(2 * k - 1) / 3];
    }
  }
  free(v), free(cnt);
  return CLGAN_OK;
}

void clgan_caption_words_of(const clgan_caption_attrs *a, int c, const clgan_caption_stats *st,
                            clgan_caption_words *o) {
  memset(o, 0, sizeof *o);
  if (c < 0 || c >= st->classes || c >= 16) return;
  if (a->brightness < st->bright_lo[c]) o->bright = "dark";
  else if (a->brightness > st->bright_hi[c]) o->bright = "light";
  if (a->fill < st->fill_lo[c]) o->size = "small";
  else if (a->fill > st->fill_hi[c]) o->size = "wide";
  if (is_footwear(c)) {
    if (a->aspect < st->aspect_lo[c]) o->shape = "low";
    else if (a->aspect > st->aspect_hi[c]) o->shape = "high";
  }
  if (is_top(c)) {
    /* a narrow tall top (aspect >= 1.5) with an even width is sleeveless: no word */
    if (a->sleeve >= 0.85f && a->aspect < 1.5f) o->suffix = "with long sleeves";
    else if (a->sleeve > 0.0f && a->sleeve <= 0.7f) o->suffix = "with short sleeves";
  }
  if (c == 8 && a->handle) o->suffix = "with a handle";
}

/* Appends " word" (or "word" at the start) when word is set. */
static void put(char *out, const char *word) {
  if (!word) return;
  size_t n = strlen(out);
  snprintf(out + n, CLGAN_CAPTION_MAX - n, "%s%s", n ? " " : "", word);
}

clgan_status clgan_caption_format(int label, const clgan_caption_words *w, int variant, char *out) {
  out[0] = '\0';
  if (label < 0 || label > 9 || variant < 0 || variant >= CLGAN_CAPTION_VARIANTS)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "caption of class %d, variant %d: classes 0..9, "
                       "variants 0..%d", label, variant, CLGAN_CAPTION_VARIANTS - 1);
  const char *adj[3] = {w->bright, w->size, w->shape};
  int nadj = 0;
  for (int i = 0; i < 3; i++) nadj += adj[i] != NULL;
  int plural = label == 1;
  /* the article agrees with the word after it */
  const char *first = nadj ? (adj[0] ? adj[0] : adj[1] ? adj[1] : adj[2]) : nouns[label];
  const char *article = plural ? "a pair of" : strchr("aeiou", first[0]) ? "an" : "a";
  const char *art_noun = plural ? "a pair of" : strchr("aeiou", nouns[label][0]) ? "an" : "a";
  switch (variant) {
    case 0: /* a dark small ankle boot with ... */
    case 1: /* dark small ankle boot with ... (no article) */
    case 2: /* a photo of a dark small ankle boot with ... */
      if (variant == 2) put(out, "a photo of");
      if (variant != 1) put(out, article);
      for (int i = 0; i < 3; i++) put(out, adj[i]);
      put(out, nouns[label]);
      put(out, w->suffix);
      break;
    default: /* an ankle boot with ... that is dark, small and high */
      put(out, art_noun);
      put(out, nouns[label]);
      put(out, w->suffix);
      if (nadj) {
        put(out, plural ? "that are" : "that is");
        for (int i = 0, k = 0; i < 3; i++) {
          if (!adj[i]) continue;
          if (k > 0) put(out, k == nadj - 1 ? "and" : ",");
          put(out, adj[i]);
          k++;
        }
      }
      break;
  }
  /* "x , y" -> "x, y" */
  for (char *p; (p = strstr(out, " ,"));) memmove(p, p + 1, strlen(p));
  return CLGAN_OK;
}

/* Splits a caption into lower-cased words (punctuation dropped), into buf; words[] point
 * into it. Returns the number of words, or -1 past max. */
static int split_words(const char *s, char *buf, size_t cap, char **words, int max) {
  size_t n = 0;
  int k = 0, in = 0;
  for (const char *p = s; *p && n + 2 < cap; p++) {
    unsigned char ch = (unsigned char)*p;
    if (strchr(".,!?;:", ch)) ch = ' ';
    if (isspace(ch)) {
      if (in) buf[n++] = '\0';
      in = 0;
      continue;
    }
    if (!in) {
      if (k == max) return -1;
      words[k++] = buf + n;
      in = 1;
    }
    buf[n++] = (char)tolower(ch);
  }
  buf[n] = '\0';
  return k;
}

int clgan_caption_class(const char *caption) {
  char buf[1024], *w[64];
  int k = split_words(caption, buf, sizeof buf, w, 64);
  for (int i = 0; i < k; i++) {
    if (!strcmp(w[i], "ankle") && i + 1 < k && !strcmp(w[i + 1], "boot")) return 9;
    for (int c = 0; c < 9; c++)
      if (!strcmp(w[i], nouns[c])) return c;
  }
  return -1;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void clgan_vocab_free(clgan_vocab *v) {
  if (!v) return;
  for (int i = 0; i < v->count; i++) free(v->words[i]);
  free(v->words);
  memset(v, 0, sizeof *v);
}

/* Adds the words of s to a growing list (duplicates removed at the end). */
static clgan_status add_words(clgan_vocab *v, int *cap, const char *s) {
  char buf[1024], *w[256];
  int k = split_words(s, buf, sizeof buf, w, 256);
  if (k < 0) return clgan_error(CLGAN_ERR_INVALID_ARG, "a caption of more than 256 words");
  for (int i = 0; i < k; i++) {
    if (v->count == *cap) {
      int nc = *cap ? 2 * *cap : 64;
      char **g = realloc(v->words, sizeof(char *) * (size_t)nc);
      if (!g) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
      v->words = g, *cap = nc;
    }
    v->words[v->count] = strdup(w[i]);
    if (!v->words[v->count]) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    v->count++;
  }
  return CLGAN_OK;
}

static void uniq(clgan_vocab *v) {
  if (!v->count) return;
  qsort(v->words, (size_t)v->count, sizeof(char *), cmp_str);
  int k = 1;
  for (int i = 1; i < v->count; i++) {
    if (!strcmp(v->words[i], v->words[k - 1])) free(v->words[i]);
    else v->words[k++] = v->words[i];
  }
  v->count = k;
}

clgan_status clgan_vocab_build(const char *const *captions, int n, clgan_vocab *out) {
  memset(out, 0, sizeof *out);
  int cap = 0;
  clgan_status s = CLGAN_OK;
  for (int i = 0; i < n && !s; i++) s = add_words(out, &cap, captions[i]);
  if (s) {
    clgan_vocab_free(out);
    return s;
  }
  uniq(out);
  return CLGAN_OK;
}

clgan_status clgan_vocab_from_grammar(clgan_vocab *out) {
  memset(out, 0, sizeof *out);
  static const char *br[] = {NULL, "dark", "light"}, *sz[] = {NULL, "small", "wide"},
                    *sh[] = {NULL, "low", "high"},
                    *sf[] = {NULL, "with long sleeves", "with short sleeves", "with a handle"};
  int cap = 0;
  clgan_status s = CLGAN_OK;
  char cap_text[CLGAN_CAPTION_MAX];
  for (int c = 0; c < 10 && !s; c++)
    for (int a = 0; a < 3 * 3 * 3 * 4 && !s; a++) {
      clgan_caption_words w = {br[a % 3], sz[(a / 3) % 3], sh[(a / 9) % 3], sf[a / 27]};
      for (int v = 0; v < CLGAN_CAPTION_VARIANTS && !s; v++) {
        s = clgan_caption_format(c, &w, v, cap_text);
        if (!s) s = add_words(out, &cap, cap_text);
      }
    }
  if (s) {
    clgan_vocab_free(out);
    return s;
  }
  uniq(out);
  return CLGAN_OK;
}

clgan_status clgan_vocab_parse(const char *line, clgan_vocab *out) {
  memset(out, 0, sizeof *out);
  int cap = 0;
  /* one word at a time: a stored vocabulary may be longer than a caption */
  const char *p = line;
  clgan_status s = CLGAN_OK;
  while (*p && !s) {
    while (*p == ' ') p++;
    const char *e = strchr(p, ' ');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len) {
      char word[128];
      if (len >= sizeof word) {
        s = clgan_error(CLGAN_ERR_FORMAT, "a vocabulary word of %zu characters", len);
        break;
      }
      memcpy(word, p, len);
      word[len] = '\0';
      s = add_words(out, &cap, word);
    }
    p += len;
  }
  if (s) {
    clgan_vocab_free(out);
    return s;
  }
  uniq(out);
  return CLGAN_OK;
}

clgan_status clgan_vocab_join(const clgan_vocab *v, char **out) {
  size_t n = 1;
  for (int i = 0; i < v->count; i++) n += strlen(v->words[i]) + 1;
  char *s = malloc(n);
  if (!s) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  s[0] = '\0';
  size_t at = 0;
  for (int i = 0; i < v->count; i++)
    at += (size_t)sprintf(s + at, "%s%s", i ? " " : "", v->words[i]);
  *out = s;
  return CLGAN_OK;
}

int clgan_vocab_find(const clgan_vocab *v, const char *word) {
  int lo = 0, hi = v->count - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2, c = strcmp(v->words[mid], word);
    if (!c) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

clgan_status clgan_tokenize(const clgan_vocab *v, const char *caption, int32_t *ids, int *count) {
  *count = 0;
  char buf[1024], *w[CLGAN_TEXT_MAX_TOKENS];
  if (!caption) caption = "";
  if (strlen(caption) >= sizeof buf - 2)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "caption of %zu characters: at most %d words "
                       "(and %zu characters)", strlen(caption), CLGAN_TEXT_MAX_TOKENS,
                       sizeof buf - 3);
  for (const char *p = caption; *p; p++)
    if ((unsigned char)*p < 0x20 && !isspace((unsigned char)*p))
      return clgan_error(CLGAN_ERR_INVALID_ARG, "caption has a control byte 0x%02x",
                         (unsigned char)*p);
  int k = split_words(caption, buf, sizeof buf, w, CLGAN_TEXT_MAX_TOKENS);
  if (k < 0) {
    char tmp[1024], *all[512];
    int n = split_words(caption, tmp, sizeof tmp, all, 512);
    return clgan_error(CLGAN_ERR_INVALID_ARG, "caption \"%.60s%s\" has %d words: at most %d",
                       caption, strlen(caption) > 60 ? "..." : "", n, CLGAN_TEXT_MAX_TOKENS);
  }
  if (k == 0) return clgan_error(CLGAN_ERR_INVALID_ARG, "empty caption: it needs at least one word");
  char unknown[512] = "";
  int nunk = 0;
  for (int i = 0; i < k; i++) {
    ids[i] = clgan_vocab_find(v, w[i]);
    if (ids[i] >= 0) continue;
    size_t n = strlen(unknown);
    snprintf(unknown + n, sizeof unknown - n, "%s'%s'", nunk ? ", " : "", w[i]);
    nunk++;
  }
  if (nunk) {
    char *all = NULL;
    clgan_vocab_join(v, &all);
    clgan_status s = clgan_error(CLGAN_ERR_INVALID_ARG, "unknown word%s %s in \"%s\" (the model "
                                 "knows %d words: %.300s%s)", nunk > 1 ? "s" : "", unknown,
                                 caption, v->count, all ? all : "",
                                 all && strlen(all) > 300 ? " ..." : "");
    free(all);
    return s;
  }
  *count = k;
  return CLGAN_OK;
}

void clgan_text_pack(const int32_t *ids_a, int ka, const int32_t *ids_b, int kb, float t,
                     int32_t *out) {
  float wt[CLGAN_TEXT_SLOTS];
  for (int i = 0; i < CLGAN_TEXT_SLOTS; i++) out[i] = -1, wt[i] = 0.0f;
  if (ka > CLGAN_TEXT_MAX_TOKENS) ka = CLGAN_TEXT_MAX_TOKENS;
  if (kb > CLGAN_TEXT_MAX_TOKENS) kb = CLGAN_TEXT_MAX_TOKENS;
  if (!ids_b) kb = 0;
  int at = 0;
  for (int i = 0; i < ka; i++, at++) out[at] = ids_a[i], wt[at] = (1.0f - t) / (float)ka;
  for (int i = 0; i < kb; i++, at++) out[at] = ids_b[i], wt[at] = t / (float)kb;
  memcpy(out + CLGAN_TEXT_SLOTS, wt, sizeof wt);
}
