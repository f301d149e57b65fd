/* Device selection rules on synthetic device lists (no OpenCL needed). */
#include <stdlib.h>

#include "test_util.h"

static clgan_device_info dev(int idx, int p, int d, const char *plat, const char *name,
                             cl_device_type t) {
  clgan_device_info i;
  memset(&i, 0, sizeof i);
  i.index = idx;
  i.platform_index = p;
  i.device_index = d;
  snprintf(i.platform_name, sizeof i.platform_name, "%s", plat);
  snprintf(i.name, sizeof i.name, "%s", name);
  i.type = t;
  return i;
}

int main(void) {
  unsetenv("CLGAN_DEVICE");
  clgan_device_info devs[4] = {
      dev(0, 0, 0, "Portable Computing Language", "pthread-AMD EPYC", CL_DEVICE_TYPE_CPU),
      dev(1, 1, 0, "Oclgrind", "Oclgrind Simulator", CL_DEVICE_TYPE_CPU),
      dev(2, 2, 0, "NVIDIA CUDA", "NVIDIA H100 80GB HBM3", CL_DEVICE_TYPE_GPU),
      dev(3, 2, 1, "NVIDIA CUDA", "NVIDIA H100 PCIe", CL_DEVICE_TYPE_GPU),
  };
  int i = -1;
  /* default: first GPU */
  CHECK_OK(clgan_device_select(devs, 4, NULL, &i));
  CHECK(i == 2, "default picked %d", i);
  /* default without GPU: first CPU */
  CHECK_OK(clgan_device_select(devs, 2, "", &i));
  CHECK(i == 0, "default cpu picked %d", i);
  /* global index */
  CHECK_OK(clgan_device_select(devs, 4, "1", &i));
  CHECK(i == 1, "index picked %d", i);
  /* P:D */
  CHECK_OK(clgan_device_select(devs, 4, "2:1", &i));
  CHECK(i == 3, "P:D picked %d", i);
  /* type words */
  CHECK_OK(clgan_device_select(devs, 4, "cpu", &i));
  CHECK(i == 0, "cpu picked %d", i);
  CHECK_OK(clgan_device_select(devs, 4, "GPU", &i));
  CHECK(i == 2, "gpu picked %d", i);
  /* substring of device or platform name, case-insensitive */
  CHECK_OK(clgan_device_select(devs, 4, "oclGRIND", &i));
  CHECK(i == 1, "substring picked %d", i);
  CHECK_OK(clgan_device_select(devs, 4, "pcie", &i));
  CHECK(i == 3, "substring picked %d", i);
  CHECK_OK(clgan_device_select(devs, 4, "portable", &i));
  CHECK(i == 0, "platform substring picked %d", i);
  /* ambiguous */
  CHECK(clgan_device_select(devs, 4, "h100", &i) == CLGAN_ERR_AMBIGUOUS, "ambiguous");
  CHECK(strstr(clgan_last_error(), "'h100'") && strstr(clgan_last_error(), "2:1"),
        "message names spec and lists devices: %s", clgan_last_error());
  /* no match */
  CHECK(clgan_device_select(devs, 4, "radeon", &i) == CLGAN_ERR_NO_DEVICE, "no match");
  CHECK(strstr(clgan_last_error(), "'radeon'") && strstr(clgan_last_error(), "Oclgrind"),
        "message: %s", clgan_last_error());
  CHECK(clgan_device_select(devs, 4, "7", &i) == CLGAN_ERR_NO_DEVICE, "bad index");
  CHECK(clgan_device_select(devs, 4, "5:0", &i) == CLGAN_ERR_NO_DEVICE, "bad P:D");
  CHECK(clgan_device_select(devs, 2, "gpu", &i) == CLGAN_ERR_NO_DEVICE, "no gpu");
  /* environment default, and an explicit spec wins over it */
  setenv("CLGAN_DEVICE", "oclgrind", 1);
  CHECK_OK(clgan_device_select(devs, 4, NULL, &i));
  CHECK(i == 1, "env picked %d", i);
  CHECK_OK(clgan_device_select(devs, 4, "0", &i));
  CHECK(i == 0, "explicit over env picked %d", i);
  setenv("CLGAN_DEVICE", "nothing-like-this", 1);
  CHECK(clgan_device_select(devs, 4, NULL, &i) == CLGAN_ERR_NO_DEVICE, "bad env");
  CHECK(strstr(clgan_last_error(), "CLGAN_DEVICE") != NULL, "names the variable: %s",
        clgan_last_error());
  unsetenv("CLGAN_DEVICE");
  /* no devices at all */
  CHECK(clgan_device_select(devs, 0, NULL, &i) == CLGAN_ERR_NO_DEVICE, "empty");
  CHECK(strstr(clgan_last_error(), "pocl-opencl-icd") != NULL, "hint: %s", clgan_last_error());
  return tu_finish("select");
}
