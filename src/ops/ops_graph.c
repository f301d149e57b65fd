/* Graph-model node launchers for kernels/graph.cl (PyTorch semantics, see clgan/ops.h, section
 * "graph nodes"). Every launcher validates its arguments, then only enqueues.
 * Tests: tests/ops_graph/ against tests/ref/ref_graph.c */
#include "clgan/ops.h"
#include "ops_nn_internal.h"

/* Largest tensor any of these launchers takes (as batch norm's). */
#define GR_MAX_VALUES ((unsigned long long)1 << 40)

static clgan_status gr_size(const char *what, const char *name, long long v) {
  if (v < 0)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: %s must not be negative (got %lld)", what,
                       name, v);
  return CLGAN_OK;
}

/* n*c*hw etc. as a count, or an error when it is implausibly large (each factor >= 0). */
static clgan_status gr_total(const char *what, unsigned long long a, unsigned long long b,
                             unsigned long long c, unsigned long long d, size_t *out) {
  unsigned long long t = a;
  const unsigned long long f[3] = {b, c, d};
  for (int i = 0; i < 3; i++) {
    if (f[i] && t > GR_MAX_VALUES / f[i])
      return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: tensor too large", what);
    t *= f[i];
  }
  if (t > GR_MAX_VALUES) return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: tensor too large", what);
  *out = (size_t)t;
  return CLGAN_OK;
}

static clgan_status gr_need(const char *what, const char *name, clgan_view v) {
  if (!v.mem) return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: %s is required", what, name);
  return CLGAN_OK;
}

static clgan_status gr_positive(const char *what, const char *name, int v) {
  if (v < 1)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: %s must be at least 1 (got %d)", what, name,
                       v);
  return CLGAN_OK;
}

/* Items per reduction group, as bn_group in src/ops_batchnorm.c: enough in flight to fill the
 * device, no more than the group has values, few on a CPU (each barrier there is a pass over
 * the group's items). */
static size_t gr_group(clgan_ctx *ctx, cl_kernel k, size_t groups, size_t values_per_group,
                       size_t floats_per_item) {
  size_t cu = ctx->info.compute_units ? ctx->info.compute_units : 1;
  size_t min_items = 1;
  if (!clgan_nn_cpu_only(ctx) &&
      clGetKernelWorkGroupInfo(k, ctx->info.device, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
                               sizeof min_items, &min_items, NULL) != CL_SUCCESS)
    min_items = 32;
  size_t want = clgan_nn_pow2_at_least(cu * 256 / (groups ? groups : 1), 256);
  if (want < min_items) want = min_items;
  size_t per_group = clgan_nn_pow2_at_least(values_per_group, 256);
  if (want > per_group) want = per_group;
  return clgan_nn_group_size(ctx, k, want, floats_per_item * sizeof(cl_float));
}

/* out[g] (+)= the sum of group g's values (kernels/graph.cl, graph_rowsum): groups outputs,
 * each over nrows runs of len values, runs `stride` apart, group g's first at g*len. */
static clgan_status gr_rowsum(clgan_ctx *ctx, size_t groups, int nrows, size_t len,
                              size_t stride, int mode, clgan_view a, clgan_view b,
                              clgan_view out, int accumulate) {
  if (!groups) return CLGAN_OK;
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "graph", "graph_rowsum", &k);
  if (s) return s;
  size_t l = gr_group(ctx, k, groups, (size_t)nrows * len, 1);
  cl_int hs = 0; /* 1 << hs items share a run: the largest power of two <= l and len */
  while (((size_t)2 << hs) <= l && ((size_t)2 << hs) <= len) hs++;
  clgan_view bv = b.mem ? b : a;
  cl_int nr = nrows, md = mode, acc = accumulate != 0;
  cl_ulong ln = len, st = stride, ao = a.off, bo = bv.off, oo = out.off;
  clgan_karg args[] = {CLGAN_KARG(nr),     CLGAN_KARG(ln),   CLGAN_KARG(st),     CLGAN_KARG(md),
                       CLGAN_KARG(a.mem),  CLGAN_KARG(ao),   CLGAN_KARG(bv.mem), CLGAN_KARG(bo),
                       CLGAN_KARG(out.mem), CLGAN_KARG(oo),  CLGAN_KARG(acc),    CLGAN_KARG(hs),
                       {l * sizeof(cl_float), NULL}};
  if ((s = clgan_set_args(k, "graph_rowsum", 13, args))) return s;
  size_t global = l * groups;
  return clgan_launch(ctx, k, "graph_rowsum", 1, &global, &l);
}

/* ---- channel copy (concat), add, mul ---- */

