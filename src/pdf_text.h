/* pdf_text.h - UTF-8 text on libharu pages, drawn in runs of one font each:
 * DejaVu Sans for every character it has, a CJK TrueType font (loaded the
 * first time a character needs it) for the rest, and U+FFFD for characters
 * that no loaded font has, so that no text ever shows a missing glyph.
 *
 * libharu 2.3 embeds TrueType (glyf) outlines only; the Noto CJK collections
 * carry CFF outlines and are refused (HPDF_TTF_INVALID_FMT), so the CJK
 * font is the first of these that is installed:
 *   $SR_CJK_FONT (FILE or FILE:INDEX for a collection; "none": no CJK font)
 *   /usr/share/fonts-droid-fallback/truetype/DroidSansFallback.ttf  (fonts-droid-fallback)
 *   /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf  (the same, without hangul)
 *   /usr/share/fonts/truetype/wqy/wqy-microhei.ttc             (fonts-wqy-microhei)
 *   /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc               (fonts-wqy-zenhei)
 *   /usr/share/fonts/truetype/arphic/uming.ttc                 (fonts-arphic-uming) */
#ifndef SR_PDF_TEXT_H
#define SR_PDF_TEXT_H

#include "util.h"

#include <hpdf.h>
#include <stddef.h>

#define SR_PDF_DEJAVU "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#define SR_PDF_DEJAVU_BOLD "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

/* The first libharu error of a document (the error handler's user data). */
typedef struct {
    HPDF_STATUS code, detail;
} sr_pdf_error;

/* The error handler to pass to HPDF_New with an sr_pdf_error. */
void sr_pdf_on_error(HPDF_STATUS code, HPDF_STATUS detail, void *user);

enum { SR_PDF_REGULAR, SR_PDF_BOLD, SR_PDF_CJK, SR_PDF_N_FONTS };

typedef struct sr_pdf_fonts {
    HPDF_Doc doc;                      /* NULL: no CJK font can be loaded */
    sr_pdf_error *err;                 /* the document's error record */
    HPDF_Font font[SR_PDF_N_FONTS];    /* CJK: NULL until loaded */
    HPDF_FontDef def[SR_PDF_N_FONTS];
    int cjk_state;                     /* 0 not looked for yet, 1 loaded, -1 none */
    char cjk_file[512];                /* the CJK font file, once loaded */
    size_t replaced;                   /* characters replaced by U+FFFD (a
                                          text measured and drawn counts twice) */
    size_t replaced_cjk;               /* of them, CJK characters (no CJK font) */
} sr_pdf_fonts;

/* Loads DejaVu Sans and DejaVu Sans Bold into doc (UTF-8, embedded).
 * Returns 0, or -1 with a one-line reason. */
int sr_pdf_fonts_load(sr_pdf_fonts *f, HPDF_Doc doc, sr_pdf_error *err, char *why, size_t whylen);

/* libharu's UTF-8 encoder of doc, registered on first use; NULL when it
 * cannot be. */
HPDF_Encoder sr_pdf_utf8_encoder(HPDF_Doc doc);

/* s as text for a PDF text string (the document information, bookmarks)
 * and its XMP copy: valid UTF-8 of the Basic Multilingual Plane, which
 * libharu's UTF-8 encoder writes as UTF-16BE whole.  Control characters
 * become spaces; malformed bytes and characters above U+FFFF (which it
 * would turn into spaces unsaid) become U+FFFD.  out holds the result. */
void sr_pdf_string_text(const char *s, sr_buf *out);

/* A set of one font (an HPDF_Font with the UTF-8 encoding, loaded from a
 * TrueType file) used for regular and bold text, with no fallback.  CJK
 * characters have no bold face: bold text draws them in the regular one. */
void sr_pdf_fonts_single(sr_pdf_fonts *f, HPDF_Font font);

/* The CJK font file the next document would load ("" when none is
 * installed); index gets the face in a collection (-1 for a plain file). */
const char *sr_pdf_cjk_font_file(int *index);

/* The characters of s that a loaded font can draw: control characters become
 * spaces, the rest that no font has U+FFFD (counted in f->replaced).  out
 * holds the result (NUL-terminated UTF-8). */
void sr_pdf_text_clean(sr_pdf_fonts *f, const char *s, int bold, sr_buf *out);

/* The width in points of cleaned text at size. */
double sr_pdf_text_width(sr_pdf_fonts *f, const char *clean, int bold, double size);

/* Shows cleaned text at the current text position (between
 * HPDF_Page_BeginText and HPDF_Page_EndText), switching fonts between runs.
 * Returns the first libharu status that is not HPDF_OK. */
HPDF_STATUS sr_pdf_text_show(sr_pdf_fonts *f, HPDF_Page page, const char *clean, int bold, double size);

/* Completes the glyph subsets before the document is saved: libharu 2.3
 * embeds the parts of a composite glyph only when their glyph ids are below
 * 32768 and one level deep, which loses strokes of CJK characters (and
 * accents stacked in DejaVu).  Every component of every used glyph is
 * marked used here.  Returns 0, or -1 when a font file cannot be read
 * again (the subsets are left as they are). */
int sr_pdf_fonts_finish(sr_pdf_fonts *f);

/* A one-line note on the characters that were replaced ("" when none was). */
void sr_pdf_fonts_note(const sr_pdf_fonts *f, char *buf, size_t len);

#endif
