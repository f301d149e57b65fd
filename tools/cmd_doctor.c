/* `clgan doctor`: builds every kernel program on the device, then runs each check in
 * tools/doctor_*.c against its C reference. Exit 0 only if all pass. Tests: tests/test_cli.sh */
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "doctor.h"

static void help(void) {
  printf("usage: clgan doctor [--device D] [--only TEXT]\n\n"
         "Builds every kernel on the device (from the cache where possible) and runs each\n"
         "operator once on small inputs against its float64 C reference, plus a CLBlast\n"
         "SGEMM. Prints one row per check and exits non-zero if any fails. Run it first on\n"
         "a new device.\n"
         "  --device D    device to check (index, P:D, cpu, gpu or part of a name)\n"
         "  --only TEXT   run only the checks whose name contains TEXT (any case); every\n"
         "                kernel is still built\n");
}

static const char *origin_name(clgan_build_origin o) {
  return o == CLGAN_BUILT_DISK_CACHE ? "disk cache" : o == CLGAN_BUILT_MEMORY ? "memory" : "source";
}

int cmd_doctor(int argc, char **argv) {
  const char *spec = NULL, *only = NULL;
  const cli_opt opts[] = {{"--device", OPT_STRING, &spec, 0, 0, NULL},
                          {"--only", OPT_STRING, &only, 0, 0, NULL}};
  int rc = cli_parse_opts("doctor", argc, argv, opts, 2);
  if (rc < 0) {
    help();
    return CLI_OK;
  }
  if (rc) return rc;
  const doctor_check *tables[] = {doctor_checks_basic, doctor_checks_conv, doctor_checks_nn,
                                  doctor_checks_graph, doctor_checks_i2i, doctor_checks_text};
  const size_t ntables = sizeof tables / sizeof *tables;
  if (only) {
    int matched = 0;
    for (size_t t = 0; t < ntables; t++)
      for (const doctor_check *c = tables[t]; c->name; c++) matched += !!strcasestr(c->name, only);
    if (!matched) return cli_usage_error("doctor", "no check name contains '%s'", only);
  }
  clgan_ctx *ctx;
  if ((rc = cli_open_device(spec, 0, &ctx))) return rc;
  printf("device: %s (%s), %s, build options \"%s\"\n", ctx->info.name, ctx->info.platform_name,
         ctx->info.opencl_c_version, clgan_build_options(ctx));
  const char *cdir = clgan_cache_dir();
  printf("kernel cache: %s\n", cdir ? cdir : "off");
  int failures = 0, total = 0;
  double t_all = cli_now();
  for (const clgan_kernel_source *src = clgan_kernel_sources(); src->name; src++) {
    if (!strcmp(src->name, "common")) continue;
    double t0 = cli_now();
    cl_program p;
    clgan_build_origin org;
    clgan_status s = clgan_program_get(ctx, src->name, &p, &org);
    double dt = cli_now() - t0;
    total++;
    if (s == CLGAN_OK) {
      printf("pass  build %-22s %8.3f s  (%s)\n", src->name, dt, origin_name(org));
    } else {
      failures++;
      printf("FAIL  build %-22s %8.3f s\n", src->name, dt);
      fprintf(stderr, "clgan: error: %s\n", clgan_last_error());
    }
  }
  for (size_t t = 0; t < ntables; t++)
    for (const doctor_check *c = tables[t]; c->name; c++) {
      if (only && !strcasestr(c->name, only)) continue;
      double err = -1.0;
      char detail[256] = "";
      double t0 = cli_now();
      clgan_status s = c->run(ctx, &err, detail, sizeof detail);
      if (s == CLGAN_OK) s = clgan_ctx_finish(ctx);
      double dt = cli_now() - t0;
      total++;
      if (s != CLGAN_OK) {
        failures++;
        printf("FAIL  %-28s %8.3f s  could not run\n", c->name, dt);
        fprintf(stderr, "clgan: error: %s: %s\n", c->name, clgan_last_error());
      } else if (!(err <= 1.0)) {
        failures++;
        printf("FAIL  %-28s %8.3f s  error %.3g x tolerance  %s\n", c->name, dt, err, detail);
      } else {
        printf("pass  %-28s %8.3f s  error %.3g x tolerance  %s\n", c->name, dt, err, detail);
      }
    }
  printf("%d checks, %d passed, %d failed, %.2f s\n", total, total - failures, failures,
         cli_now() - t_all);
  clgan_ctx_free(ctx);
  return failures ? CLI_FAIL : CLI_OK;
}
