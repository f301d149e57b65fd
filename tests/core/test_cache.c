/* The on-disk kernel cache on the device: miss writes one entry, a new context loads it,
 * damaged entries are rebuilt and replaced, CLGAN_CACHE=0 writes nothing, a changed source
 * gets its own key. `test_cache concurrent` races several processes on one empty cache.
 * Each case uses its own empty cache folder and a private kernel file. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/wait.h>

#include "core_util.h"
#include "test_util.h"

#define HEADER 88 /* src/device/program.c's cache header size */

static const char *probe_src =
    "__kernel void probe(__global float *x, const float v) {\n"
    "  x[get_global_id(0)] = 2.0f * v;\n"
    "}\n";

static char *kernel_dir;

/* Builds kernels/cacheprobe.cl in a new context, runs it, and returns where the program
 * came from (-1 if anything failed). */
static int build_probe(void) {
  clgan_ctx *ctx = tu_open_device();
  cl_program p;
  clgan_build_origin origin;
  cl_kernel k;
  int result = -1;
  clgan_status s = clgan_program_get(ctx, "cacheprobe", &p, &origin);
  CHECK_OK(s);
  if (s == CLGAN_OK) s = clgan_kernel_get(ctx, "cacheprobe", "probe", &k);
  if (s == CLGAN_OK) {
    enum { N = 8 };
    float v = 1.25f, got[N];
    cl_mem m = tu_upload(ctx, NULL, N);
    clgan_karg args[] = {CLGAN_KARG(m), CLGAN_KARG(v)};
    size_t global = N;
    s = clgan_set_args(k, "probe", 2, args);
    if (s == CLGAN_OK) s = clgan_launch(ctx, k, "probe", 1, &global, NULL);
    CHECK_OK(s);
    if (s == CLGAN_OK) {
      tu_download(ctx, m, 0, N, got);
      int ok = 1;
      for (int i = 0; i < N; i++) ok &= got[i] == 2.5f;
      CHECK(ok, "the program from %s computes the right values",
            origin == CLGAN_BUILT_DISK_CACHE ? "the cache" : "source");
      if (ok) result = (int)origin;
    }
    clgan_buffer_release(&m);
  }
  clgan_ctx_free(ctx);
  return result;
}

static char *fresh_cache(void) {
  char *dir = cu_temp_dir("cache");
  setenv("CLGAN_CACHE_DIR", dir, 1);
  return dir;
}

/* The one entry in dir, checked for shape: magic and a payload size that fits the file. */
static int entry_ok(const char *dir, char *path, size_t cap) {
  int n = cu_count(dir, ".bin", path, cap);
  CHECK(n == 1, "exactly one cache entry, found %d", n);
  CHECK(cu_count(dir, ".tmp.", NULL, 0) == 0, "no temp files left in %s", dir);
  if (n != 1) return 0;
  unsigned char hdr[HEADER];
  FILE *f = fopen(path, "rb");
  size_t got = f ? fread(hdr, 1, HEADER, f) : 0;
  if (f) fclose(f);
  uint64_t payload = 0;
  if (got == HEADER) memcpy(&payload, hdr + 48, 8);
  int ok = got == HEADER && memcmp(hdr, "CLGANBIN", 8) == 0 && payload > 0 &&
           (long)(payload + HEADER) == cu_file_size(path);
  CHECK(ok, "entry %s has a valid header (size %ld, payload %llu)", path, cu_file_size(path),
        (unsigned long long)payload);
  return ok;
}

static void flip_byte(const char *path, long at, unsigned char mask) {
  int fd = open(path, O_RDWR);
  unsigned char b = 0;
  if (fd < 0 || pread(fd, &b, 1, at) != 1) exit(1);
  b ^= mask;
  if (pwrite(fd, &b, 1, at) != 1) exit(1);
  close(fd);
}

static void check_miss_then_hit(void) {
  char *dir = fresh_cache();
  char path[4200];
  CHECK(build_probe() == CLGAN_BUILT_SOURCE, "empty cache: built from source");
  entry_ok(dir, path, sizeof path);
  CHECK(build_probe() == CLGAN_BUILT_DISK_CACHE, "new context: loaded from the cache");
  CHECK(cu_count(dir, "", NULL, 0) == 1, "loading writes nothing more");
  cu_rm_tree(dir);
  free(dir);
}

/* A damaged entry is detected, rebuilt from source and replaced by a valid one. */
static void check_damage(const char *what) {
  char *dir = fresh_cache();
  char path[4200];
  CHECK(build_probe() == CLGAN_BUILT_SOURCE, "%s: first build", what);
  if (!entry_ok(dir, path, sizeof path)) return;
  long size = cu_file_size(path);
  if (!strcmp(what, "truncated")) {
    CHECK(truncate(path, size / 2) == 0, "truncate");
  } else if (!strcmp(what, "header only")) {
    CHECK(truncate(path, HEADER) == 0, "truncate");
  } else if (!strcmp(what, "empty")) {
    CHECK(truncate(path, 0) == 0, "truncate");
  } else if (!strcmp(what, "payload byte")) {
    flip_byte(path, HEADER + (size - HEADER) / 2, 0x10);
  } else if (!strcmp(what, "last byte")) {
    flip_byte(path, size - 1, 0x01);
  } else if (!strcmp(what, "magic")) {
    flip_byte(path, 0, 0x20);
  } else if (!strcmp(what, "format")) {
    flip_byte(path, 8, 0x02);
  } else if (!strcmp(what, "key")) {
    flip_byte(path, 16, 0x01);
  } else if (!strcmp(what, "size field")) {
    flip_byte(path, 48, 0x04);
  } else if (!strcmp(what, "checksum")) {
    flip_byte(path, 56, 0x01);
  } else if (!strcmp(what, "appended")) {
    FILE *f = fopen(path, "ab");
    CHECK(f && fputs("junk", f) >= 0 && fclose(f) == 0, "append");
  }
  CHECK(build_probe() == CLGAN_BUILT_SOURCE, "%s entry: not trusted, rebuilt from source", what);
  CHECK(entry_ok(dir, path, sizeof path), "%s entry: replaced by a valid one", what);
  CHECK(cu_file_size(path) == size, "%s entry: replaced, size %ld want %ld", what,
        cu_file_size(path), size);
  CHECK(build_probe() == CLGAN_BUILT_DISK_CACHE, "%s entry: the replacement loads", what);
  cu_rm_tree(dir);
  free(dir);
}

