/* pdf_report.h - the sweep report as one PDF (libharu).
 *
 * Layout (A4 portrait), in this order; the page count follows from the
 * sweep alone:
 *   1 summary page        sweep, study, counts, the recommendation card, key
 *                         numbers and the recommended checkpoint's samples
 *   leaderboard           max(1, ceil(trials / SR_PDF_LEADERBOARD_ROWS)) pages,
 *                         the header repeated on each
 *   charts                ceil(sweep charts / 2) pages (sr_build_sweep_charts)
 *   per trial             1 overview page (parameters and the first
 *                         SR_PDF_TRIAL_ROWS_FIRST checkpoints of the per-epoch
 *                         table), ceil((checkpoints - SR_PDF_TRIAL_ROWS_FIRST) /
 *                         SR_PDF_TRIAL_ROWS_MORE) continuation pages when the
 *                         table is longer, 1 samples page when any checkpoint
 *                         has samples, and ceil(trial charts /
 *                         SR_PDF_TRIAL_CHARTS_PER_PAGE) curves pages
 *                         (sr_build_trial_charts)
 *   problems appendix     max(1, ceil(problems / SR_PDF_PROBLEMS_PER_PAGE))
 *                         pages (the sweep's problems, then any found while
 *                         writing the report)
 * Every section and trial has a bookmark; every page a numbered footer. */
#ifndef SR_PDF_REPORT_H
#define SR_PDF_REPORT_H

#include "analysis.h"
#include "sweep.h"

#include <stddef.h>

#define SR_PDF_LEADERBOARD_ROWS 40
#define SR_PDF_TRIAL_ROWS_FIRST 24
#define SR_PDF_TRIAL_ROWS_MORE 50
#define SR_PDF_TRIAL_CHARTS_PER_PAGE 6
#define SR_PDF_PROBLEMS_PER_PAGE 45
/* The largest sample grid embedded per trial (JPEG bytes); bigger grids are
 * made again with smaller cells. */
#define SR_PDF_MAX_SHEET_BYTES (1024 * 1024)

/* Writes the report to path atomically (the old file, if any, stays until
 * the new one is complete).  a may not be NULL.  Returns 0, or -1 with a
 * one-line reason in err (libharu failures name the error code). */
int sr_pdf_report_write(const char *path, const sr_sweep *s, const sr_analysis *a, char *err, size_t errlen);

#endif
