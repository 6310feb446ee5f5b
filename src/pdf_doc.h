/* pdf_doc.h - the PDF writer the sweep report and the archive PDFs share
 * (libharu, A4 portrait): pages with a section name each, text in DejaVu
 * with a CJK fallback, headings, bookmarks, tables, charts, images,
 * numbered footers, and the atomic save. */
#ifndef SR_PDF_DOC_H
#define SR_PDF_DOC_H

#include "analysis.h"
#include "atomic_file.h"
#include "chart.h"
#include "pdf_text.h"
#include "problems.h"
#include "sweep.h"
#include "util.h"

#include <hpdf.h>
#include <stddef.h>
#include <time.h>

#define SR_PDF_PAGE_W 595.0
#define SR_PDF_PAGE_H 842.0
#define SR_PDF_MARGIN 40.0
#define SR_PDF_CONTENT_W (SR_PDF_PAGE_W - 2 * SR_PDF_MARGIN)
#define SR_PDF_TOP (SR_PDF_PAGE_H - SR_PDF_MARGIN)
#define SR_PDF_BOTTOM 50.0 /* above the footer */

typedef struct {
    HPDF_Doc doc;
    sr_pdf_error err;
    sr_pdf_fonts fonts;
    HPDF_Page page;      /* the page being drawn; NULL after a failure */
    HPDF_Page *pages;
    char **sections;     /* per page, shown in the footer */
    size_t n_pages, cap_pages;
    const sr_sweep *s;
    const sr_analysis *a;
    sr_problems extra;   /* problems found while writing */
    sr_buf tb;           /* scratch text */
    char *scratch;       /* a private folder for the JPEG grids */
    unsigned n_scratch;
    int archive;         /* an archive: the trial's parameters are on a page
                            of their own, exact and whole (pdf_archive.h) */
} sr_pdfw;

/* Starts a document for the sweep (compressed, bookmarks shown on
 * opening).  Returns 0, or -1 with a one-line reason (nothing to close
 * then).  Set the information (sr_pdfw_info) next, then load the fonts. */
int sr_pdfw_open(sr_pdfw *w, const sr_sweep *s, const sr_analysis *a, char *err, size_t errlen);
/* Loads the fonts; 0, or -1 with a one-line reason. */
int sr_pdfw_load_fonts(sr_pdfw *w, char *err, size_t errlen);
/* Frees everything; the scratch folder is removed. */
void sr_pdfw_close(sr_pdfw *w);
int sr_pdfw_failed(const sr_pdfw *w);
/* "libharu error 0xNNNN (detail N)" */
void sr_pdfw_error_text(const sr_pdfw *w, char *buf, size_t len);

/* A path for a scratch file in the writer's private folder (free it). */
char *sr_pdfw_scratch_path(sr_pdfw *w, const char *suffix);

void sr_pdfw_page(sr_pdfw *w, const char *section);

/* Text at x, y (baseline) in size points, cut with an ellipsis to max_w
 * (0: no limit).  align: 0 left, 1 right (x is the right edge), 2 centred.
 * Returns the width drawn. */
double sr_pdfw_text(sr_pdfw *w, double x, double y, const char *s, int bold, double size, double max_w, int align);
/* As sr_pdfw_text, but text too wide for max_w is first made smaller, down
 * to min_size points, and only then cut. */
double sr_pdfw_text_shrink(sr_pdfw *w, double x, double y, const char *s, int bold, double size, double min_size,
                           double max_w, int align);
/* Greedy wrapping after spaces, slashes and commas (after '_' and '-' when
 * those would leave 40% of the line empty): at most max_lines lines
 * from y down, the last one cut with an ellipsis.  Returns the y below. */
double sr_pdfw_wrap(sr_pdfw *w, double x, double y, const char *s, int bold, double size, double max_w,
                    int max_lines);
