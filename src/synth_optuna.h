/* synth_optuna.h - writes an Optuna RDB storage (SQLite) for a synthetic sweep.
 *
 * The database has the schema Optuna 3.1 creates (schema_version 12, alembic
 * revision v3.0.0.d), table by table and index by index with the same DDL
 * text, so that optuna.load_study() of that release opens it as its own.
 * Later Optuna releases ask for "optuna storage upgrade" first, as they do
 * for any database an older release wrote.
 *
 * Stored the way Optuna stores them:
 *  - one study (study_id 1) with one objective (study_directions row 0);
 *  - trials in array order (trial_id = index + 1) with the given numbers,
 *    states and datetimes, stored as SQLAlchemy stores them: naive,
 *    "YYYY-MM-DD HH:MM:SS.ffffff" (given with "T" or a space, with or
 *    without the microseconds);
 *  - trial_values: the objective (value NULL with INF_POS / INF_NEG for an
 *    infinite one); none when the trial has no value;
 *  - trial_params: float and int parameters as REAL, a categorical one as the
 *    index of its value in "choices"; distribution_json as Python's
 *    json.dumps writes it;
 *  - trial_intermediate_values: step = index + 1 (NaN and infinities as
 *    NULL with NAN / INF_POS / INF_NEG);
 *  - trial_user_attributes: value_json as Python's json.dumps writes it.
 *
 * JSON numbers: a cJSON number with an integral value below 2^53 is written
 * as an integer (Python reads an int), any other as Python's repr() of the
 * float; a cJSON raw item (cJSON_CreateRaw, e.g. "16.0") is written as is and
 * read as a number.  Inside a FloatDistribution every number is a float and
 * inside an IntDistribution every number is an integer, whatever the item.
 *
 * The file is written next to its destination and renamed into place; its
 * bytes depend only on the arguments and the SQLite library. */
#ifndef SR_SYNTH_OPTUNA_H
#define SR_SYNTH_OPTUNA_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* The release whose schema is written. */
#define SR_OPTUNA_LIBRARY_VERSION "3.1.0"
#define SR_OPTUNA_SCHEMA_VERSION 12
#define SR_OPTUNA_ALEMBIC_VERSION "v3.0.0.d"

typedef struct {
    int number;                 /* Optuna's trial number (0-based) */
    const char *state;          /* "COMPLETE", "PRUNED", "FAIL" or "RUNNING" */
    int has_value;
    double value;               /* not NaN */
    const cJSON *params;        /* name -> value as params.json has it (numbers, strings) */
    const cJSON *distributions; /* name -> Optuna distribution object, one per parameter */
    const cJSON *user_attrs;    /* key -> any JSON value; may be NULL */
    const double *intermediate; /* value per epoch, step = index + 1 */
    int n_intermediate;
    const char *datetime_start;    /* "2025-11-15 08:00:00.000000" or "2025-11-15T08:00:00" */
    const char *datetime_complete; /* NULL for a running trial */
} sr_synth_optuna_trial;

/* Writes (or replaces) db_path.  direction: "minimize" or "maximize" (any
 * case).  The trials are checked as Optuna checks a trial it stores: a
 * finished one has datetime_complete, a running one has not, a complete one
 * has a value, every parameter has a distribution that contains its value.
 * Returns 0, or -1 with a one-line reason (naming the file or the trial) in
 * err. */
int sr_synth_write_optuna(const char *db_path, const char *study_name, const char *direction,
                          const sr_synth_optuna_trial *trials, size_t n, char *err, size_t errlen);

/* Distribution objects with the keys in the order Optuna 3.1 writes them.
 * The caller owns the result (cJSON_Delete, or add it to an object). */
/* {"name": "FloatDistribution", "attributes": {"step": null, "low": .., "high": .., "log": ..}} */
cJSON *sr_synth_optuna_float_dist(double low, double high, int log);
/* {"name": "IntDistribution", "attributes": {"log": false, "step": .., "low": .., "high": ..}} */
cJSON *sr_synth_optuna_int_dist(long long low, long long high, long long step);
/* {"name": "CategoricalDistribution", "attributes": {"choices": [...]}}; choices
 * (an array of strings, numbers, raw numbers, booleans or null) is copied. */
cJSON *sr_synth_optuna_categorical_dist(const cJSON *choices);
/* dists[name] = the categorical distribution of choices, which it takes over. */
void sr_synth_optuna_add_categorical(cJSON *dists, const char *name, cJSON *choices);

/* A raw cJSON item holding Python's repr() of v ("16.0", "1e-05"), for a
 * categorical choice or an attribute that Python must read as a float. */
cJSON *sr_synth_optuna_pyfloat(double v);
/* An array of such floats, e.g. the choices [0.5, 1.0]. */
cJSON *sr_synth_optuna_float_choices(const double *v, size_t n);

#endif
