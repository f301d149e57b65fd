/* src/io_dataset.c: (to be written) */
#include "clgan/io.h"
