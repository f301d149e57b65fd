/* Progressive growing's model expansion (src/nets/progan.c), on the host: every stage and
 * fade of progan32 and progan64 is an ordinary model of the image's shape in and out, the fade nodes are
 * there only while fading, layers keep their names (so the weights copy by name at growth),
 * and malformed progressive files are refused with their line. */
#include <stdlib.h>
#include <string.h>

#include "clgan/model.h"
#include "test_util.h"

static int count_kind(const clgan_net_desc *n, clgan_layer_kind k) {
  int c = 0;
  for (int i = 0; i < n->count; i++) c += n->layers[i].kind == k;
  return c;
}

static clgan_status stage_model(const char *text, const char *name, int stage, int fading,
                                float alpha, clgan_model *m) {
  char *t = NULL;
  clgan_status s = clgan_progan_expand(text, name, stage, fading, alpha, &t);
  if (!s) s = clgan_model_parse(t, name, m);
  if (!s) s = clgan_model_resolve(m, 1);
  free(t);
  return s;
}

#define EXPECT_BAD(text, needle)                                                          \
  do {                                                                                    \
    int res_[CLGAN_MAX_STAGES], n_ = 0;                                                   \
    clgan_status s_ = clgan_progan_stages(text, "p.model", res_, &n_);                     \
    CHECK(s_ == CLGAN_ERR_INVALID_ARG, "accepted a bad progressive model (%s)", needle);  \
    CHECK(strstr(clgan_last_error(), needle) != NULL, "message '%s' lacks '%s'",          \
          clgan_last_error(), needle);                                                    \
  } while (0)

/* Every stage and fade of a progressive preset of `size` x `size` images in `stages` stages
 * from 4, G and D each with [lo, hi] parameters at the final stage. 0 when it could go on. */
static int check_preset(const char *name, int size, int stages, size_t lo, size_t hi) {
  const char *text = clgan_model_preset_text(name);
  CHECK(text && clgan_progan_is(text), "%s is a progressive preset", name);
  if (!text) return 1;
  int res[CLGAN_MAX_STAGES], n = 0;
  CHECK_OK(clgan_progan_stages(text, name, res, &n));
  CHECK(n == stages && res[0] == 4 && res[n - 1] == size, "%s: grow 4 .. %d (%d stages)", name,
        size, n);
  /* any other command sees the final stage */
  clgan_model fin;
  CHECK_OK(clgan_model_load(name, &fin));
  CHECK_OK(clgan_model_resolve(&fin, 1));
  CHECK(fin.g.out_h == size && fin.d.in_h == size && count_kind(&fin.g, CLGAN_LAYER_FADE) == 0,
        "%s final stage: %dx%d, no fade", name, size, size);
  CHECK(fin.g.param_count >= lo && fin.g.param_count <= hi && fin.d.param_count >= lo &&
            fin.d.param_count <= hi,
        "%s: G %zu, D %zu parameters", name, fin.g.param_count, fin.d.param_count);
  clgan_model prev = {0};
  int have_prev = 0;
  for (int st = 0; st < n; st++)
    for (int fading = st ? 1 : 0; fading >= 0; fading--) {
      clgan_model m;
      CHECK_OK(stage_model(text, name, st, fading, 0.25f, &m));
      if (tu_failures) return 1;
      /* the image's shape in and out at every stage, one logit */
      CHECK(m.g.out_c == 1 && m.g.out_h == size && m.g.out_w == size,
            "%s stage %d G output %dx%d", name, st, m.g.out_h, m.g.out_w);
      CHECK(m.d.in_h == size && m.d.out_c == 1 && m.d.out_h == 1, "%s stage %d D", name, st);
      CHECK(count_kind(&m.g, CLGAN_LAYER_FADE) == fading &&
                count_kind(&m.d, CLGAN_LAYER_FADE) == fading,
            "stage %d fading %d: fade nodes", st, fading);
      for (int i = 0; i < m.g.count; i++)
        if (m.g.layers[i].kind == CLGAN_LAYER_FADE)
          CHECK(m.g.layers[i].p == 0.25f, "alpha written");
      /* the grown model takes every weight of the previous one by name: all of the
       * previous model's parameter layers but its rgb of a stage no longer shown */
      if (have_prev) {
        float *fp = calloc(prev.g.param_count, sizeof(float));
        float *tp = calloc(m.g.param_count, sizeof(float));
        for (size_t i = 0; i < prev.g.param_count; i++) fp[i] = (float)(i + 1);
        int c = clgan_progan_copy_params(&prev.g, fp, NULL, &m.g, tp, NULL);
        int want = 0;
        for (int i = 0; i < prev.g.count; i++) {
          const clgan_layer_desc *l = &prev.g.layers[i];
          if (!(l->weight_count + l->bias_count)) continue;
          for (int j = 0; j < m.g.count; j++) want += !strcmp(m.g.layers[j].name, l->name);
        }
        CHECK(c == want && c > 0, "stage %d fading %d: %d layers copied, %d shared", st,
              fading, c, want);
        /* s4_1 (the first linear) lands at its place with its values */
        for (int j = 0; j < m.g.count; j++) {
          const clgan_layer_desc *l = &m.g.layers[j];
          if (strcmp(l->name, "s4_1")) continue;
          for (int i = 0; i < prev.g.count; i++)
            if (!strcmp(prev.g.layers[i].name, "s4_1"))
              CHECK(!memcmp(tp + l->weight_off, fp + prev.g.layers[i].weight_off,
                            sizeof(float) * l->weight_count),
                    "s4_1 copied by name");
        }
        free(fp), free(tp);
        clgan_model_free(&prev);
      }
      prev = m;
      have_prev = 1;
    }
  /* the last stage, stable, is the model the preset parses to */
  CHECK(prev.g.param_count == fin.g.param_count && prev.d.param_count == fin.d.param_count,
        "%s: the final stage is the preset's model", name);
  clgan_model_free(&prev);
  clgan_model_free(&fin);
  return 0;
}

