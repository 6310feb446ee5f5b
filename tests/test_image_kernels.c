/* test_image_kernels.c - the image kernels: CPU twins against the
 * definitions, argument checks of the GPU entry points, and GPU == CPU
 * parity.
 *
 * As in test_kernels.c, make_suite() never calls into CUDA (the runtime must
 * not be initialised in a process that later forks): each GPU test looks for
 * a device itself and, when there is none, prints "# SKIP no CUDA device"
 * and returns (a pass).  The CPU tests and the argument checks run
 * everywhere, so the suite asserts something with or without a GPU. */
#include "config.h"

#include "check_main.h"
#include "image_kernels_cuda.h"
#include "image_moments.h"
#include "kernels.h"
#include "ssim.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* ---------------------------------------------------------------------
 * Test images
 * ------------------------------------------------------------------- */

enum { PAT_RANDOM, PAT_BLACK, PAT_WHITE, PAT_SATURATED, PAT_SMOOTH, PAT_CHECKER, N_PATTERNS };
static const char *const PATTERN_NAME[N_PATTERNS] = {
    "random", "black", "white", "saturated", "smooth", "checker",
};

static uint8_t clamp_u8(double v)
{
    return v <= 0.0 ? 0 : v >= 255.0 ? 255 : (uint8_t)(v + 0.5);
}

/* A w x h RGB8 image (never NULL: at least one byte is allocated). */
static uint8_t *make_image(int w, int h, int pattern, uint64_t seed)
{
    const size_t n = (size_t)w * (size_t)h;
    uint8_t *p = xmalloc(n ? 3 * n : 1);
    sr_rng rng;
    sr_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) {
        const int x = (int)(i % (size_t)w), y = (int)(i / (size_t)w);
        uint8_t *q = p + 3 * i;
        switch (pattern) {
        case PAT_RANDOM: {
            uint64_t r = sr_rng_next(&rng);
            q[0] = (uint8_t)r;
            q[1] = (uint8_t)(r >> 8);
            q[2] = (uint8_t)(r >> 16);
            break;
        }
        case PAT_BLACK:
            q[0] = q[1] = q[2] = 0;
            break;
        case PAT_WHITE:
            q[0] = q[1] = q[2] = 255;
            break;
        case PAT_SATURATED: { /* a corner of the RGB cube */
            unsigned c = (unsigned)(sr_rng_next(&rng) >> 61);
            q[0] = (c & 1) ? 255 : 0;
            q[1] = (c & 2) ? 255 : 0;
            q[2] = (c & 4) ? 255 : 0;
            break;
        }
        case PAT_SMOOTH: { /* gradients and a little noise */
            double fx = w > 1 ? (double)x / (w - 1) : 0.0, fy = h > 1 ? (double)y / (h - 1) : 0.0;
            q[0] = clamp_u8(255.0 * fx + 8.0 * sr_rng_normal(&rng));
            q[1] = clamp_u8(255.0 * fy + 8.0 * sr_rng_normal(&rng));
            q[2] = clamp_u8(128.0 + 100.0 * sin(0.1 * x + 0.07 * y) + 8.0 * sr_rng_normal(&rng));
            break;
        }
        default: /* PAT_CHECKER: black and white, the largest Laplacian */
            q[0] = q[1] = q[2] = ((x + y) & 1) ? 255 : 0;
            break;
        }
    }
    return p;
}

/* ---------------------------------------------------------------------
 * The moments, straight from the definitions in image_moments.h
 * ------------------------------------------------------------------- */

static int64_t y1000_at(const uint8_t *rgb, int w, int x, int y)
{
    const uint8_t *q = rgb + 3 * ((size_t)y * (size_t)w + (size_t)x);
    return 299 * (int64_t)q[0] + 587 * (int64_t)q[1] + 114 * (int64_t)q[2];
}

