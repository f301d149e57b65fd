/* Device selection rules on synthetic device lists (no OpenCL needed): src/device/device.c. */
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
      /* what Oclgrind really reports: CL_DEVICE_TYPE 0xf, every type at once */
      dev(1, 1, 0, "Oclgrind", "Oclgrind Simulator",
          CL_DEVICE_TYPE_DEFAULT | CL_DEVICE_TYPE_CPU | CL_DEVICE_TYPE_GPU |
              CL_DEVICE_TYPE_ACCELERATOR),
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
  CHECK(clgan_device_select(devs, 1, "gpu", &i) == CLGAN_ERR_NO_DEVICE, "no gpu");
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
  /* a device claiming every type loses "cpu", "gpu" and the default to single-type
   * devices, wherever it sits in the list, and is still found when it is the only one */
  clgan_device_info grind_first[2] = {devs[1], devs[0]};
  CHECK_OK(clgan_device_select(grind_first, 2, NULL, &i));
  CHECK(i == 1, "default prefers the real CPU over the simulator, picked %d", i);
  CHECK_OK(clgan_device_select(grind_first, 2, "cpu", &i));
  CHECK(i == 1, "cpu prefers the real CPU, picked %d", i);
  CHECK_OK(clgan_device_select(grind_first, 2, "gpu", &i));
  CHECK(i == 0, "gpu: the simulator is the only device that says GPU, picked %d", i);
  CHECK_OK(clgan_device_select(devs, 4, "gpu", &i));
  CHECK(i == 2, "gpu prefers a real GPU, picked %d", i);
  CHECK_OK(clgan_device_select(&devs[1], 1, NULL, &i));
  CHECK(i == 0, "alone, the simulator is the default, picked %d", i);
  CHECK(clgan_device_default_index(devs, 0) == -1, "no default without devices");
  CHECK(strcmp(clgan_device_type_name(devs[1].type), "cpu+gpu+accelerator") == 0,
        "type word for several types: %s", clgan_device_type_name(devs[1].type));
  CHECK(strcmp(clgan_device_type_name(CL_DEVICE_TYPE_GPU), "gpu") == 0, "gpu word");
  CHECK(strcmp(clgan_device_type_name(CL_DEVICE_TYPE_CPU), "cpu") == 0, "cpu word");
  CHECK(strcmp(clgan_device_type_name(CL_DEVICE_TYPE_ACCELERATOR), "accelerator") == 0,
        "accelerator word");
  CHECK(strcmp(clgan_device_type_name(0), "other") == 0, "no type bits");
  /* P:D forms that are not P:D fall through to name matching, and fail there */
  CHECK(clgan_device_select(devs, 4, "2:1x", &i) == CLGAN_ERR_NO_DEVICE, "trailing junk");
  CHECK(clgan_device_select(devs, 4, "-1", &i) == CLGAN_ERR_NO_DEVICE, "negative index");
  CHECK(clgan_device_select(devs, 4, "99999999999999999999", &i) == CLGAN_ERR_NO_DEVICE,
        "huge index");
  /* a global index is the device's own index, not its position in the array */
  clgan_device_info tail[2] = {devs[2], devs[3]};
  CHECK_OK(clgan_device_select(tail, 2, "3", &i));
  CHECK(i == 1, "index 3 is the second entry here, picked %d", i);
  /* no devices at all */
  CHECK(clgan_device_select(devs, 0, NULL, &i) == CLGAN_ERR_NO_DEVICE, "empty");
  CHECK(strstr(clgan_last_error(), "pocl-opencl-icd") != NULL, "hint: %s", clgan_last_error());
  return tu_finish("select");
}
