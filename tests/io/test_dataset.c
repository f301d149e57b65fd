/* Datasets: IDX (plain and gzipped) round trips with labels, every bad-input case with the
 * file and byte offset in the message, lying headers without big allocations, PNG folders
 * (order, mixed layouts, sizes, corrupt files), PNG class folders (labels, names, order,
 * bad layouts), class names, channel conversion and resizing values, batches in [-1, 1],
 * and the real Fashion-MNIST when Debian's package is installed. */
#include <sys/resource.h>
#include <time.h>

#include "io_helpers.h"

enum { N = 5, ROWS = 4, COLS = 3 };

static uint8_t images[N * ROWS * COLS];

/* An idx3 image file (or idx1 when rows == 0) as bytes; returns the length. */
static size_t make_idx(uint8_t *buf, uint8_t ndim, uint32_t count, uint32_t rows,
                       uint32_t cols, const uint8_t *data, size_t ndata) {
  uint32_t dims[3] = {count, rows, cols};
  buf[0] = 0, buf[1] = 0, buf[2] = 0x08, buf[3] = ndim;
  for (int d = 0; d < ndim; d++)
    for (int b = 0; b < 4; b++) buf[4 + 4 * d + b] = (uint8_t)(dims[d] >> (24 - 8 * b));
  size_t h = 4 + 4 * (size_t)ndim;
  if (ndata) memcpy(buf + h, data, ndata);
  return h + ndata;
}

static void write_idx(const char *name, int gz, uint8_t ndim, uint32_t count, uint32_t rows,
                      uint32_t cols, const uint8_t *data, size_t ndata) {
  static uint8_t buf[1 << 16];
  size_t n = make_idx(buf, ndim, count, rows, cols, data, ndata);
  if (gz)
    io_write_gz(io_path(name), buf, n);
  else
    io_write_bytes(io_path(name), buf, n);
}

static void check_images(const clgan_dataset *ds, const char *what) {
  CHECK(ds->count == N && ds->channels == 1 && ds->height == ROWS && ds->width == COLS,
        "%s: got %d images of (%d, %d, %d)", what, ds->count, ds->channels, ds->height,
        ds->width);
  CHECK(ds->pixels && memcmp(ds->pixels, images, sizeof images) == 0, "%s: pixels differ",
        what);
}

