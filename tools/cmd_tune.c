/* `clgan tune`: searches CLBlast's GEMM parameters (Xgemm and XgemmDirect) for the shapes a
 * model issues in one training iteration on a device, validates every result, and keeps the
 * winners on disk where train and bench pick them up. Each candidate is compiled and timed in
 * a child process, so a compiler that hangs or crashes costs that candidate only.
 * On a device with tight limits the candidates are fitted to it; a shape no candidate ran
 * gets no new entry (a note says so), and nothing run at all is an error (exit 1). The
 * result is merged into the plan already in the file (clgan_gemm_plan_merge), unless
 * --fresh or that file cannot be read.
 * Tests: tests/perf/test_perf_cli.sh, tests/perf/test_tune_merge.sh,
 * tests/perf/test_tune_oclgrind.sh (Oclgrind) */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_opts.h"
#include "perf_util.h"

enum { MAX_SHAPES = 64, MAX_CANDS = 96 };

static void help(void) {
  printf(
      "usage: clgan tune [--device D] [--model dcgan28|dcgan64|FILE] [--batch 64]\n"
      "                  [--budget-s 900] [--max-programs 2] [--candidates N]\n"
      "                  [--candidate-timeout-s 300] [--out FILE] [--fresh]\n"
      "                  [--no-own-kernels] [--list]\n\n"
      "Searches CLBlast's SGEMM kernel parameters for the GEMM shapes one training iteration\n"
      "of the model issues on the device, and saves the fastest validated choice per shape.\n"
      "`clgan train` and `clgan bench` use it from then on (see docs/PERFORMANCE.md).\n"
      "  --model M, --batch N     the work to tune for (default dcgan28, 64)\n"
      "  --budget-s S             stop starting new candidates after S seconds (default 900);\n"
      "                           each candidate costs a kernel compile (seconds on POCL)\n"
      "  --max-programs K         at most K parameter sets in the result, 1..%d (default 2):\n"
      "                           each is one more CLBlast compile when a process starts\n"
      "  --candidates N           try at most N parameter sets\n"
      "  --candidate-timeout-s S  give up on a candidate after S seconds (default 300)\n"
      "  --out FILE               where to save (default: the device's file in the clgan cache;\n"
      "                           CLGAN_GEMM=FILE makes train/bench read another one)\n"
      "  --fresh                  start from an empty plan instead of merging (below)\n"
      "  --no-own-kernels         leave clgan's small-M and panel kernels out: CLBlast only,\n"
      "                           and the plan turns their classes off\n"
      "  --list                   print the shapes and candidates, measure nothing\n"
      "Every candidate's result is checked against a float64 reference on sampled entries;\n"
      "a wrong result disqualifies it. CLBlast's own defaults are measured first, side by\n"
      "side, and a plan is kept only where it beats them. The class routes are one more\n"
      "candidate: Sgemv/Sger for M, N or K = 1 and, on CPUs, clgan's own small-M and panel\n"
      "kernels for their shape classes (kept on for shapes not listed unless they lose most\n"
      "of their class's work here). A shape no candidate ran gets no new entry (a note says\n"
      "so); if none ran any shape, tune exits 1 and saves nothing.\n\n"
      "The result is merged into the plan already in the file, so tuning another model or\n"
      "batch keeps the earlier shapes: shapes measured now take the new result, the others\n"
      "keep their entries and parameter sets. If keeping them would take more than\n"
      "--max-programs sets, the older sets are kept in the older plan's order while there is\n"
      "room and the older shapes on the rest are dropped (a note names them; they run as any\n"
      "shape not listed). A file that cannot be read, or is for another device, driver or\n"
      "clgan version, is not merged (a note says why). --fresh replaces the file outright.\n",
      CLGAN_GEMM_MAX_PROGRAMS);
}

/* ---- candidates ---- */

typedef struct cand {
  char label[48];
  int kind;                 /* 0 CLBlast defaults, 1 the class routes, 2 a program */
  clgan_gemm_program prog;
  double t[MAX_SHAPES];     /* seconds per call; <= 0: failed or not applicable */
  double err[MAX_SHAPES];
  int row[MAX_SHAPES];      /* the faster form of the call: 1 row-major, 0 column-major */
  int route[MAX_SHAPES];    /* kind 1: the class route the shape ran as (CLGAN_GEMM_USE_*) */
  int ran;
  char fail[240];
} cand;

static void set_x(clgan_gemm_program *p, unsigned kwg, unsigned kwi, unsigned mdimc,
                  unsigned ndimc, unsigned mwg, unsigned nwg, unsigned sa, unsigned sb,
                  unsigned vwm, unsigned vwn) {
  unsigned v[CLGAN_XGEMM_NPARAMS] = {0, 1, kwg, kwi, mdimc, mdimc, mwg, ndimc,
                                     ndimc, nwg, sa, sb, 0, 0, vwm, vwn};
  memcpy(p->xgemm, v, sizeof v);
}

static void set_d(clgan_gemm_program *p, unsigned wgd, unsigned kwid, unsigned mdimcd,
                  unsigned ndimcd, unsigned vwmd, unsigned vwnd) {
  unsigned v[CLGAN_DIRECT_NPARAMS] = {kwid, mdimcd, mdimcd, ndimcd, ndimcd, 0, 0, vwmd, vwnd, wgd};
  memcpy(p->direct, v, sizeof v);
}

/* Parameter sets worth a compile, most promising first. On CPUs (POCL) a work-group's items
 * run as loops on one core, so small groups with register tiles and wide vectors lead; GPUs
 * get the shapes of CLBlast's database entries for common cards. Each candidate varies one
 * half (Xgemm or XgemmDirect) of a base program; on a device with tight limits
 * (clgan_gemm_limits_tight) the base is the fitted program (clgan_gemm_program_fit), so the
 * half not varied fits too, and every candidate must fit the device's work-group,
 * per-dimension and local-memory limits (clgan_gemm_program_fits). */
