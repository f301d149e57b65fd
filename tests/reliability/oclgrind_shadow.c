/* Oclgrind's uninitialised-value shadow of global memory, with plain OpenCL (no clgan, no
 * CLBlast): the minimal reproducer behind docs/ERRORS.md's Oclgrind note and the rule the
 * library follows for it (src/train/gan.c). Run one CASE per process, under Oclgrind with
 * OCLGRIND_UNINITIALIZED=1 (tests/reliability/oclgrind_shadow.sh does): every case writes
 * all 16 floats of a buffer `b` one way or another, then the kernel `copy` reads all 16 and
 * stores them into `out`; Oclgrind reports "Uninitialized value written to global memory"
 * in `copy` for each value it wrongly thinks was never written.
 *
 *   control        a kernel writes b                                   clean
 *   whole          the host writes all of b (one write from offset 0)  clean
 *   partial        a kernel writes b, then the host floats 0..3        reports 4..15
 *   partial_first  the host writes floats 0..3, then a kernel all 16   reports 4..15
 *   offset         a kernel writes b, then the host floats 8..11       reports at random
 *   fill           clEnqueueFillBuffer over all of b                   reports (nearly) all
 *   reuse          a released 4-float buffer's id taken by b, which a
 *                  kernel then writes                                  reports 4..15
 *   reuse_whole    the same, b first written whole by the host         clean
 *
 * Why (Oclgrind 21.10, src/plugins/Uninitialized.cpp): a host store (write, copy, fill,
 * map for writing) replaces the shadow of the whole buffer with a clean one the size of
 * that store, so a partial store shrinks it; kernel stores past its end are dropped and
 * loads past it read as uninitialised; a store at an offset leaves a shadow of
 * uninitialised host bytes. clEnqueueFillBuffer stores pattern by pattern, each one such a
 * store. The shadow is not freed with the buffer: a new buffer given the same id keeps it,
 * size included, unless a host store replaces it. Results are right in every case; only
 * the diagnostics are false. Exit 77 without an Oclgrind platform. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 16

static const char *src =
    "__kernel void set(__global float *b) { b[get_global_id(0)] = (float)get_global_id(0); }\n"
    "__kernel void copy(__global const float *a, __global float *b) {\n"
    "  size_t i = get_global_id(0);\n"
    "  b[i] = a[i];\n"
    "}\n";

static cl_context ctx;
static cl_command_queue q;

static void check(cl_int e, int line) {
  if (e == CL_SUCCESS) return;
  fprintf(stderr, "oclgrind_shadow.c:%d: OpenCL error %d\n", line, (int)e);
  exit(1);
}
#define CK(e) check((e), __LINE__)

static cl_mem buffer(size_t floats) {
  cl_int e;
  cl_mem m = clCreateBuffer(ctx, CL_MEM_READ_WRITE, floats * sizeof(float), NULL, &e);
  CK(e);
  return m;
}

static void host_write(cl_mem m, size_t first, size_t count) {
  static const float zeros[N];
  CK(clEnqueueWriteBuffer(q, m, CL_TRUE, first * sizeof(float), count * sizeof(float), zeros, 0,
                          NULL, NULL));
}

static void launch(cl_kernel k, cl_mem a, cl_mem b) {
  size_t n = N;
  CK(clSetKernelArg(k, 0, sizeof a, &a));
  if (b) CK(clSetKernelArg(k, 1, sizeof b, &b));
  CK(clEnqueueNDRangeKernel(q, k, 1, NULL, &n, NULL, 0, NULL, NULL));
  CK(clFinish(q));
}

int main(int argc, char **argv) {
  const char *c = argc > 1 ? argv[1] : "control";
  cl_platform_id plats[16], plat = NULL;
  cl_uint np = 0;
  if (clGetPlatformIDs(16, plats, &np) != CL_SUCCESS) np = 0;
  for (cl_uint i = 0; i < np && i < 16; i++) {
    char name[256] = "";
    clGetPlatformInfo(plats[i], CL_PLATFORM_NAME, sizeof name, name, NULL);
    if (strstr(name, "Oclgrind")) plat = plats[i];
  }
  if (!plat) {
    printf("SKIP: no Oclgrind platform\n");
    return 77;
  }
  cl_device_id dev;
  cl_int e;
  CK(clGetDeviceIDs(plat, CL_DEVICE_TYPE_ALL, 1, &dev, NULL));
  ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &e);
  CK(e);
  q = clCreateCommandQueue(ctx, dev, 0, &e);
  CK(e);
  cl_program prog = clCreateProgramWithSource(ctx, 1, &src, NULL, &e);
  CK(e);
  CK(clBuildProgram(prog, 1, &dev, "", NULL, NULL));
  cl_kernel set = clCreateKernel(prog, "set", &e);
  CK(e);
  cl_kernel copy = clCreateKernel(prog, "copy", &e);
  CK(e);

  cl_mem out = buffer(N), b = NULL;
  launch(set, out, NULL);
  if (!strcmp(c, "control")) {
    b = buffer(N);
    launch(set, b, NULL);
  } else if (!strcmp(c, "whole")) {
    b = buffer(N);
    host_write(b, 0, N);
  } else if (!strcmp(c, "partial")) {
    b = buffer(N);
    launch(set, b, NULL);
    host_write(b, 0, 4);
  } else if (!strcmp(c, "partial_first")) {
    b = buffer(N);
    host_write(b, 0, 4);
    launch(set, b, NULL);
  } else if (!strcmp(c, "offset")) {
    b = buffer(N);
    launch(set, b, NULL);
    host_write(b, 8, 4);
  } else if (!strcmp(c, "fill")) {
    b = buffer(N);
    float zero = 0.0f;
    CK(clEnqueueFillBuffer(q, b, &zero, sizeof zero, 0, N * sizeof(float), 0, NULL, NULL));
    CK(clFinish(q));
  } else if (!strcmp(c, "reuse") || !strcmp(c, "reuse_whole")) {
    cl_mem small = buffer(4);
    host_write(small, 0, 4);
    CK(clReleaseMemObject(small));
    b = buffer(N);
    if (!strcmp(c, "reuse_whole")) host_write(b, 0, N);
    launch(set, b, NULL);
  } else {
    fprintf(stderr, "oclgrind_shadow: unknown case '%s'\n", c);
    return 2;
  }
  launch(copy, b, out);

  /* the values are right whatever Oclgrind reports */
  float got[N];
  CK(clEnqueueReadBuffer(q, out, CL_TRUE, 0, sizeof got, got, 0, NULL, NULL));
  int bad = 0;
  for (int i = 0; i < N; i++) {
    int host0 = (!strcmp(c, "whole") || !strcmp(c, "fill")) ||
                (!strcmp(c, "partial") && i < 4) || (!strcmp(c, "offset") && i >= 8 && i < 12);
    float want = host0 ? 0.0f : (float)i;
    if (got[i] != want) bad++;
  }
  printf("%s: %s\n", c, bad ? "WRONG VALUES" : "values right");
  clReleaseMemObject(b);
  clReleaseMemObject(out);
  clReleaseKernel(set);
  clReleaseKernel(copy);
  clReleaseProgram(prog);
  clReleaseCommandQueue(q);
  clReleaseContext(ctx);
  return bad ? 1 : 0;
}
