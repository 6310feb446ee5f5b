/* test_since.c - what changed since the last run, from two summary documents. */
#include "config.h"

#include "check_main.h"
#include "since_last_run.h"

#include <stdlib.h>
#include <string.h>

static cJSON *parse(const char *text)
{
    cJSON *d = cJSON_Parse(text);
    ck_assert_msg(d != NULL, "bad JSON in the test: %s", text);
    return d;
}

static int flag(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    ck_assert_msg(cJSON_IsBool(v), "%s is not a bool", name);
    return cJSON_IsTrue(v);
}

static const cJSON *arr(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    ck_assert_msg(cJSON_IsArray(v), "%s is not an array", name);
    return v;
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    ck_assert_msg(cJSON_IsString(v), "%s is not a string", name);
    return v->valuestring;
}

#define CK(file, status) "{\"file\": \"" file "\", \"path\": \"/s/" file "\", \"epoch\": 2, \"status\": \"" status "\"}"

static const char *prev_text =
    "{\"generated_at\": \"2025-11-15T08:00:00+0000\","
    " \"trials\": ["
    "  {\"name\": \"trial_0001\", \"checkpoints\": [" CK("a-000002.safetensors", "ok") "," CK("a-000004.safetensors", "pending") "]},"
    "  {\"name\": \"trial_0002\", \"checkpoints\": [" CK("b-000002.safetensors", "ok") "]}],"
    " \"best\": {\"trial\": \"trial_0001\", \"checkpoint\": \"a-000002.safetensors\", \"path\": \"/s/a\", \"epoch\": 2, \"score\": 0.5}}";

START_TEST(test_first_run)
{
    cJSON *cur = parse(prev_text);
    cJSON *d = sr_since_last_run(NULL, cur);
    ck_assert(flag(d, "first_run"));
    ck_assert(!flag(d, "best_changed"));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d, "previous_generated_at")));
    ck_assert_int_eq(cJSON_GetArraySize(arr(d, "new_trials")), 0);
    ck_assert_int_eq(cJSON_GetArraySize(arr(d, "new_checkpoints")), 0);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d, "previous_best")));
    ck_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(d, "best"), "checkpoint"), "a-000002.safetensors");
    cJSON_Delete(d);
    cJSON_Delete(cur);
}
END_TEST

START_TEST(test_nothing_new)
{
    cJSON *prev = parse(prev_text), *cur = parse(prev_text);
    /* a new score for the same recommendation is no change */
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cur, "best"), "score"), 0.4);
    cJSON *d = sr_since_last_run(prev, cur);
    ck_assert(!flag(d, "first_run"));
    ck_assert_str_eq(str(d, "previous_generated_at"), "2025-11-15T08:00:00+0000");
    ck_assert_int_eq(cJSON_GetArraySize(arr(d, "new_trials")), 0);
    ck_assert_int_eq(cJSON_GetArraySize(arr(d, "new_checkpoints")), 0);
    ck_assert(!flag(d, "best_changed"));
    cJSON_Delete(d);
    cJSON_Delete(prev);
    cJSON_Delete(cur);
}
END_TEST

