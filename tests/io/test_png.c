/* PNG: write/read round trips, the inputs clgan never writes (palette, 16-bit, grey+alpha,
 * 1-bit, tRNS), corrupt and lying files, and the sample grid's pixel layout. */
#include "io_helpers.h"

static void check_roundtrip(int channels) {
  int w = 7, h = 5;
  uint8_t px[7 * 5 * 4];
  for (int i = 0; i < w * h * channels; i++) px[i] = (uint8_t)(i * 37 + 11);
  char name[32];
  snprintf(name, sizeof name, "rt%d.png", channels);
  const char *path = io_path(name);
  CHECK_OK(clgan_png_write(path, px, w, h, channels));
  uint8_t *got = NULL;
  int gw, gh, gc;
  CHECK_OK(clgan_png_read(path, &got, &gw, &gh, &gc));
  CHECK(gw == w && gh == h && gc == channels, "%d channels: got %dx%d c%d", channels, gw, gh,
        gc);
  CHECK(got && memcmp(got, px, (size_t)(w * h * channels)) == 0, "%d channels: pixels differ",
        channels);
  free(got);
}

/* Reads path and compares with want (w x h x c). */
static void check_read(const char *path, int w, int h, int c, const uint8_t *want,
                       const char *what) {
  uint8_t *got = NULL;
  int gw, gh, gc;
  CHECK_OK(clgan_png_read(path, &got, &gw, &gh, &gc));
  CHECK(gw == w && gh == h && gc == c, "%s: got %dx%d with %d channels, want %dx%d with %d",
        what, gw, gh, gc, w, h, c);
  if (got && gw == w && gh == h && gc == c)
    for (int i = 0; i < w * h * c; i++)
      CHECK(got[i] == want[i], "%s: byte %d is %d, want %d", what, i, got[i], want[i]);
  free(got);
}

static void check_foreign_inputs(void) {
  /* palette, with a tRNS entry for index 1: RGBA out */
  png_color pal[3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
  uint8_t trns[2] = {255, 128};
  uint8_t idx[4] = {0, 1, 2, 1};
  io_write_png_raw(io_path("pal_t.png"), 4, 1, PNG_COLOR_TYPE_PALETTE, 8, idx, 4, pal, 3, trns,
                   2, NULL);
  uint8_t want_pt[16] = {255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 255, 0, 255, 0, 128};
  check_read(io_path("pal_t.png"), 4, 1, 4, want_pt, "palette + tRNS");
  /* 2-bit palette without tRNS: RGB out */
  uint8_t packed = (uint8_t)(0 << 6 | 1 << 4 | 2 << 2 | 0);
  io_write_png_raw(io_path("pal2.png"), 4, 1, PNG_COLOR_TYPE_PALETTE, 2, &packed, 1, pal, 3,
                   NULL, 0, NULL);
  uint8_t want_p2[12] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 0, 0};
  check_read(io_path("pal2.png"), 4, 1, 3, want_p2, "2-bit palette");
  /* 16-bit grey: v * 255 / 65535, rounded */
  uint16_t g16[4] = {0, 65535, 32768, 25700};
  uint8_t be[8];
  for (int i = 0; i < 4; i++) be[2 * i] = (uint8_t)(g16[i] >> 8), be[2 * i + 1] = (uint8_t)g16[i];
  io_write_png_raw(io_path("g16.png"), 2, 2, PNG_COLOR_TYPE_GRAY, 16, be, 4, NULL, 0, NULL, 0,
                   NULL);
  uint8_t want_g16[4] = {0, 255, 128, 100};
  check_read(io_path("g16.png"), 2, 2, 1, want_g16, "16-bit grey");
  /* 16-bit RGBA */
  uint8_t rgba16[16] = {0xff, 0xff, 0x00, 0x00, 0x80, 0x00, 0x40, 0x00,
                        0x00, 0x00, 0xff, 0xff, 0x01, 0x01, 0xfe, 0xfe};
  io_write_png_raw(io_path("rgba16.png"), 2, 1, PNG_COLOR_TYPE_RGB_ALPHA, 16, rgba16, 16, NULL,
                   0, NULL, 0, NULL);
  uint8_t want_rgba16[8] = {255, 0, 128, 64, 0, 255, 1, 254};
  check_read(io_path("rgba16.png"), 2, 1, 4, want_rgba16, "16-bit RGBA");
  /* grey + alpha */
  uint8_t ga[6] = {10, 255, 20, 0, 30, 100};
  io_write_png_raw(io_path("ga.png"), 3, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, ga, 6, NULL, 0, NULL,
                   0, NULL);
  check_read(io_path("ga.png"), 3, 1, 2, ga, "grey + alpha");
  /* 1-bit grey: 0/255 */
  uint8_t bits = 0xA0; /* 1 0 1 0 */
  io_write_png_raw(io_path("g1.png"), 4, 1, PNG_COLOR_TYPE_GRAY, 1, &bits, 1, NULL, 0, NULL, 0,
                   NULL);
  uint8_t want_g1[4] = {255, 0, 255, 0};
  check_read(io_path("g1.png"), 4, 1, 1, want_g1, "1-bit grey");
  /* grey with a tRNS colour: grey + alpha out, that value transparent */
  png_color_16 key = {.gray = 7};
  uint8_t gk[3] = {7, 8, 7};
  io_write_png_raw(io_path("gk.png"), 3, 1, PNG_COLOR_TYPE_GRAY, 8, gk, 3, NULL, 0, NULL, 0,
                   &key);
  uint8_t want_gk[6] = {7, 0, 8, 255, 7, 0};
  check_read(io_path("gk.png"), 3, 1, 2, want_gk, "grey + tRNS colour");
}

