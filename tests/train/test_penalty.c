/* The double backward through D for gradient penalties (src/nets/net_penalty.c,
 * kernels/penalty.cl), one small D per layer kind:
 *   - the tangent pass (J v) against the first-order backward: <u', J v> = <J^T u', v>;
 *   - the penalty's parameter gradient (WGAN-GP and R1) against central differences of
 *     the penalty, which is evaluated in float64 on the host from the device's first-order
 *     input gradient g = dD/dx at the perturbed parameters; every parameter is probed;
 *   - the penalty kernels against a float64 host computation of the same g;
 *   - a ProGAN-like D with minibatch stddev (groups of 4 in a batch of 8), whose tangents
 *     mix a group's samples (the adjoint identity over the whole batch) and whose penalty
 *     gradient has mbstd's second-order term (its Hessian-vector product back through the
 *     layers below it);
 *   - batch norm, tanh, spectral norm, two mbstd layers and label inputs are refused.
 * `--small`: one D, three probes per penalty (for Oclgrind: its kernels, not its breadth);
 * `--small-mbstd`: the same for a small mbstd D. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/model.h"
#include "clgan/penalty.h"
#include "ref/ref.h"
#include "test_util.h"

#define HEAD "model t\nlatent 4\nimage 2 8 8\ngenerator\n  linear 128\n  reshape 2 8 8\n  tanh\n"

typedef struct {
  const char *name, *d;
  int n; /* the batch (0: 3) */
} net_case;

static const net_case CASES[] = {
    {"conv+leaky+flatten+linear",
     "discriminator\n  conv 4 k=3 s=1 p=1\n  leakyrelu 0.2\n  flatten\n  linear 1\n", 0},
    {"avgpool", "discriminator\n  conv 4 k=3 s=1 p=1\n  leakyrelu 0.2\n  avgpool 2\n"
                "  conv 4 k=3 s=2 p=1\n  leakyrelu 0.2\n  flatten\n  linear 1\n", 0},
    {"upsample+relu", "discriminator\n  conv 3 k=3 s=2 p=1\n  relu\n  upsample 2\n"
                      "  conv 2 k=3 s=1 p=1\n  flatten\n  linear 1\n", 0},
    {"add+concat+patch map",
     "discriminator\n  a: conv 4 k=3 s=1 p=1\n  b: leakyrelu 0.2\n  c: conv 4 k=3 s=1 p=1\n"
     "  s: add in=b,c\n  cat: concat in=s,image\n  conv 1 k=4 s=2 p=1\n", 0},
    {"equalised lr (eq=1)",
     "discriminator\n  conv 4 k=3 s=1 p=1 eq=1\n  leakyrelu 0.2\n  convt 2 k=4 s=2 p=1 eq=1\n"
     "  leakyrelu 0.2\n  avgpool 4\n  flatten\n  linear 1 eq=1\n", 0},
    {"convt+pixelshuffle+sumpool",
     "discriminator\n  conv 8 k=3 s=2 p=1\n  leakyrelu 0.2\n  pixelshuffle 2\n"
     "  convt 2 k=4 s=2 p=1\n  leakyrelu 0.1\n  sumpool\n  linear 1\n", 0},
    {"fade (progan's fade-in)",
     "discriminator\n  conv 4 k=3 s=2 p=1\n  a: leakyrelu 0.2\n  avgpool 2 in=image\n"
     "  conv 4 k=1\n  b: leakyrelu 0.2\n  fade in=a,b alpha=0.3\n"
     "  conv 4 k=3 s=1 p=1\n  leakyrelu 0.2\n  flatten\n  linear 1\n", 0},
    /* groups of 4 (of 2 the std is |x1 - x2| / 2, piecewise linear: no second-order term)
     * over few positions (2x2), so that the term is well above the tolerance: without it
     * the penalty gradient misses by up to 6.5x */
    {"progan-like: mbstd 4, eq=1",
     "discriminator\n  conv 4 k=1 eq=1\n  leakyrelu 0.2\n  conv 4 k=3 s=1 p=1 eq=1\n"
     "  leakyrelu 0.2\n  avgpool 4\n  mbstd 4\n  conv 4 k=3 s=1 p=1 eq=1\n  leakyrelu 0.2\n"
     "  flatten\n  linear 1 eq=1\n", 8},
};
/* --small-mbstd (Oclgrind, which takes ~10 minutes over the D above): the same kernels
 * on a D of a few layers, one group of 4 */
static const net_case MBSTD_SMALL = {
    "mbstd, small", "discriminator\n  conv 2 k=1 eq=1\n  leakyrelu 0.2\n  avgpool 4\n"
    "  mbstd 4\n  flatten\n  linear 1 eq=1\n", 4};

static int N = 3; /* the case's batch */
enum { NMAX = 8 };

