/* Tiled inference: runs a fixed-size, fully-convolutional image-to-image network over an
 * image of any size in overlapping tiles and blends the overlaps so no seams show.
 * Host-side driver (the network runs wherever the callback puts it).
 * Tests: tests/io/test_tile.c (host nets), tests/train/test_sr_cli.sh (clgan upscale) */
#ifndef CLGAN_TILE_H
#define CLGAN_TILE_H

#include "clgan/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Runs the network on n <= batch tiles: in (n, c_in, tile, tile) -> out
 * (n, c_out, tile * scale, tile * scale). Float planes, whatever range the caller uses. */
typedef clgan_status (*clgan_tile_fn)(void *user, int n, const float *in, float *out);

typedef struct clgan_tile_opts {
  int tile;                 /* input tile side (the network's input H = W) */
  int overlap;              /* input pixels shared by neighbouring tiles, 0 <= overlap < tile;
                               must cover 2x the network's receptive radius for exactness */
  int scale;                /* output pixels per input pixel (1 pix2pix, 2 or 4 SR) */
  int batch;                /* tiles per callback, >= 1 */
  int c_in, c_out;          /* channels */
} clgan_tile_opts;

/* out (c_out, h * scale, w * scale) = the network applied to in (c_in, h, w), any h, w >= 1.
 * - Tiles: top-left corners at 0, stride, 2 stride, ... (stride = tile - overlap) along each
 *   axis, the last one moved back to end at the image's edge (so it may overlap more). An
 *   image smaller than a tile is padded by mirroring (edge repeated) up to the tile, and the
 *   padding's output is cut off.
 * - Blending: each tile's output pixel has the weight ramp(dl) ramp(dr) ramp(dt) ramp(db)
 *   over its distances d (in output pixels, 0 at the edge pixel) to its four edges, where an
 *   edge on the image's border has ramp = 1 and an inner edge has
 *   ramp(d) = clamp((d + 0.5 - m) / (L - 2 m), 0, 1), L = overlap * scale, m = floor(L / 4):
 *   the m outermost pixels (the ones a padded convolution gets wrong) count for nothing, then
 *   the weight rises linearly. Overlapping outputs are averaged with these weights, so where
 *   tiles agree (away from their edges, any translation-equivariant network) the result is
 *   the untiled one up to rounding. overlap 0: plain abutting tiles (seams possible).
 * Bad options: CLGAN_ERR_INVALID_ARG. The callback's failures are passed on. */
clgan_status clgan_tiled_apply(clgan_tile_fn fn, void *user, const clgan_tile_opts *o,
                               const float *in, int h, int w, float *out);

#ifdef __cplusplus
}
#endif
#endif
