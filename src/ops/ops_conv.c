/* conv2d, conv_transpose2d and dense: im2col/col2im (kernels/conv.cl) around CLBlast GEMM.
 * Tests: tests/ops_conv/test_conv.c against tests/ref/ref_conv.c; `clgan doctor`. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/ops.h"
#include "ops_nn_internal.h"
#include "clgan/program.h"

/* Every call computes one of three conv2d products on this geometry: x (n, ci, hi, wi) ->
 * y (n, co, ho, wo), weight (co, ci, kh, kw). conv_transpose2d is the same conv2d read
 * backwards, so conv_geom_of() is the only place that knows about `transposed`. */
typedef struct conv_geom {
  int n, ci, hi, wi, co, ho, wo, kh, kw, stride, pad;
  size_t k;  /* rows of the column matrix: ci*kh*kw */
  size_t p;  /* output pixels per sample: ho*wo */
  int nb;    /* samples per folded chunk (see conv_chunk) */
} conv_geom;

/* The workspace holds, for one chunk of nb samples, the column matrix (k, nb*p) (or its
 * transpose) and the chunk's (co, nb*p) output or gradient: nb*p*(k + co) floats. Folding a
 * chunk into one GEMM (rather than one GEMM per sample) is what makes the GEMM big enough to
 * run fast; the cap keeps the scratch the trainer holds per layer shape near 32 MiB (one
 * sample's worth more at most, or one sample's worth when that alone is bigger). 8 Mi floats
 * holds every dcgan28 layer at batch 64 in a single chunk; dcgan64's widest layers take 2-3. */
#define CONV_WS_CAP ((size_t)8 << 20)

static int conv_out_size(int in, int k, int stride, int pad, int out_pad, int transposed) {
  long long v = transposed ? (long long)(in - 1) * stride - 2LL * pad + k + out_pad
                           : ((long long)in + 2LL * pad - k) / stride + 1;
  if (!transposed && (long long)in + 2LL * pad < k) return 0; /* / truncates towards 0 */
  return v > INT_MAX ? 0 : (int)v;
}

static clgan_status conv_check(const clgan_conv *c) {
  if (!c) return clgan_error(CLGAN_ERR_INVALID_ARG, "conv: NULL geometry");
  if (c->transposed != 0 && c->transposed != 1)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "conv: transposed = %d (0 or 1)", c->transposed);
  if (c->n < 1 || c->c_in < 1 || c->c_out < 1 || c->h_in < 1 || c->w_in < 1 || c->kh < 1 ||
      c->kw < 1 || c->stride < 1 || c->pad < 0)
    return clgan_error(CLGAN_ERR_INVALID_ARG,
                       "conv: bad geometry n=%d c_in=%d %dx%d c_out=%d k=%dx%d stride=%d pad=%d "
                       "(sizes and stride must be >= 1, pad >= 0)",
                       c->n, c->c_in, c->h_in, c->w_in, c->c_out, c->kh, c->kw, c->stride,
                       c->pad);
  if (c->transposed ? (c->out_pad < 0 || c->out_pad >= c->stride) : c->out_pad != 0)
    return clgan_error(CLGAN_ERR_INVALID_ARG,
                       "conv: out_pad = %d (conv_transpose2d needs 0 <= out_pad < stride = %d; "
                       "conv2d has none)",
                       c->out_pad, c->stride);
  int ho = conv_out_size(c->h_in, c->kh, c->stride, c->pad, c->out_pad, c->transposed);
  int wo = conv_out_size(c->w_in, c->kw, c->stride, c->pad, c->out_pad, c->transposed);
  if (ho < 1 || wo < 1)
    return clgan_error(CLGAN_ERR_INVALID_ARG,
                       "conv: input %dx%d with kernel %dx%d, stride %d, pad %d gives no output",
                       c->h_in, c->w_in, c->kh, c->kw, c->stride, c->pad);
  return CLGAN_OK;
}

clgan_status clgan_conv_init(clgan_conv *c) {
  clgan_status s = conv_check(c);
  if (s) return s;
  c->h_out = conv_out_size(c->h_in, c->kh, c->stride, c->pad, c->out_pad, c->transposed);
  c->w_out = conv_out_size(c->w_in, c->kw, c->stride, c->pad, c->out_pad, c->transposed);
  return CLGAN_OK;
}

