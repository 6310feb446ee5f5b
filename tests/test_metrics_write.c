/* test_metrics_write.c - the seed's brightness and contrast through the image
 * moments (against numpy when it is installed), and metrics.json written
 * from decoded samples by the whole pipeline: decode, measure, aggregate,
 * write. */
#include "config.h"

#include "atomic_file.h"
#include "check_main.h"
#include "image_metrics.h"
#include "image_moments.h"
#include "json.h"
#include "leftovers.h"
#include "metrics_read.h"
#include "metrics_write.h"
#include "png_io.h"
#include "ssim.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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
    uint8_t *rgb = xmalloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        rgb[i] = (uint8_t)(sr_rng_next(r) >> 56);
    return rgb;
}

static void write_png(const char *path, const uint8_t *rgb, int w, int h)
{
    char err[256];
    ck_assert_msg(sr_png_write_rgb8(path, rgb, w, h, err, sizeof err) == 0, "%s", err);
}

/* Brightness and contrast of w*h pixels through the fused moments. */
static void seed_stats(const uint8_t *rgb, int w, int h, sr_sample_metrics *out)
{
    sr_image_moments m;
    sr_image_moments_cpu(rgb, w, h, &m);
    sr_sample_metrics_from_moments(&m, out);
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

/* No leftover ".metrics.json.sweepreport-tmp-*" in dir. */
static void assert_no_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        ck_assert_msg(strstr(de->d_name, ".sweepreport-tmp-") == NULL, "temporary file left: %s", de->d_name);
    closedir(d);
}

/* ---- brightness and contrast worked out by hand -------------------------- */

START_TEST(test_stats_constant)
{
    uint8_t px[4 * 3 * 3];
    sr_sample_metrics s;
    memset(px, 0, sizeof px);
    seed_stats(px, 4, 3, &s);
    ck_assert(s.brightness == 0.0 && s.contrast == 0.0);
    memset(px, 255, sizeof px);
    seed_stats(px, 4, 3, &s);
    ck_assert(s.brightness == 1.0 && s.contrast == 0.0);
    memset(px, 77, sizeof px);
    seed_stats(px, 12, 1, &s);
    ck_assert(s.brightness == 77.0 / 255.0 && s.contrast == 0.0);
    /* nothing to measure: NaN, as numpy's mean of an empty array */
    seed_stats(px, 0, 1, &s);
    ck_assert(isnan(s.brightness) && isnan(s.contrast));
    seed_stats(NULL, 0, 0, &s);
    ck_assert(isnan(s.brightness) && isnan(s.contrast));
}
END_TEST

