/* pdf_grid.h - sample grids in the PDFs: a JPEG contact sheet (a row per
 * checkpoint, a column per sample) of at most SR_PDF_MAX_SHEET_BYTES,
 * embedded once per trial. */
#ifndef SR_PDF_GRID_H
#define SR_PDF_GRID_H

#include "pdf_doc.h"

/* The largest sample grid embedded per trial (JPEG bytes); bigger grids are
 * made again with smaller cells. */
#define SR_PDF_MAX_SHEET_BYTES (1024 * 1024)

/* The grid of every checkpoint of the trial that has samples; NULL when none
 * has, or when it cannot be made (a problem in w->extra says why). */
HPDF_Image sr_pdf_trial_grid(sr_pdfw *w, const sr_trial *t);

/* The one-row grid of a checkpoint's samples; NULL as above. */
HPDF_Image sr_pdf_checkpoint_grid(sr_pdfw *w, const sr_trial *t, const sr_checkpoint *c);

#endif
