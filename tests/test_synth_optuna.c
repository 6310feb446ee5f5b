/* test_synth_optuna.c - the Optuna storage writer: schema, rows, checks, and
 * (where python3 has optuna) optuna.load_study on the result. */
#include "config.h"

#include "atomic_file.h"
#include "check_main.h"
#include "synth_optuna.h"
#include "util.h"

#include <dirent.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- the hand-made study --------------------------------------------------- */

#define N_TRIALS 5

typedef struct {
    sr_synth_optuna_trial t[N_TRIALS];
    cJSON *owned[3 * N_TRIALS];
    int n_owned;
} study;

static cJSON *own(study *s, cJSON *j)
{
    s->owned[s->n_owned++] = j;
    return j;
}

static void add_param(cJSON *params, cJSON *dists, const char *name, cJSON *value, cJSON *dist)
{
    cJSON_AddItemToObject(params, name, value);
    cJSON_AddItemToObject(dists, name, dist);
}

/* A LoRA search space: float(log), int(step), categorical strings, floats and ints. */
static void lora_params(study *s, int i, double lr, int dim, const char *opt, double alpha, int gas)
{
    static const char *const opts[] = {"AdamW8bit", "Lion", "Prodigy"};
    cJSON *p = own(s, cJSON_CreateObject()), *d = own(s, cJSON_CreateObject());
    add_param(p, d, "learning_rate", sr_synth_optuna_pyfloat(lr), sr_synth_optuna_float_dist(1e-5, 1e-3, 1));
    add_param(p, d, "network_dim", cJSON_CreateNumber(dim), sr_synth_optuna_int_dist(4, 32, 4));
    cJSON *choices = cJSON_CreateStringArray(opts, 3);
    add_param(p, d, "optimizer_type", cJSON_CreateString(opt), sr_synth_optuna_categorical_dist(choices));
    cJSON_Delete(choices);
    double a[] = {0.5, 1.0};
    cJSON_AddItemToObject(p, "network_alpha", sr_synth_optuna_pyfloat(alpha));
    sr_synth_optuna_add_categorical(d, "network_alpha", sr_synth_optuna_float_choices(a, 2));
    int g[] = {1, 2};
    cJSON_AddNumberToObject(p, "gradient_accumulation_steps", gas);
    sr_synth_optuna_add_categorical(d, "gradient_accumulation_steps", cJSON_CreateIntArray(g, 2));
    s->t[i].params = p;
    s->t[i].distributions = d;
}

static const double inter0[] = {0.5, 0.4, 0.3};
static double inter1[2];
static const double inter3[] = {0.2, 0.125};
static const double inter4[] = {0.7};

static void make_study(study *s)
{
    memset(s, 0, sizeof *s);
    inter1[0] = 0.6;
    inter1[1] = NAN;
    sr_synth_optuna_trial *t = s->t;
    t[0] = (sr_synth_optuna_trial){.number = 0, .state = "COMPLETE", .has_value = 1, .value = 0.25,
                                   .intermediate = inter0, .n_intermediate = 3,
                                   .datetime_start = "2025-11-15 08:00:00.000000",
                                   .datetime_complete = "2025-11-15 08:41:07.250000"};
    lora_params(s, 0, 3.2e-4, 8, "Lion", 0.5, 2);
    cJSON *ua = own(s, cJSON_CreateObject());
    cJSON_AddStringToObject(ua, "note", "h\xc3\xa9llo \"q\"\n\xf0\x9f\x98\x80");
    cJSON_AddItemToObject(ua, "mean_brightness", sr_synth_optuna_pyfloat(0.5));
    cJSON_AddNumberToObject(ua, "count", 3);
    cJSON *l = cJSON_AddArrayToObject(ua, "list");
    cJSON_AddItemToArray(l, cJSON_CreateNumber(1));
    cJSON_AddItemToArray(l, cJSON_CreateString("a"));
    cJSON_AddItemToArray(l, cJSON_CreateNull());
    cJSON_AddItemToArray(l, cJSON_CreateTrue());
    cJSON_AddNumberToObject(ua, "nan", NAN);
    t[0].user_attrs = ua;

    t[1] = (sr_synth_optuna_trial){.number = 1, .state = "PRUNED", .intermediate = inter1, .n_intermediate = 2,
                                   .datetime_start = "2025-11-15 08:42:00.000000",
                                   .datetime_complete = "2025-11-15 09:01:00.000000"};
    lora_params(s, 1, 1e-5, 4, "AdamW8bit", 1.0, 1);

    t[2] = (sr_synth_optuna_trial){.number = 2, .state = "FAIL", .datetime_start = "2025-11-15T09:02:00",
                                   .datetime_complete = "2025-11-15 09:02:30"};
    cJSON *p = own(s, cJSON_CreateObject()), *d = own(s, cJSON_CreateObject());
    add_param(p, d, "learning_rate", cJSON_CreateNumber(1e-3), sr_synth_optuna_float_dist(1e-5, 1e-3, 1));
    t[2].params = p;
    t[2].distributions = d;

    t[3] = (sr_synth_optuna_trial){.number = 3, .state = "COMPLETE", .has_value = 1, .value = 0.125,
                                   .intermediate = inter3, .n_intermediate = 2,
                                   .datetime_start = "2025-11-15 09:03:00.000000",
                                   .datetime_complete = "2025-11-15 09:50:00.000001"};
    lora_params(s, 3, 1.0000000000000002e-4, 32, "Prodigy", 1.0, 2);

    t[4] = (sr_synth_optuna_trial){.number = 4, .state = "RUNNING", .intermediate = inter4, .n_intermediate = 1,
                                   .datetime_start = "2025-11-15 09:51:00.000000"};
    lora_params(s, 4, 5.5e-4, 12, "Lion", 0.5, 1);
}

