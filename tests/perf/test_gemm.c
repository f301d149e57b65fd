/* clgan_gemm under every route a plan can take (CLBlast's defaults, the built-in POCL
 * parameters through the indirect and the direct kernel, the level-2 forms for M = 1,
 * N = 1 and K = 1) against the float64 reference, with transposes, offsets, padded leading
 * dimensions, beta 0 over NaN and beta != 0; then shape recording, event profiling and the
 * tuner's measuring step; the plan fitted to a small device (--fitted: only that, run on
 * Oclgrind with tight limits by meson.build). CLBlast keeps overrides process-wide, so its
 * defaults go first. */
#include "clgan/gemm.h"
#include "test_util.h"

typedef struct {
  int ta, tb;
  size_t m, n, k;
  size_t pad;     /* extra leading-dimension floats */
  size_t off;     /* view offsets */
  float alpha, beta;
} gemm_case;

static const gemm_case cases[] = {
    {0, 0, 33, 65, 31, 0, 0, 1.0f, 0.0f},   {0, 1, 33, 65, 31, 3, 5, 1.5f, 0.5f},
    {1, 0, 64, 48, 17, 0, 7, 1.0f, 1.0f},   {1, 1, 20, 30, 40, 1, 0, -0.5f, 0.0f},
    {0, 0, 128, 96, 64, 0, 0, 1.0f, 0.0f},  {1, 0, 96, 128, 64, 0, 0, 1.0f, 0.0f},
    /* the level-2 shapes of a dense layer with one output and batch 7 */
    {0, 1, 7, 1, 50, 0, 0, 1.0f, 0.0f},     {1, 0, 1, 50, 7, 0, 0, 1.0f, 0.0f},
    {1, 0, 1, 50, 7, 0, 3, 1.0f, 1.0f},     {0, 0, 7, 50, 1, 0, 0, 1.0f, 0.0f},
    {0, 0, 7, 50, 1, 2, 1, 2.0f, 0.5f},     {1, 1, 1, 9, 13, 0, 2, 1.0f, 0.0f},
    {0, 0, 9, 1, 13, 0, 0, 1.0f, 0.25f},    {1, 1, 9, 1, 13, 0, 0, 1.0f, 0.0f},
    {1, 1, 9, 11, 1, 1, 0, 1.0f, 0.0f},
    /* NT with a short M: the built-in plan's clgan kernel (small_m), a tail of 1..3 columns */
    {0, 1, 16, 203, 100, 3, 5, 1.0f, 0.0f}, {0, 1, 5, 37, 17, 0, 0, 1.5f, 0.5f},
    {0, 1, 2, 6, 3, 1, 2, -1.0f, 1.0f},
    /* NN and NT with K >= 64: the built-in plan's panel kernel, partial row and column tiles */
    {0, 0, 13, 70, 65, 2, 3, 1.25f, 0.5f},  {0, 0, 9, 33, 200, 1, 0, 1.0f, 0.0f},
    {0, 1, 21, 45, 70, 2, 1, 1.0f, 1.0f},   {0, 1, 17, 31, 300, 0, 0, 1.0f, 0.0f},
};

