/* pdf_sections.c - a trial's pages and the problems list, shared by the
 * sweep report and the archive PDFs. */
#include "config.h"

#include "pdf_sections.h"

#include "charts.h"
#include "num_format.h"
#include "pdf_grid.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARGIN SR_PDF_MARGIN
#define CONTENT_W SR_PDF_CONTENT_W
#define BOTTOM SR_PDF_BOTTOM

/* The key metrics of a trial's table: those its small multiples show. */
static size_t key_metrics(const sr_trial *t, const sr_named_chart *tc, size_t tn, const char **out, size_t cap)
{
    size_t n = 0;
    for (size_t c = 0; c < tn && n < cap; c++) {
        const char *id = tc[c].id;
        size_t il = strlen(id);
        const char *found = NULL;
        for (size_t k = 0; k < t->n_ckpts && !found; k++) {
            const sr_metrics *m = &t->ckpts[k].metrics;
            for (size_t j = 0; j < m->n; j++) {
                size_t ml = strlen(m->items[j].name);
                if (il > ml && id[il - ml - 1] == '-' && strcmp(id + il - ml, m->items[j].name) == 0) {
                    found = m->items[j].name;
                    break;
                }
            }
        }
        if (!found)
            continue;
        int dup = 0;
        for (size_t k = 0; k < n; k++)
            dup |= strcmp(out[k], found) == 0;
        if (!dup)
            out[n++] = found;
    }
    return n;
}

/* How many metrics the trial's checkpoints have, told apart by name. */
static size_t metric_count(const sr_trial *t)
{
    const char **seen = NULL;
    size_t n = 0, cap = 0;
    for (size_t k = 0; k < t->n_ckpts; k++) {
        const sr_metrics *m = &t->ckpts[k].metrics;
        for (size_t j = 0; j < m->n; j++) {
            int known = 0;
            for (size_t i = 0; i < n && !known; i++)
                known = strcmp(seen[i], m->items[j].name) == 0;
            if (known)
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 32;
                seen = xrealloc(seen, cap * sizeof *seen);
            }
            seen[n++] = m->items[j].name;
        }
    }
    free(seen);
    return n;
}

const cJSON *sr_pdf_trial_params(const sr_trial *t)
{
    return t->params ? t->params : t->optuna ? t->optuna->params : NULL;
}

/* Why a pending checkpoint was left for the next run (malloc'd). */
static char *pending_text(const sr_checkpoint *c)
{
    return xasprintf("pending, left for the next run: %s", c->pending ? c->pending : "modified too recently");
}

/* Why a checkpoint's row of the per-epoch table has no number at all
 * (malloc'd), or NULL when it has one. */
static char *row_reason(const sr_checkpoint *c, double score, const char *const *km, size_t nk)
{
    if (!isnan(score))
        return NULL;
    for (size_t k = 0; k < nk; k++) {
        double v;
        if (sr_metrics_get(&c->metrics, km[k], &v) && !isnan(v))
            return NULL;
    }
    if (c->status == SR_CKPT_PENDING)
        return pending_text(c);
    if (c->status != SR_CKPT_OK)
        return xstrdup(c->problem ? c->problem : sr_ckpt_status_name(c->status));
    if (!c->n_samples)
        return xstrdup("no samples: no image metrics, no score");
    return xstrdup("no score, and none of these metrics");
}

/* The checkpoints without samples, which the sample grid leaves out, as
 * "epochs 6, 8 and lora.safetensors" (malloc'd), or NULL when all have
 * samples. */
