/* Float64 references: batch norm, activations, losses, optimisers, RNG, reductions (tests/ref/ref_nn.c). */
#ifndef CLGAN_REF_NN_H
#define CLGAN_REF_NN_H
#include <stddef.h>

#endif
