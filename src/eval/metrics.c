/* Sample-quality metrics on feature vectors: FD (LAPACK's dsyevd for the matrix square
 * root), KID, precision/recall, class histograms. Host code, float64 sums. The header
 * (include/clgan/metrics.h) and docs/EVAL.md give the formulas. Tests: tests/eval/ */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/metrics.h"

/* Columns of B handled per block: its transposed block (d x CB doubles) stays in cache
 * while every row of A passes over it. */
#define CB 64

/* Calls visit(ctx, i, j0, dots, nj) with dots[j] = A_i . B_{j0+j} for every row i of A
 * and every block [j0, j0 + nj) of B's rows. A is (na, d), B is (nb, d), both row-major
 * doubles. upper: only blocks with j0 + nj > i are visited (the caller still checks
 * j > i inside the block), for symmetric sums over i < j. The work is done in 4 x 8
 * tiles of A rows x B columns held in registers, each entry summed over k in order (no
 * reassociation), which compilers vectorise across the 8 columns. */
typedef void (*visit_fn)(void *ctx, int i, int j0, const double *dots, int nj);

/* Built twice by GCC on x86-64 (not under ASan, nor by clang, whose sanitizer builds
 * should not meet an ifunc resolver): with AVX2 + FMA, picked at load time on CPUs that
 * have them (4 doubles a vector, fused multiply-add), and for the baseline (SSE2). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("arch=haswell", "default")))
#endif
static clgan_status for_dots(const double *A, int na, const double *B, int nb, int d, int upper,
                             visit_fn visit, void *ctx) {
  double *bt = malloc(sizeof(double) * (size_t)d * CB);
  double *out = malloc(sizeof(double) * 4 * CB);
  if (!bt || !out) {
    free(bt);
    free(out);
    return clgan_error(CLGAN_ERR_NOMEM, "out of host memory for a %d x %d block", d, CB);
  }
  for (int j0 = 0; j0 < nb; j0 += CB) {
    int nj = nb - j0 < CB ? nb - j0 : CB;
    int nj8 = (nj + 7) & ~7; /* columns past nj are zeros, their results unused */
    for (int j = 0; j < nj8; j++)
      for (int k = 0; k < d; k++) bt[(size_t)k * CB + j] = j < nj ? B[(size_t)(j0 + j) * d + k] : 0;
    int iend = upper ? (j0 + nj < na ? j0 + nj : na) : na;
    for (int i = 0; i < iend; i += 4) {
      int ni = iend - i < 4 ? iend - i : 4;
      /* rows past ni repeat row i; their results are not visited */
      const double *a0 = A + (size_t)i * d, *a1 = ni > 1 ? a0 + d : a0,
                   *a2 = ni > 2 ? a0 + 2 * (size_t)d : a0, *a3 = ni > 3 ? a0 + 3 * (size_t)d : a0;
      for (int jj = 0; jj < nj8; jj += 8) {
        /* a 4 x 8 tile accumulated in registers over k */
        double c0[8] = {0}, c1[8] = {0}, c2[8] = {0}, c3[8] = {0};
        for (int k = 0; k < d; k++) {
          const double *b = bt + (size_t)k * CB + jj;
          double v0 = a0[k], v1 = a1[k], v2 = a2[k], v3 = a3[k];
          for (int j = 0; j < 8; j++) {
            c0[j] += v0 * b[j];
            c1[j] += v1 * b[j];
            c2[j] += v2 * b[j];
            c3[j] += v3 * b[j];
          }
        }
        memcpy(out + 0 * CB + jj, c0, sizeof c0);
        memcpy(out + 1 * CB + jj, c1, sizeof c1);
        memcpy(out + 2 * CB + jj, c2, sizeof c2);
        memcpy(out + 3 * CB + jj, c3, sizeof c3);
      }
      for (int r = 0; r < ni; r++) visit(ctx, i + r, j0, out + r * CB, nj);
    }
  }
  free(bt);
  free(out);
  return CLGAN_OK;
}

