/* test_history.c - OUT/history carried into a new report, pruned to the
 * newest N summaries, nothing else touched. */
#include "config.h"

#include "atomic_file.h"
#include "check_main.h"
#include "history.h"
#include "util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void put(const char *dir, const char *rel, const char *text)
{
    char *p = sr_path_join(dir, rel);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    ck_assert(sr_mkdir_p(p, 0755) == 0);
    *slash = '/';
    ck_assert(sr_write_file_atomic(p, text, strlen(text), SR_ATOMIC_REPLACE) == 0);
    free(p);
}

static int exists(const char *dir, const char *rel)
{
    char *p = sr_path_join(dir, rel);
    struct stat st;
    int ok = lstat(p, &st) == 0;
    free(p);
    return ok;
}

static size_t count_summaries(const char *dir)
{
    char *h = sr_path_join(dir, "history");
    DIR *d = opendir(h);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += sr_history_is_summary(e->d_name);
    if (d)
        closedir(d);
    free(h);
    return n;
}

START_TEST(test_names)
{
    ck_assert(sr_history_is_summary("summary-20251115T080000Z.json"));
    ck_assert(sr_history_is_summary("summary-20251115T080000Z-2.json"));
    ck_assert(!sr_history_is_summary("summary-20251115T080000Z-.json"));
    ck_assert(!sr_history_is_summary("summary-20251115T0800Z.json"));
    ck_assert(!sr_history_is_summary("summary-20251115T080000Z.json.bak"));
    ck_assert(!sr_history_is_summary("notes.txt"));
    ck_assert(!sr_history_is_summary("summary.json"));
    /* by time, then by the number of the same second */
    ck_assert_int_lt(sr_history_cmp("summary-20251115T080000Z.json", "summary-20251115T080001Z.json"), 0);
    ck_assert_int_lt(sr_history_cmp("summary-20251115T080000Z.json", "summary-20251115T080000Z-2.json"), 0);
    ck_assert_int_lt(sr_history_cmp("summary-20251115T080000Z-2.json", "summary-20251115T080000Z-10.json"), 0);
    ck_assert_int_gt(sr_history_cmp("summary-20261115T080000Z.json", "summary-20251115T080000Z-9.json"), 0);
}
END_TEST

