/* src/ops_batchnorm.c: (to be written) */
#include "clgan/ops.h"
