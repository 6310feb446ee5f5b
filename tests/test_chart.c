/* test_chart.c - nice ticks, tick text, the chart model, the shared layout
 * and both backends (cairo SVG/PNG, libharu PDF) on every kind of chart.
 *
 * With SR_CHART_SAMPLES=DIR set, the charts are also left in DIR as PNG
 * files and one PDF, for looking at them. */
#include "config.h"

#include "atomic_file.h"
#include "chart.h"
#include "chart_layout.h"
#include "check_main.h"
#include "util.h"

#include <cairo.h>
#include <float.h>
#include <hpdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PY "/usr/bin/python3"
#define DEJAVU "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

/* ------------------------------------------------------------------------ */
/* Ticks                                                                     */
/* ------------------------------------------------------------------------ */

/* 1, 2 or 5 times a power of ten (within rounding). */
static int is_125(double step)
{
    if (!(step > 0) || !isfinite(step))
        return 0;
    double e = floor(log10(step));
    double m = step / pow(10, e);
    double r = round(m);
    if (fabs(m - r) > 1e-6 * r)
        return 0;
    return r == 1 || r == 2 || r == 5 || r == 10;
}

/* The properties every linear tick set must have. */
static void check_linear(double lo, double hi, size_t max)
{
    double t[64];
    size_t n = sr_nice_ticks(lo, hi, max, SR_AXIS_LINEAR, t, 64);
    double a = fmin(lo, hi), b = fmax(lo, hi);
    ck_assert_msg(n >= 1 && n <= max, "[%g, %g] max %zu: %zu ticks", lo, hi, max, n);
    if (n == 1) {
        ck_assert_msg(t[0] >= a - fabs(b - a) && t[0] <= b + fabs(b - a), "[%g, %g]: lone tick %g", lo, hi, t[0]);
        return;
    }
    double step = t[1] - t[0];
    ck_assert_msg(is_125(step), "[%.17g, %.17g] max %zu: step %.17g", lo, hi, max, step);
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            ck_assert_msg(t[i] > t[i - 1], "[%g, %g]: not increasing at %zu", lo, hi, i);
            ck_assert_msg(fabs(t[i] - t[i - 1] - step) <= 1e-6 * step, "[%g, %g]: uneven steps", lo, hi);
        }
        double k = t[i] / step;
        ck_assert_msg(fabs(k - round(k)) <= 1e-6 * fmax(1, fabs(k)), "[%g, %g]: %.17g is no multiple of %.17g", lo,
                      hi, t[i], step);
        ck_assert_msg(t[i] >= a - step * 1.000001 && t[i] <= b + step * 1.000001, "[%g, %g]: %g outside", lo, hi, t[i]);
    }
}

START_TEST(test_ticks_examples)
{
    double t[32];
    size_t n = sr_nice_ticks(0, 1, 10, SR_AXIS_LINEAR, t, 32);
    ck_assert_uint_eq(n, 6);
    static const double want01[] = {0, 0.2, 0.4, 0.6, 0.8, 1};
    for (size_t i = 0; i < n; i++)
        ck_assert_double_eq(t[i], want01[i]); /* exact: 0.6, not 0.6000000000000001 */

    n = sr_nice_ticks(0.013, 0.087, 8, SR_AXIS_LINEAR, t, 32);
    ck_assert_uint_eq(n, 7);
    for (size_t i = 0; i < n; i++)
        ck_assert_double_eq(t[i], (double)(i + 2) / 100);

    n = sr_nice_ticks(-7, -2, 6, SR_AXIS_LINEAR, t, 32);
    ck_assert_uint_eq(n, 6);
    ck_assert_double_eq(t[0], -7);
    ck_assert_double_eq(t[5], -2);

    n = sr_nice_ticks(-1, 1, 5, SR_AXIS_LINEAR, t, 32);
    ck_assert_uint_eq(n, 5);
    ck_assert_double_eq(t[2], 0);
    ck_assert(!signbit(t[2]));

    /* reversed bounds: the same ticks */
    double u[32];
    ck_assert_uint_eq(sr_nice_ticks(1, 0, 10, SR_AXIS_LINEAR, u, 32), 6);
    ck_assert_double_eq(u[3], 0.6);

    /* lo == hi: one tick on the value */
    ck_assert_uint_eq(sr_nice_ticks(0.37, 0.37, 8, SR_AXIS_LINEAR, t, 32), 1);
    ck_assert_double_eq(t[0], 0.37);
    ck_assert_uint_eq(sr_nice_ticks(0, 0, 8, SR_AXIS_LINEAR, t, 32), 1);

    /* bad input: nothing */
    ck_assert_uint_eq(sr_nice_ticks(NAN, 1, 8, SR_AXIS_LINEAR, t, 32), 0);
    ck_assert_uint_eq(sr_nice_ticks(0, INFINITY, 8, SR_AXIS_LINEAR, t, 32), 0);
    ck_assert_uint_eq(sr_nice_ticks(-INFINITY, 0, 8, SR_AXIS_LOG, t, 32), 0);
    ck_assert_uint_eq(sr_nice_ticks(0, 1, 0, SR_AXIS_LINEAR, t, 32), 0);
    ck_assert_uint_eq(sr_nice_ticks(0, 1, 8, SR_AXIS_LINEAR, NULL, 32), 0);
    ck_assert_uint_eq(sr_nice_ticks(0, 1, 8, SR_AXIS_LINEAR, t, 0), 0);
    /* the capacity bounds the count */
    ck_assert_uint_le(sr_nice_ticks(0, 1, 100, SR_AXIS_LINEAR, t, 3), 3);
    /* one tick wanted: one tick, inside */
    n = sr_nice_ticks(0.013, 0.087, 1, SR_AXIS_LINEAR, t, 32);
    ck_assert_uint_eq(n, 1);
    ck_assert(t[0] >= 0.013 && t[0] <= 0.087);
}
END_TEST

START_TEST(test_ticks_properties)
{
    static const double ranges[][2] = {
        {0, 1},          {0.013, 0.087},  {-5, 5},       {-1e-5, -3e-6},  {1000.1, 1000.5}, {0, 1e9},
        {-1e300, 1e300}, {1e15, 1e15 + 1e3}, {3.7, 3.701}, {0, 0.9},       {-0.3, 0.05},     {1e-300, 2e-300},
        {123456, 123457}, {-DBL_MAX, DBL_MAX}, {0.5, 2.5},  {99, 101},       {-1e-9, 1e-9},    {7, 7.000001},
    };
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++)
        for (size_t max = 1; max <= 14; max++)
            check_linear(ranges[r][0], ranges[r][1], max);
    sr_rng rng;
    sr_rng_seed(&rng, 42);
    for (int i = 0; i < 3000; i++) {
        double scale = pow(10, sr_rng_uniform(&rng) * 24 - 12);
        double a = (sr_rng_uniform(&rng) * 2 - 1) * scale, b = (sr_rng_uniform(&rng) * 2 - 1) * scale;
        check_linear(a, b, 2 + (size_t)(sr_rng_uniform(&rng) * 10));
    }
}
END_TEST

