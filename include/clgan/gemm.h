/* GEMM plans and shape recording: which CLBlast kernel and parameters run each SGEMM shape
 * on a device (tuned by `clgan tune` and kept on disk, else a built-in default for POCL CPU
 * devices, else CLBlast's own) and the shapes a model issues. The SGEMM calls themselves
 * are in ops.h; per-kernel and per-shape times from OpenCL profiling events in device.h.
 * Tests: tests/perf/test_gemm_plan.c (host), tests/perf/test_gemm.c (device) */
#ifndef CLGAN_GEMM_H
#define CLGAN_GEMM_H

#include "clgan/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* clgan_gemm_shape, one GEMM problem, is in device.h (the profiler keeps GEMMs by it). */

/* Parameter counts of CLBlast's two SGEMM kernels (CLBlast 1.5's names, in the order of
 * clgan_gemm_param_names). */
enum { CLGAN_XGEMM_NPARAMS = 16, CLGAN_DIRECT_NPARAMS = 10 };

/* "Xgemm": GEMMK KREG KWG KWI MDIMA MDIMC MWG NDIMB NDIMC NWG SA SB STRM STRN VWM VWN;
 * "XgemmDirect": KWID MDIMAD MDIMCD NDIMBD NDIMCD PADA PADB VWMD VWND WGD. */
const char *const *clgan_gemm_param_names(int direct);

/* One CLBlast GEMM program: CLBlast compiles both kernels into one program per parameter
 * combination (a few seconds on POCL, cached by POCL on disk afterwards), so a plan names
 * few of them. min_indirect is CLBlast's XGEMM_MIN_INDIRECT_SIZE: a GEMM with
 * m*n*k < min_indirect^3 runs XgemmDirect, any other the indirect Xgemm. */
typedef struct clgan_gemm_program {
  unsigned xgemm[CLGAN_XGEMM_NPARAMS];
  unsigned direct[CLGAN_DIRECT_NPARAMS];
  unsigned long min_indirect;
} clgan_gemm_program;

/* min_indirect values that force one kernel for every shape. */
#define CLGAN_GEMM_ALWAYS_INDIRECT 0ul
#define CLGAN_GEMM_ALWAYS_DIRECT 2000000ul /* cubed still fits 64 bits */

/* Checks a program's parameters against the kernels' constraints (tile sizes divisible by
 * thread counts times vector widths, vector widths 1/2/4/8/16, local memory within
 * local_mem bytes and work-group sizes within max_wg; 0 = unchecked). 0 if valid, else -1
 * and a reason in why. */
int clgan_gemm_program_check(const clgan_gemm_program *p, unsigned long long local_mem,
                             size_t max_wg, char *why, size_t cap);

/* ---- device limits: work-group size, per-dimension item counts, local memory ----
 * CLBlast's parameter database gives an unknown device 64- to 512-item work-groups and a few
 * KiB of local memory, and neither it nor a tuned or built-in plan looks at the device's
 * limits; a device below them fails with CL_INVALID_WORK_GROUP_SIZE or
 * CLBlastInvalidLocalMemUsage. Plans are therefore fitted to the device: see
 * clgan_gemm_plan_fit. */
typedef struct clgan_gemm_limits {
  size_t max_wg;                /* CL_DEVICE_MAX_WORK_GROUP_SIZE; 0 = not known / not fitted */
  size_t max_item[2];           /* CL_DEVICE_MAX_WORK_ITEM_SIZES[0], [1] */
  unsigned long long local_mem; /* CL_DEVICE_LOCAL_MEM_SIZE in bytes */
} clgan_gemm_limits;

/* The device's limits (item sizes asked of dev->device; without one they equal max_wg). */
void clgan_gemm_limits_of(const clgan_device_info *dev, clgan_gemm_limits *out);

/* 1 when CLBlast's own parameters may not fit: work-groups below 256 items or 32 items in
 * dimension 0 or 1, or less than 32 KiB of local memory (the largest CLBlast gives a
 * device it has no entry for: 16x16 Xgemm groups with 16 KiB of local tiles, 32x16 copies). */
int clgan_gemm_limits_tight(const clgan_gemm_limits *l);

/* clgan_gemm_program_check plus the per-dimension limits (MDIMC, MDIMCD <= max_item[0];
 * NDIMC, NDIMCD <= max_item[1]). 0 if the program runs within l, else -1 and why. */
int clgan_gemm_program_fits(const clgan_gemm_program *p, const clgan_gemm_limits *l, char *why,
                            size_t cap);

/* A program for any device within l: square work-groups of up to 8x8 items (fewer where the
 * limits say so, down to one item), Xgemm without local memory, XgemmDirect with the largest
 * tile whose local memory fits; shapes below 128^3 go direct. */
