/* The image-conditioned trainer (clgan_gan_iteration_cond): a tiny pix2pix (U-Net-ish G
 * from cond, ending in upsample + a reflect-padded conv; PatchGAN D on (image, cond) giving
 * a 2x2 map of logits) and a tiny SR model
 * (cond smaller than the image, D on the image alone): the freezing rules bitwise, G's and
 * D's whole-network gradients (adversarial over the logit map + content loss) against
 * finite differences, the content-only ablation, determinism and exact resume through a
 * checkpoint (the recipe in its metadata), generate from cond, and refusals. */
#include <unistd.h>

#include "clgan/gan.h"
#include "test_util.h"

static const char *P2P =
    "model tiny-p2p\nimage 1 8 8\n"
    "generator\n  input cond\n  e1: conv 4 k=4 s=2 p=1\n  a1: leakyrelu 0.2\n"
    "  conv 8 k=4 s=2 p=1\n  batchnorm\n  relu\n  convt 4 k=4 s=2 p=1\n  instancenorm\n"
    "  r: relu\n  s: concat in=r,a1\n  upsample 2\n  conv 1 k=3 p=1 pm=reflect\n  tanh\n"
    "discriminator\n  input image cond\n  concat in=image,cond\n  conv 8 k=4 s=2 p=1 pad=reflect\n"
    "  leakyrelu 0.2\n  conv 1 k=3 s=2 p=1\n";

/* cond 1x4x4 -> image 1x8x8; D sees the image alone (super-resolution's shape) */
static const char *SR =
    "model tiny-sr\nimage 1 8 8\ncond 1 4 4\n"
    "generator\n  input cond\n  conv 8 k=3 p=1\n  relu\n  upsample 2\n  conv 1 k=3 p=1\n  tanh\n"
    "discriminator\n  conv 8 k=4 s=2 p=1\n  leakyrelu 0.2\n  conv 1 k=3 s=2 p=1\n";

enum { B = 4, IMG = 64 };

static void batch_of(long long step, int csize, float *y, float *c) {
  for (int b = 0; b < B; b++)
    for (int i = 0; i < IMG; i++) {
      int yy = i / 8, xx = i % 8;
      y[b * IMG + i] = 0.8f * sinf(0.7f * (float)(xx + b) + 0.3f * (float)(yy * (step % 3 + 1)));
    }
  for (int b = 0; b < B; b++)
    for (int i = 0; i < csize; i++) /* the target at the cond's size, coarsened */
      c[b * csize + i] = csize == IMG ? (y[b * IMG + i] > 0.0f ? 0.9f : -0.9f)
                                      : y[b * IMG + (i / 4) * 16 + (i % 4) * 2];
}

static float *arena(clgan_ctx *ctx, cl_mem m, size_t n) {
  float *h = tu_alloc(n);
  tu_download(ctx, m, 0, n, h);
  return h;
}
static int same(const float *a, const float *b, size_t n) { return !memcmp(a, b, n * sizeof *a); }

static clgan_gan *make(clgan_ctx *ctx, clgan_model *m, float adv, clgan_content content,
                       float cw) {
  clgan_train_config c;
  clgan_train_config_default(&c);
  c.batch = B;
  c.seed = 11;
  c.adv_weight = adv, c.content = content, c.content_weight = cw;
  clgan_gan *g = NULL;
  CHECK_OK(clgan_gan_create(ctx, m, &c, &g));
  if (!g) exit(1);
  CHECK_OK(clgan_gan_init_params(g));
  return g;
}

/* G's loss as the G step computes it, batch statistics, D frozen: adv_weight * mean BCE over
 * the logit map + content_weight * content */
static double g_loss(clgan_gan *gan) {
  float o[2], oc;
  CHECK_OK(clgan_net_forward(gan->g, B, CLGAN_VIEW(gan->cond, 0), CLGAN_BN_BATCH_STATS));
  CHECK_OK(clgan_net_forward(gan->d, B, clgan_net_output(gan->g), CLGAN_BN_BATCH_STATS));
  CHECK_OK(clgan_loss_forward_backward(gan->ctx, CLGAN_LOSS_BCE, 1.0f, B * gan->patches,
                                       clgan_net_output(gan->d), 1.0f,
                                       CLGAN_VIEW(gan->metrics, 10), CLGAN_NONE));
  CHECK_OK(clgan_content_loss(gan->ctx, gan->cfg.content, (size_t)B * IMG, clgan_net_output(gan->g),
                              CLGAN_VIEW(gan->real, 0), 1.0f, CLGAN_VIEW(gan->metrics, 12),
                              CLGAN_NONE, 0));
  tu_download(gan->ctx, gan->metrics, 10, 2, o);
  tu_download(gan->ctx, gan->metrics, 12, 1, &oc);
  return gan->cfg.adv_weight * o[0] + gan->cfg.content_weight * oc;
}

