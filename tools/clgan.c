/* The clgan command: dispatches to tools/cmd_*.c. Tests: tests/test_cli.sh */
#include <string.h>

#include "cli.h"

static const struct {
  const char *name;
  int (*run)(int, char **);
  const char *help;
} commands[] = {
    {"devices", cmd_devices, "list OpenCL platforms and devices"},
    {"doctor", cmd_doctor, "build every kernel and check each against its C reference"},
    {"train", cmd_train, "train a GAN (Fashion-MNIST and dcgan28 by default)"},
    {"translate", cmd_translate, "image-to-image: run a pix2pix checkpoint on images"},
    {"upscale", cmd_upscale, "super-resolution: enlarge images with an SR checkpoint (tiled)"},
    {"generate", cmd_generate, "write images from a checkpoint's generator"},
    {"eval", cmd_eval, "sample quality: FD, KID, precision/recall, class histogram"},
    {"bench", cmd_bench, "measure speed: kernel start-up, operators, training"},
    {"tune", cmd_tune, "tune CLBlast's GEMM kernels for a model on a device"},
    {"classify", cmd_classify, "train or test an image classifier (clgan eval's features)"},
};

static void usage(FILE *f) {
  fprintf(f,
          "usage: clgan <command> [options]\n"
          "       clgan --help | --version\n\n"
          "Trains generative adversarial networks on any OpenCL device.\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
  fprintf(f,
          "\nEvery command takes --device D: a global index, P:D, cpu, gpu, or part of a\n"
          "device or platform name. $CLGAN_DEVICE sets the default; otherwise the first GPU,\n"
          "else the first CPU device. 'clgan <command> --help' describes each command.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLI_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return CLI_OK;
  }
  if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
    printf("clgan %s\n", CLGAN_VERSION_STRING);
    return CLI_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "clgan: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return CLI_USAGE;
}
