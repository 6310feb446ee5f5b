/* optuna.c - reading an Optuna study from its SQLite storage or from the
 * JSON dump of the sweep script. */
#include "config.h"

#include "optuna.h"
#include "json.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------- */
/* Shared pieces                                                             */
/* ------------------------------------------------------------------------- */

static const char *const STATES[] = {"COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING"};

/* The static name of a stored state, or NULL.  "TrialState.COMPLETE" (str()
 * of the enum) is accepted as well as the bare name. */
static const char *state_static(const char *s)
{
    if (!s)
        return NULL;
    if (sr_str_has_prefix(s, "TrialState."))
        s += strlen("TrialState.");
    for (size_t i = 0; i < sizeof STATES / sizeof STATES[0]; i++)
        if (strcmp(s, STATES[i]) == 0)
            return STATES[i];
    return NULL;
}

static void trial_init(sr_optuna_trial *t)
{
    memset(t, 0, sizeof *t);
    t->trial_id = -1;
    t->state = "UNKNOWN";
    t->value = NAN;
    t->params = cJSON_CreateObject();
    t->distributions = cJSON_CreateObject();
    t->user_attrs = cJSON_CreateObject();
}

static void trial_free(sr_optuna_trial *t)
{
    cJSON_Delete(t->params);
    cJSON_Delete(t->distributions);
    cJSON_Delete(t->user_attrs);
    free(t->intermediate);
    free(t->datetime_start);
    free(t->datetime_complete);
}

void sr_study_free(sr_study *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_trials; i++)
        trial_free(&s->trials[i]);
    free(s->trials);
    free(s->name);
    free(s->direction);
    free(s->source);
    memset(s, 0, sizeof *s);
}

const sr_optuna_trial *sr_study_find_trial(const sr_study *s, int number)
{
    size_t lo = 0, hi = s->n_trials;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->trials[mid].number < number)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n_trials && s->trials[lo].number == number ? &s->trials[lo] : NULL;
}

static void push_intermediate(sr_optuna_trial *t, size_t *cap, int64_t step, double v)
{
    if (t->n_intermediate == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        t->intermediate = xrealloc(t->intermediate, *cap * sizeof *t->intermediate);
    }
    t->intermediate[t->n_intermediate].step = step;
    t->intermediate[t->n_intermediate].value = v;
    t->n_intermediate++;
}

static int cmp_intermediate(const void *a, const void *b)
{
    const sr_intermediate *x = a, *y = b;
    return (x->step > y->step) - (x->step < y->step);
}

static char *upper_dup(const char *s)
{
    char *u = xstrdup(s);
    for (char *p = u; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return u;
}

/* Drops the problems added by a load that failed in the end: the reason
 * for the failure says what matters. */
static void problems_truncate(sr_problems *p, size_t n)
{
    while (p->n > n) {
        p->n--;
        free(p->items[p->n].path);
        free(p->items[p->n].problem);
    }
}

/* ------------------------------------------------------------------------- */
/* SQLite storage                                                            */
/* ------------------------------------------------------------------------- */

/* A row copied out of the read transaction, decoded after it ends. */
typedef struct {
    size_t trial;                 /* index into the trials */
    char *name;
    char *text;                   /* distribution_json / value_json, or NULL */
    size_t textlen;
    double v;
    int v_null;
} raw_row;

typedef struct {
    raw_row *r;
    size_t n, cap;
} raw_rows;

static void raw_push(raw_rows *rows, size_t trial, const char *name, const unsigned char *text,
                     int textlen, double v, int v_null)
{
    if (rows->n == rows->cap) {
        rows->cap = rows->cap ? rows->cap * 2 : 64;
        rows->r = xrealloc(rows->r, rows->cap * sizeof *rows->r);
    }
    raw_row *r = &rows->r[rows->n++];
    r->trial = trial;
    r->name = xstrdup(name ? name : "");
    r->text = text ? xstrndup((const char *)text, (size_t)textlen) : NULL;
    r->textlen = text ? (size_t)textlen : 0;
    r->v = v;
    r->v_null = v_null;
}

static void raw_free(raw_rows *rows)
{
    for (size_t i = 0; i < rows->n; i++) {
        free(rows->r[i].name);
        free(rows->r[i].text);
    }
    free(rows->r);
    memset(rows, 0, sizeof *rows);
}

typedef struct {
    int64_t trial_id;
    size_t index;
} id_index;

static int cmp_id_index(const void *a, const void *b)
{
    const id_index *x = a, *y = b;
    return (x->trial_id > y->trial_id) - (x->trial_id < y->trial_id);
}

typedef struct {
    sqlite3 *db;
    const char *path;
    sr_problems *problems;
    char *err;
    size_t errlen;
    int failed;                   /* err holds the reason */
    sr_study *study;
    id_index *ids;                /* trial_id -> index, sorted by id */
    size_t *icap;                 /* capacity of each trial's intermediate array */
} loader;

/* Turns an SQLite failure into a reason a user can act on. */
static void sql_fail(loader *L, int rc)
{
    if (L->failed)
        return;
    L->failed = 1;
    const char *msg = L->db ? sqlite3_errmsg(L->db) : sqlite3_errstr(rc);
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        snprintf(L->err, L->errlen, "database is locked by another process (waited %d ms)",
                 SR_OPTUNA_BUSY_TIMEOUT_MS);
        break;
    case SQLITE_NOTADB:
        snprintf(L->err, L->errlen, "not an SQLite database");
        break;
    case SQLITE_CORRUPT:
        snprintf(L->err, L->errlen, "damaged SQLite database (%s)", msg);
        break;
    case SQLITE_READONLY:
        if (rc == SQLITE_READONLY_ROLLBACK)
            snprintf(L->err, L->errlen,
                     "a write was interrupted and its hot journal must be rolled back by a writer "
                     "(open the study once with Optuna) before it can be read");
        else if (rc == SQLITE_READONLY_RECOVERY)
            snprintf(L->err, L->errlen,
                     "the WAL needs recovery by a writer (open the study once with Optuna) before it can be read");
        else
            snprintf(L->err, L->errlen, "cannot be read without write access (%s)", msg);
        break;
    case SQLITE_CANTOPEN:
        snprintf(L->err, L->errlen, "cannot open the database (%s)", msg);
        break;
    case SQLITE_IOERR:
        snprintf(L->err, L->errlen, "read error (%s)", msg);
        break;
    default:
        snprintf(L->err, L->errlen, "SQLite error: %s", msg);
        break;
    }
}

