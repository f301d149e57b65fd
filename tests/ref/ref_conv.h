/* Float64 references: conv2d, conv_transpose2d, dense, bias (tests/ref/ref_conv.c). */
#ifndef CLGAN_REF_CONV_H
#define CLGAN_REF_CONV_H
#include <stddef.h>

#endif