static void check_idx_roundtrip(void) {
  for (int i = 0; i < N * ROWS * COLS; i++) images[i] = (uint8_t)(i * 53 + 7);
  uint8_t labels[N] = {9, 0, 3, 3, 7};
  mkdir(io_path("plain"), 0755);
  mkdir(io_path("gz"), 0755);
  mkdir(io_path("mixed"), 0755);
  write_idx("plain/train-images-idx3-ubyte", 0, 3, N, ROWS, COLS, images, sizeof images);
  write_idx("plain/train-labels-idx1-ubyte", 0, 1, N, 0, 0, labels, N);
  write_idx("gz/t10k-images-idx3-ubyte.gz", 1, 3, N, ROWS, COLS, images, sizeof images);
  write_idx("gz/t10k-labels-idx1-ubyte.gz", 1, 1, N, 0, 0, labels, N);
  /* images gzipped, labels not: still paired */
  write_idx("mixed/emnist-x-train-images-idx3-ubyte.gz", 1, 3, N, ROWS, COLS, images,
            sizeof images);
  write_idx("mixed/emnist-x-train-labels-idx1-ubyte", 0, 1, N, 0, 0, labels, N);
  const char *files[3] = {"plain/train-images-idx3-ubyte", "gz/t10k-images-idx3-ubyte.gz",
                          "mixed/emnist-x-train-images-idx3-ubyte.gz"};
  for (int f = 0; f < 3; f++) {
    clgan_dataset ds;
    CHECK_OK(clgan_dataset_load(io_path(files[f]), 1, ROWS, COLS, 0, &ds));
    check_images(&ds, files[f]);
    CHECK(ds.labels != NULL, "%s: labels not found", files[f]);
    for (int i = 0; ds.labels && i < N; i++)
      CHECK(ds.labels[i] == labels[i], "%s: label %d is %d", files[f], i, ds.labels[i]);
    CHECK(strstr(ds.source, files[f]) && strstr(ds.source, "with labels"), "source '%s'",
          ds.source);
    /* classes: the largest label + 1, named by number */
    CHECK(ds.classes == 10 && ds.class_names, "%s: %d classes", files[f], ds.classes);
    char nb[CLGAN_CLASS_NAME_MAX];
    CHECK(ds.class_names && !strcmp(ds.class_names[3], "3") && !strcmp(ds.class_names[9], "9"),
          "%s: numbered class names", files[f]);
    CHECK(!strcmp(clgan_dataset_class_name(&ds, 12, nb, sizeof nb), "12"), "name past the end");
    clgan_dataset_free(&ds);
    CHECK(ds.pixels == NULL && ds.labels == NULL && ds.count == 0 && ds.class_names == NULL &&
          ds.classes == 0, "free clears");
  }
  /* max_images keeps the first ones, labels too */
  clgan_dataset ds;
  CHECK_OK(clgan_dataset_load(io_path(files[1]), 1, ROWS, COLS, 2, &ds));
  CHECK(ds.count == 2 && memcmp(ds.pixels, images, 2 * ROWS * COLS) == 0, "max_images 2: %d",
        ds.count);
  CHECK(ds.labels && ds.labels[1] == 0, "max_images 2: labels");
  CHECK(ds.classes == 10, "max_images 2: classes from the kept labels (9, 0): %d", ds.classes);
  clgan_dataset_free(&ds);
  write_idx("gz/few-images-idx3-ubyte", 0, 3, N, ROWS, COLS, images, sizeof images);
  uint8_t three[N] = {0, 2, 1, 7, 1};
  write_idx("gz/few-labels-idx1-ubyte", 0, 1, N, 0, 0, three, N);
  CHECK_OK(clgan_dataset_load(io_path("gz/few-images-idx3-ubyte"), 1, ROWS, COLS, 3, &ds));
  CHECK(ds.classes == 3, "max_images 3: classes from the kept labels (0, 2, 1): %d",
        ds.classes);
  clgan_dataset_free(&ds);

  /* a path holding "fashion-mnist" (any case) gets its ten names, even with fewer labels */
  mkdir(io_path("Fashion-MNIST"), 0755);
  uint8_t few[N] = {0, 1, 2, 1, 0};
  write_idx("Fashion-MNIST/x-images-idx3-ubyte", 0, 3, N, ROWS, COLS, images, sizeof images);
  write_idx("Fashion-MNIST/x-labels-idx1-ubyte", 0, 1, N, 0, 0, few, N);
  CHECK_OK(clgan_dataset_load(io_path("Fashion-MNIST/x-images-idx3-ubyte"), 1, ROWS, COLS, 0,
                              &ds));
  CHECK(ds.classes == 10 && ds.class_names && !strcmp(ds.class_names[0], "T-shirt/top") &&
        !strcmp(ds.class_names[9], "Ankle boot") && !strcmp(ds.class_names[7], "Sneaker"),
        "Fashion-MNIST names: %d classes", ds.classes);
  clgan_dataset_free(&ds);

  /* no label file: no labels, no error */
  write_idx("nolabels-idx3-ubyte", 0, 3, N, ROWS, COLS, images, sizeof images);
  CHECK_OK(clgan_dataset_load(io_path("nolabels-idx3-ubyte"), 1, ROWS, COLS, 0, &ds));
  check_images(&ds, "no labels");
  CHECK(ds.labels == NULL && ds.classes == 0 && ds.class_names == NULL, "labels from nowhere");
  char nb[16];
  CHECK(!strcmp(clgan_dataset_class_name(&ds, 2, nb, sizeof nb), "2"), "no names: numbers");
  clgan_dataset_free(&ds);

  /* batches: x / 127.5 - 1 */
  CHECK_OK(clgan_dataset_load(io_path(files[0]), 1, ROWS, COLS, 0, &ds));
  int idx[2] = {3, 0};
  float out[2 * ROWS * COLS];
  clgan_dataset_batch(&ds, idx, 2, out);
  for (int j = 0; j < ROWS * COLS; j++) {
    float want3 = images[3 * ROWS * COLS + j] / 127.5f - 1.0f, want0 = images[j] / 127.5f - 1.0f;
    CHECK(out[j] == want3 && out[ROWS * COLS + j] == want0, "batch element %d", j);
  }
  clgan_dataset_free(&ds);
  uint8_t ext[3] = {0, 255, 51};
  clgan_dataset tiny = {.count = 1, .channels = 1, .height = 1, .width = 3, .pixels = ext};
  float t[3];
  int zero = 0;
  clgan_dataset_batch(&tiny, &zero, 1, t);
  CHECK(t[0] == -1.0f && t[1] == 1.0f && fabsf(t[2] + 0.6f) < 1e-6f, "batch ends %g %g %g",
        t[0], t[1], t[2]);
}

