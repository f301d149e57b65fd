/* Files in and out: datasets (IDX, gzipped IDX, PNG folders), PNG images and sample grids,
 * plots, and safetensors files. Host-only: nothing here touches OpenCL.
 * Tests: tests/io/ */
#ifndef CLGAN_IO_H
#define CLGAN_IO_H

#include <stddef.h>
#include <stdint.h>

#include "clgan/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- datasets (src/io_dataset.c) ---- */

/* Debian's dataset-fashion-mnist training images, the default data. */
#define CLGAN_DEFAULT_DATA "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

/* Images as 8-bit pixels, already converted to the model's shape. */
typedef struct clgan_dataset {
  int count;                /* number of images */
  int channels, height, width;
  uint8_t *pixels;          /* (count, channels, height, width), 0..255 */
  int32_t *labels;          /* (count) or NULL when the source has none */
  char source[1024];        /* what was loaded, for logs */
} clgan_dataset;

/* Loads `path`: NULL or "" = CLGAN_DEFAULT_DATA; an IDX image file (idx3, ubyte), gzipped
 * or not, with labels read from the matching *-labels-idx1-ubyte[.gz] when present; or a
 * folder of PNG files (grey, grey+alpha, RGB, RGBA, palette, 8 or 16 bit), all of one size.
 * Images are converted to (channels, height, width): grey <-> RGB by replication or
 * luminance, alpha dropped (composited on black), and resized with area averaging /
 * bilinear interpolation when the size differs. Bad input -> CLGAN_ERR_IO/FORMAT naming
 * the file (and the byte offset for IDX). Sizes in headers are validated against the file
 * length before any large allocation. max_images > 0 caps how many are kept. */
clgan_status clgan_dataset_load(const char *path, int channels, int height, int width,
                                int max_images, clgan_dataset *out);
void clgan_dataset_free(clgan_dataset *ds);

/* Copies images idx[0..n) as floats scaled to [-1, 1] into out (n, C, H, W). */
void clgan_dataset_batch(const clgan_dataset *ds, const int *idx, int n, float *out);

/* ---- PNG (src/io_png.c, libpng) ---- */

/* Writes an 8-bit grey (channels 1), RGB (3) or RGBA (4) PNG atomically (temp + rename),
 * rows top to bottom, interleaved channels. */
clgan_status clgan_png_write(const char *path, const uint8_t *pixels, int width, int height,
                             int channels);
/* Writes n images (n, C, H, W) with values in [-1, 1] as a grid of `cols` columns with
 * `pad` pixels of padding, atomically. C is 1 (grey) or 3 (RGB). */
clgan_status clgan_png_write_grid(const char *path, const float *images, int n, int c, int h,
                                  int w, int cols, int pad);
/* Reads a PNG into 8-bit interleaved pixels (grey, grey+alpha, RGB or RGBA as stored,
 * palette expanded, 16-bit reduced); *pixels is malloc'd. */
clgan_status clgan_png_read(const char *path, uint8_t **pixels, int *width, int *height,
                            int *channels);

/* ---- plots (src/io_plot.c, cairo drawing, libpng writing) ---- */

typedef struct clgan_plot_series {
  const char *label;
  const float *y;           /* npoints values; NaN points are skipped */
} clgan_plot_series;

typedef struct clgan_plot_panel {
  const char *title;
  const char *ylabel;
  const clgan_plot_series *series;
  int nseries;
} clgan_plot_panel;

/* Writes a PNG of panels stacked vertically, sharing the x axis (x values, npoints),
 * each with axes, ticks, labels and a legend, atomically. */
clgan_status clgan_plot_write(const char *path, const char *xlabel, const float *x,
                              int npoints, const clgan_plot_panel *panels, int npanels);

/* ---- safetensors (src/io_safetensors.c, json-c) ---- */

typedef enum { CLGAN_DTYPE_F32 = 0, CLGAN_DTYPE_I64 = 1 } clgan_dtype;

typedef struct clgan_st_tensor {
  char name[160];
  clgan_dtype dtype;
  int ndim;
  int64_t shape[8];
  const void *data;         /* write: the values; read: points into the loaded file */
  size_t nbytes;
} clgan_st_tensor;

/* Writes tensors and string metadata (keys[i] -> values[i]) as a safetensors file,
 * atomically (temp file, fsync, rename). Adds "clgan_sha256" to the metadata: the
 * SHA-256 of the data section, checked on load. */
clgan_status clgan_safetensors_write(const char *path, const clgan_st_tensor *tensors, int n,
                                     const char *const *keys, const char *const *values,
                                     int nmeta);

typedef struct clgan_st_file {
  void *data;               /* the whole file */
  size_t size;
  clgan_st_tensor *tensors; /* parsed header, data pointing into `data` */
  int count;
  char **meta_keys, **meta_values;
  int meta_count;
} clgan_st_file;

/* Reads and validates a safetensors file: header JSON, dtypes, shapes against byte
 * ranges, ranges inside the file and not overlapping, and the clgan_sha256 integrity hash
 * when present. Any problem -> CLGAN_ERR_FORMAT with the reason. */
clgan_status clgan_safetensors_read(const char *path, clgan_st_file *out);
const clgan_st_tensor *clgan_safetensors_find(const clgan_st_file *f, const char *name);
const char *clgan_safetensors_meta(const clgan_st_file *f, const char *key); /* NULL if absent */
void clgan_safetensors_free(clgan_st_file *f);

#ifdef __cplusplus
}
#endif
#endif
