/* test_html.c - the HTML report: files, escaping, links that resolve. */
#include "config.h"

#include "analysis.h"
#include "check_main.h"
#include "eval.h"
#include "fixture.h"
#include "html.h"
#include "json.h"
#include "scan.h"
#include "synth.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLANT_SCRIPT "<script>alert(1)</script>"
#define PLANT_QUOTES "\"&'<b>"

static char *read_text(const char *path)
{
    char *data = NULL;
    size_t len = 0;
    char err[256];
    ck_assert_msg(sr_read_file(path, 256u << 20, &data, &len, err, sizeof err) == 0, "%s: %s", path, err);
    return data;
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Removes a sweep of make_sweep's with the folder made for it. */
static void drop_sweep(const char *sweep)
{
    char *root = xstrdup(sweep);
    char *slash = strrchr(root, '/');
    if (slash)
        *slash = '\0';
    test_rmtree(root);
    free(root);
}

/* Writes a small measured sweep with markup planted in every params.json. */
static char *make_sweep(const char *name)
{
    char *root = test_tmpdir(name);
    char *sweep = sr_path_join(root, "my sweep");
    free(root);
    sr_synth_opts so;
    sr_synth_defaults(&so);
    so.trials = 3;
    so.epochs = 4;
    so.save_every = 2;
    so.samples = 2;
    so.size = 48;
    char err[512];
    ck_assert_msg(sr_synth(sweep, &so, err, sizeof err) == 0, "%s", err);
    DIR *d = opendir(sweep);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int planted = 0;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "trial_", 6) != 0)
            continue;
        char *p = xasprintf("%s/%s/params.json", sweep, e->d_name);
        cJSON *params = NULL;
        if (exists(p)) {
            char *text = read_text(p);
            params = cJSON_Parse(text);
            free(text);
        }
        if (!cJSON_IsObject(params)) {
            cJSON_Delete(params);
            params = cJSON_CreateObject();
        }
        cJSON_AddStringToObject(params, "note", PLANT_SCRIPT);
        cJSON_AddStringToObject(params, "tag", PLANT_QUOTES);
        char *out = cJSON_Print(params);
        FILE *f = fopen(p, "w");
        ck_assert_ptr_nonnull(f);
        fputs(out, f);
        fclose(f);
        cJSON_free(out);
        cJSON_Delete(params);
        free(p);
        planted++;
    }
    closedir(d);
    ck_assert_int_gt(planted, 0);

    sr_eval_opts eo;
    sr_eval_defaults(&eo);
    eo.device = "cpu";
    eo.quiet = 1;
    eo.jobs = 2;
    sr_eval_stats st;
    sr_problems pr;
    memset(&pr, 0, sizeof pr);
    ck_assert_msg(sr_eval(sweep, &eo, &st, &pr, err, sizeof err) == 0, "%s", err);
    sr_problems_free(&pr);
    return sweep;
}

static void build_site(const char *sweep, const char *out, int self_contained)
{
    char err[512];
    sr_sweep s;
    sr_analysis a;
    fx_scan_analyze(sweep, &s, &a);
    ck_assert_msg(a.has_best, "the synthetic sweep has a recommendation");
    cJSON *summary = sr_summary_json(&s, &a, "2026-01-02T03:04:05+0000");
    sr_html_opts ho = {.templates_dir = NULL, .self_contained = self_contained};
    ck_assert_msg(sr_html_write(out, &s, &a, summary, &ho, err, sizeof err) == 0, "%s", err);
    cJSON_Delete(summary);
    sr_analysis_free(&a);
    sr_sweep_free(&s);
}

/* Every href="..." and src="..." of a page: relative ones must name an
 * existing file (after percent-decoding, without a fragment or query). */
