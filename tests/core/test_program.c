/* Kernel programs on the device: built once per context, options from the device's OpenCL C
 * version, $CLGAN_KERNEL_DIR overrides with fallback to the embedded sources, and a broken
 * kernel giving CLGAN_ERR_BUILD with the file and the compiler's log. */
#include "core_util.h"
#include "internal.h"
#include "test_util.h"

/* Same arguments as kernels/elementwise.cl's fill_f32 (src/ops/ops_elementwise.c launches it),
 * but it writes value + 1: a visible sign that this file, not the embedded one, ran.
 * OFF() comes from common.clh, which is not in the override folder: that is the fallback. */
static const char *override_elementwise =
    "__kernel void fill_f32(const ulong n, const float value, __global float *x,\n"
    "                       const ulong xo) {\n"
    "  size_t i = get_global_id(0);\n"
    "  if (i >= n) return;\n"
    "  OFF(x, xo)[i] = value + 1.0f;\n"
    "}\n";

static const char *broken_kernel =
    "__kernel void broken(__global float *x) {\n"
    "  x[get_global_id(0)] = clgan_no_such_identifier;\n"
    "}\n";

/* Fills n floats through the public launcher and returns how many equal `want`. */
static int fill_and_count(clgan_ctx *ctx, float value, float want) {
  enum { N = 37 };
  float host[N];
  cl_mem m = tu_upload(ctx, NULL, N);
  clgan_status s = clgan_fill(ctx, N, value, CLGAN_VIEW(m, 0));
  CHECK_OK(s);
  int same = 0;
  if (s == CLGAN_OK) {
    tu_download(ctx, m, 0, N, host);
    for (int i = 0; i < N; i++) same += host[i] == want;
  }
  clgan_buffer_release(&m);
  return same;
}

/* An embedded program other than elementwise: proves the others fall back. */
static const char *other_embedded(void) {
  for (const clgan_kernel_source *s = clgan_kernel_sources(); s->name; s++)
    if (strcmp(s->name, "common") != 0 && strcmp(s->name, "elementwise") != 0) return s->name;
  return NULL;
}

static void check_built_once(void) {
  clgan_ctx *ctx = tu_open_device();
  cl_program p1 = NULL, p2 = NULL;
  clgan_build_origin o1 = CLGAN_BUILT_MEMORY, o2 = CLGAN_BUILT_SOURCE;
  CHECK_OK(clgan_program_get(ctx, "elementwise", &p1, &o1));
  CHECK(o1 == CLGAN_BUILT_SOURCE, "first build in an empty cache is from source, got %d", o1);
  CHECK_OK(clgan_program_get(ctx, "elementwise", &p2, &o2));
  CHECK(p1 && p1 == p2, "same program object on the second call");
  CHECK(o2 == CLGAN_BUILT_MEMORY, "second call served from memory, got %d", o2);
  cl_kernel k1 = NULL, k2 = NULL, k3 = NULL;
  CHECK_OK(clgan_kernel_get(ctx, "elementwise", "fill_f32", &k1));
  CHECK_OK(clgan_kernel_get(ctx, "elementwise", "fill_f32", &k2));
  CHECK_OK(clgan_kernel_get(ctx, "elementwise", "axpy_f32", &k3));
  CHECK(k1 && k1 == k2, "same kernel object on the second call");
  CHECK(k3 && k3 != k1, "another kernel is another object");
  cl_program owner = NULL;
  CHECK(clGetKernelInfo(k3, CL_KERNEL_PROGRAM, sizeof owner, &owner, NULL) == CL_SUCCESS &&
            owner == p1,
        "both kernels come from the one program");
  CHECK(fill_and_count(ctx, 2.5f, 2.5f) == 37, "embedded fill writes the value");

  /* the options follow the device's OpenCL C version, not the platform's */
  int major = 0, minor = 0;
  char want[64];
  clgan_parse_cl_c_version(ctx->info.opencl_c_version, &major, &minor);
  clgan_build_options_for(major, minor, want, sizeof want);
  CHECK(strcmp(clgan_build_options(ctx), want) == 0, "options \"%s\" for '%s', want \"%s\"",
        clgan_build_options(ctx), ctx->info.opencl_c_version, want);
  if (major > 1 || (major == 1 && minor >= 2))
    CHECK(strcmp(clgan_build_options(ctx), "-cl-std=CL1.2") == 0, "C %d.%d device: \"%s\"",
          major, minor, clgan_build_options(ctx));

  /* bad names fail with a message that says which */
  cl_kernel bad = NULL;
  CHECK(clgan_kernel_get(ctx, "elementwise", "no_such_kernel", &bad) == CLGAN_ERR_OPENCL,
        "unknown kernel");
  CHECK(strstr(clgan_last_error(), "no_such_kernel") &&
            strstr(clgan_last_error(), "kernels/elementwise.cl") &&
            strstr(clgan_last_error(), "CL_INVALID_KERNEL_NAME"),
        "message: %s", clgan_last_error());
  CHECK(clgan_program_get(ctx, "no_such_program", &p2, NULL) == CLGAN_ERR_INVALID_ARG,
        "unknown program");
  CHECK(strstr(clgan_last_error(), "kernels/no_such_program.cl") != NULL, "message: %s",
        clgan_last_error());

  /* many kernels from many programs: no fixed table size gets in the way */
  int made = 0;
  for (const clgan_kernel_source *s = clgan_kernel_sources(); s->name; s++) {
    if (!strcmp(s->name, "common")) continue;
    cl_program p;
    CHECK_OK(clgan_program_get(ctx, s->name, &p, NULL));
    made++;
  }
  CHECK(made >= 2, "at least two embedded programs, found %d", made);

  /* local sizes respect the kernel's own limit and are powers of two */
  size_t kmax = 0;
  clGetKernelWorkGroupInfo(k1, ctx->info.device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kmax, &kmax,
                           NULL);
  size_t l = clgan_kernel_local_size(ctx, k1, 1u << 20);
  CHECK(l >= 1 && l <= kmax && (l & (l - 1)) == 0, "local size %zu, kernel max %zu", l, kmax);
  CHECK(clgan_kernel_local_size(ctx, k1, 3) == 2, "3 rounds down to 2");

  /* a second context builds its own program (from the disk cache now) */
  clgan_ctx *ctx2 = tu_open_device();
  cl_program q = NULL;
  clgan_build_origin oq = CLGAN_BUILT_MEMORY;
  CHECK_OK(clgan_program_get(ctx2, "elementwise", &q, &oq));
  CHECK(q && q != p1, "each context has its own program");
  CHECK(oq == CLGAN_BUILT_DISK_CACHE, "second context loads the disk cache, got %d", oq);
  clgan_ctx_free(ctx2);
  clgan_ctx_free(ctx);
}

