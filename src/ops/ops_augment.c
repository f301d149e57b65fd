/* DiffAugment: the policy names, the per-sample random parameters (host, Philox) and the
 * launchers of kernels/augment.cl (include/clgan/augment.h).
 * Tests: tests/ops_nn/test_augment.c, tests/train/test_diffaug_cli.sh */
#include "clgan/augment.h"

#include <stdio.h>
#include <string.h>

#include "clgan/program.h"

static const char *aug_names[3] = {"color", "translation", "cutout"};

int clgan_diffaug_parse(const char *s, unsigned *policy) {
  *policy = 0;
  if (!s || !*s) return -1;
  if (!strcmp(s, "none")) return 0;
  const char *p = s;
  for (;;) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    int hit = -1;
    for (int i = 0; i < 3; i++)
      if (len == strlen(aug_names[i]) && !strncmp(p, aug_names[i], len)) hit = i;
    if (hit < 0 || (*policy & (1u << hit))) return -1; /* unknown, empty or repeated */
    *policy |= 1u << hit;
    if (!e) return 0;
    p = e + 1;
  }
}

void clgan_diffaug_name(unsigned policy, char *buf, size_t cap) {
  size_t at = 0;
  if (cap) buf[0] = '\0';
  if (!(policy & CLGAN_AUG_ALL)) {
    snprintf(buf, cap, "none");
    return;
  }
  for (int i = 0; i < 3; i++)
    if (policy & (1u << i) && at < cap)
      at += (size_t)snprintf(buf + at, cap - at, "%s%s", at ? "," : "", aug_names[i]);
}

void clgan_diffaug_sizes(int h, int w, int *shift_h, int *shift_w, int *cut_h, int *cut_w) {
  /* DiffAugment's int(size * ratio + 0.5) */
  *shift_h = (int)(h * 0.125 + 0.5);
  *shift_w = (int)(w * 0.125 + 0.5);
  *cut_h = (int)(h * 0.5 + 0.5);
  *cut_w = (int)(w * 0.5 + 0.5);
}

/* an integer in [lo, hi] from u in [0, 1) */
static float pick(float u, int lo, int hi) {
  int v = lo + (int)(u * (float)(hi - lo + 1));
  return (float)(v > hi ? hi : v);
}

void clgan_diffaug_params(unsigned policy, int h, int w, unsigned long long seed,
                          unsigned long long counter, int n, float *out) {
  (void)policy;
  int sh, sw, ch, cw;
  clgan_diffaug_sizes(h, w, &sh, &sw, &ch, &cw);
  for (int i = 0; i < n; i++) {
    float u[CLGAN_AUG_PARAMS], *p = out + (size_t)i * CLGAN_AUG_PARAMS;
    clgan_philox_uniform(CLGAN_AUG_PARAMS, seed,
                         counter + (unsigned long long)i * CLGAN_AUG_PARAMS, 0.0f, 1.0f, u);
    p[0] = u[0] - 0.5f;        /* brightness: x + (rand - 0.5) */
    p[1] = u[1] * 2.0f;        /* saturation: x_mean + (x - x_mean) * rand * 2 */
    p[2] = u[2] + 0.5f;        /* contrast: x_mean + (x - x_mean) * (rand + 0.5) */
    p[3] = pick(u[3], -sh, sh); /* randint(-shift, shift + 1) */
    p[4] = pick(u[4], -sw, sw);
    /* the square's centre: randint(0, size + (1 - cut % 2)), first row centre - cut / 2 */
    p[5] = pick(u[5], 0, h - ch % 2) - (float)(ch / 2);
    p[6] = pick(u[6], 0, w - cw % 2) - (float)(cw / 2);
    p[7] = 0.0f;
  }
}

static clgan_status check(const char *what, unsigned policy, int n, int c, int h, int w,
                          clgan_view params, clgan_view work, clgan_view a, clgan_view b) {
  if (n < 1 || c < 1 || h < 1 || w < 1 || (size_t)n * (size_t)c * (size_t)h * (size_t)w > ((size_t)1 << 31))
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: bad shape %d x %d x %d x %d", what, n, c, h, w);
  if (policy & ~CLGAN_AUG_ALL)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: unknown policy bits 0x%x", what, policy);
  if (!params.mem || !work.mem || !a.mem || !b.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: params, work, input and output are required",
                       what);
  return CLGAN_OK;
}

