/* scan_output.c - renders the sweep model as JSON or as text tables. */
#include "config.h"

#include "scan_output.h"
#include "json.h"
#include "util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static cJSON *number_or_null(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *long_or_null(long v)
{
    return v >= 0 ? cJSON_CreateNumber((double)v) : cJSON_CreateNull();
}

static cJSON *checkpoint_json(const sr_checkpoint *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "file", c->file);
    cJSON_AddStringToObject(o, "path", c->path);
    cJSON_AddItemToObject(o, "epoch", long_or_null(c->epoch));
    cJSON_AddItemToObject(o, "step", long_or_null(c->step));
    cJSON_AddBoolToObject(o, "final", c->final);
    cJSON_AddStringToObject(o, "kind", sr_ckpt_kind_name(c->name.kind));
    cJSON_AddStringToObject(o, "status", sr_ckpt_status_name(c->status));
    if (c->problem)
        cJSON_AddStringToObject(o, "problem", c->problem);
    if (c->pending)
        cJSON_AddStringToObject(o, "pending", c->pending);
    cJSON_AddNumberToObject(o, "size", (double)c->size);
    if (c->format)
        cJSON_AddStringToObject(o, "format", c->format);
    cJSON *m = cJSON_AddObjectToObject(o, "metrics");
    for (size_t i = 0; i < c->metrics.n; i++)
        cJSON_AddItemToObject(m, c->metrics.items[i].name, number_or_null(c->metrics.items[i].value));
    cJSON *samples = cJSON_AddArrayToObject(o, "samples");
    for (size_t i = 0; i < c->n_samples; i++)
        cJSON_AddItemToArray(samples, cJSON_CreateString(c->samples[i]));
    cJSON_AddStringToObject(o, "samples_from", !c->n_samples ? "none" : c->samples_from_training ? "training" : "evaluation");
    return o;
}

/* params.json, completed by what Optuna knows (params.json wins: it is what
 * the training actually used). */
static cJSON *merged_params(const sr_trial *t)
{
    cJSON *p = t->params ? cJSON_Duplicate(t->params, 1) : cJSON_CreateObject();
    if (t->optuna && t->optuna->params) {
        const cJSON *it;
        cJSON_ArrayForEach(it, t->optuna->params)
        {
            if (it->string && !cJSON_GetObjectItemCaseSensitive(p, it->string))
                cJSON_AddItemToObject(p, it->string, cJSON_Duplicate(it, 1));
        }
    }
    return p;
}

static cJSON *string_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* kohya logs the per-epoch loss with the epoch as its step
 * (loss/epoch_average; loss/epoch before v0.9.2). */
static int tag_counts_epochs(const char *tag)
{
    return strcmp(tag, "loss/epoch_average") == 0 || strcmp(tag, "loss/epoch") == 0;
}

static cJSON *tensorboard_json(const sr_trial *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "steps_per_epoch", t->steps_per_epoch > 0 ? cJSON_CreateNumber(t->steps_per_epoch)
                                                                       : cJSON_CreateNull());
    cJSON *series = cJSON_AddObjectToObject(o, "series");
    for (size_t i = 0; i < t->scalars.n; i++) {
        const sr_scalar_series *ss = &t->scalars.items[i];
        cJSON *one = cJSON_AddObjectToObject(series, ss->tag);
        cJSON *steps = cJSON_AddArrayToObject(one, "step");
        cJSON *epochs = cJSON_AddArrayToObject(one, "epoch");
        cJSON *values = cJSON_AddArrayToObject(one, "value");
        int by_epoch = tag_counts_epochs(ss->tag);
        for (size_t k = 0; k < ss->n; k++) {
            cJSON_AddItemToArray(steps, cJSON_CreateNumber((double)ss->steps[k]));
            if (by_epoch)
                cJSON_AddItemToArray(epochs, cJSON_CreateNumber((double)ss->steps[k]));
            else if (t->steps_per_epoch > 0)
                cJSON_AddItemToArray(epochs, cJSON_CreateNumber((double)ss->steps[k] / t->steps_per_epoch));
            else
                cJSON_AddItemToArray(epochs, cJSON_CreateNull());
            cJSON_AddItemToArray(values, number_or_null(ss->values[k]));
        }
    }
    return o;
}

