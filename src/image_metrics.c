/* image_metrics.c - from raw image moments to the sample and checkpoint
 * metrics.
 *
 * Variances come from exact integer moments: n * sum(v^2) - (sum v)^2 is
 * formed exactly in 128 bits, so there is no cancellation whatever the mean;
 * only the final division, square root and conversion round.  The Laplacian's
 * sum of squares is itself 128-bit; its variance is formed in long double
 * (the mean of a Laplacian is small next to its spread, so nothing cancels
 * that matters). */
#include "config.h"

#include "image_metrics.h"

#include "ssim.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Unsigned 128-bit value as two 64-bit halves (portable; no __int128). */
typedef struct {
    uint64_t hi, lo;
} u128;

static u128 mul_u64(uint64_t a, uint64_t b)
{
    uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32;
    uint64_t b_lo = b & 0xffffffffu, b_hi = b >> 32;
    uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo, hh = a_hi * b_hi;
    uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
    u128 r;
    r.lo = (mid << 32) | (ll & 0xffffffffu);
    r.hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    return r;
}

static long double u128_to_ld(uint64_t hi, uint64_t lo)
{
    return (long double)hi * 18446744073709551616.0L + (long double)lo;
}

/* Population variance of n values with sum s and sum of squares sq:
 * (n sq - s^2) / n^2, the numerator exact (it is >= 0 for real moments). */
static long double pop_var(uint64_t n, int64_t s, uint64_t sq)
{
    uint64_t abs_s = s < 0 ? 0u - (uint64_t)s : (uint64_t)s;
    u128 a = mul_u64(n, sq), b = mul_u64(abs_s, abs_s);
    if (a.hi < b.hi || (a.hi == b.hi && a.lo <= b.lo))
        return 0.0L;
    uint64_t lo = a.lo - b.lo;
    uint64_t hi = a.hi - b.hi - (a.lo < b.lo ? 1u : 0u);
    long double nn = (long double)n;
    return u128_to_ld(hi, lo) / (nn * nn);
}

void sr_sample_metrics_from_moments(const sr_image_moments *m, sr_sample_metrics *out)
{
    if (m->n_pixels == 0) {
        out->brightness = out->contrast = out->saturation = NAN;
        out->sharpness = out->colorfulness = out->entropy = NAN;
        return;
    }
    const uint64_t n = m->n_pixels;
    const double nd = (double)n;

    /* numpy: the float64 sum of the bytes is exact, divided by their count. */
    out->brightness = (double)m->sum / (double)(3u * n) / 255.0;
    out->contrast = sqrt((double)pop_var(3u * n, (int64_t)m->sum, m->sumsq)) / 255.0;

    long double sat = 0.0L;
    for (int v = 1; v < 256; v++)
        sat += (long double)m->sat_num[v] / (long double)v;
    out->saturation = (double)(sat / (long double)n);

    if (m->lap_n == 0) {
        out->sharpness = 0.0;
    } else {
        long double ln = (long double)m->lap_n, ls = (long double)m->lap_sum;
        long double var = (u128_to_ld(m->lap_sumsq_hi, m->lap_sumsq_lo) - ls * ls / ln) / ln;
        out->sharpness = var > 0.0L ? (double)(var / 1e6L) : 0.0; /* thousandths squared */
    }

    long double var_rg = pop_var(n, m->rg_sum, m->rg_sumsq);
    long double var_yb = pop_var(n, m->yb2_sum, m->yb2_sumsq) / 4.0L;
    long double mu_rg = (long double)m->rg_sum / (long double)n;
    long double mu_yb = (long double)m->yb2_sum / (2.0L * (long double)n);
    out->colorfulness =
        (double)sqrtl(var_rg + var_yb) + 0.3 * (double)sqrtl(mu_rg * mu_rg + mu_yb * mu_yb);

    long double h = 0.0L;
    for (int i = 0; i < 256; i++) {
        if (m->hist[i] == 0)
            continue;
        double p = (double)m->hist[i] / nd;
        h += (long double)(p * log2(p));
    }
    out->entropy = h < 0.0L ? (double)-h : 0.0;
}

int sr_diversity_from_ssim(const double *ssim, size_t n_pairs, double *out)
{
    double sum = 0.0;
    size_t k = 0;
    for (size_t i = 0; i < n_pairs; i++) {
        if (isnan(ssim[i]))
            continue;
        sum += ssim[i];
        k++;
    }
    if (k == 0)
        return 0;
    *out = 1.0 - sum / (double)k;
    return 1;
}

int sr_sample_diversity_with(const double *const *lumas, const int *w, const int *h, size_t n,
                             sr_ssim_pairs_fn fn, void *ctx, double *out)
{
    if (n < 2)
        return 0;
    /* each sample is in one group of at most SR_DIVERSITY_MAX_SAMPLES */
    size_t cap = n < SR_DIVERSITY_MAX_SAMPLES ? n : SR_DIVERSITY_MAX_SAMPLES;
    size_t max_pairs = n * (cap - 1) / 2, n_pairs = 0;
    double *ssim = xmalloc(max_pairs * sizeof *ssim);
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
        rc = fn(ctx, group, g, w[i], h[i], ssim + n_pairs);
        n_pairs += g * (g - 1) / 2;
    }
    int ok = rc == 0 ? sr_diversity_from_ssim(ssim, n_pairs, out) : -1;
    free(done);
    free(group);
    free(ssim);
    return ok;
}

