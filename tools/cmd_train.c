/* `clgan train` (to be written). */
#include "cli.h"

int cmd_train(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "clgan train: not implemented yet\n");
  return CLI_FAIL;
}
