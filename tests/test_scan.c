/* test_scan.c - the scan stage on hand-made sweeps and on a synthetic one. */
#include "config.h"

#include "atomic_file.h"
#include "check_main.h"
#include "fixture.h"
#include "json.h"
#include "scan.h"
#include "scan_output.h"
#include "synth.h"
#include "tfevents_write.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const sr_trial *find_trial(const sr_sweep *s, const char *name)
{
    for (size_t i = 0; i < s->n_trials; i++)
        if (strcmp(s->trials[i].name, name) == 0)
            return &s->trials[i];
    ck_abort_msg("trial %s not found", name);
    return NULL;
}

static const sr_checkpoint *find_ckpt(const sr_trial *t, const char *file)
{
    for (size_t i = 0; i < t->n_ckpts; i++)
        if (strcmp(t->ckpts[i].file, file) == 0)
            return &t->ckpts[i];
    ck_abort_msg("checkpoint %s not found in %s", file, t->name);
    return NULL;
}

/* Number of problems whose path ends with suffix and whose text contains word. */
static int count_problems(const sr_sweep *s, const char *suffix, const char *word)
{
    int n = 0;
    for (size_t i = 0; i < s->problems.n; i++)
        if (sr_str_has_suffix(s->problems.items[i].path, suffix) &&
            (!word || strstr(s->problems.items[i].problem, word)))
            n++;
    return n;
}

static double metric(const sr_checkpoint *c, const char *name)
{
    double v;
    ck_assert_msg(sr_metrics_get(&c->metrics, name, &v), "%s has no metric %s", c->file, name);
    return v;
}

static void scan_ok(const char *dir, sr_sweep *s)
{
    char err[512];
    ck_assert_msg(sr_scan(dir, s, err, sizeof err) == 0, "scan failed: %s", err);
}

/* ---- name forms and epochs --------------------------------------------- */

START_TEST(test_name_forms)
{
    char *d = test_tmpdir("names");
    const char *m_step[] = {"ss_epoch", "3", "ss_steps", "1200", NULL};
    const char *m_final[] = {"ss_num_epochs", "12", "ss_steps", "4800", NULL};
    const char *m_epoch[] = {"ss_epoch", "2", "ss_steps", "240", NULL};
    fx_write(d, "trial_0001/params.json", "{\"max_train_epochs\": 15, \"learning_rate\": 1e-4}");
    fx_write_lora(d, "trial_0001/lora_trial_1-000002.safetensors", m_epoch);
    fx_write_lora(d, "trial_0001/lora_trial_1-step00001200.safetensors", m_step);
    fx_write_lora(d, "trial_0001/lora_trial_1.safetensors", m_final);
    /* optimizer state folders are not checkpoints */
    fx_write(d, "trial_0001/lora_trial_1-000002-state/optimizer.bin", "x");
    fx_write(d, "trial_0001/notes.txt", "not a checkpoint");

    /* kohya's default names, no metadata at all */
    fx_write(d, "trial_0002/params.json", "{\"max_train_epochs\": 8}");
    fx_write_lora(d, "trial_0002/epoch-000004.safetensors", NULL);
    fx_write_lora(d, "trial_0002/at-step00000600.safetensors", NULL);
    fx_write_lora(d, "trial_0002/last.safetensors", NULL);
    fx_write(d, "trial_0002/last-state/x", "x");

    sr_sweep s;
    scan_ok(d, &s);
    ck_assert_uint_eq(s.n_trials, 2);

    const sr_trial *t1 = find_trial(&s, "trial_0001");
    ck_assert_uint_eq(t1->n_ckpts, 3);
    const sr_checkpoint *c = find_ckpt(t1, "lora_trial_1-000002.safetensors");
    ck_assert_int_eq(c->epoch, 2);
    ck_assert_str_eq(c->epoch_from, "name");
    ck_assert_int_eq(c->step, 240);
    ck_assert(!c->final);
    ck_assert_int_eq(c->status, SR_CKPT_OK);
    ck_assert_str_eq(c->format, "lora");
    c = find_ckpt(t1, "lora_trial_1-step00001200.safetensors");
    ck_assert_int_eq(c->name.kind, SR_CKPT_STEP);
    ck_assert_int_eq(c->epoch, 3); /* from ss_epoch */
    ck_assert_str_eq(c->epoch_from, "ss_epoch");
    ck_assert_int_eq(c->step, 1200);
    c = find_ckpt(t1, "lora_trial_1.safetensors");
    ck_assert(c->final);
    ck_assert_int_eq(c->epoch, 12); /* ss_num_epochs wins over params */
    ck_assert_str_eq(c->epoch_from, "ss_num_epochs");
    /* order: by epoch, final last */
    ck_assert_str_eq(t1->ckpts[0].file, "lora_trial_1-000002.safetensors");
    ck_assert_str_eq(t1->ckpts[2].file, "lora_trial_1.safetensors");

    const sr_trial *t2 = find_trial(&s, "trial_0002");
    ck_assert_uint_eq(t2->n_ckpts, 3);
    c = find_ckpt(t2, "epoch-000004.safetensors");
    ck_assert_int_eq(c->epoch, 4);
    ck_assert_int_eq(c->step, -1);
    c = find_ckpt(t2, "at-step00000600.safetensors");
    ck_assert_int_eq(c->name.kind, SR_CKPT_STEP);
    ck_assert_int_eq(c->step, 600); /* from the name when ss_steps is absent */
    ck_assert_int_eq(c->epoch, -1);
    c = find_ckpt(t2, "last.safetensors");
    ck_assert(c->final);
    ck_assert_int_eq(c->epoch, 8); /* from params.json max_train_epochs */
    ck_assert_str_eq(c->epoch_from, "max_train_epochs");
    ck_assert_uint_eq(s.problems.n, 0);

    sr_sweep_free(&s);
    test_rmtree(d);
    free(d);
}
END_TEST

