/* Kernel programs: source lookup (embedded or $CLGAN_KERNEL_DIR), build options from the
 * device's OpenCL C version, one build per context, on-disk binary cache, launches.
 * Tests: tests/core/test_program.c, tests/core/test_cache.c, tests/core/test_program_unit.c */
#define _POSIX_C_SOURCE 200809L
#include "clgan/program.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clgan/version.h"
#include "internal.h"

#define CACHE_MAGIC "CLGANBIN"
#define CACHE_FORMAT 1u
/* header: magic(8) format(4) reserved(4) key(32) payload_size(8) payload_sha256(32) */
#define CACHE_HEADER 88
/* A program binary bigger than this is not a clgan kernel: treat the entry as damaged. */
#define CACHE_MAX_BYTES (512u << 20)

typedef struct {
  char *name;         /* kernels/<name>.cl stem */
  cl_program program;
  clgan_build_origin origin;
} program_entry;

typedef struct {
  int program;        /* index into programs */
  char *name;
  cl_kernel kernel;
} kernel_entry;

/* Grown on demand: the number of kernels grows with every op added, so no fixed limit. */
struct clgan_program_cache {
  char options[128];
  program_entry *programs;
  int nprograms, cap_programs;
  kernel_entry *kernels;
  int nkernels, cap_kernels;
};

static const char *options_for(int major, int minor) {
  /* The device's OpenCL C version decides; the platform version is not trusted
   * (NVIDIA's platform says 3.0 while its compiler is C 1.2). -cl-std=CL1.2 is rejected
   * by 1.0/1.1 compilers, and the kernels are plain 1.2 anyway. Never fast-math. */
  return major > 1 || (major == 1 && minor >= 2) ? "-cl-std=CL1.2" : "";
}

void clgan_build_options_for(int major, int minor, char *out, size_t cap) {
  snprintf(out, cap, "%s", options_for(major, minor));
}

static void programs_free(clgan_ctx *ctx);

/* The context's program cache, made on first use; its cleanup is registered then
 * (clgan_ctx_on_free, device.h). */
static clgan_status cache_of(clgan_ctx *ctx, struct clgan_program_cache **out) {
  *out = ctx->programs;
  if (*out) return CLGAN_OK;
  struct clgan_program_cache *pc = calloc(1, sizeof *pc);
  if (!pc) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  clgan_status s = clgan_ctx_on_free(ctx, CLGAN_LAYER_PROGRAM, programs_free);
  if (s != CLGAN_OK) {
    free(pc);
    return s;
  }
  clgan_build_options_for(ctx->info.cl_c_major, ctx->info.cl_c_minor, pc->options,
                          sizeof pc->options);
  *out = ctx->programs = pc;
  return CLGAN_OK;
}

static void programs_free(clgan_ctx *ctx) {
  struct clgan_program_cache *pc = ctx->programs;
  if (!pc) return;
  for (int i = 0; i < pc->nkernels; i++) {
    clReleaseKernel(pc->kernels[i].kernel);
    free(pc->kernels[i].name);
  }
  for (int i = 0; i < pc->nprograms; i++) {
    clReleaseProgram(pc->programs[i].program);
    free(pc->programs[i].name);
  }
  free(pc->kernels);
  free(pc->programs);
  free(pc);
  ctx->programs = NULL;
}

const char *clgan_build_options(const clgan_ctx *ctx) {
  return options_for(ctx->info.cl_c_major, ctx->info.cl_c_minor);
}

const char *clgan_cache_dir(void) {
  static _Thread_local char dir[4096];
  const char *off = getenv("CLGAN_CACHE");
  if (off && strcmp(off, "0") == 0) return NULL;
  const char *d = getenv("CLGAN_CACHE_DIR");
  if (d && *d) {
    snprintf(dir, sizeof dir, "%s", d);
    return dir;
  }
  const char *x = getenv("XDG_CACHE_HOME");
  if (x && *x) {
    snprintf(dir, sizeof dir, "%s/clgan", x);
    return dir;
  }
  const char *h = getenv("HOME");
  if (h && *h) {
    snprintf(dir, sizeof dir, "%s/.cache/clgan", h);
    return dir;
  }
  return NULL;
}

static const char *embedded_source(const char *name) {
  for (const clgan_kernel_source *s = clgan_kernel_sources(); s->name; s++)
    if (strcmp(s->name, name) == 0) return s->source;
  return NULL;
}

