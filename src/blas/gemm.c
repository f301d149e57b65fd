/* The only file that talks to CLBlast: SGEMM and strided-batched SGEMM on clgan views, run
 * by the context's GEMM plan (src/blas/gemm_tune.c), plus shape recording; each GEMM is
 * timed by the profiler (src/device/profile.c) as one entry per shape.
 * Tests: tests/perf/test_gemm.c (against a float64 reference, every route); `clgan doctor`. */
#include <clblast_c.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clgan/gemm.h"
#include "clgan/ops.h"
#include "clgan/program.h"
#include "internal.h"
#include "ops/ops_nn_internal.h"

static const char *clblast_name(CLBlastStatusCode c) {
  switch (c) {
    case CLBlastNotImplemented: return "CLBlastNotImplemented";
    case CLBlastInvalidMatrixA: return "CLBlastInvalidMatrixA";
    case CLBlastInvalidMatrixB: return "CLBlastInvalidMatrixB";
    case CLBlastInvalidMatrixC: return "CLBlastInvalidMatrixC";
    case CLBlastInvalidVectorX: return "CLBlastInvalidVectorX";
    case CLBlastInvalidVectorY: return "CLBlastInvalidVectorY";
    case CLBlastInvalidDimension: return "CLBlastInvalidDimension";
    case CLBlastInvalidLeadDimA: return "CLBlastInvalidLeadDimA";
    case CLBlastInvalidLeadDimB: return "CLBlastInvalidLeadDimB";
    case CLBlastInvalidLeadDimC: return "CLBlastInvalidLeadDimC";
    case CLBlastInvalidIncrementX: return "CLBlastInvalidIncrementX";
    case CLBlastInvalidIncrementY: return "CLBlastInvalidIncrementY";
    case CLBlastInsufficientMemoryA: return "CLBlastInsufficientMemoryA";
    case CLBlastInsufficientMemoryB: return "CLBlastInsufficientMemoryB";
    case CLBlastInsufficientMemoryC: return "CLBlastInsufficientMemoryC";
    case CLBlastInsufficientMemoryX: return "CLBlastInsufficientMemoryX";
    case CLBlastInsufficientMemoryY: return "CLBlastInsufficientMemoryY";
    case CLBlastInsufficientMemoryTemp: return "CLBlastInsufficientMemoryTemp";
    case CLBlastInvalidBatchCount: return "CLBlastInvalidBatchCount";
    case CLBlastInvalidOverrideKernel: return "CLBlastInvalidOverrideKernel";
    case CLBlastMissingOverrideParameter: return "CLBlastMissingOverrideParameter";
    case CLBlastInvalidLocalMemUsage: return "CLBlastInvalidLocalMemUsage";
    case CLBlastNoHalfPrecision: return "CLBlastNoHalfPrecision";
    case CLBlastNoDoublePrecision: return "CLBlastNoDoublePrecision";
    case CLBlastDatabaseError: return "CLBlastDatabaseError";
    case CLBlastUnknownError: return "CLBlastUnknownError";
    case CLBlastUnexpectedError: return "CLBlastUnexpectedError";
    default: break;
  }
  /* the rest coincide with OpenCL's codes */
  return clgan_cl_error_name((int)c);
}

static clgan_status check(CLBlastStatusCode c, const char *what, size_t m, size_t n, size_t k) {
  if (c == CLBlastSuccess) return CLGAN_OK;
  clgan_status s = (c == CLBlastTempBufferAllocFailure || c == CLBlastOpenCLOutOfResources)
                       ? CLGAN_ERR_NOMEM : CLGAN_ERR_CLBLAST;
  return clgan_error(s, "%s (M=%zu N=%zu K=%zu) failed: %s (%d)", what, m, n, k,
                     clblast_name(c), (int)c);
}

/* ---- per-context state ---- */

struct clgan_gemm_state {
  clgan_gemm_plan plan;
  int plan_ready;
  char note[600];
  cl_mem temp;                 /* CLBlast's scratch for padded/transposed copies */
  size_t temp_bytes;
  int recording;
  clgan_gemm_record *rec;
  int nrec, caprec;
};

static void gemm_free(clgan_ctx *ctx);

/* The context's GEMM state, made on first use; its cleanup is registered then
 * (clgan_ctx_on_free, device.h). */
static clgan_status state_of(clgan_ctx *ctx, struct clgan_gemm_state **out) {
  if (!ctx->gemm) {
    clgan_status s = clgan_ctx_on_free(ctx, CLGAN_LAYER_GEMM, gemm_free);
    if (s) return s;
    ctx->gemm = calloc(1, sizeof *ctx->gemm);
    if (!ctx->gemm) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    clgan_gemm_plan_init(&ctx->gemm->plan);
  }
  *out = ctx->gemm;
  return CLGAN_OK;
}

static clgan_status plan_ready(clgan_ctx *ctx, struct clgan_gemm_state **out) {
  clgan_status s = state_of(ctx, out);
  if (s || (*out)->plan_ready) return s;
  clgan_gemm_plan_default(&ctx->info, &(*out)->plan, (*out)->note, sizeof (*out)->note);
  (*out)->plan_ready = 1;
  return CLGAN_OK;
}

