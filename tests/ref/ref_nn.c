/* Float64 references for batch norm, activations, losses, optimisers, RNG, reductions (to be written). */
#include "ref.h"
