/* GEMM plans without a device: parameter constraints, fitting to small devices, the
 * built-in choice, the tuned-plan file (round trip, atomic replace, corrupt / foreign / invalid files refused, the
 * CLGAN_GEMM selection with its fallbacks), merging a new tune into an older plan. */
#include <stdlib.h>
#include <unistd.h>

#include "clgan/gemm.h"
#include "test_util.h"

static clgan_device_info fake_device(const char *platform, cl_device_type type) {
  clgan_device_info d;
  memset(&d, 0, sizeof d);
  snprintf(d.platform_name, sizeof d.platform_name, "%s", platform);
  snprintf(d.platform_version, sizeof d.platform_version, "OpenCL 3.0 test");
  snprintf(d.name, sizeof d.name, "test-device");
  snprintf(d.vendor, sizeof d.vendor, "test-vendor");
  snprintf(d.driver_version, sizeof d.driver_version, "1.0");
  d.type = type;
  d.local_mem = 65536;
  d.max_work_group_size = 4096;
  return d;
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    exit(1);
  }
  fputs(text, f);
  fclose(f);
}

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  return buf;
}

static int same_program(const clgan_gemm_program *a, const clgan_gemm_program *b) {
  return !memcmp(a->xgemm, b->xgemm, sizeof a->xgemm) &&
         !memcmp(a->direct, b->direct, sizeof a->direct) && a->min_indirect == b->min_indirect;
}

static void test_constraints(void) {
  clgan_device_info pocl = fake_device("Portable Computing Language", CL_DEVICE_TYPE_CPU);
  clgan_gemm_plan p;
  clgan_gemm_plan_builtin(&pocl, &p);
  CHECK(p.nprograms == 1 && p.fallback == 0 && p.panel == 1 && p.small_m == 1 &&
            p.gemv_small == 1 && p.fallback_layout == CLGAN_GEMM_LAYOUT_AUTO,
        "POCL CPU gets the built-in (one program, clgan's NN panel and small-M kernels)");
  char why[200];
  CHECK(clgan_gemm_program_check(&p.programs[0], 65536, 4096, why, sizeof why) == 0, "%s", why);
  clgan_gemm_program bad = p.programs[0];
  bad.xgemm[6] = 24; /* MWG 24 with VWM 16 */
  CHECK(clgan_gemm_program_check(&bad, 0, 0, why, sizeof why) == -1 && strstr(why, "MWG"),
        "MWG %% VWM: %s", why);
  bad = p.programs[0];
  bad.xgemm[14] = 3; /* VWM 3 */
  CHECK(clgan_gemm_program_check(&bad, 0, 0, why, sizeof why) == -1, "VWM 3 accepted");
  bad = p.programs[0];
  bad.xgemm[3] = 3; /* KWI 3 does not divide KWG 16 */
  CHECK(clgan_gemm_program_check(&bad, 0, 0, why, sizeof why) == -1 && strstr(why, "KWI"),
        "KWG %% KWI: %s", why);
  bad = p.programs[0];
  bad.direct[9] = 64, bad.direct[0] = 2; /* WGD 64 with 4x4 threads, VW 4: fine ... */
  CHECK(clgan_gemm_program_check(&bad, 65536, 4096, why, sizeof why) == 0, "WGD 64: %s", why);
  CHECK(clgan_gemm_program_check(&bad, 16384, 4096, why, sizeof why) == -1 &&
            strstr(why, "local memory"),
        "... but not in 16 KiB of local memory: %s", why);
  bad = p.programs[0];
  bad.xgemm[5] = bad.xgemm[4] = 64, bad.xgemm[8] = bad.xgemm[7] = 64; /* 4096 items */
  bad.xgemm[6] = bad.xgemm[9] = 1024, bad.xgemm[2] = 64;
  CHECK(clgan_gemm_program_check(&bad, 0, 1024, why, sizeof why) == -1 && strstr(why, "work-group"),
        "work-group size: %s", why);
  bad = p.programs[0];
  bad.xgemm[0] = 1;
  CHECK(clgan_gemm_program_check(&bad, 0, 0, why, sizeof why) == -1, "GEMMK 1 accepted");
  clgan_gemm_plan_free(&p);

  clgan_device_info gpu = fake_device("NVIDIA CUDA", CL_DEVICE_TYPE_GPU);
  clgan_gemm_plan_builtin(&gpu, &p);
  CHECK(p.nprograms == 0 && p.fallback == -1 && p.gemv_small == 0,
        "other devices keep CLBlast's defaults");
  clgan_gemm_plan_free(&p);
}

