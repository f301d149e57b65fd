/* src/ops_conv.c: (to be written) */
#include "clgan/ops.h"
