/* html.c - the HTML report: index, one page per trial, assets. */
#include "config.h"

#include "html.h"
#include "atomic_file.h"
#include "chart.h"
#include "charts.h"
#include "contact_sheet.h"
#include "mustache.h"
#include "num_format.h"
#include "thumbs.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SHEET_CELL SR_THUMB_SIDE /* sheet cells as large as the thumbnails */
#define SHEET_COLUMNS 32         /* samples of a checkpoint the sheet shows at most */
#define SHEET_ROWS 100           /* checkpoints in one image of the sheet at most */

static void add_flags(cJSON *o);

/* ---- templates ---------------------------------------------------------- */

#define MAX_TEMPLATES 32

typedef struct {
    char *dir;
    char *names[MAX_TEMPLATES];
    char *texts[MAX_TEMPLATES];
    size_t n;
} tpl_set;

char *sr_html_templates_dir(const sr_html_opts *o)
{
    if (o && o->templates_dir)
        return xstrdup(o->templates_dir);
    return sr_data_dir("SR_TEMPLATES", "templates");
}

/* The text of a template, read on first use; pages are rendered by several
 * threads at once, so one at a time here. */
static const char *tpl_load(tpl_set *t, const char *name);

static const char *tpl_get(tpl_set *t, const char *name)
{
    const char *text;
#ifdef _OPENMP
#pragma omp critical(sr_html_templates)
#endif
    text = tpl_load(t, name);
    return text;
}

static const char *tpl_load(tpl_set *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->names[i], name))
            return t->texts[i];
    if (t->n >= MAX_TEMPLATES || strchr(name, '/') || name[0] == '.')
        return NULL;
    char *file = name[0] && strchr(name, '.') ? xstrdup(name) : xasprintf("%s.mustache", name);
    char *p = sr_path_join(t->dir, file);
    free(file);
    char *text = NULL;
    size_t len = 0;
    char why[SR_MSG_MAX];
    if (sr_read_file(p, 16u << 20, &text, &len, why, sizeof why) != 0)
        text = NULL;
    free(p);
    if (!text)
        return NULL;
    t->names[t->n] = xstrdup(name);
    t->texts[t->n] = text;
    return t->texts[t->n++];
}

static const char *partial_cb(void *ctx, const char *name)
{
    return tpl_get(ctx, name);
}

static void tpl_free(tpl_set *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->names[i]);
        free(t->texts[i]);
    }
    free(t->dir);
}

/* ---- small helpers ------------------------------------------------------ */

static int write_text(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
    if (sr_write_file_atomic(path, text, len, SR_ATOMIC_REPLACE) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int render_page(tpl_set *t, const char *name, const cJSON *model, const char *path, char *err,
                       size_t errlen)
{
    const char *text = tpl_get(t, name);
    if (!text) {
        snprintf(err, errlen, "%s/%s.mustache: cannot read the template", t->dir, name);
        return -1;
    }
    char why[SR_MSG_MAX];
    char *html = sr_mustache_render_text(text, model, partial_cb, t, why, sizeof why);
    if (!html) {
        snprintf(err, errlen, "%s/%s.mustache: %s", t->dir, name, why);
        return -1;
    }
    int rc = write_text(path, html, strlen(html), err, errlen);
    free(html);
    return rc;
}

static void fmt_num(double v, char *buf, size_t len)
{
    if (!isfinite(v))
        snprintf(buf, len, "%s", isnan(v) ? "" : v > 0 ? "inf" : "-inf");
    else
        snprintf(buf, len, "%.4g", v);
}

/* A number cell: display text and a sortable value (empty when unknown). */
static cJSON *num_cell(double v)
{
    cJSON *o = cJSON_CreateObject();
    char buf[64];
    fmt_num(v, buf, sizeof buf);
    cJSON_AddStringToObject(o, "text", buf[0] ? buf : "\xe2\x80\x94");
    char key[64] = "";
    if (isfinite(v))
        snprintf(key, sizeof key, "%.17g", v);
    cJSON_AddStringToObject(o, "sort", key);
    return o;
}

/* num_cell in a column's format (num_format.h). */
static cJSON *num_cell_in(double v, int decimals)
{
    cJSON *o = num_cell(v);
    if (decimals >= 0 && isfinite(v)) {
        char buf[64];
        sr_format_in_column(v, decimals, buf, sizeof buf);
        cJSON_ReplaceItemInObjectCaseSensitive(o, "text", cJSON_CreateString(buf));
    }
    return o;
}

static char *json_value_text(const cJSON *v)
{
    if (cJSON_IsString(v))
        return xstrdup(v->valuestring);
    if (cJSON_IsNumber(v)) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.6g", v->valuedouble);
        return xstrdup(buf);
    }
    if (cJSON_IsBool(v))
        return xstrdup(cJSON_IsTrue(v) ? "true" : "false");
    if (cJSON_IsNull(v))
        return xstrdup("null");
    char *p = cJSON_PrintUnformatted(v);
    char *r = xstrdup(p ? p : "");
    cJSON_free(p);
    return r;
}

static cJSON *params_list(const cJSON *params)
{
    cJSON *arr = cJSON_CreateArray();
    const cJSON *it;
    cJSON_ArrayForEach(it, params)
    {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", it->string ? it->string : "");
        char *v = json_value_text(it);
        cJSON_AddStringToObject(o, "value", v);
        free(v);
        cJSON_AddBoolToObject(o, "number", cJSON_IsNumber(it)); /* never broken across lines */
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* Percent-encodes a path for an href/src (keeps / and unreserved bytes). */
static void url_append(sr_buf *b, const char *p)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)p; *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            strchr("/-_.~", *c)) {
            sr_buf_append(b, c, 1);
        } else {
            char e[3] = {'%', hex[*c >> 4], hex[*c & 15]};
            sr_buf_append(b, e, 3);
        }
    }
}

/* Relative URL from folder from_dir to target (both resolved on disk when
 * possible); a target that cannot be resolved is linked by its path. */
static char *rel_url(const char *from_dir, const char *target)
{
    char fa[PATH_MAX], ta[PATH_MAX];
    sr_buf b;
    sr_buf_init(&b);
    if (!realpath(from_dir, fa) || !realpath(target, ta)) {
        url_append(&b, target);
        return sr_buf_steal(&b);
    }
    size_t i = 0, common = 0;
    while (fa[i] && fa[i] == ta[i]) {
        if (fa[i] == '/')
            common = i;
        i++;
    }
    if (fa[i] == '\0' && ta[i] == '/')
        common = i;
    else if (fa[i] == '\0' && ta[i] == '\0')
        common = i;
    /* folders of from_dir below the common prefix */
    for (const char *p = fa + common; *p; p++)
        if (*p == '/')
            sr_buf_puts(&b, "../");
    if (strcmp(fa, "/") == 0 && common == 0)
        b.len = 0, b.s[0] = '\0';
    const char *rest = ta + common;
    if (*rest == '/')
        rest++;
    url_append(&b, rest);
    return sr_buf_steal(&b);
}

