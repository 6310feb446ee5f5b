/* summary.c - summary.json: the scan document with the analysis beside it. */
#include "config.h"

#include "analysis.h"
#include "json.h"
#include "scan_output.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static cJSON *number_or_null(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *ckpt_ref_json(const sr_sweep *s, sr_ckpt_ref r, double score)
{
    const sr_trial *t = &s->trials[r.trial];
    const sr_checkpoint *c = &t->ckpts[r.ckpt];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "trial", t->name);
    cJSON_AddStringToObject(o, "checkpoint", c->file);
    cJSON_AddStringToObject(o, "path", c->path);
    cJSON_AddItemToObject(o, "epoch", c->epoch >= 0 ? cJSON_CreateNumber((double)c->epoch) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "score", number_or_null(score));
    return o;
}

static cJSON *importance_json(const sr_param_analysis *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "param", p->name);
    cJSON_AddItemToObject(o, "spearman", number_or_null(p->spearman));
    cJSON_AddItemToObject(o, "ped_anova", number_or_null(p->importance));
    cJSON_AddBoolToObject(o, "log_scale", p->log_scale);
    cJSON_AddBoolToObject(o, "categorical", p->categorical);
    cJSON_AddBoolToObject(o, "constant", p->constant);
    if (!p->n_values) {
        cJSON_AddNullToObject(o, "values"); /* not analysed per value */
    } else {
        cJSON *vals = cJSON_AddArrayToObject(o, "values");
        for (size_t i = 0; i < p->n_values; i++) {
            cJSON *v = cJSON_CreateObject();
            cJSON_AddItemToObject(v, "value", p->value_items && p->value_items[i]
                                                  ? cJSON_Duplicate(p->value_items[i], 1)
                                                  : cJSON_CreateString(p->values[i]));
            cJSON_AddNumberToObject(v, "count", (double)p->count[i]);
            cJSON_AddItemToObject(v, "mean", number_or_null(p->mean[i]));
            cJSON_AddItemToObject(v, "median", number_or_null(p->median[i]));
            cJSON_AddItemToObject(v, "best", number_or_null(p->best[i]));
            cJSON_AddItemToArray(vals, v);
        }
    }
    return o;
}

cJSON *sr_summary_json(const sr_sweep *s, const sr_analysis *a, const char *generated_at)
{
    cJSON *root = sr_scan_to_json(s);
    cJSON *trials = cJSON_GetObjectItemCaseSensitive(root, "trials");
    size_t i = 0;
    cJSON *tj;
    cJSON_ArrayForEach(tj, trials)
    {
        if (i >= s->n_trials || i >= a->n_trials)
            break;
        const sr_trial *t = &s->trials[i];
        const sr_trial_analysis *ta = &a->trials[i];
        cJSON *cks = cJSON_GetObjectItemCaseSensitive(tj, "checkpoints");
        size_t j = 0;
        cJSON *cj;
        cJSON_ArrayForEach(cj, cks)
        {
            if (j >= t->n_ckpts)
                break;
            cJSON_AddItemToObject(cj, "score", number_or_null(ta->ckpts[j].score));
            j++;
        }
        if (ta->best >= 0)
            cJSON_AddStringToObject(tj, "best_checkpoint", t->ckpts[ta->best].file);
        else
            cJSON_AddNullToObject(tj, "best_checkpoint");
        if (ta->overfit_known)
            cJSON_AddBoolToObject(tj, "overfit", ta->overfit);
        else
            cJSON_AddNullToObject(tj, "overfit");
        i++;
    }

    cJSON *score = cJSON_AddObjectToObject(root, "score");
    cJSON_AddStringToObject(score, "expression", a->expression ? a->expression : "pixar_score");
    cJSON_AddStringToObject(score, "direction", a->maximize ? "maximize" : "minimize");
    cJSON_AddItemToObject(score, "prefer_earlier",
                          a->prefer_earlier > 0 ? cJSON_CreateNumber(a->prefer_earlier) : cJSON_CreateNull());

    if (a->has_best) {
        cJSON *best = ckpt_ref_json(s, a->best, a->best_score);
        if (a->reason)
            cJSON_AddStringToObject(best, "reason", a->reason);
        else
            cJSON_AddNullToObject(best, "reason");
        cJSON_AddItemToObject(root, "best", best);
    } else {
        cJSON_AddNullToObject(root, "best");
    }

    cJSON *ru = cJSON_AddArrayToObject(root, "runners_up");
    for (size_t k = 0; k < a->n_runners_up; k++) {
        sr_ckpt_ref r = a->runners_up[k];
        cJSON_AddItemToArray(ru, ckpt_ref_json(s, r, a->trials[r.trial].ckpts[r.ckpt].score));
    }

    /* checkpoints left for the next run (see the settle rule in scan.h) */
    cJSON *pending = cJSON_AddArrayToObject(root, "pending");
    for (size_t t = 0; t < s->n_trials; t++)
        for (size_t j = 0; j < s->trials[t].n_ckpts; j++) {
            const sr_checkpoint *c = &s->trials[t].ckpts[j];
            if (c->status != SR_CKPT_PENDING)
                continue;
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "trial", s->trials[t].name);
            cJSON_AddStringToObject(p, "checkpoint", c->file);
            cJSON_AddStringToObject(p, "path", c->path);
            cJSON_AddItemToObject(p, "epoch", c->epoch >= 0 ? cJSON_CreateNumber((double)c->epoch) : cJSON_CreateNull());
            cJSON_AddStringToObject(p, "reason", c->pending ? c->pending : "pending");
            cJSON_AddItemToArray(pending, p);
        }

    cJSON *imp = cJSON_AddArrayToObject(root, "importance");
    for (size_t k = 0; k < a->n_params; k++)
        cJSON_AddItemToArray(imp, importance_json(&a->params[k]));

    if (generated_at)
        cJSON_AddStringToObject(root, "generated_at", generated_at);
    else
        cJSON_AddNullToObject(root, "generated_at");
    sr_json_repair_utf8(root); /* names may be any bytes; the document is UTF-8 */
    return root;
}
