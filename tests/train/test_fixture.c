/* The PyTorch fixture: one complete GAN iteration (D step, then G step) against PyTorch,
 * and the losses of 10 fixed-input iterations, for a model: dcgan28 (fixture_dcgan28.json),
 * the conditional cdcgan28 (fixture_cdcgan28.json; real labels from Philox, G asked for
 * clgan_gan_fake_labels' classes, and G(z, labels) of the initial checkpoint against
 * PyTorch's); cdcgan28-proj (hinge loss) works the same way, no fixture of it is committed
 * yet. The fixtures are made by make_fixture.py (Debian's python3-torch, nets built by
 * samples/clgan_torch.py) from what `test_fixture --dump DIR MODEL` writes; see the top of
 * make_fixture.py and docs/CHECKPOINTS.md.
 *
 *   test_fixture FIXTURE.json    compare with the fixture (its "model"; suite 'device';
 *                                exit 77: no device)
 *   test_fixture --dump DIR [MODEL]  write the inputs and clgan's own results for
 *                                make_fixture.py (MODEL: dcgan28 by default)
 *   test_fixture --generate CKPT OUT   G's images of fixed noise (and, for a conditional
 *                                model, the classes i % classes) from any checkpoint, for
 *                                samples/load_generator.py --compare
 *
 * The fixture holds summaries, not whole tensors: per tensor its count, sum, sum of squares,
 * NPROJ projections onto pseudo-random +-1 vectors (sign k of element i = bit k of
 * hash32(i), the same function in make_fixture.py) and 32 elements at stated indices; tensors
 * of at most 512 elements are stored whole. A projection moves by the error of any one
 * element, whatever its place, so a wrong element anywhere shows up; it also changes when
 * elements trade places (the signs belong to the index), so does a wrong layout, which the
 * sampled elements then point at. */
#include <errno.h>
#include <json-c/json.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clgan/gan.h"
#include "test_util.h"

enum { BATCH = 64, ITERS = 10, NPROJ = 4, MAXT = 64, GEN_COUNT = 64 };
#define SEED 20240601ull
#define REAL_STREAM 0x7265616cull /* Philox key of the synthetic real images ("real") */
/* the real batch's labels: Philox key SEED + REAL_STREAM + 2, value it * BATCH + b of the
 * stream as a uniform u in [0, 1), class floor(u * classes) (make_fixture.py has the same
 * description; the labels are also stored in the fixture, whole) */
#define LABEL_STREAM (REAL_STREAM + 2)

/* ---------- tolerances (abs + rel * |ref|, see docs/CHECKPOINTS.md "The PyTorch fixture") ----
 * Losses and D outputs of iteration 1: means of 64 values computed from float32 logits,
 * each a dot product of 6272 terms; summation order alone moves them by ~1e-6 relative. */
#define TOL_LOSS_ABS 2e-6
#define TOL_LOSS_REL 2e-5
/* A tensor summary: projections within EPS * ||ref|| (errors of relative size e, seen through
 * random signs, move a projection by ~e * ||ref||; a single wrong element moves it by its
 * whole error), the sum within EPS * sqrt(n) * ||ref|| (see check_summary), the sum of
 * squares within 2 * EPS * sumsq, elements within EPS_ELEM * (rms(ref) + |ref|) (an element
 * that is small by cancellation is judged on the tensor's scale). */
typedef struct {
  double eps, eps_elem;
} tol;
/* Initial weights and inputs: clgan regenerates them bit for bit; anything looser means the
 * fixture is stale (init or Philox changed) and must be regenerated. */
static const tol TOL_EXACT = {1e-12, 1e-12};
/* z comes from the device's Philox kernel, which is meant to be bit-identical everywhere;
 * a few float32 ulps of a device's log or sqrt would not matter to anything below. */
static const tol TOL_Z = {1e-6, 1e-6};
/* Gradients: float32 sums in another order (GEMM blocking, BN reductions); BN backward
 * subtracts means, which costs some relative precision per element. */
static const tol TOL_GRAD = {1e-5, 1e-4};
/* Parameters after Adam: step 1 moves each by lr * g / (|g| + eps) ~ lr * sign(g), so an
 * element whose gradient is 0 within rounding may move the other way (by up to 2 lr); the
 * fixture counts them and check_summary allows for them. Elements are compared on the scale
 * of the step, lr: 2e-4 of it is far below any error in the step itself. */
static const tol TOL_AFTER = {2e-5, 2e-4};
/* Batch-norm running statistics. running_mean = 0.9 * 0 + 0.1 * a batch mean, which cancels:
 * judged on the tensor's scale. running_var = 0.9 * 1 + 0.1 * var: a few float32 roundings
 * near 1 (measured: at most 2 ulps); the tolerance is ~7 ulps, because the biased variance
 * in place of the unbiased one moves it by only 0.1 var / (m - 1) with m = 64*7*7, i.e.
 * (running_var - 0.9) / 3136: 1.3e-6 and 5e-6 in G's two layers. */
static const tol TOL_STATS_MEAN = {2e-6, 5e-6};
static const tol TOL_STATS_VAR = {2e-7, 2.5e-7};
/* The losses of iterations 2..10: a DCGAN's first iterations amplify rounding differences
 * (PyTorch float32 against float64 differ by ~1e-4 at iteration 3, ~1e-3 by 10). The fixture
 * holds, per iteration, the largest deviation of 8 PyTorch runs with weights perturbed by one
 * float32 rounding and of a float64 run ("spread"); clgan must stay within a few times it. */
#define TOL_RUN_ABS 1e-6
#define TOL_RUN_REL 1e-5
#define TOL_RUN_SPREAD 3.0
/* G(z, labels) of the initial checkpoint (conditional fixtures): a forward pass only,
 * float32 sums in another order through 3 GEMM-like layers and 2 batch norms (batch
 * statistics: means subtracted, as the gradients' BN); load_generator.py --compare measured
 * 1e-7..7e-7 max |diff| on images of rms ~0.1-0.5 */