static clgan_status check_shape(const char *what, const void *p, int n, int min_n, int d) {
  if (!p || d < 1 || n < min_n)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "%s: %d rows of %d features (need at least %d "
                       "rows and 1 feature)", what, n, d, min_n);
  return CLGAN_OK;
}

/* float (n, d) -> double (n, d); NULL after setting the error. */
static double *to_double(const float *x, int n, int d) {
  double *o = malloc(sizeof(double) * (size_t)n * d);
  if (!o) {
    clgan_error(CLGAN_ERR_NOMEM, "out of host memory for %d x %d features", n, d);
    return NULL;
  }
  for (size_t i = 0; i < (size_t)n * d; i++) o[i] = x[i];
  return o;
}

static clgan_status check_finite_f(const char *what, const float *x, size_t count) {
  for (size_t i = 0; i < count; i++)
    if (!isfinite(x[i]))
      return clgan_error(CLGAN_ERR_NUMERIC, "%s: feature value %zu is %g (not finite)", what, i,
                         (double)x[i]);
  return CLGAN_OK;
}

/* ---- moments ---- */

typedef struct cov_ctx {
  double *sigma;
  int d;
} cov_ctx;

static void cov_visit(void *p, int i, int j0, const double *dots, int nj) {
  cov_ctx *c = p;
  for (int j = 0; j < nj; j++) {
    int jj = j0 + j;
    if (jj < i) continue;
    c->sigma[(size_t)i * c->d + jj] = dots[j];
    c->sigma[(size_t)jj * c->d + i] = dots[j];
  }
}

clgan_status clgan_feature_moments(const float *x, int n, int d, double *mu, double *sigma) {
  clgan_status s = check_shape("feature moments", x, n, 2, d);
  if (s) return s;
  if ((s = check_finite_f("feature moments", x, (size_t)n * d))) return s;
  for (int k = 0; k < d; k++) mu[k] = 0;
  for (int i = 0; i < n; i++)
    for (int k = 0; k < d; k++) mu[k] += x[(size_t)i * d + k];
  for (int k = 0; k < d; k++) mu[k] /= n;
  /* centred and transposed: (d, n), so the covariance is its Gram matrix */
  double *ct = malloc(sizeof(double) * (size_t)n * d);
  if (!ct) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory for %d x %d features", n, d);
  for (int i = 0; i < n; i++)
    for (int k = 0; k < d; k++) ct[(size_t)k * n + i] = x[(size_t)i * d + k] - mu[k];
  cov_ctx c = {sigma, d};
  s = for_dots(ct, d, ct, d, n, 1, cov_visit, &c);
  free(ct);
  if (s) return s;
  for (size_t i = 0; i < (size_t)d * d; i++) sigma[i] /= (n - 1);
  return CLGAN_OK;
}

/* ---- Fréchet distance ---- */

/* c = a b for d x d row-major matrices (i-k-j order). */
static void matmul(const double *a, const double *b, int d, double *c) {
  memset(c, 0, sizeof(double) * (size_t)d * d);
  for (int i = 0; i < d; i++)
    for (int k = 0; k < d; k++) {
      double v = a[(size_t)i * d + k];
      const double *br = b + (size_t)k * d;
      double *cr = c + (size_t)i * d;
      for (int j = 0; j < d; j++) cr[j] += v * br[j];
    }
}

/* Eigenvalues (ascending) into w, and with vectors != 0 the eigenvectors overwrite a:
 * a symmetric matrix is its own transpose, so row- and column-major agree on input, and
 * on output row k of a (row-major) is the k-th eigenvector. */
