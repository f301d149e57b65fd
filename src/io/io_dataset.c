/* Datasets: IDX image files (gzipped or not) with their label files, folders of PNG images,
 * conversion to the model's channels and size, and batches scaled to [-1, 1].
 * Tests: tests/io/test_dataset.c */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "clgan/io.h"
#include "internal.h"

/* No image side we accept is larger than this, in a file header or as a model size. */
#define DS_MAX_SIDE 16384
/* Pixels per image: far above any real dataset, small enough that count * this fits. */
#define DS_MAX_IMAGE_PIXELS ((size_t)1 << 26)

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- IDX ---- */

/* An open IDX stream: gzread also reads uncompressed files (transparent mode), so one path
 * serves both; `pos` is the byte offset in the (decompressed) stream, for messages. */
typedef struct idx_stream {
  const char *path;
  gzFile gz;
  size_t pos;
  long long file_size;
} idx_stream;

static clgan_status idx_open(idx_stream *s, const char *path) {
  memset(s, 0, sizeof *s);
  s->path = path;
  struct stat st;
  if (stat(path, &st) != 0)
    return clgan_error(CLGAN_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
  if (!S_ISREG(st.st_mode)) return clgan_error(CLGAN_ERR_IO, "'%s' is not a regular file", path);
  if (st.st_size == 0) return clgan_error(CLGAN_ERR_FORMAT, "'%s' is empty (0 bytes)", path);
  s->file_size = (long long)st.st_size;
  s->gz = gzopen(path, "rb");
  if (!s->gz)
    return clgan_error(CLGAN_ERR_IO, "cannot open '%s': %s", path,
                       errno ? strerror(errno) : "out of memory");
  gzbuffer(s->gz, 1 << 17);
  return CLGAN_OK;
}

static void idx_close(idx_stream *s) {
  if (s->gz) gzclose(s->gz);
  s->gz = NULL;
}

/* Reads up to n bytes; returns how many were read, or -1 with the error set. */
static long long idx_read(idx_stream *s, void *dst, size_t n) {
  size_t got = 0;
  while (got < n) {
    size_t chunk = n - got > (1u << 30) ? (1u << 30) : n - got;
    int r = gzread(s->gz, (char *)dst + got, (unsigned)chunk);
    if (r < 0) {
      int zerr = 0;
      const char *m = gzerror(s->gz, &zerr);
      clgan_error(CLGAN_ERR_FORMAT, "'%s': corrupt gzip data near decompressed byte %zu: %s",
                  s->path, s->pos + got, m ? m : "unknown error");
      return -1;
    }
    if (r == 0) {
      /* a gzip stream cut short reads as EOF with Z_BUF_ERROR set */
      int zerr = 0;
      const char *m = gzerror(s->gz, &zerr);
      if (zerr != Z_OK && zerr != Z_STREAM_END) {
        clgan_error(CLGAN_ERR_FORMAT, "'%s': gzip data ends early at decompressed byte %zu: %s",
                    s->path, s->pos + got, m ? m : "unexpected end of file");
        return -1;
      }
      break;
    }
    got += (size_t)r;
  }
  s->pos += got;
  return (long long)got;
}

/* Reads and checks the header of an IDX ubyte file with `want_ndim` dimensions. */
static clgan_status idx_header(idx_stream *s, int want_ndim, uint32_t dims[3]) {
  uint8_t hdr[16];
  size_t hlen = 4 + 4 * (size_t)want_ndim;
  long long got = idx_read(s, hdr, 4);
  if (got < 0) return CLGAN_ERR_FORMAT;
  if (got < 4)
    return clgan_error(CLGAN_ERR_FORMAT, "'%s': truncated IDX header: file ends at byte %lld, "
                       "the header needs %zu bytes", s->path, got, hlen);
  if (hdr[0] != 0 || hdr[1] != 0)
    return clgan_error(CLGAN_ERR_FORMAT, "'%s' is not an IDX file: bytes 0-1 are 0x%02x 0x%02x, "
                       "IDX files start with 0x00 0x00%s", s->path, hdr[0], hdr[1],
                       hdr[0] == 0x89 && hdr[1] == 'P' ? " (this is a PNG: pass a folder of "
                       "PNG files instead)" : "");
  if (hdr[2] != 0x08)
    return clgan_error(CLGAN_ERR_FORMAT, "'%s': IDX data type 0x%02x at byte 2 is not supported "
                       "(only 0x08, unsigned bytes)", s->path, hdr[2]);
  if (hdr[3] != want_ndim)
    return clgan_error(CLGAN_ERR_FORMAT, "'%s': IDX file has %d dimension(s) (byte 3), expected "
                       "%d (%s)", s->path, hdr[3], want_ndim, want_ndim == 3 ? "count, rows, "
                       "columns of an image file" : "count of a label file");
  got = idx_read(s, hdr + 4, hlen - 4);
  if (got < 0) return CLGAN_ERR_FORMAT;
  if ((size_t)got < hlen - 4)
    return clgan_error(CLGAN_ERR_FORMAT, "'%s': truncated IDX header: file ends at byte %zu, "
                       "the header needs %zu bytes", s->path, s->pos, hlen);
  for (int d = 0; d < want_ndim; d++) {
    dims[d] = be32(hdr + 4 + 4 * d);
    uint32_t limit = d == 0 ? 0x7fffffffu : DS_MAX_SIDE;
    if (dims[d] == 0 || dims[d] > limit)
      return clgan_error(CLGAN_ERR_FORMAT, "'%s': IDX dimension %d at byte %d is %u, outside "
                         "1..%u", s->path, d, 4 + 4 * d, dims[d], limit);
  }
  return CLGAN_OK;
}

/* Reads `need` payload bytes that start at s->pos. For plain files the length is checked
 * against the file size first; for gzip the buffer grows only as data actually arrives, so
 * a header that promises terabytes costs no more memory than the data that is there. */
static clgan_status idx_payload(idx_stream *s, size_t need, const char *what, uint8_t **out) {
  *out = NULL;
  int plain = gzdirect(s->gz);
  if (plain && (unsigned long long)s->file_size - s->pos < need)
    return clgan_error(CLGAN_ERR_FORMAT, "'%s': truncated: the header promises %s (%zu bytes "
                       "from byte %zu) but the file ends at byte %lld", s->path, what, need,
                       s->pos, s->file_size);
  size_t cap = plain ? need : (need < ((size_t)1 << 24) ? need : ((size_t)1 << 24));
  uint8_t *buf = malloc(cap ? cap : 1);
  if (!buf) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory reading '%s'", s->path);
  size_t have = 0, start = s->pos;
  while (have < need) {
    if (have == cap) {
      size_t ncap = cap * 2 < need ? cap * 2 : need;
      uint8_t *nb = realloc(buf, ncap);
      if (!nb) {
        free(buf);
        return clgan_error(CLGAN_ERR_NOMEM, "out of host memory reading '%s'", s->path);
      }
      buf = nb;
      cap = ncap;
    }
    long long got = idx_read(s, buf + have, cap - have);
    if (got < 0) {
      free(buf);
      return CLGAN_ERR_FORMAT;
    }
    if (got == 0) {
      free(buf);
      return clgan_error(CLGAN_ERR_FORMAT, "'%s': truncated: the header promises %s (%zu bytes "
                         "from byte %zu) but the %sdata ends at byte %zu", s->path, what, need,
                         start, plain ? "" : "decompressed ", s->pos);
    }
    have += (size_t)got;
  }
  *out = buf;
  return CLGAN_OK;
}

/* Extra bytes after what the header promises mean the dimensions are wrong. */
static clgan_status idx_check_end(idx_stream *s) {
  uint8_t extra[256];
  size_t end = s->pos;
  long long got = idx_read(s, extra, sizeof extra);
  if (got < 0) return CLGAN_ERR_FORMAT;
  if (got > 0)
    return clgan_error(CLGAN_ERR_FORMAT, "'%s': data continues past byte %zu where the header's "
                       "dimensions say it ends (wrong dimensions?)", s->path, end);
  return CLGAN_OK;
}

/* MNIST naming: "<x>-images-idx3-ubyte[.gz]" has labels in "<x>-labels-idx1-ubyte[.gz]"
 * (also "images.idx3-ubyte"). Returns 1 and the existing label file's path, else 0. */
static int idx_label_path(const char *images, char *out, size_t outsz) {
  const char *base = strrchr(images, '/');
  base = base ? base + 1 : images;
  const char *i3 = strstr(base, "idx3-ubyte");
  if (!i3) return 0;
  const char *im = NULL;
  for (const char *p = base; (p = strstr(p, "images")) && p < i3; p++) im = p;
  if (!im) return 0;
  size_t len = strlen(images);
  if (len + 8 > outsz) return 0;
  memcpy(out, images, len + 1);
  memcpy(out + (im - images), "labels", 6);
  out[i3 - images + 3] = '1';
  struct stat st;
  if (stat(out, &st) == 0) return 1;
  /* the same name with the other compression */
  if (len > 3 && strcmp(out + len - 3, ".gz") == 0)
    out[len - 3] = '\0';
  else
    strcat(out, ".gz");
  return stat(out, &st) == 0;
}

static clgan_status idx_load_labels(const char *path, const char *images_path, uint32_t count,
                                    int keep, int32_t **labels) {
  *labels = NULL;
  idx_stream s;
  uint32_t dims[3] = {0};
  uint8_t *raw = NULL;
  clgan_status st = idx_open(&s, path);
  if (st == CLGAN_OK) st = idx_header(&s, 1, dims);
  if (st == CLGAN_OK && dims[0] != count)
    st = clgan_error(CLGAN_ERR_FORMAT, "'%s' has %u labels but '%s' has %u images", path,
                     dims[0], images_path, count);
  if (st == CLGAN_OK) st = idx_payload(&s, (size_t)keep, "labels", &raw);
  if (st == CLGAN_OK && (uint32_t)keep == count) st = idx_check_end(&s);
  idx_close(&s);
  if (st != CLGAN_OK) {
    free(raw);
    return clgan_error_prefix("labels for '%s': ", images_path);
  }
  int32_t *lab = malloc((size_t)keep * sizeof *lab);
  if (!lab) {
    free(raw);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory reading '%s'", path);
  }
  for (int i = 0; i < keep; i++) lab[i] = raw[i];
  free(raw);
  *labels = lab;
  return CLGAN_OK;
}

static const char *const fashion_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress",
                                              "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                                              "Ankle boot"};

/* Whether `path` names Fashion-MNIST (its folder or file name holds "fashion-mnist", any
 * case), whose classes have names. */
static int is_fashion_mnist(const char *path) {
  static const char key[] = "fashion-mnist";
  for (const char *p = path; *p; p++) {
    size_t i = 0;
    while (key[i] && tolower((unsigned char)p[i]) == key[i]) i++;
    if (!key[i]) return 1;
  }
  return 0;
}

/* IDX classes: the largest label + 1 (Fashion-MNIST: at least its 10), named by number or
 * by Fashion-MNIST's names. */
static clgan_status idx_class_names(const char *path, clgan_dataset *ds) {
  int top = -1;
  for (int i = 0; i < ds->count; i++)
    if (ds->labels[i] > top) top = ds->labels[i];
  int fashion = is_fashion_mnist(path);
  int classes = top + 1;
  if (fashion && classes < 10) classes = 10;
  if (classes <= 0) return CLGAN_OK;
  ds->class_names = calloc((size_t)classes, sizeof *ds->class_names);
  if (!ds->class_names)
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory loading '%s'", path);
  ds->classes = classes;
  for (int k = 0; k < classes; k++) {
    if (fashion && k < 10)
      snprintf(ds->class_names[k], sizeof ds->class_names[k], "%s", fashion_names[k]);
    else
      snprintf(ds->class_names[k], sizeof ds->class_names[k], "%d", k);
  }
  return CLGAN_OK;
}

/* ---- conversion to the model's shape ---- */

/* Linear weights of one axis: output i reads taps [first[i], first[i] + ntaps) of the
 * input with weights w[i * ntaps ...]. Shrinking averages the area each output pixel covers
 * (fractional edges weighted by overlap); growing interpolates linearly between pixel
 * centres (half-pixel alignment, edges clamped), as OpenCV's INTER_AREA / INTER_LINEAR. */
typedef struct axis_map {
  int ntaps;
  int *first;
  float *w;
} axis_map;

static void axis_map_free(axis_map *m) {
  free(m->first);
  free(m->w);
}

static int axis_map_init(axis_map *m, int src, int dst) {
  m->ntaps = dst < src ? (src + dst - 1) / dst + 1 : 2;
  m->first = calloc((size_t)dst, sizeof *m->first);
  m->w = calloc((size_t)dst * (size_t)m->ntaps, sizeof *m->w);
  if (!m->first || !m->w) return -1;
  double scale = (double)src / dst;
  for (int i = 0; i < dst; i++) {
    float *w = m->w + (size_t)i * (size_t)m->ntaps;
    if (dst < src) {
      double a = i * scale, b = (i + 1) * scale;
      int j0 = (int)a;
      m->first[i] = j0;
      for (int k = 0; k < m->ntaps && j0 + k < src; k++) {
        double lo = a > j0 + k ? a : j0 + k, hi = b < j0 + k + 1 ? b : j0 + k + 1;
        if (hi > lo) w[k] = (float)((hi - lo) / scale);
      }
    } else {
      double x = (i + 0.5) * scale - 0.5;
      if (x < 0) x = 0;
      int j0 = (int)x;
      if (j0 >= src - 1) {
        m->first[i] = src - 1;
        w[0] = 1.0f;
      } else {
        m->first[i] = j0;
        w[1] = (float)(x - j0);
        w[0] = 1.0f - w[1];
      }
    }
  }
  return 0;
}

/* Scratch for converting one image at a time. */
typedef struct converter {
  int sc, sh, sw;           /* source channels (1..4), height, width */
  int dc, dh, dw;           /* model's */
  axis_map mx, my;
  float *planes;            /* (dc, sh, sw) after channel conversion */
  float *tmp;               /* (dc, sh, dw) after the horizontal pass */
} converter;

static void converter_free(converter *c) {
  axis_map_free(&c->mx);
  axis_map_free(&c->my);
  free(c->planes);
  free(c->tmp);
}

static clgan_status converter_init(converter *c, int sc, int sh, int sw, int dc, int dh,
                                   int dw) {
  memset(c, 0, sizeof *c);
  *c = (converter){.sc = sc, .sh = sh, .sw = sw, .dc = dc, .dh = dh, .dw = dw};
  if (axis_map_init(&c->mx, sw, dw) || axis_map_init(&c->my, sh, dh) ||
      !(c->planes = malloc((size_t)dc * sh * sw * sizeof(float))) ||
      !(c->tmp = malloc((size_t)dc * sh * dw * sizeof(float)))) {
    converter_free(c);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory converting images");
  }
  return CLGAN_OK;
}

/* src: interleaved (sh, sw, sc) 8-bit; dst: planar (dc, dh, dw) 8-bit. */
static void converter_run(converter *c, const uint8_t *src, uint8_t *dst) {
  size_t np = (size_t)c->sh * c->sw;
  int colour = c->sc >= 3, alpha = c->sc == 2 || c->sc == 4;
  for (size_t p = 0; p < np; p++) {
    const uint8_t *px = src + p * (size_t)c->sc;
    float a = alpha ? px[c->sc - 1] / 255.0f : 1.0f; /* composited on black */
    float r = px[0], g = colour ? px[1] : px[0], b = colour ? px[2] : px[0];
    if (c->dc == 1) {
      /* ITU-R BT.601 luma, as PIL's convert("L") */
      c->planes[p] = (colour ? 0.299f * r + 0.587f * g + 0.114f * b : r) * a;
    } else {
      c->planes[p] = r * a;
      c->planes[np + p] = g * a;
      c->planes[2 * np + p] = b * a;
    }
  }
  /* a grey source gives identical channels: resize one, copy it */
  int distinct = colour ? c->dc : 1;
  for (int ch = 0; ch < distinct; ch++) {
    const float *in = c->planes + (size_t)ch * np;
    float *t = c->tmp + (size_t)ch * c->sh * c->dw;
    for (int y = 0; y < c->sh; y++)
      for (int x = 0; x < c->dw; x++) {
        const float *w = c->mx.w + (size_t)x * c->mx.ntaps;
        int j0 = c->mx.first[x];
        float acc = 0.0f;
        for (int k = 0; k < c->mx.ntaps && j0 + k < c->sw; k++)
          acc += w[k] * in[(size_t)y * c->sw + j0 + k];
        t[(size_t)y * c->dw + x] = acc;
      }
    uint8_t *out = dst + (size_t)ch * c->dh * c->dw;
    for (int y = 0; y < c->dh; y++) {
      const float *w = c->my.w + (size_t)y * c->my.ntaps;
      int j0 = c->my.first[y];
      for (int x = 0; x < c->dw; x++) {
        float acc = 0.0f;
        for (int k = 0; k < c->my.ntaps && j0 + k < c->sh; k++)
          acc += w[k] * t[(size_t)(j0 + k) * c->dw + x];
        acc += 0.5f;
        out[(size_t)y * c->dw + x] = acc <= 0.0f ? 0 : acc >= 255.0f ? 255 : (uint8_t)acc;
      }
    }
  }
  size_t plane = (size_t)c->dh * c->dw;
  for (int ch = distinct; ch < c->dc; ch++) memcpy(dst + (size_t)ch * plane, dst, plane);
}

static void set_source(clgan_dataset *ds, const char *fmt, const char *path, int sw, int sh,
                       int sc) {
  snprintf(ds->source, sizeof ds->source, fmt, path, ds->count, sw, sh, sc, ds->labels ? ", "
           "with labels" : "");
  ds->source_w = sw, ds->source_h = sh, ds->source_c = sc;
}

static clgan_status load_idx(const char *path, int max_images, clgan_dataset *ds) {
  idx_stream s;
  uint32_t dims[3] = {0};
  uint8_t *raw = NULL;
  clgan_status st = idx_open(&s, path);
  if (st == CLGAN_OK) st = idx_header(&s, 3, dims);
  if (st != CLGAN_OK) {
    idx_close(&s);
    return st;
  }
  uint32_t count = dims[0], rows = dims[1], cols = dims[2];
  if ((size_t)rows * cols > DS_MAX_IMAGE_PIXELS) {
    idx_close(&s);
    return clgan_error(CLGAN_ERR_FORMAT, "'%s': IDX images of %ux%u at bytes 8-15 are too large",
                       path, rows, cols);
  }
  int keep = max_images > 0 && (uint32_t)max_images < count ? max_images : (int)count;
  char what[96];
  snprintf(what, sizeof what, "%d images of %ux%u", keep, rows, cols);
  st = idx_payload(&s, (size_t)keep * rows * cols, what, &raw);
  if (st == CLGAN_OK && (uint32_t)keep == count) st = idx_check_end(&s);
  idx_close(&s);
  if (st != CLGAN_OK) {
    free(raw);
    return st;
  }

  char lpath[4096];
  if (idx_label_path(path, lpath, sizeof lpath)) {
    st = idx_load_labels(lpath, path, count, keep, &ds->labels);
    if (st != CLGAN_OK) {
      free(raw);
      return st;
    }
  }
  ds->count = keep;
  if (ds->labels && (st = idx_class_names(path, ds)) != CLGAN_OK) {
    free(raw);
    return st;
  }
  if (ds->channels == 1 && ds->height == (int)rows && ds->width == (int)cols) {
    ds->pixels = raw; /* already the model's shape */
  } else {
    converter cv;
    size_t per = (size_t)ds->channels * ds->height * ds->width;
    ds->pixels = malloc((size_t)keep * per);
    st = ds->pixels ? converter_init(&cv, 1, (int)rows, (int)cols, ds->channels, ds->height,
                                     ds->width)
                    : clgan_error(CLGAN_ERR_NOMEM, "out of host memory loading '%s'", path);
    if (st == CLGAN_OK) {
      for (int i = 0; i < keep; i++)
        converter_run(&cv, raw + (size_t)i * rows * cols, ds->pixels + (size_t)i * per);
      converter_free(&cv);
    }
    free(raw);
    if (st != CLGAN_OK) return st;
  }
  set_source(ds, "%s (IDX, %d images of %dx%d, %d channel(s)%s)", path, (int)cols, (int)rows, 1);
  return CLGAN_OK;
}

/* ---- PNG folders ---- */

static int is_png_name(const char *n) {
  size_t l = strlen(n);
  return l > 4 && n[l - 4] == '.' && tolower((unsigned char)n[l - 3]) == 'p' &&
         tolower((unsigned char)n[l - 2]) == 'n' && tolower((unsigned char)n[l - 1]) == 'g';
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir that `keep` accepts (dot entries skipped), sorted by strcmp; at most
 * `max` + 1 are listed (enough to tell that there are too many). */
static clgan_status list_dir(const char *dir, int (*keep)(const char *dir, const char *name),
                             int max, char ***names, int *count) {
  *names = NULL;
  *count = 0;
  DIR *d = opendir(dir);
  if (!d) return clgan_error(CLGAN_ERR_IO, "cannot open folder '%s': %s", dir, strerror(errno));
  char **v = NULL;
  int n = 0, cap = 0;
  struct dirent *e;
  clgan_status st = CLGAN_OK;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || !keep(dir, e->d_name)) continue;
    if (n > max) break;
    if (n == cap) {
      cap = cap ? cap * 2 : 256;
      char **nv = realloc(v, (size_t)cap * sizeof *v);
      if (!nv) {
        st = CLGAN_ERR_NOMEM;
        break;
      }
      v = nv;
    }
    if (!(v[n] = strdup(e->d_name))) {
      st = CLGAN_ERR_NOMEM;
      break;
    }
    n++;
  }
  closedir(d);
  if (st != CLGAN_OK) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
    return clgan_error(st, "out of host memory listing '%s'", dir);
  }
  if (n > 1) qsort(v, (size_t)n, sizeof *v, cmp_names);
  *names = v;
  *count = n;
  return CLGAN_OK;
}