typedef struct {
  clgan_ctx *ctx;
  clgan_net *d;
  cl_mem x, u, g, v, coef, pen, nrm, out2;
  size_t in, outn;
} rig;

/* g = dD/dx at x (u = ones over every logit), read to the host */
static void first_grad(rig *r, float *g) {
  CHECK_OK(clgan_net_forward(r->d, N, CLGAN_VIEW(r->x, 0), CLGAN_BN_BATCH_STATS));
  CHECK_OK(clgan_net_backward(r->d, N, CLGAN_VIEW(r->u, 0), 0, 0, CLGAN_VIEW(r->g, 0)));
  tu_download(r->ctx, r->g, 0, N * r->in, g);
}

/* the penalty mean over the batch in float64 from g */
static double host_penalty(clgan_penalty_kind kind, double w, const float *g, size_t d,
                           double *norms) {
  double sum = 0.0;
  for (int i = 0; i < N; i++) {
    double ss = 0.0;
    for (size_t j = 0; j < d; j++) ss += (double)g[i * d + j] * g[i * d + j];
    double nm = sqrt(ss);
    if (norms) norms[i] = nm;
    sum += kind == CLGAN_PENALTY_WGAN_GP ? w * (nm - 1.0) * (nm - 1.0) : 0.5 * w * ss;
  }
  return sum / N;
}

