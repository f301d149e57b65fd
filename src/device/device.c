/* OpenCL platform/device listing, selection, context creation, buffer helpers.
 * Tests: tests/core/test_select.c (host), tests/core/test_two_platforms.sh,
 * tests/core/test_query_failure.sh */
#include "clgan/device.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

clgan_status clgan_cl_check(cl_int err, const char *what) {
  if (err == CL_SUCCESS) return CLGAN_OK;
  clgan_status s = CLGAN_ERR_OPENCL;
  if (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_HOST_MEMORY ||
      err == CL_INVALID_BUFFER_SIZE)
    s = CLGAN_ERR_NOMEM;
  return clgan_error(s, "%s failed: %s (%d)", what, clgan_cl_error_name(err), (int)err);
}

#define KIND_BITS (CL_DEVICE_TYPE_CPU | CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR)

const char *clgan_device_type_name(cl_device_type t) {
  /* Indexed by the CPU, GPU and accelerator bits: a device may claim several (Oclgrind's
   * simulator claims all three), and the listing should say so rather than pick one. */
  static const char *const names[8] = {"other", "cpu", "gpu", "cpu+gpu", "accelerator",
                                       "cpu+accelerator", "gpu+accelerator",
                                       "cpu+gpu+accelerator"};
  unsigned kind = (unsigned)((t & KIND_BITS) >> 1) & 7u;
#ifdef CL_DEVICE_TYPE_CUSTOM
  if (kind == 0 && (t & CL_DEVICE_TYPE_CUSTOM)) return "custom";
#endif
  return names[kind];
}

static void add_problem(clgan_device_list *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_problem(clgan_device_list *l, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  char **p = realloc(l->problems, sizeof(char *) * (size_t)(l->problem_count + 1));
  if (!p) return;
  l->problems = p;
  l->problems[l->problem_count] = strdup(buf);
  if (l->problems[l->problem_count]) l->problem_count++;
}

static cl_int get_info(int is_platform, void *obj, cl_uint what, size_t cap, void *dst,
                       size_t *size_ret) {
  return is_platform ? clGetPlatformInfo((cl_platform_id)obj, what, cap, dst, size_ret)
                     : clGetDeviceInfo((cl_device_id)obj, what, cap, dst, size_ret);
}

/* Reads a string property whole, whatever its length (extension lists run to kilobytes
 * and must not lose their tail); trailing spaces some drivers append are dropped.
 * Returns a malloc'd string, or NULL with *err set. */
static char *query_str(int is_platform, void *obj, cl_uint what, cl_int *err) {
  size_t n = 0;
  *err = get_info(is_platform, obj, what, 0, NULL, &n);
  if (*err != CL_SUCCESS) return NULL;
  char *s = malloc(n + 1);
  if (!s) {
    *err = CL_OUT_OF_HOST_MEMORY;
    return NULL;
  }
  *err = n ? get_info(is_platform, obj, what, n, s, NULL) : CL_SUCCESS;
  if (*err != CL_SUCCESS) {
    free(s);
    return NULL;
  }
  s[n] = '\0';
  size_t len = strlen(s);
  while (len > 0 && isspace((unsigned char)s[len - 1])) s[--len] = '\0';
  return s;
}

/* Copies a string property into a fixed field (truncating); "" on failure so one bad
 * query doesn't hide the device. */
static cl_int copy_str(int is_platform, void *obj, cl_uint what, char *dst, size_t cap) {
  cl_int e;
  char *s = query_str(is_platform, obj, what, &e);
  snprintf(dst, cap, "%s", s ? s : "");
  free(s);
  return e;
}

static cl_int dev_str(cl_device_id d, cl_device_info what, char *dst, size_t cap) {
  return copy_str(0, d, what, dst, cap);
}

static cl_int plat_str(cl_platform_id p, cl_platform_info what, char *dst, size_t cap) {
  return copy_str(1, p, what, dst, cap);
}

void clgan_parse_cl_c_version(const char *s, int *major, int *minor) {
  /* "OpenCL C 1.2 pocl ..." / "OpenCL C 3.0 " */
  *major = 1;
  *minor = 0;
  const char *p = strstr(s, "OpenCL C ");
  if (!p) return;
  int a = 0, b = 0;
  if (sscanf(p + 9, "%d.%d", &a, &b) == 2 && a > 0) {
    *major = a;
    *minor = b;
  }
}

static int query_device(clgan_device_info *di, cl_device_id d, clgan_device_list *l) {
  cl_int e;
  di->device = d;
  if ((e = dev_str(d, CL_DEVICE_NAME, di->name, sizeof di->name)) != CL_SUCCESS) {
    add_problem(l, "platform %d (%s) device %d: CL_DEVICE_NAME query failed: %s",
                di->platform_index, di->platform_name, di->device_index,
                clgan_cl_error_name(e));
    return -1;
  }
  dev_str(d, CL_DEVICE_VENDOR, di->vendor, sizeof di->vendor);
  dev_str(d, CL_DRIVER_VERSION, di->driver_version, sizeof di->driver_version);
  dev_str(d, CL_DEVICE_OPENCL_C_VERSION, di->opencl_c_version, sizeof di->opencl_c_version);
  clgan_parse_cl_c_version(di->opencl_c_version, &di->cl_c_major, &di->cl_c_minor);
  cl_uint u = 0;
  cl_ulong ul = 0;
  size_t sz = 0;
  if (clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof di->type, &di->type, NULL) != CL_SUCCESS)
    di->type = 0;
  if (clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof u, &u, NULL) == CL_SUCCESS)
    di->compute_units = u;
  if (clGetDeviceInfo(d, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof u, &u, NULL) == CL_SUCCESS)
    di->clock_mhz = u;
  if (clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS)
    di->global_mem = ul;
  if (clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS)
    di->local_mem = ul;
  if (clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS)
    di->max_alloc = ul;
  if (clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof sz, &sz, NULL) == CL_SUCCESS)
    di->max_work_group_size = sz;
  char *ext = query_str(0, d, CL_DEVICE_EXTENSIONS, &e);
  cl_device_fp_config fp = 0;
  di->fp64 = (clGetDeviceInfo(d, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp, &fp, NULL) == CL_SUCCESS &&
              fp != 0) || (ext && strstr(ext, "cl_khr_fp64") != NULL);
  di->fp16 = ext && strstr(ext, "cl_khr_fp16") != NULL;
  free(ext);
  return 0;
}