static clgan_status syevd(double *a, int d, double *w, int vectors, const char *what) {
  lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, vectors ? 'V' : 'N', 'U', d, a, d, w);
  if (info < 0)
    return clgan_error(CLGAN_ERR_INTERNAL, "LAPACKE_dsyevd (%s): argument %d is bad", what,
                       (int)-info);
  if (info > 0)
    return clgan_error(CLGAN_ERR_NUMERIC, "LAPACKE_dsyevd (%s) did not converge (info %d)", what,
                       (int)info);
  return CLGAN_OK;
}

clgan_status clgan_frechet_distance(const double *mu1, const double *s1, const double *mu2,
                                    const double *s2, int d, double *fd) {
  if (!mu1 || !s1 || !mu2 || !s2 || !fd || d < 1)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "Fréchet distance: bad arguments (d = %d)", d);
  for (size_t i = 0; i < (size_t)d * d; i++)
    if (!isfinite(s1[i]) || !isfinite(s2[i]))
      return clgan_error(CLGAN_ERR_NUMERIC, "Fréchet distance: covariance entry %zu is not "
                         "finite", i);
  double diff = 0, tr = 0;
  for (int k = 0; k < d; k++) {
    double t = mu1[k] - mu2[k];
    diff += t * t;
    tr += s1[(size_t)k * d + k] + s2[(size_t)k * d + k];
  }
  if (!isfinite(diff))
    return clgan_error(CLGAN_ERR_NUMERIC, "Fréchet distance: a mean is not finite");
  size_t dd = (size_t)d * d;
  double *v = malloc(sizeof(double) * dd), *r = calloc(dd, sizeof(double)),
         *t = malloc(sizeof(double) * dd), *m = malloc(sizeof(double) * dd),
         *w = malloc(sizeof(double) * (size_t)d);
  clgan_status s = CLGAN_OK;
  if (!v || !r || !t || !m || !w) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory for %d x %d matrices", d, d);
    goto done;
  }
  /* R = sqrtm(S1) = V diag(sqrt(max(l, 0))) V^T */
  memcpy(v, s1, sizeof(double) * dd);
  if ((s = syevd(v, d, w, 1, "sqrtm of the first covariance"))) goto done;
  for (int k = 0; k < d; k++) {
    double sk = w[k] > 0 ? sqrt(w[k]) : 0;
    if (sk == 0) continue;
    const double *vk = v + (size_t)k * d;
    for (int i = 0; i < d; i++) {
      double a = sk * vk[i];
      double *ri = r + (size_t)i * d;
      for (int j = 0; j < d; j++) ri[j] += a * vk[j];
    }
  }
  /* M = R S2 R, symmetrised against rounding; tr sqrtm(S1 S2) = sum sqrt(eig(M)) */
  matmul(r, s2, d, t);
  matmul(t, r, d, m);
  for (int i = 0; i < d; i++)
    for (int j = i + 1; j < d; j++) {
      double a = 0.5 * (m[(size_t)i * d + j] + m[(size_t)j * d + i]);
      m[(size_t)i * d + j] = m[(size_t)j * d + i] = a;
    }
  if ((s = syevd(m, d, w, 0, "eigenvalues of sqrtm(S1) S2 sqrtm(S1)"))) goto done;
  double trsq = 0;
  for (int k = 0; k < d; k++) trsq += w[k] > 0 ? sqrt(w[k]) : 0;
  double val = diff + tr - 2 * trsq;
  *fd = val > 0 ? val : 0;
done:
  free(v);
  free(r);
  free(t);
  free(m);
  free(w);
  return s;
}

