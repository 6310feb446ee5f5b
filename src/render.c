/* render.c - summary.json, charts and the HTML site, published as a whole. */
#include "config.h"

#include "render.h"
#include "atomic_file.h"
#include "fingerprint.h"
#include "history.h"
#include "since_last_run.h"
#include "chart.h"
#include "charts.h"
#include "html.h"
#include "pdf_archive.h"
#include "pdf_report.h"
#include "json.h"
#include "out_dir.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* RFC 3339 in UTC, as the lock and the job's messages write times. */
static void iso_time(time_t t, char *buf, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void sr_render_defaults(sr_render_opts *o)
{
    memset(o, 0, sizeof *o);
    o->html = 1;
    o->pdf = 1;
}

static void step(const sr_render_opts *o, size_t *done, const char *item)
{
    ++*done;
    if (o->progress)
        sr_progress_update(o->progress, *done, item, NULL);
}

static int write_text(const char *dir, const char *name, const char *text, char *err, size_t errlen)
{
    char *p = sr_path_join(dir, name);
    int rc = sr_write_file_atomic(p, text, strlen(text), SR_ATOMIC_REPLACE);
    if (rc != 0)
        snprintf(err, errlen, "%s: cannot write: %s", p, strerror(errno));
    free(p);
    return rc;
}

/* Charts written together: the sweep's, or one trial's small multiples. */
typedef struct {
    sr_named_chart *charts;
    size_t n;
    const char *sub; /* folder under the report: charts, charts/trials */
    int w, h;        /* the size they are drawn at, in pixels */
    char *step;      /* the progress item once all of them are written */
    char **svg;      /* n: each chart as SVG (draw_svgs), NULL where it could not be drawn ... */
    char **why;      /* ... and then why */
} chart_group;

/* The place of every chart of the groups in one list: group[k], index[k]. */
static size_t flatten(const chart_group *g, size_t ng, size_t **group, size_t **index)
{
    size_t total = 0;
    for (size_t i = 0; i < ng; i++)
        total += g[i].n;
    *group = xcalloc(total ? total : 1, sizeof **group);
    *index = xcalloc(total ? total : 1, sizeof **index);
    for (size_t i = 0, k = 0; i < ng; i++)
        for (size_t j = 0; j < g[i].n; j++, k++) {
            (*group)[k] = i;
            (*index)[k] = j;
        }
    return total;
}

/* Draws every chart of every group as SVG, all in one parallel loop: the
 * HTML pages show these very documents, and the chart files are they. */
static void draw_svgs(chart_group *g, size_t ng)
{
    size_t *group, *index;
    size_t total = flatten(g, ng, &group, &index);
    for (size_t i = 0; i < ng; i++) {
        g[i].svg = xcalloc(g[i].n ? g[i].n : 1, sizeof *g[i].svg);
        g[i].why = xcalloc(g[i].n ? g[i].n : 1, sizeof *g[i].why);
    }
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
    for (size_t k = 0; k < total; k++) {
        chart_group *gr = &g[group[k]];
        size_t j = index[k];
        char why[SR_MSG_MAX];
        gr->svg[j] = sr_chart_svg(&gr->charts[j].chart, gr->w, gr->h, why, sizeof why);
        if (!gr->svg[j])
            gr->why[j] = xstrdup(why);
    }
    free(index);
    free(group);
}

static void free_groups(chart_group *g, size_t ng)
{
    for (size_t i = 0; i < ng; i++) {
        for (size_t j = 0; j < g[i].n && g[i].svg; j++) {
            free(g[i].svg[j]);
            free(g[i].why[j]);
        }
        free(g[i].svg);
        free(g[i].why);
        sr_named_charts_free(g[i].charts, g[i].n);
        free(g[i].step);
    }
    free(g);
}

/* Writes every chart of every group as SVG (drawn by draw_svgs) and PNG,
 * all of them in one parallel loop (a group alone may have fewer charts
 * than there are threads).  Progress comes group by group, in order;
 * problems in chart order.  Returns 0, or -1 when a file cannot be
 * written. */
static int write_charts(const char *dir, const char *published, chart_group *g, size_t ng, const sr_render_opts *o,
                        size_t *done, sr_problems *problems, char *err, size_t errlen)
{
    for (size_t i = 0; i < ng; i++) {
        char *cdir = sr_path_join(dir, g[i].sub);
        int rc = sr_mkdir_p(cdir, 0777);
        if (rc != 0)
            snprintf(err, errlen, "%s: cannot create: %s", cdir, strerror(errno));
        free(cdir);
        if (rc != 0)
            return -1;
    }
    size_t *group, *index;
    size_t total = flatten(g, ng, &group, &index);
    size_t *left = xcalloc(ng ? ng : 1, sizeof *left);
    for (size_t i = 0; i < ng; i++)
        left[i] = g[i].n;
    char **png_why = xcalloc(total ? total : 1, sizeof *png_why);
    char **fail = xcalloc(total ? total : 1, sizeof *fail);
    size_t next_step = 0;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
    for (size_t k = 0; k < total; k++) {
        const chart_group *gr = &g[group[k]];
        const size_t j = index[k];
        const sr_named_chart *c = &gr->charts[j];
        char why[SR_MSG_MAX];
        if (gr->svg[j]) {
            char *cdir = sr_path_join(dir, gr->sub);
            char *name = xasprintf("%s.svg", c->id);
            if (write_text(cdir, name, gr->svg[j], why, sizeof why) != 0)
                fail[k] = xstrdup(why);
            free(name);
            char *png = xasprintf("%s/%s.png", cdir, c->id);
            int prc = fail[k] ? 0 : sr_chart_png(&c->chart, gr->w, gr->h, png, why, sizeof why);
            if (prc == -2) /* the output, not the chart: the report cannot be written */
                fail[k] = xstrdup(why);
            else if (prc != 0)
                png_why[k] = xstrdup(why);
            free(png);
            free(cdir);
        }
#ifdef _OPENMP
#pragma omp critical(sr_render_charts_progress)
#endif
        {
            left[group[k]]--;
            for (; next_step < ng && left[next_step] == 0; next_step++)
                step(o, done, g[next_step].step);
        }
    }
    for (; next_step < ng; next_step++) /* groups without charts */
        step(o, done, g[next_step].step);
    int rc = 0;
    for (size_t k = 0; k < total; k++) {
        const chart_group *gr = &g[group[k]];
        const sr_named_chart *c = &gr->charts[index[k]];
        if (!gr->svg[index[k]])
            sr_problems_add(problems, c->id, "chart not drawn: %s", gr->why[index[k]]);
        if (png_why[k]) {
            /* named where it would have been published */
            char *staged = xasprintf("%s/%s/%s.png", dir, gr->sub, c->id);
            char *png = xasprintf("%s/%s/%s.png", published, gr->sub, c->id);
            sr_problems_add(problems, png, "chart not drawn: %s", sr_reason_after_path(png_why[k], staged));
            free(png);
            free(staged);
        }
        if (fail[k] && rc == 0) {
            snprintf(err, errlen, "%s", fail[k]);
            rc = -1;
        }
        free(png_why[k]);
        free(fail[k]);
    }
    free(fail);
    free(png_why);
    free(left);
    free(index);
    free(group);
    return rc;
}

/* Renders into a hidden folder beside the output, then swaps it in with one
 * atomic exchange: a reader sees the old report or the new one, never a mix
 * and never none.  Where the exchange is not supported, two renames. */
static int publish(const char *tmp, const char *out, char *err, size_t errlen)
{
    struct stat st;
    if (stat(out, &st) != 0) {
        if (rename(tmp, out) != 0) {
            snprintf(err, errlen, "%s: cannot publish: %s", out, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, out, RENAME_EXCHANGE) == 0) {
        sr_remove_tree(tmp); /* now the previous report */
        return 0;
    }
    char *old = xasprintf("%s.old-%ld", out, (long)getpid());
    int rc = 0;
    if (rename(out, old) != 0) {
        snprintf(err, errlen, "%s: cannot replace: %s", out, strerror(errno));
        rc = -1;
    } else if (rename(tmp, out) != 0) {
        snprintf(err, errlen, "%s: cannot publish: %s", out, strerror(errno));
        rename(old, out);
        rc = -1;
    } else {
        sr_remove_tree(old);
    }
    free(old);
    return rc;
}

/* What a render's output depends on besides the summary: the options, as
 * text for the fingerprint (some of them show in the summary as well). */
static char *settings_text(const sr_render_opts *o, const char *out)
{
    return xasprintf("profile=%s html=%d pdf=%d archive=%d since_last_run=%d history=%d self_contained=%d "
                     "score=%s maximize=%d prefer_earlier=%.17g settle=%.17g out=%s",
                     o->profile ? o->profile : "summary", o->html, o->pdf, o->archive, o->since_last_run, o->history,
                     o->self_contained, o->analysis.expression ? o->analysis.expression : "", o->analysis.maximize,
                     o->analysis.prefer_earlier, o->scan.settle, out);
}

static cJSON *load_previous(const char *out)
{
    char *p = sr_path_join(out, "summary.json");
    char why[SR_MSG_MAX];
    cJSON *doc = NULL;
    struct stat st;
    if (stat(p, &st) == 0)
        doc = sr_json_load(p, why, sizeof why);
    free(p);
    if (doc && !cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        doc = NULL;
    }
    return doc;
}

static int has_file(const char *dir, const char *name)
{
    char *p = sr_path_join(dir, name);
    struct stat st;
    int ok = stat(p, &st) == 0 && S_ISREG(st.st_mode);
    free(p);
    return ok;
}

/* The published report was made from this very fingerprint and is whole
 * (with the archive PDFs, when asked for, beside every trial that has
 * checkpoints). */
static int up_to_date(const cJSON *prev, const char *out, const char *fp, const sr_render_opts *o, const sr_sweep *s)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(prev, "fingerprint");
    if (!cJSON_IsString(f) || strcmp(f->valuestring, fp) != 0)
        return 0;
    if (o->html && !has_file(out, "index.html"))
        return 0;
    if (o->pdf && !has_file(out, "report.pdf"))
        return 0;
    for (size_t t = 0; o->archive && t < s->n_trials; t++) {
        if (s->trials[t].n_ckpts == 0)
            continue;
        char *p = sr_pdf_archive_path(&s->trials[t]);
        struct stat st;
        int there = stat(p, &st) == 0 && S_ISREG(st.st_mode);
        free(p);
        if (!there)
            return 0;
    }
    return 1;
}

/* The staged report folder (mkdtemp's, 0700) gets the modes and group of
 * the report folder it will replace, so that a folder prepared for a team
 * stays theirs; a first report gets the modes of any new folder (the
 * setgid bit of a shared parent, which it inherited, kept).  While it is
 * being written (staging) its owner may write it whatever the modes it
 * will have, and the group is set at once, so that what goes in inherits
 * it from a setgid folder. */
static void report_folder_modes(const char *tmp, const char *out, int staging)
{
    struct stat os, ts;
    mode_t m;
    if (stat(out, &os) == 0 && S_ISDIR(os.st_mode)) {
        m = os.st_mode & 07777;
        if (staging && chown(tmp, (uid_t)-1, os.st_gid) != 0) {
            /* a group one does not belong to: the modes still hold */
        }
    } else {
        m = 0777 & ~(mode_t)sr_umask();
        if (stat(tmp, &ts) == 0)
            m |= ts.st_mode & S_ISGID;
    }
    (void)chmod(tmp, staging ? m | S_IRWXU : m);
}

/* The trials that get an archive PDF: those with checkpoints. */
static size_t archives_wanted(const sr_sweep *s)
{
    size_t n = 0;
    for (size_t t = 0; t < s->n_trials; t++)
        n += s->trials[t].n_ckpts > 0;
    return n;
}

/* The problems found while rendering (those of problems that the sweep's
 * list, already in summary.json, lacks) added to summary.json's list. */
static void add_render_problems(cJSON *summary, const sr_problems *listed, const sr_problems *problems)
{
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(summary, "problems");
    if (!cJSON_IsArray(arr))
        return;
    for (size_t i = 0; i < problems->n; i++) {
        if (sr_problems_has(listed, problems->items[i].path, problems->items[i].problem))
            continue;
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "path", problems->items[i].path);
        cJSON_AddStringToObject(p, "problem", problems->items[i].problem);
        cJSON_AddItemToArray(arr, p);
    }
    sr_json_repair_utf8(arr->child);
}

