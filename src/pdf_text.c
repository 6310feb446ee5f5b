/* pdf_text.c - UTF-8 text in runs of the font that has the glyphs: DejaVu,
 * then a CJK TrueType font loaded on first need, else U+FFFD. */
#include "config.h"

#include "pdf_text.h"

#include <fcntl.h>
#include <hpdf_doc.h>
#include <hpdf_font.h>
#include <hpdf_fontdef.h>
#include <hpdf_objects.h>
#include <hpdf_streams.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPLACEMENT 0xFFFDu

static const struct {
    const char *path;
    int index; /* -1: a plain .ttf */
} cjk_candidates[] = {
    /* han, kana and hangul (the "Full" face has no hangul) */
    {"/usr/share/fonts-droid-fallback/truetype/DroidSansFallback.ttf", -1},
    {"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", -1},
    {"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0},
    {"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0},
    {"/usr/share/fonts/truetype/arphic/uming.ttc", 0},
};

void sr_pdf_on_error(HPDF_STATUS code, HPDF_STATUS detail, void *user)
{
    sr_pdf_error *e = user;
    if (e->code == HPDF_OK) {
        e->code = code;
        e->detail = detail;
    }
}

/* Decodes one UTF-8 character (malformed input gives U+FFFD and skips at
 * least one byte). */
static size_t utf8_next(const unsigned char *s, unsigned *cp)
{
    unsigned c = s[0], v;
    size_t n;
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
        *cp = REPLACEMENT;
        return 1;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = REPLACEMENT;
            return i;
        }
        v = v << 6 | (s[i] & 0x3F);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) || (v >= 0xD800 && v <= 0xDFFF))
        v = REPLACEMENT;
    *cp = v;
    return n;
}

/* Han, kana, hangul, CJK punctuation and full-width forms. */
static int is_cjk(unsigned cp)
{
    return (cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xA960 && cp <= 0xA97F) ||
           (cp >= 0xAC00 && cp <= 0xD7FF) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
           (cp >= 0xFF00 && cp <= 0xFFEF) || cp >= 0x20000;
}

static HPDF_FontDef def_of(HPDF_Font font)
{
    /* libharu keeps the font's definition in its attributes; the
     * definition answers glyph look-ups */
    if (!font || !font->attr)
        return NULL;
    return ((HPDF_FontAttr)font->attr)->fontdef;
}

/* libharu 2.3 gives a UTF-8 font a ToUnicode CMap that maps with a
 * "cidrange", which ToUnicode CMaps cannot use (readers warn, and some
 * cannot copy the text).  The codes are Unicode code points, so the
 * mapping is the identity: written here as bfranges, 256 codes each,
 * leaving out the surrogates. */
