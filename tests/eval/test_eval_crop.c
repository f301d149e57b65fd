/* The centre-crop of a progressive checkpoint's images (tools/eval_util.c, `clgan eval` of
 * a `train --pad P` run): every kept value against its source index, for several shapes and
 * paddings (the metadata and the command: test_eval_crop_cli.sh). Host only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_util.h"
#include "test_util.h"

static void crop_case(int n, int c, int h, int w, int p) {
  size_t t = (size_t)n * c * h * w;
  float *img = tu_alloc(t);
  for (size_t i = 0; i < t; i++) img[i] = (float)i; /* the value is its own index */
  eval_crop(img, n, c, h, w, p);
  int oh = h - 2 * p, ow = w - 2 * p, bad = 0;
  for (int k = 0; k < n * c; k++)
    for (int y = 0; y < oh; y++)
      for (int x = 0; x < ow; x++) {
        size_t src = (size_t)k * h * w + (size_t)(y + p) * w + (size_t)(x + p);
        bad += img[((size_t)k * oh + y) * ow + x] != (float)src;
      }
  CHECK(bad == 0, "crop n %d c %d %dx%d by %d: %d values off", n, c, h, w, p, bad);
  free(img);
}

int main(void) {
  crop_case(3, 1, 32, 32, 2);
  crop_case(2, 3, 9, 7, 1);
  crop_case(1, 2, 8, 8, 3);
  /* p 0: unchanged */
  float one[4] = {1, 2, 3, 4};
  eval_crop(one, 1, 1, 2, 2, 0);
  CHECK(one[0] == 1 && one[3] == 4, "pad 0 changes nothing");
  return tu_finish("eval_crop");
}
