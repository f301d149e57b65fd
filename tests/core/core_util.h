/* Helpers for tests/core/: temp folders, writing kernel files, counting cache entries.
 * Header-only so each test stays one executable. */
#ifndef CLGAN_CORE_UTIL_H
#define CLGAN_CORE_UTIL_H

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fresh empty folder under $TMPDIR (or /tmp); exits on failure. Caller frees. */
static inline char *cu_temp_dir(const char *tag) {
  const char *base = getenv("TMPDIR");
  char *path = malloc(4096);
  if (!path) exit(1);
  snprintf(path, 4096, "%s/clgan-%s-XXXXXX", base && *base ? base : "/tmp", tag);
  if (!mkdtemp(path)) {
    perror("mkdtemp");
    exit(1);
  }
  return path;
}

static inline int cu_rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f) {
  (void)sb;
  (void)flag;
  (void)f;
  return remove(p);
}

static inline void cu_rm_tree(const char *dir) {
  nftw(dir, cu_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void cu_write(const char *dir, const char *name, const char *text) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
    fprintf(stderr, "FAIL: cannot write %s\n", path);
    exit(1);
  }
}

/* Number of names in dir that contain `part` (-1 if dir cannot be read); the first such
 * name goes to first_out when given. */
static inline int cu_count(const char *dir, const char *part, char *first_out, size_t cap) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.' || !strstr(e->d_name, part)) continue;
    if (n == 0 && first_out) snprintf(first_out, cap, "%s/%s", dir, e->d_name);
    n++;
  }
  closedir(d);
  return n;
}

static inline long cu_file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

#endif
