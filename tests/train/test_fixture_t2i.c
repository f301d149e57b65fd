/* One matching-aware text-to-image iteration (src/train/gan_text.c) against PyTorch 1.13:
 * a tiny model with both networks' weighted bags of token embeddings, conditioning
 * augmentation (KL weight 2) and batch norm, batch 4. The fixture (fixture_t2i.json, made
 * once by make_fixture_t2i.py from this program's --dump) holds PyTorch's three D terms, G's
 * loss, the KL, every gradient of both networks, every parameter and D's running statistics
 * after the Adam steps. CI needs no PyTorch.
 *
 *   test_fixture_t2i --dump DIR       writes DIR/init.safetensors (clgan's initial
 *                                     checkpoint) and DIR/inputs.safetensors (images, caption
 *                                     ids and weights, mismatched ones, z, condaug's eps)
 *   test_fixture_t2i FIXTURE.json     runs the iteration and compares
 *
 * Tolerances (float32 on both sides, different summation orders): losses rel 1e-5; each
 * gradient tensor max |diff| <= 1e-4 * max |ref| + 1e-7; parameters after Adam (first step:
 * lr * g / (|g| + eps), about lr * sign(g)) within 1e-6 + 1e-5 |ref|, except elements whose
 * reference gradient is below 1e-4 of the tensor's rms, which may step either way (2 lr). */
#include <json-c/json.h>
#include <sys/stat.h>

#include "clgan/gan.h"
#include "clgan/text.h"
#include "test_util.h"

static const char *TINY =
    "model t2i-tiny\nlatent 4\nimage 1 8 8\n"
    "generator\n  input z text\n  bag: embedbag 10 6 in=text\n  t1: linear 6\n"
    "  t1a: leakyrelu 0.2\n  mulv: linear 8\n  ca: condaug kl=2\n  concat in=z,ca\n"
    "  linear 32 bias=0\n  reshape 2 4 4\n  batchnorm\n  relu\n  convt 1 k=4 s=2 p=1 bias=0\n"
    "  tanh\n"
    "discriminator\n  input image text\n  conv 4 k=4 s=2 p=1 bias=0\n  batchnorm\n"
    "  feat: leakyrelu 0.2\n  bag: embedbag 10 6 in=text\n  linear 3\n  leakyrelu 0.2\n"
    "  tile: upsample 4\n  concat in=feat,tile\n  conv 4 k=1 bias=0\n  leakyrelu 0.2\n"
    "  flatten\n  linear 1\n";

enum { B = 4, IMG = 64, NZ = 4, DIMC = 4 };

static void inputs(float *img, int32_t *text, int32_t *wrong) {
  for (int b = 0; b < B; b++)
    for (int i = 0; i < IMG; i++)
      img[b * IMG + i] = 0.9f * sinf(0.5f * (float)(i % 8 + 2 * b) + 0.3f * (float)(i / 8));
  static const int32_t caps[B][5] = {{0, 3, 7, -1, -1}, {1, 2, 2, 9, -1}, {4, 5, -1, -1, -1},
                                     {6, 8, 0, 3, 1}};
  for (int b = 0; b < B; b++) {
    int k = 0;
    while (k < 5 && caps[b][k] >= 0) k++;
    clgan_text_pack(caps[b], k, NULL, 0, 0.0f, text + (size_t)b * CLGAN_TEXT_SAMPLE_INTS);
  }
  /* sample 3 also gets an interpolation-style bag: two captions, weights 0.7 / 0.3 */
  clgan_text_pack(caps[3], 5, caps[2], 2, 0.3f, text + (size_t)3 * CLGAN_TEXT_SAMPLE_INTS);
  for (int b = 0; b < B; b++)
    memcpy(wrong + (size_t)b * CLGAN_TEXT_SAMPLE_INTS, text + (size_t)((b + 1) % B) * CLGAN_TEXT_SAMPLE_INTS,
           CLGAN_TEXT_SAMPLE_INTS * sizeof(int32_t));
}

static clgan_gan *make(clgan_ctx *ctx, clgan_model *m) {
  clgan_train_config c;
  clgan_train_config_default(&c);
  c.batch = B;
  c.seed = 3;
  clgan_gan *g = NULL;
  CHECK_OK(clgan_gan_create(ctx, m, &c, &g));
  if (!g) exit(1);
  CHECK_OK(clgan_gan_init_params(g));
  /* mulv's weights x 50 and a bias of +-1.5: mu and log sigma^2 of order 1 (DCGAN's N(0, 0.02)
   * start would leave the KL near 1e-7, below what the comparison can see), half the log
   * variances negative */
  const clgan_net_desc *d = &m->g;
  float *p = tu_alloc(d->param_count), *st = tu_alloc(d->stat_count);
  CHECK_OK(clgan_net_get_params(g->g, p, st));
  for (int i = 0; i < d->count; i++)
    if (!strcmp(d->layers[i].name, "mulv")) {
      const clgan_layer_desc *l = &d->layers[i];
      for (size_t k = 0; k < l->weight_count; k++) p[l->weight_off + k] *= 50.0f;
      for (size_t k = 0; k < l->bias_count; k++) p[l->bias_off + k] = 1.5f * sinf(1.0f + 2.0f * (float)k);
    }
  CHECK_OK(clgan_net_set_params(g->g, p, st));
  free(p), free(st);
  return g;
}