static size_t check_links(const char *page, const char *text, int allow_relative)
{
    char *dir = xstrdup(page);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    size_t n = 0;
    static const char *const attrs[] = {" href=\"", " src=\""};
    for (size_t k = 0; k < 2; k++) {
        for (const char *p = strstr(text, attrs[k]); p; p = strstr(p + 1, attrs[k])) {
            const char *v = p + strlen(attrs[k]);
            const char *end = strchr(v, '"');
            ck_assert_ptr_nonnull(end);
            char *val = xstrndup(v, (size_t)(end - v));
            if (!strncmp(val, "data:", 5) || val[0] == '#' || val[0] == '\0') {
                free(val);
                continue;
            }
            ck_assert_msg(!strstr(val, "://"), "%s: external URL %s", page, val);
            ck_assert_msg(val[0] != '/', "%s: absolute link %s", page, val);
            ck_assert_msg(allow_relative, "%s: relative link %s in a self-contained page", page, val);
            /* &amp; in attributes, then percent-decoding */
            sr_buf b;
            sr_buf_init(&b);
            for (const char *c = val; *c && *c != '#' && *c != '?'; c++) {
                if (!strncmp(c, "&amp;", 5)) {
                    sr_buf_puts(&b, "&");
                    c += 4;
                } else if (*c == '%' && c[1] && c[2]) {
                    char hex[3] = {c[1], c[2], 0};
                    char ch = (char)strtol(hex, NULL, 16);
                    sr_buf_append(&b, &ch, 1);
                    c += 2;
                } else {
                    sr_buf_append(&b, c, 1);
                }
            }
            char *target = xasprintf("%s/%s", dir, b.s);
            ck_assert_msg(exists(target), "%s: link %s does not resolve (%s)", page, val, target);
            free(target);
            sr_buf_free(&b);
            free(val);
            n++;
        }
    }
    free(dir);
    return n;
}

static void check_page(const char *path, int allow_relative)
{
    char *text = read_text(path);
    ck_assert_msg(!strstr(text, "<script>alert"), "%s: planted markup rendered raw", path);
    ck_assert_msg(!strstr(text, "<b>"), "%s: planted <b> rendered raw", path);
    ck_assert_msg(!strstr(text, "http://") && !strstr(text, "https://"), "%s: has an external URL", path);
    ck_assert_msg(strstr(text, "<!doctype html>") != NULL, "%s: not an HTML page", path);
    check_links(path, text, allow_relative);
    free(text);
}

/* The leaderboard lists the trials best first: their best scores never
 * get better down the table, unscored trials last; the first row is the
 * recommended trial's, ranked 1. */
static void check_leaderboard_order(const char *sweep, const char *index_text)
{
    sr_sweep s;
    sr_analysis a;
    fx_scan_analyze(sweep, &s, &a);
    const char *table = strstr(index_text, "id=\"leaderboard\"");
    ck_assert_ptr_nonnull(table);
    const char *end = strstr(table, "</table>");
    ck_assert_ptr_nonnull(end);
    ck_assert_msg(strstr(index_text, "by best score, lower is better") != NULL, "no order named");
    size_t rows = 0;
    double prev = -INFINITY;
    int unscored = 0;
    const char *body = strstr(table, "<tbody>");
    ck_assert_ptr_nonnull(body);
    for (const char *p = strstr(body, "<tr"); p && p < end; p = strstr(p + 1, "<tr")) {
        const char *td = strstr(p, "<td data-sort=\"");
        if (!td || td > end)
            break;
        td += strlen("<td data-sort=\"");
        size_t i = 0;
        while (i < s.n_trials && strncmp(td, s.trials[i].name, strlen(s.trials[i].name)) != 0)
            i++;
        ck_assert_msg(i < s.n_trials, "an unknown trial in row %zu", rows + 1);
        if (rows == 0) {
            ck_assert(a.has_best);
            ck_assert_msg(i == a.best.trial, "the first row is %s, not the recommended trial", s.trials[i].name);
            ck_assert_msg(strncmp(p, "<tr class=\"recommended\"><td class=\"num\" data-sort=\"1\">1</td>", 59) == 0,
                          "the first row is not ranked 1: %.80s", p);
        }
        double v = a.trials[i].best_score;
        if (isfinite(v)) {
            ck_assert_msg(!unscored, "%s is scored but follows an unscored trial", s.trials[i].name);
            ck_assert_msg(v >= prev, "%s (%g) follows a worse trial (%g)", s.trials[i].name, v, prev);
            prev = v;
        } else {
            unscored = 1;
        }
        rows++;
    }
    ck_assert_uint_eq(rows, s.n_trials);
    sr_analysis_free(&a);
    sr_sweep_free(&s);
}

