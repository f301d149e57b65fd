/* Captions (src/text/captions.c): attributes measured on synthetic images of known
 * brightness, fill, sleeves, aspect and handle; per-class thresholds; the caption grammar;
 * the vocabulary; and the tokenizer against empty, unknown and over-long input. Host only. */
#include <stdint.h>

#include "clgan/text.h"
#include "test_util.h"

#define H 28
#define W 28

static void rect(uint8_t *img, int y0, int y1, int x0, int x1, int v) {
  for (int y = y0; y <= y1; y++)
    for (int x = x0; x <= x1; x++) img[y * W + x] = (uint8_t)v;
}

static void test_measure(void) {
  uint8_t img[H * W];
  clgan_caption_attrs a;
  /* a 10 x 14 block of level 102 (0.4): fill 140/784, brightness 0.4, aspect 10/14 */
  memset(img, 0, sizeof img);
  rect(img, 5, 14, 7, 20, 102);
  clgan_caption_measure(img, H, W, &a);
  CHECK(fabsf(a.brightness - 0.4f) < 1e-6f, "brightness %g", a.brightness);
  CHECK(fabsf(a.fill - 140.0f / 784.0f) < 1e-6f, "fill %g", a.fill);
  CHECK(fabsf(a.aspect - 10.0f / 14.0f) < 1e-6f, "aspect %g", a.aspect);
  CHECK(fabsf(a.sleeve - 1.0f) < 1e-6f, "a block's sleeve ratio is 1, got %g", a.sleeve);
  CHECK(!a.handle, "a block has no handle");
  /* pixels at or below the mask level (25) are background, whatever else is there */
  rect(img, 0, 2, 0, 27, 25);
  clgan_caption_measure(img, H, W, &a);
  CHECK(fabsf(a.fill - 140.0f / 784.0f) < 1e-6f, "faint pixels counted: fill %g", a.fill);
  /* mixed levels: mean over the item only */
  memset(img, 0, sizeof img);
  rect(img, 0, 0, 0, 1, 255);
  rect(img, 1, 1, 0, 1, 51);
  clgan_caption_measure(img, H, W, &a);
  CHECK(fabsf(a.brightness - (2 * 255 + 2 * 51) / (4 * 255.0f)) < 1e-6f, "brightness %g", a.brightness);
  /* empty image: all zero */
  memset(img, 0, sizeof img);
  clgan_caption_measure(img, H, W, &a);
  CHECK(a.fill == 0 && a.brightness == 0 && a.aspect == 0, "empty image");
  /* a T shape, short sleeves: a wide bar rows 4..9 (cols 2..25) over a body rows 4..25
   * (cols 9..18): width at 1/4 of the height 24, at 3/4 10 -> 10/24 */
  memset(img, 0, sizeof img);
  rect(img, 4, 9, 2, 25, 200);
  rect(img, 4, 25, 9, 18, 200);
  clgan_caption_measure(img, H, W, &a);
  CHECK(fabsf(a.sleeve - 10.0f / 24.0f) < 1e-6f, "T shape sleeve ratio %g", a.sleeve);
  /* long sleeves: the sleeves hang down to the bottom beside the body: ratio 1 */
  rect(img, 4, 25, 2, 5, 200);
  rect(img, 4, 25, 22, 25, 200);
  clgan_caption_measure(img, H, W, &a);
  CHECK(fabsf(a.sleeve - 1.0f) < 1e-6f, "long sleeves ratio %g", a.sleeve);
  /* a bag with a handle: a loop (rows 3..10) over a body (rows 11..24) */
  memset(img, 0, sizeof img);
  rect(img, 11, 24, 3, 24, 150);
  rect(img, 3, 4, 9, 18, 150);   /* top of the loop: one run */
  rect(img, 5, 10, 9, 10, 150);  /* its two sides: two runs per row */
  rect(img, 5, 10, 17, 18, 150);
  clgan_caption_measure(img, H, W, &a);
  CHECK(a.handle == 1, "a loop above the body is a handle");
  /* a U (two prongs with nothing above them) is not a loop */
  memset(img, 0, sizeof img);
  rect(img, 11, 24, 3, 24, 150);
  rect(img, 3, 10, 9, 10, 150);
  rect(img, 3, 10, 17, 18, 150);
  clgan_caption_measure(img, H, W, &a);
  CHECK(a.handle == 0, "two prongs are not a handle");
}