static void free_study(study *s)
{
    for (int i = 0; i < s->n_owned; i++)
        cJSON_Delete(s->owned[i]);
    s->n_owned = 0;
}

/* ---- helpers ---------------------------------------------------------------- */

static char *write_study(const char *dir, const char *name)
{
    study s;
    make_study(&s);
    char *db = sr_path_join(dir, name);
    char err[512];
    int rc = sr_synth_write_optuna(db, "luca_intermediate_checkpoint_study", "minimize", s.t, N_TRIALS, err,
                                   sizeof err);
    free_study(&s);
    ck_assert_msg(rc == 0, "%s", err);
    return db;
}

static sqlite3 *open_ro(const char *path)
{
    sqlite3 *db = NULL;
    ck_assert_msg(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "%s", path);
    return db;
}

/* The first column of the first row as text ("" for NULL); the caller frees. */
static char *query1(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
    ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "no row: %s", sql);
    const unsigned char *v = sqlite3_column_text(st, 0);
    char *out = xstrdup(v ? (const char *)v : "");
    sqlite3_finalize(st);
    return out;
}

static void expect_text(sqlite3 *db, const char *sql, const char *want)
{
    char *got = query1(db, sql);
    ck_assert_msg(strcmp(got, want) == 0, "%s\n  got:  %s\n  want: %s", sql, got, want);
    free(got);
}

static double query_double(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
    ck_assert_msg(sqlite3_step(st) == SQLITE_ROW, "no row: %s", sql);
    ck_assert_msg(sqlite3_column_type(st, 0) == SQLITE_FLOAT, "not REAL: %s", sql);
    double v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return v;
}

static char *slurp(const char *path, size_t *len)
{
    char *buf, err[256];
    ck_assert_msg(sr_read_file(path, 64u << 20, &buf, len, err, sizeof err) == 0, "%s: %s", path, err);
    return buf;
}

/* Number of entries in a folder besides . and .. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static const char *python(void)
{
    const char *p = getenv("SR_PYTHON");
    return p && *p ? p : "/usr/bin/python3";
}

static int have_optuna(void)
{
    char *cmd = xasprintf("'%s' -c 'import optuna' > /dev/null 2>&1", python());
    int rc = system(cmd);
    free(cmd);
    return rc == 0;
}

/* ---- tests ------------------------------------------------------------------- */

START_TEST(test_pyfloat)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {1e-5, "1e-05"},         {1e-3, "0.001"},       {2.0, "2.0"},          {0.0, "0.0"},
        {-0.0, "-0.0"},          {0.1, "0.1"},          {-0.5, "-0.5"},        {1.5e-7, "1.5e-07"},
        {1e-4, "0.0001"},        {1e15, "1000000000000000.0"},                 {1e16, "1e+16"},
        {123.456, "123.456"},    {5e-324, "5e-324"},    {1.7976931348623157e308, "1.7976931348623157e+308"},
        {0.30000000000000004, "0.30000000000000004"},   {3.2e-4, "0.00032"},   {12345678.9, "12345678.9"},
        {1.2345e20, "1.2345e+20"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *r = sr_synth_optuna_pyfloat(cases[i].v);
        ck_assert_msg(cJSON_IsRaw(r) && strcmp(r->valuestring, cases[i].want) == 0, "%.17g: got %s want %s",
                      cases[i].v, r->valuestring, cases[i].want);
        cJSON_Delete(r);
    }
}
END_TEST