static int make_candidates(const clgan_device_info *dev, cand *c, int cap) {
  int n = 0, cpu = (dev->type & CL_DEVICE_TYPE_CPU) != 0;
  clgan_gemm_limits lim;
  clgan_gemm_limits_of(dev, &lim);
  int tight = clgan_gemm_limits_tight(&lim);
  clgan_gemm_plan builtin;
  clgan_gemm_plan_builtin(dev, &builtin);
  clgan_gemm_program base = {0};
  if (tight) {
    clgan_gemm_program_fit(&lim, &base);
  } else if (builtin.nprograms) {
    base = builtin.programs[0];
  } else {
    set_x(&base, 32, 2, 8, 8, 64, 64, 1, 1, 4, 4);
    set_d(&base, 32, 2, 8, 8, 2, 2);
  }
  clgan_gemm_plan_free(&builtin);
  /* without tight limits only the work-group size and local memory are checked, as before */
  clgan_gemm_limits check = {dev->max_work_group_size, {0, 0}, dev->local_mem};
  if (tight) check = lim;
  /* X: kwg kwi mdimc ndimc mwg nwg sa sb vwm vwn */
  /* the first ones won on POCL 3.1 / AVX-512 (docs/PERFORMANCE.md); the third, a 16x32
   * register tile (MWG 16 NWG 32 VWM 16 VWN 8), measured 1.13-1.32x faster than the first
   * on the long-K weight gradients (NN 256x2048x3136, NN 128x1024x3136); the rest vary them */
  static const unsigned xcpu[][10] = {
      {16, 1, 1, 1, 16, 16, 0, 0, 16, 16}, {16, 2, 1, 1, 16, 16, 0, 0, 8, 8},
      {16, 1, 1, 1, 16, 32, 0, 0, 16, 8},
      {16, 1, 1, 1, 16, 16, 0, 0, 8, 8},   {16, 2, 1, 1, 16, 16, 0, 0, 16, 16},
      {32, 1, 1, 1, 16, 16, 0, 0, 16, 16}, {16, 1, 1, 1, 16, 16, 0, 0, 16, 8},
      {16, 1, 1, 1, 16, 16, 0, 0, 8, 16},  {8, 1, 1, 1, 16, 16, 0, 0, 16, 16},
      {16, 2, 1, 1, 8, 16, 0, 0, 8, 16},   {16, 2, 1, 1, 16, 8, 0, 0, 16, 8},
      {16, 4, 1, 1, 16, 16, 0, 0, 16, 16}, {32, 2, 1, 1, 16, 16, 0, 0, 8, 8},
      {16, 2, 1, 1, 32, 8, 0, 0, 16, 8},   {16, 2, 2, 2, 32, 32, 1, 1, 16, 16},
      {16, 2, 1, 1, 16, 16, 0, 0, 16, 4},  {32, 2, 4, 4, 64, 64, 1, 1, 16, 16},
      {32, 2, 1, 1, 32, 8, 0, 0, 16, 8},   {16, 1, 1, 1, 8, 8, 0, 0, 8, 8},
  };
  static const unsigned xgpu[][10] = {
      {32, 2, 8, 8, 64, 64, 1, 1, 4, 4},    {16, 2, 16, 16, 128, 128, 1, 1, 4, 4},
      {32, 2, 16, 16, 64, 64, 1, 1, 2, 2},  {32, 2, 16, 8, 128, 64, 1, 1, 4, 4},
      {16, 2, 8, 8, 64, 64, 1, 1, 2, 2},    {32, 2, 16, 16, 128, 128, 1, 1, 2, 8},
      {16, 2, 8, 16, 64, 128, 1, 1, 2, 4},  {32, 2, 32, 8, 128, 64, 0, 1, 4, 2},
  };
  /* D: wgd kwid mdimcd ndimcd vwmd vwnd */
  static const unsigned dcpu[][6] = {
      {32, 2, 4, 4, 4, 4}, {16, 2, 2, 2, 8, 8}, {32, 2, 8, 8, 4, 4}, {16, 2, 4, 4, 4, 4},
      {32, 8, 4, 4, 8, 8}, {16, 8, 2, 2, 8, 8},
  };
  static const unsigned dgpu[][6] = {
      {32, 2, 8, 8, 2, 2}, {64, 8, 16, 16, 2, 2}, {32, 8, 16, 16, 2, 2}, {64, 2, 8, 8, 4, 4},
  };
  const unsigned (*xs)[10] = cpu ? xcpu : xgpu;
  const unsigned (*ds)[6] = cpu ? dcpu : dgpu;
  int nx = cpu ? (int)(sizeof xcpu / sizeof *xcpu) : (int)(sizeof xgpu / sizeof *xgpu);
  int nd = cpu ? (int)(sizeof dcpu / sizeof *dcpu) : (int)(sizeof dgpu / sizeof *dgpu);
  /* interleave: a few of each family early, so a short budget sees both */
  for (int i = 0, j = 0; (i < nx || j < nd) && n < cap;) {
    for (int r = 0; r < 2 && i < nx && n < cap; r++, i++) {
      cand *k = &c[n];
      memset(k, 0, sizeof *k);
      k->kind = 2;
      k->prog = base;
      const unsigned *v = xs[i];
      set_x(&k->prog, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]);
      k->prog.min_indirect = CLGAN_GEMM_ALWAYS_INDIRECT;
      snprintf(k->label, sizeof k->label, "Xgemm %ux%u/%ux%u v%u,%u k%u/%u%s", v[4], v[5], v[2],
               v[3], v[8], v[9], v[0], v[1], v[6] ? " lds" : "");
      char why[200];
      if (!clgan_gemm_program_fits(&k->prog, &check, why, sizeof why)) n++;
    }
    if (j < nd && n < cap) {
      cand *k = &c[n];
      memset(k, 0, sizeof *k);
      k->kind = 2;
      k->prog = base;
      const unsigned *v = ds[j++];
      set_d(&k->prog, v[0], v[1], v[2], v[3], v[4], v[5]);
      k->prog.min_indirect = CLGAN_GEMM_ALWAYS_DIRECT;
      snprintf(k->label, sizeof k->label, "Direct %u/%ux%u v%u,%u k%u", v[0], v[2], v[3], v[4],
               v[5], v[1]);
      char why[200];
      if (!clgan_gemm_program_fits(&k->prog, &check, why, sizeof why)) n++;
    }
  }
  return n;
}