static void test_stats_words(void) {
  /* class 9 (ankle boot): 3 images of brightness 0.2, 0.5, 0.8 and fills small..wide */
  enum { N = 6 };
  uint8_t imgs[N * H * W];
  int32_t lab[N] = {9, 9, 9, 0, 0, 0};
  memset(imgs, 0, sizeof imgs);
  rect(imgs + 0 * H * W, 10, 13, 10, 13, 51);   /* dark, small */
  rect(imgs + 1 * H * W, 8, 15, 8, 15, 128);    /* middle */
  rect(imgs + 2 * H * W, 2, 25, 6, 21, 204);    /* light, wide, high (24 / 16) */
  rect(imgs + 3 * H * W, 10, 13, 10, 13, 200);
  rect(imgs + 4 * H * W, 10, 13, 10, 13, 200);
  rect(imgs + 5 * H * W, 10, 13, 10, 13, 200);
  clgan_caption_stats st;
  CHECK_OK(clgan_caption_stats_compute(imgs, lab, N, H, W, 10, &st));
  CHECK(st.classes == 10, "classes %d", st.classes);
  clgan_caption_attrs a;
  clgan_caption_words w;
  const char *want_b[3] = {"dark", NULL, "light"}, *want_s[3] = {"small", NULL, "wide"};
  for (int i = 0; i < 3; i++) {
    clgan_caption_measure(imgs + (size_t)i * H * W, H, W, &a);
    clgan_caption_words_of(&a, 9, &st, &w);
    CHECK((w.bright == NULL) == (want_b[i] == NULL) && (!w.bright || !strcmp(w.bright, want_b[i])),
          "image %d brightness word %s", i, w.bright ? w.bright : "(none)");
    CHECK((w.size == NULL) == (want_s[i] == NULL) && (!w.size || !strcmp(w.size, want_s[i])),
          "image %d size word %s", i, w.size ? w.size : "(none)");
  }
  clgan_caption_measure(imgs + 2 * H * W, H, W, &a);
  clgan_caption_words_of(&a, 9, &st, &w);
  CHECK(w.shape && !strcmp(w.shape, "high"), "the tallest boot is high: %s", w.shape ? w.shape : "-");
  /* identical images of one class: no word claims a difference */
  clgan_caption_measure(imgs + 3 * H * W, H, W, &a);
  clgan_caption_words_of(&a, 0, &st, &w);
  CHECK(!w.bright && !w.size, "equal images get no relative words");
  CHECK(clgan_caption_stats_compute(imgs, lab, N, H, W, 17, &st) == CLGAN_ERR_INVALID_ARG,
        "17 classes refused");
}

static void test_format(void) {
  char out[CLGAN_CAPTION_MAX];
  clgan_caption_words w = {"dark", NULL, NULL, NULL};
  CHECK_OK(clgan_caption_format(9, &w, 0, out));
  CHECK(!strcmp(out, "a dark ankle boot"), "got '%s'", out);
  clgan_caption_words w2 = {NULL, NULL, NULL, NULL};
  CHECK_OK(clgan_caption_format(9, &w2, 0, out));
  CHECK(!strcmp(out, "an ankle boot"), "got '%s'", out);
  clgan_caption_words w3 = {"light", "wide", NULL, "with long sleeves"};
  CHECK_OK(clgan_caption_format(2, &w3, 3, out));
  CHECK(!strcmp(out, "a pullover with long sleeves that is light and wide"), "got '%s'", out);
  clgan_caption_words w4 = {"dark", "small", "high", NULL};
  CHECK_OK(clgan_caption_format(7, &w4, 3, out));
  CHECK(!strcmp(out, "a sneaker that is dark, small and high"), "got '%s'", out);
  CHECK_OK(clgan_caption_format(1, &w, 2, out));
  CHECK(!strcmp(out, "a photo of a pair of dark trousers"), "got '%s'", out);
  CHECK_OK(clgan_caption_format(8, &w, 1, out));
  CHECK(!strcmp(out, "dark bag"), "got '%s'", out);
  CHECK(clgan_caption_format(10, &w, 0, out) == CLGAN_ERR_INVALID_ARG, "class 10 refused");
  CHECK(clgan_caption_format(0, &w, 4, out) == CLGAN_ERR_INVALID_ARG, "variant 4 refused");
  /* every caption names its class back */
  for (int c = 0; c < 10; c++)
    for (int v = 0; v < CLGAN_CAPTION_VARIANTS; v++) {
      CHECK_OK(clgan_caption_format(c, &w3, v, out));
      CHECK(clgan_caption_class(out) == c, "'%s' -> class %d, want %d", out,
            clgan_caption_class(out), c);
    }
  CHECK(clgan_caption_class("a t-shirt") == 0 && clgan_caption_class("a shirt") == 6 &&
        clgan_caption_class("Ankle Boot!") == 9 && clgan_caption_class("a boot") == -1,
        "class nouns");
}