static void check_disabled(void) {
  char *dir = fresh_cache();
  setenv("CLGAN_CACHE", "0", 1);
  CHECK(build_probe() == CLGAN_BUILT_SOURCE, "CLGAN_CACHE=0: from source");
  CHECK(build_probe() == CLGAN_BUILT_SOURCE, "CLGAN_CACHE=0: from source again");
  CHECK(cu_count(dir, "", NULL, 0) == 0, "CLGAN_CACHE=0 writes nothing");
  unsetenv("CLGAN_CACHE");
  cu_rm_tree(dir);
  free(dir);
}

static void check_changed_source(void) {
  char *dir = fresh_cache();
  CHECK(build_probe() == CLGAN_BUILT_SOURCE, "original source");
  char changed[512];
  snprintf(changed, sizeof changed, "/* changed */\n%s", probe_src);
  cu_write(kernel_dir, "cacheprobe.cl", changed);
  CHECK(build_probe() == CLGAN_BUILT_SOURCE, "a changed source is a miss");
  CHECK(cu_count(dir, ".bin", NULL, 0) == 2, "changed source: its own entry");
  cu_write(kernel_dir, "cacheprobe.cl", probe_src);
  CHECK(build_probe() == CLGAN_BUILT_DISK_CACHE, "original source: its entry still there");
  cu_rm_tree(dir);
  free(dir);
}

/* A cache that cannot be written costs time, never correctness. */
static void check_unwritable(void) {
  char *dir = cu_temp_dir("cache-file");
  char blocker[4200];
  snprintf(blocker, sizeof blocker, "%s/not-a-dir", dir);
  cu_write(dir, "not-a-dir", "x");
  setenv("CLGAN_CACHE_DIR", blocker, 1);
  CHECK(build_probe() == CLGAN_BUILT_SOURCE, "unusable cache folder: still builds");
  CHECK(clgan_last_status() == CLGAN_OK, "a dropped cache write leaves no stale error: %s",
        clgan_last_error());
  cu_rm_tree(dir);
  free(dir);
}

/* Several processes build into one empty cache at the same moment: every one succeeds,
 * one valid entry remains, no temp file is left. The children fork before this process
 * touches OpenCL (a driver's threads do not survive fork). */
static int check_concurrent(void) {
  enum { KIDS = 3 };
  char *dir = fresh_cache();
  /* a private driver cache too, so each child really compiles and the writes overlap */
  char *pocl = cu_temp_dir("pocl-cache");
  setenv("POCL_CACHE_DIR", pocl, 1);
  int gate[2];
  if (pipe(gate) != 0) return 1;
  pid_t kids[KIDS];
  for (int i = 0; i < KIDS; i++) {
    kids[i] = fork();
    if (kids[i] < 0) return 1;
    if (kids[i] == 0) {
      char c;
      close(gate[1]);
      while (read(gate[0], &c, 1) < 0 && errno == EINTR) {
      }
      int origin = build_probe();
      _exit(origin == CLGAN_BUILT_SOURCE ? 0 : origin == CLGAN_BUILT_DISK_CACHE ? 2 : 1);
    }
  }
  close(gate[0]);
  close(gate[1]); /* opens the gate for all at once */
  int from_source = 0, skipped = 0;
  for (int i = 0; i < KIDS; i++) {
    int st = 0;
    waitpid(kids[i], &st, 0);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    skipped += code == TU_SKIP;
    from_source += code == 0;
    CHECK(code == 0 || code == 2 || code == TU_SKIP, "child %d failed with status %d", i, code);
  }
  if (skipped == KIDS) {
    printf("SKIP: no OpenCL device\n");
    return TU_SKIP;
  }
  printf("%d of %d processes compiled, the others loaded the cache\n", from_source, KIDS);
  char path[4200];
  entry_ok(dir, path, sizeof path);
  CHECK(build_probe() == CLGAN_BUILT_DISK_CACHE, "the surviving entry loads");
  cu_rm_tree(dir);
  cu_rm_tree(pocl);
  free(dir);
  free(pocl);
  return tu_finish("cache concurrent");
}

int main(int argc, char **argv) {
  unsetenv("CLGAN_CACHE");
  kernel_dir = cu_temp_dir("cache-kernels");
  cu_write(kernel_dir, "cacheprobe.cl", probe_src);
  setenv("CLGAN_KERNEL_DIR", kernel_dir, 1);
  int rc;
  if (argc > 1 && !strcmp(argv[1], "concurrent")) {
    rc = check_concurrent();
  } else {
    check_miss_then_hit();
    const char *damage[] = {"truncated", "header only", "empty",  "payload byte",
                            "last byte", "magic",       "format", "key",
                            "size field", "checksum",   "appended"};
    for (size_t i = 0; i < sizeof damage / sizeof *damage; i++) check_damage(damage[i]);
    check_disabled();
    check_changed_source();
    check_unwritable();
    rc = tu_finish("cache");
  }
  cu_rm_tree(kernel_dir);
  free(kernel_dir);
  return rc;
}