int main(void) {
  CHECK(!clgan_progan_is(clgan_model_preset_text("dcgan28")), "dcgan28 is not progressive");
  if (check_preset("progan32", 32, 4, 800000, 900000)) return tu_finish("progan_grow");
  /* progan64: progan32 and a 16-channel stage at 64x64 */
  if (check_preset("progan64", 64, 5, 800000, 900000)) return tu_finish("progan_grow");
  /* bad progressive files, named by line */
  const char *head = "model p\nlatent 4\nimage 1 8 8\n";
  char buf[1024];
  snprintf(buf, sizeof buf, "%sgrow 4 16\ngenerator\nstage 4\n  linear 16\n", head);
  EXPECT_BAD(buf, "p.model:4: 'grow' needs resolutions that double");
  snprintf(buf, sizeof buf, "%sgrow 4 8\ngenerator\n  linear 16\n", head);
  EXPECT_BAD(buf, "p.model:6: a progressive model's layers go in 'stage R' or 'rgb' blocks");
  snprintf(buf, sizeof buf, "%sgrow 4 8\ngenerator\nstage 4\n  a: linear 16\n", head);
  EXPECT_BAD(buf, "p.model:7: a stage or rgb block is a plain sequence");
  snprintf(buf, sizeof buf, "%sgrow 4 8\ngenerator\nstage 4\n  linear 16\nrgb\n  conv C k=1\n"
           "discriminator\nrgb\n  conv 4 k=1\nstage 8\n  avgpool 2\nstage 4\n  flatten\n"
           "  linear 1\n", head);
  EXPECT_BAD(buf, "the generator has no layers for 'stage 8'");
  snprintf(buf, sizeof buf, "%sgrow 4 8\ngenerator\ninput z\n", head);
  EXPECT_BAD(buf, "p.model:6: a progressive model's networks take z (G) and the image (D) only");
  return tu_finish("progan_grow");
}
