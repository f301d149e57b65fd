/* Float64 references for conv2d, conv_transpose2d, dense, bias (to be written). */
#include "ref.h"
