/* Graph models. Host part (always): the syntax (names, in=, input lines), each kind of bad
 * graph refused with its file:line before anything is allocated, the presets' shapes and
 * tensor names, the gradient-memory plan, and docs/MODELS.md's U-Net example. Device part
 * (`test_graph --device`, exit 77 without a device): a network that uses every node kind,
 * with branches, a tensor read three times and a view read twice, against finite
 * differences of its own forward, for the parameters and the main input
 * (`--device --small`: fewer probes, for Oclgrind). */
#include <math.h>

#include "clgan/gan.h"
#include "test_util.h"

static clgan_status try_model(const char *text, int channels) {
  clgan_model m;
  clgan_status s = clgan_model_parse(text, "g.model", &m);
  if (s) return s;
  s = clgan_model_resolve(&m, channels);
  clgan_model_free(&m);
  return s;
}

#define EXPECT_BAD(text, needle)                                                          \
  do {                                                                                    \
    clgan_status s_ = try_model(text, 1);                                                 \
    CHECK(s_ == CLGAN_ERR_INVALID_ARG, "accepted a bad graph (%s)", needle);             \
    CHECK(strstr(clgan_last_error(), needle) != NULL, "message '%s' lacks '%s'",          \
          clgan_last_error(), needle);                                                    \
  } while (0)

/* Lines 1-4 of every bad model below; a generator section follows from line 5. */
static const char *HEAD = "model t\nlatent 8\nimage 1 4 4\n# line 4\n";
static const char *HEADC = "model t\nlatent 8\nimage 1 4 4\nclasses 3\n"; /* with labels */
static const char *DTAIL = "discriminator\n  flatten\n  linear 1\n";