static void ref_moments(const uint8_t *rgb, int w, int h, sr_image_moments *m)
{
    memset(m, 0, sizeof *m);
    if (w <= 0 || h <= 0)
        return;
    m->n_pixels = (uint64_t)w * (uint64_t)h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *q = rgb + 3 * ((size_t)y * (size_t)w + (size_t)x);
            for (int c = 0; c < 3; c++) {
                m->sum += q[c];
                m->sumsq += (uint64_t)q[c] * q[c];
            }
            int r = q[0], g = q[1], b = q[2];
            int mx = r > g ? r : g, mn = r < g ? r : g;
            mx = b > mx ? b : mx;
            mn = b < mn ? b : mn;
            m->sat_num[mx] += (uint64_t)(mx - mn);
            int64_t rg = r - g, yb2 = r + g - 2 * b;
            m->rg_sum += rg;
            m->yb2_sum += yb2;
            m->rg_sumsq += (uint64_t)(rg * rg);
            m->yb2_sumsq += (uint64_t)(yb2 * yb2);
            m->hist[(y1000_at(rgb, w, x, y) + 500) / 1000]++;
            if (x >= 1 && x <= w - 2 && y >= 1 && y <= h - 2) {
                int64_t l = y1000_at(rgb, w, x - 1, y) + y1000_at(rgb, w, x + 1, y) +
                            y1000_at(rgb, w, x, y - 1) + y1000_at(rgb, w, x, y + 1) -
                            4 * y1000_at(rgb, w, x, y);
                uint64_t sq = (uint64_t)(l * l);
                m->lap_sum += l;
                m->lap_sumsq_lo += sq;
                m->lap_sumsq_hi += m->lap_sumsq_lo < sq; /* carry */
                m->lap_n++;
            }
        }
}

/* Compares every field of a (named a_name: the reference) and b; prints
 * the first mismatches (up to *budget in all) and returns how many fields
 * differ. */
static int diff_moments(const char *where, const char *a_name, const char *b_name,
                        const sr_image_moments *a, const sr_image_moments *b, int *budget)
{
    int bad = 0;
#define DIFF_U(field, label)                                                                 \
    do {                                                                                     \
        if (a->field != b->field) {                                                          \
            bad++;                                                                           \
            if ((*budget)-- > 0)                                                             \
                printf("# mismatch %s %s: %s %llu, %s %llu\n", where, label, a_name,         \
                       (unsigned long long)a->field, b_name, (unsigned long long)b->field);   \
        }                                                                                    \
    } while (0)
#define DIFF_S(field, label)                                                                 \
    do {                                                                                     \
        if (a->field != b->field) {                                                          \
            bad++;                                                                           \
            if ((*budget)-- > 0)                                                             \
                printf("# mismatch %s %s: %s %lld, %s %lld\n", where, label, a_name,         \
                       (long long)a->field, b_name, (long long)b->field);                   \
        }                                                                                    \
    } while (0)
    DIFF_U(n_pixels, "n_pixels");
    DIFF_U(sum, "sum");
    DIFF_U(sumsq, "sumsq");
    DIFF_S(lap_sum, "lap_sum");
    DIFF_U(lap_sumsq_lo, "lap_sumsq_lo");
    DIFF_U(lap_sumsq_hi, "lap_sumsq_hi");
    DIFF_U(lap_n, "lap_n");
    DIFF_S(rg_sum, "rg_sum");
    DIFF_S(yb2_sum, "yb2_sum");
    DIFF_U(rg_sumsq, "rg_sumsq");
    DIFF_U(yb2_sumsq, "yb2_sumsq");
    for (int i = 0; i < 256; i++) {
        char label[32];
        snprintf(label, sizeof label, "sat_num[%d]", i);
        DIFF_U(sat_num[i], label);
        snprintf(label, sizeof label, "hist[%d]", i);
        DIFF_U(hist[i], label);
    }
#undef DIFF_U
#undef DIFF_S
    fflush(stdout);
    return bad;
}

typedef struct {
    int w, h;
} size2;

/* Odd sizes, single rows and columns, sizes around the block size (256
 * threads) and rows that are not a multiple of anything. */
static const size2 MOMENT_SIZES[] = {
    {1, 1},     {2, 3},    {3, 2},    {3, 3},    {4, 4},    {7, 7},     {1, 300},
    {300, 1},   {2, 200},  {31, 33},  {37, 53},  {16, 16},  {255, 257}, {256, 256},
    {257, 255}, {512, 512}, {1000, 3}, {3, 1000}, {1023, 769},
};
#define N_MOMENT_SIZES (sizeof MOMENT_SIZES / sizeof MOMENT_SIZES[0])

