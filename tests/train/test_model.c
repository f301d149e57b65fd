/* Model files: presets parse and resolve to the documented shapes and parameter counts
 * (PyTorch's numbers), and each kind of bad model file is refused with its line. */
#include "clgan/gan.h"
#include "clgan/model.h"
#include "test_util.h"

static size_t count_kind(const clgan_net_desc *d, clgan_layer_kind k) {
  size_t n = 0;
  for (int i = 0; i < d->count; i++) n += d->layers[i].kind == k;
  return n;
}

/* Parses + resolves text; returns the status and leaves the message. */
static clgan_status try_model(const char *text, int channels) {
  clgan_model m;
  clgan_status s = clgan_model_parse(text, "test.model", &m);
  if (s) return s;
  s = clgan_model_resolve(&m, channels);
  clgan_model_free(&m);
  return s;
}

#define EXPECT_BAD(text, needle)                                                          \
  do {                                                                                    \
    clgan_status s_ = try_model(text, 1);                                                 \
    CHECK(s_ == CLGAN_ERR_INVALID_ARG, "accepted a bad model (%s)", needle);             \
    CHECK(strstr(clgan_last_error(), needle) != NULL, "message '%s' lacks '%s'",          \
          clgan_last_error(), needle);                                                    \
  } while (0)

static const char *HEAD = "model t\nlatent 8\nimage 1 4 4\n";