static void host_tests(void) {
  char buf[2048];
  /* the presets: cdcgan28 is dcgan28 plus an embedding of the label on each side */
  clgan_model m;
  CHECK_OK(clgan_model_load("cdcgan28", &m));
  CHECK_OK(clgan_model_resolve(&m, 1));
  CHECK(m.classes == 10 && m.g.ninputs == 2 && m.d.ninputs == 2, "cdcgan28 inputs");
  CHECK(m.g.inputs[0].kind == CLGAN_INPUT_Z && m.g.inputs[1].kind == CLGAN_INPUT_LABEL, "G inputs");
  CHECK(m.g.param_count == 10 * 50 + 150 * 12544 + 2 * 256 + 256 * 128 * 16 + 2 * 128 + 128 * 16,
        "cdcgan28 G params %zu", m.g.param_count);
  CHECK(m.d.param_count == 10 * 784 + 64 * 2 * 16 + 64 * 128 * 16 + 2 * 128 + 6272 + 1,
        "cdcgan28 D params %zu", m.d.param_count);
  CHECK(m.d.layers[2].kind == CLGAN_LAYER_CONCAT && m.d.layers[2].out_c == 2, "D concat 1+1");
  char name[64];
  clgan_layer_tensor_name(&m.g.layers[0], 0, "weight", name, sizeof name);
  CHECK(!strcmp(name, "emb.weight"), "named node's tensor %s", name);
  clgan_layer_tensor_name(&m.g.layers[2], 2, "weight", name, sizeof name);
  CHECK(!strcmp(name, "2.weight"), "unnamed node's tensor %s", name);
  clgan_model_free(&m);
  CHECK_OK(clgan_model_load("cdcgan28-proj", &m));
  CHECK_OK(clgan_model_resolve(&m, 1));
  CHECK(m.loss == 3 && m.d.out_c == 1 && m.d.out_h == 1, "proj: hinge, one logit");
  clgan_model_free(&m);
  /* a sequential file is a chain: each layer reads the line above */
  CHECK_OK(clgan_model_load("dcgan28", &m));
  CHECK(m.g.ninputs == 1 && m.g.inputs[0].kind == CLGAN_INPUT_Z && m.d.inputs[0].kind == CLGAN_INPUT_IMAGE,
        "default inputs");
  for (int i = 0; i < m.g.count; i++)
    CHECK(m.g.layers[i].nsrc == 1 && m.g.layers[i].src[0] == (i ? m.g.ninputs + i - 1 : 0),
          "chain at %d", i);
  clgan_model_free(&m);

  /* the bad graphs, each named with its line */
  snprintf(buf, sizeof buf, "%sgenerator\n  linear 16\n  concat in=z,nope\n%s", HEAD, DTAIL);
  EXPECT_BAD(buf, "g.model:7: unknown input 'nope'");
  snprintf(buf, sizeof buf, "%sgenerator\n  a: linear 16 in=b\n  b: linear 16 in=a\n%s", HEAD, DTAIL);
  EXPECT_BAD(buf, "g.model:6: 'b' is defined below (line 7)");
  snprintf(buf, sizeof buf, "%sgenerator\n  a: linear 16 in=a\n%s", HEAD, DTAIL);
  EXPECT_BAD(buf, "g.model:6: 'a' is this node itself");
  snprintf(buf, sizeof buf, "%sgenerator\n  input z label\n  linear 16\n  reshape 1 4 4\n%s", HEADC, DTAIL);
  EXPECT_BAD(buf, "the generator's input 'label' is never used");
  snprintf(buf, sizeof buf, "%sgenerator\n  a: linear 16\n  linear 16 in=z\n  reshape 1 4 4\n%s", HEAD, DTAIL);
  EXPECT_BAD(buf, "g.model:6: the output of 'a' is never used");
  snprintf(buf, sizeof buf, "%sgenerator\n  input z label\n  a: linear 8 in=label\n  concat in=z,a\n"
           "  linear 16\n  reshape 1 4 4\n%s", HEADC, DTAIL);
  EXPECT_BAD(buf, "g.model:7: a label input can only go into 'embed'");
  snprintf(buf, sizeof buf, "%sgenerator\n  e: embed 3 4 in=z\n  linear 16\n  reshape 1 4 4\n%s", HEADC, DTAIL);
  EXPECT_BAD(buf, "g.model:6: 'embed' takes a label input");
  snprintf(buf, sizeof buf, "%sgenerator\n  label: linear 16\n%s", HEAD, DTAIL);
  EXPECT_BAD(buf, "g.model:6: bad node name 'label'");
  snprintf(buf, sizeof buf, "%sgenerator\n  a: linear 16\n  a: linear 16\n%s", HEAD, DTAIL);
  EXPECT_BAD(buf, "g.model:7: a second node named 'a' (the first is on line 6)");
  snprintf(buf, sizeof buf, "%sgenerator\n  linear 16\n  input z\n%s", HEAD, DTAIL);
  EXPECT_BAD(buf, "g.model:7: 'input' names a section's inputs");
  snprintf(buf, sizeof buf, "%sgenerator\n  input z pixels\n%s", HEAD, DTAIL);
  EXPECT_BAD(buf, "g.model:6: unknown input 'pixels'");
  snprintf(buf, sizeof buf, "%sgenerator\n  concat\n%s", HEAD, DTAIL);
  EXPECT_BAD(buf, "g.model:6: 'concat' needs two or more inputs");
  /* shapes that cannot merge, with the line and both shapes */
  snprintf(buf, sizeof buf, "%sgenerator\n  a: linear 16\n  r: reshape 1 4 4\n  b: linear 4 in=z\n"
           "  c: reshape 1 2 2\n  concat in=r,c\n%s", HEAD, DTAIL);
  EXPECT_BAD(buf, "line 10 (generator layer 4): cannot concat 'r' (1 x 4 x 4) with 'c' (1 x 2 x 2)");
  /* fade: two inputs of one shape, alpha in 0..1 */
  snprintf(buf, sizeof buf, "%sgenerator\n  a: linear 16\n  r: reshape 1 4 4\n  b: linear 4 in=z\n"
           "  c: reshape 1 2 2\n  fade in=r,c\n%s", HEAD, DTAIL);
  EXPECT_BAD(buf, "line 10 (generator layer 4): cannot fade 'r' (1 x 4 x 4) into 'c' (1 x 2 x 2)");
  snprintf(buf, sizeof buf, "%sgenerator\n  a: linear 16\n  fade in=a,a alpha=2\n%s", HEAD, DTAIL);
  EXPECT_BAD(buf, "g.model:7: bad alpha '2' for alpha= of 'fade' (0..1)");
  snprintf(buf, sizeof buf, "%sgenerator\n  a: linear 16\n  fade in=a\n%s", HEAD, DTAIL);
  EXPECT_BAD(buf, "g.model:7: 'fade' needs two inputs, the old stage then the new: in=old,new");
  snprintf(buf, sizeof buf, "%sgenerator\n  a: linear 16\n  b: linear 8 in=z\n  add in=a,b\n"
           "  reshape 1 4 4\n%s", HEAD, DTAIL);
  EXPECT_BAD(buf, "line 8 (generator layer 2): cannot add 'a' (16 x 1 x 1) and 'b' (8 x 1 x 1)");
  snprintf(buf, sizeof buf, "%sgenerator\n  a: linear 16\n  r: reshape 1 4 4\n  b: linear 2 in=z\n"
           "  mul in=r,b\n%s", HEAD, DTAIL);
  EXPECT_BAD(buf, "cannot multiply 'r' (1 x 4 x 4) by 'b' (2 x 1 x 1)");
  snprintf(buf, sizeof buf, "%sgenerator\n  input z label\n  e: embed 5 4 in=label\n  concat in=z,e\n"
           "  linear 16\n  reshape 1 4 4\n%s", HEADC, DTAIL);
  EXPECT_BAD(buf, "embed of 5 classes, but the model has 3");
  snprintf(buf, sizeof buf, "model t\nlatent 8\nimage 1 4 4\ngenerator\n  input z label\n"
           "  e: embed 3 4 in=label\n  concat in=z,e\n  linear 16\n  reshape 1 4 4\n%s", DTAIL);
  EXPECT_BAD(buf, "a label input needs 'classes N'");
  snprintf(buf, sizeof buf, "%sgenerator\n  linear 16\n  reshape 1 4 4\n%s", HEADC, DTAIL);
  EXPECT_BAD(buf, "'classes 3' but no network takes a label input");
  snprintf(buf, sizeof buf, "%sgenerator\n  linear 16\n  reshape 1 4 4\n  avgpool 3\n%s", HEAD, DTAIL);
  EXPECT_BAD(buf, "avgpool 3 does not divide a 4x4 input");
  snprintf(buf, sizeof buf, "model t\nlatent 8\nimage 1 4 4\ngenerator\n  linear 16\n  reshape 1 4 4\n"
           "discriminator\n  input label image\n  flatten\n  linear 1\n");
  EXPECT_BAD(buf, "the discriminator's first input must be 'image'");

  /* docs/MODELS.md's U-Net example parses and resolves as the page says */
  {
    FILE *f = fopen(DOCS_DIR "/MODELS.md", "rb");
    CHECK(f != NULL, "cannot open %s", DOCS_DIR "/MODELS.md");
    static char doc[65536];
    size_t n = f ? fread(doc, 1, sizeof doc - 1, f) : 0;
    if (f) fclose(f);
    doc[n] = '\0';
    char *a = strstr(doc, "<!-- unet-example -->\n```\n");
    char *b = a ? strstr(a + 26, "\n```") : NULL;
    CHECK(a && b, "docs/MODELS.md has no unet-example block");
    if (a && b) {
      b[1] = '\0';
      a += strlen("<!-- unet-example -->\n```\n");
      CHECK_OK(clgan_model_parse(a, "docs/MODELS.md", &m));
      CHECK_OK(clgan_model_resolve(&m, 3));
      CHECK(m.g.inputs[0].kind == CLGAN_INPUT_COND && m.g.out_c == 3 && m.g.out_h == 32,
            "U-Net G: cond -> 3x32x32");
      CHECK(m.d.ninputs == 2 && m.d.layers[0].out_c == 6 && m.d.out_c * m.d.out_h == 1,
            "U-Net D: (image, cond) -> one logit");
      int skips = 0;
      for (int i = 0; i < m.g.count; i++) skips += m.g.layers[i].kind == CLGAN_LAYER_CONCAT;
      CHECK(skips == 2, "U-Net skips %d", skips);
      clgan_model_free(&m);
    }
  }

  /* the plan: in a chain each activation gradient is dead once its producer has read it,
   * so regions are reused. dcgan64's G at batch 64: the fused batch norm + relu before
   * the last convT reads one 64x32x32 gradient and writes another, so two such regions
   * (2 x 4194304 floats) must be live at once, a floor no plan can go under; first fit may
   * lose at most the region before them, the 3x64x64 one (786432), to fragmentation.
   * One region per tensor would take 16515072. */
  CHECK_OK(clgan_model_load("dcgan64", &m));
  CHECK_OK(clgan_model_resolve(&m, 3));
  clgan_net_memory mem;
  clgan_net_memory_plan(&m.g, 64, 1, &mem);
  size_t floor2 = 2 * (size_t)64 * 64 * 32 * 32;
  CHECK(mem.gacts >= floor2 && mem.gacts <= floor2 + (size_t)64 * 3 * 64 * 64 &&
            mem.gacts_unshared == 16515072, "dcgan64 G gradients %zu of %zu", mem.gacts,
        mem.gacts_unshared);
  clgan_model_free(&m);
}

