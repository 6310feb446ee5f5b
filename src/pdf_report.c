/* pdf_report.c - the sweep report as one PDF: summary, leaderboard, charts,
 * one section per trial and the problems, with bookmarks and page numbers. */
#include "config.h"

#include "pdf_report.h"

#include "atomic_file.h"
#include "chart.h"
#include "charts.h"
#include "contact_sheet.h"
#include "png_io.h"
#include "thumbs.h"
#include "util.h"

#include <errno.h>
#include <hpdf.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAGE_W 595.0
#define PAGE_H 842.0
#define MARGIN 40.0
#define CONTENT_W (PAGE_W - 2 * MARGIN)
#define TOP (PAGE_H - MARGIN)
#define BOTTOM 50.0 /* above the footer */

#define DEJAVU "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#define DEJAVU_BOLD "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

/* CJK candidates, TrueType outlines first.  libharu 2.3 reads only
 * TrueType (glyf) outlines: the Noto CJK collections carry CFF outlines and
 * are refused, which is fine - the next candidate is tried, and without any
 * CJK font the CJK characters are drawn as '?' (DejaVu has no glyphs for
 * them). */
static const struct {
    const char *path;
    int index; /* -1: a plain .ttf */
} cjk_fonts[] = {
    {"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0},
    {"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0},
    {"/usr/share/fonts/truetype/arphic/uming.ttc", 0},
    {"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", -1},
    {"/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc", 0},
    {"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 0},
};

typedef struct {
    HPDF_STATUS code, detail;
} pdf_error;

typedef struct {
    HPDF_Doc doc;
    pdf_error *perr;
    HPDF_Font reg, bold, cjk;
    HPDF_Page page;
    HPDF_Page *pages;
    size_t n_pages, cap_pages;
    const char *section; /* shown in the footer */
    char **sections;     /* per page */
    const sr_sweep *s;
    const sr_analysis *a;
    sr_problems extra;   /* problems found while writing */
    sr_buf tb;           /* scratch text */
    char *tmp_jpg;       /* scratch JPEG path beside the output */
} pdfw;

static void on_error(HPDF_STATUS code, HPDF_STATUS detail, void *user)
{
    pdf_error *e = user;
    if (e->code == HPDF_OK) {
        e->code = code;
        e->detail = detail;
    }
}

static int failed(const pdfw *w)
{
    return w->perr->code != HPDF_OK;
}

/* ---- text ------------------------------------------------------------------ */

static size_t utf8_next(const unsigned char *s, unsigned *cp)
{
    unsigned c = s[0];
    size_t n;
    unsigned v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return i;
        }
        v = v << 6 | (s[i] & 0x3F);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) || (v >= 0xD800 && v <= 0xDFFF))
        v = 0xFFFD;
    *cp = v;
    return n;
}

