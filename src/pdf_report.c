/* pdf_report.c - the sweep report as one PDF: summary, leaderboard, charts,
 * one section per trial and the problems, with bookmarks and page numbers. */
#include "config.h"

#include "pdf_report.h"

#include "charts.h"
#include "num_format.h"
#include "pdf_doc.h"
#include "pdf_grid.h"
#include "pdf_sections.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MARGIN SR_PDF_MARGIN
#define CONTENT_W SR_PDF_CONTENT_W
#define TOP SR_PDF_TOP
#define BOTTOM SR_PDF_BOTTOM

static size_t scored_ckpts(const sr_sweep *s, const sr_analysis *a)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_trials && i < a->n_trials; i++)
        for (size_t k = 0; k < s->trials[i].n_ckpts; k++)
            n += isfinite(a->trials[i].ckpts[k].score) != 0;
    return n;
}

/* Checkpoints left for the next run (too new, or still being written):
 * how many, and the first few by name.  Nothing when there are none. */
static double pending_line(sr_pdfw *w, double y)
{
    const sr_sweep *s = w->s;
    sr_buf b;
    sr_buf_init(&b);
    size_t n = 0;
    for (size_t i = 0; i < s->n_trials; i++)
        for (size_t j = 0; j < s->trials[i].n_ckpts; j++) {
            const sr_checkpoint *c = &s->trials[i].ckpts[j];
            if (c->status != SR_CKPT_PENDING)
                continue;
            if (n < 3)
                sr_buf_printf(&b, "%s%s/%s (%s)", n ? ", " : "", s->trials[i].name, c->file,
                              c->pending ? c->pending : "pending");
            n++;
        }
    if (n > 3)
        sr_buf_printf(&b, " and %zu more", n - 3);
    if (n) {
        char *line = xasprintf("%zu checkpoint%s left for the next run: %s", n, n == 1 ? "" : "s", b.s);
        /* room for each reason whole (two lines each, the first three) */
        y = sr_pdfw_key_value_lines(w, y, "Pending", line, 2 + 2 * (int)(n < 3 ? n : 3));
        free(line);
    }
    sr_buf_free(&b);
    return y;
}

