/* image_moments.c - CPU twin of image_moments.cu.
 *
 * One pass over the rows.  Each row gives its byte, colour-opponent,
 * saturation and histogram counts and its luma in thousandths (an integer,
 * 299 R + 587 G + 114 B) into a ring of three rows; once a row's neighbour
 * below is known, its interior Laplacian terms are added.  Everything is
 * integer arithmetic, so the result does not depend on the order of the
 * additions: a block-parallel version returns the same struct bit for bit.
 *
 * The per-row loop that only sums is kept apart from the one that scatters
 * into the two histograms, so the compiler can vectorise the first. */
#include "config.h"

#include "image_moments.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

/* a += b as 128-bit unsigned values (hi, lo). */
static void add_u128(uint64_t *hi, uint64_t *lo, uint64_t b_hi, uint64_t b_lo)
{
    uint64_t s = *lo + b_lo;
    *hi += b_hi + (s < b_lo ? 1u : 0u);
    *lo = s;
}

/* Byte, opponent-colour and luma terms of one row of w pixels. */
static void row_sums(const uint8_t *p, int w, int32_t *luma, sr_image_moments *m)
{
    uint64_t sum = 0, sumsq = 0, rg_sq = 0, yb2_sq = 0;
    int64_t rg = 0, yb2 = 0;
    for (int x = 0; x < w; x++) {
        int32_t r = p[3 * x], g = p[3 * x + 1], b = p[3 * x + 2];
        int32_t d_rg = r - g, d_yb2 = r + g - 2 * b;
        sum += (uint32_t)(r + g + b);
        sumsq += (uint32_t)(r * r + g * g + b * b);
        rg += d_rg;
        yb2 += d_yb2;
        rg_sq += (uint32_t)(d_rg * d_rg);
        yb2_sq += (uint32_t)(d_yb2 * d_yb2);
        luma[x] = 299 * r + 587 * g + 114 * b;
    }
    m->sum += sum;
    m->sumsq += sumsq;
    m->rg_sum += rg;
    m->yb2_sum += yb2;
    m->rg_sumsq += rg_sq;
    m->yb2_sumsq += yb2_sq;
}

/* Saturation numerators and the rounded-luma histogram of one row. */
static void row_scatter(const uint8_t *p, int w, const int32_t *luma, sr_image_moments *m)
{
    for (int x = 0; x < w; x++) {
        unsigned r = p[3 * x], g = p[3 * x + 1], b = p[3 * x + 2];
        unsigned hi = r > g ? r : g, lo = r < g ? r : g;
        hi = b > hi ? b : hi;
        lo = b < lo ? b : lo;
        m->sat_num[hi] += hi - lo; /* adds 0 to bin 0: max 0 means grey black */
        m->hist[(uint32_t)(luma[x] + 500) / 1000u]++;
    }
}

/* Laplacian terms of the interior of the row mid (up and down are its
 * neighbour rows). */
static void row_laplacian(const int32_t *up, const int32_t *mid, const int32_t *down, int w,
                          sr_image_moments *m)
{
    int64_t s = 0;
    uint64_t sq = 0; /* < 2^64: (w-2) * 1020000^2 with w-2 <= 2^23 */
    for (int x = 1; x < w - 1; x++) {
        int64_t l = (int64_t)mid[x - 1] + mid[x + 1] + up[x] + down[x] - 4 * (int64_t)mid[x];
        s += l;
        sq += (uint64_t)(l * l);
    }
    m->lap_sum += s;
    add_u128(&m->lap_sumsq_hi, &m->lap_sumsq_lo, 0, sq);
    m->lap_n += (uint64_t)(w - 2);
}

void sr_image_moments_cpu(const uint8_t *rgb, int w, int h, sr_image_moments *out)
{
    memset(out, 0, sizeof *out);
    if (w <= 0 || h <= 0)
        return;
    out->n_pixels = (uint64_t)w * (uint64_t)h;

    int32_t *ring = xmalloc(3 * (size_t)w * sizeof *ring);
    for (int y = 0; y < h; y++) {
        const uint8_t *p = rgb + (size_t)y * (size_t)w * 3u;
        int32_t *luma = ring + (size_t)(y % 3) * (size_t)w;
        row_sums(p, w, luma, out);
        row_scatter(p, w, luma, out);
        if (y >= 2 && w >= 3) {
            const int32_t *up = ring + (size_t)((y - 2) % 3) * (size_t)w;
            const int32_t *mid = ring + (size_t)((y - 1) % 3) * (size_t)w;
            /* Pieces of at most 2^23 pixels keep each piece's 64-bit sum of
             * squares from wrapping, however wide the row. */
            const int chunk = 1 << 23;
            for (int x0 = 0; x0 < w - 2; x0 += chunk) {
                int len = w - 2 - x0 < chunk ? w - 2 - x0 : chunk;
                row_laplacian(up + x0, mid + x0, luma + x0, len + 2, out);
            }
        }
    }
    free(ring);
}

void sr_luma_cpu(const uint8_t *rgb, size_t n_pixels, double *out)
{
    for (size_t i = 0; i < n_pixels; i++) {
        int32_t y1000 = 299 * rgb[3 * i] + 587 * rgb[3 * i + 1] + 114 * rgb[3 * i + 2];
        out[i] = (double)y1000 / 1000.0;
    }
}

void sr_image_moments_add(sr_image_moments *a, const sr_image_moments *b)
{
    a->n_pixels += b->n_pixels;
    a->sum += b->sum;
    a->sumsq += b->sumsq;
    for (int i = 0; i < 256; i++) {
        a->sat_num[i] += b->sat_num[i];
        a->hist[i] += b->hist[i];
    }
    a->lap_sum += b->lap_sum;
    add_u128(&a->lap_sumsq_hi, &a->lap_sumsq_lo, b->lap_sumsq_hi, b->lap_sumsq_lo);
    a->lap_n += b->lap_n;
    a->rg_sum += b->rg_sum;
    a->yb2_sum += b->yb2_sum;
    a->rg_sumsq += b->rg_sumsq;
    a->yb2_sumsq += b->yb2_sumsq;
}