static int condaug_layer(const clgan_model *m) {
  for (int i = 0; i < m->g.count; i++)
    if (m->g.layers[i].kind == CLGAN_LAYER_CONDAUG) return i;
  return -1;
}

static int dump(const char *dir, clgan_gan *gan, clgan_model *m, const float *img,
                const int32_t *text, const int32_t *wrong) {
  mkdir(dir, 0755);
  char path[1024];
  snprintf(path, sizeof path, "%s/init.safetensors", dir);
  clgan_train_state st = {0};
  CHECK_OK(clgan_checkpoint_save(path, gan, &st));
  clgan_step_metrics mt;
  CHECK_OK(clgan_gan_iteration_text(gan, img, text, wrong, &mt, 0, NULL));
  float z[B * NZ], eps[B * DIMC];
  clgan_view zi = clgan_net_input(gan->g);
  tu_download(gan->ctx, zi.mem, zi.off, B * NZ, z);
  tu_download(gan->ctx, gan->g->acts, gan->g->save_off[condaug_layer(m)], B * DIMC, eps);
  int64_t ids[2][B * CLGAN_TEXT_SLOTS];
  float wts[2][B * CLGAN_TEXT_SLOTS];
  for (int k = 0; k < 2; k++)
    for (int b = 0; b < B; b++)
      for (int j = 0; j < CLGAN_TEXT_SLOTS; j++) {
        const int32_t *t = (k ? wrong : text) + (size_t)b * CLGAN_TEXT_SAMPLE_INTS;
        ids[k][b * CLGAN_TEXT_SLOTS + j] = t[j];
        memcpy(&wts[k][b * CLGAN_TEXT_SLOTS + j], &t[CLGAN_TEXT_SLOTS + j], sizeof(float));
      }
  clgan_st_tensor t[7] = {
      {"real", CLGAN_DTYPE_F32, 4, {B, 1, 8, 8}, img, sizeof(float) * B * IMG},
      {"z", CLGAN_DTYPE_F32, 2, {B, NZ}, z, sizeof z},
      {"eps", CLGAN_DTYPE_F32, 2, {B, DIMC}, eps, sizeof eps},
      {"text_ids", CLGAN_DTYPE_I64, 2, {B, CLGAN_TEXT_SLOTS}, ids[0], sizeof ids[0]},
      {"text_weights", CLGAN_DTYPE_F32, 2, {B, CLGAN_TEXT_SLOTS}, wts[0], sizeof wts[0]},
      {"wrong_ids", CLGAN_DTYPE_I64, 2, {B, CLGAN_TEXT_SLOTS}, ids[1], sizeof ids[1]},
      {"wrong_weights", CLGAN_DTYPE_F32, 2, {B, CLGAN_TEXT_SLOTS}, wts[1], sizeof wts[1]}};
  snprintf(path, sizeof path, "%s/inputs.safetensors", dir);
  CHECK_OK(clgan_safetensors_write(path, t, 7, NULL, NULL, 0));
  printf("clgan: loss_real %.8g loss_fake %.8g loss_wrong ? loss_d %.8g loss_g %.8g\n",
         (double)mt.loss_d, (double)mt.d_fake, (double)mt.loss_d, (double)mt.loss_g);
  return tu_finish("test_fixture_t2i --dump");
}

static double jnum(json_object *o, const char *k) {
  json_object *v;
  if (!json_object_object_get_ex(o, k, &v)) {
    fprintf(stderr, "FAIL: fixture has no '%s'\n", k);
    exit(1);
  }
  return json_object_get_double(v);
}

/* The fixture's tensor `name` in group, as floats (n of them), or NULL. */
static float *jtensor(json_object *group, const char *name, size_t n) {
  json_object *a;
  if (!json_object_object_get_ex(group, name, &a) || json_object_array_length(a) != n) return NULL;
  float *f = tu_alloc(n);
  for (size_t i = 0; i < n; i++) f[i] = (float)json_object_get_double(json_object_array_get_idx(a, i));
  return f;
}