clgan_status clgan_device_list_get(clgan_device_list *out) {
  memset(out, 0, sizeof *out);
  cl_uint np = 0;
  cl_int e = clGetPlatformIDs(0, NULL, &np);
  if (e == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (e == CL_SUCCESS && np == 0))
    return clgan_error(CLGAN_ERR_NO_PLATFORM,
                       "no OpenCL platform found. Install a driver: on Debian, "
                       "`apt-get install pocl-opencl-icd` gives a CPU device; GPU vendors "
                       "ship their own ICD (check /etc/OpenCL/vendors or $OCL_ICD_VENDORS)");
  if (e != CL_SUCCESS) return clgan_cl_check(e, "clGetPlatformIDs");
  cl_platform_id *plats = calloc(np, sizeof *plats);
  if (!plats) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory listing platforms");
  e = clGetPlatformIDs(np, plats, NULL);
  if (e != CL_SUCCESS) {
    free(plats);
    return clgan_cl_check(e, "clGetPlatformIDs");
  }
  for (cl_uint p = 0; p < np; p++) {
    char pname[128], pver[128];
    if ((e = plat_str(plats[p], CL_PLATFORM_NAME, pname, sizeof pname)) != CL_SUCCESS) {
      add_problem(out, "platform %u: CL_PLATFORM_NAME query failed: %s", p,
                  clgan_cl_error_name(e));
      continue;
    }
    plat_str(plats[p], CL_PLATFORM_VERSION, pver, sizeof pver);
    cl_uint nd = 0;
    e = clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
    if (e == CL_DEVICE_NOT_FOUND || (e == CL_SUCCESS && nd == 0)) {
      add_problem(out, "platform %u (%s): no devices", p, pname);
      continue;
    }
    if (e != CL_SUCCESS) {
      add_problem(out, "platform %u (%s): clGetDeviceIDs failed: %s", p, pname,
                  clgan_cl_error_name(e));
      continue;
    }
    cl_device_id *ds = calloc(nd, sizeof *ds);
    clgan_device_info *grown =
        realloc(out->devices, sizeof *grown * (size_t)(out->count + (int)nd));
    if (!ds || !grown) {
      free(ds);
      if (grown) out->devices = grown;
      free(plats);
      clgan_device_list_free(out);
      return clgan_error(CLGAN_ERR_NOMEM, "out of host memory listing devices");
    }
    out->devices = grown;
    e = clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, ds, NULL);
    if (e != CL_SUCCESS) {
      add_problem(out, "platform %u (%s): clGetDeviceIDs failed: %s", p, pname,
                  clgan_cl_error_name(e));
      free(ds);
      continue;
    }
    for (cl_uint d = 0; d < nd; d++) {
      clgan_device_info *di = &out->devices[out->count];
      memset(di, 0, sizeof *di);
      di->platform = plats[p];
      di->platform_index = (int)p;
      di->device_index = (int)d;
      snprintf(di->platform_name, sizeof di->platform_name, "%s", pname);
      snprintf(di->platform_version, sizeof di->platform_version, "%s", pver);
      if (query_device(di, ds[d], out) == 0) {
        di->index = out->count;
        out->count++;
      }
    }
    free(ds);
  }
  free(plats);
  return CLGAN_OK;
}

