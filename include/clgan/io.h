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

/* ---- datasets (src/io/io_dataset.c) ---- */

/* Debian's dataset-fashion-mnist training images, the default data. */
#define CLGAN_DEFAULT_DATA "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

/* Most classes a dataset may have (PNG class folders; IDX labels are bytes, so <= 256). */
#define CLGAN_MAX_CLASSES 65536
/* Bytes of a class name with its NUL; longer folder names are cut (at a UTF-8 boundary). */
#define CLGAN_CLASS_NAME_MAX 64

/* Images as 8-bit pixels, already converted to the model's shape. */
typedef struct clgan_dataset {
  int count;                /* number of images */
  int channels, height, width;
  uint8_t *pixels;          /* (count, channels, height, width), 0..255 */
  int32_t *labels;          /* (count) or NULL when the source has none */
  char source[1024];        /* what was loaded, for logs */
  int classes;              /* with labels: the number of classes (labels are 0..classes-1);
                               else 0 */
  char (*class_names)[CLGAN_CLASS_NAME_MAX]; /* (classes) names, or NULL without labels */
  int source_c, source_h, source_w; /* the images' own shape in the files, before conversion
                                       (PNG folders: the first file's size; channels as
                                       stored, 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA): lets
                                       `clgan eval` refuse data of another shape than its
                                       classifier's instead of resampling it */
} clgan_dataset;

/* Loads `path`: NULL or "" = CLGAN_DEFAULT_DATA; an IDX image file (idx3, ubyte), gzipped
 * or not, with labels read from the matching *-labels-idx1-ubyte[.gz] when present; or a
 * folder of PNG files (grey, grey+alpha, RGB, RGBA, palette, 8 or 16 bit), all of one size.
 * - Labels: "<x>-images-idx3-ubyte[.gz]" (or "images.idx3-ubyte") pairs with
 *   "<x>-labels-idx1-ubyte", gzipped or not. No such file: labels = NULL, no error. A label
 *   file that is bad or whose count differs from the images': CLGAN_ERR_FORMAT naming both.
 * - Classes: with labels, classes = the largest label kept + 1 (at least 10 for a path
 *   containing "fashion-mnist", whose ten class names are used: T-shirt/top, Trouser,
 *   Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot); other IDX classes are
 *   named by their number ("0", "1", ...).
 * - PNG folders: every *.png (any case; dot files skipped), sorted by name (strcmp), other
 *   files ignored. A file of another width/height than the first: CLGAN_ERR_FORMAT naming
 *   it. Grey and colour files may be mixed.
 * - PNG class folders: a folder with no *.png of its own whose subfolders (dot folders
 *   skipped) hold them is a labelled dataset: each subfolder is a class, classes sorted by
 *   folder name (strcmp), the folder name is the class name, and the label of an image is
 *   its subfolder's index. Images are taken round-robin over the classes (the first of
 *   each class, then the second of each, ...; a class that runs out drops out), so
 *   max_images keeps a balanced slice. All images of all classes must have one size.
 *   A subfolder without .png files: CLGAN_ERR_FORMAT naming it; more than
 *   CLGAN_MAX_CLASSES subfolders: CLGAN_ERR_FORMAT. A folder that has .png files of its own
 *   is read flat as before (unlabelled, subfolders ignored), even beside class folders.
 *   No .png in the folder nor in any subfolder: CLGAN_ERR_FORMAT.
 * - Channels (model's channels must be 1 or 3): alpha is composited on black (v * a / 255);
 *   grey -> RGB replicates; RGB -> grey is BT.601 luma 0.299 R + 0.587 G + 0.114 B.
 * - Size: when the image differs from the model's height x width, each axis is resampled
 *   on its own: area averaging when it shrinks (each output pixel is the mean of the input
 *   area it covers, fractional edges weighted), bilinear interpolation with half-pixel
 *   centres and clamped edges when it grows (OpenCV's INTER_AREA / INTER_LINEAR). The
 *   aspect ratio is not kept: a 32x64 image for a 28x28 model is squeezed, not cropped.
 *   Results are rounded to the nearest 8-bit value.
 * Bad input -> CLGAN_ERR_IO (cannot open) / CLGAN_ERR_FORMAT naming the file, and for IDX
 * the byte offset (in the decompressed stream for .gz). IDX sizes are checked against the
 * file length before allocating; for gzip the buffer grows (doubling, from at most 16 MB)
 * only as data actually arrives, so a lying header costs at most 16 MB or twice the real
 * data. Extra bytes after what the header promises are an error. max_images > 0 keeps the
 * first max_images images (and labels). On error *out is left empty (nothing to free). */
clgan_status clgan_dataset_load(const char *path, int channels, int height, int width,
                                int max_images, clgan_dataset *out);
void clgan_dataset_free(clgan_dataset *ds);
/* The *.png names of a flat PNG folder in the order clgan_dataset_load reads them (sorted
 * by strcmp, dot files skipped); names and each name are malloc'd (free both). */
clgan_status clgan_png_folder_names(const char *dir, char ***names, int *count);

/* The display name of class k of a dataset: its class name, or the number when the
 * dataset has none for k (written into buf, which is returned). */
const char *clgan_dataset_class_name(const clgan_dataset *ds, int k, char *buf, size_t cap);

/* Copies images idx[0..n) as floats scaled to [-1, 1] into out (n, C, H, W). */
void clgan_dataset_batch(const clgan_dataset *ds, const int *idx, int n, float *out);

