/* Classifiers: model files with a 'classifier' section (host), and the shipped
 * Fashion-MNIST classifier on a device: it loads, scores >= 91% on the first 1000 test
 * images, its logits are its final linear applied to its features, and an image's
 * features do not depend on the rest of its batch. */
#include "clgan/classifier.h"
#include "test_util.h"

#define TEST_DATA "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

static clgan_status try_model(const char *text) {
  clgan_model m;
  clgan_status s = clgan_model_parse(text, "test.model", &m);
  if (s) return s;
  s = clgan_model_resolve(&m, 1);
  clgan_model_free(&m);
  return s;
}

#define EXPECT_BAD(text, needle)                                                          \
  do {                                                                                    \
    clgan_status s_ = try_model(text);                                                    \
    CHECK(s_ == CLGAN_ERR_INVALID_ARG, "accepted a bad model (%s)", needle);             \
    CHECK(strstr(clgan_last_error(), needle) != NULL, "message '%s' lacks '%s'",          \
          clgan_last_error(), needle);                                                    \
  } while (0)

static void test_model_files(void) {
  clgan_model m;
  CHECK_OK(clgan_model_load("fmnist-classifier", &m));
  CHECK(m.kind == CLGAN_MODEL_CLASSIFIER && m.classes == 10 && !m.g.count && !m.d.count,
        "fmnist-classifier: kind %d classes %d", m.kind, m.classes);
  CHECK_OK(clgan_model_resolve(&m, 1));
  CHECK(m.c.param_count == (16 * 9 + 16) + 2 * 16 + (32 * 16 * 9 + 32) + 2 * 32 +
                               (1568 * 128 + 128) + (128 * 10 + 10),
        "fmnist-classifier parameters %zu", m.c.param_count);
  int f = clgan_classifier_feature_layer(&m.c);
  CHECK(f == m.c.count - 2 && !strcmp(m.c.layers[f].name, "feat") && m.c.layers[f].out_c == 128,
        "feature layer %d", f);
  CHECK(m.c.out_c == 10 && m.c.out_h == 1 && m.c.out_w == 1, "logits shape");
  clgan_model_free(&m);
  /* without a 'feat' node: the layer the final linear reads */
  CHECK_OK(clgan_model_parse("model t\nimage 1 4 4\nclassifier\n  flatten\n  linear 8\n  relu\n"
                             "  linear 3\n", "t", &m));
  CHECK_OK(clgan_model_resolve(&m, 1));
  CHECK(clgan_classifier_feature_layer(&m.c) == 2 && m.classes == 3, "default feature layer");
  clgan_model_free(&m);
  EXPECT_BAD("model t\nimage 1 4 4\nclassifier\n  flatten\n  linear 8\n  relu\n",
             "a classifier ends in 'linear K'");
  EXPECT_BAD("model t\nimage 1 4 4\nclassifier\n  flatten\n  linear 1\n",
             "a classifier ends in 'linear K'");
  EXPECT_BAD("model t\nimage 1 4 4\nclasses 5\nclassifier\n  flatten\n  linear 3\n",
             "'classes 5' but the final linear gives 3");
  EXPECT_BAD("model t\nlatent 4\nimage 1 4 4\ngenerator\n  linear 16\n  reshape 1 4 4\n"
             "discriminator\n  flatten\n  linear 1\nclassifier\n  flatten\n  linear 3\n",
             "a GAN (generator and discriminator) or a classifier, not both");
  EXPECT_BAD("model t\nimage 1 4 4\nclassifier\n  input z\n  flatten\n  linear 3\n",
             "a classifier takes one input, 'image'");
  EXPECT_BAD("model t\nclassifier\n  flatten\n  linear 3\n", "missing 'image C H W'");
  EXPECT_BAD("model t\nimage 1 4 4\nclassifier\n  flatten\nclassifier\n  linear 3\n",
             "second 'classifier' section");
}

