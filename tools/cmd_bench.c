/* `clgan bench` (to be written). */
#include "cli.h"

int cmd_bench(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "clgan bench: not implemented yet\n");
  return CLI_FAIL;
}
