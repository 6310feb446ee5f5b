/* pdf_doc.c - the shared PDF writer: document, pages, text, bookmarks,
 * tables, charts, images, footers and the atomic save. */
#include "config.h"

#include "pdf_doc.h"

#include "atomic_file.h"
#include "num_format.h"
#include "util.h"

#include <errno.h>
#include <hpdf_doc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int sr_pdfw_failed(const sr_pdfw *w)
{
    return w->err.code != HPDF_OK;
}

void sr_pdfw_error_text(const sr_pdfw *w, char *buf, size_t len)
{
    snprintf(buf, len, "libharu error 0x%04X (detail %u)", (unsigned)w->err.code, (unsigned)w->err.detail);
}

int sr_pdfw_open(sr_pdfw *w, const sr_sweep *s, const sr_analysis *a, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    w->s = s;
    w->a = a;
    w->doc = HPDF_New(sr_pdf_on_error, &w->err);
    if (!w->doc) {
        snprintf(err, errlen, "libharu cannot start a document");
        return -1;
    }
    sr_problems_init(&w->extra);
    sr_buf_init(&w->tb);
    HPDF_SetCompressionMode(w->doc, HPDF_COMP_ALL);
    HPDF_SetPageMode(w->doc, HPDF_PAGE_MODE_USE_OUTLINE);
    return 0;
}

int sr_pdfw_load_fonts(sr_pdfw *w, char *err, size_t errlen)
{
    return sr_pdf_fonts_load(&w->fonts, w->doc, &w->err, err, errlen);
}

void sr_pdfw_close(sr_pdfw *w)
{
    if (w->scratch) {
        sr_remove_tree(w->scratch);
        free(w->scratch);
    }
    for (size_t i = 0; i < w->n_pages; i++)
        free(w->sections[i]);
    free(w->sections);
    free(w->pages);
    sr_buf_free(&w->tb);
    sr_problems_free(&w->extra);
    if (w->doc)
        HPDF_Free(w->doc);
    memset(w, 0, sizeof *w);
}

char *sr_pdfw_scratch_path(sr_pdfw *w, const char *suffix)
{
    if (!w->scratch) {
        const char *tmp = getenv("TMPDIR");
        char *t = xasprintf("%s/sweepreport-pdf-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(t)) {
            free(t);
            return NULL;
        }
        w->scratch = t;
    }
    return xasprintf("%s/%u%s", w->scratch, w->n_scratch++, suffix);
}

/* ---- text ------------------------------------------------------------------ */

/* Cuts out->s (clean UTF-8) to fit max_w, with an ellipsis. */
static void fit(sr_pdfw *w, sr_buf *out, int bold, double size, double max_w)
{
    sr_pdf_fonts *f = &w->fonts;
    if (max_w <= 0 || sr_pdf_text_width(f, out->s, bold, size) <= max_w)
        return;
    /* the longest start, in whole characters, that fits with an ellipsis,
     * in one pass adding up the characters' widths (measuring ever shorter
     * starts again and again took minutes on a long value) */
    const double room = max_w - sr_pdf_text_width(f, "\xe2\x80\xa6", bold, size);
    double used = 0;
    size_t k = 0;
    while (room > 0 && k < out->len) {
        char ch[8];
        size_t n = 1;
        while (k + n < out->len && n < sizeof ch - 1 && ((unsigned char)out->s[k + n] & 0xC0) == 0x80)
            n++;
        memcpy(ch, out->s + k, n);
        ch[n] = '\0';
        double cw = sr_pdf_text_width(f, ch, bold, size);
        if (used + cw > room)
            break;
        used += cw;
        k += n;
    }
    out->len = k;
    out->s[k] = '\0';
    if (room <= 0)
        return; /* not even the ellipsis fits */
    sr_buf_puts(out, "\xe2\x80\xa6");
    /* the sum of the parts is the width of the whole; should rounding say
     * otherwise, one character less */
    while (k > 0 && sr_pdf_text_width(f, out->s, bold, size) > max_w) {
        do
            k--;
        while (k > 0 && ((unsigned char)out->s[k] & 0xC0) == 0x80);
        out->len = k;
        out->s[k] = '\0';
        sr_buf_puts(out, "\xe2\x80\xa6");
    }
}