static int is_cjk(unsigned cp)
{
    return (cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xA960 && cp <= 0xA97F) ||
           (cp >= 0xAC00 && cp <= 0xD7FF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
           (cp >= 0xFF00 && cp <= 0xFFEF) || cp >= 0x20000;
}

static void put_cp(sr_buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    sr_buf_append(b, u, n);
}

/* Clean UTF-8 for the chosen font; returns the font.  Control characters
 * become spaces; CJK characters become '?' unless a CJK font is loaded. */
static HPDF_Font prepare(pdfw *w, const char *s, int bold, sr_buf *out)
{
    out->len = 0;
    sr_buf_puts(out, "");
    int cjk = 0;
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    for (const unsigned char *p = u; *p;) {
        unsigned cp;
        p += utf8_next(p, &cp);
        if (is_cjk(cp))
            cjk = 1;
    }
    int use_cjk = cjk && w->cjk;
    while (*u) {
        unsigned cp;
        u += utf8_next(u, &cp);
        if (cp < 0x20 || cp == 0x7F)
            cp = ' ';
        else if (!use_cjk && is_cjk(cp))
            cp = '?';
        put_cp(out, cp);
    }
    return use_cjk ? w->cjk : bold ? w->bold : w->reg;
}

static double width_of(HPDF_Font f, const char *t, double size)
{
    HPDF_TextWidth tw = HPDF_Font_TextWidth(f, (const HPDF_BYTE *)t, (HPDF_UINT)strlen(t));
    return (double)tw.width * size / 1000.0;
}

/* Cuts out->s (UTF-8) to fit max_w with an ellipsis. */
static void fit(HPDF_Font f, sr_buf *out, double size, double max_w)
{
    if (max_w <= 0 || width_of(f, out->s, size) <= max_w)
        return;
    while (out->len > 0) {
        size_t k = out->len - 1;
        while (k > 0 && ((unsigned char)out->s[k] & 0xC0) == 0x80)
            k--;
        out->len = k;
        out->s[k] = '\0';
        sr_buf_puts(out, "\xe2\x80\xa6");
        if (width_of(f, out->s, size) <= max_w)
            return;
        out->len = k;
        out->s[k] = '\0';
    }
}

/* align: 0 left, 1 right, 2 centre (x is the left edge, the right edge or
 * the centre).  Returns the width drawn. */
static double text_at(pdfw *w, double x, double y, const char *s, int bold, double size, double max_w, int align)
{
    if (!w->page || failed(w))
        return 0;
    HPDF_Font f = prepare(w, s, bold, &w->tb);
    fit(f, &w->tb, size, max_w);
    if (!w->tb.len)
        return 0;
    double tw = width_of(f, w->tb.s, size);
    if (align == 1)
        x -= tw;
    else if (align == 2)
        x -= tw / 2;
    HPDF_Page_BeginText(w->page);
    HPDF_Page_SetFontAndSize(w->page, f, (HPDF_REAL)size);
    HPDF_Page_TextOut(w->page, (HPDF_REAL)x, (HPDF_REAL)y, w->tb.s);
    HPDF_Page_EndText(w->page);
    return tw;
}

/* Greedy wrapping, breaking after spaces and slashes where it can.  Draws
 * at most max_lines lines (the last one cut with an ellipsis) from y down;
 * returns the y below the last line. */
static double wrap_at(pdfw *w, double x, double y, const char *s, int bold, double size, double max_w,
                      int max_lines)
{
    sr_buf all;
    sr_buf_init(&all);
    HPDF_Font f = prepare(w, s, bold, &all);
    double lh = size * 1.3;
    const char *p = all.s;
    int lines = 0;
    while (*p && lines < max_lines) {
        size_t len = strlen(p), good = 0, brk = 0;
        while (good < len) {
            size_t nx = good + 1;
            while (nx < len && ((unsigned char)p[nx] & 0xC0) == 0x80)
                nx++;
            char *piece = xstrndup(p, nx);
            int fits = width_of(f, piece, size) <= max_w;
            free(piece);
            if (!fits)
                break;
            good = nx;
            if (p[good - 1] == ' ' || p[good - 1] == '/' || p[good - 1] == '_' || p[good - 1] == '-')
                brk = good;
        }
        size_t take = good >= len ? len : brk ? brk : good ? good : 1;
        if (lines == max_lines - 1 && take < len)
            take = len; /* the last line: fit() cuts it */
        char *line = xstrndup(p, take);
        text_at(w, x, y, line, bold, size, max_w, 0);
        free(line);
        p += take;
        while (*p == ' ')
            p++;
        y -= lh;
        lines++;
    }
    sr_buf_free(&all);
    return y;
}

/* ---- pages ----------------------------------------------------------------- */

static void new_page(pdfw *w, const char *section)
{
    if (failed(w)) {
        w->page = NULL;
        return;
    }
    w->page = HPDF_AddPage(w->doc);
    if (!w->page)
        return;
    HPDF_Page_SetSize(w->page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    if (w->n_pages == w->cap_pages) {
        w->cap_pages = w->cap_pages ? 2 * w->cap_pages : 32;
        w->pages = xrealloc(w->pages, w->cap_pages * sizeof *w->pages);
        w->sections = xrealloc(w->sections, w->cap_pages * sizeof *w->sections);
    }
    w->pages[w->n_pages] = w->page;
    w->sections[w->n_pages] = xstrdup(section);
    w->n_pages++;
}

static double heading(pdfw *w, const char *title, const char *sub)
{
    double y = TOP - 18;
    text_at(w, MARGIN, y, title, 1, 18, CONTENT_W, 0);
    y -= 16;
    if (sub) {
        HPDF_Page_SetRGBFill(w->page, 0.35f, 0.35f, 0.35f);
        text_at(w, MARGIN, y, sub, 0, 9, CONTENT_W, 0);
        HPDF_Page_SetRGBFill(w->page, 0, 0, 0);
        y -= 14;
    }
    HPDF_Page_SetRGBStroke(w->page, 0.8f, 0.8f, 0.8f);
    HPDF_Page_SetLineWidth(w->page, 0.6f);
    HPDF_Page_MoveTo(w->page, MARGIN, (HPDF_REAL)y);
    HPDF_Page_LineTo(w->page, PAGE_W - MARGIN, (HPDF_REAL)y);
    HPDF_Page_Stroke(w->page);
    return y - 16;
}

static HPDF_Outline outline(pdfw *w, HPDF_Outline parent, const char *title)
{
    if (failed(w) || !w->page)
        return NULL;
    /* Bookmarks in PDFDocEncoding: ASCII, anything else as '?'. */
    sr_buf b;
    sr_buf_init(&b);
    const unsigned char *u = (const unsigned char *)title;
    while (*u) {
        unsigned cp;
        u += utf8_next(u, &cp);
        char ch = cp >= 0x20 && cp < 0x7F ? (char)cp : '?';
        sr_buf_append(&b, &ch, 1);
    }
    sr_buf_puts(&b, "");
    HPDF_Outline o = HPDF_CreateOutline(w->doc, parent, b.s, NULL);
    sr_buf_free(&b);
    if (!o)
        return NULL;
    HPDF_Destination d = HPDF_Page_CreateDestination(w->page);
    if (d)
        HPDF_Outline_SetDestination(o, d); /* the whole page (/Fit) */
    return o;
}

static void fmt_num(double v, char *b, size_t n)
{
    if (isnan(v))
        snprintf(b, n, "\xe2\x80\x94");
    else if (isinf(v))
        snprintf(b, n, v > 0 ? "inf" : "-inf");
    else
        snprintf(b, n, "%.4g", v);
}

static void fill_rect(pdfw *w, double x, double y, double wd, double h, double r, double g, double b)
{
    HPDF_Page_SetRGBFill(w->page, (HPDF_REAL)r, (HPDF_REAL)g, (HPDF_REAL)b);
    HPDF_Page_Rectangle(w->page, (HPDF_REAL)x, (HPDF_REAL)y, (HPDF_REAL)wd, (HPDF_REAL)h);
    HPDF_Page_Fill(w->page);
    HPDF_Page_SetRGBFill(w->page, 0, 0, 0);
}

/* ---- sample grids ---------------------------------------------------------- */

/* One row of thumbnails for a checkpoint (cached ones, else decoded and
 * scaled as eval does). */
static void load_row(pdfw *w, const sr_trial *t, const sr_checkpoint *c, sr_sheet_row *row, char **label)
{
    uint8_t **th = xcalloc(c->n_samples ? c->n_samples : 1, sizeof *th);
    int *tw = xcalloc(c->n_samples ? c->n_samples : 1, sizeof *tw);
    int *thh = xcalloc(c->n_samples ? c->n_samples : 1, sizeof *thh);
    for (size_t k = 0; k < c->n_samples; k++) {
        char *abs = sr_path_join(t->path, c->samples[k]);
        char *rel = xasprintf("%s/%s", t->name, c->samples[k]);
        sr_thumb_id id;
        char why[512];
        if (sr_thumb_id_of(abs, &id) == 0 &&
            sr_thumb_cache_get(w->s->path, rel, &id, SR_THUMB_SIDE, &th[k], &tw[k], &thh[k], why, sizeof why) != 1) {
            th[k] = NULL;
            uint8_t *rgb = NULL;
            int iw = 0, ih = 0;
            if (sr_png_read_rgb8(abs, &rgb, &iw, &ih, why, sizeof why) == 0) {
                th[k] = sr_thumb_scale(rgb, iw, ih, SR_THUMB_SIDE, &tw[k], &thh[k]);
                free(rgb);
            } else {
                sr_problems_add(&w->extra, abs, "sample not shown in the PDF: %s", why);
            }
        }
        free(rel);
        free(abs);
    }
    *label = c->epoch >= 0 ? xasprintf("epoch %ld", c->epoch) : xstrdup(c->final ? "final" : c->file);
    row->label = *label;
    row->n = c->n_samples;
    row->thumbs = (const uint8_t *const *)th;
    row->tw = tw;
    row->th = thh;
}

static void free_rows(sr_sheet_row *rows, char **labels, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < rows[i].n; k++)
            free((void *)rows[i].thumbs[k]);
        free((void *)rows[i].thumbs);
        free((void *)rows[i].tw);
        free((void *)rows[i].th);
        free(labels[i]);
    }
    free(rows);
    free(labels);
}