/* ---- samples and metrics in every layout -------------------------------- */

START_TEST(test_samples_and_metrics)
{
    char *d = test_tmpdir("metrics");
    fx_write(d, "trial_0001/params.json", "{\"max_train_epochs\": 6}");
    fx_write_lora(d, "trial_0001/lora_trial_1-000002.safetensors", NULL);
    fx_write_lora(d, "trial_0001/lora_trial_1-000004.safetensors", NULL);
    fx_write_lora(d, "trial_0001/lora_trial_1.safetensors", NULL);
    /* samples in natural order, other files ignored */
    fx_write_png(d, "trial_0001/realtime_evaluations/lora_trial_1-000002/sample_10.png", 4, 4, 1, 2, 3);
    fx_write_png(d, "trial_0001/realtime_evaluations/lora_trial_1-000002/sample_2.png", 4, 4, 1, 2, 3);
    fx_write(d, "trial_0001/realtime_evaluations/lora_trial_1-000002/grid.png", "x");
    /* seed layout, nested metrics, with a realtime top-level evaluation_time in seconds */
    fx_write(d, "trial_0001/realtime_evaluations/lora_trial_1-000002/metrics.json",
             "{\"checkpoint\": \"lora_trial_1-000002.safetensors\", \"checkpoint_name\": \"lora_trial_1-000002\","
             " \"evaluation_time\": 41.5, \"timestamp\": \"2025-11-15T10:45:12\","
             " \"metrics\": {\"total_samples\": 2, \"avg_brightness\": [0.5, 0.6], \"mean_brightness\": 0.55,"
             " \"mean_contrast\": 0.21, \"lpips_diversity\": NaN}}");
    /* a summary in the "code" shape that disagrees: metrics.json must win */
    fx_write(d, "trial_0001/realtime_evaluations/evaluation_summary.json",
             "{\"trial_dir\": \"x\", \"checkpoints\": [{\"name\": \"lora_trial_1-000002.safetensors\","
             " \"metrics\": {\"mean_brightness\": 0.99, \"clip_consistency\": 0.31}},"
             " {\"name\": \"lora_trial_1-000004.safetensors\", \"metrics\": {\"mean_brightness\": 0.44}}]}");
    /* the state file adds what nothing else has */
    fx_write(d, "trial_0001/realtime_evaluations/evaluation_state.json",
             "{\"evaluated_checkpoints\": [\"lora_trial_1-000004.safetensors\"],"
             " \"evaluation_results\": {\"lora_trial_1-000004.safetensors\": {\"mean_brightness\": 0.1,"
             " \"mean_saturation\": 0.62}}, \"last_update\": \"2025-11-15T12:00:00\"}");
    /* the final model: evaluation/, flat (old) layout with an ISO evaluation_time */
    fx_write_png(d, "trial_0001/evaluation/sample_00.png", 4, 4, 9, 9, 9);
    fx_write_png(d, "trial_0001/evaluation/sample_01.png", 4, 4, 9, 9, 9);
    fx_write(d, "trial_0001/evaluation/metrics.json",
             "{\"checkpoint\": \"lora_trial_1.safetensors\", \"evaluation_time\": \"2025-11-15T10:45:12.123456\","
             " \"mean_brightness\": 0.528, \"mean_contrast\": 0.201, \"epoch\": 6}");

    /* the summary in the change note's shape, with contrast on the 0-255
     * scale: named, and none of its sample metrics taken */
    fx_write(d, "trial_0002/params.json", "{}");
    fx_write_lora(d, "trial_0002/lora_trial_2-000002.safetensors", NULL);
    fx_write(d, "trial_0002/realtime_evaluations/evaluation_summary.json",
             "{\"trial_name\": \"trial_0002\", \"total_checkpoints_evaluated\": 1, \"checkpoints\":"
             " {\"lora_trial_2-000002\": {\"epoch\": 2, \"mean_brightness\": 0.512, \"mean_contrast\": 45.3,"
             " \"evaluation_time\": \"2025-11-15T10:23:45\"}}, \"last_update\": \"2025-11-15T12:34:56\"}");

    /* a metrics.json of the 0-255 scale beside samples: those are measured */
    fx_write(d, "trial_0003/params.json", "{}");
    fx_write_lora(d, "trial_0003/lora_trial_3-000002.safetensors", NULL);
    fx_write_png(d, "trial_0003/realtime_evaluations/lora_trial_3-000002/sample_00.png", 4, 4, 1, 2, 3);
    fx_write(d, "trial_0003/realtime_evaluations/lora_trial_3-000002/metrics.json",
             "{\"metrics\": {\"total_samples\": 1, \"mean_brightness\": 0.5, \"mean_contrast\": 55,"
             " \"lpips_diversity\": 0.3}}");

    sr_sweep s;
    scan_ok(d, &s);
    const sr_trial *t = find_trial(&s, "trial_0001");
    const sr_checkpoint *c = find_ckpt(t, "lora_trial_1-000002.safetensors");
    ck_assert_uint_eq(c->n_samples, 2);
    ck_assert_str_eq(c->samples[0], "realtime_evaluations/lora_trial_1-000002/sample_2.png");
    ck_assert_str_eq(c->samples[1], "realtime_evaluations/lora_trial_1-000002/sample_10.png");
    ck_assert(c->has_metrics_file);
    ck_assert_double_eq(metric(c, "mean_brightness"), 0.55);
    ck_assert_double_eq(metric(c, "mean_contrast"), 0.21);
    ck_assert_double_eq(metric(c, "total_samples"), 2);
    ck_assert(isnan(metric(c, "lpips_diversity")));
    ck_assert_double_eq(metric(c, "clip_consistency"), 0.31); /* from the summary */
    double v;
    ck_assert(!sr_metrics_get(&c->metrics, "evaluation_time", &v));

    c = find_ckpt(t, "lora_trial_1-000004.safetensors");
    ck_assert_uint_eq(c->n_samples, 0);
    ck_assert(!c->has_metrics_file);
    ck_assert_double_eq(metric(c, "mean_brightness"), 0.44); /* summary over state */
    ck_assert_double_eq(metric(c, "mean_saturation"), 0.62);

    c = find_ckpt(t, "lora_trial_1.safetensors");
    ck_assert(c->final);
    ck_assert_uint_eq(c->n_samples, 2);
    ck_assert_str_eq(c->samples[0], "evaluation/sample_00.png");
    ck_assert_double_eq(metric(c, "mean_brightness"), 0.528);
    ck_assert(!sr_metrics_get(&c->metrics, "epoch", &v));

    t = find_trial(&s, "trial_0002");
    c = find_ckpt(t, "lora_trial_2-000002.safetensors");
    ck_assert(!sr_metrics_get(&c->metrics, "mean_brightness", &v));
    ck_assert(!sr_metrics_get(&c->metrics, "mean_contrast", &v));
    ck_assert(!sr_metrics_get(&c->metrics, "epoch", &v));
    ck_assert_int_eq(count_problems(&s, "trial_0002/realtime_evaluations/evaluation_summary.json",
                                    "lora_trial_2-000002: its mean_contrast is 45.3, outside 0..1"),
                     1);

    c = find_ckpt(find_trial(&s, "trial_0003"), "lora_trial_3-000002.safetensors");
    ck_assert(c->sample_metrics_stale);
    ck_assert(!sr_metrics_get(&c->metrics, "mean_brightness", &v));
    ck_assert_double_eq(metric(c, "lpips_diversity"), 0.3); /* not of the samples: taken */
    ck_assert_int_eq(count_problems(&s, "trial_0003/realtime_evaluations/lora_trial_3-000002/metrics.json",
                                    "its mean_contrast is 55, outside 0..1 (the 0-255 scale?): its sample metrics "
                                    "are not taken, eval measures the samples themselves (the file is left as it is)"),
                     1);
    ck_assert_uint_eq(s.problems.n, 2);
    sr_sweep_free(&s);
    test_rmtree(d);
    free(d);
}
END_TEST