/* Runs every case under the context's current plan; `what` names the plan in failures. */
static void check_cases(clgan_ctx *ctx, const char *what) {
  for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++) {
    const gemm_case *g = &cases[ci];
    size_t ar = g->ta ? g->k : g->m, ac = g->ta ? g->m : g->k;
    size_t br = g->tb ? g->n : g->k, bc = g->tb ? g->k : g->n;
    size_t lda = ac + g->pad, ldb = bc + g->pad, ldc = g->n + g->pad;
    size_t na = g->off + ar * lda, nb = g->off + br * ldb, nc = g->off + g->m * ldc;
    float *a = tu_alloc(na), *b = tu_alloc(nb), *c = tu_alloc(nc), *want = tu_alloc(nc),
          *got = tu_alloc(nc);
    ref_fill_uniform(a, na, 11 + ci);
    ref_fill_uniform(b, nb, 22 + ci);
    ref_fill_uniform(c, nc, 33 + ci);
    if (g->beta == 0.0f)
      for (size_t i = 0; i < nc; i++) c[i] = NAN; /* beta 0 must not read C */
    memcpy(want, c, nc * sizeof(float));
    ref_gemm(g->ta, g->tb, g->m, g->n, g->k, g->alpha, a + g->off, lda, b + g->off, ldb, g->beta,
             want + g->off, ldc);
    cl_mem da = tu_upload(ctx, a, na), db = tu_upload(ctx, b, nb), dc = tu_upload(ctx, c, nc);
    CHECK_OK(clgan_gemm(ctx, g->ta, g->tb, g->m, g->n, g->k, g->alpha, CLGAN_VIEW(da, g->off),
                        lda, CLGAN_VIEW(db, g->off), ldb, g->beta, CLGAN_VIEW(dc, g->off), ldc));
    tu_download(ctx, dc, 0, nc, got);
    /* outside C's m x n window nothing may change (padding columns, the offset) */
    for (size_t i = 0; i < nc; i++) {
      size_t r = i < g->off ? 0 : (i - g->off) / ldc, col = i < g->off ? 0 : (i - g->off) % ldc;
      if (i < g->off || col >= g->n || r >= g->m) {
        got[i] = isnan(got[i]) && isnan(want[i]) ? 0.0f : got[i];
        want[i] = isnan(want[i]) ? 0.0f : want[i];
      }
    }
    char label[160];
    snprintf(label, sizeof label, "%s: %c%c %zux%zux%zu pad %zu off %zu alpha %g beta %g", what,
             g->ta ? 'T' : 'N', g->tb ? 'T' : 'N', g->m, g->n, g->k, g->pad, g->off, g->alpha,
             g->beta);
    CHECK_CLOSE(got, want, nc, 1e-5, 1e-4 + 4e-7 * (double)g->k, label);
    clgan_buffer_release(&da);
    clgan_buffer_release(&db);
    clgan_buffer_release(&dc);
    free(a), free(b), free(c), free(want), free(got);
  }
}

static void test_routes(clgan_ctx *ctx) {
  clgan_gemm_plan p;
  clgan_gemm_plan_init(&p);
  CHECK_OK(clgan_gemm_set_plan(ctx, &p));
  clgan_gemm_shape s = {0, 0, 64, 64, 64};
  CHECK(clgan_gemm_route(ctx, &s) == -2, "an empty plan leaves CLBlast to choose");
  check_cases(ctx, "CLBlast defaults");

  clgan_gemm_plan_builtin(&ctx->info, &p);
  if (p.nprograms == 0) {
    /* not POCL: try the POCL parameters anyway, they are valid OpenCL everywhere */
    clgan_device_info pocl = ctx->info;
    snprintf(pocl.platform_name, sizeof pocl.platform_name, "Portable Computing Language");
    pocl.type = CL_DEVICE_TYPE_CPU;
    clgan_gemm_plan_builtin(&pocl, &p);
  }
  char why[200];
  CHECK(clgan_gemm_program_check(&p.programs[0], ctx->info.local_mem,
                                 ctx->info.max_work_group_size, why, sizeof why) == 0,
        "built-in parameters on this device: %s", why);
  CHECK_OK(clgan_gemm_set_plan(ctx, &p));
  check_cases(ctx, "built-in (panel NN and small-M kernels, level-2 forms)");
  /* CLBlast's kernels alone with the built-in parameters */
  p.gemv_small = 0, p.panel = 0;
  CHECK_OK(clgan_gemm_set_plan(ctx, &p));
  CHECK(clgan_gemm_route(ctx, &s) == 0, "the fallback program");
  check_cases(ctx, "built-in, indirect Xgemm");

  p.programs[0].min_indirect = CLGAN_GEMM_ALWAYS_DIRECT;
  CHECK_OK(clgan_gemm_set_plan(ctx, &p));
  check_cases(ctx, "built-in, XgemmDirect");

  p.programs[0].min_indirect = CLGAN_GEMM_ALWAYS_INDIRECT;
  p.gemv_small = 1;
  CHECK_OK(clgan_gemm_set_plan(ctx, &p));
  clgan_gemm_shape m1 = {1, 0, 1, 50, 7}, n1 = {0, 1, 7, 1, 50}, k1 = {0, 0, 7, 50, 1};
  CHECK(clgan_gemm_route(ctx, &m1) == CLGAN_GEMM_USE_GEMV &&
            clgan_gemm_route(ctx, &n1) == CLGAN_GEMM_USE_GEMV &&
            clgan_gemm_route(ctx, &k1) == CLGAN_GEMM_USE_GEMV && clgan_gemm_route(ctx, &s) == 0,
        "M=1, N=1, K=1 take the level-2 forms");
  check_cases(ctx, "built-in with Sgemv/Sger");

  /* listed shapes take their own route: program and layout (row-major call or the
   * column-major twin) alternate over the cases; the level-2 shapes too when listed */
  enum { NCASES = sizeof cases / sizeof *cases };
  clgan_gemm_choice ch[NCASES + 1];
  for (int i = 0; i < NCASES; i++) {
    const gemm_case *g = &cases[i];
    ch[i] = (clgan_gemm_choice){{g->ta, g->tb, g->m, g->n, g->k}, i % 2, (i / 2) % 2, 0, 0};
  }
  ch[NCASES] = (clgan_gemm_choice){{0, 0, 64, 64, 64}, 1, 1, 0, 0};
  p.nprograms = 2;
  p.programs[1] = p.programs[0];
  p.programs[1].min_indirect = CLGAN_GEMM_ALWAYS_DIRECT;
  p.choices = ch;
  p.nchoices = NCASES + 1;
  CHECK_OK(clgan_gemm_set_plan(ctx, &p));
  p.choices = NULL;
  p.nchoices = 0;
  CHECK(clgan_gemm_route(ctx, &s) == 1, "listed shape -> its program");
  clgan_gemm_shape other = {0, 1, 64, 64, 64};
  CHECK(clgan_gemm_route(ctx, &other) == 0, "unlisted shape -> the fallback");
  check_cases(ctx, "two programs, both layouts");
  clgan_gemm_plan_free(&p);
}

