/* safetensors: round trip (F32, I64, scalars, empty tensors, metadata), the byte layout
 * checked by hand, every malformed-file case with its reason, files from other writers,
 * failed writes that leave the old file intact, and a mutation smoke test. */
#include <json-c/json.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/resource.h>

#include "io_helpers.h"

static float w_data[6] = {0.5f, -1.25f, 3.0e-8f, 1e30f, -0.0f, 42.0f};
static float b_data[3] = {1.0f, 2.0f, 3.0f};
static int64_t step_data[1] = {1234567890123ll};
static int64_t rng_data[4] = {-1, 0, 1, INT64_MAX};

static int make_tensors(clgan_st_tensor t[5]) {
  memset(t, 0, 5 * sizeof *t);
  snprintf(t[0].name, sizeof t[0].name, "net.1.weight");
  t[0].dtype = CLGAN_DTYPE_F32, t[0].ndim = 2, t[0].shape[0] = 2, t[0].shape[1] = 3;
  t[0].data = w_data, t[0].nbytes = sizeof w_data;
  snprintf(t[1].name, sizeof t[1].name, "net.1.bias");
  t[1].dtype = CLGAN_DTYPE_F32, t[1].ndim = 1, t[1].shape[0] = 3;
  t[1].data = b_data, t[1].nbytes = sizeof b_data;
  snprintf(t[2].name, sizeof t[2].name, "step");
  t[2].dtype = CLGAN_DTYPE_I64, t[2].ndim = 0;
  t[2].data = step_data, t[2].nbytes = sizeof step_data;
  snprintf(t[3].name, sizeof t[3].name, "empty");
  t[3].dtype = CLGAN_DTYPE_F32, t[3].ndim = 2, t[3].shape[0] = 0, t[3].shape[1] = 4;
  snprintf(t[4].name, sizeof t[4].name, "rng");
  t[4].dtype = CLGAN_DTYPE_I64, t[4].ndim = 1, t[4].shape[0] = 4;
  t[4].data = rng_data, t[4].nbytes = sizeof rng_data;
  return 5;
}

static const char *meta_keys[2] = {"config", "clgan_version"};
static const char *meta_values[2] = {"{\"lr\": 0.0002, \"path\": \"a/b\"}", "0.1.0"};

static void check_roundtrip(const char *path) {
  clgan_st_tensor t[5];
  int n = make_tensors(t);
  CHECK_OK(clgan_safetensors_write(path, t, n, meta_keys, meta_values, 2));
  clgan_st_file f;
  CHECK_OK(clgan_safetensors_read(path, &f));
  CHECK(f.count == n, "%d tensors read, %d written", f.count, n);
  for (int i = 0; i < n; i++) {
    const clgan_st_tensor *g = clgan_safetensors_find(&f, t[i].name);
    CHECK(g != NULL, "tensor %s missing", t[i].name);
    if (!g) continue;
    CHECK(g->dtype == t[i].dtype && g->ndim == t[i].ndim && g->nbytes == t[i].nbytes,
          "%s: dtype %d ndim %d nbytes %zu", g->name, g->dtype, g->ndim, g->nbytes);
    for (int d = 0; d < t[i].ndim; d++)
      CHECK(g->shape[d] == t[i].shape[d], "%s: shape[%d] %lld", g->name, d,
            (long long)g->shape[d]);
    CHECK(t[i].nbytes == 0 || memcmp(g->data, t[i].data, t[i].nbytes) == 0,
          "%s: data differs", g->name);
    CHECK(((uintptr_t)g->data % (g->dtype == CLGAN_DTYPE_I64 ? 8 : 4)) == 0,
          "%s: data not aligned", g->name);
  }
  CHECK(clgan_safetensors_find(&f, "nope") == NULL, "found a tensor that is not there");
  const char *cfg = clgan_safetensors_meta(&f, "config");
  CHECK(cfg && strcmp(cfg, meta_values[0]) == 0, "config metadata '%s'", cfg ? cfg : "(null)");
  const char *ver = clgan_safetensors_meta(&f, "clgan_version");
  CHECK(ver && strcmp(ver, "0.1.0") == 0, "version metadata");
  const char *hash = clgan_safetensors_meta(&f, "clgan_sha256");
  CHECK(hash && strlen(hash) == 64, "clgan_sha256 metadata '%s'", hash ? hash : "(null)");
  CHECK(clgan_safetensors_meta(&f, "absent") == NULL, "absent metadata");
  clgan_safetensors_free(&f);
  CHECK(f.data == NULL && f.tensors == NULL && f.count == 0, "free clears");
}

