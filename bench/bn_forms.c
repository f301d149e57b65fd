/* bn_forms: batch norm's two forms (kernels/batchnorm.cl: the group form and the lanes form
 * that replaced it on CPU devices, docs/KERNELS.md) side by side at dcgan64's and dcgan28's
 * batch-norm shapes, in one process: each round runs every shape in both forms (switched
 * with CLGAN_BN_FORM, the order alternating per round), forward (training) and backward
 * timed by OpenCL events, best of the rounds. On a shared machine only a ratio measured this
 * way means anything. Prints the load average.
 *
 *   bn_forms [--batch 64] [--rounds 5]
 *
 * Benchmark, not test: `meson test -C build --benchmark bn_forms`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/clgan.h"

static void print_load(const char *when) {
  FILE *f = fopen("/proc/loadavg", "r");
  char buf[128] = "?\n";
  if (f) {
    if (!fgets(buf, sizeof buf, f)) snprintf(buf, sizeof buf, "?\n");
    fclose(f);
  }
  printf("load average %s: %s", when, buf);
}

static int fail(const char *what) {
  fprintf(stderr, "bn_forms: %s: %s\n", what, clgan_last_error());
  return 1;
}

/* summed event time of kernels whose name starts with prefix */
static double kernel_time(const clgan_profile_entry *e, int n, const char *prefix) {
  double t = 0;
  for (int i = 0; i < n; i++)
    if (!strncmp(e[i].name, prefix, strlen(prefix))) t += e[i].seconds;
  return t;
}

/* (C, H) of each BatchNorm2d: dcgan64's G and D, then dcgan28's */
static const struct {
  const char *name;
  int c, h;
} shapes[] = {
    {"dcgan64 G 512x4x4", 512, 4},   {"dcgan64 G 256x8x8", 256, 8},
    {"dcgan64 G 128x16x16", 128, 16}, {"dcgan64 G 64x32x32", 64, 32},
    {"dcgan64 D 128x16x16", 128, 16}, {"dcgan64 D 256x8x8", 256, 8},
    {"dcgan64 D 512x4x4", 512, 4},   {"dcgan28 G 256x7x7", 256, 7},
    {"dcgan28 G 128x14x14", 128, 14}, {"dcgan28 D 128x7x7", 128, 7},
};
enum { NS = sizeof shapes / sizeof *shapes };
static const char *const forms[2] = {"groups", "lanes"};