static int pairs_cpu(void *ctx, const double *const *lumas, size_t n, int w, int h, double *out)
{
    (void)ctx;
    sr_ssim_pairs_cpu(lumas, n, w, h, out);
    return 0;
}

int sr_sample_diversity_cpu(const double *const *lumas, const int *w, const int *h, size_t n,
                            double *out)
{
    return sr_sample_diversity_with(lumas, w, h, n, pairs_cpu, NULL, out);
}

void sr_image_set_from_rgb(sr_image_set *set, const uint8_t *const *rgb, const int *w,
                           const int *h, size_t n)
{
    memset(set, 0, sizeof *set);
    set->n = n;
    if (n == 0)
        return;
    set->per_sample = xcalloc(n, sizeof *set->per_sample);
    set->w = xmalloc(n * sizeof *set->w);
    set->h = xmalloc(n * sizeof *set->h);
    double **lumas = xcalloc(n, sizeof *lumas);
    memcpy(set->w, w, n * sizeof *w);
    memcpy(set->h, h, n * sizeof *h);

    long long nn = (long long)n;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
    for (long long i = 0; i < nn; i++) {
        sr_image_moments m;
        size_t np = (size_t)(w[i] > 0 ? w[i] : 0) * (size_t)(h[i] > 0 ? h[i] : 0);
        sr_image_moments_cpu(rgb[i], w[i], h[i], &m);
        sr_sample_metrics_from_moments(&m, &set->per_sample[i]);
        lumas[i] = xmalloc((np ? np : 1) * sizeof **lumas);
        sr_luma_cpu(rgb[i], np, lumas[i]);
    }
    set->has_diversity =
        sr_sample_diversity_cpu((const double *const *)lumas, w, h, n, &set->diversity);
    for (size_t i = 0; i < n; i++)
        free(lumas[i]);
    free(lumas);
}

void sr_image_set_free(sr_image_set *set)
{
    free(set->per_sample);
    free(set->w);
    free(set->h);
    memset(set, 0, sizeof *set);
}

double sr_pixar_score(double mean_b, double std_b, double mean_c, double std_c)
{
    return fabs(mean_b - 0.50) + 0.5 * std_b + fabs(mean_c - 0.20) + 0.5 * std_c;
}

/* Mean of x[i].field over the set (numpy: sum, then divide). */
static double field_mean(const sr_image_set *set, size_t off)
{
    double s = 0.0;
    for (size_t i = 0; i < set->n; i++)
        s += *(const double *)((const char *)&set->per_sample[i] + off);
    return s / (double)set->n;
}

/* Population std of a field, two passes (numpy's np.std). */
static double field_std(const sr_image_set *set, size_t off, double mean)
{
    double s = 0.0;
    for (size_t i = 0; i < set->n; i++) {
        double d = *(const double *)((const char *)&set->per_sample[i] + off) - mean;
        s += d * d;
    }
    return sqrt(s / (double)set->n);
}

void sr_image_set_aggregate(const sr_image_set *set, sr_metrics *out, sr_image_lists *lists)
{
    if (lists) {
        lists->n = set->n;
        lists->avg_brightness = xmalloc((set->n ? set->n : 1) * sizeof(double));
        lists->avg_contrast = xmalloc((set->n ? set->n : 1) * sizeof(double));
        for (size_t i = 0; i < set->n; i++) {
            lists->avg_brightness[i] = set->per_sample[i].brightness;
            lists->avg_contrast[i] = set->per_sample[i].contrast;
        }
    }
    sr_metrics_set(out, "total_samples", (double)set->n);
    if (set->n == 0)
        return;

    double mb = field_mean(set, offsetof(sr_sample_metrics, brightness));
    double mc = field_mean(set, offsetof(sr_sample_metrics, contrast));
    double sb = field_std(set, offsetof(sr_sample_metrics, brightness), mb);
    double sc = field_std(set, offsetof(sr_sample_metrics, contrast), mc);
    sr_metrics_set(out, "mean_brightness", mb);
    sr_metrics_set(out, "mean_contrast", mc);
    sr_metrics_set(out, "std_brightness", sb);
    sr_metrics_set(out, "std_contrast", sc);
    sr_metrics_set(out, "mean_saturation", field_mean(set, offsetof(sr_sample_metrics, saturation)));
    sr_metrics_set(out, "mean_sharpness", field_mean(set, offsetof(sr_sample_metrics, sharpness)));
    sr_metrics_set(out, "mean_colorfulness",
                   field_mean(set, offsetof(sr_sample_metrics, colorfulness)));
    sr_metrics_set(out, "mean_entropy", field_mean(set, offsetof(sr_sample_metrics, entropy)));
    if (set->has_diversity)
        sr_metrics_set(out, "sample_diversity", set->diversity);
    sr_metrics_set(out, "pixar_score", sr_pixar_score(mb, sb, mc, sc));
}

void sr_image_metric_names(sr_metrics *names)
{
    sr_sample_metrics two[2];
    memset(two, 0, sizeof two);
    sr_image_set set = {.n = 2, .per_sample = two, .has_diversity = 1};
    sr_image_set_aggregate(&set, names, NULL);
}

void sr_image_lists_free(sr_image_lists *lists)
{
    free(lists->avg_brightness);
    free(lists->avg_contrast);
    memset(lists, 0, sizeof *lists);
}
