/* test_charts.c - the chart builders on a measured synthetic sweep and on a
 * hand-made one, and both backends drawing what they build. */
#include "config.h"

#include "analysis.h"
#include "chart.h"
#include "charts.h"
#include "check_main.h"
#include "fixture.h"
#include "eval.h"
#include "scan.h"
#include "synth.h"
#include "util.h"

#include <hpdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the synthetic sweep, made and measured for each test --------------- */

static char *sweep_dir;
static sr_sweep sweep;
static sr_analysis analysis;
static int analysed;

static void synth_setup(void)
{
    sweep_dir = test_tmpdir("charts");
    fx_measured_sweep(sweep_dir, 7, 40, 11, &sweep, &analysis);
    analysed = 1;
}

static void synth_teardown(void)
{
    if (analysed)
        sr_analysis_free(&analysis);
    sr_sweep_free(&sweep);
    test_rmtree(sweep_dir);
    free(sweep_dir);
}

/* ---- helpers ------------------------------------------------------------- */

static const sr_named_chart *find_chart(const sr_named_chart *c, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(c[i].id, id) == 0)
            return &c[i];
    return NULL;
}

static const sr_named_chart *need_chart(const sr_named_chart *c, size_t n, const char *id)
{
    const sr_named_chart *nc = find_chart(c, n, id);
    ck_assert_msg(nc != NULL, "no chart %s", id);
    return nc;
}

static size_t chart_index(const sr_named_chart *c, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(c[i].id, id) == 0)
            return i;
    ck_abort_msg("no chart %s", id);
    return 0;
}

static size_t count_highlighted(const sr_chart *c)
{
    size_t k = 0;
    for (size_t i = 0; i < c->n_series; i++)
        k += c->series[i].highlighted != 0;
    return k;
}

static const sr_series *series_named(const sr_chart *c, const char *name)
{
    for (size_t i = 0; i < c->n_series; i++)
        if (strcmp(c->series[i].name, name) == 0)
            return &c->series[i];
    return NULL;
}

static int is_bookkeeping(const char *name)
{
    return !strcmp(name, "total_samples") || !strcmp(name, "weight_modules") ||
           !strcmp(name, "weight_modules_unmeasured");
}

/* Finite values of a metric at checkpoints of known epoch. */
static size_t metric_count(const sr_sweep *s, const char *name)
{
    size_t n = 0;
    double v;
    for (size_t i = 0; i < s->n_trials; i++)
        for (size_t k = 0; k < s->trials[i].n_ckpts; k++)
            if (s->trials[i].ckpts[k].epoch >= 0 && sr_metrics_get(&s->trials[i].ckpts[k].metrics, name, &v) &&
                isfinite(v))
                n++;
    return n;
}

static size_t scored_trials(const sr_sweep *s, const sr_analysis *a)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_trials; i++)
        n += isfinite(a->trials[i].best_score) != 0;
    return n;
}

/* Draws a chart with every backend; PNGs and the PDF go under dir. */
static void render_all(const sr_named_chart *c, size_t n, const char *dir)
{
    char err[512];
    HPDF_Doc pdf = HPDF_New(NULL, NULL);
    ck_assert_ptr_nonnull(pdf);
    HPDF_Font font = HPDF_GetFont(pdf, "Helvetica", NULL);
    ck_assert_ptr_nonnull(font);
    for (size_t i = 0; i < n; i++) {
        char *svg = sr_chart_svg(&c[i].chart, 720, 420, err, sizeof err);
        ck_assert_msg(svg != NULL, "%s: svg: %s", c[i].id, err);
        ck_assert_msg(strstr(svg, "<svg") != NULL, "%s: not an svg", c[i].id);
        free(svg);

        char *png = xasprintf("%s/%s.png", dir, c[i].id);
        ck_assert_msg(sr_chart_png(&c[i].chart, 720, 420, png, err, sizeof err) == 0, "%s: png: %s", c[i].id, err);
        struct stat st;
        ck_assert_msg(stat(png, &st) == 0 && st.st_size > 100, "%s: no png written", png);
        free(png);

        HPDF_Page page = HPDF_AddPage(pdf);
        ck_assert_ptr_nonnull(page);
        HPDF_Page_SetWidth(page, 612);
        HPDF_Page_SetHeight(page, 792);
        ck_assert_msg(sr_chart_pdf(&c[i].chart, page, font, 36, 400, 540, 320, err, sizeof err) == 0, "%s: pdf: %s",
                      c[i].id, err);
    }
    char *path = sr_path_join(dir, "charts.pdf");
    ck_assert_int_eq(HPDF_SaveToFile(pdf, path), HPDF_OK);
    struct stat st;
    ck_assert(stat(path, &st) == 0 && st.st_size > 100);
    free(path);
    HPDF_Free(pdf);
}

/* ---- the synthetic sweep ------------------------------------------------- */

/* 1 when some trial has the metric at two different epochs. */
static int metric_has_curve(const sr_sweep *s, const char *name)
{
    double v;
    for (size_t i = 0; i < s->n_trials; i++)
        for (size_t k = 0; k < s->trials[i].n_ckpts; k++)
            for (size_t j = 0; j < k; j++) {
                const sr_checkpoint *a = &s->trials[i].ckpts[j], *b = &s->trials[i].ckpts[k];
                if (a->epoch >= 0 && b->epoch >= 0 && a->epoch != b->epoch && sr_metrics_get(&a->metrics, name, &v) &&
                    isfinite(v) && sr_metrics_get(&b->metrics, name, &v) && isfinite(v))
                    return 1;
            }
    return 0;
}

/* 1 when the metric's finite values at checkpoints of known epoch are not
 * all the same. */
static int metric_varies(const sr_sweep *s, const char *name)
{
    double first = NAN, v;
    for (size_t i = 0; i < s->n_trials; i++)
        for (size_t k = 0; k < s->trials[i].n_ckpts; k++)
            if (s->trials[i].ckpts[k].epoch >= 0 && sr_metrics_get(&s->trials[i].ckpts[k].metrics, name, &v) &&
                isfinite(v)) {
                if (isnan(first))
                    first = v;
                else if (v != first)
                    return 1;
            }
    return 0;
}

