/* layout_bw: the layout kernels (im2col, im2colT, col2im) and
 * batch norm at dcgan64's batch-64 sizes, as bytes moved / time against the same device's
 * copy bandwidth: a memcpy on two threads of the same bytes (so the same working set and
 * caches), in the same rounds; a 256 MiB memcpy and clgan_copy's kernel are shown for scale (issue 18: each should
 * reach >= 0.5x of the copy). (The NCHW <-> CNP transposes around the GEMMs are not counted.)
 *
 *   layout_bw [--batch 64] [--rounds 3]
 *
 * Bytes moved are each kernel's minimum traffic: what it must read once plus what it writes
 * (im2col/im2colT/col2im: the image side plus the column matrix; batch norm forward: x read, y written; backward: x and dy read, dx written),
 * so a kernel that reads its input twice shows below its true bandwidth. Kernel times are
 * OpenCL event times (CLGAN_CTX_PROFILING), summed over every launch of the op, best round.
 * Benchmark, not test: `meson test -C build --benchmark layout_bw`. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct half_copy {
  char *dst;
  const char *src;
  size_t bytes;
} half_copy;

static void *copy_part(void *arg) {
  half_copy *h = arg;
  memcpy(h->dst, h->src, h->bytes);
  return NULL;
}

/* the machine's copy: memcpy on two threads (the device's two cores), seconds */
static double host_copy(char *dst, const char *src, size_t bytes) {
  half_copy h[2] = {{dst, src, bytes / 2}, {dst + bytes / 2, src + bytes / 2, bytes - bytes / 2}};
  pthread_t t;
  double t0 = now();
  int threaded = pthread_create(&t, NULL, copy_part, &h[1]) == 0;
  copy_part(&h[0]);
  if (threaded) pthread_join(t, NULL);
  else copy_part(&h[1]);
  return now() - t0;
}

/* dcgan64 (pytorch/examples' DCGAN, nz 100, ngf = ndf = 64, 3 x 64 x 64) */
typedef struct layer {
  const char *name;
  int c_in, h_in, c_out, k, stride, pad, transposed;
} layer;
static const layer layers[] = {
    {"G.0 convT 100x1 -> 512x4", 100, 1, 512, 4, 1, 0, 1},
    {"G.3 convT 512x4 -> 256x8", 512, 4, 256, 4, 2, 1, 1},
    {"G.6 convT 256x8 -> 128x16", 256, 8, 128, 4, 2, 1, 1},
    {"G.9 convT 128x16 -> 64x32", 128, 16, 64, 4, 2, 1, 1},
    {"G.12 convT 64x32 -> 3x64", 64, 32, 3, 4, 2, 1, 1},
    {"D.0 conv 3x64 -> 64x32", 3, 64, 64, 4, 2, 1, 0},
    {"D.2 conv 64x32 -> 128x16", 64, 32, 128, 4, 2, 1, 0},
    {"D.5 conv 128x16 -> 256x8", 128, 16, 256, 4, 2, 1, 0},
    {"D.8 conv 256x8 -> 512x4", 256, 8, 512, 4, 2, 1, 0},
    {"D.11 conv 512x4 -> 1x1", 512, 4, 1, 4, 1, 0, 0},
};
enum { NL = sizeof layers / sizeof *layers };
/* batch norm: (C, H) of G's and D's normalised activations */
static const int bns[][2] = {{512, 4}, {256, 8}, {128, 16}, {64, 32}, {128, 16}, {256, 8}, {512, 4}};
enum { NB = sizeof bns / sizeof *bns };

static int fail(const char *what) {
  fprintf(stderr, "layout_bw: %s: %s\n", what, clgan_last_error());
  return 1;
}

/* summed device seconds of the entries whose name starts with `prefix` */
static double kernel_time(const clgan_profile_entry *e, int n, const char *prefix, long *calls) {
  double t = 0;
  for (int i = 0; i < n; i++)
    if (!e[i].is_gemm && !strncmp(e[i].name, prefix, strlen(prefix))) {
      t += e[i].seconds;
      if (calls) *calls += e[i].calls;
    }
  return t;
}

/* kinds of layout kernel, by name prefix */
static const char *const kinds[] = {"im2col_", "im2colT_", "col2im_"};
enum { NK = sizeof kinds / sizeof *kinds };

