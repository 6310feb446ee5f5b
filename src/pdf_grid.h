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

/* The grid of every checkpoint of the trial that has samples, at most
 * SR_PDF_MAX_SHEET_BYTES - SR_PDF_MAX_ROW_BYTES; NULL when none has, or
 * when it cannot be made (a problem in w->extra says why). */
HPDF_Image sr_pdf_trial_grid(sr_pdfw *w, const sr_trial *t);

/* The one-row grid of a checkpoint's samples, at most SR_PDF_MAX_ROW_BYTES;
 * NULL as above. */
HPDF_Image sr_pdf_checkpoint_grid(sr_pdfw *w, const sr_trial *t, const sr_checkpoint *c);

#endif