/* ---------- device: finite differences through every node kind ---------- */

/* G uses every node kind; r (a view of lin) feeds upsample and add, pr feeds three nodes.
 * D is only there to make a valid model. */
static const char *GRAPH =
    "model every-node\nlatent 6\nimage 2 4 4\nclasses 3\n"
    "generator\n"
    "  input z label\n"
    "  emb: embed 3 4 in=label\n"
    "  zc: concat in=z,emb\n"
    "  lin: linear 32 in=zc\n"
    "  r: reshape 2 4 4\n"
    "  up: upsample 2\n"
    "  c1: conv 8 k=3 s=1 p=1\n"
    "  inn: instancenorm affine=1\n"
    "  pr: prelu per_channel=1\n"
    "  gate: sumpool in=pr\n"
    "  sg: sigmoid\n"
    "  m: mul in=pr,sg\n"
    "  ps: pixelshuffle 2 in=m\n"
    "  ap: avgpool 4\n"
    "  sk: add in=ap,r\n"
    "  fa: fade in=ap,sk alpha=0.7\n"
    "  dr: dropout 0.25\n"
    "  id: identity in=dr\n"
    "  cc: concat in=id,pr2\n"
    "  out: conv 2 k=1\n"
    "  tanh\n"
    "discriminator\n  flatten\n  linear 1\n";