static void check_idx_errors(void) {
  clgan_dataset ds;
  uint8_t buf[4096];
  CHECK_FAILS(clgan_dataset_load(io_path("missing-images-idx3-ubyte"), 1, 28, 28, 0, &ds),
              CLGAN_ERR_IO, "missing-images-idx3-ubyte");
  CHECK(ds.pixels == NULL && ds.count == 0, "failure leaves the dataset empty");
  io_write_bytes(io_path("empty"), "", 0);
  CHECK_FAILS(clgan_dataset_load(io_path("empty"), 1, 28, 28, 0, &ds), CLGAN_ERR_FORMAT,
              "is empty");
  CHECK_MSG("/empty'");
  /* truncated header */
  size_t n = make_idx(buf, 3, N, ROWS, COLS, images, 0);
  io_write_bytes(io_path("hdr10"), buf, 10);
  CHECK_FAILS(clgan_dataset_load(io_path("hdr10"), 1, ROWS, COLS, 0, &ds), CLGAN_ERR_FORMAT,
              "truncated IDX header: file ends at byte 10");
  CHECK_MSG("hdr10");
  io_write_gz(io_path("hdr3.gz"), buf, 3);
  CHECK_FAILS(clgan_dataset_load(io_path("hdr3.gz"), 1, ROWS, COLS, 0, &ds), CLGAN_ERR_FORMAT,
              "file ends at byte 3");
  /* truncated data: 50 of the 60 promised bytes */
  n = make_idx(buf, 3, N, ROWS, COLS, images, 50);
  io_write_bytes(io_path("short"), buf, n);
  CHECK_FAILS(clgan_dataset_load(io_path("short"), 1, ROWS, COLS, 0, &ds), CLGAN_ERR_FORMAT,
              "ends at byte 66");
  CHECK_MSG("short");
  CHECK_MSG("60 bytes from byte 16");
  io_write_gz(io_path("short.gz"), buf, n);
  CHECK_FAILS(clgan_dataset_load(io_path("short.gz"), 1, ROWS, COLS, 0, &ds), CLGAN_ERR_FORMAT,
              "decompressed data ends at byte 66");
  CHECK_MSG("short.gz");
  /* a gzip stream cut in the middle */
  n = make_idx(buf, 3, N, ROWS, COLS, images, sizeof images);
  io_write_gz(io_path("cut.gz"), buf, n);
  size_t gzn = 0;
  uint8_t *gzb = io_read_bytes(io_path("cut.gz"), &gzn);
  io_write_bytes(io_path("cut.gz"), gzb, gzn - 12);
  CHECK_FAILS(clgan_dataset_load(io_path("cut.gz"), 1, ROWS, COLS, 0, &ds), CLGAN_ERR_FORMAT,
              "cut.gz");
  CHECK_MSG("byte");
  /* corrupt deflate data */
  gzb[gzn / 2] ^= 0xff;
  gzb[gzn / 2 + 1] ^= 0x55;
  io_write_bytes(io_path("bad.gz"), gzb, gzn);
  CHECK_FAILS(clgan_dataset_load(io_path("bad.gz"), 1, ROWS, COLS, 0, &ds), CLGAN_ERR_FORMAT,
              "bad.gz");
  free(gzb);
  /* wrong magic, type, number of dimensions, zero and oversized dimensions */
  n = make_idx(buf, 3, N, ROWS, COLS, images, sizeof images);
  buf[0] = 0x12, buf[1] = 0x34;
  io_write_bytes(io_path("magic"), buf, n);
  CHECK_FAILS(clgan_dataset_load(io_path("magic"), 1, ROWS, COLS, 0, &ds), CLGAN_ERR_FORMAT,
              "not an IDX file: bytes 0-1 are 0x12 0x34");
  buf[0] = 0, buf[1] = 0, buf[2] = 0x0d;
  io_write_bytes(io_path("float"), buf, n);
  CHECK_FAILS(clgan_dataset_load(io_path("float"), 1, ROWS, COLS, 0, &ds), CLGAN_ERR_FORMAT,
              "data type 0x0d at byte 2");
  write_idx("labels-as-images", 0, 1, N, 0, 0, images, N);
  CHECK_FAILS(clgan_dataset_load(io_path("labels-as-images"), 1, ROWS, COLS, 0, &ds),
              CLGAN_ERR_FORMAT, "1 dimension(s) (byte 3), expected 3");
  write_idx("zero-rows", 0, 3, N, 0, COLS, images, sizeof images);
  CHECK_FAILS(clgan_dataset_load(io_path("zero-rows"), 1, ROWS, COLS, 0, &ds), CLGAN_ERR_FORMAT,
              "dimension 1 at byte 8 is 0");
  write_idx("wide", 0, 3, N, 4, 100000, images, sizeof images);
  CHECK_FAILS(clgan_dataset_load(io_path("wide"), 1, ROWS, COLS, 0, &ds), CLGAN_ERR_FORMAT,
              "dimension 2 at byte 12 is 100000");
  /* dimensions that do not account for all the data */
  write_idx("extra", 0, 3, N - 1, ROWS, COLS, images, sizeof images);
  CHECK_FAILS(clgan_dataset_load(io_path("extra"), 1, ROWS, COLS, 0, &ds), CLGAN_ERR_FORMAT,
              "past byte 64");
  /* a PNG passed as a data file gets a hint */
  uint8_t px[4] = {0};
  CHECK_OK(clgan_png_write(io_path("one.png"), px, 2, 2, 1));
  CHECK_FAILS(clgan_dataset_load(io_path("one.png"), 1, 2, 2, 0, &ds), CLGAN_ERR_FORMAT,
              "folder of PNG");
  /* labels that do not match: a format error naming both files */
  mkdir(io_path("badlab"), 0755);
  write_idx("badlab/x-images-idx3-ubyte", 0, 3, N, ROWS, COLS, images, sizeof images);
  write_idx("badlab/x-labels-idx1-ubyte", 0, 1, N - 1, 0, 0, images, N - 1);
  CHECK_FAILS(clgan_dataset_load(io_path("badlab/x-images-idx3-ubyte"), 1, ROWS, COLS, 0, &ds),
              CLGAN_ERR_FORMAT, "x-labels-idx1-ubyte' has 4 labels");
  CHECK_MSG("x-images-idx3-ubyte' has 5 images");
  write_idx("badlab/x-labels-idx1-ubyte", 0, 1, N, 0, 0, images, N - 2);
  CHECK_FAILS(clgan_dataset_load(io_path("badlab/x-images-idx3-ubyte"), 1, ROWS, COLS, 0, &ds),
              CLGAN_ERR_FORMAT, "labels for '");
  CHECK_MSG("x-labels-idx1-ubyte': truncated");
  /* bad model shapes */
  CHECK_FAILS(clgan_dataset_load(io_path("plain/train-images-idx3-ubyte"), 2, ROWS, COLS, 0,
                                 &ds), CLGAN_ERR_INVALID_ARG, "channels must be 1 or 3");
}

