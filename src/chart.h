/* chart.h - one plain description of a chart, drawn by two backends:
 * cairo (SVG for the HTML report, PNG) and libharu (vector drawing on a PDF
 * page).  Builders fill a sr_chart from the sweep and its analysis; the
 * backends know nothing about sweeps.
 *
 * Ownership: a chart owns everything it points to (strings, arrays), all on
 * the heap and released by sr_chart_free; set strings with xstrdup or the
 * helpers below.  Text is UTF-8 (invalid bytes are drawn as U+FFFD). */
#ifndef SR_CHART_H
#define SR_CHART_H

#include <stddef.h>

typedef enum { SR_AXIS_LINEAR, SR_AXIS_LOG } sr_axis_scale;

typedef struct {
    char *label;
    sr_axis_scale scale;
    int has_range;           /* min/max given; else from the data */
    double min, max;
    int integer;             /* ticks at whole numbers only (epochs, trial numbers) */
    char **categories;       /* a categorical axis: tick i at value i (NULL: numeric) */
    size_t n_categories;
} sr_axis;

typedef enum { SR_MARK_NONE, SR_MARK_CIRCLE, SR_MARK_SQUARE, SR_MARK_STAR } sr_marker;
typedef enum { SR_SERIES_LINE, SR_SERIES_POINTS, SR_SERIES_BARS } sr_series_kind;

typedef struct {
    char *name;              /* legend text and hover title */
    sr_series_kind kind;
    size_t n;
    double *x, *y;           /* NAN y: a gap */
    char **point_titles;     /* optional hover text per point (NULL) */
    int color;               /* palette index */
    int highlighted;         /* drawn strong; 0: faded */
    int emphasis;            /* the one to look at (the recommended trial): wider, drawn on top */
    sr_marker marker;
    int dashed;
} sr_series;

typedef struct {
    double x, y;
    char *text;
    sr_marker marker;        /* e.g. a star on the best checkpoint */
    int color;
} sr_annotation;

typedef struct {
    char *title;
    char *subtitle;
    sr_axis x, y;
    sr_series *series;
    size_t n_series;
    sr_annotation *notes;
    size_t n_notes;
    int legend;              /* show a legend of the highlighted series */
    /* parallel coordinates: one vertical axis per dimension; series x = axis index,
     * y = value normalised to [0, 1] by the builder, axis labels in x.categories */
    int parallel;
    /* parallel coordinates, optional: text at the bottom (value 0) and the top
     * (value 1) of axis i, e.g. "1e-5" and "1e-3"; set with sr_chart_parallel_ends */
    char **parallel_lo, **parallel_hi;
    size_t n_parallel_ends;
    /* allocated lengths of series and notes (managed by the helpers) */
    size_t cap_series, cap_notes;
} sr_chart;

/* Colour-blind-safe palette (Okabe-Ito), RGB in [0, 1]. */
#define SR_PALETTE_SIZE 8
void sr_palette(int index, double rgb[3]);

/* Nice 1-2-5 ticks covering [lo, hi]: at most max_ticks values written to
 * out; returns their number.  Log scale: powers of ten (with 2 and 5
 * between them when the range is short).  Pure, no allocation. */
size_t sr_nice_ticks(double lo, double hi, size_t max_ticks, sr_axis_scale scale, double *out, size_t cap);
/* Formats a tick value compactly ("0.5", "1e-4", "2000"). */
void sr_format_tick(double v, char *buf, size_t len);
/* Formats the ticks of one axis alike: the same number of decimals for all
 * (from the step), or exponents for all when the values are very small or
 * large ("1e-5", "1e-4", "1e-3" on a log axis rather than "0.001"). */
#define SR_TICK_TEXT_MAX 32
void sr_format_ticks(const double *v, size_t n, sr_axis_scale scale, char (*out)[SR_TICK_TEXT_MAX]);

/* Building.  sr_chart_init zeroes the chart and copies title (may be NULL).
 * sr_chart_add_series appends a series with n points (x[i] = i, y[i] = NAN),
 * highlighted, coloured by its position, no marker; the pointer stays valid
 * until the next series is added. */
void sr_chart_init(sr_chart *c, const char *title);
sr_series *sr_chart_add_series(sr_chart *c, const char *name, sr_series_kind kind, size_t n);
void sr_chart_add_note(sr_chart *c, double x, double y, const char *text, sr_marker marker, int color);
void sr_chart_free(sr_chart *c);
/* Replace a string field with a copy of text (NULL clears it). */
void sr_chart_set_subtitle(sr_chart *c, const char *subtitle);
void sr_axis_set_label(sr_axis *a, const char *label);
/* Makes the axis categorical with copies of the n names (tick i at value i). */
void sr_axis_set_categories(sr_axis *a, const char *const *names, size_t n);
void sr_axis_set_range(sr_axis *a, double min, double max);
/* Hover text of point i (the array of titles is created on first use). */
void sr_series_set_point_title(sr_series *s, size_t i, const char *title);
/* Parallel coordinates: the texts at the ends of axis i (either may be NULL). */
void sr_chart_parallel_ends(sr_chart *c, size_t axis, const char *lo, const char *hi);

/* Backends.  Each returns 0, or -1 with a reason in err. */
/* SVG text (UTF-8, self-contained); the caller frees.  Cairo draws, then an
 * invisible layer is added before </svg>: per series a
 * <g class="series" data-name="NAME"> with a <title> of its name, its line
 * and one <circle> (<rect> for bars) per point with its point title.  The
 * faded series keep their per-point titles up to 4000 points in all (the
 * line still names the series).  Element ids carry a prefix of their own,
 * so several charts can be inlined in one HTML page. */
char *sr_chart_svg(const sr_chart *c, double width, double height, char *err, size_t errlen);
/* PNG file, written atomically: 0, -1 (the chart cannot be drawn) or -2
 * (the file cannot be written), with a one-line reason. */
int sr_chart_png(const sr_chart *c, int width, int height, const char *path, char *err, size_t errlen);
/* Draws on an open libharu page (HPDF_Page) inside the box x, y, w, h (PDF
 * points, origin bottom left), with a font the caller loaded (HPDF_Font). */
int sr_chart_pdf(const sr_chart *c, void *hpdf_page, void *hpdf_font, double x, double y, double w, double h,
                 char *err, size_t errlen);
/* The same with a font set (pdf_text.h): each character in the font that
 * has it, CJK text in the fallback font. */
struct sr_pdf_fonts;
int sr_chart_pdf_fonts(const sr_chart *c, void *hpdf_page, struct sr_pdf_fonts *fonts, double x, double y, double w,
                       double h, char *err, size_t errlen);

#endif
