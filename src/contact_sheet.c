/* contact_sheet.c - thumbnails on a grid with cairo, text with pango,
 * encoded with libturbojpeg. */
#include "config.h"

#include "contact_sheet.h"
#include "atomic_file.h"
#include "png_io.h"
#include "thumbs.h"
#include "util.h"

#include <cairo.h>
#include <errno.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#define FONT_FAMILIES "DejaVu Sans,Noto Sans CJK SC,Noto Sans CJK JP,Noto Sans,sans-serif"
#define FONT_PX 12.0
#define MARGIN 10      /* around everything */
#define GAP 4          /* between cells */
#define LABEL_PAD 10   /* between the labels and the first column */
#define LABEL_MAX 200  /* longer labels are ellipsized */
#define MAX_CELL 4096
#define MAX_SHEET 32767 /* cairo's limit for an image surface */
#define JPEG_QUALITY 85

#define BG 0.965
#define PLACEHOLDER 0.88
#define LABEL_INK 0.22
#define NOTE_INK 0.55

typedef struct {
    cairo_t *cr;
    PangoContext *pc;
    PangoLayout *layout;
    PangoFontDescription *desc;
} text_ctx;

/* The font map of every sheet this thread draws: made once, so that
 * fontconfig matches the fonts once, and kept, reachable, until the thread
 * ends. */
static _Thread_local PangoFontMap *tl_font_map;

static PangoFontMap *sheet_font_map(void)
{
    if (!tl_font_map)
        tl_font_map = pango_cairo_font_map_new();
    return tl_font_map;
}

static void text_open(text_ctx *t, cairo_t *cr)
{
    t->cr = cr;
    t->pc = pango_font_map_create_context(sheet_font_map());
    pango_cairo_update_context(cr, t->pc);
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_SLIGHT);
    pango_cairo_context_set_font_options(t->pc, fo);
    cairo_font_options_destroy(fo);
    t->layout = pango_layout_new(t->pc);
    t->desc = pango_font_description_new();
    pango_font_description_set_family(t->desc, FONT_FAMILIES);
    pango_font_description_set_absolute_size(t->desc, FONT_PX * PANGO_SCALE);
    pango_layout_set_font_description(t->layout, t->desc);
    pango_layout_set_width(t->layout, LABEL_MAX * PANGO_SCALE);
    pango_layout_set_ellipsize(t->layout, PANGO_ELLIPSIZE_END);
    pango_layout_set_single_paragraph_mode(t->layout, TRUE);
}

static void text_close(text_ctx *t)
{
    g_object_unref(t->layout);
    g_object_unref(t->pc);
    pango_font_description_free(t->desc);
}

/* Logical size of s in whole pixels. */
static void text_size(text_ctx *t, const char *s, int *w, int *h)
{
    pango_layout_set_text(t->layout, s, -1);
    PangoRectangle r;
    pango_layout_get_pixel_extents(t->layout, NULL, &r);
    *w = r.width;
    *h = r.height;
}

/* Draws s with its logical box's left edge at x, centred on cy. */
static void text_draw(text_ctx *t, const char *s, double x, double cy, double ink)
{
    int w, h;
    text_size(t, s, &w, &h);
    cairo_set_source_rgb(t->cr, ink, ink, ink);
    cairo_move_to(t->cr, x, (double)(int)(cy - h / 2.0 + 0.5));
    pango_cairo_update_layout(t->cr, t->layout);
    pango_cairo_show_layout(t->cr, t->layout);
}

/* Draws a tw x th RGB8 image into the dw x dh rectangle at (x, y). */
static int draw_thumb(cairo_t *cr, const uint8_t *rgb, int tw, int th, int x, int y, int dw, int dh)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, tw, th);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return -1;
    }
    cairo_surface_flush(s);
    unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int j = 0; j < th; j++) {
        uint32_t *dst = (uint32_t *)(void *)(data + (size_t)j * (size_t)stride);
        const uint8_t *src = rgb + (size_t)j * (size_t)tw * 3;
        for (int i = 0; i < tw; i++)
            dst[i] = (uint32_t)src[3 * i] << 16 | (uint32_t)src[3 * i + 1] << 8 | src[3 * i + 2];
    }
    cairo_surface_mark_dirty(s);
    cairo_save(cr);
    cairo_rectangle(cr, x, y, dw, dh);
    cairo_clip(cr);
    cairo_translate(cr, x, y);
    if (dw != tw || dh != th)
        cairo_scale(cr, (double)dw / tw, (double)dh / th);
    cairo_set_source_surface(cr, s, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
    cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_surface_destroy(s);
    return 0;
}

