/* test_pdf_archive.c - the per-trial archive PDFs (PDF/A-3b) of a measured
 * synthetic sweep with CJK text planted in two params.json files, checked
 * with qpdf and poppler's tools (each check skipped when its tool is
 * missing); and CJK text in charts. */
#include "config.h"

#include "analysis.h"
#include "atomic_file.h"
#include "chart.h"
#include "charts.h"
#include "check_main.h"
#include "fixture.h"
#include "json.h"
#include "pdf_archive.h"
#include "pdf_doc.h"
#include "pdf_report.h"
#include "pdf_text.h"
#include "scan.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CJK_1 "\xe5\xad\xa6\xe4\xb9\xa0\xe7\x8e\x87\xe6\xb5\x8b\xe8\xaf\x95" /* 学习率测试 */
#define CJK_2 "\xe7\xac\xac\xe4\xba\x8c\xe4\xb8\xaa\xe8\xaf\x95\xe9\xaa\x8c" /* 第二个试验 */
#define FFFD "\xef\xbf\xbd"

static char *dir, *sw;
static sr_sweep sweep;
static sr_analysis analysis;
static sr_problems problems;

static void setup(void)
{
    dir = test_tmpdir("pdfa");
    sw = sr_path_join(dir, "sweep");
    sr_sweep first;
    sr_analysis first_a;
    fx_measured_sweep(sw, 3, 40, 11, &first, &first_a);
    sr_analysis_free(&first_a);
    sr_sweep_free(&first);
    fx_plant_note(sw, "trial_0002", CJK_1);
    fx_plant_note(sw, "trial_0001", CJK_2);
    fx_scan_analyze(sw, &sweep, &analysis);
    sr_problems_init(&problems);
}

static void teardown(void)
{
    sr_problems_free(&problems);
    sr_analysis_free(&analysis);
    sr_sweep_free(&sweep);
    if (!getenv("SR_KEEP_PDF"))
        test_rmtree(dir);
    free(sw);
    free(dir);
}

static size_t trial_index(const char *name)
{
    for (size_t i = 0; i < sweep.n_trials; i++)
        if (strcmp(sweep.trials[i].name, name) == 0)
            return i;
    ck_abort_msg("no trial %s", name);
    return 0;
}

/* The checkpoints of t with samples: the rows of its sample grid. */
static size_t sampled_rows(const sr_trial *t)
{
    size_t n = 0;
    for (size_t k = 0; k < t->n_ckpts; k++)
        n += t->ckpts[k].n_samples > 0;
    return n;
}

/* Writes every archive; all trials of the fixture have checkpoints. */
static void write_all(void)
{
    size_t n = sr_pdf_archive_sweep(&sweep, &analysis, &problems);
    ck_assert_uint_eq(n, sweep.n_trials);
    for (size_t i = 0; i < problems.n; i++)
        ck_assert_msg(strstr(problems.items[i].problem, "CJK") != NULL, "unexpected problem: %s: %s",
                      problems.items[i].path, problems.items[i].problem);
}

static char *archive_of(const char *trial)
{
    return sr_pdf_archive_path(&sweep.trials[trial_index(trial)]);
}

static char *slurp(const char *path, size_t *len)
{
    char *data = NULL;
    size_t n = 0;
    char err[256];
    ck_assert_msg(sr_read_file(path, (size_t)64 << 20, &data, &n, err, sizeof err) == 0, "%s", err);
    if (len)
        *len = n;
    return data;
}

static size_t ceil_div(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

/* pdftotext's text of a PDF (-layout when asked), UTF-8 (malloc'd). */
static char *pdf_text(const char *pdf, int layout)
{
    char *cmd = xasprintf("pdftotext %s-enc UTF-8 '%s' - 2>/dev/null", layout ? "-layout " : "", pdf);
    int st = -1;
    char *o = fx_run(cmd, &st);
    ck_assert_msg(st == 0, "pdftotext %s failed", pdf);
    free(cmd);
    return o;
}

/* The pages of text (split at form feeds) that contain marker, joined
 * (malloc'd; "" when none does). */
static char *pages_with(const char *text, const char *marker)
{
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_puts(&b, "");
    for (const char *p = text; *p;) {
        const char *ff = strchr(p, '\f');
        size_t n = ff ? (size_t)(ff - p) : strlen(p);
        char *page = xstrndup(p, n);
        if (strstr(page, marker))
            sr_buf_puts(&b, page);
        free(page);
        p += n + (ff != NULL);
    }
    return sr_buf_steal(&b);
}

/* text without its line ends: wrapped values read whole again */
static char *unwrapped(const char *text)
{
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_puts(&b, "");
    for (const char *p = text; *p; p++)
        if (*p != '\n')
            sr_buf_append(&b, p, 1);
    return sr_buf_steal(&b);
}

/* ---- the files ----------------------------------------------------------- */

START_TEST(test_archive_beside_checkpoints)
{
    write_all();
    for (size_t i = 0; i < sweep.n_trials; i++) {
        const sr_trial *t = &sweep.trials[i];
        char *want = xasprintf("%s/%s/%s_report.pdf", sweep.path, t->name, t->name);
        char *p = sr_pdf_archive_path(t);
        ck_assert_str_eq(p, want);
        size_t len;
        char *data = slurp(p, &len);
        ck_assert_msg(len > 1000 && memcmp(data, "%PDF-1.", 7) == 0, "%s is no PDF", p);
        ck_assert_int_eq(sr_pdf_archive_is_ours(p), 1);
        free(data);
        free(p);
        free(want);
        /* nothing else was left in the trial folder */
        char *cmd = xasprintf("ls -A '%s' | grep -c -e '\\.tmp' -e '\\.jpg$'", t->path);
        char *o = fx_run(cmd, NULL);
        ck_assert_msg(strtoul(o, NULL, 10) == 0, "temporary files left in %s", t->path);
        free(o);
        free(cmd);
    }
}
END_TEST

/* Every line of a listing but those naming an archive. */
static char *without_archives(const char *listing, size_t *archives)
{
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_puts(&b, "");
    *archives = 0;
    for (const char *line = listing; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);
        char *l = xstrndup(line, n);
        if (strstr(l, "_report.pdf "))
            (*archives)++;
        else
            sr_buf_puts(&b, l);
        free(l);
        line += n;
    }
    return sr_buf_steal(&b);
}

START_TEST(test_archive_touches_nothing_else)
{
    /* every file with its size, time and mode; every folder by name */
    char *cmd = xasprintf("cd '%s' && { find . -type f -printf '%%p %%s %%T@ %%m\\n'; "
                          "find . ! -type f -printf '%%p %%y\\n'; } | sort",
                          sw);
    char *before = fx_run(cmd, NULL);
    write_all();
    char *after = fx_run(cmd, NULL);
    size_t archives, none;
    char *rest = without_archives(after, &archives);
    char *was = without_archives(before, &none);
    ck_assert_uint_eq(none, 0);
    ck_assert_uint_eq(archives, sweep.n_trials);
    ck_assert_str_eq(rest, was);
    free(rest);
    free(was);
    free(before);
    free(after);
    free(cmd);
}
END_TEST

START_TEST(test_archive_qpdf_check)
{
    write_all();
    if (!fx_have_tool("qpdf"))
        return;
    for (size_t i = 0; i < sweep.n_trials; i++) {
        char *p = sr_pdf_archive_path(&sweep.trials[i]);
        char *cmd = xasprintf("qpdf --check '%s' 2>&1", p);
        int st = -1;
        char *o = fx_run(cmd, &st);
        ck_assert_msg(st == 0, "qpdf --check %s: %s", p, o);
        ck_assert_msg(strstr(o, "No syntax or stream encoding errors") != NULL, "qpdf: %s", o);
        ck_assert_msg(strstr(o, "WARNING") == NULL, "qpdf: %s", o);
        ck_assert_msg(strstr(o, "File is not encrypted") != NULL, "qpdf: %s", o);
        free(o);
        free(cmd);
        free(p);
    }
}
END_TEST

