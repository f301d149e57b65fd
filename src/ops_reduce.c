/* src/ops_reduce.c: (to be written) */
#include "clgan/ops.h"