static void fix_to_unicode(HPDF_Font font)
{
    HPDF_FontAttr attr = font ? font->attr : NULL;
    HPDF_Dict cmap = attr ? attr->cmap_stream : NULL;
    if (!cmap || !cmap->stream || HPDF_Dict_GetItem(font, "ToUnicode", HPDF_OCLASS_DICT) != cmap)
        return;
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_puts(&b, "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
                    "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
                    "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
                    "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
    unsigned hi[256], n = 0;
    for (unsigned h = 0; h < 256; h++)
        if (h < 0xD8 || h > 0xDF)
            hi[n++] = h;
    for (unsigned i = 0; i < n; i += 100) {
        unsigned k = n - i < 100 ? n - i : 100;
        sr_buf_printf(&b, "%u beginbfrange\n", k);
        for (unsigned j = i; j < i + k; j++)
            sr_buf_printf(&b, "<%02X00> <%02XFF> <%02X00>\n", hi[j], hi[j], hi[j]);
        sr_buf_puts(&b, "endbfrange\n");
    }
    sr_buf_puts(&b, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    HPDF_MemStream_FreeData(cmap->stream);
    cmap->filter = HPDF_STREAM_FILTER_FLATE_DECODE;
    HPDF_Stream_Write(cmap->stream, (const HPDF_BYTE *)b.s, (HPDF_UINT)b.len);
    sr_buf_free(&b);
}

HPDF_Encoder sr_pdf_utf8_encoder(HPDF_Doc doc)
{
    /* registering it a second time is an error that spoils the document */
    HPDF_Encoder e = HPDF_Doc_FindEncoder(doc, "UTF-8");
    if (!e && HPDF_UseUTFEncodings(doc) == HPDF_OK)
        e = HPDF_Doc_FindEncoder(doc, "UTF-8");
    return e;
}

/* The character at *u, moving *u past it: a control character as a space
 * (the text is shown on one line), malformed bytes as U+FFFD. */
static unsigned shown_char(const unsigned char **u)
{
    unsigned cp;
    *u += utf8_next(*u, &cp);
    return cp < 0x20 || (cp >= 0x7F && cp < 0xA0) ? ' ' : cp;
}

void sr_pdf_string_text(const char *s, sr_buf *out)
{
    out->len = 0;
    sr_buf_puts(out, "");
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    while (*u) {
        unsigned cp = shown_char(&u);
        if (cp > 0xFFFF)
            cp = REPLACEMENT; /* libharu writes no surrogate pairs */
        sr_buf_put_utf8(out, cp);
    }
    sr_buf_puts(out, "");
}

int sr_pdf_fonts_load(sr_pdf_fonts *f, HPDF_Doc doc, sr_pdf_error *err, char *why, size_t whylen)
{
    memset(f, 0, sizeof *f);
    f->doc = doc;
    f->err = err;
    sr_pdf_utf8_encoder(doc);
    const char *files[2] = {SR_PDF_DEJAVU, SR_PDF_DEJAVU_BOLD};
    for (int i = 0; i < 2; i++) {
        const char *name = access(files[i], R_OK) == 0 ? HPDF_LoadTTFontFromFile(doc, files[i], HPDF_TRUE) : NULL;
        f->font[i] = name ? HPDF_GetFont(doc, name, "UTF-8") : NULL;
        f->def[i] = def_of(f->font[i]);
        fix_to_unicode(f->font[i]);
        if (!f->font[i] || !f->def[i] || err->code != HPDF_OK) {
            snprintf(why, whylen, "%s: cannot load the font (libharu error 0x%04X, detail %u)", files[i],
                     (unsigned)err->code, (unsigned)err->detail);
            return -1;
        }
    }
    return 0;
}

void sr_pdf_fonts_single(sr_pdf_fonts *f, HPDF_Font font)
{
    memset(f, 0, sizeof *f);
    f->font[SR_PDF_REGULAR] = f->font[SR_PDF_BOLD] = font;
    f->def[SR_PDF_REGULAR] = f->def[SR_PDF_BOLD] = def_of(font);
    f->cjk_state = -1;
}

const char *sr_pdf_cjk_font_file(int *index)
{
    static char env_file[512];
    const char *env = getenv("SR_CJK_FONT");
    if (env && *env) {
        *index = -1;
        if (strcmp(env, "none") == 0)
            return "";
        snprintf(env_file, sizeof env_file, "%s", env);
        char *colon = strrchr(env_file, ':');
        if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
            *colon = '\0';
            *index = atoi(colon + 1);
        }
        return env_file;
    }
    for (size_t i = 0; i < sizeof cjk_candidates / sizeof cjk_candidates[0]; i++)
        if (access(cjk_candidates[i].path, R_OK) == 0) {
            *index = cjk_candidates[i].index;
            return cjk_candidates[i].path;
        }
    *index = -1;
    return "";
}

static void load_cjk(sr_pdf_fonts *f)
{
    f->cjk_state = -1;
    if (!f->doc || (f->err && f->err->code != HPDF_OK))
        return;
    int index;
    const char *file = sr_pdf_cjk_font_file(&index);
    if (!*file || access(file, R_OK) != 0)
        return;
    const char *name = index >= 0 ? HPDF_LoadTTFontFromFile2(f->doc, file, (HPDF_UINT)index, HPDF_TRUE)
                                  : HPDF_LoadTTFontFromFile(f->doc, file, HPDF_TRUE);
    HPDF_Font font = name ? HPDF_GetFont(f->doc, name, "UTF-8") : NULL;
    HPDF_FontDef def = def_of(font);
    if (!font || !def || def->type != HPDF_FONTDEF_TYPE_TRUETYPE || (f->err && f->err->code != HPDF_OK)) {
        /* not a font libharu can embed (CFF outlines, say): the characters
         * are replaced and the note says why */
        HPDF_ResetError(f->doc);
        if (f->err)
            f->err->code = f->err->detail = HPDF_OK;
        return;
    }
    fix_to_unicode(font);
    f->font[SR_PDF_CJK] = font;
    f->def[SR_PDF_CJK] = def;
    snprintf(f->cjk_file, sizeof f->cjk_file, "%s", file);
    f->cjk_state = 1;
}

static int has_glyph(const sr_pdf_fonts *f, int which, unsigned cp)
{
    HPDF_FontDef d = f->def[which];
    if (!f->font[which] || !d)
        return 0;
    if (d->type != HPDF_FONTDEF_TYPE_TRUETYPE)
        return cp < 0x80; /* a base-14 font: what its encoding surely has */
    if (which != SR_PDF_CJK && cp >= 0x20 && cp < 0x7F)
        return 1;
    return cp <= 0xFFFF && HPDF_TTFontDef_GetGlyphid(d, (HPDF_UINT16)cp) != 0;
}

/* The font that draws cp: the bold or regular face, else the CJK font, else
 * -1. */
static int font_for(sr_pdf_fonts *f, unsigned cp, int bold)
{
    if (bold && has_glyph(f, SR_PDF_BOLD, cp))
        return SR_PDF_BOLD;
    if (has_glyph(f, SR_PDF_REGULAR, cp))
        return SR_PDF_REGULAR;
    if (f->cjk_state == 0)
        load_cjk(f);
    if (f->cjk_state == 1 && has_glyph(f, SR_PDF_CJK, cp))
        return SR_PDF_CJK;
    return -1;
}

void sr_pdf_text_clean(sr_pdf_fonts *f, const char *s, int bold, sr_buf *out)
{
    out->len = 0;
    sr_buf_puts(out, "");
    const unsigned char *u = (const unsigned char *)(s ? s : "");
    while (*u) {
        unsigned cp = shown_char(&u);
        if (font_for(f, cp, bold) < 0) {
            f->replaced++;
            if (is_cjk(cp) && f->cjk_state != 1)
                f->replaced_cjk++;
            cp = has_glyph(f, SR_PDF_REGULAR, REPLACEMENT) ? REPLACEMENT : '?';
        }
        sr_buf_put_utf8(out, cp);
    }
    sr_buf_puts(out, "");
}

/* The next run of clean text drawn in one font: its length in bytes. */
static size_t next_run(sr_pdf_fonts *f, const char *s, int bold, int *which)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0;
    *which = -1;
    while (u[n]) {
        unsigned cp;
        size_t k = utf8_next(u + n, &cp);
        int w = font_for(f, cp, bold);
        if (w < 0)
            w = SR_PDF_REGULAR; /* not clean text: leave it to DejaVu */
        if (*which >= 0 && w != *which)
            break;
        *which = w;
        n += k;
    }
    return n;
}

