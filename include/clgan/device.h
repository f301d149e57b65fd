/* OpenCL platforms and devices: listing, selection, context + queue, capabilities, the
 * cleanups of the layers above, and event profiling (src/device/profile.c).
 * Tests: tests/core/test_select.c (host), tests/core/test_two_platforms.sh */
#ifndef CLGAN_DEVICE_H
#define CLGAN_DEVICE_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stddef.h>

#include "clgan/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What one device reports about itself. Strings are NUL-terminated copies. */
typedef struct clgan_device_info {
  int index;                 /* global index over all platforms, as `--device N` takes */
  int platform_index;        /* P of `P:D` */
  int device_index;          /* D of `P:D` */
  cl_platform_id platform;
  cl_device_id device;
  char platform_name[128];
  char platform_version[128];
  char name[128];
  char vendor[128];
  char driver_version[128];
  char opencl_c_version[64]; /* CL_DEVICE_OPENCL_C_VERSION, e.g. "OpenCL C 1.2 pocl" */
  int cl_c_major, cl_c_minor;/* parsed from opencl_c_version (the platform version lies) */
  cl_device_type type;
  unsigned compute_units;
  unsigned clock_mhz;
  unsigned long long global_mem;
  unsigned long long local_mem;
  unsigned long long max_alloc;
  size_t max_work_group_size;
  int fp64, fp16;
} clgan_device_info;

/* All devices of all platforms, plus the problems met while listing them: a platform
 * or device that failed a query is reported here and the others are still listed. */
typedef struct clgan_device_list {
  clgan_device_info *devices;
  int count;
  char **problems;  /* human-readable lines, one per failed platform or device */
  int problem_count;
} clgan_device_list;

/* Lists every device. Returns CLGAN_ERR_NO_PLATFORM (with a hint to install POCL) when
 * the ICD loader has no platform; a list with zero devices is otherwise still OK. */
clgan_status clgan_device_list_get(clgan_device_list *out);
void clgan_device_list_free(clgan_device_list *list);

/* Short type word: "gpu", "cpu", "accelerator", "custom" or "other"; a device that claims
 * several types gets them joined, e.g. "cpu+gpu+accelerator" (Oclgrind). */
const char *clgan_device_type_name(cl_device_type t);

/* Picks a device. spec may be NULL or "" (then $CLGAN_DEVICE, then the first GPU, else the
 * first CPU, else device 0). Syntax: a global index "N", a pair "P:D", "cpu", "gpu", or a
 * case-insensitive substring of the device or platform name. "cpu"/"gpu" take the first
 * device of that type. For "cpu", "gpu" and the default, a device that claims several
 * types at once (Oclgrind: CPU, GPU and accelerator) counts only when no device is of that
 * type alone. No match -> CLGAN_ERR_NO_DEVICE, several substring matches ->
 * CLGAN_ERR_AMBIGUOUS; the message names the spec and lists the devices. */
clgan_status clgan_device_select(const clgan_device_info *devs, int count, const char *spec,
                                 int *index_out);
/* The index the default rule picks without any spec or environment (-1 if count == 0). */
int clgan_device_default_index(const clgan_device_info *devs, int count);

struct clgan_program_cache;  /* src/device/program.c */
struct clgan_gemm_state;     /* src/blas/gemm.c */
struct clgan_profile_state;  /* src/device/profile.c */

enum { CLGAN_CTX_MAX_CLEANUPS = 8 };

/* A context on one device: everything above the device layer runs through this. */
typedef struct clgan_ctx {
  clgan_device_info info;
  cl_context context;
  cl_command_queue queue;
  int profiling;                      /* queue created with CL_QUEUE_PROFILING_ENABLE */
  /* per-context state of the layers, each made on its first use (NULL until then) */
  struct clgan_program_cache *programs;
  struct clgan_gemm_state *gemm;
  struct clgan_profile_state *profile;
  /* their cleanups, highest layer first (clgan_ctx_on_free) */
  struct {
    int layer;
    void (*fn)(struct clgan_ctx *ctx);
  } cleanups[CLGAN_CTX_MAX_CLEANUPS];
  int ncleanups;
} clgan_ctx;

