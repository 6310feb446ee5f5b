/* contact_sheet.h - one JPEG per trial: a row per checkpoint, a column per
 * sample, composed from the thumbnails.
 *
 * Layout: a light background, the row labels ("epoch 6") at the left in a
 * small sans font, then square cells of `cell` pixels separated by thin
 * gaps; each thumbnail is centred in its cell (scaled down to fit when it is
 * larger).  The rectangle each thumbnail occupies is returned so that the
 * HTML report can put links over them. */
#ifndef SR_CONTACT_SHEET_H
#define SR_CONTACT_SHEET_H

#include "sweep.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int x, y, w, h;
} sr_rect;

/* One row: n thumbnails (RGB8, tw[i] x th[i]); thumbs[i] may be NULL for a
 * sample without a thumbnail (drawn as a grey placeholder, reported as an
 * empty cell).  n may be 0: the row is drawn with its label and "no
 * samples".  label may be NULL. */
typedef struct {
    const char *label;
    size_t n;
    const uint8_t *const *thumbs;
    const int *tw, *th;
} sr_sheet_row;

/* The row of one checkpoint of trial t: the thumbnails of its first
 * max_cols samples (all with 0; sr_thumb_load, in parallel; with store, the
 * ones made now are cached), labelled "epoch N", "final" or the file name.
 * whys, with c->n_samples entries, receives a malloc'd reason for each
 * sample that cannot be shown, NULL for the others, for those not loaded
 * and for those gone since the scan (the sweep changed: no problem).
 * The row owns what it holds: sr_sheet_row_free. */
void sr_sheet_row_load(sr_sheet_row *row, const char *sweep_path, const sr_trial *t, const sr_checkpoint *c, int store,
                       size_t max_cols, char **whys);
void sr_sheet_row_free(sr_sheet_row *row);

/* Composes the sheet and writes it to path as JPEG (quality 85, 4:2:0),
 * atomically.  On success returns 0 with *sheet_w x *sheet_h the image size
 * and, when cells is not NULL, *cells a malloc'd row-major array of
 * n_rows x max_cols rectangles (max_cols = the largest n of any row; NULL
 * when that is 0), in sheet pixels, with w = h = 0 for cells that show no
 * thumbnail.  n_rows == 0 is an error: a sheet with nothing on it is not
 * written.  Returns -1 with a one-line reason in err (path not touched). */
int sr_contact_sheet_jpeg(const sr_sheet_row *rows, size_t n_rows, int cell, const char *path, sr_rect **cells,
                          int *sheet_w, int *sheet_h, char *err, size_t errlen);

#endif
