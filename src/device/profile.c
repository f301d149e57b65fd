/* Event profiling of a context: device time per kernel name and per GEMM shape, from
 * OpenCL profiling events. Part of the device layer: kernel launches (src/device/program.c)
 * and GEMMs (src/blas/gemm.c) report here; it calls nothing above it.
 * Tests: tests/perf/test_gemm.c (profile), tests/perf/test_perf_cli.sh (bench --profile-iters) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/device.h"
#include "internal.h"

typedef struct prof_name {
  char name[64];
  int is_gemm;
  clgan_gemm_shape shape;
  long calls;
  double seconds, flops;
} prof_name;

/* An enqueued command to time: from the end of `start` (a marker before a GEMM; NULL for a
 * kernel, which is timed from its own start) to the end of `end`. */
typedef struct prof_pending {
  int entry;
  cl_event start, end;
} prof_pending;

struct clgan_profile_state {
  int profiling;
  prof_name *names;
  int nnames, capnames;
  prof_pending *pend;
  size_t npend, cappend;
};

static void profile_drop(struct clgan_profile_state *g) {
  for (size_t i = 0; i < g->npend; i++) {
    if (g->pend[i].start) clReleaseEvent(g->pend[i].start);
    if (g->pend[i].end) clReleaseEvent(g->pend[i].end);
  }
  g->npend = 0;
}

static void profile_free(clgan_ctx *ctx) {
  struct clgan_profile_state *g = ctx->profile;
  if (!g) return;
  profile_drop(g);
  free(g->names);
  free(g->pend);
  free(g);
  ctx->profile = NULL;
}

int clgan_profile_active(const clgan_ctx *ctx) { return ctx->profile && ctx->profile->profiling; }

static int prof_entry(struct clgan_profile_state *g, const char *name, const clgan_gemm_shape *s) {
  for (int i = 0; i < g->nnames; i++)
    if (!strcmp(g->names[i].name, name)) return i;
  if (g->nnames == g->capnames) {
    int cap = g->capnames ? 2 * g->capnames : 64;
    prof_name *n = realloc(g->names, sizeof *n * (size_t)cap);
    if (!n) return -1;
    g->names = n;
    g->capnames = cap;
  }
  prof_name *e = &g->names[g->nnames];
  memset(e, 0, sizeof *e);
  snprintf(e->name, sizeof e->name, "%s", name);
  if (s) {
    e->is_gemm = 1;
    e->shape = *s;
  }
  return g->nnames++;
}

static double event_ns(cl_event ev, cl_profiling_info what) {
  cl_ulong t = 0;
  if (clGetEventProfilingInfo(ev, what, sizeof t, &t, NULL) != CL_SUCCESS) return -1.0;
  return (double)t;
}

/* Reads the pending events (the queue must have finished them) into the totals. */
static void profile_resolve(struct clgan_profile_state *g) {
  for (size_t i = 0; i < g->npend; i++) {
    prof_pending *p = &g->pend[i];
    double t0 = p->start ? event_ns(p->start, CL_PROFILING_COMMAND_END)
                         : event_ns(p->end, CL_PROFILING_COMMAND_START);
    double t1 = event_ns(p->end, CL_PROFILING_COMMAND_END);
    prof_name *e = &g->names[p->entry];
    e->calls++;
    if (t0 >= 0 && t1 >= t0) e->seconds += (t1 - t0) * 1e-9;
    if (e->is_gemm) e->flops += 2.0 * (double)e->shape.m * (double)e->shape.n * (double)e->shape.k;
  }
  profile_drop(g);
}

static void profile_push(clgan_ctx *ctx, int entry, cl_event start, cl_event end) {
  struct clgan_profile_state *g = ctx->profile;
  if (entry < 0 || !end) {
    if (start) clReleaseEvent(start);
    if (end) clReleaseEvent(end);
    return;
  }
  if (g->npend == g->cappend) {
    /* a long profiled run: settle what is done rather than hold events without bound */
    if (g->npend >= 65536 && clFinish(ctx->queue) == CL_SUCCESS) profile_resolve(g);
    if (g->npend == g->cappend) {
      size_t cap = g->cappend ? 2 * g->cappend : 1024;
      prof_pending *p = realloc(g->pend, sizeof *p * cap);
      if (!p) {
        if (start) clReleaseEvent(start);
        clReleaseEvent(end);
        return;
      }
      g->pend = p;
      g->cappend = cap;
    }
  }
  g->pend[g->npend++] = (prof_pending){entry, start, end};
}

void clgan_profile_add_launch(clgan_ctx *ctx, const char *name, cl_event ev) {
  if (!clgan_profile_active(ctx)) {
    if (ev) clReleaseEvent(ev);
    return;
  }
  profile_push(ctx, prof_entry(ctx->profile, name, NULL), NULL, ev);
}

int clgan_profile_gemm_entry(clgan_ctx *ctx, const char *name, const clgan_gemm_shape *s) {
  if (!clgan_profile_active(ctx)) return -1;
  return prof_entry(ctx->profile, name, s);
}

void clgan_profile_add_gemm(clgan_ctx *ctx, int entry, cl_event start, cl_event end) {
  if (!clgan_profile_active(ctx)) entry = -1; /* stopped meanwhile: just release */
  profile_push(ctx, entry, start, end);
}

clgan_status clgan_profile_start(clgan_ctx *ctx) {
  if (!ctx->profiling)
    return clgan_error(CLGAN_ERR_INVALID_ARG,
                       "profiling needs a context created with CLGAN_CTX_PROFILING");
  if (!ctx->profile) { /* made on first use, its cleanup registered then (device.h) */
    clgan_status s = clgan_ctx_on_free(ctx, CLGAN_LAYER_PROFILE, profile_free);
    if (s) return s;
    ctx->profile = calloc(1, sizeof *ctx->profile);
    if (!ctx->profile) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  struct clgan_profile_state *g = ctx->profile;
  profile_drop(g);
  g->nnames = 0;
  g->profiling = 1;
  return CLGAN_OK;
}

static int by_time(const void *a, const void *b) {
  double x = ((const clgan_profile_entry *)a)->seconds, y = ((const clgan_profile_entry *)b)->seconds;
  return (x < y) - (x > y);
}

clgan_status clgan_profile_read(clgan_ctx *ctx, clgan_profile_entry **out, int *count) {
  *out = NULL;
  *count = 0;
  struct clgan_profile_state *g = ctx->profile;
  if (!g || !g->profiling) return clgan_error(CLGAN_ERR_INVALID_ARG, "profiling is not on");
  clgan_status s = clgan_ctx_finish(ctx);
  if (s) return s;
  profile_resolve(g);
  if (!g->nnames) return CLGAN_OK;
  *out = calloc((size_t)g->nnames, sizeof **out);
  if (!*out) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  for (int i = 0; i < g->nnames; i++) {
    clgan_profile_entry *e = &(*out)[i];
    snprintf(e->name, sizeof e->name, "%s", g->names[i].name);
    e->is_gemm = g->names[i].is_gemm;
    e->shape = g->names[i].shape;
    e->calls = g->names[i].calls;
    e->seconds = g->names[i].seconds;
    e->flops = g->names[i].flops;
  }
  *count = g->nnames;
  qsort(*out, (size_t)*count, sizeof **out, by_time);
  return CLGAN_OK;
}

void clgan_profile_stop(clgan_ctx *ctx) {
  struct clgan_profile_state *g = ctx->profile;
  if (!g) return;
  clFinish(ctx->queue);
  profile_drop(g);
  g->profiling = 0;
}
