/* test_progress.c - stage lines: plain without a terminal, redrawn on one,
 * nothing when quiet, a line per item when verbose. */
#include "config.h"

#include "check_main.h"
#include "job.h"
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs a two-stage job into a memory stream; returns what it printed. */
static char *job_output(int tty, int verbosity)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    sr_progress p;
    sr_progress_init(&p, f, tty, verbosity);
    ck_assert_int_eq(p.tty, tty);
    sr_progress_begin(&p, "measure", 3);
    sr_progress_update(&p, 1, "trial_0001/a.safetensors", "weights");
    sr_progress_update(&p, 2, "trial_0001/b.safetensors", NULL);
    sr_progress_update(&p, 3, "trial_0001/c.safetensors", "images");
    sr_progress_end(&p, "3 checkpoints");
    sr_progress_begin(&p, "render", 2);
    sr_progress_update(&p, 1, "index.html", NULL);
    sr_progress_update(&p, 2, "report.pdf", NULL);
    sr_progress_end(&p, "wrote it");
    sr_progress_say(&p, "report: here");
    fclose(f);
    return buf;
}

static int count_lines(const char *s, const char *prefix)
{
    int n = 0;
    for (const char *l = s; l && *l;) {
        if (!strncmp(l, prefix, strlen(prefix)))
            n++;
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    return n;
}

START_TEST(test_plain_without_a_terminal)
{
    char *out = job_output(0, SR_NORMAL);
    ck_assert_msg(!strchr(out, '\r') && !strchr(out, '\033'), "control characters in: %s", out);
    ck_assert_int_eq(count_lines(out, ""), 3);
    ck_assert_int_eq(count_lines(out, "measure: 3 checkpoints ("), 1);
    ck_assert_int_eq(count_lines(out, "render: wrote it ("), 1);
    ck_assert_int_eq(count_lines(out, "report: here"), 1);
    free(out);
}
END_TEST

START_TEST(test_redrawn_on_a_terminal)
{
    char *out = job_output(1, SR_NORMAL);
    ck_assert_msg(strstr(out, "\r\033[Kmeasure 3/3"), "no redrawn progress in: %s", out);
    ck_assert_msg(strstr(out, "\r\033[Kmeasure: 3 checkpoints ("), "the closing line clears the progress line");
    /* the lines left behind are the same as without a terminal */
    ck_assert_msg(strstr(out, "\r\033[Kreport: here\n") || strstr(out, "\nreport: here\n"), "%s", out);
    free(out);
}
END_TEST

START_TEST(test_quiet_and_verbose)
{
    char *out = job_output(0, SR_QUIET);
    ck_assert_str_eq(out, "");
    free(out);
    out = job_output(1, SR_QUIET);
    ck_assert_str_eq(out, "");
    free(out);
    out = job_output(0, SR_VERBOSE);
    ck_assert_int_eq(count_lines(out, "measure: trial_0001/"), 3);
    ck_assert_int_eq(count_lines(out, "measure: trial_0001/a.safetensors: weights"), 1);
    ck_assert_int_eq(count_lines(out, "render: index.html"), 1);
    ck_assert_msg(!strchr(out, '\r') && !strchr(out, '\033'), "control characters in: %s", out);
    free(out);
}
END_TEST

START_TEST(test_format)
{
    char b[128];
    sr_progress_format(b, sizeof b, "measure", 0, 0, 0);
    ck_assert_str_eq(b, "measure ...");
    sr_progress_format(b, sizeof b, "measure", 0, 72, 0);
    ck_assert_str_eq(b, "measure 0/72");
    sr_progress_format(b, sizeof b, "measure", 12, 72, 6.0);
    ck_assert_str_eq(b, "measure 12/72  2/s  ETA 0:30");
    sr_progress_format(b, sizeof b, "render", 40, 40, 2.0);
    ck_assert_str_eq(b, "render 40/40  20/s");
    sr_progress_format(b, sizeof b, "measure", 1, 10000, 2.0);
    ck_assert_str_eq(b, "measure 1/10000  0.5/s  ETA 5:33:18");
}
END_TEST

/* The last line says why nothing is recommended: nothing scored yet, a
 * score that gives no number, or scores only where the weights are not
 * finite. */
START_TEST(test_last_line_without_a_recommendation)
{
    sr_job_result r;
    memset(&r, 0, sizeof r);
    snprintf(r.render.out_dir, sizeof r.render.out_dir, "/out");
    r.render.wrote_html = 1;
    char line[1024];
    sr_job_last_line(&r, line, sizeof line);
    ck_assert_str_eq(line, "report: /out/index.html; recommended: nothing yet (no checkpoint has a score)");
    snprintf(r.render.score_expression, sizeof r.render.score_expression, "combined_score");
    sr_job_last_line(&r, line, sizeof line);
    ck_assert_str_eq(line, "report: /out/index.html; recommended: nothing yet (no checkpoint has every metric the "
                           "score 'combined_score' reads)");
    r.render.score_nonfinite = 3;
    sr_job_last_line(&r, line, sizeof line);
    ck_assert_str_eq(line, "report: /out/index.html; recommended: nothing (the score is not a finite number for any "
                           "of the 3 checkpoints that have its metrics)");
    r.render.any_scored = 1;
    sr_job_last_line(&r, line, sizeof line);
    ck_assert_str_eq(line, "report: /out/index.html; recommended: nothing (every scored checkpoint has non-finite "
                           "weights)");
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("progress");
    TCase *tc = tcase_create("progress");
    tcase_add_test(tc, test_plain_without_a_terminal);
    tcase_add_test(tc, test_redrawn_on_a_terminal);
    tcase_add_test(tc, test_quiet_and_verbose);
    tcase_add_test(tc, test_format);
    tcase_add_test(tc, test_last_line_without_a_recommendation);
    suite_add_tcase(s, tc);
    return s;
}
