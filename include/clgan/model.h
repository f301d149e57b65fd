/* Models: a network graph described by a text model file (or a built-in preset): named
 * nodes, several inputs (z, image, label, ...), branches and merges; its shapes, parameter
 * layout (one arena per network) and PyTorch-compatible names. A file without names is a
 * plain sequence, each layer taking the line above's output (docs/MODELS.md).
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
  CLGAN_LAYER_FLATTEN,      /* nn.Flatten(): no parameters, no work */
  /* graph nodes */
  CLGAN_LAYER_CONCAT,       /* torch.cat(dim=1) of 2+ inputs of equal H, W */
  CLGAN_LAYER_ADD,          /* a + b (+ ...), equal shapes */
  CLGAN_LAYER_MUL,          /* a * b; b may be (C,1,1), broadcast over a's H x W */
  CLGAN_LAYER_EMBED,        /* nn.Embedding(num, out) of a label input: (out,1,1) */
  CLGAN_LAYER_UPSAMPLE,     /* nn.Upsample(scale_factor=k), nearest; mode=bilinear|bicubic */
  CLGAN_LAYER_AVGPOOL,      /* nn.AvgPool2d(k) */
  CLGAN_LAYER_SUMPOOL,      /* sum over H x W: (C,H,W) -> (C,1,1) */
  CLGAN_LAYER_PIXELSHUFFLE, /* nn.PixelShuffle(k) */
  CLGAN_LAYER_INSTANCENORM, /* nn.InstanceNorm2d(C, affine) */
  CLGAN_LAYER_DROPOUT,      /* nn.Dropout(p), Philox mask */
  CLGAN_LAYER_PRELU,        /* nn.PReLU(num_parameters = 1 or C) */
  CLGAN_LAYER_IDENTITY,     /* nn.Identity(): no work */
  CLGAN_LAYER_EMBEDBAG,     /* nn.EmbeddingBag(num, out, mode='sum') with per-sample weights,
                               of a text input: (out,1,1) (include/clgan/text.h) */
  CLGAN_LAYER_CONDAUG,      /* conditioning augmentation: (2D,1,1) = (mu, log sigma^2) ->
                               mu + exp(logvar/2) eps, (D,1,1); KL weight p */
  CLGAN_LAYER_PIXELNORM,    /* ProGAN's pixel norm: x / sqrt(mean_c x^2 + 1e-8) */
  CLGAN_LAYER_MBSTD,        /* ProGAN's minibatch stddev, groups of k: (C,H,W) -> (C+1,H,W) */
  CLGAN_LAYER_FADE          /* ProGAN's fade-in of two equal shapes: (1 - p) a + p b, p the
                               alpha (alpha=, set during training: clgan_model_set_fade) */
} clgan_layer_kind;

/* What a network can take in. The first input a network declares is its main one: the
 * input of clgan_net_forward's x and the one whose gradient backward can return. */
typedef enum clgan_input_kind {
  CLGAN_INPUT_Z = 0,        /* latent noise (nz, 1, 1) */
  CLGAN_INPUT_IMAGE,        /* an image (C, H, W) of the model's shape */
  CLGAN_INPUT_LABEL,        /* an integer class 0..classes-1 (int32), consumed by embed */
  CLGAN_INPUT_COND,         /* a conditioning image (cond C H W, default the image's shape)
                               (image-to-image, super-resolution) */
  CLGAN_INPUT_TEXT          /* a caption's token slots (int32, include/clgan/text.h),
                               consumed by embedbag */
} clgan_input_kind;

/* `clgan train`'s model when none is named: dcgan28 with sn on D and its own recipe
 * (samples/dcgan28-sn.model, issue 12); the earlier default is the preset "dcgan28" */
#define CLGAN_DEFAULT_MODEL "dcgan28-sn"
#define CLGAN_MAX_NET_INPUTS 5  /* one of each kind at most */
#define CLGAN_MAX_SRC 8         /* inputs of one node (concat, add) */
#define CLGAN_NODE_NAME 32      /* node names: letters, digits, '_', 1..31 characters */

typedef struct clgan_net_input_desc {
  clgan_input_kind kind;
  int c, h, w;                  /* per sample; a label is (1, 1, 1) */
} clgan_net_input_desc;

/* One layer: its kind, hyper-parameters, per-sample shapes and where its parameters sit
 * in the network's arenas (offsets in floats). */