START_TEST(test_schema)
{
    char *dir = test_tmpdir("optuna-schema");
    char *path = write_study(dir, "optuna_study.db");
    sqlite3 *db = open_ro(path);
    expect_text(db,
                "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'table' "
                "ORDER BY rowid)",
                "studies,version_info,study_directions,study_user_attributes,study_system_attributes,trials,"
                "trial_user_attributes,trial_system_attributes,trial_params,trial_values,"
                "trial_intermediate_values,trial_heartbeats,alembic_version");
    expect_text(db, "SELECT group_concat(name, ',') FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
                "ix_studies_study_name");
    expect_text(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index'", "11");
    expect_text(db, "SELECT sql FROM sqlite_master WHERE name = 'trials'",
                "CREATE TABLE trials (\n\ttrial_id INTEGER NOT NULL, \n\tnumber INTEGER, \n\tstudy_id INTEGER, "
                "\n\tstate VARCHAR(8) NOT NULL, \n\tdatetime_start DATETIME, \n\tdatetime_complete DATETIME, \n\t"
                "PRIMARY KEY (trial_id), \n\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n)");
    expect_text(db, "SELECT sql FROM sqlite_master WHERE name = 'alembic_version'",
                "CREATE TABLE alembic_version (\n\tversion_num VARCHAR(32) NOT NULL, \n\t"
                "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n)");
    expect_text(db, "SELECT version_num FROM alembic_version", "v3.0.0.d");
    expect_text(db, "SELECT version_info_id || '|' || schema_version || '|' || library_version FROM version_info",
                "1|12|3.1.0");
    expect_text(db, "SELECT study_id || '|' || study_name FROM studies", "1|luca_intermediate_checkpoint_study");
    expect_text(db, "SELECT direction || '|' || study_id || '|' || objective FROM study_directions",
                "MINIMIZE|1|0");
    expect_text(db, "PRAGMA page_size", "4096");
    expect_text(db, "PRAGMA integrity_check", "ok");
    expect_text(db, "SELECT count(*) FROM pragma_foreign_key_check", "0");
    sqlite3_close(db);
    free(path);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_rows)
{
    char *dir = test_tmpdir("optuna-rows");
    char *path = write_study(dir, "optuna_study.db");
    sqlite3 *db = open_ro(path);
    expect_text(db,
                "SELECT group_concat(trial_id || ':' || number || ':' || study_id || ':' || state || ':' || "
                "datetime_start || ':' || ifnull(datetime_complete, '-'), ' ') FROM (SELECT * FROM trials ORDER BY "
                "trial_id)",
                "1:0:1:COMPLETE:2025-11-15 08:00:00.000000:2025-11-15 08:41:07.250000 "
                "2:1:1:PRUNED:2025-11-15 08:42:00.000000:2025-11-15 09:01:00.000000 "
                "3:2:1:FAIL:2025-11-15 09:02:00.000000:2025-11-15 09:02:30.000000 "
                "4:3:1:COMPLETE:2025-11-15 09:03:00.000000:2025-11-15 09:50:00.000001 "
                "5:4:1:RUNNING:2025-11-15 09:51:00.000000:-");
    expect_text(db, "SELECT typeof(datetime_start) FROM trials WHERE trial_id = 1", "text");
    /* values: only where given */
    expect_text(db,
                "SELECT group_concat(trial_id || ':' || objective || ':' || value || ':' || value_type, ' ') FROM "
                "(SELECT * FROM trial_values ORDER BY trial_value_id)",
                "1:0:0.25:FINITE 4:0:0.125:FINITE");
    /* params: REAL, categorical as the index, distribution_json as Optuna writes it */
    expect_text(db, "SELECT count(*) FROM trial_params", "21");
    expect_text(db, "SELECT group_concat(t) FROM (SELECT DISTINCT typeof(param_value) AS t FROM trial_params)",
                "real");
    ck_assert(query_double(db, "SELECT param_value FROM trial_params WHERE trial_id = 1 AND param_name = "
                               "'learning_rate'") == 3.2e-4);
    ck_assert(query_double(db, "SELECT param_value FROM trial_params WHERE trial_id = 4 AND param_name = "
                               "'learning_rate'") == 1.0000000000000002e-4);
    ck_assert(query_double(db, "SELECT param_value FROM trial_params WHERE trial_id = 1 AND param_name = "
                               "'network_dim'") == 8.0);
    ck_assert(query_double(db, "SELECT param_value FROM trial_params WHERE trial_id = 4 AND param_name = "
                               "'optimizer_type'") == 2.0);
    ck_assert(query_double(db, "SELECT param_value FROM trial_params WHERE trial_id = 2 AND param_name = "
                               "'network_alpha'") == 1.0);
    ck_assert(query_double(db, "SELECT param_value FROM trial_params WHERE trial_id = 2 AND param_name = "
                               "'gradient_accumulation_steps'") == 0.0);
    expect_text(db, "SELECT group_concat(param_name, ',') FROM (SELECT param_name FROM trial_params WHERE "
                    "trial_id = 1 ORDER BY param_id)",
                "learning_rate,network_dim,optimizer_type,network_alpha,gradient_accumulation_steps");
    expect_text(db, "SELECT distribution_json FROM trial_params WHERE param_id = 1",
                "{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": null, \"low\": 1e-05, \"high\": "
                "0.001, \"log\": true}}");
    expect_text(db, "SELECT distribution_json FROM trial_params WHERE param_id = 2",
                "{\"name\": \"IntDistribution\", \"attributes\": {\"log\": false, \"step\": 4, \"low\": 4, "
                "\"high\": 32}}");
    expect_text(db, "SELECT distribution_json FROM trial_params WHERE param_id = 3",
                "{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": [\"AdamW8bit\", \"Lion\", "
                "\"Prodigy\"]}}");
    expect_text(db, "SELECT distribution_json FROM trial_params WHERE param_id = 4",
                "{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": [0.5, 1.0]}}");
    expect_text(db, "SELECT distribution_json FROM trial_params WHERE param_id = 5",
                "{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": [1, 2]}}");
    /* intermediate values: step = index + 1, NaN as NULL + NAN */
    expect_text(db,
                "SELECT group_concat(trial_id || ':' || step || ':' || ifnull(intermediate_value, 'NULL') || ':' || "
                "intermediate_value_type, ' ') FROM (SELECT * FROM trial_intermediate_values ORDER BY "
                "trial_intermediate_value_id)",
                "1:1:0.5:FINITE 1:2:0.4:FINITE 1:3:0.3:FINITE 2:1:0.6:FINITE 2:2:NULL:NAN 4:1:0.2:FINITE "
                "4:2:0.125:FINITE 5:1:0.7:FINITE");
    /* user attributes: JSON as Python writes it */
    expect_text(db,
                "SELECT group_concat(trial_id || ':' || \"key\" || '=' || value_json, ' | ') FROM (SELECT * FROM "
                "trial_user_attributes ORDER BY trial_user_attribute_id)",
                "1:note=\"h\\u00e9llo \\\"q\\\"\\n\\ud83d\\ude00\" | 1:mean_brightness=0.5 | 1:count=3 | "
                "1:list=[1, \"a\", null, true] | 1:nan=NaN");
    expect_text(db, "SELECT count(*) FROM trial_system_attributes", "0");
    expect_text(db, "SELECT count(*) FROM study_user_attributes", "0");
    expect_text(db, "SELECT count(*) FROM study_system_attributes", "0");
    expect_text(db, "SELECT count(*) FROM trial_heartbeats", "0");
    sqlite3_close(db);
    free(path);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_deterministic_and_atomic)
{
    char *dir = test_tmpdir("optuna-det");
    char *a = write_study(dir, "a.db");
    char *b = write_study(dir, "b.db");
    size_t na, nb;
    char *da = slurp(a, &na), *db = slurp(b, &nb);
    ck_assert_msg(na == nb && memcmp(da, db, na) == 0, "two writes differ");
    ck_assert_uint_eq(na % 4096, 0);
    free(db);
    /* Replacing an existing file, and nothing else left in the folder. */
    ck_assert_int_eq(sr_write_file_atomic(b, "old", 3, SR_ATOMIC_REPLACE), 0);
    free(write_study(dir, "b.db"));
    db = slurp(b, &nb);
    ck_assert_msg(na == nb && memcmp(da, db, na) == 0, "the old file was not replaced");
    ck_assert_int_eq(count_entries(dir), 2);
    free(da);
    free(db);
    free(a);
    free(b);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_infinite_values)
{
    char *dir = test_tmpdir("optuna-inf");
    char *path = sr_path_join(dir, "inf.db");
    double iv[] = {INFINITY, -INFINITY};
    sr_synth_optuna_trial t[2] = {
        {.number = 0, .state = "COMPLETE", .has_value = 1, .value = INFINITY, .intermediate = iv,
         .n_intermediate = 2, .datetime_start = "2025-11-15 08:00:00", .datetime_complete = "2025-11-15 08:00:01"},
        {.number = 1, .state = "PRUNED", .has_value = 1, .value = -INFINITY,
         .datetime_start = "2025-11-15 08:00:02", .datetime_complete = "2025-11-15 08:00:03"},
    };
    char err[512];
    ck_assert_msg(sr_synth_write_optuna(path, "s", "MAXIMIZE", t, 2, err, sizeof err) == 0, "%s", err);
    sqlite3 *db = open_ro(path);
    expect_text(db, "SELECT direction FROM study_directions", "MAXIMIZE");
    expect_text(db,
                "SELECT group_concat(ifnull(value, 'NULL') || ':' || value_type, ' ') FROM (SELECT * FROM "
                "trial_values ORDER BY trial_value_id)",
                "NULL:INF_POS NULL:INF_NEG");
    expect_text(db,
                "SELECT group_concat(ifnull(intermediate_value, 'NULL') || ':' || intermediate_value_type, ' ') "
                "FROM (SELECT * FROM trial_intermediate_values ORDER BY step)",
                "NULL:INF_POS NULL:INF_NEG");
    expect_text(db, "SELECT count(*) FROM trial_params", "0");
    sqlite3_close(db);
    /* An empty study is a valid study too. */
    ck_assert_msg(sr_synth_write_optuna(path, "s", "minimize", NULL, 0, err, sizeof err) == 0, "%s", err);
    free(path);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* Each broken study is refused with a reason, and leaves nothing behind. */
START_TEST(test_refusals)
{
    char *dir = test_tmpdir("optuna-bad");
    char *path = sr_path_join(dir, "optuna_study.db");
    char err[512];
    for (int c = 0; c < 12; c++) {
        study s;
        make_study(&s);
        const char *dirn = "minimize", *name = "study", *want = NULL;
        cJSON *p3 = (cJSON *)s.t[3].params, *d3 = (cJSON *)s.t[3].distributions;
        switch (c) {
        case 0: s.t[0].has_value = 0; want = "a complete trial needs a value"; break;
        case 1: cJSON_ReplaceItemInObject(p3, "optimizer_type", cJSON_CreateString("SGD"));
                want = "\"SGD\" is not one of the choices"; break;
        case 2: cJSON_ReplaceItemInObject(p3, "learning_rate", cJSON_CreateNumber(0.5));
                want = "the value 0.5 is outside its distribution"; break;
        case 3: cJSON_ReplaceItemInObject(p3, "network_dim", cJSON_CreateNumber(10));
                want = "outside its distribution"; break;
        case 4: cJSON_DeleteItemFromObject(d3, "network_dim"); want = "'network_dim' has no distribution"; break;
        case 5: cJSON_DeleteItemFromObject(p3, "network_dim"); want = "distribution 'network_dim' has no parameter";
                break;
        case 6: s.t[1].datetime_start = "2025-11-15 08:42"; want = "datetime_start"; break;
        case 7: s.t[4].datetime_complete = "2025-11-15 10:00:00"; want = "a running trial has no datetime_complete";
                break;
        case 8: s.t[4].number = 0; want = "trial number 0 appears twice"; break;
        case 9: dirn = "up"; want = "direction"; break;
        case 10: s.t[2].state = "WAITING"; want = "unknown state 'WAITING'"; break;
        case 11: cJSON_ReplaceItemInObject(d3, "learning_rate", sr_synth_optuna_float_dist(1e-3, 1e-5, 0));
                 want = "low > high"; break;
        }
        int rc = sr_synth_write_optuna(path, name, dirn, s.t, N_TRIALS, err, sizeof err);
        free_study(&s);
        ck_assert_msg(rc == -1, "case %d was accepted", c);
        ck_assert_msg(strstr(err, want) && strstr(err, path), "case %d: %s", c, err);
        ck_assert_msg(count_entries(dir) == 0, "case %d left a file", c);
    }
    free(path);
    test_rmtree(dir);
    free(dir);
}
END_TEST

static const char load_script[] =
    "import math, sys, datetime\n"
    "import optuna\n"
    "optuna.logging.set_verbosity(optuna.logging.WARNING)\n"
    "S = optuna.trial.TrialState\n"
    "st = optuna.load_study(study_name='luca_intermediate_checkpoint_study', storage='sqlite:///' + sys.argv[1])\n"
    "assert st.direction == optuna.study.StudyDirection.MINIMIZE\n"
    "ts = st.get_trials(deepcopy=False)\n"
    "assert [t.number for t in ts] == [0, 1, 2, 3, 4], ts\n"
    "assert [t.state for t in ts] == [S.COMPLETE, S.PRUNED, S.FAIL, S.COMPLETE, S.RUNNING]\n"
    "assert [t.value for t in ts] == [0.25, None, None, 0.125, None]\n"
    "p = ts[0].params\n"
    "assert p == {'learning_rate': 3.2e-4, 'network_dim': 8, 'optimizer_type': 'Lion', 'network_alpha': 0.5,\n"
    "             'gradient_accumulation_steps': 2}, p\n"
    "assert {k: type(v) for k, v in p.items()} == {'learning_rate': float, 'network_dim': int,\n"
    "    'optimizer_type': str, 'network_alpha': float, 'gradient_accumulation_steps': int}\n"
    "assert ts[3].params['learning_rate'] == 1.0000000000000002e-4\n"
    "assert ts[3].params['optimizer_type'] == 'Prodigy' and ts[3].params['network_dim'] == 32\n"
    "assert ts[2].params == {'learning_rate': 1e-3}\n"
    "d = ts[0].distributions\n"
    "assert d['learning_rate'] == optuna.distributions.FloatDistribution(1e-5, 1e-3, log=True)\n"
    "assert d['network_dim'] == optuna.distributions.IntDistribution(4, 32, step=4)\n"
    "assert d['optimizer_type'] == optuna.distributions.CategoricalDistribution(['AdamW8bit', 'Lion', 'Prodigy'])\n"
    "assert ts[0].intermediate_values == {1: 0.5, 2: 0.4, 3: 0.3}\n"
    "iv = ts[1].intermediate_values\n"
    "assert iv[1] == 0.6 and math.isnan(iv[2])\n"
    "assert ts[4].intermediate_values == {1: 0.7}\n"
    "ua = ts[0].user_attrs\n"
    "assert ua['note'] == 'h\\u00e9llo \"q\"\\n\\U0001F600' and ua['mean_brightness'] == 0.5\n"
    "assert ua['count'] == 3 and ua['list'] == [1, 'a', None, True] and math.isnan(ua['nan'])\n"
    "assert ts[0].datetime_start == datetime.datetime(2025, 11, 15, 8, 0, 0)\n"
    "assert ts[0].datetime_complete == datetime.datetime(2025, 11, 15, 8, 41, 7, 250000)\n"
    "assert ts[2].datetime_complete == datetime.datetime(2025, 11, 15, 9, 2, 30)\n"
    "assert ts[4].datetime_complete is None\n"
    "for t in ts:\n"
    "    t._validate()\n"
    "assert st.best_trial.number == 3 and st.best_value == 0.125\n"
    "assert st.best_params['optimizer_type'] == 'Prodigy'\n"
    "names = [s.study_name for s in optuna.get_all_study_summaries('sqlite:///' + sys.argv[1])]\n"
    "assert names == ['luca_intermediate_checkpoint_study'], names\n"
    "print('optuna', optuna.__version__, 'loaded', len(ts), 'trials')\n";

START_TEST(test_optuna_loads_it)
{
    if (!have_optuna()) {
        fprintf(stderr, "# %s has no optuna module: optuna.load_study not tried\n", python());
        return;
    }
    char *dir = test_tmpdir("optuna-load");
    char *path = write_study(dir, "optuna_study.db");
    char *script = sr_path_join(dir, "load.py");
    ck_assert_int_eq(sr_write_file_atomic(script, load_script, strlen(load_script), SR_ATOMIC_REPLACE), 0);
    char *cmd = xasprintf("'%s' '%s' '%s' 1>&2", python(), script, path);
    int rc = system(cmd);
    ck_assert_msg(rc == 0, "optuna.load_study and its checks failed (status %d)", rc);
    free(cmd);
    free(script);
    free(path);
    test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("synth_optuna");
    TCase *tc = tcase_create("writer");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_pyfloat);
    tcase_add_test(tc, test_schema);
    tcase_add_test(tc, test_rows);
    tcase_add_test(tc, test_deterministic_and_atomic);
    tcase_add_test(tc, test_infinite_values);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_optuna_loads_it);
    suite_add_tcase(s, tc);
    return s;
}
