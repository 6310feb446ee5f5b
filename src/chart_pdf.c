/* chart_pdf.c - charts as vector drawing on a libharu page, in a box given
 * in PDF points (origin bottom left, y up).  The layout is the one the cairo
 * backend uses; only y is flipped into the box. */
#include "config.h"

#include "chart.h"
#include "chart_layout.h"
#include "pdf_text.h"
#include "util.h"

#include <hpdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* libharu 2.4 takes dash lengths as reals, 2.3 as integers */
#if HPDF_MAJOR_VERSION > 2 || (HPDF_MAJOR_VERSION == 2 && HPDF_MINOR_VERSION >= 4)
typedef HPDF_REAL dash_len;
#else
typedef HPDF_UINT16 dash_len;
#endif

typedef enum { ENC_UTF8, ENC_LATIN1, ENC_ASCII } text_encoding;

typedef struct {
    HPDF_Page page;
    HPDF_Font font;
    sr_pdf_fonts *fonts;    /* UTF-8 text: the fonts it is drawn in */
    double bx, by, bh;      /* box origin and height */
    text_encoding enc;
    HPDF_STATUS status;     /* the first error */
    const char *what;       /* and the call that raised it */
    sr_buf text;            /* text converted for a non-UTF-8 font */
} pdf_gfx;

/* Runs one libharu call unless an earlier one failed; remembers the first error. */
#define CK(p, name, call)                                                                                             \
    do {                                                                                                              \
        if ((p)->status == HPDF_OK) {                                                                                 \
            HPDF_STATUS st_ = (call);                                                                                 \
            if (st_ != HPDF_OK) {                                                                                     \
                (p)->status = st_;                                                                                    \
                (p)->what = name;                                                                                     \
            }                                                                                                         \
        }                                                                                                             \
    } while (0)

static double px(const pdf_gfx *p, double x)
{
    return p->bx + x;
}

static double py(const pdf_gfx *p, double y)
{
    return p->by + p->bh - y;
}

/* Decodes the UTF-8 character at s (clean input), returning its length. */
static size_t utf8_decode(const unsigned char *s, unsigned *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;
    unsigned v = s[0] & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
    for (size_t i = 1; i < n; i++) {
        if (!s[i]) {
            *cp = 0xFFFD;
            return i;
        }
        v = v << 6 | (s[i] & 0x3F);
    }
    *cp = v;
    return n;
}

/* The text as the font's encoding wants it: UTF-8 as is; otherwise
 * Latin-1 (WinAnsi) or ASCII, with the common punctuation spelled out and
 * anything else as '?'. */
static const char *encode(pdf_gfx *p, const char *s)
{
    if (p->enc == ENC_UTF8)
        return s;
    p->text.len = 0;
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        unsigned cp;
        u += utf8_decode(u, &cp);
        if (cp < 0x80 || (p->enc == ENC_LATIN1 && cp >= 0xA0 && cp <= 0xFF)) {
            char ch = (char)cp;
            sr_buf_append(&p->text, &ch, 1);
        } else if (cp == 0x2026) {
            sr_buf_puts(&p->text, "...");
        } else if (cp == 0x2212 || cp == 0x2013 || cp == 0x2014) {
            sr_buf_puts(&p->text, "-");
        } else if (cp == 0x2018 || cp == 0x2019) {
            sr_buf_puts(&p->text, "'");
        } else if (cp == 0x201C || cp == 0x201D) {
            sr_buf_puts(&p->text, "\"");
        } else {
            sr_buf_puts(&p->text, "?");
        }
    }
    sr_buf_puts(&p->text, "");
    return p->text.s;
}

static double pg_text_width(void *ctx, const char *text, double size, int bold)
{
    pdf_gfx *p = ctx;
    if (p->enc == ENC_UTF8) {
        sr_pdf_text_clean(p->fonts, text, 0, &p->text);
        return sr_pdf_text_width(p->fonts, p->text.s, 0, size);
    }
    const char *t = encode(p, text);
    HPDF_TextWidth tw = HPDF_Font_TextWidth(p->font, (const HPDF_BYTE *)t, (HPDF_UINT)strlen(t));
    (void)bold; /* the stroke that makes bold text leaves the advance alone */
    return (double)tw.width * size / 1000.0;
}

static void set_fill(pdf_gfx *p, sr_rgb c)
{
    CK(p, "HPDF_Page_SetRGBFill", HPDF_Page_SetRGBFill(p->page, (HPDF_REAL)c.r, (HPDF_REAL)c.g, (HPDF_REAL)c.b));
}

static void set_stroke(pdf_gfx *p, sr_rgb c, double width)
{
    CK(p, "HPDF_Page_SetRGBStroke", HPDF_Page_SetRGBStroke(p->page, (HPDF_REAL)c.r, (HPDF_REAL)c.g, (HPDF_REAL)c.b));
    CK(p, "HPDF_Page_SetLineWidth", HPDF_Page_SetLineWidth(p->page, (HPDF_REAL)width));
}