clgan_status clgan_channel_copy(clgan_ctx *ctx, int n, int c, int hw, clgan_view x, int x_ctot,
                                int x_coff, clgan_view y, int y_ctot, int y_coff,
                                int accumulate) {
  const char *what = "channel copy";
  clgan_status s;
  size_t total = 0;
  if ((s = gr_size(what, "N", n)) || (s = gr_size(what, "C", c)) || (s = gr_size(what, "HW", hw)) ||
      (s = gr_size(what, "x_coff", x_coff)) || (s = gr_size(what, "y_coff", y_coff)))
    return s;
  if ((long long)x_coff + c > x_ctot)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: x channels %d..%d outside x's %d", what,
                       x_coff, x_coff + c - 1, x_ctot);
  if ((long long)y_coff + c > y_ctot)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: y channels %d..%d outside y's %d", what,
                       y_coff, y_coff + c - 1, y_ctot);
  if ((s = gr_total(what, n, x_ctot, hw, 1, &total)) || (s = gr_total(what, n, y_ctot, hw, 1, &total)))
    return s;
  if ((s = gr_need(what, "x", x)) || (s = gr_need(what, "y", y))) return s;
  total = (size_t)n * (size_t)c * (size_t)hw;
  if (!total) return CLGAN_OK;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "graph", "graph_channel_copy", &k))) return s;
  cl_ulong tt = total, chw = (cl_ulong)c * hw, hh = hw, xo = x.off, xct = x_ctot, xco = x_coff,
           yo = y.off, yct = y_ctot, yco = y_coff;
  cl_int acc = accumulate != 0;
  clgan_karg args[] = {CLGAN_KARG(tt),  CLGAN_KARG(chw), CLGAN_KARG(hh),    CLGAN_KARG(x.mem),
                       CLGAN_KARG(xo),  CLGAN_KARG(xct), CLGAN_KARG(xco),   CLGAN_KARG(y.mem),
                       CLGAN_KARG(yo),  CLGAN_KARG(yct), CLGAN_KARG(yco),   CLGAN_KARG(acc)};
  if ((s = clgan_set_args(k, "graph_channel_copy", 12, args))) return s;
  return clgan_launch_1d(ctx, k, "graph_channel_copy", total, 0);
}

static clgan_status scale_into(clgan_ctx *ctx, size_t n, float sc, clgan_view dy, clgan_view dx,
                               int acc) {
  cl_kernel k;
  clgan_status s;
  if ((s = clgan_kernel_get(ctx, "graph", "graph_scale_into", &k))) return s;
  cl_ulong nn = n, dyo = dy.off, dxo = dx.off;
  cl_int a = acc != 0;
  clgan_karg args[] = {CLGAN_KARG(nn), CLGAN_KARG(sc), CLGAN_KARG(dy.mem), CLGAN_KARG(dyo),
                       CLGAN_KARG(dx.mem), CLGAN_KARG(dxo), CLGAN_KARG(a)};
  if ((s = clgan_set_args(k, "graph_scale_into", 7, args))) return s;
  return clgan_launch_1d(ctx, k, "graph_scale_into", n, 0);
}

static clgan_status fade_check(const char *what, size_t n, float alpha) {
  if (n > GR_MAX_VALUES) return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: tensor too large", what);
  if (!(alpha >= 0.0f && alpha <= 1.0f))
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: alpha must be in [0, 1] (got %g)", what,
                       (double)alpha);
  return CLGAN_OK;
}

clgan_status clgan_fade_forward(clgan_ctx *ctx, size_t n, float alpha, clgan_view a, clgan_view b,
                                clgan_view y) {
  const char *what = "fade forward";
  clgan_status s = fade_check(what, n, alpha);
  if (s || (s = gr_need(what, "a", a)) || (s = gr_need(what, "b", b)) || (s = gr_need(what, "y", y)))
    return s;
  if (!n) return CLGAN_OK;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "graph", "graph_fade", &k))) return s;
  cl_ulong nn = n, ao = a.off, bo = b.off, yo = y.off;
  clgan_karg args[] = {CLGAN_KARG(nn), CLGAN_KARG(alpha), CLGAN_KARG(a.mem), CLGAN_KARG(ao),
                       CLGAN_KARG(b.mem), CLGAN_KARG(bo), CLGAN_KARG(y.mem), CLGAN_KARG(yo)};
  if ((s = clgan_set_args(k, "graph_fade", 8, args))) return s;
  return clgan_launch_1d(ctx, k, "graph_fade", n, 0);
}

clgan_status clgan_fade_backward(clgan_ctx *ctx, size_t n, float alpha, clgan_view dy,
                                 clgan_view da, int acc_a, clgan_view db, int acc_b) {
  const char *what = "fade backward";
  clgan_status s = fade_check(what, n, alpha);
  if (s || (s = gr_need(what, "dy", dy))) return s;
  if (!n) return CLGAN_OK;
  if (da.mem) s = scale_into(ctx, n, 1.0f - alpha, dy, da, acc_a);
  if (!s && db.mem) s = scale_into(ctx, n, alpha, dy, db, acc_b);
  return s;
}

clgan_status clgan_add(clgan_ctx *ctx, size_t n, clgan_view a, clgan_view b, clgan_view y) {
  const char *what = "add";
  clgan_status s;
  if (n > GR_MAX_VALUES) return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: tensor too large", what);
  if ((s = gr_need(what, "a", a)) || (s = gr_need(what, "b", b)) || (s = gr_need(what, "y", y)))
    return s;
  if (!n) return CLGAN_OK;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "graph", "graph_add", &k))) return s;
  cl_ulong nn = n, ao = a.off, bo = b.off, yo = y.off;
  clgan_karg args[] = {CLGAN_KARG(nn), CLGAN_KARG(a.mem), CLGAN_KARG(ao), CLGAN_KARG(b.mem),
                       CLGAN_KARG(bo), CLGAN_KARG(y.mem), CLGAN_KARG(yo)};
  if ((s = clgan_set_args(k, "graph_add", 7, args))) return s;
  return clgan_launch_1d(ctx, k, "graph_add", n, 0);
}

static clgan_status mul_check(const char *what, int n, int c, int hw, int b_vec, size_t *total) {
  clgan_status s;
  if ((s = gr_size(what, "N", n)) || (s = gr_size(what, "C", c)) || (s = gr_size(what, "HW", hw)))
    return s;
  if (b_vec != 0 && b_vec != 1)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: b_vec must be 0 or 1 (got %d)", what, b_vec);
  return gr_total(what, n, c, hw, 1, total);
}