/* Composes the rows as a JPEG of at most SR_PDF_MAX_SHEET_BYTES (smaller
 * cells until it fits) and loads it into the document; NULL on failure
 * (a problem is noted). */
static HPDF_Image sheet_image(pdfw *w, const sr_sheet_row *rows, size_t n_rows, const char *what)
{
    char why[512] = "";
    /* cells as large as the largest thumbnail, so small samples are not lost in empty space */
    int first = 16;
    for (size_t r = 0; r < n_rows; r++)
        for (size_t k = 0; k < rows[r].n; k++)
            if (rows[r].thumbs[k]) {
                int side = rows[r].tw[k] > rows[r].th[k] ? rows[r].tw[k] : rows[r].th[k];
                if (side > first)
                    first = side;
            }
    if (first > SR_THUMB_SIDE)
        first = SR_THUMB_SIDE;
    for (int cell = first; cell >= 16; cell = cell * 2 / 3) {
        int sw = 0, sh = 0;
        if (sr_contact_sheet_jpeg(rows, n_rows, cell, w->tmp_jpg, NULL, &sw, &sh, why, sizeof why) != 0)
            break;
        char *data = NULL;
        size_t len = 0;
        int rc = sr_read_file(w->tmp_jpg, (size_t)64 << 20, &data, &len, why, sizeof why);
        unlink(w->tmp_jpg);
        if (rc != 0)
            break;
        if (len > SR_PDF_MAX_SHEET_BYTES && cell * 2 / 3 >= 16) {
            free(data);
            continue;
        }
        HPDF_Image img = HPDF_LoadJpegImageFromMem(w->doc, (const HPDF_BYTE *)data, (HPDF_UINT)len);
        free(data);
        if (!img) {
            snprintf(why, sizeof why, "libharu error 0x%04X loading the JPEG", (unsigned)w->perr->code);
            /* a bad image is not fatal: the page shows no grid */
            HPDF_ResetError(w->doc);
            w->perr->code = HPDF_OK;
            break;
        }
        return img;
    }
    sr_problems_add(&w->extra, what, "sample grid not in the PDF: %s", why);
    return NULL;
}

static HPDF_Image trial_sheet(pdfw *w, const sr_trial *t)
{
    size_t n_rows = 0;
    for (size_t j = 0; j < t->n_ckpts; j++)
        n_rows += t->ckpts[j].n_samples > 0;
    if (!n_rows)
        return NULL;
    sr_sheet_row *rows = xcalloc(n_rows, sizeof *rows);
    char **labels = xcalloc(n_rows, sizeof *labels);
    size_t r = 0;
    for (size_t j = 0; j < t->n_ckpts; j++)
        if (t->ckpts[j].n_samples > 0) {
            load_row(w, t, &t->ckpts[j], &rows[r], &labels[r]);
            r++;
        }
    HPDF_Image img = sheet_image(w, rows, n_rows, t->path);
    free_rows(rows, labels, n_rows);
    return img;
}

/* Draws the image as large as fits the box (never more than twice its
 * pixel size in points), centred horizontally, at the top of the box. */
static double draw_image(pdfw *w, HPDF_Image img, double x, double y_top, double bw, double bh)
{
    if (!img || !w->page || failed(w))
        return y_top;
    double iw = HPDF_Image_GetWidth(img), ih = HPDF_Image_GetHeight(img);
    if (iw <= 0 || ih <= 0)
        return y_top;
    double sc = fmin(fmin(bw / iw, bh / ih), 2.0);
    double dw = iw * sc, dh = ih * sc;
    HPDF_Page_DrawImage(w->page, img, (HPDF_REAL)(x + (bw - dw) / 2), (HPDF_REAL)(y_top - dh), (HPDF_REAL)dw,
                        (HPDF_REAL)dh);
    return y_top - dh;
}

/* ---- sections -------------------------------------------------------------- */

static size_t scored_ckpts(const sr_sweep *s, const sr_analysis *a)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_trials && i < a->n_trials; i++)
        for (size_t k = 0; k < s->trials[i].n_ckpts; k++)
            n += isfinite(a->trials[i].ckpts[k].score) != 0;
    return n;
}

static double kv(pdfw *w, double y, const char *key, const char *value)
{
    HPDF_Page_SetRGBFill(w->page, 0.35f, 0.35f, 0.35f);
    text_at(w, MARGIN, y, key, 0, 9.5, 110, 0);
    HPDF_Page_SetRGBFill(w->page, 0, 0, 0);
    return wrap_at(w, MARGIN + 115, y, value, 0, 9.5, CONTENT_W - 115, 2);
}

