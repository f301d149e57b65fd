/* The GAN iteration on a device: freezing rules (bitwise), gradients of whole networks
 * against finite differences, a D-only run that learns, determinism and exact resume
 * through a checkpoint. */
#include <unistd.h>

#include "clgan/gan.h"
#include "test_util.h"

static const char *TINY =
    "model tiny\nlatent 8\nimage 1 8 8\n"
    "generator\n  linear 128 bias=0\n  reshape 8 4 4\n  batchnorm\n  relu\n"
    "  convt 1 k=4 s=2 p=1 bias=0\n  tanh\n"
    "discriminator\n  conv 8 k=4 s=2 p=1 bias=0\n  leakyrelu 0.2\n  conv 16 k=4 s=2 p=1\n"
    "  batchnorm\n  leakyrelu 0.2\n  flatten\n  linear 1\n";

/* D starts with a view (flatten): the gradient into G must still be written */
static const char *TINY_MLP_D =
    "model tiny-mlp\nlatent 8\nimage 1 8 8\n"
    "generator\n  linear 128 bias=0\n  reshape 8 4 4\n  batchnorm\n  relu\n"
    "  convt 1 k=4 s=2 p=1 bias=0\n  tanh\n"
    "discriminator\n  flatten\n  linear 16\n  leakyrelu 0.2\n  linear 1\n";

enum { B = 8, IMG = 64 };

/* A real batch for iteration `step`: bright blobs at step-dependent places. */
static void real_batch(long long step, float *x) {
  for (int b = 0; b < B; b++) {
    int cy = (int)((step * 3 + b) % 5) + 1, cx = (int)((step + 2 * b) % 5) + 1;
    for (int i = 0; i < IMG; i++) {
      int y = i / 8, xx = i % 8;
      x[b * IMG + i] = (abs(y - cy) <= 1 && abs(xx - cx) <= 1) ? 0.9f : -0.9f;
    }
  }
}

static float *read_arena(clgan_ctx *ctx, cl_mem m, size_t n) {
  float *h = tu_alloc(n);
  tu_download(ctx, m, 0, n, h);
  return h;
}

static clgan_gan *make_lr(clgan_ctx *ctx, clgan_model *m, int init, float lr) {
  clgan_train_config c;
  clgan_train_config_default(&c);
  c.batch = B;
  c.seed = 7;
  c.lr_d = lr;
  clgan_gan *g = NULL;
  CHECK_OK(clgan_gan_create(ctx, m, &c, &g));
  if (!g) exit(1);
  if (init) CHECK_OK(clgan_gan_init_params(g));
  return g;
}

static clgan_gan *make(clgan_ctx *ctx, clgan_model *m, int init) { return make_lr(ctx, m, init, 2e-4f); }

/* mean BCE(D(x), 1) over the batch with batch statistics, read back */
static double d_real_loss(clgan_gan *gan) {
  float out[2];
  CHECK_OK(clgan_net_forward(gan->d, B, CLGAN_NONE, CLGAN_BN_BATCH_STATS));
  CHECK_OK(clgan_loss_forward_backward(gan->ctx, CLGAN_LOSS_BCE, 1.0f, B, clgan_net_output(gan->d),
                                       1.0f, CLGAN_VIEW(gan->metrics, 8), CLGAN_VIEW(gan->dlogits, 0)));
  tu_download(gan->ctx, gan->metrics, 8, 2, out);
  return out[0];
}

/* mean BCE(D(G(z)), 1): the non-saturating G loss, batch statistics in both nets */
static double g_ns_loss(clgan_gan *gan) {
  float out[2];
  CHECK_OK(clgan_net_forward(gan->g, B, CLGAN_NONE, CLGAN_BN_BATCH_STATS));
  CHECK_OK(clgan_net_forward(gan->d, B, clgan_net_output(gan->g), CLGAN_BN_BATCH_STATS));
  CHECK_OK(clgan_loss_forward_backward(gan->ctx, CLGAN_LOSS_BCE, 1.0f, B, clgan_net_output(gan->d),
                                       1.0f, CLGAN_VIEW(gan->metrics, 8), CLGAN_VIEW(gan->dlogits, 0)));
  tu_download(gan->ctx, gan->metrics, 8, 2, out);
  return out[0];
}