void clgan_device_list_free(clgan_device_list *l) {
  if (!l) return;
  free(l->devices);
  for (int i = 0; i < l->problem_count; i++) free(l->problems[i]);
  free(l->problems);
  memset(l, 0, sizeof *l);
}

/* First device of type `want`, preferring one that is only that type over one that claims
 * several: Oclgrind's simulator reports CPU, GPU and accelerator at once and must not win
 * "cpu" against POCL, nor "gpu" against a real GPU. -1 if none. */
static int first_of_type(const clgan_device_info *devs, int count, cl_device_type want,
                         int exact) {
  for (int i = 0; i < count; i++)
    if (exact ? (devs[i].type & KIND_BITS) == want : (devs[i].type & want) != 0) return i;
  return -1;
}

int clgan_device_default_index(const clgan_device_info *devs, int count) {
  /* the first GPU, else the first CPU; devices that claim several types come last */
  int i = first_of_type(devs, count, CL_DEVICE_TYPE_GPU, 1);
  if (i < 0) i = first_of_type(devs, count, CL_DEVICE_TYPE_CPU, 1);
  if (i < 0) i = first_of_type(devs, count, CL_DEVICE_TYPE_GPU, 0);
  if (i < 0) i = first_of_type(devs, count, CL_DEVICE_TYPE_CPU, 0);
  return i >= 0 ? i : count > 0 ? 0 : -1;
}

static int ci_contains(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  if (n == 0) return 0;
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] &&
           tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
      i++;
    if (i == n) return 1;
  }
  return 0;
}

static int all_digits(const char *s) {
  if (!*s) return 0;
  for (; *s; s++)
    if (!isdigit((unsigned char)*s)) return 0;
  return 1;
}

/* Appends "  N  P:D  name (platform)" lines for the error message. */
static void list_devices(char *buf, size_t cap, const clgan_device_info *devs, int count) {
  size_t used = strlen(buf);
  if (count == 0) {
    snprintf(buf + used, cap - used, "\n  (no OpenCL devices found)");
    return;
  }
  for (int i = 0; i < count && used < cap; i++) {
    int n = snprintf(buf + used, cap - used, "\n  %d  %d:%d  %s [%s] (%s)", devs[i].index,
                     devs[i].platform_index, devs[i].device_index, devs[i].name,
                     clgan_device_type_name(devs[i].type), devs[i].platform_name);
    if (n < 0) break;
    used += (size_t)n;
  }
}

static clgan_status select_fail(clgan_status s, const clgan_device_info *devs, int count,
                                const char *fmt, const char *spec, const char *origin) {
  char buf[8192];
  snprintf(buf, sizeof buf, fmt, spec, origin);
  size_t used = strlen(buf);
  snprintf(buf + used, sizeof buf - used, "; devices available:");
  list_devices(buf, sizeof buf, devs, count);
  return clgan_error(s, "%s", buf);
}

