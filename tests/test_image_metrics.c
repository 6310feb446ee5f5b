/* test_image_metrics.c - image moments, SSIM and the image metrics: values
 * worked out by hand, properties, and golden values from numpy and
 * scikit-image (tests/data/image_metrics, made by make_golden.py). */
#include "config.h"

#include "check_main.h"
#include "device.h"
#include "image_measure.h"
#include "image_metrics.h"
#include "image_moments.h"
#include "png_io.h"
#include "ssim.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static uint8_t *solid(int w, int h, uint8_t r, uint8_t g, uint8_t b)
{
    uint8_t *p = xmalloc((size_t)w * (size_t)h * 3 + 1);
    for (int i = 0; i < w * h; i++) {
        p[3 * i] = r;
        p[3 * i + 1] = g;
        p[3 * i + 2] = b;
    }
    return p;
}

static void set_px(uint8_t *p, int w, int x, int y, uint8_t r, uint8_t g, uint8_t b)
{
    uint8_t *q = p + 3 * ((size_t)y * (size_t)w + (size_t)x);
    q[0] = r;
    q[1] = g;
    q[2] = b;
}

static uint8_t *random_image(int w, int h, uint64_t seed)
{
    sr_rng rng;
    sr_rng_seed(&rng, seed);
    uint8_t *p = xmalloc((size_t)w * (size_t)h * 3 + 1);
    for (size_t i = 0; i < (size_t)w * (size_t)h * 3; i++)
        p[i] = (uint8_t)(sr_rng_next(&rng) >> 56);
    return p;
}

static void metrics_of(const uint8_t *rgb, int w, int h, sr_sample_metrics *out)
{
    sr_image_moments m;
    sr_image_moments_cpu(rgb, w, h, &m);
    sr_sample_metrics_from_moments(&m, out);
}

static double *luma_of(const uint8_t *rgb, int w, int h)
{
    size_t n = (size_t)w * (size_t)h;
    double *y = xmalloc((n ? n : 1) * sizeof *y);
    sr_luma_cpu(rgb, n, y);
    return y;
}

static double metric(const sr_metrics *m, const char *name)
{
    double v;
    ck_assert_msg(sr_metrics_get(m, name, &v), "metric %s missing", name);
    return v;
}

/* ------------------------------------------------------------------------ */
/* Moments                                                                  */

/* The definitions, one pixel at a time. */
static void naive_moments(const uint8_t *p, int w, int h, sr_image_moments *m)
{
    memset(m, 0, sizeof *m);
    m->n_pixels = (uint64_t)w * (uint64_t)h;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *q = p + 3 * ((size_t)y * (size_t)w + (size_t)x);
            int r = q[0], g = q[1], b = q[2];
            m->sum += (uint64_t)(r + g + b);
            m->sumsq += (uint64_t)(r * r + g * g + b * b);
            int mx = r > g ? (r > b ? r : b) : (g > b ? g : b);
            int mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
            m->sat_num[mx] += (uint64_t)(mx - mn);
            m->rg_sum += r - g;
            m->yb2_sum += r + g - 2 * b;
            m->rg_sumsq += (uint64_t)((r - g) * (r - g));
            m->yb2_sumsq += (uint64_t)((r + g - 2 * b) * (r + g - 2 * b));
            int y1000 = 299 * r + 587 * g + 114 * b;
            m->hist[(y1000 + 500) / 1000]++;
        }
    for (int y = 1; y < h - 1; y++)
        for (int x = 1; x < w - 1; x++) {
#define Y(xx, yy)                                                                             \
    (299 * p[3 * ((size_t)(yy) * (size_t)w + (size_t)(xx))] +                                 \
     587 * p[3 * ((size_t)(yy) * (size_t)w + (size_t)(xx)) + 1] +                             \
     114 * p[3 * ((size_t)(yy) * (size_t)w + (size_t)(xx)) + 2])
            int64_t l = (int64_t)Y(x - 1, y) + Y(x + 1, y) + Y(x, y - 1) + Y(x, y + 1) - 4 * (int64_t)Y(x, y);
#undef Y
            m->lap_sum += l;
            uint64_t sq = (uint64_t)(l * l);
            m->lap_sumsq_lo += sq;
            if (m->lap_sumsq_lo < sq)
                m->lap_sumsq_hi++;
            m->lap_n++;
        }
}

/* Both row implementations (AVX2 where the CPU has it, and the plain one)
 * against the definition: sizes that leave every tail of a 16-pixel block. */
