/* `clgan bench`: a table of benchmarks (startup here; ops and train in their own files).
 * `bench startup` times kernel readiness in fresh child processes. Tests: tests/core/test_cli.sh */
#include <errno.h>
#include <ftw.h>
#include <json-c/json.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cli_opts.h"

extern char **environ;

/* Placeholders until tools/bench_ops.c and tools/bench_train.c define the real ones: a
 * strong definition anywhere in the program replaces these weak ones, so adding the file
 * to meson.build is the whole change. */
__attribute__((weak)) int cmd_bench_ops(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "clgan bench ops: not implemented yet\n");
  return CLI_FAIL;
}

__attribute__((weak)) int cmd_bench_train(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "clgan bench train: not implemented yet\n");
  return CLI_FAIL;
}

static int bench_startup(int argc, char **argv);

static const struct {
  const char *name;
  int (*run)(int, char **);
  const char *help;
} benches[] = {
    {"startup", bench_startup, "time until every kernel program is ready, cold and warm"},
    {"ops", cmd_bench_ops, "time each operator on typical shapes"},
    {"train", cmd_bench_train, "time training iterations"},
};

static void help(void) {
  printf("usage: clgan bench <benchmark> [options]\n\nbenchmarks:\n");
  for (size_t i = 0; i < sizeof benches / sizeof *benches; i++)
    printf("  %-9s %s\n", benches[i].name, benches[i].help);
  printf("\n'clgan bench <benchmark> --help' describes each. Benchmarks measure; they do not\n"
         "check results (that is `clgan doctor` and `meson test`).\n");
}

int cmd_bench(int argc, char **argv) {
  if (argc < 2) {
    help();
    return CLI_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    help();
    return CLI_OK;
  }
  for (size_t i = 0; i < sizeof benches / sizeof *benches; i++)
    if (!strcmp(argv[1], benches[i].name)) return benches[i].run(argc - 1, argv + 1);
  return cli_usage_error("bench", "unknown benchmark '%s'", argv[1]);
}

/* ---- bench startup ------------------------------------------------------------------ */

static void startup_help(void) {
  printf("usage: clgan bench startup [--device D] [--repeat N] [--json]\n\n"
         "Time until every kernel program is ready on the device, each run in a fresh\n"
         "clgan process, in four cache states:\n"
         "  cold          empty clgan kernel cache and empty POCL cache\n"
         "  clgan warm    clgan's cache filled by the cold run, POCL's cache empty\n"
         "  both warm     both filled by the cold run (the everyday case)\n"
         "  POCL only     clgan's cache off (CLGAN_CACHE=0), POCL's cache filled\n"
         "POCL keeps its own compiled-kernel cache (POCL_CACHE_DIR, ~/.cache/pocl by\n"
         "default); each run gets temporary folders for both, so your caches are neither\n"
         "used nor touched. Other drivers' own caches (e.g. NVIDIA's) are not controlled.\n"
         "Columns: process = spawn to exit, (cpu) = the process's user + system CPU time\n"
         "(steadier than wall time on a busy machine), open = list devices + context,\n"
         "programs = every kernels/*.cl program built or loaded, sgemm = the first CLBlast\n"
         "SGEMM (CLBlast compiles its kernels in each process). Medians over the repeats.\n"
         "  --device D   device to measure (index, P:D, cpu, gpu or part of a name)\n"
         "  --repeat N   runs per state, 1..50 (default 3)\n"
         "  --json       machine-readable output\n");
}

/* What one child process measured, in seconds. */
typedef struct {
  double process, open, programs, sgemm;
  double cpu; /* user + system CPU seconds of the whole child: steady on a busy machine */
  int nprograms, from_disk;
} startup_sample;

/* Runs inside the child: open the device, get every program, run one SGEMM. */
static int startup_child(const char *spec) {
  double t0 = cli_now();
  clgan_ctx *ctx;
  int rc = cli_open_device(spec, 0, &ctx);
  if (rc) return rc;
  double t_open = cli_now();
  int nprograms = 0, from_disk = 0;
  for (const clgan_kernel_source *src = clgan_kernel_sources(); src->name; src++) {
    if (!strcmp(src->name, "common")) continue;
    cl_program p;
    clgan_build_origin origin;
    clgan_status s = clgan_program_get(ctx, src->name, &p, &origin);
    if (s != CLGAN_OK) {
      clgan_ctx_free(ctx);
      return cli_report(s);
    }
    nprograms++;
    from_disk += origin == CLGAN_BUILT_DISK_CACHE;
  }
  double t_programs = cli_now();
  enum { M = 64 };
  float host[M * M];
  for (int i = 0; i < M * M; i++) host[i] = (float)(i % 7) * 0.25f;
  cl_mem a = NULL, c = NULL;
  clgan_status s = clgan_buffer_create(ctx, sizeof host, "bench.A", &a);
  if (!s) s = clgan_buffer_create(ctx, sizeof host, "bench.C", &c);
  if (!s) s = clgan_buffer_write(ctx, a, 0, sizeof host, host);
  double t_gemm0 = cli_now();
  if (!s) s = clgan_gemm(ctx, 0, 1, M, M, M, 1.0f, CLGAN_VIEW(a, 0), M, CLGAN_VIEW(a, 0), M,
                         0.0f, CLGAN_VIEW(c, 0), M);
  if (!s) s = clgan_ctx_finish(ctx);
  double t_gemm = cli_now() - t_gemm0;
  clgan_buffer_release(&a);
  clgan_buffer_release(&c);
  clgan_ctx_free(ctx);
  if (s != CLGAN_OK) return cli_report(s);
  printf("open=%.6f programs=%.6f sgemm=%.6f nprograms=%d from_disk=%d\n", t_open - t0,
         t_programs - t_open, t_gemm, nprograms, from_disk);
  return CLI_OK;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f) {
  (void)sb;
  (void)flag;
  (void)f;
  return remove(p);
}