START_TEST(test_stats_two_values)
{
    /* half the bytes 0, half 255: mean 127.5, std 127.5 */
    const uint8_t bw[] = {0, 0, 0, 255, 255, 255};
    sr_sample_metrics s;
    seed_stats(bw, 2, 1, &s);
    ck_assert_double_eq(s.brightness, 0.5);
    ck_assert_double_eq(s.contrast, 0.5);
    seed_stats(bw, 1, 2, &s);
    ck_assert_double_eq(s.brightness, 0.5);
    ck_assert_double_eq(s.contrast, 0.5);
    /* five bytes of 10 and one of 30 */
    const uint8_t q[] = {10, 10, 10, 30, 10, 10};
    seed_stats(q, 2, 1, &s);
    ck_assert(close_rel(s.brightness, 40.0 / 3.0 / 255.0, 1e-15));
    /* var = (5 * (10 - 40/3)^2 + (30 - 40/3)^2) / 6 = 500/9 */
    ck_assert_msg(close_rel(s.contrast, sqrt(500.0 / 9.0) / 255.0, 1e-15), "contrast %.17g", s.contrast);
    /* one pixel (10, 20, 30): mean 20, variance 200/3 */
    const uint8_t one[] = {10, 20, 30};
    seed_stats(one, 1, 1, &s);
    ck_assert(close_rel(s.brightness, 20.0 / 255.0, 1e-15));
    ck_assert_msg(close_rel(s.contrast, sqrt(200.0 / 3.0) / 255.0, 1e-15), "contrast %.17g", s.contrast);
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
    sr_sample_metrics s;
    seed_stats(rgb, (int)px, 1, &s);
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
    sr_sample_metrics want[NIMG];
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
        seed_stats(rgb, w, h, &want[i]);
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

/* ---- the metrics, straight from their definitions ------------------------ */

/* Every per-sample metric of image_metrics.h, pixel by pixel in long double
 * with two-pass variances (nothing shared with the moments). */
static void reference_metrics(const uint8_t *p, int w, int h, sr_sample_metrics *out)
{
    const size_t n = (size_t)w * (size_t)h;
    long double s = 0, sat = 0, rg = 0, yb = 0;
    for (size_t i = 0; i < 3 * n; i++)
        s += p[i];
    long double mean = s / (long double)(3 * n), v = 0;
    for (size_t i = 0; i < 3 * n; i++)
        v += (p[i] - mean) * (p[i] - mean);
    out->brightness = (double)(mean / 255.0L);
    out->contrast = (double)(sqrtl(v / (long double)(3 * n)) / 255.0L);

    unsigned long hist[256] = {0};
    for (size_t i = 0; i < n; i++) {
        int r = p[3 * i], g = p[3 * i + 1], b = p[3 * i + 2];
        int mx = r > g ? (r > b ? r : b) : (g > b ? g : b);
        int mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
        if (mx > 0)
            sat += (long double)(mx - mn) / (long double)mx;
        rg += r - g;
        yb += (r + g) / 2.0L - b;
        long double y = (299 * r + 587 * g + 114 * b) / 1000.0L;
        hist[(int)floorl(y + 0.5L)]++;
    }
    out->saturation = (double)(sat / (long double)n);
    long double mrg = rg / (long double)n, myb = yb / (long double)n, vrg = 0, vyb = 0;
    for (size_t i = 0; i < n; i++) {
        int r = p[3 * i], g = p[3 * i + 1], b = p[3 * i + 2];
        long double d1 = (r - g) - mrg, d2 = ((r + g) / 2.0L - b) - myb;
        vrg += d1 * d1;
        vyb += d2 * d2;
    }
    out->colorfulness =
        (double)(sqrtl(vrg / (long double)n + vyb / (long double)n) + 0.3L * sqrtl(mrg * mrg + myb * myb));

    long double ent = 0;
    for (int k = 0; k < 256; k++)
        if (hist[k]) {
            long double q = (long double)hist[k] / (long double)n;
            ent -= q * log2l(q);
        }
    out->entropy = (double)ent;

    out->sharpness = 0.0;
    if (w >= 3 && h >= 3) {
#define LUMA(xx, yy)                                                                          \
    ((299 * p[3 * ((size_t)(yy) * (size_t)w + (size_t)(xx))] +                                \
      587 * p[3 * ((size_t)(yy) * (size_t)w + (size_t)(xx)) + 1] +                            \
      114 * p[3 * ((size_t)(yy) * (size_t)w + (size_t)(xx)) + 2]) /                           \
     1000.0L)
        long double ls = 0, lv = 0, ln = (long double)(w - 2) * (long double)(h - 2);
        for (int pass = 0; pass < 2; pass++)
            for (int y = 1; y < h - 1; y++)
                for (int x = 1; x < w - 1; x++) {
                    long double l = LUMA(x - 1, y) + LUMA(x + 1, y) + LUMA(x, y - 1) + LUMA(x, y + 1) -
                                    4.0L * LUMA(x, y);
                    if (pass == 0)
                        ls += l;
                    else
                        lv += (l - ls / ln) * (l - ls / ln);
                }
#undef LUMA
        out->sharpness = (double)(lv / ln);
    }
}

static double *reference_luma(const uint8_t *p, int w, int h)
{
    size_t n = (size_t)w * (size_t)h;
    double *y = xmalloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++)
        y[i] = (299 * p[3 * i] + 587 * p[3 * i + 1] + 114 * p[3 * i + 2]) / 1000.0;
    return y;
}

/* ---- samples and the pipeline ------------------------------------------- */