/* Fitting to small devices: for every combination of limits, the fitted program and
 * CLBlast's other kernels fit (work-group, items per dimension, local memory, and the
 * fourfold XgemmDirect local memory Oclgrind charges to Xgemm); plans keep what fits. */
static void test_fit(void) {
  clgan_gemm_limits big = {4096, {4096, 4096}, 65536};
  CHECK(!clgan_gemm_limits_tight(&big), "POCL's limits are not tight");
  clgan_gemm_limits oclgrind = {1024, {1024, 1024}, 32768};
  CHECK(!clgan_gemm_limits_tight(&oclgrind), "Oclgrind's default limits are not tight");
  clgan_gemm_limits narrow = {1024, {1024, 16}, 65536};
  CHECK(clgan_gemm_limits_tight(&narrow), "16 items in dimension 1 is tight");
  static const size_t wgs[] = {1, 2, 3, 4, 8, 12, 16, 32, 48, 64, 100, 128, 255};
  static const size_t dims[] = {1, 2, 4, 16, 1024};
  static const unsigned long long mems[] = {64, 256, 512, 1024, 2048, 4096, 16384};
  int bad = 0;
  for (size_t a = 0; a < sizeof wgs / sizeof *wgs; a++)
    for (size_t b = 0; b < sizeof dims / sizeof *dims; b++)
      for (size_t c = 0; c < sizeof mems / sizeof *mems; c++) {
        clgan_gemm_limits l = {wgs[a], {dims[b], dims[b] > 2 ? dims[b] / 2 : dims[b]}, mems[c]};
        char why[200];
        clgan_gemm_program f;
        clgan_gemm_program_fit(&l, &f);
        const unsigned *d = f.direct;
        unsigned long long direct_local = 4ull * d[9] * (2ull * d[9] + d[5] + d[6]);
        if (clgan_gemm_program_fits(&f, &l, why, sizeof why) || 4 * direct_local > l.local_mem) {
          if (bad++ < 5)
            CHECK(0, "fit for %zu items (%zux%zu), %llu B: %s (direct %llu B)", l.max_wg,
                  l.max_item[0], l.max_item[1], l.local_mem, why, direct_local);
        }
        clgan_gemm_kernel_params k[CLGAN_GEMM_HELPER_KERNELS];
        clgan_gemm_helper_params(&l, k);
        for (int i = 0; i < CLGAN_GEMM_HELPER_KERNELS; i++)
          if (k[i].wg[0] * k[i].wg[1] > l.max_wg || k[i].wg[0] > l.max_item[0] ||
              k[i].wg[1] > l.max_item[1] || k[i].local_bytes > l.local_mem || !k[i].n) {
            if (bad++ < 5)
              CHECK(0, "%s for %zu items (%zux%zu), %llu B: %zux%zu, %llu B", k[i].kernel,
                    l.max_wg, l.max_item[0], l.max_item[1], l.local_mem, k[i].wg[0],
                    k[i].wg[1], k[i].local_bytes);
          }
      }
  CHECK(bad == 0, "%d misfits", bad);

  /* 8x8 groups where 64 items are allowed */
  clgan_gemm_limits l64 = {64, {64, 64}, 4096}, l16 = {16, {16, 16}, 2048};
  clgan_gemm_program f;
  clgan_gemm_program_fit(&l64, &f);
  CHECK(f.xgemm[5] == 8 && f.xgemm[8] == 8 && f.xgemm[10] == 0 && f.xgemm[11] == 0,
        "64 items: 8x8 Xgemm groups without local memory");

  /* a plan without programs gets the fitted one, for every shape */
  clgan_gemm_plan p;
  clgan_gemm_plan_init(&p);
  CHECK(clgan_gemm_plan_fit(&p, &big) == 0 && p.nprograms == 0 && p.fitted.max_wg == 0,
        "nothing changes on a big device");
  CHECK(clgan_gemm_plan_fit(&p, &l64) > 0 && p.nprograms == 1 && p.fallback == 0 &&
            p.gemv_small == 1 && p.fitted.max_wg == 64 && strstr(p.origin, "fitted to 64"),
        "CLBlast's defaults fitted: %d programs, origin '%s'", p.nprograms, p.origin);
  clgan_gemm_plan_free(&p);

  /* the built-in POCL plan on a small device: Xgemm (1 item, no local memory) stays, the
   * XgemmDirect half (4x4 groups, 8 KiB) is replaced; below 32-item groups the level-2
   * forms (CLBlast's Xgemv unrolls by 32) give way to the GEMM */
  clgan_device_info pocl = fake_device("Portable Computing Language", CL_DEVICE_TYPE_CPU);
  clgan_gemm_plan_builtin(&pocl, &p);
  clgan_gemm_program before = p.programs[0];
  clgan_gemm_choice ch[2] = {{{1, 0, 1, 6272, 64}, CLGAN_GEMM_USE_GEMV, 0, 0, 0},
                             {{0, 1, 128, 1024, 3136}, 0, 1, 0, 0}};
  p.choices = malloc(sizeof ch);
  memcpy(p.choices, ch, sizeof ch);
  p.nchoices = 2;
  CHECK(clgan_gemm_plan_fit(&p, &l16) == 3,
        "the program's XgemmDirect half replaced, one level-2 shape rerouted");
  CHECK(!memcmp(p.programs[0].xgemm, before.xgemm, sizeof before.xgemm) &&
            memcmp(p.programs[0].direct, before.direct, sizeof before.direct) &&
            p.programs[0].min_indirect == before.min_indirect,
        "Xgemm kept, XgemmDirect replaced");
  CHECK(p.gemv_small == 0 && p.choices[0].program == 0 && p.choices[1].program == 0,
        "level-2 forms off below 32 items");
  char why[200];
  CHECK(clgan_gemm_program_fits(&p.programs[0], &l16, why, sizeof why) == 0, "%s", why);
  clgan_gemm_plan_free(&p);

  /* through CLGAN_GEMM: fitted unless CLBlast is to be left alone */
  clgan_device_info small = pocl;
  small.max_work_group_size = 16;
  small.local_mem = 2048;
  clgan_gemm_plan_default(&small, &p, NULL, 0);
  CHECK(p.fitted.max_wg == 16 && p.nprograms == 1 && strstr(p.origin, "built-in"),
        "auto on a small device: '%s'", p.origin);
  clgan_gemm_plan_free(&p);
  setenv("CLGAN_GEMM", "builtin", 1);
  clgan_gemm_plan_default(&small, &p, NULL, 0);
  CHECK(p.fitted.max_wg == 16, "CLGAN_GEMM=builtin on a small device is fitted");
  clgan_gemm_plan_free(&p);
  setenv("CLGAN_GEMM", "clblast", 1);
  clgan_gemm_plan_default(&small, &p, NULL, 0);
  CHECK(p.fitted.max_wg == 0 && p.nprograms == 0, "CLGAN_GEMM=clblast leaves CLBlast alone");
  clgan_gemm_plan_free(&p);
  unsetenv("CLGAN_GEMM");
}

