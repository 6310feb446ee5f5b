/* chart_cairo.c - charts through cairo: SVG for the HTML report (with an
 * invisible layer of hover titles) and PNG files.  Text goes through pango,
 * so UTF-8 and CJK names draw with whatever fonts fontconfig finds. */
#include "config.h"

#include "atomic_file.h"
#include "chart.h"
#include "chart_layout.h"
#include "png_io.h"
#include "util.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FONT_FAMILIES "DejaVu Sans,Noto Sans CJK SC,Noto Sans CJK JP,Noto Sans,sans-serif"
#define PI 3.14159265358979323846

typedef struct {
    cairo_t *cr;
    PangoLayout *layout;
    PangoFontDescription *desc;
    double size;
    int bold;
} cairo_gfx;

static void set_font(cairo_gfx *c, double size, int bold)
{
    if (size == c->size && bold == c->bold)
        return;
    pango_font_description_set_absolute_size(c->desc, size * PANGO_SCALE);
    pango_font_description_set_weight(c->desc, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(c->layout, c->desc);
    c->size = size;
    c->bold = bold;
}

static double cg_text_width(void *ctx, const char *text, double size, int bold)
{
    cairo_gfx *c = ctx;
    set_font(c, size, bold);
    pango_layout_set_text(c->layout, text, -1);
    PangoRectangle logical;
    pango_layout_get_extents(c->layout, NULL, &logical);
    return (double)logical.width / PANGO_SCALE;
}

static void cg_text(void *ctx, double x, double y, double angle, sr_text_align align, const char *text, double size,
                    int bold, sr_rgb color)
{
    cairo_gfx *c = ctx;
    if (!text || !*text)
        return;
    cairo_save(c->cr);
    cairo_translate(c->cr, x, y);
    if (angle != 0)
        cairo_rotate(c->cr, -angle * PI / 180);
    set_font(c, size, bold);
    pango_layout_set_text(c->layout, text, -1);
    pango_cairo_update_layout(c->cr, c->layout);
    PangoRectangle logical;
    pango_layout_get_extents(c->layout, NULL, &logical);
    double w = (double)logical.width / PANGO_SCALE;
    double dx = -(double)logical.x / PANGO_SCALE;
    if (align == SR_TEXT_CENTER)
        dx -= w / 2;
    else if (align == SR_TEXT_RIGHT)
        dx -= w;
    double baseline = (double)pango_layout_get_baseline(c->layout) / PANGO_SCALE;
    cairo_move_to(c->cr, dx, -baseline);
    cairo_set_source_rgb(c->cr, color.r, color.g, color.b);
    pango_cairo_show_layout(c->cr, c->layout);
    cairo_restore(c->cr);
}

static void path(cairo_t *cr, const double *xy, size_t n)
{
    cairo_new_path(cr);
    cairo_move_to(cr, xy[0], xy[1]);
    for (size_t i = 1; i < n; i++)
        cairo_line_to(cr, xy[2 * i], xy[2 * i + 1]);
}

static void cg_polyline(void *ctx, const double *xy, size_t n, double width, sr_rgb color, int dashed)
{
    cairo_gfx *c = ctx;
    if (n < 2)
        return;
    path(c->cr, xy, n);
    cairo_set_line_width(c->cr, width);
    cairo_set_source_rgb(c->cr, color.r, color.g, color.b);
    if (dashed) {
        double d[2] = {3.5 * width, 2 * width};
        cairo_set_dash(c->cr, d, 2, 0);
    }
    cairo_stroke(c->cr);
    if (dashed)
        cairo_set_dash(c->cr, NULL, 0, 0);
}

static void fill_stroke(cairo_t *cr, const sr_rgb *fill, const sr_rgb *stroke, double width)
{
    if (fill) {
        cairo_set_source_rgb(cr, fill->r, fill->g, fill->b);
        cairo_fill_preserve(cr);
    }
    if (stroke && width > 0) {
        cairo_set_line_width(cr, width);
        cairo_set_source_rgb(cr, stroke->r, stroke->g, stroke->b);
        cairo_stroke_preserve(cr);
    }
    cairo_new_path(cr);
}

static void cg_polygon(void *ctx, const double *xy, size_t n, const sr_rgb *fill, const sr_rgb *stroke, double width)
{
    cairo_gfx *c = ctx;
    if (n < 3)
        return;
    path(c->cr, xy, n);
    cairo_close_path(c->cr);
    fill_stroke(c->cr, fill, stroke, width);
}

static void cg_circle(void *ctx, double cx, double cy, double r, const sr_rgb *fill, const sr_rgb *stroke,
                      double width)
{
    cairo_gfx *c = ctx;
    cairo_new_path(c->cr);
    cairo_arc(c->cr, cx, cy, r, 0, 2 * PI);
    cairo_close_path(c->cr);
    fill_stroke(c->cr, fill, stroke, width);
}

static void cg_clip(void *ctx, double x, double y, double w, double h)
{
    cairo_gfx *c = ctx;
    cairo_save(c->cr);
    cairo_new_path(c->cr);
    cairo_rectangle(c->cr, x, y, w, h);
    cairo_clip(c->cr);
}

static void cg_unclip(void *ctx)
{
    cairo_gfx *c = ctx;
    cairo_restore(c->cr);
}

static int cg_failed(void *ctx)
{
    cairo_gfx *c = ctx;
    return cairo_status(c->cr) != CAIRO_STATUS_SUCCESS;
}

/* The font map of every chart this thread draws: made once, so that
 * fontconfig matches the fonts once rather than for every chart (which
 * cost more than drawing them), and kept, reachable, until the thread
 * ends. */
static _Thread_local PangoFontMap *tl_font_map;

static PangoFontMap *chart_font_map(void)
{
    if (!tl_font_map)
        tl_font_map = pango_cairo_font_map_new();
    return tl_font_map;
}

/* Lays out and draws c on surf; L is kept for the caller (free it). */
static int render(cairo_surface_t *surf, const sr_chart *c, double width, double height, sr_layout *L, char *err,
                  size_t errlen)
{
    memset(L, 0, sizeof *L);
    cairo_t *cr = cairo_create(surf);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "cairo: %s", cairo_status_to_string(cairo_status(cr)));
        cairo_destroy(cr);
        return -1;
    }
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);

    PangoContext *pc = pango_font_map_create_context(chart_font_map());
    pango_cairo_update_context(cr, pc);
    cairo_gfx cg = {cr, pango_layout_new(pc), pango_font_description_new(), -1, -1};
    pango_font_description_set_family(cg.desc, FONT_FAMILIES);
    /* unhinted metrics: the same text widths in SVG, PNG and at any size */
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    pango_cairo_context_set_font_options(pc, fo);
    pango_context_set_round_glyph_positions(pc, FALSE);
    cairo_font_options_destroy(fo);
    pango_layout_context_changed(cg.layout);

    sr_gfx g = {&cg, cg_text_width, cg_text, cg_polyline, cg_polygon, cg_circle, cg_clip, cg_unclip, cg_failed, 0};
    int rc = sr_layout_compute(L, c, width, height, &g, err, errlen);
    if (rc == 0 && sr_layout_draw(L, c, &g) != 0) {
        snprintf(err, errlen, "cairo: %s", cairo_status_to_string(cairo_status(cr)));
        rc = -1;
    }
    g_object_unref(cg.layout);
    g_object_unref(pc);
    pango_font_description_free(cg.desc);
    cairo_destroy(cr);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* SVG                                                                       */