START_TEST(test_archive_fonts_embedded)
{
    write_all();
    if (!fx_have_tool("pdffonts"))
        return;
    int index;
    int cjk_font = *sr_pdf_cjk_font_file(&index) != '\0';
    for (size_t i = 0; i < sweep.n_trials; i++) {
        char *p = sr_pdf_archive_path(&sweep.trials[i]);
        char *cmd = xasprintf("pdffonts '%s' 2>&1", p);
        int st = -1;
        char *o = fx_run(cmd, &st);
        ck_assert_int_eq(st, 0);
        int n = 0, fonts = 0, dejavu = 0;
        for (char *line = o; line && *line;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            if (++n > 2 && *line) {
                fonts++;
                dejavu += strstr(line, "DejaVu") != NULL;
                /* name type encoding emb sub uni object ID */
                ck_assert_msg(strstr(line, "CID TrueType") && strstr(line, " yes yes yes "),
                              "%s: a font not embedded (or without a Unicode map): %.200s", p, line);
            }
            line = nl ? nl + 1 : NULL;
        }
        ck_assert_int_ge(dejavu, 1);
        /* the trials with CJK notes embed a third font */
        ck_assert_int_eq(fonts, 2 + (cjk_font && i < 2));
        free(o);
        free(cmd);
        free(p);
    }
}
END_TEST

/* The rank the context page should state: trials by best score. */
static size_t expected_rank(size_t ti, size_t *scored)
{
    size_t rank = 0;
    *scored = 0;
    double mine = analysis.trials[ti].best_score;
    for (size_t i = 0; i < sweep.n_trials; i++) {
        double v = analysis.trials[i].best_score;
        if (!isfinite(v))
            continue;
        (*scored)++;
        if (isfinite(mine) && (v < mine || (v == mine && i <= ti)))
            rank++;
    }
    return isfinite(mine) ? rank : 0;
}

START_TEST(test_archive_text)
{
    write_all();
    if (!fx_have_tool("pdftotext"))
        return;
    ck_assert(analysis.has_best);
    const sr_checkpoint *best = &sweep.trials[analysis.best.trial].ckpts[analysis.best.ckpt];
    for (size_t i = 0; i < sweep.n_trials; i++) {
        const sr_trial *t = &sweep.trials[i];
        char *p = sr_pdf_archive_path(t);
        char *cmd = xasprintf("pdftotext -enc UTF-8 '%s' - 2>&1", p);
        int st = -1;
        char *o = fx_run(cmd, &st);
        ck_assert_int_eq(st, 0);
        ck_assert_msg(strstr(o, "Syntax") == NULL, "%s: poppler complains: %.200s", p, strstr(o, "Syntax"));
        /* the title is the folder's name, not "Trial trial_0001" */
        char *title = xasprintf("%s\n", t->name);
        ck_assert_msg(strstr(o, title) != NULL, "%s: no '%s'", p, title);
        ck_assert_msg(strstr(o, "Trial trial_") == NULL, "%s: a title that says trial twice", p);
        ck_assert_msg(strstr(o, sweep.path) != NULL, "%s: no sweep path", p);
        /* the sweep's recommendation */
        ck_assert_msg(strstr(o, best->file) != NULL, "%s: no recommended %s", p, best->file);
        /* the trial's own best checkpoint and its rank */
        const sr_trial_analysis *ta = &analysis.trials[i];
        if (ta->best >= 0)
            ck_assert_msg(strstr(o, t->ckpts[ta->best].file) != NULL, "%s: no best checkpoint", p);
        size_t scored, rank = expected_rank(i, &scored);
        char *rs = rank ? xasprintf("%zu of %zu scored trials", rank, scored) : xstrdup("not ranked");
        ck_assert_msg(strstr(o, rs) != NULL, "%s: no '%s'", p, rs);
        for (size_t k = 0; k < t->n_ckpts; k++)
            ck_assert_msg(strstr(o, t->ckpts[k].file) != NULL, "%s: no %s", p, t->ckpts[k].file);
        if (strcmp(t->name, "trial_0002") == 0)
            ck_assert_msg(strstr(o, CJK_1) != NULL, "%s: no planted CJK text", p);
        if (strcmp(t->name, "trial_0001") == 0)
            ck_assert_msg(strstr(o, CJK_2) != NULL, "%s: no planted CJK text", p);
        ck_assert_msg(strstr(o, FFFD) == NULL, "%s: a replaced character", p);
        free(rs);
        free(title);
        free(o);
        free(cmd);
        free(p);
    }
}
END_TEST

/* The pages of the documented layout (pdf_archive.h, pdf_sections.h). */
static size_t expected_pages(size_t ti)
{
    const sr_trial *t = &sweep.trials[ti];
    size_t n = 1 + 1; /* the context page, the overview */
    if (t->n_ckpts > SR_PDF_TRIAL_ROWS_FIRST)
        n += ceil_div(t->n_ckpts - SR_PDF_TRIAL_ROWS_FIRST, SR_PDF_TRIAL_ROWS_MORE);
    n += ceil_div(sampled_rows(t), SR_PDF_GRID_ROWS);
    sr_named_chart *tc = NULL;
    size_t tn = sr_build_trial_charts(&sweep, &analysis, ti, &tc);
    sr_named_charts_free(tc, tn);
    n += ceil_div(tn, SR_PDF_TRIAL_CHARTS_PER_PAGE);
    n += 1; /* the parameters: the fixture's fit on one page */
    n += ceil_div(t->n_ckpts, SR_PDF_ARCHIVE_FILES_PER_PAGE);
    size_t probs = 0, len = strlen(t->path);
    for (size_t i = 0; i < sweep.problems.n; i++) {
        const char *pp = sweep.problems.items[i].path;
        probs += pp && strncmp(pp, t->path, len) == 0 && (pp[len] == '/' || pp[len] == '\0');
    }
    for (size_t k = 0; k < t->n_ckpts; k++)
        probs += t->ckpts[k].status == SR_CKPT_PENDING;
    n += probs ? ceil_div(probs, SR_PDF_PROBLEMS_PER_PAGE) : 1;
    return n;
}

START_TEST(test_archive_page_count)
{
    write_all();
    if (!fx_have_tool("pdfinfo"))
        return;
    for (size_t i = 0; i < sweep.n_trials; i++) {
        char *p = sr_pdf_archive_path(&sweep.trials[i]);
        char *cmd = xasprintf("pdfinfo '%s' 2>/dev/null", p);
        int st = -1;
        char *o = fx_run(cmd, &st);
        ck_assert_int_eq(st, 0);
        char *pg = strstr(o, "Pages:");
        ck_assert_ptr_nonnull(pg);
        ck_assert_uint_eq(strtoul(pg + 6, NULL, 10), expected_pages(i));
        ck_assert_msg(strstr(o, "Encrypted:       no") != NULL, "%s", o);
        free(o);
        free(cmd);
        free(p);
    }
}
END_TEST

START_TEST(test_archive_images)
{
    write_all();
    if (!fx_have_tool("pdfimages"))
        return;
    for (size_t i = 0; i < sweep.n_trials; i++) {
        char *p = sr_pdf_archive_path(&sweep.trials[i]);
        char *cmd = xasprintf("pdfimages -list '%s' 2>/dev/null", p);
        int st = -1;
        char *o = fx_run(cmd, &st);
        ck_assert_int_eq(st, 0);
        /* page num type width height color comp bpc enc interp object ID x-ppi y-ppi size ratio */
        size_t images = 0;
        double bytes = 0;
        int n = 0;
        for (char *line = o; line && *line;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            if (++n > 2 && *line) {
                char col[16][32];
                int k = sscanf(line, "%31s %31s %31s %31s %31s %31s %31s %31s %31s %31s %31s %31s %31s %31s %31s %31s",
                               col[0], col[1], col[2], col[3], col[4], col[5], col[6], col[7], col[8], col[9], col[10],
                               col[11], col[12], col[13], col[14], col[15]);
                ck_assert_int_ge(k, 15);
                ck_assert_str_eq(col[2], "image");
                ck_assert_str_eq(col[8], "jpeg");
                ck_assert_str_eq(col[9], "no"); /* no interpolation */
                images++;
                bytes += fx_pdfimages_bytes(col[14]);
            }
            line = nl ? nl + 1 : NULL;
        }
        ck_assert_uint_eq(images, ceil_div(sampled_rows(&sweep.trials[i]), SR_PDF_GRID_ROWS));
        ck_assert_msg(bytes <= 1024.0 * 1024.0, "%s: %.0f bytes of images", p, bytes);
        free(o);
        free(cmd);
        free(p);
    }
}
END_TEST

