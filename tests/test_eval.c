/* test_eval.c - how eval splits its work: the shard of a checkpoint, shards
 * that together measure what one unsharded run measures, and several device
 * workers (here: two CPU workers) that give the same result as one. */
#include "config.h"

#include "check_main.h"
#include "device.h"
#include "eval.h"
#include "json.h"
#include "scan.h"
#include "store.h"
#include "synth.h"
#include "util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_shard_of)
{
    /* FNV-1a 64 of the relative path, modulo the count (values worked out
     * independently) */
    const char *a = "trial_0001/lora_trial_1-000002.safetensors";
    const char *b = "trial_0002/lora_trial_2.safetensors";
    ck_assert_uint_eq(sr_hash64(a, strlen(a)), 0xd82aa1aec6cdf21fULL);
    ck_assert_uint_eq(sr_eval_shard_of(a, 3), 0);
    ck_assert_uint_eq(sr_eval_shard_of(a, 8), 7);
    ck_assert_uint_eq(sr_eval_shard_of(a, 1000003), 136601);
    ck_assert_uint_eq(sr_eval_shard_of(b, 3), 2);
    ck_assert_uint_eq(sr_eval_shard_of(b, 8), 2);
    ck_assert_uint_eq(sr_eval_shard_of("", 3), 2);
    ck_assert_uint_eq(sr_eval_shard_of(a, 0), 0);
    ck_assert_uint_eq(sr_eval_shard_of(b, 1), 0);
}
END_TEST

/* A small synthetic sweep: 5 trials of 3 to 4 checkpoints, one half
 * written, one without samples. */
static void make_sweep(const char *dir)
{
    sr_synth_opts so;
    sr_synth_defaults(&so);
    so.trials = 5;
    so.epochs = 8;
    so.save_every = 2;
    so.samples = 2;
    so.size = 24;
    so.rank = 2;
    so.seed = 11;
    char err[512];
    ck_assert_msg(sr_synth(dir, &so, err, sizeof err) == 0, "%s", err);
}

static void eval_ok(const char *dir, sr_eval_opts *o, sr_eval_stats *st)
{
    char err[512];
    sr_problems pr;
    sr_problems_init(&pr);
    o->quiet = 1;
    o->jobs = 2;
    ck_assert_msg(sr_eval(dir, o, st, &pr, err, sizeof err) == 0, "%s", err);
    sr_problems_free(&pr);
}

static void scan_ok(const char *dir, sr_sweep *s)
{
    char err[512];
    ck_assert_msg(sr_scan(dir, s, err, sizeof err) == 0, "%s", err);
}

/* Every checkpoint of a and b has exactly the same metrics (names and
 * values, bit for bit); returns how many metrics were compared. */
static size_t same_metrics(const sr_sweep *a, const sr_sweep *b)
{
    size_t compared = 0;
    ck_assert_uint_eq(a->n_trials, b->n_trials);
    for (size_t i = 0; i < a->n_trials; i++) {
        ck_assert_uint_eq(a->trials[i].n_ckpts, b->trials[i].n_ckpts);
        for (size_t j = 0; j < a->trials[i].n_ckpts; j++) {
            const sr_checkpoint *ca = &a->trials[i].ckpts[j], *cb = &b->trials[i].ckpts[j];
            ck_assert_str_eq(ca->rel_path, cb->rel_path);
            ck_assert_msg(ca->metrics.n == cb->metrics.n, "%s: %zu metrics vs %zu", ca->rel_path, ca->metrics.n,
                          cb->metrics.n);
            for (size_t k = 0; k < ca->metrics.n; k++) {
                const sr_metric *ma = &ca->metrics.items[k], *mb = &cb->metrics.items[k];
                ck_assert_str_eq(ma->name, mb->name);
                ck_assert_msg(memcmp(&ma->value, &mb->value, sizeof ma->value) == 0, "%s %s: %.17g vs %.17g",
                              ca->rel_path, ma->name, ma->value, mb->value);
                compared++;
            }
        }
    }
    return compared;
}

static void add_stats(sr_eval_stats *sum, const sr_eval_stats *st)
{
    sum->checkpoints += st->checkpoints;
    sum->pending += st->pending;
    sum->weights_measured += st->weights_measured;
    sum->images_measured += st->images_measured;
    sum->metrics_written += st->metrics_written;
    sum->failed += st->failed;
}

static void same_stats(const sr_eval_stats *a, const sr_eval_stats *b)
{
    ck_assert_uint_eq(a->checkpoints, b->checkpoints);
    ck_assert_uint_eq(a->pending, b->pending);
    ck_assert_uint_eq(a->weights_measured, b->weights_measured);
    ck_assert_uint_eq(a->images_measured, b->images_measured);
    ck_assert_uint_eq(a->metrics_written, b->metrics_written);
    ck_assert_uint_eq(a->failed, b->failed);
}