static int keep_png(const char *dir, const char *name) { return is_png_name(name); }

static int keep_subdir(const char *dir, const char *name) {
  char path[4096];
  struct stat sb;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static clgan_status list_pngs(const char *dir, char ***names, int *count) {
  return list_dir(dir, keep_png, INT_MAX - 1, names, count);
}

static clgan_status load_png_list(const char *dir, char **names, int keep, clgan_dataset *ds,
                                  int *w0_out, int *h0_out, int *c0_out) {
  clgan_status st = CLGAN_OK;
  size_t per = (size_t)ds->channels * ds->height * ds->width;
  ds->pixels = malloc((size_t)keep * per);
  if (!ds->pixels) st = clgan_error(CLGAN_ERR_NOMEM, "out of host memory loading '%s'", dir);
  converter cv = {0};
  int have_cv = 0, w0 = 0, h0 = 0, c0 = 0;
  const char *first = NULL;
  char path[4096];
  for (int i = 0; i < keep && st == CLGAN_OK; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    uint8_t *px = NULL;
    int w, h, c;
    st = clgan_png_read(path, &px, &w, &h, &c);
    if (st != CLGAN_OK) break;
    if (!have_cv) {
      w0 = w, h0 = h, c0 = c, first = names[i];
      st = converter_init(&cv, c, h, w, ds->channels, ds->height, ds->width);
      have_cv = st == CLGAN_OK;
    } else if (w != w0 || h != h0) {
      st = clgan_error(CLGAN_ERR_FORMAT, "'%s' is %dx%d but '%s' (the first) is %dx%d: all PNG "
                       "files in a folder must have one size", path, w, h, first, w0, h0);
    } else if (c != c0) {
      /* channel layouts may differ (grey next to RGB): give this image its own converter */
      converter_free(&cv);
      c0 = c;
      st = converter_init(&cv, c, h, w, ds->channels, ds->height, ds->width);
      have_cv = st == CLGAN_OK;
    }
    if (st == CLGAN_OK) converter_run(&cv, px, ds->pixels + (size_t)i * per);
    free(px);
  }
  if (have_cv) converter_free(&cv);
  *w0_out = w0, *h0_out = h0, *c0_out = c0;
  return st;
}

static void free_names(char **names, int n) {
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
}

/* Class names from folder names: cut to CLGAN_CLASS_NAME_MAX - 1 bytes at a UTF-8 boundary,
 * control characters (a newline would break the checkpoint's one-per-line list) as '_'. */
static void set_class_name(char *dst, const char *src) {
  size_t n = strlen(src);
  if (n > CLGAN_CLASS_NAME_MAX - 1) {
    n = CLGAN_CLASS_NAME_MAX - 1;
    while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80) n--;
  }
  memcpy(dst, src, n);
  dst[n] = '\0';
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f) dst[i] = '_';
}