static char *base64_file(const char *path, const char *mime)
{
    char *data = NULL;
    size_t len = 0;
    char why[SR_MSG_MAX];
    if (sr_read_file(path, 64u << 20, &data, &len, why, sizeof why) != 0)
        return NULL;
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_printf(&b, "data:%s;base64,", mime);
    const unsigned char *u = (const unsigned char *)data;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)u[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)u[i + 1] << 8;
        if (i + 2 < len)
            v |= u[i + 2];
        char q[4] = {tab[(v >> 18) & 63], tab[(v >> 12) & 63], i + 1 < len ? tab[(v >> 6) & 63] : '=',
                     i + 2 < len ? tab[v & 63] : '='};
        sr_buf_append(&b, q, 4);
    }
    free(data);
    return sr_buf_steal(&b);
}

static const char *mime_of(const char *path)
{
    if (sr_str_has_suffix(path, ".jpg") || sr_str_has_suffix(path, ".jpeg") || sr_str_has_suffix(path, ".JPG"))
        return "image/jpeg";
    if (sr_str_has_suffix(path, ".webp"))
        return "image/webp";
    return "image/png";
}

/* SVG text for inlining in HTML: from <svg on, without the namespace
 * declarations (implied by the HTML parser), so that the page names no URL. */
static char *svg_for_html(const char *svg)
{
    const char *p = strstr(svg, "<svg");
    if (!p)
        p = svg;
    sr_buf b;
    sr_buf_init(&b);
    const char *tag_end = strchr(p, '>');
    while (*p) {
        if (tag_end && p < tag_end && !strncmp(p, " xmlns", 6)) {
            const char *q = strchr(p, '"');
            const char *r = q && q < tag_end ? strchr(q + 1, '"') : NULL;
            if (r && r < tag_end) {
                p = r + 1;
                continue;
            }
        }
        sr_buf_append(&b, p, 1);
        p++;
    }
    return sr_buf_steal(&b);
}

/* Charts as {id, title, svg}, from their SVG documents (NULL where a
 * chart could not be drawn, whys[i] saying why: then a problem on the
 * page's list), in their order. */
static cJSON *charts_json_from(const sr_named_chart *c, size_t n, char *const *svgs, char *const *whys,
                               cJSON *problems)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        if (!svgs[i]) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "path", c[i].id);
            char *m = xasprintf("chart not drawn: %s", whys[i] ? whys[i] : "?");
            cJSON_AddStringToObject(p, "problem", m);
            free(m);
            cJSON_AddItemToArray(problems, p);
            continue;
        }
        char *svg = svg_for_html(svgs[i]);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", c[i].id);
        cJSON_AddStringToObject(o, "title", c[i].chart.title ? c[i].chart.title : c[i].id);
        cJSON_AddStringToObject(o, "svg", svg);
        cJSON_AddItemToArray(arr, o);
        free(svg);
    }
    return arr;
}

/* The same for charts drawn here, in parallel. */
static cJSON *charts_json(sr_named_chart *c, size_t n, double w, double h, cJSON *problems)
{
    char **svgs = xcalloc(n ? n : 1, sizeof *svgs);
    char **whys = xcalloc(n ? n : 1, sizeof *whys);
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
    for (size_t i = 0; i < n; i++) {
        char why[SR_MSG_MAX];
        svgs[i] = sr_chart_svg(&c[i].chart, w, h, why, sizeof why);
        if (!svgs[i])
            whys[i] = xstrdup(why);
    }
    cJSON *arr = charts_json_from(c, n, svgs, whys, problems);
    for (size_t i = 0; i < n; i++) {
        free(svgs[i]);
        free(whys[i]);
    }
    free(whys);
    free(svgs);
    return arr;
}

static const char *trial_state(const cJSON *tj)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(tj, "state");
    return cJSON_IsString(st) ? st->valuestring : "UNKNOWN";
}

static double json_num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* ---- the recommendation, leaderboard and sweep facts -------------------- */

static cJSON *sample_list(const char *page_dir, const sr_trial *t, const sr_checkpoint *c, int inline_images)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t k = 0; k < c->n_samples; k++) {
        char *abs = sr_path_join(t->path, c->samples[k]);
        cJSON *o = cJSON_CreateObject();
        char *href = rel_url(page_dir, abs);
        char *src = inline_images ? base64_file(abs, mime_of(abs)) : NULL;
        cJSON_AddStringToObject(o, "src", src ? src : href);
        if (!inline_images)
            cJSON_AddStringToObject(o, "href", href);
        cJSON_AddStringToObject(o, "alt", c->samples[k]);
        cJSON_AddItemToArray(arr, o);
        free(src);
        free(href);
        free(abs);
    }
    return arr;
}

static char *trial_file(const sr_trial *t)
{
    sr_buf b;
    sr_buf_init(&b);
    for (const char *p = t->name; *p; p++) {
        char ch = *p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
              ch == '_' || ch == '.'))
            ch = '_';
        sr_buf_append(&b, &ch, 1);
    }
    if (b.len == 0 || b.s[0] == '.')
        sr_buf_puts(&b, "_");
    return sr_short_file_name(sr_buf_steal(&b), SR_FILE_NAME_STEM_MAX);
}

/* The first twenty items of the array src as m's list, their number as
 * count and how many more there are (when there are) as more.  Returns the
 * number. */
static int add_first(cJSON *m, const cJSON *src, const char *list, const char *count, const char *more)
{
    enum { SHOWN = 20 };
    const int n = cJSON_GetArraySize(src);
    cJSON *l = cJSON_AddArrayToObject(m, list);
    int k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, src)
    {
        if (k++ < SHOWN)
            cJSON_AddItemToArray(l, cJSON_Duplicate(it, 1));
    }
    cJSON_AddNumberToObject(m, count, n);
    if (n > SHOWN)
        cJSON_AddNumberToObject(m, more, n - SHOWN);
    return n;
}

