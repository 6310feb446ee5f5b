/* lora_gram.c - CPU twin of lora_gram.cu: Gram matrices of LoRA factors.
 *
 * Each job is cut into chunks of CHUNK_K along the shared length k, the
 * chunks of all jobs are shared out among the OpenMP threads, and each
 * chunk is walked in tiles of KT values of k:
 *   1. the tile of A (and of B) is converted to double into a rank-major
 *      buffer T[i][k] (rows padded with zeros to a multiple of 4, k to a
 *      multiple of 4), transposing on the way when the rank is the column
 *      index; the statistics of A are gathered during the conversion;
 *   2. register blocks of 4-lane vectors (4×4 with AVX-512's 32 registers,
 *      2×4 otherwise) accumulate the products of rows of A with four rows
 *      of B over the tile (for a self Gram only the 4×4 blocks on and above
 *      the diagonal), and the lanes are added into the chunk's r_a×r_b sums
 *      at the end of the tile.
 * The chunks of a job are added in order at the end, so every sum has one
 * fixed order whatever the number of threads.  The products of two
 * converted values are exact in double, which makes fused and unfused
 * multiply-adds give the same bits: the instruction-set variants below
 * (plain C vectors, AVX2, AVX-512) produce identical results. */
#include "config.h"

#include "lora_gram.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define SR_LG_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

#define KT 256         /* values of k per tile */
#define BR 4           /* rows per register block */
#define CHUNK_K 4096   /* values of k per unit of parallel work (a multiple of KT) */
#define PAR_MIN_VALUES ((uint64_t)1 << 16) /* below this many values in all, stay serial */

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* ---------------------------------------------------------------------------
 * Conversions
 * ------------------------------------------------------------------------- */

static ALWAYS_INLINE uint16_t rd16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static ALWAYS_INLINE uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static ALWAYS_INLINE float bits_to_f32(uint32_t x)
{
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

static ALWAYS_INLINE double bits_to_f64(uint64_t x)
{
    double d;
    memcpy(&d, &x, sizeof d);
    return d;
}

/* binary16 -> double, exact: normal numbers by moving the fields, the
 * subnormals as m·2^-24 (an exact integer-to-double conversion and a power
 * of two), Inf and NaN with their payload. */
static ALWAYS_INLINE double f16_to_f64(uint16_t h)
{
    uint64_t sign = (uint64_t)(h & 0x8000u) << 48;
    uint32_t e = (h >> 10) & 0x1fu;
    uint64_t m = h & 0x3ffu;
    if (e == 0) {
        double v = (double)m * 0x1p-24;
        return (h & 0x8000u) ? -v : v;
    }
    if (e == 31)
        return bits_to_f64(sign | 0x7ff0000000000000ull | (m << 42));
    return bits_to_f64(sign | ((uint64_t)(e + 1023u - 15u) << 52) | (m << 42));
}

float sr_lg_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu;
    uint32_t m = h & 0x3ffu;
    if (e == 0) {
        float v = (float)m * 0x1p-24f;
        return (h & 0x8000u) ? -v : v;
    }
    if (e == 31)
        return bits_to_f32(sign | 0x7f800000u | (m << 13));
    return bits_to_f32(sign | ((e + 127u - 15u) << 23) | (m << 13));
}

float sr_lg_bf16_to_f32(uint16_t h)
{
    return bits_to_f32((uint32_t)h << 16);
}

/* A float widened to double keeps its value (a NaN stays a NaN). */
static ALWAYS_INLINE double f32bits_to_f64(uint32_t x)
{
    return (double)bits_to_f32(x);
}

static ALWAYS_INLINE double value_f64(const unsigned char *base, sr_lg_dtype dt, uint64_t i)
{
    switch (dt) {
    case SR_LG_F16:
        return f16_to_f64(rd16(base + 2 * i));
    case SR_LG_BF16:
        return f32bits_to_f64((uint32_t)rd16(base + 2 * i) << 16);
    case SR_LG_F32:
    default:
        return f32bits_to_f64(rd32(base + 4 * i));
    }
}