/* The built-in POCL plan, whatever the device (its parameters are valid OpenCL anywhere). */
static void pocl_builtin(const clgan_ctx *ctx, clgan_gemm_plan *p) {
  clgan_device_info pocl = ctx->info;
  snprintf(pocl.platform_name, sizeof pocl.platform_name, "Portable Computing Language");
  pocl.type = CL_DEVICE_TYPE_CPU;
  clgan_gemm_plan_builtin(&pocl, p);
}

/* The built-in plan's panel class (clgan_gemm_plan.panel): NN and NT shapes not listed with
 * K >= 64 (NT with a short M and K <= 256 is small_m's) run in kernels/gemm_small.cl (op(B)
 * packed into panels, 8 x 32 register tiles); TN, TT, K < 64 and the level-2 shapes do not.
 * Each output is one chain of multiply-adds over K in order from 0, as in CLBlast's Xgemm, so
 * on POCL (which contracts CLBlast's a * b + c to an fma) C is bitwise CLBlast's: the rule
 * changes a model's speed, never its results. Odd sizes: partial tiles in both directions,
 * padded leading dimensions, an offset; beta 0 over NaN, and alpha 1.25 with beta 0.5.
 * small: a shape Oclgrind runs in seconds (its bounds and race checks). */
static void test_panel(clgan_ctx *ctx, int small) {
  clgan_gemm_plan p;
  pocl_builtin(ctx, &p);
  CHECK(p.nprograms == 1 && p.panel == 1, "built-in: %d programs, panel %d", p.nprograms,
        p.panel);
  CHECK_OK(clgan_gemm_set_plan(ctx, &p));
  clgan_gemm_shape big = {0, 0, 520, 1031, 521}, k64 = {0, 0, 3, 7, 64},
                   nt = {0, 1, 520, 1031, 521}, nt16 = {0, 1, 16, 1031, 256},
                   tn = {1, 0, 520, 1031, 521}, tt = {1, 1, 520, 1031, 521},
                   k63 = {0, 0, 1024, 1024, 63}, m1 = {0, 0, 1, 1024, 512};
  CHECK(clgan_gemm_route(ctx, &big) == CLGAN_GEMM_USE_PANEL &&
            clgan_gemm_route(ctx, &k64) == CLGAN_GEMM_USE_PANEL &&
            clgan_gemm_route(ctx, &nt) == CLGAN_GEMM_USE_PANEL,
        "NN and NT, K >= 64 -> the panel kernel");
  CHECK(clgan_gemm_route(ctx, &tn) == 0 && clgan_gemm_route(ctx, &tt) == 0 &&
            clgan_gemm_route(ctx, &k63) == 0 && clgan_gemm_route(ctx, &m1) == CLGAN_GEMM_USE_GEMV &&
            clgan_gemm_route(ctx, &nt16) == CLGAN_GEMM_USE_SMALL_M,
        "TN, TT, K < 64 -> the first program; M 1 -> Sgemv; NT with M 16, K 256 -> small-M");
  /* a tuned plan's entries: listed class routes hold with the classes off for shapes not
   * listed; one whose shape is not of its class falls to the rules for shapes not listed */
  {
    clgan_gemm_plan l = p;
    clgan_gemm_choice lc[3] = {{big, CLGAN_GEMM_USE_PANEL, 0, 0, 0},
                               {nt16, CLGAN_GEMM_USE_SMALL_M, 0, 0, 0},
                               {tn, CLGAN_GEMM_USE_PANEL, 0, 0, 0}};
    l.panel = l.small_m = 0;
    l.choices = lc;
    l.nchoices = 3;
    CHECK_OK(clgan_gemm_set_plan(ctx, &l));
    CHECK(clgan_gemm_route(ctx, &big) == CLGAN_GEMM_USE_PANEL &&
              clgan_gemm_route(ctx, &nt16) == CLGAN_GEMM_USE_SMALL_M &&
              clgan_gemm_route(ctx, &tn) == 0 && clgan_gemm_route(ctx, &nt) == 0,
          "listed class routes, the classes off: big %d, nt16 %d, tn %d, nt %d",
          clgan_gemm_route(ctx, &big), clgan_gemm_route(ctx, &nt16), clgan_gemm_route(ctx, &tn),
          clgan_gemm_route(ctx, &nt));
    CHECK_OK(clgan_gemm_set_plan(ctx, &p));
  }
  int is_pocl = strstr(ctx->info.platform_name, "Portable Computing Language") != NULL;
  for (int tb = 0; tb < 2; tb++) {
    /* small (Oclgrind): 8 + 5 rows, 32 + 32 + 6 columns, K 65 */
    size_t m = small ? 13 : 45, n = small ? 70 : 1031, k = small ? 65 : 521;
    size_t lda = k + 3, ldb = (tb ? k : n) + 1, ldc = n + 2, off = 5;
    size_t na = off + m * lda, nb = off + (tb ? n : k) * ldb, nc = off + m * ldc;
    float *a = tu_alloc(na), *b = tu_alloc(nb), *c0 = tu_alloc(nc), *c1 = tu_alloc(nc),
          *want = tu_alloc(nc);
    ref_fill_uniform(a, na, 5);
    ref_fill_uniform(b, nb, 6);
    cl_mem da = tu_upload(ctx, a, na), db = tu_upload(ctx, b, nb);
    for (int accumulate = 0; accumulate < 2; accumulate++) {
      float alpha = accumulate ? 1.25f : 1.0f, beta = accumulate ? 0.5f : 0.0f;
      ref_fill_uniform(want, nc, 7);
      if (!accumulate)
        for (size_t i = off; i < nc; i++) want[i] = NAN; /* beta 0 must not read C */
      float *dst[2] = {c0, c1};
      for (int panel = 0; panel < 2; panel++) {
        p.panel = panel;
        CHECK_OK(clgan_gemm_set_plan(ctx, &p));
        cl_mem dc = tu_upload(ctx, want, nc);
        CHECK_OK(clgan_gemm(ctx, 0, tb, m, n, k, alpha, CLGAN_VIEW(da, off), lda,
                            CLGAN_VIEW(db, off), ldb, beta, CLGAN_VIEW(dc, off), ldc));
        tu_download(ctx, dc, 0, nc, dst[panel]);
        clgan_buffer_release(&dc);
      }
      ref_gemm(0, tb, m, n, k, alpha, a + off, lda, b + off, ldb, beta, want + off, ldc);
      size_t outside = 0;
      for (size_t i = 0; i < nc; i++)
        if (i < off || (i - off) % ldc >= n) { /* the offset and the padding: never written */
          outside += memcmp(&c1[i], &want[i], sizeof(float)) != 0;
          c1[i] = c0[i] = want[i] = 0.0f;
        }
      char what[96];
      snprintf(what, sizeof what, "panel kernel N%c vs reference (beta %g)", tb ? 'T' : 'N',
               (double)beta);
      CHECK(outside == 0, "%s: %zu floats written outside C", what, outside);
      CHECK_CLOSE(c1, want, nc, 1e-5, 1e-4 + 4e-7 * (double)k, what);
      size_t differ = 0;
      for (size_t i = 0; i < nc; i++) differ += memcmp(&c0[i], &c1[i], sizeof(float)) != 0;
      CHECK(!is_pocl || differ == 0,
            "panel kernel N%c bitwise equal to CLBlast's route on POCL (alpha %g, beta %g): %zu "
            "of %zu differ",
            tb ? 'T' : 'N', (double)alpha, (double)beta, differ, nc);
    }
    clgan_buffer_release(&da);
    clgan_buffer_release(&db);
    free(a), free(b), free(c0), free(c1), free(want);
  }
  clgan_gemm_plan_free(&p);
}

