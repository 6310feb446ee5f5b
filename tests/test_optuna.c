/* test_optuna.c - reading Optuna studies and joining trial folders to them. */
#include "config.h"

#include "atomic_file.h"
#include "check_main.h"
#include "json.h"
#include "optuna.h"
#include "optuna_join.h"
#include "problems.h"
#include "util.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The schema Optuna 3.1 creates (alembic v3.0.0.d); later 3.x-5.0 storages
 * have the same tables and columns. */
static const char SCHEMA[] =
    "CREATE TABLE studies (study_id INTEGER NOT NULL, study_name VARCHAR(512) NOT NULL, PRIMARY KEY (study_id));"
    "CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name);"
    "CREATE TABLE version_info (version_info_id INTEGER NOT NULL, schema_version INTEGER, "
    "  library_version VARCHAR(256), PRIMARY KEY (version_info_id), CHECK (version_info_id=1));"
    "CREATE TABLE study_directions (study_direction_id INTEGER NOT NULL, direction VARCHAR(8) NOT NULL, "
    "  study_id INTEGER NOT NULL, objective INTEGER NOT NULL, PRIMARY KEY (study_direction_id), "
    "  UNIQUE (study_id, objective), FOREIGN KEY(study_id) REFERENCES studies (study_id));"
    "CREATE TABLE study_user_attributes (study_user_attribute_id INTEGER NOT NULL, study_id INTEGER, "
    "  \"key\" VARCHAR(512), value_json TEXT, PRIMARY KEY (study_user_attribute_id), UNIQUE (study_id, \"key\"));"
    "CREATE TABLE study_system_attributes (study_system_attribute_id INTEGER NOT NULL, study_id INTEGER, "
    "  \"key\" VARCHAR(512), value_json TEXT, PRIMARY KEY (study_system_attribute_id), UNIQUE (study_id, \"key\"));"
    "CREATE TABLE trials (trial_id INTEGER NOT NULL, number INTEGER, study_id INTEGER, state VARCHAR(8) NOT NULL, "
    "  datetime_start DATETIME, datetime_complete DATETIME, PRIMARY KEY (trial_id), "
    "  FOREIGN KEY(study_id) REFERENCES studies (study_id));"
    "CREATE TABLE trial_user_attributes (trial_user_attribute_id INTEGER NOT NULL, trial_id INTEGER, "
    "  \"key\" VARCHAR(512), value_json TEXT, PRIMARY KEY (trial_user_attribute_id), UNIQUE (trial_id, \"key\"));"
    "CREATE TABLE trial_system_attributes (trial_system_attribute_id INTEGER NOT NULL, trial_id INTEGER, "
    "  \"key\" VARCHAR(512), value_json TEXT, PRIMARY KEY (trial_system_attribute_id), UNIQUE (trial_id, \"key\"));"
    "CREATE TABLE trial_params (param_id INTEGER NOT NULL, trial_id INTEGER, param_name VARCHAR(512), "
    "  param_value FLOAT, distribution_json TEXT, PRIMARY KEY (param_id), UNIQUE (trial_id, param_name));"
    "CREATE TABLE trial_values (trial_value_id INTEGER NOT NULL, trial_id INTEGER NOT NULL, objective INTEGER NOT NULL, "
    "  value FLOAT, value_type VARCHAR(7) NOT NULL, PRIMARY KEY (trial_value_id), UNIQUE (trial_id, objective));"
    "CREATE TABLE trial_intermediate_values (trial_intermediate_value_id INTEGER NOT NULL, trial_id INTEGER NOT NULL, "
    "  step INTEGER NOT NULL, intermediate_value FLOAT, intermediate_value_type VARCHAR(7) NOT NULL, "
    "  PRIMARY KEY (trial_intermediate_value_id), UNIQUE (trial_id, step));"
    "CREATE TABLE trial_heartbeats (trial_heartbeat_id INTEGER NOT NULL, trial_id INTEGER NOT NULL, "
    "  heartbeat DATETIME NOT NULL, PRIMARY KEY (trial_heartbeat_id), UNIQUE (trial_id));"
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, PRIMARY KEY (version_num));"
    "INSERT INTO alembic_version VALUES ('v3.0.0.d');"
    "INSERT INTO version_info VALUES (1, 12, '3.1.0');";

#define D_LR "{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": null, \"low\": 1e-05, \"high\": 0.001, \"log\": true}}"
#define D_DIM "{\"name\": \"IntDistribution\", \"attributes\": {\"log\": false, \"step\": 4, \"low\": 4, \"high\": 64}}"
#define D_OPT "{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": [\"AdamW\", \"Lion\", \"Prodigy\"]}}"
#define D_FLAG "{\"name\": \"CategoricalDistribution\", \"attributes\": {\"choices\": [true, false, null, 3]}}"

static void exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    ck_assert_msg(rc == SQLITE_OK, "SQL failed (%s): %s", msg ? msg : "?", sql);
    sqlite3_free(msg);
}

static sqlite3 *db_open_rw(const char *path)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* A fresh storage with the Optuna schema and the given rows. */
static char *make_db(const char *dir, const char *file, const char *journal_mode, const char *rows)
{
    char *path = sr_path_join(dir, file);
    unlink(path);
    sqlite3 *db = db_open_rw(path);
    if (journal_mode) {
        char *sql = xasprintf("PRAGMA journal_mode = %s;", journal_mode);
        exec_sql(db, sql);
        free(sql);
    }
    exec_sql(db, SCHEMA);
    if (rows)
        exec_sql(db, rows);
    sqlite3_close(db);
    return path;
}

static int has_problem(const sr_problems *p, const char *needle)
{
    for (size_t i = 0; i < p->n; i++)
        if (strstr(p->items[i].problem, needle))
            return 1;
    return 0;
}