/* The bytes, parsed here without the library: layout, order, padding, offsets, hash. */
static void check_layout(const char *path) {
  size_t n = 0;
  uint8_t *b = io_read_bytes(path, &n);
  uint64_t hlen = 0;
  for (int i = 0; i < 8; i++) hlen |= (uint64_t)b[i] << (8 * i);
  CHECK(hlen % 8 == 0 && 8 + hlen <= n, "header length %llu of a %zu-byte file",
        (unsigned long long)hlen, n);
  CHECK(b[8] == '{' && (b[8 + hlen - 1] == ' ' || b[8 + hlen - 1] == '}'), "header framing");
  char *js = malloc(hlen + 1);
  memcpy(js, b + 8, hlen);
  js[hlen] = '\0';
  json_object *root = json_tokener_parse(js);
  CHECK(root && json_object_is_type(root, json_type_object), "header is not a JSON object");
  /* data order: 8-byte dtypes first, then by name */
  struct {
    const char *name, *dtype;
    uint64_t begin, end;
    const void *data;
  } want[5] = {{"rng", "I64", 0, 32, rng_data},      {"step", "I64", 32, 40, step_data},
               {"empty", "F32", 40, 40, NULL},       {"net.1.bias", "F32", 40, 52, b_data},
               {"net.1.weight", "F32", 52, 76, w_data}};
  const uint8_t *data = b + 8 + hlen;
  CHECK(n - 8 - hlen == 76, "data section %zu bytes, want 76", (size_t)(n - 8 - hlen));
  for (int i = 0; root && i < 5; i++) {
    json_object *e, *dt, *offs;
    CHECK(json_object_object_get_ex(root, want[i].name, &e), "%s not in header", want[i].name);
    if (!json_object_object_get_ex(root, want[i].name, &e)) continue;
    json_object_object_get_ex(e, "dtype", &dt);
    json_object_object_get_ex(e, "data_offsets", &offs);
    CHECK(strcmp(json_object_get_string(dt), want[i].dtype) == 0, "%s dtype", want[i].name);
    uint64_t o0 = (uint64_t)json_object_get_int64(json_object_array_get_idx(offs, 0));
    uint64_t o1 = (uint64_t)json_object_get_int64(json_object_array_get_idx(offs, 1));
    CHECK(o0 == want[i].begin && o1 == want[i].end, "%s at [%llu, %llu), want [%llu, %llu)",
          want[i].name, (unsigned long long)o0, (unsigned long long)o1,
          (unsigned long long)want[i].begin, (unsigned long long)want[i].end);
    if (want[i].data && o1 <= 76)
      CHECK(memcmp(data + o0, want[i].data, o1 - o0) == 0, "%s bytes", want[i].name);
  }
  json_object *meta, *h;
  CHECK(root && json_object_object_get_ex(root, "__metadata__", &meta) &&
            json_object_object_get_ex(meta, "clgan_sha256", &h),
        "no __metadata__.clgan_sha256");
  uint8_t digest[32];
  unsigned int dlen = 32;
  EVP_Digest(data, 76, digest, &dlen, EVP_sha256(), NULL);
  char hex[65];
  for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  CHECK(root && strcmp(json_object_get_string(h), hex) == 0, "hash %s, want %s",
        json_object_get_string(h), hex);
  /* the JSON keys: __metadata__ first, then the tensors in data order */
  int k = 0;
  if (root) {
    json_object_object_foreach(root, key, val) {
      (void)val;
      const char *w = k == 0 ? "__metadata__" : k <= 5 ? want[k - 1].name : "?";
      CHECK(strcmp(key, w) == 0, "key %d is %s, want %s", k, key, w);
      k++;
    }
  }
  json_object_put(root);
  free(js);
  free(b);
}