static void test_vocab_tokenizer(void) {
  clgan_vocab v;
  CHECK_OK(clgan_vocab_from_grammar(&v));
  CHECK(v.count > 20 && v.count < 64, "grammar vocabulary of %d words", v.count);
  for (int i = 1; i < v.count; i++)
    CHECK(strcmp(v.words[i - 1], v.words[i]) < 0, "sorted and unique at %d", i);
  char *line = NULL;
  CHECK_OK(clgan_vocab_join(&v, &line));
  clgan_vocab v2;
  CHECK_OK(clgan_vocab_parse(line, &v2));
  CHECK(v2.count == v.count, "join/parse round trip %d vs %d", v2.count, v.count);
  clgan_vocab_free(&v2);
  free(line);
  const char *caps[] = {"A dark Boot.", "boot, light"};
  CHECK_OK(clgan_vocab_build(caps, 2, &v2));
  CHECK(v2.count == 4 && !strcmp(v2.words[0], "a") && !strcmp(v2.words[3], "light"),
        "built vocabulary of %d", v2.count);
  clgan_vocab_free(&v2);

  int32_t ids[CLGAN_TEXT_MAX_TOKENS];
  int k = -1;
  CHECK_OK(clgan_tokenize(&v, "A dark ankle boot.", ids, &k));
  CHECK(k == 4, "4 tokens, got %d", k);
  if (k == 4)
    CHECK(!strcmp(v.words[ids[0]], "a") && !strcmp(v.words[ids[1]], "dark") &&
          !strcmp(v.words[ids[2]], "ankle") && !strcmp(v.words[ids[3]], "boot"), "token ids");
  /* empty */
  CHECK(clgan_tokenize(&v, "", ids, &k) == CLGAN_ERR_INVALID_ARG && k == 0, "empty refused");
  CHECK(strstr(clgan_last_error(), "empty caption"), "message: %s", clgan_last_error());
  CHECK(clgan_tokenize(&v, "  ., ", ids, &k) == CLGAN_ERR_INVALID_ARG, "blank refused");
  /* unknown words: all of them named */
  CHECK(clgan_tokenize(&v, "a purple ankle boot with laces", ids, &k) == CLGAN_ERR_INVALID_ARG,
        "unknown refused");
  CHECK(strstr(clgan_last_error(), "'purple'") && strstr(clgan_last_error(), "'laces'") &&
        !strstr(clgan_last_error(), "'ankle'"), "message: %s", clgan_last_error());
  /* over-long: 17 words */
  CHECK(clgan_tokenize(&v, "a a a a a a a a a a a a a a a a a", ids, &k) == CLGAN_ERR_INVALID_ARG,
        "17 words refused");
  CHECK(strstr(clgan_last_error(), "17 words") && strstr(clgan_last_error(), "at most 16"),
        "message: %s", clgan_last_error());
  CHECK_OK(clgan_tokenize(&v, "a a a a a a a a a a a a a a a a", ids, &k));
  CHECK(k == 16, "16 words accepted");
  /* very long input, and control bytes */
  char big[4000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  CHECK(clgan_tokenize(&v, big, ids, &k) == CLGAN_ERR_INVALID_ARG, "4000 characters refused");
  CHECK(clgan_tokenize(&v, "a\x01 boot", ids, &k) == CLGAN_ERR_INVALID_ARG, "control byte refused");
  CHECK(clgan_tokenize(&v, NULL, ids, &k) == CLGAN_ERR_INVALID_ARG, "NULL refused");

  /* packing: weights 1/k, then the interpolation's (1 - t)/ka and t/kb */
  int32_t slots[CLGAN_TEXT_SAMPLE_INTS];
  int32_t a_ids[2] = {3, 4}, b_ids[4] = {5, 6, 7, 8};
  clgan_text_pack(a_ids, 2, NULL, 0, 0.0f, slots);
  float wt[CLGAN_TEXT_SLOTS];
  memcpy(wt, slots + CLGAN_TEXT_SLOTS, sizeof wt);
  CHECK(slots[0] == 3 && slots[1] == 4 && slots[2] == -1 && wt[0] == 0.5f && wt[1] == 0.5f &&
        wt[2] == 0.0f, "pack one caption");
  clgan_text_pack(a_ids, 2, b_ids, 4, 0.25f, slots);
  memcpy(wt, slots + CLGAN_TEXT_SLOTS, sizeof wt);
  CHECK(slots[2] == 5 && slots[5] == 8 && slots[6] == -1 && wt[0] == 0.375f && wt[2] == 0.0625f,
        "pack an interpolation");
  clgan_vocab_free(&v);
}

/* model files: the text input and its layers, parsed and refused */
static clgan_status try_model(const char *text) {
  clgan_model m;
  clgan_status s = clgan_model_parse(text, "test.model", &m);
  if (s) return s;
  s = clgan_model_resolve(&m, 1); /* a parsed model is freed whether it resolves or not */
  clgan_model_free(&m);
  return s;
}
#define EXPECT_BAD(text, needle)                                                             \
  do {                                                                                       \
    clgan_status s_ = try_model(text);                                                       \
    CHECK(s_ == CLGAN_ERR_INVALID_ARG && strstr(clgan_last_error(), needle),                 \
          "want a refusal with '%s', got %s: %s", needle, clgan_status_name(s_),             \
          clgan_last_error());                                                               \
  } while (0)

static void test_model_text(void) {
  clgan_model m;
  CHECK_OK(clgan_model_load("t2i28", &m));
  CHECK_OK(clgan_model_resolve(&m, 1));
  const clgan_layer_desc *bag = &m.g.layers[0], *ca = &m.g.layers[4];
  CHECK(bag->kind == CLGAN_LAYER_EMBEDBAG && bag->num == 64 && bag->out_c == 128 &&
        bag->weight_count == 64 * 128, "G's embedbag 64 x 128");
  CHECK(ca->kind == CLGAN_LAYER_CONDAUG && ca->in_c == 128 && ca->out_c == 64 && ca->p == 2.0f &&
        ca->weight_count == 0, "condaug 128 -> 64, kl 2");
  CHECK(m.g.layers[5].out_c == 164, "concat(z, c) of 164");
  CHECK(m.d.out_c == 1 && m.d.out_h == 1, "D gives one logit");
  clgan_model_free(&m);
  const char *HD = "model t\nlatent 4\nimage 1 4 4\n";
  const char *GD = "discriminator\n  flatten\n  linear 1\n";
  char buf[1024];
#define MODEL(g) (snprintf(buf, sizeof buf, "%sgenerator\n%s%s", HD, g, GD), buf)
  CHECK(try_model(MODEL("  input z text\n  e: embedbag 5 4 in=text\n  concat in=z,e\n"
                        "  linear 16\n  reshape 1 4 4\n")) == CLGAN_OK, "a text G: %s",
        clgan_last_error());
  EXPECT_BAD(MODEL("  input z text\n  e: linear 4 in=text\n  concat in=z,e\n  linear 16\n"
                   "  reshape 1 4 4\n"), "a text input can only go into 'embedbag'");
  EXPECT_BAD(MODEL("  input z text\n  embedbag 5 4\n  linear 16\n  reshape 1 4 4\n"),
             "'embedbag' needs its text input named: in=text");
  EXPECT_BAD(MODEL("  e: embedbag 5 4 in=z\n  linear 16\n  reshape 1 4 4\n"),
             "'embedbag' takes a text input, not 'z'");
  EXPECT_BAD(MODEL("  input z text\n  e: embedbag 5 in=text\n  concat in=z,e\n  linear 16\n"
                   "  reshape 1 4 4\n"), "embedbag N D");
  EXPECT_BAD(MODEL("  linear 5\n  condaug\n  linear 16\n  reshape 1 4 4\n"),
             "condaug takes (mu, log sigma^2) as 2D x 1 x 1 values, got 5 x 1 x 1");
  EXPECT_BAD(MODEL("  linear 6\n  condaug kl=-1\n  linear 16\n  reshape 1 4 4\n"),
             "bad KL weight '-1'");
  EXPECT_BAD(MODEL("  input z text\n  linear 16\n  reshape 1 4 4\n"), "input 'text' is never used");
  CHECK(try_model(MODEL("  linear 6\n  condaug kl=0.5\n  linear 16\n  reshape 1 4 4\n")) ==
            CLGAN_OK, "condaug kl=0.5: %s", clgan_last_error());
#undef MODEL
}

int main(void) {
  test_model_text();
  test_measure();
  test_stats_words();
  test_format();
  test_vocab_tokenizer();
  return tu_finish("test_captions");
}
