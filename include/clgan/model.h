/* Models: a sequential network described by a text model file (or a built-in preset),
 * its shapes, parameter layout (one arena per network) and PyTorch-compatible names.
 * Forward and backward on a device live in net.h. Tests: tests/train/test_model.c */
#ifndef CLGAN_MODEL_H
#define CLGAN_MODEL_H

#include <stddef.h>

#include "clgan/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum clgan_layer_kind {
  CLGAN_LAYER_LINEAR = 0,   /* nn.Linear(in, out, bias) on the flattened input */
  CLGAN_LAYER_CONV,         /* nn.Conv2d(in_c, out, k, s, p, bias) */
  CLGAN_LAYER_CONVT,        /* nn.ConvTranspose2d(in_c, out, k, s, p, out_pad, bias) */
  CLGAN_LAYER_BATCHNORM,    /* nn.BatchNorm2d(C) on (C,H,W), nn.BatchNorm1d(C) on (C,1,1) */
  CLGAN_LAYER_RELU,
  CLGAN_LAYER_LEAKY_RELU,   /* slope */
  CLGAN_LAYER_TANH,
  CLGAN_LAYER_SIGMOID,
  CLGAN_LAYER_RESHAPE,      /* nn.Unflatten(1, (C, H, W)): no parameters, no work */
  CLGAN_LAYER_FLATTEN       /* nn.Flatten(): no parameters, no work */
} clgan_layer_kind;

/* One layer: its kind, hyper-parameters, per-sample shapes and where its parameters sit
 * in the network's arenas (offsets in floats). */
typedef struct clgan_layer_desc {
  clgan_layer_kind kind;
  int line;                       /* line in the model file (0 for presets) */
  int out;                        /* LINEAR: features; CONV/CONVT: channels; RESHAPE: C */
  int out_is_image;               /* output channels = the image's (written "C") */
  int k, stride, pad, out_pad;    /* CONV/CONVT */
  int bias;                       /* LINEAR/CONV/CONVT: has a bias */
  float slope;                    /* LEAKY_RELU */
  int rh, rw;                     /* RESHAPE: H, W */
  int in_c, in_h, in_w;           /* input shape per sample (C, H, W); LINEAR sees C*H*W */
  int out_c, out_h, out_w;        /* output shape per sample */
  size_t weight_off, weight_count;/* in the parameter arena: weight, then bias */
  size_t bias_off, bias_count;    /* BATCHNORM: weight = gamma, bias = beta */
  size_t stat_off;                /* BATCHNORM: running_mean at stat_off, running_var after */
} clgan_layer_desc;

typedef struct clgan_net_desc {
  clgan_layer_desc *layers;
  int count;
  int in_c, in_h, in_w;           /* input per sample: (nz,1,1) for G, the image for D */
  int out_c, out_h, out_w;
  size_t param_count;             /* floats in the parameter arena */
  size_t stat_count;              /* floats of batch-norm running statistics */
} clgan_net_desc;

typedef struct clgan_model {
  char name[64];
  int nz;                         /* latent size */
  int image_c, image_h, image_w;  /* image_c 0 = taken from the data ("auto") */
  clgan_net_desc g, d;
  char *text;                     /* the model file text (stored in checkpoints) */
} clgan_model;

/* Parses a model file's text. `source` names it in errors ("samples/dcgan28.model").
 * Shapes are not resolved yet (image_c may be auto): call clgan_model_resolve. */
clgan_status clgan_model_parse(const char *text, const char *source, clgan_model *out);
/* Loads "dcgan28" / "dcgan64" (built-in presets, same text as the samples/ model files) or a path. */
clgan_status clgan_model_load(const char *name_or_path, clgan_model *out);
/* Fixes the image channels (if auto) and infers every layer's shapes and parameter
 * layout; checks G's output equals the image shape and D's output is one logit.
 * Shapes that do not chain -> CLGAN_ERR_INVALID_ARG naming the layer's line. */
clgan_status clgan_model_resolve(clgan_model *m, int image_channels);
void clgan_model_free(clgan_model *m);

/* The built-in preset text, or NULL. */
const char *clgan_model_preset_text(const char *name);

/* PyTorch state_dict name of a tensor: "<index>.weight", "<index>.bias",
 * "<index>.running_mean", "<index>.running_var", "<index>.num_batches_tracked", where
 * index is the layer's position in an equivalent nn.Sequential. */
void clgan_layer_tensor_name(int index, const char *what, char *out, size_t cap);

/* Initial parameters on the host, as the DCGAN paper / PyTorch example: conv, convT and
 * linear weights N(0, 0.02), biases 0, batch-norm gamma N(1, 0.02), beta 0; running mean
 * 0 and var 1. Random numbers are Philox streams of `seed`, so every device agrees. */
void clgan_net_init_params(const clgan_net_desc *n, unsigned long long seed, int which,
                           float *params, float *stats);

/* Multiply-adds of one forward pass per sample (for FLOP counts in benchmarks). */
double clgan_net_forward_flops(const clgan_net_desc *n);

#ifdef __cplusplus
}
#endif
#endif