clgan_status clgan_mul_forward(clgan_ctx *ctx, int n, int c, int hw, clgan_view a, clgan_view b,
                               int b_vec, clgan_view y) {
  const char *what = "mul forward";
  size_t total = 0;
  clgan_status s = mul_check(what, n, c, hw, b_vec, &total);
  if (s || (s = gr_need(what, "a", a)) || (s = gr_need(what, "b", b)) || (s = gr_need(what, "y", y)))
    return s;
  if (!total) return CLGAN_OK;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "graph", "graph_mul_forward", &k))) return s;
  cl_ulong tt = total, div = b_vec ? (cl_ulong)hw : 1, ao = a.off, bo = b.off, yo = y.off;
  clgan_karg args[] = {CLGAN_KARG(tt), CLGAN_KARG(div), CLGAN_KARG(a.mem), CLGAN_KARG(ao),
                       CLGAN_KARG(b.mem), CLGAN_KARG(bo), CLGAN_KARG(y.mem), CLGAN_KARG(yo)};
  if ((s = clgan_set_args(k, "graph_mul_forward", 8, args))) return s;
  return clgan_launch_1d(ctx, k, "graph_mul_forward", total, 0);
}

clgan_status clgan_mul_backward(clgan_ctx *ctx, int n, int c, int hw, clgan_view a, clgan_view b,
                                int b_vec, clgan_view dy, clgan_view da, clgan_view db,
                                int accumulate) {
  const char *what = "mul backward";
  size_t total = 0;
  clgan_status s = mul_check(what, n, c, hw, b_vec, &total);
  if (s || (s = gr_need(what, "dy", dy))) return s;
  if (da.mem && (s = gr_need(what, "b (for da)", b))) return s;
  if (db.mem && (s = gr_need(what, "a (for db)", a))) return s;
  if (!total) return CLGAN_OK;
  /* the broadcast db first: it reads dy, which da may overwrite */
  int elem_db = db.mem && !b_vec;
  if (db.mem && b_vec &&
      (s = gr_rowsum(ctx, (size_t)n * c, 1, (size_t)hw, 0, 1, a, dy, db, accumulate)))
    return s;
  if (!da.mem && !elem_db) return CLGAN_OK;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "graph", "graph_mul_backward", &k))) return s;
  /* absent tensors are never read or written; any valid buffer stands in for them */
  clgan_view av = a.mem ? a : dy, bv = b.mem ? b : dy, dav = da.mem ? da : dy,
             dbv = elem_db ? db : dy;
  cl_int has_da = da.mem != NULL, has_db = elem_db, acc = accumulate != 0;
  cl_ulong tt = total, div = b_vec ? (cl_ulong)hw : 1, ao = av.off, bo = bv.off, dyo = dy.off,
           dao = dav.off, dbo = dbv.off;
  clgan_karg args[] = {CLGAN_KARG(tt),     CLGAN_KARG(div),    CLGAN_KARG(av.mem),
                       CLGAN_KARG(ao),     CLGAN_KARG(bv.mem), CLGAN_KARG(bo),
                       CLGAN_KARG(dy.mem), CLGAN_KARG(dyo),    CLGAN_KARG(has_da),
                       CLGAN_KARG(dav.mem), CLGAN_KARG(dao),   CLGAN_KARG(has_db),
                       CLGAN_KARG(dbv.mem), CLGAN_KARG(dbo),   CLGAN_KARG(acc)};
  if ((s = clgan_set_args(k, "graph_mul_backward", 15, args))) return s;
  return clgan_launch_1d(ctx, k, "graph_mul_backward", total, 0);
}

/* ---- embedding ---- */

static clgan_status embed_check(const char *what, int n, int num, int dim, clgan_view labels) {
  clgan_status s;
  size_t t = 0;
  if ((s = gr_size(what, "N", n)) || (s = gr_size(what, "num", num)) ||
      (s = gr_size(what, "dim", dim)) || (s = gr_total(what, n, dim, 1, 1, &t)) ||
      (s = gr_total(what, num, dim, 1, 1, &t)))
    return s;
  return gr_need(what, "labels", labels);
}

clgan_status clgan_embed_forward(clgan_ctx *ctx, int n, int num, int dim, clgan_view labels,
                                 clgan_view w, clgan_view y) {
  const char *what = "embedding forward";
  clgan_status s = embed_check(what, n, num, dim, labels);
  if (s || (s = gr_need(what, "w", w)) || (s = gr_need(what, "y", y))) return s;
  size_t total = (size_t)n * (size_t)dim;
  if (!total) return CLGAN_OK;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "graph", "graph_embed_forward", &k))) return s;
  cl_int nn = n, nm = num, dd = dim;
  cl_ulong lo = labels.off, wo = w.off, yo = y.off;
  clgan_karg args[] = {CLGAN_KARG(nn), CLGAN_KARG(nm), CLGAN_KARG(dd), CLGAN_KARG(labels.mem),
                       CLGAN_KARG(lo), CLGAN_KARG(w.mem), CLGAN_KARG(wo), CLGAN_KARG(y.mem),
                       CLGAN_KARG(yo)};
  if ((s = clgan_set_args(k, "graph_embed_forward", 9, args))) return s;
  return clgan_launch_1d(ctx, k, "graph_embed_forward", total, 0);
}

