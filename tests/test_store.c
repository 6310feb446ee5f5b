/* test_store.c - measurement records: valid only for the same file and samples. */
#include "config.h"

#include "atomic_file.h"
#include "check_main.h"
#include "fixture.h"
#include "scan.h"
#include "store.h"
#include "util.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void scan_ok(const char *dir, sr_sweep *s)
{
    char err[512];
    ck_assert_msg(sr_scan(dir, s, err, sizeof err) == 0, "scan failed: %s", err);
}

static sr_checkpoint *first_ckpt(sr_sweep *s)
{
    ck_assert_uint_ge(s->n_trials, 1);
    ck_assert_uint_ge(s->trials[0].n_ckpts, 1);
    return &s->trials[0].ckpts[0];
}

/* A record of checkpoint c as it is now, with no metrics yet. */
static void record_of(const sr_checkpoint *c, sr_measurement *m)
{
    memset(m, 0, sizeof *m);
    m->ckpt_rel = xstrdup(c->rel_path);
    m->size = c->size;
    m->mtime_ns = c->mtime_ns;
    m->header_hash = c->header_hash;
    m->device = xstrdup("cpu");
    m->measured_at = xstrdup("2025-11-15T10:00:00");
}

/* Saves a record for the first checkpoint as the sweep is now. */
static void save_record(sr_sweep *s, double norm, double bright)
{
    sr_checkpoint *c = first_ckpt(s);
    sr_measurement m;
    record_of(c, &m);
    m.has_weights = 1;
    sr_metrics_set(&m.weights, "weight_delta_norm", norm);
    sr_metrics_set(&m.weights, "weight_nonfinite", 0);
    sr_metrics_set(&m.weights, "weight_drift", NAN);
    m.has_images = 1;
    m.samples_signature = sr_samples_signature(s->trials[0].path, c->samples, c->n_samples);
    sr_metrics_set(&m.images, "mean_brightness", bright);
    sr_metrics_set(&m.images, "mean_sharpness", 12.5);
    char err[256];
    ck_assert_msg(sr_store_save(s->path, &m, err, sizeof err) == 0, "%s", err);
    sr_measurement_free(&m);
}

START_TEST(test_record_round_trip)
{
    char *d = test_tmpdir("store");
    fx_write(d, "trial_0001/params.json", "{}");
    fx_write_lora(d, "trial_0001/l-000002.safetensors", NULL);
    fx_write_png(d, "trial_0001/realtime_evaluations/l-000002/sample_00.png", 2, 2, 1, 1, 1);
    sr_sweep s;
    scan_ok(d, &s);
    ck_assert(!first_ckpt(&s)->has_stored_weights);
    save_record(&s, 3.25, 0.4);
    char *rec = sr_store_record_path(s.path, "trial_0001/l-000002.safetensors");
    struct stat st;
    ck_assert_int_eq(stat(rec, &st), 0);
    ck_assert_ptr_nonnull(strstr(rec, "/.sweepreport/measurements/"));
    sr_sweep_free(&s);

    /* a rescan merges the record */
    scan_ok(d, &s);
    sr_checkpoint *c = first_ckpt(&s);
    ck_assert(c->has_stored_weights);
    ck_assert(c->has_stored_images);
    double v;
    ck_assert(sr_metrics_get(&c->metrics, "weight_delta_norm", &v) && v == 3.25);
    ck_assert(sr_metrics_get(&c->metrics, "mean_sharpness", &v) && v == 12.5);
    ck_assert(sr_metrics_get(&c->metrics, "weight_drift", &v) && isnan(v));
    sr_sweep_free(&s);

    /* an evaluator's metrics.json wins over the store */
    fx_write(d, "trial_0001/realtime_evaluations/l-000002/metrics.json", "{\"metrics\": {\"mean_brightness\": 0.9}}");
    scan_ok(d, &s);
    c = first_ckpt(&s);
    ck_assert(sr_metrics_get(&c->metrics, "mean_brightness", &v) && v == 0.9);
    ck_assert(c->has_stored_images); /* the samples themselves did not change */
    ck_assert(c->has_stored_weights);
    sr_sweep_free(&s);
    free(rec);
    test_rmtree(d);
    free(d);
}
END_TEST