/* since_last_run for the index page: names as objects, counts, flags. */
static cJSON *since_model(const cJSON *since)
{
    cJSON *m = cJSON_CreateObject();
    const cJSON *first = cJSON_GetObjectItemCaseSensitive(since, "first_run");
    cJSON_AddBoolToObject(m, "first_run", cJSON_IsTrue(first));
    const cJSON *prev = cJSON_GetObjectItemCaseSensitive(since, "previous_generated_at");
    if (cJSON_IsString(prev))
        cJSON_AddStringToObject(m, "previous_generated_at", prev->valuestring);
    const cJSON *nt = cJSON_GetObjectItemCaseSensitive(since, "new_trials");
    cJSON *trials = cJSON_AddArrayToObject(m, "new_trials");
    const cJSON *it;
    cJSON_ArrayForEach(it, nt)
    {
        if (!cJSON_IsString(it))
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", it->valuestring);
        cJSON_AddItemToArray(trials, o);
    }
    cJSON_AddNumberToObject(m, "n_new_trials", cJSON_GetArraySize(trials));
    cJSON_AddStringToObject(m, "trials_word", cJSON_GetArraySize(trials) == 1 ? "trial" : "trials");
    const cJSON *nc = cJSON_GetObjectItemCaseSensitive(since, "new_checkpoints");
    cJSON_AddItemToObject(m, "new_checkpoints", cJSON_Duplicate(nc, 1));
    cJSON_AddNumberToObject(m, "n_new_checkpoints", cJSON_GetArraySize(nc));
    cJSON_AddStringToObject(m, "checkpoints_word", cJSON_GetArraySize(nc) == 1 ? "checkpoint" : "checkpoints");
    const cJSON *changed = cJSON_GetObjectItemCaseSensitive(since, "best_changed");
    cJSON_AddBoolToObject(m, "best_changed", cJSON_IsTrue(changed));
    const cJSON *pb = cJSON_GetObjectItemCaseSensitive(since, "previous_best");
    if (cJSON_IsObject(pb)) {
        cJSON *p = cJSON_Duplicate(pb, 1);
        const cJSON *sv = cJSON_GetObjectItemCaseSensitive(pb, "score");
        if (cJSON_IsNumber(sv)) {
            char buf[32];
            snprintf(buf, sizeof buf, "%.4g", sv->valuedouble);
            cJSON_AddStringToObject(p, "score_text", buf);
        }
        cJSON_AddItemToObject(m, "previous_best", p);
    }
    cJSON_AddBoolToObject(m, "previous_best_removed",
                          cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(since, "previous_best_removed")));
    /* checkpoints gone since */
    const int n_rc = add_first(m, cJSON_GetObjectItemCaseSensitive(since, "removed_checkpoints"), "removed",
                               "n_removed", "more_removed");
    cJSON_AddStringToObject(m, "removed_word", n_rc == 1 ? "checkpoint is" : "checkpoints are");
    /* a changed score definition, and problems the last report did not list
     * (the first twenty of them) */
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(since, "score_changed");
    cJSON_AddBoolToObject(m, "score_changed", cJSON_IsTrue(sc));
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(since, "previous_score");
    if (cJSON_IsObject(ps))
        cJSON_AddItemToObject(m, "previous_score", cJSON_Duplicate(ps, 1));
    const int n_np = add_first(m, cJSON_GetObjectItemCaseSensitive(since, "new_problems"), "new_problems",
                               "n_new_problems", "more_new_problems");
    cJSON_AddStringToObject(m, "problems_word", n_np == 1 ? "problem" : "problems");
    int nothing_new = !cJSON_IsTrue(first) && cJSON_GetArraySize(trials) == 0 && cJSON_GetArraySize(nc) == 0 &&
                      !cJSON_IsTrue(changed) && !cJSON_IsTrue(sc) && n_np == 0 && n_rc == 0;
    cJSON_AddBoolToObject(m, "nothing_new", nothing_new);
    /* something new, and still the same recommendation: say so */
    cJSON_AddBoolToObject(m, "best_unchanged", !cJSON_IsTrue(first) && !nothing_new && !cJSON_IsTrue(changed));
    return m;
}