/* ---- kohya's training-time samples ---------------------------------------- */

START_TEST(test_training_samples)
{
    char *d = test_tmpdir("kohya");
    const char *m4[] = {"ss_output_name", "style", "ss_steps", "400", NULL};
    const char *ms[] = {"ss_output_name", "style", "ss_steps", "600", "ss_epoch", "6", NULL};
    const char *mf[] = {"ss_output_name", "style", "ss_steps", "800", NULL};
    fx_write(d, "trial_0001/params.json", "{\"max_train_epochs\": 8}");
    fx_write_lora(d, "trial_0001/style-000004.safetensors", m4);
    fx_write_lora(d, "trial_0001/style-step00000600.safetensors", ms);
    fx_write_lora(d, "trial_0001/style.safetensors", mf);
    /* before training, epoch 4 (both name orders), step 600, the last epoch */
    fx_write_png(d, "trial_0001/sample/style_e000000_00_20251115080000.png", 2, 2, 0, 0, 0);
    fx_write_png(d, "trial_0001/sample/style_e000004_01_20251115090000_42.png", 2, 2, 0, 0, 0);
    fx_write_png(d, "trial_0001/sample/style_20251115090000_e000004_00.png", 2, 2, 0, 0, 0);
    fx_write_png(d, "trial_0001/sample/style_000600_00_20251115093000.png", 2, 2, 0, 0, 0);
    fx_write_png(d, "trial_0001/sample/style_e000008_00_20251115100000.png", 2, 2, 0, 0, 0);
    /* another output name and an epoch without a checkpoint are not attached */
    fx_write_png(d, "trial_0001/sample/other_e000004_00_20251115090000.png", 2, 2, 0, 0, 0);
    fx_write_png(d, "trial_0001/sample/style_e000002_00_20251115085000.png", 2, 2, 0, 0, 0);
    /* the final model's evaluation samples win over training samples */
    fx_write_png(d, "trial_0001/evaluation/sample_00.png", 2, 2, 0, 0, 0);

    sr_sweep s;
    scan_ok(d, &s);
    const sr_trial *t = find_trial(&s, "trial_0001");
    ck_assert_uint_eq(t->n_baseline_samples, 1);
    ck_assert_str_eq(t->baseline_samples[0], "sample/style_e000000_00_20251115080000.png");
    const sr_checkpoint *c = find_ckpt(t, "style-000004.safetensors");
    ck_assert_uint_eq(c->n_samples, 2);
    ck_assert(c->samples_from_training);
    /* ordered by prompt index */
    ck_assert_str_eq(c->samples[0], "sample/style_20251115090000_e000004_00.png");
    ck_assert_str_eq(c->samples[1], "sample/style_e000004_01_20251115090000_42.png");
    c = find_ckpt(t, "style-step00000600.safetensors");
    ck_assert_uint_eq(c->n_samples, 1);
    ck_assert_str_eq(c->samples[0], "sample/style_000600_00_20251115093000.png");
    c = find_ckpt(t, "style.safetensors");
    ck_assert_uint_eq(c->n_samples, 1);
    ck_assert(!c->samples_from_training);
    ck_assert_str_eq(c->samples[0], "evaluation/sample_00.png");
    sr_sweep_free(&s);
    test_rmtree(d);
    free(d);
}
END_TEST