clgan_status clgan_fd_features(const float *a, int na, const float *b, int nb, int d,
                               double *fd) {
  clgan_status s;
  if ((s = check_shape("FD, first set", a, na, 2, d))) return s;
  if ((s = check_shape("FD, second set", b, nb, 2, d))) return s;
  size_t dd = (size_t)d * d;
  double *mu1 = malloc(sizeof(double) * d), *mu2 = malloc(sizeof(double) * d),
         *s1 = malloc(sizeof(double) * dd), *s2 = malloc(sizeof(double) * dd);
  if (!mu1 || !mu2 || !s1 || !s2)
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory for %d x %d covariances", d, d);
  if (!s) s = clgan_feature_moments(a, na, d, mu1, s1);
  if (!s) s = clgan_feature_moments(b, nb, d, mu2, s2);
  if (!s) s = clgan_frechet_distance(mu1, s1, mu2, s2, d, fd);
  free(mu1);
  free(mu2);
  free(s1);
  free(s2);
  return s;
}

/* ---- KID ---- */

typedef struct ksum_ctx {
  double sum, inv_d;
  int upper; /* only j > i */
} ksum_ctx;

static void ksum_visit(void *p, int i, int j0, const double *dots, int nj) {
  ksum_ctx *c = p;
  double s = 0;
  for (int j = 0; j < nj; j++) {
    if (c->upper && j0 + j <= i) continue;
    double t = dots[j] * c->inv_d + 1;
    s += t * t * t;
  }
  c->sum += s;
}

static clgan_status mmd2_d(const double *x, const double *y, int m, int d, double *out) {
  ksum_ctx xx = {0, 1.0 / d, 1}, yy = {0, 1.0 / d, 1}, xy = {0, 1.0 / d, 0};
  clgan_status s;
  if ((s = for_dots(x, m, x, m, d, 1, ksum_visit, &xx))) return s;
  if ((s = for_dots(y, m, y, m, d, 1, ksum_visit, &yy))) return s;
  if ((s = for_dots(x, m, y, m, d, 0, ksum_visit, &xy))) return s;
  /* the off-diagonal sums are twice the upper triangles' */
  *out = 2 * (xx.sum + yy.sum) / ((double)m * (m - 1)) - 2 * xy.sum / ((double)m * m);
  return CLGAN_OK;
}

clgan_status clgan_mmd2_poly(const float *x, const float *y, int m, int d, double *mmd2) {
  clgan_status s;
  if ((s = check_shape("MMD", x, m, 2, d)) || (s = check_shape("MMD", y, m, 2, d))) return s;
  if ((s = check_finite_f("MMD, first set", x, (size_t)m * d)) ||
      (s = check_finite_f("MMD, second set", y, (size_t)m * d)))
    return s;
  double *xd = to_double(x, m, d), *yd = xd ? to_double(y, m, d) : NULL;
  if (!yd) {
    free(xd);
    return clgan_last_status();
  }
  s = mmd2_d(xd, yd, m, d, mmd2);
  free(xd);
  free(yd);
  return s;
}

