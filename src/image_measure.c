/* image_measure.c - image metrics on the GPU or the CPU. */
#include "config.h"

#include "image_measure.h"
#include "util.h"

#ifdef HAVE_CUDA
#include "image_kernels_cuda.h"
#include "ssim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Same-size groups, SSIM of every pair in each group on the GPU. */
static int diversity_cuda(int dev, const double *const *lumas, const int *w, const int *h, size_t n, double *out,
                          char *err, size_t errlen)
{
    if (n < 2)
        return 0;
    size_t n_pairs = 0;
    size_t cap = n < SR_DIVERSITY_MAX_SAMPLES ? n : SR_DIVERSITY_MAX_SAMPLES;
    double *ssim = xmalloc(n * (cap - 1) / 2 * sizeof *ssim);
    const double **group = xmalloc(n * sizeof *group);
    unsigned char *done = xcalloc(n, 1);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (done[i])
            continue;
        size_t g = 0;
        for (size_t j = i; j < n; j++)
            if (!done[j] && w[j] == w[i] && h[j] == h[i]) {
                done[j] = 1;
                if (g < SR_DIVERSITY_MAX_SAMPLES)
                    group[g++] = lumas[j];
            }
        if (g < 2)
            continue;
        rc = sr_cuda_ssim_pairs(dev, group, g, w[i], h[i], ssim + n_pairs, err, errlen);
        n_pairs += g * (g - 1) / 2;
    }
    int has = rc == 0 ? sr_diversity_from_ssim(ssim, n_pairs, out) : -1;
    free(done);
    free(group);
    free(ssim);
    return has;
}

static int measure_cuda(int dev, const uint8_t *const *rgb, const int *w, const int *h, size_t n, sr_image_set *set,
                        char *err, size_t errlen)
{
    sr_image_moments *m = xcalloc(n, sizeof *m);
    if (sr_cuda_image_moments_batch(dev, rgb, w, h, n, m, err, errlen) != 0) {
        free(m);
        return -1;
    }
    memset(set, 0, sizeof *set);
    set->n = n;
    set->per_sample = xcalloc(n, sizeof *set->per_sample);
    set->w = xmalloc(n * sizeof *set->w);
    set->h = xmalloc(n * sizeof *set->h);
    memcpy(set->w, w, n * sizeof *w);
    memcpy(set->h, h, n * sizeof *h);
    double **lumas = xcalloc(n, sizeof *lumas);
    for (size_t i = 0; i < n; i++) {
        size_t np = (size_t)(w[i] > 0 ? w[i] : 0) * (size_t)(h[i] > 0 ? h[i] : 0);
        sr_sample_metrics_from_moments(&m[i], &set->per_sample[i]);
        lumas[i] = xmalloc((np ? np : 1) * sizeof **lumas);
        sr_luma_cpu(rgb[i], np, lumas[i]);
    }
    int has = diversity_cuda(dev, (const double *const *)lumas, w, h, n, &set->diversity, err, errlen);
    for (size_t i = 0; i < n; i++)
        free(lumas[i]);
    free(lumas);
    free(m);
    if (has < 0) {
        sr_image_set_free(set);
        return -1;
    }
    set->has_diversity = has;
    return 0;
}
#endif

void sr_measure_image_set(const sr_device *dev, const uint8_t *const *rgb, const int *w, const int *h, size_t n,
                          sr_image_set *set)
{
#ifdef HAVE_CUDA
    if (dev && dev->kind == SR_DEV_CUDA && n > 0) {
        char err[512];
        if (measure_cuda(dev->index, rgb, w, h, n, set, err, sizeof err) == 0)
            return;
        fprintf(stderr, "sweepreport: warning: %s: %s; measuring the images on the CPU\n", sr_device_describe(dev),
                err);
    }
#else
    (void)dev;
#endif
    sr_image_set_from_rgb(set, rgb, w, h, n);
}
