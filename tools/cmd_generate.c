/* `clgan generate`: images from a checkpoint's generator, one PNG each, a grid, or a
 * latent walk. Tests: tests/train/test_train_cli.sh */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "cli_opts.h"
#include "clgan/gan.h"
#include "train_out.h"

static void help(void) {
  printf("usage: clgan generate --checkpoint CKPT [--count N] [--seed S] [--out DIR]\n"
         "                      [--grid] [--interpolate] [--steps K] [--batch-stats]\n"
         "                      [--class N|NAME] [--truncation T] [--no-ema] [--device D]\n\n"
         "Writes images made by the checkpoint's generator: its EMA weights\n"
         "(generator_ema.*) when the run kept them (clgan train --ema), else G's own.\n"
         "  --count N       images (default 64); with --interpolate, the number of walks.\n"
         "                  A conditional model without --class: N images of every class\n"
         "                  (default 8), class by class; the grid has one row per class,\n"
         "                  labelled with its name, and --interpolate one walk per class\n"
         "  --class C       a conditional model: only class C, by number (0..classes-1) or\n"
         "                  by name (as stored in the checkpoint, e.g. 'Ankle boot')\n"
         "  --seed S        noise seed (default 1)\n"
         "  --out DIR       output folder (default generated)\n"
         "  --grid          one grid.png instead of one PNG per image\n"
         "  --interpolate   interpolate.png: each row walks the latent space (spherical\n"
         "                  interpolation) from one noise vector to the next, in K steps\n"
         "  --steps K       steps of a walk (default 10)\n"
         "  --batch-stats   batch norm with each batch's own statistics, as PyTorch's DCGAN\n"
         "                  example samples in training mode (default: running statistics)\n"
         "  --truncation T  the truncation trick: every noise value is redrawn until |z| <= T\n"
         "                  (T >= 0.01; e.g. 0.5 to 1: less variety, cleaner images), the\n"
         "                  same for the same --seed; with --interpolate, the walks' ends\n"
         "  --no-ema        use G's own weights even when the checkpoint has EMA weights\n");
}

/* Spherical interpolation, the usual walk for Gaussian latents (stays on the shell). */
static void slerp(const float *a, const float *b, int n, float t, float *out) {
  double na = 0, nb = 0, dot = 0;
  for (int i = 0; i < n; i++) na += (double)a[i] * a[i], nb += (double)b[i] * b[i], dot += (double)a[i] * b[i];
  double c = dot / (sqrt(na * nb) + 1e-12);
  if (c > 1) c = 1;
  if (c < -1) c = -1;
  double om = acos(c), so = sin(om);
  for (int i = 0; i < n; i++)
    out[i] = so < 1e-6 ? (float)((1 - t) * a[i] + t * b[i])
                       : (float)(sin((1 - t) * om) / so * a[i] + sin(t * om) / so * b[i]);
}

/* A conditional checkpoint's class names: its class_names lines, numbers where missing. */
typedef struct class_list {
  int count;
  char (*names)[CLGAN_CLASS_NAME_MAX];
} class_list;

static void class_list_free(class_list *c) { free(c->names); }

static clgan_status class_list_init(class_list *c, int classes, const char *text) {
  c->count = classes;
  c->names = calloc((size_t)classes, sizeof *c->names);
  if (!c->names) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  const char *p = text && *text ? text : NULL;
  for (int k = 0; k < classes; k++) {
    const char *e = p ? strchr(p, '\n') : NULL;
    size_t len = p ? (e ? (size_t)(e - p) : strlen(p)) : 0;
    if (len >= CLGAN_CLASS_NAME_MAX) len = CLGAN_CLASS_NAME_MAX - 1;
    if (len) memcpy(c->names[k], p, len);
    else snprintf(c->names[k], sizeof c->names[k], "%d", k);
    p = p && e ? e + 1 : NULL;
  }
  return CLGAN_OK;
}

/* --class: a number 0..count-1, or a name (exact, else ignoring case); -1 if neither. */
static int class_find(const class_list *c, const char *arg) {
  char *end = NULL;
  long v = strtol(arg, &end, 10);
  if (*arg && end && !*end) return v >= 0 && v < c->count ? (int)v : -1;
  for (int k = 0; k < c->count; k++)
    if (!strcmp(c->names[k], arg)) return k;
  for (int k = 0; k < c->count; k++)
    if (!strcasecmp(c->names[k], arg)) return k;
  return -1;
}

