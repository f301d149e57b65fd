/* clgan status codes and the per-thread error message. Tests: tests/core/test_status.c */
#ifndef CLGAN_STATUS_H
#define CLGAN_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Every fallible clgan call returns one of these. Zero is success; the codes are
 * negative and sit below OpenCL's own range (OpenCL errors are -1..-72) so an
 * OpenCL code can be carried through unchanged where that is the whole story. */
typedef enum clgan_status {
  CLGAN_OK = 0,
  CLGAN_ERR_INVALID_ARG = -1001,   /* a caller passed a bad value (flag, shape, NULL) */
  CLGAN_ERR_NO_PLATFORM = -1002,   /* the ICD loader found no OpenCL platform */
  CLGAN_ERR_NO_DEVICE = -1003,     /* a device selection matched nothing */
  CLGAN_ERR_AMBIGUOUS = -1004,     /* a device selection matched more than one device */
  CLGAN_ERR_OPENCL = -1005,        /* an OpenCL call failed; the message names call and error */
  CLGAN_ERR_BUILD = -1006,         /* a kernel failed to compile; the message has the build log */
  CLGAN_ERR_CLBLAST = -1007,       /* a CLBlast call failed; the message names its status */
  CLGAN_ERR_IO = -1008,            /* reading or writing a file failed (errno in the message) */
  CLGAN_ERR_FORMAT = -1009,        /* a file's contents are malformed (file and offset named) */
  CLGAN_ERR_NOMEM = -1010,         /* host or device memory could not be allocated */
  CLGAN_ERR_MISMATCH = -1011,      /* e.g. a checkpoint that does not fit the model */
  CLGAN_ERR_NUMERIC = -1012,       /* a NaN or Inf appeared where it must not */
  CLGAN_ERR_INTERRUPTED = -1013,   /* stopped on request (signal) */
  CLGAN_ERR_INTERNAL = -1099       /* a broken invariant inside clgan: a bug */
} clgan_status;

/* The message left by the last failing call on this thread ("" if none). */
const char *clgan_last_error(void);
/* The status that went with it. */
clgan_status clgan_last_status(void);
/* Short constant name of a status, e.g. "CLGAN_ERR_BUILD". */
const char *clgan_status_name(clgan_status s);
/* Name of an OpenCL error code, e.g. "CL_OUT_OF_RESOURCES" (or "CL_ERROR(-9999)"). */
const char *clgan_cl_error_name(int cl_err);

/* Sets the thread's message (printf-style) and returns s, so `return clgan_error(...)`. */
clgan_status clgan_error(clgan_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prefixes the current message with more context ("loading x.idx: " + old). */
clgan_status clgan_error_prefix(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
void clgan_error_clear(void);

#ifdef __cplusplus
}
#endif
#endif