static cJSON *trial_json(const sr_trial *t)
{
    const sr_optuna_trial *ot = t->optuna;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", t->name);
    cJSON_AddStringToObject(o, "path", t->path);
    cJSON_AddStringToObject(o, "state", ot ? ot->state : "UNKNOWN");
    cJSON_AddItemToObject(o, "optuna_number", ot ? cJSON_CreateNumber(ot->number) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "value", ot && ot->has_value ? number_or_null(ot->value) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "params", merged_params(t));
    cJSON_AddItemToObject(o, "user_attrs",
                          ot && ot->user_attrs ? cJSON_Duplicate(ot->user_attrs, 1) : cJSON_CreateObject());
    cJSON *iv = cJSON_AddArrayToObject(o, "intermediate_values");
    for (size_t i = 0; ot && i < ot->n_intermediate; i++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "step", (double)ot->intermediate[i].step);
        cJSON_AddItemToObject(p, "value", number_or_null(ot->intermediate[i].value));
        cJSON_AddItemToArray(iv, p);
    }
    cJSON_AddItemToObject(o, "datetime_start", string_or_null(ot ? ot->datetime_start : NULL));
    cJSON_AddItemToObject(o, "datetime_complete", string_or_null(ot ? ot->datetime_complete : NULL));
    cJSON_AddItemToObject(o, "tensorboard", tensorboard_json(t));
    cJSON *base = cJSON_AddArrayToObject(o, "baseline_samples");
    for (size_t i = 0; i < t->n_baseline_samples; i++)
        cJSON_AddItemToArray(base, cJSON_CreateString(t->baseline_samples[i]));
    cJSON *cks = cJSON_AddArrayToObject(o, "checkpoints");
    for (size_t i = 0; i < t->n_ckpts; i++)
        cJSON_AddItemToArray(cks, checkpoint_json(&t->ckpts[i]));
    return o;
}

cJSON *sr_scan_to_json(const sr_sweep *s)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *tool = cJSON_AddObjectToObject(root, "tool");
    cJSON_AddStringToObject(tool, "name", PACKAGE_NAME);
    cJSON_AddStringToObject(tool, "version", PACKAGE_VERSION);
    cJSON *sweep = cJSON_AddObjectToObject(root, "sweep");
    cJSON_AddStringToObject(sweep, "path", s->path);
    if (s->study) {
        cJSON *st = cJSON_AddObjectToObject(sweep, "study");
        cJSON_AddStringToObject(st, "name", s->study->name);
        cJSON_AddStringToObject(st, "direction", s->study->direction);
        cJSON_AddStringToObject(st, "source", s->study->source);
        cJSON_AddNumberToObject(st, "trials", (double)s->study->n_trials);
    } else {
        cJSON_AddNullToObject(sweep, "study");
    }
    cJSON *trials = cJSON_AddArrayToObject(root, "trials");
    for (size_t i = 0; i < s->n_trials; i++)
        cJSON_AddItemToArray(trials, trial_json(&s->trials[i]));
    cJSON *problems = cJSON_AddArrayToObject(root, "problems");
    for (size_t i = 0; i < s->problems.n; i++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "path", s->problems.items[i].path);
        cJSON_AddStringToObject(p, "problem", s->problems.items[i].problem);
        cJSON_AddItemToArray(problems, p);
    }
    sr_json_repair_utf8(root); /* names may be any bytes; the document is UTF-8 */
    return root;
}

void sr_format_size(uint64_t bytes, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%llu B", (unsigned long long)bytes);
    else
        snprintf(buf, len, "%.1f %s", v, units[u]);
}

