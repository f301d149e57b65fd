/* Tiled inference with linear-ramp blending of the overlaps (include/clgan/tile.h).
 * Tests: tests/io/test_tile.c */
#include <stdlib.h>
#include <string.h>

#include "clgan/tile.h"

static int mirror_idx(int i, int n) {
  for (;;) {
    if (i < 0) i = -i - 1;
    else if (i >= n) i = 2 * n - 1 - i;
    else return i;
  }
}

/* Tile starts along one axis of n pixels; returns their count (starts malloc'd). */
static int tile_starts(int n, int tile, int stride, int **starts) {
  int count = n <= tile ? 1 : (n - tile + stride - 1) / stride + 1;
  *starts = malloc((size_t)count * sizeof **starts);
  if (!*starts) return -1;
  for (int i = 0; i < count; i++) {
    int s = i * stride;
    if (s + tile > n) s = n > tile ? n - tile : 0;
    (*starts)[i] = s;
  }
  return count;
}

static float ramp(int d, int inner, int L, int m) {
  if (!inner || L == 0) return 1.0f;
  float r = ((float)d + 0.5f - (float)m) / (float)(L - 2 * m);
  return r < 0 ? 0.0f : r > 1 ? 1.0f : r;
}

typedef struct tile_pos {
  int y0, x0;               /* input top-left */
  int top, bottom, left, right; /* edges that are inner (not on the image's border) */
} tile_pos;

clgan_status clgan_tiled_apply(clgan_tile_fn fn, void *user, const clgan_tile_opts *o,
                               const float *in, int h, int w, float *out) {
  if (!fn || !o || !in || !out || h < 1 || w < 1 || o->tile < 1 || o->overlap < 0 ||
      o->overlap >= o->tile || o->scale < 1 || o->batch < 1 || o->c_in < 1 || o->c_out < 1)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "tiled inference: bad options (image %dx%d, tile "
                       "%d, overlap %d, scale %d, batch %d)", w, h, o ? o->tile : 0,
                       o ? o->overlap : 0, o ? o->scale : 0, o ? o->batch : 0);
  const int t = o->tile, s = o->scale, ts = t * s, L = o->overlap * s, m = L / 4;
  const int oh = h * s, ow = w * s;
  const size_t tin = (size_t)o->c_in * (size_t)t * (size_t)t;
  const size_t tout = (size_t)o->c_out * (size_t)ts * (size_t)ts;
  int *ys = NULL, *xs = NULL;
  int ny = tile_starts(h, t, t - o->overlap, &ys), nx = tile_starts(w, t, t - o->overlap, &xs);
  float *bin = malloc((size_t)o->batch * tin * sizeof *bin);
  float *bout = malloc((size_t)o->batch * tout * sizeof *bout);
  float *wsum = calloc((size_t)oh * (size_t)ow, sizeof *wsum);
  float *wr = malloc((size_t)ts * sizeof *wr), *wc = malloc((size_t)ts * sizeof *wc);
  tile_pos *pos = malloc((size_t)o->batch * sizeof *pos);
  clgan_status st = CLGAN_OK;
  if (ny < 0 || nx < 0 || !bin || !bout || !wsum || !wr || !wc || !pos) {
    st = clgan_error(CLGAN_ERR_NOMEM, "tiled inference: out of host memory (%dx%d output)", ow,
                     oh);
    goto done;
  }
  memset(out, 0, (size_t)o->c_out * (size_t)oh * (size_t)ow * sizeof *out);
  int total = ny * nx;
  for (int first = 0; first < total; first += o->batch) {
    int n = total - first < o->batch ? total - first : o->batch;
    for (int b = 0; b < n; b++) {
      int ty = (first + b) / nx, tx = (first + b) % nx;
      tile_pos *p = &pos[b];
      p->y0 = ys[ty];
      p->x0 = xs[tx];
      p->top = p->y0 > 0;
      p->left = p->x0 > 0;
      p->bottom = p->y0 + t < h;
      p->right = p->x0 + t < w;
      float *dst = bin + (size_t)b * tin;
      for (int c = 0; c < o->c_in; c++)
        for (int y = 0; y < t; y++) {
          const float *row = in + ((size_t)c * (size_t)h + (size_t)mirror_idx(p->y0 + y, h)) * (size_t)w;
          for (int x = 0; x < t; x++)
            dst[((size_t)c * (size_t)t + (size_t)y) * (size_t)t + (size_t)x] = row[mirror_idx(p->x0 + x, w)];
        }
    }
    st = fn(user, n, bin, bout);
    if (st) goto done;
    for (int b = 0; b < n; b++) {
      const tile_pos *p = &pos[b];
      for (int i = 0; i < ts; i++) {
        wr[i] = ramp(i, p->top, L, m) * ramp(ts - 1 - i, p->bottom, L, m);
        wc[i] = ramp(i, p->left, L, m) * ramp(ts - 1 - i, p->right, L, m);
      }
      const float *src = bout + (size_t)b * tout;
      int ylim = oh - p->y0 * s < ts ? oh - p->y0 * s : ts;
      int xlim = ow - p->x0 * s < ts ? ow - p->x0 * s : ts;
      for (int y = 0; y < ylim; y++)
        for (int x = 0; x < xlim; x++) {
          float wv = wr[y] * wc[x];
          if (wv == 0) continue;
          size_t q = (size_t)(p->y0 * s + y) * (size_t)ow + (size_t)(p->x0 * s + x);
          wsum[q] += wv;
          for (int c = 0; c < o->c_out; c++)
            out[(size_t)c * (size_t)oh * (size_t)ow + q] +=
                wv * src[((size_t)c * (size_t)ts + (size_t)y) * (size_t)ts + (size_t)x];
        }
    }
  }
  for (size_t q = 0; q < (size_t)oh * (size_t)ow; q++)
    for (int c = 0; c < o->c_out; c++) out[(size_t)c * (size_t)oh * (size_t)ow + q] /= wsum[q];
done:
  free(ys);
  free(xs);
  free(bin);
  free(bout);
  free(wsum);
  free(wr);
  free(wc);
  free(pos);
  return st;
}
