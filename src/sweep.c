/* sweep.c - the sweep model's small helpers. */
#include "config.h"

#include "sweep.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static size_t metric_lower_bound(const sr_metrics *m, const char *name)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(m->items[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void sr_metrics_set(sr_metrics *m, const char *name, double value)
{
    size_t i = metric_lower_bound(m, name);
    if (i < m->n && strcmp(m->items[i].name, name) == 0) {
        m->items[i].value = value;
        return;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->items = xrealloc(m->items, m->cap * sizeof *m->items);
    }
    memmove(m->items + i + 1, m->items + i, (m->n - i) * sizeof *m->items);
    m->items[i].name = xstrdup(name);
    m->items[i].value = value;
    m->n++;
}

int sr_metrics_get(const sr_metrics *m, const char *name, double *value)
{
    size_t i = metric_lower_bound(m, name);
    if (i < m->n && strcmp(m->items[i].name, name) == 0) {
        *value = m->items[i].value;
        return 1;
    }
    return 0;
}

void sr_metrics_free(sr_metrics *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->items[i].name);
    free(m->items);
    memset(m, 0, sizeof *m);
}

const char *sr_ckpt_status_name(sr_ckpt_status s)
{
    switch (s) {
    case SR_CKPT_OK:
        return "ok";
    case SR_CKPT_INCOMPLETE:
        return "incomplete";
    case SR_CKPT_INVALID:
        return "invalid";
    case SR_CKPT_PENDING:
        return "pending";
    }
    return "?";
}

static void checkpoint_free(sr_checkpoint *c)
{
    free(c->file);
    free(c->path);
    free(c->rel_path);
    sr_ckpt_name_free(&c->name);
    free(c->problem);
    free(c->pending);
    free(c->meta.output_name);
    free(c->meta.base_model);
    free(c->meta.architecture);
    free(c->meta.sd_model_name);
    free(c->meta.seed);
    sr_metrics_free(&c->metrics);
    free(c->samples_dir);
    for (size_t i = 0; i < c->n_samples; i++)
        free(c->samples[i]);
    free(c->samples);
}

void sr_sweep_free(sr_sweep *s)
{
    for (size_t i = 0; i < s->n_trials; i++) {
        sr_trial *t = &s->trials[i];
        for (size_t j = 0; j < t->n_ckpts; j++)
            checkpoint_free(&t->ckpts[j]);
        free(t->ckpts);
        for (size_t j = 0; j < t->n_baseline_samples; j++)
            free(t->baseline_samples[j]);
        free(t->baseline_samples);
        free(t->name);
        free(t->path);
        cJSON_Delete(t->params);
        sr_scalars_free(&t->scalars);
    }
    free(s->trials);
    if (s->study) {
        sr_study_free(s->study);
        free(s->study);
    }
    free(s->path);
    sr_problems_free(&s->problems);
    memset(s, 0, sizeof *s);
}

size_t sr_sweep_count_checkpoints(const sr_sweep *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_trials; i++)
        n += s->trials[i].n_ckpts;
    return n;
}