static cJSON *index_model(const char *dir, const sr_sweep *s, const sr_analysis *a, const cJSON *summary,
                          int self_contained)
{
    cJSON *m = cJSON_CreateObject();
    const cJSON *sw = cJSON_GetObjectItemCaseSensitive(summary, "sweep");
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(sw, "path");
    const char *sweep_path = cJSON_IsString(path) ? path->valuestring : s->path;
    char *title = xasprintf("Sweep report \xe2\x80\x94 %s", sr_path_base(sweep_path));
    cJSON_AddStringToObject(m, "title", title);
    free(title);
    cJSON_AddStringToObject(m, "assets", "assets/");
    cJSON_AddStringToObject(m, "sweep_path", sweep_path);
    const cJSON *study = cJSON_GetObjectItemCaseSensitive(sw, "study");
    if (cJSON_IsObject(study)) {
        cJSON *st = cJSON_Duplicate(study, 1);
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(study, "trials");
        cJSON_AddBoolToObject(st, "one_trial", cJSON_IsNumber(n) && n->valuedouble == 1);
        cJSON_AddItemToObject(m, "study", st);
    }
    const cJSON *tool = cJSON_GetObjectItemCaseSensitive(summary, "tool");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(tool, "version");
    cJSON_AddStringToObject(m, "tool_version", cJSON_IsString(ver) ? ver->valuestring : PACKAGE_VERSION);
    const cJSON *gen = cJSON_GetObjectItemCaseSensitive(summary, "generated_at");
    if (cJSON_IsString(gen))
        cJSON_AddStringToObject(m, "generated_at", gen->valuestring);

    const cJSON *trials = cJSON_GetObjectItemCaseSensitive(summary, "trials");
    /* trials by state */
    cJSON *states = cJSON_AddArrayToObject(m, "states");
    const cJSON *tj;
    cJSON_ArrayForEach(tj, trials)
    {
        const char *st = trial_state(tj);
        cJSON *e, *found = NULL;
        cJSON_ArrayForEach(e, states)
        {
            if (!strcmp(cJSON_GetObjectItemCaseSensitive(e, "state")->valuestring, st))
                found = e;
        }
        if (!found) {
            found = cJSON_CreateObject();
            cJSON_AddStringToObject(found, "state", st);
            cJSON_AddNumberToObject(found, "count", 0);
            cJSON_AddItemToArray(states, found);
        }
        cJSON *cnt = cJSON_GetObjectItemCaseSensitive(found, "count");
        cJSON_SetNumberValue(cnt, cnt->valuedouble + 1);
    }
    cJSON_AddNumberToObject(m, "n_trials", (double)cJSON_GetArraySize(trials));
    size_t n_ck = 0, n_measured = 0;
    for (size_t i = 0; i < s->n_trials; i++)
        for (size_t j = 0; j < s->trials[i].n_ckpts; j++) {
            const sr_checkpoint *c = &s->trials[i].ckpts[j];
            n_ck++;
            if (c->metrics.n > 0)
                n_measured++;
        }
    cJSON_AddNumberToObject(m, "n_checkpoints", (double)n_ck);
    cJSON_AddNumberToObject(m, "n_measured", (double)n_measured);
    const cJSON *score = cJSON_GetObjectItemCaseSensitive(summary, "score");
    if (score)
        cJSON_AddItemToObject(m, "score", cJSON_Duplicate(score, 1));

    /* recommendation */
    if (a && a->has_best && a->best.trial < s->n_trials) {
        const sr_trial *t = &s->trials[a->best.trial];
        const sr_checkpoint *c = &t->ckpts[a->best.ckpt];
        cJSON *b = cJSON_AddObjectToObject(m, "best");
        cJSON_AddStringToObject(b, "checkpoint", c->file);
        cJSON_AddStringToObject(b, "trial", t->name);
        char *tf = trial_file(t);
        char *href = xasprintf("trials/%s.html", tf);
        free(tf);
        if (!self_contained)
            cJSON_AddStringToObject(b, "trial_href", href);
        free(href);
        if (c->epoch >= 0)
            cJSON_AddNumberToObject(b, "epoch", (double)c->epoch);
        char buf[64];
        fmt_num(a->best_score, buf, sizeof buf);
        cJSON_AddStringToObject(b, "score", buf);
        cJSON_AddStringToObject(b, "path", c->path);
        if (a->reason)
            cJSON_AddStringToObject(b, "reason", a->reason);
        const cJSON *tjs = cJSON_GetArrayItem(trials, (int)a->best.trial);
        cJSON *pl = params_list(cJSON_GetObjectItemCaseSensitive(tjs, "params"));
        if (cJSON_GetArraySize(pl) > 0)
            cJSON_AddItemToObject(b, "params", pl);
        else
            cJSON_Delete(pl);
        cJSON *sl = sample_list(dir, t, c, self_contained);
        if (cJSON_GetArraySize(sl) > 0)
            cJSON_AddItemToObject(b, "samples", sl);
        else
            cJSON_Delete(sl);
        /* the next best checkpoints, and how each compares with the
         * recommendation; their scores in one format */
        cJSON *ru = cJSON_AddArrayToObject(b, "runners_up");
        double ru_scores[sizeof a->runners_up / sizeof a->runners_up[0] + 1];
        size_t n_ru = 0;
        ru_scores[n_ru++] = a->best_score;
        for (size_t k = 0; k < a->n_runners_up; k++) {
            sr_ckpt_ref r = a->runners_up[k];
            if (r.trial < s->n_trials && r.ckpt < s->trials[r.trial].n_ckpts && a->trials[r.trial].ckpts)
                ru_scores[n_ru++] = a->trials[r.trial].ckpts[r.ckpt].score;
        }
        const int d_ru = sr_column_decimals(ru_scores, n_ru);
        for (size_t k = 0; k < a->n_runners_up; k++) {
            sr_ckpt_ref r = a->runners_up[k];
            if (r.trial >= s->n_trials || r.ckpt >= s->trials[r.trial].n_ckpts || !a->trials[r.trial].ckpts)
                continue;
            const sr_trial *rt = &s->trials[r.trial];
            const sr_checkpoint *rc = &rt->ckpts[r.ckpt];
            double v = a->trials[r.trial].ckpts[r.ckpt].score;
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "trial", rt->name);
            if (!self_contained) {
                char *rf = trial_file(rt);
                char *rh = xasprintf("trials/%s.html", rf);
                cJSON_AddStringToObject(o, "trial_href", rh);
                free(rh);
                free(rf);
            }
            cJSON_AddStringToObject(o, "checkpoint", rc->file);
            if (rc->epoch >= 0)
                cJSON_AddNumberToObject(o, "epoch", (double)rc->epoch);
            cJSON_AddItemToObject(o, "score", num_cell_in(v, d_ru));
            /* worse than the recommendation, or better (with --prefer-earlier
             * the recommendation need not be the top score) */
            double worse = a->maximize ? a->best_score - v : v - a->best_score;
            double pct = a->best_score != 0 ? worse / fabs(a->best_score) * 100 : NAN;
            if (isfinite(pct)) {
                char g[48];
                if (fabs(pct) < 0.05)
                    snprintf(g, sizeof g, "the same");
                else
                    snprintf(g, sizeof g, "%.1f %% %s", fabs(pct), pct > 0 ? "worse" : "better");
                cJSON_AddStringToObject(o, "gap", g);
            }
            cJSON_AddItemToArray(ru, o);
        }
    }

    /* leaderboard, the best trial first (as in the PDF) */
    cJSON *rows = cJSON_AddArrayToObject(m, "leaderboard");
    const size_t n_rows = (size_t)cJSON_GetArraySize(trials) < s->n_trials ? (size_t)cJSON_GetArraySize(trials)
                                                                            : s->n_trials;
    size_t *order = xcalloc(s->n_trials ? s->n_trials : 1, sizeof *order);
    if (a) {
        sr_analysis_trial_order(s, a, order);
        cJSON_AddStringToObject(m, "leaderboard_order", a->maximize ? "higher is better" : "lower is better");
    } else {
        for (size_t k = 0; k < s->n_trials; k++)
            order[k] = k;
    }
    /* each score column in one format */
    double *col = xmalloc(3 * (s->n_trials ? s->n_trials : 1) * sizeof *col);
    for (size_t i = 0; i < s->n_trials; i++) {
        const sr_trial_analysis *ta = a && i < a->n_trials ? &a->trials[i] : NULL;
        col[i] = i < n_rows ? json_num(cJSON_GetArrayItem(trials, (int)i), "value") : NAN;
        col[s->n_trials + i] = ta ? ta->best_score : NAN;
        col[2 * s->n_trials + i] = ta ? ta->final_score : NAN;
    }
    const int d_value = sr_column_decimals(col, s->n_trials);
    const int d_scores = sr_column_decimals(col + s->n_trials, 2 * s->n_trials); /* best and final alike */
    free(col);
    size_t rank = 0;
    for (size_t k = 0; k < s->n_trials; k++) {
        const size_t i = order[k];
        if (i >= n_rows)
            continue;
        tj = cJSON_GetArrayItem(trials, (int)i);
        const sr_trial *t = &s->trials[i];
        const sr_trial_analysis *ta = a && i < a->n_trials ? &a->trials[i] : NULL;
        cJSON *r = cJSON_CreateObject();
        cJSON_AddItemToObject(r, "rank", num_cell(ta && isfinite(ta->best_score) ? (double)++rank : NAN));
        cJSON_AddStringToObject(r, "name", t->name);
        char *tf = trial_file(t);
        char *href = xasprintf("trials/%s.html", tf);
        free(tf);
        if (!self_contained)
            cJSON_AddStringToObject(r, "href", href);
        free(href);
        cJSON_AddStringToObject(r, "state", trial_state(tj));
        cJSON_AddItemToObject(r, "value", num_cell_in(json_num(tj, "value"), d_value));
        double be = NAN;
        if (ta && ta->best >= 0 && t->ckpts[ta->best].epoch >= 0)
            be = (double)t->ckpts[ta->best].epoch;
        cJSON_AddItemToObject(r, "best_epoch", num_cell(be));
        cJSON_AddItemToObject(r, "best_score", num_cell_in(ta ? ta->best_score : NAN, d_scores));
        cJSON_AddItemToObject(r, "final_score", num_cell_in(ta ? ta->final_score : NAN, d_scores));
        cJSON_AddBoolToObject(r, "overfit", ta && ta->overfit);
        /* overfitting is judged on a scored final checkpoint only */
        cJSON_AddBoolToObject(r, "overfit_known", ta && ta->overfit_known);
        cJSON_AddBoolToObject(r, "recommended", a && a->has_best && a->best.trial == i);
        cJSON_AddItemToArray(rows, r);
    }
    free(order);

    /* checkpoints left for the next run */
    const cJSON *pend = cJSON_GetObjectItemCaseSensitive(summary, "pending");
    if (cJSON_GetArraySize(pend) > 0) {
        cJSON_AddItemToObject(m, "pending", cJSON_Duplicate(pend, 1));
        cJSON_AddNumberToObject(m, "n_pending", cJSON_GetArraySize(pend));
        cJSON_AddStringToObject(m, "pending_word", cJSON_GetArraySize(pend) == 1 ? "checkpoint" : "checkpoints");
    }
    const cJSON *since = cJSON_GetObjectItemCaseSensitive(summary, "since_last_run");
    if (cJSON_IsObject(since))
        cJSON_AddItemToObject(m, "since", since_model(since));

    const cJSON *probs = cJSON_GetObjectItemCaseSensitive(summary, "problems");
    cJSON *pl = cJSON_AddArrayToObject(m, "problems");
    const cJSON *p;
    cJSON_ArrayForEach(p, probs)
    {
        cJSON_AddItemToArray(pl, cJSON_Duplicate(p, 1));
    }
    return m;
}

