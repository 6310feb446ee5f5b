/* metrics_read.c - reads metrics.json, evaluation_summary.json and
 * evaluation_state.json in every shape the evaluators wrote. */
#include "config.h"

#include "metrics_read.h"
#include "json.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Numbers in a record that describe the evaluation, not the checkpoint. */
static int is_bookkeeping(const char *key)
{
    static const char *const keys[] = {
        "epoch", "step", "evaluation_time", "timestamp", "last_update",
        "total_checkpoints_evaluated", "trial_number", "index",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(key, keys[i]) == 0)
            return 1;
    return 0;
}

static void add_numbers(const cJSON *obj, sr_metrics *m)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        if (it->string && cJSON_IsNumber(it) && !is_bookkeeping(it->string))
            sr_metrics_set(m, it->string, it->valuedouble);
    }
}

void sr_metrics_from_record(const cJSON *record, sr_metrics *m)
{
    if (!cJSON_IsObject(record))
        return;
    const cJSON *nested = cJSON_GetObjectItemCaseSensitive(record, "metrics");
    if (cJSON_IsObject(nested))
        add_numbers(nested, m);
    else
        add_numbers(record, m);
}

int sr_is_sample_metric(const char *name)
{
    static const char *const names[] = {"total_samples",  "mean_brightness", "mean_contrast",     "std_brightness",
                                        "std_contrast",   "mean_saturation", "mean_sharpness",    "mean_colorfulness",
                                        "mean_entropy",   "sample_diversity", "pixar_score"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0)
            return 1;
    return 0;
}

int sr_read_metrics_file_origin(const char *path, sr_metrics *m, sr_metrics_origin *origin, char *err,
                                size_t errlen)
{
    if (origin)
        memset(origin, 0, sizeof *origin);
    cJSON *root = sr_json_load(path, err, errlen);
    if (!root)
        return -1;
    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "expected a JSON object");
        cJSON_Delete(root);
        return -1;
    }
    sr_metrics_from_record(root, m);
    if (origin) {
        const cJSON *by = cJSON_GetObjectItemCaseSensitive(root, "written_by");
        origin->ours = cJSON_IsString(by) && sr_str_has_prefix(by->valuestring, PACKAGE_NAME " ");
        const cJSON *sig = cJSON_GetObjectItemCaseSensitive(root, "samples_signature");
        char *end = NULL;
        if (cJSON_IsString(sig) && strlen(sig->valuestring) == 16) {
            origin->samples_signature = strtoull(sig->valuestring, &end, 16);
            origin->has_signature = end && *end == '\0';
        }
    }
    cJSON_Delete(root);
    return 0;
}

int sr_read_metrics_file(const char *path, sr_metrics *m, char *err, size_t errlen)
{
    return sr_read_metrics_file_origin(path, m, NULL, err, errlen);
}

int sr_metrics_file_is_own(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    sr_metrics m = {0};
    sr_metrics_origin origin;
    char err[SR_MSG_MAX];
    int own = sr_read_metrics_file_origin(path, &m, &origin, err, sizeof err) == 0 && origin.ours;
    sr_metrics_free(&m);
    return own;
}

/* "lora_trial_1-000002.safetensors" and "lora_trial_1-000002" name the same
 * checkpoint. */
static char *stem_of(const char *name)
{
    size_t n = strlen(name);
    if (sr_str_has_suffix(name, ".safetensors"))
        n -= strlen(".safetensors");
    return xstrndup(name, n);
}

static sr_metrics *index_slot(sr_metrics_index *idx, const char *name)
{
    char *stem = stem_of(name);
    for (size_t i = 0; i < idx->n; i++) {
        if (strcmp(idx->items[i].stem, stem) == 0) {
            free(stem);
            return &idx->items[i].metrics;
        }
    }
    if (idx->n == idx->cap) {
        idx->cap = idx->cap ? idx->cap * 2 : 8;
        idx->items = xrealloc(idx->items, idx->cap * sizeof *idx->items);
    }
    sr_metrics_entry *e = &idx->items[idx->n++];
    memset(e, 0, sizeof *e);
    e->stem = stem;
    return &e->metrics;
}

static cJSON *load_object(const char *path, char *err, size_t errlen)
{
    cJSON *root = sr_json_load(path, err, errlen);
    if (root && !cJSON_IsObject(root)) {
        snprintf(err, errlen, "expected a JSON object");
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

int sr_read_evaluation_summary(const char *path, sr_metrics_index *idx, char *err, size_t errlen)
{
    cJSON *root = load_object(path, err, errlen);
    if (!root)
        return -1;
    const cJSON *cks = cJSON_GetObjectItemCaseSensitive(root, "checkpoints");
    const cJSON *it;
    int rc = 0;
    if (cJSON_IsArray(cks)) {
        /* [{"name": file, "timestamp", "metrics": {...}}] */
        cJSON_ArrayForEach(it, cks)
        {
            const char *name = sr_json_string(it, "name");
            if (!name)
                name = sr_json_string(it, "checkpoint");
            if (name)
                sr_metrics_from_record(it, index_slot(idx, name));
        }
    } else if (cJSON_IsObject(cks)) {
        /* {stem: {"epoch", "mean_brightness", ...}} */
        cJSON_ArrayForEach(it, cks)
        {
            if (it->string && cJSON_IsObject(it))
                sr_metrics_from_record(it, index_slot(idx, it->string));
        }
    } else if (cks) {
        snprintf(err, errlen, "\"checkpoints\" is neither a list nor an object");
        rc = -1;
    }
    cJSON_Delete(root);
    return rc;
}

int sr_read_evaluation_state(const char *path, sr_metrics_index *idx, char *err, size_t errlen)
{
    cJSON *root = load_object(path, err, errlen);
    if (!root)
        return -1;
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "evaluation_results");
    int rc = 0;
    if (cJSON_IsObject(res)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, res)
        {
            if (it->string && cJSON_IsObject(it))
                sr_metrics_from_record(it, index_slot(idx, it->string));
        }
    } else if (res && !cJSON_IsNull(res)) {
        snprintf(err, errlen, "\"evaluation_results\" is not an object");
        rc = -1;
    }
    cJSON_Delete(root);
    return rc;
}

const sr_metrics *sr_metrics_index_find(const sr_metrics_index *idx, const char *stem)
{
    for (size_t i = 0; i < idx->n; i++)
        if (strcmp(idx->items[i].stem, stem) == 0)
            return &idx->items[i].metrics;
    return NULL;
}

void sr_metrics_index_free(sr_metrics_index *idx)
{
    for (size_t i = 0; i < idx->n; i++) {
        free(idx->items[i].stem);
        sr_metrics_free(&idx->items[i].metrics);
    }
    free(idx->items);
    memset(idx, 0, sizeof *idx);
}

void sr_seed_metric_names(sr_metrics *names)
{
    static const char *const seed[] = {"lpips_diversity", "clip_consistency", "combined_score"};
    for (size_t i = 0; i < sizeof seed / sizeof seed[0]; i++)
        sr_metrics_set(names, seed[i], 0);
}