static char *unsampled(const sr_trial *t)
{
    size_t all = 0, epochs = 0;
    for (size_t k = 0; k < t->n_ckpts; k++) {
        all += !t->ckpts[k].n_samples;
        epochs += !t->ckpts[k].n_samples && t->ckpts[k].epoch >= 0;
    }
    if (!all)
        return NULL;
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_puts(&b, epochs > 1 ? "epochs " : epochs ? "epoch " : "");
    size_t n = 0;
    /* the epochs first, then the files of no known epoch */
    for (int pass = 0; pass < 2; pass++)
        for (size_t k = 0; k < t->n_ckpts; k++) {
            const sr_checkpoint *c = &t->ckpts[k];
            if (c->n_samples || (c->epoch >= 0) != (pass == 0))
                continue;
            sr_buf_puts(&b, n == 0 ? "" : n + 1 == all ? " and " : ", ");
            if (pass == 0)
                sr_buf_printf(&b, "%ld", c->epoch);
            else
                sr_buf_puts(&b, c->file);
            n++;
        }
    return sr_buf_steal(&b);
}

static void params_block(sr_pdfw *w, const sr_trial *t, double *yp)
{
    double y = *yp;
    sr_pdfw_text(w, MARGIN, y, "Parameters", 1, 11, CONTENT_W, 0);
    y -= 14;
    const cJSON *params = sr_pdf_trial_params(t);
    size_t np = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, params) np++;
    if (!np) {
        sr_pdfw_text(w, MARGIN, y, "none recorded", 0, 9, CONTENT_W, 0);
        *yp = y - 18;
        return;
    }
    if (w->archive) {
        /* the record keeps them exact and whole, on a page of their own */
        char *where = xasprintf("%zu parameter%s, exact and whole, on the Parameters page", np, np == 1 ? "" : "s");
        sr_pdfw_text(w, MARGIN, y, where, 0, 9, CONTENT_W, 0);
        free(where);
        *yp = y - 18;
        return;
    }
    /* at most 12 lines of two columns; the rest named in a count */
    size_t shown = 0, max_shown = np > 24 ? 23 : 24;
    double col = CONTENT_W / 2;
    size_t i = 0;
    cJSON_ArrayForEach(it, params)
    {
        if (shown >= max_shown)
            break;
        char *v;
        if (cJSON_IsString(it))
            v = xstrdup(it->valuestring);
        else if (cJSON_IsNumber(it)) {
            char nb[64];
            sr_pdf_fmt_num(it->valuedouble, nb, sizeof nb);
            v = xstrdup(nb);
        } else
            v = cJSON_PrintUnformatted(it);
        char *line = xasprintf("%s = %s", it->string ? it->string : "?", v ? v : "?");
        free(v);
        double x = MARGIN + (double)(i % 2) * col;
        sr_pdfw_text(w, x, y - (double)(i / 2) * 12, line, 0, 8.5, col - 8, 0);
        free(line);
        i++;
        shown++;
    }
    if (shown < np) {
        char *more = xasprintf("\xe2\x80\xa6 and %zu more", np - shown);
        sr_pdfw_text(w, MARGIN + (double)(i % 2) * col, y - (double)(i / 2) * 12, more, 0, 8.5, col - 8, 0);
        free(more);
        i++;
    }
    y -= (double)((i + 1) / 2) * 12;
    *yp = y - 10;
}