clgan_status clgan_embed_backward(clgan_ctx *ctx, int n, int num, int dim, clgan_view labels,
                                  clgan_view dy, clgan_view dw, int accumulate) {
  const char *what = "embedding backward";
  clgan_status s = embed_check(what, n, num, dim, labels);
  if (s || (s = gr_need(what, "dw", dw)) || (n > 0 && (s = gr_need(what, "dy", dy)))) return s;
  size_t total = (size_t)num * (size_t)dim;
  if (!total) return CLGAN_OK;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "graph", "graph_embed_backward", &k))) return s;
  clgan_view dyv = dy.mem ? dy : dw; /* n = 0: never read */
  cl_int nn = n, nm = num, dd = dim, acc = accumulate != 0;
  cl_ulong lo = labels.off, dyo = dyv.off, dwo = dw.off;
  clgan_karg args[] = {CLGAN_KARG(nn),  CLGAN_KARG(nm),     CLGAN_KARG(dd),
                       CLGAN_KARG(labels.mem), CLGAN_KARG(lo), CLGAN_KARG(dyv.mem),
                       CLGAN_KARG(dyo), CLGAN_KARG(dw.mem), CLGAN_KARG(dwo),
                       CLGAN_KARG(acc)};
  if ((s = clgan_set_args(k, "graph_embed_backward", 10, args))) return s;
  return clgan_launch_1d(ctx, k, "graph_embed_backward", total, 0);
}

/* ---- upsampling, average pooling, sum pooling, pixel shuffle ---- */

/* (n, c, h, w) with factor k >= 1: the input and output counts. */
static clgan_status resample_check(const char *what, const char *kname, int n, int c, int h,
                                   int w, int k, size_t *in, size_t *out) {
  clgan_status s;
  if ((s = gr_size(what, "N", n)) || (s = gr_size(what, "C", c)) || (s = gr_size(what, "H", h)) ||
      (s = gr_size(what, "W", w)) || (s = gr_positive(what, kname, k)))
    return s;
  if ((s = gr_total(what, n, c, h, w, in))) return s;
  unsigned long long k2 = (unsigned long long)k * (unsigned long long)k;
  if (*in && k2 > GR_MAX_VALUES / *in)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: tensor too large", what);
  *out = *in * (size_t)k2;
  return CLGAN_OK;
}

static clgan_status resample_launch(clgan_ctx *ctx, const char *kernel, size_t total, int h,
                                    int w, int k, const float *inv, clgan_view src,
                                    clgan_view dst, const int *acc) {
  if (!total) return CLGAN_OK;
  cl_kernel kk;
  clgan_status s = clgan_kernel_get(ctx, "graph", kernel, &kk);
  if (s) return s;
  cl_ulong tt = total, so = src.off, dso = dst.off;
  cl_int hh = h, ww = w, kf = k, a = acc ? *acc != 0 : 0;
  float iv = inv ? *inv : 0.0f;
  /* (total, h, w, k, [inv], src, so, dst, dso, [acc]) */
  clgan_karg args[10];
  int na = 0;
  args[na++] = CLGAN_KARG(tt);
  args[na++] = CLGAN_KARG(hh);
  args[na++] = CLGAN_KARG(ww);
  args[na++] = CLGAN_KARG(kf);
  if (inv) args[na++] = CLGAN_KARG(iv);
  args[na++] = CLGAN_KARG(src.mem);
  args[na++] = CLGAN_KARG(so);
  args[na++] = CLGAN_KARG(dst.mem);
  args[na++] = CLGAN_KARG(dso);
  if (acc) args[na++] = CLGAN_KARG(a);
  if ((s = clgan_set_args(kk, kernel, na, args))) return s;
  return clgan_launch_1d(ctx, kk, kernel, total, 0);
}

clgan_status clgan_upsample_forward(clgan_ctx *ctx, int n, int c, int h, int w, int k,
                                    clgan_view x, clgan_view y) {
  const char *what = "upsample forward";
  size_t in = 0, out = 0;
  clgan_status s = resample_check(what, "scale factor k", n, c, h, w, k, &in, &out);
  if (s || (s = gr_need(what, "x", x)) || (s = gr_need(what, "y", y))) return s;
  return resample_launch(ctx, "graph_upsample_forward", out, h, w, k, NULL, x, y, NULL);
}

clgan_status clgan_upsample_backward(clgan_ctx *ctx, int n, int c, int h, int w, int k,
                                     clgan_view dy, clgan_view dx, int accumulate) {
  const char *what = "upsample backward";
  size_t in = 0, out = 0;
  clgan_status s = resample_check(what, "scale factor k", n, c, h, w, k, &in, &out);
  if (s || (s = gr_need(what, "dy", dy)) || (s = gr_need(what, "dx", dx))) return s;
  return resample_launch(ctx, "graph_upsample_backward", in, h, w, k, NULL, dy, dx, &accumulate);
}

static clgan_status resize_launch(clgan_ctx *ctx, const char *kernel, size_t total, int h,
                                  int w, int k, int mode, clgan_view src, clgan_view dst,
                                  const int *acc) {
  if (!total) return CLGAN_OK;
  cl_kernel kk;
  clgan_status s = clgan_kernel_get(ctx, "graph", kernel, &kk);
  if (s) return s;
  cl_ulong tt = total, so = src.off, dso = dst.off;
  cl_int hh = h, ww = w, kf = k, md = mode, a = acc ? *acc != 0 : 0;
  clgan_karg args[10] = {CLGAN_KARG(tt),      CLGAN_KARG(hh), CLGAN_KARG(ww),       CLGAN_KARG(kf),
                         CLGAN_KARG(md),      CLGAN_KARG(src.mem), CLGAN_KARG(so),
                         CLGAN_KARG(dst.mem), CLGAN_KARG(dso), CLGAN_KARG(a)};
  if ((s = clgan_set_args(kk, kernel, acc ? 10 : 9, args))) return s;
  return clgan_launch_1d(ctx, kk, kernel, total, 0);
}