/* Writes a file from a header string (padded with spaces to 8 unless `raw`) and data. */
static const char *hand_file(const char *name, const char *json, const void *data, size_t n,
                             int raw) {
  size_t jl = strlen(json), hl = raw ? jl : (jl + 7) / 8 * 8;
  uint8_t *b = calloc(8 + hl + n + 1, 1);
  for (int i = 0; i < 8; i++) b[i] = (uint8_t)((uint64_t)hl >> (8 * i));
  memcpy(b + 8, json, jl);
  memset(b + 8 + jl, ' ', hl - jl);
  if (n) memcpy(b + 8 + hl, data, n);
  const char *p = io_path(name);
  io_write_bytes(p, b, 8 + hl + n);
  free(b);
  return p;
}

static void expect_bad(const char *path, const char *reason) {
  clgan_st_file f;
  f.data = (void *)1;
  CHECK_FAILS(clgan_safetensors_read(path, &f), CLGAN_ERR_FORMAT, reason);
  CHECK_MSG(path);
  CHECK(f.data == NULL && f.tensors == NULL && f.meta_keys == NULL, "failure leaves *out empty");
}

static void check_bad_files(const char *good) {
  size_t n = 0;
  uint8_t *b = io_read_bytes(good, &n);
  uint64_t hlen = 0;
  for (int i = 0; i < 8; i++) hlen |= (uint64_t)b[i] << (8 * i);
  /* a flipped data byte */
  b[n - 3] ^= 0x01;
  io_write_bytes(io_path("flip.st"), b, n);
  expect_bad(io_path("flip.st"), "integrity check failed");
  b[n - 3] ^= 0x01;
  /* truncated: in the data, in the header, before the length */
  io_write_bytes(io_path("cut1.st"), b, n - 1);
  expect_bad(io_path("cut1.st"), "truncated: tensor 'net.1.weight' has data_offsets [52, 76)");
  io_write_bytes(io_path("cut2.st"), b, 8 + hlen / 2);
  expect_bad(io_path("cut2.st"), "truncated: the header length at byte 0 says");
  io_write_bytes(io_path("cut3.st"), b, 5);
  expect_bad(io_path("cut3.st"), "truncated: 5 bytes");
  io_write_bytes(io_path("zero.st"), b, 0);
  expect_bad(io_path("zero.st"), "truncated: 0 bytes");
  /* bad JSON: a quote replaced inside the header */
  uint8_t *q = memchr(b + 9, '"', hlen);
  *q = 'x';
  io_write_bytes(io_path("json.st"), b, n);
  expect_bad(io_path("json.st"), "bad JSON in the header near byte");
  *q = '"';
  /* huge header lengths */
  uint8_t huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'};
  io_write_bytes(io_path("huge.st"), huge, 16);
  expect_bad(io_path("huge.st"), "over the 100 MB limit");
  uint64_t l = 200ull << 20;
  for (int i = 0; i < 8; i++) huge[i] = (uint8_t)(l >> (8 * i));
  io_write_bytes(io_path("huge2.st"), huge, 16);
  expect_bad(io_path("huge2.st"), "header length 209715200 at byte 0 is over");
  free(b);

  float d[4] = {1, 2, 3, 4};
  expect_bad(hand_file("overlap.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":"
                       "[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]},"
                       "\"c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}",
                       d, 16, 0),
             "tensors 'a' and 'b' overlap");
  expect_bad(hand_file("gap.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":"
                       "[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
                       d, 16, 0),
             "bytes 4..8 of the data section belong to no tensor");
  expect_bad(hand_file("tail.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":"
                       "[0,12]}}", d, 16, 0),
             "bytes 12..16 at the end of the data section belong to no tensor");
  expect_bad(hand_file("shape.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":"
                       "[0,16]}}", d, 16, 0),
             "tensor 'a': shape and dtype do not match the byte range [0, 16)");
  expect_bad(hand_file("i64.st", "{\"a\":{\"dtype\":\"I64\",\"shape\":[4],\"data_offsets\":"
                       "[0,16]}}", d, 16, 0),
             "shape and dtype do not match");
  expect_bad(hand_file("f16.st", "{\"a\":{\"dtype\":\"F16\",\"shape\":[8],\"data_offsets\":"
                       "[0,16]}}", d, 16, 0),
             "dtype 'F16', clgan reads F32 and I64");
  expect_bad(hand_file("neg.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":"
                       "[-4,12]}}", d, 16, 0),
             "data_offsets that are not non-negative integers");
  expect_bad(hand_file("dbl.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4.0],\"data_offsets\":"
                       "[0,16]}}", d, 16, 0),
             "shape entry that is not a non-negative integer");
  expect_bad(hand_file("big.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,"
                       "4294967296,4294967296],\"data_offsets\":[0,16]}}", d, 16, 0),
             "shape and dtype do not match");
  expect_bad(hand_file("rev.st", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":"
                       "[16,0]}}", d, 16, 0),
             "data_offsets [16, 0)");
  expect_bad(hand_file("nodt.st", "{\"a\":{\"shape\":[4],\"data_offsets\":[0,16]}}", d, 16, 0),
             "tensor 'a' has no \"dtype\" string");
  expect_bad(hand_file("arr.st", "{\"a\":[1,2]}", d, 0, 0), "not a JSON object");
  expect_bad(hand_file("meta.st", "{\"__metadata__\":{\"k\":3}}", d, 0, 0),
             "__metadata__ value of 'k' is not a string");
  expect_bad(hand_file("list.st", "[{\"a\":1}]", d, 0, 0), "does not start with '{'");
  expect_bad(hand_file("trail.st", "{} x", d, 0, 1), "unexpected byte 0x78");
  expect_bad(hand_file("open.st", "{\"a\":", d, 0, 1), "bad JSON");
  expect_bad(hand_file("hash.st", "{\"__metadata__\":{\"clgan_sha256\":\"00\"},\"a\":{\"dtype\":"
                       "\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", d, 16, 0),
             "integrity check failed");
  char missing[64];
  snprintf(missing, sizeof missing, "%s", io_path("absent.st"));
  clgan_st_file f;
  CHECK_FAILS(clgan_safetensors_read(missing, &f), CLGAN_ERR_IO, "absent.st");
}