static const tol TOL_GEN = {1e-5, 2e-5};
/* |g| <= TINY_GRAD * rms(g): the gradient is 0 within rounding (make_fixture.py's TINY_GRAD) */
#define TINY_GRAD 1e-4

/* ---------- summaries ---------- */

/* lowbias32 (Chris Wellons' integer hash); make_fixture.py has the same. */
static uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

typedef struct {
  double sum, sumsq, proj[NPROJ];
} summary;

static void summarise(const float *x, size_t n, summary *s) {
  memset(s, 0, sizeof *s);
  for (size_t i = 0; i < n; i++) {
    double v = x[i];
    uint32_t h = hash32((uint32_t)i + 0x9e3779b9u);
    s->sum += v;
    s->sumsq += v * v;
    for (int k = 0; k < NPROJ; k++) s->proj[k] += (h >> k & 1u) ? v : -v;
  }
}

static double jnum(json_object *o, const char *key) {
  json_object *v;
  if (!o || !json_object_object_get_ex(o, key, &v)) {
    fprintf(stderr, "FAIL: the fixture has no '%s'\n", key);
    exit(1);
  }
  return json_object_get_double(v);
}

static json_object *jget(json_object *o, const char *key) {
  json_object *v = NULL;
  if (!o || !json_object_object_get_ex(o, key, &v)) return NULL;
  return v;
}

/* Worst error / tolerance over the checks of one tensor (for the report), and the failures
 * printed for it (the first few say enough). */
static double worst_ratio;
static char worst_stat[64];
static int printed;

/* One value within tolerance; counts a failure with the tensor's name otherwise. */
static void close1(const char *what, const char *stat, double got, double want, double tolv) {
  double r = fabs(got - want) / tolv;
  tu_checks++;
  if (!(r <= 1.0)) {
    tu_failures++;
    if (printed++ < 4)
      fprintf(stderr, "FAIL %s: %s got %.9g want %.9g (tolerance %.3g, %.3g x)\n", what, stat,
              got, want, tolv, r);
  }
  if (!(r <= worst_ratio)) {
    worst_ratio = r;
    snprintf(worst_stat, sizeof worst_stat, "%s", stat);
  }
}

/* Compares x (n floats) with the fixture's summary of the same tensor. For parameters after
 * Adam's first step, grad is the fixture's summary of their gradient and lr the step size:
 * an element whose gradient is within rounding of 0 may have stepped by up to 2 lr the
 * other way, and the fixture counts such elements ("tiny_grad"). Returns the worst ratio. */
static double check_summary(const char *what, const float *x, size_t n, json_object *ref, tol t,
                            json_object *grad, double lr) {
  worst_ratio = 0;
  printed = 0;
  if (!ref) {
    CHECK(0, "%s: not in the fixture", what);
    return INFINITY;
  }
  size_t rn = (size_t)jnum(ref, "n");
  CHECK(rn == n, "%s: %zu elements, the fixture has %zu", what, n, rn);
  if (rn != n) return INFINITY;
  json_object *all = jget(ref, "values"), *vals = all ? all : jget(ref, "val");
  summary s;
  summarise(x, n, &s);
  double sumsq = jnum(ref, "sumsq"), norm = sqrt(sumsq) + 1e-30, rms = norm / sqrt((double)n);
  /* a flip moves an element by up to 2 lr in a random direction: 3 sigma of tiny_grad of them */
  double flips = grad ? 3 * 2 * lr * sqrt(jnum(ref, "tiny_grad") + 1) : 0;
  double grms = grad ? sqrt(jnum(grad, "sumsq") / (double)n) : 0;
  /* the sum is the projection onto all ones, which errors shared by many elements (an
   * upstream gradient, a batch statistic) line up with: up to sqrt(n) times the rest */
  /* a tensor stored whole is compared element by element only (its sums would judge a small
   * tensor's cancellations more harshly than its elements are) */
  json_object *proj = jget(ref, "proj");
  if (!all) {
    close1(what, "sum of squares", s.sumsq, sumsq, 2 * t.eps * sumsq + 2 * norm * flips + 1e-30);
    close1(what, "sum", s.sum, jnum(ref, "sum"), t.eps * sqrt((double)n) * norm + flips + 1e-30);
  }
  for (int k = 0; k < NPROJ && !all; k++) {
    char stat[32];
    snprintf(stat, sizeof stat, "projection %d", k);
    close1(what, stat, s.proj[k], json_object_get_double(json_object_array_get_idx(proj, (size_t)k)),
           t.eps * norm + flips + 1e-30);
  }
  json_object *gvals = grad ? jget(grad, all ? "values" : "val") : NULL;
  size_t m = json_object_array_length(vals);
  for (size_t j = 0; j < m; j++) {
    size_t i = all ? j : (size_t)json_object_get_int64(json_object_array_get_idx(jget(ref, "idx"), j));
    /* the fixture's elements are float32 values written with 9 digits: exact after (float) */
    double want = (float)json_object_get_double(json_object_array_get_idx(vals, j));
    double tolv = t.eps_elem * (rms + fabs(want)) + 1e-30;
    if (grad) {
      double g = json_object_get_double(json_object_array_get_idx(gvals, j));
      tolv = t.eps_elem * (lr + fabs(want)) + (fabs(g) <= 2 * TINY_GRAD * grms ? 2 * lr : 0);
    }
    char stat[48];
    snprintf(stat, sizeof stat, "element %zu", i);
    if (i >= n) {
      CHECK(0, "%s: fixture index %zu out of range", what, i);
      continue;
    }
    close1(what, stat, x[i], want, tolv);
  }
  return worst_ratio;
}

/* ---------- the model's tensors, by PyTorch name ---------- */

typedef struct {
  char name[96];
  int stat;       /* in the statistics arena (running_mean / running_var) */
  size_t off, n;  /* floats */
} tensor_ref;

/* The tensors of one network, named as the checkpoint (and clgan_torch.py's modules, an
 * nn.Sequential for a plain file) name them. */