static clgan_status resize_check(const char *what, int n, int c, int h, int w, int k, int mode,
                                 size_t *in, size_t *out) {
  clgan_status s = resample_check(what, "scale factor k", n, c, h, w, k, in, out);
  if (s) return s;
  if (mode != CLGAN_UPSAMPLE_NEAREST && mode != CLGAN_UPSAMPLE_BILINEAR &&
      mode != CLGAN_UPSAMPLE_BICUBIC)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: unknown mode %d (0 nearest, 1 bilinear, "
                       "2 bicubic)", what, mode);
  /* the int arithmetic of the kernels' windows: k * (side + 4) must fit */
  if ((long long)k * ((long long)(h > w ? h : w) + 4) > 0x3fffffff)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: %dx%d by %d is too large", what, h, w, k);
  return CLGAN_OK;
}

clgan_status clgan_upsample_mode_forward(clgan_ctx *ctx, int n, int c, int h, int w, int k,
                                         int mode, clgan_view x, clgan_view y) {
  const char *what = "upsample forward";
  size_t in = 0, out = 0;
  clgan_status s = resize_check(what, n, c, h, w, k, mode, &in, &out);
  if (s || (s = gr_need(what, "x", x)) || (s = gr_need(what, "y", y))) return s;
  if (mode == CLGAN_UPSAMPLE_NEAREST) return clgan_upsample_forward(ctx, n, c, h, w, k, x, y);
  return resize_launch(ctx, "graph_resize_up_forward", out, h, w, k, mode, x, y, NULL);
}

clgan_status clgan_upsample_mode_backward(clgan_ctx *ctx, int n, int c, int h, int w, int k,
                                          int mode, clgan_view dy, clgan_view dx,
                                          int accumulate) {
  const char *what = "upsample backward";
  size_t in = 0, out = 0;
  clgan_status s = resize_check(what, n, c, h, w, k, mode, &in, &out);
  if (s || (s = gr_need(what, "dy", dy)) || (s = gr_need(what, "dx", dx))) return s;
  if (mode == CLGAN_UPSAMPLE_NEAREST)
    return clgan_upsample_backward(ctx, n, c, h, w, k, dy, dx, accumulate);
  return resize_launch(ctx, "graph_resize_up_backward", in, h, w, k, mode, dy, dx, &accumulate);
}

static clgan_status avgpool_check(const char *what, int n, int c, int h, int w, int k,
                                  size_t *in, size_t *out) {
  clgan_status s = resample_check(what, "kernel size k", n, c, h, w, k, in, out);
  if (s) return s;
  if (h % k || w % k)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: input %dx%d is not a multiple of k = %d",
                       what, h, w, k);
  *out = *in / ((size_t)k * (size_t)k);
  return CLGAN_OK;
}

clgan_status clgan_avgpool_forward(clgan_ctx *ctx, int n, int c, int h, int w, int k,
                                   clgan_view x, clgan_view y) {
  const char *what = "avgpool forward";
  size_t in = 0, out = 0;
  clgan_status s = avgpool_check(what, n, c, h, w, k, &in, &out);
  if (s || (s = gr_need(what, "x", x)) || (s = gr_need(what, "y", y))) return s;
  float inv = 1.0f / (float)((double)k * k);
  return resample_launch(ctx, "graph_avgpool_forward", out, h, w, k, &inv, x, y, NULL);
}

clgan_status clgan_avgpool_backward(clgan_ctx *ctx, int n, int c, int h, int w, int k,
                                    clgan_view dy, clgan_view dx, int accumulate) {
  const char *what = "avgpool backward";
  size_t in = 0, out = 0;
  clgan_status s = avgpool_check(what, n, c, h, w, k, &in, &out);
  if (s || (s = gr_need(what, "dy", dy)) || (s = gr_need(what, "dx", dx))) return s;
  float inv = 1.0f / (float)((double)k * k);
  return resample_launch(ctx, "graph_avgpool_backward", in, h, w, k, &inv, dy, dx, &accumulate);
}

clgan_status clgan_sumpool_forward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x,
                                   clgan_view y) {
  const char *what = "sumpool forward";
  size_t total = 0;
  clgan_status s;
  if ((s = gr_size(what, "N", n)) || (s = gr_size(what, "C", c)) || (s = gr_size(what, "HW", hw)) ||
      (s = gr_total(what, n, c, hw, 1, &total)) || (s = gr_need(what, "x", x)) ||
      (s = gr_need(what, "y", y)))
    return s;
  if (hw == 0) { /* sums of nothing */
    if (!n || !c) return CLGAN_OK;
    return clgan_fill(ctx, (size_t)n * c, 0.0f, y);
  }
  return gr_rowsum(ctx, (size_t)n * c, 1, (size_t)hw, 0, 0, x, CLGAN_NONE, y, 0);
}

