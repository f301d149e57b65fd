/* A main() for fuzz targets built without libFuzzer: runs LLVMFuzzerTestOneInput on every
 * file named on the command line, and on every file inside a named folder (not recursive).
 * Used by the host tests to replay the seed corpora and tests/fuzz/regressions/; a crash,
 * a sanitizer report or an abort fails the test. Prints how many inputs it ran. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    return -1;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
  if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    fclose(f);
    free(buf);
    return -1;
  }
  fclose(f);
  /* a private copy of exactly n bytes, so ASan sees reads past the input's end */
  LLVMFuzzerTestOneInput(buf, (size_t)n);
  free(buf);
  return 0;
}

int main(int argc, char **argv) {
  int ran = 0, bad = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "replay: %s does not exist\n", argv[i]);
      bad++;
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      bad += run_file(argv[i]) != 0;
      ran++;
      continue;
    }
    DIR *d = opendir(argv[i]);
    struct dirent *e;
    char p[4096];
    while (d && (e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      snprintf(p, sizeof p, "%s/%s", argv[i], e->d_name);
      if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) continue;
      bad += run_file(p) != 0;
      ran++;
    }
    if (d) closedir(d);
  }
  printf("replayed %d inputs, %d unreadable\n", ran, bad);
  /* an empty corpus would make this test pass without testing anything */
  return bad || ran == 0 ? 1 : 0;
}