/* Good samples: three of 16x16 (one a lightly disturbed copy of another, so
 * that not every SSIM is near 0) and three of sizes seen once, which are not
 * compared; then a garbage file and a truncated PNG. */
enum { NGOOD = 6, NBAD = 2, NSAMPLES = NGOOD + NBAD };
static const int sample_size[NGOOD][2] = {{5, 7}, {16, 16}, {33, 1}, {16, 16}, {12, 12}, {16, 16}};

typedef struct {
    char *paths[NSAMPLES];
    uint8_t *rgb[NGOOD]; /* what was encoded */
} samples;

static void write_samples(const char *dir, samples *s)
{
    sr_rng r;
    sr_rng_seed(&r, 42);
    for (int i = 0; i < NSAMPLES; i++) {
        char name[32];
        snprintf(name, sizeof name, "sample_%02d.png", i);
        s->paths[i] = sr_path_join(dir, name);
    }
    for (int i = 0; i < NGOOD; i++) {
        int w = sample_size[i][0], h = sample_size[i][1];
        s->rgb[i] = random_rgb(&r, w, h);
        if (i == 3) {
            memcpy(s->rgb[3], s->rgb[1], (size_t)w * (size_t)h * 3);
            for (int k = 0; k < 40; k++)
                s->rgb[3][sr_rng_next(&r) % ((size_t)w * (size_t)h * 3)] ^= 0x3f;
        }
        write_png(s->paths[i], s->rgb[i], w, h);
    }
    put_file(s->paths[NGOOD], "not a png at all", 16);
    char *whole, err[256];
    size_t len;
    ck_assert(sr_read_file(s->paths[1], 1u << 20, &whole, &len, err, sizeof err) == 0);
    put_file(s->paths[NGOOD + 1], whole, len / 2);
    free(whole);
}

static void free_samples(samples *s)
{
    for (int i = 0; i < NSAMPLES; i++)
        free(s->paths[i]);
    for (int i = 0; i < NGOOD; i++)
        free(s->rgb[i]);
}

/* Decodes every sample (the broken ones fail with a reason naming the file
 * and are left out), measures and aggregates them. */
static void measure(const samples *s, sr_metrics *metrics, sr_image_lists *lists)
{
    const uint8_t *rgb[NSAMPLES];
    uint8_t *owned[NSAMPLES];
    int w[NSAMPLES], h[NSAMPLES];
    size_t n = 0;
    for (int i = 0; i < NSAMPLES; i++) {
        uint8_t *px = NULL;
        int pw = -1, ph = -1;
        char err[512] = "";
        int rc = sr_png_read_rgb8(s->paths[i], &px, &pw, &ph, err, sizeof err);
        if (i >= NGOOD) {
            ck_assert_msg(rc == -1, "%s decoded", s->paths[i]);
            ck_assert_ptr_null(px);
            ck_assert_msg(strstr(err, s->paths[i]) != NULL, "reason without the file: %s", err);
            continue;
        }
        ck_assert_msg(rc == 0, "%s", err);
        ck_assert_int_eq(pw, sample_size[i][0]);
        ck_assert_int_eq(ph, sample_size[i][1]);
        ck_assert(memcmp(px, s->rgb[i], (size_t)pw * (size_t)ph * 3) == 0);
        owned[n] = px;
        rgb[n] = px;
        w[n] = pw;
        h[n] = ph;
        n++;
    }
    ck_assert_uint_eq(n, NGOOD);
    sr_image_set set;
    sr_image_set_from_rgb(&set, rgb, w, h, n);
    memset(metrics, 0, sizeof *metrics);
    sr_image_set_aggregate(&set, metrics, lists);
    sr_image_set_free(&set);
    for (size_t i = 0; i < n; i++)
        free(owned[i]);
}

/* ---- metrics.json -------------------------------------------------------- */

