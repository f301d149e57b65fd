/* safetensors files: writing (atomic, with a SHA-256 of the data in __metadata__) and
 * reading with full validation, safe on any input. Tests: tests/io/test_safetensors.c */
#include <stdarg.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"
#include "internal.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; this file assumes a little-endian host"
#endif

/* A hostile header length must not turn into a huge allocation: real headers are a few KB
 * (the reference implementation caps them at 100 MB too). */
#define ST_MAX_HEADER ((uint64_t)100 << 20)
#define ST_MAX_FILE ((size_t)1 << 40)
#define ST_HASH_KEY "clgan_sha256"

static size_t dtype_size(clgan_dtype d) { return d == CLGAN_DTYPE_I64 ? 8 : 4; }
static const char *dtype_name(clgan_dtype d) { return d == CLGAN_DTYPE_I64 ? "I64" : "F32"; }

/* ---- writing ---- */

/* The reference implementation's order: larger dtypes first, then by name. With the header
 * padded to 8 bytes this keeps every tensor aligned to its element size. */
static int cmp_tensor(const void *a, const void *b) {
  const clgan_st_tensor *x = *(const clgan_st_tensor *const *)a;
  const clgan_st_tensor *y = *(const clgan_st_tensor *const *)b;
  size_t sx = dtype_size(x->dtype), sy = dtype_size(y->dtype);
  if (sx != sy) return sx > sy ? -1 : 1;
  return strcmp(x->name, y->name);
}

static clgan_status check_tensor(const char *path, const clgan_st_tensor *t) {
  size_t nlen = strnlen(t->name, sizeof t->name);
  if (nlen == 0 || nlen == sizeof t->name || strcmp(t->name, "__metadata__") == 0)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "writing '%s': bad tensor name '%.*s'", path,
                       (int)nlen, t->name);
  if (t->dtype != CLGAN_DTYPE_F32 && t->dtype != CLGAN_DTYPE_I64)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "writing '%s': tensor '%s' has unknown dtype %d",
                       path, t->name, (int)t->dtype);
  if (t->ndim < 0 || t->ndim > 8)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "writing '%s': tensor '%s' has %d dimensions "
                       "(0..8)", path, t->name, t->ndim);
  uint64_t count = 1;
  for (int d = 0; d < t->ndim; d++) {
    if (t->shape[d] < 0 ||
        (t->shape[d] > 0 && count > (UINT64_MAX / 8) / (uint64_t)t->shape[d]))
      return clgan_error(CLGAN_ERR_INVALID_ARG, "writing '%s': tensor '%s' has a bad shape",
                         path, t->name);
    count *= (uint64_t)t->shape[d];
  }
  if (count * dtype_size(t->dtype) != t->nbytes || (t->nbytes && !t->data))
    return clgan_error(CLGAN_ERR_INVALID_ARG, "writing '%s': tensor '%s' has %zu bytes of data "
                       "but its shape and dtype need %llu", path, t->name, t->nbytes,
                       (unsigned long long)(count * dtype_size(t->dtype)));
  return CLGAN_OK;
}