/* Samples per chunk: as many as fit the cap, spread evenly over the chunks (64 samples
 * that need two chunks run as 32 + 32, not 56 + 8). */
static int conv_chunk(int n, size_t per_sample) {
  size_t whole = (size_t)n * per_sample;
  if (whole <= CONV_WS_CAP) return n;
  size_t chunks = (whole + CONV_WS_CAP - 1) / CONV_WS_CAP;
  if (chunks >= (size_t)n) return 1;
  return (int)(((size_t)n + chunks - 1) / chunks);
}

/* The identity in one place: conv_transpose2d(x) with weight (C_in, C_out, k, k) is the
 * data gradient of the conv2d that maps its output (C_out channels) back to its input
 * (C_in channels) with that same weight read as (co = C_in, ci = C_out, k, k); its data
 * gradient is that conv2d's forward, and its weight gradient is that conv2d's with x and
 * dy swapped. out_pad < stride makes the conv2d land exactly on the transposed input. */
static clgan_status conv_geom_of(const clgan_conv *c, conv_geom *g) {
  clgan_status s = conv_check(c);
  if (s) return s;
  int ho = conv_out_size(c->h_in, c->kh, c->stride, c->pad, c->out_pad, c->transposed);
  int wo = conv_out_size(c->w_in, c->kw, c->stride, c->pad, c->out_pad, c->transposed);
  if (c->h_out != ho || c->w_out != wo)
    return clgan_error(CLGAN_ERR_INVALID_ARG,
                       "conv: output %dx%d does not match the geometry (%dx%d); call "
                       "clgan_conv_init first",
                       c->h_out, c->w_out, ho, wo);
  *g = (conv_geom){.n = c->n, .kh = c->kh, .kw = c->kw, .stride = c->stride, .pad = c->pad};
  if (c->transposed) {
    g->ci = c->c_out, g->hi = c->h_out, g->wi = c->w_out;
    g->co = c->c_in, g->ho = c->h_in, g->wo = c->w_in;
  } else {
    g->ci = c->c_in, g->hi = c->h_in, g->wi = c->w_in;
    g->co = c->c_out, g->ho = c->h_out, g->wo = c->w_out;
  }
  g->k = (size_t)g->ci * g->kh * g->kw;
  g->p = (size_t)g->ho * g->wo;
  /* the kernels count pixels, taps and columns in int */
  if (g->p > INT_MAX / 2 || g->k > INT_MAX || (size_t)g->hi * g->wi > INT_MAX)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "conv: a %dx%d image with %zu taps is too big",
                       g->hi, g->wi, g->k);
  g->nb = conv_chunk(g->n, g->p * (g->k + (size_t)g->co));
  return CLGAN_OK;
}

size_t clgan_conv_workspace(const clgan_conv *c) {
  conv_geom g;
  if (!c) return 0;
  clgan_conv tmp = *c;
  if (clgan_conv_init(&tmp) != CLGAN_OK || conv_geom_of(&tmp, &g) != CLGAN_OK) return 0;
  return (size_t)g.nb * g.p * (g.k + (size_t)g.co);
}

/* A view must name a buffer that holds `count` floats from its offset: caught here with
 * the tensor's name rather than as a CL error (or silent corruption) later. */
static clgan_status view_check(clgan_view v, size_t count, const char *what) {
  if (!v.mem) return clgan_error(CLGAN_ERR_INVALID_ARG, "'%s' has no buffer", what);
  size_t bytes = 0;
  cl_int e = clGetMemObjectInfo(v.mem, CL_MEM_SIZE, sizeof bytes, &bytes, NULL);
  if (e != CL_SUCCESS) {
    clgan_cl_check(e, "clGetMemObjectInfo");
    return clgan_error_prefix("'%s': ", what);
  }
  if (v.off > bytes / sizeof(float) || count > bytes / sizeof(float) - v.off)
    return clgan_error(CLGAN_ERR_INVALID_ARG,
                       "'%s' needs %zu floats from offset %zu but its buffer holds %zu", what,
                       count, v.off, bytes / sizeof(float));
  return CLGAN_OK;
}

/* Launches over (g0, g1, g2) items. Only dimension 0 is split into work-groups, of the
 * kernel's permitted size but no wider than g0 needs (a 2-wide image row must not run in
 * 64-wide groups); the kernels guard dimension 0. */