typedef struct clgan_layer_desc {
  clgan_layer_kind kind;
  int line;                       /* line in the model file (0 for presets) */
  int out;                        /* LINEAR: features; CONV/CONVT: channels; RESHAPE: C */
  int out_is_image;               /* output channels = the image's (written "C") */
  int k, stride, pad, out_pad;    /* CONV/CONVT */
  int pad_reflect;                /* CONV: pm=reflect, padding_mode='reflect' (else zeros) */
  int mode;                       /* UPSAMPLE: CLGAN_UPSAMPLE_* (ops.h), mode=nearest|bilinear|bicubic */
  int bias;                       /* LINEAR/CONV/CONVT: has a bias */
  float slope;                    /* LEAKY_RELU */
  int rh, rw;                     /* RESHAPE: H, W */
  int num;                        /* EMBED: classes; PRELU: parameters (1 or C; 0 = C);
                                     EMBEDBAG: vocabulary size */
  float p;                        /* DROPOUT: drop probability; CONDAUG: KL weight;
                                     FADE: alpha */
  int affine;                     /* INSTANCENORM: learnable gamma, beta */
  char name[CLGAN_NODE_NAME];     /* "" = unnamed (tensors named by the layer's index) */
  int nsrc;                       /* inputs of this node */
  int src[CLGAN_MAX_SRC];         /* tensor ids: 0..ninputs-1 the network's inputs, then
                                     ninputs + i layer i's output */
  char src_name[CLGAN_MAX_SRC][CLGAN_NODE_NAME]; /* as written (in=...), "" = default */
  int in_c, in_h, in_w;           /* first input's shape per sample; LINEAR sees C*H*W */
  int out_c, out_h, out_w;        /* output shape per sample */
  size_t weight_off, weight_count;/* in the parameter arena: weight, then bias */
  size_t bias_off, bias_count;    /* BATCHNORM: weight = gamma, bias = beta */
  size_t stat_off;                /* BATCHNORM: running_mean at stat_off, running_var after */
  int sn;                         /* LINEAR/CONV/CONVT: spectral normalisation (sn=1) */
  size_t sn_off;                  /* sn: in the statistics arena, u (out_c values), then v
                                     (weight_count / out_c): PyTorch's weight_u, weight_v */
  int eq;                         /* LINEAR/CONV/CONVT: equalised learning rate (eq=1,
                                     ProGAN): weights N(0, 1), used as W * sqrt(2 / fan_in),
                                     fan_in = weight_count / out_c (src/nets/net_sn.c) */
} clgan_layer_desc;

typedef struct clgan_net_desc {
  clgan_layer_desc *layers;
  int count;
  int ninputs;                    /* declared inputs (default: z for G, image for D) */
  clgan_net_input_desc inputs[CLGAN_MAX_NET_INPUTS];
  int in_c, in_h, in_w;           /* the main input per sample: (nz,1,1) for G, the image for D */
  int out_c, out_h, out_w;
  size_t param_count;             /* floats in the parameter arena */
  size_t stat_count;              /* floats of batch-norm running statistics */
} clgan_net_desc;

/* What a model file describes. */
enum {
  CLGAN_MODEL_GAN = 0,            /* generator + discriminator sections */
  CLGAN_MODEL_CLASSIFIER = 1      /* one classifier section: image -> K logits */
};

typedef struct clgan_model {
  char name[64];
  int kind;                       /* CLGAN_MODEL_GAN or CLGAN_MODEL_CLASSIFIER */
  int nz;                         /* latent size */
  int image_c, image_h, image_w;  /* image_c 0 = taken from the data ("auto") */
  int cond_c, cond_h, cond_w;     /* 'cond C H W': the conditioning image's shape; cond_h 0
                                     (no line): the image's; cond_c 0 ("auto"): set by the
                                     caller before resolve, else the image's channels */
  int classes;                    /* > 0: a conditional model, labels 0..classes-1 */
  int loss;                       /* -1, or the default GAN loss (clgan_gan_loss) */
  /* 'train batch=N lr=X beta1=X beta2=X': the model's training recipe, the defaults of
   * `clgan train` for it (flags win); 0 / -1 = not given */
  int train_batch;
  float train_lr, train_beta1, train_beta2;
  clgan_net_desc g, d;            /* a GAN's networks (empty for a classifier) */
  clgan_net_desc c;               /* a classifier's network: image -> (K,1,1) logits; classes
                                     = K after clgan_model_resolve */
  char *text;                     /* the model file text (stored in checkpoints) */
} clgan_model;

/* Parses a model file's text. `source` names it in errors ("samples/dcgan28.model").
 * Shapes are not resolved yet (image_c may be auto): call clgan_model_resolve. */
