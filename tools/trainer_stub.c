/* Temporary: `clgan train` and `clgan generate` while the trainer is built with -Dtrainer=false. */
#include "cli.h"

int cmd_train(int argc, char **argv) {
  (void)argc, (void)argv;
  fprintf(stderr, "clgan train: this build has no trainer (meson -Dtrainer=true)\n");
  return CLI_FAIL;
}

int cmd_tune(int argc, char **argv) {
  (void)argc, (void)argv;
  fprintf(stderr, "clgan tune: this build has no trainer (meson -Dtrainer=true)\n");
  return CLI_FAIL;
}

int cmd_generate(int argc, char **argv) {
  (void)argc, (void)argv;
  fprintf(stderr, "clgan generate: this build has no trainer (meson -Dtrainer=true)\n");
  return CLI_FAIL;
}
