/* A network on a device: parameter, gradient, Adam-moment and statistics arenas (one
 * buffer each), the activation arena, and forward/backward through the layer list.
 * Tests: tests/train/test_net.c (finite differences), tests/train/test_fixture.c (PyTorch) */
#ifndef CLGAN_NET_H
#define CLGAN_NET_H

#include "clgan/device.h"
#include "clgan/model.h"
#include "clgan/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum clgan_bn_mode {
  CLGAN_BN_EVAL = 0,        /* normalise with running statistics */
  CLGAN_BN_TRAIN = 1,       /* batch statistics, running statistics updated */
  CLGAN_BN_BATCH_STATS = 2  /* batch statistics, running statistics left alone */
} clgan_bn_mode;

typedef struct clgan_net {
  const clgan_net_desc *desc;
  clgan_ctx *ctx;
  int batch;                 /* the largest n forward/backward accept */
  cl_mem params;             /* (param_count): weights and biases, layer after layer */
  cl_mem grads;              /* (param_count): d loss / d params, same layout */
  cl_mem adam_m, adam_v;     /* (param_count) each, or NULL without an optimiser */
  cl_mem stats;              /* (stat_count): batch-norm running mean, running var */
  cl_mem acts;               /* activations: input (batch, in), then each layer's output */
  cl_mem grad_a, grad_b;     /* (batch * largest activation) ping-pong gradient buffers */
  cl_mem ws;                 /* convolution scratch, the largest any layer needs */
  size_t *out_off;           /* per layer: its output in acts (aliases for reshape/flatten) */
  size_t *save_off;          /* per batch-norm layer: saved mean (C) then 1/std (C) in acts */
  clgan_view *in_view;       /* per layer: the input of the last forward */
  size_t in_off;             /* the network's own input region in acts */
  size_t act_floats, max_act, ws_floats;
  long long bn_batches;      /* num_batches_tracked of every batch-norm layer */
  long long adam_step;       /* Adam steps taken (t) */
} clgan_net;

/* Device bytes a network needs at this batch (for "batch too big" messages). */
size_t clgan_net_device_bytes(const clgan_net_desc *d, int batch, int with_optimizer);

/* Allocates the arenas (with_optimizer: also the Adam moments, zeroed). `name` ("G",
 * "D") goes into allocation error messages. Parameters are left uninitialised. */
clgan_status clgan_net_create(clgan_ctx *ctx, const clgan_net_desc *d, int batch,
                              int with_optimizer, const char *name, clgan_net **out);
void clgan_net_free(clgan_net *net);

/* The network's own input region (batch, in) and the output of the last forward. */
clgan_view clgan_net_input(const clgan_net *net);
clgan_view clgan_net_output(const clgan_net *net);

/* Forward of n <= batch samples from x (CLGAN_NONE: the net's own input region). */
clgan_status clgan_net_forward(clgan_net *net, int n, clgan_view x, clgan_bn_mode mode);

/* Backward of the last forward, from dout (n, out). param_grads: compute weight
 * gradients (0 for a frozen network: only the data gradient flows); accumulate: add into
 * the gradient arena instead of overwriting. din: where d loss / d input goes
 * (CLGAN_NONE: not needed, and not computed). */
clgan_status clgan_net_backward(clgan_net *net, int n, clgan_view dout, int param_grads,
                                int accumulate, clgan_view din);

/* One Adam step over the whole parameter arena (one launch). */
clgan_status clgan_net_adam(clgan_net *net, float lr, float beta1, float beta2, float eps,
                            float weight_decay);

/* Host <-> device copies of the arenas. */
clgan_status clgan_net_set_params(clgan_net *net, const float *params, const float *stats);
clgan_status clgan_net_get_params(clgan_net *net, float *params, float *stats);

#ifdef __cplusplus
}
#endif
#endif
