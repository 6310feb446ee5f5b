/* optuna_join.h - which trial folder belongs to which Optuna trial.
 *
 * The folder counter (trial_0001, ...) is not Optuna's trial number and
 * restarts at 1 when a study is resumed, so folders are joined by comparing
 * their params.json with the trials' decoded parameters:
 *  - every key the two share must agree (numbers within a relative 1e-6, which
 *    covers float32 and str() rounding, integers below 2^24 exactly, an integer
 *    equal to the same float, strings and bools equal) and they must share at
 *    least one key;
 *  - when no trial agrees on every shared key, a trial whose continuous float
 *    parameters (a float distribution without step) all agree is still taken,
 *    with a problem naming the keys that differ: the sweep script overrides
 *    some suggested values (optimizer, accumulation steps) before writing
 *    params.json, and two trials never draw the same continuous floats;
 *  - the trial with the most agreeing keys wins; ties go to the trial whose
 *    number is the folder counter - 1.
 * Only a folder without params.json is joined by its counter alone. */
#ifndef SR_OPTUNA_JOIN_H
#define SR_OPTUNA_JOIN_H

#include "optuna.h"
#include "problems.h"

#include <cjson/cJSON.h>
#include <stddef.h>

typedef struct {
    const char *name;             /* folder name, e.g. trial_0007 */
    const cJSON *params;          /* its params.json, or NULL */
} sr_join_folder;

typedef struct {
    int *trial_of_folder;         /* index into study->trials or -1, one per folder */
    int *folder_of_trial;         /* index into the folders or -1, one per trial */
} sr_join;

/* Joins; each folder without a trial and each trial without a folder (but
 * WAITING ones, which have not started) is added to problems, under
 * sweep_path/folder and sweep_path. */
void sr_study_join(const sr_study *s, const sr_join_folder *folders, size_t n_folders, sr_join *out,
                   sr_problems *problems, const char *sweep_path);
void sr_join_free(sr_join *j);

/* 1 when a params.json value and a decoded trial value count as equal. */
int sr_join_values_agree(const cJSON *a, const cJSON *b);

#endif
