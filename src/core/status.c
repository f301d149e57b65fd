/* Per-thread error message plumbing and error-code names. Tests: tests/core/test_status.c */
#include "clgan/status.h"

#include <CL/cl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Build logs can be long; 64 KiB keeps a whole POCL/NVIDIA log for one kernel. */
#define CLGAN_ERRBUF 65536

static _Thread_local char err_msg[CLGAN_ERRBUF];
static _Thread_local clgan_status err_status = CLGAN_OK;

const char *clgan_last_error(void) { return err_msg; }
clgan_status clgan_last_status(void) { return err_status; }

void clgan_error_clear(void) {
  err_msg[0] = '\0';
  err_status = CLGAN_OK;
}

/* Scratch for formatting: an argument may be clgan_last_error() itself, and vsnprintf
 * into the buffer it reads from is undefined. */
static _Thread_local char fmt_tmp[CLGAN_ERRBUF];

clgan_status clgan_error(clgan_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(fmt_tmp, sizeof fmt_tmp, fmt, ap);
  va_end(ap);
  memcpy(err_msg, fmt_tmp, strlen(fmt_tmp) + 1);
  err_status = s;
  return s;
}

clgan_status clgan_error_prefix(const char *fmt, ...) {
  char *tmp = fmt_tmp;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, CLGAN_ERRBUF, fmt, ap);
  va_end(ap);
  if (n < 0) return err_status;
  if ((size_t)n < CLGAN_ERRBUF) snprintf(tmp + n, CLGAN_ERRBUF - (size_t)n, "%s", err_msg);
  memcpy(err_msg, tmp, sizeof err_msg);
  err_msg[sizeof err_msg - 1] = '\0';
  return err_status;
}

const char *clgan_status_name(clgan_status s) {
  switch (s) {
#define N(x) case x: return #x;
    N(CLGAN_OK) N(CLGAN_ERR_INVALID_ARG) N(CLGAN_ERR_NO_PLATFORM) N(CLGAN_ERR_NO_DEVICE)
    N(CLGAN_ERR_AMBIGUOUS) N(CLGAN_ERR_OPENCL) N(CLGAN_ERR_BUILD) N(CLGAN_ERR_CLBLAST)
    N(CLGAN_ERR_IO) N(CLGAN_ERR_FORMAT) N(CLGAN_ERR_NOMEM) N(CLGAN_ERR_MISMATCH)
    N(CLGAN_ERR_NUMERIC) N(CLGAN_ERR_INTERRUPTED) N(CLGAN_ERR_INTERNAL)
#undef N
  }
  return "CLGAN_ERR_UNKNOWN";
}

const char *clgan_cl_error_name(int e) {
  switch (e) {
#define N(x) case x: return #x;
    N(CL_SUCCESS) N(CL_DEVICE_NOT_FOUND) N(CL_DEVICE_NOT_AVAILABLE) N(CL_COMPILER_NOT_AVAILABLE)
    N(CL_MEM_OBJECT_ALLOCATION_FAILURE) N(CL_OUT_OF_RESOURCES) N(CL_OUT_OF_HOST_MEMORY)
    N(CL_PROFILING_INFO_NOT_AVAILABLE) N(CL_MEM_COPY_OVERLAP) N(CL_IMAGE_FORMAT_MISMATCH)
    N(CL_IMAGE_FORMAT_NOT_SUPPORTED) N(CL_BUILD_PROGRAM_FAILURE) N(CL_MAP_FAILURE)
    N(CL_MISALIGNED_SUB_BUFFER_OFFSET) N(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    N(CL_COMPILE_PROGRAM_FAILURE) N(CL_LINKER_NOT_AVAILABLE) N(CL_LINK_PROGRAM_FAILURE)
    N(CL_DEVICE_PARTITION_FAILED) N(CL_KERNEL_ARG_INFO_NOT_AVAILABLE) N(CL_INVALID_VALUE)
    N(CL_INVALID_DEVICE_TYPE) N(CL_INVALID_PLATFORM) N(CL_INVALID_DEVICE) N(CL_INVALID_CONTEXT)
    N(CL_INVALID_QUEUE_PROPERTIES) N(CL_INVALID_COMMAND_QUEUE) N(CL_INVALID_HOST_PTR)
    N(CL_INVALID_MEM_OBJECT) N(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR) N(CL_INVALID_IMAGE_SIZE)
    N(CL_INVALID_SAMPLER) N(CL_INVALID_BINARY) N(CL_INVALID_BUILD_OPTIONS) N(CL_INVALID_PROGRAM)
    N(CL_INVALID_PROGRAM_EXECUTABLE) N(CL_INVALID_KERNEL_NAME) N(CL_INVALID_KERNEL_DEFINITION)
    N(CL_INVALID_KERNEL) N(CL_INVALID_ARG_INDEX) N(CL_INVALID_ARG_VALUE) N(CL_INVALID_ARG_SIZE)
    N(CL_INVALID_KERNEL_ARGS) N(CL_INVALID_WORK_DIMENSION) N(CL_INVALID_WORK_GROUP_SIZE)
    N(CL_INVALID_WORK_ITEM_SIZE) N(CL_INVALID_GLOBAL_OFFSET) N(CL_INVALID_EVENT_WAIT_LIST)
    N(CL_INVALID_EVENT) N(CL_INVALID_OPERATION) N(CL_INVALID_GL_OBJECT) N(CL_INVALID_BUFFER_SIZE)
    N(CL_INVALID_MIP_LEVEL) N(CL_INVALID_GLOBAL_WORK_SIZE) N(CL_INVALID_PROPERTY)
    N(CL_INVALID_IMAGE_DESCRIPTOR) N(CL_INVALID_COMPILER_OPTIONS) N(CL_INVALID_LINKER_OPTIONS)
    N(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef N
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
  }
  static _Thread_local char buf[32];
  snprintf(buf, sizeof buf, "CL_ERROR(%d)", e);
  return buf;
}
