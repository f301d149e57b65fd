/* src/ops_activation.c: (to be written) */
#include "clgan/ops.h"
