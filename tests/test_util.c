/* test_util.c - JSON reading, atomic writes and string helpers. */
#include "config.h"

#include "atomic_file.h"
#include "check_main.h"
#include "json.h"
#include "num_format.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static cJSON *parse(const char *text)
{
    char err[256];
    cJSON *j = sr_json_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(j != NULL, "parse of %s failed: %s", text, err);
    return j;
}

/* A column's numbers line up: one number of decimals from the largest
 * magnitude; %.4g where the magnitudes are extreme or far apart; nothing
 * non-zero reads as zero, and no "-0". */
START_TEST(test_column_numbers)
{
    const double scores[] = {0.09988, 0.1018, 0.122, NAN, INFINITY};
    ck_assert_int_eq(sr_column_decimals(scores, 5), 4);
    const double norms[] = {2.13, 35.66, 9.5};
    ck_assert_int_eq(sr_column_decimals(norms, 3), 2);
    const double counts[] = {0, 8, 12};
    ck_assert_int_eq(sr_column_decimals(counts, 3), 0);
    const double spike[] = {1234.5, 0.5, 0.7, 1.2};
    ck_assert_int_eq(sr_column_decimals(spike, 4), -1);
    const double tiny[] = {1e-5, 3e-4};
    ck_assert_int_eq(sr_column_decimals(tiny, 2), -1);
    const double huge[] = {2e6, 3.5};
    ck_assert_int_eq(sr_column_decimals(huge, 2), -1);
    const double none[] = {NAN, -INFINITY};
    ck_assert_int_eq(sr_column_decimals(none, 2), -1);
    ck_assert_int_eq(sr_column_decimals(NULL, 0), -1);
    static const struct {
        double v;
        int d;
        const char *want;
    } cases[] = {
        {0.122, 4, "0.1220"}, {0.09988, 4, "0.0999"}, {-0.0, 4, "0.0000"}, {0.5, 0, "5.00e-01"},
        {-0.4, 0, "-4.00e-01"}, {0.00004, 4, "4.00e-05"}, {35.66, 2, "35.66"}, {12, 0, "12"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        sr_format_in_column(cases[i].v, cases[i].d, buf, sizeof buf);
        ck_assert_msg(strcmp(buf, cases[i].want) == 0, "%g with %d decimals: '%s'", cases[i].v, cases[i].d, buf);
    }
}
END_TEST

/* Bytes that are no UTF-8 become U+FFFD, valid text is left as it is. */
START_TEST(test_utf8_repair)
{
    ck_assert_ptr_null(sr_utf8_repair("plain, caf\xc3\xa9, \xf0\x9f\x99\x82"));
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"a\xff" "b", "a\xEF\xBF\xBD" "b"},
        {"\xc0\xaf", "\xEF\xBF\xBD\xEF\xBF\xBD"},                         /* overlong "/" */
        {"\xed\xa0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},         /* a surrogate */
        {"\xf4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"}, /* beyond U+10FFFF */
        {"ok\xe2\x82", "ok\xEF\xBF\xBD\xEF\xBF\xBD"},                    /* cut short */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *r = sr_utf8_repair(cases[i].in);
        ck_assert_msg(r != NULL, "case %zu left as it was", i);
        ck_assert_str_eq(r, cases[i].want);
        ck_assert_ptr_null(sr_utf8_repair(r));
        free(r);
    }
}
END_TEST

/* Text for a terminal: control characters and stray bytes as \xHH, cut
 * between characters. */