static void summary_page(sr_pdfw *w)
{
    const sr_sweep *s = w->s;
    const sr_analysis *a = w->a;
    sr_pdfw_page(w, "Summary");
    sr_pdfw_outline(w, NULL, "Summary");
    char b[512], n1[64], n2[64];
    double y = sr_pdfw_heading(w, "Sweep report", sr_path_base(s->path));
    y = sr_pdfw_key_value(w, y, "Sweep", s->path);
    y = sr_pdfw_study_line(w, y);
    snprintf(b, sizeof b, "%zu trial%s, %zu checkpoint%s, %zu scored, %zu problem%s", s->n_trials,
             s->n_trials == 1 ? "" : "s", sr_sweep_count_checkpoints(s), sr_sweep_count_checkpoints(s) == 1 ? "" : "s",
             scored_ckpts(s, a), s->problems.n, s->problems.n == 1 ? "" : "s");
    y = sr_pdfw_key_value(w, y, "Counts", b);
    y = pending_line(w, y);
    y = sr_pdfw_score_line(w, y);
    sr_pdf_fmt_num(a->score_min, n1, sizeof n1);
    sr_pdf_fmt_num(a->score_max, n2, sizeof n2);
    snprintf(b, sizeof b, "%s to %s", n1, n2);
    y = sr_pdfw_key_value(w, y, "Score range", b);
    y -= 8;

    /* the recommendation card */
    y = sr_pdf_recommendation_card(w, y, 150, "Recommended checkpoint", SIZE_MAX, 4, 3) - 20;

    /* key numbers: runners-up and what mattered */
    double col = CONTENT_W / 2;
    double yl = y, yr = y;
    sr_pdfw_text(w, MARGIN, yl, "Runners-up", 1, 10.5, col - 10, 0);
    yl -= 14;
    double ru_scores[sizeof a->runners_up / sizeof a->runners_up[0] + 1];
    size_t n_ru = 0;
    ru_scores[n_ru++] = a->best_score; /* the card above shows it: the same decimals */
    for (size_t k = 0; k < a->n_runners_up; k++)
        ru_scores[n_ru++] = a->trials[a->runners_up[k].trial].ckpts[a->runners_up[k].ckpt].score;
    const int d_ru = sr_column_decimals(ru_scores, n_ru);
    for (size_t k = 0; k < a->n_runners_up; k++) {
        sr_ckpt_ref r = a->runners_up[k];
        const sr_checkpoint *c = &s->trials[r.trial].ckpts[r.ckpt];
        sr_pdf_fmt_num_in(a->trials[r.trial].ckpts[r.ckpt].score, d_ru, n1, sizeof n1);
        snprintf(b, sizeof b, "%s e%ld  %s", s->trials[r.trial].name, c->epoch, n1);
        sr_pdfw_text(w, MARGIN, yl, b, 0, 9, col - 10, 0);
        yl -= 12;
    }
    if (!a->n_runners_up) {
        sr_pdfw_text(w, MARGIN, yl, "none", 0, 9, col - 10, 0);
        yl -= 12;
    }
    sr_pdfw_text(w, MARGIN + col, yr, "Parameters that mattered", 1, 10.5, col, 0);
    yr -= 14;
    size_t shown = 0, with_importance = 0;
    for (size_t k = 0; k < a->n_params && shown < 5; k++) {
        const sr_param_analysis *p = &a->params[k];
        if (p->constant || (isnan(p->importance) && isnan(p->spearman)))
            continue; /* the trials all share it, or nothing is known of it: a line that says nothing */
        sr_pdf_fmt_num(p->spearman, n2, sizeof n2);
        if (isnan(p->importance)) {
            snprintf(b, sizeof b, "%s: \xcf\x81 %s", p->name, n2);
        } else {
            sr_pdf_fmt_num(p->importance, n1, sizeof n1);
            snprintf(b, sizeof b, "%s: importance %s, \xcf\x81 %s", p->name, n1, n2);
            with_importance++;
        }
        sr_pdfw_text_shrink(w, MARGIN + col, yr, b, 0, 9, 6.5, col, 0); /* long names: smaller, not cut */
        yr -= 12;
        shown++;
    }
    if (shown) {
        /* what the numbers are, and why an importance is missing */
        if (with_importance < shown && a->n_complete < SR_ANALYSIS_PED_MIN_TRIALS)
            snprintf(b, sizeof b,
                     "\xcf\x81: rank correlation with each trial's best score; importance needs %d complete "
                     "trials (%zu here)",
                     SR_ANALYSIS_PED_MIN_TRIALS, a->n_complete);
        else
            snprintf(b, sizeof b, "\xcf\x81: rank correlation with each trial's best score");
        sr_pdfw_grey(w, 0.45);
        yr = sr_pdfw_wrap(w, MARGIN + col, yr, b, 0, 7.5, col, 2);
        sr_pdfw_grey(w, 0);
    }
    if (!shown) {
        if (a->n_params == 0)
            snprintf(b, sizeof b, "no hyperparameters to compare");
        else if (a->n_complete < SR_ANALYSIS_PED_MIN_TRIALS)
            snprintf(b, sizeof b, "too few complete trials to tell (%zu of the %d needed)", a->n_complete,
                     SR_ANALYSIS_PED_MIN_TRIALS);
        else
            snprintf(b, sizeof b, "none analysed");
        sr_pdfw_text(w, MARGIN + col, yr, b, 0, 9, col, 0);
        yr -= 12;
    }
    y = fmin(yl, yr) - 14;

    /* the recommended checkpoint's samples */
    if (a->has_best) {
        const sr_trial *t = &s->trials[a->best.trial];
        const sr_checkpoint *c = &t->ckpts[a->best.ckpt];
        sr_pdfw_text(w, MARGIN, y, "Samples of the recommended checkpoint", 1, 10.5, CONTENT_W, 0);
        y -= 10;
        if (c->n_samples) {
            HPDF_Image img = sr_pdf_checkpoint_grid(w, t, c);
            sr_pdfw_image(w, img, MARGIN, y, CONTENT_W, y - BOTTOM);
        } else {
            sr_pdfw_text(w, MARGIN, y - 12, "no samples", 0, 9, CONTENT_W, 0);
        }
    }
}

