/* pdf_pdfa.h - PDF/A-3b for a libharu document: XMP metadata repeating the
 * document information dictionary, plus properties of sweepreport's own
 * schema (declared in the XMP as PDF/A asks of extension schemas); an sRGB
 * output intent with its ICC profile embedded; a file identifier; the PDF
 * 1.7 header.  Fonts are embedded by the writer, and nothing it draws is
 * transparent or encrypted.
 *
 * libharu 2.3's own PDF/A helpers write a misspelt key into the output
 * intent ("DestOutputProfile ") and the metadata ("SubType"), so these
 * objects are built here. */
#ifndef SR_PDF_PDFA_H
#define SR_PDF_PDFA_H

#include <hpdf.h>
#include <stddef.h>

/* The namespace and prefix of sweepreport's XMP properties. */
#define SR_PDFA_NS "https://sweepreport.invalid/ns/archive/1.0/"
#define SR_PDFA_PREFIX "sweepreport"

/* The output condition the intent names. */
#define SR_PDFA_SRGB "sRGB IEC61966-2.1"

typedef struct {
    const char *name;  /* an XML name: letters, digits */
    const char *value; /* UTF-8 */
    const char *about; /* what the property says, for the schema */
} sr_pdfa_property;

/* The sRGB ICC profile the next document embeds: $SR_ICC_PROFILE, else the
 * first of /usr/share/color/icc/sRGB.icc (icc-profiles-free),
 * /usr/share/color/icc/colord/sRGB.icc and
 * /usr/share/color/icc/ghostscript/srgb.icc that exists; "" when none. */
const char *sr_pdfa_icc_file(void);

/* Whether that profile can be embedded: 0, or -1 with a one-line reason. */
int sr_pdfa_check_icc(char *err, size_t errlen);

/* Makes doc PDF/A-3b.  Call after the document information is set and
 * before anything is drawn, so that the metadata stream is one of the
 * first objects of the file.  Returns 0, or -1 with a one-line reason (no
 * usable sRGB profile, a libharu failure). */
int sr_pdfa_prepare(HPDF_Doc doc, const sr_pdfa_property *props, size_t n_props, char *err, size_t errlen);

/* "2024-05-06T07:08:09Z" from a PDF date ("D:20240506070809Z00'00'",
 * "D:20240506070809+02'00'"); 0, or -1 when it is not one. */
int sr_pdfa_xmp_date(const char *pdf_date, char *out, size_t len);

#endif
