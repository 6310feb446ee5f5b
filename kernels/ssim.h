/* ssim.h - structural similarity of two luma planes.
 *
 * Plain C, shared by the C11 code and the .cu files.  The definition is
 * scikit-image's structural_similarity(a, b, gaussian_weights=True,
 * sigma=1.5, use_sample_covariance=False, data_range=255):
 *   - local means, variances and covariance from a Gaussian filter with
 *     sigma 1.5 truncated at 3.5 sigma (radius 5, 11 normalised taps),
 *     applied separably (rows, then columns) with scipy.ndimage's 'reflect'
 *     boundary (d c b a | a b c d | d c b a), on a, b, a*a, b*b and a*b;
 *   - S = ((2 mu_a mu_b + C1)(2 cov_ab + C2)) /
 *         ((mu_a^2 + mu_b^2 + C1)(var_a + var_b + C2)),
 *     var_a = filt(a*a) - mu_a^2 (likewise b, cov), C1 = (0.01*255)^2,
 *     C2 = (0.03*255)^2;
 *   - the mean of S over the map without a border of 5 pixels on each side.
 * The kept part of the map only reads pixels inside the image, so the
 * boundary mode never matters.  Images narrower or shorter than the 11-tap
 * window have no SSIM (skimage refuses them): NaN. */
#ifndef SR_SSIM_H
#define SR_SSIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SR_SSIM_MIN_SIDE 11  /* smallest w and h with an SSIM (the window) */
#define SR_SSIM_RADIUS 5     /* filter radius and cropped border */

/* SSIM of two w x h planes (row-major, doubles).  NaN when w or h is below
 * SR_SSIM_MIN_SIDE. */
double sr_ssim_cpu(const double *a, const double *b, int w, int h);

/* SSIM of every pair of the n planes lumas[0..n), all w x h, into
 * out[0 .. n*(n-1)/2) in the order (0,1), (0,2) .. (0,n-1), (1,2) .. (n-2,n-1).
 * Each plane is filtered once (mean and mean of squares); only the products
 * are filtered per pair.  NaN for every pair when the planes are too small. */
void sr_ssim_pairs_cpu(const double *const *lumas, size_t n, int w, int h, double *out);

#ifdef __cplusplus
}
#endif

#endif
