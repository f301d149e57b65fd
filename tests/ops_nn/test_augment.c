/* DiffAugment (src/ops/ops_augment.c, kernels/augment.cl) against a float64 reference
 * written here from the formulas of Zhao et al.'s DiffAugment_pytorch.py (brightness,
 * saturation, contrast, translation with zero fill, cutout): the forward for every policy
 * subset, the backward against central finite differences of the float64 forward, and the
 * host's random parameters (ranges, Philox determinism, every shift and cutout place
 * reachable). --small: for Oclgrind. */
#include "clgan/augment.h"
#include "nn_test.h"

/* Tolerances (abs + rel * |ref|):
 * forward: a few float32 roundings of values of order 1, plus the per-sample mean summed
 *   in float32 over up to 3 x 28 x 28 terms: 2e-6 abs, 1e-5 rel.
 * backward vs central differences of the float64 forward (h = 1e-3: the map is affine in x
 *   for fixed parameters, so the differences are exact but for rounding): 1e-5 abs, 1e-4
 *   rel. */

/* the forward in float64; p: 8 floats per sample as on the device */
static void ref_forward(unsigned pol, int n, int c, int h, int w, const float *params,
                        const double *x, double *y) {
  int sh, sw, ch, cw;
  clgan_diffaug_sizes(h, w, &sh, &sw, &ch, &cw);
  size_t hw = (size_t)h * w, chw = (size_t)c * hw;
  double *a = malloc(sizeof *a * chw);
  for (int s = 0; s < n; s++) {
    const float *p = params + 8 * (size_t)s;
    const double *xs = x + s * chw;
    double *ys = y + s * chw;
    for (size_t q = 0; q < chw; q++) a[q] = xs[q];
    if (pol & CLGAN_AUG_COLOR) {
      /* as the reference: brightness, then saturation, then contrast, each a full pass */
      for (size_t q = 0; q < chw; q++) a[q] += p[0];
      for (size_t q = 0; q < hw; q++) {
        double m = 0;
        for (int k = 0; k < c; k++) m += a[k * hw + q];
        m /= c;
        for (int k = 0; k < c; k++) a[k * hw + q] = (a[k * hw + q] - m) * p[1] + m;
      }
      double m = 0;
      for (size_t q = 0; q < chw; q++) m += a[q];
      m /= (double)chw;
      for (size_t q = 0; q < chw; q++) a[q] = (a[q] - m) * p[2] + m;
    }
    for (int k = 0; k < c; k++)
      for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
          int si = i, sj = j;
          if (pol & CLGAN_AUG_TRANSLATION) si = i + (int)p[3], sj = j + (int)p[4];
          /* the reference pads one zero pixel and clamps the shifted grid to it */
          double v = si >= 0 && si < h && sj >= 0 && sj < w ? a[k * hw + (size_t)si * w + sj] : 0;
          if (pol & CLGAN_AUG_CUTOUT && i >= (int)p[5] && i < (int)p[5] + ch && j >= (int)p[6] &&
              j < (int)p[6] + cw)
            v = 0;
          ys[k * hw + (size_t)i * w + j] = v;
        }
  }
  free(a);
}

