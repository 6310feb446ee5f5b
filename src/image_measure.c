/* image_measure.c - image metrics on the GPU or the CPU. */
#include "config.h"

#include "image_measure.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_CUDA
#include "image_kernels_cuda.h"

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
        char err[SR_MSG_MAX];
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

/* Image sizes seen so far, with how many samples of each the diversity
 * keeps. */
typedef struct {
    int *w, *h;
    size_t *kept;
    size_t n, cap;
} size_counts;

static size_t *kept_of(size_counts *sc, int w, int h)
{
    for (size_t i = 0; i < sc->n; i++)
        if (sc->w[i] == w && sc->h[i] == h)
            return &sc->kept[i];
    if (sc->n == sc->cap) {
        sc->cap = sc->cap ? 2 * sc->cap : 8;
        sc->w = xrealloc(sc->w, sc->cap * sizeof *sc->w);
        sc->h = xrealloc(sc->h, sc->cap * sizeof *sc->h);
        sc->kept = xrealloc(sc->kept, sc->cap * sizeof *sc->kept);
    }
    sc->w[sc->n] = w;
    sc->h[sc->n] = h;
    sc->kept[sc->n] = 0;
    return &sc->kept[sc->n++];
}

void sr_measure_image_stream(const sr_device *dev, size_t n, size_t chunk, sr_sample_decode_fn decode, void *ctx,
                             sr_image_set *set, char **why)
{
    memset(set, 0, sizeof *set);
    if (chunk < 1)
        chunk = 1;
    set->per_sample = xcalloc(n ? n : 1, sizeof *set->per_sample);
    set->w = xcalloc(n ? n : 1, sizeof *set->w);
    set->h = xcalloc(n ? n : 1, sizeof *set->h);
    uint8_t **rgb = xcalloc(chunk, sizeof *rgb);
    int *w = xcalloc(chunk, sizeof *w), *h = xcalloc(chunk, sizeof *h), *ok = xcalloc(chunk, sizeof *ok);
    sr_sample_metrics *metrics = xcalloc(chunk, sizeof *metrics);
    /* the images the diversity compares, in sample order */
    const uint8_t **keep = xcalloc(n ? n : 1, sizeof *keep);
    int *kw = xcalloc(n ? n : 1, sizeof *kw), *kh = xcalloc(n ? n : 1, sizeof *kh);
    size_t nk = 0;
    size_counts sizes = {0};
    for (size_t from = 0; from < n; from += chunk) {
        const long m = (long)(n - from < chunk ? n - from : chunk);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
        for (long k = 0; k < m; k++) {
            rgb[k] = NULL;
            ok[k] = decode(ctx, from + (size_t)k, &rgb[k], &w[k], &h[k], &why[from + (size_t)k]) == 0;
            if (ok[k]) {
                sr_image_moments mo;
                sr_image_moments_cpu(rgb[k], w[k], h[k], &mo);
                sr_sample_metrics_from_moments(&mo, &metrics[k]);
            }
        }
        for (long k = 0; k < m; k++) {
            if (!ok[k])
                continue;
            set->per_sample[set->n] = metrics[k];
            set->w[set->n] = w[k];
            set->h[set->n] = h[k];
            set->n++;
            size_t *kept = kept_of(&sizes, w[k], h[k]);
            if (*kept < SR_DIVERSITY_MAX_SAMPLES) {
                ++*kept;
                keep[nk] = rgb[k];
                kw[nk] = w[k];
                kh[nk] = h[k];
                nk++;
            } else {
                free(rgb[k]);
            }
        }
    }
    /* the diversity of those, on the device (their moments again: a few) */
    sr_image_set sub;
    sr_measure_image_set(dev, keep, kw, kh, nk, &sub);
    set->diversity = sub.diversity;
    set->has_diversity = sub.has_diversity;
    sr_image_set_free(&sub);
    for (size_t i = 0; i < nk; i++)
        free((void *)keep[i]);
    free(sizes.w);
    free(sizes.h);
    free(sizes.kept);
    free(kh);
    free(kw);
    free(keep);
    free(metrics);
    free(ok);
    free(h);
    free(w);
    free(rgb);
}