/* Source of kernels/<name><ext>: from $CLGAN_KERNEL_DIR when it has the file, else the
 * embedded copy. Returns a malloc'd string; `from` gets the path read, or "embedded". */
static clgan_status load_source(const char *name, const char *ext, char **out, char *from,
                                size_t from_cap) {
  *out = NULL;
  const char *dir = getenv("CLGAN_KERNEL_DIR");
  if (dir && *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, ext);
    if (access(path, F_OK) == 0) {
      void *data;
      size_t n;
      clgan_status s = clgan_read_file(path, 16u << 20, &data, &n);
      if (s != CLGAN_OK) return clgan_error_prefix("kernel source from $CLGAN_KERNEL_DIR: ");
      *out = data;
      snprintf(from, from_cap, "%s", path);
      return CLGAN_OK;
    }
  }
  const char *src = embedded_source(name);
  if (!src)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "no kernel file kernels/%s%s (embedded or in "
                       "$CLGAN_KERNEL_DIR)", name, ext);
  *out = strdup(src);
  snprintf(from, from_cap, "embedded");
  return *out ? CLGAN_OK : clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
}

/* OpenCL compilers see one string, not kernels/, so a program's `#include "X.clh"` lines
 * (at the start of a line) are replaced here by kernels/X.clh, framed by #line markers that
 * keep compiler messages pointing at the right file and line. Headers do not nest. Frees
 * *src and replaces it. */
static clgan_status inline_includes(char **src, const char *file) {
  const char *tag = "#include \"";
  size_t cap = strlen(*src) + 1, len = 0; /* cap >= len + what is left of *src + 1 */
  char *out = malloc(cap);
  if (!out) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  int line = 1;
  for (const char *p = *src; *p;) {
    const char *eol = strchr(p, '\n');
    size_t n = eol ? (size_t)(eol - p) + 1 : strlen(p);
    const char *q = NULL;
    char *text = NULL, hdr[128], from[4200];
    if (strncmp(p, tag, strlen(tag)) == 0 && (q = strchr(p + strlen(tag), '"')) && q < p + n) {
      size_t hl = (size_t)(q - p - strlen(tag));
      const char *name = p + strlen(tag);
      if (hl < 5 || hl >= sizeof hdr || strncmp(name + hl - 4, ".clh", 4) != 0) {
        free(out);
        return clgan_error(CLGAN_ERR_INVALID_ARG, "kernels/%s:%d: only #include \"NAME.clh\" "
                           "of a file in kernels/ is supported", file, line);
      }
      snprintf(hdr, sizeof hdr, "%.*s", (int)(hl - 4), name);
      clgan_status s = load_source(hdr, ".clh", &text, from, sizeof from);
      if (s) {
        free(out);
        return clgan_error_prefix("kernels/%s:%d: ", file, line);
      }
      size_t need = len + strlen(text) + strlen(hdr) + strlen(file) + 64 + strlen(p) + 1;
      char *grown = need > cap ? realloc(out, need) : out;
      if (!grown) {
        free(text);
        free(out);
        return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
      }
      out = grown;
      cap = need > cap ? need : cap;
      len += (size_t)sprintf(out + len, "#line 1 \"%s.clh\"\n%s\n#line %d \"%s\"\n", hdr, text,
                             line + 1, file);
      free(text);
    } else {
      memcpy(out + len, p, n); /* fits: cap >= len + strlen(p) + 1 holds throughout */
      len += n;
    }
    p += n;
    line++;
  }
  out[len] = '\0';
  free(*src);
  *src = out;
  return CLGAN_OK;
}

int clgan_cache_key(const clgan_device_info *i, const char *source, const char *options,
                    uint8_t key[32]) {
  const char *fields[] = {"clgan-kernel-cache-v2", CLGAN_VERSION_STRING, source, options,
                          i->platform_name, i->platform_version, i->name, i->vendor,
                          i->driver_version, i->opencl_c_version};
  size_t total = 0;
  for (size_t f = 0; f < sizeof fields / sizeof *fields; f++) total += strlen(fields[f]) + 1;
  char *buf = malloc(total);
  if (!buf) return -1;  /* a zero key would be shared by every program: no key at all */
  size_t at = 0;
  for (size_t f = 0; f < sizeof fields / sizeof *fields; f++) {
    size_t n = strlen(fields[f]) + 1; /* the NUL separates fields unambiguously */
    memcpy(buf + at, fields[f], n);
    at += n;
  }
  clgan_sha256(buf, total, key);
  free(buf);
  return 0;
}