static clgan_status build_header(const char *path, const clgan_st_tensor *const *order, int n,
                                 const char *const *keys, const char *const *values, int nmeta,
                                 const char *hash_hex, json_object **out) {
  json_object *root = json_object_new_object(), *meta = json_object_new_object();
  if (!root || !meta) goto nomem;
  for (int i = 0; i < nmeta; i++) {
    if (!keys[i] || !values[i] || strcmp(keys[i], ST_HASH_KEY) == 0 ||
        json_object_object_get_ex(meta, keys[i], NULL)) {
      json_object_put(meta);
      json_object_put(root);
      return clgan_error(CLGAN_ERR_INVALID_ARG, "writing '%s': metadata key %d ('%s') is NULL, "
                         "repeated or reserved", path, i, keys[i] ? keys[i] : "(null)");
    }
    if (json_object_object_add(meta, keys[i], json_object_new_string(values[i])) != 0)
      goto nomem;
  }
  if (json_object_object_add(meta, ST_HASH_KEY, json_object_new_string(hash_hex)) != 0)
    goto nomem;
  if (json_object_object_add(root, "__metadata__", meta) != 0) goto nomem;
  meta = NULL;
  uint64_t offset = 0;
  for (int i = 0; i < n; i++) {
    const clgan_st_tensor *t = order[i];
    if (json_object_object_get_ex(root, t->name, NULL)) {
      json_object_put(root);
      return clgan_error(CLGAN_ERR_INVALID_ARG, "writing '%s': tensor name '%s' appears twice",
                         path, t->name);
    }
    json_object *e = json_object_new_object(), *shape = json_object_new_array();
    json_object *offs = json_object_new_array();
    if (!e || !shape || !offs || json_object_object_add(root, t->name, e) != 0) {
      json_object_put(e);
      json_object_put(shape);
      json_object_put(offs);
      goto nomem;
    }
    json_object_object_add(e, "dtype", json_object_new_string(dtype_name(t->dtype)));
    for (int d = 0; d < t->ndim; d++)
      json_object_array_add(shape, json_object_new_int64(t->shape[d]));
    json_object_object_add(e, "shape", shape);
    json_object_array_add(offs, json_object_new_uint64(offset));
    json_object_array_add(offs, json_object_new_uint64(offset + t->nbytes));
    json_object_object_add(e, "data_offsets", offs);
    offset += t->nbytes;
  }
  *out = root;
  return CLGAN_OK;
nomem:
  json_object_put(meta);
  json_object_put(root);
  return clgan_error(CLGAN_ERR_NOMEM, "out of host memory writing '%s'", path);
}

clgan_status clgan_safetensors_write(const char *path, const clgan_st_tensor *tensors, int n,
                                     const char *const *keys, const char *const *values,
                                     int nmeta) {
  if (!path || n < 0 || (n > 0 && !tensors) || nmeta < 0 || (nmeta > 0 && (!keys || !values)))
    return clgan_error(CLGAN_ERR_INVALID_ARG, "writing safetensors '%s': bad arguments",
                       path ? path : "(null)");
  for (int i = 0; i < n; i++) {
    clgan_status s = check_tensor(path, &tensors[i]);
    if (s != CLGAN_OK) return s;
  }
  const clgan_st_tensor **order = malloc((size_t)(n ? n : 1) * sizeof *order);
  const void **parts = malloc((size_t)(n + 2) * sizeof *parts);
  size_t *sizes = malloc((size_t)(n + 2) * sizeof *sizes);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (!order || !parts || !sizes || !md) {
    free(order), free(parts), free(sizes);
    EVP_MD_CTX_free(md);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory writing '%s'", path);
  }
  for (int i = 0; i < n; i++) order[i] = &tensors[i];
  qsort(order, (size_t)n, sizeof *order, cmp_tensor);

  /* the data is hashed in place, in file order, and written from the caller's buffers */
  uint8_t digest[32];
  unsigned int dlen = 32;
  EVP_DigestInit_ex(md, EVP_sha256(), NULL);
  for (int i = 0; i < n; i++) {
    const clgan_st_tensor *t = order[i];
    if (t->nbytes) EVP_DigestUpdate(md, t->data, t->nbytes);
    parts[i + 2] = t->data;
    sizes[i + 2] = t->nbytes;
  }
  EVP_DigestFinal_ex(md, digest, &dlen);
  EVP_MD_CTX_free(md);
  char hex[65];
  clgan_hex(digest, 32, hex);

  json_object *root = NULL;
  clgan_status s = build_header(path, order, n, keys, values, nmeta, hex, &root);
  char *header = NULL;
  if (s == CLGAN_OK) {
    size_t jlen = 0;
    const char *js = json_object_to_json_string_length(
        root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &jlen);
    size_t hlen = (jlen + 7) & ~(size_t)7; /* spaces pad the data start to 8 bytes */
    header = js ? malloc(8 + hlen) : NULL;
    if (!header) {
      s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory writing '%s'", path);
    } else {
      for (int b = 0; b < 8; b++) header[b] = (char)(((uint64_t)hlen >> (8 * b)) & 0xff);
      memcpy(header + 8, js, jlen);
      memset(header + 8 + jlen, ' ', hlen - jlen);
      parts[0] = header;
      sizes[0] = 8;
      parts[1] = header + 8;
      sizes[1] = hlen;
      s = clgan_write_file_atomic(path, parts, sizes, n + 2);
    }
  }
  json_object_put(root);
  free(header);
  free(order), free(parts), free(sizes);
  return s;
}