START_TEST(test_terminal_text)
{
    static const struct {
        const char *in;
        size_t max;
        const char *want;
    } cases[] = {
        {"plain", SIZE_MAX, "plain"},
        {"a\nb\x1b[31m\x07", SIZE_MAX, "a\\x0ab\\x1b[31m\\x07"},
        {"c1 \xc2\x9b x", SIZE_MAX, "c1 \\xc2\\x9b x"},
        {"del \x7f, bad \xff", SIZE_MAX, "del \\x7f, bad \\xff"},
        {"caf\xc3\xa9", SIZE_MAX, "caf\xc3\xa9"},
        {"abc", 3, "abc"},
        {"abcd", 3, "abc..."},
        {"\xc3\xa9\xc3\xa9\xc3\xa9", 5, "\xc3\xa9\xc3\xa9..."},
        {NULL, 10, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = sr_terminal_text(cases[i].in, cases[i].max);
        ck_assert_msg(strcmp(t, cases[i].want) == 0, "case %zu: '%s'", i, t);
        free(t);
    }
}
END_TEST

START_TEST(test_json_nonfinite)
{
    cJSON *j = parse("{\"a\": NaN, \"b\": Infinity, \"c\": -Infinity, \"d\": [NaN, 1.5],"
                     " \"s\": \"NaN and Infinity stay text\", \"e\": \"\\\"NaN\"}");
    ck_assert(isnan(sr_json_number(j, "a")));
    ck_assert(isinf(sr_json_number(j, "b")) && sr_json_number(j, "b") > 0);
    ck_assert(isinf(sr_json_number(j, "c")) && sr_json_number(j, "c") < 0);
    const cJSON *d = cJSON_GetObjectItem(j, "d");
    ck_assert(isnan(cJSON_GetArrayItem(d, 0)->valuedouble));
    ck_assert_double_eq(cJSON_GetArrayItem(d, 1)->valuedouble, 1.5);
    ck_assert_str_eq(sr_json_string(j, "s"), "NaN and Infinity stay text");
    ck_assert_str_eq(sr_json_string(j, "e"), "\"NaN");
    /* printing turns them into null: the output is standard JSON */
    char *out = sr_json_print(j);
    ck_assert_ptr_null(strstr(out, "NaN,"));
    ck_assert_ptr_nonnull(strstr(out, "null"));
    free(out);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_json_numbers_exact)
{
    /* each reads back as itself; cJSON alone writes the first with 15 digits */
    const double values[] = {0.09498537467589689, 0.1, 1.0 / 3.0, 5e-324, 1.7976931348623157e308, 123456789012345678.0,
                             -2.5, 42.0, 0.0002648511100012578};
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateNumber(values[i]));
    cJSON_AddItemToArray(arr, cJSON_CreateNumber(NAN));
    char *text = sr_json_print(arr);
    ck_assert_ptr_nonnull(strstr(text, ", 0.1, "));  /* no more digits than it takes */
    ck_assert_ptr_nonnull(strstr(text, ", 42, "));   /* whole numbers stay whole */
    ck_assert_ptr_nonnull(strstr(text, "null"));    /* NaN as before */
    char err[128];
    cJSON *back = sr_json_parse(text, strlen(text), err, sizeof err);
    ck_assert_ptr_nonnull(back);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        double v = cJSON_GetArrayItem(back, (int)i)->valuedouble;
        ck_assert_msg(v == values[i], "%.17g came back as %.17g", values[i], v);
    }
    /* the tree printed is left as it was */
    ck_assert(cJSON_IsNumber(cJSON_GetArrayItem(arr, 0)));
    cJSON_Delete(back);
    cJSON_Delete(arr);
    free(text);
}
END_TEST

START_TEST(test_json_errors)
{
    char err[256];
    static const char *const bad[] = {"", "{", "{\"a\": 1,}", "{\"a\": Nan}", "{\"a\": NaNa}", "{} {}",
                                      "{\"a\": Infinityx}", "[1, 2", "{NaN: 1}", "{\"a\": {NaN: NaN}}",
                                      "{Infinity: 1}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        cJSON *j = sr_json_parse(bad[i], strlen(bad[i]), err, sizeof err);
        ck_assert_msg(j == NULL, "accepted bad JSON: %s", bad[i]);
        ck_assert_msg(strstr(err, "JSON") != NULL, "no reason for %s: %s", bad[i], err);
    }
    /* the line of the error is reported */
    ck_assert_ptr_null(sr_json_parse("{\n\"a\": 1,\n\"b\": }", 16, err, sizeof err));
    ck_assert_msg(strstr(err, "line 3") != NULL, "%s", err);
    /* the column is the one in the file, whatever NaN or Infinity come before it on its line */
    const char *cols = "{\"a\": [NaN, -Infinity, Infinity, NaN], \"b\": ?}";
    ck_assert_ptr_null(sr_json_parse(cols, strlen(cols), err, sizeof err));
    char want[64];
    snprintf(want, sizeof want, "line 1, column %d", (int)(strchr(cols, '?') - cols) + 1);
    ck_assert_msg(strstr(err, want) != NULL, "%s, not %s", err, want);
    ck_assert_ptr_null(sr_json_parse("{NaN: 1}", 8, err, sizeof err));
    ck_assert_msg(strstr(err, "NaN used as a key") != NULL, "%s", err);
    /* embedded NUL */
    ck_assert_ptr_null(sr_json_parse("{\"a\": 1}\0", 9, err, sizeof err));
}
END_TEST