static void run_case(clgan_ctx *ctx, const net_case *c, int small) {
  char text[2048];
  snprintf(text, sizeof text, "%s%s", HEAD, c->d);
  clgan_model m;
  CHECK_OK(clgan_model_parse(text, c->name, &m));
  CHECK_OK(clgan_model_resolve(&m, 2));
  if (!m.d.count) return;
  const char *why = clgan_net_penalty_unsupported(&m.d, NULL);
  CHECK(why == NULL, "%s: refused: %s", c->name, why ? why : "");
  N = c->n ? c->n : 3;
  int mixes = strstr(c->d, "mbstd") != NULL; /* the group's samples share a std */
  rig r = {.ctx = ctx};
  r.in = (size_t)m.d.in_c * m.d.in_h * m.d.in_w;
  r.outn = (size_t)m.d.out_c * m.d.out_h * m.d.out_w;
  CHECK_OK(clgan_net_create(ctx, &m.d, N, 0, "D", &r.d));
  if (!r.d) return;
  size_t np = m.d.param_count, xin = N * r.in, yo = N * r.outn;
  float *p = tu_alloc(np), *st = tu_alloc(1), *x = tu_alloc(xin), *ones = tu_alloc(yo);
  float *g = tu_alloc(xin), *v = tu_alloc(xin), *tan = tu_alloc(yo), *yp = tu_alloc(yo);
  float *ym = tu_alloc(yo), *grad = tu_alloc(np), *tmp = tu_alloc(np);
  clgan_net_init_params(&m.d, 11, 1, p, st);
  /* weights well above DCGAN's 0.02, so the gradient of a gradient is far above rounding */
  clgan_philox_normal(np, 21, 0, 0.0f, 0.4f, tmp);
  for (size_t i = 0; i < np; i++) p[i] += tmp[i];
  clgan_philox_uniform(xin, 22, 0, -1.0f, 1.0f, x);
  clgan_philox_normal(xin, 23, 0, 0.0f, 1.0f, v);
  for (size_t i = 0; i < yo; i++) ones[i] = 1.0f;
  r.x = tu_upload(ctx, x, xin);
  r.u = tu_upload(ctx, ones, yo);
  r.g = tu_upload(ctx, NULL, xin);
  r.v = tu_upload(ctx, v, xin);
  r.coef = tu_upload(ctx, NULL, N);
  r.pen = tu_upload(ctx, NULL, N);
  r.nrm = tu_upload(ctx, NULL, N);
  r.out2 = tu_upload(ctx, NULL, 2);
  CHECK_OK(clgan_net_set_params(r.d, p, NULL));

  /* 1. the tangent J v: for a random u', sample by sample, <u', J v> = <J^T u', v>, the
   * right side from the first-order backward (tests/train/test_graph.c). Exact for a
   * piecewise-linear D, where differences of the forward along v cross kinks. */
  CHECK_OK(clgan_net_forward(r.d, N, CLGAN_VIEW(r.x, 0), CLGAN_BN_BATCH_STATS));
  CHECK_OK(clgan_net_tangent_forward(r.d, N, CLGAN_VIEW(r.v, 0)));
  int last = m.d.ninputs + m.d.count - 1;
  clgan_view tv = r.d->tan_view[last];
  tu_download(ctx, tv.mem, tv.off, yo, tan);
  clgan_philox_normal(yo, 24, 0, 0.0f, 1.0f, yp);
  cl_mem ub = tu_upload(ctx, yp, yo);
  CHECK_OK(clgan_net_backward(r.d, N, CLGAN_VIEW(ub, 0), 0, 0, CLGAN_VIEW(r.g, 0)));
  tu_download(ctx, r.g, 0, xin, g);
  clgan_buffer_release(&ub);
  for (int i = 0; i < N; i++) { /* mixes: once, the sums over the whole batch */
    if (mixes && i) break;
    double lhs = 0, rhs = 0, mag = 0;
    size_t o0 = mixes ? 0 : i * r.outn, o1 = mixes ? N * r.outn : (i + 1) * r.outn;
    size_t j0 = mixes ? 0 : i * r.in, j1 = mixes ? N * r.in : (i + 1) * r.in;
    for (size_t o = o0; o < o1; o++) {
      lhs += (double)yp[o] * tan[o];
      mag += fabs((double)yp[o] * tan[o]);
    }
    for (size_t j = j0; j < j1; j++) {
      rhs += (double)g[j] * v[j];
      mag += fabs((double)g[j] * v[j]);
    }
    CHECK(fabs(lhs - rhs) <= 1e-5 * mag && mag > 1e-3, "%s: sample %d <u', Jv> %.9g, <J^T u', v> %.9g",
          c->name, i, lhs, rhs);
  }

  for (int kind = 0; kind < 2; kind++) {
    const double w = kind == CLGAN_PENALTY_WGAN_GP ? 10.0 : 3.0;
    /* 2. the device's penalty path: coef, v = coef g, tangent, penalty backward */
    first_grad(&r, g);
    double norms[NMAX];
    double pen0 = host_penalty((clgan_penalty_kind)kind, w, g, r.in, norms);
    CHECK_OK(clgan_penalty_coef(ctx, (clgan_penalty_kind)kind, N, r.in, (float)w, 1.0f / N,
                                CLGAN_VIEW(r.g, 0), CLGAN_VIEW(r.coef, 0), CLGAN_VIEW(r.pen, 0),
                                CLGAN_VIEW(r.nrm, 0)));
    CHECK_OK(clgan_penalty_mean(ctx, N, CLGAN_VIEW(r.pen, 0), CLGAN_VIEW(r.nrm, 0),
                                CLGAN_VIEW(r.out2, 0)));
    float o2[2], coef[NMAX];
    tu_download(ctx, r.out2, 0, 2, o2);
    tu_download(ctx, r.coef, 0, N, coef);
    double mn = 0.0;
    for (int i = 0; i < N; i++) {
      mn += norms[i] / N;
      double want = kind == CLGAN_PENALTY_WGAN_GP ? 2.0 * w * (norms[i] - 1.0) / norms[i] / N
                                                  : w / N;
      CHECK(fabs(coef[i] - want) <= 1e-5 * fabs(want) + 1e-7, "%s: coef %d %g want %g", c->name,
            i, coef[i], want);
    }
    CHECK(fabs(o2[0] - pen0) <= 1e-5 * fabs(pen0), "%s kind %d: penalty %g want %g", c->name,
          kind, o2[0], pen0);
    CHECK(fabs(o2[1] - mn) <= 1e-5 * mn, "%s: mean norm %g want %g", c->name, o2[1], mn);
    CHECK_OK(clgan_penalty_scale(ctx, N, r.in, CLGAN_VIEW(r.coef, 0), CLGAN_VIEW(r.g, 0),
                                 CLGAN_VIEW(r.v, 0)));
    CHECK_OK(clgan_net_tangent_forward(r.d, N, CLGAN_VIEW(r.v, 0)));
    /* garbage in the arena: overwriting must not keep any of it (biases included) */
    CHECK_OK(clgan_fill(ctx, np, 123.0f, CLGAN_VIEW(r.d->grads, 0)));
    CHECK_OK(clgan_net_penalty_backward(r.d, N, CLGAN_VIEW(r.u, 0), 0));
    tu_download(ctx, r.d->grads, 0, np, grad);
    double gmax = 0.0;
    for (size_t i = 0; i < np; i++) gmax = fmax(gmax, fabs(grad[i]));
    CHECK(gmax > 1e-3, "%s: a penalty gradient of %g", c->name, gmax);
    /* 3. every parameter: central differences of the host penalty, at h = 4e-3, 1e-3,
     * 2.5e-4 or 6.25e-5 (a smaller step rescues one that crosses a kink of a relu, where g
     * jumps: a bias's steps move a whole channel's pre-activations; a wrong gradient misses
     * at all four) */
    int probes = 0, bad = 0;
    double worst_all = 0.0;
    size_t stride = small ? np / 3 + 1 : 1;
    for (size_t j = 0; j < np; j += stride) {
      double best = 1e30;
      for (int e = 0; e < 4 && best > 1.0; e++) {
        float h = 4e-3f / (float)(1 << (2 * e)), keep = p[j]; /* 4e-3 ... 6.25e-5 */
        double f[2];
        for (int sgn = 0; sgn < 2; sgn++) {
          p[j] = keep + (sgn ? -h : h);
          CHECK_OK(clgan_net_set_params(r.d, p, NULL));
          first_grad(&r, g);
          f[sgn] = host_penalty((clgan_penalty_kind)kind, w, g, r.in, NULL);
        }
        p[j] = keep;
        double fd = (f[0] - f[1]) / (2.0 * ((double)(keep + h) - keep));
        double err = fabs(fd - grad[j]) / (2e-3 * gmax + 2e-2 * fabs(fd));
        if (err < best) best = err;
      }
      probes++;
      if (best > 1.0) {
        if (bad++ < 5)
          fprintf(stderr, "  %s kind %d: param %zu grad %g (%.3g x tolerance)\n", c->name, kind,
                  j, grad[j], best);
      }
      worst_all = fmax(worst_all, best);
    }
    CHECK_OK(clgan_net_set_params(r.d, p, NULL));
    CHECK(bad == 0, "%s kind %d: %d of %d parameters off", c->name, kind, bad, probes);
    printf("%-28s %s: %d params probed, worst %.3f x tolerance, penalty %.6g\n", c->name,
           kind ? "r1     " : "wgan-gp", probes, worst_all, pen0);
  }
  cl_mem *bufs[] = {&r.x, &r.u, &r.g, &r.v, &r.coef, &r.pen, &r.nrm, &r.out2};
  for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) clgan_buffer_release(bufs[i]);
  clgan_net_free(r.d);
  clgan_model_free(&m);
  free(p), free(st), free(x), free(ones), free(g), free(v), free(tan), free(yp), free(ym);
  free(grad), free(tmp);
}

