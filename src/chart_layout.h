/* chart_layout.h - where each part of a chart goes, and the drawing of it
 * through a handful of primitives that each backend provides.
 *
 * The layout is computed once per drawing in backend-neutral units with the
 * origin at the top left and y going down (the cairo convention); a backend
 * only strokes, fills and writes text where it is told (the PDF backend flips
 * y into its box).  Both backends therefore put every tick, label and legend
 * entry at the same place, measured with their own fonts. */
#ifndef SR_CHART_LAYOUT_H
#define SR_CHART_LAYOUT_H

#include "chart.h"

#include <stddef.h>

typedef struct {
    double r, g, b;
} sr_rgb;

typedef enum { SR_TEXT_LEFT, SR_TEXT_CENTER, SR_TEXT_RIGHT } sr_text_align;

/* The drawing primitives.  Coordinates: origin top left, y down.  Text is
 * valid UTF-8 without control characters, placed with its baseline at (x, y),
 * turned by angle degrees counterclockwise around that point.  fill or
 * stroke NULL: not filled / not stroked. */
typedef struct {
    void *ctx;
    double (*text_width)(void *ctx, const char *text, double size, int bold);
    void (*text)(void *ctx, double x, double y, double angle, sr_text_align align, const char *text, double size,
                 int bold, sr_rgb color);
    void (*polyline)(void *ctx, const double *xy, size_t n, double width, sr_rgb color, int dashed);
    void (*polygon)(void *ctx, const double *xy, size_t n, const sr_rgb *fill, const sr_rgb *stroke, double width);
    void (*circle)(void *ctx, double cx, double cy, double r, const sr_rgb *fill, const sr_rgb *stroke,
                   double width);
    void (*clip)(void *ctx, double x, double y, double w, double h);
    void (*unclip)(void *ctx);
    int (*failed)(void *ctx); /* nonzero: stop drawing (the backend holds the reason) */
    double hairline;          /* width of grid lines at scale 1 (0: one unit, kept on pixels) */
} sr_gfx;

#define SR_LAYOUT_MAX_TICKS 16

typedef struct {
    int log;                /* log10 mapping */
    int categorical;        /* ticks at 0..n_categories-1 */
    int integer;            /* numeric ticks at whole numbers only */
    size_t n_categories;
    double lo, hi;          /* the value range shown */
    double p_lo, p_hi;      /* where lo and hi land */
    size_t n_ticks;         /* numeric ticks and their text */
    double ticks[SR_LAYOUT_MAX_TICKS];
    char text[SR_LAYOUT_MAX_TICKS][SR_TICK_TEXT_MAX];
    char **cat_text;        /* category labels, shortened to fit (n_categories) */
    double cat_angle;       /* 0, or 45 when turned to fit */
    size_t cat_every;       /* every k-th category is labelled */
} sr_axis_map;

typedef struct {
    size_t series;          /* index into the chart's series */
    char *text;             /* the name, shortened to fit */
    double x, y;            /* left of the swatch, text baseline */
} sr_legend_entry;

typedef struct {
    double width, height;
    double scale;           /* of sizes relative to an 800 x 480 chart */
    double x0, y0, x1, y1;  /* plot area: left, top, right, bottom */
    sr_axis_map x, y;
    double font, tick_size, label_size, title_size, subtitle_size, legend_size, note_size;
    char *title, *subtitle, *xlabel, *ylabel; /* cleaned and shortened; NULL: none */
    char *subtitle2;         /* the subtitle's second line, where one is too short for it */
    double title_y, subtitle_y, xlabel_y, ylabel_x, pad;
    int parallel;
    size_t n_axes;          /* parallel coordinates: number of vertical axes */
    char **par_lo, **par_hi; /* their end texts (NULL entries: none) */
    int par_rows;            /* 2: the end texts of odd axes one line further out, where
                              * neighbours' would meet */
    sr_legend_entry *legend;
    size_t n_legend;
    int legend_right;       /* beside the plot; else below it */
    char more[48];          /* "+12 more" when the legend had no room */
    double more_x, more_y;
    size_t n_bar_groups;    /* bars side by side (1: overlaid) */
    size_t *bar_group;      /* per series: its place in the group */
    double bar_step;        /* value distance between neighbouring bars */
    int empty;              /* nothing to draw: a "no data" note */
} sr_layout;

/* Checks the chart and the size; 0, or -1 with a reason. */
int sr_chart_check(const sr_chart *c, double width, double height, char *err, size_t errlen);

/* Computes the layout, measuring text through g.  Returns 0, or -1 with a
 * reason (bad input).  Free with sr_layout_free either way. */
int sr_layout_compute(sr_layout *L, const sr_chart *c, double width, double height, const sr_gfx *g, char *err,
                      size_t errlen);
void sr_layout_free(sr_layout *L);

/* Value to position; NAN when it cannot be shown (non-finite, or not
 * positive on a log axis). */
double sr_layout_x(const sr_layout *L, double v);
double sr_layout_y(const sr_layout *L, double v);
/* Point i of series s: 1 with its position, 0 when it is a gap. */
int sr_layout_point(const sr_layout *L, const sr_series *s, size_t i, double *px, double *py);
/* The bar of point i of series index si: 1 with its rectangle, 0 if none. */
int sr_layout_bar(const sr_layout *L, const sr_chart *c, size_t si, size_t i, double *x, double *y, double *w,
                  double *h);

/* Draws the whole chart.  Returns 0, or -1 when the backend failed. */
int sr_layout_draw(const sr_layout *L, const sr_chart *c, const sr_gfx *g);

/* UTF-8 helpers: a copy with invalid bytes as U+FFFD and control characters
 * as spaces (never NULL); the index after the character at s[i]. */
char *sr_utf8_clean(const char *s);
size_t sr_utf8_next(const char *s, size_t i);

#endif