static void check_kernel_dir(void) {
  char *dir = cu_temp_dir("kernels");
  cu_write(dir, "elementwise.cl", override_elementwise);
  cu_write(dir, "probe.cl", "__kernel void probe(__global float *x) { x[0] = 7.0f; }\n");
  setenv("CLGAN_KERNEL_DIR", dir, 1);
  clgan_ctx *ctx = tu_open_device();
  CHECK(fill_and_count(ctx, 2.5f, 3.5f) == 37, "the override in CLGAN_KERNEL_DIR ran");
  const char *other = other_embedded();
  cl_program p;
  if (other) CHECK_OK(clgan_program_get(ctx, other, &p, NULL)); /* not in the folder */
  cl_kernel k;
  CHECK_OK(clgan_kernel_get(ctx, "probe", "probe", &k)); /* only in the folder */
  clgan_ctx_free(ctx);

  /* the same folder without the override: back to the embedded copy */
  unsetenv("CLGAN_KERNEL_DIR");
  ctx = tu_open_device();
  CHECK(fill_and_count(ctx, 2.5f, 2.5f) == 37, "embedded fill again");
  CHECK(clgan_program_get(ctx, "probe", &p, NULL) == CLGAN_ERR_INVALID_ARG,
        "probe exists only in the folder");
  clgan_ctx_free(ctx);
  cu_rm_tree(dir);
  free(dir);
}