void clgan_gemm_program_fit(const clgan_gemm_limits *l, clgan_gemm_program *out);

/* Parameters for one of CLBlast's other kernels (as CLBlastOverrideParameters takes them). */
typedef struct clgan_gemm_kernel_params {
  const char *kernel;           /* "Copy", "Pad", "Transpose", "Padtranspose", "Xgemv", ... */
  int n;
  const char *names[4];
  size_t values[4];
  size_t wg[2];                 /* the work-group it launches with (wg[1] = 1: 1-D) */
  unsigned long long local_bytes; /* its local memory */
} clgan_gemm_kernel_params;

enum { CLGAN_GEMM_HELPER_KERNELS = 8 };

/* The parameters, within l, of the kernels an SGEMM, Sgemv or Sger launches besides Xgemm
 * and XgemmDirect: CLBlast's copy, pad and transpose kernels of the indirect GEMM (Copy,
 * Pad, Transpose, Padtranspose), its matrix-vector kernels (Xgemv, XgemvFast,
 * XgemvFastRot) and its rank-1 update (Xger). Fills out[CLGAN_GEMM_HELPER_KERNELS]. */
void clgan_gemm_helper_params(const clgan_gemm_limits *l,
                              clgan_gemm_kernel_params out[CLGAN_GEMM_HELPER_KERNELS]);

/* How one shape runs: a program of the plan, or a class route: CLBlast's Sgemv/Sger for M,
 * N or K = 1, or clgan's own small-M or panel kernels (see clgan_gemm_plan). */
enum { CLGAN_GEMM_USE_GEMV = -1, CLGAN_GEMM_USE_SMALL_M = -3, CLGAN_GEMM_USE_PANEL = -4 };

/* 1 if the shape is of the class route's class (CLGAN_GEMM_USE_GEMV: M, N or K = 1;
 * _SMALL_M: NT with 2 <= M <= CLGAN_GEMM_SMALL_M_MAX and K <= CLGAN_GEMM_SMALL_M_KMAX;
 * _PANEL: NN or NT with K >= CLGAN_GEMM_PANEL_KMIN), else 0 (also for program indices). */
int clgan_gemm_class_fits(int route, const clgan_gemm_shape *s);

typedef struct clgan_gemm_choice {
  clgan_gemm_shape shape;
  int program;          /* index into the plan's programs, or a class route (CLGAN_GEMM_USE_*)
                         * whose class the shape is of */
  int row_major;        /* 1: CLBlast gets the row-major call as given; 0: its column-major
                         * twin C^T = B^T A^T (no transpose of C; M and N tile the other way) */
  double gflops;        /* measured by the tuner (informational) */
  double base_gflops;   /* CLBlast's defaults on the same shape, same run (informational) */
} clgan_gemm_choice;

enum { CLGAN_GEMM_MAX_PROGRAMS = 8 };

/* The form of the call for shapes a plan does not list (see clgan_gemm_choice.row_major). */
typedef enum clgan_gemm_layout {
  CLGAN_GEMM_LAYOUT_COL = 0,  /* always the column-major twin */
  CLGAN_GEMM_LAYOUT_ROW = 1,  /* always the row-major call as given */
  CLGAN_GEMM_LAYOUT_AUTO = 2  /* by transposes: TN and NN with K < 512 column-major, the rest
                               * row-major (what the tuner found for POCL on the DCGAN shapes) */
} clgan_gemm_layout;

/* The shape class of clgan_gemm_plan.small_m. */
#define CLGAN_GEMM_SMALL_M_MAX 16
#define CLGAN_GEMM_SMALL_M_KMAX 256

/* The shape class of clgan_gemm_plan.panel: NN and NT with K at least this. */
#define CLGAN_GEMM_PANEL_KMIN 64

/* What runs every GEMM of a context. A plan with no programs leaves CLBlast alone. */
typedef struct clgan_gemm_plan {
  char origin[160];     /* "CLBlast defaults", "built-in (POCL CPU)" or "tuned (<file>)" */
  int nprograms;
  clgan_gemm_program programs[CLGAN_GEMM_MAX_PROGRAMS];
  int fallback;         /* program for shapes not listed (-1: none, CLBlast's own) */
  int gemv_small;       /* 1: M, N or K = 1 shapes not listed run as Sgemv/Sger */
  clgan_gemm_layout fallback_layout; /* the form of the call for shapes not listed */
  int panel;            /* 1: NN and NT shapes not listed with K >= CLGAN_GEMM_PANEL_KMIN (and
                         * not M, N or K = 1 under gemv_small, nor small_m's) run in clgan's own
                         * kernels (kernels/gemm_small.cl): op(B) packed into 32-column panels,
                         * then one work-item per 8 x 32 tile of C; for CPUs (one-item
                         * work-groups). On in the built-in POCL plan; `clgan tune` measures it
                         * on CPUs and keeps it on unless tuned programs beat it on most of its
                         * shapes' work (docs/PERFORMANCE.md) */
  int small_m;          /* 1: NT shapes not listed with 2 <= M <= CLGAN_GEMM_SMALL_M_MAX and
                         * K <= CLGAN_GEMM_SMALL_M_KMAX run in clgan's own kernel
                         * (kernels/gemm_small.cl), which reads B in place (under a fitted
                         * plan only if K * 64 bytes fit half its local memory); on in the
                         * built-in POCL plan, and tuned as panel is */
  int nchoices;
  clgan_gemm_choice *choices; /* owned (free with clgan_gemm_plan_free) */
  clgan_gemm_limits fitted;   /* max_wg != 0: fitted to these limits (clgan_gemm_plan_fit), and
                               * CLBlast's other kernels get clgan_gemm_helper_params */
} clgan_gemm_plan;