START_TEST(test_sweep_chart_list)
{
    const sr_sweep *s = &sweep;
    const sr_analysis *a = &analysis;
    sr_named_chart *c = NULL;
    size_t n = sr_build_sweep_charts(s, a, &c);
    ck_assert_uint_gt(n, 10);
    ck_assert_ptr_nonnull(c);

    /* ids are unique and file-name safe */
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(strspn(c[i].id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") ==
                          strlen(c[i].id),
                      "id %s", c[i].id);
        for (size_t j = i + 1; j < n; j++)
            ck_assert_str_ne(c[i].id, c[j].id);
    }

    /* score first, then one chart per metric in the documented order */
    ck_assert_str_eq(c[0].id, "score");
    ck_assert_int_eq(c[0].kind, SR_CHART_SCORE_VS_EPOCH);
    size_t metric_charts = 0;
    for (size_t i = 0; i < n; i++)
        if (sr_str_has_prefix(c[i].id, "metric-"))
            metric_charts++;
    size_t expected = 0;
    char **seen = NULL;
    size_t n_seen = 0;
    for (size_t i = 0; i < s->n_trials; i++)
        for (size_t k = 0; k < s->trials[i].n_ckpts; k++) {
            const sr_metrics *m = &s->trials[i].ckpts[k].metrics;
            for (size_t j = 0; j < m->n; j++) {
                int dup = 0;
                for (size_t q = 0; q < n_seen && !dup; q++)
                    dup = strcmp(seen[q], m->items[j].name) == 0;
                if (dup)
                    continue;
                seen = xrealloc(seen, (n_seen + 1) * sizeof *seen);
                seen[n_seen++] = m->items[j].name;
                const char *name = m->items[j].name;
                char *id = xasprintf("metric-%s", name);
                int want = metric_count(s, name) >= 2 && !is_bookkeeping(name) && strcmp(name, "pixar_score") != 0 &&
                           metric_varies(s, name) && metric_has_curve(s, name);
                const sr_named_chart *nc = find_chart(c, n, id);
                ck_assert_msg((nc != NULL) == want, "%s: chart %s", id, want ? "missing" : "unexpected");
                if (nc) {
                    expected++;
                    ck_assert_str_eq(nc->chart.x.label, "epoch");
                    ck_assert_str_eq(nc->chart.y.label, name);
                }
                free(id);
            }
        }
    free(seen);
    ck_assert_uint_eq(metric_charts, expected);
    ck_assert_uint_lt(chart_index(c, n, "metric-mean_brightness"), chart_index(c, n, "metric-std_brightness"));
    ck_assert_uint_lt(chart_index(c, n, "metric-std_contrast"), chart_index(c, n, "metric-mean_saturation"));
    ck_assert_uint_lt(chart_index(c, n, "metric-sample_diversity"), chart_index(c, n, "metric-weight_delta_norm"));
    ck_assert_int_eq(need_chart(c, n, "metric-weight_delta_norm")->kind, SR_CHART_WEIGHT_NORM);
    ck_assert_int_eq(need_chart(c, n, "metric-weight_drift")->kind, SR_CHART_WEIGHT_DRIFT);
    ck_assert_int_eq(need_chart(c, n, "metric-mean_sharpness")->kind, SR_CHART_METRIC_VS_EPOCH);
    ck_assert_ptr_null(find_chart(c, n, "metric-total_samples"));
    ck_assert_ptr_null(find_chart(c, n, "metric-weight_modules"));

    /* the rest */
    ck_assert_int_eq(need_chart(c, n, "optuna-history")->kind, SR_CHART_OPT_HISTORY);
    ck_assert_int_eq(need_chart(c, n, "parallel")->kind, SR_CHART_PARALLEL);
    ck_assert_int_eq(need_chart(c, n, "importance")->kind, SR_CHART_IMPORTANCE);
    ck_assert_int_eq(need_chart(c, n, "tb-loss")->kind, SR_CHART_TB_LOSS);
    ck_assert_int_eq(need_chart(c, n, "tb-lr")->kind, SR_CHART_TB_LR);

    /* slices: one per analysed parameter that varies among the scored trials */
    size_t slices = 0;
    for (size_t i = 0; i < n; i++)
        slices += c[i].kind == SR_CHART_SLICE;
    size_t varying = 0;
    for (size_t p = 0; p < a->n_params; p++) {
        char *first = NULL;
        int varies = 0;
        for (size_t i = 0; i < s->n_trials; i++) {
            if (!isfinite(a->trials[i].best_score) || !s->trials[i].params)
                continue;
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->trials[i].params, a->params[p].name);
            if (!v)
                continue;
            char *text = cJSON_PrintUnformatted(v);
            if (!first)
                first = text;
            else {
                varies |= strcmp(first, text) != 0;
                free(text);
            }
        }
        free(first);
        char *id = xasprintf("slice-%s", a->params[p].name);
        ck_assert_msg((find_chart(c, n, id) != NULL) == varies, "%s", id);
        free(id);
        varying += varies != 0;
    }
    ck_assert_uint_eq(slices, varying);
    ck_assert_ptr_nonnull(find_chart(c, n, "slice-learning_rate"));
    ck_assert_ptr_nonnull(find_chart(c, n, "slice-optimizer_type"));
    ck_assert_ptr_null(find_chart(c, n, "slice-max_train_epochs"));
    ck_assert_ptr_null(find_chart(c, n, "slice-network_dim"));

    sr_named_charts_free(c, n);
}
END_TEST