/* ---- bad input never stops the scan -------------------------------------- */

START_TEST(test_bad_input)
{
    char *d = test_tmpdir("bad");
    size_t full = fx_write_lora(d, "trial_0001/lora_trial_1-000002.safetensors", NULL);
    fx_write(d, "trial_0001/params.json", "{\"learning_rate\": 1e-4,");  /* cut JSON */
    fx_write_lora_truncated(d, "trial_0001/lora_trial_1-000004.safetensors", full - 10);
    fx_write(d, "trial_0001/lora_trial_1-000006.safetensors", "this is not a safetensors file at all");
    fx_write(d, "trial_0001/realtime_evaluations/lora_trial_1-000002/metrics.json", "{\"metrics\": [1, 2");
    fx_write(d, "trial_0001/realtime_evaluations/evaluation_summary.json", "[]");
    /* a directory that looks like a checkpoint */
    fx_write(d, "trial_0001/odd.safetensors/inner", "x");
    /* an empty trial, a trial whose params are not an object */
    fx_write(d, "trial_0002/.keep", "");
    fx_write(d, "trial_0003/params.json", "[1, 2]");
    fx_write_lora(d, "trial_0003/x-000002.safetensors", NULL);
    /* names with spaces, quotes and UTF-8 */
    fx_write(d, "trial_0004 \"caf\xc3\xa9\"/params.json", "{\"prompt\": \"<b>\\\"hi\\\"</b>\"}");
    fx_write_lora(d, "trial_0004 \"caf\xc3\xa9\"/my lora \xe2\x9c\x93-000002.safetensors", NULL);
    /* a symlink loop and a dangling link */
    char *loop = sr_path_join(d, "trial_0005");
    ck_assert(symlink("trial_0005", loop) == 0);
    char *dangling = sr_path_join(d, "trial_0001/gone-000008.safetensors");
    ck_assert(symlink("/nonexistent/file", dangling) == 0);

    sr_sweep s;
    scan_ok(d, &s);
    ck_assert_uint_eq(s.n_trials, 4); /* the loop is a problem, not a trial */
    const sr_trial *t = find_trial(&s, "trial_0001");
    ck_assert_ptr_null(t->params);
    ck_assert_int_eq(count_problems(&s, "trial_0001/params.json", "invalid JSON"), 1);
    ck_assert_uint_eq(t->n_ckpts, 3);
    ck_assert_int_eq(find_ckpt(t, "lora_trial_1-000002.safetensors")->status, SR_CKPT_OK);
    const sr_checkpoint *c = find_ckpt(t, "lora_trial_1-000004.safetensors");
    ck_assert_int_eq(c->status, SR_CKPT_INCOMPLETE);
    ck_assert_ptr_nonnull(c->problem);
    ck_assert_int_eq(count_problems(&s, "lora_trial_1-000004.safetensors", "incomplete"), 1);
    c = find_ckpt(t, "lora_trial_1-000006.safetensors");
    ck_assert_int_eq(c->status, SR_CKPT_INVALID);
    ck_assert_int_eq(count_problems(&s, "lora_trial_1-000006.safetensors", NULL), 1);
    ck_assert_int_eq(count_problems(&s, "lora_trial_1-000002/metrics.json", "invalid JSON"), 1);
    ck_assert_int_eq(count_problems(&s, "evaluation_summary.json", "object"), 1);
    ck_assert_int_eq(count_problems(&s, "odd.safetensors", "not a regular file"), 1);
    ck_assert_int_eq(count_problems(&s, "gone-000008.safetensors", "cannot read"), 1);
    ck_assert_int_eq(count_problems(&s, "trial_0002", "no checkpoint"), 1);
    ck_assert_int_eq(count_problems(&s, "trial_0002/params.json", "missing"), 1);
    ck_assert_int_eq(count_problems(&s, "trial_0003/params.json", "object"), 1);
    ck_assert_int_eq(count_problems(&s, "trial_0005", NULL), 1);
    t = find_trial(&s, "trial_0004 \"caf\xc3\xa9\"");
    ck_assert_uint_eq(t->n_ckpts, 1);
    ck_assert_int_eq(t->ckpts[0].epoch, 2);

    /* The JSON document is valid JSON and keeps the names intact. */
    cJSON *doc = sr_scan_to_json(&s);
    char *text = sr_json_print(doc);
    char err[256];
    cJSON *back = sr_json_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(back != NULL, "output is not JSON: %s", err);
    const cJSON *trials = cJSON_GetObjectItem(back, "trials");
    ck_assert_int_eq(cJSON_GetArraySize(trials), 4);
    const cJSON *t4 = cJSON_GetArrayItem(trials, 3);
    ck_assert_str_eq(sr_json_string(t4, "name"), "trial_0004 \"caf\xc3\xa9\"");
    ck_assert_str_eq(sr_json_string(cJSON_GetObjectItem(t4, "params"), "prompt"), "<b>\"hi\"</b>");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(back, "problems")), (int)s.problems.n);
    cJSON_Delete(back);
    free(text);
    cJSON_Delete(doc);

    sr_sweep_free(&s);
    free(loop);
    free(dangling);
    test_rmtree(d);
    free(d);
}
END_TEST