#if defined(__SANITIZE_ADDRESS__)
#define IO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IO_ASAN 1
#endif
#endif

#ifndef IO_ASAN
/* Current address-space size, to cap it just above what the test needs (not under ASan,
 * whose shadow memory needs terabytes of address space). */
static long long vm_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long long pages = 0;
  if (f) {
    if (fscanf(f, "%lld", &pages) != 1) pages = 0;
    fclose(f);
  }
  return pages * sysconf(_SC_PAGESIZE);
}
#endif

/* Headers that promise 2^31 - 1 images of 28x28 (1.7 TB) or 16384x8192-pixel images in
 * files of a few bytes: refused as FORMAT, with the address space capped at +512 MB so a
 * big allocation would fail (NOMEM) instead of passing unnoticed. */
static void check_absurd_headers(void) {
  uint8_t buf[256];
  size_t n = make_idx(buf, 3, 0x7fffffff, 28, 28, images, 40);
  io_write_bytes(io_path("absurd"), buf, n);
  io_write_gz(io_path("absurd.gz"), buf, n);
  n = make_idx(buf, 3, 1000, 16384, 8192, images, 40);
  io_write_gz(io_path("absurd2.gz"), buf, n);
  n = make_idx(buf, 3, 3, 2, 2, images, 12);
  io_write_bytes(io_path("absurd-images-idx3-ubyte"), buf, n);
  n = make_idx(buf, 1, 0x7fffffff, 0, 0, images, 3);
  io_write_gz(io_path("absurd-labels-idx1-ubyte.gz"), buf, n);
  struct rlimit old;
  int capped = 0;
#ifndef IO_ASAN
  if (getrlimit(RLIMIT_AS, &old) == 0) {
    struct rlimit lim = old;
    lim.rlim_cur = (rlim_t)(vm_bytes() + (512ll << 20));
    capped = setrlimit(RLIMIT_AS, &lim) == 0;
  }
#endif
  clgan_dataset ds;
  CHECK_FAILS(clgan_dataset_load(io_path("absurd"), 1, 28, 28, 0, &ds), CLGAN_ERR_FORMAT,
              "file ends at byte 56");
  CHECK_MSG("2147483647 images of 28x28");
  CHECK_FAILS(clgan_dataset_load(io_path("absurd.gz"), 1, 28, 28, 0, &ds), CLGAN_ERR_FORMAT,
              "decompressed data ends at byte 56");
  CHECK_FAILS(clgan_dataset_load(io_path("absurd2.gz"), 1, 28, 28, 0, &ds), CLGAN_ERR_FORMAT,
              "too large");
  /* images fine, but a label file claiming 2^31 - 1 labels */
  CHECK_FAILS(clgan_dataset_load(io_path("absurd-images-idx3-ubyte"), 1, 2, 2, 0, &ds),
              CLGAN_ERR_FORMAT, "2147483647 labels");
  if (capped) setrlimit(RLIMIT_AS, &old);
  printf("absurd headers checked %s an address-space cap\n", capped ? "under" : "without");
}

