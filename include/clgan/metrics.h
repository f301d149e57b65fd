/* Sample-quality metrics on feature vectors (a classifier's penultimate features): Fréchet
 * distance, kernel inception distance, precision/recall, class histograms. Host code,
 * float64 arithmetic throughout (features come in as float, every sum is a double).
 * Formulas, defaults and the proofs: docs/EVAL.md. Tests: tests/eval/ */
#ifndef CLGAN_METRICS_H
#define CLGAN_METRICS_H

#include <stdint.h>

#include "clgan/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Features are row-major (n, d) float matrices: row i is sample i's feature vector. */

/* Mean (d) and covariance (d x d, row-major) of n >= 2 rows, the covariance unbiased
 * (divided by n - 1, as numpy.cov). Two passes (mean first) in float64. */
clgan_status clgan_feature_moments(const float *x, int n, int d, double *mu, double *sigma);

/* Fréchet distance of two Gaussians:
 *   FD = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr(sqrtm(S1 S2)).
 * tr(sqrtm(S1 S2)) by a symmetric formulation with LAPACK's dsyevd (no general square
 * root of the non-symmetric S1 S2): R = sqrtm(S1) = V diag(sqrt(max(l, 0))) V^T from
 * S1's eigen-decomposition, then the eigenvalues e of M = R S2 R, which is symmetric
 * positive semi-definite and similar to S1 S2 (same non-zero eigenvalues), so
 * tr(sqrtm(S1 S2)) = sum sqrt(max(e, 0)). Negative eigenvalues (rounding on a singular
 * covariance) count as 0. The result is clamped at 0 (it is a squared distance).
 * CLGAN_ERR_NUMERIC when an input is not finite or LAPACK does not converge. */
clgan_status clgan_frechet_distance(const double *mu1, const double *s1, const double *mu2,
                                    const double *s2, int d, double *fd);

/* FD of two feature sets: moments of each, then clgan_frechet_distance. */
clgan_status clgan_fd_features(const float *a, int na, const float *b, int nb, int d,
                               double *fd);

/* Unbiased squared MMD of two sets of m rows each with the polynomial kernel
 * k(x, y) = (x.y / d + 1)^3:
 *   MMD^2 = sum_{i!=j} k(x_i,x_j) / (m(m-1)) + sum_{i!=j} k(y_i,y_j) / (m(m-1))
 *           - 2 sum_{i,j} k(x_i,y_j) / m^2.
 * Can be negative (it is unbiased). m >= 2. */
clgan_status clgan_mmd2_poly(const float *x, const float *y, int m, int d, double *mmd2);

/* KID defaults, as torch-fidelity's. */
#define CLGAN_KID_SUBSET_SIZE 1000
#define CLGAN_KID_SUBSETS 100

/* Kernel inception distance: clgan_mmd2_poly over `subsets` pairs of random subsets, each
 * of subset_size rows drawn without replacement from a (na rows) and from b (nb rows);
 * subset_size is capped at min(na, nb) (so a subset_size >= both sizes with subsets = 1
 * is the MMD of the whole sets). Subsets come from a SplitMix64 stream of `seed`
 * (partial Fisher-Yates). *mean is the mean over subsets, *std their standard deviation
 * (population, divided by subsets, as torch-fidelity; 0 for one subset). */
clgan_status clgan_kid(const float *a, int na, const float *b, int nb, int d, int subset_size,
                       int subsets, unsigned long long seed, double *mean, double *std);

/* Precision and recall of Kynkäänniemi et al. 2019 ("Improved precision and recall metric
 * for assessing generative models"): each real row's radius is the distance to its k-th
 * nearest other real row (itself excluded by index, so duplicates count at distance 0),
 * likewise each fake row's among the fakes. precision = share of fake rows within the
 * radius (<=) of at least one real row; recall = share of real rows within the radius of
 * at least one fake row. Euclidean distances, computed in blocks of rows
 * (|a|^2 + |b|^2 - 2 a.b in float64, clamped at 0), memory O(block * (n + k)).
 * Needs nr > k and nf > k. The paper's k is 3 (CLGAN_PR_K). */
#define CLGAN_PR_K 3
clgan_status clgan_precision_recall(const float *real, int nr, const float *fake, int nf, int d,
                                    int k, double *precision, double *recall);

/* A class is "covered" when it holds at least this fraction of a uniform share, i.e.
 * count / n >= CLGAN_COVERED_FRACTION / classes (2.5% of the samples for 10 classes):
 * a class seen only through a classifier's occasional mistakes is not covered. */
#define CLGAN_COVERED_FRACTION 0.25

typedef struct clgan_class_hist {
  int classes;
  int n;              /* labels counted (those in 0..classes-1) */
  int *counts;        /* (classes) */
  int covered;        /* classes with count / n >= CLGAN_COVERED_FRACTION / classes */
  int largest;        /* the class with the most samples (lowest index on ties) */
  double largest_share; /* its count / n */
} clgan_class_hist;

/* Histogram of n labels over classes 0..classes-1 (labels outside are an error:
 * CLGAN_ERR_INVALID_ARG naming the first). h->counts is allocated: clgan_class_hist_free. */
clgan_status clgan_class_histogram(const int32_t *labels, int n, int classes,
                                   clgan_class_hist *h);
void clgan_class_hist_free(clgan_class_hist *h);

#ifdef __cplusplus
}
#endif
#endif