double sr_pdf_text_width(sr_pdf_fonts *f, const char *clean, int bold, double size)
{
    double w = 0;
    while (clean && *clean) {
        int which;
        size_t n = next_run(f, clean, bold, &which);
        /* libharu measures at most 65535 bytes at a time (more is an
         * error that spoils the whole document): long runs in pieces cut
         * between characters */
        while (n > 0) {
            size_t k = n;
            if (k > 16384) {
                k = 16384;
                while (k > 0 && ((unsigned char)clean[k] & 0xC0) == 0x80)
                    k--;
            }
            HPDF_TextWidth tw = HPDF_Font_TextWidth(f->font[which], (const HPDF_BYTE *)clean, (HPDF_UINT)k);
            w += (double)tw.width * size / 1000.0;
            clean += k;
            n -= k;
        }
    }
    return w;
}

HPDF_STATUS sr_pdf_text_show(sr_pdf_fonts *f, HPDF_Page page, const char *clean, int bold, double size)
{
    sr_buf run;
    sr_buf_init(&run);
    HPDF_STATUS st = HPDF_OK;
    while (st == HPDF_OK && clean && *clean) {
        int which;
        size_t n = next_run(f, clean, bold, &which);
        run.len = 0;
        sr_buf_append(&run, clean, n);
        sr_buf_puts(&run, "");
        st = HPDF_Page_SetFontAndSize(page, f->font[which], (HPDF_REAL)size);
        if (st == HPDF_OK)
            st = HPDF_Page_ShowText(page, run.s);
        clean += n;
    }
    sr_buf_free(&run);
    return st;
}

