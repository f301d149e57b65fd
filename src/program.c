/* Kernel programs: source lookup (embedded or $CLGAN_KERNEL_DIR), build options from the
 * device's OpenCL C version, one build per context, on-disk binary cache, launches.
 * Tests: tests/test_program.c, tests/test_cache.c */
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
#define MAX_PROGRAMS 64
#define MAX_KERNELS 256

typedef struct {
  char name[64];
  cl_program program;
  clgan_build_origin origin;
} program_entry;

typedef struct {
  int program;  /* index into programs */
  char name[64];
  cl_kernel kernel;
} kernel_entry;

struct clgan_program_cache {
  char options[128];
  program_entry programs[MAX_PROGRAMS];
  int nprograms;
  kernel_entry kernels[MAX_KERNELS];
  int nkernels;
};

clgan_status clgan_programs_init(clgan_ctx *ctx) {
  ctx->programs = calloc(1, sizeof *ctx->programs);
  if (!ctx->programs) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  /* The device's OpenCL C version decides; the platform version is not trusted
   * (NVIDIA's platform says 3.0 while the compiler is C 1.2). Never fast-math. */
  const clgan_device_info *i = &ctx->info;
  if (i->cl_c_major > 1 || (i->cl_c_major == 1 && i->cl_c_minor >= 2))
    snprintf(ctx->programs->options, sizeof ctx->programs->options, "-cl-std=CL1.2");
  else
    ctx->programs->options[0] = '\0';
  return CLGAN_OK;
}

void clgan_programs_free(clgan_ctx *ctx) {
  struct clgan_program_cache *pc = ctx->programs;
  if (!pc) return;
  for (int i = 0; i < pc->nkernels; i++) clReleaseKernel(pc->kernels[i].kernel);
  for (int i = 0; i < pc->nprograms; i++) clReleaseProgram(pc->programs[i].program);
  free(pc);
  ctx->programs = NULL;
}

const char *clgan_build_options(const clgan_ctx *ctx) { return ctx->programs->options; }

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

/* Source of kernels/<name>.cl (or common.clh when name is "common"): from $CLGAN_KERNEL_DIR
 * when it has the file, else the embedded copy. Returns a malloc'd string. */
static clgan_status load_source(const char *name, const char *ext, char **out) {
  *out = NULL;
  const char *dir = getenv("CLGAN_KERNEL_DIR");
  if (dir && *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, ext);
    if (access(path, F_OK) == 0) {
      void *data;
      size_t n;
      clgan_status s = clgan_read_file(path, 16u << 20, &data, &n);
      if (s != CLGAN_OK) return s;
      *out = data;
      return CLGAN_OK;
    }
  }
  const char *src = embedded_source(name);
  if (!src)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "no kernel file kernels/%s%s (embedded or in "
                       "$CLGAN_KERNEL_DIR)", name, ext);
  *out = strdup(src);
  return *out ? CLGAN_OK : clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
}

static void cache_key(const clgan_ctx *ctx, const char *source, const char *options,
                      uint8_t key[32]) {
  const clgan_device_info *i = &ctx->info;
  const char *fields[] = {"clgan-kernel-cache-v1", CLGAN_VERSION_STRING, source, options,
                          i->platform_name, i->platform_version, i->name, i->driver_version};
  size_t total = 0;
  for (size_t f = 0; f < sizeof fields / sizeof *fields; f++) total += strlen(fields[f]) + 1;
  char *buf = malloc(total);
  if (!buf) {
    memset(key, 0, 32);
    return;
  }
  size_t at = 0;
  for (size_t f = 0; f < sizeof fields / sizeof *fields; f++) {
    size_t n = strlen(fields[f]) + 1; /* the NUL separates fields unambiguously */
    memcpy(buf + at, fields[f], n);
    at += n;
  }
  clgan_sha256(buf, total, key);
  free(buf);
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
  if (clgan_read_file(path, 512u << 20, &data, &n) != CLGAN_OK) {
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

static void cache_store(const char *dir, const char *path, const uint8_t key[32],
                        cl_program prog) {
  size_t bsize = 0;
  if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof bsize, &bsize, NULL) != CL_SUCCESS ||
      bsize == 0)
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
  /* A cache that cannot be written only costs time: ignore the error. */
  if (clgan_mkdirs(dir) != CLGAN_OK || clgan_write_file_atomic(path, parts, sizes, 2) != CLGAN_OK)
    clgan_error_clear();
  free(bin);
}

static clgan_status build_log_error(clgan_ctx *ctx, cl_program prog, const char *name,
                                    cl_int err) {
  size_t n = 0;
  clGetProgramBuildInfo(prog, ctx->info.device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n);
  char *log = malloc(n + 1);
  if (log) {
    log[0] = '\0';
    clGetProgramBuildInfo(prog, ctx->info.device, CL_PROGRAM_BUILD_LOG, n, log, NULL);
    log[n] = '\0';
  }
  clgan_status s = clgan_error(CLGAN_ERR_BUILD,
                               "building kernel file kernels/%s.cl for '%s' failed: %s "
                               "(options \"%s\")\n--- build log ---\n%s",
                               name, ctx->info.name, clgan_cl_error_name(err),
                               ctx->programs->options, log && *log ? log : "(empty)");
  free(log);
  return s;
}