static void summary_page(pdfw *w)
{
    const sr_sweep *s = w->s;
    const sr_analysis *a = w->a;
    new_page(w, "Summary");
    outline(w, NULL, "Summary");
    char b[512], n1[64], n2[64];
    double y = heading(w, "Sweep report", sr_path_base(s->path));
    y = kv(w, y, "Sweep", s->path);
    if (s->study) {
        snprintf(b, sizeof b, "%s (%s, %zu trials)", s->study->name ? s->study->name : "?",
                 s->study->direction ? s->study->direction : "?", s->study->n_trials);
        y = kv(w, y, "Optuna study", b);
    } else {
        y = kv(w, y, "Optuna study", "none found");
    }
    snprintf(b, sizeof b, "%zu trials, %zu checkpoints, %zu scored, %zu problems", s->n_trials,
             sr_sweep_count_checkpoints(s), scored_ckpts(s, a), s->problems.n);
    y = kv(w, y, "Counts", b);
    snprintf(b, sizeof b, "%s (%s is better)", a->expression ? a->expression : "pixar_score",
             a->maximize ? "higher" : "lower");
    y = kv(w, y, "Score", b);
    fmt_num(a->score_min, n1, sizeof n1);
    fmt_num(a->score_max, n2, sizeof n2);
    snprintf(b, sizeof b, "%s to %s", n1, n2);
    y = kv(w, y, "Score range", b);
    y -= 8;

    /* the recommendation card */
    double card_h = 150, card_top = y;
    fill_rect(w, MARGIN, card_top - card_h, CONTENT_W, card_h, 0.93, 0.96, 1.0);
    fill_rect(w, MARGIN, card_top - card_h, 4, card_h, 0.0, 0.45, 0.70);
    y = card_top - 18;
    text_at(w, MARGIN + 12, y, "Recommended checkpoint", 1, 12, CONTENT_W - 24, 0);
    y -= 18;
    if (a->has_best) {
        const sr_trial *t = &s->trials[a->best.trial];
        const sr_checkpoint *c = &t->ckpts[a->best.ckpt];
        fmt_num(a->best_score, n1, sizeof n1);
        if (c->epoch >= 0)
            snprintf(b, sizeof b, "%s  \xc2\xb7  epoch %ld  \xc2\xb7  score %s", t->name, c->epoch, n1);
        else
            snprintf(b, sizeof b, "%s  \xc2\xb7  score %s", t->name, n1);
        text_at(w, MARGIN + 12, y, b, 1, 10.5, CONTENT_W - 24, 0);
        y -= 15;
        text_at(w, MARGIN + 12, y, c->file, 0, 10, CONTENT_W - 24, 0);
        y -= 15;
        y = wrap_at(w, MARGIN + 12, y, a->reason ? a->reason : "", 0, 9, CONTENT_W - 24, 4);
        HPDF_Page_SetRGBFill(w->page, 0.35f, 0.35f, 0.35f);
        wrap_at(w, MARGIN + 12, y - 2, c->path, 0, 8, CONTENT_W - 24, 3);
        HPDF_Page_SetRGBFill(w->page, 0, 0, 0);
    } else {
        text_at(w, MARGIN + 12, y, "No checkpoint has a score: nothing to recommend.", 0, 10, CONTENT_W - 24, 0);
    }
    y = card_top - card_h - 20;

    /* key numbers: runners-up and what mattered */
    double col = CONTENT_W / 2;
    double yl = y, yr = y;
    text_at(w, MARGIN, yl, "Runners-up", 1, 10.5, col - 10, 0);
    yl -= 14;
    for (size_t k = 0; k < a->n_runners_up; k++) {
        sr_ckpt_ref r = a->runners_up[k];
        const sr_checkpoint *c = &s->trials[r.trial].ckpts[r.ckpt];
        fmt_num(a->trials[r.trial].ckpts[r.ckpt].score, n1, sizeof n1);
        snprintf(b, sizeof b, "%s e%ld  %s", s->trials[r.trial].name, c->epoch, n1);
        text_at(w, MARGIN, yl, b, 0, 9, col - 10, 0);
        yl -= 12;
    }
    if (!a->n_runners_up) {
        text_at(w, MARGIN, yl, "none", 0, 9, col - 10, 0);
        yl -= 12;
    }
    text_at(w, MARGIN + col, yr, "Parameters that mattered", 1, 10.5, col, 0);
    yr -= 14;
    size_t shown = 0;
    for (size_t k = 0; k < a->n_params && shown < 5; k++) {
        const sr_param_analysis *p = &a->params[k];
        fmt_num(p->importance, n1, sizeof n1);
        fmt_num(p->spearman, n2, sizeof n2);
        snprintf(b, sizeof b, "%s: importance %s, \xcf\x81 %s", p->name, n1, n2);
        text_at(w, MARGIN + col, yr, b, 0, 9, col, 0);
        yr -= 12;
        shown++;
    }
    if (!shown) {
        text_at(w, MARGIN + col, yr, "none analysed", 0, 9, col, 0);
        yr -= 12;
    }
    y = fmin(yl, yr) - 14;

    /* the recommended checkpoint's samples */
    if (a->has_best) {
        const sr_trial *t = &s->trials[a->best.trial];
        const sr_checkpoint *c = &t->ckpts[a->best.ckpt];
        text_at(w, MARGIN, y, "Samples of the recommended checkpoint", 1, 10.5, CONTENT_W, 0);
        y -= 10;
        if (c->n_samples) {
            sr_sheet_row *row = xcalloc(1, sizeof *row);
            char **label = xcalloc(1, sizeof *label);
            load_row(w, t, c, row, label);
            HPDF_Image img = sheet_image(w, row, 1, c->path);
            free_rows(row, label, 1);
            draw_image(w, img, MARGIN, y, CONTENT_W, y - BOTTOM);
        } else {
            text_at(w, MARGIN, y - 12, "no samples", 0, 9, CONTENT_W, 0);
        }
    }
}