static sqlite3_stmt *prep(loader *L, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (L->failed)
        return NULL;
    int rc = sqlite3_prepare_v2(L->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        sql_fail(L, rc);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

/* SQLITE_ROW, SQLITE_DONE, or 0 after recording a failure. */
static int step(loader *L, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return rc;
    sql_fail(L, rc);
    return 0;
}

static int exec(loader *L, const char *sql)
{
    sqlite3_stmt *st = prep(L, sql);
    if (!st)
        return -1;
    int rc;
    while ((rc = step(L, st)) == SQLITE_ROW)
        ;
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* 1 when the table (or view) exists, 0 when not, -1 on failure. */
static int has_table(loader *L, const char *table)
{
    sqlite3_stmt *st = prep(L, "SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    int rc = step(L, st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int has_column(loader *L, const char *table, const char *col)
{
    sqlite3_stmt *st = prep(L, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, col, -1, SQLITE_STATIC);
    int rc = step(L, st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Checks the columns a query needs.  Returns 1 when all are there, 0 when
 * one is missing (named in *missing), -1 on failure. */
static int has_columns(loader *L, const char *table, const char *const *cols, const char **missing)
{
    for (size_t i = 0; cols[i]; i++) {
        int h = has_column(L, table, cols[i]);
        if (h <= 0) {
            *missing = cols[i];
            return h;
        }
    }
    return 1;
}

static size_t find_trial(const loader *L, int64_t trial_id, int *found)
{
    id_index key = {trial_id, 0};
    if (L->study->n_trials == 0) {
        *found = 0;
        return 0;
    }
    const id_index *hit = bsearch(&key, L->ids, L->study->n_trials, sizeof *L->ids, cmp_id_index);
    *found = hit != NULL;
    return hit ? hit->index : 0;
}

static char *column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? xstrndup((const char *)t, (size_t)sqlite3_column_bytes(st, col)) : NULL;
}

/* Lists the studies and picks one; returns its id, or -1 (err set). */
static int64_t choose_study(loader *L, const char *study_name)
{
    sqlite3_stmt *st = prep(L, "SELECT study_id, study_name FROM studies ORDER BY study_id");
    if (!st)
        return -1;
    int64_t chosen = -1;
    size_t n = 0;
    sr_buf names;
    sr_buf_init(&names);
    char *only_name = NULL;
    int rc;
    while ((rc = step(L, st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        if (!name)
            name = "";
        int64_t id = sqlite3_column_int64(st, 0);
        if (n < 12)
            sr_buf_printf(&names, "%s%s", n ? ", " : "", name);
        else if (n == 12)
            sr_buf_puts(&names, ", ...");
        if (study_name && strcmp(study_name, name) == 0) {
            chosen = id;
            free(only_name);
            only_name = xstrdup(name);
        }
        if (!study_name && n == 0) {
            chosen = id;
            only_name = xstrdup(name);
        }
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        chosen = -1;
    } else if (n == 0) {
        snprintf(L->err, L->errlen, "no study in this Optuna storage");
        L->failed = 1;
        chosen = -1;
    } else if (!study_name && n > 1) {
        snprintf(L->err, L->errlen, "%zu studies in this file: %s; choose one with --study-name", n,
                 names.s);
        L->failed = 1;
        chosen = -1;
    } else if (study_name && chosen < 0) {
        snprintf(L->err, L->errlen, "no study named \"%s\" in this file (%s: %s)", study_name,
                 n == 1 ? "the only one is" : "there are", names.s);
        L->failed = 1;
    }
    if (chosen >= 0) {
        L->study->name = only_name;
        only_name = NULL;
    }
    free(only_name);
    sr_buf_free(&names);
    return chosen;
}

static int read_direction(loader *L, int64_t study_id)
{
    int t = has_table(L, "study_directions");
    if (t < 0)
        return -1;
    const char *sql = NULL;
    if (t) {
        const char *cols[] = {"study_id", "direction", "objective", NULL}, *missing = NULL;
        int h = has_columns(L, "study_directions", cols, &missing);
        if (h < 0)
            return -1;
        if (h)
            sql = "SELECT direction, (SELECT count(*) FROM study_directions WHERE study_id = ?1) "
                  "FROM study_directions WHERE study_id = ?1 ORDER BY objective LIMIT 1";
        else
            sr_problems_add(L->problems, L->path, "table study_directions has no column %s", missing);
    } else {
        /* Before Optuna 2.4 the direction was a column of studies. */
        int h = has_column(L, "studies", "direction");
        if (h < 0)
            return -1;
        if (h)
            sql = "SELECT direction, 1 FROM studies WHERE study_id = ?1";
        else
            sr_problems_add(L->problems, L->path, "no table study_directions");
    }
    if (sql) {
        sqlite3_stmt *st = prep(L, sql);
        if (!st)
            return -1;
        sqlite3_bind_int64(st, 1, study_id);
        int rc = step(L, st);
        if (rc == SQLITE_ROW) {
            const char *d = (const char *)sqlite3_column_text(st, 0);
            int n_obj = sqlite3_column_int(st, 1);
            if (d) {
                L->study->direction = upper_dup(sr_str_has_prefix(d, "StudyDirection.") ? d + 15 : d);
                if (strcmp(L->study->direction, "MINIMIZE") != 0 && strcmp(L->study->direction, "MAXIMIZE") != 0)
                    sr_problems_add(L->problems, L->path, "study %s: direction %s is neither MINIMIZE nor MAXIMIZE",
                                    L->study->name, d);
            }
            if (n_obj > 1)
                sr_problems_add(L->problems, L->path, "study %s has %d objectives; only the first is read",
                                L->study->name, n_obj);
        }
        sqlite3_finalize(st);
        if (!rc)
            return -1;
        if (rc == SQLITE_DONE)
            sr_problems_add(L->problems, L->path, "study %s has no direction; MINIMIZE assumed", L->study->name);
    }
    if (!L->study->direction)
        L->study->direction = xstrdup("MINIMIZE");
    return 0;
}


static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Names each trial number that more than one trial has (the join to the
 * trial folders goes by number). */
static void report_duplicates(const sr_study *s, const char *path, sr_problems *problems)
{
    int *v = xmalloc((s->n_trials ? s->n_trials : 1) * sizeof *v);
    for (size_t i = 0; i < s->n_trials; i++)
        v[i] = s->trials[i].number;
    qsort(v, s->n_trials, sizeof *v, cmp_int);
    for (size_t i = 1; i < s->n_trials; i++)
        if (v[i] >= 0 && v[i] == v[i - 1] && (i < 2 || v[i - 2] != v[i]))
            sr_problems_add(problems, path, "trial number %d appears more than once", v[i]);
    free(v);
}

static int read_trials(loader *L, int64_t study_id)
{
    const char *need[] = {"trial_id", "number", "study_id", "state", NULL}, *missing = NULL;
    int h = has_columns(L, "trials", need, &missing);
    if (h < 0)
        return -1;
    if (!h) {
        snprintf(L->err, L->errlen, "not an Optuna storage: table trials has no column %s", missing);
        L->failed = 1;
        return -1;
    }
    int has_start = has_column(L, "trials", "datetime_start");
    int has_complete = has_column(L, "trials", "datetime_complete");
    /* Before Optuna 2.4 the objective value was a column of trials. */
    int has_value = has_column(L, "trials", "value");
    if (has_start < 0 || has_complete < 0 || has_value < 0)
        return -1;
    if (!has_start)
        sr_problems_add(L->problems, L->path, "table trials has no column datetime_start");
    if (!has_complete)
        sr_problems_add(L->problems, L->path, "table trials has no column datetime_complete");
    char *sql = xasprintf("SELECT trial_id, number, state, %s, %s, %s FROM trials WHERE study_id = ?1 "
                          "ORDER BY number, trial_id",
                          has_start ? "datetime_start" : "NULL", has_complete ? "datetime_complete" : "NULL",
                          has_value ? "value" : "NULL");
    sqlite3_stmt *st = prep(L, sql);
    free(sql);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, study_id);
    sr_study *s = L->study;
    size_t cap = 0;
    int rc;
    while ((rc = step(L, st)) == SQLITE_ROW) {
        if (s->n_trials == cap) {
            cap = cap ? cap * 2 : 64;
            s->trials = xrealloc(s->trials, cap * sizeof *s->trials);
        }
        sr_optuna_trial *t = &s->trials[s->n_trials++];
        trial_init(t);
        t->trial_id = sqlite3_column_int64(st, 0);
        if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
            t->number = -1;
            sr_problems_add(L->problems, L->path, "trial id %lld has no number", (long long)t->trial_id);
        } else {
            sqlite3_int64 number = sqlite3_column_int64(st, 1);
            if (number < 0 || number > INT_MAX) {
                t->number = -1;
                sr_problems_add(L->problems, L->path, "trial id %lld: number %lld is out of range",
                                (long long)t->trial_id, (long long)number);
            } else {
                t->number = (int)number;
            }
        }
        const char *state = (const char *)sqlite3_column_text(st, 2);
        const char *known = state_static(state);
        if (known)
            t->state = known;
        else
            sr_problems_add(L->problems, L->path, "trial %d: unknown state %s", t->number, state ? state : "(null)");
        t->datetime_start = column_dup(st, 3);
        t->datetime_complete = column_dup(st, 4);
        if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
            t->has_value = 1;
            t->value = sqlite3_column_double(st, 5);
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    report_duplicates(s, L->path, L->problems);
    L->ids = xmalloc((s->n_trials ? s->n_trials : 1) * sizeof *L->ids);
    L->icap = xcalloc(s->n_trials ? s->n_trials : 1, sizeof *L->icap);
    for (size_t i = 0; i < s->n_trials; i++) {
        L->ids[i].trial_id = s->trials[i].trial_id;
        L->ids[i].index = i;
    }
    if (s->n_trials > 1)
        qsort(L->ids, s->n_trials, sizeof *L->ids, cmp_id_index);
    return 0;
}

/* Objective values (Optuna >= 2.4: trial_values with an objective column). */
static int read_values(loader *L, int64_t study_id, int tv_modern)
{
    if (!tv_modern)
        return 0;
    int has_type = has_column(L, "trial_values", "value_type");
    int has_value = has_column(L, "trial_values", "value");
    if (has_type < 0 || has_value < 0)
        return -1;
    if (!has_value) {
        sr_problems_add(L->problems, L->path, "table trial_values has no column value; no trial values read");
        return 0;
    }
    char *sql = xasprintf("SELECT v.trial_id, v.value, %s FROM trial_values v JOIN trials t ON t.trial_id = v.trial_id "
                          "WHERE t.study_id = ?1 ORDER BY v.trial_id, v.objective",
                          has_type ? "v.value_type" : "NULL");
    sqlite3_stmt *st = prep(L, sql);
    free(sql);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, study_id);
    int rc;
    int64_t last = 0;
    int have_last = 0;
    while ((rc = step(L, st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0);
        if (have_last && id == last)
            continue; /* a later objective */
        have_last = 1;
        last = id;
        int found;
        size_t i = find_trial(L, id, &found);
        if (!found)
            continue;
        sr_optuna_trial *t = &L->study->trials[i];
        const char *type = (const char *)sqlite3_column_text(st, 2);
        int null = sqlite3_column_type(st, 1) == SQLITE_NULL;
        if (type && strcmp(type, "INF_POS") == 0) {
            t->has_value = 1;
            t->value = INFINITY;
        } else if (type && strcmp(type, "INF_NEG") == 0) {
            t->has_value = 1;
            t->value = -INFINITY;
        } else if (!null) {
            if (type && strcmp(type, "FINITE") != 0)
                sr_problems_add(L->problems, L->path, "trial %d: unknown value_type %s", t->number, type);
            t->has_value = 1;
            t->value = sqlite3_column_double(st, 1);
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Intermediate values: trial_intermediate_values (Optuna >= 2.4), or the
 * trial_values table of older schemas, which held (step, value). */
static int read_intermediate(loader *L, int64_t study_id, int tv_modern, int tv_exists)
{
    int t = has_table(L, "trial_intermediate_values");
    if (t < 0)
        return -1;
    char *sql = NULL;
    if (t) {
        const char *need[] = {"trial_id", "step", "intermediate_value", NULL}, *missing = NULL;
        int h = has_columns(L, "trial_intermediate_values", need, &missing);
        int has_type = has_column(L, "trial_intermediate_values", "intermediate_value_type");
        if (h < 0 || has_type < 0)
            return -1;
        if (!h) {
            sr_problems_add(L->problems, L->path,
                            "table trial_intermediate_values has no column %s; intermediate values not read", missing);
            return 0;
        }
        sql = xasprintf("SELECT i.trial_id, i.step, i.intermediate_value, %s FROM trial_intermediate_values i "
                        "JOIN trials t ON t.trial_id = i.trial_id WHERE t.study_id = ?1 ORDER BY i.trial_id, i.step",
                        has_type ? "i.intermediate_value_type" : "NULL");
    } else if (tv_exists && !tv_modern) {
        const char *need[] = {"trial_id", "step", "value", NULL}, *missing = NULL;
        int h = has_columns(L, "trial_values", need, &missing);
        if (h < 0)
            return -1;
        if (!h) {
            sr_problems_add(L->problems, L->path, "table trial_values has no column %s; intermediate values not read",
                            missing);
            return 0;
        }
        sql = xasprintf("SELECT i.trial_id, i.step, i.value, NULL FROM trial_values i "
                        "JOIN trials t ON t.trial_id = i.trial_id WHERE t.study_id = ?1 ORDER BY i.trial_id, i.step");
    } else {
        sr_problems_add(L->problems, L->path, "no table trial_intermediate_values; intermediate values not read");
        return 0;
    }
    sqlite3_stmt *st = prep(L, sql);
    free(sql);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, study_id);
    int rc;
    while ((rc = step(L, st)) == SQLITE_ROW) {
        int found;
        size_t i = find_trial(L, sqlite3_column_int64(st, 0), &found);
        if (!found)
            continue;
        const char *type = (const char *)sqlite3_column_text(st, 3);
        double v;
        if (type && strcmp(type, "INF_POS") == 0)
            v = INFINITY;
        else if (type && strcmp(type, "INF_NEG") == 0)
            v = -INFINITY;
        else if (sqlite3_column_type(st, 2) == SQLITE_NULL)
            v = NAN; /* "NAN", or a NULL value of older schemas */
        else
            v = sqlite3_column_double(st, 2);
        push_intermediate(&L->study->trials[i], &L->icap[i], sqlite3_column_int64(st, 1), v);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Rows of trial_params or trial_user_attributes, copied for decoding after
 * the transaction.  value_col NULL: no numeric column. */
static int read_raw(loader *L, int64_t study_id, const char *table, const char *name_col, const char *value_col,
                    const char *text_col, const char *what, raw_rows *out)
{
    int t = has_table(L, table);
    if (t < 0)
        return -1;
    if (!t) {
        sr_problems_add(L->problems, L->path, "no table %s; %s not read", table, what);
        return 0;
    }
    const char *need[] = {"trial_id", name_col, value_col ? value_col : text_col, text_col, NULL};
    const char *missing = NULL;
    int h = has_columns(L, table, need, &missing);
    if (h < 0)
        return -1;
    if (!h) {
        sr_problems_add(L->problems, L->path, "table %s has no column %s; %s not read", table, missing, what);
        return 0;
    }
    char *sql = xasprintf("SELECT x.trial_id, x.\"%s\", %s%s%s, x.\"%s\" FROM %s x JOIN trials t ON t.trial_id = x.trial_id "
                          "WHERE t.study_id = ?1 ORDER BY x.trial_id, x.rowid",
                          name_col, value_col ? "x.\"" : "", value_col ? value_col : "NULL", value_col ? "\"" : "",
                          text_col, table);
    sqlite3_stmt *st = prep(L, sql);
    free(sql);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, study_id);
    int rc;
    while ((rc = step(L, st)) == SQLITE_ROW) {
        int found;
        size_t i = find_trial(L, sqlite3_column_int64(st, 0), &found);
        if (!found)
            continue;
        int null = sqlite3_column_type(st, 2) == SQLITE_NULL;
        const unsigned char *text = sqlite3_column_text(st, 3);
        int textlen = sqlite3_column_bytes(st, 3);
        raw_push(out, i, (const char *)sqlite3_column_text(st, 1), text, textlen,
                 null ? NAN : sqlite3_column_double(st, 2), null);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int is_int_distribution(const char *name)
{
    return strcmp(name, "IntDistribution") == 0 || strcmp(name, "IntUniformDistribution") == 0 ||
           strcmp(name, "IntLogUniformDistribution") == 0;
}

static int is_float_distribution(const char *name)
{
    return strcmp(name, "FloatDistribution") == 0 || strcmp(name, "UniformDistribution") == 0 ||
           strcmp(name, "LogUniformDistribution") == 0 || strcmp(name, "DiscreteUniformDistribution") == 0;
}

static void decode_param(const loader *L, sr_optuna_trial *t, const raw_row *r)
{
    char jerr[160];
    cJSON *dist = NULL;
    const char *dname = NULL;
    if (!r->text) {
        sr_problems_add(L->problems, L->path, "trial %d: parameter %s has no distribution; raw value kept",
                        t->number, r->name);
    } else if (!(dist = sr_json_parse(r->text, r->textlen, jerr, sizeof jerr))) {
        sr_problems_add(L->problems, L->path, "trial %d: parameter %s: broken distribution_json (%s); raw value kept",
                        t->number, r->name, jerr);
    } else if (!cJSON_IsObject(dist) || !(dname = sr_json_string(dist, "name"))) {
        sr_problems_add(L->problems, L->path, "trial %d: parameter %s: distribution_json has no name; raw value kept",
                        t->number, r->name);
    }
    cJSON *value = NULL;
    if (r->v_null) {
        sr_problems_add(L->problems, L->path, "trial %d: parameter %s has no value", t->number, r->name);
        value = cJSON_CreateNull();
    } else if (dname && strcmp(dname, "CategoricalDistribution") == 0) {
        const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(dist, "attributes");
        const cJSON *choices = cJSON_GetObjectItemCaseSensitive(attrs, "choices");
        int n = cJSON_IsArray(choices) ? cJSON_GetArraySize(choices) : -1;
        if (n < 0) {
            sr_problems_add(L->problems, L->path, "trial %d: parameter %s: categorical distribution without choices; "
                            "raw index %.17g kept", t->number, r->name, r->v);
        } else if (!(r->v >= 0 && r->v < n && r->v == floor(r->v))) {
            sr_problems_add(L->problems, L->path, "trial %d: parameter %s: categorical index %.17g out of range "
                            "(%d choices); raw index kept", t->number, r->name, r->v, n);
        } else {
            value = cJSON_Duplicate(cJSON_GetArrayItem(choices, (int)r->v), 1);
        }
    } else if (dname && is_int_distribution(dname)) {
        if (fabs(r->v) < 9007199254740992.0)
            value = cJSON_CreateNumber(nearbyint(r->v));
    } else if (dname && !is_float_distribution(dname)) {
        sr_problems_add(L->problems, L->path, "trial %d: parameter %s: unknown distribution %s; raw value kept",
                        t->number, r->name, dname);
    }
    if (!value)
        value = cJSON_CreateNumber(r->v);
    cJSON_DeleteItemFromObjectCaseSensitive(t->params, r->name);
    cJSON_AddItemToObject(t->params, r->name, value);
    if (dist) {
        cJSON_DeleteItemFromObjectCaseSensitive(t->distributions, r->name);
        cJSON_AddItemToObject(t->distributions, r->name, dist);
    }
}

static void decode_attr(const loader *L, sr_optuna_trial *t, const raw_row *r)
{
    char jerr[160];
    cJSON *value;
    if (!r->text) {
        value = cJSON_CreateNull();
    } else if (!(value = sr_json_parse(r->text, r->textlen, jerr, sizeof jerr))) {
        sr_problems_add(L->problems, L->path, "trial %d: user attribute %s: %s; kept as text", t->number, r->name,
                        jerr);
        value = cJSON_CreateString(r->text);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(t->user_attrs, r->name);
    cJSON_AddItemToObject(t->user_attrs, r->name, value);
}

/* Everything that touches the database, inside one read transaction. */
static int read_study(loader *L, const char *study_name, raw_rows *params, raw_rows *attrs)
{
    /* The first statement reads the header: not a database, locked, damaged. */
    if (exec(L, "SELECT count(*) FROM sqlite_master") != 0)
        return -1;
    int t = has_table(L, "studies");
    if (t <= 0) {
        if (t == 0) {
            snprintf(L->err, L->errlen, "not an Optuna storage: no table studies");
            L->failed = 1;
        }
        return -1;
    }
    const char *scols[] = {"study_id", "study_name", NULL}, *missing = NULL;
    int h = has_columns(L, "studies", scols, &missing);
    if (h <= 0) {
        if (h == 0) {
            snprintf(L->err, L->errlen, "not an Optuna storage: table studies has no column %s", missing);
            L->failed = 1;
        }
        return -1;
    }
    if ((t = has_table(L, "trials")) <= 0) {
        if (t == 0) {
            snprintf(L->err, L->errlen, "not an Optuna storage: no table trials");
            L->failed = 1;
        }
        return -1;
    }
    int64_t study_id = choose_study(L, study_name);
    if (study_id < 0)
        return -1;
    if (read_direction(L, study_id) != 0 || read_trials(L, study_id) != 0)
        return -1;
    int tv_exists = has_table(L, "trial_values");
    int tv_modern = tv_exists > 0 ? has_column(L, "trial_values", "objective") : 0;
    if (tv_exists < 0 || tv_modern < 0)
        return -1;
    if (!tv_exists)
        sr_problems_add(L->problems, L->path, "no table trial_values; objective values not read");
    if (read_values(L, study_id, tv_modern) != 0 || read_intermediate(L, study_id, tv_modern, tv_exists) != 0)
        return -1;
    if (read_raw(L, study_id, "trial_params", "param_name", "param_value", "distribution_json", "parameters",
                 params) != 0)
        return -1;
    if (read_raw(L, study_id, "trial_user_attributes", "key", NULL, "value_json", "user attributes", attrs) != 0)
        return -1;
    return 0;
}

int sr_study_load_sqlite(const char *db_path, const char *study_name, sr_study *out, sr_problems *problems,
                         char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (errlen)
        err[0] = '\0';
    struct stat sb;
    if (stat(db_path, &sb) != 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    if (S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "is a directory, not an SQLite database");
        return -1;
    }
    if (sb.st_size == 0) {
        /* SQLite would take it for a new, empty database. */
        snprintf(err, errlen, "empty file, not an SQLite database");
        return -1;
    }

    size_t n_problems = problems->n;
    loader L = {0};
    L.path = db_path;
    L.problems = problems;
    L.err = err;
    L.errlen = errlen;
    L.study = out;
    raw_rows params = {0}, attrs = {0};

    /* A name that looks like a URI is read as a plain file name. */
    char *open_path = sr_str_has_prefix(db_path, "file:") ? xasprintf("./%s", db_path) : xstrdup(db_path);
    int rc = sqlite3_open_v2(open_path, &L.db, SQLITE_OPEN_READONLY, NULL);
    free(open_path);
    if (rc != SQLITE_OK) {
        sql_fail(&L, rc);
        sqlite3_close(L.db);
        return -1;
    }
    sqlite3_extended_result_codes(L.db, 1);
    sqlite3_busy_timeout(L.db, SR_OPTUNA_BUSY_TIMEOUT_MS);

    int ok = exec(&L, "BEGIN") == 0 && read_study(&L, study_name, &params, &attrs) == 0;
    if (ok) {
        ok = exec(&L, "COMMIT") == 0;
    }
    if (!ok && !sqlite3_get_autocommit(L.db))
        sqlite3_exec(L.db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(L.db);
    L.db = NULL;

    if (ok) {
        for (size_t i = 0; i < params.n; i++)
            decode_param(&L, &out->trials[params.r[i].trial], &params.r[i]);
        for (size_t i = 0; i < attrs.n; i++)
            decode_attr(&L, &out->trials[attrs.r[i].trial], &attrs.r[i]);
        for (size_t i = 0; i < out->n_trials; i++) {
            sr_optuna_trial *t = &out->trials[i];
            if (t->n_intermediate > 1)
                qsort(t->intermediate, t->n_intermediate, sizeof *t->intermediate, cmp_intermediate);
        }
        out->source = xstrdup(db_path);
    } else {
        if (!L.failed)
            snprintf(err, errlen, "cannot read the study");
        sr_study_free(out);
        problems_truncate(problems, n_problems);
    }
    raw_free(&params);
    raw_free(&attrs);
    free(L.ids);
    free(L.icap);
    return ok ? 0 : -1;
}

/* ------------------------------------------------------------------------- */
/* results/all_trials.json                                                   */
/* ------------------------------------------------------------------------- */

static int cmp_trial_number(const void *a, const void *b)
{
    const sr_optuna_trial *x = a, *y = b;
    return (x->number > y->number) - (x->number < y->number);
}

static void copy_object(cJSON **dst, const cJSON *src, sr_problems *problems, const char *path, int number,
                        const char *key)
{
    if (!src || cJSON_IsNull(src))
        return;
    if (!cJSON_IsObject(src)) {
        sr_problems_add(problems, path, "trial %d: %s is not an object", number, key);
        return;
    }
    cJSON_Delete(*dst);
    *dst = cJSON_Duplicate(src, 1);
}

int sr_study_load_results(const char *sweep_dir, sr_study *out, sr_problems *problems, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (errlen)
        err[0] = '\0';
    char *path = sr_path_join(sweep_dir, "results/all_trials.json");
    char jerr[256];
    cJSON *root = sr_json_load(path, jerr, sizeof jerr);
    if (!root) {
        snprintf(err, errlen, "results/all_trials.json: %s", jerr);
        free(path);
        return -1;
    }
    if (!cJSON_IsArray(root)) {
        snprintf(err, errlen, "results/all_trials.json is not a JSON array of trials");
        cJSON_Delete(root);
        free(path);
        return -1;
    }
    size_t n = (size_t)cJSON_GetArraySize(root);
    out->trials = xcalloc(n ? n : 1, sizeof *out->trials);
    size_t idx = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        idx++;
        const cJSON *num = cJSON_GetObjectItemCaseSensitive(item, "number");
        if (!cJSON_IsObject(item) || !cJSON_IsNumber(num) || num->valuedouble != floor(num->valuedouble) ||
            fabs(num->valuedouble) > 2147483647.0) {
            sr_problems_add(problems, path, "entry %zu has no trial number; skipped", idx);
            continue;
        }
        sr_optuna_trial *t = &out->trials[out->n_trials++];
        trial_init(t);
        t->number = (int)num->valuedouble;
        const char *state = sr_json_string(item, "state");
        const char *known = state_static(state);
        if (known)
            t->state = known;
        else
            sr_problems_add(problems, path, "trial %d: unknown state %s", t->number, state ? state : "(none)");
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(item, "value");
        if (cJSON_IsNumber(value)) {
            t->has_value = 1;
            t->value = value->valuedouble;
        } else if (cJSON_IsArray(value) && cJSON_IsNumber(cJSON_GetArrayItem(value, 0))) {
            t->has_value = 1; /* "values" of a multi-objective study */
            t->value = cJSON_GetArrayItem(value, 0)->valuedouble;
        }
        copy_object(&t->params, cJSON_GetObjectItemCaseSensitive(item, "params"), problems, path, t->number,
                    "params");
        copy_object(&t->user_attrs, cJSON_GetObjectItemCaseSensitive(item, "user_attrs"), problems, path,
                    t->number, "user_attrs");
        const char *ds = sr_json_string(item, "datetime_start");
        const char *dc = sr_json_string(item, "datetime_complete");
        t->datetime_start = ds ? xstrdup(ds) : NULL;
        t->datetime_complete = dc ? xstrdup(dc) : NULL;
        const cJSON *iv = cJSON_GetObjectItemCaseSensitive(item, "intermediate_values");
        if (cJSON_IsObject(iv)) {
            size_t cap = 0;
            const cJSON *e;
            cJSON_ArrayForEach(e, iv)
            {
                char *end = NULL;
                long long stepn = strtoll(e->string, &end, 10);
                if (end != e->string && *end == '\0' && cJSON_IsNumber(e))
                    push_intermediate(t, &cap, stepn, e->valuedouble);
            }
            if (t->n_intermediate > 1)
                qsort(t->intermediate, t->n_intermediate, sizeof *t->intermediate, cmp_intermediate);
        }
    }
    cJSON_Delete(root);
    if (out->n_trials > 1)
        qsort(out->trials, out->n_trials, sizeof *out->trials, cmp_trial_number);
    report_duplicates(out, path, problems);

    char *best_path = sr_path_join(sweep_dir, "results/best_parameters.json");
    struct stat sb;
    if (stat(best_path, &sb) == 0) {
        cJSON *best = sr_json_load(best_path, jerr, sizeof jerr);
        if (!best) {
            sr_problems_add(problems, best_path, "%s", jerr);
        } else if (cJSON_IsObject(best)) {
            const char *name = sr_json_string(best, "study_name");
            const char *dir = sr_json_string(best, "direction");
            if (name && *name)
                out->name = xstrdup(name);
            if (dir && *dir)
                out->direction = upper_dup(dir);
            const cJSON *tn = cJSON_GetObjectItemCaseSensitive(best, "trial_number");
            const cJSON *score = cJSON_GetObjectItemCaseSensitive(best, "combined_score");
            if (cJSON_IsNumber(tn) && cJSON_IsNumber(score) && fabs(tn->valuedouble) <= 2147483647.0) {
                sr_optuna_trial *t = (sr_optuna_trial *)sr_study_find_trial(out, (int)tn->valuedouble);
                if (!t)
                    sr_problems_add(problems, best_path, "best trial %d is not in all_trials.json",
                                    (int)tn->valuedouble);
                else if (!t->has_value) {
                    t->has_value = 1;
                    t->value = score->valuedouble;
                }
            }
        }
        cJSON_Delete(best);
    }
    free(best_path);
    if (!out->name)
        out->name = xstrdup("results/all_trials.json");
    if (!out->direction)
        out->direction = xstrdup("MINIMIZE");
    out->source = path;
    return 0;
}
