/* `clgan bench ops`: every operator of a model's layers at its training shapes, forward and
 * backward, timed after warm-up (GFLOPS for GEMM-based layers, GB/s for the others), and
 * with --gemm the model's GEMM shapes through clgan (CLBlast, the context's plan) side by side
 * with a host BLAS's cblas_sgemm (OpenBLAS, loaded at run time when it can be found).
 * Tests: tests/perf/test_perf_cli.sh */
#include <dlfcn.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_opts.h"
#include "perf_util.h"

static void help(void) {
  printf(
      "usage: clgan bench ops [--device D] [--model dcgan28|dcgan64|FILE] [--batch 64]\n"
      "                       [--reps 5] [--json] [--gemm [--blas LIB] [--blas-threads N]]\n\n"
      "Times each operator of the model's layers at its training shapes, after a warm-up\n"
      "call: forward, and backward (data and weight gradients). GEMM-based layers show\n"
      "GFLOPS (2*M*N*K), the others GB/s counting each tensor read or written once (a lower\n"
      "bound on the traffic). Medians of --reps calls, each waited for.\n"
      "  --gemm            instead: the GEMM shapes of one training iteration, clgan (CLBlast\n"
      "                    with the device's GEMM plan) against a host BLAS's cblas_sgemm\n"
      "  --blas LIB        the BLAS library to load (default $CLGAN_BLAS_LIB, else\n"
      "                    libopenblas.so.0); Debian's libopenblas0-pthread works unpacked:\n"
      "                    apt-get download libopenblas0-pthread && dpkg -x *.deb DIR, then\n"
      "                    --blas DIR/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0\n"
      "  --blas-threads N  threads for the BLAS (default: the CPUs online)\n");
}

/* ---- per-operator timing ---- */

enum { MAX_OPS_ROWS = 128 };

typedef struct op_row {
  char net[4], what[80];
  int layer;
  double fwd_ms, bwd_data_ms, bwd_weight_ms;
  double fwd_work, bwd_work; /* FLOPs or bytes */
  int flops;                 /* 1: work is FLOPs, 0: bytes */
} op_row;

typedef struct layer_bufs {
  cl_mem x, y, dy, dx, w, dw, b, db, ws, save, run;
} layer_bufs;

static void bufs_free(layer_bufs *b) {
  cl_mem *m[] = {&b->x, &b->y, &b->dy, &b->dx, &b->w, &b->dw, &b->b, &b->db, &b->ws, &b->save, &b->run};
  for (size_t i = 0; i < sizeof m / sizeof *m; i++) clgan_buffer_release(m[i]);
}

static clgan_status buf(clgan_ctx *ctx, size_t floats, const char *what, cl_mem *out, unsigned seed) {
  clgan_status s = clgan_buffer_create(ctx, (floats ? floats : 1) * sizeof(float), what, out);
  if (!s) s = clgan_rng_uniform(ctx, floats ? floats : 1, 7, seed * 1000003ull, -0.1f, 0.1f,
                                CLGAN_VIEW(*out, 0));
  return s;
}

typedef enum { OP_FWD, OP_BWD_DATA, OP_BWD_WEIGHT } op_dir;

