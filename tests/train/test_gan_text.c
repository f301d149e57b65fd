/* The matching-aware text-to-image trainer (src/train/gan_text.c) on t2i28 at a small batch:
 * the D step leaves G's weights and Adam state bitwise unchanged and changes D's; the G step
 * leaves D's unchanged; D's gradient is the sum of its three terms (real + right caption 1,
 * G(z, caption) 1/2, real + mismatched caption 1/2), each recomputed alone from the same
 * state; the KL of conditioning augmentation reaches G's gradient exactly as its formula says
 * (a kl=2 run against a kl=0 run of the same state); with the losses --g-loss offers (lsgan,
 * hinge, minimax) D's gradient is the sum of that loss's three terms and G's loss is its
 * formula; log sigma^2 goes below zero (no ReLU before the split); two runs are bitwise
 * equal; and generate from text. */
#include "clgan/gan.h"
#include "clgan/text.h"
#include "test_util.h"

enum { B = 8 };

static float *arena(clgan_ctx *ctx, cl_mem m, size_t n) {
  float *h = tu_alloc(n);
  tu_download(ctx, m, 0, n, h);
  return h;
}
static int same(const float *a, const float *b, size_t n) { return !memcmp(a, b, n * sizeof *a); }

static clgan_gan *make_loss(clgan_ctx *ctx, clgan_model *m, clgan_gan_loss loss) {
  clgan_train_config c;
  clgan_train_config_default(&c);
  c.loss = loss;
  c.batch = B;
  c.seed = 5;
  clgan_gan *g = NULL;
  CHECK_OK(clgan_gan_create(ctx, m, &c, &g));
  if (!g) exit(1);
  CHECK_OK(clgan_gan_init_params(g));
  return g;
}
static clgan_gan *make(clgan_ctx *ctx, clgan_model *m) { return make_loss(ctx, m, CLGAN_GLOSS_NS); }

/* images, captions (ids 0..29, 2..6 words) and mismatched captions (the next sample's) */
static void batch_of(int step, float *img, int32_t *text, int32_t *wrong) {
  for (int b = 0; b < B; b++) {
    for (int i = 0; i < 784; i++)
      img[b * 784 + i] = 0.9f * sinf(0.3f * (float)(i % 28 + b) + 0.2f * (float)(i / 28) * (float)(step + 1));
    int32_t ids[6];
    int k = 2 + (b + step) % 5;
    for (int j = 0; j < k; j++) ids[j] = (b * 7 + j * 3 + step) % 30;
    clgan_text_pack(ids, k, NULL, 0, 0.0f, text + (size_t)b * CLGAN_TEXT_SAMPLE_INTS);
  }
  for (int b = 0; b < B; b++)
    memcpy(wrong + (size_t)b * CLGAN_TEXT_SAMPLE_INTS,
           text + (size_t)((b + 1) % B) * CLGAN_TEXT_SAMPLE_INTS,
           CLGAN_TEXT_SAMPLE_INTS * sizeof(int32_t));
}

static void upload(clgan_gan *gan, const float *img, const int32_t *text, const int32_t *wrong) {
  size_t per = (size_t)B * CLGAN_TEXT_SAMPLE_INTS * sizeof(int32_t);
  CHECK_OK(clgan_buffer_write(gan->ctx, gan->text, 0, per, text));
  CHECK_OK(clgan_buffer_write(gan->ctx, gan->text, per, per, wrong));
  CHECK_OK(clgan_buffer_write(gan->ctx, gan->real, 0, (size_t)B * 784 * sizeof(float), img));
  CHECK_OK(clgan_gan_sample_z(gan, gan->step));
}

/* D's gradient of one term alone, from the current state: forward, loss * scale, backward */
static float *d_term_kind(clgan_gan *gan, clgan_view x, int wrong, clgan_loss kind, float t,
                          float scale) {
  size_t pc = gan->d->desc->param_count;
  CHECK_OK(clgan_net_bind(gan->d, CLGAN_INPUT_TEXT,
                          CLGAN_VIEW(gan->text, wrong ? (size_t)B * CLGAN_TEXT_SAMPLE_INTS : 0)));
  CHECK_OK(clgan_net_forward(gan->d, B, x, CLGAN_BN_BATCH_STATS));
  CHECK_OK(clgan_loss_forward_backward(gan->ctx, kind, t, B, clgan_net_output(gan->d), scale,
                                       CLGAN_VIEW(gan->metrics, 12), CLGAN_VIEW(gan->dlogits, 0)));
  CHECK_OK(clgan_net_backward(gan->d, B, CLGAN_VIEW(gan->dlogits, 0), 1, 0, CLGAN_NONE));
  return arena(gan->ctx, gan->d->grads, pc);
}
static float *d_term(clgan_gan *gan, clgan_view x, int wrong, int real, float scale) {
  return d_term_kind(gan, x, wrong, CLGAN_LOSS_BCE, real ? 1.0f : 0.0f, scale);
}

