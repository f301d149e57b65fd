/* GEMM plans as data: CLBlast's parameter names and constraints, the built-in plan for POCL,
 * the tuned-plan file (JSON, atomic writes, keyed by device + driver + clgan version) and
 * the choice of plan for a new context. Running them is src/blas/gemm.c.
 * Tests: tests/perf/test_gemm_plan.c */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clgan/gemm.h"
#include "clgan/program.h"
#include "clgan/version.h"
#include "internal.h"

static const char *const xgemm_names[CLGAN_XGEMM_NPARAMS] = {
    "GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
    "NDIMC", "NWG",  "SA",  "SB",  "STRM",  "STRN",  "VWM", "VWN"};
static const char *const direct_names[CLGAN_DIRECT_NPARAMS] = {
    "KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD", "PADA", "PADB", "VWMD", "VWND", "WGD"};

const char *const *clgan_gemm_param_names(int direct) {
  return direct ? direct_names : xgemm_names;
}

enum { GEMMK, KREG, KWG, KWI, MDIMA, MDIMC, MWG, NDIMB, NDIMC, NWG, SA, SB, STRM, STRN, VWM, VWN };
enum { KWID, MDIMAD, MDIMCD, NDIMBD, NDIMCD, PADA, PADB, VWMD, VWND, WGD };

static int is_width(unsigned v) { return v == 1 || v == 2 || v == 4 || v == 8 || v == 16; }

/* x % (a*b/c) == 0 with a*b/c a whole number: CLBlast's "MultipleOfXMulDivZ". */
static int mul_div_ok(unsigned x, unsigned a, unsigned b, unsigned c) {
  unsigned long ab = (unsigned long)a * b;
  return c && ab % c == 0 && ab / c && x % (ab / c) == 0;
}

#define BAD(...) return (snprintf(why, cap, __VA_ARGS__), -1)

/* Xgemm's constraints; limits of 0 are not checked. */
static int check_xgemm(const unsigned *x, const clgan_gemm_limits *l, char *why, size_t cap) {
  for (int i = 0; i < CLGAN_XGEMM_NPARAMS; i++)
    if (x[i] > 1024) BAD("Xgemm %s = %u is out of range", xgemm_names[i], x[i]);
  /* GEMMK=1 (2-D register tiling) has other constraints; the tuner never proposes it */
  if (x[GEMMK] != 0) BAD("Xgemm GEMMK = %u (only 0 is supported)", x[GEMMK]);
  if (x[KREG] != 1) BAD("Xgemm KREG = %u (1 with GEMMK 0)", x[KREG]);
  if (!x[KWG] || !x[KWI] || !x[MDIMA] || !x[MDIMC] || !x[MWG] || !x[NDIMB] || !x[NDIMC] ||
      !x[NWG])
    BAD("Xgemm sizes must be >= 1");
  if (x[SA] > 1 || x[SB] > 1 || x[STRM] > 1 || x[STRN] > 1) BAD("Xgemm SA/SB/STRM/STRN are 0 or 1");
  if (!is_width(x[VWM]) || !is_width(x[VWN])) BAD("Xgemm VWM/VWN must be 1, 2, 4, 8 or 16");
  if (x[KWG] % x[KWI]) BAD("Xgemm KWG %% KWI != 0");
  if (x[MWG] % (x[MDIMC] * x[VWM]) || x[MWG] % (x[MDIMA] * x[VWM]))
    BAD("Xgemm MWG must be a multiple of MDIMC*VWM and MDIMA*VWM");
  if (x[NWG] % (x[NDIMC] * x[VWN]) || x[NWG] % (x[NDIMB] * x[VWN]))
    BAD("Xgemm NWG must be a multiple of NDIMC*VWN and NDIMB*VWN");
  if (!mul_div_ok(x[KWG], x[MDIMC], x[NDIMC], x[MDIMA]) ||
      !mul_div_ok(x[KWG], x[MDIMC], x[NDIMC], x[NDIMB]))
    BAD("Xgemm KWG must be a multiple of MDIMC*NDIMC/MDIMA and MDIMC*NDIMC/NDIMB");
  if (l->max_wg && (size_t)x[MDIMC] * x[NDIMC] > l->max_wg)
    BAD("Xgemm's %ux%u work-group is larger than the device's %zu items", x[MDIMC], x[NDIMC],
        l->max_wg);
  if ((l->max_item[0] && x[MDIMC] > l->max_item[0]) || (l->max_item[1] && x[NDIMC] > l->max_item[1]))
    BAD("Xgemm's %ux%u work-group exceeds the device's %zux%zu items per dimension", x[MDIMC],
        x[NDIMC], l->max_item[0], l->max_item[1]);
  unsigned long long lx = 4ull * x[KWG] * (x[SA] * x[MWG] + x[SB] * x[NWG]);
  if (l->local_mem && lx > l->local_mem)
    BAD("Xgemm needs %llu bytes of local memory, the device has %llu", lx, l->local_mem);
  return 0;
}