static void check_broken_kernel(const char *cache) {
  char *dir = cu_temp_dir("kernels");
  cu_write(dir, "broken.cl", broken_kernel);
  cu_write(dir, "elementwise.cl", broken_kernel);
  setenv("CLGAN_KERNEL_DIR", dir, 1);
  int entries_before = cu_count(cache, ".bin", NULL, 0);
  clgan_ctx *ctx = tu_open_device();
  cl_program p = NULL;
  clgan_status s = clgan_program_get(ctx, "broken", &p, NULL);
  const char *msg = clgan_last_error();
  CHECK(s == CLGAN_ERR_BUILD, "broken kernel gives CLGAN_ERR_BUILD, got %s",
        clgan_status_name(s));
  CHECK(strstr(msg, "kernels/broken.cl") != NULL, "names the file: %s", msg);
  CHECK(strstr(msg, dir) != NULL, "names the folder it was read from: %s", msg);
  CHECK(strstr(msg, "clgan_no_such_identifier") != NULL, "carries the build log: %s", msg);
  CHECK(strstr(msg, "CL_BUILD_PROGRAM_FAILURE") != NULL, "names the OpenCL error: %s", msg);
  /* #line makes the log count lines in the kernel file, not in common.clh + file (the
   * log format is the compiler's own: checked on POCL's clang) */
  if (strstr(ctx->info.platform_name, "Portable Computing Language"))
    CHECK(strstr(msg, "broken.cl:2:") != NULL, "log points at broken.cl line 2: %s", msg);
  cl_kernel k = NULL;
  CHECK(clgan_kernel_get(ctx, "broken", "broken", &k) == CLGAN_ERR_BUILD, "kernel_get too");
  /* an operator whose kernel file is broken reports the build, not a later symptom */
  cl_mem m = tu_upload(ctx, NULL, 4);
  CHECK(clgan_fill(ctx, 4, 1.0f, CLGAN_VIEW(m, 0)) == CLGAN_ERR_BUILD, "launcher passes it on");
  CHECK(strstr(clgan_last_error(), "kernels/elementwise.cl") != NULL, "message: %s",
        clgan_last_error());
  clgan_buffer_release(&m);
  CHECK(cu_count(cache, ".bin", NULL, 0) == entries_before, "a failed build caches nothing");
  clgan_ctx_free(ctx);
  unsetenv("CLGAN_KERNEL_DIR");
  cu_rm_tree(dir);
  free(dir);
}

/* '#include "NAME.clh"' is inlined from kernels/ (embedded or $CLGAN_KERNEL_DIR); errors
 * after it still count lines in the including file; a missing header names file and line. */
static void check_includes(void) {
  char *dir = cu_temp_dir("kernels");
  cu_write(dir, "seven.clh", "#define SEVEN 7.0f\nstatic float seven(void) { return SEVEN; }\n");
  cu_write(dir, "inc.cl", "/* line 1 */\n#include \"seven.clh\"\n"
                          "__kernel void inc(__global float *x) { x[0] = seven(); }\n");
  cu_write(dir, "incbad.cl", "#include \"seven.clh\"\n\n"
                             "__kernel void incbad(__global float *x) { x[0] = clgan_nope; }\n");
  cu_write(dir, "incmissing.cl", "\n\n#include \"nowhere.clh\"\n__kernel void m(void) {}\n");
  setenv("CLGAN_KERNEL_DIR", dir, 1);
  clgan_ctx *ctx = tu_open_device();
  cl_kernel k;
  CHECK_OK(clgan_kernel_get(ctx, "inc", "inc", &k));
  cl_mem m = tu_upload(ctx, NULL, 1);
  clSetKernelArg(k, 0, sizeof m, &m);
  size_t one = 1;
  float v = 0.0f;
  CHECK(clEnqueueNDRangeKernel(ctx->queue, k, 1, NULL, &one, &one, 0, NULL, NULL) == CL_SUCCESS &&
            clEnqueueReadBuffer(ctx->queue, m, CL_TRUE, 0, sizeof v, &v, 0, NULL, NULL) == CL_SUCCESS,
        "run the kernel with an included header");
  CHECK(v == 7.0f, "the header's function ran: %g", v);
  clgan_buffer_release(&m);
  cl_program p;
  CHECK(clgan_program_get(ctx, "incbad", &p, NULL) == CLGAN_ERR_BUILD, "incbad fails to build");
  if (strstr(ctx->info.platform_name, "Portable Computing Language"))
    CHECK(strstr(clgan_last_error(), "incbad.cl:3:") != NULL, "log points at incbad.cl line 3: %s",
          clgan_last_error());
  CHECK(clgan_program_get(ctx, "incmissing", &p, NULL) == CLGAN_ERR_INVALID_ARG,
        "a missing header is refused");
  CHECK(strstr(clgan_last_error(), "kernels/incmissing.cl:3:") != NULL &&
            strstr(clgan_last_error(), "nowhere.clh") != NULL,
        "names the including file, line and header: %s", clgan_last_error());
  clgan_ctx_free(ctx);
  unsetenv("CLGAN_KERNEL_DIR");
  cu_rm_tree(dir);
  free(dir);
}

int main(void) {
  char *cache = cu_temp_dir("program-cache");
  setenv("CLGAN_CACHE_DIR", cache, 1);
  unsetenv("CLGAN_CACHE");
  unsetenv("CLGAN_KERNEL_DIR");
  check_built_once();
  check_kernel_dir();
  check_includes();
  check_broken_kernel(cache);
  cu_rm_tree(cache);
  free(cache);
  return tu_finish("program");
}
