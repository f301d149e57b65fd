/* Small file helpers: atomic writes, whole-file reads, mkdir -p, SHA-256 (libcrypto).
 * Tests: tests/core/test_cache.c, tests/core/test_program_unit.c */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

void clgan_sha256(const void *data, size_t n, uint8_t out[32]) {
  unsigned int len = 32;
  EVP_Digest(data, n, out, &len, EVP_sha256(), NULL);
}

void clgan_hex(const uint8_t *b, size_t n, char *out) {
  static const char d[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = d[b[i] >> 4];
    out[2 * i + 1] = d[b[i] & 15];
  }
  out[2 * n] = '\0';
}

clgan_status clgan_mkdirs(const char *path) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
    return clgan_error(CLGAN_ERR_IO, "path too long: %s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
      return clgan_error(CLGAN_ERR_IO, "cannot create directory '%s': %s", buf, strerror(errno));
    *p = '/';
  }
  if (mkdir(buf, 0755) != 0 && errno != EEXIST)
    return clgan_error(CLGAN_ERR_IO, "cannot create directory '%s': %s", buf, strerror(errno));
  return CLGAN_OK;
}

clgan_status clgan_write_file_atomic(const char *path, const void *const *parts,
                                     const size_t *sizes, int nparts) {
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 32);
  if (!tmp) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory writing '%s'", path);
  snprintf(tmp, plen + 32, "%s.tmp.XXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    clgan_status s = clgan_error(CLGAN_ERR_IO, "cannot create temporary file for '%s': %s",
                                 path, strerror(errno));
    free(tmp);
    return s;
  }
  /* mkstemp creates 0600; a grid or checkpoint should get the usual 0666 & ~umask */
  mode_t um = umask(0);
  umask(um);
  fchmod(fd, 0666 & ~um);
  for (int i = 0; i < nparts; i++) {
    const char *p = parts[i];
    size_t left = sizes[i];
    while (left > 0) {
      ssize_t w = write(fd, p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        int err = w < 0 ? errno : ENOSPC;
        close(fd);
        unlink(tmp);
        free(tmp);
        return clgan_error(CLGAN_ERR_IO, "writing '%s' failed: %s (the previous file, if any, "
                           "is unchanged)", path, strerror(err));
      }
      p += w;
      left -= (size_t)w;
    }
  }
  int synced = fsync(fd) == 0;
  int err = errno;
  if (close(fd) != 0 && synced) {
    synced = 0;
    err = errno;
  }
  if (!synced) {
    unlink(tmp);
    free(tmp);
    return clgan_error(CLGAN_ERR_IO, "flushing '%s' failed: %s (the previous file, if any, is "
                       "unchanged)", path, strerror(err));
  }
  if (rename(tmp, path) != 0) {
    err = errno;
    unlink(tmp);
    free(tmp);
    return clgan_error(CLGAN_ERR_IO, "renaming into '%s' failed: %s", path, strerror(err));
  }
  /* make the rename itself durable */
  char *dcopy = strdup(path);
  if (dcopy) {
    int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
      fsync(dfd);
      close(dfd);
    }
    free(dcopy);
  }
  free(tmp);
  return CLGAN_OK;
}

clgan_status clgan_read_file(const char *path, size_t max_bytes, void **data, size_t *size) {
  *data = NULL;
  *size = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return clgan_error(CLGAN_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return clgan_error(CLGAN_ERR_IO, "'%s' is not a regular file", path);
  }
  if ((unsigned long long)st.st_size > max_bytes) {
    fclose(f);
    return clgan_error(CLGAN_ERR_FORMAT, "'%s' is %lld bytes, more than the %zu allowed", path,
                       (long long)st.st_size, max_bytes);
  }
  size_t n = (size_t)st.st_size;
  char *buf = malloc(n + 1);
  if (!buf) {
    fclose(f);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory reading '%s'", path);
  }
  size_t got = fread(buf, 1, n, f);
  int err = ferror(f);
  fclose(f);
  if (err || got != n) {
    free(buf);
    return clgan_error(CLGAN_ERR_IO, "reading '%s' failed at byte %zu", path, got);
  }
  buf[n] = '\0';
  *data = buf;
  *size = n;
  return CLGAN_OK;
}