/* ---- per-trial pages ---------------------------------------------------- */

static int metric_known(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return 1;
    return 0;
}

/* TensorBoard loss of one trial (the same tags as the sweep chart). */
static int build_loss_chart(const sr_trial *t, sr_chart *c)
{
    static const char *tags[] = {"loss/average", "loss/current", "loss/epoch_average"};
    const sr_scalar_series *ss = NULL;
    for (size_t i = 0; i < 3 && !ss; i++) {
        ss = sr_scalars_find(&t->scalars, tags[i]);
        if (ss && ss->n == 0)
            ss = NULL;
    }
    if (!ss)
        return 0;
    sr_chart_init(c, "TensorBoard loss");
    sr_chart_set_subtitle(c, ss->tag);
    sr_axis_set_label(&c->x, t->steps_per_epoch > 0 ? "epoch" : "step");
    sr_axis_set_label(&c->y, "loss");
    sr_series *se = sr_chart_add_series(c, t->name, SR_SERIES_LINE, ss->n);
    for (size_t k = 0; k < ss->n; k++) {
        se->x[k] = t->steps_per_epoch > 0 ? (double)ss->steps[k] / t->steps_per_epoch : (double)ss->steps[k];
        se->y[k] = ss->values[k];
    }
    return 1;
}

/* One part of a trial's contact sheet: the checkpoints ck[0..n) (those
 * with samples), written to assets/name.  Returns {src, width, height,
 * min_width, cells: [{href, left, top, width, height, title}]}, or NULL
 * when it cannot be made (a problem on the page's list says why).  *most
 * gets the most samples of any of them. */
static cJSON *sheet_part(const char *dir, const char *page_dir, const sr_sweep *s, const sr_trial *t,
                         const size_t *ck, size_t n, const char *name, size_t *most, cJSON *problems)
{
    sr_sheet_row *rows = xcalloc(n ? n : 1, sizeof *rows);
    size_t max_cols = 0;
    for (size_t r = 0; r < n; r++) {
        const sr_checkpoint *c = &t->ckpts[ck[r]];
        char **whys = xcalloc(c->n_samples, sizeof *whys);
        sr_sheet_row_load(&rows[r], s->path, t, c, 1, SHEET_COLUMNS, whys);
        for (size_t k = 0; k < c->n_samples; k++)
            if (whys[k]) {
                char *abs = sr_path_join(t->path, c->samples[k]);
                cJSON *p = cJSON_CreateObject();
                cJSON_AddStringToObject(p, "path", abs);
                cJSON_AddStringToObject(p, "problem", whys[k]);
                cJSON_AddItemToArray(problems, p);
                free(abs);
                free(whys[k]);
            }
        free(whys);
        if (rows[r].n > max_cols)
            max_cols = rows[r].n;
        if (c->n_samples > *most)
            *most = c->n_samples;
    }
    char *adir = sr_path_join(dir, "assets");
    char *jpg = sr_path_join(adir, name);
    sr_rect *cells = NULL;
    int sw = 0, sh = 0;
    char why[SR_MSG_MAX];
    cJSON *out = NULL;
    if (sr_contact_sheet_jpeg(rows, n, SHEET_CELL, jpg, &cells, &sw, &sh, why, sizeof why) == 0 && sw > 0 &&
        sh > 0) {
        out = cJSON_CreateObject();
        char *src = xasprintf("../assets/%s", name);
        cJSON_AddStringToObject(out, "src", src);
        free(src);
        cJSON_AddNumberToObject(out, "width", sw);
        cJSON_AddNumberToObject(out, "height", sh);
        /* narrower than the page, the sheet scrolls rather than shrink its cells below 60 % */
        cJSON_AddNumberToObject(out, "min_width", (int)(sw * 0.6));
        cJSON *cl = cJSON_AddArrayToObject(out, "cells");
        for (size_t i = 0; i < n; i++) {
            const sr_checkpoint *c = &t->ckpts[ck[i]];
            for (size_t k = 0; k < rows[i].n && cells; k++) {
                sr_rect rc = cells[i * max_cols + k];
                if (rc.w <= 0 || rc.h <= 0)
                    continue;
                char *abs = sr_path_join(t->path, c->samples[k]);
                char *href = rel_url(page_dir, abs);
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "href", href);
                char *tt = xasprintf("%s \xe2\x80\x94 %s", rows[i].label, c->samples[k]);
                cJSON_AddStringToObject(o, "title", tt);
                free(tt);
                char b[4][32];
                snprintf(b[0], 32, "%.4f%%", 100.0 * rc.x / sw);
                snprintf(b[1], 32, "%.4f%%", 100.0 * rc.y / sh);
                snprintf(b[2], 32, "%.4f%%", 100.0 * rc.w / sw);
                snprintf(b[3], 32, "%.4f%%", 100.0 * rc.h / sh);
                cJSON_AddStringToObject(o, "left", b[0]);
                cJSON_AddStringToObject(o, "top", b[1]);
                cJSON_AddStringToObject(o, "width", b[2]);
                cJSON_AddStringToObject(o, "height", b[3]);
                cJSON_AddItemToArray(cl, o);
                free(href);
                free(abs);
            }
        }
    } else {
        /* named as it would be published, not in the folder it is written in */
        char *pub = xasprintf("assets/%s", name);
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "path", pub);
        cJSON_AddStringToObject(p, "problem", sr_reason_after_path(why, jpg));
        cJSON_AddItemToArray(problems, p);
        free(pub);
    }
    free(cells);
    free(jpg);
    free(adir);
    for (size_t i = 0; i < n; i++)
        sr_sheet_row_free(&rows[i]);
    free(rows);
    return out;
}

