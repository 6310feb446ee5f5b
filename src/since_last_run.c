/* since_last_run.c - new trials, checkpoints and problems, a changed
 * recommendation or score. */
#include "config.h"

#include "since_last_run.h"

#include <string.h>

static const char *str_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *find_named(const cJSON *arr, const char *key, const char *value)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        const char *v = str_of(it, key);
        if (v && value && strcmp(v, value) == 0)
            return it;
    }
    return NULL;
}

static int is_pending(const cJSON *ckpt)
{
    const char *st = str_of(ckpt, "status");
    return st && strcmp(st, "pending") == 0;
}

static int is_ok(const cJSON *ckpt)
{
    const char *st = str_of(ckpt, "status");
    return st && strcmp(st, "ok") == 0;
}

static cJSON *best_ref(const cJSON *doc)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(doc, "best");
    if (!cJSON_IsObject(b))
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    static const char *const keys[] = {"trial", "checkpoint", "path", "epoch", "score"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, keys[i]);
        cJSON_AddItemToObject(o, keys[i], v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
    }
    return o;
}

static int same_ref(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsNull(a) || cJSON_IsNull(b))
        return cJSON_IsNull(a) && cJSON_IsNull(b);
    const char *ta = str_of(a, "trial"), *tb = str_of(b, "trial");
    const char *ca = str_of(a, "checkpoint"), *cb = str_of(b, "checkpoint");
    return ta && tb && ca && cb && !strcmp(ta, tb) && !strcmp(ca, cb);
}

cJSON *sr_since_last_run(const cJSON *prev, const cJSON *cur)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "first_run", prev == NULL);
    const char *gen = prev ? str_of(prev, "generated_at") : NULL;
    cJSON_AddItemToObject(o, "previous_generated_at", gen ? cJSON_CreateString(gen) : cJSON_CreateNull());
    cJSON *new_trials = cJSON_AddArrayToObject(o, "new_trials");
    cJSON *new_ckpts = cJSON_AddArrayToObject(o, "new_checkpoints");
    const cJSON *ptrials = prev ? cJSON_GetObjectItemCaseSensitive(prev, "trials") : NULL;
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(cur, "trials"))
    {
        const char *name = str_of(t, "name");
        if (!prev || !name)
            continue;
        const cJSON *pt = find_named(ptrials, "name", name);
        if (!pt)
            cJSON_AddItemToArray(new_trials, cJSON_CreateString(name));
        const cJSON *pcks = pt ? cJSON_GetObjectItemCaseSensitive(pt, "checkpoints") : NULL;
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(t, "checkpoints"))
        {
            const char *file = str_of(c, "file");
            if (!file || is_pending(c))
                continue;
            /* new: not in the last report, pending there, or unusable
             * there (cut, unreadable) and usable now */
            const cJSON *pc = find_named(pcks, "file", file);
            if (pc && !is_pending(pc) && !(is_ok(c) && !is_ok(pc)))
                continue;
            cJSON *n = cJSON_CreateObject();
            cJSON_AddStringToObject(n, "trial", name);
            cJSON_AddStringToObject(n, "checkpoint", file);
            const char *path = str_of(c, "path");
            cJSON_AddItemToObject(n, "path", path ? cJSON_CreateString(path) : cJSON_CreateNull());
            const cJSON *ep = cJSON_GetObjectItemCaseSensitive(c, "epoch");
            cJSON_AddItemToObject(n, "epoch", cJSON_IsNumber(ep) ? cJSON_Duplicate(ep, 0) : cJSON_CreateNull());
            const char *st = str_of(c, "status");
            cJSON_AddStringToObject(n, "status", st ? st : "ok");
            cJSON_AddItemToArray(new_ckpts, n);
        }
    }
    /* checkpoints the last report had (settled) that are gone: deleted by
     * the trainer (save_last_n_epochs), or their trial folder removed */
    cJSON *removed = cJSON_AddArrayToObject(o, "removed_checkpoints");
    const cJSON *ctrials = cJSON_GetObjectItemCaseSensitive(cur, "trials");
    cJSON_ArrayForEach(t, ptrials)
    {
        const char *name = str_of(t, "name");
        if (!name)
            continue;
        const cJSON *ct = find_named(ctrials, "name", name);
        const cJSON *ccks = ct ? cJSON_GetObjectItemCaseSensitive(ct, "checkpoints") : NULL;
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(t, "checkpoints"))
        {
            const char *file = str_of(c, "file");
            if (!file || is_pending(c) || find_named(ccks, "file", file))
                continue;
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "trial", name);
            cJSON_AddStringToObject(r, "checkpoint", file);
            cJSON_AddItemToArray(removed, r);
        }
    }
    cJSON *pb = prev ? best_ref(prev) : cJSON_CreateNull();
    cJSON *cb = best_ref(cur);
    cJSON_AddBoolToObject(o, "best_changed", prev != NULL && !same_ref(pb, cb));
    int gone = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, removed)
        gone |= !cJSON_IsNull(pb) && same_ref(pb, r);
    cJSON_AddBoolToObject(o, "previous_best_removed", gone);
    cJSON_AddItemToObject(o, "previous_best", pb);
    cJSON_AddItemToObject(o, "best", cb);

    /* the score itself */
    const cJSON *ps = prev ? cJSON_GetObjectItemCaseSensitive(prev, "score") : NULL;
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(cur, "score");
    const char *pe = str_of(ps, "expression"), *pd = str_of(ps, "direction");
    const char *ce = str_of(cs, "expression"), *cd = str_of(cs, "direction");
    int score_changed = prev && pe && pd && ce && cd && (strcmp(pe, ce) != 0 || strcmp(pd, cd) != 0);
    cJSON_AddBoolToObject(o, "score_changed", score_changed);
    cJSON_AddItemToObject(o, "previous_score", score_changed ? cJSON_Duplicate(ps, 1) : cJSON_CreateNull());

    /* problems the last report did not list */
    cJSON *new_problems = cJSON_AddArrayToObject(o, "new_problems");
    const cJSON *pp = prev ? cJSON_GetObjectItemCaseSensitive(prev, "problems") : NULL;
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(cur, "problems"))
    {
        const char *path = str_of(p, "path"), *what = str_of(p, "problem");
        if (!prev || !path || !what)
            continue;
        int known = 0;
        const cJSON *q;
        cJSON_ArrayForEach(q, pp)
        {
            const char *qp = str_of(q, "path"), *qw = str_of(q, "problem");
            if (qp && qw && !strcmp(qp, path) && !strcmp(qw, what)) {
                known = 1;
                break;
            }
        }
        if (!known)
            cJSON_AddItemToArray(new_problems, cJSON_Duplicate(p, 1));
    }
    return o;
}