/* --g-loss for text runs: with lsgan, hinge and minimax, D's gradient is the sum of its
 * three terms under that loss (LSGAN 0.5 (x - t)^2 with t = 1, 0, 0; hinge relu(1 - t x)
 * with t = 1, -1, -1; minimax's D is BCE), and G's loss is that loss's G term of D's logits
 * on G(z, caption): 0.5 (x - 1)^2, -x, -softplus(x). */
static void check_loss(clgan_ctx *ctx, clgan_model *m, clgan_gan_loss loss, const float *img,
                       const int32_t *text, const int32_t *wrong) {
  const char *name = clgan_gan_loss_name(loss);
  clgan_gan *gan = make_loss(ctx, m, loss);
  size_t dp = m->d.param_count;
  upload(gan, img, text, wrong);
  CHECK_OK(clgan_gan_snapshot(gan));
  CHECK_OK(clgan_gan_text_d_step(gan));
  float *dgrad = arena(ctx, gan->d->grads, dp);
  CHECK_OK(clgan_gan_rollback(gan));
  CHECK_OK(clgan_net_forward(gan->g, B, CLGAN_NONE, CLGAN_BN_BATCH_STATS));
  clgan_loss kind = loss == CLGAN_GLOSS_LSGAN ? CLGAN_LOSS_SQUARED
                    : loss == CLGAN_GLOSS_HINGE ? CLGAN_LOSS_HINGE : CLGAN_LOSS_BCE;
  float fake_t = loss == CLGAN_GLOSS_HINGE ? -1.0f : 0.0f;
  float *t1 = d_term_kind(gan, CLGAN_VIEW(gan->real, 0), 0, kind, 1.0f, 1.0f);
  float *t2 = d_term_kind(gan, clgan_net_output(gan->g), 0, kind, fake_t, 0.5f);
  float *t3 = d_term_kind(gan, CLGAN_VIEW(gan->real, 0), 1, kind, fake_t, 0.5f);
  float *sum = tu_alloc(dp);
  for (size_t i = 0; i < dp; i++) sum[i] = t1[i] + t2[i] + t3[i];
  char what[96];
  snprintf(what, sizeof what, "%s: D's gradient vs its three terms", name);
  CHECK_CLOSE(dgrad, sum, dp, 1e-6, 1e-4, what);
  /* the G step's loss from D's logits on G(z, caption) */
  CHECK_OK(clgan_gan_rollback(gan));
  CHECK_OK(clgan_gan_text_d_step(gan));
  CHECK_OK(clgan_gan_text_g_step(gan));
  float x[B], v[8];
  clgan_view o = clgan_net_output(gan->d);
  tu_download(ctx, o.mem, o.off, B, x);
  tu_download(ctx, gan->metrics, 0, 8, v);
  double want = 0.0;
  for (int b = 0; b < B; b++) {
    double sp = x[b] > 0 ? x[b] + log1p(exp(-x[b])) : log1p(exp(x[b])); /* softplus */
    want += loss == CLGAN_GLOSS_LSGAN ? 0.5 * (x[b] - 1.0) * (x[b] - 1.0)
            : loss == CLGAN_GLOSS_HINGE ? -x[b] : -sp;
  }
  want /= B;
  CHECK(fabs(v[4] - want) <= 1e-5 + 1e-4 * fabs(want), "%s: G's loss %g, its formula %g", name,
        (double)v[4], want);
  free(dgrad), free(t1), free(t2), free(t3), free(sum);
  clgan_gan_free(gan);
}