static void test_file(const char *dir) {
  clgan_device_info dev = fake_device("Portable Computing Language", CL_DEVICE_TYPE_CPU);
  clgan_gemm_plan p;
  clgan_gemm_plan_builtin(&dev, &p);
  p.nprograms = 2;
  p.programs[1] = p.programs[0];
  p.programs[1].min_indirect = CLGAN_GEMM_ALWAYS_DIRECT;
  p.programs[1].xgemm[2] = 32;
  /* every kind of entry: programs, and the three class routes (small_m and panel on, as in
   * the built-in plan; then off, which a tune may decide, must survive as off) */
  enum { NCH = 5 };
  clgan_gemm_choice ch[NCH] = {
      {{0, 1, 128, 1024, 3136}, 1, 1, 40.5, 10.25},
      {{1, 0, 1, 6272, 64}, CLGAN_GEMM_USE_GEMV, 0, 2.0, 1.0},
      {{0, 0, 7, 9, 11}, 0, 0, 1.0, 1.0},
      {{0, 1, 16, 12544, 48}, CLGAN_GEMM_USE_SMALL_M, 0, 90.0, 5.0},
      {{0, 0, 256, 2048, 784}, CLGAN_GEMM_USE_PANEL, 0, 180.0, 9.0},
  };
  p.fallback_layout = CLGAN_GEMM_LAYOUT_ROW;
  p.choices = malloc(sizeof ch);
  memcpy(p.choices, ch, sizeof ch);
  p.nchoices = NCH;
  char path[4300];
  snprintf(path, sizeof path, "%s/sub/plan.json", dir);
  CHECK_OK(clgan_gemm_plan_save(path, &dev, &p));
  clgan_gemm_plan q;
  CHECK_OK(clgan_gemm_plan_load(path, &dev, &q));
  CHECK(q.nprograms == 2 && q.nchoices == NCH && q.fallback == 0 && q.gemv_small == 1 &&
            q.fallback_layout == CLGAN_GEMM_LAYOUT_ROW && q.panel == 1 && q.small_m == 1,
        "round trip: %d programs, %d shapes, panel %d, small_m %d", q.nprograms, q.nchoices,
        q.panel, q.small_m);
  CHECK(!memcmp(q.programs, p.programs, sizeof p.programs[0] * 2), "programs survive");
  for (int i = 0; i < NCH && q.nchoices == NCH; i++)
    CHECK(!memcmp(&q.choices[i].shape, &ch[i].shape, sizeof ch[i].shape) &&
              q.choices[i].program == ch[i].program && q.choices[i].row_major == ch[i].row_major &&
              q.choices[i].gflops == ch[i].gflops,
          "shape %d survives", i);
  CHECK(strstr(q.origin, "tuned") != NULL, "origin '%s'", q.origin);
  clgan_gemm_plan_free(&q);
  {
    char p0[4300];
    snprintf(p0, sizeof p0, "%s/off.json", dir);
    p.panel = p.small_m = 0;
    CHECK_OK(clgan_gemm_plan_save(p0, &dev, &p));
    CHECK_OK(clgan_gemm_plan_load(p0, &dev, &q));
    CHECK(q.panel == 0 && q.small_m == 0 && q.nchoices == NCH, "the classes off survive as off");
    clgan_gemm_plan_free(&q);
    p.panel = p.small_m = 1;
  }

  /* the file is for one device, driver and clgan version */
  clgan_device_info other = dev;
  snprintf(other.driver_version, sizeof other.driver_version, "2.0");
  CHECK(clgan_gemm_plan_load(path, &other, &q) == CLGAN_ERR_MISMATCH, "another driver accepted");
  CHECK(strstr(clgan_last_error(), "clgan tune") != NULL, "message: %s", clgan_last_error());
  CHECK(q.nprograms == 0 && q.choices == NULL, "a refused file leaves CLBlast defaults");
  char p1[4300], p2[4300];
  CHECK(clgan_gemm_plan_path(&dev, p1, sizeof p1) == 0 &&
            clgan_gemm_plan_path(&other, p2, sizeof p2) == 0 && strcmp(p1, p2) != 0 &&
            strstr(p1, "/gemm/") != NULL,
        "per-driver file names: %s %s", p1, p2);

  /* damaged files: cut short, trailing bytes, wrong types, broken parameters */
  char *text = read_text(path);
  CHECK(text != NULL, "reading back %s", path);
  char bad[4300];
  snprintf(bad, sizeof bad, "%s/bad.json", dir);
  static char buf[1 << 16];
  if (text) {
    size_t n = strlen(text);
    snprintf(buf, sizeof buf, "%.*s", (int)(n / 2), text);
    write_text(bad, buf);
    CHECK(clgan_gemm_plan_load(bad, &dev, &q) == CLGAN_ERR_FORMAT, "half a file accepted");
    snprintf(buf, sizeof buf, "%s{}", text);
    write_text(bad, buf);
    CHECK(clgan_gemm_plan_load(bad, &dev, &q) == CLGAN_ERR_FORMAT, "trailing data accepted");
    snprintf(buf, sizeof buf, "%s", text);
    char *mwg = strstr(buf, "\"MWG\":16");
    CHECK(mwg != NULL, "MWG in the file");
    if (mwg) {
      memcpy(mwg, "\"MWG\":24", 8);
      write_text(bad, buf);
      CHECK(clgan_gemm_plan_load(bad, &dev, &q) == CLGAN_ERR_FORMAT &&
                strstr(clgan_last_error(), "MWG") != NULL,
            "a broken parameter set accepted: %s", clgan_last_error());
    }
    snprintf(buf, sizeof buf, "%s", text);
    char *prog = strstr(buf, "\"program\":1");
    CHECK(prog != NULL, "program index in the file");
    if (prog) {
      memcpy(prog, "\"program\":7", 11);
      write_text(bad, buf);
      CHECK(clgan_gemm_plan_load(bad, &dev, &q) == CLGAN_ERR_FORMAT,
            "a shape naming no program accepted");
    }
    /* a class route for a shape not of its class, or an unknown name: refused by name */
    static const struct {
      const char *from, *to, *why;
    } cls[] = {{"\"program\":\"small_m\"", "\"program\":\"panel\"  ", "panel class"},
               {"\"program\":\"panel\"", "\"program\":\"gemv\" ", "gemv class"},
               {"\"program\":\"panel\"", "\"program\":\"fast\" ", "'fast'"}};
    for (size_t j = 0; j < sizeof cls / sizeof cls[0]; j++) {
      snprintf(buf, sizeof buf, "%s", text);
      char *at = strstr(buf, cls[j].from);
      CHECK(at != NULL && strlen(cls[j].from) == strlen(cls[j].to), "%s in the file", cls[j].from);
      if (!at) continue;
      memcpy(at, cls[j].to, strlen(cls[j].to));
      write_text(bad, buf);
      CHECK(clgan_gemm_plan_load(bad, &dev, &q) == CLGAN_ERR_FORMAT &&
                strstr(clgan_last_error(), cls[j].why) != NULL,
            "%s accepted: %s", cls[j].to, clgan_last_error());
    }
  }
  write_text(bad, "");
  CHECK(clgan_gemm_plan_load(bad, &dev, &q) == CLGAN_ERR_FORMAT, "an empty file accepted");
  write_text(bad, "[1, 2]");
  CHECK(clgan_gemm_plan_load(bad, &dev, &q) == CLGAN_ERR_FORMAT, "an array accepted");

  /* the choice for a context: CLGAN_GEMM */
  char note[600];
  setenv("CLGAN_GEMM", bad, 1);
  clgan_gemm_plan_default(&dev, &q, note, sizeof note);
  CHECK(q.nprograms == 1 && strstr(q.origin, "built-in") && strstr(note, "ignored"),
        "a corrupt plan falls back to the built-in: '%s' / '%s'", q.origin, note);
  clgan_gemm_plan_free(&q);
  setenv("CLGAN_GEMM", path, 1);
  clgan_gemm_plan_default(&dev, &q, note, sizeof note);
  CHECK(q.nprograms == 2 && note[0] == '\0', "CLGAN_GEMM=FILE: %s", note);
  clgan_gemm_plan_free(&q);
  setenv("CLGAN_GEMM", "clblast", 1);
  clgan_gemm_plan_default(&dev, &q, note, sizeof note);
  CHECK(q.nprograms == 0 && q.fallback == -1 && !q.gemv_small, "CLGAN_GEMM=clblast");
  clgan_gemm_plan_free(&q);
  setenv("CLGAN_GEMM", "builtin", 1);
  clgan_gemm_plan_default(&dev, &q, note, sizeof note);
  CHECK(q.nprograms == 1 && q.panel && strstr(q.origin, "built-in"), "CLGAN_GEMM=builtin");
  clgan_gemm_plan_free(&q);
  /* auto: the device's own file in the cache folder, when there is one */
  unsetenv("CLGAN_GEMM");
  clgan_gemm_plan_default(&dev, &q, note, sizeof note);
  CHECK(q.nprograms == 1 && q.panel == 1 && note[0] == '\0',
        "no tuned file: built-in, no note ('%s')", note);
  clgan_gemm_plan_free(&q);
  CHECK_OK(clgan_gemm_plan_save(p1, &dev, &p));
  clgan_gemm_plan_default(&dev, &q, note, sizeof note);
  CHECK(q.nprograms == 2 && strstr(q.origin, "tuned"), "the tuned file is found: %s", q.origin);
  clgan_gemm_plan_free(&q);
  write_text(p1, "{\"format\": \"clgan-gemm-plan\"");
  clgan_gemm_plan_default(&dev, &q, note, sizeof note);
  CHECK(q.nprograms == 1 && strstr(q.origin, "built-in") && strstr(note, "ignored"),
        "a damaged tuned file is ignored: %s", note);
  clgan_gemm_plan_free(&q);
  setenv("CLGAN_CACHE", "0", 1);
  CHECK(clgan_gemm_plan_path(&dev, p2, sizeof p2) == -1, "CLGAN_CACHE=0 has no path");
  unsetenv("CLGAN_CACHE");

  /* copies own their shapes */
  CHECK_OK(clgan_gemm_plan_copy(&p, &q));
  CHECK(q.choices != p.choices && q.nchoices == NCH, "copy");
  clgan_gemm_plan_free(&q);
  clgan_gemm_plan_free(&p);
  CHECK(p.choices == NULL && p.nprograms == 0, "free leaves an empty plan");
}

