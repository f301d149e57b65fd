/* `clgan bench train`: times whole training iterations (D step + G step + Adam, as `clgan
 * train` runs them) after warm-up, with GFLOPS, a per-kernel and per-GEMM-shape breakdown
 * from OpenCL profiling events, memory, the time to the first finished iteration with cold
 * and warm caches (fresh processes), and a long run that shows memory does not grow.
 * Tests: tests/perf/test_perf_cli.sh */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"
#include "cli_opts.h"
#include "perf_util.h"

static void help(void) {
  printf(
      "usage: clgan bench train [--device D] [--model dcgan28|dcgan64|FILE] [--batch 64]\n"
      "                         [--iters 10] [--warmup 2] [--profile-iters 3] [--startup]\n"
      "                         [--long N] [--json] [--g-loss L] [--r1 GAMMA]\n\n"
      "Times full training iterations (D step, G step, both Adam updates, the metrics read\n"
      "back, as `clgan train` runs them) on synthetic data after warm-up.\n"
      "  --iters N          timed iterations (default 10); median and min are reported\n"
      "  --warmup N         untimed iterations first (default 2; the first compiles kernels)\n"
      "  --profile-iters N  iterations timed with OpenCL events for the breakdown by kernel and\n"
      "                     GEMM shape (default 3, 0 = none)\n"
      "  --startup          time to the first finished iteration in fresh processes, with empty\n"
      "                     and with filled kernel caches (clgan's and POCL's, in temporary\n"
      "                     folders; yours are not touched)\n"
      "  --long N           N more iterations, printing time and memory every N/10: memory\n"
      "                     must not grow\n"
      "  --json             machine-readable output\n"
      "  --g-loss L, --r1 G the loss and R1 penalty of the iteration, as in `clgan train`\n"
      "                     (wgan-gp and R1 add a double backward through D; D without\n"
      "                     batch norm, e.g. tests/train/wgan28.model)\n"
      "GFLOPS count the GEMMs one iteration issues (2*M*N*K each, recorded from the calls).\n"
      "The GEMM plan in use (tuned, built-in or CLBlast's, see `clgan tune`) is printed;\n"
      "CLGAN_GEMM=clblast|builtin|FILE picks another.\n");
}

static double rss_mib(int peak) {
  if (peak) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
  }
  FILE *f = fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f) {
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    fclose(f);
  }
  return (double)resident * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

/* A batch of "images" in [-1, 1]: the work does not depend on the values. */
static void synthetic(float *x, size_t n, unsigned seed) {
  unsigned s = seed * 2654435761u + 1u;
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    x[i] = (float)(s >> 8) / 8388608.0f - 1.0f;
  }
}

typedef struct bench_setup {
  clgan_model model;
  clgan_ctx *ctx;
  clgan_gan *gan;
  float *real;
  int32_t *labels; /* a conditional model's: i mod classes */
} bench_setup;

static void setup_free(bench_setup *b) {
  clgan_gan_free(b->gan);
  clgan_ctx_free(b->ctx);
  free(b->real);
  free(b->labels);
  clgan_model_free(&b->model);
  memset(b, 0, sizeof *b);
}

/* --g-loss / --r1: the loss and R1 weight of the measured iteration (a penalised one costs a
 * double backward through D, src/train/penalty.c) */
static clgan_gan_loss bench_loss = CLGAN_GLOSS_NS;
static double bench_r1 = 0.0;

static clgan_status setup(bench_setup *b, const clgan_device_info *dev, const char *spec,
                          const char *model, int batch, unsigned flags) {
  memset(b, 0, sizeof *b);
  if (perf_model_load(model, &b->model)) return CLGAN_ERR_INVALID_ARG;
  clgan_train_config cfg;
  clgan_train_config_default(&cfg);
  cfg.batch = batch;
  cfg.loss = bench_loss;
  cfg.r1_gamma = (float)bench_r1;
  size_t n = (size_t)batch * b->model.image_c * b->model.image_h * b->model.image_w;
  b->real = malloc(n * sizeof(float));
  if (!b->real) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  synthetic(b->real, n, 1);
  if (b->model.classes) {
    b->labels = malloc(sizeof(int32_t) * (size_t)batch);
    if (!b->labels) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    for (int i = 0; i < batch; i++) b->labels[i] = i % b->model.classes;
  }
  clgan_status s = dev ? clgan_ctx_create_on(dev, flags, &b->ctx)
                       : clgan_ctx_create(spec, flags, &b->ctx);
  if (!s) s = clgan_gan_create(b->ctx, &b->model, &cfg, &b->gan);
  if (!s) s = clgan_gan_init_params(b->gan);
  return s;
}

