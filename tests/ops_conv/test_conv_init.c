/* Host-only: clgan_conv_init's output sizes agree with the reference's (PyTorch's formulas),
 * impossible geometries are refused, and clgan_conv_workspace stays within its cap. */
#include "test_util.h"

static void check_sizes(void) {
  int mismatches = 0, tried = 0;
  for (int t = 0; t <= 1; t++)
    for (int h = 1; h <= 9; h++)
      for (int k = 1; k <= 5; k++)
        for (int s = 1; s <= 3; s++)
          for (int p = 0; p <= 2; p++)
            for (int op = 0; op < (t ? s : 1); op++) {
              clgan_conv c = {.n = 2, .c_in = 3, .h_in = h, .w_in = h + 1, .c_out = 4, .kh = k,
                              .kw = k, .stride = s, .pad = p, .out_pad = op, .transposed = t};
              ref_conv_shape r = {.n = 2, .c_in = 3, .h_in = h, .w_in = h + 1, .c_out = 4,
                                  .kh = k, .kw = k, .stride = s, .pad = p, .out_pad = op};
              ref_conv_shape_init(&r, t);
              int possible = r.h_out >= 1 && r.w_out >= 1 && (t || h + 2 * p >= k);
              clgan_status st = clgan_conv_init(&c);
              tried++;
              if (possible ? (st != CLGAN_OK || c.h_out != r.h_out || c.w_out != r.w_out ||
                              clgan_conv_workspace(&c) == 0)
                           : st != CLGAN_ERR_INVALID_ARG) {
                if (mismatches++ < 5)
                  fprintf(stderr, "t=%d h=%d k=%d s=%d p=%d op=%d: %s %dx%d, ref %dx%d\n", t, h,
                          k, s, p, op, clgan_status_name(st), c.h_out, c.w_out, r.h_out,
                          r.w_out);
              }
            }
  CHECK(mismatches == 0, "%d of %d geometries disagree with the reference", mismatches, tried);
}

static void check_rejects(void) {
  const clgan_conv ok = {.n = 1, .c_in = 1, .h_in = 4, .w_in = 4, .c_out = 1, .kh = 3,
                         .kw = 3, .stride = 2, .pad = 1};
  clgan_conv c = ok;
  CHECK_OK(clgan_conv_init(&c));
  CHECK(c.h_out == 2 && c.w_out == 2, "4x4 k3 s2 p1 -> %dx%d", c.h_out, c.w_out);
  c = ok, c.stride = 0;
  CHECK(clgan_conv_init(&c) == CLGAN_ERR_INVALID_ARG, "stride 0 accepted");
  c = ok, c.out_pad = 1;
  CHECK(clgan_conv_init(&c) == CLGAN_ERR_INVALID_ARG, "conv2d with out_pad accepted");
  c = ok, c.transposed = 1, c.out_pad = 2;
  CHECK(clgan_conv_init(&c) == CLGAN_ERR_INVALID_ARG && strstr(clgan_last_error(), "out_pad"),
        "out_pad >= stride accepted: %s", clgan_last_error());
  c = ok, c.kh = 7;
  CHECK(clgan_conv_init(&c) == CLGAN_ERR_INVALID_ARG, "kernel larger than padded input accepted");
  c = ok, c.pad = -1;
  CHECK(clgan_conv_init(&c) == CLGAN_ERR_INVALID_ARG, "negative pad accepted");
  c = ok, c.transposed = 2;
  CHECK(clgan_conv_init(&c) == CLGAN_ERR_INVALID_ARG, "transposed = 2 accepted");
  CHECK(clgan_conv_init(NULL) == CLGAN_ERR_INVALID_ARG, "NULL accepted");
  CHECK(clgan_conv_workspace(NULL) == 0, "workspace of NULL");
}

/* The workspace of the dcgan28 layers at batch 64 holds the whole batch (one GEMM each);
 * the widest dcgan64 layer at batch 64 stays under the 8 Mi-float cap. */
static void check_workspace(void) {
  clgan_conv d2 = {.n = 64, .c_in = 64, .h_in = 14, .w_in = 14, .c_out = 128, .kh = 4,
                   .kw = 4, .stride = 2, .pad = 1};
  CHECK_OK(clgan_conv_init(&d2));
  CHECK(clgan_conv_workspace(&d2) == (size_t)64 * 49 * (64 * 16 + 128),
        "dcgan28 D conv2 workspace %zu", clgan_conv_workspace(&d2));
  clgan_conv g1 = {.n = 64, .c_in = 256, .h_in = 7, .w_in = 7, .c_out = 128, .kh = 4, .kw = 4,
                   .stride = 2, .pad = 1, .transposed = 1};
  CHECK_OK(clgan_conv_init(&g1));
  CHECK(clgan_conv_workspace(&g1) == (size_t)64 * 49 * (128 * 16 + 256),
        "dcgan28 G convT1 workspace %zu", clgan_conv_workspace(&g1));
  clgan_conv d64 = {.n = 64, .c_in = 64, .h_in = 32, .w_in = 32, .c_out = 128, .kh = 4,
                    .kw = 4, .stride = 2, .pad = 1};
  CHECK_OK(clgan_conv_init(&d64));
  size_t ws = clgan_conv_workspace(&d64), per = (size_t)256 * (64 * 16 + 128);
  CHECK(ws <= ((size_t)8 << 20) && ws % per == 0 && ws / per == 22,
        "dcgan64 D conv2 workspace %zu (%zu samples)", ws, ws / per);
}

int main(void) {
  check_sizes();
  check_rejects();
  check_workspace();
  return tu_finish("test_conv_init");
}
