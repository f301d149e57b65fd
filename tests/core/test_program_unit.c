/* Host-only pieces of src/device/program.c and src/core/fileutil.c: OpenCL C version parsing, build
 * options, cache key fields, cache directory rules, atomic writes. No device needed. */
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "test_util.h"

static void check_version(const char *s, int want_major, int want_minor, const char *want_opts) {
  int major = -1, minor = -1;
  char opts[64];
  clgan_parse_cl_c_version(s, &major, &minor);
  CHECK(major == want_major && minor == want_minor, "'%s' parsed as %d.%d, want %d.%d", s,
        major, minor, want_major, want_minor);
  clgan_build_options_for(major, minor, opts, sizeof opts);
  CHECK(strcmp(opts, want_opts) == 0, "'%s' gives options \"%s\", want \"%s\"", s, opts,
        want_opts);
}

static clgan_device_info base_device(void) {
  clgan_device_info d;
  memset(&d, 0, sizeof d);
  snprintf(d.platform_name, sizeof d.platform_name, "Portable Computing Language");
  snprintf(d.platform_version, sizeof d.platform_version, "OpenCL 3.0 PoCL 3.1");
  snprintf(d.name, sizeof d.name, "pthread-cpu");
  snprintf(d.vendor, sizeof d.vendor, "AuthenticAMD");
  snprintf(d.driver_version, sizeof d.driver_version, "3.1+debian");
  snprintf(d.opencl_c_version, sizeof d.opencl_c_version, "OpenCL C 1.2 PoCL");
  return d;
}

/* Each field of the key changes it; identical inputs give identical keys. */
static void check_cache_key(void) {
  const char *src = "__kernel void k(__global float *x) { x[0] = 1.0f; }";
  clgan_device_info d = base_device();
  uint8_t k0[32], k1[32];
  CHECK(clgan_cache_key(&d, src, "-cl-std=CL1.2", k0) == 0, "key");
  CHECK(clgan_cache_key(&d, src, "-cl-std=CL1.2", k1) == 0 && memcmp(k0, k1, 32) == 0,
        "same inputs, same key");
  CHECK(clgan_cache_key(&d, "__kernel void k(__global float *x) { x[0] = 2.0f; }",
                        "-cl-std=CL1.2", k1) == 0 && memcmp(k0, k1, 32) != 0,
        "source changes the key");
  CHECK(clgan_cache_key(&d, src, "", k1) == 0 && memcmp(k0, k1, 32) != 0,
        "options change the key");
  /* field boundaries are unambiguous: moving text from one field to the next differs */
  CHECK(clgan_cache_key(&d, "__kernel void k(__global float *x) { x[0] = 1.0f; }-cl-std=",
                        "CL1.2", k1) == 0 && memcmp(k0, k1, 32) != 0,
        "source/options boundary");
  char *fields[] = {d.platform_name, d.platform_version, d.name, d.vendor, d.driver_version,
                    d.opencl_c_version};
  const char *names[] = {"platform name", "platform version", "device name", "vendor",
                         "driver version", "OpenCL C version"};
  for (size_t f = 0; f < sizeof fields / sizeof *fields; f++) {
    clgan_device_info changed = base_device();
    char *field = (char *)&changed + (fields[f] - (char *)&d);
    size_t len = strlen(field);
    field[len - 1] = field[len - 1] == 'x' ? 'y' : 'x';
    CHECK(clgan_cache_key(&changed, src, "-cl-std=CL1.2", k1) == 0 && memcmp(k0, k1, 32) != 0,
          "%s changes the key", names[f]);
  }
}

static void check_cache_dir(void) {
  setenv("HOME", "/home/someone", 1);
  unsetenv("XDG_CACHE_HOME");
  unsetenv("CLGAN_CACHE_DIR");
  unsetenv("CLGAN_CACHE");
  const char *d = clgan_cache_dir();
  CHECK(d && strcmp(d, "/home/someone/.cache/clgan") == 0, "HOME default: %s", d ? d : "NULL");
  setenv("XDG_CACHE_HOME", "/xdg", 1);
  d = clgan_cache_dir();
  CHECK(d && strcmp(d, "/xdg/clgan") == 0, "XDG_CACHE_HOME: %s", d ? d : "NULL");
  setenv("CLGAN_CACHE_DIR", "/elsewhere/k", 1);
  d = clgan_cache_dir();
  CHECK(d && strcmp(d, "/elsewhere/k") == 0, "CLGAN_CACHE_DIR wins: %s", d ? d : "NULL");
  setenv("CLGAN_CACHE", "1", 1);
  CHECK(clgan_cache_dir() != NULL, "CLGAN_CACHE=1 keeps the cache");
  setenv("CLGAN_CACHE", "0", 1);
  CHECK(clgan_cache_dir() == NULL, "CLGAN_CACHE=0 turns it off");
  unsetenv("CLGAN_CACHE");
  unsetenv("CLGAN_CACHE_DIR");
  unsetenv("XDG_CACHE_HOME");
  unsetenv("HOME");
  CHECK(clgan_cache_dir() == NULL, "no home, no cache");
}