START_TEST(test_json_load_missing)
{
    char err[256];
    ck_assert_ptr_null(sr_json_load("/nonexistent/x.json", err, sizeof err));
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

START_TEST(test_atomic_write)
{
    char *d = test_tmpdir("atomic");
    char *p = sr_path_join(d, "out.txt");
    ck_assert_int_eq(sr_write_file_atomic(p, "one", 3, SR_ATOMIC_REPLACE), 0);
    ck_assert_int_eq(sr_write_file_atomic(p, "two!", 4, SR_ATOMIC_REPLACE), 0);
    char *text;
    size_t len;
    char err[128];
    ck_assert_int_eq(sr_read_file(p, 100, &text, &len, err, sizeof err), 0);
    ck_assert_str_eq(text, "two!");
    free(text);
    /* NO_REPLACE never overwrites a file that is there */
    ck_assert_int_eq(sr_write_file_atomic(p, "three", 5, SR_ATOMIC_NO_REPLACE), -1);
    ck_assert_int_eq(errno, EEXIST);
    ck_assert_int_eq(sr_read_file(p, 100, &text, &len, err, sizeof err), 0);
    ck_assert_str_eq(text, "two!");
    free(text);
    /* a file that appears while we write wins, and no temporary is left */
    char *q = sr_path_join(d, "late.txt");
    sr_atomic_file af;
    ck_assert_int_eq(sr_atomic_open(&af, q, SR_ATOMIC_NO_REPLACE), 0);
    fputs("ours", af.fp);
    ck_assert_int_eq(sr_write_file_atomic(q, "theirs", 6, SR_ATOMIC_REPLACE), 0);
    ck_assert_int_eq(sr_atomic_commit(&af), -1);
    ck_assert_int_eq(sr_read_file(q, 100, &text, &len, err, sizeof err), 0);
    ck_assert_str_eq(text, "theirs");
    free(text);
    /* the destination does not exist until commit; abort leaves nothing */
    char *r = sr_path_join(d, "never.txt");
    ck_assert_int_eq(sr_atomic_open(&af, r, SR_ATOMIC_REPLACE), 0);
    struct stat st;
    ck_assert_int_ne(stat(r, &st), 0);
    sr_atomic_abort(&af);
    ck_assert_int_ne(stat(r, &st), 0);
    /* only the two files remain in the folder */
    char *cmd = xasprintf("test $(ls -A '%s' | wc -l) -eq 2", d);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(r);
    free(q);
    free(p);
    test_rmtree(d);
    free(d);
}
END_TEST

/* Files written by several threads at once get the modes of the process's
 * mask, and the mask stays as it was: reading it must not set it, or
 * another thread can catch it at 0 and leave it there.  Every umask() the
 * library makes comes here (the test links it in) and is counted. */
static atomic_int umask_calls;

mode_t umask(mode_t mask)
{
    atomic_fetch_add(&umask_calls, 1);
    return (mode_t)syscall(SYS_umask, mask);
}

typedef struct {
    const char *dir;
    int id;
} atomic_job;

static void *write_many(void *arg)
{
    const atomic_job *j = arg;
    for (int i = 0; i < 400; i++) {
        char *p = xasprintf("%s/t%d-%d.txt", j->dir, j->id, i);
        if (sr_write_file_atomic(p, "x", 1, SR_ATOMIC_REPLACE) != 0)
            abort();
        free(p);
    }
    return NULL;
}

START_TEST(test_atomic_modes_across_threads)
{
    atomic_store(&umask_calls, 0);
    mode_t um = umask(0);
    umask(um);
    ck_assert_int_eq(atomic_load(&umask_calls), 2); /* the counting umask is the one called */
    ck_assert_uint_eq(sr_umask(), (unsigned)um);
    atomic_store(&umask_calls, 0);
    char *d = test_tmpdir("atomic-modes");
    enum { THREADS = 4 };
    pthread_t th[THREADS];
    atomic_job jobs[THREADS];
    for (int k = 0; k < THREADS; k++) {
        jobs[k] = (atomic_job){d, k};
        ck_assert_int_eq(pthread_create(&th[k], NULL, write_many, &jobs[k]), 0);
    }
    for (int k = 0; k < THREADS; k++)
        pthread_join(th[k], NULL);
    ck_assert_int_eq(atomic_load(&umask_calls), 0);
    mode_t now = umask(um);
    ck_assert_uint_eq(now, um);
    for (int k = 0; k < THREADS; k++)
        for (int i = 0; i < 400; i++) {
            char *p = xasprintf("%s/t%d-%d.txt", d, k, i);
            struct stat st;
            ck_assert_int_eq(stat(p, &st), 0);
            ck_assert_msg((st.st_mode & 0777) == (0666 & ~um), "%s has mode %o, not %o", p,
                          (unsigned)(st.st_mode & 0777), (unsigned)(0666 & ~um));
            free(p);
        }
    test_rmtree(d);
    free(d);
}
END_TEST

START_TEST(test_mkdir_p)
{
    char *d = test_tmpdir("mkdir");
    char *p = sr_path_join(d, "a/b/c");
    ck_assert_int_eq(sr_mkdir_p(p, 0755), 0);
    ck_assert_int_eq(sr_mkdir_p(p, 0755), 0);
    char *f = sr_path_join(d, "a/file");
    ck_assert_int_eq(sr_write_file_atomic(f, "x", 1, SR_ATOMIC_REPLACE), 0);
    char *under = sr_path_join(f, "sub");
    ck_assert_int_eq(sr_mkdir_p(under, 0755), -1);
    free(under);
    free(f);
    free(p);
    test_rmtree(d);
    free(d);
}
END_TEST

START_TEST(test_strings)
{
    ck_assert_int_lt(sr_strnatcmp("sample_2.png", "sample_10.png"), 0);
    ck_assert_int_gt(sr_strnatcmp("trial_0010", "trial_0009"), 0);
    ck_assert_int_eq(sr_strnatcmp("a01", "a1"), 0);
    ck_assert_int_lt(sr_strnatcmp("a", "b"), 0);
    ck_assert_int_lt(sr_strnatcmp("a", "a1"), 0);
    char *j = sr_path_join("/a/b/", "c");
    ck_assert_str_eq(j, "/a/b/c");
    free(j);
    j = sr_path_join("x", "/abs");
    ck_assert_str_eq(j, "/abs");
    free(j);
    j = sr_path_join("/", "x");
    ck_assert_str_eq(j, "/x");
    free(j);
    j = sr_path_join("//", "x");
    ck_assert_str_eq(j, "/x");
    free(j);
    ck_assert(sr_path_under("/a/b", "/a"));
    ck_assert(sr_path_under("/a/b", "/a/b/"));
    ck_assert(sr_path_under("/a/b/c", "/a/b"));
    ck_assert(!sr_path_under("/a/bc", "/a/b"));
    ck_assert(!sr_path_under("/a", "/a/b"));
    ck_assert(sr_path_under("/x", "/"));
    ck_assert(!sr_path_under("x", "/"));
    ck_assert_str_eq(sr_path_base("/a/b/c.txt"), "c.txt");
    ck_assert(sr_str_has_suffix("x.safetensors", ".safetensors"));
    ck_assert(!sr_str_has_suffix("safetensors", ".safetensors"));
    sr_buf b;
    sr_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        sr_buf_printf(&b, "%d,", i);
    ck_assert_uint_eq(b.len, strlen(b.s));
    ck_assert(sr_str_has_suffix(b.s, "998,999,"));
    sr_buf_free(&b);
}
END_TEST

START_TEST(test_short_file_name)
{
    char *n = sr_short_file_name(xstrdup("trial_0001"), 20);
    ck_assert_str_eq(n, "trial_0001");
    free(n);
    char long_a[300], long_b[300];
    memset(long_a, 'a', 299);
    long_a[299] = '\0';
    memcpy(long_b, long_a, sizeof long_b);
    long_b[298] = 'b'; /* differs after the cut */
    char *a = sr_short_file_name(xstrdup(long_a), 200);
    char *b = sr_short_file_name(xstrdup(long_b), 200);
    ck_assert_uint_eq(strlen(a), 200);
    ck_assert_uint_eq(strlen(b), 200);
    ck_assert(strncmp(a, long_a, 183) == 0 && a[183] == '-');
    ck_assert_str_ne(a, b);
    char *again = sr_short_file_name(xstrdup(long_a), 200);
    ck_assert_str_eq(a, again); /* the same name always gives the same file */
    free(again);
    free(a);
    free(b);
    n = sr_short_file_name(xstrdup(long_a), 299);
    ck_assert_str_eq(n, long_a);
    free(n);
}
END_TEST

START_TEST(test_rng)
{
    sr_rng a, b;
    sr_rng_seed(&a, 42);
    sr_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(sr_rng_next(&a), sr_rng_next(&b));
    /* uniform in [0,1) with a sensible mean; normal with sd near 1 */
    double sum = 0, sq = 0;
    for (int i = 0; i < 20000; i++) {
        double u = sr_rng_uniform(&a);
        ck_assert(u >= 0 && u < 1);
        sum += u;
        double z = sr_rng_normal(&b);
        sq += z * z;
    }
    ck_assert(fabs(sum / 20000 - 0.5) < 0.02);
    ck_assert(fabs(sqrt(sq / 20000) - 1.0) < 0.05);
}
END_TEST

/* Only a path that does not exist is gone; one that cannot be looked at
 * for another reason is not. */
START_TEST(test_vanished)
{
    char *dir = test_tmpdir("vanished");
    char *f = sr_path_join(dir, "file");
    FILE *fp = fopen(f, "w");
    ck_assert_ptr_nonnull(fp);
    fclose(fp);
    ck_assert_int_eq(sr_vanished(f), 0);
    ck_assert_int_eq(sr_vanished(dir), 0);
    char *under_file = sr_path_join(f, "x"); /* ENOTDIR */
    ck_assert_int_eq(sr_vanished(under_file), 0);
    ck_assert_int_eq(unlink(f), 0);
    ck_assert_int_eq(sr_vanished(f), 1);
    free(under_file);
    free(f);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* "PATH: what" loses its "PATH: ", and only that. */
START_TEST(test_reason_after_path)
{
    ck_assert_str_eq(sr_reason_after_path("/s/a.png: not a PNG", "/s/a.png"), "not a PNG");
    ck_assert_str_eq(sr_reason_after_path("/s/a.pngx: not a PNG", "/s/a.png"), "/s/a.pngx: not a PNG");
    ck_assert_str_eq(sr_reason_after_path("/s/a.png:x", "/s/a.png"), "/s/a.png:x");
    ck_assert_str_eq(sr_reason_after_path("/s/...: cut short", "/s/a.png"), "/s/...: cut short");
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("util");
    tcase_add_test(tc, test_column_numbers);
    tcase_add_test(tc, test_utf8_repair);
    tcase_add_test(tc, test_terminal_text);
    tcase_add_test(tc, test_json_nonfinite);
    tcase_add_test(tc, test_json_numbers_exact);
    tcase_add_test(tc, test_json_errors);
    tcase_add_test(tc, test_json_load_missing);
    tcase_add_test(tc, test_atomic_write);
    tcase_add_test(tc, test_atomic_modes_across_threads);
    tcase_add_test(tc, test_mkdir_p);
    tcase_add_test(tc, test_strings);
    tcase_add_test(tc, test_rng);
    tcase_add_test(tc, test_short_file_name);
    tcase_add_test(tc, test_vanished);
    tcase_add_test(tc, test_reason_after_path);
    suite_add_tcase(s, tc);
    return s;
}