int main(int argc, char **argv) {
  int batch = 64, rounds = 5;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
    else {
      fprintf(stderr, "bn_forms: bad argument '%s' (--batch N, --rounds N)\n", argv[i]);
      return 2;
    }
  }
  if (batch < 1 || rounds < 1) {
    fprintf(stderr, "bn_forms: --batch and --rounds must be >= 1\n");
    return 2;
  }
  clgan_ctx *ctx = NULL;
  if (clgan_ctx_create(NULL, CLGAN_CTX_PROFILING, &ctx)) {
    fprintf(stderr, "bn_forms: no device: %s\n", clgan_last_error());
    return 77;
  }
  size_t big = 0;
  for (int s = 0; s < NS; s++) {
    size_t n = (size_t)batch * shapes[s].c * shapes[s].h * shapes[s].h;
    if (n > big) big = n;
  }
  cl_mem buf[4] = {0}, st[6] = {0};
  for (int i = 0; i < 4; i++)
    if (clgan_buffer_create(ctx, big * sizeof(float), "bn_forms", &buf[i]) ||
        clgan_fill(ctx, big, 0.25f * (float)(i + 1), CLGAN_VIEW(buf[i], 0)))
      return fail("buffers");
  for (int i = 0; i < 6; i++)
    if (clgan_buffer_create(ctx, 512 * sizeof(float), "bn_forms stats", &st[i]) ||
        clgan_fill(ctx, 512, i == 0 ? 1.0f : 0.0f, CLGAN_VIEW(st[i], 0)))
      return fail("stats");
  clgan_view x = CLGAN_VIEW(buf[0], 0), y = CLGAN_VIEW(buf[1], 0), dy = CLGAN_VIEW(buf[2], 0),
             dx = CLGAN_VIEW(buf[3], 0);
  printf("bn_forms: batch %d, %d rounds (best round per shape and form)\n", batch, rounds);
  print_load("at start");
  double best[NS][2][2]; /* shape, form, forward/backward */
  int lanes_ran[NS] = {0};
  for (int s = 0; s < NS; s++)
    for (int f = 0; f < 2; f++) best[s][f][0] = best[s][f][1] = 1e30;
  /* round 0 warms up (kernel compiles): not counted */
  for (int r = 0; r <= rounds; r++)
    for (int s = 0; s < NS; s++)
      for (int o = 0; o < 2; o++) {
        int f = (r + o) % 2;
        int c = shapes[s].c, hw = shapes[s].h * shapes[s].h;
        setenv("CLGAN_BN_FORM", forms[f], 1);
        clgan_profile_entry *e = NULL;
        int ne = 0;
        if (clgan_profile_start(ctx) ||
            clgan_batchnorm_act_forward_train(ctx, batch, c, hw, x, CLGAN_VIEW(st[0], 0),
                                              CLGAN_VIEW(st[1], 0), CLGAN_ACT_RELU, 0.0f, y,
                                              CLGAN_VIEW(st[2], 0), CLGAN_VIEW(st[3], 0),
                                              CLGAN_NONE, CLGAN_NONE, 0.1f, 1e-5f) ||
            clgan_profile_read(ctx, &e, &ne))
          return fail("forward");
        double tf = kernel_time(e, ne, "bn_");
        if (f == 1 && kernel_time(e, ne, "bn_forward_train_lanes") > 0) lanes_ran[s] = 1;
        free(e);
        if (clgan_profile_start(ctx) ||
            clgan_batchnorm_act_backward(ctx, batch, c, hw, x, dy, CLGAN_VIEW(st[0], 0),
                                         CLGAN_VIEW(st[1], 0), CLGAN_ACT_RELU, 0.0f,
                                         CLGAN_VIEW(st[2], 0), CLGAN_VIEW(st[3], 0), dx,
                                         CLGAN_VIEW(st[4], 0), CLGAN_VIEW(st[5], 0), 0) ||
            clgan_profile_read(ctx, &e, &ne))
          return fail("backward");
        double tb = kernel_time(e, ne, "bn_");
        free(e);
        if (r && tf < best[s][f][0]) best[s][f][0] = tf;
        if (r && tb < best[s][f][1]) best[s][f][1] = tb;
      }
  clgan_profile_stop(ctx);
  unsetenv("CLGAN_BN_FORM");
  printf("\n%-22s %6s %10s %10s %7s %10s %10s %7s\n", "batch norm (+relu)", "lanes", "fwd grp",
         "fwd lanes", "ratio", "bwd grp", "bwd lanes", "ratio");
  double sum[2][2] = {{0, 0}, {0, 0}};
  for (int s = 0; s < NS; s++) {
    printf("%-22s %6s %8.2fms %8.2fms %6.2fx %8.2fms %8.2fms %6.2fx\n", shapes[s].name,
           lanes_ran[s] ? "yes" : "no", best[s][0][0] * 1e3, best[s][1][0] * 1e3,
           best[s][0][0] / best[s][1][0], best[s][0][1] * 1e3, best[s][1][1] * 1e3,
           best[s][0][1] / best[s][1][1]);
    for (int f = 0; f < 2; f++)
      for (int d = 0; d < 2; d++) sum[f][d] += best[s][f][d];
  }
  printf("%-22s %6s %8.2fms %8.2fms %6.2fx %8.2fms %8.2fms %6.2fx\n", "sum", "", sum[0][0] * 1e3,
         sum[1][0] * 1e3, sum[0][0] / sum[1][0], sum[0][1] * 1e3, sum[1][1] * 1e3,
         sum[0][1] / sum[1][1]);
  print_load("at end");
  for (int i = 0; i < 4; i++) clgan_buffer_release(&buf[i]);
  for (int i = 0; i < 6; i++) clgan_buffer_release(&st[i]);
  clgan_ctx_free(ctx);
  return 0;
}
