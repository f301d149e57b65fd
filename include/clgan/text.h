/* Text for text-to-image (issue 16): captions generated from Fashion-MNIST images (class +
 * measured attributes), a vocabulary built from captions, and the tokenizer that turns a
 * caption into the token slots a model's 'text' input reads. The grammar: docs/TEXT.md.
 * Tests: tests/text/test_captions.c */
#ifndef CLGAN_TEXT_H
#define CLGAN_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "clgan/ops.h"
#include "clgan/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A caption is at most this many words. */
#define CLGAN_TEXT_MAX_TOKENS 16
/* Token slots per sample of a 'text' input: two captions' worth, so an interpolation between
 * two captions is one weighted bag. A sample is CLGAN_TEXT_SLOTS int32 ids (-1: empty slot)
 * followed by CLGAN_TEXT_SLOTS float weights (stored as their bits in int32s): 2 *
 * CLGAN_TEXT_SLOTS int32s in all. A caption of k words has weights 1/k (a mean). */
#define CLGAN_TEXT_SLOTS 32
#define CLGAN_TEXT_SAMPLE_INTS (2 * CLGAN_TEXT_SLOTS)
/* Longest caption text, bytes with the NUL. */
#define CLGAN_CAPTION_MAX 192
/* Phrasings per image. */
#define CLGAN_CAPTION_VARIANTS 4

/* Measured attributes of one grey image. */
typedef struct clgan_caption_attrs {
  float brightness; /* mean intensity (0..1) over the item's pixels (those > 0.1) */
  float fill;       /* the item's share of the frame: pixels > 0.1 / all */
  float sleeve;     /* tops: width of the item at 3/4 of its height / width at 1/4 (long
                       sleeves hang down beside the body: near 1; short ones: below) */
  float aspect;     /* the item's bounding box, height / width */
  int handle;       /* a loop above the body (a bag's handle): 1, else 0 */
} clgan_caption_attrs;

/* Per-class thresholds: the 1/3 and 2/3 quantiles of brightness, fill and aspect in the data
 * the captions describe ("dark" is darker than two thirds of that class). */
typedef struct clgan_caption_stats {
  int classes;
  float bright_lo[16], bright_hi[16];
  float fill_lo[16], fill_hi[16];
  float aspect_lo[16], aspect_hi[16];
} clgan_caption_stats;

/* The attributes of a (h, w) image of bytes (0 = background). */
void clgan_caption_measure(const uint8_t *img, int h, int w, clgan_caption_attrs *out);

/* Thresholds from n images (n, h, w) of labels 0..classes-1 (classes <= 16). */
clgan_status clgan_caption_stats_compute(const uint8_t *imgs, const int32_t *labels, int n, int h,
                                         int w, int classes, clgan_caption_stats *out);

/* The words of one image's caption: brightness ("dark", "light" or NULL), size ("small",
 * "wide" or NULL), shape ("high", "low" for footwear, or NULL), suffix ("with long sleeves",
 * "with short sleeves", "with a handle" or NULL). */
typedef struct clgan_caption_words {
  const char *bright, *size, *shape, *suffix;
} clgan_caption_words;
void clgan_caption_words_of(const clgan_caption_attrs *a, int label,
                            const clgan_caption_stats *st, clgan_caption_words *out);

/* Caption `variant` (0..CLGAN_CAPTION_VARIANTS-1) of a Fashion-MNIST class (0..9) with these
 * words, into out (CLGAN_CAPTION_MAX bytes). */
clgan_status clgan_caption_format(int label, const clgan_caption_words *w, int variant, char *out);

/* The noun of a Fashion-MNIST class ("t-shirt", ..., "ankle boot"), or NULL. */
const char *clgan_caption_noun(int label);
/* The class a caption names (the first class noun in it, "ankle boot" before "boot"), or -1. */
int clgan_caption_class(const char *caption);

/* A vocabulary: sorted unique words. */
typedef struct clgan_vocab {
  int count;
  char **words;
} clgan_vocab;

/* Every word of every caption of the grammar (all classes, words and variants): the
 * vocabulary of --task captions, built from the captions themselves. */
clgan_status clgan_vocab_from_grammar(clgan_vocab *out);
/* The vocabulary of n captions (lower-cased words, sorted, unique). */
clgan_status clgan_vocab_build(const char *const *captions, int n, clgan_vocab *out);
/* From / to one line of words separated by spaces (stored in checkpoints). */
clgan_status clgan_vocab_parse(const char *line, clgan_vocab *out);
clgan_status clgan_vocab_join(const clgan_vocab *v, char **out); /* malloc'd */
int clgan_vocab_find(const clgan_vocab *v, const char *word);   /* id or -1 */
void clgan_vocab_free(clgan_vocab *v);

/* Tokenizes a caption: lower-cased, split at spaces, '.' ',' '!' '?' ';' ':' dropped. ids
 * receives up to CLGAN_TEXT_MAX_TOKENS ids; *count their number. Empty captions, unknown
 * words (all of them named) and captions of more than CLGAN_TEXT_MAX_TOKENS words:
 * CLGAN_ERR_INVALID_ARG. */
clgan_status clgan_tokenize(const clgan_vocab *v, const char *caption, int32_t *ids, int *count);

/* One sample's text slots (CLGAN_TEXT_SAMPLE_INTS int32s): the caption's ids with weight
 * (1 - t) / k_a, then the second's with t / k_b (ids_b may be NULL with t = 0). */
void clgan_text_pack(const int32_t *ids_a, int ka, const int32_t *ids_b, int kb, float t,
                     int32_t *out);

/* ---- device nodes (src/ops/ops_text.c, kernels/text.cl) ----
 * Weighted bag of embeddings, nn.EmbeddingBag(num, dim, mode='sum') with per_sample_weights:
 * text (n, 2 slots) int32s as above (a view counting int32s), w (num, dim), y (n, dim);
 * y[i] = sum over slots k (in order) of wt[i, k] * w[id[i, k]], ids outside 0..num-1
 * skipped. The backward gathers dw (+)= over samples then slots, in order. */
clgan_status clgan_embedbag_forward(clgan_ctx *ctx, int n, int num, int dim, int slots,
                                    clgan_view text, clgan_view w, clgan_view y);
clgan_status clgan_embedbag_backward(clgan_ctx *ctx, int n, int num, int dim, int slots,
                                     clgan_view text, clgan_view dy, clgan_view dw,
                                     int accumulate);
/* Conditioning augmentation (StackGAN): x (n, 2 dim) = (mu, log sigma^2) per sample,
 * y = mu + exp(logvar / 2) * eps with eps (n, dim) given. The backward adds the gradient of
 * kl_weight * KL, KL = -0.5 mean over (n, dim) of (1 + lv - mu^2 - e^lv), to dx (n, 2 dim). */
clgan_status clgan_condaug_forward(clgan_ctx *ctx, int n, int dim, clgan_view x, clgan_view eps,
                                   clgan_view y);
clgan_status clgan_condaug_backward(clgan_ctx *ctx, int n, int dim, clgan_view x, clgan_view eps,
                                    clgan_view dy, float kl_weight, clgan_view dx,
                                    int accumulate);

#ifdef __cplusplus
}
#endif
#endif