static void leaderboard(sr_pdfw *w)
{
    const sr_sweep *s = w->s;
    const sr_analysis *a = w->a;
    size_t *order = xcalloc(s->n_trials ? s->n_trials : 1, sizeof *order);
    sr_analysis_trial_order(s, a, order);
    static const char *const names[] = {"Trial", "State", "Optuna value", "Best epoch", "Best score", "Final score",
                                        "Overfit"};
    static const int right[] = {0, 0, 1, 1, 1, 1, 0};
    double xs[7] = {MARGIN, MARGIN + 130, MARGIN + 200, MARGIN + 275, MARGIN + 340, MARGIN + 410, MARGIN + 475};
    /* each number column in one format over every page, as on the HTML leaderboard */
    double *col = xmalloc(3 * (s->n_trials ? s->n_trials : 1) * sizeof *col);
    for (size_t i = 0; i < s->n_trials; i++) {
        const sr_trial *t = &s->trials[i];
        const sr_trial_analysis *ta = i < a->n_trials ? &a->trials[i] : NULL;
        col[i] = t->optuna && t->optuna->has_value ? t->optuna->value : NAN;
        col[s->n_trials + i] = ta ? ta->best_score : NAN;
        col[2 * s->n_trials + i] = ta ? ta->final_score : NAN;
    }
    const int d_value = sr_column_decimals(col, s->n_trials);
    const int d_scores = sr_column_decimals(col + s->n_trials, 2 * s->n_trials); /* best and final alike */
    free(col);
    size_t pages = s->n_trials ? (s->n_trials + SR_PDF_LEADERBOARD_ROWS - 1) / SR_PDF_LEADERBOARD_ROWS : 1;
    size_t r = 0;
    for (size_t pg = 0; pg < pages; pg++) {
        sr_pdfw_page(w, "Leaderboard");
        if (pg == 0)
            sr_pdfw_outline(w, NULL, "Leaderboard");
        double y = sr_pdfw_heading(w, pg ? "Leaderboard (continued)" : "Leaderboard",
                           a->maximize ? "by best score, higher is better" : "by best score, lower is better");
        sr_pdfw_table_header(w, y, names, xs, right, 7, 8.5);
        y -= 17;
        for (size_t k = 0; k < SR_PDF_LEADERBOARD_ROWS && r < s->n_trials; k++, r++) {
            size_t i = order[r];
            const sr_trial *t = &s->trials[i];
            const sr_trial_analysis *ta = i < a->n_trials ? &a->trials[i] : NULL;
            if (k % 2)
                sr_pdfw_fill_rect(w, MARGIN, y - 4, CONTENT_W, 15, 0.97, 0.97, 0.97);
            char c[7][96];
            int recommended = a->has_best && a->best.trial == i;
            snprintf(c[0], sizeof c[0], "%s%s", t->name, recommended ? " \xe2\x98\x85" : "");
            snprintf(c[1], sizeof c[1], "%s", t->optuna && t->optuna->state ? t->optuna->state : "\xe2\x80\x94");
            sr_pdf_fmt_num_in(t->optuna && t->optuna->has_value ? t->optuna->value : NAN, d_value, c[2],
                              sizeof c[2]);
            if (ta && ta->best >= 0 && t->ckpts[ta->best].epoch >= 0)
                snprintf(c[3], sizeof c[3], "%ld", t->ckpts[ta->best].epoch);
            else
                snprintf(c[3], sizeof c[3], "\xe2\x80\x94");
            sr_pdf_fmt_num_in(ta ? ta->best_score : NAN, d_scores, c[4], sizeof c[4]);
            sr_pdf_fmt_num_in(ta ? ta->final_score : NAN, d_scores, c[5], sizeof c[5]);
            snprintf(c[6], sizeof c[6], "%s", !ta || !ta->overfit_known ? "\xe2\x80\x94" : ta->overfit ? "yes" : "no");
            for (size_t j = 0; j < 7; j++) {
                double cw = (j + 1 < 7 ? xs[j + 1] : MARGIN + CONTENT_W) - xs[j] - 4;
                sr_pdfw_text(w, right[j] ? xs[j] + cw : xs[j] + 2, y, c[j], j == 0 && recommended, 8.5, cw - 2,
                        right[j] ? 1 : 0);
            }
            y -= 15;
        }
        if (!s->n_trials)
            sr_pdfw_text(w, MARGIN, y, "No trials found.", 0, 9, CONTENT_W, 0);
    }
    free(order);
}

