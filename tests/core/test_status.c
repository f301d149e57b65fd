/* Status codes and messages: names, formatting, prefixing, OpenCL error names. */
#include "test_util.h"

static clgan_status fails(void) { return clgan_error(CLGAN_ERR_IO, "cannot open '%s'", "x.idx"); }

int main(void) {
  clgan_error_clear();
  CHECK(strcmp(clgan_last_error(), "") == 0, "fresh message not empty");
  CHECK(fails() == CLGAN_ERR_IO, "status not returned");
  CHECK(clgan_last_status() == CLGAN_ERR_IO, "status not kept");
  CHECK(strcmp(clgan_last_error(), "cannot open 'x.idx'") == 0, "got '%s'", clgan_last_error());
  clgan_error_prefix("loading %s: ", "data");
  CHECK(strcmp(clgan_last_error(), "loading data: cannot open 'x.idx'") == 0, "got '%s'",
        clgan_last_error());
  CHECK(strcmp(clgan_status_name(CLGAN_ERR_BUILD), "CLGAN_ERR_BUILD") == 0, "name");
  CHECK(strcmp(clgan_status_name((clgan_status)-5555), "CLGAN_ERR_UNKNOWN") == 0, "unknown");
  CHECK(strcmp(clgan_cl_error_name(CL_OUT_OF_RESOURCES), "CL_OUT_OF_RESOURCES") == 0, "cl");
  CHECK(strcmp(clgan_cl_error_name(-9999), "CL_ERROR(-9999)") == 0, "cl unknown");
  CHECK(clgan_cl_check(CL_SUCCESS, "x") == CLGAN_OK, "success");
  CHECK(clgan_cl_check(CL_MEM_OBJECT_ALLOCATION_FAILURE, "clCreateBuffer") == CLGAN_ERR_NOMEM,
        "allocation failure maps to NOMEM");
  CHECK(strstr(clgan_last_error(), "clCreateBuffer failed: CL_MEM_OBJECT_ALLOCATION_FAILURE"),
        "got '%s'", clgan_last_error());
  CHECK(clgan_cl_check(CL_INVALID_KERNEL_ARGS, "clEnqueueNDRangeKernel") == CLGAN_ERR_OPENCL,
        "generic OpenCL error");
  /* a very long message is truncated, not overflowed */
  char big[100000];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  clgan_error(CLGAN_ERR_BUILD, "%s", big);
  CHECK(strlen(clgan_last_error()) < sizeof big, "truncated");
  clgan_error_clear();
  CHECK(clgan_last_status() == CLGAN_OK, "cleared");
  return tu_finish("status");
}