static void gemm_free(clgan_ctx *ctx) {
  struct clgan_gemm_state *g = ctx->gemm;
  if (!g) return;
  clgan_gemm_plan_free(&g->plan);
  clgan_buffer_release(&g->temp);
  free(g->rec);
  free(g);
  ctx->gemm = NULL;
}

clgan_status clgan_gemm_set_plan(clgan_ctx *ctx, const clgan_gemm_plan *p) {
  struct clgan_gemm_state *g = NULL;
  clgan_status s = state_of(ctx, &g);
  clgan_gemm_plan copy;
  if (!s) s = clgan_gemm_plan_copy(p, &copy);
  if (s) return s;
  clgan_gemm_plan_free(&g->plan);
  g->plan = copy;
  g->plan_ready = 1;
  g->note[0] = '\0';
  return CLGAN_OK;
}

const clgan_gemm_plan *clgan_gemm_get_plan(clgan_ctx *ctx) {
  struct clgan_gemm_state *g = NULL;
  if (plan_ready(ctx, &g)) return NULL;
  return &g->plan;
}

const char *clgan_gemm_plan_note(clgan_ctx *ctx) {
  struct clgan_gemm_state *g = NULL;
  if (plan_ready(ctx, &g)) return "";
  return g->note;
}

/* ---- applying a program: CLBlast keeps overrides per device, process-wide ---- */

static pthread_mutex_t applied_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  cl_device_id dev;
  clgan_gemm_program prog;
} applied[16];
static int napplied;

static int same_program(const clgan_gemm_program *a, const clgan_gemm_program *b) {
  return !memcmp(a->xgemm, b->xgemm, sizeof a->xgemm) &&
         !memcmp(a->direct, b->direct, sizeof a->direct) && a->min_indirect == b->min_indirect;
}

static clgan_status override(cl_device_id dev, const char *kernel, int n, const char *const *names,
                             const size_t *values) {
  CLBlastStatusCode r = CLBlastOverrideParameters(dev, kernel, CLBlastPrecisionSingle, (size_t)n,
                                                  (const char **)names, values);
  if (r == CLBlastSuccess) return CLGAN_OK;
  return clgan_error(CLGAN_ERR_CLBLAST, "CLBlastOverrideParameters(%s) failed: %s (%d)", kernel,
                     clblast_name(r), (int)r);
}

static clgan_status apply_program(clgan_ctx *ctx, const clgan_gemm_program *p) {
  cl_device_id dev = ctx->info.device;
  pthread_mutex_lock(&applied_lock);
  int slot = -1;
  for (int i = 0; i < napplied; i++)
    if (applied[i].dev == dev) slot = i;
  if (slot >= 0 && same_program(&applied[slot].prog, p)) {
    pthread_mutex_unlock(&applied_lock);
    return CLGAN_OK;
  }
  size_t xv[CLGAN_XGEMM_NPARAMS], dv[CLGAN_DIRECT_NPARAMS], mv = p->min_indirect;
  for (int i = 0; i < CLGAN_XGEMM_NPARAMS; i++) xv[i] = p->xgemm[i];
  for (int i = 0; i < CLGAN_DIRECT_NPARAMS; i++) dv[i] = p->direct[i];
  static const char *const routine_names[] = {"XGEMM_MIN_INDIRECT_SIZE"};
  clgan_status s = override(dev, "Xgemm", CLGAN_XGEMM_NPARAMS, clgan_gemm_param_names(0), xv);
  if (!s) s = override(dev, "XgemmDirect", CLGAN_DIRECT_NPARAMS, clgan_gemm_param_names(1), dv);
  if (!s) s = override(dev, "GemmRoutine", 1, routine_names, &mv);
  if (!s) {
    if (slot < 0 && napplied < (int)(sizeof applied / sizeof *applied)) slot = napplied++;
    if (slot >= 0) {
      applied[slot].dev = dev;
      applied[slot].prog = *p;
    }
  } else if (slot >= 0) {
    /* half applied: make the next call apply everything again */
    applied[slot].dev = NULL;
  }
  pthread_mutex_unlock(&applied_lock);
  return s;
}

/* CLBlast's other kernels (copies, transposes, Sgemv, Sger) under a plan fitted to a small
 * device: their parameters within the plan's limits, once per device and process. */
static struct {
  cl_device_id dev;
  clgan_gemm_limits lim;
} helpers_applied[16];
static int nhelpers;