/* ---- PDF/A --------------------------------------------------------------- */

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static unsigned char *b64_decode(const char *s, size_t *len)
{
    unsigned char *out = xmalloc(strlen(s) / 4 * 3 + 4);
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *s && *s != '='; s++) {
        int v = b64_value((unsigned char)*s);
        if (v < 0)
            continue;
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    out[n] = 0;
    *len = n;
    return out;
}

/* qpdf's JSON of a file: the objects by "obj:N 0 R" and the trailer. */
typedef struct {
    cJSON *root, *objects;
} qpdf_json;

static void qpdf_json_load(qpdf_json *q, const char *pdf)
{
    char *cmd = xasprintf("qpdf --json --json-stream-data=inline '%s'", pdf);
    int st = -1;
    char *o = fx_run(cmd, &st);
    ck_assert_msg(st == 0, "qpdf --json failed on %s", pdf);
    q->root = cJSON_Parse(o);
    ck_assert_ptr_nonnull(q->root);
    cJSON *arr = cJSON_GetObjectItem(q->root, "qpdf");
    ck_assert(cJSON_IsArray(arr) && cJSON_GetArraySize(arr) == 2);
    q->objects = cJSON_GetArrayItem(arr, 1);
    free(o);
    free(cmd);
}

/* The object a reference ("4 0 R") names, or the value itself. */
static cJSON *deref(qpdf_json *q, cJSON *v)
{
    if (cJSON_IsString(v) && strstr(v->valuestring, " R")) {
        char *key = xasprintf("obj:%s", v->valuestring);
        cJSON *o = cJSON_GetObjectItem(q->objects, key);
        free(key);
        ck_assert_ptr_nonnull(o);
        return o;
    }
    return v;
}

static cJSON *dict_of(cJSON *obj)
{
    cJSON *stream = cJSON_GetObjectItem(obj, "stream");
    if (stream)
        return cJSON_GetObjectItem(stream, "dict");
    cJSON *value = cJSON_GetObjectItem(obj, "value");
    return value ? value : obj;
}

static unsigned char *stream_data(cJSON *obj, size_t *len)
{
    cJSON *stream = cJSON_GetObjectItem(obj, "stream");
    ck_assert_ptr_nonnull(stream);
    cJSON *data = cJSON_GetObjectItem(stream, "data");
    ck_assert(cJSON_IsString(data));
    return b64_decode(data->valuestring, len);
}

/* The text of a property in the XMP packet: the first rdf:li inside it, or
 * its content; entities undone. */
static char *xmp_value(const char *xmp, const char *prop)
{
    char *open = xasprintf("<%s>", prop), *close = xasprintf("</%s>", prop);
    const char *a = strstr(xmp, open), *b = a ? strstr(a, close) : NULL;
    char *v = NULL;
    if (a && b) {
        a += strlen(open);
        const char *li = strstr(a, "<rdf:li");
        if (li && li < b) {
            a = strchr(li, '>') + 1;
            b = strstr(a, "</rdf:li>");
        }
        sr_buf out;
        sr_buf_init(&out);
        sr_buf_puts(&out, "");
        for (const char *p = a; p < b; p++) {
            const char *ents[][2] = {{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}};
            int done = 0;
            for (size_t e = 0; e < 4 && !done; e++)
                if (strncmp(p, ents[e][0], strlen(ents[e][0])) == 0) {
                    sr_buf_puts(&out, ents[e][1]);
                    p += strlen(ents[e][0]) - 1;
                    done = 1;
                }
            if (!done)
                sr_buf_append(&out, p, 1);
        }
        v = sr_buf_steal(&out);
    }
    free(open);
    free(close);
    return v;
}

/* "D:20240506070809Z00'00'" as XMP writes it. */
static char *xmp_date_of(const char *d)
{
    ck_assert_msg(strncmp(d, "D:", 2) == 0 && strlen(d) >= 16, "not a PDF date: %s", d);
    d += 2;
    const char *z = d + 14;
    char zone[8];
    if (*z == 'Z' || !*z)
        snprintf(zone, sizeof zone, "Z");
    else
        snprintf(zone, sizeof zone, "%c%.2s:%.2s", z[0], z + 1, z + 4);
    return xasprintf("%.4s-%.2s-%.2sT%.2s:%.2s:%.2s%s", d, d + 4, d + 6, d + 8, d + 10, d + 12, zone);
}

static const char *json_text(cJSON *dict, const char *key)
{
    cJSON *v = cJSON_GetObjectItem(dict, key);
    if (!cJSON_IsString(v))
        return NULL;
    const char *s = v->valuestring;
    return strncmp(s, "u:", 2) == 0 ? s + 2 : s;
}

