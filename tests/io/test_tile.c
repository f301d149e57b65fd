/* Tests of src/nets/tile.c: tiled inference equals untiled inference for translation-
 * equivariant host networks (x1 and x2, sizes not multiples of the tile, images smaller than
 * a tile, partial batches), and without overlap the seams show (the test can fail). Host. */
#include "clgan/tile.h"
#include "test_util.h"

/* A host "network": two 3x3 convolutions (zero padding) with tanh, then nearest upsampling
 * by `scale`: receptive radius 2 input pixels, translation-equivariant away from borders. */
typedef struct host_net {
  int scale, c_in, c_out, calls;
} host_net;

static void conv3(const float *in, int c_in, int h, int w, int c_out, float *out, int salt) {
  for (int o = 0; o < c_out; o++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        double acc = 0.01 * o;
        for (int c = 0; c < c_in; c++)
          for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
              int yy = y + dy, xx = x + dx;
              if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
              double wt = sin(1.0 + o * 7 + c * 3 + (dy + 1) * 3 + dx + salt) * 0.4;
              acc += wt * in[((size_t)c * h + yy) * w + xx];
            }
        out[((size_t)o * h + y) * w + x] = (float)tanh(acc);
      }
}

static void net_run(const host_net *n, const float *in, int h, int w, float *out) {
  float *mid = tu_alloc((size_t)4 * h * w), *o2 = tu_alloc((size_t)n->c_out * h * w);
  conv3(in, n->c_in, h, w, 4, mid, 0);
  conv3(mid, 4, h, w, n->c_out, o2, 5);
  int s = n->scale;
  for (int c = 0; c < n->c_out; c++)
    for (int y = 0; y < h * s; y++)
      for (int x = 0; x < w * s; x++)
        out[((size_t)c * h * s + y) * w * s + x] = o2[((size_t)c * h + y / s) * w + x / s];
  free(mid);
  free(o2);
}

static int tile_side;
static clgan_status tile_cb(void *user, int n, const float *in, float *out) {
  host_net *net = user;
  net->calls++;
  size_t tin = (size_t)net->c_in * tile_side * tile_side;
  size_t tout = (size_t)net->c_out * tile_side * tile_side * net->scale * net->scale;
  for (int i = 0; i < n; i++) net_run(net, in + i * tin, tile_side, tile_side, out + i * tout);
  return CLGAN_OK;
}

static double max_diff(const float *a, const float *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
  return m;
}

/* tiled vs untiled; returns the largest difference */
static double run_case(int h, int w, int tile, int overlap, int scale, int batch, int *calls) {
  host_net net = {scale, 3, 3, 0};
  size_t nin = (size_t)3 * h * w, nout = nin * scale * scale;
  float *in = tu_alloc(nin), *whole = tu_alloc(nout), *tiled = tu_alloc(nout);
  for (size_t i = 0; i < nin; i++) in[i] = (float)sin(0.37 * i) * 0.9f;
  net_run(&net, in, h, w, whole);
  tile_side = tile;
  clgan_tile_opts o = {.tile = tile, .overlap = overlap, .scale = scale, .batch = batch,
                       .c_in = 3, .c_out = 3};
  CHECK_OK(clgan_tiled_apply(tile_cb, &net, &o, in, h, w, tiled));
  double d = max_diff(whole, tiled, nout);
  *calls = net.calls;
  free(in), free(whole), free(tiled);
  return d;
}

int main(void) {
  int calls = 0;
  /* radius 2 input pixels: overlap 8 gives m = 2 scale output pixels ignored at inner edges */
  double d = run_case(37, 53, 16, 8, 1, 3, &calls);
  CHECK(d < 1e-5, "x1, 37x53 in 16-tiles: tiled differs from untiled by %g", d);
  /* 37x53 with stride 8: 4 x 6 tile positions, in batches of 3 -> 8 calls */
  CHECK(calls == 8, "%d callback calls, want 8", calls);
  d = run_case(37, 53, 16, 8, 2, 4, &calls);
  CHECK(d < 1e-5, "x2: tiled differs from untiled by %g", d);
  d = run_case(21, 29, 12, 8, 4, 1, &calls);
  CHECK(d < 1e-5, "x4: tiled differs from untiled by %g", d);
  /* smaller than a tile along one or both axes: mirrored padding cut off again. Padding
   * changes what the border pixels see, so only the interior must match. */
  {
    host_net net = {2, 3, 3, 0};
    int h = 7, w = 30, tile = 16;
    float *in = tu_alloc((size_t)3 * h * w), *a = tu_alloc((size_t)12 * h * w),
          *b = tu_alloc((size_t)12 * h * w);
    for (int i = 0; i < 3 * h * w; i++) in[i] = (float)cos(0.21 * i);
    net_run(&net, in, h, w, a);
    tile_side = tile;
    clgan_tile_opts o = {tile, 8, 2, 2, 3, 3};
    CHECK_OK(clgan_tiled_apply(tile_cb, &net, &o, in, h, w, b));
    double worst = 0;
    for (int c = 0; c < 3; c++)
      for (int y = 4; y < 2 * h - 4; y++) /* 2 input pixels (radius) from the top and bottom */
        for (int x = 0; x < 2 * w; x++) {
          size_t q = ((size_t)c * 2 * h + y) * 2 * w + x;
          worst = fmax(worst, fabs(a[q] - b[q]));
        }
    CHECK(worst < 1e-5, "7x30 (shorter than the tile): interior differs by %g", worst);
    free(in), free(a), free(b);
  }
  /* negative control: abutting tiles with zero padding show seams */
  d = run_case(37, 53, 16, 0, 1, 3, &calls);
  CHECK(d > 1e-3, "without overlap the seams should show, max difference %g", d);
  /* bad options */
  host_net net = {1, 3, 3, 0};
  float x[3];
  clgan_tile_opts bad = {4, 4, 1, 1, 3, 3};
  CHECK(clgan_tiled_apply(tile_cb, &net, &bad, x, 1, 1, x) == CLGAN_ERR_INVALID_ARG,
        "overlap == tile accepted");
  return tu_finish("io_tile");
}