START_TEST(test_missing_sweep)
{
    sr_sweep s;
    char err[512];
    ck_assert_int_eq(sr_scan("/nonexistent/sweep", &s, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/sweep"));
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
    char *d = test_tmpdir("notdir");
    fx_write(d, "file", "x");
    char *f = sr_path_join(d, "file");
    ck_assert_int_eq(sr_scan(f, &s, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "not a folder"));
    /* an empty folder is a sweep with no trials: a problem, not a failure */
    char *e = sr_path_join(d, "empty");
    ck_assert(sr_mkdir_p(e, 0755) == 0);
    ck_assert_int_eq(sr_scan(e, &s, err, sizeof err), 0);
    ck_assert_uint_eq(s.n_trials, 0);
    ck_assert_uint_eq(s.problems.n, 1);
    sr_sweep_free(&s);
    free(e);
    free(f);
    test_rmtree(d);
    free(d);
}
END_TEST

/* ---- the JSON contract --------------------------------------------------- */

START_TEST(test_json_contract)
{
    char *d = test_tmpdir("contract");
    const char *meta[] = {"ss_epoch", "2", "ss_steps", "240", NULL};
    fx_write(d, "trial_0001/params.json", "{\"learning_rate\": 0.0001, \"network_dim\": 16}");
    size_t size = fx_write_lora(d, "trial_0001/lora_trial_1-000002.safetensors", meta);
    fx_write_png(d, "trial_0001/realtime_evaluations/lora_trial_1-000002/sample_00.png", 4, 4, 1, 2, 3);
    fx_write(d, "trial_0001/realtime_evaluations/lora_trial_1-000002/metrics.json",
             "{\"metrics\": {\"mean_brightness\": 0.51, \"std_contrast\": Infinity}}");
    sr_sweep s;
    scan_ok(d, &s);
    cJSON *doc = sr_scan_to_json(&s);
    const cJSON *tool = cJSON_GetObjectItem(doc, "tool");
    ck_assert_str_eq(sr_json_string(tool, "name"), "sweepreport");
    ck_assert_str_eq(sr_json_string(tool, "version"), PACKAGE_VERSION);
    const cJSON *sweep = cJSON_GetObjectItem(doc, "sweep");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(sweep, "study")));
    ck_assert_str_eq(sr_json_string(sweep, "path"), s.path);
    ck_assert(s.path[0] == '/');
    const cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "trials"), 0);
    ck_assert_str_eq(sr_json_string(t, "name"), "trial_0001");
    ck_assert_str_eq(sr_json_string(t, "state"), "UNKNOWN");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(t, "optuna_number")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(t, "value")));
    ck_assert_double_eq(sr_json_number(cJSON_GetObjectItem(t, "params"), "network_dim"), 16);
    const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(t, "checkpoints"), 0);
    ck_assert_str_eq(sr_json_string(c, "file"), "lora_trial_1-000002.safetensors");
    ck_assert_double_eq(sr_json_number(c, "epoch"), 2);
    ck_assert_double_eq(sr_json_number(c, "step"), 240);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(c, "final")));
    ck_assert_str_eq(sr_json_string(c, "status"), "ok");
    ck_assert_ptr_null(cJSON_GetObjectItem(c, "problem"));
    ck_assert_double_eq(sr_json_number(c, "size"), (double)size);
    const cJSON *m = cJSON_GetObjectItem(c, "metrics");
    ck_assert_double_eq(sr_json_number(m, "mean_brightness"), 0.51);
    /* non-finite values are written as null: the output stays standard JSON */
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(m, "std_contrast")));
    const cJSON *samples = cJSON_GetObjectItem(c, "samples");
    ck_assert_int_eq(cJSON_GetArraySize(samples), 1);
    ck_assert_str_eq(cJSON_GetArrayItem(samples, 0)->valuestring,
                     "realtime_evaluations/lora_trial_1-000002/sample_00.png");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "problems")), 0);
    cJSON_Delete(doc);
    sr_sweep_free(&s);
    test_rmtree(d);
    free(d);
}
END_TEST

