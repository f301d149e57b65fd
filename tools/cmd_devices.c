/* `clgan devices`: every platform and device, as a table or --json. Tests: tests/test_cli.sh */
#include <json-c/json.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"

static void help(void) {
  printf("usage: clgan devices [--json] [--device D]\n\n"
         "Lists every OpenCL platform and device with its global index and P:D pair, the\n"
         "values --device accepts. '*' marks the default device ($CLGAN_DEVICE, else the\n"
         "first GPU, else the first CPU). A platform or device that fails a query is\n"
         "reported and the others are still listed.\n"
         "  --json       machine-readable output\n"
         "  --device D   show only the device D selects (index, P:D, cpu, gpu or part of a\n"
         "               name): a way to check a selection before a long run\n");
}

static double mib(unsigned long long b) { return (double)b / (1024.0 * 1024.0); }

static json_object *device_json(const clgan_device_info *d, int is_default) {
  json_object *o = json_object_new_object();
  json_object_object_add(o, "index", json_object_new_int(d->index));
  char pd[32];
  snprintf(pd, sizeof pd, "%d:%d", d->platform_index, d->device_index);
  json_object_object_add(o, "id", json_object_new_string(pd));
  json_object_object_add(o, "platform", json_object_new_string(d->platform_name));
  json_object_object_add(o, "platform_version", json_object_new_string(d->platform_version));
  json_object_object_add(o, "name", json_object_new_string(d->name));
  json_object_object_add(o, "vendor", json_object_new_string(d->vendor));
  json_object_object_add(o, "type", json_object_new_string(clgan_device_type_name(d->type)));
  json_object_object_add(o, "driver_version", json_object_new_string(d->driver_version));
  json_object_object_add(o, "opencl_c_version", json_object_new_string(d->opencl_c_version));
  json_object_object_add(o, "compute_units", json_object_new_int((int)d->compute_units));
  json_object_object_add(o, "clock_mhz", json_object_new_int((int)d->clock_mhz));
  json_object_object_add(o, "global_mem_bytes", json_object_new_int64((int64_t)d->global_mem));
  json_object_object_add(o, "local_mem_bytes", json_object_new_int64((int64_t)d->local_mem));
  json_object_object_add(o, "max_alloc_bytes", json_object_new_int64((int64_t)d->max_alloc));
  json_object_object_add(o, "max_work_group_size",
                         json_object_new_int64((int64_t)d->max_work_group_size));
  json_object_object_add(o, "fp64", json_object_new_boolean(d->fp64));
  json_object_object_add(o, "fp16", json_object_new_boolean(d->fp16));
  json_object_object_add(o, "default", json_object_new_boolean(is_default));
  return o;
}

int cmd_devices(int argc, char **argv) {
  int as_json = 0;
  const char *only = NULL;
  const cli_opt opts[] = {
      {"--json", OPT_FLAG, &as_json, 0, 0, NULL},
      {"--device", OPT_STRING, &only, 0, 0, NULL},
  };
  int rc = cli_parse_opts("devices", argc, argv, opts, (int)(sizeof opts / sizeof *opts));
  if (rc < 0) {
    help();
    return CLI_OK;
  }
  if (rc) return rc;
  clgan_device_list l;
  clgan_status s = clgan_device_list_get(&l);
  if (s != CLGAN_OK) return cli_report(s);
  int def = -1;
  char def_problem[1024] = "";
  if (l.count > 0) {
    if (clgan_device_select(l.devices, l.count, NULL, &def) != CLGAN_OK) {
      snprintf(def_problem, sizeof def_problem, "%s", clgan_last_error());
      def = -1;
    }
  }
  if (only) {
    /* An explicit selection is a question about one device: answer it, or fail as
     * every other command would with the same --device. */
    int pick = -1;
    s = clgan_device_select(l.devices, l.count, only, &pick);
    if (s != CLGAN_OK) {
      clgan_device_list_free(&l);
      return cli_report(s);
    }
    if (pick != 0) l.devices[0] = l.devices[pick];
    def = def == pick ? 0 : -1;
    l.count = 1;
    *def_problem = '\0';
  }
  if (as_json) {
    json_object *root = json_object_new_object();
    json_object *arr = json_object_new_array();
    for (int i = 0; i < l.count; i++)
      json_object_array_add(arr, device_json(&l.devices[i], i == def));
    json_object_object_add(root, "devices", arr);
    json_object *probs = json_object_new_array();
    for (int i = 0; i < l.problem_count; i++)
      json_object_array_add(probs, json_object_new_string(l.problems[i]));
    if (*def_problem) json_object_array_add(probs, json_object_new_string(def_problem));
    json_object_object_add(root, "problems", probs);
    printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                            JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
  } else {
    int last_platform = -1;
    for (int i = 0; i < l.count; i++) {
      const clgan_device_info *d = &l.devices[i];
      if (d->platform_index != last_platform) {
        printf("Platform %d: %s (%s)\n", d->platform_index, d->platform_name,
               d->platform_version);
        last_platform = d->platform_index;
      }
      printf("%c [%d] %d:%d  %s  (%s, %s)\n", i == def ? '*' : ' ', d->index,
             d->platform_index, d->device_index, d->name, clgan_device_type_name(d->type),
             d->vendor);
      printf("      driver %s, %s, fp64 %s, fp16 %s\n", d->driver_version, d->opencl_c_version,
             d->fp64 ? "yes" : "no", d->fp16 ? "yes" : "no");
      printf("      %u compute units @ %u MHz, global %.0f MiB, local %.0f KiB, max alloc "
             "%.0f MiB, max work-group %zu\n",
             d->compute_units, d->clock_mhz, mib(d->global_mem), (double)d->local_mem / 1024.0,
             mib(d->max_alloc), d->max_work_group_size);
    }
    if (l.count == 0) printf("No OpenCL devices found.\n");
    for (int i = 0; i < l.problem_count; i++) printf("problem: %s\n", l.problems[i]);
    if (*def_problem) printf("problem: default device: %s\n", def_problem);
    else if (def >= 0) printf("* default device\n");
  }
  clgan_device_list_free(&l);
  return CLI_OK;
}