clgan_status clgan_sumpool_backward(clgan_ctx *ctx, int n, int c, int hw, clgan_view dy,
                                    clgan_view dx, int accumulate) {
  const char *what = "sumpool backward";
  size_t total = 0;
  clgan_status s;
  if ((s = gr_size(what, "N", n)) || (s = gr_size(what, "C", c)) || (s = gr_size(what, "HW", hw)) ||
      (s = gr_total(what, n, c, hw, 1, &total)) || (s = gr_need(what, "dy", dy)) ||
      (s = gr_need(what, "dx", dx)))
    return s;
  if (!total) return CLGAN_OK;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "graph", "graph_broadcast", &k))) return s;
  cl_ulong tt = total, div = (cl_ulong)hw, dyo = dy.off, dxo = dx.off;
  cl_int acc = accumulate != 0;
  clgan_karg args[] = {CLGAN_KARG(tt),     CLGAN_KARG(div), CLGAN_KARG(dy.mem), CLGAN_KARG(dyo),
                       CLGAN_KARG(dx.mem), CLGAN_KARG(dxo), CLGAN_KARG(acc)};
  if ((s = clgan_set_args(k, "graph_broadcast", 7, args))) return s;
  return clgan_launch_1d(ctx, k, "graph_broadcast", total, 0);
}

static clgan_status pixelshuffle_launch(clgan_ctx *ctx, const char *what, int dir, int n, int c,
                                        int h, int w, int r, clgan_view src, clgan_view dst,
                                        int accumulate) {
  size_t in = 0, out = 0;
  clgan_status s = resample_check(what, "upscale factor r", n, c, h, w, r, &in, &out);
  if (s || (s = gr_need(what, dir ? "dy" : "x", src)) || (s = gr_need(what, dir ? "dx" : "y", dst)))
    return s;
  if (!out) return CLGAN_OK;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "graph", "graph_pixelshuffle", &k))) return s;
  cl_ulong tt = out, so = src.off, dso = dst.off;
  cl_int d = dir, cc = c, hh = h, ww = w, rr = r, acc = accumulate != 0;
  clgan_karg args[] = {CLGAN_KARG(tt),  CLGAN_KARG(d),       CLGAN_KARG(cc),      CLGAN_KARG(hh),
                       CLGAN_KARG(ww),  CLGAN_KARG(rr),      CLGAN_KARG(src.mem), CLGAN_KARG(so),
                       CLGAN_KARG(dst.mem), CLGAN_KARG(dso), CLGAN_KARG(acc)};
  if ((s = clgan_set_args(k, "graph_pixelshuffle", 11, args))) return s;
  return clgan_launch_1d(ctx, k, "graph_pixelshuffle", out, 0);
}

clgan_status clgan_pixelshuffle_forward(clgan_ctx *ctx, int n, int c, int h, int w, int r,
                                        clgan_view x, clgan_view y) {
  return pixelshuffle_launch(ctx, "pixelshuffle forward", 0, n, c, h, w, r, x, y, 0);
}

clgan_status clgan_pixelshuffle_backward(clgan_ctx *ctx, int n, int c, int h, int w, int r,
                                         clgan_view dy, clgan_view dx, int accumulate) {
  return pixelshuffle_launch(ctx, "pixelshuffle backward", 1, n, c, h, w, r, dy, dx, accumulate);
}

/* ---- instance norm ---- */

static clgan_status in_check(const char *what, int n, int c, int hw) {
  clgan_status s;
  size_t t = 0;
  if ((s = gr_size(what, "N", n)) || (s = gr_size(what, "C", c)) || (s = gr_total(what, n, c, hw, 1, &t)))
    return s;
  if (hw < 2)
    /* as PyTorch: a variance over one value is meaningless */
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: expected more than 1 spatial element "
                       "(HW=%d)", what, hw);
  return CLGAN_OK;
}

clgan_status clgan_instancenorm_forward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x,
                                        clgan_view gamma, clgan_view beta, float eps,
                                        clgan_view y, clgan_view save_mean,
                                        clgan_view save_invstd) {
  const char *what = "instancenorm forward";
  clgan_status s = in_check(what, n, c, hw);
  if (s || (s = gr_need(what, "x", x)) || (s = gr_need(what, "y", y)) ||
      (s = gr_need(what, "save_mean", save_mean)) || (s = gr_need(what, "save_invstd", save_invstd)))
    return s;
  if (!gamma.mem != !beta.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: gamma and beta must both be given or both "
                       "be CLGAN_NONE", what);
  if (!(eps >= 0.0f))
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: eps must be >= 0 (got %g)", what, (double)eps);
  size_t planes = (size_t)n * (size_t)c;
  if (!planes) return CLGAN_OK;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "graph", "graph_instancenorm_forward", &k))) return s;
  size_t l = gr_group(ctx, k, planes, (size_t)hw, 1);
  cl_int cc = c, hh = hw, affine = gamma.mem != NULL;
  clgan_view g = affine ? gamma : x, b = affine ? beta : x;
  cl_ulong xo = x.off, go = g.off, bo = b.off, yo = y.off, smo = save_mean.off, sio = save_invstd.off;
  clgan_karg args[] = {CLGAN_KARG(cc),     CLGAN_KARG(hh),    CLGAN_KARG(x.mem),
                       CLGAN_KARG(xo),     CLGAN_KARG(affine), CLGAN_KARG(g.mem),
                       CLGAN_KARG(go),     CLGAN_KARG(b.mem), CLGAN_KARG(bo),
                       CLGAN_KARG(eps),    CLGAN_KARG(y.mem), CLGAN_KARG(yo),
                       CLGAN_KARG(save_mean.mem), CLGAN_KARG(smo), CLGAN_KARG(save_invstd.mem),
                       CLGAN_KARG(sio),    {l * sizeof(cl_float), NULL}};
  if ((s = clgan_set_args(k, "graph_instancenorm_forward", 17, args))) return s;
  size_t global = l * planes;
  return clgan_launch(ctx, k, "graph_instancenorm_forward", 1, &global, &l);
}