/* Draws w->tb (clean text), cut to max_w; as sr_pdfw_text. */
static double draw_clean(sr_pdfw *w, double x, double y, int bold, double size, double max_w, int align)
{
    fit(w, &w->tb, bold, size, max_w);
    if (!w->tb.len)
        return 0;
    double tw = sr_pdf_text_width(&w->fonts, w->tb.s, bold, size);
    if (align == 1)
        x -= tw;
    else if (align == 2)
        x -= tw / 2;
    HPDF_Page_BeginText(w->page);
    HPDF_Page_MoveTextPos(w->page, (HPDF_REAL)x, (HPDF_REAL)y);
    sr_pdf_text_show(&w->fonts, w->page, w->tb.s, bold, size);
    HPDF_Page_EndText(w->page);
    return tw;
}

double sr_pdfw_text(sr_pdfw *w, double x, double y, const char *s, int bold, double size, double max_w, int align)
{
    if (!w->page || sr_pdfw_failed(w))
        return 0;
    sr_pdf_text_clean(&w->fonts, s, bold, &w->tb);
    return draw_clean(w, x, y, bold, size, max_w, align);
}

double sr_pdfw_text_shrink(sr_pdfw *w, double x, double y, const char *s, int bold, double size, double min_size,
                           double max_w, int align)
{
    if (!w->page || sr_pdfw_failed(w))
        return 0;
    sr_pdf_text_clean(&w->fonts, s, bold, &w->tb);
    double tw = sr_pdf_text_width(&w->fonts, w->tb.s, bold, size);
    if (max_w > 0 && tw > max_w)
        size = fmax(min_size, size * max_w / tw * 0.99); /* a hair under, against rounding */
    return draw_clean(w, x, y, bold, size, max_w, align);
}

size_t sr_pdfw_wrap_take(sr_pdfw *w, const char *clean, int bold, double size, double max_w)
{
    const char *p = clean;
    size_t len = strlen(p), good = 0, brk = 0, weak = 0;
    while (good < len) {
        size_t nx = good + 1;
        while (nx < len && ((unsigned char)p[nx] & 0xC0) == 0x80)
            nx++;
        char *piece = xstrndup(p, nx);
        int fits = sr_pdf_text_width(&w->fonts, piece, bold, size) <= max_w;
        free(piece);
        if (!fits)
            break;
        good = nx;
        if (p[good - 1] == ' ' || p[good - 1] == '/' || p[good - 1] == ',')
            brk = good;
        else if (p[good - 1] == '_' || p[good - 1] == '-')
            weak = good;
    }
    /* inside a name ('_', '-') only when a space, slash or comma would
     * leave much of the line empty: a list breaks between its items */
    if (weak > brk && 5 * brk < 3 * good)
        brk = weak;
    size_t take = good >= len ? len : brk ? brk : good ? good : 1;
    while (take < len && ((unsigned char)p[take] & 0xC0) == 0x80)
        take++; /* never split a character */
    return take;
}