/* Grey 8-bit PNG from a w x h array. */
static void grey_png(const char *name, int w, int h, const uint8_t *v) {
  CHECK_OK(clgan_png_write(io_path(name), v, w, h, 1));
}

static void check_png_folder(void) {
  clgan_dataset ds;
  mkdir(io_path("pngs"), 0755);
  /* written out of order; loaded sorted by name; other files and dot files ignored */
  uint8_t rgba[4 * 4 * 4], rgb[4 * 4 * 3], grey[4 * 4];
  for (int i = 0; i < 16; i++) {
    grey[i] = (uint8_t)(i * 16);
    rgb[3 * i] = 200, rgb[3 * i + 1] = 100, rgb[3 * i + 2] = (uint8_t)(i * 10);
    rgba[4 * i] = 255, rgba[4 * i + 1] = 255, rgba[4 * i + 2] = 255;
    rgba[4 * i + 3] = (uint8_t)(i * 17);
  }
  CHECK_OK(clgan_png_write(io_path("pngs/c.png"), rgba, 4, 4, 4));
  CHECK_OK(clgan_png_write(io_path("pngs/b.PNG"), rgb, 4, 4, 3));
  grey_png("pngs/a.png", 4, 4, grey);
  grey_png("pngs/.hidden.png", 2, 2, grey);
  io_write_bytes(io_path("pngs/notes.txt"), "not an image", 12);
  CHECK_OK(clgan_dataset_load(io_path("pngs"), 1, 4, 4, 0, &ds));
  CHECK(ds.count == 3 && ds.labels == NULL && ds.classes == 0, "%d images", ds.count);
  if (ds.count == 3) {
    CHECK(memcmp(ds.pixels, grey, 16) == 0, "a.png first and unchanged");
    for (int i = 0; i < 16; i++) {
      int luma = (int)(0.299f * 200 + 0.587f * 100 + 0.114f * (i * 10) + 0.5f);
      CHECK(ds.pixels[16 + i] == luma, "b.png pixel %d: %d, want luma %d", i,
            ds.pixels[16 + i], luma);
      CHECK(ds.pixels[32 + i] == i * 17, "c.png pixel %d: %d, want white on black %d", i,
            ds.pixels[32 + i], i * 17);
    }
  }
  clgan_dataset_free(&ds);
  /* to RGB: grey replicated; alpha composited; max_images */
  CHECK_OK(clgan_dataset_load(io_path("pngs"), 3, 4, 4, 2, &ds));
  CHECK(ds.count == 2, "max_images 2: %d", ds.count);
  for (int c = 0; c < 3 && ds.count == 2; c++) {
    CHECK(memcmp(ds.pixels + c * 16, grey, 16) == 0, "grey replicated to channel %d", c);
    CHECK(ds.pixels[48 + c * 16 + 5] == rgb[15 + c], "b.png (1,1) channel %d: %d", c,
          ds.pixels[48 + c * 16 + 5]);
  }
  clgan_dataset_free(&ds);

  /* palette and 16-bit files load like the others */
  mkdir(io_path("foreign"), 0755);
  png_color pal[2] = {{0, 0, 0}, {255, 255, 255}};
  uint8_t idx[4] = {0, 1, 1, 0};
  io_write_png_raw(io_path("foreign/p.png"), 2, 2, PNG_COLOR_TYPE_PALETTE, 8, idx, 2, pal, 2,
                   NULL, 0, NULL);
  uint8_t g16[8] = {0xff, 0xff, 0, 0, 0x80, 0, 0x40, 0};
  io_write_png_raw(io_path("foreign/q.png"), 2, 2, PNG_COLOR_TYPE_GRAY, 16, g16, 4, NULL, 0, NULL,
                   0, NULL);
  CHECK_OK(clgan_dataset_load(io_path("foreign"), 1, 2, 2, 0, &ds));
  uint8_t want_f[8] = {0, 255, 255, 0, 255, 0, 128, 64};
  CHECK(ds.count == 2 && memcmp(ds.pixels, want_f, 8) == 0, "palette / 16-bit folder");
  clgan_dataset_free(&ds);

  /* mixed sizes: the odd file is named */
  uint8_t five[5 * 4] = {0};
  grey_png("pngs/d.png", 5, 4, five);
  CHECK_FAILS(clgan_dataset_load(io_path("pngs"), 1, 4, 4, 0, &ds), CLGAN_ERR_FORMAT,
              "d.png' is 5x4 but 'a.png' (the first) is 4x4");
  CHECK(ds.pixels == NULL, "failure leaves the dataset empty");
  unlink(io_path("pngs/d.png"));
  /* corrupt file: named */
  io_write_bytes(io_path("pngs/e.png"), "\x89PNG\r\n\x1a\n garbage", 17);
  CHECK_FAILS(clgan_dataset_load(io_path("pngs"), 1, 4, 4, 0, &ds), CLGAN_ERR_FORMAT, "e.png");
  /* nothing to load */
  mkdir(io_path("nopng"), 0755);
  io_write_bytes(io_path("nopng/readme"), "x", 1);
  CHECK_FAILS(clgan_dataset_load(io_path("nopng"), 1, 4, 4, 0, &ds), CLGAN_ERR_FORMAT,
              "has no .png files");
}