/* ---------------------------------------------------------------------
 * CPU twins
 * ------------------------------------------------------------------- */

START_TEST(test_twin_one_pixel)
{
    const uint8_t px[3] = {10, 200, 30};
    sr_image_moments m;
    memset(&m, 0x5a, sizeof m);
    sr_image_moments_cpu(px, 1, 1, &m);
    ck_assert_uint_eq(m.n_pixels, 1);
    ck_assert_uint_eq(m.sum, 240);
    ck_assert_uint_eq(m.sumsq, 100 + 40000 + 900);
    ck_assert_int_eq(m.rg_sum, -190);
    ck_assert_int_eq(m.yb2_sum, 150);
    ck_assert_uint_eq(m.rg_sumsq, 190 * 190);
    ck_assert_uint_eq(m.yb2_sumsq, 150 * 150);
    ck_assert_uint_eq(m.sat_num[200], 190);
    /* Y1000 = 2990 + 117400 + 3420 = 123810 -> bin 124 */
    ck_assert_uint_eq(m.hist[124], 1);
    ck_assert_uint_eq(m.lap_n, 0);
    ck_assert_int_eq(m.lap_sum, 0);
    ck_assert_uint_eq(m.lap_sumsq_lo, 0);
    ck_assert_uint_eq(m.lap_sumsq_hi, 0);
    uint64_t total = 0;
    for (int i = 0; i < 256; i++)
        total += m.hist[i];
    ck_assert_uint_eq(total, 1);

    /* Empty images: all zero, NULL pixels allowed. */
    sr_image_moments zero;
    memset(&zero, 0, sizeof zero);
    sr_image_moments_cpu(NULL, 0, 5, &m);
    ck_assert(memcmp(&m, &zero, sizeof m) == 0);
    sr_image_moments_cpu(NULL, 5, 0, &m);
    ck_assert(memcmp(&m, &zero, sizeof m) == 0);
}
END_TEST