static unsigned long long splitmix64(unsigned long long *st) {
  unsigned long long z = (*st += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* The first m of a partial Fisher-Yates shuffle of perm (n entries, kept between calls),
 * gathered as rows of src into dst (m, d). */
static void draw_subset(int *perm, int n, int m, const float *src, int d, double *dst,
                        unsigned long long *st) {
  for (int i = 0; i < m; i++) {
    int j = i + (int)(splitmix64(st) % (unsigned long long)(n - i));
    int t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
    const float *row = src + (size_t)perm[i] * d;
    for (int k = 0; k < d; k++) dst[(size_t)i * d + k] = row[k];
  }
}

clgan_status clgan_kid(const float *a, int na, const float *b, int nb, int d, int subset_size,
                       int subsets, unsigned long long seed, double *mean, double *std) {
  clgan_status s;
  if ((s = check_shape("KID, first set", a, na, 2, d)) ||
      (s = check_shape("KID, second set", b, nb, 2, d)))
    return s;
  if (subset_size < 2 || subsets < 1)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "KID: subset size %d (>= 2) and %d subsets (>= 1)",
                       subset_size, subsets);
  if ((s = check_finite_f("KID, first set", a, (size_t)na * d)) ||
      (s = check_finite_f("KID, second set", b, (size_t)nb * d)))
    return s;
  int m = subset_size;
  if (m > na) m = na;
  if (m > nb) m = nb;
  int *pa = malloc(sizeof(int) * (size_t)na), *pb = malloc(sizeof(int) * (size_t)nb);
  double *x = malloc(sizeof(double) * (size_t)m * d), *y = malloc(sizeof(double) * (size_t)m * d);
  double *vals = malloc(sizeof(double) * (size_t)subsets);
  if (!pa || !pb || !x || !y || !vals) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory for KID subsets of %d x %d", m, d);
    goto done;
  }
  for (int i = 0; i < na; i++) pa[i] = i;
  for (int i = 0; i < nb; i++) pb[i] = i;
  unsigned long long st = seed;
  double sum = 0;
  for (int t = 0; t < subsets && !s; t++) {
    draw_subset(pa, na, m, a, d, x, &st);
    draw_subset(pb, nb, m, b, d, y, &st);
    s = mmd2_d(x, y, m, d, &vals[t]);
    sum += vals[t];
  }
  if (s) goto done;
  double mu = sum / subsets, var = 0;
  for (int t = 0; t < subsets; t++) var += (vals[t] - mu) * (vals[t] - mu);
  *mean = mu;
  *std = sqrt(var / subsets);
done:
  free(pa);
  free(pb);
  free(x);
  free(y);
  free(vals);
  return s;
}

/* ---- precision / recall ---- */

/* k smallest squared distances of each row to the other rows of the same set. */
typedef struct knn_ctx {
  const double *na2, *nb2; /* squared norms of the rows of A and B */
  double *best;            /* (rows, k), ascending */
  int k;
} knn_ctx;

static void knn_visit(void *p, int i, int j0, const double *dots, int nj) {
  knn_ctx *c = p;
  double *b = c->best + (size_t)i * c->k;
  int k = c->k;
  for (int j = 0; j < nj; j++) {
    if (j0 + j == i) continue;
    double dist = c->na2[i] + c->nb2[j0 + j] - 2 * dots[j];
    if (dist < 0) dist = 0;
    if (dist >= b[k - 1]) continue;
    int q = k - 1;
    while (q > 0 && b[q - 1] > dist) {
      b[q] = b[q - 1];
      q--;
    }
    b[q] = dist;
  }
}

/* Rows = fake, columns = real: marks fakes inside some real radius (precision) and reals
 * inside some fake radius (recall). */
typedef struct cross_ctx {
  const double *nf2, *nr2, *rad_r, *rad_f; /* squared norms, squared radii */
  unsigned char *fake_in, *real_in;
} cross_ctx;

static void cross_visit(void *p, int i, int j0, const double *dots, int nj) {
  cross_ctx *c = p;
  for (int j = 0; j < nj; j++) {
    int r = j0 + j;
    double dist = c->nf2[i] + c->nr2[r] - 2 * dots[j];
    if (dist < 0) dist = 0;
    if (dist <= c->rad_r[r]) c->fake_in[i] = 1;
    if (dist <= c->rad_f[i]) c->real_in[r] = 1;
  }
}

static void sqnorms(const double *x, int n, int d, double *out) {
  for (int i = 0; i < n; i++) {
    double s = 0;
    for (int k = 0; k < d; k++) s += x[(size_t)i * d + k] * x[(size_t)i * d + k];
    out[i] = s;
  }
}

static clgan_status knn_radii(const double *x, const double *n2, int n, int d, int k,
                              double *rad) {
  double *best = malloc(sizeof(double) * (size_t)n * k);
  if (!best) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory for %d x %d neighbours", n, k);
  for (size_t i = 0; i < (size_t)n * k; i++) best[i] = INFINITY;
  knn_ctx c = {n2, n2, best, k};
  clgan_status s = for_dots(x, n, x, n, d, 0, knn_visit, &c);
  for (int i = 0; !s && i < n; i++) rad[i] = best[(size_t)i * k + k - 1];
  free(best);
  return s;
}