double sr_pdfw_wrap(sr_pdfw *w, double x, double y, const char *s, int bold, double size, double max_w,
                    int max_lines)
{
    sr_buf all;
    sr_buf_init(&all);
    sr_pdf_text_clean(&w->fonts, s, bold, &all);
    double lh = size * 1.3;
    const char *p = all.s;
    int lines = 0;
    while (*p && lines < max_lines) {
        size_t len = strlen(p), take = sr_pdfw_wrap_take(w, p, bold, size, max_w);
        if (lines == max_lines - 1 && take < len)
            take = len; /* the last line: the ellipsis cuts it */
        char *line = xstrndup(p, take);
        sr_pdfw_text(w, x, y, line, bold, size, max_w, 0);
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

void sr_pdfw_grey(sr_pdfw *w, double level)
{
    if (w->page)
        HPDF_Page_SetRGBFill(w->page, (HPDF_REAL)level, (HPDF_REAL)level, (HPDF_REAL)level);
}

/* ---- pages ----------------------------------------------------------------- */

void sr_pdfw_page(sr_pdfw *w, const char *section)
{
    if (sr_pdfw_failed(w)) {
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

double sr_pdfw_heading(sr_pdfw *w, const char *title, const char *sub)
{
    double y = SR_PDF_TOP - 18;
    if (!w->page)
        return y;
    sr_pdfw_text(w, SR_PDF_MARGIN, y, title, 1, 18, SR_PDF_CONTENT_W, 0);
    y -= 16;
    if (sub) {
        sr_pdfw_grey(w, 0.35);
        sr_pdfw_text(w, SR_PDF_MARGIN, y, sub, 0, 9, SR_PDF_CONTENT_W, 0);
        sr_pdfw_grey(w, 0);
        y -= 14;
    }
    HPDF_Page_SetRGBStroke(w->page, 0.8f, 0.8f, 0.8f);
    HPDF_Page_SetLineWidth(w->page, 0.6f);
    HPDF_Page_MoveTo(w->page, SR_PDF_MARGIN, (HPDF_REAL)y);
    HPDF_Page_LineTo(w->page, SR_PDF_PAGE_W - SR_PDF_MARGIN, (HPDF_REAL)y);
    HPDF_Page_Stroke(w->page);
    return y - 16;
}

double sr_pdfw_key_value_lines(sr_pdfw *w, double y, const char *key, const char *value, int max_lines)
{
    sr_pdfw_grey(w, 0.35);
    sr_pdfw_text(w, SR_PDF_MARGIN, y, key, 0, 9.5, 110, 0);
    sr_pdfw_grey(w, 0);
    return sr_pdfw_wrap(w, SR_PDF_MARGIN + 115, y, value, 0, 9.5, SR_PDF_CONTENT_W - 115, max_lines);
}

double sr_pdfw_key_value(sr_pdfw *w, double y, const char *key, const char *value)
{
    return sr_pdfw_key_value_lines(w, y, key, value, 2);
}

double sr_pdfw_study_line(sr_pdfw *w, double y)
{
    const sr_study *st = w->s->study;
    if (!st)
        return sr_pdfw_key_value(w, y, "Optuna study", "none found");
    char b[512];
    snprintf(b, sizeof b, "%s (%s, %zu trial%s)", st->name ? st->name : "?", st->direction ? st->direction : "?",
             st->n_trials, st->n_trials == 1 ? "" : "s");
    return sr_pdfw_key_value(w, y, "Optuna study", b);
}

double sr_pdfw_score_line(sr_pdfw *w, double y)
{
    char b[512];
    snprintf(b, sizeof b, "%s (%s is better)", w->a->expression ? w->a->expression : "pixar_score",
             w->a->maximize ? "higher" : "lower");
    return sr_pdfw_key_value(w, y, "Score", b);
}

char *sr_pdf_trial_title(const char *name)
{
    return strncasecmp(name, "trial", 5) == 0 ? xstrdup(name) : xasprintf("Trial %s", name);
}

/* The encoder for a PDF text string of clean text: none (PDFDocEncoding)
 * for ASCII, which reads the same in any reader and in the file itself,
 * UTF-8 (written as UTF-16BE) for anything else. */
static HPDF_Encoder string_encoder(sr_pdfw *w, const char *clean)
{
    for (const unsigned char *u = (const unsigned char *)clean; *u; u++)
        if (*u >= 0x80)
            return sr_pdf_utf8_encoder(w->doc);
    return NULL;
}

HPDF_Outline sr_pdfw_outline(sr_pdfw *w, HPDF_Outline parent, const char *title)
{
    if (sr_pdfw_failed(w) || !w->page)
        return NULL;
    sr_buf t;
    sr_buf_init(&t);
    sr_pdf_string_text(title, &t);
    HPDF_Outline o = HPDF_CreateOutline(w->doc, parent, t.s, string_encoder(w, t.s));
    sr_buf_free(&t);
    if (!o)
        return NULL;
    HPDF_Destination d = HPDF_Page_CreateDestination(w->page);
    if (d)
        HPDF_Outline_SetDestination(o, d); /* the whole page (/Fit) */
    return o;
}

void sr_pdf_fmt_exact(double v, char *b, size_t n)
{
    if (!isfinite(v)) {
        sr_pdf_fmt_num(v, b, n);
        return;
    }
    sr_format_exact(v, b, n);
}

void sr_pdf_fmt_num(double v, char *b, size_t n)
{
    sr_pdf_fmt_num_in(v, -1, b, n);
}

void sr_pdf_fmt_num_in(double v, int decimals, char *b, size_t n)
{
    if (isnan(v))
        snprintf(b, n, "\xe2\x80\x94");
    else if (isinf(v))
        snprintf(b, n, v > 0 ? "inf" : "-inf");
    else if (decimals >= 0)
        sr_format_in_column(v, decimals, b, n);
    else
        snprintf(b, n, "%.4g", v);
}

void sr_pdfw_fill_rect(sr_pdfw *w, double x, double y, double wd, double h, double r, double g, double b)
{
    if (!w->page)
        return;
    HPDF_Page_SetRGBFill(w->page, (HPDF_REAL)r, (HPDF_REAL)g, (HPDF_REAL)b);
    HPDF_Page_Rectangle(w->page, (HPDF_REAL)x, (HPDF_REAL)y, (HPDF_REAL)wd, (HPDF_REAL)h);
    HPDF_Page_Fill(w->page);
    HPDF_Page_SetRGBFill(w->page, 0, 0, 0);
}

/* Where a header too wide for max_w at size is best broken in two: after
 * the '_' or ' ' that makes the wider half narrowest.  0 when it fits, or
 * has no such place. */
static size_t header_break(sr_pdfw *w, const char *name, int bold, double size, double max_w)
{
    sr_buf head;
    sr_buf_init(&head);
    sr_pdf_text_clean(&w->fonts, name, bold, &head);
    size_t best = 0;
    if (sr_pdf_text_width(&w->fonts, head.s, bold, size) > max_w) {
        double widest = INFINITY;
        for (size_t k = 1; name[k]; k++) {
            if (name[k - 1] != '_' && name[k - 1] != ' ')
                continue;
            char *first = xstrndup(name, k);
            sr_pdf_text_clean(&w->fonts, first, bold, &head);
            double a = sr_pdf_text_width(&w->fonts, head.s, bold, size);
            sr_pdf_text_clean(&w->fonts, name + k, bold, &head);
            double b = sr_pdf_text_width(&w->fonts, head.s, bold, size);
            free(first);
            if (fmax(a, b) < widest) {
                widest = fmax(a, b);
                best = k;
            }
        }
    }
    sr_buf_free(&head);
    return best;
}

void sr_pdfw_table_header(sr_pdfw *w, double y, const char *const *names, const double *xs, const int *right,
                          size_t n, double size)
{
    sr_pdfw_fill_rect(w, SR_PDF_MARGIN, y - 4, SR_PDF_CONTENT_W, size + 8, 0.90, 0.90, 0.90);
    /* a name too wide for its column goes on two smaller lines, inside the
     * band: 1.2 lines apart (a font's ascent and descent take 1.16), the
     * pair centred on the band */
    const double small = size * 0.85, lead = small * 1.2;
    const double first_y = y + size / 2 + (lead - 0.52 * small) / 2;
    for (size_t i = 0; i < n; i++) {
        double cw = (i + 1 < n ? xs[i + 1] : SR_PDF_MARGIN + SR_PDF_CONTENT_W) - xs[i] - 4;
        double x = right[i] ? xs[i] + cw : xs[i] + 2;
        size_t k = header_break(w, names[i], 1, size, cw - 2);
        if (!k) {
            sr_pdfw_text(w, x, y, names[i], 1, size, cw - 2, right[i] ? 1 : 0);
            continue;
        }
        char *first = xstrndup(names[i], k);
        sr_pdfw_text(w, x, first_y, first, 1, small, cw - 2, right[i] ? 1 : 0);
        sr_pdfw_text(w, x, first_y - lead, names[i] + k, 1, small, cw - 2, right[i] ? 1 : 0);
        free(first);
    }
}

int sr_pdfw_chart(sr_pdfw *w, const sr_chart *c, double x, double y, double cw, double ch)
{
    char why[SR_MSG_MAX];
    if (sr_chart_pdf_fonts(c, w->page, &w->fonts, x, y, cw, ch, why, sizeof why) != 0) {
        if (sr_pdfw_failed(w))
            return -1;
        sr_problems_add(&w->extra, c->title ? c->title : "chart", "chart not drawn in the PDF: %s", why);
    }
    return 0;
}

double sr_pdfw_image(sr_pdfw *w, HPDF_Image img, double x, double y_top, double bw, double bh)
{
    if (!img || !w->page || sr_pdfw_failed(w))
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

void sr_pdfw_footers(sr_pdfw *w)
{
    char b[256];
    for (size_t i = 0; i < w->n_pages && !sr_pdfw_failed(w); i++) {
        w->page = w->pages[i];
        sr_pdfw_grey(w, 0.45);
        snprintf(b, sizeof b, "sweepreport \xc2\xb7 %s", w->sections[i]);
        sr_pdfw_text(w, SR_PDF_MARGIN, 25, b, 0, 8, SR_PDF_CONTENT_W * 0.7, 0);
        snprintf(b, sizeof b, "page %zu of %zu", i + 1, w->n_pages);
        sr_pdfw_text(w, SR_PDF_PAGE_W - SR_PDF_MARGIN, 25, b, 0, 8, SR_PDF_CONTENT_W * 0.3, 1);
        sr_pdfw_grey(w, 0);
    }
}

void sr_pdfw_font_note(sr_pdfw *w, const char *path, sr_problems *log)
{
    char note[512];
    sr_pdf_fonts_note(&w->fonts, note, sizeof note);
    if (!*note)
        return;
    sr_problems_add(&w->extra, path, "%s", note);
    if (log)
        sr_problems_add(log, path, "%s", note);
}

/* ---- document ---------------------------------------------------------------- */

void sr_pdfw_info(sr_pdfw *w, const char *title, const char *subject, const char *keywords, time_t when)
{
    const struct {
        HPDF_InfoType type;
        const char *value;
    } items[] = {
        {HPDF_INFO_TITLE, title},
        {HPDF_INFO_AUTHOR, "sweepreport"},
        {HPDF_INFO_CREATOR, "sweepreport " PACKAGE_VERSION},
        {HPDF_INFO_PRODUCER, "sweepreport " PACKAGE_VERSION " (libharu " HPDF_VERSION_TEXT ")"},
        {HPDF_INFO_SUBJECT, subject},
        {HPDF_INFO_KEYWORDS, keywords},
    };
    sr_buf v;
    sr_buf_init(&v);
    HPDF_Encoder was = w->doc->cur_encoder;
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        if (!items[i].value)
            continue;
        sr_pdf_string_text(items[i].value, &v);
        /* libharu takes the encoder of an information entry from the
         * document's current one, and has no call that sets it back to none */
        w->doc->cur_encoder = string_encoder(w, v.s);
        HPDF_SetInfoAttr(w->doc, items[i].type, v.s);
    }
    w->doc->cur_encoder = was;
    sr_buf_free(&v);
    struct tm tm;
    gmtime_r(&when, &tm);
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

int sr_pdfw_save(sr_pdfw *w, const char *path, sr_atomic_mode mode, char *err, size_t errlen)
{
    char lib[128];
    /* a font file that cannot be read again leaves libharu's subsets as
     * they are: a stroke may be missing, the document is still valid */
    (void)sr_pdf_fonts_finish(&w->fonts);
    if (sr_pdfw_failed(w) || HPDF_SaveToStream(w->doc) != HPDF_OK) {
        sr_pdfw_error_text(w, lib, sizeof lib);
        snprintf(err, errlen, "%s: %s while saving", path, lib);
        return -1;
    }
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
            sr_pdfw_error_text(w, lib, sizeof lib);
            snprintf(err, errlen, "%s: %s while saving", path, lib);
            return -1;
        }
    }
    if (got != size) {
        free(data);
        snprintf(err, errlen, "%s: the PDF came out short (%u of %u bytes)", path, (unsigned)got, (unsigned)size);
        return -1;
    }
    int rc = sr_write_file_atomic(path, data, got, mode);
    int e = errno;
    free(data);
    if (rc != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path,
                 e == EEXIST ? "a file of that name appeared meanwhile" : strerror(e));
        errno = e;
        return -1;
    }
    return 0;
}