static clgan_status apply_helpers(clgan_ctx *ctx, const clgan_gemm_plan *plan) {
  const clgan_gemm_limits *l = &plan->fitted;
  if (!l->max_wg) return CLGAN_OK;
  cl_device_id dev = ctx->info.device;
  pthread_mutex_lock(&applied_lock);
  int slot = -1;
  for (int i = 0; i < nhelpers; i++)
    if (helpers_applied[i].dev == dev) slot = i;
  if (slot >= 0 && !memcmp(&helpers_applied[slot].lim, l, sizeof *l)) {
    pthread_mutex_unlock(&applied_lock);
    return CLGAN_OK;
  }
  clgan_gemm_kernel_params k[CLGAN_GEMM_HELPER_KERNELS];
  clgan_gemm_helper_params(l, k);
  clgan_status s = CLGAN_OK;
  for (int i = 0; i < CLGAN_GEMM_HELPER_KERNELS && !s; i++)
    s = override(dev, k[i].kernel, k[i].n, k[i].names, k[i].values);
  if (!s) {
    if (slot < 0 && nhelpers < (int)(sizeof helpers_applied / sizeof *helpers_applied))
      slot = nhelpers++;
    if (slot >= 0) {
      helpers_applied[slot].dev = dev;
      helpers_applied[slot].lim = *l;
    }
  } else if (slot >= 0) {
    helpers_applied[slot].dev = NULL;
  }
  pthread_mutex_unlock(&applied_lock);
  return s;
}

size_t clgan_gemm_scratch_bytes(const clgan_ctx *ctx) {
  return ctx->gemm ? ctx->gemm->temp_bytes : 0;
}

/* ---- routing ---- */

/* Level-2 forms: M = 1 or N = 1 as a matrix-vector product, K = 1 as a rank-1 update. */
static int small_ok(const clgan_gemm_shape *s, size_t ldc) {
  return s->m == 1 || (s->n == 1 && ldc == 1) || s->k == 1;
}

/* How one call runs: prog is a program index, CLGAN_GEMM_USE_GEMV, CLGAN_GEMM_USE_SMALL_M,
 * CLGAN_GEMM_USE_PANEL or -2 (CLBlast as it stands); row = 1 hands CLBlast the row-major problem as given, 0 the column-major twin. */
typedef struct route_t {
  int prog, row;
} route_t;

int clgan_gemm_class_fits(int route, const clgan_gemm_shape *s) {
  switch (route) {
  case CLGAN_GEMM_USE_GEMV: return s->m == 1 || s->n == 1 || s->k == 1;
  case CLGAN_GEMM_USE_SMALL_M:
    return !s->ta && s->tb && s->m >= 2 && s->m <= CLGAN_GEMM_SMALL_M_MAX &&
           s->k <= CLGAN_GEMM_SMALL_M_KMAX;
  case CLGAN_GEMM_USE_PANEL: return !s->ta && s->k >= CLGAN_GEMM_PANEL_KMIN;
  default: return 0;
  }
}

/* Whether a shape can take a class route in this call: its class, and for small-M, A^T's
 * K * 64 bytes of local memory within half of a fitted (small) device's. */
static int class_ok(const clgan_gemm_plan *p, int r, const clgan_gemm_shape *s, size_t ldc) {
  if (r == CLGAN_GEMM_USE_GEMV) return small_ok(s, ldc);
  if (r == CLGAN_GEMM_USE_SMALL_M)
    return clgan_gemm_class_fits(r, s) &&
           (!p->fitted.max_wg || (unsigned long long)s->k * 64u <= p->fitted.local_mem / 2);
  return clgan_gemm_class_fits(r, s);
}

static route_t route_of(const clgan_gemm_plan *p, const clgan_gemm_shape *s, size_t ldc) {
  for (int i = 0; i < p->nchoices; i++) {
    const clgan_gemm_shape *c = &p->choices[i].shape;
    if (c->ta == s->ta && c->tb == s->tb && c->m == s->m && c->n == s->n && c->k == s->k) {
      int r = p->choices[i].program;
      /* a listed class route that cannot take this call falls to the rules below */
      if (r < 0 && !class_ok(p, r, s, ldc)) break;
      return (route_t){r, r == CLGAN_GEMM_USE_SMALL_M || r == CLGAN_GEMM_USE_PANEL
                              ? 1
                              : p->choices[i].row_major};
    }
  }
  if (p->gemv_small && small_ok(s, ldc)) return (route_t){CLGAN_GEMM_USE_GEMV, 0};
  if (p->small_m && class_ok(p, CLGAN_GEMM_USE_SMALL_M, s, ldc))
    return (route_t){CLGAN_GEMM_USE_SMALL_M, 1};
  if (p->panel && class_ok(p, CLGAN_GEMM_USE_PANEL, s, ldc))
    return (route_t){CLGAN_GEMM_USE_PANEL, 1};
  int row = p->fallback_layout == CLGAN_GEMM_LAYOUT_ROW ||
            (p->fallback_layout == CLGAN_GEMM_LAYOUT_AUTO && !(s->ta && !s->tb) &&
             !(!s->ta && !s->tb && s->k < 512));
  if (p->fallback >= 0 && p->fallback < p->nprograms) return (route_t){p->fallback, row};
  /* CLBlast left alone keeps clgan's original row-major call */
  return (route_t){-2, p->nprograms == 0 ? 1 : row};
}

int clgan_gemm_route(clgan_ctx *ctx, const clgan_gemm_shape *s) {
  struct clgan_gemm_state *g = NULL;
  if (plan_ready(ctx, &g)) return -2;
  return route_of(&g->plan, s, s->n == 1 ? 1 : s->n).prog;
}

/* ---- recording ---- */