int main(void) {
  clgan_model m;
  /* dcgan28 as issue 4 defines it */
  CHECK_OK(clgan_model_load("dcgan28", &m));
  CHECK_OK(clgan_model_resolve(&m, 1));
  CHECK(m.nz == 100 && m.image_h == 28 && m.image_w == 28 && m.image_c == 1, "dcgan28 header");
  CHECK(m.g.param_count == 100 * 12544 + 2 * 256 + 256 * 128 * 16 + 2 * 128 + 128 * 16,
        "dcgan28 G params %zu", m.g.param_count);
  CHECK(m.d.param_count == 64 * 16 + 64 * 128 * 16 + 2 * 128 + 6272 + 1, "dcgan28 D params %zu",
        m.d.param_count);
  CHECK(m.g.stat_count == 2 * (256 + 128), "G stats %zu", m.g.stat_count);
  CHECK(m.g.layers[4].in_h == 7 && m.g.layers[4].out_h == 14, "convT 7->14");
  CHECK(m.d.layers[5].kind == CLGAN_LAYER_FLATTEN && m.d.layers[5].out_c == 6272, "flatten 6272");
  CHECK(m.d.out_c * m.d.out_h * m.d.out_w == 1, "one logit");
  clgan_model_free(&m);
  /* dcgan64: PyTorch's DCGAN example has 3,576,704 G and 2,765,568 D parameters for RGB */
  CHECK_OK(clgan_model_load("dcgan64", &m));
  CHECK_OK(clgan_model_resolve(&m, 3));
  CHECK(m.g.param_count == 3576704, "dcgan64 G params %zu", m.g.param_count);
  CHECK(m.d.param_count == 2765568, "dcgan64 D params %zu", m.d.param_count);
  CHECK(count_kind(&m.g, CLGAN_LAYER_BATCHNORM) == 4 && count_kind(&m.d, CLGAN_LAYER_BATCHNORM) == 3,
        "batch norms");
  CHECK(m.g.layers[1].out_h == 4 && m.g.out_h == 64, "G 1 -> 4 -> 64");
  clgan_model_free(&m);
  /* the shipped sample files equal the presets */
  CHECK_OK(clgan_model_load(SAMPLES_DIR "/dcgan28.model", &m));
  CHECK(m.text && !strcmp(m.text, clgan_model_preset_text("dcgan28")), "sample file == preset");
  clgan_model_free(&m);
  /* sn=1: u and v in the statistics arena (out, then the rest), after the layers above */
  CHECK_OK(clgan_model_load(SAMPLES_DIR "/../tests/train/dcgan28-sn.model", &m));
  CHECK_OK(clgan_model_resolve(&m, 1));
  {
    const clgan_layer_desc *c0 = &m.d.layers[0], *l6 = &m.d.layers[6];
    CHECK(c0->sn && c0->sn_off == 0 && m.d.layers[2].sn_off == 64 + 16 &&
              m.d.layers[3].stat_off == 80 + 128 + 1024 && l6->sn && l6->sn_off == 208 + 1024 + 256 &&
              m.d.stat_count == 1488 + 1 + 6272 && !m.g.layers[4].sn,
          "sn layout: u/v offsets %zu %zu, bn %zu, linear %zu, stats %zu", c0->sn_off,
          m.d.layers[2].sn_off, m.d.layers[3].stat_off, l6->sn_off, m.d.stat_count);
  }
  clgan_model_free(&m);
  /* tensor names as in an nn.Sequential */
  char name[64];
  clgan_layer_tensor_name(NULL, 4, "weight", name, sizeof name);
  CHECK(!strcmp(name, "4.weight"), "name %s", name);

  /* bad inputs, each with the line number where one applies */
  char buf[1024];
  snprintf(buf, sizeof buf, "%sgenerator\n  linear 16\n  reshape 1 4 4\n  frobnicate 3\n", HEAD);
  EXPECT_BAD(buf, "test.model:7: unknown layer 'frobnicate'");
  snprintf(buf, sizeof buf, "%sgenerator\n  conv 4 k=3 q=2\n", HEAD);
  EXPECT_BAD(buf, "test.model:5: unknown option 'q'");
  /* padding modes: zeros or reflect, reflect only on conv and smaller than the input;
   * a cond line C H W */
  snprintf(buf, sizeof buf, "%sgenerator\n  conv 4 k=3 pm=mirror\n", HEAD);
  EXPECT_BAD(buf, "test.model:5: bad padding mode 'mirror'");
  snprintf(buf, sizeof buf, "%sgenerator\n  convt 4 k=3 pad=reflect\n", HEAD);
  EXPECT_BAD(buf, "test.model:5: 'convt' pads with zeros only");
  snprintf(buf, sizeof buf, "%sgenerator\n  linear 16\n  reshape 1 4 4\n  conv 1 k=9 p=4 pm=reflect\n"
           "discriminator\n  flatten\n  linear 1\n", HEAD);
  EXPECT_BAD(buf, "line 7 (generator layer 2): conv pm=reflect p=4 needs an input larger");
  snprintf(buf, sizeof buf, "%scond 1 2\n", HEAD);
  EXPECT_BAD(buf, "test.model:4: 'cond' takes C H W");
  snprintf(buf, sizeof buf, "%scond 5 2 2\n", HEAD);
  EXPECT_BAD(buf, "cond channels must be 1..4 or auto");
  snprintf(buf, sizeof buf, "%sgenerator\n  conv 4 s=2\n", HEAD);
  EXPECT_BAD(buf, "needs a kernel size");
  /* sn=: 0 or 1, on linear / conv / convt only */
  snprintf(buf, sizeof buf, "%sgenerator\n  conv 4 k=3 sn=2\n", HEAD);
  EXPECT_BAD(buf, "test.model:5: bad value '2' for sn=");
  snprintf(buf, sizeof buf, "%sgenerator\n  linear 16\n  reshape 1 4 4\n  batchnorm sn=1\n", HEAD);
  EXPECT_BAD(buf, "test.model:7: unknown option 'sn'");
  snprintf(buf, sizeof buf, "%sgenerator\n  linear 99999999999\n", HEAD);
  EXPECT_BAD(buf, "test.model:5: bad output size");
  snprintf(buf, sizeof buf, "%sgenerator\n  conv 70000 k=3\n", HEAD);
  EXPECT_BAD(buf, "bad output size '70000'");
  snprintf(buf, sizeof buf, "model t\nlatent 8\nimage 1 4 4\nlinear 3\n");
  EXPECT_BAD(buf, "test.model:4: unknown keyword 'linear'");
  snprintf(buf, sizeof buf, "%sgenerator\n  linear 16\n  reshape 1 4 4\n", HEAD);
  EXPECT_BAD(buf, "no discriminator layers");
  snprintf(buf, sizeof buf, "model t\nimage 1 4 4\ngenerator\n  linear 16\n");
  EXPECT_BAD(buf, "missing 'latent N'");
  /* shapes that do not chain */
  snprintf(buf, sizeof buf, "%sgenerator\n  linear 16\n  reshape 2 4 4\ndiscriminator\n  flatten\n  linear 1\n", HEAD);
  EXPECT_BAD(buf, "line 6 (generator layer 1): cannot reshape");
  snprintf(buf, sizeof buf, "%sgenerator\n  linear 16\n  reshape 1 4 4\n  conv 1 k=9\n"
           "discriminator\n  flatten\n  linear 1\n", HEAD);
  EXPECT_BAD(buf, "line 7 (generator layer 2): conv k=9");
  /* output does not match the data / D not one logit */
  snprintf(buf, sizeof buf, "%sgenerator\n  linear 32\n  reshape 2 4 4\ndiscriminator\n  flatten\n  linear 1\n", HEAD);
  EXPECT_BAD(buf, "the generator makes 2 x 4 x 4 images");
  snprintf(buf, sizeof buf, "%sgenerator\n  linear 16\n  reshape 1 4 4\ndiscriminator\n  flatten\n  linear 2\n", HEAD);
  EXPECT_BAD(buf, "must end in one logit");
  /* absurd sizes are refused before any allocation */
  snprintf(buf, sizeof buf, "%sgenerator\n  linear 60000000\n  linear 60000000\n"
           "discriminator\n  flatten\n  linear 1\n", HEAD);
  EXPECT_BAD(buf, "more than 2^30 parameters");
  /* 'auto' channels take the data's; a binary file is refused */
  snprintf(buf, sizeof buf, "model t\nlatent 8\nimage auto 4 4\ngenerator\n  linear 48\n  "
           "reshape C 4 4\ndiscriminator\n  flatten\n  linear 1\n");
  CHECK(try_model(buf, 3) == CLGAN_ERR_INVALID_ARG, "reshape C is not supported: got %s",
        clgan_last_error());
  snprintf(buf, sizeof buf, "model t\nlatent 8\nimage auto 4 4\ngenerator\n  linear 16\n  "
           "reshape 1 4 4\n  conv C k=1\ndiscriminator\n  flatten\n  linear 1\n");
  CHECK_OK(try_model(buf, 3));
  /* The 'loss' line maps every name to the trainer's own value (a separate table here once
   * read 'wgan-gp' as ragan). */
  for (int l = 0; l <= CLGAN_GLOSS_WGAN_GP; l++) {
    const char *name = clgan_gan_loss_name((clgan_gan_loss)l);
    snprintf(buf, sizeof buf, "%sloss %s\ngenerator\n  linear 16\n  reshape 1 4 4\n"
             "discriminator\n  flatten\n  linear 1\n", HEAD, name);
    CHECK_OK(clgan_model_parse(buf, "test.model", &m));
    CHECK(m.loss == l, "'loss %s' parsed as %d", name, m.loss);
    clgan_model_free(&m);
  }
  snprintf(buf, sizeof buf, "%sloss wgan\ngenerator\n  linear 16\n", HEAD);
  EXPECT_BAD(buf, "'loss' takes");
  CHECK(clgan_model_load("no-such-model", &m) == CLGAN_ERR_INVALID_ARG &&
            strstr(clgan_last_error(), "dcgan28"), "unknown preset: %s", clgan_last_error());
  return tu_finish("model");
}