/* Builds a PNG chunk with a correct CRC at out; returns its length. */
static size_t chunk(uint8_t *out, const char *type, const uint8_t *data, uint32_t n) {
  out[0] = (uint8_t)(n >> 24), out[1] = (uint8_t)(n >> 16), out[2] = (uint8_t)(n >> 8);
  out[3] = (uint8_t)n;
  memcpy(out + 4, type, 4);
  if (n) memcpy(out + 8, data, n);
  uLong crc = crc32(0, out + 4, 4 + n);
  out[8 + n] = (uint8_t)(crc >> 24), out[9 + n] = (uint8_t)(crc >> 16);
  out[10 + n] = (uint8_t)(crc >> 8), out[11 + n] = (uint8_t)crc;
  return 12 + n;
}

/* A well-formed PNG whose header claims w x h RGBA pixels, with an IDAT that holds exactly
 * the 4x4 image's 4 * (1 + 16) zero bytes. */
static void write_lying_png(const char *path, uint32_t w, uint32_t h) {
  uint8_t buf[256];
  size_t n = 0;
  memcpy(buf, "\x89PNG\r\n\x1a\n", 8);
  n = 8;
  uint8_t ihdr[13] = {(uint8_t)(w >> 24), (uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w,
                      (uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h,
                      8, 6, 0, 0, 0};
  n += chunk(buf + n, "IHDR", ihdr, 13);
  uint8_t raw[68] = {0}, z[128];
  uLongf zn = sizeof z;
  compress(z, &zn, raw, sizeof raw);
  n += chunk(buf + n, "IDAT", z, (uint32_t)zn);
  n += chunk(buf + n, "IEND", NULL, 0);
  io_write_bytes(path, buf, n);
}

static void check_corrupt(void) {
  uint8_t *got = (uint8_t *)1;
  int w, h, c;
  CHECK_FAILS(clgan_png_read(io_path("absent.png"), &got, &w, &h, &c), CLGAN_ERR_IO,
              "absent.png");
  CHECK(got == NULL, "pixels not cleared on failure");
  io_write_bytes(io_path("text.png"), "hello, not a png", 16);
  CHECK_FAILS(clgan_png_read(io_path("text.png"), &got, &w, &h, &c), CLGAN_ERR_FORMAT,
              "no PNG signature");
  CHECK_MSG("text.png");

  uint8_t px[32 * 32 * 3];
  for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 7 ^ i >> 3);
  CHECK_OK(clgan_png_write(io_path("good.png"), px, 32, 32, 3));
  size_t n = 0;
  uint8_t *file = io_read_bytes(io_path("good.png"), &n);
  CHECK(n > 100, "good.png is %zu bytes", n);
  /* cut in the middle of the image data */
  io_write_bytes(io_path("cut.png"), file, n / 2);
  CHECK_FAILS(clgan_png_read(io_path("cut.png"), &got, &w, &h, &c), CLGAN_ERR_FORMAT, "cut.png");
  char ends[64];
  snprintf(ends, sizeof ends, "file ends at byte %zu", n / 2);
  CHECK_MSG(ends);
  /* cut inside the signature / IHDR */
  io_write_bytes(io_path("cut20.png"), file, 20);
  CHECK_FAILS(clgan_png_read(io_path("cut20.png"), &got, &w, &h, &c), CLGAN_ERR_FORMAT,
              "file ends at byte 20");
  /* a flipped byte inside IDAT: libpng's CRC check catches it */
  file[60] ^= 0x40;
  io_write_bytes(io_path("flip.png"), file, n);
  CHECK_FAILS(clgan_png_read(io_path("flip.png"), &got, &w, &h, &c), CLGAN_ERR_FORMAT,
              "flip.png");
  CHECK(got == NULL && w == 0 && h == 0 && c == 0, "outputs not cleared on failure");
  free(file);

  /* 30000 x 30000 RGBA (3.6 GB) in a ~100-byte file: refused before allocating */
  write_lying_png(io_path("lying.png"), 30000, 30000);
  CHECK_FAILS(clgan_png_read(io_path("lying.png"), &got, &w, &h, &c), CLGAN_ERR_FORMAT,
              "impossible for a");
  CHECK_MSG("lying.png");
  write_lying_png(io_path("huge.png"), 1000000, 2);
  CHECK_FAILS(clgan_png_read(io_path("huge.png"), &got, &w, &h, &c), CLGAN_ERR_FORMAT,
              "huge.png");
  /* the same construction with an honest size decodes */
  write_lying_png(io_path("small.png"), 4, 4);
  CHECK_OK(clgan_png_read(io_path("small.png"), &got, &w, &h, &c));
  CHECK(w == 4 && h == 4 && c == 4, "small.png: %dx%d c%d", w, h, c);
  free(got);
}

static void check_write_errors(void) {
  uint8_t px[4] = {1, 2, 3, 4};
  CHECK_FAILS(clgan_png_write(io_path("nodir/x.png"), px, 2, 2, 1), CLGAN_ERR_IO, "nodir/x.png");
  CHECK_FAILS(clgan_png_write(io_path("bad.png"), px, 2, 2, 2), CLGAN_ERR_INVALID_ARG,
              "2 channels");
  CHECK_FAILS(clgan_png_write(io_path("bad.png"), px, 0, 2, 1), CLGAN_ERR_INVALID_ARG, "bad.png");
  /* a successful write leaves no temporary file behind */
  mkdir(io_path("clean"), 0755);
  CHECK_OK(clgan_png_write(io_path("clean/x.png"), px, 2, 2, 1));
  DIR *d = opendir(io_path("clean"));
  int entries = 0;
  struct dirent *e;
  while (d && (e = readdir(d)))
    if (e->d_name[0] != '.') {
      entries++;
      CHECK(strcmp(e->d_name, "x.png") == 0, "stray file %s", e->d_name);
    }
  if (d) closedir(d);
  CHECK(entries == 1, "%d files after one write", entries);
}

static void check_grid(void) {
  /* three 1x2x2 images, 2 columns, padding 1: a 7x7 grid */
  float img[3 * 4] = {-1, -1, -1, -1, /* image 0: black */
                      1, 0, -0.5f, 2, /* image 1: 255, 128, 64, clamped 255 */
                      NAN, -3, 0.999f, -0.999f};
  CHECK_OK(clgan_png_write_grid(io_path("grid.png"), img, 3, 1, 2, 2, 2, 1));
  uint8_t *g = NULL;
  int w, h, c;
  CHECK_OK(clgan_png_read(io_path("grid.png"), &g, &w, &h, &c));
  CHECK(w == 7 && h == 7 && c == 1, "grid is %dx%d c%d, want 7x7 c1", w, h, c);
  if (g && w == 7 && h == 7) {
#define AT(x, y) g[(y) * 7 + (x)]
    /* image 1 sits at x = 1 + 1 * 3 = 4, y = 1 */
    CHECK(AT(4, 1) == 255 && AT(5, 1) == 128 && AT(4, 2) == 64 && AT(5, 2) == 255,
          "image 1: %d %d %d %d", AT(4, 1), AT(5, 1), AT(4, 2), AT(5, 2));
    /* image 2 at (1, 4): NaN -> 0, -3 -> 0, 0.999 -> 255, -0.999 -> 0 */
    CHECK(AT(1, 4) == 0 && AT(2, 4) == 0 && AT(1, 5) == 255 && AT(2, 5) == 0,
          "image 2: %d %d %d %d", AT(1, 4), AT(2, 4), AT(1, 5), AT(2, 5));
    int nonzero = 0;
    for (int i = 0; i < 49; i++) nonzero += g[i] != 0;
    CHECK(nonzero == 5, "%d non-zero pixels, want 5 (padding and the rest black)", nonzero);
#undef AT
  }
  free(g);

  /* RGB: channel planes become interleaved pixels; cols 0 = ceil(sqrt(5)) = 3 */
  float rgb[5 * 3 * 1 * 1];
  for (int i = 0; i < 5; i++) {
    rgb[i * 3 + 0] = 1.0f;
    rgb[i * 3 + 1] = -1.0f;
    rgb[i * 3 + 2] = 0.0f;
  }
  CHECK_OK(clgan_png_write_grid(io_path("grid3.png"), rgb, 5, 3, 1, 1, 0, 2));
  CHECK_OK(clgan_png_read(io_path("grid3.png"), &g, &w, &h, &c));
  CHECK(w == 3 * 3 + 2 && h == 2 * 3 + 2 && c == 3, "rgb grid is %dx%d c%d, want 11x8 c3", w, h,
        c);
  if (g && w == 11 && h == 8) {
    const uint8_t *p = g + ((2 + 3) * 11 + (2 + 3)) * 3; /* image 4: column 1, row 1 */
    CHECK(p[0] == 255 && p[1] == 0 && p[2] == 128, "image 4 pixel %d %d %d", p[0], p[1], p[2]);
    p = g + ((2 + 3) * 11 + (2 + 6)) * 3; /* the empty 6th slot stays black */
    CHECK(p[0] == 0 && p[1] == 0 && p[2] == 0, "empty slot %d %d %d", p[0], p[1], p[2]);
  }
  free(g);
  CHECK_FAILS(clgan_png_write_grid(io_path("g.png"), rgb, 5, 2, 1, 1, 0, 2),
              CLGAN_ERR_INVALID_ARG, "c 2");
}

int main(void) {
  check_roundtrip(1);
  check_roundtrip(3);
  check_roundtrip(4);
  check_foreign_inputs();
  check_corrupt();
  check_write_errors();
  check_grid();
  return tu_finish("png");
}
