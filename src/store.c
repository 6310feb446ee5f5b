/* store.c - sweepreport's measurement records inside the sweep. */
#include "config.h"

#include "store.h"
#include "atomic_file.h"
#include "json.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

uint64_t sr_samples_signature(const char *trial_path, char *const *samples, size_t n)
{
    sr_buf b;
    sr_buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        char *p = sr_path_join(trial_path, samples[i]);
        struct stat st;
        if (stat(p, &st) != 0)
            sr_buf_printf(&b, "%s\nmissing\n", samples[i]);
        else
            sr_buf_printf(&b, "%s\n%lld\n%lld.%09ld\n", samples[i], (long long)st.st_size,
                          (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
        free(p);
    }
    uint64_t h = sr_hash64(b.s ? b.s : "", b.len);
    sr_buf_free(&b);
    return h;
}

uint64_t sr_ckpt_identity(const char *ckpt_rel, uint64_t size, int64_t mtime_ns)
{
    char *text = xasprintf("%s\n%llu\n%lld", ckpt_rel, (unsigned long long)size, (long long)mtime_ns);
    uint64_t h = sr_hash64(text, strlen(text));
    free(text);
    return h ? h : 1;
}

char *sr_store_record_path(const char *sweep_path, const char *ckpt_rel)
{
    return xasprintf("%s/" SR_STORE_DIR "/measurements/%016" PRIx64 ".json", sweep_path,
                     sr_hash64(ckpt_rel, strlen(ckpt_rel)));
}

static char *hex64(uint64_t v)
{
    return xasprintf("%016" PRIx64, v);
}

static int parse_hex64(const char *s, uint64_t *out)
{
    if (!s)
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 16);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

static void metrics_to_json(cJSON *parent, const char *key, const sr_metrics *m)
{
    cJSON *o = cJSON_AddObjectToObject(parent, key);
    for (size_t i = 0; i < m->n; i++) {
        double v = m->items[i].value;
        /* non-finite values are kept as strings so that nothing is lost */
        if (isfinite(v))
            cJSON_AddNumberToObject(o, m->items[i].name, v);
        else
            cJSON_AddStringToObject(o, m->items[i].name, isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
    }
}

static void metrics_from_json(const cJSON *o, sr_metrics *m)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, o)
    {
        if (!it->string)
            continue;
        if (cJSON_IsNumber(it))
            sr_metrics_set(m, it->string, it->valuedouble);
        else if (cJSON_IsString(it))
            sr_metrics_set(m, it->string, strcmp(it->valuestring, "Infinity") == 0    ? INFINITY
                                          : strcmp(it->valuestring, "-Infinity") == 0 ? -INFINITY
                                                                                     : NAN);
    }
}

int sr_store_load(const char *sweep_path, const char *ckpt_rel, const sr_checkpoint *c, const char *trial_path,
                  sr_measurement *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    char *path = sr_store_record_path(sweep_path, ckpt_rel);
    struct stat st;
    if (stat(path, &st) != 0) {
        free(path);
        return 0;
    }
    cJSON *root = sr_json_load(path, err, errlen);
    free(path);
    if (!root)
        return -1;
    int rc = 1;
    const char *rel = sr_json_string(root, "checkpoint");
    uint64_t hh = 0, sig = 0;
    double size = sr_json_number(root, "size");
    const char *mtime = sr_json_string(root, "mtime_ns");
    if (!rel || strcmp(rel, ckpt_rel) != 0 || parse_hex64(sr_json_string(root, "header_hash"), &hh) != 0 ||
        !isfinite(size) || !mtime) {
        snprintf(err, errlen, "not a measurement record of %s", ckpt_rel);
        cJSON_Delete(root);
        return -1;
    }
    m->ckpt_rel = xstrdup(rel);
    m->size = (uint64_t)size;
    m->mtime_ns = strtoll(mtime, NULL, 10);
    m->header_hash = hh;
    m->device = sr_json_string(root, "device") ? xstrdup(sr_json_string(root, "device")) : NULL;
    m->measured_at = sr_json_string(root, "measured_at") ? xstrdup(sr_json_string(root, "measured_at")) : NULL;
    int same_file = m->size == c->size && m->mtime_ns == c->mtime_ns && m->header_hash == c->header_hash;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(root, "weights");
    if (same_file && cJSON_IsObject(w)) {
        m->has_weights = 1;
        metrics_from_json(w, &m->weights);
        m->has_drift_from = parse_hex64(sr_json_string(root, "drift_from"), &m->drift_from) == 0;
    }
    const cJSON *im = cJSON_GetObjectItemCaseSensitive(root, "images");
    if (same_file && cJSON_IsObject(im) && parse_hex64(sr_json_string(root, "samples_signature"), &sig) == 0 &&
        sig == sr_samples_signature(trial_path, c->samples, c->n_samples)) {
        m->has_images = 1;
        m->samples_signature = sig;
        metrics_from_json(im, &m->images);
    }
    cJSON_Delete(root);
    return rc;
}

int sr_store_save(const char *sweep_path, const sr_measurement *m, char *err, size_t errlen)
{
    char *path = sr_store_record_path(sweep_path, m->ckpt_rel);
    char *dir = xstrndup(path, (size_t)(sr_path_base(path) - path - 1));
    if (sr_mkdir_p(dir, 0777) != 0) {
        snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
        free(dir);
        free(path);
        return -1;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "checkpoint", m->ckpt_rel);
    cJSON_AddNumberToObject(root, "size", (double)m->size);
    char mt[32];
    snprintf(mt, sizeof mt, "%lld", (long long)m->mtime_ns);
    cJSON_AddStringToObject(root, "mtime_ns", mt);
    char *hh = hex64(m->header_hash);
    cJSON_AddStringToObject(root, "header_hash", hh);
    free(hh);
    if (m->device)
        cJSON_AddStringToObject(root, "device", m->device);
    if (m->measured_at)
        cJSON_AddStringToObject(root, "measured_at", m->measured_at);
    if (m->has_weights) {
        metrics_to_json(root, "weights", &m->weights);
        if (m->has_drift_from) {
            char *df = hex64(m->drift_from);
            cJSON_AddStringToObject(root, "drift_from", df);
            free(df);
        }
    }
    if (m->has_images) {
        char *sig = hex64(m->samples_signature);
        cJSON_AddStringToObject(root, "samples_signature", sig);
        free(sig);
        metrics_to_json(root, "images", &m->images);
    }
    char *text = sr_json_print(root);
    cJSON_Delete(root);
    int rc = sr_write_file_atomic(path, text, strlen(text), SR_ATOMIC_REPLACE);
    if (rc != 0)
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
    free(text);
    free(dir);
    free(path);
    return rc;
}

void sr_measurement_free(sr_measurement *m)
{
    free(m->ckpt_rel);
    sr_metrics_free(&m->weights);
    sr_metrics_free(&m->images);
    free(m->device);
    free(m->measured_at);
    memset(m, 0, sizeof *m);
}

int sr_store_weights_unmeasurable(const sr_metrics *weights)
{
    double measured, unmeasured;
    return sr_metrics_get(weights, "weight_modules", &measured) &&
           sr_metrics_get(weights, "weight_modules_unmeasured", &unmeasured) && measured == 0 && unmeasured > 0;
}