clgan_status clgan_instancenorm_backward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x,
                                         clgan_view dy, clgan_view gamma, clgan_view save_mean,
                                         clgan_view save_invstd, clgan_view dx,
                                         clgan_view dgamma, clgan_view dbeta, int accumulate) {
  const char *what = "instancenorm backward";
  clgan_status s = in_check(what, n, c, hw);
  if (s || (s = gr_need(what, "x", x)) || (s = gr_need(what, "dy", dy)) ||
      (s = gr_need(what, "save_mean", save_mean)) ||
      (s = gr_need(what, "save_invstd", save_invstd)) || (s = gr_need(what, "dx", dx)))
    return s;
  if (!dgamma.mem != !dbeta.mem)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: dgamma and dbeta must both be given or "
                       "both be CLGAN_NONE", what);
  size_t planes = (size_t)n * (size_t)c;
  if (!planes) return CLGAN_OK;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "graph", "graph_instancenorm_backward", &k))) return s;
  /* parameter gradients: one group per channel walks the samples in order (the sums over
   * samples stay in one item, no atomics); dx alone: one group per plane */
  cl_int per_channel = dgamma.mem != NULL;
  size_t groups = per_channel ? (size_t)c : planes;
  size_t l = gr_group(ctx, k, groups, (size_t)hw, 2);
  cl_int nn = n, cc = c, hh = hw, affine = gamma.mem != NULL, acc = accumulate != 0;
  clgan_view g = affine ? gamma : x, dg = per_channel ? dgamma : dx, db = per_channel ? dbeta : dx;
  cl_ulong xo = x.off, dyo = dy.off, go = g.off, smo = save_mean.off, sio = save_invstd.off,
           dxo = dx.off, dgo = dg.off, dbo = db.off;
  clgan_karg args[] = {CLGAN_KARG(nn),      CLGAN_KARG(cc),      CLGAN_KARG(hh),
                       CLGAN_KARG(per_channel), CLGAN_KARG(x.mem), CLGAN_KARG(xo),
                       CLGAN_KARG(dy.mem),  CLGAN_KARG(dyo),     CLGAN_KARG(affine),
                       CLGAN_KARG(g.mem),   CLGAN_KARG(go),      CLGAN_KARG(save_mean.mem),
                       CLGAN_KARG(smo),     CLGAN_KARG(save_invstd.mem), CLGAN_KARG(sio),
                       CLGAN_KARG(dx.mem),  CLGAN_KARG(dxo),     CLGAN_KARG(per_channel),
                       CLGAN_KARG(dg.mem),  CLGAN_KARG(dgo),     CLGAN_KARG(db.mem),
                       CLGAN_KARG(dbo),     CLGAN_KARG(acc),     {2 * l * sizeof(cl_float), NULL}};
  if ((s = clgan_set_args(k, "graph_instancenorm_backward", 24, args))) return s;
  size_t global = l * groups;
  return clgan_launch(ctx, k, "graph_instancenorm_backward", 1, &global, &l);
}

/* ---- dropout ---- */

static clgan_status dropout_launch(clgan_ctx *ctx, const char *what, size_t n, float p,
                                   unsigned long long seed, unsigned long long counter,
                                   clgan_view src, clgan_view dst, int accumulate) {
  if (!(p >= 0.0f && p < 1.0f))
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: p must be in [0, 1) (got %g)", what,
                       (double)p);
  if (n > GR_MAX_VALUES) return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: tensor too large", what);
  clgan_status s;
  if ((s = gr_need(what, "input", src)) || (s = gr_need(what, "output", dst))) return s;
  if (!n) return CLGAN_OK;
  cl_kernel k;
  if ((s = clgan_kernel_get(ctx, "graph", "graph_dropout", &k))) return s;
  /* blocks touched by values counter .. counter + n - 1 (as src/ops_rng.c) */
  cl_ulong nn = n, nblocks = ((counter & 3u) + (cl_ulong)n + 3u) / 4u, sd = seed, ct = counter,
           so = src.off, dso = dst.off;
  float scale = 1.0f / (1.0f - p);
  cl_int acc = accumulate != 0;
  clgan_karg args[] = {CLGAN_KARG(nn),      CLGAN_KARG(nblocks), CLGAN_KARG(sd),
                       CLGAN_KARG(ct),      CLGAN_KARG(p),       CLGAN_KARG(scale),
                       CLGAN_KARG(src.mem), CLGAN_KARG(so),      CLGAN_KARG(dst.mem),
                       CLGAN_KARG(dso),     CLGAN_KARG(acc)};
  if ((s = clgan_set_args(k, "graph_dropout", 11, args))) return s;
  return clgan_launch_1d(ctx, k, "graph_dropout", nblocks, 0);
}

clgan_status clgan_dropout_forward(clgan_ctx *ctx, size_t n, float p, unsigned long long seed,
                                   unsigned long long counter, clgan_view x, clgan_view y) {
  return dropout_launch(ctx, "dropout forward", n, p, seed, counter, x, y, 0);
}

clgan_status clgan_dropout_backward(clgan_ctx *ctx, size_t n, float p, unsigned long long seed,
                                    unsigned long long counter, clgan_view dy, clgan_view dx,
                                    int accumulate) {
  return dropout_launch(ctx, "dropout backward", n, p, seed, counter, dy, dx, accumulate);
}

/* ---- PReLU ---- */