/* The bytes of clean text (sr_pdf_text_clean) that sr_pdfw_wrap puts on
 * the next line (at least one character; spaces after it are not skipped). */
size_t sr_pdfw_wrap_take(sr_pdfw *w, const char *clean, int bold, double size, double max_w);
/* The page title (and a grey subtitle) with a rule; returns the y below. */
double sr_pdfw_heading(sr_pdfw *w, const char *title, const char *sub);
/* A grey key and its value wrapped on two lines at most (max_lines with
 * the _lines form); returns the y below. */
double sr_pdfw_key_value(sr_pdfw *w, double y, const char *key, const char *value);
double sr_pdfw_key_value_lines(sr_pdfw *w, double y, const char *key, const char *value, int max_lines);
/* The "Optuna study" and "Score" lines of the sweep, as key_value. */
double sr_pdfw_study_line(sr_pdfw *w, double y);
double sr_pdfw_score_line(sr_pdfw *w, double y);
/* A bookmark to the current page (parent NULL: top level); its title is
 * stored as the information's values are (sr_pdfw_info). */
HPDF_Outline sr_pdfw_outline(sr_pdfw *w, HPDF_Outline parent, const char *title);
void sr_pdfw_fill_rect(sr_pdfw *w, double x, double y, double wd, double h, double r, double g, double b);
void sr_pdfw_grey(sr_pdfw *w, double level); /* the text colour; 0 is black */
/* A grey table header row; columns start at xs, right[i] aligns right. */
void sr_pdfw_table_header(sr_pdfw *w, double y, const char *const *names, const double *xs, const int *right,
                          size_t n, double size);
/* A chart in the box (x, y bottom left); a chart that cannot be drawn is a
 * problem, not a failure.  Returns -1 only when the document failed. */
int sr_pdfw_chart(sr_pdfw *w, const sr_chart *c, double x, double y, double cw, double ch);
/* The image as large as fits the box (at most twice its pixel size in
 * points), centred, at the top of the box; returns the y below it. */
double sr_pdfw_image(sr_pdfw *w, HPDF_Image img, double x, double y_top, double bw, double bh);
/* "sweepreport · SECTION" and "page i of n" on every page. */
void sr_pdfw_footers(sr_pdfw *w);
/* Adds the note on replaced characters, if any, to the extra problems and
 * to log (may be NULL).  Called before the problems are listed. */
void sr_pdfw_font_note(sr_pdfw *w, const char *path, sr_problems *log);

/* Sets the document information (Author "sweepreport", Creator
 * "sweepreport VERSION", Producer "sweepreport VERSION (libharu VERSION)",
 * CreationDate when).  The values are stored as sr_pdf_string_text makes
 * them (HPDF_GetInfoAttr gives that UTF-8 back): ASCII as it is, anything
 * else in UTF-16BE. */
void sr_pdfw_info(sr_pdfw *w, const char *title, const char *subject, const char *keywords, time_t when);

/* Saves to path atomically.  mode SR_ATOMIC_NO_REPLACE fails with EEXIST
 * when path exists.  Returns 0, or -1 with a one-line reason (errno kept
 * for write failures). */
int sr_pdfw_save(sr_pdfw *w, const char *path, sr_atomic_mode mode, char *err, size_t errlen);

/* A trial's page title: its folder name, after "Trial " unless the name
 * says so itself ("trial_0004", not "Trial trial_0004").  malloc'd. */
char *sr_pdf_trial_title(const char *name);

/* A number as the tables show it ("—" for NaN). */
void sr_pdf_fmt_num(double v, char *b, size_t n);
/* The same in a table column's format (num_format.h; -1: as above). */
void sr_pdf_fmt_num_in(double v, int decimals, char *b, size_t n);
/* A number exactly: the shortest of %.15g, %.16g and %.17g that reads back
 * as the same double (NaN and infinities as sr_pdf_fmt_num). */
void sr_pdf_fmt_exact(double v, char *b, size_t n);

#endif