/* The score shown is the score of the numbers shown: where an evaluator's
 * file gives some of the brightness and contrast but no pixar_score, the
 * measured pixar_score gives way to the formula over what is shown. */
START_TEST(test_pixar_score_of_what_is_shown)
{
    char *d = test_tmpdir("store-pixar");
    fx_write(d, "trial_0001/params.json", "{}");
    fx_write_lora(d, "trial_0001/l-000002.safetensors", NULL);
    fx_write_png(d, "trial_0001/realtime_evaluations/l-000002/sample_00.png", 2, 2, 1, 1, 1);
    sr_sweep s;
    scan_ok(d, &s);
    sr_checkpoint *c = first_ckpt(&s);
    sr_measurement m;
    record_of(c, &m);
    m.has_images = 1;
    m.samples_signature = sr_samples_signature(s.trials[0].path, c->samples, c->n_samples);
    sr_metrics_set(&m.images, "mean_brightness", 0.40);
    sr_metrics_set(&m.images, "std_brightness", 0.02);
    sr_metrics_set(&m.images, "mean_contrast", 0.25);
    sr_metrics_set(&m.images, "std_contrast", 0.04);
    sr_metrics_set(&m.images, "pixar_score", 0.75); /* not the formula's: tells where it came from */
    char err[256];
    ck_assert_msg(sr_store_save(s.path, &m, err, sizeof err) == 0, "%s", err);
    sr_measurement_free(&m);
    sr_sweep_free(&s);

    /* measured alone: the measured score */
    double v;
    scan_ok(d, &s);
    ck_assert(sr_metrics_get(&first_ckpt(&s)->metrics, "pixar_score", &v) && v == 0.75);
    sr_sweep_free(&s);

    /* the evaluator's brightness, the measured rest: |0.9 - 0.5| + 0.01 + |0.25 - 0.2| + 0.02 */
    fx_write(d, "trial_0001/realtime_evaluations/l-000002/metrics.json", "{\"metrics\": {\"mean_brightness\": 0.9}}");
    scan_ok(d, &s);
    c = first_ckpt(&s);
    ck_assert(sr_metrics_get(&c->metrics, "mean_brightness", &v) && v == 0.9);
    ck_assert(sr_metrics_get(&c->metrics, "std_contrast", &v) && v == 0.04);
    ck_assert(sr_metrics_get(&c->metrics, "pixar_score", &v));
    ck_assert_double_eq_tol(v, 0.4 + 0.01 + 0.05 + 0.02, 1e-12);
    sr_sweep_free(&s);

    /* an evaluator's NaN is "not known": the measured number and score stand */
    fx_write(d, "trial_0001/realtime_evaluations/l-000002/metrics.json", "{\"metrics\": {\"mean_brightness\": NaN}}");
    scan_ok(d, &s);
    c = first_ckpt(&s);
    ck_assert(sr_metrics_get(&c->metrics, "mean_brightness", &v) && v == 0.40);
    ck_assert(sr_metrics_get(&c->metrics, "pixar_score", &v) && v == 0.75);
    sr_sweep_free(&s);

    /* the evaluator's own pixar_score stays as it is */
    fx_write(d, "trial_0001/realtime_evaluations/l-000002/metrics.json",
             "{\"metrics\": {\"mean_brightness\": 0.9, \"pixar_score\": 0.3}}");
    scan_ok(d, &s);
    ck_assert(sr_metrics_get(&first_ckpt(&s)->metrics, "pixar_score", &v) && v == 0.3);
    sr_sweep_free(&s);
    test_rmtree(d);
    free(d);
}
END_TEST

/* A record of a file of which no module could be measured, as older
 * versions wrote it (norms of 0, a drift of 1): the scan keeps no norm and
 * no drift of it, keeps the rest, and names the file. */