clgan_status clgan_model_parse(const char *text, const char *source, clgan_model *out);
/* Loads "dcgan28" / "dcgan64" / "cdcgan28" / "cdcgan28-proj" / "fmnist-classifier" /
 * "pix2pix32" / "pix2pix64" (built-in
 * presets, same text as the samples/ model files) or a path. */
clgan_status clgan_model_load(const char *name_or_path, clgan_model *out);
/* Fixes the image channels (if auto) and infers every layer's shapes and parameter
 * layout; checks G's output equals the image shape and D's output is one logit or a map
 * of logits (1, h, w), one per patch (a classifier: only its net, whose final linear K the
 * parser already checked).
 * Shapes that do not chain -> CLGAN_ERR_INVALID_ARG naming the layer's line. */
clgan_status clgan_model_resolve(clgan_model *m, int image_channels);
void clgan_model_free(clgan_model *m);

/* The built-in preset text, or NULL. */
const char *clgan_model_preset_text(const char *name);
/* The name of built-in preset i (0, 1, ...), or NULL past the last. */
const char *clgan_model_preset_name(int i);

/* PyTorch state_dict name of a tensor: "<node>.weight" ("<node>.weight_orig" with sn=1,
 * and its "<node>.weight_u", "<node>.weight_v"), "<node>.bias",
 * "<node>.running_mean", "<node>.running_var", "<node>.num_batches_tracked", where node is
 * the layer's name, or for an unnamed layer its index (its position in an equivalent
 * nn.Sequential, counting every layer line of the section from 0). */
void clgan_layer_tensor_name(const clgan_layer_desc *l, int index, const char *what, char *out,
                             size_t cap);

/* Name of an input kind ("z", "image", "label", "cond", "text"). */
const char *clgan_input_kind_name(clgan_input_kind k);
/* Index of the network's input of this kind, or -1. */
int clgan_net_find_input(const clgan_net_desc *n, clgan_input_kind k);
/* Number of tensors a network has: its inputs then one per layer. */
static inline int clgan_net_tensor_count(const clgan_net_desc *n) { return n->ninputs + n->count; }

/* Initial parameters on the host, as the DCGAN paper / PyTorch example: conv, convT and
 * linear weights N(0, 0.02), biases 0, batch-norm gamma N(1, 0.02), beta 0; running mean
 * 0 and var 1. Random numbers are Philox streams of `seed`, so every device agrees. */
void clgan_net_init_params(const clgan_net_desc *n, unsigned long long seed, int which,
                           float *params, float *stats);

/* Sets alpha of every fade layer of a network (progressive growing changes it per
 * iteration; a net reads it at each forward and backward). */
void clgan_model_set_fade(clgan_net_desc *n, float alpha);

/* ---- progressive growing (ProGAN; src/nets/progan.c, docs/MODELS.md) ----
 * A model file with a `grow R1 R2 ...` line (resolutions doubling, the last the image's)
 * and, in each section, `stage R` blocks and `rgb` (or `rgb R`) blocks of plain layer lines.
 * clgan_model_parse of such a file gives its final stage. */
#define CLGAN_MAX_STAGES 8
/* 1 if the text has a `grow` line. */
int clgan_progan_is(const char *text);
/* Its resolutions (res[CLGAN_MAX_STAGES]) and their count; a malformed file ->
 * CLGAN_ERR_INVALID_ARG naming the line. */
clgan_status clgan_progan_stages(const char *text, const char *source, int *res, int *count);
/* The ordinary graph model (text, *out to free) of stage `stage` (0-based), fading it in
 * (fading, stage > 0) with fade layers at alpha: G = stages 0..stage, rgb of the stage (and
 * the previous stage's rgb upsampled, faded), upsampled to the final size; D = the image
 * pooled to the stage's size, its rgb (and the previous stage's rgb of the image pooled 2x,
 * faded), the stages down to the first. Nodes are named s<R>_<i>, rgb<R>_<i>. */
clgan_status clgan_progan_expand(const char *text, const char *source, int stage, int fading,
                                 float alpha, char **out);
/* Copies the parameters (and batch-norm statistics, when fs and ts) of every layer of `to`
 * that `from` has under the same name, kind and sizes; returns how many layers. */
int clgan_progan_copy_params(const clgan_net_desc *from, const float *fp, const float *fs,
                             const clgan_net_desc *to, float *tp, float *ts);

/* Multiply-adds of one forward pass per sample (for FLOP counts in benchmarks). */
double clgan_net_forward_flops(const clgan_net_desc *n);

#ifdef __cplusplus
}
#endif
#endif