/* XgemmDirect's constraints; limits of 0 are not checked. */
static int check_direct(const unsigned *d, const clgan_gemm_limits *l, char *why, size_t cap) {
  for (int i = 0; i < CLGAN_DIRECT_NPARAMS; i++)
    if (d[i] > 1024) BAD("XgemmDirect %s = %u is out of range", direct_names[i], d[i]);
  if (!d[KWID] || !d[MDIMAD] || !d[MDIMCD] || !d[NDIMBD] || !d[NDIMCD] || !d[WGD])
    BAD("XgemmDirect sizes must be >= 1");
  if (d[PADA] > 1 || d[PADB] > 1) BAD("XgemmDirect PADA/PADB are 0 or 1");
  if (!is_width(d[VWMD]) || !is_width(d[VWND])) BAD("XgemmDirect VWMD/VWND must be 1, 2, 4, 8 or 16");
  if (d[WGD] % d[KWID]) BAD("XgemmDirect WGD %% KWID != 0");
  if (d[WGD] % (d[MDIMCD] * d[VWMD]) || d[WGD] % (d[MDIMAD] * d[VWMD]))
    BAD("XgemmDirect WGD must be a multiple of MDIMCD*VWMD and MDIMAD*VWMD");
  if (d[WGD] % (d[NDIMCD] * d[VWND]) || d[WGD] % (d[NDIMBD] * d[VWND]))
    BAD("XgemmDirect WGD must be a multiple of NDIMCD*VWND and NDIMBD*VWND");
  if (!mul_div_ok(d[WGD], d[MDIMCD], d[NDIMCD], d[MDIMAD]) ||
      !mul_div_ok(d[WGD], d[MDIMCD], d[NDIMCD], d[NDIMBD]))
    BAD("XgemmDirect WGD must be a multiple of MDIMCD*NDIMCD/MDIMAD and .../NDIMBD");
  if (l->max_wg && (size_t)d[MDIMCD] * d[NDIMCD] > l->max_wg)
    BAD("XgemmDirect's %ux%u work-group is larger than the device's %zu items", d[MDIMCD],
        d[NDIMCD], l->max_wg);
  if ((l->max_item[0] && d[MDIMCD] > l->max_item[0]) ||
      (l->max_item[1] && d[NDIMCD] > l->max_item[1]))
    BAD("XgemmDirect's %ux%u work-group exceeds the device's %zux%zu items per dimension",
        d[MDIMCD], d[NDIMCD], l->max_item[0], l->max_item[1]);
  unsigned long long ld = 4ull * d[WGD] * (2ull * d[WGD] + d[PADA] + d[PADB]);
  if (l->local_mem && ld > l->local_mem)
    BAD("XgemmDirect needs %llu bytes of local memory, the device has %llu", ld, l->local_mem);
  return 0;
}

int clgan_gemm_program_fits(const clgan_gemm_program *p, const clgan_gemm_limits *l, char *why,
                            size_t cap) {
  if (check_xgemm(p->xgemm, l, why, cap) || check_direct(p->direct, l, why, cap)) return -1;
  if (p->min_indirect > CLGAN_GEMM_ALWAYS_DIRECT) BAD("min_indirect %lu is too large", p->min_indirect);
  if (cap) why[0] = '\0';
  return 0;
}
#undef BAD

int clgan_gemm_program_check(const clgan_gemm_program *p, unsigned long long local_mem,
                             size_t max_wg, char *why, size_t cap) {
  clgan_gemm_limits l = {max_wg, {0, 0}, local_mem};
  return clgan_gemm_program_fits(p, &l, why, cap);
}

/* ---- fitting to a device's limits ---- */

void clgan_gemm_limits_of(const clgan_device_info *dev, clgan_gemm_limits *out) {
  out->max_wg = dev->max_work_group_size;
  out->local_mem = dev->local_mem;
  out->max_item[0] = out->max_item[1] = dev->max_work_group_size;
  size_t items[3] = {0, 0, 0};
  cl_uint dims = 0;
  if (dev->device &&
      clGetDeviceInfo(dev->device, CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS, sizeof dims, &dims, NULL) ==
          CL_SUCCESS &&
      dims >= 2 && dims <= 3 &&
      clGetDeviceInfo(dev->device, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof(size_t) * dims, items,
                      NULL) == CL_SUCCESS) {
    out->max_item[0] = items[0];
    out->max_item[1] = items[1];
  }
}

int clgan_gemm_limits_tight(const clgan_gemm_limits *l) {
  return l->max_wg < 256 || l->max_item[0] < 32 || l->max_item[1] < 32 || l->local_mem < 32768;
}

static size_t pow2_floor(size_t x) {
  size_t p = 1;
  while (p * 2 <= x) p *= 2;
  return p;
}

static size_t min3(size_t a, size_t b, size_t c) { return a < b ? (a < c ? a : c) : (b < c ? b : c); }

/* Side of the square work-groups for the 2-D kernels: d*d <= max_wg, d per dimension, at
 * most 8 (CLBlast's common 8x8). */
static size_t square_side(const clgan_gemm_limits *l) {
  size_t d = pow2_floor(min3(l->max_item[0] ? l->max_item[0] : 8, l->max_item[1] ? l->max_item[1] : 8, 8));
  while (d > 1 && l->max_wg && d * d > l->max_wg) d /= 2;
  return d;
}

/* Length of the 1-D work-groups: at most 64. */
static size_t line_length(const clgan_gemm_limits *l) {
  return pow2_floor(min3(l->max_wg ? l->max_wg : 64, l->max_item[0] ? l->max_item[0] : 64, 64));
}

static int local_ok(const clgan_gemm_limits *l, unsigned long long bytes) {
  return !l->local_mem || bytes <= l->local_mem;
}