static void dump_problems(const sr_problems *p)
{
    for (size_t i = 0; i < p->n; i++)
        fprintf(stderr, "  problem: %s: %s\n", p->items[i].path, p->items[i].problem);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void copy_file(const char *from, const char *to)
{
    char err[256];
    char *data = NULL;
    size_t len = 0;
    ck_assert_msg(sr_read_file(from, 1u << 26, &data, &len, err, sizeof err) == 0, "%s: %s", from, err);
    FILE *f = fopen(to, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    free(data);
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------------- */

static const char FULL_ROWS[] =
    "INSERT INTO studies VALUES (1, 'luca_intermediate_checkpoint_study');"
    "INSERT INTO study_directions VALUES (1, 'MAXIMIZE', 1, 0);"
    /* ids and numbers out of step, rows out of order: sorting is by number */
    "INSERT INTO trials VALUES (1, 0, 1, 'COMPLETE', '2025-11-15 10:45:12.123456', '2025-11-15 11:45:12.654321');"
    "INSERT INTO trials VALUES (2, 1, 1, 'PRUNED', '2025-11-15 11:50:00.000001', '2025-11-15 12:00:00.000002');"
    "INSERT INTO trials VALUES (3, 2, 1, 'FAIL', '2025-11-15 12:01:00.000000', '2025-11-15 12:02:00.000000');"
    "INSERT INTO trials VALUES (4, 3, 1, 'COMPLETE', '2025-11-15 12:03:00.000000', '2025-11-15 12:04:00.000000');"
    "INSERT INTO trials VALUES (6, 4, 1, 'RUNNING', '2025-11-15 12:05:00.000000', NULL);"
    "INSERT INTO trials VALUES (5, 5, 1, 'WAITING', NULL, NULL);"
    "INSERT INTO trials VALUES (7, 6, 1, 'COMPLETE', '2025-11-15 12:06:00.000000', '2025-11-15 12:07:00.000000');"
    "INSERT INTO trial_values VALUES (1, 1, 0, 0.25, 'FINITE');"
    "INSERT INTO trial_values VALUES (2, 2, 0, 0.5, 'FINITE');"
    "INSERT INTO trial_values VALUES (3, 4, 0, NULL, 'INF_POS');"
    "INSERT INTO trial_values VALUES (4, 7, 0, NULL, 'INF_NEG');"
    "INSERT INTO trial_params VALUES (1, 1, 'learning_rate', 6.3429658062592e-05, '" D_LR "');"
    "INSERT INTO trial_params VALUES (2, 1, 'network_dim', 32.0, '" D_DIM "');"
    "INSERT INTO trial_params VALUES (3, 1, 'optimizer', 1.0, '" D_OPT "');"
    "INSERT INTO trial_params VALUES (4, 1, 'flag', 0.0, '" D_FLAG "');"
    "INSERT INTO trial_params VALUES (5, 2, 'optimizer', 2.0, '" D_OPT "');"
    "INSERT INTO trial_params VALUES (6, 2, 'flag', 2.0, '" D_FLAG "');"
    "INSERT INTO trial_params VALUES (7, 4, 'flag', 3.0, '" D_FLAG "');"
    "INSERT INTO trial_params VALUES (8, 4, 'network_dim', 28.0, '" D_DIM "');"
    "INSERT INTO trial_params VALUES (9, 6, 'optimizer', 7.0, '" D_OPT "');"
    "INSERT INTO trial_params VALUES (10, 6, 'learning_rate', 0.0005, '{\"name\": \"FloatDistribution\", \"attr');"
    "INSERT INTO trial_params VALUES (11, 7, 'flag', 1.0, '" D_FLAG "');"
    "INSERT INTO trial_intermediate_values VALUES (1, 1, 2, 0.3, 'FINITE');"
    "INSERT INTO trial_intermediate_values VALUES (2, 1, 0, NULL, 'NAN');"
    "INSERT INTO trial_intermediate_values VALUES (3, 1, 1, NULL, 'INF_NEG');"
    "INSERT INTO trial_intermediate_values VALUES (4, 2, 5, 0.125, 'FINITE');"
    "INSERT INTO trial_user_attributes VALUES (1, 1, 'lpips_diversity', 'NaN');"
    "INSERT INTO trial_user_attributes VALUES (2, 1, 'note', '{\"a\": [1, 2], \"inf\": -Infinity, \"s\": \"NaN\"}');"
    "INSERT INTO trial_user_attributes VALUES (3, 1, 'mean_brightness', '0.528');"
    "INSERT INTO trial_user_attributes VALUES (4, 2, 'broken', '{oops');";

START_TEST(test_sqlite_full)
{
    char *dir = test_tmpdir("optuna-full");
    char *db = make_db(dir, "optuna_study.db", NULL, FULL_ROWS);
    struct stat before;
    ck_assert_int_eq(stat(db, &before), 0);

    sr_problems p;
    sr_problems_init(&p);
    sr_study s;
    char err[512];
    int rc = sr_study_load_sqlite(db, NULL, &s, &p, err, sizeof err);
    ck_assert_msg(rc == 0, "load failed: %s", err);
    dump_problems(&p);
    ck_assert_str_eq(s.name, "luca_intermediate_checkpoint_study");
    ck_assert_str_eq(s.direction, "MAXIMIZE");
    ck_assert_str_eq(s.source, db);
    ck_assert_uint_eq(s.n_trials, 7);
    for (size_t i = 0; i < s.n_trials; i++)
        ck_assert_int_eq(s.trials[i].number, (int)i);

    const sr_optuna_trial *t = &s.trials[0];
    ck_assert_int_eq(t->trial_id, 1);
    ck_assert_str_eq(t->state, "COMPLETE");
    ck_assert(t->has_value);
    ck_assert_double_eq(t->value, 0.25);
    ck_assert_str_eq(t->datetime_start, "2025-11-15 10:45:12.123456");
    ck_assert_str_eq(t->datetime_complete, "2025-11-15 11:45:12.654321");
    ck_assert_double_eq(sr_json_number(t->params, "learning_rate"), 6.3429658062592e-05);
    ck_assert_double_eq(sr_json_number(t->params, "network_dim"), 32);
    ck_assert_str_eq(sr_json_string(t->params, "optimizer"), "Lion");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(t->params, "flag")));
    const cJSON *d = cJSON_GetObjectItem(t->distributions, "learning_rate");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "attributes"), "log")));
    ck_assert_str_eq(sr_json_string(cJSON_GetObjectItem(t->distributions, "optimizer"), "name"),
                     "CategoricalDistribution");
    ck_assert_int_eq(cJSON_GetArraySize(t->distributions), 4);
    /* intermediate values sorted by step, NaN and -inf kept */
    ck_assert_uint_eq(t->n_intermediate, 3);
    ck_assert_int_eq(t->intermediate[0].step, 0);
    ck_assert(isnan(t->intermediate[0].value));
    ck_assert_int_eq(t->intermediate[1].step, 1);
    ck_assert(isinf(t->intermediate[1].value) && t->intermediate[1].value < 0);
    ck_assert_int_eq(t->intermediate[2].step, 2);
    ck_assert_double_eq(t->intermediate[2].value, 0.3);
    /* user attributes: NaN and -Infinity are numbers, text stays text */
    ck_assert(isnan(sr_json_number(t->user_attrs, "lpips_diversity")));
    ck_assert_double_eq(sr_json_number(t->user_attrs, "mean_brightness"), 0.528);
    const cJSON *note = cJSON_GetObjectItem(t->user_attrs, "note");
    ck_assert(isinf(sr_json_number(note, "inf")));
    ck_assert_str_eq(sr_json_string(note, "s"), "NaN");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(note, "a")), 2);

    t = &s.trials[1];
    ck_assert_str_eq(t->state, "PRUNED");
    ck_assert(t->has_value);
    ck_assert_double_eq(t->value, 0.5);
    ck_assert_str_eq(sr_json_string(t->params, "optimizer"), "Prodigy");
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(t->params, "flag")));
    ck_assert_uint_eq(t->n_intermediate, 1);
    ck_assert(cJSON_IsString(cJSON_GetObjectItem(t->user_attrs, "broken")));
    ck_assert(has_problem(&p, "trial 1: user attribute broken"));

    t = &s.trials[2];
    ck_assert_str_eq(t->state, "FAIL");
    ck_assert(!t->has_value);
    ck_assert_int_eq(cJSON_GetArraySize(t->params), 0);

    t = &s.trials[3];
    ck_assert(t->has_value && isinf(t->value) && t->value > 0);
    ck_assert_double_eq(sr_json_number(t->params, "flag"), 3); /* a number among the choices */
    ck_assert_double_eq(sr_json_number(t->params, "network_dim"), 28);

    t = &s.trials[4];
    ck_assert_str_eq(t->state, "RUNNING");
    ck_assert_int_eq(t->trial_id, 6);
    ck_assert(!t->has_value);
    ck_assert_ptr_null(t->datetime_complete);
    /* index out of range and a broken distribution: raw values kept */
    ck_assert_double_eq(sr_json_number(t->params, "optimizer"), 7);
    ck_assert_double_eq(sr_json_number(t->params, "learning_rate"), 0.0005);
    ck_assert_ptr_null(cJSON_GetObjectItem(t->distributions, "learning_rate"));
    ck_assert(has_problem(&p, "trial 4: parameter optimizer: categorical index 7 out of range (3 choices)"));
    ck_assert(has_problem(&p, "trial 4: parameter learning_rate: broken distribution_json"));

    t = &s.trials[5];
    ck_assert_str_eq(t->state, "WAITING");
    ck_assert_ptr_null(t->datetime_start);

    t = &s.trials[6];
    ck_assert(t->has_value && isinf(t->value) && t->value < 0);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(t->params, "flag")));
    ck_assert_ptr_nonnull(sr_study_find_trial(&s, 6));
    ck_assert_ptr_null(sr_study_find_trial(&s, 7));
    ck_assert_uint_eq(p.n, 3);
    for (size_t i = 0; i < p.n; i++)
        ck_assert_str_eq(p.items[i].path, db);

    /* read only: nothing written, no journal left behind */
    struct stat after;
    ck_assert_int_eq(stat(db, &after), 0);
    ck_assert_int_eq(after.st_size, before.st_size);
    ck_assert(after.st_mtim.tv_sec == before.st_mtim.tv_sec && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
    char *journal = xasprintf("%s-journal", db);
    ck_assert(!file_exists(journal));
    free(journal);

    sr_study_free(&s);
    sr_study_free(&s); /* harmless twice */
    sr_problems_free(&p);
    test_rmtree(dir);
    free(db);
    free(dir);
}
END_TEST

