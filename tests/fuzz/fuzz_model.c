/* libFuzzer target: model files (GANs and classifiers) through clgan_model_parse and
 * clgan_model_resolve (shape inference, parameter layout), then the sizes a trainer would allocate. The input is the
 * file's text. Replayed on tests/fuzz/corpus/model and regressions/model by the host test
 * fuzz_model. */
#include "clgan/gan.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
  if (n > (1u << 20)) return 0; /* clgan_model_load reads at most 1 MiB */
  if (memchr(d, '\0', n)) return 0; /* clgan_model_load refuses NUL bytes before parsing */
  char *text = malloc(n + 1);
  if (!text) abort();
  memcpy(text, d, n);
  text[n] = '\0';
  clgan_model m;
  if (clgan_model_parse(text, "fuzz.model", &m) == CLGAN_OK) {
    if (!m.text || strcmp(m.text, text) != 0) abort(); /* the text is kept for checkpoints */
    int channels = 1 + (int)(n % 3); /* what the data would say for `image auto` */
    if (clgan_model_resolve(&m, channels) == CLGAN_OK) {
      int cls = m.kind == CLGAN_MODEL_CLASSIFIER; /* D: one logit per image, or a (1, h, w) map */
      if (cls ? m.c.out_c != m.classes || m.c.out_h * m.c.out_w != 1 || m.g.count || m.d.count
              : m.d.out_c != 1 || m.g.out_c != m.image_c || m.c.count)
        abort();
      for (int k = 0; k < 2; k++) {
        const clgan_net_desc *nd = cls ? &m.c : k ? &m.d : &m.g;
        if (cls && k) break;
        size_t end = 0;
        for (int i = 0; i < nd->count; i++) {
          const clgan_layer_desc *l = &nd->layers[i];
          if (l->weight_off < end || l->bias_off != l->weight_off + l->weight_count) abort();
          end = l->bias_off + l->bias_count;
        }
        if (end != nd->param_count) abort(); /* layers tile the parameter arena */
        (void)clgan_net_forward_flops(nd);
        (void)clgan_net_device_bytes(nd, 64, 1);
      }
    }
    clgan_model_free(&m);
  }
  free(text);
  return 0;
}
