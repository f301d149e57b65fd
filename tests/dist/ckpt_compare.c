/* Compares the weights and batch-norm statistics of two checkpoints A and B against how far
 * training moved them from a reference REF: prints ||A - B|| / ||A - REF|| over all
 * generator.* and discriminator.* weights (F32, not the running statistics) and exits 1 when it exceeds TOL (2 when a
 * file does not load or the tensors differ in name or shape). Used by tests/dist/test_dist.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"

static int wanted(const char *name) {
  if (strstr(name, "running_")) return 0; /* statistics: per rank without sync-bn */
  return !strncmp(name, "generator.", 10) || !strncmp(name, "discriminator.", 14);
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: ckpt_compare A B REF TOL\n");
    return 2;
  }
  clgan_st_file f[3];
  for (int k = 0; k < 3; k++)
    if (clgan_safetensors_read(argv[1 + k], &f[k])) {
      fprintf(stderr, "ckpt_compare: %s\n", clgan_last_error());
      return 2;
    }
  double ab = 0.0, ar = 0.0, worst = 0.0;
  int tensors = 0;
  for (int i = 0; i < f[0].count; i++) {
    const clgan_st_tensor *a = &f[0].tensors[i];
    if (!wanted(a->name) || a->dtype != CLGAN_DTYPE_F32) continue;
    const clgan_st_tensor *b = clgan_safetensors_find(&f[1], a->name);
    const clgan_st_tensor *r = clgan_safetensors_find(&f[2], a->name);
    if (!b || !r || b->nbytes != a->nbytes || r->nbytes != a->nbytes) {
      fprintf(stderr, "ckpt_compare: tensor %s missing or of another shape\n", a->name);
      return 2;
    }
    const float *x = a->data, *y = b->data, *z = r->data;
    for (size_t j = 0; j < a->nbytes / sizeof(float); j++) {
      double d = (double)x[j] - y[j], e = (double)x[j] - z[j];
      ab += d * d, ar += e * e;
      if (fabs(d) > worst) worst = fabs(d);
    }
    tensors++;
  }
  double ratio = ar > 0 ? sqrt(ab / ar) : (ab > 0 ? INFINITY : 0.0);
  double tol = atof(argv[4]);
  printf("%d tensors: ||A-B|| = %.3g, ||A-REF|| = %.3g, ratio %.3g (tolerance %g), max |A-B| %.3g\n",
         tensors, sqrt(ab), sqrt(ar), ratio, tol, worst);
  for (int k = 0; k < 3; k++) clgan_safetensors_free(&f[k]);
  return tensors > 0 && ratio <= tol ? 0 : 1;
}
