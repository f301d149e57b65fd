/* Shared helpers for the clgan command-line tool (tools/). */
#ifndef CLGAN_CLI_H
#define CLGAN_CLI_H

#include <stdio.h>

#include "clgan/clgan.h"

/* Exit codes: 0 ok, 1 a failure while working, 2 a usage error or bad device selection. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_INTERRUPTED = 130 };

/* Prints "clgan: error: <message>" for the last library error; returns the exit code
 * that fits the status (2 for selection and argument errors, else 1). */
int cli_report(clgan_status s);
/* Prints "clgan <cmd>: <message>" plus a hint to --help; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses numbers strictly (whole string, range); print a usage error on failure. */
int cli_parse_long(const char *cmd, const char *flag, const char *arg, long lo, long hi,
                   long *out);
int cli_parse_double(const char *cmd, const char *flag, const char *arg, double lo, double hi,
                     double *out);

/* Opens a context on the device chosen by `spec` (NULL: $CLGAN_DEVICE or the default). */
int cli_open_device(const char *spec, unsigned flags, clgan_ctx **ctx);
/* Resolves a selection to a device's description without opening it (for commands that
 * hand the same device to child processes); prints the error and returns its exit code. */
int cli_select_device(const char *spec, clgan_device_info *out);

double cli_now(void); /* monotonic seconds */
/* The data order of epoch `epoch`: a Fisher-Yates shuffle from (seed, epoch) alone, so a
 * resumed run (and a retrained classifier) sees the same order. */
void cli_epoch_order(int *perm, int n, unsigned long long seed, long long epoch);

int cmd_devices(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_eval(int argc, char **argv); /* tools/cmd_eval.c */
int cmd_bench(int argc, char **argv);
int cmd_tune(int argc, char **argv); /* tools/cmd_tune.c */
int cmd_classify(int argc, char **argv); /* tools/cmd_classify.c */
/* image-to-image (tools/cmd_i2i.c): `clgan train` hands a model taking 'cond' (or --task)
 * to cmd_train_i2i; `clgan translate` */
int i2i_wanted(int argc, char **argv);
int cmd_train_i2i(int argc, char **argv);
int cmd_translate(int argc, char **argv);
/* text-to-image (tools/cmd_t2i.c): `clgan train --task captions` (or a model taking 'text')
 * and `clgan generate --text` / `--interpolate A B` */
int progan_wanted(int argc, char **argv); /* tools/cmd_progan.c: a progressive model */
int cmd_train_progan(int argc, char **argv);
int t2i_wanted(int argc, char **argv);
int cmd_train_t2i(int argc, char **argv);
int t2i_generate_wanted(int argc, char **argv);
int cmd_generate_text(int argc, char **argv);
/* `clgan upscale` (tools/cmd_upscale.c): an SR checkpoint over images of any size, tiled */
int cmd_upscale(int argc, char **argv);
/* `clgan bench ops|train` (tools/bench_ops.c, tools/bench_train.c); until those files exist,
 * weak placeholders in tools/cmd_bench.c answer "not implemented yet". */
int cmd_bench_ops(int argc, char **argv);
int cmd_bench_train(int argc, char **argv);

#endif
