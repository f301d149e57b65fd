/* `clgan doctor` checks: each runs one operator on small inputs on the device and compares
 * with the float64 reference in tests/ref/. Add a row to a table to add a check. */
#ifndef CLGAN_DOCTOR_H
#define CLGAN_DOCTOR_H

#include "clgan/clgan.h"

/* Runs the check; sets *err to the worst normalised error (|got-want| / (abs + rel*|want|),
 * so <= 1 passes) and may write a short detail line. Returns non-OK if it could not run. */
typedef clgan_status (*doctor_fn)(clgan_ctx *ctx, double *err, char *detail, size_t cap);

typedef struct doctor_check {
  const char *name;
  doctor_fn run;
} doctor_check;

/* Tables, each ending with {NULL, NULL}: */
extern const doctor_check doctor_checks_basic[];
extern const doctor_check doctor_checks_conv[]; /* tools/doctor_conv.c */
extern const doctor_check doctor_checks_nn[];   /* tools/doctor_nn.c */
extern const doctor_check doctor_checks_graph[]; /* tools/doctor_graph.c */
extern const doctor_check doctor_checks_i2i[];   /* tools/doctor_i2i.c: pix2pix's kernels */
extern const doctor_check doctor_checks_text[];  /* tools/doctor_text.c: embedbag, condaug */

/* Helpers for checks: upload host data into a fresh buffer, download n floats. */
clgan_status doctor_upload(clgan_ctx *ctx, const float *host, size_t n, const char *what,
                           cl_mem *out);
clgan_status doctor_download(clgan_ctx *ctx, cl_mem buf, size_t n, float *host);

#endif