float sr_lg_value(const void *data, sr_lg_dtype dtype, uint64_t i)
{
    return (float)value_f64(data, dtype, i);
}

/* Statistics gathered while converting, in four lanes: value i of a run
 * adds to lane i % 4.  Every variant walks the same lanes in the same
 * order, so the sums have the same bits whatever the instruction set
 * (x² of a converted value is exact, so fused and unfused adds agree). */
typedef struct {
    double abs[4];
    double sq[4];
    uint64_t nonfinite;
} lane_stats;

/* n values from element e0 on into dst[0..n), with their statistics into
 * ls when it is not NULL. */
static void convert_generic(const unsigned char *base, sr_lg_dtype dt, uint64_t e0, size_t n, double *dst,
                            lane_stats *ls)
{
    switch (dt) {
    case SR_LG_F16: {
        const unsigned char *p = base + 2 * e0;
        for (size_t i = 0; i < n; i++)
            dst[i] = f16_to_f64(rd16(p + 2 * i));
        break;
    }
    case SR_LG_BF16: {
        const unsigned char *p = base + 2 * e0;
        for (size_t i = 0; i < n; i++)
            dst[i] = f32bits_to_f64((uint32_t)rd16(p + 2 * i) << 16);
        break;
    }
    case SR_LG_F32:
    default: {
        const unsigned char *p = base + 4 * e0;
        for (size_t i = 0; i < n; i++)
            dst[i] = f32bits_to_f64(rd32(p + 4 * i));
        break;
    }
    }
    if (ls)
        for (size_t i = 0; i < n; i++) {
            const double x = dst[i];
            ls->abs[i & 3] += fabs(x);
            ls->sq[i & 3] += x * x;
            ls->nonfinite += !isfinite(x);
        }
}

#ifdef SR_LG_X86
/* The same with F16C / AVX2, eight values at a time (x86 is little-endian,
 * so the raw bytes are the values).  vcvtph2ps converts every binary16
 * exactly, subnormals included. */
__attribute__((target("avx2,fma,f16c"))) static void convert_avx2(const unsigned char *base, sr_lg_dtype dt,
                                                                  uint64_t e0, size_t n, double *dst,
                                                                  lane_stats *ls)
{
    const __m256 inf = _mm256_set1_ps(INFINITY);
    const __m256 absmask_ps = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256d absmask_pd = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffll));
    __m256d sa = _mm256_setzero_pd(), sq = _mm256_setzero_pd();
    uint64_t nf = 0;
    if (ls) {
        sa = _mm256_loadu_pd(ls->abs);
        sq = _mm256_loadu_pd(ls->sq);
    }
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 f;
        if (dt == SR_LG_F32) {
            f = _mm256_loadu_ps((const float *)(const void *)(base + 4 * (e0 + i)));
        } else {
            __m128i h = _mm_loadu_si128((const __m128i *)(const void *)(base + 2 * (e0 + i)));
            f = dt == SR_LG_F16 ? _mm256_cvtph_ps(h)
                                : _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
        }
        __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(f));
        __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(f, 1));
        _mm256_storeu_pd(dst + i, lo);
        _mm256_storeu_pd(dst + i + 4, hi);
        if (ls) {
            sa = _mm256_add_pd(sa, _mm256_and_pd(lo, absmask_pd));
            sa = _mm256_add_pd(sa, _mm256_and_pd(hi, absmask_pd));
            sq = _mm256_fmadd_pd(lo, lo, sq);
            sq = _mm256_fmadd_pd(hi, hi, sq);
            /* NaN or ±Inf: |f| < inf is false (unordered compares false). */
            __m256 fin = _mm256_cmp_ps(_mm256_and_ps(f, absmask_ps), inf, _CMP_LT_OQ);
            nf += 8u - (unsigned)__builtin_popcount((unsigned)_mm256_movemask_ps(fin));
        }
    }
    if (ls) {
        _mm256_storeu_pd(ls->abs, sa);
        _mm256_storeu_pd(ls->sq, sq);
        ls->nonfinite += nf;
    }
    if (i < n) /* i is a multiple of 4: the lanes continue as they would */
        convert_generic(base, dt, e0 + i, n - i, dst + i, ls);
}
#endif

