/* test_image_stats.c - seed brightness/contrast (against numpy when it is
 * installed) and the metrics.json writer. */
#include "config.h"

#include "check_main.h"
#include "image_stats.h"
#include "json.h"
#include "metrics_write.h"
#include "png_io.h"
#include "util.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"

/* ---- helpers ------------------------------------------------------------- */

static int close_rel(double got, double want, double rel)
{
    if (got == want)
        return 1;
    return fabs(got - want) <= rel * fabs(want);
}

static char *slurp(const char *path)
{
    char *buf = NULL, err[256];
    size_t n;
    int rc = sr_read_file(path, 1u << 20, &buf, &n, err, sizeof err);
    ck_assert_msg(rc == 0, "%s: %s", path, err);
    /* a fresh copy: keeps gcc -O3's dangling-pointer analysis quiet */
    char *copy = xstrndup(buf, n);
    free(buf);
    return copy;
}

static void put_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "%s", path);
    ck_assert(fwrite(data, 1, len, f) == len);
    ck_assert(fclose(f) == 0);
}

static uint8_t *random_rgb(sr_rng *r, int w, int h)
{
    size_t n = (size_t)w * (size_t)h * 3;
    uint8_t *rgb = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        rgb[i] = (uint8_t)(sr_rng_next(r) >> 56);
    return rgb;
}

static void write_png(const char *path, const uint8_t *rgb, int w, int h)
{
    char err[256];
    ck_assert_msg(sr_png_write_rgb8(path, rgb, w, h, err, sizeof err) == 0, "%s", err);
}

/* Single-quoted for /bin/sh. */
static void sh_quote(sr_buf *b, const char *s)
{
    sr_buf_puts(b, "'");
    for (; *s; s++) {
        if (*s == '\'')
            sr_buf_puts(b, "'\\''");
        else
            sr_buf_append(b, s, 1);
    }
    sr_buf_puts(b, "'");
}

/* No leftover ".metrics.json.tmp-*" in dir. */
static void assert_no_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        ck_assert_msg(strstr(de->d_name, ".tmp-") == NULL, "temporary file left: %s", de->d_name);
    closedir(d);
}

/* ---- hand-computed statistics ------------------------------------------- */

START_TEST(test_stats_constant)
{
    uint8_t px[4 * 3 * 3];
    sr_seed_stats s;
    memset(px, 0, sizeof px);
    sr_seed_stats_rgb8(px, 12, &s);
    ck_assert(s.brightness == 0.0 && s.contrast == 0.0);
    memset(px, 255, sizeof px);
    sr_seed_stats_rgb8(px, 12, &s);
    ck_assert(s.brightness == 1.0 && s.contrast == 0.0);
    memset(px, 77, sizeof px);
    sr_seed_stats_rgb8(px, 12, &s);
    ck_assert(s.brightness == 77.0 / 255.0 && s.contrast == 0.0);
    /* nothing to measure: NaN, as numpy's mean of an empty array */
    sr_seed_stats_rgb8(px, 0, &s);
    ck_assert(isnan(s.brightness) && isnan(s.contrast));
}
END_TEST

START_TEST(test_stats_two_values)
{
    /* half the bytes 0, half 255: mean 127.5, std 127.5 */
    const uint8_t bw[] = {0, 0, 0, 255, 255, 255};
    sr_seed_stats s;
    sr_seed_stats_rgb8(bw, 2, &s);
    ck_assert_double_eq(s.brightness, 0.5);
    ck_assert_double_eq(s.contrast, 0.5);
    /* five bytes of 10 and one of 30 */
    const uint8_t q[] = {10, 10, 10, 30, 10, 10};
    sr_seed_stats_rgb8(q, 2, &s);
    ck_assert(close_rel(s.brightness, 40.0 / 3.0 / 255.0, 1e-15));
    /* var = (5 * (10 - 40/3)^2 + (30 - 40/3)^2) / 6 = 500/9 */
    ck_assert(close_rel(s.contrast, sqrt(500.0 / 9.0) / 255.0, 1e-15));
    /* one pixel (10, 20, 30): mean 20, variance 200/3 */
    const uint8_t one[] = {10, 20, 30};
    sr_seed_stats_rgb8(one, 1, &s);
    ck_assert(close_rel(s.brightness, 20.0 / 255.0, 1e-15));
    ck_assert(close_rel(s.contrast, sqrt(200.0 / 3.0) / 255.0, 1e-15));
}
END_TEST