static int list_tensors(const clgan_net_desc *d, const char *prefix, tensor_ref *t, int at) {
  for (int i = 0; i < d->count; i++) {
    const clgan_layer_desc *l = &d->layers[i];
    if (!l->weight_count) continue;
    char nm[64];
    t[at] = (tensor_ref){.off = l->weight_off, .n = l->weight_count};
    clgan_layer_tensor_name(l, i, l->sn ? "weight_orig" : "weight", nm, sizeof nm);
    snprintf(t[at++].name, sizeof t->name, "%s.%s", prefix, nm);
    if (l->sn) { /* spectral norm's u and v, in the statistics arena */
      size_t rows = (size_t)l->out_c;
      t[at] = (tensor_ref){.stat = 1, .off = l->sn_off, .n = rows};
      clgan_layer_tensor_name(l, i, "weight_u", nm, sizeof nm);
      snprintf(t[at++].name, sizeof t->name, "%s.%s", prefix, nm);
      t[at] = (tensor_ref){.stat = 1, .off = l->sn_off + rows, .n = l->weight_count / rows};
      clgan_layer_tensor_name(l, i, "weight_v", nm, sizeof nm);
      snprintf(t[at++].name, sizeof t->name, "%s.%s", prefix, nm);
    }
    if (l->bias_count) {
      t[at] = (tensor_ref){.off = l->bias_off, .n = l->bias_count};
      clgan_layer_tensor_name(l, i, "bias", nm, sizeof nm);
      snprintf(t[at++].name, sizeof t->name, "%s.%s", prefix, nm);
    }
    if (l->kind == CLGAN_LAYER_BATCHNORM) {
      t[at] = (tensor_ref){.stat = 1, .off = l->stat_off, .n = (size_t)l->out_c};
      clgan_layer_tensor_name(l, i, "running_mean", nm, sizeof nm);
      snprintf(t[at++].name, sizeof t->name, "%s.%s", prefix, nm);
      t[at] = (tensor_ref){.stat = 1, .off = l->stat_off + (size_t)l->out_c, .n = (size_t)l->out_c};
      clgan_layer_tensor_name(l, i, "running_var", nm, sizeof nm);
      snprintf(t[at++].name, sizeof t->name, "%s.%s", prefix, nm);
    }
  }
  return at;
}

/* Host copies of one network's arenas. */
typedef struct {
  float *params, *stats, *grads;
} net_copy;

static void copy_net(clgan_net *net, net_copy *c) {
  const clgan_net_desc *d = net->desc;
  c->params = tu_alloc(d->param_count);
  c->stats = tu_alloc(d->stat_count);
  c->grads = tu_alloc(d->param_count);
  CHECK_OK(clgan_net_get_params(net, c->params, c->stats));
  tu_download(net->ctx, net->grads, 0, d->param_count, c->grads);
}

static void free_copy(net_copy *c) {
  free(c->params);
  free(c->stats);
  free(c->grads);
}

/* ---------- fixed inputs ---------- */

/* Real batch of iteration `it`: a bright disc per image (integer centre and radius, brightness
 * 0.5..1) on a dark background, plus uniform noise of +-0.05, clamped to [-1, 1]. Only Philox
 * and exact float operations, so every platform makes the same bits. */
static void real_batch(int it, float *x) {
  float u[4], noise[28 * 28];
  for (int b = 0; b < BATCH; b++) {
    unsigned long long k = (unsigned long long)it * BATCH + (unsigned long long)b;
    clgan_philox_uniform(4, SEED + REAL_STREAM, k * 4, 0.0f, 1.0f, u);
    clgan_philox_uniform(28 * 28, SEED + REAL_STREAM + 1, k * 28 * 28, -0.05f, 0.05f, noise);
    int cy = 7 + (int)(u[0] * 14), cx = 7 + (int)(u[1] * 14), r = 3 + (int)(u[2] * 6);
    float bright = 0.5f + 0.5f * u[3];
    for (int y = 0; y < 28; y++)
      for (int xx = 0; xx < 28; xx++) {
        int d2 = (y - cy) * (y - cy) + (xx - cx) * (xx - cx);
        float v = (d2 <= r * r ? bright : -0.9f) + noise[y * 28 + xx];
        x[(size_t)b * 784 + (size_t)y * 28 + xx] = v > 1.0f ? 1.0f : v < -1.0f ? -1.0f : v;
      }
  }
}

/* The real batch's labels at iteration `it` (conditional models), as LABEL_STREAM says. */
static void real_labels(int it, int classes, int32_t *out) {
  for (int b = 0; b < BATCH; b++) {
    float u;
    clgan_philox_uniform(1, SEED + LABEL_STREAM, (unsigned long long)it * BATCH + (unsigned long long)b,
                         0.0f, 1.0f, &u);
    int c = (int)(u * (float)classes);
    out[b] = c < classes ? c : classes - 1;
  }
}

static clgan_gan *make_gan(clgan_ctx *ctx, clgan_model *m, const char *model) {
  CHECK_OK(clgan_model_load(model, m));
  if (tu_failures) exit(1);
  CHECK_OK(clgan_model_resolve(m, 1));
  clgan_train_config c;
  clgan_train_config_default(&c); /* lr 2e-4, betas (0.5, 0.999), eps 1e-8, ns loss */
  if (m->loss >= 0) c.loss = (clgan_gan_loss)m->loss; /* the model's default loss ("loss hinge") */
  c.batch = BATCH;
  c.seed = SEED;
  clgan_gan *gan = NULL;
  CHECK_OK(clgan_gan_create(ctx, m, &c, &gan));
  if (!gan) exit(1);
  CHECK_OK(clgan_gan_init_params(gan));
  return gan;
}

/* The noise the trainer uses at iteration `it`, read back from G's input region. */
static void read_z(clgan_gan *gan, int it, float *z) {
  CHECK_OK(clgan_gan_sample_z(gan, it));
  tu_download(gan->ctx, gan->g->acts, gan->g->in_off, (size_t)BATCH * gan->model->nz, z);
}

/* ---------- --dump ---------- */