clgan_status clgan_diffaug_forward(clgan_ctx *ctx, unsigned policy, int n, int c, int h, int w,
                                   clgan_view params, clgan_view work, clgan_view x,
                                   clgan_view y) {
  const char *what = "DiffAugment forward";
  clgan_status s = check(what, policy, n, c, h, w, params, work, x, y);
  if (s) return s;
  cl_kernel k;
  cl_int nn = n, cc = c, hh = h, ww = w, chw = c * h * w, pol = (cl_int)policy;
  cl_ulong po = params.off, wo = work.off, xo = x.off, yo = y.off;
  if (policy & CLGAN_AUG_COLOR) {
    if ((s = clgan_kernel_get(ctx, "augment", "augment_mean", &k))) return s;
    clgan_karg a1[] = {CLGAN_KARG(nn), CLGAN_KARG(chw), CLGAN_KARG(x.mem), CLGAN_KARG(xo),
                       CLGAN_KARG(work.mem), CLGAN_KARG(wo)};
    if ((s = clgan_set_args(k, "augment_mean", 6, a1))) return s;
    if ((s = clgan_launch_1d(ctx, k, "augment_mean", (size_t)n, 0))) return s;
  }
  int sh, sw, ch, cw;
  clgan_diffaug_sizes(h, w, &sh, &sw, &ch, &cw);
  cl_int kch = ch, kcw = cw;
  if ((s = clgan_kernel_get(ctx, "augment", "augment_forward", &k))) return s;
  clgan_karg a2[] = {CLGAN_KARG(nn),         CLGAN_KARG(cc),       CLGAN_KARG(hh),
                     CLGAN_KARG(ww),         CLGAN_KARG(pol),      CLGAN_KARG(kch),
                     CLGAN_KARG(kcw),        CLGAN_KARG(params.mem), CLGAN_KARG(po),
                     CLGAN_KARG(work.mem),   CLGAN_KARG(wo),       CLGAN_KARG(x.mem),
                     CLGAN_KARG(xo),         CLGAN_KARG(y.mem),    CLGAN_KARG(yo)};
  if ((s = clgan_set_args(k, "augment_forward", 15, a2))) return s;
  return clgan_launch_1d(ctx, k, "augment_forward", (size_t)n * (size_t)chw, 0);
}

clgan_status clgan_diffaug_backward(clgan_ctx *ctx, unsigned policy, int n, int c, int h,
                                    int w, clgan_view params, clgan_view work, clgan_view dy,
                                    clgan_view dx) {
  const char *what = "DiffAugment backward";
  clgan_status s = check(what, policy, n, c, h, w, params, work, dy, dx);
  if (s) return s;
  int sh, sw, ch, cw;
  clgan_diffaug_sizes(h, w, &sh, &sw, &ch, &cw);
  cl_kernel k;
  cl_int nn = n, cc = c, hh = h, ww = w, chw = c * h * w, pol = (cl_int)policy, kch = ch,
         kcw = cw;
  cl_ulong po = params.off, wo = work.off, dyo = dy.off, dxo = dx.off;
  if (policy & CLGAN_AUG_COLOR) {
    if ((s = clgan_kernel_get(ctx, "augment", "augment_dsum", &k))) return s;
    clgan_karg a1[] = {CLGAN_KARG(nn),  CLGAN_KARG(cc),         CLGAN_KARG(hh),
                       CLGAN_KARG(ww),  CLGAN_KARG(pol),        CLGAN_KARG(kch),
                       CLGAN_KARG(kcw), CLGAN_KARG(params.mem), CLGAN_KARG(po),
                       CLGAN_KARG(dy.mem), CLGAN_KARG(dyo),     CLGAN_KARG(work.mem),
                       CLGAN_KARG(wo)};
    if ((s = clgan_set_args(k, "augment_dsum", 13, a1))) return s;
    if ((s = clgan_launch_1d(ctx, k, "augment_dsum", (size_t)n, 0))) return s;
  }
  if ((s = clgan_kernel_get(ctx, "augment", "augment_backward", &k))) return s;
  clgan_karg a2[] = {CLGAN_KARG(nn),       CLGAN_KARG(cc),         CLGAN_KARG(hh),
                     CLGAN_KARG(ww),       CLGAN_KARG(pol),        CLGAN_KARG(kch),
                     CLGAN_KARG(kcw),      CLGAN_KARG(params.mem), CLGAN_KARG(po),
                     CLGAN_KARG(work.mem), CLGAN_KARG(wo),         CLGAN_KARG(dy.mem),
                     CLGAN_KARG(dyo),      CLGAN_KARG(dx.mem),     CLGAN_KARG(dxo)};
  if ((s = clgan_set_args(k, "augment_backward", 15, a2))) return s;
  return clgan_launch_1d(ctx, k, "augment_backward", (size_t)n * (size_t)chw, 0);
}