/* ---- the Optuna study and TensorBoard logs ----------------------------------- */

static void copy_file(const char *from, const char *to)
{
    char *text;
    size_t len;
    char err[256];
    ck_assert_msg(sr_read_file(from, 1 << 24, &text, &len, err, sizeof err) == 0, "%s: %s", from, err);
    ck_assert_int_eq(sr_write_file_atomic(to, text, len, SR_ATOMIC_REPLACE), 0);
    free(text);
}

START_TEST(test_study_join)
{
    char *d = test_tmpdir("study");
    /* the parameters of trials 0 and 1 of a study written by real Optuna */
    fx_write(d, "trial_0001/params.json",
             "{\"network_dim\": 128, \"network_alpha_ratio\": 0.65, \"learning_rate\": 6.685248281577156e-05,"
             " \"text_encoder_lr\": 3.981745519903627e-05, \"optimizer_type\": \"AdamW8bit\","
             " \"lr_scheduler\": \"cosine_with_restarts\", \"gradient_accumulation_steps\": 2}");
    fx_write(d, "trial_0002/params.json",
             "{\"network_dim\": 128, \"network_alpha_ratio\": 0.45, \"learning_rate\": 7.734587456630253e-05,"
             " \"optimizer_type\": \"AdamW\", \"lr_warmup_steps\": 200}");
    /* a folder whose parameters no trial has */
    fx_write(d, "trial_0003/params.json", "{\"learning_rate\": 0.5, \"network_dim\": 3}");
    for (int i = 1; i <= 3; i++) {
        char *rel = xasprintf("trial_%04d/lora_trial_%d-000002.safetensors", i, i);
        fx_write_lora(d, rel, NULL);
        free(rel);
    }
    char *src = test_srcpath("tests/data/optuna/optuna_study.db");
    char *db = sr_path_join(d, "optuna_study.db");
    copy_file(src, db);

    sr_sweep s;
    scan_ok(d, &s);
    ck_assert_ptr_nonnull(s.study);
    ck_assert_ptr_nonnull(find_trial(&s, "trial_0001")->optuna);
    ck_assert_int_eq(find_trial(&s, "trial_0001")->optuna->number, 0);
    ck_assert_str_eq(find_trial(&s, "trial_0001")->optuna->state, "COMPLETE");
    ck_assert_int_eq(find_trial(&s, "trial_0002")->optuna->number, 1);
    ck_assert_ptr_null(find_trial(&s, "trial_0003")->optuna);
    ck_assert_int_ge(count_problems(&s, "trial_0003", NULL), 1);

    cJSON *doc = sr_scan_to_json(&s);
    const cJSON *study = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "sweep"), "study");
    ck_assert_str_eq(sr_json_string(study, "direction"), s.study->direction);
    const cJSON *t1 = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "trials"), 0);
    ck_assert_str_eq(sr_json_string(t1, "state"), "COMPLETE");
    ck_assert_double_eq(sr_json_number(t1, "optuna_number"), 0);
    ck_assert_double_eq_tol(sr_json_number(t1, "value"), 0.7168524828157716, 1e-15);
    /* Optuna's parameters complete params.json */
    const cJSON *params = cJSON_GetObjectItem(t1, "params");
    ck_assert_double_eq(sr_json_number(params, "lr_warmup_steps"), 100);
    ck_assert_double_eq(sr_json_number(params, "gradient_accumulation_steps"), 2);
    /* user attributes with NaN are kept (and printed as null) */
    const cJSON *ua = cJSON_GetObjectItem(t1, "user_attrs");
    ck_assert_double_eq(sr_json_number(ua, "mean_brightness"), 0.5);
    ck_assert(isnan(sr_json_number(ua, "lpips_diversity")));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(t1, "intermediate_values")), 3);
    ck_assert_ptr_nonnull(sr_json_string(t1, "datetime_start"));
    const cJSON *t3 = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "trials"), 2);
    ck_assert_str_eq(sr_json_string(t3, "state"), "UNKNOWN");
    cJSON_Delete(doc);
    sr_sweep_free(&s);

    /* --study-name with a name that does not exist: a problem, not a failure */
    sr_scan_opts opts = {.study_name = "no such study"};
    char err[256];
    ck_assert_int_eq(sr_scan_with(d, &opts, &s, err, sizeof err), 0);
    ck_assert_ptr_null(s.study);
    ck_assert_int_ge(count_problems(&s, "optuna_study.db", NULL), 1);
    sr_sweep_free(&s);

    /* a corrupt database is reported and the scan goes on */
    ck_assert_int_eq(sr_write_file_atomic(db, "SQLite format 3\0garbage", 24, SR_ATOMIC_REPLACE), 0);
    scan_ok(d, &s);
    ck_assert_ptr_null(s.study);
    ck_assert_int_eq(count_problems(&s, "optuna_study.db", NULL), 1);
    ck_assert_uint_eq(s.n_trials, 3);
    sr_sweep_free(&s);
    free(db);
    free(src);
    test_rmtree(d);
    free(d);
}
END_TEST