/* Digits after the point in a number's text; -1 for one with an exponent
 * or no number. */
static int decimals_of(const char *t, size_t n)
{
    if (memchr(t, 'e', n) || n == 0 || !(isdigit((unsigned char)t[0]) || t[0] == '-'))
        return -1;
    const char *dot = memchr(t, '.', n);
    return dot ? (int)(n - (size_t)(dot + 1 - t)) : 0;
}

/* In the per-epoch table of a trial page, each column's numbers have the
 * same number of decimals (those with an exponent aside): they line up. */
static void check_columns_line_up(const char *page)
{
    const char *tab = strstr(page, "id=\"epochs\"");
    ck_assert_ptr_nonnull(tab);
    const char *end = strstr(tab, "</table>");
    int want[64];
    for (int k = 0; k < 64; k++)
        want[k] = -2;
    size_t rows = 0;
    for (const char *r = strstr(tab, "<tbody>"); (r = strstr(r, "<tr")) && r < end; r++, rows++) {
        const char *row_end = strstr(r, "</tr>");
        int k = 0;
        for (const char *c = r; (c = strstr(c, "<td class=\"num\" data-sort=\"")) && c < row_end && k < 64; c++, k++) {
            const char *text = strchr(c + 10, '>') + 1;
            size_t n = strcspn(text, "<");
            int d = decimals_of(text, n);
            if (d < 0)
                continue;
            if (want[k] == -2)
                want[k] = d;
            ck_assert_msg(d == want[k], "column %d: '%.*s' has %d decimals, the column %d", k, (int)n, text, d,
                          want[k]);
        }
    }
    ck_assert_uint_ge(rows, 2);
}

/* The recommendation card lists the runners-up of the analysis, in order,
 * each with how it compares with the recommendation. */
static void check_runners_up(const char *sweep, const char *index)
{
    sr_sweep s;
    sr_analysis a;
    fx_scan_analyze(sweep, &s, &a);
    ck_assert_uint_gt(a.n_runners_up, 0);
    const char *table = strstr(index, "<table class=\"runners-up\">");
    ck_assert_msg(table != NULL, "no runners-up table");
    const char *end = strstr(table, "</table>");
    const char *at = table;
    for (size_t k = 0; k < a.n_runners_up; k++) {
        sr_ckpt_ref r = a.runners_up[k];
        char want[512];
        snprintf(want, sizeof want, "<code>%s</code>", s.trials[r.trial].ckpts[r.ckpt].file);
        const char *row = strstr(at, want);
        ck_assert_msg(row && row < end, "runner-up %zu (%s) missing or out of order", k, want);
        /* lower is better here: a higher score is worse, a lower one better */
        ck_assert(!a.maximize);
        double score = a.trials[r.trial].ckpts[r.ckpt].score, rel = fabs(score / a.best_score - 1) * 100;
        snprintf(want, sizeof want, "<td class=\"num\">%.1f %% %s</td>", rel, score >= a.best_score ? "worse" : "better");
        const char *g = strstr(row, want);
        ck_assert_msg(g && g < strstr(row, "</tr>"), "runner-up %zu: no gap %s", k, want);
        at = row + 1;
    }
    sr_analysis_free(&a);
    sr_sweep_free(&s);
}