typedef void (*convert_fn)(const unsigned char *, sr_lg_dtype, uint64_t, size_t, double *, lane_stats *);

/* T[i][k] = src[k][i] for k < kt, i < r (src row stride r, T row stride KT). */
static void transpose_generic(const double *src, size_t kt, size_t r, double *T)
{
    for (size_t k = 0; k < kt; k++)
        for (size_t i = 0; i < r; i++)
            T[i * KT + k] = src[k * r + i];
}

#ifdef SR_LG_X86
/* The same in 4×4 blocks of AVX registers where both sides allow. */
__attribute__((target("avx2"))) static void transpose_avx2(const double *src, size_t kt, size_t r, double *T)
{
    size_t k4 = kt / 4 * 4, r4 = r / 4 * 4;
    for (size_t k = 0; k < k4; k += 4)
        for (size_t i = 0; i < r4; i += 4) {
            __m256d a = _mm256_loadu_pd(src + k * r + i);
            __m256d b = _mm256_loadu_pd(src + (k + 1) * r + i);
            __m256d c = _mm256_loadu_pd(src + (k + 2) * r + i);
            __m256d d = _mm256_loadu_pd(src + (k + 3) * r + i);
            __m256d ab0 = _mm256_unpacklo_pd(a, b), ab1 = _mm256_unpackhi_pd(a, b);
            __m256d cd0 = _mm256_unpacklo_pd(c, d), cd1 = _mm256_unpackhi_pd(c, d);
            _mm256_storeu_pd(T + i * KT + k, _mm256_permute2f128_pd(ab0, cd0, 0x20));
            _mm256_storeu_pd(T + (i + 1) * KT + k, _mm256_permute2f128_pd(ab1, cd1, 0x20));
            _mm256_storeu_pd(T + (i + 2) * KT + k, _mm256_permute2f128_pd(ab0, cd0, 0x31));
            _mm256_storeu_pd(T + (i + 3) * KT + k, _mm256_permute2f128_pd(ab1, cd1, 0x31));
        }
    for (size_t k = 0; k < kt; k++)
        for (size_t i = k < k4 ? r4 : 0; i < r; i++)
            T[i * KT + k] = src[k * r + i];
}
#endif

typedef void (*transpose_fn)(const double *, size_t, size_t, double *);

/* ---------------------------------------------------------------------------
 * Tiles
 * ------------------------------------------------------------------------- */

static size_t round_up(size_t x, size_t m)
{
    return (x + m - 1) / m * m;
}

/* Fills T[i][0..nk4) (row stride KT) for i < r with the values (i, k0..k0+kt)
 * of m, zero beyond kt; rows r.. are left alone (kept zero by the caller).
 * With the rank in the columns, the kt·r values are contiguous: they are
 * converted into tmp (kt·r doubles) and transposed from there.  The
 * statistics of the values go to ls when it is not NULL. */
static void load_tile(const sr_lg_matrix *m, int rank_in_cols, uint64_t k0, size_t kt, double *T, double *tmp,
                      convert_fn convert, transpose_fn transpose, lane_stats *ls)
{
    const unsigned char *base = m->data;
    size_t r = (size_t)sr_lg_rank(m, rank_in_cols);
    size_t nk4 = round_up(kt, 4);
    if (!rank_in_cols) {
        uint64_t len = m->cols;
        for (size_t i = 0; i < r; i++)
            convert(base, m->dtype, (uint64_t)i * len + k0, kt, T + i * KT, ls);
    } else {
        convert(base, m->dtype, k0 * (uint64_t)r, kt * r, tmp, ls);
        transpose(tmp, kt, r, T);
    }
    for (size_t i = 0; i < r; i++)
        for (size_t k = kt; k < nk4; k++)
            T[i * KT + k] = 0.0;
}

