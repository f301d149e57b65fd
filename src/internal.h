/* Declarations shared between library files, not part of the public API. */
#ifndef CLGAN_INTERNAL_H
#define CLGAN_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "clgan/device.h"

void clgan_parse_cl_c_version(const char *s, int *major, int *minor);

clgan_status clgan_programs_init(clgan_ctx *ctx);
void clgan_programs_free(clgan_ctx *ctx);
void clgan_gemm_free(clgan_ctx *ctx);

/* SHA-256 of a buffer as 32 bytes, and its hex form (65 bytes with NUL). */
void clgan_sha256(const void *data, size_t n, uint8_t out[32]);
void clgan_hex(const uint8_t *bytes, size_t n, char *out);

/* Writes a file atomically: temp file in the same directory, fsync, rename, then fsync
 * of the directory. Two writers at once each rename a complete file; the last wins. */
clgan_status clgan_write_file_atomic(const char *path, const void *const *parts,
                                     const size_t *sizes, int nparts);
/* Reads a whole file (max_bytes caps it: bigger is CLGAN_ERR_FORMAT). */
clgan_status clgan_read_file(const char *path, size_t max_bytes, void **data, size_t *size);
/* mkdir -p */
clgan_status clgan_mkdirs(const char *path);

#endif