int main(int argc, char **argv) {
  int batch = 64, rounds = 3;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
    else {
      fprintf(stderr, "layout_bw: bad argument '%s' (--batch N, --rounds N)\n", argv[i]);
      return 2;
    }
  }
  if (batch < 1 || rounds < 1) {
    fprintf(stderr, "layout_bw: --batch and --rounds must be >= 1\n");
    return 2;
  }
  clgan_ctx *ctx = NULL;
  if (clgan_ctx_create(NULL, CLGAN_CTX_PROFILING, &ctx)) {
    fprintf(stderr, "layout_bw: no device: %s\n", clgan_last_error());
    return 77;
  }
  /* one buffer pool big enough for every layer: x, y, w, dy, dx, dw and the workspace */
  size_t big = 0, wsz = 0;
  clgan_conv cv[NL];
  for (int l = 0; l < NL; l++) {
    const layer *L = &layers[l];
    clgan_conv c = {batch, L->c_in, L->h_in, L->h_in, L->c_out, 0, 0, L->k, L->k, L->stride,
                    L->pad, 0, L->transposed};
    if (clgan_conv_init(&c)) return fail(L->name);
    cv[l] = c;
    size_t xs = (size_t)batch * L->c_in * L->h_in * L->h_in;
    size_t ys = (size_t)batch * c.c_out * c.h_out * c.w_out;
    size_t ws = (size_t)L->c_in * L->c_out * L->k * L->k;
    size_t m = xs > ys ? xs : ys;
    if (ws > m) m = ws;
    if (m > big) big = m;
    size_t w = clgan_conv_workspace(&c);
    if (w > wsz) wsz = w;
  }
  for (int b = 0; b < NB; b++) {
    size_t s = (size_t)batch * bns[b][0] * bns[b][1] * bns[b][1];
    if (s > big) big = s;
  }
  size_t copy_n = 64u << 20; /* 256 MiB */
  cl_mem buf[6] = {0}, ws = NULL, stats[6] = {0}, cpa = NULL, cpb = NULL;
  for (int i = 0; i < 6; i++)
    if (clgan_buffer_create(ctx, big * sizeof(float), "layout_bw", &buf[i]) ||
        clgan_fill(ctx, big, 0.01f * (float)(i + 1), CLGAN_VIEW(buf[i], 0)))
      return fail("buffers");
  for (int i = 0; i < 6; i++)
    if (clgan_buffer_create(ctx, 512 * sizeof(float), "layout_bw stats", &stats[i]) ||
        clgan_fill(ctx, 512, i == 0 ? 1.0f : 0.0f, CLGAN_VIEW(stats[i], 0)))
      return fail("stats");
  if (clgan_buffer_create(ctx, (wsz ? wsz : 1) * sizeof(float), "layout_bw ws", &ws) ||
      clgan_buffer_create(ctx, copy_n * sizeof(float), "copy a", &cpa) ||
      clgan_buffer_create(ctx, copy_n * sizeof(float), "copy b", &cpb) ||
      clgan_fill(ctx, copy_n, 1.0f, CLGAN_VIEW(cpa, 0)))
    return fail("buffers");
  printf("layout_bw: dcgan64 at batch %d, %d rounds (best round per kernel)\n", batch, rounds);
  print_load("at start");
  char *hsrc = malloc(copy_n * sizeof(float)), *hdst = malloc(copy_n * sizeof(float));
  if (!hsrc || !hdst) {
    fprintf(stderr, "layout_bw: out of host memory\n");
    return 1;
  }
  memset(hsrc, 1, copy_n * sizeof(float));
  memset(hdst, 2, copy_n * sizeof(float));
  double host_best = 1e30, copy_best = 1e30, kbest[NL][NK], kbytes[NL][NK], bnf[NB], bnb[NB];
  /* the reference per row: memcpy of the same bytes (half read, half written), same round */
  double kref[NL][NK], bnfr[NB], bnbr[NB];
  long kcalls[NL][NK];
  memset(kcalls, 0, sizeof kcalls);
  for (int l = 0; l < NL; l++)
    for (int k = 0; k < NK; k++) kbest[l][k] = kref[l][k] = 1e30, kbytes[l][k] = 0;
  for (int b = 0; b < NB; b++) bnf[b] = bnb[b] = bnfr[b] = bnbr[b] = 1e30;
  clgan_view x = CLGAN_VIEW(buf[0], 0), y = CLGAN_VIEW(buf[1], 0), w = CLGAN_VIEW(buf[2], 0),
             dy = CLGAN_VIEW(buf[3], 0), dx = CLGAN_VIEW(buf[4], 0), dw = CLGAN_VIEW(buf[5], 0),
             wsv = CLGAN_VIEW(ws, 0);
  clgan_profile_entry *e = NULL;
  int ne = 0;
  /* round 0 warms up (kernel compiles, CLBlast's programs): not counted */
  for (int r = 0; r <= rounds; r++) {
    if (clgan_profile_start(ctx) || clgan_copy(ctx, copy_n, CLGAN_VIEW(cpa, 0), CLGAN_VIEW(cpb, 0)) ||
        clgan_profile_read(ctx, &e, &ne))
      return fail("copy");
    double t = kernel_time(e, ne, "copy", NULL);
    free(e);
    if (r && t > 0 && t < copy_best) copy_best = t;
    t = host_copy(hdst, hsrc, copy_n * sizeof(float));
    if (r && t < host_best) host_best = t;
    for (int l = 0; l < NL; l++) {
      const clgan_conv *c = &cv[l];
      if (clgan_profile_start(ctx) || clgan_conv_forward(ctx, c, x, w, CLGAN_NONE, y, wsv) ||
          clgan_conv_backward_data(ctx, c, dy, w, dx, wsv) ||
          clgan_conv_backward_weight(ctx, c, x, dy, dw, CLGAN_NONE, 0, wsv) ||
          clgan_profile_read(ctx, &e, &ne))
        return fail(layers[l].name);
      /* the image side of the im2col geometry is the conv's input, the transposed conv's
       * output; the column matrix has C_img * KH * KW rows and N * (small side) columns */
      int ti = c->transposed;
      size_t img = (size_t)batch * (ti ? c->c_out : c->c_in) * (ti ? c->h_out * c->w_out : c->h_in * c->w_in);
      size_t small = (size_t)batch * (ti ? c->h_in * c->w_in : c->h_out * c->w_out);
      size_t col = (size_t)(ti ? c->c_out : c->c_in) * c->kh * c->kw * small;
      for (int k = 0; k < NK; k++) {
        long calls = 0;
        double kt = kernel_time(e, ne, kinds[k], &calls);
        if (!calls) continue;
        /* forward, data gradient and weight gradient each make one whole pass of one kind
         * (conv: im2col, col2im, im2colT; transposed: col2im, im2col, im2colT), in one or
         * more launches (batch chunks) */
        kbytes[l][k] = 4.0 * (double)(img + col);
        kcalls[l][k] = calls;
        if (r && kt < kbest[l][k]) kbest[l][k] = kt;
        double ht = host_copy(hdst, hsrc, (size_t)(kbytes[l][k] / 2));
        if (r && ht < kref[l][k]) kref[l][k] = ht;
      }
      free(e);
    }
    for (int b = 0; b < NB; b++) {
      int C = bns[b][0], hw = bns[b][1] * bns[b][1];
      if (clgan_profile_start(ctx) ||
          clgan_batchnorm_forward_train(ctx, batch, C, hw, x, CLGAN_VIEW(stats[0], 0),
                                        CLGAN_VIEW(stats[1], 0), y, CLGAN_VIEW(stats[2], 0),
                                        CLGAN_VIEW(stats[3], 0), CLGAN_NONE, CLGAN_NONE, 0.1f,
                                        1e-5f) ||
          clgan_profile_read(ctx, &e, &ne))
        return fail("batch norm forward");
      double tf = kernel_time(e, ne, "bn_", NULL);
      free(e);
      if (clgan_profile_start(ctx) ||
          clgan_batchnorm_backward(ctx, batch, C, hw, x, dy, CLGAN_VIEW(stats[0], 0),
                                   CLGAN_VIEW(stats[2], 0), CLGAN_VIEW(stats[3], 0), dx,
                                   CLGAN_VIEW(stats[4], 0), CLGAN_VIEW(stats[5], 0), 0) ||
          clgan_profile_read(ctx, &e, &ne))
        return fail("batch norm backward");
      double tb = kernel_time(e, ne, "bn_", NULL);
      free(e);
      if (r && tf > 0 && tf < bnf[b]) bnf[b] = tf;
      if (r && tb > 0 && tb < bnb[b]) bnb[b] = tb;
      size_t nel = (size_t)batch * C * hw;
      double hf = host_copy(hdst, hsrc, 4 * nel), hb = host_copy(hdst, hsrc, 6 * nel);
      if (r && hf < bnfr[b]) bnfr[b] = hf;
      if (r && hb < bnbr[b]) bnbr[b] = hb;
    }
  }
  clgan_profile_stop(ctx);
  double dev_bw = 2.0 * 4.0 * (double)copy_n / copy_best;
  double copy_bw = 2.0 * 4.0 * (double)copy_n / host_best;
  printf("copy of %zu MiB (bytes read + written / time): host memcpy on 2 threads %.2f ms, "
         "%.2f GB/s (the reference below); clgan_copy kernel %.2f ms, %.2f GB/s\n\n",
         copy_n * 4 >> 20, host_best * 1e3, copy_bw * 1e-9, copy_best * 1e3, dev_bw * 1e-9);
  printf("x copy: the kernel's bytes/time over a memcpy's of the same bytes (same working set, so\n"
         "the same caches), measured in the same rounds; copy GB/s is that memcpy's\n\n");
  printf("%-28s %-12s %6s %9s %9s %8s %9s %7s\n", "layer", "kernel", "calls", "MB", "ms", "GB/s",
         "copy GB/s", "x copy");
  double sum_t[NK] = {0}, sum_b[NK] = {0}, sum_r[NK] = {0};
  for (int l = 0; l < NL; l++)
    for (int k = 0; k < NK; k++) {
      if (!kcalls[l][k] || kbest[l][k] >= 1e30) continue;
      double bw = kbytes[l][k] / kbest[l][k];
      printf("%-28s %-12s %6ld %9.1f %9.3f %8.2f %9.2f %6.2fx\n", layers[l].name, kinds[k],
             kcalls[l][k], kbytes[l][k] * 1e-6, kbest[l][k] * 1e3, bw * 1e-9,
             kbytes[l][k] / kref[l][k] * 1e-9, kref[l][k] / kbest[l][k]);
      sum_t[k] += kbest[l][k], sum_b[k] += kbytes[l][k], sum_r[k] += kref[l][k];
    }
  printf("\n");
  for (int k = 0; k < NK; k++)
    if (sum_t[k] > 0)
      printf("all layers, %-12s %9.1f MB %9.3f ms %8.2f GB/s, copies of the same bytes %.3f ms: "
             "%.2fx of the copy\n", kinds[k], sum_b[k] * 1e-6, sum_t[k] * 1e3,
             sum_b[k] / sum_t[k] * 1e-9, sum_r[k] * 1e3, sum_r[k] / sum_t[k]);
  printf("\n%-28s %9s %9s %8s %9s %7s\n", "batch norm", "MB", "ms", "GB/s", "copy GB/s",
         "x copy");
  double bft = 0, bbt = 0, bfr = 0, bbr = 0;
  for (int b = 0; b < NB; b++) {
    double n = (double)batch * bns[b][0] * bns[b][1] * bns[b][1];
    double fb = 4.0 * 2.0 * n, bb = 4.0 * 3.0 * n;
    char name[64];
    snprintf(name, sizeof name, "forward %dx%dx%d", bns[b][0], bns[b][1], bns[b][1]);
    printf("%-28s %9.1f %9.3f %8.2f %9.2f %6.2fx\n", name, fb * 1e-6, bnf[b] * 1e3,
           fb / bnf[b] * 1e-9, fb / bnfr[b] * 1e-9, bnfr[b] / bnf[b]);
    snprintf(name, sizeof name, "backward %dx%dx%d", bns[b][0], bns[b][1], bns[b][1]);
    printf("%-28s %9.1f %9.3f %8.2f %9.2f %6.2fx\n", name, bb * 1e-6, bnb[b] * 1e3,
           bb / bnb[b] * 1e-9, bb / bnbr[b] * 1e-9, bnbr[b] / bnb[b]);
    bft += bnf[b], bbt += bnb[b], bfr += bnfr[b], bbr += bnbr[b];
  }
  printf("all batch norms: forward %.3f ms (%.2fx of the copy), backward %.3f ms (%.2fx)\n",
         bft * 1e3, bfr / bft, bbt * 1e3, bbr / bbt);
  print_load("at end");
  for (int i = 0; i < 6; i++) clgan_buffer_release(&buf[i]), clgan_buffer_release(&stats[i]);
  clgan_buffer_release(&ws);
  clgan_buffer_release(&cpa);
  clgan_buffer_release(&cpb);
  free(hsrc), free(hdst);
  clgan_ctx_free(ctx);
  return 0;
}