/* Four-lane vectors: one AVX register, two SSE2 registers on a plain
 * x86-64 build.  Loads go through an unaligned, may_alias twin of the type
 * (an expression, not a function: no vector calling convention, which
 * differs between the instruction-set variants). */
typedef double v4d __attribute__((vector_size(32)));
typedef double v4d_u __attribute__((vector_size(32), aligned(8), may_alias));
#define ld4(p) (*(const v4d_u *)(const void *)(p))

/* The sum of the four lanes, in a fixed order. */
#define hsum(v) (((v)[0] + (v)[1]) + ((v)[2] + (v)[3]))

/* Register blocks: g[i][j] += Σ_k a_i[k]·b_j[k] for i < 4 (or 2) and j < 4,
 * rows of a and b KT apart, nk a multiple of 4, g row stride ldg.  One
 * four-lane accumulator per (i, j); the lanes are added at the end.  MADD
 * is c += x·y, fused or not (the same bits: the products are exact). */
#define MADD_PLAIN(c, x, y) ((c) += (x) * (y))
#ifdef SR_LG_X86
#define MADD_FMA(c, x, y) ((c) = (v4d)_mm256_fmadd_pd((__m256d)(x), (__m256d)(y), (__m256d)(c)))
#endif

#define BLOCK_ROW(MADD, c0, c1, c2, c3, x)                                                                 \
    do {                                                                                                   \
        MADD(c0, x, b0);                                                                                   \
        MADD(c1, x, b1);                                                                                   \
        MADD(c2, x, b2);                                                                                   \
        MADD(c3, x, b3);                                                                                   \
    } while (0)

#define STORE_ROW(g, c0, c1, c2, c3)                                                                       \
    do {                                                                                                   \
        (g)[0] += hsum(c0);                                                                                \
        (g)[1] += hsum(c1);                                                                                \
        (g)[2] += hsum(c2);                                                                                \
        (g)[3] += hsum(c3);                                                                                \
    } while (0)

#define DEFINE_BLOCK_2X4(NAME, ATTR, MADD)                                                                 \
    ATTR static ALWAYS_INLINE void NAME(const double *a, const double *b, size_t nk, double *g, size_t ldg)    \
    {                                                                                                      \
        v4d c00 = {0}, c01 = {0}, c02 = {0}, c03 = {0};                                                    \
        v4d c10 = {0}, c11 = {0}, c12 = {0}, c13 = {0};                                                    \
        for (size_t k = 0; k < nk; k += 4) {                                                               \
            v4d b0 = ld4(b + k), b1 = ld4(b + KT + k), b2 = ld4(b + 2 * KT + k), b3 = ld4(b + 3 * KT + k); \
            v4d x = ld4(a + k);                                                                            \
            BLOCK_ROW(MADD, c00, c01, c02, c03, x);                                                        \
            x = ld4(a + KT + k);                                                                           \
            BLOCK_ROW(MADD, c10, c11, c12, c13, x);                                                        \
        }                                                                                                  \
        STORE_ROW(g, c00, c01, c02, c03);                                                                  \
        STORE_ROW(g + ldg, c10, c11, c12, c13);                                                            \
    }

