/* render.c - summary.json, charts and the HTML site, published as a whole. */
#include "config.h"

#include "render.h"
#include "atomic_file.h"
#include "chart.h"
#include "charts.h"
#include "html.h"
#include "pdf_archive.h"
#include "pdf_report.h"
#include "json.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void iso_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%S%z", &tm);
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

static int write_charts(const char *dir, const char *sub, sr_named_chart *charts, size_t n, sr_problems *problems,
                        char *err, size_t errlen)
{
    char *cdir = sr_path_join(dir, sub);
    if (sr_mkdir_p(cdir, 0755) != 0) {
        snprintf(err, errlen, "%s: cannot create: %s", cdir, strerror(errno));
        free(cdir);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char why[512];
        char *svg = sr_chart_svg(&charts[i].chart, 800, 480, why, sizeof why);
        if (!svg) {
            sr_problems_add(problems, charts[i].id, "chart not drawn: %s", why);
            continue;
        }
        char *name = xasprintf("%s.svg", charts[i].id);
        int rc = write_text(cdir, name, svg, err, errlen);
        free(name);
        free(svg);
        if (rc != 0) {
            free(cdir);
            return -1;
        }
        char *png = xasprintf("%s/%s.png", cdir, charts[i].id);
        if (sr_chart_png(&charts[i].chart, 800, 480, png, why, sizeof why) != 0)
            sr_problems_add(problems, png, "chart not drawn: %s", why);
        free(png);
    }
    free(cdir);
    return 0;
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

int sr_render(const char *sweep_path, const sr_render_opts *o, sr_render_result *res, sr_problems *problems,
              char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    sr_sweep s;
    if (sr_scan_with(sweep_path, &o->scan, &s, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < s.problems.n; i++)
        sr_problems_add(problems, s.problems.items[i].path, "%s", s.problems.items[i].problem);
    sr_analysis a;
    if (sr_analyze(&s, &o->analysis, &a, err, errlen) != 0) {
        sr_sweep_free(&s);
        return -2;
    }
    char *out = o->out_dir ? xstrdup(o->out_dir) : sr_path_join(s.path, "sweepreport");
    char *parent = xstrdup(out);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent)
        *slash = '\0';
    else if (slash)
        slash[1] = '\0';
    else
        strcpy(parent, ".");
    int rc = -1;
    char *tmp = NULL;
    if (sr_mkdir_p(parent, 0755) != 0) {
        snprintf(err, errlen, "%s: cannot create: %s", parent, strerror(errno));
        goto done;
    }
    tmp = xasprintf("%s/.%s.tmp-XXXXXX", parent, sr_path_base(out));
    if (!mkdtemp(tmp)) {
        snprintf(err, errlen, "%s: cannot create a folder beside it: %s", out, strerror(errno));
        goto done;
    }
    chmod(tmp, 0755);
    char when[40];
    iso_now(when, sizeof when);
    cJSON *summary = sr_summary_json(&s, &a, when);
    char *text = sr_json_print(summary);
    rc = write_text(tmp, "summary.json", text, err, errlen);
    free(text);
    if (rc == 0) {
        /* the pages link to the sweep relative to tmp, which sits where OUT will */
        sr_html_opts ho = {o->templates_dir, o->self_contained};
        rc = sr_html_write(tmp, &s, &a, summary, &ho, err, errlen);
    }
    cJSON_Delete(summary);
    sr_named_chart *charts = NULL;
    size_t n = 0;
    if (rc == 0) {
        n = sr_build_sweep_charts(&s, &a, &charts);
        rc = write_charts(tmp, "charts", charts, n, problems, err, errlen);
    }
    sr_named_charts_free(charts, n);
    /* per-trial small multiples */
    for (size_t t = 0; rc == 0 && t < s.n_trials; t++) {
        sr_named_chart *tc = NULL;
        size_t tn = sr_build_trial_charts(&s, &a, t, &tc);
        rc = write_charts(tmp, "charts/trials", tc, tn, problems, err, errlen);
        n += tn;
        sr_named_charts_free(tc, tn);
    }
    if (rc == 0) {
        /* the PDF is an extra: a failure is reported, the rest is published */
        char *pdf = sr_path_join(tmp, "report.pdf");
        char why[512];
        if (sr_pdf_report_write(pdf, &s, &a, problems, why, sizeof why) != 0)
            sr_problems_add(problems, pdf, "%s", why);
        free(pdf);
    }
    if (rc == 0)
        rc = publish(tmp, out, err, errlen);
    if (rc == 0) {
        snprintf(res->out_dir, sizeof res->out_dir, "%s", out);
        res->charts = n;
        if (a.has_best) {
            const sr_trial *t = &s.trials[a.best.trial];
            const sr_checkpoint *c = &t->ckpts[a.best.ckpt];
            res->has_best = 1;
            snprintf(res->best, sizeof res->best, "%s (epoch %ld, score %.6g)", c->rel_path, c->epoch, a.best_score);
        }
        if (o->archive)
            res->archives = sr_pdf_archive_sweep(&s, &a, problems);
    } else if (access(tmp, F_OK) == 0) {
        sr_remove_tree(tmp);
    }
done:
    free(tmp);
    free(parent);
    free(out);
    sr_analysis_free(&a);
    sr_sweep_free(&s);
    return rc;
}