/* One grey 2x2 PNG of value v. */
static void flat_png(const char *name, uint8_t v) {
  uint8_t px[4] = {v, v, v, v};
  grey_png(name, 2, 2, px);
}

static void check_png_classes(void) {
  clgan_dataset ds;
  /* three classes of 3, 1 and 2 images, made out of order; a dot folder and a file beside
   * the class folders are ignored */
  const char *dirs[] = {"cls", "cls/sneaker", "cls/bag", "cls/coat", "cls/.cache"};
  for (int i = 0; i < 5; i++) mkdir(io_path(dirs[i]), 0755);
  flat_png("cls/sneaker/b.png", 31);
  flat_png("cls/sneaker/a.png", 30);
  flat_png("cls/bag/z.png", 10);
  flat_png("cls/coat/x.png", 22);
  flat_png("cls/coat/w.png", 21);
  flat_png("cls/sneaker/c.png", 32);
  flat_png("cls/.cache/q.png", 99);
  io_write_bytes(io_path("cls/README"), "classes", 7);
  CHECK_OK(clgan_dataset_load(io_path("cls"), 1, 2, 2, 0, &ds));
  /* classes by name: bag 0, coat 1, sneaker 2; images round-robin over them */
  int want_v[6] = {10, 21, 30, 22, 31, 32}, want_l[6] = {0, 1, 2, 1, 2, 2};
  CHECK(ds.count == 6 && ds.classes == 3 && ds.labels && ds.class_names, "class folders: %d "
        "images, %d classes", ds.count, ds.classes);
  if (ds.count == 6 && ds.labels && ds.class_names) {
    for (int i = 0; i < 6; i++)
      CHECK(ds.pixels[i * 4] == want_v[i] && ds.labels[i] == want_l[i], "image %d: value %d "
            "label %d, want %d %d", i, ds.pixels[i * 4], ds.labels[i], want_v[i], want_l[i]);
    CHECK(!strcmp(ds.class_names[0], "bag") && !strcmp(ds.class_names[1], "coat") &&
          !strcmp(ds.class_names[2], "sneaker"), "class names %s %s %s", ds.class_names[0],
          ds.class_names[1], ds.class_names[2]);
    CHECK(strstr(ds.source, "3 classes") && strstr(ds.source, "with labels"), "source '%s'",
          ds.source);
  }
  clgan_dataset_free(&ds);
  /* max_images: a balanced slice, every class kept */
  CHECK_OK(clgan_dataset_load(io_path("cls"), 1, 2, 2, 4, &ds));
  CHECK(ds.count == 4 && ds.classes == 3 && ds.labels && ds.labels[3] == 1 &&
        ds.pixels[3 * 4] == 22, "max_images 4 over classes");
  clgan_dataset_free(&ds);

  /* a long folder name is cut to a whole UTF-8 character */
  char longname[200] = "cls2/";
  mkdir(io_path("cls2"), 0755);
  for (int i = 0; i < 40; i++) strcat(longname, "\xc3\xa9"); /* 80 bytes of é */
  mkdir(io_path(longname), 0755);
  char lp[300];
  snprintf(lp, sizeof lp, "%s/a.png", longname);
  flat_png(lp, 5);
  CHECK_OK(clgan_dataset_load(io_path("cls2"), 1, 2, 2, 0, &ds));
  CHECK(ds.classes == 1 && ds.class_names && strlen(ds.class_names[0]) == 62 &&
        !strncmp(ds.class_names[0], longname + 5, 62), "long class name cut to 62 bytes");
  clgan_dataset_free(&ds);

  /* a class folder without PNGs: refused, named */
  mkdir(io_path("cls/empty"), 0755);
  io_write_bytes(io_path("cls/empty/notes.txt"), "x", 1);
  CHECK_FAILS(clgan_dataset_load(io_path("cls"), 1, 2, 2, 0, &ds), CLGAN_ERR_FORMAT,
              "class folder '");
  CHECK_MSG("cls/empty' has no .png files");
  CHECK(ds.pixels == NULL && ds.labels == NULL && ds.class_names == NULL, "failure: empty");
  unlink(io_path("cls/empty/notes.txt"));
  rmdir(io_path("cls/empty"));
  /* images of another size in another class: named */
  uint8_t big[9] = {0};
  grey_png("cls/coat/y.png", 3, 3, big);
  CHECK_FAILS(clgan_dataset_load(io_path("cls"), 1, 2, 2, 0, &ds), CLGAN_ERR_FORMAT,
              "coat/y.png' is 3x3 but 'bag/z.png' (the first) is 2x2");
  unlink(io_path("cls/coat/y.png"));
  /* PNG files beside class folders: the folder is read flat, as it always was */
  flat_png("cls/stray.png", 77);
  CHECK_OK(clgan_dataset_load(io_path("cls"), 1, 2, 2, 0, &ds));
  CHECK(ds.count == 1 && ds.labels == NULL && ds.classes == 0 && ds.pixels[0] == 77,
        "PNG beside class folders: flat, unlabelled (%d images)", ds.count);
  clgan_dataset_free(&ds);
  unlink(io_path("cls/stray.png"));
  /* subfolders none of which holds a PNG: the usual message */
  mkdir(io_path("nocls"), 0755);
  mkdir(io_path("nocls/a"), 0755);
  CHECK_FAILS(clgan_dataset_load(io_path("nocls"), 1, 2, 2, 0, &ds), CLGAN_ERR_FORMAT,
              "has no .png files (nor have its subfolders)");
}