/* The built-in plan's other shape class (clgan_gemm_plan.small_m): NT with 2 <= M <= 16 and
 * K <= 256 runs in kernels/gemm_small.cl. Its sums run in CLBlast's order (one chain of
 * multiply-adds per element, K in order), so on POCL, which contracts CLBlast's a * b + c
 * to an fma as this kernel's fma, C is bitwise CLBlast's: the route changes the speed of
 * a model (dcgan28-sn's first linear layer at batch 16), not its results. Elsewhere the
 * reference check alone. */
static void test_small_m(clgan_ctx *ctx) {
  clgan_gemm_plan p;
  pocl_builtin(ctx, &p);
  CHECK(p.small_m == 1, "built-in: small_m %d", p.small_m);
  CHECK_OK(clgan_gemm_set_plan(ctx, &p));
  clgan_gemm_shape g16 = {0, 1, 16, 12544, 100}, g2 = {0, 1, 2, 50, 256},
                   m17 = {0, 1, 17, 12544, 100}, k257 = {0, 1, 16, 12544, 257},
                   nn = {0, 0, 16, 12544, 50}, tn = {1, 1, 16, 12544, 100},
                   m1 = {0, 1, 1, 50, 7};
  CHECK(clgan_gemm_route(ctx, &g16) == CLGAN_GEMM_USE_SMALL_M &&
            clgan_gemm_route(ctx, &g2) == CLGAN_GEMM_USE_SMALL_M,
        "NT, 2 <= M <= 16, K <= 256 -> clgan's small-M kernel");
  CHECK(clgan_gemm_route(ctx, &m17) == CLGAN_GEMM_USE_PANEL &&
            clgan_gemm_route(ctx, &k257) == CLGAN_GEMM_USE_PANEL &&
            clgan_gemm_route(ctx, &nn) == 0 && clgan_gemm_route(ctx, &tn) == 0 &&
            clgan_gemm_route(ctx, &m1) == CLGAN_GEMM_USE_GEMV,
        "M 17, K 257 -> the panel kernel; NN with K 50, TT -> the first program; M 1 -> Sgemv");
  /* fitted to a device with 4 KiB of local memory: A^T (K * 64 bytes) within half of it */
  clgan_gemm_plan tight = p;
  tight.fitted = (clgan_gemm_limits){64, {64, 64}, 4096};
  tight.nchoices = 0, tight.choices = NULL;
  CHECK_OK(clgan_gemm_set_plan(ctx, &tight));
  clgan_gemm_shape k32 = {0, 1, 16, 12544, 32}, k33 = {0, 1, 16, 12544, 33};
  CHECK(clgan_gemm_route(ctx, &k32) == CLGAN_GEMM_USE_SMALL_M && clgan_gemm_route(ctx, &k33) == 0,
        "4 KiB of local memory: K 32 -> the small-M kernel, K 33 -> the first program");
  int is_pocl = strstr(ctx->info.platform_name, "Portable Computing Language") != NULL;
  size_t m = 16, n = 1031, k = 100, lda = k + 3, ldb = k + 1, ldc = n + 2;
  float *a = tu_alloc(m * lda), *b = tu_alloc(n * ldb), *c0 = tu_alloc(m * ldc),
        *c1 = tu_alloc(m * ldc), *want = tu_alloc(m * ldc);
  ref_fill_uniform(a, m * lda, 15);
  ref_fill_uniform(b, n * ldb, 16);
  cl_mem da = tu_upload(ctx, a, m * lda), db = tu_upload(ctx, b, n * ldb);
  for (int accumulate = 0; accumulate < 2; accumulate++) {
    float beta = (float)accumulate;
    ref_fill_uniform(want, m * ldc, 17);
    if (!accumulate)
      for (size_t i = 0; i < m * ldc; i++) want[i] = NAN; /* beta 0 must not read C */
    float *dst[2] = {c1, c0};
    for (int small = 1; small >= 0; small--) {
      p.small_m = small;
      CHECK_OK(clgan_gemm_set_plan(ctx, &p));
      cl_mem dc = tu_upload(ctx, want, m * ldc);
      CHECK_OK(clgan_gemm(ctx, 0, 1, m, n, k, 1.0f, CLGAN_VIEW(da, 0), lda, CLGAN_VIEW(db, 0),
                          ldb, beta, CLGAN_VIEW(dc, 0), ldc));
      tu_download(ctx, dc, 0, m * ldc, dst[1 - small]);
      clgan_buffer_release(&dc);
    }
    ref_gemm(0, 1, m, n, k, 1.0f, a, lda, b, ldb, beta, want, ldc);
    for (size_t i = 0; i < m * ldc; i++)
      if (i % ldc >= n) c1[i] = c0[i] = want[i] = 0.0f; /* padding: NaN or untouched */
    CHECK_CLOSE(c1, want, m * ldc, 1e-5, 1e-4 + 4e-7 * (double)k, "small-M kernel vs reference");
    size_t differ = 0;
    for (size_t i = 0; i < m * ldc; i++) differ += memcmp(&c0[i], &c1[i], sizeof(float)) != 0;
    CHECK(!is_pocl || differ == 0,
          "small-M kernel bitwise equal to CLBlast's route on POCL (beta %g): %zu of %zu differ",
          (double)beta, differ, m * ldc);
  }
  clgan_buffer_release(&da);
  clgan_buffer_release(&db);
  free(a), free(b), free(c0), free(c1), free(want);
  clgan_gemm_plan_free(&p);
}