static clgan_status launch_groups(clgan_ctx *ctx, const char *name, size_t g0, size_t g1,
                                  size_t g2, size_t min_groups, int nargs,
                                  const clgan_karg *args) {
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "conv", name, &k);
  if (!s) s = clgan_set_args(k, name, nargs, args);
  if (s) return s;
  size_t want = 64;
  while (want > 1 && want / 2 >= g0) want /= 2;
  while (want > 1 && (g0 + want - 1) / want * g1 * g2 < min_groups) want /= 2;
  size_t local[3] = {clgan_kernel_local_size(ctx, k, want), 1, 1};
  size_t global[3] = {(g0 + local[0] - 1) / local[0] * local[0], g1, g2};
  return clgan_launch(ctx, k, name, 3, global, local);
}

static clgan_status launch(clgan_ctx *ctx, const char *name, size_t g0, size_t g1, size_t g2,
                           int nargs, const clgan_karg *args) {
  return launch_groups(ctx, name, g0, g1, g2, 1, nargs, args);
}

/* The row forms' items are few and long, so a launch that fits in one or two 64-item groups
 * (dcgan28's 1-channel planes: 64 items) would leave compute units idle: smaller groups
 * until there are 4 per compute unit. */
static clgan_status launch_rows(clgan_ctx *ctx, const char *name, size_t g0, size_t g1,
                                int nargs, const clgan_karg *args) {
  size_t cu = ctx->info.compute_units ? ctx->info.compute_units : 1;
  return launch_groups(ctx, name, g0, g1, 1, 4 * cu, nargs, args);
}

/* Which shape the layout kernels take (kernels/conv.cl): one element per work-item
 * (coalesced on GPUs, where neighbouring items then touch neighbouring addresses) or one
 * contiguous run per item (the "_rows_" kernels: on a CPU the per-element index divisions
 * and one-element items are what costs, see docs/KERNELS.md). CPU devices (POCL, and
 * Oclgrind, which claims every type) get rows, the rest elements; CLGAN_CONV_FORM=rows or
 * items overrides it (the tests run both on any device). */
static int conv_rows(clgan_ctx *ctx) {
  const char *e = getenv("CLGAN_CONV_FORM");
  if (e && !strcmp(e, "rows")) return 1;
  if (e && !strcmp(e, "items")) return 0;
  return (ctx->info.type & CL_DEVICE_TYPE_CPU) != 0;
}

/* im2col of samples [n0, n0 + nb) of x into col (g->k, nb*p), or with `transposed` into
 * the same matrix transposed, colT (nb*p, g->k), for the weight gradient. */
static clgan_status im2col_any(clgan_ctx *ctx, const conv_geom *g, int nb, clgan_view x,
                               clgan_view col, int transposed) {
  cl_int a[10] = {nb, g->ci, g->hi, g->wi, g->ho, g->wo, g->kh, g->kw, g->stride, g->pad};
  cl_ulong xo = x.off, co = col.off;
  clgan_karg args[] = {CLGAN_KARG(a[0]), CLGAN_KARG(a[1]), CLGAN_KARG(a[2]), CLGAN_KARG(a[3]),
                       CLGAN_KARG(a[4]), CLGAN_KARG(a[5]), CLGAN_KARG(a[6]), CLGAN_KARG(a[7]),
                       CLGAN_KARG(a[8]), CLGAN_KARG(a[9]), CLGAN_KARG(x.mem), CLGAN_KARG(xo),
                       CLGAN_KARG(col.mem), CLGAN_KARG(co)};
  if (transposed) {
    if (conv_rows(ctx)) return launch_rows(ctx, "im2colT_rows_f32", (size_t)nb * g->p, 1, 14, args);
    return launch(ctx, "im2colT_f32", g->k, g->p, nb, 14, args);
  }
  if (conv_rows(ctx)) return launch_rows(ctx, "im2col_rows_f32", g->k, 1, 14, args);
  return launch(ctx, "im2col_f32", (size_t)nb * g->p, (size_t)g->kh * g->kw, g->ci, 14, args);
}

/* The kernels take a flag rather than a NULL buffer for "no bias": the output buffer
 * stands in, never read. */
