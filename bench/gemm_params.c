/* gemm_params: the built-in POCL plan's two ways of running a GEMM side by side on the same
 * shapes, in one process, rounds interleaved (the order alternates per round), best of each:
 * program 0 is the built-in plan with its panel class off (CLBlast's Xgemm with the plan's
 * parameters, in the form of the call the plan gives the shape), "plan" the built-in plan as
 * it is (for NN and NT with K >= 64 its panel kernel, kernels/gemm_small.cl; for others the
 * same as program 0). With --blas, a host
 * BLAS's cblas_sgemm on the same shapes in the same rounds. It is the measurement behind the
 * plan's NN rule (docs/PERFORMANCE.md, "Shapes no plan covers"): on a shared machine only a
 * ratio measured this way means anything.
 *
 *   gemm_params [--rounds 3] [--reps 3] [--blas LIB] [--blas-threads 2]
 *               [--x0 "KWG KWI MDIMC NDIMC MWG NWG SA SB VWM VWN"] [SHAPE ...]
 *
 * --x0 replaces program 0's Xgemm parameters (as `clgan tune`'s candidate list writes
 * them; MDIMA = MDIMC, NDIMB = NDIMC) to try another set.
 * SHAPE is NN|NT|TN|TT MxNxK; without any, the 11 large NN shapes of dcgan28 and dcgan64 at
 * batch 64. Benchmark, not test: `meson test -C build --benchmark gemm_params`. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clgan/clgan.h"
#include "clgan/gemm.h"

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *,
                         int, float, float *, int);
typedef void (*threads_fn)(int);

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void print_load(const char *when) {
  FILE *f = fopen("/proc/loadavg", "r");
  char buf[128] = "?";
  if (f) {
    if (!fgets(buf, sizeof buf, f)) snprintf(buf, sizeof buf, "?\n");
    fclose(f);
  }
  printf("load average %s: %s", when, buf);
}

static const char *const default_shapes[] = {
    /* dcgan28, batch 64 */
    "NN 256x3136x2048", "NN 128x3136x1024", "NN 256x2048x3136", "NN 128x1024x3136",
    /* dcgan64, batch 64 */
    "NN 128x5632x1024", "NN 128x5120x1024", "NN 256x2048x2048", "NN 512x1024x4096",
    "NN 512x4096x1024", "NN 128x1024x5632", "NN 128x1024x5120",
};

static int parse_shape(const char *s, clgan_gemm_shape *out) {
  char t[3] = {0};
  size_t m, n, k;
  if (sscanf(s, "%2s %zux%zux%zu", t, &m, &n, &k) != 4 || strlen(t) != 2 || !m || !n || !k ||
      (t[0] != 'N' && t[0] != 'T') || (t[1] != 'N' && t[1] != 'T'))
    return -1;
  *out = (clgan_gemm_shape){t[0] == 'T', t[1] == 'T', m, n, k};
  return 0;
}

static double blas_time(sgemm_fn gemm, const clgan_gemm_shape *s, int reps) {
  size_t na = s->m * s->k, nb = s->k * s->n, nc = s->m * s->n;
  float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(nc * sizeof *c);
  double best = 1e30;
  if (a && b && c) {
    for (size_t i = 0; i < na; i++) a[i] = (float)(i % 97) * 0.01f;
    for (size_t i = 0; i < nb; i++) b[i] = (float)(i % 89) * 0.01f;
    int lda = (int)(s->ta ? s->m : s->k), ldb = (int)(s->tb ? s->k : s->n), ldc = (int)s->n;
    for (int r = 0; r <= reps; r++) {
      double t0 = now();
      gemm(101, s->ta ? 112 : 111, s->tb ? 112 : 111, (int)s->m, (int)s->n, (int)s->k, 1.0f, a,
           lda, b, ldb, 0.0f, c, ldc);
      double t = now() - t0;
      if (r > 0 && t < best) best = t; /* the first call warms up */
    }
  }
  free(a), free(b), free(c);
  return best;
}