void clgan_gemm_plan_init(clgan_gemm_plan *p); /* CLBlast defaults, nothing allocated */
void clgan_gemm_plan_free(clgan_gemm_plan *p);
clgan_status clgan_gemm_plan_copy(const clgan_gemm_plan *src, clgan_gemm_plan *dst);

/* The built-in plan for a device: for POCL CPU devices the parameters measured best on
 * POCL (docs/PERFORMANCE.md), elsewhere CLBlast's defaults. */
void clgan_gemm_plan_builtin(const clgan_device_info *dev, clgan_gemm_plan *out);

/* Where the tuned plan of a device is kept: <clgan_cache_dir()>/gemm/<key>.json, the key a
 * hash of the device's name, vendor and driver version, the platform version and clgan's
 * version. Returns -1 when the cache is disabled (CLGAN_CACHE=0 or no home). */
int clgan_gemm_plan_path(const clgan_device_info *dev, char *out, size_t cap);

/* Writes a plan for dev atomically (JSON; the device identity is stored beside it). */
clgan_status clgan_gemm_plan_save(const char *path, const clgan_device_info *dev,
                                  const clgan_gemm_plan *p);
/* Reads a plan written by clgan_gemm_plan_save. A file that is not valid JSON, is for
 * another device, driver or clgan version, or holds parameters that break the kernels'
 * constraints -> CLGAN_ERR_FORMAT (CLGAN_ERR_MISMATCH for another device) naming the file
 * and the problem; *out is then left as CLBlast defaults. */
clgan_status clgan_gemm_plan_load(const char *path, const clgan_device_info *dev,
                                  clgan_gemm_plan *out);

/* ---- merging a new tune into the plan already on disk (`clgan tune` without --fresh) ---- */
enum { CLGAN_GEMM_MERGE_KEPT = 0, CLGAN_GEMM_MERGE_REPLACED = 1, CLGAN_GEMM_MERGE_DROPPED = 2 };

typedef struct clgan_gemm_merge_info {
  int kept;            /* older entries carried over */
  int replaced;        /* older entries for shapes measured now (the new result stands) */
  int dropped;         /* older entries left out: their program did not fit max_programs */
  int programs_added;  /* older programs carried over (not already among the new ones) */
  int programs_wanted; /* programs needed to keep every older entry (may exceed the limit) */
  int old_settings;    /* 1: fallback, fallback_layout and gemv_small are the older plan's */
} clgan_gemm_merge_info;

/* Merges the older plan `old` into `p`, the plan a tune just produced, in place. Shapes that
 * have an entry in p, or are among measured[0..nmeasured) (the shapes the tune got a result
 * for, including those where CLBlast's own parameters won and p has no entry), keep p's
 * result; older entries for them are REPLACED (so are later duplicates in old). Every other
 * older entry is KEPT as it was (form of the call, GFLOPS), its program carried over: a
 * program equal to one of p's maps to it, any other is appended after p's programs, in the
 * older plan's order, while p has fewer than max_programs (p's own programs always stay). An
 * older entry whose program does not fit then is DROPPED and runs as any shape not listed;
 * Sgemv entries need no program. Plan-wide settings (fallback, fallback_layout, gemv_small)
 * stay p's, unless p has no program and old has a fallback program: then they are old's, its
 * fallback program carried first. fate (NULL or old->nchoices ints) gets each older entry's
 * CLGAN_GEMM_MERGE_*. On error (out of memory) p is unchanged. */
clgan_status clgan_gemm_plan_merge(clgan_gemm_plan *p, const clgan_gemm_plan *old,
                                   const clgan_gemm_shape *measured, int nmeasured,
                                   int max_programs, int *fate, clgan_gemm_merge_info *info);