/* ---- composite glyphs ------------------------------------------------------ */

static unsigned get16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* Marks the components of every used composite glyph of one font. */
static int close_composites(HPDF_FontDef def, const char *file)
{
    HPDF_TTFontDefAttr attr = def->attr;
    HPDF_TTF_GryphOffsets *g = &attr->glyph_tbl;
    size_t n = attr->num_glyphs;
    if (!g->offsets || !g->flgs || !n)
        return 0;
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    unsigned scale = attr->header.index_to_loc_format == 0 ? 2 : 1;
    size_t *todo = xmalloc(n * sizeof *todo), top = 0;
    for (size_t i = 0; i < n; i++)
        if (g->flgs[i])
            todo[top++] = i;
    unsigned char *buf = NULL;
    size_t cap = 0;
    int rc = 0;
    while (top > 0) {
        size_t gid = todo[--top];
        uint64_t start = (uint64_t)g->offsets[gid] * scale, end = (uint64_t)g->offsets[gid + 1] * scale;
        if (end <= start + 10 || end - start > 65536)
            continue; /* empty, or not a plausible glyph */
        size_t len = (size_t)(end - start);
        if (len > cap) {
            cap = len;
            buf = xrealloc(buf, cap);
        }
        if (pread(fd, buf, len, (off_t)(g->base_offset + start)) != (ssize_t)len) {
            rc = -1;
            break;
        }
        if ((int16_t)get16(buf) >= 0)
            continue; /* a simple glyph */
        size_t p = 10;
        unsigned flags;
        do {
            if (p + 4 > len)
                break;
            flags = get16(buf + p);
            unsigned comp = get16(buf + p + 2);
            p += 4 + (flags & 0x0001 ? 4 : 2);             /* the arguments */
            p += flags & 0x0008 ? 2 : flags & 0x0040 ? 4 : flags & 0x0080 ? 8 : 0; /* the transform */
            if (comp < n && !g->flgs[comp]) {
                g->flgs[comp] = 1;
                todo[top++] = comp;
            }
        } while (flags & 0x0020);
    }
    free(buf);
    free(todo);
    close(fd);
    return rc;
}

int sr_pdf_fonts_finish(sr_pdf_fonts *f)
{
    const char *files[SR_PDF_N_FONTS] = {SR_PDF_DEJAVU, SR_PDF_DEJAVU_BOLD, f->cjk_file};
    int rc = 0;
    for (int i = 0; i < SR_PDF_N_FONTS; i++) {
        if (!f->font[i] || !f->def[i] || f->def[i]->type != HPDF_FONTDEF_TYPE_TRUETYPE || !f->doc)
            continue;
        if (close_composites(f->def[i], files[i]) != 0)
            rc = -1;
    }
    return rc;
}

void sr_pdf_fonts_note(const sr_pdf_fonts *f, char *buf, size_t len)
{
    if (!f->replaced) {
        snprintf(buf, len, "%s", "");
    } else if (f->replaced_cjk) {
        int index;
        const char *file = sr_pdf_cjk_font_file(&index);
        snprintf(buf, len,
                 "CJK text is shown as U+FFFD: %s (install fonts-droid-fallback, or set SR_CJK_FONT to a TrueType "
                 "font file)",
                 *file ? "the CJK font cannot be embedded" : "no CJK TrueType font is installed");
    } else {
        snprintf(buf, len, "%s", "some characters are shown as U+FFFD: no embedded font has them");
    }
}