START_TEST(test_archive_pdfa)
{
    write_all();
    if (!fx_have_tool("qpdf"))
        return;
    char *p = archive_of("trial_0002");
    qpdf_json q;
    qpdf_json_load(&q, p);
    cJSON *trailer = dict_of(cJSON_GetObjectItem(q.objects, "trailer"));
    ck_assert_ptr_null(cJSON_GetObjectItem(trailer, "/Encrypt"));
    cJSON *id = cJSON_GetObjectItem(trailer, "/ID");
    ck_assert(cJSON_IsArray(id) && cJSON_GetArraySize(id) == 2);
    cJSON *catalog = dict_of(deref(&q, cJSON_GetObjectItem(trailer, "/Root")));
    cJSON *info = dict_of(deref(&q, cJSON_GetObjectItem(trailer, "/Info")));

    /* the XMP packet: PDF/A-3b, unfiltered, with the information's values */
    cJSON *meta = deref(&q, cJSON_GetObjectItem(catalog, "/Metadata"));
    cJSON *md = dict_of(meta);
    ck_assert_str_eq(json_text(md, "/Type"), "/Metadata");
    ck_assert_str_eq(json_text(md, "/Subtype"), "/XML");
    ck_assert_ptr_null(cJSON_GetObjectItem(md, "/Filter"));
    size_t xl;
    char *xmp = (char *)stream_data(meta, &xl);
    ck_assert_msg(strncmp(xmp, "<?xpacket begin=", 16) == 0, "%s", xmp);
    ck_assert_msg(strstr(xmp, "<?xpacket end=\"w\"?>") != NULL, "no packet end");
    char *part = xmp_value(xmp, "pdfaid:part"), *conf = xmp_value(xmp, "pdfaid:conformance");
    ck_assert_msg(part && conf, "no pdfaid in %s", xmp);
    ck_assert_str_eq(part, "3");
    ck_assert_str_eq(conf, "B");
    const char *pairs[][2] = {{"/Title", "dc:title"},         {"/Author", "dc:creator"},
                              {"/Subject", "dc:description"}, {"/Keywords", "pdf:Keywords"},
                              {"/Creator", "xmp:CreatorTool"}, {"/Producer", "pdf:Producer"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        const char *iv = json_text(info, pairs[i][0]);
        char *xv = xmp_value(xmp, pairs[i][1]);
        ck_assert_msg(iv && xv, "%s / %s missing", pairs[i][0], pairs[i][1]);
        ck_assert_str_eq(iv, xv);
        free(xv);
    }
    char *want_date = xmp_date_of(json_text(info, "/CreationDate"));
    char *xdate = xmp_value(xmp, "xmp:CreateDate");
    ck_assert_ptr_nonnull(xdate);
    ck_assert_str_eq(xdate, want_date);
    ck_assert_msg(strstr(json_text(info, "/Producer"), "sweepreport") == json_text(info, "/Producer"), "producer");
    ck_assert_msg(strstr(json_text(info, "/Title"), "trial_0002") != NULL, "title");
    /* the own properties are declared in an extension schema */
    ck_assert(strstr(xmp, "<pdfaSchema:prefix>sweepreport</pdfaSchema:prefix>") != NULL);
    char *trial = xmp_value(xmp, "sweepreport:Trial");
    ck_assert_ptr_nonnull(trial);
    ck_assert_str_eq(trial, "trial_0002");

    /* the output intent and its ICC profile */
    cJSON *intents = cJSON_GetObjectItem(catalog, "/OutputIntents");
    ck_assert(cJSON_IsArray(intents) && cJSON_GetArraySize(intents) == 1);
    cJSON *intent = dict_of(deref(&q, cJSON_GetArrayItem(intents, 0)));
    ck_assert_str_eq(json_text(intent, "/Type"), "/OutputIntent");
    ck_assert_str_eq(json_text(intent, "/S"), "/GTS_PDFA1");
    ck_assert_ptr_nonnull(json_text(intent, "/OutputConditionIdentifier"));
    cJSON *profile = deref(&q, cJSON_GetObjectItem(intent, "/DestOutputProfile"));
    cJSON *pd = dict_of(profile);
    ck_assert_int_eq(cJSON_GetObjectItem(pd, "/N")->valueint, 3);
    size_t il;
    unsigned char *icc = stream_data(profile, &il);
    ck_assert_uint_ge(il, 132);
    ck_assert_uint_eq(((size_t)icc[0] << 24 | (size_t)icc[1] << 16 | (size_t)icc[2] << 8 | icc[3]), il);
    ck_assert(memcmp(icc + 36, "acsp", 4) == 0);
    ck_assert(memcmp(icc + 16, "RGB ", 4) == 0);

    /* nothing transparent anywhere */
    cJSON *o;
    cJSON_ArrayForEach(o, q.objects)
    {
        cJSON *d = dict_of(o);
        if (!cJSON_IsObject(d))
            continue;
        static const char *const banned[] = {"/SMask", "/CA", "/ca", "/BM", "/Group", "/ExtGState", "/Encrypt"};
        for (size_t k = 0; k < sizeof banned / sizeof banned[0]; k++)
            ck_assert_msg(!cJSON_GetObjectItem(d, banned[k]), "%s has %s", o->string, banned[k]);
    }
    /* the header says PDF 1.7, with a binary comment line */
    size_t len;
    char *data = slurp(p, &len);
    ck_assert(memcmp(data, "%PDF-1.7\n%", 10) == 0);
    ck_assert((unsigned char)data[10] > 127 && (unsigned char)data[11] > 127 && (unsigned char)data[12] > 127 &&
              (unsigned char)data[13] > 127);
    free(data);
    free(icc);
    free(trial);
    free(xdate);
    free(want_date);
    free(part);
    free(conf);
    free(xmp);
    cJSON_Delete(q.root);
    free(p);
}
END_TEST

/* ---- glyphs ------------------------------------------------------------- */

static unsigned be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static unsigned long be32(const unsigned char *p)
{
    return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

typedef struct {
    const unsigned char *d;
    size_t len;
    unsigned long loca, glyf;
    int long_loca;
    unsigned n_glyphs;
} ttf;

static void ttf_open(ttf *f, const unsigned char *d, size_t len)
{
    memset(f, 0, sizeof *f);
    f->d = d;
    f->len = len;
    ck_assert_uint_ge(len, 12);
    unsigned n = be16(d + 4);
    unsigned long head = 0, maxp = 0;
    for (unsigned i = 0; i < n; i++) {
        const unsigned char *e = d + 12 + 16 * i;
        ck_assert_uint_le(12 + 16 * (size_t)(i + 1), len);
        if (memcmp(e, "loca", 4) == 0)
            f->loca = be32(e + 8);
        else if (memcmp(e, "glyf", 4) == 0)
            f->glyf = be32(e + 8);
        else if (memcmp(e, "head", 4) == 0)
            head = be32(e + 8);
        else if (memcmp(e, "maxp", 4) == 0)
            maxp = be32(e + 8);
    }
    ck_assert_msg(f->loca && f->glyf && head && maxp, "an embedded font without loca, glyf, head or maxp");
    f->long_loca = be16(d + head + 50) != 0;
    f->n_glyphs = be16(d + maxp + 4);
}

static void glyph_span(const ttf *f, unsigned g, unsigned long *start, unsigned long *end)
{
    ck_assert_uint_lt(g, f->n_glyphs);
    if (f->long_loca) {
        *start = be32(f->d + f->loca + 4 * (size_t)g);
        *end = be32(f->d + f->loca + 4 * (size_t)g + 4);
    } else {
        *start = 2ul * be16(f->d + f->loca + 2 * (size_t)g);
        *end = 2ul * be16(f->d + f->loca + 2 * (size_t)g + 2);
    }
    ck_assert_uint_le(f->glyf + *end, f->len);
}

/* Whether glyph g has an outline in the subset, every part of a composite
 * glyph included. */
static int glyph_whole(const ttf *f, unsigned g, int depth)
{
    unsigned long a, b;
    glyph_span(f, g, &a, &b);
    if (b <= a || depth > 8)
        return 0;
    const unsigned char *p = f->d + f->glyf + a;
    if ((short)be16(p) >= 0)
        return 1;
    size_t o = 10;
    unsigned flags;
    do {
        flags = be16(p + o);
        unsigned comp = be16(p + o + 2);
        o += 4 + (flags & 1 ? 4 : 2) + (flags & 8 ? 2 : flags & 64 ? 4 : flags & 128 ? 8 : 0);
        if (!glyph_whole(f, comp, depth + 1))
            return 0;
    } while (flags & 32);
    return 1;
}

START_TEST(test_archive_cjk_glyphs_whole)
{
    write_all();
    int index;
    if (!*sr_pdf_cjk_font_file(&index)) {
        printf("# SKIP no CJK TrueType font is installed\n");
        return;
    }
    if (!fx_have_tool("qpdf"))
        return;
    char *p = archive_of("trial_0002");
    qpdf_json q;
    qpdf_json_load(&q, p);
    /* the font that is not DejaVu: its program and its CID (Unicode) to glyph map */
    cJSON *o, *font = NULL;
    cJSON_ArrayForEach(o, q.objects)
    {
        cJSON *d = dict_of(o);
        const char *sub = cJSON_IsObject(d) ? json_text(d, "/Subtype") : NULL;
        const char *base = sub ? json_text(d, "/BaseFont") : NULL;
        if (sub && strcmp(sub, "/CIDFontType2") == 0 && base && !strstr(base, "DejaVu"))
            font = d;
    }
    ck_assert_msg(font != NULL, "no CJK font in %s", p);
    size_t ml, fl;
    unsigned char *map = stream_data(deref(&q, cJSON_GetObjectItem(font, "/CIDToGIDMap")), &ml);
    cJSON *desc = dict_of(deref(&q, cJSON_GetObjectItem(font, "/FontDescriptor")));
    unsigned char *prog = stream_data(deref(&q, cJSON_GetObjectItem(desc, "/FontFile2")), &fl);
    ttf f;
    ttf_open(&f, prog, fl);
    const unsigned char *u = (const unsigned char *)CJK_1;
    for (size_t i = 0; i < strlen(CJK_1); i += 3) {
        unsigned cp = (u[i] & 0x0Fu) << 12 | (u[i + 1] & 0x3Fu) << 6 | (u[i + 2] & 0x3Fu);
        ck_assert_uint_le(2 * (size_t)cp + 2, ml);
        unsigned gid = be16(map + 2 * (size_t)cp);
        ck_assert_msg(gid != 0, "U+%04X has no glyph", cp);
        ck_assert_msg(glyph_whole(&f, gid, 0), "U+%04X (glyph %u) lacks parts in the embedded font", cp, gid);
    }
    free(map);
    free(prog);
    cJSON_Delete(q.root);
    free(p);
}
END_TEST

/* ---- whose file ---------------------------------------------------------- */

static int has_problem_about(const char *path, const char *text)
{
    for (size_t i = 0; i < problems.n; i++)
        if (strcmp(problems.items[i].path, path) == 0 && strstr(problems.items[i].problem, text))
            return 1;
    return 0;
}

START_TEST(test_archive_foreign_left_alone)
{
    /* trial_0001: a file someone else wrote; trial_0002: a PDF sweepreport
     * wrote, but not an archive (the sweep report); trial_0003: a link */
    char *p1 = archive_of("trial_0001"), *p2 = archive_of("trial_0002"), *p3 = archive_of("trial_0003");
    const char *foreign = "%PDF-1.4\n% someone's notes on this trial\ntrailer\n<< >>\n%%EOF\n";
    ck_assert_int_eq(sr_write_file_atomic(p1, foreign, strlen(foreign), SR_ATOMIC_REPLACE), 0);
    char err[512];
    ck_assert_msg(sr_pdf_report_write(p2, &sweep, &analysis, NULL, err, sizeof err) == 0, "%s", err);
    size_t l2;
    char *report = slurp(p2, &l2);
    char *target = sr_path_join(dir, "elsewhere.pdf");
    ck_assert_int_eq(sr_write_file_atomic(target, foreign, strlen(foreign), SR_ATOMIC_REPLACE), 0);
    ck_assert_int_eq(symlink(target, p3), 0);

    size_t n = sr_pdf_archive_sweep(&sweep, &analysis, &problems);
    ck_assert_uint_eq(n, 0);
    ck_assert_msg(has_problem_about(p1, "not replaced"), "no problem names %s", p1);
    ck_assert_msg(has_problem_about(p2, "not replaced"), "no problem names %s", p2);
    ck_assert_msg(has_problem_about(p3, "not replaced"), "no problem names %s", p3);
    size_t l;
    char *now = slurp(p1, &l);
    ck_assert_uint_eq(l, strlen(foreign));
    ck_assert(memcmp(now, foreign, l) == 0);
    free(now);
    now = slurp(p2, &l);
    ck_assert(l == l2 && memcmp(now, report, l) == 0);
    free(now);
    now = slurp(target, &l);
    ck_assert(l == strlen(foreign) && memcmp(now, foreign, l) == 0);
    free(now);
    struct stat st;
    ck_assert_int_eq(lstat(p3, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    ck_assert_int_eq(sr_pdf_archive_is_ours(p1), 0);
    ck_assert_int_eq(sr_pdf_archive_is_ours(p2), 0);
    /* one problem per file, on one line */
    for (size_t i = 0; i < problems.n; i++)
        ck_assert(strchr(problems.items[i].problem, '\n') == NULL);
    ck_assert_uint_eq(problems.n, 3);
    free(report);
    free(target);
    free(p1);
    free(p2);
    free(p3);
}
END_TEST

START_TEST(test_archive_edited_is_not_ours)
{
    write_all();
    char *p = archive_of("trial_0003");
    ck_assert_int_eq(sr_pdf_archive_is_ours(p), 1);
    /* an editor saving incrementally appends an update with /Prev */
    FILE *f = fopen(p, "ab");
    ck_assert_ptr_nonnull(f);
    fputs("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\nxref\n0 1\n0000000000 65535 f \ntrailer\n"
          "<< /Size 2 /Root 1 0 R /Prev 1234 >>\nstartxref\n5678\n%%EOF\n",
          f);
    fclose(f);
    size_t before;
    char *data = slurp(p, &before);
    ck_assert_int_eq(sr_pdf_archive_is_ours(p), 0);
    char err[512];
    ck_assert_int_eq(sr_pdf_archive_write(&sweep, &analysis, trial_index("trial_0003"), &problems, err, sizeof err),
                     1);
    ck_assert(has_problem_about(p, "not replaced"));
    size_t after;
    char *again = slurp(p, &after);
    ck_assert(before == after && memcmp(data, again, after) == 0);
    free(again);
    free(data);
    free(p);

    /* an update with a cross-reference stream instead of a trailer */
    char *q = archive_of("trial_0002");
    ck_assert_int_eq(sr_pdf_archive_is_ours(q), 1);
    f = fopen(q, "ab");
    ck_assert_ptr_nonnull(f);
    fputs("9 0 obj\n<< /Type /XRef /Size 10 /W [1 2 1] /Prev 99 /Length 0 >>\nstream\n\nendstream\nendobj\n"
          "startxref\n4321\n%%EOF\n",
          f);
    fclose(f);
    ck_assert_int_eq(sr_pdf_archive_is_ours(q), 0);
    free(q);
}
END_TEST

START_TEST(test_archive_rerun_replaces)
{
    write_all();
    char *p = archive_of("trial_0001");
    struct stat a, b;
    ck_assert_int_eq(stat(p, &a), 0);
    char err[512];
    ck_assert_msg(sr_pdf_archive_write(&sweep, &analysis, trial_index("trial_0001"), &problems, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_int_eq(stat(p, &b), 0);
    /* a new file renamed over the old one, not the old one rewritten */
    ck_assert(a.st_ino != b.st_ino);
    ck_assert_int_eq(sr_pdf_archive_is_ours(p), 1);
    char *cmd = xasprintf("ls -A '%s' | grep -c '\\.tmp'", sweep.trials[trial_index("trial_0001")].path);
    char *o = fx_run(cmd, NULL);
    ck_assert_uint_eq(strtoul(o, NULL, 10), 0);
    free(o);
    free(cmd);
    if (fx_have_tool("qpdf")) {
        cmd = xasprintf("qpdf --check '%s' >/dev/null 2>&1", p);
        ck_assert_int_eq(system(cmd), 0);
        free(cmd);
    }
    free(p);
}
END_TEST

START_TEST(test_archive_unwritable)
{
    char *p = archive_of("trial_0001");
    const sr_trial *t = &sweep.trials[trial_index("trial_0001")];
    ck_assert_int_eq(chmod(t->path, 0555), 0);
    char err[512] = "";
    int rc = sr_pdf_archive_write(&sweep, &analysis, trial_index("trial_0001"), &problems, err, sizeof err);
    chmod(t->path, 0755);
    if (geteuid() == 0) {
        printf("# SKIP root writes into read-only folders\n");
        free(p);
        return;
    }
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(err, p) == err && strchr(err, '\n') == NULL, "%s", err);
    ck_assert_int_eq(access(p, F_OK), -1);
    free(p);
}
END_TEST

START_TEST(test_archive_no_profile)
{
    /* a file that is no ICC profile: nothing is written, one problem says why */
    char *bad = sr_path_join(sw, "trial_0001/params.json");
    setenv("SR_ICC_PROFILE", bad, 1);
    size_t n = sr_pdf_archive_sweep(&sweep, &analysis, &problems);
    ck_assert_uint_eq(n, 0);
    ck_assert_uint_eq(problems.n, 1);
    ck_assert_msg(strstr(problems.items[0].problem, bad) != NULL, "%s", problems.items[0].problem);
    for (size_t i = 0; i < sweep.n_trials; i++) {
        char *p = sr_pdf_archive_path(&sweep.trials[i]);
        ck_assert_int_eq(access(p, F_OK), -1);
        free(p);
    }
    unsetenv("SR_ICC_PROFILE");
    free(bad);
}
END_TEST

START_TEST(test_archive_without_cjk_font)
{
    setenv("SR_CJK_FONT", "none", 1);
    size_t n = sr_pdf_archive_sweep(&sweep, &analysis, &problems);
    ck_assert_uint_eq(n, sweep.n_trials);
    /* two trials show CJK text; the note is given once */
    size_t notes = 0;
    for (size_t i = 0; i < problems.n; i++)
        notes += strstr(problems.items[i].problem, "CJK") != NULL;
    ck_assert_uint_eq(notes, 1);
    ck_assert_uint_eq(problems.n, 1);
    char *p = archive_of("trial_0002");
    if (fx_have_tool("pdftotext")) {
        char *cmd = xasprintf("pdftotext -enc UTF-8 '%s' - 2>/dev/null", p);
        char *o = fx_run(cmd, NULL);
        ck_assert_msg(strstr(o, CJK_1) == NULL, "CJK text without a CJK font?");
        /* a visible replacement per character, and the note in the file's problems */
        ck_assert_msg(strstr(o, FFFD FFFD FFFD FFFD FFFD) != NULL, "no replacement characters");
        ck_assert_msg(strstr(o, "CJK text is shown as U+FFFD") != NULL, "no note in the PDF");
        free(o);
        free(cmd);
    }
    if (fx_have_tool("pdffonts")) {
        char *cmd = xasprintf("pdffonts '%s' 2>/dev/null | tail -n +3 | grep -c -v DejaVu", p);
        char *o = fx_run(cmd, NULL);
        ck_assert_uint_eq(strtoul(o, NULL, 10), 0);
        free(o);
        free(cmd);
    }
    unsetenv("SR_CJK_FONT");
    free(p);
}
END_TEST

/* ---- what the archive records ------------------------------------------ */

/* Folder names beyond ASCII keep their characters in the information
 * dictionary (UTF-16BE), in its XMP copy and in the bookmarks. */
static int has_outline(const cJSON *items, const char *title)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        const cJSON *t = cJSON_GetObjectItem(it, "title");
        if ((cJSON_IsString(t) && strcmp(t->valuestring, title) == 0) ||
            has_outline(cJSON_GetObjectItem(it, "kids"), title))
            return 1;
    }
    return 0;
}

START_TEST(test_archive_unicode_names)
{
    /* and one of bytes that are no UTF-8: U+FFFD in the information and the XMP alike */
    const char *const renames[][3] = {{"trial_0003", "trial_0003_caf\xc3\xa9", "trial_0003_caf\xc3\xa9"},
                                      {"trial_0001", "trial_0001_" CJK_2, "trial_0001_" CJK_2},
                                      {"trial_0002", "trial_0002_\xff", "trial_0002_" FFFD}};
    for (size_t i = 0; i < 3; i++) {
        char *from = sr_path_join(sw, renames[i][0]), *to = sr_path_join(sw, renames[i][1]);
        ck_assert_msg(rename(from, to) == 0, "%s: %s", from, strerror(errno));
        free(from);
        free(to);
    }
    sr_analysis_free(&analysis);
    sr_sweep_free(&sweep);
    fx_scan_analyze(sw, &sweep, &analysis);
    write_all();
    if (!fx_have_tool("pdfinfo") || !fx_have_tool("qpdf"))
        return;
    for (size_t i = 0; i < 3; i++) {
        const char *name = renames[i][2];
        char *p = archive_of(renames[i][1]);
        char *want_title = xasprintf("Trial %s of sweep sweep", name);
        char *cmd = xasprintf("pdfinfo -enc UTF-8 '%s' 2>&1", p);
        char *o = fx_run(cmd, NULL);
        char *line = xasprintf("Title:           %s\n", want_title);
        ck_assert_msg(strstr(o, line) != NULL, "%s: no '%s' in:\n%s", p, line, o);
        char *kw = xasprintf("trial %s\n", name);
        ck_assert_msg(strstr(o, kw) != NULL, "%s: no '%s' in the keywords:\n%s", p, kw, o);
        free(kw);
        free(line);
        free(o);
        free(cmd);

        /* the information and the XMP say the same, the real name */
        qpdf_json q;
        qpdf_json_load(&q, p);
        cJSON *trailer = dict_of(cJSON_GetObjectItem(q.objects, "trailer"));
        cJSON *info = dict_of(deref(&q, cJSON_GetObjectItem(trailer, "/Info")));
        cJSON *catalog = dict_of(deref(&q, cJSON_GetObjectItem(trailer, "/Root")));
        size_t xl;
        char *xmp = (char *)stream_data(deref(&q, cJSON_GetObjectItem(catalog, "/Metadata")), &xl);
        char *dc = xmp_value(xmp, "dc:title");
        ck_assert_ptr_nonnull(dc);
        ck_assert_str_eq(json_text(info, "/Title"), want_title);
        ck_assert_str_eq(dc, want_title);
        char *xkw = xmp_value(xmp, "pdf:Keywords");
        ck_assert_ptr_nonnull(xkw);
        ck_assert_str_eq(json_text(info, "/Keywords"), xkw);
        ck_assert_msg(strstr(xkw, name) != NULL, "keywords: %s", xkw);
        free(xkw);
        char *trial = xmp_value(xmp, "sweepreport:Trial");
        ck_assert_str_eq(trial, name);
        free(trial);
        free(dc);
        free(xmp);
        cJSON_Delete(q.root);

        /* the bookmark of the trial */
        cmd = xasprintf("qpdf --json --json-key=outlines '%s'", p);
        o = fx_run(cmd, NULL);
        cJSON *j = cJSON_Parse(o);
        ck_assert_ptr_nonnull(j);
        ck_assert_msg(has_outline(cJSON_GetObjectItem(j, "outlines"), name), "%s: no bookmark '%s':\n%s", p, name, o);
        cJSON_Delete(j);
        free(o);
        free(cmd);
        free(want_title);
        free(p);
    }
}
END_TEST

/* The rows of a pending checkpoint and of one without samples say why
 * they have no numbers; the samples page names the checkpoint it leaves
 * out; the problems list the pending one with its whole reason. */
START_TEST(test_archive_says_why_no_numbers)
{
    size_t ti = trial_index("trial_0002");
    sr_trial *t = &sweep.trials[ti];
    sr_trial_analysis *ta = &analysis.trials[ti];
    ck_assert_uint_ge(t->n_ckpts, 3);
    /* neither of them the trial's best */
    size_t bare = ta->best == 0 ? 1 : 0, pend = t->n_ckpts - 1 == (size_t)ta->best ? t->n_ckpts - 2 : t->n_ckpts - 1;
    ck_assert_uint_ne(bare, pend);
    sr_checkpoint *c = &t->ckpts[pend];
    c->status = SR_CKPT_PENDING;
    free(c->pending);
    c->pending = xstrdup("still being written: tensor data ends 4719120 bytes after the header but only 2304148 "
                         "follow it ENDOFPENDING");
    sr_metrics_free(&c->metrics);
    ta->ckpts[pend].score = NAN;
    c = &t->ckpts[bare];
    for (size_t j = 0; j < c->n_samples; j++)
        free(c->samples[j]);
    c->n_samples = 0;
    sr_metrics_free(&c->metrics);
    ta->ckpts[bare].score = NAN;
    ck_assert_int_ge(c->epoch, 0);
    char err[512];
    ck_assert_msg(sr_pdf_archive_write(&sweep, &analysis, ti, &problems, err, sizeof err) == 0, "%s", err);
    if (!fx_have_tool("pdftotext"))
        return;
    char *p = archive_of("trial_0002");
    char *o = pdf_text(p, 0);
    char *table = pages_with(o, "Per-epoch metrics");
    ck_assert_msg(strstr(table, "pending, left for the next run: still being written") != NULL,
                  "the pending row does not say why:\n%s", table);
    ck_assert_msg(strstr(table, "no samples: no image metrics, no score") != NULL,
                  "the row without samples does not say why:\n%s", table);
    char *grid = pages_with(o, "a row per checkpoint, a column per sample");
    char *said = xasprintf("Not in the grid, having no samples: epoch %ld.", c->epoch);
    ck_assert_msg(strstr(grid, said) != NULL, "no '%s' on the samples page:\n%s", said, grid);
    char *probs = pages_with(o, "\xc2\xb7 Problems"); /* the footer of each */
    ck_assert_msg(strstr(probs, "No problems found") == NULL, "no problems, with a checkpoint pending:\n%s", probs);
    char *flat = unwrapped(probs);
    ck_assert_msg(strstr(flat, t->ckpts[pend].file) != NULL, "the pending file is not named:\n%s", probs);
    ck_assert_msg(strstr(flat, "ENDOFPENDING") != NULL, "the pending reason is cut:\n%s", probs);
    free(flat);
    free(probs);
    free(said);
    free(grid);
    free(table);
    free(o);
    free(p);

    /* a pending checkpoint measured before: its numbers, and "pending" for its score */
    ti = trial_index("trial_0001");
    t = &sweep.trials[ti];
    ta = &analysis.trials[ti];
    pend = ta->best == 0 ? 1 : 0;
    c = &t->ckpts[pend];
    ck_assert_uint_gt(c->metrics.n, 0);
    c->status = SR_CKPT_PENDING;
    free(c->pending);
    c->pending = xstrdup("modified less than 30 s ago");
    ta->ckpts[pend].score = NAN;
    ck_assert_msg(sr_pdf_archive_write(&sweep, &analysis, ti, &problems, err, sizeof err) == 0, "%s", err);
    p = archive_of("trial_0001");
    o = pdf_text(p, 1);
    const char *at = strstr(o, c->file);
    ck_assert_ptr_nonnull(at);
    char *line = xstrndup(at, strcspn(at, "\n"));
    const char *word = strstr(line, " pending ");
    ck_assert_msg(word && strpbrk(word, "0123456789") && !strstr(line, "left for the next run"),
                  "the row of a pending checkpoint with numbers: '%s'", line);
    free(line);
    free(o);
    free(p);
}
END_TEST

/* Each checkpoint's size in bytes and what its metadata says of the model,
 * and who wrote the file when, are on its pages. */
START_TEST(test_archive_records_files)
{
    char day[2][16];
    time_t before = time(NULL);
    write_all();
    time_t after = time(NULL);
    struct tm tm;
    strftime(day[0], sizeof day[0], "%Y-%m-%d", gmtime_r(&before, &tm));
    strftime(day[1], sizeof day[1], "%Y-%m-%d", gmtime_r(&after, &tm));
    if (!fx_have_tool("pdftotext"))
        return;
    for (size_t i = 0; i < sweep.n_trials; i++) {
        const sr_trial *t = &sweep.trials[i];
        char *p = sr_pdf_archive_path(t);
        char *o = pdf_text(p, 1);
        char *files = pages_with(o, "checkpoint files");
        size_t with_meta = 0;
        for (size_t k = 0; k < t->n_ckpts; k++) {
            const sr_checkpoint *c = &t->ckpts[k];
            /* the file's line has its size, in bytes */
            const char *at = strstr(files, c->file);
            ck_assert_msg(at != NULL, "%s: %s is not listed:\n%s", p, c->file, files);
            char *line = xstrndup(at, strcspn(at, "\n"));
            char *size = xasprintf(" %llu ", (unsigned long long)c->size);
            ck_assert_msg(strstr(line, size) != NULL, "%s: no size%sin '%s'", p, size, line);
            free(size);
            free(line);
            if (c->meta.base_model) {
                ck_assert_msg(strstr(files, c->meta.base_model) != NULL, "%s: no base model %s", p,
                              c->meta.base_model);
                with_meta++;
            }
            if (c->meta.architecture)
                ck_assert_msg(strstr(files, c->meta.architecture) != NULL, "%s: no architecture", p);
            /* what the model was trained from, with which seed, when */
            if (c->meta.sd_model_name)
                ck_assert_msg(strstr(files, c->meta.sd_model_name) != NULL, "%s: no base model name", p);
            if (c->meta.seed) {
                const char *sat = strstr(files, "Training seed");
                ck_assert_msg(sat != NULL, "%s: no training seed", p);
                char *sline = xstrndup(sat, strcspn(sat, "\n"));
                ck_assert_msg(strstr(sline, c->meta.seed) != NULL, "%s: '%s' lacks %s", p, sline, c->meta.seed);
                free(sline);
            }
            if (isfinite(c->meta.training_started_at)) {
                char when[40];
                time_t s0 = (time_t)c->meta.training_started_at;
                strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&s0, &tm));
                ck_assert_msg(strstr(files, when) != NULL, "%s: no training start %s", p, when);
            }
        }
        ck_assert_uint_gt(with_meta, 0);
        char *w0 = xasprintf("by sweepreport " PACKAGE_VERSION " on %s", day[0]);
        char *w1 = xasprintf("by sweepreport " PACKAGE_VERSION " on %s", day[1]);
        ck_assert_msg(strstr(o, w0) || strstr(o, w1), "%s: the page does not say who wrote it when", p);
        free(w0);
        free(w1);
        free(files);
        free(o);
        free(p);
    }
}
END_TEST

/* Parameters as recorded: numbers that read back the same, values of any
 * length whole, over more than one page when they must. */
START_TEST(test_archive_params_exact)
{
    size_t ti = trial_index("trial_0003");
    cJSON *params = sweep.trials[ti].params;
    ck_assert_ptr_nonnull(params);
    cJSON_AddNumberToObject(params, "exact_lr", 0.0002648511100012578);
    cJSON_AddNumberToObject(params, "third", 1.0 / 3.0);
    sr_buf path;
    sr_buf_init(&path);
    sr_buf_puts(&path, "/models");
    for (int k = 0; k < 1200; k++)
        sr_buf_printf(&path, "/seg%04d", k);
    sr_buf_puts(&path, "/model.safetensors");
    cJSON_AddStringToObject(params, "pretrained_model_name_or_path", path.s);
    const char *args[] = {"conv_dim=4", "conv_alpha=1", "algo=lora", "dropout=0.1", "rank_dropout=0.05",
                          "module_dropout=0.0", "use_tucker=False", "preset=full", "train_norm=True ENDOFARGS"};
    cJSON_AddItemToObject(params, "network_args", cJSON_CreateStringArray(args, 9));
    char *args_json = cJSON_PrintUnformatted(cJSON_GetObjectItem(params, "network_args"));
    char err[512];
    ck_assert_msg(sr_pdf_archive_write(&sweep, &analysis, ti, &problems, err, sizeof err) == 0, "%s", err);
    if (!fx_have_tool("pdftotext"))
        return;
    char *p = archive_of("trial_0003");
    char *o = pdf_text(p, 0);
    char *pages = pages_with(o, "trial_0003 \xe2\x80\x94 parameters");
    ck_assert_msg(strstr(pages, "0.0002648511100012578") != NULL, "the learning rate is not exact:\n%s", pages);
    ck_assert_msg(strstr(pages, "0.3333333333333333") != NULL, "a third is not exact");
    ck_assert_msg(strstr(pages, "\xe2\x80\xa6") == NULL, "a value is cut:\n%s", pages);
    ck_assert_msg(strstr(pages, "trial_0003 \xe2\x80\x94 parameters (continued)") != NULL, "the long value "
                                                                                          "did not go on");
    /* every part of the long path, in order; the list whole */
    char *flat = unwrapped(pages);
    const char *at = flat;
    for (int k = 0; k < 1200; k++) {
        char seg[16];
        snprintf(seg, sizeof seg, "seg%04d/", k); /* a page may end after a slash */
        at = strstr(at, seg);
        ck_assert_msg(at != NULL, "the long path lacks %s", seg);
    }
    ck_assert_msg(strstr(at, "/model.safetensors") != NULL, "the long path's end is missing");
    ck_assert_msg(strstr(flat, args_json) != NULL, "no whole %s in:\n%s", args_json, pages);
    /* the overview says where they are */
    char *table = pages_with(o, "Per-epoch metrics");
    ck_assert_msg(strstr(table, "exact and whole, on the Parameters page") != NULL, "%s", table);
    free(table);
    free(flat);
    free(pages);
    free(o);
    free(p);
    free(args_json);
    sr_buf_free(&path);
}
END_TEST

/* The two lines of a metric's name in the per-epoch table's header do
 * not overlap (poppler's boxes: ascent and descent of the font). */
START_TEST(test_archive_header_lines_apart)
{
    write_all();
    if (!fx_have_tool("pdftotext"))
        return;
    char *p = archive_of("trial_0002");
    char *cmd = xasprintf("pdftotext -f 2 -l 2 -bbox '%s' - 2>/dev/null", p);
    char *o = fx_run(cmd, NULL);
    enum { MAX_WORDS = 512 };
    static double box[MAX_WORDS][4];
    static char word[MAX_WORDS][64];
    size_t n = 0;
    for (const char *w = o; (w = strstr(w, "<word ")) != NULL && n < MAX_WORDS; w++) {
        if (sscanf(w, "<word xMin=\"%lf\" yMin=\"%lf\" xMax=\"%lf\" yMax=\"%lf\">%63[^<]", &box[n][0], &box[n][1],
                   &box[n][2], &box[n][3], word[n]) == 5)
            n++;
    }
    size_t pairs = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(word[i]);
        if (!len || word[i][len - 1] != '_')
            continue;
        /* the second line: right-aligned under it, the nearest below */
        size_t below = SIZE_MAX;
        for (size_t k = 0; k < n; k++)
            if (k != i && fabs(box[k][2] - box[i][2]) < 0.5 && box[k][1] > box[i][1] &&
                (below == SIZE_MAX || box[k][1] < box[below][1]))
                below = k;
        ck_assert_msg(below != SIZE_MAX, "no second line under '%s'", word[i]);
        ck_assert_msg(box[below][1] >= box[i][3] - 0.01, "'%s' (down to %.2f) overlaps '%s' (from %.2f)", word[i],
                      box[i][3], word[below], box[below][1]);
        pairs++;
    }
    ck_assert_uint_ge(pairs, 2);
    free(o);
    free(cmd);
    free(p);
}
END_TEST