/* Fits a plan to a device whose limits are tight (clgan_gemm_limits_tight; otherwise
 * nothing changes and 0 is returned): the Xgemm or XgemmDirect half of a program that does
 * not fit is replaced by clgan_gemm_program_fit's, a plan without a fallback program gets
 * that program as its fallback (M, N or K = 1 as Sgemv/Sger), and p->fitted is set so that
 * CLBlast's other kernels get parameters within the limits too. Below 32-item work-groups
 * M, N or K = 1 runs as a GEMM instead (gemv_small off, listed level-2 shapes moved to the
 * fallback): CLBlast 1.5's general Xgemv kernel unrolls by a fixed 32 (UNROLL1). Returns
 * how many program halves and shapes were changed or added, plus 1; `origin` says it. */
int clgan_gemm_plan_fit(clgan_gemm_plan *p, const clgan_gemm_limits *l);

/* The plan a new context uses, from $CLGAN_GEMM: "auto" or unset (the tuned file when
 * there is a valid one, else the built-in plan), "builtin", "clblast" (never override
 * CLBlast, not even on a device too small for its parameters), or a path to a plan file.
 * A tuned file that cannot be used falls back to the built-in plan, and *note (if not
 * NULL) says why; never an error. Except for "clblast", the plan is then fitted to the
 * device's limits (clgan_gemm_plan_fit). */
void clgan_gemm_plan_default(const clgan_device_info *dev, clgan_gemm_plan *out, char *note,
                             size_t note_cap);

/* The context's plan: set replaces it (copied; applied from the next GEMM on). The first
 * GEMM of a context without a set plan loads clgan_gemm_plan_default. CLBlast keeps
 * parameter overrides per device for the whole process and cannot go back to its own
 * database values once overridden, so a "CLBlast defaults" plan after another plan on the
 * same device keeps the last parameters applied. */
clgan_status clgan_gemm_set_plan(clgan_ctx *ctx, const clgan_gemm_plan *p);
const clgan_gemm_plan *clgan_gemm_get_plan(clgan_ctx *ctx);
/* Where the plan came from and, when a tuned file was refused, why ("" when none). */
const char *clgan_gemm_plan_note(clgan_ctx *ctx);

/* How clgan_gemm would run a shape under the context's plan: a program index,
 * CLGAN_GEMM_USE_GEMV, CLGAN_GEMM_USE_SMALL_M, CLGAN_GEMM_USE_PANEL, or -2 for CLBlast's own
 * choice. */
int clgan_gemm_route(clgan_ctx *ctx, const clgan_gemm_shape *s);

/* Bytes of the GEMM scratch buffer the context holds (CLBlast's padded copies). */
size_t clgan_gemm_scratch_bytes(const clgan_ctx *ctx);

/* ---- recording: the distinct shapes a piece of work issues, with call counts ---- */
typedef struct clgan_gemm_record {
  clgan_gemm_shape shape;
  long calls;
} clgan_gemm_record;

/* Starts (or restarts, forgetting what was recorded) recording clgan_gemm calls. With
 * skip_gemms the GEMMs are recorded but not run (their outputs stay unwritten): the shapes
 * of a training iteration without compiling CLBlast's kernels. */
clgan_status clgan_gemm_record_start(clgan_ctx *ctx, int skip_gemms);
/* Stops recording and hands over the shapes in first-call order (free() the array). */
clgan_status clgan_gemm_record_stop(clgan_ctx *ctx, clgan_gemm_record **out, int *count);

/* ---- profiling: clgan_profile_start/read/stop are in device.h (src/device/profile.c);
 * while on, every GEMM is an entry "gemm NT MxNxK" with its shape and GFLOPs ---- */

/* ---- measuring one program on one shape (the tuner's inner step) ---- */
typedef struct clgan_gemm_measure {
  double seconds;       /* best of the timed runs, wall clock around a clFinish */
  double max_rel_err;   /* worst sampled entry, relative to sum |a||b| over k */
  int valid;            /* max_rel_err within float32's bound for this k */
} clgan_gemm_measure;

/* Runs shape s (operands filled with a fixed pattern, alpha 1, beta 0) under program p
 * (NULL: as the context's plan would; with p, CLBlast's other kernels are fitted to a
 * small device even when the context's plan is not) or as Sgemv/Sger (gemv = 1: M, N or K
 * must be 1),
 * with layout 0 (column-major twin), 1 (row-major) or -1 (as the plan would): once to
 * compile, then `reps` timed runs; checks 256 sampled entries of C against a float64 dot
 * product. Buffers are allocated and freed here. */
clgan_status clgan_gemm_measure_shape(clgan_ctx *ctx, const clgan_gemm_shape *s,
                                      const clgan_gemm_program *p, int gemv, int layout,
                                      int reps, clgan_gemm_measure *out);

#ifdef __cplusplus
}
#endif
#endif