static void write_st(const char *path, const clgan_st_tensor *t, int n, const char *note) {
  const char *keys[] = {"note"};
  const char *vals[] = {note};
  CHECK_OK(clgan_safetensors_write(path, t, n, keys, vals, 1));
}

static clgan_st_tensor st_f32(const char *name, const float *data, int ndim, const int64_t *shape) {
  clgan_st_tensor t = {.dtype = CLGAN_DTYPE_F32, .ndim = ndim, .data = data};
  snprintf(t.name, sizeof t.name, "%.150s", name);
  size_t n = 1;
  for (int k = 0; k < ndim; k++) n *= (size_t)(t.shape[k] = shape[k]);
  t.nbytes = n * sizeof(float);
  return t;
}

static clgan_st_tensor st_i64(const char *name, const int64_t *data, int64_t n) {
  clgan_st_tensor t = {.dtype = CLGAN_DTYPE_I64, .ndim = 1, .data = data, .nbytes = (size_t)n * 8};
  snprintf(t.name, sizeof t.name, "%.150s", name);
  t.shape[0] = n;
  return t;
}

/* G's images of fixed noise from a checkpoint, made the way `clgan generate` makes them: a
 * fresh G restored from the checkpoint, GEN_COUNT vectors of clgan_fixed_noise(SEED) and,
 * for a conditional model, the classes i % classes; with running statistics (ev) and with
 * batch statistics (bs). */
typedef struct {
  size_t nz, img;
  int classes, c, h, w;
  float *z, *ev, *bs;
  int32_t *labels;
} gen_images;

static void generate_from(clgan_ctx *ctx, const char *ckpt, gen_images *o) {
  clgan_st_file f;
  clgan_model m2;
  clgan_net *g2 = NULL;
  CHECK_OK(clgan_checkpoint_open(ckpt, &f, &m2));
  if (tu_failures) exit(1);
  const char *ic = clgan_safetensors_meta(&f, "image_channels");
  CHECK_OK(clgan_model_resolve(&m2, ic ? atoi(ic) : 0));
  CHECK_OK(clgan_net_create(ctx, &m2.g, GEN_COUNT, 0, "G", &g2));
  if (tu_failures) exit(1);
  CHECK_OK(clgan_checkpoint_restore_net(&f, "generator", g2));
  o->nz = (size_t)m2.nz, o->img = (size_t)m2.image_c * m2.image_h * m2.image_w;
  o->classes = m2.classes, o->c = m2.image_c, o->h = m2.image_h, o->w = m2.image_w;
  o->z = tu_alloc((size_t)GEN_COUNT * o->nz);
  o->ev = tu_alloc((size_t)GEN_COUNT * o->img);
  o->bs = tu_alloc((size_t)GEN_COUNT * o->img);
  o->labels = calloc(GEN_COUNT, sizeof *o->labels);
  for (int i = 0; i < GEN_COUNT && m2.classes; i++) o->labels[i] = i % m2.classes;
  clgan_fixed_noise(SEED, GEN_COUNT, (int)o->nz, o->z);
  const int32_t *lab = m2.classes ? o->labels : NULL;
  CHECK_OK(clgan_generate_labels(g2, o->z, lab, GEN_COUNT, CLGAN_BN_EVAL, o->ev));
  CHECK_OK(clgan_generate_labels(g2, o->z, lab, GEN_COUNT, CLGAN_BN_BATCH_STATS, o->bs));
  clgan_net_free(g2);
  clgan_safetensors_free(&f);
  clgan_model_free(&m2);
}

static void free_gen(gen_images *o) { free(o->z), free(o->ev), free(o->bs), free(o->labels); }

/* The same written with the noise (and labels) for load_generator.py --compare and
 * make_fixture.py's report. */
static void generate_reference(clgan_ctx *ctx, const char *ckpt, const char *out) {
  gen_images o;
  generate_from(ctx, ckpt, &o);
  int64_t ishape[] = {GEN_COUNT, o.c, o.h, o.w}, lab[GEN_COUNT];
  for (int i = 0; i < GEN_COUNT; i++) lab[i] = o.labels[i];
  clgan_st_tensor t[4] = {st_f32("z", o.z, 2, (int64_t[]){GEN_COUNT, (int64_t)o.nz}),
                          st_f32("images", o.ev, 4, ishape),
                          st_f32("images_batch_stats", o.bs, 4, ishape),
                          st_i64("labels", lab, GEN_COUNT)};
  write_st(out, t, o.classes ? 4 : 3, "G(z) of a checkpoint: running statistics, batch statistics");
  free_gen(&o);
}

/* Writes: init.safetensors (the initial state, a clgan checkpoint), inputs.safetensors (real.<i>
 * and z.<i> of iterations 0..9; for a conditional model also label.<i>, the real batch's
 * classes, and fake_label.<i>, those G is asked for, I64), generated_init.safetensors (G's
 * images of fixed noise from init.safetensors), iter1.safetensors (checkpoint after
 * iteration 1), clgan_iter1.safetensors and clgan_losses.safetensors (clgan's gradients and
 * metrics of iteration 1 and its 10 iterations' losses, for make_fixture.py's agreement
 * report), trained.safetensors (checkpoint after 10 iterations) and generated.safetensors (z
 * and G's images from trained.safetensors, for load_generator.py). The first three need no
 * training: if an iteration fails, they are still there (make_fixture.py needs only them). */