START_TEST(test_site)
{
    char *sweep = make_sweep("html_site");
    char *out = xasprintf("%s/report", sweep);
    build_site(sweep, out, 0);

    char *index = sr_path_join(out, "index.html");
    char *css = sr_path_join(out, "assets/style.css");
    char *js = sr_path_join(out, "assets/report.js");
    ck_assert(exists(index));
    ck_assert(exists(css));
    ck_assert(exists(js));
    char *trial = sr_path_join(out, "trials/trial_0001.html");
    ck_assert_msg(exists(trial), "%s missing", trial);
    char *sheet = sr_path_join(out, "assets/trial_0001-sheet.jpg");
    ck_assert_msg(exists(sheet), "%s missing", sheet);

    check_page(index, 1);
    check_page(trial, 1);
    char *tt = read_text(trial);
    /* the planted values show, escaped */
    ck_assert_msg(strstr(tt, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL, "escaped script not shown");
    ck_assert_msg(strstr(tt, "&quot;&amp;&#39;&lt;b&gt;") != NULL, "escaped quotes not shown");
    /* inline SVG charts, the contact sheet with links to the originals */
    ck_assert(strstr(tt, "<svg") != NULL);
    ck_assert(strstr(tt, "trial_0001-sheet.jpg") != NULL);
    ck_assert(strstr(tt, "../../trial_0001/") != NULL);
    check_columns_line_up(tt);
    /* the score, here one metric, is the Score column and not a second one */
    ck_assert_msg(strstr(tt, "title=\"pixar_score\">Score</th>") != NULL, "the Score column does not name its metric");
    ck_assert_msg(strstr(tt, ">pixar_score</th>") == NULL, "pixar_score twice");
    /* the per-epoch table leads with the seed's metrics, then the image and weight ones, the rest last */
    const char *cols[] = {">mean_brightness</th>", ">mean_sharpness</th>", ">weight_delta_norm</th>",
                          ">inspector_avg_magnitude_te</th>"};
    const char *prev_col = tt;
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
        const char *at = strstr(tt, cols[k]);
        ck_assert_msg(at != NULL, "no column %s", cols[k]);
        ck_assert_msg(at > prev_col, "column %s is out of order", cols[k]);
        prev_col = at;
    }
    free(tt);
    char *it = read_text(index);
    ck_assert(strstr(it, "id=\"leaderboard\"") != NULL);
    check_leaderboard_order(sweep, it);
    check_runners_up(sweep, it);
    ck_assert(strstr(it, "trials/trial_0001.html") != NULL);
    ck_assert(strstr(it, "<svg") != NULL);
    ck_assert(strstr(it, "navigator") == NULL); /* the script is a file, not inline */
    free(it);
    for (const char *const *p = (const char *const[]){css, js, NULL}; *p; p++) {
        char *t = read_text(*p);
        ck_assert_msg(!strstr(t, "http://") && !strstr(t, "https://"), "%s: external URL", *p);
        free(t);
    }
    /* every trial page resolves too */
    char *tdir = sr_path_join(out, "trials");
    DIR *d = opendir(tdir);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int pages = 0;
    while ((e = readdir(d)) != NULL) {
        if (!sr_str_has_suffix(e->d_name, ".html"))
            continue;
        char *p = sr_path_join(tdir, e->d_name);
        check_page(p, 1);
        free(p);
        pages++;
    }
    closedir(d);
    ck_assert_int_eq(pages, 3);
    free(tdir);

    /* writing again over the same folder works; a trial folder with no
     * checkpoint yet says so on its page, with the problem its folder has,
     * and a trial with no scored final checkpoint has no overfit verdict */
    fx_write(sweep, "trial_0004/params.json", "{\"learning_rate\": 0.0001}");
    fx_write(sweep, "trial_0005/params.json", "{\"learning_rate\": 0.0002}");
    fx_write_lora(sweep, "trial_0005/lora_trial_5-000002.safetensors", NULL); /* no samples, no score */
    fx_write_lora_truncated(sweep, "trial_0005/lora_trial_5-000004.safetensors", 200); /* cut short */
    build_site(sweep, out, 0);
    ck_assert(exists(index));
    char *empty = sr_path_join(out, "trials/trial_0004.html");
    char *et = read_text(empty);
    ck_assert_msg(strstr(et, "No checkpoint in this trial yet.") != NULL, "the empty trial's page says nothing");
    ck_assert_msg(strstr(et, "</code>: no checkpoint in this trial</li>") != NULL, "its folder's problem is not listed");
    ck_assert_msg(strstr(et, "<table class=\"sortable metrics\" id=\"epochs\">") == NULL, "an empty table");
    free(et);
    free(empty);
    char *unscored = sr_path_join(out, "trials/trial_0005.html");
    char *ut = read_text(unscored);
    ck_assert_msg(strstr(ut, "No checkpoint here has a score yet: pixar_score needs metrics") != NULL,
                  "a trial without scores does not say why");
    /* the cut checkpoint's status comes with its reason, the status word once */
    const char *cut = strstr(ut, "<td class=\"status-why\">incomplete<br><span class=\"muted\">");
    ck_assert_msg(cut != NULL, "the incomplete checkpoint's reason is not shown");
    ck_assert_msg(strncmp(strstr(cut, "muted\">") + 7, "incomplete", 10) != 0, "the status word twice");
    free(ut);
    free(unscored);
    char *it2 = read_text(index);
    const char *row = strstr(it2, ">trial_0004</a></td>");
    ck_assert_ptr_nonnull(row);
    const char *end = strstr(row, "</tr>");
    ck_assert_ptr_nonnull(end);
    char *cells = xstrndup(row, (size_t)(end - row));
    ck_assert_msg(strstr(cells, "title=\"no scored final checkpoint yet\">\xe2\x80\x94</span>") != NULL,
                  "an overfit verdict without a final score: %s", cells);
    free(cells);
    /* no chart of a flat line (no measured file has a NaN here): a sentence */
    ck_assert_msg(strstr(it2, "Not charted, the same in every checkpoint that has it:") != NULL &&
                      strstr(it2, "weight_nonfinite 0") != NULL,
                  "no sentence for the metrics that are the same everywhere");
    ck_assert_msg(strstr(it2, "weight_nonfinite by epoch") == NULL, "a chart of a flat line");
    /* what overfit means is on the page, not only in a tooltip */
    ck_assert_msg(strstr(it2, "<p class=\"hint muted\">Overfit: the final checkpoint scores worse than the trial's best") !=
                      NULL,
                  "the overfit rule is not on the page");
    free(it2);

    free(sheet);
    free(trial);
    free(js);
    free(css);
    free(index);
    free(out);
    drop_sweep(sweep);
    free(sweep);
}
END_TEST