static clgan_status run_op(clgan_ctx *ctx, const clgan_layer_desc *l, int n, layer_bufs *b,
                           op_dir dir) {
  size_t out = (size_t)l->out_c * l->out_h * l->out_w, in = (size_t)l->in_c * l->in_h * l->in_w;
  clgan_view X = CLGAN_VIEW(b->x, 0), Y = CLGAN_VIEW(b->y, 0), DY = CLGAN_VIEW(b->dy, 0),
             DX = CLGAN_VIEW(b->dx, 0), W = CLGAN_VIEW(b->w, 0), DW = CLGAN_VIEW(b->dw, 0),
             B = l->bias ? CLGAN_VIEW(b->b, 0) : CLGAN_NONE,
             DB = l->bias ? CLGAN_VIEW(b->db, 0) : CLGAN_NONE, WS = CLGAN_VIEW(b->ws, 0);
  switch (l->kind) {
    case CLGAN_LAYER_LINEAR:
      if (dir == OP_FWD) return clgan_dense_forward(ctx, n, (int)in, l->out_c, X, W, B, Y);
      if (dir == OP_BWD_DATA) return clgan_dense_backward_data(ctx, n, (int)in, l->out_c, DY, W, DX);
      return clgan_dense_backward_weight(ctx, n, (int)in, l->out_c, X, DY, DW, DB, 0);
    case CLGAN_LAYER_CONV:
    case CLGAN_LAYER_CONVT: {
      clgan_conv c = {.n = n, .c_in = l->in_c, .h_in = l->in_h, .w_in = l->in_w, .c_out = l->out_c,
                      .kh = l->k, .kw = l->k, .stride = l->stride, .pad = l->pad,
                      .out_pad = l->out_pad, .transposed = l->kind == CLGAN_LAYER_CONVT};
      clgan_status s = clgan_conv_init(&c);
      if (s) return s;
      if (dir == OP_FWD) return clgan_conv_forward(ctx, &c, X, W, B, Y, WS);
      if (dir == OP_BWD_DATA) return clgan_conv_backward_data(ctx, &c, DY, W, DX, WS);
      return clgan_conv_backward_weight(ctx, &c, X, DY, DW, DB, 0, WS);
    }
    case CLGAN_LAYER_BATCHNORM: {
      int hw = l->out_h * l->out_w;
      clgan_view sm = CLGAN_VIEW(b->save, 0), si = CLGAN_VIEW(b->save, (size_t)l->out_c);
      if (dir == OP_FWD)
        return clgan_batchnorm_forward_train(ctx, n, l->out_c, hw, X, W, CLGAN_VIEW(b->b, 0), Y,
                                             sm, si,
                                             CLGAN_VIEW(b->run, 0),
                                             CLGAN_VIEW(b->run, (size_t)l->out_c), 0.1f, 1e-5f);
      return clgan_batchnorm_backward(ctx, n, l->out_c, hw, X, DY, W, sm, si, DX, DW,
                                      CLGAN_VIEW(b->db, 0), 0);
    }
    default: {
      clgan_act a = l->kind == CLGAN_LAYER_RELU         ? CLGAN_ACT_RELU
                    : l->kind == CLGAN_LAYER_LEAKY_RELU ? CLGAN_ACT_LEAKY_RELU
                    : l->kind == CLGAN_LAYER_TANH       ? CLGAN_ACT_TANH
                                                        : CLGAN_ACT_SIGMOID;
      if (dir == OP_FWD) return clgan_activation_forward(ctx, a, l->slope, (size_t)n * out, X, Y);
      return clgan_activation_backward(ctx, a, l->slope, (size_t)n * out, X, Y, DY, DX);
    }
  }
}

static clgan_status time_op(clgan_ctx *ctx, const clgan_layer_desc *l, int n, layer_bufs *b,
                            op_dir dir, int reps, double *ms) {
  clgan_status s = run_op(ctx, l, n, b, dir); /* warm-up: compiles, first-touch */
  if (!s) s = clgan_ctx_finish(ctx);
  double t[64];
  if (reps > 64) reps = 64;
  for (int r = 0; r < reps && !s; r++) {
    double t0 = cli_now();
    s = run_op(ctx, l, n, b, dir);
    if (!s) s = clgan_ctx_finish(ctx);
    t[r] = cli_now() - t0;
  }
  *ms = s ? 0.0 : perf_median(t, reps) * 1e3;
  return s;
}