/* ------------------------------------------------------------------------ */

static cairo_status_t buf_write(void *closure, const unsigned char *data, unsigned int length)
{
    sr_buf_append(closure, data, length);
    return CAIRO_STATUS_SUCCESS;
}

/* XML text or attribute value; s is clean UTF-8. */
static void xml_escape(sr_buf *b, const char *s)
{
    if (!s)
        return;
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': sr_buf_puts(b, "&amp;"); break;
        case '<': sr_buf_puts(b, "&lt;"); break;
        case '>': sr_buf_puts(b, "&gt;"); break;
        case '"': sr_buf_puts(b, "&quot;"); break;
        case '\'': sr_buf_puts(b, "&apos;"); break;
        default: sr_buf_append(b, p, 1);
        }
    }
}

static void xml_escape_clean(sr_buf *b, const char *s)
{
    char *t = sr_utf8_clean(s);
    xml_escape(b, t);
    free(t);
}

/* Cairo names its glyphs and clips "glyph0-1", "clip1" in every file: give
 * them a prefix of their own so that several charts can live inline in one
 * HTML page. */
static void prefix_ids(sr_buf *out, const char *svg, size_t len, const char *prefix)
{
    static const char *const pats[] = {" id=\"", "href=\"#", "url(#"};
    size_t i = 0;
    while (i < len) {
        int hit = -1;
        for (int k = 0; k < 3; k++) {
            size_t pl = strlen(pats[k]);
            if (i + pl <= len && memcmp(svg + i, pats[k], pl) == 0) {
                hit = k;
                break;
            }
        }
        if (hit < 0) {
            size_t j = i + 1;
            while (j < len && svg[j] != ' ' && svg[j] != 'h' && svg[j] != 'u')
                j++;
            sr_buf_append(out, svg + i, j - i);
            i = j;
            continue;
        }
        size_t pl = strlen(pats[hit]);
        sr_buf_append(out, svg + i, pl);
        sr_buf_puts(out, prefix);
        i += pl;
    }
}