static int dump(const char *dir, const char *model) {
  if (mkdir(dir, 0777) && errno != EEXIST) {
    fprintf(stderr, "cannot create %s: %s\n", dir, strerror(errno));
    return 1;
  }
  clgan_ctx *ctx = tu_open_device();
  clgan_model m;
  clgan_gan *gan = make_gan(ctx, &m, model);
  char path[4096];
  size_t nz = (size_t)m.nz, img = (size_t)m.image_c * m.image_h * m.image_w;
  int k_cls = m.classes;
  snprintf(path, sizeof path, "%s/init.safetensors", dir);
  CHECK_OK(clgan_checkpoint_save(path, gan, NULL));
  char gen_path[4096];
  snprintf(gen_path, sizeof gen_path, "%s/generated_init.safetensors", dir);
  generate_reference(ctx, path, gen_path);

  float *real = tu_alloc((size_t)ITERS * BATCH * img), *z = tu_alloc((size_t)ITERS * BATCH * nz);
  int32_t lab[ITERS][BATCH];
  static int64_t lab64[2 * ITERS][BATCH];
  clgan_st_tensor t[4 * ITERS + 64];
  char names[4 * ITERS][32];
  int nin = 0;
  for (int it = 0; it < ITERS; it++) {
    real_batch(it, real + (size_t)it * BATCH * img);
    read_z(gan, it, z + (size_t)it * BATCH * nz);
    snprintf(names[nin], 32, "real.%d", it);
    t[nin] = st_f32(names[nin], real + (size_t)it * BATCH * img, 4,
                    (int64_t[]){BATCH, m.image_c, m.image_h, m.image_w});
    nin++;
    snprintf(names[nin], 32, "z.%d", it);
    t[nin] = st_f32(names[nin], z + (size_t)it * BATCH * nz, 2, (int64_t[]){BATCH, (int64_t)nz});
    nin++;
    if (!k_cls) continue;
    int32_t fake[BATCH];
    real_labels(it, k_cls, lab[it]);
    clgan_gan_fake_labels(gan, it, fake);
    for (int b = 0; b < BATCH; b++) lab64[2 * it][b] = lab[it][b], lab64[2 * it + 1][b] = fake[b];
    snprintf(names[nin], 32, "label.%d", it);
    t[nin] = st_i64(names[nin], lab64[2 * it], BATCH);
    nin++;
    snprintf(names[nin], 32, "fake_label.%d", it);
    t[nin] = st_i64(names[nin], lab64[2 * it + 1], BATCH);
    nin++;
  }
  snprintf(path, sizeof path, "%s/inputs.safetensors", dir);
  write_st(path, t, nin, "tests/train/test_fixture --dump: inputs of 10 iterations");
  if (tu_failures) return tu_finish("fixture --dump");

  clgan_step_metrics met[ITERS];
  for (int it = 0; it < ITERS; it++) {
    CHECK_OK(clgan_gan_iteration_labels(gan, real + (size_t)it * BATCH * img, k_cls ? lab[it] : NULL,
                                        &met[it], it == 0));
    if (tu_failures) {
      fprintf(stderr, "iteration %d failed: only init, inputs and generated_init are written "
              "(enough for make_fixture.py; its agreement report needs the rest)\n", it + 1);
      return tu_finish("fixture --dump");
    }
    if (it > 0) continue;
    snprintf(path, sizeof path, "%s/iter1.safetensors", dir);
    CHECK_OK(clgan_checkpoint_save(path, gan, NULL));
    net_copy g, d;
    copy_net(gan->g, &g);
    copy_net(gan->d, &d);
    tensor_ref tr[MAXT];
    int ng = list_tensors(&m.g, "generator", tr, 0), nt = list_tensors(&m.d, "discriminator", tr, ng);
    static char gnames[MAXT][112];
    int k = 0;
    for (int i = 0; i < nt; i++) {
      if (tr[i].stat) continue;
      snprintf(gnames[k], sizeof gnames[k], "grad.%.95s", tr[i].name);
      t[k] = st_f32(gnames[k], (i < ng ? g.grads : d.grads) + tr[i].off, 1, (int64_t[]){(int64_t)tr[i].n});
      k++;
    }
    float mv[7] = {met[0].loss_d, met[0].loss_g, met[0].d_real, met[0].d_fake,
                   met[0].d_fake_after, met[0].grad_norm_d, met[0].grad_norm_g};
    t[k++] = st_f32("metrics", mv, 1, (int64_t[]){7});
    snprintf(path, sizeof path, "%s/clgan_iter1.safetensors", dir);
    write_st(path, t, k, "loss_d loss_g d_real d_fake d_fake_after grad_norm_d grad_norm_g");
    free_copy(&g);
    free_copy(&d);
  }
  float lv[ITERS][5];
  for (int it = 0; it < ITERS; it++) {
    float row[5] = {met[it].loss_d, met[it].loss_g, met[it].d_real, met[it].d_fake, met[it].d_fake_after};
    memcpy(lv[it], row, sizeof row);
  }
  t[0] = st_f32("losses", &lv[0][0], 2, (int64_t[]){ITERS, 5});
  snprintf(path, sizeof path, "%s/clgan_losses.safetensors", dir);
  write_st(path, t, 1, "per iteration: loss_d loss_g d_real d_fake d_fake_after");
  for (int it = 0; it < ITERS; it++)
    printf("iteration %2d: loss_d %.7f loss_g %.7f D(x) %.6f D(G(z)) %.6f / %.6f\n", it + 1,
           met[it].loss_d, met[it].loss_g, met[it].d_real, met[it].d_fake, met[it].d_fake_after);
  char trained[4096];
  snprintf(trained, sizeof trained, "%s/trained.safetensors", dir);
  CHECK_OK(clgan_checkpoint_save(trained, gan, NULL));

  snprintf(path, sizeof path, "%s/generated.safetensors", dir);
  generate_reference(ctx, trained, path);
  free(real), free(z);
  clgan_gan_free(gan);
  clgan_model_free(&m);
  clgan_ctx_free(ctx);
  printf("wrote %s/{init,inputs,generated_init,iter1,clgan_iter1,clgan_losses,trained,generated}"
         ".safetensors\n", dir);
  return tu_failures ? 1 : 0;
}

/* ---------- the comparison ---------- */

static json_object *load_fixture(const char *path) {
  json_object *fx = json_object_from_file(path);
  if (!fx) {
    fprintf(stderr, "FAIL: cannot read the fixture %s: %s\n", path, json_util_get_last_err());
    exit(1);
  }
  const char *fmt = json_object_get_string(jget(fx, "format"));
  if (!fmt || strcmp(fmt, "clgan-fixture-1") != 0 || (int)jnum(fx, "batch") != BATCH ||
      (unsigned long long)jnum(fx, "seed") != SEED || (int)jnum(fx, "iters") != ITERS ||
      (int)jnum(jget(fx, "summary"), "projections") != NPROJ) {
    fprintf(stderr, "FAIL: %s is not a fixture for this test (format, batch, seed, iters)\n", path);
    exit(1);
  }
  return fx;
}

