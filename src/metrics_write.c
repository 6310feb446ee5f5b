/* metrics_write.c - metrics.json in the seed evaluator's layout. */
#include "config.h"

#include "metrics_write.h"
#include "atomic_file.h"
#include "json.h"
#include "metrics_read.h"
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
    char date[24];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, outlen, "%.19s.%06d", date, (int)(ts.tv_nsec / 1000) % 1000000);
}

static cJSON *number_array(const double *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
    return a;
}

static void add_metric(cJSON *o, const sr_metrics *m, const char *name)
{
    double v;
    if (sr_metrics_get(m, name, &v))
        cJSON_AddItemToObject(o, name, isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull());
}

/* sr_metrics_file_is_own for sr_atomic_commit_if (ctx unused). */
static int is_own(const char *path, void *ctx)
{
    (void)ctx;
    return sr_metrics_file_is_own(path);
}

int sr_write_metrics_json(const char *dir, const char *checkpoint_file, const sr_image_lists *lists,
                          const sr_metrics *metrics, uint64_t samples_signature, int replace_own, char *err,
                          size_t errlen)
{
    char *path = sr_path_join(dir, "metrics.json");
    struct stat st;
    if (lstat(path, &st) == 0 && (!replace_own || !is_own(path, NULL))) {
        free(path);
        return 1;
    }
    char when[48];
    iso_local_now(when, sizeof when);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "checkpoint", checkpoint_file);
    cJSON_AddStringToObject(root, "evaluation_time", when);
    cJSON *m = cJSON_AddObjectToObject(root, "metrics");
    /* the seed's keys first, in its order, then everything else by name */
    static const char *const first[] = {"total_samples", "mean_brightness", "mean_contrast"};
    add_metric(m, metrics, first[0]);
    cJSON_AddItemToObject(m, "avg_brightness", number_array(lists->avg_brightness, lists->n));
    cJSON_AddItemToObject(m, "avg_contrast", number_array(lists->avg_contrast, lists->n));
    add_metric(m, metrics, first[1]);
    add_metric(m, metrics, first[2]);
    for (size_t i = 0; i < metrics->n; i++) {
        const char *name = metrics->items[i].name;
        if (!cJSON_GetObjectItemCaseSensitive(m, name))
            add_metric(m, metrics, name);
    }
    /* after the seed's keys: who wrote it, from which samples */
    cJSON_AddStringToObject(root, "written_by", SR_METRICS_WRITTEN_BY);
    char sig[24];
    snprintf(sig, sizeof sig, "%016llx", (unsigned long long)samples_signature);
    cJSON_AddStringToObject(root, "samples_signature", sig);
    char *text = sr_json_print(root);
    cJSON_Delete(root);
    int rc = 0;
    /* one that appears meanwhile wins, unless it is ours */
    const size_t len = strlen(text);
    int wrc = replace_own ? sr_write_file_atomic_if(path, text, len, is_own, NULL)
                          : sr_write_file_atomic(path, text, len, SR_ATOMIC_NO_REPLACE);
    if (wrc != 0) {
        if (errno == EEXIST) {
            rc = 1;
        } else {
            snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
            rc = -1;
        }
    }
    free(text);
    free(path);
    return rc;
}