START_TEST(test_prune_to_keep)
{
    char *dir = test_tmpdir("history");
    char *old = sr_path_join(dir, "old"), *neu = sr_path_join(dir, "new");
    /* 35 summaries of January 2020 and things that are not ours */
    for (int i = 1; i <= 35; i++) {
        char name[64];
        snprintf(name, sizeof name, "history/summary-202001%02dT000000Z.json", i <= 31 ? i : 31);
        if (i > 31)
            snprintf(name, sizeof name, "history/summary-20200131T000000Z-%d.json", i - 30);
        put(old, name, "{}");
    }
    put(old, "history/keep.txt", "mine");
    put(old, "history/notes/a.md", "notes");
    char *tgt = sr_path_join(old, "history/keep.txt");
    char *lnk = sr_path_join(old, "history/link");
    ck_assert(symlink("keep.txt", lnk) == 0);
    free(tgt);
    free(lnk);
    ck_assert(sr_mkdir_p(neu, 0755) == 0);
    char added[64], err[512];
    time_t now = 1763193600; /* 2025-11-15T08:00:00Z */
    ck_assert_msg(sr_history_carry(old, neu, 30, "{\"new\": 1}", now, added, sizeof added, err, sizeof err) == 0, "%s",
                  err);
    ck_assert_str_eq(added, "summary-20251115T080000Z.json");
    ck_assert_uint_eq(count_summaries(neu), 30);
    /* the newest 29 old ones and the new one; the 6 oldest are left behind */
    ck_assert(exists(neu, "history/summary-20251115T080000Z.json"));
    ck_assert(exists(neu, "history/summary-20200131T000000Z-5.json"));
    ck_assert(exists(neu, "history/summary-20200107T000000Z.json"));
    ck_assert(!exists(neu, "history/summary-20200106T000000Z.json"));
    ck_assert(!exists(neu, "history/summary-20200101T000000Z.json"));
    /* everything else is carried as it is */
    ck_assert(exists(neu, "history/keep.txt"));
    ck_assert(exists(neu, "history/notes/a.md"));
    char target[64] = "";
    char *l = sr_path_join(neu, "history/link");
    ck_assert(readlink(l, target, sizeof target - 1) > 0);
    ck_assert_str_eq(target, "keep.txt");
    free(l);
    /* the old report is untouched until it is swapped out */
    ck_assert_uint_eq(count_summaries(old), 35);
    /* linked, not copied */
    char *a = sr_path_join(old, "history/keep.txt"), *b = sr_path_join(neu, "history/keep.txt");
    struct stat sa, sb;
    ck_assert(stat(a, &sa) == 0 && stat(b, &sb) == 0);
    ck_assert_uint_eq(sa.st_ino, sb.st_ino);
    free(a);
    free(b);
    free(old);
    free(neu);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_same_second_and_clock_behind)
{
    char *dir = test_tmpdir("history2");
    char *old = sr_path_join(dir, "old"), *neu = sr_path_join(dir, "new");
    put(old, "history/summary-20251115T080000Z.json", "{}");
    put(old, "history/summary-20251115T080000Z-2.json", "{}");
    ck_assert(sr_mkdir_p(neu, 0755) == 0);
    char added[64], err[512];
    /* the same second: numbered after the ones there */
    ck_assert(sr_history_carry(old, neu, 30, "{}", 1763193600, added, sizeof added, err, sizeof err) == 0);
    ck_assert_str_eq(added, "summary-20251115T080000Z-3.json");
    /* a clock an hour behind still adds the newest */
    test_rmtree(neu);
    ck_assert(sr_mkdir_p(neu, 0755) == 0);
    ck_assert(sr_history_carry(old, neu, 30, "{}", 1763193600 - 3600, added, sizeof added, err, sizeof err) == 0);
    ck_assert_str_eq(added, "summary-20251115T080000Z-3.json");
    free(old);
    free(neu);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_no_history_profile_keeps_it)
{
    char *dir = test_tmpdir("history3");
    char *old = sr_path_join(dir, "old"), *neu = sr_path_join(dir, "new");
    for (int i = 1; i <= 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "history/summary-202001%02dT000000Z.json", i);
        put(old, name, "{}");
    }
    ck_assert(sr_mkdir_p(neu, 0755) == 0);
    char added[64], err[512];
    /* keep 0 (a profile without history): all carried, none added */
    ck_assert(sr_history_carry(old, neu, 0, "{}", 1763193600, added, sizeof added, err, sizeof err) == 0);
    ck_assert_str_eq(added, "");
    ck_assert_uint_eq(count_summaries(neu), 3);
    /* no old history and keep 0: no folder at all */
    char *bare = sr_path_join(dir, "bare"), *neu2 = sr_path_join(dir, "new2");
    ck_assert(sr_mkdir_p(neu2, 0755) == 0);
    ck_assert(sr_history_carry(bare, neu2, 0, "{}", 1763193600, added, sizeof added, err, sizeof err) == 0);
    ck_assert(!exists(neu2, "history"));
    /* keep 1: only the new one */
    test_rmtree(neu);
    ck_assert(sr_mkdir_p(neu, 0755) == 0);
    ck_assert(sr_history_carry(old, neu, 1, "{}", 1763193600, added, sizeof added, err, sizeof err) == 0);
    ck_assert_uint_eq(count_summaries(neu), 1);
    ck_assert(exists(neu, "history/summary-20251115T080000Z.json"));
    free(bare);
    free(neu2);
    free(old);
    free(neu);
    test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("history");
    TCase *tc = tcase_create("history");
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_prune_to_keep);
    tcase_add_test(tc, test_same_second_and_clock_behind);
    tcase_add_test(tc, test_no_history_profile_keeps_it);
    suite_add_tcase(s, tc);
    return s;
}