/* Two charts a page; the metrics left out for being the same everywhere
 * are named under the first page's heading (note, may be NULL). */
static void charts_section(sr_pdfw *w, const sr_named_chart *ch, size_t n, const char *note)
{
    for (size_t i = 0; (i < n || (i == 0 && note)) && !sr_pdfw_failed(w); i += 2) {
        sr_pdfw_page(w, "Charts");
        if (i == 0)
            sr_pdfw_outline(w, NULL, "Charts");
        double y = sr_pdfw_heading(w, i ? "Charts (continued)" : "Charts", NULL);
        if (i == 0 && note) {
            sr_pdfw_grey(w, 0.4);
            y = sr_pdfw_wrap(w, MARGIN, y + 4, note, 0, 8, CONTENT_W, 4) - 6; /* the charts below it */
            sr_pdfw_grey(w, 0);
        }
        /* two charts a page, smaller when the note takes room */
        double box_h = fmin((TOP - 40 - BOTTOM - 20) / 2, (y - BOTTOM - 20) / 2);
        if (i < n)
            sr_pdfw_chart(w, &ch[i].chart, MARGIN, y - box_h, CONTENT_W, box_h);
        if (i + 1 < n)
            sr_pdfw_chart(w, &ch[i + 1].chart, MARGIN, y - 2 * box_h - 20, CONTENT_W, box_h);
    }
}


int sr_pdf_report_write(const char *path, const sr_sweep *s, const sr_analysis *a, sr_problems *problems, char *err,
                        size_t errlen)
{
    sr_pdfw w;
    char why[SR_MSG_MAX];
    if (sr_pdfw_open(&w, s, a, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        return -1;
    }
    char *title = xasprintf("Sweep report: %s", sr_path_base(s->path));
    sr_pdfw_info(&w, title, "LoRA hyperparameter sweep: checkpoints, scores and samples", NULL, time(NULL));
    free(title);
    if (sr_pdfw_load_fonts(&w, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        sr_pdfw_close(&w);
        return -1;
    }

    summary_page(&w);
    leaderboard(&w);
    sr_named_chart *charts = NULL;
    size_t nch = sr_pdfw_failed(&w) ? 0 : sr_build_sweep_charts(s, a, &charts);
    sr_unvarying_metric *flat = NULL;
    size_t n_flat = sr_unvarying_metrics(s, a, &flat);
    char *note = sr_unvarying_metrics_text(flat, n_flat);
    charts_section(&w, charts, nch, note);
    free(note);
    sr_unvarying_metrics_free(flat, n_flat);
    sr_named_charts_free(charts, nch);
    HPDF_Outline troot = NULL;
    for (size_t i = 0; i < s->n_trials && !sr_pdfw_failed(&w); i++)
        sr_pdf_trial_section(&w, i, "Trials", &troot);
    /* the note names the sweep: the report may be written under a temporary name */
    sr_pdfw_font_note(&w, s->path, problems);
    sr_pdf_problems_section(&w);
    sr_pdfw_footers(&w);
    int rc = 0;
    if (sr_pdfw_failed(&w)) {
        sr_pdfw_error_text(&w, why, sizeof why);
        snprintf(err, errlen, "%s: %s while drawing", path, why);
        rc = -1;
    } else if (sr_pdfw_save(&w, path, SR_ATOMIC_REPLACE, err, errlen) != 0) {
        rc = -1;
    }
    sr_pdfw_close(&w);
    return rc;
}
