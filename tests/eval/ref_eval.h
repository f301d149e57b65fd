/* Float64 references for the metrics of include/clgan/metrics.h, written independently
 * and by other algorithms: covariance by summed outer products, the matrix square root of
 * the non-symmetric product S1 S2 by the Denman-Beavers iteration (Gauss-Jordan
 * inverses), MMD by the kernel's definition term by term, k-NN radii by sorting every
 * distance. Slow and straightforward; tests only. */
#ifndef CLGAN_REF_EVAL_H
#define CLGAN_REF_EVAL_H

/* mean (d), covariance (d x d, divided by n - 1) of x (n, d) */
void refe_moments(const float *x, int n, int d, double *mu, double *sigma);
/* sqrtm(A) for a d x d matrix with eigenvalues off the closed negative real axis, by
 * Denman-Beavers; returns the iterations used (-1: no convergence in 100). */
int refe_sqrtm_db(const double *a, int d, double *out);
/* FD from moments via refe_sqrtm_db(S1 S2); -1 if DB did not converge */
double refe_fd(const double *mu1, const double *s1, const double *mu2, const double *s2, int d);
/* unbiased MMD^2, kernel (x.y/d + 1)^3 */
double refe_mmd2(const float *x, const float *y, int m, int d);
/* Kynkäänniemi precision/recall with k neighbours */
void refe_pr(const float *real, int nr, const float *fake, int nf, int d, int k, double *prec,
             double *rec);

#endif