#define DEFINE_BLOCK_4X4(NAME, ATTR, MADD)                                                                 \
    ATTR static ALWAYS_INLINE void NAME(const double *a, const double *b, size_t nk, double *g, size_t ldg)    \
    {                                                                                                      \
        v4d c00 = {0}, c01 = {0}, c02 = {0}, c03 = {0};                                                    \
        v4d c10 = {0}, c11 = {0}, c12 = {0}, c13 = {0};                                                    \
        v4d c20 = {0}, c21 = {0}, c22 = {0}, c23 = {0};                                                    \
        v4d c30 = {0}, c31 = {0}, c32 = {0}, c33 = {0};                                                    \
        for (size_t k = 0; k < nk; k += 4) {                                                               \
            v4d b0 = ld4(b + k), b1 = ld4(b + KT + k), b2 = ld4(b + 2 * KT + k), b3 = ld4(b + 3 * KT + k); \
            v4d x = ld4(a + k);                                                                            \
            BLOCK_ROW(MADD, c00, c01, c02, c03, x);                                                        \
            x = ld4(a + KT + k);                                                                           \
            BLOCK_ROW(MADD, c10, c11, c12, c13, x);                                                        \
            x = ld4(a + 2 * KT + k);                                                                       \
            BLOCK_ROW(MADD, c20, c21, c22, c23, x);                                                        \
            x = ld4(a + 3 * KT + k);                                                                       \
            BLOCK_ROW(MADD, c30, c31, c32, c33, x);                                                        \
        }                                                                                                  \
        STORE_ROW(g, c00, c01, c02, c03);                                                                  \
        STORE_ROW(g + ldg, c10, c11, c12, c13);                                                            \
        STORE_ROW(g + 2 * ldg, c20, c21, c22, c23);                                                        \
        STORE_ROW(g + 3 * ldg, c30, c31, c32, c33);                                                        \
    }

/* g (rap × rbp) += TA·TBᵀ over nk values, in blocks of 4 rows of B and
 * STEP rows of A; a self Gram (TB == TA) only fills the 4×4 blocks on and
 * above the diagonal. */
#define DEFINE_TILE_GRAM(NAME, ATTR, BLOCK, STEP)                                                          \
    ATTR static void NAME(const double *ta, const double *tb, size_t rap, size_t rbp, size_t nk, int self, \
                          double *g)                                                                       \
    {                                                                                                      \
        for (size_t bi = 0; bi < rap; bi += BR)                                                            \
            for (size_t bj = self ? bi : 0; bj < rbp; bj += BR)                                            \
                for (size_t i = bi; i < bi + BR; i += STEP)                                                \
                    BLOCK(ta + i * KT, tb + bj * KT, nk, g + i * rbp + bj, rbp);                           \
    }

DEFINE_BLOCK_2X4(block_2x4_plain, , MADD_PLAIN)
DEFINE_TILE_GRAM(tile_gram_generic, , block_2x4_plain, 2)

#ifdef SR_LG_X86
/* AVX2 has 16 vector registers: 2×4 blocks (8 accumulators); AVX-512VL
 * has 32: 4×4 blocks. */
DEFINE_BLOCK_2X4(block_2x4_fma, __attribute__((target("avx2,fma"))), MADD_FMA)
DEFINE_BLOCK_4X4(block_4x4_fma, __attribute__((target("avx512f,avx512vl,fma"))), MADD_FMA)
DEFINE_TILE_GRAM(tile_gram_avx2, __attribute__((target("avx2,fma"))), block_2x4_fma, 2)
DEFINE_TILE_GRAM(tile_gram_avx512, __attribute__((target("avx512f,avx512vl,fma"))), block_4x4_fma, 4)
#endif

typedef void (*tile_gram_fn)(const double *, const double *, size_t, size_t, size_t, int, double *);

/* The instruction set: the best the CPU has, or a lower one named in
 * $SR_LG_ISA ("generic", "avx2"), which tests and benchmarks use to run
 * every variant on one machine. */
#ifdef SR_LG_X86
enum { ISA_GENERIC, ISA_AVX2, ISA_AVX512 };

/* F16C (CPUID 1, ECX bit 29): not every compiler's __builtin_cpu_supports knows it. */
static int cpu_has_f16c(void)
{
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) != 0;
}

static int pick_isa(void)
{
    int best = ISA_GENERIC;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c())
        best = ISA_AVX2;
    if (best == ISA_AVX2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl"))
        best = ISA_AVX512;
    const char *want = getenv("SR_LG_ISA");
    if (want && strcmp(want, "generic") == 0)
        return ISA_GENERIC;
    if (want && strcmp(want, "avx2") == 0 && best >= ISA_AVX2)
        return ISA_AVX2;
    return best;
}
#endif