/* ---- files (src/core/fileutil.c) ---- */

/* mkdir -p: creates `path` and its missing parents (mode 0755); existing ones are fine. */
clgan_status clgan_mkdirs(const char *path);

/* ---- PNG (src/io/io_png.c, libpng) ---- */

/* Writes an 8-bit grey (channels 1), RGB (3) or RGBA (4) PNG atomically (temp + rename),
 * rows top to bottom, interleaved channels. */
clgan_status clgan_png_write(const char *path, const uint8_t *pixels, int width, int height,
                             int channels);
/* Writes n images (n, C, H, W) with values in [-1, 1] as a grid of `cols` columns with
 * `pad` pixels of padding, atomically. C is 1 (grey) or 3 (RGB). As torchvision's
 * make_grid + save_image: image i sits at x = pad + (i % cols) * (w + pad),
 * y = pad + (i / cols) * (h + pad) on a black background of cols * (w + pad) + pad by
 * rows * (h + pad) + pad pixels; a value v becomes floor((v + 1) * 127.5 + 0.5) clamped to
 * 0..255 (NaN -> 0). cols <= 0 picks ceil(sqrt(n)); cols > n is reduced to n. */
clgan_status clgan_png_write_grid(const char *path, const float *images, int n, int c, int h,
                                  int w, int cols, int pad);
/* The same grid with a black margin on the left holding row r's label text
 * row_labels[r] (r < nlabels; NULL or "" draws nothing), white (grey for c = 1), centred
 * on the row, drawn with cairo. The grid itself is clgan_png_write_grid's pixels shifted
 * right by the margin, whose width is clgan_grid_label_margin(...). Labels longer than
 * the margin's cap (240 pixels of text) are clipped. Atomic. */
clgan_status clgan_png_write_grid_labeled(const char *path, const float *images, int n, int c,
                                          int h, int w, int cols, int pad,
                                          const char *const *row_labels, int nlabels);
/* Width in pixels of the label margin that clgan_png_write_grid_labeled adds for these
 * labels and row height h. */
int clgan_grid_label_margin(const char *const *row_labels, int nlabels, int h, int pad);
/* Reads a PNG into 8-bit interleaved pixels (grey, grey+alpha, RGB or RGBA as stored,
 * palette expanded to RGB, a tRNS chunk turned into an alpha channel, 1/2/4-bit grey
 * expanded, 16-bit scaled as round(v * 255 / 65535)); *pixels is malloc'd. Sides are
 * limited to 32768, and a header whose pixel count no deflate stream of the file's size
 * could hold is refused before allocating. Corrupt or truncated -> CLGAN_ERR_FORMAT
 * naming the file, libpng's reason and the byte offset reached. */
clgan_status clgan_png_read(const char *path, uint8_t **pixels, int *width, int *height,
                            int *channels);

/* ---- plots (src/io/io_plot.c, cairo drawing, libpng writing) ---- */

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

/* Writes a PNG of panels stacked vertically, sharing the x axis (x values, npoints; x NULL
 * = 0, 1, ...), each with axes, ticks, labels and a legend (series with a NULL label are
 * left out of it), atomically. The image is CLGAN_PLOT_WIDTH wide and
 * npanels * CLGAN_PLOT_PANEL_HEIGHT + CLGAN_PLOT_XAXIS_HEIGHT high; 1..16 panels.
 * Non-finite points (x or y) break a line; a lone point is drawn as a dot. npoints 0, an
 * all-NaN series or a constant one give a valid plot. */
#define CLGAN_PLOT_WIDTH 960
#define CLGAN_PLOT_PANEL_HEIGHT 300
#define CLGAN_PLOT_XAXIS_HEIGHT 56
clgan_status clgan_plot_write(const char *path, const char *xlabel, const float *x,
                              int npoints, const clgan_plot_panel *panels, int npanels);

/* ---- safetensors (src/io/io_safetensors.c, json-c) ---- */

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
 * SHA-256 of the data section, checked on load. Data is laid out as the reference
 * implementation does (8-byte dtypes first, then by name) after a header padded with
 * spaces to 8 bytes, so every tensor is aligned to its element size. Names must be unique,
 * 1..159 bytes; nbytes must equal the shape's product times the dtype size; a metadata key
 * "clgan_sha256" or a repeated one is CLGAN_ERR_INVALID_ARG. Little-endian hosts only. */
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

/* Reads and validates a safetensors file: header length (at most 100 MB, inside the
 * file), header JSON (an object, nothing but whitespace after it), dtypes (F32 and I64;
 * others are refused by name), shapes (<= 8 dims) against byte ranges, ranges that tile
 * the data section exactly (no overlap, no gap, no trailing bytes), and the clgan_sha256
 * integrity hash when present (files from other writers have none and are accepted).
 * Any problem -> CLGAN_ERR_FORMAT with the reason; a missing file -> CLGAN_ERR_IO.
 * Tensor data points into f->data, whose data section starts 8-byte aligned; a tensor is
 * aligned to its element size when its offset is (always so in files clgan writes).
 * Metadata includes clgan_sha256. On error *out is left empty (nothing to free). */
clgan_status clgan_safetensors_read(const char *path, clgan_st_file *out);
const clgan_st_tensor *clgan_safetensors_find(const clgan_st_file *f, const char *name);
const char *clgan_safetensors_meta(const clgan_st_file *f, const char *key); /* NULL if absent */
void clgan_safetensors_free(clgan_st_file *f);

#ifdef __cplusplus
}
#endif
#endif
