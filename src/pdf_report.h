/* pdf_report.h - the sweep report as one PDF (libharu).
 *
 * Layout (A4 portrait), in this order; the page count follows from the
 * sweep alone:
 *   1 summary page        sweep, study, counts, the recommendation card, key
 *                         numbers and the recommended checkpoint's samples
 *   leaderboard           max(1, ceil(trials / SR_PDF_LEADERBOARD_ROWS)) pages,
 *                         the header repeated on each
 *   charts                ceil(sweep charts / 2) pages (sr_build_sweep_charts)
 *   per trial             the trial section (pdf_sections.h)
 *   problems appendix     max(1, ceil(problems / SR_PDF_PROBLEMS_PER_PAGE))
 *                         pages (the sweep's problems, then any found while
 *                         writing the report)
 * Every section and trial has a bookmark; every page a numbered footer.
 * Text is DejaVu Sans, with a CJK TrueType font for what DejaVu lacks
 * (pdf_text.h); both are embedded. */
#ifndef SR_PDF_REPORT_H
#define SR_PDF_REPORT_H

#include "analysis.h"
#include "pdf_grid.h"
#include "pdf_sections.h"
#include "problems.h"
#include "sweep.h"

#include <stddef.h>

#define SR_PDF_LEADERBOARD_ROWS 40

/* Writes the report to path atomically (the old file, if any, stays until
 * the new one is complete).  a may not be NULL.  A note on text the fonts
 * could not show (CJK text without a CJK font), naming the sweep folder,
 * goes to the report's problems and to problems (may be NULL).  Returns 0, or -1 with a
 * one-line reason in err (libharu failures name the error code). */
int sr_pdf_report_write(const char *path, const sr_sweep *s, const sr_analysis *a, sr_problems *problems, char *err,
                        size_t errlen);

#endif