START_TEST(test_unmeasurable_record)
{
    char *d = test_tmpdir("store-unmeasurable");
    fx_write(d, "trial_0001/params.json", "{}");
    fx_write_lora(d, "trial_0001/l-000002.safetensors", NULL);
    sr_sweep s;
    scan_ok(d, &s);
    sr_checkpoint *c = first_ckpt(&s);
    sr_measurement m;
    record_of(c, &m);
    m.has_weights = 1;
    sr_metrics_set(&m.weights, "weight_nonfinite", 0);
    sr_metrics_set(&m.weights, "weight_modules", 0);
    sr_metrics_set(&m.weights, "weight_modules_unmeasured", 3);
    sr_metrics_set(&m.weights, "weight_delta_norm", 0);
    sr_metrics_set(&m.weights, "weight_norm_unet_down", 0);
    sr_metrics_set(&m.weights, "weight_drift", 1);
    char err[256];
    ck_assert_msg(sr_store_save(s.path, &m, err, sizeof err) == 0, "%s", err);
    sr_measurement_free(&m);
    char *path = xstrdup(c->path);
    sr_sweep_free(&s);

    scan_ok(d, &s);
    c = first_ckpt(&s);
    double v;
    ck_assert(c->has_stored_weights);
    ck_assert(!sr_metrics_get(&c->metrics, "weight_delta_norm", &v));
    ck_assert(!sr_metrics_get(&c->metrics, "weight_norm_unet_down", &v));
    ck_assert(!sr_metrics_get(&c->metrics, "weight_drift", &v));
    ck_assert(sr_metrics_get(&c->metrics, "weight_modules_unmeasured", &v) && v == 3);
    ck_assert(sr_problems_has(&s.problems, path,
                              "weights not measured: not one of its modules is one the formulas cover (3 not measured; "
                              "inspect shows them)"));
    sr_sweep_free(&s);
    free(path);
    test_rmtree(d);
    free(d);
}
END_TEST

START_TEST(test_changed_files_are_stale)
{
    char *d = test_tmpdir("stale");
    fx_write(d, "trial_0001/params.json", "{}");
    fx_write_lora(d, "trial_0001/l-000002.safetensors", NULL);
    fx_write_png(d, "trial_0001/realtime_evaluations/l-000002/sample_00.png", 2, 2, 1, 1, 1);
    sr_sweep s;
    scan_ok(d, &s);
    save_record(&s, 1.0, 0.5);
    sr_sweep_free(&s);

    /* a new sample: the image metrics no longer apply, the weight metrics do */
    fx_write_png(d, "trial_0001/realtime_evaluations/l-000002/sample_01.png", 2, 2, 1, 1, 1);
    scan_ok(d, &s);
    ck_assert(first_ckpt(&s)->has_stored_weights);
    ck_assert(!first_ckpt(&s)->has_stored_images);
    double v;
    ck_assert(!sr_metrics_get(&first_ckpt(&s)->metrics, "mean_sharpness", &v));
    save_record(&s, 1.0, 0.5);
    sr_sweep_free(&s);

    /* the checkpoint is rewritten (new mtime): nothing applies */
    char *ck = sr_path_join(d, "trial_0001/l-000002.safetensors");
    struct timespec ts[2] = {{.tv_sec = 1000000000, .tv_nsec = 0}, {.tv_sec = 1000000000, .tv_nsec = 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, ck, ts, 0), 0);
    scan_ok(d, &s);
    ck_assert(!first_ckpt(&s)->has_stored_weights);
    ck_assert(!first_ckpt(&s)->has_stored_images);
    sr_sweep_free(&s);

    /* a corrupt record is a problem, never a crash, and counts as none */
    scan_ok(d, &s);
    char *rec = sr_store_record_path(s.path, first_ckpt(&s)->rel_path);
    sr_sweep_free(&s);
    ck_assert_int_eq(sr_write_file_atomic(rec, "{\"checkpoint\": 12", 17, SR_ATOMIC_REPLACE), 0);
    scan_ok(d, &s);
    ck_assert(!first_ckpt(&s)->has_stored_weights);
    int found = 0;
    for (size_t i = 0; i < s.problems.n; i++)
        found += strstr(s.problems.items[i].problem, "measured again") != NULL;
    ck_assert_int_eq(found, 1);
    sr_sweep_free(&s);
    free(rec);
    free(ck);
    test_rmtree(d);
    free(d);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_add_test(tc, test_record_round_trip);
    tcase_add_test(tc, test_pixar_score_of_what_is_shown);
    tcase_add_test(tc, test_unmeasurable_record);
    tcase_add_test(tc, test_changed_files_are_stale);
    suite_add_tcase(s, tc);
    return s;
}