static clgan_status col2im(clgan_ctx *ctx, const conv_geom *g, int nb, clgan_view col,
                           clgan_view b, clgan_view x) {
  cl_int a[10] = {nb, g->ci, g->hi, g->wi, g->ho, g->wo, g->kh, g->kw, g->stride, g->pad};
  cl_int has_bias = b.mem != NULL;
  cl_mem bm = has_bias ? b.mem : x.mem;
  cl_ulong colo = col.off, bo = b.off, xo = x.off;
  clgan_karg args[] = {CLGAN_KARG(a[0]),    CLGAN_KARG(a[1]),    CLGAN_KARG(a[2]),
                       CLGAN_KARG(a[3]),    CLGAN_KARG(a[4]),    CLGAN_KARG(a[5]),
                       CLGAN_KARG(a[6]),    CLGAN_KARG(a[7]),    CLGAN_KARG(a[8]),
                       CLGAN_KARG(a[9]),    CLGAN_KARG(col.mem), CLGAN_KARG(colo),
                       CLGAN_KARG(has_bias), CLGAN_KARG(bm),     CLGAN_KARG(bo),
                       CLGAN_KARG(x.mem),   CLGAN_KARG(xo)};
  if (conv_rows(ctx)) return launch_rows(ctx, "col2im_rows_f32", nb, g->ci, 17, args);
  return launch(ctx, "col2im_f32", (size_t)g->hi * g->wi, g->ci, nb, 17, args);
}

static clgan_status nchw_to_cnp(clgan_ctx *ctx, int nb, int c, size_t p, clgan_view src,
                                clgan_view dst) {
  cl_int a[3] = {nb, c, (cl_int)p};
  cl_ulong so = src.off, dso = dst.off;
  clgan_karg args[] = {CLGAN_KARG(a[0]),    CLGAN_KARG(a[1]), CLGAN_KARG(a[2]),
                       CLGAN_KARG(src.mem), CLGAN_KARG(so),   CLGAN_KARG(dst.mem),
                       CLGAN_KARG(dso)};
  if (conv_rows(ctx)) return launch_rows(ctx, "nchw_to_cnp_rows_f32", nb, c, 7, args);
  return launch(ctx, "nchw_to_cnp_f32", nb * p, c, 1, 7, args);
}

static clgan_status cnp_to_nchw(clgan_ctx *ctx, int nb, int c, size_t p, clgan_view src,
                                clgan_view b, clgan_view dst) {
  cl_int a[3] = {nb, c, (cl_int)p};
  cl_int has_bias = b.mem != NULL;
  cl_mem bm = has_bias ? b.mem : dst.mem;
  cl_ulong so = src.off, bo = b.off, dso = dst.off;
  clgan_karg args[] = {CLGAN_KARG(a[0]), CLGAN_KARG(a[1]),     CLGAN_KARG(a[2]),
                       CLGAN_KARG(src.mem), CLGAN_KARG(so),    CLGAN_KARG(has_bias),
                       CLGAN_KARG(bm),   CLGAN_KARG(bo),       CLGAN_KARG(dst.mem),
                       CLGAN_KARG(dso)};
  if (conv_rows(ctx)) return launch_rows(ctx, "cnp_to_nchw_rows_f32", nb, c, 10, args);
  return launch(ctx, "cnp_to_nchw_f32", nb * p, c, 1, 10, args);
}

static clgan_status bias_add(clgan_ctx *ctx, size_t n, int c, size_t p, clgan_view b,
                             clgan_view y) {
  cl_ulong total = n * c * p, bo = b.off, yo = y.off;
  cl_int ci = c, pi = (cl_int)p;
  clgan_karg args[] = {CLGAN_KARG(total), CLGAN_KARG(ci),    CLGAN_KARG(pi), CLGAN_KARG(b.mem),
                       CLGAN_KARG(bo),    CLGAN_KARG(y.mem), CLGAN_KARG(yo)};
  return launch(ctx, "bias_add_f32", total, 1, 1, 7, args);
}