void clgan_gemm_program_fit(const clgan_gemm_limits *l, clgan_gemm_program *out) {
  memset(out, 0, sizeof *out);
  unsigned d = (unsigned)square_side(l);
  /* Xgemm: d x d items, each a 4x4 block of C, K in steps of 16, no local memory */
  unsigned *x = out->xgemm;
  x[GEMMK] = 0, x[KREG] = 1, x[KWG] = 16, x[KWI] = 1;
  x[MDIMA] = x[MDIMC] = x[NDIMB] = x[NDIMC] = d;
  x[MWG] = x[NWG] = 4 * d;
  x[SA] = x[SB] = x[STRM] = x[STRN] = 0;
  x[VWM] = x[VWN] = 1;
  /* XgemmDirect: always uses local memory (two WGD x (WGD + 1) tiles); the largest tile of
   * 4d, 2d or d that fits four times over, the work-group shrinking with it if even d x d
   * does not. Four times: Oclgrind 21.10 reports for Xgemm, which has no local memory of
   * its own, the sum over the program's four XgemmDirect kernels, and CLBlast then
   * refuses to launch it (CLBlastInvalidLocalMemUsage). */
  unsigned g = d, wgd = 4 * d;
  while (wgd > 1 && !local_ok(l, 4 * 4ull * wgd * (2ull * wgd + 2))) {
    wgd /= 2;
    if (g > wgd) g = wgd;
  }
  unsigned *dd = out->direct;
  dd[KWID] = 1, dd[PADA] = dd[PADB] = 1, dd[VWMD] = dd[VWND] = 1, dd[WGD] = wgd;
  dd[MDIMAD] = dd[MDIMCD] = dd[NDIMBD] = dd[NDIMCD] = g;
  out->min_indirect = 128;
}

static void set_kernel(clgan_gemm_kernel_params *k, const char *kernel, const char *const *names,
                       const size_t *values, int n, size_t wg0, size_t wg1,
                       unsigned long long local_bytes) {
  memset(k, 0, sizeof *k);
  k->kernel = kernel;
  k->n = n;
  for (int j = 0; j < n; j++) k->names[j] = names[j], k->values[j] = values[j];
  k->wg[0] = wg0, k->wg[1] = wg1;
  k->local_bytes = local_bytes;
}

void clgan_gemm_helper_params(const clgan_gemm_limits *l,
                              clgan_gemm_kernel_params out[CLGAN_GEMM_HELPER_KERNELS]) {
  /* d x d groups for the 2-D kernels, w items for the 1-D ones; the transposes keep a
   * t x (t + 1) tile in local memory, the matrix-vector kernels up to v + 1 values */
  size_t d = square_side(l), w = line_length(l), t = d, v = w;
  while (t > 1 && !local_ok(l, 4ull * t * (t + 1))) t /= 2;
  while (v > 1 && !local_ok(l, 4ull * (v + 1))) v /= 2;
  /* one element per work-item and vector width 1 everywhere: every size qualifies for
   * CLBlast's fast kernels, and nothing needs padding to a multiple of the group */
  static const char *const copy[] = {"COPY_DIMX", "COPY_DIMY", "COPY_VW", "COPY_WPT"};
  static const char *const pad[] = {"PAD_DIMX", "PAD_DIMY", "PAD_WPTX", "PAD_WPTY"};
  static const char *const tra[] = {"TRA_DIM", "TRA_PAD", "TRA_SHUFFLE", "TRA_WPT"};
  static const char *const padtra[] = {"PADTRA_PAD", "PADTRA_TILE", "PADTRA_WPT"};
  /* UNROLL1 belongs to Xgemv in some CLBlast versions; CLBlast ignores names it lacks */
  static const char *const gemv[] = {"WGS1", "WPT1", "UNROLL1"};
  static const char *const gemv2[] = {"VW2", "WGS2", "WPT2"};
  static const char *const gemv3[] = {"VW3", "WGS3", "WPT3"};
  static const char *const ger[] = {"WGS1", "WGS2", "WPT"};
  set_kernel(&out[0], "Copy", copy, (size_t[]){d, d, 1, 1}, 4, d, d, 0);
  set_kernel(&out[1], "Pad", pad, (size_t[]){d, d, 1, 1}, 4, d, d, 0);
  set_kernel(&out[2], "Transpose", tra, (size_t[]){t, 1, 0, 1}, 4, t, t, 4ull * t * (t + 1));
  set_kernel(&out[3], "Padtranspose", padtra, (size_t[]){1, t, 1}, 3, t, t, 4ull * t * (t + 1));
  set_kernel(&out[4], "Xgemv", gemv, (size_t[]){v, 1, 1}, 3, v, 1, 4ull * v);
  set_kernel(&out[5], "XgemvFast", gemv2, (size_t[]){1, v, 1}, 3, v, 1, 4ull * v);
  set_kernel(&out[6], "XgemvFastRot", gemv3, (size_t[]){1, v, 1}, 3, v, 1, 4ull * (v + 1));
  set_kernel(&out[7], "Xger", ger, (size_t[]){d, d, 1}, 3, d, d, 0);
}