static void record(struct clgan_gemm_state *g, const clgan_gemm_shape *s) {
  for (int i = 0; i < g->nrec; i++) {
    clgan_gemm_shape *r = &g->rec[i].shape;
    if (r->ta == s->ta && r->tb == s->tb && r->m == s->m && r->n == s->n && r->k == s->k) {
      g->rec[i].calls++;
      return;
    }
  }
  if (g->nrec == g->caprec) {
    int cap = g->caprec ? 2 * g->caprec : 32;
    clgan_gemm_record *r = realloc(g->rec, sizeof *r * (size_t)cap);
    if (!r) return; /* a recording that misses a shape under memory pressure is harmless */
    g->rec = r;
    g->caprec = cap;
  }
  g->rec[g->nrec++] = (clgan_gemm_record){*s, 1};
}

clgan_status clgan_gemm_record_start(clgan_ctx *ctx, int skip_gemms) {
  struct clgan_gemm_state *g = NULL;
  clgan_status s = state_of(ctx, &g);
  if (s) return s;
  g->nrec = 0;
  g->recording = skip_gemms ? 2 : 1;
  return CLGAN_OK;
}

clgan_status clgan_gemm_record_stop(clgan_ctx *ctx, clgan_gemm_record **out, int *count) {
  struct clgan_gemm_state *g = NULL;
  clgan_status s = state_of(ctx, &g);
  *out = NULL;
  *count = 0;
  if (s) return s;
  g->recording = 0;
  if (g->nrec) {
    *out = malloc(sizeof **out * (size_t)g->nrec);
    if (!*out) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    memcpy(*out, g->rec, sizeof **out * (size_t)g->nrec);
    *count = g->nrec;
  }
  g->nrec = 0;
  return CLGAN_OK;
}

/* ---- the calls ---- */

static CLBlastTranspose tr(int t) { return t ? CLBlastTransposeYes : CLBlastTransposeNo; }

/* CLBlast's scratch for the indirect kernel, kept per context so that no GEMM allocates
 * (it would otherwise create and free a buffer on every call). */
static clgan_status temp_for(clgan_ctx *ctx, struct clgan_gemm_state *g, size_t bytes,
                             cl_mem *out) {
  if (bytes > g->temp_bytes || !g->temp) {
    /* grow by half again, so a run of slightly bigger shapes does not reallocate each time */
    size_t want = bytes + bytes / 2 + 4096;
    clgan_buffer_release(&g->temp);
    g->temp_bytes = 0;
    clgan_status s = clgan_buffer_create(ctx, want, "GEMM scratch", &g->temp);
    if (s) return s;
    /* written whole by the host once (zeros): a new buffer may get a released one's id,
     * and Oclgrind then keeps that buffer's shadow, smaller size included, until a whole
     * host write replaces it (docs/ERRORS.md, "Oclgrind's uninitialised-value check");
     * calloc's pages are only read here, so this costs no host memory */
    void *zeros = calloc(1, want);
    if (!zeros) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    if (!s) s = clgan_buffer_write(ctx, g->temp, 0, want, zeros);
    free(zeros);
    if (s) {
      clgan_buffer_release(&g->temp);
      return clgan_error_prefix("clearing the GEMM scratch: ");
    }
    g->temp_bytes = want;
  }
  *out = g->temp;
  return CLGAN_OK;
}

/* M = 1, N = 1 (contiguous C) or K = 1 through CLBlast's level-2 routines. */
static clgan_status run_small(clgan_ctx *ctx, const clgan_gemm_shape *sh, float alpha,
                              clgan_view a, size_t lda, clgan_view b, size_t ldb, float beta,
                              clgan_view c, size_t ldc, cl_event *ev) {
  CLBlastStatusCode r;
  if (sh->m == 1 || sh->n == 1) {
    /* y = op(M) x, with M the matrix operand and x the vector one, both as stored */
    int row = sh->m == 1;
    clgan_view mat = row ? b : a, vec = row ? a : b;
    size_t ld = row ? ldb : lda;
    int tmat = row ? !sh->tb : sh->ta;                 /* row: y^T = x^T op(B) = (op(B)^T x)^T */
    size_t rows = row ? (sh->tb ? sh->n : sh->k) : (sh->ta ? sh->k : sh->m);
    size_t cols = row ? (sh->tb ? sh->k : sh->n) : (sh->ta ? sh->m : sh->k);
    size_t incx = row ? (sh->ta ? lda : 1) : (sh->tb ? 1 : ldb);
    size_t incy = row ? 1 : ldc;
    if (beta == 0.0f) {
      /* Sgemv reads y even when beta is 0: NaN or Inf there would survive 0 * y */
      clgan_status s = clgan_fill(ctx, row ? sh->n : sh->m, 0.0f, c);
      if (s) return s;
    }
    r = CLBlastSgemv(CLBlastLayoutRowMajor, tr(tmat), rows, cols, alpha, mat.mem, mat.off, ld,
                     vec.mem, vec.off, incx, beta, c.mem, c.off, incy, &ctx->queue, ev);
    return check(r, "CLBlastSgemv", sh->m, sh->n, sh->k);
  }
  /* K = 1: C = beta C + alpha a b^T, a column of op(A) and a row of op(B) */
  clgan_status s = CLGAN_OK;
  if (beta != 1.0f) {
    /* contiguous rows in one launch, else row by row */
    size_t rows = ldc == sh->n ? 1 : sh->m, len = ldc == sh->n ? sh->m * sh->n : sh->n;
    for (size_t i = 0; i < rows && !s; i++)
      s = beta == 0.0f ? clgan_fill(ctx, len, 0.0f, clgan_view_at(c, i * ldc))
                       : clgan_scale(ctx, len, beta, clgan_view_at(c, i * ldc));
  }
  if (s) return s;
  r = CLBlastSger(CLBlastLayoutRowMajor, sh->m, sh->n, alpha, a.mem, a.off, sh->ta ? 1 : lda,
                  b.mem, b.off, sh->tb ? ldb : 1, c.mem, c.off, ldc, &ctx->queue, ev);
  return check(r, "CLBlastSger", sh->m, sh->n, sh->k);
}