static void format_program(const clgan_gemm_program *p, char *out, size_t cap) {
  size_t at = (size_t)snprintf(out, cap, "x=");
  for (int i = 0; i < CLGAN_XGEMM_NPARAMS && at < cap; i++)
    at += (size_t)snprintf(out + at, cap - at, "%s%u", i ? "," : "", p->xgemm[i]);
  if (at < cap) at += (size_t)snprintf(out + at, cap - at, ":d=");
  for (int i = 0; i < CLGAN_DIRECT_NPARAMS && at < cap; i++)
    at += (size_t)snprintf(out + at, cap - at, "%s%u", i ? "," : "", p->direct[i]);
  if (at < cap) snprintf(out + at, cap - at, ":t=%lu", p->min_indirect);
}

static int parse_program(const char *s, clgan_gemm_program *p) {
  memset(p, 0, sizeof *p);
  const char *q = s;
  if (strncmp(q, "x=", 2)) return -1;
  q += 2;
  for (int i = 0; i < CLGAN_XGEMM_NPARAMS; i++) {
    char *end;
    p->xgemm[i] = (unsigned)strtoul(q, &end, 10);
    if (end == q) return -1;
    q = end + (*end == ',');
  }
  if (strncmp(q, ":d=", 3)) return -1;
  q += 3;
  for (int i = 0; i < CLGAN_DIRECT_NPARAMS; i++) {
    char *end;
    p->direct[i] = (unsigned)strtoul(q, &end, 10);
    if (end == q) return -1;
    q = end + (*end == ',');
  }
  if (strncmp(q, ":t=", 3)) return -1;
  p->min_indirect = strtoul(q + 3, NULL, 10);
  return 0;
}

/* ---- the measuring child ---- */


/* 0 under --no-own-kernels: the class routes are CLBlast's Sgemv/Sger only. */
static int own_kernels = 1;

/* Whether clgan's own small-M and panel kernels are candidates on the device: on CPUs (they
 * run one-item work-groups; the built-in POCL plan's classes), unless --no-own-kernels. */
static int own_on(const clgan_device_info *dev) {
  return own_kernels && dev->type == CL_DEVICE_TYPE_CPU;
}

/* The plan whose class routes the "classes" candidate measures: the level-2 forms
 * everywhere, clgan's own kernels where own_on, fitted to a device with tight limits as any
 * plan is. */
static void class_plan(const clgan_device_info *dev, clgan_gemm_plan *p) {
  clgan_gemm_plan_init(p);
  p->gemv_small = 1;
  p->small_m = p->panel = own_on(dev);
  clgan_gemm_limits lim;
  clgan_gemm_limits_of(dev, &lim);
  clgan_gemm_plan_fit(p, &lim);
}

static int is_class(int route) {
  return route == CLGAN_GEMM_USE_GEMV || route == CLGAN_GEMM_USE_SMALL_M ||
         route == CLGAN_GEMM_USE_PANEL;
}

static const char *class_label(int route) {
  return route == CLGAN_GEMM_USE_GEMV      ? "Sgemv/Sger"
         : route == CLGAN_GEMM_USE_SMALL_M ? "clgan small-M kernel"
                                           : "clgan panel kernel";
}

/* Prints "i seconds rel_err valid row route" per shape, or "i fail message". what:
 * "clblast" (CLBlast's defaults), "classes" (each shape of a class route as that route,
 * the others skipped), "gemv" (the same without clgan's own kernels) or a program. */
static int tune_child(const char *device, const char *shapes_text, const char *what) {
  clgan_gemm_shape shapes[MAX_SHAPES];
  int ns = perf_shapes_parse(shapes_text, shapes, MAX_SHAPES);
  if (ns < 0) return cli_usage_error("tune", "bad --shapes '%s'", shapes_text);
  clgan_gemm_program prog;
  int gemv = !strcmp(what, "gemv"), classes = gemv || !strcmp(what, "classes"),
      clblast = !strcmp(what, "clblast");
  if (!classes && !clblast && parse_program(what, &prog))
    return cli_usage_error("tune", "bad --cand '%s'", what);
  clgan_ctx *ctx;
  int rc = cli_open_device(device, 0, &ctx);
  if (rc) return rc;
  clgan_gemm_plan base;
  own_kernels = !gemv;
  if (classes) class_plan(&ctx->info, &base);
  else clgan_gemm_plan_init(&base);
  clgan_status s = clgan_gemm_set_plan(ctx, &base);
  for (int i = 0; i < ns && !s; i++) {
    int route = classes ? clgan_gemm_route(ctx, &shapes[i]) : 0;
    if (classes && !is_class(route)) continue;
    const clgan_gemm_program *p = classes || clblast ? NULL : &prog;
    /* a program runs both forms of the call (row-major as given, or its column-major
     * twin); CLBlast's defaults and the level-2 forms run as clgan calls them untuned */
    clgan_gemm_measure best = {0};
    int best_row = 0;
    clgan_status ms = CLGAN_OK;
    for (int row = 0; row < (p ? 2 : 1) && !ms; row++) {
      clgan_gemm_measure m;
      ms = clgan_gemm_measure_shape(ctx, &shapes[i], p, 0, p ? row : -1, 1, &m);
      /* more runs for short ones: about 0.3 s of timing per shape */
      if (!ms && m.valid && m.seconds < 0.1) {
        int reps = (int)(0.3 / (m.seconds + 1e-6));
        clgan_gemm_measure m2;
        ms = clgan_gemm_measure_shape(ctx, &shapes[i], p, 0, p ? row : -1,
                                      reps < 2 ? 2 : reps > 20 ? 20 : reps, &m2);
        if (!ms && m2.seconds < m.seconds) m.seconds = m2.seconds;
      }
      /* a wrong result in either form disqualifies the program for this shape */
      if (!ms && (row == 0 || !m.valid || (best.valid && m.seconds < best.seconds))) {
        best = m;
        best_row = row;
      }
    }
    if (ms) {
      printf("%d fail %s\n", i, clgan_last_error());
      clgan_error_clear();
    } else {
      printf("%d %.9f %.3g %d %d %d\n", i, best.seconds, best.max_rel_err, best.valid, best_row,
             route);
    }
    fflush(stdout);
  }
  clgan_ctx_free(ctx);
  printf("done\n");
  return s ? cli_report(s) : CLI_OK;
}