int clgan_gemm_plan_fit(clgan_gemm_plan *p, const clgan_gemm_limits *l) {
  if (!clgan_gemm_limits_tight(l)) return 0;
  clgan_gemm_program fit;
  clgan_gemm_program_fit(l, &fit);
  char why[200];
  int changed = 0;
  for (int i = 0; i < p->nprograms; i++) {
    clgan_gemm_program *q = &p->programs[i];
    if (check_xgemm(q->xgemm, l, why, sizeof why)) {
      memcpy(q->xgemm, fit.xgemm, sizeof q->xgemm);
      changed++;
    }
    if (check_direct(q->direct, l, why, sizeof why)) {
      memcpy(q->direct, fit.direct, sizeof q->direct);
      changed++;
    }
  }
  /* CLBlast's general Xgemv kernel (taken whenever the matrix has an offset or a size that
   * is no multiple of the group) unrolls its inner loop by a fixed 32 (UNROLL1, not a
   * tunable parameter in CLBlast 1.5), so it needs groups of a multiple of 32 items */
  int gemv_ok = line_length(l) >= 32 && local_ok(l, 4ull * 33);
  if (p->fallback < 0 || p->fallback >= p->nprograms) {
    if (p->nprograms < CLGAN_GEMM_MAX_PROGRAMS) {
      p->programs[p->nprograms] = fit;
      p->fallback = p->nprograms++;
    } else {
      p->programs[0] = fit;
      p->fallback = 0;
    }
    p->gemv_small = 1;
    changed += 2;
  }
  if (!gemv_ok) {
    /* M, N or K = 1 then runs as a GEMM like any other shape */
    p->gemv_small = 0;
    for (int i = 0; i < p->nchoices; i++)
      if (p->choices[i].program == CLGAN_GEMM_USE_GEMV) {
        p->choices[i].program = p->fallback;
        changed++;
      }
  }
  p->fitted = *l;
  size_t n = strlen(p->origin);
  snprintf(p->origin + n, sizeof p->origin - n, ", fitted to %zu-item work-groups and %llu B of local memory",
           l->max_wg, l->local_mem);
  return changed + 1;
}

void clgan_gemm_plan_init(clgan_gemm_plan *p) {
  memset(p, 0, sizeof *p);
  snprintf(p->origin, sizeof p->origin, "CLBlast defaults");
  p->fallback = -1;
  p->fallback_layout = CLGAN_GEMM_LAYOUT_COL;
}

void clgan_gemm_plan_free(clgan_gemm_plan *p) {
  free(p->choices);
  clgan_gemm_plan_init(p);
}

clgan_status clgan_gemm_plan_copy(const clgan_gemm_plan *src, clgan_gemm_plan *dst) {
  clgan_gemm_choice *c = NULL;
  if (src->nchoices) {
    c = malloc(sizeof *c * (size_t)src->nchoices);
    if (!c) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
    memcpy(c, src->choices, sizeof *c * (size_t)src->nchoices);
  }
  *dst = *src;
  dst->choices = c;
  return CLGAN_OK;
}

static int is_pocl_cpu(const clgan_device_info *dev) {
  return strstr(dev->platform_name, "Portable Computing Language") != NULL &&
         dev->type == CL_DEVICE_TYPE_CPU;
}

/* POCL on a CPU runs a work-group's items as loops over one core, so the winners are
 * work-groups of one item, each computing a 16x16 register tile (16 float16 vectors, half
 * an AVX-512 register file) over K steps of 16, unrolled by 1, with no local memory (a copy
 * into local memory is a copy into the same caches). `clgan tune` picked it out of 24 on
 * the dcgan28 shapes; docs/PERFORMANCE.md has the measurements. */
static const clgan_gemm_program pocl_cpu_program = {
    /* GEMMK KREG KWG KWI MDIMA MDIMC MWG NDIMB NDIMC NWG SA SB STRM STRN VWM VWN */
    .xgemm = {0, 1, 16, 1, 1, 1, 16, 1, 1, 16, 0, 0, 0, 0, 16, 16},
    /* KWID MDIMAD MDIMCD NDIMBD NDIMCD PADA PADB VWMD VWND WGD */
    .direct = {2, 4, 4, 4, 4, 0, 0, 4, 4, 32},
    .min_indirect = CLGAN_GEMM_ALWAYS_INDIRECT,
};

void clgan_gemm_plan_builtin(const clgan_device_info *dev, clgan_gemm_plan *out) {
  clgan_gemm_plan_init(out);
  if (!is_pocl_cpu(dev)) return;
  snprintf(out->origin, sizeof out->origin, "built-in (POCL CPU)");
  out->nprograms = 1;
  out->programs[0] = pocl_cpu_program;
  out->fallback = 0;
  out->panel = 1;
  out->small_m = 1;
  out->gemv_small = 1;
  out->fallback_layout = CLGAN_GEMM_LAYOUT_AUTO;
}

/* ---- the tuned-plan file ---- */

#define PLAN_FORMAT "clgan-gemm-plan"
#define PLAN_VERSION 1
#define PLAN_MAX_BYTES (4u << 20)
#define PLAN_MAX_SHAPES 4096

int clgan_gemm_plan_path(const clgan_device_info *dev, char *out, size_t cap) {
  const char *dir = clgan_cache_dir();
  if (!dir) return -1;
  char ident[1024];
  snprintf(ident, sizeof ident, "%s\n%s\n%s\n%s\n%s\n%s\n", PLAN_FORMAT, dev->name, dev->vendor,
           dev->driver_version, dev->platform_version, CLGAN_VERSION_STRING);
  uint8_t key[32];
  char hex[65];
  clgan_sha256(ident, strlen(ident), key);
  clgan_hex(key, 16, hex);
  int n = snprintf(out, cap, "%s/gemm/%s.json", dir, hex);
  return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static json_object *params_json(const unsigned *v, int direct) {
  json_object *o = json_object_new_object();
  int n = direct ? CLGAN_DIRECT_NPARAMS : CLGAN_XGEMM_NPARAMS;
  for (int i = 0; i < n; i++)
    json_object_object_add(o, clgan_gemm_param_names(direct)[i], json_object_new_int((int)v[i]));
  return o;
}

static json_object *device_json(const clgan_device_info *dev) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "name", json_object_new_string(dev->name));
  json_object_object_add(o, "vendor", json_object_new_string(dev->vendor));
  json_object_object_add(o, "driver_version", json_object_new_string(dev->driver_version));
  json_object_object_add(o, "platform_version", json_object_new_string(dev->platform_version));
  return o;
}

