/* moments_rows.h - the per-row sums of image_moments.c, for one instruction
 * set.
 *
 * Included by image_moments.c once per instruction set, with
 *   SR_MOM_SUFFIX  name suffix of the functions (generic, avx2)
 *   SR_MOM_TARGET  a function attribute selecting the instruction set
 * Everything is integer arithmetic, so every instruction set gives the same
 * sums. */

#define SR_MCAT_(a, b) a##_##b
#define SR_MCAT(a, b) SR_MCAT_(a, b)
#define SR_MFN(name) SR_MCAT(name, SR_MOM_SUFFIX)

/* Byte, opponent-colour and luma terms of SR_MOM_BLOCK pixels, whose sums
 * fit 32 bits; a loop of fixed length, which the compiler vectorises
 * without a cost model of its own. */
SR_MOM_TARGET static inline void SR_MFN(block_sums)(const uint8_t *restrict q, int32_t *restrict l,
                                                   sr_image_moments *m)
{
    uint32_t sum = 0, sumsq = 0, rg_sq = 0, yb2_sq = 0;
    int32_t rg = 0, yb2 = 0;
    for (int k = 0; k < SR_MOM_BLOCK; k++) {
        int32_t r = q[3 * k], g = q[3 * k + 1], b = q[3 * k + 2];
        int32_t d_rg = r - g, d_yb2 = r + g - 2 * b;
        sum += (uint32_t)(r + g + b);
        sumsq += (uint32_t)(r * r + g * g + b * b);
        rg += d_rg;
        yb2 += d_yb2;
        rg_sq += (uint32_t)(d_rg * d_rg);
        yb2_sq += (uint32_t)(d_yb2 * d_yb2);
        l[k] = 299 * r + 587 * g + 114 * b;
    }
    m->sum += sum;
    m->sumsq += sumsq;
    m->rg_sum += rg;
    m->yb2_sum += yb2;
    m->rg_sumsq += rg_sq;
    m->yb2_sumsq += yb2_sq;
}

/* The terms of one row of w pixels, block by block; the last, short block
 * is padded with black pixels, whose terms are all 0. */
SR_MOM_TARGET static void SR_MFN(row_sums)(const uint8_t *restrict p, int w, int32_t *restrict luma,
                                          sr_image_moments *m)
{
    int x = 0;
    for (; x + SR_MOM_BLOCK <= w; x += SR_MOM_BLOCK)
        SR_MFN(block_sums)(p + 3 * (size_t)x, luma + x, m);
    if (x < w) {
        uint8_t pad[3 * SR_MOM_BLOCK] = {0};
        int32_t lpad[SR_MOM_BLOCK];
        memcpy(pad, p + 3 * (size_t)x, 3 * (size_t)(w - x));
        SR_MFN(block_sums)(pad, lpad, m);
        memcpy(luma + x, lpad, (size_t)(w - x) * sizeof *lpad);
    }
}

/* Laplacian terms of the interior of the row mid (up and down are its
 * neighbour rows).  A term fits 32 bits (|l| <= 4 * 255000), its square
 * and the row's sums 64. */
SR_MOM_TARGET static void SR_MFN(row_laplacian)(const int32_t *up, const int32_t *mid, const int32_t *down, int w,
                                               sr_image_moments *m)
{
    int64_t s = 0;
    uint64_t sq = 0; /* < 2^64: (w-2) * 1020000^2 with w-2 <= 2^23 */
    for (int x = 1; x < w - 1; x++) {
        int32_t l = mid[x - 1] + mid[x + 1] + up[x] + down[x] - 4 * mid[x];
        s += l;
        sq += (uint64_t)((int64_t)l * l);
    }
    m->lap_sum += s;
    add_u128(&m->lap_sumsq_hi, &m->lap_sumsq_lo, 0, sq);
    m->lap_n += (uint64_t)(w - 2);
}

#undef SR_MFN
#undef SR_MCAT
#undef SR_MCAT_
