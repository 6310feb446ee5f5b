/* ssim.c - CPU twin of ssim_pairs.cu.
 *
 * Only the part of the SSIM map that is kept (a border of 5 pixels cropped on
 * each side) is computed, and that part only reads pixels inside the image.
 * Each filter is separable: a vertical pass over the rows the kept part
 * needs, then a horizontal pass.  The additions follow scipy.ndimage's
 * correlate1d for a symmetric kernel (centre tap first, then the pairs of
 * taps from the outside in) and its axis order (axis 0, then axis 1), and
 * the map follows skimage's expressions operation by operation, so the map
 * agrees with skimage's to the last bit or so; only the final mean's order
 * of summation differs (it is compensated here).
 *
 * The local mean and mean of squares of each plane are computed once and
 * shared by all its pairs; per pair only the product a*b is filtered, one
 * row at a time (each product row made once, kept in a ring of the rows the
 * window covers), and the map row is reduced at once.  The filters run four
 * lanes wide where the CPU has AVX2, with the same results (ssim_rows.h). */
#include "config.h"

#include "ssim.h"

#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* scipy.ndimage._gaussian_kernel1d(1.5, 0, 5): exp(-x^2 / (2 * 1.5^2)) over
 * x = -5..5 divided by its sum, as numpy computes it; TAP[k] is the weight
 * at distance k. */
static const double TAP[SR_SSIM_RADIUS + 1] = {
    0x1.106560aa892c0p-2, 0x1.b43c3f52b19f2p-3, 0x1.bff0fe8e98418p-4,
    0x1.26eb175d83f65p-5, 0x1.f1fe01ae5a5b9p-8, 0x1.0d956b52a1d70p-10,
};

#define R SR_SSIM_RADIUS

/* No fused multiply-adds: they would change the rounding (GCC in ISO C mode
 * never contracts). */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* Vertical pass, one column at a time, for columns x0 .. w-1 (the tail the
 * vector loops leave); rows as in ssim_rows.h's vpass. */
static void vpass_scalar(const double *const *rows, int x0, int w, double *v)
{
    for (int x = x0; x < w; x++) {
        double t = rows[R][x] * TAP[0];
        for (int k = R; k >= 1; k--)
            t += (rows[R - k][x] + rows[R + k][x]) * TAP[k];
        v[x] = t;
    }
}

/* The row filters twice: two lanes (SSE2 / NEON, every 64-bit CPU) and, on
 * x86-64, four lanes (AVX2) chosen at run time. */
#define SR_SSIM_SUFFIX generic
#define SR_SSIM_LANES 2
#define SR_SSIM_TARGET
#include "ssim_rows.h"
#undef SR_SSIM_SUFFIX
#undef SR_SSIM_LANES
#undef SR_SSIM_TARGET

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SR_SSIM_SUFFIX avx2
#define SR_SSIM_LANES 4
#define SR_SSIM_TARGET __attribute__((target("avx2")))
#include "ssim_rows.h"
#undef SR_SSIM_SUFFIX
#undef SR_SSIM_LANES
#undef SR_SSIM_TARGET
#define SR_SSIM_HAVE_AVX2 1
#endif

typedef struct {
    void (*mul_row)(const double *a, const double *b, int n, double *out);
    void (*vpass)(const double *const *rows, int w, double *v);
    void (*hpass)(const double *v, int w, double *out);
    double (*map_row_sum)(const double *mu_a, const double *mu2_a, const double *mu_b, const double *mu2_b,
                          const double *uxy, size_t n);
} row_filters;

/* $SR_SSIM_ISA=generic keeps the two-lane filters (tests compare them). */
static row_filters pick_filters(void)
{
#ifdef SR_SSIM_HAVE_AVX2
    const char *isa = getenv("SR_SSIM_ISA");
    __builtin_cpu_init();
    if (!(isa && strcmp(isa, "generic") == 0) && __builtin_cpu_supports("avx2"))
        return (row_filters){mul_row_avx2, vpass_avx2, hpass_avx2, map_row_sum_avx2};
#endif
    return (row_filters){mul_row_generic, vpass_generic, hpass_generic, map_row_sum_generic};
}

#define WINDOW (2 * R + 1)

/* The rows y-R .. y+R of the product plane a*b, for the vertical pass of
 * row y (R <= y < h-R, taken in order): each product row is made once, into
 * a ring of WINDOW rows (ring[(r % WINDOW) * w] holds row r), and rows[k]
 * points at row y-R+k.  The products are the ones the filter would form
 * itself, so the sums are unchanged. */
