/* image_stats.c - exact-sum mean and population std of RGB8 bytes. */
#include "config.h"

#include "image_stats.h"

#include <math.h>

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

/* a - b, for a >= b. */
static u128 sub_u128(u128 a, u128 b)
{
    u128 r;
    r.lo = a.lo - b.lo;
    r.hi = a.hi - b.hi - (a.lo < b.lo ? 1u : 0u);
    return r;
}

static long double u128_to_ld(u128 v)
{
    return (long double)v.hi * 18446744073709551616.0L + (long double)v.lo;
}

void sr_seed_stats_rgb8(const uint8_t *rgb, size_t n_pixels, sr_seed_stats *out)
{
    if (n_pixels == 0) {
        out->brightness = NAN;
        out->contrast = NAN;
        return;
    }
    const uint64_t n = (uint64_t)n_pixels * 3u;
    uint64_t sum = 0, sumsq = 0;
    /* Blocks small enough for 32-bit partial sums (4096 * 255^2 < 2^32), which
     * the compiler vectorises; the block totals are exact in 64 bits for any
     * image that fits in memory. */
    const size_t block = 4096;
    for (uint64_t i = 0; i < n;) {
        uint64_t end = n - i > block ? i + block : n;
        uint32_t s = 0, sq = 0;
        for (uint64_t j = i; j < end; j++) {
            uint32_t v = rgb[j];
            s += v;
            sq += v * v;
        }
        sum += s;
        sumsq += sq;
        i = end;
    }
    /* numpy: sum / n in double (the sum is exact below 2^53), then / 255. */
    out->brightness = ((double)sum / (double)n) / 255.0;
    /* n^2 var = n * sumsq - sum^2, exactly (>= 0 by Cauchy-Schwarz). */
    u128 num = sub_u128(mul_u64(n, sumsq), mul_u64(sum, sum));
    long double var = u128_to_ld(num) / ((long double)n * (long double)n);
    out->contrast = (double)sqrtl(var) / 255.0;
}