START_TEST(test_tensorboard_in_trial)
{
    char *d = test_tmpdir("tb");
    const char *meta[] = {"ss_epoch", "2", "ss_steps", "50", NULL};
    fx_write(d, "trial_0001/params.json", "{}");
    fx_write_lora(d, "trial_0001/l-000002.safetensors", meta);
    char *dir = sr_path_join(d, "trial_0001/logs/20251115080000/network_train");
    ck_assert_int_eq(sr_mkdir_p(dir, 0755), 0);
    char *ev = sr_path_join(dir, "events.out.tfevents.1763193600.host.1.0");
    char err[256];
    sr_tfevents_writer *w = sr_tfevents_open(ev, 1763193600.0, err, sizeof err);
    ck_assert_msg(w != NULL, "%s", err);
    for (int step = 1; step <= 100; step++) {
        ck_assert_int_eq(sr_tfevents_add_scalar(w, "loss/current", step, 1.0f / (float)step, 1763193600.0 + step), 0);
        ck_assert_int_eq(sr_tfevents_add_scalar(w, "lr/unet", step, 1e-4f, 1763193600.0 + step), 0);
        ck_assert_int_eq(sr_tfevents_add_scalar(w, "other/tag", step, 7.0f, 1763193600.0 + step), 0);
        if (step % 25 == 0) /* kohya logs the epoch loss with the epoch as its step */
            ck_assert_int_eq(sr_tfevents_add_scalar(w, "loss/epoch_average", step / 25, 0.5f, 1763193600.0 + step), 0);
    }
    ck_assert_int_eq(sr_tfevents_close(w, err, sizeof err), 0);

    sr_sweep s;
    scan_ok(d, &s);
    const sr_trial *t = find_trial(&s, "trial_0001");
    ck_assert_double_eq(t->steps_per_epoch, 25);
    cJSON *doc = sr_scan_to_json(&s);
    const cJSON *tb = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "trials"), 0), "tensorboard");
    ck_assert_double_eq(sr_json_number(tb, "steps_per_epoch"), 25);
    const cJSON *series = cJSON_GetObjectItem(tb, "series");
    ck_assert_int_eq(cJSON_GetArraySize(series), 3); /* other/tag is not kept */
    const cJSON *ea = cJSON_GetObjectItem(series, "loss/epoch_average");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(ea, "epoch")), 4);
    ck_assert_double_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(ea, "epoch"), 3)->valuedouble, 4);
    const cJSON *loss = cJSON_GetObjectItem(series, "loss/current");
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(series, "lr/unet"));
    const cJSON *steps = cJSON_GetObjectItem(loss, "step"), *epochs = cJSON_GetObjectItem(loss, "epoch");
    const cJSON *values = cJSON_GetObjectItem(loss, "value");
    ck_assert_int_eq(cJSON_GetArraySize(steps), 100);
    for (int k = 0; k < 100; k++) {
        ck_assert_double_eq(cJSON_GetArrayItem(steps, k)->valuedouble, k + 1);
        ck_assert_double_eq_tol(cJSON_GetArrayItem(epochs, k)->valuedouble, (k + 1) / 25.0, 1e-12);
        ck_assert_double_eq_tol(cJSON_GetArrayItem(values, k)->valuedouble, 1.0 / (k + 1), 1e-6);
    }
    cJSON_Delete(doc);
    sr_sweep_free(&s);

    /* without ss_steps: batches per epoch over the gradient accumulation steps */
    const char *batches[] = {"ss_num_batches_per_epoch", "61", NULL};
    fx_write(d, "trial_0001/params.json", "{\"gradient_accumulation_steps\": 2}");
    fx_write_lora(d, "trial_0001/l-000002.safetensors", batches);
    scan_ok(d, &s);
    ck_assert_double_eq(find_trial(&s, "trial_0001")->steps_per_epoch, 31);
    sr_sweep_free(&s);
    free(ev);
    free(dir);
    test_rmtree(d);
    free(d);
}
END_TEST