START_TEST(test_sqlite_studies)
{
    char *dir = test_tmpdir("optuna-studies");
    char *db = make_db(dir, "s.db", NULL,
                       "INSERT INTO studies VALUES (1, 'a'), (2, 'b'), (3, 'c');"
                       "INSERT INTO study_directions VALUES (1, 'MINIMIZE', 1, 0), (2, 'MAXIMIZE', 2, 0),"
                       "  (3, 'MINIMIZE', 3, 0), (4, 'MAXIMIZE', 3, 1);"
                       "INSERT INTO trials VALUES (1, 0, 1, 'COMPLETE', NULL, NULL), (2, 0, 2, 'COMPLETE', NULL, NULL),"
                       "  (3, 1, 2, 'FAIL', NULL, NULL), (4, 0, 3, 'COMPLETE', NULL, NULL);"
                       "INSERT INTO trial_values VALUES (1, 1, 0, 1.0, 'FINITE'), (2, 2, 0, 2.0, 'FINITE'),"
                       "  (3, 4, 1, 9.0, 'FINITE'), (4, 4, 0, 3.0, 'FINITE');");
    sr_problems p;
    sr_problems_init(&p);
    sr_study s;
    char err[512];

    ck_assert_int_eq(sr_study_load_sqlite(db, NULL, &s, &p, err, sizeof err), -1);
    ck_assert_str_eq(err, "3 studies in this file: a, b, c; choose one with --study-name");
    ck_assert_ptr_null(s.trials);
    ck_assert_ptr_null(s.name);

    ck_assert_int_eq(sr_study_load_sqlite(db, "nope", &s, &p, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "no study named \"nope\"") && strstr(err, "a, b, c"), "%s", err);

    ck_assert_int_eq(sr_study_load_sqlite(db, "b", &s, &p, err, sizeof err), 0);
    ck_assert_str_eq(s.name, "b");
    ck_assert_str_eq(s.direction, "MAXIMIZE");
    ck_assert_uint_eq(s.n_trials, 2);
    ck_assert_int_eq(s.trials[0].trial_id, 2);
    ck_assert_double_eq(s.trials[0].value, 2.0);
    ck_assert(!s.trials[1].has_value);
    sr_study_free(&s);
    ck_assert_uint_eq(p.n, 0);

    /* two objectives: the first is read, and that is said */
    ck_assert_int_eq(sr_study_load_sqlite(db, "c", &s, &p, err, sizeof err), 0);
    ck_assert_double_eq(s.trials[0].value, 3.0);
    ck_assert(has_problem(&p, "2 objectives"));
    sr_study_free(&s);

    /* no study at all */
    char *empty = make_db(dir, "none.db", NULL, NULL);
    ck_assert_int_eq(sr_study_load_sqlite(empty, NULL, &s, &p, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "no study"), "%s", err);

    /* the only study is taken without a name */
    char *one = make_db(dir, "one.db", NULL, "INSERT INTO studies VALUES (5, 'solo');");
    ck_assert_int_eq(sr_study_load_sqlite(one, NULL, &s, &p, err, sizeof err), 0);
    ck_assert_str_eq(s.name, "solo");
    ck_assert_uint_eq(s.n_trials, 0);
    ck_assert(has_problem(&p, "study solo has no direction"));
    ck_assert_str_eq(s.direction, "MINIMIZE");
    sr_study_free(&s);

    sr_problems_free(&p);
    test_rmtree(dir);
    free(one);
    free(empty);
    free(db);
    free(dir);
}
END_TEST

