/* Device allocation failures: a tensor larger than the device's largest single allocation
 * is refused before OpenCL is asked, with a message naming the tensor, its size, the limit
 * and the device, and suggesting a smaller batch; a network too big for the device's
 * memory is refused by clgan_gan_create with the batch to try. Device suite. */
#include "clgan/gan.h"
#include "test_util.h"

int main(void) {
  clgan_ctx *ctx = tu_open_device();
  unsigned long long max = ctx->info.max_alloc;
  CHECK(max > 0, "the device reports no max allocation");
  cl_mem m = NULL;
  clgan_status s = clgan_buffer_create(ctx, (size_t)max + 4096, "G.acts", &m);
  const char *e = clgan_last_error();
  CHECK(s == CLGAN_ERR_NOMEM, "over max alloc: %s", clgan_status_name(s));
  CHECK(m == NULL, "over max alloc: a buffer came back");
  CHECK(strstr(e, "tensor 'G.acts' needs") && strstr(e, "largest single allocation") &&
            strstr(e, ctx->info.name) && strstr(e, "try a smaller batch"),
        "message: %s", e);
  char want[64];
  snprintf(want, sizeof want, "(%.1f MiB", (double)max / (1024.0 * 1024.0));
  CHECK(strstr(e, want) != NULL, "the limit %s is not in: %s", want, e);

  /* a whole network that cannot fit: dcgan64 at batch 65536 */
  clgan_model model;
  CHECK_OK(clgan_model_load("dcgan64", &model));
  CHECK_OK(clgan_model_resolve(&model, 3));
  clgan_train_config cfg;
  clgan_train_config_default(&cfg);
  cfg.batch = 65536;
  clgan_gan *gan = NULL;
  s = clgan_gan_create(ctx, &model, &cfg, &gan);
  e = clgan_last_error();
  CHECK(s == CLGAN_ERR_NOMEM && gan == NULL, "dcgan64 at batch 65536: %s", clgan_status_name(s));
  CHECK(strstr(e, "batch 65536 needs") && strstr(e, "MiB of device memory") && strstr(e, "try --batch "),
        "message: %s", e);
  int fit = 0;
  const char *t = strstr(e, "try --batch ");
  if (t) fit = atoi(t + 12);
  CHECK(fit >= 1 && fit < 65536, "suggested batch %d", fit);
  if (fit >= 1 && fit < 65536) {
    /* the suggestion must itself fit */
    size_t need = clgan_net_device_bytes(&model.g, fit, 1) + clgan_net_device_bytes(&model.d, fit, 1);
    CHECK(need <= ctx->info.global_mem, "suggested batch %d needs %zu bytes", fit, need);
  }
  clgan_gan_free(gan);
  clgan_model_free(&model);
  clgan_ctx_free(ctx);
  return tu_finish("alloc");
}