static void pg_text(void *ctx, double x, double y, double angle, sr_text_align align, const char *text, double size,
                    int bold, sr_rgb color)
{
    pdf_gfx *p = ctx;
    if (!text || !*text || p->status != HPDF_OK)
        return;
    double w = pg_text_width(p, text, size, bold);
    const char *t = p->enc == ENC_UTF8 ? p->text.s : encode(p, text);
    double a = angle * PI / 180, ca = cos(a), sa = sin(a);
    double off = align == SR_TEXT_CENTER ? w / 2 : align == SR_TEXT_RIGHT ? w : 0;
    double X = px(p, x) - off * ca, Y = py(p, y) - off * sa;
    set_fill(p, color);
    if (bold) /* one font only: a hairline stroke around the glyphs makes them bold */
        set_stroke(p, color, size * 0.06);
    CK(p, "HPDF_Page_SetTextRenderingMode",
       HPDF_Page_SetTextRenderingMode(p->page, bold ? HPDF_FILL_THEN_STROKE : HPDF_FILL));
    CK(p, "HPDF_Page_BeginText", HPDF_Page_BeginText(p->page));
    if (p->enc != ENC_UTF8)
        CK(p, "HPDF_Page_SetFontAndSize", HPDF_Page_SetFontAndSize(p->page, p->font, (HPDF_REAL)size));
    CK(p, "HPDF_Page_SetTextMatrix",
       HPDF_Page_SetTextMatrix(p->page, (HPDF_REAL)ca, (HPDF_REAL)sa, (HPDF_REAL)-sa, (HPDF_REAL)ca, (HPDF_REAL)X,
                               (HPDF_REAL)Y));
    if (p->enc == ENC_UTF8) {
        /* the width above left the cleaned text in p->text */
        CK(p, "HPDF_Page_ShowText", sr_pdf_text_show(p->fonts, p->page, t, 0, size));
    } else {
        CK(p, "HPDF_Page_ShowText", HPDF_Page_ShowText(p->page, t));
    }
    CK(p, "HPDF_Page_EndText", HPDF_Page_EndText(p->page));
}

static void path(pdf_gfx *p, const double *xy, size_t n)
{
    CK(p, "HPDF_Page_MoveTo", HPDF_Page_MoveTo(p->page, (HPDF_REAL)px(p, xy[0]), (HPDF_REAL)py(p, xy[1])));
    for (size_t i = 1; i < n && p->status == HPDF_OK; i++)
        CK(p, "HPDF_Page_LineTo",
           HPDF_Page_LineTo(p->page, (HPDF_REAL)px(p, xy[2 * i]), (HPDF_REAL)py(p, xy[2 * i + 1])));
}

static void pg_polyline(void *ctx, const double *xy, size_t n, double width, sr_rgb color, int dashed)
{
    pdf_gfx *p = ctx;
    if (n < 2 || p->status != HPDF_OK)
        return;
    set_stroke(p, color, width);
    if (dashed) {
        dash_len d[2] = {(dash_len)fmax(1, round(3.5 * width)), (dash_len)fmax(1, round(2 * width))};
        CK(p, "HPDF_Page_SetDash", HPDF_Page_SetDash(p->page, d, 2, 0));
    }
    path(p, xy, n);
    CK(p, "HPDF_Page_Stroke", HPDF_Page_Stroke(p->page));
    if (dashed)
        CK(p, "HPDF_Page_SetDash", HPDF_Page_SetDash(p->page, NULL, 0, 0));
}

/* Paints the current path as asked (colours are set before the path). */
static void paint(pdf_gfx *p, const sr_rgb *fill, const sr_rgb *stroke, double width)
{
    int s = stroke && width > 0;
    if (fill && s)
        CK(p, "HPDF_Page_FillStroke", HPDF_Page_FillStroke(p->page));
    else if (fill)
        CK(p, "HPDF_Page_Fill", HPDF_Page_Fill(p->page));
    else if (s)
        CK(p, "HPDF_Page_Stroke", HPDF_Page_Stroke(p->page));
    else
        CK(p, "HPDF_Page_EndPath", HPDF_Page_EndPath(p->page));
}

static void paint_colours(pdf_gfx *p, const sr_rgb *fill, const sr_rgb *stroke, double width)
{
    if (fill)
        set_fill(p, *fill);
    if (stroke && width > 0)
        set_stroke(p, *stroke, width);
}

static void pg_polygon(void *ctx, const double *xy, size_t n, const sr_rgb *fill, const sr_rgb *stroke, double width)
{
    pdf_gfx *p = ctx;
    if (n < 3 || p->status != HPDF_OK)
        return;
    paint_colours(p, fill, stroke, width);
    path(p, xy, n);
    CK(p, "HPDF_Page_ClosePath", HPDF_Page_ClosePath(p->page));
    paint(p, fill, stroke, width);
}

