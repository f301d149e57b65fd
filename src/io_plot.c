/* src/io_plot.c: (to be written) */
#include "clgan/io.h"