static void check_net(json_object *fx, clgan_gan *gan, int which) {
  clgan_net *net = which ? gan->d : gan->g;
  const clgan_net_desc *d = net->desc;
  const char *prefix = which ? "discriminator" : "generator";
  float *grads = tu_alloc(d->param_count), *params = tu_alloc(d->param_count);
  float *stats = tu_alloc(d->stat_count ? d->stat_count : 1);
  CHECK_OK(clgan_net_get_params(net, params, stats));
  tu_download(gan->ctx, net->grads, 0, d->param_count, grads);
  json_object *jg, *ja;
  if (!json_object_object_get_ex(fx, "grad", &jg) || !json_object_object_get_ex(fx, "after", &ja)) {
    fprintf(stderr, "FAIL: fixture without grad/after\n");
    exit(1);
  }
  int tensors = 0;
  for (int i = 0; i < d->count; i++) {
    const clgan_layer_desc *l = &d->layers[i];
    for (int part = 0; part < 4; part++) {
      size_t off, n;
      const char *what = part == 0 ? "weight" : part == 1 ? "bias" : part == 2 ? "running_mean" : "running_var";
      if (part < 2) {
        off = part ? l->bias_off : l->weight_off;
        n = part ? l->bias_count : l->weight_count;
      } else {
        if (l->kind != CLGAN_LAYER_BATCHNORM) continue;
        off = l->stat_off + (part == 3 ? (size_t)l->out_c : 0);
        n = (size_t)l->out_c;
      }
      if (!n) continue;
      char nm[200], full[240];
      clgan_layer_tensor_name(l, i, what, nm, sizeof nm);
      snprintf(full, sizeof full, "%s.%s", prefix, nm);
      float *ra = jtensor(ja, full, n);
      CHECK(ra != NULL, "fixture lacks after['%s'] of %zu values", full, n);
      if (!ra) continue;
      tensors++;
      if (part >= 2) { /* running statistics after D's four training forwards */
        CHECK_CLOSE(stats + off, ra, n, 1e-6, 1e-5, full);
        free(ra);
        continue;
      }
      float *rg = jtensor(jg, full, n);
      CHECK(rg != NULL, "fixture lacks grad['%s']", full);
      if (!rg) {
        free(ra);
        continue;
      }
      double mx = 0, ss = 0;
      for (size_t k = 0; k < n; k++) mx = fmax(mx, fabs(rg[k])), ss += (double)rg[k] * rg[k];
      double rms = sqrt(ss / (double)n), worst = 0;
      size_t wk = 0;
      for (size_t k = 0; k < n; k++) {
        double e = fabs((double)grads[off + k] - rg[k]) / (1e-4 * mx + 1e-7);
        if (e > worst) worst = e, wk = k;
      }
      CHECK(worst <= 1.0, "grad %s: element %zu clgan %.9g torch %.9g (%.2f x tolerance)", full,
            wk, (double)grads[off + wk], (double)rg[wk], worst);
      worst = 0;
      for (size_t k = 0; k < n; k++) {
        double tol = fabs(rg[k]) <= 1e-4 * rms ? 4.1e-4 : 1e-6 + 1e-5 * fabs(ra[k]);
        double e = fabs((double)params[off + k] - ra[k]) / tol;
        if (e > worst) worst = e, wk = k;
      }
      CHECK(worst <= 1.0, "after %s: element %zu clgan %.9g torch %.9g (%.2f x tolerance)", full,
            wk, (double)params[off + wk], (double)ra[wk], worst);
      free(ra), free(rg);
    }
  }
  CHECK(tensors > 5, "%s: only %d tensors compared", prefix, tensors);
  free(grads), free(params), free(stats);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_fixture_t2i FIXTURE.json | --dump DIR\n");
    return 2;
  }
  clgan_ctx *ctx = tu_open_device();
  clgan_model m;
  CHECK_OK(clgan_model_parse(TINY, "t2i-tiny", &m));
  CHECK_OK(clgan_model_resolve(&m, 1));
  clgan_gan *gan = make(ctx, &m);
  float img[B * IMG];
  int32_t text[B * CLGAN_TEXT_SAMPLE_INTS], wrong[B * CLGAN_TEXT_SAMPLE_INTS];
  inputs(img, text, wrong);
  if (!strcmp(argv[1], "--dump") && argc > 2) return dump(argv[2], gan, &m, img, text, wrong);

  json_object *fx = json_object_from_file(argv[1]);
  if (!fx) {
    fprintf(stderr, "FAIL: cannot read %s\n", argv[1]);
    return 1;
  }
  clgan_step_metrics mt;
  float dw = 0;
  CHECK_OK(clgan_gan_iteration_text(gan, img, text, wrong, &mt, 0, &dw));
  double kl = 0, mn = 0;
  CHECK_OK(clgan_net_condaug_kl(gan->g, B, &kl, &mn));
  struct { const char *k; double got; } v[] = {
      {"loss_d", mt.loss_d}, {"loss_g", mt.loss_g}, {"d_real", mt.d_real},
      {"d_fake", mt.d_fake}, {"d_wrong", dw},       {"d_fake_after", mt.d_fake_after},
      {"kl", kl}};
  for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
    double want = jnum(fx, v[i].k);
    CHECK(fabs(v[i].got - want) <= 1e-5 * fabs(want) + 1e-7, "%s: clgan %.9g torch %.9g", v[i].k,
          v[i].got, want);
  }
  CHECK(jnum(fx, "min_logvar") < 0 && mn < 0, "log sigma^2 below 0 in both (torch %g, clgan %g)",
        jnum(fx, "min_logvar"), mn);
  check_net(fx, gan, 0);
  check_net(fx, gan, 1);
  json_object_put(fx);
  clgan_gan_free(gan);
  clgan_model_free(&m);
  clgan_ctx_free(ctx);
  return tu_finish("test_fixture_t2i");
}
