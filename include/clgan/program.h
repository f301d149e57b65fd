/* Run-time kernel compilation: embedded .cl sources (or $CLGAN_KERNEL_DIR), build options
 * from the device's OpenCL C version, per-context programs, on-disk binary cache.
 * Tests: tests/core/test_program.c, tests/core/test_cache.c, tests/core/test_program_unit.c */
#ifndef CLGAN_PROGRAM_H
#define CLGAN_PROGRAM_H

#include "clgan/device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One embedded kernel source file (generated at build time from kernels/ folder). */
typedef struct clgan_kernel_source {
  const char *name;    /* file stem, e.g. "elementwise" for kernels/elementwise.cl */
  const char *source;
} clgan_kernel_source;

/* The table of embedded sources, ending with {NULL, NULL}. */
const clgan_kernel_source *clgan_kernel_sources(void);

/* Where a program came from when it was last built (for doctor and the benchmark). */
typedef enum { CLGAN_BUILT_SOURCE = 0, CLGAN_BUILT_DISK_CACHE = 1, CLGAN_BUILT_MEMORY = 2 } clgan_build_origin;

/* Returns a kernel object of program `program` (a kernels/<program>.cl stem), building
 * the program on first use in this context (from the disk cache where it can). The kernel
 * is owned by the context; do not release it. Build failures give CLGAN_ERR_BUILD with
 * the kernel file named and the compiler's build log in the message. */
clgan_status clgan_kernel_get(clgan_ctx *ctx, const char *program, const char *kernel,
                              cl_kernel *out);
/* Builds (or loads) a whole program without fetching a kernel. */
clgan_status clgan_program_get(clgan_ctx *ctx, const char *program, cl_program *out,
                               clgan_build_origin *origin);

/* The build options used on this device, e.g. "-cl-std=CL1.2". */
const char *clgan_build_options(const clgan_ctx *ctx);

/* Directory of the on-disk cache ($CLGAN_CACHE_DIR, else $XDG_CACHE_HOME/clgan, else
 * ~/.cache/clgan); NULL when disabled with CLGAN_CACHE=0 or no home is known. */
const char *clgan_cache_dir(void);

/* Largest local size <= want that the kernel allows on this device (at least 1);
 * respects CL_KERNEL_WORK_GROUP_SIZE so no launch assumes 256. */
size_t clgan_kernel_local_size(clgan_ctx *ctx, cl_kernel k, size_t want);

/* Enqueues a 1-D launch over n items with the kernel's permitted local size, rounding
 * the global size up (kernels guard with `if (i >= n) return;`). The kernel name goes
 * into any error message. */
clgan_status clgan_launch_1d(clgan_ctx *ctx, cl_kernel k, const char *name, size_t n,
                             size_t local_want);
/* Enqueues a launch with explicit sizes (local may be NULL). */
clgan_status clgan_launch(clgan_ctx *ctx, cl_kernel k, const char *name, cl_uint dims,
                          const size_t *global, const size_t *local);

/* Sets kernel arguments from a list: CLGAN_ARG_MEM(mem), CLGAN_ARG_INT(i), ...
 * Returns an error naming the kernel and the argument index on failure. */
typedef struct clgan_karg { size_t size; const void *ptr; } clgan_karg;
clgan_status clgan_set_args(cl_kernel k, const char *name, int count, const clgan_karg *args);
#define CLGAN_KARG(v) ((clgan_karg){sizeof(v), &(v)})

#ifdef __cplusplus
}
#endif
#endif
