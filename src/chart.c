/* chart.c - the chart model: building and freeing charts, the palette, nice
 * ticks and their text.  Nothing here draws. */
#include "config.h"

#include "chart.h"
#include "chart_layout.h"
#include "util.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Palette                                                                   */
/* ------------------------------------------------------------------------ */

/* Okabe & Ito, "Color Universal Design" (2008), ordered so that the first
 * colours contrast most on white; yellow, the weakest on white, comes last. */
static const unsigned char okabe_ito[SR_PALETTE_SIZE][3] = {
    {0x00, 0x72, 0xB2}, /* blue */
    {0xD5, 0x5E, 0x00}, /* vermillion */
    {0x00, 0x9E, 0x73}, /* bluish green */
    {0xE6, 0x9F, 0x00}, /* orange */
    {0xCC, 0x79, 0xA7}, /* reddish purple */
    {0x56, 0xB4, 0xE9}, /* sky blue */
    {0x00, 0x00, 0x00}, /* black */
    {0xF0, 0xE4, 0x42}, /* yellow */
};

void sr_palette(int index, double rgb[3])
{
    int i = index % SR_PALETTE_SIZE;
    if (i < 0)
        i += SR_PALETTE_SIZE;
    for (int k = 0; k < 3; k++)
        rgb[k] = okabe_ito[i][k] / 255.0;
}

/* ------------------------------------------------------------------------ */
/* Ticks                                                                     */
/* ------------------------------------------------------------------------ */

static double pow10i(int k)
{
    static const double exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    if (k >= 0 && k <= 22)
        return exact[k];
    return pow(10.0, k);
}

/* m * 10^k, rounded once: an integer m times (or over) an exact power of
 * ten gives the double nearest the decimal value, so 3 * 10^-1 is 0.3 and
 * not 0.30000000000000004. */
static double decimal(double m, int k)
{
    double v = k >= 0 ? m * pow10i(k) : m / pow10i(-k);
    return v == 0 ? 0.0 : v; /* no -0 */
}

static size_t emit_steps(double first, size_t count, double m, int k, double *out)
{
    for (size_t j = 0; j < count; j++)
        out[j] = decimal((first + (double)j) * m, k);
    return count;
}

static size_t linear_ticks(double lo, double hi, size_t limit, double *out)
{
    double mag = fmax(fabs(lo), fabs(hi));
    double span = hi - lo;
    if (!isfinite(span))
        span = DBL_MAX;
    if (span <= mag * 1e-9 || span < 1e-300) {
        out[0] = lo;
        return 1;
    }
    static const double mant[] = {1, 2, 5};
    int k = (int)floor(log10(span / (double)limit)) - 1;
    double prev_first = 0, prev_m = 0;
    size_t prev_count = 0;
    int prev_k = 0;
    for (int iter = 0; iter < 64; iter++, k++) {
        for (int mi = 0; mi < 3; mi++) {
            double step = decimal(mant[mi], k);
            if (!isfinite(step) || step <= 0)
                continue;
            double a = ceil(lo / step - 1e-9), b = floor(hi / step + 1e-9);
            if (!isfinite(a) || !isfinite(b))
                continue;
            double count = b - a + 1;
            if (count > (double)limit) {
                prev_first = a;
                prev_m = mant[mi];
                prev_k = k;
                prev_count = count > 1e6 ? 1000000 : (size_t)count;
                continue;
            }
            if (count >= 1)
                return emit_steps(a, (size_t)count, mant[mi], k, out);
            /* the range fell between two multiples: keep the middle ticks of
             * the denser step */
            if (prev_count > 0) {
                double skip = floor((double)(prev_count - limit) / 2);
                return emit_steps(prev_first + skip, limit, prev_m, prev_k, out);
            }
            out[0] = lo;
            return 1;
        }
    }
    /* no step of few enough ticks (a range near the largest doubles) */
    if (prev_count > 0) {
        double skip = floor((double)(prev_count - limit) / 2);
        return emit_steps(prev_first + skip, limit, prev_m, prev_k, out);
    }
    out[0] = lo;
    return 1;
}

static size_t log_ticks(double lo, double hi, size_t limit, double *out)
{
    if (lo == hi) {
        out[0] = lo;
        return 1;
    }
    double l0 = log10(lo), l1 = log10(hi);
    int e0 = (int)ceil(l0 - 1e-9), e1 = (int)floor(l1 + 1e-9);
    int decades = e1 - e0 + 1; /* powers of ten inside */
    if (decades < 3) {
        /* a short range: 1, 2 and 5 times the powers of ten */
        static const double mant[] = {1, 2, 5};
        size_t n = 0;
        for (int e = (int)floor(l0); e <= e1 + 1 && n <= limit; e++)
            for (int mi = 0; mi < 3 && n <= limit; mi++) {
                double v = decimal(mant[mi], e);
                if (v < lo * (1 - 1e-9) || v > hi * (1 + 1e-9))
                    continue;
                if (n < limit)
                    out[n] = v;
                n++;
            }
        if (n >= 2 && n <= limit)
            return n;
        if (decades < 2) /* within about a decade: plain steps */
            return linear_ticks(lo, hi, limit, out);
    }
    /* powers of ten, every d-th when there are too many */
    int d = (decades + (int)limit - 1) / (int)limit;
    if (d < 1)
        d = 1;
    int start = (int)(ceil((double)e0 / d) * d);
    size_t n = 0;
    for (int e = start; e <= e1 && n < limit; e += d)
        out[n++] = decimal(1, e);
    return n;
}