clgan_status clgan_device_select(const clgan_device_info *devs, int count, const char *spec,
                                 int *index_out) {
  const char *origin = "--device";
  if (!spec || !*spec) {
    const char *env = getenv("CLGAN_DEVICE");
    if (env && *env) {
      spec = env;
      origin = "CLGAN_DEVICE";
    }
  }
  if (!spec || !*spec) {
    int i = clgan_device_default_index(devs, count);
    if (i < 0)
      return clgan_error(CLGAN_ERR_NO_DEVICE,
                         "no OpenCL device found on any platform. Install a driver: on "
                         "Debian, `apt-get install pocl-opencl-icd` gives a CPU device");
    *index_out = i;
    return CLGAN_OK;
  }
  /* global index */
  if (all_digits(spec)) {
    long v = strtol(spec, NULL, 10);
    for (int i = 0; i < count; i++)
      if (devs[i].index == v) {
        *index_out = i;
        return CLGAN_OK;
      }
    return select_fail(CLGAN_ERR_NO_DEVICE, devs, count,
                       "no device with index '%s' (from %s)", spec, origin);
  }
  /* P:D */
  int p = -1, d = -1;
  char tail;
  if (sscanf(spec, "%d:%d%c", &p, &d, &tail) == 2) {
    for (int i = 0; i < count; i++)
      if (devs[i].platform_index == p && devs[i].device_index == d) {
        *index_out = i;
        return CLGAN_OK;
      }
    return select_fail(CLGAN_ERR_NO_DEVICE, devs, count,
                       "no device at platform:device '%s' (from %s)", spec, origin);
  }
  /* cpu / gpu */
  cl_device_type want = 0;
  if (strcasecmp(spec, "cpu") == 0) want = CL_DEVICE_TYPE_CPU;
  if (strcasecmp(spec, "gpu") == 0) want = CL_DEVICE_TYPE_GPU;
  if (want) {
    int i = first_of_type(devs, count, want, 1);
    if (i < 0) i = first_of_type(devs, count, want, 0);
    if (i >= 0) {
      *index_out = i;
      return CLGAN_OK;
    }
    return select_fail(CLGAN_ERR_NO_DEVICE, devs, count, "no device of type '%s' (from %s)",
                       spec, origin);
  }
  /* name substring */
  int found = -1, nfound = 0;
  for (int i = 0; i < count; i++)
    if (ci_contains(devs[i].name, spec) || ci_contains(devs[i].platform_name, spec)) {
      if (found < 0) found = i;
      nfound++;
    }
  if (nfound == 1) {
    *index_out = found;
    return CLGAN_OK;
  }
  if (nfound == 0)
    return select_fail(CLGAN_ERR_NO_DEVICE, devs, count,
                       "no device or platform name contains '%s' (from %s)", spec, origin);
  return select_fail(CLGAN_ERR_AMBIGUOUS, devs, count,
                     "'%s' (from %s) matches more than one device; use an index or P:D",
                     spec, origin);
}

clgan_status clgan_ctx_create_on(const clgan_device_info *info, unsigned flags,
                                 clgan_ctx **out) {
  *out = NULL;
  clgan_ctx *c = calloc(1, sizeof *c);
  if (!c) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory creating a context");
  c->info = *info;
  cl_int e;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)info->platform,
                                   0};
  c->context = clCreateContext(props, 1, &info->device, NULL, NULL, &e);
  if (e != CL_SUCCESS) {
    clgan_status s = clgan_cl_check(e, "clCreateContext");
    clgan_error_prefix("device '%s': ", info->name);
    free(c);
    return s;
  }
  c->profiling = (flags & CLGAN_CTX_PROFILING) != 0;
  /* clCreateCommandQueue is deprecated in 2.0 but is the one call every 1.2+ driver has. */
  c->queue = clCreateCommandQueue(c->context, info->device,
                                  c->profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &e);
  if (e != CL_SUCCESS) {
    clgan_status s = clgan_cl_check(e, "clCreateCommandQueue");
    clgan_error_prefix("device '%s': ", info->name);
    clReleaseContext(c->context);
    free(c);
    return s;
  }
  /* the program cache, GEMM state and profiler are made by their layers on first use */
  *out = c;
  return CLGAN_OK;
}