typedef struct {
    size_t trial;
    double key;
} lb_row;

static int lb_cmp(const void *pa, const void *pb)
{
    const lb_row *x = pa, *y = pb;
    int fx = isfinite(x->key), fy = isfinite(y->key);
    if (fx != fy)
        return fy - fx;
    if (fx && x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->trial < y->trial ? -1 : x->trial > y->trial;
}

static void table_header(pdfw *w, double y, const char *const *names, const double *xs, const int *right, size_t n,
                         double size)
{
    fill_rect(w, MARGIN, y - 4, CONTENT_W, size + 8, 0.90, 0.90, 0.90);
    for (size_t i = 0; i < n; i++) {
        double cw = (i + 1 < n ? xs[i + 1] : MARGIN + CONTENT_W) - xs[i] - 4;
        text_at(w, right[i] ? xs[i] + cw : xs[i] + 2, y, names[i], 1, size, cw - 2, right[i] ? 1 : 0);
    }
}

static void leaderboard(pdfw *w)
{
    const sr_sweep *s = w->s;
    const sr_analysis *a = w->a;
    lb_row *rows = xcalloc(s->n_trials ? s->n_trials : 1, sizeof *rows);
    for (size_t i = 0; i < s->n_trials; i++) {
        rows[i].trial = i;
        double v = i < a->n_trials ? a->trials[i].best_score : NAN;
        rows[i].key = a->maximize ? -v : v;
    }
    qsort(rows, s->n_trials, sizeof *rows, lb_cmp);
    static const char *const names[] = {"Trial", "State", "Optuna value", "Best epoch", "Best score", "Final score",
                                        "Overfit"};
    static const int right[] = {0, 0, 1, 1, 1, 1, 0};
    double xs[7] = {MARGIN, MARGIN + 130, MARGIN + 200, MARGIN + 275, MARGIN + 340, MARGIN + 410, MARGIN + 475};
    size_t pages = s->n_trials ? (s->n_trials + SR_PDF_LEADERBOARD_ROWS - 1) / SR_PDF_LEADERBOARD_ROWS : 1;
    size_t r = 0;
    for (size_t pg = 0; pg < pages; pg++) {
        new_page(w, "Leaderboard");
        if (pg == 0)
            outline(w, NULL, "Leaderboard");
        double y = heading(w, pg ? "Leaderboard (continued)" : "Leaderboard",
                           a->maximize ? "by best score, higher is better" : "by best score, lower is better");
        table_header(w, y, names, xs, right, 7, 8.5);
        y -= 17;
        for (size_t k = 0; k < SR_PDF_LEADERBOARD_ROWS && r < s->n_trials; k++, r++) {
            size_t i = rows[r].trial;
            const sr_trial *t = &s->trials[i];
            const sr_trial_analysis *ta = i < a->n_trials ? &a->trials[i] : NULL;
            if (k % 2)
                fill_rect(w, MARGIN, y - 4, CONTENT_W, 15, 0.97, 0.97, 0.97);
            char c[7][96];
            int recommended = a->has_best && a->best.trial == i;
            snprintf(c[0], sizeof c[0], "%s%s", t->name, recommended ? " \xe2\x98\x85" : "");
            snprintf(c[1], sizeof c[1], "%s", t->optuna && t->optuna->state ? t->optuna->state : "\xe2\x80\x94");
            if (t->optuna && t->optuna->has_value)
                fmt_num(t->optuna->value, c[2], sizeof c[2]);
            else
                snprintf(c[2], sizeof c[2], "\xe2\x80\x94");
            if (ta && ta->best >= 0 && t->ckpts[ta->best].epoch >= 0)
                snprintf(c[3], sizeof c[3], "%ld", t->ckpts[ta->best].epoch);
            else
                snprintf(c[3], sizeof c[3], "\xe2\x80\x94");
            fmt_num(ta ? ta->best_score : NAN, c[4], sizeof c[4]);
            fmt_num(ta ? ta->final_score : NAN, c[5], sizeof c[5]);
            snprintf(c[6], sizeof c[6], "%s", ta && ta->overfit ? "yes" : "");
            for (size_t j = 0; j < 7; j++) {
                double cw = (j + 1 < 7 ? xs[j + 1] : MARGIN + CONTENT_W) - xs[j] - 4;
                text_at(w, right[j] ? xs[j] + cw : xs[j] + 2, y, c[j], j == 0 && recommended, 8.5, cw - 2,
                        right[j] ? 1 : 0);
            }
            y -= 15;
        }
        if (!s->n_trials)
            text_at(w, MARGIN, y, "No trials found.", 0, 9, CONTENT_W, 0);
    }
    free(rows);
}

static int draw_chart(pdfw *w, const sr_chart *c, double x, double y, double cw, double ch)
{
    char why[256];
    if (sr_chart_pdf(c, w->page, w->reg, x, y, cw, ch, why, sizeof why) != 0) {
        if (failed(w))
            return -1;
        sr_problems_add(&w->extra, c->title ? c->title : "chart", "chart not drawn in the PDF: %s", why);
    }
    return 0;
}

static void charts_section(pdfw *w, const sr_named_chart *ch, size_t n)
{
    double box_h = (TOP - 40 - BOTTOM - 20) / 2;
    for (size_t i = 0; i < n && !failed(w); i += 2) {
        new_page(w, "Charts");
        if (i == 0)
            outline(w, NULL, "Charts");
        double y = heading(w, i ? "Charts (continued)" : "Charts", NULL);
        draw_chart(w, &ch[i].chart, MARGIN, y - box_h, CONTENT_W, box_h);
        if (i + 1 < n)
            draw_chart(w, &ch[i + 1].chart, MARGIN, y - 2 * box_h - 20, CONTENT_W, box_h);
    }
}

/* The key metrics of a trial's table: those its small multiples show. */
static size_t key_metrics(const sr_trial *t, const sr_named_chart *tc, size_t tn, const char **out, size_t cap)
{
    size_t n = 0;
    for (size_t c = 0; c < tn && n < cap; c++) {
        const char *id = tc[c].id;
        size_t il = strlen(id);
        const char *found = NULL;
        for (size_t k = 0; k < t->n_ckpts && !found; k++) {
            const sr_metrics *m = &t->ckpts[k].metrics;
            for (size_t j = 0; j < m->n; j++) {
                size_t ml = strlen(m->items[j].name);
                if (il > ml && id[il - ml - 1] == '-' && strcmp(id + il - ml, m->items[j].name) == 0) {
                    found = m->items[j].name;
                    break;
                }
            }
        }
        if (!found)
            continue;
        int dup = 0;
        for (size_t k = 0; k < n; k++)
            dup |= strcmp(out[k], found) == 0;
        if (!dup)
            out[n++] = found;
    }
    return n;
}

static void params_block(pdfw *w, const sr_trial *t, double *yp)
{
    double y = *yp;
    text_at(w, MARGIN, y, "Parameters", 1, 11, CONTENT_W, 0);
    y -= 14;
    const cJSON *params = t->params ? t->params : t->optuna ? t->optuna->params : NULL;
    size_t np = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, params) np++;
    if (!np) {
        text_at(w, MARGIN, y, "none recorded", 0, 9, CONTENT_W, 0);
        *yp = y - 18;
        return;
    }
    /* at most 12 lines of two columns; the rest named in a count */
    size_t shown = 0, max_shown = np > 24 ? 23 : 24;
    double col = CONTENT_W / 2;
    size_t i = 0;
    cJSON_ArrayForEach(it, params)
    {
        if (shown >= max_shown)
            break;
        char *v;
        if (cJSON_IsString(it))
            v = xstrdup(it->valuestring);
        else if (cJSON_IsNumber(it)) {
            char nb[64];
            fmt_num(it->valuedouble, nb, sizeof nb);
            v = xstrdup(nb);
        } else
            v = cJSON_PrintUnformatted(it);
        char *line = xasprintf("%s = %s", it->string ? it->string : "?", v ? v : "?");
        free(v);
        double x = MARGIN + (double)(i % 2) * col;
        text_at(w, x, y - (double)(i / 2) * 12, line, 0, 8.5, col - 8, 0);
        free(line);
        i++;
        shown++;
    }
    if (shown < np) {
        char *more = xasprintf("\xe2\x80\xa6 and %zu more", np - shown);
        text_at(w, MARGIN + (double)(i % 2) * col, y - (double)(i / 2) * 12, more, 0, 8.5, col - 8, 0);
        free(more);
        i++;
    }
    y -= (double)((i + 1) / 2) * 12;
    *yp = y - 10;
}