/* Files from other writers: no hash, an unpadded header, keys in any order. */
static void check_foreign(void) {
  uint8_t data[4 + 16];
  float v = 2.5f;
  int64_t iv[2] = {7, -9};
  memcpy(data, &v, 4);
  memcpy(data + 4, iv, 16);
  const char *p = hand_file("foreign.st", "{\"x\":{\"data_offsets\":[0,4],\"shape\":[],\"dtype\":"
                            "\"F32\"},\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":"
                            "[4,20]},\"__metadata__\":{\"format\":\"pt\"}}",
                            data, sizeof data, 1);
  clgan_st_file f;
  CHECK_OK(clgan_safetensors_read(p, &f));
  const clgan_st_tensor *x = clgan_safetensors_find(&f, "x");
  const clgan_st_tensor *ids = clgan_safetensors_find(&f, "ids");
  CHECK(x && x->ndim == 0 && x->nbytes == 4 && memcmp(x->data, &v, 4) == 0, "scalar x");
  CHECK(ids && ids->ndim == 1 && ids->shape[0] == 2 && memcmp(ids->data, iv, 16) == 0, "ids");
  CHECK(clgan_safetensors_meta(&f, "format") && !clgan_safetensors_meta(&f, "clgan_sha256"),
        "foreign metadata");
  CHECK(((uintptr_t)((const uint8_t *)x->data) % 8) == 0, "unpadded header: data realigned");
  clgan_safetensors_free(&f);
  /* an empty file: just "{}" */
  p = hand_file("emptyhdr.st", "{}", NULL, 0, 0);
  CHECK_OK(clgan_safetensors_read(p, &f));
  CHECK(f.count == 0 && f.meta_count == 0, "empty header: %d tensors", f.count);
  clgan_safetensors_free(&f);
}