/* The subfolders of dir (dot folders skipped), sorted by strcmp; at most
 * CLGAN_MAX_CLASSES + 1 (enough to say there are too many). */
static clgan_status list_subdirs(const char *dir, char ***names, int *count) {
  return list_dir(dir, keep_subdir, CLGAN_MAX_CLASSES, names, count);
}

/* A folder without PNG files of its own: each subfolder holding PNG files is a class. */
static clgan_status load_png_classes(const char *dir, int max_images, clgan_dataset *ds) {
  char **subs = NULL;
  int nsub = 0;
  clgan_status st = list_subdirs(dir, &subs, &nsub);
  if (st != CLGAN_OK) return st;
  if (nsub > CLGAN_MAX_CLASSES) {
    free_names(subs, nsub);
    return clgan_error(CLGAN_ERR_FORMAT, "folder '%s' has more than %d subfolders: too many "
                       "classes (each subfolder of a folder without PNG files of its own is "
                       "a class)", dir, CLGAN_MAX_CLASSES);
  }
  char ***files = calloc((size_t)(nsub ? nsub : 1), sizeof *files);
  int *nfiles = calloc((size_t)(nsub ? nsub : 1), sizeof *nfiles);
  char **order = NULL;
  int total = 0, with_png = 0, empty = -1;
  char sub[4096];
  if (!files || !nfiles) st = clgan_error(CLGAN_ERR_NOMEM, "out of host memory listing '%s'", dir);
  for (int k = 0; k < nsub && st == CLGAN_OK; k++) {
    snprintf(sub, sizeof sub, "%s/%s", dir, subs[k]);
    st = list_pngs(sub, &files[k], &nfiles[k]);
    if (st != CLGAN_OK) break;
    total += nfiles[k];
    if (nfiles[k]) with_png++;
    else if (empty < 0) empty = k;
  }
  if (st == CLGAN_OK && with_png == 0)
    st = clgan_error(CLGAN_ERR_FORMAT, "folder '%s' has no .png files%s", dir, nsub ? " (nor "
                     "have its subfolders)" : "");
  else if (st == CLGAN_OK && empty >= 0)
    st = clgan_error(CLGAN_ERR_FORMAT, "class folder '%s/%s' has no .png files: in a folder "
                     "without PNG files of its own every subfolder is a class and needs "
                     "images (remove it or move it out)", dir, subs[empty]);
  int keep = 0;
  if (st == CLGAN_OK) {
    keep = max_images > 0 && max_images < total ? max_images : total;
    order = calloc((size_t)keep, sizeof *order);
    ds->labels = malloc((size_t)keep * sizeof *ds->labels);
    ds->class_names = calloc((size_t)nsub, sizeof *ds->class_names);
    if (!order || !ds->labels || !ds->class_names)
      st = clgan_error(CLGAN_ERR_NOMEM, "out of host memory loading '%s'", dir);
  }
  if (st == CLGAN_OK) {
    /* round-robin over the classes: max_images keeps a balanced slice */
    int i = 0;
    for (int j = 0; i < keep; j++)
      for (int k = 0; k < nsub && i < keep; k++) {
        if (j >= nfiles[k]) continue;
        size_t len = strlen(subs[k]) + strlen(files[k][j]) + 2;
        if (!(order[i] = malloc(len))) {
          st = clgan_error(CLGAN_ERR_NOMEM, "out of host memory loading '%s'", dir);
          keep = i;
          break;
        }
        snprintf(order[i], len, "%s/%s", subs[k], files[k][j]);
        ds->labels[i++] = k;
      }
    for (int k = 0; k < nsub; k++) set_class_name(ds->class_names[k], subs[k]);
    ds->classes = nsub;
  }
  int w0 = 0, h0 = 0, c0 = 0;
  if (st == CLGAN_OK) st = load_png_list(dir, order, keep, ds, &w0, &h0, &c0);
  if (order) free_names(order, keep);
  for (int k = 0; files && k < nsub; k++) free_names(files[k], nfiles[k]);
  free(files);
  free(nfiles);
  free_names(subs, nsub);
  if (st != CLGAN_OK) return st;
  ds->count = keep;
  snprintf(ds->source, sizeof ds->source, "%s (PNG class folders, %d images of %dx%d in %d "
           "classes, first has %d channel(s), with labels)", dir, keep, w0, h0, ds->classes,
           c0);
  ds->source_w = w0, ds->source_h = h0, ds->source_c = c0;
  return CLGAN_OK;
}