/* ---------------------------------------------------------------------------
 * Jobs
 * ------------------------------------------------------------------------- */

static int job_is_self(const sr_lg_job *j)
{
    return j->b.data == NULL && j->b.rows == 0 && j->b.cols == 0;
}

static void set_why(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t len, const char *fmt, ...)
{
    if (!why || len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
}

static int matrix_check(const sr_lg_matrix *m, int rank_in_cols, const char *which, char *why, size_t len)
{
    if (m->dtype != SR_LG_F32 && m->dtype != SR_LG_F16 && m->dtype != SR_LG_BF16) {
        set_why(why, len, "%s: unknown dtype %d", which, (int)m->dtype);
        return -1;
    }
    uint64_t r = sr_lg_rank(m, rank_in_cols);
    uint64_t len_k = sr_lg_length(m, rank_in_cols);
    if (r > SR_LG_MAX_RANK) {
        set_why(why, len, "%s: rank %llu is above the limit of %d", which, (unsigned long long)r,
                SR_LG_MAX_RANK);
        return -1;
    }
    if (r != 0 && len_k > (uint64_t)SIZE_MAX / 4 / r) {
        set_why(why, len, "%s: %llu x %llu values is too many", which, (unsigned long long)m->rows,
                (unsigned long long)m->cols);
        return -1;
    }
    if (m->data == NULL && m->rows != 0 && m->cols != 0) {
        set_why(why, len, "%s: no data for %llu x %llu values", which, (unsigned long long)m->rows,
                (unsigned long long)m->cols);
        return -1;
    }
    return 0;
}

int sr_lg_job_check(const sr_lg_job *job, char *why, size_t whylen)
{
    if (!job || !job->out) {
        set_why(why, whylen, "no job or no output buffer");
        return -1;
    }
    if (matrix_check(&job->a, job->rank_in_cols, "A", why, whylen) != 0)
        return -1;
    if (job_is_self(job))
        return 0;
    if (matrix_check(&job->b, job->rank_in_cols, "B", why, whylen) != 0)
        return -1;
    uint64_t la = sr_lg_length(&job->a, job->rank_in_cols), lb = sr_lg_length(&job->b, job->rank_in_cols);
    if (la != lb) {
        set_why(why, whylen, "A and B differ in the shared length (%llu and %llu)", (unsigned long long)la,
                (unsigned long long)lb);
        return -1;
    }
    return 0;
}

typedef struct {
    tile_gram_fn gram;
    convert_fn convert;
    transpose_fn transpose;
} kernels;

static kernels pick_kernels(void)
{
#ifdef SR_LG_X86
    switch (pick_isa()) {
    case ISA_AVX512:
        return (kernels){tile_gram_avx512, convert_avx2, transpose_avx2};
    case ISA_AVX2:
        return (kernels){tile_gram_avx2, convert_avx2, transpose_avx2};
    default:
        break;
    }
#endif
    return (kernels){tile_gram_generic, convert_generic, transpose_generic};
}

/* One unit of work: values [k0, k1) of one job. */
typedef struct {
    size_t job;
    size_t chunk;
    uint64_t k0, k1;
    double *dest;      /* r_a × r_b: the job's out, or this chunk's partial sums */
    sr_lg_stats stats; /* of A over [k0, k1) */
} work_item;

static void run_item(const sr_lg_job *job, work_item *it, double *ta, double *tb, double *g, double *tmp,
                     const kernels *kn)
{
    const int self = job_is_self(job);
    const int cols = job->rank_in_cols;
    const size_t ra = (size_t)sr_lg_rank(&job->a, cols);
    const size_t rb = self ? ra : (size_t)sr_lg_rank(&job->b, cols);
    const size_t rap = round_up(ra, BR), rbp = round_up(rb, BR);

    memset(g, 0, rap * rbp * sizeof *g);
    /* Padding rows stay zero for the whole item. */
    memset(ta + ra * KT, 0, (rap - ra) * KT * sizeof *ta);
    if (!self)
        memset(tb + rb * KT, 0, (rbp - rb) * KT * sizeof *tb);
    lane_stats ls;
    memset(&ls, 0, sizeof ls);
    lane_stats *lsp = job->stats ? &ls : NULL;

    if (ra > 0 && rb > 0) {
        for (uint64_t k0 = it->k0; k0 < it->k1; k0 += KT) {
            size_t kt = (size_t)(it->k1 - k0 < KT ? it->k1 - k0 : KT);
            load_tile(&job->a, cols, k0, kt, ta, tmp, kn->convert, kn->transpose, lsp);
            if (!self)
                load_tile(&job->b, cols, k0, kt, tb, tmp, kn->convert, kn->transpose, NULL);
            kn->gram(ta, self ? ta : tb, rap, rbp, round_up(kt, 4), self, g);
        }
    } else if (ra > 0 && lsp) {
        /* No B rows (a cross Gram with r_b = 0): still the statistics of A. */
        for (uint64_t k0 = it->k0; k0 < it->k1; k0 += KT) {
            size_t kt = (size_t)(it->k1 - k0 < KT ? it->k1 - k0 : KT);
            load_tile(&job->a, cols, k0, kt, ta, tmp, kn->convert, kn->transpose, lsp);
        }
    }
    it->stats.nonfinite = ls.nonfinite;
    it->stats.sum_abs = hsum(ls.abs);
    it->stats.sum_sq = hsum(ls.sq);

    for (size_t i = 0; i < ra; i++)
        for (size_t j = 0; j < rb; j++)
            it->dest[i * rb + j] = (self && j < i) ? g[j * rbp + i] : g[i * rbp + j];
}

int sr_lora_gram_cpu(const sr_lg_job *jobs, size_t njobs)
{
    if (njobs == 0)
        return 0;
    if (!jobs)
        return -1;
    size_t nitems = 0;
    uint64_t total_values = 0;
    size_t max_rap = BR, max_rbp = BR;
    for (size_t j = 0; j < njobs; j++) {
        if (sr_lg_job_check(&jobs[j], NULL, 0) != 0)
            return -1;
        const int cols = jobs[j].rank_in_cols;
        uint64_t len = sr_lg_length(&jobs[j].a, cols);
        size_t ra = (size_t)sr_lg_rank(&jobs[j].a, cols);
        size_t rb = job_is_self(&jobs[j]) ? ra : (size_t)sr_lg_rank(&jobs[j].b, cols);
        nitems += len == 0 ? 1 : (size_t)((len + CHUNK_K - 1) / CHUNK_K);
        total_values += len * (uint64_t)(ra + (job_is_self(&jobs[j]) ? 0 : rb));
        if (round_up(ra, BR) > max_rap)
            max_rap = round_up(ra, BR);
        if (round_up(rb, BR) > max_rbp)
            max_rbp = round_up(rb, BR);
    }

    work_item *items = calloc(nitems, sizeof *items);
    size_t *first = malloc(njobs * sizeof *first); /* first item of each job */
    if (!items || !first) {
        free(items);
        free(first);
        return -1;
    }
    /* Partial sums for the jobs that have more than one chunk. */
    size_t partial_doubles = 0;
    for (size_t j = 0; j < njobs; j++) {
        const int cols = jobs[j].rank_in_cols;
        uint64_t len = sr_lg_length(&jobs[j].a, cols);
        size_t nch = len == 0 ? 1 : (size_t)((len + CHUNK_K - 1) / CHUNK_K);
        size_t ra = (size_t)sr_lg_rank(&jobs[j].a, cols);
        size_t rb = job_is_self(&jobs[j]) ? ra : (size_t)sr_lg_rank(&jobs[j].b, cols);
        if (nch > 1)
            partial_doubles += nch * ra * rb;
    }
    double *partials = partial_doubles ? malloc(partial_doubles * sizeof *partials) : NULL;
    if (partial_doubles && !partials) {
        free(items);
        free(first);
        return -1;
    }
    size_t it_n = 0, poff = 0;
    for (size_t j = 0; j < njobs; j++) {
        const int cols = jobs[j].rank_in_cols;
        uint64_t len = sr_lg_length(&jobs[j].a, cols);
        size_t nch = len == 0 ? 1 : (size_t)((len + CHUNK_K - 1) / CHUNK_K);
        size_t ra = (size_t)sr_lg_rank(&jobs[j].a, cols);
        size_t rb = job_is_self(&jobs[j]) ? ra : (size_t)sr_lg_rank(&jobs[j].b, cols);
        first[j] = it_n;
        for (size_t c = 0; c < nch; c++) {
            work_item *it = &items[it_n++];
            it->job = j;
            it->chunk = c;
            it->k0 = (uint64_t)c * CHUNK_K;
            it->k1 = it->k0 + CHUNK_K < len ? it->k0 + CHUNK_K : len;
            if (nch == 1) {
                it->dest = jobs[j].out;
            } else {
                it->dest = partials + poff;
                poff += ra * rb;
            }
        }
    }

    const kernels kn = pick_kernels();
    const size_t max_r = max_rap > max_rbp ? max_rap : max_rbp;
    const size_t tile_doubles = (max_rap + max_rbp + max_r) * KT + max_rap * max_rbp;
    int failed = 0;

#pragma omp parallel if (total_values >= PAR_MIN_VALUES && nitems > 1)
    {
        double *scratch = aligned_alloc(64, round_up(tile_doubles * sizeof(double), 64));
        if (!scratch) {
#pragma omp atomic write
            failed = 1;
        }
        double *ta = scratch, *tb = ta + max_rap * KT, *tmp = tb + max_rbp * KT, *g = tmp + max_r * KT;
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < nitems; i++)
            if (scratch)
                run_item(&jobs[items[i].job], &items[i], ta, tb, g, tmp, &kn);
        free(scratch);
    }

    if (!failed) {
        for (size_t j = 0; j < njobs; j++) {
            size_t end = j + 1 < njobs ? first[j + 1] : nitems;
            const work_item *it = &items[first[j]];
            size_t nch = end - first[j];
            if (nch > 1) {
                const int cols = jobs[j].rank_in_cols;
                size_t ra = (size_t)sr_lg_rank(&jobs[j].a, cols);
                size_t rb = job_is_self(&jobs[j]) ? ra : (size_t)sr_lg_rank(&jobs[j].b, cols);
                size_t n = ra * rb;
                memcpy(jobs[j].out, it[0].dest, n * sizeof(double));
                for (size_t c = 1; c < nch; c++)
                    for (size_t e = 0; e < n; e++)
                        jobs[j].out[e] += it[c].dest[e];
            }
            if (jobs[j].stats) {
                sr_lg_stats s = {0, 0.0, 0.0};
                for (size_t c = 0; c < nch; c++) {
                    s.nonfinite += it[c].stats.nonfinite;
                    s.sum_abs += it[c].stats.sum_abs;
                    s.sum_sq += it[c].stats.sum_sq;
                }
                *jobs[j].stats = s;
            }
        }
    }
    free(partials);
    free(first);
    free(items);
    return failed ? -1 : 0;
}

void sr_lg_values_stats_cpu(const void *data, sr_lg_dtype dtype, uint64_t n, sr_lg_stats *out)
{
    /* Small tensors (alpha scalars, ...) are not worth choosing a variant
     * for; the results are the same either way. */
    const convert_fn convert = n >= 4096 ? pick_kernels().convert : convert_generic;
    lane_stats ls;
    memset(&ls, 0, sizeof ls);
    double buf[1024];
    for (uint64_t i = 0; i < n; i += 1024) {
        size_t m = (size_t)(n - i < 1024 ? n - i : 1024);
        convert(data, dtype, i, m, buf, &ls);
    }
    out->nonfinite = ls.nonfinite;
    out->sum_abs = hsum(ls.abs);
    out->sum_sq = hsum(ls.sq);
}