START_TEST(test_stats_no_cancellation)
{
    /* 4M pixels of 200 and a single 201: the variance (N-1)/N^2 is tiny next
     * to the mean, which a sum-of-squares formula in doubles gets wrong. */
    const size_t px = (size_t)1 << 22;
    const double N = 3.0 * (double)px;
    uint8_t *rgb = xmalloc(px * 3);
    memset(rgb, 200, px * 3);
    rgb[px] = 201;
    sr_seed_stats s;
    sr_seed_stats_rgb8(rgb, px, &s);
    free(rgb);
    ck_assert(close_rel(s.brightness, (200.0 + 1.0 / N) / 255.0, 1e-15));
    long double var = ((long double)N - 1.0L) / ((long double)N * (long double)N);
    double want = (double)(sqrtl(var) / 255.0L);
    ck_assert_msg(close_rel(s.contrast, want, 1e-12), "contrast %.17g, want %.17g", s.contrast, want);
}
END_TEST

/* ---- golden values from numpy ------------------------------------------- */

static int have_numpy(void)
{
    if (access(PYTHON, X_OK) != 0)
        return 0;
    return system(PYTHON " -c 'import numpy, PIL' >/dev/null 2>&1") == 0;
}

START_TEST(test_stats_match_numpy)
{
    if (!have_numpy()) {
        printf("# SKIP " PYTHON " with numpy and PIL is not available\n");
        return;
    }
    static const int sizes[][2] = {{1, 1}, {2, 1}, {3, 5}, {17, 13}, {64, 48}, {101, 99}, {257, 3}};
    enum { NIMG = sizeof sizes / sizeof sizes[0] + 1 };
    char *dir = test_tmpdir("stats-numpy");
    char *paths[NIMG];
    sr_seed_stats want[NIMG];
    sr_rng r;
    sr_rng_seed(&r, 20251115);
    for (int i = 0; i < NIMG; i++) {
        int w = i < NIMG - 1 ? sizes[i][0] : 40, h = i < NIMG - 1 ? sizes[i][1] : 30;
        uint8_t *rgb = random_rgb(&r, w, h);
        if (i == NIMG - 1) /* a narrow range, like a flat render */
            for (size_t k = 0; k < (size_t)w * h * 3; k++)
                rgb[k] = (uint8_t)(120 + rgb[k] % 3);
        char name[32];
        snprintf(name, sizeof name, "img_%d.png", i);
        paths[i] = sr_path_join(dir, name);
        write_png(paths[i], rgb, w, h);
        sr_seed_stats_rgb8(rgb, (size_t)w * (size_t)h, &want[i]);
        free(rgb);
    }
    char *script = sr_path_join(dir, "stats.py");
    const char *py = "import sys\n"
                     "import numpy as np\n"
                     "from PIL import Image\n"
                     "for p in sys.argv[1:]:\n"
                     "    a = np.array(Image.open(p).convert('RGB'))\n"
                     "    print(repr(float(np.mean(a) / 255)), repr(float(np.std(a) / 255)))\n";
    put_file(script, py, strlen(py));
    sr_buf cmd;
    sr_buf_init(&cmd);
    sr_buf_puts(&cmd, PYTHON " ");
    sh_quote(&cmd, script);
    for (int i = 0; i < NIMG; i++) {
        sr_buf_puts(&cmd, " ");
        sh_quote(&cmd, paths[i]);
    }
    FILE *p = popen(cmd.s, "r");
    ck_assert_ptr_nonnull(p);
    for (int i = 0; i < NIMG; i++) {
        double b, c;
        ck_assert_msg(fscanf(p, "%lf %lf", &b, &c) == 2, "no numpy result for %s", paths[i]);
        ck_assert_msg(close_rel(want[i].brightness, b, 1e-12), "%s: brightness %.17g, numpy %.17g", paths[i],
                      want[i].brightness, b);
        ck_assert_msg(close_rel(want[i].contrast, c, 1e-12), "%s: contrast %.17g, numpy %.17g", paths[i],
                      want[i].contrast, c);
    }
    ck_assert_int_eq(pclose(p), 0);
    sr_buf_free(&cmd);
    for (int i = 0; i < NIMG; i++)
        free(paths[i]);
    free(script);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- metrics.json -------------------------------------------------------- */

typedef struct {
    int count;
    char paths[4][512];
    char reasons[4][256];
    const char *create_on_problem; /* a metrics.json to create from the callback */
} problems;

static void on_problem(void *ctx, const char *path, const char *reason)
{
    problems *p = ctx;
    if (p->count < 4) {
        snprintf(p->paths[p->count], sizeof p->paths[0], "%s", path);
        snprintf(p->reasons[p->count], sizeof p->reasons[0], "%s", reason);
    }
    p->count++;
    if (p->create_on_problem)
        put_file(p->create_on_problem, "{\"other\": true}\n", 16);
}

/* Three good samples of different sizes, then a garbage file and a truncated PNG. */
static void write_samples(const char *dir, char *paths[5], sr_seed_stats stats[3])
{
    static const int sizes[3][2] = {{5, 7}, {16, 16}, {33, 1}};
    sr_rng r;
    sr_rng_seed(&r, 42);
    for (int i = 0; i < 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "sample_%02d.png", i);
        paths[i] = sr_path_join(dir, name);
    }
    for (int i = 0; i < 3; i++) {
        int w = sizes[i][0], h = sizes[i][1];
        uint8_t *rgb = random_rgb(&r, w, h);
        write_png(paths[i], rgb, w, h);
        sr_seed_stats_rgb8(rgb, (size_t)w * (size_t)h, &stats[i]);
        free(rgb);
    }
    put_file(paths[3], "not a png at all", 16);
    char *whole, err[256];
    size_t len;
    ck_assert(sr_read_file(paths[1], 1u << 20, &whole, &len, err, sizeof err) == 0);
    put_file(paths[4], whole, len / 2);
    free(whole);
}