/* The contact sheet of a trial, in parts of at most SHEET_ROWS checkpoints
 * (as even as can be): assets/<trial>-sheet.jpg, <trial>-sheet-2.jpg ...
 * Returns {note, parts: [sheet_part ...]}, or NULL when the trial has no
 * samples. */
static cJSON *trial_sheet(const char *dir, const char *page_dir, const sr_sweep *s, const sr_trial *t,
                          const char *tf, cJSON *problems)
{
    size_t n_rows = 0;
    for (size_t j = 0; j < t->n_ckpts; j++)
        n_rows += t->ckpts[j].n_samples > 0;
    if (!n_rows)
        return NULL;
    size_t *ck = xcalloc(n_rows, sizeof *ck);
    for (size_t j = 0, r = 0; j < t->n_ckpts; j++)
        if (t->ckpts[j].n_samples > 0)
            ck[r++] = j;
    const size_t n_parts = (n_rows + SHEET_ROWS - 1) / SHEET_ROWS;
    cJSON *out = cJSON_CreateObject();
    cJSON *parts = cJSON_AddArrayToObject(out, "parts");
    size_t most = 0;
    for (size_t p = 0; p < n_parts; p++) {
        size_t from = p * n_rows / n_parts, to = (p + 1) * n_rows / n_parts;
        char *name = p ? xasprintf("%s-sheet-%zu.jpg", tf, p + 1) : xasprintf("%s-sheet.jpg", tf);
        cJSON *part = sheet_part(dir, page_dir, s, t, ck + from, to - from, name, &most, problems);
        if (part)
            cJSON_AddItemToArray(parts, part);
        free(name);
    }
    if (most > SHEET_COLUMNS) {
        char *note = xasprintf("The first %d samples of each checkpoint; one has %zu.", SHEET_COLUMNS, most);
        cJSON_AddStringToObject(out, "note", note);
        free(note);
    }
    free(ck);
    if (cJSON_GetArraySize(parts) == 0) {
        cJSON_Delete(out);
        return NULL;
    }
    return out;
}

