/* src/ops_rng.c: (to be written) */
#include "clgan/ops.h"
