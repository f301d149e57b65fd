/* One super-resolution GAN iteration of clgan against PyTorch (tests/train/fixture_sr.json,
 * made by make_fixture_sr.py): a tiny x2 SRResNet-like G (PReLU, per-channel PReLU, a
 * residual add, pixel shuffle, the `upsample 2 mode=bicubic` skip from cond) and a VGG-style
 * D with batch norm, trained with the relativistic-average loss (--g-loss ragan, BasicSR's
 * ESRGAN order of D's forwards) + L1. From PyTorch's initial weights: G's output (the
 * bicubic node included), the losses, both nets' gradients, and the weights and running
 * statistics after the D and G Adam steps. fixture_sr_feat.json: the non-saturating loss and
 * the feature loss on D's 'feat' node (--feature-weight, src/train/gan_feat.c) in its place.
 * Usage: test_fixture_sr FIXTURE.json
 *
 * Tolerances as test_fixture_sr.c (float32 both sides, different summation orders, nets
 * of a few hundred weights): G's output 1e-5 relative + 2e-6; losses 1e-5 relative + 1e-6;
 * gradients 2e-4 relative + 2e-5 * rms of the tensor's gradient; running statistics
 * 5e-5 + 1e-4 relative; weights after Adam, where |grad| > 1e-3 * rms: 4e-7 absolute (0.2% of
 * the lr = 2e-4 step) + 1e-6 relative. */
#include <json-c/json.h>

#include "clgan/gan.h"
#include "test_util.h"

static struct json_object *fx;

static float *arr(const char *group, const char *name, size_t want) {
  struct json_object *g, *a;
  if (!json_object_object_get_ex(fx, group, &g) || !json_object_object_get_ex(g, name, &a) ||
      json_object_array_length(a) != want) {
    fprintf(stderr, "FAIL: fixture lacks %s.%s of %zu values\n", group, name, want);
    exit(1);
  }
  float *v = tu_alloc(want);
  for (size_t i = 0; i < want; i++) v[i] = (float)json_object_get_double(json_object_array_get_idx(a, i));
  return v;
}

static float *arr_top(const char *name, size_t want) {
  struct json_object *a;
  if (!json_object_object_get_ex(fx, name, &a) || json_object_array_length(a) != want) {
    fprintf(stderr, "FAIL: fixture lacks %s of %zu values\n", name, want);
    exit(1);
  }
  float *v = tu_alloc(want);
  for (size_t i = 0; i < want; i++) v[i] = (float)json_object_get_double(json_object_array_get_idx(a, i));
  return v;
}

static double num(const char *key) {
  struct json_object *o;
  if (!json_object_object_get_ex(fx, key, &o)) {
    fprintf(stderr, "FAIL: fixture lacks %s\n", key);
    exit(1);
  }
  return json_object_get_double(o);
}

/* Fills a net's parameter (and statistics) arenas from fixture group `group` (init/after/grad). */
static void fill(const clgan_net_desc *n, const char *prefix, const char *group, float *params,
                 float *stats, int with_stats) {
  for (int i = 0; i < n->count; i++) {
    const clgan_layer_desc *l = &n->layers[i];
    char nm[96], full[128];
    const char *what[4] = {"weight", "bias", "running_mean", "running_var"};
    size_t cnt[4] = {l->weight_count, l->bias_count, 0, 0};
    size_t off[4] = {l->weight_off, l->bias_off, 0, 0};
    if (l->kind == CLGAN_LAYER_BATCHNORM && with_stats)
      cnt[2] = cnt[3] = (size_t)l->out_c, off[2] = l->stat_off, off[3] = l->stat_off + (size_t)l->out_c;
    for (int k = 0; k < 4; k++) {
      if (!cnt[k]) continue;
      clgan_layer_tensor_name(l, i, what[k], nm, sizeof nm);
      snprintf(full, sizeof full, "%s.%s", prefix, nm);
      float *v = arr(group, full, cnt[k]);
      memcpy((k < 2 ? params : stats) + off[k], v, cnt[k] * sizeof(float));
      free(v);
    }
  }
}

