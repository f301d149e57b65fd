/* src/io_safetensors.c: (to be written) */
#include "clgan/io.h"
