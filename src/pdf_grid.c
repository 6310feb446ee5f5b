/* pdf_grid.c - sample grids as embedded JPEGs, from the cached thumbnails
 * (or the samples, decoded and scaled as eval does). */
#include "config.h"

#include "pdf_grid.h"

#include "contact_sheet.h"
#include "thumbs.h"
#include "util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One row of thumbnails for a checkpoint; samples that cannot be shown
 * are named in the PDF's problems. */
static void load_row(sr_pdfw *w, const sr_trial *t, const sr_checkpoint *c, sr_sheet_row *row)
{
    char **whys = xcalloc(c->n_samples ? c->n_samples : 1, sizeof *whys);
    sr_sheet_row_load(row, w->s->path, t, c, 0, SR_PDF_GRID_COLUMNS, whys);
    for (size_t k = 0; k < c->n_samples; k++)
        if (whys[k]) {
            char *abs = sr_path_join(t->path, c->samples[k]);
            sr_problems_add(&w->extra, abs, "sample not shown in the PDF: %s", whys[k]);
            free(abs);
            free(whys[k]);
        }
    free(whys);
}

static void free_rows(sr_sheet_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sr_sheet_row_free(&rows[i]);
    free(rows);
}

/* Composes the rows as a JPEG of at most max_bytes (smaller cells until it
 * fits) and loads it into the document; *used gets its size. */
static HPDF_Image sheet_image(sr_pdfw *w, const sr_sheet_row *rows, size_t n_rows, size_t max_bytes,
                              const char *what, size_t *used)
{
    *used = 0;
    char why[SR_MSG_MAX] = "";
    /* cells as large as the largest thumbnail, so small samples are not lost in empty space */
    int first = 16;
    for (size_t r = 0; r < n_rows; r++)
        for (size_t k = 0; k < rows[r].n; k++)
            if (rows[r].thumbs[k]) {
                int side = rows[r].tw[k] > rows[r].th[k] ? rows[r].tw[k] : rows[r].th[k];
                if (side > first)
                    first = side;
            }
    if (first > SR_THUMB_SIDE)
        first = SR_THUMB_SIDE;
    char *jpg = sr_pdfw_scratch_path(w, ".jpg");
    if (!jpg)
        snprintf(why, sizeof why, "no scratch folder for the JPEG");
    for (int cell = first; jpg && cell >= 16; cell = cell * 2 / 3) {
        int sw = 0, sh = 0;
        if (sr_contact_sheet_jpeg(rows, n_rows, cell, jpg, NULL, &sw, &sh, why, sizeof why) != 0)
            break;
        char *data = NULL;
        size_t len = 0;
        int rc = sr_read_file(jpg, (size_t)64 << 20, &data, &len, why, sizeof why);
        unlink(jpg);
        if (rc != 0)
            break;
        if (len > max_bytes) {
            free(data);
            if (cell * 2 / 3 >= 16)
                continue;
            snprintf(why, sizeof why, "even with %d-pixel cells it takes %zu bytes", cell, len);
            break;
        }
        HPDF_Image img = HPDF_LoadJpegImageFromMem(w->doc, (const HPDF_BYTE *)data, (HPDF_UINT)len);
        free(data);
        *used = len;
        if (!img) {
            snprintf(why, sizeof why, "libharu error 0x%04X loading the JPEG", (unsigned)w->err.code);
            /* a bad image is not fatal: the page shows no grid */
            HPDF_ResetError(w->doc);
            w->err.code = w->err.detail = HPDF_OK;
            break;
        }
        free(jpg);
        return img;
    }
    free(jpg);
    sr_problems_add(&w->extra, what, "sample grid not in the PDF: %s", why);
    return NULL;
}

size_t sr_pdf_grid_rows(const sr_trial *t)
{
    size_t n = 0;
    for (size_t j = 0; j < t->n_ckpts; j++)
        n += t->ckpts[j].n_samples > 0;
    return n;
}

size_t sr_pdf_grid_pages(const sr_trial *t)
{
    return (sr_pdf_grid_rows(t) + SR_PDF_GRID_ROWS - 1) / SR_PDF_GRID_ROWS;
}

void sr_pdf_grid_page_rows(const sr_trial *t, size_t page, size_t *first, size_t *count)
{
    const size_t rows = sr_pdf_grid_rows(t), pages = sr_pdf_grid_pages(t);
    *first = *count = 0;
    if (page >= pages)
        return;
    *first = page * rows / pages;
    *count = (page + 1) * rows / pages - *first;
}

HPDF_Image sr_pdf_trial_grid(sr_pdfw *w, const sr_trial *t, size_t page, size_t *bytes_left)
{
    const size_t all = sr_pdf_grid_rows(t);
    size_t first, n_rows;
    sr_pdf_grid_page_rows(t, page, &first, &n_rows);
    if (!n_rows)
        return NULL;
    sr_sheet_row *rows = xcalloc(n_rows, sizeof *rows);
    size_t r = 0, k = 0;
    for (size_t j = 0; j < t->n_ckpts && r < n_rows; j++)
        if (t->ckpts[j].n_samples > 0 && k++ >= first)
            load_row(w, t, &t->ckpts[j], &rows[r++]);
    /* what is left of the trial's bytes, shared by the rows still to come */
    size_t budget = (size_t)((double)*bytes_left * (double)n_rows / (double)(all - first)), used;
    HPDF_Image img = sheet_image(w, rows, n_rows, budget, t->path, &used);
    *bytes_left -= used < *bytes_left ? used : *bytes_left;
    free_rows(rows, n_rows);
    return img;
}

HPDF_Image sr_pdf_checkpoint_grid(sr_pdfw *w, const sr_trial *t, const sr_checkpoint *c)
{
    if (!c->n_samples)
        return NULL;
    sr_sheet_row *row = xcalloc(1, sizeof *row);
    load_row(w, t, c, row);
    size_t used;
    HPDF_Image img = sheet_image(w, row, 1, SR_PDF_MAX_ROW_BYTES, c->path, &used);
    free_rows(row, 1);
    return img;
}
