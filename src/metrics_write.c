/* metrics_write.c - per-checkpoint metrics.json from sample images. */
#include "config.h"

#include "metrics_write.h"
#include "atomic_file.h"
#include "image_stats.h"
#include "json.h"
#include "png_io.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* datetime.now().isoformat() with the microseconds always present. */
static void iso_local_now(char *out, size_t outlen)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    time_t t = ts.tv_sec;
    if (!localtime_r(&t, &tm)) {
        snprintf(out, outlen, "1970-01-01T00:00:00.000000");
        return;
    }
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, outlen, "%s.%06ld", date, (long)(ts.tv_nsec / 1000));
}

/* png_io reasons start with "PATH: "; the callback gets the path on its own. */
static const char *strip_path(const char *reason, const char *path)
{
    size_t n = strlen(path);
    if (strncmp(reason, path, n) == 0 && reason[n] == ':' && reason[n + 1] == ' ')
        return reason + n + 2;
    return reason;
}

static double mean_of(const double *v, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s / (double)n;
}

/* Population std (ddof 0), two-pass like numpy. */
static double pstd_of(const double *v, size_t n, double mean)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = v[i] - mean;
        s += d * d;
    }
    return sqrt(s / (double)n);
}

int sr_write_seed_metrics(const char *dir, const char *checkpoint_file, const char *const *sample_paths,
                          size_t n, sr_sample_problem_fn on_problem, void *ctx, char *err, size_t errlen)
{
    char *path = sr_path_join(dir, "metrics.json");
    struct stat st;
    /* Cheap early exit; the atomic no-replace commit below is what decides. */
    if (lstat(path, &st) == 0) {
        snprintf(err, errlen, "%s already exists", path);
        free(path);
        return 1;
    }

    double *bright = xcalloc(n ? n : 1, sizeof *bright);
    double *contr = xcalloc(n ? n : 1, sizeof *contr);
    size_t measured = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t *rgb = NULL;
        int w = 0, h = 0;
        char perr[512];
        if (sr_png_read_rgb8(sample_paths[i], &rgb, &w, &h, perr, sizeof perr) != 0) {
            if (on_problem)
                on_problem(ctx, sample_paths[i], strip_path(perr, sample_paths[i]));
            continue;
        }
        sr_seed_stats s;
        sr_seed_stats_rgb8(rgb, (size_t)w * (size_t)h, &s);
        free(rgb);
        bright[measured] = s.brightness;
        contr[measured] = s.contrast;
        measured++;
    }

    int rc = -1;
    if (measured == 0) {
        if (n == 0)
            snprintf(err, errlen, "no sample images to measure");
        else
            snprintf(err, errlen, "none of the %zu sample images could be measured", n);
        goto out;
    }

    double mb = mean_of(bright, measured), mc = mean_of(contr, measured);
    char when[64];
    iso_local_now(when, sizeof when);

    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "checkpoint", checkpoint_file);
    cJSON_AddStringToObject(root, "evaluation_time", when);
    cJSON *m = cJSON_AddObjectToObject(root, "metrics");
    cJSON_AddNumberToObject(m, "total_samples", (double)measured);
    cJSON_AddItemToObject(m, "avg_brightness", cJSON_CreateDoubleArray(bright, (int)measured));
    cJSON_AddItemToObject(m, "avg_contrast", cJSON_CreateDoubleArray(contr, (int)measured));
    cJSON_AddNumberToObject(m, "mean_brightness", mb);
    cJSON_AddNumberToObject(m, "mean_contrast", mc);
    cJSON_AddNumberToObject(m, "std_brightness", pstd_of(bright, measured, mb));
    cJSON_AddNumberToObject(m, "std_contrast", pstd_of(contr, measured, mc));
    char *text = sr_json_print(root);
    cJSON_Delete(root);

    if (sr_write_file_atomic(path, text, strlen(text), SR_ATOMIC_NO_REPLACE) == 0) {
        rc = 0;
    } else if (errno == EEXIST) {
        snprintf(err, errlen, "%s already exists", path);
        rc = 1;
    } else {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    }
    free(text);
out:
    free(bright);
    free(contr);
    free(path);
    return rc;
}
