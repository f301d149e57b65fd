/* libFuzzer target: the PNG reader (clgan_png_read) and the PNG-folder dataset loader
 * (clgan_dataset_load on a folder), with a second file that is a cut copy of the first so
 * the folder's mixed-size and mixed-layout paths run too. Input layout:
 *   byte 0: flags (bits 0-1: the model's image shape; bit 2: add the cut copy;
 *           bits 3-7: where it is cut, in 32nds of the file)
 *   then the PNG file's bytes.
 * Replayed on tests/fuzz/corpus/png and regressions/png by the host test fuzz_png. */
#include <sys/stat.h>

#include "clgan/io.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  if (n < 1) return 0;
  uint8_t flags = d[0];
  d++, n--;
  static const int shapes[4][3] = {{1, 28, 28}, {3, 8, 8}, {1, 3, 5}, {3, 1, 2}};
  const int *s = shapes[flags & 3];
  mkdir(fz_path("pngs"), 0700);
  const char *a = fz_write("pngs/a.png", d, n);
  fz_remove("pngs/b.png");
  if (flags & 4) fz_write("pngs/b.png", d, n * (size_t)(flags >> 3) / 32);

  uint8_t *px = NULL;
  int w = 0, h = 0, c = 0;
  if (clgan_png_read(a, &px, &w, &h, &c) == CLGAN_OK) {
    if (w < 1 || h < 1 || c < 1 || c > 4) abort();
    /* every pixel byte is readable (ASan checks the bounds) */
    unsigned sum = 0;
    for (size_t i = 0; i < (size_t)w * h * c; i++) sum += px[i];
    if (sum == 0xFFFFFFFFu) puts("");
    free(px);
  } else if (px || w || h || c) {
    abort(); /* a failed read leaves nothing behind */
  }

  clgan_dataset ds;
  if (clgan_dataset_load(fz_path("pngs"), s[0], s[1], s[2], 0, &ds) == CLGAN_OK) {
    float *batch = malloc(sizeof(float) * (size_t)s[0] * s[1] * s[2]);
    int last = ds.count - 1;
    if (!batch || last < 0) abort();
    clgan_dataset_batch(&ds, &last, 1, batch);
    free(batch);
    clgan_dataset_free(&ds);
  }
  return 0;
}
