/* image_kernels_cuda.h - GPU versions of the image kernels.
 *
 * Plain C, shared by the C11 code and the .cu files.  Include config.h
 * first: the functions exist only when HAVE_CUDA is defined (the kernels
 * were built).  Nothing here needs the CUDA headers.
 *
 * Each function returns what its CPU twin returns for the same input:
 *   sr_cuda_image_moments, _batch   sr_image_moments_cpu (image_moments.h),
 *                                   every field equal
 *   sr_cuda_ssim_pairs              sr_ssim_pairs_cpu (ssim.h), within 1e-6
 *                                   (in practice a few ulps: only the order of
 *                                   the final mean's additions differs)
 * and on failure returns -1 with a one-line reason in err, leaves the
 * outputs untouched and nothing allocated.  dev is the CUDA ordinal. */
#ifndef SR_IMAGE_KERNELS_CUDA_H
#define SR_IMAGE_KERNELS_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "image_moments.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef HAVE_CUDA
/* sr_image_moments_cpu(rgb, w, h, out) on device dev.  w, h >= 0; rgb may be
 * NULL when w*h is 0. */
int sr_cuda_image_moments(int dev, const uint8_t *rgb, int w, int h, sr_image_moments *out,
                          char *err, size_t errlen);

/* The moments of n images: out[k] for the w[k] x h[k] image rgbs[k].  The
 * images may differ in size; one of size 0 may be NULL.  Images are staged
 * through pinned buffers on two streams, so copying one image overlaps the
 * GPU work on the previous one.  out[] is written only on success. */
int sr_cuda_image_moments_batch(int dev, const uint8_t *const *rgbs, const int *w, const int *h,
                                size_t n, sr_image_moments *out, char *err, size_t errlen);

/* sr_ssim_pairs_cpu(lumas, n, w, h, out) on device dev: out[0 .. n*(n-1)/2)
 * in the order (0,1), (0,2) .. (n-2,n-1).  The planes are uploaded and
 * filtered once; per pair only the product is filtered.  NaN for every pair
 * when w or h is below SR_SSIM_MIN_SIDE; nothing is written when n < 2. */
int sr_cuda_ssim_pairs(int dev, const double *const *lumas, size_t n, int w, int h, double *out,
                       char *err, size_t errlen);
#endif

#ifdef __cplusplus
}
#endif

#endif
