/* libFuzzer target: IDX image files (plain or gzipped) and their label files through
 * clgan_dataset_load, then a batch of the last image. Input layout:
 *   byte 0: flags (bit 0: a label file follows; bits 1-2: the model's image shape;
 *           bit 3: max_images 2)
 *   bytes 1-2: little-endian length of the image file (when bit 0 is set)
 *   then the image file's bytes, then the label file's bytes.
 * Replayed on tests/fuzz/corpus/idx and regressions/idx by the host test fuzz_idx. */
#include "clgan/io.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  if (n < 3) return 0;
  uint8_t flags = d[0];
  size_t split = (size_t)d[1] | (size_t)d[2] << 8;
  d += 3, n -= 3;
  if (!(flags & 1) || split > n) split = n;
  static const int shapes[4][3] = {{1, 28, 28}, {1, 4, 3}, {3, 7, 5}, {1, 2, 9}};
  const int *s = shapes[(flags >> 1) & 3];
  fz_remove("x-labels-idx1-ubyte");
  const char *images = fz_write("x-images-idx3-ubyte", d, split);
  if (flags & 1) fz_write("x-labels-idx1-ubyte", d + split, n - split);
  clgan_dataset ds;
  if (clgan_dataset_load(images, s[0], s[1], s[2], (flags & 8) ? 2 : 0, &ds) == CLGAN_OK) {
    float *batch = malloc(sizeof(float) * (size_t)s[0] * s[1] * s[2]);
    int last = ds.count - 1;
    if (!batch || last < 0 || ds.channels != s[0] || ds.height != s[1] || ds.width != s[2])
      abort(); /* a loaded dataset has at least one image of the model's shape */
    clgan_dataset_batch(&ds, &last, 1, batch);
    if (ds.labels && (ds.labels[last] < 0 || ds.labels[last] > 255)) abort();
    free(batch);
    clgan_dataset_free(&ds);
  } else if (ds.pixels || ds.labels || ds.count) {
    abort(); /* on error the dataset is left empty */
  }
  return 0;
}
