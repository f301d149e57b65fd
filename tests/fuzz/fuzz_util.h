/* Shared by the fuzz targets: inputs become files (clgan's readers take paths) in a
 * scratch folder on tmpfs when there is one, removed at exit. Built two ways by
 * tests/fuzz/meson.build: with libFuzzer (-fsanitize=fuzzer, clang) to fuzz, and with
 * replay_main.c to replay the corpora and regressions as ordinary host tests. */
#ifndef CLGAN_FUZZ_UTIL_H
#define CLGAN_FUZZ_UTIL_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_dir[256];

static inline void fz_rm_tree(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char p[1024];
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) continue;
    struct stat st;
    if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) fz_rm_tree(p);
    else unlink(p);
  }
  closedir(d);
  rmdir(dir);
}

static inline void fz_cleanup(void) {
  if (fz_dir[0]) fz_rm_tree(fz_dir);
}

/* "<scratch>/<name>"; the scratch folder is made on first use. Aborts if it cannot be:
 * a harness that silently tests nothing would look like a pass. */
static inline const char *fz_path(const char *name) {
  static char bufs[4][1024];
  static int next = 0;
  if (!fz_dir[0]) {
    struct stat st;
    const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
                           ? "/dev/shm" : getenv("TMPDIR");
    snprintf(fz_dir, sizeof fz_dir, "%s/clgan-fuzz-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(fz_dir)) {
      perror("fuzz: mkdtemp");
      abort();
    }
    atexit(fz_cleanup);
  }
  char *b = bufs[next++ % 4];
  snprintf(b, sizeof bufs[0], "%s/%s", fz_dir, name);
  return b;
}

/* Writes n bytes to <scratch>/<name> (replacing it) and returns its path. */
static inline const char *fz_write(const char *name, const void *data, size_t n) {
  const char *p = fz_path(name);
  FILE *f = fopen(p, "wb");
  if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
    perror("fuzz: writing the input file");
    abort();
  }
  return p;
}

static inline void fz_remove(const char *name) { unlink(fz_path(name)); }

#endif