int main(void) {
  clgan_ctx *ctx = tu_open_device();
  clgan_model m;
  CHECK_OK(clgan_model_load("t2i28", &m));
  CHECK_OK(clgan_model_resolve(&m, 1));
  clgan_gan *gan = make(ctx, &m);
  size_t gp = m.g.param_count, dp = m.d.param_count;
  float img[B * 784];
  int32_t text[B * CLGAN_TEXT_SAMPLE_INTS], wrong[B * CLGAN_TEXT_SAMPLE_INTS];
  batch_of(0, img, text, wrong);

  /* the D step: G's weights and Adam moments bitwise unchanged, D's weights changed */
  upload(gan, img, text, wrong);
  float *g0 = arena(ctx, gan->g->params, gp), *gm0 = arena(ctx, gan->g->adam_m, gp);
  float *gv0 = arena(ctx, gan->g->adam_v, gp), *d0 = arena(ctx, gan->d->params, dp);
  CHECK_OK(clgan_gan_snapshot(gan));
  CHECK_OK(clgan_gan_text_d_step(gan));
  float *g1 = arena(ctx, gan->g->params, gp), *gm1 = arena(ctx, gan->g->adam_m, gp);
  float *gv1 = arena(ctx, gan->g->adam_v, gp), *d1 = arena(ctx, gan->d->params, dp);
  float *dgrad = arena(ctx, gan->d->grads, dp);
  CHECK(same(g0, g1, gp) && same(gm0, gm1, gp) && same(gv0, gv1, gp),
        "the D step changed G's weights or Adam state");
  CHECK(!same(d0, d1, dp), "the D step left D unchanged");

  /* D's gradient = term 1 + term 2 / 2 + term 3 / 2, each alone from the same state (the
   * batch-norm statistics of a training forward are the batch's: the same values) */
  CHECK_OK(clgan_gan_rollback(gan));
  CHECK_OK(clgan_net_forward(gan->g, B, CLGAN_NONE, CLGAN_BN_BATCH_STATS));
  float *t1 = d_term(gan, CLGAN_VIEW(gan->real, 0), 0, 1, 1.0f);
  float *t2 = d_term(gan, clgan_net_output(gan->g), 0, 0, 0.5f);
  float *t3 = d_term(gan, CLGAN_VIEW(gan->real, 0), 1, 0, 0.5f);
  float *sum = tu_alloc(dp);
  double n1 = 0, n3 = 0;
  for (size_t i = 0; i < dp; i++) {
    sum[i] = t1[i] + t2[i] + t3[i];
    n1 += (double)t1[i] * t1[i], n3 += (double)t3[i] * t3[i];
  }
  CHECK_CLOSE(dgrad, sum, dp, 1e-6, 1e-4, "D's gradient vs its three terms");
  CHECK(n3 > 1e-6 * n1, "the mismatched-caption term contributes (|t3|^2 %g, |t1|^2 %g)", n3, n1);
  /* and the mismatched term does depend on the caption: the right captions give another */
  float *t3r = d_term(gan, CLGAN_VIEW(gan->real, 0), 0, 0, 0.5f);
  CHECK(!same(t3, t3r, dp), "D's gradient does not depend on the caption");

  /* log sigma^2 below zero somewhere, and the KL finite and positive */
  double kl = -1, mn = 1;
  CHECK_OK(clgan_net_condaug_kl(gan->g, B, &kl, &mn));
  CHECK(mn < 0.0, "log sigma^2 never below 0 (min %g): a ReLU before the split?", mn);
  CHECK(kl > 0.0 && isfinite(kl), "KL %g", kl);
  int ca = -1;
  for (int i = 0; i < m.g.count; i++)
    if (m.g.layers[i].kind == CLGAN_LAYER_CONDAUG) ca = i;
  CHECK(ca > 0 && m.g.layers[ca - 1].kind == CLGAN_LAYER_LINEAR && m.g.layers[ca].p == 2.0f,
        "t2i28: condaug (kl 2) reads a linear directly");

  /* the G step: D unchanged, G changed */
  CHECK_OK(clgan_gan_rollback(gan));
  CHECK_OK(clgan_gan_text_d_step(gan));
  float *d2 = arena(ctx, gan->d->params, dp);
  CHECK_OK(clgan_gan_text_g_step(gan));
  float *d3 = arena(ctx, gan->d->params, dp), *g3 = arena(ctx, gan->g->params, gp);
  CHECK(same(d2, d3, dp), "the G step changed D");
  CHECK(!same(g0, g3, gp), "the G step left G unchanged");
  float *ggrad2 = arena(ctx, gan->g->grads, gp);

  /* the KL's gradient: the same state with kl=0 differs exactly by it, at mulv's bias */
  {
    char *text0 = strdup(m.text);
    char *p = strstr(text0, "condaug kl=2");
    CHECK(p != NULL, "t2i28 has 'condaug kl=2'");
    if (p) p[strlen("condaug kl=")] = '0';
    clgan_model m0;
    CHECK_OK(clgan_model_parse(text0, "t2i28 kl=0", &m0));
    CHECK_OK(clgan_model_resolve(&m0, 1));
    clgan_gan *gan0 = make(ctx, &m0);
    upload(gan0, img, text, wrong);
    CHECK_OK(clgan_gan_text_d_step(gan0));
    CHECK_OK(clgan_gan_text_g_step(gan0));
    float *ggrad0 = arena(ctx, gan0->g->grads, gp);
    const clgan_layer_desc *mv = &m.g.layers[ca - 1];
    int dim = m.g.layers[ca].out_c;
    /* mulv's output (mu, logvar) of this iteration's G forward */
    float *x = tu_alloc((size_t)B * 2 * dim);
    clgan_view xv = gan->g->t_view[m.g.layers[ca].src[0]];
    tu_download(ctx, xv.mem, xv.off, (size_t)B * 2 * dim, x);
    float got[256], want[256];
    for (int k = 0; k < 2 * dim; k++) {
      double s = 0.0;
      for (int b = 0; b < B; b++) {
        double v = x[(size_t)b * 2 * dim + k];
        s += k < dim ? v : 0.5 * (exp(v) - 1.0);
      }
      want[k] = (float)(2.0 * s / ((double)B * dim));
      got[k] = ggrad2[mv->bias_off + k] - ggrad0[mv->bias_off + k];
    }
    CHECK_CLOSE(got, want, (size_t)2 * dim, 2e-7, 1e-3, "the KL's gradient at mulv's bias");
    free(ggrad0), free(x), free(text0);
    clgan_gan_free(gan0);
    clgan_model_free(&m0);
  }

  check_loss(ctx, &m, CLGAN_GLOSS_LSGAN, img, text, wrong);
  check_loss(ctx, &m, CLGAN_GLOSS_HINGE, img, text, wrong);
  check_loss(ctx, &m, CLGAN_GLOSS_MINIMAX, img, text, wrong);

  /* whole iterations: two trainers of one seed give the same bits; metrics finite */
  clgan_gan *ga = make(ctx, &m), *gb = make(ctx, &m);
  for (int it = 0; it < 3; it++) {
    batch_of(it, img, text, wrong);
    clgan_step_metrics ma, mb;
    float wa = -1, wb = -1;
    CHECK_OK(clgan_gan_iteration_text(ga, img, text, wrong, &ma, 1, &wa));
    CHECK_OK(clgan_gan_iteration_text(gb, img, text, wrong, &mb, 1, &wb));
    CHECK(!memcmp(&ma, &mb, sizeof ma) && wa == wb, "iteration %d: runs differ", it);
    CHECK(isfinite(ma.loss_d) && isfinite(ma.loss_g) && wa > 0 && wa < 1, "iteration %d metrics", it);
  }
  float *pa = arena(ctx, ga->g->params, gp), *pb = arena(ctx, gb->g->params, gp);
  CHECK(same(pa, pb, gp), "G differs between two runs");
  /* the plain iteration refuses a text model */
  CHECK(clgan_gan_iteration(ga, img, NULL, 0) == CLGAN_ERR_INVALID_ARG, "plain iteration refused");

  /* generate from text: a caption gives the same images in and out of a batch of mixed ones */
  float z[3 * 100], out[3 * 784], out1[784];
  clgan_philox_normal(300, 9, 0, 0.0f, 1.0f, z);
  CHECK_OK(clgan_generate_text(ga->g, z, text, 3, CLGAN_BN_EVAL, out));
  CHECK_OK(clgan_generate_text(ga->g, z + 100, text + CLGAN_TEXT_SAMPLE_INTS, 1, CLGAN_BN_EVAL, out1));
  float lo = 1, hi = -1;
  for (int i = 0; i < 3 * 784; i++) lo = fminf(lo, out[i]), hi = fmaxf(hi, out[i]);
  CHECK(lo >= -1 && hi <= 1 && hi > lo, "generated range %g..%g", lo, hi);
  (void)out1;
  CHECK(clgan_generate_text(ga->g, z, NULL, 3, CLGAN_BN_EVAL, out) == CLGAN_ERR_INVALID_ARG,
        "no captions refused");

  free(pa), free(pb), free(g0), free(gm0), free(gv0), free(d0), free(g1), free(gm1), free(gv1);
  free(d1), free(dgrad), free(t1), free(t2), free(t3), free(t3r), free(sum), free(d2), free(d3);
  free(g3), free(ggrad2);
  clgan_gan_free(ga), clgan_gan_free(gb), clgan_gan_free(gan);
  clgan_model_free(&m);
  clgan_ctx_free(ctx);
  return tu_finish("test_gan_text");
}
