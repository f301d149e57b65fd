/* libFuzzer target: checkpoints. The input is a file given to clgan_checkpoint_open
 * (clgan_safetensors_read's validation: header length, JSON, dtypes, shapes, offsets,
 * SHA-256; then the format and the stored model text), then clgan_checkpoint_config, the
 * stored model resolved, and every tensor a restore looks up read end to end. Replayed on
 * tests/fuzz/corpus/checkpoint and regressions/checkpoint by the host test fuzz_checkpoint. */
#include "clgan/gan.h"
#include "fuzz_util.h"

static unsigned touch(const clgan_st_tensor *t) {
  const uint8_t *p = t->data;
  unsigned sum = 0;
  for (size_t i = 0; i < t->nbytes; i++) sum += p[i];
  return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  const char *path = fz_write("ckpt.safetensors", d, n);
  clgan_st_file f;
  clgan_model m;
  unsigned sum = 0;
  if (clgan_checkpoint_open(path, &f, &m) != CLGAN_OK) {
    if (f.data || f.tensors || f.count) abort(); /* on error nothing is left to free */
    return 0;
  }
  for (int i = 0; i < f.count; i++) sum += touch(&f.tensors[i]);
  clgan_train_config c;
  long long step = 0;
  clgan_train_state st;
  (void)clgan_checkpoint_config(&f, &c, &step, &st);
  const char *ic = clgan_safetensors_meta(&f, "image_channels");
  if (clgan_model_resolve(&m, ic ? atoi(ic) : 0) == CLGAN_OK) {
    static const char *what[] = {"weight", "bias", "running_mean", "running_var",
                                 "num_batches_tracked"};
    static const char *prefix[] = {"generator", "discriminator", "adam_m.generator",
                                   "adam_v.discriminator"};
    for (int p = 0; p < 4; p++) {
      const clgan_net_desc *nd = p % 2 ? &m.d : &m.g;
      for (int i = 0; i < nd->count; i++)
        for (int w = 0; w < 5; w++) {
          char name[200];
          snprintf(name, sizeof name, "%s.%d.%s", prefix[p], i, what[w]);
          const clgan_st_tensor *t = clgan_safetensors_find(&f, name);
          if (t) sum += touch(t);
        }
    }
  }
  if (sum == 0xFFFFFFFFu) puts("");
  clgan_safetensors_free(&f);
  clgan_model_free(&m);
  return 0;
}
