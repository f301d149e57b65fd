/* Error reporting, number parsing and device opening shared by the clgan commands. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

#include "cli.h"

int cli_report(clgan_status s) {
  fprintf(stderr, "clgan: error: %s\n", clgan_last_error());
  switch (s) {
    case CLGAN_ERR_NO_DEVICE:
    case CLGAN_ERR_AMBIGUOUS:
    case CLGAN_ERR_INVALID_ARG:
      return CLI_USAGE;
    case CLGAN_ERR_INTERRUPTED:
      return CLI_INTERRUPTED;
    default:
      return CLI_FAIL;
  }
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "clgan%s%s: ", cmd ? " " : "", cmd ? cmd : "");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'clgan %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
  return CLI_USAGE;
}

int cli_parse_long(const char *cmd, const char *flag, const char *arg, long lo, long hi,
                   long *out) {
  char *end;
  errno = 0;
  long v = strtol(arg, &end, 10);
  if (errno || end == arg || *end) {
    cli_usage_error(cmd, "%s expects an integer, got '%s'", flag, arg);
    return -1;
  }
  if (v < lo || v > hi) {
    cli_usage_error(cmd, "%s must be between %ld and %ld, got %ld", flag, lo, hi, v);
    return -1;
  }
  *out = v;
  return 0;
}

int cli_parse_double(const char *cmd, const char *flag, const char *arg, double lo, double hi,
                     double *out) {
  char *end;
  errno = 0;
  double v = strtod(arg, &end);
  if (errno || end == arg || *end || !isfinite(v)) {
    cli_usage_error(cmd, "%s expects a number, got '%s'", flag, arg);
    return -1;
  }
  if (v < lo || v > hi) {
    cli_usage_error(cmd, "%s must be between %g and %g, got %g", flag, lo, hi, v);
    return -1;
  }
  *out = v;
  return 0;
}

int cli_open_device(const char *spec, unsigned flags, clgan_ctx **ctx) {
  clgan_status s = clgan_ctx_create(spec, flags, ctx);
  return s == CLGAN_OK ? CLI_OK : cli_report(s);
}

int cli_select_device(const char *spec, clgan_device_info *out) {
  clgan_device_list l;
  clgan_status s = clgan_device_list_get(&l);
  if (s != CLGAN_OK) return cli_report(s);
  int pick = -1;
  s = clgan_device_select(l.devices, l.count, spec, &pick);
  if (s == CLGAN_OK) *out = l.devices[pick];
  clgan_device_list_free(&l);
  return s == CLGAN_OK ? CLI_OK : cli_report(s);
}

double cli_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_epoch_order(int *perm, int n, unsigned long long seed, long long epoch) {
  unsigned long long s = seed * 0x9E3779B97F4A7C15ull ^ ((unsigned long long)epoch + 1) * 0xD1B54A32D192ED03ull;
  for (int i = 0; i < n; i++) perm[i] = i;
  for (int i = n - 1; i > 0; i--) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    int j = (int)(s % (unsigned long long)(i + 1));
    int t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
}
