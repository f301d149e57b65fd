/* `clgan generate` (to be written). */
#include "cli.h"

int cmd_generate(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "clgan generate: not implemented yet\n");
  return CLI_FAIL;
}