static void test_record_and_measure(clgan_ctx *ctx) {
  cl_mem a = tu_upload(ctx, NULL, 64 * 64), c = tu_upload(ctx, NULL, 64 * 64);
  CHECK_OK(clgan_fill(ctx, 64 * 64, 0.5f, CLGAN_VIEW(a, 0)));
  CHECK_OK(clgan_gemm_record_start(ctx, 0));
  for (int i = 0; i < 3; i++)
    CHECK_OK(clgan_gemm(ctx, 0, 1, 64, 32, 16, 1.0f, CLGAN_VIEW(a, 0), 16, CLGAN_VIEW(a, 0), 16,
                        0.0f, CLGAN_VIEW(c, 0), 32));
  CHECK_OK(clgan_gemm(ctx, 1, 0, 8, 8, 8, 1.0f, CLGAN_VIEW(a, 0), 8, CLGAN_VIEW(a, 0), 8, 0.0f,
                      CLGAN_VIEW(c, 0), 8));
  clgan_gemm_record *rec = NULL;
  int n = 0;
  CHECK_OK(clgan_gemm_record_stop(ctx, &rec, &n));
  CHECK(n == 2 && rec[0].calls == 3 && rec[0].shape.tb == 1 && rec[0].shape.m == 64 &&
            rec[0].shape.k == 16 && rec[1].calls == 1 && rec[1].shape.ta == 1,
        "recorded %d shapes", n);
  free(rec);
  /* skip mode records without running: C keeps its value */
  float v = 0.0f;
  CHECK_OK(clgan_fill(ctx, 64 * 64, 7.0f, CLGAN_VIEW(c, 0)));
  CHECK_OK(clgan_gemm_record_start(ctx, 1));
  CHECK_OK(clgan_gemm(ctx, 0, 0, 8, 8, 8, 1.0f, CLGAN_VIEW(a, 0), 8, CLGAN_VIEW(a, 0), 8, 0.0f,
                      CLGAN_VIEW(c, 0), 8));
  CHECK_OK(clgan_gemm_record_stop(ctx, &rec, &n));
  tu_download(ctx, c, 0, 1, &v);
  CHECK(n == 1 && v == 7.0f, "skip mode ran the GEMM (C[0] = %g)", v);
  free(rec);

  clgan_gemm_measure m;
  clgan_gemm_shape s = {1, 0, 96, 80, 72};
  CHECK_OK(clgan_gemm_measure_shape(ctx, &s, NULL, 0, -1, 2, &m));
  CHECK(m.valid && m.seconds > 0 && m.max_rel_err < 1e-5, "measure: valid %d, %g s, err %g",
        m.valid, m.seconds, m.max_rel_err);
  clgan_gemm_shape g = {0, 0, 1, 80, 72};
  CHECK_OK(clgan_gemm_measure_shape(ctx, &g, NULL, 1, -1, 1, &m));
  CHECK(m.valid, "measure as Sgemv: err %g", m.max_rel_err);
  CHECK(clgan_gemm_measure_shape(ctx, &s, NULL, 1, -1, 1, &m) == CLGAN_ERR_INVALID_ARG,
        "96x80x72 is no matrix-vector shape");
  clgan_error_clear();
  clgan_buffer_release(&a);
  clgan_buffer_release(&c);
}