clgan_status clgan_ctx_create(const char *spec, unsigned flags, clgan_ctx **out) {
  *out = NULL;
  clgan_device_list l;
  clgan_status s = clgan_device_list_get(&l);
  if (s != CLGAN_OK) return s;
  int idx = -1;
  s = clgan_device_select(l.devices, l.count, spec, &idx);
  if (s == CLGAN_OK) s = clgan_ctx_create_on(&l.devices[idx], flags, out);
  clgan_device_list_free(&l);
  return s;
}

clgan_status clgan_ctx_on_free(clgan_ctx *c, int layer, void (*fn)(clgan_ctx *ctx)) {
  for (int i = 0; i < c->ncleanups; i++)
    if (c->cleanups[i].fn == fn) return CLGAN_OK;
  if (c->ncleanups == CLGAN_CTX_MAX_CLEANUPS)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "more than %d context cleanups",
                       CLGAN_CTX_MAX_CLEANUPS);
  /* kept in running order: highest layer first, then the last registered first */
  int at = 0;
  while (at < c->ncleanups && c->cleanups[at].layer > layer) at++;
  memmove(&c->cleanups[at + 1], &c->cleanups[at],
          sizeof c->cleanups[0] * (size_t)(c->ncleanups - at));
  c->cleanups[at].layer = layer;
  c->cleanups[at].fn = fn;
  c->ncleanups++;
  return CLGAN_OK;
}

void clgan_ctx_free(clgan_ctx *c) {
  if (!c) return;
  if (c->queue) clFinish(c->queue);
  /* the layers above, top down (GEMM state, programs, profiler): see device.h */
  for (int i = 0; i < c->ncleanups; i++) c->cleanups[i].fn(c);
  if (c->queue) clReleaseCommandQueue(c->queue);
  if (c->context) clReleaseContext(c->context);
  free(c);
}

clgan_status clgan_ctx_finish(clgan_ctx *c) { return clgan_cl_check(clFinish(c->queue), "clFinish"); }

clgan_status clgan_buffer_create(clgan_ctx *c, size_t bytes, const char *what, cl_mem *out) {
  *out = NULL;
  if (bytes == 0) bytes = 4; /* zero-size buffers are invalid in OpenCL */
  double mib = (double)bytes / (1024.0 * 1024.0);
  if (c->info.max_alloc && bytes > c->info.max_alloc)
    return clgan_error(CLGAN_ERR_NOMEM,
                       "tensor '%s' needs %.1f MiB, more than the device's largest single "
                       "allocation (%.1f MiB on '%s'); try a smaller batch",
                       what, mib, (double)c->info.max_alloc / (1024.0 * 1024.0), c->info.name);
  cl_int e;
  cl_mem m = clCreateBuffer(c->context, CL_MEM_READ_WRITE, bytes, NULL, &e);
  if (e != CL_SUCCESS) {
    clgan_status s = clgan_cl_check(e, "clCreateBuffer");
    clgan_error_prefix("allocating tensor '%s' (%.1f MiB) on '%s': ", what, mib, c->info.name);
    return s;
  }
  *out = m;
  return CLGAN_OK;
}

clgan_status clgan_buffer_write(clgan_ctx *c, cl_mem buf, size_t off, size_t bytes,
                                const void *src) {
  if (bytes == 0) return CLGAN_OK;
  return clgan_cl_check(clEnqueueWriteBuffer(c->queue, buf, CL_TRUE, off, bytes, src, 0, NULL, NULL),
                        "clEnqueueWriteBuffer");
}

clgan_status clgan_buffer_read(clgan_ctx *c, cl_mem buf, size_t off, size_t bytes, void *dst) {
  if (bytes == 0) return CLGAN_OK;
  return clgan_cl_check(clEnqueueReadBuffer(c->queue, buf, CL_TRUE, off, bytes, dst, 0, NULL, NULL),
                        "clEnqueueReadBuffer");
}

void clgan_buffer_release(cl_mem *buf) {
  if (buf && *buf) {
    clReleaseMemObject(*buf);
    *buf = NULL;
  }
}