/* The problems page's footer names the trial, as the other pages' do. */
START_TEST(test_archive_problems_footer)
{
    write_all();
    if (!fx_have_tool("pdftotext"))
        return;
    char *p = archive_of("trial_0002");
    char *o = pdf_text(p, 0);
    char *probs = pages_with(o, "what this file could not show");
    ck_assert_msg(*probs, "no problems page");
    ck_assert_msg(strstr(probs, "sweepreport \xc2\xb7 trial_0002 \xc2\xb7 Problems") != NULL, "footer:\n%s", probs);
    free(probs);
    free(o);
    free(p);
}
END_TEST

/* ---- text and numbers, without a document -------------------------------- */

START_TEST(test_fmt_exact)
{
    const struct {
        double v;
        const char *want;
    } cases[] = {
        {0.0002648511100012578, "0.0002648511100012578"},
        {0.1, "0.1"},
        {1e-07, "1e-07"},
        {4, "4"},
        {1.0 / 3.0, "0.3333333333333333"},
        {0.00018014653501453304, "0.00018014653501453304"}, /* 17 digits */
        {123456789012345678.0, "1.2345678901234568e+17"},
        {-0.5, "-0.5"},
    };
    char b[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sr_pdf_fmt_exact(cases[i].v, b, sizeof b);
        ck_assert_str_eq(b, cases[i].want);
    }
    /* any double reads back */
    srand(7);
    for (int i = 0; i < 20000; i++) {
        double v = ((double)rand() / RAND_MAX - 0.5) * pow(10, rand() % 40 - 20);
        sr_pdf_fmt_exact(v, b, sizeof b);
        ck_assert_msg(strtod(b, NULL) == v, "%s is not %.17g", b, v);
    }
    sr_pdf_fmt_exact(NAN, b, sizeof b);
    ck_assert_str_eq(b, "\xe2\x80\x94");
}
END_TEST