clgan_status clgan_precision_recall(const float *real, int nr, const float *fake, int nf, int d,
                                    int k, double *precision, double *recall) {
  clgan_status s;
  if (k < 1 || k > 1000)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "precision/recall: k = %d, outside 1..1000", k);
  if ((s = check_shape("precision/recall, real set", real, nr, k + 1, d)) ||
      (s = check_shape("precision/recall, generated set", fake, nf, k + 1, d)))
    return s;
  if ((s = check_finite_f("precision/recall, real set", real, (size_t)nr * d)) ||
      (s = check_finite_f("precision/recall, generated set", fake, (size_t)nf * d)))
    return s;
  double *r = to_double(real, nr, d), *f = r ? to_double(fake, nf, d) : NULL;
  double *nr2 = malloc(sizeof(double) * (size_t)nr), *nf2 = malloc(sizeof(double) * (size_t)nf);
  double *rad_r = malloc(sizeof(double) * (size_t)nr), *rad_f = malloc(sizeof(double) * (size_t)nf);
  unsigned char *real_in = calloc((size_t)nr, 1), *fake_in = calloc((size_t)nf, 1);
  if (!f) {
    s = clgan_last_status();
    goto done;
  }
  if (!nr2 || !nf2 || !rad_r || !rad_f || !real_in || !fake_in) {
    s = clgan_error(CLGAN_ERR_NOMEM, "out of host memory for precision/recall");
    goto done;
  }
  sqnorms(r, nr, d, nr2);
  sqnorms(f, nf, d, nf2);
  if ((s = knn_radii(r, nr2, nr, d, k, rad_r))) goto done;
  if ((s = knn_radii(f, nf2, nf, d, k, rad_f))) goto done;
  cross_ctx c = {nf2, nr2, rad_r, rad_f, fake_in, real_in};
  if ((s = for_dots(f, nf, r, nr, d, 0, cross_visit, &c))) goto done;
  long pin = 0, rin = 0;
  for (int i = 0; i < nf; i++) pin += fake_in[i];
  for (int i = 0; i < nr; i++) rin += real_in[i];
  *precision = (double)pin / nf;
  *recall = (double)rin / nr;
done:
  free(r);
  free(f);
  free(nr2);
  free(nf2);
  free(rad_r);
  free(rad_f);
  free(real_in);
  free(fake_in);
  return s;
}

/* ---- class histogram ---- */

clgan_status clgan_class_histogram(const int32_t *labels, int n, int classes,
                                   clgan_class_hist *h) {
  memset(h, 0, sizeof *h);
  if (!labels || n < 1 || classes < 1)
    return clgan_error(CLGAN_ERR_INVALID_ARG, "class histogram: %d labels over %d classes", n,
                       classes);
  for (int i = 0; i < n; i++)
    if (labels[i] < 0 || labels[i] >= classes)
      return clgan_error(CLGAN_ERR_INVALID_ARG, "class histogram: label %d (sample %d) is "
                         "outside 0..%d", (int)labels[i], i, classes - 1);
  h->counts = calloc((size_t)classes, sizeof *h->counts);
  if (!h->counts) return clgan_error(CLGAN_ERR_NOMEM, "out of host memory");
  h->classes = classes;
  h->n = n;
  for (int i = 0; i < n; i++) h->counts[labels[i]]++;
  double min_share = CLGAN_COVERED_FRACTION / classes;
  for (int c = 0; c < classes; c++) {
    if ((double)h->counts[c] / n >= min_share) h->covered++;
    if (h->counts[c] > h->counts[h->largest]) h->largest = c;
  }
  h->largest_share = (double)h->counts[h->largest] / n;
  return CLGAN_OK;
}

void clgan_class_hist_free(clgan_class_hist *h) {
  if (!h) return;
  free(h->counts);
  h->counts = NULL;
}