/* One work-group per channel; the local size comes from the kernel's limit. */
static clgan_status bias_grad(clgan_ctx *ctx, int n, int c, size_t p, clgan_view dy,
                              clgan_view db, int accumulate) {
  cl_kernel k;
  clgan_status s = clgan_kernel_get(ctx, "conv", "bias_grad_f32", &k);
  if (s) return s;
  size_t local = clgan_kernel_local_size(ctx, k, 256);
  cl_int ni = n, ci = c, pi = (cl_int)p, acc = accumulate != 0;
  cl_ulong dyo = dy.off, dbo = db.off;
  if (clgan_nn_cpu_only(ctx)) { /* the same sums (and bits), one item per channel */
    cl_kernel ks;
    if ((s = clgan_kernel_get(ctx, "conv", "bias_grad_serial_f32", &ks))) return s;
    cl_int ls = (cl_int)local;
    clgan_karg a1[] = {CLGAN_KARG(ni),  CLGAN_KARG(ci),     CLGAN_KARG(pi),
                       CLGAN_KARG(dy.mem), CLGAN_KARG(dyo), CLGAN_KARG(db.mem),
                       CLGAN_KARG(dbo), CLGAN_KARG(acc),    CLGAN_KARG(ls)};
    if ((s = clgan_set_args(ks, "bias_grad_serial_f32", 9, a1))) return s;
    return clgan_launch_1d(ctx, ks, "bias_grad_serial_f32", (size_t)c, 1);
  }
  clgan_karg args[] = {CLGAN_KARG(ni),     CLGAN_KARG(ci),  CLGAN_KARG(pi),
                       CLGAN_KARG(dy.mem), CLGAN_KARG(dyo), CLGAN_KARG(db.mem),
                       CLGAN_KARG(dbo),    CLGAN_KARG(acc), {local * sizeof(float), NULL}};
  if ((s = clgan_set_args(k, "bias_grad_f32", 9, args))) return s;
  size_t global = (size_t)c * local;
  return clgan_launch(ctx, k, "bias_grad_f32", 1, &global, &local);
}

/* The workspace's two regions for a chunk of nb samples. */
static clgan_view ws_col(clgan_view ws) { return ws; }
static clgan_view ws_out(const conv_geom *g, clgan_view ws) {
  return clgan_view_at(ws, (size_t)g->nb * g->p * g->k);
}

/* y = conv2d(x, w) + b. Per chunk: im2col, then (co, k) x (k, nb*p), then back to NCHW. A
 * single-sample chunk is already NCHW, so its GEMM writes y directly. */
static clgan_status conv2d_fwd(clgan_ctx *ctx, const conv_geom *g, clgan_view x, clgan_view w,
                               clgan_view b, clgan_view y, clgan_view ws) {
  clgan_status s = CLGAN_OK;
  size_t x_per = (size_t)g->ci * g->hi * g->wi, y_per = (size_t)g->co * g->p;
  for (int n0 = 0; n0 < g->n && !s; n0 += g->nb) {
    int nb = g->n - n0 < g->nb ? g->n - n0 : g->nb;
    size_t cols = (size_t)nb * g->p;
    clgan_view yn = clgan_view_at(y, n0 * y_per);
    clgan_view out = nb == 1 ? yn : ws_out(g, ws);
    s = im2col_any(ctx, g, nb, clgan_view_at(x, n0 * x_per), ws_col(ws), 0);
    if (!s) s = clgan_gemm(ctx, 0, 0, g->co, cols, g->k, 1.0f, w, g->k, ws_col(ws), cols, 0.0f,
                           out, cols);
    if (!s && nb > 1) s = cnp_to_nchw(ctx, nb, g->co, g->p, out, b, yn);
    else if (!s && b.mem) s = bias_add(ctx, 1, g->co, g->p, b, yn);
  }
  return s;
}

/* dx = conv2d's data gradient of dy (+ b, for conv_transpose2d). Per chunk: dy to (co,
 * nb*p), then (k, co) x (co, nb*p) into columns, then the gather col2im. */
static clgan_status conv2d_bwd_data(clgan_ctx *ctx, const conv_geom *g, clgan_view dy,
                                    clgan_view w, clgan_view b, clgan_view dx,
                                    clgan_view ws) {
  clgan_status s = CLGAN_OK;
  size_t x_per = (size_t)g->ci * g->hi * g->wi, y_per = (size_t)g->co * g->p;
  for (int n0 = 0; n0 < g->n && !s; n0 += g->nb) {
    int nb = g->n - n0 < g->nb ? g->n - n0 : g->nb;
    size_t cols = (size_t)nb * g->p;
    clgan_view dyn = clgan_view_at(dy, n0 * y_per);
    clgan_view dyt = nb == 1 ? dyn : ws_out(g, ws);
    if (nb > 1) s = nchw_to_cnp(ctx, nb, g->co, g->p, dyn, dyt);
    if (!s) s = clgan_gemm(ctx, 1, 0, g->k, cols, g->co, 1.0f, w, g->k, dyt, cols, 0.0f,
                           ws_col(ws), cols);
    if (!s) s = col2im(ctx, g, nb, ws_col(ws), b, clgan_view_at(dx, n0 * x_per));
  }
  return s;
}