static void product_window(const row_filters *f, const double *a, const double *b, int w, int y, double *ring,
                           const double **rows)
{
    const size_t sw = (size_t)w;
    for (int r = y == R ? 0 : y + R; r <= y + R; r++)
        f->mul_row(a + (size_t)r * sw, b + (size_t)r * sw, w, ring + (size_t)(r % WINDOW) * sw);
    for (int k = 0; k < WINDOW; k++)
        rows[k] = ring + (size_t)((y - R + k) % WINDOW) * sw;
}

/* Local mean and mean of squares of one plane over the kept region
 * ((w-2R) x (h-2R), row-major).  v is a scratch row of w doubles, ring one
 * of WINDOW rows. */
static void plane_stats(const row_filters *f, const double *a, int w, int h, double *mu, double *mu2, double *v,
                        double *ring)
{
    const size_t cw = (size_t)(w - 2 * R);
    const double *rows[WINDOW];
    for (int y = R; y < h - R; y++) {
        size_t row = (size_t)(y - R) * cw;
        for (int k = 0; k < WINDOW; k++)
            rows[k] = a + (size_t)(y - R + k) * (size_t)w;
        f->vpass(rows, w, v);
        f->hpass(v, w, mu + row);
        product_window(f, a, a, w, y, ring, rows);
        f->vpass(rows, w, v);
        f->hpass(v, w, mu2 + row);
    }
}

/* Mean SSIM of a pair from the planes and their statistics; v and uxy are
 * scratch rows of w and w-2R doubles, ring one of WINDOW rows.  Each map row
 * is summed apart, the row sums with Neumaier's compensation. */
static double pair_ssim(const row_filters *f, const double *a, const double *b, const double *mu_a,
                        const double *mu2_a, const double *mu_b, const double *mu2_b, int w, int h, double *v,
                        double *uxy, double *ring)
{
    const size_t cw = (size_t)(w - 2 * R);
    const double *rows[WINDOW];
    double sum = 0.0, comp = 0.0;
    for (int y = R; y < h - R; y++) {
        size_t row = (size_t)(y - R) * cw;
        product_window(f, a, b, w, y, ring, rows);
        f->vpass(rows, w, v);
        f->hpass(v, w, uxy);
        double s = f->map_row_sum(mu_a + row, mu2_a + row, mu_b + row, mu2_b + row, uxy, cw);
        double t = sum + s;
        comp += fabs(sum) >= fabs(s) ? (sum - t) + s : (s - t) + sum;
        sum = t;
    }
    return (sum + comp) / ((double)cw * (double)(h - 2 * R));
}

double sr_ssim_cpu(const double *a, const double *b, int w, int h)
{
    double out;
    const double *planes[2] = {a, b};
    sr_ssim_pairs_cpu(planes, 2, w, h, &out);
    return out;
}

void sr_ssim_pairs_cpu(const double *const *lumas, size_t n, int w, int h, double *out)
{
    if (n < 2)
        return;
    const size_t n_pairs = n * (n - 1) / 2;
    if (w < SR_SSIM_MIN_SIDE || h < SR_SSIM_MIN_SIDE) {
        for (size_t k = 0; k < n_pairs; k++)
            out[k] = NAN;
        return;
    }
    const row_filters f = pick_filters();
    const size_t region = (size_t)(w - 2 * R) * (size_t)(h - 2 * R);
    double *mu = xmalloc(2 * n * region * sizeof *mu); /* per plane: mean, then mean of squares */
    size_t *first = xmalloc(n_pairs * sizeof *first);
    size_t *second = xmalloc(n_pairs * sizeof *second);
    for (size_t i = 0, k = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++, k++) {
            first[k] = i;
            second[k] = j;
        }

#ifdef _OPENMP
#pragma omp parallel
#endif
    {
        double *v = xmalloc((size_t)w * (2 + WINDOW) * sizeof *v);
        double *uxy = v + w, *ring = v + 2 * (size_t)w;
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (size_t i = 0; i < n; i++)
            plane_stats(&f, lumas[i], w, h, mu + 2 * i * region, mu + (2 * i + 1) * region, v, ring);
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (size_t k = 0; k < n_pairs; k++) {
            size_t i = first[k], j = second[k];
            out[k] = pair_ssim(&f, lumas[i], lumas[j], mu + 2 * i * region, mu + (2 * i + 1) * region,
                               mu + 2 * j * region, mu + (2 * j + 1) * region, w, h, v, uxy, ring);
        }
        free(v);
    }
    free(second);
    free(first);
    free(mu);
}
