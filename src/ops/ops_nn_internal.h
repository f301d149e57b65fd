/* Shared by the nn operator launchers (src/ops/ops_batchnorm.c, ops_loss.c, ops_reduce.c):
 * work-group sizing for kernels that reduce in local memory. */
#ifndef CLGAN_OPS_NN_INTERNAL_H
#define CLGAN_OPS_NN_INTERNAL_H

#include "clgan/program.h"

/* A power-of-two local size <= want that the kernel allows and whose local scratch
 * (bytes_per_item each) fits in half the device's local memory, leaving the rest to the
 * implementation. */
static inline size_t clgan_nn_group_size(clgan_ctx *ctx, cl_kernel k, size_t want,
                                         size_t bytes_per_item) {
  size_t l = clgan_kernel_local_size(ctx, k, want);
  unsigned long long cap = ctx->info.local_mem ? ctx->info.local_mem / 2 : 16384;
  while (l > 1 && (unsigned long long)l * bytes_per_item > cap) l /= 2;
  return l;
}

/* 1 on a device that is only a CPU: every barrier there is a pass over the group and strided
 * reads miss the TLB, so the reductions use few items per group reading contiguous blocks.
 * (Oclgrind calls itself CPU and GPU, so its runs check the wide-group path.) */
static inline int clgan_nn_cpu_only(const clgan_ctx *ctx) {
  return (ctx->info.type & CL_DEVICE_TYPE_CPU) &&
         !(ctx->info.type & (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR));
}

/* Smallest power of two >= n (1 for n <= 1), capped at cap. */
static inline size_t clgan_nn_pow2_at_least(size_t n, size_t cap) {
  size_t p = 1;
  while (p < n && p < cap) p *= 2;
  return p;
}

#endif