static clgan_status bench_layer(clgan_ctx *ctx, const clgan_layer_desc *l, int n, int reps,
                                op_row *row) {
  size_t out = (size_t)l->out_c * l->out_h * l->out_w, in = (size_t)l->in_c * l->in_h * l->in_w;
  layer_bufs b;
  memset(&b, 0, sizeof b);
  int conv = l->kind == CLGAN_LAYER_CONV || l->kind == CLGAN_LAYER_CONVT;
  size_t ws = 0;
  if (conv) {
    clgan_conv c = {.n = n, .c_in = l->in_c, .h_in = l->in_h, .w_in = l->in_w, .c_out = l->out_c,
                    .kh = l->k, .kw = l->k, .stride = l->stride, .pad = l->pad,
                    .out_pad = l->out_pad, .transposed = l->kind == CLGAN_LAYER_CONVT};
    ws = clgan_conv_workspace(&c);
  }
  size_t wcount = l->kind == CLGAN_LAYER_BATCHNORM ? (size_t)l->out_c : l->weight_count;
  clgan_status s = buf(ctx, (size_t)n * in, "x", &b.x, 1);
  if (!s) s = buf(ctx, (size_t)n * out, "y", &b.y, 2);
  if (!s) s = buf(ctx, (size_t)n * out, "dy", &b.dy, 3);
  if (!s) s = buf(ctx, (size_t)n * in, "dx", &b.dx, 4);
  if (!s) s = buf(ctx, wcount, "w", &b.w, 5);
  if (!s) s = buf(ctx, wcount, "dw", &b.dw, 6);
  if (!s) s = buf(ctx, (size_t)l->out_c, "b", &b.b, 7);
  if (!s) s = buf(ctx, (size_t)l->out_c, "db", &b.db, 8);
  if (!s) s = buf(ctx, ws, "ws", &b.ws, 9);
  if (!s) s = buf(ctx, 2 * (size_t)l->out_c, "save", &b.save, 10);
  if (!s) s = buf(ctx, 2 * (size_t)l->out_c, "running", &b.run, 11);
  if (!s && l->kind == CLGAN_LAYER_BATCHNORM) s = clgan_fill(ctx, 2 * (size_t)l->out_c, 1.0f, CLGAN_VIEW(b.save, 0));
  if (!s) s = time_op(ctx, l, n, &b, OP_FWD, reps, &row->fwd_ms);
  if (!s) s = time_op(ctx, l, n, &b, OP_BWD_DATA, reps, &row->bwd_data_ms);
  if (!s && (conv || l->kind == CLGAN_LAYER_LINEAR))
    s = time_op(ctx, l, n, &b, OP_BWD_WEIGHT, reps, &row->bwd_weight_ms);
  bufs_free(&b);
  double act = (double)n * (double)out * 4.0, ain = (double)n * (double)in * 4.0;
  row->flops = conv || l->kind == CLGAN_LAYER_LINEAR;
  if (l->kind == CLGAN_LAYER_LINEAR) {
    row->fwd_work = 2.0 * n * (double)l->weight_count;
    row->bwd_work = 2.0 * row->fwd_work;
  } else if (conv) {
    double pix = l->kind == CLGAN_LAYER_CONV ? (double)l->out_h * l->out_w : (double)l->in_h * l->in_w;
    row->fwd_work = 2.0 * n * (double)l->weight_count * pix;
    row->bwd_work = 2.0 * row->fwd_work;
  } else if (l->kind == CLGAN_LAYER_BATCHNORM) {
    row->fwd_work = ain + act;        /* x in, y out */
    row->bwd_work = ain + 2.0 * act;  /* x, dy in, dx out */
  } else {
    row->fwd_work = ain + act;
    row->bwd_work = ain + 2.0 * act;  /* x or y, dy in, dx out */
  }
  return s;
}

static const char *kind_name(clgan_layer_kind k) {
  switch (k) {
    case CLGAN_LAYER_LINEAR: return "linear";
    case CLGAN_LAYER_CONV: return "conv";
    case CLGAN_LAYER_CONVT: return "convt";
    case CLGAN_LAYER_BATCHNORM: return "batchnorm";
    case CLGAN_LAYER_RELU: return "relu";
    case CLGAN_LAYER_LEAKY_RELU: return "leakyrelu";
    case CLGAN_LAYER_TANH: return "tanh";
    case CLGAN_LAYER_SIGMOID: return "sigmoid";
    default: return "?";
  }
}

/* ---- GEMM against a host BLAS ---- */

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *,
                         int, float, float *, int);
typedef void (*threads_fn)(int);