static void case_(clgan_ctx *ctx, unsigned pol, int n, int c, int h, int w, unsigned long long seed,
                  int big_shift) {
  size_t cnt = (size_t)n * c * h * w;
  char what[160], name[64];
  clgan_diffaug_name(pol, name, sizeof name);
  snprintf(what, sizeof what, "diffaug %s %dx%dx%dx%d", name, n, c, h, w);
  float *params = tu_alloc(8 * (size_t)n);
  clgan_diffaug_params(pol, h, w, seed, 1000, n, params);
  if (big_shift) /* shifts and squares off the edges: sample 0 far down-right, 1 up-left */
    for (int s = 0; s < n && s < 2; s++) {
      float sg = s ? -1.0f : 1.0f;
      params[8 * s + 3] = sg * (float)(h / 8 + 1), params[8 * s + 4] = -sg * (float)(w / 8);
      params[8 * s + 5] = s ? -(float)(h / 4) : (float)(h - 2), params[8 * s + 6] = s ? (float)(w - 3) : -3.0f;
    }
  float *x = tu_alloc(cnt), *r = tu_alloc(cnt), *got = tu_alloc(cnt), *wantf = tu_alloc(cnt);
  double *xd = malloc(sizeof *xd * cnt), *yd = malloc(sizeof *yd * cnt);
  ref_fill_uniform(x, cnt, seed + 7);
  ref_fill_uniform(r, cnt, seed + 8);
  for (size_t i = 0; i < cnt; i++) xd[i] = x[i];
  ref_forward(pol, n, c, h, w, params, xd, yd);
  for (size_t i = 0; i < cnt; i++) wantf[i] = (float)yd[i];
  tbuf bp = tb_new(ctx, params, 8 * (size_t)n, 3), bw = tb_new(ctx, NULL, 2 * (size_t)n, 1);
  tbuf bx = tb_new(ctx, x, cnt, 2), by = tb_new(ctx, NULL, cnt, 5);
  tbuf bg = tb_new(ctx, r, cnt, 4), bd = tb_new(ctx, NULL, cnt, 1);
  CHECK_OK(clgan_diffaug_forward(ctx, pol, n, c, h, w, tb_view(bp), tb_view(bw), tb_view(bx),
                                 tb_view(by)));
  tb_get(ctx, by, got);
  char w2[200];
  snprintf(w2, sizeof w2, "%s forward", what);
  NN_CLOSE(got, wantf, cnt, 2e-6, 1e-5, w2);
  /* backward: L = sum r * y, d L / d x by central differences of the float64 forward */
  CHECK_OK(clgan_diffaug_backward(ctx, pol, n, c, h, w, tb_view(bp), tb_view(bw), tb_view(bg),
                                  tb_view(bd)));
  tb_get(ctx, bd, got);
  double hstep = 1e-3;
  for (size_t i = 0; i < cnt; i++) {
    /* only sample i / chw changes: its loss alone */
    size_t chw = (size_t)c * h * w, s0 = i / chw * chw;
    double keep = xd[i], lp = 0, lm = 0;
    xd[i] = keep + hstep;
    ref_forward(pol, 1, c, h, w, params + 8 * (i / chw), xd + s0, yd + s0);
    for (size_t q = 0; q < chw; q++) lp += r[s0 + q] * yd[s0 + q];
    xd[i] = keep - hstep;
    ref_forward(pol, 1, c, h, w, params + 8 * (i / chw), xd + s0, yd + s0);
    for (size_t q = 0; q < chw; q++) lm += r[s0 + q] * yd[s0 + q];
    xd[i] = keep;
    wantf[i] = (float)((lp - lm) / (2 * hstep));
  }
  snprintf(w2, sizeof w2, "%s backward vs finite differences", what);
  NN_CLOSE(got, wantf, cnt, 1e-5, 1e-4, w2);
  /* a backward that ignored a dropped pixel would pass nonzero gradient everywhere: with
   * translation or cutout on some input pixel must get exactly 0 */
  if (pol & (CLGAN_AUG_TRANSLATION | CLGAN_AUG_CUTOUT) && !(pol & CLGAN_AUG_COLOR)) {
    size_t zeros = 0;
    for (size_t i = 0; i < cnt; i++) zeros += got[i] == 0.0f;
    CHECK(zeros > 0, "%s: no input pixel was dropped", what);
  }
  CHECK(tb_guards_ok(ctx, bp) && tb_guards_ok(ctx, bw) && tb_guards_ok(ctx, bx) &&
            tb_guards_ok(ctx, by) && tb_guards_ok(ctx, bg) && tb_guards_ok(ctx, bd),
        "%s: a kernel wrote outside its view", what);
  tb_free(&bp), tb_free(&bw), tb_free(&bx), tb_free(&by), tb_free(&bg), tb_free(&bd);
  free(params), free(x), free(r), free(got), free(wantf), free(xd), free(yd);
}