/* "learning_rate=0.0001 network_dim=16 ..." on one line. */
static void print_params(const cJSON *params, FILE *out)
{
    const cJSON *it;
    int first = 1;
    cJSON_ArrayForEach(it, params)
    {
        if (!it->string)
            continue;
        fputs(first ? "  " : " ", out);
        first = 0;
        char *key = sr_terminal_text(it->string, SIZE_MAX);
        if (cJSON_IsNumber(it)) {
            fprintf(out, "%s=%.6g", key, it->valuedouble);
        } else if (cJSON_IsString(it)) {
            char *value = sr_terminal_text(it->valuestring, SIZE_MAX);
            fprintf(out, "%s=%s", key, value);
            free(value);
        } else if (cJSON_IsBool(it)) {
            fprintf(out, "%s=%s", key, cJSON_IsTrue(it) ? "true" : "false");
        } else {
            fprintf(out, "%s=...", key);
        }
        free(key);
    }
    fputc('\n', out);
}

static void print_trial(const sr_trial *t, FILE *out)
{
    size_t ok = 0;
    for (size_t i = 0; i < t->n_ckpts; i++)
        ok += t->ckpts[i].status == SR_CKPT_OK;
    char *name = sr_terminal_text(t->name, SIZE_MAX); /* a folder may be called anything */
    fprintf(out, "%s  %zu checkpoint%s (%zu ok)", name, t->n_ckpts, t->n_ckpts == 1 ? "" : "s", ok);
    free(name);
    if (t->optuna) {
        fprintf(out, "  optuna trial %d, %s", t->optuna->number, t->optuna->state);
        if (t->optuna->has_value)
            fprintf(out, ", value %.6g", t->optuna->value);
    }
    fputc('\n', out);
    if (t->params)
        print_params(t->params, out);
    if (t->n_ckpts == 0) {
        fputc('\n', out);
        return;
    }
    fprintf(out, "  %5s %8s  %-5s  %-10s  %9s  %7s  %7s  %s\n", "EPOCH", "STEP", "KIND", "STATUS", "SIZE",
            "SAMPLES", "METRICS", "FILE");
    for (size_t i = 0; i < t->n_ckpts; i++) {
        const sr_checkpoint *c = &t->ckpts[i];
        char epoch[24], step[24], size[24];
        if (c->epoch >= 0)
            snprintf(epoch, sizeof epoch, "%ld", c->epoch);
        else
            snprintf(epoch, sizeof epoch, "-");
        if (c->step >= 0)
            snprintf(step, sizeof step, "%ld", c->step);
        else
            snprintf(step, sizeof step, "-");
        sr_format_size(c->size, size, sizeof size);
        char *file = sr_terminal_text(c->file, SIZE_MAX);
        fprintf(out, "  %5s %8s  %-5s  %-10s  %9s  %7zu  %7zu  %s\n", epoch, step, sr_ckpt_kind_name(c->name.kind),
                sr_ckpt_status_name(c->status), size, c->n_samples, c->metrics.n, file);
        free(file);
    }
    fputc('\n', out);
}

void sr_scan_print_text(const sr_sweep *s, FILE *out)
{
    size_t n_ckpts = sr_sweep_count_checkpoints(s);
    char *where = sr_terminal_text(s->path, SIZE_MAX);
    fprintf(out, "sweep %s: %zu trial%s, %zu checkpoint%s\n", where, s->n_trials, s->n_trials == 1 ? "" : "s",
            n_ckpts, n_ckpts == 1 ? "" : "s");
    free(where);
    if (s->study) {
        char *name = sr_terminal_text(s->study->name, SIZE_MAX), *source = sr_terminal_text(s->study->source, SIZE_MAX);
        fprintf(out, "study %s (%s), %zu Optuna trials, from %s\n", name, s->study->direction, s->study->n_trials,
                source);
        free(source);
        free(name);
    }
    fputc('\n', out);
    for (size_t i = 0; i < s->n_trials; i++)
        print_trial(&s->trials[i], out);
    if (s->problems.n) {
        fprintf(out, "problems (%zu):\n", s->problems.n);
        for (size_t i = 0; i < s->problems.n; i++)
        {
            char *path = sr_terminal_text(s->problems.items[i].path, SIZE_MAX);
            char *why = sr_terminal_text(s->problems.items[i].problem, SIZE_MAX);
            fprintf(out, "  %s: %s\n", path, why);
            free(why);
            free(path);
        }
    } else {
        fprintf(out, "no problems\n");
    }
}
