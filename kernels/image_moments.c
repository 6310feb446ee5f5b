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
 * into the two histograms, so the compiler can vectorise the first
 * (moments_rows.h). */
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

/* The row sums twice: plain (SSE2 on x86-64) and, on x86-64, with AVX2,
 * chosen at run time. */
#define SR_MOM_BLOCK 16
#define SR_MOM_SUFFIX generic
#define SR_MOM_TARGET
#include "moments_rows.h"
#undef SR_MOM_SUFFIX
#undef SR_MOM_TARGET
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SR_MOM_SUFFIX avx2
#define SR_MOM_TARGET __attribute__((target("avx2")))
#include "moments_rows.h"
#undef SR_MOM_SUFFIX
#undef SR_MOM_TARGET
#define SR_MOM_HAVE_AVX2 1
#endif

typedef struct {
    void (*sums)(const uint8_t *restrict p, int w, int32_t *restrict luma, sr_image_moments *m);
    void (*laplacian)(const int32_t *up, const int32_t *mid, const int32_t *down, int w, sr_image_moments *m);
} row_fns;

/* $SR_MOMENTS_ISA=generic keeps the plain rows (tests compare them). */
static row_fns pick_rows(void)
{
#ifdef SR_MOM_HAVE_AVX2
    const char *isa = getenv("SR_MOMENTS_ISA");
    __builtin_cpu_init();
    if (!(isa && strcmp(isa, "generic") == 0) && __builtin_cpu_supports("avx2"))
        return (row_fns){row_sums_avx2, row_laplacian_avx2};
#endif
    return (row_fns){row_sums_generic, row_laplacian_generic};
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

void sr_image_moments_cpu(const uint8_t *rgb, int w, int h, sr_image_moments *out)
{
    memset(out, 0, sizeof *out);
    if (w <= 0 || h <= 0)
        return;
    out->n_pixels = (uint64_t)w * (uint64_t)h;

    const row_fns rows = pick_rows();
    int32_t *ring = xmalloc(3 * (size_t)w * sizeof *ring);
    for (int y = 0; y < h; y++) {
        const uint8_t *p = rgb + (size_t)y * (size_t)w * 3u;
        int32_t *luma = ring + (size_t)(y % 3) * (size_t)w;
        rows.sums(p, w, luma, out);
        row_scatter(p, w, luma, out);
        if (y >= 2 && w >= 3) {
            const int32_t *up = ring + (size_t)((y - 2) % 3) * (size_t)w;
            const int32_t *mid = ring + (size_t)((y - 1) % 3) * (size_t)w;
            /* Pieces of at most 2^23 pixels keep each piece's 64-bit sum of
             * squares from wrapping, however wide the row. */
            const int chunk = 1 << 23;
            for (int x0 = 0; x0 < w - 2; x0 += chunk) {
                int len = w - 2 - x0 < chunk ? w - 2 - x0 : chunk;
                rows.laplacian(up + x0, mid + x0, luma + x0, len + 2, out);
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