/* dw (+)= conv2d's weight gradient: per chunk, (co, nb*p) x (nb*p, k), the chunks summed by
 * GEMM's beta. The (nb*p, k) operand is the column matrix written transposed (im2colT), so
 * the GEMM runs as NN rather than NT: on POCL with the built-in CLBlast plan NT 128x1024x3136
 * took 1.3x as long as the same product as NN (the NT form's operands go through CLBlast's
 * transpose kernels first), and im2colT costs no more than im2col for 4-wide kernels. */
static clgan_status conv2d_bwd_weight(clgan_ctx *ctx, const conv_geom *g, clgan_view x,
                                      clgan_view dy, clgan_view dw, int accumulate,
                                      clgan_view ws) {
  clgan_status s = CLGAN_OK;
  size_t x_per = (size_t)g->ci * g->hi * g->wi, y_per = (size_t)g->co * g->p;
  for (int n0 = 0; n0 < g->n && !s; n0 += g->nb) {
    int nb = g->n - n0 < g->nb ? g->n - n0 : g->nb;
    size_t cols = (size_t)nb * g->p;
    clgan_view dyn = clgan_view_at(dy, n0 * y_per);
    clgan_view dyt = nb == 1 ? dyn : ws_out(g, ws);
    s = im2col_any(ctx, g, nb, clgan_view_at(x, n0 * x_per), ws_col(ws), 1);
    if (!s && nb > 1) s = nchw_to_cnp(ctx, nb, g->co, g->p, dyn, dyt);
    float beta = (accumulate || n0 > 0) ? 1.0f : 0.0f;
    if (!s) s = clgan_gemm(ctx, 0, 0, g->co, g->k, cols, 1.0f, dyt, cols, ws_col(ws), g->k,
                           beta, dw, g->k);
  }
  return s;
}

/* Checks the views of one call against the user's (not the conv2d view's) shapes. */
static clgan_status conv_views(const clgan_conv *c, clgan_view x, const char *xn, clgan_view w,
                               const char *wn, clgan_view y, const char *yn, clgan_view ws) {
  size_t nx = (size_t)c->n * c->c_in * c->h_in * c->w_in;
  size_t ny = (size_t)c->n * c->c_out * c->h_out * c->w_out;
  size_t nw = (size_t)c->c_out * c->c_in * c->kh * c->kw;
  clgan_status s = view_check(x, nx, xn);
  if (!s) s = view_check(w, nw, wn);
  if (!s) s = view_check(y, ny, yn);
  if (!s) s = view_check(ws, clgan_conv_workspace(c), "ws");
  return s;
}

static clgan_status conv_fail(const char *fn, const clgan_conv *c) {
  if (!c) return clgan_error_prefix("%s: ", fn);
  return clgan_error_prefix("%s (%s n=%d c_in=%d %dx%d -> c_out=%d %dx%d, k%dx%d s%d p%d): ",
                            fn, c->transposed ? "conv_transpose2d" : "conv2d", c->n, c->c_in,
                            c->h_in, c->w_in, c->c_out, c->h_out, c->w_out, c->kh, c->kw,
                            c->stride, c->pad);
}

clgan_status clgan_conv_forward(clgan_ctx *ctx, const clgan_conv *c, clgan_view x, clgan_view w,
                                clgan_view b, clgan_view y, clgan_view ws) {
  conv_geom g;
  clgan_status s = conv_geom_of(c, &g);
  if (!s) s = conv_views(c, x, "x", w, "w", y, "y", ws);
  if (!s && b.mem) s = view_check(b, (size_t)c->c_out, "b");
  if (!s) s = c->transposed ? conv2d_bwd_data(ctx, &g, x, w, b, y, ws)
                            : conv2d_fwd(ctx, &g, x, w, b, y, ws);
  return s ? conv_fail("clgan_conv_forward", c) : s;
}

