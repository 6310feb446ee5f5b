/* image_moments.h - raw moments of an RGB8 image, from one fused pass.
 *
 * Plain C, shared by the C11 code and the .cu files.  Every field is an
 * exact integer, so any summation order (threads, blocks, atomics) gives the
 * same struct bit for bit; the GPU twin must match sr_image_moments_cpu
 * exactly.  The floating-point metrics are derived afterwards, on the host
 * (src/image_metrics.c).
 *
 * Luma is carried in thousandths, as an integer:
 *     Y1000 = 299 R + 587 G + 114 B          (0 .. 255000)
 * i.e. Y = 0.299 R + 0.587 G + 0.114 B = Y1000 / 1000 exactly. */
#ifndef SR_IMAGE_MOMENTS_H
#define SR_IMAGE_MOMENTS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint64_t n_pixels;       /* w * h */
    uint64_t sum, sumsq;     /* over all 3 * n_pixels R, G, B bytes: v and v^2 */
    /* HSV saturation S = (max - min) / max, 0 where max = 0, kept exactly:
     * sat_num[m] = sum of (max - min) over the pixels whose max(R,G,B) is m,
     * so that the sum of S is the sum over m = 1..255 of sat_num[m] / m. */
    uint64_t sat_num[256];
    /* 4-neighbour Laplacian of luma in thousandths over the interior pixels
     * (1 <= x <= w-2, 1 <= y <= h-2; none when w < 3 or h < 3):
     *     L = Y1000[x-1] + Y1000[x+1] + Y1000[y-1] + Y1000[y+1] - 4 Y1000
     * |L| <= 1020000, so the sum of L^2 needs more than 64 bits for a large
     * busy image: it is the 128-bit value lap_sumsq_hi * 2^64 + lap_sumsq_lo. */
    int64_t lap_sum;
    uint64_t lap_sumsq_lo, lap_sumsq_hi;
    uint64_t lap_n;          /* (w-2) * (h-2), or 0 */
    /* Opponent colour channels: rg = R - G, yb2 = R + G - 2B (= 2 yb). */
    int64_t rg_sum, yb2_sum;
    uint64_t rg_sumsq, yb2_sumsq;
    /* Histogram of luma rounded to the nearest integer, halves away from zero:
     * bin (Y1000 + 500) / 1000 (integer division), always 0..255. */
    uint64_t hist[256];
} sr_image_moments;

/* Moments of w*h tightly packed RGB8 pixels (rows top first, 3 bytes each).
 * w, h >= 0; rgb may be NULL when w*h is 0 (all fields are then 0). */
void sr_image_moments_cpu(const uint8_t *rgb, int w, int h, sr_image_moments *out);

/* Luma plane for SSIM: out[i] = Y1000 / 1000.0 (one correctly rounded
 * division, so any IEEE double implementation gives the same bits). */
void sr_luma_cpu(const uint8_t *rgb, size_t n_pixels, double *out);

/* Adds b into a (all fields; the 128-bit sum with its carry).  For images
 * processed in pieces, e.g. one set of moments per block of rows whose
 * Laplacian terms are split so that each interior pixel is counted once. */
void sr_image_moments_add(sr_image_moments *a, const sr_image_moments *b);

#ifdef __cplusplus
}
#endif

#endif