START_TEST(test_self_contained)
{
    char *sweep = make_sweep("html_single");
    char *out = xasprintf("%s/single", sweep);
    build_site(sweep, out, 1);
    char *index = sr_path_join(out, "index.html");
    ck_assert(exists(index));
    check_page(index, 0);
    char *text = read_text(index);
    ck_assert_msg(strstr(text, "assets/") == NULL, "refers to assets");
    ck_assert(strstr(text, "<style>") != NULL);
    ck_assert(strstr(text, "src=\"data:image/png;base64,") != NULL);
    ck_assert(strstr(text, "navigator.clipboard") != NULL);
    free(text);
    char *assets = sr_path_join(out, "assets");
    ck_assert(!exists(assets));
    free(assets);
    free(index);
    free(out);
    drop_sweep(sweep);
    free(sweep);
}
END_TEST

/* The site of a synthetic sweep made with so, in a folder of its own,
 * and the sweep scanned and analysed; the text of the first trial's page. */
typedef struct {
    char *root, *sweep, *out, *page;
    sr_sweep s;
    sr_analysis a;
} own_site;

static void own_site_make(own_site *w, const char *tag, const sr_synth_opts *so)
{
    char err[512];
    w->root = test_tmpdir(tag);
    w->sweep = sr_path_join(w->root, "sweep");
    ck_assert_msg(sr_synth(w->sweep, so, err, sizeof err) == 0, "%s", err);
    w->out = sr_path_join(w->root, "report");
    build_site(w->sweep, w->out, 0);
    fx_scan_analyze(w->sweep, &w->s, &w->a);
    char *path = xasprintf("%s/trials/%s.html", w->out, w->s.trials[0].name);
    w->page = read_text(path);
    free(path);
}

static void own_site_free(own_site *w)
{
    sr_analysis_free(&w->a);
    sr_sweep_free(&w->s);
    test_rmtree(w->root);
    free(w->page);
    free(w->out);
    free(w->sweep);
    free(w->root);
}

/* How many times needle starts in [from, end). */
static size_t count_in(const char *from, const char *end, const char *needle)
{
    size_t n = 0;
    for (const char *p = from; (p = strstr(p, needle)) != NULL && p < end; p++)
        n++;
    return n;
}