clgan_status clgan_conv_backward_data(clgan_ctx *ctx, const clgan_conv *c, clgan_view dy,
                                      clgan_view w, clgan_view dx, clgan_view ws) {
  conv_geom g;
  clgan_status s = conv_geom_of(c, &g);
  if (!s) s = conv_views(c, dx, "dx", w, "w", dy, "dy", ws);
  if (!s) s = c->transposed ? conv2d_fwd(ctx, &g, dy, w, CLGAN_NONE, dx, ws)
                            : conv2d_bwd_data(ctx, &g, dy, w, CLGAN_NONE, dx, ws);
  return s ? conv_fail("clgan_conv_backward_data", c) : s;
}

clgan_status clgan_conv_backward_weight(clgan_ctx *ctx, const clgan_conv *c, clgan_view x,
                                        clgan_view dy, clgan_view dw, clgan_view db,
                                        int accumulate, clgan_view ws) {
  conv_geom g;
  clgan_status s = conv_geom_of(c, &g);
  if (!s) s = conv_views(c, x, "x", dw, "dw", dy, "dy", ws);
  if (!s && db.mem) s = view_check(db, (size_t)c->c_out, "db");
  if (!s) s = c->transposed ? conv2d_bwd_weight(ctx, &g, dy, x, dw, accumulate, ws)
                            : conv2d_bwd_weight(ctx, &g, x, dy, dw, accumulate, ws);
  if (!s && db.mem)
    s = bias_grad(ctx, c->n, c->c_out, (size_t)c->h_out * c->w_out, dy, db, accumulate);
  return s ? conv_fail("clgan_conv_backward_weight", c) : s;
}

/* ---- dense: y (n, out) = x (n, in) w^T + b ---- */

static clgan_status dense_check(int n, int in, int out) {
  if (n < 1 || in < 1 || out < 1)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "bad shape n=%d in=%d out=%d (all must be >= 1)",
                       n, in, out);
  return CLGAN_OK;
}

static clgan_status dense_fail(const char *fn, int n, int in, int out) {
  return clgan_error_prefix("%s (n=%d, %d -> %d): ", fn, n, in, out);
}

clgan_status clgan_dense_forward(clgan_ctx *ctx, int n, int in, int out, clgan_view x,
                                 clgan_view w, clgan_view b, clgan_view y) {
  clgan_status s = dense_check(n, in, out);
  if (!s) s = view_check(x, (size_t)n * in, "x");
  if (!s) s = view_check(w, (size_t)out * in, "w");
  if (!s) s = view_check(y, (size_t)n * out, "y");
  if (!s && b.mem) s = view_check(b, (size_t)out, "b");
  if (!s) s = clgan_gemm(ctx, 0, 1, n, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
  if (!s && b.mem) s = bias_add(ctx, n, out, 1, b, y);
  return s ? dense_fail("clgan_dense_forward", n, in, out) : s;
}

clgan_status clgan_dense_backward_data(clgan_ctx *ctx, int n, int in, int out, clgan_view dy,
                                       clgan_view w, clgan_view dx) {
  clgan_status s = dense_check(n, in, out);
  if (!s) s = view_check(dy, (size_t)n * out, "dy");
  if (!s) s = view_check(w, (size_t)out * in, "w");
  if (!s) s = view_check(dx, (size_t)n * in, "dx");
  if (!s) s = clgan_gemm(ctx, 0, 0, n, in, out, 1.0f, dy, out, w, in, 0.0f, dx, in);
  return s ? dense_fail("clgan_dense_backward_data", n, in, out) : s;
}

clgan_status clgan_dense_backward_weight(clgan_ctx *ctx, int n, int in, int out, clgan_view x,
                                         clgan_view dy, clgan_view dw, clgan_view db,
                                         int accumulate) {
  clgan_status s = dense_check(n, in, out);
  if (!s) s = view_check(x, (size_t)n * in, "x");
  if (!s) s = view_check(dy, (size_t)n * out, "dy");
  if (!s) s = view_check(dw, (size_t)out * in, "dw");
  if (!s && db.mem) s = view_check(db, (size_t)out, "db");
  if (!s) s = clgan_gemm(ctx, 1, 0, out, in, n, 1.0f, dy, out, x, in, accumulate ? 1.0f : 0.0f,
                         dw, in);
  if (!s && db.mem) s = bias_grad(ctx, n, out, 1, dy, db, accumulate);
  return s ? dense_fail("clgan_dense_backward_weight", n, in, out) : s;
}