static void refusals(void) {
  const char *bad[][3] = {
      {"discriminator\n  conv 4 k=3 s=2 p=1\n  batchnorm\n  leakyrelu 0.2\n  flatten\n  linear 1\n",
       "batch norm", "1"},
      {"discriminator\n  conv 4 k=3 s=2 p=1\n  tanh\n  flatten\n  linear 1\n", "tanh", "1"},
      {"discriminator\n  conv 4 k=3 s=2 p=1 sn=1\n  leakyrelu 0.2\n  flatten\n  linear 1\n",
       "spectral norm", "0"},
      {"discriminator\n  conv 4 k=3 s=2 p=1\n  mbstd\n  leakyrelu 0.2\n  mbstd\n  flatten\n"
       "  linear 1\n", "second minibatch stddev", "3"},
  };
  for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
    char text[1024];
    snprintf(text, sizeof text, "%s%s", HEAD, bad[k][0]);
    clgan_model m;
    CHECK_OK(clgan_model_parse(text, "bad", &m));
    CHECK_OK(clgan_model_resolve(&m, 2));
    int layer = -2;
    const char *why = clgan_net_penalty_unsupported(&m.d, &layer);
    CHECK(why && strstr(why, bad[k][1]) && layer == atoi(bad[k][2]), "refusal %zu: %s (layer %d)", k,
          why ? why : "(accepted)", layer);
    clgan_model_free(&m);
  }
  /* eq=1 (equalised lr) and sn=1 do not combine: refused by the parser */
  char text[1024];
  snprintf(text, sizeof text, "%sdiscriminator\n  conv 4 k=3 s=2 p=1 sn=1 eq=1\n  flatten\n"
           "  linear 1\n", HEAD);
  clgan_model m;
  clgan_status s = clgan_model_parse(text, "bad", &m);
  CHECK(s == CLGAN_ERR_INVALID_ARG && strstr(clgan_last_error(), "do not combine"), "sn+eq: %s",
        s ? clgan_last_error() : "accepted");
  if (!s) clgan_model_free(&m);
}

int main(int argc, char **argv) {
  int small = argc > 1 && !strcmp(argv[1], "--small");
  if (argc > 2 && !strcmp(argv[1], "--d")) { /* a D of one's own, for investigations */
    net_case c = {"custom", argv[2], argc > 3 ? atoi(argv[3]) : 0};
    clgan_ctx *ctx = tu_open_device();
    run_case(ctx, &c, 0);
    clgan_ctx_free(ctx);
    return tu_finish("penalty");
  }
  if (argc < 2 || strcmp(argv[1], "--small-mbstd")) refusals();
  clgan_ctx *ctx = tu_open_device();
  if (argc > 1 && !strcmp(argv[1], "--small-mbstd")) {
    run_case(ctx, &MBSTD_SMALL, 1);
  } else {
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++)
      if (!small || i == 3) run_case(ctx, &CASES[i], small);
  }
  clgan_ctx_free(ctx);
  return tu_finish("penalty");
}