START_TEST(test_string_text)
{
    sr_buf b;
    sr_buf_init(&b);
    /* accents and CJK kept; beyond U+FFFF, malformed bytes: U+FFFD; control characters: spaces */
    sr_pdf_string_text("caf\xc3\xa9 " CJK_1, &b);
    ck_assert_str_eq(b.s, "caf\xc3\xa9 " CJK_1);
    sr_pdf_string_text("a\xf0\x9f\x98\x80z", &b);
    ck_assert_str_eq(b.s, "a" FFFD "z");
    sr_pdf_string_text("a\xff\xc3z", &b);
    ck_assert_str_eq(b.s, "a" FFFD FFFD "z");
    sr_pdf_string_text("a\tb\nc", &b);
    ck_assert_str_eq(b.s, "a b c");
    sr_pdf_string_text(NULL, &b);
    ck_assert_str_eq(b.s, "");
    sr_buf_free(&b);
}
END_TEST

/* ---- charts ------------------------------------------------------------- */

START_TEST(test_chart_cjk_text)
{
    sr_pdfw w;
    char err[512];
    ck_assert_msg(sr_pdfw_open(&w, &sweep, &analysis, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(sr_pdfw_load_fonts(&w, err, sizeof err) == 0, "%s", err);
    sr_chart c;
    sr_chart_init(&c, "Score " CJK_1);
    sr_axis_set_label(&c.x, "epoch");
    sr_axis_set_label(&c.y, CJK_2);
    sr_series *s = sr_chart_add_series(&c, "trial " CJK_2, SR_SERIES_LINE, 3);
    for (size_t i = 0; i < 3; i++) {
        s->x[i] = (double)i;
        s->y[i] = 0.1 * (double)i;
    }
    c.legend = 1;
    sr_pdfw_page(&w, "chart");
    ck_assert_int_eq(sr_pdfw_chart(&w, &c, 40, 400, 500, 300), 0);
    ck_assert_uint_eq(w.extra.n, 0);
    char *path = sr_path_join(dir, "chart.pdf");
    ck_assert_msg(sr_pdfw_save(&w, path, SR_ATOMIC_REPLACE, err, sizeof err) == 0, "%s", err);
    int index;
    int cjk_font = *sr_pdf_cjk_font_file(&index) != '\0';
    ck_assert_uint_eq(w.fonts.replaced, cjk_font ? 0 : 10);
    sr_pdfw_close(&w);
    sr_chart_free(&c);
    if (cjk_font && fx_have_tool("pdftotext")) {
        char *cmd = xasprintf("pdftotext -enc UTF-8 '%s' - 2>/dev/null", path);
        char *o = fx_run(cmd, NULL);
        ck_assert_msg(strstr(o, "Score " CJK_1) != NULL, "no CJK title: %s", o);
        ck_assert_msg(strstr(o, CJK_2) != NULL, "no CJK label: %s", o);
        free(o);
        free(cmd);
    } else if (!cjk_font) {
        printf("# SKIP no CJK TrueType font is installed\n");
    }
    free(path);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("pdf_archive");
    TCase *tc = tcase_create("archive");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_archive_beside_checkpoints);
    tcase_add_test(tc, test_archive_touches_nothing_else);
    tcase_add_test(tc, test_archive_qpdf_check);
    tcase_add_test(tc, test_archive_fonts_embedded);
    tcase_add_test(tc, test_archive_text);
    tcase_add_test(tc, test_archive_page_count);
    tcase_add_test(tc, test_archive_images);
    tcase_add_test(tc, test_archive_pdfa);
    tcase_add_test(tc, test_archive_cjk_glyphs_whole);
    tcase_add_test(tc, test_archive_foreign_left_alone);
    tcase_add_test(tc, test_archive_edited_is_not_ours);
    tcase_add_test(tc, test_archive_rerun_replaces);
    tcase_add_test(tc, test_archive_unwritable);
    tcase_add_test(tc, test_archive_no_profile);
    tcase_add_test(tc, test_archive_without_cjk_font);
    tcase_add_test(tc, test_chart_cjk_text);
    tcase_add_test(tc, test_archive_unicode_names);
    tcase_add_test(tc, test_archive_says_why_no_numbers);
    tcase_add_test(tc, test_archive_records_files);
    tcase_add_test(tc, test_archive_params_exact);
    tcase_add_test(tc, test_archive_header_lines_apart);
    tcase_add_test(tc, test_archive_problems_footer);
    suite_add_tcase(s, tc);
    TCase *tt = tcase_create("text");
    tcase_add_test(tt, test_fmt_exact);
    tcase_add_test(tt, test_string_text);
    suite_add_tcase(s, tt);
    return s;
}