START_TEST(test_shards_union)
{
    char *top = test_tmpdir("eval-shards");
    char *one = sr_path_join(top, "one"), *three = sr_path_join(top, "three");
    make_sweep(one);
    make_sweep(three);

    sr_eval_opts o;
    sr_eval_defaults(&o);
    o.device = "cpu";
    sr_eval_stats whole, sum = {0}, st;
    eval_ok(one, &o, &whole);
    ck_assert_uint_ge(whole.checkpoints, 10);
    ck_assert_uint_eq(whole.weights_measured, whole.checkpoints);

    size_t per_shard[3];
    for (unsigned k = 0; k < 3; k++) {
        sr_eval_defaults(&o);
        o.device = "cpu";
        o.shard_index = k;
        o.shard_count = 3;
        eval_ok(three, &o, &st);
        per_shard[k] = st.weights_measured;
        add_stats(&sum, &st);
    }
    same_stats(&whole, &sum);
    for (int k = 0; k < 3; k++)
        ck_assert_msg(per_shard[k] > 0 && per_shard[k] < whole.checkpoints, "shard %d measured %zu of %zu", k,
                      per_shard[k], whole.checkpoints);

    sr_sweep a, b;
    scan_ok(one, &a);
    scan_ok(three, &b);
    ck_assert_uint_gt(same_metrics(&a, &b), 100);
    /* the drift crosses shards: some checkpoint's predecessor is another shard's */
    int crossing = 0;
    for (size_t i = 0; i < b.n_trials; i++)
        for (size_t j = 1; j < b.trials[i].n_ckpts; j++) {
            const sr_checkpoint *c = &b.trials[i].ckpts[j], *p = &b.trials[i].ckpts[j - 1];
            double d;
            if (sr_metrics_get(&c->metrics, "weight_drift", &d) && p->status == SR_CKPT_OK &&
                sr_eval_shard_of(c->rel_path, 3) != sr_eval_shard_of(p->rel_path, 3))
                crossing++;
        }
    ck_assert_int_gt(crossing, 0);
    sr_sweep_free(&a);
    sr_sweep_free(&b);

    /* a rerun of any shard measures nothing */
    sr_eval_defaults(&o);
    o.device = "cpu";
    o.shard_index = 1;
    o.shard_count = 3;
    eval_ok(three, &o, &st);
    ck_assert_uint_eq(st.weights_measured, 0);
    ck_assert_uint_eq(st.images_measured, 0);
    ck_assert_uint_eq(st.checkpoints, per_shard[1]);

    test_rmtree(top);
    free(one);
    free(three);
    free(top);
}
END_TEST

/* A checkpoint measured while the one before it was not there (pending,
 * cut, or written late) gets its drift once that one can be read: the
 * sweep ends up measured as if everything had been there at once. */
START_TEST(test_drift_after_late_predecessor)
{
    char *top = test_tmpdir("eval-late");
    char *whole = sr_path_join(top, "whole"), *late = sr_path_join(top, "late");
    make_sweep(whole);
    make_sweep(late);
    char *first = sr_path_join(late, "trial_0001/lora_trial_1-000002.safetensors");
    char *aside = sr_path_join(top, "aside.safetensors");
    ck_assert_int_eq(rename(first, aside), 0);

    sr_eval_opts o;
    sr_eval_stats st;
    sr_eval_defaults(&o);
    o.device = "cpu";
    eval_ok(whole, &o, &st);
    eval_ok(late, &o, &st);
    sr_sweep s;
    scan_ok(late, &s);
    double d;
    ck_assert_str_eq(s.trials[0].ckpts[0].file, "lora_trial_1-000004.safetensors");
    ck_assert(!sr_metrics_get(&s.trials[0].ckpts[0].metrics, "weight_drift", &d)); /* nothing before it yet */
    sr_sweep_free(&s);

    ck_assert_int_eq(rename(aside, first), 0); /* the same file, its time kept */
    eval_ok(late, &o, &st);
    ck_assert_uint_eq(st.weights_measured, 2); /* it, and the drift of the one after it */
    sr_sweep a, b;
    scan_ok(whole, &a);
    scan_ok(late, &b);
    ck_assert_uint_gt(same_metrics(&a, &b), 100);
    sr_sweep_free(&a);
    sr_sweep_free(&b);
    eval_ok(late, &o, &st);
    ck_assert_uint_eq(st.weights_measured, 0); /* and then nothing more */

    test_rmtree(top);
    free(aside);
    free(first);
    free(late);
    free(whole);
    free(top);
}
END_TEST

/* A predecessor that the scan takes for measurable but measuring passes
 * over (nothing of it can be measured, whatever its record said) does not
 * make the checkpoint after it measured again on every run. */
static void write_unmeasurable(const char *path)
{
    char head[128];
    snprintf(head, sizeof head, "%-72s", "{\"emb_params\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}");
    size_t n = strlen(head);
    ck_assert(n % 8 == 0);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    unsigned char len8[8] = {0};
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)n >> (8 * i));
    fwrite(len8, 1, 8, f);
    fwrite(head, 1, n, f);
    fwrite("\0\x3c\0\x3c", 1, 4, f); /* 1.0, 1.0 */
    fclose(f);
}