static clgan_status prelu_check(const char *what, int n, int c, int hw, int a_count,
                                clgan_view x, clgan_view a, size_t *total) {
  clgan_status s;
  if ((s = gr_size(what, "N", n)) || (s = gr_size(what, "C", c)) || (s = gr_size(what, "HW", hw)) ||
      (s = gr_total(what, n, c, hw, 1, total)))
    return s;
  if (a_count != 1 && a_count != c)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: a_count must be 1 or C = %d (got %d)", what,
                       c, a_count);
  if ((s = gr_need(what, "x", x)) || (s = gr_need(what, "a", a))) return s;
  return CLGAN_OK;
}

static clgan_status prelu_launch(clgan_ctx *ctx, size_t total, int c, int hw, int a_count,
                                 int bwd, clgan_view x, clgan_view a, clgan_view src,
                                 clgan_view dst, int accumulate) {
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "graph", "graph_prelu", &k);
  if (s) return s;
  cl_ulong tt = total, hh = (cl_ulong)hw, xo = x.off, ao = a.off, so = src.off, dso = dst.off;
  cl_int cc = c, per_ch = a_count != 1, b = bwd, acc = accumulate != 0;
  clgan_karg args[] = {CLGAN_KARG(tt),   CLGAN_KARG(cc),      CLGAN_KARG(hh),  CLGAN_KARG(per_ch),
                       CLGAN_KARG(b),    CLGAN_KARG(x.mem),   CLGAN_KARG(xo),  CLGAN_KARG(a.mem),
                       CLGAN_KARG(ao),   CLGAN_KARG(src.mem), CLGAN_KARG(so),  CLGAN_KARG(dst.mem),
                       CLGAN_KARG(dso),  CLGAN_KARG(acc)};
  if ((s = clgan_set_args(k, "graph_prelu", 14, args))) return s;
  return clgan_launch_1d(ctx, k, "graph_prelu", total, 0);
}

clgan_status clgan_prelu_forward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x, clgan_view a,
                                 int a_count, clgan_view y) {
  const char *what = "prelu forward";
  size_t total = 0;
  clgan_status s = prelu_check(what, n, c, hw, a_count, x, a, &total);
  if (s || (s = gr_need(what, "y", y))) return s;
  if (!total) return CLGAN_OK;
  return prelu_launch(ctx, total, c, hw, a_count, 0, x, a, x, y, 0);
}

clgan_status clgan_prelu_backward(clgan_ctx *ctx, int n, int c, int hw, clgan_view x, clgan_view a,
                                  int a_count, clgan_view dy, clgan_view dx, clgan_view da,
                                  int accumulate) {
  const char *what = "prelu backward";
  size_t total = 0;
  clgan_status s = prelu_check(what, n, c, hw, a_count, x, a, &total);
  if (s || (s = gr_need(what, "dy", dy))) return s;
  if (!total) {
    /* da is a sum over no values */
    if (da.mem && !accumulate && a_count > 0) return clgan_fill(ctx, (size_t)a_count, 0.0f, da);
    return CLGAN_OK;
  }
  /* da first: it reads x and dy, which dx may overwrite. Group j sums a_count = C: channel j
   * of each sample (n runs of hw, c*hw apart); a_count = 1: all of it (n runs of c*hw). */
  if (da.mem) {
    size_t len = (size_t)hw * (size_t)(c / a_count);
    if ((s = gr_rowsum(ctx, (size_t)a_count, n, len, (size_t)c * hw, 2, x, dy, da, accumulate)))
      return s;
  }
  if (!dx.mem) return CLGAN_OK;
  return prelu_launch(ctx, total, c, hw, a_count, 1, x, a, dy, dx, accumulate);
}

/* ---- reflect padding ---- */

static clgan_status reflect_check(const char *what, int n, int c, int h, int w, int p,
                                  size_t *in, size_t *out) {
  clgan_status s;
  if ((s = gr_size(what, "N", n)) || (s = gr_size(what, "C", c)) || (s = gr_size(what, "H", h)) ||
      (s = gr_size(what, "W", w)) || (s = gr_positive(what, "padding p", p)))
    return s;
  if (p >= h || p >= w)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: padding %d needs an input larger than it, "
                       "got %dx%d (as nn.ReflectionPad2d)", what, p, h, w);
  if ((s = gr_total(what, n, c, h, w, in))) return s;
  return gr_total(what, n, c, h + 2 * p, w + 2 * p, out);
}

clgan_status clgan_reflect_pad_forward(clgan_ctx *ctx, int n, int c, int h, int w, int p,
                                       clgan_view x, clgan_view y) {
  const char *what = "reflect pad forward";
  size_t in = 0, out = 0;
  clgan_status s = reflect_check(what, n, c, h, w, p, &in, &out);
  if (s || (s = gr_need(what, "x", x)) || (s = gr_need(what, "y", y))) return s;
  return resample_launch(ctx, "graph_reflect_pad_forward", out, h, w, p, NULL, x, y, NULL);
}

clgan_status clgan_reflect_pad_backward(clgan_ctx *ctx, int n, int c, int h, int w, int p,
                                        clgan_view dy, clgan_view dx, int accumulate) {
  const char *what = "reflect pad backward";
  size_t in = 0, out = 0;
  clgan_status s = reflect_check(what, n, c, h, w, p, &in, &out);
  if (s || (s = gr_need(what, "dy", dy)) || (s = gr_need(what, "dx", dx))) return s;
  return resample_launch(ctx, "graph_reflect_pad_backward", in, h, w, p, NULL, dy, dx, &accumulate);
}
