/* PNG reading and writing through libpng (in memory; writes go out atomically), and the
 * sample-grid writer. Tests: tests/io/test_png.c */
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"
#include "internal.h"

/* Whole files are read into memory first; no PNG we accept is bigger than this. */
#define PNG_MAX_FILE ((size_t)1 << 30)
/* Per-side limit: far above any image a GAN is trained on, far below libpng's 10^6. */
#define PNG_MAX_SIDE 32768
/* Decoded bytes allowed per byte of file: deflate cannot exceed ~1032:1, so a header that
 * promises more than this is lying, and is refused before the pixel buffer is allocated. */
#define PNG_MAX_RATIO 1040

/* libpng reports through these instead of printing: the library never prints. */
typedef struct png_io {
  const char *path;
  const uint8_t *data;      /* read: the file */
  size_t size, pos;
  uint8_t *out;             /* write: growing buffer */
  size_t out_len, out_cap;
  int out_failed;
  char msg[256];
} png_io;

static void png_io_error(png_structp png, png_const_charp msg) {
  png_io *io = png_get_error_ptr(png);
  snprintf(io->msg, sizeof io->msg, "%s", msg);
  png_longjmp(png, 1);
}

static void png_io_warning(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

static void png_io_read(png_structp png, png_bytep dst, size_t n) {
  png_io *io = png_get_io_ptr(png);
  if (n > io->size - io->pos) {
    /* png_error copies the text into io->msg through png_io_error */
    char m[96];
    snprintf(m, sizeof m, "file ends at byte %zu, %zu more bytes expected", io->size,
             n - (io->size - io->pos));
    io->pos = io->size;
    png_error(png, m);
  }
  memcpy(dst, io->data + io->pos, n);
  io->pos += n;
}

static void png_io_write(png_structp png, png_bytep src, size_t n) {
  png_io *io = png_get_io_ptr(png);
  if (n > io->out_cap - io->out_len) {
    size_t cap = io->out_cap ? io->out_cap : 4096;
    while (cap - io->out_len < n) cap *= 2;
    uint8_t *p = realloc(io->out, cap);
    if (!p) {
      io->out_failed = 1;
      png_error(png, "out of host memory");
    }
    io->out = p;
    io->out_cap = cap;
  }
  memcpy(io->out + io->out_len, src, n);
  io->out_len += n;
}

static void png_io_flush(png_structp png) { (void)png; }

/* Encodes into io->out. setjmp lives here and everything the error path needs lives in
 * the caller's frame, so no local is modified between setjmp and longjmp. */
static int png_encode(png_io *io, png_structp png, png_infop info, png_bytep *rows, int width,
                      int height, int color_type) {
  if (setjmp(png_jmpbuf(png))) return -1;
  png_set_write_fn(png, io, png_io_write, png_io_flush);
  png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, color_type,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_rows(png, info, rows);
  png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
  return 0;
}

clgan_status clgan_png_write(const char *path, const uint8_t *pixels, int width, int height,
                             int channels) {
  if (!path || !pixels || width <= 0 || height <= 0 || width > PNG_MAX_SIDE ||
      height > PNG_MAX_SIDE || !(channels == 1 || channels == 3 || channels == 4))
    return clgan_error(CLGAN_ERR_INVALID_ARG,
                       "writing PNG '%s': bad image %dx%d with %d channels (1, 3 or 4; sides "
                       "1..%d)", path ? path : "(null)", width, height, channels, PNG_MAX_SIDE);
  static const int color_type[5] = {0, PNG_COLOR_TYPE_GRAY, 0, PNG_COLOR_TYPE_RGB,
                                    PNG_COLOR_TYPE_RGB_ALPHA};
  png_bytep *rows = malloc((size_t)height * sizeof *rows);
  png_io io = {.path = path};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &io, png_io_error,
                                            png_io_warning);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!rows || !png || !info) {
    png_destroy_write_struct(&png, &info);
    free(rows);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory writing PNG '%s'", path);
  }
  for (int y = 0; y < height; y++)
    rows[y] = (png_bytep)(pixels + (size_t)y * (size_t)width * (size_t)channels);
  int rc = png_encode(&io, png, info, rows, width, height, color_type[channels]);
  png_destroy_write_struct(&png, &info);
  free(rows);
  if (rc != 0) {
    free(io.out);
    return clgan_error(io.out_failed ? CLGAN_ERR_NOMEM : CLGAN_ERR_INTERNAL,
                       "encoding PNG '%s' failed: %s", path, io.msg);
  }
  const void *parts[1] = {io.out};
  size_t sizes[1] = {io.out_len};
  clgan_status s = clgan_write_file_atomic(path, parts, sizes, 1);
  free(io.out);
  return s;
}