static cJSON *trial_model(const char *dir, const char *page_dir, const sr_sweep *s, const sr_analysis *a,
                          const cJSON *tj, size_t ti, const char *tf, const sr_html_drawn *drawn)
{
    const sr_trial *t = &s->trials[ti];
    const sr_trial_analysis *ta = a && ti < a->n_trials ? &a->trials[ti] : NULL;
    cJSON *m = cJSON_CreateObject();
    char *title = xasprintf("%s \xe2\x80\x94 sweep report", t->name);
    cJSON_AddStringToObject(m, "title", title);
    free(title);
    cJSON_AddStringToObject(m, "assets", "../assets/");
    cJSON_AddStringToObject(m, "name", t->name);
    cJSON_AddStringToObject(m, "state", trial_state(tj));
    cJSON_AddItemToObject(m, "value", num_cell(json_num(tj, "value")));
    const cJSON *num = cJSON_GetObjectItemCaseSensitive(tj, "optuna_number");
    if (cJSON_IsNumber(num))
        cJSON_AddNumberToObject(m, "optuna_number", num->valuedouble);
    cJSON *pl = params_list(cJSON_GetObjectItemCaseSensitive(tj, "params"));
    if (cJSON_GetArraySize(pl) > 0)
        cJSON_AddItemToObject(m, "params", pl);
    else
        cJSON_Delete(pl);
    if (ta) {
        cJSON_AddItemToObject(m, "best_score", num_cell(ta->best_score));
        cJSON_AddBoolToObject(m, "overfit", ta->overfit);
        if (ta->best >= 0)
            cJSON_AddStringToObject(m, "best_checkpoint", t->ckpts[ta->best].file);
    }
    /* checkpoints, none with a score: say why, not a column of dashes */
    size_t scored = 0;
    for (size_t j = 0; ta && ta->ckpts && j < t->n_ckpts; j++)
        scored += isfinite(ta->ckpts[j].score) != 0;
    size_t usable = 0;
    for (size_t j = 0; j < t->n_ckpts; j++)
        usable += t->ckpts[j].status == SR_CKPT_OK;
    if (t->n_ckpts > 0 && scored == 0) {
        char *why = usable == 0
                        ? xstrdup("No checkpoint here has a score: none is whole and valid yet (the Status column "
                                  "says why).")
                        : xasprintf("No checkpoint here has a score yet: %s needs metrics that none of them has. "
                                    "Image metrics come from each checkpoint's samples (sweepreport eval measures "
                                    "them; with --sampler it renders them first).",
                                    a && a->expression ? a->expression : "the score");
        cJSON_AddStringToObject(m, "no_score", why);
        free(why);
    }
    /* the sweep's problems in this trial's folder (as on the index page),
     * then whatever this page could not show */
    cJSON *problems = cJSON_AddArrayToObject(m, "problems");
    for (size_t i = 0; i < s->problems.n; i++) {
        if (!sr_path_under(s->problems.items[i].path, t->path))
            continue;
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "path", s->problems.items[i].path);
        cJSON_AddStringToObject(p, "problem", s->problems.items[i].problem);
        cJSON_AddItemToArray(problems, p);
    }

    /* metric columns: every metric of the trial, in the charts' order */
    if (a && a->expression)
        cJSON_AddStringToObject(m, "score_expression", a->expression);
    char **names = NULL;
    size_t n_names = 0, cap = 0;
    for (size_t j = 0; j < t->n_ckpts; j++)
        for (size_t k = 0; k < t->ckpts[j].metrics.n; k++) {
            const char *nm = t->ckpts[j].metrics.items[k].name;
            /* a score that is one metric is the Score column already */
            if (metric_known(names, n_names, nm) || (a && a->expression && strcmp(a->expression, nm) == 0))
                continue;
            if (n_names == cap) {
                cap = cap ? cap * 2 : 16;
                names = xrealloc(names, cap * sizeof *names);
            }
            names[n_names++] = (char *)nm;
        }
    if (n_names)
        qsort(names, n_names, sizeof *names, sr_metric_name_cmp);
    cJSON *cols = cJSON_AddArrayToObject(m, "metric_names");
    for (size_t k = 0; k < n_names; k++)
        cJSON_AddItemToArray(cols, cJSON_CreateString(names[k]));
    /* each column of the table in one format: the score, then the metrics */
    int *dec = xmalloc((n_names + 1) * sizeof *dec);
    double *colv = xmalloc((t->n_ckpts ? t->n_ckpts : 1) * sizeof *colv);
    for (size_t k = 0; k <= n_names; k++) {
        for (size_t j = 0; j < t->n_ckpts; j++) {
            colv[j] = NAN;
            if (k == 0)
                colv[j] = ta && ta->ckpts ? ta->ckpts[j].score : NAN;
            else
                sr_metrics_get(&t->ckpts[j].metrics, names[k - 1], &colv[j]);
        }
        dec[k] = sr_column_decimals(colv, t->n_ckpts);
    }
    free(colv);
    cJSON *rows = cJSON_AddArrayToObject(m, "epochs");
    cJSON *health = cJSON_CreateArray();
    for (size_t j = 0; j < t->n_ckpts; j++) {
        const sr_checkpoint *c = &t->ckpts[j];
        cJSON *r = cJSON_CreateObject();
        cJSON_AddItemToObject(r, "epoch", num_cell(c->epoch >= 0 ? (double)c->epoch : NAN));
        cJSON_AddStringToObject(r, "file", c->file);
        cJSON_AddStringToObject(r, "status", sr_ckpt_status_name(c->status));
        /* why it is pending, incomplete or invalid */
        const char *why = c->status == SR_CKPT_PENDING ? c->pending : c->status != SR_CKPT_OK ? c->problem : NULL;
        if (why) {
            /* "incomplete, still being written ..." under "incomplete": once */
            const char *st = sr_ckpt_status_name(c->status);
            size_t n = strlen(st);
            if (strncmp(why, st, n) == 0 && (why[n] == ',' || why[n] == ':') && why[n + 1] == ' ')
                why += n + 2;
            cJSON_AddStringToObject(r, "why", why);
        } else if (scored && ta && ta->ckpts && !isfinite(ta->ckpts[j].score)) {
            /* whole and valid, and yet no score, among scored ones: why
             * (with none scored, the page says it once) */
            const char *expr = a && a->expression ? a->expression : "pixar_score";
            char *no = c->n_samples == 0 && strcmp(expr, "pixar_score") == 0
                           ? xstrdup("no score: it has no samples to measure")
                           : xasprintf("no score: a metric %s needs is missing, or it gives no number", expr);
            cJSON_AddStringToObject(r, "why", no);
            free(no);
        }
        cJSON_AddBoolToObject(r, "best", ta && ta->best == (long)j);
        cJSON_AddItemToObject(r, "score", num_cell_in(ta && ta->ckpts ? ta->ckpts[j].score : NAN, dec[0]));
        cJSON *cells = cJSON_AddArrayToObject(r, "cells");
        for (size_t k = 0; k < n_names; k++) {
            double v = NAN;
            sr_metrics_get(&c->metrics, names[k], &v);
            cJSON_AddItemToArray(cells, num_cell_in(v, dec[k + 1]));
        }
        cJSON_AddItemToArray(rows, r);
        double dn = NAN, dr = NAN, nf = NAN;
        int has = sr_metrics_get(&c->metrics, "weight_delta_norm", &dn);
        has |= sr_metrics_get(&c->metrics, "weight_drift", &dr);
        has |= sr_metrics_get(&c->metrics, "weight_nonfinite", &nf);
        if (has) {
            cJSON *h = cJSON_CreateObject();
            cJSON_AddItemToObject(h, "epoch", num_cell(c->epoch >= 0 ? (double)c->epoch : NAN));
            cJSON_AddStringToObject(h, "file", c->file);
            cJSON_AddItemToObject(h, "delta_norm", num_cell(dn));
            cJSON_AddItemToObject(h, "drift", num_cell(dr));
            cJSON_AddItemToObject(h, "nonfinite", num_cell(nf));
            cJSON_AddBoolToObject(h, "bad", isfinite(nf) && nf > 0);
            cJSON_AddItemToArray(health, h);
        }
    }
    free(dec);
    free(names);
    if (cJSON_GetArraySize(health) > 0)
        cJSON_AddItemToObject(m, "health", health);
    else
        cJSON_Delete(health);

    cJSON *charts;
    if (drawn) {
        charts = charts_json_from(drawn->charts, drawn->n, drawn->svg, drawn->why, problems);
    } else {
        sr_named_chart *tc = NULL;
        size_t tn = sr_build_trial_charts(s, a, ti, &tc);
        charts = charts_json(tc, tn, SR_SMALL_CHART_WIDTH, SR_SMALL_CHART_HEIGHT, problems);
        sr_named_charts_free(tc, tn);
    }
    if (cJSON_GetArraySize(charts) > 0)
        cJSON_AddItemToObject(m, "charts", charts);
    else
        cJSON_Delete(charts);
    sr_chart lc;
    if (build_loss_chart(t, &lc)) {
        char why[SR_MSG_MAX];
        char *svg = sr_chart_svg(&lc, SR_CHART_WIDTH, SR_CHART_HEIGHT, why, sizeof why);
        if (svg) {
            char *clean = svg_for_html(svg);
            cJSON_AddStringToObject(m, "loss_svg", clean);
            free(clean);
            free(svg);
        }
        sr_chart_free(&lc);
    }
    cJSON *sheet = trial_sheet(dir, page_dir, s, t, tf, problems);
    if (sheet)
        cJSON_AddItemToObject(m, "sheet", sheet);
    add_flags(m);
    return m;
}

/* ---- the site ----------------------------------------------------------- */

/* has_NAME: true for every non-empty array of o (and of its objects), so
 * that templates can wrap a list in a heading only when it has items. */
static void add_flags(cJSON *o)
{
    cJSON *it;
    char *names[64];
    size_t n = 0;
    cJSON_ArrayForEach(it, o)
    {
        if (cJSON_IsArray(it) && cJSON_GetArraySize(it) > 0 && it->string && n < 64)
            names[n++] = xasprintf("has_%s", it->string);
        else if (cJSON_IsObject(it))
            add_flags(it);
    }
    for (size_t i = 0; i < n; i++) {
        cJSON_DeleteItemFromObjectCaseSensitive(o, names[i]);
        cJSON_AddBoolToObject(o, names[i], 1);
        free(names[i]);
    }
}