/* Cairo also names each drawing surface "surfaceN" after a counter shared by
 * every surface the process has made, so the same chart would come out with
 * other names after other drawing, or when charts are drawn in parallel.
 * Renumbered here in order of first appearance, from 1: the same chart gives
 * the same bytes, whatever was drawn before it. */
static void number_surfaces(sr_buf *raw)
{
    static const char tag[] = "surface";
    const size_t tl = sizeof tag - 1;
    if (!raw->s || !strstr(raw->s, tag))
        return;
    unsigned long *seen = NULL;
    size_t n_seen = 0;
    sr_buf out;
    sr_buf_init(&out);
    size_t i = 0;
    while (i < raw->len) {
        const char *hit = strstr(raw->s + i, tag);
        if (!hit || hit + tl >= raw->s + raw->len || *(hit + tl) < '0' || *(hit + tl) > '9') {
            size_t stop = hit ? (size_t)(hit - raw->s) + tl : raw->len;
            sr_buf_append(&out, raw->s + i, stop - i);
            i = stop;
            continue;
        }
        sr_buf_append(&out, raw->s + i, (size_t)(hit - raw->s) + tl - i);
        char *end;
        unsigned long id = strtoul(hit + tl, &end, 10);
        size_t k = 0;
        while (k < n_seen && seen[k] != id)
            k++;
        if (k == n_seen) {
            seen = xrealloc(seen, (n_seen + 1) * sizeof *seen);
            seen[n_seen++] = id;
        }
        sr_buf_printf(&out, "%zu", k + 1);
        i = (size_t)(end - raw->s);
    }
    free(seen);
    sr_buf_free(raw);
    *raw = out;
}

/* Hover targets of single points, at most this many for the faded series
 * together: past that they overlap into a grey mass and only bloat the file. */
#define FADED_POINT_TITLES 4000

