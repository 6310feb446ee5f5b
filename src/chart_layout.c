/* chart_layout.c - the layout of a chart (plot area, axis mapping, ticks,
 * labels, legend) and its drawing through the primitives of sr_gfx, shared
 * by the cairo and the libharu backends. */
#include "config.h"

#include "chart_layout.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sr_rgb INK = {0.13, 0.13, 0.13};
static const sr_rgb TICK_INK = {0.32, 0.32, 0.32};
static const sr_rgb SOFT_INK = {0.42, 0.42, 0.42};
static const sr_rgb AXIS_INK = {0.45, 0.45, 0.45};
static const sr_rgb GRID = {0.90, 0.90, 0.90};
static const sr_rgb FADED = {0.80, 0.80, 0.80};
static const sr_rgb WHITE = {1, 1, 1};
static const sr_rgb NOTE_EDGE = {0.75, 0.75, 0.75};
static const sr_rgb MARK_EDGE = {0.15, 0.15, 0.15};

#define SIN45 0.70710678118654752
#define PI 3.14159265358979323846
#define MAX_LEGEND 200      /* entries measured; more are counted only */
#define MAX_BAR_GROUPS 8    /* more bar series are overlaid, not set side by side */
#define MAX_AXES 1000       /* parallel coordinates */

static sr_rgb palette_rgb(int i)
{
    double v[3];
    sr_palette(i, v);
    return (sr_rgb){v[0], v[1], v[2]};
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* ------------------------------------------------------------------------ */
/* Checks                                                                    */
/* ------------------------------------------------------------------------ */

int sr_chart_check(const sr_chart *c, double width, double height, char *err, size_t errlen)
{
    if (!c) {
        snprintf(err, errlen, "no chart");
        return -1;
    }
    if (!(width >= 40 && width <= 32768 && height >= 40 && height <= 32768)) {
        snprintf(err, errlen, "chart size %g x %g is out of range (40 to 32768)", width, height);
        return -1;
    }
    if (c->n_series > 0 && !c->series) {
        snprintf(err, errlen, "chart has %zu series but no series array", c->n_series);
        return -1;
    }
    for (size_t i = 0; i < c->n_series; i++)
        if (c->series[i].n > 0 && !c->series[i].y) {
            snprintf(err, errlen, "series %zu (%s) has %zu points but no y values", i,
                     c->series[i].name ? c->series[i].name : "unnamed", c->series[i].n);
            return -1;
        }
    if (c->n_notes > 0 && !c->notes) {
        snprintf(err, errlen, "chart has %zu notes but no note array", c->n_notes);
        return -1;
    }
    const sr_axis *ax[2] = {&c->x, &c->y};
    for (int k = 0; k < 2; k++)
        if (ax[k]->n_categories > 0 && !ax[k]->categories) {
            snprintf(err, errlen, "%s axis has %zu categories but no names", k ? "y" : "x", ax[k]->n_categories);
            return -1;
        }
    if (c->n_parallel_ends > 0 && (!c->parallel_lo || !c->parallel_hi)) {
        snprintf(err, errlen, "parallel axis ends are missing");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Mapping                                                                   */
/* ------------------------------------------------------------------------ */

static double axis_unit(const sr_axis_map *m, double v)
{
    return m->log ? log10(v) : v;
}

static int axis_ok(const sr_axis_map *m, double v)
{
    return isfinite(v) && (!m->log || v > 0);
}

static double axis_map(const sr_axis_map *m, double v)
{
    if (!axis_ok(m, v))
        return NAN;
    double a = axis_unit(m, m->lo), b = axis_unit(m, m->hi), u = axis_unit(m, v);
    /* halves: no overflow for ranges near DBL_MAX */
    double t = (u * 0.5 - a * 0.5) / (b * 0.5 - a * 0.5);
    double p = m->p_lo + t * (m->p_hi - m->p_lo);
    /* far outside the plot: keep within what a rasteriser handles */
    return clampd(p, -40000, 40000);
}

double sr_layout_x(const sr_layout *L, double v)
{
    return axis_map(&L->x, v);
}

double sr_layout_y(const sr_layout *L, double v)
{
    return axis_map(&L->y, v);
}

static double series_x(const sr_series *s, size_t i)
{
    return s->x ? s->x[i] : (double)i;
}

int sr_layout_point(const sr_layout *L, const sr_series *s, size_t i, double *px, double *py)
{
    if (!s || i >= s->n || !s->y)
        return 0;
    double x = sr_layout_x(L, series_x(s, i)), y = sr_layout_y(L, s->y[i]);
    if (isnan(x) || isnan(y))
        return 0;
    *px = x;
    *py = y;
    return 1;
}

int sr_layout_bar(const sr_layout *L, const sr_chart *c, size_t si, size_t i, double *x, double *y, double *w,
                  double *h)
{
    if (si >= c->n_series || c->series[si].kind != SR_SERIES_BARS)
        return 0;
    double px, py;
    if (!sr_layout_point(L, &c->series[si], i, &px, &py))
        return 0;
    double base = L->y.log ? L->y.lo : clampd(0, fmin(L->y.lo, L->y.hi), fmax(L->y.lo, L->y.hi));
    double pb = sr_layout_y(L, base);
    double units = fabs(axis_unit(&L->x, L->x.hi) - axis_unit(&L->x, L->x.lo));
    double unit_px = units > 0 ? fabs(L->x.p_hi - L->x.p_lo) / units : 0;
    double full = L->bar_step * unit_px * 0.8;
    if (!(full > 0))
        full = 8 * L->scale;
    size_t groups = L->n_bar_groups ? L->n_bar_groups : 1;
    double bw = full / (double)groups;
    size_t gi = L->bar_group ? L->bar_group[si] : 0;
    *x = px - full / 2 + (double)gi * bw;
    *w = bw;
    *y = fmin(py, pb);
    *h = fabs(pb - py);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Text                                                                      */
/* ------------------------------------------------------------------------ */

static double text_w(const sr_gfx *g, const char *s, double size, int bold)
{
    if (!s || !*s)
        return 0;
    double w = g->text_width(g->ctx, s, size, bold);
    return isfinite(w) && w > 0 ? w : 0;
}

#define ELLIPSIS "\xE2\x80\xA6"

/* A cleaned copy of s, cut with an ellipsis to at most maxw wide. */
static char *fit_text(const sr_gfx *g, const char *s, double size, int bold, double maxw)
{
    char *t = sr_utf8_clean(s);
    if (text_w(g, t, size, bold) <= maxw)
        return t;
    /* binary search over the number of characters kept */
    size_t nchar = 0;
    for (size_t i = 0; t[i]; i = sr_utf8_next(t, i))
        nchar++;
    size_t lo = 0, hi = nchar;
    sr_buf b;
    sr_buf_init(&b);
    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2, off = 0;
        for (size_t k = 0; k < mid; k++)
            off = sr_utf8_next(t, off);
        b.len = 0;
        sr_buf_append(&b, t, off);
        while (b.len > 0 && b.s[b.len - 1] == ' ')
            b.len--;
        sr_buf_puts(&b, ELLIPSIS);
        if (text_w(g, b.s, size, bold) <= maxw)
            lo = mid;
        else
            hi = mid - 1;
    }
    size_t off = 0;
    for (size_t k = 0; k < lo; k++)
        off = sr_utf8_next(t, off);
    b.len = 0;
    sr_buf_append(&b, t, off);
    while (b.len > 0 && b.s[b.len - 1] == ' ')
        b.len--;
    sr_buf_puts(&b, ELLIPSIS);
    free(t);
    return sr_buf_steal(&b);
}

static char *fit_or_null(const sr_gfx *g, const char *s, double size, int bold, double maxw)
{
    if (!s || !*s)
        return NULL;
    return fit_text(g, s, size, bold, maxw);
}

/* s on at most two lines of maxw: *first gets as many words as fit, *second
 * the rest (shortened if it is still too long; NULL when one line holds
 * it all, or when the first word alone is too long, which is then cut). */
static void fit_two_lines(const sr_gfx *g, const char *s, double size, double maxw, char **first, char **second)
{
    *first = *second = NULL;
    if (!s || !*s)
        return;
    char *t = sr_utf8_clean(s);
    if (text_w(g, t, size, 0) <= maxw) {
        *first = t;
        return;
    }
    size_t cut = 0; /* the last space after which the rest goes down */
    for (size_t i = 0; t[i]; i++)
        if (t[i] == ' ') {
            char *head = xstrndup(t, i);
            int fits = text_w(g, head, size, 0) <= maxw;
            free(head);
            if (!fits)
                break;
            cut = i;
        }
    if (cut == 0) {
        *first = fit_text(g, t, size, 0, maxw);
    } else {
        *first = xstrndup(t, cut);
        *second = fit_text(g, t + cut + 1, size, 0, maxw);
    }
    free(t);
}

/* ------------------------------------------------------------------------ */
/* Ranges                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct {
    double lo, hi;
    int found;
} extent;

static void extent_add(extent *e, double v)
{
    if (!e->found) {
        e->lo = e->hi = v;
        e->found = 1;
    } else {
        e->lo = fmin(e->lo, v);
        e->hi = fmax(e->hi, v);
    }
}

static void set_range(sr_axis_map *m, const sr_axis *a, const extent *e, double margin, int has_bars_at_zero)
{
    if (m->categorical) {
        if (a->has_range && isfinite(a->min) && isfinite(a->max) && a->min < a->max) {
            m->lo = a->min;
            m->hi = a->max;
        } else {
            m->lo = -0.5;
            m->hi = (double)m->n_categories - 0.5;
        }
        return;
    }
    if (a->has_range && isfinite(a->min) && isfinite(a->max) && a->min < a->max) {
        if (!m->log || a->min > 0) {
            m->lo = a->min;
            m->hi = a->max;
            return;
        }
        if (a->max > 0) { /* log axis from a non-positive minimum: the data decide */
            m->hi = a->max;
            m->lo = e->found && e->lo < a->max ? e->lo : a->max / 1000;
            return;
        }
    }
    if (!e->found) {
        m->lo = m->log ? 1 : 0;
        m->hi = m->log ? 10 : 1;
        return;
    }
    double lo = e->lo, hi = e->hi;
    int anchor_lo = 0, anchor_hi = 0;
    if (has_bars_at_zero && !m->log) {
        if (lo >= 0) {
            lo = 0;
            anchor_lo = 1;
        }
        if (hi <= 0) {
            hi = 0;
            anchor_hi = 1;
        }
    }
    if (m->log) {
        double l0 = log10(lo), l1 = log10(hi);
        double span = l1 - l0;
        if (span <= 0) {
            l0 -= 0.5;
            l1 += 0.5;
        } else {
            l0 -= span * margin;
            l1 += span * margin;
        }
        m->lo = pow(10, l0);
        m->hi = pow(10, l1);
        if (!(m->lo > 0) || !isfinite(m->hi)) {
            m->lo = lo;
            m->hi = hi > lo ? hi : lo * 10;
        }
        return;
    }
    if (lo == hi) {
        double d = lo == 0 ? 1 : fabs(lo) * 0.1;
        m->lo = lo - d;
        m->hi = hi + d;
    } else {
        double span = hi * 0.5 - lo * 0.5; /* half the span: no overflow */
        m->lo = anchor_lo ? lo : lo - 2 * margin * span;
        m->hi = anchor_hi ? hi : hi + 2 * margin * span;
    }
    if (!isfinite(m->lo) || !isfinite(m->hi) || !(m->lo < m->hi)) {
        m->lo = lo;
        m->hi = hi > lo ? hi : lo + 1;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Smallest distance between neighbouring x values of the bars, in axis units. */
static double bar_spacing(const sr_layout *L, const sr_chart *c)
{
    if (L->x.categorical)
        return 1;
    size_t n = 0;
    for (size_t si = 0; si < c->n_series; si++)
        if (c->series[si].kind == SR_SERIES_BARS)
            n += c->series[si].n;
    if (n == 0)
        return 1;
    double *v = xmalloc(n * sizeof *v);
    size_t m = 0;
    for (size_t si = 0; si < c->n_series; si++) {
        const sr_series *s = &c->series[si];
        if (s->kind != SR_SERIES_BARS)
            continue;
        for (size_t i = 0; i < s->n; i++) {
            double x = series_x(s, i);
            if (axis_ok(&L->x, x) && axis_ok(&L->y, s->y[i]))
                v[m++] = axis_unit(&L->x, x);
        }
    }
    qsort(v, m, sizeof *v, cmp_double);
    double best = INFINITY;
    for (size_t i = 1; i < m; i++) {
        double d = v[i] - v[i - 1];
        if (d > 1e-12 * fmax(1, fabs(v[i])) && d < best)
            best = d;
    }
    if (!isfinite(best)) /* one x value: a bar of a sixth of the axis */
        best = fabs(axis_unit(&L->x, L->x.hi) - axis_unit(&L->x, L->x.lo)) * 0.2;
    if (!(best > 0) || !isfinite(best))
        best = 1;
    if (L->x.log)
        best = fmin(best, 1); /* at most a decade */
    free(v);
    return best;
}

/* ------------------------------------------------------------------------ */
/* Layout                                                                    */
/* ------------------------------------------------------------------------ */

/* Numeric ticks of a map over its pixel length, dense but not crowded. */
static void numeric_ticks(sr_axis_map *m, size_t max_ticks, int empty)
{
    if (empty) { /* nothing to measure: a bare frame */
        m->n_ticks = 0;
        return;
    }
    sr_axis_scale scale = m->log ? SR_AXIS_LOG : SR_AXIS_LINEAR;
    if (max_ticks > SR_LAYOUT_MAX_TICKS)
        max_ticks = SR_LAYOUT_MAX_TICKS;
    if (max_ticks < 2)
        max_ticks = 2;
    m->n_ticks = sr_nice_ticks(m->lo, m->hi, max_ticks, scale, m->ticks, SR_LAYOUT_MAX_TICKS);
    if (m->integer && m->n_ticks > 0) {
        /* no tick between two epochs: where the nice ones fall between
         * whole numbers, every whole number in the range instead (there
         * are few: the nice step was below 1) */
        int fractional = 0;
        for (size_t i = 0; i < m->n_ticks; i++)
            fractional |= m->ticks[i] != floor(m->ticks[i]);
        double a = ceil(fmin(m->lo, m->hi)), b = floor(fmax(m->lo, m->hi));
        if (fractional && b >= a && b - a + 1 <= (double)max_ticks) {
            m->n_ticks = 0;
            for (double v = a; v <= b; v++)
                m->ticks[m->n_ticks++] = v;
        }
    }
    sr_format_ticks(m->ticks, m->n_ticks, scale, m->text);
}

static double widest_tick(const sr_gfx *g, const sr_axis_map *m, double size)
{
    double w = 0;
    for (size_t i = 0; i < m->n_ticks; i++)
        w = fmax(w, text_w(g, m->text[i], size, 0));
    return w;
}

static void free_strings(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Category labels of one axis, each cut to maxw. */
static double fit_categories(sr_axis_map *m, const sr_gfx *g, char *const *names, size_t n, double size,
                             double maxw)
{
    free_strings(m->cat_text, m->n_categories);
    m->cat_text = xcalloc(n ? n : 1, sizeof *m->cat_text);
    double w = 0;
    for (size_t i = 0; i < n; i++) {
        m->cat_text[i] = fit_text(g, names && names[i] ? names[i] : "", size, 0, maxw);
        w = fmax(w, text_w(g, m->cat_text[i], size, 0));
    }
    return w;
}

static void legend_entries(sr_layout *L, const sr_chart *c, const sr_gfx *g, double maxw, size_t *n_total)
{
    *n_total = 0;
    for (size_t i = 0; i < c->n_series; i++) {
        const sr_series *s = &c->series[i];
        if (!s->highlighted || !s->name || !*s->name)
            continue;
        (*n_total)++;
        if (L->n_legend >= MAX_LEGEND)
            continue;
        if (!L->legend)
            L->legend = xcalloc(MAX_LEGEND, sizeof *L->legend);
        sr_legend_entry *e = &L->legend[L->n_legend++];
        e->series = i;
        e->text = fit_text(g, s->name, L->legend_size, 0, maxw);
    }
}

/* 1 when the end texts of two neighbouring parallel axes, centred slot
 * apart, would meet. */
static int par_ends_meet(const sr_layout *L, const sr_gfx *g, double size, double slot)
{
    for (size_t i = 0; L->par_hi && i + 1 < L->n_axes; i++) {
        double hi = (text_w(g, L->par_hi[i], size, 0) + text_w(g, L->par_hi[i + 1], size, 0)) / 2;
        double lo = (text_w(g, L->par_lo[i], size, 0) + text_w(g, L->par_lo[i + 1], size, 0)) / 2;
        if (fmax(hi, lo) > slot)
            return 1;
    }
    return 0;
}

/* The plot's top and bottom: below the title and the axes' upper ends,
 * above what goes under it (below: the bottom margin, legend, x label and
 * tick zone), with a line more for the ends on two rows; a third of the
 * height at least. */
static void vertical_extent(const sr_layout *L, double top, int any_hi, int any_lo, double row_h, double H,
                            double below, double *y0, double *y1, double *par_lo_h)
{
    const double extra = L->par_rows == 2 ? row_h : 0, ts = L->tick_size;
    *y0 = top + (any_hi ? extra : 0);
    *par_lo_h = any_lo ? ts * 1.2 + extra : 0;
    *y1 = H - below - *par_lo_h;
    if (*y1 - *y0 < 0.3 * H) {
        *y0 = fmin(*y0, 0.4 * H);
        *y1 = fmin(H, fmax(*y1, *y0 + 0.3 * H));
    }
}

int sr_layout_compute(sr_layout *L, const sr_chart *c, double W, double H, const sr_gfx *g, char *err,
                      size_t errlen)
{
    memset(L, 0, sizeof *L);
    if (sr_chart_check(c, W, H, err, errlen) != 0)
        return -1;
    if (!g || !g->text_width) {
        snprintf(err, errlen, "no text measure");
        return -1;
    }
    L->width = W;
    L->height = H;
    double sc = clampd(sqrt(W * H / (800.0 * 480.0)), 0.85, 2.0);
    L->scale = sc;
    L->font = 12 * sc;
    L->tick_size = 11 * sc;
    L->label_size = 12 * sc;
    L->title_size = 16 * sc;
    L->subtitle_size = 12 * sc;
    L->legend_size = 11.5 * sc;
    L->note_size = 11 * sc;
    L->pad = 12 * sc;
    const double pad = L->pad, ts = L->tick_size, tick_len = 5 * sc, gap = 3 * sc;
    L->parallel = c->parallel != 0;

    /* axis kinds */
    sr_axis_map *xm = &L->x, *ym = &L->y;
    if (L->parallel) {
        size_t n = c->x.n_categories;
        if (n == 0)
            for (size_t si = 0; si < c->n_series; si++)
                for (size_t i = 0; i < c->series[si].n; i++) {
                    double x = series_x(&c->series[si], i);
                    if (isfinite(x) && x >= 0 && x < MAX_AXES && (size_t)x + 1 > n)
                        n = (size_t)x + 1;
                }
        if (n > MAX_AXES)
            n = MAX_AXES;
        L->n_axes = n;
        xm->n_categories = n; /* the axis labels */
        xm->lo = n >= 2 ? 0 : -1;
        xm->hi = n >= 2 ? (double)(n - 1) : 1;
        ym->lo = 0;
        ym->hi = 1;
    } else {
        xm->categorical = c->x.n_categories > 0;
        xm->n_categories = c->x.n_categories;
        xm->log = !xm->categorical && c->x.scale == SR_AXIS_LOG;
        ym->categorical = c->y.n_categories > 0;
        ym->n_categories = c->y.n_categories;
        ym->log = !ym->categorical && c->y.scale == SR_AXIS_LOG;
        xm->integer = !xm->categorical && !xm->log && c->x.integer;
        ym->integer = !ym->categorical && !ym->log && c->y.integer;
    }

    /* data extents: points drawable on both axes, and the notes */
    extent ex = {0, 0, 0}, ey = {0, 0, 0};
    int has_bars = 0;
    size_t n_bar_series = 0;
    for (size_t si = 0; si < c->n_series; si++) {
        const sr_series *s = &c->series[si];
        if (s->kind == SR_SERIES_BARS)
            n_bar_series++;
        for (size_t i = 0; i < s->n; i++) {
            double x = series_x(s, i), y = s->y[i];
            if (!axis_ok(xm, x) || !axis_ok(ym, y))
                continue;
            extent_add(&ex, x);
            extent_add(&ey, y);
            if (s->kind == SR_SERIES_BARS)
                has_bars = 1;
        }
    }
    for (size_t k = 0; k < c->n_notes; k++)
        if (axis_ok(xm, c->notes[k].x) && axis_ok(ym, c->notes[k].y)) {
            extent_add(&ex, c->notes[k].x);
            extent_add(&ey, c->notes[k].y);
        }
    L->empty = !ex.found;
    if (!L->parallel) {
        set_range(xm, &c->x, &ex, 0.03, 0);
        set_range(ym, &c->y, &ey, 0.06, has_bars);
    }
    if (n_bar_series > 0) {
        L->n_bar_groups = n_bar_series <= MAX_BAR_GROUPS ? n_bar_series : 1;
        L->bar_group = xcalloc(c->n_series, sizeof *L->bar_group);
        size_t k = 0;
        for (size_t si = 0; si < c->n_series; si++)
            if (c->series[si].kind == SR_SERIES_BARS)
                L->bar_group[si] = L->n_bar_groups > 1 ? k++ : 0;
        L->bar_step = bar_spacing(L, c);
        /* room for the outer bars on a numeric axis without a given range */
        if (!xm->categorical && !L->parallel && ex.found && !c->x.has_range) {
            double half = L->bar_step * 0.5;
            if (xm->log) {
                xm->lo = fmin(xm->lo, pow(10, log10(ex.lo) - half));
                xm->hi = fmax(xm->hi, pow(10, log10(ex.hi) + half));
            } else {
                xm->lo = fmin(xm->lo, ex.lo - half);
                xm->hi = fmax(xm->hi, ex.hi + half);
            }
        }
    }

    /* texts */
    double text_max = W - 2 * pad;
    L->title = fit_or_null(g, c->title, L->title_size, 1, text_max);
    fit_two_lines(g, c->subtitle, L->subtitle_size, text_max, &L->subtitle, &L->subtitle2);
    L->xlabel = fit_or_null(g, c->x.label, L->label_size, 0, text_max);
    if (L->parallel && L->n_axes > 0) {
        size_t n = L->n_axes;
        L->par_lo = xcalloc(n, sizeof *L->par_lo);
        L->par_hi = xcalloc(n, sizeof *L->par_hi);
        for (size_t i = 0; i < n && i < c->n_parallel_ends; i++) {
            L->par_lo[i] = fit_or_null(g, c->parallel_lo[i], ts * 0.9, 0, 12 * ts);
            L->par_hi[i] = fit_or_null(g, c->parallel_hi[i], ts * 0.9, 0, 12 * ts);
        }
    }

    /* top */
    double top = pad;
    if (L->title) {
        L->title_y = top + 0.8 * L->title_size;
        top += 1.3 * L->title_size;
    }
    if (L->subtitle) {
        L->subtitle_y = top + 0.8 * L->subtitle_size;
        top += (L->subtitle2 ? 2.55 : 1.35) * L->subtitle_size;
    }
    top += (L->title || L->subtitle) ? 0.6 * L->font : 0.6 * ts;
    int any_hi = 0, any_lo = 0;
    for (size_t i = 0; L->par_hi && i < L->n_axes; i++) {
        any_hi |= L->par_hi[i] != NULL;
        any_lo |= L->par_lo[i] != NULL;
    }
    if (any_hi)
        top += ts * 1.3;

    /* legend: beside the plot when it is narrow enough, else below */
    size_t n_named = 0;
    const double swatch = 22 * sc, sw_gap = 6 * sc, row_h = L->legend_size * 1.55;
    if (c->legend)
        legend_entries(L, c, g, fmin(0.22 * W, 220 * sc), &n_named);
    double legend_w = 0;
    for (size_t i = 0; i < L->n_legend; i++)
        legend_w = fmax(legend_w, swatch + sw_gap + text_w(g, L->legend[i].text, L->legend_size, 0));
    L->legend_right = L->n_legend > 0 && W >= 400 && legend_w + 2 * pad <= 0.32 * W;
    size_t rows = 0;
    if (L->n_legend > 0 && !L->legend_right) {
        /* rows across the width; at most three, the rest counted */
        for (size_t i = 0; i < L->n_legend; i++) {
            free(L->legend[i].text);
            /* at least two entries to a row */
            L->legend[i].text = fit_text(g, c->series[L->legend[i].series].name, L->legend_size, 0,
                                         fmax(40 * sc, (W - 2 * pad) / 2 - swatch - sw_gap - 18 * sc));
        }
        size_t max_rows = H >= 300 ? 3 : 2;
        double x = pad, entry_gap = 18 * sc;
        rows = 1;
        size_t shown = 0;
        for (size_t i = 0; i < L->n_legend; i++) {
            double ew = swatch + sw_gap + text_w(g, L->legend[i].text, L->legend_size, 0);
            if (x > pad && x + ew > W - pad) {
                if (rows == max_rows)
                    break;
                rows++;
                x = pad;
            }
            L->legend[i].x = x;
            L->legend[i].y = (double)(rows - 1); /* row for now */
            x += ew + entry_gap;
            shown++;
        }
        if (shown < n_named) {
            /* "+N more" after the last entry shown, else on a row of its
             * own, else in place of the last entries */
            for (;;) {
                snprintf(L->more, sizeof L->more, "+%zu more", n_named - shown);
                double mw = text_w(g, L->more, L->legend_size, 0);
                if (shown == 0) {
                    L->more_x = pad;
                    L->more_y = 0;
                    break;
                }
                const sr_legend_entry *e = &L->legend[shown - 1];
                double end = e->x + swatch + sw_gap + text_w(g, e->text, L->legend_size, 0) + entry_gap;
                if (end + mw <= W - pad) {
                    L->more_x = end;
                    L->more_y = e->y;
                    break;
                }
                if ((size_t)e->y + 1 < max_rows) {
                    L->more_x = pad;
                    L->more_y = e->y + 1;
                    rows = (size_t)e->y + 2;
                    break;
                }
                shown--;
            }
            for (size_t i = shown; i < L->n_legend; i++)
                free(L->legend[i].text);
            L->n_legend = shown;
        }
    }
    double legend_h = rows ? (double)rows * row_h + 0.5 * L->font : 0;

    /* y axis text needs the plot height, the x axis text the plot width:
     * settle them in turns */
    double left = pad, right = W - pad;
    if (L->legend_right)
        right -= legend_w + 16 * sc;
    double xzone = tick_len + gap + ts * 1.1; /* below the plot: ticks and their text */
    double xlabel_h = L->xlabel ? L->label_size * 1.5 : 0;
    const double par_row_h = ts * 1.1; /* a second line of parallel axis ends */
    double par_lo_h = any_lo ? ts * 1.2 : 0;
    double x0 = left, x1 = right, y0 = top, y1 = H - pad;
    double cat_w = 0;       /* widest category label */
    L->par_rows = 1;
    for (int pass = 0; pass < 4; pass++) {
        vertical_extent(L, top, any_hi, any_lo, par_row_h, H, pad + legend_h + xlabel_h + xzone, &y0, &y1,
                        &par_lo_h);
        double plot_h = y1 - y0;
        /* y axis */
        double ylab_w = 0;
        free(L->ylabel);
        L->ylabel = fit_or_null(g, c->y.label, L->label_size, 0, plot_h);
        x0 = pad + (L->ylabel ? L->label_size * 1.5 : 0);
        if (!L->parallel) {
            if (ym->categorical) {
                ylab_w = fit_categories(ym, g, c->y.categories, ym->n_categories, ts, fmax(30 * sc, 0.25 * W));
                double slot = plot_h / (ym->hi - ym->lo);
                ym->cat_every = (size_t)ceil(ts * 1.3 / fmax(slot, 1e-9));
                if (ym->cat_every < 1)
                    ym->cat_every = 1;
            } else {
                /* ticks at least 2.6 text heights apart, at most ten */
                numeric_ticks(ym, (size_t)clampd(floor(plot_h / (ts * 2.6)) + 1, 2, 10), L->empty);
                ylab_w = widest_tick(g, ym, ts);
            }
            x0 += ylab_w + tick_len + gap + 2 * sc;
        }
        /* x axis */
        double plot_w;
        double new_zone = tick_len + gap + ts * 1.1;
        x1 = right;
        if (L->parallel || xm->categorical) {
            size_t n = L->parallel ? L->n_axes : xm->n_categories;
            char *const *names = c->x.categories;
            size_t n_names = c->x.n_categories;
            if (L->parallel && n_names < n)
                names = NULL; /* axes counted from the data: unnamed */
            plot_w = x1 - x0;
            double slot = L->parallel ? plot_w / (double)(n > 1 ? n - 1 : 1) : plot_w / (double)(n ? n : 1);
            if (L->parallel)
                L->par_rows = par_ends_meet(L, g, ts * 0.9, slot - 0.8 * ts) ? 2 : 1;
            cat_w = fit_categories(xm, g, names, n, ts, fmax(slot - 0.6 * ts, 12 * ts));
            double w_first = n ? text_w(g, xm->cat_text[0], ts, 0) : 0;
            double w_last = n ? text_w(g, xm->cat_text[n - 1], ts, 0) : 0;
            if (cat_w <= slot - 0.6 * ts) {
                xm->cat_angle = 0;
                xm->cat_every = 1;
                if (L->parallel) {
                    /* the outer labels are centred on the outer axes */
                    double ends_first = 0, ends_last = 0;
                    if (L->par_lo && n > 0) {
                        ends_first = fmax(text_w(g, L->par_lo[0], ts * 0.9, 0), text_w(g, L->par_hi[0], ts * 0.9, 0));
                        ends_last = fmax(text_w(g, L->par_lo[n - 1], ts * 0.9, 0),
                                         text_w(g, L->par_hi[n - 1], ts * 0.9, 0));
                    }
                    x0 = fmax(x0, pad + fmax(w_first, ends_first) / 2);
                    x1 = fmin(x1, right - fmax(w_last, ends_last) / 2);
                    if (n < 2) {
                        x0 = fmax(x0, pad);
                        x1 = fmin(x1, right);
                    }
                }
            } else {
                /* turned by 45 degrees, shortened, every k-th if still crowded */
                cat_w = fit_categories(xm, g, names, n, ts, fmin(14 * ts, 0.25 * H / SIN45));
                w_first = n ? text_w(g, xm->cat_text[0], ts, 0) : 0;
                xm->cat_angle = 45;
                xm->cat_every = (size_t)ceil(ts * 1.8 / fmax(slot, 1e-9));
                if (xm->cat_every < 1)
                    xm->cat_every = 1;
                new_zone = tick_len + gap + 0.6 * ts + cat_w * SIN45;
                double first_at = L->parallel ? 0 : 0.5 * slot;
                x0 = fmax(x0, pad * 0.5 + w_first * SIN45 - first_at);
                if (L->parallel)
                    x1 = fmin(x1, right - ts);
            }
        } else {
            /* numeric: as many ticks as fit with room between their text */
            plot_w = x1 - x0;
            size_t want = (size_t)clampd(plot_w / (ts * 6), 2, 10);
            for (int tries = 0; tries < 12; tries++) {
                numeric_ticks(xm, want, L->empty);
                double wmax = widest_tick(g, xm, ts);
                double span = axis_unit(xm, xm->hi) - axis_unit(xm, xm->lo);
                double min_gap = INFINITY;
                for (size_t i = 1; i < xm->n_ticks; i++)
                    min_gap = fmin(min_gap, (axis_unit(xm, xm->ticks[i]) - axis_unit(xm, xm->ticks[i - 1])) / span *
                                                plot_w);
                if (xm->n_ticks < 2 || min_gap >= wmax + ts * 1.5 || want <= 2)
                    break;
                want = xm->n_ticks - 1 < want ? xm->n_ticks - 1 : want - 1;
                if (want < 2)
                    want = 2;
            }
            /* the last label must not run off the right edge */
            if (xm->n_ticks > 0) {
                double span = axis_unit(xm, xm->hi) - axis_unit(xm, xm->lo);
                double t = (axis_unit(xm, xm->ticks[xm->n_ticks - 1]) - axis_unit(xm, xm->lo)) / span;
                double p = x0 + t * plot_w;
                double over = p + text_w(g, xm->text[xm->n_ticks - 1], ts, 0) / 2 - (right + pad * 0.6);
                if (over > 0)
                    x1 = right - over;
            }
        }
        if (x1 - x0 < 0.3 * W) { /* a tiny chart: the plot keeps a third, text may crowd */
            x0 = fmin(x0, 0.4 * W);
            x1 = fmin(W, fmax(x1, x0 + 0.3 * W));
        }
        if (fabs(new_zone - xzone) < 0.5 && pass > 0)
            break;
        xzone = new_zone;
    }
    if (L->parallel && L->n_axes > 1) /* the axes as placed at last */
        L->par_rows = par_ends_meet(L, g, ts * 0.9, (x1 - x0) / (double)(L->n_axes - 1) - 0.8 * ts) ? 2 : 1;
    if (L->parallel) /* the rows the ends take */
        vertical_extent(L, top, any_hi, any_lo, par_row_h, H, pad + legend_h + xlabel_h + xzone, &y0, &y1,
                        &par_lo_h);
    if (L->par_rows == 2 && L->n_axes > 1) {
        /* on alternate lines they have two slots each */
        double room = 2 * (x1 - x0) / (double)(L->n_axes - 1) - 0.5 * ts;
        for (size_t i = 0; i < L->n_axes && i < c->n_parallel_ends; i++) {
            free(L->par_lo[i]);
            free(L->par_hi[i]);
            L->par_lo[i] = fit_or_null(g, c->parallel_lo[i], ts * 0.9, 0, fmin(room, 12 * ts));
            L->par_hi[i] = fit_or_null(g, c->parallel_hi[i], ts * 0.9, 0, fmin(room, 12 * ts));
        }
    }
    L->x0 = x0;
    L->x1 = x1;
    L->y0 = y0;
    L->y1 = y1;
    xm->p_lo = x0;
    xm->p_hi = x1;
    ym->p_lo = y1;
    ym->p_hi = y0;

    /* below the plot: tick text, the ends of parallel axes, the x label, the legend */
    double below = y1 + xzone + par_lo_h;
    L->xlabel_y = below + 0.95 * L->label_size;
    below += xlabel_h;
    L->ylabel_x = pad + 0.85 * L->label_size;
    if (L->legend_right) {
        double lx = x1 + 16 * sc;
        size_t fit = (size_t)fmax(1, floor((y1 - y0) / row_h));
        if (n_named > L->n_legend || L->n_legend > fit) {
            size_t shown = n_named > fit ? fit - 1 : fit;
            if (shown > L->n_legend)
                shown = L->n_legend;
            snprintf(L->more, sizeof L->more, "+%zu more", n_named - shown);
            for (size_t i = shown; i < L->n_legend; i++)
                free(L->legend[i].text);
            L->n_legend = shown;
            L->more_x = lx;
            L->more_y = y0 + (double)shown * row_h + 0.8 * L->legend_size;
        }
        for (size_t i = 0; i < L->n_legend; i++) {
            L->legend[i].x = lx;
            L->legend[i].y = y0 + (double)i * row_h + 0.8 * L->legend_size;
        }
    } else if (rows > 0) {
        double ly = below + 0.5 * L->font;
        for (size_t i = 0; i < L->n_legend; i++)
            L->legend[i].y = ly + L->legend[i].y * row_h + 0.8 * L->legend_size;
        if (L->more[0])
            L->more_y = ly + L->more_y * row_h + 0.8 * L->legend_size;
    }
    return 0;
}

void sr_layout_free(sr_layout *L)
{
    if (!L)
        return;
    free(L->title);
    free(L->subtitle);
    free(L->subtitle2);
    free(L->xlabel);
    free(L->ylabel);
    free_strings(L->x.cat_text, L->x.n_categories);
    free_strings(L->y.cat_text, L->y.n_categories);
    free_strings(L->par_lo, L->n_axes);
    free_strings(L->par_hi, L->n_axes);
    for (size_t i = 0; i < L->n_legend; i++)
        free(L->legend[i].text);
    free(L->legend);
    free(L->bar_group);
    memset(L, 0, sizeof *L);
}

/* ------------------------------------------------------------------------ */
/* Drawing                                                                   */
/* ------------------------------------------------------------------------ */

/* A 1-unit line on pixel centres. */
static double crisp(double v)
{
    return floor(v) + 0.5;
}

static void line2(const sr_gfx *g, double xa, double ya, double xb, double yb, double w, sr_rgb col)
{
    double xy[4] = {xa, ya, xb, yb};
    g->polyline(g->ctx, xy, 2, w, col, 0);
}

static void rect(const sr_gfx *g, double x, double y, double w, double h, const sr_rgb *fill, const sr_rgb *stroke,
                 double sw)
{
    double xy[8] = {x, y, x + w, y, x + w, y + h, x, y + h};
    g->polygon(g->ctx, xy, 4, fill, stroke, sw);
}

static void marker(const sr_gfx *g, sr_marker m, double cx, double cy, double r, const sr_rgb *fill,
                   const sr_rgb *stroke, double sw)
{
    switch (m) {
    case SR_MARK_NONE:
        break;
    case SR_MARK_CIRCLE:
        g->circle(g->ctx, cx, cy, r, fill, stroke, sw);
        break;
    case SR_MARK_SQUARE: {
        double h = r * 0.9;
        rect(g, cx - h, cy - h, 2 * h, 2 * h, fill, stroke, sw);
        break;
    }
    case SR_MARK_STAR: {
        double xy[20];
        for (int k = 0; k < 10; k++) {
            double rr = k % 2 ? r * 0.45 : r;
            double a = -PI / 2 + k * PI / 5;
            xy[2 * k] = cx + rr * cos(a);
            xy[2 * k + 1] = cy + rr * sin(a);
        }
        g->polygon(g->ctx, xy, 10, fill, stroke, sw);
        break;
    }
    }
}

static void flush_line(const sr_gfx *g, const double *xy, size_t m, double w, sr_rgb col, int dashed)
{
    if (m >= 2)
        g->polyline(g->ctx, xy, m, w, col, dashed);
    else if (m == 1) /* a lone point between gaps stays visible */
        g->circle(g->ctx, xy[0], xy[1], w * 1.5, &col, NULL, 0);
}

static void draw_series(const sr_layout *L, const sr_chart *c, size_t si, const sr_gfx *g, double *buf)
{
    const sr_series *s = &c->series[si];
    const double sc = L->scale;
    int strong = s->highlighted != 0;
    sr_rgb col = strong ? palette_rgb(s->color) : FADED;
    double px, py;
    switch (s->kind) {
    case SR_SERIES_LINE: {
        double w = (strong ? (s->emphasis ? 3.4 : 2.1) : 0.9) * sc;
        size_t m = 0;
        for (size_t i = 0; i < s->n; i++) {
            if (sr_layout_point(L, s, i, &px, &py)) {
                buf[2 * m] = px;
                buf[2 * m + 1] = py;
                m++;
            } else {
                flush_line(g, buf, m, w, col, s->dashed);
                m = 0;
            }
        }
        flush_line(g, buf, m, w, col, s->dashed);
        if (strong && s->marker != SR_MARK_NONE)
            for (size_t i = 0; i < s->n; i++)
                if (sr_layout_point(L, s, i, &px, &py))
                    marker(g, s->marker, px, py, (s->marker == SR_MARK_STAR ? 6 : 3.4) * sc, &col, &WHITE, 0.9 * sc);
        break;
    }
    case SR_SERIES_POINTS: {
        sr_marker mk = s->marker == SR_MARK_NONE ? SR_MARK_CIRCLE : s->marker;
        double r = strong ? (mk == SR_MARK_STAR ? 6.5 : 4) * sc : 2.4 * sc;
        for (size_t i = 0; i < s->n; i++)
            if (sr_layout_point(L, s, i, &px, &py)) {
                if (strong)
                    marker(g, mk, px, py, r, &col, &WHITE, 0.9 * sc);
                else
                    marker(g, mk, px, py, r, &col, NULL, 0);
            }
        break;
    }
    case SR_SERIES_BARS: {
        double bx, by, bw, bh;
        for (size_t i = 0; i < s->n; i++)
            if (sr_layout_bar(L, c, si, i, &bx, &by, &bw, &bh)) {
                if (bw > 4 * sc && strong)
                    rect(g, bx, by, bw, bh, &col, &WHITE, 0.8 * sc);
                else
                    rect(g, bx, by, bw, bh, &col, NULL, 0);
            }
        break;
    }
    }
}

static void draw_axes(const sr_layout *L, const sr_gfx *g)
{
    const double sc = L->scale, ts = L->tick_size, tick_len = 5 * sc, gap = 3 * sc;
    const sr_axis_map *xm = &L->x, *ym = &L->y;
    double lw = fmax(1, sc);
    if (L->parallel) {
        int any_lo = 0;
        for (size_t k = 0; L->par_lo && k < L->n_axes; k++)
            any_lo |= L->par_lo[k] != NULL;
        for (size_t i = 0; i < L->n_axes; i++) {
            double px = crisp(sr_layout_x(L, (double)i));
            line2(g, px, L->y0, px, L->y1, 1.2 * lw, AXIS_INK);
            /* on two rows, the odd axes' ends one line further out */
            const double row = L->par_rows == 2 ? ts * 1.1 : 0, out = i % 2 ? row : 0;
            if (L->par_hi && L->par_hi[i])
                g->text(g->ctx, px, L->y0 - 5 * sc - out, 0, SR_TEXT_CENTER, L->par_hi[i], ts * 0.9, 0, SOFT_INK);
            double below = L->y1 + gap;
            if (any_lo) { /* the ends' texts take a line of their own */
                if (L->par_lo[i])
                    g->text(g->ctx, px, below + 0.85 * ts * 0.9 + out, 0, SR_TEXT_CENTER, L->par_lo[i], ts * 0.9,
                            0, SOFT_INK);
                below += ts * 1.2 + row;
            }
            if (xm->cat_text && xm->cat_text[i] && i % (xm->cat_every ? xm->cat_every : 1) == 0) {
                if (xm->cat_angle > 0)
                    g->text(g->ctx, px + 0.27 * ts, below + tick_len + 0.5 * ts, xm->cat_angle, SR_TEXT_RIGHT,
                            xm->cat_text[i], ts, 0, TICK_INK);
                else
                    g->text(g->ctx, px, below + tick_len + 0.85 * ts, 0, SR_TEXT_CENTER, xm->cat_text[i], ts, 0,
                            TICK_INK);
            }
        }
        return;
    }
    /* the left and bottom axis lines */
    double bx = crisp(L->x0), by = crisp(L->y1);
    line2(g, bx, L->y0, bx, by, lw, AXIS_INK);
    line2(g, bx, by, L->x1, by, lw, AXIS_INK);
    /* y ticks */
    if (ym->categorical) {
        size_t every = ym->cat_every ? ym->cat_every : 1;
        for (size_t i = 0; i < ym->n_categories; i += every) {
            double py = sr_layout_y(L, (double)i);
            if (isnan(py) || py < L->y0 - 0.5 || py > L->y1 + 0.5)
                continue;
            line2(g, bx - tick_len, crisp(py), bx, crisp(py), lw, AXIS_INK);
            g->text(g->ctx, bx - tick_len - gap, py + 0.36 * ts, 0, SR_TEXT_RIGHT, ym->cat_text[i], ts, 0, TICK_INK);
        }
    } else {
        for (size_t i = 0; i < ym->n_ticks; i++) {
            double py = sr_layout_y(L, ym->ticks[i]);
            if (isnan(py) || py < L->y0 - 0.5 || py > L->y1 + 0.5)
                continue;
            line2(g, bx - tick_len, crisp(py), bx, crisp(py), lw, AXIS_INK);
            g->text(g->ctx, bx - tick_len - gap, py + 0.36 * ts, 0, SR_TEXT_RIGHT, ym->text[i], ts, 0, TICK_INK);
        }
    }
    /* x ticks */
    if (xm->categorical) {
        size_t every = xm->cat_every ? xm->cat_every : 1;
        for (size_t i = 0; i < xm->n_categories; i += every) {
            double px = sr_layout_x(L, (double)i);
            if (isnan(px) || px < L->x0 - 0.5 || px > L->x1 + 0.5)
                continue;
            line2(g, crisp(px), by, crisp(px), by + tick_len, lw, AXIS_INK);
            if (xm->cat_angle > 0)
                g->text(g->ctx, px + 0.27 * ts, by + tick_len + gap + 0.5 * ts, xm->cat_angle, SR_TEXT_RIGHT,
                        xm->cat_text[i], ts, 0, TICK_INK);
            else
                g->text(g->ctx, px, by + tick_len + gap + 0.8 * ts, 0, SR_TEXT_CENTER, xm->cat_text[i], ts, 0,
                        TICK_INK);
        }
    } else {
        for (size_t i = 0; i < xm->n_ticks; i++) {
            double px = sr_layout_x(L, xm->ticks[i]);
            if (isnan(px) || px < L->x0 - 0.5 || px > L->x1 + 0.5)
                continue;
            line2(g, crisp(px), by, crisp(px), by + tick_len, lw, AXIS_INK);
            g->text(g->ctx, px, by + tick_len + gap + 0.8 * ts, 0, SR_TEXT_CENTER, xm->text[i], ts, 0, TICK_INK);
        }
    }
}

static void draw_grid(const sr_layout *L, const sr_gfx *g)
{
    if (L->parallel)
        return;
    double lw = g->hairline > 0 ? g->hairline * L->scale : fmax(1, L->scale);
    const sr_axis_map *xm = &L->x, *ym = &L->y;
    if (!ym->categorical)
        for (size_t i = 0; i < ym->n_ticks; i++) {
            double py = sr_layout_y(L, ym->ticks[i]);
            if (!isnan(py) && py >= L->y0 - 0.5 && py <= L->y1 - 1)
                line2(g, L->x0, crisp(py), L->x1, crisp(py), lw, GRID);
        }
    if (!xm->categorical)
        for (size_t i = 0; i < xm->n_ticks; i++) {
            double px = sr_layout_x(L, xm->ticks[i]);
            if (!isnan(px) && px >= L->x0 + 1 && px <= L->x1 + 0.5)
                line2(g, crisp(px), L->y0, crisp(px), L->y1, lw, GRID);
        }
}

typedef struct {
    double x0, y0, x1, y1;
} box;

static double overlap(box a, box b)
{
    double w = fmin(a.x1, b.x1) - fmax(a.x0, b.x0), h = fmin(a.y1, b.y1) - fmax(a.y0, b.y0);
    return w > 0 && h > 0 ? w * h : 0;
}

static double note_radius(const sr_layout *L, sr_marker m)
{
    return (m == SR_MARK_STAR ? 8 : m == SR_MARK_NONE ? 2 : 4.5) * L->scale;
}

static void add_box(box **b, size_t *n, size_t *cap, const sr_layout *L, double x, double y, double r)
{
    if (x < L->x0 || x > L->x1 || y < L->y0 || y > L->y1)
        return;
    if (*n == *cap)
        *b = xrealloc(*b, (*cap *= 2) * sizeof **b);
    (*b)[(*n)++] = (box){x - r, y - r, x + r, y + r};
}

/* The data a note's text should not hide: a small box round every point of
 * a line or point series inside the plot, and round points along each
 * segment of a line.  *n gets how many. */
static box *data_boxes(const sr_layout *L, const sr_chart *c, size_t *n)
{
    const double r = 3 * L->scale, step = 12 * L->scale;
    size_t cap = 16;
    box *b = xmalloc(cap * sizeof *b);
    *n = 0;
    for (size_t s = 0; s < c->n_series; s++) {
        const sr_series *se = &c->series[s];
        if (se->kind == SR_SERIES_BARS)
            continue;
        double lx = NAN, ly = NAN; /* the last point drawn, NAN after a gap */
        for (size_t i = 0; i < se->n; i++) {
            double px = sr_layout_x(L, series_x(se, i)), py = sr_layout_y(L, se->y[i]);
            if (isnan(px) || isnan(py)) {
                lx = ly = NAN;
                continue;
            }
            add_box(&b, n, &cap, L, px, py, r);
            if (se->kind == SR_SERIES_LINE && !isnan(lx)) {
                int between = (int)fmin(64, hypot(px - lx, py - ly) / step);
                for (int k = 1; k <= between; k++) {
                    double t = (double)k / (between + 1);
                    add_box(&b, n, &cap, L, lx + t * (px - lx), ly + t * (py - ly), r);
                }
            }
            lx = px;
            ly = py;
        }
    }
    return b;
}

/* Markers of the notes, then their texts in white boxes, each put where it
 * covers the least of the plot's edges, the other boxes, the markers (the
 * stars, the best checkpoints, are placed first) and the data. */
static void draw_notes(const sr_layout *L, const sr_chart *c, const sr_gfx *g)
{
    const double sc = L->scale, ns = L->note_size, bpad = 3 * sc;
    size_t n = 0;
    size_t *order = xmalloc((c->n_notes + 1) * sizeof *order);
    double *pos = xmalloc((2 * c->n_notes + 2) * sizeof *pos);
    box *taken = xmalloc((2 * c->n_notes + 1) * sizeof *taken);
    size_t n_taken = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t k = 0; k < c->n_notes; k++) {
            const sr_annotation *a = &c->notes[k];
            if ((a->marker == SR_MARK_STAR) != (pass == 0))
                continue;
            double px = sr_layout_x(L, a->x), py = sr_layout_y(L, a->y);
            if (isnan(px) || isnan(py) || px < L->x0 - 1 || px > L->x1 + 1 || py < L->y0 - 1 || py > L->y1 + 1)
                continue;
            pos[2 * k] = px;
            pos[2 * k + 1] = py;
            order[n++] = k;
            double r = note_radius(L, a->marker);
            taken[n_taken++] = (box){px - r, py - r, px + r, py + r};
        }
    for (size_t i = n; i-- > 0;) { /* stars on top */
        const sr_annotation *a = &c->notes[order[i]];
        sr_rgb col = palette_rgb(a->color);
        marker(g, a->marker, pos[2 * order[i]], pos[2 * order[i] + 1], note_radius(L, a->marker), &col, &MARK_EDGE,
               0.8 * sc);
    }
    box plot = {L->x0, L->y0, L->x1, L->y1}, chart = {0, 0, L->width, L->height};
    size_t n_markers = n_taken, n_data = 0, labels = 0;
    for (size_t i = 0; i < n; i++)
        labels += c->notes[order[i]].text && *c->notes[order[i]].text;
    box *data = labels ? data_boxes(L, c, &n_data) : NULL; /* only where a label is placed */
    for (size_t i = 0; i < n; i++) {
        const sr_annotation *a = &c->notes[order[i]];
        if (!a->text || !*a->text)
            continue;
        double px = pos[2 * order[i]], py = pos[2 * order[i] + 1], r = note_radius(L, a->marker);
        char *t = fit_text(g, a->text, ns, 0, fmax(40 * sc, (L->x1 - L->x0) * 0.6));
        double bw = text_w(g, t, ns, 0) + 2 * bpad, bh = ns * 1.05 + 2 * bpad, gap = r + 4 * sc;
        /* beside the marker (right, then left), level with it or shifted
         * up or down by whole box heights; centred above or below last */
        box best = {0, 0, 0, 0};
        double best_cost = INFINITY;
        static const int shifts[] = {0, -1, 1, -2, 2};
        for (size_t k = 0; k < 2 * 5 + 2 && best_cost > 0; k++) {
            double bx, by;
            if (k < 10) {
                bx = k % 2 == 0 ? px + gap : px - gap - bw;
                by = py - bh / 2 + shifts[k / 2] * (bh + 2 * sc);
            } else {
                bx = px - bw / 2;
                by = k == 10 ? py - gap - bh : py + gap;
            }
            box b = {bx, by, bx + bw, by + bh};
            /* off the chart is worst, then over another text, over a
             * marker, and out of the plot into the margins */
            double area = bw * bh;
            double cost = (area - overlap(b, chart)) * 50 + (area - overlap(b, plot)) * 2;
            for (size_t j = 0; j < n_taken; j++)
                cost += overlap(b, taken[j]) * (j < n_markers ? 3 : 8);
            for (size_t j = 0; j < n_data; j++)
                cost += overlap(b, data[j]) * 3;
            if (cost < best_cost - 1e-9) {
                best_cost = cost;
                best = b;
            }
        }
        taken[n_taken++] = best;
        rect(g, best.x0, best.y0, bw, bh, &WHITE, &NOTE_EDGE, 0.6 * sc);
        g->text(g->ctx, best.x0 + bpad, best.y0 + bpad + 0.82 * ns, 0, SR_TEXT_LEFT, t, ns, 0, INK);
        free(t);
    }
    free(data);
    free(order);
    free(pos);
    free(taken);
}

static void draw_legend(const sr_layout *L, const sr_chart *c, const sr_gfx *g)
{
    const double sc = L->scale, ls = L->legend_size, swatch = 22 * sc, sw_gap = 6 * sc;
    for (size_t i = 0; i < L->n_legend; i++) {
        const sr_legend_entry *e = &L->legend[i];
        const sr_series *s = &c->series[e->series];
        sr_rgb col = palette_rgb(s->color);
        double mid = e->y - 0.33 * ls;
        switch (s->kind) {
        case SR_SERIES_LINE: {
            double xy[4] = {e->x, mid, e->x + swatch, mid};
            g->polyline(g->ctx, xy, 2, (s->emphasis ? 3.4 : 2.1) * sc, col, s->dashed);
            if (s->marker != SR_MARK_NONE)
                marker(g, s->marker, e->x + swatch / 2, mid, (s->marker == SR_MARK_STAR ? 6 : 3.4) * sc, &col, &WHITE,
                       0.9 * sc);
            break;
        }
        case SR_SERIES_POINTS:
            marker(g, s->marker == SR_MARK_NONE ? SR_MARK_CIRCLE : s->marker, e->x + swatch / 2, mid, 4 * sc, &col,
                   &WHITE, 0.9 * sc);
            break;
        case SR_SERIES_BARS:
            rect(g, e->x + swatch / 2 - 5 * sc, mid - 5 * sc, 10 * sc, 10 * sc, &col, NULL, 0);
            break;
        }
        g->text(g->ctx, e->x + swatch + sw_gap, e->y, 0, SR_TEXT_LEFT, e->text, ls, 0, INK);
    }
    if (L->more[0])
        g->text(g->ctx, L->more_x, L->more_y, 0, SR_TEXT_LEFT, L->more, ls, 0, SOFT_INK);
}

int sr_layout_draw(const sr_layout *L, const sr_chart *c, const sr_gfx *g)
{
    rect(g, 0, 0, L->width, L->height, &WHITE, NULL, 0);
    draw_grid(L, g);
    if (g->failed(g->ctx))
        return -1;

    size_t max_n = 0;
    for (size_t si = 0; si < c->n_series; si++)
        if (c->series[si].n > max_n)
            max_n = c->series[si].n;
    double *buf = xmalloc((2 * max_n + 2) * sizeof *buf);
    double m = 3 * L->scale;
    g->clip(g->ctx, L->x0 - m, L->y0 - m, L->x1 - L->x0 + 2 * m, L->y1 - L->y0 + 2 * m);
    /* faded series below the highlighted ones, the emphasised one on top */
    for (int pass = 0; pass < 3; pass++)
        for (size_t si = 0; si < c->n_series; si++) {
            const sr_series *s = &c->series[si];
            int layer = !s->highlighted ? 0 : s->emphasis ? 2 : 1;
            if (layer != pass)
                continue;
            draw_series(L, c, si, g, buf);
            if (g->failed(g->ctx)) {
                free(buf);
                return -1;
            }
        }
    g->unclip(g->ctx);
    free(buf);

    draw_axes(L, g);
    draw_notes(L, c, g);
    if (L->empty)
        g->text(g->ctx, (L->x0 + L->x1) / 2, (L->y0 + L->y1) / 2, 0, SR_TEXT_CENTER, "no data", L->label_size, 0,
                SOFT_INK);
    if (L->title)
        g->text(g->ctx, L->pad, L->title_y, 0, SR_TEXT_LEFT, L->title, L->title_size, 1, INK);
    if (L->subtitle)
        g->text(g->ctx, L->pad, L->subtitle_y, 0, SR_TEXT_LEFT, L->subtitle, L->subtitle_size, 0, SOFT_INK);
    if (L->subtitle2)
        g->text(g->ctx, L->pad, L->subtitle_y + 1.2 * L->subtitle_size, 0, SR_TEXT_LEFT, L->subtitle2,
                L->subtitle_size, 0, SOFT_INK);
    if (L->xlabel)
        g->text(g->ctx, (L->x0 + L->x1) / 2, L->xlabel_y, 0, SR_TEXT_CENTER, L->xlabel, L->label_size, 0, INK);
    if (L->ylabel)
        g->text(g->ctx, L->ylabel_x, (L->y0 + L->y1) / 2, 90, SR_TEXT_CENTER, L->ylabel, L->label_size, 0, INK);
    draw_legend(L, c, g);
    return g->failed(g->ctx) ? -1 : 0;
}