static void pg_circle(void *ctx, double cx, double cy, double r, const sr_rgb *fill, const sr_rgb *stroke,
                      double width)
{
    pdf_gfx *p = ctx;
    if (p->status != HPDF_OK || !(r > 0))
        return;
    paint_colours(p, fill, stroke, width);
    CK(p, "HPDF_Page_Circle", HPDF_Page_Circle(p->page, (HPDF_REAL)px(p, cx), (HPDF_REAL)py(p, cy), (HPDF_REAL)r));
    paint(p, fill, stroke, width);
}

static void pg_clip(void *ctx, double x, double y, double w, double h)
{
    pdf_gfx *p = ctx;
    CK(p, "HPDF_Page_GSave", HPDF_Page_GSave(p->page));
    CK(p, "HPDF_Page_Rectangle",
       HPDF_Page_Rectangle(p->page, (HPDF_REAL)px(p, x), (HPDF_REAL)py(p, y + h), (HPDF_REAL)w, (HPDF_REAL)h));
    CK(p, "HPDF_Page_Clip", HPDF_Page_Clip(p->page));
    CK(p, "HPDF_Page_EndPath", HPDF_Page_EndPath(p->page));
}

static void pg_unclip(void *ctx)
{
    pdf_gfx *p = ctx;
    CK(p, "HPDF_Page_GRestore", HPDF_Page_GRestore(p->page));
}

static int pg_failed(void *ctx)
{
    const pdf_gfx *p = ctx;
    return p->status != HPDF_OK;
}

/* fonts: the set UTF-8 text is drawn in; NULL to use the font alone. */
static int chart_pdf(const sr_chart *c, HPDF_Page hpdf_page, HPDF_Font hpdf_font, sr_pdf_fonts *fonts, double x,
                     double y, double w, double h, char *err, size_t errlen)
{
    if (!hpdf_page || !hpdf_font) {
        snprintf(err, errlen, "no PDF %s", hpdf_page ? "font" : "page");
        return -1;
    }
    if (!isfinite(x) || !isfinite(y) || fabs(x) > 1e5 || fabs(y) > 1e5) {
        snprintf(err, errlen, "chart box at %g, %g is off the page", x, y);
        return -1;
    }
    if (sr_chart_check(c, w, h, err, errlen) != 0)
        return -1;
    sr_pdf_fonts single;
    pdf_gfx p = {hpdf_page, hpdf_font, fonts, x, y, h, ENC_ASCII, HPDF_OK, NULL, {0}};
    sr_buf_init(&p.text);
    const char *enc = HPDF_Font_GetEncodingName(p.font);
    if (enc && strcmp(enc, "UTF-8") == 0) {
        p.enc = ENC_UTF8;
        if (!p.fonts) {
            sr_pdf_fonts_single(&single, p.font);
            p.fonts = &single;
        }
    } else if (enc && strcmp(enc, "WinAnsiEncoding") == 0) {
        p.enc = ENC_LATIN1;
    }

    CK(&p, "HPDF_Page_GSave", HPDF_Page_GSave(p.page));
    CK(&p, "HPDF_Page_SetLineJoin", HPDF_Page_SetLineJoin(p.page, HPDF_ROUND_JOIN));
    CK(&p, "HPDF_Page_SetLineCap", HPDF_Page_SetLineCap(p.page, HPDF_BUTT_END));
    int saved = p.status == HPDF_OK;
    sr_gfx g = {&p, pg_text_width, pg_text, pg_polyline, pg_polygon, pg_circle, pg_clip, pg_unclip, pg_failed, 0.5};
    sr_layout L;
    int rc = p.status == HPDF_OK ? sr_layout_compute(&L, c, w, h, &g, err, errlen) : (memset(&L, 0, sizeof L), 0);
    if (rc == 0 && p.status == HPDF_OK)
        sr_layout_draw(&L, c, &g);
    if (saved && p.status == HPDF_OK) {
        CK(&p, "HPDF_Page_SetTextRenderingMode", HPDF_Page_SetTextRenderingMode(p.page, HPDF_FILL));
        CK(&p, "HPDF_Page_GRestore", HPDF_Page_GRestore(p.page));
    }
    sr_layout_free(&L);
    sr_buf_free(&p.text);
    if (rc != 0)
        return -1;
    if (p.status != HPDF_OK) {
        snprintf(err, errlen, "PDF drawing failed in %s (libharu error 0x%04X)", p.what ? p.what : "libharu",
                 (unsigned)p.status);
        return -1;
    }
    return 0;
}

int sr_chart_pdf(const sr_chart *c, void *hpdf_page, void *hpdf_font, double x, double y, double w, double h,
                 char *err, size_t errlen)
{
    return chart_pdf(c, hpdf_page, hpdf_font, NULL, x, y, w, h, err, errlen);
}

int sr_chart_pdf_fonts(const sr_chart *c, void *hpdf_page, struct sr_pdf_fonts *fonts, double x, double y, double w,
                       double h, char *err, size_t errlen)
{
    return chart_pdf(c, hpdf_page, fonts ? fonts->font[SR_PDF_REGULAR] : NULL, fonts, x, y, w, h, err, errlen);
}