static int class_usage_error(const class_list *c, const char *arg) {
  char list[2048];
  size_t len = 0;
  list[0] = '\0';
  for (int k = 0; k < c->count && len < sizeof list - 80; k++)
    len += (size_t)snprintf(list + len, sizeof list - len, "%s%d '%s'", k ? ", " : "", k,
                            c->names[k]);
  if (len >= sizeof list - 80) snprintf(list + len, sizeof list - len, ", ...");
  return cli_usage_error("generate", "--class '%s' is not one of the model's %d classes: %s",
                         arg, c->count, list);
}

int cmd_generate(int argc, char **argv) {
  if (t2i_generate_wanted(argc, argv)) return cmd_generate_text(argc, argv); /* tools/cmd_t2i.c */
  const char *ckpt_path = NULL, *out = "generated", *device = NULL, *class_arg = NULL;
  long count = 64, seed = 1, steps = 10;
  int grid = 0, interp = 0, batch_stats = 0, seen_count = 0, no_ema = 0, seen_trunc = 0;
  double trunc = 0.0;
  const cli_opt opts[] = {
      {"--checkpoint", OPT_STRING, &ckpt_path, 0, 0, NULL},
      {"--count", OPT_LONG, &count, 1, 100000, &seen_count},
      {"--seed", OPT_LONG, &seed, 0, 2147483647, NULL},
      {"--out", OPT_STRING, &out, 0, 0, NULL},
      {"--grid", OPT_FLAG, &grid, 0, 0, NULL},
      {"--interpolate", OPT_FLAG, &interp, 0, 0, NULL},
      {"--steps", OPT_LONG, &steps, 2, 1000, NULL},
      {"--batch-stats", OPT_FLAG, &batch_stats, 0, 0, NULL},
      {"--device", OPT_STRING, &device, 0, 0, NULL},
      {"--class", OPT_STRING, &class_arg, 0, 0, NULL},
      {"--truncation", OPT_DOUBLE, &trunc, -1e300, 1e300, &seen_trunc},
      {"--no-ema", OPT_FLAG, &no_ema, 0, 0, NULL},
  };
  int rc = cli_parse_opts("generate", argc, argv, opts, (int)(sizeof opts / sizeof *opts));
  if (rc < 0) {
    help();
    return CLI_OK;
  }
  if (rc) return rc;
  if (!ckpt_path) return cli_usage_error("generate", "--checkpoint is required");
  if (grid && interp) return cli_usage_error("generate", "--grid and --interpolate conflict");
  if (seen_trunc && !(trunc >= 0.01))
    return cli_usage_error("generate", "--truncation must be a bound on |z| of at least 0.01 "
                           "(e.g. 0.5 to 1; 3 or more changes little), got %g", trunc);

  clgan_st_file f;
  clgan_model m;
  clgan_status s = clgan_checkpoint_open(ckpt_path, &f, &m);
  if (s) return cli_report(s);
  const char *ic = clgan_safetensors_meta(&f, "image_channels");
  clgan_ctx *ctx = NULL;
  clgan_net *g = NULL;
  float *z = NULL, *img = NULL;
  int32_t *labels = NULL;
  class_list cl = {0};
  /* a conditional model: which classes, how many of each (rows = classes shown) */
  int cond = m.classes > 0, klass = -1, per = 0;
  if (class_arg && !cond) {
    rc = cli_usage_error("generate", "--class: the checkpoint '%s' holds an unconditional "
                         "model ('%s', no classes); drop --class", ckpt_path, m.name);
    goto cleanup;
  }
  if (cond && (s = class_list_init(&cl, m.classes, clgan_safetensors_meta(&f, "class_names"))))
    goto done;
  if (class_arg && (klass = class_find(&cl, class_arg)) < 0) {
    rc = class_usage_error(&cl, class_arg);
    goto cleanup;
  }
  if (cond && klass < 0) {
    /* every class: count per class (default 8), or one walk per class */
    per = seen_count ? (int)count : 8;
    count = interp ? m.classes : (long)m.classes * per;
    if (count > 100000) {
      rc = cli_usage_error("generate", "%d classes x %d images is more than 100000: pass "
                           "--class", m.classes, per);
      goto cleanup;
    }
  }
  int n = (int)(interp ? count * steps : count);
  size_t size = 0;
  if ((s = clgan_model_resolve(&m, ic ? atoi(ic) : 0))) goto done;
  size = (size_t)m.image_c * m.image_h * m.image_w;
  z = malloc(sizeof(float) * (size_t)n * m.nz);
  img = malloc(sizeof(float) * (size_t)n * size);
  labels = cond ? malloc(sizeof *labels * (size_t)n) : NULL;
  if (!z || !img || (cond && !labels)) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory for %d images", n);
    goto done;
  }
  /* image i's class: --class's, or its row's (per images, or steps of a walk, a row) */
  for (int i = 0; cond && i < n; i++)
    labels[i] = klass >= 0 ? klass : i / (interp ? (int)steps : per);
  if (interp) {
    float *ends = malloc(sizeof(float) * (size_t)(count + 1) * m.nz);
    if (!ends) {
      s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
      goto done;
    }
    if (seen_trunc)
      s = clgan_truncated_normal((size_t)(count + 1) * m.nz, (unsigned long long)seed, 0,
                                 (float)trunc, ends);
    else
      clgan_philox_normal((size_t)(count + 1) * m.nz, (unsigned long long)seed, 0, 0, 1, ends);
    for (long r = 0; r < count; r++)
      for (long k = 0; k < steps; k++)
        slerp(ends + r * m.nz, ends + (r + 1) * m.nz, m.nz, (float)k / (float)(steps - 1),
              z + (r * steps + k) * m.nz);
    free(ends);
  } else if (seen_trunc) {
    s = clgan_truncated_normal((size_t)n * m.nz, (unsigned long long)seed, 0, (float)trunc, z);
  } else {
    clgan_philox_normal((size_t)n * m.nz, (unsigned long long)seed, 0, 0, 1, z);
  }
  if (s) goto done;
  if ((s = clgan_ctx_create(device, 0, &ctx))) goto done;
  int batch = n < 64 ? n : 64;
  if ((s = clgan_net_create(ctx, &m.g, batch, 0, "G", &g))) goto done;
  /* the EMA weights when the run kept them (train --ema), unless --no-ema */
  int ema = !no_ema && clgan_safetensors_meta(&f, "ema_decay") != NULL;
  if (ema) fprintf(stderr, "clgan generate: using the EMA of G's weights (--no-ema: G's own)\n");
  if ((s = clgan_checkpoint_restore_net(&f, ema ? "generator_ema" : "generator", g))) {
    clgan_error_prefix("checkpoint '%s': ", ckpt_path);
    goto done;
  }
  clgan_bn_mode mode = batch_stats ? CLGAN_BN_BATCH_STATS : CLGAN_BN_EVAL;
  if ((s = cond ? clgan_generate_labels(g, z, labels, n, mode, img)
                : clgan_generate(g, z, n, mode, img)))
    goto done;
  if ((s = clgan_mkdirs(out))) goto done;
  char path[4200];
  if (grid || interp) {
    snprintf(path, sizeof path, "%s/%s", out, interp ? "interpolate.png" : "grid.png");
    int cols = interp ? (int)steps : cond && klass < 0 ? per : (int)ceil(sqrt((double)n));
    if (cond) {
      /* each row labelled with its class's name */
      int rows = (n + cols - 1) / cols;
      const char **names = malloc(sizeof *names * (size_t)rows);
      if (!names) s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
      for (int r = 0; names && r < rows; r++) names[r] = cl.names[labels[r * cols]];
      if (!s)
        s = clgan_png_write_grid_labeled(path, img, n, m.image_c, m.image_h, m.image_w, cols, 2,
                                         names, rows);
      free(names);
    } else {
      s = clgan_png_write_grid(path, img, n, m.image_c, m.image_h, m.image_w, cols, 2);
    }
    if (!s) printf("%s\n", path);
  } else {
    for (int i = 0; i < n && !s; i++) {
      snprintf(path, sizeof path, "%s/img_%05d.png", out, i);
      s = clgan_png_write_grid(path, img + (size_t)i * size, 1, m.image_c, m.image_h, m.image_w, 1, 0);
    }
    if (!s) printf("%d images in %s/\n", n, out);
  }
done:
  rc = s ? cli_report(s) : CLI_OK;
cleanup:
  free(labels);
  class_list_free(&cl);
  free(z);
  free(img);
  clgan_net_free(g);
  clgan_ctx_free(ctx);
  clgan_safetensors_free(&f);
  clgan_model_free(&m);
  return rc;
}