/* More than CLGAN_MAX_CLASSES subfolders: refused before any image is read. Making 65537
 * folders takes minutes on some file systems, so only with CLGAN_SLOW_TESTS=1. */
static void check_too_many_classes(void) {
  const char *slow = getenv("CLGAN_SLOW_TESTS");
  if (!slow || strcmp(slow, "1")) {
    printf("too-many-classes check skipped (CLGAN_SLOW_TESTS=1 runs it)\n");
    return;
  }
  mkdir(io_path("many"), 0755);
  char name[64];
  for (int k = 0; k <= CLGAN_MAX_CLASSES; k++) {
    snprintf(name, sizeof name, "many/%05d", k);
    if (mkdir(io_path(name), 0755) != 0) {
      printf("cannot make %d folders: too-many-classes check skipped\n", CLGAN_MAX_CLASSES + 1);
      return;
    }
  }
  clgan_dataset ds;
  CHECK_FAILS(clgan_dataset_load(io_path("many"), 1, 2, 2, 0, &ds), CLGAN_ERR_FORMAT,
              "more than 65536 subfolders: too many classes");
}

static void load_one(const char *dir, int c, int h, int w, clgan_dataset *ds) {
  CHECK_OK(clgan_dataset_load(io_path(dir), c, h, w, 0, ds));
}

