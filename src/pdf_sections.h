/* pdf_sections.h - the sections the sweep report and the archive PDFs
 * share: a trial's pages, the problems list, and the leaderboard order.
 *
 * A trial section is 1 overview page (parameters, or in an archive where
 * they are, and the first SR_PDF_TRIAL_ROWS_FIRST checkpoints of the
 * per-epoch table, where a row without numbers says why), then
 * ceil((checkpoints - SR_PDF_TRIAL_ROWS_FIRST) / SR_PDF_TRIAL_ROWS_MORE)
 * continuation pages when the table is longer, ceil(checkpoints with
 * samples / SR_PDF_GRID_ROWS) samples pages (pdf_grid.h; the first names
 * the checkpoints without samples, which the grid leaves out), and
 * ceil(trial charts / SR_PDF_TRIAL_CHARTS_PER_PAGE) curves pages
 * (sr_build_trial_charts).
 * The problems list takes max(1, ceil(problems / SR_PDF_PROBLEMS_PER_PAGE))
 * pages. */
#ifndef SR_PDF_SECTIONS_H
#define SR_PDF_SECTIONS_H

#include "pdf_doc.h"

#define SR_PDF_TRIAL_ROWS_FIRST 24
#define SR_PDF_TRIAL_ROWS_MORE 50
#define SR_PDF_TRIAL_CHARTS_PER_PAGE 6
#define SR_PDF_PROBLEMS_PER_PAGE 14

/* The pages of trial ti.  The trial's bookmark goes under *root; when
 * root_title is not NULL and *root is NULL, a top-level bookmark of that
 * title is made first (opening this trial).  With root NULL the trial's
 * bookmark is at the top level. */
void sr_pdf_trial_section(sr_pdfw *w, size_t ti, const char *root_title, HPDF_Outline *root);

/* The problems of the sweep, then those found while writing. */
void sr_pdf_problems_section(sr_pdfw *w);

/* The problems list of trial ti's archive: its pending checkpoints (left
 * for the next run, with the reason), the sweep's problems in its folder,
 * then those found while writing; the footers name the trial. */
void sr_pdf_trial_problems_section(sr_pdfw *w, size_t ti);

/* The parameters a trial shows: its params.json, else its Optuna trial's
 * (NULL when neither). */
const cJSON *sr_pdf_trial_params(const sr_trial *t);

/* The recommendation card: a tinted box height points tall below y, headed
 * title, with the recommended checkpoint (trial, epoch, score, and "(this
 * trial)" when it belongs to trial this_trial; pass SIZE_MAX for none),
 * its file, the reason in up to reason_lines lines and the full path in up
 * to path_lines.  Returns the y of the box's bottom edge. */
double sr_pdf_recommendation_card(sr_pdfw *w, double y, double height, const char *title, size_t this_trial,
                                  int reason_lines, int path_lines);

#endif