/* Compares analytic gradients of a few parameters with central differences. */
static void fd_check(clgan_gan *gan, clgan_net *net, double (*loss)(clgan_gan *), const char *what) {
  size_t np = net->desc->param_count;
  float *p = read_arena(gan->ctx, net->params, np);
  float *g = read_arena(gan->ctx, net->grads, np);
  /* small enough not to cross LeakyReLU's kink, large enough for float32 losses */
  const float eps = 2e-3f;
  int bad = 0, checked = 0;
  for (size_t k = 0; k < 24; k++) {
    size_t i = (k * 7919 + 13) % np;
    float keep = p[i];
    p[i] = keep + eps;
    CHECK_OK(clgan_net_set_params(net, p, NULL));
    double lp = loss(gan);
    p[i] = keep - eps;
    CHECK_OK(clgan_net_set_params(net, p, NULL));
    double lm = loss(gan);
    p[i] = keep;
    double fd = (lp - lm) / (2.0 * eps);
    checked++;
    if (fabs(fd - g[i]) > 2e-3 + 5e-2 * fabs(fd)) {
      bad++;
      fprintf(stderr, "%s param %zu: analytic %.6g, finite difference %.6g\n", what, i, g[i], fd);
    }
  }
  CHECK_OK(clgan_net_set_params(net, p, NULL));
  CHECK(bad == 0, "%s: %d of %d gradients disagree with finite differences", what, bad, checked);
  free(p);
  free(g);
}

static int same(const float *a, const float *b, size_t n) { return memcmp(a, b, n * sizeof *a) == 0; }