/* The surface's pixels as JPEG, written atomically. */
static int write_jpeg(cairo_surface_t *surf, const char *path, char *err, size_t errlen)
{
    cairo_surface_flush(surf);
    int w = cairo_image_surface_get_width(surf), h = cairo_image_surface_get_height(surf);
    int stride = cairo_image_surface_get_stride(surf);
    const unsigned char *data = cairo_image_surface_get_data(surf);
    /* CAIRO_FORMAT_RGB24 is a native-endian 32-bit 0xXXRRGGBB */
    const uint32_t probe = 1;
    int pf = *(const unsigned char *)&probe == 1 ? TJPF_BGRX : TJPF_XRGB;
    tjhandle tj = tjInitCompress();
    if (!tj) {
        snprintf(err, errlen, "%s: cannot start the JPEG encoder", path);
        return -1;
    }
    unsigned char *jpeg = NULL;
    unsigned long jlen = 0;
    if (tjCompress2(tj, data, w, stride, h, pf, &jpeg, &jlen, TJSAMP_420, JPEG_QUALITY, TJFLAG_ACCURATEDCT) != 0) {
        snprintf(err, errlen, "%s: cannot encode JPEG: %s", path, tjGetErrorStr2(tj));
        tjFree(jpeg);
        tjDestroy(tj);
        return -1;
    }
    tjDestroy(tj);
    int rc = sr_write_file_atomic(path, jpeg, jlen, SR_ATOMIC_REPLACE);
    if (rc != 0)
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
    tjFree(jpeg);
    return rc;
}

/* Where a tw x th thumbnail goes in a cell at (cx, cy): centred, scaled down
 * to fit when larger. */
static sr_rect fit_in_cell(int tw, int th, int cx, int cy, int cell)
{
    int dw = tw, dh = th;
    if (tw > cell || th > cell) {
        if (tw >= th) {
            dw = cell;
            dh = (int)(((int64_t)th * cell + tw / 2) / tw);
        } else {
            dh = cell;
            dw = (int)(((int64_t)tw * cell + th / 2) / th);
        }
        if (dw < 1)
            dw = 1;
        if (dh < 1)
            dh = 1;
    }
    sr_rect r = {cx + (cell - dw) / 2, cy + (cell - dh) / 2, dw, dh};
    return r;
}

