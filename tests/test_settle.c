/* test_settle.c - the settle rule: which checkpoints are pending, which are
 * cut, and that pending ones are neither problems nor measured. */
#include "config.h"

#include "analysis.h"
#include "check_main.h"
#include "fixture.h"
#include "scan.h"
#include "util.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define S 1000000000LL

/* ---- the rule itself ----------------------------------------------------- */

START_TEST(test_rule)
{
    int64_t now = 1800000000LL * S;
    /* no settle time: the header decides */
    ck_assert_int_eq(sr_settle_status(SR_CKPT_OK, now, now, 0), SR_CKPT_OK);
    ck_assert_int_eq(sr_settle_status(SR_CKPT_INCOMPLETE, now, now, 0), SR_CKPT_INCOMPLETE);
    /* modified within the settle time: pending whatever the header says */
    ck_assert_int_eq(sr_settle_status(SR_CKPT_OK, now - 29 * S, now, 30), SR_CKPT_PENDING);
    ck_assert_int_eq(sr_settle_status(SR_CKPT_INCOMPLETE, now - 1 * S, now, 30), SR_CKPT_PENDING);
    ck_assert_int_eq(sr_settle_status(SR_CKPT_INVALID, now, now, 30), SR_CKPT_PENDING);
    /* left alone for the settle time: complete is ok, short is cut */
    ck_assert_int_eq(sr_settle_status(SR_CKPT_OK, now - 30 * S, now, 30), SR_CKPT_OK);
    ck_assert_int_eq(sr_settle_status(SR_CKPT_INCOMPLETE, now - 31 * S, now, 30), SR_CKPT_INCOMPLETE);
    ck_assert_int_eq(sr_settle_status(SR_CKPT_INVALID, now - 3600 * S, now, 30), SR_CKPT_INVALID);
    /* a clock ahead of ours: near now is pending, far ahead is judged as is */
    ck_assert_int_eq(sr_settle_status(SR_CKPT_OK, now + 5 * S, now, 30), SR_CKPT_PENDING);
    ck_assert_int_eq(sr_settle_status(SR_CKPT_OK, now + 3600 * S, now, 30), SR_CKPT_OK);
    /* fractions of a second count */
    ck_assert_int_eq(sr_settle_status(SR_CKPT_OK, now - S / 2, now, 0.75), SR_CKPT_PENDING);
    ck_assert_int_eq(sr_settle_status(SR_CKPT_OK, now - S, now, 0.75), SR_CKPT_OK);
}
END_TEST

/* ---- in a scan ------------------------------------------------------------ */

static void set_age(const char *dir, const char *rel, double seconds)
{
    char *p = sr_path_join(dir, rel);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct timespec t[2];
    t[0].tv_sec = t[1].tv_sec = now.tv_sec - (time_t)seconds;
    t[0].tv_nsec = t[1].tv_nsec = now.tv_nsec;
    ck_assert_msg(utimensat(AT_FDCWD, p, t, 0) == 0, "utimensat %s", p);
    free(p);
}

static const sr_checkpoint *ckpt(const sr_sweep *s, const char *file)
{
    for (size_t i = 0; i < s->n_trials; i++)
        for (size_t j = 0; j < s->trials[i].n_ckpts; j++)
            if (!strcmp(s->trials[i].ckpts[j].file, file))
                return &s->trials[i].ckpts[j];
    ck_abort_msg("no checkpoint %s", file);
    return NULL;
}

static int problems_about(const sr_sweep *s, const char *file)
{
    int n = 0;
    for (size_t i = 0; i < s->problems.n; i++)
        n += sr_str_has_suffix(s->problems.items[i].path, file);
    return n;
}

/* Four checkpoints: complete and old, complete and fresh, cut and old,
 * growing (cut) and fresh.  With a 600 s settle time (ages of 0 and 3600 s
 * leave a wide margin for a slow machine). */
static char *make_sweep(void)
{
    char *dir = test_tmpdir("settle");
    fx_write(dir, "trial_0001/params.json", "{\"learning_rate\": 0.0001}");
    size_t full = fx_write_lora(dir, "trial_0001/lora-000001.safetensors", NULL);
    fx_write_lora(dir, "trial_0001/lora-000002.safetensors", NULL);
    fx_write_lora_truncated(dir, "trial_0001/lora-000003.safetensors", full / 2);
    fx_write_lora_truncated(dir, "trial_0001/lora-000004.safetensors", full / 2);
    set_age(dir, "trial_0001/lora-000001.safetensors", 3600);
    set_age(dir, "trial_0001/lora-000002.safetensors", 0);
    set_age(dir, "trial_0001/lora-000003.safetensors", 3600);
    set_age(dir, "trial_0001/lora-000004.safetensors", 0);
    return dir;
}

/* A file modified since the job began, or less than the settle time
 * before, is pending however long the job has taken. */
