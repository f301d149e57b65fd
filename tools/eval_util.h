/* Shared by `clgan eval` and `train --eval-every`: a classifier's features and predicted
 * classes for image sets, and the shape checks between data, generator and classifier. */
#ifndef CLGAN_EVAL_UTIL_H
#define CLGAN_EVAL_UTIL_H

#include "clgan/classifier.h"
#include "clgan/metrics.h"

/* The real images `clgan eval` and `train --eval-every` compare with by default. */
#define CLGAN_EVAL_DEFAULT_REAL "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

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

/* A progressive (ProGAN) checkpoint trained on padded images (`train --model progan32
 * --pad P`: metadata "progressive", one of its lines "pad P"): P; else 0. Its generator makes
 * images P pixels larger on every side than the data's; eval_crop takes them back. */
int eval_checkpoint_pad(const clgan_st_file *f);
/* Centre-crops n images (C, H, W), host floats, in place to (C, H - 2p, W - 2p). */
void eval_crop(float *img, int n, int c, int h, int w, int p);

/* The classifier file to use: `arg` if given, else clgan_classifier_default_path();
 * CLGAN_ERR_IO with the places looked at when the file is missing. */
clgan_status eval_classifier_path(const char *arg, const char **out);

/* `train --eval-every N`: the FD of count generated images (the same noise, and for a
 * conditional generator the classes in turn, every time) against the moments of count
 * real images, computed once at the start. */
typedef struct eval_monitor {
  clgan_classifier *c;
  int count;
  double *mu, *sigma;   /* the real images' feature moments */
  float *z, *img;
  int32_t *labels;      /* conditional: i % classes; else NULL */
  int runs;
  double seconds;       /* spent in eval_monitor_fd (all runs) */
  double setup_seconds; /* loading the classifier, the real images' features */
} eval_monitor;

/* Loads the classifier (cpath, already checked to exist), refuses a model of another
 * image shape (CLGAN_ERR_INVALID_ARG naming both), and takes the moments of the first
 * count images of `real`. */
clgan_status eval_monitor_init(eval_monitor *em, clgan_ctx *ctx, const char *cpath,
                               const char *real, int count, const clgan_model *m,
                               unsigned long long seed);
clgan_status eval_monitor_fd(eval_monitor *em, clgan_net *g, const clgan_model *m, double *fd);
void eval_monitor_free(eval_monitor *em);

#endif