int main(int argc, char **argv) {
  int rounds = 3, reps = 3, blas_threads = 2;
  const char *blas = NULL, *x0 = NULL;
  clgan_gemm_shape shapes[64];
  int ns = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--blas") && i + 1 < argc) blas = argv[++i];
    else if (!strcmp(argv[i], "--blas-threads") && i + 1 < argc) blas_threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--x0") && i + 1 < argc) x0 = argv[++i];
    else if (ns < 64 && !parse_shape(argv[i], &shapes[ns])) ns++;
    else {
      fprintf(stderr, "gemm_params: bad argument '%s' (see the header of bench/gemm_params.c)\n",
              argv[i]);
      return 2;
    }
  }
  if (rounds < 1 || reps < 1) {
    fprintf(stderr, "gemm_params: --rounds and --reps must be >= 1\n");
    return 2;
  }
  if (!ns)
    for (size_t i = 0; i < sizeof default_shapes / sizeof *default_shapes; i++)
      parse_shape(default_shapes[i], &shapes[ns++]);
  clgan_ctx *ctx = NULL;
  if (clgan_ctx_create(NULL, 0, &ctx)) {
    fprintf(stderr, "gemm_params: no device: %s\n", clgan_last_error());
    return 77;
  }
  const clgan_device_info *dev = &ctx->info;
  clgan_device_info pocl = *dev;
  snprintf(pocl.platform_name, sizeof pocl.platform_name, "Portable Computing Language");
  pocl.type = CL_DEVICE_TYPE_CPU;
  clgan_gemm_plan plan;
  clgan_gemm_plan_builtin(&pocl, &plan);
  if (x0) {
    /* GEMMK KREG KWG KWI MDIMA MDIMC MWG NDIMB NDIMC NWG SA SB STRM STRN VWM VWN */
    unsigned v[10], *x = plan.programs[0].xgemm;
    char why[200];
    if (sscanf(x0, "%u %u %u %u %u %u %u %u %u %u", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &v[6], &v[7], &v[8], &v[9]) != 10) {
      fprintf(stderr, "gemm_params: --x0 wants 10 numbers\n");
      return 2;
    }
    x[2] = v[0], x[3] = v[1], x[4] = x[5] = v[2], x[7] = x[8] = v[3], x[6] = v[4], x[9] = v[5];
    x[10] = v[6], x[11] = v[7], x[14] = v[8], x[15] = v[9];
    if (clgan_gemm_program_check(&plan.programs[0], dev->local_mem, dev->max_work_group_size, why,
                                 sizeof why)) {
      fprintf(stderr, "gemm_params: --x0: %s\n", why);
      return 2;
    }
  }
  /* plans[0]: the built-in plan without its panel class (CLBlast's Xgemm where the panel
   * kernel would run, in the form of the call route_of gives it); plans[1]: as built in */
  clgan_gemm_plan plans[2];
  plans[0] = plans[1] = plan;
  plans[0].panel = 0;
  sgemm_fn bgemm = NULL;
  if (blas) {
    void *lib = dlopen(blas, RTLD_NOW | RTLD_LOCAL);
    bgemm = lib ? (sgemm_fn)dlsym(lib, "cblas_sgemm") : NULL;
    threads_fn th = lib ? (threads_fn)dlsym(lib, "openblas_set_num_threads") : NULL;
    if (th) th(blas_threads);
    if (!bgemm) fprintf(stderr, "gemm_params: no cblas_sgemm in '%s'; clgan only\n", blas);
  }
  printf("device: %s (%s); %d rounds, best of %d calls per round and program\n", dev->name,
         dev->platform_name, rounds, reps);
  printf("program 0: CLBlast's Xgemm with %s; plan: the built-in plan's route (NN, NT with K >= %d:\n"
         "clgan's panel kernel)\n",
         x0 ? "the --x0 set" : "the built-in set (16x16 tile)", CLGAN_GEMM_PANEL_KMIN);
  if (x0) printf("--x0 (KWG KWI MDIMC NDIMC MWG NWG SA SB VWM VWN): %s\n", x0);
  print_load("at start");
  double best[64][3];
  int valid[64][2];
  for (int i = 0; i < ns; i++) {
    best[i][0] = best[i][1] = best[i][2] = 1e30;
    valid[i][0] = valid[i][1] = 1;
  }
  int rc = 0;
  for (int r = 0; r < rounds && !rc; r++) {
    for (int i = 0; i < ns && !rc; i++) {
      for (int j = 0; j < 2; j++) {
        int prog = (r + j) % 2; /* alternate which goes first */
        clgan_gemm_measure m;
        if (clgan_gemm_set_plan(ctx, &plans[prog]) ||
            clgan_gemm_measure_shape(ctx, &shapes[i], NULL, 0, -1, reps, &m)) {
          fprintf(stderr, "gemm_params: %s\n", clgan_last_error());
          rc = 1;
          break;
        }
        valid[i][prog] &= m.valid;
        if (m.seconds < best[i][prog]) best[i][prog] = m.seconds;
      }
      if (bgemm && !rc) {
        double t = blas_time(bgemm, &shapes[i], reps);
        if (t < best[i][2]) best[i][2] = t;
      }
    }
  }
  if (!rc) {
    printf("\n%-20s %8s %10s %10s %8s%s\n", "shape", "GFLOP", "prog0 ms", "plan ms", "0/plan",
           bgemm ? "    BLAS ms  plan/BLAS" : "");
    double t0 = 0, t1 = 0;
    for (int i = 0; i < ns; i++) {
      const clgan_gemm_shape *s = &shapes[i];
      double f = 2.0 * (double)s->m * (double)s->n * (double)s->k * 1e-9;
      char name[64];
      snprintf(name, sizeof name, "%c%c %zux%zux%zu", s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->m,
               s->n, s->k);
      printf("%-20s %8.2f %10.2f %10.2f %7.2fx", name, f, best[i][0] * 1e3, best[i][1] * 1e3,
             best[i][0] / best[i][1]);
      if (bgemm) printf(" %10.2f %10.2fx", best[i][2] * 1e3, best[i][2] / best[i][1]);
      if (!valid[i][0] || !valid[i][1]) printf("  (INVALID result: %d %d)", valid[i][0], valid[i][1]);
      printf("\n");
      t0 += best[i][0], t1 += best[i][1];
      if (!valid[i][0] || !valid[i][1]) rc = 1;
    }
    printf("all shapes once: program 0 %.1f ms, plan %.1f ms (%.2fx)\n", t0 * 1e3, t1 * 1e3,
           t0 / t1);
  }
  print_load("at end");
  clgan_gemm_plan_free(&plan);
  clgan_ctx_free(ctx);
  return rc;
}