START_TEST(test_drift_settles_past_unmeasurable)
{
    char *d = test_tmpdir("eval-unmeasurable");
    make_sweep(d);
    char *first = sr_path_join(d, "trial_0001/lora_trial_1-000002.safetensors");
    write_unmeasurable(first);
    sr_eval_opts o;
    sr_eval_stats st;
    sr_eval_defaults(&o);
    o.device = "cpu";
    eval_ok(d, &o, &st);
    eval_ok(d, &o, &st); /* the scan knows now that nothing of it is measurable */
    eval_ok(d, &o, &st);
    ck_assert_uint_eq(st.weights_measured, 0);
    /* its record claims otherwise (as one of an older version may) */
    char *rec = sr_store_record_path(d, "trial_0001/lora_trial_1-000002.safetensors");
    char err[512];
    cJSON *r = sr_json_load(rec, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    cJSON *w = cJSON_GetObjectItemCaseSensitive(r, "weights");
    cJSON_ReplaceItemInObjectCaseSensitive(w, "weight_modules", cJSON_CreateNumber(1));
    cJSON_ReplaceItemInObjectCaseSensitive(w, "weight_modules_unmeasured", cJSON_CreateNumber(0));
    char *text = sr_json_print(r);
    FILE *f = fopen(rec, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    free(text);
    cJSON_Delete(r);
    eval_ok(d, &o, &st); /* the checkpoint after it, once */
    eval_ok(d, &o, &st);
    ck_assert_uint_eq(st.weights_measured, 0);
    eval_ok(d, &o, &st);
    ck_assert_uint_eq(st.weights_measured, 0);
    free(rec);
    free(first);
    test_rmtree(d);
    free(d);
}
END_TEST

START_TEST(test_shard_out_of_range)
{
    char *top = test_tmpdir("eval-shard-range");
    sr_eval_opts o;
    sr_eval_defaults(&o);
    o.device = "cpu";
    o.shard_index = 3;
    o.shard_count = 3;
    sr_eval_stats st;
    sr_problems pr;
    sr_problems_init(&pr);
    char err[256] = "";
    ck_assert_int_eq(sr_eval(top, &o, &st, &pr, err, sizeof err), -1);
    ck_assert_str_eq(err, "shard 3/3 does not exist (shards are 0 to 2)");
    sr_problems_free(&pr);
    test_rmtree(top);
    free(top);
}
END_TEST

/* Two workers, each with its own device (both the CPU here: the thread and
 * trial hand-out are what is tested), give the result of one. */
START_TEST(test_two_workers)
{
    char *top = test_tmpdir("eval-workers");
    char *one = sr_path_join(top, "one"), *two = sr_path_join(top, "two");
    make_sweep(one);
    make_sweep(two);

    sr_eval_opts o;
    sr_eval_defaults(&o);
    o.device = "cpu";
    sr_eval_stats st1, st2;
    eval_ok(one, &o, &st1);

    static sr_device_list devs;
    memset(&devs, 0, sizeof devs);
    devs.n = 2;
    ck_assert_int_eq(sr_device_select("cpu", &devs.dev[0], NULL, 0), 0);
    devs.dev[1] = devs.dev[0];
    sr_eval_defaults(&o);
    o.device = "this spec is not read";
    o.devices = &devs;
    eval_ok(two, &o, &st2);
    same_stats(&st1, &st2);
    ck_assert_str_eq(st2.device, "cpu, cpu");

    sr_sweep a, b;
    scan_ok(one, &a);
    scan_ok(two, &b);
    ck_assert_uint_gt(same_metrics(&a, &b), 100);
    sr_sweep_free(&a);
    sr_sweep_free(&b);

    /* more workers than trials, and shards on top of workers */
    devs.n = 8;
    for (int i = 1; i < 8; i++)
        devs.dev[i] = devs.dev[0];
    sr_eval_defaults(&o);
    o.devices = &devs;
    o.force = 1;
    o.shard_index = 0;
    o.shard_count = 2;
    sr_eval_stats st3;
    eval_ok(two, &o, &st3);
    ck_assert_uint_gt(st3.weights_measured, 0);
    ck_assert_uint_lt(st3.weights_measured, st1.weights_measured);
    scan_ok(two, &b);
    scan_ok(one, &a);
    same_metrics(&a, &b);
    sr_sweep_free(&a);
    sr_sweep_free(&b);

    test_rmtree(top);
    free(one);
    free(two);
    free(top);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("eval");
    TCase *tc = tcase_create("work");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_shard_of);
    tcase_add_test(tc, test_shard_out_of_range);
    tcase_add_test(tc, test_shards_union);
    tcase_add_test(tc, test_drift_after_late_predecessor);
    tcase_add_test(tc, test_drift_settles_past_unmeasurable);
    tcase_add_test(tc, test_two_workers);
    suite_add_tcase(s, tc);
    return s;
}