static double blas_time(sgemm_fn gemm, const clgan_gemm_shape *s, float *a, float *b, float *c) {
  int lda = (int)(s->ta ? s->m : s->k), ldb = (int)(s->tb ? s->k : s->n), ldc = (int)s->n;
  double best = 1e30, spent = 0.0;
  for (int r = 0; r < 20 && (r < 3 || spent < 0.5); r++) {
    double t0 = cli_now();
    gemm(101 /* CblasRowMajor */, s->ta ? 112 : 111, s->tb ? 112 : 111, (int)s->m, (int)s->n,
         (int)s->k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
    double t = cli_now() - t0;
    spent += t;
    if (r > 0 && t < best) best = t; /* the first call warms up */
  }
  return best;
}

static int bench_gemm(const clgan_device_info *dev, const char *model_name, int batch,
                      const char *blas_path, int blas_threads, int as_json) {
  clgan_model model;
  if (perf_model_load(model_name, &model)) return CLI_FAIL;
  clgan_ctx *ctx = NULL;
  clgan_gan *gan = NULL;
  clgan_gemm_record *rec = NULL;
  int ns = 0;
  clgan_train_config cfg;
  clgan_train_config_default(&cfg);
  cfg.batch = batch;
  size_t img = (size_t)model.image_c * model.image_h * model.image_w;
  float *real = calloc((size_t)batch * img, sizeof(float));
  clgan_status s = real ? clgan_ctx_create_on(dev, 0, &ctx) : clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s) s = clgan_gan_create(ctx, &model, &cfg, &gan);
  if (!s) s = clgan_gemm_record_start(ctx, 1);
  if (!s) s = clgan_gan_iteration(gan, real, NULL, 0);
  if (!s) s = clgan_gemm_record_stop(ctx, &rec, &ns);
  clgan_gan_free(gan);
  free(real);
  if (s) {
    clgan_ctx_free(ctx);
    clgan_model_free(&model);
    return cli_report(s);
  }
  void *lib = dlopen(blas_path, RTLD_NOW | RTLD_LOCAL);
  sgemm_fn bgemm = lib ? (sgemm_fn)dlsym(lib, "cblas_sgemm") : NULL;
  threads_fn bthreads = lib ? (threads_fn)dlsym(lib, "openblas_set_num_threads") : NULL;
  if (!bgemm)
    fprintf(stderr, "clgan bench ops: no cblas_sgemm from '%s' (%s); showing clgan only\n",
            blas_path, lib ? "symbol missing" : dlerror());
  if (bthreads) bthreads(blas_threads);
  const clgan_gemm_plan *plan = clgan_gemm_get_plan(ctx);
  json_object *arr = json_object_new_array();
  if (!as_json) {
    printf("device: %s (%s), driver %s; GEMM plan: %s\n", dev->name, dev->platform_name,
           dev->driver_version, plan ? plan->origin : "?");
    printf("host BLAS: %s%s, %d thread%s\n\n", bgemm ? blas_path : "none",
           bgemm && !bthreads ? " (thread count not settable)" : "", blas_threads,
           blas_threads == 1 ? "" : "s");
    printf("%-22s %5s %10s %8s %10s %8s %8s\n", "shape", "calls", "clgan ms", "GFLOPS", "BLAS ms",
           "GFLOPS", "clgan/BLAS");
  }
  double tot_c = 0.0, tot_b = 0.0, tot_f = 0.0;
  for (int i = 0; i < ns && !s; i++) {
    const clgan_gemm_shape *sh = &rec[i].shape;
    clgan_gemm_measure m, m2;
    s = clgan_gemm_measure_shape(ctx, sh, NULL, 0, -1, 1, &m);
    int reps = m.seconds > 0 ? (int)(0.3 / m.seconds) : 3;
    if (!s) s = clgan_gemm_measure_shape(ctx, sh, NULL, 0, -1, reps < 2 ? 2 : reps > 20 ? 20 : reps, &m2);
    if (s) break;
    double tc = m2.seconds < m.seconds ? m2.seconds : m.seconds, tb = 0.0;
    double fl = 2.0 * (double)sh->m * (double)sh->n * (double)sh->k;
    if (bgemm) {
      float *a = malloc(sizeof(float) * sh->m * sh->k), *b = malloc(sizeof(float) * sh->k * sh->n),
            *c = malloc(sizeof(float) * sh->m * sh->n);
      if (a && b && c) {
        for (size_t q = 0; q < sh->m * sh->k; q++) a[q] = (float)(q % 7) * 0.1f;
        for (size_t q = 0; q < sh->k * sh->n; q++) b[q] = (float)(q % 5) * 0.1f;
        tb = blas_time(bgemm, sh, a, b, c);
      }
      free(a), free(b), free(c);
    }
    tot_c += tc * (double)rec[i].calls;
    tot_b += tb * (double)rec[i].calls;
    tot_f += fl * (double)rec[i].calls;
    char nm[64];
    perf_shape_name(sh, nm, sizeof nm);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "shape", json_object_new_string(nm));
    json_object_object_add(o, "calls", json_object_new_int((int)rec[i].calls));
    json_object_object_add(o, "clgan_ms", json_object_new_double(tc * 1e3));
    json_object_object_add(o, "clgan_valid", json_object_new_boolean(m.valid));
    if (tb > 0) json_object_object_add(o, "blas_ms", json_object_new_double(tb * 1e3));
    json_object_array_add(arr, o);
    if (!as_json)
      printf("%-22s %5ld %10.2f %8.1f %10.2f %8.1f %8.2f%s\n", nm, rec[i].calls, tc * 1e3,
             fl / tc * 1e-9, tb * 1e3, tb > 0 ? fl / tb * 1e-9 : 0.0, tb > 0 ? tb / tc : 0.0,
             m.valid ? "" : "  WRONG RESULT");
  }
  if (!s && as_json) {
    json_object *root = json_object_new_object();
    json_object_object_add(root, "device", json_object_new_string(dev->name));
    json_object_object_add(root, "gemm_plan", json_object_new_string(plan ? plan->origin : "?"));
    json_object_object_add(root, "blas", json_object_new_string(bgemm ? blas_path : ""));
    json_object_object_add(root, "blas_threads", json_object_new_int(blas_threads));
    json_object_object_add(root, "shapes", arr);
    json_object_object_add(root, "clgan_ms_per_iter", json_object_new_double(tot_c * 1e3));
    if (tot_b > 0) json_object_object_add(root, "blas_ms_per_iter", json_object_new_double(tot_b * 1e3));
    printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
  } else {
    json_object_put(arr);
    if (!s)
      printf("\none iteration's GEMMs (%.2f GFLOP): clgan %.1f ms (%.1f GFLOPS)%s", tot_f * 1e-9,
             tot_c * 1e3, tot_f / tot_c * 1e-9, tot_b > 0 ? "" : "\n");
    if (!s && tot_b > 0)
      printf(", BLAS %.1f ms (%.1f GFLOPS): clgan reaches %.0f%% of the BLAS\n", tot_b * 1e3,
             tot_f / tot_b * 1e-9, 100.0 * tot_b / tot_c);
  }
  if (lib) dlclose(lib);
  free(rec);
  clgan_ctx_free(ctx);
  clgan_model_free(&model);
  return s ? cli_report(s) : CLI_OK;
}