static int copy_asset(tpl_set *t, const char *name, const char *adir, char *err, size_t errlen)
{
    const char *text = tpl_get(t, name);
    if (!text) {
        snprintf(err, errlen, "%s/%s: cannot read", t->dir, name);
        return -1;
    }
    char *p = sr_path_join(adir, name);
    int rc = write_text(p, text, strlen(text), err, errlen);
    free(p);
    return rc;
}

/* One page per trial, trials/<trial>.html, the trials in parallel (each
 * page's model, charts and contact sheet are its own).  The first failure in
 * trial order is the one reported. */
static int write_trial_pages(tpl_set *t, const char *dir, const char *tdir, const sr_sweep *s, const sr_analysis *a,
                             const cJSON *summary, const cJSON *model, const sr_html_opts *o, char *err,
                             size_t errlen)
{
    const cJSON *trials = cJSON_GetObjectItemCaseSensitive(summary, "trials");
    size_t n = (size_t)cJSON_GetArraySize(trials);
    if (n > s->n_trials)
        n = s->n_trials;
    const cJSON **tjs = xcalloc(n ? n : 1, sizeof *tjs);
    char **errs = xcalloc(n ? n : 1, sizeof *errs);
    size_t i = 0;
    const cJSON *tj;
    cJSON_ArrayForEach(tj, trials)
    {
        if (i >= n)
            break;
        tjs[i++] = tj;
    }
    const cJSON *tv = cJSON_GetObjectItemCaseSensitive(model, "tool_version");
    const cJSON *ga = cJSON_GetObjectItemCaseSensitive(model, "generated_at");
    unsigned char *done = xcalloc(n ? n : 1, 1);
    size_t next_report = 0;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1)
#endif
    for (size_t k = 0; k < n; k++) {
        char *tf = trial_file(&s->trials[k]);
        cJSON *tm = trial_model(dir, tdir, s, a, tjs[k], k, tf, o && o->trial_drawn ? &o->trial_drawn[k] : NULL);
        if (tv)
            cJSON_AddItemToObject(tm, "tool_version", cJSON_Duplicate(tv, 0));
        if (ga)
            cJSON_AddItemToObject(tm, "generated_at", cJSON_Duplicate(ga, 0));
        char *file = xasprintf("%s.html", tf);
        char *p = sr_path_join(tdir, file);
        char why[SR_MSG_MAX];
        if (render_page(t, "trial", tm, p, why, sizeof why) != 0)
            errs[k] = xstrdup(why);
        /* progress in trial order: each page that finishes reports itself
         * and the finished ones after it that waited for it */
#ifdef _OPENMP
#pragma omp critical(sr_html_progress)
#endif
        {
            done[k] = 1;
            for (; next_report < n && done[next_report]; next_report++)
                if (!errs[next_report] && o && o->progress) {
                    char *tfn = trial_file(&s->trials[next_report]);
                    char *page = xasprintf("trials/%s.html", tfn);
                    o->progress(o->progress_ctx, page);
                    free(page);
                    free(tfn);
                }
        }
        free(p);
        free(file);
        free(tf);
        cJSON_Delete(tm);
    }
    int rc = 0;
    for (size_t k = 0; k < n; k++) {
        if (errs[k] && rc == 0) {
            snprintf(err, errlen, "%s", errs[k]);
            rc = -1;
        }
        free(errs[k]);
    }
    free(done);
    free(errs);
    free(tjs);
    return rc;
}

int sr_html_write(const char *dir, const sr_sweep *s, const sr_analysis *a, const cJSON *summary,
                  const sr_html_opts *o, char *err, size_t errlen)
{
    int self_contained = o && o->self_contained;
    tpl_set t;
    memset(&t, 0, sizeof t);
    t.dir = sr_html_templates_dir(o);
    int rc = -1;
    char *adir = sr_path_join(dir, "assets");
    char *tdir = sr_path_join(dir, "trials");
    cJSON *model = NULL;
    if (sr_mkdir_p(dir, 0777) != 0 || (!self_contained && (sr_mkdir_p(adir, 0777) != 0 || sr_mkdir_p(tdir, 0777) != 0))) {
        snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
        goto done;
    }
    if (!tpl_get(&t, "index") || !tpl_get(&t, "style.css") || !tpl_get(&t, "report.js")) {
        snprintf(err, errlen, "%s: no report templates there (index.mustache, style.css, report.js)", t.dir);
        goto done;
    }
    model = index_model(dir, s, a, summary, self_contained);
    /* the other files of the report, beside the page (not in a page that
     * travels alone) */
    cJSON_AddBoolToObject(model, "with_summary", !self_contained && o && o->with_summary);
    cJSON_AddBoolToObject(model, "with_pdf", o && o->with_pdf);
    if (self_contained) {
        cJSON_AddStringToObject(model, "inline_css", tpl_get(&t, "style.css"));
        cJSON_AddStringToObject(model, "inline_js", tpl_get(&t, "report.js"));
    } else {
        if (copy_asset(&t, "style.css", adir, err, errlen) != 0 || copy_asset(&t, "report.js", adir, err, errlen) != 0)
            goto done;
    }
    cJSON *problems = cJSON_GetObjectItemCaseSensitive(model, "problems");
    cJSON *cj;
    if (o && o->sweep_drawn) {
        cj = charts_json_from(o->sweep_drawn->charts, o->sweep_drawn->n, o->sweep_drawn->svg, o->sweep_drawn->why,
                              problems);
    } else {
        sr_named_chart *charts = NULL;
        size_t n = sr_build_sweep_charts(s, a, &charts);
        cj = charts_json(charts, n, SR_CHART_WIDTH, SR_CHART_HEIGHT, problems);
        sr_named_charts_free(charts, n);
    }
    cJSON_AddItemToObject(model, "charts", cj);
    sr_unvarying_metric *flat = NULL;
    size_t n_flat = sr_unvarying_metrics(s, a, &flat);
    char *note = sr_unvarying_metrics_text(flat, n_flat);
    sr_unvarying_metrics_free(flat, n_flat);
    if (note)
        cJSON_AddStringToObject(model, "charts_note", note);
    cJSON_AddBoolToObject(model, "charts_section", cJSON_GetArraySize(cj) > 0 || note);
    free(note);

    if (!self_contained && write_trial_pages(&t, dir, tdir, s, a, summary, model, o, err, errlen) != 0)
        goto done;
    add_flags(model);
    char *ip = sr_path_join(dir, "index.html");
    rc = render_page(&t, "index", model, ip, err, errlen);
    if (rc == 0 && o && o->progress)
        o->progress(o->progress_ctx, "index.html");
    free(ip);
done:
    cJSON_Delete(model);
    free(adir);
    free(tdir);
    tpl_free(&t);
    return rc;
}