START_TEST(test_ticks_log)
{
    double t[32];
    size_t n = sr_nice_ticks(1e-5, 1e-1, 10, SR_AXIS_LOG, t, 32);
    ck_assert_uint_eq(n, 5);
    static const double want[] = {1e-5, 1e-4, 1e-3, 1e-2, 1e-1};
    for (size_t i = 0; i < n; i++)
        ck_assert_double_eq(t[i], want[i]);
    /* slightly inside the decades: the powers inside */
    n = sr_nice_ticks(2e-6, 0.3, 10, SR_AXIS_LOG, t, 32);
    ck_assert_uint_eq(n, 5);
    ck_assert_double_eq(t[0], 1e-5);
    ck_assert_double_eq(t[4], 1e-1);
    /* many decades: every d-th power, within the count */
    n = sr_nice_ticks(1e-12, 1e12, 6, SR_AXIS_LOG, t, 32);
    ck_assert_uint_le(n, 6);
    ck_assert_uint_ge(n, 3);
    for (size_t i = 0; i < n; i++) {
        double e = log10(t[i]);
        ck_assert(fabs(e - round(e)) < 1e-9);
        if (i)
            ck_assert(t[i] > t[i - 1]);
    }
    /* a short range: 1, 2 and 5 between */
    n = sr_nice_ticks(2, 60, 10, SR_AXIS_LOG, t, 32);
    static const double short_want[] = {2, 5, 10, 20, 50};
    ck_assert_uint_eq(n, 5);
    for (size_t i = 0; i < n; i++)
        ck_assert_double_eq(t[i], short_want[i]);
    /* within a slice of a decade: plain steps, still 1-2-5 multiples */
    n = sr_nice_ticks(3e-4, 4.5e-4, 6, SR_AXIS_LOG, t, 32);
    ck_assert_uint_ge(n, 2);
    ck_assert(is_125(t[1] - t[0]));
    /* no ticks without a positive range */
    ck_assert_uint_eq(sr_nice_ticks(0, 10, 8, SR_AXIS_LOG, t, 32), 0);
    ck_assert_uint_eq(sr_nice_ticks(-5, -1, 8, SR_AXIS_LOG, t, 32), 0);
    ck_assert_uint_eq(sr_nice_ticks(1e-3, NAN, 8, SR_AXIS_LOG, t, 32), 0);
    ck_assert_uint_eq(sr_nice_ticks(0.01, 0.01, 8, SR_AXIS_LOG, t, 32), 1);
    /* properties over many ranges: increasing, within the count and the range, 1/2/5 mantissas */
    sr_rng rng;
    sr_rng_seed(&rng, 7);
    for (int i = 0; i < 2000; i++) {
        double a = pow(10, sr_rng_uniform(&rng) * 30 - 20), b = a * pow(10, sr_rng_uniform(&rng) * 8);
        size_t max = 2 + (size_t)(sr_rng_uniform(&rng) * 10);
        n = sr_nice_ticks(a, b, max, SR_AXIS_LOG, t, 32);
        ck_assert_msg(n >= 1 && n <= max, "[%g, %g] max %zu: %zu", a, b, max, n);
        for (size_t k = 0; k < n; k++) {
            ck_assert(t[k] > 0);
            ck_assert_msg(t[k] >= a * (1 - 1e-6) - (b - a) && t[k] <= b * (1 + 1e-6) + (b - a), "%g outside [%g, %g]",
                          t[k], a, b);
            if (k)
                ck_assert(t[k] > t[k - 1]);
        }
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Tick text                                                                 */
/* ------------------------------------------------------------------------ */

static const char *fmt1(double v)
{
    static char buf[64];
    sr_format_tick(v, buf, sizeof buf);
    return buf;
}

START_TEST(test_format_tick)
{
    ck_assert_str_eq(fmt1(0), "0");
    ck_assert_str_eq(fmt1(-0.0), "0");
    ck_assert_str_eq(fmt1(0.5), "0.5");
    ck_assert_str_eq(fmt1(-0.25), "-0.25");
    ck_assert_str_eq(fmt1(1e-4), "1e-4");
    ck_assert_str_eq(fmt1(2.5e-5), "2.5e-5");
    ck_assert_str_eq(fmt1(2000), "2000");
    ck_assert_str_eq(fmt1(0.1 + 0.2), "0.3");
    ck_assert_str_eq(fmt1(1e6), "1e6");
    ck_assert_str_eq(fmt1(123456), "1.23e5");
    ck_assert_str_eq(fmt1(-3e-7), "-3e-7");
    ck_assert_str_eq(fmt1(0.001), "0.001");
    ck_assert_str_eq(fmt1(NAN), "nan");
    ck_assert_str_eq(fmt1(-INFINITY), "-inf");
    char small[4];
    sr_format_tick(123.456, small, sizeof small);
    ck_assert_str_eq(small, "123");
    sr_format_tick(1, small, 0); /* no room: nothing written, no crash */
}
END_TEST

static void check_ticks_text(const double *v, size_t n, sr_axis_scale scale, const char *const *want)
{
    char out[16][SR_TICK_TEXT_MAX];
    sr_format_ticks(v, n, scale, out);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(strcmp(out[i], want[i]) == 0, "tick %zu: \"%s\", wanted \"%s\"", i, out[i], want[i]);
}

START_TEST(test_format_ticks)
{
    check_ticks_text((double[]){0, 0.2, 0.4, 0.6, 0.8, 1}, 6, SR_AXIS_LINEAR,
                     (const char *[]){"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"});
    check_ticks_text((double[]){0, 500, 1000}, 3, SR_AXIS_LINEAR, (const char *[]){"0", "500", "1000"});
    check_ticks_text((double[]){-0.02, 0, 0.02}, 3, SR_AXIS_LINEAR, (const char *[]){"-0.02", "0.00", "0.02"});
    check_ticks_text((double[]){1000.1, 1000.2, 1000.3}, 3, SR_AXIS_LINEAR,
                     (const char *[]){"1000.1", "1000.2", "1000.3"});
    check_ticks_text((double[]){0, 2e-5, 4e-5}, 3, SR_AXIS_LINEAR, (const char *[]){"0", "2e-5", "4e-5"});
    check_ticks_text((double[]){1e6, 1.5e6, 2e6}, 3, SR_AXIS_LINEAR, (const char *[]){"1.0e6", "1.5e6", "2.0e6"});
    check_ticks_text((double[]){1e-5, 1e-4, 1e-3, 1e-2}, 4, SR_AXIS_LOG,
                     (const char *[]){"1e-5", "1e-4", "1e-3", "1e-2"});
    check_ticks_text((double[]){0.01, 0.1, 1, 10}, 4, SR_AXIS_LOG, (const char *[]){"0.01", "0.1", "1", "10"});
    check_ticks_text((double[]){2, 5, 10, 20}, 4, SR_AXIS_LOG, (const char *[]){"2", "5", "10", "20"});
    check_ticks_text((double[]){0.5}, 1, SR_AXIS_LINEAR, (const char *[]){"0.5"});
    /* every tick set of the tick tests formats into distinct labels */
    sr_rng rng;
    sr_rng_seed(&rng, 3);
    for (int i = 0; i < 500; i++) {
        double scale = pow(10, sr_rng_uniform(&rng) * 16 - 8);
        double a = (sr_rng_uniform(&rng) * 2 - 1) * scale, b = a + sr_rng_uniform(&rng) * scale;
        double t[16];
        char out[16][SR_TICK_TEXT_MAX];
        size_t n = sr_nice_ticks(a, b, 10, SR_AXIS_LINEAR, t, 16);
        sr_format_ticks(t, n, SR_AXIS_LINEAR, out);
        for (size_t k = 1; k < n; k++)
            ck_assert_msg(strcmp(out[k], out[k - 1]) != 0, "[%g, %g]: \"%s\" twice", a, b, out[k]);
    }
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Model                                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(test_palette)
{
    double rgb[3];
    sr_palette(0, rgb);
    ck_assert(fabs(rgb[0] - 0x00 / 255.0) < 1e-9 && fabs(rgb[1] - 0x72 / 255.0) < 1e-9 &&
              fabs(rgb[2] - 0xB2 / 255.0) < 1e-9);
    double a[3], b[3];
    sr_palette(SR_PALETTE_SIZE + 3, a);
    sr_palette(3, b);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    sr_palette(-1, a);
    sr_palette(SR_PALETTE_SIZE - 1, b);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    /* distinct colours */
    for (int i = 0; i < SR_PALETTE_SIZE; i++)
        for (int j = i + 1; j < SR_PALETTE_SIZE; j++) {
            sr_palette(i, a);
            sr_palette(j, b);
            ck_assert(memcmp(a, b, sizeof a) != 0);
        }
}
END_TEST

START_TEST(test_model)
{
    sr_chart c;
    sr_chart_init(&c, "Loss");
    ck_assert_str_eq(c.title, "Loss");
    for (int i = 0; i < 1000; i++) {
        char name[32];
        snprintf(name, sizeof name, "trial_%04d", i);
        sr_series *s = sr_chart_add_series(&c, name, SR_SERIES_LINE, (size_t)(i % 5));
        ck_assert_uint_eq(s->n, (size_t)(i % 5));
        ck_assert(s->highlighted);
        ck_assert_int_eq(s->color, i % SR_PALETTE_SIZE);
        for (size_t k = 0; k < s->n; k++) {
            ck_assert_double_eq(s->x[k], (double)k);
            ck_assert(isnan(s->y[k]));
        }
        if (s->n > 1)
            sr_series_set_point_title(s, 1, "p1");
        sr_series_set_point_title(s, 99, "out of range: ignored");
    }
    ck_assert_uint_eq(c.n_series, 1000);
    ck_assert_str_eq(c.series[999].name, "trial_0999");
    ck_assert_str_eq(c.series[2].point_titles[1], "p1");
    ck_assert_ptr_null(c.series[2].point_titles[0]);
    sr_chart_add_note(&c, 1, 2, "best", SR_MARK_STAR, 1);
    sr_chart_add_note(&c, 1, 2, NULL, SR_MARK_NONE, 0);
    ck_assert_uint_eq(c.n_notes, 2);
    ck_assert_str_eq(c.notes[0].text, "best");
    sr_chart_set_subtitle(&c, "sub");
    sr_chart_set_subtitle(&c, "sub 2");
    ck_assert_str_eq(c.subtitle, "sub 2");
    sr_axis_set_label(&c.x, "epoch");
    const char *cats[] = {"a", NULL, "c"};
    sr_axis_set_categories(&c.x, cats, 3);
    ck_assert_uint_eq(c.x.n_categories, 3);
    ck_assert_str_eq(c.x.categories[1], "");
    sr_axis_set_categories(&c.x, cats, 1);
    ck_assert_uint_eq(c.x.n_categories, 1);
    sr_axis_set_range(&c.y, 0, 1);
    ck_assert(c.y.has_range);
    sr_chart_parallel_ends(&c, 2, "lo", "hi");
    sr_chart_parallel_ends(&c, 0, NULL, "top");
    sr_chart_parallel_ends(&c, 2, "lo2", NULL);
    ck_assert_uint_eq(c.n_parallel_ends, 3);
    ck_assert_str_eq(c.parallel_lo[2], "lo2");
    ck_assert_ptr_null(c.parallel_hi[2]);
    ck_assert_ptr_null(c.parallel_lo[1]);
    sr_chart_free(&c);
    ck_assert_uint_eq(c.n_series, 0);
    ck_assert_ptr_null(c.title);
    sr_chart_free(&c); /* twice is harmless */
    sr_chart_init(&c, NULL);
    ck_assert_ptr_null(c.title);
    sr_chart_free(&c);
}
END_TEST

START_TEST(test_utf8_clean)
{
    char *s = sr_utf8_clean("ok \xE5\xAD\xA6 \xFF x\xC3 \x01\n\xED\xA0\x80 \xF0\x9F\x98\x80");
    ck_assert_str_eq(s, "ok \xE5\xAD\xA6 \xEF\xBF\xBD x\xEF\xBF\xBD   \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD "
                        "\xF0\x9F\x98\x80");
    free(s);
    s = sr_utf8_clean(NULL);
    ck_assert_str_eq(s, "");
    free(s);
    ck_assert_uint_eq(sr_utf8_next("\xE5\xAD\xA6x", 0), 3);
    ck_assert_uint_eq(sr_utf8_next("", 0), 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Sample charts, one per kind                                               */
/* ------------------------------------------------------------------------ */

enum {
    K_LINES,       /* lines with gaps, faded and highlighted, dashed, markers */
    K_POINTS,
    K_BARS,
    K_LOG_X,
    K_CATEGORICAL, /* categorical x, long labels */
    K_PARALLEL,
    K_NOTES,       /* annotations with stars, text near the edges */
    K_LEGEND,      /* many highlighted series with long and odd names */
    K_EMPTY,       /* no series at all */
    K_ALL_NAN,
    K_SINGLE,      /* one point */
    K_MANY,        /* 500 faded series of 50 points */
    K_CJK,         /* UTF-8 titles and names */
    K_COUNT
};

static const char *const kind_names[K_COUNT] = {"lines", "points", "bars",  "logx",   "categorical", "parallel", "notes",
                                                "legend", "empty", "allnan", "single", "many",        "cjk"};

static void fill_curve(sr_series *s, double a, double b, double noise, sr_rng *rng)
{
    for (size_t i = 0; i < s->n; i++) {
        s->x[i] = (double)(i + 1);
        s->y[i] = a * exp(-b * (double)i) + 0.05 + noise * sr_rng_normal(rng);
    }
}

static void build(sr_chart *c, int kind)
{
    sr_rng rng;
    sr_rng_seed(&rng, 1000 + (uint64_t)kind);
    char name[64];
    switch (kind) {
    case K_LINES: {
        sr_chart_init(c, "Validation loss per epoch");
        sr_chart_set_subtitle(c, "12 trials; the five best highlighted, gaps where an epoch was not evaluated");
        sr_axis_set_label(&c->x, "epoch");
        sr_axis_set_label(&c->y, "loss");
        c->legend = 1;
        for (int t = 0; t < 12; t++) {
            snprintf(name, sizeof name, "trial_%04d", t);
            sr_series *s = sr_chart_add_series(c, name, SR_SERIES_LINE, 20);
            fill_curve(s, 0.8 + 0.05 * t, 0.1 + 0.01 * t, 0.01, &rng);
            s->highlighted = t < 5;
            s->color = t;
            s->dashed = t == 3;
            s->marker = t == 1 ? SR_MARK_CIRCLE : t == 2 ? SR_MARK_SQUARE : SR_MARK_NONE;
            s->y[7] = NAN; /* a gap */
            if (t == 0) {
                s->y[12] = NAN;
                s->y[14] = NAN; /* a lone point at 13 */
                for (size_t i = 0; i < s->n; i++) {
                    char tt[128];
                    snprintf(tt, sizeof tt, "%s epoch %zu: %.4f", name, i + 1, s->y[i]);
                    sr_series_set_point_title(s, i, tt);
                }
            }
        }
        break;
    }
    case K_POINTS: {
        sr_chart_init(c, "Score vs learning rate");
        sr_axis_set_label(&c->x, "learning rate");
        sr_axis_set_label(&c->y, "score");
        c->legend = 1;
        sr_series *f = sr_chart_add_series(c, "all trials", SR_SERIES_POINTS, 60);
        f->highlighted = 0;
        for (size_t i = 0; i < f->n; i++) {
            f->x[i] = sr_rng_uniform(&rng);
            f->y[i] = -3 + 6 * sr_rng_uniform(&rng);
        }
        sr_series *s = sr_chart_add_series(c, "top 5", SR_SERIES_POINTS, 5);
        s->color = 1;
        for (size_t i = 0; i < s->n; i++) {
            s->x[i] = 0.2 + 0.1 * (double)i;
            s->y[i] = 2 + 0.3 * (double)i;
            sr_series_set_point_title(s, i, "top <trial> & \"friends\"");
        }
        sr_series *q = sr_chart_add_series(c, "stars", SR_SERIES_POINTS, 2);
        q->marker = SR_MARK_STAR;
        q->color = 2;
        q->x[0] = 0.15;
        q->y[0] = -2;
        q->x[1] = 0.85;
        q->y[1] = 2.5;
        break;
    }
    case K_BARS: {
        sr_chart_init(c, "Parameter importance");
        sr_chart_set_subtitle(c, "PED-ANOVA");
        sr_axis_set_label(&c->y, "importance");
        const char *cats[] = {"learning_rate", "network_dim", "network_alpha", "batch_size", "optimizer"};
        sr_axis_set_categories(&c->x, cats, 5);
        c->legend = 1;
        sr_series *s = sr_chart_add_series(c, "PED-ANOVA", SR_SERIES_BARS, 5);
        sr_series *s2 = sr_chart_add_series(c, "|Spearman|", SR_SERIES_BARS, 5);
        for (size_t i = 0; i < 5; i++) {
            s->x[i] = s2->x[i] = (double)i;
            s->y[i] = 0.6 / (double)(i + 1);
            s2->y[i] = 0.5 - 0.08 * (double)i;
            char tt[64];
            snprintf(tt, sizeof tt, "%s: %.2f", cats[i], s->y[i]);
            sr_series_set_point_title(s, i, tt);
        }
        s2->color = 2;
        break;
    }
    case K_LOG_X: {
        sr_chart_init(c, "Best score by learning rate");
        sr_axis_set_label(&c->x, "learning rate (log)");
        sr_axis_set_label(&c->y, "best score");
        c->x.scale = SR_AXIS_LOG;
        sr_series *s = sr_chart_add_series(c, "trials", SR_SERIES_POINTS, 40);
        for (size_t i = 0; i < s->n; i++) {
            s->x[i] = pow(10, -6 + 4 * sr_rng_uniform(&rng));
            s->y[i] = 0.5 + 0.1 * sr_rng_normal(&rng);
        }
        s->x[3] = 0;   /* not shown on a log axis */
        s->x[4] = -1e-4;
        sr_series *l = sr_chart_add_series(c, "trend", SR_SERIES_LINE, 5);
        for (size_t i = 0; i < l->n; i++) {
            l->x[i] = pow(10, -6 + (double)i);
            l->y[i] = 0.4 + 0.05 * (double)i;
        }
        l->color = 1;
        l->dashed = 1;
        c->legend = 1;
        break;
    }
    case K_CATEGORICAL: {
        sr_chart_init(c, "Score by optimizer");
        sr_axis_set_label(&c->x, "optimizer");
        sr_axis_set_label(&c->y, "score");
        const char *cats[] = {"AdamW8bit",     "Prodigy",          "Lion",    "DAdaptation",
                              "Adafactor",     "SGDNesterov8bit",  "AdamW",   "a very long optimizer name that must be cut",
                              "PagedAdamW8bit", "CAME"};
        sr_axis_set_categories(&c->x, cats, 10);
        sr_series *s = sr_chart_add_series(c, "trials", SR_SERIES_POINTS, 30);
        for (size_t i = 0; i < s->n; i++) {
            s->x[i] = (double)(i % 10);
            s->y[i] = sr_rng_uniform(&rng);
        }
        break;
    }
    case K_PARALLEL: {
        sr_chart_init(c, "Parallel coordinates");
        sr_chart_set_subtitle(c, "each trial is a line; axes normalised to [0, 1]");
        c->parallel = 1;
        const char *dims[] = {"learning_rate", "network_dim", "network_alpha", "optimizer", "score"};
        sr_axis_set_categories(&c->x, dims, 5);
        sr_chart_parallel_ends(c, 0, "1e-6", "1e-3");
        sr_chart_parallel_ends(c, 1, "4", "128");
        sr_chart_parallel_ends(c, 2, "1", "64");
        sr_chart_parallel_ends(c, 4, "0.12", "0.87");
        c->legend = 1;
        for (int t = 0; t < 30; t++) {
            snprintf(name, sizeof name, "trial_%04d", t);
            sr_series *s = sr_chart_add_series(c, name, SR_SERIES_LINE, 5);
            for (size_t i = 0; i < 5; i++) {
                s->x[i] = (double)i;
                s->y[i] = sr_rng_uniform(&rng);
            }
            s->highlighted = t < 3;
            s->color = t;
        }
        break;
    }
    case K_NOTES: {
        sr_chart_init(c, "Score per epoch");
        sr_axis_set_label(&c->x, "epoch");
        sr_axis_set_label(&c->y, "score");
        sr_series *s = sr_chart_add_series(c, "trial_0004", SR_SERIES_LINE, 10);
        for (size_t i = 0; i < s->n; i++) {
            s->x[i] = (double)(i + 1);
            s->y[i] = 0.3 + 0.5 * (1 - exp(-0.4 * (double)i));
        }
        s->marker = SR_MARK_CIRCLE;
        sr_chart_add_note(c, 6, s->y[5], "best: trial_0004 e6", SR_MARK_STAR, 0);
        sr_chart_add_note(c, 10, s->y[9], "last epoch (right edge)", SR_MARK_CIRCLE, 1);
        sr_chart_add_note(c, 1, s->y[0], "start", SR_MARK_SQUARE, 2);
        sr_chart_add_note(c, 3, NAN, "not shown", SR_MARK_STAR, 3);
        c->legend = 1;
        break;
    }
    case K_LEGEND: {
        sr_chart_init(c, "Many highlighted series");
        c->legend = 1;
        for (int t = 0; t < 40; t++) {
            if (t == 0)
                snprintf(name, sizeof name, "lr=1e-4 <dim> & \"alpha\" 'x'");
            else if (t == 1)
                snprintf(name, sizeof name, "a_rather_long_trial_name_that_will_not_fit_anywhere_%d", t);
            else
                snprintf(name, sizeof name, "trial_%04d", t);
            sr_series *s = sr_chart_add_series(c, name, t % 3 ? SR_SERIES_LINE : SR_SERIES_POINTS, 10);
            fill_curve(s, 1, 0.05 * (t + 1), 0.02, &rng);
        }
        break;
    }
    case K_EMPTY:
        sr_chart_init(c, "Nothing yet");
        c->legend = 1;
        break;
    case K_ALL_NAN: {
        sr_chart_init(c, "All missing");
        c->legend = 1;
        sr_series *s = sr_chart_add_series(c, "nan", SR_SERIES_LINE, 10);
        (void)s;
        sr_chart_add_series(c, "empty", SR_SERIES_POINTS, 0);
        sr_series *b = sr_chart_add_series(c, "bars", SR_SERIES_BARS, 3);
        b->x[1] = NAN;
        break;
    }
    case K_SINGLE: {
        sr_chart_init(c, "One point");
        sr_series *s = sr_chart_add_series(c, "only", SR_SERIES_LINE, 1);
        s->y[0] = 0.42;
        sr_series *b = sr_chart_add_series(c, "bar", SR_SERIES_BARS, 1);
        b->x[0] = 0;
        b->y[0] = 0.2;
        c->legend = 1;
        break;
    }
    case K_MANY: {
        sr_chart_init(c, "500 trials");
        sr_axis_set_label(&c->x, "epoch");
        sr_axis_set_label(&c->y, "loss");
        c->legend = 1;
        for (int t = 0; t < 500; t++) {
            snprintf(name, sizeof name, "trial_%04d", t);
            sr_series *s = sr_chart_add_series(c, name, SR_SERIES_LINE, 50);
            fill_curve(s, 1 + sr_rng_uniform(&rng), 0.02 + 0.1 * sr_rng_uniform(&rng), 0.01, &rng);
            s->highlighted = t % 100 == 0;
            s->color = t / 100;
            for (size_t i = 0; i < s->n; i++) {
                char tt[96];
                snprintf(tt, sizeof tt, "%s epoch %zu", name, i + 1);
                sr_series_set_point_title(s, i, tt);
            }
        }
        break;
    }
    case K_CJK: {
        sr_chart_init(c, "学习率スイープ — naïve Ünïcödé title");
        sr_chart_set_subtitle(c, "サブタイトル: 損失 / épocas");
        sr_axis_set_label(&c->x, "エポック");
        sr_axis_set_label(&c->y, "损失 (loss)");
        c->legend = 1;
        const char *names[] = {"試行_1", "trial ü", "bad \xFF byte"};
        for (int t = 0; t < 3; t++) {
            sr_series *s = sr_chart_add_series(c, names[t], SR_SERIES_LINE, 8);
            fill_curve(s, 1, 0.2 + 0.1 * t, 0.01, &rng);
        }
        sr_chart_add_note(c, 3, c->series[0].y[2], "最良 ★", SR_MARK_STAR, 0);
        break;
    }
    }
}

/* ------------------------------------------------------------------------ */
/* Layout (with a made-up font: every character 0.55 em wide)               */
/* ------------------------------------------------------------------------ */

typedef struct {
    size_t texts, lines, shapes, clips;
} fake_counts;

static size_t nchars(const char *s)
{
    size_t n = 0;
    for (size_t i = 0; s[i]; i = sr_utf8_next(s, i))
        n++;
    return n;
}

static double fk_width(void *ctx, const char *t, double size, int bold)
{
    (void)ctx;
    return 0.55 * size * (double)nchars(t) * (bold ? 1.1 : 1);
}
static void fk_text(void *ctx, double x, double y, double a, sr_text_align al, const char *t, double size, int bold,
                    sr_rgb col)
{
    (void)x, (void)y, (void)a, (void)al, (void)size, (void)bold, (void)col;
    fake_counts *f = ctx;
    ck_assert_ptr_nonnull(t);
    f->texts++;
}
static void fk_poly(void *ctx, const double *xy, size_t n, double w, sr_rgb col, int dashed)
{
    (void)w, (void)col, (void)dashed;
    fake_counts *f = ctx;
    for (size_t i = 0; i < 2 * n; i++)
        ck_assert(isfinite(xy[i]));
    f->lines++;
}
static void fk_polygon(void *ctx, const double *xy, size_t n, const sr_rgb *fill, const sr_rgb *stroke, double w)
{
    (void)fill, (void)stroke, (void)w;
    fake_counts *f = ctx;
    for (size_t i = 0; i < 2 * n; i++)
        ck_assert(isfinite(xy[i]));
    f->shapes++;
}
static void fk_circle(void *ctx, double cx, double cy, double r, const sr_rgb *fill, const sr_rgb *stroke, double w)
{
    (void)fill, (void)stroke, (void)w;
    fake_counts *f = ctx;
    ck_assert(isfinite(cx) && isfinite(cy) && r > 0);
    f->shapes++;
}
static void fk_clip(void *ctx, double x, double y, double w, double h)
{
    (void)x, (void)y, (void)w, (void)h;
    ((fake_counts *)ctx)->clips++;
}
static void fk_unclip(void *ctx)
{
    ((fake_counts *)ctx)->clips--;
}
static int fk_failed(void *ctx)
{
    (void)ctx;
    return 0;
}

static sr_gfx fake_gfx(fake_counts *f)
{
    memset(f, 0, sizeof *f);
    return (sr_gfx){f, fk_width, fk_text, fk_poly, fk_polygon, fk_circle, fk_clip, fk_unclip, fk_failed, 0};
}

/* Numeric tick labels of the x axis never touch each other. */
static void check_x_labels_apart(const sr_layout *L, const sr_gfx *g)
{
    double prev_right = -INFINITY;
    for (size_t i = 0; i < L->x.n_ticks; i++) {
        double p = sr_layout_x(L, L->x.ticks[i]);
        double w = g->text_width(g->ctx, L->x.text[i], L->tick_size, 0);
        ck_assert_msg(p - w / 2 > prev_right, "x tick labels overlap at \"%s\"", L->x.text[i]);
        prev_right = p + w / 2;
    }
}

START_TEST(test_layout_kinds)
{
    static const double sizes[][2] = {{800, 480}, {320, 200}, {1600, 900}, {120, 80}, {40, 40}};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        sr_chart c;
        build(&c, _i);
        fake_counts f;
        sr_gfx g = fake_gfx(&f);
        sr_layout L;
        char err[256];
        double W = sizes[si][0], H = sizes[si][1];
        ck_assert_msg(sr_layout_compute(&L, &c, W, H, &g, err, sizeof err) == 0, "%s: %s", kind_names[_i], err);
        /* the plot area lies inside the chart */
        ck_assert_msg(L.x0 >= 0 && L.x1 <= W && L.x0 < L.x1, "%s %gx%g: plot x %g..%g", kind_names[_i], W, H, L.x0,
                      L.x1);
        ck_assert_msg(L.y0 >= 0 && L.y0 < L.y1, "%s %gx%g: plot y %g..%g", kind_names[_i], W, H, L.y0, L.y1);
        if (W >= 320) {
            ck_assert_msg(L.y1 <= H, "%s %gx%g: plot bottom %g", kind_names[_i], W, H, L.y1);
            check_x_labels_apart(&L, &g);
            /* the y ticks lie inside the plot and do not crowd */
            for (size_t i = 0; i < L.y.n_ticks; i++) {
                double p = sr_layout_y(&L, L.y.ticks[i]);
                ck_assert(p >= L.y0 - 0.5 && p <= L.y1 + 0.5);
                if (i)
                    ck_assert(sr_layout_y(&L, L.y.ticks[i - 1]) - p >= L.tick_size * 1.2);
            }
        }
        /* legend entries: highlighted series only, inside the chart */
        for (size_t i = 0; i < L.n_legend; i++) {
            ck_assert(c.series[L.legend[i].series].highlighted);
            if (W >= 320)
                ck_assert_msg(L.legend[i].x + g.text_width(g.ctx, L.legend[i].text, L.legend_size, 0) <= W + 0.5 &&
                                  L.legend[i].y <= H,
                              "%s: legend entry %zu outside", kind_names[_i], i);
        }
        ck_assert_int_eq(sr_layout_draw(&L, &c, &g), 0);
        ck_assert_uint_eq(f.clips, 0); /* balanced */
        ck_assert_uint_gt(f.texts, 0);
        sr_layout_free(&L);
        sr_chart_free(&c);
    }
}
END_TEST

START_TEST(test_layout_axes)
{
    fake_counts f;
    sr_gfx g = fake_gfx(&f);
    sr_layout L;
    char err[256];
    sr_chart c;

    /* categorical: category i at value i, centred in its slot */
    build(&c, K_CATEGORICAL);
    ck_assert_int_eq(sr_layout_compute(&L, &c, 800, 480, &g, err, sizeof err), 0);
    ck_assert(L.x.categorical);
    ck_assert_double_eq(L.x.lo, -0.5);
    ck_assert_double_eq(L.x.hi, 9.5);
    double cslot = (L.x1 - L.x0) / 10;
    ck_assert(fabs(sr_layout_x(&L, 0) - (L.x0 + cslot / 2)) < 1e-9);
    ck_assert(fabs(sr_layout_x(&L, 9) - (L.x1 - cslot / 2)) < 1e-9);
    /* the long label is cut with an ellipsis */
    ck_assert_ptr_nonnull(strstr(L.x.cat_text[7], "\xE2\x80\xA6"));
    sr_layout_free(&L);
    /* crowded: turned, every k-th */
    ck_assert_int_eq(sr_layout_compute(&L, &c, 320, 200, &g, err, sizeof err), 0);
    ck_assert(L.x.cat_angle > 0);
    sr_layout_free(&L);
    sr_chart_free(&c);

    /* log: values <= 0 are not shown, the range comes from the positive ones */
    build(&c, K_LOG_X);
    ck_assert_int_eq(sr_layout_compute(&L, &c, 800, 480, &g, err, sizeof err), 0);
    ck_assert(L.x.log);
    ck_assert(isnan(sr_layout_x(&L, 0)));
    ck_assert(isnan(sr_layout_x(&L, -1)));
    ck_assert(isnan(sr_layout_x(&L, NAN)));
    ck_assert(L.x.lo > 0 && L.x.lo <= 1e-6 && L.x.hi >= 1e-2);
    for (size_t i = 0; i < L.x.n_ticks; i++) {
        double e = log10(L.x.ticks[i]);
        ck_assert(fabs(e - round(e)) < 1e-9); /* powers of ten */
    }
    double px, py;
    ck_assert(!sr_layout_point(&L, &c.series[0], 3, &px, &py));
    ck_assert(sr_layout_point(&L, &c.series[0], 0, &px, &py));
    ck_assert(px >= L.x0 && px <= L.x1 && py >= L.y0 && py <= L.y1);
    sr_layout_free(&L);
    sr_chart_free(&c);

    /* given range: used as is; a log range from <= 0 falls back to the data */
    sr_chart_init(&c, "range");
    sr_series *s = sr_chart_add_series(&c, "s", SR_SERIES_LINE, 3);
    s->y[0] = 5;
    s->y[1] = 50;
    s->y[2] = 500;
    sr_axis_set_range(&c.y, 0, 1000);
    ck_assert_int_eq(sr_layout_compute(&L, &c, 800, 480, &g, err, sizeof err), 0);
    ck_assert_double_eq(L.y.lo, 0);
    ck_assert_double_eq(L.y.hi, 1000);
    ck_assert(fabs(sr_layout_y(&L, 0) - L.y1) < 1e-9 && fabs(sr_layout_y(&L, 1000) - L.y0) < 1e-9);
    sr_layout_free(&L);
    c.y.scale = SR_AXIS_LOG;
    ck_assert_int_eq(sr_layout_compute(&L, &c, 800, 480, &g, err, sizeof err), 0);
    ck_assert_double_eq(L.y.lo, 5);
    ck_assert_double_eq(L.y.hi, 1000);
    sr_layout_free(&L);
    /* no range: from the data with a margin */
    c.y.has_range = 0;
    c.y.scale = SR_AXIS_LINEAR;
    ck_assert_int_eq(sr_layout_compute(&L, &c, 800, 480, &g, err, sizeof err), 0);
    ck_assert(L.y.lo < 5 && L.y.lo > -50 && L.y.hi > 500 && L.y.hi < 560);
    sr_layout_free(&L);
    sr_chart_free(&c);

    /* bars start at zero */
    build(&c, K_BARS);
    ck_assert_int_eq(sr_layout_compute(&L, &c, 800, 480, &g, err, sizeof err), 0);
    ck_assert_double_eq(L.y.lo, 0);
    ck_assert_uint_eq(L.n_bar_groups, 2);
    double bx, by, bw, bh, bx2, by2, bw2, bh2;
    ck_assert(sr_layout_bar(&L, &c, 0, 0, &bx, &by, &bw, &bh));
    ck_assert(sr_layout_bar(&L, &c, 1, 0, &bx2, &by2, &bw2, &bh2));
    ck_assert(bx + bw <= bx2 + 1e-9);         /* side by side */
    ck_assert(fabs(by + bh - L.y1) < 1e-9);   /* down to the axis */
    sr_layout_free(&L);
    sr_chart_free(&c);

    /* parallel: one axis per dimension, spread over the plot */
    build(&c, K_PARALLEL);
    ck_assert_int_eq(sr_layout_compute(&L, &c, 800, 480, &g, err, sizeof err), 0);
    ck_assert_uint_eq(L.n_axes, 5);
    ck_assert(fabs(sr_layout_x(&L, 0) - L.x0) < 1e-9 && fabs(sr_layout_x(&L, 4) - L.x1) < 1e-9);
    ck_assert(fabs(sr_layout_y(&L, 0) - L.y1) < 1e-9 && fabs(sr_layout_y(&L, 1) - L.y0) < 1e-9);
    ck_assert_uint_eq(L.n_legend, 3);
    sr_layout_free(&L);
    sr_chart_free(&c);

    /* categories on y, and very many on x: thinned out, never crowded */
    sr_chart_init(&c, "categories");
    const char *ycats[] = {"low", "medium", "high"};
    sr_axis_set_categories(&c.y, ycats, 3);
    char **many = xcalloc(300, sizeof *many);
    for (size_t i = 0; i < 300; i++)
        many[i] = xasprintf("checkpoint-%03zu", i);
    sr_axis_set_categories(&c.x, (const char *const *)many, 300);
    sr_series *p = sr_chart_add_series(&c, "p", SR_SERIES_POINTS, 300);
    for (size_t i = 0; i < 300; i++) {
        p->x[i] = (double)i;
        p->y[i] = (double)(i % 3);
        free(many[i]);
    }
    free(many);
    ck_assert_int_eq(sr_layout_compute(&L, &c, 800, 480, &g, err, sizeof err), 0);
    ck_assert(L.y.categorical && L.x.categorical);
    ck_assert_double_eq(L.y.lo, -0.5);
    ck_assert(sr_layout_y(&L, 0) > sr_layout_y(&L, 2)); /* first category at the bottom */
    ck_assert_uint_eq(L.y.cat_every, 1);
    ck_assert_uint_gt(L.x.cat_every, 1);
    double slot = (L.x1 - L.x0) / 300 * (double)L.x.cat_every;
    ck_assert(slot * 0.7071 >= L.tick_size); /* turned labels stay apart */
    ck_assert_int_eq(sr_layout_draw(&L, &c, &g), 0);
    sr_layout_free(&L);
    char *svg = sr_chart_svg(&c, 800, 480, err, sizeof err);
    ck_assert_msg(svg != NULL, "%s", err);
    free(svg);
    sr_chart_free(&c);

    /* legend overflow is counted */
    build(&c, K_LEGEND);
    ck_assert_int_eq(sr_layout_compute(&L, &c, 800, 480, &g, err, sizeof err), 0);
    ck_assert_uint_lt(L.n_legend, 40);
    ck_assert_ptr_nonnull(strstr(L.more, "more"));
    sr_layout_free(&L);
    sr_chart_free(&c);
}
END_TEST

/* An integer axis (epochs) has no tick between two whole numbers, whatever
 * its span; the same data on a plain axis does get such ticks. */
/* A note's text box is put where it hides no data: beside the first point
 * of a short line, with the next point level with it to the right, the box
 * leaves that point and the segment to it clear. */
typedef struct {
    double x, y, size;
    int found;
} note_text;

static void nt_text(void *ctx, double x, double y, double a, sr_text_align al, const char *t, double size, int bold,
                    sr_rgb col)
{
    (void)a, (void)al, (void)bold, (void)col;
    note_text *n = ctx;
    if (strcmp(t, "best of trial") == 0)
        *n = (note_text){x, y, size, 1};
}

START_TEST(test_note_clear_of_data)
{
    sr_chart c;
    sr_chart_init(&c, "trial_0003: score");
    sr_series *s = sr_chart_add_series(&c, "trial_0003", SR_SERIES_LINE, 2);
    s->x[0] = 2, s->y[0] = 0.2109, s->x[1] = 4, s->y[1] = 0.2164;
    s->marker = SR_MARK_CIRCLE;
    sr_series *far = sr_chart_add_series(&c, "range", SR_SERIES_POINTS, 2); /* the axes of the sweep */
    far->x[0] = 10, far->y[0] = 0.14, far->x[1] = 10, far->y[1] = 0.30;
    sr_chart_add_note(&c, 2, 0.2109, "best of trial", SR_MARK_CIRCLE, 0);
    fake_counts f;
    sr_gfx g = fake_gfx(&f);
    note_text nt = {0};
    g.ctx = &nt;
    g.text = nt_text;
    sr_layout L;
    char err[256];
    ck_assert_msg(sr_layout_compute(&L, &c, 480, 300, &g, err, sizeof err) == 0, "%s", err);
    g.ctx = &f;
    g.text = fk_text;
    sr_layout_draw(&L, &c, &g); /* the counts' gfx for everything but the note */
    g.ctx = &nt;
    g.text = nt_text;
    ck_assert_int_eq(sr_layout_draw(&L, &c, &g), 0);
    ck_assert(nt.found);
    double w = fk_width(NULL, "best of trial", nt.size, 0);
    double bx0 = nt.x - 4, bx1 = nt.x + w + 4, by0 = nt.y - nt.size - 4, by1 = nt.y + 0.3 * nt.size + 4;
    for (int k = 0; k <= 8; k++) { /* the second point and the segment to it */
        double t = 0.25 + 0.75 * k / 8.0;
        double px = sr_layout_x(&L, 2 + 2 * t), py = sr_layout_y(&L, 0.2109 + (0.2164 - 0.2109) * t);
        ck_assert_msg(!(px > bx0 && px < bx1 && py > by0 && py < by1),
                      "the note's box %.0f..%.0f x %.0f..%.0f hides the line at %.0f,%.0f", bx0, bx1, by0, by1, px, py);
    }
    sr_layout_free(&L);
    sr_chart_free(&c);
}
END_TEST

/* The end texts of parallel axes never run into each other: where
 * neighbours' would meet, every other axis has its ends one line further
 * out. */
typedef struct {
    double x0, x1, y;
    int n;
} text_box;

typedef struct {
    text_box t[256];
    size_t n;
    double size; /* the ends' size */
} text_boxes;

static void tb_text(void *ctx, double x, double y, double a, sr_text_align al, const char *t, double size, int bold,
                    sr_rgb col)
{
    (void)bold, (void)col;
    text_boxes *b = ctx;
    if (a != 0 || al != SR_TEXT_CENTER || fabs(size - b->size) > 1e-9 || b->n == 256)
        return;
    double w = fk_width(NULL, t, size, 0);
    b->t[b->n++] = (text_box){x - w / 2, x + w / 2, y, 0};
}

START_TEST(test_parallel_ends_apart)
{
    sr_chart c;
    sr_chart_init(&c, "Parallel coordinates");
    c.parallel = 1;
    const char *dims[] = {"text_encoder_lr", "accumulation", "learning_rate", "alpha", "lr_scheduler", "optimizer",
                          "score"};
    sr_axis_set_categories(&c.x, dims, 7);
    const char *lo[] = {"6.838e-06", "1", "2.557e-05", "2", "constant", "AdamW8bit", "0.1444"};
    const char *hi[] = {"8.695e-05", "2", "0.0006342", "4", "cosine_with_restarts", "Prodigy", "0.2357"};
    for (size_t i = 0; i < 7; i++)
        sr_chart_parallel_ends(&c, i, lo[i], hi[i]);
    sr_series *s = sr_chart_add_series(&c, "trial_0001", SR_SERIES_LINE, 7);
    for (size_t i = 0; i < 7; i++)
        s->x[i] = (double)i, s->y[i] = 0.1 * (double)i;
    const double widths[] = {900, 560, 420};
    for (size_t k = 0; k < 3; k++) {
        fake_counts f;
        sr_gfx g = fake_gfx(&f);
        sr_layout L;
        char err[256];
        ck_assert_msg(sr_layout_compute(&L, &c, widths[k], 300, &g, err, sizeof err) == 0, "%s", err);
        text_boxes b = {.n = 0, .size = L.tick_size * 0.9};
        g.ctx = &b;
        g.text = tb_text;
        ck_assert_int_eq(sr_layout_draw(&L, &c, &g), 0);
        ck_assert_uint_eq(b.n, 14);
        for (size_t i = 0; i < b.n; i++)
            for (size_t j = i + 1; j < b.n; j++)
                if (fabs(b.t[i].y - b.t[j].y) < b.size)
                    ck_assert_msg(b.t[i].x1 <= b.t[j].x0 || b.t[j].x1 <= b.t[i].x0,
                                  "at width %g, two end texts meet: %.0f..%.0f and %.0f..%.0f at y %.0f", widths[k],
                                  b.t[i].x0, b.t[i].x1, b.t[j].x0, b.t[j].x1, b.t[i].y);
        ck_assert_msg(k > 0 || L.par_rows == 1, "a wide chart keeps its ends on one line");
        sr_layout_free(&L);
    }
    sr_chart_free(&c);
}
END_TEST

/* A subtitle too long for one line goes on two, whole, rather than cut. */
typedef struct {
    char text[4][256];
    size_t n;
    double size;
} soft_texts;

static void st_text(void *ctx, double x, double y, double a, sr_text_align al, const char *t, double size, int bold,
                    sr_rgb col)
{
    (void)x, (void)y, (void)a, (void)al, (void)bold, (void)col;
    soft_texts *s = ctx;
    if (fabs(size - s->size) < 1e-9 && s->n < 4)
        snprintf(s->text[s->n++], sizeof s->text[0], "%s", t);
}

START_TEST(test_subtitle_on_two_lines)
{
    static const char sub[] = "absolute Spearman correlation with each trial's best score; 3 parameters the trials "
                              "all share left out";
    sr_chart c;
    sr_chart_init(&c, "Parameter importance");
    sr_chart_set_subtitle(&c, sub);
    sr_series *s = sr_chart_add_series(&c, "x", SR_SERIES_LINE, 2);
    s->x[0] = 0, s->y[0] = 0, s->x[1] = 1, s->y[1] = 1;
    fake_counts f;
    sr_gfx g = fake_gfx(&f);
    sr_layout L;
    char err[256];
    ck_assert_msg(sr_layout_compute(&L, &c, 480, 300, &g, err, sizeof err) == 0, "%s", err);
    soft_texts t = {.n = 0, .size = L.subtitle_size};
    g.ctx = &t;
    g.text = st_text;
    ck_assert_int_eq(sr_layout_draw(&L, &c, &g), 0);
    ck_assert_uint_eq(t.n, 2);
    char joined[600];
    snprintf(joined, sizeof joined, "%s %s", t.text[0], t.text[1]);
    ck_assert_str_eq(joined, sub);
    for (int k = 0; k < 2; k++)
        ck_assert(fk_width(NULL, t.text[k], L.subtitle_size, 0) <= 480);
    sr_layout_free(&L);
    sr_chart_free(&c);
}
END_TEST

START_TEST(test_layout_integer_axis)
{
    fake_counts f;
    sr_gfx g = fake_gfx(&f);
    sr_layout L;
    char err[256];
    static const double spans[][2] = {{2, 3}, {1, 4}, {1, 1}, {2, 10}, {0, 40}};
    for (size_t k = 0; k < sizeof spans / sizeof spans[0]; k++) {
        sr_chart c;
        sr_chart_init(&c, "epochs");
        sr_series *s = sr_chart_add_series(&c, "s", SR_SERIES_LINE, 2);
        s->x[0] = spans[k][0];
        s->x[1] = spans[k][1];
        s->y[0] = 0.1;
        s->y[1] = 0.2;
        int fractional_plain = 0;
        for (int integer = 0; integer < 2; integer++) {
            c.x.integer = integer;
            ck_assert_int_eq(sr_layout_compute(&L, &c, 480, 300, &g, err, sizeof err), 0);
            size_t whole = 0;
            for (size_t i = 0; i < L.x.n_ticks; i++) {
                int frac = L.x.ticks[i] != floor(L.x.ticks[i]);
                if (integer)
                    ck_assert_msg(!frac, "span %g..%g: tick %g", spans[k][0], spans[k][1], L.x.ticks[i]);
                fractional_plain |= !integer && frac;
                whole += !frac && L.x.ticks[i] >= spans[k][0] && L.x.ticks[i] <= spans[k][1];
            }
            if (integer) /* every epoch of a short span is marked */
                ck_assert_uint_ge(whole, spans[k][1] - spans[k][0] < 5 ? spans[k][1] - spans[k][0] + 1 : 2);
            sr_layout_free(&L);
        }
        if (spans[k][1] - spans[k][0] < 2)
            ck_assert_msg(fractional_plain, "span %g..%g: the plain axis was integer anyway", spans[k][0], spans[k][1]);
        sr_chart_free(&c);
    }
}
END_TEST

START_TEST(test_bad_input)
{
    char err[256];
    fake_counts f;
    sr_gfx g = fake_gfx(&f);
    sr_layout L;
    ck_assert_int_eq(sr_layout_compute(&L, NULL, 800, 480, &g, err, sizeof err), -1);
    sr_layout_free(&L);
    ck_assert_ptr_null(sr_chart_svg(NULL, 800, 480, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "no chart"));

    sr_chart c;
    build(&c, K_LINES);
    ck_assert_ptr_null(sr_chart_svg(&c, 0, 480, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "size"));
    ck_assert_ptr_null(sr_chart_svg(&c, NAN, 480, err, sizeof err));
    ck_assert_int_eq(sr_chart_png(&c, 800, -1, "/tmp/never.png", err, sizeof err), -1);
    ck_assert_int_eq(sr_chart_png(&c, 800, 480, NULL, err, sizeof err), -1);
    ck_assert_int_eq(sr_chart_png(&c, 800, 480, "/nonexistent-dir/x/chart.png", err, sizeof err), -2); /* cannot be written */
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/x/chart.png"));
    ck_assert_int_eq(sr_chart_pdf(&c, NULL, NULL, 0, 0, 400, 300, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "page"));

    /* a series claiming points without values */
    double *y = c.series[2].y;
    c.series[2].y = NULL;
    ck_assert_ptr_null(sr_chart_svg(&c, 800, 480, err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "trial_0002"));
    c.series[2].y = y;
    /* no x values: the index is used */
    double *x = c.series[2].x;
    c.series[2].x = NULL;
    char *svg = sr_chart_svg(&c, 800, 480, err, sizeof err);
    ck_assert_msg(svg != NULL, "%s", err);
    free(svg);
    c.series[2].x = x;
    /* categories claimed but missing */
    c.x.n_categories = 3;
    ck_assert_ptr_null(sr_chart_svg(&c, 800, 480, err, sizeof err));
    c.x.n_categories = 0;
    /* extreme values do not break the drawing */
    c.series[0].y[0] = 1e300;
    c.series[0].y[1] = -1e300;
    c.series[1].y[3] = INFINITY;
    svg = sr_chart_svg(&c, 800, 480, err, sizeof err);
    ck_assert_msg(svg != NULL, "%s", err);
    free(svg);
    sr_chart_free(&c);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* SVG                                                                       */
/* ------------------------------------------------------------------------ */

static void xml_escaped(sr_buf *b, const char *s)
{
    char *t = sr_utf8_clean(s);
    for (const char *p = t; *p; p++)
        switch (*p) {
        case '&': sr_buf_puts(b, "&amp;"); break;
        case '<': sr_buf_puts(b, "&lt;"); break;
        case '>': sr_buf_puts(b, "&gt;"); break;
        case '"': sr_buf_puts(b, "&quot;"); break;
        case '\'': sr_buf_puts(b, "&apos;"); break;
        default: sr_buf_append(b, p, 1);
        }
    free(t);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The SVG parses as XML and its overlay holds one group per series, named
 * as the chart names them (cleaned UTF-8). */
/* The system Python (make check passes the one configure found). */
static const char *python(void)
{
    const char *p = getenv("SR_PYTHON");
    return p && *p ? p : PY;
}

static void check_svg_xml(const char *svg, const sr_chart *c, const char *dir, const char *tag)
{
    if (access(python(), X_OK) != 0)
        return; /* no Python: the C checks alone */
    char *svg_path = xasprintf("%s/%s.svg", dir, tag), *names_path = xasprintf("%s/%s.names", dir, tag);
    FILE *fp = fopen(svg_path, "wb");
    ck_assert_ptr_nonnull(fp);
    fputs(svg, fp);
    fclose(fp);
    fp = fopen(names_path, "wb");
    ck_assert_ptr_nonnull(fp);
    /* faded first, as the overlay puts them */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < c->n_series; i++)
            if ((c->series[i].highlighted != 0) == pass) {
                char *t = sr_utf8_clean(c->series[i].name);
                fprintf(fp, "%s\n", t);
                free(t);
            }
    fclose(fp);
    char *cmd = xasprintf("'%s' -c '"
                          "import sys, xml.etree.ElementTree as E\n"
                          "t = E.parse(sys.argv[1])\n"
                          "ns = \"{http://www.w3.org/2000/svg}\"\n"
                          "assert t.getroot().tag == ns + \"svg\", t.getroot().tag\n"
                          "g = [e for e in t.iter(ns + \"g\") if e.get(\"class\") == \"series\"]\n"
                          "names = [e.get(\"data-name\") for e in g]\n"
                          "want = open(sys.argv[2], encoding=\"utf-8\").read().split(\"\\n\")[:-1]\n"
                          "assert names == want, (names[:5], want[:5])\n"
                          "assert all(e.find(ns + \"title\").text == e.get(\"data-name\") or not e.get(\"data-name\") "
                          "for e in g)\n"
                          "' '%s' '%s'",
                          python(), svg_path, names_path);
    int rc = system(cmd);
    ck_assert_msg(rc == 0, "%s: the SVG does not parse or lacks its series (%s)", tag, svg_path);
    free(cmd);
    unlink(svg_path);
    unlink(names_path);
    free(svg_path);
    free(names_path);
}

START_TEST(test_svg_kinds)
{
    sr_chart c;
    build(&c, _i);
    char err[256];
    char *svg = sr_chart_svg(&c, 800, 480, err, sizeof err);
    ck_assert_msg(svg != NULL, "%s: %s", kind_names[_i], err);
    ck_assert_ptr_nonnull(strstr(svg, "<svg"));
    size_t len = strlen(svg);
    ck_assert(len > 7 && strstr(svg + len - 8, "</svg>"));
    /* one overlay group per series, each name escaped */
    ck_assert_uint_eq(count(svg, "<g class=\"series\""), c.n_series);
    for (size_t i = 0; i < c.n_series; i++) {
        sr_buf b;
        sr_buf_init(&b);
        sr_buf_puts(&b, "data-name=\"");
        xml_escaped(&b, c.series[i].name);
        sr_buf_puts(&b, "\"><title>");
        xml_escaped(&b, c.series[i].name);
        sr_buf_puts(&b, "</title>");
        ck_assert_msg(strstr(svg, b.s) != NULL, "%s: no %s", kind_names[_i], b.s);
        sr_buf_free(&b);
    }
    /* point titles are hover titles (of the highlighted series only in big charts) */
    for (size_t i = 0; i < c.n_series; i++)
        for (size_t k = 0; c.series[i].point_titles && k < c.series[i].n && (c.n_series < 50 || c.series[i].highlighted);
             k++)
            if (c.series[i].point_titles[k] && !isnan(c.series[i].y[k])) {
                sr_buf b;
                sr_buf_init(&b);
                sr_buf_puts(&b, "<title>");
                xml_escaped(&b, c.series[i].point_titles[k]);
                sr_buf_puts(&b, "</title>");
                ck_assert_msg(strstr(svg, b.s) != NULL, "%s: no %s", kind_names[_i], b.s);
                sr_buf_free(&b);
            }
    ck_assert_ptr_null(strstr(svg, "\"glyph0-")); /* ids carry the chart's prefix */
    char *dir = test_tmpdir("chart-svg");
    check_svg_xml(svg, &c, dir, kind_names[_i]);
    test_rmtree(dir);
    free(dir);
    free(svg);
    sr_chart_free(&c);
}
END_TEST

/* A chart's SVG is the same bytes whatever was drawn before it in the
 * process, and when charts are drawn by several threads at once (cairo's
 * own surface names count every surface the process made). */
START_TEST(test_svg_same_bytes)
{
    sr_chart c;
    build(&c, _i);
    char err[256];
    char *first = sr_chart_svg(&c, 800, 480, err, sizeof err);
    ck_assert_msg(first != NULL, "%s: %s", kind_names[_i], err);
    char *dir = test_tmpdir("chart-same");
    char *png = sr_path_join(dir, "between.png");
    ck_assert_msg(sr_chart_png(&c, 320, 200, png, err, sizeof err) == 0, "%s", err);
    free(sr_chart_svg(&c, 400, 300, err, sizeof err));
    char *again = sr_chart_svg(&c, 800, 480, err, sizeof err);
    ck_assert_msg(again && strcmp(first, again) == 0, "%s: the SVG changed after other drawing", kind_names[_i]);
    free(again);
    enum { N = 8 };
    char *par[N] = {0};
#ifdef _OPENMP
#pragma omp parallel for num_threads(4) schedule(dynamic, 1)
#endif
    for (int k = 0; k < N; k++) {
        char e[256];
        par[k] = sr_chart_svg(&c, 800, 480, e, sizeof e);
    }
    for (int k = 0; k < N; k++) {
        ck_assert_msg(par[k] && strcmp(first, par[k]) == 0, "%s: drawing %d of %d in parallel differs",
                      kind_names[_i], k + 1, N);
        free(par[k]);
    }
    test_rmtree(dir);
    free(dir);
    free(png);
    free(first);
    sr_chart_free(&c);
}
END_TEST

/* The hover targets lie in the order the lines are drawn: faded, then
 * highlighted, then the emphasised one on top. */
START_TEST(test_svg_hover_order)
{
    sr_chart c;
    sr_chart_init(&c, "order");
    const char *names[] = {"first-emphasised", "second", "third-faded"};
    for (size_t i = 0; i < 3; i++) {
        sr_series *s = sr_chart_add_series(&c, names[i], SR_SERIES_LINE, 3);
        for (size_t k = 0; k < 3; k++)
            s->y[k] = (double)(k + i);
        s->highlighted = i < 2;
        s->emphasis = i == 0;
        char t[64];
        snprintf(t, sizeof t, "title of %s", names[i]);
        sr_series_set_point_title(s, 1, t);
    }
    char err[256];
    char *svg = sr_chart_svg(&c, 640, 400, err, sizeof err);
    ck_assert_msg(svg != NULL, "%s", err);
    const char *hover = strstr(svg, "class=\"hover\"");
    ck_assert_ptr_nonnull(hover);
    const char *faded = strstr(hover, "title of third-faded"), *second = strstr(hover, "title of second"),
               *top = strstr(hover, "title of first-emphasised");
    ck_assert(faded && second && top);
    ck_assert(faded < second && second < top);
    free(svg);
    sr_chart_free(&c);
}
END_TEST

START_TEST(test_svg_names_escaped)
{
    sr_chart c;
    sr_chart_init(&c, "Names <&> \"quoted\"");
    const char *names[] = {"a<b", "x & y", "\"q\" 'a'", "学习率", "bad\xFF\xFE", "tab\there", ""};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        sr_series *s = sr_chart_add_series(&c, names[i], SR_SERIES_LINE, 3);
        for (size_t k = 0; k < 3; k++)
            s->y[k] = (double)(k + i);
        sr_series_set_point_title(s, 1, "p <1> & \"2\"");
    }
    sr_chart_add_series(&c, NULL, SR_SERIES_POINTS, 2); /* unnamed */
    c.legend = 1;
    char err[256];
    char *svg = sr_chart_svg(&c, 640, 400, err, sizeof err);
    ck_assert_msg(svg != NULL, "%s", err);
    ck_assert_ptr_nonnull(strstr(svg, "data-name=\"a&lt;b\""));
    ck_assert_ptr_nonnull(strstr(svg, "data-name=\"x &amp; y\""));
    ck_assert_ptr_nonnull(strstr(svg, "data-name=\"&quot;q&quot; &apos;a&apos;\""));
    ck_assert_ptr_nonnull(strstr(svg, "data-name=\"学习率\""));
    ck_assert_ptr_nonnull(strstr(svg, "data-name=\"bad\xEF\xBF\xBD\xEF\xBF\xBD\""));
    ck_assert_ptr_nonnull(strstr(svg, "data-name=\"tab here\""));
    ck_assert_ptr_nonnull(strstr(svg, "aria-label=\"Names &lt;&amp;&gt; &quot;quoted&quot;\""));
    ck_assert_ptr_nonnull(strstr(svg, "<title>p &lt;1&gt; &amp; &quot;2&quot;</title>"));
    ck_assert_uint_eq(count(svg, "<g class=\"series\""), c.n_series);
    char *dir = test_tmpdir("chart-names");
    check_svg_xml(svg, &c, dir, "names");
    test_rmtree(dir);
    free(dir);
    free(svg);
    sr_chart_free(&c);
}
END_TEST

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

START_TEST(test_many_series_fast)
{
    char err[256];
    sr_chart warm;
    build(&warm, K_SINGLE); /* fonts load once */
    free(sr_chart_svg(&warm, 200, 100, err, sizeof err));
    sr_chart_free(&warm);

    sr_chart c;
    build(&c, K_MANY);
    double t0 = now();
    char *svg = sr_chart_svg(&c, 800, 480, err, sizeof err);
    double t_svg = now() - t0;
    ck_assert_msg(svg != NULL, "%s", err);
    free(svg);
    char *dir = test_tmpdir("chart-many");
    char *png = xasprintf("%s/many.png", dir);
    t0 = now();
    ck_assert_msg(sr_chart_png(&c, 800, 480, png, err, sizeof err) == 0, "%s", err);
    double t_png = now() - t0;
    printf("# 500 series x 50 points: SVG %.3f s, PNG %.3f s\n", t_svg, t_png);
    ck_assert_msg(t_svg < 1.0 && t_png < 1.0, "too slow: SVG %.3f s, PNG %.3f s", t_svg, t_png);
    test_rmtree(dir);
    free(png);
    free(dir);
    sr_chart_free(&c);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* PNG                                                                       */
/* ------------------------------------------------------------------------ */

static void samples_dir_png(const sr_chart *c, const char *tag)
{
    const char *dir = getenv("SR_CHART_SAMPLES");
    if (!dir || !*dir)
        return;
    char err[256];
    sr_mkdir_p(dir, 0755);
    char *p = xasprintf("%s/%s.png", dir, tag);
    ck_assert_msg(sr_chart_png(c, 800, 480, p, err, sizeof err) == 0, "%s", err);
    free(p);
    p = xasprintf("%s/%s-small.png", dir, tag);
    ck_assert_msg(sr_chart_png(c, 360, 220, p, err, sizeof err) == 0, "%s", err);
    free(p);
    char *svg = sr_chart_svg(c, 800, 480, err, sizeof err);
    if (svg) {
        p = xasprintf("%s/%s.svg", dir, tag);
        sr_write_file_atomic(p, svg, strlen(svg), SR_ATOMIC_REPLACE);
        free(p);
        free(svg);
    }
}

/* A chart that cannot be drawn and a file that cannot be written fail
 * apart: the first is the chart's problem, the second the report's. */
START_TEST(test_png_failures_told_apart)
{
    sr_chart c;
    build(&c, K_LINES);
    char err[512];
    char *d = test_tmpdir("png-fail");
    char *missing = sr_path_join(d, "no/such/folder/chart.png");
    ck_assert_int_eq(sr_chart_png(&c, 320, 200, missing, err, sizeof err), -2);
    ck_assert_msg(strstr(err, "No such file or directory") != NULL, "%s", err);
    char *ok = sr_path_join(d, "chart.png");
    ck_assert_int_eq(sr_chart_png(&c, 0, 200, ok, err, sizeof err), -1); /* no size to draw in */
    free(ok);
    free(missing);
    test_rmtree(d);
    free(d);
    sr_chart_free(&c);
}
END_TEST

START_TEST(test_png_kinds)
{
    sr_chart c;
    build(&c, _i);
    char *dir = test_tmpdir("chart-png");
    char *path = xasprintf("%s/%s.png", dir, kind_names[_i]);
    char err[256];
    static const int sizes[][2] = {{800, 480}, {333, 211}};
    for (size_t k = 0; k < 2; k++) {
        int w = sizes[k][0], h = sizes[k][1];
        ck_assert_msg(sr_chart_png(&c, w, h, path, err, sizeof err) == 0, "%s: %s", kind_names[_i], err);
        cairo_surface_t *img = cairo_image_surface_create_from_png(path);
        ck_assert_msg(cairo_surface_status(img) == CAIRO_STATUS_SUCCESS, "%s: not a PNG", kind_names[_i]);
        ck_assert_int_eq(cairo_image_surface_get_width(img), w);
        ck_assert_int_eq(cairo_image_surface_get_height(img), h);
        /* something is drawn: a fair share of non-white pixels, white corners */
        cairo_surface_flush(img);
        const unsigned char *px = cairo_image_surface_get_data(img);
        int stride = cairo_image_surface_get_stride(img);
        size_t ink = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                uint32_t v = *(const uint32_t *)(px + (size_t)y * (size_t)stride + 4 * (size_t)x);
                if ((v & 0xFFFFFF) != 0xFFFFFF)
                    ink++;
            }
        ck_assert_msg(ink > 200, "%s: only %zu pixels drawn", kind_names[_i], ink);
        ck_assert_uint_eq(*(const uint32_t *)px & 0xFFFFFF, 0xFFFFFF);
        cairo_surface_destroy(img);
    }
    /* no temporary files are left beside it */
    char *cmd = xasprintf("test $(ls -A '%s' | wc -l) -eq 1", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    samples_dir_png(&c, kind_names[_i]);
    test_rmtree(dir);
    free(path);
    free(dir);
    sr_chart_free(&c);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* PDF                                                                       */
/* ------------------------------------------------------------------------ */

typedef struct {
    int errors;
    unsigned long last;
} pdf_errors;

static void pdf_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *user)
{
    (void)detail_no;
    pdf_errors *e = user;
    e->errors++;
    e->last = (unsigned long)error_no;
}

/* A document with a font: DejaVu Sans as UTF-8 when it is there, else
 * Helvetica (not UTF-8). */
static HPDF_Doc pdf_doc(pdf_errors *e, int utf8, HPDF_Font *font)
{
    memset(e, 0, sizeof *e);
    HPDF_Doc doc = HPDF_New(pdf_error, e);
    ck_assert_ptr_nonnull(doc);
    if (utf8) {
        HPDF_UseUTFEncodings(doc);
        const char *name = HPDF_LoadTTFontFromFile(doc, DEJAVU, HPDF_TRUE);
        ck_assert_ptr_nonnull(name);
        *font = HPDF_GetFont(doc, name, "UTF-8");
    } else {
        *font = HPDF_GetFont(doc, "Helvetica", "WinAnsiEncoding");
    }
    ck_assert_ptr_nonnull(*font);
    return doc;
}

static void check_pdf_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    char head[5] = {0};
    ck_assert_uint_eq(fread(head, 1, 4, fp), 4);
    fclose(fp);
    ck_assert_str_eq(head, "%PDF");
    if (system("command -v pdftoppm >/dev/null 2>&1") == 0) {
        /* (libharu's ToUnicode maps draw a harmless warning from poppler) */
        char *cmd = xasprintf("pdftoppm -png -r 50 '%s' '%s.page' >/dev/null 2>&1", path, path);
        ck_assert_msg(system(cmd) == 0, "pdftoppm cannot read %s", path);
        free(cmd);
        char *png = xasprintf("%s.page-1.png", path);
        struct stat st;
        if (stat(png, &st) != 0) { /* single pages may be numbered with leading zeros */
            free(png);
            png = xasprintf("%s.page-01.png", path);
        }
        ck_assert_msg(stat(png, &st) == 0 && st.st_size > 0, "no page image from pdftoppm");
        free(png);
    }
}

static void pdf_kinds(int kind, int utf8)
{
    if (utf8 && access(DEJAVU, R_OK) != 0)
        return; /* no TTF to load */
    pdf_errors e;
    HPDF_Font font;
    HPDF_Doc doc = pdf_doc(&e, utf8, &font);
    HPDF_Page page = HPDF_AddPage(doc);
    HPDF_Page_SetSize(page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    sr_chart c;
    build(&c, kind);
    char err[256];
    /* two boxes on the page: a wide one and a small one */
    ck_assert_msg(sr_chart_pdf(&c, page, font, 40, 440, 515, 340, err, sizeof err) == 0, "%s: %s", kind_names[kind],
                  err);
    ck_assert_msg(sr_chart_pdf(&c, page, font, 40, 60, 260, 180, err, sizeof err) == 0, "%s: %s", kind_names[kind],
                  err);
    ck_assert_msg(e.errors == 0, "%s: libharu error 0x%04lX", kind_names[kind], e.last);
    ck_assert_int_eq(HPDF_Page_GetGMode(page), HPDF_GMODE_PAGE_DESCRIPTION);
    char *dir = test_tmpdir("chart-pdf");
    char *path = xasprintf("%s/%s.pdf", dir, kind_names[kind]);
    ck_assert_int_eq(HPDF_SaveToFile(doc, path), HPDF_OK);
    check_pdf_file(path);
    const char *samples = getenv("SR_CHART_SAMPLES");
    if (samples && *samples && utf8) {
        char *cmd = xasprintf("cp '%s' '%s/'", path, samples);
        ck_assert_int_eq(system(cmd), 0);
        free(cmd);
    }
    HPDF_Free(doc);
    test_rmtree(dir);
    free(path);
    free(dir);
    sr_chart_free(&c);
}

START_TEST(test_pdf_kinds_utf8)
{
    pdf_kinds(_i, 1);
}
END_TEST

START_TEST(test_pdf_kinds_builtin_font)
{
    pdf_kinds(_i, 0);
}
END_TEST

START_TEST(test_pdf_errors_reported)
{
    pdf_errors e;
    HPDF_Font font;
    HPDF_Doc doc = pdf_doc(&e, 0, &font);
    HPDF_Page page = HPDF_AddPage(doc);
    sr_chart c;
    build(&c, K_LINES);
    char err[256];
    /* a page left inside a text object cannot take drawing */
    HPDF_Page_BeginText(page);
    ck_assert_int_eq(sr_chart_pdf(&c, page, font, 0, 0, 400, 300, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "libharu error") != NULL, "%s", err);
    ck_assert_int_gt(e.errors, 0);
    HPDF_ResetError(doc); /* libharu skips every call while an error is pending */
    HPDF_Page_EndText(page);
    /* a box of no size */
    ck_assert_int_eq(sr_chart_pdf(&c, page, font, 0, 0, 0, 300, err, sizeof err), -1);
    ck_assert_int_eq(sr_chart_pdf(&c, page, font, NAN, 0, 400, 300, err, sizeof err), -1);
    ck_assert_int_eq(sr_chart_pdf(&c, page, NULL, 0, 0, 400, 300, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "font"));
    /* and after all that, a good chart still draws */
    e.errors = 0;
    ck_assert_msg(sr_chart_pdf(&c, page, font, 20, 20, 400, 300, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(e.errors, 0);
    HPDF_Free(doc);
    sr_chart_free(&c);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("chart");
    TCase *tc = tcase_create("ticks");
    tcase_add_test(tc, test_ticks_examples);
    tcase_add_test(tc, test_ticks_properties);
    tcase_add_test(tc, test_ticks_log);
    tcase_add_test(tc, test_format_tick);
    tcase_add_test(tc, test_format_ticks);
    suite_add_tcase(s, tc);

    tc = tcase_create("model");
    tcase_add_test(tc, test_palette);
    tcase_add_test(tc, test_model);
    tcase_add_test(tc, test_utf8_clean);
    suite_add_tcase(s, tc);

    tc = tcase_create("layout");
    tcase_add_loop_test(tc, test_layout_kinds, 0, K_COUNT);
    tcase_add_test(tc, test_layout_axes);
    tcase_add_test(tc, test_layout_integer_axis);
    tcase_add_test(tc, test_note_clear_of_data);
    tcase_add_test(tc, test_parallel_ends_apart);
    tcase_add_test(tc, test_subtitle_on_two_lines);
    tcase_add_test(tc, test_png_failures_told_apart);
    tcase_add_test(tc, test_bad_input);
    suite_add_tcase(s, tc);

    tc = tcase_create("svg");
    tcase_add_loop_test(tc, test_svg_kinds, 0, K_COUNT);
    tcase_add_loop_test(tc, test_svg_same_bytes, 0, K_COUNT);
    tcase_add_test(tc, test_svg_hover_order);
    tcase_add_test(tc, test_svg_names_escaped);
    tcase_add_test(tc, test_many_series_fast);
    suite_add_tcase(s, tc);

    tc = tcase_create("png");
    tcase_add_loop_test(tc, test_png_kinds, 0, K_COUNT);
    suite_add_tcase(s, tc);

    tc = tcase_create("pdf");
    tcase_add_loop_test(tc, test_pdf_kinds_utf8, 0, K_COUNT);
    tcase_add_loop_test(tc, test_pdf_kinds_builtin_font, 0, K_COUNT);
    tcase_add_test(tc, test_pdf_errors_reported);
    suite_add_tcase(s, tc);
    return s;
}
