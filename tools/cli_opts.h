/* Table-driven long-option parsing for the clgan commands: each option names its flag,
 * its kind and where the value goes; bad values are usage errors (exit 2). */
#ifndef CLGAN_CLI_OPTS_H
#define CLGAN_CLI_OPTS_H

typedef enum { OPT_FLAG, OPT_STRING, OPT_LONG, OPT_DOUBLE } opt_kind;

typedef struct cli_opt {
  const char *name;   /* "--batch" */
  opt_kind kind;
  void *dst;          /* int* (flag, set to 1), const char**, long*, double* */
  double lo, hi;      /* range for numbers */
  int *seen;          /* optional: set to 1 when given */
} cli_opt;

/* Parses argv[1..] ("--x v" or "--x=v"). Returns 0, CLI_USAGE after printing a usage
 * error, or -1 when --help was asked (the caller prints help and exits 0). */
int cli_parse_opts(const char *cmd, int argc, char **argv, const cli_opt *opts, int nopts);

#endif