static void check_resize(void) {
  clgan_dataset ds;
  /* shrink 4x4 -> 2x2 by 2x2 means */
  mkdir(io_path("r1"), 0755);
  uint8_t v[16] = {0, 10, 100, 100, 20, 30, 100, 104, 255, 255, 1, 2, 255, 251, 3, 4};
  grey_png("r1/x.png", 4, 4, v);
  load_one("r1", 1, 2, 2, &ds);
  uint8_t want1[4] = {15, 101, 254, 3}; /* 2.5 rounds up */
  CHECK(ds.count == 1 && memcmp(ds.pixels, want1, 4) == 0, "area 4x4 -> 2x2: %d %d %d %d",
        ds.pixels[0], ds.pixels[1], ds.pixels[2], ds.pixels[3]);
  clgan_dataset_free(&ds);
  /* shrink 3 -> 2 wide (fractional coverage), keep 1 high */
  mkdir(io_path("r2"), 0755);
  uint8_t v2[3] = {0, 90, 180};
  grey_png("r2/x.png", 3, 1, v2);
  load_one("r2", 1, 1, 2, &ds);
  CHECK(ds.pixels[0] == 30 && ds.pixels[1] == 150, "area 3 -> 2: %d %d (want 30 150)",
        ds.pixels[0], ds.pixels[1]);
  clgan_dataset_free(&ds);
  /* grow 2 -> 4 wide, 1 -> 2 high: bilinear, half-pixel centres, clamped edges */
  load_one("r2", 1, 2, 6, &ds); /* 3 -> 6 */
  uint8_t want3[6] = {0, 23, 68, 113, 158, 180};
  for (int y = 0; y < 2; y++)
    for (int x = 0; x < 6; x++)
      CHECK(ds.pixels[y * 6 + x] == want3[x], "bilinear 3 -> 6 (%d,%d): %d want %d", y, x,
            ds.pixels[y * 6 + x], want3[x]);
  clgan_dataset_free(&ds);
  /* shrink one axis, grow the other, with RGB -> RGB */
  mkdir(io_path("r3"), 0755);
  uint8_t v3[2 * 2 * 3] = {0, 0, 0, 200, 100, 40, 0, 0, 0, 200, 100, 40};
  CHECK_OK(clgan_png_write(io_path("r3/x.png"), v3, 2, 2, 3));
  load_one("r3", 3, 1, 4, &ds); /* height 2 -> 1 (mean), width 2 -> 4 (0, .25, .75, 1) */
  uint8_t want4[3][4] = {{0, 50, 150, 200}, {0, 25, 75, 100}, {0, 10, 30, 40}};
  for (int c = 0; c < 3; c++)
    for (int x = 0; x < 4; x++)
      CHECK(ds.pixels[c * 4 + x] == want4[c][x], "mixed resize c%d x%d: %d want %d", c, x,
            ds.pixels[c * 4 + x], want4[c][x]);
  clgan_dataset_free(&ds);
  /* IDX 4x3 into a (3, 2, 3) model: rows averaged in pairs, grey replicated */
  CHECK_OK(clgan_dataset_load(io_path("plain/train-images-idx3-ubyte"), 3, 2, 3, 0, &ds));
  int bad = 0;
  for (int i = 0; i < N && ds.count == N; i++)
    for (int y = 0; y < 2; y++)
      for (int x = 0; x < 3; x++) {
        const uint8_t *src = images + i * ROWS * COLS;
        int want = (int)((src[(2 * y) * COLS + x] + src[(2 * y + 1) * COLS + x]) / 2.0 + 0.5);
        for (int c = 0; c < 3; c++)
          bad += ds.pixels[((i * 3 + c) * 2 + y) * 3 + x] != want;
      }
  CHECK(ds.count == N && bad == 0, "IDX resize: %d wrong pixels", bad);
  clgan_dataset_free(&ds);
}

static void check_fashion_mnist(void) {
  FILE *f = fopen(CLGAN_DEFAULT_DATA, "rb");
  if (!f) {
    printf("Fashion-MNIST not installed (%s): real-data check skipped\n", CLGAN_DEFAULT_DATA);
    return;
  }
  fclose(f);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  clgan_dataset ds;
  CHECK_OK(clgan_dataset_load(NULL, 1, 28, 28, 0, &ds));
  clock_gettime(CLOCK_MONOTONIC, &t1);
  CHECK(ds.count == 60000 && ds.height == 28 && ds.width == 28, "got %d images", ds.count);
  CHECK(ds.labels != NULL, "Fashion-MNIST labels not found");
  if (ds.labels && ds.count == 60000) {
    int per[10] = {0}, out = 0;
    for (int i = 0; i < ds.count; i++) {
      if (ds.labels[i] < 0 || ds.labels[i] > 9)
        out++;
      else
        per[ds.labels[i]]++;
    }
    CHECK(out == 0, "%d labels outside 0..9", out);
    for (int k = 0; k < 10; k++) CHECK(per[k] == 6000, "class %d has %d images", k, per[k]);
    CHECK(ds.labels[0] == 9, "the first training image is an ankle boot (9), got %d",
          ds.labels[0]);
    CHECK(ds.classes == 10 && ds.class_names && !strcmp(ds.class_names[9], "Ankle boot"),
          "Fashion-MNIST class names");
    double mean = 0;
    for (size_t i = 0; i < (size_t)60000 * 784; i++) mean += ds.pixels[i];
    mean /= 60000.0 * 784;
    CHECK(mean > 72 && mean < 74, "mean pixel %.2f, Fashion-MNIST's is 72.94", mean);
  }
  printf("Fashion-MNIST: %d images loaded in %.2f s: %s\n", ds.count,
         (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9, ds.source);
  clgan_dataset_free(&ds);
}

int main(void) {
  check_idx_roundtrip();
  check_idx_errors();
  check_absurd_headers();
  check_png_folder();
  check_png_classes();
  check_too_many_classes();
  check_resize();
  check_fashion_mnist();
  return tu_finish("dataset");
}