static void overlay_series(sr_buf *b, const sr_layout *L, const sr_chart *c, size_t si, int point_titles)
{
    const sr_series *s = &c->series[si];
    sr_buf_printf(b, "<g class=\"series\" data-index=\"%zu\" data-highlighted=\"%d\" data-name=\"", si,
                  s->highlighted ? 1 : 0);
    xml_escape_clean(b, s->name ? s->name : "");
    sr_buf_puts(b, "\"><title>");
    xml_escape_clean(b, s->name ? s->name : "");
    sr_buf_puts(b, "</title>");
    double px, py;
    if (s->kind == SR_SERIES_LINE) {
        /* the line itself, wide and invisible, one polyline per run */
        int open = 0;
        for (size_t i = 0; i <= s->n; i++) {
            int ok = i < s->n && sr_layout_point(L, s, i, &px, &py);
            if (ok) {
                sr_buf_printf(b, "%s%.1f,%.1f", open ? " " : "<polyline fill=\"none\" stroke-width=\"8\" points=\"", px,
                              py);
                open = 1;
            } else if (open) {
                sr_buf_puts(b, "\"/>");
                open = 0;
            }
        }
    }
    double r = 6 * L->scale;
    for (size_t i = 0; i < s->n; i++) {
        const char *t = s->point_titles && point_titles ? s->point_titles[i] : NULL;
        if (s->kind == SR_SERIES_BARS) {
            double x, y, w, h;
            if (!sr_layout_bar(L, c, si, i, &x, &y, &w, &h))
                continue;
            sr_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"", x, y, w, h);
        } else {
            if ((s->kind == SR_SERIES_LINE && !t) || !sr_layout_point(L, s, i, &px, &py))
                continue;
            sr_buf_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"", px, py, r);
        }
        if (t) {
            sr_buf_puts(b, "><title>");
            xml_escape_clean(b, t);
            sr_buf_puts(b, s->kind == SR_SERIES_BARS ? "</title></rect>" : "</title></circle>");
        } else {
            sr_buf_puts(b, "/>");
        }
    }
    sr_buf_puts(b, "</g>\n");
}

static void overlay(sr_buf *b, const sr_layout *L, const sr_chart *c)
{
    sr_buf_puts(b, "<g class=\"hover\" fill=\"#000\" fill-opacity=\"0\" stroke=\"#000\" stroke-opacity=\"0\">\n");
    size_t faded_titles = 0;
    for (size_t si = 0; si < c->n_series; si++)
        if (!c->series[si].highlighted && c->series[si].point_titles)
            faded_titles += c->series[si].n;
    /* in the order they are drawn: faded, highlighted, the emphasised one */
    for (int pass = 0; pass < 3; pass++)
        for (size_t si = 0; si < c->n_series; si++) {
            const sr_series *s = &c->series[si];
            if ((!s->highlighted ? 0 : s->emphasis ? 2 : 1) == pass)
                overlay_series(b, L, c, si, pass > 0 || faded_titles <= FADED_POINT_TITLES);
        }
    for (size_t k = 0; k < c->n_notes; k++) {
        const sr_annotation *a = &c->notes[k];
        double px = sr_layout_x(L, a->x), py = sr_layout_y(L, a->y);
        if (isnan(px) || isnan(py) || !a->text)
            continue;
        sr_buf_printf(b, "<g class=\"note\"><title>");
        xml_escape_clean(b, a->text);
        sr_buf_printf(b, "</title><circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"/></g>\n", px, py, 9 * L->scale);
    }
    sr_buf_puts(b, "</g>\n");
}

char *sr_chart_svg(const sr_chart *c, double width, double height, char *err, size_t errlen)
{
    if (sr_chart_check(c, width, height, err, errlen) != 0)
        return NULL;
    sr_buf raw;
    sr_buf_init(&raw);
    cairo_surface_t *surf = cairo_svg_surface_create_for_stream(buf_write, &raw, width, height);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "cairo svg: %s", cairo_status_to_string(cairo_surface_status(surf)));
        cairo_surface_destroy(surf);
        sr_buf_free(&raw);
        return NULL;
    }
    cairo_svg_surface_restrict_to_version(surf, CAIRO_SVG_VERSION_1_1);
    cairo_svg_surface_set_document_unit(surf, CAIRO_SVG_UNIT_PX);
    sr_layout L;
    int rc = render(surf, c, width, height, &L, err, errlen);
    cairo_surface_finish(surf);
    if (rc == 0 && cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "cairo svg: %s", cairo_status_to_string(cairo_surface_status(surf)));
        rc = -1;
    }
    cairo_surface_destroy(surf);
    const char *end = NULL;
    if (rc == 0) {
        number_surfaces(&raw);
        /* the overlay goes before the last </svg> */
        for (size_t i = raw.len; raw.s && i >= 6; i--)
            if (memcmp(raw.s + i - 6, "</svg>", 6) == 0) {
                end = raw.s + i - 6;
                break;
            }
        if (!end) {
            snprintf(err, errlen, "cairo svg: no closing </svg>");
            rc = -1;
        }
    }
    if (rc != 0) {
        sr_layout_free(&L);
        sr_buf_free(&raw);
        return NULL;
    }
    char prefix[24];
    snprintf(prefix, sizeof prefix, "c%08x-", (unsigned)(sr_hash64(raw.s, raw.len) & 0xffffffffu));
    sr_buf out;
    sr_buf_init(&out);
    /* the root element carries the title for screen readers */
    const char *root = strstr(raw.s, "<svg");
    size_t head = root ? (size_t)(root - raw.s) + 4 : 0;
    sr_buf_append(&out, raw.s, head);
    if (root) {
        sr_buf_puts(&out, " role=\"img\" aria-label=\"");
        xml_escape(&out, L.title ? L.title : "chart");
        sr_buf_puts(&out, "\"");
    }
    prefix_ids(&out, raw.s + head, (size_t)(end - raw.s) - head, prefix);
    overlay(&out, &L, c);
    sr_buf_puts(&out, end);
    sr_layout_free(&L);
    sr_buf_free(&raw);
    return sr_buf_steal(&out);
}

