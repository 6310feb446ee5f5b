/* image_metrics.h - the image metrics of a checkpoint's samples.
 *
 * Per sample (from the raw moments of kernels/image_moments.h):
 *   brightness   mean of all R, G, B bytes / 255 (numpy np.mean(a) / 255)
 *   contrast     population std of all R, G, B bytes / 255 (np.std(a) / 255)
 *   saturation   mean over pixels of HSV S = (max - min) / max (0 where max = 0)
 *   sharpness    population variance of the 4-neighbour Laplacian of luma
 *                Y = 0.299 R + 0.587 G + 0.114 B over the interior pixels
 *                (0 for images narrower or shorter than 3)
 *   colorfulness Hasler & Suesstrunk 2003: rg = R - G, yb = (R + G) / 2 - B,
 *                sqrt(var rg + var yb) + 0.3 sqrt(mean rg^2 + mean yb^2)
 *                (population variances)
 *   entropy      Shannon entropy in bits of the 256-bin histogram of luma
 *                rounded to the nearest integer (halves away from zero)
 * Every sum is an exact integer; the values are those of the exact formulas
 * to a few units in the last place.
 *
 * Per checkpoint (sr_image_set_aggregate): total_samples, mean_brightness,
 * mean_contrast, std_brightness, std_contrast (population std over the
 * samples), mean_saturation, mean_sharpness, mean_colorfulness, mean_entropy,
 * sample_diversity (1 - mean SSIM over all pairs of same-size samples; absent
 * when there is no such pair with an SSIM) and pixar_score, plus the lists
 * avg_brightness and avg_contrast (one value per sample). */
#ifndef SR_IMAGE_METRICS_H
#define SR_IMAGE_METRICS_H

#include "image_moments.h"
#include "sweep.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    double brightness, contrast, saturation, sharpness, colorfulness, entropy;
} sr_sample_metrics;

/* The metrics of one image from its moments.  An empty image (no pixels)
 * gives NaN for all of them, as numpy does for the mean of nothing. */
void sr_sample_metrics_from_moments(const sr_image_moments *m, sr_sample_metrics *out);

/* The samples of one checkpoint. */
typedef struct {
    size_t n;
    sr_sample_metrics *per_sample; /* n, in sample order */
    int *w, *h;                    /* n image sizes */
    double diversity;              /* 1 - mean SSIM of the same-size pairs */
    int has_diversity;             /* 0: fewer than 2 same-size samples with an SSIM */
} sr_image_set;

/* Fills a set from n decoded RGB8 images (moments, metrics and diversity,
 * on the CPU).  The set owns its arrays: sr_image_set_free. */
void sr_image_set_from_rgb(sr_image_set *set, const uint8_t *const *rgb, const int *w,
                           const int *h, size_t n);
/* Frees the arrays filled by sr_image_set_from_rgb (not a set whose arrays
 * the caller provided). */
void sr_image_set_free(sr_image_set *set);

/* 1 - the mean of the SSIM values ssim[0..n_pairs) that are not NaN, into
 * *out; returns 0 (and leaves *out) when all are NaN or n_pairs is 0, else 1. */
int sr_diversity_from_ssim(const double *ssim, size_t n_pairs, double *out);

/* Pairs grow with the square of the samples: diversity compares at most
 * this many samples of each size (the first ones, in sample order), so a
 * checkpoint with thousands of samples costs 496 SSIM maps per size. */
#define SR_DIVERSITY_MAX_SAMPLES 32

/* Sample diversity of n luma planes (sr_luma_cpu) of sizes w[i] x h[i]: the
 * SSIM of every pair of same-size planes (planes of other sizes are not
 * compared; at most SR_DIVERSITY_MAX_SAMPLES of each size), then
 * sr_diversity_from_ssim over all those pairs together. */
int sr_sample_diversity_cpu(const double *const *lumas, const int *w, const int *h, size_t n,
                            double *out);

/* The same grouping with the SSIM of each group's pairs computed by fn (in
 * the order of sr_ssim_pairs_cpu); fn returns 0, or -1 when it failed.
 * Returns 1 (diversity set), 0 (no pair), or -1 when fn failed. */
typedef int (*sr_ssim_pairs_fn)(void *ctx, const double *const *lumas, size_t n, int w, int h, double *out);
int sr_sample_diversity_with(const double *const *lumas, const int *w, const int *h, size_t n,
                             sr_ssim_pairs_fn fn, void *ctx, double *out);

/* The per-sample lists of metrics.json. */
typedef struct {
    size_t n;
    double *avg_brightness; /* n, in sample order */
    double *avg_contrast;
} sr_image_lists;

/* Sets the checkpoint metrics named above in out (other entries are kept)
 * and, when lists is not NULL, fills it (free with sr_image_lists_free).
 * With no samples only total_samples (0) is set and the lists are empty. */
void sr_image_set_aggregate(const sr_image_set *set, sr_metrics *out, sr_image_lists *lists);
void sr_image_lists_free(sr_image_lists *lists);
/* Every name sr_image_set_aggregate can set (values 0). */
void sr_image_metric_names(sr_metrics *names);

/* The seed's Optuna objective (lower is better):
 * |mean_b - 0.50| + 0.5 std_b + |mean_c - 0.20| + 0.5 std_c. */
double sr_pixar_score(double mean_b, double std_b, double mean_c, double std_c);

#endif