/* Merging a new tune into the plan on disk: shapes measured now take the new result, the
 * others keep their entries and programs (equal programs shared), up to the program limit;
 * beyond it older entries are dropped, never the new ones. */
static clgan_gemm_program prog_with_kwg(const clgan_gemm_program *base, unsigned kwg) {
  clgan_gemm_program q = *base;
  q.xgemm[2] = kwg; /* KWG */
  return q;
}

static const clgan_gemm_choice *find_choice(const clgan_gemm_plan *p, size_t m) {
  for (int i = 0; i < p->nchoices; i++)
    if (p->choices[i].shape.m == m) return &p->choices[i];
  return NULL;
}

static void test_merge(const char *dir) {
  clgan_device_info dev = fake_device("Portable Computing Language", CL_DEVICE_TYPE_CPU);
  clgan_gemm_plan b;
  clgan_gemm_plan_builtin(&dev, &b);
  clgan_gemm_program A = b.programs[0], B = prog_with_kwg(&A, 32), C = prog_with_kwg(&A, 64);
  clgan_gemm_plan_free(&b);
  /* the older plan: programs A (fallback) and B; shapes by m: 1 A, 2 B, 3 Sgemv, 4 A (tuned
   * again now), 5 B (in the new run, but no candidate ran it), 7 B (measured now, CLBlast's
   * own won: no new entry), 1 again (a duplicate), 8 the panel kernel (needs no program, so
   * it is kept whatever the program limit) */
  clgan_gemm_choice oc[] = {
      {{0, 0, 1, 8, 8}, 0, 1, 10, 1},  {{0, 0, 2, 8, 8}, 1, 0, 20, 1},
      {{1, 0, 3, 1, 8}, CLGAN_GEMM_USE_GEMV, 0, 30, 1},
      {{0, 0, 4, 8, 8}, 0, 1, 40, 1}, {{0, 0, 5, 8, 8}, 1, 1, 50, 1},
      {{0, 0, 7, 8, 8}, 1, 1, 70, 1}, {{0, 0, 1, 8, 8}, 1, 0, 99, 1},
      {{0, 0, 8, 8, 64}, CLGAN_GEMM_USE_PANEL, 0, 80, 1},
  };
  enum { NOLD = sizeof oc / sizeof *oc };
  clgan_gemm_plan old;
  clgan_gemm_plan_init(&old);
  old.nprograms = 2, old.programs[0] = A, old.programs[1] = B;
  old.fallback = 0, old.gemv_small = 1, old.fallback_layout = CLGAN_GEMM_LAYOUT_AUTO;
  old.choices = malloc(sizeof oc);
  memcpy(old.choices, oc, sizeof oc);
  old.nchoices = NOLD;
  /* the new run: programs C (fallback) and A; shape 4 on C, shape 6 (new) on A */
  clgan_gemm_choice nc[] = {{{0, 0, 4, 8, 8}, 0, 0, 400, 1}, {{0, 0, 6, 8, 8}, 1, 1, 600, 1}};
  clgan_gemm_shape measured[] = {{0, 0, 4, 8, 8}, {0, 0, 6, 8, 8}, {0, 0, 7, 8, 8}};
  clgan_gemm_plan fresh, p;
  clgan_gemm_plan_init(&fresh);
  snprintf(fresh.origin, sizeof fresh.origin, "tuned");
  fresh.nprograms = 2, fresh.programs[0] = C, fresh.programs[1] = A;
  fresh.fallback = 0, fresh.gemv_small = 0, fresh.fallback_layout = CLGAN_GEMM_LAYOUT_ROW;
  fresh.choices = malloc(sizeof nc);
  memcpy(fresh.choices, nc, sizeof nc);
  fresh.nchoices = 2;

  /* room for three programs: everything older that was not measured now is kept */
  int fate[NOLD];
  clgan_gemm_merge_info info;
  CHECK_OK(clgan_gemm_plan_copy(&fresh, &p));
  CHECK_OK(clgan_gemm_plan_merge(&p, &old, measured, 3, 3, fate, &info));
  CHECK(info.kept == 5 && info.replaced == 3 && info.dropped == 0 && info.programs_added == 1 &&
            info.programs_wanted == 3 && !info.old_settings,
        "merge, 3 programs: kept %d replaced %d dropped %d added %d wanted %d", info.kept,
        info.replaced, info.dropped, info.programs_added, info.programs_wanted);
  CHECK(p.nprograms == 3 && same_program(&p.programs[0], &C) && same_program(&p.programs[1], &A) &&
            same_program(&p.programs[2], &B),
        "merge: the new programs first, then B (A shared)");
  CHECK(p.nchoices == 7 && p.fallback == 0 && p.gemv_small == 0 &&
            p.fallback_layout == CLGAN_GEMM_LAYOUT_ROW,
        "merge: 7 shapes (%d), the new plan-wide settings", p.nchoices);
  const clgan_gemm_choice *e;
  CHECK((e = find_choice(&p, 1)) && e->program == 1 && e->row_major == 1 && e->gflops == 10,
        "shape 1 kept on A (now 1)");
  CHECK((e = find_choice(&p, 2)) && e->program == 2 && e->row_major == 0, "shape 2 kept on B (now 2)");
  CHECK((e = find_choice(&p, 3)) && e->program == CLGAN_GEMM_USE_GEMV, "shape 3 kept as Sgemv");
  CHECK((e = find_choice(&p, 4)) && e->program == 0 && e->gflops == 400, "shape 4: the new result");
  CHECK((e = find_choice(&p, 5)) && e->program == 2 && e->gflops == 50,
        "shape 5 (no candidate ran it now) keeps its entry");
  CHECK((e = find_choice(&p, 6)) && e->program == 1, "shape 6: new");
  CHECK(!find_choice(&p, 7), "shape 7: measured now, CLBlast's own won: the older entry goes");
  CHECK((e = find_choice(&p, 8)) && e->program == CLGAN_GEMM_USE_PANEL, "shape 8 kept as panel");
  static const int want3[NOLD] = {0, 0, 0, 1, 0, 1, 1, 0};
  CHECK(!memcmp(fate, want3, sizeof fate), "fates with 3 programs");
  /* the merged plan is a valid file */
  char path[4300];
  snprintf(path, sizeof path, "%s/merged.json", dir);
  CHECK_OK(clgan_gemm_plan_save(path, &dev, &p));
  clgan_gemm_plan q;
  CHECK_OK(clgan_gemm_plan_load(path, &dev, &q));
  CHECK(q.nprograms == 3 && q.nchoices == 7, "the merged plan loads back");
  clgan_gemm_plan_free(&q);
  clgan_gemm_plan_free(&p);

  /* room for two: B does not fit, so the older entries on B (shapes 2 and 5) are dropped;
   * the new programs always stay */
  CHECK_OK(clgan_gemm_plan_copy(&fresh, &p));
  CHECK_OK(clgan_gemm_plan_merge(&p, &old, measured, 3, 2, fate, &info));
  static const int want2[NOLD] = {0, 2, 0, 1, 2, 1, 1, 0};
  CHECK(info.kept == 3 && info.dropped == 2 && info.programs_added == 0 &&
            info.programs_wanted == 3 && p.nprograms == 2 && p.nchoices == 5 &&
            !memcmp(fate, want2, sizeof fate),
        "merge, 2 programs: kept %d dropped %d, %d programs, %d shapes", info.kept, info.dropped,
        p.nprograms, p.nchoices);
  CHECK(!find_choice(&p, 2) && !find_choice(&p, 5) && find_choice(&p, 1) && find_choice(&p, 8),
        "B's shapes dropped, the panel entry kept");
  clgan_gemm_plan_free(&p);
  CHECK_OK(clgan_gemm_plan_copy(&fresh, &p));
  CHECK_OK(clgan_gemm_plan_merge(&p, &old, measured, 3, 1, NULL, &info));
  CHECK(p.nprograms == 2 && info.programs_added == 0, "the new programs stay above the limit");
  clgan_gemm_plan_free(&p);

  /* a new run that chose no program (CLBlast's own won): the older fallback program and its
   * settings stay for shapes not listed, carried first */
  clgan_gemm_plan none;
  clgan_gemm_plan_init(&none);
  CHECK_OK(clgan_gemm_plan_merge(&none, &old, measured, 3, 2, NULL, &info));
  CHECK(info.old_settings && none.nprograms == 2 && same_program(&none.programs[0], &A) &&
            none.fallback == 0 && none.gemv_small == 1 &&
            none.fallback_layout == CLGAN_GEMM_LAYOUT_AUTO && none.nchoices == 5,
        "no new program: %d programs, fallback %d, %d shapes", none.nprograms, none.fallback,
        none.nchoices);
  clgan_gemm_plan_free(&none);

  /* nothing older: unchanged */
  clgan_gemm_plan empty;
  clgan_gemm_plan_init(&empty);
  CHECK_OK(clgan_gemm_plan_copy(&fresh, &p));
  CHECK_OK(clgan_gemm_plan_merge(&p, &empty, NULL, 0, 2, NULL, &info));
  CHECK(p.nprograms == 2 && p.nchoices == 2 && info.kept == 0 && info.replaced == 0,
        "merging an empty plan changes nothing");
  clgan_gemm_plan_free(&p);
  clgan_gemm_plan_free(&fresh);
  clgan_gemm_plan_free(&old);
}

int main(void) {
  char dir[] = "/tmp/clgan-test-plan-XXXXXX";
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  setenv("CLGAN_CACHE_DIR", dir, 1);
  unsetenv("CLGAN_GEMM");
  unsetenv("CLGAN_CACHE");
  test_constraints();
  test_fit();
  test_file(dir);
  test_merge(dir);
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return tu_finish("test_gemm_plan");
}