clgan_status clgan_program_get(clgan_ctx *ctx, const char *name, cl_program *out,
                               clgan_build_origin *origin) {
  struct clgan_program_cache *pc = ctx->programs;
  for (int i = 0; i < pc->nprograms; i++)
    if (strcmp(pc->programs[i].name, name) == 0) {
      *out = pc->programs[i].program;
      if (origin) *origin = CLGAN_BUILT_MEMORY;
      return CLGAN_OK;
    }
  if (pc->nprograms == MAX_PROGRAMS || strlen(name) >= sizeof pc->programs[0].name)
    return clgan_error(CLGAN_ERR_INTERNAL, "too many programs or name too long: %s", name);

  char *common = NULL, *body = NULL;
  clgan_status s = load_source("common", ".clh", &common);
  if (s == CLGAN_OK) s = load_source(name, ".cl", &body);
  if (s != CLGAN_OK) {
    free(common);
    return s;
  }
  size_t lc = strlen(common), lb = strlen(body);
  char *src = malloc(lc + lb + 64 + strlen(name));
  if (!src) {
    free(common);
    free(body);
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
  cl_program prog = NULL;
  cl_int e;
  clgan_build_origin org = CLGAN_BUILT_SOURCE;
  if (dir) {
    cache_key(ctx, src, opts, key);
    cache_path(dir, key, path, sizeof path);
    unsigned char *bin = NULL;
    size_t bsize = 0;
    if (cache_load(path, key, &bin, &bsize) == 0) {
      const unsigned char *bins[1] = {bin};
      cl_int bstatus;
      prog = clCreateProgramWithBinary(ctx->context, 1, &ctx->info.device, &bsize, bins,
                                       &bstatus, &e);
      if (e == CL_SUCCESS && bstatus == CL_SUCCESS &&
          clBuildProgram(prog, 1, &ctx->info.device, opts, NULL, NULL) == CL_SUCCESS) {
        org = CLGAN_BUILT_DISK_CACHE;
      } else if (prog) {
        clReleaseProgram(prog);
        prog = NULL;
      } else {
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
      return clgan_cl_check(e, "clCreateProgramWithSource");
    }
    e = clBuildProgram(prog, 1, &ctx->info.device, opts, NULL, NULL);
    if (e != CL_SUCCESS) {
      s = build_log_error(ctx, prog, name, e);
      clReleaseProgram(prog);
      free(src);
      return s;
    }
    if (dir) cache_store(dir, path, key, prog);
  }
  free(src);
  program_entry *pe = &pc->programs[pc->nprograms++];
  snprintf(pe->name, sizeof pe->name, "%s", name);
  pe->program = prog;
  pe->origin = org;
  *out = prog;
  if (origin) *origin = org;
  return CLGAN_OK;
}

clgan_status clgan_kernel_get(clgan_ctx *ctx, const char *program, const char *kernel,
                              cl_kernel *out) {
  struct clgan_program_cache *pc = ctx->programs;
  for (int i = 0; i < pc->nkernels; i++)
    if (strcmp(pc->kernels[i].name, kernel) == 0 &&
        strcmp(pc->programs[pc->kernels[i].program].name, program) == 0) {
      *out = pc->kernels[i].kernel;
      return CLGAN_OK;
    }
  if (pc->nkernels == MAX_KERNELS || strlen(kernel) >= sizeof pc->kernels[0].name)
    return clgan_error(CLGAN_ERR_INTERNAL, "too many kernels or name too long: %s", kernel);
  cl_program prog;
  clgan_status s = clgan_program_get(ctx, program, &prog, NULL);
  if (s != CLGAN_OK) return s;
  int pidx = 0;
  while (pc->programs[pidx].program != prog) pidx++;
  cl_int e;
  cl_kernel k = clCreateKernel(prog, kernel, &e);
  if (e != CL_SUCCESS) {
    s = clgan_cl_check(e, "clCreateKernel");
    return clgan_error_prefix("kernel '%s' in kernels/%s.cl: ", kernel, program);
  }
  kernel_entry *ke = &pc->kernels[pc->nkernels++];
  ke->program = pidx;
  snprintf(ke->name, sizeof ke->name, "%s", kernel);
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
  cl_int e = clEnqueueNDRangeKernel(ctx->queue, k, dims, NULL, global, local, 0, NULL, NULL);
  if (e != CL_SUCCESS) {
    clgan_cl_check(e, "clEnqueueNDRangeKernel");
    return clgan_error_prefix("launching kernel '%s': ", name);
  }
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