int main(void) {
  clgan_ctx *ctx = tu_open_device();
  clgan_model m;
  CHECK_OK(clgan_model_parse(TINY, "tiny", &m));
  CHECK_OK(clgan_model_resolve(&m, 1));
  float real[B * IMG];

  /* 1. whole-network gradients against finite differences, for both models */
  for (int variant = 0; variant < 2; variant++) {
    clgan_model mv;
    CHECK_OK(clgan_model_parse(variant ? TINY_MLP_D : TINY, "tiny", &mv));
    CHECK_OK(clgan_model_resolve(&mv, 1));
    clgan_gan *gan = make(ctx, &mv, 1);
    real_batch(0, real);
    CHECK_OK(clgan_buffer_write(ctx, gan->d->acts, gan->d->in_off * 4, sizeof real, real));
    CHECK_OK(clgan_gan_sample_z(gan, 0));
    d_real_loss(gan);
    CHECK_OK(clgan_net_backward(gan->d, B, CLGAN_VIEW(gan->dlogits, 0), 1, 0, CLGAN_NONE));
    fd_check(gan, gan->d, d_real_loss, "D");
    g_ns_loss(gan);
    CHECK_OK(clgan_net_backward(gan->d, B, CLGAN_VIEW(gan->dlogits, 0), 0, 0,
                                CLGAN_VIEW(gan->dfake, 0)));
    CHECK_OK(clgan_net_backward(gan->g, B, CLGAN_VIEW(gan->dfake, 0), 1, 0, CLGAN_NONE));
    fd_check(gan, gan->g, g_ns_loss, variant ? "G through an MLP D" : "G through D");
    clgan_gan_free(gan);
    clgan_model_free(&mv);
  }

  /* 2. the D step leaves G's parameters bitwise unchanged; the G step leaves D's
   *    parameters and D's gradient arena (no weight gradients computed) unchanged */
  {
    clgan_gan *gan = make(ctx, &m, 1);
    size_t ng = m.g.param_count, nd = m.d.param_count;
    real_batch(0, real);
    CHECK_OK(clgan_buffer_write(ctx, gan->real, 0, sizeof real, real));
    CHECK_OK(clgan_gan_sample_z(gan, 0));
    float *g0 = read_arena(ctx, gan->g->params, ng), *d0 = read_arena(ctx, gan->d->params, nd);
    CHECK_OK(clgan_gan_d_step(gan));
    float *g1 = read_arena(ctx, gan->g->params, ng), *d1 = read_arena(ctx, gan->d->params, nd);
    float *dg1 = read_arena(ctx, gan->d->grads, nd);
    CHECK(same(g0, g1, ng), "the D step changed G's parameters");
    CHECK(!same(d0, d1, nd), "the D step did not change D");
    CHECK_OK(clgan_gan_g_step(gan));
    float *g2 = read_arena(ctx, gan->g->params, ng), *d2 = read_arena(ctx, gan->d->params, nd);
    float *dg2 = read_arena(ctx, gan->d->grads, nd);
    CHECK(same(d1, d2, nd), "the G step changed D's parameters");
    CHECK(same(dg1, dg2, nd), "the G step computed D weight gradients");
    CHECK(!same(g1, g2, ng), "the G step did not change G");
    free(g0), free(d0), free(g1), free(d1), free(dg1), free(g2), free(d2), free(dg2);
    clgan_gan_free(gan);
  }

  /* 2b. the same freezing rule for the conditional presets, with labels: cdcgan28 (the label
   *     as G's embedding and as D's extra channel) and cdcgan28-proj (projection D, hinge
   *     loss). The labels reach both steps: D's embedding must change in the D step, G's in
   *     the G step, and nothing of the frozen net, its embedding included. */
  for (int v = 0; v < 2; v++) {
    const char *name = v ? "cdcgan28-proj" : "cdcgan28";
    clgan_model mc;
    int before = tu_failures;
    CHECK_OK(clgan_model_load(name, &mc));
    CHECK_OK(clgan_model_resolve(&mc, 1));
    if (tu_failures > before) break;
    clgan_train_config c;
    clgan_train_config_default(&c);
    c.batch = B;
    c.seed = 7;
    if (mc.loss >= 0) c.loss = (clgan_gan_loss)mc.loss;
    clgan_gan *gan = NULL;
    CHECK_OK(clgan_gan_create(ctx, &mc, &c, &gan));
    if (!gan) break;
    CHECK_OK(clgan_gan_init_params(gan));
    size_t ng = mc.g.param_count, nd = mc.d.param_count, img = 28 * 28;
    float *x = tu_alloc(B * img);
    for (size_t i = 0; i < B * img; i++) x[i] = (float)((i * 7 + i / img * 13) % 17) / 8.5f - 1.0f;
    int32_t lab[2 * B];
    for (int b = 0; b < B; b++) lab[b] = (3 * b + 1) % mc.classes; /* the real batch's */
    clgan_gan_fake_labels(gan, 0, lab + B);                        /* those G is asked for */
    CHECK_OK(clgan_buffer_write(ctx, gan->real, 0, B * img * sizeof(float), x));
    CHECK_OK(clgan_buffer_write(ctx, gan->labels, 0, sizeof lab, lab));
    CHECK_OK(clgan_gan_sample_z(gan, 0));
    /* the embeddings' parameter ranges */
    size_t ge_off = 0, ge_n = 0, de_off = 0, de_n = 0;
    for (int i = 0; i < mc.g.count; i++)
      if (mc.g.layers[i].kind == CLGAN_LAYER_EMBED) ge_off = mc.g.layers[i].weight_off, ge_n = mc.g.layers[i].weight_count;
    for (int i = 0; i < mc.d.count; i++)
      if (mc.d.layers[i].kind == CLGAN_LAYER_EMBED) de_off = mc.d.layers[i].weight_off, de_n = mc.d.layers[i].weight_count;
    CHECK(ge_n && de_n, "%s: no embed layer in G or D", name);
    float *g0 = read_arena(ctx, gan->g->params, ng), *d0 = read_arena(ctx, gan->d->params, nd);
    CHECK_OK(clgan_gan_d_step(gan));
    float *g1 = read_arena(ctx, gan->g->params, ng), *d1 = read_arena(ctx, gan->d->params, nd);
    float *dg1 = read_arena(ctx, gan->d->grads, nd);
    CHECK(same(g0, g1, ng), "%s: the D step changed G's parameters", name);
    CHECK(!same(d0 + de_off, d1 + de_off, de_n), "%s: the D step did not change D's embedding", name);
    CHECK_OK(clgan_gan_g_step(gan));
    float *g2 = read_arena(ctx, gan->g->params, ng), *d2 = read_arena(ctx, gan->d->params, nd);
    float *dg2 = read_arena(ctx, gan->d->grads, nd);
    CHECK(same(d1, d2, nd), "%s: the G step changed D's parameters", name);
    CHECK(same(dg1, dg2, nd), "%s: the G step computed D weight gradients", name);
    CHECK(!same(g1 + ge_off, g2 + ge_off, ge_n), "%s: the G step did not change G's embedding", name);
    free(x), free(g0), free(d0), free(g1), free(d1), free(dg1), free(g2), free(d2), free(dg2);
    clgan_gan_free(gan);
    clgan_model_free(&mc);
  }

  /* 3. D alone learns to separate real from (fixed-G) fake */
  {
    clgan_gan *gan = make_lr(ctx, &m, 1, 2e-3f);
    float out[4];
    for (int it = 0; it < 60; it++) {
      real_batch(it, real);
      CHECK_OK(clgan_buffer_write(ctx, gan->real, 0, sizeof real, real));
      CHECK_OK(clgan_gan_sample_z(gan, it));
      CHECK_OK(clgan_gan_d_step(gan));
    }
    tu_download(ctx, gan->metrics, 0, 4, out);
    CHECK(out[1] > 0.9f && out[3] < 0.1f, "D(x) %.3f D(G(z)) %.3f after 60 D steps", out[1], out[3]);
    clgan_gan_free(gan);
  }

  /* 4. determinism and exact resume: 6 iterations == 3 + checkpoint + restore + 3 */
  {
    char dir[] = "/tmp/clgan-test-gan-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[256];
    snprintf(path, sizeof path, "%s/ck.safetensors", dir);
    clgan_step_metrics met[2][6];
    clgan_gan *a = make(ctx, &m, 1);
    for (int it = 0; it < 6; it++) {
      real_batch(it, real);
      CHECK_OK(clgan_gan_iteration(a, real, &met[0][it], it % 2));
      if (it == 2) CHECK_OK(clgan_checkpoint_save(path, a, NULL));
    }
    clgan_gan *b = make(ctx, &m, 1);
    for (int it = 0; it < 6; it++) {
      real_batch(it, real);
      CHECK_OK(clgan_gan_iteration(b, real, &met[1][it], it % 2));
    }
    CHECK(!memcmp(met[0], met[1], sizeof met[0]), "same seed, different losses");
    clgan_st_file f;
    clgan_model m2;
    CHECK_OK(clgan_checkpoint_open(path, &f, &m2));
    CHECK_OK(clgan_model_resolve(&m2, 1));
    /* without EMA the checkpoint has neither EMA tensors nor EMA metadata (as before EMA) */
    CHECK(!clgan_safetensors_find(&f, "generator_ema.0.weight") &&
              !clgan_safetensors_meta(&f, "ema_decay") && !clgan_safetensors_meta(&f, "ema_start"),
          "a checkpoint without EMA has EMA entries");
    clgan_train_config c2;
    long long step = -1;
    CHECK_OK(clgan_checkpoint_config(&f, &c2, &step, NULL));
    CHECK(step == 3 && c2.batch == B && c2.seed == 7, "stored config: step %lld", step);
    clgan_gan *r = NULL;
    CHECK_OK(clgan_gan_create(ctx, &m2, &c2, &r));
    CHECK_OK(clgan_checkpoint_restore(&f, r));
    for (int it = 3; it < 6; it++) {
      clgan_step_metrics mm;
      real_batch(it, real);
      CHECK_OK(clgan_gan_iteration(r, real, &mm, it % 2));
      CHECK(!memcmp(&mm, &met[0][it], sizeof mm), "resumed iteration %d differs", it + 1);
    }
    size_t ng = m.g.param_count, nd = m.d.param_count;
    cl_mem am[] = {a->g->params, a->d->params, a->g->adam_m, a->d->adam_v, a->g->stats};
    cl_mem rm[] = {r->g->params, r->d->params, r->g->adam_m, r->d->adam_v, r->g->stats};
    size_t sz[] = {ng, nd, ng, nd, m.g.stat_count};
    for (int k = 0; k < 5; k++) {
      float *x = read_arena(ctx, am[k], sz[k]), *y = read_arena(ctx, rm[k], sz[k]);
      CHECK(same(x, y, sz[k]), "arena %d differs after resume", k);
      free(x), free(y);
    }
    CHECK(r->g->bn_batches == a->g->bn_batches && r->d->adam_step == a->d->adam_step,
          "counters after resume");
    /* a checkpoint for another model is refused, naming the first mismatching tensor */
    clgan_model big;
    CHECK_OK(clgan_model_load("dcgan28", &big));
    CHECK_OK(clgan_model_resolve(&big, 1));
    clgan_gan *wrong = NULL;
    clgan_train_config cw = c2;
    CHECK_OK(clgan_gan_create(ctx, &big, &cw, &wrong));
    CHECK(clgan_checkpoint_restore(&f, wrong) == CLGAN_ERR_MISMATCH &&
              strstr(clgan_last_error(), "generator.0.weight"),
          "mismatch message: %s", clgan_last_error());
    clgan_gan_free(wrong);
    clgan_model_free(&big);
    clgan_safetensors_free(&f);
    clgan_gan_free(a), clgan_gan_free(b), clgan_gan_free(r);
    clgan_model_free(&m2);
    unlink(path);
    rmdir(dir);
  }
  /* 5. EMA of G's weights and TTUR rates: the arena against the host formula bit for bit
   *    (a copy of G up to ema_start, then fma(decay, e, (1 - decay) * p)); snapshot and
   *    rollback cover it; 6 iterations == 3 + checkpoint + restore + 3, byte-identical
   *    checkpoints; the settings round-trip through the checkpoint's metadata */
  {
    char dir[] = "/tmp/clgan-test-ema-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char p3[256], pa[256], pr[256];
    snprintf(p3, sizeof p3, "%s/ck3.safetensors", dir);
    snprintf(pa, sizeof pa, "%s/a6.safetensors", dir);
    snprintf(pr, sizeof pr, "%s/r6.safetensors", dir);
    clgan_train_config c;
    clgan_train_config_default(&c);
    c.batch = B;
    c.seed = 7;
    c.lr_g = 1e-4f, c.lr_d = 4e-4f;
    c.ema_decay = 0.9f, c.ema_start = 2;
    clgan_gan *a = NULL;
    CHECK_OK(clgan_gan_create(ctx, &m, &c, &a));
    if (!a) return tu_finish("gan");
    CHECK_OK(clgan_gan_init_params(a));
    size_t ng = m.g.param_count;
    float *host = read_arena(ctx, a->g->params, ng), *e0 = read_arena(ctx, a->ema, ng);
    CHECK(same(host, e0, ng), "the EMA does not start as G's initial weights");
    free(e0);
    for (int it = 0; it < 6; it++) {
      real_batch(it, real);
      CHECK_OK(clgan_gan_iteration(a, real, NULL, 0));
      float *pg = read_arena(ctx, a->g->params, ng), *e = read_arena(ctx, a->ema, ng);
      if (it + 1 <= 2) memcpy(host, pg, ng * sizeof *host);
      else clgan_ema_update_host(ng, 0.9f, pg, host);
      CHECK(same(host, e, ng), "iteration %d: the EMA arena differs from the host formula", it + 1);
      if (it + 1 == 3) CHECK(!same(pg, e, ng), "iteration 3: the EMA is still a copy of G");
      free(pg), free(e);
      if (it == 2) CHECK_OK(clgan_checkpoint_save(p3, a, NULL));
    }
    CHECK_OK(clgan_checkpoint_save(pa, a, NULL));
    /* the sampling swap: G's arena shows the EMA, then its own weights again */
    float *own = read_arena(ctx, a->g->params, ng);
    clgan_gan_use_ema(a, 1);
    float *shown = read_arena(ctx, a->g->params, ng);
    clgan_gan_use_ema(a, 0);
    float *back = read_arena(ctx, a->g->params, ng);
    CHECK(same(shown, host, ng), "clgan_gan_use_ema(1) does not show the EMA");
    CHECK(same(back, own, ng), "clgan_gan_use_ema(0) does not bring G's weights back");
    free(own), free(shown), free(back);
    /* rollback puts the EMA back too */
    CHECK_OK(clgan_gan_snapshot(a));
    real_batch(6, real);
    CHECK_OK(clgan_gan_iteration(a, real, NULL, 0));
    CHECK_OK(clgan_gan_rollback(a));
    float *e6 = read_arena(ctx, a->ema, ng);
    CHECK(same(e6, host, ng), "rollback did not restore the EMA");
    free(e6);

    clgan_st_file f;
    clgan_model m2;
    CHECK_OK(clgan_checkpoint_open(p3, &f, &m2));
    CHECK_OK(clgan_model_resolve(&m2, 1));
    CHECK(clgan_safetensors_find(&f, "generator_ema.0.weight") &&
              clgan_safetensors_find(&f, "generator_ema.2.running_mean") &&
              clgan_safetensors_find(&f, "generator_ema.2.num_batches_tracked"),
          "the EMA checkpoint lacks generator_ema.* tensors");
    clgan_train_config c2;
    long long step = -1;
    CHECK_OK(clgan_checkpoint_config(&f, &c2, &step, NULL));
    CHECK(step == 3 && c2.ema_decay == 0.9f && c2.ema_start == 2 && c2.lr_g == 1e-4f &&
              c2.lr_d == 4e-4f,
          "stored EMA/TTUR config: decay %g start %lld lr %g/%g", c2.ema_decay, c2.ema_start,
          c2.lr_g, c2.lr_d);
    clgan_gan *r = NULL;
    CHECK_OK(clgan_gan_create(ctx, &m2, &c2, &r));
    if (r) {
      CHECK_OK(clgan_checkpoint_restore(&f, r));
      for (int it = 3; it < 6; it++) {
        real_batch(it, real);
        CHECK_OK(clgan_gan_iteration(r, real, NULL, 0));
      }
      CHECK_OK(clgan_checkpoint_save(pr, r, NULL));
      /* byte for byte */
      FILE *fa = fopen(pa, "rb"), *fr = fopen(pr, "rb");
      int eq = fa && fr, ca = 0, cr = 0;
      long nbytes = 0;
      while (eq && (ca = fgetc(fa)) == (cr = fgetc(fr)) && ca != EOF) nbytes++;
      eq = eq && ca == EOF && cr == EOF;
      CHECK(eq && nbytes > 1000, "EMA run: 3 + resume + 3 != 6 iterations (checkpoints differ "
            "after %ld bytes)", nbytes);
      if (fa) fclose(fa);
      if (fr) fclose(fr);
    }
    /* a checkpoint without the EMA tensors cannot resume an EMA run */
    clgan_safetensors_free(&f);
    clgan_gan_free(r);
    clgan_model_free(&m2);
    clgan_gan_free(a);
    free(host);
    unlink(p3), unlink(pa), unlink(pr);
    rmdir(dir);
  }

  /* 6. the truncation trick: every value within the bound, the same for the same seed, a
   *    prefix of a longer draw, the plain stream when the bound binds nothing */
  {
    enum { NT = 20000 };
    float *z1 = tu_alloc(NT), *z2 = tu_alloc(NT), *z3 = tu_alloc(NT);
    const float bounds[] = {0.01f, 0.5f, 1.0f, 2.0f};
    for (int k = 0; k < 4; k++) {
      float t = bounds[k];
      CHECK_OK(clgan_truncated_normal(NT, 5, 0, t, z1));
      CHECK_OK(clgan_truncated_normal(NT, 5, 0, t, z2));
      CHECK_OK(clgan_truncated_normal(100, 5, 0, t, z3));
      size_t out = 0, plain = 0;
      float zmax = 0.0f;
      for (size_t i = 0; i < NT; i++) {
        if (!(fabsf(z1[i]) <= t)) out++;
        if (fabsf(z1[i]) > zmax) zmax = fabsf(z1[i]);
      }
      float *pl = tu_alloc(NT);
      clgan_philox_normal(NT, 5, 0, 0.0f, 1.0f, pl);
      for (size_t i = 0; i < NT; i++) plain += fabsf(pl[i]) <= t && z1[i] == pl[i];
      size_t inside = 0;
      for (size_t i = 0; i < NT; i++) inside += fabsf(pl[i]) <= t;
      CHECK(out == 0, "truncation %g: %zu values outside (max %g)", t, out, zmax);
      CHECK(same(z1, z2, NT), "truncation %g: not deterministic", t);
      CHECK(same(z1, z3, 100), "truncation %g: a shorter draw is not a prefix", t);
      CHECK(plain == inside, "truncation %g: values already inside were redrawn", t);
      CHECK(zmax > 0.9f * t, "truncation %g: max |z| %g, the bound's edge never reached", t, zmax);
      free(pl);
    }
    CHECK_OK(clgan_truncated_normal(NT, 5, 0, 100.0f, z1));
    clgan_philox_normal(NT, 5, 0, 0.0f, 1.0f, z2);
    CHECK(same(z1, z2, NT), "a bound of 100 changed the noise");
    CHECK_OK(clgan_truncated_normal(NT, 6, 0, 0.5f, z2));
    CHECK_OK(clgan_truncated_normal(NT, 5, 0, 0.5f, z1));
    CHECK(!same(z1, z2, NT), "two seeds, the same truncated noise");
    CHECK(clgan_truncated_normal(4, 5, 0, 0.0f, z1) == CLGAN_ERR_INVALID_ARG,
          "bound 0 accepted");
    clgan_error_clear();
    free(z1), free(z2), free(z3);
  }
  clgan_model_free(&m);
  clgan_ctx_free(ctx);
  return tu_finish("gan");
}