START_TEST(test_sweep_series_and_highlights)
{
    const sr_sweep *s = &sweep;
    const sr_analysis *a = &analysis;
    sr_named_chart *c = NULL;
    size_t n = sr_build_sweep_charts(s, a, &c);
    size_t nt = s->n_trials;
    ck_assert_uint_eq(nt, 7);
    ck_assert_uint_ge(scored_trials(s, a), 5);

    /* every trial is measured: a series each in the score and image/weight charts */
    const char *all_trials[] = {"score", "metric-mean_brightness", "metric-std_contrast", "metric-weight_delta_norm",
                                "metric-mean_saturation"};
    for (size_t k = 0; k < sizeof all_trials / sizeof *all_trials; k++) {
        const sr_chart *ch = &need_chart(c, n, all_trials[k])->chart;
        ck_assert_msg(ch->n_series == nt, "%s: %zu series", all_trials[k], ch->n_series);
        ck_assert_msg(count_highlighted(ch) == 5, "%s: %zu highlighted", all_trials[k], count_highlighted(ch));
        for (size_t i = 0; i < nt; i++)
            ck_assert_str_eq(ch->series[i].name, s->trials[i].name);
    }
    /* lpips and clip come only with the final evaluation of complete trials:
     * lone points, no chart by epoch, named in the sentence instead */
    ck_assert_ptr_null(find_chart(c, n, "metric-lpips_diversity"));
    ck_assert_ptr_null(find_chart(c, n, "metric-clip_consistency"));
    sr_unvarying_metric *u = NULL;
    size_t nu = sr_unvarying_metrics(s, a, &u);
    char *text = sr_unvarying_metrics_text(u, nu);
    ck_assert_msg(strstr(text, "Not charted by epoch, no trial has it at two epochs (the tables show it): "
                               "lpips_diversity, clip_consistency.") != NULL,
                  "%s", text);
    free(text);
    sr_unvarying_metrics_free(u, nu);

    /* TensorBoard: every trial trained */
    ck_assert_uint_eq(need_chart(c, n, "tb-loss")->chart.n_series, nt);
    ck_assert_uint_eq(need_chart(c, n, "tb-lr")->chart.n_series, nt);
    ck_assert_str_eq(need_chart(c, n, "tb-loss")->chart.x.label, "epoch");
    const sr_series *loss = &need_chart(c, n, "tb-loss")->chart.series[0];
    ck_assert_uint_gt(loss->n, 5);
    ck_assert(loss->x[loss->n - 1] <= 6.0 + 1e-9 && loss->x[0] >= 0);

    /* score chart: hover titles, labels, values from the analysis */
    const sr_chart *sc = &need_chart(c, n, "score")->chart;
    ck_assert_str_eq(sc->x.label, "epoch");
    ck_assert_str_eq(sc->y.label, "pixar_score (lower is better)");
    for (size_t i = 0; i < nt; i++) {
        const sr_series *se = &sc->series[i];
        ck_assert_int_eq(se->kind, SR_SERIES_LINE);
        ck_assert_ptr_nonnull(se->point_titles);
        for (size_t k = 0; k < se->n; k++) {
            char want[64];
            snprintf(want, sizeof want, "%s epoch %ld", s->trials[i].name, (long)se->x[k]);
            ck_assert_msg(sr_str_has_prefix(se->point_titles[k], want), "title %s", se->point_titles[k]);
        }
        size_t m = 0;
        for (size_t k = 0; k < s->trials[i].n_ckpts; k++) {
            if (!isfinite(a->trials[i].ckpts[k].score))
                continue;
            ck_assert_uint_lt(m, se->n);
            ck_assert_double_eq(se->x[m], (double)s->trials[i].ckpts[k].epoch);
            ck_assert_double_eq(se->y[m], a->trials[i].ckpts[k].score);
            m++;
        }
        ck_assert_uint_eq(m, se->n);
    }

    /* the highlighted five are the five best trials, with the same colour everywhere */
    for (size_t i = 0; i < nt; i++) {
        size_t better = 0;
        for (size_t j = 0; j < nt; j++)
            if (isfinite(a->trials[j].best_score) &&
                (!isfinite(a->trials[i].best_score) || a->trials[j].best_score < a->trials[i].best_score))
                better++;
        ck_assert_int_eq(sc->series[i].highlighted, better < 5);
        /* a second cue besides the colour from the fourth rank on */
        int second = better >= 3 && better < 5;
        ck_assert_msg(sc->series[i].dashed == second, "%s: rank %zu, dashed %d", sc->series[i].name, better,
                      sc->series[i].dashed);
        ck_assert_int_eq(sc->series[i].marker, second ? SR_MARK_SQUARE : SR_MARK_CIRCLE);
        /* the recommended trial stands out, and no other */
        ck_assert_int_eq(sc->series[i].emphasis, !strcmp(sc->series[i].name, s->trials[a->best.trial].name));
    }
    for (size_t k = 0; k < n; k++) {
        if (c[k].kind != SR_CHART_METRIC_VS_EPOCH && c[k].kind != SR_CHART_SLICE && c[k].kind != SR_CHART_PARALLEL &&
            c[k].kind != SR_CHART_TB_LOSS)
            continue;
        for (size_t i = 0; i < c[k].chart.n_series; i++) {
            const sr_series *se = &c[k].chart.series[i];
            const sr_series *ref = series_named(sc, se->name);
            ck_assert_ptr_nonnull(ref);
            ck_assert_int_eq(se->highlighted, ref->highlighted);
            if (se->highlighted)
                ck_assert_int_eq(se->color, ref->color);
        }
    }

    /* the grey lines are explained: the trials beyond the best five; epoch
     * axes are whole numbers */
    for (size_t k = 0; k < n; k++) {
        if (c[k].kind != SR_CHART_SCORE_VS_EPOCH && c[k].kind != SR_CHART_METRIC_VS_EPOCH)
            continue;
        const sr_chart *ch = &c[k].chart;
        ck_assert_msg(ch->x.integer, "%s: the epoch axis is not integer", c[k].id);
        size_t strong = count_highlighted(ch), faded = ch->n_series - strong;
        char want[96];
        snprintf(want, sizeof want, "in grey: %zu trial%s outside the best 5", faded, faded == 1 ? "" : "s");
        if (faded)
            ck_assert_msg(ch->subtitle && strstr(ch->subtitle, want), "%s: subtitle '%s'", c[k].id,
                          ch->subtitle ? ch->subtitle : "(none)");
        else
            ck_assert_msg(!ch->subtitle || !strstr(ch->subtitle, "in grey"), "%s: %s", c[k].id, ch->subtitle);
    }
    ck_assert_ptr_nonnull(strstr(sc->subtitle, "recommended: "));

    /* the star on the recommended checkpoint */
    ck_assert(a->has_best);
    const sr_checkpoint *best = &s->trials[a->best.trial].ckpts[a->best.ckpt];
    int stars = 0;
    for (size_t k = 0; k < sc->n_notes; k++)
        if (sc->notes[k].marker == SR_MARK_STAR) {
            stars++;
            ck_assert_double_eq(sc->notes[k].x, (double)best->epoch);
            ck_assert_double_eq(sc->notes[k].y, a->best_score);
            ck_assert_ptr_nonnull(strstr(sc->notes[k].text, s->trials[a->best.trial].name));
        }
    ck_assert_int_eq(stars, 1);
    double bv;
    ck_assert(sr_metrics_get(&best->metrics, "mean_brightness", &bv));
    const sr_chart *mb = &need_chart(c, n, "metric-mean_brightness")->chart;
    ck_assert_uint_eq(mb->n_notes, 1);
    ck_assert_double_eq(mb->notes[0].y, bv);

    sr_named_charts_free(c, n);
}
END_TEST

