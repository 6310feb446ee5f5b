/* fingerprint.c - the fingerprint of a report's inputs. */
#include "config.h"

#include "fingerprint.h"
#include "util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

void sr_fp_init(sr_fp *f)
{
    f->h = FNV_OFFSET;
}

void sr_fp_bytes(sr_fp *f, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = f->h;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    f->h = h;
}

void sr_fp_str(sr_fp *f, const char *s)
{
    if (!s)
        s = "";
    sr_fp_bytes(f, s, strlen(s) + 1);
}

void sr_fp_u64(sr_fp *f, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    sr_fp_bytes(f, b, 8);
}

static void fp_double(sr_fp *f, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    sr_fp_u64(f, u);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void sr_fp_folder(sr_fp *f, const char *dir)
{
    size_t n = 0;
    char **names = dir ? sr_dir_names(dir, cmp_str, &n) : NULL;
    if (!names) {
        sr_fp_str(f, "no folder");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (names[i][0] == '.')
            continue;
        char *p = sr_path_join(dir, names[i]);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            char *text = NULL;
            size_t len = 0;
            char why[SR_MSG_MAX];
            sr_fp_str(f, names[i]);
            if (sr_read_file(p, 64u << 20, &text, &len, why, sizeof why) == 0) {
                sr_fp_u64(f, len);
                sr_fp_bytes(f, text, len);
                free(text);
            } else {
                sr_fp_str(f, why);
            }
        }
        free(p);
    }
    sr_names_free(names, n);
}

static void fp_file_stat(sr_fp *f, const char *path)
{
    struct stat st;
    sr_fp_str(f, path);
    if (stat(path, &st) != 0) {
        sr_fp_str(f, "missing");
        return;
    }
    sr_fp_u64(f, (uint64_t)st.st_size);
    sr_fp_u64(f, (uint64_t)st.st_ino);
    sr_fp_u64(f, (uint64_t)st.st_mtim.tv_sec);
    sr_fp_u64(f, (uint64_t)st.st_mtim.tv_nsec);
}

static void fp_study(sr_fp *f, const sr_study *st)
{
    if (!st) {
        sr_fp_str(f, "no study");
        return;
    }
    sr_fp_str(f, st->name);
    sr_fp_str(f, st->direction);
    sr_fp_str(f, st->source);
    for (size_t i = 0; i < st->n_trials; i++) {
        const sr_optuna_trial *t = &st->trials[i];
        sr_fp_u64(f, (uint64_t)(int64_t)t->number);
        sr_fp_str(f, t->state);
        sr_fp_u64(f, (uint64_t)t->has_value);
        fp_double(f, t->value);
        sr_fp_str(f, t->datetime_start);
        sr_fp_str(f, t->datetime_complete);
        char *p = t->params ? cJSON_PrintUnformatted(t->params) : NULL;
        sr_fp_str(f, p);
        cJSON_free(p);
        sr_fp_u64(f, t->n_intermediate);
        for (size_t k = 0; k < t->n_intermediate; k++) {
            sr_fp_u64(f, (uint64_t)t->intermediate[k].step);
            fp_double(f, t->intermediate[k].value);
        }
    }
}

static int has_pending(const sr_sweep *s)
{
    for (size_t i = 0; i < s->n_trials; i++)
        for (size_t j = 0; j < s->trials[i].n_ckpts; j++)
            if (s->trials[i].ckpts[j].status == SR_CKPT_PENDING)
                return 1;
    return 0;
}

/* A copy of the summary document without the details of pending
 * checkpoints that change while they (or their samples) are written. */
static cJSON *without_pending_details(const cJSON *summary)
{
    cJSON *copy = cJSON_Duplicate(summary, 1);
    cJSON *t, *c, *p;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(copy, "trials"))
    {
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(t, "checkpoints"))
        {
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(c, "status");
            if (cJSON_IsString(st) && strcmp(st->valuestring, "pending") == 0) {
                /* what grows while it and its samples are written */
                static const char *const moving[] = {"size", "pending", "samples", "samples_from", "metrics"};
                for (size_t k = 0; k < sizeof moving / sizeof moving[0]; k++)
                    cJSON_DeleteItemFromObjectCaseSensitive(c, moving[k]);
            }
        }
    }
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(copy, "pending"))
        cJSON_DeleteItemFromObjectCaseSensitive(p, "reason");
    return copy;
}

void sr_report_fingerprint(const sr_sweep *s, const cJSON *summary, const char *templates_dir, const char *settings,
                           char *buf, size_t len)
{
    sr_fp f;
    sr_fp_init(&f);
    sr_fp_str(&f, PACKAGE_NAME " " PACKAGE_VERSION);
    sr_fp_str(&f, settings);
    /* a pending checkpoint is neither measured nor scored: its size and the
     * wording of why it is pending (bytes written so far) change while it is
     * written, and that alone is no reason to render again */
    cJSON *stable = has_pending(s) ? without_pending_details(summary) : NULL;
    char *text = cJSON_PrintUnformatted(stable ? stable : summary);
    sr_fp_str(&f, text);
    cJSON_free(text);
    cJSON_Delete(stable);
    for (size_t i = 0; i < s->n_trials; i++) {
        const sr_trial *t = &s->trials[i];
        for (size_t k = 0; k < t->n_baseline_samples; k++) {
            char *p = sr_path_join(t->path, t->baseline_samples[k]);
            fp_file_stat(&f, p);
            free(p);
        }
        for (size_t j = 0; j < t->n_ckpts; j++) {
            const sr_checkpoint *c = &t->ckpts[j];
            if (c->status == SR_CKPT_PENDING)
                continue; /* its samples may still be being written too */
            for (size_t k = 0; k < c->n_samples; k++) {
                char *p = sr_path_join(t->path, c->samples[k]);
                fp_file_stat(&f, p);
                free(p);
            }
        }
    }
    fp_study(&f, s->study);
    sr_fp_str(&f, "templates");
    sr_fp_folder(&f, templates_dir);
    snprintf(buf, len, "%016llx", (unsigned long long)f.h);
}