enum { CLGAN_CTX_PROFILING = 1 };

/* Lists devices, selects by spec (see clgan_device_select) and opens a context + queue. */
clgan_status clgan_ctx_create(const char *spec, unsigned flags, clgan_ctx **out);
/* Opens a context on an already-listed device. */
clgan_status clgan_ctx_create_on(const clgan_device_info *info, unsigned flags, clgan_ctx **out);
void clgan_ctx_free(clgan_ctx *ctx);
/* clFinish with error reporting. */
clgan_status clgan_ctx_finish(clgan_ctx *ctx);

/* ---- per-context state of the layers above the device ----
 * The device layer calls nothing above it (layers: device -> program -> gemm -> ops ...).
 * A layer that keeps state in a context (the program cache, the GEMM state, the profiler)
 * creates it on its first use and registers its cleanup then, with its layer's rank.
 * clgan_ctx_free finishes the queue, runs the cleanups from the highest rank down (the
 * GEMM state, then the programs, then the profiler's events; equal ranks the last
 * registered first), and only then releases the queue and the context. */
enum {
  CLGAN_LAYER_PROFILE = 0, /* src/device/profile.c */
  CLGAN_LAYER_PROGRAM = 1, /* src/device/program.c */
  CLGAN_LAYER_GEMM = 2     /* src/blas/gemm.c */
};
/* Registers fn (once: the same fn again is a no-op) to run in clgan_ctx_free.
 * CLGAN_ERR_INVALID_ARG when CLGAN_CTX_MAX_CLEANUPS are already registered. */
clgan_status clgan_ctx_on_free(clgan_ctx *ctx, int layer, void (*fn)(clgan_ctx *ctx));

/* Device buffers. The helpers name the tensor in their error message ("allocating
 * 'g.act' (12.3 MiB)...") so an out-of-memory says which tensor failed. */
clgan_status clgan_buffer_create(clgan_ctx *ctx, size_t bytes, const char *what, cl_mem *out);
clgan_status clgan_buffer_write(clgan_ctx *ctx, cl_mem buf, size_t offset_bytes, size_t bytes,
                                const void *src);
clgan_status clgan_buffer_read(clgan_ctx *ctx, cl_mem buf, size_t offset_bytes, size_t bytes,
                               void *dst);
void clgan_buffer_release(cl_mem *buf);

/* Turns a failed OpenCL call into a clgan error naming the call and the code. */
clgan_status clgan_cl_check(cl_int err, const char *what);

/* One GEMM problem as clgan_gemm receives it: row-major C(m x n) = op(A) op(B). The GEMM
 * layer is gemm.h; the shape is here because the profiler keeps GEMMs by shape. */
typedef struct clgan_gemm_shape {
  int ta, tb;       /* 0 = as stored, 1 = transposed */
  size_t m, n, k;
} clgan_gemm_shape;

/* ---- profiling (src/device/profile.c): OpenCL event times per kernel name and per GEMM
 * shape ----
 * Needs a context created with CLGAN_CTX_PROFILING. While on, every clgan kernel launch and
 * every GEMM (all of CLBlast's kernels for it, between two markers) is timed on the
 * device. Entries are kept per name ("im2col_f32", "gemm NT 128x1024x3136"). */
typedef struct clgan_profile_entry {
  char name[64];
  int is_gemm;
  clgan_gemm_shape shape; /* GEMMs only */
  long calls;
  double seconds;         /* summed device time (end - start of the events) */
  double flops;           /* GEMMs: 2*m*n*k per call, summed */
} clgan_profile_entry;

clgan_status clgan_profile_start(clgan_ctx *ctx);
/* Waits for the queue, reads every pending event and returns the totals since start, most
 * time first (free() the array). Profiling stays on; start again to reset. */
clgan_status clgan_profile_read(clgan_ctx *ctx, clgan_profile_entry **out, int *count);
void clgan_profile_stop(clgan_ctx *ctx);

/* For src/device/program.c: a launch with an event to time (takes the event). */
void clgan_profile_add_launch(clgan_ctx *ctx, const char *name, cl_event ev);
/* 1 while profiling is on (launchers then ask for an event). */
int clgan_profile_active(const clgan_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
