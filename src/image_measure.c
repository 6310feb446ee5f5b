/* image_measure.c - image metrics on the GPU or the CPU. */
#include "config.h"

#include "image_measure.h"
#include "util.h"

#ifdef HAVE_CUDA
#include "image_kernels_cuda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int dev;
    char *err;
    size_t errlen;
} cuda_pairs_ctx;

static int pairs_cuda(void *ctx, const double *const *lumas, size_t n, int w, int h, double *out)
{
    cuda_pairs_ctx *c = ctx;
    return sr_cuda_ssim_pairs(c->dev, lumas, n, w, h, out, c->err, c->errlen);
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
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
    for (size_t i = 0; i < n; i++) {
        size_t np = (size_t)(w[i] > 0 ? w[i] : 0) * (size_t)(h[i] > 0 ? h[i] : 0);
        sr_sample_metrics_from_moments(&m[i], &set->per_sample[i]);
        lumas[i] = xmalloc((np ? np : 1) * sizeof **lumas);
        sr_luma_cpu(rgb[i], np, lumas[i]);
    }
    cuda_pairs_ctx ctx = {dev, err, errlen};
    int has = sr_sample_diversity_with((const double *const *)lumas, w, h, n, pairs_cuda, &ctx, &set->diversity);
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