static void report(const char *group, const char *name, double r) {
  printf("  %-6s %-34s worst %.3f of tolerance (%s)\n", group, name, r, worst_stat);
}

/* Adam's first step on the device's own gradient, element by element, in double:
 * p1 = p0 - lr * g / (|g| + eps) (bias corrections cancel at t = 1). Also: every element
 * whose gradient is not tiny moved by about lr. */
static void check_adam_step(const char *what, const float *p0, const float *g, const float *p1,
                            size_t n, double lr, double eps) {
  size_t bad = 0, moved = 0, big = 0, worst = 0;
  double worst_err = 0;
  for (size_t i = 0; i < n; i++) {
    double gi = g[i];
    double want = p0[i] - lr * gi / (fabs(gi) + eps);
    /* float32 result: one rounding of |p| ~ 0.02..1 plus the kernel's own arithmetic */
    double err = fabs(p1[i] - want), tolv = 1e-7 + 4e-7 * fabs(want);
    if (err > tolv) bad++;
    if (err / tolv > worst_err) worst_err = err / tolv, worst = i;
    if (fabs(gi) > 1e-6) {
      big++;
      if (fabs((double)p1[i] - p0[i]) > 0.9 * lr) moved++;
    }
  }
  tu_checks += 2;
  if (bad) {
    tu_failures++;
    fprintf(stderr, "FAIL %s: %zu of %zu parameters are not Adam's first step of their gradient "
            "(worst element %zu: p0 %.9g g %.9g p1 %.9g)\n", what, bad, n, worst, p0[worst],
            g[worst], p1[worst]);
  }
  if (moved != big) {
    tu_failures++;
    fprintf(stderr, "FAIL %s: only %zu of the %zu parameters with |g| > 1e-6 moved by ~lr\n", what,
            moved, big);
  }
  printf("  adam   %-36s %zu/%zu moved by ~lr, worst %.3f of tolerance\n", what, moved, big,
         worst_err);
}

static void check_metric(const char *what, double got, json_object *ref, const char *key,
                         double abs_tol, double rel_tol) {
  double want = jnum(ref, key);
  char stat[64];
  snprintf(stat, sizeof stat, "%s", key);
  worst_ratio = 0;
  printed = 0;
  close1(what, stat, got, want, abs_tol + rel_tol * fabs(want));
  printf("  %-6s %-36s got %.8f want %.8f (%.3f of tolerance)\n", what, key, got, want, worst_ratio);
}

/* G(z, labels) of the initial checkpoint against PyTorch's (eval-mode and batch-statistics
 * batch norm); the fixture's "generate" holds the noise, the classes and both outputs. */