static double rms(const float *g, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
  return sqrt(s / (n ? n : 1));
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_fixture_sr FIXTURE.json\n");
    return 2;
  }
  fx = json_object_from_file(argv[1]);
  if (!fx) {
    fprintf(stderr, "FAIL: cannot read %s\n", argv[1]);
    return 1;
  }
  clgan_ctx *ctx = tu_open_device();
  struct json_object *mt;
  json_object_object_get_ex(fx, "model", &mt);
  clgan_model m;
  CHECK_OK(clgan_model_parse(json_object_get_string(mt), "fixture model", &m));
  CHECK_OK(clgan_model_resolve(&m, 3));
  int B = (int)num("batch");
  clgan_train_config c;
  clgan_train_config_default(&c);
  c.batch = B;
  c.lr_g = c.lr_d = (float)num("lr");
  c.content_weight = (float)num("content_weight");
  c.adv_weight = (float)num("adv_weight");
  c.d_loss_scale = (float)num("d_loss_scale");
  struct json_object *gl;
  CHECK(json_object_object_get_ex(fx, "g_loss", &gl) &&
            !clgan_gan_loss_parse(json_object_get_string(gl), &c.loss),
        "fixture lacks a known g_loss");
  struct json_object *fw;
  if (json_object_object_get_ex(fx, "feature_weight", &fw)) /* the "feat" variant */
    c.feature_weight = (float)json_object_get_double(fw);
  clgan_gan *gan = NULL;
  CHECK_OK(clgan_gan_create(ctx, &m, &c, &gan));
  if (!gan) return tu_finish("test_fixture_sr");
  const clgan_net_desc *nets[2] = {&m.g, &m.d};
  clgan_net *dev[2] = {gan->g, gan->d};
  const char *pre[2] = {"generator", "discriminator"};
  for (int k = 0; k < 2; k++) {
    float *p = tu_alloc(nets[k]->param_count), *st = tu_alloc(nets[k]->stat_count);
    fill(nets[k], pre[k], "init", p, st, 1);
    CHECK_OK(clgan_net_set_params(dev[k], p, st));
    free(p), free(st);
  }
  size_t img = (size_t)m.image_c * m.image_h * m.image_w, ci = (size_t)m.cond_c * m.cond_h * m.cond_w;
  struct json_object *a;
  float *cond = tu_alloc(B * ci), *tgt = tu_alloc(B * img), *out = tu_alloc(B * img);
  json_object_object_get_ex(fx, "cond", &a);
  for (size_t i = 0; i < B * ci; i++) cond[i] = (float)json_object_get_double(json_object_array_get_idx(a, i));
  json_object_object_get_ex(fx, "target", &a);
  for (size_t i = 0; i < B * img; i++) tgt[i] = (float)json_object_get_double(json_object_array_get_idx(a, i));
  clgan_step_metrics mm;
  CHECK_OK(clgan_gan_iteration_cond(gan, tgt, cond, NULL, &mm, 0));
  { /* G's output of the iteration (its forward ran before either Adam step) */
    clgan_view o = clgan_net_output(gan->g);
    tu_download(ctx, o.mem, o.off, B * img, out);
    float *ow = arr_top("output", B * img);
    CHECK_CLOSE(out, ow, B * img, 2e-6, 1e-5, "G's output (bicubic skip included)");
    free(ow);
  }
  float got[5] = {mm.loss_d, mm.loss_g, mm.loss_content, mm.d_real, mm.d_fake};
  float want[5] = {(float)num("loss_d"), (float)num("loss_g_adv"), (float)num("l1"),
                   (float)num("d_real"), (float)num("d_fake")};
  CHECK_CLOSE(got, want, 5, 1e-6, 1e-5, "losses (D, G adversarial, L1, D(x), D(G(x)))");
  if (c.feature_weight > 0) {
    float fg = mm.loss_feature, fw2 = (float)num("feature");
    CHECK_CLOSE(&fg, &fw2, 1, 1e-6, 1e-5, "feature loss");
  } else {
    CHECK(isnan(mm.loss_feature), "no feature loss asked, but one reported (%g)", mm.loss_feature);
  }
  for (int k = 0; k < 2; k++) {
    size_t np = nets[k]->param_count, ns = nets[k]->stat_count;
    float *g = tu_alloc(np), *gw = tu_alloc(np), *p = tu_alloc(np), *pw = tu_alloc(np);
    float *p0 = tu_alloc(np), *st = tu_alloc(ns), *stw = tu_alloc(ns), *st0 = tu_alloc(ns);
    tu_download(ctx, dev[k]->grads, 0, np, g);
    CHECK_OK(clgan_net_get_params(dev[k], p, st));
    fill(nets[k], pre[k], "grad", gw, st0, 0);
    fill(nets[k], pre[k], "after", pw, stw, 1);
    fill(nets[k], pre[k], "init", p0, st0, 1);
    char what[96];
    snprintf(what, sizeof what, "%s gradients", pre[k]);
    double r = rms(gw, np);
    CHECK_CLOSE(g, gw, np, 2e-5 * r, 2e-4, what);
    snprintf(what, sizeof what, "%s running statistics after the iteration", pre[k]);
    CHECK_CLOSE(st, stw, ns, 5e-5, 1e-4, what);
    int bad = 0, compared = 0;
    for (size_t i = 0; i < np; i++) {
      if (fabsf(gw[i]) <= 1e-3 * r) continue;
      compared++;
      double dg = (double)p[i] - p0[i], dw = (double)pw[i] - p0[i];
      if (fabs(dg - dw) > 4e-7 + 1e-6 * fabs(pw[i])) {
        if (bad++ < 5)
          fprintf(stderr, "%s param %zu: step %.4g, PyTorch's %.4g\n", pre[k], i, dg, dw);
      }
    }
    CHECK(bad == 0 && compared > (int)np / 2, "%s weights after Adam: %d of %d differ", pre[k],
          bad, compared);
    free(g), free(gw), free(p), free(pw), free(p0), free(st), free(stw), free(st0);
  }
  free(cond), free(tgt), free(out);
  clgan_gan_free(gan);
  clgan_model_free(&m);
  clgan_ctx_free(ctx);
  json_object_put(fx);
  return tu_finish("test_fixture_sr");
}
