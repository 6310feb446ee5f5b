/* optuna_join.c - joining trial folders to Optuna trials by parameters. */
#include "config.h"

#include "optuna_join.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Integers below this are exact in float32 too, so no rounding excuses a
 * difference between them. */
#define EXACT_INT_LIMIT 16777216.0
#define REL_TOL 1e-6

static int numbers_agree(double x, double y)
{
    if (isnan(x) || isnan(y))
        return isnan(x) && isnan(y);
    if (x == y)
        return 1;
    if (isinf(x) || isinf(y))
        return 0;
    if (x == floor(x) && y == floor(y) && fabs(x) < EXACT_INT_LIMIT && fabs(y) < EXACT_INT_LIMIT)
        return 0;
    return fabs(x - y) <= REL_TOL * fmax(fabs(x), fabs(y));
}

/* A string that is a number in full (str() of a float), else 0. */
static int string_number(const char *s, double *v)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return 0;
    char *end = NULL;
    *v = strtod(s, &end);
    return end != s && *end == '\0';
}

int sr_join_values_agree(const cJSON *a, const cJSON *b)
{
    if (!a || !b)
        return 0;
    double x, y;
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
        return numbers_agree(a->valuedouble, b->valuedouble);
    if (cJSON_IsNumber(a) && cJSON_IsString(b) && string_number(b->valuestring, &y))
        return numbers_agree(a->valuedouble, y);
    if (cJSON_IsString(a) && cJSON_IsNumber(b) && string_number(a->valuestring, &x))
        return numbers_agree(x, b->valuedouble);
    if (cJSON_IsString(a) && cJSON_IsString(b))
        return strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsBool(a) && cJSON_IsBool(b))
        return cJSON_IsTrue(a) == cJSON_IsTrue(b);
    if (cJSON_IsNull(a) || cJSON_IsNull(b))
        return cJSON_IsNull(a) && cJSON_IsNull(b);
    return cJSON_Compare(a, b, 1);
}

/* A parameter drawn from a continuous range: a float distribution without
 * step, or (no distribution known) a number that is not integral. */
static int is_continuous(const sr_optuna_trial *t, const char *key, const cJSON *value)
{
    const cJSON *dist = cJSON_GetObjectItemCaseSensitive(t->distributions, key);
    if (dist) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(dist, "name"));
        if (!name)
            return 0;
        if (strcmp(name, "UniformDistribution") == 0 || strcmp(name, "LogUniformDistribution") == 0)
            return 1;
        if (strcmp(name, "FloatDistribution") != 0)
            return 0;
        const cJSON *step = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(dist, "attributes"),
                                                            "step");
        return !step || cJSON_IsNull(step);
    }
    return cJSON_IsNumber(value) && isfinite(value->valuedouble) && value->valuedouble != floor(value->valuedouble);
}

typedef struct {
    size_t folder;
    size_t trial;
    int strict;                   /* every shared key agrees */
    int agree;                    /* keys that agree */
    int counter_match;            /* number == folder counter - 1 */
} candidate;

static int cmp_candidate(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    if (x->strict != y->strict)
        return y->strict - x->strict;
    if (x->agree != y->agree)
        return y->agree - x->agree;
    if (x->counter_match != y->counter_match)
        return y->counter_match - x->counter_match;
    if (x->folder != y->folder)
        return x->folder < y->folder ? -1 : 1;
    return (x->trial > y->trial) - (x->trial < y->trial);
}

/* The number in "trial_0007" (7), or -1. */
static long folder_counter(const char *name)
{
    const char *u = strrchr(name, '_');
    const char *p = u ? u + 1 : name;
    if (!isdigit((unsigned char)*p))
        return -1;
    char *end = NULL;
    long n = strtol(p, &end, 10);
    return *end == '\0' && n >= 0 && n < 1000000000L ? n : -1;
}

/* Compares one folder with one trial; 1 and fills c when it is a candidate. */
static int compare(const cJSON *fp, const sr_optuna_trial *t, candidate *c)
{
    int shared = 0, agree = 0, cont_shared = 0, cont_agree = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, fp)
    {
        if (!e->string)
            continue;
        const cJSON *tv = cJSON_GetObjectItemCaseSensitive(t->params, e->string);
        if (!tv)
            continue;
        shared++;
        int ok = sr_join_values_agree(e, tv);
        agree += ok;
        if (is_continuous(t, e->string, tv)) {
            cont_shared++;
            cont_agree += ok;
        }
    }
    if (shared == 0)
        return 0;
    c->strict = agree == shared;
    c->agree = agree;
    return c->strict || (cont_shared > 0 && cont_agree == cont_shared);
}

/* The keys on which a folder and a trial disagree, for the report. */
static char *differences(const cJSON *fp, const sr_optuna_trial *t)
{
    sr_buf b;
    sr_buf_init(&b);
    const cJSON *e;
    cJSON_ArrayForEach(e, fp)
    {
        const cJSON *tv = e->string ? cJSON_GetObjectItemCaseSensitive(t->params, e->string) : NULL;
        if (!tv || sr_join_values_agree(e, tv))
            continue;
        char *fs = cJSON_PrintUnformatted(e);
        char *ts = cJSON_PrintUnformatted(tv);
        sr_buf_printf(&b, "%s%s (%s here, %s in Optuna)", b.len ? ", " : "", e->string, fs ? fs : "?",
                      ts ? ts : "?");
        free(fs);
        free(ts);
    }
    return sr_buf_steal(&b);
}