static void cache_path(const char *dir, const uint8_t key[32], char *out, size_t cap) {
  char hex[65];
  clgan_hex(key, 32, hex);
  snprintf(out, cap, "%s/%s.bin", dir, hex);
}

/* Loads a cached binary; any mismatch or damage means "not cached" (never trusted). */
static int cache_load(const char *path, const uint8_t key[32], unsigned char **bin,
                      size_t *bin_size) {
  void *data;
  size_t n;
  if (clgan_read_file(path, CACHE_MAX_BYTES, &data, &n) != CLGAN_OK) {
    clgan_error_clear();
    return -1;
  }
  const unsigned char *p = data;
  uint64_t psize;
  uint32_t fmt;
  uint8_t sum[32];
  if (n < CACHE_HEADER || memcmp(p, CACHE_MAGIC, 8) != 0) goto bad;
  memcpy(&fmt, p + 8, 4);
  if (fmt != CACHE_FORMAT || memcmp(p + 16, key, 32) != 0) goto bad;
  memcpy(&psize, p + 48, 8);
  if (psize == 0 || psize != n - CACHE_HEADER) goto bad;
  clgan_sha256(p + CACHE_HEADER, (size_t)psize, sum);
  if (memcmp(sum, p + 56, 32) != 0) goto bad;
  *bin = malloc((size_t)psize);
  if (!*bin) goto bad;
  memcpy(*bin, p + CACHE_HEADER, (size_t)psize);
  *bin_size = (size_t)psize;
  free(data);
  return 0;
bad:
  free(data);
  return -1;
}

/* Writes the entry through a temp file + rename, so a reader (another process) sees the
 * old entry, no entry, or the whole new one; two writers at once each rename a complete
 * file. A cache that cannot be written only costs time: errors are dropped. */
static void cache_store(const char *dir, const char *path, const uint8_t key[32],
                        cl_program prog) {
  size_t bsize = 0;
  if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof bsize, &bsize, NULL) != CL_SUCCESS ||
      bsize == 0 || bsize > CACHE_MAX_BYTES - CACHE_HEADER)
    return;
  unsigned char *bin = malloc(bsize);
  if (!bin) return;
  unsigned char *bins[1] = {bin};
  if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) != CL_SUCCESS) {
    free(bin);
    return;
  }
  unsigned char hdr[CACHE_HEADER] = {0};
  memcpy(hdr, CACHE_MAGIC, 8);
  uint32_t fmt = CACHE_FORMAT;
  memcpy(hdr + 8, &fmt, 4);
  memcpy(hdr + 16, key, 32);
  uint64_t ps = bsize;
  memcpy(hdr + 48, &ps, 8);
  clgan_sha256(bin, bsize, hdr + 56);
  const void *parts[2] = {hdr, bin};
  size_t sizes[2] = {CACHE_HEADER, bsize};
  if (clgan_mkdirs(dir) != CLGAN_OK || clgan_write_file_atomic(path, parts, sizes, 2) != CLGAN_OK)
    clgan_error_clear();
  free(bin);
}

static clgan_status build_log_error(clgan_ctx *ctx, cl_program prog, const char *name,
                                    const char *from, cl_int err) {
  size_t n = 0;
  char *log = NULL;
  if (clGetProgramBuildInfo(prog, ctx->info.device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n) ==
          CL_SUCCESS && n > 0 && (log = malloc(n + 1)) != NULL) {
    if (clGetProgramBuildInfo(prog, ctx->info.device, CL_PROGRAM_BUILD_LOG, n, log, NULL) !=
        CL_SUCCESS)
      n = 0;
    log[n] = '\0';
  }
  int from_dir = strcmp(from, "embedded") != 0;
  clgan_status s = clgan_error(CLGAN_ERR_BUILD,
                               "building kernel file kernels/%s.cl%s%s%s for '%s' failed: %s "
                               "(options \"%s\")\n--- build log ---\n%s",
                               name, from_dir ? " (read from " : "", from_dir ? from : "",
                               from_dir ? ")" : "", ctx->info.name, clgan_cl_error_name(err),
                               ctx->programs->options, log && *log ? log : "(empty)");
  free(log);
  return s;
}