static void test_profile(void) {
  clgan_ctx *ctx = NULL;
  clgan_status st = clgan_ctx_create(NULL, CLGAN_CTX_PROFILING, &ctx);
  CHECK(st == CLGAN_OK, "profiling context: %s", clgan_last_error());
  if (st) return;
  cl_mem a = tu_upload(ctx, NULL, 64 * 64), c = tu_upload(ctx, NULL, 64 * 64);
  CHECK_OK(clgan_profile_start(ctx));
  CHECK(clgan_profile_active(ctx), "profiling on");
  CHECK_OK(clgan_fill(ctx, 64 * 64, 0.5f, CLGAN_VIEW(a, 0)));
  for (int i = 0; i < 2; i++)
    CHECK_OK(clgan_gemm(ctx, 0, 0, 64, 64, 64, 1.0f, CLGAN_VIEW(a, 0), 64, CLGAN_VIEW(a, 0), 64,
                        0.0f, CLGAN_VIEW(c, 0), 64));
  clgan_profile_entry *e = NULL;
  int n = 0;
  CHECK_OK(clgan_profile_read(ctx, &e, &n));
  int found_gemm = 0, found_fill = 0;
  for (int i = 0; i < n; i++) {
    if (e[i].is_gemm && e[i].calls == 2 && e[i].shape.m == 64 &&
        e[i].flops == 2.0 * 2 * 64 * 64 * 64 && e[i].seconds > 0)
      found_gemm = 1;
    if (!e[i].is_gemm && strstr(e[i].name, "fill") && e[i].calls == 1 && e[i].seconds >= 0)
      found_fill = 1;
  }
  CHECK(found_gemm && found_fill, "profile: %d entries, gemm %d fill %d", n, found_gemm,
        found_fill);
  free(e);
  clgan_profile_stop(ctx);
  CHECK(!clgan_profile_active(ctx), "profiling off");
  clgan_buffer_release(&a);
  clgan_buffer_release(&c);
  clgan_ctx_free(ctx);
  /* a context without CL_QUEUE_PROFILING_ENABLE refuses */
  ctx = tu_open_device();
  CHECK(clgan_profile_start(ctx) == CLGAN_ERR_INVALID_ARG, "profiling without the flag");
  clgan_error_clear();
  clgan_ctx_free(ctx);
}

