/* `clgan upscale`: a super-resolution checkpoint's G over images of any size, tiled with
 * overlap and blended (clgan_tiled_apply). Tests: tests/train/test_sr_cli.sh */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clgan/clgan.h"
#include "i2i_data.h"

typedef struct {
  clgan_net *g;
} up_user;

static clgan_status up_run(void *user, int n, const float *in, float *out) {
  up_user *u = user;
  return clgan_generate_cond(u->g, in, n, CLGAN_BN_EVAL, out);
}

/* in -> out (PNG), scale k; the input's grey is replicated to RGB, alpha refused (photo.h) */
static clgan_status upscale_file(clgan_net *g, const clgan_model *m, int k, int overlap,
                                 const char *in, const char *out) {
  clgan_image im, om = {0};
  clgan_status s = clgan_image_read(in, &im);
  if (s) return s;
  int c = m->cond_c, h = im.height, w = im.width;
  if ((long long)h * k > 32768 || (long long)w * k > 32768) {
    clgan_image_free(&im);
    return clgan_error(CLGAN_ERR_INVALID_ARG, "'%s' (%dx%d) would be %dx%d, over 32768 pixels a "
                       "side", in, w, h, w * k, h * k);
  }
  float *src = malloc(sizeof(float) * (size_t)im.channels * h * w);
  float *x = malloc(sizeof(float) * (size_t)c * h * w);
  float *y = malloc(sizeof(float) * (size_t)c * h * w * k * k);
  if (!src || !x || !y) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory for '%s'", in);
  if (!s) {
    clgan_image_to_planes(&im, src); /* [-1, 1] */
    size_t hw = (size_t)h * w;
    for (int ch = 0; ch < c; ch++)
      memcpy(x + ch * hw, src + (size_t)(im.channels == 1 ? 0 : ch) * hw, sizeof(float) * hw);
    clgan_tile_opts o = {.tile = m->cond_h, .overlap = overlap, .scale = k, .batch = g->batch,
                         .c_in = c, .c_out = m->image_c};
    up_user u = {g};
    s = clgan_tiled_apply(up_run, &u, &o, x, h, w, y);
  }
  if (!s) s = clgan_image_alloc(&om, w * k, h * k, m->image_c);
  if (!s) {
    clgan_planes_to_image(y, &om);
    s = clgan_image_write(out, &om);
  }
  clgan_image_free(&im);
  clgan_image_free(&om);
  free(src), free(x), free(y);
  return s;
}

static void help_upscale(void) {
  printf("usage: clgan upscale --checkpoint CKPT [--overlap N] [--batch N] [--device D] IN OUT\n"
         "Enlarges IN (a PNG or JPEG, or every *.png/*.jpg of a folder) by a super-resolution\n"
         "checkpoint's scale (x2, x4) into OUT (a .png file, or a folder for a folder). Any size:\n"
         "the image is cut into tiles of the model's input size overlapping by N pixels (default\n"
         "a quarter of the tile), and their outputs blended with linear ramps (clgan_tiled_apply)\n"
         "so no seams show. Grey images are enlarged as RGB (the grey repeated); palette PNGs are\n"
         "expanded, 16-bit PNGs rounded to 8 bits; a PNG with transparent pixels is refused.\n");
}

int cmd_upscale(int argc, char **argv) {
  const char *device = NULL, *ckpt = NULL, *pos[2] = {NULL, NULL};
  long batch = 8, overlap = -1;
  int npos = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      help_upscale();
      return CLI_OK;
    }
    if (a[0] == '-' && a[1] == '-') {
      if (i + 1 >= argc) return cli_usage_error("upscale", "%s needs a value", a);
      const char *v = argv[++i];
      char *end;
      if (!strcmp(a, "--checkpoint")) ckpt = v;
      else if (!strcmp(a, "--device")) device = v;
      else if (!strcmp(a, "--batch") || !strcmp(a, "--overlap")) {
        long n = strtol(v, &end, 10);
        if (*end || n < 0 || n > 4096 || (n == 0 && !strcmp(a, "--batch")))
          return cli_usage_error("upscale", "%s wants a number (0..4096), got '%s'", a, v);
        *(!strcmp(a, "--batch") ? &batch : &overlap) = n;
      } else return cli_usage_error("upscale", "unknown option '%s'", a);
    } else if (npos < 2) pos[npos++] = a;
    else return cli_usage_error("upscale", "one input and one output, got a third: '%s'", a);
  }
  if (!ckpt || npos != 2) return cli_usage_error("upscale", "--checkpoint, IN and OUT are required");
  clgan_st_file f;
  clgan_model m;
  clgan_status s = clgan_checkpoint_open(ckpt, &f, &m);
  if (s) return cli_report(s);
  s = clgan_model_resolve(&m, 3);
  int k = m.cond_h > 0 ? m.image_h / m.cond_h : 0;
  if (!s && (m.g.ninputs != 1 || m.g.inputs[0].kind != CLGAN_INPUT_COND || k < 2 ||
             m.cond_h * k != m.image_h || m.cond_w * k != m.image_w || m.cond_h != m.cond_w ||
             m.cond_c != m.image_c))
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "'%s' is not a super-resolution checkpoint (its G "
                    "must take one square 'cond' image and enlarge it by an integer factor)", ckpt);
  if (!s && overlap < 0) overlap = m.cond_h / 4;
  if (!s && overlap >= m.cond_h)
    s = clgan_error(CLGAN_ERR_INVALID_ARG, "--overlap %ld must be smaller than the tile (%d)",
                    overlap, m.cond_h);
  clgan_ctx *ctx = NULL;
  clgan_net *g = NULL;
  int rc = CLI_OK, dir = !s && i2i_is_dir(pos[0]);
  if (s) goto fail;
  if ((rc = cli_open_device(device, 0, &ctx))) goto fail_rc;
  if ((s = clgan_net_create(ctx, &m.g, (int)batch, 0, "G", &g))) goto fail;
  if ((s = clgan_checkpoint_restore_net(&f, "generator", g))) goto fail;
  int done = 0;
  if (dir) {
    char **names;
    int n;
    if ((s = i2i_list_images(pos[0], &names, &n))) goto fail;
    if (!n) s = clgan_error(CLGAN_ERR_INVALID_ARG, "'%s' has no *.png or *.jpg images", pos[0]);
    if (!s) s = clgan_mkdirs(pos[1]);
    for (int i = 0; i < n && !s; i++) {
      char ip[4096], op[4096], base[1024];
      snprintf(ip, sizeof ip, "%s/%s", pos[0], names[i]);
      snprintf(base, sizeof base, "%s", names[i]);
      char *dot = strrchr(base, '.');
      if (dot) *dot = '\0';
      snprintf(op, sizeof op, "%s/%s.png", pos[1], base);
      s = upscale_file(g, &m, k, (int)overlap, ip, op);
      if (!s) done++;
    }
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
  } else {
    s = upscale_file(g, &m, k, (int)overlap, pos[0], pos[1]);
    if (!s) done++;
  }
  if (!s) fprintf(stderr, "upscaled %d image(s) x%d into %s\n", done, k, pos[1]);
fail:
  rc = s ? cli_report(s) : CLI_OK;
fail_rc:
  clgan_net_free(g);
  clgan_ctx_free(ctx);
  clgan_safetensors_free(&f);
  clgan_model_free(&m);
  return rc;
}