/* A class route's name in the plan file ("program": "gemv", "small_m" or "panel"). */
static const struct {
  int route;
  const char *name;
} class_names[] = {{CLGAN_GEMM_USE_GEMV, "gemv"},
                   {CLGAN_GEMM_USE_SMALL_M, "small_m"},
                   {CLGAN_GEMM_USE_PANEL, "panel"}};

static const char *class_name(int route) {
  for (size_t i = 0; i < sizeof class_names / sizeof class_names[0]; i++)
    if (class_names[i].route == route) return class_names[i].name;
  return NULL;
}

clgan_status clgan_gemm_plan_save(const char *path, const clgan_device_info *dev,
                                  const clgan_gemm_plan *p) {
  json_object *root = json_object_new_object();
  json_object_object_add(root, "format", json_object_new_string(PLAN_FORMAT));
  json_object_object_add(root, "version", json_object_new_int(PLAN_VERSION));
  json_object_object_add(root, "clgan", json_object_new_string(CLGAN_VERSION_STRING));
  json_object_object_add(root, "device", device_json(dev));
  json_object_object_add(root, "fallback", json_object_new_int(p->fallback));
  json_object_object_add(root, "gemv_small", json_object_new_boolean(p->gemv_small));
  json_object_object_add(root, "small_m", json_object_new_boolean(p->small_m));
  json_object_object_add(root, "panel", json_object_new_boolean(p->panel));
  json_object_object_add(root, "fallback_layout", json_object_new_int((int)p->fallback_layout));
  json_object *progs = json_object_new_array();
  for (int i = 0; i < p->nprograms; i++) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "Xgemm", params_json(p->programs[i].xgemm, 0));
    json_object_object_add(o, "XgemmDirect", params_json(p->programs[i].direct, 1));
    json_object_object_add(o, "XGEMM_MIN_INDIRECT_SIZE",
                           json_object_new_int64((int64_t)p->programs[i].min_indirect));
    json_object_array_add(progs, o);
  }
  json_object_object_add(root, "programs", progs);
  json_object *shapes = json_object_new_array();
  for (int i = 0; i < p->nchoices; i++) {
    const clgan_gemm_choice *c = &p->choices[i];
    json_object *o = json_object_new_object();
    json_object_object_add(o, "ta", json_object_new_int(c->shape.ta));
    json_object_object_add(o, "tb", json_object_new_int(c->shape.tb));
    json_object_object_add(o, "m", json_object_new_int64((int64_t)c->shape.m));
    json_object_object_add(o, "n", json_object_new_int64((int64_t)c->shape.n));
    json_object_object_add(o, "k", json_object_new_int64((int64_t)c->shape.k));
    const char *cls = class_name(c->program);
    json_object_object_add(o, "program", cls ? json_object_new_string(cls)
                                             : json_object_new_int(c->program));
    json_object_object_add(o, "row_major", json_object_new_boolean(c->row_major));
    json_object_object_add(o, "gflops", json_object_new_double(c->gflops));
    json_object_object_add(o, "clblast_gflops", json_object_new_double(c->base_gflops));
    json_object_array_add(shapes, o);
  }
  json_object_object_add(root, "shapes", shapes);
  const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE);
  clgan_status s = CLGAN_OK;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = '\0';
    s = clgan_mkdirs(dir);
  }
  if (!s) {
    const void *parts[] = {text, "\n"};
    size_t sizes[] = {strlen(text), 1};
    s = clgan_write_file_atomic(path, parts, sizes, 2);
  }
  json_object_put(root);
  if (s) clgan_error_prefix("saving the GEMM plan '%s': ", path);
  return s;
}

/* Reads an integer member; -1 (and a message) when it is missing or not an integer. */
static int get_int(json_object *o, const char *key, long long lo, long long hi, long long *out,
                   const char *path) {
  json_object *v;
  if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int)) {
    clgan_error(CLGAN_ERR_FORMAT, "GEMM plan '%s': '%s' is missing or not an integer", path, key);
    return -1;
  }
  long long x = json_object_get_int64(v);
  if (x < lo || x > hi) {
    clgan_error(CLGAN_ERR_FORMAT, "GEMM plan '%s': '%s' = %lld is outside %lld..%lld", path, key,
                x, lo, hi);
    return -1;
  }
  *out = x;
  return 0;
}

static int get_params(json_object *o, int direct, unsigned *v, const char *path) {
  int n = direct ? CLGAN_DIRECT_NPARAMS : CLGAN_XGEMM_NPARAMS;
  for (int i = 0; i < n; i++) {
    long long x;
    if (get_int(o, clgan_gemm_param_names(direct)[i], 0, 1024, &x, path)) return -1;
    v[i] = (unsigned)x;
  }
  return 0;
}

