/* Plain C float64 references for every operator: what the device kernels are tested
 * against (tests/test_ops_*.c) and what `clgan doctor` checks on a user's device.
 * Inputs and outputs are float arrays in the same layouts as the device ops
 * (include/clgan/ops.h); arithmetic is done in double. */
#ifndef CLGAN_REF_H
#define CLGAN_REF_H

#include <stddef.h>

/* C(MxN) = alpha * op(A) * op(B) + beta * C, row-major. */
void ref_gemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
              const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
              size_t ldc);

/* Largest |got - want| / (abs_tol + rel_tol * |want|) over n values: <= 1 passes. */
double ref_max_err(const float *got, const float *want, size_t n, double abs_tol,
                   double rel_tol, size_t *worst_index);

/* Deterministic test data in [-1, 1) from a seed (splitmix64). */
void ref_fill_uniform(float *x, size_t n, unsigned long long seed);

#include "ref_conv.h" /* conv2d, conv_transpose2d, dense, bias */
#include "ref_nn.h"   /* batch norm, activations, losses, optimisers, RNG, reductions */

#endif