static void trial_section(pdfw *w, size_t ti, HPDF_Outline *trials_root)
{
    const sr_sweep *s = w->s;
    const sr_analysis *a = w->a;
    const sr_trial *t = &s->trials[ti];
    const sr_trial_analysis *ta = ti < a->n_trials ? &a->trials[ti] : NULL;
    sr_named_chart *tc = NULL;
    size_t tn = sr_build_trial_charts(s, a, ti, &tc);
    char sub[512], n1[64], n2[64], n3[64];
    fmt_num(ta ? ta->best_score : NAN, n1, sizeof n1);
    fmt_num(ta ? ta->final_score : NAN, n2, sizeof n2);
    if (t->optuna && t->optuna->has_value)
        fmt_num(t->optuna->value, n3, sizeof n3);
    else
        snprintf(n3, sizeof n3, "\xe2\x80\x94");
    snprintf(sub, sizeof sub, "%zu checkpoints  \xc2\xb7  best score %s  \xc2\xb7  final %s%s  \xc2\xb7  Optuna %s%s%s",
             t->n_ckpts, n1, n2, ta && ta->overfit ? " (overfit)" : "", t->optuna ? t->optuna->state : "",
             t->optuna ? " " : "", n3);
    char *title = xasprintf("Trial %s", t->name);
    char *sect = xasprintf("Trial %s", t->name);

    /* overview: parameters and the per-epoch table */
    const char *km[6];
    size_t nk = key_metrics(t, tc, tn, km, 5);
    const char *names[8];
    int right[8];
    double xs[8];
    size_t nc = 0;
    names[nc] = "Epoch";
    right[nc] = 1;
    xs[nc++] = MARGIN;
    names[nc] = "Checkpoint";
    right[nc] = 0;
    xs[nc++] = MARGIN + 42;
    names[nc] = "Score";
    right[nc] = 1;
    xs[nc++] = MARGIN + 190;
    double mw = nk ? (CONTENT_W - 250) / (double)nk : 0;
    for (size_t k = 0; k < nk; k++) {
        names[nc] = km[k];
        right[nc] = 1;
        xs[nc++] = MARGIN + 250 + (double)k * mw;
    }
    size_t row = 0, pg = 0;
    do {
        new_page(w, sect);
        double y;
        if (pg == 0) {
            if (!*trials_root) /* the Trials bookmark opens the first trial */
                *trials_root = outline(w, NULL, "Trials");
            outline(w, *trials_root, t->name);
            y = heading(w, title, sub);
            params_block(w, t, &y);
            text_at(w, MARGIN, y, "Per-epoch metrics", 1, 11, CONTENT_W, 0);
            y -= 18;
        } else {
            char *ct = xasprintf("%s (continued)", title);
            y = heading(w, ct, NULL);
            free(ct);
        }
        size_t lim = pg == 0 ? SR_PDF_TRIAL_ROWS_FIRST : SR_PDF_TRIAL_ROWS_MORE;
        table_header(w, y, names, xs, right, nc, 7.5);
        y -= 14;
        for (size_t k = 0; k < lim && row < t->n_ckpts; k++, row++) {
            const sr_checkpoint *c = &t->ckpts[row];
            if (k % 2)
                fill_rect(w, MARGIN, y - 3, CONTENT_W, 12, 0.97, 0.97, 0.97);
            int best = ta && ta->best == (long)row;
            char cell[96];
            for (size_t j = 0; j < nc; j++) {
                if (j == 0) {
                    if (c->epoch >= 0)
                        snprintf(cell, sizeof cell, "%ld", c->epoch);
                    else
                        snprintf(cell, sizeof cell, "%s", c->final ? "final" : "?");
                } else if (j == 1) {
                    snprintf(cell, sizeof cell, "%s%s", best ? "\xe2\x98\x85 " : "", c->file);
                } else if (j == 2) {
                    fmt_num(ta ? ta->ckpts[row].score : NAN, cell, sizeof cell);
                } else {
                    double v;
                    if (!sr_metrics_get(&c->metrics, km[j - 3], &v))
                        v = NAN;
                    fmt_num(v, cell, sizeof cell);
                }
                double cw = (j + 1 < nc ? xs[j + 1] : MARGIN + CONTENT_W) - xs[j] - 4;
                text_at(w, right[j] ? xs[j] + cw : xs[j] + 2, y, cell, best, 7.5, cw - 2, right[j] ? 1 : 0);
            }
            y -= 12;
        }
        if (!t->n_ckpts)
            text_at(w, MARGIN, y, "No checkpoints.", 0, 9, CONTENT_W, 0);
        pg++;
    } while (row < t->n_ckpts && !failed(w));

    /* samples */
    HPDF_Image img = trial_sheet(w, t);
    size_t has_samples = 0;
    for (size_t j = 0; j < t->n_ckpts; j++)
        has_samples |= t->ckpts[j].n_samples > 0;
    if (has_samples) {
        new_page(w, sect);
        char *st = xasprintf("%s \xe2\x80\x94 samples", t->name);
        double y = heading(w, st, "a row per checkpoint, a column per sample");
        free(st);
        if (img)
            draw_image(w, img, MARGIN, y, CONTENT_W, y - BOTTOM);
        else
            text_at(w, MARGIN, y, "The sample grid could not be made (see the problems).", 0, 9, CONTENT_W, 0);
    }

    /* curves, 2 x 3 per page */
    double gap = 14, cw = (CONTENT_W - gap) / 2;
    for (size_t i = 0; i < tn && !failed(w); i += SR_PDF_TRIAL_CHARTS_PER_PAGE) {
        new_page(w, sect);
        char *ct = xasprintf("%s \xe2\x80\x94 curves", t->name);
        double y = heading(w, ct, NULL);
        free(ct);
        double ch = (y - BOTTOM - 2 * gap) / 3;
        for (size_t k = 0; k < SR_PDF_TRIAL_CHARTS_PER_PAGE && i + k < tn; k++) {
            double x = MARGIN + (double)(k % 2) * (cw + gap);
            double top = y - (double)(k / 2) * (ch + gap);
            if (draw_chart(w, &tc[i + k].chart, x, top - ch, cw, ch) != 0)
                break;
        }
    }
    free(title);
    free(sect);
    sr_named_charts_free(tc, tn);
}