static clgan_status iteration(bench_setup *b) {
  clgan_step_metrics m;
  return clgan_gan_iteration_labels(b->gan, b->real, b->labels, &m, 0);
}

/* ---- --startup: fresh processes ---- */

/* In the child: open, build, one iteration; prints the times since the command started. */
static int first_child(const char *spec, const char *model, int batch) {
  double t0 = cli_now();
  bench_setup b;
  clgan_status s = setup(&b, NULL, spec, model, batch, 0);
  double t_ready = cli_now();
  if (!s) s = iteration(&b);
  double t_first = cli_now();
  if (!s) s = iteration(&b);
  double t_second = cli_now();
  setup_free(&b);
  if (s) return cli_report(s);
  printf("ready=%.6f first=%.6f second=%.6f\n", t_ready - t0, t_first - t0, t_second - t_first);
  return CLI_OK;
}

typedef struct startup_row {
  double process, cpu, ready, first, second;
} startup_row;

static int run_first_child(int dev_index, const char *model, int batch, const char *const *env,
                           startup_row *row) {
  char devs[16], batchs[16];
  snprintf(devs, sizeof devs, "%d", dev_index);
  snprintf(batchs, sizeof batchs, "%d", batch);
  char *argv[] = {"clgan", "bench", "train", "--first-iteration", "--device", devs, "--model",
                  (char *)model, "--batch", batchs, NULL};
  perf_child c;
  double t0 = cli_now();
  if (perf_child_start(&c, argv, env)) return -1;
  char line[1024], last[1024] = "";
  int got = 0;
  while (perf_child_line(&c, line, sizeof line, t0 + 1800) == 1) {
    if (sscanf(line, "ready=%lf first=%lf second=%lf", &row->ready, &row->first, &row->second) == 3)
      got = 1;
    else snprintf(last, sizeof last, "%s", line);
  }
  int st = perf_child_finish(&c, 0, &row->cpu);
  row->process = cli_now() - t0;
  if (st != 0 || !got) {
    fprintf(stderr, "clgan bench train: the measuring process failed: %s\n", last);
    return -1;
  }
  return 0;
}

static int startup_runs(const clgan_device_info *dev, const char *model, int batch,
                        startup_row rows[3]) {
  char cdir[] = "/tmp/clgan-bench-cache-XXXXXX", pdir[] = "/tmp/clgan-bench-pocl-XXXXXX";
  if (!mkdtemp(cdir) || !mkdtemp(pdir)) {
    perror("clgan bench train: mkdtemp");
    return -1;
  }
  /* the same GEMM plan as this process uses, though the cache folder is a new one */
  char plan[4200] = "", e1[4300], e2[4300], e3[4300];
  const char *mode = getenv("CLGAN_GEMM");
  if (mode && *mode) snprintf(plan, sizeof plan, "%s", mode);
  else if (clgan_gemm_plan_path(dev, plan, sizeof plan) == 0 && access(plan, R_OK) != 0)
    snprintf(plan, sizeof plan, "auto");
  snprintf(e1, sizeof e1, "CLGAN_CACHE_DIR=%s", cdir);
  snprintf(e2, sizeof e2, "POCL_CACHE_DIR=%s", pdir);
  snprintf(e3, sizeof e3, "CLGAN_GEMM=%s", *plan ? plan : "auto");
  const char *env[] = {e1, e2, e3, "CLGAN_CACHE=1", NULL};
  int rc = 0;
  for (int i = 0; i < 3 && !rc; i++) {
    fprintf(stderr, "bench train: startup run %d of 3 (%s)...\n", i + 1, i ? "warm" : "cold");
    rc = run_first_child(dev->index, model, batch, env, &rows[i]);
  }
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", cdir, pdir);
  if (system(cmd) != 0) fprintf(stderr, "clgan bench train: could not remove %s, %s\n", cdir, pdir);
  return rc;
}

