/* optuna.h - reading an Optuna study: its SQLite storage, or the
 * results/all_trials.json that the sweep script writes at the end.
 *
 * The storage is opened read-only and read inside one short read
 * transaction, so a running study (Optuna writing at the same time, WAL or
 * rollback journal) sees no more than a brief shared lock and the trials read
 * are consistent with each other.  Schemas of Optuna 3.x to 5.0 are read in
 * full; older or partial ones are read as far as they go, each missing table
 * or column becoming a problem. */
#ifndef SR_OPTUNA_H
#define SR_OPTUNA_H

#include "problems.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* How long a read waits for a writer's lock before giving up. */
#define SR_OPTUNA_BUSY_TIMEOUT_MS 2000

typedef struct {
    int64_t step;
    double value;                 /* NaN and +-inf as Optuna stored them */
} sr_intermediate;

typedef struct {
    int64_t trial_id;             /* the storage's id; -1 when read from JSON */
    int number;                   /* Optuna's 0-based trial number */
    /* "COMPLETE", "PRUNED", "FAIL", "RUNNING", "WAITING" (static strings);
     * anything else stored is "UNKNOWN", with a problem. */
    const char *state;
    int has_value;
    double value;                 /* first objective; INF_POS / INF_NEG are +-INFINITY */
    /* name -> decoded value, as Optuna's trial.params gives it: a categorical
     * is choices[index] (string, number, bool or null), an int distribution an
     * integral number, a float as stored.  A value that cannot be decoded is
     * kept raw (the stored number), with a problem. */
    cJSON *params;
    cJSON *distributions;         /* name -> the parsed distribution_json object */
    cJSON *user_attrs;            /* key -> parsed value_json (NaN/Infinity are numbers) */
    sr_intermediate *intermediate;
    size_t n_intermediate;        /* sorted by step */
    char *datetime_start;         /* as stored, e.g. "2025-11-15 10:45:12.123456"; NULL when absent */
    char *datetime_complete;
} sr_optuna_trial;

typedef struct {
    char *name;
    char *direction;              /* "MINIMIZE" or "MAXIMIZE" (first objective) */
    char *source;                 /* the database or JSON file read */
    sr_optuna_trial *trials;
    size_t n_trials;              /* sorted by number */
} sr_study;

/* Loads one study from an Optuna SQLite storage.  study_name NULL takes the
 * only study there is.  Returns 0 when a study was loaded (problems that did
 * not stop it are added under db_path), else -1 with a one-line reason in err
 * that does not repeat the path, and out left empty. */
int sr_study_load_sqlite(const char *db_path, const char *study_name, sr_study *out,
                         sr_problems *problems, char *err, size_t errlen);

/* Loads SWEEP/results/all_trials.json ([{"number", "state", "value", "params",
 * "user_attrs"}]); results/best_parameters.json, when present, gives the name
 * ("study_name"), the direction ("direction") and the best trial's score
 * ("trial_number", "combined_score") where all_trials.json has none.  Without
 * a stated direction it is "MINIMIZE".  Same return convention as above. */
int sr_study_load_results(const char *sweep_dir, sr_study *out, sr_problems *problems,
                          char *err, size_t errlen);

void sr_study_free(sr_study *s);

/* The trial with that number, or NULL. */
const sr_optuna_trial *sr_study_find_trial(const sr_study *s, int number);

#endif