START_TEST(test_sweep_optuna_and_params)
{
    const sr_sweep *s = &sweep;
    const sr_analysis *a = &analysis;
    sr_named_chart *c = NULL;
    size_t n = sr_build_sweep_charts(s, a, &c);

    /* optimization history: one point per Optuna trial with a value, best so far below them */
    ck_assert_ptr_nonnull(s->study);
    size_t with_value = 0;
    for (size_t k = 0; k < s->study->n_trials; k++)
        with_value += s->study->trials[k].has_value && isfinite(s->study->trials[k].value);
    ck_assert_uint_ge(with_value, 4);
    const sr_chart *oh = &need_chart(c, n, "optuna-history")->chart;
    ck_assert_uint_eq(oh->n_series, 2);
    const sr_series *pts = &oh->series[0], *line = &oh->series[1];
    ck_assert_int_eq(pts->kind, SR_SERIES_POINTS);
    ck_assert_int_eq(line->kind, SR_SERIES_LINE);
    ck_assert_uint_eq(pts->n, with_value);
    double lo = INFINITY;
    for (size_t k = 0; k < pts->n; k++)
        lo = fmin(lo, pts->y[k]);
    for (size_t k = 1; k < line->n; k++) {
        ck_assert(line->x[k] >= line->x[k - 1]);
        ck_assert(line->y[k] <= line->y[k - 1]); /* minimize */
    }
    ck_assert_double_eq(line->y[line->n - 1], lo);
    for (size_t k = 0; k < pts->n; k++) {
        size_t j = line->n; /* the last point at this trial: the best after it */
        for (size_t q = 0; q < line->n; q++)
            if (line->x[q] == pts->x[k])
                j = q;
        ck_assert_uint_lt(j, line->n);
        ck_assert(line->y[j] <= pts->y[k]);
    }
    ck_assert_ptr_nonnull(strstr(oh->y.label, "lower is better"));

    /* slices */
    const sr_chart *lr = &need_chart(c, n, "slice-learning_rate")->chart;
    ck_assert_int_eq(lr->x.scale, SR_AXIS_LOG);
    ck_assert_ptr_null(lr->x.categories);
    ck_assert_uint_eq(lr->n_series, scored_trials(s, a));
    ck_assert_uint_eq(count_highlighted(lr), 5);
    for (size_t i = 0; i < lr->n_series; i++) {
        ck_assert_uint_eq(lr->series[i].n, 1);
        ck_assert(lr->series[i].x[0] > 0);
    }
    ck_assert(!lr->x.integer);
    /* a linear slice of whole numbers ticks at whole numbers, others not */
    size_t whole_slices = 0;
    for (size_t k = 0; k < n; k++) {
        const sr_chart *ch = &c[k].chart;
        if (!sr_str_has_prefix(c[k].id, "slice-") || ch->x.categories || ch->x.scale != SR_AXIS_LINEAR)
            continue;
        int whole = 1;
        for (size_t i = 0; i < ch->n_series; i++)
            for (size_t j = 0; j < ch->series[i].n; j++)
                whole &= ch->series[i].x[j] == floor(ch->series[i].x[j]);
        ck_assert_msg(ch->x.integer == whole, "%s: integer axis %d for whole values %d", c[k].id, ch->x.integer, whole);
        whole_slices += whole;
    }
    ck_assert_uint_ge(whole_slices, 1);
    const sr_chart *opt = &need_chart(c, n, "slice-optimizer_type")->chart;
    ck_assert_int_eq(opt->x.scale, SR_AXIS_LINEAR);
    ck_assert_uint_ge(opt->x.n_categories, 2);
    for (size_t i = 0; i < opt->n_series; i++) {
        double x = opt->series[i].x[0];
        ck_assert(x == floor(x) && x >= 0 && x < (double)opt->x.n_categories);
        const sr_trial *t = NULL;
        for (size_t j = 0; j < s->n_trials; j++)
            if (!strcmp(s->trials[j].name, opt->series[i].name))
                t = &s->trials[j];
        ck_assert_ptr_nonnull(t);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->params, "optimizer_type");
        ck_assert_str_eq(opt->x.categories[(size_t)x], v->valuestring);
    }

    /* parallel coordinates: the slice parameters and the score, normalised */
    const sr_chart *pc = &need_chart(c, n, "parallel")->chart;
    ck_assert(pc->parallel);
    size_t slices = 0;
    for (size_t i = 0; i < n; i++)
        slices += c[i].kind == SR_CHART_SLICE;
    ck_assert_uint_eq(pc->x.n_categories, slices + 1);
    /* a log-distributed parameter's axis says it is a log axis */
    int lr_log = 0;
    for (size_t d = 0; d < pc->x.n_categories; d++)
        lr_log |= strcmp(pc->x.categories[d], "learning_rate (log)") == 0;
    ck_assert_msg(lr_log, "the learning_rate axis is not marked (log)");
    ck_assert_uint_eq(pc->n_series, scored_trials(s, a));
    ck_assert_uint_eq(count_highlighted(pc), 5);
    for (size_t i = 0; i < pc->n_series; i++) {
        ck_assert_uint_eq(pc->series[i].n, slices + 1);
        for (size_t k = 0; k < pc->series[i].n; k++) {
            ck_assert_double_eq(pc->series[i].x[k], (double)k);
            double y = pc->series[i].y[k];
            ck_assert(isnan(y) || (y >= 0 && y <= 1));
        }
    }
    /* the values at the ends of each axis */
    ck_assert_uint_eq(pc->n_parallel_ends, slices + 1);
    for (size_t d = 0; d <= slices; d++)
        ck_assert(pc->parallel_lo[d] && pc->parallel_hi[d]);
    /* the best trial sits at the bottom of the score axis */
    const sr_series *bt = series_named(pc, s->trials[a->best.trial].name);
    ck_assert_ptr_nonnull(bt);
    ck_assert_double_eq_tol(bt->y[slices], 0.0, 1e-12);

    /* importance: one bar per parameter with a value, largest first */
    const sr_chart *im = &need_chart(c, n, "importance")->chart;
    ck_assert_uint_eq(im->n_series, 1);
    ck_assert_int_eq(im->series[0].kind, SR_SERIES_BARS);
    ck_assert_uint_eq(im->x.n_categories, im->series[0].n);
    ck_assert_uint_ge(im->series[0].n, 1);
    for (size_t k = 1; k < im->series[0].n; k++)
        ck_assert(im->series[0].y[k] <= im->series[0].y[k - 1]);

    sr_named_charts_free(c, n);
}
END_TEST