static void test_shipped(clgan_ctx *ctx) {
  const char *path = SAMPLES_DIR "/fmnist-classifier.safetensors";
  clgan_classifier *c;
  CHECK_OK(clgan_classifier_load(ctx, path, 128, &c));
  if (!c) return;
  CHECK(c->classes == 10 && c->feat_dim == 128 && c->image_c == 1 && c->image_h == 28,
        "shipped: classes %d features %d", c->classes, c->feat_dim);
  CHECK(!strcmp(c->class_names[9], "Ankle boot"), "class 9 is '%s'", c->class_names[9]);
  CHECK(c->command && strstr(c->command, "clgan classify train") && c->seed == 1,
        "recorded command '%s', seed %llu", c->command ? c->command : "(none)", c->seed);
  clgan_dataset ds;
  CHECK_OK(clgan_dataset_load(TEST_DATA, 1, 28, 28, 1000, &ds));
  double acc, per[10];
  CHECK_OK(clgan_classifier_accuracy(c, &ds, &acc, per));
  printf("shipped classifier: %.4f on the first 1000 test images\n", acc);
  CHECK(acc >= 0.91, "accuracy %.4f < 0.91 on the first 1000 test images", acc);

  /* logits = the final linear of the features (W, b from the file), float tolerance */
  enum { N = 40 };
  int idx[N];
  for (int i = 0; i < N; i++) idx[i] = i;
  float *x = tu_alloc((size_t)N * 784), *lg = tu_alloc(N * 10), *ft = tu_alloc(N * 128);
  clgan_dataset_batch(&ds, idx, N, x);
  CHECK_OK(clgan_classifier_features(c, x, N, lg, ft));
  const clgan_layer_desc *last = &c->model.c.layers[c->model.c.count - 1];
  float *p = tu_alloc(c->model.c.param_count), *st = tu_alloc(c->model.c.stat_count + 1);
  CHECK_OK(clgan_net_get_params(c->net, p, st));
  float want[N * 10];
  for (int i = 0; i < N; i++)
    for (int k = 0; k < 10; k++) {
      double v = p[last->bias_off + k];
      for (int j = 0; j < 128; j++) v += (double)p[last->weight_off + k * 128 + j] * ft[i * 128 + j];
      want[i * 10 + k] = (float)v;
    }
  CHECK_CLOSE(lg, want, N * 10, 1e-4, 1e-4, "logits = linear(features)");

  /* one image at a time gives the same bits as the batch of 40 */
  float one_l[10], one_f[128];
  int same = 1;
  for (int i = 0; i < N; i += 7) {
    CHECK_OK(clgan_classifier_features(c, x + (size_t)i * 784, 1, one_l, one_f));
    same &= !memcmp(one_l, lg + i * 10, sizeof one_l) && !memcmp(one_f, ft + i * 128, sizeof one_f);
  }
  CHECK(same, "an image's features depend on its batch");

  /* the device form writes the same values where asked */
  cl_mem dx = tu_upload(ctx, x, (size_t)N * 784), dl = tu_upload(ctx, NULL, N * 10 + 3),
         df = tu_upload(ctx, NULL, N * 128);
  CHECK_OK(clgan_classifier_forward(c, N, CLGAN_VIEW(dx, 0), CLGAN_VIEW(dl, 3), CLGAN_VIEW(df, 0)));
  float *l2 = tu_alloc(N * 10), *f2 = tu_alloc(N * 128);
  tu_download(ctx, dl, 3, N * 10, l2);
  tu_download(ctx, df, 0, N * 128, f2);
  CHECK(!memcmp(l2, lg, N * 10 * 4) && !memcmp(f2, ft, N * 128 * 4), "device form differs");
  CHECK(clgan_classifier_forward(c, 129, CLGAN_VIEW(dx, 0), CLGAN_NONE, CLGAN_NONE) ==
            CLGAN_ERR_INVALID_ARG, "more than the batch accepted");
  clReleaseMemObject(dx), clReleaseMemObject(dl), clReleaseMemObject(df);
  free(x), free(lg), free(ft), free(p), free(st), free(l2), free(f2);
  clgan_dataset_free(&ds);
  clgan_classifier_free(c);

  /* a forward of fewer images than the batch: 200 of 256 needs more convolution scratch
   * than 256 (one chunk instead of two halves); the net plans for every n */
  clgan_classifier *c2;
  CHECK_OK(clgan_classifier_load(ctx, path, 256, &c2));
  if (c2) {
    clgan_dataset d2;
    CHECK_OK(clgan_dataset_load(TEST_DATA, 1, 28, 28, 200, &d2));
    double a2;
    CHECK_OK(clgan_classifier_accuracy(c2, &d2, &a2, NULL));
    clgan_dataset_free(&d2);
    clgan_classifier_free(c2);
  }

  /* not a classifier: a clear format error */
  clgan_classifier *bad = NULL;
  clgan_status s = clgan_classifier_load(ctx, SAMPLES_DIR "/dcgan28.model", 4, &bad);
  CHECK(s == CLGAN_ERR_FORMAT && !bad, "a model file loaded as a classifier: %s",
        clgan_status_name(s));
}

int main(int argc, char **argv) {
  test_model_files();
  FILE *f = fopen(TEST_DATA, "rb");
  if (!f) {
    printf("SKIP (device part): %s missing\n", TEST_DATA);
    return tu_finish("test_classifier");
  }
  fclose(f);
  clgan_ctx *ctx = tu_open_device();
  test_shipped(ctx);
  clgan_ctx_free(ctx);
  return tu_finish("test_classifier");
}
