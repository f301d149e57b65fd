/* Shared by `clgan eval` and `train --eval-every`: a classifier's features and predicted
 * classes for image sets, and the shape checks between data, generator and classifier. */
#ifndef CLGAN_EVAL_UTIL_H
#define CLGAN_EVAL_UTIL_H

#include "clgan/classifier.h"
#include "clgan/metrics.h"

/* Features (n, feat_dim) and argmax classes (n) of one image set. */
typedef struct eval_set {
  int n;
  float *feat;
  int32_t *pred;
} eval_set;

void eval_set_free(eval_set *s);

/* Runs the classifier over n images (host floats (n, C, H, W) in [-1, 1]). */
clgan_status eval_images(clgan_classifier *c, const float *images, int n, eval_set *out);

/* The same over a loaded dataset (already in the classifier's shape), in chunks. */
clgan_status eval_dataset(clgan_classifier *c, const clgan_dataset *ds, eval_set *out);

/* Loads up to max_images of `path` for the classifier and refuses (CLGAN_ERR_MISMATCH,
 * naming both) data whose own images are of another size or colour (grey / RGB) than
 * the classifier takes, instead of resampling them. `what` names the flag (--data...). */
clgan_status eval_load_data(clgan_classifier *c, const char *path, const char *cpath,
                            const char *what, int max_images, clgan_dataset *ds);

/* The classifier file to use: `arg` if given, else clgan_classifier_default_path();
 * CLGAN_ERR_IO with the places looked at when the file is missing. */
clgan_status eval_classifier_path(const char *arg, const char **out);

#endif
