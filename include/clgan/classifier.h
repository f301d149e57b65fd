/* A feature network clgan trains itself: an image classifier described by a model file's
 * `classifier` section (docs/MODELS.md), trained on a labelled dataset by
 * `clgan classify train`, saved as safetensors. Metrics of generated images (`clgan eval`)
 * load it with clgan_classifier_load and call clgan_classifier_features for logits and
 * penultimate features. Source: src/eval/classifier.c. Tests: tests/train/test_classifier.c */
#ifndef CLGAN_CLASSIFIER_H
#define CLGAN_CLASSIFIER_H

#include "clgan/device.h"
#include "clgan/io.h"
#include "clgan/model.h"
#include "clgan/net.h"
#include "clgan/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The classifier that ships with clgan (trained on Fashion-MNIST, docs/RESULTS.md),
 * relative to the source tree; clgan_classifier_default_path finds the installed copy. */
#define CLGAN_CLASSIFIER_DEFAULT_FILE "samples/fmnist-classifier.safetensors"

/* Prefix of every tensor name in a classifier file: "classifier.<node>.weight", ... */
#define CLGAN_CLASSIFIER_PREFIX "classifier."

/* A classifier on a device, ready for inference (batch norm in eval mode, no dropout). */
typedef struct clgan_classifier {
  clgan_model model;        /* model.kind == CLGAN_MODEL_CLASSIFIER; the net is model.c */
  clgan_ctx *ctx;
  clgan_net *net;           /* created for `batch` images */
  int batch;                /* the most images one forward takes (features() chunks larger n) */
  int classes;              /* logits per image (the final linear's size) */
  int feat_dim;             /* penultimate features per image */
  int feat_layer;           /* index in model.c.layers whose output is the features: the
                               node named "feat" if any, else the layer feeding the final
                               linear */
  int image_c, image_h, image_w; /* the images it takes, values in [-1, 1] as
                                    clgan_dataset_batch makes them */
  char (*class_names)[CLGAN_CLASS_NAME_MAX]; /* (classes) names from the training data */
  char *command;            /* metadata: the command line that trained it, or NULL */
  unsigned long long seed;  /* metadata: the training seed (0 if absent) */
  double test_accuracy;     /* metadata: measured test accuracy, or -1 if absent */
} clgan_classifier;

/* Path of the shipped classifier: $CLGAN_CLASSIFIER if set, else the installed
 * <datadir>/clgan/fmnist-classifier.safetensors if it exists, else the source tree's
 * CLGAN_CLASSIFIER_DEFAULT_FILE (absolute, from where the library was built). */
const char *clgan_classifier_default_path(void);

/* Loads a classifier checkpoint (written by `clgan classify train`) onto ctx's device for
 * batches of up to `batch` images (<= 0: 256). NULL path: clgan_classifier_default_path().
 * Checks the model text parses as a classifier and every tensor's name and shape match it.
 * Bad file -> CLGAN_ERR_FORMAT naming it and the reason; missing -> CLGAN_ERR_IO. */
clgan_status clgan_classifier_load(clgan_ctx *ctx, const char *path, int batch,
                                   clgan_classifier **out);
void clgan_classifier_free(clgan_classifier *c);

/* Device form: n <= c->batch images (n, C, H, W) in `images` (a device view, values in
 * [-1, 1]); writes logits (n, classes) and/or features (n, feat_dim) into device views
 * (either may be CLGAN_NONE). Enqueues only (no clFinish). Deterministic: the same images
 * give the same bits on the same device, whatever else is in the batch. */
clgan_status clgan_classifier_forward(clgan_classifier *c, int n, clgan_view images,
                                      clgan_view logits, clgan_view features);

/* Host form: any n images (host floats (n, C, H, W) in [-1, 1]), run in chunks of
 * c->batch; logits (n, classes) and/or features (n, feat_dim) host arrays (either NULL).
 * Blocks until the results are on the host. */
clgan_status clgan_classifier_features(clgan_classifier *c, const float *images, int n,
                                       float *logits, float *features);

/* Accuracy on a labelled dataset (images already in the classifier's shape): overall
 * and, if per_class is not NULL, per class (classes entries; a class with no image: -1).
 * The data's class count must equal the classifier's. */
clgan_status clgan_classifier_accuracy(clgan_classifier *c, const clgan_dataset *ds,
                                       double *accuracy, double *per_class);

/* ---- files and training (used by `clgan classify`) ---- */

#define CLGAN_CLASSIFIER_FORMAT "clgan-classifier-1"

/* The feature layer of a resolved classifier net: the node named "feat", else the layer
 * whose output the final linear reads; -1 if that is the image itself. */
int clgan_classifier_feature_layer(const clgan_net_desc *d);

/* Writes a classifier file atomically: tensors "classifier.<node>.weight", ".bias",
 * ".running_mean", ".running_var", ".num_batches_tracked" (PyTorch names and layouts),
 * metadata format, clgan_version, model (its text), image_channels, classes, then the
 * caller's keys/values (e.g. class_names as lines, command, seed, epochs, test_accuracy). */
clgan_status clgan_classifier_save(const char *path, const clgan_model *m, const float *params,
                                   const float *stats, long long bn_batches,
                                   const char *const *keys, const char *const *values,
                                   int nmeta);

#ifdef __cplusplus
}
#endif
#endif