clgan_status clgan_grid_pixels(const char *path, const float *images, int n, int c, int h,
                               int w, int cols, int pad, int margin, uint8_t **out, int *gw_out,
                               int *gh_out, int *cols_out) {
  *out = NULL;
  if (!images || n <= 0 || !(c == 1 || c == 3) || h <= 0 || w <= 0 || pad < 0 || margin < 0)
    return clgan_error(CLGAN_ERR_INVALID_ARG,
                       "writing grid '%s': bad arguments (n %d, c %d, h %d, w %d, pad %d)",
                       path ? path : "(null)", n, c, h, w, pad);
  if (cols <= 0) {
    cols = 1;
    while (cols * cols < n) cols++;
  }
  if (cols > n) cols = n;
  int rows = (n + cols - 1) / cols;
  long long gw = (long long)cols * (w + pad) + pad + margin, gh = (long long)rows * (h + pad) + pad;
  if (gw > PNG_MAX_SIDE || gh > PNG_MAX_SIDE)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "writing grid '%s': %lldx%lld pixels is too big",
                       path ? path : "(null)", gw, gh);
  uint8_t *px = calloc((size_t)gw * (size_t)gh * (size_t)c, 1);
  if (!px) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory writing grid '%s'", path);
  for (int i = 0; i < n; i++) {
    int x0 = margin + pad + (i % cols) * (w + pad), y0 = pad + (i / cols) * (h + pad);
    const float *img = images + (size_t)i * (size_t)c * (size_t)h * (size_t)w;
    for (int ch = 0; ch < c; ch++)
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
          float v = img[((size_t)ch * (size_t)h + (size_t)y) * (size_t)w + (size_t)x];
          /* torchvision's rule: (v + 1) / 2 * 255 + 0.5, clamped, truncated */
          float u = (v + 1.0f) * 127.5f + 0.5f;
          uint8_t b = !(u > 0.0f) ? 0 : u >= 255.0f ? 255 : (uint8_t)u; /* NaN -> 0 */
          px[(((size_t)(y0 + y)) * (size_t)gw + (size_t)(x0 + x)) * (size_t)c + (size_t)ch] = b;
        }
  }
  *out = px;
  *gw_out = (int)gw;
  *gh_out = (int)gh;
  *cols_out = cols;
  return CLGAN_OK;
}

clgan_status clgan_png_write_grid(const char *path, const float *images, int n, int c, int h,
                                  int w, int cols, int pad) {
  uint8_t *px = NULL;
  int gw = 0, gh = 0;
  clgan_status s = clgan_grid_pixels(path, images, n, c, h, w, cols, pad, 0, &px, &gw, &gh,
                                     &cols);
  if (s) return s;
  s = clgan_png_write(path, px, gw, gh, c);
  free(px);
  return s;
}

/* Decodes a PNG already in memory. Locals changed after setjmp are kept in `st`, which
 * lives in the caller's frame, so the error path sees their current values. */
typedef struct png_read_state {
  png_structp png;
  png_infop info;
  uint8_t *pixels;
  png_bytep *rows;
} png_read_state;

static clgan_status png_decode(png_io *io, png_read_state *st, int *width, int *height,
                               int *channels) {
  if (io->size < 8 || png_sig_cmp(io->data, 0, 8) != 0)
    return clgan_error(CLGAN_ERR_FORMAT, "'%s' is not a PNG file (no PNG signature at byte 0)",
                       io->path);
  st->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, io, png_io_error, png_io_warning);
  st->info = st->png ? png_create_info_struct(st->png) : NULL;
  if (!st->png || !st->info)
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory reading PNG '%s'", io->path);
  if (setjmp(png_jmpbuf(st->png)))
    return clgan_error(CLGAN_ERR_FORMAT, "'%s' is a corrupt PNG: %s (near byte %zu)", io->path,
                       io->msg, io->pos);
  png_set_read_fn(st->png, io, png_io_read);
  png_set_user_limits(st->png, PNG_MAX_SIDE, PNG_MAX_SIDE);
  png_read_info(st->png, st->info);
  png_uint_32 w = png_get_image_width(st->png, st->info);
  png_uint_32 h = png_get_image_height(st->png, st->info);
  int depth = png_get_bit_depth(st->png, st->info);
  int ctype = png_get_color_type(st->png, st->info);
  if (ctype == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(st->png);
  if (ctype == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(st->png);
  if (png_get_valid(st->png, st->info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(st->png);
  /* scale (v * 255 / 65535, rounded) rather than strip (v >> 8) */
  if (depth == 16) png_set_scale_16(st->png);
  png_set_interlace_handling(st->png);
  png_read_update_info(st->png, st->info);
  int ch = png_get_channels(st->png, st->info);
  size_t rowbytes = png_get_rowbytes(st->png, st->info);
  if (ch < 1 || ch > 4 || rowbytes != (size_t)w * (size_t)ch)
    return clgan_error(CLGAN_ERR_FORMAT, "'%s': unsupported PNG layout (%d channels, %zu bytes "
                       "per row for width %u)", io->path, ch, rowbytes, (unsigned)w);
  size_t need = rowbytes * h;
  if (need / PNG_MAX_RATIO > io->size)
    return clgan_error(CLGAN_ERR_FORMAT, "'%s': header claims %ux%u pixels, impossible for a "
                       "%zu-byte file (byte 16)", io->path, (unsigned)w, (unsigned)h, io->size);
  st->pixels = malloc(need ? need : 1);
  st->rows = malloc((size_t)h * sizeof *st->rows);
  if (!st->pixels || !st->rows)
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory reading PNG '%s' (%ux%u)",
                       io->path, (unsigned)w, (unsigned)h);
  for (png_uint_32 y = 0; y < h; y++) st->rows[y] = st->pixels + (size_t)y * rowbytes;
  png_read_image(st->png, st->rows);
  *width = (int)w;
  *height = (int)h;
  *channels = ch;
  return CLGAN_OK;
}

clgan_status clgan_png_read(const char *path, uint8_t **pixels, int *width, int *height,
                            int *channels) {
  *pixels = NULL;
  *width = *height = *channels = 0;
  void *data = NULL;
  size_t size = 0;
  clgan_status s = clgan_read_file(path, PNG_MAX_FILE, &data, &size);
  if (s != CLGAN_OK) return s;
  png_io io = {.path = path, .data = data, .size = size};
  png_read_state st = {0};
  s = png_decode(&io, &st, width, height, channels);
  png_destroy_read_struct(&st.png, &st.info, NULL);
  free(st.rows);
  free(data);
  if (s != CLGAN_OK) {
    free(st.pixels);
    *width = *height = *channels = 0;
    return s;
  }
  *pixels = st.pixels;
  return CLGAN_OK;
}