static const char *get_str(json_object *o, const char *key) {
  json_object *v;
  if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

static clgan_status parse_plan(json_object *root, const char *path, const clgan_device_info *dev,
                               clgan_gemm_plan *out) {
  const char *fmt = get_str(root, "format"), *ver = get_str(root, "clgan");
  long long version;
  if (!fmt || strcmp(fmt, PLAN_FORMAT))
    return clgan_error(CLGAN_ERR_FORMAT, "GEMM plan '%s': not a clgan GEMM plan", path);
  if (get_int(root, "version", PLAN_VERSION, PLAN_VERSION, &version, path)) return CLGAN_ERR_FORMAT;
  json_object *d;
  if (!json_object_object_get_ex(root, "device", &d) || !json_object_is_type(d, json_type_object))
    return clgan_error(CLGAN_ERR_FORMAT, "GEMM plan '%s': no device", path);
  const char *dn = get_str(d, "name"), *dv = get_str(d, "vendor"),
             *dd = get_str(d, "driver_version"), *dp = get_str(d, "platform_version");
  if (!dn || !dv || !dd || !dp || strcmp(dn, dev->name) || strcmp(dv, dev->vendor) ||
      strcmp(dd, dev->driver_version) || strcmp(dp, dev->platform_version) || !ver ||
      strcmp(ver, CLGAN_VERSION_STRING))
    return clgan_error(CLGAN_ERR_MISMATCH,
                       "GEMM plan '%s' was tuned for '%s' (driver %s) with clgan %s, not for "
                       "'%s' (driver %s) with clgan %s; run `clgan tune` again",
                       path, dn ? dn : "?", dd ? dd : "?", ver ? ver : "?", dev->name,
                       dev->driver_version, CLGAN_VERSION_STRING);
  long long fallback;
  json_object *progs, *shapes, *gs;
  if (get_int(root, "fallback", -1, CLGAN_GEMM_MAX_PROGRAMS - 1, &fallback, path))
    return CLGAN_ERR_FORMAT;
  out->fallback = (int)fallback;
  if (json_object_object_get_ex(root, "gemv_small", &gs)) out->gemv_small = json_object_get_boolean(gs);
  if (json_object_object_get_ex(root, "small_m", &gs)) out->small_m = json_object_get_boolean(gs);
  if (json_object_object_get_ex(root, "panel", &gs)) out->panel = json_object_get_boolean(gs);
  long long layout = CLGAN_GEMM_LAYOUT_COL;
  if (json_object_object_get_ex(root, "fallback_layout", &gs) &&
      get_int(root, "fallback_layout", 0, 2, &layout, path))
    return CLGAN_ERR_FORMAT;
  out->fallback_layout = (clgan_gemm_layout)layout;
  if (!json_object_object_get_ex(root, "programs", &progs) ||
      !json_object_is_type(progs, json_type_array) ||
      json_object_array_length(progs) > CLGAN_GEMM_MAX_PROGRAMS)
    return clgan_error(CLGAN_ERR_FORMAT, "GEMM plan '%s': 'programs' must be an array of at most %d",
                       path, CLGAN_GEMM_MAX_PROGRAMS);
  out->nprograms = (int)json_object_array_length(progs);
  clgan_gemm_limits lim; /* what every program must fit */
  clgan_gemm_limits_of(dev, &lim);
  if (out->fallback >= out->nprograms)
    return clgan_error(CLGAN_ERR_FORMAT, "GEMM plan '%s': fallback %d names no program", path,
                       out->fallback);
  for (int i = 0; i < out->nprograms; i++) {
    json_object *o = json_object_array_get_idx(progs, (size_t)i), *x, *dx;
    clgan_gemm_program *p = &out->programs[i];
    long long mi;
    if (!json_object_object_get_ex(o, "Xgemm", &x) || !json_object_object_get_ex(o, "XgemmDirect", &dx))
      return clgan_error(CLGAN_ERR_FORMAT, "GEMM plan '%s': program %d lacks Xgemm or XgemmDirect",
                         path, i);
    if (get_params(x, 0, p->xgemm, path) || get_params(dx, 1, p->direct, path) ||
        get_int(o, "XGEMM_MIN_INDIRECT_SIZE", 0, CLGAN_GEMM_ALWAYS_DIRECT, &mi, path))
      return CLGAN_ERR_FORMAT;
    p->min_indirect = (unsigned long)mi;
    char why[200];
    if (clgan_gemm_program_fits(p, &lim, why, sizeof why))
      return clgan_error(CLGAN_ERR_FORMAT, "GEMM plan '%s': program %d: %s", path, i, why);
  }
  if (!json_object_object_get_ex(root, "shapes", &shapes) || !json_object_is_type(shapes, json_type_array))
    return clgan_error(CLGAN_ERR_FORMAT, "GEMM plan '%s': 'shapes' must be an array", path);
  size_t ns = json_object_array_length(shapes);
  if (ns > PLAN_MAX_SHAPES) return clgan_error(CLGAN_ERR_FORMAT, "GEMM plan '%s': too many shapes", path);
  out->choices = ns ? calloc(ns, sizeof *out->choices) : NULL;
  if (ns && !out->choices) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  for (size_t i = 0; i < ns; i++) {
    json_object *o = json_object_array_get_idx(shapes, i), *pv, *g;
    clgan_gemm_choice *c = &out->choices[out->nchoices++];
    long long ta, tb, m, n, k;
    if (get_int(o, "ta", 0, 1, &ta, path) || get_int(o, "tb", 0, 1, &tb, path) ||
        get_int(o, "m", 1, 1ll << 40, &m, path) || get_int(o, "n", 1, 1ll << 40, &n, path) ||
        get_int(o, "k", 1, 1ll << 40, &k, path))
      return CLGAN_ERR_FORMAT;
    c->shape = (clgan_gemm_shape){(int)ta, (int)tb, (size_t)m, (size_t)n, (size_t)k};
    if (!json_object_object_get_ex(o, "program", &pv))
      return clgan_error(CLGAN_ERR_FORMAT, "GEMM plan '%s': shape %zu has no program", path, i);
    if (json_object_is_type(pv, json_type_string)) {
      const char *name = json_object_get_string(pv);
      c->program = -2;
      for (size_t j = 0; j < sizeof class_names / sizeof class_names[0]; j++)
        if (!strcmp(name, class_names[j].name)) c->program = class_names[j].route;
      if (c->program == -2)
        return clgan_error(CLGAN_ERR_FORMAT, "GEMM plan '%s': shape %zu: program '%s' is neither "
                           "an index nor gemv, small_m or panel", path, i, name);
      if (!clgan_gemm_class_fits(c->program, &c->shape))
        return clgan_error(CLGAN_ERR_FORMAT, "GEMM plan '%s': shape %zu (%c%c %lldx%lldx%lld) "
                           "is not of the %s class", path, i, ta ? 'T' : 'N', tb ? 'T' : 'N',
                           m, n, k, name);
    } else {
      long long pi;
      if (get_int(o, "program", 0, out->nprograms - 1, &pi, path)) return CLGAN_ERR_FORMAT;
      c->program = (int)pi;
    }
    if (json_object_object_get_ex(o, "row_major", &g)) c->row_major = json_object_get_boolean(g);
    if (json_object_object_get_ex(o, "gflops", &g)) c->gflops = json_object_get_double(g);
    if (json_object_object_get_ex(o, "clblast_gflops", &g)) c->base_gflops = json_object_get_double(g);
  }
  return CLGAN_OK;
}

clgan_status clgan_gemm_plan_load(const char *path, const clgan_device_info *dev,
                                  clgan_gemm_plan *out) {
  clgan_gemm_plan_init(out);
  void *data;
  size_t size;
  clgan_status s = clgan_read_file(path, PLAN_MAX_BYTES, &data, &size);
  if (s) return s;
  json_tokener *tok = json_tokener_new();
  if (!tok) {
    free(data);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  json_object *root = json_tokener_parse_ex(tok, data, (int)size);
  enum json_tokener_error je = json_tokener_get_error(tok);
  size_t used = json_tokener_get_parse_end(tok);
  json_tokener_free(tok);
  /* only white space may follow the object */
  while (root && used < size && strchr(" \t\r\n", ((char *)data)[used])) used++;
  if (!root || je != json_tokener_success || used != size ||
      !json_object_is_type(root, json_type_object)) {
    s = clgan_error(CLGAN_ERR_FORMAT, "GEMM plan '%s' is not a JSON object (%s at byte %zu)",
                    path, root ? "trailing data" : json_tokener_error_desc(je), used);
  } else {
    s = parse_plan(root, path, dev, out);
  }
  if (root) json_object_put(root);
  free(data);
  if (s) {
    clgan_gemm_plan_free(out);
    return s;
  }
  snprintf(out->origin, sizeof out->origin, "tuned (%s)", path);
  return CLGAN_OK;
}

/* ---- merging ---- */

static int same_shape(const clgan_gemm_shape *a, const clgan_gemm_shape *b) {
  return a->ta == b->ta && a->tb == b->tb && a->m == b->m && a->n == b->n && a->k == b->k;
}

static int same_program(const clgan_gemm_program *a, const clgan_gemm_program *b) {
  return !memcmp(a->xgemm, b->xgemm, sizeof a->xgemm) &&
         !memcmp(a->direct, b->direct, sizeof a->direct) && a->min_indirect == b->min_indirect;
}

/* The index of q among list[0..*n), appended while *n < cap; -1 when it does not fit. */
static int place_program(clgan_gemm_program *list, int *n, int cap, const clgan_gemm_program *q) {
  for (int i = 0; i < *n; i++)
    if (same_program(&list[i], q)) return i;
  if (*n >= cap) return -1;
  list[*n] = *q;
  return (*n)++;
}

clgan_status clgan_gemm_plan_merge(clgan_gemm_plan *p, const clgan_gemm_plan *old,
                                   const clgan_gemm_shape *measured, int nmeasured,
                                   int max_programs, int *fate, clgan_gemm_merge_info *info) {
  clgan_gemm_merge_info inf;
  memset(&inf, 0, sizeof inf);
  int nold = old ? old->nchoices : 0;
  int cap = max_programs < 1 ? 1 : max_programs > CLGAN_GEMM_MAX_PROGRAMS ? CLGAN_GEMM_MAX_PROGRAMS
                                                                          : max_programs;
  if (cap < p->nprograms) cap = p->nprograms;
  int *f = malloc(sizeof *f * (size_t)(nold ? nold : 1));
  clgan_gemm_choice *c = malloc(sizeof *c * (size_t)(p->nchoices + nold ? p->nchoices + nold : 1));
  if (!f || !c) {
    free(f);
    free(c);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  if (p->nchoices) memcpy(c, p->choices, sizeof *c * (size_t)p->nchoices);
  int nc = p->nchoices, np = p->nprograms;
  clgan_gemm_program progs[CLGAN_GEMM_MAX_PROGRAMS];
  memcpy(progs, p->programs, sizeof progs);
  /* which older entries are candidates to keep: not measured now, not a duplicate */
  int uses[CLGAN_GEMM_MAX_PROGRAMS] = {0};
  for (int i = 0; i < nold; i++) {
    const clgan_gemm_choice *o = &old->choices[i];
    int replaced = 0;
    for (int j = 0; j < p->nchoices && !replaced; j++) replaced = same_shape(&o->shape, &c[j].shape);
    for (int j = 0; j < nmeasured && !replaced; j++) replaced = same_shape(&o->shape, &measured[j]);
    for (int j = 0; j < i && !replaced; j++) replaced = same_shape(&o->shape, &old->choices[j].shape);
    f[i] = replaced ? CLGAN_GEMM_MERGE_REPLACED : CLGAN_GEMM_MERGE_KEPT;
    if (!replaced && o->program >= 0 && o->program < old->nprograms) uses[o->program] = 1;
  }
  /* the plan-wide settings: the new plan's, unless it has no program and the older one has
   * a fallback program (the older plan then keeps running shapes not listed as before) */
  int old_fb = old && p->nprograms == 0 && old->fallback >= 0 && old->fallback < old->nprograms;
  if (old_fb) uses[old->fallback] = 1;
  /* the older programs still needed, the fallback first, then in the older plan's order */
  int map[CLGAN_GEMM_MAX_PROGRAMS], order[CLGAN_GEMM_MAX_PROGRAMS], norder = 0;
  for (int j = 0; j < CLGAN_GEMM_MAX_PROGRAMS; j++) map[j] = -1;
  if (old_fb) order[norder++] = old->fallback;
  for (int j = 0; old && j < old->nprograms; j++)
    if (uses[j] && !(old_fb && j == old->fallback)) order[norder++] = j;
  clgan_gemm_program all[2 * CLGAN_GEMM_MAX_PROGRAMS];
  int nall = p->nprograms;
  memcpy(all, p->programs, sizeof *all * (size_t)nall);
  for (int q = 0; q < norder; q++) {
    map[order[q]] = place_program(progs, &np, cap, &old->programs[order[q]]);
    place_program(all, &nall, 2 * CLGAN_GEMM_MAX_PROGRAMS, &old->programs[order[q]]);
  }
  for (int i = 0; i < nold; i++) {
    if (f[i] != CLGAN_GEMM_MERGE_KEPT) {
      inf.replaced++;
      continue;
    }
    clgan_gemm_choice o = old->choices[i];
    int ok = clgan_gemm_class_fits(o.program, &o.shape) ||
             (o.program >= 0 && o.program < old->nprograms && map[o.program] >= 0);
    if (!ok || nc >= PLAN_MAX_SHAPES) {
      f[i] = CLGAN_GEMM_MERGE_DROPPED;
      inf.dropped++;
      continue;
    }
    if (o.program >= 0) o.program = map[o.program];
    c[nc++] = o;
    inf.kept++;
  }
  inf.programs_added = np - p->nprograms;
  inf.programs_wanted = nall;
  if (old_fb && map[old->fallback] >= 0) {
    inf.old_settings = 1;
    p->fallback = map[old->fallback];
    p->fallback_layout = old->fallback_layout;
    p->gemv_small = old->gemv_small;
  }
  memcpy(p->programs, progs, sizeof progs);
  p->nprograms = np;
  free(p->choices);
  p->choices = c;
  p->nchoices = nc;
  if (fate && nold) memcpy(fate, f, sizeof *f * (size_t)nold);
  free(f);
  if (info) *info = inf;
  return CLGAN_OK;
}

void clgan_gemm_plan_default(const clgan_device_info *dev, clgan_gemm_plan *out, char *note,
                             size_t note_cap) {
  const char *mode = getenv("CLGAN_GEMM");
  if (note && note_cap) note[0] = '\0';
  if (mode && !strcmp(mode, "clblast")) {
    clgan_gemm_plan_init(out);
    snprintf(out->origin, sizeof out->origin, "CLBlast defaults (CLGAN_GEMM=clblast)");
    return;
  }
  if (mode && !strcmp(mode, "builtin")) {
    clgan_gemm_plan_builtin(dev, out);
    clgan_gemm_limits lim;
    clgan_gemm_limits_of(dev, &lim);
    clgan_gemm_plan_fit(out, &lim);
    return;
  }
  char path[4200];
  int have_path = 0;
  if (mode && *mode && strcmp(mode, "auto")) {
    snprintf(path, sizeof path, "%s", mode);
    have_path = 1;
  } else {
    have_path = clgan_gemm_plan_path(dev, path, sizeof path) == 0;
  }
  int explicit_path = mode && *mode && strcmp(mode, "auto");
  /* no tuned file is the common case, not worth a note; a named one that is missing is */
  int loaded = 0;
  if (have_path && (explicit_path || access(path, F_OK) == 0)) {
    loaded = clgan_gemm_plan_load(path, dev, out) == CLGAN_OK;
    if (!loaded) {
      if (note && note_cap) snprintf(note, note_cap, "ignored: %s", clgan_last_error());
      clgan_error_clear();
    }
  }
  if (!loaded) clgan_gemm_plan_builtin(dev, out);
  clgan_gemm_limits lim;
  clgan_gemm_limits_of(dev, &lim);
  clgan_gemm_plan_fit(out, &lim);
}
