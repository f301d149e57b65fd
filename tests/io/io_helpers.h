/* Helpers for the io tests: a scratch directory removed at exit, raw and gzipped file
 * writers, a libpng writer for any colour type / bit depth, and message checks. */
#ifndef CLGAN_IO_HELPERS_H
#define CLGAN_IO_HELPERS_H

#include <dirent.h>
#include <png.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "test_util.h"

static char io_tmp[256];

static inline void io_rm_tree(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char p[4096];
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) continue;
    struct stat st;
    if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
      io_rm_tree(p);
    else
      unlink(p);
  }
  closedir(d);
  rmdir(dir);
}

static inline void io_cleanup(void) {
  if (io_tmp[0]) io_rm_tree(io_tmp);
}

/* Creates the scratch directory once; returns "<tmp>/<name>" in a rotating buffer. */
static inline const char *io_path(const char *name) {
  static char bufs[8][1024];
  static int next = 0;
  if (!io_tmp[0]) {
    const char *base = getenv("TMPDIR");
    snprintf(io_tmp, sizeof io_tmp, "%s/clgan-io-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(io_tmp)) {
      fprintf(stderr, "FAIL: cannot create a scratch directory\n");
      exit(1);
    }
    atexit(io_cleanup);
  }
  char *b = bufs[next++ % 8];
  snprintf(b, 1024, "%s/%s", io_tmp, name);
  return b;
}

static inline void io_write_bytes(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
    fprintf(stderr, "FAIL: cannot write %s\n", path);
    exit(1);
  }
}

static inline void io_write_gz(const char *path, const void *data, size_t n) {
  gzFile g = gzopen(path, "wb");
  if (!g || (n && gzwrite(g, data, (unsigned)n) != (int)n) || gzclose(g) != Z_OK) {
    fprintf(stderr, "FAIL: cannot write %s\n", path);
    exit(1);
  }
}

static inline uint8_t *io_read_bytes(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *b = malloc((size_t)len + 1);
  if (!b || fread(b, 1, (size_t)len, f) != (size_t)len) {
    fprintf(stderr, "FAIL: cannot read %s\n", path);
    exit(1);
  }
  fclose(f);
  *n = (size_t)len;
  return b;
}

/* Writes a PNG with libpng directly: `rows` holds height rows of packed samples as libpng
 * expects them for (color_type, bit_depth) (16-bit samples big-endian). Optional palette
 * and tRNS. Lets the tests make inputs that clgan_png_write never produces. */
static inline void io_write_png_raw(const char *path, int w, int h, int color_type, int bit_depth,
                             const uint8_t *rows, size_t rowbytes, const png_color *pal,
                             int npal, const uint8_t *trns, int ntrns,
                             const png_color_16 *trns_colour) {
  FILE *f = fopen(path, "wb");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  if (!f || !png || !info || setjmp(png_jmpbuf(png))) {
    fprintf(stderr, "FAIL: writing test PNG %s\n", path);
    exit(1);
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, bit_depth, color_type,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (pal) png_set_PLTE(png, info, pal, npal);
  if (trns || trns_colour) png_set_tRNS(png, info, trns, ntrns, trns_colour);
  png_write_info(png, info);
  for (int y = 0; y < h; y++) png_write_row(png, rows + (size_t)y * rowbytes);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  fclose(f);
}

/* The last error names `what` (a file name, an offset...). */
#define CHECK_MSG(what)                                                                    \
  CHECK(strstr(clgan_last_error(), (what)) != NULL, "message '%s' lacks '%s'",             \
        clgan_last_error(), (what))

/* Call fails with `status` and a message containing `what`. */
#define CHECK_FAILS(expr, status, what)                                                    \
  do {                                                                                     \
    clgan_error_clear();                                                                   \
    clgan_status io_s = (expr);                                                            \
    CHECK(io_s == (status), "%s -> %s, want %s (%s)", #expr, clgan_status_name(io_s),     \
          clgan_status_name(status), clgan_last_error());                                  \
    CHECK_MSG(what);                                                                       \
  } while (0)

#endif