/* A plan fitted to a small device: every case as the fitted plan routes it, then forced
 * through XgemmDirect, and through the indirect Xgemm in both forms of the call (so
 * CLBlast's copy, pad and transpose kernels run too). The limits are the device's own when
 * they are tight (Oclgrind with OCLGRIND_MAX_WGSIZE and _LOCAL_MEM_SIZE, see meson.build),
 * else made-up ones of 64 items and 4 KiB: the fitted parameters are valid OpenCL anywhere,
 * so a big device runs them too. Runs last: CLBlast keeps its overrides process-wide. */
static void test_fitted(clgan_ctx *ctx) {
  clgan_gemm_limits l;
  clgan_gemm_limits_of(&ctx->info, &l);
  int small_device = clgan_gemm_limits_tight(&l);
  if (!small_device) l = (clgan_gemm_limits){64, {64, 64}, 4096};
  printf("fitted to %zu items (%zux%zu per dimension), %llu B of local memory\n", l.max_wg,
         l.max_item[0], l.max_item[1], l.local_mem);
  clgan_gemm_plan p;
  clgan_gemm_plan_init(&p);
  CHECK(clgan_gemm_plan_fit(&p, &l) > 0 && p.nprograms == 1 && p.fallback == 0 &&
            p.fitted.max_wg == l.max_wg,
        "CLBlast's defaults fitted: %d programs, fallback %d", p.nprograms, p.fallback);
  char why[200];
  CHECK(clgan_gemm_program_fits(&p.programs[0], &l, why, sizeof why) == 0, "fitted: %s", why);
  clgan_gemm_kernel_params k[CLGAN_GEMM_HELPER_KERNELS];
  clgan_gemm_helper_params(&l, k);
  for (int i = 0; i < CLGAN_GEMM_HELPER_KERNELS; i++)
    CHECK(k[i].wg[0] * k[i].wg[1] <= l.max_wg && k[i].local_bytes <= l.local_mem,
          "%s: %zux%zu items, %llu B", k[i].kernel, k[i].wg[0], k[i].wg[1], k[i].local_bytes);
  if (small_device) {
    /* first, before any fitted plan has set CLBlast's other kernels for the process: the
     * tuner's step under CLBlast's defaults (`clgan tune` measures a candidate so), whose
     * copies and transposes must still get parameters the device can run */
    clgan_gemm_plan none;
    clgan_gemm_plan_init(&none);
    CHECK_OK(clgan_gemm_set_plan(ctx, &none));
    clgan_gemm_measure m;
    clgan_gemm_shape s = {0, 1, 33, 40, 24};
    clgan_gemm_program cand = p.programs[0];
    cand.min_indirect = CLGAN_GEMM_ALWAYS_INDIRECT;
    CHECK_OK(clgan_gemm_measure_shape(ctx, &s, &cand, 0, 1, 1, &m));
    CHECK(m.valid, "a candidate measured under CLBlast's defaults: err %g", m.max_rel_err);
  }
  CHECK_OK(clgan_gemm_set_plan(ctx, &p));
  check_cases(ctx, p.gemv_small ? "fitted, as planned (level-2 forms)" : "fitted, as planned");
  p.programs[0].min_indirect = CLGAN_GEMM_ALWAYS_DIRECT;
  CHECK_OK(clgan_gemm_set_plan(ctx, &p));
  check_cases(ctx, "fitted, XgemmDirect");
  p.programs[0].min_indirect = CLGAN_GEMM_ALWAYS_INDIRECT;
  p.gemv_small = 0;
  for (int layout = CLGAN_GEMM_LAYOUT_COL; layout <= CLGAN_GEMM_LAYOUT_ROW; layout++) {
    p.fallback_layout = (clgan_gemm_layout)layout;
    CHECK_OK(clgan_gemm_set_plan(ctx, &p));
    check_cases(ctx, layout == CLGAN_GEMM_LAYOUT_ROW ? "fitted, indirect Xgemm, row-major call"
                                                     : "fitted, indirect Xgemm, column-major twin");
  }
  clgan_gemm_plan_free(&p);
}

/* test_gemm [--fitted | --panel]: --fitted runs only the fitted plan, --panel only clgan's
 * own kernels under the built-in POCL plan at small sizes (the Oclgrind tests). */
int main(int argc, char **argv) {
  clgan_ctx *ctx = tu_open_device();
  if (argc > 1 && !strcmp(argv[1], "--fitted")) {
    test_fitted(ctx);
    clgan_ctx_free(ctx);
    return tu_finish("test_gemm --fitted");
  }
  if (argc > 1 && !strcmp(argv[1], "--panel")) {
    test_panel(ctx, 1);
    clgan_gemm_plan p;
    pocl_builtin(ctx, &p);
    CHECK_OK(clgan_gemm_set_plan(ctx, &p));
    check_cases(ctx, "built-in (panel NN and small-M kernels, level-2 forms)");
    clgan_gemm_plan_free(&p);
    clgan_ctx_free(ctx);
    return tu_finish("test_gemm --panel");
  }
  test_routes(ctx);
  test_panel(ctx, 0);
  test_small_m(ctx);
  test_record_and_measure(ctx);
  test_fitted(ctx);
  clgan_ctx_free(ctx);
  test_profile();
  return tu_finish("test_gemm");
}