START_TEST(test_trial_charts)
{
    const sr_sweep *s = &sweep;
    const sr_analysis *a = &analysis;
    for (size_t i = 0; i < s->n_trials; i++) {
        sr_named_chart *c = NULL;
        size_t n = sr_build_trial_charts(s, a, i, &c);
        ck_assert_uint_ge(n, 3);
        char *prefix = xasprintf("trial-%s-", s->trials[i].name);
        char *score_id = xasprintf("trial-%s-score", s->trials[i].name);
        ck_assert_str_eq(c[0].id, score_id);
        for (size_t k = 0; k < n; k++) {
            ck_assert_int_eq(c[k].kind, SR_CHART_TRIAL_SMALL_MULTIPLE);
            ck_assert(sr_str_has_prefix(c[k].id, prefix));
            ck_assert_uint_eq(c[k].chart.n_series, 1);
            ck_assert_str_eq(c[k].chart.series[0].name, s->trials[i].name);
            ck_assert(c[k].chart.series[0].highlighted);
            /* one series: plain, whatever the trial's rank */
            ck_assert(!c[k].chart.series[0].dashed);
            ck_assert(!c[k].chart.series[0].emphasis);
            ck_assert_int_eq(c[k].chart.series[0].marker, SR_MARK_CIRCLE);
            ck_assert(c[k].chart.x.has_range); /* the sweep's epochs: trials compare at a glance */
        }
        char *mb = xasprintf("trial-%s-mean_brightness", s->trials[i].name);
        ck_assert_ptr_nonnull(find_chart(c, n, mb));
        free(mb);
        /* the star only in the recommended trial */
        int stars = 0;
        for (size_t k = 0; k < c[0].chart.n_notes; k++)
            stars += c[0].chart.notes[k].marker == SR_MARK_STAR;
        ck_assert_int_eq(stars, i == a->best.trial);
        free(prefix);
        free(score_id);
        sr_named_charts_free(c, n);
    }
    sr_named_chart *c = (sr_named_chart *)1;
    ck_assert_uint_eq(sr_build_trial_charts(s, a, s->n_trials, &c), 0);
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_maximize)
{
    const sr_sweep *s = &sweep;
    sr_analysis a;
    char err[512];
    sr_analysis_opts ao = {.maximize = 1};
    ck_assert_msg(sr_analyze(s, &ao, &a, err, sizeof err) == 0, "%s", err);
    sr_named_chart *c = NULL;
    size_t n = sr_build_sweep_charts(s, &a, &c);
    const sr_chart *sc = &need_chart(c, n, "score")->chart;
    ck_assert_str_eq(sc->y.label, "pixar_score (higher is better)");
    ck_assert_uint_eq(count_highlighted(sc), 5);
    for (size_t i = 0; i < s->n_trials; i++) {
        size_t better = 0;
        for (size_t j = 0; j < s->n_trials; j++)
            if (isfinite(a.trials[j].best_score) &&
                (!isfinite(a.trials[i].best_score) || a.trials[j].best_score > a.trials[i].best_score))
                better++;
        ck_assert_int_eq(sc->series[i].highlighted, better < 5);
        if (better < 5) /* palette colours 0..4 by rank */
            ck_assert_int_eq(sc->series[i].color, (int)better);
    }
    /* the best trial now sits at the top of the parallel score axis */
    const sr_chart *pc = &need_chart(c, n, "parallel")->chart;
    const sr_series *bt = series_named(pc, s->trials[a.best.trial].name);
    ck_assert_ptr_nonnull(bt);
    ck_assert_double_eq_tol(bt->y[bt->n - 1], 1.0, 1e-12);
    sr_named_charts_free(c, n);
    sr_analysis_free(&a);
}
END_TEST

/* With --prefer-earlier the star marks the checkpoint picked, which need
 * not be the best: its label says "recommended", not "best". */