/* Sets the arguments of one of clgan's own GEMM kernels (kernels/gemm_small.cl) and enqueues
 * it, its event to `ev` if given: enqueued here rather than by clgan_launch, so the profiler
 * counts the call once, as a GEMM. */
static clgan_status own_launch(clgan_ctx *ctx, cl_kernel k, const char *name, int nargs,
                               const clgan_karg *args, cl_uint dims, const size_t *global,
                               const size_t *local, cl_event *ev) {
  clgan_status s = clgan_set_args(k, name, nargs, args);
  if (s) return s;
  cl_int e = clEnqueueNDRangeKernel(ctx->queue, k, dims, NULL, global, local, 0, NULL, ev);
  if (e == CL_SUCCESS) return CLGAN_OK;
  clgan_cl_check(e, "clEnqueueNDRangeKernel");
  return clgan_error_prefix("launching kernel '%s': ", name);
}

/* NT with 2 <= M <= 16 in kernels/gemm_small.cl: each item computes 4 columns of C for all
 * of M's rows, from A^T in local memory (K float16 vectors) and B read in place. */
static clgan_status run_small_m(clgan_ctx *ctx, const clgan_gemm_shape *sh, float alpha,
                                clgan_view a, size_t lda, clgan_view b, size_t ldb, float beta,
                                clgan_view c, size_t ldc, cl_event *ev) {
  const char *name = "gemm_nt_small_m";
  if (sh->ta || !sh->tb || sh->m < 2 || sh->m > CLGAN_GEMM_SMALL_M_MAX ||
      sh->k > CLGAN_GEMM_SMALL_M_KMAX || lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX ||
      sh->n > INT_MAX)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: shape %c%c %zux%zux%zu is not its class", name,
                       sh->ta ? 'T' : 'N', sh->tb ? 'T' : 'N', sh->m, sh->n, sh->k);
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "gemm_small", name, &k);
  if (s) return s;
  /* A CPU runs a group's items one after the other on one core: one item per group, each
   * with a long run of columns (about 8 runs per compute unit), so A^T is gathered rarely.
   * Elsewhere groups of 64 items, 4 columns each. */
  int cpu = clgan_nn_cpu_only(ctx);
  size_t local = cpu ? 1 : clgan_kernel_local_size(ctx, k, 64), per = 4;
  if (cpu) {
    size_t runs = 8 * (ctx->info.compute_units ? ctx->info.compute_units : 1);
    per = (sh->n + runs - 1) / runs;
    per = (per + 3) / 4 * 4;
  }
  size_t items = (sh->n + per - 1) / per, global = (items + local - 1) / local * local;
  cl_int m = (cl_int)sh->m, n = (cl_int)sh->n, kk = (cl_int)sh->k, la = (cl_int)lda,
         lb = (cl_int)ldb, lc = (cl_int)ldc, pi = (cl_int)per;
  cl_ulong ao = a.off, bo = b.off, co = c.off;
  clgan_karg args[] = {CLGAN_KARG(m),     CLGAN_KARG(n),     CLGAN_KARG(kk),    CLGAN_KARG(alpha),
                       CLGAN_KARG(a.mem), CLGAN_KARG(ao),    CLGAN_KARG(la),    CLGAN_KARG(b.mem),
                       CLGAN_KARG(bo),    CLGAN_KARG(lb),    CLGAN_KARG(beta),  CLGAN_KARG(c.mem),
                       CLGAN_KARG(co),    CLGAN_KARG(lc),    CLGAN_KARG(pi),
                       {sh->k * 16 * sizeof(cl_float), NULL}};
  return own_launch(ctx, k, name, 16, args, 1, &global, &local, ev);
}

/* One kernel launch of run_panel, one-item work-groups. */
static clgan_status panel_launch(clgan_ctx *ctx, const char *name, int nargs,
                                 const clgan_karg *args, cl_uint dims, const size_t *global,
                                 cl_event *ev) {
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "gemm_small", name, &k);
  if (s) return s;
  const size_t one[2] = {1, 1};
  return own_launch(ctx, k, name, nargs, args, dims, global, one, ev);
}