clgan_status clgan_png_folder_names(const char *dir, char ***names, int *count) {
  return list_pngs(dir, names, count);
}

static clgan_status load_png_folder(const char *dir, int max_images, clgan_dataset *ds) {
  char **names = NULL;
  int n = 0;
  clgan_status st = list_pngs(dir, &names, &n);
  if (st != CLGAN_OK) return st;
  if (n == 0) {
    free(names);
    return load_png_classes(dir, max_images, ds);
  }
  int keep = max_images > 0 && max_images < n ? max_images : n;
  int w0 = 0, h0 = 0, c0 = 0;
  st = load_png_list(dir, names, keep, ds, &w0, &h0, &c0);
  free_names(names, n);
  if (st != CLGAN_OK) return st;
  ds->count = keep;
  set_source(ds, "%s (PNG folder, %d images of %dx%d, first has %d channel(s)%s)", dir, w0, h0,
             c0);
  return CLGAN_OK;
}

clgan_status clgan_dataset_load(const char *path, int channels, int height, int width,
                                int max_images, clgan_dataset *out) {
  memset(out, 0, sizeof *out);
  if (!path || !*path) path = CLGAN_DEFAULT_DATA;
  if (!(channels == 1 || channels == 3) || height <= 0 || width <= 0 || height > DS_MAX_SIDE ||
      width > DS_MAX_SIDE)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "loading '%s': bad model image shape (%d, %d, %d): "
                       "channels must be 1 or 3, sides 1..%d", path, channels, height, width,
                       DS_MAX_SIDE);
  out->channels = channels;
  out->height = height;
  out->width = width;
  struct stat st;
  if (stat(path, &st) != 0)
    return clgan_error(CLGAN_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
  clgan_status s = S_ISDIR(st.st_mode) ? load_png_folder(path, max_images, out)
                                       : load_idx(path, max_images, out);
  if (s != CLGAN_OK) {
    clgan_dataset_free(out);
    out->channels = channels, out->height = height, out->width = width;
  }
  return s;
}

void clgan_dataset_free(clgan_dataset *ds) {
  if (!ds) return;
  free(ds->pixels);
  free(ds->labels);
  free(ds->class_names);
  memset(ds, 0, sizeof *ds);
}

const char *clgan_dataset_class_name(const clgan_dataset *ds, int k, char *buf, size_t cap) {
  if (ds && ds->class_names && k >= 0 && k < ds->classes && ds->class_names[k][0])
    snprintf(buf, cap, "%s", ds->class_names[k]);
  else
    snprintf(buf, cap, "%d", k);
  return buf;
}

void clgan_dataset_batch(const clgan_dataset *ds, const int *idx, int n, float *out) {
  size_t per = (size_t)ds->channels * ds->height * ds->width;
  for (int i = 0; i < n; i++) {
    const uint8_t *src = ds->pixels + (size_t)idx[i] * per;
    float *dst = out + (size_t)i * per;
    for (size_t j = 0; j < per; j++) dst[j] = src[j] / 127.5f - 1.0f;
  }
}