static void problems_section(pdfw *w)
{
    const sr_problems *ps[2] = {&w->s->problems, &w->extra};
    size_t total = ps[0]->n + ps[1]->n;
    size_t pages = total ? (total + SR_PDF_PROBLEMS_PER_PAGE - 1) / SR_PDF_PROBLEMS_PER_PAGE : 1;
    size_t idx = 0;
    for (size_t pg = 0; pg < pages; pg++) {
        new_page(w, "Problems");
        if (pg == 0)
            outline(w, NULL, "Problems");
        double y = heading(w, pg ? "Problems (continued)" : "Problems",
                           "unreadable, broken or half-written files; the report left them out");
        if (!total)
            text_at(w, MARGIN, y, "No problems found.", 0, 10, CONTENT_W, 0);
        for (size_t k = 0; k < SR_PDF_PROBLEMS_PER_PAGE && idx < total; k++, idx++) {
            const sr_problem *p = idx < ps[0]->n ? &ps[0]->items[idx] : &ps[1]->items[idx - ps[0]->n];
            const char *path = p->path ? p->path : "";
            if (w->s->path && sr_str_has_prefix(path, w->s->path) && path[strlen(w->s->path)] == '/')
                path += strlen(w->s->path) + 1;
            double pw = text_at(w, MARGIN, y, path, 1, 8, CONTENT_W * 0.45, 0);
            text_at(w, MARGIN + pw + 8, y, p->problem ? p->problem : "", 0, 8, CONTENT_W - pw - 8, 0);
            y -= 14.5;
        }
    }
}

static void footers(pdfw *w)
{
    char b[256];
    for (size_t i = 0; i < w->n_pages && !failed(w); i++) {
        w->page = w->pages[i];
        HPDF_Page_SetRGBFill(w->page, 0.45f, 0.45f, 0.45f);
        snprintf(b, sizeof b, "sweepreport \xc2\xb7 %s", w->sections[i]);
        text_at(w, MARGIN, 25, b, 0, 8, CONTENT_W * 0.7, 0);
        snprintf(b, sizeof b, "page %zu of %zu", i + 1, w->n_pages);
        text_at(w, PAGE_W - MARGIN, 25, b, 0, 8, CONTENT_W * 0.3, 1);
        HPDF_Page_SetRGBFill(w->page, 0, 0, 0);
    }
}

