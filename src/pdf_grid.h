/* pdf_grid.h - sample grids in the PDFs: a JPEG contact sheet (a row per
 * checkpoint, a column per sample), embedded once per trial. */
#ifndef SR_PDF_GRID_H
#define SR_PDF_GRID_H

#include "pdf_doc.h"

/* The most image bytes (JPEG) a document holds for one trial: its grid,
 * and for the trial with the recommended checkpoint that checkpoint's row
 * on the summary page, which gets SR_PDF_MAX_ROW_BYTES of it.  Bigger
 * images are made again with smaller cells. */
#define SR_PDF_MAX_SHEET_BYTES (1024 * 1024)
#define SR_PDF_MAX_ROW_BYTES (128 * 1024)

/* Samples of a checkpoint a grid shows at most (the first ones): more
 * would be too small to see across the page. */
#define SR_PDF_GRID_COLUMNS 12

/* Rows of a sample grid on one page: a trial with more checkpoints with
 * samples has its grid split evenly over several pages, so the cells stay
 * large enough to see. */
#define SR_PDF_GRID_ROWS 15

/* The checkpoints of t with samples: the rows of its grid. */
size_t sr_pdf_grid_rows(const sr_trial *t);

/* The pages its grid takes: ceil(rows / SR_PDF_GRID_ROWS), 0 without
 * samples. */
size_t sr_pdf_grid_pages(const sr_trial *t);

/* The rows on grid page `page` (0-based): *count rows from row *first;
 * every page holds the same number of rows, give or take one. */
void sr_pdf_grid_page_rows(const sr_trial *t, size_t page, size_t *first, size_t *count);

/* The bytes all pages of a trial's grid may take together. */
#define SR_PDF_GRID_BYTES (SR_PDF_MAX_SHEET_BYTES - SR_PDF_MAX_ROW_BYTES)

/* The grid's page `page`, pages taken in order: at most its rows' share of
 * *bytes_left (SR_PDF_GRID_BYTES before the first page), which is reduced
 * by the image's size.  NULL when the page has no rows, or when the grid
 * cannot be made (a problem in w->extra says why). */
HPDF_Image sr_pdf_trial_grid(sr_pdfw *w, const sr_trial *t, size_t page, size_t *bytes_left);

/* The one-row grid of a checkpoint's samples, at most SR_PDF_MAX_ROW_BYTES;
 * NULL as above. */
HPDF_Image sr_pdf_checkpoint_grid(sr_pdfw *w, const sr_trial *t, const sr_checkpoint *c);

#endif
