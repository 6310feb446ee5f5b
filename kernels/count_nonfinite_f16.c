/* count_nonfinite_f16.c - CPU twin of count_nonfinite_f16.cu.
 *
 * A binary16 value is NaN or +-Inf exactly when its five exponent bits
 * (0x7c00) are all ones.  The bulk of the array is tested several halves at
 * a time, counted in 16-bit lane counters that are emptied into the 64-bit
 * total before they can wrap; the last few halves one by one.
 *
 * With GCC or Clang the lanes are a 16-byte vector (SSE2 / NEON at the
 * default -O2, no special flags).  Elsewhere a 64-bit word holds four
 * lanes: after masking, adding 0x0400 to a lane carries into its bit 15
 * only when its exponent was all ones (0x7c00 + 0x0400 = 0x8000), and no
 * lane can carry into the next. */
#include "config.h"

#include "kernels.h"

#include <string.h>

/* Blocks per batch: each 16-bit lane counter gains at most 1 per block. */
#define BATCH_BLOCKS 65535u

#if defined(__GNUC__) || defined(__clang__)

typedef uint16_t sr_u16x8 __attribute__((vector_size(16)));
#define LANES 8u

static uint64_t count_blocks(const uint16_t *p, size_t nblocks)
{
    sr_u16x8 acc = {0};
    for (size_t j = 0; j < nblocks; j++) {
        sr_u16x8 w;
        memcpy(&w, p + LANES * j, sizeof w); /* any alignment, no aliasing issue */
        acc -= (sr_u16x8)((w & 0x7c00) == 0x7c00); /* true lanes are all ones (-1) */
    }
    uint64_t sum = 0;
    for (unsigned k = 0; k < LANES; k++)
        sum += acc[k];
    return sum;
}

#else

#define LANES 4u
#define EXP_MASK 0x7c007c007c007c00ull  /* exponent bits of each lane */
#define EXP_CARRY 0x0400040004000400ull /* lowest exponent bit of each lane */
#define LANE_ONE 0x0001000100010001ull

static uint64_t count_blocks(const uint16_t *p, size_t nblocks)
{
    uint64_t acc = 0;
    for (size_t j = 0; j < nblocks; j++) {
        uint64_t w;
        memcpy(&w, p + LANES * j, sizeof w);
        acc += (((w & EXP_MASK) + EXP_CARRY) >> 15) & LANE_ONE;
    }
    return (acc & 0xffffu) + ((acc >> 16) & 0xffffu) + ((acc >> 32) & 0xffffu) + (acc >> 48);
}

#endif

uint64_t sr_count_nonfinite_f16_cpu(const uint16_t *x, size_t n)
{
    uint64_t total = 0;
    size_t nblocks = n / LANES;

    for (size_t i = 0; i < nblocks; i += BATCH_BLOCKS) {
        size_t batch = nblocks - i < BATCH_BLOCKS ? nblocks - i : BATCH_BLOCKS;
        total += count_blocks(x + LANES * i, batch);
    }
    for (size_t k = LANES * nblocks; k < n; k++)
        total += (x[k] & 0x7c00u) == 0x7c00u;
    return total;
}
