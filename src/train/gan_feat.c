/* The feature loss of image-to-image training (SRGAN's perceptual loss with D's own features
 * in place of VGG's, which cannot be downloaded here): mean |F(G(x)) - F(y)| (or squared, as
 * the content loss) where F is D's output at the node named cfg.feature_node, D frozen (its
 * current weights, batch statistics as in D's own forwards). F runs as a second network of
 * D's first layers (the description truncated after that node, D's arenas copied in before
 * each use: the parameter layout of a prefix is the same). Tests: tests/train/test_fixture_sr.c
 * (fixture_sr_feat.json), tests/train/test_sr_cli.sh. */
#include <stdlib.h>
#include <string.h>

#include "clgan/gan.h"
#include "clgan/ops.h"
#include "internal.h"

struct clgan_gan_feat {
  clgan_net_desc desc;        /* D's, truncated after the feature node */
  clgan_net *net;
  cl_mem freal, dfeat, dimg;  /* F(y); d loss / d F(G(x)); d loss / d G(x) */
  size_t fsize, isize;        /* per sample */
};

void clgan_gan_feat_free(struct clgan_gan_feat *f) {
  if (!f) return;
  clgan_net_free(f->net);
  clgan_buffer_release(&f->freal);
  clgan_buffer_release(&f->dfeat);
  clgan_buffer_release(&f->dimg);
  free(f);
}

static clgan_status feat_make(clgan_gan *gan, struct clgan_gan_feat **out) {
  const clgan_net_desc *d = &gan->model->d;
  const char *name = gan->cfg.feature_node[0] ? gan->cfg.feature_node : "feat";
  int fi = -1;
  for (int i = 0; i < d->count; i++)
    if (!strcmp(d->layers[i].name, name)) fi = i;
  if (fi < 0)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "the feature loss needs a node named '%s' in the "
                       "discriminator of model '%s' (write '%s:' before the layer whose output "
                       "are the features)", name, gan->model->name, name);
  if (gan->labels)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "the feature loss is not for class-conditional "
                       "models");
  struct clgan_gan_feat *f = calloc(1, sizeof *f);
  if (!f) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  const clgan_layer_desc *l = &d->layers[fi];
  f->desc = *d;
  f->desc.count = fi + 1;
  f->desc.out_c = l->out_c, f->desc.out_h = l->out_h, f->desc.out_w = l->out_w;
  f->fsize = (size_t)l->out_c * l->out_h * l->out_w;
  f->isize = (size_t)gan->model->image_c * gan->model->image_h * gan->model->image_w;
  int b = gan->batch;
  clgan_status s = clgan_net_create(gan->ctx, &f->desc, b, 0, "D features", &f->net);
  if (!s) s = clgan_buffer_create(gan->ctx, sizeof(float) * b * f->fsize, "features of y", &f->freal);
  if (!s) s = clgan_buffer_create(gan->ctx, sizeof(float) * b * f->fsize, "feature gradient", &f->dfeat);
  if (!s) s = clgan_buffer_create(gan->ctx, sizeof(float) * b * f->isize, "feature loss dG", &f->dimg);
  if (!s) f->net->rng_seed = gan->d->rng_seed;
  if (!s && clgan_net_find_input(d, CLGAN_INPUT_COND) >= 0)
    s = clgan_net_bind(f->net, CLGAN_INPUT_COND, CLGAN_VIEW(gan->cond, 0));
  if (s) {
    clgan_gan_feat_free(f);
    return clgan_error_prefix("feature loss: ");
  }
  *out = f;
  return CLGAN_OK;
}

clgan_status clgan_gan_feature_loss(clgan_gan *gan, int slot, clgan_view dfake, int accumulate) {
  clgan_status s = CLGAN_OK;
  if (!gan->feat && (s = feat_make(gan, &gan->feat))) return s;
  struct clgan_gan_feat *f = gan->feat;
  int b = gan->batch;
  const clgan_net_desc *d = gan->d->desc;
  /* D's current weights and statistics (the arena prefix the truncated net reads) */
  if (d->param_count)
    s = clgan_copy(gan->ctx, d->param_count, CLGAN_VIEW(gan->d->params, 0), CLGAN_VIEW(f->net->params, 0));
  if (!s && d->stat_count)
    s = clgan_copy(gan->ctx, d->stat_count, CLGAN_VIEW(gan->d->stats, 0), CLGAN_VIEW(f->net->stats, 0));
  f->net->rng_step = 3 * gan->step + 2;
  if (!s) s = clgan_net_forward(f->net, b, CLGAN_VIEW(gan->real, 0), CLGAN_BN_TRAIN);
  if (!s) s = clgan_copy(gan->ctx, (size_t)b * f->fsize, clgan_net_output(f->net), CLGAN_VIEW(f->freal, 0));
  if (!s) s = clgan_net_forward(f->net, b, clgan_net_output(gan->g), CLGAN_BN_TRAIN);
  clgan_content kind = gan->cfg.content == CLGAN_CONTENT_MSE ? CLGAN_CONTENT_MSE : CLGAN_CONTENT_L1;
  if (!s)
    s = clgan_content_loss(gan->ctx, kind, (size_t)b * f->fsize, clgan_net_output(f->net),
                           CLGAN_VIEW(f->freal, 0), gan->cfg.feature_weight,
                           CLGAN_VIEW(gan->metrics, (size_t)slot), CLGAN_VIEW(f->dfeat, 0), 0);
  clgan_view di = accumulate ? CLGAN_VIEW(f->dimg, 0) : dfake;
  if (!s) s = clgan_net_backward(f->net, b, CLGAN_VIEW(f->dfeat, 0), 0, 0, di);
  if (!s && accumulate) s = clgan_add(gan->ctx, (size_t)b * f->isize, dfake, di, dfake);
  if (s) clgan_error_prefix("feature loss: ");
  return s;
}
