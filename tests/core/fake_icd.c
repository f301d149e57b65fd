/* A fake OpenCL driver (ICD) whose queries fail on purpose, so tests can show that one bad
 * platform or device does not hide the others. Used by tests/core/test_query_failure.sh.
 * $CLGAN_FAKE_ICD_MODE picks the failure: "platform" (CL_PLATFORM_NAME fails), "devices"
 * (clGetDeviceIDs fails), "device" (device 0's CL_DEVICE_NAME fails, device 1 answers). */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl_icd.h>
#include <stdlib.h>
#include <string.h>

struct _cl_platform_id { cl_icd_dispatch *dispatch; };
struct _cl_device_id { cl_icd_dispatch *dispatch; int n; };

static cl_icd_dispatch table;
static struct _cl_platform_id platform = {&table};
static struct _cl_device_id devices[2] = {{&table, 0}, {&table, 1}};

static int mode_is(const char *m) {
  const char *v = getenv("CLGAN_FAKE_ICD_MODE");
  return v && strcmp(v, m) == 0;
}

static cl_int answer(const void *value, size_t n, size_t cap, void *dst, size_t *size_ret) {
  if (size_ret) *size_ret = n;
  if (dst) {
    if (cap < n) return CL_INVALID_VALUE;
    memcpy(dst, value, n);
  }
  return CL_SUCCESS;
}

static cl_int CL_API_CALL get_platform_info(cl_platform_id p, cl_platform_info what, size_t cap,
                                            void *dst, size_t *size_ret) {
  const char *s;
  switch (what) {
    /* the loader itself asks for these two; they must work for the platform to load */
    case CL_PLATFORM_EXTENSIONS: s = "cl_khr_icd"; break;
    case CL_PLATFORM_ICD_SUFFIX_KHR: s = "Fake"; break;
    case CL_PLATFORM_NAME:
      if (mode_is("platform")) return CL_OUT_OF_HOST_MEMORY;
      s = "Fake Failing Platform";
      break;
    case CL_PLATFORM_VERSION: s = "OpenCL 1.2 fake"; break;
    case CL_PLATFORM_VENDOR: s = "clgan tests"; break;
    case CL_PLATFORM_PROFILE: s = "FULL_PROFILE"; break;
    default: return CL_INVALID_VALUE;
  }
  return answer(s, strlen(s) + 1, cap, dst, size_ret);
}

static cl_int CL_API_CALL get_device_ids(cl_platform_id p, cl_device_type type, cl_uint cap,
                                         cl_device_id *out, cl_uint *n_ret) {
  if (mode_is("devices")) return CL_OUT_OF_RESOURCES;
  if (n_ret) *n_ret = 2;
  for (cl_uint i = 0; out && i < cap && i < 2; i++) out[i] = &devices[i];
  return CL_SUCCESS;
}

static cl_int CL_API_CALL get_device_info(cl_device_id d, cl_device_info what, size_t cap,
                                          void *dst, size_t *size_ret) {
  const char *s = NULL;
  cl_device_type type = CL_DEVICE_TYPE_ACCELERATOR;
  switch (what) {
    case CL_DEVICE_NAME:
      if (d->n == 0) return CL_OUT_OF_RESOURCES;
      s = "Fake Accelerator";
      break;
    case CL_DEVICE_VENDOR: s = "clgan tests"; break;
    case CL_DRIVER_VERSION: s = "0.0"; break;
    case CL_DEVICE_OPENCL_C_VERSION: s = "OpenCL C 1.2 fake"; break;
    case CL_DEVICE_TYPE: return answer(&type, sizeof type, cap, dst, size_ret);
    default: return CL_INVALID_VALUE;
  }
  return answer(s, strlen(s) + 1, cap, dst, size_ret);
}

CL_API_ENTRY cl_int CL_API_CALL clIcdGetPlatformIDsKHR(cl_uint cap, cl_platform_id *out,
                                                       cl_uint *n_ret) {
  table.clGetPlatformInfo = get_platform_info;
  table.clGetDeviceIDs = get_device_ids;
  table.clGetDeviceInfo = get_device_info;
  if (n_ret) *n_ret = 1;
  if (out && cap > 0) out[0] = &platform;
  return CL_SUCCESS;
}

/* ocl-icd looks this one up by name in the library too, before using the dispatch table. */
CL_API_ENTRY cl_int CL_API_CALL clGetPlatformInfo(cl_platform_id p, cl_platform_info what,
                                                  size_t cap, void *dst, size_t *size_ret) {
  return get_platform_info(p, what, cap, dst, size_ret);
}

CL_API_ENTRY void *CL_API_CALL clGetExtensionFunctionAddress(const char *name) {
  if (strcmp(name, "clIcdGetPlatformIDsKHR") == 0) return (void *)clIcdGetPlatformIDsKHR;
  return NULL;
}