int cmd_bench_ops(int argc, char **argv) {
  const char *spec = NULL, *model_name = "dcgan28", *blas = NULL;
  long batch = 64, reps = 5, blas_threads = sysconf(_SC_NPROCESSORS_ONLN);
  int as_json = 0, gemm = 0;
  const cli_opt opts[] = {
      {"--device", OPT_STRING, &spec, 0, 0, NULL},
      {"--model", OPT_STRING, &model_name, 0, 0, NULL},
      {"--batch", OPT_LONG, &batch, 1, 65536, NULL},
      {"--reps", OPT_LONG, &reps, 1, 64, NULL},
      {"--json", OPT_FLAG, &as_json, 0, 0, NULL},
      {"--gemm", OPT_FLAG, &gemm, 0, 0, NULL},
      {"--blas", OPT_STRING, &blas, 0, 0, NULL},
      {"--blas-threads", OPT_LONG, &blas_threads, 1, 1024, NULL},
  };
  int rc = cli_parse_opts("bench ops", argc, argv, opts, (int)(sizeof opts / sizeof *opts));
  if (rc < 0) {
    help();
    return CLI_OK;
  }
  if (rc) return rc;
  if (!blas) blas = getenv("CLGAN_BLAS_LIB");
  if (!blas || !*blas) blas = "libopenblas.so.0";
  if (blas_threads < 1) blas_threads = 1;

  clgan_device_info dev;
  int sel = cli_select_device(spec, &dev);
  if (sel) return sel;
  clgan_status s = CLGAN_OK;
  if (gemm) return bench_gemm(&dev, model_name, (int)batch, blas, (int)blas_threads, as_json);

  clgan_model model;
  if (perf_model_load(model_name, &model)) return CLI_FAIL;
  clgan_ctx *ctx = NULL;
  s = clgan_ctx_create_on(&dev, 0, &ctx);
  static op_row rows[MAX_OPS_ROWS];
  int nrows = 0;
  for (int net = 0; net < 2 && !s; net++) {
    const clgan_net_desc *d = net ? &model.d : &model.g;
    for (int i = 0; i < d->count && !s && nrows < MAX_OPS_ROWS; i++) {
      const clgan_layer_desc *ld = &d->layers[i];
      if (ld->kind == CLGAN_LAYER_RESHAPE || ld->kind == CLGAN_LAYER_FLATTEN) continue;
      op_row *r = &rows[nrows];
      memset(r, 0, sizeof *r);
      snprintf(r->net, sizeof r->net, "%s", net ? "D" : "G");
      r->layer = i;
      snprintf(r->what, sizeof r->what, "%s %dx%dx%d -> %dx%dx%d", kind_name(ld->kind), ld->in_c,
               ld->in_h, ld->in_w, ld->out_c, ld->out_h, ld->out_w);
      if (!as_json) fprintf(stderr, "bench ops: %s.%d %s...\n", r->net, i, r->what);
      s = bench_layer(ctx, ld, (int)batch, (int)reps, r);
      if (s) clgan_error_prefix("%s layer %d: ", r->net, i);
      nrows++;
    }
  }
  const clgan_gemm_plan *plan = s ? NULL : clgan_gemm_get_plan(ctx);
  char origin[200];
  snprintf(origin, sizeof origin, "%s", plan ? plan->origin : "?");
  clgan_ctx_free(ctx);
  if (s) {
    clgan_model_free(&model);
    return cli_report(s);
  }
  if (as_json) {
    json_object *root = json_object_new_object(), *arr = json_object_new_array();
    json_object_object_add(root, "device", json_object_new_string(dev.name));
    json_object_object_add(root, "driver_version", json_object_new_string(dev.driver_version));
    json_object_object_add(root, "gemm_plan", json_object_new_string(origin));
    json_object_object_add(root, "model", json_object_new_string(model.name));
    json_object_object_add(root, "batch", json_object_new_int((int)batch));
    for (int i = 0; i < nrows; i++) {
      op_row *r = &rows[i];
      json_object *o = json_object_new_object();
      json_object_object_add(o, "net", json_object_new_string(r->net));
      json_object_object_add(o, "layer", json_object_new_int(r->layer));
      json_object_object_add(o, "op", json_object_new_string(r->what));
      json_object_object_add(o, "forward_ms", json_object_new_double(r->fwd_ms));
      json_object_object_add(o, "backward_data_ms", json_object_new_double(r->bwd_data_ms));
      json_object_object_add(o, "backward_weight_ms", json_object_new_double(r->bwd_weight_ms));
      json_object_object_add(o, r->flops ? "forward_gflops" : "forward_gb_s",
                             json_object_new_double(r->fwd_ms > 0 ? r->fwd_work / r->fwd_ms * 1e-6 : 0));
      double bms = r->bwd_data_ms + r->bwd_weight_ms;
      json_object_object_add(o, r->flops ? "backward_gflops" : "backward_gb_s",
                             json_object_new_double(bms > 0 ? r->bwd_work / bms * 1e-6 : 0));
      json_object_array_add(arr, o);
    }
    json_object_object_add(root, "ops", arr);
    printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
  } else {
    printf("device: %s (%s), driver %s; GEMM plan: %s\n", dev.name, dev.platform_name,
           dev.driver_version, origin);
    printf("model %s, batch %ld; medians of %ld calls after one warm-up\n\n", model.name, batch,
           reps);
    printf("%-5s %-34s %9s %9s %11s %11s %9s\n", "layer", "op", "fwd ms", "fwd rate",
           "bwd-data ms", "bwd-wgt ms", "bwd rate");
    for (int i = 0; i < nrows; i++) {
      op_row *r = &rows[i];
      char lay[16];
      snprintf(lay, sizeof lay, "%.3s.%d", r->net, r->layer);
      double bms = r->bwd_data_ms + r->bwd_weight_ms;
      const char *u = r->flops ? "GF/s" : "GB/s";
      char wgt[32];
      if (r->bwd_weight_ms > 0) snprintf(wgt, sizeof wgt, "%.2f", r->bwd_weight_ms);
      else snprintf(wgt, sizeof wgt, "-");
      printf("%-5s %-34s %9.2f %5.1f %s %11.2f %11s %5.1f %s\n", lay, r->what, r->fwd_ms,
             r->fwd_ms > 0 ? r->fwd_work / r->fwd_ms * 1e-6 : 0.0, u, r->bwd_data_ms, wgt,
             bms > 0 ? r->bwd_work / bms * 1e-6 : 0.0, u);
    }
  }
  clgan_model_free(&model);
  return CLI_OK;
}