/* ---- reading ---- */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static clgan_status bad(const char *path, const char *fmt, ...) {
  char reason[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  return clgan_error(CLGAN_ERR_FORMAT, "'%s' is not a valid safetensors file: %s", path, reason);
}

/* A JSON integer in 0..2^63-1 (json-c keeps integers up to 2^64-1; doubles are refused). */
static int json_u63(json_object *o, uint64_t *v) {
  if (!o || !json_object_is_type(o, json_type_int)) return 0;
  if (json_object_get_int64(o) < 0) return 0;
  uint64_t u = json_object_get_uint64(o);
  if (u > (uint64_t)INT64_MAX) return 0;
  *v = u;
  return 1;
}

typedef struct span {
  uint64_t begin, end;
  int tensor;
} span;

static int cmp_span(const void *a, const void *b) {
  const span *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  if (x->end != y->end) return x->end < y->end ? -1 : 1;
  return 0;
}

static clgan_status parse_tensor(const char *path, const char *name, json_object *e,
                                 clgan_st_tensor *t, uint64_t data_size, span *sp) {
  json_object *dt, *shape, *offs;
  if (!json_object_is_type(e, json_type_object))
    return bad(path, "the entry of tensor '%s' is not a JSON object", name);
  if (!json_object_object_get_ex(e, "dtype", &dt) || !json_object_is_type(dt, json_type_string))
    return bad(path, "tensor '%s' has no \"dtype\" string", name);
  if (!json_object_object_get_ex(e, "shape", &shape) ||
      !json_object_is_type(shape, json_type_array))
    return bad(path, "tensor '%s' has no \"shape\" array", name);
  if (!json_object_object_get_ex(e, "data_offsets", &offs) ||
      !json_object_is_type(offs, json_type_array) || json_object_array_length(offs) != 2)
    return bad(path, "tensor '%s' has no \"data_offsets\" array of two integers", name);
  size_t nlen = strlen(name);
  if (nlen == 0 || nlen >= sizeof t->name)
    return bad(path, "tensor name '%.100s' is empty or longer than 159 bytes", name);
  memcpy(t->name, name, nlen + 1);
  const char *ds = json_object_get_string(dt);
  if (strcmp(ds, "F32") == 0 && json_object_get_string_len(dt) == 3)
    t->dtype = CLGAN_DTYPE_F32;
  else if (strcmp(ds, "I64") == 0 && json_object_get_string_len(dt) == 3)
    t->dtype = CLGAN_DTYPE_I64;
  else
    return bad(path, "tensor '%s' has dtype '%.40s', clgan reads F32 and I64", name, ds);
  size_t nd = json_object_array_length(shape);
  if (nd > 8) return bad(path, "tensor '%s' has more than 8 dimensions", name);
  t->ndim = (int)nd;
  uint64_t count = 1;
  for (size_t d = 0; d < nd; d++) {
    uint64_t v;
    if (!json_u63(json_object_array_get_idx(shape, d), &v))
      return bad(path, "tensor '%s' has a shape entry that is not a non-negative integer", name);
    t->shape[d] = (int64_t)v;
    /* the product can only matter up to the data size, so cap it instead of overflowing */
    if (count != 0) count = v != 0 && count > data_size / v ? data_size + 1 : count * v;
    if (v == 0) count = 0;
  }
  uint64_t b, e2;
  if (!json_u63(json_object_array_get_idx(offs, 0), &b) ||
      !json_u63(json_object_array_get_idx(offs, 1), &e2))
    return bad(path, "tensor '%s' has data_offsets that are not non-negative integers", name);
  char range[128];
  snprintf(range, sizeof range, "[%llu, %llu) of a %llu-byte data section",
           (unsigned long long)b, (unsigned long long)e2, (unsigned long long)data_size);
  if (b > e2) return bad(path, "tensor '%s' has data_offsets %s", name, range);
  if (e2 > data_size)
    return bad(path, "truncated: tensor '%s' has data_offsets %s", name, range);
  uint64_t need = count > data_size ? data_size + 1 : count * dtype_size(t->dtype);
  if (need != e2 - b)
    return bad(path, "tensor '%s': shape and dtype do not match the byte range %s", name, range);
  t->nbytes = (size_t)(e2 - b);
  sp->begin = b;
  sp->end = e2;
  return CLGAN_OK;
}

static clgan_status parse_meta(const char *path, json_object *meta, clgan_st_file *f) {
  if (!json_object_is_type(meta, json_type_object))
    return bad(path, "__metadata__ is not a JSON object");
  int n = json_object_object_length(meta);
  f->meta_keys = calloc((size_t)(n ? n : 1), sizeof(char *));
  f->meta_values = calloc((size_t)(n ? n : 1), sizeof(char *));
  if (!f->meta_keys || !f->meta_values)
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory reading '%s'", path);
  json_object_object_foreach(meta, k, v) {
    if (!json_object_is_type(v, json_type_string))
      return bad(path, "__metadata__ value of '%.100s' is not a string", k);
    int i = f->meta_count;
    f->meta_keys[i] = strdup(k);
    f->meta_values[i] = strdup(json_object_get_string(v));
    if (!f->meta_keys[i] || !f->meta_values[i]) {
      free(f->meta_keys[i]);
      free(f->meta_values[i]);
      return clgan_error(CLGAN_ERR_NOMEM, "out of host memory reading '%s'", path);
    }
    f->meta_count++;
  }
  return CLGAN_OK;
}

static clgan_status parse_header(const char *path, json_object *root, clgan_st_file *f,
                                 uint64_t data_size, span **spans_out) {
  if (!json_object_is_type(root, json_type_object))
    return bad(path, "the header is not a JSON object");
  int n = json_object_object_length(root);
  f->tensors = calloc((size_t)(n ? n : 1), sizeof *f->tensors);
  span *spans = calloc((size_t)(n ? n : 1), sizeof *spans);
  *spans_out = spans;
  if (!f->tensors || !spans)
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory reading '%s'", path);
  json_object_object_foreach(root, key, val) {
    clgan_status s;
    if (strcmp(key, "__metadata__") == 0) {
      s = parse_meta(path, val, f);
    } else {
      s = parse_tensor(path, key, val, &f->tensors[f->count], data_size, &spans[f->count]);
      spans[f->count].tensor = f->count;
      if (s == CLGAN_OK) f->count++;
    }
    if (s != CLGAN_OK) return s;
  }
  /* the tensors must tile the data section exactly: sorted by offset, each starting where
   * the previous ends, the last ending at the end of the file */
  qsort(spans, (size_t)f->count, sizeof *spans, cmp_span);
  uint64_t at = 0;
  for (int i = 0; i < f->count; i++) {
    if (spans[i].begin < at)
      return bad(path, "tensors '%s' and '%s' overlap (bytes %llu..%llu of the data)",
                 f->tensors[spans[i - 1].tensor].name, f->tensors[spans[i].tensor].name,
                 (unsigned long long)spans[i].begin, (unsigned long long)at);
    if (spans[i].begin > at)
      return bad(path, "bytes %llu..%llu of the data section belong to no tensor",
                 (unsigned long long)at, (unsigned long long)spans[i].begin);
    at = spans[i].end;
  }
  if (at != data_size)
    return bad(path, "bytes %llu..%llu at the end of the data section belong to no tensor",
               (unsigned long long)at, (unsigned long long)data_size);
  return CLGAN_OK;
}

static clgan_status check_hash(const char *path, const clgan_st_file *f, const uint8_t *data,
                               uint64_t size) {
  const char *want = clgan_safetensors_meta(f, ST_HASH_KEY);
  if (!want) return CLGAN_OK; /* files from other writers carry no hash */
  uint8_t digest[32];
  char hex[65];
  clgan_sha256(data, (size_t)size, digest);
  clgan_hex(digest, 32, hex);
  if (strcmp(hex, want) != 0)
    return bad(path, "integrity check failed: the data's SHA-256 is %s but the header's "
               ST_HASH_KEY " is '%.64s' (the file is corrupt)", hex, want);
  return CLGAN_OK;
}

static clgan_status read_validated(const char *path, clgan_st_file *f) {
  clgan_status s = clgan_read_file(path, ST_MAX_FILE, &f->data, &f->size);
  if (s != CLGAN_OK) return s;
  const uint8_t *p = f->data;
  if (f->size < 8)
    return bad(path, "truncated: %zu bytes, less than the 8-byte header length", f->size);
  uint64_t hlen = 0;
  for (int b = 0; b < 8; b++) hlen |= (uint64_t)p[b] << (8 * b);
  if (hlen > ST_MAX_HEADER || hlen < 2)
    return bad(path, "header length %llu at byte 0 is %s", (unsigned long long)hlen,
               hlen < 2 ? "too small for a JSON object" : "over the 100 MB limit");
  if (hlen > f->size - 8)
    return bad(path, "truncated: the header length at byte 0 says %llu bytes of JSON, but "
               "the file ends at byte %zu", (unsigned long long)hlen, f->size);
  const char *hdr = (const char *)p + 8;
  if (hdr[0] != '{') return bad(path, "the header at byte 8 does not start with '{'");
  json_tokener *tok = json_tokener_new();
  if (!tok) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory reading '%s'", path);
  json_object *root = json_tokener_parse_ex(tok, hdr, (int)hlen);
  enum json_tokener_error jerr = json_tokener_get_error(tok);
  size_t used = json_tokener_get_parse_end(tok);
  json_tokener_free(tok);
  if (!root || jerr != json_tokener_success) {
    json_object_put(root);
    return bad(path, "bad JSON in the header near byte %zu: %s", 8 + used,
               jerr == json_tokener_continue ? "it ends early" : json_tokener_error_desc(jerr));
  }
  for (size_t i = used; i < hlen; i++)
    if (hdr[i] != ' ' && hdr[i] != '\t' && hdr[i] != '\n' && hdr[i] != '\r') {
      json_object_put(root);
      return bad(path, "unexpected byte 0x%02x after the header's JSON at byte %zu",
                 (unsigned char)hdr[i], 8 + i);
    }
  uint64_t data_start = 8 + hlen, data_size = f->size - data_start;
  span *spans = NULL;
  s = parse_header(path, root, f, data_size, &spans);
  json_object_put(root);
  if (s == CLGAN_OK) s = check_hash(path, f, (const uint8_t *)f->data + data_start, data_size);
  if (s == CLGAN_OK) {
    /* the header is parsed: move the data down onto an 8-byte boundary (a no-op for padded
     * headers, as the format asks) so that aligned tensors can be read in place */
    size_t aligned = (size_t)data_start & ~(size_t)7;
    uint8_t *data = (uint8_t *)f->data + aligned;
    if (aligned != data_start) memmove(data, data + (data_start - aligned), (size_t)data_size);
    for (int i = 0; i < f->count; i++) f->tensors[spans[i].tensor].data = data + spans[i].begin;
  }
  free(spans);
  return s;
}

clgan_status clgan_safetensors_read(const char *path, clgan_st_file *out) {
  memset(out, 0, sizeof *out);
  if (!path) return clgan_error(CLGAN_ERR_INVALID_ARG, "reading safetensors: NULL path");
  clgan_status s = read_validated(path, out);
  if (s != CLGAN_OK) clgan_safetensors_free(out);
  return s;
}

const clgan_st_tensor *clgan_safetensors_find(const clgan_st_file *f, const char *name) {
  for (int i = 0; i < f->count; i++)
    if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
  return NULL;
}

const char *clgan_safetensors_meta(const clgan_st_file *f, const char *key) {
  for (int i = 0; i < f->meta_count; i++)
    if (strcmp(f->meta_keys[i], key) == 0) return f->meta_values[i];
  return NULL;
}

void clgan_safetensors_free(clgan_st_file *f) {
  if (!f) return;
  for (int i = 0; i < f->meta_count; i++) {
    free(f->meta_keys[i]);
    free(f->meta_values[i]);
  }
  free(f->meta_keys);
  free(f->meta_values);
  free(f->tensors);
  free(f->data);
  memset(f, 0, sizeof *f);
}