static void fill_best(sr_render_result *res, const sr_sweep *s, const sr_analysis *a)
{
    res->best_epoch = -1;
    res->score_nonfinite = a->n_score_nonfinite;
    res->any_scored = isfinite(a->score_min);
    if (a->expression && strcmp(a->expression, "pixar_score") != 0)
        snprintf(res->score_expression, sizeof res->score_expression, "%s", a->expression);
    if (!a->has_best)
        return;
    const sr_trial *t = &s->trials[a->best.trial];
    const sr_checkpoint *c = &t->ckpts[a->best.ckpt];
    res->has_best = 1;
    snprintf(res->best, sizeof res->best, "%s (epoch %ld, score %.6g)", c->rel_path, c->epoch, a->best_score);
    snprintf(res->best_trial, sizeof res->best_trial, "%s", t->name);
    snprintf(res->best_path, sizeof res->best_path, "%s", c->path);
    res->best_epoch = c->epoch;
    res->best_score = a->best_score;
}

typedef struct {
    const sr_render_opts *o;
    size_t *done;
} page_steps;

static void html_page_done(void *ctx, const char *page)
{
    page_steps *ps = ctx;
    step(ps->o, ps->done, page);
}

int sr_render(const char *sweep_path, const sr_render_opts *o, sr_render_result *res, sr_problems *problems,
              char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    res->best_epoch = -1;
    /* the published summary, read once: whether OUT may be replaced, and
     * whether it is up to date or what changed since */
    char *out = sr_out_dir(sweep_path, o->out_dir);
    cJSON *prev = load_previous(out);
    int rc = sr_out_dir_check(sweep_path, o->out_dir, prev, err, errlen) != 0 ? -2 : 0;
    sr_sweep s;
    if (rc == 0 && sr_scan_with(sweep_path, &o->scan, &s, err, errlen) != 0)
        rc = -1;
    if (rc != 0) {
        cJSON_Delete(prev);
        free(out);
        return rc;
    }
    /* Problems the caller found before (eval's, in run) are listed in
     * summary.json after the scan's; the caller's list gets the scan's. */
    size_t scanned = s.problems.n;
    for (size_t i = 0; i < problems->n; i++)
        if (!sr_problems_has(&s.problems, problems->items[i].path, problems->items[i].problem))
            sr_problems_add(&s.problems, problems->items[i].path, "%s", problems->items[i].problem);
    for (size_t i = 0; i < scanned; i++)
        if (!sr_problems_has(problems, s.problems.items[i].path, s.problems.items[i].problem))
            sr_problems_add(problems, s.problems.items[i].path, "%s", s.problems.items[i].problem);
    for (size_t i = 0; i < s.n_trials; i++)
        for (size_t j = 0; j < s.trials[i].n_ckpts; j++)
            res->pending += s.trials[i].ckpts[j].status == SR_CKPT_PENDING;
    sr_analysis a;
    if (sr_analyze(&s, &o->analysis, &a, err, errlen) != 0) {
        sr_sweep_free(&s);
        cJSON_Delete(prev);
        free(out);
        return -2;
    }
    fill_best(res, &s, &a);
    snprintf(res->out_dir, sizeof res->out_dir, "%s", out);
    char *parent = sr_out_parent(out);
    rc = -1;
    char *tmp = NULL;
    cJSON *summary = NULL;

    /* the fingerprint of everything the report is made from; the time is
     * not part of it (generated_at is null here) */
    summary = sr_summary_json(&s, &a, NULL);
    cJSON_AddStringToObject(summary, "profile", o->profile ? o->profile : "summary");
    sr_html_opts ho;
    memset(&ho, 0, sizeof ho);
    ho.templates_dir = o->templates_dir;
    ho.self_contained = o->self_contained;
    ho.with_summary = 1;
    ho.with_pdf = o->pdf;
    char *tdir = o->html ? sr_html_templates_dir(&ho) : NULL;
    char *settings = settings_text(o, out);
    sr_report_fingerprint(&s, summary, tdir, settings, res->fingerprint, sizeof res->fingerprint);
    free(settings);
    free(tdir);
    const cJSON *pgen = prev ? cJSON_GetObjectItemCaseSensitive(prev, "generated_at") : NULL;
    if (cJSON_IsString(pgen))
        snprintf(res->previous, sizeof res->previous, "%s", pgen->valuestring);
    if (!o->force && prev && up_to_date(prev, out, res->fingerprint, o, &s)) {
        res->unchanged = 1;
        res->wrote_html = o->html;
        res->wrote_pdf = o->pdf;
        rc = 0;
        goto done;
    }
    cJSON_AddStringToObject(summary, "fingerprint", res->fingerprint);
    if (o->since_last_run)
        cJSON_AddItemToObject(summary, "since_last_run", sr_since_last_run(prev, summary));
    time_t now = time(NULL);
    char when[40];
    iso_time(now, when, sizeof when);
    cJSON_ReplaceItemInObjectCaseSensitive(summary, "generated_at", cJSON_CreateString(when));

    /* steps: summary.json; each trial page, the index, the sweep charts and
     * each trial's charts; the PDF */
    size_t done = 0;
    if (o->progress)
        o->progress->total = 1 + (o->html ? 2 + 2 * s.n_trials : 0) + (o->pdf ? 1 : 0);

    if (sr_mkdir_p(parent, 0777) != 0) {
        snprintf(err, errlen, "%s: cannot create: %s", parent, strerror(errno));
        goto done;
    }
    tmp = xasprintf("%s/.%s" SR_TEMP_MARK "XXXXXX", parent, sr_path_base(out));
    if (!mkdtemp(tmp)) {
        snprintf(err, errlen, "%s: cannot create a folder beside it: %s", out, strerror(errno));
        free(tmp);
        tmp = NULL;
        goto done;
    }
    report_folder_modes(tmp, out, 1);
    rc = 0;
    if (o->html) {
        /* the sweep's charts, then each trial's small multiples, drawn once
         * for the pages and the chart files */
        size_t ng = 1 + s.n_trials;
        chart_group *g = xcalloc(ng, sizeof *g);
        g[0].n = sr_build_sweep_charts(&s, &a, &g[0].charts);
        g[0].sub = "charts";
        g[0].w = SR_CHART_WIDTH;
        g[0].h = SR_CHART_HEIGHT;
        g[0].step = xstrdup("charts");
        for (size_t t = 0; t < s.n_trials; t++) {
            g[1 + t].n = sr_build_trial_charts(&s, &a, t, &g[1 + t].charts);
            g[1 + t].sub = "charts/trials";
            g[1 + t].w = SR_SMALL_CHART_WIDTH;
            g[1 + t].h = SR_SMALL_CHART_HEIGHT;
            g[1 + t].step = xasprintf("charts/trials of %s", s.trials[t].name);
        }
        draw_svgs(g, ng);
        sr_html_drawn *drawn = xcalloc(ng, sizeof *drawn);
        for (size_t i = 0; i < ng; i++)
            drawn[i] = (sr_html_drawn){g[i].charts, g[i].n, g[i].svg, g[i].why};
        /* the pages link to the sweep relative to tmp, which sits where OUT will */
        page_steps ps = {o, &done};
        ho.progress = html_page_done;
        ho.progress_ctx = &ps;
        ho.sweep_drawn = &drawn[0];
        ho.trial_drawn = &drawn[1];
        rc = sr_html_write(tmp, &s, &a, summary, &ho, err, errlen);
        if (rc == 0)
            rc = write_charts(tmp, out, g, ng, o, &done, problems, err, errlen);
        res->charts = 0;
        for (size_t i = 0; i < ng; i++)
            res->charts += g[i].n;
        free(drawn);
        free_groups(g, ng);
        res->wrote_html = rc == 0;
    }
    if (rc == 0 && o->pdf) {
        /* the PDF is an extra: a failure is reported, the rest is published */
        char *pdf = sr_path_join(tmp, "report.pdf");
        char why[SR_MSG_MAX];
        if (sr_pdf_report_write(pdf, &s, &a, problems, why, sizeof why) != 0) {
            /* named where it would have been published */
            char *published = sr_path_join(out, "report.pdf");
            sr_problems_add(problems, published, "%s", sr_reason_after_path(why, pdf));
            free(published);
        } else {
            res->wrote_pdf = 1;
        }
        free(pdf);
        step(o, &done, "report.pdf");
    }
    if (rc == 0 && o->archive) {
        res->archives = sr_pdf_archive_sweep(&s, &a, problems);
        res->archives_wanted = archives_wanted(&s);
    }
    /* summary.json last, so that it lists what rendering found too: a chart
     * not drawn, a PDF not written */
    if (rc == 0) {
        add_render_problems(summary, &s.problems, problems);
        char *text = sr_json_print(summary);
        rc = write_text(tmp, "summary.json", text, err, errlen);
        if (rc == 0)
            rc = sr_history_carry(out, tmp, o->history, text, now, res->history_added, sizeof res->history_added,
                                  err, errlen);
        free(text);
        step(o, &done, "summary.json");
    }
    if (rc == 0) {
        report_folder_modes(tmp, out, 0);
        rc = publish(tmp, out, err, errlen);
    }
    if (rc != 0 && access(tmp, F_OK) == 0)
        sr_remove_tree(tmp);
done:
    cJSON_Delete(summary);
    cJSON_Delete(prev);
    free(tmp);
    free(parent);
    free(out);
    sr_analysis_free(&a);
    sr_sweep_free(&s);
    return rc;
}