/* Reserves one more slot in a grown array; -1 when out of memory. */
static int grow(void **items, int *cap, int count, size_t item_size) {
  if (count < *cap) return 0;
  int ncap = *cap ? *cap * 2 : 16;
  void *p = realloc(*items, item_size * (size_t)ncap);
  if (!p) return -1;
  *items = p;
  *cap = ncap;
  return 0;
}

clgan_status clgan_program_get(clgan_ctx *ctx, const char *name, cl_program *out,
                               clgan_build_origin *origin) {
  struct clgan_program_cache *pc = NULL;
  clgan_status cs = cache_of(ctx, &pc);
  if (cs != CLGAN_OK) return cs;
  for (int i = 0; i < pc->nprograms; i++)
    if (strcmp(pc->programs[i].name, name) == 0) {
      *out = pc->programs[i].program;
      if (origin) *origin = CLGAN_BUILT_MEMORY;
      return CLGAN_OK;
    }
  char *entry_name = strdup(name);
  if (!entry_name ||
      grow((void **)&pc->programs, &pc->cap_programs, pc->nprograms, sizeof *pc->programs)) {
    free(entry_name);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory adding program %s", name);
  }

  char *common = NULL, *body = NULL;
  char common_from[4200], body_from[4200];
  clgan_status s = load_source("common", ".clh", &common, common_from, sizeof common_from);
  if (s == CLGAN_OK) s = load_source(name, ".cl", &body, body_from, sizeof body_from);
  if (s == CLGAN_OK) {
    char file[300];
    snprintf(file, sizeof file, "%s.cl", name);
    s = inline_includes(&body, file);
    if (s) free(body);
  }
  if (s != CLGAN_OK) {
    free(common);
    free(entry_name);
    return s;
  }
  size_t lc = strlen(common), lb = strlen(body);
  char *src = malloc(lc + lb + 64 + strlen(name));
  if (!src) {
    free(common);
    free(body);
    free(entry_name);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  /* #line keeps compiler messages pointing at the right file and line. */
  int hl = sprintf(src, "%s\n#line 1 \"%s.cl\"\n", common, name);
  memcpy(src + hl, body, lb + 1);
  free(common);
  free(body);

  const char *opts = pc->options;
  uint8_t key[32];
  char path[4200];
  const char *dir = clgan_cache_dir();
  if (dir && clgan_cache_key(&ctx->info, src, opts, key) != 0) dir = NULL;
  cl_program prog = NULL;
  cl_int e;
  clgan_build_origin org = CLGAN_BUILT_SOURCE;
  if (dir) {
    cache_path(dir, key, path, sizeof path);
    unsigned char *bin = NULL;
    size_t bsize = 0;
    if (cache_load(path, key, &bin, &bsize) == 0) {
      const unsigned char *bins[1] = {bin};
      cl_int bstatus = CL_INVALID_BINARY;
      prog = clCreateProgramWithBinary(ctx->context, 1, &ctx->info.device, &bsize, bins,
                                       &bstatus, &e);
      /* A binary the driver refuses (a driver update the key missed) is rebuilt from
       * source below and the entry replaced. */
      if (e == CL_SUCCESS && bstatus == CL_SUCCESS &&
          clBuildProgram(prog, 1, &ctx->info.device, opts, NULL, NULL) == CL_SUCCESS) {
        org = CLGAN_BUILT_DISK_CACHE;
      } else {
        if (e == CL_SUCCESS && prog) clReleaseProgram(prog);
        prog = NULL;
      }
      free(bin);
    }
  }
  if (!prog) {
    const char *srcs[1] = {src};
    prog = clCreateProgramWithSource(ctx->context, 1, srcs, NULL, &e);
    if (e != CL_SUCCESS) {
      free(src);
      free(entry_name);
      clgan_cl_check(e, "clCreateProgramWithSource");
      return clgan_error_prefix("kernels/%s.cl: ", name);
    }
    e = clBuildProgram(prog, 1, &ctx->info.device, opts, NULL, NULL);
    if (e != CL_SUCCESS) {
      s = build_log_error(ctx, prog, name, body_from, e);
      clReleaseProgram(prog);
      free(src);
      free(entry_name);
      return s;
    }
    if (dir) cache_store(dir, path, key, prog);
  }
  free(src);
  program_entry *pe = &pc->programs[pc->nprograms++];
  pe->name = entry_name;
  pe->program = prog;
  pe->origin = org;
  *out = prog;
  if (origin) *origin = org;
  return CLGAN_OK;
}

clgan_status clgan_kernel_get(clgan_ctx *ctx, const char *program, const char *kernel,
                              cl_kernel *out) {
  struct clgan_program_cache *pc = NULL;
  clgan_status cs = cache_of(ctx, &pc);
  if (cs != CLGAN_OK) return cs;
  for (int i = 0; i < pc->nkernels; i++)
    if (strcmp(pc->kernels[i].name, kernel) == 0 &&
        strcmp(pc->programs[pc->kernels[i].program].name, program) == 0) {
      *out = pc->kernels[i].kernel;
      return CLGAN_OK;
    }
  cl_program prog;
  clgan_status s = clgan_program_get(ctx, program, &prog, NULL);
  if (s != CLGAN_OK) return s;
  int pidx = 0;
  while (pc->programs[pidx].program != prog) pidx++;
  char *entry_name = strdup(kernel);
  if (!entry_name ||
      grow((void **)&pc->kernels, &pc->cap_kernels, pc->nkernels, sizeof *pc->kernels)) {
    free(entry_name);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory adding kernel %s", kernel);
  }
  cl_int e;
  cl_kernel k = clCreateKernel(prog, kernel, &e);
  if (e != CL_SUCCESS) {
    free(entry_name);
    clgan_cl_check(e, "clCreateKernel");
    return clgan_error_prefix("kernel '%s' in kernels/%s.cl: ", kernel, program);
  }
  kernel_entry *ke = &pc->kernels[pc->nkernels++];
  ke->program = pidx;
  ke->name = entry_name;
  ke->kernel = k;
  *out = k;
  return CLGAN_OK;
}

size_t clgan_kernel_local_size(clgan_ctx *ctx, cl_kernel k, size_t want) {
  size_t kmax = 0;
  if (clGetKernelWorkGroupInfo(k, ctx->info.device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kmax,
                               &kmax, NULL) != CL_SUCCESS || kmax == 0)
    kmax = ctx->info.max_work_group_size ? ctx->info.max_work_group_size : 1;
  if (ctx->info.max_work_group_size && kmax > ctx->info.max_work_group_size)
    kmax = ctx->info.max_work_group_size;
  size_t l = want < kmax ? want : kmax;
  /* round down to a power of two: reductions rely on it */
  size_t p = 1;
  while (p * 2 <= l) p *= 2;
  return p;
}

clgan_status clgan_launch(clgan_ctx *ctx, cl_kernel k, const char *name, cl_uint dims,
                          const size_t *global, const size_t *local) {
  for (cl_uint d = 0; d < dims; d++)
    if (global[d] == 0) return CLGAN_OK;
  cl_event ev = NULL; /* only while profiling (src/device/profile.c times it) */
  cl_int e = clEnqueueNDRangeKernel(ctx->queue, k, dims, NULL, global, local, 0, NULL,
                                    clgan_profile_active(ctx) ? &ev : NULL);
  if (e != CL_SUCCESS) {
    clgan_cl_check(e, "clEnqueueNDRangeKernel");
    return clgan_error_prefix("launching kernel '%s': ", name);
  }
  if (ev) clgan_profile_add_launch(ctx, name, ev);
  return CLGAN_OK;
}

clgan_status clgan_launch_1d(clgan_ctx *ctx, cl_kernel k, const char *name, size_t n,
                             size_t local_want) {
  if (n == 0) return CLGAN_OK;
  size_t l = clgan_kernel_local_size(ctx, k, local_want ? local_want : 64);
  size_t g = (n + l - 1) / l * l;
  return clgan_launch(ctx, k, name, 1, &g, &l);
}

clgan_status clgan_set_args(cl_kernel k, const char *name, int count, const clgan_karg *args) {
  for (int i = 0; i < count; i++) {
    cl_int e = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].ptr);
    if (e != CL_SUCCESS) {
      clgan_cl_check(e, "clSetKernelArg");
      return clgan_error_prefix("kernel '%s' argument %d: ", name, i);
    }
  }
  return CLGAN_OK;
}
