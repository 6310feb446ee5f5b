/* test_profile.c - report profiles: the format, its errors, the installed ones. */
#include "config.h"

#include "check_main.h"
#include "profile.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void parse_fails(const char *text, const char *want)
{
    sr_profile p;
    char err[1024] = "";
    ck_assert_msg(sr_profile_parse(text, "my.profile", &p, err, sizeof err) != 0, "accepted: %s", text);
    ck_assert_msg(strstr(err, want), "error '%s' lacks '%s'", err, want);
    ck_assert_ptr_null(p.description);
}

START_TEST(test_parse)
{
    sr_profile p;
    char err[1024];
    const char *text = "# a comment\n"
                       "\n"
                       "description =  nightly for the team  \n"
                       "html=yes\n"
                       "\tpdf = no\r\n"
                       "since_last_run = yes\n"
                       "history = 7\n";
    ck_assert_msg(sr_profile_parse(text, "t.profile", &p, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(p.description, "nightly for the team");
    ck_assert_int_eq(p.html, 1);
    ck_assert_int_eq(p.pdf, 0);
    ck_assert_int_eq(p.archive, 0); /* not given: no */
    ck_assert_int_eq(p.since_last_run, 1);
    ck_assert_int_eq(p.history, 7);
    char *set = sr_profile_settings(&p);
    ck_assert_str_eq(set, "html=yes pdf=no archive=no since_last_run=yes history=7");
    free(set);
    sr_profile_free(&p);
    /* an empty profile writes summary.json alone */
    ck_assert(sr_profile_parse("", "e.profile", &p, err, sizeof err) == 0);
    ck_assert(!p.html && !p.pdf && !p.archive && !p.since_last_run && p.history == 0);
    sr_profile_free(&p);
}
END_TEST

START_TEST(test_errors_name_file_and_line)
{
    parse_fails("html = yes\ncolour = blue\n", "my.profile:2: unknown key 'colour'");
    parse_fails("\n\n\npdf = maybe\n", "my.profile:4: 'pdf' is yes or no, not 'maybe'");
    parse_fails("html = Yes\n", "my.profile:1: 'html' is yes or no");
    parse_fails("history = -1\n", "my.profile:1: 'history' is a number");
    parse_fails("history = 10001\n", "my.profile:1: 'history'");
    parse_fails("history = 3x\n", "my.profile:1:");
    parse_fails("html = yes\nhtml = no\n", "my.profile:2: 'html' is given twice");
    parse_fails("# ok\njust words\n", "my.profile:2: expected 'key = value'");
}
END_TEST

START_TEST(test_installed_profiles)
{
    /* make check points SR_REPORTS at the source tree's reports/ */
    char *dir = test_srcpath("reports");
    setenv("SR_REPORTS", dir, 1);
    sr_profile p;
    char err[1024];
    ck_assert_msg(sr_profile_load("nightly", &p, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(p.name, "nightly");
    ck_assert_msg(sr_str_has_suffix(p.path, "reports/nightly.profile"), "%s", p.path);
    ck_assert(p.html && !p.pdf && !p.archive && p.since_last_run && p.history == 30);
    sr_profile_free(&p);
    ck_assert_msg(sr_profile_load("summary", &p, err, sizeof err) == 0, "%s", err);
    ck_assert(p.html && p.pdf && !p.archive && !p.since_last_run && p.history == 0);
    sr_profile_free(&p);
    ck_assert_msg(sr_profile_load("archive", &p, err, sizeof err) == 0, "%s", err);
    ck_assert(p.html && p.pdf && p.archive && !p.since_last_run && p.history == 0);
    sr_profile_free(&p);
    /* the built-in default is the summary profile */
    sr_profile_builtin(&p);
    ck_assert(p.html && p.pdf && !p.archive && !p.since_last_run && p.history == 0);
    sr_profile_free(&p);
    /* an unknown name lists the installed ones */
    ck_assert(sr_profile_load("weekly", &p, err, sizeof err) != 0);
    ck_assert_msg(strstr(err, "unknown profile 'weekly'") && strstr(err, "archive, nightly, summary"), "%s", err);
    free(dir);
}
END_TEST

/* "summary" is the default, named or not: where the profiles' folder has
 * no summary.profile it is the built-in one; another name is not found. */
START_TEST(test_summary_without_a_file)
{
    char *dir = test_tmpdir("no-profiles");
    setenv("SR_REPORTS", dir, 1);
    sr_profile p;
    char err[1024];
    ck_assert_msg(sr_profile_load("summary", &p, err, sizeof err) == 0, "%s", err);
    ck_assert(p.html && p.pdf && !p.archive && !p.since_last_run && p.history == 0);
    sr_profile_free(&p);
    ck_assert(sr_profile_load("nightly", &p, err, sizeof err) != 0);
    ck_assert_msg(strstr(err, "unknown profile 'nightly'"), "%s", err);
    /* the default never reads a file of the current folder */
    char *cwd = getcwd(NULL, 0);
    ck_assert_int_eq(chdir(dir), 0);
    FILE *stray = fopen("summary", "w");
    ck_assert_ptr_nonnull(stray);
    fputs("not a profile\n", stray);
    fclose(stray);
    ck_assert_msg(sr_profile_load_default(&p, err, sizeof err) == 0, "%s", err);
    ck_assert(p.html && p.pdf && !p.archive);
    sr_profile_free(&p);
    unlink("summary");
    ck_assert_int_eq(chdir(cwd), 0);
    free(cwd);
    /* a summary.profile there is read, and its errors are not hidden */
    char *f = sr_path_join(dir, "summary.profile");
    FILE *fp = fopen(f, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("html = maybe\n", fp);
    fclose(fp);
    ck_assert(sr_profile_load("summary", &p, err, sizeof err) != 0);
    ck_assert_msg(strstr(err, "summary.profile:1:"), "%s", err);
    ck_assert(sr_profile_load_default(&p, err, sizeof err) != 0);
    ck_assert_msg(strstr(err, "summary.profile:1:"), "%s", err);
    free(f);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_custom_file)
{
    char *dir = test_tmpdir("profile");
    char *file = sr_path_join(dir, "team.profile");
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fputs("pdf = yes\nhistory = 2\n", f);
    fclose(f);
    sr_profile p;
    char err[1024];
    ck_assert_msg(sr_profile_load(file, &p, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(p.path, file);
    ck_assert(!p.html && p.pdf && p.history == 2);
    sr_profile_free(&p);
    /* errors in a file name it and the line */
    f = fopen(file, "w");
    fputs("pdf = yes\n\nfrobnicate = 1\n", f);
    fclose(f);
    ck_assert(sr_profile_load(file, &p, err, sizeof err) != 0);
    char *want = xasprintf("%s:3: unknown key 'frobnicate'", file);
    ck_assert_msg(strstr(err, want), "%s", err);
    free(want);
    /* a missing file is named */
    char *missing = sr_path_join(dir, "none.profile");
    ck_assert(sr_profile_load(missing, &p, err, sizeof err) != 0);
    ck_assert_msg(strstr(err, missing) && strstr(err, "cannot read"), "%s", err);
    free(missing);
    free(file);
    test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("profile");
    TCase *tc = tcase_create("profile");
    tcase_add_test(tc, test_parse);
    tcase_add_test(tc, test_errors_name_file_and_line);
    tcase_add_test(tc, test_installed_profiles);
    tcase_add_test(tc, test_summary_without_a_file);
    tcase_add_test(tc, test_custom_file);
    suite_add_tcase(s, tc);
    return s;
}
