/* GEMM plans without a device: parameter constraints, fitting to small devices, the
 * built-in choice, the tuned-plan file (round trip, atomic replace, corrupt / foreign / invalid files refused, the
 * CLGAN_GEMM selection with its fallbacks). */
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

static void test_constraints(void) {
  clgan_device_info pocl = fake_device("Portable Computing Language", CL_DEVICE_TYPE_CPU);
  clgan_gemm_plan p;
  clgan_gemm_plan_builtin(&pocl, &p);
  CHECK(p.nprograms == 1 && p.fallback == 0 && p.gemv_small == 1 &&
            p.fallback_layout == CLGAN_GEMM_LAYOUT_AUTO,
        "POCL CPU gets the built-in");
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
  CHECK(clgan_gemm_plan_fit(&p, &l16) == 3, "one half replaced, one level-2 shape rerouted");
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
  clgan_gemm_choice ch[3] = {
      {{0, 1, 128, 1024, 3136}, 1, 1, 40.5, 10.25},
      {{1, 0, 1, 6272, 64}, CLGAN_GEMM_USE_GEMV, 0, 2.0, 1.0},
      {{0, 0, 7, 9, 11}, 0, 0, 1.0, 1.0},
  };
  p.fallback_layout = CLGAN_GEMM_LAYOUT_ROW;
  p.choices = malloc(sizeof ch);
  memcpy(p.choices, ch, sizeof ch);
  p.nchoices = 3;
  char path[4300];
  snprintf(path, sizeof path, "%s/sub/plan.json", dir);
  CHECK_OK(clgan_gemm_plan_save(path, &dev, &p));
  clgan_gemm_plan q;
  CHECK_OK(clgan_gemm_plan_load(path, &dev, &q));
  CHECK(q.nprograms == 2 && q.nchoices == 3 && q.fallback == 0 && q.gemv_small == 1 &&
            q.fallback_layout == CLGAN_GEMM_LAYOUT_ROW,
        "round trip: %d programs, %d shapes", q.nprograms, q.nchoices);
  CHECK(!memcmp(q.programs, p.programs, sizeof p.programs[0] * 2), "programs survive");
  for (int i = 0; i < 3 && q.nchoices == 3; i++)
    CHECK(!memcmp(&q.choices[i].shape, &ch[i].shape, sizeof ch[i].shape) &&
              q.choices[i].program == ch[i].program && q.choices[i].row_major == ch[i].row_major &&
              q.choices[i].gflops == ch[i].gflops,
          "shape %d survives", i);
  CHECK(strstr(q.origin, "tuned") != NULL, "origin '%s'", q.origin);
  clgan_gemm_plan_free(&q);

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
  CHECK(q.nprograms == 1 && strstr(q.origin, "built-in"), "CLGAN_GEMM=builtin");
  clgan_gemm_plan_free(&q);
  /* auto: the device's own file in the cache folder, when there is one */
  unsetenv("CLGAN_GEMM");
  clgan_gemm_plan_default(&dev, &q, note, sizeof note);
  CHECK(q.nprograms == 1 && note[0] == '\0', "no tuned file: built-in, no note ('%s')", note);
  clgan_gemm_plan_free(&q);
  CHECK_OK(clgan_gemm_plan_save(p1, &dev, &p));
  clgan_gemm_plan_default(&dev, &q, note, sizeof note);
  CHECK(q.nprograms == 2 && strstr(q.origin, "tuned"), "the tuned file is found: %s", q.origin);
  clgan_gemm_plan_free(&q);
  write_text(p1, "{\"format\": \"clgan-gemm-plan\"");
  clgan_gemm_plan_default(&dev, &q, note, sizeof note);
  CHECK(q.nprograms == 1 && strstr(note, "ignored"), "a damaged tuned file is ignored: %s", note);
  clgan_gemm_plan_free(&q);
  setenv("CLGAN_CACHE", "0", 1);
  CHECK(clgan_gemm_plan_path(&dev, p2, sizeof p2) == -1, "CLGAN_CACHE=0 has no path");
  unsetenv("CLGAN_CACHE");

  /* copies own their shapes */
  CHECK_OK(clgan_gemm_plan_copy(&p, &q));
  CHECK(q.choices != p.choices && q.nchoices == 3, "copy");
  clgan_gemm_plan_free(&q);
  clgan_gemm_plan_free(&p);
  CHECK(p.choices == NULL && p.nprograms == 0, "free leaves an empty plan");
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
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return tu_finish("test_gemm_plan");
}