START_TEST(test_scan_settles_from_the_time_given)
{
    char *dir = make_sweep();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    const int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    sr_scan_opts o = {.settle = 600, .since_ns = now - 3540LL * 1000000000}; /* begun 59 minutes ago */
    sr_sweep s;
    char err[512];
    ck_assert_msg(sr_scan_with(dir, &o, &s, err, sizeof err) == 0, "%s", err);
    /* an hour old now, a minute before the job began: pending for that job,
     * and so is the one written just now, during it */
    const sr_checkpoint *before = ckpt(&s, "lora-000001.safetensors");
    ck_assert_int_eq(before->status, SR_CKPT_PENDING);
    ck_assert_str_eq(before->pending, "modified less than 600 s before this run began");
    const sr_checkpoint *during = ckpt(&s, "lora-000002.safetensors");
    ck_assert_int_eq(during->status, SR_CKPT_PENDING);
    ck_assert_str_eq(during->pending, "modified while this run was going on");
    sr_sweep_free(&s);
    /* a job begun two hours ago: the hour-old file was written during it */
    o.since_ns = now - 7200LL * 1000000000;
    ck_assert_msg(sr_scan_with(dir, &o, &s, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(ckpt(&s, "lora-000001.safetensors")->status, SR_CKPT_PENDING);
    sr_sweep_free(&s);
    /* a job begun now: the plain rule */
    o.since_ns = now;
    ck_assert_msg(sr_scan_with(dir, &o, &s, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(ckpt(&s, "lora-000001.safetensors")->status, SR_CKPT_OK);
    ck_assert_int_eq(ckpt(&s, "lora-000002.safetensors")->status, SR_CKPT_PENDING);
    sr_sweep_free(&s);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_scan_settles)
{
    char *dir = make_sweep();
    sr_scan_opts o = {.settle = 600};
    sr_sweep s;
    char err[512];
    ck_assert_msg(sr_scan_with(dir, &o, &s, err, sizeof err) == 0, "%s", err);

    const sr_checkpoint *old_ok = ckpt(&s, "lora-000001.safetensors");
    const sr_checkpoint *fresh_ok = ckpt(&s, "lora-000002.safetensors");
    const sr_checkpoint *cut = ckpt(&s, "lora-000003.safetensors");
    const sr_checkpoint *growing = ckpt(&s, "lora-000004.safetensors");
    ck_assert_int_eq(old_ok->status, SR_CKPT_OK);
    ck_assert_int_eq(fresh_ok->status, SR_CKPT_PENDING);
    ck_assert_ptr_nonnull(fresh_ok->pending);
    ck_assert_msg(strstr(fresh_ok->pending, "less than 600 s ago"), "%s", fresh_ok->pending);
    ck_assert_int_eq(cut->status, SR_CKPT_INCOMPLETE);
    ck_assert_ptr_null(cut->pending);
    ck_assert_int_eq(growing->status, SR_CKPT_PENDING);
    ck_assert_msg(strstr(growing->pending, "still being written"), "%s", growing->pending);
    ck_assert_str_eq(sr_ckpt_status_name(growing->status), "pending");
    /* pending is not a problem; the cut one is */
    ck_assert_int_eq(problems_about(&s, "lora-000002.safetensors"), 0);
    ck_assert_int_eq(problems_about(&s, "lora-000004.safetensors"), 0);
    ck_assert_int_eq(problems_about(&s, "lora-000003.safetensors"), 1);
    ck_assert_ptr_null(fresh_ok->problem);
    ck_assert_ptr_null(growing->problem);
    /* the epoch still comes from the name */
    ck_assert_int_eq(fresh_ok->epoch, 2);

    /* summary.json lists the pending ones, not as problems */
    sr_analysis a;
    ck_assert(sr_analyze(&s, &(sr_analysis_opts){0}, &a, err, sizeof err) == 0);
    cJSON *doc = sr_summary_json(&s, &a, NULL);
    cJSON *pending = cJSON_GetObjectItemCaseSensitive(doc, "pending");
    ck_assert_int_eq(cJSON_GetArraySize(pending), 2);
    cJSON *p0 = cJSON_GetArrayItem(pending, 0);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(p0, "trial")->valuestring, "trial_0001");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(p0, "checkpoint")->valuestring, "lora-000002.safetensors");
    ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(p0, "epoch")->valuedouble, 2);
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p0, "reason")));
    cJSON *probs = cJSON_GetObjectItemCaseSensitive(doc, "problems");
    cJSON *it;
    cJSON_ArrayForEach(it, probs)
    {
        const char *path = cJSON_GetObjectItemCaseSensitive(it, "path")->valuestring;
        ck_assert_msg(!sr_str_has_suffix(path, "000002.safetensors") && !sr_str_has_suffix(path, "000004.safetensors"),
                      "a pending checkpoint is a problem: %s", path);
    }
    /* a pending checkpoint has no score, even with metrics */
    const sr_trial_analysis *ta = &a.trials[0];
    for (size_t j = 0; j < s.trials[0].n_ckpts; j++)
        if (s.trials[0].ckpts[j].status == SR_CKPT_PENDING)
            ck_assert(isnan(ta->ckpts[j].score));
    cJSON_Delete(doc);
    sr_analysis_free(&a);
    sr_sweep_free(&s);

    /* settle 0: every file as it is */
    o.settle = 0;
    ck_assert(sr_scan_with(dir, &o, &s, err, sizeof err) == 0);
    ck_assert_int_eq(ckpt(&s, "lora-000002.safetensors")->status, SR_CKPT_OK);
    ck_assert_int_eq(ckpt(&s, "lora-000004.safetensors")->status, SR_CKPT_INCOMPLETE);
    ck_assert_int_eq(problems_about(&s, "lora-000004.safetensors"), 1);
    sr_sweep_free(&s);
    test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("settle");
    TCase *tc = tcase_create("settle");
    tcase_add_test(tc, test_rule);
    tcase_add_test(tc, test_scan_settles);
    tcase_add_test(tc, test_scan_settles_from_the_time_given);
    suite_add_tcase(s, tc);
    return s;
}