size_t sr_nice_ticks(double lo, double hi, size_t max_ticks, sr_axis_scale scale, double *out, size_t cap)
{
    size_t limit = max_ticks < cap ? max_ticks : cap;
    if (limit > 1000) /* beyond any axis; keeps the arithmetic exact */
        limit = 1000;
    if (!out || limit == 0 || !isfinite(lo) || !isfinite(hi))
        return 0;
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (scale == SR_AXIS_LOG) {
        if (lo <= 0 || hi <= 0)
            return 0;
        return log_ticks(lo, hi, limit, out);
    }
    return linear_ticks(lo, hi, limit, out);
}

/* "1e-4", "2.5e-5": mantissa with at most `decimals` decimals (-1: up to 3
 * significant digits, trailing zeros dropped). */
static void format_exp(double v, int decimals, char *buf, size_t len)
{
    double a = fabs(v);
    int e = (int)floor(log10(a));
    double m = v / pow10i(e);
    if (fabs(m) >= 9.9995 && decimals < 0) {
        m /= 10;
        e++;
    } else if (fabs(m) < 1) {
        m *= 10;
        e--;
    }
    char mb[32];
    if (decimals < 0)
        snprintf(mb, sizeof mb, "%.3g", m);
    else
        snprintf(mb, sizeof mb, "%.*f", decimals, m);
    if (strcmp(mb, "10") == 0 || strcmp(mb, "-10") == 0) {
        snprintf(mb, sizeof mb, "%s1", m < 0 ? "-" : "");
        e++;
    }
    snprintf(buf, len, "%se%d", mb, e);
}

void sr_format_tick(double v, char *buf, size_t len)
{
    if (!buf || len == 0)
        return;
    if (isnan(v)) {
        snprintf(buf, len, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, len, v > 0 ? "inf" : "-inf");
        return;
    }
    double a = fabs(v);
    if (a == 0)
        snprintf(buf, len, "0");
    else if (a >= 1e-3 && a < 1e5)
        snprintf(buf, len, "%.6g", v);
    else
        format_exp(v, -1, buf, len);
}

