/* Long-option parsing for the clgan commands (see cli_opts.h). */
#include "cli_opts.h"

#include <string.h>

#include "cli.h"

int cli_parse_opts(const char *cmd, int argc, char **argv, const cli_opt *opts, int nopts) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) return -1;
    const cli_opt *o = NULL;
    const char *val = NULL;
    for (int k = 0; k < nopts && !o; k++) {
      size_t n = strlen(opts[k].name);
      if (!strncmp(a, opts[k].name, n) && (a[n] == '\0' || a[n] == '=')) {
        o = &opts[k];
        if (a[n] == '=') val = a + n + 1;
      }
    }
    if (!o) return cli_usage_error(cmd, "unknown option '%s'", a);
    if (o->seen) *o->seen = 1;
    if (o->kind == OPT_FLAG) {
      if (val) return cli_usage_error(cmd, "%s takes no value", o->name);
      *(int *)o->dst = 1;
      continue;
    }
    if (!val) {
      if (i + 1 >= argc) return cli_usage_error(cmd, "%s needs a value", o->name);
      val = argv[++i];
    }
    switch (o->kind) {
      case OPT_STRING:
        if (!*val) return cli_usage_error(cmd, "%s needs a non-empty value", o->name);
        *(const char **)o->dst = val;
        break;
      case OPT_LONG:
        if (cli_parse_long(cmd, o->name, val, (long)o->lo, (long)o->hi, (long *)o->dst))
          return CLI_USAGE;
        break;
      case OPT_DOUBLE:
        if (cli_parse_double(cmd, o->name, val, o->lo, o->hi, (double *)o->dst)) return CLI_USAGE;
        break;
      default:
        break;
    }
  }
  return 0;
}