/* The page's Samples section: *end is its end. */
static const char *samples_section(const char *page, const char **end)
{
    const char *section = strstr(page, "id=\"sheet-h\"");
    ck_assert_ptr_nonnull(section);
    *end = strstr(section, "</section>");
    ck_assert_ptr_nonnull(*end);
    return section;
}

/* A checkpoint with more samples than the sheet shows: each row has the
 * first 32, each linked, and the page says so. */
START_TEST(test_sheet_many_samples)
{
    sr_synth_opts so;
    sr_synth_defaults(&so);
    so.trials = 2;
    so.epochs = 2;
    so.save_every = 2;
    so.samples = 40;
    so.size = 16;
    own_site w;
    own_site_make(&w, "html_many", &so);
    const sr_trial *t = &w.s.trials[0];
    size_t most = 0, links = 0;
    for (size_t j = 0; j < t->n_ckpts; j++) {
        size_t n = t->ckpts[j].n_samples;
        most = n > most ? n : most;
        links += n < 32 ? n : 32;
    }
    ck_assert_uint_gt(most, 32);
    char note[96];
    snprintf(note, sizeof note, "The first 32 samples of each checkpoint; one has %zu.", most);
    ck_assert_msg(strstr(w.page, note) != NULL, "no '%s'", note);
    const char *end, *section = samples_section(w.page, &end);
    ck_assert_uint_eq(count_in(section, end, "<a href=\""), links);
    own_site_free(&w);
}
END_TEST

/* A trial with more checkpoints than one image of the sheet holds (100)
 * gets its sheet in parts, every checkpoint's samples linked. */
START_TEST(test_sheet_in_parts)
{
    sr_synth_opts so;
    sr_synth_defaults(&so);
    so.trials = 1;
    so.epochs = 230;
    so.save_every = 1;
    so.samples = 1;
    so.size = 16;
    so.rank = 1;
    own_site w;
    own_site_make(&w, "html_tall", &so);
    const sr_trial *t = &w.s.trials[0];
    size_t rows = 0, links = 0;
    for (size_t j = 0; j < t->n_ckpts; j++) {
        rows += t->ckpts[j].n_samples > 0;
        links += t->ckpts[j].n_samples;
    }
    ck_assert_uint_gt(rows, 200);
    const size_t parts = (rows + 99) / 100;
    const char *end, *section = samples_section(w.page, &end);
    ck_assert_uint_eq(count_in(section, end, "<img src=\""), parts);
    ck_assert_uint_eq(count_in(section, end, "<a href=\""), links);
    for (size_t k = 1; k <= parts; k++) {
        char *jpg = k == 1 ? xasprintf("%s/assets/%s-sheet.jpg", w.out, t->name)
                           : xasprintf("%s/assets/%s-sheet-%zu.jpg", w.out, t->name, k);
        ck_assert_msg(exists(jpg), "%s missing", jpg);
        free(jpg);
    }
    ck_assert_msg(strstr(w.page, "too large a sheet") == NULL, "a part is too large");
    own_site_free(&w);
}
END_TEST

START_TEST(test_missing_templates)
{
    char *sweep = make_sweep("html_notpl");
    char *out = xasprintf("%s/r", sweep);
    char err[512];
    sr_sweep s;
    sr_analysis a;
    fx_scan_analyze(sweep, &s, &a);
    cJSON *summary = sr_summary_json(&s, &a, NULL);
    char *none = sr_path_join(sweep, "no-templates");
    sr_html_opts ho = {.templates_dir = none};
    ck_assert_int_eq(sr_html_write(out, &s, &a, summary, &ho, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "no-templates") != NULL, "%s", err);
    free(none);
    cJSON_Delete(summary);
    sr_analysis_free(&a);
    sr_sweep_free(&s);
    free(out);
    drop_sweep(sweep);
    free(sweep);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("html");
    TCase *tc = tcase_create("html");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_site);
    tcase_add_test(tc, test_self_contained);
    tcase_add_test(tc, test_missing_templates);
    tcase_add_test(tc, test_sheet_many_samples);
    tcase_add_test(tc, test_sheet_in_parts);
    suite_add_tcase(s, tc);
    return s;
}