static void check_write_errors(const char *good) {
  clgan_st_tensor t[5];
  int n = make_tensors(t);
  CHECK_FAILS(clgan_safetensors_write(io_path("nodir/x.st"), t, n, NULL, NULL, 0), CLGAN_ERR_IO,
              "nodir/x.st");
  clgan_st_tensor bad[2];
  memcpy(bad, t, sizeof bad);
  bad[1] = bad[0];
  CHECK_FAILS(clgan_safetensors_write(io_path("dup.st"), bad, 2, NULL, NULL, 0),
              CLGAN_ERR_INVALID_ARG, "appears twice");
  bad[1] = t[1];
  bad[1].nbytes = 8;
  CHECK_FAILS(clgan_safetensors_write(io_path("dup.st"), bad, 2, NULL, NULL, 0),
              CLGAN_ERR_INVALID_ARG, "'net.1.bias' has 8 bytes of data but its shape and dtype "
              "need 12");
  const char *k[1] = {"clgan_sha256"}, *v[1] = {"x"};
  CHECK_FAILS(clgan_safetensors_write(io_path("dup.st"), t, n, k, v, 1), CLGAN_ERR_INVALID_ARG,
              "reserved");

  /* a write that fails half-way (file size limit, as on a full disk) leaves the previous
   * file as it was and no temporary file behind */
  size_t before_n = 0;
  uint8_t *before = io_read_bytes(good, &before_n);
  static float big[4096];
  clgan_st_tensor bt = {.name = "big", .dtype = CLGAN_DTYPE_F32, .ndim = 1, .shape = {4096},
                        .data = big, .nbytes = sizeof big};
  struct rlimit old, lim;
  getrlimit(RLIMIT_FSIZE, &old);
  lim = old;
  lim.rlim_cur = 4096;
  signal(SIGXFSZ, SIG_IGN);
  int limited = setrlimit(RLIMIT_FSIZE, &lim) == 0;
  clgan_status s = clgan_safetensors_write(good, &bt, 1, NULL, NULL, 0);
  setrlimit(RLIMIT_FSIZE, &old);
  if (limited) {
    CHECK(s == CLGAN_ERR_IO, "write past the file size limit -> %s", clgan_status_name(s));
    CHECK_MSG("previous file");
  }
  size_t after_n = 0;
  uint8_t *after = io_read_bytes(good, &after_n);
  CHECK(after && after_n == before_n && memcmp(after, before, before_n) == 0,
        "the previous file changed");
  clgan_st_file f;
  CHECK_OK(clgan_safetensors_read(good, &f));
  CHECK(f.count == n, "previous file no longer loads");
  clgan_safetensors_free(&f);
  free(before);
  free(after);
  DIR *d = opendir(io_tmp);
  struct dirent *e;
  while (d && (e = readdir(d))) CHECK(!strstr(e->d_name, ".tmp."), "stray %s", e->d_name);
  if (d) closedir(d);
}

/* Random byte flips, inserts and cuts of a valid file: every result loads or is refused as
 * FORMAT; nothing else (sanitizer builds also catch any out-of-bounds access here). */
static void check_mutations(const char *good) {
  size_t n = 0;
  uint8_t *b = io_read_bytes(good, &n);
  uint8_t *m = malloc(n + 16);
  uint32_t seed = 12345;
  int ok = 0, refused = 0, other = 0;
  const char *p = io_path("mut.st");
  for (int it = 0; it < 1500; it++) {
    memcpy(m, b, n);
    size_t len = n;
    int edits = 1 + it % 4;
    for (int e = 0; e < edits; e++) {
      seed = seed * 1664525u + 1013904223u;
      size_t at = (seed >> 8) % len;
      uint8_t val = (uint8_t)(seed >> 24);
      switch (it % 3) {
      case 0: m[at] = val; break;
      case 1: m[at] ^= (uint8_t)(1u << (seed % 8)); break;
      default: len = at + 1; break;
      }
    }
    io_write_bytes(p, m, len);
    clgan_st_file f;
    clgan_status s = clgan_safetensors_read(p, &f);
    if (s == CLGAN_OK) {
      ok++;
      for (int i = 0; i < f.count; i++) {
        const uint8_t *t = f.tensors[i].data;
        CHECK(t >= (const uint8_t *)f.data && t + f.tensors[i].nbytes <= (const uint8_t *)f.data
              + f.size, "tensor %d outside the file", i);
      }
    } else if (s == CLGAN_ERR_FORMAT) {
      refused++;
      if (getenv("IO_DEBUG") && it % 100 == 0) printf("%d: %s\n", it, clgan_last_error());
    } else {
      other++;
    }
    clgan_safetensors_free(&f);
  }
  CHECK(other == 0, "%d mutations gave a status other than OK or FORMAT", other);
  CHECK(refused > 1250, "only %d of 1500 mutations refused", refused);
  printf("mutations: %d loaded (whitespace/metadata edits), %d refused\n", ok, refused);
  free(b);
  free(m);
}

int main(void) {
  static char good[1024];
  snprintf(good, sizeof good, "%s", io_path("good.safetensors"));
  check_roundtrip(good);
  check_layout(good);
  check_bad_files(good);
  check_foreign();
  check_mutations(good);
  check_write_errors(good);
  return tu_finish("safetensors");
}