START_TEST(test_new_trials_checkpoints_best)
{
    cJSON *prev = parse(prev_text);
    cJSON *cur = parse(
        "{\"trials\": ["
        "  {\"name\": \"trial_0001\", \"checkpoints\": [" CK("a-000002.safetensors", "ok") "," CK("a-000004.safetensors", "ok") "," CK("a-000006.safetensors", "pending") "]},"
        "  {\"name\": \"trial_0002\", \"checkpoints\": [" CK("b-000002.safetensors", "ok") "," CK("b-000004.safetensors", "incomplete") "]},"
        "  {\"name\": \"trial_0003\", \"checkpoints\": [" CK("c-000002.safetensors", "ok") "]}],"
        " \"best\": {\"trial\": \"trial_0003\", \"checkpoint\": \"c-000002.safetensors\", \"path\": \"/s/c\", \"epoch\": 2, \"score\": 0.1}}");
    cJSON *d = sr_since_last_run(prev, cur);
    const cJSON *nt = arr(d, "new_trials");
    ck_assert_int_eq(cJSON_GetArraySize(nt), 1);
    ck_assert_str_eq(cJSON_GetArrayItem(nt, 0)->valuestring, "trial_0003");
    /* new: a-4 (pending before, settled now), b-4 (cut, but new), c-2 (new
     * trial); not new: a-2, b-2 (there before), a-6 (still pending) */
    const cJSON *nc = arr(d, "new_checkpoints");
    ck_assert_int_eq(cJSON_GetArraySize(nc), 3);
    ck_assert_str_eq(str(cJSON_GetArrayItem(nc, 0), "checkpoint"), "a-000004.safetensors");
    ck_assert_str_eq(str(cJSON_GetArrayItem(nc, 0), "trial"), "trial_0001");
    ck_assert_str_eq(str(cJSON_GetArrayItem(nc, 1), "checkpoint"), "b-000004.safetensors");
    ck_assert_str_eq(str(cJSON_GetArrayItem(nc, 1), "status"), "incomplete");
    ck_assert_str_eq(str(cJSON_GetArrayItem(nc, 2), "checkpoint"), "c-000002.safetensors");
    ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(nc, 2), "epoch")->valuedouble, 2);
    ck_assert(flag(d, "best_changed"));
    ck_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(d, "previous_best"), "trial"), "trial_0001");
    ck_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(d, "best"), "trial"), "trial_0003");
    cJSON_Delete(d);
    cJSON_Delete(cur);
    cJSON_Delete(prev);
}
END_TEST

/* A checkpoint that was cut in the last report and is whole now (the
 * trainer finished writing it after settling) is new; one that was whole and
 * is cut now is not. */
START_TEST(test_usable_again_is_new)
{
    cJSON *prev = parse(
        "{\"trials\": [{\"name\": \"trial_0001\", \"checkpoints\": [" CK("a-000002.safetensors", "incomplete") ","
        CK("a-000004.safetensors", "ok") "]}]}");
    cJSON *cur = parse(
        "{\"trials\": [{\"name\": \"trial_0001\", \"checkpoints\": [" CK("a-000002.safetensors", "ok") ","
        CK("a-000004.safetensors", "incomplete") "]}]}");
    cJSON *d = sr_since_last_run(prev, cur);
    const cJSON *nc = arr(d, "new_checkpoints");
    ck_assert_int_eq(cJSON_GetArraySize(nc), 1);
    ck_assert_str_eq(str(cJSON_GetArrayItem(nc, 0), "checkpoint"), "a-000002.safetensors");
    ck_assert_str_eq(str(cJSON_GetArrayItem(nc, 0), "status"), "ok");
    cJSON_Delete(d);
    cJSON_Delete(cur);
    cJSON_Delete(prev);
}
END_TEST

/* Checkpoints the last report had and the sweep no longer has are removed
 * (a pending one was never reported, so it is not); the last
 * recommendation among them is said. */
START_TEST(test_removed_checkpoints)
{
    cJSON *prev = parse(prev_text);
    cJSON *cur = parse(
        "{\"trials\": ["
        "  {\"name\": \"trial_0001\", \"checkpoints\": [" CK("a-000006.safetensors", "ok") "]}],"
        " \"best\": {\"trial\": \"trial_0001\", \"checkpoint\": \"a-000006.safetensors\", \"path\": \"/s/a6\", \"epoch\": 6, \"score\": 0.6}}");
    cJSON *d = sr_since_last_run(prev, cur);
    const cJSON *rc = arr(d, "removed_checkpoints");
    ck_assert_int_eq(cJSON_GetArraySize(rc), 2); /* a-2, and b-2 with its trial; not a-4 (pending) */
    ck_assert_str_eq(str(cJSON_GetArrayItem(rc, 0), "checkpoint"), "a-000002.safetensors");
    ck_assert_str_eq(str(cJSON_GetArrayItem(rc, 1), "trial"), "trial_0002");
    ck_assert(flag(d, "best_changed"));
    ck_assert(flag(d, "previous_best_removed"));
    cJSON_Delete(d);
    /* nothing gone */
    d = sr_since_last_run(prev, prev);
    ck_assert_int_eq(cJSON_GetArraySize(arr(d, "removed_checkpoints")), 0);
    ck_assert(!flag(d, "previous_best_removed"));
    cJSON_Delete(d);
    cJSON_Delete(cur);
    cJSON_Delete(prev);
}
END_TEST

