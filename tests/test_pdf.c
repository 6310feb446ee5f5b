/* test_pdf.c - the PDF report of a measured synthetic sweep, checked with
 * qpdf and poppler's tools (each check skipped when its tool is missing). */
#include "config.h"

#include "analysis.h"
#include "atomic_file.h"
#include "charts.h"
#include "check_main.h"
#include "fixture.h"
#include "eval.h"
#include "pdf_report.h"
#include "pdf_text.h"
#include "scan.h"
#include "synth.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir;
static char *pdf;
static sr_sweep sweep;
static sr_analysis analysis;
static int analysed;

/* 学习率测试, planted in trial_0002's params.json */
#define LONG_NOTE 70000
#define CJK "\xe5\xad\xa6\xe4\xb9\xa0\xe7\x8e\x87\xe6\xb5\x8b\xe8\xaf\x95"
#define FFFD "\xef\xbf\xbd"

static void setup(void)
{
    dir = test_tmpdir("pdf");
    char *sw = sr_path_join(dir, "sweep");
    fx_measured_sweep(sw, 4, 48, 5, &sweep, &analysis);
    sr_analysis_free(&analysis);
    sr_sweep_free(&sweep);
    fx_plant_note(sw, "trial_0002", CJK);
    /* a value longer than libharu measures at once (65535 bytes) */
    char *lengthy = xmalloc(LONG_NOTE + 1);
    memset(lengthy, 'L', LONG_NOTE);
    lengthy[LONG_NOTE] = '\0';
    fx_plant_note(sw, "trial_0003", lengthy);
    free(lengthy);
    fx_scan_analyze(sw, &sweep, &analysis);
    analysed = 1;
    free(sw);
    char *out = sr_path_join(dir, "out");
    sr_mkdir_p(out, 0755);
    pdf = sr_path_join(out, "report.pdf");
    free(out);
}

static void teardown(void)
{
    if (analysed)
        sr_analysis_free(&analysis);
    sr_sweep_free(&sweep);
    if (!getenv("SR_KEEP_PDF"))
        test_rmtree(dir);
    free(dir);
    free(pdf);
}

static void write_pdf(void)
{
    char err[512];
    int rc = sr_pdf_report_write(pdf, &sweep, &analysis, NULL, err, sizeof err);
    ck_assert_msg(rc == 0, "sr_pdf_report_write: %s", err);
    struct stat stt;
    ck_assert_int_eq(stat(pdf, &stt), 0);
    ck_assert(stt.st_size > 1000);
}