/* D's loss: d_loss_scale * (BCE(D(y, c), 1) + BCE(D(G(c), c), 0)), means over the map, G's
 * output held from the last G forward */
static double d_loss(clgan_gan *gan) {
  float o[2], f[2];
  CHECK_OK(clgan_net_forward(gan->d, B, CLGAN_VIEW(gan->real, 0), CLGAN_BN_BATCH_STATS));
  CHECK_OK(clgan_loss_forward_backward(gan->ctx, CLGAN_LOSS_BCE, 1.0f, B * gan->patches,
                                       clgan_net_output(gan->d), 1.0f,
                                       CLGAN_VIEW(gan->metrics, 10), CLGAN_NONE));
  CHECK_OK(clgan_net_forward(gan->d, B, clgan_net_output(gan->g), CLGAN_BN_BATCH_STATS));
  CHECK_OK(clgan_loss_forward_backward(gan->ctx, CLGAN_LOSS_BCE, 0.0f, B * gan->patches,
                                       clgan_net_output(gan->d), 1.0f,
                                       CLGAN_VIEW(gan->metrics, 12), CLGAN_NONE));
  tu_download(gan->ctx, gan->metrics, 10, 2, o);
  tu_download(gan->ctx, gan->metrics, 12, 2, f);
  return gan->cfg.d_loss_scale * ((double)o[0] + f[0]);
}

static void fd_check(clgan_gan *gan, clgan_net *net, double (*loss)(clgan_gan *),
                     const float *grad, const char *what) {
  size_t np = net->desc->param_count;
  float *p = arena(gan->ctx, net->params, np);
  /* 3e-4: the tiny nets are steep and their ReLUs (after normalisations over few values)
   * sit close to their kinks: at 2e-3 a few of the 24 cross one and the quotient is off by
   * 20-50%, at 3e-4 and 1e-4 none. The float32 loss (~2) rounds to ~2.4e-7 per
   * evaluation: ~4e-4 of error in the quotient, under the 3e-3 allowed. */
  const float eps = 3e-4f;
  int bad = 0;
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
    if (fabs(fd - grad[i]) > 3e-3 + 5e-2 * fabs(fd)) {
      bad++;
      fprintf(stderr, "%s param %zu: analytic %.6g, finite difference %.6g\n", what, i, grad[i], fd);
    }
  }
  CHECK_OK(clgan_net_set_params(net, p, NULL));
  CHECK(bad == 0, "%s: %d of 24 gradients disagree with finite differences", what, bad);
  free(p);
}