/* A changed score definition is said, with the old one; problems the last
 * report did not list are new, the ones it listed are not. */
START_TEST(test_score_and_problems)
{
    cJSON *prev = parse(prev_text), *cur = parse(prev_text);
    cJSON_AddItemToObject(prev, "score", parse("{\"expression\": \"pixar_score\", \"direction\": \"minimize\"}"));
    cJSON_AddItemToObject(prev, "problems", parse("[{\"path\": \"/s/x\", \"problem\": \"cut\"}]"));
    cJSON_AddItemToObject(cur, "score", parse("{\"expression\": \"mean_sharpness\", \"direction\": \"maximize\"}"));
    cJSON_AddItemToObject(cur, "problems", parse("[{\"path\": \"/s/x\", \"problem\": \"cut\"},"
                                                 " {\"path\": \"/s/x\", \"problem\": \"gone\"},"
                                                 " {\"path\": \"/s/y\", \"problem\": \"cut\"}]"));
    cJSON *d = sr_since_last_run(prev, cur);
    ck_assert(flag(d, "score_changed"));
    ck_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(d, "previous_score"), "expression"), "pixar_score");
    const cJSON *np = arr(d, "new_problems");
    ck_assert_int_eq(cJSON_GetArraySize(np), 2);
    ck_assert_str_eq(str(cJSON_GetArrayItem(np, 0), "problem"), "gone");
    ck_assert_str_eq(str(cJSON_GetArrayItem(np, 1), "path"), "/s/y");
    cJSON_Delete(d);
    /* the same score, the same problems: nothing */
    d = sr_since_last_run(cur, cur);
    ck_assert(!flag(d, "score_changed"));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d, "previous_score")));
    ck_assert_int_eq(cJSON_GetArraySize(arr(d, "new_problems")), 0);
    cJSON_Delete(d);
    /* a first run has nothing new */
    d = sr_since_last_run(NULL, cur);
    ck_assert(!flag(d, "score_changed"));
    ck_assert_int_eq(cJSON_GetArraySize(arr(d, "new_problems")), 0);
    cJSON_Delete(d);
    cJSON_Delete(prev);
    cJSON_Delete(cur);
}
END_TEST

START_TEST(test_best_appears_or_goes)
{
    cJSON *prev = parse("{\"trials\": [], \"best\": null}");
    cJSON *cur = parse(prev_text);
    cJSON *d = sr_since_last_run(prev, cur);
    ck_assert(flag(d, "best_changed"));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d, "previous_best")));
    ck_assert_int_eq(cJSON_GetArraySize(arr(d, "new_trials")), 2);
    /* a-4 is still pending: not new yet */
    ck_assert_int_eq(cJSON_GetArraySize(arr(d, "new_checkpoints")), 2);
    cJSON_Delete(d);
    d = sr_since_last_run(cur, prev);
    ck_assert(flag(d, "best_changed"));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(d, "best")));
    ck_assert_int_eq(cJSON_GetArraySize(arr(d, "new_trials")), 0);
    cJSON_Delete(d);
    /* neither has one: unchanged */
    d = sr_since_last_run(prev, prev);
    ck_assert(!flag(d, "best_changed"));
    cJSON_Delete(d);
    cJSON_Delete(cur);
    cJSON_Delete(prev);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("since_last_run");
    TCase *tc = tcase_create("since_last_run");
    tcase_add_test(tc, test_first_run);
    tcase_add_test(tc, test_nothing_new);
    tcase_add_test(tc, test_new_trials_checkpoints_best);
    tcase_add_test(tc, test_usable_again_is_new);
    tcase_add_test(tc, test_removed_checkpoints);
    tcase_add_test(tc, test_best_appears_or_goes);
    tcase_add_test(tc, test_score_and_problems);
    suite_add_tcase(s, tc);
    return s;
}