START_TEST(test_moments_match_definition)
{
    static const int sizes[][2] = {{1, 1},  {2, 5},  {3, 3},  {7, 1},  {1, 9},   {17, 13},
                                   {64, 3}, {37, 53}, {16, 4}, {31, 6}, {130, 7}, {255, 2}};
    for (int isa = 0; isa < 2; isa++) {
        if (isa)
            setenv("SR_MOMENTS_ISA", "generic", 1);
        else
            unsetenv("SR_MOMENTS_ISA");
        const char *name = isa ? "generic" : "best";
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            int w = sizes[k][0], h = sizes[k][1];
            uint8_t *p = random_image(w, h, 100 + k);
            sr_image_moments a, b;
            sr_image_moments_cpu(p, w, h, &a);
            naive_moments(p, w, h, &b);
            ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "%s rows: moments differ at %dx%d", name, w, h);
            free(p);
        }
        /* Extremes: every byte 255, and black/white checkers (largest |L|),
         * wide enough for whole blocks. */
        uint8_t *p = solid(41, 8, 255, 255, 255);
        for (int y = 0; y < 8; y++)
            for (int x = (y & 1); x < 41; x += 2)
                set_px(p, 41, x, y, 0, 0, 0);
        sr_image_moments a, b;
        sr_image_moments_cpu(p, 41, 8, &a);
        naive_moments(p, 41, 8, &b);
        ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "%s rows: checkers differ", name);
        free(p);
    }
    unsetenv("SR_MOMENTS_ISA");
}
END_TEST

START_TEST(test_moments_empty)
{
    sr_image_moments m;
    memset(&m, 0xab, sizeof m);
    sr_image_moments_cpu(NULL, 0, 5, &m);
    ck_assert_uint_eq(m.n_pixels, 0);
    ck_assert_uint_eq(m.sum, 0);
    ck_assert_uint_eq(m.hist[0], 0);
    sr_sample_metrics s;
    sr_sample_metrics_from_moments(&m, &s);
    ck_assert(isnan(s.brightness) && isnan(s.contrast) && isnan(s.entropy));
}
END_TEST

START_TEST(test_moments_add)
{
    uint8_t *p = random_image(20, 10, 7), *q = random_image(15, 4, 8);
    sr_image_moments a, b, sum;
    sr_image_moments_cpu(p, 20, 10, &a);
    sr_image_moments_cpu(q, 15, 4, &b);
    sum = a;
    sr_image_moments_add(&sum, &b);
    ck_assert_uint_eq(sum.n_pixels, 260);
    ck_assert_uint_eq(sum.sum, a.sum + b.sum);
    ck_assert_uint_eq(sum.hist[100], a.hist[100] + b.hist[100]);
    ck_assert_uint_eq(sum.sat_num[200], a.sat_num[200] + b.sat_num[200]);
    ck_assert_int_eq(sum.yb2_sum, a.yb2_sum + b.yb2_sum);
    ck_assert_uint_eq(sum.lap_n, a.lap_n + b.lap_n);
    /* The 128-bit sum carries. */
    a.lap_sumsq_hi = 1;
    a.lap_sumsq_lo = UINT64_MAX - 2;
    b.lap_sumsq_hi = 2;
    b.lap_sumsq_lo = 5;
    sr_image_moments_add(&a, &b);
    ck_assert_uint_eq(a.lap_sumsq_hi, 4);
    ck_assert_uint_eq(a.lap_sumsq_lo, 2);
    free(p);
    free(q);
}
END_TEST