static void check_evaluation_time(const char *when)
{
    ck_assert_ptr_nonnull(when);
    /* datetime.now().isoformat(): 2025-11-15T10:45:12.123456, local time */
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
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    ck_assert_int_eq(sscanf(when, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                            &tm.tm_min, &tm.tm_sec),
                     6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_isdst = -1;
    double off = difftime(time(NULL), mktime(&tm));
    ck_assert_msg(off >= -2 && off <= 300, "evaluation_time %s is not now (%.0f s off)", when, off);
}

START_TEST(test_metrics_layout)
{
    char *dir = test_tmpdir("metrics-layout");
    samples smp;
    write_samples(dir, &smp);
    sr_metrics metrics;
    sr_image_lists lists;
    measure(&smp, &metrics, &lists);
    char err[512] = "";
    int rc = sr_write_metrics_json(dir, "lora_trial_5-000004.safetensors", &lists, &metrics, 0, 0, err, sizeof err);
    ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
    assert_no_temp_files(dir);

    char *mpath = sr_path_join(dir, "metrics.json");
    char *text = slurp(mpath);
    cJSON *j = sr_json_load(mpath, err, sizeof err);
    ck_assert_msg(j != NULL, "%s", err);

    /* key order of the seed evaluator, then the other metrics by name */
    /* the seed's keys, then sweepreport's mark of its own file */
    static const char *const top_keys[] = {"checkpoint", "evaluation_time", "metrics", "written_by",
                                           "samples_signature"};
    static const char *const metric_keys[] = {
        "total_samples",  "avg_brightness",   "avg_contrast", "mean_brightness", "mean_contrast",
        "mean_colorfulness", "mean_entropy", "mean_saturation", "mean_sharpness", "pixar_score",
        "sample_diversity", "std_brightness", "std_contrast"};
    const cJSON *it = j->child;
    for (size_t i = 0; i < sizeof top_keys / sizeof top_keys[0]; i++, it = it->next) {
        ck_assert_msg(it != NULL, "no %s in %s", top_keys[i], text);
        ck_assert_str_eq(it->string, top_keys[i]);
    }
    ck_assert_msg(it == NULL, "unexpected key %s", it ? it->string : "");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "metrics");
    ck_assert(cJSON_IsObject(m));
    it = m->child;
    for (size_t i = 0; i < sizeof metric_keys / sizeof metric_keys[0]; i++, it = it->next) {
        ck_assert_msg(it != NULL, "no %s in %s", metric_keys[i], text);
        ck_assert_str_eq(it->string, metric_keys[i]);
    }
    ck_assert_msg(it == NULL, "unexpected metric %s", it ? it->string : "");

    ck_assert_str_eq(sr_json_string(j, "checkpoint"), "lora_trial_5-000004.safetensors");
    check_evaluation_time(sr_json_string(j, "evaluation_time"));

    ck_assert(sr_json_number(m, "total_samples") == (double)NGOOD);
    /* written as an integer */
    const char *ts = strstr(text, "\"total_samples\":");
    ck_assert_ptr_nonnull(ts);
    ts += strlen("\"total_samples\":");
    ts += strspn(ts, " \t");
    ck_assert_msg(ts[0] == '6' && (ts[1] == ',' || ts[1] == '\n'), "total_samples written as %.12s", ts);

    /* every value against the definitions, pixel by pixel */
    sr_sample_metrics ref[NGOOD];
    for (int i = 0; i < NGOOD; i++)
        reference_metrics(smp.rgb[i], sample_size[i][0], sample_size[i][1], &ref[i]);
    const cJSON *ab = cJSON_GetObjectItemCaseSensitive(m, "avg_brightness");
    const cJSON *ac = cJSON_GetObjectItemCaseSensitive(m, "avg_contrast");
    ck_assert_int_eq(cJSON_GetArraySize(ab), NGOOD);
    ck_assert_int_eq(cJSON_GetArraySize(ac), NGOOD);
    long double sum[6] = {0};
    for (int i = 0; i < NGOOD; i++) {
        double b = cJSON_GetArrayItem(ab, i)->valuedouble, c = cJSON_GetArrayItem(ac, i)->valuedouble;
        ck_assert_msg(close_rel(b, ref[i].brightness, 1e-15), "brightness %d: %.17g vs %.17g", i, b,
                      ref[i].brightness);
        ck_assert_msg(close_rel(c, ref[i].contrast, 1e-15), "contrast %d: %.17g vs %.17g", i, c,
                      ref[i].contrast);
        sum[0] += ref[i].brightness;
        sum[1] += ref[i].contrast;
        sum[2] += ref[i].saturation;
        sum[3] += ref[i].sharpness;
        sum[4] += ref[i].colorfulness;
        sum[5] += ref[i].entropy;
    }
    long double mb = sum[0] / NGOOD, mc = sum[1] / NGOOD, vb = 0, vc = 0;
    for (int i = 0; i < NGOOD; i++) {
        vb += (ref[i].brightness - mb) * (ref[i].brightness - mb);
        vc += (ref[i].contrast - mc) * (ref[i].contrast - mc);
    }
    /* population std (ddof 0) across samples */
    long double sb = sqrtl(vb / NGOOD), sc = sqrtl(vc / NGOOD);
    struct {
        const char *name;
        long double want;
        double rel;
    } const expect[] = {
        {"mean_brightness", mb, 1e-13},
        {"mean_contrast", mc, 1e-13},
        {"std_brightness", sb, 1e-12},
        {"std_contrast", sc, 1e-12},
        {"mean_saturation", sum[2] / NGOOD, 1e-12},
        {"mean_sharpness", sum[3] / NGOOD, 1e-12},
        {"mean_colorfulness", sum[4] / NGOOD, 1e-12},
        {"mean_entropy", sum[5] / NGOOD, 1e-12},
        {"pixar_score", fabsl(mb - 0.5L) + 0.5L * sb + fabsl(mc - 0.2L) + 0.5L * sc, 1e-12},
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        double got = sr_json_number(m, expect[i].name), want = (double)expect[i].want;
        ck_assert_msg(close_rel(got, want, expect[i].rel), "%s: %.17g, want %.17g", expect[i].name, got,
                      want);
    }
    ck_assert(sr_json_number(m, "std_brightness") > 0);
    ck_assert(sr_json_number(m, "mean_sharpness") > 0);

    /* 1 - the mean SSIM of the three 16x16 samples' pairs; the others have no
     * partner of their size */
    double *y1 = reference_luma(smp.rgb[1], 16, 16), *y3 = reference_luma(smp.rgb[3], 16, 16),
           *y5 = reference_luma(smp.rgb[5], 16, 16);
    double s13 = sr_ssim_cpu(y1, y3, 16, 16), s15 = sr_ssim_cpu(y1, y5, 16, 16);
    double s35 = sr_ssim_cpu(y3, y5, 16, 16);
    ck_assert_msg(s13 > 0.5, "the disturbed copy is not similar: %.17g", s13);
    double div = 1.0 - (s13 + s15 + s35) / 3.0, got = sr_json_number(m, "sample_diversity");
    ck_assert_msg(close_rel(got, div, 1e-12), "sample_diversity %.17g, want %.17g", got, div);
    free(y1);
    free(y3);
    free(y5);
    cJSON_Delete(j);

    /* a second run finds it and leaves it alone */
    rc = sr_write_metrics_json(dir, "other.safetensors", &lists, &metrics, 0, 0, err, sizeof err);
    ck_assert_int_eq(rc, 1);
    char *again = slurp(mpath);
    ck_assert_str_eq(again, text);
    free(again);
    assert_no_temp_files(dir);

    free(text);
    free(mpath);
    sr_image_lists_free(&lists);
    sr_metrics_free(&metrics);
    free_samples(&smp);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* The check-and-replace commit: what may_replace is shown is what is
 * replaced, and what it refuses stays, with no temporary file left. */
static int seen_and_allow(const char *path, void *ctx)
{
    char **seen = ctx;
    free(seen[0]);
    seen[0] = slurp(path);
    return strcmp(seen[0], "old, may go\n") == 0;
}

static int commit_text(const char *path, const char *text, char **seen)
{
    sr_atomic_file af;
    ck_assert_int_eq(sr_atomic_open(&af, path, SR_ATOMIC_NO_REPLACE), 0);
    ck_assert_uint_eq(fwrite(text, 1, strlen(text), af.fp), strlen(text));
    return sr_atomic_commit_if(&af, seen_and_allow, seen);
}

START_TEST(test_atomic_commit_if)
{
    char *dir = test_tmpdir("commit-if");
    char *path = sr_path_join(dir, "f.json");
    char *seen[1] = {NULL};
    /* none there: written, nothing asked */
    ck_assert_int_eq(commit_text(path, "first\n", seen), 0);
    ck_assert_ptr_null(seen[0]);
    char *text = slurp(path);
    ck_assert_str_eq(text, "first\n");
    free(text);
    /* one that may not go is kept */
    errno = 0;
    ck_assert_int_eq(commit_text(path, "second\n", seen), -1);
    ck_assert_int_eq(errno, EEXIST);
    ck_assert_str_eq(seen[0], "first\n");
    text = slurp(path);
    ck_assert_str_eq(text, "first\n");
    free(text);
    assert_no_temp_files(dir);
    /* one that may go is replaced */
    put_file(path, "old, may go\n", 12);
    ck_assert_int_eq(commit_text(path, "third\n", seen), 0);
    ck_assert_str_eq(seen[0], "old, may go\n");
    text = slurp(path);
    ck_assert_str_eq(text, "third\n");
    free(text);
    assert_no_temp_files(dir);
    /* swap files a killed commit left: removed when they may go, kept
     * otherwise (they may hold another tool's file), and never taken for
     * temporaries by the clean-up after a killed run */
    char *left_mine = sr_path_join(dir, ".f.json" SR_SWAP_MARK "aaaaaa");
    char *left_theirs = sr_path_join(dir, ".f.json" SR_SWAP_MARK "bbbbbb");
    put_file(left_mine, "old, may go\n", 12);
    put_file(left_theirs, "theirs\n", 7);
    ck_assert(!sr_is_temp_name(".f.json" SR_SWAP_MARK "bbbbbb"));
    put_file(path, "old, may go\n", 12);
    ck_assert_int_eq(commit_text(path, "fourth\n", seen), 0);
    struct stat st;
    ck_assert_int_ne(lstat(left_mine, &st), 0);
    ck_assert_int_eq(lstat(left_theirs, &st), 0);
    text = slurp(left_theirs);
    ck_assert_str_eq(text, "theirs\n");
    free(text);
    free(left_mine);
    free(left_theirs);
    free(seen[0]);
    free(path);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* What a killed check-and-swap left, after the next run's clean-up: ours
 * and empty ones gone, another tool's put back where its place is empty,
 * else kept. */
START_TEST(test_swap_leftovers)
{
    char *sweep = test_tmpdir("swap-left");
    char *a = sr_path_join(sweep, "trial_0001/realtime_evaluations/x-000002");
    char *b = sr_path_join(sweep, "trial_0001/evaluation");
    ck_assert_int_eq(sr_mkdir_p(a, 0755), 0);
    ck_assert_int_eq(sr_mkdir_p(b, 0755), 0);
    const char *ours = "{\"checkpoint\": \"x\", \"metrics\": {}, \"written_by\": \"" PACKAGE_NAME " 0.0.1\"}\n";
    const char *theirs = "{\"checkpoint\": \"x\", \"metrics\": {\"mean_brightness\": 0.5}}\n";
    char *in_place = sr_path_join(a, "metrics.json");
    char *own_swap = sr_path_join(a, ".metrics.json" SR_SWAP_MARK "aaaaaa");
    char *their_swap = sr_path_join(a, ".metrics.json" SR_SWAP_MARK "bbbbbb");
    char *empty_swap = sr_path_join(a, ".metrics.json" SR_SWAP_MARK "cccccc");
    char *lone_swap = sr_path_join(b, ".metrics.json" SR_SWAP_MARK "dddddd");
    char *lone_place = sr_path_join(b, "metrics.json");
    put_file(in_place, ours, strlen(ours));
    put_file(own_swap, ours, strlen(ours));
    put_file(their_swap, theirs, strlen(theirs));
    put_file(empty_swap, "", 0);
    put_file(lone_swap, theirs, strlen(theirs));
    ck_assert_uint_eq(sr_remove_leftovers(sweep, NULL), 4);
    struct stat st;
    ck_assert_int_ne(lstat(own_swap, &st), 0);
    ck_assert_int_ne(lstat(empty_swap, &st), 0);
    ck_assert_int_ne(lstat(their_swap, &st), 0); /* back in place of ours */
    char *text = slurp(in_place);
    ck_assert_str_eq(text, theirs);
    free(text);
    ck_assert_int_ne(lstat(lone_swap, &st), 0); /* put back where the place was empty */
    text = slurp(lone_place);
    ck_assert_str_eq(text, theirs);
    free(text);
    /* one whose place holds another file of theirs is kept */
    const char *newer = "{\"checkpoint\": \"x\", \"metrics\": {\"mean_brightness\": 0.6}}\n";
    put_file(their_swap, newer, strlen(newer));
    ck_assert_uint_eq(sr_remove_leftovers(sweep, NULL), 0);
    ck_assert_int_eq(lstat(their_swap, &st), 0);
    free(lone_place);
    free(lone_swap);
    free(empty_swap);
    free(their_swap);
    free(own_swap);
    free(in_place);
    free(b);
    free(a);
    test_rmtree(sweep);
    free(sweep);
}
END_TEST

/* sweepreport marks its own metrics.json, and replaces only such a file,
 * only when asked (its samples changed). */
START_TEST(test_metrics_replaces_own_only)
{
    char *dir = test_tmpdir("metrics-own");
    samples smp;
    write_samples(dir, &smp);
    char *mpath = sr_path_join(dir, "metrics.json");
    sr_metrics metrics;
    sr_image_lists lists;
    measure(&smp, &metrics, &lists);
    char err[512] = "";
    ck_assert_int_eq(sr_write_metrics_json(dir, "x.safetensors", &lists, &metrics, 0xabcULL, 0, err, sizeof err), 0);
    sr_metrics read = {0};
    sr_metrics_origin origin;
    ck_assert_int_eq(sr_read_metrics_file_origin(mpath, &read, &origin, err, sizeof err), 0);
    ck_assert(origin.ours && origin.has_signature);
    ck_assert_uint_eq(origin.samples_signature, 0xabcULL);
    sr_metrics_free(&read);
    char *text = slurp(mpath);
    ck_assert_msg(strstr(text, "\"written_by\"") != NULL && strstr(text, "\"" PACKAGE_NAME " ") != NULL, "%s", text);
    free(text);
    /* not asked: left as it is */
    ck_assert_int_eq(sr_write_metrics_json(dir, "x.safetensors", &lists, &metrics, 0, 0, err, sizeof err), 1);
    /* asked: replaced, atomically */
    sr_metrics_set(&metrics, "mean_brightness", 0.123);
    ck_assert_int_eq(sr_write_metrics_json(dir, "x.safetensors", &lists, &metrics, 0xdefULL, 1, err, sizeof err), 0);
    ck_assert_int_eq(sr_read_metrics_file_origin(mpath, &read, &origin, err, sizeof err), 0);
    ck_assert(origin.ours);
    ck_assert_uint_eq(origin.samples_signature, 0xdefULL);
    double v = 0;
    ck_assert(sr_metrics_get(&read, "mean_brightness", &v) && v == 0.123);
    sr_metrics_free(&read);
    assert_no_temp_files(dir);
    /* another tool's file, marked or not, is never replaced */
    const char *theirs[] = {"{\"checkpoint\": \"x\", \"metrics\": {\"mean_brightness\": 0.5}}\n",
                            "{\"written_by\": \"other-evaluator 2.0\"}\n"};
    for (size_t k = 0; k < 2; k++) {
        put_file(mpath, theirs[k], strlen(theirs[k]));
        ck_assert_int_eq(sr_write_metrics_json(dir, "x.safetensors", &lists, &metrics, 0, 1, err, sizeof err), 1);
        text = slurp(mpath);
        ck_assert_str_eq(text, theirs[k]);
        free(text);
    }
    sr_image_lists_free(&lists);
    sr_metrics_free(&metrics);
    free_samples(&smp);
    free(mpath);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_metrics_never_replaces)
{
    char *dir = test_tmpdir("metrics-keep");
    samples smp;
    write_samples(dir, &smp);
    char *mpath = sr_path_join(dir, "metrics.json");
    const char *mine = "{\"checkpoint\": \"written by someone else\"}\n";
    put_file(mpath, mine, strlen(mine));
    sr_metrics metrics;
    sr_image_lists lists;
    measure(&smp, &metrics, &lists);
    char err[512] = "";
    ck_assert_int_eq(sr_write_metrics_json(dir, "x.safetensors", &lists, &metrics, 0, 0, err, sizeof err), 1);
    char *text = slurp(mpath);
    ck_assert_str_eq(text, mine);
    free(text);
    assert_no_temp_files(dir);

    /* one that appears while the samples are being measured also wins */
    ck_assert_int_eq(unlink(mpath), 0);
    sr_image_lists_free(&lists);
    sr_metrics_free(&metrics);
    measure(&smp, &metrics, &lists);
    put_file(mpath, "{\"other\": true}\n", 16);
    ck_assert_int_eq(sr_write_metrics_json(dir, "x.safetensors", &lists, &metrics, 0, 0, err, sizeof err), 1);
    text = slurp(mpath);
    ck_assert_str_eq(text, "{\"other\": true}\n");
    free(text);
    assert_no_temp_files(dir);

    /* one that is there only as a name when the file is committed (a
     * dangling link looks absent until then) is not replaced either */
    ck_assert_int_eq(unlink(mpath), 0);
    ck_assert_int_eq(symlink("elsewhere.json", mpath), 0);
    ck_assert_int_eq(sr_write_metrics_json(dir, "x.safetensors", &lists, &metrics, 0, 0, err, sizeof err), 1);
    struct stat st;
    ck_assert_int_eq(lstat(mpath, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    char target[64];
    ssize_t tn = readlink(mpath, target, sizeof target - 1);
    ck_assert_int_eq((int)tn, (int)strlen("elsewhere.json"));
    target[tn] = '\0';
    ck_assert_str_eq(target, "elsewhere.json");
    char *elsewhere = sr_path_join(dir, "elsewhere.json");
    ck_assert_int_eq(access(elsewhere, F_OK), -1);
    free(elsewhere);
    assert_no_temp_files(dir);

    free(mpath);
    sr_image_lists_free(&lists);
    sr_metrics_free(&metrics);
    free_samples(&smp);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_metrics_missing_folder)
{
    char *dir = test_tmpdir("metrics-missing");
    samples smp;
    write_samples(dir, &smp);
    sr_metrics metrics;
    sr_image_lists lists;
    measure(&smp, &metrics, &lists);
    /* a folder that does not exist is an error, not "already there" */
    char *nowhere = sr_path_join(dir, "missing/dir");
    char err[512] = "";
    ck_assert_int_eq(sr_write_metrics_json(nowhere, "x.safetensors", &lists, &metrics, 0, 0, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "No such file") != NULL, "%s", err);
    ck_assert_msg(strstr(err, nowhere) != NULL, "reason without the file: %s", err);
    ck_assert_ptr_null(strchr(err, '\n'));
    ck_assert_int_eq(access(nowhere, F_OK), -1);
    free(nowhere);
    sr_image_lists_free(&lists);
    sr_metrics_free(&metrics);
    free_samples(&smp);
    test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("metrics_write");
    TCase *tc = tcase_create("brightness_contrast");
    tcase_add_test(tc, test_stats_constant);
    tcase_add_test(tc, test_stats_two_values);
    tcase_add_test(tc, test_stats_no_cancellation);
    tcase_add_test(tc, test_stats_match_numpy);
    suite_add_tcase(s, tc);
    TCase *tm = tcase_create("metrics_json");
    tcase_add_test(tm, test_metrics_layout);
    tcase_add_test(tm, test_atomic_commit_if);
    tcase_add_test(tm, test_swap_leftovers);
    tcase_add_test(tm, test_metrics_replaces_own_only);
    tcase_add_test(tm, test_metrics_never_replaces);
    tcase_add_test(tm, test_metrics_missing_folder);
    suite_add_tcase(s, tm);
    return s;
}