/* Runs one candidate in a child; fills c->t (0 where it failed). */
static void run_candidate(int dev_index, const char *shapes_text, int ns, cand *c, double timeout) {
  char devs[16], what[512];
  snprintf(devs, sizeof devs, "%d", dev_index);
  if (c->kind == 0) snprintf(what, sizeof what, "clblast");
  else if (c->kind == 1) snprintf(what, sizeof what, own_kernels ? "classes" : "gemv");
  else format_program(&c->prog, what, sizeof what);
  char *argv[] = {"clgan", "tune", "--child", "--device", devs, "--shapes", (char *)shapes_text,
                  "--cand", what, NULL};
  c->ran = 1;
  for (int i = 0; i < ns; i++) c->t[i] = 0.0;
  perf_child ch;
  if (perf_child_start(&ch, argv, NULL)) {
    snprintf(c->fail, sizeof c->fail, "could not start");
    return;
  }
  double deadline = cli_now() + timeout;
  char line[1024], last[240] = "";
  int r, done = 0;
  while ((r = perf_child_line(&ch, line, sizeof line, deadline)) == 1) {
    int i, valid, row, route = 0;
    double sec, err;
    if (!strcmp(line, "done")) {
      done = 1;
      continue;
    }
    if (sscanf(line, "%d %lf %lf %d %d %d", &i, &sec, &err, &valid, &row, &route) == 6 && i >= 0 &&
        i < ns && (c->kind != 1 || is_class(route))) {
      c->t[i] = valid ? sec : -1.0;
      c->err[i] = err;
      c->row[i] = row;
      c->route[i] = route;
      if (!valid) snprintf(c->fail, sizeof c->fail, "wrong results (rel. error %.2g)", err);
    } else if (sscanf(line, "%d fail", &i) == 1 && i >= 0 && i < ns) {
      c->t[i] = -1.0;
      snprintf(c->fail, sizeof c->fail, "%s", strstr(line, "fail ") + 5);
    } else if (*line) {
      snprintf(last, sizeof last, "%.239s", line);
    }
  }
  int st = perf_child_finish(&ch, r == -1, NULL);
  if (r == -1) snprintf(c->fail, sizeof c->fail, "timed out after %.0f s", timeout);
  else if (!done || st != 0)
    snprintf(c->fail, sizeof c->fail, "measuring process failed%s%s", *last ? ": " : "", last);
}

/* ---- choosing the plan ---- */

/* 1 for a shape that no candidate (CLBlast's defaults, the level-2 forms or any program) ran
 * correctly: it is left out of the costs and the plan gets no entry for it, so it runs as
 * the plan's default for shapes not listed. Set once everything is measured. */
static int no_run[MAX_SHAPES];

/* A class route keeps its shapes unless a program or CLBlast is more than 5% faster: its
 * time does not depend on where the buffers lie, CLBlast's can (NN 256x2048x784 at dcgan28's
 * batch 16, program 0 column-major: 7.6-7.7 ms in three processes, 4.3 ms in a fourth,
 * against the panel kernel's 4.2-4.4), and a tune's best-of-a-few reading catches the good
 * case. */
#define CLASS_MARGIN 0.95

/* Cost of one iteration's GEMMs when each shape takes its fastest among the chosen
 * programs, its class route within CLASS_MARGIN (cls: Sgemv/Sger, clgan's small-M or panel
 * kernel) and, with no program chosen, CLBlast's defaults (base: once a program is applied
 * CLBlast's own parameters are gone for the process). */
static double plan_cost(const cand *cs, const int *chosen, int nchosen, const cand *cls,
                        const cand *base, const clgan_gemm_record *rec, int ns, int *pick) {
  double total = 0.0;
  for (int i = 0; i < ns; i++) {
    double best = INFINITY;
    int b = -2;
    if (no_run[i]) {
      if (pick) pick[i] = b;
      continue;
    }
    for (int j = 0; j < nchosen; j++) {
      double t = cs[chosen[j]].t[i];
      if (t > 0 && t < best) best = t, b = j;
    }
    if (!nchosen && base && base->t[i] > 0 && base->t[i] < best) best = base->t[i], b = -2;
    if (cls && cls->t[i] > 0 && cls->t[i] * CLASS_MARGIN < best) best = cls->t[i], b = cls->route[i];
    if (pick) pick[i] = b;
    total += best * (double)rec[i].calls;
  }
  return total;
}

/* A program may serve as the plan's fallback only if it ran every shape correctly (every
 * shape that any candidate ran, and at least one). */
static int complete(const cand *c, int ns) {
  int any = 0;
  if (!c->ran) return 0;
  for (int i = 0; i < ns; i++) {
    if (!no_run[i] && c->t[i] <= 0) return 0;
    any |= c->t[i] > 0;
  }
  return any;
}

/* One row of the per-shape table: times in ms (<= 0: did not run), or, for a shape no
 * candidate ran, says so. */
static void format_shape_row(const char *name, long calls, double base_s, double tuned_s,
                             const char *how, int kept, char *out, size_t cap) {
  if (tuned_s <= 0) {
    snprintf(out, cap, "%-22s %5ld %11s %11s %8s  no candidate ran it: %s", name, calls, "failed",
             "-", "-", kept ? "keeps the existing plan's entry"
                            : "not in the plan (runs as any shape not listed)");
    return;
  }
  char tb[16] = "failed", sp[16] = "-";
  if (base_s > 0) {
    snprintf(tb, sizeof tb, "%.2f", base_s * 1e3);
    snprintf(sp, sizeof sp, "%.2fx", base_s / tuned_s);
  }
  snprintf(out, cap, "%-22s %5ld %11s %11.2f %8s  %s", name, calls, tb, tuned_s * 1e3, sp, how);
}