int sr_contact_sheet_jpeg(const sr_sheet_row *rows, size_t n_rows, int cell, const char *path, sr_rect **cells,
                          int *sheet_w, int *sheet_h, char *err, size_t errlen)
{
    if (cells)
        *cells = NULL;
    if (sheet_w)
        *sheet_w = 0;
    if (sheet_h)
        *sheet_h = 0;
    if (n_rows == 0) {
        snprintf(err, errlen, "%s: a contact sheet needs at least one row", path);
        return -1;
    }
    if (cell < 1 || cell > MAX_CELL) {
        snprintf(err, errlen, "%s: invalid cell size %d", path, cell);
        return -1;
    }
    size_t max_cols = 0;
    for (size_t r = 0; r < n_rows; r++) {
        const sr_sheet_row *row = &rows[r];
        if (row->n > 0 && (!row->thumbs || !row->tw || !row->th)) {
            snprintf(err, errlen, "%s: row %zu has no thumbnail arrays", path, r + 1);
            return -1;
        }
        for (size_t c = 0; c < row->n; c++)
            if (row->thumbs[c] &&
                (row->tw[c] <= 0 || row->th[c] <= 0 || row->tw[c] > SR_PNG_MAX_SIDE || row->th[c] > SR_PNG_MAX_SIDE)) {
                snprintf(err, errlen, "%s: row %zu, column %zu: invalid thumbnail size %dx%d", path, r + 1, c + 1,
                         row->tw[c], row->th[c]);
                return -1;
            }
        if (row->n > max_cols)
            max_cols = row->n;
    }
    /* an all-empty sheet keeps one column's room for "no samples" */
    size_t draw_cols = max_cols ? max_cols : 1;
    if (n_rows > MAX_SHEET || draw_cols > MAX_SHEET ||
        (uint64_t)draw_cols * (uint64_t)(cell + GAP) + LABEL_MAX + LABEL_PAD + 2 * MARGIN > MAX_SHEET ||
        (uint64_t)n_rows * (uint64_t)(cell + GAP) + 2 * MARGIN > MAX_SHEET) {
        snprintf(err, errlen, "%s: %zu rows x %zu columns of %d pixels is too large a sheet", path, n_rows, draw_cols,
                 cell);
        return -1;
    }

    /* measure the labels on a scratch surface */
    cairo_surface_t *scratch = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t *mcr = cairo_create(scratch);
    text_ctx t;
    text_open(&t, mcr);
    int label_w = 0;
    for (size_t r = 0; r < n_rows; r++) {
        if (!rows[r].label || !rows[r].label[0])
            continue;
        int w, h;
        text_size(&t, rows[r].label, &w, &h);
        if (w > label_w)
            label_w = w;
    }
    text_close(&t);
    cairo_destroy(mcr);
    cairo_surface_destroy(scratch);
    if (label_w > LABEL_MAX)
        label_w = LABEL_MAX;

    int x0 = MARGIN + (label_w > 0 ? label_w + LABEL_PAD : 0);
    int W = x0 + (int)draw_cols * cell + ((int)draw_cols - 1) * GAP + MARGIN;
    int H = MARGIN + (int)n_rows * cell + ((int)n_rows - 1) * GAP + MARGIN;

    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(surf);
    if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "%s: cairo: %s", path, cairo_status_to_string(cairo_status(cr)));
        cairo_destroy(cr);
        cairo_surface_destroy(surf);
        return -1;
    }
    cairo_set_source_rgb(cr, BG, BG, BG);
    cairo_paint(cr);
    text_open(&t, cr);

    sr_rect *rects = max_cols ? xcalloc(n_rows * max_cols, sizeof *rects) : NULL;
    int rc = 0;
    for (size_t r = 0; r < n_rows && rc == 0; r++) {
        const sr_sheet_row *row = &rows[r];
        int y = MARGIN + (int)r * (cell + GAP);
        if (row->label && row->label[0])
            text_draw(&t, row->label, MARGIN, y + cell / 2.0, LABEL_INK);
        if (row->n == 0)
            text_draw(&t, "no samples", x0, y + cell / 2.0, NOTE_INK);
        for (size_t c = 0; c < row->n && rc == 0; c++) {
            int x = x0 + (int)c * (cell + GAP);
            if (!row->thumbs[c]) {
                cairo_set_source_rgb(cr, PLACEHOLDER, PLACEHOLDER, PLACEHOLDER);
                cairo_rectangle(cr, x, y, cell, cell);
                cairo_fill(cr);
                continue;
            }
            sr_rect d = fit_in_cell(row->tw[c], row->th[c], x, y, cell);
            if (draw_thumb(cr, row->thumbs[c], row->tw[c], row->th[c], d.x, d.y, d.w, d.h) != 0)
                rc = -1;
            else
                rects[r * max_cols + c] = d;
        }
    }
    text_close(&t);
    if (rc == 0 && cairo_status(cr) != CAIRO_STATUS_SUCCESS)
        rc = -1;
    if (rc != 0)
        snprintf(err, errlen, "%s: cairo: %s", path,
                 cairo_status(cr) != CAIRO_STATUS_SUCCESS ? cairo_status_to_string(cairo_status(cr))
                                                          : "cannot create a thumbnail surface");
    cairo_destroy(cr);
    if (rc == 0)
        rc = write_jpeg(surf, path, err, errlen);
    cairo_surface_destroy(surf);
    if (rc != 0) {
        free(rects);
        return -1;
    }
    if (cells)
        *cells = rects;
    else
        free(rects);
    if (sheet_w)
        *sheet_w = W;
    if (sheet_h)
        *sheet_h = H;
    return 0;
}

void sr_sheet_row_load(sr_sheet_row *row, const char *sweep_path, const sr_trial *t, const sr_checkpoint *c, int store,
                       size_t max_cols, char **whys)
{
    size_t n = max_cols > 0 && c->n_samples > max_cols ? max_cols : c->n_samples;
    uint8_t **th = xcalloc(n ? n : 1, sizeof *th);
    int *tw = xcalloc(n ? n : 1, sizeof *tw);
    int *thh = xcalloc(n ? n : 1, sizeof *thh);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
    for (size_t k = 0; k < n; k++) {
        char why[SR_MSG_MAX];
        whys[k] = NULL;
        if (sr_thumb_load(sweep_path, t->path, t->name, c->samples[k], store, &th[k], &tw[k], &thh[k], why,
                          sizeof why) != 0) {
            char *abs = sr_path_join(t->path, c->samples[k]);
            if (!sr_vanished(abs))
                whys[k] = xstrdup(why);
            free(abs);
        }
    }
    row->label = c->epoch >= 0 ? xasprintf("epoch %ld", c->epoch) : xstrdup(c->final ? "final" : c->file);
    row->n = n;
    row->thumbs = (const uint8_t *const *)th;
    row->tw = tw;
    row->th = thh;
}

void sr_sheet_row_free(sr_sheet_row *row)
{
    for (size_t k = 0; k < row->n; k++)
        free((void *)row->thumbs[k]);
    free((void *)row->thumbs);
    free((void *)row->tw);
    free((void *)row->th);
    free((void *)row->label);
    memset(row, 0, sizeof *row);
}
