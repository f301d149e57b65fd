/* Declarations shared between library files, not part of the public API. */
#ifndef CLGAN_INTERNAL_H
#define CLGAN_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "clgan/device.h"
#include "clgan/io.h" /* clgan_mkdirs */

/* "OpenCL C 1.2 pocl" -> 1, 2. Anything unparsable gives 1.0 (the oldest, safest). */
void clgan_parse_cl_c_version(const char *s, int *major, int *minor);
/* Build options for a device whose OpenCL C version is major.minor: "-cl-std=CL1.2" where
 * the compiler accepts it, "" before 1.2. Never fast-math (results are checked against
 * references). Tests: tests/core/test_program_unit.c */
void clgan_build_options_for(int major, int minor, char *out, size_t cap);
/* The on-disk cache key of one program: SHA-256 over the format tag, clgan's version, the
 * full source, the options, the platform name and version, and the device's name, vendor,
 * driver version and OpenCL C version. Returns -1 (no key: do not cache) if out of memory. */
int clgan_cache_key(const clgan_device_info *dev, const char *source, const char *options,
                    uint8_t key[32]);

/* For the GEMM layer (src/blas/gemm.c), while profiling is on: the entry of a GEMM named
 * `name` with shape s, found or made before the GEMM is enqueued (entries keep the order of
 * first calls); -1 when profiling is off or out of host memory. Then clgan_profile_add_gemm
 * times it from the end of `start` (a marker enqueued before it) to the end of `end`, and
 * takes both events (just released when entry is -1 or end is NULL). */
int clgan_profile_gemm_entry(clgan_ctx *ctx, const char *name, const clgan_gemm_shape *s);
void clgan_profile_add_gemm(clgan_ctx *ctx, int entry, cl_event start, cl_event end);

/* SHA-256 of a buffer as 32 bytes, and its hex form (65 bytes with NUL). */
void clgan_sha256(const void *data, size_t n, uint8_t out[32]);
void clgan_hex(const uint8_t *bytes, size_t n, char *out);

/* Writes a file atomically: temp file in the same directory, fsync, rename, then fsync
 * of the directory. Two writers at once each rename a complete file; the last wins. */
clgan_status clgan_write_file_atomic(const char *path, const void *const *parts,
                                     const size_t *sizes, int nparts);
/* A sample grid's 8-bit interleaved pixels as clgan_png_write_grid lays them out, with
 * `margin` black columns added on the left; *out is malloc'd, *cols_out the columns used.
 * (src/io/io_png.c; clgan_png_write_grid_labeled in src/io/io_plot.c draws into the margin.) */
clgan_status clgan_grid_pixels(const char *path, const float *images, int n, int c, int h,
                               int w, int cols, int pad, int margin, uint8_t **out, int *gw_out,
                               int *gh_out, int *cols_out);
/* Reads a whole file (max_bytes caps it: bigger is CLGAN_ERR_FORMAT). */
clgan_status clgan_read_file(const char *path, size_t max_bytes, void **data, size_t *size);

#endif