/* the host parameters: ranges, determinism, every value reachable, policy names */
static void params_case(void) {
  int h = 28, w = 28, n = 4000, sh, sw, ch, cw;
  clgan_diffaug_sizes(h, w, &sh, &sw, &ch, &cw);
  CHECK(sh == 4 && sw == 4 && ch == 14 && cw == 14, "sizes of 28x28: shift %d %d, cut %d %d",
        sh, sw, ch, cw);
  float *p = tu_alloc(8 * (size_t)n), *q = tu_alloc(8 * (size_t)n);
  clgan_diffaug_params(CLGAN_AUG_ALL, h, w, 5, 77, n, p);
  clgan_diffaug_params(CLGAN_AUG_ALL, h, w, 5, 77 + 8, n - 1, q);
  CHECK(!memcmp(p + 8, q, sizeof *p * 8 * (size_t)(n - 1)), "params: sample i is not value "
        "counter + 8 i of the stream");
  clgan_diffaug_params(CLGAN_AUG_ALL, h, w, 6, 77, 1, q);
  CHECK(memcmp(p, q, sizeof *p * 8), "params: another seed gave the same parameters");
  int seen_t[9] = {0}, seen_c[29] = {0}, bad = 0;
  for (int i = 0; i < n; i++) {
    const float *s = p + 8 * i;
    bad += !(s[0] >= -0.5f && s[0] < 0.5f) + !(s[1] >= 0 && s[1] < 2) + !(s[2] >= 0.5f && s[2] < 1.5f);
    for (int k = 3; k <= 4; k++) {
      int t = (int)s[k];
      bad += (float)t != s[k] || t < -4 || t > 4;
      if (t >= -4 && t <= 4) seen_t[t + 4]++;
    }
    int c0 = (int)s[5] + 7; /* the centre, 0..28 */
    bad += (float)(int)s[5] != s[5] || c0 < 0 || c0 > 28;
    if (c0 >= 0 && c0 <= 28) seen_c[c0]++;
  }
  CHECK(!bad, "params: %d values out of range", bad);
  int miss = 0;
  for (int i = 0; i < 9; i++) miss += !seen_t[i];
  for (int i = 0; i < 29; i++) miss += !seen_c[i];
  CHECK(!miss, "params: %d shift or cutout places never drawn in %d samples", miss, n);
  unsigned pol = 99;
  char buf[64];
  CHECK(!clgan_diffaug_parse("color,translation,cutout", &pol) && pol == 7, "parse all");
  CHECK(!clgan_diffaug_parse("cutout,color", &pol) && pol == 5, "parse two");
  CHECK(!clgan_diffaug_parse("none", &pol) && pol == 0, "parse none");
  CHECK(clgan_diffaug_parse("color,,cutout", &pol) && clgan_diffaug_parse("colour", &pol) &&
            clgan_diffaug_parse("", &pol) && clgan_diffaug_parse("color,color", &pol) &&
            clgan_diffaug_parse("color,", &pol),
        "parse: a bad policy was accepted");
  clgan_diffaug_name(6, buf, sizeof buf);
  CHECK(!strcmp(buf, "translation,cutout"), "name of 6: %s", buf);
  free(p), free(q);
}

int main(int argc, char **argv) {
  params_case();
  clgan_ctx *ctx = tu_open_device();
  if (nn_small(argc, argv)) {
    case_(ctx, CLGAN_AUG_ALL, 3, 1, 8, 8, 11, 1);
    case_(ctx, CLGAN_AUG_ALL, 2, 3, 6, 5, 12, 0);
    case_(ctx, CLGAN_AUG_TRANSLATION | CLGAN_AUG_CUTOUT, 2, 2, 8, 8, 13, 1);
  } else {
    for (unsigned pol = 1; pol <= 7; pol++) case_(ctx, pol, 5, 1, 28, 28, 20 + pol, pol & 1);
    case_(ctx, CLGAN_AUG_ALL, 4, 3, 16, 12, 31, 1); /* RGB: saturation does something */
    case_(ctx, CLGAN_AUG_COLOR, 3, 3, 9, 7, 32, 0);
    case_(ctx, CLGAN_AUG_ALL, 6, 1, 28, 28, 33, 0);
  }
  clgan_ctx_free(ctx);
  return tu_finish("augment");
}