/* ------------------------------------------------------------------------ */
/* PNG                                                                       */
/* ------------------------------------------------------------------------ */

int sr_chart_png(const sr_chart *c, int width, int height, const char *path, char *err, size_t errlen)
{
    if (!path || !*path) {
        snprintf(err, errlen, "no output path");
        return -1;
    }
    if (sr_chart_check(c, width, height, err, errlen) != 0)
        return -1;
    if ((double)width * height > 1e8) {
        snprintf(err, errlen, "chart size %d x %d is too large for a PNG", width, height);
        return -1;
    }
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "cairo: %s", cairo_status_to_string(cairo_surface_status(surf)));
        cairo_surface_destroy(surf);
        return -1;
    }
    sr_layout L;
    int rc = render(surf, c, width, height, &L, err, errlen);
    sr_layout_free(&L);
    cairo_surface_flush(surf);
    if (rc == 0) {
        /* RGB24 pixels are 0x00RRGGBB words; libpng gets plain RGB bytes,
         * written unfiltered with light compression (charts are flat colour) */
        const unsigned char *px = cairo_image_surface_get_data(surf);
        const int stride = cairo_image_surface_get_stride(surf);
        uint8_t *rgb = xmalloc((size_t)width * (size_t)height * 3);
        for (int y = 0; y < height; y++) {
            const uint32_t *row = (const uint32_t *)(const void *)(px + (size_t)y * (size_t)stride);
            uint8_t *o = rgb + (size_t)y * (size_t)width * 3;
            for (int x = 0; x < width; x++) {
                o[3 * x] = (uint8_t)(row[x] >> 16);
                o[3 * x + 1] = (uint8_t)(row[x] >> 8);
                o[3 * x + 2] = (uint8_t)row[x];
            }
        }
        rc = sr_png_write_rgb8_filtered(path, rgb, width, height, SR_PNG_FILTER_NONE, err, errlen);
        free(rgb);
    }
    cairo_surface_destroy(surf);
    return rc;
}