void sr_study_join(const sr_study *s, const sr_join_folder *folders, size_t n_folders, sr_join *out,
                   sr_problems *problems, const char *sweep_path)
{
    const char *top = sweep_path ? sweep_path : ".";
    size_t nt = s->n_trials;
    out->trial_of_folder = xmalloc((n_folders ? n_folders : 1) * sizeof *out->trial_of_folder);
    out->folder_of_trial = xmalloc((nt ? nt : 1) * sizeof *out->folder_of_trial);
    for (size_t f = 0; f < n_folders; f++)
        out->trial_of_folder[f] = -1;
    for (size_t t = 0; t < nt; t++)
        out->folder_of_trial[t] = -1;

    long *counter = xmalloc((n_folders ? n_folders : 1) * sizeof *counter);
    int *best = xmalloc((n_folders ? n_folders : 1) * sizeof *best); /* best candidate trial, or -1 */
    candidate *cands = NULL;
    size_t nc = 0, cap = 0;
    for (size_t f = 0; f < n_folders; f++) {
        counter[f] = folder_counter(folders[f].name);
        best[f] = -1;
        const cJSON *fp = folders[f].params;
        if (!cJSON_IsObject(fp))
            continue;
        for (size_t t = 0; t < nt; t++) {
            candidate c = {f, t, 0, 0, 0};
            if (!compare(fp, &s->trials[t], &c))
                continue;
            c.counter_match = counter[f] >= 1 && s->trials[t].number == counter[f] - 1;
            if (nc == cap) {
                cap = cap ? cap * 2 : 64;
                cands = xrealloc(cands, cap * sizeof *cands);
            }
            cands[nc++] = c;
        }
    }
    if (nc > 1)
        qsort(cands, nc, sizeof *cands, cmp_candidate);
    for (size_t i = 0; i < nc; i++) {
        const candidate *c = &cands[i];
        if (best[c->folder] < 0)
            best[c->folder] = (int)c->trial;
        if (out->trial_of_folder[c->folder] >= 0 || out->folder_of_trial[c->trial] >= 0)
            continue;
        out->trial_of_folder[c->folder] = (int)c->trial;
        out->folder_of_trial[c->trial] = (int)c->folder;
        if (!c->strict) {
            char *path = sr_path_join(top, folders[c->folder].name);
            char *diff = differences(folders[c->folder].params, &s->trials[c->trial]);
            sr_problems_add(problems, path, "params.json joined to Optuna trial %d by its float parameters, "
                            "but differs in %s", s->trials[c->trial].number, diff);
            free(diff);
            free(path);
        }
    }

    /* Folders without params.json: the counter, where that trial is free. */
    for (size_t f = 0; f < n_folders; f++) {
        if (cJSON_IsObject(folders[f].params) || counter[f] < 1)
            continue;
        const sr_optuna_trial *t = sr_study_find_trial(s, (int)(counter[f] - 1));
        if (t && out->folder_of_trial[t - s->trials] < 0) {
            out->trial_of_folder[f] = (int)(t - s->trials);
            out->folder_of_trial[t - s->trials] = (int)f;
        }
    }

    for (size_t f = 0; f < n_folders; f++) {
        if (out->trial_of_folder[f] >= 0)
            continue;
        char *path = sr_path_join(top, folders[f].name);
        if (best[f] >= 0) {
            int other = out->folder_of_trial[best[f]];
            sr_problems_add(problems, path, "same parameters as Optuna trial %d, which is joined to %s/; "
                            "this folder has no trial", s->trials[best[f]].number, folders[other].name);
        } else if (cJSON_IsObject(folders[f].params)) {
            sr_problems_add(problems, path, "no Optuna trial has these parameters");
        } else if (counter[f] < 1) {
            sr_problems_add(problems, path, "no params.json and no counter in the folder name: no Optuna trial");
        } else {
            const sr_optuna_trial *t = sr_study_find_trial(s, (int)(counter[f] - 1));
            if (t)
                sr_problems_add(problems, path, "no params.json; Optuna trial %d (folder counter - 1) is joined "
                                "to %s/", t->number, folders[out->folder_of_trial[t - s->trials]].name);
            else
                sr_problems_add(problems, path, "no params.json and no Optuna trial %ld (folder counter - 1)",
                                counter[f] - 1);
        }
        free(path);
    }

    for (size_t t = 0; t < nt; t++) {
        const sr_optuna_trial *tr = &s->trials[t];
        if (out->folder_of_trial[t] >= 0 || strcmp(tr->state, "WAITING") == 0)
            continue;
        /* The folder this trial had on a first run, now a later trial's? */
        int holder = -1;
        char expect[32];
        snprintf(expect, sizeof expect, "trial_%04d", tr->number + 1);
        for (size_t f = 0; f < n_folders; f++)
            if (strcmp(folders[f].name, expect) == 0 && out->trial_of_folder[f] >= 0 &&
                s->trials[out->trial_of_folder[f]].number > tr->number)
                holder = out->trial_of_folder[f];
        if (holder >= 0)
            sr_problems_add(problems, top, "Optuna trial %d has no folder (%s/ holds Optuna trial %d: "
                            "a resumed study restarts the folder counter and overwrites earlier folders)",
                            tr->number, expect, s->trials[holder].number);
        else if (strcmp(tr->state, "RUNNING") == 0)
            sr_problems_add(problems, top, "Optuna trial %d (RUNNING) has no folder yet", tr->number);
        else
            sr_problems_add(problems, top, "Optuna trial %d (%s) has no folder", tr->number, tr->state);
    }
    free(cands);
    free(best);
    free(counter);
}

void sr_join_free(sr_join *j)
{
    if (!j)
        return;
    free(j->trial_of_folder);
    free(j->folder_of_trial);
    j->trial_of_folder = NULL;
    j->folder_of_trial = NULL;
}