static void load_fonts(pdfw *w)
{
    HPDF_UseUTFEncodings(w->doc);
    const char *r = HPDF_LoadTTFontFromFile(w->doc, DEJAVU, HPDF_TRUE);
    const char *b = r ? HPDF_LoadTTFontFromFile(w->doc, DEJAVU_BOLD, HPDF_TRUE) : NULL;
    if (!r || !b)
        return;
    w->reg = HPDF_GetFont(w->doc, r, "UTF-8");
    w->bold = HPDF_GetFont(w->doc, b, "UTF-8");
    if (failed(w))
        return;
    for (size_t i = 0; i < sizeof cjk_fonts / sizeof cjk_fonts[0] && !w->cjk; i++) {
        if (access(cjk_fonts[i].path, R_OK) != 0)
            continue;
        const char *n = cjk_fonts[i].index >= 0
                            ? HPDF_LoadTTFontFromFile2(w->doc, cjk_fonts[i].path, (HPDF_UINT)cjk_fonts[i].index,
                                                       HPDF_TRUE)
                            : HPDF_LoadTTFontFromFile(w->doc, cjk_fonts[i].path, HPDF_TRUE);
        if (n)
            w->cjk = HPDF_GetFont(w->doc, n, "UTF-8");
        if (!w->cjk || failed(w)) {
            /* not a font libharu can embed: try the next */
            w->cjk = NULL;
            HPDF_ResetError(w->doc);
            w->perr->code = HPDF_OK;
        }
    }
}

static void doc_info(pdfw *w)
{
    char *title = xasprintf("Sweep report: %s", sr_path_base(w->s->path));
    HPDF_SetInfoAttr(w->doc, HPDF_INFO_TITLE, title);
    free(title);
    HPDF_SetInfoAttr(w->doc, HPDF_INFO_AUTHOR, "sweepreport");
    HPDF_SetInfoAttr(w->doc, HPDF_INFO_CREATOR, "sweepreport " PACKAGE_VERSION);
    HPDF_SetInfoAttr(w->doc, HPDF_INFO_SUBJECT, "LoRA hyperparameter sweep: checkpoints, scores and samples");
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    HPDF_Date d;
    memset(&d, 0, sizeof d);
    d.year = tm.tm_year + 1900;
    d.month = tm.tm_mon + 1;
    d.day = tm.tm_mday;
    d.hour = tm.tm_hour;
    d.minutes = tm.tm_min;
    d.seconds = tm.tm_sec > 59 ? 59 : tm.tm_sec;
    d.ind = 'Z';
    HPDF_SetInfoDateAttr(w->doc, HPDF_INFO_CREATION_DATE, d);
}

static int save(pdfw *w, const char *path, char *err, size_t errlen)
{
    if (HPDF_SaveToStream(w->doc) != HPDF_OK)
        return -1;
    HPDF_UINT32 size = HPDF_GetStreamSize(w->doc);
    HPDF_ResetStream(w->doc);
    unsigned char *data = xmalloc(size ? size : 1);
    HPDF_UINT32 got = 0;
    while (got < size) {
        HPDF_UINT32 n = size - got;
        HPDF_STATUS st = HPDF_ReadFromStream(w->doc, data + got, &n);
        got += n;
        if (st == HPDF_STREAM_EOF || n == 0)
            break;
        if (st != HPDF_OK) {
            free(data);
            return -1;
        }
    }
    if (got != size) {
        free(data);
        snprintf(err, errlen, "%s: the PDF came out short (%u of %u bytes)", path, (unsigned)got, (unsigned)size);
        return -2;
    }
    int rc = sr_write_file_atomic(path, data, got, SR_ATOMIC_REPLACE);
    free(data);
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return -2;
    }
    return 0;
}

int sr_pdf_report_write(const char *path, const sr_sweep *s, const sr_analysis *a, char *err, size_t errlen)
{
    pdf_error perr = {HPDF_OK, 0};
    pdfw w;
    memset(&w, 0, sizeof w);
    w.perr = &perr;
    w.s = s;
    w.a = a;
    sr_problems_init(&w.extra);
    sr_buf_init(&w.tb);
    w.doc = HPDF_New(on_error, &perr);
    if (!w.doc) {
        snprintf(err, errlen, "%s: libharu cannot start a document", path);
        sr_problems_free(&w.extra);
        sr_buf_free(&w.tb);
        return -1;
    }
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[1] = '\0';
    else
        strcpy(dir, "");
    w.tmp_jpg = xasprintf("%s.%s.sheet-%ld.jpg", dir, sr_path_base(path), (long)getpid());
    free(dir);

    int rc = -1;
    HPDF_SetCompressionMode(w.doc, HPDF_COMP_ALL);
    HPDF_SetPageMode(w.doc, HPDF_PAGE_MODE_USE_OUTLINE);
    load_fonts(&w);
    if (!w.reg || !w.bold || failed(&w)) {
        snprintf(err, errlen, "%s: cannot load the DejaVu fonts (libharu error 0x%04X, detail %u)", path,
                 (unsigned)perr.code, (unsigned)perr.detail);
        goto done;
    }
    doc_info(&w);

    summary_page(&w);
    leaderboard(&w);
    sr_named_chart *charts = NULL;
    size_t nch = failed(&w) ? 0 : sr_build_sweep_charts(s, a, &charts);
    charts_section(&w, charts, nch);
    sr_named_charts_free(charts, nch);
    HPDF_Outline troot = NULL;
    for (size_t i = 0; i < s->n_trials && !failed(&w); i++)
        trial_section(&w, i, &troot);
    problems_section(&w);
    footers(&w);
    if (failed(&w)) {
        snprintf(err, errlen, "%s: libharu error 0x%04X (detail %u) while drawing", path, (unsigned)perr.code,
                 (unsigned)perr.detail);
        goto done;
    }
    int sr = save(&w, path, err, errlen);
    if (sr == -1 || failed(&w)) {
        snprintf(err, errlen, "%s: libharu error 0x%04X (detail %u) while saving", path, (unsigned)perr.code,
                 (unsigned)perr.detail);
        goto done;
    }
    rc = sr == 0 ? 0 : -1;
done:
    unlink(w.tmp_jpg);
    free(w.tmp_jpg);
    for (size_t i = 0; i < w.n_pages; i++)
        free(w.sections[i]);
    free(w.sections);
    free(w.pages);
    sr_buf_free(&w.tb);
    sr_problems_free(&w.extra);
    HPDF_Free(w.doc);
    return rc;
}