START_TEST(test_twin_laplacian_and_rounding)
{
    /* 3x3 black with a white centre: one interior pixel, L = -4 * 255000. */
    uint8_t img[27] = {0};
    img[12] = img[13] = img[14] = 255;
    sr_image_moments m;
    sr_image_moments_cpu(img, 3, 3, &m);
    ck_assert_uint_eq(m.lap_n, 1);
    ck_assert_int_eq(m.lap_sum, -1020000);
    ck_assert_uint_eq(m.lap_sumsq_lo, 1020000ull * 1020000ull);
    ck_assert_uint_eq(m.lap_sumsq_hi, 0);
    ck_assert_uint_eq(m.hist[0], 8);
    ck_assert_uint_eq(m.hist[255], 1);

    /* Grey v has Y1000 = 1000 v exactly: bin v. */
    for (int v = 0; v < 256; v++) {
        uint8_t px[3] = {(uint8_t)v, (uint8_t)v, (uint8_t)v};
        sr_image_moments_cpu(px, 1, 1, &m);
        ck_assert_msg(m.hist[v] == 1, "grey %d not in bin %d", v, v);
    }
    /* Half-way rounds up, just below rounds down. */
    static const struct {
        uint8_t rgb[3];
        int bin;
    } cases[] = {
        {{0, 0, 250}, 29}, /* 28500 */
        {{0, 8, 86}, 15},  /* 14500 */
        {{0, 1, 8}, 1},    /* 1499 */
        {{0, 3, 217}, 26}, /* 26499 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sr_image_moments_cpu(cases[i].rgb, 1, 1, &m);
        ck_assert_msg(m.hist[cases[i].bin] == 1, "case %zu not in bin %d", i, cases[i].bin);
    }
}
END_TEST

START_TEST(test_twin_matches_definitions)
{
    int budget = 10, bad = 0;
    for (size_t s = 0; s < N_MOMENT_SIZES; s++)
        for (int pat = 0; pat < N_PATTERNS; pat++) {
            const int w = MOMENT_SIZES[s].w, h = MOMENT_SIZES[s].h;
            uint8_t *img = make_image(w, h, pat, 1000 + s * 16 + (size_t)pat);
            sr_image_moments ref, cpu;
            ref_moments(img, w, h, &ref);
            sr_image_moments_cpu(img, w, h, &cpu);
            char where[64];
            snprintf(where, sizeof where, "%dx%d %s", w, h, PATTERN_NAME[pat]);
            bad += diff_moments(where, "definition", "twin", &ref, &cpu, &budget);
            free(img);
        }
    ck_assert_msg(bad == 0, "%d fields of the twin differ from the definitions", bad);
}
END_TEST

/* A checkerboard whose sum of squared Laplacians passes 2^64. */
enum { BIG_SIDE = 4300 };

START_TEST(test_twin_laplacian_128bit)
{
    uint8_t *img = make_image(BIG_SIDE, BIG_SIDE, PAT_CHECKER, 1);
    sr_image_moments ref, cpu;
    ref_moments(img, BIG_SIDE, BIG_SIDE, &ref);
    sr_image_moments_cpu(img, BIG_SIDE, BIG_SIDE, &cpu);
    free(img);
    /* Every interior L is +-4 * 255000: the sum of squares is
     * (BIG_SIDE-2)^2 * 1020000^2 = 1.92e19 > 2^64. */
    ck_assert_uint_eq(ref.lap_sumsq_hi, 1);
    ck_assert_uint_eq(ref.lap_n, (uint64_t)(BIG_SIDE - 2) * (BIG_SIDE - 2));
    int budget = 10;
    ck_assert_int_eq(
        diff_moments("4300x4300 checker", "definition", "twin", &ref, &cpu, &budget), 0);
}
END_TEST

/* SSIM from its definition: the 2-D Gaussian window applied directly (the
 * kept region reads only pixels inside the image). */
static double ref_ssim(const double *a, const double *b, int w, int h)
{
    const int r = SR_SSIM_RADIUS;
    double g[2 * SR_SSIM_RADIUS + 1], gs = 0.0;
    for (int k = -r; k <= r; k++)
        gs += g[k + r] = exp(-(double)(k * k) / (2.0 * 1.5 * 1.5));
    for (int k = 0; k <= 2 * r; k++)
        g[k] /= gs;
    const double c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
    double sum = 0.0;
    for (int y = r; y < h - r; y++)
        for (int x = r; x < w - r; x++) {
            double ma = 0, mb = 0, maa = 0, mbb = 0, mab = 0;
            for (int dy = -r; dy <= r; dy++)
                for (int dx = -r; dx <= r; dx++) {
                    const double wt = g[dy + r] * g[dx + r];
                    const size_t o = (size_t)(y + dy) * (size_t)w + (size_t)(x + dx);
                    ma += wt * a[o];
                    mb += wt * b[o];
                    maa += wt * a[o] * a[o];
                    mbb += wt * b[o] * b[o];
                    mab += wt * a[o] * b[o];
                }
            const double va = maa - ma * ma, vb = mbb - mb * mb, cov = mab - ma * mb;
            sum += ((2 * ma * mb + c1) * (2 * cov + c2)) /
                   ((ma * ma + mb * mb + c1) * (va + vb + c2));
        }
    return sum / ((double)(w - 2 * r) * (double)(h - 2 * r));
}

static double *luma_plane(int w, int h, int pattern, uint64_t seed)
{
    uint8_t *img = make_image(w, h, pattern, seed);
    const size_t n = (size_t)w * (size_t)h;
    double *p = xmalloc((n ? n : 1) * sizeof *p);
    sr_luma_cpu(img, n, p);
    free(img);
    return p;
}

START_TEST(test_ssim_twin)
{
    const int w = 37, h = 53;
    double *a = luma_plane(w, h, PAT_SMOOTH, 5), *b = luma_plane(w, h, PAT_SMOOTH, 6);
    double *c = luma_plane(w, h, PAT_RANDOM, 7);

    ck_assert_double_eq_tol(sr_ssim_cpu(a, a, w, h), 1.0, 1e-12);
    const double ab = sr_ssim_cpu(a, b, w, h);
    ck_assert(ab > 0.0 && ab < 1.0);
    ck_assert_double_eq_tol(sr_ssim_cpu(b, a, w, h), ab, 1e-12);
    ck_assert_double_eq_tol(ab, ref_ssim(a, b, w, h), 1e-9);
    ck_assert_double_eq_tol(sr_ssim_cpu(a, c, w, h), ref_ssim(a, c, w, h), 1e-9);

    /* Pairs in order (0,1), (0,2), (1,2). */
    const double *planes[3] = {a, b, c};
    double out[3];
    sr_ssim_pairs_cpu(planes, 3, w, h, out);
    ck_assert_double_eq_tol(out[0], sr_ssim_cpu(a, b, w, h), 1e-15);
    ck_assert_double_eq_tol(out[1], sr_ssim_cpu(a, c, w, h), 1e-15);
    ck_assert_double_eq_tol(out[2], sr_ssim_cpu(b, c, w, h), 1e-15);

    /* Too small: NaN for every pair. */
    out[0] = out[1] = out[2] = 0.0;
    sr_ssim_pairs_cpu(planes, 3, SR_SSIM_MIN_SIDE - 1, 20, out);
    ck_assert(isnan(out[0]) && isnan(out[1]) && isnan(out[2]));
    out[0] = 0.0;
    sr_ssim_pairs_cpu(planes, 2, 20, SR_SSIM_MIN_SIDE - 1, out);
    ck_assert(isnan(out[0]));
    free(a);
    free(b);
    free(c);
}
END_TEST

/* ---------------------------------------------------------------------
 * GPU entry points: argument checks (no GPU needed)
 * ------------------------------------------------------------------- */

START_TEST(test_gpu_arguments)
{
#ifdef HAVE_CUDA
    uint8_t px[27] = {0};
    const uint8_t *rgbs[2] = {px, NULL};
    int ws[2] = {3, 3}, hs[2] = {3, 3};
    sr_image_moments out[2];
    char err[256];
    memset(out, 0x5a, sizeof out);

    err[0] = '\0';
    ck_assert_int_eq(sr_cuda_image_moments(0, NULL, 3, 3, out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "sr_cuda_image_moments: NULL argument") != NULL, "%s", err);
    ck_assert_int_eq(sr_cuda_image_moments(0, px, 3, 3, NULL, err, sizeof err), -1);
    ck_assert_int_eq(sr_cuda_image_moments(0, px, -1, 3, out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "bad image size -1x3") != NULL, "%s", err);
    ck_assert_int_eq(sr_cuda_image_moments(0, NULL, 3, 3, out, NULL, 0), -1); /* no err buffer */

    /* Batch: image 1 has pixels but no data. */
    err[0] = '\0';
    ck_assert_int_eq(sr_cuda_image_moments_batch(0, rgbs, ws, hs, 2, out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "image 1 (3x3) is NULL") != NULL, "%s", err);
    ws[1] = -7;
    ck_assert_int_eq(sr_cuda_image_moments_batch(0, rgbs, ws, hs, 2, out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "image 1: bad size -7x3") != NULL, "%s", err);
    ck_assert_int_eq(sr_cuda_image_moments_batch(0, NULL, ws, hs, 2, out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "NULL argument") != NULL, "%s", err);
    ck_assert_int_eq(sr_cuda_image_moments_batch(0, rgbs, ws, hs, 2, NULL, err, sizeof err), -1);
    ck_assert_int_eq(((unsigned char *)out)[0], 0x5a); /* untouched */

    /* SSIM: plane 1 missing, no output, bad size. */
    double plane[16 * 16] = {0}, res[3] = {7.0, 7.0, 7.0};
    const double *lumas[3] = {plane, NULL, plane};
    ck_assert_int_eq(sr_cuda_ssim_pairs(0, lumas, 3, 16, 16, res, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "plane 1 is NULL") != NULL, "%s", err);
    ck_assert_int_eq(sr_cuda_ssim_pairs(0, lumas, 3, 16, 16, NULL, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "NULL argument") != NULL, "%s", err);
    ck_assert_int_eq(sr_cuda_ssim_pairs(0, lumas, 3, -16, 16, res, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "bad plane size") != NULL, "%s", err);
    ck_assert(res[0] == 7.0 && res[1] == 7.0 && res[2] == 7.0);

    /* Good arguments, a device that is not there: the reason names the
     * file and the call. */
    const int dev = sr_cuda_device_count();
    rgbs[1] = px;
    ws[1] = 3;
    ck_assert_int_eq(sr_cuda_image_moments(dev, px, 3, 3, out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "image_moments.cu:") && strstr(err, "cudaSetDevice"), "%s", err);
    ck_assert_int_eq(sr_cuda_image_moments_batch(dev, rgbs, ws, hs, 2, out, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "image_moments.cu:") && strstr(err, "cudaSetDevice"), "%s", err);
    lumas[1] = plane;
    ck_assert_int_eq(sr_cuda_ssim_pairs(dev, lumas, 3, 16, 16, res, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "ssim_pairs.cu:") && strstr(err, "cudaSetDevice"), "%s", err);
    ck_assert_int_eq(((unsigned char *)out)[0], 0x5a);
    ck_assert(res[0] == 7.0);
#else
    printf("# SKIP no CUDA device (this build has no CUDA support)\n");
    fflush(stdout);
#endif
}
END_TEST

/* ---------------------------------------------------------------------
 * GPU parity (each test finds the GPU itself)
 * ------------------------------------------------------------------- */

#ifdef HAVE_CUDA
#define NEED_GPU()            \
    do {                      \
        if (!test_have_gpu())      \
            return;           \
    } while (0)
#else
#define NEED_GPU()                                                            \
    do {                                                                      \
        printf("# SKIP no CUDA device (this build has no CUDA support)\n"); \
        fflush(stdout);                                                       \
        return;                                                               \
    } while (0)
#endif

START_TEST(test_gpu_moments_parity)
{
    NEED_GPU();
#ifdef HAVE_CUDA
    char name[128];
    ck_assert_int_eq(sr_cuda_device_name(0, name, sizeof name), 0);
    printf("# GPU parity on cuda:0 (%s)\n", name);
    int budget = 10, bad = 0;
    char err[256];
    for (size_t s = 0; s < N_MOMENT_SIZES; s++)
        for (int pat = 0; pat < N_PATTERNS; pat++) {
            const int w = MOMENT_SIZES[s].w, h = MOMENT_SIZES[s].h;
            uint8_t *img = make_image(w, h, pat, 2000 + s * 16 + (size_t)pat);
            sr_image_moments cpu, gpu;
            sr_image_moments_cpu(img, w, h, &cpu);
            memset(&gpu, 0x5a, sizeof gpu);
            err[0] = '\0';
            int rc = sr_cuda_image_moments(0, img, w, h, &gpu, err, sizeof err);
            free(img);
            ck_assert_msg(rc == 0, "%dx%d %s: GPU failed: %s", w, h, PATTERN_NAME[pat], err);
            char where[64];
            snprintf(where, sizeof where, "%dx%d %s", w, h, PATTERN_NAME[pat]);
            bad += diff_moments(where, "cpu", "gpu", &cpu, &gpu, &budget);
        }
    /* Empty images give all zeros; no pixels needed. */
    sr_image_moments zero, gpu;
    memset(&zero, 0, sizeof zero);
    memset(&gpu, 0x5a, sizeof gpu);
    ck_assert_int_eq(sr_cuda_image_moments(0, NULL, 0, 9, &gpu, err, sizeof err), 0);
    ck_assert(memcmp(&gpu, &zero, sizeof gpu) == 0);
    ck_assert_msg(bad == 0, "%d GPU/CPU field mismatches (first ones above)", bad);
#endif
}
END_TEST

START_TEST(test_gpu_moments_128bit)
{
    NEED_GPU();
#ifdef HAVE_CUDA
    uint8_t *img = make_image(BIG_SIDE, BIG_SIDE, PAT_CHECKER, 1);
    sr_image_moments cpu, gpu;
    char err[256] = "";
    sr_image_moments_cpu(img, BIG_SIDE, BIG_SIDE, &cpu);
    int rc = sr_cuda_image_moments(0, img, BIG_SIDE, BIG_SIDE, &gpu, err, sizeof err);
    free(img);
    ck_assert_msg(rc == 0, "GPU failed: %s", err);
    int budget = 10;
    ck_assert_int_eq(diff_moments("4300x4300 checker", "cpu", "gpu", &cpu, &gpu, &budget), 0);
    ck_assert_uint_eq(gpu.lap_sumsq_hi, 1);
#endif
}
END_TEST

START_TEST(test_gpu_moments_batch)
{
    NEED_GPU();
#ifdef HAVE_CUDA
    /* Every size in two patterns, with empty images (NULL pixels) between. */
    const size_t n = 2 * N_MOMENT_SIZES + 3;
    const uint8_t **rgbs = xcalloc(n, sizeof *rgbs);
    uint8_t **owned = xcalloc(n, sizeof *owned);
    int *ws = xcalloc(n, sizeof *ws), *hs = xcalloc(n, sizeof *hs);
    sr_image_moments *gpu = xcalloc(n, sizeof *gpu), *cpu = xcalloc(n, sizeof *cpu);
    size_t k = 0;
    ws[k] = 0, hs[k] = 0, k++;
    for (size_t s = 0; s < N_MOMENT_SIZES; s++) {
        for (int v = 0; v < 2; v++, k++) {
            ws[k] = MOMENT_SIZES[s].w;
            hs[k] = MOMENT_SIZES[s].h;
            owned[k] = make_image(ws[k], hs[k], v ? PAT_SATURATED : PAT_RANDOM, 3000 + k);
            rgbs[k] = owned[k];
        }
        if (s == N_MOMENT_SIZES / 2)
            ws[k] = 17, hs[k] = 0, k++;
    }
    ws[k] = 0, hs[k] = 40, k++;
    ck_assert_uint_eq(k, n);
    for (k = 0; k < n; k++)
        sr_image_moments_cpu(rgbs[k], ws[k], hs[k], &cpu[k]);

    char err[256] = "";
    memset(gpu, 0x5a, n * sizeof *gpu);
    ck_assert_msg(sr_cuda_image_moments_batch(0, rgbs, ws, hs, n, gpu, err, sizeof err) == 0,
                  "batch failed: %s", err);
    int budget = 10, bad = 0;
    for (k = 0; k < n; k++) {
        char where[64];
        snprintf(where, sizeof where, "batch[%zu] %dx%d", k, ws[k], hs[k]);
        bad += diff_moments(where, "cpu", "gpu", &cpu[k], &gpu[k], &budget);
    }
    /* One image, and none at all. */
    memset(gpu, 0x5a, sizeof *gpu);
    ck_assert_int_eq(sr_cuda_image_moments_batch(0, rgbs + 1, ws + 1, hs + 1, 1, gpu, err,
                                                 sizeof err), 0);
    bad += diff_moments("batch of one", "cpu", "gpu", &cpu[1], &gpu[0], &budget);
    ck_assert_int_eq(sr_cuda_image_moments_batch(0, NULL, NULL, NULL, 0, NULL, err, sizeof err), 0);
    for (k = 0; k < n; k++)
        free(owned[k]);
    free(owned);
    free(rgbs);
    free(ws);
    free(hs);
    free(gpu);
    free(cpu);
    ck_assert_msg(bad == 0, "%d GPU/CPU field mismatches (first ones above)", bad);
#endif
}
END_TEST

#ifdef HAVE_CUDA
/* Compares GPU and CPU SSIM of n planes of one size; returns the number of
 * pairs off by more than 1e-6 (printing the first ones). */
static int ssim_case(int w, int h, size_t n, int *budget)
{
    double **planes = xcalloc(n, sizeof *planes);
    for (size_t i = 0; i < n; i++) {
        /* Mostly smooth images; also noise, flat black and white, saturated,
         * and a repeat (SSIM 1). */
        static const int pats[] = {PAT_SMOOTH, PAT_RANDOM, PAT_SMOOTH, PAT_BLACK,
                                   PAT_SATURATED, PAT_WHITE, PAT_SMOOTH, PAT_CHECKER};
        if (i == 6)
            planes[i] = luma_plane(w, h, PAT_SMOOTH, 4000); /* same as plane 0 */
        else
            planes[i] = luma_plane(w, h, pats[i % 8], 4000 + i);
    }
    const size_t n_pairs = n * (n - 1) / 2;
    double *cpu = xcalloc(n_pairs, sizeof *cpu), *gpu = xcalloc(n_pairs, sizeof *gpu);
    sr_ssim_pairs_cpu((const double *const *)planes, n, w, h, cpu);
    char err[256] = "";
    int rc = sr_cuda_ssim_pairs(0, (const double *const *)planes, n, w, h, gpu, err, sizeof err);
    ck_assert_msg(rc == 0, "%dx%d, %zu planes: GPU failed: %s", w, h, n, err);
    int bad = 0;
    for (size_t i = 0, k = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++, k++) {
            const int same = isnan(cpu[k]) ? isnan(gpu[k]) : fabs(gpu[k] - cpu[k]) <= 1e-6;
            if (!same) {
                bad++;
                if ((*budget)-- > 0)
                    printf("# mismatch %dx%d SSIM(%zu,%zu): cpu %.17g, gpu %.17g\n", w, h, i, j,
                           cpu[k], gpu[k]);
            }
        }
    fflush(stdout);
    for (size_t i = 0; i < n; i++)
        free(planes[i]);
    free(planes);
    free(cpu);
    free(gpu);
    return bad;
}
#endif

START_TEST(test_gpu_ssim_parity)
{
    NEED_GPU();
#ifdef HAVE_CUDA
    /* The smallest plane with an SSIM, edges of the 32 x 8 tiles (kept
     * width 32, 33; kept height 8, 9), odd shapes and a full-size one. */
    static const struct {
        int w, h;
        size_t n;
    } cases[] = {
        {11, 11, 3},  {12, 13, 2},  {42, 18, 3},  {43, 19, 3},  {41, 17, 4}, {37, 53, 8},
        {64, 64, 8},  {100, 37, 5}, {33, 200, 4}, {300, 11, 2}, {11, 300, 2}, {512, 512, 3},
    };
    int budget = 10, bad = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        bad += ssim_case(cases[c].w, cases[c].h, cases[c].n, &budget);

    /* Too small for any kept pixel: NaN for every pair. */
    static const size2 small[] = {{10, 30}, {30, 10}, {7, 7}, {6, 20}, {1, 1}, {0, 0}};
    for (size_t c = 0; c < sizeof small / sizeof small[0]; c++) {
        double *p = luma_plane(small[c].w, small[c].h, PAT_RANDOM, 9);
        const double *lumas[3] = {p, p, p};
        double cpu[3], gpu[3] = {0.0, 0.0, 0.0};
        char err[256] = "";
        sr_ssim_pairs_cpu(lumas, 3, small[c].w, small[c].h, cpu);
        ck_assert_int_eq(sr_cuda_ssim_pairs(0, lumas, 3, small[c].w, small[c].h, gpu, err,
                                            sizeof err), 0);
        for (int k = 0; k < 3; k++)
            ck_assert_msg(isnan(cpu[k]) && isnan(gpu[k]), "%dx%d pair %d: cpu %g, gpu %g",
                          small[c].w, small[c].h, k, cpu[k], gpu[k]);
        free(p);
    }
    /* Fewer than two planes: nothing to do, nothing written. */
    double untouched = 3.0;
    char err[256] = "";
    ck_assert_int_eq(sr_cuda_ssim_pairs(0, NULL, 0, 64, 64, &untouched, err, sizeof err), 0);
    ck_assert_int_eq(sr_cuda_ssim_pairs(0, NULL, 1, 64, 64, &untouched, err, sizeof err), 0);
    ck_assert(untouched == 3.0);
    ck_assert_msg(bad == 0, "%d GPU/CPU SSIM mismatches (first ones above)", bad);
#endif
}
END_TEST

Suite *make_suite(void)
{
    /* No CUDA calls here: this runs in the parent before Check forks. */
    Suite *s = suite_create("image_kernels");

    TCase *tc = tcase_create("cpu");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_twin_one_pixel);
    tcase_add_test(tc, test_twin_laplacian_and_rounding);
    tcase_add_test(tc, test_twin_matches_definitions);
    tcase_add_test(tc, test_twin_laplacian_128bit);
    tcase_add_test(tc, test_ssim_twin);
    suite_add_tcase(s, tc);

    tc = tcase_create("gpu");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_gpu_arguments);
    tcase_add_test(tc, test_gpu_moments_parity);
    tcase_add_test(tc, test_gpu_moments_128bit);
    tcase_add_test(tc, test_gpu_moments_batch);
    tcase_add_test(tc, test_gpu_ssim_parity);
    suite_add_tcase(s, tc);
    return s;
}
