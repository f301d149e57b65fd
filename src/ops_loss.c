/* src/ops_loss.c: (to be written) */
#include "clgan/ops.h"