static void rm_tree(const char *dir) {
  if (dir && *dir) nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int make_temp_dir(const char *tag, char *out, size_t cap) {
  const char *base = getenv("TMPDIR");
  snprintf(out, cap, "%s/clgan-bench-%s-XXXXXX", base && *base ? base : "/tmp", tag);
  if (mkdtemp(out)) return 0;
  fprintf(stderr, "clgan bench: error: cannot create a folder like '%s': %s\n", out,
          strerror(errno));
  return -1;
}

/* The environment for a child: ours without any cache setting, plus the given ones. */
static char **child_env(const char *clgan_cache, const char *pocl_cache, int clgan_off) {
  static char b1[4200], b2[4200];
  size_t n = 0;
  while (environ[n]) n++;
  char **env = calloc(n + 4, sizeof *env);
  if (!env) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (strncmp(environ[i], "CLGAN_CACHE_DIR=", 16) && strncmp(environ[i], "CLGAN_CACHE=", 12) &&
        strncmp(environ[i], "POCL_CACHE_DIR=", 15))
      env[k++] = environ[i];
  snprintf(b1, sizeof b1, "CLGAN_CACHE_DIR=%s", clgan_cache);
  snprintf(b2, sizeof b2, "POCL_CACHE_DIR=%s", pocl_cache);
  env[k++] = b1;
  env[k++] = b2;
  if (clgan_off) env[k++] = "CLGAN_CACHE=0";
  env[k] = NULL;
  return env;
}

/* Spawns `clgan bench startup --child --device INDEX` (this same executable) and reads
 * its one result line. A fresh process is the point: nothing is warm but the disk. */
static int run_child(int device_index, char **env, startup_sample *out) {
  /* The magic link, not the path it names: it still executes this binary when a rebuild
   * has replaced the file meanwhile. */
  const char *exe = "/proc/self/exe";
  char index[32];
  snprintf(index, sizeof index, "%d", device_index);
  char *argv[] = {"clgan", "bench", "startup", "--child", "--device", index, NULL};
  int pipefd[2];
  if (pipe(pipefd) != 0) return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  posix_spawn_file_actions_addclose(&fa, pipefd[0]);
  posix_spawn_file_actions_addclose(&fa, pipefd[1]);
  pid_t pid;
  double t0 = cli_now();
  int e = posix_spawn(&pid, exe, &fa, NULL, argv, env);
  posix_spawn_file_actions_destroy(&fa);
  close(pipefd[1]);
  if (e != 0) {
    close(pipefd[0]);
    fprintf(stderr, "clgan bench: error: cannot start '%s': %s\n", exe, strerror(e));
    return -1;
  }
  char line[512];
  size_t used = 0;
  ssize_t r;
  while ((r = read(pipefd[0], line + used, sizeof line - 1 - used)) > 0 ||
         (r < 0 && errno == EINTR))
    if (r > 0) used += (size_t)r;
  line[used] = '\0';
  close(pipefd[0]);
  int status = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  out->process = cli_now() - t0;
  out->cpu = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
             (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "clgan bench: error: the measuring process failed (status %d)\n", status);
    return -1;
  }
  if (sscanf(line, "open=%lf programs=%lf sgemm=%lf nprograms=%d from_disk=%d", &out->open,
             &out->programs, &out->sgemm, &out->nprograms, &out->from_disk) != 5) {
    fprintf(stderr, "clgan bench: error: unexpected output from the measuring process: %s\n",
            line);
    return -1;
  }
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

enum { STATES = 4, MAX_REPEAT = 50 };
static const char *const state_names[STATES] = {"cold", "clgan warm", "both warm", "POCL only"};
static const char *const state_keys[STATES] = {"cold", "clgan_warm", "both_warm", "pocl_only"};

/* One repetition: fresh folders, then the four states in an order where each finds the
 * caches it needs filled by the ones before. */
static int startup_round(int device_index, startup_sample out[STATES]) {
  char clgan_dir[4096], pocl_cold[4096], pocl_fresh[4096];
  if (make_temp_dir("clgan-cache", clgan_dir, sizeof clgan_dir)) return -1;
  if (make_temp_dir("pocl-cache", pocl_cold, sizeof pocl_cold)) {
    rm_tree(clgan_dir);
    return -1;
  }
  if (make_temp_dir("pocl-cache2", pocl_fresh, sizeof pocl_fresh)) {
    rm_tree(clgan_dir);
    rm_tree(pocl_cold);
    return -1;
  }
  int rc = 0;
  for (int st = 0; st < STATES && rc == 0; st++) {
    const char *pocl = st == 1 ? pocl_fresh : pocl_cold;
    char **env = child_env(clgan_dir, pocl, st == 3);
    if (!env) {
      rc = -1;
      break;
    }
    rc = run_child(device_index, env, &out[st]);
    free(env);
  }
  rm_tree(clgan_dir);
  rm_tree(pocl_cold);
  rm_tree(pocl_fresh);
  return rc;
}

static int bench_startup(int argc, char **argv) {
  const char *spec = NULL;
  int as_json = 0, child = 0;
  long repeat = 3;
  const cli_opt opts[] = {
      {"--device", OPT_STRING, &spec, 0, 0, NULL},
      {"--repeat", OPT_LONG, &repeat, 1, MAX_REPEAT, NULL},
      {"--json", OPT_FLAG, &as_json, 0, 0, NULL},
      {"--child", OPT_FLAG, &child, 0, 0, NULL}, /* internal: the measured process */
  };
  int rc = cli_parse_opts("bench startup", argc, argv, opts, (int)(sizeof opts / sizeof *opts));
  if (rc < 0) {
    startup_help();
    return CLI_OK;
  }
  if (rc) return rc;
  if (child) return startup_child(spec);

  /* Resolve the selection once, here, so every child measures the same device and a bad
   * --device fails before anything runs. */
  clgan_device_info dev;
  int sel = cli_select_device(spec, &dev);
  if (sel) return sel;
  int pocl = strstr(dev.platform_name, "Portable Computing Language") != NULL;

  static startup_sample runs[MAX_REPEAT][STATES];
  for (long r = 0; r < repeat; r++) {
    if (!as_json)
      fprintf(stderr, "bench startup: run %ld of %ld...\n", r + 1, repeat);
    if (startup_round(dev.index, runs[r])) return CLI_FAIL;
  }
  enum { METRICS = 5 };
  double med[STATES][METRICS];
  for (int st = 0; st < STATES; st++) {
    double v[METRICS][MAX_REPEAT];
    for (long r = 0; r < repeat; r++) {
      v[0][r] = runs[r][st].process;
      v[1][r] = runs[r][st].open;
      v[2][r] = runs[r][st].programs;
      v[3][r] = runs[r][st].sgemm;
      v[4][r] = runs[r][st].cpu;
    }
    for (int m = 0; m < METRICS; m++) med[st][m] = median(v[m], (int)repeat);
  }
  int nprog = runs[0][0].nprograms;
  if (as_json) {
    json_object *root = json_object_new_object();
    json_object_object_add(root, "device", json_object_new_string(dev.name));
    json_object_object_add(root, "platform", json_object_new_string(dev.platform_name));
    json_object_object_add(root, "driver_version", json_object_new_string(dev.driver_version));
    json_object_object_add(root, "pocl", json_object_new_boolean(pocl));
    json_object_object_add(root, "programs", json_object_new_int(nprog));
    json_object_object_add(root, "repeat", json_object_new_int((int)repeat));
    json_object *states = json_object_new_array();
    static const char *const cols[METRICS] = {"process_s", "open_s", "programs_s",
                                               "first_sgemm_s", "process_cpu_s"};
    for (int st = 0; st < STATES; st++) {
      json_object *o = json_object_new_object();
      json_object_object_add(o, "state", json_object_new_string(state_keys[st]));
      for (int m = 0; m < METRICS; m++)
        json_object_object_add(o, cols[m], json_object_new_double(med[st][m]));
      json_object_object_add(o, "programs_from_disk", json_object_new_int(runs[0][st].from_disk));
      json_object_array_add(states, o);
    }
    json_object_object_add(root, "states", states);
    printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
    return CLI_OK;
  }
  printf("device: %s (%s), driver %s\n", dev.name, dev.platform_name, dev.driver_version);
  printf("%d kernel programs; median of %ld run%s per state, each a fresh process%s\n\n", nprog,
         repeat, repeat == 1 ? "" : "s",
         pocl ? "" : "\n(not POCL: the driver's own cache is not controlled, so 'cold' may be warm)");
  printf("%-12s %10s %10s %10s %10s %12s %10s\n", "state", "process", "(cpu)", "open",
         "programs", "first sgemm", "from disk");
  for (int st = 0; st < STATES; st++)
    printf("%-12s %9.3fs %9.3fs %9.3fs %9.3fs %11.3fs %7d/%d\n", state_names[st], med[st][0],
           med[st][4], med[st][1], med[st][2], med[st][3], runs[0][st].from_disk, nprog);
  if (med[2][2] > 0)
    printf("\nprograms ready: cold is %.0fx both-warm; POCL's cache alone is %.1fx both-warm\n",
           med[0][2] / med[2][2], med[3][2] / med[2][2]);
  return CLI_OK;
}