START_TEST(test_prefer_earlier_label)
{
    const sr_sweep *s = &sweep;
    for (int prefer = 0; prefer < 2; prefer++) {
        sr_analysis a;
        char err[512];
        sr_analysis_opts ao = {.prefer_earlier = prefer ? 50 : 0};
        ck_assert_msg(sr_analyze(s, &ao, &a, err, sizeof err) == 0, "%s", err);
        sr_named_chart *c = NULL;
        size_t n = sr_build_sweep_charts(s, &a, &c);
        const sr_chart *sc = &need_chart(c, n, "score")->chart;
        int stars = 0;
        for (size_t k = 0; k < sc->n_notes; k++)
            if (sc->notes[k].marker == SR_MARK_STAR) {
                stars++;
                const char *want = prefer ? "recommended: " : "best: ";
                ck_assert_msg(strncmp(sc->notes[k].text, want, strlen(want)) == 0, "%s", sc->notes[k].text);
            }
        ck_assert_int_eq(stars, 1);
        sr_named_charts_free(c, n);
        sr_analysis_free(&a);
    }
}
END_TEST

START_TEST(test_render_every_chart)
{
    char *dir = test_tmpdir("charts-render");
    sr_named_chart *c = NULL;
    size_t n = sr_build_sweep_charts(&sweep, &analysis, &c);
    render_all(c, n, dir);
    sr_named_charts_free(c, n);
    n = sr_build_trial_charts(&sweep, &analysis, analysis.best.trial, &c);
    render_all(c, n, dir);
    sr_named_charts_free(c, n);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- a hand-made sweep: no scores, no study, no TensorBoard -------------- */

static void add_ckpt(sr_trial *t, long epoch, const char *const *names, const double *values, size_t nv)
{
    t->ckpts = xrealloc(t->ckpts, (t->n_ckpts + 1) * sizeof *t->ckpts);
    sr_checkpoint *c = &t->ckpts[t->n_ckpts++];
    memset(c, 0, sizeof *c);
    c->file = xasprintf("%s-%06ld.safetensors", t->name, epoch);
    c->epoch = epoch;
    c->step = -1;
    c->status = SR_CKPT_OK;
    for (size_t i = 0; i < nv; i++)
        sr_metrics_set(&c->metrics, names[i], values[i]);
}

static void hand_sweep(sr_sweep *s, size_t trials)
{
    memset(s, 0, sizeof *s);
    s->path = xstrdup("/nowhere");
    s->n_trials = trials;
    s->trials = xcalloc(trials ? trials : 1, sizeof *s->trials);
    const char *names[] = {"mean_brightness", "total_samples", "lonely"};
    for (size_t i = 0; i < trials; i++) {
        sr_trial *t = &s->trials[i];
        t->name = xasprintf("run %zu/x", i + 1); /* not file-name safe */
        t->path = xstrdup("/nowhere");
        t->params = cJSON_Parse("{\"learning_rate\": 0.001, \"optimizer_type\": \"Lion\"}");
        double v1[] = {0.4 + 0.01 * (double)i, 4, 1};
        add_ckpt(t, 2, names, v1, i == 0 ? 3 : 2);
        double v2[] = {0.45, 4};
        add_ckpt(t, 4, names, v2, 2);
        add_ckpt(t, -1, names, v2, 2); /* unknown epoch: nowhere on an epoch axis */
    }
}

/* An analysis of a hand-made sweep: trial i's best score best[i] (NaN: no
 * score), at its first checkpoint, the later ones a point worse each. */
static sr_analysis fake_analysis(const sr_sweep *s, const double *best)
{
    sr_analysis a;
    memset(&a, 0, sizeof a);
    a.trials = xcalloc(s->n_trials, sizeof *a.trials);
    for (size_t i = 0; i < s->n_trials; i++) {
        a.trials[i].ckpts = xcalloc(s->trials[i].n_ckpts, sizeof *a.trials[i].ckpts);
        for (size_t k = 0; k < s->trials[i].n_ckpts; k++)
            a.trials[i].ckpts[k].score = best[i] + (double)k;
        a.trials[i].best = isnan(best[i]) ? -1 : 0;
        a.trials[i].best_score = best[i];
    }
    return a;
}

static void fake_analysis_free(sr_analysis *a, const sr_sweep *s)
{
    for (size_t i = 0; i < s->n_trials; i++)
        free(a->trials[i].ckpts);
    free(a->trials);
}

/* A metric with one value everywhere gets no chart but a sentence; one
 * that differs anywhere, or is in one checkpoint only, or is bookkeeping,
 * gets no sentence. */
START_TEST(test_unvarying_metrics)
{
    sr_sweep s;
    hand_sweep(&s, 3);
    for (size_t i = 0; i < s.n_trials; i++)
        for (size_t k = 0; k < s.trials[i].n_ckpts; k++) {
            sr_metrics_set(&s.trials[i].ckpts[k].metrics, "weight_nonfinite", 0);
            sr_metrics_set(&s.trials[i].ckpts[k].metrics, "mean_entropy", 6.5);
            /* differs only at the unknown epoch, which no chart shows */
            sr_metrics_set(&s.trials[i].ckpts[k].metrics, "mean_saturation", s.trials[i].ckpts[k].epoch < 0 ? 1 : 0.5);
            /* differs in one checkpoint of the last trial */
            sr_metrics_set(&s.trials[i].ckpts[k].metrics, "mean_sharpness", i == 2 && k == 1 ? 30 : 20);
        }
    /* two step checkpoints of one epoch: still no line */
    const char *lp[] = {"lpips_diversity"};
    double lv[] = {0.3};
    add_ckpt(&s.trials[0], 2, lp, lv, 1);
    sr_metrics_set(&s.trials[0].ckpts[0].metrics, "lpips_diversity", 0.4);
    sr_named_chart *c = NULL;
    size_t n = sr_build_sweep_charts(&s, NULL, &c);
    ck_assert_ptr_nonnull(find_chart(c, n, "metric-mean_brightness"));
    ck_assert_ptr_nonnull(find_chart(c, n, "metric-mean_sharpness"));
    ck_assert_ptr_null(find_chart(c, n, "metric-lpips_diversity"));
    ck_assert_ptr_null(find_chart(c, n, "metric-weight_nonfinite"));
    ck_assert_ptr_null(find_chart(c, n, "metric-mean_entropy"));
    ck_assert_ptr_null(find_chart(c, n, "metric-mean_saturation"));
    ck_assert_uint_eq(n, 2);
    sr_named_charts_free(c, n);

    sr_unvarying_metric *u = NULL;
    size_t nu = sr_unvarying_metrics(&s, NULL, &u);
    ck_assert_uint_eq(nu, 4);
    /* in chart order: the seed's, image metrics, weight metrics */
    ck_assert_str_eq(u[0].name, "lpips_diversity");
    ck_assert(u[0].one_per_trial);
    ck_assert_str_eq(u[1].name, "mean_saturation");
    ck_assert_str_eq(u[2].name, "mean_entropy");
    ck_assert_str_eq(u[3].name, "weight_nonfinite");
    ck_assert(!u[1].one_per_trial && !u[2].one_per_trial && !u[3].one_per_trial);
    ck_assert(u[1].value == 0.5 && u[2].value == 6.5 && u[3].value == 0);
    ck_assert_uint_eq(u[3].count, 6); /* two checkpoints of known epoch per trial */
    char *text = sr_unvarying_metrics_text(u, nu);
    ck_assert_str_eq(text, "Not charted, the same in every checkpoint that has it: mean_saturation 0.5, "
                           "mean_entropy 6.5, weight_nonfinite 0. Not charted by epoch, no trial has it at two "
                           "epochs (the tables show it): lpips_diversity.");
    free(text);
    sr_unvarying_metrics_free(u, nu);
    /* the score has a chart of its own, whatever its values */
    sr_analysis scored;
    memset(&scored, 0, sizeof scored);
    scored.expression = "mean_entropy";
    scored.score_min = scored.score_max = 6.5;
    nu = sr_unvarying_metrics(&s, &scored, &u);
    ck_assert_uint_eq(nu, 3);
    ck_assert_str_eq(u[1].name, "mean_saturation");
    ck_assert_str_eq(u[2].name, "weight_nonfinite");
    sr_unvarying_metrics_free(u, nu);
    sr_sweep_free(&s);

    /* nothing of the kind: no list, no sentence */
    hand_sweep(&s, 2);
    nu = sr_unvarying_metrics(&s, NULL, &u);
    ck_assert_uint_eq(nu, 0);
    ck_assert_ptr_null(u);
    ck_assert_ptr_null(sr_unvarying_metrics_text(u, nu));
    sr_sweep_free(&s);
}
END_TEST

START_TEST(test_hand_made_no_scores)
{
    sr_sweep s;
    hand_sweep(&s, 3);
    sr_named_chart *c = (sr_named_chart *)1;
    size_t n = sr_build_sweep_charts(&s, NULL, &c);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(c[0].id, "metric-mean_brightness");
    ck_assert_uint_eq(c[0].chart.n_series, 3);
    ck_assert_uint_eq(count_highlighted(&c[0].chart), 3); /* nothing ranked, few trials: all shown */
    ck_assert_uint_eq(c[0].chart.n_notes, 0);
    for (size_t i = 0; i < 3; i++)
        ck_assert_uint_eq(c[0].chart.series[i].n, 2);
    char *dir = test_tmpdir("charts-hand");
    render_all(c, n, dir);
    sr_named_charts_free(c, n);

    /* an analysis that found nothing to score */
    sr_analysis none;
    memset(&none, 0, sizeof none);
    n = sr_build_sweep_charts(&s, &none, &c);
    ck_assert_uint_eq(n, 1);
    sr_named_charts_free(c, n);

    /* the real analysis of it: whatever it says, the builders cope */
    sr_analysis a;
    char err[512];
    sr_analysis_opts ao = {0};
    if (sr_analyze(&s, &ao, &a, err, sizeof err) == 0) {
        n = sr_build_sweep_charts(&s, &a, &c);
        ck_assert_ptr_null(find_chart(c, n, "score"));
        ck_assert_ptr_null(find_chart(c, n, "optuna-history"));
        ck_assert_ptr_null(find_chart(c, n, "parallel"));
        ck_assert_ptr_null(find_chart(c, n, "tb-loss"));
        ck_assert_ptr_nonnull(find_chart(c, n, "metric-mean_brightness"));
        sr_named_charts_free(c, n);
        for (size_t i = 0; i < s.n_trials; i++) {
            n = sr_build_trial_charts(&s, &a, i, &c);
            sr_named_charts_free(c, n);
        }
        sr_analysis_free(&a);
    }

    /* per trial: the key metric only, ids made safe */
    n = sr_build_trial_charts(&s, NULL, 1, &c);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(c[0].id, "trial-run_2_x-mean_brightness");
    ck_assert_uint_eq(c[0].chart.n_series, 1);
    render_all(c, n, dir);
    sr_named_charts_free(c, n);
    test_rmtree(dir);
    free(dir);
    sr_sweep_free(&s);

    /* many trials and nothing scored: none stands out, and the chart says so */
    hand_sweep(&s, 8);
    n = sr_build_sweep_charts(&s, NULL, &c);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(c[0].chart.n_series, 8);
    ck_assert_uint_eq(count_highlighted(&c[0].chart), 0);
    ck_assert_str_eq(c[0].chart.subtitle, "no trial has a best score yet: every trial in grey");
    sr_named_charts_free(c, n);
    sr_sweep_free(&s);

    /* six trials, five scored and one not (still running): each has a
     * colour of its own and a legend entry, the unscored one after the
     * ranked ones */
    hand_sweep(&s, 6);
    const double six_best[] = {1.0, 1.0 / 2, NAN, 1.0 / 4, 1.0 / 5, 1.0 / 6};
    sr_analysis six = fake_analysis(&s, six_best);
    n = sr_build_sweep_charts(&s, &six, &c);
    const sr_chart *mb6 = &need_chart(c, n, "metric-mean_brightness")->chart;
    ck_assert_uint_eq(mb6->n_series, 6);
    ck_assert_uint_eq(count_highlighted(mb6), 6);
    for (size_t i = 0; i < 6; i++)
        for (size_t j = i + 1; j < 6; j++)
            ck_assert_int_ne(mb6->series[i].color, mb6->series[j].color);
    ck_assert(!mb6->subtitle || !strstr(mb6->subtitle, "grey"));
    /* the best (trial 6: 1/6) has the first colour, the unscored one the last */
    ck_assert_int_eq(mb6->series[5].color, 0);
    int max_color = 0;
    for (size_t i = 0; i < 6; i++)
        max_color = mb6->series[i].color > max_color ? mb6->series[i].color : max_color;
    ck_assert_int_eq(mb6->series[2].color, max_color);
    sr_named_charts_free(c, n);
    fake_analysis_free(&six, &s);
    sr_sweep_free(&s);

    /* eight trials, two of them scored: those two in colour, and the grey
     * ones are said to have no score (not to be outside the best five) */
    hand_sweep(&s, 8);
    const double two_best[] = {0.5, 1.5, NAN, NAN, NAN, NAN, NAN, NAN};
    sr_analysis two = fake_analysis(&s, two_best);
    n = sr_build_sweep_charts(&s, &two, &c);
    const sr_chart *mb8 = &need_chart(c, n, "metric-mean_brightness")->chart;
    ck_assert_uint_eq(count_highlighted(mb8), 2);
    ck_assert_str_eq(mb8->subtitle, "in grey: 6 trials without a best score");
    sr_named_charts_free(c, n);
    fake_analysis_free(&two, &s);
    sr_sweep_free(&s);

    /* PED-ANOVA's importance: a parameter every trial shares (importance 0,
     * no correlation) is left out and counted in the subtitle */
    hand_sweep(&s, 3);
    sr_param_analysis params[3] = {
        {.name = "learning_rate", .spearman = 0.5, .importance = 0.7},
        {.name = "max_train_epochs", .spearman = NAN, .importance = 0, .constant = 1},
        {.name = "optimizer_type", .spearman = NAN, .importance = 0.3, .categorical = 1},
    };
    sr_analysis imp;
    memset(&imp, 0, sizeof imp);
    imp.params = params;
    imp.n_params = 3;
    n = sr_build_sweep_charts(&s, &imp, &c);
    const sr_chart *ic = &need_chart(c, n, "importance")->chart;
    ck_assert_uint_eq(ic->x.n_categories, 2);
    ck_assert_str_eq(ic->x.categories[0], "learning_rate");
    ck_assert_str_eq(ic->x.categories[1], "optimizer_type");
    ck_assert_ptr_nonnull(strstr(ic->subtitle, "1 parameter the trials all share left out"));
    sr_named_charts_free(c, n);
    sr_sweep_free(&s);

    /* nothing at all */
    hand_sweep(&s, 0);
    c = (sr_named_chart *)1;
    ck_assert_uint_eq(sr_build_sweep_charts(&s, NULL, &c), 0);
    ck_assert_ptr_null(c);
    ck_assert_uint_eq(sr_build_trial_charts(&s, NULL, 0, &c), 0);
    ck_assert_ptr_null(c);
    sr_named_charts_free(NULL, 0);
    sr_sweep_free(&s);
}
END_TEST

/* Trial folders and metric names of any length (up to the 255 bytes of a
 * file name) give chart ids that still fit in a file name with their
 * extension, and different long names stay apart. */
START_TEST(test_long_names)
{
    sr_sweep s;
    hand_sweep(&s, 2);
    for (size_t i = 0; i < 2; i++) {
        free(s.trials[i].name);
        s.trials[i].name = xasprintf("trial_%0250zu", i + 1);
    }
    char metric[256];
    memset(metric, 'm', 255);
    metric[255] = '\0';
    sr_metrics_set(&s.trials[0].ckpts[0].metrics, metric, 1.0);
    sr_metrics_set(&s.trials[0].ckpts[1].metrics, metric, 2.0);
    char *dir = test_tmpdir("charts-long");
    char *ids[2] = {NULL, NULL};
    for (size_t i = 0; i < 2; i++) {
        sr_named_chart *c;
        size_t n = sr_build_trial_charts(&s, NULL, i, &c);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_le(strlen(c[0].id), SR_FILE_NAME_STEM_MAX);
        ck_assert(sr_str_has_prefix(c[0].id, "trial-trial_0000"));
        ids[i] = xstrdup(c[0].id);
        render_all(c, n, dir); /* writes <id>.png */
        sr_named_charts_free(c, n);
    }
    ck_assert_str_ne(ids[0], ids[1]);
    free(ids[0]);
    free(ids[1]);
    sr_named_chart *c;
    size_t n = sr_build_sweep_charts(&s, NULL, &c);
    ck_assert_uint_eq(n, 2);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_le(strlen(c[i].id), SR_FILE_NAME_STEM_MAX);
    render_all(c, n, dir);
    sr_named_charts_free(c, n);
    test_rmtree(dir);
    free(dir);
    sr_sweep_free(&s);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("charts");
    TCase *tc = tcase_create("synthetic");
    tcase_add_checked_fixture(tc, synth_setup, synth_teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_sweep_chart_list);
    tcase_add_test(tc, test_sweep_series_and_highlights);
    tcase_add_test(tc, test_sweep_optuna_and_params);
    tcase_add_test(tc, test_trial_charts);
    tcase_add_test(tc, test_maximize);
    tcase_add_test(tc, test_prefer_earlier_label);
    tcase_add_test(tc, test_render_every_chart);
    suite_add_tcase(s, tc);
    TCase *hand = tcase_create("hand-made");
    tcase_add_test(hand, test_unvarying_metrics);
    tcase_add_test(hand, test_hand_made_no_scores);
    tcase_add_test(hand, test_long_names);
    suite_add_tcase(s, hand);
    return s;
}