/* ---- a synthetic sweep ---------------------------------------------------- */

START_TEST(test_synthetic_sweep)
{
    char *d = test_tmpdir("synth");
    char *sweep = sr_path_join(d, "sweep");
    sr_synth_opts o;
    sr_synth_defaults(&o);
    o.trials = 5;
    o.epochs = 6;
    o.save_every = 2;
    o.samples = 2;
    o.size = 32;
    o.rank = 1;
    char err[512];
    ck_assert_msg(sr_synth(sweep, &o, err, sizeof err) == 0, "%s", err);
    sr_sweep s;
    scan_ok(sweep, &s);
    ck_assert_uint_eq(s.n_trials, 5);
    size_t incomplete = 0, finals = 0, with_metrics = 0, with_samples = 0;
    for (size_t i = 0; i < s.n_trials; i++) {
        const sr_trial *t = &s.trials[i];
        ck_assert_ptr_nonnull(t->params);
        for (size_t j = 0; j < t->n_ckpts; j++) {
            const sr_checkpoint *c = &t->ckpts[j];
            incomplete += c->status == SR_CKPT_INCOMPLETE;
            finals += c->final;
            with_metrics += c->metrics.n > 0;
            with_samples += c->n_samples > 0;
            ck_assert_int_ge(c->epoch, 1);
            ck_assert_int_le(c->epoch, 6);
            if (c->status == SR_CKPT_OK) {
                ck_assert_str_eq(c->format, "lora");
                ck_assert_int_eq(c->meta.network_dim, 1);
                ck_assert_int_ge(c->step, 1);
            }
            if (c->n_samples)
                ck_assert_uint_eq(c->n_samples, 2);
        }
    }
    /* one running trial with a half-written newest checkpoint */
    ck_assert_uint_eq(incomplete, 1);
    const sr_trial *running = find_trial(&s, "trial_0005");
    ck_assert_int_eq(running->ckpts[running->n_ckpts - 1].status, SR_CKPT_INCOMPLETE);
    /* the failed and the running trial have no final model */
    ck_assert_uint_eq(finals, 3);
    for (size_t j = 0; j < find_trial(&s, "trial_0003")->n_ckpts; j++)
        ck_assert(!find_trial(&s, "trial_0003")->ckpts[j].final);
    /* metrics for some checkpoints only */
    ck_assert_uint_gt(with_metrics, 0);
    ck_assert_uint_lt(with_metrics, with_samples + 1);
    ck_assert_uint_lt(with_metrics, sr_sweep_count_checkpoints(&s));
    ck_assert_int_eq(count_problems(&s, ".safetensors", "incomplete"), 1);
    sr_sweep_free(&s);
    test_rmtree(d);
    free(sweep);
    free(d);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("scan");
    TCase *tc = tcase_create("scan");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_name_forms);
    tcase_add_test(tc, test_samples_and_metrics);
    tcase_add_test(tc, test_training_samples);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_missing_sweep);
    tcase_add_test(tc, test_json_contract);
    tcase_add_test(tc, test_study_join);
    tcase_add_test(tc, test_tensorboard_in_trial);
    tcase_add_test(tc, test_synthetic_sweep);
    suite_add_tcase(s, tc);
    return s;
}