static void free_paths(char *paths[5])
{
    for (int i = 0; i < 5; i++)
        free(paths[i]);
}

START_TEST(test_metrics_layout)
{
    char *dir = test_tmpdir("metrics-layout");
    char *paths[5];
    sr_seed_stats st[3];
    write_samples(dir, paths, st);
    problems pr;
    memset(&pr, 0, sizeof pr);
    char err[512] = "";
    int rc = sr_write_seed_metrics(dir, "lora_trial_5-000004.safetensors", (const char *const *)paths, 5, on_problem,
                                   &pr, err, sizeof err);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);

    /* the two broken samples were reported, with reasons that do not repeat the path */
    ck_assert_int_eq(pr.count, 2);
    ck_assert_str_eq(pr.paths[0], paths[3]);
    ck_assert_str_eq(pr.paths[1], paths[4]);
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(pr.reasons[i][0] != '\0', "empty reason");
        ck_assert_msg(strstr(pr.reasons[i], dir) == NULL, "reason repeats the path: %s", pr.reasons[i]);
    }

    char *mpath = sr_path_join(dir, "metrics.json");
    char *text = slurp(mpath);
    /* key order of the seed evaluator */
    static const char *const keys[] = {"\"checkpoint\"",      "\"evaluation_time\"", "\"metrics\"",
                                       "\"total_samples\"",   "\"avg_brightness\"",  "\"avg_contrast\"",
                                       "\"mean_brightness\"", "\"mean_contrast\"",   "\"std_brightness\"",
                                       "\"std_contrast\""};
    size_t prev_at = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *k = strstr(text, keys[i]);
        ck_assert_msg(k != NULL, "no %s in %s", keys[i], text);
        size_t at = (size_t)(k - text);
        ck_assert_msg(i == 0 || at > prev_at, "%s out of order", keys[i]);
        prev_at = at;
    }

    cJSON *j = sr_json_load(mpath, err, sizeof err);
    ck_assert_msg(j != NULL, "%s", err);
    ck_assert_str_eq(sr_json_string(j, "checkpoint"), "lora_trial_5-000004.safetensors");
    const char *when = sr_json_string(j, "evaluation_time");
    ck_assert_ptr_nonnull(when);
    /* 2025-11-15T10:45:12.123456 */
    ck_assert_int_eq((int)strlen(when), 26);
    for (int i = 0; i < 26; i++) {
        char c = when[i];
        if (i == 4 || i == 7)
            ck_assert(c == '-');
        else if (i == 10)
            ck_assert(c == 'T');
        else if (i == 13 || i == 16)
            ck_assert(c == ':');
        else if (i == 19)
            ck_assert(c == '.');
        else
            ck_assert_msg(c >= '0' && c <= '9', "bad evaluation_time %s", when);
    }

    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "metrics");
    ck_assert(cJSON_IsObject(m));
    ck_assert(sr_json_number(m, "total_samples") == 3.0);
    ck_assert_ptr_null(strstr(text, "\"total_samples\": 3.")); /* an integer */
    const cJSON *ab = cJSON_GetObjectItemCaseSensitive(m, "avg_brightness");
    const cJSON *ac = cJSON_GetObjectItemCaseSensitive(m, "avg_contrast");
    ck_assert_int_eq(cJSON_GetArraySize(ab), 3);
    ck_assert_int_eq(cJSON_GetArraySize(ac), 3);
    long double sb = 0, sc = 0;
    for (int i = 0; i < 3; i++) {
        double b = cJSON_GetArrayItem(ab, i)->valuedouble, c = cJSON_GetArrayItem(ac, i)->valuedouble;
        ck_assert_msg(close_rel(b, st[i].brightness, 1e-15), "brightness %d: %.17g vs %.17g", i, b, st[i].brightness);
        ck_assert_msg(close_rel(c, st[i].contrast, 1e-15), "contrast %d: %.17g vs %.17g", i, c, st[i].contrast);
        sb += st[i].brightness;
        sc += st[i].contrast;
    }
    long double mb = sb / 3, mc = sc / 3, vb = 0, vc = 0;
    for (int i = 0; i < 3; i++) {
        vb += (st[i].brightness - mb) * (st[i].brightness - mb);
        vc += (st[i].contrast - mc) * (st[i].contrast - mc);
    }
    ck_assert(close_rel(sr_json_number(m, "mean_brightness"), (double)mb, 1e-13));
    ck_assert(close_rel(sr_json_number(m, "mean_contrast"), (double)mc, 1e-13));
    /* population std (ddof 0) across samples */
    ck_assert(close_rel(sr_json_number(m, "std_brightness"), (double)sqrtl(vb / 3), 1e-12));
    ck_assert(close_rel(sr_json_number(m, "std_contrast"), (double)sqrtl(vc / 3), 1e-12));
    ck_assert(sr_json_number(m, "std_brightness") > 0);
    cJSON_Delete(j);
    assert_no_temp_files(dir);

    /* a second run finds it and leaves it alone */
    memset(&pr, 0, sizeof pr);
    rc = sr_write_seed_metrics(dir, "other.safetensors", (const char *const *)paths, 3, on_problem, &pr, err,
                               sizeof err);
    ck_assert_int_eq(rc, 1);
    char *again = slurp(mpath);
    ck_assert_str_eq(again, text);
    free(again);
    free(text);
    free(mpath);
    free_paths(paths);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_metrics_never_replaces)
{
    char *dir = test_tmpdir("metrics-keep");
    char *paths[5];
    sr_seed_stats st[3];
    write_samples(dir, paths, st);
    char *mpath = sr_path_join(dir, "metrics.json");
    const char *mine = "{\"checkpoint\": \"written by someone else\"}\n";
    put_file(mpath, mine, strlen(mine));
    char err[512] = "";
    int rc = sr_write_seed_metrics(dir, "x.safetensors", (const char *const *)paths, 3, NULL, NULL, err, sizeof err);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(err, "already") != NULL, "%s", err);
    char *text = slurp(mpath);
    ck_assert_str_eq(text, mine);
    free(text);
    assert_no_temp_files(dir);

    /* one that appears while the samples are being measured also wins */
    ck_assert_int_eq(unlink(mpath), 0);
    problems pr;
    memset(&pr, 0, sizeof pr);
    pr.create_on_problem = mpath;
    const char *order[] = {paths[3], paths[0], paths[1]};
    rc = sr_write_seed_metrics(dir, "x.safetensors", order, 3, on_problem, &pr, err, sizeof err);
    ck_assert_int_eq(pr.count, 1);
    ck_assert_int_eq(rc, 1);
    text = slurp(mpath);
    ck_assert_str_eq(text, "{\"other\": true}\n");
    free(text);
    assert_no_temp_files(dir);
    free(mpath);
    free_paths(paths);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_metrics_nothing_measured)
{
    char *dir = test_tmpdir("metrics-none");
    char *paths[5];
    sr_seed_stats st[3];
    write_samples(dir, paths, st);
    char *mpath = sr_path_join(dir, "metrics.json");
    problems pr;
    memset(&pr, 0, sizeof pr);
    char err[512] = "";
    const char *bad[] = {paths[3], paths[4]};
    int rc = sr_write_seed_metrics(dir, "x.safetensors", bad, 2, on_problem, &pr, err, sizeof err);
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(pr.count, 2);
    ck_assert_msg(err[0] != '\0', "no reason");
    ck_assert_int_eq(access(mpath, F_OK), -1);
    err[0] = '\0';
    ck_assert_int_eq(sr_write_seed_metrics(dir, "x.safetensors", NULL, 0, NULL, NULL, err, sizeof err), -1);
    ck_assert_msg(err[0] != '\0', "no reason");
    ck_assert_int_eq(access(mpath, F_OK), -1);
    /* a folder that does not exist is an error, not "already there" */
    char *nowhere = sr_path_join(dir, "missing/dir");
    ck_assert_int_eq(sr_write_seed_metrics(nowhere, "x.safetensors", (const char *const *)paths, 1, NULL, NULL, err,
                                           sizeof err),
                     -1);
    ck_assert_msg(strstr(err, "No such file") != NULL, "%s", err);
    free(nowhere);
    free(mpath);
    free_paths(paths);
    test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("image_stats");
    TCase *tc = tcase_create("stats");
    tcase_add_test(tc, test_stats_constant);
    tcase_add_test(tc, test_stats_two_values);
    tcase_add_test(tc, test_stats_no_cancellation);
    tcase_add_test(tc, test_stats_match_numpy);
    suite_add_tcase(s, tc);
    TCase *tm = tcase_create("metrics_json");
    tcase_add_test(tm, test_metrics_layout);
    tcase_add_test(tm, test_metrics_never_replaces);
    tcase_add_test(tm, test_metrics_nothing_measured);
    suite_add_tcase(s, tm);
    return s;
}
