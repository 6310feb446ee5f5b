/* pdf_archive.h - one PDF/A-3b file per trial, kept beside its checkpoints:
 * SWEEP/<trial>/<trial>_report.pdf.
 *
 * Layout (A4 portrait), in this order; the page count follows from the
 * sweep alone:
 *   1 context page        the sweep (name, path, study, score), where the
 *                         trial ranks by best score, its best checkpoint,
 *                         the sweep's recommended checkpoint, and which
 *                         version of sweepreport wrote the file when
 *   the trial section     as in the sweep report (pdf_sections.h), but for
 *                         the parameters, which are on the next pages
 *   parameters            every parameter, each number exactly (the
 *                         shortest text that reads back the same), each
 *                         value whole, wrapped over as many lines as it
 *                         takes: 1 page, more only when they do not fit
 *   checkpoint files      ceil(checkpoints / SR_PDF_ARCHIVE_FILES_PER_PAGE)
 *                         pages: the model the checkpoints' metadata names,
 *                         then each file's status, step, size in bytes,
 *                         modification time, format and tensor count
 *   problems              max(1, ceil(problems / SR_PDF_PROBLEMS_PER_PAGE))
 *                         pages: the trial's pending checkpoints, the
 *                         sweep's problems inside the trial folder, then
 *                         any found while writing
 *
 * An archive is written only for a trial with checkpoints, atomically, and
 * replaces only a file sweepreport wrote: the XMP metadata near the start of
 * the file names sweepreport as its writer and the producer, and the file
 * ends with the single trailer the writer made (a file that was edited and
 * saved incrementally since counts as someone else's).  Any other file of
 * that name is left alone and named in a problem. */
#ifndef SR_PDF_ARCHIVE_H
#define SR_PDF_ARCHIVE_H

#include "analysis.h"
#include "problems.h"
#include "sweep.h"

#include <stddef.h>

#define SR_PDF_ARCHIVE_SUFFIX "_report.pdf"

/* Rows of the checkpoint files table on one page (what the first page
 * holds below the model's lines, one line each). */
#define SR_PDF_ARCHIVE_FILES_PER_PAGE 46

/* SWEEP/<trial>/<trial>_report.pdf (malloc'd). */
char *sr_pdf_archive_path(const sr_trial *t);

/* 1 when the file at path is an archive sweepreport wrote and nobody
 * changed since, 0 when it is not, -1 when it cannot be read (errno). */
int sr_pdf_archive_is_ours(const char *path);

/* Writes trial ti's archive.  Returns 0 when written; 1 when a file
 * sweepreport did not write is in the way and was left alone (a problem in
 * problems names it and says why); 2 when the trial has no checkpoints
 * (nothing is written); -1 with a one-line reason in err.  A note on text
 * the fonts could not show goes to problems. */
int sr_pdf_archive_write(const sr_sweep *s, const sr_analysis *a, size_t ti, sr_problems *problems, char *err,
                         size_t errlen);

/* Every trial's archive; failures become problems (the note on text the
 * fonts could not show once, not once per trial).  Returns how many were
 * written. */
size_t sr_pdf_archive_sweep(const sr_sweep *s, const sr_analysis *a, sr_problems *problems);

#endif
