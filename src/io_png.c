/* src/io_png.c: (to be written) */
#include "clgan/io.h"