int main(void) {
  clgan_ctx *ctx = tu_open_device();
  clgan_model mp, ms;
  CHECK_OK(clgan_model_parse(P2P, "p2p", &mp));
  CHECK_OK(clgan_model_resolve(&mp, 1));
  CHECK_OK(clgan_model_parse(SR, "sr", &ms));
  CHECK_OK(clgan_model_resolve(&ms, 1));
  CHECK(mp.d.out_c == 1 && mp.d.out_h == 2 && mp.d.out_w == 2, "PatchGAN D: a 2x2 map, got %dx%dx%d",
        mp.d.out_c, mp.d.out_h, mp.d.out_w);
  CHECK(ms.cond_c == 1 && ms.cond_h == 4 && ms.g.in_h == 4 && mp.cond_h == 8,
        "cond shapes: sr %dx%dx%d, p2p default %d", ms.cond_c, ms.cond_h, ms.cond_w, mp.cond_h);
  CHECK(clgan_model_takes_cond(&mp) && clgan_model_takes_cond(&ms), "takes cond");
  float y[B * IMG], c[B * IMG], cs[B * 16];

  /* 1. the freezing rules, bitwise, for both shapes and for the L1-only ablation */
  for (int v = 0; v < 3; v++) {
    clgan_model *m = v == 1 ? &ms : &mp;
    clgan_gan *gan = make(ctx, m, v == 2 ? 0.0f : v == 1 ? 1e-3f : 1.0f, CLGAN_CONTENT_L1, 100.0f);
    int csz = v == 1 ? 16 : IMG;
    batch_of(0, csz, y, v == 1 ? cs : c);
    CHECK_OK(clgan_buffer_write(ctx, gan->real, 0, sizeof y, y));
    CHECK_OK(clgan_buffer_write(ctx, gan->cond, 0, (size_t)B * csz * sizeof(float), v == 1 ? cs : c));
    size_t ng = m->g.param_count, nd = m->d.param_count;
    float *g0 = arena(ctx, gan->g->params, ng), *d0 = arena(ctx, gan->d->params, nd);
    CHECK_OK(clgan_gan_d_step(gan));
    float *g1 = arena(ctx, gan->g->params, ng), *d1 = arena(ctx, gan->d->params, nd);
    float *dg1 = arena(ctx, gan->d->grads, nd);
    CHECK(same(g0, g1, ng), "variant %d: the D step changed G's parameters", v);
    CHECK(!same(d0, d1, nd), "variant %d: the D step did not change D", v);
    CHECK_OK(clgan_gan_g_step(gan));
    float *g2 = arena(ctx, gan->g->params, ng), *d2 = arena(ctx, gan->d->params, nd);
    float *dg2 = arena(ctx, gan->d->grads, nd);
    CHECK(same(d1, d2, nd), "variant %d: the G step changed D's parameters", v);
    CHECK(same(dg1, dg2, nd), "variant %d: the G step computed D weight gradients", v);
    CHECK(!same(g1, g2, ng), "variant %d: the G step did not change G", v);
    free(g0), free(d0), free(g1), free(d1), free(dg1), free(g2), free(d2), free(dg2);
    clgan_gan_free(gan);
  }

  /* 2. whole-network gradients against finite differences: D's (real + fake terms over the
   *    map, halved) and G's (adversarial through frozen D + content), L1 and MSE */
  for (int v = 0; v < 2; v++) {
    clgan_gan *gan = make(ctx, &mp, 0.7f, v ? CLGAN_CONTENT_MSE : CLGAN_CONTENT_L1, v ? 3.0f : 0.5f);
    batch_of(1, IMG, y, c);
    CHECK_OK(clgan_buffer_write(ctx, gan->real, 0, sizeof y, y));
    CHECK_OK(clgan_buffer_write(ctx, gan->cond, 0, sizeof c, c));
    /* the D gradient the D step computes, without its update: lr 0 keeps the weights */
    gan->cfg.lr_d = 0.0f, gan->cfg.lr_g = 0.0f;
    CHECK_OK(clgan_gan_d_step(gan));
    float *gd = arena(ctx, gan->d->grads, mp.d.param_count);
    /* G's output of the D step (training mode) is what d_loss reads: recompute it with
     * batch statistics, which the FD losses use too */
    CHECK_OK(clgan_net_forward(gan->g, B, CLGAN_VIEW(gan->cond, 0), CLGAN_BN_BATCH_STATS));
    fd_check(gan, gan->d, d_loss, gd, v ? "D (mse run)" : "D");
    CHECK_OK(clgan_gan_g_step(gan));
    float *gg = arena(ctx, gan->g->grads, mp.g.param_count);
    fd_check(gan, gan->g, g_loss, gg, v ? "G: adversarial + MSE" : "G: adversarial + L1");
    free(gd), free(gg);
    clgan_gan_free(gan);
  }

  /* 3. the content-only ablation learns: L1 falls */
  {
    clgan_gan *gan = make(ctx, &mp, 0.0f, CLGAN_CONTENT_L1, 100.0f);
    gan->cfg.lr_g = 2e-3f;
    clgan_step_metrics m0, m1;
    for (int it = 0; it < 40; it++) {
      batch_of(it, IMG, y, c);
      CHECK_OK(clgan_gan_iteration_cond(gan, y, c, NULL, it ? &m1 : &m0, 0));
    }
    CHECK(m1.loss_content < 0.6f * m0.loss_content, "L1-only: L1 %.4f -> %.4f in 40 iterations",
          m0.loss_content, m1.loss_content);
    CHECK(isfinite(m1.loss_d) && isfinite(m1.loss_g), "L1-only: D still trains, its loss logged");
    clgan_gan_free(gan);
  }

  /* 4. determinism and exact resume: 6 == 3 + checkpoint + restore + 3, the recipe stored */
  {
    char dir[] = "/tmp/clgan-test-cond-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[256];
    snprintf(path, sizeof path, "%s/ck.safetensors", dir);
    clgan_step_metrics met[2][6];
    for (int r = 0; r < 2; r++) {
      clgan_gan *a = make(ctx, &ms, 1e-3f, CLGAN_CONTENT_MSE, 1.0f);
      for (int it = 0; it < 6; it++) {
        batch_of(it, 16, y, cs);
        CHECK_OK(clgan_gan_iteration_cond(a, y, cs, NULL, &met[r][it], it % 2));
        if (it == 2 && !r) CHECK_OK(clgan_checkpoint_save(path, a, NULL));
      }
      clgan_gan_free(a);
    }
    CHECK(!memcmp(met[0], met[1], sizeof met[0]), "same seed, different losses");
    CHECK(isfinite(met[0][5].loss_content) && met[0][5].loss_content > 0.0f, "content loss logged");
    clgan_st_file f;
    clgan_model m2;
    CHECK_OK(clgan_checkpoint_open(path, &f, &m2));
    CHECK_OK(clgan_model_resolve(&m2, 1));
    clgan_train_config c2;
    long long step = -1;
    CHECK_OK(clgan_checkpoint_config(&f, &c2, &step, NULL));
    CHECK(step == 3 && c2.adv_weight == 1e-3f && c2.content == CLGAN_CONTENT_MSE &&
              c2.content_weight == 1.0f && c2.d_loss_scale == 0.5f && m2.cond_h == 4,
          "stored recipe: adv %g content %d x %g d %g", c2.adv_weight, (int)c2.content,
          c2.content_weight, c2.d_loss_scale);
    clgan_gan *r = NULL;
    CHECK_OK(clgan_gan_create(ctx, &m2, &c2, &r));
    if (r) {
      CHECK_OK(clgan_checkpoint_restore(&f, r));
      for (int it = 3; it < 6; it++) {
        clgan_step_metrics mm;
        batch_of(it, 16, y, cs);
        CHECK_OK(clgan_gan_iteration_cond(r, y, cs, NULL, &mm, it % 2));
        CHECK(!memcmp(&mm, &met[0][it], sizeof mm), "resumed iteration %d differs", it + 1);
      }
      /* generate from cond: eval mode twice gives the same bits, the shape of the image */
      float out1[B * IMG], out2[B * IMG];
      CHECK_OK(clgan_generate_cond(r->g, cs, 3, CLGAN_BN_EVAL, out1));
      CHECK_OK(clgan_generate_cond(r->g, cs, 3, CLGAN_BN_EVAL, out2));
      CHECK(same(out1, out2, 3 * IMG), "generate from cond is not repeatable");
      int in_range = 1;
      for (int i = 0; i < 3 * IMG; i++) in_range &= out1[i] >= -1.0f && out1[i] <= 1.0f;
      CHECK(in_range, "generated values outside [-1, 1]");
      clgan_gan_free(r);
    }
    clgan_safetensors_free(&f);
    clgan_model_free(&m2);
    unlink(path);
    rmdir(dir);
  }

  /* 5. refusals: a cond model fed without cond; no loss for G at all; bad weights */
  {
    clgan_gan *gan = make(ctx, &mp, 1.0f, CLGAN_CONTENT_L1, 100.0f);
    batch_of(0, IMG, y, c);
    clgan_status s = clgan_gan_iteration(gan, y, NULL, 0);
    CHECK(s == CLGAN_ERR_INVALID_ARG && strstr(clgan_last_error(), "image-to-image"),
          "iteration without cond: %s", clgan_last_error());
    clgan_gan_free(gan);
    clgan_train_config cf;
    clgan_train_config_default(&cf);
    cf.batch = B;
    cf.adv_weight = 0.0f, cf.content = CLGAN_CONTENT_NONE;
    clgan_gan *bad = NULL;
    s = clgan_gan_create(ctx, &mp, &cf, &bad);
    CHECK(s == CLGAN_ERR_INVALID_ARG && !bad, "no loss for G accepted");
    cf.adv_weight = -1.0f, cf.content = CLGAN_CONTENT_L1;
    s = clgan_gan_create(ctx, &mp, &cf, &bad);
    CHECK(s == CLGAN_ERR_INVALID_ARG && !bad, "negative adversarial weight accepted");
  }
  clgan_model_free(&mp);
  clgan_model_free(&ms);
  clgan_ctx_free(ctx);
  return tu_finish("test_gan_cond");
}