int cmd_tune(int argc, char **argv) {
  const char *device = NULL, *model_name = "dcgan28", *out_path = NULL, *shapes_arg = NULL,
             *cand_arg = NULL;
  long batch = 64, max_programs = 2, max_cands = MAX_CANDS;
  double budget = 900.0, cand_timeout = 300.0;
  int list = 0, child = 0, fresh = 0, no_own = 0;
  const cli_opt opts[] = {
      {"--device", OPT_STRING, &device, 0, 0, NULL},
      {"--model", OPT_STRING, &model_name, 0, 0, NULL},
      {"--batch", OPT_LONG, &batch, 1, 65536, NULL},
      {"--budget-s", OPT_DOUBLE, &budget, 1.0, 1e7, NULL},
      {"--max-programs", OPT_LONG, &max_programs, 1, CLGAN_GEMM_MAX_PROGRAMS, NULL},
      {"--candidates", OPT_LONG, &max_cands, 0, MAX_CANDS, NULL},
      {"--candidate-timeout-s", OPT_DOUBLE, &cand_timeout, 1.0, 1e6, NULL},
      {"--out", OPT_STRING, &out_path, 0, 0, NULL},
      {"--fresh", OPT_FLAG, &fresh, 0, 0, NULL},
      {"--no-own-kernels", OPT_FLAG, &no_own, 0, 0, NULL},
      {"--list", OPT_FLAG, &list, 0, 0, NULL},
      {"--child", OPT_FLAG, &child, 0, 0, NULL},   /* internal: the measuring process */
      {"--shapes", OPT_STRING, &shapes_arg, 0, 0, NULL},
      {"--cand", OPT_STRING, &cand_arg, 0, 0, NULL},
  };
  int rc = cli_parse_opts("tune", argc, argv, opts, (int)(sizeof opts / sizeof *opts));
  if (rc < 0) {
    help();
    return CLI_OK;
  }
  if (rc) return rc;
  own_kernels = !no_own;
  if (child) {
    if (!shapes_arg || !cand_arg) return cli_usage_error("tune", "--child needs --shapes and --cand");
    return tune_child(device, shapes_arg, cand_arg);
  }

  /* the device, resolved once so every child measures the same one */
  clgan_device_info dev;
  int sel = cli_select_device(device, &dev);
  if (sel) return sel;
  clgan_status s = CLGAN_OK;

  /* the shapes: one training iteration with the GEMMs recorded, not run */
  clgan_model model;
  if (perf_model_load(model_name, &model)) return CLI_FAIL;
  clgan_ctx *ctx = NULL;
  clgan_gan *gan = NULL;
  clgan_gemm_record *rec = NULL;
  int ns = 0;
  clgan_train_config cfg;
  clgan_train_config_default(&cfg);
  cfg.batch = (int)batch;
  size_t img = (size_t)model.image_c * model.image_h * model.image_w;
  float *real = calloc((size_t)batch * img, sizeof(float));
  s = real ? clgan_ctx_create_on(&dev, 0, &ctx) : clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  if (!s) s = clgan_gan_create(ctx, &model, &cfg, &gan);
  if (!s) s = clgan_gemm_record_start(ctx, 1);
  if (!s) s = clgan_gan_iteration(gan, real, NULL, 0);
  if (!s) s = clgan_gemm_record_stop(ctx, &rec, &ns);
  if (!s) s = clgan_ctx_finish(ctx);
  clgan_gan_free(gan);
  clgan_ctx_free(ctx);
  free(real);
  if (s) {
    clgan_model_free(&model);
    return cli_report(s);
  }
  if (ns > MAX_SHAPES) ns = MAX_SHAPES;
  clgan_gemm_shape shapes[MAX_SHAPES];
  double flops = 0.0;
  for (int i = 0; i < ns; i++) {
    shapes[i] = rec[i].shape;
    flops += 2.0 * (double)rec[i].calls * (double)shapes[i].m * (double)shapes[i].n *
             (double)shapes[i].k;
  }
  char shapes_text[8192];
  if (perf_shapes_format(shapes, ns, shapes_text, sizeof shapes_text)) {
    clgan_model_free(&model);
    free(rec);
    fprintf(stderr, "clgan tune: error: too many shapes\n");
    return CLI_FAIL;
  }
  static cand cands[MAX_CANDS + 2];
  int nc = make_candidates(&dev, cands + 2, (int)max_cands);
  memset(&cands[0], 0, sizeof cands[0]);
  memset(&cands[1], 0, sizeof cands[1]);
  snprintf(cands[0].label, sizeof cands[0].label, "CLBlast defaults");
  snprintf(cands[1].label, sizeof cands[1].label, "%s",
           own_on(&dev) ? "class routes (Sgemv, small-M, panel)" : "Sgemv/Sger");
  cands[1].kind = 1;
  /* shapes of a class route (on this device): the "classes" candidate measures those */
  int any_class = 0;
  for (int i = 0; i < ns; i++)
    any_class |= clgan_gemm_class_fits(CLGAN_GEMM_USE_GEMV, &shapes[i]) ||
                 (own_on(&dev) &&
                  (clgan_gemm_class_fits(CLGAN_GEMM_USE_SMALL_M, &shapes[i]) ||
                   clgan_gemm_class_fits(CLGAN_GEMM_USE_PANEL, &shapes[i])));

  printf("device: %s (%s), driver %s\n", dev.name, dev.platform_name, dev.driver_version);
  printf("model %s, batch %ld: %d GEMM shapes, %.2f GFLOP per iteration\n", model.name, batch, ns,
         flops * 1e-9);
  if (list) {
    for (int i = 0; i < ns; i++) {
      char nm[64];
      perf_shape_name(&shapes[i], nm, sizeof nm);
      printf("  %-24s x%ld\n", nm, rec[i].calls);
    }
    printf("%d candidates:\n", nc);
    for (int i = 0; i < nc; i++) printf("  %s\n", cands[2 + i].label);
    if (any_class)
      printf("%s\n", own_on(&dev) ? "plus the class routes: Sgemv/Sger, clgan's small-M and panel "
                                     "kernels, each on its class's shapes"
                                   : "plus Sgemv/Sger on the M, N or K = 1 shapes");
    clgan_model_free(&model);
    free(rec);
    return CLI_OK;
  }

  /* measure: CLBlast first (the yardstick), the level-2 forms, then the candidates */
  double t0 = cli_now();
  int total = nc + 1 + any_class, done = 0, best_c = -1;
  double base_cost = 0.0, best_cost = INFINITY;
  char tail[160] = "CLBlast defaults";
  for (int i = 0; i < nc + 2; i++) {
    if (i == 1 && !any_class) continue;
    if (i >= 2 && cli_now() - t0 > budget) break;
    perf_progress("clgan tune", done, total, cli_now() - t0, budget, tail);
    run_candidate(dev.index, shapes_text, ns, &cands[i], cand_timeout);
    done++;
    int one = i;
    double cost = plan_cost(cands, &one, 1, NULL, NULL, rec, ns, NULL);
    if (i == 0) base_cost = cost;
    if (i >= 2 && complete(&cands[i], ns) && cost < best_cost) best_cost = cost, best_c = i;
    char bs[32] = "failed";
    if (isfinite(base_cost)) snprintf(bs, sizeof bs, "%.0f ms", base_cost * 1e3);
    if (isfinite(best_cost))
      snprintf(tail, sizeof tail, "GEMMs/iter: CLBlast %s, best %.0f ms (%.48s)", bs,
               best_cost * 1e3, cands[best_c].label);
    else if (i == 0)
      snprintf(tail, sizeof tail, "GEMMs/iter: CLBlast %s", bs);
  }
  /* Timings taken minutes apart on a busy machine differ by more than the candidates do:
   * measure CLBlast and the leaders once more (their kernels are cached by now) and keep
   * each shape's faster reading, so the final choice compares like with like. */
  int lead[3] = {-1, -1, -1};
  for (int i = 2; i < nc + 2; i++) {
    if (!complete(&cands[i], ns)) continue;
    int one = i;
    double c = plan_cost(cands, &one, 1, NULL, NULL, rec, ns, NULL);
    for (int j = 0; j < 3; j++) {
      int o = lead[j];
      double oc = o < 0 ? INFINITY : plan_cost(cands, &o, 1, NULL, NULL, rec, ns, NULL);
      if (c < oc) {
        for (int q = 2; q > j; q--) lead[q] = lead[q - 1];
        lead[j] = i;
        break;
      }
    }
  }
  int again[5] = {0, cands[1].ran ? 1 : -1, lead[0], lead[1], lead[2]};
  for (int j = 0; j < 5 && nc > 0; j++) {
    if (again[j] < 0) continue;
    cand *c = &cands[again[j]], redo = *c;
    snprintf(tail, sizeof tail, "measuring again: %.48s", c->label);
    perf_progress("clgan tune", done, total, cli_now() - t0, budget, tail);
    run_candidate(dev.index, shapes_text, ns, &redo, cand_timeout);
    for (int i = 0; i < ns; i++)
      if (redo.t[i] > 0 && (c->t[i] <= 0 ? j == 0 : redo.t[i] < c->t[i])) {
        c->t[i] = redo.t[i];
        c->row[i] = redo.row[i];
        c->route[i] = redo.route[i];
      }
  }
  int nfailed = 0;
  for (int i = 0; i < ns; i++) {
    int ran = 0;
    for (int j = 0; j < nc + 2; j++) ran |= cands[j].ran && cands[j].t[i] > 0;
    no_run[i] = !ran;
    nfailed += !ran;
  }
  perf_progress("clgan tune", done, total, cli_now() - t0, budget, "done");
  if (isatty(2)) fputc('\n', stderr);
  printf("\n%-40s %12s\n", "candidate (alone, every shape)", "GEMMs ms/it");
  for (int i = 0; i < nc + 2; i++) {
    if (!cands[i].ran) continue;
    int one = i;
    double c = plan_cost(cands, &one, 1, NULL, NULL, rec, ns, NULL);
    int class_ran = 0;
    for (int j = 0; i == 1 && j < ns; j++) class_ran |= cands[1].t[j] > 0;
    if (i == 1 || !complete(&cands[i], ns))
      printf("%-40s %12s  %s\n", cands[i].label, "-",
             class_ran               ? "(its classes' shapes only)"
             : cands[i].fail[0]      ? cands[i].fail
             : i == 1                ? "did not run"
                                     : "incomplete");
    else
      printf("%-40s %12.1f\n", cands[i].label, c * 1e3);
  }

  /* greedy: add the program that saves the most (2% at least after the first), up to
   * --max-programs, among those that ran every shape correctly */
  int chosen[CLGAN_GEMM_MAX_PROGRAMS], nchosen = 0;
  const cand *cls = any_class && cands[1].ran ? &cands[1] : NULL;
  double cost = INFINITY;
  while (nchosen < max_programs) {
    int best = -1;
    double best_total = cost;
    for (int i = 2; i < nc + 2; i++) {
      if (!complete(&cands[i], ns)) continue;
      int dup = 0;
      for (int j = 0; j < nchosen; j++) dup |= chosen[j] == i;
      if (dup) continue;
      chosen[nchosen] = i;
      double c = plan_cost(cands, chosen, nchosen + 1, cls, NULL, rec, ns, NULL);
      if (c < best_total * (nchosen ? 0.98 : 1.0)) best_total = c, best = i;
    }
    if (best < 0) break;
    chosen[nchosen++] = best;
    cost = best_total;
  }
  int route[MAX_SHAPES];
  double base_cls = plan_cost(cands, chosen, 0, cls, &cands[0], rec, ns, NULL);
  clgan_gemm_plan plan;
  clgan_gemm_plan_init(&plan);
  /* programs only where they beat CLBlast (with the class routes) by 3% */
  if (!(nchosen > 0 && cost < base_cls * 0.97)) nchosen = 0;
  cost = plan_cost(cands, chosen, nchosen, cls, &cands[0], rec, ns, route);
  plan.choices = calloc((size_t)ns, sizeof *plan.choices);
  if (!plan.choices) {
    clgan_model_free(&model);
    free(rec);
    fprintf(stderr, "clgan tune: error: out of host memory\n");
    return CLI_FAIL;
  }
  snprintf(plan.origin, sizeof plan.origin, "tuned");
  plan.nprograms = nchosen;
  for (int j = 0; j < nchosen; j++) plan.programs[j] = cands[chosen[j]].prog;
  /* shapes not tuned for run the program that carries the most work */
  plan.fallback = nchosen ? 0 : -1;
  plan.fallback_layout = nchosen ? CLGAN_GEMM_LAYOUT_AUTO : CLGAN_GEMM_LAYOUT_COL;
  /* the class routes for shapes not listed: Sgemv/Sger unless a listed M, N or K = 1 shape
   * took something else; clgan's small-M and panel kernels on CPUs unless the shapes of
   * their class that lost to a program or CLBlast carry more than half of its work (a new
   * shape is then more likely of the kind the class loses) */
  plan.gemv_small = cls != NULL;
  double class_fl[2] = {0, 0}, lost_fl[2] = {0, 0};
  for (int i = 0; i < ns; i++) {
    if (!cls || cls->t[i] <= 0 || cls->route[i] == CLGAN_GEMM_USE_GEMV) continue;
    int k = cls->route[i] == CLGAN_GEMM_USE_PANEL;
    double fl = (double)rec[i].calls * (double)shapes[i].m * (double)shapes[i].n * (double)shapes[i].k;
    class_fl[k] += fl;
    if (route[i] != cls->route[i]) lost_fl[k] += fl;
  }
  plan.small_m = own_on(&dev) && lost_fl[0] * 2 <= class_fl[0];
  plan.panel = own_on(&dev) && lost_fl[1] * 2 <= class_fl[1];
  for (int i = 0; i < ns; i++) {
    if (cls && clgan_gemm_class_fits(CLGAN_GEMM_USE_GEMV, &shapes[i]) &&
        route[i] != CLGAN_GEMM_USE_GEMV)
      plan.gemv_small = 0;
    if (route[i] == -2) continue; /* nothing better than CLBlast's own */
    clgan_gemm_choice *c = &plan.choices[plan.nchoices++];
    c->shape = shapes[i];
    c->program = route[i];
    c->row_major = route[i] >= 0 ? cands[chosen[route[i]]].row[i] : 0;
    double t = route[i] < 0 ? cls->t[i] : cands[chosen[route[i]]].t[i];
    double fl = 2.0 * (double)shapes[i].m * (double)shapes[i].n * (double)shapes[i].k;
    c->gflops = fl / t * 1e-9;
    c->base_gflops = cands[0].t[i] > 0 ? fl / cands[0].t[i] * 1e-9 : 0.0;
  }

  /* per shape: what it runs as, or that no candidate ran it (no entry: the plan's default
   * for shapes not listed). Nothing ran at all: an error, and no plan is written. */
  double tuned_fl = 0.0, tuned_s = 0.0, base_s = 0.0;
  int nserved = 0, base_missing = 0;
  double tt[MAX_SHAPES];
  for (int i = 0; i < ns; i++) {
    double tb = cands[0].t[i];
    tt[i] = is_class(route[i]) ? cls->t[i] : route[i] >= 0 ? cands[chosen[route[i]]].t[i] : tb;
    if (tt[i] <= 0) continue;
    nserved++;
    tuned_fl += 2.0 * (double)rec[i].calls * (double)shapes[i].m * (double)shapes[i].n *
                (double)shapes[i].k;
    tuned_s += tt[i] * (double)rec[i].calls;
    if (tb > 0) base_s += tb * (double)rec[i].calls;
    else base_missing++;
  }
  if (!nserved) {
    fflush(stdout);
    fprintf(stderr,
            "clgan tune: error: no candidate ran any of the %d GEMM shapes on '%s' (CLBlast's "
            "defaults, %s%d parameter set%s tried; the reasons are above); no plan saved\n",
            ns, dev.name, any_class ? "the class routes, " : "", nc, nc == 1 ? "" : "s");
    clgan_gemm_plan_free(&plan);
    clgan_model_free(&model);
    free(rec);
    return CLI_FAIL;
  }
  /* the plan already in the file: merged into, unless --fresh or it cannot be used */
  char path[4200];
  int have_path = 1;
  if (out_path) snprintf(path, sizeof path, "%s", out_path);
  else have_path = clgan_gemm_plan_path(&dev, path, sizeof path) == 0;
  clgan_gemm_plan old;
  clgan_gemm_plan_init(&old);
  enum { OLD_NONE, OLD_MERGED, OLD_UNUSABLE, OLD_FRESH } old_state = OLD_NONE;
  char old_why[700] = "";
  if (have_path && access(path, F_OK) == 0) {
    if (fresh) {
      old_state = OLD_FRESH;
    } else if (clgan_gemm_plan_load(path, &dev, &old) == CLGAN_OK) {
      old_state = OLD_MERGED;
    } else {
      old_state = OLD_UNUSABLE;
      snprintf(old_why, sizeof old_why, "%s", clgan_last_error());
      clgan_error_clear();
    }
  }
  /* merge: the shapes measured now take this run's result, the others keep their entries */
  clgan_gemm_merge_info mi;
  memset(&mi, 0, sizeof mi);
  int *fate = NULL;
  if (old_state == OLD_MERGED) {
    clgan_gemm_shape measured[MAX_SHAPES];
    int nmeasured = 0;
    for (int i = 0; i < ns; i++)
      if (tt[i] > 0) measured[nmeasured++] = shapes[i];
    fate = calloc((size_t)(old.nchoices ? old.nchoices : 1), sizeof *fate);
    s = fate ? clgan_gemm_plan_merge(&plan, &old, measured, nmeasured, (int)max_programs, fate, &mi)
             : clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  }
  /* a shape no candidate ran that keeps its older entry */
  int kept_old[MAX_SHAPES] = {0};
  for (int i = 0; i < ns; i++)
    for (int j = 0; tt[i] <= 0 && j < plan.nchoices && !kept_old[i]; j++) {
      const clgan_gemm_shape *o = &plan.choices[j].shape;
      kept_old[i] = o->ta == shapes[i].ta && o->tb == shapes[i].tb && o->m == shapes[i].m &&
                    o->n == shapes[i].n && o->k == shapes[i].k;
    }

  printf("\n%-22s %5s %11s %11s %8s  %s\n", "shape", "calls", "CLBlast ms", "tuned ms", "speed-up",
         "runs as");
  for (int i = 0; i < ns; i++) {
    char nm[64], how[128], row[320];
    perf_shape_name(&shapes[i], nm, sizeof nm);
    snprintf(how, sizeof how, "%s%s",
             is_class(route[i]) ? class_label(route[i])
             : route[i] >= 0    ? cands[chosen[route[i]]].label
                                : "CLBlast defaults",
             route[i] >= 0 ? (cands[chosen[route[i]]].row[i] ? ", row-major" : ", col-major") : "");
    format_shape_row(nm, rec[i].calls, cands[0].t[i], tt[i], how, kept_old[i], row, sizeof row);
    printf("%s\n", row);
  }
  printf("\nGEMMs of one iteration");
  if (nserved < ns) printf(" (%d of the %d shapes)", nserved, ns);
  if (base_missing)
    printf(": CLBlast defaults failed on %d shape%s, tuned %.0f ms (%.1f GFLOPS)", base_missing,
           base_missing == 1 ? "" : "s", tuned_s * 1e3, tuned_fl / tuned_s * 1e-9);
  else
    printf(": CLBlast defaults %.0f ms (%.1f GFLOPS), tuned %.0f ms (%.1f GFLOPS): %.2fx",
           base_s * 1e3, tuned_fl / base_s * 1e-9, tuned_s * 1e3, tuned_fl / tuned_s * 1e-9,
           base_s / tuned_s);
  printf(", %d program%s, %.0f s of tuning\n", nchosen, nchosen == 1 ? "" : "s", cli_now() - t0);
  fflush(stdout);
  for (int i = 0; i < ns; i++) {
    if (tt[i] > 0) continue;
    char nm[64];
    perf_shape_name(&shapes[i], nm, sizeof nm);
    fprintf(stderr, "clgan tune: note: %s %s; %s\n",
            no_run[i] ? "no candidate ran" : "only candidates that failed other shapes ran", nm,
            kept_old[i] ? "the existing plan's entry for it is kept"
                        : "the plan has no entry for it, so it runs as any shape not listed");
  }

  if (!have_path) {
    fprintf(stderr, "clgan tune: error: the clgan cache is off (CLGAN_CACHE=0); give --out FILE\n");
    clgan_gemm_plan_free(&plan);
    clgan_model_free(&model);
    free(rec);
    return CLI_FAIL;
  }
  if (!s && old_state == OLD_UNUSABLE)
    fprintf(stderr, "clgan tune: note: the existing plan is not merged: %s; starting from an "
            "empty plan\n", old_why);
  if (!s && mi.dropped) {
    char names[600] = "";
    size_t at = 0;
    int listed = 0;
    for (int j = 0; j < old.nchoices; j++) {
      if (fate[j] != CLGAN_GEMM_MERGE_DROPPED) continue;
      char nm[64];
      perf_shape_name(&old.choices[j].shape, nm, sizeof nm);
      if (listed < 12 && at < sizeof names)
        at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", listed ? ", " : "", nm);
      listed++;
    }
    if (listed > 12 && at < sizeof names)
      snprintf(names + at, sizeof names - at, " and %d more", listed - 12);
    char hint[64] = "";
    if (mi.programs_wanted <= CLGAN_GEMM_MAX_PROGRAMS)
      snprintf(hint, sizeof hint, " (--max-programs %d keeps them)", mi.programs_wanted);
    fprintf(stderr,
            "clgan tune: note: dropped %d shape%s of the existing plan (%s): keeping them would "
            "take %d parameter sets, more than --max-programs %ld; they run as any shape not "
            "listed%s\n",
            mi.dropped, mi.dropped == 1 ? "" : "s", names, mi.programs_wanted, max_programs, hint);
  }
  if (!s) {
    printf("plan: ");
    if (old_state == OLD_MERGED) {
      printf("merged into the existing plan: kept %d shape%s from it", mi.kept,
             mi.kept == 1 ? "" : "s");
      if (mi.programs_added)
        printf(" (with %d of its parameter sets)", mi.programs_added);
      printf(", replaced %d measured now, dropped %d", mi.replaced, mi.dropped);
      if (mi.old_settings) printf("; shapes not listed run on its fallback set as before");
    } else if (old_state == OLD_UNUSABLE) {
      printf("the existing plan is not merged (see the note), started from an empty plan");
    } else if (old_state == OLD_FRESH) {
      printf("--fresh: the existing plan is replaced, not merged");
    } else {
      printf("no existing plan to merge with");
    }
    printf("; %d shape%s, %d program%s\n", plan.nchoices, plan.nchoices == 1 ? "" : "s",
           plan.nprograms, plan.nprograms == 1 ? "" : "s");
    fflush(stdout);
    s = clgan_gemm_plan_save(path, &dev, &plan);
  }
  free(fate);
  clgan_gemm_plan_free(&old);
  clgan_gemm_plan_free(&plan);
  clgan_model_free(&model);
  free(rec);
  if (s) return cli_report(s);
  printf("saved %s\n", path);
  return CLI_OK;
}
