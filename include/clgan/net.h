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
  cl_mem acts;               /* activations: the main input (batch, in), each layer's output,
                                normalisation saves */
  cl_mem gacts;              /* activation gradients, regions reused by liveness (planned) */
  cl_mem gtmp;               /* (batch * largest activation) for a second consumer's
                                gradient contribution, or NULL when no tensor has two */
  cl_mem ws;                 /* convolution scratch, the largest any layer needs */
  cl_mem padbuf;             /* (batch, C, H+2p, W+2p): the reflect-padded input of a pm=reflect
                                conv (the largest), or NULL without one */
  /* the plan, per tensor (inputs, then one per layer; clgan_net_tensor_count) */
  size_t *t_off;             /* its region in acts (an alias's is its source's) */
  size_t *g_off;             /* its gradient's region in gacts, SIZE_MAX: none there */
  int *root;                 /* the tensor whose storage it shares (itself unless an alias) */
  int *writers;              /* gradient contributions it receives in a backward */
  clgan_view *t_view;        /* where it was in the last forward */
  int *gdone;                /* backward's count of contributions written so far */
  char *fused;               /* per layer: a batch norm run fused with the activation after it */
  size_t *save_off;          /* per normalisation layer: its saves in acts */
  unsigned long long *drop_counter; /* per dropout layer: the Philox counter of the last forward */
  clgan_view bound[CLGAN_MAX_NET_INPUTS]; /* inputs other than the main one (clgan_net_bind) */
  size_t in_off;             /* the network's own main-input region in acts */
  size_t act_floats, gact_floats, max_act, ws_floats;
  unsigned long long rng_seed; /* dropout masks: Philox(rng_seed, layer, rng_step) */
  long long rng_step;
  long long bn_batches;      /* num_batches_tracked of every batch-norm layer */
  long long adam_step;       /* Adam steps taken (t) */
  /* Data-parallel replicas (clgan_gan installs these during an iteration; NULL/0 on one
   * device, and then nothing changes):
   *   replica_sum: sums v[0..n) over the replicas in place; when set, training-mode batch
   *     norms use the statistics of the whole batch (sync-bn), through the partial kernels
   *     and the bn_part / bn_total buffers (allocated on first use);
   *   layer_grads_done: called after each layer with parameters has written its final
   *     parameter gradients, in a backward with param_grads while notify_grads is set (the
   *     replicas start summing those gradients while the backward goes on);
   *   global_batch, sample_off: the batch of all replicas and this replica's first sample
   *     in it (dropout masks and sync-bn counts; 0, 0: the local batch alone). */
  clgan_status (*replica_sum)(void *user, double *v, size_t n);
  clgan_status (*layer_grads_done)(void *user, struct clgan_net *net, int layer);
  void *replica_user;
  int notify_grads, global_batch, sample_off;
  cl_mem bn_part, bn_total;  /* (2 * widest batch norm's C) each */
  cl_mem sn;                 /* spectral norm (sn=1 layers): W / sigma and work per layer, a
                                gradient scratch (src/nets/net_sn.c); NULL without sn layers */
  size_t *sn_off;            /* per layer: its W / sigma in sn */
  size_t sn_grad_off;
  /* gradient penalties (src/nets/net_penalty.c): the tangent of each tensor, in tacts
   * (act_floats, laid out as acts; allocated on first use), and tan_on: while set, the
   * backward's linear and conv layers take their weight gradient from the tangent of their
   * input and compute no bias gradient (the penalty's parameter gradient) */
  cl_mem tacts;
  clgan_view *tan_view;
  int tan_on;
  /* a minibatch stddev layer in a penalised D (at most one): its index (-1: none), the
   * Hessian-vector term r of its input written by the tan_on backward (rbuf, batch x its
   * input), and bwd_top: while > 0, clgan_net_backward runs only the layers below layer
   * bwd_top that its input depends on (r_need), dout being the gradient of that input */
  int mb_layer, bwd_top;
  cl_mem rbuf;
  char *r_need;
} clgan_net;

/* Planned device memory of a network at a batch, in floats. */
typedef struct clgan_net_memory {
  size_t params;             /* parameters, gradients (and Adam moments) and statistics */
  size_t acts;               /* activations and saves */
  size_t gacts;              /* activation gradients after reuse (+ the second-consumer scratch) */
  size_t gacts_unshared;     /* what they would take with one region per tensor */
  size_t ws;                 /* convolution scratch (and the reflect-pad buffer) */
} clgan_net_memory;
void clgan_net_memory_plan(const clgan_net_desc *d, int batch, int with_optimizer,
                           clgan_net_memory *out);

/* Device bytes a network needs at this batch (for "batch too big" messages). */
size_t clgan_net_device_bytes(const clgan_net_desc *d, int batch, int with_optimizer);

/* Allocates the arenas (with_optimizer: also the Adam moments, zeroed). `name` ("G",
 * "D") goes into allocation error messages. Parameters are left uninitialised. */
clgan_status clgan_net_create(clgan_ctx *ctx, const clgan_net_desc *d, int batch,
                              int with_optimizer, const char *name, clgan_net **out);
void clgan_net_free(clgan_net *net);

/* Binds an input other than the main one (a label's view counts int32s) for the
 * forwards that follow; the main input is forward's x. */
clgan_status clgan_net_bind(clgan_net *net, clgan_input_kind kind, clgan_view v);

/* The network's own input region (batch, in) and the output of the last forward. */
clgan_view clgan_net_input(const clgan_net *net);
clgan_view clgan_net_output(const clgan_net *net);

/* Forward of n <= batch samples from x (CLGAN_NONE: the net's own input region), the other
 * inputs from clgan_net_bind. Dropout is on unless mode is CLGAN_BN_EVAL. */
clgan_status clgan_net_forward(clgan_net *net, int n, clgan_view x, clgan_bn_mode mode);

/* Backward of the last forward, from dout (n, out). param_grads: compute weight
 * gradients (0 for a frozen network: only the data gradient flows); accumulate: add into
 * the gradient arena instead of overwriting. din: where d loss / d main input goes
 * (CLGAN_NONE: not needed, and not computed). A tensor used twice gets its gradients
 * summed in a fixed order (its consumers from the last to the first). */
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