static size_t ceil_div(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

/* The checkpoints of t with samples, and the pages their grid takes. */
static size_t sampled_rows(const sr_trial *t)
{
    size_t n = 0;
    for (size_t k = 0; k < t->n_ckpts; k++)
        n += t->ckpts[k].n_samples > 0;
    return n;
}

static size_t grid_pages(const sr_trial *t)
{
    return ceil_div(sampled_rows(t), SR_PDF_GRID_ROWS);
}

/* The page count of the documented layout (pdf_report.h). */
static size_t expected_pages(void)
{
    size_t n = 1;
    n += sweep.n_trials ? ceil_div(sweep.n_trials, SR_PDF_LEADERBOARD_ROWS) : 1;
    sr_named_chart *c = NULL;
    size_t nc = sr_build_sweep_charts(&sweep, &analysis, &c);
    sr_named_charts_free(c, nc);
    n += ceil_div(nc, 2);
    for (size_t i = 0; i < sweep.n_trials; i++) {
        const sr_trial *t = &sweep.trials[i];
        n += 1;
        if (t->n_ckpts > SR_PDF_TRIAL_ROWS_FIRST)
            n += ceil_div(t->n_ckpts - SR_PDF_TRIAL_ROWS_FIRST, SR_PDF_TRIAL_ROWS_MORE);
        n += grid_pages(t);
        sr_named_chart *tc = NULL;
        size_t tn = sr_build_trial_charts(&sweep, &analysis, i, &tc);
        sr_named_charts_free(tc, tn);
        n += ceil_div(tn, SR_PDF_TRIAL_CHARTS_PER_PAGE);
    }
    n += sweep.problems.n ? ceil_div(sweep.problems.n, SR_PDF_PROBLEMS_PER_PAGE) : 1;
    return n;
}

START_TEST(test_pdf_written_atomically)
{
    write_pdf();
    FILE *f = fopen(pdf, "rb");
    ck_assert_ptr_nonnull(f);
    char head[8] = {0};
    ck_assert_uint_eq(fread(head, 1, 5, f), 5);
    fclose(f);
    ck_assert_str_eq(head, "%PDF-");
    /* nothing left beside it */
    char *out = sr_path_join(dir, "out");
    char *cmd = xasprintf("ls -A '%s'", out);
    char *ls = fx_run(cmd, NULL);
    ck_assert_ptr_nonnull(ls);
    ck_assert_str_eq(ls, "report.pdf\n");
    free(ls);
    free(cmd);
    free(out);
    /* a second write replaces it */
    write_pdf();
}
END_TEST

START_TEST(test_pdf_unwritable)
{
    char err[512] = "";
    int rc = sr_pdf_report_write("/nonexistent-dir/x/report.pdf", &sweep, &analysis, NULL, err, sizeof err);
    ck_assert_int_eq(rc, -1);
    ck_assert(strlen(err) > 0);
}
END_TEST

START_TEST(test_pdf_qpdf_check)
{
    write_pdf();
    if (!fx_have_tool("qpdf"))
        return;
    char *cmd = xasprintf("qpdf --check '%s' 2>&1", pdf);
    int st = -1;
    char *o = fx_run(cmd, &st);
    ck_assert_msg(st == 0, "qpdf --check: %s", o ? o : "");
    ck_assert_msg(strstr(o, "No syntax or stream encoding errors") != NULL, "qpdf: %s", o);
    ck_assert_msg(strstr(o, "WARNING") == NULL, "qpdf: %s", o);
    free(o);
    free(cmd);
}
END_TEST

START_TEST(test_pdf_fonts_embedded)
{
    write_pdf();
    if (!fx_have_tool("pdffonts"))
        return;
    char *cmd = xasprintf("pdffonts '%s' 2>/dev/null", pdf);
    int st = -1;
    char *o = fx_run(cmd, &st);
    ck_assert_int_eq(st, 0);
    /* name type encoding emb sub uni object ID: after the two header lines,
     * each line's emb column is "yes" */
    char *line = o;
    int n = 0, fonts = 0, dejavu = 0;
    while (line && *line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (++n > 2 && *line) {
            fonts++;
            dejavu += strstr(line, "DejaVu") != NULL;
            /* name type encoding emb sub uni object ID */
            ck_assert_msg(strstr(line, "CID TrueType") && strstr(line, " yes yes yes "),
                          "font not embedded (or without a Unicode map): %s", line);
        }
        line = nl ? nl + 1 : NULL;
    }
    /* DejaVu regular and bold, and the CJK font for the planted note */
    int index;
    ck_assert_int_eq(dejavu, 2);
    ck_assert_int_eq(fonts, *sr_pdf_cjk_font_file(&index) ? 3 : 2);
    free(o);
    free(cmd);
}
END_TEST

START_TEST(test_pdf_text)
{
    write_pdf();
    if (!fx_have_tool("pdftotext"))
        return;
    char *cmd = xasprintf("pdftotext -enc UTF-8 '%s' - 2>/dev/null", pdf);
    int st = -1;
    char *o = fx_run(cmd, &st);
    ck_assert_int_eq(st, 0);
    ck_assert(analysis.has_best);
    const sr_checkpoint *best = &sweep.trials[analysis.best.trial].ckpts[analysis.best.ckpt];
    ck_assert_msg(strstr(o, best->file) != NULL, "no %s in the text", best->file);
    for (size_t i = 0; i < sweep.n_trials; i++)
        ck_assert_msg(strstr(o, sweep.trials[i].name) != NULL, "no %s in the text", sweep.trials[i].name);
    int index;
    if (*sr_pdf_cjk_font_file(&index))
        ck_assert_msg(strstr(o, "note = " CJK) != NULL, "no planted CJK text");
    else
        printf("# SKIP no CJK TrueType font is installed\n");
    ck_assert_msg(strstr(o, FFFD) == NULL || !*sr_pdf_cjk_font_file(&index), "a replaced character");
    /* the long value is shown cut, with an ellipsis, and the rest of the
     * document is there */
    const char *note = strstr(o, "note = LLLLLLLLLL");
    ck_assert_msg(note != NULL, "no long note in the text");
    size_t run = strspn(note + 7, "L");
    ck_assert_msg(run > 10 && run < 1000 && strncmp(note + 7 + run, "\xe2\x80\xa6", 3) == 0,
                  "the long note is not cut with an ellipsis (%zu L)", run);
    /* no parameter line of dashes only (a category with no rank correlation
     * and too few trials for PED-ANOVA) */
    ck_assert_msg(strstr(o, "importance \xe2\x80\x94, \xcf\x81 \xe2\x80\x94") == NULL, "a parameter line that says nothing");
    /* with too few complete trials for PED-ANOVA, no "importance —" at all,
     * and a note that says why */
    ck_assert(analysis.n_complete < SR_ANALYSIS_PED_MIN_TRIALS);
    ck_assert_msg(strstr(o, "importance \xe2\x80\x94") == NULL, "an importance that is not known is shown");
    char *why = xasprintf("importance needs %d complete trials (%zu here)", SR_ANALYSIS_PED_MIN_TRIALS,
                          analysis.n_complete);
    char *flat = xstrdup(o); /* the note may wrap */
    for (char *c = flat; *c; c++)
        if (*c == '\n')
            *c = ' ';
    ck_assert_msg(strstr(flat, why) != NULL, "no '%s'", why);
    /* the metrics that are the same everywhere are named, not charted */
    ck_assert_msg(strstr(flat, "Not charted, the same in every checkpoint that has it:") != NULL &&
                      strstr(flat, "weight_nonfinite 0") != NULL,
                  "no sentence for the metrics that are the same everywhere");
    free(flat);
    free(why);
    /* the per-epoch table says it shows some of the metrics, and where the rest are */
    ck_assert_msg(strstr(o, "metrics, the first its charts show; all are in summary.json") != NULL,
                  "the per-epoch table does not say where its other metrics are");
    ck_assert(strstr(o, "Leaderboard") != NULL);
    ck_assert(strstr(o, "Recommended checkpoint") != NULL);
    ck_assert(strstr(o, "Problems") != NULL);
    free(o);
    free(cmd);
}
END_TEST

/* Metric names too wide for their column in the per-epoch table are
 * broken at an underscore onto two lines, not cut; the starred best
 * checkpoint's file name is made smaller, not cut. */
START_TEST(test_pdf_table_text_whole)
{
    write_pdf();
    if (!fx_have_tool("pdftotext"))
        return;
    char *cmd = xasprintf("pdftotext -enc UTF-8 '%s' - 2>/dev/null", pdf);
    char *o = fx_run(cmd, NULL);
    free(cmd);
    int pages = 0;
    for (char *p = o; p && *p;) {
        char *ff = strchr(p, '\f');
        if (ff)
            *ff = '\0';
        if (strstr(p, "Per-epoch metrics")) {
            pages++;
            ck_assert_msg(strstr(p, "mean_") && strstr(p, "brightness") && strstr(p, "contrast"),
                          "a metric name is cut:\n%s", p);
            ck_assert_msg(!strstr(p, "_bri\xe2\x80\xa6") && !strstr(p, "_co\xe2\x80\xa6"), "a cut header:\n%s", p);
            for (size_t i = 0; i < analysis.n_trials && i < sweep.n_trials; i++) {
                char *head = xasprintf("%s\n", sweep.trials[i].name);
                long b = analysis.trials[i].best;
                if (strstr(p, head) && b >= 0) {
                    char *star = xasprintf("\xe2\x98\x85 %s", sweep.trials[i].ckpts[b].file);
                    ck_assert_msg(strstr(p, star) != NULL, "no whole '%s' on:\n%s", star, p);
                    free(star);
                }
                free(head);
            }
        }
        p = ff ? ff + 1 : NULL;
    }
    ck_assert_int_eq(pages, (int)sweep.n_trials);
    free(o);

    /* the numbers of a column line up: the rows of a table (with -layout,
     * one line each: the epoch first, then the file) have the same decimals
     * in the same place */
    cmd = xasprintf("pdftotext -layout -enc UTF-8 '%s' - 2>/dev/null", pdf);
    o = fx_run(cmd, NULL);
    free(cmd);
    int prev[16], nprev = -1, checked = 0;
    for (char *line = strtok(o, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strstr(line, ".safetensors")) {
            nprev = -1; /* a new table */
            continue;
        }
        int dec[16], n = 0;
        char *after = strstr(line, ".safetensors") + strlen(".safetensors");
        for (char *tok = after; *tok && n < 16;) {
            while (*tok == ' ')
                tok++;
            size_t len = strcspn(tok, " ");
            if (!len)
                break;
            const char *dot = memchr(tok, '.', len);
            dec[n++] = (*tok >= '0' && *tok <= '9') && !memchr(tok, 'e', len) ? (dot ? (int)(len - (size_t)(dot - tok) - 1) : 0)
                                                                            : -1;
            tok += len;
        }
        if (nprev == n)
            for (int k = 0; k < n; k++)
                if (dec[k] >= 0 && prev[k] >= 0) {
                    ck_assert_msg(dec[k] == prev[k], "column %d: %d decimals, %d above it: %s", k, dec[k], prev[k], line);
                    checked++;
                }
        memcpy(prev, dec, sizeof dec);
        nprev = n;
    }
    ck_assert_int_gt(checked, 10);
    free(o);
}
END_TEST

/* Checkpoints left for the next run are named on the summary page, as
 * pending, not among the problems. */
static size_t count_pending(void)
{
    size_t n = 0;
    for (size_t i = 0; i < sweep.n_trials; i++)
        for (size_t j = 0; j < sweep.trials[i].n_ckpts; j++)
            n += sweep.trials[i].ckpts[j].status == SR_CKPT_PENDING;
    return n;
}

/* Decimals of a number as pdftotext shows it; -1 for a dash. */
static int decimals_of(const char *tok)
{
    if (strcmp(tok, "\xe2\x80\x94") == 0)
        return -1;
    const char *dot = strchr(tok, '.');
    return dot ? (int)strlen(dot + 1) : 0;
}

/* The leaderboard: every row has a value in every column (a dash where
 * there is none, overfitting included), and the scores of a column share
 * their decimals on every page. */
START_TEST(test_pdf_leaderboard_columns)
{
    write_pdf();
    if (!fx_have_tool("pdftotext"))
        return;
    char *cmd = xasprintf("pdftotext -layout -enc UTF-8 '%s' - 2>/dev/null", pdf);
    char *o = fx_run(cmd, NULL);
    free(cmd);
    size_t rows = 0;
    int d_value = -2, d_score = -2;
    for (char *page = o; page && *page;) {
        char *ff = strchr(page, '\f');
        if (ff)
            *ff = '\0';
        if (strncmp(page, "Leaderboard", 11) == 0) {
            for (char *line = strtok(page, "\n"); line; line = strtok(NULL, "\n")) {
                if (strncmp(line, "trial_", 6) != 0)
                    continue;
                char *tok[16];
                int n = 0;
                for (char *t = strtok_r(line, " ", &line); t && n < 16; t = strtok_r(NULL, " ", &line))
                    tok[n++] = t;
                ck_assert_msg(n >= 7, "a short leaderboard row (%d columns)", n);
                /* from the end: overfit, final, best, epoch, Optuna value */
                const char *overfit = tok[n - 1], *final = tok[n - 2], *best = tok[n - 3], *value = tok[n - 5];
                ck_assert_msg(strcmp(overfit, "yes") == 0 || strcmp(overfit, "no") == 0 ||
                                  strcmp(overfit, "\xe2\x80\x94") == 0,
                              "overfit column '%s'", overfit);
                ck_assert_msg((strcmp(overfit, "\xe2\x80\x94") == 0) == (strcmp(final, "\xe2\x80\x94") == 0),
                              "overfit '%s' with final score '%s'", overfit, final);
                const char *scores[2] = {best, final};
                for (int k = 0; k < 2; k++) {
                    int d = decimals_of(scores[k]);
                    if (d < 0)
                        continue;
                    ck_assert_msg(d_score == -2 || d == d_score, "score %s among scores of %d decimals", scores[k],
                                  d_score);
                    d_score = d;
                }
                int d = decimals_of(value);
                if (d >= 0) {
                    ck_assert_msg(d_value == -2 || d == d_value, "Optuna value %s among values of %d decimals",
                                  value, d_value);
                    d_value = d;
                }
                rows++;
            }
        }
        page = ff ? ff + 1 : NULL;
    }
    ck_assert_uint_eq(rows, sweep.n_trials);
    ck_assert_int_ge(d_score, 1);
    free(o);
}
END_TEST

START_TEST(test_pdf_pending)
{
    if (!fx_have_tool("pdftotext"))
        return;
    char *cmd = xasprintf("pdftotext -enc UTF-8 '%s' - 2>/dev/null", pdf);
    int st = -1;
    if (count_pending() == 0) {
        write_pdf();
        char *o = fx_run(cmd, &st);
        ck_assert_msg(strstr(o, "left for the next run") == NULL, "a pending line without pending checkpoints");
        free(o);
    }
    /* the first two trials' last checkpoints, as if training were still
     * writing them, with reasons as long as a half-written file gives: the
     * PDF keeps them whole */
    sr_checkpoint *c = NULL;
    for (size_t t = 0; t < 2; t++) {
        c = &sweep.trials[t].ckpts[sweep.trials[t].n_ckpts - 1];
        c->status = SR_CKPT_PENDING;
        free(c->pending);
        c->pending = xasprintf("modified 3 s ago, and still being written: tensor data ends 4719120 bytes after the "
                               "header but only 2304148 follow it ENDOFPENDING%zu", t);
    }
    size_t n = count_pending();
    write_pdf();
    char *o = fx_run(cmd, &st);
    ck_assert_int_eq(st, 0);
    char want[96];
    snprintf(want, sizeof want, "%zu checkpoint%s left for the next run", n, n == 1 ? "" : "s");
    ck_assert_msg(strstr(o, want) != NULL, "no '%s' in the text", want);
    ck_assert_msg(strstr(o, c->file) != NULL, "the pending %s is not named", c->file);
    ck_assert_msg(strstr(o, "(modified 3") != NULL, "no reason given"); /* the line may wrap after it */
    ck_assert_msg(strstr(o, "ENDOFPENDING0") != NULL && strstr(o, "ENDOFPENDING1") != NULL, "a reason is cut");
    free(o);
    free(cmd);
}
END_TEST

START_TEST(test_pdf_images)
{
    write_pdf();
    if (!fx_have_tool("pdfimages"))
        return;
    size_t sampled = 0, grids = 0;
    for (size_t i = 0; i < sweep.n_trials; i++) {
        sampled += sampled_rows(&sweep.trials[i]) > 0;
        grids += grid_pages(&sweep.trials[i]);
    }
    ck_assert_uint_gt(sampled, 0);
    /* a grid per grid page, and the recommended checkpoint's row */
    ck_assert(analysis.has_best);
    size_t want = grids + (sweep.trials[analysis.best.trial].ckpts[analysis.best.ckpt].n_samples > 0);
    char *cmd = xasprintf("pdfimages -list '%s' 2>/dev/null", pdf);
    int st = -1;
    char *o = fx_run(cmd, &st);
    ck_assert_int_eq(st, 0);
    /* page num type width height color comp bpc enc interp object ID x-ppi y-ppi size ratio */
    size_t jpegs = 0, images = 0;
    double largest = 0, summary = 0;
    int n = 0;
    for (char *line = o; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (++n > 2 && *line) {
            char col[16][32];
            int k = sscanf(line, "%31s %31s %31s %31s %31s %31s %31s %31s %31s %31s %31s %31s %31s %31s %31s",
                           col[0], col[1], col[2], col[3], col[4], col[5], col[6], col[7], col[8], col[9], col[10],
                           col[11], col[12], col[13], col[14]);
            ck_assert_int_ge(k, 15);
            images++;
            jpegs += strcmp(col[8], "jpeg") == 0;
            double bytes = fx_pdfimages_bytes(col[14]);
            if (strcmp(col[0], "1") == 0)
                summary += bytes; /* the recommended checkpoint's row */
            else if (bytes > largest)
                largest = bytes;
        }
        line = nl ? nl + 1 : NULL;
    }
    ck_assert_msg(jpegs == want && images == want, "%zu images, %zu JPEG, for %zu sampled trials:\n%s", images, jpegs,
                  sampled, o);
    /* at most 1 MiB of images for any trial, the recommended one's row included */
    ck_assert_msg(largest + summary <= 1024.0 * 1024.0, "%.0f + %.0f image bytes for one trial", largest, summary);
    free(o);
    free(cmd);
}
END_TEST

START_TEST(test_pdf_page_count)
{
    write_pdf();
    if (!fx_have_tool("pdfinfo"))
        return;
    char *cmd = xasprintf("pdfinfo '%s' 2>/dev/null", pdf);
    int st = -1;
    char *o = fx_run(cmd, &st);
    ck_assert_int_eq(st, 0);
    char *p = strstr(o, "Pages:");
    ck_assert_ptr_nonnull(p);
    size_t pages = strtoul(p + 6, NULL, 10);
    ck_assert_uint_eq(pages, expected_pages());
    ck_assert_msg(strstr(o, "Author:") && strstr(o, "sweepreport"), "info: %s", o);
    ck_assert_msg(strstr(o, "Title:") && strstr(o, "Sweep report"), "info: %s", o);
    free(o);
    free(cmd);
}
END_TEST

START_TEST(test_pdf_outline)
{
    write_pdf();
    char *data = NULL;
    size_t len = 0;
    char err[256];
    ck_assert_int_eq(sr_read_file(pdf, (size_t)64 << 20, &data, &len, err, sizeof err), 0);
    /* the catalog asks for the bookmarks panel; the outline items are in
     * compressed object streams only when the writer packs them, which
     * libharu does not */
    ck_assert(memmem(data, len, "/Outlines", 9) != NULL);
    free(data);
    if (!fx_have_tool("qpdf"))
        return;
    char *cmd = xasprintf("qpdf --qdf --object-streams=disable '%s' - | grep -a -c '/Title'", pdf);
    char *o = fx_run(cmd, NULL);
    /* Summary, Leaderboard, Charts, Trials, one per trial, Problems, plus the info Title */
    ck_assert_uint_ge(strtoul(o, NULL, 10), 5 + sweep.n_trials + 1);
    free(o);
    free(cmd);
}
END_TEST

/* A problem's whole reason is in the PDF, wrapped, not cut at the end of
 * one line: an archived report keeps the diagnosis. */
START_TEST(test_pdf_problem_reason_whole)
{
    char *file = sr_path_join(sweep.path, "trial_0001/lora_trial_1-000002.safetensors");
    sr_problems_add(&sweep.problems, file,
                    "incomplete, still being written or cut: header declares 109872 bytes but the file has "
                    "2992 after the length, and the data section ends 106880 bytes before the last tensor "
                    "would; it is left for the next run ENDOFREASON");
    char err[512];
    ck_assert_msg(sr_pdf_report_write(pdf, &sweep, &analysis, NULL, err, sizeof err) == 0, "%s", err);
    free(file);
    if (!fx_have_tool("pdftotext"))
        return;
    char *cmd = xasprintf("pdftotext -enc UTF-8 '%s' - 2>/dev/null", pdf);
    char *o = fx_run(cmd, NULL);
    ck_assert_msg(strstr(o, "trial_0001/lora_trial_1-000002.safetensors") != NULL, "the file is not named");
    ck_assert_msg(strstr(o, "ENDOFREASON") != NULL, "the reason is cut");
    free(o);
    free(cmd);
}
END_TEST

START_TEST(test_pdf_without_cjk_font)
{
    setenv("SR_CJK_FONT", "none", 1);
    sr_problems log;
    sr_problems_init(&log);
    char err[512];
    ck_assert_msg(sr_pdf_report_write(pdf, &sweep, &analysis, &log, err, sizeof err) == 0, "%s", err);
    /* one note, naming the sweep */
    ck_assert_uint_eq(log.n, 1);
    ck_assert_str_eq(log.items[0].path, sweep.path);
    ck_assert_msg(strstr(log.items[0].problem, "CJK") != NULL, "%s", log.items[0].problem);
    sr_problems_free(&log);
    unsetenv("SR_CJK_FONT");
    if (!fx_have_tool("pdftotext"))
        return;
    char *cmd = xasprintf("pdftotext -enc UTF-8 '%s' - 2>/dev/null", pdf);
    char *o = fx_run(cmd, NULL);
    ck_assert_msg(strstr(o, "note = " FFFD FFFD FFFD FFFD FFFD) != NULL, "no visible replacement");
    ck_assert_msg(strstr(o, "CJK text is shown as U+FFFD") != NULL, "no note in the problems appendix");
    free(o);
    free(cmd);
}
END_TEST

/* A synthetic sweep of its own (so, in a folder named after tag), scanned
 * and analysed, with its report written to r->pdf. */
typedef struct {
    char *dir, *pdf;
    sr_sweep s;
    sr_analysis a;
} own_report;

static void own_report_make(own_report *r, const char *tag, const sr_synth_opts *so)
{
    char err[512];
    r->dir = test_tmpdir(tag);
    char *sw = sr_path_join(r->dir, "sweep");
    ck_assert_msg(sr_synth(sw, so, err, sizeof err) == 0, "%s", err);
    fx_scan_analyze(sw, &r->s, &r->a);
    r->pdf = sr_path_join(r->dir, "report.pdf");
    ck_assert_msg(sr_pdf_report_write(r->pdf, &r->s, &r->a, NULL, err, sizeof err) == 0, "%s", err);
    free(sw);
}

static void own_report_free(own_report *r)
{
    sr_analysis_free(&r->a);
    sr_sweep_free(&r->s);
    test_rmtree(r->dir);
    free(r->pdf);
    free(r->dir);
}

/* A trial with more checkpoints with samples than one page holds has its
 * grid split over pages of at most SR_PDF_GRID_ROWS rows, each page headed
 * with the checkpoints it shows, all of its images within 1 MiB. */
START_TEST(test_pdf_long_grid)
{
    if (!fx_have_tool("pdftotext") || !fx_have_tool("pdfimages"))
        return;
    sr_synth_opts so;
    sr_synth_defaults(&so);
    so.trials = 2;
    so.epochs = 2 * SR_PDF_GRID_ROWS + 4;
    so.save_every = 1;
    so.samples = 3;
    so.size = 40;
    so.rank = 1;
    so.seed = 7;
    own_report r;
    own_report_make(&r, "pdf-long", &so);
    const sr_sweep *sp = &r.s;
    size_t ti = 0;
    for (size_t i = 1; i < sp->n_trials; i++)
        if (sampled_rows(&sp->trials[i]) > sampled_rows(&sp->trials[ti]))
            ti = i;
    const size_t rows = sampled_rows(&sp->trials[ti]);
    ck_assert_msg(rows > 2 * SR_PDF_GRID_ROWS, "only %zu checkpoints with samples", rows);
    const char *out = r.pdf;

    /* the grid pages of the trial, from the text of each page */
    char *cmd = xasprintf("pdftotext -enc UTF-8 '%s' - 2>/dev/null", out);
    char *text = fx_run(cmd, NULL);
    free(cmd);
    char *head = xasprintf("%s \xe2\x80\x94 samples", sp->trials[ti].name);
    int on_page[64] = {0}, n_pages = 0;
    size_t next = 1;
    int page = 1;
    for (char *p = text; p && *p; page++) {
        char *ff = strchr(p, '\f');
        if (ff)
            *ff = '\0';
        char *h = strstr(p, head);
        if (h) {
            ck_assert_int_lt(n_pages, 64);
            on_page[n_pages++] = page;
            int continued = strncmp(h + strlen(head), " (continued)", 12) == 0;
            ck_assert_msg(continued == (next > 1), "page %d: heading '%.60s'", page, h);
            const char *c = strstr(p, "checkpoints ");
            size_t from = 0, to = 0, of = 0;
            ck_assert_msg(c && sscanf(c, "checkpoints %zu to %zu of %zu", &from, &to, &of) == 3,
                          "page %d: no range of checkpoints", page);
            ck_assert_uint_eq(from, next);
            ck_assert_uint_eq(of, rows);
            ck_assert_msg(to >= from && to - from + 1 <= SR_PDF_GRID_ROWS, "page %d: %zu to %zu", page, from, to);
            next = to + 1;
        }
        p = ff ? ff + 1 : NULL;
    }
    ck_assert_uint_eq(next, rows + 1);
    ck_assert_uint_eq((size_t)n_pages, ceil_div(rows, SR_PDF_GRID_ROWS));

    /* one JPEG on each of those pages, together within the trial's share */
    cmd = xasprintf("pdfimages -list '%s' 2>/dev/null", out);
    char *list = fx_run(cmd, NULL);
    free(cmd);
    int images[64] = {0};
    double bytes = 0;
    int n = 0;
    for (char *line = list; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        int pg;
        char size[32];
        if (++n > 2 && sscanf(line, "%d %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %31s", &pg, size) == 2)
            for (int k = 0; k < n_pages; k++)
                if (on_page[k] == pg) {
                    images[k]++;
                    bytes += fx_pdfimages_bytes(size);
                }
        line = nl ? nl + 1 : NULL;
    }
    for (int k = 0; k < n_pages; k++)
        ck_assert_msg(images[k] == 1, "page %d has %d images:\n%s", on_page[k], images[k], list);
    ck_assert_msg(bytes <= SR_PDF_GRID_BYTES, "%.0f bytes of grids", bytes);
    free(list);
    free(head);
    free(text);
    own_report_free(&r);
}
END_TEST

/* A checkpoint with more samples than a grid shows: its rows hold the
 * first SR_PDF_GRID_COLUMNS, and the page says so. */
START_TEST(test_pdf_many_samples)
{
    if (!fx_have_tool("pdftotext") || !fx_have_tool("pdfimages"))
        return;
    sr_synth_opts so;
    sr_synth_defaults(&so);
    so.trials = 2;
    so.epochs = 2;
    so.save_every = 2;
    so.samples = 36; /* three times SR_PDF_GRID_COLUMNS */
    so.size = 24;
    so.rank = 1;
    own_report r;
    own_report_make(&r, "pdf-many", &so);
    const char *out = r.pdf;
    char *cmd = xasprintf("pdftotext -enc UTF-8 '%s' - 2>/dev/null", out);
    char *text = fx_run(cmd, NULL);
    free(cmd);
    char want[64];
    snprintf(want, sizeof want, "a column per sample (the first %d)", SR_PDF_GRID_COLUMNS);
    ck_assert_msg(strstr(text, want) != NULL, "no '%s'", want);
    /* no grid is as wide as all the samples of 24-pixel cells would make it */
    cmd = xasprintf("pdfimages -list '%s' 2>/dev/null", out);
    char *list = fx_run(cmd, NULL);
    free(cmd);
    int n = 0, grids = 0;
    for (char *line = list; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        int pg, width;
        if (++n > 2 && sscanf(line, "%d %*s %*s %d", &pg, &width) == 2) {
            grids++;
            ck_assert_msg(width < so.samples * 24, "a grid %d pixels wide:\n%s", width, line);
        }
        line = nl ? nl + 1 : NULL;
    }
    ck_assert_int_gt(grids, 0);
    free(list);
    free(text);
    own_report_free(&r);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("pdf");
    TCase *tc = tcase_create("report");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_pdf_written_atomically);
    tcase_add_test(tc, test_pdf_unwritable);
    tcase_add_test(tc, test_pdf_qpdf_check);
    tcase_add_test(tc, test_pdf_fonts_embedded);
    tcase_add_test(tc, test_pdf_text);
    tcase_add_test(tc, test_pdf_table_text_whole);
    tcase_add_test(tc, test_pdf_leaderboard_columns);
    tcase_add_test(tc, test_pdf_pending);
    tcase_add_test(tc, test_pdf_images);
    tcase_add_test(tc, test_pdf_page_count);
    tcase_add_test(tc, test_pdf_outline);
    tcase_add_test(tc, test_pdf_problem_reason_whole);
    tcase_add_test(tc, test_pdf_without_cjk_font);
    suite_add_tcase(s, tc);
    TCase *tl = tcase_create("long grid");
    tcase_set_timeout(tl, 300);
    tcase_add_test(tl, test_pdf_long_grid);
    tcase_add_test(tl, test_pdf_many_samples);
    suite_add_tcase(s, tl);
    return s;
}