START_TEST(test_luma)
{
    uint8_t px[9] = {255, 255, 255, 0, 36, 12, 10, 20, 30};
    double y[3];
    sr_luma_cpu(px, 3, y);
    ck_assert(y[0] == 255.0);
    ck_assert(y[1] == 22.5);
    ck_assert(y[2] == 18150.0 / 1000.0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Per-sample metrics worked out by hand                                    */

START_TEST(test_solid_colour)
{
    uint8_t *p = solid(5, 4, 200, 100, 50);
    sr_sample_metrics s;
    metrics_of(p, 5, 4, &s);
    ck_assert_double_eq_tol(s.brightness, 350.0 / 3.0 / 255.0, 1e-15);
    /* Bytes 200, 100, 50 in equal numbers: variance (3 * 52500 - 350^2) / 9. */
    ck_assert_double_eq_tol(s.contrast, sqrt(35000.0) / 765.0, 1e-15);
    ck_assert_double_eq_tol(s.saturation, 0.75, 1e-15);
    ck_assert(s.sharpness == 0.0);
    /* rg = 100, yb = 150 - 50 = 100: no spread, 0.3 * |(100, 100)|. */
    ck_assert_double_eq_tol(s.colorfulness, 0.3 * sqrt(20000.0), 1e-12);
    ck_assert(s.entropy == 0.0);
    free(p);

    p = solid(3, 3, 0, 0, 0); /* black: saturation 0 where max = 0 */
    metrics_of(p, 3, 3, &s);
    ck_assert(s.brightness == 0.0 && s.contrast == 0.0 && s.saturation == 0.0);
    ck_assert(s.colorfulness == 0.0 && s.entropy == 0.0 && s.sharpness == 0.0);
    free(p);
}
END_TEST

START_TEST(test_checkerboard)
{
    /* Black and white checkers, 8 x 8: half the bytes 0, half 255. */
    uint8_t *p = solid(8, 8, 0, 0, 0);
    for (int y = 0; y < 8; y++)
        for (int x = (y & 1); x < 8; x += 2)
            set_px(p, 8, x, y, 255, 255, 255);
    sr_sample_metrics s;
    metrics_of(p, 8, 8, &s);
    ck_assert(s.brightness == 0.5);
    ck_assert(s.contrast == 0.5); /* std 127.5 */
    ck_assert(s.saturation == 0.0);
    ck_assert(s.colorfulness == 0.0);
    ck_assert(s.entropy == 1.0);
    /* Every interior Laplacian is +-4 * 255, 18 of each sign. */
    ck_assert_double_eq_tol(s.sharpness, 1020.0 * 1020.0, 1e-9);
    free(p);

    /* Two colours, 1:3, non-grey: red (255,0,0) and blue (0,0,255). */
    p = solid(4, 1, 0, 0, 255);
    set_px(p, 4, 0, 0, 255, 0, 0);
    metrics_of(p, 4, 1, &s);
    ck_assert_double_eq_tol(s.brightness, 1.0 / 3.0, 1e-15);
    /* Bytes: 4 of 255, 8 of 0: std = 255 * sqrt(1/3 * 2/3). */
    ck_assert_double_eq_tol(s.contrast, sqrt(2.0) / 3.0, 1e-15);
    ck_assert(s.saturation == 1.0);
    ck_assert(s.sharpness == 0.0); /* no interior */
    /* rg: 255, 0, 0, 0; yb: 127.5, -255 x 3. */
    double mrg = 255.0 / 4, mrb = (127.5 - 765.0) / 4;
    double vrg = 255.0 * 255.0 / 4 - mrg * mrg;
    double vyb = (127.5 * 127.5 + 3 * 255.0 * 255.0) / 4 - mrb * mrb;
    ck_assert_double_eq_tol(s.colorfulness, sqrt(vrg + vyb) + 0.3 * sqrt(mrg * mrg + mrb * mrb),
                            1e-12);
    /* Luma 76.245 -> 76 once, 29.07 -> 29 three times. */
    ck_assert_double_eq_tol(s.entropy, -(0.25 * log2(0.25) + 0.75 * log2(0.75)), 1e-15);
    free(p);
}
END_TEST

START_TEST(test_single_bright_pixel)
{
    uint8_t *p = solid(5, 5, 0, 0, 0);
    set_px(p, 5, 2, 2, 255, 255, 255);
    sr_sample_metrics s;
    metrics_of(p, 5, 5, &s);
    /* Interior 3x3: -1020 at the centre, +255 at its 4 neighbours, 0 at the
     * corners: mean 0, variance (1020^2 + 4 * 255^2) / 9 = 144500. */
    ck_assert_double_eq_tol(s.sharpness, 144500.0, 1e-9);
    /* Moved off-centre: the Laplacian mean is no longer 0. */
    memset(p, 0, 5 * 5 * 3);
    set_px(p, 5, 1, 1, 255, 255, 255);
    metrics_of(p, 5, 5, &s);
    /* Interior values: -1020 at (1,1), +255 at (2,1) and (1,2), 0 else (9). */
    double mean = (-1020.0 + 510.0) / 9, ex2 = (1020.0 * 1020.0 + 2 * 255.0 * 255.0) / 9;
    ck_assert_double_eq_tol(s.sharpness, ex2 - mean * mean, 1e-9);
    free(p);
    /* Too small for an interior. */
    p = random_image(2, 7, 3);
    metrics_of(p, 2, 7, &s);
    ck_assert(s.sharpness == 0.0);
    free(p);
}
END_TEST

START_TEST(test_grey_and_entropy)
{
    /* Four grey levels, one pixel each: saturation 0, colorfulness 0, 2 bits. */
    uint8_t *p = solid(4, 1, 0, 0, 0);
    set_px(p, 4, 1, 0, 50, 50, 50);
    set_px(p, 4, 2, 0, 100, 100, 100);
    set_px(p, 4, 3, 0, 200, 200, 200);
    sr_sample_metrics s;
    metrics_of(p, 4, 1, &s);
    ck_assert(s.saturation == 0.0);
    ck_assert(s.colorfulness == 0.0);
    ck_assert(s.entropy == 2.0);
    free(p);

    /* 256 grey levels, each once: 8 bits. */
    p = solid(16, 16, 0, 0, 0);
    for (int i = 0; i < 256; i++)
        set_px(p, 16, i % 16, i / 16, (uint8_t)i, (uint8_t)i, (uint8_t)i);
    metrics_of(p, 16, 16, &s);
    ck_assert(s.entropy == 8.0);
    ck_assert(s.saturation == 0.0 && s.colorfulness == 0.0);
    free(p);

    /* A tie: (0, 36, 12) has luma exactly 22.5, which goes to bin 23 (the
     * float 0.587*36 + 0.114*12 is 22.499999999999996 and would round down);
     * (0, 0, 0) is bin 0 and (23, 23, 23) bin 23 -> bins {23: 2, 0: 1}. */
    p = solid(3, 1, 0, 0, 0);
    set_px(p, 3, 0, 0, 0, 36, 12);
    set_px(p, 3, 2, 0, 23, 23, 23);
    sr_image_moments m;
    sr_image_moments_cpu(p, 3, 1, &m);
    ck_assert_uint_eq(m.hist[23], 2);
    ck_assert_uint_eq(m.hist[22], 0);
    ck_assert_uint_eq(m.hist[0], 1);
    /* White is bin 255 (255.5 never happens: luma <= 255). */
    free(p);
    p = solid(1, 1, 255, 255, 255);
    sr_image_moments_cpu(p, 1, 1, &m);
    ck_assert_uint_eq(m.hist[255], 1);
    free(p);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* SSIM                                                                     */

START_TEST(test_ssim_identical_and_symmetric)
{
    uint8_t *p = random_image(23, 17, 11), *q = random_image(23, 17, 12);
    double *a = luma_of(p, 23, 17), *b = luma_of(q, 23, 17);
    ck_assert(sr_ssim_cpu(a, a, 23, 17) == 1.0);
    double ab = sr_ssim_cpu(a, b, 23, 17), ba = sr_ssim_cpu(b, a, 23, 17);
    ck_assert_double_eq_tol(ab, ba, 1e-15);
    ck_assert(ab < 0.2 && ab > -0.2); /* independent noise */
    /* A flat image against itself: 1 as well (C1, C2 keep it defined). */
    double *flat = xmalloc(23 * 17 * sizeof *flat);
    for (int i = 0; i < 23 * 17; i++)
        flat[i] = 42.0;
    ck_assert(sr_ssim_cpu(flat, flat, 23, 17) == 1.0);
    free(flat);
    free(a);
    free(b);
    free(p);
    free(q);
}
END_TEST

START_TEST(test_ssim_sizes)
{
    uint8_t *p = random_image(40, 40, 21), *q = random_image(40, 40, 22);
    double *a = luma_of(p, 40, 40), *b = luma_of(q, 40, 40);
    /* Reading the first rows of a 40-wide plane as narrower images. */
    ck_assert(isnan(sr_ssim_cpu(a, b, 10, 40)));
    ck_assert(isnan(sr_ssim_cpu(a, b, 40, 10)));
    ck_assert(isnan(sr_ssim_cpu(a, b, 0, 0)));
    ck_assert(isfinite(sr_ssim_cpu(a, b, 11, 11)));
    ck_assert(isfinite(sr_ssim_cpu(a, b, 11, 40)));
    free(a);
    free(b);
    free(p);
    free(q);
}
END_TEST

START_TEST(test_ssim_pairs_order)
{
    enum { N = 5, W = 31, H = 19 };
    uint8_t *imgs[N];
    double *lumas[N];
    for (int i = 0; i < N; i++) {
        imgs[i] = random_image(W, H, 30 + (uint64_t)i);
        /* Make pairs differ: blend a common image into some. */
        if (i > 0)
            for (int k = 0; k < W * H * 3; k += 2)
                imgs[i][k] = imgs[0][k];
        lumas[i] = luma_of(imgs[i], W, H);
    }
    double out[N * (N - 1) / 2];
    sr_ssim_pairs_cpu((const double *const *)lumas, N, W, H, out);
    int k = 0;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++, k++)
            ck_assert_msg(out[k] == sr_ssim_cpu(lumas[i], lumas[j], W, H), "pair %d,%d", i, j);
    /* Too small: every pair NaN. */
    sr_ssim_pairs_cpu((const double *const *)lumas, N, 10, 10, out);
    for (k = 0; k < N * (N - 1) / 2; k++)
        ck_assert(isnan(out[k]));
    for (int i = 0; i < N; i++) {
        free(lumas[i]);
        free(imgs[i]);
    }
}
END_TEST

/* The four-lane (AVX2) filters give exactly what the two-lane ones give:
 * widths that leave every tail length, on the CPU this runs on (where it
 * lacks AVX2 both runs take the two-lane path). */
START_TEST(test_ssim_isa_identical)
{
    enum { N = 4 };
    static const int sizes[][2] = {{11, 11}, {12, 13}, {29, 17}, {64, 40}, {67, 23}, {130, 71}};
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        const int w = sizes[z][0], h = sizes[z][1];
        uint8_t *imgs[N];
        double *lumas[N];
        for (int i = 0; i < N; i++) {
            imgs[i] = random_image(w, h, 700 + (uint64_t)(z * N + i));
            if (i > 0)
                for (int k = 0; k < w * h * 3; k += 3)
                    imgs[i][k] = imgs[0][k];
            lumas[i] = luma_of(imgs[i], w, h);
        }
        double fast[N * (N - 1) / 2], generic[N * (N - 1) / 2];
        unsetenv("SR_SSIM_ISA");
        sr_ssim_pairs_cpu((const double *const *)lumas, N, w, h, fast);
        setenv("SR_SSIM_ISA", "generic", 1);
        sr_ssim_pairs_cpu((const double *const *)lumas, N, w, h, generic);
        unsetenv("SR_SSIM_ISA");
        for (int k = 0; k < N * (N - 1) / 2; k++)
            ck_assert_msg(memcmp(&fast[k], &generic[k], sizeof fast[k]) == 0, "%dx%d pair %d: %.17g vs %.17g", w,
                          h, k, fast[k], generic[k]);
        for (int i = 0; i < N; i++) {
            free(lumas[i]);
            free(imgs[i]);
        }
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Golden values from numpy / scikit-image                                  */

typedef struct {
    char *file;
    uint8_t *rgb;
    int w, h;
} golden_image;

static cJSON *load_golden(void)
{
    char *path = test_srcpath("tests/data/image_metrics/golden.json");
    char *text = NULL, err[256];
    size_t len;
    ck_assert_msg(sr_read_file(path, 1 << 20, &text, &len, err, sizeof err) == 0, "%s: %s", path,
                  err);
    cJSON *j = cJSON_Parse(text);
    ck_assert_ptr_nonnull(j);
    free(text);
    free(path);
    return j;
}

static void decode(const char *file, golden_image *g)
{
    char *rel = xasprintf("tests/data/image_metrics/%s", file);
    char *path = test_srcpath(rel);
    char err[256];
    ck_assert_msg(sr_png_read_rgb8(path, &g->rgb, &g->w, &g->h, err, sizeof err) == 0, "%s: %s",
                  file, err);
    g->file = xstrdup(file);
    free(path);
    free(rel);
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsNumber(v), "golden: %s missing", key);
    return v->valuedouble;
}

/* |a - b| <= tol * max(1, |b|): absolute below 1, relative above. */
static void check_close(const char *what, const char *file, double a, double b, double tol,
                        double *max_err)
{
    double err = fabs(a - b) / (fabs(b) > 1.0 ? fabs(b) : 1.0);
    if (err > *max_err)
        *max_err = err;
    ck_assert_msg(err <= tol, "%s of %s: %.17g, golden %.17g", what, file, a, b);
}

START_TEST(test_golden_samples)
{
    cJSON *j = load_golden();
    const cJSON *images = cJSON_GetObjectItemCaseSensitive(j, "images");
    static const char *const names[] = {"brightness", "contrast", "saturation",
                                        "sharpness", "colorfulness", "entropy"};
    double max_err[6] = {0};
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, images) {
        const char *file = cJSON_GetObjectItemCaseSensitive(it, "file")->valuestring;
        golden_image g;
        decode(file, &g);
        ck_assert_int_eq(g.w, (int)num(it, "width"));
        ck_assert_int_eq(g.h, (int)num(it, "height"));
        sr_sample_metrics s;
        metrics_of(g.rgb, g.w, g.h, &s);
        const double got[6] = {s.brightness, s.contrast, s.saturation,
                               s.sharpness, s.colorfulness, s.entropy};
        for (int k = 0; k < 6; k++)
            check_close(names[k], file, got[k], num(it, names[k]), 1e-9, &max_err[k]);
        free(g.rgb);
        free(g.file);
        n++;
    }
    ck_assert_int_ge(n, 10);
    for (int k = 0; k < 6; k++)
        printf("# golden %-12s max error %.3g\n", names[k], max_err[k]);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_golden_ssim)
{
    cJSON *j = load_golden();
    const cJSON *pairs = cJSON_GetObjectItemCaseSensitive(j, "pairs");
    double max_err = 0;
    int n = 0, n_null = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, pairs) {
        golden_image a, b;
        decode(cJSON_GetObjectItemCaseSensitive(it, "a")->valuestring, &a);
        decode(cJSON_GetObjectItemCaseSensitive(it, "b")->valuestring, &b);
        ck_assert(a.w == b.w && a.h == b.h);
        double *ya = luma_of(a.rgb, a.w, a.h), *yb = luma_of(b.rgb, b.w, b.h);
        double s = sr_ssim_cpu(ya, yb, a.w, a.h);
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(it, "ssim");
        if (cJSON_IsNull(g)) {
            ck_assert_msg(isnan(s), "%s/%s: %g, golden none", a.file, b.file, s);
            n_null++;
        } else {
            /* The map follows scipy's and skimage's operations, so only the
             * order of the final mean's additions differs. */
            check_close("ssim", a.file, s, g->valuedouble, 1e-10, &max_err);
            n++;
        }
        free(ya);
        free(yb);
        free(a.rgb);
        free(b.rgb);
        free(a.file);
        free(b.file);
    }
    ck_assert_int_ge(n, 4);
    ck_assert_int_ge(n_null, 1);
    printf("# golden ssim         max error %.3g\n", max_err);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_golden_aggregate)
{
    cJSON *j = load_golden();
    const cJSON *images = cJSON_GetObjectItemCaseSensitive(j, "images");
    const cJSON *agg = cJSON_GetObjectItemCaseSensitive(j, "aggregate");
    size_t n = (size_t)cJSON_GetArraySize(images);
    golden_image *g = xcalloc(n, sizeof *g);
    const uint8_t **rgb = xcalloc(n, sizeof *rgb);
    int *w = xcalloc(n, sizeof *w), *h = xcalloc(n, sizeof *h);
    for (size_t i = 0; i < n; i++) {
        const cJSON *it = cJSON_GetArrayItem(images, (int)i);
        decode(cJSON_GetObjectItemCaseSensitive(it, "file")->valuestring, &g[i]);
        rgb[i] = g[i].rgb;
        w[i] = g[i].w;
        h[i] = g[i].h;
    }
    sr_image_set set;
    sr_image_set_from_rgb(&set, (const uint8_t *const *)rgb, w, h, n);
    sr_metrics m = {0};
    sr_image_lists lists;
    sr_image_set_aggregate(&set, &m, &lists);
    ck_assert(set.has_diversity);
    static const char *const names[] = {
        "total_samples", "mean_brightness", "mean_contrast",   "std_brightness",
        "std_contrast",  "mean_saturation", "mean_sharpness",  "mean_colorfulness",
        "mean_entropy",  "sample_diversity", "pixar_score"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        double e = 0;
        check_close(names[k], "aggregate", metric(&m, names[k]), num(agg, names[k]), 1e-9, &e);
        printf("# golden %-17s error %.3g\n", names[k], e);
    }
    ck_assert_uint_eq(lists.n, n);
    for (size_t i = 0; i < n; i++) {
        const cJSON *it = cJSON_GetArrayItem(images, (int)i);
        double e = 0;
        check_close("avg_brightness", g[i].file, lists.avg_brightness[i], num(it, "brightness"),
                    1e-12, &e);
        check_close("avg_contrast", g[i].file, lists.avg_contrast[i], num(it, "contrast"), 1e-12,
                    &e);
    }
    sr_image_lists_free(&lists);
    sr_metrics_free(&m);
    sr_image_set_free(&set);
    for (size_t i = 0; i < n; i++) {
        free(g[i].rgb);
        free(g[i].file);
    }
    free(g);
    free(rgb);
    free(w);
    free(h);
    cJSON_Delete(j);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Aggregation                                                              */

START_TEST(test_aggregate_by_hand)
{
    sr_sample_metrics per[2] = {
        {.brightness = 0.4, .contrast = 0.1, .saturation = 0.2, .sharpness = 10, .colorfulness = 30,
         .entropy = 5},
        {.brightness = 0.6, .contrast = 0.3, .saturation = 0.4, .sharpness = 30, .colorfulness = 50,
         .entropy = 7},
    };
    int w[2] = {8, 8}, h[2] = {8, 8};
    sr_image_set set = {.n = 2, .per_sample = per, .w = w, .h = h};
    sr_metrics m = {0};
    sr_metrics_set(&m, "lpips_diversity", 0.4); /* kept */
    sr_image_lists lists;
    sr_image_set_aggregate(&set, &m, &lists);
    ck_assert(metric(&m, "total_samples") == 2.0);
    ck_assert_double_eq_tol(metric(&m, "mean_brightness"), 0.5, 1e-15);
    ck_assert_double_eq_tol(metric(&m, "std_brightness"), 0.1, 1e-15);
    ck_assert_double_eq_tol(metric(&m, "mean_contrast"), 0.2, 1e-15);
    ck_assert_double_eq_tol(metric(&m, "std_contrast"), 0.1, 1e-15);
    ck_assert_double_eq_tol(metric(&m, "mean_saturation"), 0.3, 1e-15);
    ck_assert_double_eq_tol(metric(&m, "mean_sharpness"), 20, 1e-13);
    ck_assert_double_eq_tol(metric(&m, "mean_colorfulness"), 40, 1e-13);
    ck_assert_double_eq_tol(metric(&m, "mean_entropy"), 6, 1e-14);
    ck_assert_double_eq_tol(metric(&m, "pixar_score"), 0.1, 1e-15);
    ck_assert(metric(&m, "lpips_diversity") == 0.4);
    double v;
    ck_assert(!sr_metrics_get(&m, "sample_diversity", &v)); /* has_diversity 0 */
    ck_assert_uint_eq(lists.n, 2);
    ck_assert(lists.avg_brightness[0] == 0.4 && lists.avg_brightness[1] == 0.6);
    ck_assert(lists.avg_contrast[0] == 0.1 && lists.avg_contrast[1] == 0.3);
    sr_image_lists_free(&lists);

    set.has_diversity = 1;
    set.diversity = 0.25;
    sr_image_set_aggregate(&set, &m, NULL);
    ck_assert(metric(&m, "sample_diversity") == 0.25);
    sr_metrics_free(&m);

    /* No samples: only the count. */
    sr_image_set none = {0};
    sr_image_set_aggregate(&none, &m, &lists);
    ck_assert_uint_eq(m.n, 1);
    ck_assert(metric(&m, "total_samples") == 0.0);
    ck_assert_uint_eq(lists.n, 0);
    sr_image_lists_free(&lists);
    sr_metrics_free(&m);
}
END_TEST

START_TEST(test_pixar_score)
{
    ck_assert(sr_pixar_score(0.5, 0.0, 0.2, 0.0) == 0.0);
    ck_assert_double_eq_tol(sr_pixar_score(0.528, 0.02, 0.201, 0.04), 0.028 + 0.01 + 0.001 + 0.02,
                            1e-15);
    ck_assert_double_eq_tol(sr_pixar_score(0.3, 0.1, 0.5, 0.2), 0.2 + 0.05 + 0.3 + 0.1, 1e-15);
}
END_TEST

START_TEST(test_diversity_mixed_sizes)
{
    /* Two 16x16 (one pair), one 20x20 (alone), three 12x12 (three pairs),
     * two 9x9 (a pair too small for SSIM): diversity from the 4 pairs. */
    const int w[8] = {16, 12, 20, 16, 12, 9, 12, 9};
    const int h[8] = {16, 12, 20, 16, 12, 9, 12, 9};
    uint8_t *rgb[8];
    double *y[8];
    for (int i = 0; i < 8; i++) {
        rgb[i] = random_image(w[i], h[i], 50 + (uint64_t)i);
        if (i == 3) /* close to image 0 */
            for (int k = 0; k < 16 * 16 * 3; k += 3)
                rgb[3][k] = rgb[0][k];
        y[i] = luma_of(rgb[i], w[i], h[i]);
    }
    double s[4] = {sr_ssim_cpu(y[0], y[3], 16, 16), sr_ssim_cpu(y[1], y[4], 12, 12),
                   sr_ssim_cpu(y[1], y[6], 12, 12), sr_ssim_cpu(y[4], y[6], 12, 12)};
    double expect = 1.0 - (s[0] + s[1] + s[2] + s[3]) / 4.0;
    double d = -1;
    ck_assert(sr_sample_diversity_cpu((const double *const *)y, w, h, 8, &d));
    ck_assert_double_eq_tol(d, expect, 1e-15);

    /* The same through a whole set. */
    sr_image_set set;
    sr_image_set_from_rgb(&set, (const uint8_t *const *)rgb, w, h, 8);
    ck_assert(set.has_diversity);
    ck_assert_double_eq_tol(set.diversity, expect, 1e-15);
    sr_image_set_free(&set);

    /* No same-size pair with an SSIM: no diversity. */
    const int w2[3] = {16, 20, 9}, h2[3] = {16, 20, 9};
    double *y2[3] = {y[0], y[2], y[5]};
    ck_assert(!sr_sample_diversity_cpu((const double *const *)y2, w2, h2, 3, &d));
    double *y3[2] = {y[5], y[7]};
    ck_assert(!sr_sample_diversity_cpu((const double *const *)y3, w + 5, h + 5, 1, &d));
    ck_assert(!sr_sample_diversity_cpu((const double *const *)y3, (const int[]){9, 9},
                                       (const int[]){9, 9}, 2, &d));
    ck_assert(!sr_sample_diversity_cpu(NULL, NULL, NULL, 0, &d));

    /* sr_diversity_from_ssim skips NaN. */
    double pairs[3] = {0.5, NAN, 0.7};
    ck_assert(sr_diversity_from_ssim(pairs, 3, &d));
    ck_assert_double_eq_tol(d, 0.4, 1e-15);
    double nans[2] = {NAN, NAN};
    ck_assert(!sr_diversity_from_ssim(nans, 2, &d));
    for (int i = 0; i < 8; i++) {
        free(y[i]);
        free(rgb[i]);
    }
}
END_TEST

/* ---- many samples, a chunk at a time ------------------------------------- */

typedef struct {
    uint8_t **img;
    int *w, *h;
} stream_src;

/* "Decodes" sample i: a copy of the image, or a failure for every 17th. */
static int stream_decode(void *ctx, size_t i, uint8_t **rgb, int *w, int *h, char **why)
{
    const stream_src *s = ctx;
    if (i % 17 == 5) {
        *why = xasprintf("sample %zu: broken", i);
        return -1;
    }
    size_t bytes = (size_t)s->w[i] * (size_t)s->h[i] * 3;
    *rgb = xmalloc(bytes);
    memcpy(*rgb, s->img[i], bytes);
    *w = s->w[i];
    *h = s->h[i];
    return 0;
}

/* The streamed set equals the set of all decoded samples at once, bit for
 * bit, whatever the chunk: per-sample metrics, sizes and the diversity over
 * the first SR_DIVERSITY_MAX_SAMPLES of each size (three sizes, over 40
 * samples each, so the cap applies). */
START_TEST(test_stream_equals_all_at_once)
{
    enum { N = 150 };
    static const int sides[3][2] = {{24, 20}, {16, 16}, {20, 24}};
    stream_src src = {xcalloc(N, sizeof(uint8_t *)), xcalloc(N, sizeof(int)), xcalloc(N, sizeof(int))};
    uint64_t x = 0x9e3779b97f4a7c15ull;
    const uint8_t *ok_img[N];
    int ok_w[N], ok_h[N];
    size_t n_ok = 0;
    for (size_t i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int k = (int)((x >> 33) % 3);
        src.w[i] = sides[k][0];
        src.h[i] = sides[k][1];
        size_t bytes = (size_t)src.w[i] * (size_t)src.h[i] * 3;
        src.img[i] = xmalloc(bytes);
        for (size_t b = 0; b < bytes; b++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            /* a smooth picture of its own per sample, plus noise */
            src.img[i][b] = (uint8_t)((b * (i % 7 + 1)) % 200 + (x >> 60));
        }
        if (i % 17 != 5) {
            ok_img[n_ok] = src.img[i];
            ok_w[n_ok] = src.w[i];
            ok_h[n_ok] = src.h[i];
            n_ok++;
        }
    }
    sr_image_set want;
    sr_image_set_from_rgb(&want, ok_img, ok_w, ok_h, n_ok);
    ck_assert(want.has_diversity);
    const sr_device cpu = {.kind = SR_DEV_CPU, .index = 0, .name = "cpu"};
    static const size_t chunks[] = {1, 7, 64, 1000};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        char *why[N] = {0};
        sr_image_set got;
        sr_measure_image_stream(&cpu, N, chunks[c], stream_decode, &src, &got, why);
        ck_assert_uint_eq(got.n, n_ok);
        for (size_t i = 0; i < N; i++) {
            ck_assert_msg((why[i] != NULL) == (i % 17 == 5), "chunk %zu: sample %zu's reason", chunks[c], i);
            free(why[i]);
        }
        ck_assert_msg(memcmp(got.per_sample, want.per_sample, n_ok * sizeof *want.per_sample) == 0,
                      "chunk %zu: per-sample metrics differ", chunks[c]);
        ck_assert(memcmp(got.w, want.w, n_ok * sizeof *want.w) == 0);
        ck_assert(memcmp(got.h, want.h, n_ok * sizeof *want.h) == 0);
        ck_assert_int_eq(got.has_diversity, want.has_diversity);
        ck_assert_msg(memcmp(&got.diversity, &want.diversity, sizeof got.diversity) == 0,
                      "chunk %zu: diversity %.17g, all at once %.17g", chunks[c], got.diversity, want.diversity);
        sr_image_set_free(&got);
    }
    sr_image_set_free(&want);
    for (size_t i = 0; i < N; i++)
        free(src.img[i]);
    free(src.img);
    free(src.w);
    free(src.h);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("image_metrics");
    TCase *tc = tcase_create("moments");
    tcase_add_test(tc, test_moments_match_definition);
    tcase_add_test(tc, test_moments_empty);
    tcase_add_test(tc, test_moments_add);
    tcase_add_test(tc, test_luma);
    suite_add_tcase(s, tc);

    tc = tcase_create("sample");
    tcase_add_test(tc, test_solid_colour);
    tcase_add_test(tc, test_checkerboard);
    tcase_add_test(tc, test_single_bright_pixel);
    tcase_add_test(tc, test_grey_and_entropy);
    suite_add_tcase(s, tc);

    tc = tcase_create("ssim");
    tcase_add_test(tc, test_ssim_identical_and_symmetric);
    tcase_add_test(tc, test_ssim_sizes);
    tcase_add_test(tc, test_ssim_pairs_order);
    tcase_add_test(tc, test_ssim_isa_identical);
    suite_add_tcase(s, tc);

    tc = tcase_create("golden");
    tcase_add_test(tc, test_golden_samples);
    tcase_add_test(tc, test_golden_ssim);
    tcase_add_test(tc, test_golden_aggregate);
    suite_add_tcase(s, tc);

    tc = tcase_create("aggregate");
    tcase_add_test(tc, test_aggregate_by_hand);
    tcase_add_test(tc, test_pixar_score);
    tcase_add_test(tc, test_diversity_mixed_sizes);
    tcase_add_test(tc, test_stream_equals_all_at_once);
    suite_add_tcase(s, tc);
    return s;
}