/* ---- the main measurement ---- */

static int by_flops_time(const void *a, const void *b) {
  double x = ((const clgan_profile_entry *)a)->seconds, y = ((const clgan_profile_entry *)b)->seconds;
  return (x < y) - (x > y);
}

int bench_train_dist(int argc, char **argv); /* tools/bench_dist.c */

int cmd_bench_train(int argc, char **argv) {
  for (int i = 1; i < argc; i++) /* --distributed: data-parallel, under mpirun */
    if (!strcmp(argv[i], "--distributed")) return bench_train_dist(argc, argv);
  const char *spec = NULL, *model = "dcgan28", *loss = "ns";
  long batch = 64, iters = 10, warmup = 2, prof_iters = 3, long_iters = 0;
  int as_json = 0, startup = 0, child = 0;
  const cli_opt opts[] = {
      {"--device", OPT_STRING, &spec, 0, 0, NULL},
      {"--model", OPT_STRING, &model, 0, 0, NULL},
      {"--batch", OPT_LONG, &batch, 1, 65536, NULL},
      {"--iters", OPT_LONG, &iters, 1, 100000, NULL},
      {"--warmup", OPT_LONG, &warmup, 0, 1000, NULL},
      {"--profile-iters", OPT_LONG, &prof_iters, 0, 1000, NULL},
      {"--startup", OPT_FLAG, &startup, 0, 0, NULL},
      {"--long", OPT_LONG, &long_iters, 0, 10000000, NULL},
      {"--json", OPT_FLAG, &as_json, 0, 0, NULL},
      {"--first-iteration", OPT_FLAG, &child, 0, 0, NULL}, /* internal: the startup child */
      {"--g-loss", OPT_STRING, &loss, 0, 0, NULL},
      {"--r1", OPT_DOUBLE, &bench_r1, 0.0, 1e30, NULL},
  };
  int rc = cli_parse_opts("bench train", argc, argv, opts, (int)(sizeof opts / sizeof *opts));
  if (rc < 0) {
    help();
    return CLI_OK;
  }
  if (rc) return rc;
  if (clgan_gan_loss_parse(loss, &bench_loss))
    return cli_usage_error("bench train", "--g-loss must be ns, minimax, lsgan, hinge or "
                           "wgan-gp, got '%s'", loss);
  if (child) return first_child(spec, model, (int)batch);

  clgan_device_info dev;
  int sel = cli_select_device(spec, &dev);
  if (sel) return sel;
  clgan_status s = CLGAN_OK;

  startup_row rows[3];
  if (startup && startup_runs(&dev, model, (int)batch, rows)) return CLI_FAIL;

  bench_setup b;
  double t_open = cli_now();
  s = setup(&b, &dev, NULL, model, (int)batch, CLGAN_CTX_PROFILING);
  if (s) {
    setup_free(&b);
    return s == CLGAN_ERR_INVALID_ARG ? CLI_USAGE : cli_report(s);
  }
  /* warm-up; the first iteration records the GEMMs it issues (their FLOPs) */
  clgan_gemm_record *rec = NULL;
  int nrec = 0;
  double first_s = 0.0;
  s = clgan_gemm_record_start(b.ctx, 0);
  for (long i = 0; i < (warmup > 0 ? warmup : 1) && !s; i++) {
    if (!as_json) fprintf(stderr, "bench train: warm-up iteration %ld...\n", i + 1);
    s = iteration(&b);
    if (i == 0) {
      first_s = cli_now() - t_open;
      if (!s) s = clgan_gemm_record_stop(b.ctx, &rec, &nrec);
    }
  }
  double flops = 0.0;
  for (int i = 0; i < nrec; i++)
    flops += 2.0 * (double)rec[i].calls * (double)rec[i].shape.m * (double)rec[i].shape.n *
             (double)rec[i].shape.k;
  free(rec);
  double *times = calloc((size_t)iters, sizeof(double));
  if (!times && !s) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  for (long i = 0; i < iters && !s; i++) {
    double t0 = cli_now();
    s = iteration(&b);
    if (!s) s = clgan_ctx_finish(b.ctx);
    times[i] = cli_now() - t0;
  }
  double tmin = 1e30;
  for (long i = 0; i < iters && !s; i++) tmin = times[i] < tmin ? times[i] : tmin;
  double med = s ? 0.0 : perf_median(times, (int)iters);
  free(times);

  /* breakdown from events */
  clgan_profile_entry *prof = NULL;
  int nprof = 0;
  double prof_wall = 0.0, dev_total = 0.0;
  if (!s && prof_iters > 0) {
    s = clgan_profile_start(b.ctx);
    double t0 = cli_now();
    for (long i = 0; i < prof_iters && !s; i++) s = iteration(&b);
    if (!s) s = clgan_profile_read(b.ctx, &prof, &nprof);
    prof_wall = cli_now() - t0;
    clgan_profile_stop(b.ctx);
    qsort(prof, (size_t)nprof, sizeof *prof, by_flops_time);
    for (int i = 0; i < nprof; i++) dev_total += prof[i].seconds;
  }

  /* memory: what clgan allocated, and the process (device memory is host memory on POCL) */
  size_t dev_bytes = clgan_net_device_bytes(&b.model.g, (int)batch, 1) +
                     clgan_net_device_bytes(&b.model.d, (int)batch, 1) +
                     clgan_gemm_scratch_bytes(b.ctx);
  double rss_before = rss_mib(0);
  /* the graph plan: activations, and activation gradients after reuse vs one per tensor */
  clgan_net_memory mg, md;
  clgan_net_memory_plan(&b.model.g, (int)batch, 1, &mg);
  clgan_net_memory_plan(&b.model.d, (int)batch, 1, &md);
  double plan_acts = (double)(mg.acts + md.acts) * 4 / 1048576.0;
  double plan_gacts = (double)(mg.gacts + md.gacts) * 4 / 1048576.0;
  double plan_unshared = (double)(mg.gacts_unshared + md.gacts_unshared) * 4 / 1048576.0;
  double plan_peak = (double)(mg.params + mg.acts + mg.gacts + mg.ws + md.params + md.acts +
                              md.gacts + md.ws) * 4 / 1048576.0;

  /* --long: memory must not grow */
  double long_rss_first = 0.0, long_rss_last = 0.0, long_ms_first = 0.0, long_ms_last = 0.0;
  size_t scratch_first = 0, scratch_last = 0;
  if (!s && long_iters > 0) {
    long every = long_iters >= 10 ? long_iters / 10 : 1;
    double t0 = cli_now();
    for (long i = 1; i <= long_iters && !s; i++) {
      s = iteration(&b);
      if (!s && (i % every == 0 || i == long_iters)) {
        s = clgan_ctx_finish(b.ctx);
        double ms = (cli_now() - t0) / (double)every * 1e3, rss = rss_mib(0);
        size_t scratch = clgan_gemm_scratch_bytes(b.ctx);
        if (long_rss_first == 0.0) {
          long_rss_first = rss, long_ms_first = ms, scratch_first = scratch;
        }
        long_rss_last = rss, long_ms_last = ms, scratch_last = scratch;
        if (!as_json)
          fprintf(stderr, "long run: iteration %ld/%ld  %.1f ms/iter  RSS %.1f MiB  GEMM scratch "
                  "%.1f MiB\n", i, long_iters, ms, rss, (double)scratch / 1048576.0);
        t0 = cli_now();
      }
    }
  }
  const clgan_gemm_plan *plan = clgan_gemm_get_plan(b.ctx);
  char plan_origin[200];
  snprintf(plan_origin, sizeof plan_origin, "%s", plan ? plan->origin : "?");
  const char *plan_note = clgan_gemm_plan_note(b.ctx);
  char note[600];
  snprintf(note, sizeof note, "%s", plan_note);
  if (s) {
    free(prof);
    setup_free(&b);
    return cli_report(s);
  }

  double ips = (double)batch / med, gflops = flops / med * 1e-9;
  if (as_json) {
    json_object *root = json_object_new_object();
#define ADD(o, k, v) json_object_object_add(o, k, v)
    ADD(root, "device", json_object_new_string(dev.name));
    ADD(root, "platform", json_object_new_string(dev.platform_name));
    ADD(root, "driver_version", json_object_new_string(dev.driver_version));
    ADD(root, "clgan", json_object_new_string(CLGAN_VERSION_STRING));
    ADD(root, "gemm_plan", json_object_new_string(plan_origin));
    ADD(root, "model", json_object_new_string(b.model.name));
    ADD(root, "batch", json_object_new_int((int)batch));
    ADD(root, "iters", json_object_new_int((int)iters));
    ADD(root, "ms_per_iter", json_object_new_double(med * 1e3));
    ADD(root, "ms_per_iter_min", json_object_new_double(tmin * 1e3));
    ADD(root, "img_per_s", json_object_new_double(ips));
    ADD(root, "gflop_per_iter", json_object_new_double(flops * 1e-9));
    ADD(root, "gflops", json_object_new_double(gflops));
    ADD(root, "first_iteration_in_process_s", json_object_new_double(first_s));
    ADD(root, "device_buffers_mib", json_object_new_double((double)dev_bytes / 1048576.0));
    ADD(root, "planned_peak_mib", json_object_new_double(plan_peak));
    ADD(root, "planned_activations_mib", json_object_new_double(plan_acts));
    ADD(root, "planned_activation_grads_mib", json_object_new_double(plan_gacts));
    ADD(root, "activation_grads_unshared_mib", json_object_new_double(plan_unshared));
    ADD(root, "rss_mib", json_object_new_double(rss_before));
    ADD(root, "peak_rss_mib", json_object_new_double(rss_mib(1)));
    if (prof_iters > 0) {
      json_object *arr = json_object_new_array();
      for (int i = 0; i < nprof; i++) {
        json_object *o = json_object_new_object();
        ADD(o, "name", json_object_new_string(prof[i].name));
        ADD(o, "gemm", json_object_new_boolean(prof[i].is_gemm));
        ADD(o, "calls_per_iter", json_object_new_double((double)prof[i].calls / (double)prof_iters));
        ADD(o, "ms_per_iter", json_object_new_double(prof[i].seconds / (double)prof_iters * 1e3));
        if (prof[i].is_gemm && prof[i].seconds > 0)
          ADD(o, "gflops", json_object_new_double(prof[i].flops / prof[i].seconds * 1e-9));
        json_object_array_add(arr, o);
      }
      ADD(root, "profile", arr);
      ADD(root, "profile_device_ms_per_iter", json_object_new_double(dev_total / (double)prof_iters * 1e3));
      ADD(root, "profile_wall_ms_per_iter", json_object_new_double(prof_wall / (double)prof_iters * 1e3));
    }
    if (startup) {
      static const char *const names[3] = {"cold", "warm", "warm2"};
      json_object *o = json_object_new_object();
      for (int i = 0; i < 3; i++) {
        json_object *r = json_object_new_object();
        ADD(r, "process_s", json_object_new_double(rows[i].process));
        ADD(r, "process_cpu_s", json_object_new_double(rows[i].cpu));
        ADD(r, "ready_s", json_object_new_double(rows[i].ready));
        ADD(r, "first_iteration_s", json_object_new_double(rows[i].first));
        ADD(r, "second_iteration_s", json_object_new_double(rows[i].second));
        ADD(o, names[i], r);
      }
      ADD(root, "startup", o);
    }
    if (long_iters > 0) {
      json_object *o = json_object_new_object();
      ADD(o, "iters", json_object_new_int((int)long_iters));
      ADD(o, "rss_first_mib", json_object_new_double(long_rss_first));
      ADD(o, "rss_last_mib", json_object_new_double(long_rss_last));
      ADD(o, "gemm_scratch_first_bytes", json_object_new_int64((int64_t)scratch_first));
      ADD(o, "gemm_scratch_last_bytes", json_object_new_int64((int64_t)scratch_last));
      ADD(o, "ms_per_iter_first", json_object_new_double(long_ms_first));
      ADD(o, "ms_per_iter_last", json_object_new_double(long_ms_last));
      ADD(root, "long_run", o);
    }
#undef ADD
    printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
  } else {
    printf("device: %s (%s), driver %s; clgan %s\n", dev.name, dev.platform_name,
           dev.driver_version, CLGAN_VERSION_STRING);
    printf("GEMM plan: %s%s%s\n", plan_origin, *note ? "; " : "", note);
    printf("model %s, batch %ld: %.2f GFLOP of GEMMs per iteration\n", b.model.name, batch,
           flops * 1e-9);
    printf("\n%s batch %ld: %.1f ms/iter (min %.1f, median of %ld), %.1f img/s, %.1f GFLOPS\n",
           b.model.name, batch, med * 1e3, tmin * 1e3, iters, ips, gflops);
    printf("first iteration in this process (context, kernels, compile): %.2f s\n", first_s);
    printf("device buffers %.1f MiB (G and D arenas %.1f, GEMM scratch %.1f); process RSS %.1f "
           "MiB, peak %.1f MiB\n",
           (double)dev_bytes / 1048576.0,
           (double)(dev_bytes - clgan_gemm_scratch_bytes(b.ctx)) / 1048576.0,
           (double)clgan_gemm_scratch_bytes(b.ctx) / 1048576.0, rss_before, rss_mib(1));
    printf("planned peak of G and D %.1f MiB: activations %.1f, activation gradients %.1f "
           "(%.1f with one region per tensor)\n", plan_peak, plan_acts, plan_gacts, plan_unshared);
    if (prof_iters > 0) {
      double gemm_t = 0.0;
      for (int i = 0; i < nprof; i++) gemm_t += prof[i].is_gemm ? prof[i].seconds : 0.0;
      printf("\nprofile of %ld iterations (OpenCL events; %.1f ms/iter of device time in a wall "
             "%.1f ms/iter): GEMMs %.1f ms (%.0f%%), other kernels %.1f ms\n",
             prof_iters, dev_total / (double)prof_iters * 1e3, prof_wall / (double)prof_iters * 1e3,
             gemm_t / (double)prof_iters * 1e3, dev_total > 0 ? 100.0 * gemm_t / dev_total : 0.0,
             (dev_total - gemm_t) / (double)prof_iters * 1e3);
      for (int pass = 0; pass < 2; pass++) {
        printf("\n%-30s %9s %10s %6s %9s\n", pass ? "kernel" : "GEMM shape", "calls/it", "ms/iter",
               "share", pass ? "" : "GFLOPS");
        for (int i = 0; i < nprof; i++) {
          if (prof[i].is_gemm != !pass) continue;
          printf("%-30s %9.1f %10.2f %5.1f%%", prof[i].is_gemm ? prof[i].name + 5 : prof[i].name,
                 (double)prof[i].calls / (double)prof_iters,
                 prof[i].seconds / (double)prof_iters * 1e3,
                 dev_total > 0 ? 100.0 * prof[i].seconds / dev_total : 0.0);
          if (prof[i].is_gemm && prof[i].seconds > 0)
            printf(" %9.1f", prof[i].flops / prof[i].seconds * 1e-9);
          printf("\n");
        }
      }
    }
    if (startup) {
      printf("\ntime to the first finished iteration, fresh process (median-free: 1 run each):\n");
      printf("%-20s %10s %10s %12s %12s %14s\n", "caches", "process", "(cpu)", "ready",
             "1st iter", "2nd iter");
      static const char *const names[3] = {"cold (empty)", "warm", "warm again"};
      for (int i = 0; i < 3; i++)
        printf("%-20s %9.2fs %9.2fs %11.2fs %11.2fs %13.3fs\n", names[i], rows[i].process,
               rows[i].cpu, rows[i].ready, rows[i].first, rows[i].second);
    }
    if (long_iters > 0)
      printf("\nlong run of %ld iterations: RSS %.1f -> %.1f MiB, GEMM scratch %.1f -> %.1f MiB, "
             "%.1f -> %.1f ms/iter\n",
             long_iters, long_rss_first, long_rss_last, (double)scratch_first / 1048576.0,
             (double)scratch_last / 1048576.0, long_ms_first, long_ms_last);
    printf("\nRESULT clgan %s batch %ld: %.1f ms/iter, %.1f img/s\n", b.model.name, batch,
           med * 1e3, ips);
  }
  free(prof);
  setup_free(&b);
  return CLI_OK;
}