static void check_generate(clgan_ctx *ctx, clgan_gan *gan, json_object *ref) {
  char dir[] = "/tmp/clgan-test-fixture-XXXXXX", path[128];
  CHECK(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
  snprintf(path, sizeof path, "%s/init.safetensors", dir);
  CHECK_OK(clgan_checkpoint_save(path, gan, NULL));
  gen_images o;
  generate_from(ctx, path, &o);
  unlink(path);
  rmdir(dir);
  float lf[GEN_COUNT];
  for (int i = 0; i < GEN_COUNT; i++) lf[i] = (float)o.labels[i];
  double w = fmax(check_summary("generate z", o.z, GEN_COUNT * o.nz, jget(ref, "z"), TOL_EXACT, NULL, 0),
                  check_summary("generate labels", lf, GEN_COUNT, jget(ref, "labels"), TOL_EXACT, NULL, 0));
  printf("  gen    fixed noise and classes: worst %.3g of tolerance\n", w);
  report("gen", "G(z, labels), running statistics",
         check_summary("G(z, labels) eval", o.ev, GEN_COUNT * o.img, jget(ref, "images"), TOL_GEN, NULL, 0));
  report("gen", "G(z, labels), batch statistics",
         check_summary("G(z, labels) batch stats", o.bs, GEN_COUNT * o.img,
                       jget(ref, "images_batch_stats"), TOL_GEN, NULL, 0));
  free_gen(&o);
}

static int compare(const char *fixture_path) {
  json_object *fx = load_fixture(fixture_path);
  clgan_ctx *ctx = tu_open_device();
  clgan_model m;
  const char *model = json_object_get_string(jget(fx, "model"));
  /* a model that is no preset: its file next to the fixture ("model_file") */
  char mpath[4096];
  const char *mfile = jget(fx, "model_file") ? json_object_get_string(jget(fx, "model_file")) : NULL;
  if (mfile) {
    const char *slash = strrchr(fixture_path, '/');
    int dl = slash ? (int)(slash - fixture_path) + 1 : 0;
    snprintf(mpath, sizeof mpath, "%.*s%s", dl, fixture_path, mfile);
    model = mpath;
  }
  clgan_gan *gan = make_gan(ctx, &m, model ? model : "?");
  size_t nz = (size_t)m.nz, img = (size_t)m.image_c * m.image_h * m.image_w;
  int k_cls = m.classes;
  clgan_gan_loss want_loss = CLGAN_GLOSS_NS;
  const char *gl = json_object_get_string(jget(fx, "g_loss"));
  CHECK(gl && !clgan_gan_loss_parse(gl, &want_loss), "the fixture's g_loss '%s'", gl ? gl : "");
  /* fixtures of unconditional models (fixture_dcgan28.json) have no "classes" */
  int fx_cls = jget(fx, "classes") ? (int)jnum(fx, "classes") : 0;
  CHECK((int)jnum(fx, "image_channels") == m.image_c && fx_cls == k_cls,
        "the fixture is for %d channels, %d classes; the model has %d, %d",
        (int)jnum(fx, "image_channels"), fx_cls, m.image_c, k_cls);
  tensor_ref tr[MAXT];
  int ng = list_tensors(&m.g, "generator", tr, 0), nt = list_tensors(&m.d, "discriminator", tr, ng);
  printf("fixture: %s (torch %s)\n", fixture_path, json_object_get_string(jget(fx, "torch")));
  json_object *betas = jget(fx, "betas");
  const clgan_train_config *c = &gan->cfg;
  CHECK(fabs(c->lr_g - jnum(fx, "lr")) <= 1e-7 * jnum(fx, "lr") && c->lr_d == c->lr_g &&
            fabs(c->beta1 - json_object_get_double(json_object_array_get_idx(betas, 0))) <= 1e-7 &&
            fabs(c->beta2 - json_object_get_double(json_object_array_get_idx(betas, 1))) <= 1e-7 &&
            fabs(c->eps - jnum(fx, "eps")) <= 1e-7 * jnum(fx, "eps") && c->loss == want_loss,
        "the default training configuration (lr %g, betas %g %g, eps %g, loss %s) is not the "
        "fixture's", c->lr_g, c->beta1, c->beta2, c->eps, clgan_gan_loss_name(c->loss));

  /* 0. the same starting point: initial weights and the 10 iterations' inputs */
  net_copy g0, d0;
  copy_net(gan->g, &g0);
  copy_net(gan->d, &d0);
  int stale = tu_failures;
  json_object *init = jget(fx, "init"), *inputs = jget(fx, "inputs");
  double w = 0;
  for (int i = 0; i < nt; i++) {
    const net_copy *c = i < ng ? &g0 : &d0;
    double r = check_summary(tr[i].name, (tr[i].stat ? c->stats : c->params) + tr[i].off, tr[i].n,
                             jget(init, tr[i].name), TOL_EXACT, NULL, 0);
    if (r > w) w = r;
  }
  float *real = tu_alloc((size_t)ITERS * BATCH * img), *z = tu_alloc((size_t)BATCH * nz);
  int32_t lab[ITERS][BATCH];
  for (int it = 0; it < ITERS; it++) {
    char name[32];
    real_batch(it, real + (size_t)it * BATCH * img);
    snprintf(name, sizeof name, "real.%d", it);
    double r = check_summary(name, real + (size_t)it * BATCH * img, (size_t)BATCH * img,
                             jget(inputs, name), TOL_EXACT, NULL, 0);
    read_z(gan, it, z);
    snprintf(name, sizeof name, "z.%d", it);
    double r2 = check_summary(name, z, (size_t)BATCH * nz, jget(inputs, name), TOL_Z, NULL, 0);
    w = fmax(w, fmax(r, r2));
    if (!k_cls) continue;
    /* the labels: the real batch's (Philox, LABEL_STREAM) and those G is asked for */
    int32_t fake[BATCH];
    float lf[BATCH], ff[BATCH];
    real_labels(it, k_cls, lab[it]);
    clgan_gan_fake_labels(gan, it, fake);
    for (int b = 0; b < BATCH; b++) lf[b] = (float)lab[it][b], ff[b] = (float)fake[b];
    snprintf(name, sizeof name, "label.%d", it);
    r = check_summary(name, lf, BATCH, jget(inputs, name), TOL_EXACT, NULL, 0);
    snprintf(name, sizeof name, "fake_label.%d", it);
    r2 = check_summary(name, ff, BATCH, jget(inputs, name), TOL_EXACT, NULL, 0);
    w = fmax(w, fmax(r, r2));
  }
  printf("  inputs and initial weights: worst %.3g of tolerance\n", w);
  if (tu_failures > stale) {
    fprintf(stderr, "FAIL: clgan no longer makes the fixture's initial weights or inputs "
            "(init, Philox or the model changed?); regenerate the fixture as make_fixture.py "
            "says\n");
    return tu_finish("fixture");
  }
  /* 0b. G(z, labels) of the initial checkpoint (conditional fixtures) */
  if (jget(fx, "generate")) check_generate(ctx, gan, jget(fx, "generate"));

  /* 1. one iteration: losses, D outputs, gradient norms */
  clgan_step_metrics met[ITERS];
  CHECK_OK(clgan_gan_iteration_labels(gan, real, k_cls ? lab[0] : NULL, &met[0], 1));
  json_object *it1 = jget(fx, "iter1");
  check_metric("iter1", met[0].loss_d, it1, "loss_d", TOL_LOSS_ABS, TOL_LOSS_REL);
  check_metric("iter1", met[0].loss_g, it1, "loss_g", TOL_LOSS_ABS, TOL_LOSS_REL);
  check_metric("iter1", met[0].d_real, it1, "d_real", TOL_LOSS_ABS, TOL_LOSS_REL);
  check_metric("iter1", met[0].d_fake, it1, "d_fake", TOL_LOSS_ABS, TOL_LOSS_REL);
  check_metric("iter1", met[0].d_fake_after, it1, "d_fake_after", TOL_LOSS_ABS, TOL_LOSS_REL);
  check_metric("iter1", met[0].grad_norm_d, it1, "grad_norm_d", 0, 2 * TOL_GRAD.eps);
  check_metric("iter1", met[0].grad_norm_g, it1, "grad_norm_g", 0, 2 * TOL_GRAD.eps);

  /* 2. every parameter gradient (D's from the D step, G's from the G step), and Adam */
  net_copy g1, d1;
  copy_net(gan->g, &g1);
  copy_net(gan->d, &d1);
  json_object *grad = jget(fx, "grad"), *after = jget(fx, "after");
  for (int i = 0; i < nt; i++) {
    if (tr[i].stat) continue;
    const net_copy *c = i < ng ? &g1 : &d1;
    report("grad", tr[i].name,
           check_summary(tr[i].name, c->grads + tr[i].off, tr[i].n, jget(grad, tr[i].name), TOL_GRAD,
                         NULL, 0));
  }
  double lr = gan->cfg.lr_g, eps = gan->cfg.eps;
  check_adam_step("G", g0.params, g1.grads, g1.params, m.g.param_count, lr, eps);
  check_adam_step("D", d0.params, d1.grads, d1.params, m.d.param_count, gan->cfg.lr_d, eps);

  /* 3. the state after the iteration, through a checkpoint: its tensors are the fixture's
   *    torch state_dict (names, dtypes, shapes), hold what the arenas hold, and agree with
   *    PyTorch's parameters after Adam and running statistics */
  char dir[] = "/tmp/clgan-test-fixture-XXXXXX", path[128];
  CHECK(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
  snprintf(path, sizeof path, "%s/iter1.safetensors", dir);
  CHECK_OK(clgan_checkpoint_save(path, gan, NULL));
  clgan_st_file f = {0};
  CHECK_OK(clgan_safetensors_read(path, &f));
  unlink(path);
  rmdir(dir);
  json_object *sd = jget(fx, "state_dict");
  json_object_object_foreach(sd, key, spec) {
    const clgan_st_tensor *t = clgan_safetensors_find(&f, key);
    CHECK(t != NULL, "the checkpoint has no '%s' (a key of PyTorch's state_dict)", key);
    if (!t) continue;
    const char *dt = json_object_get_string(jget(spec, "dtype"));
    json_object *shape = jget(spec, "shape");
    int same = (int)json_object_array_length(shape) == t->ndim &&
               !strcmp(dt, t->dtype == CLGAN_DTYPE_F32 ? "F32" : "I64");
    for (int k = 0; same && k < t->ndim; k++)
      same = json_object_get_int64(json_object_array_get_idx(shape, (size_t)k)) == t->shape[k];
    CHECK(same, "checkpoint tensor '%s': dtype or shape differs from PyTorch's", key);
    if (!same) continue;
    if (t->dtype == CLGAN_DTYPE_I64) { /* num_batches_tracked */
      int64_t v;
      memcpy(&v, t->data, 8);
      CHECK(v == json_object_get_int64(jget(after, key)), "%s: %lld, PyTorch has %lld", key,
            (long long)v, (long long)json_object_get_int64(jget(after, key)));
      continue;
    }
    const tensor_ref *r = NULL;
    for (int i = 0; i < nt; i++)
      if (!strcmp(tr[i].name, key)) r = &tr[i];
    CHECK(r != NULL, "'%s': no such tensor in the model", key);
    if (!r) continue;
    const net_copy *c = r < tr + ng ? &g1 : &d1;
    const float *arena = (r->stat ? c->stats : c->params) + r->off, *x = t->data;
    CHECK(t->nbytes == r->n * 4 && !memcmp(x, arena, t->nbytes),
          "checkpoint tensor '%s' does not hold the arena's values", key);
    report(r->stat ? "stats" : "after", key,
           r->stat ? check_summary(key, x, r->n, jget(after, key),
                                   strstr(key, "running_var") ? TOL_STATS_VAR : TOL_STATS_MEAN, NULL, 0)
                   : check_summary(key, x, r->n, jget(after, key), TOL_AFTER, jget(grad, key),
                                   r < tr + ng ? lr : gan->cfg.lr_d));
  }
  int nsd = 0;
  json_object_object_foreach(sd, key2, spec2) {
    (void)key2, (void)spec2;
    nsd++;
  }
  int nmodel = 0;
  for (int i = 0; i < f.count; i++)
    if (!strncmp(f.tensors[i].name, "generator.", 10) || !strncmp(f.tensors[i].name, "discriminator.", 14))
      nmodel++;
  CHECK(nmodel == nsd, "the checkpoint has %d generator/discriminator tensors, PyTorch's "
        "state_dicts %d", nmodel, nsd);
  clgan_safetensors_free(&f);

  /* 4. iterations 2..10 on the fixed inputs: losses and D outputs */
  json_object *losses = jget(fx, "losses");
  for (int it = 1; it < ITERS; it++) {
    CHECK_OK(clgan_gan_iteration_labels(gan, real + (size_t)it * BATCH * img, k_cls ? lab[it] : NULL,
                                        &met[it], 0));
    json_object *ref = json_object_array_get_idx(losses, (size_t)it);
    char what[32];
    snprintf(what, sizeof what, "iter%d", it + 1);
    json_object *spread = jget(ref, "spread");
    static const char *keys[] = {"loss_d", "loss_g", "d_real", "d_fake", "d_fake_after"};
    float got[] = {met[it].loss_d, met[it].loss_g, met[it].d_real, met[it].d_fake,
                   met[it].d_fake_after};
    double r = 0;
    for (int k = 0; k < 5; k++) {
      double want = jnum(ref, keys[k]);
      worst_ratio = 0;
      printed = 0;
      close1(what, keys[k], got[k], want,
             TOL_RUN_ABS + TOL_RUN_REL * fabs(want) + TOL_RUN_SPREAD * jnum(spread, keys[k]));
      r = fmax(r, worst_ratio);
    }
    printf("  %-6s loss_d %.7f (ref %.7f) loss_g %.7f (ref %.7f) worst %.3f of tolerance\n", what,
           met[it].loss_d, jnum(ref, "loss_d"), met[it].loss_g, jnum(ref, "loss_g"), r);
  }

  free_copy(&g0), free_copy(&d0), free_copy(&g1), free_copy(&d1);
  free(real), free(z);
  clgan_gan_free(gan);
  clgan_model_free(&m);
  clgan_ctx_free(ctx);
  json_object_put(fx);
  return tu_finish("fixture");
}

int main(int argc, char **argv) {
  if ((argc == 3 || argc == 4) && !strcmp(argv[1], "--dump"))
    return dump(argv[2], argc == 4 ? argv[3] : "dcgan28");
  if (argc == 4 && !strcmp(argv[1], "--generate")) {
    clgan_ctx *ctx = tu_open_device();
    generate_reference(ctx, argv[2], argv[3]);
    clgan_ctx_free(ctx);
    return tu_failures ? 1 : 0;
  }
  if (argc == 2 && argv[1][0] != '-') return compare(argv[1]);
  fprintf(stderr, "usage: test_fixture FIXTURE.json | --dump DIR [MODEL] | --generate CKPT OUT\n");
  return 2;
}