/* clgan's panel GEMM (kernels/gemm_small.cl) for NN and NT: op(B) packed into 32-column
 * panels (each panel's K rows contiguous) in the GEMM scratch, A read in place; then one
 * work-item per 8 x 32 tile of C, in one-item groups, panel by panel (the items of one B
 * panel are consecutive, so a core keeps that panel in its cache while A's rows stream
 * past). CPUs only: the plan's panel. */
static clgan_status run_panel(clgan_ctx *ctx, struct clgan_gemm_state *g,
                              const clgan_gemm_shape *sh, float alpha, clgan_view a, size_t lda,
                              clgan_view b, size_t ldb, float beta, clgan_view c, size_t ldc,
                              cl_event *ev) {
  if (sh->ta || lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX || sh->n > INT_MAX ||
      sh->m > INT_MAX || sh->k > INT_MAX)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "panel GEMM: shape %c%c %zux%zux%zu is not its class",
                       sh->ta ? 'T' : 'N', sh->tb ? 'T' : 'N', sh->m, sh->n, sh->k);
  size_t panels = (sh->n + 31) / 32;
  cl_mem bp = NULL;
  clgan_status s = temp_for(ctx, g, panels * 32 * sh->k * sizeof(cl_float), &bp);
  if (s) return s;
  cl_int m = (cl_int)sh->m, n = (cl_int)sh->n, kk = (cl_int)sh->k, la = (cl_int)lda,
         lb = (cl_int)ldb, lc = (cl_int)ldc;
  cl_ulong ao = a.off, bo = b.off, co = c.off;
  /* NN's B is k x n (a row per item), NT's n x k (16 k values of 32 rows per item) */
  clgan_karg pargs[] = {CLGAN_KARG(n), CLGAN_KARG(kk), CLGAN_KARG(b.mem),
                        CLGAN_KARG(bo), CLGAN_KARG(lb), CLGAN_KARG(bp)};
  size_t pglobal[2] = {sh->tb ? (sh->k + 15) / 16 : sh->k, panels};
  s = panel_launch(ctx, sh->tb ? "gemm_pack_cols" : "gemm_pack_rows", 6, pargs, sh->tb ? 2 : 1,
                   pglobal, NULL);
  if (s) return s;
  size_t global[2] = {(sh->m + 7) / 8, panels};
  clgan_karg args[] = {CLGAN_KARG(m),     CLGAN_KARG(n),    CLGAN_KARG(kk),   CLGAN_KARG(alpha),
                       CLGAN_KARG(a.mem), CLGAN_KARG(ao),   CLGAN_KARG(la),   CLGAN_KARG(bp),
                       CLGAN_KARG(beta),  CLGAN_KARG(c.mem), CLGAN_KARG(co),  CLGAN_KARG(lc)};
  return panel_launch(ctx, "gemm_panel", 12, args, 2, global, ev);
}

/* Runs one GEMM by `route`. The column-major form of row-major C = op(A) op(B) is
 * C^T = op(B)^T op(A)^T: CLBlast's indirect kernel wants column-major C and, given the
 * row-major call, transposes C into scratch and back on every call; but the two forms also
 * tile the problem differently (M and N swap), so which one is faster depends on the shape
 * and the tuner measures both. */
static clgan_status run(clgan_ctx *ctx, struct clgan_gemm_state *g, const clgan_gemm_plan *plan,
                        route_t route, const clgan_gemm_shape *sh, float alpha, clgan_view a,
                        size_t lda, clgan_view b, size_t ldb, float beta, clgan_view c, size_t ldc) {
  cl_event before = NULL, done = NULL;
  int prof = clgan_profile_active(ctx);
  int entry = -1;
  if (prof) {
    char name[64];
    snprintf(name, sizeof name, "gemm %c%c %zux%zux%zu", sh->ta ? 'T' : 'N', sh->tb ? 'T' : 'N',
             sh->m, sh->n, sh->k);
    entry = clgan_profile_gemm_entry(ctx, name, sh);
    if (clEnqueueMarkerWithWaitList(ctx->queue, 0, NULL, &before) != CL_SUCCESS) before = NULL;
  }
  clgan_status s = apply_helpers(ctx, plan);
  if (!s && route.prog == CLGAN_GEMM_USE_GEMV) {
    s = run_small(ctx, sh, alpha, a, lda, b, ldb, beta, c, ldc, prof ? &done : NULL);
  } else if (!s && route.prog == CLGAN_GEMM_USE_PANEL) {
    s = run_panel(ctx, g, sh, alpha, a, lda, b, ldb, beta, c, ldc, prof ? &done : NULL);
  } else if (!s && route.prog == CLGAN_GEMM_USE_SMALL_M) {
    s = run_small_m(ctx, sh, alpha, a, lda, b, ldb, beta, c, ldc, prof ? &done : NULL);
  } else if (!s) {
    s = route.prog >= 0 ? apply_program(ctx, &plan->programs[route.prog]) : CLGAN_OK;
    /* the column-major twin: C^T (n x m) = op(B)^T (n x k) op(A)^T (k x m) */
    CLBlastLayout layout = route.row ? CLBlastLayoutRowMajor : CLBlastLayoutColMajor;
    int t1 = route.row ? sh->ta : sh->tb, t2 = route.row ? sh->tb : sh->ta;
    size_t d1 = route.row ? sh->m : sh->n, d2 = route.row ? sh->n : sh->m;
    clgan_view x1 = route.row ? a : b, x2 = route.row ? b : a;
    size_t ld1 = route.row ? lda : ldb, ld2 = route.row ? ldb : lda;
    size_t bytes = 0;
    CLBlastStatusCode r = CLBlastSGemmTempBufferSize(layout, tr(t1), tr(t2), d1, d2, sh->k,
                                                     x1.off, ld1, x2.off, ld2, c.off, ldc,
                                                     &ctx->queue, &bytes);
    cl_mem temp = NULL;
    if (!s) s = check(r, "CLBlastSGemmTempBufferSize", sh->m, sh->n, sh->k);
    if (!s) s = temp_for(ctx, g, bytes, &temp);
    if (!s) {
      r = CLBlastSgemmWithTempBuffer(layout, tr(t1), tr(t2), d1, d2, sh->k, alpha, x1.mem,
                                     x1.off, ld1, x2.mem, x2.off, ld2, beta, c.mem, c.off, ldc,
                                     &ctx->queue, prof ? &done : NULL, temp);
      s = check(r, "CLBlastSgemm", sh->m, sh->n, sh->k);
    }
  }
  if (prof) {
    if (s || !done) {
      if (before) clReleaseEvent(before);
      if (done) clReleaseEvent(done);
    } else {
      clgan_profile_add_gemm(ctx, entry, before, done);
    }
  }
  return s;
}

