/* src/ops_optim.c: (to be written) */
#include "clgan/ops.h"