static int count_entries(const char *dir, const char *containing) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    if (e->d_name[0] != '.' && strstr(e->d_name, containing)) n++;
  closedir(d);
  return n;
}

static void check_atomic_write(void) {
  char dir[] = "/tmp/clgan-test-atomic-XXXXXX";
  CHECK(mkdtemp(dir) != NULL, "mkdtemp");
  char sub[128], path[160];
  snprintf(sub, sizeof sub, "%s/a/b", dir);
  CHECK_OK(clgan_mkdirs(sub));
  CHECK_OK(clgan_mkdirs(sub)); /* existing is fine */
  snprintf(path, sizeof path, "%s/file.bin", sub);
  const char *p1[] = {"hello ", "world"};
  size_t s1[] = {6, 5};
  CHECK_OK(clgan_write_file_atomic(path, (const void *const *)p1, s1, 2));
  void *data = NULL;
  size_t n = 0;
  CHECK_OK(clgan_read_file(path, 1024, &data, &n));
  CHECK(n == 11 && data && memcmp(data, "hello world", 11) == 0, "read back %zu bytes", n);
  free(data);
  const char *p2[] = {"x"};
  size_t s2[] = {1};
  CHECK_OK(clgan_write_file_atomic(path, (const void *const *)p2, s2, 1));
  CHECK_OK(clgan_read_file(path, 1024, &data, &n));
  CHECK(n == 1 && data && ((char *)data)[0] == 'x', "replaced: %zu bytes", n);
  free(data);
  CHECK(count_entries(sub, ".tmp.") == 0, "no temp files left");
  {
    /* the result gets 0666 & ~umask like any created file, not mkstemp's 0600 */
    struct stat st;
    mode_t um = umask(022);
    CHECK_OK(clgan_write_file_atomic(path, (const void *const *)p2, s2, 1));
    umask(um);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644, "mode %o", st.st_mode & 0777);
  }
  CHECK(clgan_read_file(path, 0, &data, &n) == CLGAN_ERR_FORMAT, "size cap enforced");
  CHECK(strstr(clgan_last_error(), "file.bin") != NULL, "message names the file: %s",
        clgan_last_error());
  /* a directory that cannot hold the file fails with a message, leaving nothing behind */
  char bad[200];
  snprintf(bad, sizeof bad, "%s/missing/file.bin", dir);
  CHECK(clgan_write_file_atomic(bad, (const void *const *)p2, s2, 1) == CLGAN_ERR_IO,
        "write into a missing directory fails");
  CHECK(strstr(clgan_last_error(), "missing/file.bin") != NULL, "message: %s",
        clgan_last_error());
  CHECK(clgan_read_file(bad, 16, &data, &n) == CLGAN_ERR_IO && data == NULL, "missing file");
  unlink(path);
  rmdir(sub);
  snprintf(sub, sizeof sub, "%s/a", dir);
  rmdir(sub);
  rmdir(dir);
}

int main(void) {
  check_version("OpenCL C 1.2 pocl", 1, 2, "-cl-std=CL1.2");
  check_version("OpenCL C 1.2 PoCL", 1, 2, "-cl-std=CL1.2");
  check_version("OpenCL C 3.0 ", 3, 0, "-cl-std=CL1.2");
  check_version("OpenCL C 2.0 AMD-APP (3614.0)", 2, 0, "-cl-std=CL1.2");
  check_version("OpenCL C 1.1", 1, 1, "");
  check_version("OpenCL C 1.0", 1, 0, "");
  check_version("", 1, 0, "");
  check_version("garbage 9.9", 1, 0, "");
  check_version("OpenCL C x.y", 1, 0, "");
  check_version("OpenCL C 0.5", 1, 0, "");
  char tiny[4] = "zzz";
  clgan_build_options_for(1, 2, tiny, sizeof tiny);
  CHECK(strlen(tiny) == 3, "options truncated, still terminated: '%s'", tiny);
  check_cache_key();
  check_cache_dir();
  check_atomic_write();
  return tu_finish("program_unit");
}