void sr_pdf_trial_section(sr_pdfw *w, size_t ti, const char *root_title, HPDF_Outline *root)
{
    const sr_sweep *s = w->s;
    const sr_analysis *a = w->a;
    const sr_trial *t = &s->trials[ti];
    const sr_trial_analysis *ta = ti < a->n_trials ? &a->trials[ti] : NULL;
    sr_named_chart *tc = NULL;
    size_t tn = sr_build_trial_charts(s, a, ti, &tc);
    char sub[512], n1[64], n2[64], n3[64];
    sr_pdf_fmt_num(ta ? ta->best_score : NAN, n1, sizeof n1);
    sr_pdf_fmt_num(ta ? ta->final_score : NAN, n2, sizeof n2);
    if (t->optuna && t->optuna->has_value)
        sr_pdf_fmt_num(t->optuna->value, n3, sizeof n3);
    else
        snprintf(n3, sizeof n3, "\xe2\x80\x94");
    snprintf(sub, sizeof sub, "%zu checkpoint%s  \xc2\xb7  best score %s  \xc2\xb7  final %s%s  \xc2\xb7  Optuna %s%s%s",
             t->n_ckpts, t->n_ckpts == 1 ? "" : "s", n1, n2, ta && ta->overfit ? " (overfit)" : "", t->optuna ? t->optuna->state : "",
             t->optuna ? " " : "", n3);
    char *title = sr_pdf_trial_title(t->name);

    /* overview: parameters and the per-epoch table */
    const char *km[6];
    size_t nk = key_metrics(t, tc, tn, km, 5);
    const char *names[8];
    int right[8];
    double xs[8];
    size_t nc = 0;
    names[nc] = "Epoch";
    right[nc] = 1;
    xs[nc++] = MARGIN;
    names[nc] = "Checkpoint";
    right[nc] = 0;
    xs[nc++] = MARGIN + 42;
    names[nc] = "Score";
    right[nc] = 1;
    xs[nc++] = MARGIN + 190;
    double mw = nk ? (CONTENT_W - 250) / (double)nk : 0;
    for (size_t k = 0; k < nk; k++) {
        names[nc] = km[k];
        right[nc] = 1;
        xs[nc++] = MARGIN + 250 + (double)k * mw;
    }
    /* each number column in one format, as on the trial's HTML page */
    int dec[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    double *colv = xmalloc((t->n_ckpts ? t->n_ckpts : 1) * sizeof *colv);
    for (size_t j = 2; j < nc; j++) {
        for (size_t r = 0; r < t->n_ckpts; r++) {
            colv[r] = NAN;
            if (j == 2)
                colv[r] = ta ? ta->ckpts[r].score : NAN;
            else
                sr_metrics_get(&t->ckpts[r].metrics, km[j - 3], &colv[r]);
        }
        dec[j] = sr_column_decimals(colv, t->n_ckpts);
    }
    free(colv);
    size_t row = 0, pg = 0;
    do {
        sr_pdfw_page(w, title);
        double y;
        if (pg == 0) {
            if (root && !*root && root_title) /* the root bookmark opens the first trial */
                *root = sr_pdfw_outline(w, NULL, root_title);
            sr_pdfw_outline(w, root ? *root : NULL, t->name);
            y = sr_pdfw_heading(w, title, sub);
            params_block(w, t, &y);
            double hw = sr_pdfw_text(w, MARGIN, y, "Per-epoch metrics", 1, 11, CONTENT_W, 0);
            size_t all = metric_count(t);
            if (all > nk) { /* say which, and where the others are */
                char *note = nk ? xasprintf("%zu of its %zu metrics, the first its charts show; all are in "
                                            "summary.json", nk, all)
                                : xasprintf("its %zu metrics are in summary.json", all);
                sr_pdfw_grey(w, 0.35);
                sr_pdfw_text(w, MARGIN + hw + 8, y, note, 0, 8.5, CONTENT_W - hw - 8, 0);
                sr_pdfw_grey(w, 0);
                free(note);
            }
            y -= 18;
        } else {
            char *ct = xasprintf("%s (continued)", title);
            y = sr_pdfw_heading(w, ct, NULL);
            free(ct);
        }
        size_t lim = pg == 0 ? SR_PDF_TRIAL_ROWS_FIRST : SR_PDF_TRIAL_ROWS_MORE;
        sr_pdfw_table_header(w, y, names, xs, right, nc, 7.5);
        y -= 14;
        for (size_t k = 0; k < lim && row < t->n_ckpts; k++, row++) {
            const sr_checkpoint *c = &t->ckpts[row];
            if (k % 2)
                sr_pdfw_fill_rect(w, MARGIN, y - 3, CONTENT_W, 12, 0.97, 0.97, 0.97);
            int best = ta && ta->best == (long)row;
            char cell[96];
            /* a row without a number says why, across the number columns */
            char *why = row_reason(c, ta ? ta->ckpts[row].score : NAN, km, nk);
            for (size_t j = 0; j < (why ? 2 : nc); j++) {
                if (j == 0) {
                    if (c->epoch >= 0)
                        snprintf(cell, sizeof cell, "%ld", c->epoch);
                    else
                        snprintf(cell, sizeof cell, "%s", c->final ? "final" : "?");
                } else if (j == 1) {
                    snprintf(cell, sizeof cell, "%s%s", best ? "\xe2\x98\x85 " : "", c->file);
                } else if (j == 2) {
                    sr_pdf_fmt_num_in(ta ? ta->ckpts[row].score : NAN, dec[j], cell, sizeof cell);
                    /* no score for a file not taken: say which way not */
                    if (c->status != SR_CKPT_OK && isnan(ta ? ta->ckpts[row].score : NAN))
                        snprintf(cell, sizeof cell, "%s", sr_ckpt_status_name(c->status));
                } else {
                    double v;
                    if (!sr_metrics_get(&c->metrics, km[j - 3], &v))
                        v = NAN;
                    sr_pdf_fmt_num_in(v, dec[j], cell, sizeof cell);
                }
                double cw = (j + 1 < nc ? xs[j + 1] : MARGIN + CONTENT_W) - xs[j] - 4;
                /* a long file name gets smaller before it is cut */
                sr_pdfw_text_shrink(w, right[j] ? xs[j] + cw : xs[j] + 2, y, cell, best, 7.5, j == 1 ? 5.5 : 7.5,
                                    cw - 2, right[j] ? 1 : 0);
            }
            if (why) {
                sr_pdfw_grey(w, 0.35);
                sr_pdfw_text_shrink(w, xs[2] + 8, y, why, 0, 7.5, 5.5, MARGIN + CONTENT_W - xs[2] - 10, 0);
                sr_pdfw_grey(w, 0);
                free(why);
            }
            y -= 12;
        }
        if (!t->n_ckpts)
            sr_pdfw_text(w, MARGIN, y, "No checkpoints.", 0, 9, CONTENT_W, 0);
        pg++;
    } while (row < t->n_ckpts && !sr_pdfw_failed(w));

    /* samples, SR_PDF_GRID_ROWS checkpoints a page at most */
    const size_t grid_pages = sr_pdf_grid_pages(t);
    size_t grid_bytes = SR_PDF_GRID_BYTES;
    for (size_t p = 0; p < grid_pages && !sr_pdfw_failed(w); p++) {
        HPDF_Image img = sr_pdf_trial_grid(w, t, p, &grid_bytes);
        sr_pdfw_page(w, title);
        char *st = xasprintf("%s \xe2\x80\x94 samples%s", t->name, p ? " (continued)" : "");
        size_t first, n;
        sr_pdf_grid_page_rows(t, p, &first, &n);
        size_t most = 0;
        for (size_t j = 0; j < t->n_ckpts; j++)
            most = t->ckpts[j].n_samples > most ? t->ckpts[j].n_samples : most;
        char cols[96] = "";
        if (most > SR_PDF_GRID_COLUMNS)
            snprintf(cols, sizeof cols, " (the first %d)", SR_PDF_GRID_COLUMNS);
        char *subtitle = grid_pages > 1 ? xasprintf("a row per checkpoint, a column per sample%s; checkpoints %zu to "
                                                    "%zu of %zu",
                                                    cols, first + 1, first + n, sr_pdf_grid_rows(t))
                                        : xasprintf("a row per checkpoint, a column per sample%s", cols);
        double y = sr_pdfw_heading(w, st, subtitle);
        free(subtitle);
        free(st);
        char *none = p == 0 ? unsampled(t) : NULL;
        if (none) { /* the grid has no row for them: they are named, not left out unsaid */
            char *note = xasprintf("Not in the grid, having no samples: %s.", none);
            sr_pdfw_grey(w, 0.35);
            y = sr_pdfw_wrap(w, MARGIN, y, note, 0, 8.5, CONTENT_W, 3) - 4;
            sr_pdfw_grey(w, 0);
            free(note);
            free(none);
        }
        if (img)
            sr_pdfw_image(w, img, MARGIN, y, CONTENT_W, y - BOTTOM);
        else
            sr_pdfw_text(w, MARGIN, y, "The sample grid could not be made (see the problems).", 0, 9, CONTENT_W, 0);
    }

    /* curves, 2 x 3 per page */
    double gap = 14, cw = (CONTENT_W - gap) / 2;
    for (size_t i = 0; i < tn && !sr_pdfw_failed(w); i += SR_PDF_TRIAL_CHARTS_PER_PAGE) {
        sr_pdfw_page(w, title);
        char *ct = xasprintf("%s \xe2\x80\x94 curves", t->name);
        double y = sr_pdfw_heading(w, ct, NULL);
        free(ct);
        double ch = (y - BOTTOM - 2 * gap) / 3;
        for (size_t k = 0; k < SR_PDF_TRIAL_CHARTS_PER_PAGE && i + k < tn; k++) {
            double x = MARGIN + (double)(k % 2) * (cw + gap);
            double top = y - (double)(k / 2) * (ch + gap);
            if (sr_pdfw_chart(w, &tc[i + k].chart, x, top - ch, cw, ch) != 0)
                break;
        }
    }
    free(title);
    sr_named_charts_free(tc, tn);
}

double sr_pdf_recommendation_card(sr_pdfw *w, double y, double height, const char *title, size_t this_trial,
                                  int reason_lines, int path_lines)
{
    const sr_sweep *s = w->s;
    const sr_analysis *a = w->a;
    char b[1024], n1[32];
    const double top = y;
    sr_pdfw_fill_rect(w, MARGIN, top - height, CONTENT_W, height, 0.93, 0.96, 1.0);
    sr_pdfw_fill_rect(w, MARGIN, top - height, 4, height, 0.0, 0.45, 0.70);
    y = top - 18;
    sr_pdfw_text(w, MARGIN + 12, y, title, 1, 12, CONTENT_W - 24, 0);
    y -= 18;
    if (a->has_best) {
        const sr_trial *t = &s->trials[a->best.trial];
        const sr_checkpoint *c = &t->ckpts[a->best.ckpt];
        const char *here = a->best.trial == this_trial ? "  (this trial)" : "";
        sr_pdf_fmt_num(a->best_score, n1, sizeof n1);
        if (c->epoch >= 0)
            snprintf(b, sizeof b, "%s  \xc2\xb7  epoch %ld  \xc2\xb7  score %s%s", t->name, c->epoch, n1, here);
        else
            snprintf(b, sizeof b, "%s  \xc2\xb7  score %s%s", t->name, n1, here);
        sr_pdfw_text(w, MARGIN + 12, y, b, 1, 10.5, CONTENT_W - 24, 0);
        y -= 15;
        sr_pdfw_text(w, MARGIN + 12, y, c->file, 0, 10, CONTENT_W - 24, 0);
        y -= 15;
        y = sr_pdfw_wrap(w, MARGIN + 12, y, a->reason ? a->reason : "", 0, 9, CONTENT_W - 24, reason_lines);
        sr_pdfw_grey(w, 0.35);
        sr_pdfw_wrap(w, MARGIN + 12, y - 2, c->path, 0, 8, CONTENT_W - 24, path_lines);
        sr_pdfw_grey(w, 0);
    } else {
        sr_pdfw_text(w, MARGIN + 12, y, "No checkpoint has a score: nothing to recommend.", 0, 10, CONTENT_W - 24, 0);
    }
    return top - height;
}

/* The problems in list on pages of their own, section naming them in the
 * footers. */
static void problems_pages(sr_pdfw *w, const sr_problem *const *list, size_t total, const char *section,
                           const char *subtitle)
{
    size_t pages = total ? (total + SR_PDF_PROBLEMS_PER_PAGE - 1) / SR_PDF_PROBLEMS_PER_PAGE : 1;
    size_t idx = 0;
    for (size_t pg = 0; pg < pages; pg++) {
        sr_pdfw_page(w, section);
        if (pg == 0)
            sr_pdfw_outline(w, NULL, "Problems");
        double y = sr_pdfw_heading(w, pg ? "Problems (continued)" : "Problems", subtitle);
        if (!total)
            sr_pdfw_text(w, MARGIN, y, "No problems found.", 0, 10, CONTENT_W, 0);
        for (size_t k = 0; k < SR_PDF_PROBLEMS_PER_PAGE && idx < total; k++, idx++) {
            const sr_problem *p = list[idx];
            const char *path = p->path ? p->path : "";
            if (w->s->path && sr_str_has_prefix(path, w->s->path) && path[strlen(w->s->path)] == '/')
                path += strlen(w->s->path) + 1;
            /* the file on a line of its own, the reason below it on up to
             * three lines: an archived report keeps the whole diagnosis */
            sr_pdfw_text(w, MARGIN, y, path, 1, 8, CONTENT_W, 0);
            y = sr_pdfw_wrap(w, MARGIN + 12, y - 10.5, p->problem ? p->problem : "", 0, 8, CONTENT_W - 12, 3);
            y -= 5;
        }
    }
}

/* The sweep's problems at or under the folder under (all with NULL), then
 * those of extra (may be NULL), then those found while writing, into a new
 * list (free it); *total gets their count. */
static const sr_problem **problem_list(sr_pdfw *w, const char *under, const sr_problems *extra, size_t *total)
{
    const sr_problems *sp = &w->s->problems;
    size_t n = 0, n_extra = extra ? extra->n : 0;
    const sr_problem **list = xcalloc(sp->n + n_extra + w->extra.n + 1, sizeof *list);
    for (size_t i = 0; i < n_extra; i++)
        list[n++] = &extra->items[i];
    for (size_t i = 0; i < sp->n; i++)
        if (!under || sr_path_under(sp->items[i].path, under))
            list[n++] = &sp->items[i];
    for (size_t i = 0; i < w->extra.n; i++)
        list[n++] = &w->extra.items[i];
    *total = n;
    return list;
}

void sr_pdf_problems_section(sr_pdfw *w)
{
    size_t total;
    const sr_problem **list = problem_list(w, NULL, NULL, &total);
    problems_pages(w, list, total, "Problems", "unreadable, broken or half-written files; the report left them out");
    free(list);
}

void sr_pdf_trial_problems_section(sr_pdfw *w, size_t ti)
{
    const sr_trial *t = &w->s->trials[ti];
    /* pending checkpoints are no problem of the sweep's (the next run
     * takes them), but this file outlives that run: it says which were
     * not taken, and why */
    sr_problems pending;
    sr_problems_init(&pending);
    for (size_t k = 0; k < t->n_ckpts; k++) {
        const sr_checkpoint *c = &t->ckpts[k];
        if (c->status == SR_CKPT_PENDING) {
            char *why = pending_text(c);
            sr_problems_add(&pending, c->path, "%s", why);
            free(why);
        }
    }
    size_t total;
    const sr_problem **list = problem_list(w, t->path, &pending, &total);
    char *title = sr_pdf_trial_title(t->name);
    char *section = xasprintf("%s \xc2\xb7 Problems", title);
    problems_pages(w, list, total, section,
                   "unreadable, broken, half-written or pending files in this trial's folder, and what this "
                   "file could not show");
    free(section);
    free(title);
    free(list);
    sr_problems_free(&pending);
}