START_TEST(test_sqlite_locked)
{
    char *dir = test_tmpdir("optuna-locked");
    char *db = make_db(dir, "locked.db", "DELETE",
                       "INSERT INTO studies VALUES (1, 'a'); INSERT INTO study_directions VALUES (1, 'MINIMIZE', 1, 0);"
                       "INSERT INTO trials VALUES (1, 0, 1, 'RUNNING', NULL, NULL);");
    sqlite3 *writer = db_open_rw(db);
    exec_sql(writer, "BEGIN EXCLUSIVE; INSERT INTO trials VALUES (2, 1, 1, 'RUNNING', NULL, NULL);");

    sr_problems p;
    sr_problems_init(&p);
    sr_study s;
    char err[512];
    double t0 = now_s();
    ck_assert_int_eq(sr_study_load_sqlite(db, NULL, &s, &p, err, sizeof err), -1);
    double waited = now_s() - t0;
    ck_assert_msg(strstr(err, "database is locked by another process"), "%s", err);
    ck_assert_msg(waited >= 1.0 && waited < 10.0, "waited %.2f s", waited);

    /* a writer that holds only a RESERVED lock (mid-transaction) does not block reading,
     * and its uncommitted rows are not seen */
    exec_sql(writer, "ROLLBACK; BEGIN IMMEDIATE; INSERT INTO trials VALUES (2, 1, 1, 'RUNNING', NULL, NULL);");
    ck_assert_msg(sr_study_load_sqlite(db, NULL, &s, &p, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(s.n_trials, 1);
    sr_study_free(&s);
    exec_sql(writer, "COMMIT;");
    ck_assert_msg(sr_study_load_sqlite(db, NULL, &s, &p, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(s.n_trials, 2);
    sr_study_free(&s);
    sqlite3_close(writer);

    char *journal = xasprintf("%s-journal", db);
    ck_assert(!file_exists(journal));
    free(journal);
    sr_problems_free(&p);
    test_rmtree(dir);
    free(db);
    free(dir);
}
END_TEST

START_TEST(test_sqlite_wal_writer)
{
    char *dir = test_tmpdir("optuna-wal");
    char *db = make_db(dir, "wal.db", "WAL",
                       "INSERT INTO studies VALUES (1, 'a'); INSERT INTO study_directions VALUES (1, 'MINIMIZE', 1, 0);"
                       "INSERT INTO trials VALUES (1, 0, 1, 'COMPLETE', NULL, NULL);"
                       "INSERT INTO trial_values VALUES (1, 1, 0, 0.5, 'FINITE');");
    sqlite3 *writer = db_open_rw(db);
    exec_sql(writer, "BEGIN IMMEDIATE;"
                     "INSERT INTO trials VALUES (2, 1, 1, 'RUNNING', NULL, NULL);"
                     "UPDATE trial_values SET value = 0.75;");
    sr_problems p;
    sr_problems_init(&p);
    sr_study s;
    char err[512];
    double t0 = now_s();
    ck_assert_msg(sr_study_load_sqlite(db, NULL, &s, &p, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(now_s() - t0 < 1.0, "a WAL reader waited for the writer");
    ck_assert_uint_eq(s.n_trials, 1);
    ck_assert_double_eq(s.trials[0].value, 0.5);
    sr_study_free(&s);
    /* the writer goes on: a reader never blocks it */
    exec_sql(writer, "COMMIT;");
    exec_sql(writer, "BEGIN IMMEDIATE; INSERT INTO trials VALUES (3, 2, 1, 'RUNNING', NULL, NULL);");
    ck_assert_msg(sr_study_load_sqlite(db, NULL, &s, &p, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(s.n_trials, 2);
    ck_assert_double_eq(s.trials[0].value, 0.75);
    sr_study_free(&s);
    exec_sql(writer, "COMMIT;");
    sqlite3_close(writer);
    ck_assert_uint_eq(p.n, 0);
    sr_problems_free(&p);
    test_rmtree(dir);
    free(db);
    free(dir);
}
END_TEST

START_TEST(test_sqlite_bad_files)
{
    char *dir = test_tmpdir("optuna-bad");
    sr_problems p;
    sr_problems_init(&p);
    sr_study s;
    char err[512];

    char *text = sr_path_join(dir, "text.db");
    write_text(text, "this is not a database, just some text that is long enough to have a header ...\n"
                     "................................................................................\n");
    ck_assert_int_eq(sr_study_load_sqlite(text, NULL, &s, &p, err, sizeof err), -1);
    ck_assert_str_eq(err, "not an SQLite database");

    char *empty = sr_path_join(dir, "empty.db");
    write_text(empty, "");
    ck_assert_int_eq(sr_study_load_sqlite(empty, NULL, &s, &p, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "empty file"), "%s", err);
    struct stat sb;
    ck_assert_int_eq(stat(empty, &sb), 0);
    ck_assert_int_eq(sb.st_size, 0);

    char *missing = sr_path_join(dir, "missing.db");
    ck_assert_int_eq(sr_study_load_sqlite(missing, NULL, &s, &p, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "No such file"), "%s", err);
    ck_assert(!file_exists(missing));

    ck_assert_int_eq(sr_study_load_sqlite(dir, NULL, &s, &p, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "directory"), "%s", err);

    char *foreign = sr_path_join(dir, "foreign.db");
    sqlite3 *db = db_open_rw(foreign);
    exec_sql(db, "CREATE TABLE photos (id INTEGER, name TEXT); INSERT INTO photos VALUES (1, 'x');");
    sqlite3_close(db);
    ck_assert_int_eq(sr_study_load_sqlite(foreign, NULL, &s, &p, err, sizeof err), -1);
    ck_assert_str_eq(err, "not an Optuna storage: no table studies");

    char *nolist = sr_path_join(dir, "notrials.db");
    db = db_open_rw(nolist);
    exec_sql(db, "CREATE TABLE studies (study_id INTEGER, study_name TEXT);");
    sqlite3_close(db);
    ck_assert_int_eq(sr_study_load_sqlite(nolist, NULL, &s, &p, err, sizeof err), -1);
    ck_assert_str_eq(err, "not an Optuna storage: no table trials");

    /* a storage cut short (copied mid-write): a reason, no crash */
    char *full = make_db(dir, "full.db", NULL, FULL_ROWS);
    char *data = NULL;
    size_t len = 0;
    ck_assert_int_eq(sr_read_file(full, 1u << 24, &data, &len, err, sizeof err), 0);
    char *cut = sr_path_join(dir, "cut.db");
    FILE *f = fopen(cut, "wb");
    fwrite(data, 1, len / 3, f);
    fclose(f);
    int rc = sr_study_load_sqlite(cut, NULL, &s, &p, err, sizeof err);
    if (rc == 0)
        sr_study_free(&s);
    else
        ck_assert_msg(err[0] != '\0', "no reason given");
    /* a damaged header page */
    memset(data + 100, 0xff, 400);
    f = fopen(cut, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
    rc = sr_study_load_sqlite(cut, NULL, &s, &p, err, sizeof err);
    if (rc == 0)
        sr_study_free(&s);
    else
        ck_assert_msg(err[0] != '\0', "no reason given");
    free(data);

    /* a copy taken while a writer was mid-transaction carries a hot journal:
     * only a writer may roll it back, so reading refuses and changes nothing */
    char *hot = make_db(dir, "hot.db", "DELETE", "INSERT INTO studies VALUES (1, 'a');");
    db = db_open_rw(hot);
    exec_sql(db, "PRAGMA cache_size = 10; BEGIN;");
    for (int i = 0; i < 2000; i++) {
        char *sql = xasprintf("INSERT INTO trials VALUES (%d, %d, 1, 'COMPLETE', '2025-11-15 10:45:12.123456', NULL);",
                              i + 1, i);
        exec_sql(db, sql);
        free(sql);
    }
    char *copy = sr_path_join(dir, "copy.db");
    char *hot_journal = xasprintf("%s-journal", hot), *copy_journal = xasprintf("%s-journal", copy);
    copy_file(hot, copy);
    copy_file(hot_journal, copy_journal);
    exec_sql(db, "ROLLBACK;");
    sqlite3_close(db);
    struct stat jb, ja;
    ck_assert_int_eq(stat(copy_journal, &jb), 0);
    ck_assert_int_eq(sr_study_load_sqlite(copy, NULL, &s, &p, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "hot journal"), "%s", err);
    ck_assert_int_eq(stat(copy_journal, &ja), 0);
    ck_assert_int_eq(ja.st_size, jb.st_size);
    free(copy_journal);
    free(hot_journal);
    free(copy);
    free(hot);

    /* a short error buffer is cut, never overrun */
    char small[8];
    ck_assert_int_eq(sr_study_load_sqlite(foreign, NULL, &s, &p, small, sizeof small), -1);
    ck_assert_uint_eq(strlen(small), 7);

    sr_problems_free(&p);
    test_rmtree(dir);
    free(cut);
    free(full);
    free(nolist);
    free(foreign);
    free(missing);
    free(empty);
    free(text);
    free(dir);
}
END_TEST

/* Trial numbers beyond an int are named, not wrapped round; a number that
 * several trials have is named (folders are joined by number). */
START_TEST(test_sqlite_bad_numbers)
{
    char *dir = test_tmpdir("optuna-numbers");
    char err[512];
    char *path = make_db(dir, "optuna_study.db", NULL, FULL_ROWS);
    sqlite3 *db = db_open_rw(path);
    exec_sql(db, "UPDATE trials SET number = 2147483648 WHERE trial_id = 2;"
                 "UPDATE trials SET number = 9223372036854775807 WHERE trial_id = 3;"
                 "UPDATE trials SET number = 0 WHERE trial_id = 4;");
    sqlite3_close(db);
    sr_problems p;
    sr_problems_init(&p);
    sr_study s;
    ck_assert_msg(sr_study_load_sqlite(path, NULL, &s, &p, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(has_problem(&p, "trial id 2: number 2147483648 is out of range"), "no problem for trial id 2");
    ck_assert_msg(has_problem(&p, "trial id 3: number 9223372036854775807 is out of range"), "no problem for id 3");
    ck_assert_msg(has_problem(&p, "trial number 0 appears more than once"), "the duplicate is not named");
    for (size_t i = 0; i < s.n_trials; i++)
        ck_assert_int_ge(s.trials[i].number, -1);
    sr_study_free(&s);
    sr_problems_free(&p);
    free(path);
    test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_sqlite_other_schemas)
{
    char *dir = test_tmpdir("optuna-schemas");
    sr_problems p;
    sr_problems_init(&p);
    sr_study s;
    char err[512];

    /* optional tables missing, a column missing: what is there is read */
    char *db = make_db(dir, "partial.db", NULL,
                       "DROP TABLE trial_intermediate_values; DROP TABLE trial_user_attributes;"
                       "CREATE TABLE t2 AS SELECT trial_id, number, study_id, state, datetime_start FROM trials;"
                       "DROP TABLE trials; ALTER TABLE t2 RENAME TO trials;"
                       "INSERT INTO studies VALUES (1, 'a'); INSERT INTO study_directions VALUES (1, 'MINIMIZE', 1, 0);"
                       "INSERT INTO trials VALUES (1, 0, 1, 'COMPLETE', '2025-01-01 00:00:00.000000');"
                       "INSERT INTO trial_values VALUES (1, 1, 0, 0.5, 'FINITE');"
                       "INSERT INTO trial_params VALUES (1, 1, 'optimizer', 0.0, '" D_OPT "');");
    ck_assert_msg(sr_study_load_sqlite(db, NULL, &s, &p, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(s.n_trials, 1);
    ck_assert_double_eq(s.trials[0].value, 0.5);
    ck_assert_str_eq(sr_json_string(s.trials[0].params, "optimizer"), "AdamW");
    ck_assert_ptr_null(s.trials[0].datetime_complete);
    ck_assert_uint_eq(s.trials[0].n_intermediate, 0);
    ck_assert(has_problem(&p, "no table trial_intermediate_values"));
    ck_assert(has_problem(&p, "no table trial_user_attributes"));
    ck_assert(has_problem(&p, "table trials has no column datetime_complete"));
    sr_study_free(&s);
    sr_problems_free(&p);

    /* a required column missing is fatal, and named */
    char *bad = make_db(dir, "nonumber.db", NULL,
                        "CREATE TABLE t2 AS SELECT trial_id, study_id, state FROM trials;"
                        "DROP TABLE trials; ALTER TABLE t2 RENAME TO trials; INSERT INTO studies VALUES (1, 'a');");
    ck_assert_int_eq(sr_study_load_sqlite(bad, NULL, &s, &p, err, sizeof err), -1);
    ck_assert_str_eq(err, "not an Optuna storage: table trials has no column number");

    /* the schema before Optuna 2.4: direction in studies, value in trials,
     * intermediate values in trial_values(step, value), no value types */
    char *old = sr_path_join(dir, "old.db");
    sqlite3 *h = db_open_rw(old);
    exec_sql(h, "CREATE TABLE studies (study_id INTEGER PRIMARY KEY, study_name VARCHAR(512), direction VARCHAR(8));"
                "CREATE TABLE trials (trial_id INTEGER PRIMARY KEY, number INTEGER, study_id INTEGER, state VARCHAR(8),"
                "  value FLOAT, datetime_start DATETIME, datetime_complete DATETIME);"
                "CREATE TABLE trial_params (param_id INTEGER PRIMARY KEY, trial_id INTEGER, param_name VARCHAR(512),"
                "  param_value FLOAT, distribution_json TEXT);"
                "CREATE TABLE trial_values (trial_value_id INTEGER PRIMARY KEY, trial_id INTEGER, step INTEGER, value FLOAT);"
                "CREATE TABLE trial_user_attributes (trial_user_attribute_id INTEGER PRIMARY KEY, trial_id INTEGER,"
                "  key VARCHAR(512), value_json TEXT);"
                "INSERT INTO studies VALUES (1, 'old', 'MAXIMIZE');"
                "INSERT INTO trials VALUES (1, 0, 1, 'COMPLETE', 0.9, NULL, NULL);"
                "INSERT INTO trials VALUES (2, 1, 1, 'PRUNED', NULL, NULL, NULL);"
                "INSERT INTO trial_params VALUES (1, 1, 'lr', 0.001, "
                "  '{\"name\": \"LogUniformDistribution\", \"attributes\": {\"low\": 1e-05, \"high\": 0.01}}');"
                "INSERT INTO trial_params VALUES (2, 1, 'dim', 8.0, "
                "  '{\"name\": \"IntUniformDistribution\", \"attributes\": {\"low\": 4, \"high\": 64, \"step\": 4}}');"
                "INSERT INTO trial_values VALUES (1, 1, 3, 0.7), (2, 1, 1, 0.8), (3, 2, 1, NULL);"
                "INSERT INTO trial_user_attributes VALUES (1, 1, 'x', 'Infinity');");
    sqlite3_close(h);
    ck_assert_msg(sr_study_load_sqlite(old, NULL, &s, &p, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(s.direction, "MAXIMIZE");
    ck_assert_uint_eq(s.n_trials, 2);
    ck_assert(s.trials[0].has_value);
    ck_assert_double_eq(s.trials[0].value, 0.9);
    ck_assert(!s.trials[1].has_value);
    ck_assert_uint_eq(s.trials[0].n_intermediate, 2);
    ck_assert_int_eq(s.trials[0].intermediate[0].step, 1);
    ck_assert_double_eq(s.trials[0].intermediate[1].value, 0.7);
    ck_assert(isnan(s.trials[1].intermediate[0].value));
    ck_assert_double_eq(sr_json_number(s.trials[0].params, "lr"), 0.001);
    ck_assert_double_eq(sr_json_number(s.trials[0].params, "dim"), 8);
    ck_assert(isinf(sr_json_number(s.trials[0].user_attrs, "x")));
    dump_problems(&p);
    ck_assert_uint_eq(p.n, 0);
    sr_study_free(&s);

    sr_problems_free(&p);
    test_rmtree(dir);
    free(old);
    free(bad);
    free(db);
    free(dir);
}
END_TEST

/* ------------------------------------------------------------------------- */

static void write_results(const char *dir, const char *all_trials, const char *best)
{
    char *results = sr_path_join(dir, "results");
    ck_assert_int_eq(sr_mkdir_p(results, 0755), 0);
    char *path = sr_path_join(results, "all_trials.json");
    if (all_trials)
        write_text(path, all_trials);
    else
        unlink(path);
    free(path);
    path = sr_path_join(results, "best_parameters.json");
    if (best)
        write_text(path, best);
    else
        unlink(path);
    free(path);
    free(results);
}

START_TEST(test_results_json)
{
    char *dir = test_tmpdir("optuna-results");
    sr_problems p;
    sr_problems_init(&p);
    sr_study s;
    char err[512];

    write_results(dir,
                  "[{\"number\": 2, \"state\": \"PRUNED\", \"value\": null, \"params\": {\"lr\": 0.0001},"
                  "  \"user_attrs\": {}},"
                  " {\"number\": 0, \"state\": \"COMPLETE\", \"value\": 0.25,"
                  "  \"params\": {\"lr\": 6.5e-05, \"network_dim\": 128, \"optimizer_type\": \"Lion\", \"flag\": true},"
                  "  \"user_attrs\": {\"lpips_diversity\": NaN, \"clip\": Infinity}},"
                  " {\"number\": 1, \"state\": \"TrialState.FAIL\", \"value\": null, \"params\": {}, \"user_attrs\": {}},"
                  " {\"number\": 3, \"state\": \"COMPLETE\", \"value\": null, \"params\": {\"lr\": 0.0002}},"
                  " {\"state\": \"COMPLETE\"},"
                  " {\"number\": 4, \"state\": \"ZOMBIE\", \"value\": -Infinity, \"params\": [1]}]",
                  "{\"trial_number\": 3, \"combined_score\": 0.125, \"parameters\": {\"lr\": 0.0002}}");
    ck_assert_msg(sr_study_load_results(dir, &s, &p, err, sizeof err) == 0, "%s", err);
    dump_problems(&p);
    ck_assert_str_eq(s.name, "results/all_trials.json");
    ck_assert_str_eq(s.direction, "MINIMIZE");
    ck_assert(sr_str_has_suffix(s.source, "results/all_trials.json"));
    ck_assert_uint_eq(s.n_trials, 5);
    for (size_t i = 0; i < s.n_trials; i++) {
        ck_assert_int_eq(s.trials[i].number, (int)i);
        ck_assert_int_eq(s.trials[i].trial_id, -1);
    }
    const sr_optuna_trial *t = &s.trials[0];
    ck_assert_str_eq(t->state, "COMPLETE");
    ck_assert_double_eq(t->value, 0.25);
    ck_assert_double_eq(sr_json_number(t->params, "network_dim"), 128);
    ck_assert_str_eq(sr_json_string(t->params, "optimizer_type"), "Lion");
    ck_assert(isnan(sr_json_number(t->user_attrs, "lpips_diversity")));
    ck_assert(isinf(sr_json_number(t->user_attrs, "clip")));
    ck_assert_str_eq(s.trials[1].state, "FAIL");
    ck_assert(!s.trials[1].has_value);
    ck_assert_str_eq(s.trials[2].state, "PRUNED");
    ck_assert(!s.trials[2].has_value);
    /* the best trial's score comes from best_parameters.json */
    ck_assert(s.trials[3].has_value);
    ck_assert_double_eq(s.trials[3].value, 0.125);
    ck_assert_str_eq(s.trials[4].state, "UNKNOWN");
    ck_assert(isinf(s.trials[4].value) && s.trials[4].value < 0);
    ck_assert_int_eq(cJSON_GetArraySize(s.trials[4].params), 0);
    ck_assert(has_problem(&p, "entry 5 has no trial number"));
    ck_assert(has_problem(&p, "trial 4: unknown state ZOMBIE"));
    ck_assert(has_problem(&p, "trial 4: params is not an object"));
    sr_study_free(&s);
    sr_problems_free(&p);

    /* name and direction when best_parameters.json states them */
    write_results(dir, "[{\"number\": 0, \"state\": \"RUNNING\", \"value\": null, \"params\": {}, \"user_attrs\": {}}]",
                  "{\"study_name\": \"luca\", \"direction\": \"maximize\"}");
    ck_assert_msg(sr_study_load_results(dir, &s, &p, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(s.name, "luca");
    ck_assert_str_eq(s.direction, "MAXIMIZE");
    ck_assert_str_eq(s.trials[0].state, "RUNNING");
    sr_study_free(&s);

    /* a broken best_parameters.json is a problem, not a failure */
    write_results(dir, "[]", "{\"trial_number\": ");
    ck_assert_msg(sr_study_load_results(dir, &s, &p, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(s.n_trials, 0);
    ck_assert(has_problem(&p, "JSON"));
    sr_study_free(&s);

    /* failures */
    write_results(dir, "{\"trials\": []}", NULL);
    ck_assert_int_eq(sr_study_load_results(dir, &s, &p, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "not a JSON array"), "%s", err);
    write_results(dir, "[{\"number\": 0,", NULL);
    ck_assert_int_eq(sr_study_load_results(dir, &s, &p, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "all_trials.json"), "%s", err);
    write_results(dir, NULL, NULL);
    ck_assert_int_eq(sr_study_load_results(dir, &s, &p, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "all_trials.json"), "%s", err);
    ck_assert_ptr_null(s.trials);

    sr_problems_free(&p);
    test_rmtree(dir);
    free(dir);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* The join                                                                  */
/* ------------------------------------------------------------------------- */

/* A study built in memory: params of trial i are params[i] (JSON). */
static void study_make(sr_study *s, const char *const *params, const char *const *states, size_t n)
{
    memset(s, 0, sizeof *s);
    s->name = xstrdup("t");
    s->direction = xstrdup("MINIMIZE");
    s->source = xstrdup("mem");
    s->trials = xcalloc(n, sizeof *s->trials);
    s->n_trials = n;
    for (size_t i = 0; i < n; i++) {
        sr_optuna_trial *t = &s->trials[i];
        t->trial_id = (int64_t)i + 1;
        t->number = (int)i;
        t->state = states ? states[i] : "COMPLETE";
        char err[200];
        t->params = sr_json_parse(params[i], strlen(params[i]), err, sizeof err);
        ck_assert_msg(t->params != NULL, "%s", err);
        t->distributions = cJSON_CreateObject();
        t->user_attrs = cJSON_CreateObject();
    }
}

typedef struct {
    sr_join_folder *f;
    cJSON **owned;
    size_t n;
} folder_set;

static folder_set folders_make(const char *const *names, const char *const *params, size_t n)
{
    folder_set fs = {xcalloc(n, sizeof(sr_join_folder)), xcalloc(n, sizeof(cJSON *)), n};
    for (size_t i = 0; i < n; i++) {
        fs.f[i].name = names[i];
        if (params[i]) {
            char err[200];
            fs.owned[i] = sr_json_parse(params[i], strlen(params[i]), err, sizeof err);
            ck_assert_msg(fs.owned[i] != NULL, "%s", err);
        }
        fs.f[i].params = fs.owned[i];
    }
    return fs;
}

static void folders_free(folder_set *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        cJSON_Delete(fs->owned[i]);
    free(fs->owned);
    free(fs->f);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(test_join_params)
{
    static const char *const tp[] = {
        "{\"learning_rate\": 6.3429658062592e-05, \"network_dim\": 64, \"optimizer_type\": \"AdamW\"}",
        "{\"learning_rate\": 0.0001, \"network_dim\": 128, \"optimizer_type\": \"Lion\", \"flag\": true}",
        "{\"learning_rate\": 0.000725503302456307, \"network_dim\": 32.0, \"optimizer_type\": \"Lion\"}",
        "{\"learning_rate\": 0.0002, \"network_dim\": 16, \"optimizer_type\": \"Lion\"}",
    };
    static const char *const names[] = {"trial_0001", "trial_0002", "trial_0003", "trial_0004", "trial_0005",
                                        "trial_0006"};
    static const char *const fp[] = {
        /* trial 2 with the float32 rounding of its rate and an int for 32.0,
         * plus keys Optuna does not know */
        "{\"learning_rate\": 0.0007255033, \"network_dim\": 32, \"optimizer_type\": \"Lion\", \"network_alpha\": 16}",
        /* trial 0, rate as str() of a float32 */
        "{\"learning_rate\": \"6.342966e-05\", \"network_dim\": 64, \"optimizer_type\": \"AdamW\"}",
        /* trial 1 within 1e-9 */
        "{\"learning_rate\": 0.00010000000001, \"network_dim\": 128, \"optimizer_type\": \"Lion\", \"flag\": true}",
        /* nothing agrees: the rate is 10% off */
        "{\"learning_rate\": 0.00022, \"network_dim\": 16, \"optimizer_type\": \"Lion\"}",
        /* no key shared */
        "{\"seed\": 42}",
        /* no params.json: counter 6 -> trial 5, which does not exist */
        NULL,
    };
    sr_study s;
    study_make(&s, tp, NULL, N(tp));
    folder_set fs = folders_make(names, fp, N(names));
    sr_problems p;
    sr_problems_init(&p);
    sr_join j;
    sr_study_join(&s, fs.f, fs.n, &j, &p, "/sweep");
    dump_problems(&p);
    ck_assert_int_eq(j.trial_of_folder[0], 2);
    ck_assert_int_eq(j.trial_of_folder[1], 0);
    ck_assert_int_eq(j.trial_of_folder[2], 1);
    ck_assert_int_eq(j.trial_of_folder[3], -1);
    ck_assert_int_eq(j.trial_of_folder[4], -1);
    ck_assert_int_eq(j.trial_of_folder[5], -1);
    ck_assert_int_eq(j.folder_of_trial[0], 1);
    ck_assert_int_eq(j.folder_of_trial[1], 2);
    ck_assert_int_eq(j.folder_of_trial[2], 0);
    ck_assert_int_eq(j.folder_of_trial[3], -1);
    ck_assert_uint_eq(p.n, 4);
    ck_assert_str_eq(p.items[0].path, "/sweep/trial_0004");
    ck_assert_str_eq(p.items[0].problem, "no Optuna trial has these parameters");
    ck_assert_str_eq(p.items[1].path, "/sweep/trial_0005");
    ck_assert_str_eq(p.items[1].problem, "no Optuna trial has these parameters");
    ck_assert_str_eq(p.items[2].path, "/sweep/trial_0006");
    ck_assert(strstr(p.items[2].problem, "no params.json and no Optuna trial 5"));
    ck_assert_str_eq(p.items[3].path, "/sweep");
    ck_assert_str_eq(p.items[3].problem, "Optuna trial 3 (COMPLETE) has no folder");
    sr_join_free(&j);
    sr_join_free(&j);
    sr_problems_free(&p);
    folders_free(&fs);
    sr_study_free(&s);
}
END_TEST

START_TEST(test_join_values)
{
    cJSON *a = cJSON_CreateNumber(64), *b = cJSON_CreateNumber(64.0), *c = cJSON_CreateNumber(65);
    cJSON *big1 = cJSON_CreateNumber(1e10), *big2 = cJSON_CreateNumber((double)(float)1e10);
    cJSON *s1 = cJSON_CreateString("AdamW"), *s2 = cJSON_CreateString("AdamW8bit"), *sn = cJSON_CreateString("64");
    cJSON *t = cJSON_CreateTrue(), *f = cJSON_CreateFalse(), *n = cJSON_CreateNull(), *one = cJSON_CreateNumber(1);
    cJSON *r1 = cJSON_CreateNumber(0.65), *r2 = cJSON_CreateNumber(0.6500000000000001);
    cJSON *nan1 = cJSON_CreateNumber(NAN);
    ck_assert(sr_join_values_agree(a, b));
    ck_assert(!sr_join_values_agree(a, c));
    ck_assert(sr_join_values_agree(big1, big2)); /* float32 rounding of a large integral float */
    ck_assert(sr_join_values_agree(s1, s1));
    ck_assert(!sr_join_values_agree(s1, s2));
    ck_assert(sr_join_values_agree(sn, a));
    ck_assert(!sr_join_values_agree(sn, c));
    ck_assert(sr_join_values_agree(t, t));
    ck_assert(!sr_join_values_agree(t, f));
    ck_assert(!sr_join_values_agree(t, one));
    ck_assert(sr_join_values_agree(n, n));
    ck_assert(!sr_join_values_agree(n, f));
    ck_assert(sr_join_values_agree(r1, r2));
    ck_assert(sr_join_values_agree(nan1, nan1));
    ck_assert(!sr_join_values_agree(nan1, r1));
    ck_assert(!sr_join_values_agree(NULL, r1));
    cJSON *all[] = {a, b, c, big1, big2, s1, s2, sn, t, f, n, one, r1, r2, nan1};
    for (size_t i = 0; i < N(all); i++)
        cJSON_Delete(all[i]);
}
END_TEST

START_TEST(test_join_counter_fallback)
{
    static const char *const tp[] = {"{\"lr\": 0.0001}", "{\"lr\": 0.0002}", "{\"lr\": 0.0003}", "{\"lr\": 0.0004}"};
    static const char *const states[] = {"COMPLETE", "PRUNED", "RUNNING", "WAITING"};
    static const char *const names[] = {"trial_0001", "trial_0002", "trial_0003", "odd_name"};
    /* trial_0001 has no params.json but trial 0 is taken by trial_0002's params;
     * trial_0003 has none and takes trial 2 by its counter */
    static const char *const fp[] = {NULL, "{\"lr\": 0.0001}", NULL, NULL};
    sr_study s;
    study_make(&s, tp, states, N(tp));
    folder_set fs = folders_make(names, fp, N(names));
    sr_problems p;
    sr_problems_init(&p);
    sr_join j;
    sr_study_join(&s, fs.f, fs.n, &j, &p, "/sweep");
    dump_problems(&p);
    ck_assert_int_eq(j.trial_of_folder[0], -1);
    ck_assert_int_eq(j.trial_of_folder[1], 0);
    ck_assert_int_eq(j.trial_of_folder[2], 2);
    ck_assert_int_eq(j.trial_of_folder[3], -1);
    ck_assert_int_eq(j.folder_of_trial[1], -1);
    ck_assert_int_eq(j.folder_of_trial[3], -1);
    ck_assert(has_problem(&p, "no params.json; Optuna trial 0 (folder counter - 1) is joined to trial_0002/"));
    ck_assert(has_problem(&p, "no params.json and no counter in the folder name"));
    ck_assert(has_problem(&p, "Optuna trial 1 (PRUNED) has no folder"));
    ck_assert(!has_problem(&p, "Optuna trial 3")); /* WAITING: not started */
    ck_assert_uint_eq(p.n, 3);
    sr_join_free(&j);
    sr_problems_free(&p);
    folders_free(&fs);
    sr_study_free(&s);
}
END_TEST

START_TEST(test_join_resumed)
{
    /* A study of 3 trials, resumed for 3 more: the counter restarted, so
     * trial_0001..0003 now hold trials 3..5, and trials 0..2 have no folder.
     * Trial 4 re-ran trial 1's parameters (enqueued). */
    static const char *const tp[] = {
        "{\"lr\": 0.0001, \"dim\": 64}", "{\"lr\": 0.0002, \"dim\": 64}", "{\"lr\": 0.0003, \"dim\": 128}",
        "{\"lr\": 0.0004, \"dim\": 64}", "{\"lr\": 0.0002, \"dim\": 64}", "{\"lr\": 0.0006, \"dim\": 32}",
    };
    static const char *const names[] = {"trial_0001", "trial_0002", "trial_0003"};
    static const char *const fp[] = {"{\"lr\": 0.0004, \"dim\": 64}", "{\"lr\": 0.0002, \"dim\": 64}",
                                     "{\"lr\": 0.0006, \"dim\": 32}"};
    sr_study s;
    study_make(&s, tp, NULL, N(tp));
    folder_set fs = folders_make(names, fp, N(names));
    sr_problems p;
    sr_problems_init(&p);
    sr_join j;
    sr_study_join(&s, fs.f, fs.n, &j, &p, "/sweep");
    dump_problems(&p);
    ck_assert_int_eq(j.trial_of_folder[0], 3);
    /* trials 1 and 4 tie on parameters: the tie goes to number 1 (counter - 1) */
    ck_assert_int_eq(j.trial_of_folder[1], 1);
    ck_assert_int_eq(j.trial_of_folder[2], 5);
    ck_assert(has_problem(&p, "Optuna trial 0 has no folder (trial_0001/ holds Optuna trial 3: a resumed study"));
    ck_assert(has_problem(&p, "Optuna trial 2 has no folder (trial_0003/ holds Optuna trial 5"));
    ck_assert(has_problem(&p, "Optuna trial 4 (COMPLETE) has no folder"));
    ck_assert_uint_eq(p.n, 3);
    sr_join_free(&j);
    sr_problems_free(&p);

    /* two folders with the same parameters as one trial: the better one
     * (counter - 1 == number) keeps it, the other is reported */
    static const char *const tp2[] = {"{\"lr\": 0.0001, \"dim\": 64}", "{\"lr\": 0.0002, \"dim\": 64}"};
    static const char *const names2[] = {"trial_0003", "trial_0002", "trial_0001"};
    static const char *const fp2[] = {"{\"lr\": 0.0002, \"dim\": 64}", "{\"lr\": 0.0002, \"dim\": 64}",
                                      "{\"lr\": 0.0001}"};
    sr_study s2;
    study_make(&s2, tp2, NULL, N(tp2));
    folder_set fs2 = folders_make(names2, fp2, N(names2));
    sr_study_join(&s2, fs2.f, fs2.n, &j, &p, "/sweep");
    dump_problems(&p);
    ck_assert_int_eq(j.trial_of_folder[0], -1);
    ck_assert_int_eq(j.trial_of_folder[1], 1);
    ck_assert_int_eq(j.trial_of_folder[2], 0);
    ck_assert_uint_eq(p.n, 1);
    ck_assert_str_eq(p.items[0].path, "/sweep/trial_0003");
    ck_assert(strstr(p.items[0].problem, "same parameters as Optuna trial 1, which is joined to trial_0002/"));
    sr_join_free(&j);
    sr_problems_free(&p);
    folders_free(&fs2);
    sr_study_free(&s2);

    folders_free(&fs);
    sr_study_free(&s);
}
END_TEST

START_TEST(test_join_overridden_params)
{
    /* The sweep script overrides optimizer_type and gradient_accumulation_steps
     * for high alpha ratios before writing params.json: the continuous floats
     * still identify the trial. */
    sr_study s;
    char err[200];
    static const char *const tp[] = {
        "{\"learning_rate\": 7.7e-05, \"network_alpha_ratio\": 0.8, \"optimizer_type\": \"AdamW8bit\","
        " \"gradient_accumulation_steps\": 2}",
        "{\"learning_rate\": 9.1e-05, \"network_alpha_ratio\": 0.8, \"optimizer_type\": \"AdamW8bit\","
        " \"gradient_accumulation_steps\": 2}",
    };
    study_make(&s, tp, NULL, N(tp));
    static const char *const dist =
        "{\"name\": \"FloatDistribution\", \"attributes\": {\"step\": 0.05, \"low\": 0.25, \"high\": 0.9, \"log\": false}}";
    for (size_t i = 0; i < s.n_trials; i++)
        cJSON_AddItemToObject(s.trials[i].distributions, "network_alpha_ratio", sr_json_parse(dist, strlen(dist), err,
                                                                                              sizeof err));
    static const char *const names[] = {"trial_0001", "trial_0002"};
    static const char *const fp[] = {
        "{\"learning_rate\": 9.1e-05, \"network_alpha_ratio\": 0.8, \"optimizer_type\": \"AdamW\","
        " \"gradient_accumulation_steps\": 3, \"max_grad_norm\": 0.8}",
        /* only the stepped float agrees: not enough */
        "{\"learning_rate\": 1.5e-05, \"network_alpha_ratio\": 0.8, \"optimizer_type\": \"AdamW8bit\","
        " \"gradient_accumulation_steps\": 2}",
    };
    folder_set fs = folders_make(names, fp, N(names));
    sr_problems p;
    sr_problems_init(&p);
    sr_join j;
    sr_study_join(&s, fs.f, fs.n, &j, &p, "/sweep");
    dump_problems(&p);
    ck_assert_int_eq(j.trial_of_folder[0], 1);
    ck_assert_int_eq(j.trial_of_folder[1], -1);
    ck_assert(has_problem(&p, "joined to Optuna trial 1 by its float parameters, but differs in optimizer_type "
                              "(\"AdamW\" here, \"AdamW8bit\" in Optuna), gradient_accumulation_steps (3 here, 2 in Optuna)"));
    ck_assert(has_problem(&p, "no Optuna trial has these parameters"));
    ck_assert(has_problem(&p, "Optuna trial 0 has no folder (trial_0001/ holds Optuna trial 1"));
    sr_join_free(&j);
    sr_problems_free(&p);
    folders_free(&fs);
    sr_study_free(&s);
}
END_TEST

START_TEST(test_join_empty)
{
    sr_study s;
    memset(&s, 0, sizeof s);
    sr_problems p;
    sr_problems_init(&p);
    sr_join j;
    sr_study_join(&s, NULL, 0, &j, &p, NULL);
    ck_assert_uint_eq(p.n, 0);
    sr_join_free(&j);
    static const char *const names[] = {"trial_0001"};
    static const char *const fp[] = {"{\"lr\": 1}"};
    folder_set fs = folders_make(names, fp, 1);
    sr_study_join(&s, fs.f, fs.n, &j, &p, NULL);
    ck_assert_int_eq(j.trial_of_folder[0], -1);
    ck_assert_uint_eq(p.n, 1);
    sr_join_free(&j);
    folders_free(&fs);
    sr_problems_free(&p);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Storages written by Optuna itself                                         */
/* ------------------------------------------------------------------------- */

/* Deep equality where NaN equals NaN and infinities compare by sign. */
static int json_same(const cJSON *a, const cJSON *b)
{
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
        double x = a->valuedouble, y = b->valuedouble;
        return (isnan(x) && isnan(y)) || x == y;
    }
    if ((a->type & 0xff) != (b->type & 0xff))
        return 0;
    if (cJSON_IsString(a))
        return strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsArray(a) || cJSON_IsObject(a)) {
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
            return 0;
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next) {
            const cJSON *other = cJSON_IsObject(a) ? cJSON_GetObjectItemCaseSensitive(b, x->string) : y;
            if (!other || !json_same(x, other))
                return 0;
        }
        return 1;
    }
    return 1; /* true, false, null of the same type */
}

/* Reads OUTDIR/optuna_study.db and checks it against what Optuna itself said
 * in OUTDIR/results/all_trials.json. */
static void check_against_optuna(const char *dir)
{
    char *db = sr_path_join(dir, "optuna_study.db");
    sr_problems p;
    sr_problems_init(&p);
    sr_study s, e;
    char err[512];
    ck_assert_msg(sr_study_load_sqlite(db, NULL, &s, &p, err, sizeof err) == 0, "%s: %s", db, err);
    ck_assert_msg(sr_study_load_results(dir, &e, &p, err, sizeof err) == 0, "%s", err);
    dump_problems(&p);
    ck_assert_uint_eq(p.n, 0);
    ck_assert_str_eq(s.name, "luca_intermediate_checkpoint_study");
    ck_assert_str_eq(s.direction, "MINIMIZE");
    ck_assert_uint_eq(s.n_trials, e.n_trials);
    ck_assert_uint_eq(s.n_trials, 8);
    static const char *const states[] = {"COMPLETE", "COMPLETE", "PRUNED", "FAIL", "COMPLETE", "COMPLETE",
                                         "RUNNING", "WAITING"};
    char *expected_path = sr_path_join(dir, "results/all_trials.json");
    cJSON *raw = sr_json_load(expected_path, err, sizeof err);
    ck_assert_ptr_nonnull(raw);
    for (size_t i = 0; i < s.n_trials; i++) {
        const sr_optuna_trial *t = &s.trials[i], *x = &e.trials[i];
        const cJSON *xr = cJSON_GetArrayItem(raw, (int)i);
        ck_assert_int_eq(t->number, (int)i);
        ck_assert_int_eq(x->number, (int)i);
        ck_assert_str_eq(t->state, states[i]);
        ck_assert_str_eq(t->state, x->state);
        ck_assert_int_eq(t->has_value, x->has_value);
        if (t->has_value)
            ck_assert_msg(t->value == x->value, "trial %zu: %.17g vs %.17g", i, t->value, x->value);
        char *a = cJSON_PrintUnformatted(t->params), *b = cJSON_PrintUnformatted(x->params);
        ck_assert_msg(json_same(t->params, x->params), "trial %zu params:\n  read   %s\n  optuna %s", i, a, b);
        free(a);
        free(b);
        ck_assert_msg(json_same(t->user_attrs, x->user_attrs), "trial %zu user_attrs differ", i);
        ck_assert_uint_eq(t->n_intermediate, x->n_intermediate);
        for (size_t k = 0; k < t->n_intermediate; k++) {
            ck_assert_int_eq(t->intermediate[k].step, x->intermediate[k].step);
            double u = t->intermediate[k].value, v = x->intermediate[k].value;
            ck_assert_msg((isnan(u) && isnan(v)) || u == v, "trial %zu step %lld", i,
                          (long long)t->intermediate[k].step);
        }
        const cJSON *dists = cJSON_GetObjectItemCaseSensitive(xr, "distributions");
        ck_assert_int_eq(cJSON_GetArraySize(t->distributions), cJSON_GetArraySize(dists));
        const cJSON *dn;
        cJSON_ArrayForEach(dn, dists)
        {
            const cJSON *mine = cJSON_GetObjectItemCaseSensitive(t->distributions, dn->string);
            ck_assert_str_eq(sr_json_string(mine, "name"), dn->valuestring);
        }
        if (strcmp(t->state, "WAITING") != 0)
            ck_assert_ptr_nonnull(t->datetime_start);
        if (strcmp(t->state, "RUNNING") != 0 && strcmp(t->state, "WAITING") != 0)
            ck_assert_ptr_nonnull(t->datetime_complete);
        else
            ck_assert_ptr_null(t->datetime_complete);
    }
    /* the learning rate of trial 0 has the log flag analysis needs */
    const cJSON *lr = cJSON_GetObjectItem(s.trials[0].distributions, "learning_rate");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(lr, "attributes"), "log")));
    /* the NaN user attribute is a number */
    ck_assert(isnan(sr_json_number(s.trials[0].user_attrs, "lpips_diversity")));
    ck_assert(s.trials[4].has_value && isinf(s.trials[4].value));
    ck_assert(isnan(s.trials[6].intermediate[0].value));

    /* the trials joined to folders written the way the sweep script writes them */
    sr_join_folder folders[8];
    char names[8][16];
    size_t nf = 0;
    for (size_t i = 0; i < s.n_trials; i++) {
        if (strcmp(s.trials[i].state, "WAITING") == 0)
            continue;
        snprintf(names[nf], sizeof names[nf], "trial_%04zu", nf + 1);
        folders[nf].name = names[nf];
        folders[nf].params = e.trials[i].params;
        nf++;
    }
    sr_join j;
    sr_study_join(&s, folders, nf, &j, &p, dir);
    dump_problems(&p);
    ck_assert_uint_eq(p.n, 0);
    for (size_t f = 0; f < nf; f++)
        ck_assert_int_eq(j.trial_of_folder[f], (int)f);
    sr_join_free(&j);

    cJSON_Delete(raw);
    free(expected_path);
    sr_study_free(&s);
    sr_study_free(&e);
    sr_problems_free(&p);
    free(db);
}

START_TEST(test_committed_optuna_fixture)
{
    char *dir = test_srcpath("tests/data/optuna");
    check_against_optuna(dir);
    free(dir);
}
END_TEST

START_TEST(test_real_optuna)
{
    const char *py = getenv("SR_PYTHON");
    if (!py || !*py)
        py = "/usr/bin/python3";
    char *probe = xasprintf("'%s' -c 'import optuna' >/dev/null 2>&1", py);
    int have = system(probe) == 0;
    free(probe);
    if (!have) {
        printf("# SKIP %s cannot import optuna\n", py);
        return;
    }
    char *dir = test_tmpdir("optuna-real");
    char *script = test_srcpath("tests/data/optuna/make_fixture.py");
    char *cmd = xasprintf("'%s' '%s' '%s'", py, script, dir);
    ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
    check_against_optuna(dir);

    /* read while Optuna holds a write transaction open in another process */
    char *db = sr_path_join(dir, "optuna_study.db");
    char *hold = xasprintf("'%s' -c \"import sqlite3, time, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
                           "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(4)\" '%s'",
                           py, db);
    FILE *f = popen(hold, "r");
    ck_assert_ptr_nonnull(f);
    char line[64];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    sr_problems p;
    sr_problems_init(&p);
    sr_study s;
    char err[512];
    ck_assert_int_eq(sr_study_load_sqlite(db, NULL, &s, &p, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "database is locked by another process"), "%s", err);
    pclose(f);
    ck_assert_msg(sr_study_load_sqlite(db, NULL, &s, &p, err, sizeof err) == 0, "%s", err);
    sr_study_free(&s);
    sr_problems_free(&p);

    free(hold);
    free(db);
    free(cmd);
    free(script);
    test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("optuna");
    TCase *tc = tcase_create("optuna");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_sqlite_full);
    tcase_add_test(tc, test_sqlite_studies);
    tcase_add_test(tc, test_sqlite_locked);
    tcase_add_test(tc, test_sqlite_wal_writer);
    tcase_add_test(tc, test_sqlite_bad_files);
    tcase_add_test(tc, test_sqlite_bad_numbers);
    tcase_add_test(tc, test_sqlite_other_schemas);
    tcase_add_test(tc, test_results_json);
    tcase_add_test(tc, test_join_params);
    tcase_add_test(tc, test_join_values);
    tcase_add_test(tc, test_join_counter_fallback);
    tcase_add_test(tc, test_join_resumed);
    tcase_add_test(tc, test_join_overridden_params);
    tcase_add_test(tc, test_join_empty);
    tcase_add_test(tc, test_committed_optuna_fixture);
    tcase_add_test(tc, test_real_optuna);
    suite_add_tcase(s, tc);
    return s;
}