/* z lives in a buffer of its own, written whole (a host write of part of the net's arena
 * would shrink Oclgrind's shadow of the arena: docs/ERRORS.md) */
static cl_mem zbuf;

static double loss_of(clgan_net *g, int n, const float *w, float *y) {
  CHECK_OK(clgan_net_forward(g, n, CLGAN_VIEW(zbuf, 0), CLGAN_BN_BATCH_STATS));
  clgan_view o = clgan_net_output(g);
  size_t sz = (size_t)n * g->desc->out_c * g->desc->out_h * g->desc->out_w;
  tu_download(g->ctx, o.mem, o.off, sz, y);
  double l = 0.0;
  for (size_t i = 0; i < sz; i++) l += (double)w[i] * y[i];
  return l;
}

static void device_tests(int small) {
  clgan_ctx *ctx = tu_open_device();
  char text[2048];
  /* pr2: a second reader of inn (so prelu accumulates its data gradient), and a branch of another depth for the concat */
  snprintf(text, sizeof text, "%s", GRAPH);
  char *at = strstr(text, "  id: identity in=dr\n");
  char tail[1024];
  snprintf(tail, sizeof tail, "%s", at);
  snprintf(at, sizeof text - (size_t)(at - text), "  pr2: avgpool 2 in=inn\n%s", tail);
  clgan_model m;
  CHECK_OK(clgan_model_parse(text, "every-node", &m));
  CHECK_OK(clgan_model_resolve(&m, 2));
  if (tu_failures) return;
  enum { N = 3 };
  clgan_net *g = NULL;
  CHECK_OK(clgan_net_create(ctx, &m.g, N, 0, "G", &g));
  if (!g) return;
  size_t np = m.g.param_count, nz = (size_t)m.nz;
  size_t out = (size_t)N * m.g.out_c * m.g.out_h * m.g.out_w;
  float *p = tu_alloc(np), *st = tu_alloc(m.g.stat_count + 1), *z = tu_alloc(N * nz);
  float *w = tu_alloc(out), *y = tu_alloc(out), *grad = tu_alloc(np), *dz = tu_alloc(N * nz);
  clgan_net_init_params(&m.g, 5, 0, p, st);
  /* weights larger than DCGAN's 0.02, so every path carries a gradient well above rounding */
  clgan_philox_normal(np, 77, 0, 0.0f, 0.5f, grad);
  for (size_t i = 0; i < np; i++) p[i] += grad[i];
  clgan_philox_normal(N * nz, 78, 0, 0.0f, 1.0f, z);
  clgan_philox_uniform(out, 79, 0, -1.0f, 1.0f, w);
  int32_t labels[N] = {2, 0, 1};
  cl_mem lb = NULL, dzb = tu_upload(ctx, NULL, N * nz), wb = tu_upload(ctx, w, out);
  CHECK_OK(clgan_buffer_create(ctx, sizeof labels, "labels", &lb));
  CHECK_OK(clgan_buffer_write(ctx, lb, 0, sizeof labels, labels));
  CHECK_OK(clgan_net_bind(g, CLGAN_INPUT_LABEL, CLGAN_VIEW(lb, 0)));
  CHECK_OK(clgan_net_set_params(g, p, st));
  zbuf = tu_upload(ctx, z, N * nz);
  g->rng_seed = 99;
  g->rng_step = 4;
  double l0 = loss_of(g, N, w, y);
  CHECK_OK(clgan_fill(ctx, np, 0.0f, CLGAN_VIEW(g->grads, 0)));
  CHECK_OK(clgan_net_backward(g, N, CLGAN_VIEW(wb, 0), 1, 0, CLGAN_VIEW(dzb, 0)));
  tu_download(ctx, g->grads, 0, np, grad);
  tu_download(ctx, dzb, 0, N * nz, dz);
  /* the backward does not disturb the forward's values */
  CHECK(fabs(loss_of(g, N, w, y) - l0) <= 1e-6 * (1 + fabs(l0)), "forward repeats");
  /* Central differences in float32: truncation ~h^2 f''', rounding ~1e-7 |L| / h. A probe
   * passes when the difference at h = 1e-2 or at h = 2.5e-3 is within 3e-3 + 3e-2 |fd| of
   * the backward: the smaller step rescues a probe whose step crosses a PReLU kink (the
   * function is not smooth there), while a wrong gradient misses at both. Every parameter
   * tensor is probed at up to 6 places, and every z element. */
  int probes = 0;
  for (int li = 0; li < m.g.count; li++) {
    const clgan_layer_desc *l = &m.g.layers[li];
    size_t cnt = l->weight_count + l->bias_count;
    for (int k = 0; k < (small ? 1 : 6) && (size_t)k < cnt; k++) {
      size_t j = l->weight_off + (size_t)(((unsigned)k * 2654435761u + 7u) % (unsigned)cnt);
      double fd[2];
      for (int e = 0; e < 2; e++) {
        const float h = e ? 2.5e-3f : 1e-2f, keep = p[j];
        p[j] = keep + h;
        CHECK_OK(clgan_net_set_params(g, p, NULL));
        double lp = loss_of(g, N, w, y);
        p[j] = keep - h;
        CHECK_OK(clgan_net_set_params(g, p, NULL));
        double lm = loss_of(g, N, w, y);
        p[j] = keep;
        fd[e] = (lp - lm) / (2.0 * h);
      }
      CHECK(fabs(fd[0] - grad[j]) <= 3e-3 + 3e-2 * fabs(fd[0]) ||
                fabs(fd[1] - grad[j]) <= 3e-3 + 3e-2 * fabs(fd[1]),
            "layer %d (%s) parameter %zu: backward %.6g, finite differences %.6g, %.6g", li,
            l->name, j, grad[j], fd[0], fd[1]);
      probes++;
    }
  }
  CHECK_OK(clgan_net_set_params(g, p, NULL));
  for (size_t j = 0; j < N * nz; j += small ? 7 : 1) {
    double fd[2];
    for (int e = 0; e < 2; e++) {
      const float h = e ? 2.5e-3f : 1e-2f, keep = z[j];
      z[j] = keep + h;
      CHECK_OK(clgan_buffer_write(ctx, zbuf, 0, N * nz * 4, z));
      double lp = loss_of(g, N, w, y);
      z[j] = keep - h;
      CHECK_OK(clgan_buffer_write(ctx, zbuf, 0, N * nz * 4, z));
      double lm = loss_of(g, N, w, y);
      z[j] = keep;
      fd[e] = (lp - lm) / (2.0 * h);
    }
    CHECK(fabs(fd[0] - dz[j]) <= 3e-3 + 3e-2 * fabs(fd[0]) ||
              fabs(fd[1] - dz[j]) <= 3e-3 + 3e-2 * fabs(fd[1]),
          "z[%zu]: backward %.6g, finite differences %.6g, %.6g", j, dz[j], fd[0], fd[1]);
    probes++;
  }
  printf("every-node graph: %d probes, loss %.6g\n", probes, l0);
  /* determinism: a second backward gives the same bits */
  float *grad2 = tu_alloc(np);
  CHECK_OK(clgan_buffer_write(ctx, zbuf, 0, N * nz * 4, z));
  loss_of(g, N, w, y);
  CHECK_OK(clgan_net_backward(g, N, CLGAN_VIEW(wb, 0), 1, 0, CLGAN_NONE));
  tu_download(ctx, g->grads, 0, np, grad2);
  CHECK(!memcmp(grad, grad2, np * sizeof(float)), "the backward is bitwise repeatable");
  /* accumulate = 1 (D's second backward in a step) adds the same gradient: exactly 2 g,
   * for every parameter kind, also where a layer's data gradient is itself accumulated */
  CHECK_OK(clgan_net_backward(g, N, CLGAN_VIEW(wb, 0), 1, 1, CLGAN_NONE));
  tu_download(ctx, g->grads, 0, np, grad2);
  size_t bad = 0;
  for (size_t i = 0; i < np; i++) bad += grad2[i] != 2.0f * grad[i];
  CHECK(bad == 0, "accumulated gradients: %zu of %zu differ from 2 g", bad, np);
  free(grad2);
  free(p), free(st), free(z), free(w), free(y), free(grad), free(dz);
  clgan_buffer_release(&lb);
  clgan_buffer_release(&dzb);
  clgan_buffer_release(&wb);
  clgan_buffer_release(&zbuf);
  clgan_net_free(g);
  clgan_model_free(&m);
  clgan_ctx_free(ctx);
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--device")) {
    /* --small (under Oclgrind): one probe per tensor, every 7th z element */
    device_tests(argc > 2 && !strcmp(argv[2], "--small"));
    return tu_finish("graph (device)");
  }
  host_tests();
  return tu_finish("graph");
}