clgan_status clgan_gemm(clgan_ctx *ctx, int ta, int tb, size_t m, size_t n, size_t k,
                        float alpha, clgan_view a, size_t lda, clgan_view b, size_t ldb,
                        float beta, clgan_view c, size_t ldc) {
  if (m == 0 || n == 0) return CLGAN_OK;
  if (k == 0) /* CLBlast rejects K=0; C = beta*C is the right answer */
    return beta == 0.0f ? clgan_fill(ctx, m * n, 0.0f, c) : clgan_scale(ctx, m * n, beta, c);
  struct clgan_gemm_state *g = NULL;
  clgan_status s = plan_ready(ctx, &g);
  if (s) return s;
  clgan_gemm_shape sh = {ta != 0, tb != 0, m, n, k};
  if (g->recording) record(g, &sh);
  if (g->recording == 2) return CLGAN_OK;
  return run(ctx, g, &g->plan, route_of(&g->plan, &sh, ldc), &sh, alpha, a, lda, b, ldb, beta,
             c, ldc);
}

clgan_status clgan_gemm_batched(clgan_ctx *ctx, int ta, int tb, size_t m, size_t n, size_t k,
                                float alpha, clgan_view a, size_t lda, size_t sa, clgan_view b,
                                size_t ldb, size_t sb, float beta, clgan_view c, size_t ldc,
                                size_t sc, size_t batch) {
  if (batch == 0 || m == 0 || n == 0) return CLGAN_OK;
  if (batch == 1)
    return clgan_gemm(ctx, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (k == 0) {
    for (size_t i = 0; i < batch; i++) {
      clgan_status s = clgan_gemm(ctx, ta, tb, m, n, 0, alpha, a, lda, b, ldb, beta,
                                  clgan_view_at(c, i * sc), ldc);
      if (s != CLGAN_OK) return s;
    }
    return CLGAN_OK;
  }
  struct clgan_gemm_state *g = NULL;
  clgan_status s = plan_ready(ctx, &g);
  if (s) return s;
  clgan_gemm_shape sh = {ta != 0, tb != 0, m, n, k};
  if (g->recording) record(g, &sh); /* one shape per batch entry */
  for (size_t i = 1; g->recording && i < batch; i++) record(g, &sh);
  if (g->recording == 2) return CLGAN_OK;
  route_t route = route_of(&g->plan, &sh, ldc);
  /* no level-2 form for a batch: a shape routed to one takes the fallback program */
  int prog = route.prog >= 0 ? route.prog : g->plan.fallback;
  s = apply_helpers(ctx, &g->plan);
  if (!s && prog >= 0 && prog < g->plan.nprograms) s = apply_program(ctx, &g->plan.programs[prog]);
  if (s) return s;
  CLBlastStatusCode r = CLBlastSgemmStridedBatched(
      CLBlastLayoutColMajor, tr(tb), tr(ta), n, m, k, alpha, b.mem, b.off, ldb, sb, a.mem, a.off,
      lda, sa, beta, c.mem, c.off, ldc, sc, batch, &ctx->queue, NULL);
  return check(r, "CLBlastSgemmStridedBatched", m, n, k);
}

/* ---- measuring (the tuner's inner step) ---- */

static float pattern(size_t i, unsigned salt) {
  return (float)((i * 2654435761u + salt * 40503u) % 1000u) / 1000.0f - 0.5f;
}

clgan_status clgan_gemm_measure_shape(clgan_ctx *ctx, const clgan_gemm_shape *sh,
                                      const clgan_gemm_program *p, int gemv, int layout,
                                      int reps, clgan_gemm_measure *out) {
  memset(out, 0, sizeof *out);
  if (!sh->m || !sh->n || !sh->k) return clgan_error(CLGAN_ERR_INVALID_ARG, "empty GEMM shape");
  if (gemv && !small_ok(sh, 1))
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%zux%zux%zu is not a matrix-vector shape", sh->m,
                       sh->n, sh->k);
  struct clgan_gemm_state *g = NULL;
  clgan_status s = plan_ready(ctx, &g);
  if (s) return s;
  size_t lda = sh->ta ? sh->m : sh->k, ldb = sh->tb ? sh->k : sh->n, ldc = sh->n;
  size_t na = sh->m * sh->k, nb = sh->k * sh->n, nc = sh->m * sh->n;
  float *ha = malloc(sizeof(float) * na), *hb = malloc(sizeof(float) * nb),
        *hc = malloc(sizeof(float) * nc);
  cl_mem ba = NULL, bb = NULL, bc = NULL;
  if (!ha || !hb || !hc) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s) {
    for (size_t i = 0; i < na; i++) ha[i] = pattern(i, 1);
    for (size_t i = 0; i < nb; i++) hb[i] = pattern(i, 2);
    for (size_t i = 0; i < nc; i++) hc[i] = NAN; /* beta 0 must not read C */
  }
  if (!s) s = clgan_buffer_create(ctx, na * sizeof(float), "measure.A", &ba);
  if (!s) s = clgan_buffer_create(ctx, nb * sizeof(float), "measure.B", &bb);
  if (!s) s = clgan_buffer_create(ctx, nc * sizeof(float), "measure.C", &bc);
  if (!s) s = clgan_buffer_write(ctx, ba, 0, na * sizeof(float), ha);
  if (!s) s = clgan_buffer_write(ctx, bb, 0, nb * sizeof(float), hb);
  if (!s) s = clgan_buffer_write(ctx, bc, 0, nc * sizeof(float), hc);
  clgan_gemm_plan one;
  clgan_gemm_plan_init(&one);
  route_t route = route_of(&g->plan, sh, ldc);
  if (gemv) {
    route = (route_t){CLGAN_GEMM_USE_GEMV, 0};
  } else if (p) {
    one.nprograms = 1;
    one.programs[0] = *p;
    /* CLBlast's other kernels as the context's plan has them, or, under a plan that is
     * not fitted (the tuner's "CLBlast defaults"), fitted anyway on a small device: a
     * candidate is measured with helpers that can run there */
    one.fitted = g->plan.fitted;
    if (!one.fitted.max_wg) {
      clgan_gemm_limits lim;
      clgan_gemm_limits_of(&ctx->info, &lim);
      if (clgan_gemm_limits_tight(&lim)) one.fitted = lim;
    }
    route = (route_t){0, 0};
  }
  if (layout >= 0) route.row = layout != 0;
  const clgan_gemm_plan *plan = p && !gemv ? &one : &g->plan;
  /* the first run compiles (or loads) the kernels: not timed */
  if (!s) s = run(ctx, g, plan, route, sh, 1.0f, CLGAN_VIEW(ba, 0), lda, CLGAN_VIEW(bb, 0), ldb,
                  0.0f, CLGAN_VIEW(bc, 0), ldc);
  if (!s) s = clgan_ctx_finish(ctx);
  if (!s) s = clgan_buffer_read(ctx, bc, 0, nc * sizeof(float), hc);
  if (!s) {
    double worst = 0.0;
    for (int t = 0; t < 256; t++) {
      size_t i = ((size_t)t * 7919u + 3u) % sh->m, j = ((size_t)t * 104729u + 11u) % sh->n;
      double acc = 0.0, mag = 0.0;
      for (size_t q = 0; q < sh->k; q++) {
        double x = sh->ta ? ha[q * lda + i] : ha[i * lda + q];
        double y = sh->tb ? hb[j * ldb + q] : hb[q * ldb + j];
        acc += x * y;
        mag += x < 0 ? -x * (y < 0 ? -y : y) : x * (y < 0 ? -y : y);
      }
      double got = hc[i * ldc + j];
      double e = got == got ? (got > acc ? got - acc : acc - got) / (mag + 1e-30) : 1e30;
      if (e > worst) worst = e;
    }
    out->max_rel_err = worst;
    /* a float32 sum of k products errs by at most about k ulps of the magnitude sum */
    out->valid = worst <= 2.0 * ((double)sh->k + 4.0) * 5.96e-8;
  }
  double best = 1e30;
  for (int r = 0; r < reps && !s; r++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    s = run(ctx, g, plan, route, sh, 1.0f, CLGAN_VIEW(ba, 0), lda, CLGAN_VIEW(bb, 0), ldb, 0.0f,
            CLGAN_VIEW(bc, 0), ldc);
    if (!s) s = clgan_ctx_finish(ctx);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double dt = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (dt < best) best = dt;
  }
  out->seconds = reps > 0 && !s ? best : 0.0;
  clgan_buffer_release(&ba);
  clgan_buffer_release(&bb);
  clgan_buffer_release(&bc);
  free(ha);
  free(hb);
  free(hc);
  return s;
}