void sr_format_ticks(const double *v, size_t n, sr_axis_scale scale, char (*out)[SR_TICK_TEXT_MAX])
{
    if (!v || !out)
        return;
    double maxabs = 0, minabs = INFINITY, step = INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            continue;
        double a = fabs(v[i]);
        maxabs = fmax(maxabs, a);
        if (a > 0)
            minabs = fmin(minabs, a);
        if (i > 0 && isfinite(v[i - 1]) && v[i] != v[i - 1])
            step = fmin(step, fabs(v[i] - v[i - 1]));
    }
    int expo = maxabs >= 1e6 || (isfinite(minabs) && minabs < 1e-3 && (scale == SR_AXIS_LOG || maxabs < 1e-3));
    for (size_t i = 0; i < n; i++) {
        double x = v[i] == 0 ? 0.0 : v[i]; /* no "-0" */
        if (!isfinite(x) || n < 2 || !isfinite(step)) {
            sr_format_tick(x, out[i], SR_TICK_TEXT_MAX);
            continue;
        }
        if (scale == SR_AXIS_LOG) {
            if (expo)
                format_exp(x, -1, out[i], SR_TICK_TEXT_MAX);
            else
                sr_format_tick(x, out[i], SR_TICK_TEXT_MAX);
            continue;
        }
        int step_e = (int)floor(log10(step) + 1e-9);
        if (expo) {
            if (x == 0) {
                snprintf(out[i], SR_TICK_TEXT_MAX, "0");
                continue;
            }
            int e = (int)floor(log10(fabs(x)) + 1e-12);
            int d = e - step_e;
            format_exp(x, d < 0 ? 0 : d > 6 ? 6 : d, out[i], SR_TICK_TEXT_MAX);
        } else {
            /* the same decimals for all, from the step: 0.0, 0.2, ..., 1.0 */
            int d = -step_e;
            snprintf(out[i], SR_TICK_TEXT_MAX, "%.*f", d < 0 ? 0 : d > 12 ? 12 : d, x);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Text                                                                      */
/* ------------------------------------------------------------------------ */

char *sr_utf8_clean(const char *s)
{
    if (!s)
        return xstrdup("");
    sr_buf b;
    sr_buf_init(&b);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = sr_utf8_seq(p);
        if (n == 0) {
            sr_buf_puts(&b, "\xEF\xBF\xBD"); /* U+FFFD */
            p++;
        } else if (n == 1 && (*p < 0x20 || *p == 0x7F)) {
            sr_buf_puts(&b, " ");
            p++;
        } else {
            sr_buf_append(&b, p, n);
            p += n;
        }
    }
    if (!b.s)
        sr_buf_puts(&b, "");
    return sr_buf_steal(&b);
}

size_t sr_utf8_next(const char *s, size_t i)
{
    const unsigned char *p = (const unsigned char *)s;
    if (!p[i])
        return i;
    i++;
    while (p[i] && (p[i] & 0xC0) == 0x80)
        i++;
    return i;
}

/* ------------------------------------------------------------------------ */
/* Building                                                                  */
/* ------------------------------------------------------------------------ */

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void sr_chart_init(sr_chart *c, const char *title)
{
    memset(c, 0, sizeof *c);
    c->title = dup_or_null(title);
}

sr_series *sr_chart_add_series(sr_chart *c, const char *name, sr_series_kind kind, size_t n)
{
    if (c->n_series >= c->cap_series) {
        size_t cap = c->cap_series ? c->cap_series * 2 : 8;
        while (cap <= c->n_series)
            cap *= 2;
        c->series = xrealloc(c->series, cap * sizeof *c->series);
        c->cap_series = cap;
    }
    sr_series *s = &c->series[c->n_series];
    memset(s, 0, sizeof *s);
    s->name = dup_or_null(name);
    s->kind = kind;
    s->n = n;
    if (n > 0) {
        s->x = xmalloc(n * sizeof *s->x);
        s->y = xmalloc(n * sizeof *s->y);
        for (size_t i = 0; i < n; i++) {
            s->x[i] = (double)i;
            s->y[i] = NAN;
        }
    }
    s->color = (int)(c->n_series % SR_PALETTE_SIZE);
    s->highlighted = 1;
    s->marker = SR_MARK_NONE;
    c->n_series++;
    return s;
}

void sr_chart_add_note(sr_chart *c, double x, double y, const char *text, sr_marker marker, int color)
{
    if (c->n_notes >= c->cap_notes) {
        size_t cap = c->cap_notes ? c->cap_notes * 2 : 4;
        while (cap <= c->n_notes)
            cap *= 2;
        c->notes = xrealloc(c->notes, cap * sizeof *c->notes);
        c->cap_notes = cap;
    }
    sr_annotation *a = &c->notes[c->n_notes++];
    a->x = x;
    a->y = y;
    a->text = dup_or_null(text);
    a->marker = marker;
    a->color = color;
}

static void free_strings(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void axis_free(sr_axis *a)
{
    free(a->label);
    free_strings(a->categories, a->n_categories);
}

void sr_chart_free(sr_chart *c)
{
    if (!c)
        return;
    free(c->title);
    free(c->subtitle);
    axis_free(&c->x);
    axis_free(&c->y);
    for (size_t i = 0; c->series && i < c->n_series; i++) {
        sr_series *s = &c->series[i];
        free(s->name);
        free(s->x);
        free(s->y);
        free_strings(s->point_titles, s->n);
    }
    free(c->series);
    for (size_t i = 0; c->notes && i < c->n_notes; i++)
        free(c->notes[i].text);
    free(c->notes);
    free_strings(c->parallel_lo, c->n_parallel_ends);
    free_strings(c->parallel_hi, c->n_parallel_ends);
    memset(c, 0, sizeof *c);
}

void sr_chart_set_subtitle(sr_chart *c, const char *subtitle)
{
    free(c->subtitle);
    c->subtitle = dup_or_null(subtitle);
}

void sr_axis_set_label(sr_axis *a, const char *label)
{
    free(a->label);
    a->label = dup_or_null(label);
}

void sr_axis_set_categories(sr_axis *a, const char *const *names, size_t n)
{
    free_strings(a->categories, a->n_categories);
    a->categories = NULL;
    a->n_categories = 0;
    if (n == 0)
        return;
    a->categories = xcalloc(n, sizeof *a->categories);
    for (size_t i = 0; i < n; i++)
        a->categories[i] = xstrdup(names && names[i] ? names[i] : "");
    a->n_categories = n;
}

void sr_axis_set_range(sr_axis *a, double min, double max)
{
    a->has_range = 1;
    a->min = min;
    a->max = max;
}

void sr_series_set_point_title(sr_series *s, size_t i, const char *title)
{
    if (i >= s->n)
        return;
    if (!s->point_titles)
        s->point_titles = xcalloc(s->n, sizeof *s->point_titles);
    free(s->point_titles[i]);
    s->point_titles[i] = dup_or_null(title);
}

void sr_chart_parallel_ends(sr_chart *c, size_t axis, const char *lo, const char *hi)
{
    if (axis >= c->n_parallel_ends) {
        size_t n = axis + 1;
        c->parallel_lo = xrealloc(c->parallel_lo, n * sizeof *c->parallel_lo);
        c->parallel_hi = xrealloc(c->parallel_hi, n * sizeof *c->parallel_hi);
        for (size_t i = c->n_parallel_ends; i < n; i++)
            c->parallel_lo[i] = c->parallel_hi[i] = NULL;
        c->n_parallel_ends = n;
    }
    free(c->parallel_lo[axis]);
    free(c->parallel_hi[axis]);
    c->parallel_lo[axis] = dup_or_null(lo);
    c->parallel_hi[axis] = dup_or_null(hi);
}
